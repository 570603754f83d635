/*
 * Dirty-hive detection and transaction-log replay.
 *
 * Windows writes recent registry changes to <hive>.LOG1/.LOG2 first and to the
 * hive itself later.  A hive whose base block has differing primary and
 * secondary sequence numbers (or a bad checksum) was not completely written,
 * and what is missing is in the logs.  hivex does not replay logs, so we do it
 * here, into a private copy, and hivex opens that copy.
 *
 * New format (Windows 8.1 and later): a log is a 512-byte regf base block
 * followed by "HvLE" entries:
 *   0x00 "HvLE"  0x04 size  0x08 flags  0x0C sequence  0x10 hive bins data size
 *   0x14 dirty page count  0x18 hash-1  0x20 hash-2
 *   0x28 count x {offset, size} (offsets relative to the hive bins, i.e. file
 *        offset - 4096), then the pages in the same order.
 * hash-1 is Marvin32 of everything from 0x28 to the end of the entry, hash-2
 * Marvin32 of bytes 0x00..0x1F (so it covers hash-1).  Entries are applied in
 * sequence-number order across both logs, starting with the first entry whose
 * sequence number is at least the base block's secondary sequence number (the
 * last one known complete in the hive; Windows may have reset the logs since,
 * so the chain may start later), and stopping at the first entry that fails a
 * hash or at a gap in the numbers.
 *
 * Old format (Vista/7 and earlier, also .LOG): a 512-byte base block, at 512
 * "DIRT" and a bitmap with one bit per 512-byte sector of hive bins data, then
 * from the next 512-byte boundary the dirty sectors in bitmap order.
 *
 * After replay the base block gets equal sequence numbers (the last applied),
 * the new hive bins data size, file type 0 and a fresh checksum.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "registry/reg_internal.h"

#define LOG_TYPE_OLD1 1u
#define LOG_TYPE_OLD2 2u
#define LOG_TYPE_NEW 6u
#define HVLE_HEADER 0x28u
#define MAX_HIVE_SIZE (2048u * 1024u * 1024u) /* Windows' own limit is 2 GiB */

uint32_t
reg_regf_checksum(const uint8_t *b)
{
	uint32_t x = 0;

	for (unsigned i = 0; i < 508; i += 4)
		x ^= fmt_le32(b + i);
	if (x == 0xFFFFFFFFu)
		x = 0xFFFFFFFEu;
	else if (x == 0)
		x = 1;
	return x;
}

static int
base_block_valid(const uint8_t *b, size_t len)
{
	return len >= REGF_SECTOR && !memcmp(b, "regf", 4) && reg_regf_checksum(b) == fmt_le32(b + 0x1FC);
}

struct log_file {
	const char *path;
	uint8_t *buf;
	size_t len;
	int valid;              /* base block signature and checksum */
	uint32_t type;
	uint32_t seq;
};

struct log_entry {
	const uint8_t *p;       /* start of the HvLE entry */
	uint32_t size, seq, hbins, count;
};

struct entry_list {
	struct log_entry *v;
	size_t n, cap;
};

static int
entry_push(struct entry_list *l, const struct log_entry *e)
{
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 32;
		struct log_entry *v = realloc(l->v, cap * sizeof(*v));
		if (!v)
			return -1;
		l->v = v;
		l->cap = cap;
	}
	l->v[l->n++] = *e;
	return 0;
}

/* Collect the consecutive, hash-valid entries of one new-format log. */
static int
collect_entries(const struct log_file *lf, struct entry_list *out, struct reg_replay_report *rep)
{
	size_t off = REGF_SECTOR;
	uint32_t expect = 0;
	int first = 1;

	while (off + HVLE_HEADER <= lf->len) {
		const uint8_t *p = lf->buf + off;
		struct log_entry e;
		uint64_t pages_total = 0;
		int bad = 0;

		if (memcmp(p, "HvLE", 4))
			break;          /* end of the used part of the log */
		e.p = p;
		e.size = fmt_le32(p + 4);
		e.seq = fmt_le32(p + 0x0C);
		e.hbins = fmt_le32(p + 0x10);
		e.count = fmt_le32(p + 0x14);
		if (!first && e.seq != expect)
			break;          /* left over from an earlier cycle of the log */
		if (e.size < HVLE_HEADER || e.size % REGF_SECTOR || e.size > lf->len - off ||
		    e.hbins % 4096 || e.hbins > MAX_HIVE_SIZE ||
		    (uint64_t)e.count * 8 > e.size - HVLE_HEADER) {
			bad = 1;
		} else {
			for (uint32_t i = 0; i < e.count && !bad; i++) {
				uint32_t po = fmt_le32(p + HVLE_HEADER + 8 * i);
				uint32_t ps = fmt_le32(p + HVLE_HEADER + 8 * i + 4);
				if ((uint64_t)po + ps > e.hbins)
					bad = 1;
				pages_total += ps;
			}
			if (!bad && HVLE_HEADER + (uint64_t)e.count * 8 + pages_total > e.size)
				bad = 1;
		}
		if (!bad) {
			uint64_t h1 = reg_marvin32(p + HVLE_HEADER, e.size - HVLE_HEADER,
						  REG_MARVIN32_REGISTRY_SEED);
			uint64_t h2 = reg_marvin32(p, 0x20, REG_MARVIN32_REGISTRY_SEED);
			if (h1 != fmt_le64(p + 0x18) || h2 != fmt_le64(p + 0x20))
				bad = 1;
		}
		if (bad) {
			rep->entries_rejected++;
			break;
		}
		if (entry_push(out, &e) < 0)
			return -1;
		first = 0;
		expect = e.seq + 1;
		off += e.size;
	}
	return 0;
}

static int
cmp_entry_seq(const void *a, const void *b)
{
	const struct log_entry *x = a, *y = b;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* Grow (zero-filled) or shrink the hive image to 4096 + hbins bytes. */
static int
resize_hive(uint8_t **buf, size_t *len, uint32_t hbins)
{
	size_t want = REGF_BASE_BLOCK + (size_t)hbins;
	uint8_t *nb;

	if (want == *len)
		return 0;
	nb = realloc(*buf, want);
	if (!nb)
		return -1;
	if (want > *len)
		memset(nb + *len, 0, want - *len);
	*buf = nb;
	*len = want;
	return 0;
}

static void
finish_base_block(uint8_t *b, uint32_t seq, uint32_t hbins)
{
	fmt_put_le32(b + 4, seq);
	fmt_put_le32(b + 8, seq);
	fmt_put_le32(b + 0x1C, 0);      /* primary file */
	fmt_put_le32(b + 0x28, hbins);
	fmt_put_le32(b + 0x1FC, reg_regf_checksum(b));
}

static int
replay_new(uint8_t **hive, size_t *hlen, struct log_file *logs, size_t nlogs,
	   uint32_t start_seq, struct reg_replay_report *rep)
{
	struct entry_list el = { 0 };
	uint32_t last = 0;
	size_t i;
	int ret = 0;

	for (i = 0; i < nlogs; i++)
		if (logs[i].valid && logs[i].type == LOG_TYPE_NEW &&
		    collect_entries(&logs[i], &el, rep) < 0) {
			free(el.v);
			return REG_ENOMEM;
		}
	if (el.n > 1) /* el.v is NULL when no entry was found, and qsort's may not be */
		qsort(el.v, el.n, sizeof(*el.v), cmp_entry_seq);
	for (i = 0; i < el.n; i++) {
		const struct log_entry *e = &el.v[i];

		if (e->seq < start_seq || (rep->entries_applied && e->seq == last)) {
			rep->entries_skipped++;         /* stale or duplicate */
			continue;
		}
		if (rep->entries_applied && e->seq != last + 1) {
			rep->entries_skipped += (unsigned)(el.n - i);   /* gap: stop */
			break;
		}
		if (resize_hive(hive, hlen, e->hbins) < 0) {
			ret = REG_ENOMEM;
			break;
		}
		const uint8_t *data = e->p + HVLE_HEADER + 8 * (size_t)e->count;
		for (uint32_t k = 0; k < e->count; k++) {
			uint32_t po = fmt_le32(e->p + HVLE_HEADER + 8 * k);
			uint32_t ps = fmt_le32(e->p + HVLE_HEADER + 8 * k + 4);
			memcpy(*hive + REGF_BASE_BLOCK + po, data, ps);
			data += ps;
			rep->pages_applied++;
		}
		rep->entries_applied++;
		rep->hbins_size = e->hbins;
		last = e->seq;
	}
	if (rep->entries_applied)
		rep->final_seq = last;
	free(el.v);
	return ret;
}

/* Old format: returns 1 when applied, 0 when this log cannot be used. */
static int
replay_old(uint8_t **hive, size_t *hlen, const struct log_file *lf, struct reg_replay_report *rep)
{
	uint32_t hbins = fmt_le32(lf->buf + 0x28);
	size_t bitmap_bytes = hbins / 4096;
	size_t sect_off, n = 0;

	if (lf->len < REGF_SECTOR + 4 + bitmap_bytes || memcmp(lf->buf + REGF_SECTOR, "DIRT", 4) ||
	    hbins % 4096 || hbins > MAX_HIVE_SIZE || fmt_le32(lf->buf + 4) != fmt_le32(lf->buf + 8)) {
		rep->entries_rejected++;
		return 0;
	}
	sect_off = (REGF_SECTOR + 4 + bitmap_bytes + REGF_SECTOR - 1) / REGF_SECTOR * REGF_SECTOR;
	/* Count first: a truncated log is refused whole, not half applied. */
	for (size_t bit = 0; bit < bitmap_bytes * 8; bit++)
		if (lf->buf[REGF_SECTOR + 4 + bit / 8] & (1u << (bit % 8)))
			n++;
	if (sect_off + n * REGF_SECTOR > lf->len) {
		rep->entries_rejected++;
		return 0;
	}
	if (resize_hive(hive, hlen, hbins) < 0)
		return -1;
	n = 0;
	for (size_t bit = 0; bit < bitmap_bytes * 8; bit++) {
		if (!(lf->buf[REGF_SECTOR + 4 + bit / 8] & (1u << (bit % 8))))
			continue;
		memcpy(*hive + REGF_BASE_BLOCK + bit * REGF_SECTOR,
		       lf->buf + sect_off + n * REGF_SECTOR, REGF_SECTOR);
		n++;
	}
	/* The log's base block describes the hive after the change. */
	memcpy(*hive, lf->buf, REGF_SECTOR);
	rep->pages_applied += (unsigned)n;
	rep->entries_applied = 1;
	rep->hbins_size = hbins;
	rep->final_seq = fmt_le32(lf->buf + 4);
	return 1;
}

static void
detail(struct reg_replay_report *rep, enum reg_hive_state st, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void
detail(struct reg_replay_report *rep, enum reg_hive_state st, const char *fmt, ...)
{
	va_list ap;

	rep->state = st;
	va_start(ap, fmt);
	vsnprintf(rep->detail, sizeof(rep->detail), fmt, ap);
	va_end(ap);
}

int
reg_hive_replay_logs(const char *hive_path, const char *log1, const char *log2,
		    const char *out_path, struct reg_replay_report *rep)
{
	struct log_file logs[2] = { { .path = log1 }, { .path = log2 } };
	uint8_t *hive;
	size_t hlen = 0;
	uint32_t start_seq;
	int ret = 0, have_new = 0, base_ok;
	unsigned i;

	memset(rep, 0, sizeof(*rep));
	hive = reg_read_file(hive_path, &hlen);
	if (!hive) {
		detail(rep, REG_HIVE_UNRECOVERABLE, "cannot read %s: %s", hive_path, strerror(errno));
		return REG_EIO;
	}
	if (hlen < REGF_BASE_BLOCK || memcmp(hive, "regf", 4)) {
		detail(rep, REG_HIVE_UNRECOVERABLE, "%s is not a registry hive (no regf base block)",
		       hive_path);
		free(hive);
		return REG_EFORMAT;
	}
	rep->primary_seq = fmt_le32(hive + 4);
	rep->secondary_seq = fmt_le32(hive + 8);
	rep->checksum_ok = reg_regf_checksum(hive) == fmt_le32(hive + 0x1FC);
	rep->final_seq = rep->primary_seq;
	rep->hbins_size = fmt_le32(hive + 0x28);
	base_ok = rep->checksum_ok;

	for (i = 0; i < 2; i++) {
		if (!logs[i].path)
			continue;
		logs[i].buf = reg_read_file(logs[i].path, &logs[i].len);
		if (!logs[i].buf)
			continue;
		rep->logs_found++;
		logs[i].valid = base_block_valid(logs[i].buf, logs[i].len);
		logs[i].type = logs[i].valid ? fmt_le32(logs[i].buf + 0x1C) : 0;
		logs[i].seq = logs[i].valid ? fmt_le32(logs[i].buf + 4) : 0;
		if (logs[i].valid && logs[i].type == LOG_TYPE_NEW)
			have_new = 1;
	}

	if (base_ok && rep->primary_seq == rep->secondary_seq) {
		detail(rep, REG_HIVE_CLEAN, "hive is clean (sequence numbers %u/%u agree, checksum good)",
		       rep->primary_seq, rep->secondary_seq);
		goto out;
	}
	if (!rep->logs_found) {
		detail(rep, base_ok ? REG_HIVE_DIRTY_NOT_REPLAYED : REG_HIVE_UNRECOVERABLE,
		       "hive is dirty (sequence %u/%u%s) and no transaction log was found beside it; "
		       "recent changes are missing", rep->primary_seq, rep->secondary_seq,
		       base_ok ? "" : ", bad base-block checksum");
		goto out;
	}

	if (!base_ok) {
		/* Rebuild the base block from the newest valid log's base block. */
		int best = -1;
		for (i = 0; i < 2; i++)
			if (logs[i].valid && (best < 0 || logs[i].seq > logs[best].seq))
				best = (int)i;
		if (best < 0) {
			detail(rep, REG_HIVE_UNRECOVERABLE, "the hive's base block has a bad checksum "
			       "and no log has a valid base block to replace it");
			goto out;
		}
		memset(hive, 0, REGF_BASE_BLOCK);
		memcpy(hive, logs[best].buf, REGF_SECTOR);
		start_seq = logs[best].seq;
	} else {
		start_seq = rep->secondary_seq;
	}

	if (have_new) {
		rep->format = REG_LOG_NEW;
		ret = replay_new(&hive, &hlen, logs, 2, start_seq, rep);
		if (ret)
			goto out;
	} else {
		int best = -1;
		for (i = 0; i < 2; i++)
			if (logs[i].valid && (logs[i].type == LOG_TYPE_OLD1 || logs[i].type == LOG_TYPE_OLD2) &&
			    logs[i].seq >= start_seq && (best < 0 || logs[i].seq > logs[best].seq))
				best = (int)i;
		if (best >= 0) {
			rep->format = REG_LOG_OLD;
			if (replay_old(&hive, &hlen, &logs[best], rep) < 0) {
				ret = REG_ENOMEM;
				goto out;
			}
		}
	}

	if (!rep->entries_applied) {
		unsigned invalid = 0;
		for (i = 0; i < 2; i++)
			if (logs[i].buf && !logs[i].valid)
				invalid++;
		detail(rep, base_ok ? REG_HIVE_DIRTY_NOT_REPLAYED : REG_HIVE_UNRECOVERABLE,
		       "hive is dirty (sequence %u/%u) but its logs could not be replayed "
		       "(%u log file(s), %u with a damaged base block, %u entr%s failed a checksum, "
		       "%u stale); recent changes are missing",
		       rep->primary_seq, rep->secondary_seq, rep->logs_found, invalid,
		       rep->entries_rejected, rep->entries_rejected == 1 ? "y" : "ies",
		       rep->entries_skipped);
		rep->final_seq = rep->primary_seq;
		goto out;
	}

	finish_base_block(hive, rep->final_seq, rep->hbins_size);
	if (reg_write_file(out_path, hive, hlen) < 0) {
		detail(rep, REG_HIVE_DIRTY_NOT_REPLAYED, "cannot write the replayed copy %s: %s",
		       out_path, strerror(errno));
		ret = REG_EIO;
		goto out;
	}
	detail(rep, REG_HIVE_REPLAYED,
	       "hive was dirty (sequence %u/%u); replayed %u %s log entr%s (%u page%s) up to "
	       "sequence %u%s%s",
	       rep->primary_seq, rep->secondary_seq, rep->entries_applied,
	       rep->format == REG_LOG_NEW ? "new-format" : "old-format",
	       rep->entries_applied == 1 ? "y" : "ies", rep->pages_applied,
	       rep->pages_applied == 1 ? "" : "s", rep->final_seq,
	       rep->entries_rejected ? "; stopped at an entry with a bad checksum" : "",
	       rep->entries_skipped ? "; stale entries ignored" : "");
out:
	for (i = 0; i < 2; i++)
		free(logs[i].buf);
	free(hive);
	return ret;
}

int
reg_hive_replay(const char *hive_path, const char *out_path, struct reg_replay_report *rep)
{
	char *l1 = reg_find_beside(hive_path, ".LOG1");
	char *l2 = reg_find_beside(hive_path, ".LOG2");
	int ret;

	if (!l1 && !l2)
		l1 = reg_find_beside(hive_path, ".LOG");
	ret = reg_hive_replay_logs(hive_path, l1, l2, out_path, rep);
	free(l1);
	free(l2);
	return ret;
}
