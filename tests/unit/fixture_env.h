/*
 * Shared by the unit tests that read tests/fixtures' fixture.env (the paths
 * and sizes mkfixtures.sh chose, written as shell assignments).  A missing
 * key is a failure: the fixtures are the project's own.
 */
#ifndef WINSTATE_TESTS_FIXTURE_ENV_H
#define WINSTATE_TESTS_FIXTURE_ENV_H

#include <stdio.h>
#include <string.h>

#include <criterion/criterion.h>

/* The value of @key in @file (valid for the next 15 calls).  The file is
 * sourced by the shell, so one layer of quotes is stripped. */
static inline const char *
fixture_env_value(const char *file, const char *key)
{
	static char value[16][4096];
	static int next;
	char line[8192];
	FILE *f = fopen(file, "r");
	size_t klen = strlen(key);

	cr_assert_not_null(f, "%s cannot be read (run `make fixtures`)", file);
	while (fgets(line, sizeof(line), f)) {
		if (strncmp(line, key, klen) || line[klen] != '=')
			continue;
		char *v = line + klen + 1;
		v[strcspn(v, "\n")] = 0;
		size_t vl = strlen(v);
		if (vl >= 2 && (v[0] == '\'' || v[0] == '"') && v[vl - 1] == v[0]) {
			v[vl - 1] = 0;
			v++;
		}
		char *out = value[next++ % 16];
		snprintf(out, sizeof(value[0]), "%s", v);
		fclose(f);
		return out;
	}
	fclose(f);
	cr_assert_fail("%s has no %s", file, key);
	return NULL;
}

#endif
