/*
 * Raw EFS: a file made encrypted through ntfs/ (raw streams, then $EFS
 * metadata) must be what the ntfs-3g driver shows in its own raw mode
 * (-o efs_raw: the raw bytes, user.ntfs.efsinfo, the ENCRYPTED attribute)
 * and in its normal mode (the real size); read back through ntfs/ raw it
 * gives the same bytes, and the normal reader refuses it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "ntfs/ntfs.h"
#include "tests/unit/ntfs/helpers.h"

static char *dir, img[4096], mnt[4096];
static struct nv_volume *v;

static void
setup(void)
{
	struct nv_open_options rw = { .read_write = true };
	dir = scratch_dir();
	snprintf(img, sizeof(img), "%s/vol.img", dir);
	snprintf(mnt, sizeof(mnt), "%s/mnt", dir);
	make_volume(img, 48);
	cr_assert_eq(nv_open(img, &rw, &v), NV_OK, "%s", nv_last_error());
}

static void
teardown(void)
{
	if (v)
		nv_close(v);
	sh("umount '%s' 2>/dev/null", mnt);
	scratch_done(dir);
}

TestSuite(ntfs_efs, .init = setup, .fini = teardown, .timeout = 120);

/* A raw stream of @n real bytes: ciphertext-like bytes in 512-byte blocks,
 * then the padding count. */
static uint8_t *
raw_stream(size_t n, unsigned seed, size_t *len)
{
	size_t blocks = (n + 511) / 512 * 512;
	uint8_t *b = malloc(blocks + 2);
	for (size_t i = 0; i < blocks; i++)
		b[i] = (uint8_t)(i * 131 + seed * 7 + 1);
	b[blocks] = (uint8_t)((blocks - n) & 0xff);
	b[blocks + 1] = (uint8_t)((blocks - n) >> 8);
	*len = blocks + 2;
	return b;
}

/* $EFS metadata: a 76-byte header whose first u32 is the total length. */
static void
efs_blob(uint8_t *b, size_t len)
{
	for (size_t i = 0; i < len; i++)
		b[i] = (uint8_t)(i * 13 + 5);
	b[0] = (uint8_t)len;
	b[1] = (uint8_t)(len >> 8);
	b[2] = b[3] = 0;
}

static uint8_t *
read_all(struct nv_reader *r, size_t chunk, size_t *len)
{
	uint64_t size = nv_reader_size(r);
	uint8_t *b = malloc(size + 1);
	size_t done = 0, got;
	while (done < size) {
		cr_assert_eq(nv_reader_pread(r, b + done, chunk, done, &got), NV_OK, "%s",
			     nv_last_error());
		cr_assert_gt(got, 0, "short read at %zu of %llu", done, (unsigned long long)size);
		done += got;
	}
	cr_assert_eq(nv_reader_pread(r, b, chunk, size, &got), NV_OK);
	cr_assert_eq(got, 0, "read past the raw end");
	*len = done;
	return b;
}

Test(ntfs_efs, raw_streams_become_an_encrypted_file_as_the_driver_sees_it)
{
	uint64_t m;
	size_t l1, l2;
	uint8_t *data = raw_stream(5000, 1, &l1), *zone = raw_stream(0, 2, &l2), blob[240];
	efs_blob(blob, sizeof(blob));
	cr_assert_eq(l1, 5122);
	cr_assert_eq(nv_create(v, NV_MREF_ROOT, "secret.docx", &m), NV_OK, "%s", nv_last_error());
	cr_assert_eq(nv_write(v, m, NULL, 0, data, l1), NV_OK, "%s", nv_last_error());
	cr_assert_eq(nv_add_stream(v, m, "Zone.Identifier"), NV_OK, "%s", nv_last_error());
	cr_assert_eq(nv_write(v, m, "Zone.Identifier", 0, zone, l2), NV_OK, "%s", nv_last_error());
	cr_assert_eq(nv_set_efs_info(v, m, blob, sizeof(blob)), NV_OK, "%s", nv_last_error());
	/* Once encrypted, a second $EFS is refused. */
	cr_assert_eq(nv_set_efs_info(v, m, blob, sizeof(blob)), NV_ERR_INVALID);
	cr_assert_eq(nv_close(v), NV_OK, "%s", nv_last_error());
	v = NULL;

	/* The driver, raw. */
	cr_assert_eq(sh("mkdir -p '%s' && ntfs-3g -o ro,efs_raw,streams_interface=xattr '%s' '%s'",
			mnt, img, mnt), 0);
	char path[8192];
	snprintf(path, sizeof(path), "%s/secret.docx", mnt);
	size_t n;
	uint8_t *got = sh_output(&n, "cat '%s'", path);
	cr_assert_eq(n, l1, "the driver reads %zu raw bytes, not %zu", n, l1);
	cr_assert_eq(memcmp(got, data, l1), 0, "the raw bytes differ");
	free(got);
	got = fuse_xattr(path, "user.ntfs.efsinfo", &n);
	cr_assert_not_null(got, "no $EFS through the driver");
	cr_assert_eq(n, sizeof(blob));
	cr_assert_eq(memcmp(got, blob, n), 0, "the $EFS metadata differs");
	free(got);
	got = fuse_xattr(path, "system.ntfs_attrib_be", &n);
	cr_assert(got && n == 4 && (got[2] & 0x40), "not FILE_ATTRIBUTE_ENCRYPTED");
	free(got);
	got = fuse_xattr(path, "user.Zone.Identifier", &n);
	cr_assert(got && n == 0, "the empty named stream is not empty raw (%zu bytes)", n);
	free(got);
	fuse_umount(mnt);

	/* The driver, normal: the real size. */
	fuse_mount(img, mnt, true);
	got = sh_output(&n, "stat -c %%s '%s'", path);
	cr_assert_eq(atol((char *)got), 5000, "the file is %s bytes, not 5000", (char *)got);
	free(got);
	fuse_umount(mnt);

	/* ntfs/: the plain reader refuses, the raw one gives the same bytes. */
	struct nv_open_options ro = { 0 };
	struct nv_reader *r;
	cr_assert_eq(nv_open(img, &ro, &v), NV_OK, "%s", nv_last_error());
	cr_assert_eq(nv_lookup(v, "secret.docx", &m), NV_OK);
	cr_assert_eq(nv_reader_open(v, m, NULL, &r), NV_ERR_UNSUPPORTED);
	cr_assert(strstr(nv_last_error(), "EFS-encrypted"), "%s", nv_last_error());
	cr_assert_eq(nv_reader_open(v, m, "Zone.Identifier", &r), NV_ERR_UNSUPPORTED);
	struct nv_inode *in;
	cr_assert_eq(nv_stat(v, m, &in), NV_OK);
	cr_assert(in->kind & NV_IS_ENCRYPTED);
	cr_assert_eq(in->size, 5000);
	nv_inode_free(in);
	size_t chunks[] = { 7, 511, 512, 5121, 1 << 20 };
	for (size_t k = 0; k < sizeof(chunks) / sizeof(*chunks); k++) {
		cr_assert_eq(nv_reader_open_raw(v, m, NULL, &r), NV_OK, "%s", nv_last_error());
		cr_assert_eq(nv_reader_size(r), l1);
		got = read_all(r, chunks[k], &n);
		cr_assert_eq(n, l1);
		cr_assert_eq(memcmp(got, data, l1), 0, "raw bytes differ reading %zu at a time", chunks[k]);
		free(got);
		nv_reader_close(r);
	}
	cr_assert_eq(nv_reader_open_raw(v, m, "Zone.Identifier", &r), NV_OK, "%s", nv_last_error());
	cr_assert_eq(nv_reader_size(r), 0, "the empty stream's raw form is not empty");
	got = read_all(r, 1, &n);
	cr_assert_eq(n, 0);
	free(got);
	nv_reader_close(r);
	uint8_t *info;
	cr_assert_eq(nv_efs_info(v, m, &info, &n), NV_OK, "%s", nv_last_error());
	cr_assert_eq(n, sizeof(blob));
	cr_assert_eq(memcmp(info, blob, n), 0);
	free(info);
	free(data);
	free(zone);
}

Test(ntfs_efs, bad_input_is_refused_with_nothing_changed)
{
	uint8_t blob[120];
	efs_blob(blob, sizeof(blob));
	cr_assert_eq(nv_efs_check_info(NULL, 0), NV_ERR_INVALID);
	cr_assert_eq(nv_efs_check_info(blob, 40), NV_ERR_INVALID);
	cr_assert(strstr(nv_last_error(), "truncated"), "%s", nv_last_error());
	cr_assert_eq(nv_efs_check_info(blob, 100), NV_ERR_INVALID); /* header says 120 */
	cr_assert_eq(nv_efs_check_info(blob, sizeof(blob)), NV_OK);

	/* A plain file: no raw form, no $EFS; and a stream not in raw form. */
	uint64_t m;
	struct nv_reader *r;
	uint8_t *info;
	size_t n;
	cr_assert_eq(nv_create(v, NV_MREF_ROOT, "plain.txt", &m), NV_OK);
	cr_assert_eq(nv_write(v, m, NULL, 0, "hello, not raw", 14), NV_OK);
	cr_assert_eq(nv_reader_open_raw(v, m, NULL, &r), NV_ERR_INVALID);
	cr_assert_eq(nv_efs_info(v, m, &info, &n), NV_ERR_NOT_FOUND);
	cr_assert_eq(nv_set_efs_info(v, m, blob, sizeof(blob)), NV_ERR_INVALID);
	cr_assert(strstr(nv_last_error(), "not a raw EFS stream"), "%s", nv_last_error());
	cr_assert_eq(nv_set_efs_info(v, m, blob, 100), NV_ERR_INVALID);
	struct nv_inode *in;
	cr_assert_eq(nv_stat(v, m, &in), NV_OK);
	cr_assert_eq(in->kind & NV_IS_ENCRYPTED, 0, "a refused $EFS left the file encrypted");
	nv_inode_free(in);
	cr_assert_eq(nv_reader_open(v, m, NULL, &r), NV_OK, "%s", nv_last_error());
	nv_reader_close(r);

	/* Read-only volumes take nothing. */
	cr_assert_eq(nv_close(v), NV_OK);
	struct nv_open_options ro = { 0 };
	cr_assert_eq(nv_open(img, &ro, &v), NV_OK);
	cr_assert_eq(nv_lookup(v, "plain.txt", &m), NV_OK);
	cr_assert_eq(nv_set_efs_info(v, m, blob, sizeof(blob)), NV_ERR_READ_ONLY);
}
