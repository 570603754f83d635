/*
 * The reader front end shared by all formats: finding which format a path
 * holds (and whether its capture finished), listing the catalog, reading a
 * stream with its checksum verified on the way, verifying a whole store, and
 * extracting files to a plain folder without ever writing outside it.
 */
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "store/internal.h"

struct st_reader {
	const struct reader_ops *ops;
	void *impl;
	struct st_catalog *cat;
};

static bool
exists(const char *dir, const char *rel)
{
	char *p;
	if (asprintf(&p, "%s/%s", dir, rel) < 0)
		return false;
	bool e = access(p, F_OK) == 0;
	free(p);
	return e;
}

static enum st_status
wrap(struct st_catalog *cat, const struct reader_ops *ops, void *impl, struct st_reader **out)
{
	struct st_reader *r = calloc(1, sizeof(*r));
	if (!r) {
		ops->close(impl);
		catalog_free(cat);
		return st_fail(ST_ERR_NOMEM, "out of memory");
	}
	r->ops = ops;
	r->impl = impl;
	r->cat = cat;
	*out = r;
	return ST_OK;
}

enum st_status
st_reader_open(const char *path, const struct st_key *key, struct st_reader **out)
{
	struct st_catalog *cat = NULL;
	const struct reader_ops *ops = NULL;
	void *impl = NULL;
	enum st_status st;
	struct stat sb;
	*out = NULL;
	if ((st = crypto_init()))
		return st;
	size_t len = strlen(path);
	if (stat(path, &sb) != 0) {
		char *partial;
		if (asprintf(&partial, "%s.partial", path) >= 0) {
			bool incomplete = access(partial, F_OK) == 0;
			free(partial);
			if (incomplete)
				return st_fail(ST_ERR_INCOMPLETE, "%s.partial is there but %s is not: "
					       "the capture that wrote it did not finish", path, path);
		}
		return st_fail_errno(ST_ERR_NOT_FOUND, "no store at %s", path);
	}
	if (S_ISREG(sb.st_mode)) {
		if (len > 8 && strcmp(path + len - 8, ".partial") == 0)
			return st_fail(ST_ERR_INCOMPLETE, "%s is an unfinished store: the capture "
				       "that wrote it did not finish", path);
		st = packstore_open(path, key, &cat, &ops, &impl);
	} else if (S_ISDIR(sb.st_mode)) {
		if (exists(path, "USMT/USMT.MIG")) {
			char *file;
			if (asprintf(&file, "%s/USMT/USMT.MIG", path) < 0)
				return st_fail(ST_ERR_NOMEM, "out of memory");
			st = packstore_open(file, key, &cat, &ops, &impl);
			free(file);
		} else if (exists(path, "USMT/USMT.MIG.partial")) {
			return st_fail(ST_ERR_INCOMPLETE, "the store in %s is incomplete (only "
				       "USMT/USMT.MIG.partial is there): the capture that wrote it "
				       "did not finish", path);
		} else if (exists(path, "catalog") || exists(path, "USMT")) {
			st = dirstore_open(path, &cat, &ops, &impl);
		} else {
			return st_fail(ST_ERR_NOT_FOUND, "there is no winstate store in %s", path);
		}
	} else {
		return st_fail(ST_ERR_NOT_FOUND, "%s is neither a store folder nor a store file", path);
	}
	if (st)
		return st;
	return wrap(cat, ops, impl, out);
}

enum st_status
st_reader_open_ntfs(struct nv_volume *volume, const char *path, struct st_reader **out)
{
	struct st_catalog *cat = NULL;
	const struct reader_ops *ops = NULL;
	void *impl = NULL;
	enum st_status st;
	*out = NULL;
	if ((st = crypto_init()) || (st = linkstore_open(volume, path, &cat, &ops, &impl)))
		return st;
	return wrap(cat, ops, impl, out);
}

void
st_reader_close(struct st_reader *r)
{
	if (!r)
		return;
	r->ops->close(r->impl);
	catalog_free(r->cat);
	free(r);
}

const struct st_store_info *
st_reader_info(const struct st_reader *r)
{
	return &r->cat->info;
}

#define LIST(fn, type, arr, count)                                      \
	size_t st_reader_##fn##_count(const struct st_reader *r)          \
	{                                                                 \
		return r->cat->count;                                     \
	}                                                                 \
	const type *st_reader_##fn(const struct st_reader *r, size_t i)   \
	{                                                                 \
		return i < r->cat->count ? &r->cat->arr[i] : NULL;        \
	}
LIST(user, struct st_user, users, user_count)
LIST(file, struct st_file, files, file_count)
LIST(registry, struct st_reg_value, regs, reg_count)
LIST(skipped, struct st_skipped, skipped, skipped_count)

int64_t
st_reader_find(const struct st_reader *r, const char *path)
{
	for (size_t i = 0; i < r->cat->file_count; i++)
		if (strcmp(r->cat->files[i].path, path) == 0)
			return (int64_t)i;
	return -1;
}

char *
st_reader_stored_as(const struct st_reader *r, size_t index)
{
	const struct st_catalog *c = r->cat;
	if (index >= c->file_count || !c->info.encoded_names ||
	    (c->files[index].attributes & NV_ATTR_DIRECTORY))
		return NULL;
	bool changed = false;
	char *p = dir_layout_path(c->info.volume_letter, c->files[index].path, true, &changed);
	if (!changed) {
		free(p);
		return NULL;
	}
	return p;
}

/* ------------------------------------------------------------- reading -- */

struct hashing {
	crypto_generichash_state h;
	uint64_t bytes;
	st_data_fn fn;
	void *ctx;
};

static int
hash_through(const void *buf, size_t len, void *ctx)
{
	struct hashing *x = ctx;
	crypto_generichash_update(&x->h, buf, len);
	x->bytes += len;
	return x->fn ? x->fn(buf, len, x->ctx) : 0;
}

enum st_status
st_reader_read(struct st_reader *r, size_t index, size_t stream, st_data_fn fn, void *ctx)
{
	const struct st_catalog *c = r->cat;
	if (index >= c->file_count)
		return st_fail(ST_ERR_NOT_FOUND, "no file %zu in the store (it holds %zu)", index,
			       c->file_count);
	size_t t = c->files[index].link_to >= 0 ? (size_t)c->files[index].link_to : index;
	const struct st_file *f = &c->files[t];
	char label[4200];
	if (stream >= f->stream_count)
		return st_fail(ST_ERR_NOT_FOUND, "%s has no stream %zu", c->files[index].path, stream);
	stream_label(&c->files[index], stream, label, sizeof(label));
	const struct st_stream *s = &f->streams[stream];
	if (!s->has_hash) {
		enum st_status st = r->ops->read_stream(r->impl, c, t, stream, fn, ctx);
		return st ? st_fail(st, "cannot read %s: %s", label, st_last_error()) : ST_OK;
	}
	struct hashing x = { .fn = fn, .ctx = ctx };
	crypto_generichash_init(&x.h, NULL, 0, ST_HASH_BYTES);
	enum st_status st = r->ops->read_stream(r->impl, c, t, stream, hash_through, &x);
	if (st)
		return st_fail(st, "cannot read %s: %s", label, st_last_error());
	uint8_t sum[ST_HASH_BYTES];
	crypto_generichash_final(&x.h, sum, sizeof(sum));
	if (x.bytes != s->size)
		return st_fail(ST_ERR_CORRUPT, "%s is damaged: %llu bytes instead of %llu", label,
			       (unsigned long long)x.bytes, (unsigned long long)s->size);
	if (sodium_memcmp(sum, s->hash, ST_HASH_BYTES) != 0)
		return st_fail(ST_ERR_CORRUPT, "%s is damaged: its checksum does not match", label);
	return ST_OK;
}

/* -------------------------------------------------------------- verify -- */

struct vitem {
	size_t file, stream;
	uint64_t off, size;
};

static const struct st_catalog *sort_cat;

static int
cmp_vitem(const void *a, const void *b)
{
	const struct vitem *x = a, *y = b;
	if (x->off != y->off)
		return x->off < y->off ? -1 : 1;
	if (x->size != y->size)
		return x->size < y->size ? -1 : 1;
	int h = memcmp(sort_cat->files[x->file].streams[x->stream].hash,
		       sort_cat->files[y->file].streams[y->stream].hash, ST_HASH_BYTES);
	if (h)
		return h;
	return x->file < y->file ? -1 : x->file > y->file;
}

enum st_status
st_reader_verify(struct st_reader *r, st_damage_fn fn, void *ctx, struct st_verify_result *res)
{
	const struct st_catalog *c = r->cat;
	struct st_verify_result local;
	if (!res)
		res = &local;
	*res = (struct st_verify_result){ .catalog_ok = true };
	size_t n = 0;
	for (size_t i = 0; i < c->file_count; i++)
		if (c->files[i].link_to < 0)
			n += c->files[i].stream_count;
	struct vitem *v = malloc((n ? n : 1) * sizeof(*v));
	bool *bad = calloc(c->file_count ? c->file_count : 1, sizeof(*bad));
	char **why = calloc(c->file_count ? c->file_count : 1, sizeof(*why));
	if (!v || !bad || !why) {
		free(v);
		free(bad);
		free(why);
		return st_fail(ST_ERR_NOMEM, "out of memory");
	}
	n = 0;
	for (size_t i = 0; i < c->file_count; i++)
		if (c->files[i].link_to < 0)
			for (size_t k = 0; k < c->files[i].stream_count; k++)
				v[n++] = (struct vitem){ i, k, c->offsets[i][k],
							 c->files[i].streams[k].size };
	/* Compressed stores: read in store order (each frame decompressed once)
	 * and check a deduplicated extent once for all who share it. */
	bool pack = c->info.format == ST_FORMAT_COMPRESSED;
	if (pack) {
		sort_cat = c;
		qsort(v, n, sizeof(*v), cmp_vitem);
	}
	enum st_status last = ST_OK;
	for (size_t j = 0; j < n; j++) {
		enum st_status st;
		bool same = pack && j > 0 && v[j].off == v[j - 1].off && v[j].size == v[j - 1].size &&
			    v[j].size && memcmp(c->files[v[j].file].streams[v[j].stream].hash,
						c->files[v[j - 1].file].streams[v[j - 1].stream].hash,
						ST_HASH_BYTES) == 0;
		if (same)
			st = last;
		else
			st = last = st_reader_read(r, v[j].file, v[j].stream, NULL, NULL);
		if (st && !bad[v[j].file]) {
			bad[v[j].file] = true;
			why[v[j].file] = strdup(st_last_error());
		}
	}
	for (size_t i = 0; i < c->file_count; i++)
		if (!bad[i] && c->files[i].link_to < 0 && r->ops->check_file &&
		    !(c->files[i].attributes & NV_ATTR_DIRECTORY)) { /* a junction: catalog only */
			const char *w = r->ops->check_file(r->impl, c, i);
			if (w) {
				bad[i] = true;
				why[i] = strdup(w);
			}
		}
	for (size_t i = 0; i < c->file_count; i++) {
		size_t t = c->files[i].link_to >= 0 ? (size_t)c->files[i].link_to : i;
		if (bad[t]) {
			res->files_damaged++;
			if (fn)
				fn(c->files[i].path, why[t] ? why[t] : "damaged", ctx);
		} else {
			res->files_ok++;
		}
	}
	for (size_t i = 0; i < c->file_count; i++)
		free(why[i]);
	free(why);
	free(bad);
	free(v);
	if (res->files_damaged)
		return st_fail(ST_ERR_CORRUPT, "%llu of %llu files in the store are damaged",
			       (unsigned long long)res->files_damaged,
			       (unsigned long long)(res->files_damaged + res->files_ok));
	return ST_OK;
}

/* ------------------------------------------------------------- extract -- */

static int
write_out(const void *buf, size_t len, void *ctx)
{
	return write_all(*(int *)ctx, buf, len) != 0 ? -1 : 0;
}

/* Open (creating folders) @path below @root without following any link. */
static int
create_below(int root, const char *path, bool overwrite)
{
	char *p = strdup(path);
	int dfd = dup(root), fd = -1;
	if (!p || dfd < 0)
		goto out;
	char *comp = p, *slash;
	while ((slash = strchr(comp, '/'))) {
		*slash = 0;
		if (mkdirat(dfd, comp, 0755) != 0 && errno != EEXIST)
			goto out;
		int nfd = openat(dfd, comp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		close(dfd);
		dfd = nfd;
		if (dfd < 0)
			goto out;
		comp = slash + 1;
	}
	fd = openat(dfd, comp, O_WRONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC |
		    (overwrite ? O_TRUNC : O_EXCL), 0644);
out:
	if (dfd >= 0)
		close(dfd);
	free(p);
	return fd;
}

static void
unlink_below(int root, const char *path)
{
	/* Only used right after create_below succeeded on the same path. */
	char *p = strdup(path);
	if (!p)
		return;
	char *slash = strrchr(p, '/');
	int dfd = root;
	if (slash) {
		*slash = 0;
		/* Folders were made by us; resolving again without O_NOFOLLOW per component
		 * is avoided by walking as create_below does. */
		dfd = -1;
		int cur = dup(root);
		char *comp = p, *s;
		while (cur >= 0 && comp) {
			s = strchr(comp, '/');
			if (s)
				*s = 0;
			int nfd = openat(cur, comp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			close(cur);
			cur = nfd;
			comp = s ? s + 1 : NULL;
		}
		dfd = cur;
	}
	if (dfd >= 0) {
		unlinkat(dfd, slash ? slash + 1 : p, 0);
		if (dfd != root)
			close(dfd);
	}
	free(p);
}

enum st_status
st_reader_extract(struct st_reader *r, const char *pattern, const char *dest, unsigned flags,
		  size_t *count)
{
	return st_reader_extract_report(r, pattern, dest, flags, NULL, NULL, count);
}

enum st_status
st_reader_extract_report(struct st_reader *r, const char *pattern, const char *dest,
			 unsigned flags, st_extract_fn fn, void *ctx, size_t *count)
{
	const struct st_catalog *c = r->cat;
	enum st_status first = ST_OK;
	char first_msg[1024] = "";
	size_t done = 0;
	if (count)
		*count = 0;
	if (flags & ~ST_EXTRACT_OVERWRITE)
		return st_fail(ST_ERR_INVALID, "unknown extract flags 0x%x", flags);
	if (mkdir(dest, 0755) != 0 && errno != EEXIST)
		return st_fail_errno(ST_ERR_IO, "cannot create %s", dest);
	int root = open(dest, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (root < 0)
		return st_fail_errno(ST_ERR_IO, "cannot open %s", dest);
	for (size_t i = 0; i < c->file_count; i++) {
		const struct st_file *f = &c->files[i];
		if (pattern && fnmatch(pattern, f->path, FNM_CASEFOLD) != 0)
			continue;
		if (f->attributes & NV_ATTR_DIRECTORY)
			continue; /* a junction or folder link: no data, and never made here */
		enum st_status st = st_check_path(f->path); /* checked at open; cheap to repeat */
		if (!st && f->raw_efs)
			st = st_fail(ST_ERR_REFUSED, "%s is EFS-encrypted and stored raw: its data is "
				     "ciphertext, not the file, so it is not extracted (winstate load "
				     "puts it back encrypted onto an NTFS volume)", f->path);
		/* A name Linux cannot hold gets the directory store's encoded name:
		 * the same rule, so no two files meet (store/names.c). */
		bool renamed = false;
		char *out = st ? NULL : dir_map_path(f->path, &renamed);
		if (!st && !out)
			st = st_fail(ST_ERR_NOMEM, "out of memory");
		int fd = st ? -1 : create_below(root, out, flags & ST_EXTRACT_OVERWRITE);
		if (!st && fd < 0)
			st = st_fail_errno(errno == EEXIST ? ST_ERR_EXISTS : ST_ERR_IO,
					   "cannot create %s/%s", dest, out);
		if (!st) {
			st = st_reader_read(r, i, 0, write_out, &fd);
			if (!st) {
				/* NTFS times to Unix: 100 ns since 1601 -> s since 1970. */
				struct timespec ts[2];
				for (int k = 0; k < 2; k++) {
					uint64_t t = f->times[k ? NV_TIME_WRITE : NV_TIME_ACCESS];
					int64_t u = (int64_t)(t / 10000000) - 11644473600ll;
					ts[k] = (struct timespec){ u, (long)(t % 10000000) * 100 };
				}
				if (f->times[NV_TIME_WRITE])
					futimens(fd, ts);
			}
			if (close(fd) != 0 && !st)
				st = st_fail_errno(ST_ERR_IO, "cannot write %s/%s", dest, out);
			if (st) {
				char keep[1024];
				snprintf(keep, sizeof(keep), "%s", st_last_error());
				unlink_below(root, out);
				st_fail(st, "%s", keep);
			} else {
				done++;
				if (renamed && fn)
					fn(f->path, out, NULL, ctx);
			}
		}
		if (st && fn)
			fn(f->path, renamed ? out : NULL, st_last_error(), ctx);
		free(out);
		if (st && !first) {
			first = st;
			snprintf(first_msg, sizeof(first_msg), "%s", st_last_error());
		}
	}
	close(root);
	if (count)
		*count = done;
	if (first)
		return st_fail(first, "%s", first_msg);
	return ST_OK;
}
