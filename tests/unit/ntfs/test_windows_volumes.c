/*
 * Volumes written by Windows itself (../shared/ntfs, when present): they open
 * and walk without a single unreadable entry, and what we read agrees with
 * the ntfs-3g driver.  The images are unpacked once into build/.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "ntfs/ntfs.h"
#include "tests/unit/ntfs/helpers.h"

/* Unpack shared/ntfs/@packed into the cache with @how; returns the path. */
static char *
unpacked(const char *packed, const char *name, const char *how)
{
	char *src = shared_path(packed), *cache, *out;
	if (!src)
		cr_skip_test("../shared/%s is not here (only developers' machines have it)", packed);
	const char *fx = getenv("WS_FIXTURES");
	cr_assert(asprintf(&cache, "%s/../windows-volumes", fx ? fx : "build/fixtures") > 0);
	cr_assert(asprintf(&out, "%s/%s", cache, name) > 0);
	if (access(out, R_OK) != 0) {
		/* Unpack beside, then rename: parallel tests never see half a file. */
		cr_assert_eq(sh("mkdir -p '%s' && SRC='%s' OUT='%s.$$' && %s && mv \"$OUT\" '%s'",
				cache, src, out, how, out), 0, "unpacking %s", packed);
	}
	free(src);
	free(cache);
	return out;
}

struct tally {
	unsigned long entries, errors, streams;
	char first_error[512];
};

static int
count(const struct nv_entry *e, void *ctx)
{
	struct tally *t = ctx;
	if (!e->inode) {
		if (!t->errors++)
			snprintf(t->first_error, sizeof(t->first_error), "%s: %s", e->path, e->error);
		return NV_WALK_CONTINUE;
	}
	t->entries++;
	t->streams += e->inode->stream_count;
	return NV_WALK_CONTINUE;
}

static struct tally
walk_all(const char *image, int partition)
{
	struct nv_open_options o = { .partition = partition };
	struct nv_volume *v;
	struct tally t = { 0 };
	cr_assert_eq(nv_open(image, &o, &v), NV_OK, "%s", nv_last_error());
	cr_assert_eq(nv_walk(v, "", count, &t), NV_OK, "%s", nv_last_error());
	cr_assert_eq(t.errors, 0, "%lu unreadable entries, first: %s", t.errors, t.first_error);
	cr_assert_eq(nv_close(v), NV_OK);
	return t;
}

static uint8_t *
read_stream(struct nv_volume *v, const char *path, const char *stream, size_t *len)
{
	uint64_t mref;
	struct nv_reader *r;
	size_t got;
	cr_assert_eq(nv_lookup(v, path, &mref), NV_OK, "%s", nv_last_error());
	cr_assert_eq(nv_reader_open(v, mref, stream, &r), NV_OK, "%s", nv_last_error());
	*len = (size_t)nv_reader_size(r);
	uint8_t *buf = malloc(*len + 1);
	cr_assert_eq(nv_reader_pread(r, buf, *len, 0, &got), NV_OK, "%s", nv_last_error());
	cr_assert_eq(got, *len);
	nv_reader_close(r);
	return buf;
}

Test(windows_volumes, charlie_named_streams, .timeout = 120)
{
	char *img = unpacked("ntfs/charlie.dd.bz2", "charlie.dd", "bzcat \"$SRC\" > \"$OUT\"");
	struct tally t = walk_all(img, 0);
	cr_assert_geq(t.entries, 2);
	struct nv_volume *v;
	struct nv_inode *in;
	uint64_t mref;
	cr_assert_eq(nv_open(img, NULL, &v), NV_OK, "%s", nv_last_error());
	cr_assert_eq(nv_lookup(v, "Nine.txt", &mref), NV_OK);
	cr_assert_eq(nv_stat(v, mref, &in), NV_OK);
	cr_assert_eq(in->stream_count, 3, "Nine.txt has three named streams");
	const char *names[] = { "111", "222", "333" };
	char *dir = scratch_dir(), mnt[4200];
	snprintf(mnt, sizeof(mnt), "%s/mnt", dir);
	fuse_mount(img, mnt, true);
	for (int i = 0; i < 3; i++) {
		size_t len, flen;
		char attr[16], file[4300];
		uint8_t *ours = read_stream(v, "Nine.txt", names[i], &len);
		snprintf(attr, sizeof(attr), "user.%s", names[i]);
		snprintf(file, sizeof(file), "%s/Nine.txt", mnt);
		uint8_t *theirs = fuse_xattr(file, attr, &flen);
		cr_assert_not_null(theirs);
		cr_assert_eq(len, flen, "stream %s: %zu vs %zu bytes", names[i], len, flen);
		cr_assert_arr_eq(ours, theirs, len, "stream %s differs", names[i]);
		free(ours);
		free(theirs);
	}
	fuse_umount(mnt);
	scratch_done(dir);
	nv_inode_free(in);
	nv_close(v);
	free(img);
}

Test(windows_volumes, ramslack_compressed_files_read_like_the_driver, .timeout = 180)
{
	char *img = unpacked("ntfs/ntfs-ramslack.raw.gz", "ramslack.raw", "zcat \"$SRC\" > \"$OUT\"");
	struct tally t = walk_all(img, 0);
	cr_assert_geq(t.entries, 4);
	struct nv_volume *v;
	struct nv_volume_info info;
	uint64_t mref;
	struct nv_inode *in;
	cr_assert_eq(nv_open(img, NULL, &v), NV_OK, "%s", nv_last_error());
	nv_volume_info(v, &info);
	cr_assert_eq(info.partition, 1);
	cr_assert_eq(nv_lookup(v, "1.txt", &mref), NV_OK);
	cr_assert_eq(nv_stat(v, mref, &in), NV_OK);
	cr_assert(in->kind & NV_IS_COMPRESSED, "1.txt is LZNT1-compressed on this volume");
	nv_inode_free(in);
	char *dir = scratch_dir(), mnt[4200];
	snprintf(mnt, sizeof(mnt), "%s/mnt", dir);
	/* The driver cannot open a partition inside a disk image: give it a copy. */
	char part[4300];
	snprintf(part, sizeof(part), "%s/partition.raw", dir);
	cr_assert_eq(sh("dd if='%s' of='%s' bs=64K skip=%llu conv=sparse status=none", img, part,
			(unsigned long long)(info.offset / 65536)), 0);
	fuse_mount(part, mnt, true);
	const char *files[] = { "1.txt", "os_version.txt" };
	for (int i = 0; i < 2; i++) {
		size_t len, flen;
		uint8_t *ours = read_stream(v, files[i], NULL, &len);
		uint8_t *theirs = sh_output(&flen, "cat '%s/%s'", mnt, files[i]);
		cr_assert_eq(len, flen);
		cr_assert_gt(len, 0);
		cr_assert_arr_eq(ours, theirs, len, "%s differs from the driver's reading", files[i]);
		free(ours);
		free(theirs);
	}
	fuse_umount(mnt);
	scratch_done(dir);
	nv_close(v);
	free(img);
}

Test(windows_volumes, lastaccess_and_big_sparse_disks_walk_cleanly, .timeout = 300)
{
	char *img = unpacked("ntfs/ntfs-lastaccess.raw.gz", "lastaccess.raw", "zcat \"$SRC\" > \"$OUT\"");
	walk_all(img, 0);
	free(img);
	img = unpacked("ntfs/ntfs.tgz", "ntfs.raw",
		       "mkdir -p \"$OUT.d\" && tar --sparse -xzf \"$SRC\" -C \"$OUT.d\" && "
		       "mv \"$OUT.d\"/$(ls \"$OUT.d\" | head -n1) \"$OUT\" && rmdir \"$OUT.d\"");
	struct tally t = walk_all(img, 0);
	cr_assert_gt(t.entries, 0);
	free(img);
}

Test(windows_volumes, vss_volume_from_windows_7, .timeout = 120)
{
	if (sh("command -v qemu-img >/dev/null") != 0)
		cr_skip_test("qemu-img (qemu-utils) is not installed");
	char *img = unpacked("ntfs/vsstest.qcow2", "vsstest.raw",
			     "qemu-img convert -O raw \"$SRC\" \"$OUT\"");
	struct tally t = walk_all(img, 0);
	cr_assert_gt(t.entries, 0);
	free(img);
}
