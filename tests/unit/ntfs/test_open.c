/*
 * Opening volumes and disks, and every way of not being a usable volume:
 * each gets its own status and a sentence that names the problem.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "ntfs/ntfs.h"
#include "tests/unit/ntfs/helpers.h"

static char *dir, vol[4096];

static void
setup(void)
{
	dir = scratch_dir();
	snprintf(vol, sizeof(vol), "%s/vol.img", dir);
	make_volume(vol, 24);
}

static void
teardown(void)
{
	scratch_done(dir);
}

TestSuite(ntfs_open, .init = setup, .fini = teardown, .timeout = 60);

static char *
variant(const char *name, const char *how)
{
	char *path;
	cr_assert(asprintf(&path, "%s/%s", dir, name) > 0);
	cr_assert_eq(sh("cp --sparse=always '%s' '%s' && %s", vol, path, how), 0, "%s", how);
	return path;
}

static void
expect_open(const char *path, bool rw, enum nv_status want, const char *words)
{
	struct nv_open_options o = { .read_write = rw };
	struct nv_volume *v = NULL;
	enum nv_status got = nv_open(path, &o, &v);
	cr_assert_eq(got, want, "%s: got %s (%s), want %s", path, nv_status_name(got), nv_last_error(),
		     nv_status_name(want));
	cr_assert_null(v);
	cr_assert(strstr(nv_last_error(), words), "message \"%s\" lacks \"%s\"", nv_last_error(),
		  words);
}

Test(ntfs_open, bare_volume_opens_and_describes_itself)
{
	struct nv_volume *v;
	struct nv_volume_info info;
	cr_assert_eq(nv_open(vol, NULL, &v), NV_OK, "%s", nv_last_error());
	nv_volume_info(v, &info);
	cr_assert_str_eq(info.label, "Test");
	cr_assert(info.read_only);
	cr_assert_eq(info.state, 0);
	cr_assert_eq(info.partition, 0);
	cr_assert_gt(info.free_bytes, 0);
	cr_assert_eq(info.major_version, 3);
	cr_assert_eq(nv_close(v), NV_OK);
}

Test(ntfs_open, truncated_image)
{
	char *p = variant("truncated.img", "true");
	sh("truncate -s 12M '%s'", p);
	expect_open(p, false, NV_ERR_CORRUPT, "truncated");
	free(p);
}

Test(ntfs_open, zeroed_boot_sector_with_intact_backup)
{
	char *p = variant("zeroboot.img", "true");
	sh("dd if=/dev/zero of='%s' bs=512 count=1 conv=notrunc 2>/dev/null", p);
	expect_open(p, false, NV_ERR_CORRUPT, "backup");
	free(p);
}

Test(ntfs_open, blank_and_random_images)
{
	char *blank, *random;
	cr_assert(asprintf(&blank, "%s/blank.img", dir) > 0);
	cr_assert(asprintf(&random, "%s/random.img", dir) > 0);
	sh("truncate -s 16M '%s'", blank);
	sh("head -c 16777216 /dev/urandom > '%s'", random);
	expect_open(blank, false, NV_ERR_UNFORMATTED, "blank");
	expect_open(random, false, NV_ERR_NOT_NTFS, "not an NTFS volume");
	free(blank);
	free(random);
}

Test(ntfs_open, bitlocker_signature)
{
	char *p = variant("bitlocker.img", "true");
	sh("printf -- '-FVE-FS-' | dd of='%s' bs=1 seek=3 conv=notrunc 2>/dev/null", p);
	expect_open(p, false, NV_ERR_BITLOCKER, "BitLocker");
	struct nv_disk *d;
	cr_assert_eq(nv_disk_probe(p, &d), NV_OK);
	cr_assert_str_eq(d->parts[0].fstype, "BitLocker");
	nv_disk_free(d);
	free(p);
}

Test(ntfs_open, missing_path_and_wrong_kind_of_file)
{
	char *missing;
	cr_assert(asprintf(&missing, "%s/none.img", dir) > 0);
	expect_open(missing, false, NV_ERR_NOT_FOUND, "none.img");
	expect_open(dir, false, NV_ERR_INVALID, "neither");
	expect_open("", false, NV_ERR_INVALID, "no disk");
	free(missing);
}

Test(ntfs_open, hibernated_volume_reads_but_refuses_writes)
{
	char mnt[4200];
	struct nv_volume *v;
	struct nv_volume_info info;
	snprintf(mnt, sizeof(mnt), "%s/mnt", dir);
	fuse_mount(vol, mnt, false);
	/* What Windows leaves after hibernation or a Fast Startup shutdown. */
	int rc = sh("{ printf HIBR; head -c 65532 /dev/zero; } > '%s/hiberfil.sys'", mnt);
	fuse_umount(mnt);
	cr_assert_eq(rc, 0);
	expect_open(vol, true, NV_ERR_HIBERNATED, "Fast Startup");
	cr_assert_eq(nv_open(vol, NULL, &v), NV_OK, "%s", nv_last_error());
	nv_volume_info(v, &info);
	cr_assert(info.state & NV_STATE_HIBERNATED);
	nv_close(v);
}

Test(ntfs_open, dirty_volume_from_the_fixtures)
{
	const char *dirty = fixture("dirty.img");
	struct nv_volume *v;
	struct nv_volume_info info;
	expect_open(dirty, true, NV_ERR_UNCLEAN, "not shut down cleanly");
	cr_assert_eq(nv_open(dirty, NULL, &v), NV_OK, "%s", nv_last_error());
	nv_volume_info(v, &info);
	cr_assert(info.state & NV_STATE_DIRTY);
	nv_close(v);
}

Test(ntfs_open, volume_in_use_by_the_driver_is_busy)
{
	char mnt[4200];
	snprintf(mnt, sizeof(mnt), "%s/mnt", dir);
	fuse_mount(vol, mnt, false);
	expect_open(vol, true, NV_ERR_BUSY, "mounted");
	fuse_umount(mnt);
}

/* An MBR disk: 1 MiB gap, then the volume as partition 1 (type 0x07). */
static char *
mbr_disk(const char *name)
{
	char *disk;
	cr_assert(asprintf(&disk, "%s/%s", dir, name) > 0);
	cr_assert_eq(sh("truncate -s 26M '%s' && printf 'label: dos\\nstart=2048, size=49152, type=7\\n' "
			"| sfdisk -q '%s' >/dev/null && dd if='%s' of='%s' bs=1M seek=1 conv=notrunc,sparse "
			"2>/dev/null", disk, disk, vol, disk), 0);
	return disk;
}

Test(ntfs_open, mbr_disk_partitions)
{
	char *disk = mbr_disk("mbr.img");
	struct nv_disk *d;
	struct nv_volume *v;
	struct nv_volume_info info;
	struct nv_open_options two = { .partition = 2 };

	cr_assert_eq(nv_disk_probe(disk, &d), NV_OK, "%s", nv_last_error());
	cr_assert_str_eq(d->table, "dos");
	cr_assert_eq(d->count, 1);
	cr_assert_eq(d->parts[0].number, 1);
	cr_assert_eq(d->parts[0].offset, 1048576);
	cr_assert_str_eq(d->parts[0].type, "0x07");
	cr_assert_str_eq(d->parts[0].fstype, "ntfs");
	cr_assert_str_eq(d->parts[0].label, "Test");
	nv_disk_free(d);
	cr_assert_eq(nv_open(disk, NULL, &v), NV_OK, "%s", nv_last_error());
	nv_volume_info(v, &info);
	cr_assert_eq(info.partition, 1);
	cr_assert_eq(info.offset, 1048576);
	nv_close(v);
	cr_assert_eq(nv_open(disk, &two, &v), NV_ERR_NOT_FOUND);
	cr_assert(strstr(nv_last_error(), "no partition 2"), "%s", nv_last_error());
	free(disk);
}

Test(ntfs_open, partition_entry_past_the_end_of_the_disk)
{
	char *disk = mbr_disk("past.img");
	/* Entry 1's sector count (offset 446+12) becomes 0x00100000 sectors: 512 MiB. */
	sh("printf '\\000\\000\\020\\000' | dd of='%s' bs=1 seek=458 conv=notrunc 2>/dev/null", disk);
	struct nv_disk *d;
	cr_assert_eq(nv_disk_probe(disk, &d), NV_OK, "%s", nv_last_error());
	cr_assert_eq(d->count, 1);
	cr_assert(strstr(d->parts[0].problem, "ends at byte"), "problem: %s", d->parts[0].problem);
	nv_disk_free(d);
	struct nv_open_options one = { .partition = 1 };
	struct nv_volume *v;
	cr_assert_eq(nv_open(disk, &one, &v), NV_ERR_PARTITION, "%s", nv_last_error());
	cr_assert(strstr(nv_last_error(), "ends at byte"));
	free(disk);
}

Test(ntfs_open, gpt_disk_like_windows_setup_makes)
{
	char *disk;
	struct nv_disk *d;
	struct nv_volume *v;
	struct nv_volume_info info;
	cr_assert(asprintf(&disk, "%s/gpt.img", dir) > 0);
	cr_assert_eq(sh("set -e; truncate -s 80M '%s';"
			"sgdisk -n1:2048:+32M -t1:EF00 -n2:0:+16M -t2:0C01 -n3:0:+24M -t3:0700 '%s' >/dev/null;"
			"truncate -s 32M '%s/esp' && mkfs.vfat -F 32 -n SYSTEM '%s/esp' >/dev/null;"
			"dd if='%s/esp' of='%s' bs=1M seek=1 conv=notrunc 2>/dev/null;"
			"dd if='%s' of='%s' bs=1M seek=49 conv=notrunc,sparse 2>/dev/null",
			disk, disk, dir, dir, dir, disk, vol, disk), 0);
	cr_assert_eq(nv_disk_probe(disk, &d), NV_OK, "%s", nv_last_error());
	cr_assert_str_eq(d->table, "gpt");
	cr_assert_eq(d->count, 3);
	cr_assert_str_eq(d->parts[0].type_name, "EFI system");
	cr_assert_str_eq(d->parts[0].fstype, "vfat");
	cr_assert_str_eq(d->parts[1].type_name, "Microsoft reserved");
	cr_assert_str_eq(d->parts[2].type_name, "Basic data");
	cr_assert_str_eq(d->parts[2].fstype, "ntfs");
	nv_disk_free(d);
	cr_assert_eq(nv_open(disk, NULL, &v), NV_OK, "the one NTFS partition is chosen: %s",
		     nv_last_error());
	nv_volume_info(v, &info);
	cr_assert_eq(info.partition, 3);
	nv_close(v);
	struct nv_open_options esp = { .partition = 1 };
	cr_assert_eq(nv_open(disk, &esp, &v), NV_ERR_NOT_NTFS, "%s", nv_last_error());
	free(disk);
}

Test(ntfs_open, disk_and_partition_names)
{
	char *path;
	int part;
	cr_assert_eq(nv_split_target("disk.img:3", &path, &part), NV_OK);
	cr_assert_str_eq(path, "disk.img");
	cr_assert_eq(part, 3);
	free(path);
	cr_assert_eq(nv_split_target("/dev/sda", &path, &part), NV_OK);
	cr_assert_str_eq(path, "/dev/sda");
	cr_assert_eq(part, 0);
	free(path);
	cr_assert_eq(nv_split_target("odd:name.img", &path, &part), NV_OK);
	cr_assert_str_eq(path, "odd:name.img");
	free(path);
	cr_assert_eq(nv_split_target("disk.img:0", &path, &part), NV_ERR_INVALID);
	cr_assert_eq(nv_split_target(":2", &path, &part), NV_ERR_INVALID);
}
