/*
 * Capture (capture/) on the fixture volume, checked through independent
 * paths: the store is read back with st_reader, and every captured file's
 * metadata and data are compared with what the ntfs-3g FUSE driver shows for
 * the same file (system.ntfs_acl / ntfs_attrib / ntfs_times /
 * ntfs_reparse_data, user.<stream>, sha256 of the content); what the store
 * holds is compared with what `winstate explain` says about each file.
 */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "capture/capture.h"
#include "store/store.h"
#include "windows/windows.h"
#include "tests/unit/fuse_wait.h"
#include "tests/unit/fixture_env.h"

/* ---------------------------------------------------------- helpers -- */

static char *
vfmt(const char *fmt, va_list ap)
{
	char *s;
	cr_assert(vasprintf(&s, fmt, ap) >= 0);
	return s;
}

static int __attribute__((format(printf, 1, 2)))
sh(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *cmd = vfmt(fmt, ap);
	va_end(ap);
	int rc = system(cmd);
	free(cmd);
	return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

static char *__attribute__((format(printf, 2, 3)))
sh_out(size_t *len, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *cmd = vfmt(fmt, ap);
	va_end(ap);
	FILE *p = popen(cmd, "r");
	cr_assert_not_null(p);
	char *buf = NULL;
	size_t cap = 0, n = 0, got;
	do {
		if (n + 65536 > cap)
			cr_assert_not_null(buf = realloc(buf, cap = cap * 2 + 65536));
		got = fread(buf + n, 1, cap - n - 1, p);
		n += got;
	} while (got);
	buf[n] = 0;
	pclose(p);
	free(cmd);
	if (len)
		*len = n;
	return buf;
}

static const char *
fixtures_dir(void)
{
	const char *d = getenv("WS_FIXTURES");
	static char path[4096];
	snprintf(path, sizeof(path), "%s/volume.img", d ? d : "build/fixtures");
	if (access(path, R_OK))
		cr_assert_fail("fixture %s is not built (make fixtures)", path);
	return d ? d : "build/fixtures";
}

static const char *
env(const char *key)
{
	char path[4096];
	snprintf(path, sizeof(path), "%s/fixture.env", fixtures_dir());
	return fixture_env_value(path, key);
}

static char *
scratch(void)
{
	char *d = strdup("/tmp/winstate-scan-XXXXXX");
	cr_assert_not_null(mkdtemp(d));
	return d;
}

static uint8_t *
xattr(const char *path, const char *name, size_t *len)
{
	if (sh("getfattr -h -n '%s' \"%s\" >/dev/null 2>&1", name, path))
		return NULL;
	return (uint8_t *)sh_out(len, "getfattr -h --only-values -n '%s' \"%s\" 2>/dev/null", name,
				 path);
}

struct sha {
	crypto_hash_sha256_state st;
};

static int
sha_fn(const void *buf, size_t len, void *ctx)
{
	crypto_hash_sha256_update(&((struct sha *)ctx)->st, buf, len);
	return 0;
}

static void
hex(const uint8_t *b, size_t n, char *out)
{
	for (size_t i = 0; i < n; i++)
		sprintf(out + 2 * i, "%02x", b[i]);
}

static void
store_sha(struct st_reader *r, size_t idx, size_t stream, char out[65])
{
	struct sha s;
	uint8_t d[32];
	crypto_hash_sha256_init(&s.st);
	cr_assert_eq(st_reader_read(r, idx, stream, sha_fn, &s), ST_OK, "%s", st_last_error());
	crypto_hash_sha256_final(&s.st, d);
	hex(d, 32, out);
}

static void
fuse_sha(const char *path, char out[65])
{
	char *o = sh_out(NULL, "sha256sum < \"%s\" | cut -c1-64", path);
	o[strcspn(o, "\n")] = 0;
	snprintf(out, 65, "%s", o);
	free(o);
}

/* The outcome alone; the result is checked where a test needs it. */
static enum capture_outcome
run_capture(const struct capture_options *o)
{
	struct capture_result res;
	enum capture_outcome out = capture_run(o, &res);
	cr_assert_eq(out, res.outcome);
	cr_assert(out == CAPTURE_OK || out == CAPTURE_PARTIAL || res.message[0],
		  "outcome %d without a sentence", out);
	capture_result_free(&res);
	return out;
}

static enum capture_outcome
capture(const char *source, const char *store, bool nocompress, bool hardlink, const char *log)
{
	struct capture_options o = { .prog = "test", .source = source, .store = store,
				  .nocompress = nocompress, .hardlink = hardlink,
				  .efs = hardlink ? CAPTURE_EFS_HARDLINK : CAPTURE_EFS_SKIP, .log = log,
				  .verbosity = 1 };
	return run_capture(&o);
}

/* What `winstate explain` says about a volume path in alice's context. */
static bool
explain_included(const char *img, const char *rel)
{
	const char *bin = getenv("WS_BIN");
	if (!bin)
		cr_assert_fail("WS_BIN is not set (run through tests/run.sh)");
	char win[4096];
	snprintf(win, sizeof(win), "C:\\%s", rel);
	for (char *c = win; *c; c++)
		if (*c == '/')
			*c = '\\';
	char *out = sh_out(NULL, "'%s' explain --user alice '%s' '%s' 2>&1", bin, img, win);
	bool inc = strstr(out, "user context (alice): INCLUDED") ||
		   strstr(out, "system context: INCLUDED");
	bool uncond = strstr(out, "UNCONDITIONALLY_EXCLUDED") != NULL;
	free(out);
	return inc && !uncond;
}

/* ------------------------------------------------------- the checks -- */

/* Every metadata item of @rel in the store equals what FUSE shows. */
static void
check_file(struct st_reader *r, const char *mnt, const char *rel, bool data_copied)
{
	int64_t idx = st_reader_find(r, rel);
	cr_assert_geq(idx, 0, "%s is not in the store", rel);
	const struct st_file *f = st_reader_file(r, (size_t)idx);
	const struct st_file *t = f->link_to >= 0 ? st_reader_file(r, (size_t)f->link_to) : f;
	char path[8192];
	snprintf(path, sizeof(path), "%s/%s", mnt, rel);
	size_t len;
	uint8_t *x = xattr(path, "system.ntfs_acl", &len);
	cr_assert_not_null(x, "%s: FUSE shows no security descriptor", rel);
	cr_assert_eq(len, f->security_len, "%s: security descriptor length", rel);
	cr_assert_arr_eq(x, f->security, len, "%s: security descriptor", rel);
	free(x);
	x = xattr(path, "system.ntfs_attrib", &len);
	cr_assert_not_null(x);
	uint32_t attrib = (uint32_t)x[0] | (uint32_t)x[1] << 8 | (uint32_t)x[2] << 16 |
			  (uint32_t)x[3] << 24;
	cr_assert_eq(attrib, f->attributes, "%s: attributes 0x%x vs 0x%x", rel, attrib, f->attributes);
	free(x);
	x = xattr(path, "system.ntfs_times", &len);
	cr_assert_not_null(x);
	for (size_t i = 0; i < 4 && i * 8 + 8 <= len; i++) {
		uint64_t v = 0;
		for (int b = 7; b >= 0; b--)
			v = v << 8 | x[i * 8 + (size_t)b];
		cr_assert_eq(v, f->times[i], "%s: time %zu", rel, i);
	}
	free(x);
	x = xattr(path, "system.ntfs_reparse_data", &len);
	if (x && len) {
		cr_assert_eq(len, f->reparse_len, "%s: reparse length", rel);
		cr_assert_arr_eq(x, f->reparse, len, "%s: reparse data", rel);
	} else {
		cr_assert_eq(f->reparse_len, 0, "%s: reparse data where FUSE shows none", rel);
	}
	free(x);
	if (!data_copied)
		return;
	/* Named streams: each user.<name> xattr, same bytes. */
	char *names = sh_out(NULL, "getfattr -h -m '^user\\.' \"%s\" 2>/dev/null | grep '^user\\.'",
			     path);
	size_t nnamed = 0;
	for (char *line = strtok(names, "\n"); line; line = strtok(NULL, "\n")) {
		const char *sname = line + 5;
		size_t k = 1;
		while (k < t->stream_count && strcmp(t->streams[k].name, sname))
			k++;
		cr_assert_lt(k, t->stream_count, "%s: stream %s is not in the store", rel, sname);
		char want[65], got[65];
		char *v = sh_out(NULL, "getfattr -h --only-values -n 'user.%s' \"%s\" 2>/dev/null | sha256sum | "
				 "cut -c1-64", sname, path);
		v[strcspn(v, "\n")] = 0;
		snprintf(want, sizeof(want), "%s", v);
		free(v);
		store_sha(r, (size_t)idx, k, got);
		cr_assert_str_eq(got, want, "%s:%s content", rel, sname);
		nnamed++;
	}
	free(names);
	cr_assert_eq(nnamed + 1, t->stream_count, "%s: stream count", rel);
	if (f->reparse_len)
		return; /* FUSE shows reparse points as links: content checked by the caller */
	char want[65], got[65];
	fuse_sha(path, want);
	store_sha(r, (size_t)idx, 0, got);
	cr_assert_str_eq(got, want, "%s: content", rel);
}

static bool
skipped(struct st_reader *r, const char *winpath, const char *word)
{
	for (size_t i = 0; i < st_reader_skipped_count(r); i++) {
		const struct st_skipped *s = st_reader_skipped(r, i);
		if (!strcasecmp(s->path, winpath) && strstr(s->reason, word))
			return true;
	}
	return false;
}

static void
check_store(struct st_reader *r, const char *img, const char *mnt, bool data_copied)
{
	const char *files[] = { "ZONE_FILE", "READONLY_FILE", "HIDDEN_FILE", "SYSTEM_FILE",
		"UNICODE_CJK", "UNICODE_EMOJI", "UNICODE_NFC", "UNICODE_NFD", "LONG_PATH",
		"LONG_PATH_1000", "HARDLINK_A", "HARDLINK_B", "SPARSE_FILE", "COMPRESSED_FILE",
		"ONEDRIVE_HYDRATED", "SYMLINK_FILE" };
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		const char *rel = env(files[i]);
		cr_assert(explain_included(img, rel), "explain does not include %s (%s)", files[i], rel);
		check_file(r, mnt, rel, data_copied);
	}
	/* The two names of one file: stored once, the second a link entry. */
	int64_t a = st_reader_find(r, env("HARDLINK_A")), b = st_reader_find(r, env("HARDLINK_B"));
	const struct st_file *fa = st_reader_file(r, (size_t)a), *fb = st_reader_file(r, (size_t)b);
	cr_assert_eq(fa->source_id, fb->source_id);
	if (data_copied)
		cr_assert(fa->link_to == b || fb->link_to == a, "hard-link pair stored twice");
	/* Sparse flag kept. */
	const struct st_file *sp = st_reader_file(r, (size_t)st_reader_find(r, env("SPARSE_FILE")));
	cr_assert(sp->sparse, "sparse flag lost");
	/* Decisions name the rule file and line. */
	const struct st_file *z = st_reader_file(r, (size_t)st_reader_find(r, env("ZONE_FILE")));
	cr_assert(strstr(z->decision, ".xml:"), "decision text: %s", z->decision);
	cr_assert_str_eq(z->owner, env("ALICE_SID"));
	/* Never captured: placeholder, EFS (skip), junction loop, not-selected and
	 * excluded files, Windows' own files. */
	char win[4096];
	snprintf(win, sizeof(win), "C:\\%s", env("ONEDRIVE_PLACEHOLDER"));
	for (char *c = win; *c; c++)
		if (*c == '/')
			*c = '\\';
	cr_assert_lt(st_reader_find(r, env("ONEDRIVE_PLACEHOLDER")), 0, "placeholder captured");
	cr_assert(skipped(r, win, "cloud"), "placeholder not reported as skipped");
	if (data_copied) /* --efs skip */
		cr_assert_lt(st_reader_find(r, env("EFS_FILE")), 0);
	else /* --efs hardlink */
		cr_assert_geq(st_reader_find(r, env("EFS_FILE")), 0);
	if (data_copied) {
		/* A hydrated cloud file is captured with its data (manifest oracle). */
		char got[65];
		store_sha(r, (size_t)st_reader_find(r, env("ONEDRIVE_HYDRATED")), 0, got);
		cr_assert_str_eq(got, env("ONEDRIVE_HYDRATED_SHA256"));
	}
	const char *never[] = { "JUNCTION_LOOP", "JUNCTION", "PAGEFILE", "SWAPFILE", "WOF_FILE",
		"RECYCLE_R" };
	for (size_t i = 0; i < sizeof(never) / sizeof(never[0]); i++)
		cr_assert_lt(st_reader_find(r, env(never[i])), 0, "%s captured", never[i]);
	/* Every file in the store is one explain includes (a sample of them),
	 * and some that explain does not include are absent. */
	size_t n = st_reader_file_count(r);
	cr_assert_gt(n, 100);
	for (size_t i = 0; i < n; i += n / 12) {
		const struct st_file *f = st_reader_file(r, i);
		if (!strncmp(f->path, "Users/alice/", 12))
			cr_assert(explain_included(img, f->path), "%s in the store, explain disagrees",
				  f->path);
	}
	char *temp = sh_out(NULL, "cd '%s' && find Users/alice/AppData/Local/Temp "
			    "Users/alice/AppData/Local/Microsoft/Windows/INetCache -type f | head -3", mnt);
	int nt = 0;
	for (char *line = strtok(temp, "\n"); line; line = strtok(NULL, "\n"), nt++) {
		cr_assert(!explain_included(img, line), "explain includes %s", line);
		cr_assert_lt(st_reader_find(r, line), 0, "%s (excluded) is in the store", line);
	}
	cr_assert_gt(nt, 0);
	cr_assert_geq(st_reader_user_count(r), 5);
	cr_assert_gt(st_reader_registry_count(r), 10);
	bool wallpaper = false;
	for (size_t i = 0; i < st_reader_registry_count(r); i++) {
		const struct st_reg_value *v = st_reader_registry(r, i);
		if (!strcasecmp(v->key, "HKCU\\Control Panel\\Desktop") &&
		    !strcasecmp(v->name, "Wallpaper") && !strcmp(v->owner, env("ALICE_SID")))
			wallpaper = true;
	}
	cr_assert(wallpaper, "alice's wallpaper value is not in the store");
}

static void
mount_ro(const char *img, const char *mnt)
{
	cr_assert_eq(sh("mkdir -p '%s' && ntfs-3g -o ro,streams_interface=xattr '%s' '%s'", mnt, img,
			mnt), 0, "ntfs-3g could not mount %s", img);
}

static void
umount_dir(const char *mnt)
{
	cr_assert_eq(umount_and_wait(mnt), 0, "cannot unmount %s", mnt);
}

static void
local_store_test(bool nocompress)
{
	const char *fx = fixtures_dir();
	char *dir = scratch(), img[4096], store[4200], mnt[4200], log[4200];
	snprintf(img, sizeof(img), "%s/volume.img", fx);
	snprintf(store, sizeof(store), "%s/store", dir);
	snprintf(mnt, sizeof(mnt), "%s/mnt", dir);
	snprintf(log, sizeof(log), "%s/scan.log", dir);
	char *before = sh_out(NULL, "sha256sum < '%s'", img);
	enum capture_outcome rc = capture(img, store, nocompress, false, log);
	cr_assert_eq(rc, CAPTURE_OK, "capture failed (%d): see %s", rc, log);
	char *after = sh_out(NULL, "sha256sum < '%s'", img);
	cr_assert_str_eq(before, after, "the source image changed during a capture");
	struct st_reader *r;
	cr_assert_eq(st_reader_open(store, NULL, &r), ST_OK, "%s", st_last_error());
	cr_assert_eq(st_reader_info(r)->format, nocompress ? ST_FORMAT_DIRECTORY : ST_FORMAT_COMPRESSED);
	mount_ro(img, mnt);
	check_store(r, img, mnt, true);
	umount_dir(mnt);
	st_reader_close(r);
	free(before);
	free(after);
	sh("rm -rf '%s'", dir);
	free(dir);
}

Test(scan, compressed_store_matches_fuse_and_explain, .timeout = 300)
{
	local_store_test(false);
}

Test(scan, directory_store_matches_fuse_and_explain, .timeout = 300)
{
	local_store_test(true);
}

Test(scan, hardlink_store_links_the_captured_records, .timeout = 300)
{
	const char *fx = fixtures_dir();
	char *dir = scratch(), img[4096], mnt[4200], log[4200];
	snprintf(img, sizeof(img), "%s/vol.img", dir);
	snprintf(mnt, sizeof(mnt), "%s/mnt", dir);
	snprintf(log, sizeof(log), "%s/scan.log", dir);
	cr_assert_eq(sh("cp --sparse=always '%s/volume.img' '%s'", fx, img), 0);
	enum capture_outcome rc = capture(img, "MigStore", true, true, log);
	cr_assert_eq(rc, CAPTURE_OK, "hard-link capture failed (%d): see %s", rc, log);
	struct nv_volume *vol;
	struct nv_open_options oo = { 0 };
	cr_assert_eq(nv_open(img, &oo, &vol), NV_OK);
	struct st_reader *r;
	cr_assert_eq(st_reader_open_ntfs(vol, "MigStore", &r), ST_OK, "%s", st_last_error());
	cr_assert_eq(st_reader_info(r)->format, ST_FORMAT_HARDLINK);
	mount_ro(img, mnt);
	check_store(r, img, mnt, false);
	/* Each store entry is the same MFT record as the original (a link, no copy). */
	const char *keys[] = { "ZONE_FILE", "UNICODE_CJK", "LONG_PATH", "SPARSE_FILE", "EFS_FILE" };
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		char a[8192], b[8192];
		struct stat sa, sb;
		snprintf(a, sizeof(a), "%s/%s", mnt, env(keys[i]));
		snprintf(b, sizeof(b), "%s/MigStore/USMT/File/C$/%s", mnt, env(keys[i]));
		cr_assert_eq(lstat(a, &sa), 0, "%s", a);
		cr_assert_eq(lstat(b, &sb), 0, "%s is not in the hard-link store", b);
		cr_assert_eq(sa.st_ino, sb.st_ino, "%s: the store entry is not the same record", keys[i]);
	}
	/* The store does not contain itself. */
	for (size_t i = 0; i < st_reader_file_count(r); i++)
		cr_assert(strncasecmp(st_reader_file(r, i)->path, "MigStore/", 9),
			  "the store captured itself: %s", st_reader_file(r, i)->path);
	umount_dir(mnt);
	st_reader_close(r);
	nv_close(vol);
	sh("rm -rf '%s'", dir);
	free(dir);
}

/* ------------------------------------------------- user selection syntax -- */

Test(scan_users, patterns)
{
	const char *dom[] = { "WS-PC01" };
	const char *sid = "S-1-5-21-1111111111-2222222222-3333333333-1001";
	cr_assert(win_user_matches("WS-PC01\\alice", sid, "alice", dom, 1));
	cr_assert(win_user_matches("ws-pc01\\ALICE", sid, "alice", dom, 1));
	cr_assert(win_user_matches("*\\*", sid, "alice", dom, 1));
	cr_assert(win_user_matches("alice", sid, "alice", dom, 1));
	cr_assert(win_user_matches("S-1-5-21-*-1001", sid, "alice", dom, 1));
	cr_assert(win_user_matches("*-1001", sid, "alice", dom, 1));
	cr_assert_not(win_user_matches("CONTOSO\\alice", sid, "alice", dom, 1));
	cr_assert_not(win_user_matches("bob", sid, "alice", dom, 1));
	cr_assert_not(win_user_matches("*-500", sid, "alice", dom, 1));
	cr_assert_not(win_user_matches("WS-PC01\\alice", sid, "alice", NULL, 0));
	cr_assert_not(win_user_matches("", sid, "alice", dom, 1));
}

Test(scan_users, everyone_includes_unknown_domains)
{
	/* A profile whose domain cannot be known offline (a SID from another
	 * PC or an unreachable domain) is still "everyone". */
	const char *sid = "S-1-5-21-9-9-9-1104";
	cr_assert(win_user_matches("*\\*", sid, "frank", NULL, 0));
	cr_assert(win_user_matches("**\\*", sid, "frank", NULL, 0));
	cr_assert(win_user_matches("*\\frank", sid, NULL, NULL, 0) == false);
	cr_assert(win_user_matches("*\\fr*", sid, "frank", NULL, 0));
	cr_assert(win_user_matches("*\\*-1104", sid, NULL, NULL, 0));
	cr_assert_not(win_user_matches("*\\bob", sid, "frank", NULL, 0));
	cr_assert_not(win_user_matches("CONTOSO\\*", sid, "frank", NULL, 0));
	cr_assert_not(win_user_matches("C*\\*", sid, "frank", NULL, 0));
	const char *dom[] = { "CONTOSO" };
	cr_assert(win_user_matches("C*\\*", sid, "frank", dom, 1));
}

Test(scan_users, bad_patterns_are_named)
{
	cr_assert_null(win_user_pattern_problem("CONTOSO\\carol"));
	cr_assert_null(win_user_pattern_problem("*\\*"));
	cr_assert_null(win_user_pattern_problem("S-1-5-21-*-1001"));
	cr_assert_null(win_user_pattern_problem("alice"));
	cr_assert(strstr(win_user_pattern_problem(""), "is empty"));
	cr_assert(strstr(win_user_pattern_problem(NULL), "is empty"));
	cr_assert(strstr(win_user_pattern_problem("CONTOSO\\"), "no user"));
	cr_assert(strstr(win_user_pattern_problem("\\carol"), "no domain"));
	cr_assert(strstr(win_user_pattern_problem("A\\B\\c"), "more than one"));
}

Test(scan_users, usmt_precedence)
{
	const char *why;
	/* No options: everyone. */
	cr_assert(win_user_pick(false, false, false, false, &why));
	/* /ue excludes. */
	cr_assert_not(win_user_pick(false, true, false, true, &why));
	cr_assert(strstr(why, "--ue"));
	/* /ui wins over /ue and over /uel. */
	cr_assert(win_user_pick(true, true, false, false, &why));
	cr_assert(win_user_pick(true, false, true, false, &why));
	cr_assert(win_user_pick(true, true, true, false, &why));
	/* /uel wins over /ue: "/ue:fixed\\user1 /uel:14" keeps user1 if recent. */
	cr_assert(win_user_pick(false, true, true, true, &why));
	cr_assert(strstr(why, "wins over --ue"), "%s", why);
	/* /uel is an include rule: the not-recent are left out, /ue or not. */
	cr_assert_not(win_user_pick(false, false, true, false, &why));
	cr_assert_not(win_user_pick(false, true, true, false, &why));
	cr_assert(win_user_pick(false, false, true, true, &why));
}

Test(scan_users, uel)
{
	int64_t c;
	bool latest;
	const int64_t epoch = 116444736000000000LL;
	cr_assert_eq(win_parse_uel("30", 86400 * 100, &c, &latest), 0);
	cr_assert_eq(c, (int64_t)86400 * 70 * 10000000LL + epoch);
	cr_assert_not(latest);
	cr_assert_eq(win_parse_uel("2023/01/01", 0, &c, &latest), 0);
	cr_assert_eq(c, 1672531200LL * 10000000LL + epoch);
	cr_assert_eq(win_parse_uel("0", 0, &c, &latest), 0);
	cr_assert(latest);
	cr_assert_eq(win_parse_uel("", 0, &c, &latest), -1);
	cr_assert_eq(win_parse_uel("-3", 0, &c, &latest), -1);
	cr_assert_eq(win_parse_uel("2023/13/01", 0, &c, &latest), -1);
	cr_assert_eq(win_parse_uel("30days", 0, &c, &latest), -1);
	cr_assert_eq(win_parse_uel("99999999", 0, &c, &latest), -1);
}

/* ------------------------------------------------------------ encryption -- */

Test(scan, encrypted_store_needs_its_key, .timeout = 300)
{
	const char *fx = fixtures_dir();
	char *dir = scratch(), img[4096], store[4200];
	snprintf(img, sizeof(img), "%s/volume.img", fx);
	snprintf(store, sizeof(store), "%s/store", dir);
	struct st_key key = { .kind = ST_KEY_PASSPHRASE, .passphrase = "correct horse" };
	struct capture_options o = { .prog = "test", .source = img, .store = store,
				  .efs = CAPTURE_EFS_SKIP, .key = &key, .kdf_ops = 1,
				  .kdf_mem = 8u << 20, .ui = (const char *[]){ "alice" }, .nui = 1,
				  .ue = (const char *[]){ "*" }, .nue = 1 };
	cr_assert_eq(run_capture(&o), CAPTURE_OK);
	struct st_reader *r;
	cr_assert_eq(st_reader_open(store, NULL, &r), ST_ERR_KEY, "opened without the key");
	struct st_key wrong = { .kind = ST_KEY_PASSPHRASE, .passphrase = "wrong horse" };
	cr_assert_eq(st_reader_open(store, &wrong, &r), ST_ERR_KEY, "opened with a wrong key");
	cr_assert_eq(st_reader_open(store, &key, &r), ST_OK, "%s", st_last_error());
	cr_assert(st_reader_info(r)->encrypted);
	int64_t i = st_reader_find(r, env("ZONE_FILE"));
	cr_assert_geq(i, 0);
	cr_assert_eq(st_reader_user_count(r), 1, "only alice was selected");
	cr_assert_str_eq(st_reader_user(r, 0)->sid, env("ALICE_SID"));
	char got[65];
	store_sha(r, (size_t)i, 0, got);
	st_reader_close(r);
	sh("rm -rf '%s'", dir);
	free(dir);
}

/* A bad rule file, a bad config, an unwritable log: refused before anything. */
Test(scan, refusals_before_anything_is_written)
{
	const char *fx = fixtures_dir();
	char *dir = scratch(), img[4096], store[4200], bad[4200];
	snprintf(img, sizeof(img), "%s/volume.img", fx);
	snprintf(store, sizeof(store), "%s/store", dir);
	snprintf(bad, sizeof(bad), "%s/bad.xml", dir);
	FILE *f = fopen(bad, "w");
	fputs("<migration><component", f);
	fclose(f);
	struct capture_options o = { .prog = "test", .source = img, .store = store,
				  .efs = CAPTURE_EFS_SKIP, .rules = (const char *[]){ bad }, .nrules = 1 };
	cr_assert_eq(run_capture(&o), CAPTURE_ERR_RULES);
	o.nrules = 0;
	o.config = bad;
	cr_assert_eq(run_capture(&o), CAPTURE_ERR_CONFIG);
	o.config = NULL;
	o.log = "/nonexistent-dir/scan.log";
	cr_assert_eq(run_capture(&o), CAPTURE_ERR_LOG);
	o.log = NULL;
	o.progress = "/nonexistent-dir/p.log";
	cr_assert_eq(run_capture(&o), CAPTURE_ERR_PROGRESS);
	o.progress = NULL;
	o.source = bad;
	cr_assert_eq(run_capture(&o), CAPTURE_ERR_SOURCE);
	struct stat sb;
	cr_assert_neq(stat(store, &sb), 0, "a refused capture created the store folder");
	sh("rm -rf '%s'", dir);
	free(dir);
}

/* ------------------------------------------------- what the engine hands out -- */

struct heard {
	char said[8][512];
	enum capture_level level[8];
	size_t nsaid;
	size_t progress, finals;
	double last_fraction;
};

static void
hear(void *ctx, enum capture_level level, const char *text)
{
	struct heard *h = ctx;
	if (h->nsaid < 8) {
		snprintf(h->said[h->nsaid], sizeof(h->said[0]), "%s", text);
		h->level[h->nsaid] = level;
	}
	h->nsaid++;
}

static void
watch(void *ctx, const struct capture_progress *p)
{
	struct heard *h = ctx;
	h->progress++;
	h->finals += p->final;
	h->last_fraction = p->fraction;
}

/* Run with stdout and stderr on a file of their own; what landed there. */
static char *
run_silenced(const struct capture_options *o, struct capture_result *res, const char *dir)
{
	char path[4200];
	snprintf(path, sizeof(path), "%s/console", dir);
	fflush(stdout);
	fflush(stderr);
	int keep1 = dup(1), keep2 = dup(2), fd = open(path, O_CREAT | O_TRUNC | O_WRONLY, 0600);
	cr_assert(keep1 >= 0 && keep2 >= 0 && fd >= 0);
	dup2(fd, 1);
	dup2(fd, 2);
	close(fd);
	capture_run(o, res);
	fflush(stdout);
	fflush(stderr);
	dup2(keep1, 1);
	dup2(keep2, 2);
	close(keep1);
	close(keep2);
	return sh_out(NULL, "cat '%s'", path);
}

/* The engine prints nothing: its warnings come through say, its progress
 * through on_progress, its summary in the result (counts that match the
 * store, the accounting lines, report.json's text). */
Test(scan, says_through_callbacks_and_prints_nothing, .timeout = 300)
{
	const char *fx = fixtures_dir();
	char *dir = scratch(), img[4096], store[4200];
	snprintf(img, sizeof(img), "%s/volume.img", fx);
	snprintf(store, sizeof(store), "%s/store", dir);
	struct heard h = { 0 };
	struct capture_options o = { .prog = "test", .source = img, .store = store,
				  .efs = CAPTURE_EFS_SKIP, .ui = (const char *[]){ "alice", "nobody" },
				  .nui = 2, .ue = (const char *[]){ "*" }, .nue = 1, .say = hear,
				  .on_progress = watch, .ctx = &h };
	struct capture_result res;
	char *console = run_silenced(&o, &res, dir);
	cr_assert_eq(res.outcome, CAPTURE_OK, "%s", res.message);
	cr_assert_str_empty(console, "the engine printed: %s", console);
	cr_assert(res.complete);
	cr_assert_str_empty(res.message);
	cr_assert_eq(h.nsaid, 1, "%zu sentences, the first: %s", h.nsaid, h.said[0]);
	cr_assert_eq(h.level[0], CAPTURE_WARNING);
	cr_assert_str_eq(h.said[0], "the user pattern \"nobody\" (--ui) matches no profile on this "
			 "Windows");
	cr_assert_geq(h.progress, 1);
	cr_assert_eq(h.finals, 1, "the final progress call came %zu times", h.finals);
	cr_assert_float_eq(h.last_fraction, 1.0, 1e-9);
	cr_assert_eq(res.users_selected, 1);
	cr_assert_gt(res.accounting_count, 1, "alice and the system, at least");
	cr_assert(strstr(res.accounting[res.accounting_count - 1], "system: "));
	cr_assert_not_null(res.report);
	cr_assert(strstr(res.report, "\"complete\": true"));
	struct st_reader *r;
	cr_assert_eq(st_reader_open(store, NULL, &r), ST_OK, "%s", st_last_error());
	cr_assert_eq(st_reader_registry_count(r), res.registry_values);
	cr_assert_eq(st_reader_user_count(r), 1);
	st_reader_close(r);
	capture_result_free(&res);
	free(console);
	sh("rm -rf '%s'", dir);
	free(dir);
}

/* The caller's cancel flag stops the capture: the outcome names the signal,
 * the store is abandoned, the result is no summary. */
Test(scan, cancel_flag_abandons_the_store, .timeout = 300)
{
	const char *fx = fixtures_dir();
	char *dir = scratch(), img[4096], store[4200];
	snprintf(img, sizeof(img), "%s/volume.img", fx);
	snprintf(store, sizeof(store), "%s/store", dir);
	volatile sig_atomic_t cancel = SIGTERM;
	struct capture_options o = { .prog = "test", .source = img, .store = store,
				  .efs = CAPTURE_EFS_SKIP, .all = true, .cancel = &cancel };
	struct capture_result res;
	char *console = run_silenced(&o, &res, dir);
	cr_assert_eq(res.outcome, CAPTURE_ERR_CANCELED, "outcome %d: %s", res.outcome, res.message);
	cr_assert_str_empty(console, "the engine printed: %s", console);
	char want[64];
	snprintf(want, sizeof(want), "stopped by signal %d", SIGTERM);
	cr_assert(strstr(res.message, want), "%s", res.message);
	cr_assert_not(res.complete);
	cr_assert_eq(res.accounting_count, 0);
	cr_assert(res.report && strstr(res.report, "\"complete\": false"));
	struct st_reader *r;
	enum st_status st = st_reader_open(store, NULL, &r);
	cr_assert(st == ST_ERR_INCOMPLETE || st == ST_ERR_NOT_FOUND, "the store opens (%d)", st);
	capture_result_free(&res);
	free(console);
	sh("rm -rf '%s'", dir);
	free(dir);
}
