/*
 * winstate load STORE TARGET [options]     (LoadState)
 * loadstate StorePath /target:DISK[:PART] [USMT options]
 * winstate migrate-winold DISK             (restore/winold.c: capture from Windows.old + restore)
 *
 * The engine is restore/ (restore/restore.h); this file turns command lines into
 * restore_options and outcomes into exit codes (winstate's or USMT's).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/commands.h"
#include "agent/options.h"
#include "formats/formats.h"
#include "restore/restore.h"
#include "agent/usmt_args.h"
#include "windows/windows.h"

static const char load_usage[] =
	"usage: winstate load STORE DISK[:PART] [options]\n"
	"  STORE             the store folder; with --hardlink, the store's folder on the target volume\n"
	"  DISK[:PART]       the disk (or partition N) holding the newly installed Windows\n"
	"  --hardlink        the store is a hard-link store on the target volume: link files back\n"
	"  --nocompress      accepted for USMT parity (the store's format is read from the store)\n"
	"  --key K | --keyfile F   key of an encrypted store\n"
	"  --continue        skip damaged files and unwritable items (listed), exit 1\n"
	"  --all | --ui USER... --ue USER...   which store users to restore (name, DOMAIN\\name, SID, '*')\n"
	"  --mu OLD\\user:NEW\\user   restore a user as another account (NEW may be a SID)\n"
	"  --md OLD:NEW      move users of domain OLD to NEW\n"
	"  --lac[=PASSWORD] --lae   create missing local accounts in the target's SAM, empty password,\n"
	"                           disabled unless --lae (a PASSWORD is refused: see docs/restore.md)\n"
	"  --rules FILE      restore-time MigXML rules (repeatable; give the capture's): locationModify\n"
	"                    moves files and values, merge SourcePriority/DestinationPriority decides\n"
	"                    conflicts, destinationCleanup empties registry keys first\n"
	"  --config FILE     Config.xml: components with migrate=\"no\" are not restored (listed);\n"
	"                    its <ProfileControl> user/domain mappings apply after --mu/--md\n"
	"  --log FILE --verbosity N --progress FILE --json\n";

static int
mig_code(enum restore_outcome o)
{
	switch (o) {
	case RESTORE_OK: return WS_EXIT_OK;
	case RESTORE_PARTIAL: case RESTORE_NEED_LAC: return WS_EXIT_PARTIAL;
	case RESTORE_USAGE: return WS_EXIT_USAGE;
	case RESTORE_TARGET: case RESTORE_STORE_MISSING: case RESTORE_STORE_VERSION:
	case RESTORE_STORE_CORRUPT: case RESTORE_KEY: return WS_EXIT_INPUT;
	case RESTORE_LAC_REFUSED: case RESTORE_FAILED: return WS_EXIT_FAILED;
	case RESTORE_RULES: case RESTORE_CONFIG: return WS_EXIT_INPUT;
	default: return WS_EXIT_INTERNAL;
	}
}

static int
usmt_code(enum restore_outcome o)
{
	switch (o) {
	case RESTORE_OK: return 0;
	case RESTORE_PARTIAL: return 3;          /* USMT_WOULD_HAVE_FAILED */
	case RESTORE_NEED_LAC: return 14;        /* USMT_ERROR_USE_LAC */
	case RESTORE_USAGE: return 11;           /* USMT_INVALID_PARAMETERS */
	case RESTORE_TARGET: return 26;          /* USMT_INIT_ERROR */
	case RESTORE_STORE_MISSING: case RESTORE_STORE_VERSION: return 27; /* INVALID_STORE_LOCATION */
	case RESTORE_STORE_CORRUPT: return 42;   /* USMT_ERROR_CORRUPTED_STORE */
	case RESTORE_KEY: return 37;             /* USMT_ERROR_NO_INVALID_KEY */
	case RESTORE_FAILED: return 72;          /* USMT_UNABLE_DOMIGRATION */
	case RESTORE_RULES: return 28;           /* USMT_UNABLE_GET_SCRIPTFILES */
	case RESTORE_CONFIG: return 39;          /* USMT_UNABLE_TO_READ_CONFIG_FILE */
	default: return 71;                      /* INIT_OPERATING_ENVIRONMENT_FAILED */
	}
}

static void
print_result(const struct restore_result *res, bool json, const char *self)
{
	if (json) {
		printf("{\"outcome\": %d, \"message\": ", res->outcome);
		fmt_json_string(stdout, res->message);
		printf(", \"files\": %llu, \"links\": %llu, \"bytes\": %llu, \"renamed\": %llu, "
		       "\"values\": %llu, \"junctions\": %llu, \"users\": [",
		       (unsigned long long)res->files, (unsigned long long)res->links,
		       (unsigned long long)res->bytes, (unsigned long long)res->renamed,
		       (unsigned long long)res->values, (unsigned long long)res->junctions);
		for (size_t i = 0; i < res->user_count; i++) {
			const struct restore_user_result *u = &res->users[i];
			printf("%s{\"store_sid\": ", i ? ", " : "");
			fmt_json_string(stdout, u->store_sid);
			printf(", \"name\": ");
			fmt_json_string(stdout, u->store_name ? u->store_name : "");
			printf(", \"target_sid\": ");
			if (u->target_sid)
				fmt_json_string(stdout, u->target_sid);
			else
				printf("null");
			printf(", \"profile\": ");
			if (u->profile)
				fmt_json_string(stdout, u->profile);
			else
				printf("null");
			printf(", \"created\": %s, \"files\": %llu, \"bytes\": %llu, \"renamed\": %llu, "
			       "\"values\": %llu, \"skipped\": ",
			       u->created ? "true" : "false", (unsigned long long)u->files,
			       (unsigned long long)u->bytes, (unsigned long long)u->renamed,
			       (unsigned long long)u->values);
			if (u->skipped_reason)
				fmt_json_string(stdout, u->skipped_reason);
			else
				printf("null");
			printf("}");
		}
		printf("], \"problems\": [");
		for (size_t i = 0; i < res->problem_count; i++) {
			printf("%s", i ? ", " : "");
			fmt_json_string(stdout, res->problems[i]);
		}
		printf("], \"rules\": {\"moved\": %llu, \"replaced\": %llu, \"kept\": %llu, "
		       "\"disabled\": %llu, \"cleaned\": %llu}, \"notes\": [",
		       (unsigned long long)res->moved, (unsigned long long)res->replaced,
		       (unsigned long long)res->kept, (unsigned long long)res->disabled,
		       (unsigned long long)res->cleaned);
		for (size_t i = 0; i < res->note_count; i++) {
			printf("%s", i ? ", " : "");
			fmt_json_string(stdout, res->notes[i]);
		}
		printf("]}\n");
		return;
	}
	char size[32];
	bool started = res->outcome == RESTORE_OK || res->outcome == RESTORE_PARTIAL ||
		       res->outcome == RESTORE_NEED_LAC || res->outcome == RESTORE_FAILED ||
		       res->outcome == RESTORE_STORE_CORRUPT;
	for (size_t i = 0; started && i < res->user_count; i++) {
		const struct restore_user_result *u = &res->users[i];
		if (!u->store_sid)
			continue;
		if (u->target_sid && u->profile)
			printf("%-24s -> %s%s: %llu files (%s), %llu renamed to keep both, %llu settings\n",
			       u->store_name ? u->store_name : u->store_sid, u->profile,
			       u->created ? " (new profile)" : "", (unsigned long long)u->files,
			       fmt_size(u->bytes, size, sizeof(size)), (unsigned long long)u->renamed,
			       (unsigned long long)u->values);
		else
			printf("%-24s not restored: %s\n", u->store_name ? u->store_name : u->store_sid,
			       u->skipped_reason ? u->skipped_reason : "stopped before it");
	}
	if (started)
		printf("restored %llu files (%llu linked), %s, %llu settings\n",
	       (unsigned long long)res->files, (unsigned long long)res->links,
	       fmt_size(res->bytes, size, sizeof(size)), (unsigned long long)res->values);
	if (started && res->junctions)
		printf("%llu junction(s) and folder link(s) made (targets in the old profile moved to "
		       "the new one)\n", (unsigned long long)res->junctions);
	for (size_t i = 0; started && i < res->note_count; i++)
		printf("%s\n", res->notes[i]);
	if (started && (res->moved || res->replaced || res->kept || res->disabled || res->cleaned))
		printf("restore-time rules: %llu moved (locationModify), %llu replaced (SourcePriority), "
		       "%llu kept on the target (DestinationPriority), %llu not restored (Config.xml), "
		       "%llu removed first (destinationCleanup)\n",
		       (unsigned long long)res->moved, (unsigned long long)res->replaced,
		       (unsigned long long)res->kept, (unsigned long long)res->disabled,
		       (unsigned long long)res->cleaned);
	for (size_t i = 0; i < res->problem_count; i++)
		fprintf(stderr, "%s: skipped: %s\n", self, res->problems[i]);
	if (res->message[0])
		fprintf(stderr, "%s: %s\n", self, res->message);
}

/* Load the key from --key/--keyfile; 0, or -1 with a sentence printed. */
static int
load_key(const char *self, const char *key, const char *keyfile, struct st_key *out)
{
	memset(out, 0, sizeof(*out));
	if (key) {
		out->kind = ST_KEY_PASSPHRASE;
		out->passphrase = key;
	} else if (keyfile && st_key_from_file(keyfile, out) != ST_OK) {
		fprintf(stderr, "%s: %s\n", self, st_last_error());
		return -1;
	}
	return 0;
}

static int
parse_map(const char *value, struct restore_map **list, size_t *n)
{
	const char *colon = strrchr(value, ':');
	if (!colon || colon == value || !colon[1])
		return -1;
	/* "OLD\user:S-1-..." has no other ':'; "OLD:NEW" neither. */
	if (strchr(value, ':') != colon)
		return -1;
	struct restore_map *g = realloc(*list, (*n + 1) * sizeof(*g));
	if (!g)
		return -1;
	*list = g;
	g[*n].from = strndup(value, (size_t)(colon - value));
	g[*n].to = strdup(colon + 1);
	(*n)++;
	return 0;
}

static void
free_maps(struct restore_map *m, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free((char *)m[i].from);
		free((char *)m[i].to);
	}
	free(m);
}

int
cmd_load(int argc, char **argv)
{
	static const struct ws_option table[] = {
		{ "--rules", NULL, WS_OPT_VALUE, 'r' },     { "--config", NULL, WS_OPT_VALUE, 'c' },
		{ "--hardlink", NULL, WS_OPT_FLAG, 'H' },   { "--nocompress", NULL, WS_OPT_FLAG, 'N' },
		{ "--key", NULL, WS_OPT_VALUE, 'k' },       { "--keyfile", NULL, WS_OPT_VALUE, 'K' },
		{ "--continue", NULL, WS_OPT_FLAG, 'C' },   { "--log", NULL, WS_OPT_VALUE, 'l' },
		{ "--verbosity", NULL, WS_OPT_VALUE, 'v' }, { "--progress", NULL, WS_OPT_VALUE, 'p' },
		{ "--all", NULL, WS_OPT_FLAG, 'a' },        { "--ui", NULL, WS_OPT_VALUE, 'i' },
		{ "--ue", NULL, WS_OPT_VALUE, 'e' },        { "--uel", NULL, WS_OPT_VALUE, 'u' },
		{ "--md", NULL, WS_OPT_VALUE, 'd' },        { "--mu", NULL, WS_OPT_VALUE, 'm' },
		{ "--lac", NULL, WS_OPT_OPTIONAL, 'L' },    { "--lae", NULL, WS_OPT_FLAG, 'E' },
		{ "--json", NULL, WS_OPT_FLAG, 'j' },       { 0 },
	};
	struct restore_options o = { 0 };
	const char *key = NULL, *keyfile = NULL, *log_path = NULL, *progress_path = NULL;
	const char **ui = NULL, **ue = NULL, **rules = NULL, *config = NULL;
	struct restore_map *mu = NULL, *md = NULL;
	size_t nui = 0, nue = 0, nmu = 0, nmd = 0, nrules = 0;
	bool json = false;
	int code = WS_EXIT_USAGE, ch;
	const char *self = "winstate load";

	const char *operand[2];
	int noperands = 0;
	struct ws_opts p;
	ws_opts_init(&p, self, argc, argv, table, load_usage);
	p.max_operands = 2;
	p.operands_hint = "give the store and the target disk";
	while ((ch = ws_opts_next(&p)) != WS_OPTS_END) {
		const char **grown, *value = p.value;
		switch (ch) {
		case WS_OPTS_EXIT: code = p.exit_code; goto out;
		case WS_OPTS_OPERAND: operand[noperands++] = value; break;
		case 'r':
			grown = realloc(rules, (nrules + 1) * sizeof(*grown));
			if (!grown)
				goto out;
			grown[nrules++] = value;
			rules = grown;
			break;
		case 'c':
			if (config) {
				fprintf(stderr, "%s: give --config once\n", self);
				goto out;
			}
			config = value;
			break;
		case 'H': o.hardlink = true; break;
		case 'N': break;
		case 'k': key = value; break;
		case 'K': keyfile = value; break;
		case 'C': o.keep_going = true; break;
		case 'l': log_path = value; break;
		case 'v': o.verbosity = atoi(value); break;
		case 'p': progress_path = value; break;
		case 'a': o.all = true; break;
		case 'i': case 'e': {
			const char *bad = win_user_pattern_problem(value);
			if (bad) {
				fprintf(stderr, "%s: --u%c \"%s\" %s\n", self, ch, value, bad);
				goto out;
			}
			const char ***list = ch == 'i' ? &ui : &ue;
			size_t *count = ch == 'i' ? &nui : &nue;
			grown = realloc(*list, (*count + 1) * sizeof(*grown));
			if (!grown)
				goto out;
			grown[(*count)++] = value;
			*list = grown;
			break;
		}
		case 'u':
			fprintf(stderr, "%s: --uel is not available at restore: the store does not carry "
				"each profile's last use; select users with --ui/--ue\n", self);
			goto out;
		case 'd': case 'm':
			if (parse_map(value, ch == 'd' ? &md : &mu, ch == 'd' ? &nmd : &nmu) < 0) {
				fprintf(stderr, "%s: --%s %s: expected %s\n", self, ch == 'd' ? "md" : "mu", value,
					ch == 'd' ? "OLDDOMAIN:NEWDOMAIN" : "OLDDOMAIN\\user:NEWDOMAIN\\user (or :SID)");
				goto out;
			}
			break;
		case 'L': o.lac = true; o.lac_password = value; break;
		case 'E': o.lae = true; break;
		case 'j': json = true; break;
		}
	}
	if (noperands != 2) {
		fprintf(stderr, "%s: give the store and the target disk\n%s", self, load_usage);
		goto out;
	}
	if (o.all && (nui || nue)) {
		fprintf(stderr, "%s: --all cannot be combined with --ui or --ue\n", self);
		goto out;
	}
	if (o.lae && !o.lac) {
		fprintf(stderr, "%s: --lae needs --lac\n", self);
		goto out;
	}
	if (key && keyfile) {
		fprintf(stderr, "%s: give the key one way: --key or --keyfile\n", self);
		goto out;
	}
	struct st_key k;
	if (load_key(self, key, keyfile, &k) < 0) {
		code = WS_EXIT_INPUT;
		goto out;
	}
	o.store = operand[0];
	o.target = operand[1];
	char volume_store[4096];
	if (o.hardlink) {
		if (st_volume_store_path(o.store, volume_store, sizeof(volume_store)) != ST_OK) {
			fprintf(stderr, "%s: %s\n", self, st_last_error());
			goto out;
		}
		o.store = volume_store;
	}
	o.key = k.kind ? &k : NULL;
	o.ui = ui;
	o.ui_count = nui;
	o.ue = ue;
	o.ue_count = nue;
	o.mu = mu;
	o.mu_count = nmu;
	o.md = md;
	o.md_count = nmd;
	o.rules = rules;
	o.rules_count = nrules;
	o.config = config;
	FILE *log = log_path ? fopen(log_path, "w") : NULL, *progress = NULL;
	if (log_path && !log) {
		fprintf(stderr, "%s: cannot write the log %s\n", self, log_path);
		goto out;
	}
	if (progress_path && !(progress = fopen(progress_path, "w"))) {
		fprintf(stderr, "%s: cannot write the progress log %s\n", self, progress_path);
		if (log)
			fclose(log);
		goto out;
	}
	o.log = log;
	o.progress = progress;
	struct restore_result res;
	restore_run(&o, &res);
	print_result(&res, json, self);
	code = mig_code(res.outcome);
	restore_result_free(&res);
	if (log)
		fclose(log);
	if (progress)
		fclose(progress);
out:
	free(ui);
	free(ue);
	free(rules);
	free_maps(mu, nmu);
	free_maps(md, nmd);
	return code;
}

/*
 * winstate migrate-winold DISK[:PART] [--store PATH] [--ui U] [--ue U] [--mu M] [--md M]
 *                         [--continue] [--log FILE] [--json]
 * Capture Windows.old into a hard-link store on the same volume (nothing is
 * copied), then restore it into the new Windows by linking.  The store stays
 * until `winstate rmstore --target DISK STORE` after the user has checked.
 */
/* migrate-winold's capture, printed as `winstate scan` prints it. */
static enum capture_outcome
capture_printing(struct capture_options *o, void *ctx)
{
	(void)ctx;
	return agent_capture(o);
}

int
cmd_migrate_winold(int argc, char **argv)
{
	static const struct ws_option table[] = {
		{ "--store", NULL, WS_OPT_VALUE, 's' }, { "--ui", NULL, WS_OPT_VALUE, 'i' },
		{ "--ue", NULL, WS_OPT_VALUE, 'e' },    { "--mu", NULL, WS_OPT_VALUE, 'm' },
		{ "--md", NULL, WS_OPT_VALUE, 'd' },    { "--continue", NULL, WS_OPT_FLAG, 'C' },
		{ "--log", NULL, WS_OPT_VALUE, 'l' },   { "--json", NULL, WS_OPT_FLAG, 'j' },
		{ 0 },
	};
	static const char usage[] =
		"usage: winstate migrate-winold DISK[:PART] [--store PATH] [--ui USER]... [--ue USER]...\n"
		"       [--mu OLD\\user:NEW\\user]... [--md OLD:NEW]... [--continue] [--log FILE] [--json]\n"
		"  captures Windows.old's users into a hard-link store on the same volume (default\n"
		"  MigStore.winold) and restores them into the new Windows by linking: nothing is copied\n";
	const char *store = "MigStore.winold", *log_path = NULL;
	const char **ui = NULL, **ue = NULL;
	struct restore_map *mu = NULL, *md = NULL;
	size_t nui = 0, nue = 0, nmu = 0, nmd = 0;
	bool keep_going = false, json = false;
	int ch, code = WS_EXIT_USAGE;
	const char *disk = NULL;
	struct ws_opts p;
	ws_opts_init(&p, "winstate migrate-winold", argc, argv, table, usage);
	p.max_operands = 1;
	p.operands_hint = "give the disk";
	while ((ch = ws_opts_next(&p)) != WS_OPTS_END) {
		const char *value = p.value;
		switch (ch) {
		case WS_OPTS_EXIT: code = p.exit_code; goto out;
		case WS_OPTS_OPERAND: disk = value; break;
		case 's': store = value; break;
		case 'i': case 'e': {
			const char *bad = win_user_pattern_problem(value);
			if (bad) {
				fprintf(stderr, "winstate migrate-winold: --u%c \"%s\" %s\n", ch, value, bad);
				goto out;
			}
			const char ***list = ch == 'i' ? &ui : &ue;
			size_t *count = ch == 'i' ? &nui : &nue;
			const char **grown = realloc(*list, (*count + 1) * sizeof(*grown));
			if (!grown)
				goto out;
			grown[(*count)++] = value;
			*list = grown;
			break;
		}
		case 'm': case 'd':
			if (parse_map(value, ch == 'd' ? &md : &mu, ch == 'd' ? &nmd : &nmu) < 0) {
				fprintf(stderr, "winstate migrate-winold: --%s %s: bad mapping\n",
					ch == 'd' ? "md" : "mu", value);
				goto out;
			}
			break;
		case 'C': keep_going = true; break;
		case 'l': log_path = value; break;
		case 'j': json = true; break;
		}
	}
	if (!disk) {
		fprintf(stderr, "winstate migrate-winold: give the disk\n%s", usage);
		goto out;
	}
	struct restore_winold_options wo = {
		.disk = disk, .store = store, .ui = ui, .ue = ue, .ui_count = nui, .ue_count = nue,
		.mu = mu, .mu_count = nmu, .md = md, .md_count = nmd, .keep_going = keep_going,
		.log = log_path, .capture = capture_printing,
	};
	struct restore_winold_result res;
	restore_winold(&wo, &res);
	code = mig_code(res.restore.outcome);
	if (res.step != RESTORE_WINOLD_RESTORED) {
		fprintf(stderr, "winstate migrate-winold: %s\n", res.restore.message);
	} else {
		print_result(&res.restore, json, "winstate migrate-winold");
		if (res.capture_partial && code == WS_EXIT_OK)
			code = WS_EXIT_PARTIAL;
		if (!json)
			printf("the hard-link store %s stays on the volume; once the users have checked "
			       "their files, remove it with: winstate rmstore --target %s %s\n", res.store,
			       disk, res.store);
	}
	restore_winold_free(&res);
out:
	free(ui);
	free(ue);
	free_maps(mu, nmu);
	free_maps(md, nmd);
	return code;
}

int
usmt_loadstate(const struct usmt_args *a)
{
	if (!a->target) {
		fprintf(stderr, "loadstate: name the disk holding the new Windows with /target:DISK[:PART] "
			"(winstate runs offline, so there is no running Windows to restore into)\n");
		return 11;
	}
	if (a->uel) {
		fprintf(stderr, "loadstate: /uel is not available at restore: the store does not carry "
			"each profile's last use\n");
		return 11;
	}
	char volume_store[4096];
	if (a->hardlink && st_volume_store_path(a->store, volume_store, sizeof(volume_store)) != ST_OK) {
		fprintf(stderr, "loadstate: %s\n", st_last_error());
		return 27; /* USMT_INVALID_STORE_LOCATION */
	}
	struct st_key k;
	if (load_key("loadstate", a->key, a->keyfile, &k) < 0)
		return 33; /* USMT_UNABLE_READKEY */
	struct restore_map *mu = calloc(a->mu_count + 1, sizeof(*mu)), *md = calloc(a->md_count + 1, sizeof(*md));
	if (!mu || !md) {
		free(mu);
		free(md);
		return 71;
	}
	for (size_t i = 0; i < a->mu_count; i++)
		mu[i] = (struct restore_map){ a->mu[i].from, a->mu[i].to };
	for (size_t i = 0; i < a->md_count; i++)
		md[i] = (struct restore_map){ a->md[i].from, a->md[i].to };
	FILE *log = a->log ? fopen(a->log, "w") : NULL, *progress = NULL;
	if (a->log && !log) {
		fprintf(stderr, "loadstate: cannot write the log %s\n", a->log);
		free(mu);
		free(md);
		return 13; /* USMT_INIT_LOGFILE_FAILED */
	}
	if (a->progress && !(progress = fopen(a->progress, "w"))) {
		fprintf(stderr, "loadstate: cannot write the progress log %s\n", a->progress);
		if (log)
			fclose(log);
		free(mu);
		free(md);
		return 40;
	}
	struct restore_options o = {
		.store = a->hardlink ? volume_store : a->store, .target = a->target, .hardlink = a->hardlink,
		.key = k.kind ? &k : NULL, .keep_going = a->keep_going, .all = a->all,
		.ui = (const char *const *)a->ui.items, .ui_count = a->ui.count,
		.ue = (const char *const *)a->ue.items, .ue_count = a->ue.count,
		.mu = mu, .mu_count = a->mu_count, .md = md, .md_count = a->md_count,
		.lac = a->lac, .lae = a->lae, .lac_password = a->lac_password,
		.verbosity = a->verbosity, .log = log, .progress = progress,
		.rules = (const char *const *)a->includes.items, .rules_count = a->includes.count,
		.config = a->config,
	};
	struct restore_result res;
	restore_run(&o, &res);
	print_result(&res, false, "loadstate");
	int code = usmt_code(res.outcome);
	restore_result_free(&res);
	if (log)
		fclose(log);
	if (progress)
		fclose(progress);
	free(mu);
	free(md);
	return code;
}
