/*
 * Restore from a store written here with st_writer (what capture does not
 * produce yet, and what it must never produce): known-folder relocation
 * (OneDrive-redirected Documents into the new Documents), named streams,
 * attributes and times, a hard-link pair, a damaged security descriptor,
 * registry values for HKCU / HKLM / places restore refuses.  The target is a
 * reinstalled fixture; results are read back through the ntfs-3g driver and
 * hivexget, not winstate's reader.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "formats/formats.h"
#include "restore/restore.h"
#include "registry/registry.h"
#include "tests/unit/fuse_wait.h"

#define DANA "S-1-5-21-4144444444-4155555555-4166666666-1200"

static char work[256];

/* The ntfs-3g mount point of the checks, below work. */
static const char *
mnt_dir(void)
{
	static char m[sizeof(work) + 2];
	snprintf(m, sizeof(m), "%s/m", work);
	return m;
}

static int
sh(const char *fmt, ...)
{
	char cmd[4096];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	return system(cmd);
}

static char *
capture(const char *fmt, ...)
{
	char cmd[4096];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	FILE *p = popen(cmd, "r");
	static char buf[65536];
	size_t n = p ? fread(buf, 1, sizeof(buf) - 1, p) : 0;
	buf[n] = 0;
	if (p)
		pclose(p);
	while (n && buf[n - 1] == '\n')
		buf[--n] = 0;
	return buf;
}

static void
add_file(struct st_writer *w, const char *path, const char *data, uint32_t attrs, uint64_t source_id,
	 const uint8_t *sd, size_t sd_len, const char *stream, const char *stream_data)
{
	struct st_file f = { .path = path, .owner = DANA, .decision = "test", .source_id = source_id,
			     .attributes = attrs, .times = { 130000000000000001ull, 131000000000000002ull,
							     132000000000000003ull, 133000000000000004ull },
			     .security = sd, .security_len = sd_len };
	bool need;
	cr_assert_eq(st_writer_begin_file(w, &f, &need), ST_OK, "%s", st_last_error());
	if (need) {
		cr_assert_eq(st_writer_write_data(w, data, strlen(data)), ST_OK);
		if (stream)
			cr_assert_eq(st_writer_add_stream(w, stream, stream_data, strlen(stream_data)), ST_OK);
	}
	cr_assert_eq(st_writer_end_file(w), ST_OK, "%s", st_last_error());
}

static void
add_value(struct st_writer *w, const char *owner, const char *key, const char *name, uint32_t type,
	  const void *data, size_t len)
{
	struct st_reg_value v = { owner, key, name, type, data, len, "test" };
	cr_assert_eq(st_writer_add_registry(w, &v), ST_OK, "%s", st_last_error());
}

static void
setup(void)
{
	const char *fx = getenv("WS_FIXTURES"), *tools = getenv("WS_TOOLS"), *top = getenv("WS_TOP");
	char vol[512];
	snprintf(vol, sizeof(vol), "%s/volume.img", fx ? fx : "");
	if (geteuid() != 0)
		cr_skip_test("needs root (it mounts the target with the ntfs-3g driver)");
	if (!fx || !tools || !top || access(vol, R_OK) || sh("command -v ntfs-3g hivexget >/dev/null"))
		cr_assert_fail("needs ntfs-3g, hivexget (make deps) and the fixtures (make fixtures, and "
			       "run through tests/run.sh)");
	snprintf(work, sizeof(work), "/tmp/ws-restore-e2e-XXXXXX");
	cr_assert(mkdtemp(work));
	cr_assert_eq(sh("cp --sparse=always '%s' '%s/tgt.img' && WS_TOOLSDIR='%s' bash '%s/tests/fixtures/reinstall.sh' "
			"'%s/tgt.img' >/dev/null 2>&1", vol, work, tools, top, work), 0, "reinstall.sh failed");
}

static void
teardown(void)
{
	if (work[0]) {
		if (ntfs3g_pid_of(mnt_dir())) /* a test that stopped half-way */
			umount_and_wait(mnt_dir());
		sh("rm -rf '%s'", work);
		work[0] = 0;
	}
}

Test(restore_e2e, relocation_metadata_links_and_registry, .init = setup, .fini = teardown, .timeout = 300)
{
	char store[300];
	snprintf(store, sizeof(store), "%s/store", work);
	struct st_create_options co = { .format = ST_FORMAT_DIRECTORY, .path = store, .computer = "OLD-PC",
					.windows_version = "test", .winstate_version = "test" };
	struct st_writer *w;
	cr_assert_eq(st_writer_create(&co, &w), ST_OK, "%s", st_last_error());
	struct st_kv extra[] = { { "type", "domain" }, { "domain", "CONTOSO" },
				 { "folder:Personal", "Users/dana/OneDrive/Documents" },
				 { "folder:Desktop", "%USERPROFILE%\\Desktop" } };
	struct st_user u = { DANA, "dana", "Users/dana", extra, 4 };
	cr_assert_eq(st_writer_add_user(w, &u), ST_OK);
	uint8_t *sd;
	size_t sd_len;
	cr_assert_eq(restore_sd_profile_root(DANA, &sd, &sd_len), 0);
	add_file(w, "Users/dana/OneDrive/Documents/plan.docx", "the plan", 0x20, 100, sd, sd_len, NULL, NULL);
	add_file(w, "Users/dana/OneDrive/Documents/Sub/deep.txt", "deep", 0x20, 101, sd, sd_len, NULL, NULL);
	add_file(w, "Users/dana/Desktop/note.txt", "a note", 0x23, 102, sd, sd_len, "Zone.Identifier",
		 "[ZoneTransfer]\r\nZoneId=3\r\n");
	add_file(w, "Users/dana/Desktop/plan (link).docx", "", 0x20, 100, sd, sd_len, NULL, NULL);
	static const uint8_t garbage[] = { 1, 0, 4, 0x80, 0xff, 0xff, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 };
	add_file(w, "Users/dana/Favorites/odd.url", "[InternetShortcut]", 0x20, 103, garbage, sizeof(garbage),
		 NULL, NULL);
	free(sd);
	uint8_t hello[12];
	size_t hlen;
	uint8_t *h16 = fmt_utf8_to_utf16le("hello", &hlen);
	memcpy(hello, h16, hlen);
	free(h16);
	uint32_t seven = 7;
	add_value(w, DANA, "HKCU\\Software\\WinstateTest", "Greeting", REG_SZ, hello, hlen);
	add_value(w, ST_OWNER_SYSTEM, "HKLM\\SOFTWARE\\WinstateTest", "Machine", REG_DWORD, &seven, 4);
	add_value(w, DANA, "HKCU\\Software\\Classes\\.wstest", "", REG_SZ, hello, hlen);
	add_value(w, ST_OWNER_SYSTEM, "HKLM\\SAM\\SAM\\Domains", "Evil", REG_DWORD, &seven, 4);
	cr_assert_eq(st_writer_finish(w, 0), ST_OK, "%s", st_last_error());

	char target[300], logpath[300];
	snprintf(target, sizeof(target), "%s/tgt.img", work);
	snprintf(logpath, sizeof(logpath), "%s/log", work);
	FILE *log = fopen(logpath, "w");
	struct restore_options o = { .store = store, .target = target, .log = log };
	struct restore_result res;
	restore_run(&o, &res);
	fclose(log);
	cr_assert_eq(res.outcome, RESTORE_PARTIAL, "outcome %d: %s", res.outcome, res.message);
	cr_expect_eq(res.files, 4);
	cr_expect_eq(res.links, 1, "the second name of plan.docx");
	cr_expect_eq(res.values, 3, "NTUSER.DAT, SOFTWARE and a new UsrClass.dat");
	cr_expect_eq(res.problem_count, 2, "bad SD, SAM refused");
	bool sd_named = false, sam = false;
	for (size_t i = 0; i < res.problem_count; i++) {
		sd_named |= strstr(res.problems[i], "odd.url") && strstr(res.problems[i], "security descriptor");
		sam |= strstr(res.problems[i], "HKLM\\SAM") != NULL;
	}
	cr_expect(sd_named && sam);
	cr_expect(res.users[0].created);
	restore_result_free(&res);

	cr_assert_eq(sh("mkdir -p '%s/m' && ntfs-3g -o ro,streams_interface=xattr '%s' '%s/m'", work, target, work), 0);
	/* Relocated: OneDrive\Documents -> the new profile's Documents, below-folders too. */
	cr_expect_str_eq(capture("cat '%s/m/Users/dana/Documents/plan.docx'", work), "the plan");
	cr_expect_str_eq(capture("cat '%s/m/Users/dana/Documents/Sub/deep.txt'", work), "deep");
	cr_expect_neq(sh("test -e '%s/m/Users/dana/OneDrive'", work), 0, "OneDrive folder made anyway");
	/* The hard-link pair is one record again. */
	char *ino = strdup(capture("stat -c %%i '%s/m/Users/dana/Documents/plan.docx'", work));
	cr_expect_str_eq(ino, capture("stat -c %%i '%s/m/Users/dana/Desktop/plan (link).docx'", work));
	free(ino);
	/* Named stream, attributes (R|H|A) and the four times. */
	cr_expect(strstr(capture("getfattr --absolute-names -n user.Zone.Identifier --only-values "
				 "'%s/m/Users/dana/Desktop/note.txt'", work), "ZoneId=3"));
	cr_expect_str_eq(capture("getfattr --absolute-names -e hex -n system.ntfs_attrib --only-values "
				 "'%s/m/Users/dana/Desktop/note.txt' | xxd -p", work), "23000000");
	char *times = strdup(capture("getfattr --absolute-names -e hex -n system.ntfs_times "
				     "'%s/m/Users/dana/Desktop/note.txt' | sed -n 's/.*=0x//p'", work));
	cr_expect_str_eq(times, capture("python3 -c \"import struct;print(struct.pack('<4Q',"
					"130000000000000001,131000000000000002,132000000000000003,"
					"133000000000000004).hex())\""));
	free(times);
	/* The damaged descriptor was replaced by one inherited from the folder: owner dana. */
	char *acl = capture("getfattr --absolute-names -e hex -n system.ntfs_acl "
			    "'%s/m/Users/dana/Favorites/odd.url' | sed -n 's/.*=0x//p'", work);
	cr_expect(strlen(acl) > 40, "no descriptor: %s", acl);
	/* Registry: read with hivexget. */
	cr_expect_str_eq(capture("hivexget '%s/m/Users/dana/NTUSER.DAT' 'Software\\WinstateTest' Greeting", work),
			 "hello");
	cr_expect_str_eq(capture("hivexget '%s/m/Windows/System32/config/SOFTWARE' WinstateTest Machine", work),
			 "7");
	cr_expect_str_eq(capture("hivexget '%s/m/Windows/System32/config/SOFTWARE' "
				 "'Microsoft\\Windows NT\\CurrentVersion\\ProfileList\\%s' ProfileImagePath", work, DANA),
			 "C:\\Users\\dana");
	cr_expect_neq(sh("hivexget '%s/m/Windows/System32/config/SAM' 'SAM\\Domains' Evil >/dev/null 2>&1", work), 0);
	/* The new profile's UsrClass.dat, made for its Classes value. */
	cr_expect_str_eq(capture("hivexget '%s/m/Users/dana/AppData/Local/Microsoft/Windows/UsrClass.dat' "
				 "'.wstest' @", work), "hello");
	/* No temporary hive names left behind. */
	cr_expect_str_eq(capture("find '%s/m/Users/dana' '%s/m/Windows/System32/config' -name '*.winstate-new' | wc -l",
				 work, work), "0");
	cr_assert_eq(umount_and_wait(mnt_dir()), 0);
}

/* A new profile is named after the source profile's folder; a store whose
 * recorded folder cannot be a folder name is refused with a sentence. */
#define SCULLY "S-1-5-21-4144444444-4155555555-4166666666-1201"
#define EVE "S-1-5-21-4144444444-4155555555-4166666666-1202"

static enum restore_outcome
restore_store(const char *store, struct restore_result *res)
{
	char target[300];
	snprintf(target, sizeof(target), "%s/tgt.img", work);
	struct restore_options o = { .store = store, .target = target };
	restore_run(&o, res);
	return res->outcome;
}

static void
one_user_store(const char *store, const char *sid, const char *name, const char *image_path,
	       const char *rel)
{
	struct st_create_options co = { .format = ST_FORMAT_DIRECTORY, .path = store, .computer = "OLD-PC",
					.windows_version = "test", .winstate_version = "test" };
	struct st_writer *w;
	cr_assert_eq(st_writer_create(&co, &w), ST_OK, "%s", st_last_error());
	struct st_kv extra[] = { { "type", "domain" }, { "domain", "CONTOSO" },
				 { "profile_image_path", image_path } };
	struct st_user u = { sid, name, rel, extra, 3 };
	cr_assert_eq(st_writer_add_user(w, &u), ST_OK);
	cr_assert_eq(st_writer_finish(w, 0), ST_OK, "%s", st_last_error());
}

Test(restore_e2e, profile_folder_named_after_the_source_folder, .init = setup, .fini = teardown,
     .timeout = 300)
{
	char store[300];
	struct restore_result res;
	const char *pl = "Microsoft\\Windows NT\\CurrentVersion\\ProfileList";

	/* "C:\Users\.." names no folder: refused, no profile made. */
	snprintf(store, sizeof(store), "%s/bad", work);
	one_user_store(store, SCULLY, "dscully", "C:\\Users\\..", "Users/dscully");
	cr_expect_eq(restore_store(store, &res), RESTORE_STORE_CORRUPT, "outcome %d", res.outcome);
	cr_expect(strstr(res.message, "cannot be a folder name"), "%s", res.message);
	restore_result_free(&res);

	/* The account is dscully, the folder the user knew is "Dana Scully". */
	snprintf(store, sizeof(store), "%s/scully", work);
	one_user_store(store, SCULLY, "dscully", "C:\\Users\\Dana Scully", "Users/Dana Scully");
	cr_expect_eq(restore_store(store, &res), RESTORE_OK, "outcome %d: %s", res.outcome, res.message);
	cr_expect_str_eq(res.users[0].profile, "Users/Dana Scully");
	restore_result_free(&res);

	/* A temporary profile's TEMP folder is nobody's name: the account's is used. */
	snprintf(store, sizeof(store), "%s/eve", work);
	one_user_store(store, EVE, "eve", "C:\\Users\\TEMP", "Users/TEMP");
	cr_expect_eq(restore_store(store, &res), RESTORE_OK, "outcome %d: %s", res.outcome, res.message);
	cr_expect_str_eq(res.users[0].profile, "Users/eve");
	restore_result_free(&res);

	char target[300];
	snprintf(target, sizeof(target), "%s/tgt.img", work);
	cr_assert_eq(sh("mkdir -p '%s/m' && ntfs-3g -o ro '%s' '%s/m'", work, target, work), 0);
	cr_expect_eq(sh("test -f '%s/m/Users/Dana Scully/NTUSER.DAT'", work), 0);
	cr_expect_neq(sh("test -e '%s/m/Users/dscully'", work), 0, "a folder named after the account");
	cr_expect_eq(sh("test -f '%s/m/Users/eve/NTUSER.DAT'", work), 0);
	cr_expect_neq(sh("test -e '%s/m/Users/TEMP'", work), 0);
	cr_expect_str_eq(capture("hivexget '%s/m/Windows/System32/config/SOFTWARE' '%s\\%s' ProfileImagePath",
				 work, pl, SCULLY), "C:\\Users\\Dana Scully");
	cr_expect_str_eq(capture("hivexget '%s/m/Windows/System32/config/SOFTWARE' '%s\\%s' ProfileImagePath",
				 work, pl, EVE), "C:\\Users\\eve");
	cr_assert_eq(umount_and_wait(mnt_dir()), 0);
}
