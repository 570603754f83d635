/* The store tools (issue 6) land here; until then they say so and do nothing. */
#include <stdio.h>

#include "agent/commands.h"

static int
not_yet(const char *name)
{
	fprintf(stderr, "winstate %s: not part of this build yet; nothing was done\n", name);
	return WS_EXIT_INTERNAL;
}

int
cmd_verify(int argc, char **argv)
{
	(void)argc;
	return not_yet(argv[0]);
}

int
cmd_list(int argc, char **argv)
{
	(void)argc;
	return not_yet(argv[0]);
}

int
cmd_extract(int argc, char **argv)
{
	(void)argc;
	return not_yet(argv[0]);
}

int
cmd_rmstore(int argc, char **argv)
{
	(void)argc;
	return not_yet(argv[0]);
}

int
usmt_utils(const struct usmt_args *args)
{
	(void)args;
	fprintf(stderr, "usmtutils: the command line is valid, but the store tools are not part of "
		"this build yet; nothing was done\n");
	return 26; /* USMT_INIT_ERROR */
}
