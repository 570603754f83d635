/* Reading: lookup, enumeration, patterns, decoders. */
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

TestSuite(registry_query, .fini = teardown);

static reg_hive *
open_ntuser(void)
{
	int err;
	char msg[320];
	const char *p = t_extract("NTUSER.DAT", "NTUSER.DAT");
	cr_assert(p);
	reg_hive *h = reg_hive_open(p, 0, &err, msg, sizeof(msg));
	cr_assert(h, "%s", msg);
	return h;
}

struct collect {
	size_t n;
	char last_key[512];
	char last_val[128];
	int saw_wallpaper;
};

static int
collect_cb(reg_hive *h, const char *key_path, reg_key k, const struct reg_value *v, void *opaque)
{
	struct collect *c = opaque;
	(void)h;
	(void)k;
	c->n++;
	snprintf(c->last_key, sizeof(c->last_key), "%s", key_path);
	snprintf(c->last_val, sizeof(c->last_val), "%s", v ? v->name : "");
	if (v && !strcmp(v->name, "Wallpaper"))
		c->saw_wallpaper = 1;
	return 0;
}

Test(registry_query, lookup_case_insensitive_and_pattern)
{
	T_NEED_SHARED();
	reg_hive *h = open_ntuser();
	reg_key k;
	struct reg_value v;
	char *s;

	cr_assert_eq(reg_key_open(h, "control panel\\DESKTOP", &k), REG_OK, "%s", reg_hive_errmsg(h));
	char *name = reg_key_name(h, k);
	cr_expect_str_eq(name, "Desktop");
	free(name);
	cr_assert_eq(reg_key_get_value(h, k, "wallpaper", &v), REG_OK);
	cr_expect_eq(v.type, REG_SZ);
	cr_expect_str_eq(v.name, "Wallpaper");
	cr_assert_eq(reg_value_string(&v, &s), 0);
	cr_expect(strlen(s) > 0, "wallpaper '%s'", s);
	free(s);
	reg_value_clear(&v);
	cr_expect_eq(reg_key_open(h, "Control Panel\\NoSuchKey", &k), REG_ENOTFOUND);

	struct collect c = { 0 };
	cr_expect_eq(reg_hive_match(h, "Control Panel\\Desktop [Wallpaper]", collect_cb, &c), 0);
	cr_expect_eq(c.n, 1);
	cr_expect_str_eq(c.last_key, "Control Panel\\Desktop");
	cr_expect_str_eq(c.last_val, "Wallpaper");

	memset(&c, 0, sizeof(c));
	cr_expect_eq(reg_hive_match(h, "control panel\\* [*]", collect_cb, &c), 0);
	cr_expect_gt(c.n, 20);
	cr_expect(c.saw_wallpaper);

	memset(&c, 0, sizeof(c));
	cr_expect_eq(reg_hive_match(h, "Control Panel\\Desk*", collect_cb, &c), 0);
	cr_expect_eq(c.n, 1, "one key, no values");
	cr_expect_str_eq(c.last_key, "Control Panel\\Desktop");

	memset(&c, 0, sizeof(c));
	cr_expect_eq(reg_hive_match(h, "Control Panel\\Desktop [Wall*]", collect_cb, &c), 0);
	cr_expect_geq(c.n, 1);
	reg_hive_close(h);
}

Test(registry_query, glob)
{
	cr_expect(reg_glob("*", ""));
	cr_expect(reg_glob("Wall*", "wallpaper"));
	cr_expect(reg_glob("*PAPER", "Wallpaper"));
	cr_expect(reg_glob("W?ll*r", "Wallpaper"));
	cr_expect_not(reg_glob("Wall", "Wallpaper"));
	cr_expect_not(reg_glob("?", ""));
}

Test(registry_query, decoders)
{
	struct reg_value v = { 0 };
	uint8_t sz[] = { 'A', 0, 0xE9, 0, 0x3D, 0xD8, 0x00, 0xDE, 0, 0 };  /* "Aé😀" */
	uint8_t multi[] = { 'a', 0, 0, 0, 'b', 0, 'c', 0, 0, 0, 0, 0 };
	uint8_t be[] = { 0x12, 0x34, 0x56, 0x78 };
	uint8_t q[] = { 1, 2, 3, 4, 5, 6, 7, 8 };
	char *s, **arr;
	size_t n;
	uint32_t d;
	uint64_t u;

	v.type = REG_SZ;
	v.data = sz;
	v.len = sizeof(sz);
	cr_assert_eq(reg_value_string(&v, &s), 0);
	cr_expect_str_eq(s, "A\xc3\xa9\xf0\x9f\x98\x80");
	size_t l;
	uint8_t *back = fmt_utf8_to_utf16le(s, &l);
	cr_expect_eq(l, sizeof(sz));
	cr_expect_arr_eq(back, sz, sizeof(sz));
	free(back);
	free(s);
	cr_expect_eq(reg_value_u32(&v, &d), REG_ETYPE);
	/* A lone surrogate is kept (WTF-8, formats' one rule), not replaced. */
	uint8_t lone[] = { 'a', 0, 0x00, 0xD8, 'b', 0, 0, 0 };
	v.data = lone;
	v.len = sizeof(lone);
	cr_assert_eq(reg_value_string(&v, &s), 0);
	cr_expect_str_eq(s, "a\xed\xa0\x80" "b");
	back = fmt_utf8_to_utf16le(s, &l);
	cr_expect_arr_eq(back, lone, sizeof(lone));
	free(back);
	free(s);

	v.type = REG_MULTI_SZ;
	v.data = multi;
	v.len = sizeof(multi);
	cr_assert_eq(reg_value_multi(&v, &arr, &n), 0);
	cr_expect_eq(n, 2, "an empty string ends the list");
	cr_expect_str_eq(arr[0], "a");
	cr_expect_str_eq(arr[1], "bc");
	free(arr[0]);
	free(arr[1]);
	free(arr);

	v.type = REG_DWORD_BIG_ENDIAN;
	v.data = be;
	v.len = 4;
	cr_assert_eq(reg_value_u32(&v, &d), 0);
	cr_expect_eq(d, 0x12345678);
	s = reg_value_format(&v);
	cr_expect_str_eq(s, "0x12345678");
	free(s);
	v.type = REG_DWORD;
	cr_assert_eq(reg_value_u32(&v, &d), 0);
	cr_expect_eq(d, 0x78563412);

	v.type = REG_QWORD;
	v.data = q;
	v.len = 8;
	cr_assert_eq(reg_value_u64(&v, &u), 0);
	cr_expect_eq(u, 0x0807060504030201ull);
	v.type = 0x12345;       /* unusual type: kept raw, shown as hex */
	s = reg_value_format(&v);
	cr_expect_str_eq(s, "0102030405060708");
	free(s);
	cr_expect_str_eq(reg_type_name(REG_EXPAND_SZ), "REG_EXPAND_SZ");
	cr_expect_str_eq(reg_type_name(0x12345), "REG_UNKNOWN");
}

Test(registry_query, every_real_ntuser_walks, .timeout = 120)
{
	static const char *const names[] = {
		"NTUSER.DAT", "NTUSER-WSL.DAT", "NTUSER_with_winscp.DAT", "transactions_NTUSER.DAT",
		"notatin_NTUSER.DAT", "plaso_NTUSER-WIN7.DAT", "SAM",
	};
	T_NEED_SHARED();
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		const char *p = t_extract(names[i], names[i]);
		int err;
		char msg[320];
		cr_assert(p);
		reg_hive *h = reg_hive_open(p, 0, &err, msg, sizeof(msg));
		cr_assert(h, "%s: %s", names[i], msg);
		struct collect c = { 0 };
		cr_expect_eq(reg_hive_match(h, "* [*]", collect_cb, &c), 0, "%s", names[i]);
		cr_expect_gt(c.n, 50, "%s has values", names[i]);
		reg_hive_close(h);
	}
}
