/*
 * winstate — offline Windows user-state migration.
 *
 * One program, several names: `winstate <command>` is the native spelling;
 * invoked as scanstate, loadstate or usmtutils it speaks USMT's
 * /option:value syntax and returns USMT's exit codes.
 */
#include <stdio.h>
#include <string.h>

#include "agent/commands.h"

struct command {
	const char *name;
	int (*run)(int argc, char **argv);
	const char *summary;
};

static const struct command commands[] = {
	{ "volumes", cmd_volumes, "list the partitions of a disk and what is on each" },
	{ "ls", cmd_ls, "list files on an offline NTFS volume with their NTFS metadata" },
	{ "users", cmd_users, "list the user profiles of an offline Windows" },
	{ "reg", cmd_reg, "read registry keys of an offline Windows (dirty hives replayed)" },
	{ "rules", cmd_rules, "check MigXML rule files (rules check FILE...)" },
	{ "explain", cmd_explain, "say whether the rules take a path or key, and why" },
	{ "genconfig", cmd_genconfig, "write a Config.xml for rule files, like ScanState /genconfig" },
};

static void
usage(FILE *out)
{
	fprintf(out, "usage: winstate <command> [options]\n\ncommands:\n");
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(out, "  %-10s %s\n", commands[i].name, commands[i].summary);
	fprintf(out, "\n`winstate <command> --help` describes a command.\n");
}

static const char *
base_name(const char *path)
{
	const char *slash = strrchr(path, '/');
	return slash ? slash + 1 : path;
}

int
main(int argc, char **argv)
{
	const char *self = base_name(argv[0]);

	if (!strcmp(self, "scanstate") || !strcmp(self, "loadstate") || !strcmp(self, "usmtutils")) {
		/* USMT's "invalid command line" code. */
		fprintf(stderr, "%s: this spelling is not available yet in this build; "
			"use `winstate volumes` and `winstate ls`.\n", self);
		return 11;
	}
	if (argc < 2) {
		usage(stderr);
		return WS_EXIT_USAGE;
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
		usage(stdout);
		return WS_EXIT_OK;
	}
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (!strcmp(argv[1], commands[i].name))
			return commands[i].run(argc - 1, argv + 1);
	fprintf(stderr, "winstate: unknown command '%s'\n\n", argv[1]);
	usage(stderr);
	return WS_EXIT_USAGE;
}
