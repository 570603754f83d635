/*
 * Reading: a volume populated through the ntfs-3g FUSE driver (an independent
 * writer) must read back through ntfs/ exactly as the driver reports it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "ntfs/ntfs.h"
#include "tests/unit/ntfs/helpers.h"

static char *dir, img[4096], mnt[4096];

/* A junction's reparse buffer for @target (like "C:\Users\x"), as hex. */
static char *
junction_hex(const char *target)
{
	char sub[1024], *hex;
	uint8_t buf[4096];
	size_t tl = strlen(target), sl, pl = tl * 2, off = 0;
	snprintf(sub, sizeof(sub), "\\??\\%s", target);
	sl = strlen(sub) * 2;
	size_t data = 8 + sl + 2 + pl + 2;
	memset(buf, 0, sizeof(buf));
	buf[0] = 0x03; buf[3] = 0xA0;  /* IO_REPARSE_TAG_MOUNT_POINT */
	buf[4] = (uint8_t)data; buf[5] = (uint8_t)(data >> 8);
	off = 8;
	buf[off + 0] = 0; buf[off + 2] = (uint8_t)sl; buf[off + 3] = (uint8_t)(sl >> 8);
	buf[off + 4] = (uint8_t)(sl + 2); buf[off + 5] = (uint8_t)((sl + 2) >> 8);
	buf[off + 6] = (uint8_t)pl; buf[off + 7] = (uint8_t)(pl >> 8);
	off = 16;
	for (size_t i = 0; sub[i]; i++, off += 2)
		buf[off] = (uint8_t)sub[i];
	off += 2;
	for (size_t i = 0; target[i]; i++, off += 2)
		buf[off] = (uint8_t)target[i];
	off += 2;
	hex = malloc(off * 2 + 3);
	strcpy(hex, "0x");
	for (size_t i = 0; i < off; i++)
		sprintf(hex + 2 + i * 2, "%02x", buf[i]);
	return hex;
}

static void
setup(void)
{
	dir = scratch_dir();
	snprintf(img, sizeof(img), "%s/vol.img", dir);
	snprintf(mnt, sizeof(mnt), "%s/mnt", dir);
	make_volume(img, 48);
	fuse_mount(img, mnt, false);
	char *jx = junction_hex("C:\\Users\\alice\\AppData\\Roaming");
	int rc = sh("set -e; cd '%s'; mkdir -p Users/alice/Documents Users/alice/AppData/Roaming Comp;"
		    "printf 'hello world\\n' > Users/alice/Documents/a.txt;"
		    "ln Users/alice/Documents/a.txt Users/alice/Documents/b-link.txt;"
		    "setfattr -n user.Zone.Identifier -v '[ZoneTransfer]' Users/alice/Documents/a.txt;"
		    "printf x > 'Users/alice/Documents/日本語のファイル.txt';"
		    "printf y > 'Users/alice/Documents/😀 smile.txt';"
		    "printf z > \"Users/alice/Documents/$(printf 'e\\314\\201cole').txt\";"
		    "p=Users/alice/Documents; for i in 1 2 3 4 5 6 7 8 9 10; do p=$p/folder-with-a-long-name-number-$i; done;"
		    "mkdir -p $p && printf deep > $p/deep.txt;"
		    "dd if=/dev/urandom of=Users/alice/Documents/sparse.bin bs=4096 count=1 seek=2048 2>/dev/null;"
		    "setfattr -h -n system.ntfs_attrib_be -v 0x00000800 Comp;"
		    "yes compressible text line | head -c 200000 > Comp/big.txt;"
		    "printf r > ro.txt; setfattr -h -n system.ntfs_attrib_be -v 0x00000021 ro.txt;"
		    "printf h > hs.txt; setfattr -h -n system.ntfs_attrib_be -v 0x00000026 hs.txt;"
		    "mkdir 'Users/alice/Application Data';"
		    "setfattr -h -n system.ntfs_reparse_data -v %s 'Users/alice/Application Data';",
		    mnt, jx);
	free(jx);
	fuse_umount(mnt);
	cr_assert_eq(rc, 0, "populating the volume through FUSE failed");
}

static void
teardown(void)
{
	scratch_done(dir);
}

TestSuite(ntfs_read, .init = setup, .fini = teardown, .timeout = 120);

struct seen {
	int count, junction_children;
	char paths[64][1200];
	uint64_t mrefs[64];
};

static int
collect(const struct nv_entry *e, void *ctx)
{
	struct seen *s = ctx;
	cr_assert_not_null(e->inode, "%s: %s", e->path, e->error);
	if (s->count < 64) {
		snprintf(s->paths[s->count], sizeof(s->paths[0]), "%s", e->path);
		s->mrefs[s->count] = e->mref;
	}
	s->count++;
	if (strstr(e->path, "Application Data/"))
		s->junction_children++;
	return NV_WALK_CONTINUE;
}

static int
find(struct seen *s, const char *path)
{
	for (int i = 0; i < s->count && i < 64; i++)
		if (!strcmp(s->paths[i], path))
			return i;
	return -1;
}

/* Compare what we read about @rel with what the FUSE driver says. */
static void
compare_with_fuse(struct nv_volume *v, const char *rel)
{
	char path[8192];
	uint64_t mref;
	struct nv_inode *in;
	size_t len;
	uint8_t *x;

	cr_assert_eq(nv_lookup(v, rel, &mref), NV_OK, "%s: %s", rel, nv_last_error());
	cr_assert_eq(nv_stat(v, mref, &in), NV_OK, "%s", nv_last_error());
	snprintf(path, sizeof(path), "%s/%s", mnt, rel);
	x = fuse_xattr(path, "system.ntfs_attrib", &len);
	cr_assert_not_null(x);
	cr_assert_eq(len, 4);
	cr_assert_eq(in->attributes, (uint32_t)(x[0] | x[1] << 8 | x[2] << 16 | (uint32_t)x[3] << 24),
		     "%s: attributes 0x%x", rel, in->attributes);
	free(x);
	x = fuse_xattr(path, "system.ntfs_acl", &len);
	cr_assert_not_null(x);
	cr_assert_eq(len, in->security_len, "%s: SD length", rel);
	cr_assert_arr_eq(x, in->security, len, "%s: security descriptor differs", rel);
	free(x);
	x = fuse_xattr(path, "system.ntfs_times", &len);
	cr_assert_not_null(x);
	cr_assert_geq(len, 24);
	for (size_t i = 0; i < len / 8 && i < 4; i++) {
		uint64_t t = 0;
		for (int b = 7; b >= 0; b--)
			t = t << 8 | x[i * 8 + (size_t)b];
		cr_assert_eq(t, in->times[i], "%s: time %zu", rel, i);
	}
	free(x);
	x = fuse_xattr(path, "system.ntfs_reparse_data", &len);
	if (x) {
		cr_assert_eq(len, in->reparse_len);
		cr_assert_arr_eq(x, in->reparse, len);
		free(x);
	} else
		cr_assert_eq(in->reparse_len, 0);
	nv_inode_free(in);
}

Test(ntfs_read, walk_reports_every_entry_once_and_never_enters_junctions)
{
	struct nv_volume *v;
	struct seen s = { 0 };
	cr_assert_eq(nv_open(img, NULL, &v), NV_OK, "%s", nv_last_error());
	cr_assert_eq(nv_walk(v, "", collect, &s), NV_OK);
	cr_assert_eq(s.junction_children, 0, "the walk went into a junction");
	int a = find(&s, "Users/alice/Documents/a.txt"), b = find(&s, "Users/alice/Documents/b-link.txt");
	cr_assert(a >= 0 && b >= 0, "both hard-link names are listed");
	cr_assert_eq(s.mrefs[a], s.mrefs[b], "hard links share one MFT record");
	cr_assert(find(&s, "Users/alice/Documents/日本語のファイル.txt") >= 0);
	cr_assert(find(&s, "Users/alice/Documents/😀 smile.txt") >= 0);
	cr_assert(find(&s, "Users/alice/Documents/e\xcc\x81" "cole.txt") >= 0,
		  "the decomposed name is kept exactly");
	cr_assert(find(&s, "Users/alice/Application Data") >= 0);
	/* 6 folders (Users .. Application Data), 5 names in Documents, 10 deep folders
	 * and deep.txt, sparse.bin, Comp and big.txt, ro.txt, hs.txt: every name once. */
	cr_assert_eq(s.count, 27, "entries walked: %d", s.count);
	nv_close(v);
}

Test(ntfs_read, metadata_agrees_with_the_fuse_driver)
{
	struct nv_volume *v;
	cr_assert_eq(nv_open(img, NULL, &v), NV_OK, "%s", nv_last_error());
	fuse_mount(img, mnt, true);
	const char *rels[] = { "Users/alice/Documents/a.txt", "Users/alice/Documents/b-link.txt",
			       "Users/alice/Documents", "Comp", "Comp/big.txt", "ro.txt", "hs.txt",
			       "Users/alice/Application Data", "Users/alice/Documents/sparse.bin",
			       "Users/alice/Documents/😀 smile.txt" };
	for (size_t i = 0; i < sizeof(rels) / sizeof(rels[0]); i++)
		compare_with_fuse(v, rels[i]);
	fuse_umount(mnt);
	nv_close(v);
}

Test(ntfs_read, kinds_streams_and_links)
{
	struct nv_volume *v;
	struct nv_inode *in;
	uint64_t mref;
	char *target;
	cr_assert_eq(nv_open(img, NULL, &v), NV_OK, "%s", nv_last_error());

	cr_assert_eq(nv_lookup(v, "users/ALICE/documents/A.TXT", &mref), NV_OK,
		     "lookups are case-insensitive: %s", nv_last_error());
	cr_assert_eq(nv_stat(v, mref, &in), NV_OK);
	cr_assert_eq(in->size, 12);
	cr_assert_eq(in->name_count, 2);
	cr_assert_eq(in->stream_count, 1);
	cr_assert_str_eq(in->streams[0].name, "Zone.Identifier");
	cr_assert_eq(in->streams[0].size, 14);
	nv_inode_free(in);

	cr_assert_eq(nv_lookup(v, "Users/alice/Application Data", &mref), NV_OK);
	cr_assert_eq(nv_stat(v, mref, &in), NV_OK);
	cr_assert(in->kind & NV_IS_JUNCTION);
	cr_assert_eq(in->reparse_tag, NV_TAG_MOUNT_POINT);
	cr_assert_eq(nv_reparse_target(in, &target), NV_OK);
	cr_assert_str_eq(target, "C:\\Users\\alice\\AppData\\Roaming");
	free(target);
	nv_inode_free(in);

	cr_assert_eq(nv_lookup(v, "Users/alice/Documents/sparse.bin", &mref), NV_OK);
	cr_assert_eq(nv_stat(v, mref, &in), NV_OK);
	cr_assert(in->kind & NV_IS_SPARSE, "attributes 0x%x", in->attributes);
	cr_assert_eq(in->size, 2049 * 4096);
	cr_assert_lt(in->allocated, in->size / 4, "the hole takes no space");
	nv_inode_free(in);

	cr_assert_eq(nv_lookup(v, "Comp/big.txt", &mref), NV_OK);
	cr_assert_eq(nv_stat(v, mref, &in), NV_OK);
	cr_assert(in->kind & NV_IS_COMPRESSED, "attributes 0x%x", in->attributes);
	nv_inode_free(in);

	cr_assert_eq(nv_lookup(v, "Users/alice/Documents/nothing.txt", &mref), NV_ERR_NOT_FOUND);
	cr_assert(strstr(nv_last_error(), "nothing.txt"));
	cr_assert_eq(nv_lookup(v, "Users/alice/Documents/a.txt/x", &mref), NV_ERR_NOT_DIR);
	nv_close(v);
}

static char *
read_all(struct nv_volume *v, const char *rel, const char *stream, size_t *len)
{
	uint64_t mref;
	struct nv_reader *r;
	cr_assert_eq(nv_lookup(v, rel, &mref), NV_OK, "%s", nv_last_error());
	cr_assert_eq(nv_reader_open(v, mref, stream, &r), NV_OK, "%s", nv_last_error());
	size_t size = (size_t)nv_reader_size(r), got, done = 0;
	char *buf = malloc(size + 1);
	/* Odd-sized chunks cross compression units and sparse runs. */
	while (done < size) {
		size_t want = size - done < 7777 ? size - done : 7777;
		cr_assert_eq(nv_reader_pread(r, buf + done, want, done, &got), NV_OK, "%s",
			     nv_last_error());
		cr_assert_gt(got, 0);
		done += got;
	}
	cr_assert_eq(nv_reader_pread(r, buf, 10, size, &got), NV_OK);
	cr_assert_eq(got, 0, "reading at the end gives nothing");
	nv_reader_close(r);
	buf[size] = 0;
	*len = size;
	return buf;
}

Test(ntfs_read, contents_match_the_fuse_driver)
{
	struct nv_volume *v;
	const char *files[] = { "Comp/big.txt", "Users/alice/Documents/sparse.bin",
				"Users/alice/Documents/a.txt" };
	cr_assert_eq(nv_open(img, NULL, &v), NV_OK, "%s", nv_last_error());
	fuse_mount(img, mnt, true);
	for (size_t i = 0; i < 3; i++) {
		size_t len, flen;
		char *ours = read_all(v, files[i], NULL, &len);
		char fpath[8192];
		snprintf(fpath, sizeof(fpath), "%s/%s", mnt, files[i]);
		uint8_t *theirs = sh_output(&flen, "cat '%s'", fpath);
		cr_assert_eq(len, flen, "%s: size", files[i]);
		cr_assert_arr_eq(ours, theirs, len, "%s: contents differ", files[i]);
		free(ours);
		free(theirs);
	}
	size_t len;
	char *zone = read_all(v, "Users/alice/Documents/a.txt", "Zone.Identifier", &len);
	cr_assert_str_eq(zone, "[ZoneTransfer]");
	free(zone);
	uint64_t mref;
	struct nv_reader *r;
	cr_assert_eq(nv_lookup(v, "Users/alice/Documents/a.txt", &mref), NV_OK);
	cr_assert_eq(nv_reader_open(v, mref, "NoSuchStream", &r), NV_ERR_NOT_FOUND);
	fuse_umount(mnt);
	nv_close(v);
}

Test(ntfs_read, read_only_open_changes_nothing)
{
	struct nv_volume *v;
	char *before = sha256_file(img);
	cr_assert_eq(nv_open(img, NULL, &v), NV_OK, "%s", nv_last_error());
	struct seen s = { 0 };
	cr_assert_eq(nv_walk(v, "", collect, &s), NV_OK);
	size_t len;
	free(read_all(v, "Comp/big.txt", NULL, &len));
	free(read_all(v, "Users/alice/Documents/a.txt", "Zone.Identifier", &len));
	uint64_t mref;
	cr_assert_eq(nv_lookup(v, "", &mref), NV_OK);
	cr_assert_eq(nv_mkdir(v, mref, "new", NULL), NV_ERR_READ_ONLY);
	cr_assert(strstr(nv_last_error(), "read-only"));
	cr_assert_eq(nv_close(v), NV_OK);
	char *after = sha256_file(img);
	cr_assert_str_eq(before, after, "a read-only open modified the image");
	free(before);
	free(after);
}
