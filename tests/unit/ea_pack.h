/*
 * Shared by the ntfs and store unit tests: one packed EA entry as Windows and
 * libntfs-3g lay them out (FILE_FULL_EA_INFORMATION: u32 next-entry offset =
 * its own 4-byte aligned length, u8 flags, u8 name length, u16 value length,
 * name, NUL, value).  Returns the bytes written at @p.
 */
#ifndef WINSTATE_TESTS_EA_PACK_H
#define WINSTATE_TESTS_EA_PACK_H

#include <stdint.h>
#include <string.h>

static inline size_t
ea_pack_entry(uint8_t *p, const char *name, const void *value, size_t vlen, uint8_t flags)
{
	size_t n = strlen(name), len = (8 + n + 1 + vlen + 3) & ~(size_t)3;
	memset(p, 0, len);
	p[0] = (uint8_t)len;
	p[1] = (uint8_t)(len >> 8);
	p[4] = flags;
	p[5] = (uint8_t)n;
	p[6] = (uint8_t)vlen;
	p[7] = (uint8_t)(vlen >> 8);
	memcpy(p + 8, name, n);
	memcpy(p + 8 + n + 1, value, vlen);
	return len;
}

#endif
