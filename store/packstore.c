/*
 * The compressed store (USMT's default): STORE/USMT/USMT.MIG, one file of
 * independent zstd frames.  Layout in docs/store-format.md; in short:
 *
 *   header (128) | dictionary | frame 0 | ... | dictionary copy | catalog | trailer (96)
 *
 * All streams are concatenated into one logical byte sequence, and every
 * stream is a frame of its own (a large one is cut into 4 MiB frames), so a
 * flipped bit damages one file and one file is extracted by decompressing
 * only its frames.  A stream records its logical offset; the catalog's frame
 * table maps logical offsets to frames.  Small streams are only batched (up
 * to 1 MiB) into one job for the compression threads.
 *
 * What per-file frames lose -- small files compressing across each other --
 * the dictionary gives back: the capture's first bytes are held in memory
 * until its small streams make a sample, a zstd dictionary is trained on
 * them, written (twice: after the header and after the last frame), and
 * every frame, the held ones included, is compressed with it.
 *
 * Dedup: every stream is hashed while it is written (BLAKE2b-256, in
 * writer.c).  When a stream ends and the same (size, hash) was stored before,
 * it points at the first copy and its bytes are taken back: they are still
 * held, or in the pending batch (small streams), or the stream started a
 * batch of its own (the batching rule guarantees it) and the frames since are
 * dropped: the pool is drained and the file truncated back.  So the data is
 * streamed once and duplicates cost no space.
 *
 * The file is written as USMT.MIG.partial and renamed to USMT.MIG after the
 * trailer is written and fsynced (file, then folder): a store named USMT.MIG
 * is always complete.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <zstd.h>
#define ZDICT_STATIC_LINKING_ONLY /* ZDICT_trainFromBuffer_fastCover */
#include <zdict.h>

#include "store/internal.h"

#define PACK_MAGIC "WSTPACK\x1a"
#define END_MAGIC "WSTPEND\x1a"
#define PACK_VERSION 2u          /* 1: no dictionary, small files share frames */
#define HEADER_SIZE 128u
#define TRAILER_V1 64u
#define TRAILER_SIZE 96u
#define FLAG_ENCRYPTED 1u
#define FLAG_PASSPHRASE 2u
#define PACK_LIMIT (1u << 20)   /* streams batched into one compression job */
#define JOB_FRAMES 4096u        /* frames in one job */
#define CHUNK (4u << 20)        /* frames of one large stream */
#define MAX_CATALOG (1ull << 31)
#define KDF_MAX_OPS 16ull
#define KDF_MAX_MEM (1ull << 30)
/* The dictionary: trained on the small streams of the first SAMPLE_BUDGET
 * bytes, which are held back (at most HOLD_MAX bytes, HOLD_STREAMS streams)
 * until it exists, so they are compressed with it too. */
#define SAMPLE_MAX_STREAM (128u << 10)
#define SAMPLE_BUDGET (16u << 20)
#define SAMPLE_MIN (64u << 10)
#define SAMPLE_MIN_COUNT 32u
#define HOLD_MAX (32u << 20)
#define HOLD_STREAMS 200000u
#define DICT_MAX (1u << 20)
#define DICT_MIN (16u << 10)
#define DICT_AD_INDEX (UINT64_MAX - 1)  /* frame AD of the sealed dictionary */

/* Dedup: the streams stored so far, densely, and an open-addressing index
 * of 32-bit slots into them (a million streams: 48 + 8 MiB). */
struct dedup_entry {
	uint64_t size, offset;
	uint8_t hash[ST_HASH_BYTES];
};

struct held_stream {
	uint64_t start;
	uint32_t len;
};

struct pack_w {
	char *dir, *usmt, *partial, *final;
	int fd;
	bool encrypted;
	int level;
	uint8_t key[32], store_id[16];
	struct pool *pool;
	uint8_t *block;
	size_t blen;
	uint32_t *bstart;        /* where each frame of the block starts */
	size_t nb;
	uint32_t *seglen;        /* scratch for submit */
	uint64_t block_uoff;     /* logical offset of block[0] */
	uint64_t stream_start;   /* logical offset where the current stream began */
	uint64_t next_index;     /* frames submitted */
	uint64_t file_off;       /* where the next emitted frame goes */
	struct cat_frame *frames; /* emitted */
	size_t nframes, frames_cap;
	uint64_t emitted_uend;
	struct dedup_entry *dd;
	size_t dd_count, dd_alloc;
	uint32_t *dd_index;      /* 1 + entry, 0 = free */
	size_t dd_cap;
	/* Until the dictionary is trained, the data is held: logical bytes
	 * [0, hlen) in @hold, with the streams that ended in it. */
	bool holding;
	uint8_t *hold;
	size_t hlen, hcap;
	struct held_stream *held;
	size_t nheld, held_cap;
	uint64_t sample_bytes;
	struct trainer *trainer;  /* training, on its own thread */
	/* The dictionary, once trained: as stored (sealed when encrypted). */
	uint8_t *dict_rec;
	size_t dict_rec_len, dict_len;
	uint64_t dict_off;
	ZSTD_CDict *cdict;
	bool finished;
};

/* ---------------------------------------------------------------- header -- */

static void
header_sum(const uint8_t *h, uint8_t out[16])
{
	crypto_generichash(out, 16, h, HEADER_SIZE - 16, NULL, 0);
}

/* ------------------------------------------------------------ the writer -- */

static enum st_status
emit_frames(void *ctx, uint64_t index, const uint8_t *data, size_t n, const uint32_t *csize,
	    const uint32_t *usize)
{
	struct pack_w *p = ctx;
	if (index != p->nframes)
		return st_fail(ST_ERR_STATE, "internal error: frame %llu emitted as frame %zu",
			       (unsigned long long)index, p->nframes);
	size_t total = 0;
	for (size_t k = 0; k < n; k++)
		total += csize[k];
	if (write_all(p->fd, data, total) != 0)
		return st_fail_errno(ST_ERR_IO, "cannot write %s", p->partial);
	if (p->nframes + n > p->frames_cap) {
		size_t cap = p->frames_cap ? p->frames_cap : 256;
		while (cap < p->nframes + n)
			cap *= 2;
		struct cat_frame *f = realloc(p->frames, cap * sizeof(*f));
		if (!f)
			return st_fail(ST_ERR_NOMEM, "out of memory");
		p->frames = f;
		p->frames_cap = cap;
	}
	for (size_t k = 0; k < n; k++) {
		p->frames[p->nframes++] = (struct cat_frame){ p->file_off, csize[k], usize[k],
							      p->emitted_uend };
		p->file_off += csize[k];
		p->emitted_uend += usize[k];
	}
	return ST_OK;
}

/* Submit the first @len bytes of the block (each stream in it a frame). */
static enum st_status
submit(struct pack_w *p, size_t len)
{
	if (!len)
		return ST_OK;
	size_t n = 0;
	while (n < p->nb && p->bstart[n] < len)
		n++;
	for (size_t k = 0; k < n; k++)
		p->seglen[k] = (k + 1 < n ? p->bstart[k + 1] : (uint32_t)len) - p->bstart[k];
	enum st_status st = pool_submit(p->pool, &p->block, p->seglen, n, p->next_index);
	p->next_index += n;
	p->block_uoff += len;
	p->nb = 0;
	return st;
}

/* Append to the block, cutting frames: packed small streams (each its own
 * frame) up to PACK_LIMIT per job, a stream that outgrows a pack moves to the
 * start of the next job, and a stream that starts a job is cut every CHUNK. */
static enum st_status
block_write(struct pack_w *p, const uint8_t *q, size_t len)
{
	while (len) {
		enum st_status st;
		bool own = p->stream_start <= p->block_uoff; /* the block starts with this stream */
		if (p->nb == 0 || p->block_uoff + p->bstart[p->nb - 1] < p->stream_start) {
			/* The first byte of this stream (or of this chunk of it) here. */
			if (p->nb == JOB_FRAMES) {
				if ((st = submit(p, p->blen)))
					return st;
				p->blen = 0;
				continue;
			}
			p->bstart[p->nb++] = (uint32_t)p->blen;
		}
		size_t limit = own ? CHUNK : PACK_LIMIT;
		if (p->blen >= limit)
			return st_fail(ST_ERR_STATE, "internal error: a batch of %zu bytes over its "
				       "limit", p->blen);
		size_t n = limit - p->blen < len ? limit - p->blen : len;
		memcpy(p->block + p->blen, q, n);
		p->blen += n;
		q += n;
		len -= n;
		if (p->blen < limit)
			continue;
		if (own) {
			st = submit(p, p->blen);
			p->blen = 0;
		} else {
			/* The stream outgrows a pack: the packed files before it become
			 * a job, and the stream moves to the start of the next one. */
			size_t keep = (size_t)(p->stream_start - p->block_uoff);
			uint8_t *old = p->block;
			st = submit(p, keep);
			/* @old now belongs to the pool, which only reads [0, keep). */
			memcpy(p->block, old + keep, p->blen - keep);
			p->blen -= keep;
			p->bstart[0] = 0;
			p->nb = 1;
		}
		if (st)
			return st;
	}
	return ST_OK;
}

/* A stream ended: a batch that reached PACK_LIMIT goes to the pool (so the
 * next stream never finds a block fuller than its limit). */
static enum st_status
stream_done(struct pack_w *p)
{
	if (p->blen < PACK_LIMIT)
		return ST_OK;
	enum st_status st = submit(p, p->blen);
	p->blen = 0;
	return st;
}

/* ------------------------------------------------------- the dictionary -- */

/* Training runs on a thread of its own while the capture goes on holding
 * (the compression threads are idle until then): it costs the capture no
 * time when reading is slower than training. */
struct trainer {
	pthread_t thread;
	uint8_t *samples;
	size_t *sizes;
	unsigned count;
	int level;
	uint8_t *dict;       /* result, or NULL */
	size_t cap, len;
	atomic_bool done;
};

static void *
train_thread(void *arg)
{
	struct trainer *t = arg;
	/* Fixed parameters rather than zstd's search: measured on the bench
	 * fixture, a tenth of the time for nearly the same ratio. */
	ZDICT_fastCover_params_t fp = { .k = 1024, .d = 8, .f = 18, .accel = 4,
					.zParams.compressionLevel = t->level };
	size_t len = ZDICT_trainFromBuffer_fastCover(t->dict, t->cap, t->samples, t->sizes, t->count,
						     fp);
	if (ZDICT_isError(len) || len < 256) {
		free(t->dict);
		t->dict = NULL;
	} else {
		t->len = len;
	}
	free(t->samples);
	free(t->sizes);
	t->samples = NULL;
	t->sizes = NULL;
	atomic_store(&t->done, true);
	return NULL;
}

/* Copy the held small streams out as samples and start training on them;
 * false when there is too little to learn from (frames then use no
 * dictionary) or no thread could be had. */
static bool
start_training(struct pack_w *p)
{
	size_t n = 0;
	for (size_t i = 0; i < p->nheld; i++)
		if (p->held[i].len <= SAMPLE_MAX_STREAM)
			n++;
	if (n < SAMPLE_MIN_COUNT || p->sample_bytes < SAMPLE_MIN)
		return false;
	struct trainer *t = calloc(1, sizeof(*t));
	if (!t)
		return false;
	t->cap = p->sample_bytes / 16;
	t->cap = t->cap > DICT_MAX ? DICT_MAX : t->cap < DICT_MIN ? DICT_MIN : t->cap;
	t->samples = malloc(p->sample_bytes);
	t->sizes = malloc(n * sizeof(*t->sizes));
	t->dict = malloc(t->cap);
	t->level = p->level;
	t->count = (unsigned)n;
	atomic_init(&t->done, false);
	if (t->samples && t->sizes && t->dict) {
		size_t at = 0, k = 0;
		for (size_t i = 0; i < p->nheld; i++)
			if (p->held[i].len <= SAMPLE_MAX_STREAM) {
				memcpy(t->samples + at, p->hold + p->held[i].start, p->held[i].len);
				at += p->held[i].len;
				t->sizes[k++] = p->held[i].len;
			}
		if (pthread_create(&t->thread, NULL, train_thread, t) == 0) {
			p->trainer = t;
			return true;
		}
	}
	free(t->samples);
	free(t->sizes);
	free(t->dict);
	free(t);
	return false;
}

/* Wait for the trainer; its dictionary (or NULL) becomes the caller's. */
static uint8_t *
finish_training(struct pack_w *p, size_t *len)
{
	struct trainer *t = p->trainer;
	if (!t)
		return NULL;
	pthread_join(t->thread, NULL);
	uint8_t *d = t->dict;
	*len = t->len;
	free(t);
	p->trainer = NULL;
	return d;
}

/* The dictionary as stored: BLAKE2b-128 of the rest, then the dictionary
 * (sealed when the store is encrypted). */
static enum st_status
dict_record(struct pack_w *p, const uint8_t *dict, size_t len)
{
	size_t body = len + (p->encrypted ? ST_SEAL_OVERHEAD : 0);
	if (!(p->dict_rec = malloc(16 + body)))
		return st_fail(ST_ERR_NOMEM, "out of memory");
	if (p->encrypted) {
		uint8_t ad[24];
		frame_ad(ad, p->store_id, DICT_AD_INDEX);
		crypto_seal(p->key, ad, sizeof(ad), dict, len, p->dict_rec + 16);
	} else {
		memcpy(p->dict_rec + 16, dict, len);
	}
	crypto_generichash(p->dict_rec, 16, p->dict_rec + 16, body, NULL, 0);
	p->dict_rec_len = 16 + body;
	p->dict_len = len;
	return ST_OK;
}

/* Take the dictionary (training it now if that had not started), write it,
 * and send the held data on to be compressed with it.  The logical offsets
 * given out meanwhile stay valid: the held bytes are the start of the
 * logical sequence, unchanged. */
static enum st_status
stop_holding(struct pack_w *p, bool in_stream)
{
	enum st_status st = ST_OK;
	size_t dict_len = 0;
	if (!p->trainer)
		start_training(p);
	uint8_t *dict = finish_training(p, &dict_len);
	p->holding = false;
	if (dict) {
		p->cdict = ZSTD_createCDict(dict, dict_len, p->level);
		if (!p->cdict)
			st = st_fail(ST_ERR_NOMEM, "out of memory for the compression dictionary");
		if (!st)
			st = dict_record(p, dict, dict_len);
		if (!st && write_all(p->fd, p->dict_rec, p->dict_rec_len) != 0)
			st = st_fail_errno(ST_ERR_IO, "cannot write %s", p->partial);
		if (!st) {
			p->dict_off = p->file_off;
			p->file_off += p->dict_rec_len;
			st = pool_set_dict(p->pool, p->cdict);
		}
		free(dict);
	}
	uint64_t cur = p->stream_start;
	for (size_t i = 0; !st && i < p->nheld; i++) {
		p->stream_start = p->held[i].start;
		st = block_write(p, p->hold + p->held[i].start, p->held[i].len);
		if (!st)
			st = stream_done(p);
	}
	if (!st && in_stream) {
		p->stream_start = cur;
		st = block_write(p, p->hold + cur, (size_t)(p->hlen - cur));
	}
	p->stream_start = cur;
	free(p->hold);
	free(p->held);
	p->hold = NULL;
	p->held = NULL;
	p->hlen = p->hcap = p->nheld = p->held_cap = 0;
	return st;
}

static enum st_status
pack_write(void *impl, const void *buf, size_t len)
{
	struct pack_w *p = impl;
	if (p->holding && p->hlen + len > HOLD_MAX) {
		enum st_status st = stop_holding(p, true);
		if (st)
			return st;
	}
	if (!p->holding)
		return block_write(p, buf, len);
	if (p->hlen + len > p->hcap) {
		size_t cap = p->hcap ? p->hcap : (1u << 20);
		while (cap < p->hlen + len)
			cap *= 2;
		cap = cap > HOLD_MAX ? HOLD_MAX : cap;
		uint8_t *h = realloc(p->hold, cap);
		if (!h)
			return st_fail(ST_ERR_NOMEM, "out of memory");
		p->hold = h;
		p->hcap = cap;
	}
	memcpy(p->hold + p->hlen, buf, len);
	p->hlen += len;
	return ST_OK;
}

/* The index slot for (@size, @hash): the one naming it, or the free one
 * where it goes. */
static uint32_t *
dd_slot(struct pack_w *p, uint64_t size, const uint8_t *hash)
{
	uint64_t h = fmt_le64(hash) ^ size;
	for (size_t i = h & (p->dd_cap - 1);; i = (i + 1) & (p->dd_cap - 1)) {
		uint32_t *slot = &p->dd_index[i];
		if (!*slot)
			return slot;
		const struct dedup_entry *e = &p->dd[*slot - 1];
		if (e->size == size && memcmp(e->hash, hash, ST_HASH_BYTES) == 0)
			return slot;
	}
}

static enum st_status
dd_grow(struct pack_w *p)
{
	if (p->dd_count == p->dd_alloc) {
		size_t n = p->dd_alloc ? p->dd_alloc * 2 : 4096;
		struct dedup_entry *d = n < UINT32_MAX ? realloc(p->dd, n * sizeof(*d)) : NULL;
		if (!d)
			return st_fail(ST_ERR_NOMEM, "out of memory");
		p->dd = d;
		p->dd_alloc = n;
	}
	if ((p->dd_count + 1) * 2 <= p->dd_cap)
		return ST_OK;
	size_t ncap = p->dd_cap ? p->dd_cap * 2 : 8192;
	uint32_t *idx = calloc(ncap, sizeof(*idx));
	if (!idx)
		return st_fail(ST_ERR_NOMEM, "out of memory");
	free(p->dd_index);
	p->dd_index = idx;
	p->dd_cap = ncap;
	for (size_t i = 0; i < p->dd_count; i++)
		*dd_slot(p, p->dd[i].size, p->dd[i].hash) = (uint32_t)i + 1;
	return ST_OK;
}

/* Take back the bytes of the current stream, from logical offset @s on. */
static enum st_status
rollback(struct pack_w *p, uint64_t s)
{
	if (p->holding) {
		p->hlen = (size_t)s;
		return ST_OK;
	}
	if (s >= p->block_uoff) {
		p->blen = (size_t)(s - p->block_uoff);
		while (p->nb > 0 && p->bstart[p->nb - 1] >= p->blen)
			p->nb--;
		return ST_OK;
	}
	enum st_status st = pool_drain(p->pool);
	if (st)
		return st;
	size_t k = p->nframes;
	while (k > 0 && p->frames[k - 1].uoff > s)
		k--;
	if (k == 0 || p->frames[k - 1].uoff != s)
		return st_fail(ST_ERR_STATE, "internal error: a duplicate stream does not start a "
			       "frame");
	k--;
	if (ftruncate(p->fd, (off_t)p->frames[k].file_off) != 0 ||
	    lseek(p->fd, (off_t)p->frames[k].file_off, SEEK_SET) < 0)
		return st_fail_errno(ST_ERR_IO, "cannot truncate %s", p->partial);
	p->file_off = p->frames[k].file_off;
	p->emitted_uend = s;
	p->nframes = k;
	p->next_index = k;
	p->block_uoff = s;
	p->blen = 0;
	p->nb = 0;
	return ST_OK;
}

static enum st_status
pack_begin_stream(void *impl, const char *name)
{
	struct pack_w *p = impl;
	(void)name;
	p->stream_start = p->holding ? p->hlen : p->block_uoff + p->blen;
	return ST_OK;
}

static enum st_status
pack_end_stream(void *impl, const uint8_t *hash, uint64_t size, uint64_t *offset, bool *dup)
{
	struct pack_w *p = impl;
	enum st_status st;
	*dup = false;
	*offset = p->stream_start;
	if (size == 0) {
		*offset = 0;
		return ST_OK;
	}
	if ((st = dd_grow(p)))
		return st;
	uint32_t *slot = dd_slot(p, size, hash);
	if (*slot) {
		*offset = p->dd[*slot - 1].offset;
		*dup = true;
		if ((st = rollback(p, p->stream_start)))
			return st;
		return ST_OK;
	}
	struct dedup_entry *e = &p->dd[p->dd_count];
	e->size = size;
	e->offset = p->stream_start;
	memcpy(e->hash, hash, ST_HASH_BYTES);
	*slot = (uint32_t)++p->dd_count;
	if (p->holding) {
		if (p->nheld == p->held_cap) {
			size_t cap = p->held_cap ? p->held_cap * 2 : 1024;
			struct held_stream *h = realloc(p->held, cap * sizeof(*h));
			if (!h)
				return st_fail(ST_ERR_NOMEM, "out of memory");
			p->held = h;
			p->held_cap = cap;
		}
		p->held[p->nheld++] = (struct held_stream){ p->stream_start, (uint32_t)size };
		if (size <= SAMPLE_MAX_STREAM && !p->trainer)
			p->sample_bytes += size;
		/* Enough samples: train while holding on; when the dictionary is
		 * there (or holding is full), use it. */
		if (!p->trainer && p->sample_bytes >= SAMPLE_BUDGET && !start_training(p))
			return stop_holding(p, false);
		if ((p->trainer && atomic_load(&p->trainer->done)) || p->nheld >= HOLD_STREAMS)
			return stop_holding(p, false);
		return ST_OK;
	}
	return stream_done(p);
}

static enum st_status
pack_begin_file(void *impl, struct st_writer *w, const struct st_file *f, bool *need_data)
{
	(void)impl, (void)w, (void)f;
	*need_data = true;
	return ST_OK;
}

static enum st_status
pack_link_file(void *impl, const struct st_file *f, const struct st_file *target)
{
	(void)impl, (void)f, (void)target;
	return ST_OK;
}

static enum st_status
pack_end_file(void *impl)
{
	(void)impl;
	return ST_OK;
}

static enum st_status
pack_cancel_file(void *impl, bool in_stream)
{
	struct pack_w *p = impl;
	/* Streams of the file that were complete are registered for dedup and
	 * stay; the one being written starts a frame and is cut off there. */
	return in_stream ? rollback(p, p->stream_start) : ST_OK;
}

static enum st_status
pack_put_file(void *impl, const char *name, const void *data, size_t len)
{
	struct pack_w *p = impl;
	return put_file_atomic(p->dir, name, data, len);
}

static enum st_status
pack_prepare(void *impl, struct st_catalog *c)
{
	struct pack_w *p = impl;
	enum st_status st = p->holding ? stop_holding(p, false) : ST_OK;
	if (st || (st = submit(p, p->blen)))
		return st;
	p->blen = 0;
	if ((st = pool_drain(p->pool)))
		return st;
	if (p->dict_rec) {
		/* The copy, after the frames: one damaged copy costs nothing. */
		if (write_all(p->fd, p->dict_rec, p->dict_rec_len) != 0)
			return st_fail_errno(ST_ERR_IO, "cannot write %s", p->partial);
		p->file_off += p->dict_rec_len;
	}
	/* Dedup is over; the frame table moves into the catalog as it is. */
	free(p->dd);
	free(p->dd_index);
	p->dd = NULL;
	p->dd_index = NULL;
	p->dd_count = p->dd_alloc = p->dd_cap = 0;
	if (c->frame_count)
		return st_fail(ST_ERR_STATE, "internal error: the catalog has frames already");
	free(c->frames);
	c->frames = p->frames;
	c->frame_count = p->nframes;
	c->frame_cap = p->frames_cap;
	c->data_end = p->emitted_uend;
	p->frames = NULL;
	p->nframes = p->frames_cap = 0;
	return ST_OK;
}

/* Compress the catalog as it is produced; unencrypted it goes straight to
 * the file, encrypted it is sealed as one message (so it is held, compressed). */
static enum st_status
write_catalog(struct pack_w *p, struct cat_source *cat, uint64_t *stored, uint8_t sum[16])
{
	enum st_status st = ST_OK;
	ZSTD_CCtx *cctx = ZSTD_createCCtx();
	size_t ocap = ZSTD_CStreamOutSize();
	uint8_t *obuf = malloc(ocap), *sealed = NULL;
	struct buf held = { 0 };
	crypto_generichash_state h;
	crypto_generichash_init(&h, NULL, 0, 16);
	*stored = 0;
	if (!cctx || !obuf) {
		st = st_fail(ST_ERR_NOMEM, "out of memory compressing the catalog");
		goto out;
	}
	ZSTD_CCtx_setParameter(cctx, ZSTD_c_compressionLevel, 3);
	ZSTD_CCtx_setPledgedSrcSize(cctx, cat_source_length(cat));
	for (bool last = false; !last;) {
		const uint8_t *in;
		size_t len;
		if ((st = cat_source_next(cat, &in, &len)))
			goto out;
		last = len == 0;
		ZSTD_inBuffer ib = { in, len, 0 };
		size_t r;
		do {
			ZSTD_outBuffer ob = { obuf, ocap, 0 };
			r = ZSTD_compressStream2(cctx, &ob, &ib, last ? ZSTD_e_end : ZSTD_e_continue);
			if (ZSTD_isError(r)) {
				st = st_fail(ST_ERR_COMPRESS, "zstd could not compress the catalog: %s",
					     ZSTD_getErrorName(r));
				goto out;
			}
			if (p->encrypted) {
				buf_put(&held, obuf, ob.pos);
			} else if (write_all(p->fd, obuf, ob.pos) != 0) {
				st = st_fail_errno(ST_ERR_IO, "cannot write %s", p->partial);
				goto out;
			} else {
				crypto_generichash_update(&h, obuf, ob.pos);
				*stored += ob.pos;
			}
		} while (last ? r != 0 : ib.pos < ib.size);
	}
	if (p->encrypted) {
		uint8_t ad[24];
		if (held.failed || !(sealed = malloc(held.len + ST_SEAL_OVERHEAD))) {
			st = st_fail(ST_ERR_NOMEM, "out of memory");
			goto out;
		}
		frame_ad(ad, p->store_id, UINT64_MAX);
		crypto_seal(p->key, ad, sizeof(ad), held.p, held.len, sealed);
		*stored = held.len + ST_SEAL_OVERHEAD;
		if (write_all(p->fd, sealed, *stored) != 0) {
			st = st_fail_errno(ST_ERR_IO, "cannot write %s", p->partial);
			goto out;
		}
		crypto_generichash_update(&h, sealed, *stored);
	}
	crypto_generichash_final(&h, sum, 16);
out:
	ZSTD_freeCCtx(cctx);
	free(obuf);
	free(sealed);
	buf_free(&held);
	return st;
}

static enum st_status
pack_finish(void *impl, struct cat_source *cat)
{
	struct pack_w *p = impl;
	uint64_t out_len;
	uint8_t cat_sum[16];
	enum st_status st = write_catalog(p, cat, &out_len, cat_sum);
	if (st)
		return st;
	uint8_t t[TRAILER_SIZE] = { 0 };
	memcpy(t, END_MAGIC, 8);
	fmt_put_le32(t + 8, PACK_VERSION);
	fmt_put_le32(t + 12, p->encrypted ? FLAG_ENCRYPTED : 0);
	fmt_put_le64(t + 16, p->file_off);
	fmt_put_le64(t + 24, out_len);
	fmt_put_le64(t + 32, cat_source_length(cat));
	memcpy(t + 40, cat_sum, 16);
	if (p->dict_rec) {
		fmt_put_le64(t + 56, p->dict_off);
		fmt_put_le64(t + 64, p->file_off - p->dict_rec_len);
		fmt_put_le64(t + 72, p->dict_rec_len);
		fmt_put_le32(t + 80, (uint32_t)p->dict_len);
	}
	crypto_generichash(t + 88, 8, t, 88, NULL, 0);
	if (write_all(p->fd, t, sizeof(t)) != 0 || fsync(p->fd) != 0)
		return st_fail_errno(ST_ERR_IO, "cannot write %s", p->partial);
	if (rename(p->partial, p->final) != 0)
		return st_fail_errno(ST_ERR_IO, "cannot rename %s to %s", p->partial, p->final);
	if (fsync_parent(p->final) != 0)
		return st_fail_errno(ST_ERR_IO, "cannot sync %s", p->usmt);
	p->finished = true;
	return ST_OK;
}

static void
pack_destroy(void *impl, bool aborted)
{
	struct pack_w *p = impl;
	(void)aborted; /* an unfinished USMT.MIG.partial stays: it is recognisably incomplete */
	size_t unused;
	free(finish_training(p, &unused));
	pool_destroy(p->pool);
	ZSTD_freeCDict(p->cdict);
	if (p->fd >= 0)
		close(p->fd);
	sodium_memzero(p->key, sizeof(p->key));
	free(p->block);
	free(p->bstart);
	free(p->seglen);
	free(p->hold);
	free(p->held);
	free(p->dict_rec);
	free(p->frames);
	free(p->dd);
	free(p->dd_index);
	free(p->dir);
	free(p->usmt);
	free(p->partial);
	free(p->final);
	free(p);
}

static const struct writer_ops pack_ops = {
	.name = "compressed",
	.begin_file = pack_begin_file,
	.link_file = pack_link_file,
	.begin_stream = pack_begin_stream,
	.write = pack_write,
	.end_stream = pack_end_stream,
	.end_file = pack_end_file,
	.cancel_file = pack_cancel_file,
	.put_file = pack_put_file,
	.prepare_catalog = pack_prepare,
	.finish = pack_finish,
	.destroy = pack_destroy,
};

static enum st_status
make_store_dir(const char *dir)
{
	if (mkdir(dir, 0755) != 0 && errno != EEXIST)
		return st_fail_errno(ST_ERR_IO, "cannot create store folder %s", dir);
	return ST_OK;
}

enum st_status
packstore_create(const struct st_create_options *o, const struct writer_ops **ops, void **impl)
{
	enum st_status st;
	struct pack_w *p = calloc(1, sizeof(*p));
	if (!p)
		return st_fail(ST_ERR_NOMEM, "out of memory");
	p->fd = -1;
	p->holding = true;
	p->level = o->level ? o->level : 3;
	if (!(p->dir = strdup(o->path)) || asprintf(&p->usmt, "%s/USMT", o->path) < 0 ||
	    asprintf(&p->partial, "%s/USMT/USMT.MIG.partial", o->path) < 0 ||
	    asprintf(&p->final, "%s/USMT/USMT.MIG", o->path) < 0 || !(p->block = malloc(CHUNK)) ||
	    !(p->bstart = malloc(JOB_FRAMES * sizeof(*p->bstart))) ||
	    !(p->seglen = malloc(JOB_FRAMES * sizeof(*p->seglen)))) {
		st = st_fail(ST_ERR_NOMEM, "out of memory");
		goto fail;
	}
	if ((st = make_store_dir(p->dir)) || (st = make_store_dir(p->usmt)))
		goto fail;
	if (access(p->final, F_OK) == 0) {
		st = st_fail(ST_ERR_EXISTS, "there is already a store in %s (%s)", o->path, p->final);
		goto fail;
	}
	p->fd = open(p->partial, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (p->fd < 0) {
		st = errno == EEXIST ?
			st_fail(ST_ERR_EXISTS, "%s is there: a capture into %s did not finish, or "
				"is running; remove it to start again", p->partial, o->path) :
			st_fail_errno(ST_ERR_IO, "cannot create %s", p->partial);
		goto fail;
	}

	uint8_t h[HEADER_SIZE] = { 0 };
	unsigned long long ops_limit = o->kdf_ops ? o->kdf_ops : crypto_pwhash_OPSLIMIT_MODERATE;
	size_t mem_limit = o->kdf_mem ? o->kdf_mem : crypto_pwhash_MEMLIMIT_MODERATE;
	randombytes_buf(p->store_id, sizeof(p->store_id));
	p->encrypted = o->key && o->key->kind != ST_KEY_NONE;
	memcpy(h, PACK_MAGIC, 8);
	fmt_put_le32(h + 8, PACK_VERSION);
	fmt_put_le64(h + 16, (uint64_t)time(NULL));
	memcpy(h + 24, p->store_id, 16);
	if (p->encrypted) {
		bool pass = o->key->kind == ST_KEY_PASSPHRASE;
		fmt_put_le32(h + 12, FLAG_ENCRYPTED | (pass ? FLAG_PASSPHRASE : 0));
		if (pass) {
			randombytes_buf(h + 40, 16);
			if (ops_limit > KDF_MAX_OPS || mem_limit > KDF_MAX_MEM ||
			    ops_limit < crypto_pwhash_OPSLIMIT_MIN || mem_limit < crypto_pwhash_MEMLIMIT_MIN) {
				st = st_fail(ST_ERR_INVALID, "Argon2id limits out of range (ops 1..%llu, "
					     "memory 8 KiB..1 GiB)", KDF_MAX_OPS);
				goto fail;
			}
			fmt_put_le64(h + 56, ops_limit);
			fmt_put_le64(h + 64, mem_limit);
		}
		if ((st = crypto_derive(o->key, h + 40, ops_limit, mem_limit, p->key)))
			goto fail;
		crypto_seal(p->key, h, 72, NULL, 0, h + 72); /* 40 bytes: nonce and tag */
	}
	header_sum(h, h + HEADER_SIZE - 16);
	if (write_all(p->fd, h, sizeof(h)) != 0) {
		st = st_fail_errno(ST_ERR_IO, "cannot write %s", p->partial);
		goto fail;
	}
	p->file_off = HEADER_SIZE;
	int threads = o->threads > 0 ? o->threads : (int)sysconf(_SC_NPROCESSORS_ONLN);
	struct pool_options po = {
		.threads = threads > 0 ? threads : 1,
		.level = p->level,
		.key = p->encrypted ? p->key : NULL,
		.store_id = p->store_id,
		.max_input = CHUNK,
		.max_frames = JOB_FRAMES,
		.emit = emit_frames,
		.ctx = p,
	};
	if ((st = pool_create(&po, &p->pool)))
		goto fail;
	*ops = &pack_ops;
	*impl = p;
	return ST_OK;
fail:
	if (p->fd >= 0)
		unlink(p->partial);
	pack_destroy(p, true);
	return st;
}

/* ------------------------------------------------------------ the reader -- */

struct pack_r {
	int fd;
	char *path;
	bool encrypted;
	uint8_t key[32], store_id[16];
	ZSTD_DCtx *dctx;
	ZSTD_DDict *ddict;         /* the store's dictionary, when it has one */
	char *dict_damage;         /* why neither copy of it could be used */
	uint8_t *cbuf, *dbuf, *ubuf; /* one frame: as stored, decrypted, decompressed */
	size_t cbuf_cap, ubuf_cap;
	size_t cached;             /* frame index in ubuf, SIZE_MAX for none */
	const struct st_catalog *cat;
};

/* Decompress frame @i into r->ubuf. */
static enum st_status
load_frame(struct pack_r *r, size_t i)
{
	const struct cat_frame *f = &r->cat->frames[i];
	if (r->cached == i)
		return ST_OK;
	r->cached = SIZE_MAX;
	if (f->csize > r->cbuf_cap) {
		free(r->cbuf);
		free(r->dbuf);
		r->cbuf = malloc(f->csize);
		r->dbuf = r->encrypted ? malloc(f->csize) : NULL;
		if (!r->cbuf || (r->encrypted && !r->dbuf))
			return r->cbuf_cap = 0, st_fail(ST_ERR_NOMEM, "out of memory");
		r->cbuf_cap = f->csize;
	}
	if (f->usize > r->ubuf_cap) {
		free(r->ubuf);
		if (!(r->ubuf = malloc(f->usize)))
			return r->ubuf_cap = 0, st_fail(ST_ERR_NOMEM, "out of memory");
		r->ubuf_cap = f->usize;
	}
	if (pread_all(r->fd, r->cbuf, f->csize, f->file_off) != 0)
		return st_fail_errno(ST_ERR_CORRUPT, "frame %zu of %s cannot be read", i, r->path);
	const uint8_t *z = r->cbuf;
	size_t zn = f->csize;
	if (r->encrypted) {
		uint8_t ad[24];
		frame_ad(ad, r->store_id, i);
		if (zn < ST_SEAL_OVERHEAD ||
		    crypto_open(r->key, ad, sizeof(ad), r->cbuf, zn, r->dbuf) != 0)
			return st_fail(ST_ERR_CORRUPT, "frame %zu is damaged (its authentication "
				       "tag does not match)", i);
		z = r->dbuf;
		zn -= ST_SEAL_OVERHEAD;
	}
	if (r->dict_damage)
		return st_fail(ST_ERR_CORRUPT, "frame %zu cannot be decompressed: %s", i,
			       r->dict_damage);
	size_t n = r->ddict ? ZSTD_decompress_usingDDict(r->dctx, r->ubuf, f->usize, z, zn, r->ddict) :
			      ZSTD_decompressDCtx(r->dctx, r->ubuf, f->usize, z, zn);
	if (ZSTD_isError(n))
		return st_fail(ST_ERR_CORRUPT, "frame %zu is damaged (zstd: %s)", i,
			       ZSTD_getErrorName(n));
	if (n != f->usize)
		return st_fail(ST_ERR_CORRUPT, "frame %zu is damaged (%zu bytes instead of %u)", i, n,
			       f->usize);
	r->cached = i;
	return ST_OK;
}

static enum st_status
pack_read_stream(void *impl, const struct st_catalog *c, size_t file, size_t stream,
		 st_data_fn fn, void *ctx)
{
	struct pack_r *r = impl;
	uint64_t off = c->offsets[file][stream], left = c->files[file].streams[stream].size;
	if (!left)
		return ST_OK;
	/* The frame holding @off: the last one starting at or before it. */
	size_t lo = 0, hi = c->frame_count;
	while (hi - lo > 1) {
		size_t mid = (lo + hi) / 2;
		if (c->frames[mid].uoff <= off)
			lo = mid;
		else
			hi = mid;
	}
	for (size_t i = lo; left; i++) {
		if (i >= c->frame_count)
			return st_fail(ST_ERR_CORRUPT, "the data runs past the last frame");
		enum st_status st = load_frame(r, i);
		if (st)
			return st;
		const struct cat_frame *f = &c->frames[i];
		uint64_t start = off - f->uoff;
		size_t n = (size_t)(f->usize - start < left ? f->usize - start : left);
		int rc = fn(r->ubuf + start, n, ctx);
		if (rc)
			return rc > 0 && rc <= ST_ERR_COMPRESS ? (enum st_status)rc :
				st_fail(ST_ERR_IO, "reading was stopped by the caller");
		off += n;
		left -= n;
	}
	return ST_OK;
}

static void
pack_close(void *impl)
{
	struct pack_r *r = impl;
	if (r->fd >= 0)
		close(r->fd);
	sodium_memzero(r->key, sizeof(r->key));
	ZSTD_freeDCtx(r->dctx);
	ZSTD_freeDDict(r->ddict);
	free(r->dict_damage);
	free(r->cbuf);
	free(r->dbuf);
	free(r->ubuf);
	free(r->path);
	free(r);
}

static const struct reader_ops pack_rops = {
	.read_stream = pack_read_stream,
	.check_file = NULL,
	.close = pack_close,
};

/* One copy of the dictionary (@len bytes at @off): NULL when it is intact
 * and now loaded, else why not. */
static const char *
load_dict_copy(struct pack_r *r, uint64_t off, uint64_t len, uint32_t dict_len)
{
	uint8_t *rec = malloc(len), *plain = NULL, sum[16];
	const char *why = NULL;
	if (!rec)
		return "out of memory";
	if (pread_all(r->fd, rec, len, off) != 0) {
		why = "it cannot be read";
		goto out;
	}
	crypto_generichash(sum, 16, rec + 16, len - 16, NULL, 0);
	if (sodium_memcmp(sum, rec, 16) != 0) {
		why = "its checksum does not match";
		goto out;
	}
	const uint8_t *d = rec + 16;
	if (r->encrypted) {
		uint8_t ad[24];
		frame_ad(ad, r->store_id, DICT_AD_INDEX);
		if (!(plain = malloc(dict_len))) {
			why = "out of memory";
			goto out;
		}
		if (crypto_open(r->key, ad, sizeof(ad), rec + 16, len - 16, plain) != 0) {
			why = "its authentication tag does not match";
			goto out;
		}
		d = plain;
	}
	if (!(r->ddict = ZSTD_createDDict(d, dict_len)))
		why = "zstd cannot load it";
out:
	free(rec);
	free(plain);
	return why;
}

/* The dictionary every frame references: the first copy, or the second when
 * the first is damaged.  Both damaged is not fatal here: the catalog still
 * lists what the store held, and every frame then reports it. */
static enum st_status
load_dict(struct pack_r *r, const uint8_t *t, uint64_t *data_start, uint64_t *data_limit)
{
	uint64_t off = fmt_le64(t + 56), copy = fmt_le64(t + 64), len = fmt_le64(t + 72);
	uint32_t dict_len = fmt_le32(t + 80);
	uint64_t cat_off = fmt_le64(t + 16);
	if (off == 0 && copy == 0 && len == 0 && dict_len == 0)
		return ST_OK;
	uint64_t body = (uint64_t)dict_len + (r->encrypted ? ST_SEAL_OVERHEAD : 0);
	if (off != HEADER_SIZE || dict_len == 0 || dict_len > DICT_MAX || len != 16 + body ||
	    copy < off + len || copy + len != cat_off)
		return st_fail(ST_ERR_CORRUPT, "%s is damaged: its end record is inconsistent", r->path);
	*data_start = off + len;
	*data_limit = copy;
	const char *a = load_dict_copy(r, off, len, dict_len);
	if (!a)
		return ST_OK;
	const char *b = load_dict_copy(r, copy, len, dict_len);
	if (!b)
		return ST_OK;
	if (asprintf(&r->dict_damage, "both copies of the store's compression dictionary are "
		     "damaged (first: %s; second: %s)", a, b) < 0)
		return st_fail(ST_ERR_NOMEM, "out of memory");
	return ST_OK;
}

static enum st_status
open_catalog(struct pack_r *r, const uint8_t *h, uint64_t size,
	     struct st_catalog **cat)
{
	uint8_t t[TRAILER_SIZE], sum[16];
	enum st_status st;
	uint32_t version = fmt_le32(h + 8);
	size_t tsize = version == 1 ? TRAILER_V1 : TRAILER_SIZE;
	if (size < HEADER_SIZE + tsize || pread_all(r->fd, t, tsize, size - tsize) != 0 ||
	    memcmp(t, END_MAGIC, 8) != 0)
		return st_fail(ST_ERR_CORRUPT, "%s has no end record: it is truncated, or the capture "
			       "that wrote it did not finish", r->path);
	crypto_generichash(sum, 8, t, tsize - 8, NULL, 0);
	uint64_t off = fmt_le64(t + 16), len = fmt_le64(t + 24), ulen = fmt_le64(t + 32);
	if (sodium_memcmp(sum, t + tsize - 8, 8) != 0 || fmt_le32(t + 8) != version ||
	    fmt_le32(t + 12) != (fmt_le32(h + 12) & FLAG_ENCRYPTED) || off < HEADER_SIZE ||
	    len > MAX_CATALOG || ulen > MAX_CATALOG || len == 0 ||
	    off + len != size - tsize)
		return st_fail(ST_ERR_CORRUPT, "%s is damaged: its end record is inconsistent", r->path);
	uint64_t data_start = HEADER_SIZE, data_limit = off;
	if (version >= 2 && (st = load_dict(r, t, &data_start, &data_limit)))
		return st;
	uint8_t *raw = malloc(len), *plain = NULL, *opened = NULL;
	if (!raw)
		return st_fail(ST_ERR_NOMEM, "out of memory reading the catalog");
	if (pread_all(r->fd, raw, len, off) != 0) {
		st = st_fail_errno(ST_ERR_CORRUPT, "cannot read the catalog of %s", r->path);
		goto out;
	}
	crypto_generichash(sum, 16, raw, len, NULL, 0);
	if (sodium_memcmp(sum, t + 40, 16) != 0) {
		st = st_fail(ST_ERR_CORRUPT, "the catalog of %s is damaged: its checksum does not "
			     "match", r->path);
		goto out;
	}
	const uint8_t *z = raw;
	size_t zn = len;
	if (r->encrypted) {
		uint8_t ad[24];
		frame_ad(ad, r->store_id, UINT64_MAX);
		if (!(opened = malloc(len))) {
			st = st_fail(ST_ERR_NOMEM, "out of memory reading the catalog");
			goto out;
		}
		if (crypto_open(r->key, ad, sizeof(ad), raw, len, opened) != 0) {
			st = st_fail(ST_ERR_CORRUPT, "the catalog of %s is damaged (its authentication "
				     "tag does not match)", r->path);
			goto out;
		}
		z = opened;
		zn -= ST_SEAL_OVERHEAD;
	}
	unsigned long long csize = ZSTD_getFrameContentSize(z, zn);
	if (csize != ulen || !(plain = malloc(ulen ? ulen : 1))) {
		st = csize != ulen ? st_fail(ST_ERR_CORRUPT, "the catalog of %s is damaged: its size "
					     "does not match its end record", r->path) :
			st_fail(ST_ERR_NOMEM, "out of memory reading the catalog");
		goto out;
	}
	size_t n = ZSTD_decompress(plain, ulen, z, zn);
	if (ZSTD_isError(n) || n != ulen) {
		st = st_fail(ST_ERR_CORRUPT, "the catalog of %s is damaged (zstd: %s)", r->path,
			     ZSTD_isError(n) ? ZSTD_getErrorName(n) : "short");
		goto out;
	}
	st = catalog_parse(plain, ulen, ST_FORMAT_COMPRESSED, data_start, data_limit, cat);
	if (st == ST_OK && (*cat)->info.encrypted != r->encrypted) {
		catalog_free(*cat);
		*cat = NULL;
		st = st_fail(ST_ERR_CORRUPT, "%s is damaged: header and catalog disagree about "
			     "encryption", r->path);
	}
out:
	free(raw);
	free(opened);
	free(plain);
	return st;
}

enum st_status
packstore_open(const char *file, const struct st_key *key, struct st_catalog **cat,
	       const struct reader_ops **ops, void **impl)
{
	enum st_status st;
	uint8_t h[HEADER_SIZE], sum[16];
	struct stat sb;
	struct pack_r *r = calloc(1, sizeof(*r));
	if (!r || !(r->path = strdup(file)) || !(r->dctx = ZSTD_createDCtx())) {
		if (r)
			free(r->path);
		free(r);
		return st_fail(ST_ERR_NOMEM, "out of memory");
	}
	r->cached = SIZE_MAX;
	r->fd = open(file, O_RDONLY | O_CLOEXEC);
	if (r->fd < 0) {
		st = st_fail_errno(errno == ENOENT ? ST_ERR_NOT_FOUND : ST_ERR_IO, "cannot open %s",
				   file);
		goto fail;
	}
	if (fstat(r->fd, &sb) != 0 || pread_all(r->fd, h, 16, 0) != 0 ||
	    memcmp(h, PACK_MAGIC, 8) != 0) {
		st = st_fail(ST_ERR_CORRUPT, "%s is not a winstate compressed store (no signature)",
			     file);
		goto fail;
	}
	uint32_t version = fmt_le32(h + 8);
	if (version > PACK_VERSION) {
		st = st_fail(ST_ERR_VERSION, "%s is store format version %u, newer than this "
			     "winstate reads (version %u): use a newer winstate", file, version,
			     PACK_VERSION);
		goto fail;
	}
	if (version == 0 || (uint64_t)sb.st_size < HEADER_SIZE ||
	    pread_all(r->fd, h, HEADER_SIZE, 0) != 0) {
		st = st_fail(ST_ERR_CORRUPT, "%s is damaged: its header is incomplete", file);
		goto fail;
	}
	header_sum(h, sum);
	if (sodium_memcmp(sum, h + HEADER_SIZE - 16, 16) != 0) {
		st = st_fail(ST_ERR_CORRUPT, "%s is damaged: its header checksum does not match", file);
		goto fail;
	}
	uint32_t flags = fmt_le32(h + 12);
	if (flags & ~(FLAG_ENCRYPTED | FLAG_PASSPHRASE)) {
		st = st_fail(ST_ERR_VERSION, "%s uses features this winstate does not know (flags "
			     "0x%x)", file, flags);
		goto fail;
	}
	memcpy(r->store_id, h + 24, 16);
	r->encrypted = flags & FLAG_ENCRYPTED;
	if (r->encrypted) {
		if (!key || key->kind == ST_KEY_NONE) {
			st = st_fail(ST_ERR_KEY, "%s is encrypted: give its key (/key or /keyfile)", file);
			goto fail;
		}
		if (!(flags & FLAG_PASSPHRASE) != (key->kind == ST_KEY_RAW)) {
			st = st_fail(ST_ERR_KEY, "%s was encrypted with a %s; a %s was given", file,
				     (flags & FLAG_PASSPHRASE) ? "passphrase" : "key file",
				     key->kind == ST_KEY_RAW ? "key file" : "passphrase");
			goto fail;
		}
		uint64_t ops_l = fmt_le64(h + 56), mem_l = fmt_le64(h + 64);
		if ((flags & FLAG_PASSPHRASE) &&
		    (ops_l < crypto_pwhash_OPSLIMIT_MIN || ops_l > KDF_MAX_OPS ||
		     mem_l < crypto_pwhash_MEMLIMIT_MIN || mem_l > KDF_MAX_MEM)) {
			st = st_fail(ST_ERR_CORRUPT, "%s is damaged: its key-derivation limits are "
				     "out of range", file);
			goto fail;
		}
		if ((st = crypto_derive(key, h + 40, ops_l, (size_t)mem_l, r->key)))
			goto fail;
		uint8_t none[1];
		if (crypto_open(r->key, h, 72, h + 72, ST_SEAL_OVERHEAD, none) != 0) {
			st = st_fail(ST_ERR_KEY, "wrong key or damaged store: %s cannot be decrypted "
				     "with the key given", file);
			goto fail;
		}
	}
	if ((st = open_catalog(r, h, (uint64_t)sb.st_size, cat)))
		goto fail;
	r->cat = *cat;
	*ops = &pack_rops;
	*impl = r;
	return ST_OK;
fail:
	pack_close(r);
	return st;
}
