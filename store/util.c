/*
 * Small things every store format needs: the per-thread error sentence, an
 * arena for catalog strings (one free for a whole catalog), a growable byte
 * buffer with little-endian writers, and careful file I/O helpers.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "formats/formats.h"
#include "store/internal.h"

static _Thread_local char last_error[1024];

const char *
st_last_error(void)
{
	return last_error[0] ? last_error : "no error";
}

const char *
st_status_name(enum st_status status)
{
	static const char *const names[] = {
		[ST_OK] = "ok", [ST_ERR_NOMEM] = "out of memory", [ST_ERR_IO] = "i/o error",
		[ST_ERR_INVALID] = "invalid argument", [ST_ERR_STATE] = "call out of order",
		[ST_ERR_EXISTS] = "exists", [ST_ERR_NOT_FOUND] = "not found",
		[ST_ERR_CORRUPT] = "damaged store", [ST_ERR_VERSION] = "newer format",
		[ST_ERR_INCOMPLETE] = "incomplete store", [ST_ERR_KEY] = "wrong key",
		[ST_ERR_UNSAFE] = "unsafe name", [ST_ERR_REFUSED] = "refused",
		[ST_ERR_NTFS] = "ntfs error", [ST_ERR_COMPRESS] = "compression error",
	};
	if ((size_t)status < sizeof(names) / sizeof(names[0]) && names[status])
		return names[status];
	return "unknown status";
}

const char *
st_format_name(enum st_format format)
{
	switch (format) {
	case ST_FORMAT_COMPRESSED: return "compressed";
	case ST_FORMAT_DIRECTORY: return "directory";
	case ST_FORMAT_HARDLINK: return "hard-link";
	}
	return "unknown";
}

enum st_status
st_fail(enum st_status status, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fmt_vsentence(last_error, sizeof(last_error), fmt, ap);
	va_end(ap);
	return status;
}

enum st_status
st_fail_errno(enum st_status status, const char *fmt, ...)
{
	int e = errno;
	char text[sizeof(last_error)];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	if (n >= 0 && (size_t)n < sizeof(text))
		snprintf(text + n, sizeof(text) - (size_t)n, ": %s", strerror(e));
	memcpy(last_error, text, sizeof(last_error));
	if (e == ENOMEM)
		return ST_ERR_NOMEM;
	return status;
}

enum st_status
st_fail_nv(enum nv_status st, const char *fmt, ...)
{
	char what[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	snprintf(last_error, sizeof(last_error), "%s: %s", what, nv_last_error());
	if (st == NV_ERR_NOMEM)
		return ST_ERR_NOMEM;
	if (st == NV_ERR_TOO_MANY_LINKS)
		return ST_ERR_REFUSED;
	return ST_ERR_NTFS;
}

/* ---------------------------------------------------------------- arena -- */

struct arena_block {
	struct arena_block *next;
	size_t used, size;
	max_align_t data[];
};

void *
arena_alloc(struct arena *a, size_t size)
{
	size = (size + 15) & ~(size_t)15;
	struct arena_block *b = a->head;
	if (!b || b->size - b->used < size) {
		size_t bsize = size > 65536 ? size : 65536;
		b = malloc(sizeof(*b) + bsize);
		if (!b)
			return NULL;
		b->used = 0;
		b->size = bsize;
		/* A large allocation goes behind the current block, which keeps its room. */
		if (a->head && size > 65536) {
			b->next = a->head->next;
			a->head->next = b;
		} else {
			b->next = a->head;
			a->head = b;
		}
	}
	void *p = (char *)b->data + b->used;
	b->used += size;
	return p;
}

void *
arena_memdup(struct arena *a, const void *p, size_t len)
{
	void *q = arena_alloc(a, len ? len : 1);
	if (q && len)
		memcpy(q, p, len);
	return q;
}

char *
arena_strdup(struct arena *a, const char *s)
{
	size_t n = strlen(s ? s : "");
	char *q = arena_alloc(a, n + 1);
	if (q) {
		memcpy(q, s ? s : "", n);
		q[n] = 0;
	}
	return q;
}

void
arena_free(struct arena *a)
{
	while (a->head) {
		struct arena_block *n = a->head->next;
		free(a->head);
		a->head = n;
	}
}

/* ------------------------------------------------------------------ buf -- */

void
buf_put(struct buf *b, const void *p, size_t len)
{
	if (b->failed)
		return;
	if (b->cap - b->len < len) {
		size_t cap = b->cap ? b->cap : 4096;
		while (cap - b->len < len)
			cap *= 2;
		uint8_t *q = realloc(b->p, cap);
		if (!q) {
			b->failed = true;
			return;
		}
		b->p = q;
		b->cap = cap;
	}
	if (len)
		memcpy(b->p + b->len, p, len);
	b->len += len;
}

void
buf_u8(struct buf *b, uint8_t v)
{
	buf_put(b, &v, 1);
}

void
buf_u32(struct buf *b, uint32_t v)
{
	uint8_t x[4];
	fmt_put_le32(x, v);
	buf_put(b, x, 4);
}

void
buf_u64(struct buf *b, uint64_t v)
{
	uint8_t x[8];
	fmt_put_le64(x, v);
	buf_put(b, x, 8);
}

void
buf_bytes(struct buf *b, const void *p, size_t len)
{
	buf_u32(b, (uint32_t)len);
	buf_put(b, p, len);
}

void
buf_str(struct buf *b, const char *s)
{
	buf_bytes(b, s ? s : "", strlen(s ? s : ""));
}

void
buf_free(struct buf *b)
{
	free(b->p);
	*b = (struct buf){ 0 };
}

/* ------------------------------------------------------------------ I/O -- */

int
write_all(int fd, const void *p, size_t len)
{
	const uint8_t *q = p;
	while (len) {
		ssize_t n = write(fd, q, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		q += n;
		len -= (size_t)n;
	}
	return 0;
}

int
pread_all(int fd, void *p, size_t len, uint64_t off)
{
	uint8_t *q = p;
	while (len) {
		ssize_t n = pread(fd, q, len, (off_t)off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		if (n == 0) {
			errno = EIO;
			return -1;
		}
		q += n;
		len -= (size_t)n;
		off += (uint64_t)n;
	}
	return 0;
}

int
fsync_parent(const char *path)
{
	char *copy = strdup(path);
	if (!copy)
		return -1;
	char *slash = strrchr(copy, '/');
	const char *dir = ".";
	if (slash == copy)
		dir = "/";
	else if (slash) {
		*slash = 0;
		dir = copy;
	}
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int rc = fd < 0 ? -1 : fsync(fd);
	if (fd >= 0)
		close(fd);
	free(copy);
	return rc;
}

enum st_status
write_file_atomic(const char *dir, const char *name, chunk_fn next, void *ctx)
{
	char *tmp = NULL, *final = NULL;
	enum st_status st = ST_OK;
	if (asprintf(&tmp, "%s/%s.tmp", dir, name) < 0 || asprintf(&final, "%s/%s", dir, name) < 0) {
		free(tmp);
		return st_fail(ST_ERR_NOMEM, "out of memory");
	}
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0) {
		st = st_fail_errno(ST_ERR_IO, "cannot create %s", tmp);
		goto out;
	}
	const uint8_t *p;
	size_t len;
	while (!(st = next(ctx, &p, &len)) && len)
		if (write_all(fd, p, len) != 0) {
			st = st_fail_errno(ST_ERR_IO, "cannot write %s", tmp);
			break;
		}
	if (!st && fsync(fd) != 0)
		st = st_fail_errno(ST_ERR_IO, "cannot write %s", tmp);
	close(fd);
	if (st) {
		unlink(tmp);
		goto out;
	}
	if (rename(tmp, final) != 0) {
		st = st_fail_errno(ST_ERR_IO, "cannot rename %s", tmp);
		unlink(tmp);
		goto out;
	}
	if (fsync_parent(final) != 0)
		st = st_fail_errno(ST_ERR_IO, "cannot sync the folder of %s", final);
out:
	free(tmp);
	free(final);
	return st;
}

struct one_buffer {
	const void *data;
	size_t len;
};

static enum st_status
one_buffer_next(void *ctx, const uint8_t **p, size_t *len)
{
	struct one_buffer *b = ctx;
	*p = b->data;
	*len = b->len;
	b->len = 0;
	return ST_OK;
}

enum st_status
put_file_atomic(const char *dir, const char *name, const void *data, size_t len)
{
	struct one_buffer b = { data, len };
	return write_file_atomic(dir, name, one_buffer_next, &b);
}

char *
layout_path(char letter, const char *path)
{
	char *s;
	if (asprintf(&s, "USMT/File/%c$/%s", letter ? letter : 'C', path) < 0)
		return NULL;
	return s;
}

char *
stream_store_name(const uint8_t *hash)
{
	char hex[2 * ST_HASH_BYTES + 1], *s;
	sodium_bin2hex(hex, sizeof(hex), hash, ST_HASH_BYTES);
	if (asprintf(&s, "USMT/Streams/%s", hex) < 0)
		return NULL;
	return s;
}

enum st_status
st_volume_store_path(const char *arg, char *out, size_t outlen)
{
	const char *p = arg;
	if (p[0] && p[1] == ':' && (p[2] == '\\' || p[2] == '/' || !p[2])) {
		if ((p[0] & ~0x20) != 'C')
			return st_fail(ST_ERR_INVALID, "a hard-link store is on the Windows volume (C:); "
				       "%s names another drive", arg);
		p += p[2] ? 3 : 2;
	} else if (p[0] == '/' || p[0] == '.') {
		return st_fail(ST_ERR_INVALID, "a hard-link store is named by its folder on the Windows "
			       "volume (MigStore or C:\\MigStore), not by the local path %s", arg);
	}
	size_t n = 0;
	for (; *p; p++) {
		if (n + 1 >= outlen)
			return st_fail(ST_ERR_INVALID, "the store folder %s is too long", arg);
		char c = *p == '\\' ? '/' : *p;
		if (c == '/' && (n == 0 || out[n - 1] == '/'))
			continue; /* leading or doubled separators */
		out[n++] = c;
	}
	while (n && out[n - 1] == '/')
		n--;
	out[n] = 0;
	if (!n)
		return st_fail(ST_ERR_INVALID, "a hard-link store cannot be the volume's root (%s)", arg);
	return ST_OK;
}

/* ---------------------------------------------------------- checksums -- */

_Static_assert(sizeof(((struct st_hasher *)0)->state) >= sizeof(crypto_generichash_state),
	       "st_hasher must hold libsodium's state");

void
st_hash_begin(struct st_hasher *h)
{
	crypto_generichash_init((crypto_generichash_state *)h->state, NULL, 0, ST_HASH_BYTES);
}

void
st_hash_update(struct st_hasher *h, const void *data, size_t len)
{
	crypto_generichash_update((crypto_generichash_state *)h->state, data, len);
}

void
st_hash_end(struct st_hasher *h, uint8_t out[ST_HASH_BYTES])
{
	crypto_generichash_final((crypto_generichash_state *)h->state, out, ST_HASH_BYTES);
}
