/*
 * Files: each store file created (never overwritten: keep-both names) or
 * linked back, with its streams, descriptor, EAs, attributes, times and
 * reparse data; junctions and folder links made, never followed; an
 * interrupted restore finished by running it again.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "restore/internal.h"

/*
 * Names that differ only in case (WSL1's case-sensitive folders) are two files
 * in the store, but one name in a Windows folder, which folds case.  So the
 * records this run restored are remembered: a name on the target held by one
 * of them belongs to another store file, whatever a merge rule or a resumed
 * run would otherwise make of it, and the second file keeps both.
 */
struct mref_slot {
	uint64_t mref;  /* NO_MREF: empty */
	size_t index;
};

static struct mref_slot *
mine_slot(struct mref_slot *v, size_t cap, uint64_t mref)
{
	for (size_t i = (size_t)((mref * 0x9E3779B97F4A7C15ull) >> 32) & (cap - 1);;
	     i = (i + 1) & (cap - 1))
		if (v[i].mref == NO_MREF || v[i].mref == mref)
			return &v[i];
}

/* Remember that store file @index was restored into record @mref (the first
 * one wins: hard links of one record). */
static void
mine_add(struct ctx *c, uint64_t mref, size_t index)
{
	if (mref == NO_MREF)
		return;
	if ((c->mine_count + 1) * 2 > c->mine_cap) {
		size_t cap = c->mine_cap ? c->mine_cap * 2 : 1024;
		struct mref_slot *v = malloc(cap * sizeof(*v));
		if (!v) {
			nomem(c);
			return;
		}
		for (size_t i = 0; i < cap; i++)
			v[i].mref = NO_MREF;
		for (size_t i = 0; i < c->mine_cap; i++)
			if (c->mine[i].mref != NO_MREF)
				*mine_slot(v, cap, c->mine[i].mref) = c->mine[i];
		free(c->mine);
		c->mine = v;
		c->mine_cap = cap;
	}
	struct mref_slot *sl = mine_slot(c->mine, c->mine_cap, mref);
	if (sl->mref == NO_MREF) {
		*sl = (struct mref_slot){ mref, index };
		c->mine_count++;
	}
}

/* The store file this run restored into record @mref, or SIZE_MAX. */
static size_t
mine_find(const struct ctx *c, uint64_t mref)
{
	if (!c->mine_cap || mref == NO_MREF)
		return SIZE_MAX;
	const struct mref_slot *sl = mine_slot(c->mine, c->mine_cap, mref);
	return sl->mref == mref ? sl->index : SIZE_MAX;
}

/* A merge rule never makes one store file win over another: both are kept. */
static enum restore_merge
twin_merge(struct ctx *c, const struct st_file *f, size_t twin)
{
	restore_result_note(c->res, c->o->log, "%s: its merge rule does not apply: the file "
			    "holding its name on the target is %s, restored from this store too, "
			    "so both are kept", f->path, st_reader_file(c->r, twin)->path);
	return RESTORE_MERGE_DEFAULT;
}

/* ------------------------------------------------------------- files -- */

struct write_ctx {
	struct ctx *c;
	uint64_t mref;
	const char *stream;
	uint64_t offset;
	bool sparse;
	enum nv_status st;
};

static int
write_chunk(const void *buf, size_t len, void *opaque)
{
	struct write_ctx *w = opaque;
	if (w->sparse) {
		const uint8_t *b = buf;
		size_t i = 0;
		while (i < len && !b[i])
			i++;
		if (i == len) {
			w->offset += len;
			return 0;
		}
	}
	w->st = nv_write(w->c->vol, w->mref, w->stream, w->offset, buf, len);
	if (w->st != NV_OK)
		return ST_ERR_NTFS;
	w->offset += len;
	return 0;
}

/* Where a store path goes on the target: *root is the folder it must stay under.
 * NULL when its user is not restored, or out of memory (the outcome says). */
static char *
relocated(struct ctx *c, const struct st_file *f, struct plan **owner, const char **root)
{
	*owner = NULL;
	*root = "";
	struct plan *p = NULL;
	for (size_t i = 0; i < c->nplans; i++)
		if (!strcasecmp(c->plans[i].su->sid, f->owner))
			p = &c->plans[i];
	if (p) {
		*owner = p;
		if (!p->restore)
			return NULL;
		const char *best_rest = NULL;
		size_t best_len = 0;
		const struct known_folder *best = NULL;
		for (size_t k = 0; k < p->nkf; k++) {
			const char *rest = below(f->path, p->kf[k].src);
			if (rest && strlen(p->kf[k].src) >= best_len) {
				best = &p->kf[k];
				best_rest = rest;
				best_len = strlen(p->kf[k].src);
			}
		}
		*root = p->profile;
		if (best)
			return joinp(best->dst, best_rest);
		const char *rest = p->su->profile_path ? below(f->path, p->su->profile_path) : NULL;
		if (rest)
			return joinp(p->profile, rest);
		*root = "";
	}
	/* Machine files (and a user's files outside the profile): the same place,
	 * the old C:\ of a Windows.old capture mapping onto the new one. */
	const char *rest = below(f->path, "Windows.old");
	return strdup(rest && *rest ? rest : f->path);
}

char *
relocate(struct ctx *c, const struct st_file *f, struct plan **owner, const char **root)
{
	char *dest = relocated(c, f, owner, root);
	if (!dest && !(*owner && !(*owner)->restore))
		nomem(c);
	return dest;
}

static enum nv_status
create_unique(struct ctx *c, uint64_t parent, const char *name, bool link, uint64_t link_mref,
	      uint64_t *out, char **used)
{
	enum nv_status st;
	char *n = strdup(name);
	for (unsigned k = 1; n; k++) {
		if (link)
			st = nv_link(c->vol, link_mref, parent, n);
		else
			st = nv_create(c->vol, parent, n, out);
		if (st != NV_ERR_EXISTS || k > 9999)
			break;
		free(n);
		n = restore_conflict_name(name, k);
	}
	if (!n)
		return NV_ERR_NOMEM;
	if (link)
		*out = link_mref;
	*used = n;
	return st;
}

static void
set_security(struct ctx *c, const struct st_file *f, uint64_t mref, uint64_t parent, const char *owner)
{
	uint8_t *sd = NULL;
	size_t sl = 0;
	char err[256];
	/* The descriptor functions say out of memory only through errno. */
	errno = 0;
	if (f->security_len) {
		if (fmt_sd_rewrite(f->security, f->security_len, map_sid, c, &sd, &sl, err,
				       sizeof(err)) < 0) {
			if (errno == ENOMEM) {
				nomem(c);
				return;
			}
			problem(c, "%s: its security descriptor is damaged (%s); it inherits its folder's",
				f->path, err);
			sd = NULL;
		}
	}
	if (!sd) {
		struct nv_inode *pin;
		if (nv_stat(c->vol, parent, &pin) == NV_OK) {
			errno = 0;
			if (pin->security &&
			    fmt_sd_inherit(pin->security, pin->security_len, owner,
					       (f->attributes & NV_ATTR_DIRECTORY) != 0, &sd, &sl) < 0 &&
			    errno == ENOMEM)
				nomem(c);
			nv_inode_free(pin);
		}
	}
	enum nv_status st;
	if (sd && (st = nv_set_security(c->vol, mref, sd, sl)) != NV_OK)
		nv_problem(c, st, "%s: its security descriptor could not be set: %s", f->path,
			   nv_last_error());
	free(sd);
}

static const char *
hardlink_entry(struct ctx *c, const struct st_file *f, char *buf, size_t len)
{
	snprintf(buf, len, "%s/USMT/File/%c$/%s", c->o->store,
		 c->info->volume_letter ? c->info->volume_letter : 'C', f->path);
	return buf;
}

/* The store's link for @f: its folder is looked up once for all the files in
 * it (the catalog keeps a folder's files together), then only the name. */
static enum nv_status
store_link_lookup(struct ctx *c, const struct st_file *f, char *entry, size_t len, uint64_t *em)
{
	hardlink_entry(c, f, entry, len);
	char *slash = strrchr(entry, '/');
	if (!slash)
		return nv_lookup(c->vol, entry, em);
	*slash = '\0';
	enum nv_status st = NV_OK;
	if (!c->store_dir || strcmp(c->store_dir, entry)) {
		free(c->store_dir);
		c->store_dir = strdup(entry);
		st = c->store_dir ? nv_lookup(c->vol, entry, &c->store_dir_mref) : NV_ERR_NOMEM;
		if (st != NV_OK) {
			free(c->store_dir);
			c->store_dir = NULL;
		}
	}
	*slash = '/';
	return st == NV_OK ? nv_lookup_in(c->vol, c->store_dir_mref, slash + 1, em) : st;
}

/* Write back the record held for @path's link and metadata. */
static void
release_held(struct ctx *c, uint64_t *held, const char *path)
{
	enum nv_status st;
	if (*held != NO_MREF && (st = nv_release(c->vol, *held)) != NV_OK)
		nv_problem(c, st, "%s: its link or metadata could not be written: %s", path,
			   nv_last_error());
	*held = NO_MREF;
}

/* ---------------------------------------------- interrupted restores -- */
/*
 * A restore that is interrupted (killed, power lost, volume full) must be
 * finished by running it again, without "name(1).ext" copies of what it had
 * already written.  The volume root holds RESUME_MARK (naming the store)
 * from the first write until the end; a run that finds its own store's mark
 * resumes: a file whose name already holds it complete (same record for a
 * link; same size, creation and write times — times are set last — for a
 * copy) is kept, and a profile folder it had made is used again.  Copies
 * are written under PARTIAL_NAME and named only once complete, so no half
 * file ever carries a real name.
 */

void
resume_begin(struct ctx *c)
{
	char id[600];
	int n = snprintf(id, sizeof(id), "winstate restore of the store of %s, captured %lld-%lld, "
			 "%zu files\n", c->info->computer ? c->info->computer : "?",
			 (long long)c->info->start_time, (long long)c->info->end_time,
			 st_reader_file_count(c->r));
	if (n < 0 || (size_t)n >= sizeof(id))
		return;
	uint64_t m;
	struct nv_reader *rd;
	if (nv_lookup(c->vol, RESUME_MARK, &m) == NV_OK && nv_reader_open(c->vol, m, NULL, &rd) == NV_OK) {
		char old[sizeof(id)];
		size_t got = 0;
		if (nv_reader_pread(rd, old, sizeof(old), 0, &got) == NV_OK && got == (size_t)n &&
		    !memcmp(old, id, got))
			c->resume = true;
		nv_reader_close(rd);
	}
	if (c->resume) {
		struct nv_inode *in;
		if (nv_stat(c->vol, m, &in) == NV_OK) {
			c->resume_since = in->times[NV_TIME_CREATION];
			nv_inode_free(in);
		}
		logf_(c, "an interrupted restore of this store is resumed: files it finished are kept");
		return;
	}
	nv_unlink(c->vol, NV_MREF_ROOT, RESUME_MARK);
	if (nv_create(c->vol, NV_MREF_ROOT, RESUME_MARK, &m) != NV_OK ||
	    nv_write(c->vol, m, NULL, 0, id, (size_t)n) != NV_OK) {
		logf_(c, "cannot write %s (%s): if this restore is interrupted, running it again "
		      "keeps both copies of what was written", RESUME_MARK, nv_last_error());
		return;
	}
	nv_set_attributes(c->vol, m, NV_ATTR_HIDDEN);
}

/*
 * A cloud file's reparse data (OneDrive Files On-Demand) belongs to the old
 * Windows' sync-root registration of the user's account: on a Windows without
 * it the file fails with "The cloud file provider is not running".  So a
 * hydrated cloud file comes back as a plain file (its data, streams,
 * descriptor, attributes and times), as its cloud folders come back as plain
 * folders; OneDrive makes its own again when the user signs in.
 */
static uint32_t
cloud_tag(const struct st_file *f)
{
	if (f->reparse_len < 4)
		return 0;
	uint32_t tag = (uint32_t)f->reparse[0] | (uint32_t)f->reparse[1] << 8 |
		       (uint32_t)f->reparse[2] << 16 | (uint32_t)f->reparse[3] << 24;
	return NV_TAG_IS_CLOUD(tag) ? tag : 0;
}

/* Said for each cloud file restored; a hard-linked one is the captured record
 * itself, so its reparse data (and pinned state) is removed from it. */
static enum nv_status
plain_cloud_file(struct ctx *c, const struct st_file *f, uint64_t mref)
{
	enum nv_status st = NV_OK;
	if (c->info->format == ST_FORMAT_HARDLINK && (st = nv_remove_reparse(c->vol, mref)) != NV_OK) {
		nv_problem(c, st, "%s: linked, but its cloud reparse data (tag 0x%08x) could not be "
			   "removed, so it may not open on the new Windows until OneDrive runs: %s",
			   f->path, cloud_tag(f), nv_last_error());
		return st;
	}
	logf_(c, "%s: restored as a plain file: its cloud reparse data (tag 0x%08x) belongs to the "
	      "old Windows' OneDrive registration and is not restored", f->path, cloud_tag(f));
	return NV_OK;
}

/* Resuming: whether @dest already holds store file @f, complete (see above). */
static bool
restored_as(struct ctx *c, const struct st_file *f, const char *dest, uint64_t link_mref,
	    uint64_t *mref)
{
	uint64_t m;
	struct nv_inode *in;
	if (!c->resume || nv_lookup(c->vol, dest, &m) != NV_OK)
		return false;
	if (link_mref != NO_MREF) {
		*mref = m;
		return m == link_mref;
	}
	if (mine_find(c, m) != SIZE_MAX)
		return false; /* another store file's, e.g. its case twin's */
	if (nv_stat(c->vol, m, &in) != NV_OK)
		return false;
	/* A raw EFS file's stored size is its raw length (512-byte blocks + 2). */
	uint64_t size = in->size;
	if (f->raw_efs)
		size = !(in->kind & NV_IS_ENCRYPTED) ? UINT64_MAX : size ? ((size + 511) & ~511ull) + 2 : 0;
	bool same = !(in->kind & NV_IS_DIR) &&
		    size == (f->stream_count ? f->streams[0].size : 0) &&
		    in->times[NV_TIME_CREATION] == f->times[NV_TIME_CREATION] &&
		    in->times[NV_TIME_WRITE] == f->times[NV_TIME_WRITE];
	size_t want = cloud_tag(f) ? 0 : f->reparse_len; /* a cloud file comes back plain */
	bool reparse_done = same && in->reparse_len == want &&
			    (!want || !memcmp(in->reparse, f->reparse, want));
	nv_inode_free(in);
	*mref = m;
	/* Interrupted after its name was given: finish it (reparse data, then times). */
	if (same && !reparse_done && (!want || nv_set_reparse(c->vol, m, f->reparse, want) != NV_OK))
		return false;
	if (same) /* the change time may have moved after the final set_times */
		nv_set_times(c->vol, m, f->times);
	return same;
}

/* Same, also under the "name(k).ext" names the interrupted run gave it when
 * the target already had its name (a new Windows' own Public files ...). */
static bool
already_restored(struct ctx *c, const struct st_file *f, const char *dest, uint64_t link_mref,
		 uint64_t *mref)
{
	if (restored_as(c, f, dest, link_mref, mref))
		return true;
	if (!c->resume)
		return false;
	const char *slash = strrchr(dest, '/');
	const char *name = slash ? slash + 1 : dest;
	for (unsigned k = 1; k < 10000; k++) {
		char *alt = restore_conflict_name(name, k), *path = NULL;
		uint64_t m;
		if (!alt || asprintf(&path, "%.*s%s", (int)(name - dest), dest, alt) < 0) {
			free(alt);
			nomem(c);
			return false;
		}
		free(alt);
		bool exists = nv_lookup(c->vol, path, &m) == NV_OK;
		bool same = exists && restored_as(c, f, path, link_mref, mref);
		free(path);
		if (same || !exists)
			return same;
	}
	return false;
}


/* The junction's reparse buffer for the target: its target moved from the
 * source profile to @p's restored one when it pointed inside it.  NULL with a
 * problem listed when the store's buffer is damaged; *@owned to free. */
static const uint8_t *
junction_buffer(struct ctx *c, const struct st_file *f, struct plan *p, size_t *len,
		uint8_t **owned)
{
	char why[300];
	struct fmt_junction_target t;
	*owned = NULL;
	*len = f->reparse_len;
	if (fmt_junction_parse(f->reparse, f->reparse_len, &t, why, sizeof(why)) < 0) {
		problem(c, "%s: not restored: its junction data in the store is damaged: %s", f->path,
			why);
		return NULL;
	}
	char src_letter = c->info->volume_letter ? c->info->volume_letter : 'C';
	const char *target = fmt_junction_path(&t);
	char *old = NULL, *new = NULL;
	int rw = 0;
	bool moves = p && p->su->profile_path && p->profile;
	if (moves && asprintf(&old, "%c:\\%s", src_letter, p->su->profile_path) < 0)
		old = NULL; /* asprintf leaves it undefined */
	if (moves && old && asprintf(&new, "%c:\\%s", c->drive, p->profile) < 0)
		new = NULL;
	if (moves && !new) {
		free(old);
		fmt_junction_target_free(&t);
		nomem(c);
		return NULL;
	}
	if (moves) {
		for (char *q = old; *q; q++)
			*q = *q == '/' ? '\\' : *q;
		for (char *q = new; *q; q++)
			*q = *q == '/' ? '\\' : *q;
		size_t new_len = 0;
		if (strcasecmp(old, new))
			rw = fmt_junction_rewrite(f->reparse, f->reparse_len, old, new, owned, &new_len, why,
					      sizeof(why));
		if (rw > 0)
			*len = new_len;
	}
	if (rw < 0) {
		problem(c, "%s: not restored: its target %s cannot be moved to the new profile %s: %s",
			f->path, target, new, why);
	} else if (rw > 0) {
		logf_(c, "%s: its target %s pointed into the old profile %s: now %s%s", f->path, target,
		      old, new, target + strlen(old));
	} else if (t.relative) {
		logf_(c, "%s: its relative target %s is kept", f->path, target);
	} else if (strlen(target) >= 2 && target[1] == ':' &&
		   toupper((unsigned char)target[0]) != toupper((unsigned char)src_letter)) {
		logf_(c, "%s: its target %s is on another drive than the captured Windows; kept as it "
		      "was (the junction works once that drive is there)", f->path, target);
	} else {
		logf_(c, "%s: its target %s is kept", f->path, target);
	}
	free(old);
	free(new);
	fmt_junction_target_free(&t);
	if (rw < 0)
		return NULL;
	return rw > 0 ? *owned : f->reparse;
}

/*
 * Store entry @index is a junction or folder symlink: make it as @name in
 * folder @parent (its path @dest) when nothing is there, with its reparse
 * data (target moved to the new profile when it pointed into the old one),
 * security, attributes and times.  What it points at is never touched; an
 * existing folder, file or junction at @dest is left as it is (logged).
 */
static enum nv_status
restore_junction(struct ctx *c, size_t index, struct plan *p, const char *dest, uint64_t parent,
		 const char *name, const char *owner)
{
	const struct st_file *f = st_reader_file(c->r, index);
	uint64_t m;
	struct nv_inode *in;
	bool unfinished = false;
	if (nv_lookup(c->vol, dest, &m) == NV_OK) {
		const char *what = "a file";
		if (nv_stat(c->vol, m, &in) == NV_OK) {
			what = (in->kind & NV_IS_JUNCTION)  ? "a junction"
			       : (in->kind & NV_IS_SYMLINK) ? "a symbolic link"
			       : (in->kind & NV_IS_DIR)     ? "a folder"
							    : "a file";
			/* The interrupted run was stopped between its mkdir and its
			 * reparse data: an empty plain folder it made (after its mark). */
			unfinished = c->resume && c->resume_since && (in->kind & NV_IS_DIR) &&
				     !in->reparse_tag &&
				     in->times[NV_TIME_CREATION] >= c->resume_since &&
				     folder_is_empty(c, dest);
			nv_inode_free(in);
		}
		if (!unfinished) {
			logf_(c, "%s: the target already has %s at %s; left as it is (the store's "
			      "junction or link is not restored over it)", f->path, what, dest);
			return NV_OK;
		}
		logf_(c, "%s: finishing the junction the interrupted restore began at %s", f->path, dest);
	}
	size_t len;
	uint8_t *owned;
	const uint8_t *buf = junction_buffer(c, f, p, &len, &owned);
	if (!buf)
		return NV_OK;
	enum nv_status st = unfinished ? NV_OK : nv_mkdir(c->vol, parent, name, &m);
	if (st != NV_OK) {
		if (st != NV_ERR_NO_SPACE)
			nv_problem(c, st, "%s: cannot create the junction %s: %s", f->path, dest,
				   nv_last_error());
		free(owned);
		return st;
	}
	/* Its reparse data first: from then on nothing can be written through it. */
	if ((st = nv_set_reparse(c->vol, m, buf, len)) != NV_OK) {
		nv_problem(c, st, "%s: its junction data could not be set: %s; the empty folder is "
			   "removed", f->path, nv_last_error());
		nv_unlink(c->vol, parent, name);
		free(owned);
		return st == NV_ERR_NO_SPACE ? st : NV_OK;
	}
	free(owned);
	restore_ea(c, f, m);
	set_security(c, f, m, parent, owner);
	if ((st = nv_set_attributes(c->vol, m, f->attributes & SETTABLE_ATTRS)) != NV_OK ||
	    (st = nv_set_times(c->vol, m, f->times)) != NV_OK)
		nv_problem(c, st, "%s: its attributes or times could not be set: %s", f->path,
			   nv_last_error());
	c->file_mref[index] = m;
	c->res->junctions++;
	if (c->o->verbosity & 1)
		logf_(c, "restored junction %s -> %s", f->path, dest);
	return NV_OK;
}

/*
 * A plain folder's EAs: the folder is made (or found) by path as for any
 * file in it, then given the EAs unless it already has some of its own on
 * the target (those are kept, logged).
 */
static enum nv_status
restore_folder_ea(struct ctx *c, const struct st_file *f, const char *root, uint64_t root_mref,
		  const char *dest, const char *owner)
{
	uint64_t m;
	enum nv_status st = ensure_dir(c, root, root_mref, dest, owner, &m);
	if (st == NV_ERR_NO_SPACE)
		return st;
	if (st != NV_OK) {
		nv_problem(c, st, "%s: its extended attributes were not restored: the folder %s %s",
			   f->path, dest,
			   st == NV_ERR_UNSUPPORTED ? "passes through a junction or link on the target"
			   : st == NV_ERR_NOT_DIR   ? "is a file on the target"
						    : nv_last_error());
		return NV_OK;
	}
	struct nv_inode *in;
	if ((st = nv_stat(c->vol, m, &in)) != NV_OK) {
		nv_problem(c, st, "%s: its extended attributes were not restored: %s", f->path,
			   nv_last_error());
		return NV_OK;
	}
	bool own = in->ea_len && !(in->ea_len == f->ea_len && !memcmp(in->ea, f->ea, f->ea_len));
	bool same = in->ea_len && !own;
	nv_inode_free(in);
	if (own) {
		logf_(c, "%s: the folder %s on the target has extended attributes of its own; kept "
		      "(the store's are not written over them)", f->path, dest);
		return NV_OK;
	}
	if (!same)
		restore_ea(c, f, m);
	if (c->o->verbosity & 1)
		logf_(c, "restored the extended attributes of folder %s -> %s", f->path, dest);
	return NV_OK;
}

struct efs_buf {
	uint8_t *data;
	size_t len, cap;
	bool too_big;
};

static int
efs_chunk(const void *buf, size_t len, void *opaque)
{
	struct efs_buf *b = opaque;
	if (len > (16u << 20) - b->len) {
		b->too_big = true; /* $EFS is a few KiB: more is no $EFS */
		return ST_ERR_CORRUPT;
	}
	if (b->len + len > b->cap) {
		size_t cap = (b->len + len) * 2;
		uint8_t *g = realloc(b->data, cap);
		if (!g)
			return ST_ERR_NOMEM;
		b->data = g;
		b->cap = cap;
	}
	memcpy(b->data + b->len, buf, len);
	b->len += len;
	return 0;
}

/* A raw EFS file (--efs copyraw): its $EFS metadata from the store, checked
 * before anything is written, and every stream checked to be in raw form.
 * False (the file named in a problem) when it cannot be put back. */
static bool
raw_efs_prepare(struct ctx *c, size_t index, const struct st_file *f, uint8_t **info,
		size_t *info_len, size_t *info_stream)
{
	*info = NULL;
	*info_len = 0;
	*info_stream = SIZE_MAX;
	for (size_t s = 1; s < f->stream_count; s++)
		if (!strcmp(f->streams[s].name, ST_EFS_STREAM))
			*info_stream = s;
	if (*info_stream == SIZE_MAX) {
		problem(c, "%s: not restored: it was stored as a raw EFS file, but its $EFS metadata "
			"(who may decrypt it) is missing from the store", f->path);
		return false;
	}
	for (size_t s = 0; s < f->stream_count; s++) {
		uint64_t size = f->streams[s].size;
		if (s != *info_stream && size && (size & 511) != 2) {
			problem(c, "%s: not restored: its %s%s%s stored raw is %llu bytes, which is not "
				"EFS's raw form (512-byte blocks and 2 bytes of padding count): the store "
				"is damaged", f->path, s ? "stream \"" : "data", s ? f->streams[s].name : "",
				s ? "\"" : "", (unsigned long long)size);
			return false;
		}
	}
	struct efs_buf b = { 0 };
	enum st_status rs = st_reader_read(c->r, index, *info_stream, efs_chunk, &b);
	enum nv_status ok = rs == ST_OK ? nv_efs_check_info(b.data, b.len) : NV_OK;
	if (rs == ST_ERR_NOMEM) {
		free(b.data);
		nomem(c);
		return false;
	}
	if (rs != ST_OK || ok != NV_OK) {
		problem(c, "%s: not restored: its $EFS metadata in the store is damaged: %s", f->path,
			b.too_big ? "it is over 16 MiB" : rs != ST_OK ? st_last_error() : nv_last_error());
		free(b.data);
		return false;
	}
	*info = b.data;
	*info_len = b.len;
	return true;
}

/* Restore one store file: RESTORE_OK, listed problems included, or the
 * outcome that stops the whole restore. */
enum restore_outcome
restore_file(struct ctx *c, size_t index)
{
	const struct st_file *f = st_reader_file(c->r, index);
	struct plan *p;
	const char *root;
	enum restore_merge merge = RESTORE_MERGE_DEFAULT;
	char *dest = rules_destination(c, f, &p, &root, &merge);
	if (!dest) /* its user is not restored (reported once, per user), a rule says so
		    * (listed), or out of memory */
		return c->res->outcome;
	const char *owner = p ? p->target_sid : NULL;
	char *dir = strdup(dest), *slash = dir ? strrchr(dir, '/') : NULL;
	if (!dir) {
		free(dest);
		return nomem(c);
	}
	const char *name = slash ? slash + 1 : dest;
	if (slash)
		*slash = '\0';
	else
		dir[0] = '\0';
	uint64_t root_mref = NV_MREF_ROOT, parent = 0, mref = NO_MREF, held = NO_MREF;
	char *used = NULL;
	enum nv_status st;
	bool is_dir = f->attributes & NV_ATTR_DIRECTORY;
	uint8_t *efs_info = NULL;
	size_t efs_len = 0, efs_stream = SIZE_MAX;

	if (st_check_path(dest) != ST_OK || !below(dest, root)) {
		problem(c, "%s: refused, its restored name %s is unsafe: %s", f->path, dest, st_last_error());
		goto out;
	}
	if (is_dir && !strcasecmp(dest, root)) {
		logf_(c, "%s: the profile folder itself keeps the target's security", f->path);
		goto out;
	}
	if (*root && (p->profile_mref || nv_lookup(c->vol, root, &p->profile_mref) == NV_OK))
		root_mref = p->profile_mref;
	st = ensure_dir(c, root, root_mref, dir, owner, &parent);
	if (st != NV_OK) {
		if (st == NV_ERR_NO_SPACE)
			goto full;
		if (st == NV_ERR_NOMEM)
			goto nomem;
		problem(c, "%s: refused: its folder %s %s", f->path, dir,
			st == NV_ERR_UNSUPPORTED ? "passes through a junction or link on the target"
			: st == NV_ERR_NOT_DIR   ? "is a file on the target"
						 : nv_last_error());
		goto out;
	}
	if (is_dir && !f->reparse_len) {
		/* A plain folder kept for its EAs (the catalog checks it has them). */
		if (restore_folder_ea(c, f, root, root_mref, dest, owner) == NV_ERR_NO_SPACE)
			goto full;
		goto out;
	}
	if (is_dir) {
		/* Otherwise folders are junctions and folder links (the catalog
		 * checks they have reparse data). */
		if (restore_junction(c, index, p, dest, parent, name, owner) == NV_ERR_NO_SPACE)
			goto full;
		goto out;
	}
	/* Its name taken by another file of this restore (a name that differs
	 * only in case, folded onto it by the target's folder): found where a
	 * name is taken, so a restore without conflicts looks nothing up. */
	size_t twin = SIZE_MAX;
	if (merge == RESTORE_MERGE_DESTINATION && nv_lookup(c->vol, dest, &mref) == NV_OK) {
		if ((twin = mine_find(c, mref)) != SIZE_MAX) {
			merge = twin_merge(c, f, twin);
		} else {
			restore_result_note(c->res, c->o->log, "%s: kept the existing %s on the target, "
					    "the store's copy is not restored (DestinationPriority)",
					    f->path, dest);
			c->res->kept++;
			mref = NO_MREF;
			goto out;
		}
	}
	mref = NO_MREF;

	if (f->link_to >= 0) {
		uint64_t target = c->file_mref[f->link_to];
		if (target == NO_MREF) {
			problem(c, "%s: not restored: it is a hard link of %s, which was not restored",
				f->path, st_reader_file(c->r, (size_t)f->link_to)->path);
			goto out;
		}
		if (already_restored(c, f, dest, target, &mref))
			goto resumed;
		st = create_unique(c, parent, name, true, target, &mref, &used);
		if (st == NV_ERR_NO_SPACE)
			goto full;
		if (st == NV_ERR_NOMEM)
			goto nomem;
		if (st != NV_OK)
			problem(c, "%s: cannot link it: %s", f->path, nv_last_error());
		else
			c->res->links++;
		goto out;
	}

	if (c->info->format == ST_FORMAT_HARDLINK) {
		char entry[8192];
		uint64_t em;
		if ((st = store_link_lookup(c, f, entry, sizeof(entry), &em)) == NV_ERR_NOMEM)
			goto nomem;
		if (st != NV_OK) {
			problem(c, "%s: its link in the store (%s) is gone", f->path, entry);
			goto out;
		}
		if (f->source_id != ST_NO_SOURCE_ID && em != f->source_id) {
			problem(c, "%s: the store's link now names another file (record %llu, captured %llu)",
				f->path, (unsigned long long)em, (unsigned long long)f->source_id);
			goto out;
		}
		/* One open record for the link and its metadata: read and written back once. */
		if (nv_hold(c->vol, em) == NV_OK)
			held = em;
		if (already_restored(c, f, dest, em, &mref))
			goto resumed;
		st = create_unique(c, parent, name, true, em, &mref, &used);
		if (st == NV_ERR_NO_SPACE)
			goto full;
		if (st == NV_ERR_NOMEM)
			goto nomem;
		if (st != NV_OK) {
			problem(c, "%s: cannot link it into %s: %s", f->path, dir, nv_last_error());
			goto out;
		}
		c->res->links++;
		for (size_t s = 0; s < f->stream_count; s++) {
			c->res->bytes += f->streams[s].size;
			if (p)
				c->res->users[p->result].bytes += f->streams[s].size;
		}
	} else {
		if (already_restored(c, f, dest, NO_MREF, &mref))
			goto resumed;
		/* An EFS file stored raw goes back raw: its streams as they were
		 * captured, then its $EFS metadata, which makes them encrypted
		 * again.  Never decrypted: the user's keys migrate with the profile. */
		if (f->raw_efs && !raw_efs_prepare(c, index, f, &efs_info, &efs_len, &efs_stream))
			goto out;
		/* Written under PARTIAL_NAME, named once complete (see resume_begin). */
		nv_unlink(c->vol, parent, PARTIAL_NAME); /* a leftover of an interrupted run */
		used = strdup(PARTIAL_NAME);
		if (!used)
			goto nomem;
		st = nv_create(c->vol, parent, used, &mref);
		if (st == NV_ERR_NO_SPACE)
			goto full;
		if (st == NV_ERR_NOMEM)
			goto nomem;
		if (st != NV_OK) {
			problem(c, "%s: cannot create it in %s: %s", f->path, dir, nv_last_error());
			goto out;
		}
		if (f->raw_efs)
			; /* neither sparse nor compressed: EFS excludes both */
		else if (f->sparse)
			nv_set_attributes(c->vol, mref, NV_ATTR_SPARSE);
		else if ((f->attributes & NV_ATTR_COMPRESSED) && nv_set_compressed(c->vol, mref) != NV_OK)
			logf_(c, "%s: restored uncompressed: %s", f->path, nv_last_error());
		for (size_t s = 0; s < f->stream_count; s++) {
			if (s == efs_stream)
				continue;
			const char *sname = s ? f->streams[s].name : NULL;
			if (s && (st = nv_add_stream(c->vol, mref, sname)) != NV_OK) {
				if (st == NV_ERR_NO_SPACE)
					goto undo_full;
				nv_problem(c, st, "%s:%s: cannot add the stream: %s", f->path, sname,
					   nv_last_error());
				continue;
			}
			struct write_ctx w = { c, mref, sname, 0, f->sparse && !s, NV_OK };
			enum st_status rs = st_reader_read(c->r, index, s, write_chunk, &w);
			if (w.st == NV_ERR_NO_SPACE)
				goto undo_full;
			if (rs == ST_ERR_NOMEM || w.st == NV_ERR_NOMEM) {
				nv_unlink(c->vol, parent, used);
				goto nomem;
			}
			if (rs != ST_OK) {
				char why[1024];
				snprintf(why, sizeof(why), "%s", w.st != NV_OK ? nv_last_error() : st_last_error());
				nv_unlink(c->vol, parent, used);
				if (!restore_rules_keep_going(c->rules, f, rs == ST_ERR_CORRUPT ? 1392 : 0,
							      c->o->keep_going)) {
					outcome(c, rs == ST_ERR_CORRUPT ? RESTORE_STORE_CORRUPT : RESTORE_FAILED,
						"%s: %s (nothing of it was kept; --continue skips damaged files)",
						f->path, why);
				} else {
					problem(c, "%s: not restored: %s", f->path, why);
				}
				goto out;
			}
			/* Trailing holes: without them the file would be restored short. */
			if (w.sparse && w.offset &&
			    (st = nv_truncate(c->vol, mref, NULL, f->streams[0].size)) != NV_OK) {
				if (st == NV_ERR_NO_SPACE)
					goto undo_full;
				nv_problem(c, st, "%s: not restored: its length (%llu bytes, the end a "
					   "hole) could not be set: %s", f->path,
					   (unsigned long long)f->streams[0].size, nv_last_error());
				nv_unlink(c->vol, parent, used);
				goto out;
			}
			c->res->bytes += f->streams[s].size;
			if (p)
				c->res->users[p->result].bytes += f->streams[s].size;
		}
		/* Before the attributes and times, as Windows would have written them. */
		restore_ea(c, f, mref);
		if (f->raw_efs && (st = nv_set_efs_info(c->vol, mref, efs_info, efs_len)) != NV_OK) {
			if (st == NV_ERR_NO_SPACE)
				goto undo_full;
			nv_problem(c, st, "%s: not restored: it could not be made EFS-encrypted again "
				   "from its raw form: %s", f->path, nv_last_error());
			nv_unlink(c->vol, parent, used);
			goto out;
		}
		/* Complete: its times first (a resumed run recognises it by them), then its name,
		 * then its reparse data (libntfs-3g loses the record when a reparse point's
		 * temporary name is removed). */
		nv_set_times(c->vol, mref, f->times);
		char *final = NULL;
		uint64_t same;
		st = create_unique(c, parent, name, true, mref, &same, &final);
		if (st != NV_OK) {
			free(final);
			if (st == NV_ERR_NO_SPACE)
				goto undo_full;
			if (st == NV_ERR_NOMEM) {
				nv_unlink(c->vol, parent, used);
				goto nomem;
			}
			problem(c, "%s: cannot name it in %s: %s", f->path, dir, nv_last_error());
			nv_unlink(c->vol, parent, used);
			goto out;
		}
		/* A temporary name left would be a second name of the file. */
		if ((st = nv_unlink(c->vol, parent, used)) != NV_OK)
			nv_problem(c, st, "%s: restored, but its temporary name %s/%s could not be "
				   "removed: %s", f->path, dir, used, nv_last_error());
		free(used);
		used = final;
		if (f->reparse_len && !cloud_tag(f) &&
		    (st = nv_set_reparse(c->vol, mref, f->reparse, f->reparse_len)) != NV_OK)
			nv_problem(c, st, "%s: its reparse data could not be set: %s", f->path,
				   nv_last_error());
	}
	if (cloud_tag(f) && plain_cloud_file(c, f, mref) == NV_ERR_NO_SPACE)
		goto full;
	set_security(c, f, mref, parent, owner);
	/* A failed write here must not pass for a restored file (found by fault injection). */
	if ((st = nv_set_attributes(c->vol, mref, (f->attributes & SETTABLE_ATTRS) |
				      (f->sparse ? NV_ATTR_SPARSE : 0))) != NV_OK ||
	    (st = nv_set_times(c->vol, mref, f->times)) != NV_OK)
		nv_problem(c, st, "%s: its attributes or times could not be set: %s", f->path,
			   nv_last_error());
	release_held(c, &held, f->path);
	uint64_t taken_by;
	if (twin == SIZE_MAX && used && strcmp(used, name) &&
	    nv_lookup(c->vol, dest, &taken_by) == NV_OK &&
	    (twin = mine_find(c, taken_by)) != SIZE_MAX && merge == RESTORE_MERGE_SOURCE)
		merge = twin_merge(c, f, twin);
	if (merge == RESTORE_MERGE_SOURCE && used && strcmp(used, name)) {
		char why[512], *taken = strdup(name);
		if (!taken)
			goto nomem;
		if (restore_rules_replace(c->vol, parent, dest, name, used, why, sizeof(why)) == 0) {
			free(used);
			used = taken;
			c->res->replaced++;
			logf_(c, "%s: replaced the existing %s (SourcePriority)", f->path, dest);
		} else {
			problem(c, "%s: SourcePriority: the existing %s is kept and the restored copy is "
				"%s/%s: %s", f->path, dest, dir, used, why);
			free(taken);
		}
	}
	c->file_mref[index] = mref;
	mine_add(c, mref, index);
	c->res->files++;
	if (p) {
		c->res->users[p->result].files++;
		if (strcmp(used, name))
			c->res->users[p->result].renamed++;
	}
	if (strcmp(used, name)) {
		c->res->renamed++;
		const char *tp = twin != SIZE_MAX ? st_reader_file(c->r, twin)->path : NULL;
		const char *ts = tp ? strrchr(tp, '/') : NULL, *fs = strrchr(f->path, '/');
		size_t tdir = ts ? (size_t)(ts - tp) : 0, fdir = fs ? (size_t)(fs - f->path) : 0;
		if (tp && tdir == fdir && !strncmp(tp, f->path, fdir))
			restore_result_note(c->res, c->o->log, "%s: restored as %s/%s: its name differs "
					    "only in case from %s in the same folder (restored earlier), "
					    "and the target's folder folds case as Windows does", f->path,
					    dir, used, ts ? ts + 1 : tp);
		else if (tp)
			restore_result_note(c->res, c->o->log, "%s: restored as %s/%s: %s, restored "
					    "earlier from %s, has the same name on the target", f->path,
					    dir, used, dest, tp);
		else
			logf_(c, "%s: %s/%s exists; restored as %s", f->path, dir, name, used);
	}
	if (c->o->verbosity & 1)
		logf_(c, "restored %s -> %s/%s", f->path, dir, used);
	goto out;

resumed:
	if (cloud_tag(f) && c->info->format == ST_FORMAT_HARDLINK)
		plain_cloud_file(c, f, mref); /* the kill may have come before it */
	c->file_mref[index] = mref;
	mine_add(c, mref, index);
	c->res->files++;
	if (p)
		c->res->users[p->result].files++;
	if (c->o->verbosity & 1)
		logf_(c, "%s: already restored by the interrupted run", f->path);
	goto out;
undo_full:
	nv_unlink(c->vol, parent, used);
full:
	outcome(c, RESTORE_FAILED, "the target volume is full while restoring %s (%s); stopped. "
		"Files already on the target are untouched; free space and run the restore again",
		f->path, nv_last_error());
	goto out;
nomem:
	nomem(c);
out:
	release_held(c, &held, f->path);
	free(efs_info);
	free(used);
	free(dir);
	free(dest);
	return c->res->outcome;
}
