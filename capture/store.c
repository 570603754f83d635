/* The store: a local folder prepared (or an old store replaced), or a
 * hard-link store on the volume; then created, and told the users. */
#include <dirent.h>
#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "capture/internal.h"

/* -------------------------------------------------------------- store -- */

static int
rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(path);
}

/* A local store folder: empty or absent is fine; a store with --overwrite is
 * removed; anything else is refused. */
static int
prepare_local_store(struct scan *s)
{
	const char *p = s->o->store;
	struct stat sb;
	if (stat(p, &sb) < 0)
		return 0;
	if (!S_ISDIR(sb.st_mode)) {
		scan_fail(s, CAPTURE_ERR_STORE, "the store location %s exists and is not a folder", p);
		return -1;
	}
	DIR *d = opendir(p);
	if (!d) {
		scan_fail(s, CAPTURE_ERR_STORE, "the store folder %s cannot be read: %s", p, strerror(errno));
		return -1;
	}
	bool empty = true, looks_like_store = false;
	struct dirent *de;
	while ((de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		empty = false;
		if (!strcmp(de->d_name, "USMT") || !strcmp(de->d_name, "catalog") ||
		    !strcmp(de->d_name, "report.json"))
			looks_like_store = true;
	}
	closedir(d);
	if (empty)
		return 0;
	if (!s->o->overwrite) {
		scan_fail(s, CAPTURE_ERR_STORE_EXISTS, "the store folder %s already holds data; give %s to "
		     "replace it", p, s->o->usmt ? "/o" : "--overwrite");
		return -1;
	}
	if (!looks_like_store) {
		scan_fail(s, CAPTURE_ERR_STORE, "the folder %s holds files that are not a winstate store; "
		     "nothing was removed (choose an empty or new folder)", p);
		return -1;
	}
	char usmt[4096], other[4096];
	snprintf(usmt, sizeof(usmt), "%s/USMT", p);
	if (nftw(usmt, rm_entry, 16, FTW_DEPTH | FTW_PHYS) < 0 && errno != ENOENT) {
		scan_fail(s, CAPTURE_ERR_STORE, "cannot remove the old store %s: %s", usmt, strerror(errno));
		return -1;
	}
	snprintf(other, sizeof(other), "%s/catalog", p);
	unlink(other);
	snprintf(other, sizeof(other), "%s/report.json", p);
	unlink(other);
	LOG_INFO(s, "removed the previous store in %s (--overwrite)", p);
	return 0;
}

struct unlink_list {
	uint64_t *parents;
	char **names;
	size_t n, cap;
	char *damaged; /* the first entry that could not be read, with why */
	bool stopped;  /* the list is incomplete: nothing may be removed */
	const char *root; /* the store's path, for the sentence */
	struct nv_volume *vol;
};

static int
collect_for_unlink(const struct nv_entry *e, void *ctx)
{
	struct unlink_list *l = ctx;
	if (!e->inode) {
		/* A folder that cannot be listed (an index block a killed capture left
		 * half-written: libntfs-3g has no journal) cannot be emptied, so the
		 * store cannot be removed; say where, and stop before unlinking. */
		if (asprintf(&l->damaged, "%s/%s%s: %s", l->root, e->path, *e->name ? "" : " (its folder listing)",
			     e->error ? e->error : "cannot be read") < 0)
			l->damaged = NULL;
		l->stopped = true;
		return NV_WALK_STOP;
	}
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 256;
		uint64_t *p = realloc(l->parents, cap * sizeof(*p));
		if (p)
			l->parents = p;
		char **n = realloc(l->names, cap * sizeof(*n));
		if (n)
			l->names = n;
		if (!p || !n) {
			l->stopped = true;
			return NV_WALK_STOP;
		}
		l->cap = cap;
	}
	/* A capture killed inside a rename (libntfs-3g has no journal) can leave
	 * a record naming a link its folder does not list, which libntfs-3g then
	 * cannot unlink: found here, before anything is removed. */
	for (size_t i = 0; i < e->inode->name_count; i++) {
		const struct nv_name *nm = &e->inode->names[i];
		uint64_t found;
		if (nm->parent != e->parent || !strcmp(nm->name, e->name))
			continue;
		enum nv_status st = nv_lookup_in(l->vol, nm->parent, nm->name, &found);
		if (st == NV_OK && found == e->mref)
			continue;
		if (st == NV_ERR_NOMEM) {
			l->stopped = true;
			return NV_WALK_STOP;
		}
		if (asprintf(&l->damaged, "%s/%s: its record also names it \"%s\", which its folder "
			     "does not list", l->root, e->path, nm->name) < 0)
			l->damaged = NULL;
		l->stopped = true;
		return NV_WALK_STOP;
	}
	l->parents[l->n] = e->parent;
	if (!(l->names[l->n] = strdup(e->name))) {
		l->stopped = true;
		return NV_WALK_STOP;
	}
	l->n++;
	return NV_WALK_CONTINUE;
}

/* Remove an old hard-link store: only names (the files' other names stay). */
static int
remove_link_store(struct scan *s, const char *rel)
{
	struct unlink_list l = { .root = rel, .vol = s->vol };
	int rc = 0;
	uint64_t mref;
	if (nv_walk(s->vol, rel, collect_for_unlink, &l) != NV_OK) {
		scan_fail(s, CAPTURE_ERR_STORE, "cannot list the old store %s: %s", rel, nv_last_error());
		rc = -1;
	} else if (l.stopped && !l.damaged) {
		scan_out_of_memory(s, "listing the old store");
		rc = -1;
	} else if (l.stopped) {
		scan_fail(s, CAPTURE_ERR_STORE, "cannot remove the old store %s: %s; the volume is damaged "
		     "there (most likely by an interrupted capture). Nothing was removed: capture into "
		     "another folder, and repair this volume with chkdsk /f from Windows", rel,
		     l.damaged);
		rc = -1;
	}
	/* Children come after parents in the walk: remove in reverse. */
	for (size_t i = l.n; i-- > 0 && !rc;)
		if (nv_unlink(s->vol, l.parents[i], l.names[i]) != NV_OK) {
			scan_fail(s, CAPTURE_ERR_STORE, "cannot remove %s from the old store %s: %s; %zu of its "
			     "%zu names were removed before it, so the store is no longer whole: capture into "
			     "another folder, and repair this volume with chkdsk /f from Windows", l.names[i],
			     rel, nv_last_error(), l.n - 1 - i, l.n);
			rc = -1;
		}
	if (!rc) {
		char *parent = strdup(rel), *slash = parent ? strrchr(parent, '/') : NULL;
		const char *name = slash ? slash + 1 : rel;
		if (slash)
			*slash = 0;
		if (!parent) {
			scan_out_of_memory(s, "removing the old store");
			rc = -1;
		} else if (nv_lookup(s->vol, slash ? parent : "", &mref) != NV_OK ||
		    nv_unlink(s->vol, mref, name) != NV_OK) {
			scan_fail(s, CAPTURE_ERR_STORE, "cannot remove the old store folder %s: %s", rel,
			     nv_last_error());
			rc = -1;
		}
		free(parent);
	}
	for (size_t i = 0; i < l.n; i++)
		free(l.names[i]);
	free(l.names);
	free(l.parents);
	free(l.damaged);
	return rc;
}

/* "MigStore", "C:\MigStore", "/MigStore" on the volume -> volume path. */
static char *
hardlink_store_path(struct scan *s)
{
	const char *p = s->o->store;
	if (p[0] && p[1] == ':' && (p[2] == '\\' || p[2] == '/')) {
		if ((p[0] & ~0x20) != 'C') {
			scan_fail(s, CAPTURE_ERR_HARDLINK, "a hard-link store must be on the volume it captures "
			     "(C:); %s is on another volume", p);
			return NULL;
		}
		p += 3;
	} else if (p[0] == '/' || p[0] == '.') {
		scan_fail(s, CAPTURE_ERR_HARDLINK, "a hard-link store must be on the volume it captures: give "
		     "its folder relative to that volume's root (for example MigStore), not the local "
		     "path %s, which is on another filesystem", p);
		return NULL;
	}
	/* Volume-relative, also for a Windows.old capture (the store sits beside it). */
	char *out = strdup(p);
	if (!out) {
		scan_out_of_memory(s, "naming the hard-link store");
		return NULL;
	}
	for (char *c = out; *c; c++)
		if (*c == '\\')
			*c = '/';
	size_t n = strlen(out);
	while (n && out[n - 1] == '/')
		out[--n] = 0;
	if (!n) {
		scan_fail(s, CAPTURE_ERR_HARDLINK, "the hard-link store cannot be the volume's root");
		free(out);
		return NULL;
	}
	return out;
}


enum capture_outcome
scan_create_store(struct scan *s)
{
	const struct capture_options *o = s->o;
	struct st_create_options co = { 0 };
	char winver[256];
	snprintf(winver, sizeof(winver), "%s %s (build %s)",
		 s->w->info.product_name ? s->w->info.product_name : "Windows",
		 s->w->info.display_version ? s->w->info.display_version : "",
		 s->w->info.current_build ? s->w->info.current_build : "?");
	co.computer = s->w->info.computer_name ? s->w->info.computer_name : "";
	co.windows_version = winver;
	co.winstate_version = WINSTATE_VERSION;
	co.volume_letter = 'C';
	co.start_time = (int64_t)s->start;
	co.key = o->key;
	co.kdf_ops = o->kdf_ops;
	co.kdf_mem = o->kdf_mem;
	if (o->hardlink) {
		if (!(s->store_rel = hardlink_store_path(s)))
			return s->fail;
		uint64_t mref;
		if (nv_lookup(s->vol, s->store_rel, &mref) == NV_OK) {
			if (!o->overwrite) {
				scan_fail(s, CAPTURE_ERR_STORE_EXISTS, "%s already exists on %s; give %s to replace "
				     "it", s->store_rel, o->source, o->usmt ? "/o" : "--overwrite");
				return s->fail;
			}
			if (remove_link_store(s, s->store_rel) < 0)
				return s->fail;
		}
		co.format = ST_FORMAT_HARDLINK;
		co.path = s->store_rel;
		co.volume = s->vol;
		co.allow_efs = o->efs == CAPTURE_EFS_HARDLINK;
	} else {
		if (prepare_local_store(s) < 0)
			return s->fail;
		co.format = o->nocompress ? ST_FORMAT_DIRECTORY : ST_FORMAT_COMPRESSED;
		co.path = o->store;
	}
	enum st_status st = st_writer_create(&co, &s->wr);
	if (st) {
		if (st == ST_ERR_NOMEM)
			return scan_out_of_memory(s, "creating the store");
		scan_fail(s, st == ST_ERR_EXISTS ? CAPTURE_ERR_STORE_EXISTS : CAPTURE_ERR_STORE,
		     "the store %s cannot be created: %s", o->store, st_last_error());
		return s->fail;
	}
	return CAPTURE_OK;
}

enum capture_outcome
scan_add_users_to_store(struct scan *s)
{
	for (size_t i = 0; i < s->nusers; i++) {
		struct scan_user *u = &s->users[i];
		if (!u->selected)
			continue;
		char lu[32], state[16], flags[16];
		snprintf(lu, sizeof(lu), "%lld", (long long)u->u->last_use);
		snprintf(state, sizeof(state), "0x%x", u->u->state);
		snprintf(flags, sizeof(flags), "0x%x", u->u->flags);
		struct st_kv kv[] = {
			{ "type", win_user_type_name(u->u->type) },
			{ "profile_image_path", u->u->profile_path ? u->u->profile_path : "" },
			{ "last_use", lu },
			{ "state", state },
			{ "flags", flags },
			{ "hive_state", u->u->hive_state ? u->u->hive_state : "" },
			{ "domain", u->ndomains ? u->domains[0] : "" },
			{ "disabled", u->u->disabled ? "yes" : "no" },
			{ "name_source", u->u->name_source ? u->u->name_source : "" },
			{ "display_name", u->u->display_name ? u->u->display_name : "" },
		};
		/* The user's known folders as their own hive names them, so restore
		 * puts Documents-in-OneDrive back into the new Documents folder. */
		size_t nbase = sizeof(kv) / sizeof(kv[0]), nall = nbase;
		struct st_kv *all = calloc(nbase + u->u->folder_count, sizeof(*all));
		char **keys = calloc(u->u->folder_count + 1, sizeof(*keys));
		if (!all || !keys) {
			free(all);
			free(keys);
			return scan_out_of_memory(s, "recording the users in the store");
		}
		memcpy(all, kv, sizeof(kv));
		for (size_t f = 0; f < u->u->folder_count; f++) {
			const struct reg_user_folder *fo = &u->u->folders[f];
			if (!fo->path || fo->is_unc || !fo->source ||
			    strcmp(fo->source, "User Shell Folders"))
				continue;
			if (asprintf(&keys[f], "folder:%s", fo->name) < 0) {
				keys[f] = NULL;
				scan_out_of_memory(s, "recording the users in the store");
				break;
			}
			all[nall].key = keys[f];
			all[nall++].value = fo->path;
		}
		struct st_user su = { u->sid, u->u->name ? u->u->name : "", u->rel_profile, all,
				      nall };
		enum st_status st = s->fail ? ST_OK : st_writer_add_user(s->wr, &su);
		for (size_t f = 0; f < u->u->folder_count; f++)
			free(keys[f]);
		free(keys);
		free(all);
		if (s->fail)
			return s->fail;
		if (st == ST_ERR_NOMEM)
			return scan_out_of_memory(s, "recording the users in the store");
		if (st)
			LOG_WARN(s, "user %s could not be recorded: %s", u->sid, st_last_error());
	}
	return CAPTURE_OK;
}
