/*
 * The capture engine behind `winstate scan` and `scanstate`: open the offline
 * volume, pick the users, build one rule matcher per user and one for the
 * system, walk the volume once deciding every file against all of them,
 * enumerate the registry values the rules name, and write everything with its
 * NTFS metadata into a store (store/store.h).  Around it: progress, the log,
 * /listfiles, the space estimate and report.json.
 *
 * Both command lines fill struct capture_options; capture_run() returns an outcome
 * that each spelling maps to its own exit codes (docs/capture.md).
 */
#ifndef WINSTATE_CAPTURE_H
#define WINSTATE_CAPTURE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store/store.h"

enum capture_efs { CAPTURE_EFS_ABORT, CAPTURE_EFS_SKIP, CAPTURE_EFS_COPYRAW, CAPTURE_EFS_HARDLINK };

struct capture_options {
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
	enum capture_efs efs;
	const struct st_key *key;   /* NULL: not encrypted */
	unsigned long long kdf_ops; /* 0 = production defaults (tests make it cheaper) */
	size_t kdf_mem;
	const char *command_line;   /* for the progress log */
};

enum capture_outcome {
	CAPTURE_OK = 0,
	CAPTURE_PARTIAL,          /* done; errors were continued past (--continue) */
	CAPTURE_ERR_USAGE,        /* options that contradict each other */
	CAPTURE_ERR_SOURCE,       /* the disk is unusable, or no (single) Windows on it */
	CAPTURE_ERR_UNCLEAN,      /* hibernated / unclean volume refused */
	CAPTURE_ERR_RULES,        /* a rule file is unusable */
	CAPTURE_ERR_CONFIG,       /* Config.xml unusable */
	CAPTURE_ERR_LOG,          /* the log cannot be written */
	CAPTURE_ERR_PROGRESS,     /* the progress log cannot be written */
	CAPTURE_ERR_OUTPUT,       /* /listfiles or the estimate file cannot be written */
	CAPTURE_ERR_STORE_EXISTS, /* the store holds data and --overwrite was not given */
	CAPTURE_ERR_STORE,        /* the store location is unusable */
	CAPTURE_ERR_HARDLINK,     /* a hard-link store is refused (other volume, ...) */
	CAPTURE_ERR_KEY,          /* the key cannot be read */
	CAPTURE_ERR_EFS,          /* an EFS file with --efs abort */
	CAPTURE_ERR_STOPPED,      /* a per-file error without --continue */
	CAPTURE_ERR_CANCELED,     /* SIGINT / SIGTERM */
	CAPTURE_ERR_FAILED,       /* writing the store failed */
	CAPTURE_ERR_INTERNAL,     /* out of memory */
};

/* Run a capture (or, with opts->estimate, only the estimate).  Messages go to
 * stderr as sentences; the final summary to stdout (JSON with opts->json). */
enum capture_outcome capture_run(const struct capture_options *opts);


#endif
