/*
 * The capture engine behind `winstate scan` and `scanstate`: open the offline
 * volume, pick the users, build one rule matcher per user and one for the
 * system, walk the volume once deciding every file against all of them,
 * enumerate the registry values the rules name, and write everything with its
 * NTFS metadata into a store (store/store.h).  Around it: progress, the log,
 * /listfiles, the space estimate and report.json.
 *
 * Both command lines fill struct capture_options; capture_run() fills struct
 * capture_result, whose outcome each spelling maps to its own exit codes
 * (docs/capture.md).  The engine prints nothing and installs no signal
 * handler: what the user is told goes through the options' callbacks while
 * it runs and through the result at the end; the caller's cancel flag stops it.
 * Its own outputs are files: the log, the progress log, /listfiles, the
 * estimate, and the store with its report.json.
 */
#ifndef WINSTATE_CAPTURE_H
#define WINSTATE_CAPTURE_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store/store.h"

enum capture_efs { CAPTURE_EFS_ABORT, CAPTURE_EFS_SKIP, CAPTURE_EFS_COPYRAW, CAPTURE_EFS_HARDLINK };

/* What a sentence the engine says while it runs is. */
enum capture_level {
	CAPTURE_NOTE,             /* worth knowing, nothing wrong */
	CAPTURE_WARNING,          /* something the user should look at; the capture goes on */
	CAPTURE_ERROR,            /* winstate's own bug, found and said (the capture goes on) */
};

/* Where the walk is, for a progress line. */
struct capture_progress {
	double fraction;          /* of the volume's used bytes walked, 0..1 (1 when final) */
	uint64_t files;           /* files and hard links stored so far */
	uint64_t bytes;           /* their bytes */
	uint64_t bytes_per_second;
	long eta_seconds;         /* -1: not known yet (or final) */
	bool final;               /* the last call: the walk is over */
};

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
	/* Sentences for the user while the capture runs (without the program's
	 * name or a newline); NULL: none are told. */
	void (*say)(void *ctx, enum capture_level level, const char *text);
	/* Called at most every progress_every seconds (0: 10) during the walk,
	 * and once with final set after it; NULL: none. */
	void (*on_progress)(void *ctx, const struct capture_progress *p);
	void *ctx;                  /* for say and on_progress */
	double progress_every;
	/* Polled between files and between chunks of a file: nonzero (the number
	 * of the signal that asked) stops the capture, the store is abandoned.
	 * NULL: never. */
	const volatile sig_atomic_t *cancel;
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
	CAPTURE_ERR_INTERNAL,     /* out of memory, or winstate's own bug */
};

struct capture_result {
	enum capture_outcome outcome;
	/* The sentence for a failed outcome, empty on success.  With complete
	 * set it is a failure after the work was done (closing the volume). */
	char message[2048];
	/* The capture (or estimate) ran to its end: the counts and the
	 * accounting below are the summary of a finished run. */
	bool complete;
	uint64_t files, links, bytes, registry_values;
	uint64_t errors;            /* items that could not be captured (continued past) */
	uint64_t not_captured;      /* items not captured by design (placeholders, WOF, EFS...) */
	uint64_t junctions;         /* junctions and folder links stored as links */
	size_t cloud_folders;       /* OneDrive folders entered as plain folders */
	size_t users_selected;
	uint64_t estimate_files, estimate_bytes;  /* with opts->estimate */
	/* One line per selected user, per other profile that holds files, and
	 * for the system: "NAME: N files found = ..." (only when complete). */
	char **accounting;
	size_t accounting_count;
	/* report.json as it stands at the end ("complete": false and the failure
	 * when the run failed); NULL only when the run failed before it could be
	 * written (the log could not be opened, out of memory). */
	char *report;
};

/* Run a capture (or, with opts->estimate, only the estimate) and fill @res
 * (always, also on failure: free it with capture_result_free).  Returns
 * res->outcome.  A failed step never ends in CAPTURE_OK; out of memory
 * anywhere is CAPTURE_ERR_INTERNAL. */
enum capture_outcome capture_run(const struct capture_options *opts, struct capture_result *res);
void capture_result_free(struct capture_result *res);


#endif
