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
};

enum nv_status
nv_reader_open(struct nv_volume *v, uint64_t mref, const char *stream, struct nv_reader **out)
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
	/* The unnamed stream of a cloud placeholder or a WOF-compressed file reads
	 * as zeros through libntfs-3g: refuse, so nobody ever stores those zeros as
	 * the file's contents. */
	if (!stream || !*stream) {
		struct nv_inode *in;
		st = nv_stat(v, mref, &in);
		if (st != NV_OK) {
			nv_free_ntfs_name(uname);
			free(r);
			return st;
		}
		unsigned kind = in->kind;
		nv_inode_free(in);
		if (kind & (NV_IS_DEHYDRATED | NV_IS_WOF)) {
			nv_free_ntfs_name(uname);
			free(r);
			return nv_fail(NV_ERR_UNSUPPORTED,
				       (kind & NV_IS_WOF)
					       ? "%s: MFT record %llu is WOF-compressed (compact OS): its data "
						 "is in the WofCompressedData stream, which winstate does not "
						 "decompress yet"
					       : "%s: MFT record %llu is a cloud placeholder whose data is not "
						 "on this disk (OneDrive Files On-Demand)",
				       v->path, (unsigned long long)mref);
		}
	}
	st = nv_inode_get(v, mref, &r->ni);
	if (st != NV_OK) {
		nv_free_ntfs_name(uname);
		free(r);
		return st;
	}
	r->na = ntfs_attr_open(r->ni, AT_DATA, uname, (u32)ulen);
	int err = errno;
	nv_free_ntfs_name(uname);
	if (!r->na) {
		nv_inode_put(v, r->ni, NULL);
		free(r);
		if (err == ENOENT)
			return nv_fail(NV_ERR_NOT_FOUND, "%s: MFT record %llu has no %s%s%s data stream",
				       v->path, (unsigned long long)mref, stream && *stream ? "\"" : "unnamed",
				       stream && *stream ? stream : "", stream && *stream ? "\"" : "");
		return nv_fail_errno(err, "%s: cannot open the data of MFT record %llu", v->path,
				     (unsigned long long)mref);
	}
	r->v = v;
	r->mref = mref;
	*out = r;
	return NV_OK;
}

uint64_t
nv_reader_size(const struct nv_reader *r)
{
	return (uint64_t)r->na->data_size;
}

enum nv_status
nv_reader_pread(struct nv_reader *r, void *buf, size_t len, uint64_t offset, size_t *got)
{
	size_t done = 0;
	uint64_t size = (uint64_t)r->na->data_size;

	*got = 0;
	if (offset >= size)
		return NV_OK;
	if (len > size - offset)
		len = (size_t)(size - offset);
	while (done < len) {
		s64 n = ntfs_attr_pread(r->na, (s64)(offset + done), (s64)(len - done),
					(char *)buf + done);
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
	*got = done;
	return NV_OK;
}

void
nv_reader_close(struct nv_reader *r)
{
	if (!r)
		return;
	ntfs_attr_close(r->na);
	nv_inode_put(r->v, r->ni, NULL);
	free(r);
}
