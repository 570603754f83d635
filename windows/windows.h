/*
 * windows/ — the offline Windows on a volume, understood from its files and
 * hives alone: its installations, who has a profile and what each is called
 * (with where each fact came from), private copies of its hives, USMT's user
 * selection (/ui /ue /uel), and the host the rule engine asks about files,
 * registry values and variables.  Nothing here writes the volume.
 */
#ifndef WINSTATE_WINDOWS_H
#define WINSTATE_WINDOWS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ntfs/ntfs.h"
#include "registry/registry.h"
#include "rules/rules.h"

/*
 * Hive files out of the offline volume: hivex needs a real file, and dirty-hive
 * replay needs the .LOG/.LOG1/.LOG2 beside it, so a hive and its logs are
 * copied (through ntfs/, read-only) into a private folder that is removed
 * afterwards.  The volume is never written.
 */


struct win_hive_dir {
	char *path;     /* the private folder (mode 0700) */
};

/* Make a private folder under $TMPDIR; 0, or -1 with the reason in @err
 * (WIN_ERR_NOMEM when memory ran out). */
int win_hive_dir_open(struct win_hive_dir *dir, char *err, size_t errlen);
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



/* A Windows installation: a folder with System32/config/SOFTWARE. */
struct win_install {
	char *windir;            /* volume path: "Windows", "Windows.old/Windows" */
	char *root;              /* the tree its C:\ maps to: "" or "Windows.old" */
	bool is_windows_old;
};

/* Look for installations; returns how many were found (0 is not an error). */
int win_find_installs(struct nv_volume *vol, struct win_install **out, size_t *n);
void win_installs_free(struct win_install *w, size_t n);

enum win_user_type {
	WIN_USER_LOCAL, WIN_USER_DOMAIN, WIN_USER_ENTRA, WIN_USER_SERVICE, WIN_USER_TEMPORARY, WIN_USER_DEFAULT,
	WIN_USER_UNKNOWN,
};
const char *win_user_type_name(enum win_user_type t);

struct win_user {
	char *sid;               /* NULL for a folder with no ProfileList entry */
	char *name;              /* account name: the strongest evidence found */
	char *name_source;       /* where it came from, for people */
	char *display_name;      /* a person's name (SAM full name, Office, ...), never an account */
	char *display_source;
	char *online_account; /* the Microsoft or work account signed in (IdentityCRL), or NULL */
	char *account_domain;    /* the domain the user's own hive or LogonUI names, or NULL */
	enum win_user_type type;
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
	struct reg_user_folder *folders; /* Shell Folders from their hive, expanded */
	size_t folder_count;
	char *ntuser_copy;       /* local copy of NTUSER.DAT (in the session's hive folder) */
	char *usrclass_copy;     /* local copy of UsrClass.dat, or NULL */
};

struct win_offline {
	struct nv_volume *vol;   /* borrowed */
	struct win_install install;
	struct win_hive_dir hives;   /* private copies */
	reg_hive *software, *system, *sam, *security;
	struct reg_windows_info info;
	char software_state[48], system_state[48];
	char *machine_sid;       /* from SECURITY Policy\PolAcDmS (else SAM's Account V), or NULL */
	const char *machine_sid_source;
	char *domain_sid;        /* from SECURITY Policy\PolPrDmS, or NULL */
	struct win_user *users;
	size_t user_count;
	bool out_of_memory;      /* while reading: win_open then fails with WIN_ERR_NOMEM */
};

/*
 * Read the installation @windir (NULL: the only one on the volume; an error
 * naming them when there are several).  @sizes asks for each profile's size,
 * which needs a walk of every profile.  0, or on failure (printing nothing)
 * -1 with the reason in @err, or WIN_ERR_NOMEM when memory ran out.
 */
#define WIN_ERR_NOMEM (-2)
int win_open(struct nv_volume *vol, const char *windir, bool sizes,
		 struct win_offline **out, char *err, size_t errlen);
void win_close(struct win_offline *w);
/* The profile of @who (a SID, an account name or the profile folder's name,
 * case-insensitive; .bak entries are never chosen), or NULL. */
const struct win_user *win_find_user(const struct win_offline *w, const char *who);

/*
 * What the rule engine may ask about an offline Windows (does a file or
 * registry value exist, what does it hold, which Windows is it), answered
 * from the volume through ntfs/ and from the hives through registry/.
 */


struct win_rules_host {
	struct mig_rules_host host;      /* hand &host to mig_matcher_build */
	struct win_offline *w;      /* borrowed */
	reg_hive_set *hives;
	char drive;                     /* the system drive letter, 'C' */
	/* An answer was cut short by lack of memory ("absent" instead of the
	 * truth): whatever was decided with this host is not to be trusted. */
	bool out_of_memory;
};

/* @user (may be NULL) is the profile HKCU means. */
int win_rules_host_init(struct win_rules_host *h, struct win_offline *w,
		    const struct win_user *user);
void win_rules_host_fini(struct win_rules_host *h);

/*
 * The variable resolver of every command (scan, explain, restore): Windows'
 * own defaults for the offline Windows' build, overridden by what its hives
 * state (SOFTWARE: SystemRoot, Program Files, ProfileList ProfilesDirectory /
 * Public / Default / ProgramData, the machine's Shell Folders; NTUSER: the
 * user's Shell Folders).  @defaulted (may be NULL) receives a malloc'd list
 * "%NAME% = value, ..." of the defaults that stood in for a missing hive
 * value, or NULL when the hives stated everything: the caller logs it.
 * @drive is the system drive letter the caller names the volume by ('C').
 */
void win_vars_for_system(mig_vars *v, const struct win_offline *w, char drive,
			   char **defaulted);
/* @user's context: the system table, then their own folders (Documents
 * redirected to OneDrive ...).  @defaulted lists the user-level fallbacks. */
void win_vars_for_user(mig_vars *v, const struct win_offline *w,
			 const struct win_user *user, char **defaulted);
/* The user layer alone, on a table that already holds the system variables,
 * for a user known from elsewhere (a store): @stated holds the folders set
 * with win_vars_set_folder. */
void win_vars_user_layer(mig_vars *v, const struct win_offline *w, const char *name,
			   const char *profile, const char *sid, const mig_vars *stated,
			   char **defaulted);
/* State the folder of shell folder value @value_name ("Personal" ->
 * CSIDL_PERSONAL; its aliases follow when resolved) in @stated. */
void win_vars_set_folder(mig_vars *stated, const char *value_name, const char *path);

/* ---- user selection (users_select.c) ---- */

/* USMT's /uel value: 0 ok (*cutoff = FILETIME, *latest_only for "0"), -1 bad. */
int win_parse_uel(const char *text, int64_t now, int64_t *cutoff, bool *latest_only);
/* Does a /ui or /ue pattern name this user?  Patterns: DOMAIN\user,
 * COMPUTER\user, user, or a SID, each with '*' wildcards (case-insensitive). */
bool win_user_matches(const char *pattern, const char *sid, const char *name,
		       const char *const *domains, size_t ndomains);
/* NULL when @pattern can name a user, else the end of a sentence saying why
 * not ("is empty: ..."). */
const char *win_user_pattern_problem(const char *pattern);
/* USMT's precedence of the three: is the user captured, and why (a static
 * sentence)?  @recent: the profile passes --uel (ignored without @have_uel). */
bool win_user_pick(bool in_ui, bool in_ue, bool have_uel, bool recent, const char **why);

#endif
