/*
 * The capture's accounting (docs/capture.md, "Accounting"): for each profile
 * and for the system, every entry the walk finds is counted once, in exactly
 * one bucket, so that
 *
 *     found = captured + excluded + skipped + not selected
 *
 * holds and can be checked against an independent count of the volume.
 * What is an entry: every non-directory name (each hard link's name), and
 * every folder the walk does not enter (a junction, a folder symlink, a folder
 * with another reparse tag, System Volume Information, the hard-link store);
 * a plain folder is not an entry, its contents are.  accounting.c holds only
 * the counting: walk.c decides which bucket.
 *
 * Below the accounting: the state of one run (struct scan), shared by the
 * engine's files, one per step: rules.c, users.c, store.c, registry.c,
 * walk.c, report.c, log.c, run.c.
 */
#ifndef WINSTATE_CAPTURE_INTERNAL_H
#define WINSTATE_CAPTURE_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <signal.h>
#include <stdio.h>
#include <time.h>

#include "capture/capture.h"
#include "ntfs/ntfs.h"
#include "rules/rules.h"
#include "store/store.h"
#include "windows/windows.h"

/* Why an entry was skipped (not captured although a rule selects it, or
 * not readable).  The keys are stable: report.json consumers match on them. */
enum acct_skip {
	ACCT_SKIP_ERROR,          /* "error": unreadable, or refused by the store */
	ACCT_SKIP_DEHYDRATED,     /* "dehydrated": cloud placeholder, data not on this disk */
	ACCT_SKIP_WOF,            /* "wof": WOF-compressed (compact OS) */
	ACCT_SKIP_EFS,            /* "efs": EFS-encrypted, --efs skip */
	ACCT_SKIP_REPARSE_FOLDER, /* "reparse_folder": a folder with another reparse tag */
	ACCT_SKIP_COUNT
};

const char *acct_skip_key(enum acct_skip k);
/* One sentence for the whole group (each item keeps its own in "skipped"). */
const char *acct_skip_sentence(enum acct_skip k);

/* One exclusion group: a rule (by its compiled reference) or, with ref
 * NULL, one of winstate's own always-excluded items (builtin = its reason). */
struct acct_excl {
	const struct mig_rule_ref *ref;
	const char *builtin;
	uint64_t count;
};

struct acct {
	uint64_t found, captured, excluded, skipped, not_selected;
	uint64_t skipped_by[ACCT_SKIP_COUNT];
	struct acct_excl *excl;
	size_t nexcl, capexcl;
	size_t last;              /* the group hit last: runs of one rule are common */
};

/* Which profile holds @rel (a walk path, '/'-separated, relative to the
 * walk's root): the index of the longest of @profiles that is @rel or one of
 * its parent folders (ASCII case-insensitive, as the walk's decisions are),
 * or -1 when none does (the system).  Empty or NULL profiles never match. */
long acct_context_of(const char *rel, const char *const *profiles, size_t nprofiles);

void acct_found(struct acct *a);
void acct_captured(struct acct *a);
void acct_not_selected(struct acct *a);
void acct_skipped(struct acct *a, enum acct_skip why);
/* 0, or -1 when out of memory (nothing counted then). */
int acct_excluded(struct acct *a, const struct mig_rule_ref *ref, const char *builtin);
bool acct_balanced(const struct acct *a);
void acct_free(struct acct *a);

/* The console line: "NAME: N files found = N captured + N excluded +
 * N skipped + N not selected" ("to capture" for an estimate). */
void acct_line(char *buf, size_t len, const char *name, const struct acct *a, bool estimate);

/* The counts and "excluded_by" as JSON members (no braces), e.g.
 * "found": 3, ..., "excluded_by": [...].  Groups whose rule text is the same
 * (file, line, kind, component, pattern) are written as one. */
void acct_write_json(FILE *out, const struct acct *a);

/* ------------------------------------------------------- one run's state -- */

#define READ_CHUNK (1u << 20)

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
	struct capture_result *res;
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
	enum capture_outcome fail;  /* the run's failure (scan_fail), CAPTURE_OK while none */
	char failmsg[2048];
	bool walk_stopped;
	uint8_t *buf;
	double t0, last_tick;
	time_t start;
};

/* log.c: the log, the progress log, the failure, the console progress line. */
#define LOG_INFO(s, ...) scan_log(s, "Info", __VA_ARGS__)
#define LOG_WARN(s, ...) scan_log(s, "Warning", __VA_ARGS__)
#define LOG_ERR(s, ...) scan_log(s, "Error", __VA_ARGS__)
#define VERBOSE(s) ((s)->verbosity & 1)
double scan_now(void);
void scan_log(struct scan *s, const char *level, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void scan_progress_line(struct scan *s, const char *kv1, const char *v1, const char *kv2,
			const char *v2);
/* The run's failure: the first one wins (its sentence is logged); returns
 * the run's outcome, so that a step can end with `return scan_fail(...)`. */
enum capture_outcome scan_fail(struct scan *s, enum capture_outcome why, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* The one out-of-memory failure: CAPTURE_ERR_INTERNAL, "out of memory (@doing)". */
enum capture_outcome scan_out_of_memory(struct scan *s, const char *doing);
/* The store answered @st: out of memory, or CAPTURE_ERR_FAILED with the sentence. */
enum capture_outcome scan_store_fail(struct scan *s, enum st_status st, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* A sentence for the user (opts->say), while the capture runs. */
void scan_say(struct scan *s, enum capture_level level, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* The caller's cancel flag is up. */
bool scan_canceled(struct scan *s);
void scan_decision_text(const struct mig_rule_ref *r, char *buf, size_t len);
void scan_tick(struct scan *s, bool final);

/* rules.c */
enum capture_outcome scan_load_rules(struct scan *s);
enum capture_outcome scan_build_matchers(struct scan *s);

/* users.c */
enum capture_outcome scan_select_users(struct scan *s);

/* store.c */
enum capture_outcome scan_create_store(struct scan *s);
enum capture_outcome scan_add_users_to_store(struct scan *s);

/* registry.c */
enum capture_outcome scan_registry(struct scan *s, struct scan_user *u, const mig_matcher *m, reg_hive_set *hives);
void scan_seen_free(struct seen_set *set);

/* walk.c: the one walk of the volume, every entry decided and captured. */
enum capture_outcome scan_walk(struct scan *s);

/* report.c */
enum capture_outcome scan_plan_accounting(struct scan *s);
void scan_check_accounting(struct scan *s);
enum capture_outcome scan_summarise_accounting(struct scan *s);
void scan_write_report(struct scan *s, FILE *out, bool complete);
enum capture_outcome scan_write_estimate(struct scan *s);


#endif
