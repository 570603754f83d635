/*
 * Junction and folder-symlink reparse buffers (see formats/formats.h).
 *
 * Layout (REPARSE_DATA_BUFFER): u32 tag, u16 ReparseDataLength (bytes after
 * this 8-byte header), u16 reserved, then u16 SubstituteNameOffset,
 * SubstituteNameLength, PrintNameOffset, PrintNameLength (bytes, relative to
 * PathBuffer), a symlink's u32 Flags, and PathBuffer (UTF-16LE).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "formats/formats.h"

#define SYMLINK_FLAG_RELATIVE 1u

static int
fail(char *why, size_t whylen, const char *msg)
{
	snprintf(why, whylen, "%s", msg);
	return -1;
}

/* @bytes of UTF-16LE at @p -> UTF-8; NULL when it holds a NUL or memory fails. */
static char *
name_utf8(const uint8_t *p, size_t bytes)
{
	for (size_t i = 0; i + 1 < bytes; i += 2)
		if (!fmt_le16(p + i))
			return NULL;
	return fmt_utf16le_to_utf8(p, bytes);
}

static size_t
header_size(uint32_t tag)
{
	return tag == FMT_TAG_SYMLINK ? 20 : 16;
}

int
fmt_junction_parse(const uint8_t *buf, size_t len, struct fmt_junction_target *out, char *why,
	       size_t whylen)
{
	memset(out, 0, sizeof(*out));
	if (!buf || len < 8)
		return fail(why, whylen, "the reparse buffer is shorter than its 8-byte header");
	if (len > FMT_MAX_REPARSE) {
		snprintf(why, whylen, "the reparse buffer is %zu bytes, more than the %u NTFS keeps",
			 len, FMT_MAX_REPARSE);
		return -1;
	}
	uint32_t tag = fmt_le32(buf);
	if (tag != FMT_TAG_MOUNT_POINT && tag != FMT_TAG_SYMLINK) {
		snprintf(why, whylen, "reparse tag 0x%08x is not a junction or symbolic link", tag);
		return -1;
	}
	if ((size_t)fmt_le16(buf + 4) + 8 != len) {
		snprintf(why, whylen, "the reparse buffer says it holds %u bytes of data, but it has "
			 "%zu", fmt_le16(buf + 4), len - 8);
		return -1;
	}
	size_t hdr = header_size(tag);
	if (len < hdr)
		return fail(why, whylen, "the reparse buffer is too short for its name fields");
	size_t room = len - hdr;
	size_t sub_off = fmt_le16(buf + 8), sub_len = fmt_le16(buf + 10);
	size_t print_off = fmt_le16(buf + 12), print_len = fmt_le16(buf + 14);
	if ((sub_off | sub_len | print_off | print_len) & 1 || sub_off + sub_len > room ||
	    print_off + print_len > room)
		return fail(why, whylen, "a target name lies outside the reparse buffer");
	if (!sub_len)
		return fail(why, whylen, "the link has no target");
	out->tag = tag;
	out->flags = tag == FMT_TAG_SYMLINK ? fmt_le32(buf + 16) : 0;
	out->relative = (out->flags & SYMLINK_FLAG_RELATIVE) != 0;
	out->substitute = name_utf8(buf + hdr + sub_off, sub_len);
	out->print = name_utf8(buf + hdr + print_off, print_len);
	if (!out->substitute || !out->print) {
		fmt_junction_target_free(out);
		return fail(why, whylen, "a target name holds a NUL character (or memory ran out)");
	}
	return 0;
}

void
fmt_junction_target_free(struct fmt_junction_target *t)
{
	free(t->substitute);
	free(t->print);
	t->substitute = t->print = NULL;
}

/* "\??\C:\x" -> "C:\x" */
static const char *
strip_nt(const char *s)
{
	return strncmp(s, "\\??\\", 4) ? s : s + 4;
}

const char *
fmt_junction_path(const struct fmt_junction_target *t)
{
	return strip_nt(t->substitute);
}

/* The rest of @path after @prefix ("" or "\..."), or NULL when it is not below. */
static const char *
after_prefix(const char *path, const char *prefix, size_t n)
{
	if (strncasecmp(path, prefix, n))
		return NULL;
	if (path[n] == '\0' || path[n] == '\\')
		return path + n;
	return NULL;
}

/* @s with its "\??\" kept, @prefix replaced by @repl; malloc'd. */
static char *
replaced(const char *s, const char *rest, const char *repl)
{
	size_t nt = (size_t)(strip_nt(s) - s);
	char *r;
	if (asprintf(&r, "%.*s%s%s", (int)nt, s, repl, rest) < 0)
		return NULL;
	return r;
}

int
fmt_junction_rewrite(const uint8_t *buf, size_t len, const char *old_prefix, const char *new_prefix,
		 uint8_t **out, size_t *out_len, char *why, size_t whylen)
{
	struct fmt_junction_target t;
	*out = NULL;
	*out_len = 0;
	if (fmt_junction_parse(buf, len, &t, why, whylen) < 0)
		return -1;
	/* Prefixes compare without their trailing backslashes ("C:\Users\a\"). */
	size_t on = strlen(old_prefix), nn = strlen(new_prefix);
	while (on && old_prefix[on - 1] == '\\')
		on--;
	while (nn && new_prefix[nn - 1] == '\\')
		nn--;
	const char *rest = on && !t.relative ? after_prefix(fmt_junction_path(&t), old_prefix, on) : NULL;
	if (!rest) {
		fmt_junction_target_free(&t);
		return 0;
	}
	char *repl = strndup(new_prefix, nn);
	char *sub = repl ? replaced(t.substitute, rest, repl) : NULL;
	const char *prest = after_prefix(strip_nt(t.print), old_prefix, on);
	char *print = !repl ? NULL : prest ? replaced(t.print, prest, repl) : strdup(t.print);
	uint16_t *su = NULL, *pu = NULL;
	long sn = sub ? fmt_utf8_to_utf16(sub, &su) : -1;
	long pn = print ? fmt_utf8_to_utf16(print, &pu) : -1;
	int ret = -1;
	if (sn < 0 || pn < 0) {
		fail(why, whylen, "the new target cannot be written (memory ran out, or the new profile "
		     "path is not valid UTF-8)");
		goto out;
	}
	/* Substitute name, NUL, print name, NUL (as Windows writes junctions). */
	size_t hdr = header_size(t.tag);
	size_t sub_bytes = (size_t)sn * 2, print_bytes = (size_t)pn * 2;
	size_t total = hdr + sub_bytes + 2 + print_bytes + 2;
	if (total > FMT_MAX_REPARSE || sub_bytes > UINT16_MAX || print_bytes > UINT16_MAX) {
		snprintf(why, whylen, "with the new profile path its reparse buffer would be %zu bytes, "
			 "more than the %u NTFS keeps", total, FMT_MAX_REPARSE);
		goto out;
	}
	uint8_t *b = calloc(1, total);
	if (!b) {
		fail(why, whylen, "out of memory");
		goto out;
	}
	fmt_put_le32(b, t.tag);
	fmt_put_le16(b + 4, (uint16_t)(total - 8));
	fmt_put_le16(b + 8, 0);
	fmt_put_le16(b + 10, (uint16_t)sub_bytes);
	fmt_put_le16(b + 12, (uint16_t)(sub_bytes + 2));
	fmt_put_le16(b + 14, (uint16_t)print_bytes);
	if (t.tag == FMT_TAG_SYMLINK)
		fmt_put_le32(b + 16, t.flags);
	for (long i = 0; i < sn; i++)
		fmt_put_le16(b + hdr + 2 * (size_t)i, su[i]);
	for (long i = 0; i < pn; i++)
		fmt_put_le16(b + hdr + sub_bytes + 2 + 2 * (size_t)i, pu[i]);
	*out = b;
	*out_len = total;
	ret = 1;
out:
	free(su);
	free(pu);
	free(sub);
	free(print);
	free(repl);
	fmt_junction_target_free(&t);
	return ret;
}
