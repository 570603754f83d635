/* Reading a whole (small) hive the way facts and captures do: every key,
 * every value, formatted.  Bounded, so a fuzzed hive cannot make one input
 * take minutes. */
#ifndef WINSTATE_TESTS_FUZZ_HIVE_WALK_H
#define WINSTATE_TESTS_FUZZ_HIVE_WALK_H

#include <stdlib.h>
#include <string.h>

#include "registry/registry.h"

struct fz_walk {
	unsigned keys, values;
};

static inline int
fz_walk_key(reg_hive *h, reg_key k, const char *path, void *opaque)
{
	struct fz_walk *w = opaque;
	struct reg_value *v = NULL;
	size_t n = 0;

	if (!path || ++w->keys > 2000)
		return 1;
	reg_key_timestamp(h, k);
	if (reg_key_values(h, k, &v, &n) == 0) {
		for (size_t i = 0; i < n && w->values < 20000; i++, w->values++) {
			char *s = reg_value_format(&v[i]);
			free(s);
			if (reg_value_string(&v[i], &s) == 0)
				free(s);
		}
		reg_values_free(v, n);
	}
	return 0;
}

static inline void
fz_walk_hive(reg_hive *h)
{
	struct fz_walk w = { 0 };
	reg_hive_walk(h, reg_hive_root(h), "", fz_walk_key, &w);
}

#endif
