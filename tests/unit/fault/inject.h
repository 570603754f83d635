/*
 * Fault injection for tests/unit/fault: the test binary is linked with
 * -Wl,--wrap for the I/O and allocation calls below (Makefile:
 * LDFLAGS_unit_fault), so every such call made by winstate's own code
 * (store/, ntfs/, registry/, rules/ — statically linked) goes through
 * inject.c first.  Product builds are untouched: there is no hook in the
 * modules themselves.  Calls made inside shared libraries (libntfs-3g's own
 * I/O goes through ntfs/volume.c's device, so it *is* seen; zstd's and
 * hivex's allocations are not) are not counted.  Two calls of ntfs/ itself
 * are wrapped too (nv_set_security, nv_truncate), so that a test can make the
 * one call it means fail, as libntfs-3g's would on a failed write.
 */
#ifndef WINSTATE_TESTS_FAULT_INJECT_H
#define WINSTATE_TESTS_FAULT_INJECT_H

#include <stdbool.h>

enum fault_kind {
	FAULT_WRITE,   /* write, pwrite, ftruncate */
	FAULT_SYNC,    /* fsync, fdatasync, syncfs */
	FAULT_RENAME,  /* rename, link */
	FAULT_READ,    /* read, pread */
	FAULT_ALLOC,   /* malloc, calloc, realloc, strdup, strndup, asprintf, vasprintf,
			* open_memstream */
	FAULT_SET_SECURITY, /* nv_set_security returns NV_ERR_IO */
	FAULT_TRUNCATE,     /* nv_truncate returns NV_ERR_IO */
	FAULT_KINDS
};

/* Stop failing and counting; counts back to zero. */
void fault_reset(void);
/* Count calls from now on, failing none. */
void fault_count(void);
/* Count calls from now on and fail the @nth (1-based) call of @kind with
 * errno @err (allocations return NULL with ENOMEM); when @sticky, every later
 * call of that kind fails too (a full disk stays full). */
void fault_arm(enum fault_kind kind, unsigned long nth, int err, bool sticky);
/* Reads of fewer than @bytes are neither counted nor failed (until
 * fault_reset): aims the faults at file data rather than NTFS metadata. */
void fault_read_min(size_t bytes);
/* Reads (and writes) succeed but move at most half the bytes asked for. */
void fault_short_io(bool on);
/* Calls of @kind seen since the last fault_count/fault_arm. */
unsigned long fault_calls(enum fault_kind kind);
/* Whether the armed fault fired, and how many renames had succeeded before it. */
bool fault_fired(void);
unsigned long fault_renames_before(void);
const char *fault_kind_name(enum fault_kind kind);

#endif
