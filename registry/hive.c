/*
 * Opening and closing hives.  ws_hive_open() checks the base block and, for a
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

ws_hive *
ws_hive_open(const char *path, unsigned flags, int *err, char *msg, size_t msgsz)
{
	ws_hive *h = calloc(1, sizeof(*h));
	const char *open_path = path;
	int e = WS_REG_OK, hxflags;

	if (!h || !(h->src_path = strdup(path))) {
		e = WS_REG_ENOMEM;
		set_msg(msg, msgsz, "out of memory");
		goto fail;
	}
	h->flags = flags;
	if (!(flags & WS_HIVE_OPEN_NO_REPLAY)) {
		h->tmp_path = reg_make_temp("hive");
		if (!h->tmp_path) {
			e = WS_REG_EIO;
			set_msg(msg, msgsz, "cannot create a temporary file for the replayed hive: %s",
				strerror(errno));
			goto fail;
		}
		e = ws_hive_replay(path, h->tmp_path, &h->report);
		if (e) {
			set_msg(msg, msgsz, "%s", h->report.detail);
			goto fail;
		}
		if (h->report.state == WS_HIVE_REPLAYED) {
			open_path = h->tmp_path;
		} else {
			unlink(h->tmp_path);
			free(h->tmp_path);
			h->tmp_path = NULL;
		}
	} else {
		/* Still say what state the base hive is in. */
		e = ws_hive_replay_logs(path, NULL, NULL, "/dev/null", &h->report);
		if (e) {
			set_msg(msg, msgsz, "%s", h->report.detail);
			goto fail;
		}
	}
	hxflags = (flags & WS_HIVE_OPEN_WRITE) ? HIVEX_OPEN_WRITE : 0;
	/* hivex refuses a dirty hive's bad checksum; UNRECOVERABLE hives are still tried. */
	h->hx = hivex_open(open_path, hxflags);
	if (!h->hx) {
		int saved = errno;
		e = WS_REG_EFORMAT;
		set_msg(msg, msgsz, "%s: hivex cannot open the hive (%s); the file is damaged or "
			"not a registry hive", path, strerror(saved));
		goto fail;
	}
	if (err)
		*err = WS_REG_OK;
	return h;
fail:
	if (err)
		*err = e;
	ws_hive_close(h);
	return NULL;
}

void
ws_hive_close(ws_hive *h)
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

const struct ws_replay_report *
ws_hive_report(const ws_hive *h)
{
	return &h->report;
}

const char *
ws_hive_path(const ws_hive *h)
{
	return h->src_path;
}

const char *
ws_hive_errmsg(const ws_hive *h)
{
	return h->errmsg;
}

int
ws_hive_commit(ws_hive *h, const char *path)
{
	if (!(h->flags & WS_HIVE_OPEN_WRITE)) {
		reg_seterr(h, "hive %s was opened read-only", h->src_path);
		return WS_REG_ERDONLY;
	}
	if (!path) {
		reg_seterr(h, "commit needs an explicit output path");
		return WS_REG_EINVAL;
	}
	if (hivex_commit(h->hx, path, 0) < 0) {
		reg_seterr(h, "cannot write hive %s: %s", path, strerror(errno));
		return WS_REG_EIO;
	}
	return WS_REG_OK;
}
