/*
 * The offline Windows on a volume, understood from its files and hives alone:
 * which installations there are (and the one in Windows.old), what they are,
 * and who has a profile — with where each fact came from.  Nothing is
 * dropped: a profile folder without a ProfileList entry, an entry without a
 * folder, a hive that cannot be read are all reported.
 *
 * Hives are copied out of the volume (read-only) with their logs into a
 * private folder, and dirty ones are replayed there by registry/.
 */
#ifndef WINSTATE_AGENT_OFFLINE_H
#define WINSTATE_AGENT_OFFLINE_H

#include <stdbool.h>
#include <stdint.h>

#include "agent/hivefiles.h"
#include "ntfs/ntfs.h"
#include "registry/registry.h"

/* A Windows installation: a folder with System32/config/SOFTWARE. */
struct windows_install {
	char *windir;            /* volume path: "Windows", "Windows.old/Windows" */
	char *root;              /* the tree its C:\ maps to: "" or "Windows.old" */
	bool is_windows_old;
};

/* Look for installations; returns how many were found (0 is not an error). */
int offline_find_installs(struct nv_volume *vol, struct windows_install **out, size_t *n);
void offline_installs_free(struct windows_install *w, size_t n);

enum user_type {
	USER_LOCAL, USER_DOMAIN, USER_ENTRA, USER_SERVICE, USER_TEMPORARY, USER_DEFAULT,
	USER_UNKNOWN,
};
const char *user_type_name(enum user_type t);

struct offline_user {
	char *sid;               /* NULL for a folder with no ProfileList entry */
	char *name;              /* account name: the strongest evidence found */
	char *name_source;       /* where it came from, for people */
	char *display_name;      /* a person's name (SAM full name, Office, ...), never an account */
	char *display_source;
	char *online_account; /* the Microsoft or work account signed in (IdentityCRL), or NULL */
	char *account_domain;    /* the domain the user's own hive or LogonUI names, or NULL */
	enum user_type type;
	char *profile_path;      /* as Windows knows it: "C:\Users\alice" */
	char *volume_path;       /* on this volume ("Users/alice"), NULL when not on it */
	bool folder_exists;
	bool in_profile_list;
	bool is_bak, is_temp, disabled;
	int64_t last_use;        /* FILETIME (NTUSER.DAT write or ProfileList unload), 0 unknown */
	char *hive_state;        /* "clean", "replayed", "dirty (not replayed)", "unrecoverable", "missing", "-" */
	char *hive_detail;       /* the sentence behind it */
	uint64_t size_bytes, file_count; /* of the profile folder, junctions not followed */
	uint32_t state, flags;   /* ProfileList State and Flags */
	struct ws_user_folder *folders; /* Shell Folders from their hive, expanded */
	size_t folder_count;
	char *ntuser_copy;       /* local copy of NTUSER.DAT (in the session's hive folder) */
	char *usrclass_copy;     /* local copy of UsrClass.dat, or NULL */
};

struct offline_windows {
	struct nv_volume *vol;   /* borrowed */
	struct windows_install install;
	struct hive_dir hives;   /* private copies */
	ws_hive *software, *system, *sam, *security;
	struct ws_windows_info info;
	char software_state[48], system_state[48];
	char *machine_sid;       /* from SECURITY Policy\PolAcDmS (else SAM's Account V), or NULL */
	const char *machine_sid_source;
	char *domain_sid;        /* from SECURITY Policy\PolPrDmS, or NULL */
	struct offline_user *users;
	size_t user_count;
};

/*
 * Read the installation @windir (NULL: the only one on the volume; an error
 * naming them when there are several).  @sizes asks for each profile's size,
 * which needs a walk of every profile.  On failure prints nothing and fills
 * @err.
 */
int offline_open(struct nv_volume *vol, const char *windir, bool sizes,
		 struct offline_windows **out, char *err, size_t errlen);
void offline_close(struct offline_windows *w);
/* The profile of @who (a SID, an account name or the profile folder's name,
 * case-insensitive; .bak entries are never chosen), or NULL. */
const struct offline_user *offline_find_user(const struct offline_windows *w, const char *who);

#endif
