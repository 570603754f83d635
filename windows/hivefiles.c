#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "windows/windows.h"

int
win_hive_dir_open(struct win_hive_dir *dir, char *err, size_t errlen)
{
	const char *tmp = getenv("TMPDIR");
	if (asprintf(&dir->path, "%s/winstate-hives-XXXXXX", tmp && *tmp ? tmp : "/tmp") < 0) {
		dir->path = NULL;
		snprintf(err, errlen, "out of memory");
		return WIN_ERR_NOMEM;
	}
	if (!mkdtemp(dir->path)) {
		snprintf(err, errlen, "cannot make a private folder for hive copies in %s: %s",
			 tmp && *tmp ? tmp : "/tmp", strerror(errno));
		free(dir->path);
		dir->path = NULL;
		return -1;
	}
	return 0;
}

void
win_hive_dir_close(struct win_hive_dir *dir)
{
	DIR *d;
	struct dirent *e;

	if (!dir->path)
		return;
	/* The folder holds only the files we copied, one level deep. */
	if ((d = opendir(dir->path))) {
		while ((e = readdir(d))) {
			if (e->d_name[0] == '.' && (!e->d_name[1] || !strcmp(e->d_name, "..")))
				continue;
			unlinkat(dirfd(d), e->d_name, 0);
		}
		closedir(d);
	}
	rmdir(dir->path);
	free(dir->path);
	dir->path = NULL;
}

/* Failures of the local copy are ours, not the volume's: say so here. */
static char local_error[512];

const char *
win_hive_copy_error(void)
{
	return local_error[0] ? local_error : nv_last_error();
}

static enum nv_status
local_fail(const char *dest)
{
	snprintf(local_error, sizeof(local_error), "cannot write %s: %s", dest, strerror(errno));
	return NV_ERR_IO;
}

static enum nv_status
copy_stream(struct nv_volume *vol, uint64_t mref, const char *dest)
{
	struct nv_reader *r;
	enum nv_status st = nv_reader_open(vol, mref, NULL, &r);
	static char buf[1 << 16];
	uint64_t off = 0;
	size_t got;
	int fd;

	if (st != NV_OK)
		return st;
	fd = open(dest, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0) {
		nv_reader_close(r);
		return local_fail(dest);
	}
	for (;;) {
		st = nv_reader_pread(r, buf, sizeof(buf), off, &got);
		if (st != NV_OK || got == 0)
			break;
		if (write(fd, buf, got) != (ssize_t)got) {
			st = local_fail(dest);
			break;
		}
		off += got;
	}
	if (close(fd) < 0 && st == NV_OK)
		st = local_fail(dest);
	nv_reader_close(r);
	return st;
}

struct log_search {
	const char *base;
	size_t base_len;
	struct nv_volume *vol;
	const struct win_hive_dir *dir;
	const char *local_name;
	enum nv_status status;
};

static int
copy_logs(const struct nv_entry *e, void *ctx)
{
	struct log_search *s = ctx;
	static const char *const suffixes[] = { ".LOG", ".LOG1", ".LOG2" };
	if (!e->inode || (e->inode->kind & NV_IS_DIR))
		return NV_WALK_SKIP;
	if (strncasecmp(e->name, s->base, s->base_len))
		return NV_WALK_CONTINUE;
	for (size_t i = 0; i < 3; i++) {
		if (strcasecmp(e->name + s->base_len, suffixes[i]))
			continue;
		char *dest;
		if (asprintf(&dest, "%s/%s%s", s->dir->path, s->local_name, suffixes[i]) < 0)
			return NV_WALK_STOP;
		enum nv_status st = copy_stream(s->vol, e->mref, dest);
		free(dest);
		if (st != NV_OK && s->status == NV_OK)
			s->status = st;
	}
	return NV_WALK_CONTINUE;
}

enum nv_status
win_hive_copy_out(struct nv_volume *vol, const char *volume_path, const struct win_hive_dir *dir,
	      const char *local_name, char **copied)
{
	uint64_t mref;
	enum nv_status st;
	char *dest, *parent;
	const char *slash = strrchr(volume_path, '/');

	*copied = NULL;
	local_error[0] = '\0';
	st = nv_lookup(vol, volume_path, &mref);
	if (st != NV_OK)
		return st;
	if (asprintf(&dest, "%s/%s", dir->path, local_name) < 0)
		return NV_ERR_NOMEM;
	st = copy_stream(vol, mref, dest);
	if (st != NV_OK) {
		free(dest);
		return st;
	}
	parent = slash ? strndup(volume_path, (size_t)(slash - volume_path)) : strdup("");
	struct log_search s = { .base = slash ? slash + 1 : volume_path, .vol = vol, .dir = dir,
				.local_name = local_name };
	s.base_len = strlen(s.base);
	if (parent)
		st = nv_walk(vol, parent, copy_logs, &s);
	free(parent);
	if (st == NV_OK)
		st = s.status;
	if (st != NV_OK) {
		free(dest);
		return st;
	}
	*copied = dest;
	return NV_OK;
}
