/*
 * Helper functions evaluated through the host callbacks (on a PE built by
 * tests/unit/pe_build.h): DoesFileVersionMatch, registry
 * string content (GetStringContent in <environment>), content filters
 * (ExtractSingleFile) and the OS / architecture conditions.
 */
#include <criterion/criterion.h>
#include <stdint.h>
#include <stdio.h>

#include "tests/unit/rules/common.h"

#include "tests/unit/pe_build.h"

/* ---- a host with one PE file and a few registry values */

static unsigned char the_pe[4096];
static size_t the_pe_len;

static int
h_file_exists(void *o, const char *p, int *is_dir)
{
	(void)o;
	int r = !strcasecmp(p, "C:\\Program Files\\Contoso\\writer.exe") ||
		!strcasecmp(p, "C:\\Program Files\\Contoso") ||
		!strcasecmp(p, "C:\\Users\\alice\\Documents\\custom.dic");
	if (r && is_dir)
		*is_dir = !strchr(strrchr(p, '\\'), '.');
	return r;
}

static int
h_file_read(void *o, const char *p, size_t max, unsigned char **d, size_t *len)
{
	(void)o;
	if (strcasecmp(p, "C:\\Program Files\\Contoso\\writer.exe"))
		return -1;
	*len = the_pe_len < max ? the_pe_len : max;
	*d = malloc(*len);
	memcpy(*d, the_pe, *len);
	return 0;
}

static unsigned char *
utf16(const char *s, size_t *len)
{
	size_t n = strlen(s);
	unsigned char *d = malloc(2 * n + 2);
	for (size_t i = 0; i <= n; i++) {
		d[2 * i] = (unsigned char)s[i];
		d[2 * i + 1] = 0;
	}
	*len = 2 * n + 2;
	return d;
}

static int
h_reg_read(void *o, const char *k, const char *v, unsigned *type, unsigned char **d, size_t *len)
{
	(void)o;
	if (!strcasecmp(k, "HKLM\\SOFTWARE\\Contoso\\Writer") && !strcasecmp(v, "InstallDir")) {
		*type = MIG_REG_SZ;
		*d = utf16("C:\\Program Files\\Contoso", len);
		return 0;
	}
	if (!strcasecmp(k, "HKCU\\Software\\Contoso\\Writer") && !strcasecmp(v, "Dictionary")) {
		*type = MIG_REG_EXPAND_SZ;
		*d = utf16("%USERPROFILE%\\Documents\\custom.dic", len);
		return 0;
	}
	return -1;
}

static int
h_reg_exists(void *o, const char *k, const char *v)
{
	unsigned t;
	unsigned char *d;
	size_t l;
	if (!v)
		return !strncasecmp(k, "HKLM\\SOFTWARE\\Contoso", 21);
	int r = h_reg_read(o, k, v, &t, &d, &l) == 0;
	if (r)
		free(d);
	return r;
}

static int
h_os(void *o, unsigned *ma, unsigned *mi, unsigned *bu)
{
	(void)o;
	*ma = 10;
	*mi = 0;
	*bu = 19045;
	return 0;
}

static const struct mig_rules_host host = {
	.file_exists = h_file_exists, .reg_exists = h_reg_exists, .reg_read = h_reg_read,
	.file_read = h_file_read, .os_version = h_os, .is_native_64bit = is64,
};

static const char app_xml[] =
	"<migration urlid=\"t\">\n"
	"<component type=\"Application\" context=\"UserAndSystem\">\n"
	"<displayName>Contoso Writer</displayName>\n"
	"<environment><variable name=\"WriterDir\">\n"
	"<script>MigXmlHelper.GetStringContent(\"Registry\",\"HKLM\\SOFTWARE\\Contoso\\Writer [InstallDir]\")</script>\n"
	"</variable></environment>\n"
	"<role role=\"Settings\">\n"
	"<detection><conditions>\n"
	"<condition>MigXmlHelper.DoesFileVersionMatch(\"%WriterDir%\\writer.exe\",\"FileVersion\",\"16.*\")</condition>\n"
	"<condition>MigXmlHelper.IsOSLaterThan(\"NT\",\"6.1\")</condition>\n"
	"<condition>MigXmlHelper.DoesOSMatch(\"NT\",\"10.0.*\")</condition>\n"
	"<condition>MigXmlHelper.DoesStringContentContain(\"Registry\",\"HKLM\\SOFTWARE\\Contoso\\Writer [InstallDir]\",\"contoso\")</condition>\n"
	"<condition negation=\"Yes\">MigXmlHelper.IsOSEarlierThan(\"NT\",\"6.1\")</condition>\n"
	"</conditions></detection>\n"
	"<rules context=\"User\">\n"
	"<include><objectSet>\n"
	"<pattern type=\"Registry\">HKCU\\Software\\Contoso\\Writer\\* [*]</pattern>\n"
	"<content filter=\"MigXmlHelper.ExtractSingleFile(NULL,NULL)\"><objectSet>\n"
	"<pattern type=\"Registry\">HKCU\\Software\\Contoso\\Writer [Dictionary]</pattern>\n"
	"</objectSet></content>\n"
	"</objectSet></include>\n"
	"</rules>\n"
	"<rules context=\"System\"><include><objectSet>\n"
	"<pattern type=\"File\">%WriterDir%\\Templates\\* [*]</pattern>\n"
	"</objectSet></include></rules>\n"
	"</role></component></migration>\n";

static mig_matcher *
build_app(const char *xml, enum mig_ctx ctx, const struct mig_rules_host *h)
{
	mig_ruleset *rs = mig_ruleset_new();
	mig_diags *d = mig_diags_new();
	cr_assert_eq(mig_ruleset_load_memory(rs, "app.xml", xml, strlen(xml), d), 0, "%s",
		mig_diags_first(d, 0));
	mig_vars *v = mig_vars_new();
	mig_vars_default_user(v, "C:", "alice", NULL, NULL);
	mig_matcher *m;
	mig_matcher_build(rs, NULL, ctx, v, h, 0, &m, d);
	mig_vars_free(v);
	mig_diags_free(d);
	mig_ruleset_free(rs);
	return m;
}

Test(rules_helpers, detection_and_content_through_host)
{
	the_pe_len = pe_build_sample(the_pe);
	mig_matcher *m = build_app(app_xml, MIG_CTX_USER, &host);
	struct mig_decision d;
	mig_matcher_decide(m, MIG_OBJ_REGISTRY, "HKCU\\Software\\Contoso\\Writer\\Options", "Font", &d);
	cr_expect_eq(d.outcome, MIG_INCLUDED);
	/* ExtractSingleFile turned the registry value into a file pattern */
	mig_matcher_decide(m, MIG_OBJ_FILE, "C:\\Users\\alice\\Documents", "custom.dic", &d);
	cr_expect_eq(d.outcome, MIG_INCLUDED);
	mig_matcher_decide(m, MIG_OBJ_FILE, "C:\\Users\\alice\\Documents", "other.dic", &d);
	cr_expect_eq(d.outcome, MIG_NOT_SELECTED);
	mig_matcher_free(m);
	m = build_app(app_xml, MIG_CTX_SYSTEM, &host);
	mig_matcher_decide(m, MIG_OBJ_FILE, "C:\\Program Files\\Contoso\\Templates", "a.dot", &d);
	cr_expect_eq(d.outcome, MIG_INCLUDED);
	mig_matcher_free(m);
}

Test(rules_helpers, version_mismatch_means_not_installed)
{
	the_pe_len = pe_build_sample(the_pe);
	char *xml = strdup(app_xml);
	char *p = strstr(xml, "\"16.*\"");
	memcpy(p, "\"15.*\"", 6);
	mig_matcher *m = build_app(xml, MIG_CTX_USER, &host);
	struct mig_decision d;
	mig_matcher_decide(m, MIG_OBJ_REGISTRY, "HKCU\\Software\\Contoso\\Writer\\Options", "Font", &d);
	cr_expect_eq(d.outcome, MIG_NOT_SELECTED);
	mig_matcher_free(m);
	free(xml);
	/* no host at all: nothing is installed */
	m = build_app(app_xml, MIG_CTX_USER, NULL);
	mig_matcher_decide(m, MIG_OBJ_REGISTRY, "HKCU\\Software\\Contoso\\Writer\\Options", "Font", &d);
	cr_expect_eq(d.outcome, MIG_NOT_SELECTED);
	mig_matcher_free(m);
}

Test(rules_helpers, generators)
{
	const char *xml = "<migration urlid=\"g\"><component type=\"Documents\" context=\"System\">"
		"<displayName>G</displayName><role role=\"Data\"><rules><include><objectSet>"
		"<script>MigXmlHelper.GenerateDrivePatterns(\"* [*.pst]\", \"Fixed\")</script>"
		"<script>MigXmlHelper.GenerateDrivePatterns(\"\\Share\\* [*]\", \"Fixed\")</script>"
		"<script>MigXmlHelper.GenerateDrivePatterns(\"* [*.iso]\", \"CDROM\")</script>"
		"</objectSet></include></rules></role>"
		"<extensions><extension>*.qbw</extension></extensions></component></migration>";
	mig_ruleset *rs = mig_ruleset_new();
	cr_assert_eq(mig_ruleset_load_memory(rs, "g.xml", xml, strlen(xml), NULL), 0);
	mig_vars *v = mig_vars_new();
	mig_vars_default_system(v, "C:");
	mig_vars_set(v, "WS_FIXED_DRIVES", "C:;E:");
	mig_matcher *m;
	mig_matcher_build(rs, NULL, MIG_CTX_SYSTEM, v, NULL, 0, &m, NULL);
	struct mig_decision d;
	mig_matcher_decide(m, MIG_OBJ_FILE, "E:\\Old\\Mail", "a.PST", &d);
	cr_expect_eq(d.outcome, MIG_INCLUDED);
	mig_matcher_decide(m, MIG_OBJ_FILE, "F:\\Old", "a.pst", &d);
	cr_expect_eq(d.outcome, MIG_NOT_SELECTED);
	mig_matcher_decide(m, MIG_OBJ_FILE, "C:\\Share\\x", "y.bin", &d);
	cr_expect_eq(d.outcome, MIG_INCLUDED);
	mig_matcher_decide(m, MIG_OBJ_FILE, "C:\\x", "disc.iso", &d);
	cr_expect_eq(d.outcome, MIG_NOT_SELECTED);
	mig_matcher_decide(m, MIG_OBJ_FILE, "E:\\Books", "co.QBW", &d);
	cr_expect_eq(d.outcome, MIG_INCLUDED);
	mig_matcher_free(m);
	mig_vars_free(v);
	mig_ruleset_free(rs);
}

Test(rules_helpers, genconfig_roundtrip)
{
	char path[4096];
	if (!shared_xml("MigApp.xml", path, sizeof(path)))
		cr_skip_test("WS_SHARED/usmt-xml not found (set WS_SHARED)");
	mig_ruleset *rs = mig_ruleset_new();
	cr_assert_eq(mig_ruleset_load(rs, path, NULL), 0);
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	cr_assert_eq(mig_genconfig_write(rs, f), 0);
	fclose(f);
	cr_expect(strstr(text, "<Applications>") != NULL);
	cr_expect(strstr(text, "displayname=\"Google Chrome\"") != NULL);
	/* what we write, we read back with no diagnostics, all enabled */
	mig_diags *d = mig_diags_new();
	mig_config *c = mig_config_load_memory("gen.xml", text, len, d);
	cr_assert_not_null(c);
	cr_expect_eq(mig_diags_count(d), 0);
	size_t listed = 0;
	for (size_t i = 0; i < mig_ruleset_component_count(rs); i++) {
		const struct mig_component_info *ci = mig_ruleset_component(rs, i);
		if (!ci->hidden)
			listed += mig_config_component_enabled(c, ci->id, NULL) == 1;
	}
	cr_expect_gt(listed, 50);
	mig_config_free(c);
	mig_diags_free(d);
	free(text);
	mig_ruleset_free(rs);
}
