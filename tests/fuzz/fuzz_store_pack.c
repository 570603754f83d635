/*
 * libFuzzer target: a compressed store (USMT.MIG) from untrusted bytes.
 *
 * The input is the whole USMT.MIG file.  Before opening it, the harness
 * recomputes the checksums a random mutation would break at once (the
 * header's BLAKE2b-128, each dictionary copy's BLAKE2b-128, the catalog's
 * BLAKE2b-128 in the trailer and the trailer's own BLAKE2b-64), so the
 * fuzzer reaches the catalog parser, the dictionary, the frame table and
 * zstd frames instead of stopping at "checksum does not
 * match" (the checksum checks themselves are covered by tests/unit/store).
 * An encrypted store is opened with the fixture's raw key.
 */
#include <sodium.h>

#include "tests/fuzz/fuzz_common.h"
#include "tests/fuzz/store_fixture.h"

#define HEADER 128u

static uint64_t
le64(const uint8_t *p)
{
	uint64_t v = 0;
	for (int i = 7; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

static void
fix_checksums(uint8_t *p, size_t n)
{
	if (n >= HEADER && !memcmp(p, "WSTPACK\x1a", 8))
		crypto_generichash(p + HEADER - 16, 16, p, HEADER - 16, NULL, 0);
	/* Version 1: a 64-byte trailer; 2: 96 bytes, with the dictionary's place. */
	size_t tsize = n >= 16 && le64(p + 8) % (1ull << 32) == 1 ? 64 : 96;
	if (n >= HEADER + tsize) {
		uint8_t *t = p + n - tsize;
		if (memcmp(t, "WSTPEND\x1a", 8))
			return;
		if (tsize == 96) {
			uint64_t dl = le64(t + 72), at[2] = { le64(t + 56), le64(t + 64) };
			for (int k = 0; k < 2; k++)
				if (dl > 16 && at[k] <= n && dl <= n - at[k])
					crypto_generichash(p + at[k], 16, p + at[k] + 16, (size_t)dl - 16,
							   NULL, 0);
		}
		uint64_t off = le64(t + 16), len = le64(t + 24);
		if (off <= n && len <= n - off)
			crypto_generichash(t + 40, 16, p + off, (size_t)len, NULL, 0);
		crypto_generichash(t + tsize - 8, 8, t, tsize - 8, NULL, 0);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct st_key key;
	uint8_t *copy = malloc(size ? size : 1);
	if (!copy)
		return 0;
	memcpy(copy, data, size);
	fix_checksums(copy, size);
	const char *mig = fz_path("USMT.MIG");
	fz_write_file(mig, copy, size);
	free(copy);
	fz_store_key(&key);
	const char *out = fz_path("extract");
	fz_exercise_store(mig, &key, out);
	fz_rmtree(out);
	return 0;
}
