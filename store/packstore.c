/*
 * The compressed store (USMT's default): STORE/USMT/USMT.MIG, one file of
 * independent zstd frames.  Layout in docs/store-format.md; in short:
 *
 *   header (128 bytes) | frame 0 | frame 1 | ... | catalog | trailer (64 bytes)
 *
 * All streams are concatenated into one logical byte sequence which is cut
 * into frames: small files are packed together into frames of up to 1 MiB,
 * a stream that would overflow a pack starts a frame of its own and large
 * streams are cut into 4 MiB frames, so one file is extracted by
 * decompressing only the frames that hold it.  A stream records its logical
 * offset; the catalog's frame table maps logical offsets to frames.
 *
 * Dedup: every stream is hashed while it is written (BLAKE2b-256, in
 * writer.c).  When a stream ends and the same (size, hash) was stored before,
 * it points at the first copy and its bytes are taken back: they are still in
 * the pending frame buffer (small streams), or the stream started a frame of
 * its own (the packing rule guarantees it) and the frames since are dropped:
 * the pool is drained and the file truncated back.  So the data is streamed
 * once, never staged, and duplicates cost no space.
 *
 * The file is written as USMT.MIG.partial and renamed to USMT.MIG after the
 * trailer is written and fsynced (file, then folder): a store named USMT.MIG
 * is always complete.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <zstd.h>

#include "store/internal.h"

#define PACK_MAGIC "WSTPACK\x1a"
#define END_MAGIC "WSTPEND\x1a"
#define PACK_VERSION 1u
#define HEADER_SIZE 128u
#define TRAILER_SIZE 64u
#define FLAG_ENCRYPTED 1u
#define FLAG_PASSPHRASE 2u
#define PACK_LIMIT (1u << 20)   /* small files share frames up to this size */
#define CHUNK (4u << 20)        /* frames of one large stream */
#define MAX_CATALOG (1ull << 31)
#define KDF_MAX_OPS 16ull
#define KDF_MAX_MEM (1ull << 30)

struct dedup_entry {
	uint64_t size, offset;
	uint8_t hash[ST_HASH_BYTES];
	bool used;
};

struct pack_w {
	char *dir, *usmt, *partial, *final;
	int fd;
	bool encrypted;
	uint8_t key[32], store_id[16];
	struct pool *pool;
	uint8_t *block;
	size_t blen;
	uint64_t block_uoff;     /* logical offset of block[0] */
	uint64_t stream_start;   /* logical offset where the current stream began */
	uint64_t next_index;     /* frames submitted */
	uint64_t file_off;       /* where the next emitted frame goes */
	struct cat_frame *frames; /* emitted */
	size_t nframes, frames_cap;
	uint64_t emitted_uend;
	struct dedup_entry *dd;
	size_t dd_cap, dd_count;
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
emit_frame(void *ctx, uint64_t index, const uint8_t *data, size_t csize, size_t usize)
{
	struct pack_w *p = ctx;
	if (index != p->nframes)
		return st_fail(ST_ERR_STATE, "internal error: frame %llu emitted as frame %zu",
			       (unsigned long long)index, p->nframes);
	if (write_all(p->fd, data, csize) != 0)
		return st_fail_errno(ST_ERR_IO, "cannot write %s", p->partial);
	if (p->nframes == p->frames_cap) {
		size_t n = p->frames_cap ? p->frames_cap * 2 : 256;
		struct cat_frame *f = realloc(p->frames, n * sizeof(*f));
		if (!f)
			return st_fail(ST_ERR_NOMEM, "out of memory");
		p->frames = f;
		p->frames_cap = n;
	}
	p->frames[p->nframes++] = (struct cat_frame){ p->file_off, (uint32_t)csize, (uint32_t)usize,
						      p->emitted_uend };
	p->file_off += csize;
	p->emitted_uend += usize;
	return ST_OK;
}

/* Submit the first @len bytes of the block as the next frame. */
static enum st_status
submit(struct pack_w *p, size_t len)
{
	if (!len)
		return ST_OK;
	enum st_status st = pool_submit(p->pool, &p->block, len, p->next_index++);
	p->block_uoff += len;
	return st;
}

static enum st_status
pack_write(void *impl, const void *buf, size_t len)
{
	struct pack_w *p = impl;
	const uint8_t *q = buf;
	while (len) {
		bool own = p->stream_start <= p->block_uoff; /* the block starts with this stream */
		size_t limit = own ? CHUNK : PACK_LIMIT;
		size_t n = limit - p->blen < len ? limit - p->blen : len;
		memcpy(p->block + p->blen, q, n);
		p->blen += n;
		q += n;
		len -= n;
		if (p->blen < limit)
			continue;
		enum st_status st;
		if (own) {
			st = submit(p, p->blen);
			p->blen = 0;
		} else {
			/* The stream outgrows a pack: the packed files before it become
			 * a frame, and the stream moves to the start of the next one. */
			size_t keep = (size_t)(p->stream_start - p->block_uoff);
			uint8_t *old = p->block;
			st = submit(p, keep);
			/* @old now belongs to the pool, which only reads [0, keep). */
			memcpy(p->block, old + keep, p->blen - keep);
			p->blen -= keep;
		}
		if (st)
			return st;
	}
	return ST_OK;
}

static struct dedup_entry *
dd_find(struct pack_w *p, uint64_t size, const uint8_t *hash)
{
	uint64_t h = get_le64(hash) ^ size;
	for (size_t i = h & (p->dd_cap - 1);; i = (i + 1) & (p->dd_cap - 1)) {
		struct dedup_entry *e = &p->dd[i];
		if (!e->used || (e->size == size && memcmp(e->hash, hash, ST_HASH_BYTES) == 0))
			return e;
	}
}

static enum st_status
dd_grow(struct pack_w *p)
{
	size_t ocap = p->dd_cap, ncap = ocap ? ocap * 2 : 4096;
	struct dedup_entry *old = p->dd;
	p->dd = calloc(ncap, sizeof(*p->dd));
	if (!p->dd) {
		p->dd = old;
		return st_fail(ST_ERR_NOMEM, "out of memory");
	}
	p->dd_cap = ncap;
	for (size_t i = 0; i < ocap; i++)
		if (old[i].used)
			*dd_find(p, old[i].size, old[i].hash) = old[i];
	free(old);
	return ST_OK;
}

/* Take back the bytes of the current stream, from logical offset @s on. */
static enum st_status
rollback(struct pack_w *p, uint64_t s)
{
	if (s >= p->block_uoff) {
		p->blen = (size_t)(s - p->block_uoff);
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
	return ST_OK;
}

static enum st_status
pack_begin_stream(void *impl, const char *name)
{
	struct pack_w *p = impl;
	(void)name;
	p->stream_start = p->block_uoff + p->blen;
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
	if ((p->dd_count + 1) * 2 > p->dd_cap && (st = dd_grow(p)))
		return st;
	struct dedup_entry *e = dd_find(p, size, hash);
	if (e->used) {
		*offset = e->offset;
		*dup = true;
		if ((st = rollback(p, p->stream_start)))
			return st;
	} else {
		*e = (struct dedup_entry){ size, p->stream_start, { 0 }, true };
		memcpy(e->hash, hash, ST_HASH_BYTES);
		p->dd_count++;
	}
	if (p->blen >= PACK_LIMIT) {
		st = submit(p, p->blen);
		p->blen = 0;
		return st;
	}
	return ST_OK;
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
pack_put_file(void *impl, const char *name, const void *data, size_t len)
{
	struct pack_w *p = impl;
	return put_file_atomic(p->dir, name, data, len);
}

static enum st_status
pack_prepare(void *impl, struct st_catalog *c)
{
	struct pack_w *p = impl;
	enum st_status st = submit(p, p->blen);
	p->blen = 0;
	if (st || (st = pool_drain(p->pool)))
		return st;
	for (size_t i = 0; i < p->nframes; i++)
		if ((st = catalog_add_frame(c, p->frames[i].file_off, p->frames[i].csize,
					    p->frames[i].usize)))
			return st;
	return ST_OK;
}

static enum st_status
pack_finish(void *impl, const struct buf *cat)
{
	struct pack_w *p = impl;
	enum st_status st = ST_OK;
	size_t bound = ZSTD_compressBound(cat->len);
	uint8_t *z = malloc(bound), *sealed = NULL;
	if (!z)
		return st_fail(ST_ERR_NOMEM, "out of memory compressing the catalog");
	size_t zn = ZSTD_compress(z, bound, cat->p, cat->len, 3);
	if (ZSTD_isError(zn)) {
		st = st_fail(ST_ERR_COMPRESS, "zstd could not compress the catalog: %s",
			     ZSTD_getErrorName(zn));
		goto out;
	}
	const uint8_t *out = z;
	size_t out_len = zn;
	if (p->encrypted) {
		uint8_t ad[24];
		if (!(sealed = malloc(zn + ST_SEAL_OVERHEAD))) {
			st = st_fail(ST_ERR_NOMEM, "out of memory");
			goto out;
		}
		frame_ad(ad, p->store_id, UINT64_MAX);
		crypto_seal(p->key, ad, sizeof(ad), z, zn, sealed);
		out = sealed;
		out_len = zn + ST_SEAL_OVERHEAD;
	}
	uint8_t t[TRAILER_SIZE] = { 0 };
	memcpy(t, END_MAGIC, 8);
	put_le32(t + 8, PACK_VERSION);
	put_le32(t + 12, p->encrypted ? FLAG_ENCRYPTED : 0);
	put_le64(t + 16, p->file_off);
	put_le64(t + 24, out_len);
	put_le64(t + 32, cat->len);
	crypto_generichash(t + 40, 16, out, out_len, NULL, 0);
	crypto_generichash(t + 56, 8, t, 56, NULL, 0);
	if (write_all(p->fd, out, out_len) != 0 || write_all(p->fd, t, sizeof(t)) != 0 ||
	    fsync(p->fd) != 0) {
		st = st_fail_errno(ST_ERR_IO, "cannot write %s", p->partial);
		goto out;
	}
	if (rename(p->partial, p->final) != 0) {
		st = st_fail_errno(ST_ERR_IO, "cannot rename %s to %s", p->partial, p->final);
		goto out;
	}
	if (fsync_parent(p->final) != 0) {
		st = st_fail_errno(ST_ERR_IO, "cannot sync %s", p->usmt);
		goto out;
	}
	p->finished = true;
out:
	free(z);
	free(sealed);
	return st;
}

static void
pack_destroy(void *impl, bool aborted)
{
	struct pack_w *p = impl;
	(void)aborted; /* an unfinished USMT.MIG.partial stays: it is recognisably incomplete */
	pool_destroy(p->pool);
	if (p->fd >= 0)
		close(p->fd);
	sodium_memzero(p->key, sizeof(p->key));
	free(p->block);
	free(p->frames);
	free(p->dd);
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
	if (!(p->dir = strdup(o->path)) || asprintf(&p->usmt, "%s/USMT", o->path) < 0 ||
	    asprintf(&p->partial, "%s/USMT/USMT.MIG.partial", o->path) < 0 ||
	    asprintf(&p->final, "%s/USMT/USMT.MIG", o->path) < 0 || !(p->block = malloc(CHUNK))) {
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
	put_le32(h + 8, PACK_VERSION);
	put_le64(h + 16, (uint64_t)time(NULL));
	memcpy(h + 24, p->store_id, 16);
	if (p->encrypted) {
		bool pass = o->key->kind == ST_KEY_PASSPHRASE;
		put_le32(h + 12, FLAG_ENCRYPTED | (pass ? FLAG_PASSPHRASE : 0));
		if (pass) {
			randombytes_buf(h + 40, 16);
			if (ops_limit > KDF_MAX_OPS || mem_limit > KDF_MAX_MEM ||
			    ops_limit < crypto_pwhash_OPSLIMIT_MIN || mem_limit < crypto_pwhash_MEMLIMIT_MIN) {
				st = st_fail(ST_ERR_INVALID, "Argon2id limits out of range (ops 1..%llu, "
					     "memory 8 KiB..1 GiB)", KDF_MAX_OPS);
				goto fail;
			}
			put_le64(h + 56, ops_limit);
			put_le64(h + 64, mem_limit);
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
		.level = o->level ? o->level : 3,
		.key = p->encrypted ? p->key : NULL,
		.store_id = p->store_id,
		.max_input = CHUNK,
		.emit = emit_frame,
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
	size_t n = ZSTD_decompressDCtx(r->dctx, r->ubuf, f->usize, z, zn);
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

static enum st_status
open_catalog(struct pack_r *r, const uint8_t *h, uint64_t size,
	     struct st_catalog **cat)
{
	uint8_t t[TRAILER_SIZE], sum[16];
	enum st_status st;
	if (size < HEADER_SIZE + TRAILER_SIZE || pread_all(r->fd, t, TRAILER_SIZE,
							    size - TRAILER_SIZE) != 0 ||
	    memcmp(t, END_MAGIC, 8) != 0)
		return st_fail(ST_ERR_CORRUPT, "%s has no end record: it is truncated, or the capture "
			       "that wrote it did not finish", r->path);
	crypto_generichash(sum, 8, t, 56, NULL, 0);
	uint64_t off = get_le64(t + 16), len = get_le64(t + 24), ulen = get_le64(t + 32);
	if (sodium_memcmp(sum, t + 56, 8) != 0 || get_le32(t + 8) != get_le32(h + 8) ||
	    get_le32(t + 12) != (get_le32(h + 12) & FLAG_ENCRYPTED) || off < HEADER_SIZE ||
	    len > MAX_CATALOG || ulen > MAX_CATALOG || len == 0 ||
	    off + len != size - TRAILER_SIZE)
		return st_fail(ST_ERR_CORRUPT, "%s is damaged: its end record is inconsistent", r->path);
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
	st = catalog_parse(plain, ulen, ST_FORMAT_COMPRESSED, HEADER_SIZE, off, cat);
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
	uint32_t version = get_le32(h + 8);
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
	uint32_t flags = get_le32(h + 12);
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
		uint64_t ops_l = get_le64(h + 56), mem_l = get_le64(h + 64);
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
