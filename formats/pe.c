/*
 * Version resources of PE files (for MigXML's DoesFileVersionMatch,
 * IsFileVersionAbove ...): find RT_VERSION in the resource directory, walk
 * VS_VERSIONINFO -> StringFileInfo -> StringTable -> String and return the
 * value of a tag; VS_FIXEDFILEINFO is the fallback for FileVersion and
 * ProductVersion.  Every offset is bounds-checked: the bytes come from an
 * untrusted disk.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "formats/formats.h"

struct sect { uint32_t va, vsize, raw, rawsize; };

static bool
rva_to_off(const struct sect *s, unsigned ns, uint32_t rva, uint32_t *off)
{
	for (unsigned i = 0; i < ns; i++) {
		uint32_t size = s[i].vsize > s[i].rawsize ? s[i].vsize : s[i].rawsize;
		if (rva >= s[i].va && rva - s[i].va < size) {
			*off = s[i].raw + (rva - s[i].va);
			return true;
		}
	}
	return false;
}

/* Find the data of resource type 16 (first name, first language). */
static bool
find_version(const uint8_t *pe, size_t len, size_t *off, size_t *size)
{
	if (len < 0x40 || pe[0] != 'M' || pe[1] != 'Z')
		return false;
	uint32_t nt = fmt_le32(pe + 0x3C);
	if ((size_t)nt + 24 > len || memcmp(pe + nt, "PE\0\0", 4))
		return false;
	unsigned nsec = fmt_le16(pe + nt + 6);
	uint32_t optsz = fmt_le16(pe + nt + 20);
	size_t opt = (size_t)nt + 24;
	if (opt + optsz > len || optsz < 2)
		return false;
	uint32_t magic = fmt_le16(pe + opt);
	size_t dd = opt + (magic == 0x20b ? 112 : 96);
	if (dd + 3 * 8 > opt + optsz)
		return false;
	uint32_t res_rva = fmt_le32(pe + dd + 16);
	size_t st = opt + optsz;
	if (nsec > 96 || st + (size_t)nsec * 40 > len)
		return false;
	struct sect s[96];
	for (unsigned i = 0; i < nsec; i++) {
		const uint8_t *e = pe + st + i * 40;
		s[i] = (struct sect){ fmt_le32(e + 12), fmt_le32(e + 8), fmt_le32(e + 20), fmt_le32(e + 16) };
	}
	uint32_t base;
	if (!res_rva || !rva_to_off(s, nsec, res_rva, &base) || base >= len)
		return false;
	/* three levels: type, name, language */
	uint32_t dir = 0;
	for (int level = 0; level < 3; level++) {
		size_t d = (size_t)base + dir;
		if (d + 16 > len)
			return false;
		unsigned n = fmt_le16(pe + d + 12) + fmt_le16(pe + d + 14);
		bool found = false;
		for (unsigned i = 0; i < n && i < 4096; i++) {
			size_t e = d + 16 + (size_t)i * 8;
			if (e + 8 > len)
				return false;
			uint32_t id = fmt_le32(pe + e), to = fmt_le32(pe + e + 4);
			if (level == 0 && ((id & 0x80000000u) || id != 16))
				continue;
			if (level < 2) {
				if (!(to & 0x80000000u))
					return false;
				dir = to & 0x7FFFFFFFu;
			} else {
				if (to & 0x80000000u)
					return false;
				size_t de = (size_t)base + to;
				if (de + 16 > len)
					return false;
				uint32_t drva = fmt_le32(pe + de), dsize = fmt_le32(pe + de + 4);
				uint32_t doff;
				if (!rva_to_off(s, nsec, drva, &doff) || (size_t)doff + dsize > len)
					return false;
				*off = doff;
				*size = dsize;
			}
			found = true;
			break;
		}
		if (!found)
			return false;
	}
	return true;
}

struct blk {
	size_t start, end;      /* whole block */
	size_t key;             /* offset of the UTF-16 key */
	size_t value, vlen;     /* value bytes */
	size_t children;
	uint32_t type;
};

static bool
parse_blk(const uint8_t *p, size_t at, size_t limit, struct blk *b)
{
	if (at + 6 > limit)
		return false;
	uint32_t length = fmt_le16(p + at), vlen = fmt_le16(p + at + 2), type = fmt_le16(p + at + 4);
	if (length < 6 || at + length > limit)
		return false;
	b->start = at;
	b->end = at + length;
	b->type = type;
	b->key = at + 6;
	size_t k = b->key;
	while (k + 1 < b->end && (p[k] || p[k + 1]))
		k += 2;
	k += 2;
	k = (k + 3) & ~(size_t)3;
	b->value = k;
	b->vlen = type == 1 ? vlen * 2 : vlen;   /* text values count WCHARs */
	if (b->value + b->vlen > b->end)
		b->vlen = b->value < b->end ? b->end - b->value : 0;
	b->children = (b->value + b->vlen + 3) & ~(size_t)3;
	return true;
}

static bool
key_is(const uint8_t *p, size_t at, size_t end, const char *s)
{
	for (; *s; s++, at += 2) {
		if (at + 1 >= end)
			return false;
		uint32_t c = fmt_le16(p + at);
		uint32_t a = (unsigned char)*s;
		if (c != a && !(c < 128 && a < 128 && (c | 32) == (a | 32) && ((a | 32) >= 'a' && (a | 32) <= 'z')))
			return false;
	}
	return at + 1 < end && fmt_le16(p + at) == 0;
}

/* "6, 0, 2, 1" -> "6.0.2.1", without surrounding white space; NULL when
 * nothing is left (or memory fails). */
static char *
tidy_version(char *v)
{
	size_t o = 0;
	for (size_t i = 0; v[i]; i++) {
		if (v[i] == ',' && v[i + 1] == ' ') {
			v[o++] = '.';
			i++;
		} else {
			v[o++] = v[i];
		}
	}
	while (o && isspace((unsigned char)v[o - 1]))
		o--;
	v[o] = '\0';
	size_t lead = 0;
	while (isspace((unsigned char)v[lead]))
		lead++;
	if (!v[lead]) {
		free(v);
		return NULL;
	}
	memmove(v, v + lead, o - lead + 1);
	return v;
}

char *
fmt_pe_version_string(const uint8_t *pe, size_t len, const char *tag)
{
	size_t off, size;
	if (!pe || !tag || !find_version(pe, len, &off, &size))
		return NULL;
	const uint8_t *p = pe + off;
	struct blk root;
	if (!parse_blk(p, 0, size, &root) || !key_is(p, root.key, root.end, "VS_VERSION_INFO"))
		return NULL;
	for (size_t c = root.children; c < root.end;) {
		struct blk sfi;
		if (!parse_blk(p, c, root.end, &sfi))
			break;
		if (key_is(p, sfi.key, sfi.end, "StringFileInfo")) {
			for (size_t t = sfi.children; t < sfi.end;) {
				struct blk tab;
				if (!parse_blk(p, t, sfi.end, &tab))
					break;
				for (size_t s = tab.children; s < tab.end;) {
					struct blk str;
					if (!parse_blk(p, s, tab.end, &str))
						break;
					if (key_is(p, str.key, str.end, tag) && str.vlen) {
						char *v = fmt_utf16le_to_utf8(p + str.value, str.vlen);
						if (v && (v = tidy_version(v)))
							return v;
					}
					s = (str.end + 3) & ~(size_t)3;
				}
				t = (tab.end + 3) & ~(size_t)3;
			}
		}
		c = (sfi.end + 3) & ~(size_t)3;
	}
	/* The fixed info, for the two numeric tags. */
	bool fv = !strcasecmp(tag, "FileVersion"), pv = !strcasecmp(tag, "ProductVersion");
	if ((fv || pv) && root.vlen >= 52 && fmt_le32(p + root.value) == 0xFEEF04BDu) {
		uint32_t ms = fmt_le32(p + root.value + (fv ? 8 : 16));
		uint32_t ls = fmt_le32(p + root.value + (fv ? 12 : 20));
		char *v = malloc(24);
		if (v)
			snprintf(v, 24, "%u.%u.%u.%u", ms >> 16, ms & 0xFFFF, ls >> 16, ls & 0xFFFF);
		return v;
	}
	return NULL;
}
