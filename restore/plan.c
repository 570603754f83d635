/*
 * Planning: every store user's target account (/ui /ue, /mu /md, the
 * target's SAM, /lac), profile (existing or to create) and known folders on
 * both sides.  Refusals happen here, before anything is written.
 */
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "restore/internal.h"

/* ---------------------------------------------------------- SID mapping -- */

const uint8_t *
map_sid(const uint8_t *sid, size_t len, size_t *new_len, void *ctx)
{
	struct ctx *c = ctx;
	for (size_t i = 0; i < c->nsids; i++)
		if (c->sids[i].from_len == len && !memcmp(c->sids[i].from, sid, len)) {
			*new_len = c->sids[i].to_len;
			return c->sids[i].to;
		}
	return NULL;
}

static void
add_sid_pair(struct ctx *c, const char *from, const char *to)
{
	if (!strcmp(from, to))
		return;
	struct sid_pair p;
	if (fmt_sid_from_string(from, p.from, sizeof(p.from), &p.from_len) != 0 ||
	    fmt_sid_from_string(to, p.to, sizeof(p.to), &p.to_len) != 0)
		return;
	struct sid_pair *grown = realloc(c->sids, (c->nsids + 1) * sizeof(*grown));
	if (!grown) {
		nomem(c); /* never a descriptor left with the old SID */
		return;
	}
	c->sids = grown;
	c->sids[c->nsids++] = p;
}

/* ------------------------------------------------------------ planning -- */

/* The same matcher as the capture's (scan_users.c): DOMAIN\user with the
 * store's domain for the user, a bare name, a SID; *\* is everyone. */
static bool
user_matches(const struct plan *p, const char *pattern)
{
	const char *dom[1] = { p->domain };
	return win_user_matches(pattern, p->su->sid, p->su->name, dom, p->domain ? 1 : 0);
}

static char *
sam_lookup(struct ctx *c, const char *name)
{
	struct reg_local_user *u;
	size_t n;
	char *sid = NULL;
	if (!c->win->sam || !c->win->machine_sid || reg_facts_sam_users(c->win->sam, &u, &n) != REG_OK)
		return NULL;
	for (size_t i = 0; i < n && !sid; i++)
		if (u[i].name && !strcasecmp(u[i].name, name) &&
		    asprintf(&sid, "%s-%u", c->win->machine_sid, u[i].rid) < 0) {
			sid = NULL;
			nomem(c);
			break;
		}
	reg_local_users_free(u, n);
	return sid;
}

/* "DOM\name", "name" or a SID -> the SID on the target, or NULL. */
static char *
resolve_account(struct ctx *c, const char *account)
{
	if (!strncasecmp(account, "S-1-", 4)) {
		uint8_t b[MAX_SID];
		size_t l;
		if (fmt_sid_from_string(account, b, sizeof(b), &l) != 0)
			return NULL;
		char *sid = strdup(account);
		if (!sid)
			nomem(c);
		return sid;
	}
	const char *bs = strchr(account, '\\');
	const char *name = bs ? bs + 1 : account;
	bool local = !bs || (c->win->info.computer_name &&
			     !strncasecmp(account, c->win->info.computer_name, (size_t)(bs - account)) &&
			     strlen(c->win->info.computer_name) == (size_t)(bs - account));
	if (local) {
		char *sid = sam_lookup(c, name);
		if (sid)
			return sid;
	}
	/* A bare name may also be a profile the target already has; a DOMAIN\name of a
	 * domain is never guessed from a profile's folder name (its SID is not knowable offline). */
	for (size_t i = 0; !bs && i < c->win->user_count; i++) {
		const struct win_user *u = &c->win->users[i];
		if (u->sid && u->name && !strcasecmp(u->name, name) && u->in_profile_list && !u->is_bak) {
			char *sid = strdup(u->sid);
			if (!sid)
				nomem(c);
			return sid;
		}
	}
	return NULL;
}

const struct win_user *
target_profile_of(struct ctx *c, const char *sid)
{
	for (size_t i = 0; i < c->win->user_count; i++) {
		const struct win_user *u = &c->win->users[i];
		if (u->sid && !strcasecmp(u->sid, sid) && u->in_profile_list && !u->is_bak &&
		    !u->is_temp && u->volume_path && u->folder_exists)
			return u;
	}
	return NULL;
}

static const struct {
	const char *name, *rel;
} default_folders[] = {
	{ "Personal", "Documents" },       { "Desktop", "Desktop" },
	{ "My Pictures", "Pictures" },     { "My Music", "Music" },
	{ "My Video", "Videos" },          { "Favorites", "Favorites" },
	{ "AppData", "AppData/Roaming" },  { "Local AppData", "AppData/Local" },
	{ "{374DE290-123F-4565-9164-39C4925E467B}", "Downloads" },
	{ "Cookies", "AppData/Local/Microsoft/Windows/INetCookies" },
	{ "Start Menu", "AppData/Roaming/Microsoft/Windows/Start Menu" },
	{ "Templates", "AppData/Roaming/Microsoft/Windows/Templates" },
};

bool
is_shell_folders_key(const char *key)
{
	size_t n = strlen(key);
	static const char *const tails[] = { "\\Explorer\\User Shell Folders",
					     "\\Explorer\\Shell Folders" };
	for (int i = 0; i < 2; i++) {
		size_t t = strlen(tails[i]);
		if (n >= t && !strcasecmp(key + n - t, tails[i]))
			return true;
	}
	return false;
}

/* One source known folder (@raw: "%USERPROFILE%\\x", "C:\\Users\\bob\\x" or
 * "Users/bob/x") and where the target user keeps the same folder. */
static void
add_known_folder(struct ctx *c, struct plan *p, const struct win_user *tu, const char *name,
		 const char *raw_in)
{
	char letter = c->info->volume_letter ? c->info->volume_letter : 'C';
	char *raw = strdup(raw_in), *src = NULL;
	if (!raw) {
		nomem(c);
		return;
	}
	if (!strncasecmp(raw, "%USERPROFILE%", 13) && p->su->profile_path) {
		char *tail = raw + 13;
		for (char *q = tail; *q; q++)
			if (*q == '\\')
				*q = '/';
		while (*tail == '/')
			tail++;
		src = joinp(p->su->profile_path, tail);
		if (!src)
			nomem(c);
	} else if (strlen(raw) > 2 && raw[1] == ':') {
		src = win_to_volume(raw, letter);
	} else if (!(src = strdup(raw))) {
		nomem(c);
	}
	free(raw);
	if (!src)
		return;
	for (size_t k = 0; k < p->nkf; k++)
		if (!strcasecmp(p->kf[k].name, name)) {
			free(src); /* the first source wins */
			return;
		}
	if (st_check_path(src) != ST_OK) {
		free(src);
		return;
	}
	char *dst = NULL;
	for (size_t k = 0; tu && k < tu->folder_count && !dst; k++)
		if (!strcasecmp(tu->folders[k].name, name) && !tu->folders[k].is_unc)
			dst = win_to_volume(tu->folders[k].path, c->drive);
	if (dst && !below(dst, p->profile)) {
		free(dst); /* a target folder outside the profile is not written to */
		dst = NULL;
	}
	bool known = dst != NULL;
	for (size_t k = 0; !dst && k < sizeof(default_folders) / sizeof(default_folders[0]); k++)
		if (!strcasecmp(default_folders[k].name, name)) {
			known = true;
			dst = joinp(p->profile, default_folders[k].rel);
		}
	if (!known) { /* a folder the target has no place for: its files go by path */
		free(src);
		return;
	}
	struct known_folder *grown = dst ? realloc(p->kf, (p->nkf + 1) * sizeof(*grown)) : NULL;
	char *kname = grown ? strdup(name) : NULL;
	if (grown)
		p->kf = grown;
	if (!kname) {
		free(src);
		free(dst);
		nomem(c);
		return;
	}
	p->kf[p->nkf++] = (struct known_folder){ kname, src, dst };
}

/*
 * Source known folders: the user's "folder:<Name>" extras written by capture
 * (e.g. folder:Personal = Users/bob/OneDrive/Documents), else the store's
 * own Shell Folders registry values.
 */
void
plan_known_folders(struct ctx *c, struct plan *p, const struct win_user *tu)
{
	for (size_t i = 0; i < p->su->extra_count; i++) {
		const struct st_kv *kv = &p->su->extra[i];
		if (kv->key && kv->value && !strncasecmp(kv->key, "folder:", 7) && kv->key[7])
			add_known_folder(c, p, tu, kv->key + 7, kv->value);
	}
	for (size_t i = 0; i < st_reader_registry_count(c->r); i++) {
		const struct st_reg_value *v = st_reader_registry(c->r, i);
		if (strcasecmp(v->owner, p->su->sid) || !is_shell_folders_key(v->key) || !*v->name)
			continue;
		if (v->type != REG_SZ && v->type != REG_EXPAND_SZ)
			continue;
		char *raw = fmt_utf16le_to_utf8(v->data, v->len);
		if (raw)
			add_known_folder(c, p, tu, v->name, raw);
		free(raw);
	}
}

/*
 * /lac: the local account @p's store user had does not exist on the target:
 * create it (same name, empty password, disabled unless /lae) in the local
 * copy of the target's SAM; the SAM goes back into the volume before any
 * profile is made.  A password is refused here, before anything is written.
 */

static int
lac_create(struct ctx *c, struct plan *p, char **target)
{
	const struct restore_options *o = c->o;
	if (o->lac_password && *o->lac_password) {
		outcome(c, RESTORE_LAC_REFUSED,
			"/lac:password: the local account %s does not exist on the target, and an "
			"account with a password cannot be created offline (the SAM keeps the password's "
			"hash encrypted with a key derived from the SYSTEM hive's boot key, which winstate "
			"does not implement); nothing was written: give /lac without a password (the "
			"account gets an empty password and is disabled unless /lae), or create it first",
			p->su->name);
		return -1;
	}
	if (!c->sam) {
		if (asprintf(&c->sam_local, "%s/SAM", c->win->hives.path) < 0) {
			c->sam_local = NULL;
			outcome(c, RESTORE_INTERNAL, "out of memory");
			return -1;
		}
		c->sam = open_rw(c, c->sam_local, "the target's SAM hive");
		if (!c->sam) {
			outcome(c, RESTORE_TARGET, "/lac: the target's SAM hive cannot be changed, so the "
				"local account %s cannot be created", p->su->name);
			return -1;
		}
	}
	struct reg_sam_new_user nu = {
		.name = p->su->name, .enabled = o->lae,
		.now = (uint64_t)time(NULL) * 10000000ull + 116444736000000000ull,
	};
	struct reg_sam_created made;
	if (reg_sam_create_user(c->sam, &nu, &made) != REG_OK) {
		outcome(c, RESTORE_LAC_REFUSED, "/lac: the local account %s cannot be created on the "
			"target: %s", p->su->name, reg_hive_errmsg(c->sam));
		return -1;
	}
	c->sam_dirty = true;
	logf_(c, "/lac: local account %s created on the target as %s (%s, empty password)",
	      p->su->name, made.sid, o->lae ? "enabled" : "disabled");
	*target = strdup(made.sid);
	if (!*target) {
		nomem(c);
		return -1;
	}
	return 0;
}

enum restore_outcome
plan_users(struct ctx *c)
{
	const struct restore_options *o = c->o;
	size_t n = st_reader_user_count(c->r);
	c->plans = calloc(n ? n : 1, sizeof(*c->plans));
	c->res->users = calloc(n ? n : 1, sizeof(*c->res->users));
	if (!c->plans || !c->res->users)
		return nomem(c);
	c->nplans = n;
	c->res->user_count = n;
	for (size_t i = 0; i < n; i++) {
		struct plan *p = &c->plans[i];
		struct restore_user_result *ur = &c->res->users[i];
		p->su = st_reader_user(c->r, i);
		p->result = i;
		ur->store_sid = xstrdup(p->su->sid);
		ur->store_name = xstrdup(p->su->name);
		if (!ur->store_sid || (p->su->name && !ur->store_name))
			return nomem(c);
		const char *type = user_extra(p->su, "type");
		if (!type)
			type = user_extra(p->su, "kind");
		const char *dom = user_extra(p->su, "domain");
		if (dom && !*dom)
			dom = NULL;
		bool s21 = !strncmp(p->su->sid, "S-1-5-21-", 9);
		if (type)
			p->local = !strcasecmp(type, "local");
		else
			p->local = s21 && !(c->win->domain_sid &&
					    !strncmp(p->su->sid, c->win->domain_sid, strlen(c->win->domain_sid)));
		const char *domain = dom ? dom : p->local ? c->info->computer : NULL;
		if (!(p->domain = xstrdup(domain)) && domain)
			return nomem(c);

		/* Filters: /ue excludes unless /ui names the user too. */
		bool selected = true;
		if (!o->all) {
			for (size_t k = 0; k < o->ue_count; k++)
				if (user_matches(p, o->ue[k]))
					selected = false;
			for (size_t k = 0; k < o->ui_count; k++)
				if (user_matches(p, o->ui[k]))
					selected = true;
		}
		if (!selected) {
			if (!(ur->skipped_reason = strdup("not selected (/ue)")))
				return nomem(c);
			continue;
		}
		/* Mappings: /mu first (exact), then /md. */
		char *target = NULL;
		const char *mapped_name = NULL;
		bool mapped = false;
		for (size_t k = 0; k < o->mu_count && !mapped; k++) {
			const char *from = o->mu[k].from, *bs = strchr(from, '\\');
			const char *fname = bs ? bs + 1 : from;
			if (!p->su->name || strcasecmp(fname, p->su->name))
				continue;
			if (bs && (!p->domain || strncasecmp(from, p->domain, (size_t)(bs - from)) ||
				   strlen(p->domain) != (size_t)(bs - from)))
				continue;
			mapped = true;
			target = resolve_account(c, o->mu[k].to);
			const char *tbs = strrchr(o->mu[k].to, '\\');
			mapped_name = strncasecmp(o->mu[k].to, "S-1-", 4) ? (tbs ? tbs + 1 : o->mu[k].to) : NULL;
			if (mapped_name && tbs)
				if (!(p->target_domain = strndup(o->mu[k].to, (size_t)(tbs - o->mu[k].to)))) {
					free(target);
					return nomem(c);
				}
			if (!target && !strncasecmp(o->mu[k].to, "S-1-", 4)) {
				outcome(c, RESTORE_USAGE, "/mu %s:%s: \"%s\" is not a valid SID", from,
					o->mu[k].to, o->mu[k].to);
				return c->res->outcome;
			}
			if (!target) {
				outcome(c, RESTORE_USAGE,
					"/mu %s:%s: \"%s\" is not an account the offline target knows "
					"(not in its SAM, no profile): give its SID instead (%s:S-1-5-21-...)",
					from, o->mu[k].to, o->mu[k].to, from);
				return c->res->outcome;
			}
		}
		for (size_t k = 0; k < o->md_count && !mapped; k++) {
			if (!p->domain || fnmatch(o->md[k].from, p->domain, FNM_CASEFOLD))
				continue;
			mapped = true;
			if (!(p->target_domain = xstrdup(o->md[k].to)))
				return nomem(c);
			char acct[1024];
			snprintf(acct, sizeof(acct), "%s\\%s", o->md[k].to, p->su->name ? p->su->name : "");
			target = resolve_account(c, acct);
			if (!target) {
				outcome(c, RESTORE_USAGE,
					"/md %s:%s: %s has no account or profile on the offline target, so "
					"its SID cannot be known offline; map the user with /mu %s\\%s:SID",
					o->md[k].from, o->md[k].to, acct, p->domain, p->su->name);
				return c->res->outcome;
			}
		}
		if (!mapped) {
			if (target_profile_of(c, p->su->sid))
				target = strdup(p->su->sid);
			else if (p->local)
				target = p->su->name ? sam_lookup(c, p->su->name) : NULL;
			else
				target = strdup(p->su->sid);
		}
		if (c->res->outcome != RESTORE_OK) { /* out of memory finding the account */
			free(target);
			return c->res->outcome;
		}
		if (!target && (!p->local || target_profile_of(c, p->su->sid)) && !mapped)
			return nomem(c);
		if (!target && o->lac && p->su->name) {
			if (lac_create(c, p, &target) < 0)
				return c->res->outcome;
		} else if (!target) {
			char why[512];
			snprintf(why, sizeof(why),
				 "the local account %s\\%s (%s) does not exist on the target; without "
				 "/lac it is not restored", p->domain ? p->domain : "?",
				 p->su->name ? p->su->name : "?", p->su->sid);
			if (!(ur->skipped_reason = strdup(why)))
				return nomem(c);
			continue;
		}
		p->target_sid = target;
		if (!(p->target_name = strdup(mapped_name ? mapped_name : p->su->name ? p->su->name : target)))
			return nomem(c);
		p->renamed = mapped_name && (!p->su->name || strcasecmp(mapped_name, p->su->name));
		/* A local account of this target answers to its computer name; a
		 * domain or Entra account keeps (or /md gives it) its domain. */
		size_t ml = c->win->machine_sid ? strlen(c->win->machine_sid) : 0;
		bool target_local = ml && !strncasecmp(target, c->win->machine_sid, ml) && target[ml] == '-';
		if (target_local) {
			free(p->target_domain);
			p->target_domain = NULL;
		} else if (!p->target_domain && !p->local) {
			if (!(p->target_domain = xstrdup(p->domain)) && p->domain)
				return nomem(c);
		}
		add_sid_pair(c, p->su->sid, target);
		const struct win_user *tu = target_profile_of(c, target);
		if (tu) {
			p->profile = strdup(tu->volume_path);
			p->profile_win = xstrdup(tu->profile_path);
			p->ntuser_local = xstrdup(tu->ntuser_copy);
			p->usrclass_local = xstrdup(tu->usrclass_copy);
			if (!p->profile || (tu->profile_path && !p->profile_win) ||
			    (tu->ntuser_copy && !p->ntuser_local) || (tu->usrclass_copy && !p->usrclass_local))
				return nomem(c);
		} else {
			p->create = true;
		}
		p->restore = true;
		if (!(ur->target_sid = strdup(target)))
			return nomem(c);
		if (c->res->outcome != RESTORE_OK) /* out of memory in a lookup */
			return c->res->outcome;
	}
	return RESTORE_OK;
}
