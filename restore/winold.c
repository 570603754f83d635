/*
 * migrate-winold: a capture of Windows.old (capture/) into a hard-link store
 * on the same volume, chained with a restore of that store into the new
 * Windows.  The capture reports its own problems; the restore's outcome is
 * the result's, the capture's failure mapped onto the same outcomes.
 */
#include <stdio.h>
#include <string.h>

#include "capture/capture.h"
#include "restore/restore.h"

/* A capture that did not complete, as a restore outcome (the same exit codes). */
static enum restore_outcome
capture_failure(enum capture_outcome sc)
{
	switch (sc) {
	case CAPTURE_ERR_USAGE: return RESTORE_USAGE;
	case CAPTURE_ERR_INTERNAL: return RESTORE_INTERNAL;
	case CAPTURE_ERR_SOURCE: case CAPTURE_ERR_UNCLEAN: case CAPTURE_ERR_STORE_EXISTS:
	case CAPTURE_ERR_STORE: case CAPTURE_ERR_HARDLINK: return RESTORE_TARGET;
	default: return RESTORE_FAILED;
	}
}

static int
stop(struct restore_winold_result *res, enum restore_winold_step step, enum restore_outcome o,
     const char *message)
{
	res->step = step;
	res->restore.outcome = o;
	snprintf(res->restore.message, sizeof(res->restore.message), "%s", message);
	return -1;
}

int
restore_winold(const struct restore_winold_options *o, struct restore_winold_result *res)
{
	memset(res, 0, sizeof(*res));
	if (st_volume_store_path(o->store ? o->store : "MigStore.winold", res->store,
				 sizeof(res->store)) != ST_OK)
		return stop(res, RESTORE_WINOLD_STORE_PATH, RESTORE_USAGE, st_last_error());
	bool all = !o->ui_count && !o->ue_count;
	struct capture_options so = {
		.prog = "winstate migrate-winold", .source = o->disk, .windir = "Windows.old/Windows",
		.store = res->store, .hardlink = true, .nocompress = true, .keep_going = o->keep_going,
		.all = all, .ui = o->ui, .ue = o->ue, .nui = o->ui_count, .nue = o->ue_count,
		.efs = CAPTURE_EFS_HARDLINK, .log = NULL,
	};
	enum capture_outcome sc;
	if (o->capture) {
		sc = o->capture(&so, o->capture_ctx);
	} else {
		struct capture_result cr;
		sc = capture_run(&so, &cr);
		capture_result_free(&cr);
	}
	if (sc != CAPTURE_OK && sc != CAPTURE_PARTIAL)
		return stop(res, RESTORE_WINOLD_CAPTURE, capture_failure(sc),
			    "the capture from Windows.old did not complete; nothing was restored");
	res->capture_partial = sc == CAPTURE_PARTIAL;
	/* Opened once the capture is done, as the restore's own log. */
	FILE *log = o->log ? fopen(o->log, "w") : NULL;
	if (o->log && !log) {
		stop(res, RESTORE_WINOLD_LOG, RESTORE_USAGE, "");
		snprintf(res->restore.message, sizeof(res->restore.message), "cannot write the log %s",
			 o->log);
		return -1;
	}
	struct restore_options ro = {
		.store = res->store, .target = o->disk, .hardlink = true, .keep_going = o->keep_going,
		.all = all, .ui = o->ui, .ui_count = o->ui_count, .ue = o->ue, .ue_count = o->ue_count,
		.mu = o->mu, .mu_count = o->mu_count, .md = o->md, .md_count = o->md_count, .log = log,
	};
	res->step = RESTORE_WINOLD_RESTORED;
	int ret = restore_run(&ro, &res->restore);
	if (log)
		fclose(log);
	return ret;
}

void
restore_winold_free(struct restore_winold_result *res)
{
	restore_result_free(&res->restore);
}
