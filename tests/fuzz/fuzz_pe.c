/*
 * libFuzzer target: a PE file's version resource, as MigXML's
 * DoesFileVersionMatch reads it from an untrusted volume
 * (fmt_pe_version_string).
 *
 * What must hold beyond "no crash": a value is never empty, has no white
 * space at either end, and is UTF-8 formats itself reads back (WTF-8 for a
 * lone surrogate); the tag's case does not matter.
 */
#include <ctype.h>

#include "tests/fuzz/fuzz_common.h"

#include "formats/formats.h"

static void
check_value(char *v)
{
	if (!v)
		return;
	size_t n = strlen(v);
	if (!n || isspace((unsigned char)v[0]) || isspace((unsigned char)v[n - 1]))
		abort();
	uint16_t *u;
	if (fmt_utf8_to_utf16(v, &u) < 0)
		abort();
	free(u);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *pe;
	if (!fz_copy(data, size, &pe))
		return 0;
	static const char *const tags[][2] = {
		{ "CompanyName", "COMPANYNAME" },
		{ "ProductName", "productname" },
		{ "FileVersion", "fileversion" },
		{ "ProductVersion", "PRODUCTVERSION" },
	};
	for (size_t i = 0; i < sizeof(tags) / sizeof(tags[0]); i++) {
		char *a = fmt_pe_version_string(pe, size, tags[i][0]);
		char *b = fmt_pe_version_string(pe, size, tags[i][1]);
		check_value(a);
		if ((a == NULL) != (b == NULL) || (a && strcmp(a, b)))
			abort();
		free(a);
		free(b);
	}
	free(pe);
	return 0;
}
