/*
 * The compression pool of the compressed store: N worker threads compress
 * (and seal) independent frames while the capture thread fills the next one;
 * finished frames are handed back in submission order on the capture thread,
 * which writes them, so the file is written sequentially by one thread.
 *
 * Why our own pool rather than ZSTD_c_nbWorkers: zstd's multi-threading splits
 * one *stream* into jobs of several MiB (4 x window: 8 MiB at level 3), while
 * our frames are at most 4 MiB and mostly one small file each; it would
 * compress every frame on one thread.  bench/store measures both.
 *
 * A ring of 2N slots, each owning an input and an output buffer: submitting
 * swaps the caller's filled buffer with the slot's free one, so no frame is
 * copied.  When the ring is full, submit emits the oldest job first.
 *
 * A job is a batch: its input is cut into segments (one per stream, or one
 * chunk of a large stream), and each segment becomes a frame of its own, so a
 * damaged frame damages one file; batching only saves thread hand-overs.
 * Every frame references the store's dictionary once one is set.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <zstd.h>

#include "store/internal.h"

enum job_state { JOB_FREE, JOB_QUEUED, JOB_RUNNING, JOB_DONE };

struct job {
	uint8_t *in, *out;
	size_t ilen, olen;
	uint32_t *seg, *csize;   /* per frame: input length, output length */
	size_t nseg;
	uint64_t index;          /* of its first frame */
	enum job_state state;
	enum st_status err;
	char errmsg[200];
};

struct pool {
	struct pool_options o;
	pthread_t *threads;
	int nthreads;
	struct job *jobs;
	size_t njobs, out_cap;
	uint64_t submitted, taken, emitted;
	const ZSTD_CDict *dict;  /* set before the first job, or NULL */
	pthread_mutex_t lock;
	pthread_cond_t work, done;
	bool stop;
};

static void
compress_job(struct pool *p, ZSTD_CCtx *cctx, uint8_t *tmp, size_t tmp_cap, struct job *j)
{
	size_t in = 0, out = 0;
	for (size_t k = 0; k < j->nseg; k++) {
		uint8_t *dst = p->o.key ? tmp : j->out + out;
		size_t cap = p->o.key ? tmp_cap : p->out_cap - out;
		size_t n = ZSTD_compress2(cctx, dst, cap, j->in + in, j->seg[k]);
		if (ZSTD_isError(n)) {
			j->err = ST_ERR_COMPRESS;
			snprintf(j->errmsg, sizeof(j->errmsg), "zstd could not compress frame %llu: %s",
				 (unsigned long long)(j->index + k), ZSTD_getErrorName(n));
			return;
		}
		if (p->o.key) {
			uint8_t ad[24];
			frame_ad(ad, p->o.store_id, j->index + k);
			crypto_seal(p->o.key, ad, sizeof(ad), tmp, n, j->out + out);
			n += ST_SEAL_OVERHEAD;
		}
		j->csize[k] = (uint32_t)n;
		in += j->seg[k];
		out += n;
	}
	j->olen = out;
	j->err = ST_OK;
}

static void *
worker(void *arg)
{
	struct pool *p = arg;
	ZSTD_CCtx *cctx = ZSTD_createCCtx();
	const ZSTD_CDict *dict = NULL;
	size_t tmp_cap = ZSTD_compressBound(p->o.max_input);
	uint8_t *tmp = p->o.key ? malloc(tmp_cap) : NULL;
	if (cctx) {
		ZSTD_CCtx_setParameter(cctx, ZSTD_c_compressionLevel, p->o.level);
		ZSTD_CCtx_setParameter(cctx, ZSTD_c_checksumFlag, 1);
		/* Every frame of a store uses the same dictionary: its id would be
		 * 4 bytes repeated in every (often tiny) frame. */
		ZSTD_CCtx_setParameter(cctx, ZSTD_c_dictIDFlag, 0);
	}
	pthread_mutex_lock(&p->lock);
	for (;;) {
		while (!p->stop && p->taken == p->submitted)
			pthread_cond_wait(&p->work, &p->lock);
		if (p->taken == p->submitted)
			break;
		struct job *j = &p->jobs[p->taken++ % p->njobs];
		j->state = JOB_RUNNING;
		const ZSTD_CDict *want = p->dict;
		pthread_mutex_unlock(&p->lock);
		if (cctx && want != dict && !ZSTD_isError(ZSTD_CCtx_refCDict(cctx, want)))
			dict = want;
		if (!cctx || (p->o.key && !tmp) || want != dict) {
			j->err = ST_ERR_NOMEM;
			snprintf(j->errmsg, sizeof(j->errmsg), "out of memory compressing a frame");
		} else {
			compress_job(p, cctx, tmp, tmp_cap, j);
		}
		pthread_mutex_lock(&p->lock);
		j->state = JOB_DONE;
		pthread_cond_broadcast(&p->done);
	}
	pthread_mutex_unlock(&p->lock);
	ZSTD_freeCCtx(cctx);
	free(tmp);
	return NULL;
}

enum st_status
pool_create(const struct pool_options *o, struct pool **out)
{
	struct pool *p = calloc(1, sizeof(*p));
	if (!p)
		return st_fail(ST_ERR_NOMEM, "out of memory");
	p->o = *o;
	p->nthreads = o->threads > 0 ? o->threads : 1;
	p->njobs = (size_t)p->nthreads * 2;
	/* Each frame's bound is its input + 1/256 + at most 64 bytes (plus a seal). */
	p->out_cap = ZSTD_compressBound(o->max_input) +
		     (o->max_frames ? o->max_frames : 1) * (size_t)(64 + ST_SEAL_OVERHEAD);
	p->jobs = calloc(p->njobs, sizeof(*p->jobs));
	p->threads = calloc((size_t)p->nthreads, sizeof(*p->threads));
	pthread_mutex_init(&p->lock, NULL);
	pthread_cond_init(&p->work, NULL);
	pthread_cond_init(&p->done, NULL);
	if (!p->jobs || !p->threads)
		goto nomem;
	for (size_t i = 0; i < p->njobs; i++) {
		p->jobs[i].in = malloc(o->max_input);
		p->jobs[i].out = malloc(p->out_cap);
		p->jobs[i].seg = malloc((o->max_frames ? o->max_frames : 1) * sizeof(uint32_t));
		p->jobs[i].csize = malloc((o->max_frames ? o->max_frames : 1) * sizeof(uint32_t));
		if (!p->jobs[i].in || !p->jobs[i].out || !p->jobs[i].seg || !p->jobs[i].csize)
			goto nomem;
	}
	for (int i = 0; i < p->nthreads; i++)
		if (pthread_create(&p->threads[i], NULL, worker, p) != 0) {
			p->nthreads = i;
			pool_destroy(p);
			return st_fail(ST_ERR_NOMEM, "cannot start compression threads");
		}
	*out = p;
	return ST_OK;
nomem:
	p->nthreads = 0;
	pool_destroy(p);
	return st_fail(ST_ERR_NOMEM, "out of memory for the compression buffers");
}

/* Wait for the oldest frame and emit it (lock held on entry and exit).  After
 * a failure the rest are only @discard-ed: emitting them would replace the
 * sentence of the first error (e.g. "No space left on device") with one about
 * frame numbering. */
static enum st_status
emit_oldest(struct pool *p, bool discard)
{
	struct job *j = &p->jobs[p->emitted % p->njobs];
	while (j->state != JOB_DONE)
		pthread_cond_wait(&p->done, &p->lock);
	pthread_mutex_unlock(&p->lock);
	enum st_status st = j->err;
	if (discard)
		st = ST_OK;
	else if (st)
		st_fail(st, "%s", j->errmsg);
	else
		st = p->o.emit(p->o.ctx, j->index, j->out, j->nseg, j->csize, j->seg);
	pthread_mutex_lock(&p->lock);
	j->state = JOB_FREE;
	p->emitted++;
	return st;
}

enum st_status
pool_submit(struct pool *p, uint8_t **buf, const uint32_t *frames, size_t nframes,
	    uint64_t index)
{
	enum st_status st = ST_OK;
	size_t max = p->o.max_frames ? p->o.max_frames : 1, len = 0;
	if (nframes == 0 || nframes > max)
		return st_fail(ST_ERR_STATE, "internal error: a job of %zu frames", nframes);
	for (size_t k = 0; k < nframes; k++)
		len += frames[k];
	if (len > p->o.max_input)
		return st_fail(ST_ERR_STATE, "internal error: a job of %zu bytes", len);
	pthread_mutex_lock(&p->lock);
	while (st == ST_OK && p->submitted - p->emitted == p->njobs)
		st = emit_oldest(p, false);
	if (st == ST_OK) {
		struct job *j = &p->jobs[p->submitted % p->njobs];
		uint8_t *free_buf = j->in;
		j->in = *buf;
		*buf = free_buf;
		j->ilen = len;
		memcpy(j->seg, frames, nframes * sizeof(*frames));
		j->nseg = nframes;
		j->index = index;
		j->state = JOB_QUEUED;
		p->submitted++;
		pthread_cond_signal(&p->work);
	}
	pthread_mutex_unlock(&p->lock);
	return st;
}

enum st_status
pool_set_dict(struct pool *p, const ZSTD_CDict *dict)
{
	enum st_status st = pool_drain(p);
	pthread_mutex_lock(&p->lock);
	p->dict = dict;
	pthread_mutex_unlock(&p->lock);
	return st;
}

enum st_status
pool_drain(struct pool *p)
{
	enum st_status st = ST_OK;
	pthread_mutex_lock(&p->lock);
	while (p->emitted < p->submitted) {
		enum st_status s = emit_oldest(p, st != ST_OK);
		if (st == ST_OK)
			st = s;
	}
	pthread_mutex_unlock(&p->lock);
	return st;
}

void
pool_destroy(struct pool *p)
{
	if (!p)
		return;
	pthread_mutex_lock(&p->lock);
	p->stop = true;
	pthread_cond_broadcast(&p->work);
	pthread_mutex_unlock(&p->lock);
	for (int i = 0; i < p->nthreads; i++)
		pthread_join(p->threads[i], NULL);
	if (p->jobs)
		for (size_t i = 0; i < p->njobs; i++) {
			free(p->jobs[i].in);
			free(p->jobs[i].out);
			free(p->jobs[i].seg);
			free(p->jobs[i].csize);
		}
	free(p->jobs);
	free(p->threads);
	pthread_mutex_destroy(&p->lock);
	pthread_cond_destroy(&p->work);
	pthread_cond_destroy(&p->done);
	free(p);
}
