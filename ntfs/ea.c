/*
 * NTFS extended attributes ($EA and $EA_INFORMATION): WSL1 keeps a Linux
 * file's owner, group, mode and device there ($LXUID, $LXGID, $LXMOD,
 * $LXDEV), other software its own.  winstate moves them as one opaque
 * buffer, the $EA attribute's value exactly as libntfs-3g gives it (and the
 * ntfs-3g driver shows it as system.ntfs_ea); the parser below only looks
 * inside it to list names for people, and checks it the way
 * ntfs_set_ntfs_ea will before anything is written.
 */
#include <string.h>

#include "ntfs/internal.h"

#include <ntfs-3g/ea.h>

enum nv_status
nv_ea_next(const void *buf, size_t len, size_t *offset, struct nv_ea *ea)
{
	const uint8_t *p = buf;
	size_t at = *offset;
	if (at == len)
		return NV_ERR_NOT_FOUND;
	if (!buf || at > len || len - at < 8)
		return nv_fail(NV_ERR_CORRUPT, "the extended attributes are damaged: %zu stray bytes "
			       "at offset %zu (an entry needs 8)", at > len ? 0 : len - at, at);
	uint32_t next = fmt_le32(p + at);
	uint8_t name_len = p[at + 5];
	size_t value_len = fmt_le16(p + at + 6);
	size_t used = 8 + (size_t)name_len + 1 + value_len;
	/* Windows and libntfs-3g: every entry, the last one too, says how long it
	 * is, padded to 4 bytes; the name is not empty and ends with a NUL. */
	if (next == 0 || next > len - at || (next & 3))
		return nv_fail(NV_ERR_CORRUPT, "the extended attributes are damaged: the entry at "
			       "offset %zu says the next is %u bytes on, past the %zu bytes or not "
			       "4-byte aligned", at, next, len);
	if (name_len == 0)
		return nv_fail(NV_ERR_CORRUPT, "the extended attributes are damaged: the entry at "
			       "offset %zu has an empty name", at);
	if (used > next || used + 3 < next)
		return nv_fail(NV_ERR_CORRUPT, "the extended attributes are damaged: the entry at "
			       "offset %zu holds %zu bytes of name and value but is %u bytes long",
			       at, used, next);
	if (p[at + 8 + name_len] != 0)
		return nv_fail(NV_ERR_CORRUPT, "the extended attributes are damaged: the name of the "
			       "entry at offset %zu does not end with a NUL", at);
	ea->flags = p[at + 4];
	ea->name = (const char *)p + at + 8;
	ea->name_len = name_len;
	ea->value = p + at + 8 + name_len + 1;
	ea->value_len = value_len;
	*offset = at + next;
	return NV_OK;
}

enum nv_status
nv_ea_check(const void *buf, size_t len, size_t *count)
{
	size_t off = 0, n = 0;
	struct nv_ea ea;
	enum nv_status st;
	if (len == 0 || len > NV_EA_MAX)
		return nv_fail(NV_ERR_CORRUPT, "the extended attributes are damaged: %zu bytes (NTFS "
			       "holds 1 to %u)", len, NV_EA_MAX);
	while ((st = nv_ea_next(buf, len, &off, &ea)) == NV_OK)
		n++;
	if (st != NV_ERR_NOT_FOUND)
		return st;
	if (count)
		*count = n;
	return NV_OK;
}

enum nv_status
nv_read_ea(struct nv_volume *v, uint64_t mref, ntfs_inode *ni, uint8_t **out, size_t *len)
{
	*out = NULL;
	*len = 0;
	/* libntfs-3g says ENODATA both for "none" and for an $EA it could not
	 * read: only the second is a failure, and it must be named. */
	if (!ntfs_attr_exist(ni, AT_EA, AT_UNNAMED, 0))
		return NV_OK;
	int need = ntfs_get_ntfs_ea(ni, NULL, 0);
	if (need <= 0 || need > (int)NV_EA_MAX)
		return nv_fail(need < 0 ? NV_ERR_IO : NV_ERR_CORRUPT, "%s: MFT record %llu: its "
			       "extended attributes ($EA) cannot be read%s%s", v->path,
			       (unsigned long long)mref, need < 0 ? "" : ": the attribute is ",
			       need < 0 ? "" : need == 0 ? "empty" : "larger than NTFS allows");
	uint8_t *buf = malloc((size_t)need);
	if (!buf)
		return nv_fail(NV_ERR_NOMEM, "out of memory");
	int got = ntfs_get_ntfs_ea(ni, (char *)buf, (size_t)need);
	if (got != need) {
		free(buf);
		return nv_fail(NV_ERR_IO, "%s: MFT record %llu: its extended attributes ($EA) cannot "
			       "be read (they changed size while read)", v->path,
			       (unsigned long long)mref);
	}
	*out = buf;
	*len = (size_t)got;
	return NV_OK;
}

static int
set_ea(struct nv_volume *v, ntfs_inode *ni, const void *data, size_t len)
{
	(void)v;
	/* Whatever EAs the file had are replaced as a whole (flags 0: create or replace). */
	return ntfs_set_ntfs_ea(ni, data, len, 0) < 0 ? -1 : 0;
}

enum nv_status
nv_set_ea(struct nv_volume *v, uint64_t mref, const void *ea, size_t len)
{
	enum nv_status st = nv_ea_check(ea, len, NULL);
	if (st != NV_OK)
		return nv_fail(NV_ERR_INVALID, "MFT record %llu: not written: %s",
			       (unsigned long long)mref, nv_last_error());
	return nv_with_inode(v, mref, "extended attributes", set_ea, ea, len);
}
