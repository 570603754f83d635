/*
 * UTF-16LE <-> UTF-8 for NTFS names.  Our own conversion, not the C locale's:
 * the result must not depend on the environment a boot image runs in, and a
 * lone surrogate (legal in NTFS names) must survive the round trip, so it is
 * encoded as WTF-8 (the surrogate's code point in three bytes).
 */
#include <stdlib.h>
#include <string.h>

#include "formats/formats.h"

char *
fmt_utf16_to_utf8(const uint16_t *s, size_t units)
{
	char *out = malloc(units * 3 + 1);
	size_t o = 0;

	if (!out)
		return NULL;
	for (size_t i = 0; i < units; i++) {
		uint32_t c = s[i];
		if (c >= 0xD800 && c <= 0xDBFF && i + 1 < units && s[i + 1] >= 0xDC00 &&
		    s[i + 1] <= 0xDFFF) {
			c = 0x10000 + ((c - 0xD800) << 10) + (s[i + 1] - 0xDC00);
			i++;
		}
		if (c < 0x80) {
			out[o++] = (char)c;
		} else if (c < 0x800) {
			out[o++] = (char)(0xC0 | (c >> 6));
			out[o++] = (char)(0x80 | (c & 0x3F));
		} else if (c < 0x10000) {
			out[o++] = (char)(0xE0 | (c >> 12));
			out[o++] = (char)(0x80 | ((c >> 6) & 0x3F));
			out[o++] = (char)(0x80 | (c & 0x3F));
		} else {
			out[o++] = (char)(0xF0 | (c >> 18));
			out[o++] = (char)(0x80 | ((c >> 12) & 0x3F));
			out[o++] = (char)(0x80 | ((c >> 6) & 0x3F));
			out[o++] = (char)(0x80 | (c & 0x3F));
		}
	}
	out[o] = '\0';
	return out;
}

long
fmt_utf8_to_utf16(const char *s, uint16_t **out)
{
	size_t len = strlen(s);
	uint16_t *u = malloc((len + 1) * sizeof(*u));
	const unsigned char *p = (const unsigned char *)s;
	size_t n = 0;

	*out = NULL;
	if (!u)
		return -1;
	while (*p) {
		uint32_t c;
		int extra;
		if (p[0] < 0x80) {
			c = p[0];
			extra = 0;
		} else if ((p[0] & 0xE0) == 0xC0) {
			c = p[0] & 0x1F;
			extra = 1;
		} else if ((p[0] & 0xF0) == 0xE0) {
			c = p[0] & 0x0F;
			extra = 2;
		} else if ((p[0] & 0xF8) == 0xF0) {
			c = p[0] & 0x07;
			extra = 3;
		} else {
			goto bad;
		}
		for (int k = 1; k <= extra; k++) {
			if ((p[k] & 0xC0) != 0x80)
				goto bad;
			c = (c << 6) | (p[k] & 0x3F);
		}
		/* Overlong forms would give two spellings of one name. */
		if ((extra == 1 && c < 0x80) || (extra == 2 && c < 0x800) ||
		    (extra == 3 && (c < 0x10000 || c > 0x10FFFF)))
			goto bad;
		p += extra + 1;
		if (c >= 0x10000) {
			c -= 0x10000;
			u[n++] = (uint16_t)(0xD800 + (c >> 10));
			u[n++] = (uint16_t)(0xDC00 + (c & 0x3FF));
		} else {
			u[n++] = (uint16_t)c;
		}
	}
	u[n] = 0;
	*out = u;
	return (long)n;
bad:
	free(u);
	return -1;
}
