/*
 * NTFS extended attributes in every store format: kept byte for byte on
 * files, hard links, junctions and plain-folder entries; the catalog is
 * version 3 only when it holds some (else exactly as before), older
 * versions are still read, and forged EA fields are refused.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "store/internal.h"
#include "tests/unit/store/helpers.h"
#include "tests/unit/ea_pack.h"

static char *dir;
static void setup(void) { dir = scratch_dir(); }
static void teardown(void) { scratch_done(dir); }
TestSuite(store_ea, .init = setup, .fini = teardown, .timeout = 120);

/* $LXUID 1000, $LXGID 1000, $LXMOD 0100644 */
static size_t
wsl_eas(uint8_t *p)
{
	uint8_t uid[4] = { 0xe8, 3, 0, 0 }, mode[4] = { 0xa4, 0x81, 0, 0 };
	size_t n = ea_pack_entry(p, "$LXUID", uid, 4, 0);
	n += ea_pack_entry(p + n, "$LXGID", uid, 4, 0);
	n += ea_pack_entry(p + n, "$LXMOD", mode, 4, 0);
	return n;
}

static size_t
junction_buf(uint8_t *b)
{
	/* A mount point to \??\C:\X, print name C:\X. */
	static const char sub[] = "\\??\\C:\\X", prn[] = "C:\\X";
	size_t sl = 2 * strlen(sub), pl = 2 * strlen(prn), at = 16;
	memset(b, 0, 16 + sl + pl + 4);
	b[0] = 3, b[3] = 0xA0;
	b[10] = (uint8_t)sl, b[12] = (uint8_t)(sl + 2), b[14] = (uint8_t)pl;
	for (const char *p = sub; *p; p++, at += 2)
		b[at] = (uint8_t)*p;
	at += 2;
	for (const char *p = prn; *p; p++, at += 2)
		b[at] = (uint8_t)*p;
	at += 2;
	b[4] = (uint8_t)(at - 8);
	b[5] = (uint8_t)((at - 8) >> 8);
	return at;
}

static uint8_t ea1[256], ea2[256], rp[128];
static size_t ea1_len, ea2_len, rp_len;

static void
make_values(void)
{
	ea1_len = wsl_eas(ea1);
	ea2_len = ea_pack_entry(ea2, "MYAPP.META", "tagged", 6, NV_EA_NEED_EA);
	rp_len = junction_buf(rp);
}

static void
write_eas(struct st_writer *w, bool hardlink, uint64_t id_file, uint64_t id_dir, uint64_t id_j)
{
	bool need = false;
	struct st_file f = test_file("Users/alice/rootfs/home/alice/.bashrc", id_file);
	f.ea = ea1;
	f.ea_len = ea1_len;
	cr_assert_eq(st_writer_begin_file(w, &f, &need), ST_OK, "%s", st_last_error());
	cr_assert_eq(need, !hardlink);
	if (need)
		feed(w, 1, 3000, true, 1000);
	cr_assert_eq(st_writer_end_file(w), ST_OK, "%s", st_last_error());

	/* Its second name: a link entry, the same record and so the same EAs. */
	struct st_file l = test_file("Users/alice/rootfs/home/alice/.bashrc.link", id_file);
	l.ea = ea1;
	l.ea_len = ea1_len;
	cr_assert_eq(st_writer_begin_file(w, &l, &need), ST_OK, "%s", st_last_error());
	cr_assert(!need);
	cr_assert_eq(st_writer_end_file(w), ST_OK, "%s", st_last_error());

	/* A plain folder kept for its EAs: no data, no reparse buffer. */
	struct st_file d = test_file("Users/alice/rootfs/home", id_dir);
	d.attributes = NV_ATTR_DIRECTORY;
	d.ea = ea2;
	d.ea_len = ea2_len;
	need = true;
	cr_assert_eq(st_writer_begin_file(w, &d, &need), ST_OK, "%s", st_last_error());
	cr_assert(!need);
	cr_assert_eq(st_writer_end_file(w), ST_OK, "%s", st_last_error());

	/* A junction with EAs too. */
	struct st_file j = test_file("Users/alice/J", id_j);
	j.attributes = NV_ATTR_DIRECTORY | NV_ATTR_REPARSE_POINT;
	j.reparse = rp;
	j.reparse_len = rp_len;
	j.ea = ea2;
	j.ea_len = ea2_len;
	cr_assert_eq(st_writer_begin_file(w, &j, &need), ST_OK, "%s", st_last_error());
	cr_assert_eq(st_writer_end_file(w), ST_OK, "%s", st_last_error());

	/* A file without: nothing. */
	struct st_file n = test_file("Users/alice/plain.txt", ST_NO_SOURCE_ID);
	cr_assert_eq(st_writer_begin_file(w, &n, &need), ST_OK, "%s", st_last_error());
	if (need)
		feed(w, 2, 10, true, 10);
	cr_assert_eq(st_writer_end_file(w), ST_OK, "%s", st_last_error());

	/* More than NTFS holds is the caller's mistake. */
	static uint8_t big[NV_EA_MAX + 4];
	struct st_file b = test_file("Users/alice/big.txt", ST_NO_SOURCE_ID);
	b.ea = big;
	b.ea_len = sizeof(big);
	cr_assert_eq(st_writer_begin_file(w, &b, &need), ST_ERR_INVALID);
	cr_assert(strstr(st_last_error(), "extended attributes"), "%s", st_last_error());
}

static const struct st_file *
find(struct st_reader *r, const char *path)
{
	int64_t i = st_reader_find(r, path);
	cr_assert_geq(i, 0, "%s is not in the store", path);
	return st_reader_file(r, (size_t)i);
}

static void
check_eas(struct st_reader *r)
{
	cr_assert_eq(st_reader_info(r)->version, 3u, "a store with EAs is catalog version 3");
	const struct st_file *f = find(r, "Users/alice/rootfs/home/alice/.bashrc");
	cr_assert_eq(f->ea_len, ea1_len);
	cr_assert_arr_eq(f->ea, ea1, ea1_len);
	const struct st_file *l = find(r, "Users/alice/rootfs/home/alice/.bashrc.link");
	cr_assert_geq(l->link_to, 0);
	cr_assert_eq(l->ea_len, ea1_len);
	cr_assert_arr_eq(l->ea, ea1, ea1_len);
	const struct st_file *d = find(r, "Users/alice/rootfs/home");
	cr_assert(d->attributes & NV_ATTR_DIRECTORY);
	cr_assert_eq(d->stream_count, 0);
	cr_assert_eq(d->reparse_len, 0);
	cr_assert_eq(d->ea_len, ea2_len);
	cr_assert_arr_eq(d->ea, ea2, ea2_len);
	const struct st_file *j = find(r, "Users/alice/J");
	cr_assert_arr_eq(j->reparse, rp, rp_len);
	cr_assert_eq(j->ea_len, ea2_len);
	cr_assert_arr_eq(j->ea, ea2, ea2_len);
	cr_assert_eq(find(r, "Users/alice/plain.txt")->ea_len, 0);
	cr_assert_null(find(r, "Users/alice/plain.txt")->ea);
	struct st_verify_result vr;
	cr_assert_eq(st_reader_verify(r, NULL, NULL, &vr), ST_OK, "%s", st_last_error());
	cr_assert_eq(vr.files_damaged, 0);
}

static void
round_trip(enum st_format format)
{
	make_values();
	char path[4200], out[4300];
	snprintf(path, sizeof(path), "%s/s%d", dir, (int)format);
	struct st_create_options o = { .format = format, .path = path, .computer = "PC" };
	struct st_writer *w;
	cr_assert_eq(st_writer_create(&o, &w), ST_OK, "%s", st_last_error());
	write_eas(w, false, 100, 101, 102);
	cr_assert_eq(st_writer_finish(w, 0), ST_OK, "%s", st_last_error());
	struct st_reader *r;
	cr_assert_eq(st_reader_open(path, NULL, &r), ST_OK, "%s", st_last_error());
	check_eas(r);
	/* extract writes the files (not the folder entries), without their EAs. */
	size_t count = 0;
	snprintf(out, sizeof(out), "%s/x%d", dir, (int)format);
	cr_assert_eq(st_reader_extract(r, NULL, out, 0, &count), ST_OK, "%s", st_last_error());
	cr_assert_eq(count, 3u);
	st_reader_close(r);
}

Test(store_ea, compressed) { round_trip(ST_FORMAT_COMPRESSED); }
Test(store_ea, directory) { round_trip(ST_FORMAT_DIRECTORY); }

Test(store_ea, hardlink)
{
	char img[4200];
	snprintf(img, sizeof(img), "%s/vol.img", dir);
	if (sh("command -v mkntfs >/dev/null") != 0)
		cr_assert_fail("mkntfs is missing");
	make_values();
	cr_assert_eq(sh("truncate -s 32M '%s' && mkntfs -q -F -f '%s' >/dev/null 2>&1", img, img), 0);
	struct nv_volume *vol;
	struct nv_open_options rw = { .read_write = true };
	cr_assert_eq(nv_open(img, &rw, &vol), NV_OK, "%s", nv_last_error());
	uint64_t m[8];
	cr_assert_eq(nv_mkdir(vol, NV_MREF_ROOT, "Users", &m[0]), NV_OK, "%s", nv_last_error());
	cr_assert_eq(nv_mkdir(vol, m[0], "alice", &m[1]), NV_OK, "%s", nv_last_error());
	cr_assert_eq(nv_mkdir(vol, m[1], "rootfs", &m[2]), NV_OK, "%s", nv_last_error());
	cr_assert_eq(nv_mkdir(vol, m[2], "home", &m[3]), NV_OK, "%s", nv_last_error());
	cr_assert_eq(nv_mkdir(vol, m[3], "alice", &m[4]), NV_OK, "%s", nv_last_error());
	cr_assert_eq(nv_create(vol, m[4], ".bashrc", &m[5]), NV_OK, "%s", nv_last_error());
	cr_assert_eq(nv_link(vol, m[5], m[4], ".bashrc.link"), NV_OK, "%s", nv_last_error());
	cr_assert_eq(nv_mkdir(vol, m[1], "J", &m[6]), NV_OK, "%s", nv_last_error());
	cr_assert_eq(nv_create(vol, m[1], "plain.txt", &m[7]), NV_OK, "%s", nv_last_error());
	cr_assert_eq(nv_set_ea(vol, m[5], ea1, ea1_len), NV_OK, "%s", nv_last_error());

	struct st_create_options o = { .format = ST_FORMAT_HARDLINK, .path = "MigStore", .volume = vol };
	struct st_writer *w;
	cr_assert_eq(st_writer_create(&o, &w), ST_OK, "%s", st_last_error());
	/* plain.txt is linked by its record, not by ST_NO_SOURCE_ID: give it its own. */
	bool need;
	struct st_file n = test_file("Users/alice/plain.txt", m[7]);
	cr_assert_eq(st_writer_begin_file(w, &n, &need), ST_OK, "%s", st_last_error());
	cr_assert_eq(st_writer_end_file(w), ST_OK, "%s", st_last_error());
	bool need2 = false;
	struct st_file f = test_file("Users/alice/rootfs/home/alice/.bashrc", m[5]);
	f.ea = ea1;
	f.ea_len = ea1_len;
	cr_assert_eq(st_writer_begin_file(w, &f, &need2), ST_OK, "%s", st_last_error());
	cr_assert(!need2, "a hard-link store copies nothing");
	cr_assert_eq(st_writer_end_file(w), ST_OK, "%s", st_last_error());
	struct st_file d = test_file("Users/alice/rootfs/home", m[3]);
	d.attributes = NV_ATTR_DIRECTORY;
	d.ea = ea2;
	d.ea_len = ea2_len;
	cr_assert_eq(st_writer_begin_file(w, &d, &need2), ST_OK, "%s", st_last_error());
	cr_assert_eq(st_writer_end_file(w), ST_OK, "%s", st_last_error());
	cr_assert_eq(st_writer_finish(w, 0), ST_OK, "%s", st_last_error());

	/* The link in the store is the same record: the EAs come with it. */
	uint64_t sm;
	cr_assert_eq(nv_lookup(vol, "MigStore/USMT/File/C$/Users/alice/rootfs/home/alice/.bashrc",
			       &sm), NV_OK, "%s", nv_last_error());
	cr_assert_eq(sm, m[5]);
	/* The store's own folder on the way to .bashrc, never a link to the captured one. */
	cr_assert_eq(nv_lookup(vol, "MigStore/USMT/File/C$/Users/alice/rootfs/home", &sm), NV_OK);
	cr_assert_neq(sm, m[3], "a folder entry makes nothing in the store");
	struct st_reader *r;
	cr_assert_eq(st_reader_open_ntfs(vol, "MigStore", &r), ST_OK, "%s", st_last_error());
	cr_assert_eq(st_reader_info(r)->version, 3u);
	const struct st_file *rf = find(r, "Users/alice/rootfs/home/alice/.bashrc");
	cr_assert_eq(rf->ea_len, ea1_len, "the catalog records the EAs too");
	cr_assert_arr_eq(rf->ea, ea1, ea1_len);
	cr_assert_arr_eq(find(r, "Users/alice/rootfs/home")->ea, ea2, ea2_len);
	struct st_verify_result vr;
	cr_assert_eq(st_reader_verify(r, NULL, NULL, &vr), ST_OK, "%s", st_last_error());
	st_reader_close(r);
	nv_close(vol);
}

/* A directory store holding @cat (a catalog written with @version and @f,
 * as an older or a forging writer would), opened; the reader in *@out. */
static enum st_status
open_catalog(uint32_t version, const struct st_file *f, struct st_reader **out)
{
	struct st_catalog *c = catalog_new();
	c->info.format = ST_FORMAT_DIRECTORY;
	c->info.volume_letter = 'C';
	c->info.version = version;
	struct st_stream s[1] = { { .name = "", .size = 0, .has_hash = true } };
	crypto_generichash(s[0].hash, ST_HASH_BYTES, NULL, 0, NULL, 0);
	bool folder = f->attributes & NV_ATTR_DIRECTORY;
	cr_assert_eq(catalog_add_file(c, f, -1, s, NULL, folder ? 0 : 1), ST_OK);
	struct buf b = { 0 };
	cr_assert_eq(catalog_serialize(c, &b), ST_OK);
	catalog_free(c);
	char d[4400];
	snprintf(d, sizeof(d), "%s/h", dir);
	sh("rm -rf '%s' && mkdir -p '%s/USMT/File/C$/Users'", d, d);
	if (!folder)
		sh("touch '%s/USMT/File/C$/%s'", d, f->path);
	snprintf(d, sizeof(d), "%s/h/catalog", dir);
	write_whole(d, b.p, b.len);
	buf_free(&b);
	snprintf(d, sizeof(d), "%s/h", dir);
	*out = NULL;
	return st_reader_open(d, NULL, out);
}

Test(store_ea, older_catalogs_still_read)
{
	/* Versions 1 and 2 as they were written: the byte after the reparse
	 * data is "sparse", 0 or 1, and no EA field follows. */
	for (uint32_t v = 1; v <= 2; v++) {
		for (int sparse = 0; sparse <= 1; sparse++) {
			struct st_file f = test_file("Users/a.txt", 1);
			f.sparse = sparse;
			struct st_reader *r;
			cr_assert_eq(open_catalog(v, &f, &r), ST_OK, "version %u: %s", v, st_last_error());
			cr_assert_eq(st_reader_info(r)->version, v);
			const struct st_file *g = find(r, "Users/a.txt");
			cr_assert_eq(g->sparse, (bool)sparse);
			cr_assert_eq(g->ea_len, 0);
			cr_assert_eq(g->times[1], f.times[1], "the fields after it are in place");
			struct st_verify_result vr;
			cr_assert_eq(st_reader_verify(r, NULL, NULL, &vr), ST_OK, "%s", st_last_error());
			st_reader_close(r);
		}
	}
}

Test(store_ea, a_newer_catalog_is_refused_with_the_versions)
{
	struct st_file f = test_file("Users/a.txt", 1);
	struct st_reader *r;
	cr_assert_eq(open_catalog(4, &f, &r), ST_ERR_VERSION);
	cr_assert(strstr(st_last_error(), "version 4") && strstr(st_last_error(), "version 3") &&
		  strstr(st_last_error(), "newer than this winstate reads"), "%s", st_last_error());
}

Test(store_ea, forged_ea_fields_are_refused)
{
	make_values();
	struct st_reader *r;
	/* EAs in a catalog that says version 2: the flag byte reads as "sparse"
	 * and the EA bytes as the next fields, which cannot all fit. */
	struct st_file f = test_file("Users/a.txt", 1);
	f.ea = ea1;
	f.ea_len = ea1_len;
	cr_assert_neq(open_catalog(2, &f, &r), ST_OK);

	/* A damaged EA buffer is not the catalog's damage: restore names it. */
	uint8_t bad[12] = { 0xff, 0xff, 0, 0, 0, 3, 0, 0, 'A', 'B', 'C', 0 };
	f.ea = bad;
	f.ea_len = sizeof(bad);
	cr_assert_eq(open_catalog(3, &f, &r), ST_OK, "%s", st_last_error());
	cr_assert_eq(find(r, "Users/a.txt")->ea_len, sizeof(bad));
	st_reader_close(r);

	/* Larger than NTFS holds. */
	static uint8_t big[NV_EA_MAX + 1];
	f.ea = big;
	f.ea_len = sizeof(big);
	cr_assert_eq(open_catalog(3, &f, &r), ST_ERR_CORRUPT);
	cr_assert(strstr(st_last_error(), "extended attributes") && strstr(st_last_error(), "a.txt"),
		  "%s", st_last_error());

	/* A folder entry with neither reparse data nor EAs. */
	struct st_file d = test_file("Users/D", 2);
	d.attributes = NV_ATTR_DIRECTORY;
	cr_assert_eq(open_catalog(3, &d, &r), ST_ERR_CORRUPT);
	cr_assert(strstr(st_last_error(), "Users/D"), "%s", st_last_error());
	/* ...and one with EAs is a folder entry. */
	d.ea = ea2;
	d.ea_len = ea2_len;
	cr_assert_eq(open_catalog(3, &d, &r), ST_OK, "%s", st_last_error());
	st_reader_close(r);
}

/* Flags byte values a version 3 writer never writes. */
Test(store_ea, unknown_record_flags_are_refused)
{
	struct st_file f = test_file("Users/a.txt", 1);
	struct st_catalog *c = catalog_new();
	c->info.format = ST_FORMAT_DIRECTORY;
	c->info.volume_letter = 'C';
	c->info.version = 3;
	struct st_stream s[1] = { { .name = "", .size = 0, .has_hash = true } };
	cr_assert_eq(catalog_add_file(c, &f, -1, s, NULL, 1), ST_OK);
	struct buf b = { 0 };
	cr_assert_eq(catalog_serialize(c, &b), ST_OK);
	catalog_free(c);
	/* The flags byte follows the (empty) reparse field: after the security
	 * descriptor's bytes and the reparse u32 length 0. */
	uint8_t sd[20] = { 1, 0, 4, 0x80 };
	uint8_t *at = memmem(b.p, b.len, sd, 4);
	cr_assert_not_null(at);
	at += 20 + 4;
	cr_assert_eq(*at, 0);
	*at = 0x04;
	crypto_generichash(b.p + b.len - ST_HASH_BYTES, ST_HASH_BYTES, b.p, b.len - ST_HASH_BYTES,
			   NULL, 0);
	cr_assert_eq(open_catalog_bytes(dir, b.p, b.len), ST_ERR_CORRUPT);
	cr_assert(strstr(st_last_error(), "unknown flags"), "%s", st_last_error());
	buf_free(&b);
}
