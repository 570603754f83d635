/*
 * formats' field readers, UTF-16 conversions and SID forms: one copy each,
 * so these pin the rules every module now shares (little-endian at any
 * alignment, WTF-8 for lone surrogates, malformed UTF-8 refused, SIDs checked).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "formats/formats.h"

Test(formats_le, reads_and_writes_little_endian_at_any_alignment)
{
	uint8_t b[11] = { 0xAA, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0xBB, 0xCC };
	cr_expect_eq(fmt_le16(b + 1), 0x0201);
	cr_expect_eq(fmt_le32(b + 1), 0x04030201u);
	cr_expect_eq(fmt_le64(b + 1), 0x0807060504030201ull);
	uint8_t w[11];
	memset(w, 0xEE, sizeof(w));
	fmt_put_le64(w + 1, 0x8877665544332211ull);
	const uint8_t want64[] = { 0xEE, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0xEE };
	cr_expect_arr_eq(w, want64, sizeof(want64), "no byte outside the field is touched");
	fmt_put_le32(w + 3, 0xDEADBEEFu);
	cr_expect_eq(fmt_le32(w + 3), 0xDEADBEEFu);
	fmt_put_le16(w + 7, 0xFFFE);
	cr_expect_eq(w[7], 0xFE);
	cr_expect_eq(w[8], 0xFF);
	cr_expect_eq(fmt_le64(w + 1) >> 48, 0xFFFE);
}

Test(formats_utf16, pairs_and_lone_surrogates_round_trip_as_wtf8)
{
	/* "A", é, U+1F600 as a pair, a lone high surrogate, a lone low one. */
	const uint16_t units[] = { 'A', 0xE9, 0xD83D, 0xDE00, 0xD800, 'x', 0xDC01 };
	char *s = fmt_utf16_to_utf8(units, 7);
	cr_assert_not_null(s);
	cr_expect_str_eq(s, "A\xc3\xa9\xf0\x9f\x98\x80\xed\xa0\x80x\xed\xb0\x81");
	uint16_t *back;
	cr_assert_eq(fmt_utf8_to_utf16(s, &back), 7);
	cr_expect_arr_eq(back, units, sizeof(units));
	cr_expect_eq(back[7], 0, "NUL-terminated");
	free(back);

	/* The byte form: the same rule, up to the first NUL, any alignment. */
	uint8_t le[1 + 2 * 9];
	for (int i = 0; i < 7; i++)
		fmt_put_le16(le + 1 + 2 * i, units[i]);
	fmt_put_le16(le + 1 + 14, 0);
	fmt_put_le16(le + 1 + 16, 'z');
	char *t = fmt_utf16le_to_utf8(le + 1, sizeof(le) - 1);
	cr_expect_str_eq(t, s, "stops at the NUL");
	free(t);
	t = fmt_utf16le_to_utf8(le + 1, 5);
	cr_expect_str_eq(t, "A\xc3\xa9", "an odd last byte is ignored");
	free(t);
	/* A high surrogate as the very last unit stays lone. */
	t = fmt_utf16le_to_utf8(le + 1, 6);
	cr_expect_str_eq(t, "A\xc3\xa9\xed\xa0\xbd");
	free(t);

	size_t bytes;
	uint8_t *enc = fmt_utf8_to_utf16le(s, &bytes);
	cr_assert_not_null(enc);
	cr_expect_eq(bytes, 16, "seven units and the NUL");
	cr_expect_arr_eq(enc, le + 1, 16);
	free(enc);
	free(s);
}

Test(formats_utf16, malformed_utf8_is_refused)
{
	const char *bad[] = {
		"\xc0\xaf",              /* overlong '/' */
		"\xe0\x80\xaf",          /* overlong, three bytes */
		"\xf0\x80\x80\xaf",      /* overlong, four bytes */
		"\xf4\x90\x80\x80",      /* above U+10FFFF */
		"a\x80",                 /* stray continuation */
		"\xc3",                  /* cut short */
		"\xe2\x82",              /* cut short */
		"\xff",                  /* never in UTF-8 */
		"\xed\xa0\xbd\xed\xb8\x80", /* a pair as two surrogates (CESU-8) */
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		uint16_t *u = (uint16_t *)1;
		errno = 0;
		cr_expect_eq(fmt_utf8_to_utf16(bad[i], &u), -1, "case %zu", i);
		cr_expect_null(u);
		cr_expect_eq(errno, EILSEQ);
		size_t n;
		cr_expect_null(fmt_utf8_to_utf16le(bad[i], &n), "case %zu", i);
		cr_expect_not(fmt_utf8_valid(bad[i], strlen(bad[i])), "case %zu", i);
	}
	/* The validator takes what the converter takes, WTF-8 included, and no
	 * sequence cut by the length. */
	const char *good = "a\xc3\xa9\xf0\x9f\x98\x80\xed\xa0\x80";
	cr_expect(fmt_utf8_valid(good, strlen(good)));
	cr_expect_not(fmt_utf8_valid(good, 5), "a four-byte sequence cut short");
	cr_expect(fmt_utf8_valid("", 0));
	uint16_t *u;
	cr_expect_eq(fmt_utf8_to_utf16("", &u), 0);
	cr_expect_eq(u[0], 0);
	free(u);
}

Test(formats_utf16, units_count_pairs_twice)
{
	const char *s = "a\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\xed\xa0\x80";  /* a é € 😀 lone */
	cr_expect_eq(fmt_utf16_units(s, strlen(s)), 6);
	cr_expect_eq(fmt_utf16_units(s, 3), 2);
	cr_expect_eq(fmt_utf16_units("", 0), 0);
}

Test(formats_sid, text_and_binary_round_trip)
{
	const char *sids[] = {
		"S-1-5-18", "S-1-5-32-544", "S-1-1-0", "S-1-0",
		"S-1-5-21-2734969515-1644526556-1039763013-1001",
		"S-1-281474976710655-1-2-3-4-5-6-7-8-9-10-11-12-13-14-4294967295",
	};
	for (size_t i = 0; i < sizeof(sids) / sizeof(sids[0]); i++) {
		uint8_t b[FMT_SID_MAX];
		size_t len;
		cr_assert_eq(fmt_sid_from_string(sids[i], b, sizeof(b), &len), 0, "%s", sids[i]);
		cr_expect_eq(fmt_sid_len(b, len), len);
		char *s = fmt_sid_to_string(b, len);
		cr_expect_str_eq(s, sids[i]);
		free(s);
	}
	uint8_t b[FMT_SID_MAX];
	size_t len;
	cr_assert_eq(fmt_sid_from_string("s-1-5-21-1-2-3-500", b, sizeof(b), &len), 0, "any case");
	const uint8_t want[] = { 1, 5, 0, 0, 0, 0, 0, 5, 21, 0, 0, 0, 1, 0, 0, 0,
				 2, 0, 0, 0, 3, 0, 0, 0, 0xF4, 1, 0, 0 };
	cr_expect_eq(len, sizeof(want));
	cr_expect_arr_eq(b, want, sizeof(want));
}

Test(formats_sid, bad_sids_are_refused)
{
	const char *bad[] = {
		NULL, "", "S-1-", "S-1-5-", "X-1-5-18", "S-2-5-18", "S-1-5--18", "S-1-5-+18",
		"S-1- 5", "S-1-5-18 ", "S-1-5-4294967296", "S-1-5-99999999999", "S-1-281474976710656",
		"S-1-5-1-2-3-4-5-6-7-8-9-10-11-12-13-14-15-16", /* 16 sub-authorities */
	};
	uint8_t b[FMT_SID_MAX];
	size_t len;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		cr_expect_eq(fmt_sid_from_string(bad[i], b, sizeof(b), &len), -1, "case %zu", i);
	/* Too small a buffer: refused, the length still told. */
	cr_expect_eq(fmt_sid_from_string("S-1-5-32-544", b, 12, &len), -1);
	cr_expect_eq(len, 16);

	cr_assert_eq(fmt_sid_from_string("S-1-5-32-544", b, sizeof(b), &len), 0);
	cr_expect_null(fmt_sid_to_string(b, 15), "cut short");
	cr_expect_eq(fmt_sid_len(b, 15), 0);
	cr_expect_null(fmt_sid_to_string(b, 7));
	b[0] = 2;
	cr_expect_null(fmt_sid_to_string(b, 16), "revision 2");
	b[0] = 1;
	b[1] = 16;
	cr_expect_eq(fmt_sid_len(b, sizeof(b)), 0, "16 sub-authorities");
	cr_expect_eq(fmt_sid_len(NULL, 8), 0);
}

/* Every module's "last error" is set through fmt_sentence, and callers often
 * pass the old sentence into the new one. */
Test(formats_sentence, may_name_its_own_old_text)
{
	char last[64] = "cannot read MFT";
	fmt_sentence(last, sizeof(last), "%s: while opening %s", last, "disk.img");
	cr_expect_str_eq(last, "cannot read MFT: while opening disk.img");
	fmt_sentence(last, 8, "%s", "a long sentence that does not fit");
	cr_expect_str_eq(last, "a long ");
	char one[1] = { 'x' };
	fmt_sentence(one, 1, "%s", "anything");
	cr_expect_eq(one[0], '\0');
}
