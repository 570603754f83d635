/*
 * A digest of an NTFS volume's files for the fault tests: paths, sizes,
 * creation times, attributes and the content of files up to 256 KiB, read
 * through ntfs/.  Two digests are equal when nothing a user would notice
 * changed in the part of the volume they cover.
 */
#ifndef WINSTATE_TESTS_FAULT_DIGEST_H
#define WINSTATE_TESTS_FAULT_DIGEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Paths (volume-relative, '/') for which @skip is true are left out with
 * everything below them.  @skip_user_hives leaves out the content of
 * NTUSER.DAT and UsrClass.dat.  0 and *@out, or -1 with a sentence. */
typedef bool (*digest_skip_fn)(const char *path, const char *name);
int volume_digest(const char *img, const char *start, digest_skip_fn skip, bool skip_user_hives,
		  uint64_t *out, char *why, size_t whylen);

#endif
