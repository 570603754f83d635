/*
 * store/ — where captured user state is kept between capture and restore.
 *
 * One writer interface and one reader interface over three formats:
 *
 *   ST_FORMAT_COMPRESSED  (default) STORE/USMT/USMT.MIG: one file of
 *                         independent zstd frames, content deduplicated,
 *                         optionally encrypted (XChaCha20-Poly1305), the
 *                         catalog at the end.  Written as USMT.MIG.partial and
 *                         renamed when complete.
 *   ST_FORMAT_DIRECTORY   (/nocompress) STORE/USMT/File/C$/<path>: plain files
 *                         anyone can browse, plus STORE/catalog.
 *   ST_FORMAT_HARDLINK    (/hardlink /nocompress) the same layout on the
 *                         *source* NTFS volume, made through ntfs/: every
 *                         captured file is a new hard link to its MFT record.
 *
 * The on-disk formats are specified in docs/store-format.md.
 *
 * Conventions (as ntfs/): functions return enum st_status (ST_OK = 0); the
 * sentence explaining the last failure of the calling thread is in
 * st_last_error().  Paths inside a store are UTF-8, volume-relative and
 * '/'-separated ("Users/alice/Documents/a.docx").  Times of files are NTFS
 * times (100 ns since 1601); store-level times are Unix seconds.
 *
 * Trust: a writer trusts its caller; a reader trusts nothing it reads.  Every
 * length, offset and count in a store is checked, and names that could make a
 * restore write outside its target ("..", absolute paths, drive letters,
 * backslashes, NUL, reserved Windows device names) are refused.
 */
#ifndef WINSTATE_STORE_H
#define WINSTATE_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ntfs/ntfs.h"

/* Explicit numbers, never reused. */
enum st_status {
	ST_OK = 0,
	ST_ERR_NOMEM = 1,
	ST_ERR_IO = 2,          /* reading or writing the store failed (errno in the sentence) */
	ST_ERR_INVALID = 3,     /* a bad argument from the caller */
	ST_ERR_STATE = 4,       /* a call out of order (write_data outside a file, ...) */
	ST_ERR_EXISTS = 5,      /* the store (or a path in it) already exists */
	ST_ERR_NOT_FOUND = 6,   /* no store there, or no such file in it */
	ST_ERR_CORRUPT = 7,     /* the store is damaged: checksum, bounds, structure */
	ST_ERR_VERSION = 8,     /* written by a newer winstate */
	ST_ERR_INCOMPLETE = 9,  /* a capture that did not finish (.partial, no catalog) */
	ST_ERR_KEY = 10,        /* wrong key or damaged store; or a key is missing */
	ST_ERR_UNSAFE = 11,     /* a name that could escape the restore target */
	ST_ERR_REFUSED = 12,    /* this file cannot go into this store (EFS, 1024 links) */
	ST_ERR_NTFS = 13,       /* ntfs/ failed (hard-link store): its sentence is kept */
	ST_ERR_COMPRESS = 14,   /* zstd failed */
};

const char *st_last_error(void);
const char *st_status_name(enum st_status status);

enum st_format {
	ST_FORMAT_COMPRESSED = 1,
	ST_FORMAT_DIRECTORY = 2,
	ST_FORMAT_HARDLINK = 3,
};
const char *st_format_name(enum st_format format);

/* Owner of an item: a user SID ("S-1-5-21-...") or this word. */
#define ST_OWNER_SYSTEM "system"
/* begin_file's source_id when the caller has none (no hard-link tracking). */
#define ST_NO_SOURCE_ID UINT64_MAX
#define ST_HASH_BYTES 32 /* BLAKE2b-256 (libsodium crypto_generichash) */
/* The stream that holds a raw EFS file's $EFS metadata.  ':' is never in an
 * NTFS stream name, so it cannot collide with a real one; writers accept this
 * one name (st_writer_begin_stream / add_stream) for files marked
 * FILE_ATTRIBUTE_ENCRYPTED. */
#define ST_EFS_STREAM "::$EFS"

/* A stream's checksum the store's way (st_stream.hash), for callers that
 * check data outside the store: a restore recognising what it already wrote,
 * verify reading a restored target back. */
struct st_hasher {
	_Alignas(64) unsigned char state[384]; /* libsodium's crypto_generichash_state */
};
void st_hash_begin(struct st_hasher *h);
void st_hash_update(struct st_hasher *h, const void *data, size_t len);
void st_hash_end(struct st_hasher *h, uint8_t out[ST_HASH_BYTES]);

/* ------------------------------------------------------------- records -- */
/* The same structs describe what goes in and what a reader lists.  In a
 * reader's lists every pointer is owned by the reader. */

struct st_kv {
	const char *key;
	const char *value;
};

struct st_user {
	const char *sid;
	const char *name;           /* "alice" */
	const char *profile_path;   /* "Users/alice" (volume-relative) */
	const struct st_kv *extra;  /* free-form */
	size_t extra_count;
};

struct st_stream {
	const char *name;           /* "" for the unnamed data stream */
	uint64_t size;
	bool has_hash;              /* false in hard-link stores (data not copied) */
	uint8_t hash[ST_HASH_BYTES];
};

struct st_file {
	const char *path;           /* volume-relative, '/'-separated */
	const char *owner;          /* SID or ST_OWNER_SYSTEM */
	const char *decision;       /* why the rules took it */
	uint64_t source_id;         /* MFT record number, or ST_NO_SOURCE_ID */
	uint32_t attributes;        /* FILE_ATTRIBUTE_* */
	uint64_t times[4];          /* enum nv_time_index order */
	const uint8_t *security;    /* self-relative security descriptor */
	size_t security_len;
	const uint8_t *reparse;     /* whole reparse buffer */
	size_t reparse_len;
	/* NTFS extended attributes: the $EA value as ntfs/ reads it (nv_inode.ea),
	 * kept as it is, up to NV_EA_MAX bytes; checked by whoever writes it
	 * back (nv_set_ea), never by readers, so one damaged buffer costs one
	 * file's EAs, not the store.  A folder entry may carry EAs instead of a
	 * reparse buffer: a plain folder whose EAs are kept (catalog version 3). */
	const uint8_t *ea;
	size_t ea_len;
	bool sparse;
	/* Reader only (ignored by begin_file): */
	int64_t link_to;            /* index of the file this is a hard link of, or -1 */
	/* An EFS file captured raw (--efs copyraw, compressed and directory
	 * stores): its streams hold ciphertext in ntfs/'s raw form and stream
	 * ST_EFS_STREAM its $EFS metadata.  Never the file's contents: only a
	 * restore onto NTFS (nv_set_efs_info) makes it a file again. */
	bool raw_efs;
	const struct st_stream *streams; /* [0] is the unnamed stream */
	size_t stream_count;
};

struct st_reg_value {
	const char *owner;          /* SID or ST_OWNER_SYSTEM */
	const char *key;            /* "HKCU\\Control Panel\\Desktop" */
	const char *name;           /* "" for the default value */
	uint32_t type;              /* REG_* */
	const uint8_t *data;
	size_t len;
	const char *decision;
};

struct st_skipped {
	const char *path;           /* or a registry key */
	const char *owner;
	const char *reason;         /* "OneDrive placeholder, data not on this disk" */
};

struct st_store_info {
	enum st_format format;
	uint32_t version;           /* store format version */
	const char *computer;
	const char *windows_version;
	const char *winstate_version;
	char volume_letter;         /* 'C' for USMT/File/C$ */
	int64_t start_time, end_time; /* Unix seconds */
	bool encrypted;
	/* Directory store: names that do not fit a Linux folder (longer than 255
	 * bytes, a lone surrogate, ...) are in USMT/File under encoded names
	 * (docs/store-format.md); readers map them, callers see real names. */
	bool encoded_names;
};

/* --------------------------------------------------------------- keys -- */

enum st_key_kind { ST_KEY_NONE = 0, ST_KEY_PASSPHRASE = 1, ST_KEY_RAW = 2 };
struct st_key {
	enum st_key_kind kind;
	const char *passphrase;     /* ST_KEY_PASSPHRASE, NUL-terminated */
	uint8_t raw[32];            /* ST_KEY_RAW */
};
/* A key file holds exactly 32 raw bytes, or 64 hex digits (and a newline). */
enum st_status st_key_from_file(const char *path, struct st_key *key);

/* ------------------------------------------------------------- writing -- */

struct st_writer;

struct st_create_options {
	enum st_format format;
	/* COMPRESSED and DIRECTORY: the store folder on the local filesystem
	 * (created; must not exist or be empty).  HARDLINK: the folder's path on
	 * @volume (created; its parent must exist). */
	const char *path;
	struct nv_volume *volume;   /* HARDLINK only: opened read-write by the caller */
	char volume_letter;         /* 0 = 'C' */
	const char *computer, *windows_version, *winstate_version;
	int64_t start_time;         /* 0 = now */
	/* COMPRESSED only. */
	int level;                  /* zstd level, 0 = 3 */
	int threads;                /* compression threads, 0 = online CPUs */
	const struct st_key *key;   /* NULL or ST_KEY_NONE: not encrypted */
	/* Argon2id limits for a passphrase; 0 = production defaults
	 * (crypto_pwhash OPSLIMIT_MODERATE / MEMLIMIT_MODERATE: 3, 256 MiB). */
	unsigned long long kdf_ops;
	size_t kdf_mem;
	/* HARDLINK only: link EFS-encrypted files too (/efs:hardlink). */
	bool allow_efs;
};

enum st_status st_writer_create(const struct st_create_options *opts, struct st_writer **out);

/*
 * Start a captured file.  Only the metadata fields of @file are read
 * (link_to/streams are ignored) and copied.  On return *@need_data says
 * whether the caller must feed the file's contents: false when the file is a
 * hard link of one already captured (same @file->source_id: it becomes a link
 * entry) and in hard-link stores (the data stays in the MFT record).  When
 * true, call st_writer_write_data for the unnamed stream, then
 * st_writer_begin_stream + write_data (or st_writer_add_stream) for each named
 * stream, then st_writer_end_file.  When false, call end_file directly.
 * ST_ERR_REFUSED / ST_ERR_UNSAFE leave the writer usable: the caller lists
 * the file as skipped.
 */
enum st_status st_writer_begin_file(struct st_writer *w, const struct st_file *file,
				    bool *need_data);
/* Append to the stream being written (the unnamed one after begin_file). */
enum st_status st_writer_write_data(struct st_writer *w, const void *buf, size_t len);
/* Finish the current stream and start the named stream @name. */
enum st_status st_writer_begin_stream(struct st_writer *w, const char *name);
/* begin_stream + write_data for a stream already in memory. */
enum st_status st_writer_add_stream(struct st_writer *w, const char *name, const void *data,
				    size_t len);
enum st_status st_writer_end_file(struct st_writer *w);
/* Drop the file begun by st_writer_begin_file instead of ending it (reading
 * its source failed part-way): the catalog never names it and the store stays
 * usable.  Streams of it already complete may stay as unnamed data that later
 * identical files share.  Hard-link stores cannot (they never read data). */
enum st_status st_writer_cancel_file(struct st_writer *w);

enum st_status st_writer_add_user(struct st_writer *w, const struct st_user *user);
enum st_status st_writer_add_registry(struct st_writer *w, const struct st_reg_value *value);
enum st_status st_writer_add_skipped(struct st_writer *w, const struct st_skipped *item);

/* Write STORE/@name (one plain component, e.g. "report.json") next to the
 * store's data, replacing it atomically.  Any time before finish. */
enum st_status st_writer_put_file(struct st_writer *w, const char *name, const void *data,
				  size_t len);

/* Write the catalog, make everything durable (fsync) and, for a compressed
 * store, rename USMT.MIG.partial to USMT.MIG.  @end_time 0 = now.  Frees @w
 * whatever the result. */
enum st_status st_writer_finish(struct st_writer *w, int64_t end_time);
/* Give up: frees @w; what was written stays, recognisably incomplete. */
void st_writer_abort(struct st_writer *w);

struct st_writer_stats {
	uint64_t files, links, streams;
	uint64_t bytes_in;          /* stream bytes received */
	uint64_t bytes_stored;      /* after dedup, before compression */
	uint64_t dedup_hits;
};
void st_writer_stats(const struct st_writer *w, struct st_writer_stats *stats);

/* ------------------------------------------------------------- reading -- */

struct st_reader;

/*
 * Open a store folder (or a USMT.MIG file directly).  @key is needed for an
 * encrypted store (ST_ERR_KEY otherwise, and for a wrong key).  A store whose
 * capture did not finish is ST_ERR_INCOMPLETE.
 */
enum st_status st_reader_open(const char *path, const struct st_key *key, struct st_reader **out);
/* Open a hard-link store at @path on @volume (which stays the caller's). */
enum st_status st_reader_open_ntfs(struct nv_volume *volume, const char *path,
				   struct st_reader **out);
void st_reader_close(struct st_reader *r);

const struct st_store_info *st_reader_info(const struct st_reader *r);
size_t st_reader_user_count(const struct st_reader *r);
const struct st_user *st_reader_user(const struct st_reader *r, size_t i);
size_t st_reader_file_count(const struct st_reader *r);
const struct st_file *st_reader_file(const struct st_reader *r, size_t i);
size_t st_reader_registry_count(const struct st_reader *r);
const struct st_reg_value *st_reader_registry(const struct st_reader *r, size_t i);
size_t st_reader_skipped_count(const struct st_reader *r);
const struct st_skipped *st_reader_skipped(const struct st_reader *r, size_t i);
/* Index of the file with this exact path, or -1. */
int64_t st_reader_find(const struct st_reader *r, const char *path);
/* Directory store with encoded names: where file @index's data is, relative
 * to the store folder ("USMT/File/C$/Users/.../PREFIX~HASH.txt"), when that
 * differs from its path; NULL otherwise (malloc'd). */
char *st_reader_stored_as(const struct st_reader *r, size_t index);

/* Receives a file's data in order; a non-zero return stops the read and is
 * passed back (as ST_ERR_IO unless it is a st_status). */
typedef int (*st_data_fn)(const void *buf, size_t len, void *ctx);

/*
 * Stream file @index's stream @stream (0 = unnamed; a link entry reads its
 * target's data) to @fn.  The checksum is verified on the way: a mismatch is
 * ST_ERR_CORRUPT naming the file, reported after the last byte (the caller
 * must discard what it received).
 */
enum st_status st_reader_read(struct st_reader *r, size_t index, size_t stream, st_data_fn fn,
			      void *ctx);

/* Called once per damaged file (and once with path NULL for the catalog). */
typedef void (*st_damage_fn)(const char *path, const char *why, void *ctx);
struct st_verify_result {
	uint64_t files_ok, files_damaged;
	bool catalog_ok;
};
/* Check every checksum and the catalog's consistency.  Returns ST_OK when all
 * is intact, ST_ERR_CORRUPT when something is damaged (each named to @fn). */
enum st_status st_reader_verify(struct st_reader *r, st_damage_fn fn, void *ctx,
				struct st_verify_result *result);

#define ST_EXTRACT_OVERWRITE 1u
/*
 * Extract the unnamed data of every file whose path matches @pattern
 * (raw EFS files are refused, ST_ERR_REFUSED: their data is ciphertext)
 * (fnmatch, case-insensitive, '*' crosses '/'; NULL = all) into @dest as
 * plain files, @dest/<path>.  Never writes outside @dest (no symlink is
 * followed).  *@count gets the number of files written.
 */
enum st_status st_reader_extract(struct st_reader *r, const char *pattern, const char *dest,
				 unsigned flags, size_t *count);
/*
 * The same, telling @fn (may be NULL) about each file that is not written
 * exactly as its store path: @written_as (relative to @dest) when a component
 * of its path does not fit a Linux folder (longer than 255 bytes, a lone
 * surrogate, or the shape of an encoded name) and is written under the
 * directory store's encoded name instead (docs/store-format.md); @why when it
 * could not be written at all (with @written_as when it was to go under
 * another name, which @why names).
 */
typedef void (*st_extract_fn)(const char *path, const char *written_as, const char *why,
			      void *ctx);
enum st_status st_reader_extract_report(struct st_reader *r, const char *pattern,
					const char *dest, unsigned flags, st_extract_fn fn,
					void *ctx, size_t *count);

/* Check one store path the way readers do (for callers and tests). */
enum st_status st_check_path(const char *path);

/*
 * A hard-link store's folder as the administrator wrote it ("MigStore",
 * "C:\MigStore", "C:/MigStore\") -> the volume path ("MigStore") in @out.
 * Another drive letter, the volume's root or a Linux path (/...) is
 * ST_ERR_INVALID with a sentence in st_last_error().
 */
enum st_status st_volume_store_path(const char *arg, char *out, size_t outlen);

/* -------------------------------------------------------------- removal -- */

/* What a removal did (st_removal_free after either function). */
struct st_removal {
	bool is_store;          /* false: the folder is not a store (nothing was looked at further) */
	size_t names;           /* hard-link store: the names removed */
	char **only_copies;     /* hard-link store: files whose only name was the store's
				 * (never restored), relative to the store folder */
	size_t only_copy_count;
};

/*
 * Remove the hard-link store @store (a volume path: st_volume_store_path) on
 * @volume, opened read-write.  Only the store's own names go (the catalog's
 * files, the folders above them, the catalog, report and logs); a name the
 * store does not account for, an entry that cannot be read, or a file whose
 * only name is the store's (listed in @out; removing it would delete the data)
 * without @force stops it before anything is removed.  ST_OK, or a status with
 * a sentence in st_last_error() that says whether anything was removed; a
 * failure of st_reader_open_ntfs (@out->is_store false) keeps its status.
 */
enum st_status st_remove_volume_store(struct nv_volume *volume, const char *store, bool force,
				      struct st_removal *out);
/* Remove the store folder @store on a local filesystem: refused (nothing is
 * removed) when it has no USMT folder (ST_ERR_NOT_FOUND, @out->is_store
 * false) or holds anything at its top that a store does not. */
enum st_status st_remove_local_store(const char *store, struct st_removal *out);
void st_removal_free(struct st_removal *r);

#endif
