/*
 * Hive files out of the offline volume: hivex needs a real file, and dirty-hive
 * replay needs the .LOG/.LOG1/.LOG2 beside it, so a hive and its logs are
 * copied (through ntfs/, read-only) into a private folder that is removed
 * afterwards.  The volume is never written.
 */
#ifndef WINSTATE_AGENT_HIVEFILES_H
#define WINSTATE_AGENT_HIVEFILES_H

#include "ntfs/ntfs.h"

struct win_hive_dir {
	char *path;     /* the private folder (mode 0700) */
};

/* Make a private folder under $TMPDIR; 0 or -1 with a message on stderr. */
int win_hive_dir_open(struct win_hive_dir *dir);
/* Remove the folder and everything in it. */
void win_hive_dir_close(struct win_hive_dir *dir);

/*
 * Copy @volume_path (e.g. "Windows/System32/config/SOFTWARE") and any
 * transaction logs beside it (matched case-insensitively: .LOG, .LOG1,
 * .LOG2) into @dir as @local_name (+ the same suffixes).  *@copied is the
 * local path (malloc'd).  Returns NV_OK, or a status with win_hive_copy_error()
 * saying why.
 */
enum nv_status win_hive_copy_out(struct nv_volume *vol, const char *volume_path,
			     const struct win_hive_dir *dir, const char *local_name, char **copied);
const char *win_hive_copy_error(void);

#endif
