/*
 * The hard-link store on a real NTFS image: made with mkntfs and populated
 * through the ntfs-3g FUSE driver, linked through ntfs/, then checked again
 * through FUSE (link counts, inode numbers, attributes, security descriptor).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "store/internal.h"
#include "tests/unit/store/helpers.h"
#include "tests/unit/fuse_wait.h"

static char *dir, img[4200], mnt[4200];
static struct nv_volume *vol;

static void
setup(void)
{
	dir = scratch_dir();
	snprintf(img, sizeof(img), "%s/vol.img", dir);
	snprintf(mnt, sizeof(mnt), "%s/mnt", dir);
	if (sh("command -v mkntfs >/dev/null && command -v ntfs-3g >/dev/null") != 0)
		cr_assert_fail("mkntfs or ntfs-3g is missing");
	cr_assert_eq(sh("truncate -s 64M '%s' && mkntfs -q -F -f '%s' >/dev/null 2>&1", img, img), 0);
	cr_assert_eq(sh("mkdir -p '%s' && ntfs-3g -o streams_interface=xattr '%s' '%s'", mnt, img,
			mnt), 0, "ntfs-3g could not mount the image (is /dev/fuse there?)");
	cr_assert_eq(sh("cd '%s' && mkdir -p Users/alice/Documents Users/bob && "
			"printf 'hello alice' > Users/alice/Documents/a.txt && "
			"head -c 300000 /dev/urandom > Users/alice/Documents/big.bin && "
			"ln Users/alice/Documents/a.txt Users/alice/also-a.txt && "
			"printf 'zone' > Users/bob/z.txt && setfattr -n user.Zone.Identifier "
			"-v '[ZoneTransfer]' Users/bob/z.txt && printf x > Users/bob/many.txt && "
			"mkdir Users/bob/links && for i in $(seq 1 1023); do "
			"ln Users/bob/many.txt Users/bob/links/l$i; done && "
			"printf 'efs' > Users/bob/efs.txt", mnt), 0);
	cr_assert_eq(umount_and_wait(mnt), 0);
	struct nv_open_options rw = { .read_write = true };
	cr_assert_eq(nv_open(img, &rw, &vol), NV_OK, "%s", nv_last_error());
}

static void
teardown(void)
{
	if (vol)
		nv_close(vol);
	scratch_done(dir);
}

TestSuite(store_linkstore, .init = setup, .fini = teardown, .timeout = 300);

static uint64_t
mref_of(const char *path)
{
	uint64_t m;
	cr_assert_eq(nv_lookup(vol, path, &m), NV_OK, "%s: %s", path, nv_last_error());
	return m;
}

static enum st_status
capture(struct st_writer *w, const char *path, uint32_t attributes)
{
	struct st_file f = test_file(path, mref_of(path));
	f.attributes |= attributes;
	bool need = true;
	enum st_status st = st_writer_begin_file(w, &f, &need);
	if (st)
		return st;
	cr_assert(!need, "a hard-link store needs no data");
	return st_writer_end_file(w);
}

Test(store_linkstore, links_catalog_attributes_and_refusals)
{
	struct st_create_options o = { .format = ST_FORMAT_HARDLINK, .path = "USMTMIG",
				       .volume = vol, .computer = "PC" };
	struct st_writer *w;
	cr_assert_eq(st_writer_create(&o, &w), ST_OK, "%s", st_last_error());
	cr_assert_eq(capture(w, "Users/alice/Documents/a.txt", 0), ST_OK, "%s", st_last_error());
	cr_assert_eq(capture(w, "Users/alice/Documents/big.bin", 0), ST_OK, "%s", st_last_error());
	cr_assert_eq(capture(w, "Users/alice/also-a.txt", 0), ST_OK, "%s", st_last_error());
	cr_assert_eq(capture(w, "Users/bob/z.txt", 0), ST_OK, "%s", st_last_error());
	cr_assert_eq(capture(w, "Users/bob/many.txt", 0), ST_ERR_REFUSED);
	cr_assert(strstr(st_last_error(), "1024"), "%s", st_last_error());
	cr_assert_eq(capture(w, "Users/bob/efs.txt", NV_ATTR_ENCRYPTED), ST_ERR_REFUSED);
	cr_assert(strstr(st_last_error(), "EFS"), "%s", st_last_error());
	struct st_skipped sk = { "Users/bob/efs.txt", NULL, "EFS" };
	cr_assert_eq(st_writer_add_skipped(w, &sk), ST_OK);
	struct st_writer_stats stats;
	st_writer_stats(w, &stats);
	cr_assert_eq(stats.files, 3);
	cr_assert_eq(stats.links, 1);
	cr_assert_eq(st_writer_put_file(w, "report.json", "{}", 2), ST_OK, "%s", st_last_error());
	cr_assert_eq(st_writer_finish(w, 0), ST_OK, "%s", st_last_error());

	/* Read back through ntfs/. */
	struct st_reader *r;
	cr_assert_eq(st_reader_open_ntfs(vol, "USMTMIG", &r), ST_OK, "%s", st_last_error());
	cr_assert_eq(st_reader_info(r)->format, ST_FORMAT_HARDLINK);
	cr_assert_eq(st_reader_file_count(r), 4);
	cr_assert_eq(st_reader_skipped_count(r), 1);
	int64_t a = st_reader_find(r, "Users/alice/Documents/a.txt");
	int64_t also = st_reader_find(r, "Users/alice/also-a.txt");
	int64_t z = st_reader_find(r, "Users/bob/z.txt");
	cr_assert(a >= 0 && also >= 0 && z >= 0);
	cr_assert_eq(st_reader_file(r, (size_t)also)->link_to, a);
	uint8_t *d;
	size_t len;
	cr_assert_eq(slurp(r, (size_t)also, 0, &d, &len), ST_OK, "%s", st_last_error());
	cr_assert(len == 11 && memcmp(d, "hello alice", 11) == 0);
	free(d);
	const struct st_file *zf = st_reader_file(r, (size_t)z);
	cr_assert_eq(zf->stream_count, 2);
	cr_assert_str_eq(zf->streams[1].name, "Zone.Identifier");
	cr_assert_eq(zf->streams[1].size, 14);
	cr_assert_eq(slurp(r, (size_t)z, 1, &d, &len), ST_OK, "%s", st_last_error());
	cr_assert(len == 14 && memcmp(d, "[ZoneTransfer]", 14) == 0);
	free(d);
	cr_assert_eq(st_reader_verify(r, NULL, NULL, NULL), ST_OK, "%s", st_last_error());
	st_reader_close(r);
	cr_assert_eq(nv_close(vol), NV_OK, "%s", nv_last_error());
	vol = NULL;

	/* And through the ntfs-3g driver: the same inodes, more links, no data copied. */
	cr_assert_eq(sh("ntfs-3g -o ro,streams_interface=xattr '%s' '%s'", img, mnt), 0);
	char *orig = sh_output("stat -c '%%h %%i' '%s/Users/alice/Documents/a.txt'", mnt);
	char *link = sh_output("stat -c '%%h %%i' '%s/USMTMIG/USMT/File/C$/Users/alice/Documents/a.txt'",
			       mnt);
	char *link2 = sh_output("stat -c '%%h %%i' '%s/USMTMIG/USMT/File/C$/Users/alice/also-a.txt'",
				mnt);
	cr_assert_str_eq(orig, link);
	cr_assert_str_eq(orig, link2);
	cr_assert_eq(orig[0], '4', "a.txt has its two names and two store links: %s", orig);
	char *big = sh_output("stat -c '%%h %%i' '%s/Users/alice/Documents/big.bin' "
			      "'%s/USMTMIG/USMT/File/C$/Users/alice/Documents/big.bin' | uniq | wc -l",
			      mnt, mnt);
	cr_assert_str_eq(big, "1");
	cr_assert_eq(sh("test -f '%s/USMTMIG/catalog' && test -f '%s/USMTMIG/report.json' && "
			"! test -e '%s/USMTMIG/USMT/File/C$/Users/bob/many.txt' && "
			"! test -e '%s/USMTMIG/USMT/File/C$/Users/bob/efs.txt'", mnt, mnt, mnt, mnt), 0);
	/* HIDDEN|SYSTEM on the store folder, and the Administrators/SYSTEM-only SD. */
	char *attr = sh_output("getfattr -h --only-values -n system.ntfs_attrib_be '%s/USMTMIG' 2>/dev/null | "
			       "od -An -tx1 | tr -d ' \\n'", mnt);
	unsigned long bits = strtoul(attr, NULL, 16);
	cr_assert_eq(bits & 0x16, 0x16, "attributes 0x%lx", bits);
	char *acl = sh_output("getfattr -h --only-values -n system.ntfs_acl '%s/USMTMIG' 2>/dev/null | "
			      "od -An -tx1 | tr -d ' \\n'", mnt);
	uint8_t *sd;
	size_t sd_len;
	cr_assert_eq(linkstore_admin_sd(&sd, &sd_len), 0);
	char want[300] = "";
	for (size_t i = 0; i < sd_len; i++)
		sprintf(want + 2 * i, "%02x", sd[i]);
	cr_assert_str_eq(acl, want);
	free(sd);
	free(orig);
	free(link);
	free(link2);
	free(big);
	free(attr);
	free(acl);
	cr_assert_eq(umount_and_wait(mnt), 0);
}

Test(store_linkstore, unfinished_and_existing_stores)
{
	struct st_create_options o = { .format = ST_FORMAT_HARDLINK, .path = "Store", .volume = vol };
	struct st_writer *w;
	struct st_reader *r;
	cr_assert_eq(st_writer_create(&o, &w), ST_OK, "%s", st_last_error());
	cr_assert_eq(capture(w, "Users/alice/Documents/a.txt", 0), ST_OK, "%s", st_last_error());
	st_writer_abort(w);
	cr_assert_eq(st_reader_open_ntfs(vol, "Store", &r), ST_ERR_INCOMPLETE);
	cr_assert_eq(st_reader_open_ntfs(vol, "Nothing", &r), ST_ERR_NOT_FOUND);
	cr_assert_eq(st_writer_create(&o, &w), ST_ERR_EXISTS);
	o.path = "No/Such/Parent";
	cr_assert_neq(st_writer_create(&o, &w), ST_OK);
	/* Source ids are required. */
	o.path = "Store2";
	cr_assert_eq(st_writer_create(&o, &w), ST_OK, "%s", st_last_error());
	struct st_file f = test_file("x.txt", ST_NO_SOURCE_ID);
	bool need;
	cr_assert_eq(st_writer_begin_file(w, &f, &need), ST_ERR_INVALID);
	cr_assert_eq(st_writer_finish(w, 0), ST_OK, "%s", st_last_error());
	cr_assert_eq(st_reader_open_ntfs(vol, "Store2", &r), ST_OK, "%s", st_last_error());
	cr_assert_eq(st_reader_file_count(r), 0);
	st_reader_close(r);
}
