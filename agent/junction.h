/*
 * Junctions and folder symbolic links as a store keeps them: their whole
 * reparse buffer.  Reading one from an (untrusted) store, and moving its
 * target when the profile it points into is restored under another path
 * ("\??\C:\Users\old\Music" -> "\??\C:\Users\new\Music").
 */
#ifndef WINSTATE_AGENT_JUNCTION_H
#define WINSTATE_AGENT_JUNCTION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define JUNCTION_TAG_MOUNT_POINT 0xA0000003u
#define JUNCTION_TAG_SYMLINK 0xA000000Cu
/* MAXIMUM_REPARSE_DATA_BUFFER_SIZE: NTFS keeps no larger reparse buffer. */
#define JUNCTION_MAX_REPARSE 16384u

struct junction_target {
	uint32_t tag;             /* JUNCTION_TAG_* */
	bool relative;            /* a symlink with SYMLINK_FLAG_RELATIVE */
	uint32_t flags;           /* a symlink's flags */
	char *substitute;         /* UTF-8, as stored: "\??\C:\Users\alice\Music" */
	char *print;              /* UTF-8, may be "" */
};

/*
 * Check @buf (a whole reparse buffer) as a junction or symlink: tag, length
 * field, name offsets and lengths inside it, at most 16 KiB.  0 and *@out
 * filled (junction_target_free), or -1 with a sentence in @why.
 */
int junction_parse(const uint8_t *buf, size_t len, struct junction_target *out, char *why,
		   size_t whylen);
void junction_target_free(struct junction_target *t);

/* The Windows path a parsed link points at: its substitute name without
 * "\??\" ("C:\Users\alice\Music"; a relative symlink's path as is). */
const char *junction_path(const struct junction_target *t);

/*
 * When the link's target is @old_prefix or below it ("C:\Users\alice":
 * case-insensitive, on a component boundary, so "C:\Users\al" never matches
 * "C:\Users\alice"), build in *@out (malloc'd) the same reparse buffer with
 * @new_prefix in its place, in the substitute name and, when it starts with
 * the same prefix, the print name; lengths and offsets recomputed.  Returns
 * 1 (rewritten), 0 (not below @old_prefix, or a relative symlink: *@out
 * NULL), -1 (malformed buffer, or the result would exceed 16 KiB; @why).
 */
int junction_rewrite(const uint8_t *buf, size_t len, const char *old_prefix,
		     const char *new_prefix, uint8_t **out, size_t *out_len, char *why,
		     size_t whylen);

#endif
