/* Capture (issue 5) lands here; until then it says so and does nothing. */
#include <stdio.h>

#include "agent/commands.h"

int
cmd_scan(int argc, char **argv)
{
	(void)argc;
	fprintf(stderr, "winstate %s: capture is not part of this build yet; nothing was done\n",
		argv[0]);
	return WS_EXIT_INTERNAL;
}

int
usmt_scanstate(const struct usmt_args *args)
{
	(void)args;
	fprintf(stderr, "scanstate: the command line is valid, but capture is not part of this "
		"build yet; nothing was done\n");
	return 26; /* USMT_INIT_ERROR */
}
