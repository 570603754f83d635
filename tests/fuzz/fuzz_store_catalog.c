/*
 * libFuzzer target: a directory store (/nocompress) whose catalog is the
 * input.  At start-up the harness writes the fixture store (store_fixture.h)
 * in its scratch folder; each input replaces STORE/catalog, so catalog
 * records that name the fixture's files reach real data, and every other
 * path, link, stream and count in the catalog is the fuzzer's.  The
 * catalog's trailing BLAKE2b-256 is recomputed (a mutation would otherwise
 * only ever test the checksum).
 */
#include <sodium.h>

#include "tests/fuzz/fuzz_common.h"
#include "tests/fuzz/store_fixture.h"

static const char *store_dir;

int LLVMFuzzerInitialize(int *argc, char ***argv);
int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	static char path[PATH_MAX];
	snprintf(path, sizeof(path), "%s", fz_path("store"));
	if (fz_make_store(path, ST_FORMAT_DIRECTORY, NULL, 200000) != ST_OK) {
		fprintf(stderr, "fuzz_store_catalog: cannot write the fixture store: %s\n",
			st_last_error());
		abort();
	}
	store_dir = path;
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *copy = malloc(size ? size : 1);
	if (!copy)
		return 0;
	memcpy(copy, data, size);
	if (size >= 32)
		crypto_generichash(copy + size - 32, 32, copy, size - 32, NULL, 0);
	char catalog[PATH_MAX];
	snprintf(catalog, sizeof(catalog), "%s/catalog", store_dir);
	fz_write_file(catalog, copy, size);
	free(copy);
	const char *out = fz_path("extract");
	fz_exercise_store(store_dir, NULL, out);
	fz_rmtree(out);
	return 0;
}
