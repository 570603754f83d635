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

#include "ntfs/ntfs.h"

/* libntfs-3g must never have one MFT record open twice (updates would be
 * lost), so every inode we open goes through this refcounted list. */
struct open_inode {
	uint64_t mref;
	ntfs_inode *ni;
	int refs;
	struct open_inode *next;
};

struct nv_volume {
	ntfs_volume *vol;
	struct open_inode *open_inodes;
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
/* Free what the two above returned (AT_UNNAMED is left alone). */
void nv_free_ntfs_name(ntfschar *name);

#define NV_CHECK_WRITABLE(v)                                                         \
	do {                                                                         \
		if ((v)->read_only)                                                  \
			return nv_fail(NV_ERR_READ_ONLY,                             \
				       "the volume was opened read-only; nothing was written"); \
	} while (0)

#endif
