/*
 * Small helpers of the registry module: error strings, whole-file I/O, finding
 * log files beside a hive by case-insensitive name, private temporary files.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "registry/reg_internal.h"

const char *
reg_strerror(int err)
{
	switch (err) {
	case REG_OK: return "success";
	case REG_ENOMEM: return "out of memory";
	case REG_EIO: return "input/output error";
	case REG_EFORMAT: return "not a usable registry hive";
	case REG_ENOTFOUND: return "not found";
	case REG_EINVAL: return "invalid argument";
	case REG_EHIVEX: return "hivex refused the operation";
	case REG_ERDONLY: return "hive opened read-only";
	case REG_ETYPE: return "value has the wrong type";
	}
	return "unknown error";
}

const char *
reg_type_name(uint32_t type)
{
	static const char *const names[] = {
		"REG_NONE", "REG_SZ", "REG_EXPAND_SZ", "REG_BINARY", "REG_DWORD",
		"REG_DWORD_BIG_ENDIAN", "REG_LINK", "REG_MULTI_SZ", "REG_RESOURCE_LIST",
		"REG_FULL_RESOURCE_DESCRIPTOR", "REG_RESOURCE_REQUIREMENTS_LIST", "REG_QWORD",
	};
	return type < sizeof(names) / sizeof(names[0]) ? names[type] : "REG_UNKNOWN";
}

const char *
reg_hive_state_name(enum reg_hive_state s)
{
	switch (s) {
	case REG_HIVE_CLEAN: return "clean";
	case REG_HIVE_REPLAYED: return "replayed";
	case REG_HIVE_DIRTY_NOT_REPLAYED: return "dirty-not-replayed";
	case REG_HIVE_UNRECOVERABLE: return "unrecoverable";
	}
	return "?";
}

void
reg_seterr(reg_hive *h, const char *fmt, ...)
{
	va_list ap;

	if (!h)
		return;
	va_start(ap, fmt);
	vsnprintf(h->errmsg, sizeof(h->errmsg), fmt, ap);
	va_end(ap);
}

char *
reg_strdup(const char *s)
{
	return s ? strdup(s) : NULL;
}

char *
reg_asprintf(const char *fmt, ...)
{
	va_list ap;
	char *s = NULL;
	int r;

	va_start(ap, fmt);
	r = vasprintf(&s, fmt, ap);
	va_end(ap);
	return r < 0 ? NULL : s;
}

int
reg_strcaseeq(const char *a, const char *b)
{
	return strcasecmp(a, b) == 0;
}

uint8_t *
reg_read_file(const char *path, size_t *len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat st;
	uint8_t *buf;
	size_t done = 0;

	if (fd < 0)
		return NULL;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		errno = EINVAL;
		return NULL;
	}
	buf = malloc((size_t)st.st_size + 1);
	if (!buf) {
		close(fd);
		return NULL;
	}
	while (done < (size_t)st.st_size) {
		ssize_t r = read(fd, buf + done, (size_t)st.st_size - done);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		done += (size_t)r;
	}
	close(fd);
	*len = done;
	return buf;
}

int
reg_write_file(const char *path, const uint8_t *buf, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	size_t done = 0;

	if (fd < 0)
		return -1;
	while (done < len) {
		ssize_t w = write(fd, buf + done, len - done);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			close(fd);
			return -1;
		}
		done += (size_t)w;
	}
	return close(fd);
}

char *
reg_find_beside(const char *file_path, const char *suffix)
{
	const char *slash = strrchr(file_path, '/');
	char *dir = slash ? strndup(file_path, (size_t)(slash - file_path + 1)) : strdup("./");
	const char *base = slash ? slash + 1 : file_path;
	char *want = reg_asprintf("%s%s", base, suffix);
	char *found = NULL;
	DIR *d;
	struct dirent *de;

	if (!dir || !want)
		goto out;
	d = opendir(*dir ? dir : "/");
	if (!d)
		goto out;
	while ((de = readdir(d))) {
		if (strcasecmp(de->d_name, want) == 0) {
			found = reg_asprintf("%s%s", dir, de->d_name);
			break;
		}
	}
	closedir(d);
out:
	free(dir);
	free(want);
	return found;
}

char *
reg_make_temp(const char *tag)
{
	const char *tmp = getenv("TMPDIR");
	char *path = reg_asprintf("%s/winstate-%s-XXXXXX", tmp && *tmp ? tmp : "/tmp", tag);
	int fd;

	if (!path)
		return NULL;
	fd = mkstemp(path);
	if (fd < 0) {
		free(path);
		return NULL;
	}
	close(fd);
	return path;
}
