/*
 * Inodes: what one MFT record says about a file, path lookup, and the walk.
 *
 * Every metadata getter used here is the one behind the ntfs-3g driver's
 * system.ntfs_* extended attributes, so what we report agrees with what a
 * FUSE mount shows (the tests compare the two).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "formats/formats.h"
#include "ntfs/internal.h"

enum nv_status
nv_inode_get(struct nv_volume *v, uint64_t mref, ntfs_inode **out)
{
	struct open_inode *o;

	for (o = v->open_inodes; o; o = o->next) {
		if (o->mref == mref) {
			o->refs++;
			*out = o->ni;
			return NV_OK;
		}
	}
	o = calloc(1, sizeof(*o));
	if (!o)
		return nv_fail(NV_ERR_NOMEM, "out of memory");
	nv_library_message();
	*out = ntfs_inode_open(v->vol, (MFT_REF)mref);
	if (!*out) {
		free(o);
		return nv_fail_errno(errno, "%s: cannot read MFT record %llu", v->path,
				     (unsigned long long)mref);
	}
	o->mref = mref;
	o->ni = *out;
	o->refs = 1;
	o->next = v->open_inodes;
	v->open_inodes = o;
	return NV_OK;
}

int
nv_inode_put(struct nv_volume *v, ntfs_inode *ni, ntfs_inode *dir_ni)
{
	struct open_inode **link, *o;

	for (link = &v->open_inodes; (o = *link); link = &o->next) {
		if (o->ni != ni)
			continue;
		if (--o->refs > 0)
			return 0;
		*link = o->next;
		free(o);
		break;
	}
	return dir_ni ? ntfs_inode_close_in_dir(ni, dir_ni) : ntfs_inode_close(ni);
}

enum nv_status
nv_name_to_ntfs(const char *name, ntfschar **out, int *len)
{
	uint16_t *u;
	long n;

	*out = NULL;
	if (!name || !*name)
		return nv_fail(NV_ERR_NAME, "an empty file name");
	if (!strcmp(name, ".") || !strcmp(name, ".."))
		return nv_fail(NV_ERR_NAME, "\"%s\" cannot be a file name", name);
	if (strpbrk(name, "/\\"))
		return nv_fail(NV_ERR_NAME, "\"%s\": a name cannot contain / or \\", name);
	errno = 0;
	n = fmt_utf8_to_utf16(name, &u);
	if (n < 0 && errno == ENOMEM) /* its only allocation failed: not the name's fault */
		return nv_fail(NV_ERR_NOMEM, "out of memory");
	if (n < 0)
		return nv_fail(NV_ERR_NAME, "\"%s\" is not valid UTF-8", name);
	if (n > 255) {
		free(u);
		return nv_fail(NV_ERR_NAME, "\"%.40s...\" is %ld UTF-16 units long; NTFS allows 255",
			       name, n);
	}
	*out = (ntfschar *)u;
	*len = (int)n;
	return NV_OK;
}

enum nv_status
nv_stream_to_ntfs(const char *stream, ntfschar **out, int *len)
{
	uint16_t *u;
	long n;

	if (!stream || !*stream) {
		*out = AT_UNNAMED;
		*len = 0;
		return NV_OK;
	}
	n = fmt_utf8_to_utf16(stream, &u);
	if (n < 0 || n > 255) {
		if (n >= 0)
			free(u);
		return nv_fail(NV_ERR_NAME, "\"%s\" cannot be a stream name", stream);
	}
	*out = (ntfschar *)u;
	*len = (int)n;
	return NV_OK;
}

void
nv_free_ntfs_name(ntfschar *name)
{
	if (name != AT_UNNAMED)
		free(name);
}

void
nv_inode_free(struct nv_inode *inode)
{
	if (!inode)
		return;
	for (size_t i = 0; i < inode->stream_count; i++)
		free(inode->streams[i].name);
	for (size_t i = 0; i < inode->name_count; i++)
		free(inode->names[i].name);
	free(inode->streams);
	free(inode->names);
	free(inode->security);
	free(inode->reparse);
	free(inode->ea);
	free(inode);
}

static char *
attr_name(ATTR_RECORD *a)
{
	return fmt_utf16_to_utf8((const uint16_t *)((uint8_t *)a + le16_to_cpu(a->name_offset)),
				a->name_length);
}

/* Data streams: the unnamed one gives the size, the named ones are listed. */
static enum nv_status
read_streams(struct nv_volume *v, ntfs_inode *ni, struct nv_inode *info)
{
	ntfs_attr_search_ctx *ctx = ntfs_attr_get_search_ctx(ni, NULL);
	enum nv_status st = NV_OK;

	if (!ctx)
		return nv_fail(NV_ERR_NOMEM, "out of memory");
	while (!ntfs_attr_lookup(AT_DATA, NULL, 0, CASE_SENSITIVE, 0, NULL, 0, ctx)) {
		ATTR_RECORD *a = ctx->attr;
		uint64_t size, allocated;
		/* A large attribute can span several records; its first carries the sizes. */
		if (a->non_resident && sle64_to_cpu(a->lowest_vcn) != 0)
			continue;
		size = (uint64_t)ntfs_get_attribute_value_length(a);
		if (!a->non_resident)
			allocated = 0;
		else if (a->flags & (ATTR_IS_COMPRESSED | ATTR_IS_SPARSE))
			allocated = (uint64_t)sle64_to_cpu(a->compressed_size);
		else
			allocated = (uint64_t)sle64_to_cpu(a->allocated_size);
		if (a->name_length == 0) {
			/* Two unnamed $DATA can be reported; keep the non-empty one. */
			if (size || !info->size) {
				info->size = size;
				info->allocated = allocated;
			}
			continue;
		}
		struct nv_stream *grown = realloc(info->streams,
						  (info->stream_count + 1) * sizeof(*grown));
		if (!grown) {
			st = nv_fail(NV_ERR_NOMEM, "out of memory");
			break;
		}
		info->streams = grown;
		grown[info->stream_count].name = attr_name(a);
		grown[info->stream_count].size = size;
		grown[info->stream_count].allocated = allocated;
		if (!grown[info->stream_count].name) {
			st = nv_fail(NV_ERR_NOMEM, "out of memory");
			break;
		}
		info->stream_count++;
	}
	if (st == NV_OK && errno != ENOENT)
		st = nv_fail_errno(errno, "%s: MFT record %llu: cannot list its data streams",
				   v->path, (unsigned long long)info->mref);
	ntfs_attr_put_search_ctx(ctx);
	return st;
}

/* Every $FILE_NAME but the DOS-only ones: one per hard link. */
static enum nv_status
read_names(struct nv_volume *v, ntfs_inode *ni, struct nv_inode *info)
{
	ntfs_attr_search_ctx *ctx = ntfs_attr_get_search_ctx(ni, NULL);
	enum nv_status st = NV_OK;

	if (!ctx)
		return nv_fail(NV_ERR_NOMEM, "out of memory");
	while (!ntfs_attr_lookup(AT_FILE_NAME, NULL, 0, CASE_SENSITIVE, 0, NULL, 0, ctx)) {
		ATTR_RECORD *a = ctx->attr;
		FILE_NAME_ATTR *fn;
		if (a->non_resident || le32_to_cpu(a->value_length) < sizeof(FILE_NAME_ATTR))
			continue;
		fn = (FILE_NAME_ATTR *)((uint8_t *)a + le16_to_cpu(a->value_offset));
		if (fn->file_name_type == FILE_NAME_DOS)
			continue;
		struct nv_name *grown = realloc(info->names, (info->name_count + 1) * sizeof(*grown));
		if (!grown) {
			st = nv_fail(NV_ERR_NOMEM, "out of memory");
			break;
		}
		info->names = grown;
		grown[info->name_count].parent = MREF_LE(fn->parent_directory);
		grown[info->name_count].name_space = fn->file_name_type;
		uint16_t units[256];
		memcpy(units, (const uint8_t *)fn + offsetof(FILE_NAME_ATTR, file_name),
		       (size_t)fn->file_name_length * 2);
		grown[info->name_count].name = fmt_utf16_to_utf8(units, fn->file_name_length);
		if (!grown[info->name_count].name) {
			st = nv_fail(NV_ERR_NOMEM, "out of memory");
			break;
		}
		info->name_count++;
	}
	if (st == NV_OK && errno != ENOENT)
		st = nv_fail_errno(errno, "%s: MFT record %llu: cannot list its names", v->path,
				   (unsigned long long)info->mref);
	ntfs_attr_put_search_ctx(ctx);
	return st;
}

/* Calls a getxattr-like libntfs-3g getter: ask for the size, then the data. */
static enum nv_status
read_blob(struct nv_volume *v, uint64_t mref, const char *what,
	  int (*get)(void *ctx, ntfs_inode *ni, char *buf, size_t size), void *ctx, ntfs_inode *ni,
	  uint8_t **out, size_t *len)
{
	int need = get(ctx, ni, NULL, 0);
	*out = NULL;
	*len = 0;
	if (need < 0)
		return errno == ENODATA ? NV_OK
					: nv_fail_errno(errno, "%s: MFT record %llu: cannot read its %s",
							v->path, (unsigned long long)mref, what);
	if (need == 0)
		return NV_OK;
	*out = malloc((size_t)need);
	if (!*out)
		return nv_fail(NV_ERR_NOMEM, "out of memory");
	int got = get(ctx, ni, (char *)*out, (size_t)need);
	if (got < 0 || got > need) {
		free(*out);
		*out = NULL;
		return nv_fail_errno(got < 0 ? errno : EIO, "%s: MFT record %llu: cannot read its %s",
				     v->path, (unsigned long long)mref, what);
	}
	*len = (size_t)got;
	return NV_OK;
}

static int
get_acl(void *ctx, ntfs_inode *ni, char *buf, size_t size)
{
	return ntfs_get_ntfs_acl(ctx, ni, buf, size);
}

/* ---- security descriptors by id (struct nv_volume's sd_cache) ---- */

#define SD_CACHE_SLOTS 1024u            /* a power of two */
#define SD_CACHE_BYTES (4u << 20)       /* past this, new ids are not kept */

struct sd_cache {
	struct sd_entry {
		uint32_t id;            /* 0: empty */
		uint32_t len;
		uint8_t *sd;
	} slot[SD_CACHE_SLOTS];
	size_t count, bytes;
};

static struct sd_entry *
sd_cache_slot(struct sd_cache *c, uint32_t id)
{
	for (uint32_t i = 0, h = id * 2654435761u; i < SD_CACHE_SLOTS; i++, h++) {
		struct sd_entry *e = &c->slot[h & (SD_CACHE_SLOTS - 1)];
		if (e->id == id || e->id == 0)
			return e;
	}
	return NULL;
}

void
nv_sd_cache_free(struct nv_volume *v)
{
	if (!v->sd_cache)
		return;
	for (size_t i = 0; i < SD_CACHE_SLOTS; i++)
		free(v->sd_cache->slot[i].sd);
	free(v->sd_cache);
	v->sd_cache = NULL;
}

/* @ni's security descriptor, from the cache when its id was read before. */
static enum nv_status
read_security(struct nv_volume *v, uint64_t mref, ntfs_inode *ni, uint8_t **out, size_t *len)
{
	struct SECURITY_CONTEXT scx;
	/* libntfs-3g takes the descriptor from $Secure only in this case; older
	 * volumes keep one in each file, which is not shared. */
	uint32_t id = test_nino_flag(ni, v3_Extensions) && v->vol->secure_ni
			      ? le32_to_cpu(ni->security_id) : 0;
	struct sd_entry *e = NULL;

	if (id && !v->sd_cache)
		v->sd_cache = calloc(1, sizeof(*v->sd_cache));
	if (id && v->sd_cache)
		e = sd_cache_slot(v->sd_cache, id);
	if (e && e->id == id) {
		*out = malloc(e->len);
		if (!*out)
			return nv_fail(NV_ERR_NOMEM, "out of memory");
		memcpy(*out, e->sd, e->len);
		*len = e->len;
		return NV_OK;
	}
	memset(&scx, 0, sizeof(scx));
	scx.vol = v->vol;
	enum nv_status st = read_blob(v, mref, "security descriptor", get_acl, &scx, ni, out, len);
	if (st != NV_OK || !e || !*out || v->sd_cache->bytes + *len > SD_CACHE_BYTES ||
	    v->sd_cache->count + 1 >= SD_CACHE_SLOTS / 2)
		return st;
	e->sd = malloc(*len);
	if (!e->sd)
		return NV_OK; /* not kept; the caller has its copy */
	memcpy(e->sd, *out, *len);
	e->id = id;
	e->len = (uint32_t)*len;
	v->sd_cache->count++;
	v->sd_cache->bytes += *len;
	return NV_OK;
}

static int
get_reparse(void *ctx, ntfs_inode *ni, char *buf, size_t size)
{
	(void)ctx;
	return ntfs_get_ntfs_reparse_data(ni, buf, size);
}

static unsigned
kind_of(const struct nv_inode *info, bool is_dir, bool has_efs)
{
	unsigned kind = 0;
	uint32_t a = info->attributes;

	if (is_dir)
		kind |= NV_IS_DIR;
	if (a & NV_ATTR_SPARSE)
		kind |= NV_IS_SPARSE;
	if (a & NV_ATTR_COMPRESSED)
		kind |= NV_IS_COMPRESSED;
	if ((a & NV_ATTR_ENCRYPTED) || has_efs)
		kind |= NV_IS_ENCRYPTED;
	if (info->reparse_tag) {
		kind |= NV_IS_REPARSE;
		if (info->reparse_tag == NV_TAG_MOUNT_POINT)
			kind |= NV_IS_JUNCTION;
		else if (info->reparse_tag == NV_TAG_SYMLINK)
			kind |= NV_IS_SYMLINK;
		else if (info->reparse_tag == NV_TAG_WOF)
			kind |= NV_IS_WOF;
		else if (NV_TAG_IS_CLOUD(info->reparse_tag)) {
			kind |= NV_IS_CLOUD;
			/* OneDrive marks a dehydrated placeholder with these; a hydrated
			 * file keeps its reparse point but not the attributes. */
			if (a & (NV_ATTR_OFFLINE | NV_ATTR_RECALL_ON_DATA_ACCESS | NV_ATTR_RECALL_ON_OPEN))
				kind |= NV_IS_DEHYDRATED;
			/* The sync root carries the stream OneDrive names its root by. */
			static const char identity[] = ".SyncRootIdentity";
			for (size_t i = 0; is_dir && i < info->stream_count; i++) {
				size_t n = strlen(info->streams[i].name);
				if (n >= sizeof(identity) - 1 &&
				    !strcasecmp(info->streams[i].name + n - (sizeof(identity) - 1), identity))
					kind |= NV_IS_SYNC_ROOT;
			}
		}
	}
	return kind;
}

enum nv_status
nv_stat(struct nv_volume *v, uint64_t mref, struct nv_inode **out)
{
	struct nv_inode *info = calloc(1, sizeof(*info));
	enum nv_status st;
	ntfs_inode *ni;
	le32 attrib;

	*out = NULL;
	if (!info)
		return nv_fail(NV_ERR_NOMEM, "out of memory");
	st = nv_inode_get(v, mref, &ni);
	if (st != NV_OK) {
		free(info);
		return st;
	}
	info->mref = mref;
	info->sequence = le16_to_cpu(ni->mrec->sequence_number);
	if (ntfs_get_ntfs_attrib(ni, (char *)&attrib, sizeof(attrib)) == (int)sizeof(attrib))
		info->attributes = le32_to_cpu(attrib);
	info->times[NV_TIME_CREATION] = (uint64_t)sle64_to_cpu(ni->creation_time);
	info->times[NV_TIME_WRITE] = (uint64_t)sle64_to_cpu(ni->last_data_change_time);
	info->times[NV_TIME_ACCESS] = (uint64_t)sle64_to_cpu(ni->last_access_time);
	info->times[NV_TIME_CHANGE] = (uint64_t)sle64_to_cpu(ni->last_mft_change_time);
	st = read_streams(v, ni, info);
	if (st == NV_OK)
		st = read_names(v, ni, info);
	if (st == NV_OK)
		st = read_security(v, mref, ni, &info->security, &info->security_len);
	if (st == NV_OK && (info->attributes & NV_ATTR_REPARSE_POINT)) {
		st = read_blob(v, mref, "reparse point", get_reparse, NULL, ni, &info->reparse,
			       &info->reparse_len);
		if (st == NV_OK && info->reparse_len >= 4)
			info->reparse_tag = fmt_le32(info->reparse);
	}
	if (st == NV_OK)
		st = nv_read_ea(v, mref, ni, &info->ea, &info->ea_len);
	if (st == NV_OK) {
		static ntfschar efs_name[] = { const_cpu_to_le16('$'), const_cpu_to_le16('E'),
					       const_cpu_to_le16('F'), const_cpu_to_le16('S'), 0 };
		bool has_efs = ntfs_attr_exist(ni, AT_LOGGED_UTILITY_STREAM, efs_name, 4);
		bool is_dir = (ni->mrec->flags & MFT_RECORD_IS_DIRECTORY) != 0;
		info->kind = kind_of(info, is_dir, has_efs);
		if (is_dir)
			info->size = info->allocated = 0;
	}
	nv_inode_put(v, ni, NULL);
	if (st != NV_OK) {
		nv_inode_free(info);
		return st;
	}
	*out = info;
	return NV_OK;
}

/* ---- folder name caches (see struct folder_names) ---- */

#define MAX_FOLDER_CACHES 64

static uint32_t
upcased_hash(ntfs_volume *vol, const ntfschar *name, int len, ntfschar *up)
{
	uint32_t h = 2166136261u;
	for (int i = 0; i < len; i++) {
		u16 c = le16_to_cpu(name[i]);
		if (c < vol->upcase_len)
			c = le16_to_cpu(vol->upcase[c]);
		if (up)
			up[i] = cpu_to_le16(c);
		h = (h ^ c) * 16777619u;
	}
	return h;
}

static struct folder_names *
folder_names_of(struct nv_volume *v, uint64_t dir)
{
	for (struct folder_names *f = v->folders; f; f = f->next)
		if (f->dir == dir)
			return f;
	return NULL;
}

static struct folder_name *
folder_slot(struct folder_names *f, const ntfschar *up, int len, uint32_t hash)
{
	for (size_t i = hash & (f->cap - 1);; i = (i + 1) & (f->cap - 1)) {
		struct folder_name *s = &f->slots[i];
		if (!s->up || (s->hash == hash && s->len == len && !memcmp(s->up, up, 2 * (size_t)len)))
			return s;
	}
}

/* Returns false when out of memory (the caller then forgets the folder). */
static bool
folder_insert(ntfs_volume *vol, struct folder_names *f, const ntfschar *name, int len, u64 mref)
{
	if (2 * (f->count + 1) > f->cap) {
		size_t cap = f->cap ? 2 * f->cap : 64;
		struct folder_name *old = f->slots, *grown = calloc(cap, sizeof(*grown));
		if (!grown)
			return false;
		size_t old_cap = f->cap;
		f->slots = grown;
		f->cap = cap;
		for (size_t i = 0; i < old_cap; i++)
			if (old[i].up)
				*folder_slot(f, old[i].up, old[i].len, old[i].hash) = old[i];
		free(old);
	}
	ntfschar *up = malloc(2 * (size_t)(len ? len : 1));
	if (!up)
		return false;
	uint32_t hash = upcased_hash(vol, name, len, up);
	struct folder_name *s = folder_slot(f, up, len, hash);
	if (s->up) {
		free(up);
		if (s->mref == mref && s->len == len && !f->listed_twice) {
			/* The same record under the same name again: an index split a
			 * kill left half-done (the block written, the root not yet). */
			f->listed_twice = fmt_utf16_to_utf8((const uint16_t *)name, (size_t)len);
			return f->listed_twice != NULL;
		}
		/* Two names equal but for case (ntfs-3g's POSIX names allow it): the
		 * first stays, and a lookup tries the exact spelling first. */
		s->ambiguous = true;
		return true;
	}
	*s = (struct folder_name){ up, len, hash, false, mref };
	f->count++;
	return true;
}

static void
folder_free(struct folder_names *f)
{
	for (size_t i = 0; i < f->cap; i++)
		free(f->slots[i].up);
	free(f->slots);
	free(f->listed_twice);
	free(f);
}

void
nv_folder_names_forget(struct nv_volume *v, uint64_t dir)
{
	for (struct folder_names **link = &v->folders, *f; (f = *link); link = &f->next)
		if (f->dir == dir) {
			*link = f->next;
			folder_free(f);
			return;
		}
}

void
nv_folder_names_add(struct nv_volume *v, uint64_t dir, const ntfschar *name, int len, u64 mref)
{
	struct folder_names *f = folder_names_of(v, dir);
	if (f && !folder_insert(v->vol, f, name, len, mref))
		nv_folder_names_forget(v, dir);
}

void
nv_folder_names_free(struct nv_volume *v)
{
	while (v->folders) {
		struct folder_names *f = v->folders;
		v->folders = f->next;
		folder_free(f);
	}
}

struct fold_scan {
	ntfs_volume *vol;
	struct folder_names *names; /* being filled; NULL once out of memory */
	const ntfschar *name;
	int len;
	u64 found;
};

static int
fold_collect(void *ctx, const ntfschar *name, const int name_len, const int name_type,
	     const s64 pos, const MFT_REF mref, const unsigned dt_type)
{
	struct fold_scan *f = ctx;
	(void)pos;
	(void)dt_type;
	if (name_type == FILE_NAME_DOS)
		return 0;
	if (f->found == (u64)-1 && name_len == f->len &&
	    ntfs_names_are_equal(name, (size_t)name_len, f->name, (size_t)f->len, IGNORE_CASE,
				 f->vol->upcase, f->vol->upcase_len))
		f->found = mref;
	if (f->names && !folder_insert(f->vol, f->names, name, name_len, mref)) {
		folder_free(f->names);
		f->names = NULL;
	}
	return 0;
}

/*
 * ntfs_readdir opens every SYSTEM-attributed (and reparse) entry of a folder
 * itself, to tell Interix file types, and closes it into libntfs-3g's cache of
 * closed inodes.  For a record we hold open (open_inodes, nv_hold) that is a
 * second copy, read before our changes reach the disk: left in the cache, it
 * makes our own close find the slot taken (our inode is then never freed: ASan
 * saw it), and the next open would get the stale copy and write it back over
 * our changes.  So every listing ends by dropping cached copies of held records.
 */
static int
list_folder(struct nv_volume *v, ntfs_inode *dir, void *ctx, ntfs_filldir_t fill)
{
	s64 pos = 0;
	int ret = ntfs_readdir(dir, &pos, ctx, fill);
	int err = errno;
	for (struct open_inode *o = v->open_inodes; o; o = o->next)
		ntfs_inode_invalidate(v->vol, o->mref);
	errno = err;
	return ret;
}

/* Read every name of @dir into its cache; the record of @name (case
 * folded) when given, else (u64)-1 with errno ENOENT. */
static u64
folder_scan(struct nv_volume *v, ntfs_inode *dir, const ntfschar *name, int len)
{
	struct fold_scan f = { .vol = v->vol, .name = name, .len = name ? len : -1, .found = (u64)-1 };
	f.names = calloc(1, sizeof(*f.names));
	if (f.names)
		f.names->dir = dir->mft_no;
	if (list_folder(v, dir, &f, fold_collect) != 0) {
		if (f.names)
			folder_free(f.names);
		return (u64)-1;
	}
	if (f.names && f.names->listed_twice) {
		/* Not cached, and every lookup in it fails: names in such a folder
		 * are not to be trusted (nor written beside) until chkdsk. */
		nv_fail(NV_ERR_IO, "%s: folder (MFT record %llu) cannot be read: its index lists "
			"\"%s\" twice (an interrupted write left it half-updated; chkdsk /f repairs "
			"it)", v->path, (unsigned long long)dir->mft_no, f.names->listed_twice);
		folder_free(f.names);
		errno = EUCLEAN;
		return (u64)-1;
	}
	if (f.names) {
		f.names->next = v->folders;
		v->folders = f.names;
		/* Memory stays bounded on huge restores: the oldest folders go. */
		size_t n = 0;
		for (struct folder_names **link = &v->folders; *link; link = &(*link)->next)
			if (++n == MAX_FOLDER_CACHES) {
				while (*link) {
					struct folder_names *old = *link;
					*link = old->next;
					folder_free(old);
				}
				break;
			}
	}
	if (f.found == (u64)-1)
		errno = ENOENT;
	return f.found;
}

u64
nv_find_child(struct nv_volume *v, ntfs_inode *dir, const ntfschar *name, int len)
{
	/* Names Windows wrote (Win32 namespace) match case-insensitively in the
	 * index; POSIX-namespace names (written by ntfs-3g) only exactly, but
	 * Windows opens them case-insensitively too, and so must we.  A folder
	 * scanned once answers later lookups from its name cache. */
	struct folder_names *cached = folder_names_of(v, dir->mft_no);
	if (cached) {
		ntfschar *up = malloc(2 * (size_t)(len ? len : 1));
		if (up) {
			uint32_t hash = upcased_hash(v->vol, name, len, up);
			struct folder_name *s = folder_slot(cached, up, len, hash);
			free(up);
			if (!s->up)
				errno = ENOENT;
			if (!s->up || !s->ambiguous)
				return s->up ? s->mref : (u64)-1;
			u64 exact = ntfs_inode_lookup_by_name(dir, name, len);
			return exact != (u64)-1 ? exact : s->mref;
		}
	}
	u64 found = ntfs_inode_lookup_by_name(dir, name, len);
	if (found != (u64)-1)
		return found;
	return folder_scan(v, dir, name, len);
}

enum nv_status
nv_lookup(struct nv_volume *v, const char *path, uint64_t *mref)
{
	char *copy = strdup(path ? path : "");
	char *save = NULL, *part;
	uint64_t current = FILE_root;
	enum nv_status st = NV_OK;

	if (!copy)
		return nv_fail(NV_ERR_NOMEM, "out of memory");
	for (part = strtok_r(copy, "/\\", &save); part; part = strtok_r(NULL, "/\\", &save)) {
		ntfs_inode *dir;
		ntfschar *uname;
		int ulen;
		u64 found;

		if (!strcmp(part, "."))
			continue;
		st = nv_name_to_ntfs(part, &uname, &ulen);
		if (st != NV_OK)
			break;
		st = nv_inode_get(v, current, &dir);
		if (st != NV_OK) {
			free(uname);
			break;
		}
		if (!(dir->mrec->flags & MFT_RECORD_IS_DIRECTORY)) {
			nv_inode_put(v, dir, NULL);
			free(uname);
			st = nv_fail(NV_ERR_NOT_DIR, "%s: a component of \"%s\" is a file, not a folder",
				     v->path, path);
			break;
		}
		errno = 0;
		found = nv_find_child(v, dir, uname, ulen);
		nv_inode_put(v, dir, NULL);
		free(uname);
		if (found == (u64)-1 && errno == EUCLEAN) {
			st = NV_ERR_IO; /* a damaged index: said by folder_scan */
			break;
		}
		if (found == (u64)-1) {
			st = errno == ENOENT || errno == 0
				     ? nv_fail(NV_ERR_NOT_FOUND, "%s: \"%s\" does not exist on the volume",
					       v->path, path)
				     : nv_fail_errno(errno, "%s: cannot look up \"%s\"", v->path, path);
			break;
		}
		current = MREF(found);
	}
	free(copy);
	if (st == NV_OK)
		*mref = current;
	return st;
}

enum nv_status
nv_reparse_target(const struct nv_inode *inode, char **target)
{
	const uint8_t *r = inode->reparse;
	size_t header, sub_off, sub_len, print_off, print_len, len = inode->reparse_len;

	*target = NULL;
	if (inode->reparse_tag != NV_TAG_MOUNT_POINT && inode->reparse_tag != NV_TAG_SYMLINK)
		return nv_fail(NV_ERR_INVALID, "not a junction or symbolic link");
	header = inode->reparse_tag == NV_TAG_SYMLINK ? 20 : 16;
	if (len < header)
		return nv_fail(NV_ERR_CORRUPT, "the reparse point is too short (%zu bytes)", len);
	sub_off = fmt_le16(r + 8);
	sub_len = fmt_le16(r + 10);
	print_off = fmt_le16(r + 12);
	print_len = fmt_le16(r + 14);
	if (print_len == 0) {
		print_off = sub_off;
		print_len = sub_len;
	}
	if ((print_off | print_len) & 1 || header + print_off + print_len > len)
		return nv_fail(NV_ERR_CORRUPT, "the reparse point's target lies outside its buffer");
	uint16_t *units = malloc(print_len ? print_len : 1);
	if (!units)
		return nv_fail(NV_ERR_NOMEM, "out of memory");
	memcpy(units, r + header + print_off, print_len);
	*target = fmt_utf16_to_utf8(units, print_len / 2);
	free(units);
	return *target ? NV_OK : nv_fail(NV_ERR_NOMEM, "out of memory");
}

/* ------------------------------------------------------------------ walk -- */

struct dirent_rec {
	char *name;
	uint64_t mref;
};

struct dir_list {
	struct dirent_rec *items;
	size_t count, cap;
	bool failed;
};

static int
collect(void *dirent, const ntfschar *name, const int name_len, const int name_type,
	const s64 pos, const MFT_REF mref, const unsigned dt_type)
{
	struct dir_list *list = dirent;
	(void)pos;
	(void)dt_type;
	if (name_type == FILE_NAME_DOS)
		return 0;
	if (MREF(mref) < FILE_first_user)
		return 0; /* NTFS's own $MFT, $Extend, ... */
	if (name_len <= 2 && le16_to_cpu(name[0]) == '.' &&
	    (name_len == 1 || le16_to_cpu(name[1]) == '.'))
		return 0;
	if (list->count == list->cap) {
		size_t cap = list->cap ? list->cap * 2 : 32;
		struct dirent_rec *grown = realloc(list->items, cap * sizeof(*grown));
		if (!grown) {
			list->failed = true;
			return -1;
		}
		list->items = grown;
		list->cap = cap;
	}
	list->items[list->count].name = fmt_utf16_to_utf8((const uint16_t *)name, (size_t)name_len);
	if (!list->items[list->count].name) {
		list->failed = true;
		return -1;
	}
	list->items[list->count++].mref = MREF(mref);
	return 0;
}

static void
free_list(struct dir_list *list)
{
	for (size_t i = 0; i < list->count; i++)
		free(list->items[i].name);
	free(list->items);
}

struct walk {
	struct nv_volume *v;
	nv_walk_fn fn;
	void *ctx;
	char *path;
	size_t path_cap;
	uint64_t stack[256];  /* folders being walked, to refuse a cycle */
};

static enum nv_status
read_dir(struct nv_volume *v, uint64_t mref, struct dir_list *list)
{
	ntfs_inode *dir;
	enum nv_status st = nv_inode_get(v, mref, &dir);
	int ret;

	if (st != NV_OK)
		return st;
	ret = list_folder(v, dir, list, collect);
	int err = errno;
	nv_inode_put(v, dir, NULL);
	if (list->failed)
		return nv_fail(NV_ERR_NOMEM, "out of memory");
	if (ret)
		return nv_fail_errno(err, "%s: cannot list folder (MFT record %llu)", v->path,
				     (unsigned long long)mref);
	return NV_OK;
}

static int report_error(struct walk *w, const char *name, uint64_t parent, uint64_t mref,
			unsigned depth, enum nv_status st)
{
	struct nv_entry e = { .path = w->path, .name = name, .parent = parent, .depth = depth,
			      .mref = mref, .status = st, .error = nv_last_error() };
	return w->fn(&e, w->ctx);
}

static int
walk_dir(struct walk *w, uint64_t dir_mref, size_t prefix_len, unsigned depth)
{
	struct dir_list list = { 0 };
	enum nv_status st;
	int ret = NV_WALK_CONTINUE;

	if (depth >= sizeof(w->stack) / sizeof(w->stack[0])) {
		nv_fail(NV_ERR_CORRUPT, "%s: folders nested more than %zu deep at \"%s\"", w->v->path,
			sizeof(w->stack) / sizeof(w->stack[0]), w->path);
		return report_error(w, "", dir_mref, dir_mref, depth, NV_ERR_CORRUPT) == NV_WALK_STOP
			       ? NV_WALK_STOP : NV_WALK_CONTINUE;
	}
	w->stack[depth] = dir_mref;
	st = read_dir(w->v, dir_mref, &list);
	if (st != NV_OK) {
		free_list(&list);
		ret = report_error(w, "", dir_mref, dir_mref, depth, st);
		return ret == NV_WALK_SKIP ? NV_WALK_CONTINUE : ret;
	}
	for (size_t i = 0; i < list.count && ret != NV_WALK_STOP; i++) {
		struct dirent_rec *d = &list.items[i];
		size_t name_len = strlen(d->name);
		size_t need = prefix_len + 1 + name_len + 1;
		struct nv_inode *inode = NULL;
		int verdict;

		if (need > w->path_cap) {
			size_t cap = need * 2;
			char *grown = realloc(w->path, cap);
			if (!grown) {
				ret = NV_WALK_STOP;
				nv_fail(NV_ERR_NOMEM, "out of memory");
				break;
			}
			w->path = grown;
			w->path_cap = cap;
		}
		size_t len = prefix_len;
		if (len)
			w->path[len++] = '/';
		memcpy(w->path + len, d->name, name_len + 1);
		st = nv_stat(w->v, d->mref, &inode);
		if (st != NV_OK) {
			verdict = report_error(w, w->path + len, dir_mref, d->mref, depth, st);
			if (verdict == NV_WALK_STOP)
				ret = NV_WALK_STOP;
			w->path[prefix_len] = '\0';
			continue;
		}
		struct nv_entry e = { .path = w->path, .name = w->path + len, .parent = dir_mref,
				      .depth = depth, .mref = d->mref, .inode = inode };
		verdict = w->fn(&e, w->ctx);
		if (verdict != NV_WALK_CONTINUE && verdict != NV_WALK_SKIP)
			ret = NV_WALK_STOP;
		/* A cloud folder (OneDrive Files On-Demand) holds the user's files
		 * under a sync-root tag and is entered; every other reparse point
		 * (junction, symlink, unknown tag) is reported, never followed. */
		bool descend = verdict == NV_WALK_CONTINUE && (inode->kind & NV_IS_DIR) &&
			       (!(inode->kind & NV_IS_REPARSE) || (inode->kind & NV_IS_CLOUD));
		nv_inode_free(inode);
		for (unsigned k = 0; descend && k <= depth; k++)
			if (w->stack[k] == d->mref)
				descend = false; /* a folder inside itself: damaged volume */
		if (descend && ret != NV_WALK_STOP)
			ret = walk_dir(w, d->mref, len + name_len, depth + 1);
		w->path[prefix_len] = '\0';
	}
	free_list(&list);
	return ret;
}

enum nv_status
nv_walk(struct nv_volume *v, const char *start, nv_walk_fn fn, void *ctx)
{
	struct walk w = { .v = v, .fn = fn, .ctx = ctx };
	uint64_t mref;
	enum nv_status st = nv_lookup(v, start, &mref);

	if (st != NV_OK)
		return st;
	w.path_cap = 4096;
	w.path = malloc(w.path_cap);
	if (!w.path)
		return nv_fail(NV_ERR_NOMEM, "out of memory");
	w.path[0] = '\0';
	walk_dir(&w, mref, 0, 0);
	free(w.path);
	return NV_OK;
}

enum nv_status
nv_hold(struct nv_volume *v, uint64_t mref)
{
	ntfs_inode *ni;
	return nv_inode_get(v, mref, &ni);
}

enum nv_status
nv_release(struct nv_volume *v, uint64_t mref)
{
	for (struct open_inode *o = v->open_inodes; o; o = o->next)
		if (o->mref == mref)
			return nv_inode_put(v, o->ni, NULL) == 0
				       ? NV_OK
				       : nv_fail_errno(errno, "%s: writing back MFT record %llu failed",
						       v->path, (unsigned long long)mref);
	return nv_fail(NV_ERR_INVALID, "MFT record %llu is not held", (unsigned long long)mref);
}

enum nv_status
nv_lookup_in(struct nv_volume *v, uint64_t parent, const char *name, uint64_t *mref)
{
	ntfschar *uname;
	int ulen;
	ntfs_inode *dir;
	enum nv_status st = nv_name_to_ntfs(name, &uname, &ulen);

	if (st != NV_OK)
		return st;
	st = nv_inode_get(v, parent, &dir);
	if (st != NV_OK) {
		free(uname);
		return st;
	}
	if (!(dir->mrec->flags & MFT_RECORD_IS_DIRECTORY)) {
		st = nv_fail(NV_ERR_NOT_DIR, "%s: MFT record %llu is a file, not a folder", v->path,
			     (unsigned long long)parent);
	} else {
		/* Names of one folder are looked up one after the other: its names
		 * are read once into the cache, and each lookup is a hash lookup. */
		errno = 0;
		u64 found = 0;
		if (!folder_names_of(v, parent) && folder_scan(v, dir, NULL, 0) == (u64)-1 &&
		    errno == EUCLEAN)
			found = (u64)-1; /* the folder's index is damaged: said by folder_scan */
		else
			found = nv_find_child(v, dir, uname, ulen);
		if (errno == EUCLEAN)
			st = NV_ERR_IO;
		else if (found != (u64)-1)
			*mref = MREF(found);
		else
			st = errno == ENOENT || errno == 0
				     ? nv_fail(NV_ERR_NOT_FOUND, "%s: \"%s\" does not exist in that folder",
					       v->path, name)
				     : nv_fail_errno(errno, "%s: cannot look up \"%s\"", v->path, name);
	}
	nv_inode_put(v, dir, NULL);
	free(uname);
	return st;
}
