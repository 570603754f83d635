/*
 * Names in a directory store (store/names.c): a component that does not fit
 * a Linux folder (over 255 bytes, a lone surrogate, or the shape of an
 * encoded name) is stored under PREFIX~HASH.EXT, the catalog keeps the real
 * name (version 3, ST_INFO_ENCODED_NAMES), and readers, verify and extract
 * map it back.  Also: encoded names never collide with each other or with a
 * name stored as it is; a catalog pointing at an encoded file that is not
 * there is damage; a name the host refuses is one file's refusal.
 */
#include <dirent.h>
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
TestSuite(store_names, .init = setup, .fini = teardown, .timeout = 120);

/* @n copies of a 3-byte CJK character (文, U+6587), then @tail. */
static char *
cjk(size_t n, const char *tail)
{
	size_t tl = strlen(tail);
	char *s = malloc(3 * n + tl + 1);
	for (size_t i = 0; i < n; i++)
		memcpy(s + 3 * i, "\xe6\x96\x87", 3);
	memcpy(s + 3 * n, tail, tl + 1);
	return s;
}

static bool
fits(const char *c)
{
	return dir_name_fits(c, strlen(c));
}

static char *
enc(const char *c)
{
	char *e = dir_encode_name(c, strlen(c));
	cr_assert_not_null(e);
	return e;
}

Test(store_names, which_names_are_kept_as_they_are)
{
	char a255[256], a256[257];
	memset(a255, 'a', 255);
	a255[255] = 0;
	memset(a256, 'a', 256);
	a256[256] = 0;
	cr_assert(fits("report.docx"));
	cr_assert(fits("\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e.txt"));
	cr_assert(fits(a255), "255 bytes fit");
	cr_assert(!fits(a256), "256 bytes do not");
	char *c85 = cjk(85, ""), *c86 = cjk(86, ""), *c103 = cjk(103, ".txt");
	cr_assert(fits(c85), "85 CJK characters are 255 bytes");
	cr_assert(!fits(c86));
	cr_assert(!fits(c103));
	/* A lone surrogate (WTF-8 from ntfs/), alone or among other text; a
	 * paired one is plain 4-byte UTF-8 and fits. */
	cr_assert(!fits("a\xed\xa0\x80" "b.txt"));
	cr_assert(!fits("\xed\xbf\xbf"));
	cr_assert(fits("\xf0\xa0\xae\xb7.txt"));
	/* The shape of an encoded name, in either case, with or without an
	 * extension: encoded too, so it cannot be taken for one. */
	cr_assert(!fits("x~0123456789abcdef0123456789abcdef"));
	cr_assert(!fits("x~0123456789ABCDEF0123456789abcdef.txt"));
	cr_assert(!fits("~0123456789abcdef0123456789abcdef.a1b2c3d4e5f6g7h"));
	/* Near misses are ordinary names. */
	cr_assert(fits("x~0123456789abcdef0123456789abcde.txt"), "31 digits");
	cr_assert(fits("x-0123456789abcdef0123456789abcdef.txt"), "no ~");
	cr_assert(fits("x~0123456789abcdef0123456789abcdeg.txt"), "not hex");
	cr_assert(fits("x~0123456789abcdef0123456789abcdef.toolongextension"),
		  "16-character extension: the digits are not before an extension");
	cr_assert(fits("x~0123456789abcdef0123456789abcdef-1.txt"));
	free(c85);
	free(c86);
	free(c103);
}

Test(store_names, encoded_names_are_short_readable_and_keep_the_extension)
{
	char *c103 = cjk(103, ".txt");
	char *e = enc(c103);
	size_t n = strlen(e);
	cr_assert_leq(n, DIR_ENCODED_MAX);
	cr_assert(dir_name_encoded_shape(e, n), "%s", e);
	cr_assert(!fits(e), "an encoded name never passes for a stored-as-is one");
	cr_assert_str_eq(e + n - 4, ".txt");
	cr_assert_eq(e[n - 4 - 33], '~');
	/* The prefix is the name's start, whole characters only. */
	size_t pre = n - 4 - 33;
	cr_assert_eq(pre % 3, 0, "no character cut in half: %zu", pre);
	cr_assert_gt(pre, 60);
	cr_assert_eq(memcmp(e, c103, pre), 0);
	cr_assert_eq(st_check_path(e), ST_OK, "valid as a store name: %s", st_last_error());
	/* Same name, same encoding (readers recompute it). */
	char *again = enc(c103);
	cr_assert_str_eq(e, again);
	/* No usable extension: none kept. */
	char *noext = cjk(100, ".this-is-not-an-extension");
	char *e2 = enc(noext);
	cr_assert(dir_name_encoded_shape(e2, strlen(e2)));
	cr_assert_eq(e2[strlen(e2) - 33], '~');
	/* A lone surrogate never reaches the disk: the prefix stops before it. */
	char *e3 = enc("ab\xed\xa0\x80" "cd.txt");
	cr_assert_eq(strncmp(e3, "ab~", 3), 0, "%s", e3);
	cr_assert_null(memmem(e3, strlen(e3), "\xed\xa0", 2));
	/* A lookalike is encoded into another name. */
	char *e4 = enc(e);
	cr_assert_str_neq(e4, e);
	free(c103), free(e), free(again), free(noext), free(e2), free(e3), free(e4);
}

Test(store_names, no_two_names_collide)
{
	/* 2000 long names sharing their first 100 characters, differing only
	 * at the end, and the encoded names of each of them taken as real
	 * names: all 4000 disk names differ, and none is stored as it is. */
	enum { N = 2000 };
	char **disk = calloc(2 * N, sizeof(*disk));
	for (int i = 0; i < N; i++) {
		char tail[32];
		snprintf(tail, sizeof(tail), "%d.docx", i);
		char *name = cjk(100, tail);
		disk[i] = enc(name);
		cr_assert(!fits(disk[i]));
		disk[N + i] = enc(disk[i]); /* a real file named like that */
		free(name);
	}
	for (int i = 0; i < 2 * N; i++)
		for (int j = i + 1; j < 2 * N; j++)
			cr_assert_str_neq(disk[i], disk[j], "%d and %d", i, j);
	for (int i = 0; i < 2 * N; i++)
		free(disk[i]);
	free(disk);
	/* Whole paths: only the components that do not fit change. */
	char *c103 = cjk(103, "");
	char path[1024];
	snprintf(path, sizeof(path), "Users/alice/%s/a.txt", c103);
	bool changed = false;
	char *m = dir_map_path(path, &changed);
	cr_assert(changed);
	char *ec = enc(c103), want[512];
	snprintf(want, sizeof(want), "Users/alice/%s/a.txt", ec);
	cr_assert_str_eq(m, want);
	free(m);
	m = dir_map_path("Users/alice/a.txt", &changed);
	cr_assert(!changed);
	cr_assert_str_eq(m, "Users/alice/a.txt");
	free(m), free(ec), free(c103);
}

struct named_file {
	const char *path;
	uint64_t seed;
	size_t len;
};

static void
put(struct st_writer *w, const char *path, uint64_t id, uint64_t seed, size_t len)
{
	bool need = false;
	struct st_file f = test_file(path, id);
	cr_assert_eq(st_writer_begin_file(w, &f, &need), ST_OK, "%s", st_last_error());
	if (need) {
		feed(w, seed, len, true, 4096);
		cr_assert_eq(st_writer_add_stream(w, "Zone.Identifier", "[ZoneTransfer]", 14), ST_OK);
	}
	cr_assert_eq(st_writer_end_file(w), ST_OK, "%s", st_last_error());
}

static char *
store_path(const char *name)
{
	char *p;
	cr_assert(asprintf(&p, "%s/%s", dir, name) > 0);
	return p;
}

struct seen {
	int renamed, failed, failed_renamed;
	char last[4096];
};

static void
saw(const char *path, const char *written_as, const char *why, void *ctx)
{
	struct seen *s = ctx;
	(void)path;
	if (written_as && !why) {
		s->renamed++;
		snprintf(s->last, sizeof(s->last), "%s", written_as);
	} else {
		s->failed++;
		s->failed_renamed += written_as != NULL;
		snprintf(s->last, sizeof(s->last), "%s", why);
	}
}

Test(store_names, long_names_round_trip_through_a_directory_store)
{
	char *c103 = cjk(103, ".txt");        /* 313 bytes, 107 UTF-16 units */
	char *c255 = cjk(251, ".txt");        /* 757 bytes, 255 UTF-16 units */
	char *cdir = cjk(90, "");             /* a folder of 270 bytes */
	char *lookalike = enc(c103);          /* a real name equal to c103's disk name */
	char p[8][2048];
	snprintf(p[0], sizeof(p[0]), "Users/alice/Documents/%s", c103);
	snprintf(p[1], sizeof(p[1]), "Users/alice/Documents/%s", c255);
	snprintf(p[2], sizeof(p[2]), "Users/alice/Documents/%s/%s/inside.txt", cdir, cdir);
	snprintf(p[3], sizeof(p[3]), "Users/alice/Documents/%s", lookalike);
	snprintf(p[4], sizeof(p[4]), "Users/alice/Documents/lone \xed\xa0\x80 surrogate.txt");
	snprintf(p[5], sizeof(p[5]), "Users/alice/Documents/short.txt");
	snprintf(p[6], sizeof(p[6]), "Users/alice/Desktop/%s (link).txt", cdir);
	char *s = store_path("store");
	struct st_create_options o = { .format = ST_FORMAT_DIRECTORY, .path = s };
	struct st_writer *w;
	cr_assert_eq(st_writer_create(&o, &w), ST_OK, "%s", st_last_error());
	for (int i = 0; i < 6; i++)
		put(w, p[i], 10 + (uint64_t)i, 100 + (uint64_t)i, 1000 + 3000 * (size_t)i);
	put(w, p[6], 10, 0, 0); /* a hard link of p[0], under a long name of its own */
	cr_assert_eq(st_writer_finish(w, 0), ST_OK, "%s", st_last_error());

	/* On disk: no component over 255 bytes, the short name as it is. */
	cr_assert_eq(sh("cd '%s/USMT/File/C$' && find . | LC_ALL=C awk -F/ "
			"'length($NF) > 255 { bad = 1 } END { exit bad }'", s), 0);
	cr_assert_eq(sh("test -f '%s/USMT/File/C$/Users/alice/Documents/short.txt'", s), 0);
	cr_assert_eq(sh("test \"$(find '%s/USMT/File/C$/Users/alice/Desktop' -type f -links 2 | wc -l)\" = 1",
			s), 0, "the hard link is a hard link in the store too");

	struct st_reader *r;
	cr_assert_eq(st_reader_open(s, NULL, &r), ST_OK, "%s", st_last_error());
	const struct st_store_info *in = st_reader_info(r);
	cr_assert_eq(in->version, ST_CATALOG_VERSION_NAMES);
	cr_assert(in->encoded_names);
	cr_assert_eq(st_reader_file_count(r), 7);
	for (int i = 0; i < 6; i++) {
		int64_t k = st_reader_find(r, p[i]);
		cr_assert_geq(k, 0, "%s is listed under its real name", p[i]);
		uint8_t *data;
		size_t len;
		cr_assert_eq(slurp(r, (size_t)k, 0, &data, &len), ST_OK, "%s", st_last_error());
		uint8_t *want = content(100 + (uint64_t)i, 1000 + 3000 * (size_t)i, true);
		cr_assert_eq(len, 1000 + 3000 * (size_t)i);
		cr_assert_arr_eq(data, want, len);
		free(data);
		free(want);
	}
	int64_t l = st_reader_find(r, p[6]);
	cr_assert_geq(l, 0);
	cr_assert_eq(st_reader_file(r, (size_t)l)->link_to, st_reader_find(r, p[0]));
	struct st_verify_result vr;
	cr_assert_eq(st_reader_verify(r, NULL, NULL, &vr), ST_OK, "%s", st_last_error());
	cr_assert_eq(vr.files_ok, 7);

	/* extract: the same names, each renamed one reported. */
	char *out = store_path("out");
	struct seen seen = { 0 };
	size_t n = 0;
	cr_assert_eq(st_reader_extract_report(r, NULL, out, 0, saw, &seen, &n), ST_OK, "%s",
		     st_last_error());
	cr_assert_eq(n, 7);
	cr_assert_eq(seen.failed, 0);
	cr_assert_eq(seen.renamed, 6, "all but short.txt");
	cr_assert_eq(sh("cmp -s '%s/USMT/File/C$/Users/alice/Documents/short.txt' "
			"'%s/Users/alice/Documents/short.txt'", s, out), 0);
	cr_assert_eq(sh("diff -r '%s/USMT/File/C$' '%s' >/dev/null", s, out), 0,
		     "extract writes the store's own names and contents");
	/* Again: every file is there already (not overwritten), each named. */
	seen = (struct seen){ 0 };
	cr_assert_eq(st_reader_extract_report(r, NULL, out, 0, saw, &seen, &n), ST_ERR_EXISTS);
	cr_assert_eq(seen.failed, 7);
	cr_assert_eq(seen.failed_renamed, 6, "each failure says which name it was to have");
	st_reader_close(r);
	free(out), free(s), free(c103), free(c255), free(cdir), free(lookalike);
}

Test(store_names, stores_without_such_names_are_unchanged)
{
	char *s = store_path("plain");
	struct st_create_options o = { .format = ST_FORMAT_DIRECTORY, .path = s };
	struct st_writer *w;
	cr_assert_eq(st_writer_create(&o, &w), ST_OK);
	put(w, "Users/a/x.txt", 1, 1, 100);
	char *c85 = cjk(85, ""), path[512];
	snprintf(path, sizeof(path), "Users/a/%s", c85); /* exactly 255 bytes */
	put(w, path, 2, 2, 100);
	cr_assert_eq(st_writer_finish(w, 0), ST_OK, "%s", st_last_error());
	struct st_reader *r;
	cr_assert_eq(st_reader_open(s, NULL, &r), ST_OK, "%s", st_last_error());
	cr_assert_eq(st_reader_info(r)->version, ST_CATALOG_VERSION_FILES);
	cr_assert(!st_reader_info(r)->encoded_names);
	st_reader_close(r);
	cr_assert_eq(sh("test -f '%s/USMT/File/C$/%s'", s, path), 0);
	free(s), free(c85);
}

Test(store_names, a_missing_encoded_file_is_damage)
{
	char *c103 = cjk(103, ".txt"), path[512], gone[512];
	snprintf(path, sizeof(path), "Users/a/%s", c103);
	snprintf(gone, sizeof(gone), "Users/a/b%s", c103);
	char *s = store_path("damaged");
	struct st_create_options o = { .format = ST_FORMAT_DIRECTORY, .path = s };
	struct st_writer *w;
	cr_assert_eq(st_writer_create(&o, &w), ST_OK);
	put(w, path, 1, 1, 100);
	put(w, gone, 2, 2, 100);
	cr_assert_eq(st_writer_finish(w, 0), ST_OK, "%s", st_last_error());
	char *e = dir_encode_name(gone + 8, strlen(gone + 8));
	cr_assert_eq(sh("rm '%s/USMT/File/C$/Users/a/%s'", s, e), 0);
	struct st_reader *r;
	cr_assert_eq(st_reader_open(s, NULL, &r), ST_OK, "%s", st_last_error());
	struct st_verify_result vr;
	cr_assert_eq(st_reader_verify(r, NULL, NULL, &vr), ST_ERR_CORRUPT);
	cr_assert_eq(vr.files_ok, 1);
	cr_assert_eq(vr.files_damaged, 1);
	int64_t k = st_reader_find(r, gone);
	cr_assert_eq(st_reader_read(r, (size_t)k, 0, NULL, NULL), ST_ERR_CORRUPT);
	cr_assert(strstr(st_last_error(), "missing"), "%s", st_last_error());
	cr_assert(strstr(st_last_error(), e), "names the file it looked for: %s", st_last_error());
	st_reader_close(r);
	free(s), free(c103), free(e);
}

static enum st_status
open_with(uint32_t version, bool encoded, enum st_format format)
{
	struct st_catalog *c = catalog_new();
	c->info.format = format;
	c->info.version = version;
	c->info.volume_letter = 'C';
	c->info.encoded_names = encoded;
	struct st_file f = test_file("Users/a/x.txt", 1);
	struct st_stream st = { .name = "", .size = 0, .has_hash = true };
	cr_assert_eq(catalog_add_file(c, &f, -1, &st, NULL, 1), ST_OK);
	struct buf b = { 0 };
	cr_assert_eq(catalog_serialize(c, &b), ST_OK);
	catalog_free(c);
	struct st_catalog *out = NULL;
	enum st_status s = catalog_parse(b.p, b.len, format, 0, 0, &out);
	catalog_free(out);
	buf_free(&b);
	return s;
}

Test(store_names, the_flag_only_where_it_belongs)
{
	cr_assert_eq(open_with(3, true, ST_FORMAT_DIRECTORY), ST_OK, "%s", st_last_error());
	cr_assert_eq(open_with(2, true, ST_FORMAT_DIRECTORY), ST_ERR_CORRUPT,
		     "a version 2 catalog cannot have encoded names");
	cr_assert(strstr(st_last_error(), "encoded"), "%s", st_last_error());
	cr_assert_eq(open_with(3, true, ST_FORMAT_HARDLINK), ST_ERR_CORRUPT,
		     "only a directory store encodes names");
	cr_assert_eq(open_with(ST_CATALOG_VERSION + 1, true, ST_FORMAT_DIRECTORY), ST_ERR_VERSION);
	/* An unknown flag is damage, not ignored. */
	struct st_catalog *c = catalog_new();
	c->info.format = ST_FORMAT_DIRECTORY;
	c->info.volume_letter = 'C';
	struct buf b = { 0 };
	cr_assert_eq(catalog_serialize(c, &b), ST_OK);
	catalog_free(c);
	/* INFO: 3 empty strings, letter, 2 times, then the flags. */
	size_t at = 16 + 12 + 3 * 4 + 1 + 16;
	cr_assert_eq(fmt_le32(b.p + at), 0);
	fmt_put_le32(b.p + at, 8);
	crypto_generichash(b.p + b.len - 32, 32, b.p, b.len - 32, NULL, 0);
	struct st_catalog *out = NULL;
	cr_assert_eq(catalog_parse(b.p, b.len, ST_FORMAT_DIRECTORY, 0, 0, &out), ST_ERR_CORRUPT);
	cr_assert(strstr(st_last_error(), "flags"), "%s", st_last_error());
	buf_free(&b);
}

Test(store_names, a_name_the_host_refuses_is_one_files_refusal)
{
	/* A file, then a path through it as a folder: the host cannot hold the
	 * second (ENOTDIR, as a case-folding host with "A" and "a"): refused,
	 * and the writer goes on. */
	char *s = store_path("refuse");
	struct st_create_options o = { .format = ST_FORMAT_DIRECTORY, .path = s };
	struct st_writer *w;
	cr_assert_eq(st_writer_create(&o, &w), ST_OK);
	put(w, "Users/a/x", 1, 1, 100);
	bool need = false;
	struct st_file f = test_file("Users/a/x/y.txt", 2);
	cr_assert_eq(st_writer_begin_file(w, &f, &need), ST_ERR_REFUSED);
	cr_assert(strstr(st_last_error(), "Users/a/x/y.txt"), "%s", st_last_error());
	struct st_skipped sk = { "Users/a/x/y.txt", "S-1", "refused" };
	cr_assert_eq(st_writer_add_skipped(w, &sk), ST_OK);
	put(w, "Users/a/z.txt", 3, 3, 100);
	cr_assert_eq(st_writer_finish(w, 0), ST_OK, "%s", st_last_error());
	struct st_reader *r;
	cr_assert_eq(st_reader_open(s, NULL, &r), ST_OK, "%s", st_last_error());
	cr_assert_eq(st_reader_file_count(r), 2);
	cr_assert_eq(st_reader_verify(r, NULL, NULL, NULL), ST_OK);
	st_reader_close(r);
	free(s);
}

Test(store_names, other_formats_keep_names_in_the_catalog_and_extract_maps_them)
{
	/* A compressed store has no folder per file: no encoding, no version 3;
	 * extracting to a Linux folder still needs the encoded name. */
	char *c103 = cjk(103, ".txt"), path[512];
	snprintf(path, sizeof(path), "Users/a/%s", c103);
	char *s = store_path("packed");
	struct st_create_options o = { .format = ST_FORMAT_COMPRESSED, .path = s, .threads = 1 };
	struct st_writer *w;
	cr_assert_eq(st_writer_create(&o, &w), ST_OK, "%s", st_last_error());
	put(w, path, 1, 7, 3000);
	cr_assert_eq(st_writer_finish(w, 0), ST_OK, "%s", st_last_error());
	struct st_reader *r;
	cr_assert_eq(st_reader_open(s, NULL, &r), ST_OK, "%s", st_last_error());
	cr_assert_lt(st_reader_info(r)->version, ST_CATALOG_VERSION_NAMES);
	cr_assert(!st_reader_info(r)->encoded_names);
	cr_assert_geq(st_reader_find(r, path), 0);
	char *out = store_path("out");
	struct seen seen = { 0 };
	size_t n = 0;
	cr_assert_eq(st_reader_extract_report(r, NULL, out, 0, saw, &seen, &n), ST_OK, "%s",
		     st_last_error());
	cr_assert_eq(n, 1);
	cr_assert_eq(seen.renamed, 1);
	char *e = enc(c103), want[512];
	snprintf(want, sizeof(want), "Users/a/%s", e);
	cr_assert_str_eq(seen.last, want);
	char full[4096];
	snprintf(full, sizeof(full), "%s/%s", out, want);
	size_t len;
	uint8_t *got = read_whole(full, &len), *exp = content(7, 3000, true);
	cr_assert_eq(len, 3000);
	cr_assert_arr_eq(got, exp, len);
	free(got), free(exp), free(e), free(out), free(s), free(c103);
	st_reader_close(r);
}
