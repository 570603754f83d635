/*
 * The capture engine (see capture/capture.h and docs/capture.md).
 *
 * One walk of the volume: every entry is mapped to its Windows path (C:\...,
 * relative to the installation's root, so Windows.old/Users/x is C:\Users\x
 * for a Windows.old capture) and decided against the system matcher and every
 * selected user's matcher.  An unconditional exclude in any context wins;
 * otherwise a file is captured when some context includes it, owned by the
 * user whose profile holds it (or the first user that includes it, else the
 * system).  Files are written as they are met, so data is read once and the
 * capture never stages anything.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "capture/internal.h"
#include "rules/rules.h"

/* Accounting: the walk's current entry is counted as found in the profile
 * that holds it (or the system), then settled into exactly one bucket. */
static void
enter_entry(struct scan *s, const char *rel)
{
	long i = acct_context_of(rel, s->profiles, s->profiles ? s->nusers : 0);
	s->cur_ctx = i;
	s->cur = i < 0 ? &s->sys_acct : &s->users[i].acct;
	acct_found(s->cur);
}

static struct acct *
settle_entry(struct scan *s)
{
	struct acct *a = s->cur;
	s->cur = NULL;
	return a;
}

static void
add_skip(struct scan *s, const char *path, const char *owner, const char *reason,
	 enum acct_skip kind)
{
	bool error = kind == ACCT_SKIP_ERROR;
	if (s->nskips == s->capskips) {
		size_t n = s->capskips ? s->capskips * 2 : 64;
		struct skip_item *g = realloc(s->skips, n * sizeof(*g));
		if (!g) {
			scan_fail(s, CAPTURE_ERR_INTERNAL, "out of memory (recording that %s was not captured)",
			     path);
			return;
		}
		s->skips = g;
		s->capskips = n;
	}
	struct skip_item *it = &s->skips[s->nskips];
	it->path = strdup(path);
	it->owner = strdup(owner);
	it->reason = strdup(reason);
	if (!it->path || !it->owner || !it->reason) {
		/* Kept only whole: report.json and the log read every field. */
		free(it->path);
		free(it->owner);
		free(it->reason);
		scan_fail(s, CAPTURE_ERR_INTERNAL, "out of memory (recording that %s was not captured)",
			  path);
		return;
	}
	s->nskips++;
	it->error = error;
	it->kind = kind;
	it->ctx = s->cur ? s->cur_ctx : -2;
	struct acct *a = settle_entry(s);
	if (a)
		acct_skipped(a, kind);
	if (error)
		s->errors++;
	else
		s->not_captured++;
	if (error)
		LOG_ERR(s, "%s: %s", path, reason);
	else
		LOG_WARN(s, "%s not captured: %s", path, reason);
	if (s->wr) {
		struct st_skipped sk = { path, owner, reason };
		enum st_status st = st_writer_add_skipped(s->wr, &sk);
		if (st == ST_ERR_NOMEM)
			scan_out_of_memory(s, "recording a skipped item in the store");
		else if (st)
			scan_fail(s, CAPTURE_ERR_FAILED, "recording that %s was not captured in the store "
				  "failed: %s", path, st_last_error());
	}
	if (error && s->prog) {
		char msg[1200];
		snprintf(msg, sizeof(msg), "%s, action, %s, message, %s", path,
			 s->o->keep_going ? "Ignore" : "Abort", reason);
		scan_progress_line(s, "error", "UnableToCopy, objectName", msg, NULL);
	}
}

/* A per-item error: recorded; without --continue it stops the capture. */
static int
item_error(struct scan *s, const char *path, const char *owner, const char *reason)
{
	add_skip(s, path, owner, reason, ACCT_SKIP_ERROR);
	if (!s->o->keep_going) {
		/* The advice first: a long path and its reason could push it out. */
		scan_fail(s, CAPTURE_ERR_STOPPED,
		     "the capture stopped at this error (--continue, /c in USMT's spelling, "
		     "records such errors and goes on): %s: %s", path, reason);
		return NV_WALK_STOP;
	}
	return NV_WALK_CONTINUE;
}

/* ------------------------------------------------------------ capture -- */

struct owner_pick {
	const char *owner;
	const struct mig_rule_ref *rule;
	struct scan_user *user;
};

/* Decide one object against every context.  Returns the outcome; *pick has
 * the owner and the deciding rule. */
static enum mig_outcome
decide(struct scan *s, enum mig_obj_type type, const char *node, const char *leaf,
       const char *rel, struct owner_pick *pick)
{
	struct mig_decision d;
	enum mig_outcome out = MIG_NOT_SELECTED;
	const struct mig_rule_ref *excl = NULL;
	memset(pick, 0, sizeof(*pick));
	struct owner_pick first = { 0 }, home = { 0 };
	struct mig_query q; /* folded once for every user's matcher */
	if (mig_query_init(&q, type, node, leaf) < 0 || !q.node) {
		scan_out_of_memory(s, "deciding a file against the rules");
		return MIG_NOT_SELECTED;
	}
	for (size_t i = 0; i < s->nusers; i++) {
		struct scan_user *u = &s->users[i];
		if (!u->selected || !u->m)
			continue;
		mig_matcher_decide_query(u->m, &q, &d);
		if (d.outcome == MIG_UNCOND_EXCLUDED) {
			mig_query_free(&q);
			pick->rule = d.rule;
			return MIG_UNCOND_EXCLUDED;
		}
		if (d.outcome == MIG_INCLUDED) {
			size_t n = strlen(u->rel_profile);
			bool inside = rel && n && !strncasecmp(rel, u->rel_profile, n) &&
				      (rel[n] == '/' || !rel[n]);
			if (!first.owner)
				first = (struct owner_pick){ u->sid, d.rule, u };
			if (inside && !home.owner)
				home = (struct owner_pick){ u->sid, d.rule, u };
		} else if (d.outcome == MIG_EXCLUDED && !excl) {
			excl = d.rule;
		}
	}
	if (s->sysm) {
		mig_matcher_decide_query(s->sysm, &q, &d);
		if (d.outcome == MIG_UNCOND_EXCLUDED) {
			mig_query_free(&q);
			pick->rule = d.rule;
			return MIG_UNCOND_EXCLUDED;
		}
		if (d.outcome == MIG_INCLUDED && !first.owner)
			first = (struct owner_pick){ ST_OWNER_SYSTEM, d.rule, NULL };
		else if (d.outcome == MIG_EXCLUDED && !excl)
			excl = d.rule;
	}
	mig_query_free(&q);
	if (home.owner) {
		*pick = home;
		out = MIG_INCLUDED;
	} else if (first.owner) {
		*pick = first;
		out = MIG_INCLUDED;
	} else if (excl) {
		pick->rule = excl;
		out = MIG_EXCLUDED;
	}
	return out;
}

static void
account(struct scan *s, struct owner_pick *p, uint64_t bytes, bool link)
{
	struct acct *a = settle_entry(s);
	if (a)
		acct_captured(a);
	if (link)
		s->links++;
	else
		s->files++;
	s->bytes += bytes;
	if (p->user) {
		p->user->files++;
		p->user->bytes += bytes;
	} else {
		s->sys_files++;
		s->sys_bytes += bytes;
	}
}

/* Copy one stream from the volume into the store.  A read error sets
 * *@why (the file is then dropped from the store, or the capture stops). */
static enum st_status
copy_stream(struct scan *s, struct nv_reader *r, const char *path, const char *stream,
	    uint64_t *copied, char *why, size_t whylen)
{
	uint64_t off = 0;
	for (;;) {
		size_t got = 0;
		enum nv_status ns = nv_reader_pread(r, s->buf, READ_CHUNK, off, &got);
		if (ns == NV_ERR_NOMEM) {
			scan_out_of_memory(s, "reading a file on the volume");
			return ST_ERR_NOMEM;
		}
		if (ns != NV_OK) {
			snprintf(why, whylen, "reading %s%s failed at byte %llu of %llu (%s)",
				 *stream ? "stream " : "its data", stream, (unsigned long long)off,
				 (unsigned long long)nv_reader_size(r), nv_last_error());
			return ST_ERR_IO;
		}
		if (!got)
			break;
		enum st_status st = st_writer_write_data(s->wr, s->buf, got);
		if (st) {
			scan_store_fail(s, st, "writing %s into the store failed: %s", path,
			     st_last_error());
			return st;
		}
		off += got;
		*copied += got;
		if (scan_canceled(s))
			return ST_ERR_IO;
	}
	return ST_OK;
}

/* EAs go into the store as they are on disk; one that ntfs/ would not
 * write back is said now, so the restore's refusal is no surprise. */
static void
note_ea(struct scan *s, const struct nv_inode *in, const char *winpath)
{
	if (!in->ea_len)
		return;
	size_t n = 0;
	if (nv_ea_check(in->ea, in->ea_len, &n) != NV_OK) {
		LOG_WARN(s, "%s: its extended attributes are damaged (%s); stored as they are, a "
			 "restore will not write them", winpath, nv_last_error());
		scan_say(s, CAPTURE_WARNING, "%s: its extended attributes are damaged (%s); stored "
			 "as they are, a restore will not write them", winpath, nv_last_error());
	}
	else if (VERBOSE(s))
		LOG_INFO(s, "%s has %zu extended attribute%s (%zu bytes): stored", winpath, n,
			 n == 1 ? "" : "s", in->ea_len);
}

static int
capture_file(struct scan *s, const struct nv_entry *e, const char *rel, const char *winpath,
	     struct owner_pick *pick)
{
	const struct nv_inode *in = e->inode;
	char dec[600];
	scan_decision_text(pick->rule, dec, sizeof(dec));
	if (VERBOSE(s))
		LOG_INFO(s, "%s: captured for %s by %s", winpath, pick->owner, dec);
	if (!s->wr) { /* estimate */
		uint64_t sz = in->size;
		for (size_t i = 0; i < in->stream_count; i++)
			sz += in->streams[i].size;
		s->est_files++;
		s->est_bytes += (sz + s->cluster - 1) / s->cluster * s->cluster;
		account(s, pick, sz, false);
		return NV_WALK_CONTINUE;
	}
	/* Open every stream before the store hears of the file: an unreadable
	 * file is then an error on its own, never a half-written entry. */
	size_t nstreams = in->stream_count;
	struct nv_reader **readers = calloc(nstreams + 1, sizeof(*readers));
	int ret = NV_WALK_CONTINUE;
	if (!readers) {
		scan_fail(s, CAPTURE_ERR_INTERNAL, "out of memory");
		return NV_WALK_STOP;
	}
	bool hardlink = s->o->hardlink;
	/* --efs copyraw: the file as it is on disk, ciphertext and $EFS metadata,
	 * never decrypted (ntfs/'s raw EFS readers). */
	bool raw = !hardlink && (in->kind & NV_IS_ENCRYPTED) && s->o->efs == CAPTURE_EFS_COPYRAW;
	uint8_t *efs_info = NULL;
	size_t efs_len = 0;
	enum nv_status ns;
	if (raw && (ns = nv_efs_info(s->vol, in->mref, &efs_info, &efs_len)) != NV_OK) {
		if (ns == NV_ERR_NOMEM) {
			scan_out_of_memory(s, "reading a file's $EFS metadata");
			ret = NV_WALK_STOP;
			goto out;
		}
		char why[800];
		snprintf(why, sizeof(why), "EFS-encrypted, and its $EFS metadata cannot be read: %s",
			 nv_last_error());
		ret = item_error(s, winpath, pick->owner, why);
		goto out;
	}
	if (!hardlink) {
		for (size_t i = 0; i <= nstreams; i++) {
			const char *name = i ? in->streams[i - 1].name : NULL;
			ns = (raw ? nv_reader_open_raw : nv_reader_open)(s->vol, in->mref, name,
									 &readers[i]);
			if (ns == NV_ERR_NOMEM) {
				scan_out_of_memory(s, "opening a file on the volume");
				ret = NV_WALK_STOP;
				goto out;
			}
			if (ns != NV_OK) {
				char why[800];
				snprintf(why, sizeof(why), "cannot be read%s%s: %s", name ? " (stream " : "",
					 name ? name : "", nv_last_error());
				if (name)
					strcat(why, ")");
				ret = item_error(s, winpath, pick->owner, why);
				goto out;
			}
		}
	}
	struct st_file f = { 0 };
	f.path = rel;
	f.owner = pick->owner;
	f.decision = dec;
	f.source_id = in->mref;
	f.attributes = in->attributes;
	memcpy(f.times, in->times, sizeof(f.times));
	f.security = in->security;
	f.security_len = in->security_len;
	f.reparse = in->reparse;
	f.reparse_len = in->reparse_len;
	f.ea = in->ea;
	f.ea_len = in->ea_len;
	note_ea(s, in, winpath);
	f.sparse = (in->kind & NV_IS_SPARSE) != 0;
	if (raw) {
		/* Marked encrypted, so every reader knows the data is ciphertext. */
		f.attributes |= NV_ATTR_ENCRYPTED;
		f.sparse = false;
	}
	bool need = false;
	enum st_status st = st_writer_begin_file(s->wr, &f, &need);
	if (st == ST_ERR_REFUSED || st == ST_ERR_UNSAFE || st == ST_ERR_INVALID) {
		ret = item_error(s, winpath, pick->owner, st_last_error());
		goto out;
	}
	if (st) {
		scan_store_fail(s, st, "the store refused %s: %s", winpath, st_last_error());
		ret = NV_WALK_STOP;
		goto out;
	}
	uint64_t copied = 0;
	char read_why[700] = "";
	if (need) {
		if (f.sparse)
			LOG_INFO(s, "%s is sparse: its holes are stored as the zeros they read as",
				 winpath);
		for (size_t i = 0; i <= nstreams && !ret; i++) {
			const char *name = i ? in->streams[i - 1].name : "";
			if (i && (st = st_writer_begin_stream(s->wr, name))) {
				scan_store_fail(s, st, "writing %s:%s into the store failed: %s", winpath,
				     name, st_last_error());
				ret = NV_WALK_STOP;
				break;
			}
			if (copy_stream(s, readers[i], winpath, name, &copied, read_why, sizeof(read_why)))
				ret = NV_WALK_STOP;
		}
		if (raw && !ret && (st = st_writer_add_stream(s->wr, ST_EFS_STREAM, efs_info, efs_len))) {
			scan_store_fail(s, st, "writing the $EFS metadata of %s into the store failed: %s",
			     winpath, st_last_error());
			ret = NV_WALK_STOP;
		}
		if (raw && !ret && VERBOSE(s))
			LOG_INFO(s, "%s is EFS-encrypted: stored raw (ciphertext and $EFS metadata)",
				 winpath);
	}
	if (ret && read_why[0]) {
		/* The source failed part-way: the store takes the file back, so it
		 * never holds a partial copy, and the error is the file's own. */
		if ((st = st_writer_cancel_file(s->wr))) {
			scan_store_fail(s, st, "%s: %s, and the store could not drop the partial "
			     "copy: %s", winpath, read_why, st_last_error());
			goto out;
		}
		ret = item_error(s, winpath, pick->owner, read_why);
		goto out;
	}
	if (!ret && (st = st_writer_end_file(s->wr))) {
		scan_store_fail(s, st, "finishing %s in the store failed: %s", winpath, st_last_error());
		ret = NV_WALK_STOP;
	}
	if (!ret) {
		bool link = !need && !hardlink;
		if (hardlink) {
			copied = in->size;
			for (size_t i = 0; i < in->stream_count; i++)
				copied += in->streams[i].size;
		}
		account(s, pick, copied, link);
		if (s->list)
			fprintf(s->list, "%s\n", winpath);
	}
out:
	for (size_t i = 0; i <= nstreams; i++)
		if (readers[i])
			nv_reader_close(readers[i]);
	free(readers);
	free(efs_info);
	return ret;
}

/* The user whose profile holds @rel (selected or not), else the system: the
 * accounting's rule, so report.json never gives one path two owners. */
static const char *
profile_owner(struct scan *s, const char *rel)
{
	long i = acct_context_of(rel, s->profiles, s->profiles ? s->nusers : 0);
	return i < 0 ? ST_OWNER_SYSTEM : s->users[i].sid;
}

/*
 * A cloud folder is walked like a plain folder, and its hydrated files are
 * captured like any other; what is left is the folder's own cloud state (its
 * reparse data, the sync root's SyncRootIdentity stream), which belongs to
 * this Windows' registration of the OneDrive account and is not stored:
 * restore makes a plain folder (docs/restore.md).  Named in the log and in
 * report.json's cloud_folders, so nothing goes without a word.
 */
static int
note_cloud_folder(struct scan *s, const struct nv_entry *e, const char *winpath)
{
	const struct nv_inode *in = e->inode;
	size_t len = 1;
	for (size_t i = 0; i < in->stream_count; i++)
		len += strlen(in->streams[i].name) + 2;
	char *streams = malloc(len);
	if (!streams) {
		scan_fail(s, CAPTURE_ERR_INTERNAL, "out of memory");
		return NV_WALK_STOP;
	}
	streams[0] = '\0';
	bool sync_root = (in->kind & NV_IS_SYNC_ROOT) != 0;
	for (size_t i = 0; i < in->stream_count; i++) {
		if (i)
			strcat(streams, ", ");
		strcat(streams, in->streams[i].name);
	}
	bool partial = (in->kind & NV_IS_DEHYDRATED) != 0;
	LOG_INFO(s, "%s is a cloud folder (reparse tag 0x%08x%s%s%s): entered like a plain folder, "
		 "its files captured by the rules; its cloud reparse data %s to this Windows' "
		 "OneDrive registration): restored as a plain folder", winpath, in->reparse_tag,
		 sync_root ? ", OneDrive sync root" : "", streams[0] ? "; streams " : "", streams,
		 streams[0] ? "and streams are not stored (both belong" : "is not stored (it belongs");
	if (partial)
		LOG_WARN(s, "%s: the cloud folder is not fully on this disk (attributes 0x%08x): entries "
			 "only in the cloud are not listed in it, so they cannot be captured", winpath,
			 in->attributes);
	if (s->nclouds == s->capclouds) {
		size_t n = s->capclouds ? s->capclouds * 2 : 16;
		struct cloud_folder *g = realloc(s->clouds, n * sizeof(*g));
		if (!g) {
			free(streams);
			scan_fail(s, CAPTURE_ERR_INTERNAL, "out of memory");
			return NV_WALK_STOP;
		}
		s->clouds = g;
		s->capclouds = n;
	}
	struct cloud_folder *c = &s->clouds[s->nclouds];
	c->path = strdup(winpath);
	c->owner = strdup(profile_owner(s, e->path));
	if (!c->path || !c->owner) {
		free(c->path);
		free(c->owner);
		free(streams);
		scan_fail(s, CAPTURE_ERR_INTERNAL, "out of memory");
		return NV_WALK_STOP;
	}
	s->nclouds++;
	c->streams = streams;
	c->tag = in->reparse_tag;
	c->sync_root = sync_root;
	c->partial = partial;
	return NV_WALK_CONTINUE;
}

/* One data-less folder entry: its attributes, times, security descriptor,
 * EAs and (for a link) reparse buffer.  0, or the walk verdict to return. */
static int
store_folder_entry(struct scan *s, const struct nv_inode *in, const char *rel, const char *winpath,
		   struct owner_pick *pick, bool link, int *verdict)
{
	char dec[600];
	scan_decision_text(pick->rule, dec, sizeof(dec));
	struct st_file f = { 0 };
	f.path = rel;
	f.owner = pick->owner;
	f.decision = dec;
	f.source_id = in->mref;
	f.attributes = in->attributes | NV_ATTR_DIRECTORY | (link ? NV_ATTR_REPARSE_POINT : 0);
	memcpy(f.times, in->times, sizeof(f.times));
	f.security = in->security;
	f.security_len = in->security_len;
	if (link) {
		f.reparse = in->reparse;
		f.reparse_len = in->reparse_len;
	}
	f.ea = in->ea;
	f.ea_len = in->ea_len;
	note_ea(s, in, winpath);
	bool need = false;
	enum st_status st = st_writer_begin_file(s->wr, &f, &need);
	if (st == ST_ERR_REFUSED || st == ST_ERR_UNSAFE || st == ST_ERR_INVALID) {
		*verdict = item_error(s, winpath, pick->owner, st_last_error());
		return -1;
	}
	if (!st)
		st = st_writer_end_file(s->wr);
	if (st) {
		scan_store_fail(s, st, "the store refused %s: %s", winpath, st_last_error());
		*verdict = NV_WALK_STOP;
		return -1;
	}
	return 0;
}

/* A plain folder with extended attributes (WSL keeps a Linux folder's owner
 * and mode there): a data-less store entry for them, the folder itself being
 * made again by path as any folder is. */
static int
capture_folder_ea(struct scan *s, const struct nv_entry *e, const char *rel, const char *winpath,
		  struct owner_pick *pick)
{
	int verdict;
	if (!s->wr)
		return NV_WALK_CONTINUE;
	if (store_folder_entry(s, e->inode, rel, winpath, pick, false, &verdict) < 0)
		return verdict;
	if (VERBOSE(s))
		LOG_INFO(s, "%s is a folder with extended attributes: they are stored", winpath);
	return NV_WALK_CONTINUE;
}

/* A junction or folder symlink: its attributes, times, security descriptor
 * and reparse buffer as one data-less store entry; what it points at is
 * never read. */
static int
capture_folder_link(struct scan *s, const struct nv_entry *e, const char *rel, const char *winpath,
		    struct owner_pick *pick)
{
	const struct nv_inode *in = e->inode;
	struct acct *a;
	int verdict;
	if (!s->wr) { /* estimate: the entry costs no clusters of data */
		s->links_stored++;
		if ((a = settle_entry(s)))
			acct_captured(a);
		return NV_WALK_CONTINUE;
	}
	if (store_folder_entry(s, in, rel, winpath, pick, true, &verdict) < 0)
		return verdict;
	s->links_stored++;
	if ((a = settle_entry(s)))
		acct_captured(a);
	char *target;
	nv_reparse_target(in, &target); /* NULL when it cannot be read: logged without */
	LOG_INFO(s, "%s is a %s%s%s: stored as a link, not followed", winpath,
		 (in->kind & NV_IS_JUNCTION) ? "junction" : "folder link", target ? " -> " : "",
		 target ? target : "");
	free(target);
	if (s->list)
		fprintf(s->list, "%s\n", winpath);
	return NV_WALK_CONTINUE;
}

/* A winstate (or USMT-layout) store another capture left on this volume: its
 * files are links to, or copies of, files captured anyway.  Looked for only in
 * the top two levels (C:\MigStore, C:\Stores\PC1), where stores are put. */
static bool
is_store_folder(struct scan *s, uint64_t mref)
{
	static const char *const marks[] = { "catalog", "catalog.partial", "USMT/USMT.MIG",
					     "USMT/USMT.MIG.partial" };
	uint64_t usmt, m;
	if (nv_lookup_in(s->vol, mref, "USMT", &usmt) != NV_OK)
		return false;
	for (size_t i = 0; i < sizeof(marks) / sizeof(marks[0]); i++) {
		bool below = !strncmp(marks[i], "USMT/", 5);
		if (nv_lookup_in(s->vol, below ? usmt : mref, marks[i] + (below ? 5 : 0), &m) == NV_OK)
			return true;
	}
	return false;
}

static bool
is_always_excluded(struct scan *s, const char *rel, unsigned depth, bool dir, uint64_t mref,
		   const char **why)
{
	if (s->store_rel && !strcasecmp(rel, s->store_rel)) {
		*why = "the store being written";
		return true;
	}
	if (depth <= 1 && dir && is_store_folder(s, mref)) {
		*why = "another capture's store (never captured again: its files are links to or "
		       "copies of files the rules decide on where they are)";
		return true;
	}
	if (depth == 0 && !dir &&
	    (!strcasecmp(rel, "pagefile.sys") || !strcasecmp(rel, "hiberfil.sys") ||
	     !strcasecmp(rel, "swapfile.sys"))) {
		*why = "Windows' paging/hibernation file (never user data)";
		return true;
	}
	if (depth == 0 && dir && !strcasecmp(rel, "System Volume Information")) {
		*why = "System Volume Information (restore points, indexes: never migrated)";
		return true;
	}
	return false;
}

static int
scan_walk_entry(const struct nv_entry *e, void *ctx)
{
	struct scan *s = ctx;
	if (scan_canceled(s)) {
		scan_fail(s, CAPTURE_ERR_CANCELED, "stopped by signal %d; the store was abandoned",
			  (int)*s->o->cancel);
		return NV_WALK_STOP;
	}
	s->entries++;
	s->cur = NULL;
	const char *rel = e->path;
	/* Windows path: C:\ + rel with backslashes; node = its folder. */
	size_t rlen = strlen(rel);
	char *win = malloc(rlen + 4);
	if (!win) {
		scan_fail(s, CAPTURE_ERR_INTERNAL, "out of memory");
		return NV_WALK_STOP;
	}
	memcpy(win, "C:\\", 3);
	for (size_t i = 0; i <= rlen; i++)
		win[3 + i] = rel[i] == '/' ? '\\' : rel[i];
	char *last = strrchr(win, '\\');
	int ret = NV_WALK_CONTINUE;
	const char *why;
	if (!e->inode && e->status == NV_ERR_NOMEM) {
		/* Not the entry's fault: never one of the items --continue goes past. */
		scan_out_of_memory(s, "reading the volume");
		ret = NV_WALK_STOP;
		goto out;
	}
	if (!e->inode) {
		/* An unreadable entry, or a folder that cannot be listed: one entry. */
		enter_entry(s, rel);
		ret = item_error(s, win, ST_OWNER_SYSTEM, e->error ? e->error : "cannot be read");
		goto out;
	}
	const struct nv_inode *in = e->inode;
	bool dir = (in->kind & NV_IS_DIR) != 0;
	s->walked_bytes += in->allocated;
	if (is_always_excluded(s, rel, e->depth, dir, e->mref, &why)) {
		LOG_INFO(s, "%s not captured: %s", win, why);
		/* A folder left out so is not entered: it counts as one entry. */
		enter_entry(s, rel);
		if (acct_excluded(settle_entry(s), NULL, why) < 0) {
			scan_fail(s, CAPTURE_ERR_INTERNAL, "out of memory");
			ret = NV_WALK_STOP;
		} else {
			ret = dir ? NV_WALK_SKIP : NV_WALK_CONTINUE;
		}
		goto out;
	}
	if (dir && (in->kind & NV_IS_CLOUD)) {
		/* Named, then entered and restored as a plain folder (below). */
		ret = note_cloud_folder(s, e, win);
		if (ret != NV_WALK_CONTINUE)
			goto out;
	}
	/* The object: node = folder, leaf = name. */
	char node[8];
	const char *nodep = win;
	if (last == win + 2) { /* at the root: node "C:\" */
		memcpy(node, "C:\\", 4);
		nodep = node;
	}
	struct owner_pick pick;
	enum mig_outcome out;
	if (dir && (!(in->kind & NV_IS_REPARSE) || (in->kind & NV_IS_CLOUD))) {
		/* A plain folder is made again by path and is no entry of the
		 * account (its contents are); only its EAs need a store entry, kept
		 * when a file of its name here would be. */
		if (in->ea_len) {
			*last = 0;
			out = decide(s, MIG_OBJ_FILE, nodep, last + 1, rel, &pick);
			*last = '\\';
			if (out == MIG_INCLUDED)
				ret = capture_folder_ea(s, e, rel, win, &pick);
		}
		goto out;
	}
	/* From here on the entry is a file or a folder the walk does not enter
	 * (junction, symlink, other reparse folder): one entry of the account,
	 * settled by whichever branch below decides it. */
	enter_entry(s, rel);
	*last = 0;
	out = decide(s, MIG_OBJ_FILE, nodep, last + 1, rel, &pick);
	*last = '\\';
	if (out != MIG_INCLUDED) {
		struct acct *a = settle_entry(s);
		if (out == MIG_NOT_SELECTED) {
			acct_not_selected(a);
		} else if (acct_excluded(a, pick.rule, NULL) < 0) {
			scan_fail(s, CAPTURE_ERR_INTERNAL, "out of memory");
			ret = NV_WALK_STOP;
			goto out;
		}
		if (VERBOSE(s) && out != MIG_NOT_SELECTED) {
			char dec[600];
			scan_decision_text(pick.rule, dec, sizeof(dec));
			LOG_INFO(s, "%s: %s by %s", win, mig_outcome_name(out), dec);
		}
		goto out;
	}
	if (dir && (in->kind & (NV_IS_JUNCTION | NV_IS_SYMLINK))) {
		/* Junctions and folder symlinks: stored as links, never followed
		 * (nv_walk does not descend into them). */
		ret = capture_folder_link(s, e, rel, win, &pick);
		goto out;
	}
	if (dir) {
		/* Another kind of reparse folder (app link, unknown tag...): nv_walk
		 * does not enter it, and restore could not make it again. */
		char why[200];
		snprintf(why, sizeof(why), "a folder with reparse tag 0x%08x (not a junction or "
			 "symbolic link): not followed, not captured", in->reparse_tag);
		add_skip(s, win, pick.owner, why, ACCT_SKIP_REPARSE_FOLDER);
		goto out;
	}
	if (in->kind & NV_IS_DEHYDRATED) {
		add_skip(s, win, pick.owner,
			 "cloud placeholder (OneDrive Files On-Demand): its data is only in the cloud, "
			 "not on this disk; it was not captured (it comes back when the user signs in "
			 "to OneDrive)", ACCT_SKIP_DEHYDRATED);
		goto out;
	}
	if (in->kind & NV_IS_WOF) {
		add_skip(s, win, pick.owner,
			 "WOF-compressed (compact OS) file: winstate does not decompress WOF data, so it "
			 "was not captured rather than stored wrong", ACCT_SKIP_WOF);
		goto out;
	}
	if ((in->kind & NV_IS_ENCRYPTED) && !s->o->estimate) {
		switch (s->o->efs) {
		case CAPTURE_EFS_ABORT:
			scan_fail(s, CAPTURE_ERR_EFS,
			     "%s is EFS-encrypted, and %s (the default) stops the capture on encrypted "
			     "files; use %s to leave them out (each is listed)%s%s", win,
			     s->o->usmt ? "/efs:abort" : "--efs abort", s->o->usmt ? "/efs:skip" : "--efs skip",
			     s->o->hardlink ? " or link them with " : "",
			     s->o->hardlink ? (s->o->usmt ? "/efs:hardlink" : "--efs hardlink") : "");
			ret = NV_WALK_STOP;
			goto out;
		case CAPTURE_EFS_SKIP:
			add_skip(s, win, pick.owner, "EFS-encrypted; skipped (--efs skip)", ACCT_SKIP_EFS);
			goto out;
		case CAPTURE_EFS_COPYRAW: /* stored raw by capture_file */
		case CAPTURE_EFS_HARDLINK:
			break;
		}
	}
	ret = capture_file(s, e, rel, win, &pick);
out:
	free(win);
	scan_tick(s, false);
	/* Once the run has failed nothing more is captured; and a stop is
	 * always the run's failure, so that it cannot end as done. */
	if (s->fail)
		ret = NV_WALK_STOP;
	if (ret == NV_WALK_STOP)
		s->walk_stopped = true;
	return ret;
}

enum capture_outcome
scan_walk(struct scan *s)
{
	enum nv_status ws = nv_walk(s->vol, s->root, scan_walk_entry, s);
	if (ws == NV_ERR_NOMEM)
		scan_out_of_memory(s, "walking the volume");
	else if (ws != NV_OK && !s->fail)
		scan_fail(s, CAPTURE_ERR_SOURCE, "the volume could not be walked: %s", nv_last_error());
	if (scan_canceled(s))
		scan_fail(s, CAPTURE_ERR_CANCELED, "stopped by signal %d; the store was abandoned",
			  (int)*s->o->cancel);
	if (s->walk_stopped && !s->fail)
		scan_fail(s, CAPTURE_ERR_INTERNAL, "internal error: the walk stopped without a reason");
	return s->fail;
}
