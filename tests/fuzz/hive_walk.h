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
fz_walk_key(ws_hive *h, ws_key k, const char *path, void *opaque)
{
	struct fz_walk *w = opaque;
	struct ws_reg_value *v = NULL;
	size_t n = 0;

	if (!path || ++w->keys > 2000)
		return 1;
	ws_key_timestamp(h, k);
	if (ws_key_values(h, k, &v, &n) == 0) {
		for (size_t i = 0; i < n && w->values < 20000; i++, w->values++) {
			char *s = ws_reg_value_format(&v[i]);
			free(s);
			if (ws_reg_value_string(&v[i], &s) == 0)
				free(s);
		}
		ws_reg_values_free(v, n);
	}
	return 0;
}

static inline void
fz_walk_hive(ws_hive *h)
{
	struct fz_walk w = { 0 };
	ws_hive_walk(h, ws_hive_root(h), "", fz_walk_key, &w);
}

#endif
