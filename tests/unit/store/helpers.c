#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "tests/unit/store/helpers.h"

char *
scratch_dir(void)
{
	const char *tmp = getenv("TMPDIR");
	char *dir;
	cr_assert(asprintf(&dir, "%s/winstate-store-XXXXXX", tmp ? tmp : "/tmp") > 0);
	cr_assert_not_null(mkdtemp(dir), "mkdtemp: %s", strerror(errno));
	return dir;
}

void
scratch_done(char *dir)
{
	if (!dir)
		return;
	sh("for m in $(grep -o ' %s/[^ ]*' /proc/mounts); do umount \"$m\"; done; rm -rf '%s'",
	   dir, dir);
	free(dir);
}

int
sh(const char *fmt, ...)
{
	va_list ap;
	char *cmd;
	va_start(ap, fmt);
	cr_assert(vasprintf(&cmd, fmt, ap) >= 0);
	va_end(ap);
	int rc = system(cmd);
	free(cmd);
	return WIFEXITED(rc) ? WEXITSTATUS(rc) : 128;
}

char *
sh_output(const char *fmt, ...)
{
	va_list ap;
	char *cmd;
	va_start(ap, fmt);
	cr_assert(vasprintf(&cmd, fmt, ap) >= 0);
	va_end(ap);
	FILE *p = popen(cmd, "r");
	cr_assert_not_null(p);
	char *buf = calloc(1, 65536);
	size_t n = fread(buf, 1, 65535, p);
	buf[n] = 0;
	pclose(p);
	free(cmd);
	while (n && (buf[n - 1] == '\n'))
		buf[--n] = 0;
	return buf;
}

static uint64_t
next(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

uint8_t *
content(uint64_t seed, size_t len, bool text)
{
	static const char *const words[] = { "user ", "state ", "migration ", "NTFS ", "store ",
					     "alice ", "document ", "\n", "winstate ", "frame " };
	uint8_t *p = malloc(len ? len : 1);
	uint64_t s = seed * 7919 + 1;
	size_t i = 0;
	cr_assert_not_null(p);
	while (i < len) {
		if (text) {
			const char *w = words[next(&s) % 10];
			size_t n = strlen(w);
			if (n > len - i)
				n = len - i;
			memcpy(p + i, w, n);
			i += n;
		} else {
			uint64_t v = next(&s);
			size_t n = len - i < 8 ? len - i : 8;
			memcpy(p + i, &v, n);
			i += n;
		}
	}
	return p;
}

void
feed(struct st_writer *w, uint64_t seed, size_t len, bool text, size_t chunk)
{
	uint8_t *p = content(seed, len, text);
	for (size_t off = 0; off < len; off += chunk) {
		size_t n = len - off < chunk ? len - off : chunk;
		cr_assert_eq(st_writer_write_data(w, p + off, n), ST_OK, "%s", st_last_error());
	}
	free(p);
}

struct sink {
	uint8_t *p;
	size_t len, cap;
};

static int
to_sink(const void *buf, size_t len, void *ctx)
{
	struct sink *s = ctx;
	if (s->len + len > s->cap) {
		s->cap = (s->len + len) * 2;
		s->p = realloc(s->p, s->cap);
	}
	memcpy(s->p + s->len, buf, len);
	s->len += len;
	return 0;
}

enum st_status
slurp(struct st_reader *r, size_t index, size_t stream, uint8_t **data, size_t *len)
{
	struct sink s = { malloc(1), 0, 1 };
	enum st_status st = st_reader_read(r, index, stream, to_sink, &s);
	*data = s.p;
	*len = s.len;
	return st;
}

uint64_t
file_size(const char *path)
{
	struct stat sb;
	cr_assert_eq(stat(path, &sb), 0, "stat %s", path);
	return (uint64_t)sb.st_size;
}

void
flip_byte(const char *path, uint64_t offset)
{
	int fd = open(path, O_RDWR);
	uint8_t b;
	cr_assert(fd >= 0);
	cr_assert_eq(pread(fd, &b, 1, (off_t)offset), 1);
	b ^= 0x40;
	cr_assert_eq(pwrite(fd, &b, 1, (off_t)offset), 1);
	close(fd);
}

uint8_t *
read_whole(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	cr_assert_not_null(f, "open %s", path);
	fseek(f, 0, SEEK_END);
	long n = ftell(f);
	fseek(f, 0, SEEK_SET);
	uint8_t *p = malloc((size_t)n + 1);
	cr_assert_eq(fread(p, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	*len = (size_t)n;
	return p;
}

void
write_whole(const char *path, const void *data, size_t len)
{
	FILE *f = fopen(path, "wb");
	cr_assert_not_null(f, "create %s", path);
	cr_assert_eq(fwrite(data, 1, len, f), len);
	fclose(f);
}

struct st_file
test_file(const char *path, uint64_t source_id)
{
	static const uint8_t sd[] = { 1, 0, 4, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 };
	struct st_file f = {
		.path = path,
		.owner = "S-1-5-21-1-2-3-1001",
		.decision = "include: <pattern>%CSIDL_PERSONAL%\\* [*]</pattern>",
		.source_id = source_id,
		.attributes = NV_ATTR_ARCHIVE,
		.times = { 132000000000000000ull, 133000000000000000ull, 133100000000000000ull,
			   133200000000000000ull },
		.security = sd,
		.security_len = sizeof(sd),
	};
	return f;
}

enum st_status
open_catalog_bytes(const char *parent, const void *catalog, size_t len)
{
	char d[4400];
	snprintf(d, sizeof(d), "%s/h", parent);
	sh("rm -rf '%s' && mkdir -p '%s/USMT'", d, d);
	snprintf(d, sizeof(d), "%s/h/catalog", parent);
	write_whole(d, catalog, len);
	snprintf(d, sizeof(d), "%s/h", parent);
	struct st_reader *r = NULL;
	enum st_status st = st_reader_open(d, NULL, &r);
	st_reader_close(r);
	return st;
}
