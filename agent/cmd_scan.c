/*
 * Capture: `winstate scan SOURCE STORE [options]` and `scanstate STORE
 * /offlinewindir:SOURCE ...`.  Both fill struct capture_options for the engine
 * (capture/capture.h), run it through agent_capture, which prints what it
 * says and its summary, and map its outcome to their own exit codes
 * (docs/capture.md).
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agent/commands.h"
#include "agent/options.h"
#include "capture/capture.h"
#include "agent/usmt_args.h"
#include "rules/rules.h"
#include "formats/formats.h"
#include "windows/windows.h"

static const char scan_help[] =
	"usage: winstate scan SOURCE STORE [options]\n"
	"\n"
	"Capture the users' files and settings of the offline Windows on SOURCE into\n"
	"the store folder STORE (ScanState).  SOURCE is DISK or DISK:PART: a disk\n"
	"image, a partition image or a block device, and the partition number that\n"
	"`winstate volumes` shows.  STORE is a local folder (the compressed store is\n"
	"STORE/USMT/USMT.MIG); with --hardlink it is a folder on the source volume,\n"
	"relative to its root (MigStore or C:\\MigStore).\n"
	"\n"
	"  --rules FILE        MigXML rule file (repeatable; default: winstate's rules)\n"
	"  --config FILE       Config.xml (components switched off with migrate=\"no\")\n"
	"  --nocompress        a directory store of plain files (STORE/USMT/File/C$/...)\n"
	"  --hardlink          with --nocompress: a hard-link store on the source volume\n"
	"  --overwrite         replace an existing store\n"
	"  --continue          record per-file errors and go on (exit 1 instead of 4)\n"
	"  --windir PATH       the Windows to capture, e.g. Windows.old/Windows\n"
	"  --all               every user (the default)\n"
	"  --ui PAT, --ue PAT  include / exclude users: DOMAIN\\user, COMPUTER\\user, user\n"
	"                      or a SID, '*' wildcards (*\\* is everyone); --ui wins over\n"
	"                      --ue and --uel\n"
	"  --uel N|YYYY/MM/DD|0  only profiles used in the last N days / since the date /\n"
	"                      the most recently used one (from the profile's last use);\n"
	"                      wins over --ue\n"
	"  --efs abort|skip|copyraw|hardlink  EFS-encrypted files: stop (default), leave\n"
	"                      out, copy raw (still encrypted, with their $EFS metadata;\n"
	"                      compressed and directory stores), or link them into a\n"
	"                      hard-link store\n"
	"  --encrypt --key K | --keyfile F   encrypt the compressed store\n"
	"  --force-unclean     capture a hibernated or uncleanly shut down volume anyway\n"
	"  --log FILE, --verbosity N   log (N: USMT's /v bits, 1 = every decision)\n"
	"  --progress FILE     USMT-format progress log\n"
	"  --listfiles FILE    one captured path per line\n"
	"  --estimate FILE     write USMT's space estimate XML; no store is written\n"
	"  --json              print the summary (report.json's content) as JSON\n"
	"\n"
	"Exit codes: 0 complete, 1 complete but errors were continued past (listed in\n"
	"STORE/report.json), 2 bad command line, 3 source, store, rules or config\n"
	"unusable, 4 the capture started and failed (the store is left incomplete),\n"
	"5 internal error.\n";

static const char scanstate_note[] =
	"\nOn Linux the offline Windows is named by disk, not drive letter:\n"
	"  /offlinewindir:DISK[:PART]            the only Windows on that volume\n"
	"  /offlinewindir:DISK[:PART]:\\Windows   that Windows folder\n"
	"  /offlinewinold:DISK[:PART]            Windows.old\\Windows on that volume\n"
	"  /offline:offline.xml                  <winDir><path> entries in the forms above\n"
	"With /hardlink the StorePath is on that volume: C:\\MigStore or MigStore.\n";

static int
winstate_code(enum capture_outcome o)
{
	switch (o) {
	case CAPTURE_OK: return WS_EXIT_OK;
	case CAPTURE_PARTIAL: return WS_EXIT_PARTIAL;
	case CAPTURE_ERR_USAGE: return WS_EXIT_USAGE;
	case CAPTURE_ERR_SOURCE: case CAPTURE_ERR_UNCLEAN: case CAPTURE_ERR_RULES: case CAPTURE_ERR_CONFIG:
	case CAPTURE_ERR_LOG: case CAPTURE_ERR_PROGRESS: case CAPTURE_ERR_OUTPUT: case CAPTURE_ERR_STORE_EXISTS:
	case CAPTURE_ERR_STORE: case CAPTURE_ERR_HARDLINK: case CAPTURE_ERR_KEY:
		return WS_EXIT_INPUT;
	case CAPTURE_ERR_EFS: case CAPTURE_ERR_STOPPED: case CAPTURE_ERR_CANCELED: case CAPTURE_ERR_FAILED:
		return WS_EXIT_FAILED;
	case CAPTURE_ERR_INTERNAL: return WS_EXIT_INTERNAL;
	}
	return WS_EXIT_INTERNAL;
}

static int
usmt_code(enum capture_outcome o)
{
	switch (o) {
	case CAPTURE_OK: return 0;
	case CAPTURE_PARTIAL: return 3;          /* USMT_WOULD_HAVE_FAILED */
	case CAPTURE_ERR_USAGE: return 11;
	case CAPTURE_ERR_SOURCE: return 26;      /* USMT_INIT_ERROR: no valid offline Windows */
	case CAPTURE_ERR_UNCLEAN: return 26;
	case CAPTURE_ERR_RULES: return 28;
	case CAPTURE_ERR_CONFIG: return 39;
	case CAPTURE_ERR_LOG: return 13;
	case CAPTURE_ERR_PROGRESS: return 40;
	case CAPTURE_ERR_OUTPUT: return 41;
	case CAPTURE_ERR_STORE_EXISTS: return 27;
	case CAPTURE_ERR_STORE: return 27;
	case CAPTURE_ERR_HARDLINK: return 38;
	case CAPTURE_ERR_KEY: return 33;
	case CAPTURE_ERR_EFS: return 2;
	case CAPTURE_ERR_CANCELED: return 2;
	case CAPTURE_ERR_STOPPED: return 61;
	case CAPTURE_ERR_FAILED: return 72;
	case CAPTURE_ERR_INTERNAL: return 71;
	}
	return 71;
}

/* ------------------------------------------------------ the console -- */

static volatile sig_atomic_t cancel_signal;

static void
on_cancel(int sig)
{
	cancel_signal = sig;
}

struct console {
	const char *prog;
	bool tty;                   /* stderr is a terminal: the progress line redraws itself */
	bool json;                  /* stdout carries the JSON summary */
};

static void
console_say(void *ctx, enum capture_level level, const char *text)
{
	const struct console *c = ctx;
	fprintf(stderr, "%s: %s%s\n", c->prog,
		level == CAPTURE_NOTE ? "note: " : level == CAPTURE_WARNING ? "warning: " : "", text);
}

static void
console_progress(void *ctx, const struct capture_progress *p)
{
	const struct console *c = ctx;
	if (c->json && !c->tty)
		return;
	char b1[32], b2[32], eta[32] = "";
	if (p->eta_seconds >= 0)
		snprintf(eta, sizeof(eta), ", ETA %ld:%02ld", p->eta_seconds / 60, p->eta_seconds % 60);
	fprintf(stderr, "%s%s: %3.0f%%  %llu files, %s captured, %s/s%s%s", c->tty ? "\r" : "",
		c->prog, p->fraction * 100, (unsigned long long)p->files,
		fmt_size(p->bytes, b1, sizeof(b1)), fmt_size(p->bytes_per_second, b2, sizeof(b2)),
		eta, c->tty ? "\033[K" : "\n");
	if (p->final && c->tty)
		fputc('\n', stderr);
}

/* The summary on stdout: report.json's text with --json, else a few lines
 * and the accounting (only for a run that finished). */
static void
print_summary(const struct capture_options *o, const struct capture_result *r)
{
	if (o->json) {
		if (r->report)
			fputs(r->report, stdout);
		return;
	}
	if (!r->complete)
		return;
	char b[32];
	if (o->estimate) {
		printf("estimate: %llu files, %s on disk for %zu user(s) and the system; written to %s\n",
		       (unsigned long long)r->estimate_files, fmt_size(r->estimate_bytes, b, sizeof(b)),
		       r->users_selected, o->estimate);
	} else {
		if (o->hardlink)
			printf("linked %llu files (%s, nothing copied), %llu registry values, for %zu "
			       "user(s) and the system into the hard-link store %s on %s\n",
			       (unsigned long long)r->files, fmt_size(r->bytes, b, sizeof(b)),
			       (unsigned long long)r->registry_values, r->users_selected, o->store,
			       o->source);
		else
			printf("captured %llu files (%llu more hard links), %s, %llu registry values, for "
			       "%zu user(s) and the system into %s\n",
			       (unsigned long long)r->files, (unsigned long long)r->links,
			       fmt_size(r->bytes, b, sizeof(b)), (unsigned long long)r->registry_values,
			       r->users_selected, o->store);
		if (r->junctions)
			printf("%llu junction(s) and folder link(s) stored as links (their targets were "
			       "not followed)\n", (unsigned long long)r->junctions);
		if (r->cloud_folders)
			printf("%zu cloud (OneDrive) folder(s) entered like plain folders; their cloud "
			       "state is not stored (restored as plain folders): listed in report.json "
			       "cloud_folders\n", r->cloud_folders);
		if (r->not_captured)
			printf("%llu item(s) were not captured on purpose (cloud placeholders, WOF, EFS "
			       "...): each is listed with its reason in report.json\n",
			       (unsigned long long)r->not_captured);
		if (r->errors)
			printf("%llu item(s) could not be captured (errors continued past): listed in "
			       "report.json\n", (unsigned long long)r->errors);
	}
	for (size_t i = 0; i < r->accounting_count; i++)
		printf("%s\n", r->accounting[i]);
}

enum capture_outcome
agent_capture(struct capture_options *o)
{
	struct console c = { .prog = o->prog, .tty = isatty(2), .json = o->json };
	o->say = console_say;
	o->on_progress = console_progress;
	o->ctx = &c;
	o->progress_every = c.tty ? 0.25 : 10.0;
	cancel_signal = 0;
	o->cancel = &cancel_signal;
	struct sigaction sa = { 0 }, old_int, old_term;
	sa.sa_handler = on_cancel;
	sigaction(SIGINT, &sa, &old_int);
	sigaction(SIGTERM, &sa, &old_term);

	struct capture_result r;
	enum capture_outcome out = capture_run(o, &r);
	if (!r.complete && r.message[0]) {
		fprintf(stderr, "%s%s: %s\n", c.tty ? "\n" : "", o->prog, r.message);
		if ((out == CAPTURE_ERR_CANCELED || out == CAPTURE_ERR_STOPPED ||
		     out == CAPTURE_ERR_FAILED || out == CAPTURE_ERR_EFS) && !o->estimate && !o->hardlink)
			fprintf(stderr, "%s: the store in %s is incomplete and no restore will accept it; "
				"run the capture again with %s to replace it\n", o->prog, o->store,
				o->usmt ? "/o" : "--overwrite");
	}
	print_summary(o, &r);
	if (r.complete && r.message[0]) /* the work was done, closing the volume failed */
		fprintf(stderr, "%s: %s\n", o->prog, r.message);
	capture_result_free(&r);
	sigaction(SIGINT, &old_int, NULL);
	sigaction(SIGTERM, &old_term, NULL);
	/* The console and the flag were this call's own. */
	o->say = NULL;
	o->on_progress = NULL;
	o->ctx = NULL;
	o->cancel = NULL;
	return out;
}

/* ---------------------------------------------------------- winstate scan -- */

/* The key: --key is a passphrase; a key file holds 32 raw bytes, 64 hex
 * digits, or (USMT's /keyfile) a line of text used as the passphrase. */
static int
read_key(const char *key, const char *keyfile, struct st_key *out, char **owned,
	 const char *prog)
{
	memset(out, 0, sizeof(*out));
	if (key) {
		if (!*key) {
			fprintf(stderr, "%s: the key is empty\n", prog);
			return -1;
		}
		out->kind = ST_KEY_PASSPHRASE;
		out->passphrase = key;
		return 0;
	}
	if (st_key_from_file(keyfile, out) == ST_OK)
		return 0;
	FILE *f = fopen(keyfile, "r");
	if (!f) {
		fprintf(stderr, "%s: the key file %s cannot be read: %s\n", prog, keyfile, strerror(errno));
		return -1;
	}
	char *line = NULL;
	size_t cap = 0;
	ssize_t n = getline(&line, &cap, f);
	fclose(f);
	while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
		line[--n] = 0;
	if (n <= 0) {
		free(line);
		fprintf(stderr, "%s: the key file %s is empty\n", prog, keyfile);
		return -1;
	}
	memset(out, 0, sizeof(*out));
	out->kind = ST_KEY_PASSPHRASE;
	out->passphrase = *owned = line;
	return 0;
}

static int
parse_efs(const char *v, enum capture_efs *out)
{
	if (!strcasecmp(v, "abort"))
		*out = CAPTURE_EFS_ABORT;
	else if (!strcasecmp(v, "skip"))
		*out = CAPTURE_EFS_SKIP;
	else if (!strcasecmp(v, "hardlink"))
		*out = CAPTURE_EFS_HARDLINK;
	else if (!strcasecmp(v, "copyraw"))
		*out = CAPTURE_EFS_COPYRAW;
	else
		return -1;
	return 0;
}

/* Check what the engine does not: option combinations. */
static int
check_options(struct capture_options *o, const char *prog)
{
	if (o->hardlink && !o->nocompress) {
		fprintf(stderr, "%s: --hardlink needs --nocompress: a hard-link store holds links to "
			"the files themselves, never compressed copies\n", prog);
		return -1;
	}
	if (o->key && o->nocompress) {
		fprintf(stderr, "%s: only a compressed store can be encrypted: drop --nocompress or "
			"--encrypt\n", prog);
		return -1;
	}
	if (o->efs == CAPTURE_EFS_HARDLINK && !o->hardlink) {
		fprintf(stderr, "%s: --efs hardlink only goes with a hard-link store\n", prog);
		return -1;
	}
	if (o->efs == CAPTURE_EFS_COPYRAW && o->hardlink) {
		/* As USMT: /efs:hardlink for hard-link stores, /efs:copyraw for copies. */
		fprintf(stderr, "%s: %s copies EFS files raw into the store, and a hard-link store "
			"copies nothing: use %s with %s (the encrypted files are linked, untouched)\n",
			prog, o->usmt ? "/efs:copyraw" : "--efs copyraw",
			o->usmt ? "/efs:hardlink" : "--efs hardlink", o->usmt ? "/hardlink" : "--hardlink");
		return -1;
	}
	if (o->all && (o->nui || o->nue || o->uel)) {
		fprintf(stderr, "%s: --all selects every user; it cannot be combined with --ui, --ue "
			"or --uel\n", prog);
		return -1;
	}
	if (o->listfiles && o->estimate) {
		fprintf(stderr, "%s: --listfiles lists what a capture took and --estimate captures "
			"nothing: use one\n", prog);
		return -1;
	}
	return 0;
}

static char *
join_args(int argc, char **argv, const char *first)
{
	size_t n = strlen(first) + 1;
	for (int i = 0; i < argc; i++)
		n += strlen(argv[i]) + 3;
	char *s = malloc(n + 1);
	if (!s)
		return NULL;
	strcpy(s, first);
	for (int i = 0; i < argc; i++) {
		strcat(s, " ");
		bool q = strchr(argv[i], ' ') != NULL;
		if (q)
			strcat(s, "\"");
		strcat(s, argv[i]);
		if (q)
			strcat(s, "\"");
	}
	return s;
}

int
cmd_scan(int argc, char **argv)
{
	const char *prog = "winstate scan";
	struct capture_options o = { .prog = prog };
	const char *pos[2];
	int npos = 0;
	const char *key = NULL, *keyfile = NULL;
	bool encrypt = false;
	o.rules = calloc((size_t)argc + 1, sizeof(char *));
	o.ui = calloc((size_t)argc + 1, sizeof(char *));
	o.ue = calloc((size_t)argc + 1, sizeof(char *));
	int rc = WS_EXIT_USAGE;
	if (!o.rules || !o.ui || !o.ue)
		goto out;
	enum { O_HARDLINK, O_NOCOMPRESS, O_OVERWRITE, O_CONTINUE, O_ALL, O_JSON, O_ENCRYPT,
	       O_FORCE_UNCLEAN, O_RULES, O_CONFIG, O_LOG, O_VERBOSITY, O_PROGRESS, O_LISTFILES,
	       O_ESTIMATE, O_UI, O_UE, O_UEL, O_WINDIR, O_EFS, O_KEY, O_KEYFILE };
	static const struct ws_option table[] = {
		{ "--hardlink", NULL, WS_OPT_FLAG, O_HARDLINK },
		{ "--nocompress", NULL, WS_OPT_FLAG, O_NOCOMPRESS },
		{ "--overwrite", NULL, WS_OPT_FLAG, O_OVERWRITE },
		{ "--continue", NULL, WS_OPT_FLAG, O_CONTINUE },
		{ "--all", NULL, WS_OPT_FLAG, O_ALL },
		{ "--json", NULL, WS_OPT_FLAG, O_JSON },
		{ "--encrypt", NULL, WS_OPT_FLAG, O_ENCRYPT },
		{ "--force-unclean", NULL, WS_OPT_FLAG, O_FORCE_UNCLEAN },
		{ "--rules", NULL, WS_OPT_VALUE, O_RULES },
		{ "--config", NULL, WS_OPT_VALUE, O_CONFIG },
		{ "--log", NULL, WS_OPT_VALUE, O_LOG },
		{ "--verbosity", NULL, WS_OPT_VALUE, O_VERBOSITY },
		{ "--progress", NULL, WS_OPT_VALUE, O_PROGRESS },
		{ "--listfiles", NULL, WS_OPT_VALUE, O_LISTFILES },
		{ "--estimate", NULL, WS_OPT_VALUE, O_ESTIMATE },
		{ "--ui", NULL, WS_OPT_VALUE, O_UI },
		{ "--ue", NULL, WS_OPT_VALUE, O_UE },
		{ "--uel", NULL, WS_OPT_VALUE, O_UEL },
		{ "--windir", NULL, WS_OPT_VALUE, O_WINDIR },
		{ "--efs", NULL, WS_OPT_VALUE, O_EFS },
		{ "--key", NULL, WS_OPT_VALUE, O_KEY },
		{ "--keyfile", NULL, WS_OPT_VALUE, O_KEYFILE },
		{ 0 },
	};
	struct ws_opts p;
	ws_opts_init(&p, prog, argc, argv, table, scan_help);
	p.max_operands = 2;
	p.operands_hint = "give SOURCE and STORE only";
	for (int id; (id = ws_opts_next(&p)) != WS_OPTS_END;) {
		const char *v = p.value;
		switch (id) {
		case WS_OPTS_EXIT: rc = p.exit_code; goto out;
		case WS_OPTS_OPERAND: pos[npos++] = v; break;
		case O_HARDLINK: o.hardlink = true; break;
		case O_NOCOMPRESS: o.nocompress = true; break;
		case O_OVERWRITE: o.overwrite = true; break;
		case O_CONTINUE: o.keep_going = true; break;
		case O_ALL: o.all = true; break;
		case O_JSON: o.json = true; break;
		case O_ENCRYPT: encrypt = true; break;
		case O_FORCE_UNCLEAN: o.force_unclean = true; break;
		case O_RULES: o.rules[o.nrules++] = v; break;
		case O_CONFIG: o.config = v; break;
		case O_LOG: o.log = v; break;
		case O_VERBOSITY: {
			char *end;
			long n = strtol(v, &end, 10);
			if (*end || n < 0 || n > 13) {
				fprintf(stderr, "%s: --verbosity wants 0..13, not \"%s\"\n", prog, v);
				goto out;
			}
			o.verbosity = (int)n;
			break;
		}
		case O_PROGRESS: o.progress = v; break;
		case O_LISTFILES: o.listfiles = v; break;
		case O_ESTIMATE: o.estimate = v; break;
		case O_UI: case O_UE: {
			const char *bad = win_user_pattern_problem(v);
			if (bad) {
				fprintf(stderr, "%s: %s \"%s\" %s\n", prog, p.name, v, bad);
				goto out;
			}
			if (id == O_UI)
				o.ui[o.nui++] = v;
			else
				o.ue[o.nue++] = v;
			break;
		}
		case O_UEL: {
			int64_t c;
			bool l;
			if (win_parse_uel(v, 0, &c, &l) < 0) {
				fprintf(stderr, "%s: --uel wants a number of days, a date YYYY/MM/DD or 0, "
					"not \"%s\"\n", prog, v);
				goto out;
			}
			o.uel = v;
			break;
		}
		case O_WINDIR: o.windir = v; break;
		case O_EFS:
			if (parse_efs(v, &o.efs) < 0) {
				fprintf(stderr, "%s: --efs wants abort, skip, copyraw or hardlink, not \"%s\"\n",
					prog, v);
				goto out;
			}
			break;
		case O_KEY: key = v; break;
		case O_KEYFILE: keyfile = v; break;
		}
	}
	if (npos < 2) {
		fprintf(stderr, "%s: give the SOURCE disk and the STORE folder\n\n%s", prog, scan_help);
		goto out;
	}
	o.source = pos[0];
	o.store = pos[1];
	if ((key || keyfile) && !encrypt) {
		fprintf(stderr, "%s: --key and --keyfile only go with --encrypt\n", prog);
		goto out;
	}
	if (encrypt && !!key == !!keyfile) {
		fprintf(stderr, "%s: --encrypt needs the key: --key K or --keyfile F (one of them)\n", prog);
		goto out;
	}
	struct st_key k;
	char *owned = NULL;
	if (encrypt) {
		if (read_key(key, keyfile, &k, &owned, prog) < 0) {
			rc = WS_EXIT_INPUT;
			goto out;
		}
		o.key = &k;
	}
	/* The test suite makes Argon2id cheap; production keeps libsodium's MODERATE. */
	if (getenv("WINSTATE_TEST_CHEAP_KDF")) {
		o.kdf_ops = 1;
		o.kdf_mem = 8u << 20;
	}
	if (check_options(&o, prog) < 0) {
		free(owned);
		goto out;
	}
	char *cl = join_args(argc - 1, argv + 1, "winstate scan");
	o.command_line = cl;
	rc = winstate_code(agent_capture(&o));
	free(cl);
	if (owned) {
		memset(owned, 0, strlen(owned));
		free(owned);
	}
out:
	free(o.rules);
	free(o.ui);
	free(o.ue);
	return rc;
}

/* ------------------------------------------------------------ scanstate -- */

/* /offline:offline.xml: the first <winDir><path> whose disk exists. */
static int
offline_xml_source(const char *file, char **disk, char **windir, char *err, size_t errlen)
{
	struct mig_offline list;
	char why[900];
	if (mig_offline_load(file, &list, why, sizeof(why)) < 0) {
		snprintf(err, errlen, "/offline:%s", why);
		return -1;
	}
	int rc = -1;
	snprintf(err, errlen, "/offline:%s names no <winDir><path> whose disk exists", file);
	for (size_t i = 0; i < list.count && rc; i++) {
		char *path = NULL;
		int part;
		struct stat sb;
		if (nv_split_target(list.windows[i].disk, &path, &part) == NV_OK && stat(path, &sb) == 0) {
			*disk = list.windows[i].disk;
			*windir = list.windows[i].windir;
			list.windows[i].disk = list.windows[i].windir = NULL;
			rc = 0;
		}
		free(path);
	}
	mig_offline_free(&list);
	return rc;
}

int
usmt_scanstate(const struct usmt_args *a)
{
	const char *prog = "scanstate";
	if (a->genconfig) {
		char *argv[160];
		int n = 0;
		argv[n++] = "genconfig";
		for (size_t i = 0; i < a->includes.count && n < 150; i++) {
			argv[n++] = "--rules";
			argv[n++] = a->includes.items[i];
		}
		argv[n++] = "-o";
		argv[n++] = a->genconfig;
		argv[n] = NULL;
		int rc = cmd_genconfig(n, argv);
		return rc == 0 ? 0 : rc == WS_EXIT_USAGE ? 11 : 28;
	}
	char *disk = NULL, *windir = NULL, err[1024];
	if (a->offlinewindir || a->offlinewinold) {
		const char *spec = a->offlinewindir ? a->offlinewindir : a->offlinewinold;
		if (mig_offline_split(spec, &disk, &windir) < 0) {
			fprintf(stderr, "%s: /offlinewin%s:%s: expected DISK[:PART] or DISK[:PART]:\\Windows\n%s",
				prog, a->offlinewindir ? "dir" : "old", spec, scanstate_note);
			free(disk);
			free(windir);
			return 11;
		}
		if (a->offlinewinold && !windir)
			windir = strdup("Windows.old/Windows");
	} else if (a->offline) {
		if (offline_xml_source(a->offline, &disk, &windir, err, sizeof(err)) < 0) {
			fprintf(stderr, "%s: %s\n%s", prog, err, scanstate_note);
			return 26;
		}
	} else {
		fprintf(stderr, "%s: winstate captures offline only: name the Windows to capture with "
			"/offlinewindir, /offlinewinold or /offline\n%s", prog, scanstate_note);
		return 36;
	}
	struct capture_options o = { .prog = prog, .usmt = true };
	o.source = disk;
	o.windir = windir;
	o.store = a->store;
	o.rules = (const char **)a->includes.items;
	o.nrules = a->includes.count;
	o.config = a->config;
	o.hardlink = a->hardlink;
	o.nocompress = a->nocompress;
	o.overwrite = a->overwrite;
	o.keep_going = a->keep_going;
	o.log = a->log ? a->log : "ScanState.log";
	o.verbosity = a->verbosity;
	o.progress = a->progress;
	o.listfiles = a->listfiles;
	o.all = a->all;
	o.ui = (const char **)a->ui.items;
	o.nui = a->ui.count;
	o.ue = (const char **)a->ue.items;
	o.nue = a->ue.count;
	o.uel = a->uel;
	int rc;
	char *estimate_owned = NULL, *owned = NULL;
	if (a->efs)
		parse_efs(a->efs, &o.efs); /* usmt_args accepted it (decryptcopy is refused there) */
	if (a->estimate) {
		if (a->estimate_file) {
			o.estimate = a->estimate_file;
		} else {
			/* Bare /p: USMTsize.txt in the store folder, as USMT does. */
			mkdir(a->store, 0755);
			if (asprintf(&estimate_owned, "%s/USMTsize.txt", a->store) < 0) {
				rc = 71;
				goto out;
			}
			o.estimate = estimate_owned;
		}
	}
	struct st_key k;
	if (a->encrypt) {
		if (read_key(a->key, a->keyfile, &k, &owned, prog) < 0) {
			rc = 33;
			goto out;
		}
		o.key = &k;
		if (getenv("WINSTATE_TEST_CHEAP_KDF")) {
			o.kdf_ops = 1;
			o.kdf_mem = 8u << 20;
		}
	}
	if (check_options(&o, prog) < 0) {
		rc = 11;
		goto out;
	}
	char *cl = join_args(0, NULL, "scanstate");
	o.command_line = cl;
	rc = usmt_code(agent_capture(&o));
	free(cl);
out:
	if (owned) {
		memset(owned, 0, strlen(owned));
		free(owned);
	}
	free(estimate_owned);
	free(disk);
	free(windir);
	return rc;
}
