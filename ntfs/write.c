/*
 * Writing: folders, files, data, hard links, named streams, and the metadata
 * a restored file must carry.  Each call opens what it needs and releases it
 * before returning, so a caller never holds libntfs-3g state between calls;
 * times are meant to be set last (every other write moves the change time).
 */
#include <string.h>

#include "formats/formats.h"
#include "ntfs/internal.h"

#define WINDOWS_MAX_LINKS 1024

static enum nv_status
create_entry(struct nv_volume *v, uint64_t parent, const char *name, mode_t type, uint64_t *mref)
{
	ntfschar *uname;
	int ulen;
	ntfs_inode *dir, *ni;
	enum nv_status st;

	NV_CHECK_WRITABLE(v);
	st = nv_name_to_ntfs(name, &uname, &ulen);
	if (st != NV_OK)
		return st;
	st = nv_inode_get(v, parent, &dir);
	if (st != NV_OK) {
		free(uname);
		return st;
	}
	if (!(dir->mrec->flags & MFT_RECORD_IS_DIRECTORY)) {
		st = nv_fail(NV_ERR_NOT_DIR, "MFT record %llu is not a folder",
			     (unsigned long long)parent);
		goto out;
	}
	/* NTFS lookups fold case, as Windows will: "A" and "a" cannot coexist. */
	errno = 0;
	if (nv_find_child(v, dir, uname, ulen) != (u64)-1) {
		st = nv_fail(NV_ERR_EXISTS, "\"%s\" already exists in that folder", name);
		goto out;
	}
	if (errno == EUCLEAN) { /* a damaged index: never written beside (folder_scan) */
		st = NV_ERR_IO;
		goto out;
	}
	nv_library_message();
	ni = ntfs_create(dir, const_cpu_to_le32(0), uname, (u8)ulen, type);
	if (!ni) {
		st = nv_fail_errno(errno, "cannot create \"%s\"", name);
		goto out;
	}
	if (mref)
		*mref = ni->mft_no;
	nv_folder_names_add(v, parent, uname, ulen,
			    MK_MREF(ni->mft_no, le16_to_cpu(ni->mrec->sequence_number)));
	if (ntfs_inode_close_in_dir(ni, dir) != 0)
		st = nv_fail_errno(errno, "cannot write the new entry \"%s\"", name);
out:
	if (nv_inode_put(v, dir, NULL) != 0 && st == NV_OK)
		st = nv_fail_errno(errno, "cannot update the folder holding \"%s\"", name);
	free(uname);
	return st;
}

enum nv_status
nv_mkdir(struct nv_volume *v, uint64_t parent, const char *name, uint64_t *mref)
{
	return create_entry(v, parent, name, S_IFDIR, mref);
}

enum nv_status
nv_create(struct nv_volume *v, uint64_t parent, const char *name, uint64_t *mref)
{
	return create_entry(v, parent, name, S_IFREG, mref);
}

/* Open a stream of an inode for writing; both are released by close_stream. */
static enum nv_status
open_stream(struct nv_volume *v, uint64_t mref, const char *stream, ntfs_inode **ni,
	    ntfs_attr **na)
{
	ntfschar *uname;
	int ulen;
	enum nv_status st;

	NV_CHECK_WRITABLE(v);
	st = nv_stream_to_ntfs(stream, &uname, &ulen);
	if (st != NV_OK)
		return st;
	st = nv_inode_get(v, mref, ni);
	if (st != NV_OK) {
		nv_free_ntfs_name(uname);
		return st;
	}
	*na = ntfs_attr_open(*ni, AT_DATA, uname, (u32)ulen);
	int err = errno;
	nv_free_ntfs_name(uname);
	if (!*na) {
		nv_inode_put(v, *ni, NULL);
		return nv_fail_errno(err, "MFT record %llu: cannot open its %s data stream",
				     (unsigned long long)mref, stream && *stream ? stream : "unnamed");
	}
	return NV_OK;
}

static enum nv_status
close_stream(struct nv_volume *v, uint64_t mref, ntfs_inode *ni, ntfs_attr *na, enum nv_status st)
{
	/* pclose writes the last compression block of a compressed file. */
	if ((na->data_flags & ATTR_COMPRESSION_MASK) && ntfs_attr_pclose(na) != 0 && st == NV_OK)
		st = nv_fail_errno(errno, "MFT record %llu: finishing compressed data failed",
				   (unsigned long long)mref);
	ntfs_attr_close(na);
	if (nv_inode_put(v, ni, NULL) != 0 && st == NV_OK)
		st = nv_fail_errno(errno, "MFT record %llu: writing it back failed",
				   (unsigned long long)mref);
	return st;
}

enum nv_status
nv_write(struct nv_volume *v, uint64_t mref, const char *stream, uint64_t offset, const void *buf,
	 size_t len)
{
	ntfs_inode *ni;
	ntfs_attr *na;
	enum nv_status st = open_stream(v, mref, stream, &ni, &na);
	size_t done = 0;

	if (st != NV_OK)
		return st;
	/* Before 2016.2.22 pwrite could return short on compressed data: loop. */
	while (done < len) {
		s64 n = ntfs_attr_pwrite(na, (s64)(offset + done), (s64)(len - done),
					 (const char *)buf + done);
		if (n <= 0) {
			st = nv_fail_errno(n < 0 ? errno : EIO, "MFT record %llu: writing %zu bytes at %llu failed",
					   (unsigned long long)mref, len - done,
					   (unsigned long long)(offset + done));
			break;
		}
		done += (size_t)n;
	}
	return close_stream(v, mref, ni, na, st);
}

enum nv_status
nv_truncate(struct nv_volume *v, uint64_t mref, const char *stream, uint64_t size)
{
	ntfs_inode *ni;
	ntfs_attr *na;
	enum nv_status st = open_stream(v, mref, stream, &ni, &na);

	if (st != NV_OK)
		return st;
	if (ntfs_attr_truncate(na, (s64)size) != 0)
		st = nv_fail_errno(errno, "MFT record %llu: cannot set the length to %llu",
				   (unsigned long long)mref, (unsigned long long)size);
	return close_stream(v, mref, ni, na, st);
}

enum nv_status
nv_add_stream(struct nv_volume *v, uint64_t mref, const char *stream)
{
	ntfschar *uname;
	int ulen;
	ntfs_inode *ni;
	enum nv_status st;

	NV_CHECK_WRITABLE(v);
	if (!stream || !*stream)
		return nv_fail(NV_ERR_INVALID, "a named stream needs a name");
	st = nv_stream_to_ntfs(stream, &uname, &ulen);
	if (st != NV_OK)
		return st;
	st = nv_inode_get(v, mref, &ni);
	if (st == NV_OK) {
		if (ntfs_attr_exist(ni, AT_DATA, uname, (u32)ulen))
			st = nv_fail(NV_ERR_EXISTS, "MFT record %llu already has a stream \"%s\"",
				     (unsigned long long)mref, stream);
		else if (ntfs_attr_add(ni, AT_DATA, uname, (u8)ulen, NULL, 0) != 0)
			st = nv_fail_errno(errno, "MFT record %llu: cannot add stream \"%s\"",
					   (unsigned long long)mref, stream);
		if (nv_inode_put(v, ni, NULL) != 0 && st == NV_OK)
			st = nv_fail_errno(errno, "MFT record %llu: writing it back failed",
					   (unsigned long long)mref);
	}
	nv_free_ntfs_name(uname);
	return st;
}

static size_t
link_count(ntfs_inode *ni)
{
	ntfs_attr_search_ctx *ctx = ntfs_attr_get_search_ctx(ni, NULL);
	size_t n = 0;

	if (!ctx)
		return 0;
	while (!ntfs_attr_lookup(AT_FILE_NAME, NULL, 0, CASE_SENSITIVE, 0, NULL, 0, ctx)) {
		FILE_NAME_ATTR *fn = (FILE_NAME_ATTR *)((uint8_t *)ctx->attr +
							le16_to_cpu(ctx->attr->value_offset));
		if (fn->file_name_type != FILE_NAME_DOS)
			n++;
	}
	ntfs_attr_put_search_ctx(ctx);
	return n;
}

enum nv_status
nv_link(struct nv_volume *v, uint64_t mref, uint64_t parent, const char *name)
{
	ntfschar *uname;
	int ulen;
	ntfs_inode *dir = NULL, *ni = NULL;
	enum nv_status st;

	NV_CHECK_WRITABLE(v);
	st = nv_name_to_ntfs(name, &uname, &ulen);
	if (st != NV_OK)
		return st;
	if (mref == parent) {
		free(uname);
		return nv_fail(NV_ERR_INVALID, "a folder cannot be linked into itself");
	}
	st = nv_inode_get(v, parent, &dir);
	if (st != NV_OK)
		goto out;
	st = nv_inode_get(v, mref, &ni);
	if (st != NV_OK)
		goto out;
	if (ni->mrec->flags & MFT_RECORD_IS_DIRECTORY) {
		st = nv_fail(NV_ERR_INVALID, "MFT record %llu is a folder; folders cannot be hard-linked",
			     (unsigned long long)mref);
		goto out;
	}
	errno = 0;
	if (nv_find_child(v, dir, uname, ulen) != (u64)-1) {
		st = nv_fail(NV_ERR_EXISTS, "\"%s\" already exists in that folder", name);
		goto out;
	}
	if (errno == EUCLEAN) {
		st = NV_ERR_IO;
		goto out;
	}
	/* libntfs-3g does not enforce Windows' limit; a 1025th link would make a
	 * file Windows refuses to touch. */
	if (link_count(ni) >= WINDOWS_MAX_LINKS) {
		st = nv_fail(NV_ERR_TOO_MANY_LINKS,
			     "MFT record %llu already has %d hard links, the most Windows allows",
			     (unsigned long long)mref, WINDOWS_MAX_LINKS);
		goto out;
	}
	nv_library_message();
	if (ntfs_link(ni, dir, uname, (u8)ulen) != 0)
		st = nv_fail_errno(errno, "cannot link \"%s\"", name);
	else
		nv_folder_names_add(v, parent, uname, ulen,
				    MK_MREF(ni->mft_no, le16_to_cpu(ni->mrec->sequence_number)));
out:
	if (ni && nv_inode_put(v, ni, dir) != 0 && st == NV_OK)
		st = nv_fail_errno(errno, "writing back MFT record %llu failed", (unsigned long long)mref);
	if (dir && nv_inode_put(v, dir, NULL) != 0 && st == NV_OK)
		st = nv_fail_errno(errno, "writing back the folder failed");
	free(uname);
	return st;
}

/*
 * Find @name in folder @parent as Windows would (case-insensitively).  Gives
 * the MFT record and, when @stored is not NULL, the name exactly as the folder
 * holds it (malloc'd UTF-16): libntfs-3g deletes by exact name.
 */
static enum nv_status
find_in_folder(struct nv_volume *v, uint64_t parent, const char *name, uint64_t *mref,
	       ntfschar **stored, int *stored_len)
{
	ntfschar *uname;
	int ulen;
	enum nv_status st = nv_lookup_in(v, parent, name, mref);

	if (st != NV_OK || !stored)
		return st;
	if ((st = nv_name_to_ntfs(name, &uname, &ulen)) != NV_OK)
		return st;
	/* Of the record's names in this folder, the one equal to @name when case
	 * is folded (an exact match was tried first by the lookup). */
	struct nv_inode *in;
	st = nv_stat(v, *mref, &in);
	for (size_t i = 0; st == NV_OK && i < in->name_count; i++) {
		uint16_t *u;
		long n;
		if (in->names[i].parent != parent || (n = fmt_utf8_to_utf16(in->names[i].name, &u)) < 0)
			continue;
		if (n == ulen && ntfs_names_are_equal((ntfschar *)u, (size_t)n, uname, (size_t)ulen,
						      IGNORE_CASE, v->vol->upcase, v->vol->upcase_len)) {
			free(uname);
			uname = (ntfschar *)u;
			break;
		}
		free(u);
	}
	if (st == NV_OK)
		nv_inode_free(in);
	if (st != NV_OK) {
		free(uname);
		return st;
	}
	*stored = uname;
	*stored_len = ulen;
	return NV_OK;
}

enum nv_status
nv_unlink(struct nv_volume *v, uint64_t parent, const char *name)
{
	ntfschar *uname;
	int ulen;
	ntfs_inode *dir, *ni;
	enum nv_status st;
	uint64_t found;

	NV_CHECK_WRITABLE(v);
	st = find_in_folder(v, parent, name, &found, &uname, &ulen);
	if (st != NV_OK)
		return st;
	/* The folder's cached names are dropped whatever happens (the removal
	 * may be partly done); a removed folder's own with it. */
	nv_folder_names_forget(v, parent);
	nv_folder_names_forget(v, found);
	/* ntfs_delete closes both inodes itself, so neither may be shared. */
	for (struct open_inode *o = v->open_inodes; o; o = o->next) {
		if (o->mref == found || o->mref == parent) {
			free(uname);
			return nv_fail(NV_ERR_BUSY, "\"%s\" is open; close it before removing it", name);
		}
	}
	dir = ntfs_inode_open(v->vol, (MFT_REF)parent);
	if (!dir) {
		free(uname);
		return nv_fail_errno(errno, "cannot open the folder holding \"%s\"", name);
	}
	ni = ntfs_inode_open(v->vol, (MFT_REF)found);
	if (!ni) {
		st = nv_fail_errno(errno, "cannot open \"%s\"", name);
		ntfs_inode_close(dir);
	} else if (ntfs_delete(v->vol, NULL, ni, dir, uname, (u8)ulen) != 0) {
		st = errno == ENOTEMPTY ? nv_fail(NV_ERR_EXISTS, "folder \"%s\" is not empty", name)
					: nv_fail_errno(errno, "cannot remove \"%s\"", name);
	}
	free(uname);
	return st;
}

enum nv_status
nv_rename(struct nv_volume *v, uint64_t parent, const char *name, uint64_t new_parent,
	  const char *new_name)
{
	struct nv_inode *in;
	enum nv_status st;
	uint64_t found;

	NV_CHECK_WRITABLE(v);
	st = find_in_folder(v, parent, name, &found, NULL, NULL);
	if (st != NV_OK)
		return st;
	st = nv_stat(v, found, &in);
	if (st != NV_OK)
		return st;
	bool is_dir = (in->kind & NV_IS_DIR) != 0;
	nv_inode_free(in);
	if (is_dir)
		return nv_fail(NV_ERR_UNSUPPORTED, "\"%s\" is a folder; only files can be renamed", name);
	st = nv_unlink(v, new_parent, new_name);
	if (st != NV_OK && st != NV_ERR_NOT_FOUND)
		return st;
	st = nv_link(v, found, new_parent, new_name);
	if (st != NV_OK)
		return st;
	return nv_unlink(v, parent, name);
}

/* Run @fn on an open inode and release it, reporting the first failure. */
enum nv_status
nv_with_inode(struct nv_volume *v, uint64_t mref, const char *what,
	   int (*fn)(struct nv_volume *, ntfs_inode *, const void *, size_t), const void *data,
	   size_t len)
{
	ntfs_inode *ni;
	enum nv_status st;

	NV_CHECK_WRITABLE(v);
	st = nv_inode_get(v, mref, &ni);
	if (st != NV_OK)
		return st;
	nv_library_message();
	if (fn(v, ni, data, len) != 0)
		st = nv_fail_errno(errno, "MFT record %llu: cannot set its %s", (unsigned long long)mref,
				   what);
	if (nv_inode_put(v, ni, NULL) != 0 && st == NV_OK)
		st = nv_fail_errno(errno, "MFT record %llu: writing it back failed",
				   (unsigned long long)mref);
	return st;
}

static int
set_acl(struct nv_volume *v, ntfs_inode *ni, const void *sd, size_t len)
{
	/* The descriptor set last already has its id in $Secure (libntfs-3g
	 * never removes one): a file with NTFS 3 extensions and no descriptor of
	 * its own only needs that id, which is what ntfs_set_ntfs_acl would give
	 * it after looking the descriptor up by hash. */
	if (v->last_sd && v->last_sd_len == len && !memcmp(v->last_sd, sd, len) &&
	    test_nino_flag(ni, v3_Extensions) &&
	    !ntfs_attr_exist(ni, AT_SECURITY_DESCRIPTOR, AT_UNNAMED, 0)) {
		if (ni->security_id != v->last_sd_id) {
			ni->security_id = v->last_sd_id;
			NInoSetDirty(ni);
		}
		return 0;
	}
	struct SECURITY_CONTEXT scx;
	memset(&scx, 0, sizeof(scx));
	scx.vol = v->vol;
	if (ntfs_set_ntfs_acl(&scx, ni, sd, len, 0) != 0)
		return -1;
	if (test_nino_flag(ni, v3_Extensions) && ni->security_id) {
		uint8_t *copy = malloc(len);
		if (copy) {
			memcpy(copy, sd, len);
			free(v->last_sd);
			v->last_sd = copy;
			v->last_sd_len = len;
			v->last_sd_id = ni->security_id;
		}
	}
	return 0;
}

enum nv_status
nv_set_security(struct nv_volume *v, uint64_t mref, const void *sd, size_t len)
{
	if (!sd || len < 20)
		return nv_fail(NV_ERR_INVALID, "a security descriptor is at least 20 bytes");
	return nv_with_inode(v, mref, "security descriptor", set_acl, sd, len);
}

/* Every bit libntfs-3g may change through ntfs_set_ntfs_attrib. */
#define MAYBE_SETTABLE 0x00003FA7u

static int
set_attrib(struct nv_volume *v, ntfs_inode *ni, const void *data, size_t len)
{
	(void)v;
	le32 want;
	memcpy(&want, data, sizeof(want));
	/* Nothing to change: no write, and no rewrite of the file's entry in each
	 * of its folders (what an unchanged hard-linked record would cost). */
	if (!((le32_to_cpu(ni->flags) ^ le32_to_cpu(want)) & MAYBE_SETTABLE))
		return 0;
	return ntfs_set_ntfs_attrib(ni, data, len, 0);
}

enum nv_status
nv_set_attributes(struct nv_volume *v, uint64_t mref, uint32_t attributes)
{
	le32 value = cpu_to_le32(attributes);
	return nv_with_inode(v, mref, "attributes", set_attrib, &value, sizeof(value));
}

static int
set_reparse(struct nv_volume *v, ntfs_inode *ni, const void *data, size_t len)
{
	(void)v;
	if (ntfs_set_ntfs_reparse_data(ni, data, len, 0) != 0)
		return -1;
	/* libntfs-3g sets the flag only when it adds the attribute: a record left
	 * with the attribute but not the flag (killed in between) gets it here. */
	if (!(ni->flags & FILE_ATTR_REPARSE_POINT)) {
		ni->flags |= FILE_ATTR_REPARSE_POINT;
		NInoSetDirty(ni);
		NInoFileNameSetDirty(ni);
	}
	return 0;
}

enum nv_status
nv_set_reparse(struct nv_volume *v, uint64_t mref, const void *data, size_t len)
{
	const uint8_t *r = data;
	if (!data || len < 8 || (size_t)fmt_le16(r + 4) + 8 != len)
		return nv_fail(NV_ERR_INVALID,
			       "a reparse buffer is an 8-byte header and as many bytes as it says");
	return nv_with_inode(v, mref, "reparse point", set_reparse, data, len);
}

static int
remove_reparse(struct nv_volume *v, ntfs_inode *ni, const void *data, size_t len)
{
	(void)v;
	(void)data;
	(void)len;
	if (!(ni->flags & FILE_ATTR_REPARSE_POINT))
		return 0; /* already plain: nothing written */
	if (ntfs_remove_ntfs_reparse_data(ni) != 0)
		return -1;
	/* Pinned/unpinned are the cloud filter's state; a plain file has neither. */
	ni->flags &= ~cpu_to_le32(NV_ATTR_PINNED | NV_ATTR_UNPINNED);
	NInoSetDirty(ni);
	NInoFileNameSetDirty(ni);
	return 0;
}

enum nv_status
nv_remove_reparse(struct nv_volume *v, uint64_t mref)
{
	return nv_with_inode(v, mref, "reparse point (removing it)", remove_reparse, NULL, 0);
}

static int
set_times(struct nv_volume *v, ntfs_inode *ni, const void *data, size_t len)
{
	const uint64_t *t = data;
	le64 three[3];

	(void)v;
	(void)len;
	if ((u64)sle64_to_cpu(ni->creation_time) == t[NV_TIME_CREATION] &&
	    (u64)sle64_to_cpu(ni->last_data_change_time) == t[NV_TIME_WRITE] &&
	    (u64)sle64_to_cpu(ni->last_access_time) == t[NV_TIME_ACCESS] &&
	    (u64)sle64_to_cpu(ni->last_mft_change_time) == t[NV_TIME_CHANGE])
		return 0; /* already so: nothing written (see set_attrib) */
	three[0] = cpu_to_le64(t[NV_TIME_CREATION]);
	three[1] = cpu_to_le64(t[NV_TIME_WRITE]);
	three[2] = cpu_to_le64(t[NV_TIME_ACCESS]);
	if (ntfs_inode_set_times(ni, (const char *)three, sizeof(three), 0) != 0)
		return -1;
	/* libntfs-3g stamps the change time with "now" and, having written the
	 * times into $STANDARD_INFORMATION itself, no longer syncs them from the
	 * inode; so the migrated file's own change time is written there too. */
	ntfs_attr_search_ctx *ctx = ntfs_attr_get_search_ctx(ni, NULL);
	if (!ctx)
		return -1;
	if (ntfs_attr_lookup(AT_STANDARD_INFORMATION, AT_UNNAMED, 0, CASE_SENSITIVE, 0, NULL, 0,
			     ctx)) {
		ntfs_attr_put_search_ctx(ctx);
		return -1;
	}
	STANDARD_INFORMATION *si = (STANDARD_INFORMATION *)((uint8_t *)ctx->attr +
							    le16_to_cpu(ctx->attr->value_offset));
	si->last_mft_change_time = cpu_to_sle64((s64)t[NV_TIME_CHANGE]);
	ni->last_mft_change_time = si->last_mft_change_time;
	ntfs_inode_mark_dirty(ctx->ntfs_ino);
	ntfs_attr_put_search_ctx(ctx);
	NInoFileNameSetDirty(ni);
	return 0;
}

enum nv_status
nv_set_times(struct nv_volume *v, uint64_t mref, const uint64_t times[4])
{
	return nv_with_inode(v, mref, "times", set_times, times, 4 * sizeof(uint64_t));
}

/*
 * LZNT1 for a new, empty file: its unnamed data attribute is marked
 * compressed (and the file's attributes say so), so that libntfs-3g
 * compresses what is written next, in 64 KiB units of 16 clusters as
 * Windows does.  libntfs-3g compresses only with clusters of 4 KiB or less,
 * the size Windows itself requires for compression.
 */
enum nv_status
nv_set_compressed(struct nv_volume *v, uint64_t mref)
{
	ntfs_inode *ni;
	enum nv_status st;

	NV_CHECK_WRITABLE(v);
	if (v->vol->cluster_size > 4096)
		return nv_fail(NV_ERR_UNSUPPORTED,
			       "the volume's clusters are %u bytes; NTFS compresses only with 4 KiB or less",
			       (unsigned)v->vol->cluster_size);
	st = nv_inode_get(v, mref, &ni);
	if (st != NV_OK)
		return st;
	if (ni->mrec->flags & MFT_RECORD_IS_DIRECTORY) {
		st = nv_fail(NV_ERR_INVALID, "MFT record %llu is a folder, not a file",
			     (unsigned long long)mref);
		goto out;
	}
	ntfs_attr *na = ntfs_attr_open(ni, AT_DATA, AT_UNNAMED, 0);
	if (!na) {
		st = nv_fail_errno(errno, "MFT record %llu: cannot open its data", (unsigned long long)mref);
		goto out;
	}
	bool empty = !NAttrNonResident(na) && na->data_size == 0;
	bool encrypted = (na->data_flags & ATTR_IS_ENCRYPTED) || (ni->flags & FILE_ATTR_ENCRYPTED);
	ntfs_attr_close(na);
	if (!empty || encrypted) {
		st = nv_fail(NV_ERR_INVALID, "MFT record %llu: only a new, empty, unencrypted file can "
			     "be made compressed", (unsigned long long)mref);
		goto out;
	}
	if (ntfs_attr_set_flags(ni, AT_DATA, AT_UNNAMED, 0, ATTR_IS_COMPRESSED,
				ATTR_COMPRESSION_MASK) != 0) {
		st = nv_fail_errno(errno, "MFT record %llu: cannot mark its data compressed",
				   (unsigned long long)mref);
		goto out;
	}
	ni->flags |= FILE_ATTR_COMPRESSED;
	NInoSetDirty(ni);
	NInoFileNameSetDirty(ni);
out:
	if (nv_inode_put(v, ni, NULL) != 0 && st == NV_OK)
		st = nv_fail_errno(errno, "MFT record %llu: writing it back failed",
				   (unsigned long long)mref);
	return st;
}
