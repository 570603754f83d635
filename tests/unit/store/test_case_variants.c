/*
 * Names that differ only in case in one folder (WSL1's case-sensitive
 * folders, Linux-written POSIX names): "a.txt" and "A.txt" are two files.
 * The compressed and directory stores keep both, readable, listed and
 * verified (on a host folder that folds case, the directory store refuses
 * the second by name); the hard-link store, whose NTFS folders fold case,
 * refuses the second by name and never mixes the two up.  A catalog listing
 * one path twice is still damage.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sodium.h>

#include <criterion/criterion.h>

#include "store/internal.h"
#include "tests/unit/store/helpers.h"
#include "tests/unit/fuse_wait.h"

static char *dir;

static void setup(void) { dir = scratch_dir(); }
static void teardown(void) { scratch_done(dir); }
TestSuite(store_case_variants, .init = setup, .fini = teardown, .timeout = 300);

/* Four names, two pairs of case twins: in one folder, and in two folders
 * whose names are case twins themselves. */
static const struct {
	const char *path;
	const char *data;
} twins[] = {
	{ "Users/alice/Documents/a.txt", "lower-case a" },
	{ "Users/alice/Documents/A.txt", "UPPER-CASE A, longer" },
	{ "Users/alice/Docs/x.txt", "x in Docs" },
	{ "Users/alice/docs/x.txt", "x in docs (its folder differs only in case)" },
};
#define NTWINS (sizeof(twins) / sizeof(twins[0]))

static void
write_twins(enum st_format format, const char *path)
{
	struct st_create_options o = { .format = format, .path = path, .computer = "PC" };
	struct st_writer *w;
	cr_assert_eq(st_writer_create(&o, &w), ST_OK, "%s", st_last_error());
	for (size_t i = 0; i < NTWINS; i++) {
		struct st_file f = test_file(twins[i].path, 100 + i);
		bool need = false;
		cr_assert_eq(st_writer_begin_file(w, &f, &need), ST_OK, "%s: %s", twins[i].path,
			     st_last_error());
		cr_assert(need);
		cr_assert_eq(st_writer_write_data(w, twins[i].data, strlen(twins[i].data)), ST_OK, "%s",
			     st_last_error());
		cr_assert_eq(st_writer_end_file(w), ST_OK, "%s", st_last_error());
	}
	cr_assert_eq(st_writer_finish(w, 0), ST_OK, "%s", st_last_error());
}

/* Each twin is found by its exact name and reads back its own bytes. */
static void
check_twins(const char *path)
{
	struct st_reader *r;
	cr_assert_eq(st_reader_open(path, NULL, &r), ST_OK, "%s", st_last_error());
	cr_assert_eq(st_reader_file_count(r), NTWINS);
	for (size_t i = 0; i < NTWINS; i++) {
		int64_t k = st_reader_find(r, twins[i].path);
		cr_assert(k >= 0, "%s is not listed", twins[i].path);
		cr_assert_str_eq(st_reader_file(r, (size_t)k)->path, twins[i].path);
		uint8_t *d;
		size_t len;
		cr_assert_eq(slurp(r, (size_t)k, 0, &d, &len), ST_OK, "%s", st_last_error());
		cr_assert(len == strlen(twins[i].data) && !memcmp(d, twins[i].data, len),
			  "%s read back %.*s", twins[i].path, (int)len, d);
		free(d);
	}
	cr_assert_eq(st_reader_verify(r, NULL, NULL, NULL), ST_OK, "%s", st_last_error());
	st_reader_close(r);
}

Test(store_case_variants, compressed_store_keeps_both)
{
	char p[4200];
	snprintf(p, sizeof(p), "%s/USMT.MIG", dir);
	write_twins(ST_FORMAT_COMPRESSED, p);
	check_twins(p);
}

Test(store_case_variants, directory_store_keeps_both_as_two_host_files)
{
	char p[4200], f[4300];
	snprintf(p, sizeof(p), "%s/store", dir);
	if (sh("cd '%s' && touch case-probe && ! test -e CASE-PROBE", dir) != 0)
		cr_skip_test("the scratch folder %s folds case: a directory store refuses the "
			     "second twin there (directory_store_on_a_folding_host_... tests that)", dir);
	write_twins(ST_FORMAT_DIRECTORY, p);
	check_twins(p);
	/* The host folder holds each as its own file, with its own bytes. */
	for (size_t i = 0; i < NTWINS; i++) {
		snprintf(f, sizeof(f), "%s/USMT/File/C$/%s", p, twins[i].path);
		size_t len;
		uint8_t *d = read_whole(f, &len);
		cr_assert(len == strlen(twins[i].data) && !memcmp(d, twins[i].data, len), "%s", f);
		free(d);
	}
}

/* On a host folder that folds case (SMB, ext4 casefold), the second twin's
 * name is already taken: simulated by making that host file beforehand. The
 * second is that one file's refusal, named; the store goes on and verifies. */
Test(store_case_variants, directory_store_on_a_folding_host_refuses_the_second_by_name)
{
	char p[4200], taken[4400];
	snprintf(p, sizeof(p), "%s/store", dir);
	struct st_create_options o = { .format = ST_FORMAT_DIRECTORY, .path = p, .computer = "PC" };
	struct st_writer *w;
	cr_assert_eq(st_writer_create(&o, &w), ST_OK, "%s", st_last_error());
	struct st_file f = test_file(twins[0].path, 1), g = test_file(twins[1].path, 2);
	bool need = false;
	cr_assert_eq(st_writer_begin_file(w, &f, &need), ST_OK, "%s", st_last_error());
	cr_assert_eq(st_writer_write_data(w, twins[0].data, strlen(twins[0].data)), ST_OK);
	cr_assert_eq(st_writer_end_file(w), ST_OK, "%s", st_last_error());
	snprintf(taken, sizeof(taken), "%s/USMT/File/C$/%s", p, twins[1].path);
	write_whole(taken, "folded", 6);
	cr_assert_eq(st_writer_begin_file(w, &g, &need), ST_ERR_REFUSED);
	cr_assert(strstr(st_last_error(), twins[1].path) &&
		  strstr(st_last_error(), "differing only in case"), "%s", st_last_error());
	cr_assert_eq(st_writer_finish(w, 0), ST_OK, "%s", st_last_error());
	struct st_reader *r;
	cr_assert_eq(st_reader_open(p, NULL, &r), ST_OK, "%s", st_last_error());
	cr_assert_eq(st_reader_file_count(r), 1);
	cr_assert(st_reader_find(r, twins[0].path) >= 0);
	cr_assert_eq(st_reader_verify(r, NULL, NULL, NULL), ST_OK, "%s", st_last_error());
	st_reader_close(r);
}

/* A hand-made catalog: case twins are accepted, one path twice is damage. */
static enum st_status
open_with(const char *first, const char *second)
{
	struct st_catalog *c = catalog_new();
	c->info.format = ST_FORMAT_DIRECTORY;
	c->info.volume_letter = 'C';
	struct st_stream s = { .name = "", .size = 0, .has_hash = true };
	struct st_file f = test_file(first, 1), g = test_file(second, 2);
	cr_assert_eq(catalog_add_file(c, &f, -1, &s, NULL, 1), ST_OK);
	cr_assert_eq(catalog_add_file(c, &g, -1, &s, NULL, 1), ST_OK);
	struct buf b = { 0 };
	cr_assert_eq(catalog_serialize(c, &b), ST_OK);
	catalog_free(c);
	sh("rm -rf '%s/h'", dir);
	enum st_status st = open_catalog_bytes(dir, b.p, b.len);
	buf_free(&b);
	return st;
}

Test(store_case_variants, catalog_accepts_twins_refuses_exact_duplicates)
{
	cr_assert_eq(open_with("Users/a/Makefile", "Users/a/makefile"), ST_OK, "%s", st_last_error());
	cr_assert_eq(open_with("Users/a/Docs/x", "Users/a/DOCS/x"), ST_OK, "%s", st_last_error());
	cr_assert_eq(open_with("Users/a/Makefile", "Users/a/Makefile"), ST_ERR_CORRUPT);
	cr_assert(strstr(st_last_error(), "\"Users/a/Makefile\" is listed twice"), "%s",
		  st_last_error());
}

/* ------------------------------------------------- the hard-link store -- */

Test(store_case_variants, hardlink_store_refuses_the_second_twin_by_name)
{
	char img[4200], mnt[4200];
	snprintf(img, sizeof(img), "%s/vol.img", dir);
	snprintf(mnt, sizeof(mnt), "%s/mnt", dir);
	if (sh("command -v mkntfs >/dev/null && command -v ntfs-3g >/dev/null") != 0)
		cr_assert_fail("mkntfs or ntfs-3g is missing");
	cr_assert_eq(sh("truncate -s 32M '%s' && mkntfs -q -F -f '%s' >/dev/null 2>&1", img, img), 0);
	cr_assert_eq(sh("mkdir -p '%s' && ntfs-3g '%s' '%s'", mnt, img, mnt), 0,
		     "ntfs-3g could not mount the image (is /dev/fuse there?)");
	/* The FUSE driver is case-sensitive and writes POSIX names, as WSL1 does. */
	int made = 0;
	for (size_t i = 0; i < NTWINS && !made; i++)
		made = sh("cd '%s' && mkdir -p \"$(dirname '%s')\" && printf '%%s' '%s' > '%s'", mnt,
			  twins[i].path, twins[i].data, twins[i].path);
	cr_assert_eq(umount_and_wait(mnt), 0);
	cr_assert_eq(made, 0, "the twins could not be made through ntfs-3g");
	struct nv_open_options rw = { .read_write = true };
	struct nv_volume *vol;
	cr_assert_eq(nv_open(img, &rw, &vol), NV_OK, "%s", nv_last_error());

	struct st_create_options o = { .format = ST_FORMAT_HARDLINK, .path = "MigStore",
				       .volume = vol, .computer = "PC" };
	struct st_writer *w;
	cr_assert_eq(st_writer_create(&o, &w), ST_OK, "%s", st_last_error());
	enum st_status got[NTWINS];
	char why[NTWINS][1024];
	for (size_t i = 0; i < NTWINS; i++) {
		uint64_t m;
		cr_assert_eq(nv_lookup(vol, twins[i].path, &m), NV_OK, "%s", nv_last_error());
		struct st_file f = test_file(twins[i].path, m);
		bool need = true;
		got[i] = st_writer_begin_file(w, &f, &need);
		snprintf(why[i], sizeof(why[i]), "%s", got[i] ? st_last_error() : "");
		if (!got[i])
			cr_assert_eq(st_writer_end_file(w), ST_OK, "%s", st_last_error());
	}
	cr_assert_eq(st_writer_finish(w, 0), ST_OK, "%s", st_last_error());
	/* Documents/A.txt folds onto a.txt; docs/x.txt onto Docs/x.txt. */
	cr_assert_eq(got[0], ST_OK, "%s", why[0]);
	cr_assert_eq(got[2], ST_OK, "%s", why[2]);
	for (size_t i = 1; i < NTWINS; i += 2) {
		cr_assert_eq(got[i], ST_ERR_REFUSED, "%s: %d", twins[i].path, got[i]);
		cr_assert(strstr(why[i], twins[i].path) && strstr(why[i], "differs from it only in case"),
			  "%s", why[i]);
	}
	struct st_reader *r;
	cr_assert_eq(st_reader_open_ntfs(vol, "MigStore", &r), ST_OK, "%s", st_last_error());
	cr_assert_eq(st_reader_file_count(r), 2);
	for (size_t i = 0; i < NTWINS; i += 2) {
		int64_t k = st_reader_find(r, twins[i].path);
		cr_assert(k >= 0, "%s", twins[i].path);
		uint8_t *d;
		size_t len;
		cr_assert_eq(slurp(r, (size_t)k, 0, &d, &len), ST_OK, "%s", st_last_error());
		cr_assert(len == strlen(twins[i].data) && !memcmp(d, twins[i].data, len),
			  "%s read back %.*s", twins[i].path, (int)len, d);
		free(d);
	}
	cr_assert_eq(st_reader_verify(r, NULL, NULL, NULL), ST_OK, "%s", st_last_error());
	st_reader_close(r);
	nv_close(vol);

	/* Through the FUSE driver: one link per kept twin in the store, each the
	 * captured file itself (two names on its record). */
	cr_assert_eq(sh("ntfs-3g -o ro '%s' '%s'", img, mnt), 0);
	char *ls = sh_output("cd '%s/MigStore/USMT/File/C$/Users/alice' && find . -type f | sort && "
			     "stat -c %%h Documents/a.txt Docs/x.txt && cat Documents/a.txt", mnt);
	cr_assert_eq(umount_and_wait(mnt), 0);
	cr_assert_str_eq(ls, "./Docs/x.txt\n./Documents/a.txt\n2\n2\nlower-case a", "%s", ls);
	free(ls);
}
