/* USMT's offline.xml (/offline:FILE) and the DISK[:PART][:\Windows] form. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "rules/rules.h"

static char path[4200];

/* Write @text to a fresh file; its name is in `path`. */
static const char *
offline_file(const char *text)
{
	const char *tmp = getenv("TMPDIR");
	snprintf(path, sizeof(path), "%s/offline-XXXXXX.xml", tmp ? tmp : "/tmp");
	int fd = mkstemps(path, 4);
	cr_assert_geq(fd, 0);
	FILE *f = fdopen(fd, "w");
	cr_assert_not_null(f);
	fputs(text, f);
	cr_assert_eq(fclose(f), 0);
	return path;
}

static void
done(void)
{
	if (path[0])
		unlink(path);
	path[0] = 0;
}

TestSuite(rules_offline, .fini = done);

Test(rules_offline, split_disk_partition_and_windows)
{
	char *disk, *windir;
	cr_assert_eq(mig_offline_split("/dev/sda:3:\\Windows\\", &disk, &windir), 0);
	cr_assert_str_eq(disk, "/dev/sda:3");
	cr_assert_str_eq(windir, "Windows");
	free(disk);
	free(windir);
	cr_assert_eq(mig_offline_split("disk.img:/Windows.old/Windows", &disk, &windir), 0);
	cr_assert_str_eq(disk, "disk.img");
	cr_assert_str_eq(windir, "Windows.old/Windows");
	free(disk);
	free(windir);
	cr_assert_eq(mig_offline_split("disk.img:2", &disk, &windir), 0);
	cr_assert_str_eq(disk, "disk.img:2");
	cr_assert_null(windir);
	free(disk);
	cr_assert_eq(mig_offline_split(":\\Windows", &disk, &windir), -1);
	cr_assert_null(disk);
	cr_assert_null(windir);
	cr_assert_eq(mig_offline_split("", &disk, &windir), -1);
}

Test(rules_offline, every_windir_path_in_order)
{
	struct mig_offline o;
	char err[1024];
	offline_file("<?xml version=\"1.0\"?>\n<offline>\n"
		     "  <winDir>\n    <path> /dev/sdb:2:\\Windows </path>\n"
		     "    <path>:\\nodisk</path>\n  </winDir>\n"
		     "  <other><path>ignored.img</path></other>\n"
		     "  <WINDIR><Path>disk.img</Path></WINDIR>\n</offline>\n");
	cr_assert_eq(mig_offline_load(path, &o, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(o.count, 2);
	cr_assert_str_eq(o.windows[0].disk, "/dev/sdb:2");
	cr_assert_str_eq(o.windows[0].windir, "Windows");
	cr_assert_str_eq(o.windows[1].disk, "disk.img");
	cr_assert_null(o.windows[1].windir);
	mig_offline_free(&o);
	cr_assert_eq(o.count, 0);
}

Test(rules_offline, no_offline_root)
{
	struct mig_offline o;
	char err[1024];
	offline_file("<migration><winDir><path>disk.img</path></winDir></migration>");
	cr_assert_eq(mig_offline_load(path, &o, err, sizeof(err)), -1);
	cr_assert(strstr(err, "its root is not <offline>"), "%s", err);
	cr_assert(strstr(err, path), "%s", err);
	cr_assert_eq(o.count, 0);
}

Test(rules_offline, no_windir_is_an_empty_list)
{
	struct mig_offline o;
	char err[1024];
	offline_file("<offline><path>disk.img</path></offline>");
	cr_assert_eq(mig_offline_load(path, &o, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(o.count, 0);
	mig_offline_free(&o);
}

Test(rules_offline, missing_and_malformed_files)
{
	struct mig_offline o;
	char err[1024];
	cr_assert_eq(mig_offline_load("/nonexistent/offline.xml", &o, err, sizeof(err)), -1);
	cr_assert(strstr(err, "/nonexistent/offline.xml cannot be read as XML"), "%s", err);
	cr_assert(strstr(err, "No such file"), "%s", err);
	offline_file("<offline><winDir><path>disk.img</winDir></offline>");
	cr_assert_eq(mig_offline_load(path, &o, err, sizeof(err)), -1);
	cr_assert(strstr(err, "cannot be read as XML"), "%s", err);
}

Test(rules_offline, dtd_and_entities_refused)
{
	struct mig_offline o;
	char err[1024];
	offline_file("<?xml version=\"1.0\"?>\n<!DOCTYPE offline [<!ENTITY d \"disk.img\">]>\n"
		     "<offline><winDir><path>&d;</path></winDir></offline>\n");
	cr_assert_eq(mig_offline_load(path, &o, err, sizeof(err)), -1);
	cr_assert(strstr(err, "DTDs and entities are not allowed"), "%s", err);
	done();
	/* Without a DTD an entity is undefined: not well-formed. */
	offline_file("<offline><winDir><path>&d;</path></winDir></offline>\n");
	cr_assert_eq(mig_offline_load(path, &o, err, sizeof(err)), -1);
	cr_assert(strstr(err, "cannot be read as XML"), "%s", err);
}
