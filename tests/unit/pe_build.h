/*
 * Shared by the formats and rules unit tests and the fuzzers' seeds: a tiny
 * PE32 with an RT_VERSION resource, built here (VS_VERSIONINFO with
 * VS_FIXEDFILEINFO 16.0.4266.1003 and a StringFileInfo table: CompanyName
 * "Contoso Ltd.", ProductName "Contoso Writer", ProductVersion "16, 0, 1, 2").
 * pe_build_sample fills 4096 bytes at @pe and returns the PE's length.
 */
#ifndef WINSTATE_TESTS_PE_BUILD_H
#define WINSTATE_TESTS_PE_BUILD_H

#include <stdint.h>
#include <string.h>

#include "formats/formats.h"

struct pe_buf {
	uint8_t b[8192];
	size_t n;
};

static inline void
align4(struct pe_buf *b)
{
	while (b->n & 3)
		b->b[b->n++] = 0;
}

static inline void
wstr(struct pe_buf *b, const char *s)
{
	for (; *s; s++) {
		fmt_put_le16(b->b + b->n, (uint16_t)(uint8_t)*s);
		b->n += 2;
	}
	fmt_put_le16(b->b + b->n, 0);
	b->n += 2;
}

/* Start a block: returns its offset; finish with end_blk. */
static inline size_t
blk(struct pe_buf *b, const char *key, unsigned type)
{
	align4(b);
	size_t at = b->n;
	b->n += 6;
	fmt_put_le16(b->b + at + 4, (uint16_t)type);
	wstr(b, key);
	align4(b);
	return at;
}

static inline void
end_blk(struct pe_buf *b, size_t at)
{
	fmt_put_le16(b->b + at, (uint16_t)(b->n - at));
}

static inline void
str_entry(struct pe_buf *b, const char *k, const char *v)
{
	size_t at = blk(b, k, 1);
	wstr(b, v);
	fmt_put_le16(b->b + at + 2, (uint16_t)(strlen(v) + 1));
	end_blk(b, at);
}

static inline size_t
pe_build_sample(uint8_t *pe)
{
	memset(pe, 0, 4096);
	pe[0] = 'M';
	pe[1] = 'Z';
	fmt_put_le32(pe + 0x3C, 0x40);
	memcpy(pe + 0x40, "PE\0\0", 4);
	fmt_put_le16(pe + 0x44, 0x14c);
	fmt_put_le16(pe + 0x46, 1);
	fmt_put_le16(pe + 0x54, 224);
	size_t opt = 0x58;
	fmt_put_le16(pe + opt, 0x10b);
	fmt_put_le32(pe + opt + 96 + 16, 0x1000);      /* resource directory */
	fmt_put_le32(pe + opt + 96 + 20, 0x800);
	size_t sec = opt + 224;
	memcpy(pe + sec, ".rsrc", 5);
	fmt_put_le32(pe + sec + 8, 0x800);
	fmt_put_le32(pe + sec + 12, 0x1000);
	fmt_put_le32(pe + sec + 16, 0x800);
	fmt_put_le32(pe + sec + 20, 0x200);
	uint8_t *r = pe + 0x200;
	/* type 16 -> name 1 -> lang 0x409 -> data entry */
	fmt_put_le16(r + 14, 1);
	fmt_put_le32(r + 16, 16);
	fmt_put_le32(r + 20, 0x80000000u | 0x18);
	fmt_put_le16(r + 0x18 + 14, 1);
	fmt_put_le32(r + 0x18 + 16, 1);
	fmt_put_le32(r + 0x18 + 20, 0x80000000u | 0x30);
	fmt_put_le16(r + 0x30 + 14, 1);
	fmt_put_le32(r + 0x30 + 16, 0x409);
	fmt_put_le32(r + 0x30 + 20, 0x48);
	struct pe_buf v = { .n = 0 };
	size_t root = blk(&v, "VS_VERSION_INFO", 0);
	fmt_put_le16(v.b + root + 2, 52);
	size_t fixed = v.n;
	fmt_put_le32(v.b + fixed, 0xFEEF04BDu);
	fmt_put_le32(v.b + fixed + 8, (16u << 16) | 0);       /* 16.0 */
	fmt_put_le32(v.b + fixed + 12, (4266u << 16) | 1003); /* .4266.1003 */
	fmt_put_le32(v.b + fixed + 16, (16u << 16) | 0);
	fmt_put_le32(v.b + fixed + 20, 0);
	v.n += 52;
	size_t sfi = blk(&v, "StringFileInfo", 1);
	size_t tab = blk(&v, "040904b0", 1);
	str_entry(&v, "CompanyName", "Contoso Ltd.");
	str_entry(&v, "ProductName", "Contoso Writer");
	str_entry(&v, "ProductVersion", "16, 0, 1, 2");
	end_blk(&v, tab);
	end_blk(&v, sfi);
	end_blk(&v, root);
	fmt_put_le32(r + 0x48, 0x1000 + 0x58);
	fmt_put_le32(r + 0x48 + 4, (uint32_t)v.n);
	memcpy(r + 0x58, v.b, v.n);
	return 0x200 + 0x58 + v.n;
}

#endif
