/*
 * Marvin32, the keyed 64-bit hash Windows uses for the hash-1/hash-2 fields
 * of new-format (HvLE) registry transaction log entries.  Written from the
 * published description of the algorithm: the seed is split into two 32-bit
 * lanes, every little-endian 32-bit word of input is added to the low lane and
 * mixed by one "block" step; the tail is padded with 0x80 and two final block
 * steps run.  The result is (high lane << 32) | low lane.
 */
#include "registry/reg_internal.h"

static inline uint32_t
rotl32(uint32_t x, unsigned r)
{
	return (x << r) | (x >> (32 - r));
}

static inline void
marvin_block(uint32_t *p0, uint32_t *p1)
{
	uint32_t a = *p0, b = *p1;

	b ^= a;
	a = rotl32(a, 20);
	a += b;
	b = rotl32(b, 9);
	b ^= a;
	a = rotl32(a, 27);
	a += b;
	b = rotl32(b, 19);
	*p0 = a;
	*p1 = b;
}

uint64_t
reg_marvin32(const void *data, size_t len, uint64_t seed)
{
	const uint8_t *p = data;
	uint32_t p0 = (uint32_t)seed, p1 = (uint32_t)(seed >> 32);
	uint32_t tail;

	for (; len >= 4; p += 4, len -= 4) {
		p0 += fmt_le32(p);
		marvin_block(&p0, &p1);
	}
	switch (len) {
	case 0:
		tail = 0x80;
		break;
	case 1:
		tail = 0x8000u | p[0];
		break;
	case 2:
		tail = 0x800000u | p[0] | (uint32_t)p[1] << 8;
		break;
	default:
		tail = 0x80000000u | p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16;
		break;
	}
	p0 += tail;
	marvin_block(&p0, &p1);
	marvin_block(&p0, &p1);
	return (uint64_t)p1 << 32 | p0;
}
