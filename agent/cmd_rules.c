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
#include "rules/rules.h"

static void
usage(FILE *out)
{
	fprintf(out,
		"usage: winstate rules check [--quiet] FILE...\n"
		"       winstate rules defaults\n\n"
		"check     parse MigXML rule files (MigApp.xml, MigUser.xml, custom ...) or a\n"
		"          Config.xml, and list errors and unsupported constructs with file:line.\n"
		"          Exit 0: all clean; 1: usable but some constructs are not supported,\n"
		"          or a file has the urlid of one before it (USMT, like scan, then\n"
		"          ignores the later file); 3: a file is unusable (malformed, unknown\n"
		"          helper, bad arguments ...).\n"
		"defaults  print the paths of winstate's own default rule files\n"
		"          (set WINSTATE_RULES_DIR to use another folder).\n");
}

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
	if (argc < 2) {
		usage(stderr);
		return WS_EXIT_USAGE;
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		usage(stdout);
		return WS_EXIT_OK;
	}
	if (!strcmp(argv[1], "defaults")) {
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
	if (strcmp(argv[1], "check")) {
		fprintf(stderr, "winstate rules: unknown action '%s'\n\n", argv[1]);
		usage(stderr);
		return WS_EXIT_USAGE;
	}
	bool quiet = false;
	int first = 2;
	if (argc > 2 && !strcmp(argv[2], "--quiet")) {
		quiet = true;
		first = 3;
	}
	if (argc > 2 && (!strcmp(argv[2], "--help") || !strcmp(argv[2], "-h"))) {
		usage(stdout);
		return WS_EXIT_OK;
	}
	if (first >= argc) {
		fprintf(stderr, "winstate rules check: no file given\n\n");
		usage(stderr);
		return WS_EXIT_USAGE;
	}
	int rc = WS_EXIT_OK;
	/* All the rule files together, as scan would load them: a later file
	 * with an earlier one's urlid is ignored there, so say it here. */
	mig_ruleset *together = mig_ruleset_new();
	for (int i = first; i < argc; i++) {
		if (argv[i][0] == '-') {
			fprintf(stderr, "winstate rules check: unknown option '%s'\n", argv[i]);
			mig_ruleset_free(together);
			return WS_EXIT_USAGE;
		}
		mig_diags *d = mig_diags_new();
		bool usable;
		size_t comps = 0;
		const char *kept_instead = NULL;
		if (is_config(argv[i])) {
			mig_config *c = mig_config_load(argv[i], d);
			usable = c != NULL;
			mig_config_free(c);
		} else {
			mig_ruleset *rs = mig_ruleset_new();
			usable = mig_ruleset_load(rs, argv[i], d) == 0;
			comps = mig_ruleset_component_count(rs);
			mig_ruleset_free(rs);
			size_t before = mig_ruleset_ignored_count(together);
			if (usable && mig_ruleset_load(together, argv[i], NULL) == 0 &&
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
			printf("%s: UNUSABLE (%zu error%s)\n", argv[i], errs, errs == 1 ? "" : "s");
			rc = WS_EXIT_INPUT;
		} else if (unsup) {
			printf("%s: usable, %zu unsupported construct%s listed above\n", argv[i], unsup,
				unsup == 1 ? "" : "s");
			if (rc == WS_EXIT_OK)
				rc = WS_EXIT_PARTIAL;
		} else if (kept_instead) {
			printf("%s: usable alone, but ignored after %s (same urlid)\n", argv[i],
			       kept_instead);
		} else if (!quiet) {
			if (comps)
				printf("%s: OK (%zu components)\n", argv[i], comps);
			else
				printf("%s: OK\n", argv[i]);
		}
		mig_diags_free(d);
	}
	mig_ruleset_free(together);
	return rc;
}
