/* Hive sets (path mapping) and facts about an offline Windows. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "registry/registry.h"
#include "tests/unit/registry/helpers.h"

static void
teardown(void)
{
	t_cleanup();
}

TestSuite(registry_facts, .fini = teardown);

/* Build a small hive with hivex through our write API, committed to path. */
static reg_hive *
new_hive(const char *name, char *path, size_t pathsz)
{
	char in[4200];
	int err;
	char msg[320];

	snprintf(in, sizeof(in), "%s/%s.empty", t_tmpdir(), name);
	snprintf(path, pathsz, "%s/%s", t_tmpdir(), name);
	cr_assert_eq(t_write_min_hive(in, "ROOT"), 0);
	reg_hive *h = reg_hive_open(in, REG_HIVE_OPEN_WRITE, &err, msg, sizeof(msg));
	cr_assert(h, "%s", msg);
	return h;
}

static void
set_sz(reg_hive *h, const char *key, const char *name, const char *val)
{
	reg_key k;
	cr_assert_eq(reg_key_create(h, key, &k), 0);
	cr_assert_eq(reg_key_set_string(h, k, name, REG_SZ, val), 0);
}

static void
set_dw(reg_hive *h, const char *key, const char *name, uint32_t val)
{
	reg_key k;
	cr_assert_eq(reg_key_create(h, key, &k), 0);
	cr_assert_eq(reg_key_set_dword(h, k, name, val), 0);
}

static void
done(reg_hive *h, const char *path)
{
	cr_assert_eq(reg_hive_commit(h, path), 0, "%s", reg_hive_errmsg(h));
	reg_hive_close(h);
}

static reg_hive *
ro(const char *path)
{
	int err;
	char msg[320];
	reg_hive *h = reg_hive_open(path, 0, &err, msg, sizeof(msg));
	cr_assert(h, "%s", msg);
	return h;
}

#define SID1 "S-1-5-21-1-2-3-1001"

static void
build_machine(char *sys, char *sw, char *nt, char *uc)
{
	reg_hive *h = new_hive("SYSTEM", sys, 4200);
	set_dw(h, "Select", "Current", 2);
	set_sz(h, "ControlSet001\\Control\\ComputerName\\ComputerName", "ComputerName", "OLDNAME");
	set_sz(h, "ControlSet002\\Control\\ComputerName\\ComputerName", "ComputerName", "PC-42");
	set_sz(h, "ControlSet002\\Control\\Session Manager\\Environment", "PROCESSOR_ARCHITECTURE", "AMD64");
	set_sz(h, "ControlSet002\\Services\\Tcpip\\Parameters", "NV Domain", "corp.example");
	set_sz(h, "ControlSet002\\Control\\CloudDomainJoin\\JoinInfo\\ABCDEF", "TenantId", "tenant-guid");
	done(h, sys);

	h = new_hive("SOFTWARE", sw, 4200);
	set_sz(h, "Microsoft\\Windows NT\\CurrentVersion", "ProductName", "Windows 10 Pro");
	set_sz(h, "Microsoft\\Windows NT\\CurrentVersion", "EditionID", "Professional");
	set_sz(h, "Microsoft\\Windows NT\\CurrentVersion", "CurrentBuild", "19045");
	set_sz(h, "Microsoft\\Windows NT\\CurrentVersion", "DisplayVersion", "22H2");
	set_sz(h, "Vendor\\App", "Bits", "64");
	set_sz(h, "Wow6432Node\\Vendor\\App", "Bits", "32");
	struct reg_profile_new p1 = { SID1, "%SystemDrive%\\Users\\tony", 0, 0 };
	struct reg_profile_new p2 = { "S-1-5-21-1-2-3-1002", "C:\\Users\\TEMP", 0x0800, 0 };
	cr_assert_eq(reg_profilelist_add(h, &p1), 0);
	cr_assert_eq(reg_profilelist_add(h, &p2), 0);
	reg_key k;
	cr_assert_eq(reg_key_create(h, "Microsoft\\Windows NT\\CurrentVersion\\ProfileList\\S-1-5-21-1-2-3-1003.bak", &k), 0);
	cr_assert_eq(reg_key_set_string(h, k, "ProfileImagePath", REG_EXPAND_SZ, "C:\\Users\\old"), 0);
	cr_assert_eq(reg_key_open(h, "Microsoft\\Windows NT\\CurrentVersion\\ProfileList\\" SID1, &k), 0);
	cr_assert_eq(reg_key_set_dword(h, k, "LocalProfileLoadTimeLow", 0x89abcdef), 0);
	cr_assert_eq(reg_key_set_dword(h, k, "LocalProfileLoadTimeHigh", 0x01d00000), 0);
	done(h, sw);

	h = new_hive("NTUSER.DAT", nt, 4200);
	set_sz(h, "Environment", "OneDrive", "C:\\Users\\tony\\OneDrive");
	reg_key usf;
	cr_assert_eq(reg_key_create(h, "Software\\Microsoft\\Windows\\CurrentVersion\\Explorer\\User Shell Folders", &usf), 0);
	cr_assert_eq(reg_key_set_string(h, usf, "Personal", REG_EXPAND_SZ, "%USERPROFILE%\\Documents"), 0);
	cr_assert_eq(reg_key_set_string(h, usf, "Desktop", REG_EXPAND_SZ, "%OneDrive%\\Desktop"), 0);
	cr_assert_eq(reg_key_set_string(h, usf, "My Music", REG_EXPAND_SZ, "\\\\server\\share\\Music"), 0);
	set_sz(h, "Software\\Microsoft\\Windows\\CurrentVersion\\Explorer\\Shell Folders", "Personal", "C:\\Users\\tony\\Documents");
	set_sz(h, "Software\\Microsoft\\Windows\\CurrentVersion\\Explorer\\Shell Folders", "Fonts", "C:\\Windows\\Fonts");
	set_sz(h, "Volatile Environment", "USERNAME", "tony");
	set_sz(h, "Volatile Environment", "USERDOMAIN", "CORP");
	cr_assert_eq(reg_key_create(h, "Software\\Microsoft\\IdentityCRL\\UserExtendedProperties\\tony@example.com", NULL), 0);
	set_sz(h, "Software\\Vendor\\App", "Bits", "user64");
	set_sz(h, "Software\\Wow6432Node\\Vendor\\App", "Bits", "user32");
	done(h, nt);

	h = new_hive("UsrClass.dat", uc, 4200);
	set_sz(h, ".txt", "", "txtfile");
	done(h, uc);
}

static char *
resolve_str(reg_hive_set *s, const char *path, unsigned view, const char *name)
{
	struct reg_location loc;
	struct reg_value v;
	char *str = NULL;
	int e = reg_hive_set_resolve(s, path, view, &loc);
	cr_assert_eq(e, 0, "%s: %s", path, reg_hive_set_errmsg(s));
	e = reg_hive_get_value(loc.hive, loc.subpath, name, &v);
	cr_assert_eq(e, 0, "%s -> %s: %s", path, loc.subpath, reg_hive_errmsg(loc.hive));
	cr_assert_eq(reg_value_string(&v, &str), 0);
	reg_value_clear(&v);
	free(loc.subpath);
	return str;
}

#define EXPECT_RESOLVE(set, path, view, name, want)                 \
	do {                                                        \
		char *got_ = resolve_str(set, path, view, name);    \
		cr_expect_str_eq(got_, want, "%s", path);           \
		free(got_);                                         \
	} while (0)

Test(registry_facts, hive_set_mapping)
{
	char sys[4200], sw[4200], nt[4200], uc[4200];
	build_machine(sys, sw, nt, uc);
	reg_hive_set *s = reg_hive_set_new();
	cr_assert(s);
	cr_assert_eq(reg_hive_set_add(s, REG_HK_SYSTEM, NULL, sys), 0);
	cr_assert_eq(reg_hive_set_add(s, REG_HK_SOFTWARE, NULL, sw), 0);
	cr_assert_eq(reg_hive_set_add(s, REG_HK_NTUSER, SID1, nt), 0);
	cr_assert_eq(reg_hive_set_add(s, REG_HK_USRCLASS, SID1, uc), 0);

	struct reg_location loc;
	cr_expect_eq(reg_hive_set_resolve(s, "HKCU\\Software", 0, &loc), REG_ENOTFOUND, "no current user yet");
	cr_assert_eq(reg_hive_set_current_user(s, SID1), 0);

	EXPECT_RESOLVE(s, "HKLM\\System\\CurrentControlSet\\Control\\ComputerName\\ComputerName", 0,
		       "ComputerName", "PC-42");
	EXPECT_RESOLVE(s, "HKEY_LOCAL_MACHINE\\SOFTWARE\\Vendor\\App", 0, "Bits", "64");
	EXPECT_RESOLVE(s, "HKLM\\Software\\Wow6432Node\\Vendor\\App", 0, "Bits", "32");
	EXPECT_RESOLVE(s, "HKLM\\Software\\Vendor\\App", REG_VIEW_32, "Bits", "32");
	EXPECT_RESOLVE(s, "HKCU\\Software\\Vendor\\App", 0, "Bits", "user64");
	EXPECT_RESOLVE(s, "HKCU\\Software\\Vendor\\App", REG_VIEW_32, "Bits", "user32");
	EXPECT_RESOLVE(s, "HKCU\\Software\\Classes\\.txt", 0, "", "txtfile");
	EXPECT_RESOLVE(s, "HKU\\" SID1 "\\Environment", 0, "OneDrive", "C:\\Users\\tony\\OneDrive");
	EXPECT_RESOLVE(s, "HKU\\" SID1 "_Classes\\.TXT", 0, "", "txtfile");

	cr_expect_eq(reg_hive_set_resolve(s, "HKLM\\SAM\\SAM", 0, &loc), REG_ENOTFOUND);
	cr_expect(strstr(reg_hive_set_errmsg(s), "no hive file"), "%s", reg_hive_set_errmsg(s));
	cr_expect_eq(reg_hive_set_resolve(s, "HKU\\S-1-5-21-9-9-9-9\\X", 0, &loc), REG_ENOTFOUND);
	cr_expect_eq(reg_hive_set_resolve(s, "HKXX\\Foo", 0, &loc), REG_EINVAL);
	reg_hive_set_free(s);
}

Test(registry_facts, windows_info_profiles_folders_hints)
{
	char sys[4200], sw[4200], nt[4200], uc[4200];
	build_machine(sys, sw, nt, uc);
	reg_hive *hs = ro(sys), *hw = ro(sw), *hn = ro(nt);

	struct reg_windows_info w;
	cr_assert_eq(reg_facts_windows(hw, hs, &w), 0);
	cr_expect_str_eq(w.product_name, "Windows 10 Pro");
	cr_expect_str_eq(w.edition_id, "Professional");
	cr_expect_str_eq(w.current_build, "19045");
	cr_expect_str_eq(w.display_version, "22H2");
	cr_expect_str_eq(w.arch, "AMD64");
	cr_expect_str_eq(w.computer_name, "PC-42");
	cr_expect_str_eq(w.control_set, "ControlSet002");
	cr_expect_str_eq(w.domain, "corp.example");
	cr_expect(w.entra_joined);
	cr_expect_str_eq(w.entra_tenant, "tenant-guid");
	reg_windows_info_clear(&w);

	struct reg_profile *p;
	size_t n;
	cr_assert_eq(reg_facts_profiles(hw, &p, &n), 0);
	cr_assert_eq(n, 3);
	int seen = 0;
	for (size_t i = 0; i < n; i++) {
		if (!strcmp(p[i].sid, SID1)) {
			seen |= 1;
			cr_expect_str_eq(p[i].image_path_raw, "%SystemDrive%\\Users\\tony");
			cr_expect_str_eq(p[i].image_path, "C:\\Users\\tony");
			cr_expect_eq(p[i].load_time, 0x01d0000089abcdefll);
			cr_expect(p[i].sid_ok);
			cr_expect_not(p[i].is_temp);
			cr_expect_not(p[i].is_bak);
		} else if (!strcmp(p[i].sid, "S-1-5-21-1-2-3-1002")) {
			seen |= 2;
			cr_expect(p[i].is_temp);
			cr_expect_eq(p[i].state, 0x0800);
		} else if (!strcmp(p[i].sid, "S-1-5-21-1-2-3-1003")) {
			seen |= 4;
			cr_expect(p[i].is_bak);
		}
	}
	cr_expect_eq(seen, 7);
	reg_profiles_free(p, n);

	struct reg_user_folder *f;
	cr_assert_eq(reg_facts_user_folders(hn, "C:\\Users\\tony", &f, &n), 0);
	seen = 0;
	for (size_t i = 0; i < n; i++) {
		if (!strcmp(f[i].name, "Personal")) {
			seen |= 1;
			cr_expect_str_eq(f[i].path, "C:\\Users\\tony\\Documents");
			cr_expect_str_eq(f[i].source, "User Shell Folders");
		} else if (!strcmp(f[i].name, "Desktop")) {
			seen |= 2;
			cr_expect_str_eq(f[i].path, "C:\\Users\\tony\\OneDrive\\Desktop");
			cr_expect(f[i].onedrive);
		} else if (!strcmp(f[i].name, "My Music")) {
			seen |= 4;
			cr_expect(f[i].is_unc);
		} else if (!strcmp(f[i].name, "Fonts")) {
			seen |= 8;
			cr_expect_str_eq(f[i].source, "Shell Folders");
		}
	}
	cr_expect_eq(seen, 15);
	reg_user_folders_free(f, n);

	/* The user's own hive: the logon session's name and domain, and the
	 * Microsoft account kept apart from the account name. */
	struct reg_account_names an;
	cr_assert_eq(reg_facts_account_names(NULL, hn, NULL, &an), 0);
	cr_expect_str_eq(an.name, "tony");
	cr_expect_str_eq(an.source, "Volatile Environment\\USERNAME");
	cr_expect_str_eq(an.domain, "CORP");
	cr_expect_str_eq(an.online_account, "tony@example.com");
	reg_account_names_clear(&an);
	reg_hive_close(hs);
	reg_hive_close(hw);
	reg_hive_close(hn);
}

Test(registry_facts, real_sam_users)
{
	T_NEED_SHARED();
	reg_hive *h = ro(t_extract("SAM", "SAM"));
	struct reg_local_user *u;
	size_t n;
	int seen = 0;

	cr_assert_eq(reg_facts_sam_users(h, &u, &n), 0, "%s", reg_hive_errmsg(h));
	cr_expect_eq(n, 3);
	for (size_t i = 0; i < n; i++) {
		if (!strcmp(u[i].name, "Administrator")) {
			seen |= 1;
			cr_expect_eq(u[i].rid, 500);
			cr_expect(u[i].disabled);
		} else if (!strcmp(u[i].name, "Guest")) {
			seen |= 2;
			cr_expect_eq(u[i].rid, 501);
			cr_expect(u[i].disabled);
		} else if (!strcmp(u[i].name, "Preston")) {
			seen |= 4;
			cr_expect_geq(u[i].rid, 1000);
			cr_expect_not(u[i].disabled);
		}
	}
	cr_expect_eq(seen, 7);
	reg_local_users_free(u, n);
	reg_hive_close(h);
}

Test(registry_facts, real_system_1709, .timeout = 120)
{
	T_NEED_SHARED();
	reg_hive *h = ro(t_extract("SYSTEM_WIN_10_1709", "SYSTEM"));
	struct reg_windows_info w;

	cr_assert_eq(reg_facts_windows(NULL, h, &w), 0);
	cr_expect_str_eq(w.control_set, "ControlSet001");
	cr_expect_str_eq(w.computer_name, "DESKTOP-2KGM189");
	cr_expect_str_eq(w.arch, "AMD64");
	reg_windows_info_clear(&w);

	reg_hive_set *s = reg_hive_set_new();
	reg_hive_set_add(s, REG_HK_SYSTEM, NULL, reg_hive_path(h));
	EXPECT_RESOLVE(s, "HKLM\\SYSTEM\\CurrentControlSet\\Control\\ComputerName\\ComputerName", 0,
		       "ComputerName", "DESKTOP-2KGM189");
	reg_hive_set_free(s);
	reg_hive_close(h);
}

Test(registry_facts, real_ntuser_folders, .timeout = 120)
{
	static const struct { const char *file, *user; } v[] = {
		{ "NTUSER.DAT", "vibranium" }, { "NTUSER-WSL.DAT", "admin" },
		{ "NTUSER_with_winscp.DAT", "tony" }, { "transactions_NTUSER.DAT", "tony" },
		{ "notatin_NTUSER.DAT", "Patrick" }, { "plaso_NTUSER-WIN7.DAT", "nfury" },
	};
	T_NEED_SHARED();
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		reg_hive *h = ro(t_extract(v[i].file, v[i].file));
		char prof[200], want[300];
		struct reg_user_folder *f;
		size_t n;
		int desktop = 0;

		snprintf(prof, sizeof(prof), "C:\\Users\\%s", v[i].user);
		snprintf(want, sizeof(want), "%s\\Desktop", prof);
		cr_assert_eq(reg_facts_user_folders(h, prof, &f, &n), 0, "%s", v[i].file);
		for (size_t j = 0; j < n; j++)
			if (!strcmp(f[j].name, "Desktop")) {
				desktop = 1;
				cr_expect_str_eq(f[j].path, want, "%s", v[i].file);
				cr_expect_str_eq(f[j].raw, "%USERPROFILE%\\Desktop");
				cr_expect_not(f[j].is_unc);
			}
		cr_expect(desktop, "%s has a Desktop folder", v[i].file);
		reg_user_folders_free(f, n);

		reg_hive_close(h);
	}
}

/* ---- account names as evidence; Windows 11's product name ---- */

static void
windows_named(const char *product, const char *build, const char *want)
{
	char sw[4200];
	reg_hive *h = new_hive("SOFTWARE-ver", sw, sizeof(sw));
	set_sz(h, "Microsoft\\Windows NT\\CurrentVersion", "ProductName", product);
	if (build)
		set_sz(h, "Microsoft\\Windows NT\\CurrentVersion", "CurrentBuild", build);
	done(h, sw);
	h = ro(sw);
	struct reg_windows_info w;
	cr_assert_eq(reg_facts_windows(h, NULL, &w), 0);
	cr_expect_str_eq(w.product_name, want, "%s, build %s", product, build ? build : "none");
	reg_windows_info_clear(&w);
	reg_hive_close(h);
}

Test(registry_facts, windows_11_by_build)
{
	/* Windows 11 keeps "Windows 10" in ProductName; the build tells them apart. */
	windows_named("Windows 10 Pro", "22631", "Windows 11 Pro");
	windows_named("Windows 10 Enterprise", "22000", "Windows 11 Enterprise");
	windows_named("Windows 10 Pro", "21999", "Windows 10 Pro");
	windows_named("Windows 10 Pro", "19045", "Windows 10 Pro");
	windows_named("Windows 10 Pro", NULL, "Windows 10 Pro");
	windows_named("Windows 10 Pro", "not a number", "Windows 10 Pro");
	windows_named("Windows Server 2025 Datacenter", "26100", "Windows Server 2025 Datacenter");
	windows_named("Windows 7 Professional", "7601", "Windows 7 Professional");
}

#define LOGONUI "Microsoft\\Windows\\CurrentVersion\\Authentication\\LogonUI"
#define EXPLORER "Software\\Microsoft\\Windows\\CurrentVersion\\Explorer"
#define OFFICE "Software\\Microsoft\\Office\\Common\\UserInfo"

Test(registry_facts, account_name_evidence_ranked)
{
	char sw[4200], nt[4200];
	const char *sid = "S-1-5-21-1-2-3-1001";
	reg_hive *h = new_hive("SOFTWARE-id", sw, sizeof(sw));
	set_sz(h, LOGONUI, "LastLoggedOnUserSID", sid);
	set_sz(h, LOGONUI, "LastLoggedOnSAMUser", "PC-42\\tony");
	set_sz(h, LOGONUI, "LastLoggedOnDisplayName", "Tony Stark");
	done(h, sw);
	h = new_hive("NTUSER-id", nt, sizeof(nt));
	set_sz(h, EXPLORER, "Logon User Name", "tony-explorer");
	set_sz(h, OFFICE, "UserName", "Anthony E. Stark");
	cr_assert_eq(reg_key_create(h, "Software\\Microsoft\\IdentityCRL\\UserExtendedProperties\\tony@outlook.com", NULL), 0);
	done(h, nt);
	reg_hive *hs = ro(sw), *hn = ro(nt);
	struct reg_account_names a;

	/* LogonUI's SAM user outranks Explorer's Logon User Name when the SID is this user's. */
	cr_assert_eq(reg_facts_account_names(hs, hn, sid, &a), 0);
	cr_expect_str_eq(a.name, "tony");
	cr_expect_str_eq(a.source, "LogonUI LastLoggedOnSAMUser");
	cr_expect_str_eq(a.domain, "PC-42");
	cr_expect_str_eq(a.display_name, "Tony Stark");
	cr_expect_str_eq(a.online_account, "tony@outlook.com");
	reg_account_names_clear(&a);

	/* Someone else logged on last: LogonUI says nothing about this user. */
	cr_assert_eq(reg_facts_account_names(hs, hn, "S-1-5-21-1-2-3-1002", &a), 0);
	cr_expect_str_eq(a.name, "tony-explorer");
	cr_expect_str_eq(a.source, "Explorer\\Logon User Name");
	cr_expect_null(a.domain);
	/* Office's user name is a display name, never an account name. */
	cr_expect_str_eq(a.display_name, "Anthony E. Stark");
	cr_expect_str_eq(a.display_source, "Office Common\\UserInfo\\UserName");
	reg_account_names_clear(&a);

	/* No hive at all (a profile without a folder): nothing invented. */
	cr_assert_eq(reg_facts_account_names(NULL, NULL, sid, &a), 0);
	cr_expect_null(a.name);
	cr_expect_null(a.display_name);
	reg_account_names_clear(&a);
	reg_hive_close(hs);
	reg_hive_close(hn);

	/* IdentityStore's SAMName outranks the session's USERNAME, which outranks LogonUI. */
	h = new_hive("SOFTWARE-id2", sw, sizeof(sw));
	const char *aad = "S-1-12-1-1-2-3-4";
	set_sz(h, "Microsoft\\IdentityStore\\Cache\\S-1-12-1-1-2-3-4\\IdentityCache\\S-1-12-1-1-2-3-4",
	       "UserName", "dave@contoso.example");
	set_sz(h, "Microsoft\\IdentityStore\\Cache\\S-1-12-1-1-2-3-4\\IdentityCache\\S-1-12-1-1-2-3-4",
	       "SAMName", "DaveM");
	set_sz(h, LOGONUI, "LastLoggedOnUserSID", aad);
	set_sz(h, LOGONUI, "LastLoggedOnSAMUser", "AzureAD\\dave-logonui");
	done(h, sw);
	h = new_hive("NTUSER-id2", nt, sizeof(nt));
	set_sz(h, "Volatile Environment", "USERNAME", "dave-session");
	set_sz(h, "Volatile Environment", "USERDOMAIN", "AzureAD");
	done(h, nt);
	hs = ro(sw);
	hn = ro(nt);
	cr_assert_eq(reg_facts_account_names(hs, hn, aad, &a), 0);
	cr_expect_str_eq(a.name, "DaveM");
	cr_expect_str_eq(a.source, "IdentityStore\\Cache SAMName");
	cr_expect_str_eq(a.domain, "AzureAD");
	reg_account_names_clear(&a);
	cr_assert_eq(reg_facts_account_names(NULL, hn, aad, &a), 0);
	cr_expect_str_eq(a.name, "dave-session");
	reg_account_names_clear(&a);
	cr_assert_eq(reg_facts_account_names(hs, NULL, aad, &a), 0);
	cr_expect_str_eq(a.name, "DaveM");
	reg_account_names_clear(&a);
	reg_hive_close(hs);
	reg_hive_close(hn);
}

/* The real hives that used to name profiles "admin", "vibranium" and
 * "lcdivt10@outlook.com": none of those is account-name evidence. */
Test(registry_facts, real_ntuser_account_names, .timeout = 120)
{
	static const struct {
		const char *file, *display, *online;
	} v[] = {
		{ "NTUSER-WSL.DAT", NULL, NULL },
		{ "NTUSER.DAT", "vibranium", NULL },
		{ "notatin_NTUSER.DAT", NULL, "lcdivt10@outlook.com" },
		{ "NTUSER_with_winscp.DAT", "tony", NULL },
	};
	T_NEED_SHARED();
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		reg_hive *h = ro(t_extract(v[i].file, v[i].file));
		struct reg_account_names a;
		cr_assert_eq(reg_facts_account_names(NULL, h, "S-1-5-21-1-2-3-1001", &a), 0);
		if (a.name)
			cr_expect(strcmp(a.name, "admin") && strcmp(a.name, "vibranium") &&
					  !strchr(a.name, '@'),
				  "%s: \"%s\" (%s) is not account-name evidence", v[i].file, a.name, a.source);
		if (v[i].display)
			cr_expect(a.display_name && !strcmp(a.display_name, v[i].display),
				  "%s: display name %s", v[i].file, a.display_name ? a.display_name : "none");
		if (v[i].online)
			cr_expect(a.online_account && !strcmp(a.online_account, v[i].online),
				  "%s: online account", v[i].file);
		reg_account_names_clear(&a);
		reg_hive_close(h);
	}
}
