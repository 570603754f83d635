/*
 * libFuzzer target: a fuzzed hive file opened as winstate opens hives
 * (replay when dirty: no logs here, so a dirty hive is reported, not
 * repaired), every key and value read, and a few lookups and pattern
 * matches like the ones facts and rules make.
 */
#include "tests/fuzz/fuzz_common.h"
#include "tests/fuzz/hive_walk.h"

static int
count_match(reg_hive *h, const char *key_path, reg_key k, const struct reg_value *value,
	    void *opaque)
{
	(void)h;
	(void)k;
	(void)value;
	(void)key_path;
	return ++*(unsigned *)opaque > 1000;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *path = fz_path("hive");
	int err;
	char msg[320];

	fz_write_file(path, data, size);
	reg_hive *h = reg_hive_open(path, 0, &err, msg, sizeof(msg));
	if (!h)
		return 0;
	fz_walk_hive(h);
	struct reg_value v;
	if (reg_hive_get_value(h, "Software\\Microsoft\\Windows NT\\CurrentVersion", "ProductName",
			      &v) == 0)
		reg_value_clear(&v);
	unsigned n = 0;
	reg_hive_match(h, "Software\\* [*]", count_match, &n);
	reg_hive_close(h);
	return 0;
}
