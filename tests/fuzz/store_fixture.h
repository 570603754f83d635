/*
 * A small store with one of everything a reader must handle: two users,
 * files with data, an empty file, a hard link, duplicate content (dedup), a
 * named stream, a file larger than one pack frame, registry values, a skipped
 * item and a report.  Written by the seed builder (tests/fuzz/mkseeds.c) and
 * by the directory-store fuzzer, which swaps in a fuzzed catalog; also the
 * shape of the fault-injection tests' store.
 */
#ifndef WINSTATE_TESTS_FUZZ_STORE_FIXTURE_H
#define WINSTATE_TESTS_FUZZ_STORE_FIXTURE_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/store.h"

/* The raw key the fuzzers try on an encrypted store (a passphrase would make
 * every input pay for Argon2id). */
static inline void
fz_store_key(struct st_key *key)
{
	memset(key, 0, sizeof(*key));
	key->kind = ST_KEY_RAW;
	memset(key->raw, 0x42, sizeof(key->raw));
}

/* $LXUID 1000 and $LXMOD 0100644, as WSL1 keeps them: a store with EAs is
 * catalog version 3, so mutations reach the EA field. */
static const uint8_t fz_wsl_ea[40] = {
	20, 0, 0, 0, 0, 6, 4, 0, '$', 'L', 'X', 'U', 'I', 'D', 0, 0xe8, 3, 0, 0, 0,
	20, 0, 0, 0, 0, 6, 4, 0, '$', 'L', 'X', 'M', 'O', 'D', 0, 0xa4, 0x81, 0, 0, 0,
};

static inline enum st_status fz_add_file_ea(struct st_writer *w, const char *path,
					    uint64_t source_id, const void *data, size_t len,
					    const char *stream, const char *stream_data,
					    const uint8_t *ea, size_t ea_len);

static inline enum st_status
fz_add_file(struct st_writer *w, const char *path, uint64_t source_id, const void *data,
	    size_t len, const char *stream, const char *stream_data)
{
	return fz_add_file_ea(w, path, source_id, data, len, stream, stream_data, NULL, 0);
}

static inline enum st_status
fz_add_file_ea(struct st_writer *w, const char *path, uint64_t source_id, const void *data,
	       size_t len, const char *stream, const char *stream_data, const uint8_t *ea,
	       size_t ea_len)
{
	static const uint8_t sd[20] = { 1, 0, 4, 0x80 }; /* self-relative, empty */
	struct st_file f = {
		.path = path,
		.owner = "S-1-5-21-1111111111-2222222222-3333333333-1001",
		.decision = "fuzz fixture",
		.source_id = source_id,
		.attributes = 0x20,
		.times = { 132000000000000000ull, 132000000010000000ull, 132000000020000000ull,
			   132000000030000000ull },
		.security = sd,
		.security_len = sizeof(sd),
		.ea = ea,
		.ea_len = ea_len,
	};
	bool need = false;
	enum st_status st = st_writer_begin_file(w, &f, &need);
	if (st)
		return st;
	if (need) {
		if (len && (st = st_writer_write_data(w, data, len)))
			return st;
		if (stream && (st = st_writer_add_stream(w, stream, stream_data, strlen(stream_data))))
			return st;
	}
	return st_writer_end_file(w);
}

/*
 * Write the fixture store at @path (a folder that must not exist).  @key NULL
 * for no encryption.  @big_len bytes of compressible pseudo-random data make
 * the large file (0 leaves it out: a store small enough to loop faults over).
 */
static inline enum st_status
fz_make_store(const char *path, enum st_format format, const struct st_key *key, size_t big_len)
{
	struct st_create_options o = {
		.format = format,
		.path = path,
		.computer = "FUZZPC",
		.windows_version = "10.0.19045",
		.winstate_version = "fuzz",
		.start_time = 1700000000,
		.threads = 1,
		.key = key,
	};
	struct st_writer *w = NULL;
	enum st_status st = st_writer_create(&o, &w);
	if (st)
		return st;
	static const struct st_kv extra[] = { { "domain", "FUZZPC" } };
	struct st_user alice = { "S-1-5-21-1111111111-2222222222-3333333333-1001", "alice",
				 "Users/alice", extra, 1 };
	struct st_user bob = { "S-1-5-21-1111111111-2222222222-3333333333-1002", "bob",
			       "Users/bob", NULL, 0 };
	static const uint8_t dword[4] = { 42, 0, 0, 0 };
	struct st_reg_value reg = { alice.sid, "HKCU\\Control Panel\\Desktop", "WheelScrollLines",
				    4, dword, sizeof(dword), "fuzz fixture" };
	struct st_skipped skip = { "Users/alice/OneDrive/cloud.docx", alice.sid,
				   "OneDrive placeholder, data not on this disk" };
	static const char text[] = "winstate fuzz fixture: some text that compresses a little\n";
	uint8_t *big = NULL;

	if ((st = st_writer_add_user(w, &alice)) || (st = st_writer_add_user(w, &bob)) ||
	    (st = st_writer_add_registry(w, &reg)) || (st = st_writer_add_skipped(w, &skip)))
		goto fail;
	if ((st = fz_add_file(w, "Users/alice/Documents/a.txt", 100, text, sizeof(text) - 1,
			      "Zone.Identifier", "[ZoneTransfer]\r\nZoneId=3\r\n")) ||
	    (st = fz_add_file(w, "Users/alice/Documents/second name of a.txt", 100, NULL, 0, NULL,
			      NULL)) ||
	    (st = fz_add_file_ea(w, "Users/alice/empty.txt", 101, NULL, 0, NULL, NULL, fz_wsl_ea,
				 sizeof(fz_wsl_ea))) ||
	    (st = fz_add_file(w, "Users/bob/same as a.txt", 102, text, sizeof(text) - 1, NULL,
			      NULL)))
		goto fail;
	if (big_len) {
		big = malloc(big_len);
		if (!big) {
			st = ST_ERR_NOMEM;
			goto fail;
		}
		uint32_t x = 12345;
		for (size_t i = 0; i < big_len; i++) {
			x = x * 1103515245u + 12345u;
			big[i] = (uint8_t)("abcdefgh"[(x >> 16) & 7]);
		}
		if ((st = fz_add_file(w, "Users/bob/Videos/big.bin", 103, big, big_len, NULL, NULL)))
			goto fail;
	}
	if ((st = st_writer_put_file(w, "report.json", "{\"fixture\":true}\n", 17)))
		goto fail;
	free(big);
	return st_writer_finish(w, 1700000100);
fail:
	free(big);
	st_writer_abort(w);
	return st;
}

/* ---------------------------------------------------------- reading it -- */

static volatile size_t fz_sink;

static inline void
fz_touch(const char *s)
{
	if (s)
		fz_sink += strlen(s);
}

static inline void
fz_touch_bytes(const uint8_t *p, size_t len)
{
	size_t x = 0;
	for (size_t i = 0; i < len; i++)
		x += p[i];
	fz_sink += x;
}

static inline int
fz_count_data(const void *buf, size_t len, void *ctx)
{
	fz_touch_bytes(buf, len);
	*(uint64_t *)ctx += len;
	return 0;
}

static inline void
fz_on_damage(const char *path, const char *why, void *ctx)
{
	(void)ctx;
	fz_touch(path);
	fz_touch(why);
}

/*
 * Everything a restore or `usmtutils` does with a store it did not write:
 * open, list every record (every byte of it is touched, so a bad pointer
 * shows under ASan), find, read every stream, verify, extract into
 * @extract_dir (then removed by the caller).  Returns the open status.
 */
static inline void fz_exercise_reader(struct st_reader *r, const char *extract_dir);

static inline enum st_status
fz_exercise_store(const char *path, const struct st_key *key, const char *extract_dir)
{
	struct st_reader *r = NULL;
	enum st_status st = st_reader_open(path, key, &r);
	fz_touch(st_last_error());
	if (st != ST_OK)
		return st;
	fz_exercise_reader(r, extract_dir);
	return ST_OK;
}

/* The same on a reader already open (a hard-link store is opened on its
 * volume); closes it. */
static inline void
fz_exercise_reader(struct st_reader *r, const char *extract_dir)
{
	const struct st_store_info *info = st_reader_info(r);
	fz_touch(info->computer);
	fz_touch(info->windows_version);
	fz_touch(info->winstate_version);
	for (size_t i = 0; i < st_reader_user_count(r); i++) {
		const struct st_user *u = st_reader_user(r, i);
		fz_touch(u->sid);
		fz_touch(u->name);
		fz_touch(u->profile_path);
		for (size_t k = 0; k < u->extra_count; k++) {
			fz_touch(u->extra[k].key);
			fz_touch(u->extra[k].value);
		}
	}
	for (size_t i = 0; i < st_reader_registry_count(r); i++) {
		const struct st_reg_value *v = st_reader_registry(r, i);
		fz_touch(v->owner);
		fz_touch(v->key);
		fz_touch(v->name);
		fz_touch(v->decision);
		fz_touch_bytes(v->data, v->len);
	}
	for (size_t i = 0; i < st_reader_skipped_count(r); i++) {
		const struct st_skipped *s = st_reader_skipped(r, i);
		fz_touch(s->path);
		fz_touch(s->owner);
		fz_touch(s->reason);
	}
	size_t files = st_reader_file_count(r);
	for (size_t i = 0; i < files; i++) {
		const struct st_file *f = st_reader_file(r, i);
		fz_touch(f->path);
		fz_touch(f->owner);
		fz_touch(f->decision);
		fz_touch_bytes(f->security, f->security_len);
		fz_touch_bytes(f->reparse, f->reparse_len);
		fz_touch_bytes(f->ea, f->ea_len);
		if (f->ea_len) { /* what ls and restore do with a store's EAs */
			size_t off = 0, n = 0;
			struct nv_ea ea;
			bool ok = nv_ea_check(f->ea, f->ea_len, NULL) == NV_OK;
			while (nv_ea_next(f->ea, f->ea_len, &off, &ea) == NV_OK)
				n++;
			if (ok && !n)
				abort();
		}
		if (st_reader_find(r, f->path) < 0)
			abort(); /* every listed path must be found */
		for (size_t s = 0; s < f->stream_count; s++) {
			fz_touch(f->streams[s].name);
			if (i < 64 && s < 4) {
				uint64_t got = 0;
				enum st_status rs = st_reader_read(r, i, s, fz_count_data, &got);
				/* A read that succeeds delivered exactly the recorded size. */
				if (rs == ST_OK && got != f->streams[s].size)
					abort();
			}
		}
	}
	struct st_verify_result vr;
	st_reader_verify(r, fz_on_damage, NULL, &vr);
	if (extract_dir) {
		size_t count = 0;
		st_reader_extract(r, NULL, extract_dir, ST_EXTRACT_OVERWRITE, &count);
	}
	st_reader_close(r);
}

#endif
