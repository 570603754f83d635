/*
 * Junctions and folder symlinks in every store format: a data-less catalog
 * entry (FILE_ATTRIBUTE_DIRECTORY, its reparse buffer, no streams, never a
 * hard link), nothing made in the store's folders, listed by readers,
 * passed by verify, skipped by extract; the catalog is version 2 only when
 * it holds one, and a folder without reparse data is refused.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "store/internal.h"
#include "tests/unit/store/helpers.h"

static char *dir;
static void setup(void) { dir = scratch_dir(); }
static void teardown(void) { scratch_done(dir); }
TestSuite(store_folders, .init = setup, .fini = teardown, .timeout = 120);

/* \??\C:\Users\alice\Music, print name C:\Users\alice\Music */
static size_t
junction_buf(uint8_t *b)
{
	static const char *t = "C:\\Users\\alice\\Music";
	size_t n = strlen(t), sl = 2 * (n + 4), pl = 2 * n, at = 16;
	memset(b, 0, 16 + sl + pl + 4);
	b[0] = 3, b[3] = 0xA0;
	b[10] = (uint8_t)sl, b[12] = (uint8_t)(sl + 2), b[14] = (uint8_t)pl;
	for (const char *p = "\\??\\"; *p; p++, at += 2)
		b[at] = (uint8_t)*p;
	for (size_t i = 0; i < n; i++, at += 2)
		b[at] = (uint8_t)t[i];
	at += 2;
	for (size_t i = 0; i < n; i++, at += 2)
		b[at] = (uint8_t)t[i];
	at += 2;
	b[4] = (uint8_t)(at - 8);
	b[5] = (uint8_t)((at - 8) >> 8);
	return at;
}

static void
write_store(struct st_writer *w, bool with_junction, const uint8_t *rp, size_t rl)
{
	bool need = false;
	struct st_file f = test_file("Users/alice/Documents/a.txt", 100);
	cr_assert_eq(st_writer_begin_file(w, &f, &need), ST_OK, "%s", st_last_error());
	if (need)
		feed(w, 1, 5000, true, 1000);
	cr_assert_eq(st_writer_end_file(w), ST_OK, "%s", st_last_error());

	/* A folder without reparse data is not something a store keeps. */
	struct st_file plain = test_file("Users/alice/Documents/Plain", 101);
	plain.attributes = NV_ATTR_DIRECTORY;
	cr_assert_eq(st_writer_begin_file(w, &plain, &need), ST_ERR_INVALID);
	cr_assert(strstr(st_last_error(), "junction"), "%s", st_last_error());
	if (!with_junction)
		return;
	struct st_file j = test_file("Users/alice/Documents/My Music", 102);
	j.attributes = NV_ATTR_DIRECTORY | NV_ATTR_REPARSE_POINT | NV_ATTR_HIDDEN | NV_ATTR_SYSTEM;
	j.reparse = rp;
	j.reparse_len = rl;
	need = true;
	cr_assert_eq(st_writer_begin_file(w, &j, &need), ST_OK, "%s", st_last_error());
	cr_assert(!need, "a junction has no data");
	cr_assert_eq(st_writer_write_data(w, "x", 1), ST_ERR_STATE);
	cr_assert_eq(st_writer_end_file(w), ST_OK, "%s", st_last_error());
	/* Another entry with the junction's source id is a file of its own, not a link to it. */
	struct st_file again = test_file("Users/alice/b.txt", 102);
	cr_assert_eq(st_writer_begin_file(w, &again, &need), ST_OK, "%s", st_last_error());
	if (need)
		feed(w, 2, 10, true, 10);
	cr_assert_eq(st_writer_end_file(w), ST_OK, "%s", st_last_error());
}

static void
check_store(struct st_reader *r, bool with_junction, const uint8_t *rp, size_t rl)
{
	cr_assert_eq(st_reader_info(r)->version, with_junction ? 2u : 1u,
		     "version 2 only when a folder entry is there");
	cr_assert_eq(st_reader_file_count(r), with_junction ? 3u : 1u);
	struct st_verify_result vr;
	cr_assert_eq(st_reader_verify(r, NULL, NULL, &vr), ST_OK, "%s", st_last_error());
	cr_assert_eq(vr.files_ok, with_junction ? 3u : 1u);
	if (!with_junction)
		return;
	int64_t i = st_reader_find(r, "Users/alice/Documents/My Music");
	cr_assert_geq(i, 0);
	const struct st_file *f = st_reader_file(r, (size_t)i);
	cr_assert(f->attributes & NV_ATTR_DIRECTORY);
	cr_assert(f->attributes & NV_ATTR_HIDDEN);
	cr_assert_eq(f->stream_count, 0);
	cr_assert_eq(f->link_to, -1);
	cr_assert_eq(f->reparse_len, rl);
	cr_assert_arr_eq(f->reparse, rp, rl);
	cr_assert_eq(f->times[0], 132000000000000000ull);
	cr_assert_eq(st_reader_read(r, (size_t)i, 0, NULL, NULL), ST_ERR_NOT_FOUND);
	const struct st_file *b = st_reader_file(r, (size_t)st_reader_find(r, "Users/alice/b.txt"));
	cr_assert_eq(b->link_to, -1, "not a hard link of the junction");
	cr_assert_eq(b->stream_count, 1);
}

static void
round_trip(enum st_format format, bool with_junction)
{
	uint8_t rp[200];
	size_t rl = junction_buf(rp);
	char path[4200], out[4300];
	snprintf(path, sizeof(path), "%s/s%d%d", dir, (int)format, (int)with_junction);
	struct st_create_options o = { .format = format, .path = path, .computer = "PC" };
	struct st_writer *w;
	cr_assert_eq(st_writer_create(&o, &w), ST_OK, "%s", st_last_error());
	write_store(w, with_junction, rp, rl);
	cr_assert_eq(st_writer_finish(w, 0), ST_OK, "%s", st_last_error());
	if (format == ST_FORMAT_DIRECTORY) {
		struct stat sb;
		snprintf(out, sizeof(out), "%s/USMT/File/C$/Users/alice/Documents/My Music", path);
		cr_assert_neq(lstat(out, &sb), 0, "the junction is a catalog entry only");
	}
	struct st_reader *r;
	cr_assert_eq(st_reader_open(path, NULL, &r), ST_OK, "%s", st_last_error());
	check_store(r, with_junction, rp, rl);
	size_t count = 0;
	snprintf(out, sizeof(out), "%s/x%d%d", dir, (int)format, (int)with_junction);
	cr_assert_eq(st_reader_extract(r, NULL, out, 0, &count), ST_OK, "%s", st_last_error());
	cr_assert_eq(count, with_junction ? 2u : 1u, "extract writes files only");
	snprintf(out + strlen(out), sizeof(out) - strlen(out), "/Users/alice/Documents/My Music");
	struct stat sb;
	cr_assert_neq(lstat(out, &sb), 0, "extract made the junction");
	st_reader_close(r);
}

Test(store_folders, compressed) { round_trip(ST_FORMAT_COMPRESSED, true); }
Test(store_folders, compressed_without_junction_stays_version_1) { round_trip(ST_FORMAT_COMPRESSED, false); }
Test(store_folders, directory) { round_trip(ST_FORMAT_DIRECTORY, true); }
Test(store_folders, directory_without_junction_stays_version_1) { round_trip(ST_FORMAT_DIRECTORY, false); }

Test(store_folders, hardlink)
{
	char img[4200];
	snprintf(img, sizeof(img), "%s/vol.img", dir);
	if (sh("command -v mkntfs >/dev/null") != 0)
		cr_assert_fail("mkntfs is missing");
	cr_assert_eq(sh("truncate -s 32M '%s' && mkntfs -q -F -f '%s' >/dev/null 2>&1", img, img), 0);
	struct nv_volume *vol;
	struct nv_open_options rw = { .read_write = true };
	cr_assert_eq(nv_open(img, &rw, &vol), NV_OK, "%s", nv_last_error());
	uint64_t users, file, jdir;
	cr_assert_eq(nv_mkdir(vol, NV_MREF_ROOT, "Users", &users), NV_OK, "%s", nv_last_error());
	cr_assert_eq(nv_create(vol, users, "a.txt", &file), NV_OK, "%s", nv_last_error());
	cr_assert_eq(nv_mkdir(vol, users, "My Music", &jdir), NV_OK, "%s", nv_last_error());
	uint8_t rp[200];
	size_t rl = junction_buf(rp);
	struct st_create_options o = { .format = ST_FORMAT_HARDLINK, .path = "MigStore", .volume = vol };
	struct st_writer *w;
	cr_assert_eq(st_writer_create(&o, &w), ST_OK, "%s", st_last_error());
	bool need = true;
	struct st_file f = test_file("Users/a.txt", file);
	cr_assert_eq(st_writer_begin_file(w, &f, &need), ST_OK, "%s", st_last_error());
	cr_assert_eq(st_writer_end_file(w), ST_OK, "%s", st_last_error());
	struct st_file j = test_file("Users/My Music", jdir);
	j.attributes = NV_ATTR_DIRECTORY | NV_ATTR_REPARSE_POINT;
	j.reparse = rp;
	j.reparse_len = rl;
	cr_assert_eq(st_writer_begin_file(w, &j, &need), ST_OK, "a junction is not refused as a "
		     "folder: %s", st_last_error());
	cr_assert(!need);
	cr_assert_eq(st_writer_end_file(w), ST_OK, "%s", st_last_error());
	cr_assert_eq(st_writer_finish(w, 0), ST_OK, "%s", st_last_error());
	uint64_t m;
	cr_assert_neq(nv_lookup(vol, "MigStore/USMT/File/C$/Users/My Music", &m), NV_OK,
		      "a folder cannot be hard-linked: nothing is made in the store");
	cr_assert_eq(nv_lookup(vol, "MigStore/USMT/File/C$/Users/a.txt", &m), NV_OK);
	struct st_reader *r;
	cr_assert_eq(st_reader_open_ntfs(vol, "MigStore", &r), ST_OK, "%s", st_last_error());
	cr_assert_eq(st_reader_info(r)->version, 2u);
	int64_t i = st_reader_find(r, "Users/My Music");
	cr_assert_geq(i, 0);
	cr_assert_eq(st_reader_file(r, (size_t)i)->stream_count, 0);
	cr_assert_arr_eq(st_reader_file(r, (size_t)i)->reparse, rp, rl);
	struct st_verify_result vr;
	cr_assert_eq(st_reader_verify(r, NULL, NULL, &vr), ST_OK, "verify: %s", st_last_error());
	cr_assert_eq(vr.files_ok, 2);
	st_reader_close(r);
	nv_close(vol);
}

/* A directory store whose catalog holds a file and then entry @f (@ns streams,
 * a link to the file when @link), checksummed correctly: what a reader says. */
static enum st_status
open_forged(struct st_file f, size_t ns, int64_t link_to, int64_t first_link)
{
	struct st_catalog *c = catalog_new();
	c->info.format = ST_FORMAT_DIRECTORY;
	c->info.volume_letter = 'C';
	c->info.version = 2;
	struct st_stream s[1] = { { .name = "", .size = 0, .has_hash = true } };
	struct st_file a = test_file("Users/a.txt", 1);
	if (first_link >= 0) { /* the first entry is the folder itself: link_to tests */
		a = f;
		f = test_file("Users/b.txt", 2);
	}
	cr_assert_eq(catalog_add_file(c, &a, -1, s, NULL, first_link >= 0 ? 0 : 1), ST_OK);
	cr_assert_eq(catalog_add_file(c, &f, link_to, s, NULL, ns), ST_OK);
	struct buf b = { 0 };
	cr_assert_eq(catalog_serialize(c, &b), ST_OK);
	catalog_free(c);
	enum st_status st = open_catalog_bytes(dir, b.p, b.len);
	buf_free(&b);
	return st;
}

Test(store_folders, forged_folder_entries_are_refused)
{
	uint8_t rp[200];
	size_t rl = junction_buf(rp);
	struct st_file j = test_file("Users/J", 5);
	j.attributes = NV_ATTR_DIRECTORY | NV_ATTR_REPARSE_POINT;
	j.reparse = rp;
	j.reparse_len = rl;
	cr_assert_eq(open_forged(j, 0, -1, -1), ST_OK, "%s", st_last_error());

	/* Streams of its own. */
	cr_assert_eq(open_forged(j, 1, -1, -1), ST_ERR_CORRUPT);
	cr_assert(strstr(st_last_error(), "Users/J"), "%s", st_last_error());
	/* A folder as a hard link. */
	cr_assert_eq(open_forged(j, 0, 0, -1), ST_ERR_CORRUPT);
	/* No reparse data: a plain folder is not a store entry. */
	struct st_file plain = j;
	plain.reparse = NULL;
	plain.reparse_len = 0;
	cr_assert_eq(open_forged(plain, 0, -1, -1), ST_ERR_CORRUPT);
	cr_assert(strstr(st_last_error(), "junction"), "%s", st_last_error());
	/* A file that is a hard link of a junction. */
	cr_assert_eq(open_forged(j, 0, 0, 0), ST_ERR_CORRUPT);
	cr_assert(strstr(st_last_error(), "link to a folder") || strstr(st_last_error(), "hard link"),
		  "%s", st_last_error());
}
