/*
 * Decisions against Microsoft's stock rules (read from WS_SHARED) and our
 * own defaults, and pattern edge cases.  Expected outcomes follow what the
 * files and the USMT documentation say: MigDocs takes documents from known
 * folders and leaves AppData/caches out; MigUser's folder components take
 * whole known folders and its "User Data" component takes document
 * extensions on fixed drives outside the profiles folder, %WINDIR% and
 * Program Files; MigApp takes an application's settings when it is
 * detected (our test host says every file and key exists).
 */
#include <criterion/criterion.h>
#include <stdio.h>

#include "tests/unit/rules/common.h"

enum { I = MIG_INCLUDED, E = MIG_EXCLUDED, U = MIG_UNCOND_EXCLUDED, N = MIG_NOT_SELECTED };
enum { SYS = MIG_CTX_SYSTEM, USR = MIG_CTX_USER };

struct row {
	int ctx;
	enum mig_obj_type type;
	const char *loc;          /* encoded location; %U% = the user name */
	int outcome;
	const char *component;    /* NULL when NOT_SELECTED */
};

struct fixture {
	mig_ruleset *rs;
	mig_matcher *m[2][2];      /* [user index][ctx-1] */
};

static const char *users[2] = { "alice", "Bob Smith" };

static int
build(struct fixture *f, const char *const *files, size_t nfiles)
{
	char path[4096];
	f->rs = mig_ruleset_new();
	for (size_t i = 0; i < nfiles; i++) {
		const char *p = files[i];
		if (!strncmp(p, "rules/", 6) && access(p, R_OK) != 0)
			return -1;
		if (strncmp(p, "rules/", 6)) {
			if (!shared_xml(p, path, sizeof(path)))
				return -1;
			p = path;
		}
		cr_assert_eq(mig_ruleset_load(f->rs, p, NULL), 0, "%s", p);
	}
	for (int u = 0; u < 2; u++) {
		mig_vars *v = mig_vars_new();
		mig_vars_default_user(v, "C:", users[u], NULL, NULL);
		mig_vars_set(v, "WS_FIXED_DRIVES", "C:;D:");
		for (int c = 0; c < 2; c++)
			cr_assert_eq(mig_matcher_build(f->rs, NULL, (enum mig_ctx)(c + 1), v, &all_exists_host,
				0, &f->m[u][c], NULL), 0);
		mig_vars_free(v);
	}
	return 0;
}

static void
teardown(struct fixture *f)
{
	for (int u = 0; u < 2; u++)
		for (int c = 0; c < 2; c++)
			mig_matcher_free(f->m[u][c]);
	mig_ruleset_free(f->rs);
}

static char *
subst_user(const char *s, const char *user)
{
	static char buf[8192];
	char *o = buf;
	while (*s && o < buf + sizeof(buf) - 128) {
		if (!strncmp(s, "%U%", 3)) {
			o += snprintf(o, 128, "%s", user);
			s += 3;
		} else {
			*o++ = *s++;
		}
	}
	*o = 0;
	return buf;
}

static size_t
run_table(struct fixture *f, const struct row *rows, size_t n)
{
	size_t checked = 0;
	for (size_t i = 0; i < n; i++) {
		for (int u = 0; u < 2; u++) {
			const struct row *r = &rows[i];
			const char *loc = subst_user(r->loc, users[u]);
			struct mig_decision d;
			cr_assert_eq(mig_matcher_decide_location(f->m[u][r->ctx - 1], r->type, loc, &d), 0);
			checked++;
			cr_expect_eq((int)d.outcome, r->outcome, "%s %s [%s]: got %s (%s:%u %s %s), want %s",
				r->ctx == SYS ? "system" : "user", loc, users[u], mig_outcome_name(d.outcome),
				d.rule ? d.rule->file : "-", d.rule ? d.rule->line : 0,
				d.rule ? d.rule->component : "-", d.rule ? d.rule->pattern : "-",
				mig_outcome_name((enum mig_outcome)r->outcome));
			if (r->component && d.rule)
				cr_expect_str_eq(d.rule->component, r->component, "%s: component", loc);
			if (r->outcome == N)
				cr_expect_null(d.rule);
			else
				cr_expect_not_null(d.rule, "%s: a reason is expected", loc);
		}
	}
	return checked;
}

#define F MIG_OBJ_FILE
#define R MIG_OBJ_REGISTRY

/* MigDocs alone: the document finder. */
static const struct row migdocs_rows[] = {
	{ USR, F, "C:\\Users\\%U%\\Documents [report.docx]", I, "MigDocUser" },
	{ USR, F, "C:\\Users\\%U%\\Documents\\Sub\\Deep [notes.txt]", I, "MigDocUser" },
	{ USR, F, "C:\\Users\\%U%\\Desktop [todo.xlsx]", I, "MigDocUser" },
	{ USR, F, "C:\\Users\\%U%\\Pictures\\2023 [IMG_0001.JPG]", I, "MigDocUser" },
	{ USR, F, "C:\\Users\\%U%\\Music [song.mp3]", I, "MigDocUser" },
	{ USR, F, "C:\\Users\\%U%\\Videos [clip.mp4]", I, "MigDocUser" },
	{ USR, F, "C:\\Users\\%U%\\Favorites\\Links [Bing.url]", I, "MigDocUser" },
	{ USR, F, "C:\\Users\\%U%\\Downloads [setup.exe]", I, "MigDocUser" },
	{ USR, F, "C:\\Users\\%U%\\Contacts [me.contact]", I, "MigDocUser" },
	{ USR, F, "C:\\Users\\%U%\\Saved Games\\Game [save1.dat]", I, "MigDocUser" },
	{ USR, F, "C:\\Users\\%U%\\Projects [main.c]", I, "MigDocUser" },
	{ USR, F, "C:\\Users\\%U%\\AppData\\Local\\Microsoft\\Windows\\INetCache\\IE [page.htm]", E, "MigDocUser" },
	{ USR, F, "C:\\Users\\%U%\\AppData\\Local\\Temp [x.tmp]", E, "MigDocUser" },
	{ USR, F, "C:\\Users\\%U%\\AppData\\Roaming\\App [settings.ini]", E, "MigDocUser" },
	{ USR, F, "C:\\Users\\%U%\\AppData\\Roaming\\Microsoft\\Internet Explorer\\Quick Launch [IE.lnk]", I, "MigDocUser" },
	{ USR, F, "C:\\Users\\%U% [NTUSER.DAT]", E, "MigDocUser" },
	{ USR, F, "C:\\Data [report.docx]", N, NULL },
	{ USR, R, "HKCU\\Control Panel\\Desktop [Wallpaper]", N, NULL },
	{ SYS, F, "C:\\Users\\Public\\Documents [shared.docx]", I, "MigDocSystem" },
	{ SYS, F, "C:\\Users\\Public\\Desktop [Tool.lnk]", I, "MigDocSystem" },
	{ SYS, F, "C:\\Users\\Public\\Downloads [a.zip]", I, "MigDocSystem" },
	{ SYS, F, "C:\\Data [report.docx]", I, "MigDocSystem" },
	{ SYS, F, "D:\\Archive\\2019 [old.pdf]", I, "MigDocSystem" },
	{ SYS, F, "C:\\Windows\\System32 [kernel32.dll]", E, "MigDocSystem" },
	{ SYS, F, "C:\\Program Files\\App [app.exe]", E, "MigDocSystem" },
	{ SYS, F, "C:\\ProgramData\\Vendor [cfg.xml]", E, "MigDocSystem" },
	{ SYS, F, "C:\\Users\\%U%\\Documents [report.docx]", E, "MigDocSystem" },
	{ SYS, F, "C:\\$Recycle.Bin\\S-1-5-21-1 [$R123.docx]", E, "MigDocSystem" },
	{ SYS, F, "C: [pagefile.sys]", E, "MigDocSystem" },
	{ SYS, F, "C: [readme.txt]", I, "MigDocSystem" },
};

Test(rules_decide, migdocs_table)
{
	struct fixture f;
	const char *files[] = { "MigDocs.xml" };
	if (build(&f, files, 1) < 0)
		cr_skip_test("WS_SHARED/usmt-xml not found (set WS_SHARED)");
	size_t n = run_table(&f, migdocs_rows, sizeof(migdocs_rows) / sizeof(migdocs_rows[0]));
	cr_expect_geq(n, 60);
	/* MigDocs records its transforms on .library-ms files */
	struct mig_decision d;
	mig_matcher_decide(f.m[0][1], F, "C:\\Users\\alice\\AppData\\Roaming\\Microsoft\\Windows\\Libraries",
		"Documents.library-ms", &d);
	cr_assert_not_null(d.by_kind[MIG_RULE_MERGE]);
	cr_expect_str_eq(d.by_kind[MIG_RULE_MERGE]->helper, "SourcePriority");
	cr_assert_not_null(d.by_kind[MIG_RULE_CONTENT_MODIFY]);
	cr_expect_str_eq(d.by_kind[MIG_RULE_CONTENT_MODIFY]->helper, "MergeShellLibraries");
	cr_expect_eq(d.by_kind[MIG_RULE_CONTENT_MODIFY]->nargs, 2);
	/* the include filter is recorded on the decision */
	mig_matcher_decide(f.m[0][1], F, "C:\\Users\\alice\\Desktop", "x.lnk", &d);
	cr_expect_str_eq(d.rule->helper, "IgnoreIrrelevantLinks");
	teardown(&f);
}

/* MigUser + MigApp together. */
static const struct row miguser_rows[] = {
	{ USR, F, "C:\\Users\\%U%\\Documents [a.docx]", I, "My Documents" },
	{ USR, F, "C:\\Users\\%U%\\Documents\\x [song.mp3]", I, "My Documents" },
	{ USR, F, "C:\\Users\\%U%\\Music [song.mp3]", I, "My Music" },
	{ USR, F, "C:\\Users\\%U%\\Videos [clip.avi]", I, "My Video" },
	{ USR, F, "C:\\Users\\%U%\\Pictures [p.png]", I, "My Pictures" },
	{ USR, F, "C:\\Users\\%U%\\Desktop [shortcut.lnk]", I, "Desktop" },
	{ USR, F, "C:\\Users\\%U%\\Favorites [Bing.url]", I, "Favorites" },
	{ USR, F, "C:\\Users\\%U%\\Favorites\\Work [Intranet.url]", I, "Favorites" },
	{ USR, F, "C:\\Users\\%U%\\AppData\\Roaming\\Microsoft\\Windows\\Start Menu\\Programs [x.lnk]", I, "Start Menu" },
	{ USR, F, "C:\\Users\\%U%\\AppData\\Roaming\\Microsoft\\Internet Explorer\\Quick Launch [IE.lnk]", I, "Quick Launch" },
	{ USR, F, "C:\\Users\\%U%\\Downloads [setup.exe]", N, NULL },
	{ USR, F, "C:\\Users\\%U%\\AppData\\Local\\Temp [x.tmp]", N, NULL },
	{ SYS, F, "C:\\Users\\Public\\Videos [v.wmv]", I, "Shared Video" },
	{ SYS, F, "C:\\Users\\Public\\Music [m.wma]", I, "Shared Music" },
	{ SYS, F, "C:\\Users\\Public\\Desktop [x.lnk]", I, "Shared Desktop" },
	{ SYS, F, "C:\\Users\\Public\\Favorites [a.url]", I, "Shared Favorites" },
	{ SYS, F, "C:\\Data [budget.xlsx]", I, "User Data" },
	{ SYS, F, "C:\\Data\\Sub [letter.doc]", I, "User Data" },
	{ SYS, F, "D:\\Work [plan.mpp]", I, "User Data" },
	{ SYS, F, "D:\\Mail [archive.pst]", I, "User Data" },
	{ SYS, F, "C:\\Data [notes.TXT]", I, "User Data" },
	{ SYS, F, "C:\\Data [photo.jpg]", N, NULL },
	{ SYS, F, "C:\\Users\\%U%\\Documents [a.docx]", E, "User Data" },
	{ SYS, F, "C:\\Windows\\Help [readme.txt]", E, "User Data" },
	{ SYS, F, "D:\\Windows\\Help [readme.txt]", E, "User Data" },
	{ SYS, F, "C:\\Program Files\\App [readme.txt]", E, "User Data" },
	{ SYS, F, "D:\\Program Files\\App [readme.txt]", E, "User Data" },
	/* MigApp, applications "detected" by the test host */
	{ USR, R, "HKCU\\Software\\Microsoft\\Office\\Common\\UserInfo [UserName]", I, "Office 2003 Common Settings" },
	{ USR, R, "HKCU\\Software\\Microsoft\\Office\\11.0\\Common\\Open Find\\Places [x]", E, "Office 2003 Common Settings" },
	{ USR, R, "HKCU\\Software\\Microsoft\\Office\\11.0\\Common\\Internet [UseRWHlinkNavigation]", E, "Office 2003 Common Settings" },
	{ USR, R, "HKCU\\Software\\NoSuchVendor\\App [x]", N, NULL },
	{ USR, F, "C:\\Users\\%U%\\AppData\\Roaming\\Microsoft\\Templates [Normal.dotm]", I, NULL },
	{ USR, F, "C:\\Users\\%U%\\AppData\\Roaming\\Microsoft\\Proof [CUSTOM.DIC]", I, NULL },
};

Test(rules_decide, miguser_migapp_table)
{
	struct fixture f;
	const char *files[] = { "MigUser.xml", "MigApp.xml" };
	if (build(&f, files, 2) < 0)
		cr_skip_test("WS_SHARED/usmt-xml not found (set WS_SHARED)");
	run_table(&f, miguser_rows, sizeof(miguser_rows) / sizeof(miguser_rows[0]));
	/* MigUser's desktop.ini merge rule */
	struct mig_decision d;
	mig_matcher_decide(f.m[0][1], F, "C:\\Users\\alice\\Music", "desktop.ini", &d);
	cr_assert_not_null(d.by_kind[MIG_RULE_MERGE]);
	cr_expect_str_eq(d.by_kind[MIG_RULE_MERGE]->helper, "DestinationPriority");
	cr_expect_gt(mig_matcher_component_count(f.m[0][1]), 20);
	teardown(&f);
}

Test(rules_decide, detection_fails_without_host)
{
	char path[4096];
	if (!shared_xml("MigUser.xml", path, sizeof(path)))
		cr_skip_test("WS_SHARED/usmt-xml not found (set WS_SHARED)");
	mig_ruleset *rs = mig_ruleset_new();
	cr_assert_eq(mig_ruleset_load(rs, path, NULL), 0);
	mig_vars *v = mig_vars_new();
	mig_vars_default_user(v, "C:", "alice", NULL, NULL);
	mig_matcher *m;
	mig_matcher_build(rs, NULL, MIG_CTX_USER, v, NULL, 0, &m, NULL);
	struct mig_decision d;
	/* "My Music" is detected with DoesObjectExist: nothing exists, nothing taken */
	mig_matcher_decide(m, F, "C:\\Users\\alice\\Music", "a.mp3", &d);
	cr_expect_eq(d.outcome, MIG_NOT_SELECTED);
	mig_matcher_free(m);
	mig_matcher_build(rs, NULL, MIG_CTX_USER, v, NULL, MIG_BUILD_IGNORE_DETECTION, &m, NULL);
	mig_matcher_decide(m, F, "C:\\Users\\alice\\Music", "a.mp3", &d);
	cr_expect_eq(d.outcome, MIG_INCLUDED);
	mig_matcher_free(m);
	mig_vars_free(v);
	mig_ruleset_free(rs);
}

Test(rules_decide, config_disables_component)
{
	char path[4096];
	if (!shared_xml("MigDocs.xml", path, sizeof(path)))
		cr_skip_test("WS_SHARED/usmt-xml not found (set WS_SHARED)");
	mig_ruleset *rs = mig_ruleset_new();
	cr_assert_eq(mig_ruleset_load(rs, path, NULL), 0);
	const char *x = "<Configuration><Documents><component displayname=\"MigDocUser\" migrate=\"no\" "
		"ID=\"http://www.microsoft.com/migration/1.0/migxmlext/migdocs/migdocuser/data\"/>"
		"</Documents></Configuration>";
	mig_config *c = mig_config_load_memory("cfg.xml", x, strlen(x), NULL);
	cr_assert_not_null(c);
	mig_vars *v = mig_vars_new();
	mig_vars_default_user(v, "C:", "alice", NULL, NULL);
	mig_matcher *m;
	mig_matcher_build(rs, c, MIG_CTX_USER, v, NULL, 0, &m, NULL);
	struct mig_decision d;
	mig_matcher_decide(m, F, "C:\\Users\\alice\\Documents", "a.docx", &d);
	cr_expect_eq(d.outcome, MIG_NOT_SELECTED);
	mig_matcher_free(m);
	mig_vars_free(v);
	mig_config_free(c);
	mig_ruleset_free(rs);
}

/* Our own defaults. */
static const struct row default_rows[] = {
	{ USR, F, "C:\\Users\\%U%\\Documents [a.docx]", I, "User known folders" },
	{ USR, F, "C:\\Users\\%U%\\OneDrive\\Docs [b.pdf]", I, "User known folders" },
	{ USR, F, "C:\\Users\\%U%\\Desktop [Thumbs.db]", U, "Never migrated" },
	{ USR, F, "C:\\Users\\%U%\\AppData\\Local\\Google\\Chrome\\User Data\\Default [Bookmarks]", I, "Google Chrome" },
	{ USR, F, "C:\\Users\\%U%\\AppData\\Local\\Google\\Chrome\\User Data\\Profile 1 [Login Data]", I, "Google Chrome" },
	{ USR, F, "C:\\Users\\%U%\\AppData\\Local\\Google\\Chrome\\User Data\\Default\\Cache\\Cache_Data [f_000001]", E, "Google Chrome" },
	{ USR, F, "C:\\Users\\%U%\\AppData\\Local\\Google\\Chrome\\User Data\\Default\\Code Cache\\js [index]", E, "Google Chrome" },
	{ USR, F, "C:\\Users\\%U%\\AppData\\Local\\Google\\Chrome\\User Data\\Default\\Extensions\\abc\\1.0 [manifest.json]", I, "Google Chrome" },
	{ USR, F, "C:\\Users\\%U%\\AppData\\Local\\Microsoft\\Edge\\User Data\\Default [Preferences]", I, "Microsoft Edge" },
	{ USR, F, "C:\\Users\\%U%\\AppData\\Local\\Microsoft\\Edge\\User Data\\Default\\GPUCache [data_0]", E, "Microsoft Edge" },
	{ USR, F, "C:\\Users\\%U%\\AppData\\Roaming\\Mozilla\\Firefox\\Profiles\\x1.default [logins.json]", I, "Mozilla Firefox" },
	{ USR, F, "C:\\Users\\%U%\\AppData\\Roaming\\Mozilla\\Firefox\\Profiles\\x1.default [key4.db]", I, "Mozilla Firefox" },
	{ USR, F, "C:\\Users\\%U%\\AppData\\Roaming\\Microsoft\\Signatures [Work.htm]", I, "Outlook signatures and templates" },
	{ USR, F, "C:\\Users\\%U%\\AppData\\Local\\Temp [x.tmp]", U, "Never migrated" },
	{ USR, F, "C:\\Users\\%U%\\AppData\\Local\\Microsoft\\Windows\\Explorer [thumbcache_256.db]", U, "Never migrated" },
	{ USR, R, "HKCU\\Network\\Z [RemotePath]", I, "Mapped network drives and printers" },
	{ USR, R, "HKEY_CURRENT_USER\\Printers\\Connections\\,,srv,HP [Server]", I, "Mapped network drives and printers" },
	{ USR, R, "HKCU\\Control Panel\\Desktop [Wallpaper]", I, "Desktop wallpaper and theme" },
	{ USR, R, "HKCU\\Control Panel\\Desktop [ScreenSaveActive]", N, NULL },
	{ USR, R, "HKCU\\Control Panel\\Mouse [MouseSpeed]", I, "Mouse, keyboard, regional and accessibility settings" },
	{ USR, R, "HKCU\\Control Panel\\International\\User Profile [Languages]", I, "Mouse, keyboard, regional and accessibility settings" },
	{ USR, F, "C:\\Users\\%U%\\AppData\\Local\\Packages\\Microsoft.MicrosoftStickyNotes_8wekyb3d8bbwe\\LocalState [plum.sqlite-wal]", I, "Sticky Notes" },
	{ USR, F, "C:\\Users\\%U%\\AppData\\Roaming\\Code\\User [settings.json]", I, "Windows Terminal and VS Code settings" },
	{ SYS, F, "C:\\$Recycle.Bin\\S-1-5-21 [x.docx]", U, "Never migrated" },
	{ SYS, F, "D:\\Mail [old.pst]", I, "Outlook data files outside profiles" },
	{ SYS, F, "C:\\Users\\%U%\\Documents [in-profile.pst]", E, "Outlook data files outside profiles" },
	{ SYS, F, "C:\\Users\\Public\\Documents [shared.docx]", I, "Public folders" },
};

Test(rules_decide, default_rules_table)
{
	struct fixture f;
	const char *files[] = { "rules/xml/winstate-default.xml" };
	if (build(&f, files, 1) < 0)
		cr_assert_fail("rules/xml/winstate-default.xml not found: run from the repository root");
	run_table(&f, default_rows, sizeof(default_rows) / sizeof(default_rows[0]));
	teardown(&f);
}

/* ------------------------------------------------------------- patterns */

static mig_matcher *
one_rule(const char *body, enum mig_ctx ctx)
{
	char xml[8192];
	snprintf(xml, sizeof(xml), "<migration urlid=\"t\"><component type=\"Documents\" context=\"UserAndSystem\">"
		"<displayName>T</displayName><role role=\"Data\"><rules>%s</rules></role></component></migration>", body);
	mig_ruleset *rs = mig_ruleset_new();
	mig_diags *d = mig_diags_new();
	cr_assert_eq(mig_ruleset_load_memory(rs, "t.xml", xml, strlen(xml), d), 0, "%s", mig_diags_first(d, 0));
	mig_vars *v = mig_vars_new();
	mig_vars_default_user(v, "C:", "alice", NULL, NULL);
	mig_matcher *m;
	mig_matcher_build(rs, NULL, ctx, v, NULL, 0, &m, d);
	mig_vars_free(v);
	mig_diags_free(d);
	/* the matcher keeps its own copies: the rule set can go */
	mig_ruleset_free(rs);
	return m;
}

static int
out(mig_matcher *m, enum mig_obj_type t, const char *node, const char *leaf)
{
	struct mig_decision d;
	cr_assert_eq(mig_matcher_decide(m, t, node, leaf, &d), 0);
	return (int)d.outcome;
}

Test(rules_pattern, case_insensitive_and_leaf_wildcards)
{
	mig_matcher *m = one_rule("<include><objectSet><pattern type=\"File\">C:\\Data\\* [*.doc*]</pattern>"
		"</objectSet></include>", MIG_CTX_SYSTEM);
	cr_expect_eq(out(m, F, "c:\\DATA", "Report.DOCX"), I);
	cr_expect_eq(out(m, F, "C:\\data\\sub\\deeper", "a.doc"), I);
	cr_expect_eq(out(m, F, "C:\\data", "a.doc.bak"), I);
	cr_expect_eq(out(m, F, "C:\\data", "a.dot"), N);
	cr_expect_eq(out(m, F, "C:\\database", "a.doc"), N);
	cr_expect_eq(out(m, F, "C:\\Data", NULL), N);        /* leaf pattern: no folders */
	mig_matcher_free(m);
}

Test(rules_pattern, node_only_and_direct_children)
{
	mig_matcher *m = one_rule("<include><objectSet>"
		"<pattern type=\"File\">C:\\Tree\\*</pattern>"
		"<pattern type=\"File\">C:\\Flat\\ [*]</pattern>"
		"</objectSet></include>", MIG_CTX_SYSTEM);
	cr_expect_eq(out(m, F, "C:\\Tree", NULL), I);
	cr_expect_eq(out(m, F, "C:\\Tree\\a\\b", NULL), I);
	cr_expect_eq(out(m, F, "C:\\Tree\\a", "file.txt"), N);  /* no brackets: containers only */
	cr_expect_eq(out(m, F, "C:\\Flat\\", "x.txt"), I);
	cr_expect_eq(out(m, F, "C:\\Flat\\sub", "x.txt"), N);
	mig_matcher_free(m);
}

Test(rules_pattern, caret_escapes)
{
	mig_matcher *m = one_rule("<include><objectSet>"
		"<pattern type=\"File\">C:\\Docs^[old^] [file^].txt]</pattern>"
		"<pattern type=\"File\">C:\\Hat [a^^b]</pattern>"
		"</objectSet></include>", MIG_CTX_SYSTEM);
	cr_expect_eq(out(m, F, "C:\\Docs[old]", "file].txt"), I);
	cr_expect_eq(out(m, F, "C:\\Docs[old]", "file.txt"), N);
	cr_expect_eq(out(m, F, "C:\\Hat", "a^b"), I);
	struct mig_decision d;
	cr_expect_eq(mig_matcher_decide_location(m, F, "C:\\Docs^[old^] [file^].txt]", &d), 0);
	cr_expect_eq(d.outcome, MIG_INCLUDED);
	mig_matcher_free(m);
}

Test(rules_pattern, registry_default_value_and_hives)
{
	mig_matcher *m = one_rule("<include><objectSet>"
		"<pattern type=\"Registry\">HKLM\\Software\\Test []</pattern>"
		"<pattern type=\"Registry\">HKEY_CURRENT_USER\\Software\\Test\\* [*]</pattern>"
		"</objectSet></include>", MIG_CTX_USER);
	cr_expect_eq(out(m, R, "HKEY_LOCAL_MACHINE\\SOFTWARE\\test", ""), I);
	cr_expect_eq(out(m, R, "HKLM\\Software\\Test", "Named"), N);
	cr_expect_eq(out(m, R, "HKCU\\software\\TEST\\Sub", "Val"), I);
	cr_expect_eq(out(m, R, "HKCU\\Software\\Test", ""), I);
	cr_expect_eq(out(m, R, "HKCU\\Software\\Test", NULL), N);
	cr_expect_eq(out(m, F, "HKCU\\Software\\Test", "Val"), N);   /* type matters */
	mig_matcher_free(m);
}

Test(rules_pattern, unicode_case_folding)
{
	mig_matcher *m = one_rule("<include><objectSet>"
		"<pattern type=\"File\">C:\\Users\\Émile\\Документы\\* [*]</pattern>"
		"<pattern type=\"File\">C:\\ΑΡΧΕΙΑ [*.TXT]</pattern>"
		"</objectSet></include>", MIG_CTX_SYSTEM);
	cr_expect_eq(out(m, F, "C:\\USERS\\émile\\ДОКУМЕНТЫ", "x.pdf"), I);
	cr_expect_eq(out(m, F, "C:\\users\\EMILE\\документы", "x.pdf"), N);
	cr_expect_eq(out(m, F, "c:\\αρχεια", "ά.txt"), I);
	mig_matcher_free(m);
}

Test(rules_pattern, long_paths)
{
	mig_matcher *m = one_rule("<include><objectSet><pattern type=\"File\">C:\\Deep\\* [*.txt]</pattern>"
		"</objectSet></include><exclude><objectSet><pattern type=\"File\">C:\\Deep\\*\\skip\\* [*]</pattern>"
		"</objectSet></exclude>", MIG_CTX_SYSTEM);
	size_t n = 32760;
	char *p = malloc(n + 1);
	strcpy(p, "C:\\Deep");
	size_t len = strlen(p);
	while (len + 5 < n) {
		memcpy(p + len, "\\abcd", 5);
		len += 5;
	}
	p[len] = 0;
	cr_expect_eq(out(m, F, p, "leaf.txt"), I);
	cr_expect_eq(out(m, F, p, "leaf.bin"), N);
	memcpy(p + 7 + 5 * 400, "\\skip", 5);   /* replaces one "\\abcd" */
	cr_expect_eq(out(m, F, p, "leaf.txt"), E);
	free(p);
	mig_matcher_free(m);
}

Test(rules_pattern, precedence)
{
	/* Same component: more specific wins, directory beats extension, tie -> exclude. */
	mig_matcher *m = one_rule(
		"<include><objectSet><pattern type=\"File\">C:\\Data\\* [*]</pattern>"
		"<pattern type=\"File\">C:\\Tie\\* [*]</pattern></objectSet></include>"
		"<exclude><objectSet><pattern type=\"File\">C:\\* [*.mp3]</pattern>"
		"<pattern type=\"File\">C:\\Tie\\* [*]</pattern>"
		"<pattern type=\"File\">C:\\Data\\Private\\* [*]</pattern></objectSet></exclude>"
		"<unconditionalExclude><objectSet><pattern type=\"File\">C:\\Data\\Secret\\* [*]</pattern>"
		"</objectSet></unconditionalExclude>", MIG_CTX_SYSTEM);
	cr_expect_eq(out(m, F, "C:\\Data", "a.mp3"), I);
	cr_expect_eq(out(m, F, "C:\\Other", "a.mp3"), E);
	cr_expect_eq(out(m, F, "C:\\Tie", "a.txt"), E);
	cr_expect_eq(out(m, F, "C:\\Data\\Private", "a.txt"), E);
	cr_expect_eq(out(m, F, "C:\\Data\\Secret", "a.txt"), U);
	mig_matcher_free(m);
}

Test(rules_pattern, components_are_independent)
{
	const char *xml = "<migration urlid=\"t\">"
		"<component type=\"Documents\" context=\"System\"><displayName>A</displayName><role role=\"Data\"><rules>"
		"<include><objectSet><pattern type=\"File\">C:\\X\\* [*]</pattern></objectSet></include></rules></role></component>"
		"<component type=\"Documents\" context=\"System\"><displayName>B</displayName><role role=\"Data\"><rules>"
		"<exclude><objectSet><pattern type=\"File\">C:\\X\\Y\\* [*]</pattern></objectSet></exclude></rules></role></component>"
		"</migration>";
	mig_ruleset *rs = mig_ruleset_new();
	cr_assert_eq(mig_ruleset_load_memory(rs, "t.xml", xml, strlen(xml), NULL), 0);
	mig_matcher *m;
	mig_matcher_build(rs, NULL, MIG_CTX_SYSTEM, NULL, NULL, 0, &m, NULL);
	cr_expect_eq(out(m, F, "C:\\X\\Y", "a"), I);
	mig_matcher_free(m);
	mig_ruleset_free(rs);
}

/* Conditions: AND by default, OR, negation, nesting; environment variables. */
static int
cond_fires(const char *conds)
{
	char body[4096];
	snprintf(body, sizeof(body), "%s<include><objectSet><pattern type=\"File\">C:\\C\\* [*]</pattern>"
		"</objectSet></include>", conds);
	mig_matcher *m = one_rule(body, MIG_CTX_SYSTEM);
	int r = out(m, F, "C:\\C", "x") == I;
	mig_matcher_free(m);
	return r;
}

#define T "<condition>MigXmlHelper.IsSystemContext()</condition>"
#define FL "<condition>MigXmlHelper.IsNative64Bit()</condition>"
#define NT "<condition negation=\"Yes\">MigXmlHelper.IsNative64Bit()</condition>"

Test(rules_conditions, and_or_negation)
{
	cr_expect(cond_fires("<conditions>" T T "</conditions>"));
	cr_expect(!cond_fires("<conditions>" T FL "</conditions>"));       /* AND by default */
	cr_expect(cond_fires("<conditions operation=\"OR\">" T FL "</conditions>"));
	cr_expect(cond_fires("<conditions>" NT "</conditions>"));
	cr_expect(!cond_fires("<conditions>" T "<conditions operation=\"OR\">" FL FL "</conditions></conditions>"));
	cr_expect(cond_fires("<conditions>" T "<conditions operation=\"OR\">" FL NT "</conditions></conditions>"));
}

Test(rules_conditions, environment_variables)
{
	const char *xml = "<migration urlid=\"t\"><component type=\"Application\" context=\"System\">"
		"<displayName>A</displayName>"
		"<environment><variable name=\"AppRoot\"><text>%PROGRAMFILES%\\Vendor</text></variable></environment>"
		"<role role=\"Settings\"><rules>"
		"<include><objectSet><pattern type=\"File\">%AppRoot%\\Config\\* [*]</pattern></objectSet></include>"
		"<locationModify script=\"MigXmlHelper.RelativeMove('%AppRoot%','%CSIDL_COMMON_APPDATA%\\Vendor')\">"
		"<objectSet><pattern type=\"File\">%AppRoot%\\Config\\* [*]</pattern></objectSet></locationModify>"
		"</rules></role></component></migration>";
	mig_ruleset *rs = mig_ruleset_new();
	cr_assert_eq(mig_ruleset_load_memory(rs, "t.xml", xml, strlen(xml), NULL), 0);
	mig_vars *v = mig_vars_new();
	mig_vars_default_system(v, "D:");
	mig_matcher *m;
	mig_matcher_build(rs, NULL, MIG_CTX_SYSTEM, v, NULL, 0, &m, NULL);
	struct mig_decision d;
	mig_matcher_decide(m, F, "D:\\Program Files\\Vendor\\Config", "a.ini", &d);
	cr_expect_eq(d.outcome, MIG_INCLUDED);
	cr_assert_not_null(d.by_kind[MIG_RULE_LOCATION_MODIFY]);
	cr_expect_str_eq(d.by_kind[MIG_RULE_LOCATION_MODIFY]->helper, "RelativeMove");
	cr_expect_str_eq(d.by_kind[MIG_RULE_LOCATION_MODIFY]->args[1], "D:\\ProgramData\\Vendor");
	mig_matcher_free(m);
	mig_vars_free(v);
	mig_ruleset_free(rs);
}

Test(rules_vars, expand_and_defaults)
{
	mig_vars *v = mig_vars_new();
	mig_vars_default_user(v, "C:", "bob", NULL, "S-1-5-21-1-2-3-1001");
	char *missing = NULL;
	char *x = mig_vars_expand(v, "%csidl_personal%\\x and %USERSID%", &missing);
	cr_expect_str_eq(x, "C:\\Users\\bob\\Documents\\x and S-1-5-21-1-2-3-1001");
	free(x);
	cr_expect_null(mig_vars_expand(v, "%NOPE%\\x", &missing));
	cr_expect_str_eq(missing, "NOPE");
	free(missing);
	cr_expect_str_eq(mig_vars_get(v, "LOCALAPPDATA"), "C:\\Users\\bob\\AppData\\Local");
	cr_expect_str_eq(mig_vars_get(v, "PROGRAMFILES(X86)"), "C:\\Program Files (x86)");
	mig_vars_free(v);
}

/* A query folded once gives every matcher the same answer as deciding the
 * object against each one (a capture asks every user's matcher per file). */
Test(rules_decide, one_query_many_matchers)
{
	struct fixture f;
	const char *files[] = { "MigUser.xml", "MigApp.xml" };
	if (build(&f, files, 2) < 0)
		cr_skip_test("WS_SHARED/usmt-xml not found (set WS_SHARED)");
	size_t compared = 0;
	for (size_t i = 0; i < sizeof(miguser_rows) / sizeof(miguser_rows[0]); i++) {
		const struct row *r = &miguser_rows[i];
		char node[1024];
		snprintf(node, sizeof(node), "%s", subst_user(r->loc, users[0]));
		char *bracket = strstr(node, " [");
		cr_assert_not_null(bracket);
		*bracket = 0;
		char *leaf = bracket + 2;
		leaf[strlen(leaf) - 1] = 0;
		struct mig_query q;
		cr_assert_eq(mig_query_init(&q, r->type, node, leaf), 0);
		for (int u = 0; u < 2; u++)
			for (int c = 0; c < 2; c++) {
				struct mig_decision a, b;
				cr_assert_eq(mig_matcher_decide_query(f.m[u][c], &q, &a), 0);
				cr_assert_eq(mig_matcher_decide(f.m[u][c], r->type, node, leaf, &b), 0);
				cr_expect_eq(a.outcome, b.outcome, "%s [%s]", node, leaf);
				cr_expect_eq(a.rule, b.rule, "%s [%s]", node, leaf);
				compared++;
			}
		mig_query_free(&q);
	}
	cr_expect_eq(compared, 4 * (sizeof(miguser_rows) / sizeof(miguser_rows[0])));
	/* A spelling that needs normalising (HKEY_*, trailing "\") takes the
	 * long way and still decides the same. */
	struct mig_query q;
	struct mig_decision a, b;
	cr_assert_eq(mig_query_init(&q, MIG_OBJ_REGISTRY,
				   "HKEY_CURRENT_USER\\Software\\Microsoft\\Office\\Common\\UserInfo\\",
				   "UserName"), 0);
	cr_assert_eq(mig_matcher_decide_query(f.m[0][1], &q, &a), 0);
	mig_query_free(&q);
	mig_matcher_decide(f.m[0][1], MIG_OBJ_REGISTRY, "HKCU\\Software\\Microsoft\\Office\\Common\\UserInfo",
			  "UserName", &b);
	cr_expect_eq(a.outcome, MIG_INCLUDED);
	cr_expect_eq(a.rule, b.rule);
	/* Bad input is refused, not crashed on. */
	cr_expect_eq(mig_query_init(&q, MIG_OBJ_FILE, NULL, "x"), -1);
	cr_expect_eq(mig_query_init(&q, (enum mig_obj_type)99, "C:\\x", "y"), -1);
	cr_expect_eq(mig_matcher_decide_query(f.m[0][1], NULL, &a), -1);
	cr_expect_eq(mig_matcher_decide_query(NULL, &q, &a), -1);
	teardown(&f);
}
