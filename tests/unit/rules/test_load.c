/* Loading: the stock files, Config.xml, and hostile or broken input. */
#include <criterion/criterion.h>
#include <stdio.h>

#include "tests/unit/rules/common.h"

static void
expect_clean(const char *name)
{
	char path[4096];
	if (!shared_xml(name, path, sizeof(path)))
		cr_skip_test("WS_SHARED/usmt-xml/%s not found (set WS_SHARED)", name);
	mig_diags *d = mig_diags_new();
	mig_ruleset *rs = mig_ruleset_new();
	int r = mig_ruleset_load(rs, path, d);
	mig_diags_print(d, stderr, MIG_DIAG_UNSUPPORTED);
	cr_expect_eq(r, 0, "%s must load", name);
	cr_expect_eq(mig_diags_count_level(d, MIG_DIAG_UNSUPPORTED), 0);
	cr_expect_eq(mig_diags_count_level(d, MIG_DIAG_ERROR), 0);
	cr_expect_eq(mig_diags_count_level(d, MIG_DIAG_WARNING), 0);
	cr_expect_gt(mig_ruleset_component_count(rs), 1);
	mig_ruleset_free(rs);
	mig_diags_free(d);
}

Test(rules_load, migdocs_clean) { expect_clean("MigDocs.xml"); }
Test(rules_load, miguser_clean) { expect_clean("MigUser.xml"); }
Test(rules_load, migapp_clean) { expect_clean("MigApp.xml"); }

Test(rules_load, migapp_component_ids)
{
	char path[4096];
	if (!shared_xml("MigDocs.xml", path, sizeof(path)))
		cr_skip_test("WS_SHARED/usmt-xml not found");
	mig_ruleset *rs = mig_ruleset_new();
	cr_assert_eq(mig_ruleset_load(rs, path, NULL), 0);
	cr_assert_eq(mig_ruleset_component_count(rs), 2);
	/* the ID format of Config.xml: <urlid>/<lower(displayName)>/<lower(role)> */
	cr_expect_str_eq(mig_ruleset_component(rs, 1)->id,
		"http://www.microsoft.com/migration/1.0/migxmlext/migdocs/migdocuser/data");
	mig_ruleset_free(rs);
}

static void
expect_config_clean(const char *name)
{
	char path[4096];
	if (!shared_xml(name, path, sizeof(path)))
		cr_skip_test("WS_SHARED/usmt-xml/%s not found (set WS_SHARED)", name);
	mig_diags *d = mig_diags_new();
	mig_config *c = mig_config_load(path, d);
	mig_diags_print(d, stderr, MIG_DIAG_NOTE);
	cr_expect_not_null(c);
	cr_expect_eq(mig_diags_count(d), 0);
	cr_expect_eq(mig_config_component_enabled(c,
		"http://www.microsoft.com/migration/1.0/migxmlext/cmi/microsoft-windows-audio-volumecontrol/microsoft-windows-audio-volumecontrol/settings",
		NULL), 1);
	cr_expect_eq(mig_config_component_enabled(c, "no/such/component", NULL), -1);
	mig_config_free(c);
	mig_diags_free(d);
}

Test(rules_config, config_clean) { expect_config_clean("Config.xml"); }
Test(rules_config, genconfig_plain_clean) { expect_config_clean("Config_genconfig_plain.xml"); }

Test(rules_config, migrate_no_disables_component_and_children)
{
	const char *x = "<Configuration><Documents>"
		"<component displayname=\"G\" migrate=\"no\" ID=\"grp\">"
		"<component displayname=\"C\" migrate=\"yes\" ID=\"u/c/data\"/></component>"
		"<component displayname=\"D\" migrate=\"yes\" ID=\"u/d/data\"/>"
		"</Documents><Policies><ErrorControl><fileError>"
		"<nonFatal errorCode=\"33\">* [*]</nonFatal><fatal errorCode=\"any\">C:\\Users\\* [*]</fatal>"
		"</fileError></ErrorControl><HardLinkStoreControl><fileLocked>"
		"<createHardLink>c:\\Users\\* [*]</createHardLink><errorHardLink>C:\\* [*]</errorHardLink>"
		"</fileLocked></HardLinkStoreControl></Policies>"
		"<ProfileControl><users><user from=\"A\\x\" to=\"B\\x\"/></users></ProfileControl>"
		"</Configuration>";
	mig_diags *d = mig_diags_new();
	mig_config *c = mig_config_load_memory("mem.xml", x, strlen(x), d);
	cr_assert_not_null(c);
	cr_expect_eq(mig_config_component_enabled(c, "U/C/DATA", NULL), 0);
	cr_expect_eq(mig_config_component_enabled(c, "u/d/data", NULL), 1);
	cr_expect_eq(mig_config_error_action(c, MIG_OBJ_FILE, "C:\\Data", "a.txt", 33), MIG_ERR_NONFATAL);
	cr_expect_eq(mig_config_error_action(c, MIG_OBJ_FILE, "C:\\Users\\bob", "a.txt", 5), MIG_ERR_FATAL);
	cr_expect_eq(mig_config_error_action(c, MIG_OBJ_FILE, "D:\\x", "a.txt", 5), MIG_ERR_DEFAULT);
	cr_expect_eq(mig_config_hardlink_action(c, "C:\\USERS\\bob", "x.ost"), MIG_HL_CREATE);
	cr_expect_eq(mig_config_hardlink_action(c, "C:\\Data", "x.ost"), MIG_HL_ERROR);
	const char *f, *t;
	cr_expect_eq(mig_config_user_mapping(c, 0, &f, &t), 0);
	cr_expect_str_eq(t, "B\\x");
	mig_config_free(c);
	mig_diags_free(d);
}

/* ------------------------------------------------------------- bad input */

static const struct mig_diag *
load_bad(const char *xml, mig_diags *d, int *rc)
{
	mig_ruleset *rs = mig_ruleset_new();
	*rc = mig_ruleset_load_memory(rs, "bad.xml", xml, strlen(xml), d);
	mig_ruleset_free(rs);
	for (size_t i = 0; i < mig_diags_count(d); i++)
		if (mig_diags_get(d, i)->level >= MIG_DIAG_UNSUPPORTED)
			return mig_diags_get(d, i);
	return NULL;
}

#define HEAD "<?xml version=\"1.0\"?>\n<migration urlid=\"http://x/t\">\n"
#define COMP(body) "<component type=\"Documents\" context=\"User\">\n<displayName>T</displayName>\n" \
	"<role role=\"Data\">\n<rules>\n" body "</rules>\n</role>\n</component>\n</migration>\n"

static void
expect_bad(const char *xml, int want_rc, enum mig_diag_level lvl, unsigned line, const char *needle)
{
	mig_diags *d = mig_diags_new();
	int rc;
	const struct mig_diag *g = load_bad(xml, d, &rc);
	mig_diags_print(d, stderr, MIG_DIAG_NOTE);
	cr_assert_not_null(g, "a diagnostic is expected");
	cr_expect_eq(rc, want_rc);
	cr_expect_eq(g->level, lvl);
	cr_expect_str_eq(g->file, "bad.xml");
	cr_expect_eq(g->line, line, "line %u, want %u (%s)", g->line, line, g->msg);
	cr_expect(strstr(g->msg, needle) != NULL, "'%s' should mention '%s'", g->msg, needle);
	mig_diags_free(d);
}

Test(rules_bad, malformed_xml)
{
	expect_bad(HEAD "<component type=\"Documents\">\n<displayName>x</displayName>\n</migration>\n",
		-1, MIG_DIAG_ERROR, 6, "malformed XML");
}

Test(rules_bad, unknown_element)
{
	expect_bad(HEAD COMP("<include><objectSet>\n<bogus/>\n</objectSet></include>\n"), 0,
		MIG_DIAG_UNSUPPORTED, 8, "unknown element <bogus>");
}

Test(rules_bad, unknown_helper)
{
	expect_bad(HEAD COMP("<include><objectSet>\n<script>MigXmlHelper.MakeCoffee(\"x\")</script>\n"
		"</objectSet></include>\n"), -1, MIG_DIAG_ERROR, 8, "unknown helper function");
}

Test(rules_bad, wrong_argument_count)
{
	expect_bad(HEAD COMP("<conditions>\n<condition>MigXmlHelper.DoesObjectExist(\"File\")</condition>\n"
		"</conditions><include><objectSet><pattern type=\"File\">C:\\x\\* [*]</pattern></objectSet></include>\n"),
		-1, MIG_DIAG_ERROR, 8, "takes 2 arguments, 1 given");
	expect_bad(HEAD COMP("<conditions>\n<condition>MigXmlHelper.IsNative64Bit('x')</condition>\n"
		"</conditions>\n"), -1, MIG_DIAG_ERROR, 8, "takes 0 arguments, 1 given");
}

Test(rules_bad, helper_in_wrong_place)
{
	expect_bad(HEAD COMP("<merge script=\"MigXmlHelper.RelativeMove('a','b')\">\n"
		"<objectSet><pattern type=\"File\">C:\\x [*]</pattern></objectSet></merge>\n"),
		-1, MIG_DIAG_ERROR, 7, "cannot be used in a <merge script>");
}

Test(rules_bad, bad_pattern_brackets)
{
	expect_bad(HEAD COMP("<include><objectSet>\n<pattern type=\"File\">C:\\x [a] b</pattern>\n"
		"</objectSet></include>\n"), -1, MIG_DIAG_ERROR, 8, "bad location");
}

Test(rules_bad, xxe_refused)
{
	expect_bad("<?xml version=\"1.0\"?>\n<!DOCTYPE migration [\n<!ENTITY x SYSTEM \"file:///etc/passwd\">\n]>\n"
		"<migration urlid=\"u\">&x;</migration>\n", -1, MIG_DIAG_ERROR, 2, "DOCTYPE");
}

Test(rules_bad, entity_bomb_refused)
{
	expect_bad("<?xml version=\"1.0\"?>\n<!DOCTYPE lolz [\n<!ENTITY a \"lollollollol\">\n"
		"<!ENTITY b \"&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;\">\n<!ENTITY c \"&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;\">\n"
		"<!ENTITY d \"&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;\">\n]>\n<migration urlid=\"&d;\"/>\n",
		-1, MIG_DIAG_ERROR, 2, "DOCTYPE");
	/* an ENTITY without DOCTYPE is refused too */
	expect_bad("<?xml version=\"1.0\"?>\n<migration urlid=\"u\">\n<!ENTITY a \"x\">\n</migration>\n",
		-1, MIG_DIAG_ERROR, 3, "ENTITY");
}

Test(rules_bad, utf16_doctype_refused)
{
	const char x[] = "\xff\xfe<\0!\0D\0O\0C\0T\0Y\0P\0E\0 \0x\0>\0";
	mig_diags *d = mig_diags_new();
	mig_ruleset *rs = mig_ruleset_new();
	cr_expect_eq(mig_ruleset_load_memory(rs, "bad.xml", x, sizeof(x) - 1, d), -1);
	cr_expect(strstr(mig_diags_first(d, MIG_DIAG_ERROR), "DOCTYPE") != NULL);
	mig_ruleset_free(rs);
	mig_diags_free(d);
}

Test(rules_bad, wrong_root_and_missing_file)
{
	expect_bad("<Configuration/>", -1, MIG_DIAG_ERROR, 1, "Config.xml");
	mig_diags *d = mig_diags_new();
	mig_ruleset *rs = mig_ruleset_new();
	cr_expect_eq(mig_ruleset_load(rs, "/nonexistent/x.xml", d), -1);
	cr_expect(strstr(mig_diags_first(d, MIG_DIAG_ERROR), "cannot open") != NULL);
	mig_ruleset_free(rs);
	mig_diags_free(d);
}

Test(rules_bad, unsupported_constructs_are_named)
{
	expect_bad(HEAD COMP("<externalProcess when=\"post-apply\">\n<commandLine>logoff</commandLine>"
		"</externalProcess>\n"), 0, MIG_DIAG_UNSUPPORTED, 7, "externalProcess");
	expect_bad(HEAD COMP("<include foo=\"1\">\n<objectSet/></include>\n"), 0,
		MIG_DIAG_UNSUPPORTED, 7, "unknown attribute foo=");
}

Test(rules_load, default_rules_clean)
{
	if (access("rules/xml/winstate-default.xml", R_OK) != 0)
		cr_assert_fail("rules/xml/winstate-default.xml not found: run from the repository root");
	mig_diags *d = mig_diags_new();
	mig_ruleset *rs = mig_ruleset_new();
	cr_assert_eq(mig_ruleset_load(rs, "rules/xml/winstate-default.xml", d), 0);
	cr_expect_eq(mig_diags_count(d), 0);
	cr_expect_geq(mig_ruleset_component_count(rs), 10);
	char *p[8];
	setenv("WINSTATE_RULES_DIR", "rules/xml", 1);
	size_t n = mig_rules_default_paths(p, 8);
	cr_expect_geq(n, 1);
	for (size_t i = 0; i < n; i++)
		free(p[i]);
	unsetenv("WINSTATE_RULES_DIR");
	mig_ruleset_free(rs);
	mig_diags_free(d);
}
