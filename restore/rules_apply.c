/*
 * Restore-time rules as the run applies them (the rules themselves are
 * restore_rules.c): where a file or value goes, who wins a conflict, and
 * destinationCleanup before anything is restored.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "restore/internal.h"

/* ------------------------------------------------ restore-time rules -- */


/*
 * Restore-time rules for registry value @v: false when it is not restored
 * (listed); otherwise *@key and *@name may be moved (owned by c->value_verdict
 * until the next value) and *@merge says who wins.
 */
bool
rules_value(struct ctx *c, const struct st_reg_value *v, const char **key, const char **name,
	    enum restore_merge *merge)
{
	struct restore_verdict *rv = &c->value_verdict;
	restore_verdict_clear(rv);
	if (restore_rules_value(c->rules, v, rv) < 0) {
		nomem(c);
		return false;
	}
	if (rv->note[0])
		restore_result_note(c->res, c->o->log, "%s [%s]: %s", v->key, v->name, rv->note);
	if (rv->disabled) {
		restore_result_note(c->res, c->o->log, "%s [%s]: not restored: %s", v->key, v->name,
				    rv->why);
		c->res->disabled++;
		return false;
	}
	if (rv->refused) {
		problem(c, "%s [%s]: not restored: %s", v->key, v->name, rv->why);
		return false;
	}
	if (rv->moved) {
		logf_(c, "%s [%s]: moved to %s [%s] by %s", v->key, v->name, rv->moved,
		      rv->moved_name ? rv->moved_name : v->name, rv->move_rule);
		*key = rv->moved;
		if (rv->moved_name)
			*name = rv->moved_name;
		c->res->moved++;
	}
	*merge = rv->merge;
	return true;
}

/*
 * Where store file @f goes once the restore-time rules have spoken
 * (restore_rules.c): NULL when it is not restored (its user is not, Config.xml
 * switched its component off, or a locationModify would take it out of its
 * profile — listed).  A moved file goes through relocate() like any other,
 * so the same checks apply to it.
 */
char *
rules_destination(struct ctx *c, const struct st_file *f, struct plan **p, const char **root,
		  enum restore_merge *merge)
{
	char *dest = relocate(c, f, p, root);
	struct restore_verdict v;
	if (!dest || !c->rules)
		return dest;
	if (restore_rules_file(c->rules, f, &v) < 0) {
		free(dest);
		nomem(c);
		return NULL;
	}
	if (v.note[0])
		restore_result_note(c->res, c->o->log, "%s: %s", f->path, v.note);
	if (v.disabled) {
		restore_result_note(c->res, c->o->log, "%s: not restored: %s", f->path, v.why);
		c->res->disabled++;
		free(dest);
		dest = NULL;
	} else if (v.refused) {
		problem(c, "%s: not restored: %s", f->path, v.why);
		free(dest);
		dest = NULL;
	} else if (v.moved) {
		struct st_file moved = *f;
		struct plan *mp;
		const char *mroot;
		moved.path = v.moved;
		char *to = relocate(c, &moved, &mp, &mroot);
		if (!to || (**root && strcasecmp(mroot, *root))) {
			problem(c, "%s: not restored: %s moves it to %s, outside %s's profile %s; nothing "
				"is written there", f->path, v.move_rule, v.moved_win ? v.moved_win : v.moved,
				*p && (*p)->target_name ? (*p)->target_name : "its user", *root);
			free(to);
			free(dest);
			dest = NULL;
		} else {
			logf_(c, "%s: moved to %s by %s", f->path, to, v.move_rule);
			free(dest);
			dest = to;
			c->res->moved++;
		}
	}
	*merge = v.merge;
	restore_verdict_clear(&v);
	return dest;
}

/* The hive a destinationCleanup or restored key @key belongs to, for @p (NULL:
 * the machine); *@rest is the path inside it (in *@owned when rewritten). */
static reg_hive *
cleanup_hive(struct ctx *c, struct plan *p, const char *key, const char **rest, bool **dirty,
	     char **owned)
{
	*owned = NULL;
	*rest = key;
	if (p && (strip_prefix(rest, "HKCU") || strip_prefix(rest, "HKEY_CURRENT_USER"))) {
		if (strip_prefix(rest, "Software\\Classes")) {
			if (!p->usrclass && p->usrclass_local)
				p->usrclass = open_rw(c, p->usrclass_local, "UsrClass.dat");
			*dirty = &p->usrclass_dirty;
			return p->usrclass;
		}
		if (!p->ntuser && p->ntuser_local)
			p->ntuser = open_rw(c, p->ntuser_local, "NTUSER.DAT");
		*dirty = &p->ntuser_dirty;
		return p->ntuser;
	}
	if (!p && (strip_prefix(rest, "HKLM") || strip_prefix(rest, "HKEY_LOCAL_MACHINE"))) {
		if (strip_prefix(rest, "SOFTWARE")) {
			*dirty = &c->software_dirty;
			return c->software;
		}
		if (strip_prefix(rest, "SYSTEM")) {
			if (strip_prefix(rest, "CurrentControlSet")) {
				const char *cs = c->win->info.control_set ? c->win->info.control_set : "ControlSet001";
				if (asprintf(owned, "%s%s%s", cs, **rest ? "\\" : "", *rest) < 0) {
					*owned = NULL;
					nomem(c);
					return NULL;
				}
				*rest = *owned;
			}
			*dirty = &c->system_dirty;
			return c->system;
		}
	}
	return NULL;
}

struct cleanup_walk {
	struct ctx *c;
	const char *owner;
	const char *src;       /* the walked folder, source-side Windows path */
	struct cleanup_hit {
		uint64_t parent;
		char *name, *path;
	} *v;
	size_t n;
};

static int
cleanup_visit(const struct nv_entry *e, void *opaque)
{
	struct cleanup_walk *w = opaque;
	if (!e->inode)
		return NV_WALK_CONTINUE;
	if (e->inode->reparse_tag) /* never followed, never deleted */
		return (e->inode->kind & NV_IS_DIR) ? NV_WALK_SKIP : NV_WALK_CONTINUE;
	if (e->inode->kind & NV_IS_DIR)
		return NV_WALK_CONTINUE;
	char *win;
	if (asprintf(&win, "%s\\%s", w->src, e->path) < 0) {
		nomem(w->c);
		return NV_WALK_STOP;
	}
	for (char *q = win; *q; q++)
		if (*q == '/')
			*q = '\\';
	if (restore_rules_cleanup_file(w->c->rules, w->owner, win)) {
		struct cleanup_hit *g = realloc(w->v, (w->n + 1) * sizeof(*g));
		if (!g) {
			free(win);
			nomem(w->c);
			return NV_WALK_STOP;
		}
		w->v = g;
		g[w->n].parent = e->parent;
		g[w->n].name = strdup(e->name);
		g[w->n].path = strdup(e->path);
		if (!g[w->n++].name)
			nomem(w->c); /* then nothing is removed */
	}
	free(win);
	return NV_WALK_CONTINUE;
}

/* destinationCleanup of files: the target folder that the pattern's fixed
 * part becomes (through the same relocation as restored files, so inside the
 * user's profile), walked without following links; every plain file a
 * cleanup pattern names is unlinked. */
static void
cleanup_files(struct ctx *c, struct plan *p, const char *pattern, const char *rule)
{
	const char *owner = p ? p->su->sid : ST_OWNER_SYSTEM;
	char letter = c->info->volume_letter ? c->info->volume_letter : 'C';
	char *src = restore_rules_literal_prefix(pattern);
	if (!src) {
		nomem(c);
		return;
	}
	if (strlen(src) < 3 || toupper((unsigned char)src[0]) != letter || src[1] != ':' ||
	    src[2] != '\\') {
		restore_result_note(c->res, c->o->log, "%s: not applied (%s): not a folder of the "
				    "restored volume %c:", pattern, rule, letter);
		free(src);
		return;
	}
	char *vol_src = strdup(src + 3);
	if (!vol_src) {
		free(src);
		nomem(c);
		return;
	}
	for (char *q = vol_src; q && *q; q++)
		if (*q == '\\')
			*q = '/';
	struct st_file fake = { .path = vol_src, .owner = owner, .attributes = NV_ATTR_DIRECTORY };
	struct plan *fp;
	const char *root;
	char *dir = vol_src ? relocate(c, &fake, &fp, &root) : NULL;
	uint64_t m;
	if (!dir || (p && !*root) || (*dir && st_check_path(dir) != ST_OK) || !below(dir, root)) {
		restore_result_note(c->res, c->o->log, "%s: not applied (%s): %s is outside %s", pattern,
				    rule, src, p ? "the user's profile" : "the volume");
	} else if (nv_lookup(c->vol, dir, &m) != NV_OK || (*dir && !real_folders(c, dir))) {
		logf_(c, "destinationCleanup %s (%s): %s is not on the target (or is a link), nothing to "
		      "clean", pattern, rule, dir);
	} else {
		struct cleanup_walk w = { c, owner, src, NULL, 0 };
		nv_walk(c->vol, dir, cleanup_visit, &w);
		for (size_t i = 0; i < w.n; i++) {
			if (c->res->outcome != RESTORE_OK) {
				/* out of memory: nothing more is removed */
			} else if (w.v[i].name && nv_unlink(c->vol, w.v[i].parent, w.v[i].name) == NV_OK) {
				c->res->cleaned++;
				logf_(c, "destinationCleanup (%s): removed %s/%s", rule, dir, w.v[i].path);
			} else {
				problem(c, "%s/%s: destinationCleanup (%s) could not remove it: %s", dir,
					w.v[i].path ? w.v[i].path : "?", rule, nv_last_error());
			}
			free(w.v[i].name);
			free(w.v[i].path);
		}
		free(w.v);
	}
	free(dir);
	free(vol_src);
	free(src);
}

/* destinationCleanup of one context (@p NULL: the system), before anything is restored. */
void
rules_cleanup(struct ctx *c, struct plan *p)
{
	const char *owner = p ? p->su->sid : ST_OWNER_SYSTEM;
	enum mig_obj_type type;
	const char *pattern;
	char rule[320];
	for (size_t i = 0; restore_rules_cleanup(c->rules, owner, i, &type, &pattern, rule, sizeof(rule)); i++) {
		if (type == MIG_OBJ_FILE) {
			cleanup_files(c, p, pattern, rule);
			continue;
		}
		if (type != MIG_OBJ_REGISTRY) {
			restore_result_note(c->res, c->o->log, "%s: not applied (%s): only files and "
					    "registry are cleaned", pattern, rule);
			continue;
		}
		if (!p && (!strncasecmp(pattern, "HKCU", 4) || !strncasecmp(pattern, "HKEY_CURRENT_USER", 17)))
			continue; /* a UserAndSystem component's HKCU: each user's context cleans it */
		const char *rest;
		bool *dirty = NULL;
		char *owned;
		reg_hive *h = cleanup_hive(c, p, pattern, &rest, &dirty, &owned);
		size_t removed = 0;
		if (!h && p && rest != pattern) {
			logf_(c, "destinationCleanup %s (%s): %s has no such hive yet, nothing to clean",
			      pattern, rule, p->target_name);
		} else if (!h) {
			restore_result_note(c->res, c->o->log, "%s: not applied (%s): only HKCU, "
					    "HKLM\\SOFTWARE and HKLM\\SYSTEM are cleaned%s", pattern, rule,
					    p ? " for a user" : "");
		} else if (restore_rules_clean_hive(h, rest, &removed) < 0) {
			problem(c, "%s: destinationCleanup (%s) failed: %s", pattern, rule, reg_hive_errmsg(h));
		} else if (removed) {
			*dirty = true;
			c->res->cleaned += removed;
			logf_(c, "destinationCleanup %s (%s): %zu removed%s%s", pattern, rule, removed,
			      p ? " for " : "", p ? p->target_name : "");
		}
		free(owned);
	}
}

/* Compile the rules for the system and each restored user, before any write. */
enum restore_outcome
rules_prepare(struct ctx *c)
{
	char letter = c->info->volume_letter ? c->info->volume_letter : 'C';
	if (restore_rules_add_context(c->rules, c->win, NULL, NULL, letter) < 0)
		goto nomem;
	for (size_t i = 0; i < c->nplans; i++) {
		struct plan *p = &c->plans[i];
		if (p->restore &&
		    restore_rules_add_context(c->rules, c->win, p->su,
					      p->create ? NULL : target_profile_of(c, p->target_sid),
					      letter) < 0)
			goto nomem;
	}
	restore_rules_index(c->rules, c->r);
	const mig_diags *d = restore_rules_diags(c->rules);
	for (size_t i = 0; c->o->log && i < mig_diags_count(d); i++) {
		const struct mig_diag *g = mig_diags_get(d, i);
		if (g->level >= MIG_DIAG_WARNING)
			logf_(c, "rules: %s:%u: %s", g->file ? g->file : "-", g->line, g->msg);
	}
	return RESTORE_OK;
nomem:
	outcome(c, RESTORE_INTERNAL, "the restore-time rules could not be compiled (out of memory)");
	return c->res->outcome;
}
