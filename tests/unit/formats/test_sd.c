/*
 * Security descriptors (formats/sd.c): SIDs mapped everywhere (owner, group,
 * every ACE, lengths changing), hostile descriptors refused with a sentence
 * and never read out of bounds, inheritance, and the builder.
 */
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "formats/formats.h"

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

Test(formats_sd, maps_owner_and_every_ace_including_object_and_audit_aces)
{
	uint8_t sd[1024], *out;
	size_t len = sample_sd(sd, ALICE_OLD), out_len;
	struct map m = { .calls = 0 };
	m.fl = put_sid(m.from, ALICE_OLD);
	m.tl = put_sid(m.to, ALICE_NEW);
	char err[256];
	cr_assert_eq(fmt_sd_rewrite(sd, len, mapper, &m, &out, &out_len, err, sizeof(err)), 0, "%s", err);
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
	cr_assert_eq(fmt_sd_rewrite(out, out_len, mapper, &back, &again, &again_len, err, sizeof(err)), 0,
		     "%s", err);
	cr_expect_eq(again_len, len);
	cr_expect(!memcmp(again, sd, len));
	free(out);
	free(again);
}

Test(formats_sd, a_sid_of_another_length_moves_everything_after_it)
{
	uint8_t sd[1024], *out;
	size_t len = sample_sd(sd, ALICE_OLD), out_len;
	struct map m = { .calls = 0 };
	m.fl = put_sid(m.from, ALICE_OLD);
	m.tl = put_sid(m.to, SHORT_SID); /* 16 bytes instead of 28 */
	char err[256];
	cr_assert_eq(fmt_sd_rewrite(sd, len, mapper, &m, &out, &out_len, err, sizeof(err)), 0, "%s", err);
	cr_expect_eq(out_len, len - 4 * 12);
	cr_expect_eq(count_sid(out, out_len, SHORT_SID), 4);
	/* Checked again by the parser: offsets and sizes were rewritten consistently. */
	uint8_t *copy;
	size_t copy_len;
	cr_expect_eq(fmt_sd_rewrite(out, out_len, NULL, NULL, &copy, &copy_len, err, sizeof(err)), 0,
		     "%s", err);
	cr_expect_eq(copy_len, out_len);
	free(copy);
	free(out);
}

Test(formats_sd, hostile_descriptors_are_refused_with_a_sentence)
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
		cr_expect_eq(fmt_sd_rewrite(bad, l, NULL, NULL, &out, &out_len, err, sizeof(err)), -1,
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
	cr_expect_eq(fmt_sd_rewrite(bad, len, NULL, NULL, &out, &out_len, err, sizeof(err)), -1);
	cr_expect(strstr(err, "bad size"), "%s", err);
	memcpy(bad, sd, len);
	bad[dacl + 4] = 200;
	cr_expect_eq(fmt_sd_rewrite(bad, len, NULL, NULL, &out, &out_len, err, sizeof(err)), -1);
	/* A SID claiming 15 sub-authorities inside a short ACE. */
	memcpy(bad, sd, len);
	bad[dacl + 8 + 8 + 1] = 15;
	cr_expect_eq(fmt_sd_rewrite(bad, len, NULL, NULL, &out, &out_len, err, sizeof(err)), -1);
	cr_expect(strstr(err, "SID"), "%s", err);
}

/* Every single-byte change and every truncation: accepted or refused, never a crash
 * (run under ASan by make check). */
Test(formats_sd, mutations_never_read_out_of_bounds)
{
	uint8_t sd[1024];
	size_t len = sample_sd(sd, ALICE_OLD);
	char err[256];
	unsigned accepted = 0, refused = 0;
	for (size_t cut = 0; cut <= len; cut++) {
		uint8_t *copy = malloc(cut ? cut : 1), *out;
		size_t out_len;
		memcpy(copy, sd, cut);
		if (fmt_sd_rewrite(copy, cut, NULL, NULL, &out, &out_len, err, sizeof(err)) == 0) {
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
			if (fmt_sd_rewrite(copy, len, NULL, NULL, &out, &out_len, err, sizeof(err)) == 0)
				free(out);
			free(copy);
		}
	cr_expect(refused > 0);
}
/* A parent as restore makes a profile root: O:alice G:SY D:P(A;OICI;FA;;;SY)(A;OICI;FA;;;BA)(A;OICI;FA;;;alice). */
static void
profile_like(uint8_t **sd, size_t *len)
{
	uint8_t user[FMT_SID_MAX], sys[FMT_SID_MAX], admins[FMT_SID_MAX];
	put_sid(user, ALICE_NEW);
	put_sid(sys, "S-1-5-18");
	put_sid(admins, "S-1-5-32-544");
	const uint8_t oici = FMT_ACE_OBJECT_INHERIT | FMT_ACE_CONTAINER_INHERIT;
	const struct fmt_sd_allow aces[] = {
		{ oici, 0x001F01FF, sys }, { oici, 0x001F01FF, admins }, { oici, 0x001F01FF, user },
	};
	cr_assert_eq(fmt_sd_build(FMT_SE_DACL_PROTECTED | FMT_SE_DACL_AUTO_INHERITED, user, sys, aces,
				  3, sd, len), 0);
}

Test(formats_sd, build_lays_out_header_owner_group_dacl)
{
	uint8_t *sd;
	size_t len;
	profile_like(&sd, &len);
	cr_expect_eq(fmt_le16(sd + 2), 0x9404, "SE_SELF_RELATIVE|DACL_PROTECTED|DACL_AUTO_INHERITED|DACL_PRESENT");
	cr_expect_eq(fmt_le32(sd + 4), 20, "the owner follows the header");
	uint32_t group = fmt_le32(sd + 8), dacl = fmt_le32(sd + 16);
	cr_expect_eq(group, 20 + fmt_sid_len(sd + 20, len - 20));
	cr_expect_eq(fmt_le32(sd + 12), 0, "no SACL");
	cr_expect_eq(dacl, group + 12);
	cr_expect_eq(fmt_le16(sd + dacl + 2), len - dacl, "the DACL runs to the end");
	cr_expect_eq(fmt_le16(sd + dacl + 4), 3);
	/* What the builder writes, the checker takes unchanged. */
	uint8_t *copy;
	size_t copy_len;
	char err[160];
	cr_assert_eq(fmt_sd_rewrite(sd, len, NULL, NULL, &copy, &copy_len, err, sizeof(err)), 0, "%s", err);
	cr_expect_eq(copy_len, len);
	cr_expect_arr_eq(copy, sd, len);
	free(copy);
	free(sd);

	/* A SID that is not one is refused. */
	uint8_t not_a_sid[8] = { 2, 1 };
	struct fmt_sd_allow one = { 0, 1, not_a_sid };
	cr_expect_eq(fmt_sd_build(0, not_a_sid, not_a_sid, &one, 1, &sd, &len), -1);
	cr_expect_null(sd);
}

Test(formats_sd, inherit_marks_entries_inherited)
{
	uint8_t *sd;
	size_t len, dacl;
	profile_like(&sd, &len);
	/* A file below it inherits the three ACEs, marked inherited, without OI|CI. */
	uint8_t *child;
	size_t clen;
	cr_assert_eq(fmt_sd_inherit(sd, len, ALICE_NEW, false, &child, &clen), 0);
	dacl = fmt_le32(child + 16);
	cr_expect_eq(child[dacl + 4], 3);
	cr_expect_eq(child[dacl + 8 + 1], 0x10, "INHERITED_ACE only");
	cr_expect_eq((child[3] & 0x10), 0, "a child is not protected");
	free(child);
	/* A folder keeps OI|CI so its own children inherit too. */
	cr_assert_eq(fmt_sd_inherit(sd, len, NULL, true, &child, &clen), 0);
	dacl = fmt_le32(child + 16);
	cr_expect_eq(child[dacl + 8 + 1], 0x13);
	free(child);
	free(sd);
}

/* D:(A;CI;FA;;;SY)(A;OI;FA;;;BA)(A;OICINP;FA;;;alice)(A;;FA;;;SY): what a file and a folder get. */
Test(formats_sd, inherit_follows_windows_rules_for_files_and_folders)
{
	uint8_t user[FMT_SID_MAX], sys[FMT_SID_MAX], admins[FMT_SID_MAX];
	put_sid(user, ALICE_NEW);
	put_sid(sys, "S-1-5-18");
	put_sid(admins, "S-1-5-32-544");
	const struct fmt_sd_allow aces[] = {
		{ FMT_ACE_CONTAINER_INHERIT, 1, sys },
		{ FMT_ACE_OBJECT_INHERIT, 2, admins },
		{ FMT_ACE_OBJECT_INHERIT | FMT_ACE_CONTAINER_INHERIT | 0x04 /* NO_PROPAGATE */, 4, user },
		{ 0, 8, sys },
	};
	uint8_t *parent, *child;
	size_t plen, clen;
	cr_assert_eq(fmt_sd_build(0, user, sys, aces, 4, &parent, &plen), 0);

	/* A file: the object-inherit entries (BA, alice), marked inherited only. */
	cr_assert_eq(fmt_sd_inherit(parent, plen, "S-1-5-32-545", false, &child, &clen), 0);
	uint32_t dacl = fmt_le32(child + 16);
	cr_assert_eq(fmt_le16(child + dacl + 4), 2);
	cr_expect_eq(fmt_le32(child + dacl + 8 + 4), 2);
	cr_expect_eq(child[dacl + 8 + 1], 0x10);
	size_t second = dacl + 8 + fmt_le16(child + dacl + 8 + 2);
	cr_expect_eq(fmt_le32(child + second + 4), 4);
	cr_expect_eq(child[second + 1], 0x10);
	char *owner = fmt_sid_to_string(child + fmt_le32(child + 4), clen - fmt_le32(child + 4));
	cr_expect_str_eq(owner, "S-1-5-32-545", "the owner given");
	free(owner);
	free(child);

	/* A folder: SY (CI, passed on), BA (OI only: inherit-only, passed on),
	 * alice (NO_PROPAGATE: applies here, passed on no further). */
	cr_assert_eq(fmt_sd_inherit(parent, plen, NULL, true, &child, &clen), 0);
	dacl = fmt_le32(child + 16);
	cr_assert_eq(fmt_le16(child + dacl + 4), 3);
	size_t a = dacl + 8;
	const uint8_t want_flags[] = { 0x12, 0x19, 0x10 };
	const uint32_t want_mask[] = { 1, 2, 4 };
	for (int i = 0; i < 3; i++) {
		cr_expect_eq(child[a + 1], want_flags[i], "ACE %d flags 0x%x", i, child[a + 1]);
		cr_expect_eq(fmt_le32(child + a + 4), want_mask[i]);
		a += fmt_le16(child + a + 2);
	}
	cr_expect_eq(a, clen);
	owner = fmt_sid_to_string(child + fmt_le32(child + 4), clen - fmt_le32(child + 4));
	cr_expect_str_eq(owner, ALICE_NEW, "the parent's owner");
	free(owner);
	free(child);

	/* A damaged parent gives nothing. */
	fmt_put_le32(parent + 16, (uint32_t)plen);
	cr_expect_eq(fmt_sd_inherit(parent, plen, NULL, true, &child, &clen), -1);
	cr_expect_eq(fmt_sd_inherit(parent, 12, NULL, true, &child, &clen), -1);
	free(parent);
}
