/*
 * PE version resources (formats/pe.c) on a PE built by tests/unit/pe_build.h:
 * string-table values, the fixed-info fallback, and damaged input.
 */
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "formats/formats.h"
#include "tests/unit/pe_build.h"

Test(formats_pe, version_strings)
{
	unsigned char pe[4096];
	size_t n = pe_build_sample(pe);
	char *s = fmt_pe_version_string(pe, n, "CompanyName");
	cr_expect_str_eq(s, "Contoso Ltd.");
	free(s);
	s = fmt_pe_version_string(pe, n, "productversion");
	cr_expect_str_eq(s, "16.0.1.2");
	free(s);
	s = fmt_pe_version_string(pe, n, "FileVersion");   /* from VS_FIXEDFILEINFO */
	cr_expect_str_eq(s, "16.0.4266.1003");
	free(s);
	cr_expect_null(fmt_pe_version_string(pe, n, "LegalCopyright"));
	/* truncated or garbage input never crashes */
	for (size_t k = 0; k < n; k += 7) {
		free(fmt_pe_version_string(pe, k, "CompanyName"));
		unsigned char c[4096];
		memcpy(c, pe, n);
		c[k] ^= 0xFF;
		free(fmt_pe_version_string(c, n, "ProductName"));
	}
}


Test(formats_pe, not_a_pe_or_no_resource)
{
	uint8_t pe[4096];
	size_t n = pe_build_sample(pe);
	cr_expect_null(fmt_pe_version_string(NULL, n, "CompanyName"));
	cr_expect_null(fmt_pe_version_string(pe, n, NULL));
	/* The resource directory's RVA outside every section. */
	uint8_t c[4096];
	memcpy(c, pe, n);
	fmt_put_le32(c + 0x58 + 96 + 16, 0x9000);
	cr_expect_null(fmt_pe_version_string(c, n, "CompanyName"));
	/* The NT header offset past the end. */
	memcpy(c, pe, n);
	fmt_put_le32(c + 0x3C, 0xFFFFFFF0u);
	cr_expect_null(fmt_pe_version_string(c, n, "CompanyName"));
	/* A string value of blanks only falls back like a missing one. */
	memcpy(c, pe, n);
	uint8_t *v = memmem(c, n, "1\0" "6\0" ",\0" " \0" "0\0", 10);
	cr_assert_not_null(v);
	for (int i = 0; i < 11; i++)
		fmt_put_le16(v + 2 * i, ' ');
	char *s = fmt_pe_version_string(c, n, "ProductVersion");
	cr_expect_str_eq(s, "16.0.0.0", "from VS_FIXEDFILEINFO");
	free(s);
}
