/* capture_run: the steps of a capture in order, and the summary. */
#include <assert.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "capture/internal.h"
#include "rules/rules.h"

/* ---------------------------------------------------------------- run -- */

static enum capture_outcome
scan_open_source(struct scan *s)
{
	const struct capture_options *o = s->o;
	char *path = NULL;
	struct nv_open_options no = { .read_write = o->hardlink && !o->estimate };
	enum nv_status split = nv_split_target(o->source, &path, &no.partition);
	if (split == NV_ERR_NOMEM)
		return scan_out_of_memory(s, "reading the source's name");
	if (split != NV_OK) {
		scan_fail(s, CAPTURE_ERR_SOURCE, "%s is not DISK or DISK:PARTITION", o->source);
		return s->fail;
	}
	enum nv_status st = nv_open(path, &no, &s->vol);
	free(path);
	if (st == NV_ERR_NOMEM)
		return scan_out_of_memory(s, "opening the volume");
	if (st == NV_ERR_HIBERNATED || st == NV_ERR_UNCLEAN) {
		scan_fail(s, CAPTURE_ERR_UNCLEAN, "%s: %s.  A hard-link store writes to this volume, which is "
		     "only safe on a volume Windows shut down completely: start Windows and shut it "
		     "down fully (Shift+Shut down, or powercfg /h off), or capture into a compressed "
		     "store", o->source, nv_last_error());
		return s->fail;
	}
	if (st != NV_OK) {
		scan_fail(s, CAPTURE_ERR_SOURCE, "%s: %s", o->source,
		     nv_last_error());
		return s->fail;
	}
	struct nv_volume_info vi;
	nv_volume_info(s->vol, &vi);
	s->cluster = vi.cluster_size ? vi.cluster_size : 4096;
	s->used_bytes = vi.size > vi.free_bytes ? vi.size - vi.free_bytes : vi.size;
	if (vi.state && !o->force_unclean) {
		scan_fail(s, CAPTURE_ERR_UNCLEAN, "%s was not shut down cleanly (%s%s%s): Windows still holds "
		     "changes in memory or in its journal, so what is on the disk may be stale or "
		     "half-written and a capture could miss or mix up recent files.  Start Windows "
		     "and shut it down fully (Shift+Shut down), or give --force-unclean to capture "
		     "the disk as it is", o->source,
		     vi.state & NV_STATE_HIBERNATED ? "hibernated / Fast Startup" : "",
		     (vi.state & NV_STATE_HIBERNATED) && (vi.state & ~NV_STATE_HIBERNATED) ? ", " : "",
		     vi.state & NV_STATE_DIRTY ? "dirty" : vi.state & NV_STATE_LOG_UNCLEAN ?
		     "journal not clean" : "");
		return s->fail;
	}
	if (vi.state)
		LOG_WARN(s, "%s was not shut down cleanly; captured anyway (--force-unclean)", o->source);
	char err[1024];
	int wo = win_open(s->vol, o->windir, false, &s->w, err, sizeof(err));
	if (wo < 0) {
		scan_fail(s, wo == WIN_ERR_NOMEM ? CAPTURE_ERR_INTERNAL : CAPTURE_ERR_SOURCE, "%s", err);
		return s->fail;
	}
	s->root = s->w->install.root;
	if (!o->windir && !s->w->install.is_windows_old) {
		/* After a reinstall the users live in Windows.old: say so, never
		 * capture an empty new Windows in silence. */
		struct win_install *all = NULL;
		size_t n = 0;
		win_find_installs(s->vol, &all, &n);
		for (size_t i = 0; i < n; i++)
			if (all[i].is_windows_old) {
				scan_say(s, CAPTURE_NOTE, "%s also holds the previous Windows in %s; this "
					 "captures the current one (%s).  To capture the users of the previous "
					 "one, give %s", o->source, all[i].windir, s->w->install.windir,
					 o->usmt ? "/offlinewinold" : "--windir Windows.old/Windows");
				LOG_WARN(s, "the volume also holds %s (not captured)", all[i].windir);
			}
		win_installs_free(all, n);
	}
	LOG_INFO(s, "Windows: %s %s (build %s), computer %s, in %s",
		 s->w->info.product_name ? s->w->info.product_name : "?",
		 s->w->info.display_version ? s->w->info.display_version : "",
		 s->w->info.current_build ? s->w->info.current_build : "?",
		 s->w->info.computer_name ? s->w->info.computer_name : "?", s->w->install.windir);
	return CAPTURE_OK;
}


/* The log, the progress log and the file list: opened before anything else,
 * so that a run that cannot write them does nothing. */
static enum capture_outcome
open_outputs(struct scan *s)
{
	const struct capture_options *o = s->o;
	if (o->log && !(s->log = fopen(o->log, "a")))
		return scan_fail(s, CAPTURE_ERR_LOG, "the log file %s cannot be written: %s", o->log,
				 strerror(errno));
	if (o->progress && !(s->prog = fopen(o->progress, "a")))
		return scan_fail(s, CAPTURE_ERR_PROGRESS, "the progress log %s cannot be written: %s",
				 o->progress, strerror(errno));
	if (o->listfiles && !(s->list = fopen(o->listfiles, "w")))
		return scan_fail(s, CAPTURE_ERR_OUTPUT, "the file list %s cannot be written: %s",
				 o->listfiles, strerror(errno));
	return CAPTURE_OK;
}

/* report.json as it stands, into a string of its own; NULL when out of memory. */
static char *
report_text(struct scan *s, bool complete, size_t *len)
{
	char *text = NULL;
	FILE *mem = open_memstream(&text, len);
	if (!mem)
		return NULL;
	scan_write_report(s, mem, complete);
	bool lost = ferror(mem);
	if (fclose(mem) || lost) {
		free(text);
		return NULL;
	}
	return text;
}

/* report.json, then the catalog: the store is complete only after both. */
static enum capture_outcome
complete_store(struct scan *s)
{
	size_t len = 0;
	char *rep = report_text(s, true, &len);
	if (!rep || s->fail) {
		free(rep);
		return scan_out_of_memory(s, "writing report.json");
	}
	enum st_status st = st_writer_put_file(s->wr, "report.json", rep, len);
	free(rep);
	if (st == ST_ERR_NOMEM)
		return scan_out_of_memory(s, "writing report.json");
	if (st)
		return scan_fail(s, CAPTURE_ERR_FAILED, "report.json could not be written into the "
				 "store: %s", st_last_error());
	st = st_writer_finish(s->wr, 0);
	s->wr = NULL;
	if (st == ST_ERR_NOMEM)
		return scan_out_of_memory(s, "completing the store");
	if (st)
		return scan_fail(s, CAPTURE_ERR_FAILED, "the store could not be completed: %s",
				 st_last_error());
	return CAPTURE_OK;
}

/* The steps of a capture in order: each returns the run's outcome, and the
 * first that fails ends it. */
static enum capture_outcome
run_steps(struct scan *s)
{
	const struct capture_options *o = s->o;
	enum capture_outcome rc;
	if (!(s->buf = malloc(READ_CHUNK)))
		return scan_out_of_memory(s, "the read buffer");
	if ((rc = scan_load_rules(s)) || (rc = scan_open_source(s)))
		return rc;
	if (s->w->info.computer_name)
		scan_progress_line(s, "computerName", s->w->info.computer_name, NULL, NULL);
	scan_progress_line(s, "PHASE", "Scanning", NULL, NULL);
	if ((rc = scan_select_users(s)) || (rc = scan_build_matchers(s)) ||
	    (rc = scan_plan_accounting(s)))
		return rc;
	if (!o->estimate && ((rc = scan_create_store(s)) || (rc = scan_add_users_to_store(s))))
		return rc;
	scan_progress_line(s, "PHASE", o->estimate ? "Estimating" : "Collecting", NULL, NULL);
	/* Registry first: small, and a failure there costs no file data. */
	for (size_t i = 0; i < s->nusers && !rc; i++)
		if (s->users[i].selected && s->users[i].m)
			rc = scan_registry(s, &s->users[i], s->users[i].m, s->users[i].host.hives);
	if (!rc && s->sysm)
		rc = scan_registry(s, NULL, s->sysm, s->syshost.hives);
	if (!rc) {
		scan_progress_line(s, "PHASE", o->estimate ? "Estimating" : "Saving", NULL, NULL);
		rc = scan_walk(s);
	}
	scan_tick(s, true);
	if (rc)
		return rc;
	scan_check_accounting(s);
	return o->estimate ? scan_write_estimate(s) : complete_store(s);
}

/* The summary's figures, for the caller to print. */
static void
fill_counts(struct scan *s, struct capture_result *res)
{
	res->files = s->files;
	res->links = s->links;
	res->bytes = s->bytes;
	res->registry_values = s->regs;
	res->errors = s->errors;
	res->not_captured = s->not_captured;
	res->junctions = s->links_stored;
	res->cloud_folders = s->nclouds;
	res->estimate_files = s->est_files;
	res->estimate_bytes = s->est_bytes;
	for (size_t i = 0; i < s->nusers; i++)
		res->users_selected += s->users[i].selected;
}

static void
free_scan(struct scan *s)
{
	for (size_t i = 0; i < s->nusers; i++) {
		struct scan_user *u = &s->users[i];
		mig_matcher_free(u->m);
		if (u->host_ok)
			win_rules_host_fini(&u->host);
		mig_vars_free(u->vars);
		free(u->sid);
		free(u->rel_profile);
		for (size_t k = 0; k < u->ndomains; k++)
			free(u->domains[k]);
		acct_free(&u->acct);
	}
	free(s->users);
	free(s->profiles);
	acct_free(&s->sys_acct);
	mig_matcher_free(s->sysm);
	if (s->syshost_ok)
		win_rules_host_fini(&s->syshost);
	mig_vars_free(s->sysvars);
	mig_config_free(s->cfg);
	mig_ruleset_free(s->rs);
	mig_diags_free(s->diags);
	if (s->w)
		win_close(s->w);
	for (size_t i = 0; i < s->nskips; i++) {
		free(s->skips[i].path);
		free(s->skips[i].owner);
		free(s->skips[i].reason);
	}
	free(s->skips);
	for (size_t i = 0; i < s->nunres; i++)
		free(s->unres[i].contexts);
	free(s->unres);
	for (size_t i = 0; i < s->nclouds; i++) {
		free(s->clouds[i].path);
		free(s->clouds[i].owner);
		free(s->clouds[i].streams);
	}
	free(s->clouds);
	scan_seen_free(&s->seen);
	free(s->store_rel);
	free(s->buf);
}

_Static_assert(sizeof(((struct capture_result *)0)->message) ==
	       sizeof(((struct scan *)0)->failmsg), "the failure's sentence fits the result");

enum capture_outcome
capture_run(const struct capture_options *o, struct capture_result *res)
{
	struct scan sc = { 0 }, *s = &sc;
	memset(res, 0, sizeof(*res));
	s->o = o;
	s->res = res;
	s->verbosity = o->verbosity;
	s->t0 = s->last_tick = scan_now();
	s->start = time(NULL);

	enum capture_outcome step = open_outputs(s);
	if (step != CAPTURE_OK) {
		if (s->log)
			fclose(s->log);
		if (s->prog)
			fclose(s->prog);
		res->outcome = step;
		memcpy(res->message, s->failmsg, sizeof(res->message));
		return step;
	}
	LOG_INFO(s, "%s started: %s", o->prog, o->command_line ? o->command_line : "");
	scan_progress_line(s, "program", "winstate scan", "productVersion", WINSTATE_VERSION);
	if (o->command_line)
		scan_progress_line(s, "commandLine", o->command_line, NULL, NULL);
	scan_progress_line(s, "PHASE", "Initializing", NULL, NULL);

	step = run_steps(s);
	if (s->wr) {
		st_writer_abort(s->wr);
		s->wr = NULL;
	}
	/* One way to fail: a step that failed is the run's failure, so the
	 * run cannot end in OK after it, even if it forgot to say why. */
	if (step != CAPTURE_OK && !s->fail)
		scan_fail(s, CAPTURE_ERR_INTERNAL, "internal error: a step of the capture failed "
			  "(outcome %d) without a reason", (int)step);
	/* The summary: report.json's text for --json, and the accounting. */
	res->complete = !s->fail;
	size_t len;
	res->report = report_text(s, res->complete, &len);
	if (!res->report)
		scan_out_of_memory(s, "writing the summary");
	if (!s->fail)
		scan_summarise_accounting(s);
	if (s->fail)
		res->complete = false;
	enum capture_outcome rc = s->fail ? s->fail : s->errors ? CAPTURE_PARTIAL : CAPTURE_OK;
	assert(rc != CAPTURE_OK || (step == CAPTURE_OK && !s->fail));
	fill_counts(s, res);
	if (s->fail)
		memcpy(res->message, s->failmsg, sizeof(res->message));

	if (s->log) {
		if (s->errors || s->fail) {
			fprintf(s->log, "\nUSMT ERROR SUMMARY\n  Error | Caused abort | Item\n");
			for (size_t i = 0; i < s->nskips; i++)
				if (s->skips[i].error)
					fprintf(s->log, "  %s | %s | %s\n", s->skips[i].reason,
						o->keep_going ? "No" : "Yes", s->skips[i].path);
			if (s->fail)
				fprintf(s->log, "  %s | Yes | -\n", s->failmsg);
		}
		struct rusage ru;
		getrusage(RUSAGE_SELF, &ru);
		LOG_INFO(s, "%s ended: outcome %d, %llu files, %llu bytes, %llu registry values, "
			 "%.1f s, peak memory %ld KiB", o->prog, (int)rc, (unsigned long long)s->files,
			 (unsigned long long)s->bytes, (unsigned long long)s->regs, scan_now() - s->t0,
			 ru.ru_maxrss);
		fclose(s->log);
	}
	if (s->prog) {
		char code[16];
		snprintf(code, sizeof(code), "%d", (int)rc);
		scan_progress_line(s, "PHASE", "Done", "errorCode", code);
		fclose(s->prog);
	}
	if (s->list)
		fclose(s->list);
	free_scan(s);
	if (s->vol) {
		enum nv_status cs = nv_close(s->vol);
		if (cs != NV_OK && (rc == CAPTURE_OK || rc == CAPTURE_PARTIAL)) {
			/* After the summary: the work was done, the volume's last
			 * writes were not. */
			snprintf(res->message, sizeof(res->message), "closing the volume failed: %s",
				 nv_last_error());
			rc = CAPTURE_ERR_FAILED;
		}
	}
	res->outcome = rc;
	return rc;
}

void
capture_result_free(struct capture_result *res)
{
	for (size_t i = 0; i < res->accounting_count; i++)
		free(res->accounting[i]);
	free(res->accounting);
	free(res->report);
	res->accounting = NULL;
	res->accounting_count = 0;
	res->report = NULL;
}
