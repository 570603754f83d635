/*
 * USMT's command lines, as ScanState, LoadState and UsmtUtils accept them:
 * `/option:value` or `/option value`, any order, case-insensitive, each option
 * once unless repeatable, and the documented combinations refused with
 * USMT's own exit codes (11 invalid parameters, 12 argument too long,
 * 36 unsupported on this platform).  Administrators' scripts keep working.
 */
#ifndef WINSTATE_AGENT_USMT_ARGS_H
#define WINSTATE_AGENT_USMT_ARGS_H

#include <stdbool.h>
#include <stddef.h>

/* USMT's documented return codes that the parser can produce. */
enum usmt_code {
	USMT_SUCCESS = 0,
	USMT_DISPLAY_HELP = 1,
	USMT_INVALID_PARAMETERS = 11,
	USMT_ERROR_OPTION_PARAM_TOO_LARGE = 12,
	USMT_ERROR_UNSUPPORTED_PLATFORM = 36,
};

enum usmt_tool { USMT_SCANSTATE, USMT_LOADSTATE, USMT_UTILS };

enum usmt_utils_op { UTILS_NONE, UTILS_VERIFY, UTILS_EXTRACT, UTILS_RD, UTILS_EC };

struct usmt_list {
	char **items;
	size_t count;
};

/* /md:Old:New and /mu:Old\User:New\User */
struct usmt_mapping {
	char *from, *to;
};

struct usmt_args {
	enum usmt_tool tool;
	char *store;                 /* StorePath (UsmtUtils: the store file or folder) */
	struct usmt_list includes;   /* /i: (repeatable) */
	char *config, *genconfig;
	bool overwrite, hardlink, nocompress, localonly, keep_going, all, help;
	bool encrypt, decrypt;       /* /encrypt[:alg], /decrypt[:alg] */
	char *crypt_alg;             /* the :alg, or NULL for the default */
	char *key, *keyfile;
	int verbosity;               /* /v:N, a sum of 1, 4 and 8 */
	char *log, *progress, *listfiles;
	bool estimate;               /* /p */
	char *estimate_file;         /* /p:file.xml */
	int retries, wait;           /* /r:N /w:N */
	struct usmt_list ui, ue;     /* /ui: /ue: (repeatable) */
	char *uel;                   /* /uel:N | YYYY/MM/DD | 0 */
	char *efs;                   /* abort skip decryptcopy copyraw hardlink */
	char *offline, *offlinewindir, *offlinewinold;
	struct usmt_mapping *md, *mu; /* /md: /mu: (repeatable) */
	size_t md_count, mu_count;
	bool lac, lae;
	char *lac_password;
	char *target;                /* winstate's /target:DISK[:PART] (LoadState, UsmtUtils) */
	/* UsmtUtils */
	enum usmt_utils_op op;
	char *verify_type;           /* summary all failureonly catalog */
	char *extract_dest;
	char *utils_include, *utils_exclude;
	bool yes;
};

/*
 * Parse @argc/@argv (after the program name) for @tool into @out.
 * Returns USMT_SUCCESS, USMT_DISPLAY_HELP, or a failure code with a sentence
 * in @err naming the option and why.
 */
int usmt_parse(enum usmt_tool tool, int argc, char **argv, struct usmt_args *out, char *err,
	       size_t errlen);
void usmt_args_free(struct usmt_args *args);
/* The usage text for @tool. */
const char *usmt_usage(enum usmt_tool tool);

#endif
