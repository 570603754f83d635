/*
 * `winstate genconfig --rules A.xml [...]`: write a Config.xml listing every
 * component of the rule files, like ScanState /genconfig, to stdout (or -o).
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
		"usage: winstate genconfig [--rules FILE]... [-o OUT]\n\n"
		"Write a Config.xml for the rule files (default: winstate's own rules) to\n"
		"stdout or OUT.  Edit migrate=\"yes\" to \"no\" to leave a component out.\n"
		"Unlike ScanState, components are listed whether or not they are detected.\n");
}

int
cmd_genconfig(int argc, char **argv)
{
	const char *rules[64], *out = NULL;
	size_t nrules = 0;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
			usage(stdout);
			return WS_EXIT_OK;
		} else if (!strcmp(argv[i], "--rules") || !strcmp(argv[i], "-o")) {
			if (i + 1 >= argc) {
				fprintf(stderr, "winstate genconfig: %s needs a value\n", argv[i]);
				return WS_EXIT_USAGE;
			}
			if (!strcmp(argv[i], "-o"))
				out = argv[++i];
			else if (nrules < 64)
				rules[nrules++] = argv[++i];
			else {
				fprintf(stderr, "winstate genconfig: too many --rules\n");
				return WS_EXIT_USAGE;
			}
		} else {
			fprintf(stderr, "winstate genconfig: unexpected argument '%s'\n\n", argv[i]);
			usage(stderr);
			return WS_EXIT_USAGE;
		}
	}
	int rc = WS_EXIT_OK;
	mig_diags *d = mig_diags_new();
	mig_ruleset *rs = mig_ruleset_new();
	char failed[4096];
	int lr = mig_ruleset_load_given_or_defaults(rs, (const char *const *)rules, nrules, d, NULL,
						    NULL, failed, sizeof(failed));
	if (lr == -2) {
		fprintf(stderr, "winstate genconfig: no --rules given and no default rules found\n");
		rc = WS_EXIT_INPUT;
	} else if (lr < 0) {
		mig_diags_print(d, stderr, MIG_DIAG_ERROR);
		fprintf(stderr, "winstate genconfig: %s is unusable\n", failed);
		rc = WS_EXIT_INPUT;
	}
	for (size_t i = 0; rc == WS_EXIT_OK && i < mig_ruleset_ignored_count(rs); i++) {
		const struct mig_ignored_file *g = mig_ruleset_ignored(rs, i);
		fprintf(stderr, "winstate genconfig: warning: %s is left out: its urlid \"%s\" is "
			"%s's (USMT keeps the first)\n", g->path, g->urlid, g->kept);
	}
	if (rc == WS_EXIT_OK) {
		FILE *f = out ? fopen(out, "w") : stdout;
		if (!f) {
			perror(out);
			rc = WS_EXIT_FAILED;
		} else {
			if (mig_genconfig_write(rs, f) < 0)
				rc = WS_EXIT_FAILED;
			if (out && fclose(f) != 0)
				rc = WS_EXIT_FAILED;
		}
	}
	mig_ruleset_free(rs);
	mig_diags_free(d);
	return rc;
}
