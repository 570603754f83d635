/*
 * Self-relative security descriptors: a bounds-checked parser/rebuilder that
 * maps SIDs, the descriptor Windows' inheritance gives a new child, and a
 * builder for the simple descriptors modules make themselves.  Descriptors
 * come from stores and volumes and are trusted for nothing: every offset,
 * length, SID, ACL and ACE is checked before it is read.
 *
 * Layout: u8 revision (1), u8 Sbz1, u16 control, u32 offsets of owner, group,
 * SACL, DACL (0: absent).  An ACL: u8 revision (2 or 4), u8 Sbz1, u16 size,
 * u16 ACE count, u16 Sbz2, then the ACEs: u8 type, u8 flags, u16 size, a body.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "formats/formats.h"

#define SE_DACL_PRESENT 0x0004u
#define SE_SELF_RELATIVE 0x8000u

#define NO_PROPAGATE_INHERIT_ACE 0x04u
#define INHERIT_ONLY_ACE 0x08u
#define INHERITED_ACE 0x10u

#define SD_HEADER 20u
#define ACL_HEADER 8u

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

/* A growing output buffer; a failed allocation is remembered, not reported
 * at every step. */
struct sd_buf {
	uint8_t *p;
	size_t len, cap;
	bool failed;
};

/* Append @len bytes (zeros when @data is NULL); returns where they start. */
static size_t
buf_put(struct sd_buf *b, const void *data, size_t len)
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
put_sid(struct sd_buf *b, const uint8_t *sid, size_t len, fmt_sid_map_fn map, void *ctx)
{
	size_t new_len = 0;
	const uint8_t *mapped = map ? map(sid, len, &new_len, ctx) : NULL;
	if (mapped && fmt_sid_len(mapped, new_len) == new_len)
		buf_put(b, mapped, new_len);
	else
		buf_put(b, sid, len);
}

/* Where the SID starts in an ACE body (after the 4-byte header), -1 for a
 * type without one (copied opaque), -2 for an object ACE cut short. */
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
put_acl(struct sd_buf *b, const uint8_t *acl, size_t avail, fmt_sid_map_fn map, void *ctx,
	const char *which, char *err, size_t errlen)
{
	if (avail < ACL_HEADER)
		return bad(err, errlen, "the %s is cut short", which);
	uint16_t size = fmt_le16(acl + 2), count = fmt_le16(acl + 4);
	if (acl[0] < 2 || acl[0] > 4)
		return bad(err, errlen, "the %s has revision %u (2 or 4 expected)", which, acl[0]);
	if (size < ACL_HEADER || size > avail)
		return bad(err, errlen, "the %s says it is %u bytes, but only %zu are there", which,
			   size, avail);
	size_t start = buf_put(b, acl, ACL_HEADER), off = ACL_HEADER;
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
			if ((size_t)soff >= body ||
			    !(slen = fmt_sid_len(ace + 4 + soff, body - (size_t)soff)))
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
fmt_sd_rewrite(const uint8_t *sd, size_t len, fmt_sid_map_fn map, void *ctx, uint8_t **out,
	       size_t *out_len, char *err, size_t errlen)
{
	struct sd_buf b = { 0 };
	*out = NULL;
	*out_len = 0;
	if (!sd || len < SD_HEADER)
		return bad(err, errlen, "the security descriptor is shorter than its 20-byte header");
	if (sd[0] != 1)
		return bad(err, errlen, "the security descriptor has revision %u (1 expected)", sd[0]);
	uint16_t control = fmt_le16(sd + 2);
	if (!(control & SE_SELF_RELATIVE))
		return bad(err, errlen, "the security descriptor is not self-relative");
	uint32_t offs[4] = { fmt_le32(sd + 4), fmt_le32(sd + 8), fmt_le32(sd + 12),
			     fmt_le32(sd + 16) };
	static const char *const names[4] = { "owner", "group", "SACL", "DACL" };
	for (int i = 0; i < 4; i++)
		if (offs[i] && (offs[i] < SD_HEADER || offs[i] >= len))
			return bad(err, errlen, "the security descriptor's %s offset (%u) is outside "
				   "its %zu bytes", names[i], offs[i], len);
	/* An ACL offset without its PRESENT bit (or the reverse) is kept as it
	 * is: Windows tolerates it, and a restore must not change meaning. */
	buf_put(&b, sd, SD_HEADER);
	uint32_t new_offs[4] = { 0 };
	for (int i = 0; i < 2; i++) {
		if (!offs[i])
			continue;
		size_t sl = fmt_sid_len(sd + offs[i], len - offs[i]);
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

/*
 * The descriptors formats makes: a header with @control (SELF_RELATIVE and
 * DACL_PRESENT added), the owner and group (@ol/@gl 0: none), then an empty
 * DACL whose entries the caller appends; finish_sd closes it.
 */
static void
start_sd(struct sd_buf *b, uint16_t control, const uint8_t *owner, size_t ol,
	 const uint8_t *group, size_t gl, uint32_t offs[3])
{
	uint8_t h[SD_HEADER] = { 1, 0 };
	fmt_put_le16(h + 2, control | SE_SELF_RELATIVE | SE_DACL_PRESENT);
	buf_put(b, h, SD_HEADER);
	offs[0] = ol ? (uint32_t)buf_put(b, owner, ol) : 0;
	offs[1] = gl ? (uint32_t)buf_put(b, group, gl) : 0;
	uint8_t acl[ACL_HEADER] = { 2 /* revision */ };
	offs[2] = (uint32_t)buf_put(b, acl, ACL_HEADER);
}

static int
finish_sd(struct sd_buf *b, const uint32_t offs[3], size_t count, uint8_t **out, size_t *out_len)
{
	uint32_t dacl = offs[2];
	if (b->failed || b->len - dacl > 0xFFFF || count > 0xFFFF) {
		free(b->p);
		return -1;
	}
	fmt_put_le16(b->p + dacl + 2, (uint16_t)(b->len - dacl));
	fmt_put_le16(b->p + dacl + 4, (uint16_t)count);
	fmt_put_le32(b->p + 4, offs[0]);
	fmt_put_le32(b->p + 8, offs[1]);
	fmt_put_le32(b->p + 16, dacl);
	*out = b->p;
	*out_len = b->len;
	return 0;
}

int
fmt_sd_inherit(const uint8_t *parent, size_t len, const char *owner_sid, bool is_dir,
	       uint8_t **out, size_t *out_len)
{
	uint8_t *checked;
	size_t clen;
	char err[128];
	*out = NULL;
	/* The copy is checked: below, every offset and size in it is known good. */
	if (fmt_sd_rewrite(parent, len, NULL, NULL, &checked, &clen, err, sizeof(err)) < 0)
		return -1;
	uint32_t oo = fmt_le32(checked + 4), og = fmt_le32(checked + 8), od = fmt_le32(checked + 16);
	uint8_t owner[FMT_SID_MAX];
	size_t ol = 0;
	if (owner_sid && fmt_sid_from_string(owner_sid, owner, sizeof(owner), &ol) < 0) {
		free(checked);
		return -1;
	}
	struct sd_buf b = { 0 };
	uint32_t offs[3];
	const uint8_t *keep_owner = ol ? owner : oo ? checked + oo : NULL;
	size_t kl = ol ? ol : oo ? fmt_sid_len(checked + oo, clen - oo) : 0;
	start_sd(&b, FMT_SE_DACL_AUTO_INHERITED, keep_owner, kl, checked + og,
		 og ? fmt_sid_len(checked + og, clen - og) : 0, offs);
	unsigned count = 0;
	if (od) {
		const uint8_t *pacl = checked + od;
		size_t off = ACL_HEADER;
		for (unsigned i = 0; i < fmt_le16(pacl + 4); i++) {
			const uint8_t *ace = pacl + off;
			uint16_t size = fmt_le16(ace + 2);
			off += size;
			uint8_t f = ace[1];
			bool applies = is_dir ? (f & (FMT_ACE_CONTAINER_INHERIT | FMT_ACE_OBJECT_INHERIT))
					      : (f & FMT_ACE_OBJECT_INHERIT);
			if (!applies)
				continue;
			uint8_t nf = INHERITED_ACE;
			if (is_dir && !(f & NO_PROPAGATE_INHERIT_ACE)) {
				nf |= f & (FMT_ACE_OBJECT_INHERIT | FMT_ACE_CONTAINER_INHERIT);
				/* Only object-inherit on a folder: it passes on but does not apply. */
				if (!(f & FMT_ACE_CONTAINER_INHERIT))
					nf |= INHERIT_ONLY_ACE;
			} else if (is_dir && !(f & FMT_ACE_CONTAINER_INHERIT)) {
				continue;
			}
			size_t at = buf_put(&b, ace, size);
			if (!b.failed)
				b.p[at + 1] = nf;
			count++;
		}
	}
	free(checked);
	return finish_sd(&b, offs, count, out, out_len);
}

int
fmt_sd_build(uint16_t control, const uint8_t *owner, const uint8_t *group,
	     const struct fmt_sd_allow *aces, size_t count, uint8_t **out, size_t *out_len)
{
	struct sd_buf b = { 0 };
	size_t ol = fmt_sid_len(owner, FMT_SID_MAX), gl = fmt_sid_len(group, FMT_SID_MAX);
	uint32_t offs[3];
	*out = NULL;
	*out_len = 0;
	if (!ol || !gl)
		return -1;
	start_sd(&b, control, owner, ol, group, gl, offs);
	for (size_t i = 0; i < count; i++) {
		size_t sl = fmt_sid_len(aces[i].sid, FMT_SID_MAX);
		if (!sl) {
			free(b.p);
			return -1;
		}
		uint8_t ace[8] = { 0 /* ACCESS_ALLOWED */, aces[i].flags };
		fmt_put_le16(ace + 2, (uint16_t)(8 + sl));
		fmt_put_le32(ace + 4, aces[i].mask);
		buf_put(&b, ace, sizeof(ace));
		buf_put(&b, aces[i].sid, sl);
	}
	return finish_sd(&b, offs, count, out, out_len);
}
