/*
 * Damaged, unfinished, newer and hostile stores: each must be refused (or
 * reported) with a sentence, never read as good data, never crash.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "store/internal.h"
#include "tests/unit/store/helpers.h"

static char *dir;
static char store[4200], mig[4300];
static void setup(void)
{
	dir = scratch_dir();
	snprintf(store, sizeof(store), "%s/store", dir);
	snprintf(mig, sizeof(mig), "%s/USMT/USMT.MIG", store);
}
static void teardown(void) { scratch_done(dir); }
TestSuite(store_damage, .init = setup, .fini = teardown, .timeout = 120);

/* big.bin (2 MiB random, first in the store: frames from offset 128), then small files. */
static void
make_store(enum st_format format, const struct st_key *key)
{
	struct st_create_options o = { .format = format, .path = store, .threads = 2, .key = key,
				       .kdf_ops = 1, .kdf_mem = 8u << 20 };
	struct st_writer *w;
	bool need;
	cr_assert_eq(st_writer_create(&o, &w), ST_OK, "%s", st_last_error());
	struct st_file f = test_file("Users/a/big.bin", 1);
	cr_assert_eq(st_writer_begin_file(w, &f, &need), ST_OK);
	feed(w, 42, 2u << 20, false, 100000);
	cr_assert_eq(st_writer_end_file(w), ST_OK);
	for (int i = 0; i < 20; i++) {
		char p[64];
		snprintf(p, sizeof(p), "Users/a/small%02d.txt", i);
		f = test_file(p, 100 + (uint64_t)i);
		cr_assert_eq(st_writer_begin_file(w, &f, &need), ST_OK);
		feed(w, 100 + (uint64_t)i, 3000, true, 1000);
		cr_assert_eq(st_writer_end_file(w), ST_OK);
	}
	cr_assert_eq(st_writer_finish(w, 0), ST_OK, "%s", st_last_error());
}

static char damaged[8][256];
static int ndamaged;
static void
on_damage(const char *path, const char *why, void *ctx)
{
	(void)ctx;
	cr_assert_not_null(why);
	if (ndamaged < 8)
		snprintf(damaged[ndamaged], sizeof(damaged[0]), "%s", path ? path : "(catalog)");
	ndamaged++;
}

Test(store_damage, bit_flip_in_a_frame_names_the_file)
{
	make_store(ST_FORMAT_COMPRESSED, NULL);
	flip_byte(mig, 128 + (1u << 20));
	struct st_reader *r;
	cr_assert_eq(st_reader_open(store, NULL, &r), ST_OK, "the catalog is intact: %s",
		     st_last_error());
	struct st_verify_result vr;
	ndamaged = 0;
	cr_assert_eq(st_reader_verify(r, on_damage, NULL, &vr), ST_ERR_CORRUPT);
	cr_assert_eq(ndamaged, 1);
	cr_assert_str_eq(damaged[0], "Users/a/big.bin");
	cr_assert_eq(vr.files_ok, 20);
	cr_assert_eq(vr.files_damaged, 1);
	uint8_t *d;
	size_t len;
	cr_assert_eq(slurp(r, 0, 0, &d, &len), ST_ERR_CORRUPT);
	free(d);
	cr_assert(strstr(st_last_error(), "Users/a/big.bin"), "%s", st_last_error());
	cr_assert_eq(slurp(r, 5, 0, &d, &len), ST_OK, "an intact file still reads");
	free(d);
	/* extract recovers what is intact, and says what is not. */
	char out[4300];
	size_t n;
	snprintf(out, sizeof(out), "%s/out", dir);
	cr_assert_eq(st_reader_extract(r, NULL, out, 0, &n), ST_ERR_CORRUPT);
	cr_assert_eq(n, 20);
	cr_assert_eq(sh("! test -e %s/Users/a/big.bin && test -f %s/Users/a/small07.txt", out, out), 0);
	st_reader_close(r);
}

Test(store_damage, bit_flip_in_the_catalog_or_header)
{
	struct st_reader *r;
	make_store(ST_FORMAT_COMPRESSED, NULL);
	uint64_t size = file_size(mig);
	flip_byte(mig, size - 96 - 10); /* in the catalog (the trailer is 96 bytes) */
	cr_assert_eq(st_reader_open(store, NULL, &r), ST_ERR_CORRUPT);
	cr_assert(strstr(st_last_error(), "catalog"), "%s", st_last_error());
	flip_byte(mig, size - 96 - 10);
	cr_assert_eq(st_reader_open(store, NULL, &r), ST_OK);
	st_reader_close(r);
	flip_byte(mig, 20); /* in the header */
	cr_assert_eq(st_reader_open(store, NULL, &r), ST_ERR_CORRUPT);
	flip_byte(mig, 20);
	flip_byte(mig, size - 30); /* in the trailer */
	cr_assert_eq(st_reader_open(store, NULL, &r), ST_ERR_CORRUPT);
}

Test(store_damage, truncated_store)
{
	struct st_reader *r;
	make_store(ST_FORMAT_COMPRESSED, NULL);
	uint64_t size = file_size(mig);
	uint64_t cuts[] = { size - 1, size - 100, size / 2, 200, 10, 0 };
	for (size_t i = 0; i < sizeof(cuts) / sizeof(cuts[0]); i++) {
		cr_assert_eq(truncate(mig, (off_t)cuts[i]), 0);
		enum st_status st = st_reader_open(store, NULL, &r);
		cr_assert(st == ST_ERR_CORRUPT, "cut at %llu: %s (%s)", (unsigned long long)cuts[i],
			  st_status_name(st), st_last_error());
	}
	cr_assert_eq(truncate(mig, 0), 0);
}

Test(store_damage, directory_store_damage)
{
	struct st_reader *r;
	char path[4400];
	make_store(ST_FORMAT_DIRECTORY, NULL);
	snprintf(path, sizeof(path), "%s/USMT/File/C$/Users/a/small03.txt", store);
	flip_byte(path, 100);
	snprintf(path, sizeof(path), "%s/USMT/File/C$/Users/a/small04.txt", store);
	cr_assert_eq(unlink(path), 0);
	cr_assert_eq(st_reader_open(store, NULL, &r), ST_OK, "%s", st_last_error());
	ndamaged = 0;
	cr_assert_eq(st_reader_verify(r, on_damage, NULL, NULL), ST_ERR_CORRUPT);
	cr_assert_eq(ndamaged, 2);
	cr_assert_str_eq(damaged[0], "Users/a/small03.txt");
	cr_assert_str_eq(damaged[1], "Users/a/small04.txt");
	st_reader_close(r);
	snprintf(path, sizeof(path), "%s/catalog", store);
	flip_byte(path, file_size(path) / 2);
	cr_assert_eq(st_reader_open(store, NULL, &r), ST_ERR_CORRUPT);
}

Test(store_damage, partial_stores_are_incomplete)
{
	struct st_create_options o = { .format = ST_FORMAT_COMPRESSED, .path = store };
	struct st_writer *w;
	struct st_reader *r;
	bool need;
	cr_assert_eq(st_writer_create(&o, &w), ST_OK, "%s", st_last_error());
	struct st_file f = test_file("a.txt", 1);
	cr_assert_eq(st_writer_begin_file(w, &f, &need), ST_OK);
	feed(w, 1, 3u << 20, false, 65536);
	st_writer_abort(w); /* as if the capture died */
	cr_assert_eq(st_reader_open(store, NULL, &r), ST_ERR_INCOMPLETE);
	cr_assert(strstr(st_last_error(), "partial"), "%s", st_last_error());
	cr_assert_eq(st_reader_open(mig, NULL, &r), ST_ERR_INCOMPLETE);
	char partial[4400];
	snprintf(partial, sizeof(partial), "%s.partial", mig);
	cr_assert_eq(st_reader_open(partial, NULL, &r), ST_ERR_INCOMPLETE);
	/* A new capture into it is refused until the leftover is removed. */
	cr_assert_eq(st_writer_create(&o, &w), ST_ERR_EXISTS);

	snprintf(store, sizeof(store), "%s/dstore", dir);
	o = (struct st_create_options){ .format = ST_FORMAT_DIRECTORY, .path = store };
	cr_assert_eq(st_writer_create(&o, &w), ST_OK, "%s", st_last_error());
	cr_assert_eq(st_writer_begin_file(w, &f, &need), ST_OK);
	feed(w, 1, 1000, false, 100);
	st_writer_abort(w);
	cr_assert_eq(st_reader_open(store, NULL, &r), ST_ERR_INCOMPLETE);
}

Test(store_damage, newer_versions_are_refused)
{
	struct st_reader *r;
	make_store(ST_FORMAT_COMPRESSED, NULL);
	size_t len;
	uint8_t *h = read_whole(mig, &len);
	fmt_put_le32(h + 8, 3);
	crypto_generichash(h + 112, 16, h, 112, NULL, 0);
	write_whole(mig, h, len);
	free(h);
	cr_assert_eq(st_reader_open(store, NULL, &r), ST_ERR_VERSION);
	cr_assert(strstr(st_last_error(), "version 3") && strstr(st_last_error(), "version 2"),
		  "%s", st_last_error());

	snprintf(store, sizeof(store), "%s/dstore", dir);
	make_store(ST_FORMAT_DIRECTORY, NULL);
	char cat[4400];
	snprintf(cat, sizeof(cat), "%s/catalog", store);
	uint8_t *c = read_whole(cat, &len);
	fmt_put_le32(c + 8, 7);
	crypto_generichash(c + len - 32, 32, c, len - 32, NULL, 0);
	write_whole(cat, c, len);
	free(c);
	cr_assert_eq(st_reader_open(store, NULL, &r), ST_ERR_VERSION);
	/* Version 3 (encoded names in a directory store, or extended attributes) is the newest this winstate reads. */
	cr_assert(strstr(st_last_error(), "version 7") && strstr(st_last_error(), "version 3"),
		  "%s", st_last_error());
}

/* ------------------------------------------------------- hostile catalogs -- */

/* A directory store whose catalog holds one file named @path (with a stream
 * named @stream when not NULL), checksummed correctly. */
static enum st_status
open_hostile(const char *path, const char *stream, const char *nul_at)
{
	struct st_catalog *c = catalog_new();
	c->info.format = ST_FORMAT_DIRECTORY;
	c->info.volume_letter = 'C';
	struct st_file f = test_file(path, 1);
	struct st_stream s[2] = { { .name = "", .size = 0, .has_hash = true },
				  { .name = stream, .size = 0, .has_hash = true } };
	cr_assert_eq(catalog_add_file(c, &f, -1, s, NULL, stream ? 2 : 1), ST_OK);
	struct buf b = { 0 };
	cr_assert_eq(catalog_serialize(c, &b), ST_OK);
	catalog_free(c);
	if (nul_at) {
		uint8_t *p = memmem(b.p, b.len, nul_at, strlen(nul_at));
		cr_assert_not_null(p);
		*p = 0;
		crypto_generichash(b.p + b.len - 32, 32, b.p, b.len - 32, NULL, 0);
	}
	enum st_status st = open_catalog_bytes(dir, b.p, b.len);
	buf_free(&b);
	return st;
}

Test(store_damage, hostile_names_are_refused)
{
	static const char *const bad[] = {
		"..", "../x", "Users/../../etc/passwd", "Users/alice/..", "/etc/passwd", "./a",
		"C:/Windows/x", "C:x", "a\\..\\..\\x", "..\\x", "CON", "Users/nul.txt", "com1",
		"Users/LPT9.log", "a//b", "a/", "Users/aux ", "x.", "PRN.doc", "a\x01" "b",
		"Users/conin$", "\xff\xfe.txt",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		enum st_status st = open_hostile(bad[i], NULL, NULL);
		cr_assert_eq(st, ST_ERR_UNSAFE, "\"%s\": %s (%s)", bad[i], st_status_name(st),
			     st_last_error());
		cr_assert(strlen(st_last_error()) > 20, "a sentence: %s", st_last_error());
		cr_assert_eq(st_check_path(bad[i]), ST_ERR_UNSAFE, "%s", bad[i]);
	}
	/* A NUL inside a name. */
	cr_assert_eq(open_hostile("Users/aXb/c.txt", NULL, "X"), ST_ERR_UNSAFE);
	/* Hostile stream names. */
	cr_assert_eq(open_hostile("ok.txt", "../../x", NULL), ST_ERR_UNSAFE);
	cr_assert_eq(open_hostile("ok.txt", "a:b", NULL), ST_ERR_UNSAFE);
	/* And names that are fine. */
	static const char *const good[] = { "a", "Users/alice/..foo", "Users/alice/a..b.txt",
					    "CONSOLE.txt", "com10", "Users/élise/naïve.doc",
					    "x/.hidden", "LPT" };
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		cr_assert_eq(open_hostile(good[i], NULL, NULL), ST_OK, "\"%s\": %s", good[i],
			     st_last_error());
}

Test(store_damage, forged_counts_and_random_mutations_never_crash)
{
	/* A valid catalog with a few files of each kind... */
	struct st_catalog *c = catalog_new();
	c->info.format = ST_FORMAT_DIRECTORY;
	c->info.volume_letter = 'C';
	for (int i = 0; i < 5; i++) {
		char p[32];
		snprintf(p, sizeof(p), "dir/f%d", i);
		struct st_file f = test_file(p, (uint64_t)i);
		struct st_stream s[2] = { { .name = "", .size = 5, .has_hash = true },
					  { .name = "Zone.Identifier", .size = 3, .has_hash = true } };
		cr_assert_eq(catalog_add_file(c, &f, i == 4 ? 0 : -1, s, NULL, i == 4 ? 0 : 2), ST_OK);
	}
	struct st_reg_value v = { "S-1", "HKCU\\x", "n", 4, (const uint8_t *)"abcd", 4, "d" };
	cr_assert_eq(catalog_add_reg(c, &v), ST_OK);
	struct st_skipped sk = { "x", "S-1", "r" };
	cr_assert_eq(catalog_add_skipped(c, &sk), ST_OK);
	struct buf b = { 0 };
	cr_assert_eq(catalog_serialize(c, &b), ST_OK);
	catalog_free(c);
	struct st_catalog *out;
	cr_assert_eq(catalog_parse(b.p, b.len, ST_FORMAT_DIRECTORY, 0, 0, &out), ST_OK, "%s",
		     st_last_error());
	cr_assert_eq(out->file_count, 5);
	cr_assert_eq(out->files[4].link_to, 0);
	catalog_free(out);
	/* ...mutated at random (checksum recomputed so the parser sees it all). */
	uint8_t *m = malloc(b.len);
	uint64_t seed = 12345;
	int accepted = 0;
	for (int round = 0; round < 20000; round++) {
		memcpy(m, b.p, b.len);
		int flips = 1 + round % 4;
		for (int k = 0; k < flips; k++) {
			seed = seed * 6364136223846793005ull + 1442695040888963407ull;
			size_t at = 16 + (size_t)(seed >> 33) % (b.len - 48);
			uint8_t val = (uint8_t)(seed >> 20);
			if (round % 3 == 0)
				val = (uint8_t[]){ 0, 0xff, 0x7f, 0x80 }[(seed >> 12) % 4];
			m[at] = val;
		}
		crypto_generichash(m + b.len - 32, 32, m, b.len - 32, NULL, 0);
		enum st_status st = catalog_parse(m, b.len, ST_FORMAT_DIRECTORY, 0, 0, &out);
		if (st == ST_OK) {
			accepted++;
			for (size_t i = 0; i < out->file_count; i++)
				cr_assert_eq(st_check_path(out->files[i].path), ST_OK);
			catalog_free(out);
		} else {
			cr_assert(st == ST_ERR_CORRUPT || st == ST_ERR_UNSAFE || st == ST_ERR_VERSION,
				  "status %d", st);
		}
	}
	cr_assert_lt(accepted, 20000);
	/* Truncations at every length. */
	for (size_t len = 0; len < b.len; len++)
		cr_assert_neq(catalog_parse(b.p, len, ST_FORMAT_DIRECTORY, 0, 0, &out), ST_OK);
	free(m);
	buf_free(&b);
}

/* A reader keeps a value many files repeat (owner, decision, security
 * descriptor, stream name) once, and every file still reads its own value. */
Test(store_damage, repeated_values_are_kept_once)
{
	static const uint8_t other_sd[] = { 1, 0, 4, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
					    0, 0, 0, 1 };
	struct st_catalog *c = catalog_new();
	c->info.format = ST_FORMAT_DIRECTORY;
	c->info.volume_letter = 'C';
	for (int i = 0; i < 3000; i++) {
		char p[64];
		snprintf(p, sizeof(p), "dir/f%d", i);
		struct st_file f = test_file(p, (uint64_t)i);
		if (i % 1000 == 999) { /* a few differ */
			f.owner = "S-1-5-21-9-9-9-1002";
			f.decision = "include: <pattern>C:\\Data\\* [*]</pattern>";
			f.security = other_sd;
			f.security_len = sizeof(other_sd);
		}
		struct st_stream s[1] = { { .name = "", .size = 1, .has_hash = true } };
		cr_assert_eq(catalog_add_file(c, &f, -1, s, NULL, 1), ST_OK);
	}
	struct buf b = { 0 };
	cr_assert_eq(catalog_serialize(c, &b), ST_OK);
	catalog_free(c);
	struct st_catalog *out;
	cr_assert_eq(catalog_parse(b.p, b.len, ST_FORMAT_DIRECTORY, 0, 0, &out), ST_OK, "%s",
		     st_last_error());
	buf_free(&b);
	const struct st_file *first = &out->files[0], *odd = &out->files[999];
	for (size_t i = 0; i < out->file_count; i++) {
		const struct st_file *f = &out->files[i];
		const struct st_file *like = i % 1000 == 999 ? odd : first;
		cr_assert_eq(f->owner, like->owner, "file %zu: owner not shared", i);
		cr_assert_eq(f->decision, like->decision);
		cr_assert_eq(f->security, like->security);
		cr_assert_eq(f->streams[0].name, first->streams[0].name);
	}
	cr_assert_neq(odd->owner, first->owner);
	cr_expect_str_eq(first->owner, "S-1-5-21-1-2-3-1001");
	cr_expect_str_eq(odd->owner, "S-1-5-21-9-9-9-1002");
	cr_expect_str_eq(odd->decision, "include: <pattern>C:\\Data\\* [*]</pattern>");
	cr_assert_eq(odd->security_len, sizeof(other_sd));
	cr_expect_arr_eq(odd->security, other_sd, sizeof(other_sd));
	cr_expect_str_eq(out->files[2999].path, "dir/f2999");
	catalog_free(out);
}
