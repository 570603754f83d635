/*
 * Raw EFS files (--efs copyraw) in compressed and directory stores: marked
 * raw_efs by readers, their $EFS metadata kept in stream ST_EFS_STREAM, the
 * name accepted only for encrypted files, and never extracted as a file.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <criterion/criterion.h>

#include "tests/unit/store/helpers.h"

static char *dir;
static void setup(void) { dir = scratch_dir(); }
static void teardown(void) { scratch_done(dir); }
TestSuite(store_raw_efs, .init = setup, .fini = teardown, .timeout = 120);

static void
round_trip(enum st_format format)
{
	char path[4096], out[4096];
	snprintf(path, sizeof(path), "%s/store", dir);
	snprintf(out, sizeof(out), "%s/extracted", dir);
	struct st_create_options o = { .format = format, .path = path, .computer = "PC",
				       .windows_version = "10", .winstate_version = "t" };
	struct st_writer *w;
	bool need;
	cr_assert_eq(st_writer_create(&o, &w), ST_OK, "%s", st_last_error());

	/* A plain file cannot carry $EFS metadata. */
	struct st_file plain = test_file("Users/a/plain.txt", 1);
	cr_assert_eq(st_writer_begin_file(w, &plain, &need), ST_OK);
	feed(w, 1, 100, true, 64);
	cr_assert_eq(st_writer_begin_stream(w, ST_EFS_STREAM), ST_ERR_INVALID);
	cr_assert(strstr(st_last_error(), "not EFS-encrypted"), "%s", st_last_error());
	cr_assert_eq(st_writer_end_file(w), ST_OK, "%s", st_last_error());
	/* Nor may a caller pass another name with ':'. */
	struct st_file other = test_file("Users/a/other.txt", 3);
	cr_assert_eq(st_writer_begin_file(w, &other, &need), ST_OK);
	feed(w, 3, 10, true, 64);
	cr_assert_eq(st_writer_begin_stream(w, "::$DATA"), ST_ERR_UNSAFE);
	cr_assert_eq(st_writer_end_file(w), ST_OK, "%s", st_last_error());

	/* A raw EFS file: raw unnamed data, a raw named stream, the metadata. */
	struct st_file enc = test_file("Users/a/secret.docx", 2);
	enc.attributes = NV_ATTR_ARCHIVE | NV_ATTR_ENCRYPTED;
	uint8_t info[100] = { 100 };
	cr_assert_eq(st_writer_begin_file(w, &enc, &need), ST_OK, "%s", st_last_error());
	cr_assert(need);
	feed(w, 2, 1026, false, 300);
	uint8_t zone[514] = { 0 };
	cr_assert_eq(st_writer_add_stream(w, "Zone.Identifier", zone, sizeof(zone)), ST_OK);
	cr_assert_eq(st_writer_add_stream(w, ST_EFS_STREAM, info, sizeof(info)), ST_OK, "%s",
		     st_last_error());
	cr_assert_eq(st_writer_end_file(w), ST_OK, "%s", st_last_error());
	cr_assert_eq(st_writer_finish(w, 0), ST_OK, "%s", st_last_error());

	struct st_reader *r;
	cr_assert_eq(st_reader_open(path, NULL, &r), ST_OK, "%s", st_last_error());
	int64_t pi = st_reader_find(r, "Users/a/plain.txt"), ei = st_reader_find(r, "Users/a/secret.docx");
	cr_assert(pi >= 0 && ei >= 0);
	cr_assert(!st_reader_file(r, (size_t)pi)->raw_efs);
	/* Version 2: an older winstate refuses the store rather than restore
	 * ciphertext as the file's contents. */
	cr_assert_eq(st_reader_info(r)->version, 2);
	const struct st_file *f = st_reader_file(r, (size_t)ei);
	cr_assert(f->raw_efs);
	cr_assert_eq(f->stream_count, 3);
	cr_assert_str_eq(f->streams[2].name, ST_EFS_STREAM);
	uint8_t *data;
	size_t len;
	cr_assert_eq(slurp(r, (size_t)ei, 2, &data, &len), ST_OK, "%s", st_last_error());
	cr_assert(len == sizeof(info) && !memcmp(data, info, len), "the $EFS metadata differs");
	free(data);
	cr_assert_eq(slurp(r, (size_t)ei, 0, &data, &len), ST_OK);
	cr_assert_eq(len, 1026);
	free(data);
	struct st_verify_result vr;
	cr_assert_eq(st_reader_verify(r, NULL, NULL, &vr), ST_OK, "%s", st_last_error());

	/* Extract: the plain files come out, the ciphertext does not. */
	size_t count = 0;
	cr_assert_eq(st_reader_extract(r, NULL, out, 0, &count), ST_ERR_REFUSED);
	cr_assert(strstr(st_last_error(), "Users/a/secret.docx is EFS-encrypted and stored raw"),
		  "%s", st_last_error());
	cr_assert_eq(count, 2);
	struct stat sb;
	char p[8192];
	snprintf(p, sizeof(p), "%s/Users/a/secret.docx", out);
	cr_assert_neq(stat(p, &sb), 0, "the ciphertext was extracted as a file");
	snprintf(p, sizeof(p), "%s/Users/a/plain.txt", out);
	cr_assert_eq(stat(p, &sb), 0, "the plain file was not extracted");
	st_reader_close(r);
}

Test(store_raw_efs, compressed_store)
{
	round_trip(ST_FORMAT_COMPRESSED);
}

Test(store_raw_efs, directory_store)
{
	round_trip(ST_FORMAT_DIRECTORY);
}
