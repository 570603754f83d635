/*
 * The capture engine (see agent/scan.h and docs/capture.md).
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
#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <ftw.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "capture/internal.h"
#include "windows/windows.h"
#include "formats/formats.h"
#include "capture/capture.h"
#include "rules/rules.h"

#define READ_CHUNK (1u << 20)

static volatile sig_atomic_t stop_signal;

static void
on_signal(int sig)
{
	stop_signal = sig;
}

struct skip_item {
	char *path, *owner, *reason;
	bool error;                 /* an error continued past (vs. not captured by design) */
	enum acct_skip kind;
	long ctx;                   /* accounting: user index, -1 the system, -2 none */
};

/* A cloud-tagged folder (OneDrive sync root or one of its folders): entered
 * like a plain folder, its own cloud state not stored, so it is named here. */
struct cloud_folder {
	char *path, *owner;
	char *streams;              /* its named streams, ", "-separated ("" for none) */
	uint32_t tag;
	bool sync_root;             /* carries OneDrive's {GUID}.SyncRootIdentity stream */
	bool partial;               /* RECALL_ON_OPEN/OFFLINE: not every entry is on this disk */
};

struct scan_user {
	const struct win_user *u;
	char *sid;                  /* without ".bak" */
	char *rel_profile;          /* profile folder relative to the install root */
	char *domains[3];
	size_t ndomains;
	bool selected;
	char why[160];
	mig_vars *vars;
	struct win_rules_host host;
	bool host_ok;
	mig_matcher *m;
	uint64_t files, bytes, regs;
	struct acct acct;           /* the entries below the profile folder */
};

/* A rule pattern whose variable is undefined, once for all the contexts it
 * was met in ("system", "alice" ...). */
struct unresolved_item {
	const struct mig_unresolved *u;  /* the first context's; the matcher owns it */
	char *contexts;                 /* JSON array body: "\"system\", \"alice\"" */
};

struct seen_set {               /* registry values already stored: "owner|key|name" */
	char **slots;
	size_t n, cap;
};

struct scan {
	const struct capture_options *o;
	struct nv_volume *vol;
	struct win_offline *w;
	const char *root;           /* install root on the volume: "" or "Windows.old" */
	struct scan_user *users;
	size_t nusers;
	mig_vars *sysvars;
	struct win_rules_host syshost;
	bool syshost_ok;
	mig_matcher *sysm;
	mig_ruleset *rs;
	mig_config *cfg;
	mig_diags *diags;
	struct st_writer *wr;
	char *store_rel;            /* hard-link store folder on the volume, excluded */
	FILE *log, *prog, *list;
	int verbosity;
	/* counters */
	uint64_t files, links, bytes, regs, sys_files, sys_bytes;
	uint64_t est_bytes, est_files;
	uint64_t entries, walked_bytes, used_bytes;
	uint64_t errors, not_captured, links_stored;
	uint32_t cluster;
	struct skip_item *skips;
	size_t nskips, capskips;
	/* accounting: the walk's entries by the profile that holds them */
	const char **profiles;      /* per user: the folder counted for it, or NULL */
	struct acct sys_acct;       /* entries outside every profile */
	struct acct *cur;           /* the entry being decided, until it is counted */
	long cur_ctx;
	struct cloud_folder *clouds;
	size_t nclouds, capclouds;
	struct seen_set seen;
	struct unresolved_item *unres;
	size_t nunres;
	enum capture_outcome fail;
	char failmsg[2048];
	uint8_t *buf;
	double t0, last_tick;
	bool tty;
	time_t start;
};

/* ------------------------------------------------------------ helpers -- */

static double
now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void
stamp(char *buf, size_t len)
{
	time_t t = time(NULL);
	struct tm tm;
	localtime_r(&t, &tm);
	strftime(buf, len, "%Y-%m-%d %H:%M:%S", &tm);
}

static void __attribute__((format(printf, 3, 4)))
logf_(struct scan *s, const char *level, const char *fmt, ...)
{
	if (!s->log)
		return;
	char ts[32];
	stamp(ts, sizeof(ts));
	fprintf(s->log, "%s, %-7s ", ts, level);
	va_list ap;
	va_start(ap, fmt);
	vfprintf(s->log, fmt, ap);
	va_end(ap);
	fputc('\n', s->log);
}
#define LOG_INFO(s, ...) logf_(s, "Info", __VA_ARGS__)
#define LOG_WARN(s, ...) logf_(s, "Warning", __VA_ARGS__)
#define LOG_ERR(s, ...) logf_(s, "Error", __VA_ARGS__)
#define VERBOSE(s) ((s)->verbosity & 1)

/* USMT's progress log: "date, local time, migration time, key, value, ...". */
static void
progress_line(struct scan *s, const char *kv1, const char *v1, const char *kv2, const char *v2)
{
	if (!s->prog)
		return;
	time_t t = time(NULL);
	struct tm tm;
	localtime_r(&t, &tm);
	char date[32], clock_[32];
	strftime(date, sizeof(date), "%d %b %Y", &tm);
	strftime(clock_, sizeof(clock_), "%H:%M:%S %z", &tm);
	long el = (long)(now_s() - s->t0);
	fprintf(s->prog, "%s, %s, %02ld:%02ld:%02ld, %s, %s", date, clock_, el / 3600,
		el / 60 % 60, el % 60, kv1, v1);
	if (kv2)
		fprintf(s->prog, ", %s, %s", kv2, v2);
	fputc('\n', s->prog);
	fflush(s->prog);
}

static void
fail(struct scan *s, enum capture_outcome why, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void
fail(struct scan *s, enum capture_outcome why, const char *fmt, ...)
{
	if (s->fail)
		return;
	s->fail = why;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(s->failmsg, sizeof(s->failmsg), fmt, ap);
	va_end(ap);
	LOG_ERR(s, "%s", s->failmsg);
}

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
			fail(s, CAPTURE_ERR_INTERNAL, "out of memory (recording that %s was not captured)",
			     path);
			return;
		}
		s->skips = g;
		s->capskips = n;
	}
	struct skip_item *it = &s->skips[s->nskips++];
	it->path = strdup(path);
	it->owner = strdup(owner);
	it->reason = strdup(reason);
	it->error = error;
	it->kind = kind;
	it->ctx = s->cur ? s->cur_ctx : -2;
	struct acct *a = settle_entry(s);
	if (a)
		acct_skipped(a, kind);
	if (!it->path || !it->owner || !it->reason)
		fail(s, CAPTURE_ERR_INTERNAL, "out of memory (recording that %s was not captured)", path);
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
		st_writer_add_skipped(s->wr, &sk);
	}
	if (error && s->prog) {
		char msg[1200];
		snprintf(msg, sizeof(msg), "%s, action, %s, message, %s", path,
			 s->o->keep_going ? "Ignore" : "Abort", reason);
		progress_line(s, "error", "UnableToCopy, objectName", msg, NULL);
	}
}

/* A per-item error: recorded; without --continue it stops the capture. */
static int
item_error(struct scan *s, const char *path, const char *owner, const char *reason)
{
	add_skip(s, path, owner, reason, ACCT_SKIP_ERROR);
	if (!s->o->keep_going) {
		/* The advice first: a long path and its reason could push it out. */
		fail(s, CAPTURE_ERR_STOPPED,
		     "the capture stopped at this error (--continue, /c in USMT's spelling, "
		     "records such errors and goes on): %s: %s", path, reason);
		return NV_WALK_STOP;
	}
	return NV_WALK_CONTINUE;
}

static uint64_t
hash_str(const char *s)
{
	uint64_t h = 1469598103934665603ull;
	for (; *s; s++)
		h = (h ^ (unsigned char)(*s >= 'A' && *s <= 'Z' ? *s + 32 : *s)) * 1099511628211ull;
	return h;
}

/* Insert; false when already there. */
static bool
seen_add(struct seen_set *set, const char *key)
{
	if ((set->n + 1) * 2 > set->cap) {
		size_t cap = set->cap ? set->cap * 2 : 256;
		char **slots = calloc(cap, sizeof(*slots));
		if (!slots)
			return true;
		for (size_t i = 0; i < set->cap; i++)
			if (set->slots[i]) {
				size_t j = hash_str(set->slots[i]) & (cap - 1);
				while (slots[j])
					j = (j + 1) & (cap - 1);
				slots[j] = set->slots[i];
			}
		free(set->slots);
		set->slots = slots;
		set->cap = cap;
	}
	size_t j = hash_str(key) & (set->cap - 1);
	while (set->slots[j]) {
		if (!strcasecmp(set->slots[j], key))
			return false;
		j = (j + 1) & (set->cap - 1);
	}
	set->slots[j] = strdup(key);
	set->n++;
	return true;
}

static void
seen_free(struct seen_set *set)
{
	for (size_t i = 0; i < set->cap; i++)
		free(set->slots[i]);
	free(set->slots);
}

static const char *
base_name(const char *p)
{
	const char *s = strrchr(p, '/');
	return s ? s + 1 : p;
}

static void
decision_text(const struct mig_rule_ref *r, char *buf, size_t len)
{
	if (!r) {
		snprintf(buf, len, "-");
		return;
	}
	snprintf(buf, len, "%s:%u %s (component \"%s\")", base_name(r->file), r->line,
		 mig_rule_kind_name(r->kind), r->component ? r->component : "");
}

/* ------------------------------------------------------------ progress -- */

static void
tick(struct scan *s, bool final)
{
	double t = now_s();
	if (!final && t - s->last_tick < (s->tty ? 0.25 : 10.0))
		return;
	s->last_tick = t;
	double el = t - s->t0;
	double rate = el > 0 ? (double)s->bytes / el : 0;
	double frac = s->used_bytes ? (double)s->walked_bytes / (double)s->used_bytes : 0;
	if (frac > 0.99 && !final)
		frac = 0.99;
	if (final)
		frac = 1;
	char b1[32], b2[32], eta[32] = "";
	if (frac > 0.02 && !final) {
		long rem = (long)(el / frac - el);
		snprintf(eta, sizeof(eta), ", ETA %ld:%02ld", rem / 60, rem % 60);
	}
	if (!s->o->json || s->tty) {
		fprintf(stderr, "%s%s: %3.0f%%  %llu files, %s captured, %s/s%s%s", s->tty ? "\r" : "",
			s->o->prog, frac * 100, (unsigned long long)(s->files + s->links),
			fmt_size(s->bytes, b1, sizeof(b1)), fmt_size((uint64_t)rate, b2, sizeof(b2)),
			eta, s->tty ? "\033[K" : "\n");
		if (final && s->tty)
			fputc('\n', stderr);
	}
	if (s->prog) {
		char pc[16], mins[16];
		snprintf(pc, sizeof(pc), "%.0f", frac * 100);
		snprintf(mins, sizeof(mins), "%ld", frac > 0.02 ? (long)((el / frac - el) / 60) : 0L);
		progress_line(s, "totalPercentageCompleted", pc, "totalMinutesRemaining", mins);
	}
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
	if (mig_query_init(&q, type, node, leaf) < 0)
		return MIG_NOT_SELECTED;
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
		if (nv_reader_pread(r, s->buf, READ_CHUNK, off, &got) != NV_OK) {
			snprintf(why, whylen, "reading %s%s failed at byte %llu of %llu (%s)",
				 *stream ? "stream " : "its data", stream, (unsigned long long)off,
				 (unsigned long long)nv_reader_size(r), nv_last_error());
			return ST_ERR_IO;
		}
		if (!got)
			break;
		enum st_status st = st_writer_write_data(s->wr, s->buf, got);
		if (st) {
			fail(s, CAPTURE_ERR_FAILED, "writing %s into the store failed: %s", path,
			     st_last_error());
			return st;
		}
		off += got;
		*copied += got;
		if (stop_signal)
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
		fprintf(stderr, "%s: warning: %s: its extended attributes are damaged (%s); stored "
			"as they are, a restore will not write them\n", s->o->prog, winpath,
			nv_last_error());
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
	decision_text(pick->rule, dec, sizeof(dec));
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
		fail(s, CAPTURE_ERR_INTERNAL, "out of memory");
		return NV_WALK_STOP;
	}
	bool hardlink = s->o->hardlink;
	/* --efs copyraw: the file as it is on disk, ciphertext and $EFS metadata,
	 * never decrypted (ntfs/'s raw EFS readers). */
	bool raw = !hardlink && (in->kind & NV_IS_ENCRYPTED) && s->o->efs == CAPTURE_EFS_COPYRAW;
	uint8_t *efs_info = NULL;
	size_t efs_len = 0;
	if (raw && nv_efs_info(s->vol, in->mref, &efs_info, &efs_len) != NV_OK) {
		char why[800];
		snprintf(why, sizeof(why), "EFS-encrypted, and its $EFS metadata cannot be read: %s",
			 nv_last_error());
		ret = item_error(s, winpath, pick->owner, why);
		goto out;
	}
	if (!hardlink) {
		for (size_t i = 0; i <= nstreams; i++) {
			const char *name = i ? in->streams[i - 1].name : NULL;
			if ((raw ? nv_reader_open_raw : nv_reader_open)(s->vol, in->mref, name,
									&readers[i]) != NV_OK) {
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
		fail(s, CAPTURE_ERR_FAILED, "the store refused %s: %s", winpath, st_last_error());
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
				fail(s, CAPTURE_ERR_FAILED, "writing %s:%s into the store failed: %s", winpath,
				     name, st_last_error());
				ret = NV_WALK_STOP;
				break;
			}
			if (copy_stream(s, readers[i], winpath, name, &copied, read_why, sizeof(read_why)))
				ret = NV_WALK_STOP;
		}
		if (raw && !ret && (st = st_writer_add_stream(s->wr, ST_EFS_STREAM, efs_info, efs_len))) {
			fail(s, CAPTURE_ERR_FAILED, "writing the $EFS metadata of %s into the store failed: %s",
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
			fail(s, CAPTURE_ERR_FAILED, "%s: %s, and the store could not drop the partial "
			     "copy: %s", winpath, read_why, st_last_error());
			goto out;
		}
		ret = item_error(s, winpath, pick->owner, read_why);
		goto out;
	}
	if (!ret && (st = st_writer_end_file(s->wr))) {
		fail(s, CAPTURE_ERR_FAILED, "finishing %s in the store failed: %s", winpath, st_last_error());
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
		fail(s, CAPTURE_ERR_INTERNAL, "out of memory");
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
			fail(s, CAPTURE_ERR_INTERNAL, "out of memory");
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
		fail(s, CAPTURE_ERR_INTERNAL, "out of memory");
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
	decision_text(pick->rule, dec, sizeof(dec));
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
		fail(s, CAPTURE_ERR_FAILED, "the store refused %s: %s", winpath, st_last_error());
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
walk_cb(const struct nv_entry *e, void *ctx)
{
	struct scan *s = ctx;
	if (stop_signal) {
		fail(s, CAPTURE_ERR_CANCELED, "stopped by signal %d; the store was abandoned",
		     (int)stop_signal);
		return NV_WALK_STOP;
	}
	s->entries++;
	s->cur = NULL;
	const char *rel = e->path;
	/* Windows path: C:\ + rel with backslashes; node = its folder. */
	size_t rlen = strlen(rel);
	char *win = malloc(rlen + 4);
	if (!win) {
		fail(s, CAPTURE_ERR_INTERNAL, "out of memory");
		return NV_WALK_STOP;
	}
	memcpy(win, "C:\\", 3);
	for (size_t i = 0; i <= rlen; i++)
		win[3 + i] = rel[i] == '/' ? '\\' : rel[i];
	char *last = strrchr(win, '\\');
	int ret = NV_WALK_CONTINUE;
	const char *why;
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
			fail(s, CAPTURE_ERR_INTERNAL, "out of memory");
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
			fail(s, CAPTURE_ERR_INTERNAL, "out of memory");
			ret = NV_WALK_STOP;
			goto out;
		}
		if (VERBOSE(s) && out != MIG_NOT_SELECTED) {
			char dec[600];
			decision_text(pick.rule, dec, sizeof(dec));
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
			fail(s, CAPTURE_ERR_EFS,
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
	tick(s, false);
	return ret;
}

/* ------------------------------------------------------------ registry -- */

struct reg_ctx {
	struct scan *s;
	struct scan_user *user;         /* NULL: system */
	const mig_matcher *m;
	const struct mig_rule_ref *ref;
	const char *prefix;             /* "HKCU", "HKLM\SOFTWARE", ... */
};

static const char *
hive_prefix(enum reg_hive_kind k)
{
	switch (k) {
	case REG_HK_SYSTEM: return "HKLM\\SYSTEM";
	case REG_HK_SOFTWARE: return "HKLM\\SOFTWARE";
	case REG_HK_SAM: return "HKLM\\SAM";
	case REG_HK_SECURITY: return "HKLM\\SECURITY";
	case REG_HK_DEFAULT: return "HKU\\.DEFAULT";
	case REG_HK_NTUSER: return "HKCU";
	case REG_HK_USRCLASS: return "HKCU\\Software\\Classes";
	}
	return "HK?";
}

static int
reg_value_cb(reg_hive *h, const char *key_path, reg_key k, const struct reg_value *v, void *opaque)
{
	(void)h;
	(void)k;
	struct reg_ctx *c = opaque;
	struct scan *s = c->s;
	if (!v)
		return 0;
	char *full;
	if (asprintf(&full, "%s%s%s", c->prefix, *key_path ? "\\" : "", key_path) < 0)
		return 1;
	struct mig_decision d;
	const struct mig_rule_ref *rule = c->ref;
	mig_matcher_decide(c->m, MIG_OBJ_REGISTRY, full, v->name, &d);
	if (d.outcome == MIG_EXCLUDED || d.outcome == MIG_UNCOND_EXCLUDED) {
		if (VERBOSE(s))
			LOG_INFO(s, "%s [%s]: %s", full, v->name, mig_outcome_name(d.outcome));
		free(full);
		return 0;
	}
	if (d.outcome == MIG_INCLUDED)
		rule = d.rule;
	const char *owner = c->user ? c->user->sid : ST_OWNER_SYSTEM;
	char *key;
	if (asprintf(&key, "%s|%s|%s", owner, full, v->name) < 0) {
		free(full);
		return 1;
	}
	if (seen_add(&s->seen, key)) {
		char dec[600];
		decision_text(rule, dec, sizeof(dec));
		if (VERBOSE(s))
			LOG_INFO(s, "%s [%s]: captured for %s by %s", full, v->name, owner, dec);
		if (s->wr) {
			struct st_reg_value rv = { owner, full, v->name, v->type, v->data, v->len, dec };
			enum st_status st = st_writer_add_registry(s->wr, &rv);
			if (st) {
				fail(s, CAPTURE_ERR_FAILED, "storing %s [%s] failed: %s", full, v->name,
				     st_last_error());
				free(key);
				free(full);
				return 1;
			}
		}
		s->regs++;
		if (c->user)
			c->user->regs++;
	}
	free(key);
	free(full);
	return 0;
}

/* Split "node [leaf]" (no escapes handled beyond ^] ^[). */
static int
split_location(const char *pat, char **node, char **leaf)
{
	const char *br = strstr(pat, " [");
	if (!br) {
		*node = strdup(pat);
		*leaf = NULL;
		return 0;
	}
	size_t n = strlen(pat);
	if (pat[n - 1] != ']')
		return -1;
	*node = strndup(pat, (size_t)(br - pat));
	*leaf = strndup(br + 2, n - (size_t)(br - pat) - 3);
	return 0;
}

static void
capture_registry(struct scan *s, struct scan_user *u, const mig_matcher *m, reg_hive_set *hives)
{
	for (size_t i = 0; i < mig_matcher_pattern_count(m) && !s->fail; i++) {
		const struct mig_rule_ref *r = mig_matcher_pattern(m, i);
		if (!r || r->type != MIG_OBJ_REGISTRY || r->kind != MIG_RULE_INCLUDE)
			continue;
		char *node, *leaf;
		if (split_location(r->pattern, &node, &leaf) < 0)
			continue;
		if (!leaf) { /* a key alone carries no value to store */
			free(node);
			continue;
		}
		struct reg_location loc;
		if (reg_hive_set_resolve(hives, node, REG_VIEW_DEFAULT, &loc) == REG_OK && loc.hive) {
			char *pat;
			if (asprintf(&pat, "%s [%s]", loc.subpath, leaf) >= 0) {
				struct reg_ctx c = { s, u, m, r, hive_prefix(loc.kind) };
				reg_hive_match(loc.hive, pat, reg_value_cb, &c);
				free(pat);
			}
			free(loc.subpath);
		} else if (VERBOSE(s)) {
			LOG_INFO(s, "%s: no such hive or key on this Windows (%s)", r->pattern,
				 reg_hive_set_errmsg(hives));
		}
		free(node);
		free(leaf);
	}
}

/* -------------------------------------------------------------- users -- */

static int
select_users(struct scan *s)
{
	const struct capture_options *o = s->o;
	struct win_offline *w = s->w;
	int64_t cutoff = 0;
	bool latest_only = false;
	if (o->uel && win_parse_uel(o->uel, (int64_t)time(NULL), &cutoff, &latest_only) < 0) {
		fail(s, CAPTURE_ERR_USAGE, "--uel/%s wants a number of days, a date YYYY/MM/DD or 0, "
		     "not \"%s\"", "/uel", o->uel);
		return -1;
	}
	s->users = calloc(w->user_count + 1, sizeof(*s->users));
	if (!s->users)
		return -1;
	int64_t newest = 0;
	for (size_t i = 0; i < w->user_count; i++)
		if (w->users[i].last_use > newest && w->users[i].sid && w->users[i].folder_exists)
			newest = w->users[i].last_use;
	bool *ui_used = calloc(o->nui + 1, 1), *ue_used = calloc(o->nue + 1, 1);
	size_t rootlen = strlen(s->root);
	for (size_t i = 0; i < w->user_count; i++) {
		const struct win_user *u = &w->users[i];
		struct scan_user *su = &s->users[s->nusers];
		if (!u->sid) {
			LOG_WARN(s, "profile folder %s has no ProfileList entry (no SID): not captured",
				 u->profile_path ? u->profile_path : "?");
			continue;
		}
		if (u->type == WIN_USER_SERVICE || u->type == WIN_USER_DEFAULT)
			continue;
		su->u = u;
		su->sid = strdup(u->sid);
		char *bak = strcasestr(su->sid, ".bak");
		if (bak)
			*bak = 0;
		const char *vp = u->volume_path ? u->volume_path : "";
		if (rootlen && !strncasecmp(vp, s->root, rootlen) && vp[rootlen] == '/')
			vp += rootlen + 1;
		su->rel_profile = strdup(vp);
		/* DOMAIN\user spellings this account answers to: the computer for
		 * accounts of this machine, AzureAD for Entra ID, else the domain. */
		size_t mlen = w->machine_sid ? strlen(w->machine_sid) : 0;
		bool local = mlen && !strncasecmp(su->sid, w->machine_sid, mlen) && su->sid[mlen] == '-';
		if (local && w->info.computer_name)
			su->domains[su->ndomains++] = strdup(w->info.computer_name);
		else if (u->type == WIN_USER_ENTRA || !strncmp(su->sid, "S-1-12-1-", 9))
			su->domains[su->ndomains++] = strdup("AzureAD");
		else if (!local) {
			if (u->account_domain)
				su->domains[su->ndomains++] = strdup(u->account_domain);
			if (w->info.domain) {
				su->domains[su->ndomains] = strdup(w->info.domain);
				char *dot = strchr(su->domains[su->ndomains], '.');
				if (dot)
					*dot = 0;
				su->ndomains++;
			}
		}
		s->nusers++;
		const char *name = u->name;
		bool in_ui = false, in_ue = false;
		for (size_t k = 0; k < o->nui; k++)
			if (win_user_matches(o->ui[k], su->sid, name, (const char *const *)su->domains,
					      su->ndomains))
				in_ui = ui_used[k] = true;
		for (size_t k = 0; k < o->nue; k++)
			if (win_user_matches(o->ue[k], su->sid, name, (const char *const *)su->domains,
					      su->ndomains))
				in_ue = ue_used[k] = true;
		if (!u->folder_exists) {
			snprintf(su->why, sizeof(su->why), "profile folder %s does not exist",
				 u->profile_path ? u->profile_path : "?");
		} else if (u->is_temp) {
			snprintf(su->why, sizeof(su->why), "temporary profile (Windows could not load the "
				 "real one; it is captured from its .bak entry when present)");
		} else {
			bool recent = latest_only ? u->last_use == newest : u->last_use >= cutoff;
			const char *why;
			su->selected = win_user_pick(in_ui, in_ue, o->uel != NULL, recent, &why);
			if (o->uel && latest_only && !in_ui)
				why = recent ? "the most recently used profile (--uel 0)"
					     : "not the most recently used profile (--uel 0)";
			if (o->uel && !recent && !in_ui && !u->last_use)
				why = "last use unknown, so not within the --uel limit";
			snprintf(su->why, sizeof(su->why), "%s", why);
		}
		LOG_INFO(s, "user %s (%s, %s): %s: %s", name ? name : "?", su->sid,
			 win_user_type_name(u->type), su->selected ? "captured" : "not captured", su->why);
		if (s->prog) {
			char who[512];
			snprintf(who, sizeof(who), "%s\\%s", su->ndomains ? su->domains[0] : "",
				 name ? name : su->sid);
			progress_line(s, "detectedUser", who, "includedInMigration",
				      su->selected ? "Yes" : "No");
		}
	}
	for (size_t k = 0; k < o->nui; k++)
		if (!ui_used[k]) {
			fprintf(stderr, "%s: warning: the user pattern \"%s\" (--ui) matches no profile on "
				"this Windows\n", o->prog, o->ui[k]);
			LOG_WARN(s, "user pattern \"%s\" (include) matches no profile", o->ui[k]);
		}
	for (size_t k = 0; k < o->nue; k++)
		if (!ue_used[k]) {
			fprintf(stderr, "%s: warning: the user pattern \"%s\" (--ue) matches no profile on "
				"this Windows\n", o->prog, o->ue[k]);
			LOG_WARN(s, "user pattern \"%s\" (exclude) matches no profile", o->ue[k]);
		}
	free(ui_used);
	free(ue_used);
	return 0;
}

/* -------------------------------------------------------------- store -- */

static int
rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(path);
}

/* A local store folder: empty or absent is fine; a store with --overwrite is
 * removed; anything else is refused. */
static int
prepare_local_store(struct scan *s)
{
	const char *p = s->o->store;
	struct stat sb;
	if (stat(p, &sb) < 0)
		return 0;
	if (!S_ISDIR(sb.st_mode)) {
		fail(s, CAPTURE_ERR_STORE, "the store location %s exists and is not a folder", p);
		return -1;
	}
	DIR *d = opendir(p);
	if (!d) {
		fail(s, CAPTURE_ERR_STORE, "the store folder %s cannot be read: %s", p, strerror(errno));
		return -1;
	}
	bool empty = true, looks_like_store = false;
	struct dirent *de;
	while ((de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		empty = false;
		if (!strcmp(de->d_name, "USMT") || !strcmp(de->d_name, "catalog") ||
		    !strcmp(de->d_name, "report.json"))
			looks_like_store = true;
	}
	closedir(d);
	if (empty)
		return 0;
	if (!s->o->overwrite) {
		fail(s, CAPTURE_ERR_STORE_EXISTS, "the store folder %s already holds data; give %s to "
		     "replace it", p, s->o->usmt ? "/o" : "--overwrite");
		return -1;
	}
	if (!looks_like_store) {
		fail(s, CAPTURE_ERR_STORE, "the folder %s holds files that are not a winstate store; "
		     "nothing was removed (choose an empty or new folder)", p);
		return -1;
	}
	char usmt[4096], other[4096];
	snprintf(usmt, sizeof(usmt), "%s/USMT", p);
	if (nftw(usmt, rm_entry, 16, FTW_DEPTH | FTW_PHYS) < 0 && errno != ENOENT) {
		fail(s, CAPTURE_ERR_STORE, "cannot remove the old store %s: %s", usmt, strerror(errno));
		return -1;
	}
	snprintf(other, sizeof(other), "%s/catalog", p);
	unlink(other);
	snprintf(other, sizeof(other), "%s/report.json", p);
	unlink(other);
	LOG_INFO(s, "removed the previous store in %s (--overwrite)", p);
	return 0;
}

struct unlink_list {
	uint64_t *parents;
	char **names;
	size_t n, cap;
	char *damaged; /* the first entry that could not be read, with why */
	bool stopped;  /* the list is incomplete: nothing may be removed */
	const char *root; /* the store's path, for the sentence */
};

static int
collect_for_unlink(const struct nv_entry *e, void *ctx)
{
	struct unlink_list *l = ctx;
	if (!e->inode) {
		/* A folder that cannot be listed (an index block a killed capture left
		 * half-written: libntfs-3g has no journal) cannot be emptied, so the
		 * store cannot be removed; say where, and stop before unlinking. */
		if (asprintf(&l->damaged, "%s/%s%s: %s", l->root, e->path, *e->name ? "" : " (its folder listing)",
			     e->error ? e->error : "cannot be read") < 0)
			l->damaged = NULL;
		l->stopped = true;
		return NV_WALK_STOP;
	}
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 256;
		uint64_t *p = realloc(l->parents, cap * sizeof(*p));
		if (p)
			l->parents = p;
		char **n = realloc(l->names, cap * sizeof(*n));
		if (n)
			l->names = n;
		if (!p || !n) {
			l->stopped = true;
			return NV_WALK_STOP;
		}
		l->cap = cap;
	}
	l->parents[l->n] = e->parent;
	if (!(l->names[l->n] = strdup(e->name))) {
		l->stopped = true;
		return NV_WALK_STOP;
	}
	l->n++;
	return NV_WALK_CONTINUE;
}

/* Remove an old hard-link store: only names (the files' other names stay). */
static int
remove_link_store(struct scan *s, const char *rel)
{
	struct unlink_list l = { .root = rel };
	int rc = 0;
	uint64_t mref;
	if (nv_walk(s->vol, rel, collect_for_unlink, &l) != NV_OK) {
		fail(s, CAPTURE_ERR_STORE, "cannot list the old store %s: %s", rel, nv_last_error());
		rc = -1;
	} else if (l.stopped) {
		fail(s, CAPTURE_ERR_STORE, "cannot remove the old store %s: %s; the volume is damaged "
		     "there (most likely by an interrupted capture). Nothing was removed: capture into "
		     "another folder, and repair this volume with chkdsk /f from Windows", rel,
		     l.damaged ? l.damaged : "out of memory");
		rc = -1;
	}
	/* Children come after parents in the walk: remove in reverse. */
	for (size_t i = l.n; i-- > 0 && !rc;)
		if (nv_unlink(s->vol, l.parents[i], l.names[i]) != NV_OK) {
			fail(s, CAPTURE_ERR_STORE, "cannot remove %s from the old store %s: %s", l.names[i],
			     rel, nv_last_error());
			rc = -1;
		}
	if (!rc) {
		char *parent = strdup(rel), *slash = strrchr(parent, '/');
		const char *name = slash ? slash + 1 : rel;
		if (slash)
			*slash = 0;
		if (nv_lookup(s->vol, slash ? parent : "", &mref) != NV_OK ||
		    nv_unlink(s->vol, mref, name) != NV_OK) {
			fail(s, CAPTURE_ERR_STORE, "cannot remove the old store folder %s: %s", rel,
			     nv_last_error());
			rc = -1;
		}
		free(parent);
	}
	for (size_t i = 0; i < l.n; i++)
		free(l.names[i]);
	free(l.names);
	free(l.parents);
	free(l.damaged);
	return rc;
}

/* "MigStore", "C:\MigStore", "/MigStore" on the volume -> volume path. */
static char *
hardlink_store_path(struct scan *s)
{
	const char *p = s->o->store;
	if (p[0] && p[1] == ':' && (p[2] == '\\' || p[2] == '/')) {
		if ((p[0] & ~0x20) != 'C') {
			fail(s, CAPTURE_ERR_HARDLINK, "a hard-link store must be on the volume it captures "
			     "(C:); %s is on another volume", p);
			return NULL;
		}
		p += 3;
	} else if (p[0] == '/' || p[0] == '.') {
		fail(s, CAPTURE_ERR_HARDLINK, "a hard-link store must be on the volume it captures: give "
		     "its folder relative to that volume's root (for example MigStore), not the local "
		     "path %s, which is on another filesystem", p);
		return NULL;
	}
	/* Volume-relative, also for a Windows.old capture (the store sits beside it). */
	char *out = strdup(p);
	if (!out)
		return NULL;
	for (char *c = out; *c; c++)
		if (*c == '\\')
			*c = '/';
	size_t n = strlen(out);
	while (n && out[n - 1] == '/')
		out[--n] = 0;
	if (!n) {
		fail(s, CAPTURE_ERR_HARDLINK, "the hard-link store cannot be the volume's root");
		free(out);
		return NULL;
	}
	return out;
}

/* --------------------------------------------------------- accounting -- */

/* Which folder each user's account counts: its profile folder, except that a
 * folder two ProfileList entries name is counted once, for the selected one
 * (else the first).  Everything outside them is the system's. */
static int
plan_accounting(struct scan *s)
{
	s->profiles = calloc(s->nusers + 1, sizeof(*s->profiles));
	if (!s->profiles) {
		fail(s, CAPTURE_ERR_INTERNAL, "out of memory");
		return -1;
	}
	for (size_t i = 0; i < s->nusers; i++) {
		struct scan_user *u = &s->users[i];
		const char *p = u->rel_profile && *u->rel_profile ? u->rel_profile : NULL;
		for (size_t j = 0; j < s->nusers && p; j++) {
			struct scan_user *o = &s->users[j];
			if (j == i || !o->rel_profile || strcasecmp(o->rel_profile, p))
				continue;
			if ((o->selected && !u->selected) || (o->selected == u->selected && j < i))
				p = NULL;
		}
		s->profiles[i] = p;
	}
	return 0;
}

static void
write_account(struct scan *s, FILE *out, const struct acct *a, long ctx)
{
	acct_write_json(out, a);
	fputs(", \"skipped_by\": [", out);
	bool first = true;
	for (int k = 0; k < ACCT_SKIP_COUNT; k++) {
		if (!a->skipped_by[k])
			continue;
		fprintf(out, "%s\n        {\"reason\": \"%s\", \"sentence\": ", first ? "" : ",",
			acct_skip_key(k));
		first = false;
		fmt_json_string(out, acct_skip_sentence(k));
		fprintf(out, ", \"count\": %llu, \"paths\": [", (unsigned long long)a->skipped_by[k]);
		bool pfirst = true;
		for (size_t i = 0; i < s->nskips; i++) {
			if (s->skips[i].ctx != ctx || s->skips[i].kind != (enum acct_skip)k)
				continue;
			fputs(pfirst ? "" : ", ", out);
			pfirst = false;
			fmt_json_string(out, s->skips[i].path);
		}
		fputs("]}", out);
	}
	fprintf(out, "%s]", first ? "" : "\n      ");
}

static void
write_accounting(struct scan *s, FILE *out)
{
	fprintf(out, ",\n  \"accounting\": {\n    \"users\": [");
	for (size_t i = 0; i < s->nusers; i++) {
		struct scan_user *u = &s->users[i];
		fprintf(out, "%s\n      {\"sid\": ", i ? "," : "");
		fmt_json_string(out, u->sid);
		fputs(", \"name\": ", out);
		fmt_json_string(out, u->u->name ? u->u->name : "");
		fputs(", \"profile\": ", out);
		char *win = NULL;
		if (s->profiles && s->profiles[i] && asprintf(&win, "C:\\%s", s->profiles[i]) >= 0)
			for (char *c = win; *c; c++)
				if (*c == '/')
					*c = '\\';
		if (win)
			fmt_json_string(out, win);
		else
			fputs("null", out);
		free(win);
		fprintf(out, ", \"selected\": %s, ", u->selected ? "true" : "false");
		write_account(s, out, &u->acct, (long)i);
		fputc('}', out);
	}
	fprintf(out, "\n    ],\n    \"system\": {");
	write_account(s, out, &s->sys_acct, -1);
	fprintf(out, "}\n  }");
}

/* A bucket nobody settled is winstate's own bug: said, never hidden. */
static void
check_accounting(struct scan *s)
{
	for (size_t i = 0; i <= s->nusers; i++) {
		const struct acct *a = i < s->nusers ? &s->users[i].acct : &s->sys_acct;
		if (acct_balanced(a))
			continue;
		const char *who = i < s->nusers ? s->users[i].sid : "the system";
		fprintf(stderr, "%s: internal error: the accounting of %s does not balance (%llu found, "
			"%llu captured, %llu excluded, %llu skipped, %llu not selected); please report "
			"this\n", s->o->prog, who, (unsigned long long)a->found,
			(unsigned long long)a->captured, (unsigned long long)a->excluded,
			(unsigned long long)a->skipped, (unsigned long long)a->not_selected);
		LOG_ERR(s, "the accounting of %s does not balance", who);
	}
}

/* One line per selected user, per other profile that holds files, and for
 * the system; to stdout, and to the log. */
static void
print_accounting(struct scan *s)
{
	char line[512], name[300];
	for (size_t i = 0; i <= s->nusers; i++) {
		const struct acct *a = i < s->nusers ? &s->users[i].acct : &s->sys_acct;
		if (i < s->nusers) {
			struct scan_user *u = &s->users[i];
			if (!u->selected && !a->found)
				continue;
			snprintf(name, sizeof(name), "%s%s", u->u->name ? u->u->name : u->sid,
				 u->selected ? "" : " (not selected)");
		} else {
			snprintf(name, sizeof(name), "system");
		}
		acct_line(line, sizeof(line), name, a, s->o->estimate != NULL);
		if (!s->o->json)
			printf("%s\n", line);
		LOG_INFO(s, "%s", line);
	}
}

/* ------------------------------------------------------------- report -- */

static void
write_report(struct scan *s, FILE *out, bool complete)
{
	char t1[40];
	fprintf(out, "{\n  \"winstate_version\": \"%s\",\n  \"source\": ", WINSTATE_VERSION);
	fmt_json_string(out, s->o->source);
	fprintf(out, ",\n  \"windows\": ");
	fmt_json_string(out, s->w && s->w->install.windir ? s->w->install.windir : "");
	if (s->w) {
		char ver[256];
		snprintf(ver, sizeof(ver), "%s %s (build %s)",
			 s->w->info.product_name ? s->w->info.product_name : "Windows",
			 s->w->info.display_version ? s->w->info.display_version : "",
			 s->w->info.current_build ? s->w->info.current_build : "?");
		fprintf(out, ",\n  \"windows_version\": ");
		fmt_json_string(out, ver);
	}
	fprintf(out, ",\n  \"computer\": ");
	fmt_json_string(out, s->w && s->w->info.computer_name ? s->w->info.computer_name : "");
	fprintf(out, ",\n  \"store\": ");
	fmt_json_string(out, s->o->store);
	fprintf(out, ",\n  \"format\": \"%s\",\n  \"complete\": %s,\n",
		s->o->estimate ? "estimate" : st_format_name(s->o->hardlink ? ST_FORMAT_HARDLINK :
		s->o->nocompress ? ST_FORMAT_DIRECTORY : ST_FORMAT_COMPRESSED),
		complete ? "true" : "false");
	struct tm tm;
	gmtime_r(&s->start, &tm);
	strftime(t1, sizeof(t1), "%Y-%m-%dT%H:%M:%SZ", &tm);
	fprintf(out, "  \"started\": \"%s\",\n  \"seconds\": %.3f,\n", t1, now_s() - s->t0);
	fprintf(out, "  \"files\": %llu,\n  \"hard_links\": %llu,\n  \"bytes\": %llu,\n"
		"  \"registry_values\": %llu,\n  \"errors\": %llu,\n  \"not_captured\": %llu,\n"
		"  \"junctions_stored\": %llu,\n",
		(unsigned long long)s->files, (unsigned long long)s->links,
		(unsigned long long)s->bytes, (unsigned long long)s->regs,
		(unsigned long long)s->errors, (unsigned long long)s->not_captured,
		(unsigned long long)s->links_stored);
	fprintf(out, "  \"system\": {\"files\": %llu, \"bytes\": %llu},\n",
		(unsigned long long)s->sys_files, (unsigned long long)s->sys_bytes);
	fprintf(out, "  \"users\": [");
	for (size_t i = 0; i < s->nusers; i++) {
		struct scan_user *u = &s->users[i];
		fprintf(out, "%s\n    {\"sid\": ", i ? "," : "");
		fmt_json_string(out, u->sid);
		fprintf(out, ", \"name\": ");
		fmt_json_string(out, u->u->name ? u->u->name : "");
		fprintf(out, ", \"type\": \"%s\", \"profile\": ", win_user_type_name(u->u->type));
		fmt_json_string(out, u->u->profile_path ? u->u->profile_path : "");
		fprintf(out, ", \"captured\": %s, \"why\": ", u->selected ? "true" : "false");
		fmt_json_string(out, u->why);
		fprintf(out, ", \"files\": %llu, \"bytes\": %llu, \"registry_values\": %llu}",
			(unsigned long long)u->files, (unsigned long long)u->bytes,
			(unsigned long long)u->regs);
	}
	fprintf(out, "\n  ],\n  \"skipped\": [");
	for (size_t i = 0; i < s->nskips; i++) {
		fprintf(out, "%s\n    {\"path\": ", i ? "," : "");
		fmt_json_string(out, s->skips[i].path);
		fprintf(out, ", \"owner\": ");
		fmt_json_string(out, s->skips[i].owner);
		fprintf(out, ", \"error\": %s, \"reason\": ", s->skips[i].error ? "true" : "false");
		fmt_json_string(out, s->skips[i].reason);
		fputc('}', out);
	}
	fprintf(out, "\n  ],\n  \"unresolved_variables\": [");
	for (size_t i = 0; i < s->nunres; i++) {
		const struct mig_unresolved *u = s->unres[i].u;
		fprintf(out, "%s\n    {\"file\": ", i ? "," : "");
		fmt_json_string(out, u->file);
		fprintf(out, ", \"line\": %u, \"variable\": ", u->line);
		fmt_json_string(out, u->variable);
		fprintf(out, ", \"rule\": \"%s\", \"component\": ", mig_rule_kind_name(u->kind));
		fmt_json_string(out, u->component ? u->component : "");
		fprintf(out, ", \"pattern\": ");
		fmt_json_string(out, u->source ? u->source : "");
		fprintf(out, ", \"action\": \"%s\"", u->kept ? "excludes more" : "dropped");
		if (u->kept) {
			fprintf(out, ", \"kept_as\": ");
			fmt_json_string(out, u->pattern);
		}
		fprintf(out, ", \"contexts\": [%s]}", s->unres[i].contexts);
	}
	fprintf(out, "\n  ],\n  \"ignored_rule_files\": [");
	for (size_t i = 0; s->rs && i < mig_ruleset_ignored_count(s->rs); i++) {
		const struct mig_ignored_file *g = mig_ruleset_ignored(s->rs, i);
		fprintf(out, "%s\n    {\"file\": ", i ? "," : "");
		fmt_json_string(out, g->path);
		fprintf(out, ", \"urlid\": ");
		fmt_json_string(out, g->urlid);
		fprintf(out, ", \"kept\": ");
		fmt_json_string(out, g->kept);
		fprintf(out, ", \"reason\": \"same urlid as a file loaded before (USMT keeps the first)\"}");
	}
	fprintf(out, "\n  ]");
	write_accounting(s, out);
	fprintf(out, ",\n  \"cloud_folders\": [");
	for (size_t i = 0; i < s->nclouds; i++) {
		const struct cloud_folder *c = &s->clouds[i];
		fprintf(out, "%s\n    {\"path\": ", i ? "," : "");
		fmt_json_string(out, c->path);
		fprintf(out, ", \"owner\": ");
		fmt_json_string(out, c->owner);
		fprintf(out, ", \"reparse_tag\": \"0x%08x\", \"sync_root\": %s, \"complete_on_disk\": %s, "
			"\"streams\": ", c->tag, c->sync_root ? "true" : "false",
			c->partial ? "false" : "true");
		fmt_json_string(out, c->streams);
		fprintf(out, ", \"restored_as\": \"plain folder\"}");
	}
	fprintf(out, "\n  ]");
	if (s->fail) {
		fprintf(out, ",\n  \"failure\": ");
		fmt_json_string(out, s->failmsg);
	}
	fprintf(out, "\n}\n");
}

static int
write_estimate(struct scan *s)
{
	FILE *f = fopen(s->o->estimate, "w");
	if (!f) {
		fail(s, CAPTURE_ERR_OUTPUT, "the estimate file %s cannot be written: %s", s->o->estimate,
		     strerror(errno));
		return -1;
	}
	/* USMT's /p:file.xml format; a compressed store needs no temporary space. */
	fprintf(f, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<PreMigration>\n"
		"  <storeSize>\n    <size clusterSize=\"%u\">%llu</size>\n  </storeSize>\n"
		"  <temporarySpace>\n    <size>0</size>\n  </temporarySpace>\n</PreMigration>\n",
		s->cluster, (unsigned long long)s->est_bytes);
	if (fclose(f)) {
		fail(s, CAPTURE_ERR_OUTPUT, "the estimate file %s cannot be written: %s", s->o->estimate,
		     strerror(errno));
		return -1;
	}
	return 0;
}

/* --------------------------------------------------------------- rules -- */

static void
log_rule_file(void *ctx, const char *path)
{
	struct scan *s = ctx;
	LOG_INFO(s, "rules: %s", path);
}

static int
load_rules(struct scan *s)
{
	const struct capture_options *o = s->o;
	char failed[4096];
	s->rs = mig_ruleset_new();
	s->diags = mig_diags_new();
	int lr = mig_ruleset_load_given_or_defaults(s->rs, o->rules, o->nrules, s->diags,
						    log_rule_file, s, failed, sizeof(failed));
	if (lr == -2) {
		fail(s, CAPTURE_ERR_RULES, "no rule files given and winstate's default rules were not "
		     "found (set WINSTATE_RULES_DIR)");
		return -1;
	} else if (lr < 0) {
		const char *why = mig_diags_first(s->diags, MIG_DIAG_ERROR);
		fail(s, CAPTURE_ERR_RULES, "the rule file %s is unusable: %s", failed,
		     why ? why : "see the log");
		return -1;
	}
	for (size_t i = 0; i < mig_ruleset_ignored_count(s->rs); i++) {
		const struct mig_ignored_file *g = mig_ruleset_ignored(s->rs, i);
		fprintf(stderr, "%s: warning: %s: its urlid \"%s\" is the same as %s's, so it is "
			"ignored as USMT does (listed in report.json)\n", o->prog, g->path, g->urlid,
			g->kept);
		LOG_WARN(s, "rule file %s ignored: urlid \"%s\" already loaded from %s", g->path,
			 g->urlid, g->kept);
	}
	if (o->config) {
		mig_diags *cd = mig_diags_new();
		s->cfg = mig_config_load(o->config, cd);
		if (!s->cfg) {
			const char *why = mig_diags_first(cd, MIG_DIAG_ERROR);
			fail(s, CAPTURE_ERR_CONFIG, "the configuration file %s is unusable: %s", o->config,
			     why ? why : "it could not be read");
			mig_diags_free(cd);
			return -1;
		}
		mig_diags_free(cd);
	}
	return 0;
}

static void
log_diags(struct scan *s)
{
	for (size_t i = 0; i < mig_diags_count(s->diags); i++) {
		const struct mig_diag *d = mig_diags_get(s->diags, i);
		if (d->level == MIG_DIAG_NOTE && !VERBOSE(s))
			continue;
		logf_(s, d->level >= MIG_DIAG_WARNING ? "Warning" : "Info", "%s:%u: %s",
		      d->file ? d->file : "-", d->line, d->msg);
	}
}

/* Gather the undefined-variable patterns of one context, once per rule. */
static void
collect_unresolved(struct scan *s, const mig_matcher *m, const char *context)
{
	for (size_t i = 0; i < mig_matcher_unresolved_count(m); i++) {
		const struct mig_unresolved *u = mig_matcher_unresolved(m, i);
		struct unresolved_item *it = NULL;
		for (size_t k = 0; k < s->nunres && !it; k++) {
			const struct mig_unresolved *o = s->unres[k].u;
			if (o->line == u->line && o->kind == u->kind && !strcmp(o->file, u->file) &&
			    !strcmp(o->variable, u->variable) && !strcmp(o->source, u->source))
				it = &s->unres[k];
		}
		FILE *f;
		char *ctx = NULL;
		size_t len = 0;
		if (!(f = open_memstream(&ctx, &len)))
			continue;
		if (it && it->contexts) {
			/* a generator makes several patterns on one line: one context entry */
			char needle[512];
			snprintf(needle, sizeof(needle), "\"%s\"", context);
			if (strstr(it->contexts, needle)) {
				fclose(f);
				free(ctx);
				continue;
			}
			fprintf(f, "%s, ", it->contexts);
		}
		fmt_json_string(f, context);
		fclose(f);
		if (!it) {
			struct unresolved_item *grown = realloc(s->unres, (s->nunres + 1) * sizeof(*grown));
			if (!grown) {
				free(ctx);
				continue;
			}
			s->unres = grown;
			it = &s->unres[s->nunres++];
			it->u = u;
			it->contexts = NULL;
		}
		free(it->contexts);
		it->contexts = ctx;
	}
}

/* Say every undefined-variable pattern on the console (the first ones) and
 * in the log (all). */
static void
report_unresolved(struct scan *s)
{
	enum { SHOWN = 12 };
	for (size_t i = 0; i < s->nunres; i++) {
		const struct mig_unresolved *u = s->unres[i].u;
		char what[1024];
		if (u->kept)
			snprintf(what, sizeof(what), "the %s pattern \"%s\" is kept as \"%s\", which "
				 "excludes more, never less", mig_rule_kind_name(u->kind), u->source,
				 u->pattern);
		else
			snprintf(what, sizeof(what), "the %s pattern \"%s\" is dropped",
				 mig_rule_kind_name(u->kind), u->source);
		if (i < SHOWN)
			fprintf(stderr, "%s: warning: %s:%u: %%%s%% is not defined on this Windows "
				"(context %s): %s\n", s->o->prog, u->file, u->line, u->variable,
				s->unres[i].contexts, what);
		LOG_WARN(s, "%s:%u: %%%s%% is not defined (context %s): %s", u->file, u->line,
			 u->variable, s->unres[i].contexts, what);
	}
	if (s->nunres > SHOWN)
		fprintf(stderr, "%s: warning: %zu more patterns with undefined variables: see "
			"\"unresolved_variables\" in report.json\n", s->o->prog, s->nunres - SHOWN);
}

static int
build_matchers(struct scan *s)
{
	if (win_rules_host_init(&s->syshost, s->w, NULL) < 0) {
		fail(s, CAPTURE_ERR_INTERNAL, "out of memory");
		return -1;
	}
	s->syshost_ok = true;
	s->sysvars = mig_vars_new();
	char *defaulted = NULL;
	win_vars_for_system(s->sysvars, s->w, 'C', &defaulted);
	if (defaulted)
		LOG_WARN(s, "variables: the SOFTWARE hive lacks some values; Windows' defaults stand "
			 "in: %s", defaulted);
	free(defaulted);
	mig_matcher_build(s->rs, s->cfg, MIG_CTX_SYSTEM, s->sysvars, &s->syshost.host, 0, &s->sysm,
			 s->diags);
	collect_unresolved(s, s->sysm, "system");
	for (size_t i = 0; i < s->nusers; i++) {
		struct scan_user *u = &s->users[i];
		if (!u->selected)
			continue;
		if (win_rules_host_init(&u->host, s->w, u->u) < 0) {
			fail(s, CAPTURE_ERR_INTERNAL, "out of memory");
			return -1;
		}
		u->host_ok = true;
		u->vars = mig_vars_new();
		win_vars_for_user(u->vars, s->w, u->u, &defaulted);
		if (defaulted)
			LOG_WARN(s, "variables of %s: their hive lacks some folders; Windows' defaults "
				 "stand in: %s", u->sid, defaulted);
		free(defaulted);
		mig_matcher_build(s->rs, s->cfg, MIG_CTX_USER, u->vars, &u->host.host, 0, &u->m,
				 s->diags);
		collect_unresolved(s, u->m, u->u->name ? u->u->name : u->sid);
	}
	log_diags(s);
	report_unresolved(s);
	return 0;
}

/* ---------------------------------------------------------------- run -- */

static enum capture_outcome
open_source(struct scan *s)
{
	const struct capture_options *o = s->o;
	char *path = NULL;
	struct nv_open_options no = { .read_write = o->hardlink && !o->estimate };
	if (nv_split_target(o->source, &path, &no.partition) != NV_OK) {
		fail(s, CAPTURE_ERR_SOURCE, "%s is not DISK or DISK:PARTITION", o->source);
		return s->fail;
	}
	enum nv_status st = nv_open(path, &no, &s->vol);
	free(path);
	if (st == NV_ERR_HIBERNATED || st == NV_ERR_UNCLEAN) {
		fail(s, CAPTURE_ERR_UNCLEAN, "%s: %s.  A hard-link store writes to this volume, which is "
		     "only safe on a volume Windows shut down completely: start Windows and shut it "
		     "down fully (Shift+Shut down, or powercfg /h off), or capture into a compressed "
		     "store", o->source, nv_last_error());
		return s->fail;
	}
	if (st != NV_OK) {
		fail(s, CAPTURE_ERR_SOURCE, "%s: %s", o->source,
		     nv_last_error());
		return s->fail;
	}
	struct nv_volume_info vi;
	nv_volume_info(s->vol, &vi);
	s->cluster = vi.cluster_size ? vi.cluster_size : 4096;
	s->used_bytes = vi.size > vi.free_bytes ? vi.size - vi.free_bytes : vi.size;
	if (vi.state && !o->force_unclean) {
		fail(s, CAPTURE_ERR_UNCLEAN, "%s was not shut down cleanly (%s%s%s): Windows still holds "
		     "changes in memory or in its journal, so what is on the disk may be stale or "
		     "half-written and a capture could miss or mix up recent files.  Start Windows "
		     "and shut it down fully (Shift+Shut down), or give --force-unclean to capture "
		     "the disk as it is", o->source,
		     vi.state & NV_STATE_HIBERNATED ? "hibernated / Fast Startup" : "",
		     (vi.state & NV_STATE_HIBERNATED) && (vi.state & ~NV_STATE_HIBERNATED) ? ", " : "",
		     vi.state & NV_STATE_DIRTY ? "dirty" : vi.state & NV_STATE_LOG_UNCLEAN ?
		     "journal not clean" : "");
		return s->fail;
	}
	if (vi.state)
		LOG_WARN(s, "%s was not shut down cleanly; captured anyway (--force-unclean)", o->source);
	char err[1024];
	if (win_open(s->vol, o->windir, false, &s->w, err, sizeof(err)) < 0) {
		fail(s, CAPTURE_ERR_SOURCE, "%s", err);
		return s->fail;
	}
	s->root = s->w->install.root;
	if (!o->windir && !s->w->install.is_windows_old) {
		/* After a reinstall the users live in Windows.old: say so, never
		 * capture an empty new Windows in silence. */
		struct win_install *all = NULL;
		size_t n = 0;
		win_find_installs(s->vol, &all, &n);
		for (size_t i = 0; i < n; i++)
			if (all[i].is_windows_old) {
				fprintf(stderr, "%s: note: %s also holds the previous Windows in %s; this "
					"captures the current one (%s).  To capture the users of the previous "
					"one, give %s\n", o->prog, o->source, all[i].windir,
					s->w->install.windir, o->usmt ? "/offlinewinold" : "--windir Windows.old/Windows");
				LOG_WARN(s, "the volume also holds %s (not captured)", all[i].windir);
			}
		win_installs_free(all, n);
	}
	LOG_INFO(s, "Windows: %s %s (build %s), computer %s, in %s",
		 s->w->info.product_name ? s->w->info.product_name : "?",
		 s->w->info.display_version ? s->w->info.display_version : "",
		 s->w->info.current_build ? s->w->info.current_build : "?",
		 s->w->info.computer_name ? s->w->info.computer_name : "?", s->w->install.windir);
	return CAPTURE_OK;
}

static enum capture_outcome
create_store(struct scan *s)
{
	const struct capture_options *o = s->o;
	struct st_create_options co = { 0 };
	char winver[256];
	snprintf(winver, sizeof(winver), "%s %s (build %s)",
		 s->w->info.product_name ? s->w->info.product_name : "Windows",
		 s->w->info.display_version ? s->w->info.display_version : "",
		 s->w->info.current_build ? s->w->info.current_build : "?");
	co.computer = s->w->info.computer_name ? s->w->info.computer_name : "";
	co.windows_version = winver;
	co.winstate_version = WINSTATE_VERSION;
	co.volume_letter = 'C';
	co.start_time = (int64_t)s->start;
	co.key = o->key;
	co.kdf_ops = o->kdf_ops;
	co.kdf_mem = o->kdf_mem;
	if (o->hardlink) {
		if (!(s->store_rel = hardlink_store_path(s)))
			return s->fail ? s->fail : CAPTURE_ERR_INTERNAL;
		uint64_t mref;
		if (nv_lookup(s->vol, s->store_rel, &mref) == NV_OK) {
			if (!o->overwrite) {
				fail(s, CAPTURE_ERR_STORE_EXISTS, "%s already exists on %s; give %s to replace "
				     "it", s->store_rel, o->source, o->usmt ? "/o" : "--overwrite");
				return s->fail;
			}
			if (remove_link_store(s, s->store_rel) < 0)
				return s->fail;
		}
		co.format = ST_FORMAT_HARDLINK;
		co.path = s->store_rel;
		co.volume = s->vol;
		co.allow_efs = o->efs == CAPTURE_EFS_HARDLINK;
	} else {
		if (prepare_local_store(s) < 0)
			return s->fail;
		co.format = o->nocompress ? ST_FORMAT_DIRECTORY : ST_FORMAT_COMPRESSED;
		co.path = o->store;
	}
	enum st_status st = st_writer_create(&co, &s->wr);
	if (st) {
		fail(s, st == ST_ERR_EXISTS ? CAPTURE_ERR_STORE_EXISTS : CAPTURE_ERR_STORE,
		     "the store %s cannot be created: %s", o->store, st_last_error());
		return s->fail;
	}
	return CAPTURE_OK;
}

static void
add_users_to_store(struct scan *s)
{
	for (size_t i = 0; i < s->nusers; i++) {
		struct scan_user *u = &s->users[i];
		if (!u->selected)
			continue;
		char lu[32], state[16], flags[16];
		snprintf(lu, sizeof(lu), "%lld", (long long)u->u->last_use);
		snprintf(state, sizeof(state), "0x%x", u->u->state);
		snprintf(flags, sizeof(flags), "0x%x", u->u->flags);
		struct st_kv kv[] = {
			{ "type", win_user_type_name(u->u->type) },
			{ "profile_image_path", u->u->profile_path ? u->u->profile_path : "" },
			{ "last_use", lu },
			{ "state", state },
			{ "flags", flags },
			{ "hive_state", u->u->hive_state ? u->u->hive_state : "" },
			{ "domain", u->ndomains ? u->domains[0] : "" },
			{ "disabled", u->u->disabled ? "yes" : "no" },
			{ "name_source", u->u->name_source ? u->u->name_source : "" },
			{ "display_name", u->u->display_name ? u->u->display_name : "" },
		};
		/* The user's known folders as their own hive names them, so restore
		 * puts Documents-in-OneDrive back into the new Documents folder. */
		size_t nbase = sizeof(kv) / sizeof(kv[0]), nall = nbase;
		struct st_kv *all = calloc(nbase + u->u->folder_count, sizeof(*all));
		char **keys = calloc(u->u->folder_count + 1, sizeof(*keys));
		if (!all || !keys) {
			free(all);
			free(keys);
			LOG_WARN(s, "user %s could not be recorded: out of memory", u->sid);
			continue;
		}
		memcpy(all, kv, sizeof(kv));
		for (size_t f = 0; f < u->u->folder_count; f++) {
			const struct reg_user_folder *fo = &u->u->folders[f];
			if (!fo->path || fo->is_unc || !fo->source ||
			    strcmp(fo->source, "User Shell Folders") ||
			    asprintf(&keys[f], "folder:%s", fo->name) < 0) {
				keys[f] = NULL;
				continue;
			}
			all[nall].key = keys[f];
			all[nall++].value = fo->path;
		}
		struct st_user su = { u->sid, u->u->name ? u->u->name : "", u->rel_profile, all,
				      nall };
		bool failed = st_writer_add_user(s->wr, &su) != ST_OK;
		for (size_t f = 0; f < u->u->folder_count; f++)
			free(keys[f]);
		free(keys);
		free(all);
		if (failed)
			LOG_WARN(s, "user %s could not be recorded: %s", u->sid, st_last_error());
	}
}

static void
print_summary(struct scan *s, enum capture_outcome rc)
{
	if (s->o->json) {
		write_report(s, stdout, rc == CAPTURE_OK || rc == CAPTURE_PARTIAL);
		if (rc == CAPTURE_OK || rc == CAPTURE_PARTIAL)
			print_accounting(s); /* to the log only */
		return;
	}
	char b[32];
	size_t sel = 0;
	for (size_t i = 0; i < s->nusers; i++)
		sel += s->users[i].selected;
	if (rc != CAPTURE_OK && rc != CAPTURE_PARTIAL)
		return;
	if (s->o->estimate) {
		printf("estimate: %llu files, %s on disk for %zu user(s) and the system; written to %s\n",
		       (unsigned long long)s->est_files, fmt_size(s->est_bytes, b, sizeof(b)), sel,
		       s->o->estimate);
		print_accounting(s);
		return;
	}
	if (s->o->hardlink)
		printf("linked %llu files (%s, nothing copied), %llu registry values, for %zu user(s) "
		       "and the system into the hard-link store %s on %s\n",
		       (unsigned long long)s->files, fmt_size(s->bytes, b, sizeof(b)),
		       (unsigned long long)s->regs, sel, s->o->store, s->o->source);
	else
		printf("captured %llu files (%llu more hard links), %s, %llu registry values, for %zu "
		       "user(s) and the system into %s\n",
		       (unsigned long long)s->files, (unsigned long long)s->links,
		       fmt_size(s->bytes, b, sizeof(b)), (unsigned long long)s->regs, sel, s->o->store);
	if (s->links_stored)
		printf("%llu junction(s) and folder link(s) stored as links (their targets were not "
		       "followed)\n", (unsigned long long)s->links_stored);
	if (s->nclouds)
		printf("%zu cloud (OneDrive) folder(s) entered like plain folders; their cloud state is "
		       "not stored (restored as plain folders): listed in report.json cloud_folders\n",
		       s->nclouds);
	if (s->not_captured)
		printf("%llu item(s) were not captured on purpose (cloud placeholders, WOF, EFS ...): "
		       "each is listed with its reason in report.json\n",
		       (unsigned long long)s->not_captured);
	if (s->errors)
		printf("%llu item(s) could not be captured (errors continued past): listed in "
		       "report.json\n", (unsigned long long)s->errors);
	print_accounting(s);
}

enum capture_outcome
capture_run(const struct capture_options *o)
{
	struct scan sc = { 0 }, *s = &sc;
	s->o = o;
	s->verbosity = o->verbosity;
	s->t0 = s->last_tick = now_s();
	s->start = time(NULL);
	s->tty = isatty(2);
	stop_signal = 0;
	enum capture_outcome rc = CAPTURE_OK;

	if (o->log && !(s->log = fopen(o->log, "a"))) {
		fprintf(stderr, "%s: the log file %s cannot be written: %s\n", o->prog, o->log,
			strerror(errno));
		return CAPTURE_ERR_LOG;
	}
	if (o->progress && !(s->prog = fopen(o->progress, "a"))) {
		fprintf(stderr, "%s: the progress log %s cannot be written: %s\n", o->prog, o->progress,
			strerror(errno));
		if (s->log)
			fclose(s->log);
		return CAPTURE_ERR_PROGRESS;
	}
	if (o->listfiles && !(s->list = fopen(o->listfiles, "w"))) {
		fprintf(stderr, "%s: the file list %s cannot be written: %s\n", o->prog, o->listfiles,
			strerror(errno));
		if (s->log)
			fclose(s->log);
		if (s->prog)
			fclose(s->prog);
		return CAPTURE_ERR_OUTPUT;
	}
	LOG_INFO(s, "%s started: %s", o->prog, o->command_line ? o->command_line : "");
	progress_line(s, "program", "winstate scan", "productVersion", WINSTATE_VERSION);
	if (o->command_line)
		progress_line(s, "commandLine", o->command_line, NULL, NULL);
	progress_line(s, "PHASE", "Initializing", NULL, NULL);

	struct sigaction sa = { 0 }, old_int, old_term;
	sa.sa_handler = on_signal;
	sigaction(SIGINT, &sa, &old_int);
	sigaction(SIGTERM, &sa, &old_term);

	if (!(s->buf = malloc(READ_CHUNK))) {
		rc = CAPTURE_ERR_INTERNAL;
		goto done;
	}
	if (load_rules(s) < 0 || open_source(s) != CAPTURE_OK)
		goto done;
	if (s->w->info.computer_name)
		progress_line(s, "computerName", s->w->info.computer_name, NULL, NULL);
	progress_line(s, "PHASE", "Scanning", NULL, NULL);
	if (select_users(s) < 0 || build_matchers(s) < 0 || plan_accounting(s) < 0)
		goto done;
	if (!o->estimate) {
		if (create_store(s) != CAPTURE_OK)
			goto done;
		add_users_to_store(s);
	}
	progress_line(s, "PHASE", o->estimate ? "Estimating" : "Collecting", NULL, NULL);
	/* Registry first: small, and a failure there costs no file data. */
	for (size_t i = 0; i < s->nusers && !s->fail; i++)
		if (s->users[i].selected && s->users[i].m)
			capture_registry(s, &s->users[i], s->users[i].m, s->users[i].host.hives);
	if (!s->fail && s->sysm)
		capture_registry(s, NULL, s->sysm, s->syshost.hives);
	if (!s->fail) {
		progress_line(s, "PHASE", o->estimate ? "Estimating" : "Saving", NULL, NULL);
		enum nv_status ws = nv_walk(s->vol, s->root, walk_cb, s);
		if (ws != NV_OK && !s->fail)
			fail(s, CAPTURE_ERR_SOURCE, "the volume could not be walked: %s", nv_last_error());
	}
	if (!s->fail && stop_signal)
		fail(s, CAPTURE_ERR_CANCELED, "stopped by signal %d; the store was abandoned",
		     (int)stop_signal);
	tick(s, true);
	if (!s->fail)
		check_accounting(s);
	if (s->fail)
		goto done;
	if (o->estimate) {
		write_estimate(s);
		goto done;
	}
	/* report.json, then the catalog: the store is complete only after both. */
	char *rep = NULL;
	size_t replen = 0;
	FILE *mem = open_memstream(&rep, &replen);
	if (mem) {
		write_report(s, mem, true);
		fclose(mem);
		if (st_writer_put_file(s->wr, "report.json", rep, replen))
			fail(s, CAPTURE_ERR_FAILED, "report.json could not be written into the store: %s",
			     st_last_error());
		free(rep);
	}
	if (!s->fail) {
		enum st_status st = st_writer_finish(s->wr, 0);
		s->wr = NULL;
		if (st)
			fail(s, CAPTURE_ERR_FAILED, "the store could not be completed: %s", st_last_error());
	}
done:
	if (s->wr) {
		st_writer_abort(s->wr);
		s->wr = NULL;
	}
	if (s->fail)
		rc = s->fail;
	else if (s->errors)
		rc = CAPTURE_PARTIAL;
	if (s->fail)
		fprintf(stderr, "%s%s: %s\n", s->tty ? "\n" : "", o->prog, s->failmsg);
	if (rc == CAPTURE_ERR_CANCELED || rc == CAPTURE_ERR_STOPPED || rc == CAPTURE_ERR_FAILED ||
	    rc == CAPTURE_ERR_EFS)
		if (!o->estimate && !o->hardlink)
			fprintf(stderr, "%s: the store in %s is incomplete and no restore will accept it; "
				"run the capture again with %s to replace it\n", o->prog, o->store,
				o->usmt ? "/o" : "--overwrite");
	print_summary(s, rc);
	if (s->log) {
		if (s->errors || s->fail) {
			fprintf(s->log, "\nUSMT ERROR SUMMARY\n  Error | Caused abort | Item\n");
			for (size_t i = 0; i < s->nskips; i++)
				if (s->skips[i].error)
					fprintf(s->log, "  %s | %s | %s\n", s->skips[i].reason,
						o->keep_going ? "No" : "Yes", s->skips[i].path);
			if (s->fail)
				fprintf(s->log, "  %s | Yes | -\n", s->failmsg);
		}
		struct rusage ru;
		getrusage(RUSAGE_SELF, &ru);
		LOG_INFO(s, "%s ended: outcome %d, %llu files, %llu bytes, %llu registry values, "
			 "%.1f s, peak memory %ld KiB", o->prog, (int)rc, (unsigned long long)s->files,
			 (unsigned long long)s->bytes, (unsigned long long)s->regs, now_s() - s->t0,
			 ru.ru_maxrss);
		fclose(s->log);
	}
	if (s->prog) {
		char code[16];
		snprintf(code, sizeof(code), "%d", (int)rc);
		progress_line(s, "PHASE", "Done", "errorCode", code);
		fclose(s->prog);
	}
	if (s->list)
		fclose(s->list);
	/* teardown */
	for (size_t i = 0; i < s->nusers; i++) {
		struct scan_user *u = &s->users[i];
		mig_matcher_free(u->m);
		if (u->host_ok)
			win_rules_host_fini(&u->host);
		mig_vars_free(u->vars);
		free(u->sid);
		free(u->rel_profile);
		for (size_t k = 0; k < u->ndomains; k++)
			free(u->domains[k]);
		acct_free(&u->acct);
	}
	free(s->users);
	free(s->profiles);
	acct_free(&s->sys_acct);
	mig_matcher_free(s->sysm);
	if (s->syshost_ok)
		win_rules_host_fini(&s->syshost);
	mig_vars_free(s->sysvars);
	mig_config_free(s->cfg);
	mig_ruleset_free(s->rs);
	mig_diags_free(s->diags);
	if (s->w)
		win_close(s->w);
	if (s->vol) {
		enum nv_status cs = nv_close(s->vol);
		if (cs != NV_OK && (rc == CAPTURE_OK || rc == CAPTURE_PARTIAL)) {
			fprintf(stderr, "%s: closing the volume failed: %s\n", o->prog, nv_last_error());
			rc = CAPTURE_ERR_FAILED;
		}
	}
	for (size_t i = 0; i < s->nskips; i++) {
		free(s->skips[i].path);
		free(s->skips[i].owner);
		free(s->skips[i].reason);
	}
	free(s->skips);
	for (size_t i = 0; i < s->nunres; i++)
		free(s->unres[i].contexts);
	free(s->unres);
	for (size_t i = 0; i < s->nclouds; i++) {
		free(s->clouds[i].path);
		free(s->clouds[i].owner);
		free(s->clouds[i].streams);
	}
	free(s->clouds);
	seen_free(&s->seen);
	free(s->store_rel);
	free(s->buf);
	sigaction(SIGINT, &old_int, NULL);
	sigaction(SIGTERM, &old_term, NULL);
	return rc;
}
