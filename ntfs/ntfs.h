/*
 * ntfs/ — winstate's only door to NTFS.
 *
 * Everything that reads or writes an offline Windows volume goes through this
 * header; nothing else in winstate includes <ntfs-3g/...>, and no libntfs-3g
 * type appears here.  Files are addressed by MFT record number ("mref"), as
 * libntfs-3g is inode-based; paths exist for lookups and messages.
 *
 * Conventions:
 *   - Functions return an enum nv_status (NV_OK = 0).  A sentence explaining
 *     the last failure of the calling thread is in nv_last_error().
 *   - Paths are UTF-8 and relative to the volume root; '/' and '\' both
 *     separate components and lookups are case-insensitive, as on Windows.
 *     Names that are not valid UTF-16 (lone surrogates) round-trip through
 *     WTF-8, so no file is ever unnamed or lost.
 *   - Times are NTFS times: 100 ns intervals since 1601-01-01 UTC.
 */
#ifndef WINSTATE_NTFS_H
#define WINSTATE_NTFS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Explicit numbers, never reused: they appear in logs and reports. */
enum nv_status {
	NV_OK = 0,
	NV_ERR_NOMEM = 1,
	NV_ERR_IO = 2,            /* the device or image could not be read/written */
	NV_ERR_NOT_FOUND = 3,     /* no such path, stream or partition */
	NV_ERR_INVALID = 4,       /* a bad argument from the caller */
	NV_ERR_NOT_NTFS = 5,      /* another filesystem, or none */
	NV_ERR_UNFORMATTED = 6,   /* the boot sector and its backup are blank */
	NV_ERR_BITLOCKER = 7,     /* -FVE-FS- signature: unlock it first */
	NV_ERR_HIBERNATED = 8,    /* hiberfil.sys holds a hibernation/Fast Startup image */
	NV_ERR_UNCLEAN = 9,       /* dirty flag set or $LogFile not clean */
	NV_ERR_CORRUPT = 10,      /* NTFS structures are damaged or truncated */
	NV_ERR_READ_ONLY = 11,    /* a write on a volume opened read-only */
	NV_ERR_EXISTS = 12,       /* the name is already taken */
	NV_ERR_NO_SPACE = 13,     /* the volume is full */
	NV_ERR_BUSY = 14,         /* the volume is mounted or locked elsewhere */
	NV_ERR_NAME = 15,         /* a name NTFS cannot hold */
	NV_ERR_PARTITION = 16,    /* the partition table points outside the disk */
	NV_ERR_TOO_MANY_LINKS = 17, /* 1024 hard links is Windows' limit */
	NV_ERR_NOT_DIR = 18,
	NV_ERR_UNSUPPORTED = 19,
};

/* Text of the last failure on this thread (never NULL). */
const char *nv_last_error(void);
/* Short constant name of a status, e.g. "hibernated". */
const char *nv_status_name(enum nv_status status);

/* ---------------------------------------------------------------- disks -- */

struct nv_partition {
	int number;             /* as Windows and Linux count them, from 1 */
	uint64_t offset;        /* bytes from the start of the disk */
	uint64_t size;          /* bytes */
	char type[40];          /* GPT type GUID, or MBR type as "0x07" */
	char type_name[40];     /* "EFI system", "Microsoft reserved", "Basic data", ... */
	char name[72];          /* GPT partition name (UTF-8), may be empty */
	char fstype[24];        /* filesystem found by libblkid ("ntfs", "vfat", "BitLocker", ""), */
	char label[64];         /* filesystem label */
	char problem[160];      /* non-empty when the entry cannot be used, with the reason */
};

struct nv_disk {
	char table[8];          /* "gpt", "dos", or "" for a bare volume */
	uint64_t size;          /* bytes in the image or device */
	size_t count;
	struct nv_partition *parts;  /* a bare volume is reported as partition 0 */
};

/* Read the partition table (if any) and the filesystem of every partition. */
enum nv_status nv_disk_probe(const char *path, struct nv_disk **out);
void nv_disk_free(struct nv_disk *disk);

/*
 * Parse "DISK[:N]" into the path and the partition number (0 when absent).
 * A suffix counts only when it is all digits, so "C:foo" paths are left alone.
 */
enum nv_status nv_split_target(const char *spec, char **path, int *partition);

/* ------------------------------------------------------------- volumes -- */

struct nv_volume;

/* Volume states found at open; a read-only open succeeds with them set. */
enum nv_state_flag {
	NV_STATE_HIBERNATED = 1 << 0,  /* hiberfil.sys says the system is hibernated */
	NV_STATE_DIRTY = 1 << 1,       /* $Volume dirty flag: chkdsk is due */
	NV_STATE_LOG_UNCLEAN = 1 << 2, /* $LogFile has changes not yet applied */
};

struct nv_open_options {
	bool read_write;        /* default read-only: NTFS_MNT_RDONLY, nothing written */
	int partition;          /* 0: a bare volume, or the only/Windows NTFS partition */
};

/*
 * Open the NTFS volume in @path: an image file or block device holding a bare
 * volume, or a whole disk with an MBR or GPT table (then @opts->partition
 * picks the partition; 0 picks the single NTFS partition, or the one holding
 * Windows when there are several).  A read-write open refuses hibernated and
 * unclean volumes (NV_ERR_HIBERNATED, NV_ERR_UNCLEAN).
 */
enum nv_status nv_open(const char *path, const struct nv_open_options *opts,
		       struct nv_volume **out);
/* Flush and close.  Returns the failure of the final flush, if any. */
enum nv_status nv_close(struct nv_volume *vol);
/* NV_OK unless a write to the volume has failed since it was opened, even one
 * libntfs-3g went on without (it drops a failed index block write): before
 * writing what says "complete" (a hard-link store's catalog). */
enum nv_status nv_writes_ok(struct nv_volume *vol);

struct nv_volume_info {
	char label[128];
	uint64_t size;            /* bytes */
	uint64_t free_bytes;
	uint32_t cluster_size;
	uint64_t serial;
	int major_version, minor_version;
	unsigned state;           /* enum nv_state_flag bits */
	bool read_only;
	uint64_t offset;          /* of the volume on its disk */
	int partition;            /* number used, 0 for a bare volume */
};
void nv_volume_info(struct nv_volume *vol, struct nv_volume_info *info);

/* ------------------------------------------------------------ metadata -- */

#define NV_MREF_ROOT 5u

/* Windows FILE_ATTRIBUTE_* bits we name. */
#define NV_ATTR_READONLY 0x00000001u
#define NV_ATTR_HIDDEN 0x00000002u
#define NV_ATTR_SYSTEM 0x00000004u
#define NV_ATTR_DIRECTORY 0x00000010u
#define NV_ATTR_ARCHIVE 0x00000020u
#define NV_ATTR_TEMPORARY 0x00000100u
#define NV_ATTR_SPARSE 0x00000200u
#define NV_ATTR_REPARSE_POINT 0x00000400u
#define NV_ATTR_COMPRESSED 0x00000800u
#define NV_ATTR_OFFLINE 0x00001000u
#define NV_ATTR_NOT_CONTENT_INDEXED 0x00002000u
#define NV_ATTR_ENCRYPTED 0x00004000u
#define NV_ATTR_PINNED 0x00080000u
#define NV_ATTR_UNPINNED 0x00100000u
#define NV_ATTR_RECALL_ON_OPEN 0x00040000u
/* The same bit as RECALL_ON_OPEN: Windows reports it for files with EAs
 * (FILE_ATTRIBUTE_EA, "internal use"); libntfs-3g never sets it. */
#define NV_ATTR_EA 0x00040000u
#define NV_ATTR_RECALL_ON_DATA_ACCESS 0x00400000u

/* Reparse tags we recognise. */
#define NV_TAG_MOUNT_POINT 0xA0000003u
#define NV_TAG_SYMLINK 0xA000000Cu
#define NV_TAG_WOF 0x80000017u
#define NV_TAG_DEDUP 0x80000013u
#define NV_TAG_WCI 0x80000018u
/* OneDrive and other cloud providers: 0x9000x01A (IO_REPARSE_TAG_CLOUD_n). */
#define NV_TAG_IS_CLOUD(tag) (((tag) & 0xFFFF0FFFu) == 0x9000001Au)

/* What kind of thing an inode is, derived once so callers need not. */
enum nv_kind_flag {
	NV_IS_DIR = 1 << 0,
	NV_IS_REPARSE = 1 << 1,
	NV_IS_JUNCTION = 1 << 2,      /* mount point reparse tag */
	NV_IS_SYMLINK = 1 << 3,
	NV_IS_SPARSE = 1 << 4,
	NV_IS_COMPRESSED = 1 << 5,    /* LZNT1 (NTFS compression) */
	NV_IS_ENCRYPTED = 1 << 6,     /* EFS: attribute or a $EFS stream */
	NV_IS_WOF = 1 << 7,           /* Windows Overlay Filter (compact OS) */
	NV_IS_CLOUD = 1 << 8,         /* a cloud file (OneDrive, ...) */
	NV_IS_DEHYDRATED = 1 << 9,    /* cloud placeholder whose data is not local */
	NV_IS_SYNC_ROOT = 1 << 10,    /* cloud folder with a {GUID}.SyncRootIdentity stream */
};

enum nv_time_index { NV_TIME_CREATION, NV_TIME_WRITE, NV_TIME_ACCESS, NV_TIME_CHANGE };

struct nv_stream {
	char *name;              /* UTF-8 */
	uint64_t size;
	uint64_t allocated;
};

struct nv_name {
	uint64_t parent;         /* MFT record of the directory holding the name */
	char *name;              /* UTF-8 */
	uint8_t name_space;      /* 0 POSIX, 1 Win32, 3 Win32+DOS (DOS-only names are not listed) */
};

struct nv_inode {
	uint64_t mref;            /* MFT record number */
	uint16_t sequence;        /* its sequence number */
	uint32_t attributes;      /* FILE_ATTRIBUTE_* as Windows reports them */
	unsigned kind;            /* enum nv_kind_flag bits */
	uint64_t size;            /* unnamed data stream (0 for directories) */
	uint64_t allocated;       /* bytes on disk for it (compressed/sparse: less) */
	uint64_t times[4];        /* enum nv_time_index order, from $STANDARD_INFORMATION */
	uint8_t *security;        /* self-relative security descriptor */
	size_t security_len;
	struct nv_stream *streams; /* named data streams */
	size_t stream_count;
	struct nv_name *names;    /* every hard link's name */
	size_t name_count;
	uint32_t reparse_tag;     /* 0 when not a reparse point */
	uint8_t *reparse;         /* the whole reparse buffer (tag, length, data) */
	size_t reparse_len;
	uint8_t *ea;              /* the $EA value (packed EA entries, see nv_ea_next), */
	size_t ea_len;            /* NULL, 0 when the file has none */
};

/* Read everything about one inode; free with nv_inode_free. */
enum nv_status nv_stat(struct nv_volume *vol, uint64_t mref, struct nv_inode **out);
void nv_inode_free(struct nv_inode *inode);

/* Find a path's MFT record (case-insensitive).  "" and "/" are the root. */
enum nv_status nv_lookup(struct nv_volume *vol, const char *path, uint64_t *mref);

/* One name in folder @parent (case-insensitive, as Windows): a path lookup
 * that does not start again from the root for every file of a folder. */
enum nv_status nv_lookup_in(struct nv_volume *vol, uint64_t parent, const char *name,
			    uint64_t *mref);

/* Keep MFT record @mref open until nv_release, so that the calls between
 * (link, security, attributes, times...) share one open inode: it is read
 * once and written back, with its names in their folders, once.  Holds
 * nest.  nv_unlink refuses a held file or folder; nv_close writes back
 * anything still held. */
enum nv_status nv_hold(struct nv_volume *vol, uint64_t mref);
enum nv_status nv_release(struct nv_volume *vol, uint64_t mref);

/* The target of a junction or symlink, as its print name, in UTF-8. */
enum nv_status nv_reparse_target(const struct nv_inode *inode, char **target);

/* --------------------------------------------------------------- walking -- */

struct nv_entry {
	const char *path;          /* from the walk's start, '/'-separated, UTF-8 */
	const char *name;          /* last component */
	uint64_t parent;           /* MFT record of the directory */
	unsigned depth;            /* 0 for the start's children */
	uint64_t mref;
	const struct nv_inode *inode; /* NULL when it could not be read: see status */
	enum nv_status status;     /* NV_OK, or why the entry (or its folder) is unreadable */
	const char *error;         /* the sentence for status, NULL when NV_OK */
};

/* A walk callback returns NV_WALK_CONTINUE, NV_WALK_SKIP (do not descend
 * into this directory) or NV_WALK_STOP; anything else stops the walk too. */
enum { NV_WALK_CONTINUE = 0, NV_WALK_SKIP = 1, NV_WALK_STOP = 2 };
typedef int (*nv_walk_fn)(const struct nv_entry *entry, void *ctx);

/*
 * Visit every directory entry below @start once, parents before children,
 * in name order.  Each hard link's name is an entry of its own (same mref).
 * DOS 8.3 duplicates, "." and ".." and NTFS metadata files are skipped;
 * reparse points (junctions, symlinks, unknown tags) are reported but never
 * followed; a cloud-tagged folder (NV_IS_CLOUD: a OneDrive sync root and its
 * subfolders) is a real folder holding the files, and is entered.
 * An entry that cannot be read, or a folder that cannot be listed, is still
 * reported (inode NULL, status and error set) and the walk goes on: the
 * caller decides whether that is fatal, nothing is skipped in silence.
 */
enum nv_status nv_walk(struct nv_volume *vol, const char *start, nv_walk_fn fn, void *ctx);

/* --------------------------------------------------------------- reading -- */

struct nv_reader;
/* Open the unnamed (@stream NULL or "") or a named data stream for reading.
 * The unnamed data of a dehydrated cloud placeholder or of a WOF-compressed
 * file is refused (NV_ERR_UNSUPPORTED): libntfs-3g would return zeros.
 * Encrypted (EFS) data is refused too (NV_ERR_UNSUPPORTED): it is ciphertext,
 * never the file's contents; nv_reader_open_raw reads it raw. */
enum nv_status nv_reader_open(struct nv_volume *vol, uint64_t mref, const char *stream,
			      struct nv_reader **out);
uint64_t nv_reader_size(const struct nv_reader *r);
/* pread: up to @len bytes at @offset; *@got is 0 at the end.  Compressed and
 * sparse data come back as the file's logical contents. */
enum nv_status nv_reader_pread(struct nv_reader *r, void *buf, size_t len, uint64_t offset,
			       size_t *got);
void nv_reader_close(struct nv_reader *r);

/* ------------------------------------------------------------ raw EFS -- */
/*
 * An EFS-encrypted file can only be moved as it is on disk (USMT's
 * /efs:copyraw), never decrypted offline: its $EFS metadata (the "$EFS"
 * logged utility stream, which holds the file's key encrypted for each user
 * and recovery agent) and each data stream in libntfs-3g's raw form: the
 * ciphertext, a whole number of 512-byte blocks, then 2 bytes (little-endian)
 * saying how many bytes of the last block are padding, so that the real size
 * comes back on restore.  A raw stream's length is therefore 512 * k + 2,
 * or 0 for an empty stream (as the ntfs-3g driver's efs_raw mode shows it).
 */
/* Open a stream of an encrypted file raw: nv_reader_size is the raw length,
 * nv_reader_pread gives the raw bytes.  NV_ERR_INVALID for a file that is not
 * encrypted; NV_ERR_UNSUPPORTED for a stream with no raw form that comes back
 * exactly (not encrypted, resident, partly uninitialized, or sparse: its holes
 * would come back as ciphertext of zeros). */
enum nv_status nv_reader_open_raw(struct nv_volume *vol, uint64_t mref, const char *stream,
				  struct nv_reader **out);
/* The $EFS metadata of an encrypted file (malloc'd into *@blob). */
enum nv_status nv_efs_info(struct nv_volume *vol, uint64_t mref, uint8_t **blob, size_t *len);
/* Whether @blob can be $EFS metadata: at least its 76-byte header, and as
 * long as its first 4 bytes say (NV_ERR_INVALID with a sentence if not). */
enum nv_status nv_efs_check_info(const void *blob, size_t len);
/*
 * Restore: make @mref, a new file whose streams (unnamed and named) were
 * written with nv_write in their raw form, an encrypted file again: the $EFS
 * metadata is added, each stream becomes encrypted data of its real size and
 * the file is marked FILE_ATTRIBUTE_ENCRYPTED.  NV_ERR_INVALID (nothing
 * changed) for damaged metadata, a stream that is not in raw form, or a file
 * already encrypted or compressed.
 */
enum nv_status nv_set_efs_info(struct nv_volume *vol, uint64_t mref, const void *blob, size_t len);

/* --------------------------------------------------- extended attributes -- */
/*
 * A file's EAs are one buffer, the $EA attribute's value as libntfs-3g
 * reads and writes it (ntfs_get_ntfs_ea / ntfs_set_ntfs_ea, the ntfs-3g
 * driver's system.ntfs_ea): entries of { u32 next_entry_offset, u8 flags,
 * u8 name_length, u16 value_length, name, NUL, value }, each padded to 4
 * bytes, and unlike Windows' FILE_FULL_EA_INFORMATION the last entry's
 * offset is its length too, never 0.  nv_stat fills nv_inode.ea with it.
 */
#define NV_EA_MAX 65536u          /* $AttrDef: $EA is at most 64 KiB */
#define NV_EA_NEED_EA 0x80u       /* the only flag Windows defines */

struct nv_ea {
	const char *name;         /* into the buffer; NUL-terminated, any bytes */
	size_t name_len;
	uint8_t flags;
	const uint8_t *value;     /* into the buffer */
	size_t value_len;
};
/* The entry at *@offset (start with 0), moving *@offset to the next one.
 * NV_ERR_NOT_FOUND after the last; NV_ERR_CORRUPT with a sentence for a
 * damaged buffer (lengths are checked as ntfs_set_ntfs_ea checks them). */
enum nv_status nv_ea_next(const void *buf, size_t len, size_t *offset, struct nv_ea *ea);
/* The whole buffer checked (1 to NV_EA_MAX bytes); *@count (may be NULL)
 * gets the number of entries. */
enum nv_status nv_ea_check(const void *buf, size_t len, size_t *count);

/* --------------------------------------------------------------- writing -- */
/* Every write is refused with NV_ERR_READ_ONLY on a read-only volume. */

enum nv_status nv_mkdir(struct nv_volume *vol, uint64_t parent, const char *name, uint64_t *mref);
enum nv_status nv_create(struct nv_volume *vol, uint64_t parent, const char *name, uint64_t *mref);
/* Write at @offset into the unnamed or a named stream (which must exist). */
enum nv_status nv_write(struct nv_volume *vol, uint64_t mref, const char *stream,
			uint64_t offset, const void *buf, size_t len);
/* Set a stream's length (growing leaves a hole on sparse files). */
enum nv_status nv_truncate(struct nv_volume *vol, uint64_t mref, const char *stream, uint64_t size);
enum nv_status nv_add_stream(struct nv_volume *vol, uint64_t mref, const char *stream);
/* A new name for @mref in @parent; refused past Windows' 1024 links. */
enum nv_status nv_link(struct nv_volume *vol, uint64_t mref, uint64_t parent, const char *name);
enum nv_status nv_unlink(struct nv_volume *vol, uint64_t parent, const char *name);
/* Give file @name in @parent the name @new_name in @new_parent, replacing a
 * file already there (the new name is linked before the old one is removed,
 * so an interruption leaves both names, never neither).  Files only. */
enum nv_status nv_rename(struct nv_volume *vol, uint64_t parent, const char *name,
			 uint64_t new_parent, const char *new_name);
enum nv_status nv_set_security(struct nv_volume *vol, uint64_t mref, const void *sd, size_t len);
/* Settable bits: READONLY HIDDEN SYSTEM ARCHIVE TEMPORARY OFFLINE NOT_CONTENT_INDEXED
 * (and SPARSE/COMPRESSED where libntfs-3g allows). */
enum nv_status nv_set_attributes(struct nv_volume *vol, uint64_t mref, uint32_t attributes);
/* LZNT1 compression for a new, empty file (before its data is written):
 * what is written next is compressed as Windows would.  NV_ERR_UNSUPPORTED
 * when the clusters are larger than 4 KiB (NTFS compresses only below). */
enum nv_status nv_set_compressed(struct nv_volume *vol, uint64_t mref);
/* The whole reparse buffer (tag, length, reserved, data). */
enum nv_status nv_set_reparse(struct nv_volume *vol, uint64_t mref, const void *data, size_t len);
/* Make a reparse point a plain file or folder again: its reparse data goes,
 * and with it the cloud filter's PINNED/UNPINNED bits (nothing when it is
 * not a reparse point). */
enum nv_status nv_remove_reparse(struct nv_volume *vol, uint64_t mref);
/* Replace the file's or folder's EAs with @ea (checked with nv_ea_check
 * first: NV_ERR_INVALID, nothing written, for a damaged buffer). */
enum nv_status nv_set_ea(struct nv_volume *vol, uint64_t mref, const void *ea, size_t len);
/* Set last: every other write may move the change time. */
enum nv_status nv_set_times(struct nv_volume *vol, uint64_t mref, const uint64_t times[4]);

#endif
