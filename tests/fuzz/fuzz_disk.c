/*
 * libFuzzer target: the first MiB of a disk (MBR or GPT, boot sectors, the
 * start of the MFT) from untrusted bytes.  The input is written at the start
 * of a sparse 518 MiB image (the size of the fixture GPT disk, so seeds
 * taken from the fixtures describe partitions that fit), then probed with
 * nv_disk_probe and opened read-only with nv_open: the partition chosen by
 * default and each listed partition.  Opening read-only must never change a
 * byte: the image's first MiB is compared afterwards.
 */
#include "tests/fuzz/fuzz_common.h"

#include "ntfs/ntfs.h"

#define IMAGE_SIZE 543162368ull
#define DISK_INPUT_MAX (1u << 20)

static void
open_one(const char *path, int partition)
{
	struct nv_open_options o = { .read_write = false, .partition = partition };
	struct nv_volume *v = NULL;
	if (nv_open(path, &o, &v) != NV_OK)
		return;
	struct nv_volume_info info;
	nv_volume_info(v, &info);
	uint64_t mref;
	nv_lookup(v, "Windows/System32/config/SOFTWARE", &mref);
	struct nv_inode *root = NULL;
	if (nv_stat(v, NV_MREF_ROOT, &root) == NV_OK)
		nv_inode_free(root);
	nv_close(v);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *path = fz_path("disk.img");
	if (size > DISK_INPUT_MAX)
		size = DISK_INPUT_MAX;
	fz_write_file(path, data, size);
	if (truncate(path, (off_t)IMAGE_SIZE) != 0)
		abort();
	struct nv_disk *disk = NULL;
	if (nv_disk_probe(path, &disk) == NV_OK) {
		for (size_t i = 0; i < disk->count && i < 8; i++) {
			const struct nv_partition *p = &disk->parts[i];
			if (p->offset > IMAGE_SIZE || p->size > IMAGE_SIZE - p->offset)
				if (!p->problem[0])
					abort(); /* outside the disk and not said so */
			if (disk->table[0] && !p->problem[0])
				open_one(path, p->number);
		}
		nv_disk_free(disk);
	}
	open_one(path, 0);
	/* Read-only means read-only. */
	size_t got = 0;
	uint8_t *after = NULL;
	FILE *f = fopen(path, "rb");
	if (f && (after = malloc(size ? size : 1)))
		got = fread(after, 1, size, f);
	if (f)
		fclose(f);
	if (!after || got != size || memcmp(after, data, size) != 0)
		abort();
	free(after);
	return 0;
}
