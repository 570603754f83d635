/*
 * Round trips through the compressed and directory stores: many files
 * (empty, small, a 20 MiB multi-frame one, named streams, 0-byte streams),
 * duplicates that must be stored once, hard-link pairs, full NTFS metadata,
 * registry values of every type, users, skipped items and store info.
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
TestSuite(store_roundtrip, .init = setup, .fini = teardown, .timeout = 300);

struct sdef {
	const char *name;
	uint64_t seed;
	size_t size;
	bool text;
};

struct item {
	char path[160];
	uint64_t seed, src;
	size_t size;
	bool text;
	bool link;           /* a second name of the previous item with the same src */
	uint32_t attributes;
	bool sparse, reparse;
	size_t nstreams;
	struct sdef streams[3];
};

static struct item items[400];
static size_t nitems;

static struct item *
add(const char *path, uint64_t seed, size_t size, bool text, uint64_t src)
{
	struct item *it = &items[nitems++];
	memset(it, 0, sizeof(*it));
	snprintf(it->path, sizeof(it->path), "%s", path);
	it->seed = seed;
	it->size = size;
	it->text = text;
	it->src = src;
	it->attributes = NV_ATTR_ARCHIVE;
	return it;
}

static const uint8_t reparse_buf[] = { 0x0c, 0x00, 0x00, 0xa0, 8, 0, 0, 0, 'r', 'e', 'p', '!', 0, 0, 0, 0 };

/* The tree: returns the bytes fed and, in *unique, the bytes of distinct contents. */
static void
build_items(uint64_t *total, uint64_t *unique)
{
	char p[160];
	nitems = 0;
	*total = *unique = 0;
	for (int i = 0; i < 200; i++) {
		snprintf(p, sizeof(p), "Users/alice/Documents/dir%d/file%03d.txt", i % 7, i);
		size_t size = (size_t)(i * 7919) % 30000;
		add(p, (uint64_t)i + 1, size, i % 2, 1000 + (uint64_t)i);
		*total += size;
		*unique += size;
		if (i == 50)
			for (int k = 0; k < 5; k++) { /* small duplicates between other files */
				snprintf(p, sizeof(p), "Users/bob/small-dup-%d.txt", k);
				add(p, 7000, 1234, false, 7100 + (uint64_t)k);
				*total += 1234;
				*unique += k ? 0 : 1234;
			}
	}
	add("Users/alice/empty.txt", 1, 0, false, 4000);
	add("Users/alice/Videos/big.bin", 5000, 20u << 20, false, 5000);
	add("Users/bob/copy-of-big.bin", 5000, 20u << 20, false, 5001);
	*total += 40u << 20;
	*unique += 20u << 20;
	for (int k = 0; k < 10; k++) {
		snprintf(p, sizeof(p), "Users/bob/dup/copy%d.dat", k);
		add(p, 6000, 300000, false, 6000 + (uint64_t)k);
		*total += 300000;
	}
	*unique += 300000;
	add("Users/alice/link-a.doc", 8000, 50000, false, 8000);
	struct item *l = add("Users/alice/Desktop/link-b.doc", 8000, 50000, false, 8000);
	l->link = true;
	*total += 50000;
	*unique += 50000;
	struct item *s = add("Users/alice/Downloads/setup.exe", 9000, 100000, false, 9000);
	s->nstreams = 3;
	s->streams[0] = (struct sdef){ "Zone.Identifier", 9001, 80, true };
	s->streams[1] = (struct sdef){ "empty", 0, 0, false };
	s->streams[2] = (struct sdef){ "big", 9002, 3u << 20, false };
	*total += 100000 + 80 + (3u << 20);
	*unique += 100000 + 80 + (3u << 20);
	struct item *m = add("Users/alice/odd.lnk", 9100, 5000, true, 9100);
	m->attributes = NV_ATTR_HIDDEN | NV_ATTR_READONLY | NV_ATTR_SPARSE | NV_ATTR_REPARSE_POINT;
	m->sparse = m->reparse = true;
	*total += 5000;
	*unique += 5000;
	/* A named stream identical to a file's content is stored once too. */
	struct item *z = add("Users/bob/zone-copy.txt", 9300, 10, true, 9300);
	z->nstreams = 1;
	z->streams[0] = (struct sdef){ "Zone.Identifier", 9001, 80, true };
	*total += 90;
	*unique += 10;
}

static struct st_file
meta_of(const struct item *it)
{
	struct st_file f = test_file(it->path, it->src);
	f.attributes = it->attributes;
	f.sparse = it->sparse;
	if (it->reparse) {
		f.reparse = reparse_buf;
		f.reparse_len = sizeof(reparse_buf);
	}
	f.times[NV_TIME_WRITE] += it->seed;
	return f;
}

static void
capture(struct st_writer *w)
{
	for (size_t i = 0; i < nitems; i++) {
		const struct item *it = &items[i];
		struct st_file f = meta_of(it);
		bool need;
		cr_assert_eq(st_writer_begin_file(w, &f, &need), ST_OK, "%s: %s", it->path,
			     st_last_error());
		cr_assert_eq(need, !it->link, "%s: need_data", it->path);
		if (need) {
			feed(w, it->seed, it->size, it->text, 7777 + i * 13);
			for (size_t k = 0; k < it->nstreams; k++) {
				const struct sdef *s = &it->streams[k];
				cr_assert_eq(st_writer_begin_stream(w, s->name), ST_OK, "%s",
					     st_last_error());
				feed(w, s->seed, s->size, s->text, 65536);
			}
		} else {
			cr_assert_neq(st_writer_write_data(w, "x", 1), ST_OK,
				      "data for a link entry must be refused");
		}
		cr_assert_eq(st_writer_end_file(w), ST_OK, "%s: %s", it->path, st_last_error());
	}
}

static void
check_data(struct st_reader *r, size_t idx, size_t stream, uint64_t seed, size_t size, bool text,
	   const char *what)
{
	uint8_t *data;
	size_t len;
	cr_assert_eq(slurp(r, idx, stream, &data, &len), ST_OK, "%s: %s", what, st_last_error());
	cr_assert_eq(len, size, "%s: %zu bytes instead of %zu", what, len, size);
	uint8_t *want = content(seed, size, text);
	cr_assert(memcmp(data, want, size) == 0, "%s: data differs", what);
	free(want);
	free(data);
}

static void
check_store(struct st_reader *r)
{
	cr_assert_eq(st_reader_file_count(r), nitems);
	for (size_t i = 0; i < nitems; i++) {
		const struct item *it = &items[i];
		int64_t idx = st_reader_find(r, it->path);
		cr_assert(idx >= 0, "%s is not in the store", it->path);
		const struct st_file *f = st_reader_file(r, (size_t)idx);
		struct st_file want = meta_of(it);
		cr_assert_str_eq(f->owner, want.owner);
		cr_assert_str_eq(f->decision, want.decision);
		cr_assert_eq(f->attributes, want.attributes);
		cr_assert_eq(f->source_id, want.source_id);
		cr_assert_eq(f->sparse, want.sparse);
		cr_assert(memcmp(f->times, want.times, sizeof(want.times)) == 0);
		cr_assert_eq(f->security_len, want.security_len);
		cr_assert(memcmp(f->security, want.security, want.security_len) == 0);
		cr_assert_eq(f->reparse_len, want.reparse_len);
		if (want.reparse_len)
			cr_assert(memcmp(f->reparse, want.reparse, want.reparse_len) == 0);
		if (it->link) {
			cr_assert(f->link_to >= 0, "%s should be a link entry", it->path);
			cr_assert_str_eq(st_reader_file(r, (size_t)f->link_to)->path, items[i - 1].path);
		} else {
			cr_assert_eq(f->link_to, -1);
		}
		cr_assert_eq(f->stream_count, 1 + it->nstreams, "%s streams", it->path);
		cr_assert_str_eq(f->streams[0].name, "");
		check_data(r, (size_t)idx, 0, it->seed, it->size, it->text, it->path);
		for (size_t k = 0; k < it->nstreams; k++) {
			cr_assert_str_eq(f->streams[k + 1].name, it->streams[k].name);
			check_data(r, (size_t)idx, k + 1, it->streams[k].seed, it->streams[k].size,
				   it->streams[k].text, it->streams[k].name);
		}
	}
	struct st_verify_result vr;
	cr_assert_eq(st_reader_verify(r, NULL, NULL, &vr), ST_OK, "%s", st_last_error());
	cr_assert_eq(vr.files_ok, nitems);
	cr_assert_eq(vr.files_damaged, 0);
}

static struct st_create_options
options(enum st_format format, const char *path)
{
	return (struct st_create_options){
		.format = format,
		.path = path,
		.computer = "PC-ALICE",
		.windows_version = "10.0.19045",
		.winstate_version = "0.1-test",
		.start_time = 1700000000,
		.threads = 2,
	};
}

Test(store_roundtrip, compressed_many_files_dedup_links_streams)
{
	uint64_t total, unique;
	char store[4200], mig[4300], out[4300];
	build_items(&total, &unique);
	snprintf(store, sizeof(store), "%s/store", dir);
	struct st_create_options o = options(ST_FORMAT_COMPRESSED, store);
	struct st_writer *w;
	cr_assert_eq(st_writer_create(&o, &w), ST_OK, "%s", st_last_error());
	capture(w);
	struct st_writer_stats stats;
	st_writer_stats(w, &stats);
	cr_assert_eq(stats.bytes_in, total);
	cr_assert_eq(stats.bytes_stored, unique, "stored %llu bytes, %llu are distinct",
		     (unsigned long long)stats.bytes_stored, (unsigned long long)unique);
	cr_assert_eq(stats.links, 1);
	cr_assert_eq(st_writer_put_file(w, "report.json", "{}\n", 3), ST_OK);
	cr_assert_eq(st_writer_finish(w, 1700000100), ST_OK, "%s", st_last_error());

	snprintf(mig, sizeof(mig), "%s/USMT/USMT.MIG", store);
	uint64_t size = file_size(mig);
	/* Random data does not compress: only dedup can bring it under the total. */
	cr_assert_lt(size, total, "store %llu bytes, input %llu", (unsigned long long)size,
		     (unsigned long long)total);
	cr_assert_lt(size, unique + unique / 20, "duplicates were stored twice: %llu vs %llu",
		     (unsigned long long)size, (unsigned long long)unique);
	cr_assert_eq(sh("test -f %s/report.json && ! test -e %s.partial", store, mig), 0);

	struct st_reader *r;
	cr_assert_eq(st_reader_open(store, NULL, &r), ST_OK, "%s", st_last_error());
	const struct st_store_info *info = st_reader_info(r);
	cr_assert_eq(info->format, ST_FORMAT_COMPRESSED);
	cr_assert_str_eq(info->computer, "PC-ALICE");
	cr_assert_str_eq(info->windows_version, "10.0.19045");
	cr_assert_eq(info->start_time, 1700000000);
	cr_assert_eq(info->end_time, 1700000100);
	cr_assert_eq(info->volume_letter, 'C');
	check_store(r);

	size_t n;
	snprintf(out, sizeof(out), "%s/out", dir);
	cr_assert_eq(st_reader_extract(r, "*/bob/*", out, 0, &n), ST_OK, "%s", st_last_error());
	cr_assert_eq(n, 5 + 1 + 10 + 1);
	cr_assert_eq(sh("cmp -s %s/Users/bob/copy-of-big.bin %s/Users/bob/dup/../copy-of-big.bin "
			"&& test $(stat -c %%s %s/Users/bob/copy-of-big.bin) = %u && "
			"! test -e %s/Users/alice", out, out, out, 20u << 20, out), 0);
	/* Not over existing files unless asked. */
	cr_assert_eq(st_reader_extract(r, "*/bob/zone-copy.txt", out, 0, &n), ST_ERR_EXISTS);
	cr_assert_eq(st_reader_extract(r, "*/bob/zone-copy.txt", out, ST_EXTRACT_OVERWRITE, &n),
		     ST_OK);
	st_reader_close(r);
	/* The same store may be opened by its file too. */
	cr_assert_eq(st_reader_open(mig, NULL, &r), ST_OK, "%s", st_last_error());
	st_reader_close(r);
}

Test(store_roundtrip, compressed_single_thread_and_level)
{
	uint64_t total, unique;
	char store[4200];
	build_items(&total, &unique);
	nitems = 60; /* the small files and small duplicates are enough here */
	snprintf(store, sizeof(store), "%s/store1", dir);
	struct st_create_options o = options(ST_FORMAT_COMPRESSED, store);
	o.threads = 1;
	o.level = 19;
	struct st_writer *w;
	cr_assert_eq(st_writer_create(&o, &w), ST_OK, "%s", st_last_error());
	capture(w);
	cr_assert_eq(st_writer_finish(w, 0), ST_OK, "%s", st_last_error());
	struct st_reader *r;
	cr_assert_eq(st_reader_open(store, NULL, &r), ST_OK, "%s", st_last_error());
	check_store(r);
	st_reader_close(r);
	/* A second store cannot be written over the first. */
	cr_assert_eq(st_writer_create(&o, &w), ST_ERR_EXISTS);
}

Test(store_roundtrip, directory_browsable_links_streams)
{
	uint64_t total, unique;
	char store[4200];
	build_items(&total, &unique);
	snprintf(store, sizeof(store), "%s/dirstore", dir);
	struct st_create_options o = options(ST_FORMAT_DIRECTORY, store);
	o.volume_letter = 'D';
	struct st_writer *w;
	cr_assert_eq(st_writer_create(&o, &w), ST_OK, "%s", st_last_error());
	capture(w);
	cr_assert_eq(st_writer_put_file(w, "report.json", "{\"ok\":1}\n", 9), ST_OK);
	cr_assert_eq(st_writer_finish(w, 0), ST_OK, "%s", st_last_error());

	/* Browsable: USMT's layout, plain files. */
	char *want = (char *)content(5000, 20u << 20, false);
	char path[4400];
	snprintf(path, sizeof(path), "%s/USMT/File/D$/Users/alice/Videos/big.bin", store);
	size_t len;
	uint8_t *got = read_whole(path, &len);
	cr_assert_eq(len, 20u << 20);
	cr_assert(memcmp(got, want, len) == 0);
	free(got);
	free(want);
	cr_assert_eq(sh("test -f %s/catalog && test -f %s/report.json && "
			"test -f %s/USMT/File/D$/Users/alice/empty.txt", store, store, store), 0);
	/* The hard-link pair is one file with two names. */
	char *a = sh_output("stat -c '%%h %%i' %s/USMT/File/D$/Users/alice/link-a.doc", store);
	char *b = sh_output("stat -c '%%h %%i' %s/USMT/File/D$/Users/alice/Desktop/link-b.doc", store);
	cr_assert_str_eq(a, b);
	cr_assert_eq(a[0], '2', "link count: %s", a);
	free(a);
	free(b);
	/* Named streams stored by content: the shared Zone.Identifier once. */
	char *ns = sh_output("ls %s/USMT/Streams | wc -l", store);
	cr_assert_str_eq(ns, "2", "streams: %s", ns);
	free(ns);

	struct st_reader *r;
	cr_assert_eq(st_reader_open(store, NULL, &r), ST_OK, "%s", st_last_error());
	cr_assert_eq(st_reader_info(r)->format, ST_FORMAT_DIRECTORY);
	cr_assert_eq(st_reader_info(r)->volume_letter, 'D');
	check_store(r);
	st_reader_close(r);
}

static const uint8_t multi_sz[] = { 'a', 0, 0, 0, 'b', 0, 0, 0, 0, 0 };

Test(store_roundtrip, registry_users_skipped_every_format)
{
	enum st_format formats[] = { ST_FORMAT_COMPRESSED, ST_FORMAT_DIRECTORY };
	uint8_t big[100000];
	for (size_t i = 0; i < sizeof(big); i++)
		big[i] = (uint8_t)(i * 31);
	struct st_reg_value values[] = {
		{ "S-1-5-21-1-2-3-1001", "HKCU\\Control Panel\\Desktop", "Wallpaper", 1,
		  (const uint8_t *)"C\0:\0\\\0w\0.\0j\0p\0g\0\0\0", 18, "include Desktop" },
		{ ST_OWNER_SYSTEM, "HKLM\\Software\\X", "", 0, NULL, 0, "REG_NONE empty default" },
		{ "S-1-5-21-1-2-3-1001", "HKCU\\Environment", "Path", 2,
		  (const uint8_t *)"%\0U\0%\0\0\0", 8, "expand" },
		{ "S-1-5-21-1-2-3-1001", "HKCU\\Software\\Bin", "blob", 3, big, sizeof(big), "binary" },
		{ "S-1-5-21-1-2-3-1001", "HKCU\\Software\\D", "dword", 4,
		  (const uint8_t *)"\x01\x00\x00\x00", 4, "dword" },
		{ "S-1-5-21-1-2-3-1001", "HKCU\\Software\\D", "dwordbe", 5,
		  (const uint8_t *)"\x00\x00\x00\x01", 4, "be" },
		{ "S-1-5-21-1-2-3-1001", "HKCU\\Software\\L", "link", 6,
		  (const uint8_t *)"\\\0R\0", 4, "link" },
		{ "S-1-5-21-1-2-3-1001", "HKCU\\Software\\M", "multi", 7, multi_sz, sizeof(multi_sz),
		  "multi" },
		{ ST_OWNER_SYSTEM, "HKLM\\Hardware\\R", "res", 8, (const uint8_t *)"\1\2\3", 3, "r" },
		{ ST_OWNER_SYSTEM, "HKLM\\Hardware\\R", "full", 9, (const uint8_t *)"\4", 1, "f" },
		{ ST_OWNER_SYSTEM, "HKLM\\Hardware\\R", "req", 10, (const uint8_t *)"\5\6", 2, "q" },
		{ "S-1-5-21-1-2-3-1001", "HKCU\\Software\\Q", "qword", 11,
		  (const uint8_t *)"\1\0\0\0\0\0\0\x80", 8, "qword" },
		{ "S-1-5-21-1-2-3-1001", "HKCU\\Software\\Odd", "odd type", 0x12345678,
		  (const uint8_t *)"?", 1, "unknown type kept as is" },
	};
	size_t nv = sizeof(values) / sizeof(values[0]);
	for (size_t fi = 0; fi < 2; fi++) {
		char store[4200];
		snprintf(store, sizeof(store), "%s/reg%zu", dir, fi);
		struct st_create_options o = options(formats[fi], store);
		struct st_writer *w;
		cr_assert_eq(st_writer_create(&o, &w), ST_OK, "%s", st_last_error());
		struct st_kv kv[] = { { "domain", "CONTOSO" }, { "profile.state", "loaded" } };
		struct st_user u = { "S-1-5-21-1-2-3-1001", "alice", "Users/alice", kv, 2 };
		struct st_user u2 = { "S-1-5-21-1-2-3-1002", "bob", "Users/bob", NULL, 0 };
		cr_assert_eq(st_writer_add_user(w, &u), ST_OK);
		cr_assert_eq(st_writer_add_user(w, &u2), ST_OK);
		for (size_t i = 0; i < nv; i++)
			cr_assert_eq(st_writer_add_registry(w, &values[i]), ST_OK, "%s", st_last_error());
		struct st_skipped sk[] = {
			{ "Users/alice/OneDrive/x.docx", "S-1-5-21-1-2-3-1001",
			  "OneDrive placeholder: the data is not on this disk" },
			{ "Users/alice/secret.txt", "S-1-5-21-1-2-3-1001", "EFS-encrypted, /efs:skip" },
			{ "Users/bob/bad.bin", NULL, "read error: NTFS structures damaged" },
		};
		for (size_t i = 0; i < 3; i++)
			cr_assert_eq(st_writer_add_skipped(w, &sk[i]), ST_OK);
		/* Refusals leave the writer usable. */
		struct st_file bad = test_file("Users/../../etc/passwd", ST_NO_SOURCE_ID);
		bool need;
		cr_assert_eq(st_writer_begin_file(w, &bad, &need), ST_ERR_UNSAFE);
		cr_assert_eq(st_writer_end_file(w), ST_ERR_STATE);
		cr_assert_eq(st_writer_finish(w, 0), ST_OK, "%s", st_last_error());

		struct st_reader *r;
		cr_assert_eq(st_reader_open(store, NULL, &r), ST_OK, "%s", st_last_error());
		cr_assert_eq(st_reader_file_count(r), 0);
		cr_assert_eq(st_reader_user_count(r), 2);
		const struct st_user *ru = st_reader_user(r, 0);
		cr_assert_str_eq(ru->sid, u.sid);
		cr_assert_str_eq(ru->name, "alice");
		cr_assert_str_eq(ru->profile_path, "Users/alice");
		cr_assert_eq(ru->extra_count, 2);
		cr_assert_str_eq(ru->extra[1].key, "profile.state");
		cr_assert_str_eq(ru->extra[1].value, "loaded");
		cr_assert_eq(st_reader_user(r, 1)->extra_count, 0);
		cr_assert_eq(st_reader_registry_count(r), nv);
		for (size_t i = 0; i < nv; i++) {
			const struct st_reg_value *v = st_reader_registry(r, i);
			cr_assert_str_eq(v->owner, values[i].owner);
			cr_assert_str_eq(v->key, values[i].key);
			cr_assert_str_eq(v->name, values[i].name);
			cr_assert_str_eq(v->decision, values[i].decision);
			cr_assert_eq(v->type, values[i].type);
			cr_assert_eq(v->len, values[i].len);
			if (v->len)
				cr_assert(memcmp(v->data, values[i].data, v->len) == 0, "value %zu", i);
		}
		cr_assert_eq(st_reader_skipped_count(r), 3);
		cr_assert_str_eq(st_reader_skipped(r, 2)->owner, ST_OWNER_SYSTEM);
		cr_assert_str_eq(st_reader_skipped(r, 1)->reason, sk[1].reason);
		cr_assert_null(st_reader_skipped(r, 3));
		st_reader_close(r);
	}
}

Test(store_roundtrip, call_order_is_checked)
{
	char store[4200];
	snprintf(store, sizeof(store), "%s/order", dir);
	struct st_create_options o = options(ST_FORMAT_COMPRESSED, store);
	struct st_writer *w;
	cr_assert_eq(st_writer_create(&o, &w), ST_OK, "%s", st_last_error());
	cr_assert_eq(st_writer_write_data(w, "x", 1), ST_ERR_STATE);
	cr_assert_eq(st_writer_begin_stream(w, "s"), ST_ERR_STATE);
	struct st_file f = test_file("a.txt", 1);
	bool need;
	cr_assert_eq(st_writer_begin_file(w, &f, &need), ST_OK);
	cr_assert_eq(st_writer_begin_file(w, &f, &need), ST_ERR_STATE);
	cr_assert_eq(st_writer_begin_stream(w, "a:b"), ST_ERR_UNSAFE);
	cr_assert_eq(st_writer_add_stream(w, "s", "1", 1), ST_OK);
	cr_assert_eq(st_writer_add_stream(w, "S", "1", 1), ST_ERR_INVALID, "same stream twice");
	cr_assert_eq(st_writer_finish(w, 0), ST_ERR_STATE);
	/* finish frees the writer whatever happens; the store stays unfinished. */
	struct st_reader *r;
	cr_assert_eq(st_reader_open(store, NULL, &r), ST_ERR_INCOMPLETE);
}
