/*
 * Opening and closing hives.  reg_hive_open() checks the base block and, for a
 * dirty hive, replays its logs into a private temporary copy (replay.c) that
 * hivex then opens; the copy is deleted at close.  The source is only read.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "registry/reg_internal.h"

static void
set_msg(char *msg, size_t msgsz, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void
set_msg(char *msg, size_t msgsz, const char *fmt, ...)
{
	va_list ap;

	if (!msg || !msgsz)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, msgsz, fmt, ap);
	va_end(ap);
}

reg_hive *
reg_hive_open(const char *path, unsigned flags, int *err, char *msg, size_t msgsz)
{
	reg_hive *h = calloc(1, sizeof(*h));
	const char *open_path = path;
	int e = REG_OK, hxflags;

	if (!h || !(h->src_path = strdup(path))) {
		e = REG_ENOMEM;
		set_msg(msg, msgsz, "out of memory");
		goto fail;
	}
	h->flags = flags;
	if (!(flags & REG_HIVE_OPEN_NO_REPLAY)) {
		h->tmp_path = reg_make_temp("hive");
		if (!h->tmp_path) {
			e = REG_EIO;
			set_msg(msg, msgsz, "cannot create a temporary file for the replayed hive: %s",
				strerror(errno));
			goto fail;
		}
		e = reg_hive_replay(path, h->tmp_path, &h->report);
		if (e) {
			set_msg(msg, msgsz, "%s", h->report.detail);
			goto fail;
		}
		if (h->report.state == REG_HIVE_REPLAYED) {
			open_path = h->tmp_path;
		} else {
			unlink(h->tmp_path);
			free(h->tmp_path);
			h->tmp_path = NULL;
		}
	} else {
		/* Still say what state the base hive is in. */
		e = reg_hive_replay_logs(path, NULL, NULL, "/dev/null", &h->report);
		if (e) {
			set_msg(msg, msgsz, "%s", h->report.detail);
			goto fail;
		}
	}
	hxflags = (flags & REG_HIVE_OPEN_WRITE) ? HIVEX_OPEN_WRITE : 0;
	/* hivex refuses a dirty hive's bad checksum; UNRECOVERABLE hives are still tried. */
	h->hx = hivex_open(open_path, hxflags);
	if (!h->hx) {
		int saved = errno;
		e = REG_EFORMAT;
		set_msg(msg, msgsz, "%s: hivex cannot open the hive (%s); the file is damaged or "
			"not a registry hive", path, strerror(saved));
		goto fail;
	}
	if (err)
		*err = REG_OK;
	return h;
fail:
	if (err)
		*err = e;
	reg_hive_close(h);
	return NULL;
}

void
reg_hive_close(reg_hive *h)
{
	if (!h)
		return;
	if (h->hx)
		hivex_close(h->hx);
	if (h->tmp_path) {
		unlink(h->tmp_path);
		free(h->tmp_path);
	}
	free(h->src_path);
	free(h);
}

const struct reg_replay_report *
reg_hive_report(const reg_hive *h)
{
	return &h->report;
}

const char *
reg_hive_path(const reg_hive *h)
{
	return h->src_path;
}

const char *
reg_hive_errmsg(const reg_hive *h)
{
	return h->errmsg;
}

int
reg_hive_commit(reg_hive *h, const char *path)
{
	if (!(h->flags & REG_HIVE_OPEN_WRITE)) {
		reg_seterr(h, "hive %s was opened read-only", h->src_path);
		return REG_ERDONLY;
	}
	if (!path) {
		reg_seterr(h, "commit needs an explicit output path");
		return REG_EINVAL;
	}
	if (hivex_commit(h->hx, path, 0) < 0) {
		reg_seterr(h, "cannot write hive %s: %s", path, strerror(errno));
		return REG_EIO;
	}
	return REG_OK;
}
