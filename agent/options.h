/*
 * The command line of every winstate subcommand, read one way: long options
 * as --name VALUE or --name=VALUE (and the few one-letter ones: -R, -o, -v),
 * a repeated option handed over each time (lists such as --rules, --ui),
 * operands anywhere, "--" ending the options.  --help, -h and --version are
 * answered here; a mistake is one sentence on stderr and WS_EXIT_USAGE, the
 * same sentence in every command.  (The scanstate/loadstate/usmtutils
 * spellings have their own reader, agent/usmt_args.c.)
 *
 *     struct ws_opts p;
 *     ws_opts_init(&p, "winstate ls", argc, argv, table, help);
 *     p.max_operands = 2;
 *     p.operands_hint = "give the disk and one path";
 *     for (int id; (id = ws_opts_next(&p)) != WS_OPTS_END;)
 *             switch (id) {
 *             case WS_OPTS_EXIT: return p.exit_code;
 *             case WS_OPTS_OPERAND: ... p.value ...; break;
 *             case OPT_JSON: ...
 *             }
 */
#ifndef WINSTATE_AGENT_OPTIONS_H
#define WINSTATE_AGENT_OPTIONS_H

#include <stdbool.h>
#include <stddef.h>

enum ws_opt_arg {
	WS_OPT_FLAG,      /* --json */
	WS_OPT_VALUE,     /* --rules FILE, --rules=FILE */
	WS_OPT_OPTIONAL,  /* --lac or --lac=PASSWORD: a value only after '=' */
};

struct ws_option {
	const char *name;   /* "--rules" (or a one-letter "-o") */
	const char *alias;  /* another spelling ("-R" for "--recursive"), or NULL */
	enum ws_opt_arg arg;
	int id;             /* what ws_opts_next returns for it; >= 0 */
};

/* What ws_opts_next returns besides an option's id. */
enum {
	WS_OPTS_OPERAND = -1,  /* an operand, in value */
	WS_OPTS_END = -2,      /* the command line is read */
	WS_OPTS_EXIT = -3,     /* stop with exit_code: help or version printed, or a mistake said */
};

struct ws_opts {
	const char *prog;               /* "winstate scan": starts every sentence */
	const struct ws_option *table;  /* ends with an entry whose name is NULL */
	const char *help;               /* --help and -h print it to stdout */
	int max_operands;               /* more is an "unexpected argument"; -1: no limit */
	const char *operands_hint;      /* said after that sentence, may be NULL */
	/* After each ws_opts_next: */
	const char *value;  /* the operand, or the option's value (NULL for a flag or an
			     * optional value not given) */
	const char *name;   /* the option's name in the table ("--rules") */
	int exit_code;      /* after WS_OPTS_EXIT */
	/* Private. */
	int argc, next, operands;
	char **argv;
	bool only_operands;
};

/* @argv[0] is the subcommand's name (skipped); max_operands starts at -1. */
void ws_opts_init(struct ws_opts *p, const char *prog, int argc, char **argv,
		  const struct ws_option *table, const char *help);
int ws_opts_next(struct ws_opts *p);

/* For an operand only the command can tell is one too many: says
 * "PROG: unexpected argument 'ARG': HINT" and returns WS_EXIT_USAGE. */
int ws_opts_unexpected(const struct ws_opts *p, const char *arg, const char *hint);

/* A repeatable option's values, in order. */
struct ws_list {
	const char **items;
	size_t count;
};
/* 0, or -1 when out of memory (the list is unchanged). */
int ws_list_add(struct ws_list *l, const char *item);
void ws_list_free(struct ws_list *l);

/* "winstate VERSION": what `winstate --version` and `winstate CMD --version` print. */
void ws_print_version(void);

#endif
