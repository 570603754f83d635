/*
 * Shared by the libFuzzer targets in tests/fuzz/: a private scratch folder
 * per fuzzing process (in $WS_FUZZ_TMP, else /dev/shm when there is one:
 * every input becomes a file, and tmpfs keeps that cheap), writing an input to a file, and
 * removing a folder tree, an exact copy of an input.  Header-only so each target is one .c file.
 */
#ifndef WINSTATE_TESTS_FUZZ_COMMON_H
#define WINSTATE_TESTS_FUZZ_COMMON_H

#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A copy of exactly @size bytes of the input (*@out NULL for none), so ASan
 * sees any read past its end; false when memory fails (skip the input). */
static inline bool
fz_copy(const uint8_t *data, size_t size, uint8_t **out)
{
	*out = size ? malloc(size) : NULL;
	if (size && !*out)
		return false;
	if (size)
		memcpy(*out, data, size);
	return true;
}

/* The scratch folder, made on first use and removed at exit. */
static char fz_dir_path[PATH_MAX];

static inline void
fz_rmtree(const char *path)
{
	struct stat sb;
	if (lstat(path, &sb) != 0)
		return;
	if (S_ISDIR(sb.st_mode)) {
		DIR *d = opendir(path);
		if (d) {
			struct dirent *e;
			while ((e = readdir(d))) {
				if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
					continue;
				char child[PATH_MAX];
				if (snprintf(child, sizeof(child), "%s/%s", path, e->d_name) <
				    (int)sizeof(child))
					fz_rmtree(child);
			}
			closedir(d);
		}
		rmdir(path);
	} else {
		unlink(path);
	}
}

static inline void
fz_cleanup(void)
{
	if (fz_dir_path[0])
		fz_rmtree(fz_dir_path);
}

static inline const char *
fz_dir(void)
{
	if (!fz_dir_path[0]) {
		/* tests/fuzz/run.sh names a folder it removes afterwards, crash or not. */
		const char *base = getenv("WS_FUZZ_TMP");
		if (!base || !*base)
			base = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
		if (snprintf(fz_dir_path, sizeof(fz_dir_path), "%s/wsfuzz.XXXXXX", base) >=
		    (int)sizeof(fz_dir_path))
			abort();
		if (!mkdtemp(fz_dir_path)) {
			perror("fuzz: cannot make a scratch folder");
			abort();
		}
		atexit(fz_cleanup);
	}
	return fz_dir_path;
}

/* "<scratch>/<name>" in static storage rotated between 4 slots. */
static inline const char *
fz_path(const char *name)
{
	static char slots[4][PATH_MAX];
	static unsigned next;
	char *p = slots[next++ % 4];
	if (snprintf(p, PATH_MAX, "%s/%s", fz_dir(), name) >= PATH_MAX)
		abort();
	return p;
}

/* Write @len bytes to @path (created or truncated); abort on failure, which
 * is the harness's problem, not the code under test's. */
static inline void
fz_write_file(const char *path, const void *data, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	const uint8_t *p = data;
	if (fd < 0) {
		perror(path);
		abort();
	}
	while (len) {
		ssize_t n = write(fd, p, len);
		if (n <= 0) {
			perror(path);
			abort();
		}
		p += n;
		len -= (size_t)n;
	}
	close(fd);
}

#endif
