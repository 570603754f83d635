/*
 * The writer front end shared by all formats: argument and call-order
 * checks, hard-link tracking by source id, BLAKE2b of every stream on the
 * way through, statistics, and the catalog; the format behind the const
 * struct writer_ops decides where the bytes go.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "store/internal.h"

enum wstate { W_IDLE, W_STREAM, W_NODATA, W_DEAD };

struct link_slot {
	uint64_t id;
	size_t file;
	bool used;
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
		if (!w->links[i].used || w->links[i].id == id)
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
			if (old[i].used)
				*link_find(w, old[i].id) = old[i];
		free(old);
	}
	struct link_slot *s = link_find(w, id);
	*s = (struct link_slot){ id, file, true };
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
	i->version = ST_CATALOG_VERSION;
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
	w->cur = *f;
	w->cur_link = -1;
	if (!(w->cur_path = strdup(f->path)))
		return st_fail(ST_ERR_NOMEM, "out of memory");
	w->cur.path = w->cur_path;
	struct link_slot *ls = f->source_id != ST_NO_SOURCE_ID ? link_find(w, f->source_id) : NULL;
	if (ls && ls->used) {
		w->cur_link = (int64_t)ls->file;
		st = w->ops->link_file(w->impl, &w->cur, &w->cat->files[ls->file]);
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
st_writer_end_file(struct st_writer *w)
{
	enum st_status st = ST_OK;
	if (w->state == W_DEAD || (w->state != W_STREAM && w->state != W_NODATA))
		return check_state(w, W_STREAM, "end_file");
	if (w->state == W_STREAM && (st = close_stream(w)))
		goto out;
	if (w->cur_link < 0 && (st = dead(w, w->ops->end_file(w->impl))))
		goto out;
	size_t index = w->cat->file_count;
	st = catalog_add_file(w->cat, &w->cur, w->cur_link, w->cur_link < 0 ? w->streams : NULL,
			      w->cur_link < 0 ? w->offsets : NULL,
			      w->cur_link < 0 ? w->stream_count : 0);
	if (st)
		goto out;
	if (w->cur_link >= 0)
		w->stats.links++;
	else
		w->stats.files++;
	if (w->cur_link < 0 && w->cur.source_id != ST_NO_SOURCE_ID)
		st = link_add(w, w->cur.source_id, index);
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
	free(w);
}

enum st_status
st_writer_finish(struct st_writer *w, int64_t end_time)
{
	enum st_status st = check_state(w, W_IDLE, "finish");
	struct buf b = { 0 };
	if (st)
		goto out;
	w->cat->info.end_time = end_time ? end_time : (int64_t)time(NULL);
	if ((st = w->ops->prepare_catalog(w->impl, w->cat)))
		goto out;
	if ((st = catalog_serialize(w->cat, &b)))
		goto out;
	st = w->ops->finish(w->impl, &b);
out:
	buf_free(&b);
	writer_free(w, st != ST_OK);
	return st;
}

void
st_writer_abort(struct st_writer *w)
{
	if (w)
		writer_free(w, true);
}
