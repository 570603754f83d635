/*
 * formats/ — pure parsers and writers of Windows' on-disk structures, for data
 * that comes from untrusted volumes and stores: little-endian fields, UTF-16,
 * SIDs, security descriptors, reparse buffers (junctions, folder symbolic
 * links), PE version resources; and the text forms every output spells the
 * same way (JSON strings, sizes, NTFS times, attribute letters).  No I/O and
 * no other module: everything above may use it, and the fuzzers reach it
 * directly.  One copy of each: a module never decodes these itself.
 */
#ifndef WINSTATE_FORMATS_H
#define WINSTATE_FORMATS_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/*
 * Little-endian fields of Windows' on-disk structures (security descriptors,
 * reparse buffers, hives, PE files, our own store records), read and written
 * byte by byte: no alignment needed, the same on every host.  The one copy
 * every module uses.
 */
static inline uint16_t
fmt_le16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static inline uint32_t
fmt_le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static inline uint64_t
fmt_le64(const uint8_t *p)
{
	return (uint64_t)fmt_le32(p) | (uint64_t)fmt_le32(p + 4) << 32;
}

static inline void
fmt_put_le16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static inline void
fmt_put_le32(uint8_t *p, uint32_t v)
{
	fmt_put_le16(p, (uint16_t)v);
	fmt_put_le16(p + 2, (uint16_t)(v >> 16));
}

static inline void
fmt_put_le64(uint8_t *p, uint64_t v)
{
	fmt_put_le32(p, (uint32_t)v);
	fmt_put_le32(p + 4, (uint32_t)(v >> 32));
}

/*
 * UTF-16 <-> UTF-8, one rule everywhere (NTFS names, registry strings, PE
 * version strings): a lone surrogate is WTF-8, its code point in three bytes,
 * and reads back as the same unit, so any UTF-16 string round-trips.  A pair
 * is always one four-byte sequence; malformed UTF-8 (overlong forms, a pair
 * spelled as two three-byte surrogates, stray bytes) is refused.
 */

/* @units UTF-16 units in host order, all of them (a NUL unit ends the C
 * string early), to malloc'd UTF-8; NULL only when memory fails. */
char *fmt_utf16_to_utf8(const uint16_t *s, size_t units);
/* @bytes of UTF-16LE (any alignment) up to the first NUL unit or the end (an
 * odd last byte is ignored), to malloc'd UTF-8; NULL only when memory fails. */
char *fmt_utf16le_to_utf8(const uint8_t *p, size_t bytes);
/* Returns the number of UTF-16 units (host order, NUL-terminated *out,
 * malloc'd), or -1 with errno EILSEQ (invalid UTF-8) or ENOMEM. */
long fmt_utf8_to_utf16(const char *s, uint16_t **out);
/* Whether @len bytes at @s are UTF-8 by the rule above (what
 * fmt_utf8_to_utf16 takes; a NUL byte counts as a character). */
bool fmt_utf8_valid(const char *s, size_t len);
/* UTF-16LE bytes with the terminating NUL (*@bytes counts it), malloc'd;
 * NULL with errno EILSEQ (invalid UTF-8) or ENOMEM. */
uint8_t *fmt_utf8_to_utf16le(const char *s, size_t *bytes);
/* How many UTF-16 units @len bytes of (WTF-8) UTF-8 take: a four-byte
 * sequence is a pair.  For NTFS's limit of 255 units in a name. */
size_t fmt_utf16_units(const char *s, size_t len);

/*
 * SIDs, binary ("1, count, 48-bit authority, sub-authorities") and text
 * ("S-1-5-21-..."), both checked: binary SIDs come from untrusted hives and
 * stores.
 */
#define FMT_SID_MAX_SUBS 15
#define FMT_SID_MAX (8 + 4 * FMT_SID_MAX_SUBS)

/* The length of the SID at @sid (@avail bytes there), or 0 when it is not a
 * valid SID (revision 1, at most 15 sub-authorities, all inside @avail). */
size_t fmt_sid_len(const uint8_t *sid, size_t avail);
/* "S-1-..." to binary in @out (@outsz bytes); *@len (may be NULL) is the
 * binary length, set even when @outsz is too small.  0, or -1 for a string
 * that is not a SID or an @out too small. */
int fmt_sid_from_string(const char *s, uint8_t *out, size_t outsz, size_t *len);
/* Binary SID (@len bytes available) to malloc'd "S-1-...", or NULL when it is
 * not a valid SID (or memory fails). */
char *fmt_sid_to_string(const uint8_t *sid, size_t len);

/*
 * Self-relative security descriptors from stores and volumes, checked to the
 * last byte (every offset, length, SID, ACL and ACE) before anything is read.
 */
#define FMT_SE_DACL_AUTO_INHERITED 0x0400u
#define FMT_SE_DACL_PROTECTED 0x1000u
#define FMT_ACE_OBJECT_INHERIT 0x01u
#define FMT_ACE_CONTAINER_INHERIT 0x02u

/* Returns the binary SID to use instead of @sid (@len bytes), or NULL to keep it. */
typedef const uint8_t *(*fmt_sid_map_fn)(const uint8_t *sid, size_t len, size_t *new_len,
					 void *ctx);
/*
 * Check a self-relative security descriptor and rebuild it with owner, group
 * and every ACE's SID (DACL and SACL; plain, callback, object, label...)
 * passed through @map (may be NULL: check and copy); SIDs may change length.
 * *@out is malloc'd.  Returns 0, or -1 with a sentence in @err (may be NULL).
 */
int fmt_sd_rewrite(const uint8_t *sd, size_t len, fmt_sid_map_fn map, void *ctx, uint8_t **out,
		   size_t *out_len, char *err, size_t errlen);
/*
 * The descriptor Windows gives a new child of @parent (checked as above): the
 * parent's inheritable DACL entries, marked inherited (on a folder, passed on
 * unless NO_PROPAGATE), owner @owner_sid ("S-1-...", or NULL for the
 * parent's), the parent's group.  0 and *@out malloc'd, or -1.
 */
int fmt_sd_inherit(const uint8_t *parent, size_t len, const char *owner_sid, bool is_dir,
		   uint8_t **out, size_t *out_len);

/* One ACCESS_ALLOWED entry for fmt_sd_build: ACE flags, access mask, binary SID. */
struct fmt_sd_allow {
	uint8_t flags;
	uint32_t mask;
	const uint8_t *sid;
};
/*
 * A self-relative descriptor laid out as Windows writes simple ones: header,
 * owner, group, then a DACL of @count allowed entries, no SACL.  @control
 * adds to SELF_RELATIVE | DACL_PRESENT (FMT_SE_DACL_PROTECTED ...).  0 and
 * *@out malloc'd, or -1 (a SID that is not one, memory).
 */
int fmt_sd_build(uint16_t control, const uint8_t *owner, const uint8_t *group,
		 const struct fmt_sd_allow *aces, size_t count, uint8_t **out, size_t *out_len);

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
 * Version resources of (untrusted) PE files: the value of a StringFileInfo
 * entry such as CompanyName or ProductVersion ("6, 0, 2, 1" read as
 * "6.0.2.1", white space trimmed; @tag in any case), or for FileVersion and
 * ProductVersion the binary VS_FIXEDFILEINFO when the table lacks them.
 * malloc'd UTF-8, or NULL.
 */
char *fmt_pe_version_string(const uint8_t *pe, size_t len, const char *tag);

/*
 * Small shared helpers for what commands print: JSON strings, sizes, times
 * and attribute letters, so every command spells them the same way; and the
 * sentence every module keeps for its last error.
 */

/* Format into @dest, whose old text @fmt's arguments may name (a caller often
 * passes the module's last error itself): formatted aside first, at most
 * 2047 bytes. */
void fmt_vsentence(char *dest, size_t len, const char *fmt, va_list ap);
void fmt_sentence(char *dest, size_t len, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

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

#endif
