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
#include "agent/options.h"
#include "agent/usmt_args.h"
#include "rules/rules.h"

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
	{ "scan", cmd_scan, "capture users' files and settings into a store (ScanState)" },
	{ "load", cmd_load, "restore a store into the new Windows (LoadState)" },
	{ "migrate-winold", cmd_migrate_winold, "move users from Windows.old into the new Windows, in place" },
	{ "verify", cmd_verify, "check every checksum of a store" },
	{ "list", cmd_list, "list the users, files and settings in a store" },
	{ "extract", cmd_extract, "copy files out of a store into a folder" },
	{ "rmstore", cmd_rmstore, "remove a hard-link store safely" },
};

static void
usage(FILE *out)
{
	fprintf(out, "usage: winstate <command> [options]\n\ncommands:\n");
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(out, "  %-15s %s\n", commands[i].name, commands[i].summary);
	fprintf(out, "\n`winstate <command> --help` describes a command; `winstate --version` "
		"prints the version.\n");
}

/*
 * The USMT spellings: the command line is parsed and checked exactly as USMT
 * documents, with its exit codes, so scripts fail (or pass) the same way.
 */
static int
usmt_main(const char *self, int argc, char **argv)
{
	enum usmt_tool tool = !strcmp(self, "scanstate")   ? USMT_SCANSTATE
			      : !strcmp(self, "loadstate") ? USMT_LOADSTATE
							   : USMT_UTILS;
	struct usmt_args args;
	char err[512];
	int code = usmt_parse(tool, argc - 1, argv + 1, &args, err, sizeof(err));

	mig_set_out_of_memory_exit(71); /* USMT_INIT_OPERATING_ENVIRONMENT_FAILED */
	if (code == USMT_DISPLAY_HELP)
		fputs(usmt_usage(tool), stdout);
	else if (code != USMT_SUCCESS)
		fprintf(stderr, "%s: %s\n%s", self, err, usmt_usage(tool));
	else if (tool == USMT_SCANSTATE)
		code = usmt_scanstate(&args);
	else if (tool == USMT_LOADSTATE)
		code = usmt_loadstate(&args);
	else
		code = usmt_utils(&args);
	usmt_args_free(&args);
	return code;
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

	if (!strcmp(self, "scanstate") || !strcmp(self, "loadstate") || !strcmp(self, "usmtutils"))
		return usmt_main(self, argc, argv);
	if (argc < 2) {
		usage(stderr);
		return WS_EXIT_USAGE;
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
		usage(stdout);
		return WS_EXIT_OK;
	}
	if (!strcmp(argv[1], "--version") || !strcmp(argv[1], "-V")) {
		ws_print_version();
		return WS_EXIT_OK;
	}
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (!strcmp(argv[1], commands[i].name))
			return commands[i].run(argc - 1, argv + 1);
	fprintf(stderr, "winstate: unknown command '%s'\n\n", argv[1]);
	usage(stderr);
	return WS_EXIT_USAGE;
}
