/* A hive made from nothing (reg_hive_create_empty), read with hivex's own tools. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "formats/formats.h"
#include "registry/registry.h"
#include "tests/unit/registry/helpers.h"

#define SID "S-1-5-21-2121212121-3131313131-4141414141-1001"
#define NOON_2024 133490736000000000ull

static void
teardown(void)
{
	t_cleanup();
}

TestSuite(registry_hive_new, .fini = teardown);

static char *
sh(const char *fmt, const char *path)
{
	char cmd[8400];
	int st;
	snprintf(cmd, sizeof(cmd), fmt, path);
	char *out = t_run(cmd, &st);
	cr_assert(out);
	cr_expect_eq(st, 0, "%s: %s", cmd, out);
	return out;
}

Test(registry_hive_new, an_empty_usrclass_that_hivex_reads_and_fills)
{
	char path[4200], filled[4200], msg[320];
	int err;
	snprintf(path, sizeof(path), "%s/UsrClass.dat", t_tmpdir());
	snprintf(filled, sizeof(filled), "%s/UsrClass.filled", t_tmpdir());
	cr_assert_eq(reg_hive_create_empty(path, SID "_Classes", SID, NOON_2024, msg, sizeof(msg)),
		     REG_OK, "%s", msg);

	/* hivex's own reader: the root key has Windows' name, nothing below it. */
	char *xml = sh("hivexml '%s'", path);
	cr_expect(strstr(xml, "name=\"" SID "_Classes\""), "%s", xml);
	free(xml);
	char *ls = sh("printf 'ls\\nlsval\\n' | hivexsh '%s'", path);
	cr_expect_str_eq(ls, "", "an empty hive lists nothing: %s", ls);
	free(ls);

	/* Clean (nothing to replay) and writable; values read back with hivexget. */
	struct reg_replay_report rep;
	snprintf(filled, sizeof(filled), "%s/replayed", t_tmpdir());
	cr_assert_eq(reg_hive_replay(path, filled, &rep), REG_OK);
	cr_expect_eq(rep.state, REG_HIVE_CLEAN, "%s", rep.detail);
	cr_expect(rep.checksum_ok);
	snprintf(filled, sizeof(filled), "%s/UsrClass.filled", t_tmpdir());
	reg_hive *h = reg_hive_open(path, REG_HIVE_OPEN_WRITE, &err, msg, sizeof(msg));
	cr_assert(h, "%s", msg);
	reg_key k;
	cr_assert_eq(reg_key_create(h, ".txt\\OpenWithProgids", &k), REG_OK, "%s", reg_hive_errmsg(h));
	cr_assert_eq(reg_key_set_string(h, k, "txtfile", REG_SZ, "Notepad"), REG_OK);
	cr_assert_eq(reg_hive_commit(h, filled), REG_OK, "%s", reg_hive_errmsg(h));
	reg_hive_close(h);
	char *v = sh("hivexget '%s' '\\.txt\\OpenWithProgids' txtfile", filled);
	cr_expect_str_eq(v, "Notepad\n");
	free(v);

	/* The key security names the user (binary SID inside the sk cell). */
	size_t len = 0;
	FILE *f = fopen(path, "rb");
	cr_assert(f);
	static uint8_t buf[8192];
	len = fread(buf, 1, sizeof(buf), f);
	fclose(f);
	cr_expect_eq(len, 8192, "base block and one bin");
	uint8_t sid[68];
	size_t sl;
	cr_assert_eq(fmt_sid_from_string(SID, sid, sizeof(sid), &sl), 0);
	cr_expect(memmem(buf, len, sid, sl), "the owner's SID is in the key security");
	cr_expect(!memcmp(buf, "regf", 4) && !memcmp(buf + 4096, "hbin", 4));
}

Test(registry_hive_new, bad_arguments_are_refused_with_a_sentence)
{
	char path[4200], msg[320];
	snprintf(path, sizeof(path), "%s/x.dat", t_tmpdir());
	cr_expect_eq(reg_hive_create_empty(path, "", SID, 0, msg, sizeof(msg)), REG_EINVAL);
	cr_expect(strstr(msg, "root key name"), "%s", msg);
	cr_expect_eq(reg_hive_create_empty(path, "a\\b", SID, 0, msg, sizeof(msg)), REG_EINVAL);
	cr_expect(strstr(msg, "backslash"), "%s", msg);
	cr_expect_eq(reg_hive_create_empty(path, "caf\xc3\xa9", SID, 0, msg, sizeof(msg)), REG_EINVAL);
	cr_expect_eq(reg_hive_create_empty(path, "root", "S-1-5-x", 0, msg, sizeof(msg)), REG_EINVAL);
	cr_expect(strstr(msg, "SID"), "%s", msg);
	char long_name[300];
	memset(long_name, 'a', sizeof(long_name) - 1);
	long_name[sizeof(long_name) - 1] = '\0';
	cr_expect_eq(reg_hive_create_empty(path, long_name, SID, 0, msg, sizeof(msg)), REG_EINVAL);
	cr_expect_eq(reg_hive_create_empty("/nonexistent/dir/x.dat", "root", SID, 0, msg, sizeof(msg)),
		     REG_EIO);
	cr_expect(strstr(msg, "cannot write"), "%s", msg);
}
