/* capture_run: the steps of a capture in order, and the summary. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "capture/internal.h"
#include "formats/formats.h"
#include "rules/rules.h"

volatile sig_atomic_t scan_stop_signal;

static void
on_signal(int sig)
{
	scan_stop_signal = sig;
}

/* ---------------------------------------------------------------- run -- */

enum capture_outcome
scan_open_source(struct scan *s)
{
	const struct capture_options *o = s->o;
	char *path = NULL;
	struct nv_open_options no = { .read_write = o->hardlink && !o->estimate };
	if (nv_split_target(o->source, &path, &no.partition) != NV_OK) {
		scan_fail(s, CAPTURE_ERR_SOURCE, "%s is not DISK or DISK:PARTITION", o->source);
		return s->fail;
	}
	enum nv_status st = nv_open(path, &no, &s->vol);
	free(path);
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
	if (win_open(s->vol, o->windir, false, &s->w, err, sizeof(err)) < 0) {
		scan_fail(s, CAPTURE_ERR_SOURCE, "%s", err);
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
				fprintf(stderr, "%s: note: %s also holds the previous Windows in %s; this "
					"captures the current one (%s).  To capture the users of the previous "
					"one, give %s\n", o->prog, o->source, all[i].windir,
					s->w->install.windir, o->usmt ? "/offlinewinold" : "--windir Windows.old/Windows");
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


static void
print_summary(struct scan *s, enum capture_outcome rc)
{
	if (s->o->json) {
		scan_write_report(s, stdout, rc == CAPTURE_OK || rc == CAPTURE_PARTIAL);
		if (rc == CAPTURE_OK || rc == CAPTURE_PARTIAL)
			scan_print_accounting(s); /* to the log only */
		return;
	}
	char b[32];
	size_t sel = 0;
	for (size_t i = 0; i < s->nusers; i++)
		sel += s->users[i].selected;
	if (rc != CAPTURE_OK && rc != CAPTURE_PARTIAL)
		return;
	if (s->o->estimate) {
		printf("estimate: %llu files, %s on disk for %zu user(s) and the system; written to %s\n",
		       (unsigned long long)s->est_files, fmt_size(s->est_bytes, b, sizeof(b)), sel,
		       s->o->estimate);
		scan_print_accounting(s);
		return;
	}
	if (s->o->hardlink)
		printf("linked %llu files (%s, nothing copied), %llu registry values, for %zu user(s) "
		       "and the system into the hard-link store %s on %s\n",
		       (unsigned long long)s->files, fmt_size(s->bytes, b, sizeof(b)),
		       (unsigned long long)s->regs, sel, s->o->store, s->o->source);
	else
		printf("captured %llu files (%llu more hard links), %s, %llu registry values, for %zu "
		       "user(s) and the system into %s\n",
		       (unsigned long long)s->files, (unsigned long long)s->links,
		       fmt_size(s->bytes, b, sizeof(b)), (unsigned long long)s->regs, sel, s->o->store);
	if (s->links_stored)
		printf("%llu junction(s) and folder link(s) stored as links (their targets were not "
		       "followed)\n", (unsigned long long)s->links_stored);
	if (s->nclouds)
		printf("%zu cloud (OneDrive) folder(s) entered like plain folders; their cloud state is "
		       "not stored (restored as plain folders): listed in report.json cloud_folders\n",
		       s->nclouds);
	if (s->not_captured)
		printf("%llu item(s) were not captured on purpose (cloud placeholders, WOF, EFS ...): "
		       "each is listed with its reason in report.json\n",
		       (unsigned long long)s->not_captured);
	if (s->errors)
		printf("%llu item(s) could not be captured (errors continued past): listed in "
		       "report.json\n", (unsigned long long)s->errors);
	scan_print_accounting(s);
}

enum capture_outcome
capture_run(const struct capture_options *o)
{
	struct scan sc = { 0 }, *s = &sc;
	s->o = o;
	s->verbosity = o->verbosity;
	s->t0 = s->last_tick = scan_now();
	s->start = time(NULL);
	s->tty = isatty(2);
	scan_stop_signal = 0;
	enum capture_outcome rc = CAPTURE_OK;

	if (o->log && !(s->log = fopen(o->log, "a"))) {
		fprintf(stderr, "%s: the log file %s cannot be written: %s\n", o->prog, o->log,
			strerror(errno));
		return CAPTURE_ERR_LOG;
	}
	if (o->progress && !(s->prog = fopen(o->progress, "a"))) {
		fprintf(stderr, "%s: the progress log %s cannot be written: %s\n", o->prog, o->progress,
			strerror(errno));
		if (s->log)
			fclose(s->log);
		return CAPTURE_ERR_PROGRESS;
	}
	if (o->listfiles && !(s->list = fopen(o->listfiles, "w"))) {
		fprintf(stderr, "%s: the file list %s cannot be written: %s\n", o->prog, o->listfiles,
			strerror(errno));
		if (s->log)
			fclose(s->log);
		if (s->prog)
			fclose(s->prog);
		return CAPTURE_ERR_OUTPUT;
	}
	LOG_INFO(s, "%s started: %s", o->prog, o->command_line ? o->command_line : "");
	scan_progress_line(s, "program", "winstate scan", "productVersion", WINSTATE_VERSION);
	if (o->command_line)
		scan_progress_line(s, "commandLine", o->command_line, NULL, NULL);
	scan_progress_line(s, "PHASE", "Initializing", NULL, NULL);

	struct sigaction sa = { 0 }, old_int, old_term;
	sa.sa_handler = on_signal;
	sigaction(SIGINT, &sa, &old_int);
	sigaction(SIGTERM, &sa, &old_term);

	if (!(s->buf = malloc(READ_CHUNK))) {
		rc = CAPTURE_ERR_INTERNAL;
		goto done;
	}
	if (scan_load_rules(s) < 0 || scan_open_source(s) != CAPTURE_OK)
		goto done;
	if (s->w->info.computer_name)
		scan_progress_line(s, "computerName", s->w->info.computer_name, NULL, NULL);
	scan_progress_line(s, "PHASE", "Scanning", NULL, NULL);
	if (scan_select_users(s) < 0 || scan_build_matchers(s) < 0 || scan_plan_accounting(s) < 0)
		goto done;
	if (!o->estimate) {
		if (scan_create_store(s) != CAPTURE_OK)
			goto done;
		scan_add_users_to_store(s);
	}
	scan_progress_line(s, "PHASE", o->estimate ? "Estimating" : "Collecting", NULL, NULL);
	/* Registry first: small, and a failure there costs no file data. */
	for (size_t i = 0; i < s->nusers && !s->fail; i++)
		if (s->users[i].selected && s->users[i].m)
			scan_registry(s, &s->users[i], s->users[i].m, s->users[i].host.hives);
	if (!s->fail && s->sysm)
		scan_registry(s, NULL, s->sysm, s->syshost.hives);
	if (!s->fail) {
		scan_progress_line(s, "PHASE", o->estimate ? "Estimating" : "Saving", NULL, NULL);
		enum nv_status ws = nv_walk(s->vol, s->root, scan_walk_entry, s);
		if (ws != NV_OK && !s->fail)
			scan_fail(s, CAPTURE_ERR_SOURCE, "the volume could not be walked: %s", nv_last_error());
	}
	if (!s->fail && scan_stop_signal)
		scan_fail(s, CAPTURE_ERR_CANCELED, "stopped by signal %d; the store was abandoned",
		     (int)scan_stop_signal);
	scan_tick(s, true);
	if (!s->fail)
		scan_check_accounting(s);
	if (s->fail)
		goto done;
	if (o->estimate) {
		scan_write_estimate(s);
		goto done;
	}
	/* report.json, then the catalog: the store is complete only after both. */
	char *rep = NULL;
	size_t replen = 0;
	FILE *mem = open_memstream(&rep, &replen);
	if (mem) {
		scan_write_report(s, mem, true);
		fclose(mem);
		if (st_writer_put_file(s->wr, "report.json", rep, replen))
			scan_fail(s, CAPTURE_ERR_FAILED, "report.json could not be written into the store: %s",
			     st_last_error());
		free(rep);
	}
	if (!s->fail) {
		enum st_status st = st_writer_finish(s->wr, 0);
		s->wr = NULL;
		if (st)
			scan_fail(s, CAPTURE_ERR_FAILED, "the store could not be completed: %s", st_last_error());
	}
done:
	if (s->wr) {
		st_writer_abort(s->wr);
		s->wr = NULL;
	}
	if (s->fail)
		rc = s->fail;
	else if (s->errors)
		rc = CAPTURE_PARTIAL;
	if (s->fail)
		fprintf(stderr, "%s%s: %s\n", s->tty ? "\n" : "", o->prog, s->failmsg);
	if (rc == CAPTURE_ERR_CANCELED || rc == CAPTURE_ERR_STOPPED || rc == CAPTURE_ERR_FAILED ||
	    rc == CAPTURE_ERR_EFS)
		if (!o->estimate && !o->hardlink)
			fprintf(stderr, "%s: the store in %s is incomplete and no restore will accept it; "
				"run the capture again with %s to replace it\n", o->prog, o->store,
				o->usmt ? "/o" : "--overwrite");
	print_summary(s, rc);
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
	/* teardown */
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
	if (s->vol) {
		enum nv_status cs = nv_close(s->vol);
		if (cs != NV_OK && (rc == CAPTURE_OK || rc == CAPTURE_PARTIAL)) {
			fprintf(stderr, "%s: closing the volume failed: %s\n", o->prog, nv_last_error());
			rc = CAPTURE_ERR_FAILED;
		}
	}
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
	sigaction(SIGINT, &old_int, NULL);
	sigaction(SIGTERM, &old_term, NULL);
	return rc;
}
