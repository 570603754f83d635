/* The write side, read back with hivex's own tools (hivexget, hivexregedit). */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "formats/formats.h"
#include "registry/registry.h"
#include "tests/unit/registry/helpers.h"

static void
teardown(void)
{
	t_cleanup();
}

TestSuite(registry_write, .fini = teardown);

static char *
run(const char *fmt, const char *a, const char *b)
{
	char cmd[9000];
	int st;
	snprintf(cmd, sizeof(cmd), fmt, a, b);
	char *out = t_run(cmd, &st);
	cr_assert(out);
	cr_expect_eq(st, 0, "%s", cmd);
	return out;
}

Test(registry_write, every_type_roundtrip_with_hivex_tools)
{
	char in[4200], out[4200];
	int err;
	char msg[320];
	reg_key k;

	snprintf(in, sizeof(in), "%s/empty.hive", t_tmpdir());
	snprintf(out, sizeof(out), "%s/written.hive", t_tmpdir());
	cr_assert_eq(t_write_min_hive(in, "ROOT"), 0);
	reg_hive *h = reg_hive_open(in, REG_HIVE_OPEN_WRITE, &err, msg, sizeof(msg));
	cr_assert(h, "%s", msg);
	cr_assert_eq(reg_key_create(h, "Software\\Vendor\\App", &k), 0, "%s", reg_hive_errmsg(h));
	const char *multi[] = { "one", "two" };
	uint8_t bin[] = { 0xde, 0xad, 0xbe, 0xef };
	uint8_t be[] = { 0, 0, 1, 0 };
	cr_assert_eq(reg_key_set_string(h, k, "Sz", REG_SZ, "h\xc3\xa9llo"), 0);
	cr_assert_eq(reg_key_set_string(h, k, "Expand", REG_EXPAND_SZ, "%USERPROFILE%\\x"), 0);
	cr_assert_eq(reg_key_set_multi(h, k, "Multi", multi, 2), 0);
	cr_assert_eq(reg_key_set_dword(h, k, "Dword", 0x01020304), 0);
	cr_assert_eq(reg_key_set_value(h, k, "BigEndian", REG_DWORD_BIG_ENDIAN, be, 4), 0);
	cr_assert_eq(reg_key_set_qword(h, k, "Qword", 0x1122334455667788ull), 0);
	cr_assert_eq(reg_key_set_value(h, k, "Binary", REG_BINARY, bin, 4), 0);
	cr_assert_eq(reg_key_set_value(h, k, "None", REG_NONE, NULL, 0), 0);
	cr_assert_eq(reg_key_set_string(h, k, "Link", REG_LINK, "\\Registry\\Machine\\X"), 0);
	cr_assert_eq(reg_key_set_value(h, k, "Odd", 0x100, bin, 2), 0);
	cr_assert_eq(reg_key_set_string(h, k, "", REG_SZ, "default"), 0);
	/* Malformed UTF-8 is refused, not stored with replacement characters. */
	const char *bad_multi[] = { "ok", "b\xc3" };
	cr_expect_eq(reg_key_set_string(h, k, "Bad", REG_SZ, "b\xc0\xaf"), REG_EINVAL);
	cr_expect_eq(reg_key_set_multi(h, k, "BadMulti", bad_multi, 2), REG_EINVAL);
	cr_assert_eq(reg_key_set_dword(h, k, "Gone", 7), 0);
	cr_assert_eq(reg_key_delete_value(h, k, "gone"), 0);
	cr_expect_eq(reg_key_delete_value(h, k, "gone"), REG_ENOTFOUND);
	cr_assert_eq(reg_key_create(h, "Software\\Vendor\\Doomed\\Child", NULL), 0);
	cr_assert_eq(reg_key_open(h, "Software\\Vendor\\Doomed", &k), 0);
	cr_assert_eq(reg_key_delete(h, k), 0);
	cr_assert_eq(reg_hive_commit(h, out), 0, "%s", reg_hive_errmsg(h));
	reg_hive_close(h);

	char *s = run("hivexget '%s' '\\Software\\Vendor\\App' Sz", out, NULL);
	cr_expect_str_eq(s, "h\xc3\xa9llo\n");
	free(s);
	s = run("hivexget '%s' '\\Software\\Vendor\\App' Dword", out, NULL);
	cr_expect_str_eq(s, "16909060\n");
	free(s);
	s = run("hivexregedit --export '%s' '\\Software' 2>&1", out, NULL);
	cr_expect(strstr(s, "[\\Software\\Vendor\\App]"), "%s", s);
	cr_expect(strstr(s, "\"Expand\"=hex(2):25,00,55,00"), "%s", s);
	cr_expect(strstr(s, "\"Multi\"=hex(7):6f,00,6e,00,65,00,00,00,74,00,77,00,6f,00,00,00,00,00"), "%s", s);
	cr_expect(strstr(s, "\"Dword\"=dword:01020304"), "%s", s);
	cr_expect(strstr(s, "\"BigEndian\"=hex(5):00,00,01,00"), "%s", s);
	cr_expect(strstr(s, "\"Qword\"=hex(b):88,77,66,55,44,33,22,11"), "%s", s);
	cr_expect(strstr(s, "\"Binary\"=hex:de,ad,be,ef") || strstr(s, "\"Binary\"=hex(3):de,ad,be,ef"), "%s", s);
	cr_expect(strstr(s, "\"None\"=hex(0):"), "%s", s);
	cr_expect(strstr(s, "\"Link\"=hex(6):5c,00"), "%s", s);
	cr_expect(strstr(s, "\"Odd\"=hex(100):de,ad"), "%s", s);
	cr_expect(strstr(s, "@=hex(1):64,00,65,00"), "%s", s);
	cr_expect_null(strstr(s, "Gone"));
	cr_expect_null(strstr(s, "Doomed"));
	free(s);
}

Test(registry_write, read_only_refuses)
{
	char in[4200];
	int err;
	char msg[320];

	snprintf(in, sizeof(in), "%s/ro.hive", t_tmpdir());
	cr_assert_eq(t_write_min_hive(in, "ROOT"), 0);
	reg_hive *h = reg_hive_open(in, 0, &err, msg, sizeof(msg));
	cr_assert(h);
	cr_expect_eq(reg_key_create(h, "X", NULL), REG_ERDONLY);
	cr_expect_eq(reg_hive_commit(h, in), REG_ERDONLY);
	reg_hive_close(h);
}

Test(registry_write, profilelist_entry)
{
	char in[4200], out[4200];
	int err;
	char msg[320];
	const char *sid = "S-1-5-21-1111111111-2222222222-3333333333-1001";

	snprintf(in, sizeof(in), "%s/SOFTWARE", t_tmpdir());
	snprintf(out, sizeof(out), "%s/SOFTWARE.new", t_tmpdir());
	cr_assert_eq(t_write_min_hive(in, "ROOT"), 0);
	reg_hive *h = reg_hive_open(in, REG_HIVE_OPEN_WRITE, &err, msg, sizeof(msg));
	cr_assert(h);
	struct reg_profile_new p = { .sid = sid, .image_path = "C:\\Users\\tony", .state = 0, .flags = 0 };
	cr_assert_eq(reg_profilelist_add(h, &p), 0, "%s", reg_hive_errmsg(h));
	struct reg_profile_new bad = { .sid = "nonsense", .image_path = "C:\\x" };
	cr_expect_eq(reg_profilelist_add(h, &bad), REG_EINVAL);
	cr_assert_eq(reg_hive_commit(h, out), 0);
	reg_hive_close(h);

	char key[300];
	snprintf(key, sizeof(key), "\\Microsoft\\Windows NT\\CurrentVersion\\ProfileList\\%s", sid);
	char *s = run("hivexget '%s' '%s' ProfileImagePath", out, key);
	cr_expect_str_eq(s, "C:\\Users\\tony\n");
	free(s);
	s = run("hivexregedit --export '%s' '%s'", out, key);
	cr_expect(strstr(s, "\"ProfileImagePath\"=hex(2):43,00,3a,00"), "%s", s);
	cr_expect(strstr(s, "\"Sid\"=hex:01,05,00,00,00,00,00,05,15,00,00,00") ||
		  strstr(s, "\"Sid\"=hex(3):01,05,00,00,00,00,00,05,15,00,00,00"), "%s", s);
	cr_expect(strstr(s, "\"State\"=dword:00000000"), "%s", s);
	cr_expect(strstr(s, "\"Flags\"=dword:00000000"), "%s", s);
	free(s);
}

Test(registry_write, user_hive_from_template)
{
	T_NEED_SHARED();
	const char *tpl = t_extract("NTUSER.DAT", "Default-NTUSER.DAT");
	char out[4200], msg[320];

	cr_assert(tpl);
	uint64_t before = t_file_hash(tpl);
	snprintf(out, sizeof(out), "%s/NTUSER.new", t_tmpdir());
	cr_assert_eq(reg_hive_create_from_template(tpl, out, msg, sizeof(msg)), 0, "%s", msg);
	cr_expect_eq(before, t_file_hash(tpl), "template untouched");
	char *s = run("hivexget '%s' '\\Control Panel\\Desktop' %s", out, "Wallpaper");
	cr_expect(strlen(s) > 1, "%s", s);
	free(s);
}
