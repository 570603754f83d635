/*
 * The hard-link store (/hardlink /nocompress): USMT's layout on the *source*
 * NTFS volume, made through ntfs/ (the caller opens the volume read-write):
 *
 *   STORE/                       HIDDEN|SYSTEM, readable by Administrators and SYSTEM only
 *   STORE/USMT/File/C$/<path>    a new hard link to each captured file's MFT record
 *   STORE/catalog                the catalog (catalog.c), written last
 *
 * No data is copied: a file's streams stay in its MFT record, so the catalog
 * records their names and sizes but no checksums, and the writer tells the
 * caller not to feed data.  Refusals (the caller lists them as skipped):
 * folders, a record that already has 1024 names, EFS files unless allowed
 * (/efs:hardlink), a name differing only in case from one already linked in
 * its store folder (WSL1's case-sensitive folders: the store's folders fold
 * case, and its lookups must never mix the two up).  A store folder without
 * a catalog is an unfinished capture; a catalog cut short fails its checksum.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/internal.h"

struct dir_slot {
	char *path;       /* relative to C$, no trailing '/' */
	uint64_t mref;
};

struct link_w {
	struct nv_volume *vol;
	char letter;
	bool allow_efs;
	uint64_t store, files_root; /* STORE and STORE/USMT/File/C$ */
	char *root_path;            /* "STORE/USMT/File/C$" on the volume */
	struct dir_slot *dirs;      /* folders made so far (linear probe by hash) */
	size_t dir_cap, dir_count;
};

/* ------------------------------------------------- security descriptor -- */

int
linkstore_admin_sd(uint8_t **sd, size_t *len)
{
	static const uint8_t admins[] = { 1, 2, 0, 0, 0, 0, 0, 5, 32, 0, 0, 0, 0x20, 2, 0, 0 };
	static const uint8_t system[] = { 1, 1, 0, 0, 0, 0, 0, 5, 18, 0, 0, 0 };
	const uint8_t inherit = FMT_ACE_OBJECT_INHERIT | FMT_ACE_CONTAINER_INHERIT;
	const struct fmt_sd_allow aces[] = {
		{ inherit, 0x001F01FF, admins },        /* FILE_ALL_ACCESS */
		{ inherit, 0x001F01FF, system },
	};
	/* Owner Administrators, group SYSTEM, a protected DACL. */
	return fmt_sd_build(FMT_SE_DACL_PROTECTED, admins, system, aces, 2, sd, len);
}

/* -------------------------------------------------------------- folders -- */

static uint64_t
str_hash(const char *s)
{
	uint64_t h = 1469598103934665603ull;
	while (*s)
		h = (h ^ (unsigned char)*s++) * 1099511628211ull;
	return h;
}

static struct dir_slot *
dir_find(struct link_w *l, const char *path)
{
	for (size_t i = str_hash(path) & (l->dir_cap - 1);; i = (i + 1) & (l->dir_cap - 1))
		if (!l->dirs[i].path || strcmp(l->dirs[i].path, path) == 0)
			return &l->dirs[i];
}

static enum st_status
dir_remember(struct link_w *l, const char *path, uint64_t mref)
{
	if ((l->dir_count + 1) * 2 > l->dir_cap) {
		size_t ocap = l->dir_cap, ncap = ocap ? ocap * 2 : 256;
		struct dir_slot *old = l->dirs;
		if (!(l->dirs = calloc(ncap, sizeof(*l->dirs)))) {
			l->dirs = old;
			return st_fail(ST_ERR_NOMEM, "out of memory");
		}
		l->dir_cap = ncap;
		for (size_t i = 0; i < ocap; i++)
			if (old[i].path)
				*dir_find(l, old[i].path) = old[i];
		free(old);
	}
	char *copy = strdup(path);
	if (!copy)
		return st_fail(ST_ERR_NOMEM, "out of memory");
	*dir_find(l, path) = (struct dir_slot){ copy, mref };
	l->dir_count++;
	return ST_OK;
}

static enum st_status
mkdir_at(struct nv_volume *vol, uint64_t parent, const char *name, uint64_t *mref)
{
	enum nv_status s = nv_mkdir(vol, parent, name, mref);
	if (s == NV_ERR_EXISTS)
		return ST_ERR_EXISTS; /* the caller looks it up */
	return s ? st_fail_nv(s, "cannot create folder \"%s\" in the hard-link store", name) : ST_OK;
}

/* The mref of folder @rel (below C$), made if needed; *@name gets the last
 * component of @path (which stays in @path). */
static enum st_status
parent_of(struct link_w *l, char *path, uint64_t *parent, const char **name)
{
	char *slash = strrchr(path, '/');
	if (!slash) {
		*parent = l->files_root;
		*name = path;
		return ST_OK;
	}
	*slash = 0;
	*name = slash + 1;
	struct dir_slot *d = l->dir_cap ? dir_find(l, path) : NULL;
	if (d && d->path) {
		*parent = d->mref;
		*slash = '/';
		return ST_OK;
	}
	uint64_t up;
	const char *me;
	enum st_status st = parent_of(l, path, &up, &me);
	if (!st) {
		uint64_t m;
		st = mkdir_at(l->vol, up, me, &m);
		if (st == ST_ERR_EXISTS) {
			/* Made earlier under another spelling (NTFS folds case): look it up. */
			char *full;
			if (asprintf(&full, "%s/%s", l->root_path, path) < 0)
				return st_fail(ST_ERR_NOMEM, "out of memory");
			enum nv_status s = nv_lookup(l->vol, full, &m);
			free(full);
			st = s ? st_fail_nv(s, "cannot find folder \"%s\" in the hard-link store", path) :
				 ST_OK;
		}
		if (!st)
			st = dir_remember(l, path, m);
		*parent = m;
	}
	*slash = '/';
	return st;
}

/* ------------------------------------------------------------ the writer -- */

static enum st_status
make_link(struct link_w *l, const struct st_file *f)
{
	char *path = strdup(f->path);
	const char *name;
	uint64_t parent;
	if (!path)
		return st_fail(ST_ERR_NOMEM, "out of memory");
	enum st_status st = parent_of(l, path, &parent, &name);
	if (!st) {
		enum nv_status s = nv_link(l->vol, f->source_id, parent, name);
		if (s == NV_ERR_TOO_MANY_LINKS)
			st = st_fail(ST_ERR_REFUSED, "\"%s\" cannot go into the hard-link store: it "
				     "already has 1024 hard links, Windows' limit", f->path);
		else if (s == NV_ERR_EXISTS)
			/* Only a name differing in case gets here (a folder holds no exact
			 * duplicates): NTFS store folders fold case as Windows does, so
			 * two such links could be mixed up by every later lookup. */
			st = st_fail(ST_ERR_REFUSED, "\"%s\" cannot go into the hard-link store: a "
				     "name that differs from it only in case is already linked in the "
				     "same store folder, and the store's NTFS folders fold case as "
				     "Windows does; capture into a compressed or directory store to "
				     "keep both", f->path);
		else if (s)
			st = st_fail_nv(s, "cannot link \"%s\" into the hard-link store", f->path);
	}
	free(path);
	return st;
}

static enum st_status
link_begin_file(void *impl, struct st_writer *w, const struct st_file *f, bool *need_data)
{
	struct link_w *l = impl;
	struct nv_inode *ino = NULL;
	enum st_status st;
	*need_data = false;
	if (f->source_id == ST_NO_SOURCE_ID)
		return st_fail(ST_ERR_INVALID, "\"%s\": a hard-link store needs the file's MFT "
			       "record number as its source id", f->path);
	enum nv_status s = nv_stat(l->vol, f->source_id, &ino);
	if (s)
		return st_fail_nv(s, "\"%s\" (MFT record %llu) cannot be read", f->path,
				  (unsigned long long)f->source_id);
	if (ino->kind & NV_IS_DIR) {
		st = st_fail(ST_ERR_REFUSED, "\"%s\" is a folder: folders are not linked into a "
			     "hard-link store", f->path);
		goto out;
	}
	if (((ino->kind & NV_IS_ENCRYPTED) || (f->attributes & NV_ATTR_ENCRYPTED)) && !l->allow_efs) {
		st = st_fail(ST_ERR_REFUSED, "\"%s\" is encrypted with EFS: it goes into a hard-link "
			     "store only when EFS files are allowed (/efs:hardlink)", f->path);
		goto out;
	}
	if ((st = make_link(l, f)))
		goto out;
	if ((st = writer_record_stream(w, "", ino->size)))
		goto out;
	for (size_t i = 0; i < ino->stream_count; i++)
		if ((st = writer_record_stream(w, ino->streams[i].name, ino->streams[i].size)))
			goto out;
out:
	nv_inode_free(ino);
	return st;
}

static enum st_status
link_link_file(void *impl, const struct st_file *f, const struct st_file *target)
{
	struct link_w *l = impl;
	struct st_file g = *f;
	g.source_id = target->source_id;
	return make_link(l, &g);
}

static enum st_status
link_unexpected(void *impl, const void *buf, size_t len)
{
	(void)impl, (void)buf, (void)len;
	return st_fail(ST_ERR_STATE, "a hard-link store takes no data");
}

static enum st_status
link_begin_stream(void *impl, const char *name)
{
	(void)impl, (void)name;
	return st_fail(ST_ERR_STATE, "a hard-link store takes no data");
}

static enum st_status
link_end_stream(void *impl, const uint8_t *hash, uint64_t size, uint64_t *offset, bool *dup)
{
	(void)impl, (void)hash, (void)size, (void)dup;
	*offset = 0;
	return ST_OK;
}

static enum st_status
link_end_file(void *impl)
{
	(void)impl;
	return ST_OK;
}

static enum st_status
put_ntfs_file(struct link_w *l, const char *name, const void *data, size_t len, uint64_t *mref)
{
	uint64_t m;
	enum nv_status s = nv_create(l->vol, l->store, name, &m);
	if (s == NV_ERR_EXISTS) {
		if ((s = nv_unlink(l->vol, l->store, name)) == NV_OK)
			s = nv_create(l->vol, l->store, name, &m);
	}
	if (!s && len)
		s = nv_write(l->vol, m, NULL, 0, data, len);
	if (mref)
		*mref = m;
	return s ? st_fail_nv(s, "cannot write \"%s\" into the hard-link store", name) : ST_OK;
}

static enum st_status
link_put_file(void *impl, const char *name, const void *data, size_t len)
{
	return put_ntfs_file(impl, name, data, len, NULL);
}

static enum st_status
link_prepare(void *impl, struct st_catalog *c)
{
	(void)impl, (void)c;
	return ST_OK;
}

static enum st_status
link_finish(void *impl, struct cat_source *cat)
{
	struct link_w *l = impl;
	/* Written under another name first: a store whose catalog is there is
	 * complete, whatever interrupted the capture. */
	uint64_t m = 0, at = 0;
	/* A link whose folder entry libntfs-3g failed to write (and went on)
	 * must not end up in a store that says it is complete. */
	enum nv_status s = nv_writes_ok(l->vol);
	if (s)
		return st_fail_nv(s, "the hard-link store is not complete");
	enum st_status st = put_ntfs_file(l, "catalog.partial", NULL, 0, &m);
	const uint8_t *p;
	size_t len;
	while (!st && !s && !(st = cat_source_next(cat, &p, &len)) && len) {
		s = nv_write(l->vol, m, NULL, at, p, len);
		at += len;
	}
	if (st)
		return st;
	if (!s)
		s = nv_writes_ok(l->vol);
	if (!s)
		s = nv_rename(l->vol, l->store, "catalog.partial", l->store, "catalog");
	return s ? st_fail_nv(s, "cannot complete the hard-link store's catalog") : ST_OK;
}

static void
link_destroy(void *impl, bool aborted)
{
	struct link_w *l = impl;
	(void)aborted;
	for (size_t i = 0; i < l->dir_cap; i++)
		free(l->dirs[i].path);
	free(l->dirs);
	free(l->root_path);
	free(l);
}

static const struct writer_ops link_ops = {
	.name = "hard-link",
	.begin_file = link_begin_file,
	.link_file = link_link_file,
	.begin_stream = link_begin_stream,
	.write = link_unexpected,
	.end_stream = link_end_stream,
	.end_file = link_end_file,
	.put_file = link_put_file,
	.prepare_catalog = link_prepare,
	.finish = link_finish,
	.destroy = link_destroy,
};

/* Split "a/b/STORE" into the mref of "a/b" and "STORE". */
static enum st_status
split_store_path(struct nv_volume *vol, const char *path, uint64_t *parent, char **name)
{
	char *p = strdup(path);
	if (!p)
		return st_fail(ST_ERR_NOMEM, "out of memory");
	size_t n = strlen(p);
	while (n > 1 && p[n - 1] == '/')
		p[--n] = 0;
	char *slash = strrchr(p, '/');
	const char *dir = "";
	if (slash) {
		*slash = 0;
		dir = p;
	}
	*name = strdup(slash ? slash + 1 : p);
	enum nv_status s = *name ? nv_lookup(vol, dir, parent) : NV_ERR_NOMEM;
	free(p);
	if (s) {
		free(*name);
		*name = NULL;
		return st_fail_nv(s, "the folder that should hold store \"%s\" cannot be found", path);
	}
	return ST_OK;
}

enum st_status
linkstore_create(const struct st_create_options *o, const struct writer_ops **ops, void **impl)
{
	enum st_status st;
	enum nv_status s;
	uint64_t parent, m, usmt, file;
	char *name = NULL;
	char cdir[3] = { o->volume_letter ? o->volume_letter : 'C', '$', 0 };
	if (!o->volume)
		return st_fail(ST_ERR_INVALID, "a hard-link store needs the source volume, opened "
			       "read-write");
	if (nv_lookup(o->volume, o->path, &m) == NV_OK)
		return st_fail(ST_ERR_EXISTS, "\"%s\" already exists on the volume", o->path);
	if ((st = split_store_path(o->volume, o->path, &parent, &name)))
		return st;
	if ((st = st_check_path(name))) {
		free(name);
		return st_fail(ST_ERR_INVALID, "the store's name cannot be used: %s", st_last_error());
	}
	struct link_w *l = calloc(1, sizeof(*l));
	if (!l) {
		free(name);
		return st_fail(ST_ERR_NOMEM, "out of memory");
	}
	l->vol = o->volume;
	l->letter = cdir[0];
	l->allow_efs = o->allow_efs;
	if (asprintf(&l->root_path, "%s/USMT/File/%s", o->path, cdir) < 0) {
		l->root_path = NULL;
		free(name);
		link_destroy(l, true);
		return st_fail(ST_ERR_NOMEM, "out of memory");
	}
	uint8_t *sd;
	size_t sd_len;
	if (linkstore_admin_sd(&sd, &sd_len) < 0) {
		free(name);
		link_destroy(l, true);
		return st_fail(ST_ERR_NOMEM, "out of memory");
	}
	s = nv_mkdir(l->vol, parent, name, &l->store);
	if (!s)
		s = nv_set_security(l->vol, l->store, sd, sd_len);
	free(sd);
	if (s ||
	    (s = nv_set_attributes(l->vol, l->store, NV_ATTR_HIDDEN | NV_ATTR_SYSTEM)) ||
	    (s = nv_mkdir(l->vol, l->store, "USMT", &usmt)) ||
	    (s = nv_mkdir(l->vol, usmt, "File", &file)) ||
	    (s = nv_mkdir(l->vol, file, cdir, &l->files_root))) {
		st = st_fail_nv(s, "cannot create hard-link store \"%s\"", o->path);
		free(name);
		link_destroy(l, true);
		return st;
	}
	free(name);
	*ops = &link_ops;
	*impl = l;
	return ST_OK;
}

/* ------------------------------------------------------------ the reader -- */

struct link_r {
	struct nv_volume *vol;
	char *path;
	char letter;
};

static enum nv_status
lookup_file(struct link_r *l, const char *path, uint64_t *mref)
{
	char *full;
	if (asprintf(&full, "%s/USMT/File/%c$/%s", l->path, l->letter, path) < 0)
		return NV_ERR_NOMEM;
	enum nv_status s = nv_lookup(l->vol, full, mref);
	free(full);
	return s;
}

static enum st_status
link_read_stream(void *impl, const struct st_catalog *c, size_t file, size_t stream,
		 st_data_fn fn, void *ctx)
{
	struct link_r *l = impl;
	const struct st_file *f = &c->files[file];
	uint64_t mref;
	struct nv_reader *rd;
	enum nv_status s = lookup_file(l, f->path, &mref);
	if (s)
		return st_fail_nv(s, "%s is missing from the hard-link store", f->path);
	/* An EFS file's data is ciphertext that libntfs-3g will not hand out
	 * (/efs:hardlink links it untouched).  Verifying (no consumer) checks
	 * only that its link still names the captured record (check_file). */
	if (!fn && (f->attributes & NV_ATTR_ENCRYPTED))
		return ST_OK;
	if ((s = nv_reader_open(l->vol, mref, stream ? f->streams[stream].name : NULL, &rd)))
		return st_fail_nv(s, "cannot open %s in the hard-link store", f->path);
	uint8_t *buf = malloc(1 << 20);
	enum st_status st = ST_OK;
	uint64_t off = 0;
	if (!buf)
		st = st_fail(ST_ERR_NOMEM, "out of memory");
	while (!st) {
		size_t got;
		if ((s = nv_reader_pread(rd, buf, 1 << 20, off, &got))) {
			st = st_fail_nv(s, "cannot read %s", f->path);
			break;
		}
		if (!got)
			break;
		off += got;
		int rc = fn ? fn(buf, got, ctx) : 0;
		if (rc)
			st = rc > 0 && rc <= ST_ERR_COMPRESS ? (enum st_status)rc :
				st_fail(ST_ERR_IO, "reading was stopped by the caller");
	}
	/* No checksum guards a linked file: at least its size must be the captured one
	 * (found by fuzz_linkstore_catalog). */
	if (!st && off != f->streams[stream].size)
		st = st_fail(ST_ERR_CORRUPT, "%s%s%s has %llu bytes, but the store's catalog says %llu: "
			     "it changed after the capture, or the catalog is damaged", f->path,
			     stream ? ":" : "", stream ? f->streams[stream].name : "",
			     (unsigned long long)off, (unsigned long long)f->streams[stream].size);
	free(buf);
	nv_reader_close(rd);
	return st;
}

static const char *
link_check_file(void *impl, const struct st_catalog *c, size_t file)
{
	struct link_r *l = impl;
	static _Thread_local char why[512];
	const struct st_file *f = &c->files[file];
	uint64_t mref;
	if (lookup_file(l, f->path, &mref) != NV_OK) {
		snprintf(why, sizeof(why), "its link is missing from the hard-link store");
		return why;
	}
	if (mref != f->source_id) {
		snprintf(why, sizeof(why), "its link names MFT record %llu, not %llu as captured "
			 "(replaced since)", (unsigned long long)mref,
			 (unsigned long long)f->source_id);
		return why;
	}
	return NULL;
}

static void
link_close(void *impl)
{
	struct link_r *l = impl;
	free(l->path);
	free(l);
}

static const struct reader_ops link_rops = {
	.read_stream = link_read_stream,
	.check_file = link_check_file,
	.close = link_close,
};

enum st_status
linkstore_open(struct nv_volume *vol, const char *path, struct st_catalog **cat,
	       const struct reader_ops **ops, void **impl)
{
	uint64_t store, m;
	struct nv_reader *rd = NULL;
	enum nv_status s = nv_lookup(vol, path, &store);
	enum st_status st;
	char *cp;
	if (s == NV_ERR_NOT_FOUND)
		return st_fail(ST_ERR_NOT_FOUND, "there is no hard-link store at \"%s\"", path);
	if (s)
		return st_fail_nv(s, "cannot open hard-link store \"%s\"", path);
	if (asprintf(&cp, "%s/catalog", path) < 0)
		return st_fail(ST_ERR_NOMEM, "out of memory");
	s = nv_lookup(vol, cp, &m);
	free(cp);
	if (s == NV_ERR_NOT_FOUND)
		return st_fail(ST_ERR_INCOMPLETE, "hard-link store \"%s\" has no catalog: the "
			       "capture that made it did not finish", path);
	if (s || (s = nv_reader_open(vol, m, NULL, &rd)))
		return st_fail_nv(s, "cannot open the catalog of hard-link store \"%s\"", path);
	uint64_t size = nv_reader_size(rd);
	uint8_t *data = size <= (1ull << 31) ? malloc(size ? size : 1) : NULL;
	if (!data) {
		nv_reader_close(rd);
		return st_fail(size > (1ull << 31) ? ST_ERR_CORRUPT : ST_ERR_NOMEM,
			       "the catalog of \"%s\" is too large to read", path);
	}
	uint64_t off = 0;
	while (off < size) {
		size_t got;
		if ((s = nv_reader_pread(rd, data + off, (size_t)(size - off), off, &got)) || !got)
			break;
		off += got;
	}
	nv_reader_close(rd);
	if (off != size) {
		free(data);
		return s ? st_fail_nv(s, "cannot read the catalog of \"%s\"", path) :
			st_fail(ST_ERR_CORRUPT, "the catalog of \"%s\" is shorter than it says", path);
	}
	st = catalog_parse(data, (size_t)size, ST_FORMAT_HARDLINK, 0, 0, cat);
	free(data);
	if (st)
		return st;
	struct link_r *l = calloc(1, sizeof(*l));
	if (!l || !(l->path = strdup(path))) {
		free(l);
		catalog_free(*cat);
		*cat = NULL;
		return st_fail(ST_ERR_NOMEM, "out of memory");
	}
	l->vol = vol;
	l->letter = (*cat)->info.volume_letter;
	*ops = &link_rops;
	*impl = l;
	return ST_OK;
}
