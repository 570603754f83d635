#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "capture/capture.h"
#include "agent/usmt_args.h"
#include "windows/windows.h"

#define SCAN (1u << USMT_SCANSTATE)
#define LOAD (1u << USMT_LOADSTATE)
#define UTIL (1u << USMT_UTILS)

/* USMT limits arguments to 256 characters (computed on absolute paths). */
#define MAX_ARG 256

enum kind { FLAG, VALUE, OPTIONAL };

struct option_spec {
	const char *name;
	unsigned tools;
	enum kind kind;
	bool repeatable;
};

static const struct option_spec options[] = {
	{ "i", SCAN | LOAD | UTIL, VALUE, true },
	{ "e", UTIL, VALUE, false },
	{ "config", SCAN | LOAD, VALUE, false },
	{ "genconfig", SCAN, VALUE, false },
	{ "o", SCAN | UTIL, FLAG, false },
	{ "hardlink", SCAN | LOAD, FLAG, false },
	{ "nocompress", SCAN | LOAD, FLAG, false },
	{ "encrypt", SCAN, OPTIONAL, false },
	{ "decrypt", LOAD | UTIL, OPTIONAL, false },
	{ "key", SCAN | LOAD | UTIL, VALUE, false },
	{ "keyfile", SCAN | LOAD | UTIL, VALUE, false },
	{ "localonly", SCAN, FLAG, false },
	{ "v", SCAN | LOAD | UTIL, VALUE, false },
	{ "l", SCAN | LOAD | UTIL, VALUE, false },
	{ "progress", SCAN | LOAD, VALUE, false },
	{ "listfiles", SCAN, VALUE, false },
	{ "p", SCAN, OPTIONAL, false },
	{ "r", SCAN | LOAD, VALUE, false },
	{ "w", SCAN | LOAD, VALUE, false },
	{ "c", SCAN | LOAD, FLAG, false },
	{ "all", SCAN | LOAD, FLAG, false },
	{ "ui", SCAN | LOAD, VALUE, true },
	{ "ue", SCAN | LOAD, VALUE, true },
	{ "uel", SCAN | LOAD, VALUE, false },
	{ "efs", SCAN, VALUE, false },
	{ "offline", SCAN | LOAD, VALUE, false },
	{ "offlinewindir", SCAN | LOAD, VALUE, false },
	{ "offlinewinold", SCAN | LOAD, VALUE, false },
	/* winstate's own: the disk holding the Windows to restore into (or the
	 * hard-link store's volume), since there is no running Windows offline. */
	{ "target", LOAD | UTIL, VALUE, false },
	{ "md", LOAD, VALUE, true },
	{ "mu", LOAD, VALUE, true },
	{ "lac", LOAD, OPTIONAL, false },
	{ "lae", LOAD, FLAG, false },
	{ "verify", UTIL, OPTIONAL, false },
	{ "extract", UTIL, FLAG, false },
	{ "rd", UTIL, FLAG, false },
	{ "ec", UTIL, FLAG, false },
	{ "y", UTIL, FLAG, false },
	{ "?", SCAN | LOAD | UTIL, FLAG, false },
	{ "help", SCAN | LOAD | UTIL, FLAG, false },
};
#define N_OPTIONS (sizeof(options) / sizeof(options[0]))

static const char *const tool_names[] = { "ScanState", "LoadState", "UsmtUtils" };

static int
fail(char *err, size_t errlen, int code, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return code;
}

static int
list_add(struct usmt_list *l, const char *s)
{
	char **grown = realloc(l->items, (l->count + 1) * sizeof(*grown));
	if (!grown)
		return -1;
	l->items = grown;
	if (!(grown[l->count] = strdup(s)))
		return -1;
	l->count++;
	return 0;
}

static int
parse_int(const char *s, int *out)
{
	char *end;
	long v = strtol(s, &end, 10);
	if (!*s || *end || v < 0 || v > 100000)
		return -1;
	*out = (int)v;
	return 0;
}

/* "Old:New" (split at the last ':' that is not a drive letter's) */
static int
parse_mapping(const char *value, struct usmt_mapping **list, size_t *count)
{
	const char *colon = strchr(value, ':');
	if (!colon || colon == value || !colon[1] || strchr(colon + 1, ':'))
		return -1;
	struct usmt_mapping *grown = realloc(*list, (*count + 1) * sizeof(*grown));
	if (!grown)
		return -1;
	*list = grown;
	grown[*count].from = strndup(value, (size_t)(colon - value));
	grown[*count].to = strdup(colon + 1);
	(*count)++;
	return 0;
}

static bool
valid_uel(const char *v)
{
	int y, m, d;
	char tail;
	if (strspn(v, "0123456789") == strlen(v) && *v)
		return true;
	return sscanf(v, "%4d/%2d/%2d%c", &y, &m, &d, &tail) == 3 && y >= 1980 && m >= 1 &&
	       m <= 12 && d >= 1 && d <= 31;
}

static int
store_value(struct usmt_args *a, const char *name, const char *value, char *err, size_t errlen)
{
#define SET(field)                                                                   \
	do {                                                                         \
		if (!(a->field = strdup(value)))                                      \
			return fail(err, errlen, USMT_INVALID_PARAMETERS, "out of memory"); \
	} while (0)
	if (!strcmp(name, "i")) {
		if (list_add(&a->includes, value) < 0)
			return fail(err, errlen, USMT_INVALID_PARAMETERS, "out of memory");
		if (a->tool == USMT_UTILS)
			SET(utils_include);
	} else if (!strcmp(name, "e"))
		SET(utils_exclude);
	else if (!strcmp(name, "config"))
		SET(config);
	else if (!strcmp(name, "genconfig"))
		SET(genconfig);
	else if (!strcmp(name, "key"))
		SET(key);
	else if (!strcmp(name, "keyfile"))
		SET(keyfile);
	else if (!strcmp(name, "l"))
		SET(log);
	else if (!strcmp(name, "progress"))
		SET(progress);
	else if (!strcmp(name, "listfiles"))
		SET(listfiles);
	else if (!strcmp(name, "offline"))
		SET(offline);
	else if (!strcmp(name, "offlinewindir"))
		SET(offlinewindir);
	else if (!strcmp(name, "offlinewinold"))
		SET(offlinewinold);
	else if (!strcmp(name, "target"))
		SET(target);
	else if (!strcmp(name, "v")) {
		if (parse_int(value, &a->verbosity) < 0 || (a->verbosity & ~13) )
			return fail(err, errlen, USMT_INVALID_PARAMETERS,
				    "/v:%s: the verbosity is a sum of 1 (verbose), 4 (status) and 8 "
				    "(debugger output): 0, 1, 4, 5, 8, 9, 12 or 13", value);
	} else if (!strcmp(name, "r") || !strcmp(name, "w")) {
		if (parse_int(value, name[0] == 'r' ? &a->retries : &a->wait) < 0)
			return fail(err, errlen, USMT_INVALID_PARAMETERS,
				    "/%s:%s: expected a whole number", name, value);
	} else if (!strcmp(name, "ui") || !strcmp(name, "ue")) {
		const char *bad = win_user_pattern_problem(value);
		if (bad)
			return fail(err, errlen, USMT_INVALID_PARAMETERS, "/%s:%s %s", name, value, bad);
		if (list_add(name[1] == 'i' ? &a->ui : &a->ue, value) < 0)
			return fail(err, errlen, USMT_INVALID_PARAMETERS, "out of memory");
	} else if (!strcmp(name, "uel")) {
		if (!valid_uel(value))
			return fail(err, errlen, USMT_INVALID_PARAMETERS,
				    "/uel:%s: expected a number of days, a date as YYYY/MM/DD, or 0",
				    value);
		SET(uel);
	} else if (!strcmp(name, "efs")) {
		static const char *const modes[] = { "abort", "skip", "decryptcopy", "copyraw",
						     "hardlink" };
		size_t i;
		for (i = 0; i < 5 && strcasecmp(value, modes[i]); i++)
			;
		if (i == 5)
			return fail(err, errlen, USMT_INVALID_PARAMETERS,
				    "/efs:%s: expected abort, skip, decryptcopy, copyraw or hardlink",
				    value);
		if (i == 2)
			return fail(err, errlen, USMT_INVALID_PARAMETERS,
				    "/efs:decryptcopy needs the user's EFS keys, which an offline "
				    "capture cannot use; use /efs:copyraw (the files stay encrypted "
				    "and open again once the user's certificate is migrated)");
		a->efs = strdup(modes[i]);
	} else if (!strcmp(name, "md") || !strcmp(name, "mu")) {
		bool md = name[1] == 'd';
		if (parse_mapping(value, md ? &a->md : &a->mu, md ? &a->md_count : &a->mu_count) < 0)
			return fail(err, errlen, USMT_INVALID_PARAMETERS,
				    md ? "/md:%s: expected OldDomain:NewDomain"
				       : "/mu:%s: expected OldDomain\\OldUser:NewDomain\\NewUser", value);
	}
	return USMT_SUCCESS;
#undef SET
}

static int
apply_option(struct usmt_args *a, const struct option_spec *o, const char *value, char *err,
	     size_t errlen)
{
	const char *n = o->name;
	if (!strcmp(n, "?") || !strcmp(n, "help"))
		a->help = true;
	else if (!strcmp(n, "o"))
		a->overwrite = true;
	else if (!strcmp(n, "hardlink"))
		a->hardlink = true;
	else if (!strcmp(n, "nocompress"))
		a->nocompress = true;
	else if (!strcmp(n, "localonly"))
		a->localonly = true;
	else if (!strcmp(n, "c"))
		a->keep_going = true;
	else if (!strcmp(n, "all"))
		a->all = true;
	else if (!strcmp(n, "lae"))
		a->lae = true;
	else if (!strcmp(n, "y"))
		a->yes = true;
	else if (!strcmp(n, "encrypt") || !strcmp(n, "decrypt")) {
		if (n[0] == 'e')
			a->encrypt = true;
		else
			a->decrypt = true;
		if (value)
			a->crypt_alg = strdup(value);
	} else if (!strcmp(n, "p")) {
		a->estimate = true;
		if (value)
			a->estimate_file = strdup(value);
	} else if (!strcmp(n, "lac")) {
		a->lac = true;
		if (value)
			a->lac_password = strdup(value);
	} else if (!strcmp(n, "verify")) {
		a->op = UTILS_VERIFY;
		if (value) {
			if (strcasecmp(value, "summary") && strcasecmp(value, "all") &&
			    strcasecmp(value, "failureonly") && strcasecmp(value, "catalog"))
				return fail(err, errlen, USMT_INVALID_PARAMETERS,
					    "/verify:%s: expected summary, all, failureonly or catalog",
					    value);
			a->verify_type = strdup(value);
		}
	} else if (!strcmp(n, "extract"))
		a->op = UTILS_EXTRACT;
	else if (!strcmp(n, "rd"))
		a->op = UTILS_RD;
	else if (!strcmp(n, "ec"))
		a->op = UTILS_EC;
	else
		return store_value(a, n, value, err, errlen);
	return USMT_SUCCESS;
}

/* The documented combinations that USMT refuses, each with its reason. */
static int
check_combinations(struct usmt_args *a, char *err, size_t errlen)
{
	int offline_forms = !!a->offline + !!a->offlinewindir + !!a->offlinewinold;
	const char *tool = tool_names[a->tool];

	if (a->tool == USMT_UTILS) {
		if (a->op == UTILS_NONE)
			return fail(err, errlen, USMT_INVALID_PARAMETERS,
				    "UsmtUtils needs one of /verify, /extract, /rd or /ec");
		if (a->op != UTILS_EC && !a->store)
			return fail(err, errlen, USMT_INVALID_PARAMETERS,
				    "UsmtUtils: name the store %s",
				    a->op == UTILS_RD ? "folder to remove" : "file");
		if (a->op == UTILS_EXTRACT && !a->extract_dest)
			return fail(err, errlen, USMT_INVALID_PARAMETERS,
				    "UsmtUtils /extract needs the store and a destination folder");
		if (a->key && a->keyfile)
			return fail(err, errlen, USMT_INVALID_PARAMETERS,
				    "/key and /keyfile cannot be used together: give the key one way");
		return USMT_SUCCESS;
	}
	if (!a->store && !a->genconfig)
		return fail(err, errlen, USMT_INVALID_PARAMETERS,
			    "%s needs a StorePath (the folder that holds or will hold the store)", tool);
	if (a->genconfig) {
		if (a->store || a->localonly || a->key || a->keyfile || a->encrypt || a->listfiles ||
		    a->progress || a->keep_going || a->estimate || a->all || a->ui.count ||
		    a->ue.count || a->uel || a->efs || a->config || a->retries || a->wait)
			return fail(err, errlen, USMT_INVALID_PARAMETERS,
				    "/genconfig writes a Config.xml and captures nothing, so only /i, "
				    "/o, /v and /l go with it");
	}
	if (a->all && (a->ui.count || a->ue.count || a->uel))
		return fail(err, errlen, USMT_INVALID_PARAMETERS,
			    "/all selects every user, so it cannot be combined with /ui, /ue or /uel");
	if ((a->encrypt || a->decrypt) && !a->key && !a->keyfile)
		return fail(err, errlen, USMT_INVALID_PARAMETERS, "/%s needs the key: /key:... or /keyfile:...",
			    a->encrypt ? "encrypt" : "decrypt");
	if (a->key && a->keyfile)
		return fail(err, errlen, USMT_INVALID_PARAMETERS,
			    "/key and /keyfile cannot be used together: give the key one way");
	if ((a->key || a->keyfile) && !a->encrypt && !a->decrypt)
		return fail(err, errlen, USMT_INVALID_PARAMETERS, "/key and /keyfile only go with /%s",
			    a->tool == USMT_SCANSTATE ? "encrypt" : "decrypt");
	if ((a->encrypt || a->decrypt) && a->nocompress)
		return fail(err, errlen, USMT_INVALID_PARAMETERS,
			    "/nocompress stores plain files, which cannot be encrypted: drop one of "
			    "/nocompress and /%s", a->encrypt ? "encrypt" : "decrypt");
	if (a->hardlink && !a->nocompress)
		return fail(err, errlen, USMT_INVALID_PARAMETERS,
			    "/hardlink needs /nocompress: a hard-link store holds links to the files "
			    "themselves, never compressed copies");
	if (a->listfiles && a->estimate)
		return fail(err, errlen, USMT_INVALID_PARAMETERS,
			    "/listfiles lists what a capture took, and /p only estimates: use one");
	if (a->efs && !strcmp(a->efs, "hardlink") && !a->hardlink)
		return fail(err, errlen, USMT_INVALID_PARAMETERS,
			    "/efs:hardlink only makes sense with a hard-link store (/hardlink /nocompress)");
	if (a->lae && !a->lac)
		return fail(err, errlen, USMT_INVALID_PARAMETERS,
			    "/lae enables the accounts that /lac creates, so it needs /lac");
	if (offline_forms > 1)
		return fail(err, errlen, USMT_INVALID_PARAMETERS,
			    "use only one of /offline, /offlinewindir and /offlinewinold");
	if (a->tool == USMT_LOADSTATE && offline_forms)
		return fail(err, errlen, USMT_ERROR_UNSUPPORTED_PLATFORM,
			    "LoadState does not take /offline options: name the target disk with /target:DISK[:PART]");
	return USMT_SUCCESS;
}

/* An option's name has no '/': "/mnt/usb/store" or "/dev/sda:3" is a Linux path. */
static bool
is_linux_path(const char *arg)
{
	return arg[0] == '/' && memchr(arg + 1, '/', strcspn(arg + 1, ":")) != NULL;
}

static const struct option_spec *
find_option(enum usmt_tool tool, const char *name, size_t len, bool *wrong_tool)
{
	*wrong_tool = false;
	for (size_t i = 0; i < N_OPTIONS; i++) {
		if (strlen(options[i].name) != len || strncasecmp(options[i].name, name, len))
			continue;
		if (!(options[i].tools & (1u << tool))) {
			*wrong_tool = true;
			return NULL;
		}
		return &options[i];
	}
	return NULL;
}

int
usmt_parse(enum usmt_tool tool, int argc, char **argv, struct usmt_args *a, char *err,
	   size_t errlen)
{
	bool seen[N_OPTIONS] = { false };
	int code;

	memset(a, 0, sizeof(*a));
	a->tool = tool;
	err[0] = '\0';
	for (int i = 0; i < argc; i++) {
		const char *arg = argv[i];
		if (strlen(arg) > MAX_ARG)
			return fail(err, errlen, USMT_ERROR_OPTION_PARAM_TOO_LARGE,
				    "an argument is %zu characters long; USMT's limit is %d: \"%.40s...\"",
				    strlen(arg), MAX_ARG, arg);
		if (arg[0] != '/' || !arg[1] || is_linux_path(arg)) {
			/* Positional: StorePath (UsmtUtils: store, then destination). */
			if (!a->store)
				a->store = strdup(arg);
			else if (tool == USMT_UTILS && a->op == UTILS_EXTRACT && !a->extract_dest)
				a->extract_dest = strdup(arg);
			else
				return fail(err, errlen, USMT_INVALID_PARAMETERS,
					    "%s takes one StorePath; \"%s\" would be a second",
					    tool_names[tool], arg);
			continue;
		}
		const char *name = arg + 1, *colon = strchr(name, ':');
		size_t len = colon ? (size_t)(colon - name) : strlen(name);
		bool wrong_tool;
		const struct option_spec *o = find_option(tool, name, len, &wrong_tool);
		if (!o)
			return fail(err, errlen, USMT_INVALID_PARAMETERS,
				    wrong_tool ? "%.*s is not a %s option" : "/%.*s is not an option of %s",
				    (int)(len + (wrong_tool ? 1 : 0)), wrong_tool ? arg : name,
				    tool_names[tool]);
		size_t idx = (size_t)(o - options);
		if (seen[idx] && !o->repeatable)
			return fail(err, errlen, USMT_INVALID_PARAMETERS, "/%s is given twice",
				    o->name);
		seen[idx] = true;
		const char *value = colon ? colon + 1 : NULL;
		if (o->kind == FLAG && value)
			return fail(err, errlen, USMT_INVALID_PARAMETERS, "/%s takes no value", o->name);
		if (o->kind == VALUE && !value) {
			/* "/option value" is accepted as well as "/option:value". */
			if (i + 1 < argc && (argv[i + 1][0] != '/' || is_linux_path(argv[i + 1])))
				value = argv[++i];
			else
				return fail(err, errlen, USMT_INVALID_PARAMETERS, "/%s needs a value (/%s:...)",
					    o->name, o->name);
		}
		if (value && !*value && o->kind != FLAG)
			return fail(err, errlen, USMT_INVALID_PARAMETERS, "/%s: the value is empty",
				    o->name);
		code = apply_option(a, o, value, err, errlen);
		if (code != USMT_SUCCESS)
			return code;
	}
	if (a->help)
		return USMT_DISPLAY_HELP;
	return check_combinations(a, err, errlen);
}

static void
list_free(struct usmt_list *l)
{
	for (size_t i = 0; i < l->count; i++)
		free(l->items[i]);
	free(l->items);
}

void
usmt_args_free(struct usmt_args *a)
{
	char **strings[] = { &a->store, &a->config, &a->genconfig, &a->crypt_alg, &a->key,
			     &a->keyfile, &a->log, &a->progress, &a->listfiles, &a->estimate_file,
			     &a->uel, &a->efs, &a->offline, &a->offlinewindir, &a->offlinewinold,
			     &a->lac_password, &a->target, &a->verify_type, &a->extract_dest, &a->utils_include,
			     &a->utils_exclude };
	for (size_t i = 0; i < sizeof(strings) / sizeof(strings[0]); i++)
		free(*strings[i]);
	list_free(&a->includes);
	list_free(&a->ui);
	list_free(&a->ue);
	for (size_t i = 0; i < a->md_count; i++) {
		free(a->md[i].from);
		free(a->md[i].to);
	}
	for (size_t i = 0; i < a->mu_count; i++) {
		free(a->mu[i].from);
		free(a->mu[i].to);
	}
	free(a->md);
	free(a->mu);
	memset(a, 0, sizeof(*a));
}

const char *
usmt_usage(enum usmt_tool tool)
{
	switch (tool) {
	case USMT_SCANSTATE:
		return "usage: scanstate StorePath [/i:File]... [/config:File] [/o] [/hardlink /nocompress]\n"
		       "       [/encrypt[:alg] /key:K | /keyfile:F] [/v:N] [/l:File] [/progress:File]\n"
		       "       [/listfiles:File] [/p[:File]] [/c] [/all | /ui:U... /ue:U... /uel:N]\n"
		       "       [/efs:abort|skip|copyraw|hardlink] [/offlinewindir:Path | /offlinewinold:Path\n"
		       "       | /offline:File] [/localonly] [/genconfig:File]\n"
		       "On Linux the offline Windows is a disk, not a drive letter:\n"
		       "  /offlinewindir:DISK[:PART] or /offlinewindir:DISK[:PART]:\\Windows,\n"
		       "  /offlinewinold:DISK[:PART] (its Windows.old\\Windows), /offline:offline.xml\n"
		       "  with <winDir><path> entries in those forms.  With /hardlink the\n"
		       "  StorePath is a folder on that volume (C:\\MigStore).  See docs/capture.md.\n";
	case USMT_LOADSTATE:
		return "usage: loadstate StorePath [/i:File]... [/config:File] [/hardlink /nocompress]\n"
		       "       [/decrypt[:alg] /key:K | /keyfile:F] [/v:N] [/l:File] [/progress:File] [/c]\n"
		       "       [/all | /ui:U... /ue:U... /uel:N] [/md:Old:New]... [/mu:Old:New]...\n"
		       "       [/lac[:Password] [/lae]] /target:DISK[:PART]\n";
	default:
		return "usage: usmtutils /verify[:summary|all|failureonly|catalog] Store [/decrypt /key:K]\n"
		       "       usmtutils /extract Store DestFolder [/i:Patterns] [/e:Patterns] [/o]\n"
		       "       usmtutils /rd StoreFolder [/target:DISK[:PART]] [/y]\n"
		       "       usmtutils /ec\n";
	}
}
