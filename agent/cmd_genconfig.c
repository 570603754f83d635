/*
 * `winstate genconfig --rules A.xml [...]`: write a Config.xml listing every
 * component of the rule files, like ScanState /genconfig, to stdout (or -o).
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/commands.h"
#include "agent/options.h"
#include "rules/rules.h"

static const char genconfig_help[] =
	"usage: winstate genconfig [--rules FILE]... [-o OUT]\n\n"
	"Write a Config.xml for the rule files (default: winstate's own rules) to\n"
	"stdout or OUT.  Edit migrate=\"yes\" to \"no\" to leave a component out.\n"
	"Unlike ScanState, components are listed whether or not they are detected.\n";

int
cmd_genconfig(int argc, char **argv)
{
	static const struct ws_option table[] = {
		{ "--rules", NULL, WS_OPT_VALUE, 'r' },
		{ "-o", NULL, WS_OPT_VALUE, 'o' },
		{ 0 },
	};
	struct ws_list rules = { 0 };
	const char *out = NULL;
	struct ws_opts p;
	ws_opts_init(&p, "winstate genconfig", argc, argv, table, genconfig_help);
	p.max_operands = 0;
	for (int id; (id = ws_opts_next(&p)) != WS_OPTS_END;) {
		if (id == WS_OPTS_EXIT) {
			ws_list_free(&rules);
			return p.exit_code;
		}
		if (id == 'o')
			out = p.value;
		else if (id == 'r' && ws_list_add(&rules, p.value) < 0) {
			ws_list_free(&rules);
			fprintf(stderr, "winstate genconfig: out of memory\n");
			return WS_EXIT_INTERNAL;
		}
	}
	int rc = WS_EXIT_OK;
	mig_diags *d = mig_diags_new();
	mig_ruleset *rs = mig_ruleset_new();
	char failed[4096];
	int lr = mig_ruleset_load_given_or_defaults(rs, rules.items, rules.count, d, NULL,
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
	ws_list_free(&rules);
	return rc;
}
