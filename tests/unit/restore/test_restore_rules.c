/*
 * The pure pieces of restore-time rules (agent/restore_rules.c): where
 * locationModify helpers send an object, how a capture decision names its
 * component, a cleanup pattern's fixed folder, a store user's source-side
 * variables, Config.xml's ProfileControl mappings after the command line's,
 * and bad rule files refused with a sentence.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "restore/restore.h"

static char *
move(const char *helper, unsigned nargs, const char *a0, const char *a1, const char *object,
     const mig_vars *vars, char *err)
{
	const char *args[2] = { a0, a1 };
	return restore_location_modify(helper, nargs, args, object, vars, err, 512);
}

Test(location_modify, relative_move_keeps_the_rest_below_the_new_root)
{
	char err[512];
	char *to = move("RelativeMove", 2, "C:\\Users\\bob\\Documents\\Projects",
			"C:\\Users\\bob\\Documents\\Archive", "C:\\Users\\bob\\Documents\\Projects\\2023\\a.docx",
			NULL, err);
	cr_assert_str_eq(to, "C:\\Users\\bob\\Documents\\Archive\\2023\\a.docx");
	free(to);
	/* case-insensitive, trailing backslashes on the roots */
	to = move("RelativeMove", 2, "c:\\users\\BOB\\documents\\projects\\", "D:\\Dest\\",
		  "C:\\Users\\bob\\Documents\\Projects\\x.txt", NULL, err);
	cr_assert_str_eq(to, "D:\\Dest\\x.txt");
	free(to);
	/* the root itself (a folder) */
	to = move("RelativeMove", 2, "C:\\A", "C:\\B", "C:\\A", NULL, err);
	cr_assert_str_eq(to, "C:\\B");
	free(to);
}

Test(location_modify, relative_move_leaves_objects_outside_its_root_and_lookalikes)
{
	char err[512];
	cr_assert_null(move("RelativeMove", 2, "C:\\Users\\bob\\Doc", "C:\\X",
			    "C:\\Users\\bob\\Documents\\a.txt", NULL, err));
	cr_assert_str_empty(err, "not moving is not an error: %s", err);
	cr_assert_null(move("RelativeMove", 2, "C:\\Other", "C:\\X", "C:\\Users\\a.txt", NULL, err));
	cr_assert_str_empty(err);
}

Test(location_modify, registry_keys_move_like_folders)
{
	char err[512];
	char *to = move("RelativeMove", 2, "HKCU\\Software\\Old", "HKCU\\Software\\New",
			"HKCU\\Software\\Old\\Settings", NULL, err);
	cr_assert_str_eq(to, "HKCU\\Software\\New\\Settings");
	free(to);
}

Test(location_modify, exact_move_with_and_without_a_leaf)
{
	char err[512];
	char *to = move("ExactMove", 1, "C:\\Data [renamed.txt]", NULL, "C:\\Users\\bob\\x.txt", NULL, err);
	cr_assert_str_eq(to, "C:\\Data\\renamed.txt");
	free(to);
	to = move("ExactMove", 1, "C:\\Data", NULL, "C:\\Users\\bob\\x.txt", NULL, err);
	cr_assert_str_eq(to, "C:\\Data\\x.txt", "a node alone keeps the object's name");
	free(to);
	to = move("ExactMove", 1, "C:\\Da^[ta^] [n^]ame]", NULL, "C:\\x.txt", NULL, err);
	cr_assert_str_eq(to, "C:\\Da[ta]\\n]ame", "escapes are undone");
	free(to);
}

Test(location_modify, move_keeps_what_follows_the_longest_known_folder)
{
	mig_vars *v = mig_vars_new();
	mig_vars_set(v, "USERPROFILE", "C:\\Users\\bob");
	mig_vars_set(v, "CSIDL_PERSONAL", "C:\\Users\\bob\\Documents");
	mig_vars_set(v, "WINDIR", "C:\\Users\\bob\\Documents\\Sub"); /* not a folder variable */
	char err[512];
	char *to = move("Move", 1, "C:\\Dest", NULL, "C:\\Users\\bob\\Documents\\Sub\\a.txt", v, err);
	cr_assert_str_eq(to, "C:\\Dest\\Sub\\a.txt");
	free(to);
	to = move("Move", 1, "C:\\Dest", NULL, "D:\\Elsewhere\\b.txt", v, err);
	cr_assert_str_eq(to, "C:\\Dest\\b.txt", "no known folder: only the name");
	free(to);
	mig_vars_free(v);
}

Test(location_modify, unusable_scripts_say_why)
{
	char err[512];
	cr_assert_null(move("RelativeMove", 2, "%CSIDL_NOTHING%\\x", "C:\\y", "C:\\a", NULL, err));
	cr_assert(strstr(err, "%CSIDL_NOTHING%\\x") && strstr(err, "not known"), "%s", err);
	cr_assert_null(move("RelativeMove", 1, "C:\\a", NULL, "C:\\a\\b", NULL, err));
	cr_assert(strstr(err, "needs"), "%s", err);
	cr_assert_null(move("Teleport", 1, "C:\\a", NULL, "C:\\a\\b", NULL, err));
	cr_assert(strstr(err, "Teleport") && strstr(err, "not supported"), "%s", err);
	cr_assert_null(move(NULL, 0, NULL, NULL, "C:\\a", NULL, err));
	cr_assert_str_not_empty(err);
}

Test(decision, component_and_file_of_a_capture_decision)
{
	char *file, *comp;
	cr_assert_eq(restore_decision_component("winstate-default.xml:211 include (component "
						"\"Desktop wallpaper and theme\")", &file, &comp), 0);
	cr_assert_str_eq(file, "winstate-default.xml");
	cr_assert_str_eq(comp, "Desktop wallpaper and theme");
	free(file);
	free(comp);
	cr_assert_eq(restore_decision_component("MigApp.xml:12 include (component \"Say \"hi\"\")",
						&file, &comp), 0);
	cr_assert_str_eq(comp, "Say \"hi\"");
	free(file);
	free(comp);
	cr_assert_eq(restore_decision_component("-", &file, &comp), -1);
	cr_assert_eq(restore_decision_component(NULL, &file, &comp), -1);
	cr_assert_eq(restore_decision_component("x (component \"a\")", &file, &comp), -1);
	cr_assert_null(file);
}

Test(cleanup, literal_folder_of_a_pattern)
{
	char *p = restore_rules_literal_prefix("C:\\Users\\bob\\AppData\\Local\\Google\\Chrome\\User Data\\*\\Cache\\* [*]");
	cr_assert_str_eq(p, "C:\\Users\\bob\\AppData\\Local\\Google\\Chrome\\User Data");
	free(p);
	p = restore_rules_literal_prefix("C:\\Users\\bob\\Desktop [*.tmp]");
	cr_assert_str_eq(p, "C:\\Users\\bob\\Desktop");
	free(p);
	p = restore_rules_literal_prefix("C:\\Users\\bob\\Sa?ari\\x [a]");
	cr_assert_str_eq(p, "C:\\Users\\bob");
	free(p);
}

Test(vars, a_store_user_sees_their_own_source_folders)
{
	struct st_kv extra[] = {
		{ "type", "local" },
		{ "folder:Personal", "C:\\Users\\bob\\OneDrive\\Documents" },
		{ "folder:Desktop", "%USERPROFILE%\\OneDrive\\Desktop" },
		{ "folder:My Pictures", "Users/bob/Pics" },
	};
	struct st_user su = { "S-1-5-21-1-2-3-1002", "bob", "Users/bob", extra, 4 };
	mig_vars *v = mig_vars_new();
	restore_rules_user_vars(v, &su, 'C');
	cr_assert_str_eq(mig_vars_get(v, "USERPROFILE"), "C:\\Users\\bob");
	cr_assert_str_eq(mig_vars_get(v, "CSIDL_PERSONAL"), "C:\\Users\\bob\\OneDrive\\Documents");
	cr_assert_str_eq(mig_vars_get(v, "FOLDERID_Documents"), "C:\\Users\\bob\\OneDrive\\Documents");
	cr_assert_str_eq(mig_vars_get(v, "CSIDL_DESKTOP"), "C:\\Users\\bob\\OneDrive\\Desktop");
	cr_assert_str_eq(mig_vars_get(v, "CSIDL_MYPICTURES"), "C:\\Users\\bob\\Pics");
	cr_assert_str_eq(mig_vars_get(v, "CSIDL_MYMUSIC"), "C:\\Users\\bob\\Music", "the default");
	cr_assert_str_eq(mig_vars_get(v, "USERSID"), "S-1-5-21-1-2-3-1002");
	mig_vars_free(v);
}

static char *
temp_file(const char *text)
{
	char *path = strdup("/tmp/winstate-rr-XXXXXX");
	int fd = mkstemp(path);
	cr_assert_geq(fd, 0);
	cr_assert_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	return path;
}

Test(load, bad_files_are_refused_with_a_sentence)
{
	char msg[1024];
	struct restore_rules *r = (void *)1;
	char *broken = temp_file("<?xml version=\"1.0\"?>\n<migration urlid=\"x\"><component>");
	const char *files[] = { broken };
	cr_assert_eq(restore_rules_load(files, 1, NULL, &r, msg, sizeof(msg)), RESTORE_RULES);
	cr_assert_null(r);
	cr_assert(strstr(msg, broken) && strstr(msg, "nothing was written"), "%s", msg);
	const char *missing[] = { "/nonexistent/MigDocs.xml" };
	cr_assert_eq(restore_rules_load(missing, 1, NULL, &r, msg, sizeof(msg)), RESTORE_RULES);
	cr_assert(strstr(msg, "/nonexistent/MigDocs.xml"), "%s", msg);
	cr_assert_eq(restore_rules_load(NULL, 0, broken, &r, msg, sizeof(msg)), RESTORE_CONFIG);
	cr_assert(strstr(msg, "configuration file"), "%s", msg);
	unlink(broken);
	free(broken);
}

Test(load, profile_control_comes_after_the_command_line)
{
	char *cfg = temp_file("<?xml version=\"1.0\"?>\n<Configuration>\n<ProfileControl>\n"
			      "<domains><domain from=\"OLDDOM\" to=\"NEWDOM\"/></domains>\n"
			      "<users><user from=\"CONTOSO\\carol\" to=\"S-1-5-21-9-9-9-1001\"/>\n"
			      "<user from=\"FABRIKAM\\dan\" to=\"S-1-5-21-9-9-9-1002\"/>\n"
			      "<user from=\"LAB\\erin\" to=\"S-1-5-21-9-9-9-1003\"/></users>\n"
			      "</ProfileControl>\n</Configuration>\n");
	char msg[1024];
	struct restore_rules *r;
	cr_assert_eq(restore_rules_load(NULL, 0, cfg, &r, msg, sizeof(msg)), RESTORE_OK, "%s", msg);
	struct restore_map cmu[] = { { "CONTOSO\\carol", "S-1-5-21-1-1-1-500" } };
	struct restore_map cmd[] = { { "FAB*", "NEWFAB" } };
	struct restore_options o = { .mu = cmu, .mu_count = 1, .md = cmd, .md_count = 1 };
	struct restore_map *mu, *md;
	size_t nmu, nmd;
	cr_assert_eq(restore_rules_mappings(r, &o, &mu, &nmu, &md, &nmd), 0);
	/* carol: /mu wins; dan: /md FAB* covers his domain; erin: Config.xml's */
	cr_assert_eq(nmu, 2);
	cr_assert_str_eq(mu[0].to, "S-1-5-21-1-1-1-500");
	cr_assert_str_eq(mu[1].from, "LAB\\erin");
	cr_assert_eq(nmd, 2);
	cr_assert_str_eq(md[0].from, "FAB*");
	cr_assert_str_eq(md[1].from, "OLDDOM");
	cr_assert_str_eq(md[1].to, "NEWDOM");
	free(mu);
	free(md);
	restore_rules_free(r);
	unlink(cfg);
	free(cfg);
}
