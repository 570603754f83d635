/*
 * Private to ntfs/: the libntfs-3g headers (which need a few system headers
 * first) and what the module's files share.
 */
#ifndef WINSTATE_NTFS_INTERNAL_H
#define WINSTATE_NTFS_INTERNAL_H

#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <time.h>

#include <ntfs-3g/types.h>
#include <ntfs-3g/attrib.h>
#include <ntfs-3g/cache.h>
#include <ntfs-3g/device.h>
#include <ntfs-3g/dir.h>
#include <ntfs-3g/inode.h>
#include <ntfs-3g/logfile.h>
#include <ntfs-3g/logging.h>
#include <ntfs-3g/reparse.h>
#include <ntfs-3g/security.h>
#include <ntfs-3g/volume.h>

#include "formats/formats.h"
#include "ntfs/ntfs.h"

/* libntfs-3g must never have one MFT record open twice (updates would be
 * lost), so every inode we open goes through this refcounted list. */
struct open_inode {
	uint64_t mref;
	ntfs_inode *ni;
	int refs;
	struct open_inode *next;
};

/* The names of one folder, upcased, filled by the first lookup that had to
 * scan it (a miss) and kept in step by our own writes: the next misses in
 * that folder cost a hash lookup instead of another scan. */
struct folder_names {
	uint64_t dir;
	size_t count, cap;      /* open addressing, cap a power of two */
	struct folder_name {
		ntfschar *up;   /* NULL: empty slot */
		int len;
		uint32_t hash;
		bool ambiguous; /* names differing only in case (POSIX): exact one wins */
		u64 mref;
	} *slots;
	/* The index lists one record under one name twice: a half-done index
	 * update (libntfs-3g has no journal).  The first such name. */
	char *listed_twice;
	struct folder_names *next;
};

struct nv_volume {
	ntfs_volume *vol;
	struct open_inode *open_inodes;
	struct folder_names *folders;
	/* The last security descriptor set and its id in $Secure: restored files
	 * mostly share a few descriptors, so most need no $Secure lookup. */
	uint8_t *last_sd;
	size_t last_sd_len;
	le32 last_sd_id;
	/* Descriptors read, by security id: files share a few descriptors, and
	 * libntfs-3g reads $Secure twice for each (size, then data).  An id's
	 * descriptor never changes, so entries stay true while we write. */
	struct sd_cache *sd_cache;
	struct ntfs_device *dev;
	int fd;
	bool read_only;
	unsigned state;
	uint64_t offset, size;
	int partition;
	char *path;
};

/* Record the reason for a failure; returns @status so callers can
 * `return nv_fail(NV_ERR_X, "...")`. */
enum nv_status nv_fail(enum nv_status status, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Map an errno left by libntfs-3g to our status, recording @what and the
 * errno's text. */
enum nv_status nv_fail_errno(int err, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* The last message libntfs-3g logged (empty if none), cleared on read. */
const char *nv_library_message(void);
void nv_install_log_handler(void);

/* Frees struct nv_volume's sd_cache (nv_close). */
void nv_sd_cache_free(struct nv_volume *v);
/* Open an inode by record number (or take another reference to it). */
enum nv_status nv_inode_get(struct nv_volume *v, uint64_t mref, ntfs_inode **out);
/* Drop a reference; the last one closes the inode (through @dir_ni when the
 * caller holds its parent open: pitfall 2 of docs/libntfs-3g-notes.md).
 * Returns -1 with errno when the close (a write-back) failed. */
int nv_inode_put(struct nv_volume *v, ntfs_inode *ni, ntfs_inode *dir_ni);
/* UTF-8 name → UTF-16 for libntfs-3g, checked against NTFS's rules. */
enum nv_status nv_name_to_ntfs(const char *name, ntfschar **out, int *len);
/* UTF-8 stream name → UTF-16; NULL or "" gives AT_UNNAMED with length 0. */
enum nv_status nv_stream_to_ntfs(const char *stream, ntfschar **out, int *len);
/* A name in folder @dir, matched as Windows does (case-insensitively);
 * (u64)-1 with errno ENOENT when absent. */
u64 nv_find_child(struct nv_volume *v, ntfs_inode *dir, const ntfschar *name, int len);
/* Keep the folder name caches in step: a name added to folder @dir, or
 * every name of @dir forgotten (after a removal, or when @dir itself goes). */
void nv_folder_names_add(struct nv_volume *v, uint64_t dir, const ntfschar *name, int len, u64 mref);
void nv_folder_names_forget(struct nv_volume *v, uint64_t dir);
void nv_folder_names_free(struct nv_volume *v);
/* Free what the two above returned (AT_UNNAMED is left alone). */
void nv_free_ntfs_name(ntfschar *name);

/* Run @fn on open inode @mref and release it (a write: refused read-only),
 * reporting the first failure with @what in the sentence. */
enum nv_status nv_with_inode(struct nv_volume *v, uint64_t mref, const char *what,
			     int (*fn)(struct nv_volume *, ntfs_inode *, const void *, size_t),
			     const void *data, size_t len);
/* A file's $EA value (malloc'd; NULL, 0 when it has none).  An $EA that is
 * there but cannot be read is a failure with a sentence, never "none". */
enum nv_status nv_read_ea(struct nv_volume *v, uint64_t mref, ntfs_inode *ni, uint8_t **out,
			  size_t *len);

#define NV_CHECK_WRITABLE(v)                                                         \
	do {                                                                         \
		if ((v)->read_only)                                                  \
			return nv_fail(NV_ERR_READ_ONLY,                             \
				       "the volume was opened read-only; nothing was written"); \
	} while (0)

#endif
