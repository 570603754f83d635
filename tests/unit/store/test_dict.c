/*
 * The compressed store's dictionary and per-file frames: many small files
 * that resemble each other (slices of one pool, like the --scale fixture)
 * must compress across each other, while a flipped bit still damages exactly
 * one file; the dictionary is stored twice, so one damaged copy costs
 * nothing; and stores of format version 1 (no dictionary, shared frames)
 * still read.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>
#include <zstd.h>

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
TestSuite(store_dict, .init = setup, .fini = teardown, .timeout = 300);

#define POOL (512u << 10)
#define BIG (6u << 20)

struct tfile {
	char path[64];
	size_t off, len; /* in the pool, or the big buffer when big */
	bool big;
};

static uint8_t *pool, *big;
static struct tfile *files;
static size_t nfiles;

static uint64_t rng = 88172645463325252ull;
static uint64_t
rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

/* @n files of 20..16384 bytes (log-uniform), each a slice of a 512 KiB
 * random pool; with @extras, three large random files early (held back with
 * the samples), a copy of the first and copies of small files late (after
 * the dictionary), and an empty file. */
static void
plan(size_t n, bool extras)
{
	pool = content(4242, POOL, false);
	big = content(777, BIG, false);
	files = calloc(n + 16, sizeof(*files));
	nfiles = 0;
	for (size_t i = 0; i < n; i++) {
		struct tfile *f = &files[nfiles++];
		snprintf(f->path, sizeof(f->path), "Users/a/d%03zu/f%05zu.dat", i / 200, i);
		f->len = (size_t)exp(log(20) + (double)(rnd() % 100000) / 100000.0 *
				     (log(16384) - log(20)));
		f->off = (size_t)(rnd() % (POOL - f->len));
		if (extras && i == 100) {
			/* Held, then sent on back to back: 6 MiB (a 4 MiB frame and a
			 * 2 MiB one), then 2.5 MiB and 1.5 MiB slices of it. */
			const char *names[] = { "Users/a/big.bin", "Users/a/big-part.bin",
						"Users/a/big-tail.bin" };
			size_t lens[] = { BIG, (5u << 20) / 2, (3u << 20) / 2 };
			for (int k = 0; k < 3; k++) {
				f = &files[nfiles++];
				snprintf(f->path, sizeof(f->path), "%s", names[k]);
				f->big = true;
				f->off = (size_t)k * 4096;
				f->len = lens[k];
			}
		}
	}
	if (extras) {
		struct tfile *f = &files[nfiles++];
		snprintf(f->path, sizeof(f->path), "Users/b/copy-of-big.bin");
		f->big = true;
		f->len = BIG;
		for (int k = 0; k < 3; k++) {
			f = &files[nfiles++];
			*f = files[k * 1000 + 7];
			snprintf(f->path, sizeof(f->path), "Users/b/copy%d.dat", k);
		}
		f = &files[nfiles++];
		snprintf(f->path, sizeof(f->path), "Users/b/empty.txt");
	}
}

static const uint8_t *
data_of(const struct tfile *f)
{
	return f->big ? big + f->off : pool + f->off;
}

static void
write_store(const struct st_key *key, struct st_writer_stats *stats)
{
	struct st_create_options o = { .format = ST_FORMAT_COMPRESSED, .path = store, .threads = 2,
				       .key = key, .kdf_ops = 1, .kdf_mem = 8u << 20 };
	struct st_writer *w;
	bool need;
	cr_assert_eq(st_writer_create(&o, &w), ST_OK, "%s", st_last_error());
	for (size_t i = 0; i < nfiles; i++) {
		struct st_file f = test_file(files[i].path, 1000 + i);
		cr_assert_eq(st_writer_begin_file(w, &f, &need), ST_OK, "%s", st_last_error());
		const uint8_t *d = data_of(&files[i]);
		for (size_t at = 0; at < files[i].len; at += 65536) {
			size_t k = files[i].len - at < 65536 ? files[i].len - at : 65536;
			cr_assert_eq(st_writer_write_data(w, d + at, k), ST_OK, "%s", st_last_error());
		}
		cr_assert_eq(st_writer_end_file(w), ST_OK, "%s", st_last_error());
	}
	if (stats)
		st_writer_stats(w, stats);
	cr_assert_eq(st_writer_finish(w, 0), ST_OK, "%s", st_last_error());
}

static void
check_all(struct st_reader *r)
{
	cr_assert_eq(st_reader_file_count(r), nfiles);
	for (size_t i = 0; i < nfiles; i++) {
		uint8_t *d;
		size_t len;
		cr_assert_eq(slurp(r, i, 0, &d, &len), ST_OK, "%s: %s", files[i].path, st_last_error());
		cr_assert_eq(len, files[i].len, "%s", files[i].path);
		cr_assert(memcmp(d, data_of(&files[i]), len) == 0, "%s differs", files[i].path);
		free(d);
	}
}

/* The dictionary's place, from the (version 2) trailer. */
struct dict_place {
	uint64_t off, copy, len, data_start, data_end;
};
static struct dict_place
dict_place(void)
{
	size_t len;
	uint8_t *m = read_whole(mig, &len);
	const uint8_t *t = m + len - 96;
	cr_assert(memcmp(t, "WSTPEND\x1a", 8) == 0);
	cr_assert_eq(fmt_le32(t + 8), 2);
	struct dict_place d = { fmt_le64(t + 56), fmt_le64(t + 64), fmt_le64(t + 72), 0, 0 };
	d.data_start = d.off + d.len;
	d.data_end = d.copy;
	free(m);
	return d;
}

static void
free_plan(void)
{
	free(pool);
	free(big);
	free(files);
}

Test(store_dict, similar_small_files_compress_across_each_other)
{
	plan(9000, true); /* ~21 MiB of small files: the dictionary comes mid-capture */
	struct st_writer_stats stats;
	write_store(NULL, &stats);
	uint64_t small = 0;
	for (size_t i = 0; i < nfiles; i++)
		if (!files[i].big)
			small += files[i].len;
	cr_assert_eq(stats.dedup_hits, 4, "the late copies were found: %llu",
		     (unsigned long long)stats.dedup_hits);
	struct dict_place d = dict_place();
	cr_assert_eq(d.off, 128, "a dictionary right after the header");
	cr_assert_gt(d.len, 16u << 10);
	uint64_t size = file_size(mig);
	/* Each file alone is random, so only cross-file matches (the dictionary)
	 * can shrink them: without it they would take ~small bytes. */
	cr_assert_lt(size, 2 * BIG + small / 3, "store %llu bytes for %llu bytes of small files",
		     (unsigned long long)size, (unsigned long long)small);
	struct st_reader *r;
	cr_assert_eq(st_reader_open(store, NULL, &r), ST_OK, "%s", st_last_error());
	check_all(r);
	struct st_verify_result vr;
	cr_assert_eq(st_reader_verify(r, NULL, NULL, &vr), ST_OK, "%s", st_last_error());
	cr_assert_eq(vr.files_ok, nfiles);
	st_reader_close(r);
	free_plan();
}

static size_t ndamaged;
static char first_damaged[256], first_why[512];
static void
on_damage(const char *path, const char *why, void *ctx)
{
	(void)ctx;
	if (!ndamaged++) {
		snprintf(first_damaged, sizeof(first_damaged), "%s", path);
		snprintf(first_why, sizeof(first_why), "%s", why);
	}
}

static size_t
verify_count(const struct st_key *key)
{
	struct st_reader *r;
	cr_assert_eq(st_reader_open(store, key, &r), ST_OK, "%s", st_last_error());
	ndamaged = 0;
	struct st_verify_result vr;
	enum st_status st = st_reader_verify(r, on_damage, NULL, &vr);
	cr_assert_eq(st == ST_OK, ndamaged == 0);
	cr_assert_eq(vr.files_damaged, ndamaged);
	st_reader_close(r);
	return ndamaged;
}

/* Flip bytes spread over the frames: each names exactly one file. */
static void
flips_damage_one_file_each(const struct st_key *key)
{
	struct dict_place d = dict_place();
	cr_assert_gt(d.data_end, d.data_start);
	for (int k = 0; k < 24; k++) {
		uint64_t at = d.data_start + (d.data_end - d.data_start) * (uint64_t)(2 * k + 1) / 48;
		flip_byte(mig, at);
		cr_assert_eq(verify_count(key), 1, "a flip at %llu damaged %zu files (first %s)",
			     (unsigned long long)at, ndamaged, first_damaged);
		flip_byte(mig, at);
	}
}

Test(store_dict, a_flip_damages_one_small_file_and_one_dictionary_copy_is_enough)
{
	plan(3000, false);
	write_store(NULL, NULL);
	cr_assert_eq(verify_count(NULL), 0);
	flips_damage_one_file_each(NULL);

	struct dict_place d = dict_place();
	flip_byte(mig, d.off + 16 + d.len / 2); /* the first copy */
	cr_assert_eq(verify_count(NULL), 0, "the second copy is used: %s", first_why);
	struct st_reader *r;
	cr_assert_eq(st_reader_open(store, NULL, &r), ST_OK, "%s", st_last_error());
	check_all(r);
	st_reader_close(r);
	flip_byte(mig, d.copy + 3); /* and the second (its checksum) */
	cr_assert_eq(verify_count(NULL), nfiles, "without a dictionary every file is lost");
	cr_assert(strstr(first_why, "dictionary"), "%s", first_why);
	flip_byte(mig, d.off + 16 + d.len / 2);
	cr_assert_eq(verify_count(NULL), 0, "the first copy alone is enough");
	free_plan();
}

Test(store_dict, encrypted_stores_seal_the_dictionary)
{
	struct st_key key = { .kind = ST_KEY_RAW };
	memset(key.raw, 0x5a, sizeof(key.raw));
	plan(3000, false);
	write_store(&key, NULL);
	struct dict_place d = dict_place();
	cr_assert_gt(d.len, 16u << 10);
	/* Sealed: the pool's bytes are nowhere in the file, not even in the dictionary. */
	size_t len;
	uint8_t *m = read_whole(mig, &len);
	cr_assert_null(memmem(m, len, pool + 1000, 64));
	free(m);
	struct st_reader *r;
	cr_assert_eq(st_reader_open(store, &key, &r), ST_OK, "%s", st_last_error());
	check_all(r);
	st_reader_close(r);
	flips_damage_one_file_each(&key);
	flip_byte(mig, d.off + 16 + 40);
	cr_assert_eq(verify_count(&key), 0, "the second copy is used: %s", first_why);
	free_plan();
}

Test(store_dict, too_little_to_learn_from_means_no_dictionary)
{
	plan(10, false);
	write_store(NULL, NULL);
	struct dict_place d = dict_place();
	cr_assert_eq(d.off, 0);
	cr_assert_eq(d.len, 0);
	struct st_reader *r;
	cr_assert_eq(st_reader_open(store, NULL, &r), ST_OK, "%s", st_last_error());
	check_all(r);
	st_reader_close(r);
	free_plan();
}

/* A version 1 store, written here byte by byte as winstate 1 wrote them:
 * two files packed into one frame, no dictionary, a 64-byte trailer. */
Test(store_dict, version_1_stores_still_read)
{
	char usmt[4300];
	snprintf(usmt, sizeof(usmt), "%s/USMT", store);
	cr_assert_eq(sh("mkdir -p '%s'", usmt), 0);
	uint8_t *a = content(1, 3000, true), *b = content(2, 5000, false);
	uint8_t raw[8000];
	memcpy(raw, a, 3000);
	memcpy(raw + 3000, b, 5000);
	uint8_t frame[9000];
	ZSTD_CCtx *cc = ZSTD_createCCtx();
	ZSTD_CCtx_setParameter(cc, ZSTD_c_checksumFlag, 1); /* as version 1 wrote them */
	size_t fn = ZSTD_compress2(cc, frame, sizeof(frame), raw, sizeof(raw));
	ZSTD_freeCCtx(cc);
	cr_assert(!ZSTD_isError(fn));

	struct st_catalog *c = catalog_new();
	c->info.format = ST_FORMAT_COMPRESSED;
	c->info.volume_letter = 'C';
	c->info.version = 1;
	struct st_stream s = { .name = "", .has_hash = true };
	uint64_t off = 0;
	struct st_file f = test_file("Users/a/a.txt", 1);
	s.size = 3000;
	crypto_generichash(s.hash, ST_HASH_BYTES, a, 3000, NULL, 0);
	cr_assert_eq(catalog_add_file(c, &f, -1, &s, &off, 1), ST_OK);
	f = test_file("Users/a/b.bin", 2);
	s.size = 5000;
	off = 3000;
	crypto_generichash(s.hash, ST_HASH_BYTES, b, 5000, NULL, 0);
	cr_assert_eq(catalog_add_file(c, &f, -1, &s, &off, 1), ST_OK);
	cr_assert_eq(catalog_add_frame(c, 128, (uint32_t)fn, sizeof(raw)), ST_OK);
	struct buf cat = { 0 };
	cr_assert_eq(catalog_serialize(c, &cat), ST_OK);
	catalog_free(c);
	uint8_t zcat[1 << 16];
	size_t zn = ZSTD_compress(zcat, sizeof(zcat), cat.p, cat.len, 3);
	cr_assert(!ZSTD_isError(zn));

	uint8_t h[128] = "WSTPACK\x1a";
	fmt_put_le32(h + 8, 1);
	crypto_generichash(h + 112, 16, h, 112, NULL, 0);
	uint8_t t[64] = "WSTPEND\x1a";
	fmt_put_le32(t + 8, 1);
	fmt_put_le64(t + 16, 128 + fn);
	fmt_put_le64(t + 24, zn);
	fmt_put_le64(t + 32, cat.len);
	crypto_generichash(t + 40, 16, zcat, zn, NULL, 0);
	crypto_generichash(t + 56, 8, t, 56, NULL, 0);
	struct buf file = { 0 };
	buf_put(&file, h, sizeof(h));
	buf_put(&file, frame, fn);
	buf_put(&file, zcat, zn);
	buf_put(&file, t, sizeof(t));
	write_whole(mig, file.p, file.len);
	buf_free(&file);
	buf_free(&cat);

	struct st_reader *r;
	cr_assert_eq(st_reader_open(store, NULL, &r), ST_OK, "%s", st_last_error());
	uint8_t *d;
	size_t len;
	cr_assert_eq(slurp(r, 0, 0, &d, &len), ST_OK, "%s", st_last_error());
	cr_assert(len == 3000 && memcmp(d, a, 3000) == 0);
	free(d);
	cr_assert_eq(slurp(r, 1, 0, &d, &len), ST_OK, "%s", st_last_error());
	cr_assert(len == 5000 && memcmp(d, b, 5000) == 0);
	free(d);
	cr_assert_eq(st_reader_verify(r, NULL, NULL, NULL), ST_OK, "%s", st_last_error());
	st_reader_close(r);
	/* Damage in its shared frame names both files in it, as version 1 did. */
	flip_byte(mig, 128 + fn / 2);
	cr_assert_eq(verify_count(NULL), 2);
	free(a);
	free(b);
}

/* A catalog of many files is spooled compressed while the capture runs and
 * written piece by piece at the end: every record must come back, in order,
 * links included, in both formats that write it locally. */
static void
many_files(enum st_format format, size_t n)
{
	struct st_create_options o = { .format = format, .path = store, .threads = 2 };
	struct st_writer *w;
	bool need;
	char path[96];
	cr_assert_eq(st_writer_create(&o, &w), ST_OK, "%s", st_last_error());
	for (size_t i = 0; i < n; i++) {
		/* Every 10th file is a second name of the file before it. */
		uint64_t src = i % 10 == 9 ? 1000 + i - 1 : 1000 + i;
		snprintf(path, sizeof(path), "Users/a/Documents/folder%03zu/file-%07zu.txt", i / 500, i);
		struct st_file f = test_file(path, src);
		cr_assert_eq(st_writer_begin_file(w, &f, &need), ST_OK, "%s", st_last_error());
		cr_assert_eq(need, i % 10 != 9);
		if (need) {
			char data[64];
			int len = snprintf(data, sizeof(data), "content of file %zu\n", i);
			cr_assert_eq(st_writer_write_data(w, data, (size_t)len), ST_OK);
		}
		cr_assert_eq(st_writer_end_file(w), ST_OK, "%s", st_last_error());
	}
	cr_assert_eq(st_writer_finish(w, 0), ST_OK, "%s", st_last_error());
	struct st_reader *r;
	cr_assert_eq(st_reader_open(store, NULL, &r), ST_OK, "%s", st_last_error());
	cr_assert_eq(st_reader_file_count(r), n);
	for (size_t i = 0; i < n; i += 997) {
		const struct st_file *f = st_reader_file(r, i);
		snprintf(path, sizeof(path), "Users/a/Documents/folder%03zu/file-%07zu.txt", i / 500, i);
		cr_assert_str_eq(f->path, path);
		cr_assert_eq(f->link_to, i % 10 == 9 ? (int64_t)i - 1 : -1, "%s", path);
		uint8_t *d;
		size_t len;
		char want[64];
		snprintf(want, sizeof(want), "content of file %zu\n", i % 10 == 9 ? i - 1 : i);
		cr_assert_eq(slurp(r, i, 0, &d, &len), ST_OK, "%s", st_last_error());
		cr_assert(len == strlen(want) && memcmp(d, want, len) == 0, "%s", path);
		free(d);
	}
	cr_assert_eq(st_reader_verify(r, NULL, NULL, NULL), ST_OK, "%s", st_last_error());
	st_reader_close(r);
}

Test(store_dict, a_large_catalog_comes_back_whole)
{
	many_files(ST_FORMAT_COMPRESSED, 120000);
	snprintf(store, sizeof(store), "%s/dstore", dir);
	many_files(ST_FORMAT_DIRECTORY, 3000);
}
