/*
 * Security descriptors for restore: a bounds-checked parser/rebuilder that
 * maps SIDs (/mu, /md, local accounts with a new machine SID), and the two
 * descriptors restore makes itself (a profile root, an inherited child).
 * Input comes from a store and is trusted for nothing.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "formats/formats.h"
#include "restore/restore.h"
#include "registry/registry.h"

#define SE_DACL_PRESENT 0x0004u
#define SE_SACL_PRESENT 0x0010u
#define SE_DACL_AUTO_INHERITED 0x0400u
#define SE_DACL_PROTECTED 0x1000u
#define SE_SELF_RELATIVE 0x8000u

#define OBJECT_INHERIT_ACE 0x01u
#define CONTAINER_INHERIT_ACE 0x02u
#define NO_PROPAGATE_INHERIT_ACE 0x04u
#define INHERIT_ONLY_ACE 0x08u
#define INHERITED_ACE 0x10u

#define MAX_SID 68 /* 8 + 15 sub-authorities */

static int
bad(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	if (err && errlen)
		vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return -1;
}

/* Length of the SID at @p with @avail bytes, or 0 when it is not a valid SID. */
static size_t
sid_len(const uint8_t *p, size_t avail)
{
	if (avail < 8 || p[0] != 1 || p[1] > 15)
		return 0;
	size_t n = 8 + 4u * p[1];
	return n <= avail ? n : 0;
}

struct buf {
	uint8_t *p;
	size_t len, cap;
	bool failed;
};

static size_t
buf_put(struct buf *b, const void *data, size_t len)
{
	size_t at = b->len;
	if (b->failed)
		return at;
	if (b->len + len > b->cap) {
		size_t cap = b->cap ? b->cap * 2 : 256;
		while (cap < b->len + len)
			cap *= 2;
		uint8_t *grown = realloc(b->p, cap);
		if (!grown) {
			b->failed = true;
			return at;
		}
		b->p = grown;
		b->cap = cap;
	}
	if (data)
		memcpy(b->p + b->len, data, len);
	else
		memset(b->p + b->len, 0, len);
	b->len += len;
	return at;
}

static void
put_sid(struct buf *b, const uint8_t *sid, size_t len, restore_sid_map_fn map, void *ctx)
{
	size_t new_len = 0;
	const uint8_t *mapped = map ? map(sid, len, &new_len, ctx) : NULL;
	if (mapped && sid_len(mapped, new_len) == new_len)
		buf_put(b, mapped, new_len);
	else
		buf_put(b, sid, len);
}

/* Where the SID starts in an ACE body (after the 4-byte header), or -1: opaque. */
static long
ace_sid_offset(uint8_t type, const uint8_t *body, size_t body_len)
{
	switch (type) {
	case 0: case 1: case 2: case 3:           /* allowed, denied, audit, alarm */
	case 9: case 0x0A: case 0x0D: case 0x0E:   /* callback forms */
	case 0x11: case 0x12: case 0x13: case 0x14: case 0x15: /* label, attribute, policy, trust, filter */
		return 4;
	case 5: case 6: case 7: case 8:           /* object forms */
	case 0x0B: case 0x0C: case 0x0F: case 0x10: {
		if (body_len < 8)
			return -2;
		uint32_t flags = fmt_le32(body + 4);
		return 8 + ((flags & 1) ? 16 : 0) + ((flags & 2) ? 16 : 0);
	}
	default:
		return -1;
	}
}

/* Copy the ACL at @acl (@avail bytes in the SD after it) into @b with SIDs mapped. */
static int
put_acl(struct buf *b, const uint8_t *acl, size_t avail, restore_sid_map_fn map, void *ctx,
	const char *which, char *err, size_t errlen)
{
	if (avail < 8)
		return bad(err, errlen, "the %s is cut short", which);
	uint16_t size = fmt_le16(acl + 2), count = fmt_le16(acl + 4);
	if (acl[0] < 2 || acl[0] > 4)
		return bad(err, errlen, "the %s has revision %u (2 or 4 expected)", which, acl[0]);
	if (size < 8 || size > avail)
		return bad(err, errlen, "the %s says it is %u bytes, but only %zu are there", which,
			   size, avail);
	size_t start = buf_put(b, acl, 8), off = 8;
	for (unsigned i = 0; i < count; i++) {
		if (size - off < 4)
			return bad(err, errlen, "ACE %u of the %s is outside the list", i, which);
		const uint8_t *ace = acl + off;
		uint16_t ace_size = fmt_le16(ace + 2);
		if (ace_size < 4 || ace_size > size - off || ace_size % 4)
			return bad(err, errlen, "ACE %u of the %s has a bad size (%u)", i, which,
				   ace_size);
		long soff = ace_sid_offset(ace[0], ace + 4, ace_size - 4u);
		if (soff == -2)
			return bad(err, errlen, "object ACE %u of the %s is cut short", i, which);
		size_t slen = 0;
		if (soff >= 0) {
			size_t body = ace_size - 4u;
			if ((size_t)soff >= body || !(slen = sid_len(ace + 4 + soff, body - (size_t)soff)))
				return bad(err, errlen, "ACE %u of the %s holds no valid SID", i, which);
		}
		if (soff < 0) {
			buf_put(b, ace, ace_size);
		} else {
			size_t at = buf_put(b, ace, 4 + (size_t)soff);
			size_t before = b->len;
			put_sid(b, ace + 4 + soff, slen, map, ctx);
			size_t tail = ace_size - 4u - (size_t)soff - slen;
			buf_put(b, ace + 4 + soff + slen, tail);
			size_t new_size = 4 + (size_t)soff + (b->len - before - tail) + tail;
			if (!b->failed) {
				if (new_size > 0xFFFF)
					return bad(err, errlen, "an ACE grew too large");
				fmt_put_le16(b->p + at + 2, (uint16_t)new_size);
			}
		}
		off += ace_size;
	}
	if (!b->failed) {
		size_t new_size = b->len - start;
		if (new_size > 0xFFFF)
			return bad(err, errlen, "the %s grew too large", which);
		fmt_put_le16(b->p + start + 2, (uint16_t)new_size);
	}
	return 0;
}

int
restore_sd_rewrite(const uint8_t *sd, size_t len, restore_sid_map_fn map, void *ctx,
		   uint8_t **out, size_t *out_len, char *err, size_t errlen)
{
	struct buf b = { 0 };
	*out = NULL;
	*out_len = 0;
	if (!sd || len < 20)
		return bad(err, errlen, "the security descriptor is shorter than its 20-byte header");
	if (sd[0] != 1)
		return bad(err, errlen, "the security descriptor has revision %u (1 expected)", sd[0]);
	uint16_t control = fmt_le16(sd + 2);
	if (!(control & SE_SELF_RELATIVE))
		return bad(err, errlen, "the security descriptor is not self-relative");
	uint32_t offs[4] = { fmt_le32(sd + 4), fmt_le32(sd + 8), fmt_le32(sd + 12), fmt_le32(sd + 16) };
	static const char *const names[4] = { "owner", "group", "SACL", "DACL" };
	for (int i = 0; i < 4; i++)
		if (offs[i] && (offs[i] < 20 || offs[i] >= len))
			return bad(err, errlen, "the security descriptor's %s offset (%u) is outside "
				   "its %zu bytes", names[i], offs[i], len);
	if ((offs[2] && !(control & SE_SACL_PRESENT)) || (offs[3] && !(control & SE_DACL_PRESENT)))
		control |= 0; /* Windows tolerates it; kept as is. */

	buf_put(&b, sd, 20);
	uint32_t new_offs[4] = { 0 };
	for (int i = 0; i < 2; i++) {
		if (!offs[i])
			continue;
		size_t sl = sid_len(sd + offs[i], len - offs[i]);
		if (!sl) {
			free(b.p);
			return bad(err, errlen, "the security descriptor's %s SID is damaged", names[i]);
		}
		new_offs[i] = (uint32_t)b.len;
		put_sid(&b, sd + offs[i], sl, map, ctx);
	}
	for (int i = 2; i < 4; i++) {
		if (!offs[i])
			continue;
		new_offs[i] = (uint32_t)b.len;
		if (put_acl(&b, sd + offs[i], len - offs[i], map, ctx, names[i], err, errlen) < 0) {
			free(b.p);
			return -1;
		}
	}
	if (b.failed) {
		free(b.p);
		return bad(err, errlen, "out of memory");
	}
	for (int i = 0; i < 4; i++)
		fmt_put_le32(b.p + 4 + 4 * i, new_offs[i]);
	*out = b.p;
	*out_len = b.len;
	return 0;
}

static bool
sid_bin(const char *s, uint8_t *out, size_t *len)
{
	return fmt_sid_from_string(s, out, MAX_SID, len) == 0;
}

static void
put_ace(struct buf *b, uint8_t flags, uint32_t mask, const uint8_t *sid, size_t sl)
{
	uint8_t h[8] = { 0, flags, 0, 0 };
	fmt_put_le16(h + 2, (uint16_t)(8 + sl));
	fmt_put_le32(h + 4, mask);
	buf_put(b, h, 8);
	buf_put(b, sid, sl);
}

int
restore_sd_profile_root(const char *user_sid, uint8_t **out, size_t *out_len)
{
	uint8_t user[MAX_SID], sys[MAX_SID], admins[MAX_SID];
	size_t ul, sl, al;
	struct buf b = { 0 };
	*out = NULL;
	if (!sid_bin(user_sid, user, &ul) || !sid_bin("S-1-5-18", sys, &sl) ||
	    !sid_bin("S-1-5-32-544", admins, &al))
		return -1;
	uint8_t h[20] = { 1, 0 };
	fmt_put_le16(h + 2, SE_SELF_RELATIVE | SE_DACL_PROTECTED | SE_DACL_AUTO_INHERITED | SE_DACL_PRESENT);
	buf_put(&b, h, 20);
	uint32_t owner = (uint32_t)buf_put(&b, user, ul);
	uint32_t group = (uint32_t)buf_put(&b, sys, sl);
	uint32_t dacl = (uint32_t)b.len;
	uint8_t acl[8] = { 2, 0, 0, 0, 3, 0, 0, 0 };
	fmt_put_le16(acl + 2, (uint16_t)(8 + 3 * 8 + sl + al + ul));
	buf_put(&b, acl, 8);
	const uint8_t inherit = OBJECT_INHERIT_ACE | CONTAINER_INHERIT_ACE;
	put_ace(&b, inherit, 0x001F01FF, sys, sl);
	put_ace(&b, inherit, 0x001F01FF, admins, al);
	put_ace(&b, inherit, 0x001F01FF, user, ul);
	if (b.failed) {
		free(b.p);
		return -1;
	}
	fmt_put_le32(b.p + 4, owner);
	fmt_put_le32(b.p + 8, group);
	fmt_put_le32(b.p + 16, dacl);
	*out = b.p;
	*out_len = b.len;
	return 0;
}

int
restore_sd_inherit(const uint8_t *parent, size_t len, const char *owner_sid, bool is_dir,
		   uint8_t **out, size_t *out_len)
{
	uint8_t *checked;
	size_t clen;
	char err[128];
	*out = NULL;
	if (restore_sd_rewrite(parent, len, NULL, NULL, &checked, &clen, err, sizeof(err)) < 0)
		return -1;
	uint32_t oo = fmt_le32(checked + 4), og = fmt_le32(checked + 8), od = fmt_le32(checked + 16);
	uint8_t owner[MAX_SID];
	size_t ol = 0;
	if (owner_sid && !sid_bin(owner_sid, owner, &ol)) {
		free(checked);
		return -1;
	}
	struct buf b = { 0 };
	uint8_t h[20] = { 1, 0 };
	fmt_put_le16(h + 2, SE_SELF_RELATIVE | SE_DACL_AUTO_INHERITED | SE_DACL_PRESENT);
	buf_put(&b, h, 20);
	uint32_t new_owner = 0, new_group = 0, new_dacl;
	if (ol)
		new_owner = (uint32_t)buf_put(&b, owner, ol);
	else if (oo)
		new_owner = (uint32_t)buf_put(&b, checked + oo, sid_len(checked + oo, clen - oo));
	if (og)
		new_group = (uint32_t)buf_put(&b, checked + og, sid_len(checked + og, clen - og));
	new_dacl = (uint32_t)b.len;
	uint8_t acl[8] = { 2, 0, 0, 0, 0, 0, 0, 0 };
	buf_put(&b, acl, 8);
	unsigned count = 0;
	if (od) {
		const uint8_t *pacl = checked + od;
		size_t off = 8;
		for (unsigned i = 0; i < fmt_le16(pacl + 4); i++) {
			const uint8_t *ace = pacl + off;
			uint16_t size = fmt_le16(ace + 2);
			off += size;
			uint8_t f = ace[1];
			bool applies = is_dir ? (f & (CONTAINER_INHERIT_ACE | OBJECT_INHERIT_ACE))
					      : (f & OBJECT_INHERIT_ACE);
			if (!applies)
				continue;
			uint8_t nf = INHERITED_ACE;
			if (is_dir && !(f & NO_PROPAGATE_INHERIT_ACE)) {
				nf |= f & (OBJECT_INHERIT_ACE | CONTAINER_INHERIT_ACE);
				/* Only object-inherit on a folder: it passes on but does not apply. */
				if (!(f & CONTAINER_INHERIT_ACE))
					nf |= INHERIT_ONLY_ACE;
			} else if (is_dir && !(f & CONTAINER_INHERIT_ACE)) {
				continue;
			}
			size_t at = buf_put(&b, ace, size);
			if (!b.failed)
				b.p[at + 1] = nf;
			count++;
		}
	}
	free(checked);
	if (b.failed) {
		free(b.p);
		return -1;
	}
	fmt_put_le16(b.p + new_dacl + 2, (uint16_t)(b.len - new_dacl));
	fmt_put_le16(b.p + new_dacl + 4, (uint16_t)count);
	fmt_put_le32(b.p + 4, new_owner);
	fmt_put_le32(b.p + 8, new_group);
	fmt_put_le32(b.p + 16, new_dacl);
	*out = b.p;
	*out_len = b.len;
	return 0;
}

/* UTF-16 units of @len bytes of (WTF-8) UTF-8: a 4-byte sequence is a pair. */
static size_t
utf16_units(const char *s, size_t len)
{
	size_t u = 0;
	for (size_t i = 0; i < len; i++)
		if (((unsigned char)s[i] & 0xC0) != 0x80)
			u += ((unsigned char)s[i] & 0xF8) == 0xF0 ? 2 : 1;
	return u;
}

#define NTFS_NAME_UNITS 255

char *
restore_conflict_name(const char *name, unsigned n)
{
	const char *dot = strrchr(name, '.');
	char tag[16];
	int tl = snprintf(tag, sizeof(tag), "(%u)", n);
	if (!dot || dot == name || utf16_units(dot, strlen(dot)) + (size_t)tl >= NTFS_NAME_UNITS)
		dot = name + strlen(name);
	/* A name near NTFS's 255 units loses characters at the end of its stem
	 * (never half of one) so that the copy's name still fits. */
	size_t stem = (size_t)(dot - name), ext = utf16_units(dot, strlen(dot));
	while (stem > 0 && utf16_units(name, stem) + (size_t)tl + ext > NTFS_NAME_UNITS) {
		stem--;
		while (stem > 0 && ((unsigned char)name[stem] & 0xC0) == 0x80)
			stem--;
	}
	size_t need = strlen(name) + 16;
	char *out = malloc(need);
	if (out)
		snprintf(out, need, "%.*s%s%s", (int)stem, name, tag, dot);
	return out;
}
