/*
 * `winstate rules check FILE...`: load each MigXML rule file (or Config.xml)
 * with the rule engine's full checks and list every problem and every
 * construct we do not support, with file:line.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/commands.h"
#include "agent/options.h"
#include "rules/rules.h"

static const char rules_help[] =
	"usage: winstate rules check [--quiet] FILE...\n"
	"       winstate rules defaults\n\n"
	"check     parse MigXML rule files (MigApp.xml, MigUser.xml, custom ...) or a\n"
	"          Config.xml, and list errors and unsupported constructs with file:line.\n"
	"          Exit 0: all clean; 1: usable but some constructs are not supported,\n"
	"          or a file has the urlid of one before it (USMT, like scan, then\n"
	"          ignores the later file); 3: a file is unusable (malformed, unknown\n"
	"          helper, bad arguments ...).\n"
	"defaults  print the paths of winstate's own default rule files\n"
	"          (set WINSTATE_RULES_DIR to use another folder).\n";

static bool
is_config(const char *path)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return false;
	char buf[4096];
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = 0;
	return strstr(buf, "<Configuration") && !strstr(buf, "<migration");
}

int
cmd_rules(int argc, char **argv)
{
	static const struct ws_option table[] = {
		{ "--quiet", NULL, WS_OPT_FLAG, 'q' },
		{ 0 },
	};
	const char *action = NULL;
	struct ws_list files = { 0 };
	bool quiet = false;
	struct ws_opts p;
	ws_opts_init(&p, "winstate rules", argc, argv, table, rules_help);
	for (int id; (id = ws_opts_next(&p)) != WS_OPTS_END;) {
		if (id == WS_OPTS_EXIT) {
			ws_list_free(&files);
			return p.exit_code;
		}
		if (id == 'q') {
			quiet = true;
		} else if (!action) {
			action = p.value;
			if (strcmp(action, "check") && strcmp(action, "defaults")) {
				fprintf(stderr, "winstate rules: unknown action '%s'\n\n%s", action,
					rules_help);
				return WS_EXIT_USAGE;
			}
			p.prog = !strcmp(action, "check") ? "winstate rules check" : "winstate rules defaults";
			/* defaults takes nothing more; check takes the files */
			p.max_operands = strcmp(action, "check") ? 1 : -1;
		} else if (ws_list_add(&files, p.value) < 0) {
			ws_list_free(&files);
			fprintf(stderr, "winstate rules: out of memory\n");
			return WS_EXIT_INTERNAL;
		}
	}
	if (!action) {
		fputs(rules_help, stderr);
		return WS_EXIT_USAGE;
	}
	if (!strcmp(action, "defaults")) {
		char *paths[32];
		size_t n = mig_rules_default_paths(paths, 32);
		for (size_t i = 0; i < n; i++) {
			printf("%s\n", paths[i]);
			free(paths[i]);
		}
		if (!n) {
			fprintf(stderr, "winstate rules: no default rule files found "
				"(looked in $WINSTATE_RULES_DIR, next to the program and in rules/xml)\n");
			return WS_EXIT_INPUT;
		}
		return WS_EXIT_OK;
	}
	if (!files.count) {
		fprintf(stderr, "winstate rules check: no file given\n\n%s", rules_help);
		return WS_EXIT_USAGE;
	}
	int rc = WS_EXIT_OK;
	/* All the rule files together, as scan would load them: a later file
	 * with an earlier one's urlid is ignored there, so say it here. */
	mig_ruleset *together = mig_ruleset_new();
	for (size_t i = 0; i < files.count; i++) {
		const char *file = files.items[i];
		mig_diags *d = mig_diags_new();
		bool usable;
		size_t comps = 0;
		const char *kept_instead = NULL;
		if (is_config(file)) {
			mig_config *c = mig_config_load(file, d);
			usable = c != NULL;
			mig_config_free(c);
		} else {
			mig_ruleset *rs = mig_ruleset_new();
			usable = mig_ruleset_load(rs, file, d) == 0;
			comps = mig_ruleset_component_count(rs);
			mig_ruleset_free(rs);
			size_t before = mig_ruleset_ignored_count(together);
			if (usable && mig_ruleset_load(together, file, NULL) == 0 &&
			    mig_ruleset_ignored_count(together) > before) {
				const struct mig_ignored_file *g = mig_ruleset_ignored(together, before);
				printf("%s:%u: warning: urlid \"%s\" is also the urlid of %s, loaded before "
				       "it: with both, scan and USMT use %s and ignore %s\n", g->path, g->line,
				       g->urlid, g->kept, g->kept, g->path);
				kept_instead = g->kept;
				if (rc == WS_EXIT_OK)
					rc = WS_EXIT_PARTIAL;
			}
		}
		mig_diags_print(d, stdout, quiet ? MIG_DIAG_UNSUPPORTED : MIG_DIAG_NOTE);
		size_t unsup = mig_diags_count_level(d, MIG_DIAG_UNSUPPORTED);
		size_t errs = mig_diags_count_level(d, MIG_DIAG_ERROR);
		if (!usable) {
			printf("%s: UNUSABLE (%zu error%s)\n", file, errs, errs == 1 ? "" : "s");
			rc = WS_EXIT_INPUT;
		} else if (unsup) {
			printf("%s: usable, %zu unsupported construct%s listed above\n", file, unsup,
				unsup == 1 ? "" : "s");
			if (rc == WS_EXIT_OK)
				rc = WS_EXIT_PARTIAL;
		} else if (kept_instead) {
			printf("%s: usable alone, but ignored after %s (same urlid)\n", file,
			       kept_instead);
		} else if (!quiet) {
			if (comps)
				printf("%s: OK (%zu components)\n", file, comps);
			else
				printf("%s: OK\n", file);
		}
		mig_diags_free(d);
	}
	mig_ruleset_free(together);
	ws_list_free(&files);
	return rc;
}
