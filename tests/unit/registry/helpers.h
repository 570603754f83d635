/* Shared helpers of the registry unit tests. */
#ifndef WINSTATE_TESTS_REGISTRY_HELPERS_H
#define WINSTATE_TESTS_REGISTRY_HELPERS_H

#include <stddef.h>
#include <stdint.h>

/* WS_SHARED/hives (default ../shared relative to the repo root), or NULL. */
const char *t_hives_dir(void);
/* A fresh temporary directory for this test (removed by t_cleanup). */
const char *t_tmpdir(void);
void t_cleanup(void);
/* Decompress WS_SHARED/hives/<xz_name>.xz to <tmpdir>/<out_name>; returns the
 * path (static storage rotated between 8 slots) or NULL when not available. */
const char *t_extract(const char *xz_name, const char *out_name);
/* Skip the calling test unless the shared hives are there. */
#define T_NEED_SHARED()                                                                   \
	do {                                                                              \
		if (!t_hives_dir())                                                       \
			cr_skip_test("WS_SHARED/hives not found (set WS_SHARED to the shared " \
				     "folder with the real hives)");                              \
	} while (0)
/* 64-bit FNV-1a of a file's bytes; 0 if unreadable. */
uint64_t t_file_hash(const char *path);
/* Write a minimal empty hive (base block, one hbin, root nk + sk) to path. */
int t_write_min_hive(const char *path, const char *root_name);
/* Run a shell command, return its stdout (malloc'd) and exit status. */
char *t_run(const char *cmd, int *status);
/* Copy a file. */
int t_copy(const char *from, const char *to);

#endif
