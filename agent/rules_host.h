/*
 * What the rule engine may ask about an offline Windows (does a file or
 * registry value exist, what does it hold, which Windows is it), answered
 * from the volume through ntfs/ and from the hives through registry/.
 */
#ifndef WINSTATE_AGENT_RULES_HOST_H
#define WINSTATE_AGENT_RULES_HOST_H

#include "agent/offline.h"
#include "rules/rules.h"

struct rules_host {
	struct ws_rules_host host;      /* hand &host to ws_matcher_build */
	struct offline_windows *w;      /* borrowed */
	ws_hive_set *hives;
	char drive;                     /* the system drive letter, 'C' */
};

/* @user (may be NULL) is the profile HKCU means. */
int rules_host_init(struct rules_host *h, struct offline_windows *w,
		    const struct offline_user *user);
void rules_host_fini(struct rules_host *h);

/* Variables for the system context: the documented defaults overridden by
 * what the offline Windows says (SystemRoot, Program Files, ProgramData...). */
void rules_vars_for_system(ws_vars *v, const struct offline_windows *w);
/* Set the variables that stand for the shell folder value @value_name
 * ("Personal" -> CSIDL_PERSONAL, CSIDL_MYDOCUMENTS, FOLDERID_Documents). */
void rules_vars_set_folder(ws_vars *v, const char *value_name, const char *path);
/* Variables for @user's context: the system ones, then the folders their
 * own hive says (Documents redirected to OneDrive, ...). */
void rules_vars_for_user(ws_vars *v, const struct offline_windows *w,
			 const struct offline_user *user);

#endif
