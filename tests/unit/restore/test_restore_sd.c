/*
 * Restore's security-descriptor code: SIDs mapped everywhere (owner, group,
 * every ACE, lengths changing), hostile descriptors refused with a sentence
 * and never read out of bounds, and the descriptors restore makes itself.
 */
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "formats/formats.h"
#include "restore/restore.h"
#include "registry/registry.h"

#define ALICE_OLD "S-1-5-21-1111111111-2222222222-3333333333-1001"
#define ALICE_NEW "S-1-5-21-3777777777-3888888888-999999999-1001"
#define SHORT_SID "S-1-5-32-545"

static size_t
put_sid(uint8_t *p, const char *s)
{
	size_t len;
	cr_assert_eq(fmt_sid_from_string(s, p, 68, &len), 0, "%s", s);
	return len;
}

/* O:alice G:SY D:(A;;FA;;;alice)(A;OICI;FA;;;SY)(object ACE for alice); S:(audit alice) */
static size_t
sample_sd(uint8_t *sd, const char *user)
{
	size_t off = 20;
	memset(sd, 0, 1024);
	sd[0] = 1;
	sd[2] = 0x14; /* DACL + SACL present */
	sd[3] = 0x84; /* self-relative, auto-inherited */
	uint32_t owner = (uint32_t)off;
	off += put_sid(sd + off, user);
	uint32_t group = (uint32_t)off;
	off += put_sid(sd + off, "S-1-5-18");
	uint32_t sacl = (uint32_t)off;
	uint8_t *acl = sd + off;
	acl[0] = 2;
	acl[4] = 1;
	size_t a = 8;
	acl[a] = 2; /* audit */
	acl[a + 1] = 0x40;
	size_t sl = put_sid(acl + a + 8, user);
	acl[a + 2] = (uint8_t)(8 + sl);
	acl[a + 4] = 0xff;
	a += 8 + sl;
	acl[2] = (uint8_t)a;
	off += a;
	uint32_t dacl = (uint32_t)off;
	acl = sd + off;
	acl[0] = 4;
	acl[4] = 3;
	a = 8;
	/* allowed, user */
	sl = put_sid(acl + a + 8, user);
	acl[a + 2] = (uint8_t)(8 + sl);
	acl[a + 4] = 0xff;
	a += 8 + sl;
	/* allowed OI|CI, SYSTEM */
	acl[a + 1] = 3;
	sl = put_sid(acl + a + 8, "S-1-5-18");
	acl[a + 2] = (uint8_t)(8 + sl);
	a += 8 + sl;
	/* allowed object ACE with one GUID, user, 4 bytes of trailing data */
	acl[a] = 5;
	acl[a + 8] = 1; /* flags: object type present */
	memset(acl + a + 12, 0xAB, 16);
	sl = put_sid(acl + a + 28, user);
	memcpy(acl + a + 28 + sl, "TAIL", 4);
	acl[a + 2] = (uint8_t)(28 + sl + 4);
	a += 28 + sl + 4;
	acl[2] = (uint8_t)a;
	off += a;
	memcpy(sd + 4, &owner, 4);
	memcpy(sd + 8, &group, 4);
	memcpy(sd + 12, &sacl, 4);
	memcpy(sd + 16, &dacl, 4);
	return off;
}

struct map {
	uint8_t from[68], to[68];
	size_t fl, tl;
	int calls;
};

static const uint8_t *
mapper(const uint8_t *sid, size_t len, size_t *new_len, void *ctx)
{
	struct map *m = ctx;
	m->calls++;
	if (len == m->fl && !memcmp(sid, m->from, len)) {
		*new_len = m->tl;
		return m->to;
	}
	return NULL;
}

static size_t
count_sid(const uint8_t *buf, size_t len, const char *sid)
{
	uint8_t b[68];
	size_t sl = put_sid(b, sid), n = 0;
	for (size_t i = 0; i + sl <= len; i++)
		if (!memcmp(buf + i, b, sl))
			n++;
	return n;
}

Test(restore_sd, maps_owner_and_every_ace_including_object_and_audit_aces)
{
	uint8_t sd[1024], *out;
	size_t len = sample_sd(sd, ALICE_OLD), out_len;
	struct map m = { .calls = 0 };
	m.fl = put_sid(m.from, ALICE_OLD);
	m.tl = put_sid(m.to, ALICE_NEW);
	char err[256];
	cr_assert_eq(restore_sd_rewrite(sd, len, mapper, &m, &out, &out_len, err, sizeof(err)), 0, "%s", err);
	cr_expect_eq(count_sid(out, out_len, ALICE_OLD), 0);
	cr_expect_eq(count_sid(out, out_len, ALICE_NEW), 4, "owner, audit ACE, allowed ACE, object ACE");
	cr_expect_eq(count_sid(out, out_len, "S-1-5-18"), 2);
	cr_expect(memmem(out, out_len, "TAIL", 4), "object ACE's trailing data kept");
	/* The result is itself a valid descriptor, and mapping back restores the original bytes. */
	struct map back = { .calls = 0 };
	back.fl = put_sid(back.from, ALICE_NEW);
	back.tl = put_sid(back.to, ALICE_OLD);
	uint8_t *again;
	size_t again_len;
	cr_assert_eq(restore_sd_rewrite(out, out_len, mapper, &back, &again, &again_len, err, sizeof(err)), 0,
		     "%s", err);
	cr_expect_eq(again_len, len);
	cr_expect(!memcmp(again, sd, len));
	free(out);
	free(again);
}

Test(restore_sd, a_sid_of_another_length_moves_everything_after_it)
{
	uint8_t sd[1024], *out;
	size_t len = sample_sd(sd, ALICE_OLD), out_len;
	struct map m = { .calls = 0 };
	m.fl = put_sid(m.from, ALICE_OLD);
	m.tl = put_sid(m.to, SHORT_SID); /* 16 bytes instead of 28 */
	char err[256];
	cr_assert_eq(restore_sd_rewrite(sd, len, mapper, &m, &out, &out_len, err, sizeof(err)), 0, "%s", err);
	cr_expect_eq(out_len, len - 4 * 12);
	cr_expect_eq(count_sid(out, out_len, SHORT_SID), 4);
	/* Checked again by the parser: offsets and sizes were rewritten consistently. */
	uint8_t *copy;
	size_t copy_len;
	cr_expect_eq(restore_sd_rewrite(out, out_len, NULL, NULL, &copy, &copy_len, err, sizeof(err)), 0,
		     "%s", err);
	cr_expect_eq(copy_len, out_len);
	free(copy);
	free(out);
}

Test(restore_sd, hostile_descriptors_are_refused_with_a_sentence)
{
	uint8_t sd[1024], *out = NULL;
	size_t len = sample_sd(sd, ALICE_OLD), out_len;
	char err[256];
	uint8_t bad[1024];
	struct {
		const char *what;
		size_t at;
		uint8_t value;
		size_t len;
		const char *words;
	} cases[] = {
		{ "too short", 0, 1, 12, "shorter" },
		{ "revision", 0, 9, 0, "revision" },
		{ "not self-relative", 3, 0x04, 0, "self-relative" },
		{ "owner offset past the end", 5, 0x40, 0, "outside" },
		{ "DACL offset past the end", 17, 0x40, 0, "outside" },
		{ "cut short", 0, 1, 0, "" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		memcpy(bad, sd, len);
		size_t l = cases[i].len ? cases[i].len : len;
		if (i == 5)
			l = len - 10; /* the object ACE runs off the end */
		else
			bad[cases[i].at] = cases[i].value;
		err[0] = 0;
		cr_expect_eq(restore_sd_rewrite(bad, l, NULL, NULL, &out, &out_len, err, sizeof(err)), -1,
			     "%s accepted", cases[i].what);
		cr_expect(out == NULL);
		cr_expect(err[0], "%s: no sentence", cases[i].what);
		if (cases[i].words[0])
			cr_expect(strstr(err, cases[i].words), "%s: \"%s\"", cases[i].what, err);
	}
	/* An ACE whose size points past the ACL, and an ACE count larger than the ACL. */
	uint32_t dacl;
	memcpy(&dacl, sd + 16, 4);
	memcpy(bad, sd, len);
	bad[dacl + 8 + 2] = 0xF0;
	cr_expect_eq(restore_sd_rewrite(bad, len, NULL, NULL, &out, &out_len, err, sizeof(err)), -1);
	cr_expect(strstr(err, "bad size"), "%s", err);
	memcpy(bad, sd, len);
	bad[dacl + 4] = 200;
	cr_expect_eq(restore_sd_rewrite(bad, len, NULL, NULL, &out, &out_len, err, sizeof(err)), -1);
	/* A SID claiming 15 sub-authorities inside a short ACE. */
	memcpy(bad, sd, len);
	bad[dacl + 8 + 8 + 1] = 15;
	cr_expect_eq(restore_sd_rewrite(bad, len, NULL, NULL, &out, &out_len, err, sizeof(err)), -1);
	cr_expect(strstr(err, "SID"), "%s", err);
}

/* Every single-byte change and every truncation: accepted or refused, never a crash
 * (run under ASan by make check). */
Test(restore_sd, mutations_never_read_out_of_bounds)
{
	uint8_t sd[1024];
	size_t len = sample_sd(sd, ALICE_OLD);
	char err[256];
	unsigned accepted = 0, refused = 0;
	for (size_t cut = 0; cut <= len; cut++) {
		uint8_t *copy = malloc(cut ? cut : 1), *out;
		size_t out_len;
		memcpy(copy, sd, cut);
		if (restore_sd_rewrite(copy, cut, NULL, NULL, &out, &out_len, err, sizeof(err)) == 0) {
			accepted++;
			free(out);
		} else {
			refused++;
		}
		free(copy);
	}
	cr_expect_eq(accepted, 1, "only the whole descriptor is valid");
	static const uint8_t values[] = { 0, 1, 0x7f, 0x80, 0xff };
	for (size_t at = 0; at < len; at++)
		for (size_t v = 0; v < sizeof(values); v++) {
			uint8_t *copy = malloc(len), *out;
			size_t out_len;
			memcpy(copy, sd, len);
			copy[at] = values[v];
			if (restore_sd_rewrite(copy, len, NULL, NULL, &out, &out_len, err, sizeof(err)) == 0)
				free(out);
			free(copy);
		}
	cr_expect(refused > 0);
}

Test(restore_sd, profile_root_is_protected_with_three_inheritable_full_control_aces)
{
	uint8_t *sd;
	size_t len;
	cr_assert_eq(restore_sd_profile_root(ALICE_NEW, &sd, &len), 0);
	uint16_t control = (uint16_t)(sd[2] | sd[3] << 8);
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
		a += (size_t)(sd[a + 2] | sd[a + 3] << 8);
	}
	cr_expect_eq(a, len);

	/* A file below it inherits the three ACEs, marked inherited, without OI|CI. */
	uint8_t *child;
	size_t clen;
	cr_assert_eq(restore_sd_inherit(sd, len, ALICE_NEW, false, &child, &clen), 0);
	memcpy(&dacl, child + 16, 4);
	cr_expect_eq(child[dacl + 4], 3);
	cr_expect_eq(child[dacl + 8 + 1], 0x10, "INHERITED_ACE only");
	cr_expect_eq((child[3] & 0x10), 0, "a child is not protected");
	free(child);
	/* A folder keeps OI|CI so its own children inherit too. */
	cr_assert_eq(restore_sd_inherit(sd, len, NULL, true, &child, &clen), 0);
	memcpy(&dacl, child + 16, 4);
	cr_expect_eq(child[dacl + 8 + 1], 0x13);
	free(child);
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
