/*
 * Extended attributes: the parser against good and damaged buffers, and
 * nv_stat / nv_set_ea checked against the ntfs-3g FUSE driver's
 * system.ntfs_ea in both directions (an independent reader and writer).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "ntfs/ntfs.h"
#include "tests/unit/ntfs/helpers.h"
#include "tests/unit/ea_pack.h"

static char *dir, img[4096], mnt[4096];

static void
setup(void)
{
	dir = scratch_dir();
	snprintf(img, sizeof(img), "%s/vol.img", dir);
	snprintf(mnt, sizeof(mnt), "%s/mnt", dir);
}

static void
teardown(void)
{
	scratch_done(dir);
}

TestSuite(ntfs_ea, .init = setup, .fini = teardown, .timeout = 120);

static char *
hex(const uint8_t *p, size_t n)
{
	char *s = malloc(2 * n + 3);
	strcpy(s, "0x");
	for (size_t i = 0; i < n; i++)
		sprintf(s + 2 + 2 * i, "%02x", p[i]);
	return s;
}

Test(ntfs_ea, parser_lists_entries)
{
	uint8_t b[256];
	uint32_t uid = 1000;
	size_t n = ea_pack_entry(b, "$LXUID", &uid, 4, 0);
	n += ea_pack_entry(b + n, "MYAPP.META", "v", 1, NV_EA_NEED_EA);
	n += ea_pack_entry(b + n, "EMPTY", "", 0, 0);
	size_t count = 0, off = 0;
	cr_assert_eq(nv_ea_check(b, n, &count), NV_OK, "%s", nv_last_error());
	cr_assert_eq(count, 3);
	struct nv_ea ea;
	cr_assert_eq(nv_ea_next(b, n, &off, &ea), NV_OK);
	cr_assert_eq(ea.name_len, 6);
	cr_assert_str_eq(ea.name, "$LXUID");
	cr_assert_eq(ea.value_len, 4);
	cr_assert_eq(memcmp(ea.value, &uid, 4), 0);
	cr_assert_eq(ea.flags, 0);
	cr_assert_eq(off, 20);
	cr_assert_eq(nv_ea_next(b, n, &off, &ea), NV_OK);
	cr_assert_str_eq(ea.name, "MYAPP.META");
	cr_assert_eq(ea.flags, NV_EA_NEED_EA);
	cr_assert_eq(nv_ea_next(b, n, &off, &ea), NV_OK);
	cr_assert_eq(ea.value_len, 0, "an empty value is allowed");
	cr_assert_eq(nv_ea_next(b, n, &off, &ea), NV_ERR_NOT_FOUND);
}

/* @b (@n bytes) must be refused with a sentence holding @word. */
static void
refused(const uint8_t *b, size_t n, const char *word)
{
	cr_assert_eq(nv_ea_check(b, n, NULL), NV_ERR_CORRUPT, "accepted (%s)", word);
	cr_assert(strstr(nv_last_error(), word), "%s", nv_last_error());
}

Test(ntfs_ea, parser_refuses_damaged_buffers)
{
	uint8_t good[64], b[64];
	size_t n = ea_pack_entry(good, "$LXGID", "\xe8\x03\0\0", 4, 0); /* 20 bytes */
	cr_assert_eq(n, 20);

	refused(good, 0, "bytes");                     /* empty */
	memcpy(b, good, n);
	refused(b, 19, "next");                        /* truncated: says 20, 19 there */
	refused(b, 5, "stray");                        /* shorter than a header */
	memcpy(b, good, n);
	memset(b + n, 0, 8);
	refused(b, n + 8, "next");                     /* a second entry of offset 0 */
	memcpy(b, good, n);
	b[0] = 24;                                     /* overlong: 24 > 20 there */
	refused(b, n, "next");
	memcpy(b, good, n);
	b[0] = 18;                                     /* not 4-byte aligned */
	refused(b, n, "aligned");
	memcpy(b, good, n);
	b[6] = 200;                                    /* value longer than the entry */
	refused(b, n, "holds");
	memcpy(b, good, n);
	b[6] = 0;                                      /* 15 bytes used in 20: too much padding */
	refused(b, n, "holds");
	memcpy(b, good, n);
	b[5] = 0;                                      /* no name */
	refused(b, n, "empty name");
	memcpy(b, good, n);
	b[8 + 6] = 'X';                                /* name not NUL-terminated */
	refused(b, n, "NUL");
	memcpy(b, good, n);
	b[0] = 0xff, b[1] = 0xff, b[2] = 0xff, b[3] = 0xff; /* huge next offset */
	refused(b, n, "next");
	static uint8_t big[NV_EA_MAX + 4];
	refused(big, sizeof(big), "bytes");            /* more than NTFS holds */

	/* A start past the end never reads out of bounds. */
	size_t off = 100;
	struct nv_ea ea;
	cr_assert_eq(nv_ea_next(good, n, &off, &ea), NV_ERR_CORRUPT);
}

Test(ntfs_ea, read_what_the_driver_wrote)
{
	make_volume(img, 16);
	fuse_mount(img, mnt, false);
	uint8_t b[256];
	uint32_t uid = 1000, mode = 0100644;
	size_t n = ea_pack_entry(b, "$LXUID", &uid, 4, 0);
	n += ea_pack_entry(b + n, "$LXMOD", &mode, 4, 0);
	char *h = hex(b, n);
	cr_assert_eq(sh("touch '%s/f' && mkdir '%s/d' && touch '%s/none' && "
			"setfattr -n system.ntfs_ea -v %s '%s/f' && setfattr -n system.ntfs_ea -v %s '%s/d'",
			mnt, mnt, mnt, h, mnt, h, mnt), 0);
	free(h);
	fuse_umount(mnt);

	struct nv_volume *v;
	struct nv_open_options ro = { 0 };
	cr_assert_eq(nv_open(img, &ro, &v), NV_OK, "%s", nv_last_error());
	const char *paths[] = { "f", "d", "none" };
	for (int i = 0; i < 3; i++) {
		uint64_t m;
		struct nv_inode *in;
		cr_assert_eq(nv_lookup(v, paths[i], &m), NV_OK, "%s", nv_last_error());
		cr_assert_eq(nv_stat(v, m, &in), NV_OK, "%s", nv_last_error());
		if (i == 2) {
			cr_assert_null(in->ea);
			cr_assert_eq(in->ea_len, 0);
		} else {
			cr_assert_eq(in->ea_len, n, "%s", paths[i]);
			cr_assert_arr_eq(in->ea, b, n);
		}
		nv_inode_free(in);
	}
	nv_close(v);
}

Test(ntfs_ea, written_ones_read_by_the_driver)
{
	make_volume(img, 16);
	struct nv_volume *v;
	struct nv_open_options rw = { .read_write = true };
	cr_assert_eq(nv_open(img, &rw, &v), NV_OK, "%s", nv_last_error());
	uint64_t f, d;
	cr_assert_eq(nv_create(v, NV_MREF_ROOT, "f", &f), NV_OK, "%s", nv_last_error());
	cr_assert_eq(nv_mkdir(v, NV_MREF_ROOT, "d", &d), NV_OK, "%s", nv_last_error());
	uint8_t b[256], small[64];
	size_t n = ea_pack_entry(b, "$LXUID", "\0\0\0\0", 4, 0);
	n += ea_pack_entry(b + n, "$LXDEV", "\x01\0\0\0\x03\0\0\0", 8, 0);
	n += ea_pack_entry(b + n, "MYAPP.META", "hello", 5, NV_EA_NEED_EA);
	size_t sn = ea_pack_entry(small, "X", "1", 1, 0);
	/* Replaced as a whole: a larger set, then a smaller one. */
	cr_assert_eq(nv_set_ea(v, f, b, n), NV_OK, "%s", nv_last_error());
	cr_assert_eq(nv_set_ea(v, d, b, n), NV_OK, "%s", nv_last_error());
	cr_assert_eq(nv_set_ea(v, d, small, sn), NV_OK, "%s", nv_last_error());
	/* Damaged: refused, nothing written. */
	uint8_t bad[20];
	memcpy(bad, b, 20);
	bad[0] = 0;
	cr_assert_eq(nv_set_ea(v, f, bad, sizeof(bad)), NV_ERR_INVALID);
	cr_assert(strstr(nv_last_error(), "not written"), "%s", nv_last_error());
	cr_assert_eq(nv_set_ea(v, f, NULL, 0), NV_ERR_INVALID);
	cr_assert_eq(nv_close(v), NV_OK, "%s", nv_last_error());

	struct nv_open_options ro = { 0 };
	cr_assert_eq(nv_open(img, &ro, &v), NV_OK, "%s", nv_last_error());
	cr_assert_eq(nv_set_ea(v, f, b, n), NV_ERR_READ_ONLY);
	nv_close(v);

	fuse_mount(img, mnt, true);
	char p[8192];
	size_t len;
	snprintf(p, sizeof(p), "%s/f", mnt);
	uint8_t *got = fuse_xattr(p, "system.ntfs_ea", &len);
	cr_assert_not_null(got);
	cr_assert_eq(len, n);
	cr_assert_arr_eq(got, b, n, "the file's EAs, byte for byte");
	free(got);
	snprintf(p, sizeof(p), "%s/d", mnt);
	got = fuse_xattr(p, "system.ntfs_ea", &len);
	cr_assert_not_null(got);
	cr_assert_eq(len, sn);
	cr_assert_arr_eq(got, small, sn, "the folder's EAs were replaced");
	free(got);
	fuse_umount(mnt);
}

/* A file whose $EA is there but cannot be read (its non-resident value's run
 * points past the end of the volume, as damage would leave it): nv_stat
 * fails with a sentence naming the EAs, never reports "no EAs". */
Test(ntfs_ea, unreadable_ea_is_an_error)
{
	make_volume(img, 16);
	fuse_mount(img, mnt, false);
	uint8_t b[3100];
	static uint8_t value[3000];
	memset(value, 0x5a, sizeof(value));
	size_t n = ea_pack_entry(b, "MYAPP.THUMB", value, sizeof(value), 0);
	char *h = hex(b, n);
	cr_assert_eq(sh("touch '%s/big' && setfattr -n system.ntfs_ea -v %s '%s/big'", mnt, h, mnt), 0);
	free(h);
	fuse_umount(mnt);
	/* The $EA (0xE0) attribute of the record named "big", made non-resident by
	 * its size: its first run's LCN is moved far past the volume's end. */
	cr_assert_eq(sh("python3 - '%s' <<'EOF'\n"
			"import struct, sys\n"
			"f = open(sys.argv[1], 'r+b')\n"
			"boot = f.read(512)\n"
			"bps, spc = struct.unpack_from('<HB', boot, 11)\n"
			"mft = struct.unpack_from('<q', boot, 0x30)[0] * bps * spc\n"
			"name = 'big'.encode('utf-16-le')\n"
			"for i in range(16, 4096):\n"
			"    f.seek(mft + i * 1024); r = bytearray(f.read(1024))\n"
			"    if r[:4] != b'FILE' or name not in r: continue\n"
			"    at = struct.unpack_from('<H', r, 20)[0]\n"
			"    while at < 1024:\n"
			"        t, ln = struct.unpack_from('<II', r, at)\n"
			"        if t == 0xFFFFFFFF: break\n"
			"        if t == 0xE0 and r[at + 8]:\n"
			"            mp = at + struct.unpack_from('<H', r, at + 0x20)[0]\n"
			"            lenb, offb = r[mp] & 15, r[mp] >> 4\n"
			"            o = mp + 1 + lenb\n"
			"            assert offb and all(p %% 512 < 510 for p in range(o, o + offb))\n"
			"            r[o:o + offb] = b'\\xff' * (offb - 1) + b'\\x3f'\n"
			"            f.seek(mft + i * 1024); f.write(r); sys.exit(0)\n"
			"        at += ln\n"
			"sys.exit(1)\n"
			"EOF", img), 0, "no non-resident $EA found to damage");
	struct nv_volume *v;
	struct nv_open_options ro = { 0 };
	cr_assert_eq(nv_open(img, &ro, &v), NV_OK, "%s", nv_last_error());
	uint64_t m;
	struct nv_inode *in = NULL;
	cr_assert_eq(nv_lookup(v, "big", &m), NV_OK, "%s", nv_last_error());
	enum nv_status st = nv_stat(v, m, &in);
	cr_assert_neq(st, NV_OK, "an unreadable $EA passed for none");
	cr_assert_null(in);
	cr_assert(strstr(nv_last_error(), "extended attributes"), "%s", nv_last_error());
	nv_close(v);
}
