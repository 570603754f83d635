/*
 * Opening and closing NTFS volumes.
 *
 * libntfs-3g opens devices by name and only at offset 0, so we hand it a
 * device of our own (struct ntfs_device_operations) that reads and writes a
 * window [offset, offset+size) of an image or block device: one code path for
 * bare volumes and for partitions of whole disks, and the natural place for
 * I/O checks.  Before mounting we read the boot sector ourselves, because
 * "BitLocker", "blank" and "truncated" deserve better words than EINVAL.
 */
#include <fcntl.h>
#include <linux/fs.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "ntfs/internal.h"

/* A small read cache in front of the device.  libntfs-3g has none of its own:
 * it reads an MFT record (1 KiB) or an index block (4 KiB) with one system
 * call each time it needs one, and a capture needs the same few index blocks
 * and neighbouring records over and over.  The cache is write-through (every
 * write reaches the disk at once, in libntfs-3g's order, and updates the
 * cached copy), so it changes nothing about what is on the disk or when.
 * Reads larger than a line (file data) bypass it.  libntfs-3g is single-
 * threaded per volume, so no lock is needed. */
#define CACHE_LINE  (8u << 10)
#define CACHE_SETS  256u
#define CACHE_WAYS  4u

struct cache_line {
	uint64_t line;     /* byte offset / CACHE_LINE */
	uint64_t used;     /* LRU clock */
	uint32_t len;      /* valid bytes (short only at the end of the window) */
	bool valid;
	uint8_t *data;
};

struct window {
	int fd;
	uint64_t offset, size;
	int64_t pos;
	bool read_only;
	int write_errno;   /* the first failed write: libntfs-3g drops some (index blocks) */
	struct cache_line *cache; /* CACHE_SETS * CACHE_WAYS, NULL: no cache */
	uint8_t *cache_data;
	uint64_t clock;
};

static int
part_open(struct ntfs_device *dev, int flags)
{
	struct window *w = dev->d_private;
	if ((flags & O_ACCMODE) != O_RDONLY && w->read_only) {
		errno = EROFS;
		return -1;
	}
	if ((flags & O_ACCMODE) == O_RDONLY)
		NDevSetReadOnly(dev);
	NDevSetOpen(dev);
	return 0;
}

static int
part_close(struct ntfs_device *dev)
{
	struct window *w = dev->d_private;
	if (!NDevReadOnly(dev) && fsync(w->fd) < 0)
		return -1;
	NDevClearOpen(dev);
	return 0;
}

static s64
part_seek(struct ntfs_device *dev, s64 offset, int whence)
{
	struct window *w = dev->d_private;
	int64_t base = whence == SEEK_SET ? 0 : whence == SEEK_CUR ? w->pos : (int64_t)w->size;
	if (base + offset < 0) {
		errno = EINVAL;
		return -1;
	}
	w->pos = base + offset;
	return w->pos;
}

/* Read [offset, offset+count) of the window from the device, retrying short
 * reads; returns the bytes read (fewer only at an error or end of file). */
static s64
device_read(struct window *w, void *buf, s64 count, s64 offset)
{
	s64 done = 0;
	while (done < count) {
		ssize_t n = pread(w->fd, (char *)buf + done, (size_t)(count - done),
				  (off_t)(w->offset + (uint64_t)offset + (uint64_t)done));
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return done ? done : -1;
		}
		if (n == 0)
			break;
		done += n;
	}
	return done;
}

static bool
readcache_init(struct window *w)
{
	w->cache = calloc(CACHE_SETS * CACHE_WAYS, sizeof(*w->cache));
	w->cache_data = malloc((size_t)CACHE_SETS * CACHE_WAYS * CACHE_LINE);
	if (!w->cache || !w->cache_data) {
		free(w->cache);
		free(w->cache_data);
		w->cache = NULL;
		w->cache_data = NULL;
		return false;
	}
	for (unsigned i = 0; i < CACHE_SETS * CACHE_WAYS; i++)
		w->cache[i].data = w->cache_data + (size_t)i * CACHE_LINE;
	return true;
}

static void
readcache_free(struct window *w)
{
	free(w->cache);
	free(w->cache_data);
	w->cache = NULL;
	w->cache_data = NULL;
}

static struct cache_line *
readcache_find(struct window *w, uint64_t line)
{
	struct cache_line *set = w->cache + (line % CACHE_SETS) * CACHE_WAYS;
	for (unsigned i = 0; i < CACHE_WAYS; i++)
		if (set[i].valid && set[i].line == line)
			return &set[i];
	return NULL;
}

/* The cached copy of @line, read from the device on a miss; NULL when the
 * read failed (errno set; nothing is cached). */
static struct cache_line *
readcache_get(struct window *w, uint64_t line)
{
	struct cache_line *c = readcache_find(w, line);
	if (!c) {
		struct cache_line *set = w->cache + (line % CACHE_SETS) * CACHE_WAYS;
		c = &set[0];
		for (unsigned i = 1; i < CACHE_WAYS && c->valid; i++)
			if (!set[i].valid || set[i].used < c->used)
				c = &set[i];
		uint64_t start = line * CACHE_LINE;
		s64 want = (s64)(w->size - start < CACHE_LINE ? w->size - start : CACHE_LINE);
		c->valid = false;
		s64 got = device_read(w, c->data, want, (s64)start);
		if (got != want) {
			if (got >= 0)
				errno = EIO;
			return NULL;
		}
		c->line = line;
		c->len = (uint32_t)want;
		c->valid = true;
	}
	c->used = ++w->clock;
	return c;
}

static s64
part_pread(struct ntfs_device *dev, void *buf, s64 count, s64 offset)
{
	struct window *w = dev->d_private;

	if (offset < 0 || count < 0) {
		errno = EINVAL;
		return -1;
	}
	if ((uint64_t)offset >= w->size)
		return 0;
	if ((uint64_t)count > w->size - (uint64_t)offset)
		count = (s64)(w->size - (uint64_t)offset);
	if (!w->cache || count > (s64)CACHE_LINE)
		return device_read(w, buf, count, offset);
	s64 done = 0;
	while (done < count) {
		uint64_t at = (uint64_t)(offset + done);
		struct cache_line *c = readcache_get(w, at / CACHE_LINE);
		if (!c)
			return done ? done : -1;
		uint32_t in = (uint32_t)(at % CACHE_LINE);
		s64 n = c->len - in < (uint64_t)(count - done) ? (s64)(c->len - in) : count - done;
		memcpy((char *)buf + done, c->data + in, (size_t)n);
		done += n;
	}
	return done;
}

/* Keep cached copies equal to the disk after a write of @count bytes at
 * @offset (@written of them landed). */
static void
readcache_update(struct window *w, const void *buf, s64 count, s64 written, s64 offset)
{
	uint64_t first = (uint64_t)offset / CACHE_LINE, last = (uint64_t)(offset + count - 1) / CACHE_LINE;
	for (uint64_t line = first; count > 0 && line <= last; line++) {
		struct cache_line *c = readcache_find(w, line);
		if (!c)
			continue;
		uint64_t lstart = line * CACHE_LINE;
		uint64_t from = (uint64_t)offset > lstart ? (uint64_t)offset : lstart;
		uint64_t to = (uint64_t)(offset + count) < lstart + c->len ? (uint64_t)(offset + count)
								     : lstart + c->len;
		if ((uint64_t)(offset + written) < to) {
			/* Part of this line may not have reached the disk: forget it. */
			c->valid = false;
			continue;
		}
		if (to > from)
			memcpy(c->data + (from - lstart), (const char *)buf + (from - (uint64_t)offset),
			       (size_t)(to - from));
	}
}

static s64
part_pwrite(struct ntfs_device *dev, const void *buf, s64 count, s64 offset)
{
	struct window *w = dev->d_private;
	s64 done = 0;

	if (w->read_only || NDevReadOnly(dev)) {
		errno = EROFS;
		return -1;
	}
	if (offset < 0 || count < 0) {
		errno = EINVAL;
		return -1;
	}
	/* Never write outside the partition, whatever the volume claims. */
	if ((uint64_t)offset + (uint64_t)count > w->size) {
		errno = ENOSPC;
		return -1;
	}
	NDevSetDirty(dev);
	while (done < count) {
		ssize_t n = pwrite(w->fd, (const char *)buf + done, (size_t)(count - done),
				   (off_t)(w->offset + (uint64_t)offset + (uint64_t)done));
		if (n < 0) {
			if (errno == EINTR)
				continue;
			int err = errno;
			if (!w->write_errno)
				w->write_errno = err;
			if (w->cache)
				readcache_update(w, buf, count, done, offset);
			errno = err;
			return done ? done : -1;
		}
		done += n;
	}
	if (w->cache)
		readcache_update(w, buf, count, done, offset);
	return done;
}

static s64
part_read(struct ntfs_device *dev, void *buf, s64 count)
{
	struct window *w = dev->d_private;
	s64 n = part_pread(dev, buf, count, w->pos);
	if (n > 0)
		w->pos += n;
	return n;
}

static s64
part_write(struct ntfs_device *dev, const void *buf, s64 count)
{
	struct window *w = dev->d_private;
	s64 n = part_pwrite(dev, buf, count, w->pos);
	if (n > 0)
		w->pos += n;
	return n;
}

static int
part_sync(struct ntfs_device *dev)
{
	struct window *w = dev->d_private;
	if (NDevReadOnly(dev))
		return 0;
	if (fsync(w->fd) < 0)
		return -1;
	NDevClearDirty(dev);
	return 0;
}

static int
part_stat(struct ntfs_device *dev, struct stat *sb)
{
	struct window *w = dev->d_private;
	if (fstat(w->fd, sb) < 0)
		return -1;
	sb->st_size = (off_t)w->size;
	return 0;
}

static int
part_ioctl(struct ntfs_device *dev, unsigned long request, void *argp)
{
	struct window *w = dev->d_private;
	switch (request) {
	case BLKGETSIZE64:
		*(uint64_t *)argp = w->size;
		return 0;
	case BLKSSZGET:
		*(int *)argp = 512;
		return 0;
	case BLKBSZSET:
		return 0;
	default:
		errno = ENOTTY;
		return -1;
	}
}

static struct ntfs_device_operations window_ops = {
	.open = part_open,
	.close = part_close,
	.seek = part_seek,
	.read = part_read,
	.write = part_write,
	.pread = part_pread,
	.pwrite = part_pwrite,
	.sync = part_sync,
	.stat = part_stat,
	.ioctl = part_ioctl,
};

static bool
all_zero(const uint8_t *p, size_t n)
{
	while (n--)
		if (*p++)
			return false;
	return true;
}

/* pread all of @len bytes: a block device or network filesystem may return
 * fewer than asked (errno EIO at the end of the file). */
static bool
pread_exact(int fd, void *buf, size_t len, uint64_t offset)
{
	size_t done = 0;
	while (done < len) {
		ssize_t n = pread(fd, (char *)buf + done, len - done, (off_t)(offset + done));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			if (n == 0)
				errno = EIO;
			return false;
		}
		done += (size_t)n;
	}
	return true;
}

/* Check the boot sector before libntfs-3g sees it, so the common ways of not
 * being a usable NTFS volume get their own words. */
static enum nv_status
check_boot_sector(int fd, const char *path, uint64_t offset, uint64_t size)
{
	uint8_t bs[512], backup[512];

	if (size < 8192)
		return nv_fail(NV_ERR_NOT_NTFS, "%s: the volume is only %llu bytes: too small for NTFS",
			       path, (unsigned long long)size);
	if (!pread_exact(fd, bs, sizeof(bs), offset))
		return nv_fail(NV_ERR_IO, "%s: cannot read the boot sector: %s", path,
			       strerror(errno ? errno : EIO));
	if (!memcmp(bs + 3, "-FVE-FS-", 8))
		return nv_fail(NV_ERR_BITLOCKER,
			       "%s is encrypted with BitLocker: unlock it first (for example with "
			       "cryptsetup bitlkOpen and the recovery key) and run winstate on the "
			       "unlocked device", path);
	if (!memcmp(bs + 3, "NTFS    ", 8)) {
		uint16_t bps = fmt_le16(bs + 11);
		uint64_t sectors = fmt_le64(bs + 0x28);
		if (bps < 256 || bps > 4096 || (bps & (bps - 1)))
			return nv_fail(NV_ERR_CORRUPT, "%s: the NTFS boot sector is damaged "
				       "(%u bytes per sector)", path, bps);
		if (sectors > size / bps)
			return nv_fail(NV_ERR_CORRUPT,
				       "%s is truncated: its boot sector describes a %llu-byte volume "
				       "but only %llu bytes are there (an incomplete copy or image?)",
				       path, (unsigned long long)(sectors * bps),
				       (unsigned long long)size);
		return NV_OK;
	}
	/* The backup boot sector lives in the last sector of the partition. */
	bool backup_ok = pread_exact(fd, backup, sizeof(backup), offset + size - 512) &&
			 !memcmp(backup + 3, "NTFS    ", 8);
	if (backup_ok)
		return nv_fail(NV_ERR_CORRUPT,
			       "%s: the NTFS boot sector is damaged but its backup at the end of the "
			       "volume is intact; repair it (chkdsk on Windows, or ntfsfix -b) before "
			       "migrating", path);
	if (all_zero(bs, sizeof(bs)))
		return nv_fail(NV_ERR_UNFORMATTED,
			       "%s holds no filesystem: its first sector is blank", path);
	return nv_fail(NV_ERR_NOT_NTFS, "%s is not an NTFS volume (no NTFS boot sector)", path);
}

/* Does this (read-only) volume hold a Windows installation? */
static bool
has_windows(const char *path, const struct nv_partition *p)
{
	struct nv_open_options o = { .partition = p->number };
	struct nv_volume *v;
	uint64_t mref;
	bool found;

	if (nv_open(path, &o, &v) != NV_OK)
		return false;
	found = nv_lookup(v, "Windows/System32/config/SOFTWARE", &mref) == NV_OK;
	nv_close(v);
	return found;
}

/* Pick the partition to open on a partitioned disk. */
static enum nv_status
choose_partition(const char *path, const struct nv_disk *disk, int wanted,
		 const struct nv_partition **out)
{
	const struct nv_partition *only = NULL;
	char numbers[128] = "";
	int ntfs = 0;

	for (size_t i = 0; i < disk->count; i++) {
		const struct nv_partition *p = &disk->parts[i];
		if (wanted) {
			if (p->number != wanted)
				continue;
			if (p->problem[0])
				return nv_fail(NV_ERR_PARTITION, "%s partition %d: %s", path,
					       p->number, p->problem);
			*out = p;
			return NV_OK;
		}
		if (!strcmp(p->fstype, "ntfs") && !p->problem[0]) {
			size_t len = strlen(numbers);
			snprintf(numbers + len, sizeof(numbers) - len, "%s%d", ntfs ? ", " : "",
				 p->number);
			ntfs++;
			only = p;
		}
	}
	if (wanted)
		return nv_fail(NV_ERR_NOT_FOUND, "%s has no partition %d (see `winstate volumes %s`)",
			       path, wanted, path);
	if (ntfs == 1) {
		*out = only;
		return NV_OK;
	}
	if (ntfs == 0)
		return nv_fail(NV_ERR_NOT_NTFS, "%s has no NTFS partition (see `winstate volumes %s`)",
			       path, path);
	const struct nv_partition *windows = NULL;
	int with_windows = 0;
	for (size_t i = 0; i < disk->count; i++) {
		const struct nv_partition *p = &disk->parts[i];
		if (!strcmp(p->fstype, "ntfs") && !p->problem[0] && has_windows(path, p)) {
			windows = p;
			with_windows++;
		}
	}
	if (with_windows == 1) {
		*out = windows;
		return NV_OK;
	}
	return nv_fail(NV_ERR_INVALID,
		       "%s has several NTFS partitions (%s)%s: name one as %s:N", path, numbers,
		       with_windows ? " holding Windows" : " and none holds Windows", path);
}

static enum nv_status
status_of_mount_error(int err, const char *path)
{
	switch (ntfs_volume_error(err)) {
	case NTFS_VOLUME_HIBERNATED:
		return nv_fail(NV_ERR_HIBERNATED,
			       "%s: Windows is hibernated or was shut down with Fast Startup, so the "
			       "volume may not be written. Boot Windows and shut it down fully "
			       "(shutdown /s /t 0, or disable Fast Startup) first", path);
	case NTFS_VOLUME_UNCLEAN_UNMOUNT:
		return nv_fail(NV_ERR_UNCLEAN,
			       "%s: the volume was not shut down cleanly and its journal holds "
			       "changes; boot Windows once (or run chkdsk) before writing to it", path);
	case NTFS_VOLUME_NOT_NTFS:
		return nv_fail_errno(err, "%s is not a usable NTFS volume", path);
	case NTFS_VOLUME_CORRUPT:
		return nv_fail_errno(err, "%s: the NTFS structures are damaged", path);
	case NTFS_VOLUME_LOCKED:
		return nv_fail_errno(err, "%s is in use", path);
	default:
		return nv_fail_errno(err, "%s cannot be opened as NTFS", path);
	}
}

/* Fill vol->state from hiberfil.sys, the dirty flag and $LogFile. */
static void
read_state(struct nv_volume *v)
{
	ntfs_inode *ni;

	if (ntfs_volume_check_hiberfile(v->vol, 0) < 0 && errno == EPERM)
		v->state |= NV_STATE_HIBERNATED;
	if (v->vol->flags & VOLUME_IS_DIRTY)
		v->state |= NV_STATE_DIRTY;
	ni = ntfs_inode_open(v->vol, FILE_LogFile);
	if (ni) {
		ntfs_attr *na = ntfs_attr_open(ni, AT_DATA, AT_UNNAMED, 0);
		if (na) {
			RESTART_PAGE_HEADER *rp = NULL;
			if (!ntfs_check_logfile(na, &rp) || !ntfs_is_logfile_clean(na, rp))
				v->state |= NV_STATE_LOG_UNCLEAN;
			free(rp);
			ntfs_attr_close(na);
		}
		ntfs_inode_close(ni);
	}
	nv_library_message(); /* the checks' own chatter is not an error */
}

enum nv_status
nv_open(const char *path, const struct nv_open_options *opts, struct nv_volume **out)
{
	static const struct nv_open_options defaults;
	struct nv_volume *v = NULL;
	struct nv_disk *disk = NULL;
	struct window *w = NULL;
	enum nv_status st;
	struct flock lock;

	nv_install_log_handler();
	*out = NULL;
	if (!opts)
		opts = &defaults;
	if (!path || !*path)
		return nv_fail(NV_ERR_INVALID, "no disk or image was named");
	st = nv_disk_probe(path, &disk);
	if (st != NV_OK)
		return st;
	v = calloc(1, sizeof(*v));
	w = calloc(1, sizeof(*w));
	if (!v || !w || !(v->path = strdup(path))) {
		st = nv_fail(NV_ERR_NOMEM, "out of memory");
		goto fail;
	}
	v->fd = -1;
	if (disk->table[0]) {
		const struct nv_partition *p = NULL;
		st = choose_partition(path, disk, opts->partition, &p);
		if (st != NV_OK)
			goto fail;
		v->offset = p->offset;
		v->size = p->size;
		v->partition = p->number;
	} else {
		if (opts->partition > 0) {
			st = nv_fail(NV_ERR_NOT_FOUND, "%s has no partition table, so no partition %d: "
				     "it is a bare volume (drop the :%d)", path, opts->partition,
				     opts->partition);
			goto fail;
		}
		v->size = disk->size;
	}
	v->read_only = !opts->read_write;
	if (!v->read_only) {
		unsigned long mounted = 0;
		if (ntfs_check_if_mounted(path, &mounted) == 0 && (mounted & NTFS_MF_MOUNTED)) {
			st = nv_fail(NV_ERR_BUSY, "%s is mounted; unmount it before winstate writes to it",
				     path);
			goto fail;
		}
	}
	v->fd = open(path, (v->read_only ? O_RDONLY : O_RDWR) | O_CLOEXEC);
	if (v->fd < 0) {
		st = nv_fail(errno == EACCES || errno == EROFS ? NV_ERR_READ_ONLY : NV_ERR_IO,
			     "cannot open %s%s: %s", path, v->read_only ? "" : " for writing",
			     strerror(errno));
		goto fail;
	}
	/* Another process writing the same volume would corrupt it; libntfs-3g's
	 * own device layer (and so the ntfs-3g driver) takes the same kind of lock. */
	memset(&lock, 0, sizeof(lock));
	lock.l_type = v->read_only ? F_RDLCK : F_WRLCK;
	lock.l_whence = SEEK_SET;
	if (fcntl(v->fd, F_SETLK, &lock) < 0) {
		st = nv_fail(NV_ERR_BUSY, "%s is in use by another program (is it mounted with ntfs-3g?)",
			     path);
		goto fail;
	}
	st = check_boot_sector(v->fd, path, v->offset, v->size);
	if (st != NV_OK)
		goto fail;
	w->fd = v->fd;
	w->offset = v->offset;
	w->size = v->size;
	w->read_only = v->read_only;
	/* Without memory for the cache the volume still works, only slower. */
	readcache_init(w);
	v->dev = ntfs_device_alloc(path, 0, &window_ops, w);
	if (!v->dev) {
		st = nv_fail(NV_ERR_NOMEM, "out of memory");
		goto fail;
	}
	nv_library_message();
	v->vol = ntfs_device_mount(v->dev, v->read_only ? NTFS_MNT_RDONLY : 0);
	if (!v->vol) {
		st = status_of_mount_error(errno, path);
		ntfs_device_free(v->dev);
		v->dev = NULL;
		goto fail;
	}
	/* ntfs_mount() does this after ntfs_device_mount(); without the caches
	 * libntfs-3g's own name lookups (e.g. "$Extend/$Reparse" when setting a
	 * reparse point) take a path that fails with EINVAL. */
	ntfs_create_lru_caches(v->vol);
	read_state(v);
	if (!v->read_only && (v->state & (NV_STATE_DIRTY | NV_STATE_LOG_UNCLEAN))) {
		st = status_of_mount_error(EOPNOTSUPP, path);
		ntfs_umount(v->vol, FALSE);
		v->vol = NULL;
		v->dev = NULL;
		goto fail;
	}
	nv_disk_free(disk);
	*out = v;
	return NV_OK;
fail:
	nv_disk_free(disk);
	if (v) {
		if (v->fd >= 0)
			close(v->fd);
		free(v->path);
		free(v);
	}
	if (w)
		readcache_free(w);
	free(w);
	return st;
}

enum nv_status
nv_writes_ok(struct nv_volume *v)
{
	struct window *w = v && v->dev ? v->dev->d_private : NULL;
	if (w && w->write_errno)
		return nv_fail_errno(w->write_errno, "%s: a write to the volume failed earlier, so "
				     "some changes may be missing", v->path);
	return NV_OK;
}

enum nv_status
nv_close(struct nv_volume *v)
{
	enum nv_status st = NV_OK;
	struct window *w;

	if (!v)
		return NV_OK;
	w = v->dev ? v->dev->d_private : NULL;
	/* Inodes a caller forgot to release must be written back before unmount. */
	while (v->open_inodes) {
		struct open_inode *o = v->open_inodes;
		v->open_inodes = o->next;
		if (ntfs_inode_close(o->ni) != 0 && st == NV_OK)
			st = nv_fail_errno(errno, "%s: writing back MFT record %llu failed", v->path,
					   (unsigned long long)o->mref);
		free(o);
	}
	nv_folder_names_free(v);
	nv_sd_cache_free(v);
	free(v->last_sd);
	/* ntfs_umount's result is the only report of a failed final flush. */
	if (v->vol && ntfs_umount(v->vol, FALSE) != 0)
		st = nv_fail_errno(errno, "%s: writing the last changes failed", v->path);
	/* libntfs-3g ignores a failed index block write (ntfs_index_ctx_put): a
	 * name could be missing although every call succeeded (fault injection). */
	if (w && w->write_errno && st == NV_OK)
		st = nv_fail_errno(w->write_errno, "%s: a write to the volume failed, so some "
				   "changes may be missing", v->path);
	if (v->fd >= 0 && close(v->fd) < 0 && st == NV_OK && !v->read_only)
		st = nv_fail(NV_ERR_IO, "%s: close failed: %s", v->path, strerror(errno));
	if (w)
		readcache_free(w);
	free(w);
	free(v->path);
	free(v);
	return st;
}

void
nv_volume_info(struct nv_volume *v, struct nv_volume_info *info)
{
	uint8_t bs[512];

	memset(info, 0, sizeof(*info));
	if (v->vol->vol_name)
		snprintf(info->label, sizeof(info->label), "%s", v->vol->vol_name);
	info->cluster_size = v->vol->cluster_size;
	info->size = (uint64_t)v->vol->nr_clusters * v->vol->cluster_size;
	if (ntfs_volume_get_free_space(v->vol) == 0 && v->vol->free_clusters >= 0)
		info->free_bytes = (uint64_t)v->vol->free_clusters * v->vol->cluster_size;
	info->major_version = v->vol->major_ver;
	info->minor_version = v->vol->minor_ver;
	info->state = v->state;
	info->read_only = v->read_only;
	info->offset = v->offset;
	info->partition = v->partition;
	if (pread_exact(v->fd, bs, sizeof(bs), v->offset))
		info->serial = fmt_le64(bs + 0x48);
}
