/*
 * Raw EFS (USMT's /efs:copyraw): an encrypted file moves as it is on disk —
 * its $EFS metadata (the "$EFS" logged utility stream: who can decrypt the
 * file's key) and each data stream's ciphertext in libntfs-3g's raw form —
 * and is never decrypted.  The raw readers are in stream.c (they share
 * struct nv_reader); this file reads and writes the $EFS metadata.
 */
#include <string.h>

#include "ntfs/internal.h"

#include <ntfs-3g/efs.h>

/* The $EFS metadata is a few KiB (one entry per user and recovery agent). */
#define EFS_INFO_MAX (16u << 20)

enum nv_status
nv_efs_info(struct nv_volume *v, uint64_t mref, uint8_t **blob, size_t *len)
{
	ntfs_inode *ni;
	enum nv_status st;

	*blob = NULL;
	*len = 0;
	st = nv_inode_get(v, mref, &ni);
	if (st != NV_OK)
		return st;
	nv_library_message();
	if (!(ni->flags & FILE_ATTR_ENCRYPTED)) {
		nv_inode_put(v, ni, NULL);
		return nv_fail(NV_ERR_NOT_FOUND, "%s: MFT record %llu is not EFS-encrypted: it has no "
			       "$EFS metadata", v->path, (unsigned long long)mref);
	}
	/* Size first (a zero-sized buffer asks for it), then the bytes. */
	int n = ntfs_get_efs_info(ni, NULL, 0);
	if (n <= 0 || (size_t)n > EFS_INFO_MAX) {
		int err = n < 0 ? -n : EIO;
		nv_inode_put(v, ni, NULL);
		return nv_fail_errno(err, "%s: MFT record %llu: its $EFS metadata cannot be read "
				     "(missing, or its length does not match its header)", v->path,
				     (unsigned long long)mref);
	}
	uint8_t *buf = malloc((size_t)n);
	if (!buf) {
		nv_inode_put(v, ni, NULL);
		return nv_fail(NV_ERR_NOMEM, "out of memory");
	}
	int got = ntfs_get_efs_info(ni, (char *)buf, (size_t)n);
	int err = errno;
	nv_inode_put(v, ni, NULL);
	if (got != n) {
		free(buf);
		return nv_fail_errno(got < 0 ? -got : err ? err : EIO,
				     "%s: MFT record %llu: reading its $EFS metadata failed", v->path,
				     (unsigned long long)mref);
	}
	*blob = buf;
	*len = (size_t)n;
	return NV_OK;
}

enum nv_status
nv_efs_check_info(const void *blob, size_t len)
{
	const uint8_t *b = blob;
	if (!blob || len < sizeof(EFS_ATTR_HEADER))
		return nv_fail(NV_ERR_INVALID, "the $EFS metadata is %zu bytes, shorter than its "
			       "%zu-byte header: it is truncated", len, sizeof(EFS_ATTR_HEADER));
	uint32_t said = fmt_le32(b);
	if (said != len || len > EFS_INFO_MAX)
		return nv_fail(NV_ERR_INVALID, "the $EFS metadata is %zu bytes but its header says "
			       "%u: it is truncated or damaged", len, said);
	return NV_OK;
}

enum nv_status
nv_set_efs_info(struct nv_volume *v, uint64_t mref, const void *blob, size_t len)
{
	ntfs_inode *ni;
	enum nv_status st;

	NV_CHECK_WRITABLE(v);
	if ((st = nv_efs_check_info(blob, len)) != NV_OK)
		return st;
	st = nv_inode_get(v, mref, &ni);
	if (st != NV_OK)
		return st;
	if (ni->flags & (FILE_ATTR_ENCRYPTED | FILE_ATTR_COMPRESSED) ||
	    (ni->mrec->flags & MFT_RECORD_IS_DIRECTORY)) {
		nv_inode_put(v, ni, NULL);
		return nv_fail(NV_ERR_INVALID, "MFT record %llu: only a file that is neither encrypted "
			       "nor compressed yet can take $EFS metadata", (unsigned long long)mref);
	}
	/* Every data stream must hold a raw form (ciphertext in 512-byte blocks
	 * and the 2-byte padding count, or nothing when empty): checked here, because
	 * libntfs-3g finds out only half-way through the streams. */
	ntfs_attr_search_ctx *ctx = ntfs_attr_get_search_ctx(ni, NULL);
	if (!ctx) {
		nv_inode_put(v, ni, NULL);
		return nv_fail(NV_ERR_NOMEM, "out of memory");
	}
	while (!ntfs_attr_lookup(AT_DATA, NULL, 0, CASE_SENSITIVE, 0, NULL, 0, ctx)) {
		ATTR_RECORD *a = ctx->attr;
		u64 size = a->non_resident ? sle64_to_cpu(a->data_size) : le32_to_cpu(a->value_length);
		if (size && (size & 511) != 2) {
			ntfs_attr_put_search_ctx(ctx);
			nv_inode_put(v, ni, NULL);
			return nv_fail(NV_ERR_INVALID, "MFT record %llu: a stream of %llu bytes is not a "
				       "raw EFS stream (512-byte blocks and 2 bytes of padding count)",
				       (unsigned long long)mref, (unsigned long long)size);
		}
	}
	ntfs_attr_put_search_ctx(ctx);
	nv_library_message();
	/* libntfs-3g adds $EFS, then turns every data stream from its raw form
	 * into encrypted data of the real size, and marks the file encrypted. */
	if (ntfs_set_efs_info(ni, blob, len, 0) != 0)
		st = nv_fail_errno(errno, "MFT record %llu: cannot set its $EFS metadata",
				   (unsigned long long)mref);
	if (nv_inode_put(v, ni, NULL) != 0 && st == NV_OK)
		st = nv_fail_errno(errno, "MFT record %llu: writing it back failed",
				   (unsigned long long)mref);
	return st;
}
