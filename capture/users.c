/* Which profiles are captured (--ui, --ue, --uel), and the domains each answers to. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "capture/internal.h"

/* -------------------------------------------------------------- users -- */

/* One more DOMAIN spelling of @su (up to the first dot); -1 when out of memory. */
static int
add_domain(struct scan_user *su, const char *domain)
{
	char *d = strdup(domain);
	if (!d)
		return -1;
	char *dot = strchr(d, '.');
	if (dot)
		*dot = 0;
	su->domains[su->ndomains++] = d;
	return 0;
}

enum capture_outcome
scan_select_users(struct scan *s)
{
	const struct capture_options *o = s->o;
	struct win_offline *w = s->w;
	int64_t cutoff = 0;
	bool latest_only = false;
	if (o->uel && win_parse_uel(o->uel, (int64_t)time(NULL), &cutoff, &latest_only) < 0) {
		return scan_fail(s, CAPTURE_ERR_USAGE, "--uel/%s wants a number of days, a date "
				 "YYYY/MM/DD or 0, not \"%s\"", "/uel", o->uel);
	}
	s->users = calloc(w->user_count + 1, sizeof(*s->users));
	if (!s->users)
		return scan_out_of_memory(s, "listing the users");
	int64_t newest = 0;
	for (size_t i = 0; i < w->user_count; i++)
		if (w->users[i].last_use > newest && w->users[i].sid && w->users[i].folder_exists)
			newest = w->users[i].last_use;
	bool *ui_used = calloc(o->nui + 1, 1), *ue_used = calloc(o->nue + 1, 1);
	if (!ui_used || !ue_used) {
		free(ui_used);
		free(ue_used);
		return scan_out_of_memory(s, "listing the users");
	}
	size_t rootlen = strlen(s->root);
	for (size_t i = 0; i < w->user_count; i++) {
		const struct win_user *u = &w->users[i];
		struct scan_user *su = &s->users[s->nusers];
		if (!u->sid) {
			LOG_WARN(s, "profile folder %s has no ProfileList entry (no SID): not captured",
				 u->profile_path ? u->profile_path : "?");
			continue;
		}
		if (u->type == WIN_USER_SERVICE || u->type == WIN_USER_DEFAULT)
			continue;
		su->u = u;
		/* Counted now, so that teardown frees what is made below. */
		s->nusers++;
		if (!(su->sid = strdup(u->sid)))
			goto out_of_memory;
		char *bak = strcasestr(su->sid, ".bak");
		if (bak)
			*bak = 0;
		const char *vp = u->volume_path ? u->volume_path : "";
		if (rootlen && !strncasecmp(vp, s->root, rootlen) && vp[rootlen] == '/')
			vp += rootlen + 1;
		if (!(su->rel_profile = strdup(vp)))
			goto out_of_memory;
		/* DOMAIN\user spellings this account answers to: the computer for
		 * accounts of this machine, AzureAD for Entra ID, else the domain. */
		size_t mlen = w->machine_sid ? strlen(w->machine_sid) : 0;
		bool local = mlen && !strncasecmp(su->sid, w->machine_sid, mlen) && su->sid[mlen] == '-';
		if (local && w->info.computer_name) {
			if (add_domain(su, w->info.computer_name) < 0)
				goto out_of_memory;
		} else if (u->type == WIN_USER_ENTRA || !strncmp(su->sid, "S-1-12-1-", 9)) {
			if (add_domain(su, "AzureAD") < 0)
				goto out_of_memory;
		} else if (!local) {
			/* The account's own domain is kept whole (a dot in it stays). */
			if (u->account_domain) {
				if (!(su->domains[su->ndomains] = strdup(u->account_domain)))
					goto out_of_memory;
				su->ndomains++;
			}
			if (w->info.domain && add_domain(su, w->info.domain) < 0)
				goto out_of_memory;
		}
		const char *name = u->name;
		bool in_ui = false, in_ue = false;
		for (size_t k = 0; k < o->nui; k++)
			if (win_user_matches(o->ui[k], su->sid, name, (const char *const *)su->domains,
					      su->ndomains))
				in_ui = ui_used[k] = true;
		for (size_t k = 0; k < o->nue; k++)
			if (win_user_matches(o->ue[k], su->sid, name, (const char *const *)su->domains,
					      su->ndomains))
				in_ue = ue_used[k] = true;
		if (!u->folder_exists) {
			snprintf(su->why, sizeof(su->why), "profile folder %s does not exist",
				 u->profile_path ? u->profile_path : "?");
		} else if (u->is_temp) {
			snprintf(su->why, sizeof(su->why), "temporary profile (Windows could not load the "
				 "real one; it is captured from its .bak entry when present)");
		} else {
			bool recent = latest_only ? u->last_use == newest : u->last_use >= cutoff;
			const char *why;
			su->selected = win_user_pick(in_ui, in_ue, o->uel != NULL, recent, &why);
			if (o->uel && latest_only && !in_ui)
				why = recent ? "the most recently used profile (--uel 0)"
					     : "not the most recently used profile (--uel 0)";
			if (o->uel && !recent && !in_ui && !u->last_use)
				why = "last use unknown, so not within the --uel limit";
			snprintf(su->why, sizeof(su->why), "%s", why);
		}
		LOG_INFO(s, "user %s (%s, %s): %s: %s", name ? name : "?", su->sid,
			 win_user_type_name(u->type), su->selected ? "captured" : "not captured", su->why);
		if (s->prog) {
			char who[512];
			snprintf(who, sizeof(who), "%s\\%s", su->ndomains ? su->domains[0] : "",
				 name ? name : su->sid);
			scan_progress_line(s, "detectedUser", who, "includedInMigration",
				      su->selected ? "Yes" : "No");
		}
	}
	for (size_t k = 0; k < o->nui; k++)
		if (!ui_used[k]) {
			scan_say(s, CAPTURE_WARNING, "the user pattern \"%s\" (--ui) matches no profile on "
				 "this Windows", o->ui[k]);
			LOG_WARN(s, "user pattern \"%s\" (include) matches no profile", o->ui[k]);
		}
	for (size_t k = 0; k < o->nue; k++)
		if (!ue_used[k]) {
			scan_say(s, CAPTURE_WARNING, "the user pattern \"%s\" (--ue) matches no profile on "
				 "this Windows", o->ue[k]);
			LOG_WARN(s, "user pattern \"%s\" (exclude) matches no profile", o->ue[k]);
		}
	free(ui_used);
	free(ue_used);
	return CAPTURE_OK;
out_of_memory:
	/* The user being listed is dropped whole: report.json reads every field. */
	{
		struct scan_user *su = &s->users[--s->nusers];
		free(su->sid);
		free(su->rel_profile);
		for (size_t k = 0; k < su->ndomains; k++)
			free(su->domains[k]);
		memset(su, 0, sizeof(*su));
	}
	free(ui_used);
	free(ue_used);
	return scan_out_of_memory(s, "listing the users");
}
