/*
 * The writer front end shared by all formats: argument and call-order
 * checks, hard-link tracking by source id, BLAKE2b of every stream on the
 * way through, statistics, and the catalog; the format behind the const
 * struct writer_ops decides where the bytes go.
 *
 * Memory: a capture may hold millions of files, so a finished file is not
 * kept: its catalog record is serialised at once and compressed into the
 * spool (paths, owners, decisions and security descriptors repeat, so it
 * shrinks to a fraction), and the catalog is produced piece by piece
 * at the end (struct cat_source).  What stays per file is a link-table slot
 * (16 bytes, 32 with the table's slack).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <zstd.h>

#include "store/internal.h"

#define SPOOL_CHUNK (1u << 20)
#define SPOOL_LEVEL 1 /* a transient copy: speed over size */

/* The FILE records, compressed as they come. */
struct spool {
	ZSTD_CCtx *cctx;
	struct spool_chunk {
		uint8_t *p;
		size_t len;
	} *chunks;
	size_t n, cap;
	uint64_t raw;        /* uncompressed bytes */
};

static enum st_status
spool_put(struct spool *sp, const void *p, size_t len, ZSTD_EndDirective end)
{
	if (!sp->cctx) {
		if (!(sp->cctx = ZSTD_createCCtx()))
			return st_fail(ST_ERR_NOMEM, "out of memory for the catalog");
		ZSTD_CCtx_setParameter(sp->cctx, ZSTD_c_compressionLevel, SPOOL_LEVEL);
	}
	ZSTD_inBuffer in = { p, len, 0 };
	for (;;) {
		if (sp->n == 0 || sp->chunks[sp->n - 1].len == SPOOL_CHUNK) {
			if (sp->n == sp->cap) {
				size_t cap = sp->cap ? sp->cap * 2 : 16;
				struct spool_chunk *c = realloc(sp->chunks, cap * sizeof(*c));
				if (!c)
					return st_fail(ST_ERR_NOMEM, "out of memory for the catalog");
				sp->chunks = c;
				sp->cap = cap;
			}
			if (!(sp->chunks[sp->n].p = malloc(SPOOL_CHUNK)))
				return st_fail(ST_ERR_NOMEM, "out of memory for the catalog");
			sp->chunks[sp->n++].len = 0;
		}
		struct spool_chunk *c = &sp->chunks[sp->n - 1];
		ZSTD_outBuffer out = { c->p, SPOOL_CHUNK, c->len };
		size_t r = ZSTD_compressStream2(sp->cctx, &out, &in, end);
		c->len = out.pos;
		if (ZSTD_isError(r))
			return st_fail(ST_ERR_COMPRESS, "zstd could not compress the catalog: %s",
				       ZSTD_getErrorName(r));
		if (end == ZSTD_e_end ? r == 0 : in.pos == in.size)
			break;
	}
	sp->raw += len;
	return ST_OK;
}

static void
spool_free(struct spool *sp)
{
	ZSTD_freeCCtx(sp->cctx);
	for (size_t i = 0; i < sp->n; i++)
		free(sp->chunks[i].p);
	free(sp->chunks);
	memset(sp, 0, sizeof(*sp));
}

struct cat_source {
	struct buf head, tail;
	const struct spool *sp;
	ZSTD_DCtx *dctx;
	size_t chunk, chunk_pos;
	uint64_t files_out;
	int phase;
	uint8_t *out;
	crypto_generichash_state hash;
	uint8_t sum[ST_HASH_BYTES];
	uint64_t length;
};

uint64_t
cat_source_length(const struct cat_source *s)
{
	return s->length;
}

enum st_status
cat_source_next(struct cat_source *s, const uint8_t **p, size_t *len)
{
	*len = 0;
	switch (s->phase) {
	case 0:
		s->phase = 1;
		*p = s->head.p;
		*len = s->head.len;
		break;
	case 1:
		if (s->files_out == s->sp->raw) {
			s->phase = 2;
			return cat_source_next(s, p, len);
		}
		if (!s->out && !(s->out = malloc(SPOOL_CHUNK)))
			return st_fail(ST_ERR_NOMEM, "out of memory writing the catalog");
		ZSTD_outBuffer out = { s->out, SPOOL_CHUNK, 0 };
		while (out.pos < out.size && s->chunk < s->sp->n) {
			const struct spool_chunk *c = &s->sp->chunks[s->chunk];
			ZSTD_inBuffer in = { c->p, c->len, s->chunk_pos };
			size_t r = ZSTD_decompressStream(s->dctx, &out, &in);
			if (ZSTD_isError(r))
				return st_fail(ST_ERR_STATE, "internal error: the catalog spool cannot be "
					       "read back (%s)", ZSTD_getErrorName(r));
			s->chunk_pos = in.pos;
			if (in.pos == in.size && out.pos < out.size) {
				s->chunk++;
				s->chunk_pos = 0;
			}
		}
		if (out.pos == 0 || s->files_out + out.pos > s->sp->raw)
			return st_fail(ST_ERR_STATE, "internal error: the catalog spool holds %llu "
				       "bytes, not %llu", (unsigned long long)(s->files_out + out.pos),
				       (unsigned long long)s->sp->raw);
		s->files_out += out.pos;
		*p = s->out;
		*len = out.pos;
		break;
	case 2:
		s->phase = 3;
		*p = s->tail.p;
		*len = s->tail.len;
		break;
	case 3:
		s->phase = 4;
		crypto_generichash_final(&s->hash, s->sum, sizeof(s->sum));
		*p = s->sum;
		*len = sizeof(s->sum);
		return ST_OK;
	default:
		return ST_OK;
	}
	crypto_generichash_update(&s->hash, *p, *len);
	return ST_OK;
}

static enum st_status
cat_source_chunk(void *ctx, const uint8_t **p, size_t *len)
{
	return cat_source_next(ctx, p, len);
}

enum st_status
cat_source_to_file(struct cat_source *s, const char *dir, const char *name)
{
	return write_file_atomic(dir, name, cat_source_chunk, s);
}

enum wstate { W_IDLE, W_STREAM, W_NODATA, W_DEAD };

struct link_slot {
	uint64_t id;
	uint32_t file1;      /* 1 + index of the file; 0: free */
};

struct st_writer {
	const struct writer_ops *ops;
	void *impl;
	struct st_catalog *cat;
	enum wstate state;
	/* The file being written. */
	struct st_file cur;
	char *cur_path;
	int64_t cur_link;
	struct st_stream *streams;
	uint64_t *offsets;
	size_t stream_count, stream_cap;
	crypto_generichash_state hash;
	uint64_t stream_bytes;
	/* source id -> first file with it */
	struct link_slot *links;
	size_t link_cap, link_count;
	/* Finished files: their records in the spool, their paths only when the
	 * format links by path. */
	struct spool spool;
	struct buf rec;
	size_t file_count;
	char **paths;
	size_t paths_cap;
	struct st_writer_stats stats;
};

static uint64_t
mix(uint64_t x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdULL;
	x ^= x >> 33;
	return x;
}

static struct link_slot *
link_find(struct st_writer *w, uint64_t id)
{
	if (!w->link_cap)
		return NULL;
	for (size_t i = mix(id) & (w->link_cap - 1);; i = (i + 1) & (w->link_cap - 1))
		if (!w->links[i].file1 || w->links[i].id == id)
			return &w->links[i];
}

static enum st_status
link_add(struct st_writer *w, uint64_t id, size_t file)
{
	if ((w->link_count + 1) * 2 > w->link_cap) {
		size_t ncap = w->link_cap ? w->link_cap * 2 : 1024;
		struct link_slot *old = w->links;
		size_t ocap = w->link_cap;
		w->links = calloc(ncap, sizeof(*w->links));
		if (!w->links) {
			w->links = old;
			return st_fail(ST_ERR_NOMEM, "out of memory");
		}
		w->link_cap = ncap;
		for (size_t i = 0; i < ocap; i++)
			if (old[i].file1)
				*link_find(w, old[i].id) = old[i];
		free(old);
	}
	if (file >= UINT32_MAX)
		return st_fail(ST_ERR_NOMEM, "more than 4 billion files in one store");
	struct link_slot *s = link_find(w, id);
	*s = (struct link_slot){ id, (uint32_t)file + 1 };
	w->link_count++;
	return ST_OK;
}

enum st_status
st_writer_create(const struct st_create_options *opts, struct st_writer **out)
{
	enum st_status st;
	*out = NULL;
	if ((st = crypto_init()))
		return st;
	if (!opts || !opts->path)
		return st_fail(ST_ERR_INVALID, "no store path was given");
	char letter = opts->volume_letter ? opts->volume_letter : 'C';
	if (!((letter >= 'A' && letter <= 'Z') || (letter >= 'a' && letter <= 'z')))
		return st_fail(ST_ERR_INVALID, "volume letter '%c' is not a letter", letter);
	bool encrypted = opts->key && opts->key->kind != ST_KEY_NONE;
	if (encrypted && opts->format != ST_FORMAT_COMPRESSED)
		return st_fail(ST_ERR_INVALID, "only compressed stores can be encrypted "
			       "(as in USMT, /encrypt does not go with /nocompress)");
	struct st_writer *w = calloc(1, sizeof(*w));
	if (!w || !(w->cat = catalog_new())) {
		free(w);
		return st_fail(ST_ERR_NOMEM, "out of memory");
	}
	struct st_store_info *i = &w->cat->info;
	struct arena *a = &w->cat->arena;
	i->format = opts->format;
	i->version = ST_CATALOG_VERSION_FILES;
	i->computer = arena_strdup(a, opts->computer);
	i->windows_version = arena_strdup(a, opts->windows_version);
	i->winstate_version = arena_strdup(a, opts->winstate_version);
	i->volume_letter = letter;
	i->start_time = opts->start_time ? opts->start_time : (int64_t)time(NULL);
	i->encrypted = encrypted;
	switch (opts->format) {
	case ST_FORMAT_COMPRESSED:
		st = packstore_create(opts, &w->ops, &w->impl);
		break;
	case ST_FORMAT_DIRECTORY:
		st = dirstore_create(opts, &w->ops, &w->impl);
		break;
	case ST_FORMAT_HARDLINK:
		st = linkstore_create(opts, &w->ops, &w->impl);
		break;
	default:
		st = st_fail(ST_ERR_INVALID, "unknown store format %d", (int)opts->format);
	}
	if (st) {
		catalog_free(w->cat);
		free(w);
		return st;
	}
	*out = w;
	return ST_OK;
}

static enum st_status
dead(struct st_writer *w, enum st_status st)
{
	/* Failures of the store itself (not of one file) make the writer unusable. */
	if (st != ST_OK && st != ST_ERR_REFUSED && st != ST_ERR_UNSAFE && st != ST_ERR_INVALID &&
	    st != ST_ERR_STATE)
		w->state = W_DEAD;
	return st;
}

static enum st_status
check_state(struct st_writer *w, enum wstate want, const char *fn)
{
	if (w->state == W_DEAD)
		return st_fail(ST_ERR_STATE, "%s: the store failed earlier and cannot be written", fn);
	if (w->state != want)
		return st_fail(ST_ERR_STATE, "%s called out of order", fn);
	return ST_OK;
}

static enum st_status
push_stream(struct st_writer *w, const char *name, uint64_t size, bool has_hash,
	    const uint8_t *hash, uint64_t offset)
{
	if (w->stream_count == w->stream_cap) {
		size_t n = w->stream_cap ? w->stream_cap * 2 : 8;
		struct st_stream *s = realloc(w->streams, n * sizeof(*s));
		if (s)
			w->streams = s;
		uint64_t *o = realloc(w->offsets, n * sizeof(*o));
		if (o)
			w->offsets = o;
		if (!s || !o)
			return st_fail(ST_ERR_NOMEM, "out of memory");
		w->stream_cap = n;
	}
	struct st_stream *s = &w->streams[w->stream_count];
	s->name = strdup(name);
	if (!s->name)
		return st_fail(ST_ERR_NOMEM, "out of memory");
	s->size = size;
	s->has_hash = has_hash;
	if (has_hash)
		memcpy(s->hash, hash, ST_HASH_BYTES);
	w->offsets[w->stream_count++] = offset;
	w->stats.streams++;
	return ST_OK;
}

enum st_status
writer_record_stream(struct st_writer *w, const char *name, uint64_t size)
{
	return push_stream(w, name, size, false, NULL, 0);
}

static void
clear_file(struct st_writer *w)
{
	for (size_t i = 0; i < w->stream_count; i++)
		free((char *)w->streams[i].name);
	w->stream_count = 0;
	free(w->cur_path);
	w->cur_path = NULL;
}

static enum st_status
open_stream(struct st_writer *w, const char *name)
{
	enum st_status st = w->ops->begin_stream(w->impl, name);
	if (st)
		return dead(w, st);
	crypto_generichash_init(&w->hash, NULL, 0, ST_HASH_BYTES);
	w->stream_bytes = 0;
	/* Reserve the record; its size and hash are filled by close_stream. */
	st = push_stream(w, name, 0, true, (const uint8_t[ST_HASH_BYTES]){ 0 }, 0);
	w->stats.streams--;
	return st;
}

static enum st_status
close_stream(struct st_writer *w)
{
	struct st_stream *s = &w->streams[w->stream_count - 1];
	bool dup = false;
	crypto_generichash_final(&w->hash, s->hash, ST_HASH_BYTES);
	s->size = w->stream_bytes;
	enum st_status st = w->ops->end_stream(w->impl, s->hash, s->size,
					       &w->offsets[w->stream_count - 1], &dup);
	if (st)
		return dead(w, st);
	w->stats.streams++;
	if (dup)
		w->stats.dedup_hits++;
	else
		w->stats.bytes_stored += s->size;
	return ST_OK;
}

/* The catalog's version is the highest any entry needs. */
static void
raise_version(struct st_writer *w, uint32_t version)
{
	if (w->cat->info.version < version)
		w->cat->info.version = version;
}

enum st_status
st_writer_begin_file(struct st_writer *w, const struct st_file *f, bool *need_data)
{
	enum st_status st;
	*need_data = false;
	if ((st = check_state(w, W_IDLE, "begin_file")))
		return st;
	if (!f || !f->path)
		return st_fail(ST_ERR_INVALID, "begin_file: no path");
	if ((st = st_check_path(f->path)))
		return st_fail(st, "\"%s\" cannot go into a store: %s", f->path, st_last_error());
	if (f->security_len > (64u << 20) || f->reparse_len > (64u << 20))
		return st_fail(ST_ERR_INVALID, "\"%s\": security descriptor or reparse data too large",
			       f->path);
	if (f->ea_len > NV_EA_MAX || (f->ea_len && !f->ea))
		return st_fail(ST_ERR_INVALID, "\"%s\": %zu bytes of extended attributes (NTFS "
			       "holds at most %u)", f->path, f->ea_len, NV_EA_MAX);
	bool folder = (f->attributes & NV_ATTR_DIRECTORY) != 0;
	if (folder && (!f->reparse_len || !f->reparse) && !f->ea_len)
		return st_fail(ST_ERR_INVALID, "\"%s\" is a folder: a store keeps a folder only as a "
			       "junction or symbolic link (with its reparse data), or for its "
			       "extended attributes", f->path);
	w->cur = *f;
	w->cur_link = -1;
	if (!(w->cur_path = strdup(f->path)))
		return st_fail(ST_ERR_NOMEM, "out of memory");
	w->cur.path = w->cur_path;
	if (f->ea_len) /* older readers would not see the EAs: they must refuse the store */
		raise_version(w, ST_CATALOG_VERSION_EA);
	if (folder) {
		/* A junction or folder symlink: a catalog entry of its own (no data,
		 * nothing in the store's folders, never a hard link), and the
		 * catalog becomes version 2 so older readers refuse it plainly. */
		raise_version(w, ST_CATALOG_VERSION_FOLDERS);
		w->state = W_NODATA;
		return ST_OK;
	}
	struct link_slot *ls = f->source_id != ST_NO_SOURCE_ID ? link_find(w, f->source_id) : NULL;
	if (ls && ls->file1) {
		w->cur_link = (int64_t)ls->file1 - 1;
		struct st_file target = { .source_id = f->source_id,
					  .path = w->paths ? w->paths[ls->file1 - 1] : NULL };
		st = w->ops->link_file(w->impl, &w->cur, &target);
		if (st) {
			clear_file(w);
			return dead(w, st);
		}
		w->state = W_NODATA;
		return ST_OK;
	}
	bool data = true;
	st = w->ops->begin_file(w->impl, w, &w->cur, &data);
	if (st) {
		clear_file(w);
		return dead(w, st);
	}
	if (data) {
		if ((st = open_stream(w, ""))) {
			clear_file(w);
			return dead(w, st);
		}
		w->state = W_STREAM;
	} else {
		w->state = W_NODATA;
	}
	*need_data = data;
	return ST_OK;
}

enum st_status
st_writer_write_data(struct st_writer *w, const void *buf, size_t len)
{
	enum st_status st;
	if ((st = check_state(w, W_STREAM, "write_data")))
		return st;
	if (!len)
		return ST_OK;
	crypto_generichash_update(&w->hash, buf, len);
	w->stream_bytes += len;
	w->stats.bytes_in += len;
	return dead(w, w->ops->write(w->impl, buf, len));
}

enum st_status
st_writer_begin_stream(struct st_writer *w, const char *name)
{
	enum st_status st;
	if ((st = check_state(w, W_STREAM, "begin_stream")))
		return st;
	if (!name || (st = check_stream_name(name)))
		return st_fail(ST_ERR_UNSAFE, "stream of \"%s\" cannot go into a store: %s",
			       w->cur.path, name ? st_last_error() : "no name");
	if (!strcmp(name, ST_EFS_STREAM) && !(w->cur.attributes & NV_ATTR_ENCRYPTED))
		return st_fail(ST_ERR_INVALID, "\"%s\" is not EFS-encrypted: it has no $EFS metadata",
			       w->cur.path);
	/* Raw EFS data: an older reader would take the ciphertext for the file. */
	if (!strcmp(name, ST_EFS_STREAM))
		raise_version(w, ST_CATALOG_VERSION_FOLDERS);
	for (size_t i = 1; i < w->stream_count; i++)
		if (strcasecmp(w->streams[i].name, name) == 0)
			return st_fail(ST_ERR_INVALID, "\"%s\" already has a stream \"%s\"",
				       w->cur.path, name);
	if ((st = close_stream(w)))
		return st;
	return open_stream(w, name);
}

enum st_status
st_writer_add_stream(struct st_writer *w, const char *name, const void *data, size_t len)
{
	enum st_status st = st_writer_begin_stream(w, name);
	return st ? st : st_writer_write_data(w, data, len);
}

enum st_status
st_writer_cancel_file(struct st_writer *w)
{
	if (w->state == W_DEAD || (w->state != W_STREAM && w->state != W_NODATA))
		return check_state(w, W_STREAM, "cancel_file");
	enum st_status st = ST_OK;
	if (w->cur_link < 0 && !(w->cur.attributes & NV_ATTR_DIRECTORY)) {
		if (!w->ops->cancel_file)
			st = st_fail(ST_ERR_STATE, "a %s store cannot take back a file begun",
				     w->ops->name);
		else
			st = w->ops->cancel_file(w->impl, w->state == W_STREAM);
		if (w->state == W_STREAM)
			w->stats.bytes_in -= w->stream_bytes;
	}
	clear_file(w);
	w->state = st ? W_DEAD : W_IDLE;
	return st;
}

enum st_status
st_writer_end_file(struct st_writer *w)
{
	enum st_status st = ST_OK;
	if (w->state == W_DEAD || (w->state != W_STREAM && w->state != W_NODATA))
		return check_state(w, W_STREAM, "end_file");
	if (w->state == W_STREAM && (st = close_stream(w)))
		goto out;
	bool folder = (w->cur.attributes & NV_ATTR_DIRECTORY) != 0;
	if (w->cur_link < 0 && !folder && (st = dead(w, w->ops->end_file(w->impl))))
		goto out;
	size_t index = w->file_count;
	w->cur.streams = w->cur_link < 0 ? w->streams : NULL;
	w->cur.stream_count = w->cur_link < 0 ? w->stream_count : 0;
	w->rec.len = 0;
	catalog_put_file(&w->rec, &w->cur, w->cur_link, w->cur_link < 0 ? w->offsets : NULL);
	if (w->rec.failed) {
		st = dead(w, st_fail(ST_ERR_NOMEM, "out of memory"));
		goto out;
	}
	if ((st = dead(w, spool_put(&w->spool, w->rec.p, w->rec.len, ZSTD_e_continue))))
		goto out;
	if (w->ops->link_needs_path && w->cur_link < 0) {
		if (index >= w->paths_cap) {
			size_t cap = w->paths_cap ? w->paths_cap : 1024;
			while (cap <= index)
				cap *= 2;
			char **np = realloc(w->paths, cap * sizeof(*np));
			if (!np) {
				st = dead(w, st_fail(ST_ERR_NOMEM, "out of memory"));
				goto out;
			}
			memset(np + w->paths_cap, 0, (cap - w->paths_cap) * sizeof(*np));
			w->paths = np;
			w->paths_cap = cap;
		}
		if (!(w->paths[index] = strdup(w->cur.path))) {
			st = dead(w, st_fail(ST_ERR_NOMEM, "out of memory"));
			goto out;
		}
	}
	w->file_count++;
	if (w->cur_link >= 0)
		w->stats.links++;
	else
		w->stats.files++;
	if (w->cur_link < 0 && !folder && w->cur.source_id != ST_NO_SOURCE_ID)
		st = dead(w, link_add(w, w->cur.source_id, index));
out:
	clear_file(w);
	if (w->state != W_DEAD)
		w->state = st ? W_DEAD : W_IDLE;
	return st;
}

enum st_status
st_writer_add_user(struct st_writer *w, const struct st_user *u)
{
	enum st_status st = check_state(w, W_IDLE, "add_user");
	if (st)
		return st;
	if (!u || !u->sid)
		return st_fail(ST_ERR_INVALID, "add_user: no SID");
	return catalog_add_user(w->cat, u);
}

enum st_status
st_writer_add_registry(struct st_writer *w, const struct st_reg_value *v)
{
	enum st_status st = check_state(w, W_IDLE, "add_registry");
	if (st)
		return st;
	if (!v || !v->key || (v->len && !v->data))
		return st_fail(ST_ERR_INVALID, "add_registry: no key or no data");
	if (v->len > (64u << 20))
		return st_fail(ST_ERR_INVALID, "registry value %s\\%s is larger than 64 MiB", v->key,
			       v->name ? v->name : "");
	return catalog_add_reg(w->cat, v);
}

enum st_status
st_writer_add_skipped(struct st_writer *w, const struct st_skipped *s)
{
	enum st_status st = check_state(w, W_IDLE, "add_skipped");
	if (st)
		return st;
	if (!s || !s->path || !s->reason)
		return st_fail(ST_ERR_INVALID, "add_skipped: no path or no reason");
	return catalog_add_skipped(w->cat, s);
}

enum st_status
st_writer_put_file(struct st_writer *w, const char *name, const void *data, size_t len)
{
	if (w->state == W_DEAD)
		return check_state(w, W_IDLE, "put_file");
	if (!name || strchr(name, '/') || st_check_path(name) != ST_OK ||
	    strcasecmp(name, "catalog") == 0 || strcasecmp(name, "USMT") == 0)
		return st_fail(ST_ERR_INVALID, "\"%s\" is not a name a file next to the store can have",
			       name ? name : "");
	return w->ops->put_file(w->impl, name, data, len);
}

void
st_writer_stats(const struct st_writer *w, struct st_writer_stats *stats)
{
	*stats = w->stats;
}

static void
writer_free(struct st_writer *w, bool aborted)
{
	clear_file(w);
	w->ops->destroy(w->impl, aborted);
	catalog_free(w->cat);
	free(w->streams);
	free(w->offsets);
	free(w->links);
	spool_free(&w->spool);
	buf_free(&w->rec);
	if (w->paths)
		for (size_t i = 0; i < w->file_count && i < w->paths_cap; i++)
			free(w->paths[i]);
	free(w->paths);
	free(w);
}

enum st_status
st_writer_finish(struct st_writer *w, int64_t end_time)
{
	enum st_status st = check_state(w, W_IDLE, "finish");
	struct cat_source src = { .sp = &w->spool };
	if (st)
		goto out;
	w->cat->info.end_time = end_time ? end_time : (int64_t)time(NULL);
	/* The link table is not needed any more: its memory goes to the end. */
	free(w->links);
	w->links = NULL;
	w->link_cap = w->link_count = 0;
	if ((st = w->ops->prepare_catalog(w->impl, w->cat)))
		goto out;
	if ((st = spool_put(&w->spool, NULL, 0, ZSTD_e_end)))
		goto out;
	catalog_put_head(w->cat, &src.head, w->file_count, w->spool.raw);
	catalog_put_tail(w->cat, &src.tail);
	if (src.head.failed || src.tail.failed || !(src.dctx = ZSTD_createDCtx())) {
		st = st_fail(ST_ERR_NOMEM, "out of memory writing the catalog");
		goto out;
	}
	src.length = src.head.len + w->spool.raw + src.tail.len + ST_HASH_BYTES;
	crypto_generichash_init(&src.hash, NULL, 0, ST_HASH_BYTES);
	st = w->ops->finish(w->impl, &src);
out:
	buf_free(&src.head);
	buf_free(&src.tail);
	ZSTD_freeDCtx(src.dctx);
	free(src.out);
	writer_free(w, st != ST_OK);
	return st;
}

void
st_writer_abort(struct st_writer *w)
{
	if (w)
		writer_free(w, true);
}
