/*
 * Names in a directory store's USMT/File tree.
 *
 * NTFS allows 255 UTF-16 units per name, which is up to 765 bytes of UTF-8
 * (a 103-character CJK name is already 309), while Linux filesystems (ext4,
 * xfs, btrfs, tmpfs, NFS) hold at most 255 bytes.  NTFS also allows a lone
 * surrogate, which ntfs/ turns into WTF-8: bytes that are not UTF-8, which a
 * strict server (ZFS utf8only, SMB, ext4 casefold) refuses.  So a component
 * "fits" — is stored as it is, readable by an admin browsing the store — when
 *
 *   (F1) it is at most 255 bytes, (F2) it has no lone surrogate, and
 *   (F3) it does not have the shape of an encoded name (below).
 *
 * Every other component is stored under its encoded name
 *
 *   PREFIX "~" HASH EXT
 *
 * HASH is 32 lowercase hex digits of BLAKE2b-128 (libsodium) of the whole
 * component's bytes; EXT is the component's extension when it is "." and 1 to
 * 15 ASCII letters or digits (so the file still opens with its application),
 * else empty; PREFIX is the longest start of the component, cut between
 * characters and before any lone surrogate, that keeps the whole name within
 * 128 bytes.  The real name stays in the catalog: the rule is a function of
 * the path alone, so readers compute the same name from it.
 *
 * Why no two names meet in one folder:
 * - An encoded name always has the shape S: "~" and 32 hex digits right
 *   before its extension, or at its end when it has none (EXT is "" or an
 *   extension by the same definition, and PREFIX is followed by "~", so the
 *   encoded name's own extension is exactly EXT).  A name stored as it is
 *   never has that shape (F3), whatever the case of its hex digits: so a
 *   stored-as-is name never equals an encoded one, not even on a host that
 *   folds case.
 * - Two encoded names that are equal have equal HASHes: only the same
 *   component, or a BLAKE2b-128 collision (2^-64 for 2^32 names), gives that.
 *   Two long names sharing their first 100 characters differ in HASH.
 * - Two names stored as they are were different NTFS names already (the
 *   catalog refuses a path twice; names differing only in case are
 *   different here too, and on a host folder that folds case the second
 *   is refused as any name the host cannot hold).
 * A real name that happens to have the shape (F3) is simply encoded too.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/internal.h"

#define HASH_BYTES 16
#define HASH_HEX (2 * HASH_BYTES)
#define EXT_MAX 15

static bool
is_hex(unsigned char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

static bool
is_alnum(unsigned char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/* Where the component's extension starts (its '.'), or @len when it has none:
 * a '.' after the first byte followed by 1..EXT_MAX ASCII letters or digits. */
static size_t
extension_at(const char *c, size_t len)
{
	size_t n = 0;
	while (n < len && n <= EXT_MAX && is_alnum((unsigned char)c[len - 1 - n]))
		n++;
	if (n == 0 || n > EXT_MAX || n + 1 >= len || c[len - 1 - n] != '.')
		return len;
	return len - 1 - n;
}

/* "~" and HASH_HEX hex digits end at @end. */
static bool
hash_tail(const char *c, size_t end)
{
	if (end < HASH_HEX + 1 || c[end - HASH_HEX - 1] != '~')
		return false;
	for (size_t i = end - HASH_HEX; i < end; i++)
		if (!is_hex((unsigned char)c[i]))
			return false;
	return true;
}

bool
dir_name_encoded_shape(const char *c, size_t len)
{
	return hash_tail(c, extension_at(c, len));
}

/* A lone surrogate in WTF-8: ED A0..BF xx (ntfs/ writes paired ones as
 * 4-byte UTF-8). */
static bool
surrogate_at(const char *c, size_t len, size_t i)
{
	return i + 2 < len && (unsigned char)c[i] == 0xED && (unsigned char)c[i + 1] >= 0xA0;
}

bool
dir_name_fits(const char *c, size_t len)
{
	if (len > DIR_NAME_MAX)
		return false;
	for (size_t i = 0; i < len; i++)
		if (surrogate_at(c, len, i))
			return false;
	return !dir_name_encoded_shape(c, len);
}

static size_t
char_len(unsigned char c)
{
	return c < 0x80 ? 1 : (c & 0xE0) == 0xC0 ? 2 : (c & 0xF0) == 0xE0 ? 3 : 4;
}

char *
dir_encode_name(const char *c, size_t len)
{
	uint8_t h[HASH_BYTES];
	char hex[HASH_HEX + 1];
	crypto_generichash(h, sizeof(h), (const unsigned char *)c, len, NULL, 0);
	sodium_bin2hex(hex, sizeof(hex), h, sizeof(h));
	size_t ext = extension_at(c, len), ext_len = len - ext;
	size_t budget = DIR_ENCODED_MAX - 1 - HASH_HEX - ext_len, pre = 0;
	while (pre < ext) {
		size_t n = char_len((unsigned char)c[pre]);
		if (pre + n > budget || pre + n > ext || surrogate_at(c, len, pre))
			break;
		pre += n;
	}
	char *out = malloc(pre + 1 + HASH_HEX + ext_len + 1);
	if (!out)
		return NULL;
	memcpy(out, c, pre);
	out[pre] = '~';
	memcpy(out + pre + 1, hex, HASH_HEX);
	memcpy(out + pre + 1 + HASH_HEX, c + ext, ext_len);
	out[pre + 1 + HASH_HEX + ext_len] = 0;
	return out;
}

char *
dir_map_path(const char *path, bool *changed)
{
	size_t cap = strlen(path) + 1, n = 0;
	char *out = malloc(cap);
	if (changed)
		*changed = false;
	if (!out)
		return NULL;
	const char *p = path;
	for (;;) {
		const char *slash = strchr(p, '/');
		size_t clen = slash ? (size_t)(slash - p) : strlen(p);
		char *enc = NULL;
		const char *piece = p;
		size_t plen = clen;
		if (!dir_name_fits(p, clen)) {
			if (!(enc = dir_encode_name(p, clen))) {
				free(out);
				return NULL;
			}
			piece = enc;
			plen = strlen(enc);
			if (changed)
				*changed = true;
		}
		if (n + plen + 2 > cap) {
			cap = 2 * cap + plen + 2;
			char *t = realloc(out, cap);
			if (!t) {
				free(enc);
				free(out);
				return NULL;
			}
			out = t;
		}
		memcpy(out + n, piece, plen);
		n += plen;
		free(enc);
		if (!slash)
			break;
		out[n++] = '/';
		p = slash + 1;
	}
	out[n] = 0;
	return out;
}

char *
dir_layout_path(char letter, const char *path, bool encode, bool *changed)
{
	if (changed)
		*changed = false;
	if (!encode)
		return layout_path(letter, path);
	char *mapped = dir_map_path(path, changed);
	char *s = mapped ? layout_path(letter, mapped) : NULL;
	free(mapped);
	return s;
}
