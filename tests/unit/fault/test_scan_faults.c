/*
 * Read errors on the source during a capture with --continue (/c).  Every
 * read of the fixture volume lands in ntfs/volume.c's device, which inject.c
 * can fail; for N over a spread of a clean capture's data reads (reads of
 * 16 KiB or more: MFT records and index blocks are smaller), the N-th one
 * fails once with EIO.  What must hold, for the compressed and the
 * directory store:
 *  - no crash, no leak (the ASan build runs this too);
 *  - the capture ends complete or complete-with-errors (or, when the fault
 *    hits opening the volume, refuses the source with a sentence);
 *  - the store it leaves verifies whole: a file whose data failed part-way
 *    is taken back by the store (st_writer_cancel_file), never kept partial,
 *    and is listed among the skipped items;
 *  - a directory store keeps no file of that name.
 * At least one trial must hit a file whose data was already going into the
 * store, or the test proves nothing.
 *
 * Then writes fail during hard-link captures (ENOSPC from the N-th write on,
 * or EIO once): every file outside the store folder must be exactly as it
 * was, and a store left behind either is refused as incomplete or verifies.
 * When every write fails from some point on, libntfs-3g (no journal) may
 * leave $MFTMirr behind $MFT; the volume is then refused until ntfsfix (or
 * chkdsk) copies the mirror back, and the files must be intact after that.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "capture/capture.h"
#include "ntfs/ntfs.h"
#include "store/store.h"
#include "tests/unit/fault/digest.h"
#include "tests/unit/fault/inject.h"

#define POINTS 12
#define DATA_READ (16u << 10)

static int
sh(const char *fmt, ...)
{
	char cmd[4096];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	return system(cmd);
}

static char *
slurp(const char *path)
{
	FILE *f = fopen(path, "r");
	if (!f)
		return strdup("");
	char *buf = NULL;
	size_t len = 0;
	FILE *m = open_memstream(&buf, &len);
	char chunk[4096];
	size_t n;
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		fwrite(chunk, 1, n, m);
	fclose(f);
	fclose(m);
	return buf;
}

static enum capture_outcome
run_capture(const struct capture_options *o)
{
	struct capture_result res;
	enum capture_outcome out = capture_run(o, &res);
	capture_result_free(&res);
	return out;
}

static enum capture_outcome
capture(const char *img, const char *store, const char *log, bool directory)
{
	static const char *ui[] = { "alice" }, *ue[] = { "*" };
	struct capture_options o = {
		.prog = "winstate scan", .source = img, .store = store, .nocompress = directory,
		.overwrite = true, .keep_going = true, .log = log, .ui = ui, .nui = 1, .ue = ue,
		.nue = 1, .efs = CAPTURE_EFS_SKIP,
	};
	return run_capture(&o);
}

/* The skipped item's Windows path "C:\a\b" as the directory store's file. */
static bool
in_directory_store(const char *store, const char *winpath)
{
	if (strncmp(winpath, "C:\\", 3) != 0)
		return false;
	char p[4096];
	int n = snprintf(p, sizeof(p), "%s/USMT/File/C$/%s", store, winpath + 3);
	if (n < 0 || n >= (int)sizeof(p))
		return false;
	for (char *c = p + strlen(store); *c; c++)
		if (*c == '\\')
			*c = '/';
	return access(p, F_OK) == 0;
}

static void
read_faults(bool directory)
{
	const char *fx = getenv("WS_FIXTURES");
	char vol[4096], dir[] = "/tmp/ws-scan-fault-XXXXXX", img[4200], store[4200], log[4200];
	if (!fx || snprintf(vol, sizeof(vol), "%s/volume.img", fx) >= (int)sizeof(vol) ||
	    access(vol, R_OK))
		cr_assert_fail("WS_FIXTURES/volume.img is needed (make fixtures, and run through "
			     "tests/run.sh)");
	cr_assert(mkdtemp(dir));
	snprintf(img, sizeof(img), "%s/src.img", dir);
	snprintf(store, sizeof(store), "%s/store", dir);
	snprintf(log, sizeof(log), "%s/scan.log", dir);
	cr_assert_eq(sh("cp --sparse=always '%s' '%s'", vol, img), 0);

	fault_count();
	fault_read_min(DATA_READ);
	enum capture_outcome clean = capture(img, store, log, directory);
	unsigned long calls = fault_calls(FAULT_READ);
	fault_reset();
	cr_assert_eq(clean, CAPTURE_OK, "the clean capture failed (%d); see %s", clean, log);
	cr_assert_gt(calls, 4, "only %lu data reads: the fixture changed?", calls);

	unsigned long tried = 0, partial = 0, refused = 0, cancelled = 0;
	unsigned long step = calls > POINTS ? calls / POINTS : 1;
	for (unsigned long n = step / 2 + 1; n <= calls; n += step) {
		fault_arm(FAULT_READ, n, EIO, false);
		fault_read_min(DATA_READ);
		enum capture_outcome out = capture(img, store, log, directory);
		bool fired = fault_fired();
		fault_reset();
		tried++;
		char *text = slurp(log);
		if (out == CAPTURE_ERR_SOURCE) {
			/* The fault hit opening the volume or reading its Windows. */
			refused++;
			free(text);
			continue;
		}
		cr_assert(out == CAPTURE_OK || out == CAPTURE_PARTIAL,
			  "read %lu failed: the capture ended with outcome %d; log:\n%s", n, out, text);
		cr_assert(out == CAPTURE_OK || fired);
		if (out == CAPTURE_PARTIAL)
			partial++;

		struct st_reader *r = NULL;
		cr_assert_eq(st_reader_open(store, NULL, &r), ST_OK,
			     "read %lu: the store does not open: %s", n, st_last_error());
		struct st_verify_result vr;
		enum st_status vs = st_reader_verify(r, NULL, NULL, &vr);
		cr_assert_eq(vs, ST_OK, "read %lu: the store does not verify (%llu damaged): %s", n,
			     (unsigned long long)vr.files_damaged, st_last_error());
		for (size_t i = 0; i < st_reader_skipped_count(r); i++) {
			const struct st_skipped *sk = st_reader_skipped(r, i);
			if (!strstr(sk->reason, "failed at byte"))
				continue;
			cancelled++;
			cr_assert(strstr(text, sk->path), "read %lu: %s is not in the log", n, sk->path);
			if (directory)
				cr_assert(!in_directory_store(store, sk->path),
					  "read %lu: the partial copy of %s stayed in the store", n,
					  sk->path);
		}
		st_reader_close(r);
		free(text);
	}
	printf("fault: capture with --continue into a %s store, read Input/output error: %lu "
	       "reads, %lu points tried, %lu ended with skips, %lu refused the source, %lu files "
	       "taken back part-way\n",
	       directory ? "directory" : "compressed", calls, tried, partial, refused, cancelled);
	fflush(stdout);
	cr_assert_gt(cancelled, 0, "no trial hit a file whose data was being stored");
	sh("rm -rf '%s'", dir);
}

Test(scan_faults, compressed_store_read_errors_continue, .timeout = 900)
{
	read_faults(false);
}

Test(scan_faults, directory_store_read_errors_continue, .timeout = 900)
{
	read_faults(true);
}

/* ------------------------------------------ hard-link capture, write faults -- */

static bool
in_store(const char *path, const char *name)
{
	(void)name;
	return !strcasecmp(path, "MigStore");
}

static enum capture_outcome
hardlink_capture(const char *img)
{
	struct capture_options o = {
		.prog = "winstate scan", .source = img, .store = "MigStore", .hardlink = true,
		.nocompress = true, .all = true, .efs = CAPTURE_EFS_SKIP,
	};
	return run_capture(&o);
}

/* 0 when the store is refused as not there or incomplete, 1 when it opens
 * and verifies, -1 otherwise (with a sentence in @why). */
static int
store_state(const char *img, char *why, size_t wl)
{
	struct nv_volume *v;
	if (nv_open(img, NULL, &v) != NV_OK) {
		snprintf(why, wl, "the volume does not open: %s", nv_last_error());
		return -1;
	}
	struct st_reader *r = NULL;
	enum st_status st = st_reader_open_ntfs(v, "MigStore", &r);
	int state = 0;
	if (st == ST_OK) {
		struct st_verify_result vr;
		state = st_reader_verify(r, NULL, NULL, &vr) == ST_OK ? 1 : -1;
		if (state < 0)
			snprintf(why, wl, "the store opens but %llu files are damaged",
				 (unsigned long long)vr.files_damaged);
		st_reader_close(r);
	} else if (st != ST_ERR_NOT_FOUND && st != ST_ERR_INCOMPLETE) {
		snprintf(why, wl, "the store is neither complete nor recognised as incomplete: %s",
			 st_last_error());
		state = -1;
	}
	nv_close(v);
	return state;
}

static void
hardlink_write_faults(int err, bool sticky)
{
	const char *fx = getenv("WS_FIXTURES");
	char vol[4096], dir[] = "/tmp/ws-hl-fault-XXXXXX", img[4200], why[1024];
	if (!fx || snprintf(vol, sizeof(vol), "%s/volume.img", fx) >= (int)sizeof(vol) ||
	    access(vol, R_OK))
		cr_assert_fail("WS_FIXTURES/volume.img is needed (make fixtures, and run through "
			     "tests/run.sh)");
	cr_assert(mkdtemp(dir));
	snprintf(img, sizeof(img), "%s/src.img", dir);
	uint64_t before, after;
	cr_assert_eq(sh("cp --sparse=always '%s' '%s'", vol, img), 0);
	cr_assert_eq(volume_digest(img, "", in_store, false, &before, why, sizeof(why)), 0, "%s", why);

	fault_count();
	enum capture_outcome clean = hardlink_capture(img);
	unsigned long calls = fault_calls(FAULT_WRITE);
	fault_reset();
	cr_assert_eq(clean, CAPTURE_OK, "the clean hard-link capture failed (%d)", clean);
	cr_assert_eq(volume_digest(img, "", in_store, false, &after, why, sizeof(why)), 0, "%s", why);
	cr_assert_eq(before, after, "a clean hard-link capture changed files outside its store");
	cr_assert_gt(calls, POINTS);

	unsigned long tried = 0, failed = 0, complete = 0, mirror = 0;
	unsigned long step = calls / POINTS;
	for (unsigned long n = step / 2 + 1; n <= calls; n += step) {
		cr_assert_eq(sh("cp --sparse=always '%s' '%s'", vol, img), 0);
		fault_arm(FAULT_WRITE, n, err, sticky);
		enum capture_outcome out = hardlink_capture(img);
		fault_reset();
		tried++;
		if (out == CAPTURE_OK)
			complete++;
		else
			failed++;
		/* Writes failing from here on (a dying disk) can stop libntfs-3g between
		 * $MFT and $MFTMirr: it has no journal.  ntfsfix copies the mirror back,
		 * as chkdsk would; what matters is that no file outside the store was
		 * touched. */
		if (volume_digest(img, "", in_store, false, &after, why, sizeof(why)) < 0) {
			cr_assert(sticky && strstr(why, "$MFTMirr"), "write %lu failed: %s", n, why);
			cr_assert_eq(sh("ntfsfix -d '%s' >/dev/null 2>&1", img), 0,
				     "write %lu: ntfsfix could not repair the mirror", n);
			mirror++;
		}
		int state = store_state(img, why, sizeof(why));
		cr_assert_geq(state, 0, "write %lu failed (outcome %d): %s", n, out, why);
		cr_assert(out != CAPTURE_OK || state == 1,
			  "write %lu failed: the capture says done but the store is incomplete", n);
		cr_assert_eq(volume_digest(img, "", in_store, false, &after, why, sizeof(why)), 0,
			     "write %lu failed: %s", n, why);
		cr_assert_eq(before, after, "write %lu failed (%s): files outside the store changed",
			     n, strerror(err));
	}
	printf("fault: hard-link capture, %s %s: %lu writes, %lu points tried, %lu failed with a "
	       "sentence, %lu complete, %lu needed ntfsfix for $MFTMirr; the source outside the "
	       "store unchanged every time\n",
	       strerror(err), sticky ? "from then on" : "once", calls, tried, failed, complete, mirror);
	fflush(stdout);
	sh("rm -rf '%s'", dir);
}

Test(scan_faults, hardlink_capture_full_volume_leaves_source_intact, .timeout = 900)
{
	hardlink_write_faults(ENOSPC, true);
}

Test(scan_faults, hardlink_capture_write_error_leaves_source_intact, .timeout = 900)
{
	hardlink_write_faults(EIO, false);
}

/* ------------------------------------------------ capture, out of memory -- */

/*
 * The N-th allocation fails (ENOMEM), for N over a stride of a clean
 * capture's allocations (capture/, store/, ntfs/, registry/, windows/,
 * rules/, and the libc calls that allocate for them: strdup, asprintf,
 * open_memstream ...).  Each trial runs in a child process, so that the
 * rule compiler's way out (it cannot unwind: "winstate: out of memory",
 * exit 5) is told from a crash.  Without --continue, what must hold:
 *  - no crash; no leak (the ASan build runs the leak check in each child);
 *  - CAPTURE_OK only with the whole store: it verifies and holds what the
 *    clean capture's store holds (files, registry values, users, skipped
 *    items), and the result has the clean run's counts;
 *  - otherwise a failure outcome with its sentence (never "done with
 *    errors"), or exit 5; and the store is refused as incomplete or whole.
 * TRIALS points spread over the allocations keep the test to about half a
 * minute.
 */
#define TRIALS 60

#ifdef __SANITIZE_ADDRESS__
#include <sanitizer/lsan_interface.h>
#endif
#include <sys/wait.h>

struct store_shape {
	size_t files, registry, users, skipped;
};

/* 1: the store opens and verifies (*@sh filled); 0: refused as missing or
 * incomplete; -1: neither (with a sentence in @why). */
static int
store_shape(const char *store, struct store_shape *sh, char *why, size_t wl)
{
	struct st_reader *r = NULL;
	enum st_status st = st_reader_open(store, NULL, &r);
	if (st == ST_ERR_NOT_FOUND || st == ST_ERR_INCOMPLETE)
		return 0;
	if (st != ST_OK) {
		snprintf(why, wl, "the store neither opens nor is refused as incomplete: %s",
			 st_last_error());
		return -1;
	}
	struct st_verify_result vr;
	int state = 1;
	if (st_reader_verify(r, NULL, NULL, &vr) != ST_OK) {
		snprintf(why, wl, "the store opens but does not verify (%llu damaged)",
			 (unsigned long long)vr.files_damaged);
		state = -1;
	}
	sh->files = st_reader_file_count(r);
	sh->registry = st_reader_registry_count(r);
	sh->users = st_reader_user_count(r);
	sh->skipped = st_reader_skipped_count(r);
	st_reader_close(r);
	return state;
}

/* What a trial's child tells its parent. */
struct trial {
	int outcome;
	bool fired, complete, report, leaked;
	uint64_t files, links, bytes, registry_values;
	size_t accounting;
	unsigned long allocations;  /* counted during the run */
	char message[512];
};

/* @uel: NULL, or a bad one that stops the run right after the source is read. */
static void
oom_capture(const char *img, const char *store, const char *log, const char *uel,
	    struct trial *t)
{
	static const char *ui[] = { "alice" }, *ue[] = { "*" };
	struct capture_options o = {
		.prog = "winstate scan", .source = img, .store = store, .overwrite = true,
		.log = log, .ui = ui, .nui = 1, .ue = ue, .nue = 1, .efs = CAPTURE_EFS_SKIP,
		.uel = uel,
	};
	struct capture_result res;
	memset(t, 0, sizeof(*t));
	t->outcome = capture_run(&o, &res);
	t->fired = fault_fired();
	t->allocations = fault_calls(FAULT_ALLOC);
	fault_reset();
	t->outcome = t->outcome == (int)res.outcome ? t->outcome : -1;
	t->complete = res.complete;
	t->report = res.report != NULL;
	t->files = res.files;
	t->links = res.links;
	t->bytes = res.bytes;
	t->registry_values = res.registry_values;
	t->accounting = res.accounting_count;
	memcpy(t->message, res.message, sizeof(t->message) - 1);
	t->message[sizeof(t->message) - 1] = 0;
	capture_result_free(&res);
}

/* Trial @n in a child: 0 with *@t filled, or the child's exit status (5:
 * stopped by the out-of-memory policy), or -signal. */
static int
oom_trial(const char *img, const char *store, const char *log, const char *err,
	  unsigned long n, struct trial *t)
{
	int fd[2];
	cr_assert_eq(pipe(fd), 0);
	fflush(NULL);
	pid_t pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0) {
		close(fd[0]);
		if (!freopen(err, "w", stderr))
			_exit(99);
		fault_arm(FAULT_ALLOC, n, ENOMEM, false);
		oom_capture(img, store, log, NULL, t);
#ifdef __SANITIZE_ADDRESS__
		t->leaked = __lsan_do_recoverable_leak_check() != 0;
#endif
		_exit(write(fd[1], t, sizeof(*t)) == (ssize_t)sizeof(*t) ? 0 : 98);
	}
	close(fd[1]);
	ssize_t got = read(fd[0], t, sizeof(*t));
	close(fd[0]);
	int status;
	cr_assert_eq(waitpid(pid, &status, 0), pid);
	if (WIFSIGNALED(status))
		return -WTERMSIG(status);
	if (WEXITSTATUS(status))
		return WEXITSTATUS(status);
	cr_assert_eq(got, (ssize_t)sizeof(*t), "trial %lu: the child said nothing", n);
	return 0;
}

Test(scan_faults, out_of_memory_never_ends_done_with_less, .timeout = 900)
{
	const char *fx = getenv("WS_FIXTURES");
	char vol[4096], dir[] = "/tmp/ws-scan-oom-XXXXXX", store[4200], log[4200], err[4200];
	char why[1024];
	if (!fx || snprintf(vol, sizeof(vol), "%s/volume.img", fx) >= (int)sizeof(vol) ||
	    access(vol, R_OK))
		cr_skip_test("WS_FIXTURES/volume.img is needed (make fixtures, and run through "
			     "tests/run.sh)");
	cr_assert(mkdtemp(dir));
	snprintf(store, sizeof(store), "%s/store", dir);
	snprintf(log, sizeof(log), "%s/scan.log", dir);
	snprintf(err, sizeof(err), "%s/stderr", dir);

	struct trial clean, t;
	fault_count();
	oom_capture(vol, store, log, NULL, &clean);
	unsigned long calls = clean.allocations;
	/* The faults start once the offline Windows is read: windows/'s model
	 * of it (win_open) goes on when an allocation fails there (a hive it
	 * cannot copy out is "missing"), a gap named in docs/reliability.md.
	 * A bad --uel stops the run right there: what it allocated is the start. */
	fault_count();
	oom_capture(vol, store, log, "bogus", &t);
	unsigned long first = t.allocations;
	cr_assert_eq(t.outcome, CAPTURE_ERR_USAGE, "%s", t.message);
	cr_assert_eq(clean.outcome, CAPTURE_OK, "the clean capture failed (%d): %s", clean.outcome,
		     clean.message);
	struct store_shape want, got;
	cr_assert_eq(store_shape(store, &want, why, sizeof(why)), 1, "%s", why);
	cr_assert_gt(want.files, 0);
	cr_assert_gt(calls, first + TRIALS, "only %lu allocations (%lu before the users are "
		     "chosen): the injector is not in the way?", calls, first);

	unsigned long tried = 0, done = 0, internal = 0, other = 0, policy = 0, whole = 0;
	unsigned long step = (calls - first) / TRIALS;
	for (unsigned long n = first + step / 2 + 1; n <= calls; n += step) {
		int st = oom_trial(vol, store, log, err, n, &t);
		tried++;
		char *said = slurp(err);
		cr_assert_geq(st, 0, "allocation %lu failed: the capture crashed (signal %d); "
			      "stderr:\n%s", n, -st, said);
		cr_assert(st == 0 || (st == 5 && strstr(said, "out of memory")),
			  "allocation %lu failed: the child exited %d; stderr:\n%s", n, st, said);
		free(said);
		int state = store_shape(store, &got, why, sizeof(why));
		cr_assert_geq(state, 0, "allocation %lu failed: %s", n, why);
		if (st == 5) {
			policy++;
			continue;
		}
		cr_assert(!t.leaked, "allocation %lu failed (outcome %d): memory leaked", n, t.outcome);
		cr_assert_geq(t.outcome, 0, "allocation %lu: the returned outcome is not the result's",
			      n);
		cr_assert_neq(t.outcome, CAPTURE_PARTIAL, "allocation %lu failed: \"done with "
			      "errors\" without --continue (%s)", n, t.message);
		if (t.outcome == CAPTURE_OK) {
			done++;
			cr_assert_eq(state, 1, "allocation %lu failed: done, but the store is "
				     "incomplete", n);
			cr_assert(got.files == want.files && got.registry == want.registry &&
				  got.users == want.users && got.skipped == want.skipped,
				  "allocation %lu failed%s: done, but the store holds %zu files, %zu "
				  "values, %zu users, %zu skipped (the clean one %zu, %zu, %zu, %zu)", n,
				  t.fired ? "" : " (not fired)", got.files, got.registry, got.users,
				  got.skipped, want.files, want.registry, want.users, want.skipped);
			cr_assert(t.files == clean.files && t.links == clean.links &&
				  t.bytes == clean.bytes && t.registry_values == clean.registry_values &&
				  t.report && t.accounting == clean.accounting,
				  "allocation %lu failed: done, with other counts than the clean run", n);
			continue;
		}
		cr_assert(t.fired, "allocation %lu: the capture failed (%d) with no fault: %s", n,
			  t.outcome, t.message);
		cr_assert(t.message[0], "allocation %lu failed: outcome %d without a sentence", n,
			  t.outcome);
		cr_assert(!t.complete || t.outcome == CAPTURE_ERR_FAILED);
		if (t.outcome == CAPTURE_ERR_INTERNAL)
			internal++;
		else
			other++;
		if (state == 1)
			whole++;
	}
	printf("fault: capture, one allocation fails (ENOMEM): %lu allocations (from the %luth "
	       "on), %lu points tried: "
	       "%lu done with the whole store, %lu out of memory, %lu other failures (a sentence "
	       "each), %lu stopped by the rule compiler (exit 5), %lu failed after the store was "
	       "complete\n", calls, first + 1, tried, done, internal, other, policy, whole);
	fflush(stdout);
	cr_assert_gt(internal, 0, "no trial ended out of memory: the faults missed the capture");
	sh("rm -rf '%s'", dir);
}
