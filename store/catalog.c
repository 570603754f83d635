/*
 * The catalog: everything a store says about what it holds (store info,
 * users, files with their NTFS metadata and stream checksums, registry
 * values, skipped items, and the compressed store's frame table), as one
 * strict, versioned little-endian binary with a BLAKE2b-256 at its end.
 * Layout: docs/store-format.md, "Catalog".
 *
 * The writer side trusts its caller; catalog_parse trusts nothing: every
 * length is checked against what is left, every count against the smallest
 * record it could describe (no huge allocation from a forged count), every
 * name against st_check_path, every link and offset against the rest.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <zstd.h>

#include "store/internal.h"

#define ZSTD_COMPRESSBOUND_GUESS(n) (ZSTD_COMPRESSBOUND(n) + ST_SEAL_OVERHEAD)

#define CAT_MAGIC "WSCATLG\x1a"
#define TAG(a, b, c, d) ((uint32_t)(a) | (uint32_t)(b) << 8 | (uint32_t)(c) << 16 | (uint32_t)(d) << 24)
#define TAG_INFO TAG('I', 'N', 'F', 'O')
#define TAG_USER TAG('U', 'S', 'E', 'R')
#define TAG_FILE TAG('F', 'I', 'L', 'E')
#define TAG_REGV TAG('R', 'E', 'G', 'V')
#define TAG_SKIP TAG('S', 'K', 'I', 'P')
#define TAG_FRAM TAG('F', 'R', 'A', 'M')
#define TAG_END TAG('E', 'N', 'D', '.')

/* INFO flags. */
#define ST_INFO_ENCRYPTED 1u
#define ST_INFO_ENCODED_NAMES 2u   /* version 3, directory stores: store/names.c */

#define MAX_STRING (1u << 20)     /* a name, SID, decision or reason */
#define MAX_BYTES (64u << 20)     /* a security descriptor, reparse buffer, registry value */
#define MAX_PATH_BYTES 32767u     /* NTFS's own limit, in UTF-16 units, is a bound in bytes too */

/* --------------------------------------------------------------- names -- */

static bool
reserved_device_name(const char *comp, size_t len)
{
	static const char *const devs[] = { "CON", "PRN", "AUX", "NUL", "CONIN$", "CONOUT$" };
	/* Windows treats "CON.txt" and "con  " as CON too: compare the stem
	 * before the first dot, trailing spaces removed. */
	size_t stem = 0;
	while (stem < len && comp[stem] != '.')
		stem++;
	while (stem > 0 && comp[stem - 1] == ' ')
		stem--;
	if (stem < 3 || stem > 7) /* no device name is shorter or longer */
		return false;
	for (size_t i = 0; i < sizeof(devs) / sizeof(devs[0]); i++)
		if (strlen(devs[i]) == stem && strncasecmp(comp, devs[i], stem) == 0)
			return true;
	/* COM1-9, LPT1-9, and the superscript digits ¹²³ Windows also reserves. */
	if (stem >= 4 && (strncasecmp(comp, "COM", 3) == 0 || strncasecmp(comp, "LPT", 3) == 0)) {
		const unsigned char *d = (const unsigned char *)comp + 3;
		if (stem == 4 && d[0] >= '1' && d[0] <= '9')
			return true;
		if (stem == 5 && d[0] == 0xC2 && (d[1] == 0xB9 || d[1] == 0xB2 || d[1] == 0xB3))
			return true;
	}
	return false;
}

static enum st_status
check_path_len(const char *path, size_t len)
{
	if (len == 0)
		return st_fail(ST_ERR_UNSAFE, "an empty path");
	if (len > MAX_PATH_BYTES)
		return st_fail(ST_ERR_UNSAFE, "a path of %zu bytes (longer than NTFS allows)", len);
	if (memchr(path, 0, len))
		return st_fail(ST_ERR_UNSAFE, "path \"%s...\" contains a NUL byte", path);
	if (!fmt_utf8_valid(path, len))
		return st_fail(ST_ERR_UNSAFE, "path \"%.*s\" is not valid UTF-8", (int)len, path);
	if (path[0] == '/')
		return st_fail(ST_ERR_UNSAFE, "path \"%.*s\" is absolute", (int)len, path);
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)path[i];
		if (c == '\\')
			return st_fail(ST_ERR_UNSAFE,
				       "path \"%.*s\" contains a backslash (a Windows separator: "
				       "it could climb out of the restore target)", (int)len, path);
		if (c == ':')
			return st_fail(ST_ERR_UNSAFE,
				       "path \"%.*s\" contains ':' (a drive letter or a stream name)",
				       (int)len, path);
		if (c < 0x20)
			return st_fail(ST_ERR_UNSAFE, "path \"%.*s\" contains control character 0x%02x",
				       (int)len, path, c);
	}
	const char *p = path, *end = path + len;
	while (p <= end) {
		const char *slash = memchr(p, '/', (size_t)(end - p));
		size_t clen = (size_t)((slash ? slash : end) - p);
		if (clen == 0)
			return st_fail(ST_ERR_UNSAFE, "path \"%.*s\" has an empty component",
				       (int)len, path);
		if ((clen == 1 && p[0] == '.') || (clen == 2 && p[0] == '.' && p[1] == '.'))
			return st_fail(ST_ERR_UNSAFE, "path \"%.*s\" contains a \"%.*s\" component",
				       (int)len, path, (int)clen, p);
		if (reserved_device_name(p, clen))
			return st_fail(ST_ERR_UNSAFE,
				       "path \"%.*s\" names the reserved Windows device \"%.*s\"",
				       (int)len, path, (int)clen, p);
		if (p[clen - 1] == '.' || p[clen - 1] == ' ')
			return st_fail(ST_ERR_UNSAFE,
				       "path \"%.*s\" has a component ending in a dot or space "
				       "(Windows would strip it)", (int)len, path);
		if (!slash)
			break;
		p = slash + 1;
	}
	return ST_OK;
}

enum st_status
st_check_path(const char *path)
{
	if (!path)
		return st_fail(ST_ERR_UNSAFE, "no path");
	return check_path_len(path, strlen(path));
}

enum st_status
check_stream_name(const char *name)
{
	size_t len = strlen(name);
	if (strcmp(name, ST_EFS_STREAM) == 0)
		return ST_OK; /* a raw EFS file's $EFS metadata: never an NTFS stream name */
	if (len == 0 || len > 255 * 3)
		return st_fail(ST_ERR_UNSAFE, "a stream name of %zu bytes", len);
	if (!fmt_utf8_valid(name, len))
		return st_fail(ST_ERR_UNSAFE, "stream name \"%s\" is not valid UTF-8", name);
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)name[i];
		if (c == '/' || c == '\\' || c == ':' || c < 0x20)
			return st_fail(ST_ERR_UNSAFE, "stream name \"%s\" contains '%c' or a control "
				       "character", name, c >= 0x20 ? c : '?');
	}
	return ST_OK;
}

const char *
stream_label(const struct st_file *f, size_t stream, char *buf, size_t size)
{
	if (stream == 0 || stream >= f->stream_count)
		snprintf(buf, size, "%s", f->path);
	else
		snprintf(buf, size, "%s:%s", f->path, f->streams[stream].name);
	return buf;
}

/* -------------------------------------------------------------- building -- */

struct st_catalog *
catalog_new(void)
{
	return calloc(1, sizeof(struct st_catalog));
}

void
catalog_free(struct st_catalog *c)
{
	if (!c)
		return;
	arena_free(&c->arena);
	free(c->users);
	free(c->files);
	free(c->offsets);
	free(c->regs);
	free(c->skipped);
	free(c->frames);
	free(c->shared);
	free(c);
}

static bool
grow(void *arrp, size_t *cap, size_t count, size_t elem)
{
	void **arr = arrp;
	if (count < *cap)
		return true;
	size_t ncap = *cap ? *cap * 2 : 64;
	void *n = realloc(*arr, ncap * elem);
	if (!n)
		return false;
	*arr = n;
	*cap = ncap;
	return true;
}

#define NOMEM() st_fail(ST_ERR_NOMEM, "out of memory building the catalog")

enum st_status
catalog_add_user(struct st_catalog *c, const struct st_user *u)
{
	if (!grow(&c->users, &c->user_cap, c->user_count, sizeof(*c->users)))
		return NOMEM();
	struct st_user *d = &c->users[c->user_count];
	struct st_kv *kv = arena_alloc(&c->arena, sizeof(*kv) * (u->extra_count + 1));
	d->sid = arena_strdup(&c->arena, u->sid);
	d->name = arena_strdup(&c->arena, u->name);
	d->profile_path = arena_strdup(&c->arena, u->profile_path);
	if (!kv || !d->sid || !d->name || !d->profile_path)
		return NOMEM();
	for (size_t i = 0; i < u->extra_count; i++) {
		kv[i].key = arena_strdup(&c->arena, u->extra[i].key);
		kv[i].value = arena_strdup(&c->arena, u->extra[i].value);
		if (!kv[i].key || !kv[i].value)
			return NOMEM();
	}
	d->extra = kv;
	d->extra_count = u->extra_count;
	c->user_count++;
	return ST_OK;
}

enum st_status
catalog_add_reg(struct st_catalog *c, const struct st_reg_value *v)
{
	if (!grow(&c->regs, &c->reg_cap, c->reg_count, sizeof(*c->regs)))
		return NOMEM();
	struct st_reg_value *d = &c->regs[c->reg_count];
	d->owner = arena_strdup(&c->arena, v->owner ? v->owner : ST_OWNER_SYSTEM);
	d->key = arena_strdup(&c->arena, v->key);
	d->name = arena_strdup(&c->arena, v->name);
	d->decision = arena_strdup(&c->arena, v->decision);
	d->type = v->type;
	d->data = arena_memdup(&c->arena, v->data, v->len);
	d->len = v->len;
	if (!d->owner || !d->key || !d->name || !d->decision || !d->data)
		return NOMEM();
	c->reg_count++;
	return ST_OK;
}

enum st_status
catalog_add_skipped(struct st_catalog *c, const struct st_skipped *s)
{
	if (!grow(&c->skipped, &c->skipped_cap, c->skipped_count, sizeof(*c->skipped)))
		return NOMEM();
	struct st_skipped *d = &c->skipped[c->skipped_count];
	d->path = arena_strdup(&c->arena, s->path);
	d->owner = arena_strdup(&c->arena, s->owner ? s->owner : ST_OWNER_SYSTEM);
	d->reason = arena_strdup(&c->arena, s->reason);
	if (!d->path || !d->owner || !d->reason)
		return NOMEM();
	c->skipped_count++;
	return ST_OK;
}

enum st_status
catalog_add_file(struct st_catalog *c, const struct st_file *f, int64_t link_to,
		 const struct st_stream *streams, const uint64_t *offsets, size_t stream_count)
{
	if (!grow(&c->files, &c->file_cap, c->file_count, sizeof(*c->files)))
		return NOMEM();
	size_t cap = c->file_cap;
	if (cap > c->file_count) {
		uint64_t **no = realloc(c->offsets, cap * sizeof(*no));
		if (!no)
			return NOMEM();
		c->offsets = no;
	}
	struct st_file *d = &c->files[c->file_count];
	*d = *f;
	d->path = arena_strdup(&c->arena, f->path);
	d->owner = arena_strdup(&c->arena, f->owner ? f->owner : ST_OWNER_SYSTEM);
	d->decision = arena_strdup(&c->arena, f->decision);
	d->security = f->security_len ? arena_memdup(&c->arena, f->security, f->security_len) : NULL;
	d->reparse = f->reparse_len ? arena_memdup(&c->arena, f->reparse, f->reparse_len) : NULL;
	d->ea = f->ea_len ? arena_memdup(&c->arena, f->ea, f->ea_len) : NULL;
	d->link_to = link_to;
	struct st_stream *s = arena_alloc(&c->arena, sizeof(*s) * (stream_count + 1));
	uint64_t *o = arena_alloc(&c->arena, sizeof(*o) * (stream_count + 1));
	if (!d->path || !d->owner || !d->decision || !s || !o ||
	    (f->security_len && !d->security) || (f->reparse_len && !d->reparse) ||
	    (f->ea_len && !d->ea))
		return NOMEM();
	for (size_t i = 0; i < stream_count; i++) {
		s[i] = streams[i];
		s[i].name = arena_strdup(&c->arena, streams[i].name);
		if (!s[i].name)
			return NOMEM();
		o[i] = offsets ? offsets[i] : 0;
	}
	d->streams = s;
	d->stream_count = stream_count;
	c->offsets[c->file_count] = o;
	c->file_count++;
	return ST_OK;
}

enum st_status
catalog_add_frame(struct st_catalog *c, uint64_t file_off, uint32_t csize, uint32_t usize)
{
	if (!grow(&c->frames, &c->frame_cap, c->frame_count, sizeof(*c->frames)))
		return NOMEM();
	c->frames[c->frame_count++] = (struct cat_frame){ file_off, csize, usize, c->data_end };
	c->data_end += usize;
	return ST_OK;
}

/* ------------------------------------------------------------- writing -- */

static size_t
section_start(struct buf *b, uint32_t tag)
{
	buf_u32(b, tag);
	buf_u64(b, 0); /* length, patched by section_end */
	return b->len;
}

static void
section_end(struct buf *b, size_t start)
{
	if (!b->failed)
		fmt_put_le64(b->p + start - 8, b->len - start);
}

void
catalog_put_head(const struct st_catalog *c, struct buf *b, uint64_t file_count,
		 uint64_t file_bytes)
{
	size_t s;
	buf_put(b, CAT_MAGIC, 8);
	buf_u32(b, c->info.version ? c->info.version : ST_CATALOG_VERSION_FILES);
	buf_u32(b, (uint32_t)c->info.format);

	s = section_start(b, TAG_INFO);
	buf_str(b, c->info.computer);
	buf_str(b, c->info.windows_version);
	buf_str(b, c->info.winstate_version);
	buf_u8(b, (uint8_t)c->info.volume_letter);
	buf_u64(b, (uint64_t)c->info.start_time);
	buf_u64(b, (uint64_t)c->info.end_time);
	buf_u32(b, (c->info.encrypted ? ST_INFO_ENCRYPTED : 0) |
		   (c->info.encoded_names ? ST_INFO_ENCODED_NAMES : 0));
	section_end(b, s);

	s = section_start(b, TAG_USER);
	buf_u64(b, c->user_count);
	for (size_t i = 0; i < c->user_count; i++) {
		const struct st_user *u = &c->users[i];
		buf_str(b, u->sid);
		buf_str(b, u->name);
		buf_str(b, u->profile_path);
		buf_u32(b, (uint32_t)u->extra_count);
		for (size_t k = 0; k < u->extra_count; k++) {
			buf_str(b, u->extra[k].key);
			buf_str(b, u->extra[k].value);
		}
	}
	section_end(b, s);

	buf_u32(b, TAG_FILE);
	buf_u64(b, 8 + file_bytes);
	buf_u64(b, file_count);
}

void
catalog_put_file(struct buf *b, const struct st_file *f, int64_t link_to, const uint64_t *offsets)
{
	buf_str(b, f->path);
	buf_str(b, f->owner ? f->owner : ST_OWNER_SYSTEM);
	buf_str(b, f->decision);
	buf_u64(b, f->source_id);
	buf_u32(b, f->attributes);
	for (int t = 0; t < 4; t++)
		buf_u64(b, f->times[t]);
	buf_bytes(b, f->security, f->security_len);
	buf_bytes(b, f->reparse, f->reparse_len);
	/* Without EAs the record is exactly a version 1/2 record. */
	buf_u8(b, (f->sparse ? CAT_FILE_SPARSE : 0) | (f->ea_len ? CAT_FILE_EA : 0));
	if (f->ea_len)
		buf_bytes(b, f->ea, f->ea_len);
	buf_u64(b, (uint64_t)(link_to + 1));
	buf_u32(b, (uint32_t)f->stream_count);
	for (size_t k = 0; k < f->stream_count; k++) {
		const struct st_stream *st = &f->streams[k];
		buf_str(b, st->name);
		buf_u64(b, st->size);
		buf_u8(b, st->has_hash ? 1 : 0);
		if (st->has_hash)
			buf_put(b, st->hash, ST_HASH_BYTES);
		buf_u64(b, offsets ? offsets[k] : 0);
	}
}

void
catalog_put_tail(const struct st_catalog *c, struct buf *b)
{
	size_t s = section_start(b, TAG_REGV);
	buf_u64(b, c->reg_count);
	for (size_t i = 0; i < c->reg_count; i++) {
		const struct st_reg_value *v = &c->regs[i];
		buf_str(b, v->owner);
		buf_str(b, v->key);
		buf_str(b, v->name);
		buf_u32(b, v->type);
		buf_bytes(b, v->data, v->len);
		buf_str(b, v->decision);
	}
	section_end(b, s);

	s = section_start(b, TAG_SKIP);
	buf_u64(b, c->skipped_count);
	for (size_t i = 0; i < c->skipped_count; i++) {
		buf_str(b, c->skipped[i].path);
		buf_str(b, c->skipped[i].owner);
		buf_str(b, c->skipped[i].reason);
	}
	section_end(b, s);

	s = section_start(b, TAG_FRAM);
	buf_u64(b, c->frame_count);
	for (size_t i = 0; i < c->frame_count; i++) {
		buf_u64(b, c->frames[i].file_off);
		buf_u32(b, c->frames[i].csize);
		buf_u32(b, c->frames[i].usize);
	}
	section_end(b, s);

	s = section_start(b, TAG_END);
	section_end(b, s);
}

enum st_status
catalog_serialize(const struct st_catalog *c, struct buf *b)
{
	struct buf files = { 0 };
	for (size_t i = 0; i < c->file_count; i++)
		catalog_put_file(&files, &c->files[i], c->files[i].link_to, c->offsets[i]);
	catalog_put_head(c, b, c->file_count, files.len);
	buf_put(b, files.p, files.len);
	bool failed = files.failed;
	buf_free(&files);
	catalog_put_tail(c, b);
	if (b->failed || failed)
		return NOMEM();
	uint8_t sum[ST_HASH_BYTES];
	crypto_generichash(sum, sizeof(sum), b->p, b->len, NULL, 0);
	buf_put(b, sum, sizeof(sum));
	return b->failed ? NOMEM() : ST_OK;
}

/* ------------------------------------------------------------- parsing -- */

struct cur {
	const uint8_t *p, *end;
	struct st_catalog *c;
	const char *what;   /* for messages: "file 12" */
	size_t index;
};

#define NEED(cu, n)                                                                        \
	do {                                                                               \
		if ((size_t)((cu)->end - (cu)->p) < (size_t)(n))                           \
			return st_fail(ST_ERR_CORRUPT,                                    \
				       "the catalog is damaged: %s %zu runs past its end",         \
				       (cu)->what, (cu)->index);                                   \
	} while (0)

static enum st_status
rd_u8(struct cur *cu, uint8_t *v)
{
	*v = 0;
	NEED(cu, 1);
	*v = *cu->p++;
	return ST_OK;
}

static enum st_status
rd_u32(struct cur *cu, uint32_t *v)
{
	*v = 0;
	NEED(cu, 4);
	*v = fmt_le32(cu->p);
	cu->p += 4;
	return ST_OK;
}

static enum st_status
rd_u64(struct cur *cu, uint64_t *v)
{
	*v = 0;
	NEED(cu, 8);
	*v = fmt_le64(cu->p);
	cu->p += 8;
	return ST_OK;
}

static enum st_status
rd_raw(struct cur *cu, size_t max, const uint8_t **p, size_t *len)
{
	uint32_t n;
	*p = NULL;
	*len = 0;
	enum st_status st = rd_u32(cu, &n);
	if (st)
		return st;
	if (n > max)
		return st_fail(ST_ERR_CORRUPT, "the catalog is damaged: %s %zu has a field of %u bytes "
			       "(at most %zu allowed)", cu->what, cu->index, n, max);
	NEED(cu, n);
	*p = cu->p;
	*len = n;
	cu->p += n;
	return ST_OK;
}

/* A string's bytes, in place: no NUL inside. */
static enum st_status
rd_text(struct cur *cu, const uint8_t **p, size_t *n)
{
	enum st_status st = rd_raw(cu, MAX_STRING, p, n);
	if (st)
		return st;
	if (memchr(*p, 0, *n))
		return st_fail(ST_ERR_UNSAFE, "the catalog's %s %zu has a name with a NUL byte in it "
			       "(\"%.*s\"...)", cu->what, cu->index, (int)strnlen((const char *)*p, *n),
			       *p);
	return ST_OK;
}

/* A string, copied NUL-terminated into the arena. */
static enum st_status
rd_str(struct cur *cu, const char **out)
{
	const uint8_t *p = NULL;
	size_t n = 0;
	enum st_status st = rd_text(cu, &p, &n);
	if (st)
		return st;
	char *s = arena_alloc(&cu->c->arena, n + 1);
	if (!s)
		return NOMEM();
	memcpy(s, p, n);
	s[n] = 0;
	*out = s;
	return ST_OK;
}

/* A million-file catalog names a few users, a few hundred rules and
 * descriptors: a reader keeps each such value once (a third of its memory).
 * Past SHARED_MAX distinct values they are simply copied. */
#define SHARED_MAX (1u << 20)

static uint64_t
value_hash(const uint8_t *p, size_t len)
{
	uint64_t h = 14695981039346656037ull;
	for (size_t i = 0; i < len; i++)
		h = (h ^ p[i]) * 1099511628211ull;
	return h;
}

/* The arena's one copy of @p (@len bytes, NUL-terminated after them when
 * @text), NULL when out of memory. */
static const uint8_t *
shared_copy(struct st_catalog *c, const uint8_t *p, size_t len, bool text)
{
	uint64_t h = value_hash(p, len) ^ text;
	struct shared_value *slot = NULL;
	if (c->shared_count < SHARED_MAX) {
		if (2 * (c->shared_count + 1) > c->shared_cap) {
			size_t cap = c->shared_cap ? 2 * c->shared_cap : 256;
			struct shared_value *t = calloc(cap, sizeof(*t));
			if (!t)
				return NULL;
			for (size_t i = 0; i < c->shared_cap; i++) {
				struct shared_value *v = &c->shared[i];
				if (!v->p)
					continue;
				size_t j = v->hash & (cap - 1);
				while (t[j].p)
					j = (j + 1) & (cap - 1);
				t[j] = *v;
			}
			free(c->shared);
			c->shared = t;
			c->shared_cap = cap;
		}
		size_t j = h & (c->shared_cap - 1);
		while (c->shared[j].p) {
			struct shared_value *v = &c->shared[j];
			if (v->hash == h && v->len == len && !memcmp(v->p, p, len))
				return v->p;
			j = (j + 1) & (c->shared_cap - 1);
		}
		slot = &c->shared[j];
	}
	uint8_t *copy = arena_alloc(&c->arena, len + (text ? 1 : 0));
	if (!copy)
		return NULL;
	memcpy(copy, p, len);
	if (text)
		copy[len] = 0;
	if (slot) {
		*slot = (struct shared_value){ copy, len, h };
		c->shared_count++;
	}
	return copy;
}

/* rd_str for a value many entries repeat. */
static enum st_status
rd_shared_str(struct cur *cu, const char **out)
{
	const uint8_t *p = NULL;
	size_t n = 0;
	enum st_status st = rd_text(cu, &p, &n);
	if (st)
		return st;
	if (!(*out = (const char *)shared_copy(cu->c, p, n, true)))
		return NOMEM();
	return ST_OK;
}

/* rd_bytes for a value many entries repeat. */
static enum st_status
rd_shared_bytes(struct cur *cu, const uint8_t **out, size_t *len)
{
	const uint8_t *p;
	enum st_status st = rd_raw(cu, MAX_BYTES, &p, len);
	if (st)
		return st;
	*out = NULL;
	if (*len && !(*out = shared_copy(cu->c, p, *len, false)))
		return NOMEM();
	return ST_OK;
}

static enum st_status
rd_bytes(struct cur *cu, const uint8_t **out, size_t *len)
{
	const uint8_t *p;
	enum st_status st = rd_raw(cu, MAX_BYTES, &p, len);
	if (st)
		return st;
	*out = NULL;
	if (*len && !(*out = arena_memdup(&cu->c->arena, p, *len)))
		return NOMEM();
	return ST_OK;
}

/* A count of records at least @min bytes each must fit in what is left. */
static enum st_status
rd_count(struct cur *cu, size_t min, size_t *out)
{
	uint64_t n;
	enum st_status st = rd_u64(cu, &n);
	if (st)
		return st;
	if (n > (uint64_t)(cu->end - cu->p) / min)
		return st_fail(ST_ERR_CORRUPT, "the catalog is damaged: it claims %llu %ss, more than "
			       "its %zu bytes can hold", (unsigned long long)n, cu->what,
			       (size_t)(cu->end - cu->p));
	*out = (size_t)n;
	return ST_OK;
}

static enum st_status
rd_section(struct cur *cu, uint32_t tag, const char *name, struct cur *sec)
{
	uint32_t t;
	uint64_t len;
	cu->what = "section";
	cu->index = 0;
	enum st_status st;
	if ((st = rd_u32(cu, &t)) || (st = rd_u64(cu, &len)))
		return st;
	if (t != tag)
		return st_fail(ST_ERR_CORRUPT, "the catalog is damaged: the %s section is missing", name);
	if (len > (uint64_t)(cu->end - cu->p))
		return st_fail(ST_ERR_CORRUPT, "the catalog is damaged: the %s section runs past its end",
			       name);
	*sec = (struct cur){ cu->p, cu->p + len, cu->c, name, 0 };
	cu->p += len;
	return ST_OK;
}

static enum st_status
sec_done(struct cur *sec)
{
	if (sec->p != sec->end)
		return st_fail(ST_ERR_CORRUPT, "the catalog is damaged: %zu stray bytes at the end of "
			       "the %s section", (size_t)(sec->end - sec->p), sec->what);
	return ST_OK;
}

#define TRY(x)                     \
	do {                       \
		if ((st = (x)))    \
			goto fail; \
	} while (0)

static enum st_status
parse_files(struct cur *cu, struct st_catalog *c, enum st_format fmt)
{
	enum st_status st = ST_OK;
	size_t n;
	cu->what = "file";
	TRY(rd_count(cu, 4 * 5 + 8 * 7 + 1 + 4, &n));
	c->files = calloc(n ? n : 1, sizeof(*c->files));
	c->offsets = calloc(n ? n : 1, sizeof(*c->offsets));
	if (!c->files || !c->offsets)
		return NOMEM();
	c->file_cap = n;
	for (size_t i = 0; i < n; i++) {
		struct st_file *f = &c->files[i];
		uint64_t link;
		uint32_t ns;
		uint8_t sparse;
		cu->index = i;
		c->file_count = i + 1;
		TRY(rd_str(cu, &f->path));
		if ((st = st_check_path(f->path)) != ST_OK)
			return st_fail(ST_ERR_UNSAFE, "the catalog is refused: file %zu has an unsafe "
				       "name: %s", i, st_last_error());
		TRY(rd_shared_str(cu, &f->owner));
		TRY(rd_shared_str(cu, &f->decision));
		TRY(rd_u64(cu, &f->source_id));
		TRY(rd_u32(cu, &f->attributes));
		for (int t = 0; t < 4; t++)
			TRY(rd_u64(cu, &f->times[t]));
		TRY(rd_shared_bytes(cu, &f->security, &f->security_len));
		TRY(rd_bytes(cu, &f->reparse, &f->reparse_len));
		TRY(rd_u8(cu, &sparse));
		if (c->info.version < ST_CATALOG_VERSION_EA) {
			f->sparse = sparse != 0;
		} else {
			if (sparse & ~(CAT_FILE_SPARSE | CAT_FILE_EA))
				return st_fail(ST_ERR_CORRUPT, "the catalog is damaged: \"%s\" has "
					       "unknown flags 0x%02x", f->path, sparse);
			f->sparse = sparse & CAT_FILE_SPARSE;
			if (sparse & CAT_FILE_EA) {
				/* Only its size is checked here: its content is checked by
				 * the restore that writes it (one file's problem). */
				TRY(rd_bytes(cu, &f->ea, &f->ea_len));
				if (f->ea_len == 0 || f->ea_len > NV_EA_MAX)
					return st_fail(ST_ERR_CORRUPT, "the catalog is damaged: the "
						       "extended attributes of \"%s\" are %zu bytes "
						       "(NTFS holds 1 to %u)", f->path, f->ea_len,
						       NV_EA_MAX);
			}
		}
		TRY(rd_u64(cu, &link));
		TRY(rd_u32(cu, &ns));
		if (ns > (size_t)(cu->end - cu->p) / (4 + 8 + 1 + 8))
			return st_fail(ST_ERR_CORRUPT, "the catalog is damaged: file \"%s\" claims %u "
				       "streams", f->path, ns);
		if (link > i)
			return st_fail(ST_ERR_CORRUPT, "the catalog is damaged: \"%s\" is a link to "
				       "entry %llu, which does not come before it", f->path,
				       (unsigned long long)link - 1);
		f->link_to = link ? (int64_t)(link - 1) : -1;
		if (f->link_to >= 0 && (c->files[f->link_to].link_to >= 0 || ns != 0))
			return st_fail(ST_ERR_CORRUPT, "the catalog is damaged: \"%s\" is a link to "
				       "a link, or a link with streams of its own", f->path);
		if (f->attributes & NV_ATTR_DIRECTORY) {
			/* A junction or folder symlink: its reparse data; or (version
			 * 3) a plain folder kept for its EAs. */
			if (f->link_to >= 0 || ns != 0 || (!f->reparse_len && !f->ea_len))
				return st_fail(ST_ERR_CORRUPT, "the catalog is damaged: folder \"%s\" "
					       "is not a junction, link or folder entry (a link, "
					       "streams, or neither reparse data nor extended "
					       "attributes)", f->path);
		} else if (f->link_to < 0 && ns == 0) {
			return st_fail(ST_ERR_CORRUPT, "the catalog is damaged: \"%s\" has no data "
				       "stream", f->path);
		}
		if (f->link_to >= 0 && (c->files[f->link_to].attributes & NV_ATTR_DIRECTORY))
			return st_fail(ST_ERR_CORRUPT, "the catalog is damaged: \"%s\" is a hard "
				       "link to a folder", f->path);
		struct st_stream *s = arena_alloc(&c->arena, sizeof(*s) * (ns + 1));
		uint64_t *o = arena_alloc(&c->arena, sizeof(*o) * (ns + 1));
		if (!s || !o)
			return NOMEM();
		for (uint32_t k = 0; k < ns; k++) {
			uint8_t hh;
			TRY(rd_shared_str(cu, &s[k].name));
			TRY(rd_u64(cu, &s[k].size));
			TRY(rd_u8(cu, &hh));
			s[k].has_hash = hh == 1;
			if (hh > 1 || (!hh && fmt != ST_FORMAT_HARDLINK))
				return st_fail(ST_ERR_CORRUPT, "the catalog is damaged: a stream of "
					       "\"%s\" has no checksum", f->path);
			if (hh) {
				NEED(cu, ST_HASH_BYTES);
				memcpy(s[k].hash, cu->p, ST_HASH_BYTES);
				cu->p += ST_HASH_BYTES;
			}
			TRY(rd_u64(cu, &o[k]));
			if (k == 0 && s[k].name[0])
				return st_fail(ST_ERR_CORRUPT, "the catalog is damaged: the first stream "
					       "of \"%s\" is not its unnamed data", f->path);
			if (k > 0) {
				if (check_stream_name(s[k].name) != ST_OK)
					return st_fail(ST_ERR_UNSAFE, "the catalog is refused: file "
						       "\"%s\": %s", f->path, st_last_error());
				if (!strcmp(s[k].name, ST_EFS_STREAM) &&
				    (fmt == ST_FORMAT_HARDLINK || !(f->attributes & NV_ATTR_ENCRYPTED)))
					return st_fail(ST_ERR_CORRUPT, "the catalog is damaged: \"%s\" "
						       "has $EFS metadata but is not a raw EFS file",
						       f->path);
				for (uint32_t j = 1; j < k; j++)
					if (strcasecmp(s[j].name, s[k].name) == 0)
						return st_fail(ST_ERR_CORRUPT, "the catalog is damaged: "
							       "\"%s\" has stream \"%s\" twice",
							       f->path, s[k].name);
			}
			if (fmt == ST_FORMAT_COMPRESSED &&
			    (o[k] > c->data_end || s[k].size > c->data_end - o[k]))
				return st_fail(ST_ERR_CORRUPT, "the catalog is damaged: the data of "
					       "\"%s\" lies outside the store's frames", f->path);
		}
		f->streams = s;
		f->stream_count = ns;
		c->offsets[i] = o;
		/* Copied stores hold an encrypted file only raw (--efs copyraw). */
		f->raw_efs = fmt != ST_FORMAT_HARDLINK && (f->attributes & NV_ATTR_ENCRYPTED);
	}
	/* A link entry lists its target's streams, so callers need not care. */
	for (size_t i = 0; i < n; i++)
		if (c->files[i].link_to >= 0) {
			c->files[i].streams = c->files[c->files[i].link_to].streams;
			c->files[i].stream_count = c->files[c->files[i].link_to].stream_count;
			c->offsets[i] = c->offsets[c->files[i].link_to];
			c->files[i].raw_efs = c->files[c->files[i].link_to].raw_efs;
		}
	return sec_done(cu);
fail:
	return st;
}

static int
cmp_path_ptr(const void *a, const void *b)
{
	const struct st_file *const *x = a, *const *y = b;
	return strcmp((*x)->path, (*y)->path);
}

/* Two entries for one path are damage: a reader could not tell which is
 * meant.  Names that differ only in case are two files (WSL1's case-sensitive
 * folders, POSIX names written by Linux): both are kept, and a restore onto
 * a case-folding NTFS folder gives the second one a keep-both name. */
static enum st_status
check_duplicates(struct st_catalog *c)
{
	if (c->file_count < 2)
		return ST_OK;
	const struct st_file **v = malloc(c->file_count * sizeof(*v));
	if (!v)
		return NOMEM();
	for (size_t i = 0; i < c->file_count; i++)
		v[i] = &c->files[i];
	qsort(v, c->file_count, sizeof(*v), cmp_path_ptr);
	enum st_status st = ST_OK;
	for (size_t i = 1; i < c->file_count; i++)
		if (strcmp(v[i - 1]->path, v[i]->path) == 0) {
			st = st_fail(ST_ERR_CORRUPT, "the catalog is damaged: \"%s\" is listed twice",
				     v[i]->path);
			break;
		}
	free(v);
	return st;
}

enum st_status
catalog_parse(const uint8_t *p, size_t len, enum st_format expect, uint64_t data_start,
	      uint64_t data_limit, struct st_catalog **out)
{
	enum st_status st = ST_OK;
	*out = NULL;
	if (len < 16 + ST_HASH_BYTES || memcmp(p, CAT_MAGIC, 8) != 0)
		return st_fail(ST_ERR_CORRUPT, "the catalog is damaged: it does not start with "
			       "winstate's catalog signature");
	uint32_t version = fmt_le32(p + 8);
	if (version > ST_CATALOG_VERSION)
		return st_fail(ST_ERR_VERSION, "the catalog is format version %u, newer than this "
			       "winstate reads (version %u): use a newer winstate", version,
			       ST_CATALOG_VERSION);
	if (version == 0)
		return st_fail(ST_ERR_CORRUPT, "the catalog is damaged: format version 0");
	uint8_t sum[ST_HASH_BYTES];
	crypto_generichash(sum, sizeof(sum), p, len - ST_HASH_BYTES, NULL, 0);
	if (sodium_memcmp(sum, p + len - ST_HASH_BYTES, ST_HASH_BYTES) != 0)
		return st_fail(ST_ERR_CORRUPT, "the catalog is damaged: its checksum does not match");
	uint32_t fmt = fmt_le32(p + 12);
	if (fmt != (uint32_t)expect)
		return st_fail(ST_ERR_CORRUPT, "the catalog is damaged: it describes a %s store, "
			       "found in a %s store", st_format_name((enum st_format)fmt),
			       st_format_name(expect));

	struct st_catalog *c = catalog_new();
	if (!c)
		return NOMEM();
	struct cur cu = { p + 16, p + len - ST_HASH_BYTES, c, "catalog", 0 }, s;
	size_t n;

	/* Frames first (they bound the offsets of the files): find the section. */
	struct cur scan = cu, info, users, files, regs, skips, frames, end;
	TRY(rd_section(&scan, TAG_INFO, "store information", &info));
	TRY(rd_section(&scan, TAG_USER, "users", &users));
	TRY(rd_section(&scan, TAG_FILE, "files", &files));
	TRY(rd_section(&scan, TAG_REGV, "registry", &regs));
	TRY(rd_section(&scan, TAG_SKIP, "skipped items", &skips));
	TRY(rd_section(&scan, TAG_FRAM, "frames", &frames));
	TRY(rd_section(&scan, TAG_END, "end", &end));
	if (scan.p != scan.end || end.p != end.end) {
		st = st_fail(ST_ERR_CORRUPT, "the catalog is damaged: stray bytes after its end");
		goto fail;
	}

	c->info.format = (enum st_format)fmt;
	c->info.version = version;
	s = info;
	uint8_t letter;
	uint64_t t0, t1;
	uint32_t flags;
	TRY(rd_str(&s, &c->info.computer));
	TRY(rd_str(&s, &c->info.windows_version));
	TRY(rd_str(&s, &c->info.winstate_version));
	TRY(rd_u8(&s, &letter));
	TRY(rd_u64(&s, &t0));
	TRY(rd_u64(&s, &t1));
	TRY(rd_u32(&s, &flags));
	TRY(sec_done(&s));
	if (!((letter >= 'A' && letter <= 'Z') || (letter >= 'a' && letter <= 'z'))) {
		st = st_fail(ST_ERR_UNSAFE, "the catalog is refused: its volume letter is not a letter");
		goto fail;
	}
	c->info.volume_letter = (char)letter;
	c->info.start_time = (int64_t)t0;
	c->info.end_time = (int64_t)t1;
	c->info.encrypted = flags & ST_INFO_ENCRYPTED;
	c->info.encoded_names = flags & ST_INFO_ENCODED_NAMES;
	if (flags & ~(uint32_t)(ST_INFO_ENCRYPTED | ST_INFO_ENCODED_NAMES)) {
		st = st_fail(ST_ERR_CORRUPT, "the catalog is damaged: unknown store flags 0x%x", flags);
		goto fail;
	}
	if (c->info.encoded_names && (fmt != ST_FORMAT_DIRECTORY || version < ST_CATALOG_VERSION_NAMES)) {
		st = st_fail(ST_ERR_CORRUPT, "the catalog is damaged: it says names are stored "
			     "encoded, which only a directory store of format version %u has",
			     ST_CATALOG_VERSION_NAMES);
		goto fail;
	}

	s = frames;
	TRY(rd_count(&s, 16, &n));
	if (n && !(c->frames = calloc(n, sizeof(*c->frames)))) {
		st = NOMEM();
		goto fail;
	}
	c->frame_cap = n;
	uint64_t expect_off = data_start;
	for (size_t i = 0; i < n; i++) {
		uint64_t off;
		uint32_t cs, us;
		s.index = i;
		TRY(rd_u64(&s, &off));
		TRY(rd_u32(&s, &cs));
		TRY(rd_u32(&s, &us));
		if (off != expect_off || cs == 0 || us == 0 || us > ST_MAX_FRAME ||
		    cs > ZSTD_COMPRESSBOUND_GUESS(us) || cs > data_limit - off) {
			st = st_fail(ST_ERR_CORRUPT, "the catalog is damaged: frame %zu (at %llu, %u "
				     "bytes) does not fit the store", i, (unsigned long long)off, cs);
			goto fail;
		}
		c->frames[i] = (struct cat_frame){ off, cs, us, c->data_end };
		c->data_end += us;
		c->frame_count++;
		expect_off = off + cs;
	}
	TRY(sec_done(&s));
	if (expect != ST_FORMAT_COMPRESSED ? n != 0 : expect_off != data_limit) {
		st = st_fail(ST_ERR_CORRUPT, "the catalog is damaged: its frames do not cover the "
			     "store's data exactly");
		goto fail;
	}

	s = users;
	s.what = "user";
	TRY(rd_count(&s, 16, &n));
	if (n && !(c->users = calloc(n, sizeof(*c->users)))) {
		st = NOMEM();
		goto fail;
	}
	for (size_t i = 0; i < n; i++) {
		struct st_user *u = &c->users[i];
		uint32_t ne;
		s.index = i;
		TRY(rd_str(&s, &u->sid));
		TRY(rd_str(&s, &u->name));
		TRY(rd_str(&s, &u->profile_path));
		TRY(rd_u32(&s, &ne));
		if (ne > (size_t)(s.end - s.p) / 8) {
			st = st_fail(ST_ERR_CORRUPT, "the catalog is damaged: user %zu claims %u values",
				     i, ne);
			goto fail;
		}
		struct st_kv *kv = arena_alloc(&c->arena, sizeof(*kv) * (ne + 1));
		if (!kv) {
			st = NOMEM();
			goto fail;
		}
		for (uint32_t k = 0; k < ne; k++) {
			TRY(rd_str(&s, &kv[k].key));
			TRY(rd_str(&s, &kv[k].value));
		}
		u->extra = kv;
		u->extra_count = ne;
		c->user_count++;
	}
	TRY(sec_done(&s));

	s = files;
	TRY(parse_files(&s, c, (enum st_format)fmt));
	TRY(check_duplicates(c));

	s = regs;
	s.what = "registry value";
	TRY(rd_count(&s, 20, &n));
	if (n && !(c->regs = calloc(n, sizeof(*c->regs)))) {
		st = NOMEM();
		goto fail;
	}
	for (size_t i = 0; i < n; i++) {
		struct st_reg_value *v = &c->regs[i];
		s.index = i;
		TRY(rd_shared_str(&s, &v->owner));
		TRY(rd_shared_str(&s, &v->key));
		TRY(rd_str(&s, &v->name));
		TRY(rd_u32(&s, &v->type));
		TRY(rd_bytes(&s, &v->data, &v->len));
		TRY(rd_shared_str(&s, &v->decision));
		c->reg_count++;
	}
	TRY(sec_done(&s));

	s = skips;
	s.what = "skipped item";
	TRY(rd_count(&s, 12, &n));
	if (n && !(c->skipped = calloc(n, sizeof(*c->skipped)))) {
		st = NOMEM();
		goto fail;
	}
	for (size_t i = 0; i < n; i++) {
		s.index = i;
		TRY(rd_str(&s, &c->skipped[i].path));
		TRY(rd_shared_str(&s, &c->skipped[i].owner));
		TRY(rd_shared_str(&s, &c->skipped[i].reason));
		c->skipped_count++;
	}
	TRY(sec_done(&s));
	*out = c;
	return ST_OK;
fail:
	catalog_free(c);
	return st;
}
