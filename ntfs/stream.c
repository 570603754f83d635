/*
 * Reading data streams.  libntfs-3g's ntfs_attr_pread already returns the
 * logical contents: LZNT1-compressed runs are decompressed and sparse holes
 * read as zeros.
 */
#include <string.h>

#include "ntfs/internal.h"

struct nv_reader {
	struct nv_volume *v;
	ntfs_inode *ni;
	ntfs_attr *na;
	uint64_t mref;
	char *stream;
	bool raw;        /* raw EFS: ciphertext + 2 bytes of padding length */
	uint64_t size;   /* what a reader gets: data_size, or the raw length */
};

/* A reader on @stream of MFT record @mref with its attribute open; when
 * @encrypted, the file must be EFS-encrypted (raw reads). */
static enum nv_status
reader_start(struct nv_volume *v, uint64_t mref, const char *stream, bool encrypted,
	     struct nv_reader **out)
{
	struct nv_reader *r = calloc(1, sizeof(*r));
	ntfschar *uname;
	int ulen;
	enum nv_status st;

	*out = NULL;
	if (!r)
		return nv_fail(NV_ERR_NOMEM, "out of memory");
	st = nv_stream_to_ntfs(stream, &uname, &ulen);
	if (st != NV_OK) {
		free(r);
		return st;
	}
	st = nv_inode_get(v, mref, &r->ni);
	if (st != NV_OK) {
		nv_free_ntfs_name(uname);
		free(r);
		return st;
	}
	r->v = v;
	r->mref = mref;
	r->raw = encrypted;
	if (encrypted && !(r->ni->flags & FILE_ATTR_ENCRYPTED)) {
		nv_free_ntfs_name(uname);
		nv_reader_close(r);
		return nv_fail(NV_ERR_INVALID, "%s: MFT record %llu is not EFS-encrypted: it has no raw "
			       "encrypted form", v->path, (unsigned long long)mref);
	}
	r->na = ntfs_attr_open(r->ni, AT_DATA, uname, (u32)ulen);
	int err = errno;
	nv_free_ntfs_name(uname);
	if (!r->na) {
		nv_reader_close(r);
		if (err == ENOENT)
			return nv_fail(NV_ERR_NOT_FOUND, "%s: MFT record %llu has no %s%s%s data stream",
				       v->path, (unsigned long long)mref, stream && *stream ? "\"" : "unnamed",
				       stream && *stream ? stream : "", stream && *stream ? "\"" : "");
		return nv_fail_errno(err, "%s: cannot open the data of MFT record %llu", v->path,
				     (unsigned long long)mref);
	}
	*out = r;
	return NV_OK;
}

enum nv_status
nv_reader_open(struct nv_volume *v, uint64_t mref, const char *stream, struct nv_reader **out)
{
	struct nv_reader *r;
	enum nv_status st;

	*out = NULL;
	/* The unnamed stream of a cloud placeholder or a WOF-compressed file reads
	 * as zeros through libntfs-3g: refuse, so nobody ever stores those zeros as
	 * the file's contents. */
	if (!stream || !*stream) {
		struct nv_inode *in;
		st = nv_stat(v, mref, &in);
		if (st != NV_OK)
			return st;
		unsigned kind = in->kind;
		nv_inode_free(in);
		if (kind & (NV_IS_DEHYDRATED | NV_IS_WOF))
			return nv_fail(NV_ERR_UNSUPPORTED,
				       (kind & NV_IS_WOF)
					       ? "%s: MFT record %llu is WOF-compressed (compact OS): its data "
						 "is in the WofCompressedData stream, which winstate does not "
						 "decompress yet"
					       : "%s: MFT record %llu is a cloud placeholder whose data is not "
						 "on this disk (OneDrive Files On-Demand)",
				       v->path, (unsigned long long)mref);
	}
	if ((st = reader_start(v, mref, stream, false, &r)) != NV_OK)
		return st;
	/* Encrypted data is ciphertext: never hand it out as the file.  (libntfs-3g
	 * refuses non-resident encrypted reads itself, but would return a resident
	 * encrypted attribute's bytes.)  nv_reader_open_raw is the way to it. */
	if (NAttrEncrypted(r->na) || (r->na->data_flags & ATTR_IS_ENCRYPTED)) {
		nv_reader_close(r);
		return nv_fail(NV_ERR_UNSUPPORTED,
			       "%s: MFT record %llu is EFS-encrypted: its data is ciphertext that only "
			       "the user's keys decrypt; it can only be copied raw (--efs copyraw)",
			       v->path, (unsigned long long)mref);
	}
	r->size = (uint64_t)r->na->data_size;
	*out = r;
	return NV_OK;
}

enum nv_status
nv_reader_open_raw(struct nv_volume *v, uint64_t mref, const char *stream, struct nv_reader **out)
{
	struct nv_reader *r;
	enum nv_status st = reader_start(v, mref, stream, true, &r);

	*out = NULL;
	if (st != NV_OK)
		return st;
	const char *q = stream && *stream ? "\"" : "";
	const char *sn = stream && *stream ? stream : "unnamed";
	/* libntfs-3g's raw form exists only for encrypted, non-resident data
	 * whose every byte is initialized; and a sparse stream's holes would
	 * read as zeros, which put back as ciphertext decrypt to garbage.
	 * Anything else could not be put back as it was. */
	if (!(r->na->data_flags & ATTR_IS_ENCRYPTED) || !NAttrNonResident(r->na) ||
	    r->na->data_size != r->na->initialized_size || (r->na->data_flags & ATTR_IS_SPARSE)) {
		bool enc = r->na->data_flags & ATTR_IS_ENCRYPTED;
		bool nonres = NAttrNonResident(r->na);
		bool sparse = r->na->data_flags & ATTR_IS_SPARSE;
		nv_reader_close(r);
		return nv_fail(NV_ERR_UNSUPPORTED,
			       "%s: MFT record %llu: the %s%s%s stream of this EFS file is %s: it has "
			       "no raw encrypted form winstate can copy and put back exactly", v->path,
			       (unsigned long long)mref, q, sn, q,
			       !enc ? "not encrypted" : !nonres ? "resident (inside the MFT record)"
				       : sparse ? "sparse (its holes have no ciphertext to copy)"
						: "not fully initialized");
	}
	/* An empty stream has no raw form at all (0 bytes), as the ntfs-3g
	 * driver shows it and as ntfs_set_efs_info takes it back. */
	r->size = r->na->data_size ? (((uint64_t)r->na->data_size + 511) & ~(uint64_t)511) + 2 : 0;
	*out = r;
	return NV_OK;
}

uint64_t
nv_reader_size(const struct nv_reader *r)
{
	return r->size;
}

enum nv_status
nv_reader_pread(struct nv_reader *r, void *buf, size_t len, uint64_t offset, size_t *got)
{
	size_t done = 0;
	uint64_t size = r->size;

	*got = 0;
	if (offset >= size)
		return NV_OK;
	if (len > size - offset)
		len = (size_t)(size - offset);
	/* Raw EFS: the ciphertext comes from libntfs-3g (whole 512-byte blocks),
	 * the 2-byte padding count is ours (what libntfs-3g would put there). */
	uint64_t cipher_end = r->raw ? size - 2 : size;
	size_t tail = 0;
	if (r->raw && offset + len > cipher_end) {
		uint64_t pad = cipher_end - (uint64_t)r->na->data_size;
		uint8_t trailer[2] = { (uint8_t)(pad & 0xff), (uint8_t)(pad >> 8) };
		for (uint64_t at = offset > cipher_end ? offset : cipher_end; at < offset + len; at++)
			((uint8_t *)buf)[at - offset] = trailer[at - cipher_end];
		if (offset >= cipher_end) {
			*got = len;
			return NV_OK;
		}
		tail = len - (size_t)(cipher_end - offset);
		len -= tail;
	}
	while (done < len) {
		/* efs_raw is volume-wide in libntfs-3g: on only for this read, so
		 * every other reader still refuses encrypted data. */
		r->v->vol->efs_raw = r->raw;
		s64 n = ntfs_attr_pread(r->na, (s64)(offset + done), (s64)(len - done),
					(char *)buf + done);
		r->v->vol->efs_raw = FALSE;
		if (n < 0)
			return nv_fail_errno(errno, "%s: reading MFT record %llu at byte %llu failed",
					     r->v->path, (unsigned long long)r->mref,
					     (unsigned long long)(offset + done));
		if (n == 0)
			return nv_fail(NV_ERR_CORRUPT,
				       "%s: MFT record %llu: the data ends at byte %llu, before its "
				       "recorded size %llu", r->v->path, (unsigned long long)r->mref,
				       (unsigned long long)(offset + done), (unsigned long long)size);
		done += (size_t)n;
	}
	*got = done + tail;
	return NV_OK;
}

void
nv_reader_close(struct nv_reader *r)
{
	if (!r)
		return;
	if (r->na)
		ntfs_attr_close(r->na);
	nv_inode_put(r->v, r->ni, NULL);
	free(r);
}
