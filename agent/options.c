/*
 * One reader for every subcommand's options (agent/options.h), so that each
 * says a mistake with the same sentence and exit code.  Names match exactly:
 * unlike getopt_long, an abbreviation (--over for --overwrite) is an unknown
 * option, so that a later option sharing the prefix cannot change what an
 * old command line means.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/commands.h"
#include "agent/options.h"

void
ws_opts_init(struct ws_opts *p, const char *prog, int argc, char **argv,
	     const struct ws_option *table, const char *help)
{
	memset(p, 0, sizeof(*p));
	p->prog = prog;
	p->table = table;
	p->help = help;
	p->max_operands = -1;
	p->argc = argc;
	p->argv = argv;
	p->next = 1;
}

void
ws_print_version(void)
{
	printf("winstate %s\n", WINSTATE_VERSION);
}

static int
stop(struct ws_opts *p, int code)
{
	p->exit_code = code;
	return WS_OPTS_EXIT;
}

int
ws_opts_unexpected(const struct ws_opts *p, const char *arg, const char *hint)
{
	fprintf(stderr, "%s: unexpected argument '%s'%s%s\n", p->prog, arg, hint ? ": " : "",
		hint ? hint : "");
	return WS_EXIT_USAGE;
}

/* The entry of @table spelled @arg (its first @len bytes), or NULL. */
static const struct ws_option *
find(const struct ws_option *table, const char *arg, size_t len)
{
	for (const struct ws_option *o = table; o && o->name; o++)
		if ((strlen(o->name) == len && !strncmp(o->name, arg, len)) ||
		    (o->alias && strlen(o->alias) == len && !strncmp(o->alias, arg, len)))
			return o;
	return NULL;
}

/* What every command answers itself (after its own table). */
enum { BUILTIN_HELP = -100, BUILTIN_VERSION = -101 };
static const struct ws_option builtin[] = {
	{ "--help", "-h", WS_OPT_FLAG, BUILTIN_HELP },
	{ "--version", NULL, WS_OPT_FLAG, BUILTIN_VERSION },
	{ 0 },
};

int
ws_opts_next(struct ws_opts *p)
{
	p->value = p->name = NULL;
	if (p->next >= p->argc)
		return WS_OPTS_END;
	const char *arg = p->argv[p->next++];
	if (!p->only_operands && !strcmp(arg, "--")) {
		p->only_operands = true;
		return ws_opts_next(p);
	}
	if (p->only_operands || arg[0] != '-' || !arg[1]) {
		if (p->max_operands >= 0 && p->operands >= p->max_operands) {
			return stop(p, ws_opts_unexpected(p, arg, p->operands_hint));
		}
		p->operands++;
		p->value = arg;
		return WS_OPTS_OPERAND;
	}
	/* "--name=value" is a long option's name and value in one argument. */
	const char *eq = arg[1] == '-' ? strchr(arg, '=') : NULL;
	size_t len = eq ? (size_t)(eq - arg) : strlen(arg);
	const struct ws_option *o = find(p->table, arg, len);
	if (!o)
		o = find(builtin, arg, len);
	if (!o) {
		fprintf(stderr, "%s: unknown option '%.*s' (see --help)\n", p->prog, (int)len, arg);
		return stop(p, WS_EXIT_USAGE);
	}
	p->name = o->name;
	if (eq && o->arg == WS_OPT_FLAG) {
		fprintf(stderr, "%s: %s takes no value (got '%s')\n", p->prog, o->name, arg);
		return stop(p, WS_EXIT_USAGE);
	}
	if (o->id == BUILTIN_HELP) {
		fputs(p->help, stdout);
		return stop(p, WS_EXIT_OK);
	}
	if (o->id == BUILTIN_VERSION) {
		ws_print_version();
		return stop(p, WS_EXIT_OK);
	}
	if (eq) {
		p->value = eq + 1;
	} else if (o->arg == WS_OPT_VALUE) {
		if (p->next >= p->argc) {
			fprintf(stderr, "%s: %s needs a value\n", p->prog, o->name);
			return stop(p, WS_EXIT_USAGE);
		}
		p->value = p->argv[p->next++];
	}
	return o->id;
}

int
ws_list_add(struct ws_list *l, const char *item)
{
	const char **grown = realloc(l->items, (l->count + 1) * sizeof(*grown));
	if (!grown)
		return -1;
	grown[l->count++] = item;
	l->items = grown;
	return 0;
}

void
ws_list_free(struct ws_list *l)
{
	free(l->items);
	l->items = NULL;
	l->count = 0;
}
