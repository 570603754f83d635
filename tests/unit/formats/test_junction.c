/*
 * Junction targets moved to a restored profile's new path (formats/reparse.c):
 * case-insensitive prefix on a component boundary, both names rewritten,
 * every length and offset of the new buffer right, relative symlinks and
 * other drives kept, and damaged buffers refused with a sentence.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "formats/formats.h"

/* UTF-16LE of ASCII @s into @p; returns bytes. */
static size_t
u16(uint8_t *p, const char *s)
{
	size_t n = strlen(s);
	for (size_t i = 0; i < n; i++) {
		p[2 * i] = (uint8_t)s[i];
		p[2 * i + 1] = 0;
	}
	return 2 * n;
}

/* A junction as Windows writes it: "\??\" + target, NUL, target, NUL. */
static size_t
make_junction(uint8_t *b, const char *sub, const char *print)
{
	memset(b, 0, 16);
	b[0] = 0x03, b[1] = 0x00, b[2] = 0x00, b[3] = 0xA0;
	size_t sl = u16(b + 16, sub);
	b[16 + sl] = b[17 + sl] = 0;
	size_t pl = u16(b + 16 + sl + 2, print);
	b[18 + sl + pl] = b[19 + sl + pl] = 0;
	fmt_put_le16(b + 8, 0);
	fmt_put_le16(b + 10, (uint16_t)sl);
	fmt_put_le16(b + 12, (uint16_t)(sl + 2));
	fmt_put_le16(b + 14, (uint16_t)pl);
	size_t total = 16 + sl + 2 + pl + 2;
	fmt_put_le16(b + 4, (uint16_t)(total - 8));
	return total;
}

/* An absolute or relative symlink, print name first as CreateSymbolicLink writes it. */
static size_t
make_symlink(uint8_t *b, const char *sub, const char *print, bool relative)
{
	memset(b, 0, 20);
	b[0] = 0x0C, b[1] = 0x00, b[2] = 0x00, b[3] = 0xA0;
	size_t pl = u16(b + 20, print);
	size_t sl = u16(b + 20 + pl, sub);
	fmt_put_le16(b + 8, (uint16_t)pl);
	fmt_put_le16(b + 10, (uint16_t)sl);
	fmt_put_le16(b + 12, 0);
	fmt_put_le16(b + 14, (uint16_t)pl);
	b[16] = relative ? 1 : 0;
	fmt_put_le16(b + 4, (uint16_t)(20 + pl + sl - 8));
	return 20 + pl + sl;
}

static char *
name_at(const uint8_t *b, size_t hdr, size_t off_field)
{
	size_t off = fmt_le16(b + off_field), len = fmt_le16(b + off_field + 2);
	char *s = calloc(1, len / 2 + 1);
	for (size_t i = 0; i < len / 2; i++) {
		cr_assert_eq(b[hdr + off + 2 * i + 1], 0, "non-ASCII in the test's names");
		s[i] = (char)b[hdr + off + 2 * i];
	}
	return s;
}

/* Every length in @b agrees with @len, and both names are what is expected. */
static void
expect_names(const uint8_t *b, size_t len, const char *sub, const char *print)
{
	size_t hdr = b[0] == 0x0C ? 20 : 16;
	cr_assert_eq(fmt_le16(b + 4) + 8u, len, "ReparseDataLength %u for %zu bytes", fmt_le16(b + 4), len);
	cr_assert_leq(fmt_le16(b + 8) + fmt_le16(b + 10) + hdr, len, "substitute name inside");
	cr_assert_leq(fmt_le16(b + 12) + fmt_le16(b + 14) + hdr, len, "print name inside");
	char *s = name_at(b, hdr, 8), *p = name_at(b, hdr, 12);
	cr_expect_str_eq(s, sub);
	cr_expect_str_eq(p, print);
	free(s);
	free(p);
	/* And it parses back. */
	struct fmt_junction_target t;
	char why[200];
	cr_assert_eq(fmt_junction_parse(b, len, &t, why, sizeof(why)), 0, "%s", why);
	cr_expect_str_eq(t.substitute, sub);
	cr_expect_str_eq(t.print, print);
	fmt_junction_target_free(&t);
}

Test(junction, parse_a_windows_junction)
{
	uint8_t b[512];
	size_t n = make_junction(b, "\\??\\C:\\Users\\alice\\Music", "C:\\Users\\alice\\Music");
	struct fmt_junction_target t;
	char why[200];
	cr_assert_eq(fmt_junction_parse(b, n, &t, why, sizeof(why)), 0, "%s", why);
	cr_expect_eq(t.tag, FMT_TAG_MOUNT_POINT);
	cr_expect_str_eq(fmt_junction_path(&t), "C:\\Users\\alice\\Music");
	cr_expect_not(t.relative);
	fmt_junction_target_free(&t);
}

Test(junction, rewrite_moves_both_names_case_insensitively)
{
	uint8_t b[512], *out = NULL;
	size_t n = make_junction(b, "\\??\\C:\\USERS\\Alice\\Music", "C:\\Users\\ALICE\\Music"), on = 0;
	char why[200] = "";
	cr_assert_eq(fmt_junction_rewrite(b, n, "C:\\Users\\alice", "C:\\Users\\alicia.WS-PC02", &out,
				      &on, why, sizeof(why)), 1, "%s", why);
	expect_names(out, on, "\\??\\C:\\Users\\alicia.WS-PC02\\Music",
		     "C:\\Users\\alicia.WS-PC02\\Music");
	cr_expect_eq(on, n + 2 * 2 * strlen(".WS-PC02") + 2 * 2 * (strlen("alicia") - strlen("alice")),
		     "the buffer grew by exactly the longer names: %zu", on);
	free(out);
}

Test(junction, rewrite_to_a_shorter_path)
{
	uint8_t b[512], *out = NULL;
	size_t n = make_junction(b, "\\??\\C:\\Users\\alexander.smith\\OneDrive\\Work",
				 "C:\\Users\\alexander.smith\\OneDrive\\Work"), on = 0;
	char why[200] = "";
	cr_assert_eq(fmt_junction_rewrite(b, n, "C:\\Users\\alexander.smith\\", "C:\\Users\\al", &out, &on,
				      why, sizeof(why)), 1, "%s", why);
	expect_names(out, on, "\\??\\C:\\Users\\al\\OneDrive\\Work", "C:\\Users\\al\\OneDrive\\Work");
	cr_expect_lt(on, n);
	free(out);
}

Test(junction, the_profile_itself_is_rewritten)
{
	uint8_t b[512], *out = NULL;
	size_t n = make_junction(b, "\\??\\C:\\Users\\alice", "C:\\Users\\alice"), on = 0;
	char why[200] = "";
	cr_assert_eq(fmt_junction_rewrite(b, n, "C:\\Users\\alice", "C:\\Users\\bob", &out, &on, why,
				      sizeof(why)), 1, "%s", why);
	expect_names(out, on, "\\??\\C:\\Users\\bob", "C:\\Users\\bob");
	free(out);
}

Test(junction, a_prefix_must_end_on_a_component_boundary)
{
	uint8_t b[512], *out = (uint8_t *)"x";
	size_t n = make_junction(b, "\\??\\C:\\Users\\alice\\Music", "C:\\Users\\alice\\Music"), on = 7;
	char why[200] = "";
	cr_expect_eq(fmt_junction_rewrite(b, n, "C:\\Users\\al", "C:\\Users\\bob", &out, &on, why,
				      sizeof(why)), 0, "C:\\Users\\al matched C:\\Users\\alice");
	cr_expect_null(out);
	cr_expect_eq(on, 0);
	n = make_junction(b, "\\??\\C:\\Users\\alice2\\Music", "C:\\Users\\alice2\\Music");
	cr_expect_eq(fmt_junction_rewrite(b, n, "C:\\Users\\alice", "C:\\Users\\bob", &out, &on, why,
				      sizeof(why)), 0, "C:\\Users\\alice matched C:\\Users\\alice2");
}

Test(junction, other_drives_and_relative_links_are_kept)
{
	uint8_t b[512], *out = NULL;
	size_t n = make_junction(b, "\\??\\D:\\Work", "D:\\Work"), on = 0;
	char why[200] = "";
	cr_expect_eq(fmt_junction_rewrite(b, n, "C:\\Users\\alice", "C:\\Users\\bob", &out, &on, why,
				      sizeof(why)), 0);
	n = make_junction(b, "\\??\\D:\\Users\\alice\\Work", "D:\\Users\\alice\\Work");
	cr_expect_eq(fmt_junction_rewrite(b, n, "C:\\Users\\alice", "C:\\Users\\bob", &out, &on, why,
				      sizeof(why)), 0, "the same path on another drive is not the profile");
	n = make_symlink(b, "..\\Music", "..\\Music", true);
	cr_expect_eq(fmt_junction_rewrite(b, n, "C:\\Users\\alice", "C:\\Users\\bob", &out, &on, why,
				      sizeof(why)), 0);
	cr_expect_null(out);
}

Test(junction, absolute_symlink_keeps_its_flags)
{
	uint8_t b[512], *out = NULL;
	size_t n = make_symlink(b, "\\??\\C:\\Users\\alice\\Documents\\Projects",
				"C:\\Users\\alice\\Documents\\Projects", false), on = 0;
	char why[200] = "";
	cr_assert_eq(fmt_junction_rewrite(b, n, "c:\\users\\ALICE", "C:\\Users\\someone", &out, &on, why,
				      sizeof(why)), 1, "%s", why);
	cr_expect_eq(out[0], 0x0C);
	cr_expect_eq(out[16], 0, "still absolute");
	expect_names(out, on, "\\??\\C:\\Users\\someone\\Documents\\Projects",
		     "C:\\Users\\someone\\Documents\\Projects");
	free(out);
}

Test(junction, a_print_name_elsewhere_is_kept)
{
	uint8_t b[512], *out = NULL;
	size_t n = make_junction(b, "\\??\\C:\\Users\\alice\\Music", "My tunes"), on = 0;
	char why[200] = "";
	cr_assert_eq(fmt_junction_rewrite(b, n, "C:\\Users\\alice", "C:\\Users\\bob", &out, &on, why,
				      sizeof(why)), 1, "%s", why);
	expect_names(out, on, "\\??\\C:\\Users\\bob\\Music", "My tunes");
	free(out);
	/* An empty print name stays empty. */
	n = make_junction(b, "\\??\\C:\\Users\\alice\\Music", "");
	cr_assert_eq(fmt_junction_rewrite(b, n, "C:\\Users\\alice", "C:\\Users\\bob", &out, &on, why,
				      sizeof(why)), 1, "%s", why);
	expect_names(out, on, "\\??\\C:\\Users\\bob\\Music", "");
	free(out);
}

/* Damaged buffers: a sentence, no rewrite, no read outside the buffer. */
Test(junction, damaged_buffers_are_refused)
{
	uint8_t b[512], *out = NULL;
	char why[200];
	size_t on = 0, n;
	struct fmt_junction_target t;

	n = make_junction(b, "\\??\\C:\\Users\\alice\\Music", "C:\\Users\\alice\\Music");
	cr_expect_eq(fmt_junction_parse(b, 7, &t, why, sizeof(why)), -1);
	cr_expect(strstr(why, "shorter"), "%s", why);

	fmt_put_le16(b + 4, (uint16_t)(n - 8 + 40)); /* says more than it holds */
	cr_expect_eq(fmt_junction_rewrite(b, n, "C:\\Users\\alice", "C:\\Users\\bob", &out, &on, why,
				      sizeof(why)), -1);
	cr_expect(strstr(why, "bytes of data"), "%s", why);
	cr_expect_null(out);

	n = make_junction(b, "\\??\\C:\\Users\\alice\\Music", "C:\\Users\\alice\\Music");
	fmt_put_le16(b + 10, 400); /* substitute name past the end */
	cr_expect_eq(fmt_junction_parse(b, n, &t, why, sizeof(why)), -1);
	cr_expect(strstr(why, "outside"), "%s", why);

	n = make_junction(b, "\\??\\C:\\Users\\alice\\Music", "C:\\Users\\alice\\Music");
	fmt_put_le16(b + 12, (uint16_t)0xFFFF); /* odd, huge print offset */
	cr_expect_eq(fmt_junction_parse(b, n, &t, why, sizeof(why)), -1);

	n = make_junction(b, "\\??\\C:\\Users\\alice\\Music", "C:\\Users\\alice\\Music");
	b[0] = 0x1A, b[1] = 0x60, b[2] = 0x00, b[3] = 0x90; /* a OneDrive tag */
	cr_expect_eq(fmt_junction_parse(b, n, &t, why, sizeof(why)), -1);
	cr_expect(strstr(why, "not a junction"), "%s", why);

	n = make_junction(b, "\\??\\C:\\Users\\alice\\Music", "C:\\Users\\alice\\Music");
	fmt_put_le16(b + 10, 0); /* no target at all */
	cr_expect_eq(fmt_junction_parse(b, n, &t, why, sizeof(why)), -1);

	n = make_junction(b, "\\??\\C:\\Users\\alice\\Music", "C:\\Users\\alice\\Music");
	b[16 + 4] = 0; /* a NUL inside the substitute name */
	b[16 + 5] = 0;
	cr_expect_eq(fmt_junction_parse(b, n, &t, why, sizeof(why)), -1);
	cr_expect(strstr(why, "NUL"), "%s", why);

	n = make_symlink(b, "\\??\\C:\\x", "C:\\x", false);
	cr_expect_eq(fmt_junction_parse(b, 18, &t, why, sizeof(why)), -1, "shorter than a symlink's fields");
}

Test(junction, more_than_16_KiB_is_refused)
{
	/* A store can hold up to 64 MiB of reparse data; NTFS keeps at most 16 KiB. */
	size_t n = 20000;
	uint8_t *b = calloc(1, n);
	struct fmt_junction_target t;
	char why[200];
	b[0] = 0x03, b[3] = 0xA0;
	cr_expect_eq(fmt_junction_parse(b, n, &t, why, sizeof(why)), -1);
	cr_expect(strstr(why, "16384"), "%s", why);
	free(b);

	/* A rewrite that would grow the buffer past 16 KiB is refused too. */
	char *long_target = malloc(8200), *sub = malloc(8300);
	memset(long_target, 'a', 8100);
	memcpy(long_target, "C:\\Users\\alice\\", 15);
	long_target[8100] = 0;
	sprintf(sub, "\\??\\%s", long_target);
	uint8_t *big = calloc(1, 40000), *out = NULL;
	size_t bn = make_junction(big, sub, ""), on;
	cr_assert_leq(bn, FMT_MAX_REPARSE);
	char newp[200];
	memset(newp, 'b', 150);
	memcpy(newp, "C:\\Users\\", 9);
	newp[150] = 0;
	cr_expect_eq(fmt_junction_rewrite(big, bn, "C:\\Users\\alice", newp, &out, &on, why, sizeof(why)), -1);
	cr_expect(strstr(why, "16384"), "%s", why);
	cr_expect_null(out);
	free(big);
	free(sub);
	free(long_target);
}
