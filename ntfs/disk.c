/*
 * Disks and partitions, read with libblkid: which partition table a disk has,
 * where each partition lies and which filesystem it holds.  A bare volume (an
 * image of one partition) is reported as a single partition numbered 0.
 */
#include <ctype.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <blkid/blkid.h>

#include "ntfs/internal.h"

static const struct {
	const char *guid;
	const char *name;
} gpt_types[] = {
	{ "c12a7328-f81f-11d2-ba4b-00a0c93ec93b", "EFI system" },
	{ "e3c9e316-0b5c-4db8-817d-f92df00215ae", "Microsoft reserved" },
	{ "ebd0a0a2-b9e5-4433-87c0-68b6b72699c7", "Basic data" },
	{ "de94bba4-06d1-4d40-a16a-bfd50179d6ac", "Windows recovery" },
	{ "5808c8aa-7e8f-42e0-85d2-e1e90434cfb3", "LDM metadata" },
	{ "af9b60a0-1431-4f62-bc68-3311714a69ad", "LDM data" },
	{ "0fc63daf-8483-4772-8e79-3d69d8477de4", "Linux filesystem" },
	{ "0657fd6d-a4ab-43c4-84e5-0933c84b4f4f", "Linux swap" },
};

static const char *
mbr_type_name(int type)
{
	switch (type) {
	case 0x07: return "NTFS/exFAT";
	case 0x0b: case 0x0c: return "FAT32";
	case 0x0e: case 0x06: return "FAT16";
	case 0x27: return "Windows recovery";
	case 0x05: case 0x0f: return "Extended";
	case 0x83: return "Linux";
	case 0x82: return "Linux swap";
	case 0xee: return "GPT protective";
	case 0xef: return "EFI system";
	default: return "";
	}
}

/* Copy a libblkid value, or "" when the probe found none. */
static void
lookup(blkid_probe pr, const char *key, char *out, size_t outlen)
{
	const char *value = NULL;
	out[0] = '\0';
	if (blkid_probe_lookup_value(pr, key, &value, NULL) == 0 && value)
		snprintf(out, outlen, "%s", value);
}

/* What filesystem is at [offset, offset+size) of @fd. */
static void
probe_filesystem(int fd, uint64_t offset, uint64_t size, struct nv_partition *part)
{
	blkid_probe pr = blkid_new_probe();
	char sig[8];

	if (!pr)
		return;
	if (blkid_probe_set_device(pr, fd, (blkid_loff_t)offset, (blkid_loff_t)size) == 0) {
		blkid_probe_enable_superblocks(pr, 1);
		blkid_probe_set_superblocks_flags(pr, BLKID_SUBLKS_TYPE | BLKID_SUBLKS_LABEL);
		/* Only the filesystems an administrator meets beside Windows: fewer
		 * probers read an untrusted disk (one of libblkid's overruns its
		 * stack on a crafted image: tests/fuzz/regress/fuzz_disk/). */
		static char *const known[] = { "ntfs", "vfat", "exfat", "ext2", "ext3", "ext4",
					       "xfs", "btrfs", "swap", "iso9660", "udf",
					       "BitLocker", "refs", NULL };
		blkid_probe_filter_superblocks_type(pr, BLKID_FLTR_ONLYIN, (char **)known);
		blkid_probe_enable_partitions(pr, 0);
		if (blkid_do_safeprobe(pr) == 0) {
			lookup(pr, "TYPE", part->fstype, sizeof(part->fstype));
			lookup(pr, "LABEL", part->label, sizeof(part->label));
		}
	}
	blkid_free_probe(pr);
	/* BitLocker is what administrators most need told; do not rely on the
	 * probe's version knowing it. */
	if (pread(fd, sig, sizeof(sig), (off_t)offset + 3) == (ssize_t)sizeof(sig) &&
	    !memcmp(sig, "-FVE-FS-", 8))
		snprintf(part->fstype, sizeof(part->fstype), "BitLocker");
}

static void
name_type(const char *table, struct nv_partition *p, int mbr_type)
{
	if (!strcmp(table, "gpt")) {
		char lower[40];
		size_t i;
		for (i = 0; p->type[i] && i < sizeof(lower) - 1; i++)
			lower[i] = (char)tolower((unsigned char)p->type[i]);
		lower[i] = '\0';
		for (i = 0; i < sizeof(gpt_types) / sizeof(gpt_types[0]); i++)
			if (!strcmp(lower, gpt_types[i].guid))
				snprintf(p->type_name, sizeof(p->type_name), "%s", gpt_types[i].name);
	} else {
		snprintf(p->type, sizeof(p->type), "0x%02x", mbr_type);
		snprintf(p->type_name, sizeof(p->type_name), "%s", mbr_type_name(mbr_type));
	}
}

enum nv_status
nv_disk_probe(const char *path, struct nv_disk **out)
{
	struct nv_disk *disk = calloc(1, sizeof(*disk));
	blkid_probe pr = NULL;
	enum nv_status st = NV_OK;
	struct stat sb;
	int fd;

	*out = NULL;
	if (!disk)
		return nv_fail(NV_ERR_NOMEM, "out of memory");
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		free(disk);
		return nv_fail(errno == ENOENT ? NV_ERR_NOT_FOUND : NV_ERR_IO,
			       "cannot open %s: %s", path, strerror(errno));
	}
	if (fstat(fd, &sb) < 0 || (!S_ISREG(sb.st_mode) && !S_ISBLK(sb.st_mode))) {
		st = nv_fail(NV_ERR_INVALID, "%s is neither a disk image file nor a block device",
			     path);
		goto out;
	}
	pr = blkid_new_probe();
	if (!pr || blkid_probe_set_device(pr, fd, 0, 0) != 0) {
		st = nv_fail(NV_ERR_IO, "cannot probe %s", path);
		goto out;
	}
	disk->size = (uint64_t)blkid_probe_get_size(pr);
	if (disk->size < 512) {
		st = nv_fail(NV_ERR_NOT_NTFS, "%s is %llu bytes long: too small to hold a disk or volume",
			     path, (unsigned long long)disk->size);
		goto out;
	}
	blkid_probe_enable_partitions(pr, 1);
	blkid_probe_set_partitions_flags(pr, BLKID_PARTS_ENTRY_DETAILS);
	blkid_probe_enable_superblocks(pr, 0);
	blkid_partlist list = NULL;
	if (blkid_do_safeprobe(pr) == 0)
		list = blkid_probe_get_partitions(pr);
	int n = list ? blkid_partlist_numof_partitions(list) : 0;
	if (list && n > 0) {
		blkid_parttable tab = blkid_partlist_get_table(list);
		snprintf(disk->table, sizeof(disk->table), "%s",
			 tab ? blkid_parttable_get_type(tab) : "");
		disk->parts = calloc((size_t)n, sizeof(*disk->parts));
		if (!disk->parts) {
			st = nv_fail(NV_ERR_NOMEM, "out of memory");
			goto out;
		}
		for (int i = 0; i < n; i++) {
			blkid_partition par = blkid_partlist_get_partition(list, i);
			struct nv_partition *p = &disk->parts[disk->count++];
			const char *s;
			p->number = blkid_partition_get_partno(par);
			p->offset = (uint64_t)blkid_partition_get_start(par) * 512;
			p->size = (uint64_t)blkid_partition_get_size(par) * 512;
			if ((s = blkid_partition_get_type_string(par)))
				snprintf(p->type, sizeof(p->type), "%s", s);
			if ((s = blkid_partition_get_name(par)))
				snprintf(p->name, sizeof(p->name), "%s", s);
			name_type(disk->table, p, blkid_partition_get_type(par));
			if (p->offset >= disk->size || p->size > disk->size - p->offset) {
				snprintf(p->problem, sizeof(p->problem),
					 "the partition table says it ends at byte %llu, but the disk has only %llu bytes",
					 (unsigned long long)(p->offset + p->size),
					 (unsigned long long)disk->size);
				continue;
			}
			if (!strcmp(p->type_name, "Extended"))
				continue;
			probe_filesystem(fd, p->offset, p->size, p);
		}
	} else {
		disk->parts = calloc(1, sizeof(*disk->parts));
		if (!disk->parts) {
			st = nv_fail(NV_ERR_NOMEM, "out of memory");
			goto out;
		}
		disk->count = 1;
		disk->parts[0].size = disk->size;
		probe_filesystem(fd, 0, disk->size, &disk->parts[0]);
	}
out:
	if (pr)
		blkid_free_probe(pr);
	close(fd);
	if (st != NV_OK) {
		nv_disk_free(disk);
		return st;
	}
	*out = disk;
	return NV_OK;
}

void
nv_disk_free(struct nv_disk *disk)
{
	if (!disk)
		return;
	free(disk->parts);
	free(disk);
}

enum nv_status
nv_split_target(const char *spec, char **path, int *partition)
{
	const char *colon = strrchr(spec, ':');
	size_t len = strlen(spec);

	*partition = 0;
	if (colon && colon[1] && strspn(colon + 1, "0123456789") == strlen(colon + 1) &&
	    strlen(colon + 1) < 4) {
		*partition = atoi(colon + 1);
		len = (size_t)(colon - spec);
		if (*partition == 0)
			return nv_fail(NV_ERR_INVALID,
				       "partitions are numbered from 1 (in \"%s\")", spec);
	}
	if (len == 0)
		return nv_fail(NV_ERR_INVALID, "no disk or image named in \"%s\"", spec);
	*path = strndup(spec, len);
	return *path ? NV_OK : nv_fail(NV_ERR_NOMEM, "out of memory");
}
