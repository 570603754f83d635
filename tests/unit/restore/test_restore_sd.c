/*
 * Restore's own security-descriptor and naming policy: the descriptor of a
 * profile root restore creates, and USMT's keep-both names.  Parsing and
 * rewriting descriptors is tested with formats (tests/unit/formats/test_sd.c).
 */
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "formats/formats.h"
#include "restore/restore.h"

#define ALICE_NEW "S-1-5-21-3777777777-3888888888-999999999-1001"

Test(restore_sd, profile_root_is_protected_with_three_inheritable_full_control_aces)
{
	uint8_t *sd;
	size_t len;
	cr_assert_eq(restore_sd_profile_root(ALICE_NEW, &sd, &len), 0);
	uint16_t control = fmt_le16(sd + 2);
	cr_expect_eq(control, 0x9404, "SE_SELF_RELATIVE|DACL_PROTECTED|DACL_AUTO_INHERITED|DACL_PRESENT");
	uint32_t owner, dacl;
	memcpy(&owner, sd + 4, 4);
	memcpy(&dacl, sd + 16, 4);
	char *o = fmt_sid_to_string(sd + owner, len - owner);
	cr_expect_str_eq(o, ALICE_NEW);
	free(o);
	cr_expect_eq(sd[dacl + 4], 3, "three ACEs");
	size_t a = dacl + 8;
	const char *want[] = { "S-1-5-18", "S-1-5-32-544", ALICE_NEW };
	for (int i = 0; i < 3; i++) {
		cr_expect_eq(sd[a], 0, "ACCESS_ALLOWED");
		cr_expect_eq(sd[a + 1], 3, "OI|CI");
		uint32_t mask;
		memcpy(&mask, sd + a + 4, 4);
		cr_expect_eq(mask, 0x1F01FF);
		char *s = fmt_sid_to_string(sd + a + 8, len - a - 8);
		cr_expect_str_eq(s, want[i]);
		free(s);
		a += fmt_le16(sd + a + 2);
	}
	cr_expect_eq(a, len);

	free(sd);
}

Test(restore_sd, keep_both_names_follow_usmt)
{
	struct {
		const char *in;
		unsigned n;
		const char *out;
	} cases[] = {
		{ "report.docx", 1, "report(1).docx" },
		{ "report.docx", 12, "report(12).docx" },
		{ "archive.tar.gz", 2, "archive.tar(2).gz" },
		{ "README", 1, "README(1)" },
		{ ".gitconfig", 1, ".gitconfig(1)" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *got = restore_conflict_name(cases[i].in, cases[i].n);
		cr_expect_str_eq(got, cases[i].out);
		free(got);
	}
}

/* UTF-16 units of a UTF-8 string (4-byte sequences are pairs). */
static size_t
units(const char *s)
{
	size_t u = 0;
	for (; *s; s++)
		if (((unsigned char)*s & 0xC0) != 0x80)
			u += ((unsigned char)*s & 0xF8) == 0xF0 ? 2 : 1;
	return u;
}

Test(restore_sd, keep_both_names_still_fit_ntfs)
{
	/* 255 UTF-16 units: a surrogate pair (U+20BB7), 249 CJK characters, ".txt". */
	char name[1024] = "\xf0\xa0\xae\xb7";
	for (int i = 0; i < 249; i++)
		strcat(name, "\xe6\x96\x87");
	strcat(name, ".txt");
	cr_assert_eq(units(name), 255);
	char *got = restore_conflict_name(name, 1);
	cr_assert_eq(units(got), 255, "%zu units", units(got));
	size_t gl = strlen(got);
	cr_assert_str_eq(got + gl - 7, "(1).txt");
	cr_assert_eq(strncmp(got, name, gl - 7), 0, "the stem is the name's start");
	cr_assert_eq((gl - 7 - 4) % 3, 0, "no character cut in half");
	free(got);
	got = restore_conflict_name(name, 1234);
	cr_assert_eq(units(got), 255);
	cr_assert_str_eq(got + strlen(got) - 10, "(1234).txt");
	free(got);
	/* Only a pair or two in the stem: one goes whole, never half of it. */
	char pair[1024] = "\xf0\xa0\xae\xb7\xf0\xa0\xae\xb7.";
	for (int i = 0; i < 249; i++)
		strcat(pair, "x");
	cr_assert_eq(units(pair), 254);
	got = restore_conflict_name(pair, 1);
	cr_assert_eq(units(got), 255, "%s", got);
	cr_assert_eq(strncmp(got, "\xf0\xa0\xae\xb7(1).x", 9), 0, "%s", got);
	free(got);
	/* An extension too long to keep a stem: the tag goes at the end. */
	char longext[1024] = "a.";
	for (int i = 0; i < 253; i++)
		strcat(longext, "x");
	got = restore_conflict_name(longext, 1);
	cr_assert_eq(units(got), 255, "%s", got);
	cr_assert_str_eq(got + strlen(got) - 3, "(1)");
	cr_assert_eq(strncmp(got, "a.xxx", 5), 0);
	free(got);
	/* Short names are as before. */
	got = restore_conflict_name("a.txt", 1);
	cr_assert_str_eq(got, "a(1).txt");
	free(got);
}
