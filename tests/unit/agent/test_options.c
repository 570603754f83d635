/* The option reader every winstate subcommand uses (agent/options.c). */
#include <stdio.h>
#include <string.h>

#include <criterion/criterion.h>
#include <criterion/redirect.h>

#include "agent/commands.h"
#include "agent/options.h"

enum { O_JSON, O_RULES, O_RECURSIVE, O_LAC, O_OUT };

static const struct ws_option table[] = {
	{ "--json", NULL, WS_OPT_FLAG, O_JSON },
	{ "--rules", NULL, WS_OPT_VALUE, O_RULES },
	{ "--recursive", "-R", WS_OPT_FLAG, O_RECURSIVE },
	{ "--lac", NULL, WS_OPT_OPTIONAL, O_LAC },
	{ "-o", NULL, WS_OPT_VALUE, O_OUT },
	{ 0 },
};

/* Read @argv (NULL-terminated, argv[0] the command) into a trace such as
 * "json rules=a.xml operand=x end" or "... exit=2". */
static void
trace(char **argv, int max_operands, char *out, size_t len)
{
	int argc = 0;
	while (argv[argc])
		argc++;
	struct ws_opts p;
	ws_opts_init(&p, "winstate test", argc, argv, table, "usage: winstate test\n");
	p.max_operands = max_operands;
	p.operands_hint = "one thing only";
	static const char *const names[] = { "json", "rules", "recursive", "lac", "out" };
	out[0] = 0;
	for (;;) {
		int id = ws_opts_next(&p);
		size_t n = strlen(out);
		if (id == WS_OPTS_END) {
			snprintf(out + n, len - n, "end");
			return;
		}
		if (id == WS_OPTS_EXIT) {
			snprintf(out + n, len - n, "exit=%d", p.exit_code);
			return;
		}
		if (id == WS_OPTS_OPERAND)
			snprintf(out + n, len - n, "operand=%s ", p.value);
		else if (p.value)
			snprintf(out + n, len - n, "%s=%s ", names[id], p.value);
		else
			snprintf(out + n, len - n, "%s ", names[id]);
	}
}

#define TRACE(max, want, ...)                                                     \
	do {                                                                      \
		char *argv_[] = { "test", __VA_ARGS__, NULL };                    \
		char got_[512];                                                   \
		trace(argv_, max, got_, sizeof(got_));                            \
		cr_assert_str_eq(got_, want);                                     \
	} while (0)

Test(agent_options, values_flags_lists_and_operands)
{
	TRACE(-1, "rules=a.xml rules=b.xml operand=x json end", "--rules", "a.xml", "--rules=b.xml",
	      "x", "--json");
	TRACE(-1, "recursive recursive out=f end", "-R", "--recursive", "-o", "f");
	TRACE(-1, "lac lac=secret end", "--lac", "--lac=secret");
	/* The next argument is the value, whatever it looks like. */
	TRACE(-1, "rules=--json end", "--rules", "--json");
	TRACE(-1, "rules= end", "--rules=");
	/* After "--" everything is an operand; "-" alone is one anyway. */
	TRACE(-1, "operand=- json operand=--json operand=-R end", "-", "--json", "--", "--json", "-R");
}

Test(agent_options, mistakes_are_usage_errors, .init = cr_redirect_stderr)
{
	TRACE(-1, "exit=2", "--rules");
	TRACE(-1, "exit=2", "--bogus");
	TRACE(-1, "json exit=2", "--json", "--json=yes");
	TRACE(1, "operand=a exit=2", "a", "b");
	/* An abbreviation is not the option it starts; a value cannot follow a
	 * one-letter option's name. */
	TRACE(-1, "exit=2", "--rul", "a.xml");
	TRACE(-1, "exit=2", "-ofile");
	TRACE(-1, "exit=2", "--help=me");
	fflush(stderr);
	cr_assert_stderr_eq_str("winstate test: --rules needs a value\n"
				"winstate test: unknown option '--bogus' (see --help)\n"
				"winstate test: --json takes no value (got '--json=yes')\n"
				"winstate test: unexpected argument 'b': one thing only\n"
				"winstate test: unknown option '--rul' (see --help)\n"
				"winstate test: unknown option '-ofile' (see --help)\n"
				"winstate test: --help takes no value (got '--help=me')\n");
}

Test(agent_options, help_and_version, .init = cr_redirect_stdout)
{
	TRACE(-1, "json exit=0", "--json", "--help", "--bogus");
	TRACE(-1, "exit=0", "-h");
	TRACE(-1, "exit=0", "--version");
	fflush(stdout);
	cr_assert_stdout_eq_str("usage: winstate test\nusage: winstate test\nwinstate " WINSTATE_VERSION
				"\n");
}

Test(agent_options, lists_grow)
{
	struct ws_list l = { 0 };
	for (int i = 0; i < 100; i++)
		cr_assert_eq(ws_list_add(&l, i % 2 ? "odd" : "even"), 0);
	cr_assert_eq(l.count, 100);
	cr_assert_str_eq(l.items[99], "odd");
	ws_list_free(&l);
	cr_assert_eq(l.count, 0);
	cr_assert_null(l.items);
}
