/*
 * Faults while restoring (restore_run) into a target volume: every write
 * libntfs-3g makes to the image lands in ntfs/volume.c's device (pwrite),
 * which inject.c can fail.  The target is the fixture volume "reinstalled"
 * (tests/fixtures/reinstall.sh), the store alice's part of a capture of the
 * fixture.  For N over a spread of the restore's writes, the N-th write fails
 * with ENOSPC (and every later one: a full disk stays full) or with EIO (that
 * one only).  What must hold:
 *  - no crash, no leak (the ASan build runs this too);
 *  - a failure is an outcome with a sentence (RESTORE_FAILED for a full disk),
 *    never RESTORE_OK with something missing: a restore that says "done"
 *    after a fault must have restored exactly what a clean run restores;
 *  - every file that was on the target before (Windows, Windows.old, the
 *    Default profile...) is still there, same size, times and content, and
 *    SOFTWARE still opens as a hive.  (Public is the system's share of the
 *    store, restored there like alice's profile.)
 * The same for the N-th allocation of the run failing (RESTORE_INTERNAL,
 * exit 5, or a complete result), and for the two writes whose failure used
 * to go unnoticed: a new profile folder's descriptor and a sparse file's
 * length.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <hivex.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "restore/restore.h"
#include "ntfs/ntfs.h"
#include "tests/unit/fault/digest.h"
#include "tests/unit/fault/inject.h"

#define NEW_ALICE "S-1-5-21-3777777777-3888888888-399999999-1001"
#define POINTS 24 /* fault points per kind of fault */

struct env {
	char dir[64];
	char store[128], base[128], img[128];
};

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

/* The store (alice only) and the reinstalled target, made once per test. */
static void
make_env(struct env *e)
{
	const char *fx = getenv("WS_FIXTURES"), *bin = getenv("WS_BIN"), *tools = getenv("WS_TOOLS"),
		   *top = getenv("WS_TOP");
	char vol[4096];
	if (!fx || !bin || !tools || !top ||
	    snprintf(vol, sizeof(vol), "%s/volume.img", fx) >= (int)sizeof(vol) || access(vol, R_OK))
		cr_assert_fail("WS_FIXTURES/volume.img, WS_BIN, WS_TOOLS and WS_TOP are needed "
			     "(make fixtures, and run through tests/run.sh)");
	snprintf(e->dir, sizeof(e->dir), "/tmp/ws-restore-fault-XXXXXX");
	cr_assert(mkdtemp(e->dir));
	snprintf(e->store, sizeof(e->store), "%s/store", e->dir);
	snprintf(e->base, sizeof(e->base), "%s/base.img", e->dir);
	snprintf(e->img, sizeof(e->img), "%s/t.img", e->dir);
	fault_reset();
	cr_assert_eq(sh("cp --sparse=always '%s' '%s/src.img' && '%s' scan '%s/src.img' '%s' --efs skip "
			"--ui alice --ue '*' >'%s/scan.log' 2>&1",
			vol, e->dir, bin, e->dir, e->store, e->dir), 0, "scan failed (see %s)", e->dir);
	cr_assert_eq(sh("cp --sparse=always '%s/src.img' '%s' && WS_TOOLSDIR='%s' bash "
			"'%s/tests/fixtures/reinstall.sh' '%s' >'%s/reinstall.log' 2>&1",
			e->dir, e->base, tools, top, e->base, e->dir), 0, "reinstall.sh failed");
}

static void
drop_env(struct env *e)
{
	fault_reset();
	sh("rm -rf '%s'", e->dir);
}

static void
fresh_target(struct env *e)
{
	fault_reset();
	cr_assert_eq(sh("cp --sparse=always '%s' '%s'", e->base, e->img), 0);
}

static enum restore_outcome
restore(struct env *e, struct restore_result *res)
{
	static const char *const ui[] = { "alice" }, *const ue[] = { "*" };
	static const struct restore_map mu[] = { { "alice", NEW_ALICE } };
	struct restore_options o = {
		.store = e->store, .target = e->img, .ui = ui, .ui_count = 1, .ue = ue, .ue_count = 1,
		.mu = mu, .mu_count = 1,
	};
	restore_run(&o, res);
	return res->outcome;
}

/* ---------------------------------------------------------- digests -- */

static bool
starts_ci(const char *s, const char *prefix)
{
	return !strncasecmp(s, prefix, strlen(prefix));
}

/* What restore writes or replaces: alice's new profile, the system's files
 * (the default rules take the Public folders), the machine hives it merges
 * into, its temporary names. */
static bool
restored_path(const char *path, const char *name)
{
	return starts_ci(path, "Users/alice") || starts_ci(path, "Users/Public") ||
	       !strcasecmp(path, "Windows/System32/config/SOFTWARE") ||
	       !strcasecmp(path, "Windows/System32/config/SYSTEM") ||
	       strstr(name, ".winstate-new") || !strcmp(name, "winstate-restore.incomplete") ||
	       !strcmp(name, "winstate-restore.partial");
}

/* Everything restore must not touch (@skip_restored), or what it wrote
 * (user hives left out: they carry the time of the write in their cells). */
static int
digest(const char *img, const char *start, bool skip_restored, uint64_t *out, char *why, size_t wl)
{
	return volume_digest(img, start, skip_restored ? restored_path : NULL, !skip_restored, out,
			     why, wl);
}

/* SOFTWARE (replaced by restore through a temporary name) still a hive. */
static bool
software_opens(struct env *e)
{
	struct nv_volume *v;
	struct nv_reader *r;
	uint64_t m;
	bool ok = false;
	char local[256];
	snprintf(local, sizeof(local), "%s/SOFTWARE", e->dir);
	if (nv_open(e->img, NULL, &v) != NV_OK)
		return false;
	FILE *f = fopen(local, "wb");
	if (f && nv_lookup(v, "Windows/System32/config/SOFTWARE", &m) == NV_OK &&
	    nv_reader_open(v, m, NULL, &r) == NV_OK) {
		char buf[65536];
		size_t got;
		uint64_t off = 0;
		while (nv_reader_pread(r, buf, sizeof(buf), off, &got) == NV_OK && got) {
			fwrite(buf, 1, got, f);
			off += got;
		}
		nv_reader_close(r);
		ok = true;
	}
	nv_close(v);
	if (f)
		fclose(f);
	if (ok) {
		hive_h *h = hivex_open(local, 0);
		ok = h && hivex_root(h);
		if (h)
			hivex_close(h);
	}
	unlink(local);
	return ok;
}

/* ------------------------------------------------------------ trials -- */

struct tally {
	unsigned long points, failed, partial, absorbed, fired, mirror;
};

static void
write_faults(int err, bool sticky, const char *want)
{
	struct env e;
	struct restore_result res;
	char why[1024];
	uint64_t pre_ref, pre, mine_ref, mine;

	make_env(&e);
	cr_assert_eq(digest(e.base, "", true, &pre_ref, why, sizeof(why)), 0, "%s", why);

	/* The clean run: how many writes, and what alice gets. */
	fresh_target(&e);
	fault_count();
	enum restore_outcome o = restore(&e, &res);
	unsigned long writes = fault_calls(FAULT_WRITE);
	fault_reset();
	cr_assert_eq(o, RESTORE_OK, "clean restore: %s", res.message);
	cr_assert_gt(res.files, 50);
	uint64_t files = res.files;
	restore_result_free(&res);
	cr_assert_gt(writes, 100, "only %lu writes counted: is the binary linked with --wrap?", writes);
	cr_assert_eq(digest(e.img, "Users/alice", false, &mine_ref, why, sizeof(why)), 0, "%s", why);

	struct tally t = { 0 };
	for (unsigned i = 0; i < POINTS; i++) {
		/* Spread over the run, denser at both ends (profile, hives). */
		unsigned long n = i < 3 ? i + 1 : i >= POINTS - 3 ? writes - (POINTS - 1 - i) * 2
				: 1 + (writes * i) / POINTS;
		fresh_target(&e);
		fault_arm(FAULT_WRITE, n, err, sticky);
		o = restore(&e, &res);
		bool fired = fault_fired();
		fault_reset();
		t.points++;
		t.fired += fired;
		if (o == RESTORE_OK) {
			/* Absorbed (libntfs-3g rewrote the block, or the write was a cache's):
			 * then it must all be there. */
			cr_assert_eq(res.files, files, "write %lu (%s): done, but %llu files of %llu", n,
				     strerror(err), (unsigned long long)res.files, (unsigned long long)files);
			cr_assert_eq(digest(e.img, "Users/alice", false, &mine, why, sizeof(why)), 0,
				     "write %lu (%s): done, but the profile reads as: %s", n, strerror(err), why);
			cr_assert_eq(mine, mine_ref, "write %lu (%s): done, but alice's files differ", n,
				     strerror(err));
			t.absorbed++;
		} else {
			cr_assert(fired, "write %lu: outcome %d (%s) without the fault firing", n, o, res.message);
			if (o == RESTORE_PARTIAL) {
				cr_assert_gt(res.problem_count, 0);
				cr_assert_gt(strlen(res.problems[0]), 10);
				t.partial++;
			} else {
				cr_assert(strlen(res.message) > 10, "write %lu: outcome %d without a sentence", n, o);
				cr_assert(o == RESTORE_FAILED || o == RESTORE_TARGET,
					  "write %lu (%s): outcome %d: %s", n, strerror(err), o, res.message);
				if (want && sticky)
					cr_assert(strstr(res.message, want) || strstr(res.message, "volume is full"),
						  "write %lu: \"%s\" does not say \"%s\"", n, res.message, want);
				t.failed++;
			}
		}
		restore_result_free(&res);
		/* What was on the target before is untouched, whatever happened. */
		if (digest(e.img, "", true, &pre, why, sizeof(why)) < 0) {
			/* libntfs-3g writes MFT records 0-3 to $MFT then to $MFTMirr; when
			 * only one write fails, the copies differ and libntfs-3g refuses the
			 * volume until ntfsfix copies the record over.  Nothing else may be
			 * wrong with it. */
			cr_assert(strstr(why, "$MFTMirr does not match"),
				  "write %lu (%s): the target no longer opens: %s", n, strerror(err), why);
			cr_assert_eq(sh("ntfsfix -d '%s' >/dev/null 2>&1", e.img), 0, "ntfsfix failed");
			cr_assert_eq(digest(e.img, "", true, &pre, why, sizeof(why)), 0,
				     "write %lu (%s): even after ntfsfix the target does not open: %s", n,
				     strerror(err), why);
			t.mirror++;
		}
		cr_assert_eq(pre, pre_ref, "write %lu (%s): files that were on the target changed", n,
			     strerror(err));
		cr_assert(software_opens(&e), "write %lu (%s): SOFTWARE is no longer a hive", n,
			  strerror(err));
	}
	printf("fault: restore, write %s%s: %lu writes in a clean run, %lu points tried, %lu failed "
	       "with a sentence, %lu partial (listed), %lu absorbed (result complete); %lu left $MFT and "
	       "$MFTMirr different (ntfsfix)\n",
	       strerror(err), sticky ? " (and every later one)" : "", writes, t.points, t.failed,
	       t.partial, t.absorbed, t.mirror);
	fflush(stdout);
	drop_env(&e);
}

Test(restore_faults, target_full, .timeout = 900)
{
	write_faults(ENOSPC, true, NULL);
}

Test(restore_faults, write_error, .timeout = 900)
{
	write_faults(EIO, false, NULL);
}

Test(restore_faults, write_errors_from_then_on, .timeout = 900)
{
	write_faults(EIO, true, NULL);
}

/* ------------------------------------------------------- allocations -- */

#define ALLOC_POINTS 24

/*
 * The N-th allocation of winstate's own code during the restore fails (that
 * one only), for N over the whole run: the first ones one by one, then a
 * stride (a point costs a copy of the target and a restore: about 1 s).  Never RESTORE_OK with something missing or different (a failure
 * absorbed, by a cache, must leave the result complete), never a crash or a
 * leak (the ASan build runs this too), what was on the target before is
 * untouched, and a failure says why.  Out of memory in restore/ itself is
 * RESTORE_INTERNAL (exit 5), and so is win_open's (WIN_ERR_NOMEM); the
 * modules below tell some of theirs only as another failure (a Windows
 * installation not found among the volume's folders; a name "not valid
 * UTF-8"), which then stop the restore or are listed problems.
 */
Test(restore_faults, out_of_memory, .timeout = 900)
{
	struct env e;
	struct restore_result res;
	char why[1024];
	uint64_t pre_ref, pre, mine_ref, mine;

	make_env(&e);
	cr_assert_eq(digest(e.base, "", true, &pre_ref, why, sizeof(why)), 0, "%s", why);
	fresh_target(&e);
	fault_count();
	enum restore_outcome o = restore(&e, &res);
	unsigned long allocs = fault_calls(FAULT_ALLOC);
	fault_reset();
	cr_assert_eq(o, RESTORE_OK, "clean restore: %s", res.message);
	uint64_t files = res.files;
	restore_result_free(&res);
	cr_assert_gt(allocs, 100, "only %lu allocations counted: is the binary linked with --wrap?",
		     allocs);
	cr_assert_eq(digest(e.img, "Users/alice", false, &mine_ref, why, sizeof(why)), 0, "%s", why);

	unsigned long internal = 0, other = 0, partial = 0, absorbed = 0, points = 0;
	for (unsigned i = 0; i < ALLOC_POINTS; i++) {
		unsigned long n = i < 4 ? i + 1 : 5 + (allocs - 5) * (i - 4) / (ALLOC_POINTS - 4);
		fresh_target(&e);
		fault_arm(FAULT_ALLOC, n, ENOMEM, false);
		o = restore(&e, &res);
		bool fired = fault_fired();
		fault_reset();
		points++;
		if (o == RESTORE_OK) {
			cr_assert_eq(res.files, files, "allocation %lu%s: done, but %llu files of %llu",
				     n, fired ? "" : " (not reached)", (unsigned long long)res.files,
				     (unsigned long long)files);
			cr_assert_eq(digest(e.img, "Users/alice", false, &mine, why, sizeof(why)), 0,
				     "allocation %lu: done, but the profile reads as: %s", n, why);
			cr_assert_eq(mine, mine_ref, "allocation %lu: done, but alice's files differ", n);
			absorbed++;
		} else {
			cr_assert(fired, "allocation %lu: outcome %d (%s) without the fault firing", n, o,
				  res.message);
			if (o == RESTORE_PARTIAL) {
				cr_assert_gt(res.problem_count, 0, "allocation %lu: partial, nothing listed", n);
				cr_assert_gt(strlen(res.problems[0]), 10);
				partial++;
			} else {
				cr_assert(strlen(res.message) > 5, "allocation %lu: outcome %d without a "
					  "sentence", n, o);
				if (o == RESTORE_INTERNAL)
					internal++;
				else
					other++;
			}
		}
		restore_result_free(&res);
		if (digest(e.img, "", true, &pre, why, sizeof(why)) < 0) {
			/* See write_faults: a stop between $MFT and $MFTMirr. */
			cr_assert(strstr(why, "$MFTMirr does not match"),
				  "allocation %lu: the target no longer opens: %s", n, why);
			cr_assert_eq(sh("ntfsfix -d '%s' >/dev/null 2>&1", e.img), 0, "ntfsfix failed");
			cr_assert_eq(digest(e.img, "", true, &pre, why, sizeof(why)), 0, "%s", why);
		}
		cr_assert_eq(pre, pre_ref, "allocation %lu: files that were on the target changed", n);
	}
	printf("fault: restore, allocation: %lu in a clean run, %lu points tried, %lu out of memory "
	       "(RESTORE_INTERNAL), %lu other failures with a sentence, %lu partial (listed), %lu "
	       "absorbed (result complete)\n", allocs, points, internal, other, partial, absorbed);
	fflush(stdout);
	cr_assert_gt(internal, 0, "out of memory was never RESTORE_INTERNAL");
	drop_env(&e);
}

/* ------------------------------------------- writes once left unchecked -- */

static bool
on_target(struct env *e, const char *path)
{
	struct nv_volume *v;
	uint64_t m;
	if (nv_open(e->img, NULL, &v) != NV_OK)
		return false;
	bool there = nv_lookup(v, path, &m) == NV_OK;
	nv_close(v);
	return there;
}

/* The new profile folder cannot get its own descriptor: it would stay open to
 * every user of the machine under the one it inherits from Users, so the
 * restore stops before any file is in it, says so, and removes the folder. */
Test(restore_faults, profile_security_fails, .timeout = 300)
{
	struct env e;
	struct restore_result res;
	make_env(&e);
	fresh_target(&e);
	cr_assert_eq(restore(&e, &res), RESTORE_OK, "clean restore: %s", res.message);
	cr_assert_eq(res.user_count, 1);
	cr_assert(res.users[0].created && res.users[0].profile);
	char profile[256];
	snprintf(profile, sizeof(profile), "%s", res.users[0].profile);
	restore_result_free(&res);

	fresh_target(&e);
	fault_arm(FAULT_SET_SECURITY, 1, EIO, false); /* the first descriptor set is the profile's */
	enum restore_outcome o = restore(&e, &res);
	cr_assert(fault_fired());
	fault_reset();
	cr_assert_eq(o, RESTORE_FAILED, "outcome %d: %s", o, res.message);
	cr_assert(strstr(res.message, profile) && strstr(res.message, "security descriptor") &&
		  strstr(res.message, "removed"), "the sentence: %s", res.message);
	cr_assert_eq(res.files, 0);
	cr_assert_not(on_target(&e, profile), "%s is still on the target", profile);
	restore_result_free(&res);
	drop_env(&e);
}

/* A sparse file's length (the hole at its end) cannot be set: that file is a
 * problem, not restored short and counted as restored. */
Test(restore_faults, sparse_length_fails, .timeout = 300)
{
	struct env e;
	struct restore_result res;
	make_env(&e);
	fresh_target(&e);
	fault_count();
	cr_assert_eq(restore(&e, &res), RESTORE_OK, "clean restore: %s", res.message);
	unsigned long truncates = fault_calls(FAULT_TRUNCATE);
	fault_reset();
	uint64_t files = res.files;
	restore_result_free(&res);
	cr_assert_geq(truncates, 1, "the fixture's sparse file (VMs/disk0.vhdx) was not restored");

	fresh_target(&e);
	fault_arm(FAULT_TRUNCATE, 1, EIO, false);
	enum restore_outcome o = restore(&e, &res);
	cr_assert(fault_fired());
	fault_reset();
	cr_assert_eq(o, RESTORE_PARTIAL, "outcome %d: %s", o, res.message);
	cr_assert_eq(res.files, files - 1);
	bool named = false;
	for (size_t i = 0; i < res.problem_count; i++)
		named |= strstr(res.problems[i], "disk0.vhdx") && strstr(res.problems[i], "length");
	cr_assert(named, "no problem names the sparse file (%zu problems, first: %s)",
		  res.problem_count, res.problem_count ? res.problems[0] : "-");
	restore_result_free(&res);
	cr_assert_not(on_target(&e, "Users/alice/Documents/VMs/disk0.vhdx"),
		      "the short file is on the target");
	cr_assert_not(on_target(&e, "Users/alice/Documents/VMs/winstate-restore.partial"),
		      "the half file is left under its temporary name");
	drop_env(&e);
}
