/*
 * SIDs: the binary form (revision 1, sub-authority count, 48-bit big-endian
 * identifier authority, little-endian 32-bit sub-authorities) and the text
 * form "S-1-5-21-...".  Binary SIDs come from hives and stores: every length
 * is checked.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <strings.h>

#include "formats/formats.h"

size_t
fmt_sid_len(const uint8_t *sid, size_t avail)
{
	if (!sid || avail < 8 || sid[0] != 1 || sid[1] > FMT_SID_MAX_SUBS)
		return 0;
	size_t n = 8 + 4u * sid[1];
	return n <= avail ? n : 0;
}

int
fmt_sid_from_string(const char *s, uint8_t *out, size_t outsz, size_t *len)
{
	uint64_t auth;
	uint32_t subs[FMT_SID_MAX_SUBS];
	size_t nsub = 0, need;
	char *end;

	if (!s || strncasecmp(s, "S-1-", 4))
		return -1;
	s += 4;
	/* strtoull would take a sign or leading blanks: digits only. */
	if (*s < '0' || *s > '9')
		return -1;
	errno = 0;
	auth = strtoull(s, &end, 10);
	if (errno || auth >= (1ull << 48))
		return -1;
	s = end;
	while (*s == '-') {
		unsigned long long v;
		s++;
		if (*s < '0' || *s > '9' || nsub == FMT_SID_MAX_SUBS)
			return -1;
		errno = 0;
		v = strtoull(s, &end, 10);
		if (errno || v > 0xFFFFFFFFull)
			return -1;
		subs[nsub++] = (uint32_t)v;
		s = end;
	}
	if (*s)
		return -1;
	need = 8 + 4 * nsub;
	if (len)
		*len = need;
	if (!out || outsz < need)
		return -1;
	out[0] = 1;
	out[1] = (uint8_t)nsub;
	for (int i = 0; i < 6; i++)
		out[2 + i] = (uint8_t)(auth >> (8 * (5 - i)));
	for (size_t i = 0; i < nsub; i++)
		fmt_put_le32(out + 8 + 4 * i, subs[i]);
	return 0;
}

char *
fmt_sid_to_string(const uint8_t *sid, size_t len)
{
	uint64_t auth = 0;
	size_t nsub, o;
	char *s;

	if (!fmt_sid_len(sid, len))
		return NULL;
	nsub = sid[1];
	for (int i = 0; i < 6; i++)
		auth = auth << 8 | sid[2 + i];
	/* "S-1-" + 15 digits of authority + "-" and 10 digits per sub-authority. */
	s = malloc(24 + 11 * nsub);
	if (!s)
		return NULL;
	o = (size_t)sprintf(s, "S-1-%" PRIu64, auth);
	for (size_t i = 0; i < nsub; i++)
		o += (size_t)sprintf(s + o, "-%" PRIu32, fmt_le32(sid + 8 + 4 * i));
	return s;
}
