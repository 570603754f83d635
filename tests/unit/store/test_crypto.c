/*
 * Encrypted compressed stores: passphrase (Argon2id) and raw key files,
 * wrong keys refused with "wrong key or damaged store", nothing readable in
 * the file, and damage still named per file.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

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
TestSuite(store_crypto, .init = setup, .fini = teardown, .timeout = 120);

static void
write_store(const struct st_key *key)
{
	struct st_create_options o = { .format = ST_FORMAT_COMPRESSED, .path = store, .key = key,
				       .kdf_ops = 1, .kdf_mem = 8u << 20, .threads = 2 };
	struct st_writer *w;
	bool need;
	cr_assert_eq(st_writer_create(&o, &w), ST_OK, "%s", st_last_error());
	struct st_file f = test_file("Users/a/secret.bin", 1);
	cr_assert_eq(st_writer_begin_file(w, &f, &need), ST_OK);
	feed(w, 77, 6u << 20, false, 50000);
	cr_assert_eq(st_writer_add_stream(w, "Zone.Identifier", "[ZoneTransfer]", 14), ST_OK);
	cr_assert_eq(st_writer_end_file(w), ST_OK);
	f = test_file("Users/a/note.txt", 2);
	cr_assert_eq(st_writer_begin_file(w, &f, &need), ST_OK);
	feed(w, 78, 5000, true, 1000);
	cr_assert_eq(st_writer_end_file(w), ST_OK);
	struct st_reg_value v = { "S-1", "HKCU\\Secret", "token", 1, (const uint8_t *)"hunter2", 7,
				  "d" };
	cr_assert_eq(st_writer_add_registry(w, &v), ST_OK);
	cr_assert_eq(st_writer_finish(w, 0), ST_OK, "%s", st_last_error());
}

static void
check_store(const struct st_key *key)
{
	struct st_reader *r;
	cr_assert_eq(st_reader_open(store, key, &r), ST_OK, "%s", st_last_error());
	cr_assert(st_reader_info(r)->encrypted);
	cr_assert_eq(st_reader_file_count(r), 2);
	uint8_t *d, *want = content(77, 6u << 20, false);
	size_t len;
	cr_assert_eq(slurp(r, 0, 0, &d, &len), ST_OK, "%s", st_last_error());
	cr_assert_eq(len, 6u << 20);
	cr_assert(memcmp(d, want, len) == 0);
	free(d);
	free(want);
	cr_assert_eq(slurp(r, 0, 1, &d, &len), ST_OK);
	cr_assert(len == 14 && memcmp(d, "[ZoneTransfer]", 14) == 0);
	free(d);
	cr_assert_eq(st_reader_registry(r, 0)->len, 7);
	cr_assert_eq(st_reader_verify(r, NULL, NULL, NULL), ST_OK, "%s", st_last_error());
	st_reader_close(r);
}

static bool
file_contains(const char *path, const void *needle, size_t n)
{
	size_t len;
	uint8_t *p = read_whole(path, &len);
	bool found = memmem(p, len, needle, n) != NULL;
	free(p);
	return found;
}

Test(store_crypto, passphrase_round_trip_and_wrong_key)
{
	struct st_key key = { .kind = ST_KEY_PASSPHRASE, .passphrase = "correct horse battery" };
	write_store(&key);
	check_store(&key);
	/* Nothing in clear: neither data (random, so stored raw by zstd) nor the catalog. */
	uint8_t *sample = content(77, 4096, false);
	cr_assert(!file_contains(mig, sample + 1000, 64), "file data visible in the store");
	free(sample);
	cr_assert(!file_contains(mig, "secret.bin", 10), "names visible in the store");
	cr_assert(!file_contains(mig, "hunter2", 7), "registry visible in the store");

	struct st_reader *r;
	struct st_key wrong = { .kind = ST_KEY_PASSPHRASE, .passphrase = "correct horse battery!" };
	cr_assert_eq(st_reader_open(store, &wrong, &r), ST_ERR_KEY);
	cr_assert(strstr(st_last_error(), "wrong key or damaged store"), "%s", st_last_error());
	cr_assert_eq(st_reader_open(store, NULL, &r), ST_ERR_KEY);
	cr_assert(strstr(st_last_error(), "encrypted"), "%s", st_last_error());
	struct st_key raw = { .kind = ST_KEY_RAW };
	cr_assert_eq(st_reader_open(store, &raw, &r), ST_ERR_KEY);
}

Test(store_crypto, unencrypted_store_shows_data_so_the_check_above_can_fail)
{
	write_store(NULL);
	uint8_t *sample = content(77, 4096, false);
	cr_assert(file_contains(mig, sample + 1000, 64));
	free(sample);
}

Test(store_crypto, raw_key_files)
{
	char kf[4300], hexf[4300], badf[4300];
	uint8_t raw[32];
	for (int i = 0; i < 32; i++)
		raw[i] = (uint8_t)(i * 7 + 1);
	snprintf(kf, sizeof(kf), "%s/key.bin", dir);
	snprintf(hexf, sizeof(hexf), "%s/key.hex", dir);
	snprintf(badf, sizeof(badf), "%s/key.bad", dir);
	write_whole(kf, raw, 32);
	char hex[80];
	for (int i = 0; i < 32; i++)
		sprintf(hex + 2 * i, "%02x", raw[i]);
	strcat(hex, "\n");
	write_whole(hexf, hex, strlen(hex));
	write_whole(badf, "short", 5);
	struct st_key k1, k2, k3;
	cr_assert_eq(st_key_from_file(kf, &k1), ST_OK, "%s", st_last_error());
	cr_assert_eq(st_key_from_file(hexf, &k2), ST_OK, "%s", st_last_error());
	cr_assert_eq(st_key_from_file(badf, &k3), ST_ERR_KEY);
	cr_assert(memcmp(k1.raw, k2.raw, 32) == 0);
	write_store(&k1);
	check_store(&k2);
	struct st_reader *r;
	k2.raw[31] ^= 1;
	cr_assert_eq(st_reader_open(store, &k2, &r), ST_ERR_KEY);
	struct st_key pass = { .kind = ST_KEY_PASSPHRASE, .passphrase = "x" };
	cr_assert_eq(st_reader_open(store, &pass, &r), ST_ERR_KEY);
}

static int ndamaged;
static void
on_damage(const char *path, const char *why, void *ctx)
{
	(void)why, (void)ctx;
	cr_assert_str_eq(path, "Users/a/secret.bin");
	ndamaged++;
}

Test(store_crypto, damage_in_an_encrypted_frame_names_the_file)
{
	struct st_key key = { .kind = ST_KEY_PASSPHRASE, .passphrase = "pw" };
	write_store(&key);
	flip_byte(mig, 128 + 4096);
	struct st_reader *r;
	cr_assert_eq(st_reader_open(store, &key, &r), ST_OK, "%s", st_last_error());
	ndamaged = 0;
	cr_assert_eq(st_reader_verify(r, on_damage, NULL, NULL), ST_ERR_CORRUPT);
	cr_assert_eq(ndamaged, 1);
	st_reader_close(r);
}

Test(store_crypto, encryption_needs_a_compressed_store)
{
	struct st_key key = { .kind = ST_KEY_PASSPHRASE, .passphrase = "pw" };
	struct st_create_options o = { .format = ST_FORMAT_DIRECTORY, .path = store, .key = &key };
	struct st_writer *w;
	cr_assert_eq(st_writer_create(&o, &w), ST_ERR_INVALID);
}
