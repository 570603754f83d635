/*
 * What the rule engine may ask about an offline Windows (does a file or
 * registry value exist, what does it hold, which Windows is it), answered
 * from the volume through ntfs/ and from the hives through registry/.
 */
#ifndef WINSTATE_AGENT_RULES_HOST_H
#define WINSTATE_AGENT_RULES_HOST_H

#include "windows/windows.h"
#include "rules/rules.h"

struct win_rules_host {
	struct mig_rules_host host;      /* hand &host to mig_matcher_build */
	struct win_offline *w;      /* borrowed */
	reg_hive_set *hives;
	char drive;                     /* the system drive letter, 'C' */
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

#endif
