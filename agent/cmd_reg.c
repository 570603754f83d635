/* Placeholder until the issue that owns this command lands; it says so plainly. */
#include <stdio.h>

#include "agent/commands.h"

int
cmd_reg(int argc, char **argv)
{
	(void)argc;
	fprintf(stderr, "winstate %s: not implemented yet\n", argv[0]);
	return WS_EXIT_INTERNAL;
}
