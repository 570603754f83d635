/*
 * formats/ — pure parsers and writers of Windows' on-disk structures, for data
 * that comes from untrusted volumes and stores: little-endian fields, reparse
 * buffers (junctions, folder symbolic links); and the text forms every output
 * spells the same way (JSON strings, sizes, NTFS times, attribute letters).  No I/O and no other module:
 * everything above may use it, and the fuzzers reach it directly.
 */
#ifndef WINSTATE_FORMATS_H
#define WINSTATE_FORMATS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/*
 * Little-endian fields of Windows' on-disk structures (security descriptors,
 * reparse buffers) read and written byte by byte, whatever the host.
 */


static inline uint16_t
rd16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static inline uint32_t
rd32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static inline void
wr16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static inline void
wr32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

/*
 * Junctions and folder symbolic links as a store keeps them: their whole
 * reparse buffer.  Reading one from an (untrusted) store, and moving its
 * target when the profile it points into is restored under another path
 * ("\??\C:\Users\old\Music" -> "\??\C:\Users\new\Music").
 */


#define FMT_TAG_MOUNT_POINT 0xA0000003u
#define FMT_TAG_SYMLINK 0xA000000Cu
/* MAXIMUM_REPARSE_DATA_BUFFER_SIZE: NTFS keeps no larger reparse buffer. */
#define FMT_MAX_REPARSE 16384u

struct fmt_junction_target {
	uint32_t tag;             /* JUNCTION_TAG_* */
	bool relative;            /* a symlink with SYMLINK_FLAG_RELATIVE */
	uint32_t flags;           /* a symlink's flags */
	char *substitute;         /* UTF-8, as stored: "\??\C:\Users\alice\Music" */
	char *print;              /* UTF-8, may be "" */
};

/*
 * Check @buf (a whole reparse buffer) as a junction or symlink: tag, length
 * field, name offsets and lengths inside it, at most 16 KiB.  0 and *@out
 * filled (fmt_junction_target_free), or -1 with a sentence in @why.
 */
int fmt_junction_parse(const uint8_t *buf, size_t len, struct fmt_junction_target *out, char *why,
		   size_t whylen);
void fmt_junction_target_free(struct fmt_junction_target *t);

/* The Windows path a parsed link points at: its substitute name without
 * "\??\" ("C:\Users\alice\Music"; a relative symlink's path as is). */
const char *fmt_junction_path(const struct fmt_junction_target *t);

/*
 * When the link's target is @old_prefix or below it ("C:\Users\alice":
 * case-insensitive, on a component boundary, so "C:\Users\al" never matches
 * "C:\Users\alice"), build in *@out (malloc'd) the same reparse buffer with
 * @new_prefix in its place, in the substitute name and, when it starts with
 * the same prefix, the print name; lengths and offsets recomputed.  Returns
 * 1 (rewritten), 0 (not below @old_prefix, or a relative symlink: *@out
 * NULL), -1 (malformed buffer, or the result would exceed 16 KiB; @why).
 */
int fmt_junction_rewrite(const uint8_t *buf, size_t len, const char *old_prefix,
		     const char *new_prefix, uint8_t **out, size_t *out_len, char *why,
		     size_t whylen);

/*
 * Small shared helpers for what commands print: JSON strings, sizes, times
 * and attribute letters, so every command spells them the same way.
 */


/* Write @s as a JSON string literal (quotes included). */
void fmt_json_string(FILE *out, const char *s);
/* Write @len bytes as a lowercase hex JSON string. */
void fmt_json_hex(FILE *out, const uint8_t *data, size_t len);
/* "1.5 GiB", "512 B" into @buf. */
const char *fmt_size(uint64_t bytes, char *buf, size_t len);
/* NTFS time (100 ns since 1601) as "YYYY-MM-DD HH:MM:SS" UTC, or "-" for 0. */
const char *fmt_ntfs_time(uint64_t t, char *buf, size_t len);
/* ISO 8601 with 100 ns precision, for JSON. */
const char *fmt_ntfs_time_iso(uint64_t t, char *buf, size_t len);
/* Windows attribute letters: R H S A D C E P L O T N (and - for unset). */
const char *fmt_attribute_letters(uint32_t attributes, char *buf, size_t len);

/* UTF-16LE <-> UTF-8 (WTF-8 for lone surrogates, so NTFS names round-trip). */
char *fmt_utf16_to_utf8(const uint16_t *s, size_t units);
/* Returns the number of UTF-16 units, or -1 for invalid UTF-8. *out is malloc'd. */
long fmt_utf8_to_utf16(const char *s, uint16_t **out);

#endif
