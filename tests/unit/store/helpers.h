/*
 * Test helpers for store/: scratch folders, shell commands, deterministic
 * file contents, and a writer/reader shorthand.
 */
#ifndef WINSTATE_TEST_STORE_HELPERS_H
#define WINSTATE_TEST_STORE_HELPERS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store/store.h"

char *scratch_dir(void);
void scratch_done(char *dir);
int sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
char *sh_output(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* @len bytes of content number @seed: random when @text is false, else
 * compressible text.  Same arguments, same bytes. */
uint8_t *content(uint64_t seed, size_t len, bool text);

/* Write @len bytes of content(seed) into the writer in chunks of @chunk. */
void feed(struct st_writer *w, uint64_t seed, size_t len, bool text, size_t chunk);

/* Read a file's stream through the reader into memory (checksum verified). */
enum st_status slurp(struct st_reader *r, size_t index, size_t stream, uint8_t **data, size_t *len);

/* Read/modify bytes of a file on disk. */
uint64_t file_size(const char *path);
void flip_byte(const char *path, uint64_t offset);
uint8_t *read_whole(const char *path, size_t *len);
void write_whole(const char *path, const void *data, size_t len);

/* Simple file metadata for tests. */
struct st_file test_file(const char *path, uint64_t source_id);

/* Make @parent/h a directory store holding only @catalog (bytes as written
 * by catalog_serialize, maybe altered) and open it: what a reader says. */
enum st_status open_catalog_bytes(const char *parent, const void *catalog, size_t len);

#endif
