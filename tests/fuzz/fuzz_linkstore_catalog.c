/*
 * libFuzzer target: a hard-link store's catalog (/hardlink /nocompress).
 * Its reader differs from a directory store's: the catalog is read from the
 * NTFS volume (st_reader_open_ntfs, store/linkstore.c), its records name MFT
 * records, and streams are read from the files the links name.  At start-up
 * the harness makes an 8 MiB NTFS image holding three files and a hard-link
 * store of them (linkstore_fixture.h); each input replaces MigStore/catalog
 * on that volume (its trailing BLAKE2b-256 recomputed, as in
 * fuzz_store_catalog), then the store is opened, listed, read, verified and
 * extracted.
 */
#include <sodium.h>

#include "tests/fuzz/linkstore_fixture.h"

static struct nv_volume *vol;
static uint64_t catalog_mref;

int LLVMFuzzerInitialize(int *argc, char ***argv);
int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	vol = fz_make_linkstore(fz_path("volume.img"));
	if (!vol || nv_lookup(vol, "MigStore/catalog", &catalog_mref) != NV_OK)
		abort();
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
	if (nv_truncate(vol, catalog_mref, NULL, 0) != NV_OK ||
	    (size && nv_write(vol, catalog_mref, NULL, 0, copy, size) != NV_OK))
		abort(); /* the fixture volume itself failed: not the input's doing */
	free(copy);
	struct st_reader *r = NULL;
	enum st_status st = st_reader_open_ntfs(vol, "MigStore", &r);
	fz_touch(st_last_error());
	if (st == ST_OK) {
		const char *out = fz_path("extract");
		fz_exercise_reader(r, out);
		fz_rmtree(out);
	}
	return 0;
}
