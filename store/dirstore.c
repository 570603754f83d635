/*
 * The directory store (/nocompress): a folder anyone can browse.
 *
 *   STORE/USMT/File/C$/<path>      each captured file's unnamed data, as is
 *   STORE/USMT/Streams/<blake2b>   named streams, by content (stored once)
 *   STORE/catalog                  metadata, registry, checksums (catalog.c)
 *   STORE/report.json ...          files the caller puts next to it
 *
 * A name that does not fit a Linux folder (longer than 255 bytes, ...) is
 * stored under an encoded name (store/names.c); the catalog, which keeps the
 * real one, says so and readers map it the same way.
 *
 * Hard links among captured files are hard links here too (link(2)), so the
 * data is stored once.  The catalog is written last, atomically (catalog.tmp,
 * fsync, rename, fsync of the folder) after a syncfs of the store: a folder
 * without STORE/catalog is an unfinished capture and readers say so.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "store/internal.h"

struct dir_w {
	char *dir;
	char letter;
	int fd;            /* the data file being written, or -1 */
	char *cur;         /* its path (absolute) */
	bool named;        /* the current stream is a named one (written to a temp file) */
	char *tmp;
	uint64_t tmp_seq;
	bool encoded;      /* a name was stored encoded: the catalog must say so */
};

/* Failures that come from one file's name (the host folder cannot hold it,
 * or a name the host folds onto another): that file is refused, the store
 * goes on.  Anything else (a full disk, an I/O error) is the store's own. */
static enum st_status
name_status(int e)
{
	switch (e) {
	case ENAMETOOLONG:
	case EILSEQ:
	case EINVAL:
	case EEXIST:
	case ENOTDIR:
	case EISDIR:
		return ST_ERR_REFUSED;
	default:
		return ST_ERR_IO;
	}
}

static char *
join(const char *a, const char *b)
{
	char *s;
	return asprintf(&s, "%s/%s", a, b) < 0 ? NULL : s;
}

/* mkdir -p every folder above @path (not @path itself), from @base on. */
static enum st_status
make_parents(const char *base, const char *path)
{
	char *p = strdup(path);
	if (!p)
		return st_fail(ST_ERR_NOMEM, "out of memory");
	for (char *s = p + strlen(base) + 1; (s = strchr(s, '/')); s++) {
		*s = 0;
		if (mkdir(p, 0755) != 0 && errno != EEXIST) {
			/* The reason first: a deep path would push it out of the sentence. */
			int e = errno;
			enum st_status st = e == ENOMEM ? ST_ERR_NOMEM :
				st_fail(name_status(e), "cannot create a folder in the store (%s): %s",
					strerror(e), p + strlen(base) + 1);
			free(p);
			return st;
		}
		*s = '/';
	}
	free(p);
	return ST_OK;
}

static enum st_status
dir_begin_file(void *impl, struct st_writer *w, const struct st_file *f, bool *need_data)
{
	struct dir_w *d = impl;
	enum st_status st;
	(void)w;
	bool encoded = false;
	char *rel = dir_layout_path(d->letter, f->path, true, &encoded);
	d->cur = rel ? join(d->dir, rel) : NULL;
	free(rel);
	if (!d->cur)
		return st_fail(ST_ERR_NOMEM, "out of memory");
	if ((st = make_parents(d->dir, d->cur)))
		goto fail;
	d->fd = open(d->cur, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0644);
	if (d->fd < 0) {
		int e = errno;
		st = e == ENOMEM ? st_fail(ST_ERR_NOMEM, "out of memory") :
			st_fail(name_status(e), "cannot create in the store (%s%s): %s (as %s)",
				strerror(e), e == EEXIST ? ": the store's folder already holds a name "
				"it takes as the same, e.g. one differing only in case on a host folder "
				"that folds case" : "", f->path, d->cur + strlen(d->dir) + 1);
		goto fail;
	}
	d->encoded |= encoded;
	*need_data = true;
	return ST_OK;
fail:
	free(d->cur);
	d->cur = NULL;
	return st;
}

static enum st_status
dir_link_file(void *impl, const struct st_file *f, const struct st_file *target)
{
	struct dir_w *d = impl;
	enum st_status st = ST_OK;
	bool encoded = false;
	char *r1 = dir_layout_path(d->letter, f->path, true, &encoded);
	char *r2 = dir_layout_path(d->letter, target->path, true, NULL);
	char *p1 = r1 ? join(d->dir, r1) : NULL, *p2 = r2 ? join(d->dir, r2) : NULL;
	if (!p1 || !p2)
		st = st_fail(ST_ERR_NOMEM, "out of memory");
	else if (!(st = make_parents(d->dir, p1)) && link(p2, p1) != 0) {
		/* EPERM: a host without hard links (FAT, exFAT); EMLINK: the data
		 * file has as many names as the host allows.  Only this name is
		 * lost.  The reason first, as in begin_file. */
		int e = errno;
		st = e == ENOMEM ? st_fail(ST_ERR_NOMEM, "out of memory") :
			st_fail(e == EPERM || e == EMLINK ? ST_ERR_REFUSED : name_status(e),
				"cannot link in the store (%s): %s to %s (as %s)", strerror(e),
				f->path, target->path, r1);
	}
	if (!st)
		d->encoded |= encoded;
	free(r1);
	free(r2);
	free(p1);
	free(p2);
	return st;
}

static enum st_status
dir_begin_stream(void *impl, const char *name)
{
	struct dir_w *d = impl;
	if (!name[0])
		return ST_OK; /* the unnamed stream goes to the file opened by begin_file */
	if (d->fd >= 0 && close(d->fd) != 0) {
		d->fd = -1;
		return st_fail_errno(ST_ERR_IO, "cannot write %s", d->cur);
	}
	free(d->tmp);
	if (asprintf(&d->tmp, "%s/USMT/Streams/tmp.%llu", d->dir,
		     (unsigned long long)d->tmp_seq++) < 0) {
		d->tmp = NULL;
		return st_fail(ST_ERR_NOMEM, "out of memory");
	}
	d->fd = open(d->tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);
	if (d->fd < 0)
		return st_fail_errno(ST_ERR_IO, "cannot create %s", d->tmp);
	d->named = true;
	return ST_OK;
}

static enum st_status
dir_write(void *impl, const void *buf, size_t len)
{
	struct dir_w *d = impl;
	if (write_all(d->fd, buf, len) != 0)
		return st_fail_errno(ST_ERR_IO, "cannot write %s", d->named ? d->tmp : d->cur);
	return ST_OK;
}

static enum st_status
dir_end_stream(void *impl, const uint8_t *hash, uint64_t size, uint64_t *offset, bool *dup)
{
	struct dir_w *d = impl;
	*offset = 0;
	*dup = false;
	if (!d->named)
		return ST_OK;
	enum st_status st = ST_OK;
	int rc = close(d->fd);
	d->fd = -1;
	d->named = false;
	if (rc != 0)
		return st_fail_errno(ST_ERR_IO, "cannot write %s", d->tmp);
	char *rel = stream_store_name(hash), *final = rel ? join(d->dir, rel) : NULL;
	if (!final)
		st = st_fail(ST_ERR_NOMEM, "out of memory");
	else if (size == 0 || access(final, F_OK) == 0) {
		*dup = size != 0;
		unlink(d->tmp);
	} else if (rename(d->tmp, final) != 0)
		st = st_fail_errno(ST_ERR_IO, "cannot rename %s", d->tmp);
	free(rel);
	free(final);
	return st;
}

static enum st_status
dir_end_file(void *impl)
{
	struct dir_w *d = impl;
	enum st_status st = ST_OK;
	if (d->fd >= 0 && close(d->fd) != 0)
		st = st_fail_errno(ST_ERR_IO, "cannot write %s", d->cur);
	d->fd = -1;
	free(d->cur);
	d->cur = NULL;
	return st;
}

static enum st_status
dir_cancel_file(void *impl, bool in_stream)
{
	struct dir_w *d = impl;
	(void)in_stream;
	if (d->fd >= 0)
		close(d->fd);
	d->fd = -1;
	if (d->named && d->tmp)
		unlink(d->tmp);
	d->named = false;
	enum st_status st = ST_OK;
	if (d->cur && unlink(d->cur) != 0 && errno != ENOENT)
		st = st_fail_errno(ST_ERR_IO, "cannot remove the unfinished %s from the store", d->cur);
	free(d->cur);
	d->cur = NULL;
	return st;
}

static enum st_status
dir_put_file(void *impl, const char *name, const void *data, size_t len)
{
	struct dir_w *d = impl;
	return put_file_atomic(d->dir, name, data, len);
}

static enum st_status
dir_prepare(void *impl, struct st_catalog *c)
{
	struct dir_w *d = impl;
	if (d->encoded) {
		c->info.encoded_names = true;
		if (c->info.version < ST_CATALOG_VERSION_NAMES)
			c->info.version = ST_CATALOG_VERSION_NAMES;
	}
	return ST_OK;
}

static enum st_status
dir_finish(void *impl, struct cat_source *cat)
{
	struct dir_w *d = impl;
	int fd = open(d->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0 || syncfs(fd) != 0) {
		enum st_status st = st_fail_errno(ST_ERR_IO, "cannot sync %s", d->dir);
		if (fd >= 0)
			close(fd);
		return st;
	}
	close(fd);
	return cat_source_to_file(cat, d->dir, "catalog");
}

static void
dir_destroy(void *impl, bool aborted)
{
	struct dir_w *d = impl;
	(void)aborted;
	if (d->fd >= 0)
		close(d->fd);
	if (d->named && d->tmp)
		unlink(d->tmp);
	free(d->tmp);
	free(d->cur);
	free(d->dir);
	free(d);
}

static const struct writer_ops dir_ops = {
	.name = "directory",
	.link_needs_path = true,
	.begin_file = dir_begin_file,
	.link_file = dir_link_file,
	.begin_stream = dir_begin_stream,
	.write = dir_write,
	.end_stream = dir_end_stream,
	.end_file = dir_end_file,
	.cancel_file = dir_cancel_file,
	.put_file = dir_put_file,
	.prepare_catalog = dir_prepare,
	.finish = dir_finish,
	.destroy = dir_destroy,
};

enum st_status
dirstore_create(const struct st_create_options *o, const struct writer_ops **ops, void **impl)
{
	struct dir_w *d = calloc(1, sizeof(*d));
	enum st_status st = ST_OK;
	if (!d || !(d->dir = strdup(o->path))) {
		free(d);
		return st_fail(ST_ERR_NOMEM, "out of memory");
	}
	d->fd = -1;
	d->letter = o->volume_letter ? o->volume_letter : 'C';
	char *cat = join(d->dir, "catalog"), *usmt = join(d->dir, "USMT");
	char *file = join(d->dir, "USMT/File"), *streams = join(d->dir, "USMT/Streams");
	if (!cat || !usmt || !file || !streams) {
		st = st_fail(ST_ERR_NOMEM, "out of memory");
		goto out;
	}
	if (mkdir(d->dir, 0755) != 0 && errno != EEXIST) {
		st = st_fail_errno(ST_ERR_IO, "cannot create store folder %s", d->dir);
		goto out;
	}
	if (access(cat, F_OK) == 0 || access(usmt, F_OK) == 0) {
		st = st_fail(ST_ERR_EXISTS, "there is already a store (or an unfinished one) in %s",
			     d->dir);
		goto out;
	}
	if (mkdir(usmt, 0755) != 0 || mkdir(file, 0755) != 0 || mkdir(streams, 0755) != 0)
		st = st_fail_errno(ST_ERR_IO, "cannot create the folders of store %s", d->dir);
out:
	free(cat);
	free(usmt);
	free(file);
	free(streams);
	if (st) {
		dir_destroy(d, true);
		return st;
	}
	*ops = &dir_ops;
	*impl = d;
	return ST_OK;
}

/* ------------------------------------------------------------ the reader -- */

struct dir_r {
	char *dir;
	char letter;
	bool encoded;      /* the catalog says names are stored encoded */
};

static enum st_status
dir_read_stream(void *impl, const struct st_catalog *c, size_t file, size_t stream,
		st_data_fn fn, void *ctx)
{
	struct dir_r *d = impl;
	const struct st_file *f = &c->files[file];
	const struct st_stream *s = &f->streams[stream];
	if (stream > 0 && s->size == 0)
		return ST_OK;
	char *rel = stream ? stream_store_name(s->hash) :
		    dir_layout_path(d->letter, f->path, d->encoded, NULL);
	char *path = rel ? join(d->dir, rel) : NULL;
	enum st_status st = ST_OK;
	free(rel);
	if (!path)
		return st_fail(ST_ERR_NOMEM, "out of memory");
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0) {
		st = st_fail_errno(ST_ERR_CORRUPT, "the data of %s is missing from the store (%s)",
				   f->path, path);
		free(path);
		return st;
	}
	uint8_t buf[65536];
	uint64_t total = 0;
	for (;;) {
		ssize_t n = read(fd, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			st = st_fail_errno(ST_ERR_IO, "cannot read %s", path);
			break;
		}
		if (n == 0)
			break;
		total += (uint64_t)n;
		if (total > s->size) {
			st = st_fail(ST_ERR_CORRUPT, "%s is damaged: longer than its catalog says",
				     f->path);
			break;
		}
		int rc = fn(buf, (size_t)n, ctx);
		if (rc) {
			st = rc > 0 && rc <= ST_ERR_COMPRESS ? (enum st_status)rc :
				st_fail(ST_ERR_IO, "reading was stopped by the caller");
			break;
		}
	}
	close(fd);
	free(path);
	return st;
}

static void
dir_close(void *impl)
{
	struct dir_r *d = impl;
	free(d->dir);
	free(d);
}

static const struct reader_ops dir_rops = {
	.read_stream = dir_read_stream,
	.check_file = NULL,
	.close = dir_close,
};

enum st_status
dirstore_open(const char *dir, struct st_catalog **cat, const struct reader_ops **ops, void **impl)
{
	enum st_status st;
	char *path = join(dir, "catalog");
	if (!path)
		return st_fail(ST_ERR_NOMEM, "out of memory");
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		st = st_fail(ST_ERR_INCOMPLETE, "%s has no catalog: the capture that wrote it did "
			     "not finish", dir);
		free(path);
		return st;
	}
	struct stat sb;
	uint8_t *data = NULL;
	if (fstat(fd, &sb) != 0 || sb.st_size > (off_t)(1ll << 31)) {
		st = st_fail(ST_ERR_CORRUPT, "%s is unusable (too large or unreadable)", path);
		goto out;
	}
	if (!(data = malloc((size_t)sb.st_size + 1))) {
		st = st_fail(ST_ERR_NOMEM, "out of memory reading %s", path);
		goto out;
	}
	if (pread_all(fd, data, (size_t)sb.st_size, 0) != 0) {
		st = st_fail_errno(ST_ERR_IO, "cannot read %s", path);
		goto out;
	}
	if ((st = catalog_parse(data, (size_t)sb.st_size, ST_FORMAT_DIRECTORY, 0, 0, cat)))
		goto out;
	struct dir_r *d = calloc(1, sizeof(*d));
	if (!d || !(d->dir = strdup(dir))) {
		free(d);
		catalog_free(*cat);
		*cat = NULL;
		st = st_fail(ST_ERR_NOMEM, "out of memory");
		goto out;
	}
	d->letter = (*cat)->info.volume_letter;
	d->encoded = (*cat)->info.encoded_names;
	*ops = &dir_rops;
	*impl = d;
out:
	close(fd);
	free(data);
	free(path);
	return st;
}
