/*
 * Local accounts made offline (reg_sam_create_user), read back through other
 * tools: chntpw -l (RID, name, disabled), hivexregedit (the Names key's
 * type, the domain's next RID, the Users alias).  On a copy of a real SAM
 * (WS_SHARED/hives/SAM.xz) and of the fixture's (WS_FIXTURES/hives/SAM).
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "registry/registry.h"
#include "tests/unit/registry/helpers.h"

#define NOON_2024 133490736000000000ull

static void
teardown(void)
{
	t_cleanup();
}

TestSuite(registry_sam, .fini = teardown);

static char *
sh(const char *fmt, const char *a, const char *b)
{
	char cmd[9000];
	int st;
	snprintf(cmd, sizeof(cmd), fmt, a, b ? b : "");
	char *out = t_run(cmd, &st);
	cr_assert(out, "%s", cmd);
	return out;
}

static bool
have_chntpw(void)
{
	int st;
	free(t_run("command -v chntpw >/dev/null", &st));
	return st == 0;
}

/* A copy of the real SAM, or the test is skipped. */
static const char *
real_sam(void)
{
	T_NEED_SHARED();
	const char *p = t_extract("SAM", "SAM");
	if (!p)
		cr_skip_test("WS_SHARED/hives/SAM.xz not found");
	if (!have_chntpw())
		cr_assert_fail("chntpw is not installed (Debian package chntpw)");
	static char path[4200];
	snprintf(path, sizeof(path), "%s", p);
	return path;
}

static const char *
fixture_sam(void)
{
	const char *fx = getenv("WS_FIXTURES");
	static char path[4200], src[4200];
	snprintf(src, sizeof(src), "%s/hives/SAM", fx ? fx : "");
	FILE *f = fx ? fopen(src, "rb") : NULL;
	if (!f)
		cr_assert_fail("WS_FIXTURES/hives/SAM not found (make fixtures, run through tests/run.sh)");
	fclose(f);
	if (!have_chntpw())
		cr_assert_fail("chntpw is not installed (Debian package chntpw)");
	snprintf(path, sizeof(path), "%s/fixture-SAM", t_tmpdir());
	cr_assert_eq(t_copy(src, path), 0);
	return path;
}

/* Create @name in a copy of @sam, committed to @out. */
static int
create(const char *sam, const char *out, const char *name, const char *password, int enabled,
       struct reg_sam_created *made, char *msg, size_t msglen)
{
	int err;
	char m[320];
	reg_hive *h = reg_hive_open(sam, REG_HIVE_OPEN_WRITE, &err, m, sizeof(m));
	cr_assert(h, "%s", m);
	struct reg_sam_new_user u = { .name = name, .password = password, .enabled = enabled,
				     .now = NOON_2024 };
	int e = reg_sam_create_user(h, &u, made);
	snprintf(msg, msglen, "%s", e ? reg_hive_errmsg(h) : "");
	cr_assert_eq(reg_hive_commit(h, out), REG_OK, "%s", reg_hive_errmsg(h));
	reg_hive_close(h);
	return e;
}

static char *
export(const char *hive, const char *key)
{
	return sh("hivexregedit --export '%s' '%s' 2>&1", hive, key);
}

/* The chntpw -l line of @rid ("| 03e9 | name | | dis/lock |"), or NULL. */
static char *
chntpw_line(const char *hive, uint32_t rid)
{
	char *all = sh("chntpw -l '%s' </dev/null 2>&1%s", hive, NULL);
	char key[16];
	snprintf(key, sizeof(key), "| %04x |", rid);
	char *at = strstr(all, key), *line = NULL;
	if (at) {
		char *end = strchr(at, '\n');
		line = strndup(at, end ? (size_t)(end - at) : strlen(at));
	}
	free(all);
	return line;
}

static void
check_account(const char *hive, const struct reg_sam_created *m, const char *name, bool disabled)
{
	char *line = chntpw_line(hive, m->rid);
	cr_assert(line, "chntpw -l does not list RID %x", m->rid);
	cr_expect(strstr(line, name), "%s", line);
	cr_expect_eq(strstr(line, "dis/lock") != NULL, disabled, "%s", line);
	free(line);
	/* Names\<name>: no data, the type is the RID. */
	char key[256], type[32];
	snprintf(key, sizeof(key), "SAM\\Domains\\Account\\Users\\Names\\%s", name);
	char *x = export(hive, key);
	snprintf(type, sizeof(type), "@=hex(%x):", m->rid);
	cr_expect(strstr(x, type), "%s has no %s: %s", key, type, x);
	free(x);
	/* Our own reader agrees (name, RID, disabled flag at F 0x38). */
	int err;
	char msg[320];
	reg_hive *h = reg_hive_open(hive, 0, &err, msg, sizeof(msg));
	cr_assert(h, "%s", msg);
	struct reg_local_user *u;
	size_t n;
	cr_assert_eq(reg_facts_sam_users(h, &u, &n), REG_OK);
	bool found = false;
	for (size_t i = 0; i < n; i++)
		if (u[i].rid == m->rid) {
			found = true;
			cr_expect_str_eq(u[i].name, name);
			cr_expect_eq(!!u[i].disabled, disabled);
			cr_expect_null(u[i].full_name);
		}
	cr_expect(found);
	reg_local_users_free(u, n);
	reg_hive_close(h);
}

/* The dword at 0x48 of Account\F, read from hivexregedit's hex text. */
static uint32_t
next_rid(const char *hive)
{
	char *x = export(hive, "SAM\\Domains\\Account");
	char *f = strstr(x, "\"F\"=hex(3):");
	cr_assert(f, "%s", x);
	f += strlen("\"F\"=hex(3):");
	unsigned b[0x4C];
	for (int i = 0; i < 0x4C; i++) {
		cr_assert_eq(sscanf(f, "%x", &b[i]), 1);
		f = strchr(f, ',');
		cr_assert(f);
		f++;
	}
	free(x);
	return b[0x48] | b[0x49] << 8 | b[0x4A] << 16 | (uint32_t)b[0x4B] << 24;
}

Test(registry_sam, real_sam_gets_a_disabled_account_with_the_next_rid)
{
	const char *sam = real_sam();
	char out[4300], msg[320];
	snprintf(out, sizeof(out), "%s/SAM.new", t_tmpdir());
	uint32_t before = next_rid(sam);
	cr_assert_eq(before, 1001, "the real SAM's next RID");
	struct reg_sam_created m;
	cr_assert_eq(create(sam, out, "Newbie", NULL, 0, &m, msg, sizeof(msg)), REG_OK, "%s", msg);
	cr_expect_eq(m.rid, 1001);
	cr_expect_str_eq(m.sid, "S-1-5-21-1760460187-1592185332-161725925-1001");
	cr_expect(m.in_users_alias);
	check_account(out, &m, "Newbie", true);
	cr_expect_eq(next_rid(out), 1002);
	/* The old accounts are all still listed as they were. */
	char *a = sh("chntpw -l '%s' </dev/null | grep '^| 0'%s", sam, NULL);
	char *b = sh("chntpw -l '%s' </dev/null | grep '^| 0' | grep -v 03e9%s", out, NULL);
	cr_expect_str_eq(a, b);
	free(a);
	free(b);
	/* Users alias: four members now, the last the new SID; Members\<domain>\<RID>. */
	char *x = export(out, "SAM\\Domains\\Builtin\\Aliases\\00000221");
	cr_expect(strstr(x, "01,05,00,00,00,00,00,05,15,00,00,00,9b,7d,ee,68,f4,d1,e6,5e,e5,bd,"
			    "a3,09,e9,03,00,00\n") ||
		  strstr(x, "01,05,00,00,00,00,00,05,15,00,00,00,9b,7d,ee,68,f4,d1,e6,5e,e5,bd,a3,"
			    "09,e9,03,00,00\n") || strstr(x, "e9,03,00,00\n"),
		  "the new SID ends the Users alias: %s", x);
	free(x);
	x = export(out, "SAM\\Domains\\Builtin\\Aliases\\Members\\"
			"S-1-5-21-1760460187-1592185332-161725925");
	cr_expect(strstr(x, "[\\SAM\\Domains\\Builtin\\Aliases\\Members\\"
			    "S-1-5-21-1760460187-1592185332-161725925\\000003E9]\n@=hex(1):21,02,00,00"),
		  "%s", x);
	cr_expect(strstr(x, "S-1-5-21-1760460187-1592185332-161725925]\n@=hex(4):"), "4 members: %s", x);
	free(x);
	/* chntpw's user view: the flags (disabled, password not required, normal),
	 * no hash stored, a member of Users. */
	x = sh("printf 'q\\n' | chntpw -u 0x%s '%s' 2>&1", "3e9", out);
	cr_expect(strstr(x, "Account bits: 0x0015"), "%s", x);
	cr_expect(strstr(x, "No NT MD4 hash found"), "%s", x);
	cr_expect(strstr(x, "00000221 = Users (which has 4 members)"), "%s", x);
	free(x);
	/* Users' default value's type counts the accounts: 4. */
	x = export(out, "SAM\\Domains\\Account\\Users");
	cr_expect(strstr(x, "[\\SAM\\Domains\\Account\\Users]\n@=hex(4):"), "%.300s", x);
	free(x);
}

Test(registry_sam, real_sam_enabled_with_lae_and_a_second_account_takes_the_next_rid)
{
	const char *sam = real_sam();
	char one[4300], two[4300], msg[320];
	snprintf(one, sizeof(one), "%s/SAM.1", t_tmpdir());
	snprintf(two, sizeof(two), "%s/SAM.2", t_tmpdir());
	struct reg_sam_created m1, m2;
	cr_assert_eq(create(sam, one, "alice", "", 1, &m1, msg, sizeof(msg)), REG_OK, "%s", msg);
	cr_assert_eq(create(one, two, "Bob Smith", NULL, 0, &m2, msg, sizeof(msg)), REG_OK, "%s", msg);
	cr_expect_eq(m2.rid, m1.rid + 1);
	check_account(two, &m1, "alice", false);
	check_account(two, &m2, "Bob Smith", true);
	cr_expect_eq(next_rid(two), m2.rid + 1);
}

static void
expect_refused_unchanged(const char *sam, const char *name, const char *password, const char *why)
{
	char out[4300], msg[320];
	snprintf(out, sizeof(out), "%s/SAM.refused", t_tmpdir());
	struct reg_sam_created m;
	cr_expect_neq(create(sam, out, name, password, 0, &m, msg, sizeof(msg)), REG_OK);
	cr_expect(strstr(msg, why), "\"%s\" not in: %s", why, msg);
	char *a = export(sam, "SAM"), *b = export(out, "SAM");
	cr_expect_str_eq(a, b, "a refused account leaves the SAM as it was");
	free(a);
	free(b);
}

Test(registry_sam, duplicate_names_bad_names_and_passwords_are_refused)
{
	const char *sam = real_sam();
	expect_refused_unchanged(sam, "preston", NULL, "already has a local account named preston");
	expect_refused_unchanged(sam, "GUEST", NULL, "already has a local account named GUEST");
	expect_refused_unchanged(sam, "a/b", NULL, "cannot be a local account name");
	expect_refused_unchanged(sam, "abcdefghijklmnopqrstu", NULL, "cannot be a local account name");
	expect_refused_unchanged(sam, "...", NULL, "cannot be a local account name");
	expect_refused_unchanged(sam, "", NULL, "cannot be a local account name");
	expect_refused_unchanged(sam, "newbie", "Secret1", "a password cannot be set offline");
}

Test(registry_sam, a_sam_without_account_f_is_refused)
{
	const char *sam = real_sam();
	char damaged[4300], msg[320];
	int err;
	snprintf(damaged, sizeof(damaged), "%s/SAM.noF", t_tmpdir());
	reg_hive *h = reg_hive_open(sam, REG_HIVE_OPEN_WRITE, &err, msg, sizeof(msg));
	cr_assert(h, "%s", msg);
	reg_key k;
	cr_assert_eq(reg_key_open(h, "SAM\\Domains\\Account", &k), REG_OK);
	cr_assert_eq(reg_key_delete_value(h, k, "F"), REG_OK);
	cr_assert_eq(reg_hive_commit(h, damaged), REG_OK);
	reg_hive_close(h);
	expect_refused_unchanged(damaged, "Newbie", NULL, "the SAM has no usable SAM\\Domains\\Account\\F");
}

Test(registry_sam, a_read_only_hive_is_refused)
{
	const char *sam = real_sam();
	int err;
	char msg[320];
	reg_hive *h = reg_hive_open(sam, 0, &err, msg, sizeof(msg));
	cr_assert(h, "%s", msg);
	struct reg_sam_new_user u = { .name = "x" };
	struct reg_sam_created m;
	cr_expect_eq(reg_sam_create_user(h, &u, &m), REG_ERDONLY);
	reg_hive_close(h);
}

Test(registry_sam, fixture_sam_gets_an_account_past_its_highest_rid)
{
	const char *sam = fixture_sam();
	char out[4300], msg[320];
	snprintf(out, sizeof(out), "%s/SAM.new", t_tmpdir());
	struct reg_sam_created m;
	cr_assert_eq(create(sam, out, "lacuser", NULL, 0, &m, msg, sizeof(msg)), REG_OK, "%s", msg);
	/* The fixture's Account\F holds no next RID (zeros): past every user key. */
	char *ls = sh("chntpw -l '%s' </dev/null 2>/dev/null | grep '^| 0' | sed 's/^| \\([0-9a-f]*\\).*/\\1/' | sort | tail -1%s",
		      sam, NULL);
	unsigned highest = (unsigned)strtoul(ls, NULL, 16);
	free(ls);
	cr_expect_eq(m.rid, highest < 1000 ? 1000 : highest + 1, "highest %u", highest);
	cr_expect_eq(next_rid(out), m.rid + 1);
	cr_expect_not(m.in_users_alias, "the fixture's SAM has no Users alias");
	check_account(out, &m, "lacuser", true);
	expect_refused_unchanged(out, "LACUSER", NULL, "already has a local account named LACUSER");
}
