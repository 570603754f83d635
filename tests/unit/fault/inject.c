/* The --wrap side of inject.h.  Counters are atomic: the compressed store's
 * pool allocates from its worker threads. */
#include <errno.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <sys/types.h>

#include "ntfs/ntfs.h"
#include "tests/unit/fault/inject.h"

ssize_t __real_write(int fd, const void *buf, size_t n);
ssize_t __real_pwrite64(int fd, const void *buf, size_t n, off_t off);
int __real_ftruncate64(int fd, off_t len);
int __real_fsync(int fd);
int __real_fdatasync(int fd);
int __real_syncfs(int fd);
int __real_rename(const char *from, const char *to);
int __real_link(const char *from, const char *to);
ssize_t __real_read(int fd, void *buf, size_t n);
ssize_t __real_pread64(int fd, void *buf, size_t n, off_t off);
void *__real_malloc(size_t n);
void *__real_calloc(size_t n, size_t m);
void *__real_realloc(void *p, size_t n);
enum nv_status __real_nv_set_security(struct nv_volume *vol, uint64_t mref, const void *sd, size_t len);
enum nv_status __real_nv_truncate(struct nv_volume *vol, uint64_t mref, const char *stream,
				  uint64_t size);
char *__real_strdup(const char *s);
char *__real_strndup(const char *s, size_t n);
int __real_vasprintf(char **out, const char *fmt, va_list ap);
FILE *__real_open_memstream(char **buf, size_t *len);

ssize_t __wrap_write(int fd, const void *buf, size_t n);
ssize_t __wrap_pwrite64(int fd, const void *buf, size_t n, off_t off);
int __wrap_ftruncate64(int fd, off_t len);
int __wrap_fsync(int fd);
int __wrap_fdatasync(int fd);
int __wrap_syncfs(int fd);
int __wrap_rename(const char *from, const char *to);
int __wrap_link(const char *from, const char *to);
ssize_t __wrap_read(int fd, void *buf, size_t n);
ssize_t __wrap_pread64(int fd, void *buf, size_t n, off_t off);
void *__wrap_malloc(size_t n);
void *__wrap_calloc(size_t n, size_t m);
void *__wrap_realloc(void *p, size_t n);
enum nv_status __wrap_nv_set_security(struct nv_volume *vol, uint64_t mref, const void *sd, size_t len);
enum nv_status __wrap_nv_truncate(struct nv_volume *vol, uint64_t mref, const char *stream,
				  uint64_t size);
char *__wrap_strdup(const char *s);
char *__wrap_strndup(const char *s, size_t n);
int __wrap_asprintf(char **out, const char *fmt, ...);
int __wrap_vasprintf(char **out, const char *fmt, va_list ap);
FILE *__wrap_open_memstream(char **buf, size_t *len);

static atomic_bool counting, short_io, fired;
static atomic_ulong calls[FAULT_KINDS], renames, renames_at_fire;
static atomic_int armed_kind = -1, armed_err;
static atomic_ulong armed_nth;
static atomic_bool armed_sticky;
static atomic_size_t read_min;   /* reads below this size pass untouched */

void
fault_reset(void)
{
	atomic_store(&read_min, 0);
	atomic_store(&counting, false);
	atomic_store(&armed_kind, -1);
	atomic_store(&short_io, false);
	atomic_store(&fired, false);
	for (int i = 0; i < FAULT_KINDS; i++)
		atomic_store(&calls[i], 0);
	atomic_store(&renames, 0);
}

void
fault_count(void)
{
	fault_reset();
	atomic_store(&counting, true);
}

void
fault_arm(enum fault_kind kind, unsigned long nth, int err, bool sticky)
{
	fault_count();
	atomic_store(&armed_nth, nth);
	atomic_store(&armed_err, err);
	atomic_store(&armed_sticky, sticky);
	atomic_store(&armed_kind, (int)kind);
}

void
fault_short_io(bool on)
{
	atomic_store(&short_io, on);
}

unsigned long
fault_calls(enum fault_kind kind)
{
	return atomic_load(&calls[kind]);
}

bool
fault_fired(void)
{
	return atomic_load(&fired);
}

unsigned long
fault_renames_before(void)
{
	return atomic_load(&renames_at_fire);
}

const char *
fault_kind_name(enum fault_kind kind)
{
	static const char *const names[] = { "write", "sync", "rename", "read", "allocation",
					     "nv_set_security", "nv_truncate" };
	return kind < FAULT_KINDS ? names[kind] : "?";
}

void
fault_read_min(size_t bytes)
{
	atomic_store(&read_min, bytes);
}

/* Count a call of @kind; true when it must fail (errno set). */
static bool
should_fail(enum fault_kind kind)
{
	if (!atomic_load(&counting))
		return false;
	unsigned long n = atomic_fetch_add(&calls[kind], 1) + 1;
	if (atomic_load(&armed_kind) != (int)kind)
		return false;
	unsigned long nth = atomic_load(&armed_nth);
	if (n == nth || (n > nth && atomic_load(&armed_sticky))) {
		if (!atomic_exchange(&fired, true))
			atomic_store(&renames_at_fire, atomic_load(&renames));
		errno = atomic_load(&armed_err);
		return true;
	}
	return false;
}

static size_t
shorten(size_t n)
{
	return atomic_load(&short_io) && n > 1 ? n / 2 : n;
}

ssize_t
__wrap_write(int fd, const void *buf, size_t n)
{
	return should_fail(FAULT_WRITE) ? -1 : __real_write(fd, buf, shorten(n));
}

ssize_t
__wrap_pwrite64(int fd, const void *buf, size_t n, off_t off)
{
	return should_fail(FAULT_WRITE) ? -1 : __real_pwrite64(fd, buf, shorten(n), off);
}

int
__wrap_ftruncate64(int fd, off_t len)
{
	return should_fail(FAULT_WRITE) ? -1 : __real_ftruncate64(fd, len);
}

int
__wrap_fsync(int fd)
{
	return should_fail(FAULT_SYNC) ? -1 : __real_fsync(fd);
}

int
__wrap_fdatasync(int fd)
{
	return should_fail(FAULT_SYNC) ? -1 : __real_fdatasync(fd);
}

int
__wrap_syncfs(int fd)
{
	return should_fail(FAULT_SYNC) ? -1 : __real_syncfs(fd);
}

int
__wrap_rename(const char *from, const char *to)
{
	if (should_fail(FAULT_RENAME))
		return -1;
	int rc = __real_rename(from, to);
	if (rc == 0 && atomic_load(&counting))
		atomic_fetch_add(&renames, 1);
	return rc;
}

int
__wrap_link(const char *from, const char *to)
{
	return should_fail(FAULT_RENAME) ? -1 : __real_link(from, to);
}

ssize_t
__wrap_read(int fd, void *buf, size_t n)
{
	if (n < atomic_load(&read_min))
		return __real_read(fd, buf, n);
	return should_fail(FAULT_READ) ? -1 : __real_read(fd, buf, shorten(n));
}

ssize_t
__wrap_pread64(int fd, void *buf, size_t n, off_t off)
{
	if (n < atomic_load(&read_min))
		return __real_pread64(fd, buf, n, off);
	return should_fail(FAULT_READ) ? -1 : __real_pread64(fd, buf, shorten(n), off);
}

void *
__wrap_malloc(size_t n)
{
	return should_fail(FAULT_ALLOC) ? NULL : __real_malloc(n);
}

void *
__wrap_calloc(size_t n, size_t m)
{
	return should_fail(FAULT_ALLOC) ? NULL : __real_calloc(n, m);
}

void *
__wrap_realloc(void *p, size_t n)
{
	return should_fail(FAULT_ALLOC) ? NULL : __real_realloc(p, n);
}

enum nv_status
__wrap_nv_set_security(struct nv_volume *vol, uint64_t mref, const void *sd, size_t len)
{
	return should_fail(FAULT_SET_SECURITY) ? NV_ERR_IO : __real_nv_set_security(vol, mref, sd, len);
}

enum nv_status
__wrap_nv_truncate(struct nv_volume *vol, uint64_t mref, const char *stream, uint64_t size)
{
	return should_fail(FAULT_TRUNCATE) ? NV_ERR_IO : __real_nv_truncate(vol, mref, stream, size);
}

/* libc's own allocations are out of --wrap's reach: the calls that allocate
 * for their caller count as allocations themselves. */
char *
__wrap_strdup(const char *s)
{
	return should_fail(FAULT_ALLOC) ? NULL : __real_strdup(s);
}

char *
__wrap_strndup(const char *s, size_t n)
{
	return should_fail(FAULT_ALLOC) ? NULL : __real_strndup(s, n);
}

int
__wrap_vasprintf(char **out, const char *fmt, va_list ap)
{
	return should_fail(FAULT_ALLOC) ? -1 : __real_vasprintf(out, fmt, ap);
}

int
__wrap_asprintf(char **out, const char *fmt, ...)
{
	if (should_fail(FAULT_ALLOC))
		return -1;
	va_list ap;
	va_start(ap, fmt);
	int n = __real_vasprintf(out, fmt, ap);
	va_end(ap);
	return n;
}

FILE *
__wrap_open_memstream(char **buf, size_t *len)
{
	return should_fail(FAULT_ALLOC) ? NULL : __real_open_memstream(buf, len);
}
