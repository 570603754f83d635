/*
 * Seed builder for the fuzzers: mkseeds OUTDIR writes OUTDIR/<target>/...
 * with inputs made by winstate's own writers (a compressed store, an
 * encrypted one, a directory store's catalog), the fixed dirty hive and the
 * log that repairs it, small rule files with objects to decide, small
 * partition tables, a hard-link store's catalog, Config.xml files (genconfig's own output for the
 * default rules, and one using every section), security descriptors (formats'
 * builder and one with every kind of ACE), junction and symlink reparse
 * buffers, and the unit tests' small PE with a version resource.  tests/fuzz/run.sh adds what comes from the fixtures
 * and from ../shared at run time; nothing here is committed.
 */
#include <errno.h>
#include <limits.h>
#include <sys/stat.h>

#include "formats/formats.h"
#include "restore/restore.h"
#include "rules/rules.h"
#include "tests/fuzz/fuzz_common.h"
#include "tests/fuzz/hive_fixture.h"
#include "tests/fuzz/linkstore_fixture.h"
#include "tests/fuzz/store_fixture.h"
#include "tests/unit/pe_build.h"

static const char *outdir;

static void
die(const char *what, const char *why)
{
	fprintf(stderr, "mkseeds: %s: %s\n", what, why);
	exit(1);
}

static const char *
out(const char *target, const char *name)
{
	static char p[PATH_MAX];
	snprintf(p, sizeof(p), "%s/%s", outdir, target);
	if (mkdir(p, 0755) != 0 && errno != EEXIST)
		die(p, strerror(errno));
	snprintf(p, sizeof(p), "%s/%s/%s", outdir, target, name);
	return p;
}

static void
copy_file(const char *from, const char *to)
{
	size_t n = 0;
	uint8_t *p = fz_read_bytes(from, &n);
	if (!p || fz_write_bytes(to, p, n))
		die(from, "cannot copy");
	free(p);
}

static void
stores(const char *work)
{
	char dir[PATH_MAX], file[PATH_MAX];
	struct st_key key;

	snprintf(dir, sizeof(dir), "%s/pack", work);
	if (fz_make_store(dir, ST_FORMAT_COMPRESSED, NULL, 300000))
		die("compressed store", st_last_error());
	snprintf(file, sizeof(file), "%s/USMT/USMT.MIG", dir);
	copy_file(file, out("fuzz_store_pack", "compressed.mig"));

	snprintf(dir, sizeof(dir), "%s/small", work);
	if (fz_make_store(dir, ST_FORMAT_COMPRESSED, NULL, 0))
		die("small store", st_last_error());
	snprintf(file, sizeof(file), "%s/USMT/USMT.MIG", dir);
	copy_file(file, out("fuzz_store_pack", "small.mig"));

	fz_store_key(&key);
	snprintf(dir, sizeof(dir), "%s/sealed", work);
	if (fz_make_store(dir, ST_FORMAT_COMPRESSED, &key, 0))
		die("encrypted store", st_last_error());
	snprintf(file, sizeof(file), "%s/USMT/USMT.MIG", dir);
	copy_file(file, out("fuzz_store_pack", "encrypted.mig"));

	/* The same content the catalog fuzzer writes at start-up. */
	snprintf(dir, sizeof(dir), "%s/dir", work);
	if (fz_make_store(dir, ST_FORMAT_DIRECTORY, NULL, 200000))
		die("directory store", st_last_error());
	snprintf(file, sizeof(file), "%s/catalog", dir);
	copy_file(file, out("fuzz_store_catalog", "catalog"));
}

static void
hives(const char *work)
{
	uint8_t h[8192];
	if (fz_hive_log(work, out("fuzz_hive_log", "repairs.LOG1")))
		die("hive log", "cannot build it");
	size_t n = 0;
	uint8_t *log = fz_read_bytes(out("fuzz_hive_log", "repairs.LOG1"), &n);
	if (!log)
		die("hive log", "cannot read it back");
	/* Its base block alone: a log with no entries. */
	fz_write_bytes(out("fuzz_hive_log", "base-block-only.LOG1"), log, 512);
	free(log);
	fz_hive_before(h, FZ_HIVE_SEQ1, FZ_HIVE_SEQ2);
	fz_write_bytes(out("fuzz_hive_base", "dirty.hive"), h, sizeof(h));
	fz_hive_before(h, FZ_HIVE_SEQ2, FZ_HIVE_SEQ2);
	fz_write_bytes(out("fuzz_hive_base", "clean.hive"), h, sizeof(h));
	char after[PATH_MAX];
	snprintf(after, sizeof(after), "%s/after.hive", work);
	copy_file(after, out("fuzz_hive_base", "after.hive"));
}

static void
rules(void)
{
	static const char rules1[] =
		"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
		"<migration urlid=\"http://www.microsoft.com/migration/1.0/migxmlext/fuzz\">\n"
		"  <component type=\"Documents\" context=\"User\">\n"
		"    <displayName>Fuzz documents</displayName>\n"
		"    <role role=\"Data\">\n"
		"      <detects><detect><condition>MigXmlHelper.DoesObjectExist(\"File\",\"%CSIDL_PERSONAL%\")</condition></detect></detects>\n"
		"      <rules>\n"
		"        <include><objectSet>\n"
		"          <pattern type=\"File\">%CSIDL_PERSONAL%\\* [*]</pattern>\n"
		"          <pattern type=\"Registry\">HKCU\\Control Panel\\Desktop [Wallpaper]</pattern>\n"
		"        </objectSet></include>\n"
		"        <exclude><objectSet><pattern type=\"File\">%CSIDL_PERSONAL%\\* [*.tmp]</pattern></objectSet></exclude>\n"
		"        <unconditionalExclude><objectSet><pattern type=\"File\">%USERPROFILE%\\AppData\\Local\\Temp\\* [*]</pattern></objectSet></unconditionalExclude>\n"
		"        <locationModify script=\"MigXmlHelper.RelativeMove('%CSIDL_PERSONAL%','%CSIDL_PERSONAL%\\Old')\">\n"
		"          <objectSet><pattern type=\"File\">%CSIDL_PERSONAL%\\Moved\\* [*]</pattern></objectSet>\n"
		"        </locationModify>\n"
		"        <merge script=\"MigXmlHelper.SourcePriority()\"><objectSet><pattern type=\"Registry\">HKCU\\Software\\Fuzz\\* [*]</pattern></objectSet></merge>\n"
		"      </rules>\n"
		"    </role>\n"
		"  </component>\n"
		"</migration>\n";
	static const char objects[] =
		"F C:\\Users\\bob\\Documents [report.docx]\n"
		"F C:\\Users\\bob\\Documents\\Moved [x.txt]\n"
		"F C:\\Users\\bob\\Documents [x.tmp]\n"
		"R HKCU\\Software\\Fuzz\\A [B]\n"
		"R HKCU\\Control Panel\\Desktop [Wallpaper]\n";
	const char *p = out("fuzz_rules", "documents.xml");
	fz_write_bytes(p, rules1, sizeof(rules1) - 1);
	uint8_t *both = malloc(sizeof(rules1) + sizeof(objects));
	memcpy(both, rules1, sizeof(rules1)); /* with its NUL */
	memcpy(both + sizeof(rules1), objects, sizeof(objects) - 1);
	fz_write_bytes(out("fuzz_rules", "documents-and-objects"), both,
		       sizeof(rules1) + sizeof(objects) - 1);
	free(both);
}

/* An MBR with one NTFS partition at 1 MiB and the start of an NTFS boot
 * sector there would be past the first MiB: the seed is the table alone. */
static void
disks(void)
{
	static uint8_t mbr[512];
	memset(mbr, 0, sizeof(mbr));
	uint8_t *e = mbr + 446;
	e[0] = 0x80;
	e[4] = 0x07;
	fz_put32(e + 8, 2048);
	fz_put32(e + 12, 819200);
	mbr[510] = 0x55;
	mbr[511] = 0xAA;
	fz_write_bytes(out("fuzz_disk", "mbr-one-ntfs"), mbr, sizeof(mbr));
}

/* Config.xml: what ScanState /genconfig writes for rules/xml, and a file
 * using every section Config.xml has (nested groups, ErrorControl,
 * HardLinkStoreControl, ProfileControl mappings). */
static void
configs(void)
{
	static const char full[] =
		"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
		"<Configuration>\n"
		"  <Documents>\n"
		"    <component displayname=\"Fuzz documents\" migrate=\"no\" ID=\"fuzz/documents\"/>\n"
		"    <component displayname=\"Group\" migrate=\"yes\" ID=\"fuzz/group\">\n"
		"      <component displayname=\"Fuzz settings\" migrate=\"no\" ID=\"fuzz/settings\"/>\n"
		"    </component>\n"
		"  </Documents>\n"
		"  <Policies>\n"
		"    <ErrorControl>\n"
		"      <fileError><nonFatal errorCode=\"any\">D:\\Scratch\\* [*]</nonFatal>"
		"<fatal errorCode=\"5\">C:\\Users\\* [*.docx]</fatal></fileError>\n"
		"      <registryError><nonFatal errorCode=\"5\">* [*]</nonFatal></registryError>\n"
		"    </ErrorControl>\n"
		"    <HardLinkStoreControl>\n"
		"      <fileLocked><createHardLink>C:\\Users\\* [*.ost]</createHardLink>"
		"<errorHardLink>C:\\* [*.pst]</errorHardLink></fileLocked>\n"
		"    </HardLinkStoreControl>\n"
		"  </Policies>\n"
		"  <ProfileControl>\n"
		"    <localGroups><mappings><changeGroup from=\"Administrators\" to=\"Users\" "
		"appliesTo=\"MigratedUsers\"><include><pattern>*</pattern></include></changeGroup>"
		"</mappings></localGroups>\n"
		"    <domains><domain from=\"OLDDOM\" to=\"NEWDOM\"/></domains>\n"
		"    <users><user from=\"OLDDOM\\alice\" to=\"NEWDOM\\alice\"/></users>\n"
		"  </ProfileControl>\n"
		"</Configuration>\n";
	fz_write_bytes(out("fuzz_config", "every-section.xml"), full, sizeof(full) - 1);

	mig_diags *d = mig_diags_new();
	mig_ruleset *rs = mig_ruleset_new();
	const char *names[] = { "rules/xml/winstate-default.xml" }; /* run.sh runs from the top */
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (access(names[i], R_OK) == 0)
			mig_ruleset_load(rs, names[i], d);
	FILE *f = fopen(out("fuzz_config", "genconfig.xml"), "w");
	if (!f || mig_genconfig_write(rs, f) || fclose(f))
		die("genconfig.xml", "cannot write");
	mig_ruleset_free(rs);
	mig_diags_free(d);
}

/* The catalog of a hard-link store, as the writer leaves it on the volume. */
static void
linkstore(const char *work)
{
	char img[PATH_MAX];
	snprintf(img, sizeof(img), "%s/link.img", work);
	struct nv_volume *v = fz_make_linkstore(img);
	uint64_t m;
	struct nv_reader *r = NULL;
	if (!v || nv_lookup(v, "MigStore/catalog", &m) || nv_reader_open(v, m, NULL, &r))
		die("hard-link store", nv_last_error());
	size_t len = (size_t)nv_reader_size(r), got = 0;
	uint8_t *buf = malloc(len ? len : 1);
	if (!buf || nv_reader_pread(r, buf, len, 0, &got) || got != len)
		die("hard-link catalog", "cannot read it back");
	nv_reader_close(r);
	nv_close(v);
	fz_write_bytes(out("fuzz_linkstore_catalog", "catalog"), buf, len);
	free(buf);
	unlink(img);
}

static void
write_seed(const char *target, const char *name, const void *p, size_t n)
{
	if (fz_write_bytes(out(target, name), p, n))
		die(target, "cannot write a seed");
}

static size_t
put_sid_text(uint8_t *p, const char *s)
{
	size_t len;
	if (fmt_sid_from_string(s, p, FMT_SID_MAX, &len) < 0)
		die("sd seed", s);
	return len;
}

/* An ACE of @type and @flags for @sid at @p, with @extra bytes (object GUIDs,
 * callback data) between the mask and the SID; returns its size. */
static size_t
put_ace(uint8_t *p, uint8_t type, uint8_t flags, size_t extra, const char *sid)
{
	p[0] = type;
	p[1] = flags;
	fmt_put_le32(p + 4, 0x001200A9);
	memset(p + 8, 0x5A, extra);
	size_t n = 8 + extra + put_sid_text(p + 8 + extra, sid);
	fmt_put_le16(p + 2, (uint16_t)n);
	return n;
}

/* O:alice G:SY S:(audit) D:(allow)(object, both GUIDs)(callback)(unknown type 0x30) */
static size_t
rich_sd(uint8_t *sd)
{
	const char *alice = "S-1-5-21-1111111111-2222222222-3333333333-1001";
	size_t o = 20;
	memset(sd, 0, 1024);
	sd[0] = 1;
	fmt_put_le16(sd + 2, 0x8000 | 0x0400 | 0x0010 | 0x0004);
	fmt_put_le32(sd + 4, (uint32_t)o);
	o += put_sid_text(sd + o, alice);
	fmt_put_le32(sd + 8, (uint32_t)o);
	o += put_sid_text(sd + o, "S-1-5-18");
	for (int which = 0; which < 2; which++) {
		size_t acl = o;
		fmt_put_le32(sd + (which ? 16 : 12), (uint32_t)acl);
		sd[acl] = which ? 4 : 2;
		o += 8;
		unsigned count = 0;
		if (!which) {
			o += put_ace(sd + o, 2, 0xC0, 0, alice);
			count = 1;
		} else {
			o += put_ace(sd + o, 0, 0x13, 0, alice);
			size_t n = put_ace(sd + o, 5, 0x02, 4 + 32, "S-1-5-32-544");
			fmt_put_le32(sd + o + 8, 3);   /* object type and inherited type present */
			o += n;
			o += put_ace(sd + o, 9, 0x01, 0, "S-1-1-0");
			sd[o] = 0x30;                  /* a type formats copies opaque */
			fmt_put_le16(sd + o + 2, 12);
			o += 12;
			count = 4;
		}
		fmt_put_le16(sd + acl + 2, (uint16_t)(o - acl));
		fmt_put_le16(sd + acl + 4, (uint16_t)count);
	}
	return o;
}

static void
security_descriptors(void)
{
	uint8_t *sd, rich[1024];
	size_t len;
	if (restore_sd_profile_root("S-1-5-21-1111111111-2222222222-3333333333-1001", &sd, &len))
		die("profile root descriptor", "cannot build it");
	write_seed("fuzz_sd", "profile-root", sd, len);
	uint8_t *child;
	size_t child_len;
	if (fmt_sd_inherit(sd, len, NULL, true, &child, &child_len))
		die("inherited descriptor", "cannot build it");
	write_seed("fuzz_sd", "inherited-folder", child, child_len);
	free(child);
	free(sd);
	len = rich_sd(rich);
	char err[200];
	if (fmt_sd_rewrite(rich, len, NULL, NULL, &sd, &child_len, err, sizeof(err)))
		die("rich descriptor", err);
	free(sd);
	write_seed("fuzz_sd", "every-ace-kind", rich, len);
}

/* A reparse buffer as Windows writes one: substitute name, NUL, print name, NUL. */
static void
reparse_seed(const char *name, uint32_t tag, uint32_t flags, const char *sub, const char *print)
{
	uint8_t b[1024] = { 0 };
	size_t sl, pl, hdr = tag == FMT_TAG_SYMLINK ? 20 : 16;
	uint8_t *su = fmt_utf8_to_utf16le(sub, &sl), *pu = fmt_utf8_to_utf16le(print, &pl);
	if (!su || !pu || hdr + sl + pl > sizeof(b))
		die("reparse seed", name);
	fmt_put_le32(b, tag);
	fmt_put_le16(b + 4, (uint16_t)(hdr + sl + pl - 8));
	fmt_put_le16(b + 8, 0);
	fmt_put_le16(b + 10, (uint16_t)(sl - 2));
	fmt_put_le16(b + 12, (uint16_t)sl);
	fmt_put_le16(b + 14, (uint16_t)(pl - 2));
	if (tag == FMT_TAG_SYMLINK)
		fmt_put_le32(b + 16, flags);
	memcpy(b + hdr, su, sl);
	memcpy(b + hdr + sl, pu, pl);
	write_seed("fuzz_reparse", name, b, hdr + sl + pl);
	free(su);
	free(pu);
}

static void
reparse_buffers(void)
{
	reparse_seed("junction-music", FMT_TAG_MOUNT_POINT, 0, "\\??\\C:\\Users\\alice\\Music",
		     "C:\\Users\\alice\\Music");
	reparse_seed("junction-no-print", FMT_TAG_MOUNT_POINT, 0, "\\??\\c:\\users\\ALICE", "");
	reparse_seed("symlink-absolute", FMT_TAG_SYMLINK, 0,
		     "\\??\\C:\\Users\\alice\\OneDrive\\Documents", "C:\\Users\\alice\\OneDrive\\Documents");
	reparse_seed("symlink-relative", FMT_TAG_SYMLINK, 1, "..\\alice\\Pictures", "..\\alice\\Pictures");
	reparse_seed("junction-elsewhere", FMT_TAG_MOUNT_POINT, 0, "\\??\\D:\\Data\\caf\xc3\xa9",
		     "D:\\Data\\caf\xc3\xa9");
}

static void
pe_files(void)
{
	static uint8_t pe[4096];
	size_t n = pe_build_sample(pe);
	write_seed("fuzz_pe", "version-resource.exe", pe, n);
}

int
main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: mkseeds OUTDIR\n");
		return 2;
	}
	outdir = argv[1];
	if (mkdir(outdir, 0755) != 0 && errno != EEXIST)
		die(outdir, strerror(errno));
	char work[PATH_MAX];
	snprintf(work, sizeof(work), "%s", fz_path("work"));
	if (mkdir(work, 0700) != 0)
		die(work, strerror(errno));
	stores(work);
	hives(work);
	rules();
	disks();
	configs();
	linkstore(work);
	security_descriptors();
	reparse_buffers();
	pe_files();
	return 0;
}
