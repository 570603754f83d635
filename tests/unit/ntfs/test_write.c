/*
 * Writing through ntfs/, checked by reading back through the ntfs-3g FUSE
 * driver (getfattr, cat, stat): an independent reader.
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
	scratch_done(dir);
}

TestSuite(ntfs_write, .init = setup, .fini = teardown, .timeout = 120);

/* Close our handle and mount the image read-only through FUSE. */
static void
close_and_mount(void)
{
	cr_assert_eq(nv_close(v), NV_OK, "%s", nv_last_error());
	v = NULL;
	fuse_mount(img, mnt, true);
}

static char *
at(const char *rel)
{
	static char path[8192];
	snprintf(path, sizeof(path), "%s/%s", mnt, rel);
	return path;
}

Test(ntfs_write, folders_files_data_and_streams)
{
	uint64_t users, alice, file;
	char big[300000];
	for (size_t i = 0; i < sizeof(big); i++)
		big[i] = (char)('a' + (i * 7) % 26);
	cr_assert_eq(nv_mkdir(v, NV_MREF_ROOT, "Users", &users), NV_OK, "%s", nv_last_error());
	cr_assert_eq(nv_mkdir(v, users, "álice 日本", &alice), NV_OK, "%s", nv_last_error());
	cr_assert_eq(nv_create(v, alice, "notes.txt", &file), NV_OK, "%s", nv_last_error());
	cr_assert_eq(nv_write(v, file, NULL, 0, big, sizeof(big)), NV_OK, "%s", nv_last_error());
	cr_assert_eq(nv_write(v, file, NULL, 10, "XYZ", 3), NV_OK, "%s", nv_last_error());
	memcpy(big + 10, "XYZ", 3);
	cr_assert_eq(nv_add_stream(v, file, "Zone.Identifier"), NV_OK, "%s", nv_last_error());
	cr_assert_eq(nv_write(v, file, "Zone.Identifier", 0, "[ZoneTransfer]\r\nZoneId=3\r\n", 26),
		     NV_OK, "%s", nv_last_error());
	cr_assert_eq(nv_add_stream(v, file, "Zone.Identifier"), NV_ERR_EXISTS);
	cr_assert_eq(nv_create(v, alice, "NOTES.TXT", NULL), NV_ERR_EXISTS,
		     "names are unique regardless of case, as on Windows");
	cr_assert_eq(nv_create(v, alice, "a/b", NULL), NV_ERR_NAME);
	cr_assert_eq(nv_create(v, alice, "", NULL), NV_ERR_NAME);
	cr_assert_eq(nv_create(v, file, "inside-a-file", NULL), NV_ERR_NOT_DIR);
	close_and_mount();

	size_t len;
	uint8_t *got = sh_output(&len, "cat '%s'", at("Users/álice 日本/notes.txt"));
	cr_assert_eq(len, sizeof(big));
	cr_assert_arr_eq(got, big, len);
	free(got);
	uint8_t *zone = fuse_xattr(at("Users/álice 日本/notes.txt"), "user.Zone.Identifier", &len);
	cr_assert_not_null(zone, "the named stream is visible through FUSE");
	cr_assert_eq(len, 26);
	cr_assert_arr_eq(zone, "[ZoneTransfer]\r\nZoneId=3\r\n", 26);
	free(zone);
	fuse_umount(mnt);
}

Test(ntfs_write, hard_links_and_the_windows_limit)
{
	uint64_t d, f;
	char name[32];
	cr_assert_eq(nv_mkdir(v, NV_MREF_ROOT, "links", &d), NV_OK);
	cr_assert_eq(nv_create(v, d, "0", &f), NV_OK);
	cr_assert_eq(nv_write(v, f, NULL, 0, "shared", 6), NV_OK);
	for (int i = 1; i < 1024; i++) {
		snprintf(name, sizeof(name), "%d", i);
		cr_assert_eq(nv_link(v, f, d, name), NV_OK, "link %d: %s", i, nv_last_error());
	}
	cr_assert_eq(nv_link(v, f, d, "one-too-many"), NV_ERR_TOO_MANY_LINKS);
	cr_assert(strstr(nv_last_error(), "1024"));
	cr_assert_eq(nv_link(v, f, d, "5"), NV_ERR_EXISTS);
	cr_assert_eq(nv_link(v, d, NV_MREF_ROOT, "dirlink"), NV_ERR_INVALID,
		     "folders cannot be hard-linked");
	cr_assert_eq(nv_unlink(v, d, "1023"), NV_OK, "%s", nv_last_error());
	cr_assert_eq(nv_link(v, f, d, "again"), NV_OK, "%s", nv_last_error());
	cr_assert_eq(nv_unlink(v, d, "missing"), NV_ERR_NOT_FOUND);
	close_and_mount();
	uint8_t *out = sh_output(NULL, "stat -c '%%h %%i' '%s' '%s'", at("links/0"), at("links/again"));
	unsigned n1, i1, n2, i2;
	cr_assert_eq(sscanf((char *)out, "%u %u %u %u", &n1, &i1, &n2, &i2), 4, "%s", out);
	cr_assert_eq(n1, 1024);
	cr_assert_eq(i1, i2, "both names are one file");
	cr_assert_eq(sh("test ! -e '%s'", at("links/1023")), 0);
	free(out);
	fuse_umount(mnt);
}

Test(ntfs_write, metadata_reads_back_through_fuse)
{
	uint64_t f, d;
	/* Owner alice (S-1-5-21-1-2-3-1001), group SYSTEM, DACL: alice full control. */
	static const uint8_t sd[] = {
		1, 0, 0x04, 0x80, 20, 0, 0, 0, 48, 0, 0, 0, 0, 0, 0, 0, 60, 0, 0, 0,
		/* owner */ 1, 5, 0, 0, 0, 0, 0, 5, 21, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3, 0, 0, 0,
		0xe9, 3, 0, 0,
		/* group */ 1, 1, 0, 0, 0, 0, 0, 5, 18, 0, 0, 0,
		/* dacl */ 2, 0, 44, 0, 1, 0, 0, 0,
		0, 0, 36, 0, 0xff, 0x01, 0x1f, 0, 1, 5, 0, 0, 0, 0, 0, 5, 21, 0, 0, 0, 1, 0, 0, 0,
		2, 0, 0, 0, 3, 0, 0, 0, 0xe9, 3, 0, 0,
	};
	/* A WOF reparse point: version 1, file provider, LZX. */
	uint8_t rp[8 + 16] = { 0x17, 0, 0, 0x80, 16, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0,
			       1, 0, 0, 0, 1, 0, 0, 0 };
	const uint64_t times[4] = { 131000000000000000ULL, 132000000000000000ULL,
				    133000000000000000ULL, 133500000000000000ULL };

	cr_assert_eq(nv_mkdir(v, NV_MREF_ROOT, "meta", &d), NV_OK);
	cr_assert_eq(nv_create(v, d, "file.txt", &f), NV_OK);
	cr_assert_eq(nv_write(v, f, NULL, 0, "data", 4), NV_OK);
	cr_assert_eq(nv_set_security(v, f, sd, sizeof(sd)), NV_OK, "%s", nv_last_error());
	cr_assert_eq(nv_set_attributes(v, f, NV_ATTR_READONLY | NV_ATTR_HIDDEN | NV_ATTR_ARCHIVE),
		     NV_OK, "%s", nv_last_error());
	uint64_t w;
	cr_assert_eq(nv_create(v, d, "wof.dll", &w), NV_OK);
	cr_assert_eq(nv_set_reparse(v, w, rp, sizeof(rp)), NV_OK, "%s", nv_last_error());
	cr_assert_eq(nv_set_reparse(v, w, rp, 7), NV_ERR_INVALID);
	cr_assert_eq(nv_set_security(v, f, sd, 3), NV_ERR_INVALID);
	cr_assert_eq(nv_set_times(v, f, times), NV_OK, "%s", nv_last_error());
	close_and_mount();

	size_t len;
	uint8_t *x = fuse_xattr(at("meta/file.txt"), "system.ntfs_acl", &len);
	cr_assert_not_null(x);
	cr_assert_eq(len, sizeof(sd));
	cr_assert_arr_eq(x, sd, len);
	free(x);
	x = fuse_xattr(at("meta/file.txt"), "system.ntfs_attrib", &len);
	cr_assert_eq(len, 4);
	cr_assert_eq(x[0], NV_ATTR_READONLY | NV_ATTR_HIDDEN | NV_ATTR_ARCHIVE);
	free(x);
	x = fuse_xattr(at("meta/file.txt"), "system.ntfs_times", &len);
	cr_assert_geq(len, 32, "four times through FUSE");
	cr_assert_arr_eq(x, times, 32, "all four times, the change time too, were kept");
	free(x);
	x = fuse_xattr(at("meta/wof.dll"), "system.ntfs_reparse_data", &len);
	cr_assert_not_null(x);
	cr_assert_eq(len, sizeof(rp));
	cr_assert_arr_eq(x, rp, len);
	free(x);
	fuse_umount(mnt);
}

Test(ntfs_write, sparse_growth_keeps_a_hole)
{
	uint64_t f;
	cr_assert_eq(nv_create(v, NV_MREF_ROOT, "sparse.bin", &f), NV_OK);
	cr_assert_eq(nv_set_attributes(v, f, NV_ATTR_SPARSE | NV_ATTR_ARCHIVE), NV_OK, "%s",
		     nv_last_error());
	cr_assert_eq(nv_write(v, f, NULL, 0, "head", 4), NV_OK);
	cr_assert_eq(nv_truncate(v, f, NULL, 32 << 20), NV_OK, "%s", nv_last_error());
	cr_assert_eq(nv_write(v, f, NULL, (32 << 20) - 4, "tail", 4), NV_OK);
	close_and_mount();
	uint8_t *out = sh_output(NULL, "stat -c '%%s %%b' '%s'", at("sparse.bin"));
	unsigned long size, blocks;
	cr_assert_eq(sscanf((char *)out, "%lu %lu", &size, &blocks), 2);
	cr_assert_eq(size, 32ul << 20);
	cr_assert_lt(blocks * 512, 4ul << 20, "the middle is a hole, not 32 MiB of zeros");
	free(out);
	out = sh_output(NULL, "tail -c 4 '%s'", at("sparse.bin"));
	cr_assert_str_eq((char *)out, "tail");
	free(out);
	fuse_umount(mnt);
}

Test(ntfs_write, rename_replaces_and_refuses_folders)
{
	uint64_t d, a, b, sub;
	cr_assert_eq(nv_mkdir(v, NV_MREF_ROOT, "ren", &d), NV_OK);
	cr_assert_eq(nv_create(v, d, "catalog.partial", &a), NV_OK);
	cr_assert_eq(nv_write(v, a, NULL, 0, "new", 3), NV_OK);
	cr_assert_eq(nv_create(v, d, "catalog", &b), NV_OK);
	cr_assert_eq(nv_write(v, b, NULL, 0, "old!", 4), NV_OK);
	cr_assert_eq(nv_mkdir(v, d, "sub", &sub), NV_OK);
	cr_assert_eq(nv_rename(v, d, "catalog.partial", d, "catalog"), NV_OK, "%s", nv_last_error());
	cr_assert_eq(nv_rename(v, d, "catalog.partial", d, "x"), NV_ERR_NOT_FOUND);
	cr_assert_eq(nv_rename(v, d, "sub", d, "sub2"), NV_ERR_UNSUPPORTED);
	/* Names are found as Windows finds them, and removed by their stored spelling. */
	uint64_t mixed;
	cr_assert_eq(nv_create(v, d, "Mixed.TXT", &mixed), NV_OK);
	cr_assert_eq(nv_unlink(v, d, "mixed.txt"), NV_OK, "%s", nv_last_error());
	cr_assert_eq(nv_rename(v, d, "CATALOG", d, "catalog2"), NV_OK, "%s", nv_last_error());
	cr_assert_eq(nv_rename(v, d, "catalog2", d, "catalog"), NV_OK, "%s", nv_last_error());
	close_and_mount();
	uint8_t *out = sh_output(NULL, "cd '%s' && cat catalog && ls", at("ren"));
	cr_assert_str_eq((char *)out, "newcatalog\nsub\n");
	free(out);
	fuse_umount(mnt);
}

Test(ntfs_write, lznt1_compression_reads_back_through_fuse)
{
	uint64_t f, full, d;
	static char text[300000];
	for (size_t i = 0; i < sizeof(text); i++)
		text[i] = "log line: service started, all good\n"[i % 36];
	cr_assert_eq(nv_create(v, NV_MREF_ROOT, "app.log", &f), NV_OK);
	cr_assert_eq(nv_set_compressed(v, f), NV_OK, "%s", nv_last_error());
	/* Pieces that do not fall on 64 KiB compression units, each its own call
	 * (every call closes the attribute, compressing its last unit). */
	size_t cuts[] = { 0, 70000, 170001, 300000 };
	for (int i = 0; i < 3; i++)
		cr_assert_eq(nv_write(v, f, NULL, cuts[i], text + cuts[i], cuts[i + 1] - cuts[i]), NV_OK,
			     "%s", nv_last_error());
	cr_assert_eq(nv_set_attributes(v, f, NV_ATTR_ARCHIVE), NV_OK, "%s", nv_last_error());
	/* Only a new, empty file; never a folder. */
	cr_assert_eq(nv_create(v, NV_MREF_ROOT, "full.txt", &full), NV_OK);
	cr_assert_eq(nv_write(v, full, NULL, 0, "data", 4), NV_OK);
	cr_assert_eq(nv_set_compressed(v, full), NV_ERR_INVALID);
	cr_assert_eq(nv_mkdir(v, NV_MREF_ROOT, "dir", &d), NV_OK);
	cr_assert_eq(nv_set_compressed(v, d), NV_ERR_INVALID);
	close_and_mount();

	size_t len;
	uint8_t *x = fuse_xattr(at("app.log"), "system.ntfs_attrib", &len);
	cr_assert_not_null(x);
	cr_assert_eq(x[1] & 0x08, 0x08, "FILE_ATTRIBUTE_COMPRESSED (0x800) is set, the attribute "
		     "setting did not clear it");
	cr_assert_eq(x[0] & 0x20, 0x20, "ARCHIVE");
	free(x);
	uint8_t *out = sh_output(&len, "cat '%s'", at("app.log"));
	cr_assert_eq(len, sizeof(text));
	cr_assert_arr_eq(out, text, len, "the driver decompresses what was written");
	free(out);
	out = sh_output(NULL, "stat -c '%%s %%b' '%s'", at("app.log"));
	unsigned long size, blocks;
	cr_assert_eq(sscanf((char *)out, "%lu %lu", &size, &blocks), 2);
	cr_assert_lt(blocks * 512, size / 4, "%lu blocks: the data is really compressed", blocks);
	free(out);
	x = fuse_xattr(at("full.txt"), "system.ntfs_attrib", &len);
	cr_assert_eq(x[1] & 0x08, 0, "a refused file stays uncompressed");
	free(x);
	fuse_umount(mnt);
}

Test(ntfs_write, lookups_in_a_folder_fold_case_and_follow_changes)
{
	uint64_t d, a, b, m;
	char name[32];
	cr_assert_eq(nv_mkdir(v, NV_MREF_ROOT, "many", &d), NV_OK);
	for (int i = 0; i < 300; i++) {
		snprintf(name, sizeof(name), "File-%03d.TXT", i);
		cr_assert_eq(nv_create(v, d, name, NULL), NV_OK, "%s", nv_last_error());
	}
	cr_assert_eq(nv_create(v, d, "Report.docx", &a), NV_OK);
	/* ntfs-3g's names are POSIX names, matched exactly by the index: the
	 * other spellings are found by the folder scan, then from its cache. */
	cr_assert_eq(nv_lookup_in(v, d, "report.DOCX", &m), NV_OK, "%s", nv_last_error());
	cr_assert_eq(m, a);
	cr_assert_eq(nv_create(v, d, "REPORT.docx", NULL), NV_ERR_EXISTS);
	cr_assert_eq(nv_lookup_in(v, d, "file-123.txt", &m), NV_OK);
	cr_assert_eq(nv_lookup_in(v, d, "missing.txt", &m), NV_ERR_NOT_FOUND);
	/* What we add, link and remove is seen by the next lookup. */
	cr_assert_eq(nv_create(v, d, "new.txt", &b), NV_OK);
	cr_assert_eq(nv_lookup_in(v, d, "NEW.TXT", &m), NV_OK, "a name created after the scan");
	cr_assert_eq(m, b);
	cr_assert_eq(nv_link(v, b, d, "Second Name.txt"), NV_OK);
	cr_assert_eq(nv_link(v, b, d, "second name.TXT"), NV_ERR_EXISTS);
	cr_assert_eq(nv_unlink(v, d, "NEW.txt"), NV_OK, "%s", nv_last_error());
	cr_assert_eq(nv_lookup_in(v, d, "new.txt", &m), NV_ERR_NOT_FOUND, "a removed name is gone");
	cr_assert_eq(nv_create(v, d, "new.txt", NULL), NV_OK, "and can be made again");
	cr_assert_eq(nv_lookup_in(v, d, "second NAME.txt", &m), NV_OK);
	cr_assert_eq(m, b);
	/* Bad input. */
	cr_assert_eq(nv_lookup_in(v, a, "x", &m), NV_ERR_NOT_DIR);
	cr_assert_eq(nv_lookup_in(v, d, "a/b", &m), NV_ERR_NAME);
	close_and_mount();
	cr_assert_eq(sh("test -f '%s'", at("many/new.txt")), 0);
	cr_assert_eq(sh("test -f '%s'", at("many/Second Name.txt")), 0);
	uint8_t *out = sh_output(NULL, "ls '%s' | wc -l", at("many"));
	cr_assert_eq(atoi((char *)out), 303, "300 + Report.docx + new.txt + Second Name.txt: %s", out);
	free(out);
	fuse_umount(mnt);
}

Test(ntfs_write, held_records_are_written_once_and_right)
{
	/* Two descriptors, owner alice or bob (S-1-5-21-1-2-3-1001 / 1002). */
	uint8_t sd_a[] = {
		1, 0, 0x04, 0x80, 20, 0, 0, 0, 48, 0, 0, 0, 0, 0, 0, 0, 60, 0, 0, 0,
		1, 5, 0, 0, 0, 0, 0, 5, 21, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3, 0, 0, 0, 0xe9, 3, 0, 0,
		1, 1, 0, 0, 0, 0, 0, 5, 18, 0, 0, 0,
		2, 0, 44, 0, 1, 0, 0, 0,
		0, 0, 36, 0, 0xff, 0x01, 0x1f, 0, 1, 5, 0, 0, 0, 0, 0, 5, 21, 0, 0, 0, 1, 0, 0, 0,
		2, 0, 0, 0, 3, 0, 0, 0, 0xe9, 3, 0, 0,
	};
	uint8_t sd_b[sizeof(sd_a)];
	memcpy(sd_b, sd_a, sizeof(sd_a));
	sd_b[44] = 0xea; /* owner RID 1002 */
	const uint64_t times[4] = { 131000000000000000ULL, 132000000000000000ULL,
				    133000000000000000ULL, 133500000000000000ULL };
	uint64_t d, f[4];
	char name[16];
	cr_assert_eq(nv_mkdir(v, NV_MREF_ROOT, "held", &d), NV_OK);
	for (int i = 0; i < 4; i++) {
		snprintf(name, sizeof(name), "f%d", i);
		cr_assert_eq(nv_create(v, d, name, &f[i]), NV_OK);
		cr_assert_eq(nv_write(v, f[i], NULL, 0, "data", 4), NV_OK);
	}
	/* Held: a link and every piece of metadata, one write-back at release. */
	cr_assert_eq(nv_hold(v, f[0]), NV_OK);
	cr_assert_eq(nv_link(v, f[0], NV_MREF_ROOT, "f0-link"), NV_OK, "%s", nv_last_error());
	cr_assert_eq(nv_unlink(v, d, "f0"), NV_ERR_BUSY, "a held file is not removed under it");
	cr_assert_eq(nv_set_security(v, f[0], sd_a, sizeof(sd_a)), NV_OK);
	cr_assert_eq(nv_set_attributes(v, f[0], NV_ATTR_READONLY | NV_ATTR_ARCHIVE), NV_OK);
	cr_assert_eq(nv_set_times(v, f[0], times), NV_OK);
	cr_assert_eq(nv_release(v, f[0]), NV_OK, "%s", nv_last_error());
	cr_assert_eq(nv_release(v, f[0]), NV_ERR_INVALID, "released once only");
	/* The same descriptor again, another, then the first again. */
	cr_assert_eq(nv_set_security(v, f[1], sd_a, sizeof(sd_a)), NV_OK);
	cr_assert_eq(nv_set_security(v, f[2], sd_b, sizeof(sd_b)), NV_OK);
	cr_assert_eq(nv_set_security(v, f[3], sd_a, sizeof(sd_a)), NV_OK);
	cr_assert_eq(nv_set_security(v, f[3], sd_b, sizeof(sd_b)), NV_OK, "changed back");
	/* Setting what is already there changes nothing. */
	cr_assert_eq(nv_set_times(v, f[0], times), NV_OK);
	cr_assert_eq(nv_set_attributes(v, f[0], NV_ATTR_READONLY | NV_ATTR_ARCHIVE), NV_OK);
	close_and_mount();

	const uint8_t *want[] = { sd_a, sd_a, sd_b, sd_b };
	for (int i = 0; i < 4; i++) {
		char rel[32];
		size_t len;
		snprintf(rel, sizeof(rel), "held/f%d", i);
		uint8_t *x = fuse_xattr(at(rel), "system.ntfs_acl", &len);
		cr_assert_not_null(x);
		cr_assert_eq(len, sizeof(sd_a));
		cr_assert_arr_eq(x, want[i], len, "descriptor of f%d", i);
		free(x);
	}
	size_t len;
	uint8_t *x = fuse_xattr(at("f0-link"), "system.ntfs_times", &len);
	cr_assert_geq(len, 32);
	cr_assert_arr_eq(x, times, 32, "the held record's four times");
	free(x);
	x = fuse_xattr(at("held/f0"), "system.ntfs_attrib", &len);
	cr_assert_eq(x[0], NV_ATTR_READONLY | NV_ATTR_ARCHIVE);
	free(x);
	uint8_t *out = sh_output(NULL, "stat -c '%%h %%i' '%s' '%s'", at("held/f0"), at("f0-link"));
	unsigned n1, i1, n2, i2;
	cr_assert_eq(sscanf((char *)out, "%u %u %u %u", &n1, &i1, &n2, &i2), 4, "%s", out);
	cr_assert(n1 == 2 && i1 == i2, "%s", out);
	free(out);
	fuse_umount(mnt);
}

Test(ntfs_write, names_equal_but_for_case_each_find_their_own_file)
{
	/* ntfs-3g (POSIX names) lets a folder hold "Report.docx" and "report.docx". */
	cr_assert_eq(nv_close(v), NV_OK);
	v = NULL;
	fuse_mount(img, mnt, false);
	cr_assert_eq(sh("mkdir '%s' && echo upper >'%s/Report.docx' && echo lower >'%s/report.docx' && "
			"for i in $(seq 1 40); do : >'%s/f'$i; done", at("twins"), at("twins"), at("twins"),
			at("twins")), 0);
	uint8_t *ino = sh_output(NULL, "stat -c %%i '%s/Report.docx' '%s/report.docx'", at("twins"), at("twins"));
	unsigned long upper, lower;
	cr_assert_eq(sscanf((char *)ino, "%lu %lu", &upper, &lower), 2);
	free(ino);
	fuse_umount(mnt);
	struct nv_open_options rw = { .read_write = true };
	cr_assert_eq(nv_open(img, &rw, &v), NV_OK, "%s", nv_last_error());
	uint64_t d, m;
	cr_assert_eq(nv_lookup(v, "twins", &d), NV_OK);
	/* The folder's names are cached by the first lookup; both spellings still find their own. */
	cr_assert_eq(nv_lookup_in(v, d, "f7", &m), NV_OK);
	cr_assert_eq(nv_lookup_in(v, d, "report.docx", &m), NV_OK);
	cr_assert_eq(m, lower);
	cr_assert_eq(nv_lookup_in(v, d, "Report.docx", &m), NV_OK);
	cr_assert_eq(m, upper);
	cr_assert_eq(nv_lookup_in(v, d, "REPORT.DOCX", &m), NV_OK, "another spelling finds one of them");
	cr_assert(m == upper || m == lower);
	cr_assert_eq(nv_create(v, d, "REPORT.docx", NULL), NV_ERR_EXISTS);
}

/* ntfs/volume.c keeps a read cache in front of the device: what we read after
 * a write must be what we wrote (data in a cached block, index blocks that
 * change as a folder grows), and the disk must hold it all (FUSE reads it). */
static void
read_all(uint64_t file, char *buf, size_t len)
{
	struct nv_reader *r;
	size_t got = 0;
	cr_assert_eq(nv_reader_open(v, file, NULL, &r), NV_OK, "%s", nv_last_error());
	cr_assert_eq(nv_reader_pread(r, buf, len, 0, &got), NV_OK, "%s", nv_last_error());
	cr_assert_eq(got, len);
	nv_reader_close(r);
}

Test(ntfs_write, reads_after_writes_see_the_new_data)
{
	uint64_t folder, file, found;
	char small[6000], back[6000];
	for (size_t i = 0; i < sizeof(small); i++)
		small[i] = (char)('A' + i % 23);
	cr_assert_eq(nv_mkdir(v, NV_MREF_ROOT, "cache", &folder), NV_OK, "%s", nv_last_error());
	cr_assert_eq(nv_create(v, folder, "small.bin", &file), NV_OK, "%s", nv_last_error());
	cr_assert_eq(nv_write(v, file, NULL, 0, small, sizeof(small)), NV_OK, "%s", nv_last_error());
	read_all(file, back, sizeof(back));
	cr_assert_arr_eq(back, small, sizeof(small));
	/* Rewrite the middle: the block is cached now. */
	memset(small + 1000, 'z', 3000);
	cr_assert_eq(nv_write(v, file, NULL, 1000, small + 1000, 3000), NV_OK, "%s", nv_last_error());
	read_all(file, back, sizeof(back));
	cr_assert_arr_eq(back, small, sizeof(small), "a read after a write returned old data");

	/* 400 names: the folder's index grows into blocks that split while cached. */
	for (int i = 0; i < 400; i++) {
		char name[64];
		snprintf(name, sizeof(name), "entry-%03d-with-a-longer-name.txt", i);
		cr_assert_eq(nv_create(v, folder, name, NULL), NV_OK, "%s: %s", name, nv_last_error());
		if (i % 37 == 0)
			for (int j = 0; j <= i; j += 7) {
				snprintf(name, sizeof(name), "entry-%03d-with-a-longer-name.txt", j);
				cr_assert_eq(nv_lookup_in(v, folder, name, &found), NV_OK,
					     "%s not found after %d creations: %s", name, i + 1,
					     nv_last_error());
			}
	}
	close_and_mount();
	size_t len;
	uint8_t *count = sh_output(&len, "ls '%s' | wc -l", at("cache"));
	cr_assert_eq(atoi((char *)count), 401);
	free(count);
	uint8_t *got = sh_output(&len, "cat '%s'", at("cache/small.bin"));
	cr_assert_eq(len, sizeof(small));
	cr_assert_arr_eq(got, small, sizeof(small));
	free(got);
}

static int
collect_paths(const struct nv_entry *e, void *ctx)
{
	char *all = ctx;
	size_t len = strlen(all);
	snprintf(all + len, 4096 - len, "%s\n", e->path);
	return NV_WALK_CONTINUE;
}

/* A reparse buffer with @tag and a 16-byte body. */
static void
reparse_buf(uint8_t b[24], uint32_t tag)
{
	memset(b, 0, 24);
	b[0] = (uint8_t)tag, b[1] = (uint8_t)(tag >> 8), b[2] = (uint8_t)(tag >> 16),
	b[3] = (uint8_t)(tag >> 24);
	b[4] = 16;
	memcpy(b + 8, "FeRp-opaque-body", 16);
}

/* nv_walk enters a cloud folder (OneDrive) and no other reparse folder;
 * nv_remove_reparse makes a cloud file and folder plain, checked through FUSE. */
Test(ntfs_write, cloud_folders_are_walked_and_made_plain)
{
	uint64_t od, file, j, jchild, app, achild;
	uint8_t cloud_dir[24], cloud_file[24], applink[24];
	reparse_buf(cloud_dir, 0x9000701Au);
	reparse_buf(cloud_file, 0x9000601Au);
	reparse_buf(applink, 0x8000001Bu); /* IO_REPARSE_TAG_APPEXECLINK */
	cr_assert_eq(nv_mkdir(v, NV_MREF_ROOT, "OneDrive", &od), NV_OK, "%s", nv_last_error());
	cr_assert_eq(nv_create(v, od, "a.docx", &file), NV_OK, "%s", nv_last_error());
	cr_assert_eq(nv_write(v, file, NULL, 0, "hydrated data", 13), NV_OK, "%s", nv_last_error());
	cr_assert_eq(nv_mkdir(v, NV_MREF_ROOT, "J", &j), NV_OK);
	cr_assert_eq(nv_create(v, j, "behind-junction", &jchild), NV_OK);
	cr_assert_eq(nv_mkdir(v, NV_MREF_ROOT, "App", &app), NV_OK);
	cr_assert_eq(nv_create(v, app, "behind-applink", &achild), NV_OK);
	/* A junction: \??\C:\x as substitute and print name. */
	static const uint8_t jbody[] = { 0, 0, 14, 0, 16, 0, 12, 0,
		'\\', 0, '?', 0, '?', 0, '\\', 0, 'C', 0, ':', 0, 'x', 0, 0, 0,
		'C', 0, ':', 0, '\\', 0, 'x', 0, 0, 0, 0, 0 };
	uint8_t jbuf[8 + sizeof(jbody)] = { 0x03, 0, 0, 0xA0, sizeof(jbody), 0, 0, 0 };
	memcpy(jbuf + 8, jbody, sizeof(jbody));
	cr_assert_eq(nv_set_reparse(v, file, cloud_file, 24), NV_OK, "%s", nv_last_error());
	cr_assert_eq(nv_set_reparse(v, od, cloud_dir, 24), NV_OK, "%s", nv_last_error());
	cr_assert_eq(nv_set_reparse(v, j, jbuf, sizeof(jbuf)), NV_OK, "%s", nv_last_error());
	cr_assert_eq(nv_set_reparse(v, app, applink, 24), NV_OK, "%s", nv_last_error());

	char all[4096] = "";
	cr_assert_eq(nv_walk(v, "", collect_paths, all), NV_OK);
	cr_assert(strstr(all, "OneDrive/a.docx\n"), "the cloud folder is entered: %s", all);
	cr_assert(strstr(all, "J\n") && !strstr(all, "behind-junction"), "junction followed: %s", all);
	cr_assert(strstr(all, "App\n") && !strstr(all, "behind-applink"), "app link entered: %s", all);
	struct nv_inode *in;
	cr_assert_eq(nv_stat(v, od, &in), NV_OK);
	cr_assert((in->kind & NV_IS_CLOUD) && (in->kind & NV_IS_DIR));
	nv_inode_free(in);

	cr_assert_eq(nv_remove_reparse(v, file), NV_OK, "%s", nv_last_error());
	cr_assert_eq(nv_remove_reparse(v, file), NV_OK, "a plain file again: nothing to do");
	cr_assert_eq(nv_remove_reparse(v, od), NV_OK, "%s", nv_last_error());
	cr_assert_neq(nv_remove_reparse(v, 999999), NV_OK, "no such record");
	cr_assert_eq(nv_stat(v, file, &in), NV_OK);
	cr_assert_eq(in->reparse_tag, 0u);
	cr_assert_not(in->attributes & (NV_ATTR_REPARSE_POINT | NV_ATTR_PINNED | NV_ATTR_UNPINNED));
	nv_inode_free(in);
	cr_assert_eq(nv_close(v), NV_OK, "%s", nv_last_error());
	cr_assert_eq(nv_open(img, NULL, &v), NV_OK, "%s", nv_last_error());
	cr_assert_eq(nv_remove_reparse(v, NV_MREF_ROOT), NV_ERR_READ_ONLY);
	close_and_mount();

	size_t len;
	cr_assert_null(fuse_xattr(at("OneDrive"), "system.ntfs_reparse_data", &len),
		       "the folder is plain for the ntfs-3g driver");
	cr_assert_null(fuse_xattr(at("OneDrive/a.docx"), "system.ntfs_reparse_data", &len));
	uint8_t *got = sh_output(&len, "cat '%s'", at("OneDrive/a.docx"));
	cr_assert_eq(len, 13);
	cr_assert_arr_eq(got, "hydrated data", 13);
	free(got);
	uint8_t *x = fuse_xattr(at("J"), "system.ntfs_reparse_data", &len);
	cr_assert_not_null(x, "the junction is untouched");
	free(x);
	fuse_umount(mnt);
}
