/*
 * Restore-time MigXML rules (see agent/restore.h): what LoadState does with
 * the /i: files and Config.xml that ScanState does not.
 *
 *  - The rules are compiled once for the system and once per store user,
 *    with that user's variables as they were on the source (the store keeps
 *    each user's profile path and known folders), detections ignored
 *    (MIG_BUILD_IGNORE_DETECTION), so that each stored object is matched by
 *    the same patterns that took it at capture.
 *  - locationModify (RelativeMove, ExactMove, Move) gives a new source-side
 *    location; files.c then sends it through the same relocation and the
 *    same checks as every other destination.
 *  - merge: SourcePriority / DestinationPriority (the others are reported
 *    and USMT's default is used).
 *  - destinationCleanup: registry and file patterns of components that have
 *    something in the store, deleted from the target before anything is
 *    restored (rules_apply.c finds the hive or folder, inside the profile).
 *  - Config.xml: a file or value taken by a component with migrate="no" is
 *    not restored unless an enabled component takes it too; <ProfileControl>
 *    mappings come after /mu /md; <ErrorControl> says which failures skip.
 */
#include <ctype.h>
#include <fnmatch.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "formats/formats.h"
#include "restore/restore.h"
#include "windows/windows.h"

struct rr_context {
	char *sid;                  /* store SID, NULL for the system context */
	mig_vars *vars;
	mig_matcher *m;
	struct win_rules_host host;
	bool host_ok;
};

struct restore_rules {
	mig_ruleset *rs;
	mig_config *cfg;
	mig_diags *diags;
	char letter;                /* the store's volume letter */
	struct rr_context sys;
	bool sys_built;
	struct rr_context *users;
	size_t nusers;
	/* "owner|file|component" of every component that has something in the
	 * store (capture's decisions and the restore rules' includes): only
	 * their destinationCleanup runs, never that of an application the
	 * store holds nothing of. */
	char **present;
	size_t npresent;
};

/* ------------------------------------------------------------ helpers -- */

static void
set_why(char *buf, size_t len, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fmt_vsentence(buf, len, fmt, ap);
	va_end(ap);
}

static const char *
base_name(const char *p)
{
	const char *s = p ? strrchr(p, '/') : NULL;
	return s ? s + 1 : p ? p : "";
}

/* Is @path equal to or below @prefix, '\'-separated, case-insensitive?
 * Returns what follows (without the separator), or NULL. */
static const char *
win_below(const char *path, const char *prefix)
{
	size_t n = strlen(prefix);
	while (n && prefix[n - 1] == '\\')
		n--;
	if (strncasecmp(path, prefix, n))
		return NULL;
	if (path[n] == '\0')
		return path + n;
	if (path[n] == '\\')
		return path + n + 1;
	return NULL;
}

static char *
win_join(const char *a, const char *b)
{
	size_t n = strlen(a);
	while (n && a[n - 1] == '\\')
		n--;
	char *out;
	if (asprintf(&out, "%.*s%s%s", (int)n, a, *b ? "\\" : "", b) < 0)
		return NULL;
	return out;
}

/* "Users/bob/x" -> "C:\Users\bob\x". */
static char *
volume_to_win(const char *path, char letter)
{
	char *out;
	if (asprintf(&out, "%c:\\%s", letter, path) < 0)
		return NULL;
	for (char *p = out; *p; p++)
		if (*p == '/')
			*p = '\\';
	return out;
}

int
restore_decision_component(const char *decision, char **file, char **component)
{
	*file = *component = NULL;
	if (!decision)
		return -1;
	const char *c = strstr(decision, "(component \"");
	const char *colon = strchr(decision, ':');
	if (!c || !colon || colon > c)
		return -1;
	c += strlen("(component \"");
	const char *end = strrchr(c, '"');
	if (!end || end < c)
		return -1;
	*file = strndup(decision, (size_t)(colon - decision));
	*component = strndup(c, (size_t)(end - c));
	if (!*file || !*component) {
		free(*file);
		free(*component);
		*file = *component = NULL;
		return -1;
	}
	return 0;
}

/* Split an encoded location "node [leaf]" (no escapes beyond ^[ ^] ^^). */
static void
split_location(const char *loc, char **node, char **leaf)
{
	*node = *leaf = NULL;
	const char *br = NULL;
	for (const char *p = loc; *p; p++) {
		if (*p == '^' && p[1]) {
			p++;
			continue;
		}
		if (*p == '[') {
			br = p;
			break;
		}
	}
	size_t n = br ? (size_t)(br - loc) : strlen(loc);
	while (n && loc[n - 1] == ' ')
		n--;
	char *nd = strndup(loc, n);
	char *lf = NULL;
	if (br) {
		const char *close = strrchr(br, ']');
		lf = strndup(br + 1, close ? (size_t)(close - br - 1) : strlen(br + 1));
	}
	/* unescape */
	char **parts[2] = { &nd, &lf };
	for (int i = 0; i < 2; i++) {
		char *s = *parts[i], *w = s;
		for (char *r = s; r && *r; r++) {
			if (*r == '^' && r[1])
				r++;
			*w++ = *r;
		}
		if (w)
			*w = '\0';
	}
	*node = nd;
	*leaf = lf;
}

char *
restore_location_modify(const char *helper, unsigned nargs, const char *const *args,
			const char *object, const mig_vars *vars, char *err, size_t errlen)
{
	err[0] = '\0';
	if (!helper) {
		set_why(err, errlen, "locationModify without a script");
		return NULL;
	}
	for (unsigned i = 0; i < nargs; i++)
		if (args[i] && strchr(args[i], '%')) {
			set_why(err, errlen, "%s: its argument %s names a variable that is not known "
				"at restore", helper, args[i]);
			return NULL;
		}
	if (!strcasecmp(helper, "RelativeMove")) {
		if (nargs < 2 || !args[0] || !args[1]) {
			set_why(err, errlen, "RelativeMove needs a source and a destination root");
			return NULL;
		}
		const char *rest = win_below(object, args[0]);
		if (!rest)
			return NULL; /* not below the source root: stays */
		return win_join(args[1], rest);
	}
	if (!strcasecmp(helper, "ExactMove")) {
		if (nargs < 1 || !args[0]) {
			set_why(err, errlen, "ExactMove needs a destination");
			return NULL;
		}
		char *node, *leaf;
		split_location(args[0], &node, &leaf);
		char *out = NULL;
		if (node && leaf && *leaf) {
			out = win_join(node, leaf);
		} else if (node) {
			const char *name = strrchr(object, '\\');
			out = win_join(node, name ? name + 1 : object);
		}
		free(node);
		free(leaf);
		return out;
	}
	if (!strcasecmp(helper, "Move")) {
		if (nargs < 1 || !args[0]) {
			set_why(err, errlen, "Move needs a destination root");
			return NULL;
		}
		/* Keep what follows the longest known folder (CSIDL / FOLDERID
		 * variable, or the profile) the object lies in. */
		const char *best = NULL;
		size_t best_len = 0;
		for (size_t i = 0; vars && i < mig_vars_count(vars); i++) {
			const char *name, *value;
			mig_vars_entry(vars, i, &name, &value);
			if (!value || !*value ||
			    (strncasecmp(name, "CSIDL_", 6) && strncasecmp(name, "FOLDERID_", 9) &&
			     strcasecmp(name, "USERPROFILE")))
				continue;
			const char *rest = win_below(object, value);
			if (rest && strlen(value) > best_len) {
				best = rest;
				best_len = strlen(value);
			}
		}
		if (!best) {
			const char *name = strrchr(object, '\\');
			best = name ? name + 1 : object;
		}
		return win_join(args[0], best);
	}
	set_why(err, errlen, "the locationModify script %s is not supported", helper);
	return NULL;
}

/* ------------------------------------------------------------ loading -- */

enum restore_outcome
restore_rules_load(const char *const *files, size_t n, const char *config,
		   struct restore_rules **out, char *msg, size_t msglen)
{
	*out = NULL;
	msg[0] = '\0';
	struct restore_rules *r = calloc(1, sizeof(*r));
	if (!r)
		return RESTORE_INTERNAL;
	r->rs = mig_ruleset_new();
	r->diags = mig_diags_new();
	if (!r->rs || !r->diags) {
		restore_rules_free(r);
		return RESTORE_INTERNAL;
	}
	/* Config.xml alone: its component IDs are those of the default rules (when
	 * none are found, the config's components are simply unknown). */
	enum restore_outcome rc = RESTORE_OK;
	char failed[4096];
	if (mig_ruleset_load_given_or_defaults(r->rs, files, n, r->diags, NULL, NULL, failed,
					       sizeof(failed)) == -1) {
		const char *why = mig_diags_first(r->diags, MIG_DIAG_ERROR);
		set_why(msg, msglen, "the rule file %s is unusable: %s; nothing was written",
			failed, why ? why : "it could not be read");
		rc = RESTORE_RULES;
	}
	if (rc == RESTORE_OK && config) {
		mig_diags *cd = mig_diags_new();
		r->cfg = cd ? mig_config_load(config, cd) : NULL;
		if (!r->cfg) {
			const char *why = cd ? mig_diags_first(cd, MIG_DIAG_ERROR) : NULL;
			set_why(msg, msglen, "the configuration file %s is unusable: %s; nothing was written",
				config, why ? why : "it could not be read");
			rc = RESTORE_CONFIG;
		}
		mig_diags_free(cd);
	}
	if (rc != RESTORE_OK) {
		restore_rules_free(r);
		return rc;
	}
	*out = r;
	return RESTORE_OK;
}

static void
context_free(struct rr_context *x)
{
	free(x->sid);
	if (x->m)
		mig_matcher_free(x->m);
	if (x->vars)
		mig_vars_free(x->vars);
	if (x->host_ok)
		win_rules_host_fini(&x->host);
	memset(x, 0, sizeof(*x));
}

void
restore_rules_free(struct restore_rules *r)
{
	if (!r)
		return;
	context_free(&r->sys);
	for (size_t i = 0; i < r->nusers; i++)
		context_free(&r->users[i]);
	free(r->users);
	for (size_t i = 0; i < r->npresent; i++)
		free(r->present[i]);
	free(r->present);
	if (r->cfg)
		mig_config_free(r->cfg);
	if (r->rs)
		mig_ruleset_free(r->rs);
	if (r->diags)
		mig_diags_free(r->diags);
	free(r);
}

const mig_diags *
restore_rules_diags(const struct restore_rules *r)
{
	return r ? r->diags : NULL;
}

/* The variables of a store user as they were on the source. */
void
restore_rules_user_vars(mig_vars *v, const struct st_user *su, char letter)
{
	char drive[3] = { letter, ':', '\0' };
	char *profile = su->profile_path ? volume_to_win(su->profile_path, letter) : NULL;
	if (!mig_vars_get(v, "SYSTEMDRIVE"))
		mig_vars_default_system(v, drive);
	mig_vars *stated = mig_vars_new();
	for (size_t i = 0; i < su->extra_count; i++) {
		const struct st_kv *kv = &su->extra[i];
		if (!kv->key || !kv->value || strncasecmp(kv->key, "folder:", 7) || !kv->key[7])
			continue;
		char *path = NULL;
		if (!strncasecmp(kv->value, "%USERPROFILE%", 13) && profile)
			path = win_join(profile, kv->value[13] == '\\' ? kv->value + 14 : kv->value + 13);
		else if (strlen(kv->value) > 2 && kv->value[1] == ':')
			path = strdup(kv->value);
		else if (!strchr(kv->value, '%'))
			path = volume_to_win(kv->value, letter);
		if (path)
			win_vars_set_folder(stated, kv->key + 7, path);
		free(path);
	}
	/* the store keeps the source's folders; the rest is Windows' defaults */
	win_vars_user_layer(v, NULL, su->name, profile, su->sid, stated, NULL);
	mig_vars_free(stated);
	free(profile);
}

int
restore_rules_add_context(struct restore_rules *r, struct win_offline *target,
			  const struct st_user *su, const struct win_user *target_user,
			  char letter)
{
	struct rr_context *x;
	r->letter = letter ? letter : 'C';
	if (!su) {
		x = &r->sys;
		if (r->sys_built)
			return 0;
	} else {
		struct rr_context *grown = realloc(r->users, (r->nusers + 1) * sizeof(*grown));
		if (!grown)
			return -1;
		r->users = grown;
		x = &r->users[r->nusers++];
		memset(x, 0, sizeof(*x));
		x->sid = strdup(su->sid);
	}
	x->vars = mig_vars_new();
	if (!x->vars || win_rules_host_init(&x->host, target, target_user) < 0)
		return -1;
	x->host_ok = true;
	/* The source's system folders are not in the store: the target's, through
	 * the resolver scan and explain use; then the user's folders from the store. */
	char *defaulted = NULL;
	win_vars_for_system(x->vars, target, r->letter, su ? NULL : &defaulted);
	if (defaulted) {
		char *msg = NULL;
		if (asprintf(&msg, "variables: the target's SOFTWARE hive lacks some values; "
			     "Windows' defaults stand in: %s", defaulted) >= 0)
			mig_diags_add(r->diags, MIG_DIAG_WARNING, NULL, 0, msg);
		free(msg);
	}
	free(defaulted);
	if (su)
		restore_rules_user_vars(x->vars, su, r->letter);
	if (!su)
		r->sys_built = true;
	if (mig_matcher_build(r->rs, r->cfg, su ? MIG_CTX_USER : MIG_CTX_SYSTEM, x->vars, &x->host.host,
			     MIG_BUILD_IGNORE_DETECTION, &x->m, r->diags) < 0) {
		x->m = NULL;
		return -1;
	}
	/* Into restore's log, once each (scan lists them in report.json). */
	for (size_t i = 0; i < mig_matcher_unresolved_count(x->m); i++) {
		const struct mig_unresolved *u = mig_matcher_unresolved(x->m, i);
		char *msg = NULL;
		if (asprintf(&msg, "%%%s%% is not defined: the %s pattern \"%s\" %s", u->variable,
			     mig_rule_kind_name(u->kind), u->source,
			     u->kept ? "is kept matching more" : "is dropped") < 0)
			continue;
		bool seen = false;
		for (size_t k = 0; k < mig_diags_count(r->diags) && !seen; k++) {
			const struct mig_diag *g = mig_diags_get(r->diags, k);
			seen = g->line == u->line && g->file && !strcmp(g->file, u->file) &&
			       !strcmp(g->msg, msg);
		}
		if (!seen)
			mig_diags_add(r->diags, MIG_DIAG_WARNING, u->file, u->line, msg);
		free(msg);
	}
	return 0;
}

static const struct rr_context *
context_of(const struct restore_rules *r, const char *owner)
{
	if (!owner || !strcasecmp(owner, ST_OWNER_SYSTEM))
		return r->sys_built ? &r->sys : NULL;
	for (size_t i = 0; i < r->nusers; i++)
		if (r->users[i].sid && !strcasecmp(r->users[i].sid, owner))
			return &r->users[i];
	return NULL;
}

/* ----------------------------------------------------------- verdicts -- */

void
restore_verdict_clear(struct restore_verdict *v)
{
	free(v->moved);
	free(v->moved_win);
	free(v->moved_name);
	memset(v, 0, sizeof(*v));
}

static void
rule_text(const struct mig_rule_ref *ref, char *buf, size_t len)
{
	snprintf(buf, len, "%s:%u %s%s%s (component \"%s\")", base_name(ref->file), ref->line,
		 mig_rule_kind_name(ref->kind), ref->helper ? " " : "", ref->helper ? ref->helper : "",
		 ref->component ? ref->component : "");
}

/* Is the component that took the object at capture switched off by
 * Config.xml, with no enabled component of the restore rules taking it? */
static bool
disabled_by_config(const struct restore_rules *r, const char *decision, const struct mig_decision *d,
		   char *why, size_t len)
{
	char *file, *comp;
	if (!r->cfg || restore_decision_component(decision, &file, &comp) < 0)
		return false;
	const char *id = NULL;
	for (size_t i = 0; i < mig_ruleset_component_count(r->rs); i++) {
		const struct mig_component_info *ci = mig_ruleset_component(r->rs, i);
		if (ci->display_name && !strcasecmp(ci->display_name, comp) &&
		    !strcasecmp(base_name(ci->file), file)) {
			id = ci->id;
			break;
		}
	}
	bool off = mig_config_component_enabled(r->cfg, id, comp) == 0;
	/* "migrate=no" removes that component only: another enabled one may take it. */
	if (off && d && d->outcome == MIG_INCLUDED)
		off = false;
	if (off)
		set_why(why, len, "component \"%s\" disabled in Config.xml", comp);
	free(file);
	free(comp);
	return off;
}

static void
merge_of(const struct mig_decision *d, struct restore_verdict *v)
{
	const struct mig_rule_ref *m = d->by_kind[MIG_RULE_MERGE];
	if (!m || !m->helper)
		return;
	if (!strcasecmp(m->helper, "SourcePriority"))
		v->merge = RESTORE_MERGE_SOURCE;
	else if (!strcasecmp(m->helper, "DestinationPriority"))
		v->merge = RESTORE_MERGE_DESTINATION;
	else
		set_why(v->note, sizeof(v->note), "merge %s (%s:%u) is not applied; USMT's default is "
			"used", m->helper, base_name(m->file), m->line);
	rule_text(m, v->merge_rule, sizeof(v->merge_rule));
}

int
restore_rules_file(const struct restore_rules *r, const struct st_file *f,
		   struct restore_verdict *v)
{
	memset(v, 0, sizeof(*v));
	const struct rr_context *x = context_of(r, f->owner);
	struct mig_decision d;
	char *win = volume_to_win(f->path, r->letter ? r->letter : 'C');
	if (!win)
		return -1;
	bool dir = f->attributes & 0x10;
	char *slash = strrchr(win, '\\');
	bool decided = false;
	if (x && x->m) {
		if (dir || !slash) {
			decided = mig_matcher_decide(x->m, MIG_OBJ_FILE, win, NULL, &d) == 0;
			/* A folder whose whole content a RelativeMove moves ("X\* [*]")
			 * moves with it, so no empty folder stays behind. */
			struct mig_decision all;
			if (decided && !d.by_kind[MIG_RULE_LOCATION_MODIFY] &&
			    mig_matcher_decide(x->m, MIG_OBJ_FILE, win, "*", &all) == 0 &&
			    all.by_kind[MIG_RULE_LOCATION_MODIFY] &&
			    all.by_kind[MIG_RULE_LOCATION_MODIFY]->helper &&
			    !strcasecmp(all.by_kind[MIG_RULE_LOCATION_MODIFY]->helper, "RelativeMove"))
				d.by_kind[MIG_RULE_LOCATION_MODIFY] = all.by_kind[MIG_RULE_LOCATION_MODIFY];
		} else {
			*slash = '\0';
			decided = mig_matcher_decide(x->m, MIG_OBJ_FILE, win, slash + 1, &d) == 0;
			*slash = '\\';
		}
	}
	if (!dir && disabled_by_config(r, f->decision, decided ? &d : NULL, v->why, sizeof(v->why))) {
		v->disabled = true;
		free(win);
		return 0;
	}
	if (!decided) {
		free(win);
		return 0;
	}
	if (!dir)
		merge_of(&d, v);
	const struct mig_rule_ref *lm = d.by_kind[MIG_RULE_LOCATION_MODIFY];
	if (lm) {
		char err[512];
		rule_text(lm, v->move_rule, sizeof(v->move_rule));
		char *to = restore_location_modify(lm->helper, lm->nargs, lm->args, win, x->vars, err,
						   sizeof(err));
		if (!to && err[0]) {
			v->refused = true;
			set_why(v->why, sizeof(v->why), "%s: %s", v->move_rule, err);
		} else if (to) {
			char L = r->letter ? r->letter : 'C';
			if (strlen(to) < 3 || toupper((unsigned char)to[0]) != L || to[1] != ':' ||
			    to[2] != '\\') {
				v->refused = true;
				set_why(v->why, sizeof(v->why), "%s moves it to %s, which is not on the "
					"restored volume (%c:)", v->move_rule, to, L);
			} else {
				v->moved = strdup(to + 3);
				for (char *p = v->moved; p && *p; p++)
					if (*p == '\\')
						*p = '/';
				size_t n = v->moved ? strlen(v->moved) : 0;
				while (n && v->moved[n - 1] == '/')
					v->moved[--n] = '\0';
				v->moved_win = strdup(to);
			}
			free(to);
		}
	}
	free(win);
	return 0;
}

int
restore_rules_value(const struct restore_rules *r, const struct st_reg_value *val,
		    struct restore_verdict *v)
{
	memset(v, 0, sizeof(*v));
	const struct rr_context *x = context_of(r, val->owner);
	struct mig_decision d;
	bool decided = x && x->m &&
		       mig_matcher_decide(x->m, MIG_OBJ_REGISTRY, val->key, val->name, &d) == 0;
	if (disabled_by_config(r, val->decision, decided ? &d : NULL, v->why, sizeof(v->why))) {
		v->disabled = true;
		return 0;
	}
	if (!decided)
		return 0;
	merge_of(&d, v);
	const struct mig_rule_ref *lm = d.by_kind[MIG_RULE_LOCATION_MODIFY];
	if (!lm)
		return 0;
	char err[512];
	rule_text(lm, v->move_rule, sizeof(v->move_rule));
	if (lm->helper && !strcasecmp(lm->helper, "ExactMove") && lm->nargs >= 1 && lm->args[0] &&
	    !strchr(lm->args[0], '%')) {
		char *node, *leaf;
		split_location(lm->args[0], &node, &leaf);
		v->moved = node;
		if (leaf && *leaf)
			v->moved_name = leaf;
		else
			free(leaf);
		return 0;
	}
	if (lm->helper && !strcasecmp(lm->helper, "Move")) {
		v->refused = true;
		set_why(v->why, sizeof(v->why), "%s: Move is for files", v->move_rule);
		return 0;
	}
	char *to = restore_location_modify(lm->helper, lm->nargs, lm->args, val->key, x->vars, err,
					   sizeof(err));
	if (!to && err[0]) {
		v->refused = true;
		set_why(v->why, sizeof(v->why), "%s: %s", v->move_rule, err);
	}
	v->moved = to;
	return 0;
}

/* ---------------------------------------------------- destinationCleanup -- */

static bool
present_has(const struct restore_rules *r, const char *key)
{
	for (size_t i = r->npresent; i-- > 0;)
		if (!strcasecmp(r->present[i], key))
			return true;
	return false;
}

static void
present_add(struct restore_rules *r, const char *owner, const char *file, const char *comp)
{
	char *key;
	if (!file || !comp || asprintf(&key, "%s|%s|%s", owner, base_name(file), comp) < 0)
		return;
	if (present_has(r, key)) {
		free(key);
		return;
	}
	char **grown = realloc(r->present, (r->npresent + 1) * sizeof(*grown));
	if (!grown) {
		free(key);
		return;
	}
	r->present = grown;
	grown[r->npresent++] = key;
}

static void
present_decision(struct restore_rules *r, const char *owner, const char *decision)
{
	char *file, *comp;
	if (restore_decision_component(decision, &file, &comp) == 0) {
		present_add(r, owner, file, comp);
		free(file);
		free(comp);
	}
}

void
restore_rules_index(struct restore_rules *r, struct st_reader *rd)
{
	char L = r->letter ? r->letter : 'C';
	for (size_t i = 0; i < st_reader_file_count(rd); i++) {
		const struct st_file *f = st_reader_file(rd, i);
		const struct rr_context *x = context_of(r, f->owner);
		present_decision(r, f->owner, f->decision);
		char *win = x && x->m ? volume_to_win(f->path, L) : NULL;
		char *slash = win ? strrchr(win, '\\') : NULL;
		struct mig_decision d;
		if (slash && !(f->attributes & 0x10)) {
			*slash = '\0';
			if (mig_matcher_decide(x->m, MIG_OBJ_FILE, win, slash + 1, &d) == 0 &&
			    d.outcome == MIG_INCLUDED && d.rule)
				present_add(r, f->owner, d.rule->file, d.rule->component);
		}
		free(win);
	}
	for (size_t i = 0; i < st_reader_registry_count(rd); i++) {
		const struct st_reg_value *v = st_reader_registry(rd, i);
		const struct rr_context *x = context_of(r, v->owner);
		struct mig_decision d;
		present_decision(r, v->owner, v->decision);
		if (x && x->m && mig_matcher_decide(x->m, MIG_OBJ_REGISTRY, v->key, v->name, &d) == 0 &&
		    d.outcome == MIG_INCLUDED && d.rule)
			present_add(r, v->owner, d.rule->file, d.rule->component);
	}
}

static bool
ref_present(const struct restore_rules *r, const char *owner, const struct mig_rule_ref *ref)
{
	char key[1024];
	snprintf(key, sizeof(key), "%s|%s|%s", owner, base_name(ref->file),
		 ref->component ? ref->component : "");
	return present_has(r, key);
}

int
restore_rules_cleanup_file(const struct restore_rules *r, const char *owner, const char *win_path)
{
	const struct rr_context *x = context_of(r, owner);
	struct mig_decision d;
	char *copy = strdup(win_path), *slash = copy ? strrchr(copy, '\\') : NULL;
	int hit = 0;
	if (x && x->m && slash) {
		*slash = '\0';
		if (mig_matcher_decide(x->m, MIG_OBJ_FILE, copy, slash + 1, &d) == 0 &&
		    d.by_kind[MIG_RULE_DESTINATION_CLEANUP] &&
		    ref_present(r, owner, d.by_kind[MIG_RULE_DESTINATION_CLEANUP]))
			hit = 1;
	}
	free(copy);
	return hit;
}

char *
restore_rules_literal_prefix(const char *pattern)
{
	char *node, *leaf;
	split_location(pattern, &node, &leaf);
	free(leaf);
	if (!node)
		return NULL;
	char *wild = strpbrk(node, "*?");
	if (wild) {
		*wild = '\0';
		char *cut = strrchr(node, '\\');
		if (cut)
			*cut = '\0';
		else
			node[0] = '\0';
	}
	size_t n = strlen(node);
	while (n && node[n - 1] == '\\')
		node[--n] = '\0';
	return node;
}

size_t
restore_rules_cleanup(const struct restore_rules *r, const char *owner, size_t i,
		      enum mig_obj_type *type, const char **pattern, char *rule, size_t rulelen)
{
	const struct rr_context *x = r ? context_of(r, owner) : NULL;
	size_t seen = 0;
	for (size_t k = 0; x && x->m && k < mig_matcher_pattern_count(x->m); k++) {
		const struct mig_rule_ref *ref = mig_matcher_pattern(x->m, k);
		if (!ref || ref->kind != MIG_RULE_DESTINATION_CLEANUP ||
		    !ref_present(r, owner ? owner : ST_OWNER_SYSTEM, ref))
			continue;
		if (seen++ == i) {
			*type = ref->type;
			*pattern = ref->pattern;
			if (rule)
				rule_text(ref, rule, rulelen);
			return 1;
		}
	}
	return 0;
}

struct clean_item {
	char *key;
	char *value;   /* NULL: the key itself */
};

struct clean_list {
	struct clean_item *v;
	size_t n;
};

static int
collect(reg_hive *h, const char *key_path, reg_key k, const struct reg_value *value, void *opaque)
{
	(void)h;
	(void)k;
	struct clean_list *l = opaque;
	struct clean_item *g = realloc(l->v, (l->n + 1) * sizeof(*g));
	if (!g)
		return 1;
	l->v = g;
	g[l->n].key = strdup(key_path);
	g[l->n].value = value ? strdup(value->name ? value->name : "") : NULL;
	l->n++;
	return 0;
}

int
restore_rules_clean_hive(reg_hive *h, const char *pattern, size_t *removed)
{
	struct clean_list l = { 0 };
	*removed = 0;
	int rc = reg_hive_match(h, pattern, collect, &l);
	/* "Key\* [*]": everything below Key goes, subkeys included. */
	char *node, *leaf;
	split_location(pattern, &node, &leaf);
	size_t nl = node ? strlen(node) : 0;
	bool subtree = leaf && !strcmp(leaf, "*") && nl >= 2 && !strcmp(node + nl - 2, "\\*");
	for (size_t i = 0; i < l.n; i++) {
		reg_key k;
		if (!l.v[i].key || reg_key_open(h, l.v[i].key, &k) != REG_OK)
			continue;
		if (l.v[i].value) {
			if (reg_key_delete_value(h, k, l.v[i].value) == REG_OK)
				(*removed)++;
		} else if (k != reg_hive_root(h) && reg_key_delete(h, k) == REG_OK) {
			(*removed)++;
		}
	}
	if (subtree) {
		node[nl - 2] = '\0';
		reg_key top, *subs = NULL;
		size_t ns = 0;
		if (!strpbrk(node, "*?") && reg_key_open(h, node, &top) == REG_OK &&
		    reg_key_subkeys(h, top, &subs, &ns) == REG_OK) {
			for (size_t i = 0; i < ns; i++)
				if (reg_key_delete(h, subs[i]) == REG_OK)
					(*removed)++;
			free(subs);
		}
	}
	free(node);
	free(leaf);
	for (size_t i = 0; i < l.n; i++) {
		free(l.v[i].key);
		free(l.v[i].value);
	}
	free(l.v);
	return rc == 0 || rc == 1 ? 0 : -1;
}

/* ------------------------------------------------------------ the rest -- */

int
restore_rules_mappings(const struct restore_rules *r, const struct restore_options *o,
		       struct restore_map **mu, size_t *nmu, struct restore_map **md, size_t *nmd)
{
	const mig_config *cfg = r ? r->cfg : NULL;
	const char *from, *to;
	size_t cu = 0, cd = 0;
	while (cfg && mig_config_user_mapping(cfg, cu, &from, &to) == 0)
		cu++;
	while (cfg && mig_config_domain_mapping(cfg, cd, &from, &to) == 0)
		cd++;
	*mu = calloc(o->mu_count + cu + 1, sizeof(**mu));
	*md = calloc(o->md_count + cd + 1, sizeof(**md));
	if (!*mu || !*md) {
		free(*mu);
		free(*md);
		*mu = *md = NULL;
		return -1;
	}
	*nmu = *nmd = 0;
	for (size_t i = 0; i < o->mu_count; i++)
		(*mu)[(*nmu)++] = o->mu[i];
	for (size_t i = 0; i < o->md_count; i++)
		(*md)[(*nmd)++] = o->md[i];
	/* The command line wins: a Config.xml user mapping is dropped when /mu
	 * names the same user or /md the user's domain. */
	for (size_t i = 0; i < cu; i++) {
		mig_config_user_mapping(cfg, i, &from, &to);
		bool shadowed = false;
		const char *bs = strchr(from, '\\');
		for (size_t k = 0; k < o->mu_count && !shadowed; k++) {
			const char *kb = strchr(o->mu[k].from, '\\');
			shadowed = !strcasecmp(kb ? kb + 1 : o->mu[k].from, bs ? bs + 1 : from);
		}
		for (size_t k = 0; k < o->md_count && !shadowed && bs; k++) {
			char dom[256];
			snprintf(dom, sizeof(dom), "%.*s", (int)(bs - from), from);
			shadowed = !fnmatch(o->md[k].from, dom, FNM_CASEFOLD);
		}
		if (!shadowed)
			(*mu)[(*nmu)++] = (struct restore_map){ from, to };
	}
	for (size_t i = 0; i < cd; i++) {
		mig_config_domain_mapping(cfg, i, &from, &to);
		(*md)[(*nmd)++] = (struct restore_map){ from, to };
	}
	return 0;
}

int
restore_rules_replace(struct nv_volume *vol, uint64_t parent, const char *name_path,
		      const char *name, const char *used, char *why, size_t whylen)
{
	uint64_t m;
	struct nv_inode *in;
	if (nv_lookup(vol, name_path, &m) != NV_OK) {
		/* gone meanwhile: just take the name */
		if (nv_rename(vol, parent, used, parent, name) == NV_OK)
			return 0;
		set_why(why, whylen, "%s", nv_last_error());
		return -1;
	}
	if (nv_stat(vol, m, &in) != NV_OK) {
		set_why(why, whylen, "%s", nv_last_error());
		return -1;
	}
	bool plain = !(in->kind & NV_IS_DIR) && !in->reparse_tag;
	nv_inode_free(in);
	if (!plain) {
		set_why(why, whylen, "it is a folder or a link, never replaced");
		return -1;
	}
	if (nv_rename(vol, parent, used, parent, name) != NV_OK) {
		set_why(why, whylen, "%s", nv_last_error());
		return -1;
	}
	return 0;
}

bool
restore_rules_keep_going(const struct restore_rules *r, const struct st_file *f, unsigned code,
			 bool keep_going)
{
	if (!r || !r->cfg)
		return keep_going;
	char *win = volume_to_win(f->path, r->letter ? r->letter : 'C');
	char *slash = win ? strrchr(win, '\\') : NULL;
	if (!slash) {
		free(win);
		return keep_going;
	}
	*slash = '\0';
	enum mig_error_action a = mig_config_error_action(r->cfg, MIG_OBJ_FILE, win, slash + 1, code);
	free(win);
	return a == MIG_ERR_NONFATAL ? true : a == MIG_ERR_FATAL ? false : keep_going;
}

void
restore_result_note(struct restore_result *res, FILE *log, const char *fmt, ...)
{
	char *s = NULL;
	va_list ap;
	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) < 0)
		s = NULL;
	va_end(ap);
	if (!s)
		return;
	char **grown = realloc(res->notes, (res->note_count + 1) * sizeof(*grown));
	if (!grown) {
		free(s);
		return;
	}
	res->notes = grown;
	grown[res->note_count++] = s;
	if (log)
		fprintf(log, "note: %s\n", s);
}
