/*
 * The fixed dirty hive of the log-replay fuzzer, and a new-format .LOG1 that
 * repairs it (the seed the fuzzer starts from).
 *
 * fz_hive_before(): base block + one 4 KiB hbin holding a root key "FUZZ"
 * (nk) and its security cell (sk), written by hand, with sequence numbers
 * 6/5: dirty, so replay starts at log entries numbered 5 or more.
 * fz_hive_log(): the same hive after hivex added a key and two values, as
 * one HvLE entry (sequence 5) carrying every page of the new hive bins, with
 * both Marvin32 hashes, behind a log base block.
 */
#ifndef WINSTATE_TESTS_FUZZ_HIVE_FIXTURE_H
#define WINSTATE_TESTS_FUZZ_HIVE_FIXTURE_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "registry/registry.h"

#define FZ_HIVE_SEQ1 6u
#define FZ_HIVE_SEQ2 5u

static inline void
fz_put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static inline void
fz_put32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static inline void
fz_put64(uint8_t *p, uint64_t v)
{
	fz_put32(p, (uint32_t)v);
	fz_put32(p + 4, (uint32_t)(v >> 32));
}

static inline uint32_t
fz_get32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* 8192 bytes: the dirty hive (sequence numbers @seq1/@seq2). */
static inline void
fz_hive_before(uint8_t f[8192], uint32_t seq1, uint32_t seq2)
{
	uint8_t *b = f + 4096, *nk, *sk;
	const uint32_t nk_off = 0x20, nk_size = (4 + 0x4C + 4 + 7) & ~7u;
	const uint32_t sk_off = nk_off + nk_size, sk_size = (4 + 0x14 + 20 + 7) & ~7u;
	const uint32_t free_off = sk_off + sk_size;

	memset(f, 0, 8192);
	memcpy(f, "regf", 4);
	fz_put32(f + 4, seq1);
	fz_put32(f + 8, seq2);
	fz_put32(f + 0x14, 1);          /* major version */
	fz_put32(f + 0x18, 5);          /* minor version */
	fz_put32(f + 0x20, 1);          /* format: direct memory load */
	fz_put32(f + 0x24, nk_off);     /* root cell */
	fz_put32(f + 0x28, 4096);       /* hive bins data size */
	fz_put32(f + 0x2C, 1);          /* clustering factor */
	fz_put32(f + 0x1FC, reg_regf_checksum(f));

	memcpy(b, "hbin", 4);
	fz_put32(b + 8, 4096);
	nk = b + nk_off;
	fz_put32(nk, (uint32_t)-(int32_t)nk_size);
	memcpy(nk + 4, "nk", 2);
	fz_put16(nk + 6, 0x2C);         /* hive entry, no delete, ASCII name */
	fz_put32(nk + 4 + 0x1C, 0xFFFFFFFF);    /* subkey lists */
	fz_put32(nk + 4 + 0x20, 0xFFFFFFFF);
	fz_put32(nk + 4 + 0x28, 0xFFFFFFFF);    /* value list */
	fz_put32(nk + 4 + 0x2C, sk_off);        /* security */
	fz_put32(nk + 4 + 0x30, 0xFFFFFFFF);    /* class */
	fz_put16(nk + 4 + 0x48, 4);
	memcpy(nk + 4 + 0x4C, "FUZZ", 4);
	sk = b + sk_off;
	fz_put32(sk, (uint32_t)-(int32_t)sk_size);
	memcpy(sk + 4, "sk", 2);
	fz_put32(sk + 8, sk_off);       /* flink, blink: itself */
	fz_put32(sk + 12, sk_off);
	fz_put32(sk + 16, 1);           /* reference count */
	fz_put32(sk + 20, 20);          /* descriptor length */
	sk[24] = 1;                     /* revision */
	fz_put16(sk + 26, 0x8004);      /* self-relative, DACL present (null) */
	fz_put32(b + free_off, 4096 - free_off);
}

static inline int
fz_write_bytes(const char *path, const void *p, size_t n)
{
	FILE *f = fopen(path, "wb");
	if (!f)
		return -1;
	size_t w = fwrite(p, 1, n, f);
	return fclose(f) == 0 && w == n ? 0 : -1;
}

static inline uint8_t *
fz_read_bytes(const char *path, size_t *n)
{
	FILE *f = fopen(path, "rb");
	uint8_t *p = NULL;
	long len;
	if (!f)
		return NULL;
	if (fseek(f, 0, SEEK_END) == 0 && (len = ftell(f)) >= 0 && fseek(f, 0, SEEK_SET) == 0 &&
	    (p = malloc((size_t)len + 1)) && fread(p, 1, (size_t)len, f) != (size_t)len) {
		free(p);
		p = NULL;
	}
	if (p)
		*n = (size_t)len;
	fclose(f);
	return p;
}

/*
 * Build the repairing .LOG1 in @log_path, using @work (a folder) for the
 * clean and the changed hive.  0 on success.
 */
static inline int
fz_hive_log(const char *work, const char *log_path)
{
	char clean[4096], after[4096];
	uint8_t before[8192];
	int err;
	char msg[320];
	reg_key k;

	snprintf(clean, sizeof(clean), "%s/clean.hive", work);
	snprintf(after, sizeof(after), "%s/after.hive", work);
	fz_hive_before(before, FZ_HIVE_SEQ2, FZ_HIVE_SEQ2);
	if (fz_write_bytes(clean, before, sizeof(before)))
		return -1;
	reg_hive *h = reg_hive_open(clean, REG_HIVE_OPEN_WRITE, &err, msg, sizeof(msg));
	if (!h) {
		fprintf(stderr, "fz_hive_log: %s\n", msg);
		return -1;
	}
	if (reg_key_create(h, "Software\\Fuzz\\Only In Log", &k) ||
	    reg_key_set_dword(h, k, "Answer", 42) ||
	    reg_key_set_string(h, k, "Name", REG_SZ, "replayed from the log") ||
	    reg_hive_commit(h, after)) {
		fprintf(stderr, "fz_hive_log: %s\n", reg_hive_errmsg(h));
		reg_hive_close(h);
		return -1;
	}
	reg_hive_close(h);

	size_t alen = 0;
	uint8_t *a = fz_read_bytes(after, &alen);
	if (!a || alen < 8192) {
		free(a);
		return -1;
	}
	uint32_t hbins = fz_get32(a + 0x28);
	uint32_t pages = hbins / 4096;
	if (alen < 4096 + (size_t)hbins) {
		free(a);
		return -1;
	}
	size_t entry = 0x28 + 8 * (size_t)pages + hbins;
	entry = (entry + 511) / 512 * 512;
	uint8_t *log = calloc(1, 512 + entry);
	if (!log) {
		free(a);
		return -1;
	}
	memcpy(log, a, 512);
	fz_put32(log + 4, FZ_HIVE_SEQ2);
	fz_put32(log + 8, FZ_HIVE_SEQ2);
	fz_put32(log + 0x1C, 6);        /* new-format log */
	fz_put32(log + 0x1FC, reg_regf_checksum(log));
	uint8_t *e = log + 512;
	memcpy(e, "HvLE", 4);
	fz_put32(e + 4, (uint32_t)entry);
	fz_put32(e + 0x0C, FZ_HIVE_SEQ2);
	fz_put32(e + 0x10, hbins);
	fz_put32(e + 0x14, pages);
	for (uint32_t i = 0; i < pages; i++) {
		fz_put32(e + 0x28 + 8 * i, i * 4096);
		fz_put32(e + 0x28 + 8 * i + 4, 4096);
	}
	memcpy(e + 0x28 + 8 * (size_t)pages, a + 4096, hbins);
	fz_put64(e + 0x18, reg_marvin32(e + 0x28, entry - 0x28, REG_MARVIN32_REGISTRY_SEED));
	fz_put64(e + 0x20, reg_marvin32(e, 0x20, REG_MARVIN32_REGISTRY_SEED));
	int rc = fz_write_bytes(log_path, log, 512 + entry);
	free(log);
	free(a);
	return rc;
}

#endif
