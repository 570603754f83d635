/*
 * The capture engine behind `winstate scan` and `scanstate`: open the offline
 * volume, pick the users, build one rule matcher per user and one for the
 * system, walk the volume once deciding every file against all of them,
 * enumerate the registry values the rules name, and write everything with its
 * NTFS metadata into a store (store/store.h).  Around it: progress, the log,
 * /listfiles, the space estimate and report.json.
 *
 * Both command lines fill struct scan_options; scan_run() returns an outcome
 * that each spelling maps to its own exit codes (docs/capture.md).
 */
#ifndef WINSTATE_AGENT_SCAN_H
#define WINSTATE_AGENT_SCAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store/store.h"

enum scan_efs { SCAN_EFS_ABORT, SCAN_EFS_SKIP, SCAN_EFS_COPYRAW, SCAN_EFS_HARDLINK };

struct scan_options {
	const char *prog;           /* "winstate scan" or "scanstate", for messages */
	const char *source;         /* DISK[:PART] */
	const char *windir;         /* volume path of the Windows folder, NULL = the only one */
	const char *store;          /* local folder; hard-link: folder path on the source volume */
	const char **rules;         /* rule files; none = winstate's default rules */
	size_t nrules;
	const char *config;
	bool hardlink, nocompress, overwrite, keep_going, force_unclean, json, usmt;
	const char *log;            /* NULL = no log */
	int verbosity;              /* USMT /v bits: 1 verbose, 4 status */
	const char *progress, *listfiles, *estimate;
	bool all;
	const char **ui, **ue;
	size_t nui, nue;
	const char *uel;            /* N (days), YYYY/MM/DD or 0 */
	enum scan_efs efs;
	const struct st_key *key;   /* NULL: not encrypted */
	unsigned long long kdf_ops; /* 0 = production defaults (tests make it cheaper) */
	size_t kdf_mem;
	const char *command_line;   /* for the progress log */
};

enum scan_outcome {
	SCAN_OK = 0,
	SCAN_PARTIAL,          /* done; errors were continued past (--continue) */
	SCAN_ERR_USAGE,        /* options that contradict each other */
	SCAN_ERR_SOURCE,       /* the disk is unusable, or no (single) Windows on it */
	SCAN_ERR_UNCLEAN,      /* hibernated / unclean volume refused */
	SCAN_ERR_RULES,        /* a rule file is unusable */
	SCAN_ERR_CONFIG,       /* Config.xml unusable */
	SCAN_ERR_LOG,          /* the log cannot be written */
	SCAN_ERR_PROGRESS,     /* the progress log cannot be written */
	SCAN_ERR_OUTPUT,       /* /listfiles or the estimate file cannot be written */
	SCAN_ERR_STORE_EXISTS, /* the store holds data and --overwrite was not given */
	SCAN_ERR_STORE,        /* the store location is unusable */
	SCAN_ERR_HARDLINK,     /* a hard-link store is refused (other volume, ...) */
	SCAN_ERR_KEY,          /* the key cannot be read */
	SCAN_ERR_EFS,          /* an EFS file with --efs abort */
	SCAN_ERR_STOPPED,      /* a per-file error without --continue */
	SCAN_ERR_CANCELED,     /* SIGINT / SIGTERM */
	SCAN_ERR_FAILED,       /* writing the store failed */
	SCAN_ERR_INTERNAL,     /* out of memory */
};

/* Run a capture (or, with opts->estimate, only the estimate).  Messages go to
 * stderr as sentences; the final summary to stdout (JSON with opts->json). */
enum scan_outcome scan_run(const struct scan_options *opts);

/* ---- shared between scan*.c ---- */

/* USMT's /uel value: 0 ok (*cutoff = FILETIME, *latest_only for "0"), -1 bad. */
int scan_parse_uel(const char *text, int64_t now, int64_t *cutoff, bool *latest_only);
/* Does a /ui or /ue pattern name this user?  Patterns: DOMAIN\user,
 * COMPUTER\user, user, or a SID, each with '*' wildcards (case-insensitive). */
bool scan_user_matches(const char *pattern, const char *sid, const char *name,
		       const char *const *domains, size_t ndomains);
/* NULL when @pattern can name a user, else the end of a sentence saying why
 * not ("is empty: ..."). */
const char *scan_user_pattern_problem(const char *pattern);
/* USMT's precedence of the three: is the user captured, and why (a static
 * sentence)?  @recent: the profile passes --uel (ignored without @have_uel). */
bool scan_user_pick(bool in_ui, bool in_ue, bool have_uel, bool recent, const char **why);

#endif
