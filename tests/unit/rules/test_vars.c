/*
 * The variable resolver (defaults, hive values, fallbacks, Windows versions),
 * patterns whose variable is undefined, and rule files with the same urlid.
 */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "rules/rules.h"

#define F MIG_OBJ_FILE

struct seen {
	char names[64][64];
	char unusable[64][128];
	size_t n;
};

static void
note(void *ctx, const char *name, const char *value, const char *unusable)
{
	struct seen *s = ctx;
	cr_assert_not_null(value);
	if (s->n < 64) {
		snprintf(s->names[s->n], sizeof(s->names[0]), "%s", name);
		snprintf(s->unusable[s->n], sizeof(s->unusable[0]), "%s", unusable ? unusable : "");
		s->n++;
	}
}

static bool
noted(const struct seen *s, const char *name)
{
	for (size_t i = 0; i < s->n; i++)
		if (!strcmp(s->names[i], name))
			return true;
	return false;
}

Test(rules_resolver, hive_values_carry_into_derived_variables)
{
	mig_vars *stated = mig_vars_new();
	mig_vars_set(stated, "SYSTEMROOT", "%SystemDrive%\\WINNT");
	mig_vars_set(stated, "PROFILESFOLDER", "%SystemDrive%\\Profiles");
	mig_vars_set(stated, "PUBLIC", "%SystemDrive%\\Profiles\\Shared");
	mig_vars_set(stated, "PROGRAMDATA", "%SystemDrive%\\ProgramData");
	mig_vars_set(stated, "PROGRAMFILES", "C:\\Program Files");
	mig_vars_set(stated, "COMMONPROGRAMFILES", "C:\\Program Files\\Common Files");
	mig_vars_set(stated, "DEFAULTUSERPROFILE", "%PROFILESFOLDER%\\Default");
	/* the machine's User Shell Folders speak in %PUBLIC% and %ProgramData% */
	mig_vars_set(stated, "CSIDL_COMMON_DESKTOPDIRECTORY", "%PUBLIC%\\Desktop");
	mig_vars_set(stated, "CSIDL_COMMON_APPDATA", "%ProgramData%");
	mig_vars_set(stated, "CSIDL_COMMON_STARTMENU", "%ProgramData%\\Microsoft\\Windows\\Start Menu");
	struct seen s = { 0 };
	mig_vars *v = mig_vars_new();
	cr_assert_eq(mig_vars_resolve_system(v, "C:", 22631, stated, note, &s), 0);
	cr_expect_str_eq(mig_vars_get(v, "WINDIR"), "C:\\WINNT");
	cr_expect_str_eq(mig_vars_get(v, "CSIDL_WINDOWS"), "C:\\WINNT");
	cr_expect_str_eq(mig_vars_get(v, "CSIDL_FONTS"), "C:\\WINNT\\Fonts");
	cr_expect_str_eq(mig_vars_get(v, "CSIDL_COMMON_DESKTOPDIRECTORY"), "C:\\Profiles\\Shared\\Desktop");
	/* not stated: Windows' default, relative to the stated Public */
	cr_expect_str_eq(mig_vars_get(v, "CSIDL_COMMON_PICTURES"), "C:\\Profiles\\Shared\\Pictures");
	cr_expect_str_eq(mig_vars_get(v, "FOLDERID_PublicDownloads"), "C:\\Profiles\\Shared\\Downloads");
	cr_expect_str_eq(mig_vars_get(v, "CSIDL_COMMON_PROGRAMS"),
		"C:\\ProgramData\\Microsoft\\Windows\\Start Menu\\Programs");
	cr_expect_str_eq(mig_vars_get(v, "CSIDL_DEFAULT_APPDATA"), "C:\\Profiles\\Default\\AppData\\Roaming");
	cr_expect(!noted(&s, "SYSTEMROOT") && !noted(&s, "PROFILESFOLDER") && !noted(&s, "PUBLIC"));
	cr_expect(noted(&s, "CSIDL_COMMON_PICTURES"), "a missing machine folder is a fallback");
	cr_expect(!noted(&s, "WINDIR"), "derived variables are not hive values");
	mig_vars_free(v);
	mig_vars_free(stated);
}

Test(rules_resolver, missing_or_unusable_values_fall_back_and_are_said)
{
	mig_vars *stated = mig_vars_new();
	mig_vars_set(stated, "PROFILESFOLDER", "%NoSuchVariable%\\Users");
	mig_vars_set(stated, "PUBLIC", "");
	struct seen s = { 0 };
	mig_vars *v = mig_vars_new();
	mig_vars_resolve_system(v, "C:", 0, stated, note, &s);
	cr_expect_str_eq(mig_vars_get(v, "SYSTEMROOT"), "C:\\Windows");
	cr_expect_str_eq(mig_vars_get(v, "PROFILESFOLDER"), "C:\\Users");
	cr_expect_str_eq(mig_vars_get(v, "PUBLIC"), "C:\\Users\\Public");
	cr_expect_str_eq(mig_vars_get(v, "CSIDL_COMMON_DOCUMENTS"), "C:\\Users\\Public\\Documents");
	cr_expect(noted(&s, "SYSTEMROOT") && noted(&s, "PROFILESFOLDER") && noted(&s, "PUBLIC"));
	for (size_t i = 0; i < s.n; i++)
		if (!strcmp(s.names[i], "PROFILESFOLDER"))
			cr_expect_str_eq(s.unusable[i], "%NoSuchVariable%\\Users");
	mig_vars_free(v);
	mig_vars_free(stated);
}

Test(rules_resolver, windows_7_layout)
{
	mig_vars *v7 = mig_vars_new(), *v11 = mig_vars_new();
	mig_vars_resolve_system(v7, "C:", 7601, NULL, NULL, NULL);
	mig_vars_resolve_user(v7, "ann", NULL, NULL, 7601, NULL, NULL, NULL);
	mig_vars_resolve_system(v11, "C:", 22631, NULL, NULL, NULL);
	mig_vars_resolve_user(v11, "ann", NULL, NULL, 22631, NULL, NULL, NULL);
	cr_expect_str_eq(mig_vars_get(v7, "CSIDL_INTERNET_CACHE"),
		"C:\\Users\\ann\\AppData\\Local\\Microsoft\\Windows\\Temporary Internet Files");
	cr_expect_str_eq(mig_vars_get(v7, "CSIDL_COOKIES"),
		"C:\\Users\\ann\\AppData\\Roaming\\Microsoft\\Windows\\Cookies");
	cr_expect_str_eq(mig_vars_get(v11, "CSIDL_INTERNET_CACHE"),
		"C:\\Users\\ann\\AppData\\Local\\Microsoft\\Windows\\INetCache");
	cr_expect_str_eq(mig_vars_get(v11, "CSIDL_COOKIES"),
		"C:\\Users\\ann\\AppData\\Local\\Microsoft\\Windows\\INetCookies");
	cr_expect_str_eq(mig_vars_get(v7, "CSIDL_PERSONAL"), "C:\\Users\\ann\\Documents");
	mig_vars_free(v7);
	mig_vars_free(v11);
}

Test(rules_resolver, user_folders_and_their_aliases)
{
	mig_vars *v = mig_vars_new(), *stated = mig_vars_new();
	mig_vars_resolve_system(v, "C:", 0, NULL, NULL, NULL);
	mig_vars_set(stated, "CSIDL_PERSONAL", "%USERPROFILE%\\OneDrive\\Documents");
	mig_vars_set(stated, "APPDATA", "D:\\Roaming\\bob");
	struct seen s = { 0 };
	cr_assert_eq(mig_vars_resolve_user(v, "bob", "C:\\Users\\bob", "S-1-5-21-1-2-3-1001", 0, stated,
		note, &s), 0);
	cr_expect_str_eq(mig_vars_get(v, "CSIDL_MYDOCUMENTS"), "C:\\Users\\bob\\OneDrive\\Documents");
	cr_expect_str_eq(mig_vars_get(v, "FOLDERID_Documents"), "C:\\Users\\bob\\OneDrive\\Documents");
	cr_expect_str_eq(mig_vars_get(v, "CSIDL_STARTMENU"), "D:\\Roaming\\bob\\Microsoft\\Windows\\Start Menu");
	cr_expect_str_eq(mig_vars_get(v, "HOMEPATH"), "\\Users\\bob");
	cr_expect_str_eq(mig_vars_get(v, "USERSID"), "S-1-5-21-1-2-3-1001");
	cr_expect_str_eq(mig_vars_get(v, "PROFILESFOLDER"), "C:\\Users", "the system ones stay");
	cr_expect(noted(&s, "CSIDL_DESKTOP") && !noted(&s, "CSIDL_PERSONAL"));
	mig_vars_free(v);
	mig_vars_free(stated);
}

Test(rules_resolver, bad_input)
{
	mig_vars *v = mig_vars_new();
	cr_expect_eq(mig_vars_resolve_system(NULL, "C:", 0, NULL, NULL, NULL), -1);
	cr_expect_eq(mig_vars_resolve_user(v, NULL, NULL, NULL, 0, NULL, NULL, NULL), -1);
	cr_expect_eq(mig_vars_resolve_user(NULL, "x", NULL, NULL, 0, NULL, NULL, NULL), -1);
	/* a user table without a system one still gets the system defaults */
	cr_assert_eq(mig_vars_resolve_user(v, "x", NULL, NULL, 0, NULL, NULL, NULL), 0);
	cr_expect_str_eq(mig_vars_get(v, "USERPROFILE"), "C:\\Users\\x");
	mig_vars_free(v);
}

/* ------------------------------------------------------------ undefined */

static const char undef_xml[] =
	"<migration urlid=\"http://example.com/undef\">\n"
	"<component type=\"Documents\" context=\"System\"><displayName>A</displayName>\n"
	"<role role=\"Data\"><rules>\n"
	"<include><objectSet><pattern type=\"File\">C:\\Data\\* [*]</pattern>\n"
	"<pattern type=\"File\">%NOT_DEFINED%\\* [*]</pattern></objectSet></include>\n"
	"<exclude><objectSet><pattern type=\"File\">%ALSO_UNDEFINED%\\Temp\\* [*]</pattern>\n"
	"<pattern type=\"File\">%CSIDL_PERSONAL%\\* [*]</pattern></objectSet></exclude>\n"
	"<include><objectSet><pattern type=\"File\">C:\\Data\\Temp\\keep [*]</pattern></objectSet></include>\n"
	"<destinationCleanup><objectSet><pattern type=\"File\">%GONE%\\* [*]</pattern></objectSet></destinationCleanup>\n"
	"</rules></role></component>\n"
	"<component type=\"Documents\" context=\"System\"><displayName>B</displayName>\n"
	"<role role=\"Data\"><rules>\n"
	"<include><objectSet><pattern type=\"File\">C:\\Other\\Temp\\* [*]</pattern></objectSet></include>\n"
	"<unconditionalExclude><objectSet><pattern type=\"File\">C:\\Other\\%UNKNOWN_LEAF% [*.tmp]</pattern>"
	"</objectSet></unconditionalExclude>\n"
	"</rules></role></component></migration>\n";

static mig_matcher *
undef_matcher(mig_ruleset **rs)
{
	*rs = mig_ruleset_new();
	cr_assert_eq(mig_ruleset_load_memory(*rs, "undef.xml", undef_xml, strlen(undef_xml), NULL), 0);
	mig_vars *v = mig_vars_new();
	mig_vars_default_system(v, "C:");
	mig_matcher *m;
	cr_assert_eq(mig_matcher_build(*rs, NULL, MIG_CTX_SYSTEM, v, NULL, 0, &m, NULL), 0);
	mig_vars_free(v);
	return m;
}

Test(rules_undefined, reported_with_file_line_and_never_wider)
{
	mig_ruleset *rs;
	mig_matcher *m = undef_matcher(&rs);
	/* include dropped, exclude kept, cleanup dropped, uncond kept; the user
	 * variable in the system context is out of context, not "undefined" */
	cr_assert_eq(mig_matcher_unresolved_count(m), 4);
	const struct mig_unresolved *u = mig_matcher_unresolved(m, 0);
	cr_expect_str_eq(u->file, "undef.xml");
	cr_expect_eq(u->line, 5);
	cr_expect_str_eq(u->variable, "NOT_DEFINED");
	cr_expect_eq(u->kind, MIG_RULE_INCLUDE);
	cr_expect(!u->kept);
	cr_expect_null(u->pattern);
	u = mig_matcher_unresolved(m, 1);
	cr_expect_eq(u->line, 6);
	cr_expect_eq(u->kind, MIG_RULE_EXCLUDE);
	cr_expect(u->kept);
	cr_expect_str_eq(u->pattern, "*\\Temp\\* [*]");
	cr_expect_str_eq(u->component, "A");
	u = mig_matcher_unresolved(m, 2);
	cr_expect_eq(u->kind, MIG_RULE_DESTINATION_CLEANUP);
	cr_expect(!u->kept, "a wider cleanup would delete more on the target");
	u = mig_matcher_unresolved(m, 3);
	cr_expect_eq(u->kind, MIG_RULE_UNCOND_EXCLUDE);
	cr_expect(u->kept);
	cr_expect_null(mig_matcher_unresolved(m, 4));

	struct mig_decision d;
	mig_matcher_decide(m, F, "C:\\Data", "a.txt", &d);
	cr_expect_eq(d.outcome, MIG_INCLUDED);
	/* the conservative exclude beats the more specific include of its component */
	mig_matcher_decide(m, F, "C:\\Data\\Temp\\keep", "b.txt", &d);
	cr_expect_eq(d.outcome, MIG_EXCLUDED);
	cr_assert_not_null(d.rule);
	cr_expect_str_eq(d.rule->unresolved, "ALSO_UNDEFINED");
	/* ... but only inside it: component B's include still takes its Temp */
	mig_matcher_decide(m, F, "C:\\Other\\Temp", "c.txt", &d);
	cr_expect_eq(d.outcome, MIG_INCLUDED);
	/* the unconditional exclude, made to match more, beats everyone */
	mig_matcher_decide(m, F, "C:\\Other\\Temp", "c.tmp", &d);
	cr_expect_eq(d.outcome, MIG_UNCOND_EXCLUDED);
	/* the dropped include took nothing */
	mig_matcher_decide(m, F, "C:\\Elsewhere", "x.txt", &d);
	cr_expect_eq(d.outcome, MIG_NOT_SELECTED);
	mig_matcher_free(m);
	mig_ruleset_free(rs);
}

Test(rules_undefined, defined_everywhere_means_no_report)
{
	mig_ruleset *rs = mig_ruleset_new();
	cr_assert_eq(mig_ruleset_load_memory(rs, "undef.xml", undef_xml, strlen(undef_xml), NULL), 0);
	mig_vars *v = mig_vars_new();
	mig_vars_default_system(v, "C:");
	mig_vars_set(v, "NOT_DEFINED", "C:\\Nd");
	mig_vars_set(v, "ALSO_UNDEFINED", "C:\\Data");
	mig_vars_set(v, "GONE", "C:\\Gone");
	mig_vars_set(v, "UNKNOWN_LEAF", "Temp");
	mig_matcher *m;
	mig_matcher_build(rs, NULL, MIG_CTX_SYSTEM, v, NULL, 0, &m, NULL);
	cr_expect_eq(mig_matcher_unresolved_count(m), 0);
	struct mig_decision d;
	/* C:\Data\Temp\* (exclude) vs C:\Data\Temp\keep [*] (include): the include */
	mig_matcher_decide(m, F, "C:\\Data\\Temp\\keep", "b.txt", &d);
	cr_expect_eq(d.outcome, MIG_INCLUDED);
	cr_expect_null(d.rule->unresolved);
	mig_matcher_free(m);
	mig_vars_free(v);
	mig_ruleset_free(rs);
}

/* ------------------------------------------------------------ urlid */

Test(rules_urlid, second_file_with_the_same_urlid_is_ignored_and_listed)
{
	const char *a = "<migration urlid=\"http://example.com/same\"><component type=\"Documents\" "
		"context=\"System\"><displayName>First</displayName><role role=\"Data\"><rules>"
		"<include><objectSet><pattern type=\"File\">C:\\A\\* [*]</pattern></objectSet></include>"
		"</rules></role></component></migration>";
	const char *b = "<?xml version=\"1.0\"?>\n<migration urlid=\"HTTP://EXAMPLE.COM/SAME\">"
		"<component type=\"Documents\" context=\"System\"><displayName>Second</displayName>"
		"<role role=\"Data\"><rules><include><objectSet><pattern type=\"File\">C:\\B\\* [*]"
		"</pattern></objectSet></include></rules></role></component></migration>";
	mig_ruleset *rs = mig_ruleset_new();
	mig_diags *d = mig_diags_new();
	cr_assert_eq(mig_ruleset_load_memory(rs, "a.xml", a, strlen(a), d), 0);
	cr_expect_eq(mig_ruleset_ignored_count(rs), 0);
	cr_assert_eq(mig_ruleset_load_memory(rs, "b.xml", b, strlen(b), d), 0);
	cr_assert_eq(mig_ruleset_ignored_count(rs), 1);
	const struct mig_ignored_file *g = mig_ruleset_ignored(rs, 0);
	cr_expect_str_eq(g->path, "b.xml");
	cr_expect_str_eq(g->kept, "a.xml");
	cr_expect_str_eq(g->urlid, "HTTP://EXAMPLE.COM/SAME");
	cr_expect_eq(g->line, 2);
	cr_expect_null(mig_ruleset_ignored(rs, 1));
	cr_expect_eq(mig_ruleset_file_count(rs), 1);
	cr_expect_eq(mig_ruleset_component_count(rs), 1);
	cr_expect_eq(mig_diags_count_level(d, MIG_DIAG_WARNING), 1);
	mig_diags_free(d);
	mig_ruleset_free(rs);
}
