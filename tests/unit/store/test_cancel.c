/*
 * st_writer_cancel_file: a file whose source failed part-way is taken back,
 * and the store around it stays whole.  Cases: a small stream packed after
 * other files, a large stream whose first frames already went to the
 * compression threads, a named stream after a complete unnamed one, a file
 * cancelled before its first byte, and content identical to a cancelled
 * file's partial bytes written right after; compressed (also encrypted) and
 * directory stores.  Each store must verify, name
 * only the files that were ended, and read each one back exactly.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/unit/store/helpers.h"

struct kept {
	const char *path;
	uint64_t seed;
	size_t len;
};

static void
put(struct st_writer *w, const char *path, uint64_t id, uint64_t seed, size_t len)
{
	struct st_file f = test_file(path, id);
	bool need = false;
	cr_assert_eq(st_writer_begin_file(w, &f, &need), ST_OK, "%s", st_last_error());
	cr_assert(need);
	feed(w, seed, len, false, 65536);
	cr_assert_eq(st_writer_end_file(w), ST_OK, "%s", st_last_error());
}

/* Begin @path, write @partial bytes (of a stream named @stream when not
 * NULL, after a complete unnamed one), then cancel. */
static void
cancelled(struct st_writer *w, const char *path, uint64_t id, uint64_t seed, size_t partial,
	  const char *stream)
{
	struct st_file f = test_file(path, id);
	bool need = false;
	cr_assert_eq(st_writer_begin_file(w, &f, &need), ST_OK, "%s", st_last_error());
	if (stream) {
		feed(w, seed + 1000, 70000, false, 65536);
		cr_assert_eq(st_writer_begin_stream(w, stream), ST_OK, "%s", st_last_error());
	}
	if (partial)
		feed(w, seed, partial, false, 65536);
	cr_assert_eq(st_writer_cancel_file(w), ST_OK, "%s", st_last_error());
}

static void
run(enum st_format format, const struct st_key *key)
{
	char *dir = scratch_dir();
	char store[4096];
	snprintf(store, sizeof(store), "%s/s", dir);
	struct st_create_options o = { .format = format, .path = store, .threads = 2, .key = key,
				       .kdf_ops = 1, .kdf_mem = 8u << 20 };
	struct st_writer *w = NULL;
	cr_assert_eq(st_writer_create(&o, &w), ST_OK, "%s", st_last_error());

	static const struct kept kept[] = {
		{ "Users/a/one.txt", 1, 5000 },
		{ "Users/a/two.bin", 2, 300000 },
		{ "Users/a/three.bin", 3, 9 << 20 },      /* over a frame: several frames */
		{ "Users/a/same-as-partial.bin", 40, 200000 },
		{ "Users/a/last.txt", 5, 777 },
	};
	put(w, kept[0].path, 10, kept[0].seed, kept[0].len);
	cancelled(w, "Users/a/bad-small.bin", 11, 40, 200000, NULL); /* packed after one.txt */
	put(w, kept[1].path, 12, kept[1].seed, kept[1].len);
	cancelled(w, "Users/a/bad-large.bin", 13, 41, 13 << 20, NULL); /* frames submitted */
	put(w, kept[2].path, 14, kept[2].seed, kept[2].len);
	cancelled(w, "Users/a/bad-stream.bin", 15, 42, 90000, "Zone.Identifier");
	cancelled(w, "Users/a/bad-empty.bin", 16, 43, 0, NULL);
	put(w, kept[3].path, 17, kept[3].seed, kept[3].len); /* the bytes bad-small had */
	put(w, kept[4].path, 18, kept[4].seed, kept[4].len);
	/* The writer is usable after a cancel, and refuses one out of order. */
	cr_assert_neq(st_writer_cancel_file(w), ST_OK);
	cr_assert_eq(st_writer_finish(w, 0), ST_OK, "%s", st_last_error());

	struct st_reader *r = NULL;
	cr_assert_eq(st_reader_open(store, key, &r), ST_OK, "%s", st_last_error());
	struct st_verify_result vr;
	cr_assert_eq(st_reader_verify(r, NULL, NULL, &vr), ST_OK, "%s", st_last_error());
	cr_assert_eq(vr.files_damaged, 0);
	cr_assert_eq(st_reader_file_count(r), sizeof(kept) / sizeof(kept[0]));
	for (size_t i = 0; i < sizeof(kept) / sizeof(kept[0]); i++) {
		int64_t k = st_reader_find(r, kept[i].path);
		cr_assert_geq(k, 0, "%s is missing", kept[i].path);
		uint8_t *data;
		size_t len;
		cr_assert_eq(slurp(r, (size_t)k, 0, &data, &len), ST_OK, "%s", st_last_error());
		uint8_t *want = content(kept[i].seed, kept[i].len, false);
		cr_assert(len == kept[i].len && !memcmp(data, want, len), "%s reads back wrong",
			  kept[i].path);
		free(want);
		free(data);
	}
	cr_assert_lt(st_reader_find(r, "Users/a/bad-small.bin"), 0);
	cr_assert_lt(st_reader_find(r, "Users/a/bad-large.bin"), 0);
	st_reader_close(r);
	if (format == ST_FORMAT_DIRECTORY) {
		/* No partial file left behind under its name. */
		cr_assert_eq(sh("test ! -e '%s/USMT/File/C$/Users/a/bad-small.bin' && "
				"test ! -e '%s/USMT/File/C$/Users/a/bad-large.bin' && "
				"test ! -e '%s/USMT/File/C$/Users/a/bad-stream.bin'", store, store, store), 0);
	} else {
		/* The 13 MiB taken back are not in the store file. */
		char mig[4200];
		snprintf(mig, sizeof(mig), "%s/USMT/USMT.MIG", store);
		cr_assert_lt(file_size(mig), 12u << 20, "%s holds the data taken back", mig);
	}
	scratch_done(dir);
}

Test(store_cancel, compressed_store_takes_back_partial_files, .timeout = 120)
{
	run(ST_FORMAT_COMPRESSED, NULL);
}

Test(store_cancel, encrypted_store_takes_back_partial_files, .timeout = 120)
{
	struct st_key key = { .kind = ST_KEY_PASSPHRASE, .passphrase = "cancel me" };
	run(ST_FORMAT_COMPRESSED, &key);
}

Test(store_cancel, directory_store_takes_back_partial_files, .timeout = 120)
{
	run(ST_FORMAT_DIRECTORY, NULL);
}
