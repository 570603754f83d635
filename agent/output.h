/*
 * Small shared helpers for what commands print: JSON strings, sizes, times
 * and attribute letters, so every command spells them the same way.
 */
#ifndef WINSTATE_AGENT_OUTPUT_H
#define WINSTATE_AGENT_OUTPUT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* Write @s as a JSON string literal (quotes included). */
void json_string(FILE *out, const char *s);
/* Write @len bytes as a lowercase hex JSON string. */
void json_hex(FILE *out, const uint8_t *data, size_t len);
/* "1.5 GiB", "512 B" into @buf. */
const char *human_size(uint64_t bytes, char *buf, size_t len);
/* NTFS time (100 ns since 1601) as "YYYY-MM-DD HH:MM:SS" UTC, or "-" for 0. */
const char *ntfs_time_text(uint64_t t, char *buf, size_t len);
/* ISO 8601 with 100 ns precision, for JSON. */
const char *ntfs_time_iso(uint64_t t, char *buf, size_t len);
/* Windows attribute letters: R H S A D C E P L O T N (and - for unset). */
const char *attribute_letters(uint32_t attributes, char *buf, size_t len);

#endif
