/*
 * Removing a store (winstate rmstore, usmtutils /rd): only what is the
 * store's own goes, and nothing goes unless all of it can.  A hard-link
 * store's files are further names of the user's files, so removing them
 * frees nothing, except a file whose only name is the store's (it was never
 * restored): those are named, and kept unless the caller forces.
 */
#include <dirent.h>
#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "store/internal.h"

/* What a store folder may hold at its top beside USMT/: the catalog, the
 * report, logs and lists that capture writes there. */
static bool
top_level_extra(const char *path)
{
	static const char *const ok[] = { "catalog", "catalog.tmp", "USMT" };
	for (size_t i = 0; i < 3; i++)
		if (!strcasecmp(path, ok[i]))
			return true;
	const char *dot = strrchr(path, '.');
	return !strchr(path, '/') && dot && (!strcasecmp(dot, ".json") || !strcasecmp(dot, ".log") ||
					     !strcasecmp(dot, ".txt") || !strcasecmp(dot, ".xml"));
}

/* ------------------------------------------------------ hard-link store -- */

struct rm_entry {
	char *path;      /* relative to the store folder */
	char *name;
	uint64_t parent, mref;
	bool dir, only_name;
	unsigned depth;
};

struct rm_walk {
	struct rm_entry *e;
	size_t n;
	bool failed;      /* an entry could not be read, or out of memory */
	char *unreadable; /* the first unreadable entry's sentence */
};

static int
collect(const struct nv_entry *e, void *ctx)
{
	struct rm_walk *w = ctx;
	if (!e->inode) {
		w->failed = true;
		if (asprintf(&w->unreadable, "%s: %s", e->path, e->error ? e->error : "unreadable") < 0)
			w->unreadable = NULL;
		return NV_WALK_STOP;
	}
	struct rm_entry *g = realloc(w->e, (w->n + 1) * sizeof(*g));
	if (!g) {
		w->failed = true;
		return NV_WALK_STOP;
	}
	w->e = g;
	g[w->n] = (struct rm_entry){ strdup(e->path), strdup(e->name), e->parent, e->mref,
				     (e->inode->kind & NV_IS_DIR) && !e->inode->reparse_tag,
				     e->inode->name_count <= 1, e->depth };
	w->n++;
	if (!g[w->n - 1].path || !g[w->n - 1].name) {
		w->failed = true;
		return NV_WALK_STOP;
	}
	/* A junction or symlink (captured as such) is removed as a name, never entered. */
	return e->inode->reparse_tag ? NV_WALK_SKIP : NV_WALK_CONTINUE;
}

static int
by_depth_desc(const void *a, const void *b)
{
	const struct rm_entry *x = a, *y = b;
	return (int)y->depth - (int)x->depth;
}

/* The store's own names: "f<path>" for each file entry, "d<path>" for each folder above one. */
struct owned {
	char **names;
	size_t n;
};

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int
owned_build(struct st_reader *r, struct owned *o)
{
	size_t cap = 0;
	o->names = NULL;
	o->n = 0;
	for (size_t i = 0; i < st_reader_file_count(r); i++) {
		const char *path = st_reader_file(r, i)->path;
		for (const char *p = path;; p++) {
			if (*p != '/' && *p)
				continue;
			if (o->n == cap) {
				cap = cap ? cap * 2 : 256;
				char **g = realloc(o->names, cap * sizeof(*g));
				if (!g)
					return -1;
				o->names = g;
			}
			if (asprintf(&o->names[o->n], "%c%.*s", *p ? 'd' : 'f', (int)(p - path), path) < 0)
				return -1;
			o->n++;
			if (!*p)
				break;
		}
	}
	qsort(o->names, o->n, sizeof(*o->names), cmp_str);
	return 0;
}

static void
owned_free(struct owned *o)
{
	for (size_t i = 0; i < o->n; i++)
		free(o->names[i]);
	free(o->names);
}

/* Is @rel (relative to the store folder) one of the store's own names? */
static bool
store_owns(const struct owned *o, char letter, const char *rel, bool dir)
{
	char prefix[16];
	snprintf(prefix, sizeof(prefix), "USMT/File/%c$", letter);
	if (dir && (!strcasecmp(rel, "USMT") || !strcasecmp(rel, "USMT/File") || !strcasecmp(rel, prefix)))
		return true;
	size_t pl = strlen(prefix);
	if (strncasecmp(rel, prefix, pl) || rel[pl] != '/')
		return !dir && top_level_extra(rel);
	char *key;
	if (asprintf(&key, "%c%s", dir ? 'd' : 'f', rel + pl + 1) < 0)
		return false;
	bool found = bsearch(&key, o->names, o->n, sizeof(*o->names), cmp_str) != NULL;
	free(key);
	return found;
}

/* The first name under the store folder the catalog does not account for
 * (malloc'd; NULL when every name is the store's).  -1: out of memory. */
static int
find_stranger(struct st_reader *r, const struct rm_walk *w, char **stranger)
{
	const struct st_store_info *info = st_reader_info(r);
	char letter = info->volume_letter ? info->volume_letter : 'C';
	struct owned own;
	*stranger = NULL;
	if (owned_build(r, &own) < 0) {
		owned_free(&own);
		return -1;
	}
	for (size_t i = 0; i < w->n && !*stranger; i++)
		if (!store_owns(&own, letter, w->e[i].path, w->e[i].dir) &&
		    !(*stranger = strdup(w->e[i].path))) {
			owned_free(&own);
			return -1;
		}
	owned_free(&own);
	return 0;
}

static enum st_status
add_only_copy(struct st_removal *out, const char *path)
{
	char **g = realloc(out->only_copies, (out->only_copy_count + 1) * sizeof(*g));
	if (!g)
		return st_fail(ST_ERR_NOMEM, "out of memory");
	out->only_copies = g;
	if (!(g[out->only_copy_count] = strdup(path)))
		return st_fail(ST_ERR_NOMEM, "out of memory");
	out->only_copy_count++;
	return ST_OK;
}

/* Every name of @w is the store's: unlink them, deepest first, then the folder. */
static enum st_status
unlink_all(struct nv_volume *vol, const char *store, struct rm_walk *w)
{
	qsort(w->e, w->n, sizeof(*w->e), by_depth_desc);
	for (size_t i = 0; i < w->n; i++)
		if (nv_unlink(vol, w->e[i].parent, w->e[i].name) != NV_OK)
			return st_fail(ST_ERR_NTFS, "cannot remove %s/%s: %s", store, w->e[i].path,
				       nv_last_error());
	char *parent_path = strdup(store);
	if (!parent_path)
		return st_fail(ST_ERR_NOMEM, "out of memory");
	char *slash = strrchr(parent_path, '/');
	const char *base = slash ? store + (slash - parent_path) + 1 : store;
	uint64_t parent;
	if (slash)
		*slash = '\0';
	enum st_status st = ST_OK;
	if (nv_lookup(vol, slash ? parent_path : "", &parent) != NV_OK ||
	    nv_unlink(vol, parent, base) != NV_OK)
		st = st_fail(ST_ERR_NTFS, "cannot remove the store folder %s: %s", store,
			     nv_last_error());
	free(parent_path);
	return st;
}

enum st_status
st_remove_volume_store(struct nv_volume *vol, const char *store, bool force,
		       struct st_removal *out)
{
	memset(out, 0, sizeof(*out));
	struct st_reader *r;
	enum st_status st = st_reader_open_ntfs(vol, store, &r);
	if (st != ST_OK) {
		char why[1024];
		snprintf(why, sizeof(why), "%s", st_last_error());
		return st_fail(st, "%s does not look like a winstate store (%s); nothing was removed",
			       store, why);
	}
	out->is_store = true;
	struct rm_walk w = { 0 };
	char *stranger = NULL;
	enum nv_status ns = nv_walk(vol, store, collect, &w);
	if (ns != NV_OK) {
		st = st_fail_nv(ns, "%s cannot be read whole; nothing was removed", store);
		goto out;
	}
	if (w.failed) {
		st = w.unreadable
			? st_fail(ST_ERR_NTFS, "%s cannot be read whole (%s); nothing was removed", store,
				  w.unreadable)
			: st_fail(ST_ERR_NOMEM, "out of memory; nothing was removed");
		goto out;
	}
	if (find_stranger(r, &w, &stranger) < 0) {
		st = st_fail(ST_ERR_NOMEM, "out of memory; nothing was removed");
		goto out;
	}
	if (stranger) {
		st = st_fail(ST_ERR_REFUSED, "%s/%s is not part of the store; nothing was removed. "
			     "Move it out first", store, stranger);
		goto out;
	}
	for (size_t i = 0; i < w.n; i++)
		if (!w.e[i].dir && w.e[i].only_name && !strncasecmp(w.e[i].path, "USMT/", 5) &&
		    (st = add_only_copy(out, w.e[i].path)) != ST_OK)
			goto out;
	if (out->only_copy_count && !force) {
		st = st_fail(ST_ERR_REFUSED, "%zu files exist only in the store; nothing was removed "
			     "(restore them, or give --force to delete them)", out->only_copy_count);
		goto out;
	}
	st = unlink_all(vol, store, &w);
	if (st == ST_OK)
		out->names = w.n;
out:
	for (size_t i = 0; i < w.n; i++) {
		free(w.e[i].path);
		free(w.e[i].name);
	}
	free(w.e);
	free(w.unreadable);
	free(stranger);
	st_reader_close(r);
	return st;
}

/* ---------------------------------------------------------- local store -- */

/* nftw has no context argument: the folder being removed, for rm_one's check. */
static _Thread_local const char *rm_root;

static int
rm_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)ftw;
	if (strncmp(path, rm_root, strlen(rm_root)))
		return -1;
	return flag == FTW_DP ? rmdir(path) : unlink(path);
}

enum st_status
st_remove_local_store(const char *store, struct st_removal *out)
{
	memset(out, 0, sizeof(*out));
	struct stat sb;
	char usmt[4096];
	snprintf(usmt, sizeof(usmt), "%s/USMT", store);
	bool has_usmt = lstat(usmt, &sb) == 0 && S_ISDIR(sb.st_mode);
	DIR *d = opendir(store);
	if (!d || !has_usmt) {
		if (d)
			closedir(d);
		return st_fail(ST_ERR_NOT_FOUND, "%s does not look like a winstate store (no USMT "
			       "folder); nothing was removed", store);
	}
	out->is_store = true;
	struct dirent *e;
	while ((e = readdir(d))) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		if (!top_level_extra(e->d_name)) {
			enum st_status st = st_fail(ST_ERR_REFUSED, "%s/%s is not part of a store; nothing "
						    "was removed", store, e->d_name);
			closedir(d);
			return st;
		}
	}
	closedir(d);
	rm_root = store;
	if (nftw(store, rm_one, 32, FTW_DEPTH | FTW_PHYS) != 0)
		return st_fail_errno(ST_ERR_IO, "cannot remove all of %s", store);
	return ST_OK;
}

void
st_removal_free(struct st_removal *r)
{
	for (size_t i = 0; i < r->only_copy_count; i++)
		free(r->only_copies[i]);
	free(r->only_copies);
	memset(r, 0, sizeof(*r));
}
