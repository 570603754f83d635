/*
 * Internals of the registry module shared between its .c files.  Only files
 * in registry/ include this; it is the one place hivex.h is included.
 */
#ifndef WINSTATE_REGISTRY_INTERNAL_H
#define WINSTATE_REGISTRY_INTERNAL_H

#include <hivex.h>
#include <stdarg.h>
#include <stdint.h>

#include "formats/formats.h"
#include "registry/registry.h"

#define REGF_BASE_BLOCK 4096u
#define REGF_SECTOR 512u

struct reg_hive {
	hive_h *hx;
	char *src_path;         /* what the caller opened */
	char *tmp_path;         /* private replayed copy, unlinked at close */
	unsigned flags;
	struct reg_replay_report report;
	char errmsg[320];
};

struct reg_hive_set_entry {
	enum reg_hive_kind kind;
	char *sid;
	char *path;
	reg_hive *hive;
	int open_failed;
};

struct reg_hive_set {
	struct reg_hive_set_entry *e;
	size_t n;
	char *current_sid;
	char errmsg[320];
};

void reg_seterr(reg_hive *h, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Read a whole file into memory (*len bytes); NULL + errno on failure. */
uint8_t *reg_read_file(const char *path, size_t *len);
int reg_write_file(const char *path, const uint8_t *buf, size_t len);
/* Find dir/<name> case-insensitively; malloc'd path or NULL. */
char *reg_find_beside(const char *file_path, const char *suffix);
/* Make a private temporary file path (file created, empty). */
char *reg_make_temp(const char *tag);
/* Case-insensitive ASCII/UTF-8 compare (ASCII folding only). */
int reg_strcaseeq(const char *a, const char *b);
char *reg_strdup(const char *s);
char *reg_asprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
