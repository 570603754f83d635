/*
 * The sample Windows disk (tests/fixtures): every entry of the manifest that
 * the fixture builder wrote through the ntfs-3g driver is found by our walk
 * with the same metadata, every file's data hashes the same, and each special
 * kind of file Windows leaves behind is recognised for what it is.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>
#include <sodium.h>

#include "ntfs/ntfs.h"
#include "tests/unit/ntfs/helpers.h"

struct row {
	char *path, kind, sha[65];
	uint64_t size, mref;
	uint32_t attrib;
	unsigned nlink;
	char *streams;
	bool seen;
};

struct manifest {
	struct row *rows;
	size_t count;
};

static void
load_manifest(struct manifest *m)
{
	FILE *f = fopen(fixture("manifest.tsv"), "r");
	char line[16384];
	cr_assert_not_null(f);
	m->rows = NULL;
	m->count = 0;
	cr_assert_not_null(fgets(line, sizeof(line), f), "empty manifest");
	while (fgets(line, sizeof(line), f)) {
		char *fields[9], *save = NULL;
		int n = 0;
		line[strcspn(line, "\n")] = 0;
		for (char *t = strtok_r(line, "\t", &save); t && n < 9; t = strtok_r(NULL, "\t", &save))
			fields[n++] = t;
		cr_assert_eq(n, 9, "manifest line with %d fields", n);
		m->rows = realloc(m->rows, (m->count + 1) * sizeof(*m->rows));
		struct row *r = &m->rows[m->count++];
		r->path = strdup(fields[0]);
		r->kind = fields[1][0];
		r->size = strtoull(fields[2], NULL, 10);
		r->attrib = (uint32_t)strtoul(fields[3], NULL, 16);
		r->nlink = (unsigned)atoi(fields[4]);
		r->mref = strtoull(fields[5], NULL, 10);
		r->streams = strdup(fields[6]);
		snprintf(r->sha, sizeof(r->sha), "%s", fields[8]);
		r->seen = false;
	}
	fclose(f);
	cr_assert_gt(m->count, 100);
}

static void
free_manifest(struct manifest *m)
{
	for (size_t i = 0; i < m->count; i++) {
		free(m->rows[i].path);
		free(m->rows[i].streams);
	}
	free(m->rows);
}

static struct row *
find_row(struct manifest *m, const char *path)
{
	for (size_t i = 0; i < m->count; i++)
		if (!strcmp(m->rows[i].path, path))
			return &m->rows[i];
	return NULL;
}

static void
hash_file(struct nv_volume *v, uint64_t mref, char out[65])
{
	struct nv_reader *r;
	crypto_hash_sha256_state st;
	unsigned char digest[32];
	static uint8_t buf[1 << 16];
	uint64_t off = 0;
	size_t got;
	cr_assert_eq(nv_reader_open(v, mref, NULL, &r), NV_OK, "%s", nv_last_error());
	crypto_hash_sha256_init(&st);
	for (;;) {
		cr_assert_eq(nv_reader_pread(r, buf, sizeof(buf), off, &got), NV_OK, "%s",
			     nv_last_error());
		if (!got)
			break;
		crypto_hash_sha256_update(&st, buf, got);
		off += got;
	}
	nv_reader_close(r);
	crypto_hash_sha256_final(&st, digest);
	for (int i = 0; i < 32; i++)
		sprintf(out + i * 2, "%02x", digest[i]);
}

struct check {
	struct manifest *m;
	struct nv_volume *v;
	unsigned long compared, hashed, extra;
	char extra_path[1024];
};

static int
compare_entry(const struct nv_entry *e, void *ctx)
{
	struct check *c = ctx;
	cr_assert_not_null(e->inode, "%s: %s", e->path, e->error);
	struct row *r = find_row(c->m, e->path);
	if (!r) {
		if (!c->extra++)
			snprintf(c->extra_path, sizeof(c->extra_path), "%s", e->path);
		return NV_WALK_CONTINUE;
	}
	const struct nv_inode *in = e->inode;
	r->seen = true;
	c->compared++;
	cr_expect_eq(in->mref, r->mref, "%s: MFT record", e->path);
	cr_expect_eq(in->attributes, r->attrib, "%s: attributes 0x%x vs 0x%x", e->path,
		     in->attributes, r->attrib);
	if (r->kind == 'f') {
		cr_expect_eq(in->size, r->size, "%s: size", e->path);
		cr_expect_eq(in->name_count, r->nlink, "%s: links", e->path);
	}
	/* Named streams as "name:size,name:size" or "-". */
	char streams[4096] = "";
	for (size_t i = 0; i < in->stream_count; i++) {
		size_t len = strlen(streams);
		snprintf(streams + len, sizeof(streams) - len, "%s%s:%llu", i ? "," : "",
			 in->streams[i].name, (unsigned long long)in->streams[i].size);
	}
	if (r->kind != 'r')
		cr_expect_str_eq(in->stream_count ? streams : "-", r->streams, "%s: streams", e->path);
	if (r->kind == 'f' && strcmp(r->sha, "-")) {
		char sha[65];
		hash_file(c->v, in->mref, sha);
		cr_expect_str_eq(sha, r->sha, "%s: contents differ", e->path);
		c->hashed++;
	}
	return NV_WALK_CONTINUE;
}

Test(ntfs_fixture, walk_and_contents_match_the_manifest, .timeout = 300)
{
	struct manifest m;
	struct nv_volume *v;
	load_manifest(&m);
	cr_assert_eq(sodium_init() >= 0, 1);
	cr_assert_eq(nv_open(fixture("win.img"), NULL, &v), NV_OK, "%s", nv_last_error());
	struct check c = { .m = &m, .v = v };
	cr_assert_eq(nv_walk(v, "", compare_entry, &c), NV_OK);
	cr_assert_eq(c.extra, 0, "%lu entries not in the manifest, first: %s", c.extra, c.extra_path);
	for (size_t i = 0; i < m.count; i++)
		cr_expect(m.rows[i].seen, "not walked: %s", m.rows[i].path);
	cr_assert_eq(c.compared, m.count);
	cr_assert_gt(c.hashed, 100, "only %lu files hashed", c.hashed);
	nv_close(v);
	free_manifest(&m);
}

static struct nv_inode *
stat_path(struct nv_volume *v, const char *path)
{
	uint64_t mref;
	struct nv_inode *in;
	cr_assert_eq(nv_lookup(v, path, &mref), NV_OK, "%s: %s", path, nv_last_error());
	cr_assert_eq(nv_stat(v, mref, &in), NV_OK, "%s", nv_last_error());
	return in;
}

/* The owner SID of a self-relative security descriptor, as text. */
static void
owner_sid(const struct nv_inode *in, char *out, size_t len)
{
	const uint8_t *sd = in->security;
	cr_assert_geq(in->security_len, 20);
	uint32_t off = (uint32_t)sd[4] | (uint32_t)sd[5] << 8 | (uint32_t)sd[6] << 16 |
		       (uint32_t)sd[7] << 24;
	cr_assert(off && off + 8 <= in->security_len);
	const uint8_t *sid = sd + off;
	uint64_t auth = 0;
	for (int i = 2; i < 8; i++)
		auth = auth << 8 | sid[i];
	int n = snprintf(out, len, "S-%u-%llu", sid[0], (unsigned long long)auth);
	for (int i = 0; i < sid[1]; i++) {
		const uint8_t *p = sid + 8 + i * 4;
		n += snprintf(out + n, len - (size_t)n, "-%u",
			      (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
				      (uint32_t)p[3] << 24);
	}
}

Test(ntfs_fixture, what_windows_leaves_behind_is_recognised, .timeout = 120)
{
	struct nv_volume *v;
	struct nv_inode *in, *other;
	char sid[128], *target;
	cr_assert_eq(nv_open(fixture("win.img"), NULL, &v), NV_OK, "%s", nv_last_error());

	in = stat_path(v, fixture_env("ONEDRIVE_PLACEHOLDER"));
	cr_assert(in->kind & NV_IS_CLOUD);
	cr_assert(in->kind & NV_IS_DEHYDRATED, "placeholder attributes 0x%x", in->attributes);
	nv_inode_free(in);
	in = stat_path(v, fixture_env("ONEDRIVE_HYDRATED"));
	cr_assert(in->kind & NV_IS_CLOUD);
	cr_assert_not(in->kind & NV_IS_DEHYDRATED, "a hydrated file is not a placeholder");
	nv_inode_free(in);
	struct nv_reader *r;
	uint64_t mref;
	cr_assert_eq(nv_lookup(v, fixture_env("ONEDRIVE_PLACEHOLDER"), &mref), NV_OK);
	cr_assert_eq(nv_reader_open(v, mref, NULL, &r), NV_ERR_UNSUPPORTED,
		     "a placeholder's data is never read as zeros");
	cr_assert(strstr(nv_last_error(), "not on this disk"));
	cr_assert_eq(nv_lookup(v, fixture_env("WOF_FILE"), &mref), NV_OK);
	cr_assert_eq(nv_reader_open(v, mref, NULL, &r), NV_ERR_UNSUPPORTED);
	cr_assert(strstr(nv_last_error(), "WOF"));
	cr_assert_eq(nv_reader_open(v, mref, "WofCompressedData", &r), NV_OK,
		     "the compressed stream itself stays readable");
	nv_reader_close(r);
	in = stat_path(v, fixture_env("EFS_FILE"));
	cr_assert(in->kind & NV_IS_ENCRYPTED);
	nv_inode_free(in);
	in = stat_path(v, fixture_env("WOF_FILE"));
	cr_assert(in->kind & NV_IS_WOF);
	nv_inode_free(in);
	in = stat_path(v, fixture_env("SPARSE_FILE"));
	cr_assert(in->kind & NV_IS_SPARSE);
	cr_assert_eq(in->size, strtoull(fixture_env("SPARSE_SIZE"), NULL, 10));
	nv_inode_free(in);
	in = stat_path(v, fixture_env("COMPRESSED_FILE"));
	cr_assert(in->kind & NV_IS_COMPRESSED);
	nv_inode_free(in);
	in = stat_path(v, fixture_env("JUNCTION"));
	cr_assert(in->kind & NV_IS_JUNCTION);
	cr_assert_eq(nv_reparse_target(in, &target), NV_OK);
	cr_assert(strstr(target, "AppData\\Roaming"), "target %s", target);
	free(target);
	nv_inode_free(in);
	in = stat_path(v, fixture_env("JUNCTION_LOOP"));
	cr_assert(in->kind & NV_IS_JUNCTION, "the loop is a junction, so it is never entered");
	nv_inode_free(in);
	in = stat_path(v, fixture_env("SYMLINK_FILE"));
	cr_assert(in->kind & NV_IS_SYMLINK);
	nv_inode_free(in);
	in = stat_path(v, fixture_env("HARDLINK_A"));
	other = stat_path(v, fixture_env("HARDLINK_B"));
	cr_assert_eq(in->mref, other->mref);
	cr_assert_eq(in->name_count, 2);
	nv_inode_free(other);
	owner_sid(in, sid, sizeof(sid));
	cr_assert_str_eq(sid, fixture_env("ALICE_SID"), "alice owns her files");
	nv_inode_free(in);
	in = stat_path(v, fixture_env("ZONE_FILE"));
	cr_assert_eq(in->stream_count, 1);
	cr_assert_str_eq(in->streams[0].name, "Zone.Identifier");
	nv_inode_free(in);
	in = stat_path(v, fixture_env("UNICODE_NFC"));
	other = stat_path(v, fixture_env("UNICODE_NFD"));
	cr_assert_neq(in->mref, other->mref, "NFC and NFD spellings are two different files");
	nv_inode_free(in);
	nv_inode_free(other);
	in = stat_path(v, fixture_env("LONG_PATH_1000"));
	cr_assert_gt(strlen(fixture_env("LONG_PATH_1000")), 1000);
	nv_inode_free(in);
	in = stat_path(v, fixture_env("READONLY_FILE"));
	cr_assert(in->attributes & NV_ATTR_READONLY);
	nv_inode_free(in);
	in = stat_path(v, fixture_env("HIDDEN_FILE"));
	cr_assert(in->attributes & NV_ATTR_HIDDEN);
	nv_inode_free(in);
	in = stat_path(v, fixture_env("SYSTEM_FILE"));
	cr_assert(in->attributes & NV_ATTR_SYSTEM);
	nv_inode_free(in);
	nv_close(v);
}

static int
read_everything(const struct nv_entry *e, void *ctx)
{
	struct nv_volume *v = ctx;
	cr_assert_not_null(e->inode, "%s: %s", e->path, e->error);
	if (!(e->inode->kind & (NV_IS_DIR | NV_IS_DEHYDRATED | NV_IS_ENCRYPTED | NV_IS_WOF))) {
		char sha[65];
		hash_file(v, e->mref, sha);
	}
	return NV_WALK_CONTINUE;
}

Test(ntfs_fixture, read_only_walk_and_read_leave_the_image_unchanged, .timeout = 300)
{
	const char *img = fixture("volume.img");
	char *before = sha256_file(img);
	struct nv_volume *v;
	cr_assert_eq(nv_open(img, NULL, &v), NV_OK, "%s", nv_last_error());
	cr_assert_eq(nv_walk(v, "", read_everything, v), NV_OK);
	cr_assert_eq(nv_close(v), NV_OK);
	char *after = sha256_file(img);
	cr_assert_str_eq(before, after, "a read-only walk changed the image");
	free(before);
	free(after);
}

Test(ntfs_fixture, hibernated_and_bitlocker_images)
{
	struct nv_open_options rw = { .read_write = true };
	struct nv_volume *v;
	cr_assert_eq(nv_open(fixture("hibernated.img"), &rw, &v), NV_ERR_HIBERNATED, "%s",
		     nv_last_error());
	cr_assert_eq(nv_open(fixture("bitlocker.img"), NULL, &v), NV_ERR_BITLOCKER, "%s",
		     nv_last_error());
	cr_assert_eq(nv_open(fixture("mbr.img"), NULL, &v), NV_OK, "%s", nv_last_error());
	nv_close(v);
}
