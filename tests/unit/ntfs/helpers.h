/*
 * Test helpers for ntfs/: scratch folders, shell commands, fresh NTFS volumes
 * made with mkntfs, and the ntfs-3g FUSE driver as an independent reader and
 * writer to check our code against.
 */
#ifndef WINSTATE_TEST_NTFS_HELPERS_H
#define WINSTATE_TEST_NTFS_HELPERS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A fresh scratch folder under $TMPDIR, removed by scratch_done. */
char *scratch_dir(void);
void scratch_done(char *dir);

/* Run a shell command built like printf; returns its exit status. */
int sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Run a command and return its standard output (NUL-terminated), *len bytes. */
uint8_t *sh_output(size_t *len, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* A new empty NTFS volume image of @mib MiB at @path (mkntfs --fast). */
void make_volume(const char *path, int mib);
/* Mount @image with the ntfs-3g driver at @mnt (read-only if @ro). */
void fuse_mount(const char *image, const char *mnt, bool ro);
void fuse_umount(const char *mnt);
/* getfattr --only-values of an attribute through FUSE, NULL when absent. */
uint8_t *fuse_xattr(const char *path, const char *name, size_t *len);

/* $WS_FIXTURES/name, or NULL (and the test is skipped) when not built. */
const char *fixture(const char *name);
/* A value from $WS_FIXTURES/fixture.env; the test is skipped without it. */
const char *fixture_env(const char *key);
/* $WS_SHARED/rel, or NULL when shared/ is absent (the caller skips). */
char *shared_path(const char *rel);

/* SHA-256 of a file, hex. */
char *sha256_file(const char *path);

#endif
