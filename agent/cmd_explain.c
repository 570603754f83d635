/*
 * `winstate explain`: say whether the rules take a file or registry value,
 * in the system context and in a user's context, and which rule decides
 * (file:line, component, pattern) plus the restore transforms recorded on
 * the decision.  Without a disk, variables get the documented defaults
 * (USERPROFILE=C:\Users\<user>, ...) and nothing is detected as installed:
 * components with a detection contribute nothing.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <sys/stat.h>

#include "agent/commands.h"
#include "agent/options.h"
#include "windows/windows.h"
#include "ntfs/ntfs.h"
#include "rules/rules.h"

static const char explain_help[] =
	"usage: winstate explain [--rules FILE]... [--config FILE] [--user NAME|SID|FOLDER]\n"
	"                        [--system-only] [--ignore-detection] [-v] [DISK[:PART]] OBJECT...\n\n"
	"With DISK (an image or device holding the offline Windows), the user's\n"
	"variables come from their own profile and hive (folders redirected to\n"
	"OneDrive, ...), and detections ask the offline system whether an\n"
	"application is installed.\n"
	"OBJECT is a path (C:\\Users\\bob\\Documents\\a.docx; a trailing \\ means the\n"
	"folder itself), a registry key (HKCU\\Control Panel\\Desktop) or an encoded\n"
	"location \"node [leaf]\" (HKCU\\Control Panel\\Desktop [Wallpaper], [] = default\n"
	"value).  Without --rules, winstate's default rules are used.  The user\n"
	"defaults to 'user'; with DISK, --user takes the account name, the SID or\n"
	"the profile folder's name; without, a name or a SID (profile C:\\Users\\<SID>).\n"
	"--ignore-detection  treat every application as installed (like LoadState).\n"
	"-v                  also print diagnostics (notes on dropped patterns ...)\n"
	"                    and the defaults that stood in for missing hive values.\n"
	"--vars              print the variables of each context (%NAME%=value, as\n"
	"                    scan resolves them) instead of explaining objects.\n";

static void
print_ref(const char *label, const struct mig_rule_ref *r)
{
	printf("    %-20s %s:%u  component \"%s\"\n", label, r->file, r->line, r->component);
	printf("    %-20s %s", "", r->source);
	if (strcmp(r->source, r->pattern))
		printf("  =>  %s", r->pattern);
	printf("\n");
	if (r->helper) {
		printf("    %-20s %s(", "", r->helper);
		for (unsigned i = 0; i < r->nargs; i++)
			printf("%s%s%s%s", i ? ", " : "", r->args[i] ? "\"" : "",
				r->args[i] ? r->args[i] : "NULL", r->args[i] ? "\"" : "");
		printf(")\n");
	}
	if (r->attributes)
		printf("    %-20s attributes=%s\n", "", r->attributes);
	if (r->unresolved)
		printf("    %-20s %%%s%% is not defined here: this exclude matches anything in its "
		       "place and beats every include of its component\n", "", r->unresolved);
}

static int
cmp_name(const void *a, const void *b)
{
	return strcasecmp(*(const char *const *)a, *(const char *const *)b);
}

static void
print_vars(const mig_vars *v, const char *what)
{
	size_t n = mig_vars_count(v);
	const char **names = calloc(n ? n : 1, sizeof(*names));
	if (!names)
		return;
	for (size_t i = 0; i < n; i++) {
		const char *value;
		mig_vars_entry(v, i, &names[i], &value);
	}
	qsort(names, n, sizeof(*names), cmp_name);
	printf("%s:\n", what);
	for (size_t i = 0; i < n; i++)
		printf("  %%%s%%=%s\n", names[i], mig_vars_get(v, names[i]));
	free(names);
}

/* As scan says them: each pattern whose variable is undefined, once. */
static void
say_unresolved(const mig_matcher *ms, const mig_matcher *mu)
{
	const mig_matcher *both[2] = { ms, mu };
	for (int k = 0; k < 2; k++)
		for (size_t i = 0; i < mig_matcher_unresolved_count(both[k]); i++) {
			const struct mig_unresolved *u = mig_matcher_unresolved(both[k], i);
			bool said = false;
			for (size_t j = 0; k == 1 && j < mig_matcher_unresolved_count(ms) && !said; j++) {
				const struct mig_unresolved *o = mig_matcher_unresolved(ms, j);
				said = o->line == u->line && !strcmp(o->file, u->file) &&
				       !strcmp(o->source, u->source);
			}
			if (!said)
				fprintf(stderr, "winstate explain: warning: %s:%u: %%%s%% is not defined "
					"(%s context): the %s pattern \"%s\" %s\n", u->file, u->line,
					u->variable, k ? "user" : "system", mig_rule_kind_name(u->kind),
					u->source, u->kept ? "excludes more, never less" : "is dropped");
		}
}

/*
 * With a disk: what the walk meets on the way to @obj (C:\...), as scan
 * treats it.  Cloud folders (OneDrive) are entered like plain folders; a
 * junction, symlink or other reparse folder on the way means scan never
 * reaches the object through this path; a dehydrated placeholder is skipped.
 */
static void
explain_disk(struct nv_volume *vol, const char *root, const char *obj)
{
	if (strlen(obj) < 3 || obj[1] != ':' || (obj[2] != '\\' && obj[2] != '/'))
		return;
	uint64_t m = NV_MREF_ROOT;
	if (*root && nv_lookup(vol, root, &m) != NV_OK)
		return;
	const char *p = obj + 3;
	while (*p) {
		size_t n = strcspn(p, "\\/");
		const char *next = p + n;
		while (*next == '\\' || *next == '/')
			next++;
		bool last = !*next;
		int shown = (int)(p + n - obj); /* obj up to this component */
		char *name = strndup(p, n);
		struct nv_inode *in = NULL;
		if (!name)
			return;
		if (!n) { /* "C:\" itself */
			free(name);
			return;
		}
		if (nv_lookup_in(vol, m, name, &m) != NV_OK || nv_stat(vol, m, &in) != NV_OK) {
			printf("  on the disk: %.*s is not there\n", shown, obj);
			free(name);
			return;
		}
		free(name);
		bool stop = (in->kind & NV_IS_REPARSE) && !(in->kind & NV_IS_CLOUD);
		if ((in->kind & NV_IS_CLOUD) && (in->kind & NV_IS_DIR))
			printf("  on the disk: %.*s is a cloud folder (reparse tag 0x%08x): scan enters "
			       "it like a plain folder; restored as a plain folder\n", shown, obj,
			       in->reparse_tag);
		else if ((in->kind & NV_IS_DIR) && stop)
			printf("  on the disk: %.*s is a %s: %s\n", shown, obj,
			       (in->kind & NV_IS_JUNCTION) ? "junction" :
			       (in->kind & NV_IS_SYMLINK)  ? "folder symlink" : "reparse folder",
			       last ? "never followed (a junction or folder symlink is stored as a link)"
				    : "never followed, so scan does not reach what is below it this way");
		else if (in->kind & NV_IS_DEHYDRATED)
			printf("  on the disk: a dehydrated cloud placeholder: its data is not on this "
			       "disk, so scan lists it as skipped, whatever the rules say\n");
		else if (in->kind & NV_IS_CLOUD)
			printf("  on the disk: a hydrated cloud file: captured with its data, restored as "
			       "a plain file\n");
		nv_inode_free(in);
		if (stop)
			return;
		p = next;
	}
}

static void
explain_one(const mig_matcher *m, const char *what, enum mig_obj_type type, const char *obj)
{
	struct mig_decision d;
	int rc;
	if (strchr(obj, '[')) {
		rc = mig_matcher_decide_location(m, type, obj, &d);
	} else if (type == MIG_OBJ_REGISTRY) {
		rc = mig_matcher_decide(m, type, obj, NULL, &d);
	} else {
		size_t n = strlen(obj);
		char *copy = strdup(obj);
		if (n && copy[n - 1] == '\\') {
			rc = mig_matcher_decide(m, type, copy, NULL, &d);
		} else {
			char *bs = strrchr(copy, '\\');
			if (bs) {
				*bs = 0;
				rc = mig_matcher_decide(m, type, copy, bs + 1, &d);
			} else {
				rc = mig_matcher_decide(m, type, copy, NULL, &d);
			}
		}
		free(copy);
	}
	if (rc < 0) {
		printf("  %s: cannot parse '%s'\n", what, obj);
		return;
	}
	printf("  %s: %s\n", what, mig_outcome_name(d.outcome));
	if (d.rule)
		print_ref(mig_rule_kind_name(d.rule->kind), d.rule);
	for (int k = 0; k < MIG_RULE_KIND_COUNT; k++) {
		if (!d.by_kind[k] || d.by_kind[k] == d.rule || k == MIG_RULE_INCLUDE ||
			k == MIG_RULE_EXCLUDE)
			continue;
		if (d.outcome != MIG_INCLUDED && k != MIG_RULE_UNCOND_EXCLUDE)
			continue;
		print_ref(mig_rule_kind_name((enum mig_rule_kind)k), d.by_kind[k]);
	}
}

/* explain after its command line was read; @objs may be reordered. */
static int
explain(const struct ws_list *rules, const char *config, const char *user, bool system_only,
	bool verbose, bool show_vars, unsigned flags, const char **objs, size_t nobjs)
{
	/* A first argument that names a local image or device is the disk. */
	const char *disk = NULL;
	struct stat sb;
	size_t min_objs = show_vars ? 0 : 1;  /* --vars: the disk alone */
	if (nobjs > min_objs && !strchr(objs[0], '\\') && stat(objs[0], &sb) == 0 &&
	    (S_ISREG(sb.st_mode) || S_ISBLK(sb.st_mode))) {
		disk = objs[0];
		memmove(objs, objs + 1, --nobjs * sizeof(objs[0]));
	} else if (nobjs > min_objs && strchr(objs[0], ':') && !strchr(objs[0], '\\')) {
		char *path = NULL;
		int part;
		if (nv_split_target(objs[0], &path, &part) == NV_OK && stat(path, &sb) == 0) {
			disk = objs[0];
			memmove(objs, objs + 1, --nobjs * sizeof(objs[0]));
		}
		free(path);
	}
	if (!nobjs && !show_vars) {
		fprintf(stderr, "winstate explain: no path or registry key given\n\n");
		fputs(explain_help, stderr);
		return WS_EXIT_USAGE;
	}
	mig_diags *d = mig_diags_new();
	mig_ruleset *rs = mig_ruleset_new();
	int rc = WS_EXIT_OK;
	char failed[4096];
	int lr = mig_ruleset_load_given_or_defaults(rs, rules->items, rules->count, d, NULL,
						    NULL, failed, sizeof(failed));
	if (lr == -2) {
		fprintf(stderr, "winstate explain: no --rules given and no default rules found\n");
		rc = WS_EXIT_INPUT;
		goto out;
	} else if (lr < 0) {
		mig_diags_print(d, stderr, MIG_DIAG_ERROR);
		fprintf(stderr, "winstate explain: %s is unusable\n", failed);
		rc = WS_EXIT_INPUT;
		goto out;
	}
	for (size_t i = 0; i < mig_ruleset_ignored_count(rs); i++) {
		const struct mig_ignored_file *g = mig_ruleset_ignored(rs, i);
		fprintf(stderr, "winstate explain: warning: %s is ignored: its urlid \"%s\" is %s's "
			"(USMT keeps the first)\n", g->path, g->urlid, g->kept);
	}
	mig_config *cfg = NULL;
	if (config && !(cfg = mig_config_load(config, d))) {
		mig_diags_print(d, stderr, MIG_DIAG_ERROR);
		fprintf(stderr, "winstate explain: %s is unusable\n", config);
		rc = WS_EXIT_INPUT;
		goto out;
	}
	mig_vars *sys = mig_vars_new(), *usr = mig_vars_new();
	char *defaulted = NULL;
	bool is_sid = !strncasecmp(user, "S-1-", 4);
	struct nv_volume *vol = NULL;
	struct win_offline *win = NULL;
	struct win_rules_host sys_host, user_host;
	const struct mig_rules_host *hs = NULL, *hu = NULL;
	if (disk) {
		char *path = NULL, err[1024];
		struct nv_open_options o = { 0 };
		const struct win_user *found = NULL;
		if (nv_split_target(disk, &path, &o.partition) != NV_OK ||
		    nv_open(path, &o, &vol) != NV_OK) {
			fprintf(stderr, "winstate explain: %s\n", nv_last_error());
			rc = WS_EXIT_INPUT;
			free(path);
			vol = NULL;
			goto done;
		}
		free(path);
		if (win_open(vol, NULL, false, &win, err, sizeof(err)) < 0) {
			fprintf(stderr, "winstate explain: %s\n", err);
			rc = WS_EXIT_INPUT;
			goto done;
		}
		found = win_find_user(win, user);
		if (!found && !system_only) {
			fprintf(stderr, "winstate explain: no profile for \"%s\" on %s (see `winstate users %s`)\n",
				user, disk, disk);
			rc = WS_EXIT_INPUT;
			goto done;
		}
		win_rules_host_init(&sys_host, win, NULL);
		hs = &sys_host.host;
		/* the same resolver as scan and restore: an explanation is the capture's */
		win_vars_for_system(sys, win, 'C', &defaulted);
		if (verbose && defaulted)
			fprintf(stderr, "winstate explain: the SOFTWARE hive lacks some values; "
				"Windows' defaults stand in: %s\n", defaulted);
		free(defaulted);
		if (found) {
			win_rules_host_init(&user_host, win, found);
			hu = &user_host.host;
			win_vars_for_user(usr, win, found, &defaulted);
			if (verbose && defaulted)
				fprintf(stderr, "winstate explain: %s's hive lacks some folders; Windows' "
					"defaults stand in: %s\n", found->name ? found->name : user,
					defaulted);
			free(defaulted);
			user = found->name ? found->name : user;
		}
	} else {
		mig_vars_default_system(sys, "C:");
		mig_vars_default_user(usr, "C:", user, NULL, is_sid ? user : NULL);
	}
	if (show_vars) {
		if (nobjs) {
			fprintf(stderr, "winstate explain: --vars takes no path or key (got '%s')\n",
				objs[0]);
			rc = WS_EXIT_USAGE;
			goto done;
		}
		print_vars(sys, "system context");
		if (!system_only) {
			char label[300];
			snprintf(label, sizeof(label), "user context (%s)", user);
			print_vars(usr, label);
		}
		goto done;
	}
	mig_matcher *ms = NULL, *mu = NULL;
	if (mig_matcher_build(rs, cfg, MIG_CTX_SYSTEM, sys, hs, flags, &ms, d) < 0 ||
	    (!system_only && mig_matcher_build(rs, cfg, MIG_CTX_USER, usr, hu, flags, &mu, d) < 0)) {
		/* The files loaded, so an error here is theirs when said, else ours. */
		bool said = mig_diags_count_level(d, MIG_DIAG_ERROR) > 0;
		mig_diags_print(d, stderr, MIG_DIAG_ERROR);
		fprintf(stderr, "winstate explain: the rules cannot be applied in the %s context; "
			"nothing is explained\n", ms ? "user" : "system");
		rc = said ? WS_EXIT_INPUT : WS_EXIT_INTERNAL;
		mig_matcher_free(ms);
		goto done;
	}
	if (verbose)
		mig_diags_print(d, stderr, MIG_DIAG_NOTE);
	else
		say_unresolved(ms, mu);
	for (size_t i = 0; i < nobjs; i++) {
		const char *o = objs[i];
		enum mig_obj_type t = !strncasecmp(o, "HK", 2) ? MIG_OBJ_REGISTRY :
			strchr(o, '|') ? MIG_OBJ_INI : MIG_OBJ_FILE;
		printf("%s\n", o);
		if (vol && t == MIG_OBJ_FILE)
			explain_disk(vol, win->install.root, o);
		explain_one(ms, "system context", t, o);
		if (mu) {
			char label[300];
			snprintf(label, sizeof(label), "user context (%s)", user);
			explain_one(mu, label, t, o);
		}
	}
	mig_matcher_free(ms);
	mig_matcher_free(mu);
done:
	if (hs)
		win_rules_host_fini(&sys_host);
	if (hu)
		win_rules_host_fini(&user_host);
	win_close(win);
	if (vol)
		nv_close(vol);
	mig_vars_free(sys);
	mig_vars_free(usr);
	mig_config_free(cfg);
out:
	mig_ruleset_free(rs);
	mig_diags_free(d);
	return rc;
}

int
cmd_explain(int argc, char **argv)
{
	static const struct ws_option table[] = {
		{ "--rules", NULL, WS_OPT_VALUE, 'r' },
		{ "--config", NULL, WS_OPT_VALUE, 'c' },
		{ "--user", NULL, WS_OPT_VALUE, 'u' },
		{ "--system-only", NULL, WS_OPT_FLAG, 's' },
		{ "--ignore-detection", NULL, WS_OPT_FLAG, 'D' },
		{ "--verbose", "-v", WS_OPT_FLAG, 'v' },
		{ "--vars", NULL, WS_OPT_FLAG, 'V' },
		{ 0 },
	};
	struct ws_list rules = { 0 }, objects = { 0 };
	const char *config = NULL, *user = "user";
	bool system_only = false, verbose = false, show_vars = false;
	unsigned flags = 0;
	int rc = WS_EXIT_USAGE;
	struct ws_opts p;
	ws_opts_init(&p, "winstate explain", argc, argv, table, explain_help);
	for (int id; (id = ws_opts_next(&p)) != WS_OPTS_END;) {
		switch (id) {
		case WS_OPTS_EXIT:
			rc = p.exit_code;
			goto parsed;
		case 'r':
			if (ws_list_add(&rules, p.value) < 0)
				goto no_memory;
			break;
		case 'c':
			if (config) {
				fprintf(stderr, "winstate explain: --config given twice\n");
				goto parsed;
			}
			config = p.value;
			break;
		case 'u': user = p.value; break;
		case 's': system_only = true; break;
		case 'D': flags |= MIG_BUILD_IGNORE_DETECTION; break;
		case 'v': verbose = true; break;
		case 'V': show_vars = true; break;
		case WS_OPTS_OPERAND:
			if (ws_list_add(&objects, p.value) < 0)
				goto no_memory;
			break;
		}
	}
	rc = explain(&rules, config, user, system_only, verbose, show_vars, flags, objects.items,
		     objects.count);
	goto parsed;
no_memory:
	fprintf(stderr, "winstate explain: out of memory\n");
	rc = WS_EXIT_INTERNAL;
parsed:
	ws_list_free(&rules);
	ws_list_free(&objects);
	return rc;
}
