/* Restore (issue 6) lands here; until then it says so and does nothing. */
#include <stdio.h>

#include "agent/commands.h"

int
cmd_load(int argc, char **argv)
{
	(void)argc;
	fprintf(stderr, "winstate %s: restore is not part of this build yet; nothing was done\n",
		argv[0]);
	return WS_EXIT_INTERNAL;
}

int
cmd_migrate_winold(int argc, char **argv)
{
	return cmd_load(argc, argv);
}

int
usmt_loadstate(const struct usmt_args *args)
{
	(void)args;
	fprintf(stderr, "loadstate: the command line is valid, but restore is not part of this "
		"build yet; nothing was done\n");
	return 26; /* USMT_INIT_ERROR */
}
