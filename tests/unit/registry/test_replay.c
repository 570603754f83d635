/* Dirty hives: detection, new- and old-format log replay, damaged logs. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "registry/registry.h"
#include "tests/unit/registry/helpers.h"

static void
teardown(void)
{
	t_cleanup();
}

TestSuite(registry_replay, .fini = teardown);

/* Published Marvin32 test vectors (seed 0x004FB61A001BDBCC). */
Test(registry_replay, marvin32_vectors)
{
	static const struct { const char *hex; uint64_t want; } v[] = {
		{ "", 0x30ED35C100CD3C7Dull },
		{ "af", 0x48E73FC77D75DDC1ull },
		{ "e70f", 0xB5F6E1FC485DBFF8ull },
		{ "37f495", 0xF0B07C789B8CF7E8ull },
		{ "8642dc59", 0x7008F2E87E9CF556ull },
		{ "153fb79826", 0xE6C08C6DA2AFA997ull },
		{ "0932e6246c47", 0x6F04BF1A5EA24060ull },
		{ "ab427ea8d10fc7", 0xE11847E4F0678C41ull },
	};
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		uint8_t b[16];
		size_t n = strlen(v[i].hex) / 2;
		for (size_t j = 0; j < n; j++)
			sscanf(v[i].hex + 2 * j, "%2hhx", &b[j]);
		cr_expect_eq(reg_marvin32(b, n, 0x004FB61A001BDBCCull), v[i].want, "vector %zu", i);
	}
}

struct walk_count {
	size_t keys, values;
};

static int
count_cb(reg_hive *h, reg_key k, const char *path, void *opaque)
{
	struct walk_count *c = opaque;
	struct reg_value *v;
	size_t n;

	(void)path;
	c->keys++;
	cr_assert_eq(reg_key_values(h, k, &v, &n), REG_OK, "values of %s: %s", path, reg_hive_errmsg(h));
	c->values += n;
	reg_values_free(v, n);
	return 0;
}

static void
read_header(const char *path, uint32_t *p, uint32_t *s)
{
	FILE *f = fopen(path, "rb");
	uint8_t b[512];

	cr_assert(f);
	cr_assert_eq(fread(b, 1, 512, f), 512);
	fclose(f);
	*p = b[4] | b[5] << 8 | b[6] << 16 | (uint32_t)b[7] << 24;
	*s = b[8] | b[9] << 8 | b[10] << 16 | (uint32_t)b[11] << 24;
	cr_expect_eq(reg_regf_checksum(b), (uint32_t)(b[508] | b[509] << 8 | b[510] << 16 | (uint32_t)b[511] << 24),
		     "checksum of %s", path);
}

/* Replays one real dirty hive and checks the log-only value. */
static void
check_real(const char *hive, const char *const logs[2][2], const char *key, const char *vname,
	   const char *want_str, uint32_t want_dword, unsigned want_pages)
{
	const char *hp, *lp[2] = { 0 };
	uint64_t before[3], after[3];
	struct reg_replay_report rep;
	char out[4200];
	uint32_t p, s;

	T_NEED_SHARED();
	hp = t_extract(hive, hive);
	cr_assert(hp);
	for (int i = 0; i < 2; i++) {
		lp[i] = t_extract(logs[i][0], logs[i][1]);
		cr_assert(lp[i]);
	}
	before[0] = t_file_hash(hp);
	before[1] = t_file_hash(lp[0]);
	before[2] = t_file_hash(lp[1]);

	snprintf(out, sizeof(out), "%s/replayed", t_tmpdir());
	cr_assert_eq(reg_hive_replay(hp, out, &rep), REG_OK);
	cr_expect_eq(rep.state, REG_HIVE_REPLAYED, "%s", rep.detail);
	cr_expect_eq(rep.format, REG_LOG_NEW);
	cr_expect_eq(rep.logs_found, 2);
	cr_expect_gt(rep.entries_applied, 0);
	cr_expect_eq(rep.entries_rejected, 0, "every entry passed its hashes");
	cr_expect_eq(rep.pages_applied, want_pages);
	read_header(out, &p, &s);
	cr_expect_eq(p, s, "sequence numbers agree after replay");
	cr_expect_eq(p, rep.final_seq);

	/* the reader: the replayed copy walks completely; the log-only value is there */
	int err;
	char msg[320];
	reg_hive *h = reg_hive_open(hp, 0, &err, msg, sizeof(msg));
	cr_assert(h, "%s", msg);
	cr_expect_eq(reg_hive_report(h)->state, REG_HIVE_REPLAYED);
	struct walk_count c = { 0 };
	cr_expect_eq(reg_hive_walk(h, 0, "", count_cb, &c), 0);
	cr_expect_gt(c.keys, 10);
	struct reg_value v;
	cr_assert_eq(reg_hive_get_value(h, key, vname, &v), REG_OK, "%s [%s]: %s", key, vname,
		     reg_hive_errmsg(h));
	if (want_str) {
		char *str;
		cr_assert_eq(reg_value_string(&v, &str), REG_OK);
		cr_expect_str_eq(str, want_str);
		free(str);
	} else {
		uint32_t d;
		cr_assert_eq(reg_value_u32(&v, &d), REG_OK);
		cr_expect_eq(d, want_dword);
	}
	reg_value_clear(&v);
	reg_hive_close(h);

	/* the same value is not in the base hive: the test fails if replay is skipped */
	h = reg_hive_open(hp, REG_HIVE_OPEN_NO_REPLAY, &err, msg, sizeof(msg));
	cr_assert(h, "%s", msg);
	cr_expect_eq(reg_hive_report(h)->state, REG_HIVE_DIRTY_NOT_REPLAYED);
	struct walk_count c0 = { 0 };
	cr_expect_eq(reg_hive_walk(h, 0, "", count_cb, &c0), 0);
	cr_expect_neq(reg_hive_get_value(h, key, vname, &v), REG_OK, "base hive must not have it");
	reg_hive_close(h);

	after[0] = t_file_hash(hp);
	after[1] = t_file_hash(lp[0]);
	after[2] = t_file_hash(lp[1]);
	for (int i = 0; i < 3; i++)
		cr_expect_eq(before[i], after[i], "source file %d unchanged", i);
}

Test(registry_replay, transactions_ntuser_log_only_value)
{
	static const char *const logs[2][2] = {
		{ "transactions_ntuser.dat.log1", "transactions_ntuser.dat.log1" },
		{ "transactions_ntuser.dat.log2", "transactions_ntuser.dat.log2" },
	};
	check_real("transactions_NTUSER.DAT", logs,
		   "Software\\Microsoft\\OneDrive\\Installer\\BITS\\UpdateBinary", "File",
		   "wctCE28.tmp", 0, 132);
}

Test(registry_replay, usrclass_log_only_value)
{
	static const char *const logs[2][2] = {
		{ "UsrClass.dat.LOG1", "UsrClass.dat.LOG1" },
		{ "UsrClass.dat.LOG2", "UsrClass.dat.LOG2" },
	};
	check_real("UsrClass.dat", logs, "Local Settings\\Software\\Microsoft\\Windows\\Shell\\BagMRU\\10",
		   "NodeSlot", NULL, 0x1c, 158);
}

Test(registry_replay, system_b_log_only_value, .timeout = 120)
{
	static const char *const logs[2][2] = {
		{ "SYSTEM_B.LOG1", "SYSTEM_B.LOG1" },
		{ "SYSTEM_B.LOG2", "SYSTEM_B.LOG2" },
	};
	check_real("SYSTEM_B", logs,
		   "ControlSet001\\Control\\Class\\{4d36e96c-e325-11ce-bfc1-08002be10318}\\0013",
		   "Driver", "nvhda64v.sys", 0, 315);
}

Test(registry_replay, clean_hive_is_clean)
{
	T_NEED_SHARED();
	const char *hp = t_extract("NTUSER.DAT", "NTUSER.DAT");
	struct reg_replay_report rep;
	char out[4200];

	cr_assert(hp);
	snprintf(out, sizeof(out), "%s/out", t_tmpdir());
	cr_assert_eq(reg_hive_replay(hp, out, &rep), REG_OK);
	cr_expect_eq(rep.state, REG_HIVE_CLEAN, "%s", rep.detail);
	cr_expect(rep.checksum_ok);
	cr_expect_eq(rep.primary_seq, rep.secondary_seq);
	cr_expect_neq(access(out, F_OK), 0, "nothing written for a clean hive");
}

Test(registry_replay, dirty_without_logs)
{
	T_NEED_SHARED();
	const char *hp = t_extract("transactions_NTUSER.DAT", "transactions_NTUSER.DAT");
	int err;
	char msg[320];

	cr_assert(hp);
	reg_hive *h = reg_hive_open(hp, 0, &err, msg, sizeof(msg));
	cr_assert(h, "%s", msg);
	cr_expect_eq(reg_hive_report(h)->state, REG_HIVE_DIRTY_NOT_REPLAYED);
	cr_expect(strstr(reg_hive_report(h)->detail, "no transaction log"), "%s", reg_hive_report(h)->detail);
	reg_key k;
	cr_expect_eq(reg_key_open(h, "Software\\Microsoft", &k), REG_OK, "base hive still readable");
	reg_hive_close(h);
}

Test(registry_replay, win10_1709_dirty_no_logs_still_reads, .timeout = 120)
{
	T_NEED_SHARED();
	const char *hp = t_extract("SYSTEM_WIN_10_1709", "SYSTEM");
	int err;
	char msg[320];

	cr_assert(hp);
	reg_hive *h = reg_hive_open(hp, 0, &err, msg, sizeof(msg));
	cr_assert(h, "%s", msg);
	cr_expect_eq(reg_hive_report(h)->state, REG_HIVE_DIRTY_NOT_REPLAYED);
	reg_hive_close(h);
}

static void
prepare_transactions(const char **hp, const char **l1, const char **l2)
{
	*hp = t_extract("transactions_NTUSER.DAT", "transactions_NTUSER.DAT");
	*l1 = t_extract("transactions_ntuser.dat.log1", "transactions_ntuser.dat.log1");
	*l2 = t_extract("transactions_ntuser.dat.log2", "transactions_ntuser.dat.log2");
	cr_assert(*hp && *l1 && *l2);
}

Test(registry_replay, truncated_log)
{
	T_NEED_SHARED();
	const char *hp, *l1, *l2;
	struct reg_replay_report rep;
	char out[4200];

	prepare_transactions(&hp, &l1, &l2);
	/* cut log1 in the middle of its second entry (0x3b000 + 0x1a000) */
	cr_assert_eq(truncate(l1, 0x40000), 0);
	snprintf(out, sizeof(out), "%s/out", t_tmpdir());
	cr_assert_eq(reg_hive_replay(hp, out, &rep), REG_OK);
	cr_expect_eq(rep.state, REG_HIVE_REPLAYED, "%s", rep.detail);
	cr_expect_eq(rep.entries_applied, 1);
	cr_expect_eq(rep.entries_rejected, 1);
	int err;
	char msg[320];
	reg_hive *h = reg_hive_open(hp, 0, &err, msg, sizeof(msg));
	cr_assert(h, "%s", msg);
	reg_hive_close(h);

	/* a log cut inside its base block is ignored: dirty, not replayed */
	cr_assert_eq(truncate(l1, 100), 0);
	cr_assert_eq(truncate(l2, 0), 0);
	cr_assert_eq(reg_hive_replay(hp, out, &rep), REG_OK);
	cr_expect_eq(rep.state, REG_HIVE_DIRTY_NOT_REPLAYED, "%s", rep.detail);
	cr_expect_eq(rep.entries_applied, 0);
	h = reg_hive_open(hp, 0, &err, msg, sizeof(msg));
	cr_assert(h, "%s", msg);
	reg_hive_close(h);
}

Test(registry_replay, bad_hash_rejected)
{
	T_NEED_SHARED();
	const char *hp, *l1, *l2;
	struct reg_replay_report rep;
	char out[4200];
	FILE *f;
	int c;

	prepare_transactions(&hp, &l1, &l2);
	f = fopen(l1, "r+b");
	cr_assert(f);
	fseek(f, 0x1300, SEEK_SET);     /* page data of the first entry */
	c = getc(f);
	fseek(f, 0x1300, SEEK_SET);
	putc(c ^ 0x5A, f);
	fclose(f);
	snprintf(out, sizeof(out), "%s/out", t_tmpdir());
	cr_assert_eq(reg_hive_replay(hp, out, &rep), REG_OK);
	cr_expect_eq(rep.state, REG_HIVE_DIRTY_NOT_REPLAYED, "%s", rep.detail);
	cr_expect_eq(rep.entries_applied, 0);
	cr_expect_eq(rep.entries_rejected, 1);
	cr_expect(strstr(rep.detail, "checksum"), "%s", rep.detail);
}

Test(registry_replay, corrupted_hive_clear_error)
{
	T_NEED_SHARED();
	const char *hp = t_extract("corrupted_system_hive", "corrupted_system_hive");
	int err = 0;
	char msg[320] = "";

	cr_assert(hp);
	reg_hive *h = reg_hive_open(hp, 0, &err, msg, sizeof(msg));
	cr_expect_null(h);
	cr_expect_eq(err, REG_EFORMAT);
	cr_expect(strstr(msg, "cannot open"), "%s", msg);
	reg_hive_close(h);
}

Test(registry_replay, not_a_hive)
{
	char p[4200];
	FILE *f;
	int err;
	char msg[320];

	snprintf(p, sizeof(p), "%s/junk", t_tmpdir());
	f = fopen(p, "wb");
	fputs("this is not a hive", f);
	fclose(f);
	cr_expect_null(reg_hive_open(p, 0, &err, msg, sizeof(msg)));
	cr_expect_eq(err, REG_EFORMAT);
	snprintf(p, sizeof(p), "%s/missing", t_tmpdir());
	cr_expect_null(reg_hive_open(p, 0, &err, msg, sizeof(msg)));
	cr_expect_eq(err, REG_EIO);
}

/* Old format: build "before" and "after" hives with hivex, write a .LOG with
 * the after-base-block, a DIRT bitmap of the changed sectors and the sectors. */
Test(registry_replay, old_format_log)
{
	char a[4200], b[4200], log[4200], out[4200];
	size_t la, lb;
	uint8_t *ba, *bb;
	FILE *f;
	int err;
	char msg[320];

	snprintf(a, sizeof(a), "%s/OLD.DAT", t_tmpdir());
	snprintf(b, sizeof(b), "%s/after.hive", t_tmpdir());
	snprintf(log, sizeof(log), "%s/old.dat.log", t_tmpdir());
	snprintf(out, sizeof(out), "%s/out", t_tmpdir());
	cr_assert_eq(t_write_min_hive(a, "ROOT"), 0);
	reg_hive *h = reg_hive_open(a, REG_HIVE_OPEN_WRITE, &err, msg, sizeof(msg));
	cr_assert(h, "%s", msg);
	reg_key k;
	cr_assert_eq(reg_key_create(h, "Only\\In\\Log", &k), 0);
	cr_assert_eq(reg_key_set_dword(h, k, "Answer", 42), 0);
	cr_assert_eq(reg_hive_commit(h, b), 0);
	reg_hive_close(h);

	f = fopen(a, "rb");
	fseek(f, 0, SEEK_END);
	la = (size_t)ftell(f);
	rewind(f);
	ba = calloc(1, 1 << 20);
	cr_assert_eq(fread(ba, 1, la, f), la);
	fclose(f);
	f = fopen(b, "rb");
	fseek(f, 0, SEEK_END);
	lb = (size_t)ftell(f);
	rewind(f);
	bb = calloc(1, 1 << 20);
	cr_assert_eq(fread(bb, 1, lb, f), lb);
	fclose(f);

	uint32_t hbins = bb[0x28] | bb[0x29] << 8 | bb[0x2a] << 16 | (uint32_t)bb[0x2b] << 24;
	size_t nbits = hbins / 512, bm = hbins / 4096;
	uint8_t *lg = calloc(1, 1 << 21);
	memcpy(lg, bb, 512);
	lg[0x1C] = 1;                   /* old-format log */
	uint32_t cs = reg_regf_checksum(lg);
	memcpy(lg + 0x1FC, &cs, 4);
	memcpy(lg + 512, "DIRT", 4);
	size_t so = (512 + 4 + bm + 511) / 512 * 512, ns = 0;
	for (size_t i = 0; i < nbits; i++) {
		if (4096 + i * 512 < la && !memcmp(ba + 4096 + i * 512, bb + 4096 + i * 512, 512))
			continue;
		lg[512 + 4 + i / 8] |= (uint8_t)(1u << (i % 8));
		memcpy(lg + so + ns * 512, bb + 4096 + i * 512, 512);
		ns++;
	}
	cr_assert_gt(ns, 0);
	f = fopen(log, "wb");
	fwrite(lg, 1, so + ns * 512, f);
	fclose(f);
	/* make the base hive dirty */
	ba[4] += 1;
	cs = reg_regf_checksum(ba);
	memcpy(ba + 0x1FC, &cs, 4);
	f = fopen(a, "wb");
	fwrite(ba, 1, la, f);
	fclose(f);

	h = reg_hive_open(a, 0, &err, msg, sizeof(msg));
	cr_assert(h, "%s", msg);
	cr_expect_eq(reg_hive_report(h)->state, REG_HIVE_REPLAYED, "%s", reg_hive_report(h)->detail);
	cr_expect_eq(reg_hive_report(h)->format, REG_LOG_OLD);
	cr_expect_eq(reg_hive_report(h)->pages_applied, ns);
	struct reg_value v;
	uint32_t d = 0;
	cr_assert_eq(reg_hive_get_value(h, "only\\in\\log", "answer", &v), 0, "%s", reg_hive_errmsg(h));
	cr_expect_eq(reg_value_u32(&v, &d), 0);
	cr_expect_eq(d, 42);
	reg_value_clear(&v);
	reg_hive_close(h);
	free(ba);
	free(bb);
	free(lg);
}

/*
 * The same cases on a hive and log our fixture tool makes, so they run without
 * ../shared: mkhive writes an empty hive, hivex's own hivexregedit makes two
 * changes (key A with a DWORD, then B\C with a string), and mkhive --dirty
 * writes the hive as it was before them (dirty) and a new-format LOG1 with one
 * HvLE entry per change.  It prints each entry's place in the log.
 */
struct synthetic {
	char hive[4200], log[4200], clean[4200];
	unsigned long off[2], size[2], pages[2];
};

static void
make_synthetic(struct synthetic *s)
{
	const char *tools = getenv("WS_TOOLS"), *dir = t_tmpdir();
	char cmd[16384];
	int status;

	if (!tools)
		cr_assert_fail("WS_TOOLS is not set (make tests, and run through tests/run.sh)");
	snprintf(s->hive, sizeof(s->hive), "%s/SYNTH.DAT", dir);
	snprintf(s->log, sizeof(s->log), "%s/SYNTH.DAT.LOG1", dir);
	snprintf(s->clean, sizeof(s->clean), "%s/s2.hiv", dir);
	snprintf(cmd, sizeof(cmd),
		 "cd '%s' && command -v hivexregedit >/dev/null && '%s/mkhive' s0.hiv ROOT && "
		 "printf 'Windows Registry Editor Version 5.00\\n\\n[\\\\A]\\n\"One\"=dword:00000001\\n' >m1.reg && "
		 "printf 'Windows Registry Editor Version 5.00\\n\\n[\\\\B]\\n\\n[\\\\B\\\\C]\\n\"Two\"=\"log only\"\\n' >m2.reg && "
		 "cp s0.hiv s1.hiv && hivexregedit --merge s1.hiv m1.reg && "
		 "cp s1.hiv s2.hiv && hivexregedit --merge s2.hiv m2.reg && "
		 "'%s/mkhive' --dirty SYNTH.DAT SYNTH.DAT.LOG1 s0.hiv s1.hiv s2.hiv",
		 dir, tools, tools);
	char *out = t_run(cmd, &status);
	cr_assert_eq(status, 0, "mkhive/hivexregedit (make tests, make deps) failed: %s", out);
	unsigned long seq[2];
	cr_assert_eq(sscanf(out, "%lu %lu %lu %lu\n%lu %lu %lu %lu", &seq[0], &s->off[0], &s->size[0],
			    &s->pages[0], &seq[1], &s->off[1], &s->size[1], &s->pages[1]), 8,
		     "mkhive --dirty printed: %s", out);
	cr_assert_eq(seq[1], seq[0] + 1);
	free(out);
}

/* Whether the key holds the value (the change of step 1 or 2 is there). */
static bool
has_value(reg_hive *h, const char *key, const char *name)
{
	struct reg_value v;
	if (reg_hive_get_value(h, key, name, &v) != REG_OK)
		return false;
	reg_value_clear(&v);
	return true;
}

Test(registry_replay, synthetic_log_only_values)
{
	struct synthetic s;
	struct reg_replay_report rep;
	char out[4300];
	uint32_t p, q;
	int err;
	char msg[320];

	make_synthetic(&s);
	uint64_t before[2] = { t_file_hash(s.hive), t_file_hash(s.log) };
	snprintf(out, sizeof(out), "%s/replayed", t_tmpdir());
	cr_assert_eq(reg_hive_replay(s.hive, out, &rep), REG_OK);
	cr_expect_eq(rep.state, REG_HIVE_REPLAYED, "%s", rep.detail);
	cr_expect_eq(rep.format, REG_LOG_NEW);
	cr_expect_eq(rep.logs_found, 1);
	cr_expect_eq(rep.entries_applied, 2);
	cr_expect_eq(rep.entries_rejected, 0);
	cr_expect_eq(rep.pages_applied, s.pages[0] + s.pages[1]);
	read_header(out, &p, &q);
	cr_expect_eq(p, q, "sequence numbers agree after replay");
	cr_expect_eq(p, rep.final_seq);

	reg_hive *h = reg_hive_open(s.hive, 0, &err, msg, sizeof(msg));
	cr_assert(h, "%s", msg);
	cr_expect_eq(reg_hive_report(h)->state, REG_HIVE_REPLAYED);
	struct reg_value v;
	char *str;
	uint32_t d;
	cr_assert_eq(reg_hive_get_value(h, "B\\C", "Two", &v), REG_OK, "%s", reg_hive_errmsg(h));
	cr_assert_eq(reg_value_string(&v, &str), REG_OK);
	cr_expect_str_eq(str, "log only");
	free(str);
	reg_value_clear(&v);
	cr_assert_eq(reg_hive_get_value(h, "A", "One", &v), REG_OK, "%s", reg_hive_errmsg(h));
	cr_assert_eq(reg_value_u32(&v, &d), REG_OK);
	cr_expect_eq(d, 1);
	reg_value_clear(&v);
	reg_hive_close(h);

	/* Neither change is in the hive itself: the test fails if replay is skipped. */
	h = reg_hive_open(s.hive, REG_HIVE_OPEN_NO_REPLAY, &err, msg, sizeof(msg));
	cr_assert(h, "%s", msg);
	cr_expect_eq(reg_hive_report(h)->state, REG_HIVE_DIRTY_NOT_REPLAYED);
	cr_expect_not(has_value(h, "A", "One"));
	cr_expect_not(has_value(h, "B\\C", "Two"));
	reg_hive_close(h);
	cr_expect_eq(t_file_hash(s.hive), before[0], "the hive is unchanged");
	cr_expect_eq(t_file_hash(s.log), before[1], "the log is unchanged");
}

Test(registry_replay, synthetic_clean_and_dirty_without_logs)
{
	struct synthetic s;
	struct reg_replay_report rep;
	char out[4300];
	int err;
	char msg[320];

	make_synthetic(&s);
	snprintf(out, sizeof(out), "%s/out", t_tmpdir());
	cr_assert_eq(reg_hive_replay(s.clean, out, &rep), REG_OK);
	cr_expect_eq(rep.state, REG_HIVE_CLEAN, "%s", rep.detail);
	cr_expect_neq(access(out, F_OK), 0, "nothing written for a clean hive");

	cr_assert_eq(unlink(s.log), 0);
	reg_hive *h = reg_hive_open(s.hive, 0, &err, msg, sizeof(msg));
	cr_assert(h, "%s", msg);
	cr_expect_eq(reg_hive_report(h)->state, REG_HIVE_DIRTY_NOT_REPLAYED);
	cr_expect(strstr(reg_hive_report(h)->detail, "no transaction log"), "%s", reg_hive_report(h)->detail);
	reg_hive_close(h);
}

Test(registry_replay, synthetic_truncated_log)
{
	struct synthetic s;
	struct reg_replay_report rep;
	char out[4300];
	int err;
	char msg[320];

	make_synthetic(&s);
	/* cut in the middle of the second entry: the first change only */
	cr_assert_eq(truncate(s.log, (off_t)(s.off[1] + s.size[1] / 2)), 0);
	snprintf(out, sizeof(out), "%s/out", t_tmpdir());
	cr_assert_eq(reg_hive_replay(s.hive, out, &rep), REG_OK);
	cr_expect_eq(rep.state, REG_HIVE_REPLAYED, "%s", rep.detail);
	cr_expect_eq(rep.entries_applied, 1);
	cr_expect_eq(rep.entries_rejected, 1);
	cr_expect_eq(rep.pages_applied, s.pages[0]);
	reg_hive *h = reg_hive_open(s.hive, 0, &err, msg, sizeof(msg));
	cr_assert(h, "%s", msg);
	cr_expect(has_value(h, "A", "One"), "the first change is replayed");
	cr_expect_not(has_value(h, "B\\C", "Two"), "the cut second change is not");
	reg_hive_close(h);

	/* a log cut inside its base block is ignored: dirty, not replayed */
	cr_assert_eq(truncate(s.log, 100), 0);
	cr_assert_eq(reg_hive_replay(s.hive, out, &rep), REG_OK);
	cr_expect_eq(rep.state, REG_HIVE_DIRTY_NOT_REPLAYED, "%s", rep.detail);
	cr_expect_eq(rep.entries_applied, 0);
	h = reg_hive_open(s.hive, 0, &err, msg, sizeof(msg));
	cr_assert(h, "%s", msg);
	reg_hive_close(h);
}

Test(registry_replay, synthetic_bad_hash_rejected)
{
	struct synthetic s;
	struct reg_replay_report rep;
	char out[4300];

	make_synthetic(&s);
	/* one byte of the first entry's first page */
	long at = (long)(s.off[0] + 0x28 + 8 * s.pages[0] + 0x100);
	FILE *f = fopen(s.log, "r+b");
	cr_assert(f);
	cr_assert_eq(fseek(f, at, SEEK_SET), 0);
	int c = getc(f);
	cr_assert_eq(fseek(f, at, SEEK_SET), 0);
	putc(c ^ 0x5A, f);
	fclose(f);
	snprintf(out, sizeof(out), "%s/out", t_tmpdir());
	cr_assert_eq(reg_hive_replay(s.hive, out, &rep), REG_OK);
	cr_expect_eq(rep.state, REG_HIVE_DIRTY_NOT_REPLAYED, "%s", rep.detail);
	cr_expect_eq(rep.entries_applied, 0);
	cr_expect_eq(rep.entries_rejected, 1);
	cr_expect(strstr(rep.detail, "checksum"), "%s", rep.detail);
}

Test(registry_replay, synthetic_corrupted_hive_clear_error)
{
	struct synthetic s;
	int err = 0;
	char msg[320] = "";

	make_synthetic(&s);
	/* the clean hive with its first hbin's signature destroyed */
	FILE *f = fopen(s.clean, "r+b");
	cr_assert(f);
	cr_assert_eq(fseek(f, 4096, SEEK_SET), 0);
	cr_assert_eq(fwrite("XXXX", 1, 4, f), 4);
	fclose(f);
	reg_hive *h = reg_hive_open(s.clean, 0, &err, msg, sizeof(msg));
	cr_expect_null(h);
	cr_expect_eq(err, REG_EFORMAT);
	cr_expect(strstr(msg, "cannot open"), "%s", msg);
	reg_hive_close(h);
}
