/*
 * store/ internals shared by the format files: errors, an arena and a byte
 * buffer, the in-memory catalog and its (de)serialisation, the writer and
 * reader vtables each format fills in, and the crypto and compression-pool
 * helpers.  Nothing here is part of store.h.
 */
#ifndef WINSTATE_STORE_INTERNAL_H
#define WINSTATE_STORE_INTERNAL_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <sodium.h>

#include "formats/formats.h"
#include "store/store.h"

/* ---------------------------------------------------------------- errors -- */

enum st_status st_fail(enum st_status status, const char *fmt, ...)
	__attribute__((format(printf, 2, 3), cold));
/* st_fail with ": strerror(errno)" appended. */
enum st_status st_fail_errno(enum st_status status, const char *fmt, ...)
	__attribute__((format(printf, 2, 3), cold));
/* Keep ntfs/'s sentence: "@what: <nv_last_error()>". */
enum st_status st_fail_nv(enum nv_status st, const char *fmt, ...)
	__attribute__((format(printf, 2, 3), cold));

/* ----------------------------------------------------- memory and bytes -- */

struct arena_block;
struct arena {
	struct arena_block *head;
};
void *arena_alloc(struct arena *a, size_t size);
char *arena_strdup(struct arena *a, const char *s);
void *arena_memdup(struct arena *a, const void *p, size_t len);
void arena_free(struct arena *a);

struct buf {
	uint8_t *p;
	size_t len, cap;
	bool failed;   /* an allocation failed: the contents are incomplete */
};
void buf_put(struct buf *b, const void *p, size_t len);
void buf_u8(struct buf *b, uint8_t v);
void buf_u32(struct buf *b, uint32_t v);
void buf_u64(struct buf *b, uint64_t v);
void buf_str(struct buf *b, const char *s);            /* u32 length + bytes */
void buf_bytes(struct buf *b, const void *p, size_t len); /* u32 length + bytes */
void buf_free(struct buf *b);

/* write()/pwrite() everything, retrying on EINTR and short writes. */
int write_all(int fd, const void *p, size_t len);
int pread_all(int fd, void *p, size_t len, uint64_t off);
/* fsync the folder holding @path (after a create or rename in it). */
int fsync_parent(const char *path);
/* Write @dir/@name atomically (@name.tmp, fsync, rename, fsync dir). */
enum st_status put_file_atomic(const char *dir, const char *name, const void *data, size_t len);
/* The same for data produced piece by piece: @next gives the next piece
 * (valid until the next call), *len 0 at the end. */
typedef enum st_status (*chunk_fn)(void *ctx, const uint8_t **p, size_t *len);
enum st_status write_file_atomic(const char *dir, const char *name, chunk_fn next, void *ctx);

/* --------------------------------------------------------------- catalog -- */

/* Readers take versions 1 to 3; a writer writes the lowest version that
 * describes what the store holds, so older winstate reads what it can: 1,
 * or 2 for a folder entry (a junction or folder symlink: FILE_ATTRIBUTE_
 * DIRECTORY, no streams), which version 1 readers would call damage, or 3
 * for names stored encoded (ST_INFO_ENCODED_NAMES) or extended attributes. */
#define ST_CATALOG_VERSION 3u
#define ST_CATALOG_VERSION_FILES 1u
/* Folder entries (junctions) or raw EFS files: older readers must refuse it. */
#define ST_CATALOG_VERSION_FOLDERS 2u
/* A directory store with names stored encoded (store/names.c): older readers
 * would look for the long names and call the files missing. */
#define ST_CATALOG_VERSION_NAMES 3u
/* Extended attributes (a FILE record's flags byte says one follows), and
 * plain folders kept for their EAs. */
#define ST_CATALOG_VERSION_EA 3u
/* FILE record flags byte (version 1 and 2: only 0 or 1, "sparse"). */
#define CAT_FILE_SPARSE 1u
#define CAT_FILE_EA 2u
#define ST_MAX_FRAME (64u << 20)   /* a reader refuses larger frames */

struct cat_frame {
	uint64_t file_off;   /* where its bytes start in USMT.MIG */
	uint32_t csize;      /* bytes on disk (with nonce and tag when encrypted) */
	uint32_t usize;      /* uncompressed bytes */
	uint64_t uoff;       /* derived: logical offset of its first byte */
};

struct st_catalog {
	struct arena arena;
	struct st_store_info info;
	struct st_user *users;
	size_t user_count, user_cap;
	struct st_file *files;
	uint64_t **offsets;  /* per file, per stream: logical offset (compressed store) */
	size_t file_count, file_cap;
	struct st_reg_value *regs;
	size_t reg_count, reg_cap;
	struct st_skipped *skipped;
	size_t skipped_count, skipped_cap;
	struct cat_frame *frames;
	size_t frame_count, frame_cap;
	uint64_t data_end;   /* logical bytes in all frames */
	/* Values a reader keeps once however many files repeat them (owner,
	 * decision, security descriptor, stream name): see catalog.c. */
	struct shared_value {
		const uint8_t *p;
		size_t len;
		uint64_t hash;
	} *shared;
	size_t shared_count, shared_cap;
};

struct st_catalog *catalog_new(void);
void catalog_free(struct st_catalog *c);
/* Append copies (into the arena); the file's streams are given separately. */
enum st_status catalog_add_user(struct st_catalog *c, const struct st_user *u);
enum st_status catalog_add_reg(struct st_catalog *c, const struct st_reg_value *v);
enum st_status catalog_add_skipped(struct st_catalog *c, const struct st_skipped *s);
enum st_status catalog_add_file(struct st_catalog *c, const struct st_file *f, int64_t link_to,
				const struct st_stream *streams, const uint64_t *offsets,
				size_t stream_count);
enum st_status catalog_add_frame(struct st_catalog *c, uint64_t file_off, uint32_t csize,
				 uint32_t usize);
/* Serialise (ends with its own BLAKE2b-256). */
enum st_status catalog_serialize(const struct st_catalog *c, struct buf *out);
/* The same in pieces, for a writer that does not keep its files in memory:
 * head (up to the FILE section's count) + each FILE record + tail (without
 * the checksum). */
void catalog_put_head(const struct st_catalog *c, struct buf *b, uint64_t file_count,
		      uint64_t file_bytes);
void catalog_put_file(struct buf *b, const struct st_file *f, int64_t link_to,
		      const uint64_t *offsets);
void catalog_put_tail(const struct st_catalog *c, struct buf *b);
/*
 * Parse and check everything: bounds, checksum, version, names, links,
 * offsets.  @data_start/@data_limit bound the frames (compressed store; 0, 0
 * otherwise).  @expect is the format the container says it is.
 */
enum st_status catalog_parse(const uint8_t *p, size_t len, enum st_format expect,
			     uint64_t data_start, uint64_t data_limit, struct st_catalog **out);

/* Checks on names (also used by writers, so nothing unreadable is written). */
enum st_status check_stream_name(const char *name);
/* "name" of a stream for messages: "a.txt" or "a.txt:Zone.Identifier". */
const char *stream_label(const struct st_file *f, size_t stream, char *buf, size_t size);

/* ---------------------------------------------------------------- writer -- */

struct st_writer;
/* The serialised catalog, produced piece by piece when the store is
 * finished (a million files' catalog is never whole in memory). */
struct cat_source;
uint64_t cat_source_length(const struct cat_source *s);
/* The next piece (valid until the next call); *@len 0 at the end. */
enum st_status cat_source_next(struct cat_source *s, const uint8_t **p, size_t *len);
/* Write it as @dir/@name atomically (@name.tmp, fsync, rename, fsync dir). */
enum st_status cat_source_to_file(struct cat_source *s, const char *dir, const char *name);

struct writer_ops {
	const char *name;
	/* link_file needs the target's path (the writer then keeps every path). */
	bool link_needs_path;
	/* The file is new (not a link).  Set *need_data; a format that keeps the
	 * data elsewhere (hard link) records the streams with writer_record_stream. */
	enum st_status (*begin_file)(void *impl, struct st_writer *w, const struct st_file *f,
				     bool *need_data);
	/* @f is a hard link of file @target (already captured; only its
	 * source_id, and its path when link_needs_path, are set). */
	enum st_status (*link_file)(void *impl, const struct st_file *f, const struct st_file *target);
	enum st_status (*begin_stream)(void *impl, const char *name);
	enum st_status (*write)(void *impl, const void *buf, size_t len);
	/* The stream is complete: @hash over @size bytes.  Set *@offset. */
	enum st_status (*end_stream)(void *impl, const uint8_t *hash, uint64_t size,
				     uint64_t *offset, bool *duplicate);
	enum st_status (*end_file)(void *impl);
	/* Forget the file begun last (its source failed mid-way): take back the
	 * bytes of the stream being written (@in_stream) and anything only it
	 * owns.  NULL: the format cannot, and the writer refuses to cancel. */
	enum st_status (*cancel_file)(void *impl, bool in_stream);
	enum st_status (*put_file)(void *impl, const char *name, const void *data, size_t len);
	/* Before serialising (frames into the catalog, ...). */
	enum st_status (*prepare_catalog)(void *impl, struct st_catalog *c);
	enum st_status (*finish)(void *impl, struct cat_source *catalog);
	void (*destroy)(void *impl, bool aborted);
};
/* For formats whose begin_file keeps the data elsewhere (hard link). */
enum st_status writer_record_stream(struct st_writer *w, const char *name, uint64_t size);

enum st_status dirstore_create(const struct st_create_options *o, const struct writer_ops **ops,
			       void **impl);
enum st_status packstore_create(const struct st_create_options *o, const struct writer_ops **ops,
				void **impl);
enum st_status linkstore_create(const struct st_create_options *o, const struct writer_ops **ops,
				void **impl);

/* ---------------------------------------------------------------- reader -- */

struct reader_ops {
	/* Raw data of a stream of a non-link file (not verified: reader.c does). */
	enum st_status (*read_stream)(void *impl, const struct st_catalog *c, size_t file,
				      size_t stream, st_data_fn fn, void *ctx);
	/* Extra format checks for verify (hard link: the link still names the
	 * same record); may be NULL.  Return a sentence or NULL. */
	const char *(*check_file)(void *impl, const struct st_catalog *c, size_t file);
	void (*close)(void *impl);
};

enum st_status dirstore_open(const char *dir, struct st_catalog **cat,
			     const struct reader_ops **ops, void **impl);
enum st_status packstore_open(const char *file, const struct st_key *key,
			      struct st_catalog **cat, const struct reader_ops **ops, void **impl);
/* The hard-link store folder's security descriptor (Administrators and SYSTEM
 * only), malloc'd; -1 when memory fails. */
int linkstore_admin_sd(uint8_t **sd, size_t *len);
enum st_status linkstore_open(struct nv_volume *vol, const char *path, struct st_catalog **cat,
			      const struct reader_ops **ops, void **impl);

/* Where a file's data lives in a directory or hard-link store. */
char *layout_path(char letter, const char *path);        /* "USMT/File/C$/<path>" */
char *stream_store_name(const uint8_t *hash);             /* "USMT/Streams/<hex>" */

/* Directory-store names (store/names.c: the rule and why nothing collides). */
#define DIR_NAME_MAX 255       /* bytes: Linux's NAME_MAX */
#define DIR_ENCODED_MAX 128    /* bytes of an encoded name */
/* The component is stored as it is. */
bool dir_name_fits(const char *comp, size_t len);
/* It looks like an encoded name ("~" + 32 hex digits before its extension). */
bool dir_name_encoded_shape(const char *comp, size_t len);
/* Its encoded name (malloc'd), for a component that does not fit. */
char *dir_encode_name(const char *comp, size_t len);
/* @path with every component that does not fit encoded (malloc'd);
 * *@changed (may be NULL) says whether one was. */
char *dir_map_path(const char *path, bool *changed);
/* layout_path of dir_map_path(@path) when @encode, else layout_path. */
char *dir_layout_path(char letter, const char *path, bool encode, bool *changed);

/* ---------------------------------------------------------------- crypto -- */

#define ST_SEAL_OVERHEAD (crypto_aead_xchacha20poly1305_ietf_NPUBBYTES + \
			  crypto_aead_xchacha20poly1305_ietf_ABYTES)
enum st_status crypto_init(void);
enum st_status crypto_derive(const struct st_key *key, const uint8_t salt[16],
			     unsigned long long ops, size_t mem, uint8_t out[32]);
/* out = nonce || ciphertext || tag (len + ST_SEAL_OVERHEAD bytes). */
void crypto_seal(const uint8_t key[32], const uint8_t *ad, size_t adlen, const uint8_t *in,
		 size_t len, uint8_t *out);
/* Returns 0, or -1 when the tag does not match (wrong key or damage). */
int crypto_open(const uint8_t key[32], const uint8_t *ad, size_t adlen, const uint8_t *in,
		size_t len, uint8_t *out);

/* ------------------------------------------------------ compression pool -- */

struct pool;
struct ZSTD_CDict_s;
/* Called in frame order on the submitting thread with each finished job: its
 * @n frames (from frame @index on) are @data, back to back, of @csize[k]
 * bytes each, holding @usize[k] bytes each. */
typedef enum st_status (*pool_emit_fn)(void *ctx, uint64_t index, const uint8_t *data,
				       size_t n, const uint32_t *csize, const uint32_t *usize);
struct pool_options {
	int threads, level;
	const uint8_t *key;       /* NULL: not encrypted */
	const uint8_t *store_id;  /* 16 bytes, part of every frame's AD */
	size_t max_input;         /* bytes in one job */
	size_t max_frames;        /* frames in one job */
	pool_emit_fn emit;
	void *ctx;
};
enum st_status pool_create(const struct pool_options *o, struct pool **out);
/* Hand over *@buf as frames @index.. of @frames[k] bytes each (their sum at
 * most max_input); *@buf gets a free buffer of max_input bytes back.  May
 * wait for, and emit, older jobs. */
enum st_status pool_submit(struct pool *p, uint8_t **buf, const uint32_t *frames,
			   size_t nframes, uint64_t index);
/* Compress every later frame with @dict (emits what was submitted first). */
enum st_status pool_set_dict(struct pool *p, const struct ZSTD_CDict_s *dict);
/* Emit every submitted frame. */
enum st_status pool_drain(struct pool *p);
void pool_destroy(struct pool *p);
/* Frame AD: store id || index (UINT64_MAX for the catalog). */
void frame_ad(uint8_t ad[24], const uint8_t *store_id, uint64_t index);

#endif
