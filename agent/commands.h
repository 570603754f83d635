/*
 * The winstate subcommands.  Each lives in agent/cmd_<name>.c, takes the
 * arguments after its own name (argv[0] is the subcommand) and returns the
 * process exit code (see docs/exit-codes.md).
 */
#ifndef WINSTATE_AGENT_COMMANDS_H
#define WINSTATE_AGENT_COMMANDS_H

#include "capture/capture.h"

/* Exit codes of the `winstate` spelling (USMT's own numbers are used under
 * the scanstate/loadstate/usmtutils names). */
enum ws_exit {
	WS_EXIT_OK = 0,          /* everything asked for was done */
	WS_EXIT_PARTIAL = 1,     /* done, but some items were skipped (listed) */
	WS_EXIT_USAGE = 2,       /* bad command line: nothing was done */
	WS_EXIT_INPUT = 3,       /* the disk, image, store or rule file is unusable */
	WS_EXIT_FAILED = 4,      /* the operation started and failed */
	WS_EXIT_INTERNAL = 5,    /* out of memory or a bug */
};

int cmd_volumes(int argc, char **argv);
int cmd_ls(int argc, char **argv);
int cmd_users(int argc, char **argv);
int cmd_reg(int argc, char **argv);
int cmd_rules(int argc, char **argv);
int cmd_explain(int argc, char **argv);
int cmd_genconfig(int argc, char **argv);
int cmd_scan(int argc, char **argv);
int cmd_load(int argc, char **argv);
int cmd_migrate_winold(int argc, char **argv);
int cmd_verify(int argc, char **argv);
int cmd_list(int argc, char **argv);
int cmd_extract(int argc, char **argv);
int cmd_rmstore(int argc, char **argv);

/* The USMT spellings, after agent/usmt_args.c has parsed and checked the
 * command line; each returns USMT's documented exit code. */
struct usmt_args;
int usmt_scanstate(const struct usmt_args *args);
int usmt_loadstate(const struct usmt_args *args);
int usmt_utils(const struct usmt_args *args);

/* agent/cmd_scan.c: run a capture as the scan commands do (SIGINT/SIGTERM
 * cancel it; its sentences, progress and summary are printed) and return
 * its outcome.  Sets the options' callbacks and cancel flag. */
enum capture_outcome agent_capture(struct capture_options *o);

#endif
