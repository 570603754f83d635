/*
 * UTF-16 <-> UTF-8 for NTFS names, registry strings and PE version strings:
 * the one conversion every module uses.  Our own, not the C locale's: the
 * result must not depend on the environment a boot image runs in.
 *
 * The rule for lone surrogates (legal in NTFS names and registry strings) is
 * WTF-8: a surrogate without its partner is written as its own code point in
 * three bytes, and read back as that unit, so every UTF-16 string survives
 * the round trip.  A pair is always four bytes; a pair spelled as two
 * three-byte surrogates (CESU-8), an overlong form or any other malformed
 * UTF-8 is refused, so that one name has one spelling.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "formats/formats.h"

static bool
is_high(uint32_t u)
{
	return u >= 0xD800 && u <= 0xDBFF;
}

static bool
is_low(uint32_t u)
{
	return u >= 0xDC00 && u <= 0xDFFF;
}

static size_t
put_utf8(char *out, uint32_t c)
{
	if (c < 0x80) {
		out[0] = (char)c;
		return 1;
	}
	if (c < 0x800) {
		out[0] = (char)(0xC0 | (c >> 6));
		out[1] = (char)(0x80 | (c & 0x3F));
		return 2;
	}
	if (c < 0x10000) {
		out[0] = (char)(0xE0 | (c >> 12));
		out[1] = (char)(0x80 | ((c >> 6) & 0x3F));
		out[2] = (char)(0x80 | (c & 0x3F));
		return 3;
	}
	out[0] = (char)(0xF0 | (c >> 18));
	out[1] = (char)(0x80 | ((c >> 12) & 0x3F));
	out[2] = (char)(0x80 | ((c >> 6) & 0x3F));
	out[3] = (char)(0x80 | (c & 0x3F));
	return 4;
}

/* @n units, from host-order @units or, when it is NULL, little-endian @le. */
static char *
to_utf8(const uint16_t *units, const uint8_t *le, size_t n, bool stop_at_nul)
{
	char *out = malloc(n * 3 + 1);
	size_t o = 0;

	if (!out)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		uint32_t c = units ? units[i] : fmt_le16(le + 2 * i);
		if (!c && stop_at_nul)
			break;
		if (is_high(c) && i + 1 < n) {
			uint32_t next = units ? units[i + 1] : fmt_le16(le + 2 * i + 2);
			if (is_low(next)) {
				c = 0x10000 + ((c - 0xD800) << 10) + (next - 0xDC00);
				i++;
			}
		}
		o += put_utf8(out + o, c);
	}
	out[o] = '\0';
	return out;
}

char *
fmt_utf16_to_utf8(const uint16_t *s, size_t units)
{
	return to_utf8(s, NULL, units, false);
}

char *
fmt_utf16le_to_utf8(const uint8_t *p, size_t bytes)
{
	return to_utf8(NULL, p, bytes / 2, true);
}

/* Reads UTF-8 (WTF-8) code points from @p, @left bytes. */
struct utf8_reader {
	const unsigned char *p;
	size_t left;
	bool after_high3;   /* the last one was a high surrogate in three bytes */
};

/* The next code point in *@cp: 1; 0 at the end; -1 when malformed. */
static int
utf8_next(struct utf8_reader *r, uint32_t *cp)
{
	const unsigned char *p = r->p;
	uint32_t c;
	size_t extra;
	if (!r->left)
		return 0;
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
		return -1;
	}
	if (extra >= r->left)
		return -1;
	for (size_t k = 1; k <= extra; k++) {
		if ((p[k] & 0xC0) != 0x80)
			return -1;
		c = (c << 6) | (p[k] & 0x3F);
	}
	/* Overlong forms would give two spellings of one name. */
	if ((extra == 1 && c < 0x80) || (extra == 2 && c < 0x800) ||
	    (extra == 3 && (c < 0x10000 || c > 0x10FFFF)))
		return -1;
	/* So would a pair written as two surrogates (CESU-8). */
	if (r->after_high3 && is_low(c))
		return -1;
	r->after_high3 = is_high(c);
	r->p += extra + 1;
	r->left -= extra + 1;
	*cp = c;
	return 1;
}

bool
fmt_utf8_valid(const char *s, size_t len)
{
	struct utf8_reader r = { (const unsigned char *)s, len, false };
	uint32_t c;
	int st;
	while ((st = utf8_next(&r, &c)) > 0)
		;
	return st == 0;
}

long
fmt_utf8_to_utf16(const char *s, uint16_t **out)
{
	size_t len = strlen(s);
	uint16_t *u = malloc((len + 1) * sizeof(*u));
	struct utf8_reader r = { (const unsigned char *)s, len, false };
	size_t n = 0;
	uint32_t c;
	int st;

	*out = NULL;
	if (!u)
		return -1;
	while ((st = utf8_next(&r, &c)) > 0) {
		if (c >= 0x10000) {
			c -= 0x10000;
			u[n++] = (uint16_t)(0xD800 + (c >> 10));
			u[n++] = (uint16_t)(0xDC00 + (c & 0x3FF));
		} else {
			u[n++] = (uint16_t)c;
		}
	}
	if (st < 0) {
		free(u);
		errno = EILSEQ;
		return -1;
	}
	u[n] = 0;
	*out = u;
	return (long)n;
}

uint8_t *
fmt_utf8_to_utf16le(const char *s, size_t *bytes)
{
	uint16_t *u;
	long n = fmt_utf8_to_utf16(s, &u);
	if (n < 0)
		return NULL;
	uint8_t *out = malloc(2 * ((size_t)n + 1));
	if (!out) {
		free(u);
		errno = ENOMEM;
		return NULL;
	}
	for (long i = 0; i <= n; i++)
		fmt_put_le16(out + 2 * i, u[i]);
	free(u);
	*bytes = 2 * ((size_t)n + 1);
	return out;
}

size_t
fmt_utf16_units(const char *s, size_t len)
{
	size_t units = 0;
	for (size_t i = 0; i < len; i++)
		if (((unsigned char)s[i] & 0xC0) != 0x80)
			units += ((unsigned char)s[i] & 0xF8) == 0xF0 ? 2 : 1;
	return units;
}
