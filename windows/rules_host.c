#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "windows/windows.h"

/* "C:\Users\x" -> volume path, or NULL when not on this volume (or out of
 * memory: then said in h->out_of_memory). */
static char *
to_volume(struct win_rules_host *h, const char *path)
{
	if (!path || strlen(path) < 2 || path[1] != ':' || (path[0] & ~0x20) != h->drive)
		return NULL;
	const char *rest = path + 2;
	while (*rest == '\\' || *rest == '/')
		rest++;
	const char *root = h->w->install.root;
	char *out;
	if (asprintf(&out, "%s%s%s", root, *root && *rest ? "/" : "", rest) < 0) {
		h->out_of_memory = true;
		return NULL;
	}
	for (char *c = out; *c; c++)
		if (*c == '\\')
			*c = '/';
	return out;
}

static int
host_file_exists(void *opaque, const char *path, int *is_dir)
{
	struct win_rules_host *h = opaque;
	char *vp = to_volume(h, path);
	uint64_t mref;
	struct nv_inode *in;
	int found = 0;
	enum nv_status st = vp ? nv_lookup(h->w->vol, vp, &mref) : NV_ERR_NOT_FOUND;
	if (st == NV_OK) {
		found = 1;
		if (is_dir && (st = nv_stat(h->w->vol, mref, &in)) == NV_OK) {
			*is_dir = (in->kind & NV_IS_DIR) != 0;
			nv_inode_free(in);
		}
	}
	if (st == NV_ERR_NOMEM)
		h->out_of_memory = true;
	free(vp);
	return found;
}

static int
host_file_read(void *opaque, const char *path, size_t max, unsigned char **data, size_t *len)
{
	struct win_rules_host *h = opaque;
	char *vp = to_volume(h, path);
	uint64_t mref;
	struct nv_reader *r;
	int rc = -1;
	enum nv_status st = vp ? nv_lookup(h->w->vol, vp, &mref) : NV_ERR_NOT_FOUND;
	if (st == NV_OK && (st = nv_reader_open(h->w->vol, mref, NULL, &r)) == NV_OK) {
		uint64_t size = nv_reader_size(r);
		size_t want = size < max ? (size_t)size : max;
		*data = malloc(want ? want : 1);
		st = *data ? nv_reader_pread(r, *data, want, 0, len) : NV_ERR_NOMEM;
		if (st == NV_OK)
			rc = 0;
		else {
			free(*data);
			*data = NULL;
		}
		nv_reader_close(r);
	}
	if (st == NV_ERR_NOMEM)
		h->out_of_memory = true;
	free(vp);
	return rc;
}

/* The rule engine names keys "HKLM\..."; registry/ resolves them. */
static int
locate(struct win_rules_host *h, const char *key, struct reg_location *loc, reg_key *k)
{
	int err = reg_hive_set_resolve(h->hives, key, REG_VIEW_DEFAULT, loc);
	if (err != REG_OK) {
		h->out_of_memory |= err == REG_ENOMEM;
		return -1;
	}
	if ((err = reg_key_open(loc->hive, loc->subpath, k)) != REG_OK) {
		h->out_of_memory |= err == REG_ENOMEM;
		free(loc->subpath);
		return -1;
	}
	return 0;
}

static int
host_reg_exists(void *opaque, const char *key, const char *value)
{
	struct win_rules_host *h = opaque;
	struct reg_location loc;
	reg_key k;
	struct reg_value v = { 0 };
	if (locate(h, key, &loc, &k) < 0)
		return 0;
	int err = value ? reg_key_get_value(loc.hive, k, value, &v) : REG_OK;
	int found = err == REG_OK;
	h->out_of_memory |= err == REG_ENOMEM;
	reg_value_clear(&v);
	free(loc.subpath);
	return found;
}

static int
host_reg_read(void *opaque, const char *key, const char *value, unsigned *type,
	      unsigned char **data, size_t *len)
{
	struct win_rules_host *h = opaque;
	struct reg_location loc;
	reg_key k;
	struct reg_value v = { 0 };
	int rc = -1;
	if (locate(h, key, &loc, &k) < 0)
		return -1;
	int err = reg_key_get_value(loc.hive, k, value ? value : "", &v);
	h->out_of_memory |= err == REG_ENOMEM;
	if (err == REG_OK) {
		*type = v.type;
		*len = v.len;
		*data = v.data;
		v.data = NULL;
		rc = 0;
	}
	reg_value_clear(&v);
	free(loc.subpath);
	return rc;
}

static int
host_os_version(void *opaque, unsigned *major, unsigned *minor, unsigned *build)
{
	struct win_rules_host *h = opaque;
	struct reg_value v = { 0 };
	uint32_t n;
	const char *cv = "Microsoft\\Windows NT\\CurrentVersion";
	if (!h->w->software || !h->w->info.current_build)
		return -1;
	*major = 6;
	*minor = 3;
	if (reg_hive_get_value(h->w->software, cv, "CurrentMajorVersionNumber", &v) == REG_OK &&
	    reg_value_u32(&v, &n) == REG_OK)
		*major = n;
	reg_value_clear(&v);
	if (reg_hive_get_value(h->w->software, cv, "CurrentMinorVersionNumber", &v) == REG_OK &&
	    reg_value_u32(&v, &n) == REG_OK)
		*minor = n;
	reg_value_clear(&v);
	*build = (unsigned)strtoul(h->w->info.current_build, NULL, 10);
	return 0;
}

static int
host_native_64(void *opaque)
{
	struct win_rules_host *h = opaque;
	const char *a = h->w->info.arch;
	if (!a)
		return -1;
	return !strcasecmp(a, "AMD64") || !strcasecmp(a, "ARM64");
}

int
win_rules_host_init(struct win_rules_host *h, struct win_offline *w, const struct win_user *user)
{
	char path[8192];
	memset(h, 0, sizeof(*h));
	h->w = w;
	h->drive = 'C';
	h->hives = reg_hive_set_new();
	if (!h->hives)
		return -1;
	static const struct {
		const char *name;
		enum reg_hive_kind kind;
	} machine[] = { { "SOFTWARE", REG_HK_SOFTWARE }, { "SYSTEM", REG_HK_SYSTEM },
			{ "SAM", REG_HK_SAM }, { "SECURITY", REG_HK_SECURITY } };
	for (size_t i = 0; i < sizeof(machine) / sizeof(machine[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", w->hives.path, machine[i].name);
		if (reg_hive_set_add(h->hives, machine[i].kind, NULL, path) == REG_ENOMEM)
			goto out_of_memory;
	}
	if (user && user->sid && user->ntuser_copy) {
		if (reg_hive_set_add(h->hives, REG_HK_NTUSER, user->sid, user->ntuser_copy) ==
			    REG_ENOMEM ||
		    (user->usrclass_copy && reg_hive_set_add(h->hives, REG_HK_USRCLASS, user->sid,
							     user->usrclass_copy) == REG_ENOMEM) ||
		    reg_hive_set_current_user(h->hives, user->sid) == REG_ENOMEM)
			goto out_of_memory;
	}
	h->host.opaque = h;
	h->host.file_exists = host_file_exists;
	h->host.file_read = host_file_read;
	h->host.reg_exists = host_reg_exists;
	h->host.reg_read = host_reg_read;
	h->host.os_version = host_os_version;
	h->host.is_native_64bit = host_native_64;
	return 0;
out_of_memory:
	reg_hive_set_free(h->hives);
	h->hives = NULL;
	return -1;
}

void
win_rules_host_fini(struct win_rules_host *h)
{
	if (h->hives)
		reg_hive_set_free(h->hives);
	h->hives = NULL;
}

/* ------------------------------------------------------------ variables -- */

/*
 * The one variable resolver of scan, explain and restore: rules/ holds
 * Windows' defaults and their order; here we only say what the offline
 * Windows states, value by value, and collect the defaults that had to stand
 * in for a missing value so the caller can log them.
 */

/* A user's shell folder values (User Shell Folders / Shell Folders) and the
 * variable each states; its aliases (CSIDL_MYDOCUMENTS ...) follow it. */
static const struct {
	const char *value, *var;
} user_folders[] = {
	{ "Personal", "CSIDL_PERSONAL" },
	{ "Desktop", "CSIDL_DESKTOP" },
	{ "My Pictures", "CSIDL_MYPICTURES" },
	{ "My Music", "CSIDL_MYMUSIC" },
	{ "My Video", "CSIDL_MYVIDEO" },
	{ "Favorites", "CSIDL_FAVORITES" },
	{ "AppData", "APPDATA" },
	{ "Local AppData", "LOCALAPPDATA" },
	{ "{374DE290-123F-4565-9164-39C4925E467B}", "FOLDERID_Downloads" },
	{ "Start Menu", "CSIDL_STARTMENU" },
	{ "Programs", "CSIDL_PROGRAMS" },
	{ "Startup", "CSIDL_STARTUP" },
	{ "Administrative Tools", "CSIDL_ADMINTOOLS" },
	{ "Recent", "CSIDL_RECENT" },
	{ "SendTo", "CSIDL_SENDTO" },
	{ "Templates", "CSIDL_TEMPLATES" },
	{ "NetHood", "CSIDL_NETHOOD" },
	{ "PrintHood", "CSIDL_PRINTHOOD" },
	{ "Cookies", "CSIDL_COOKIES" },
	{ "History", "CSIDL_HISTORY" },
	{ "Cache", "CSIDL_INTERNET_CACHE" },
	{ "CD Burning", "CSIDL_CDBURN_AREA" },
	{ "{56784854-C6CB-462B-8169-88E350ACB882}", "FOLDERID_Contacts" },
	{ "{4C5C32FF-BB9D-43B0-B5B4-2D72E54EAAA4}", "FOLDERID_SavedGames" },
	{ "{BFB9D5E0-C6A9-404C-B2B2-AE6DB6AF4968}", "FOLDERID_Links" },
	{ "{7D1D3A04-DEBB-4115-95CF-2F29DA2920DA}", "FOLDERID_Searches" },
	{ "{1B3EA5DC-B587-4786-B4EF-BD1DC332AEAE}", "FOLDERID_Libraries" },
	{ "{A520A1A4-1780-4FF6-BD18-167343C5AF16}", "FOLDERID_LocalAppDataLow" },
};

/* The machine's: HKLM\Software\Microsoft\Windows\CurrentVersion\Explorer\
 * User Shell Folders (REG_EXPAND_SZ, the truth) and Shell Folders (cache). */
static const struct {
	const char *value, *var;
} machine_folders[] = {
	{ "Common AppData", "CSIDL_COMMON_APPDATA" },
	{ "Common Desktop", "CSIDL_COMMON_DESKTOPDIRECTORY" },
	{ "Common Documents", "CSIDL_COMMON_DOCUMENTS" },
	{ "CommonMusic", "CSIDL_COMMON_MUSIC" },
	{ "CommonPictures", "CSIDL_COMMON_PICTURES" },
	{ "CommonVideo", "CSIDL_COMMON_VIDEO" },
	{ "{3D644C9B-1FB8-4F30-9B45-F670235F79C0}", "FOLDERID_PublicDownloads" },
	{ "Common Start Menu", "CSIDL_COMMON_STARTMENU" },
	{ "Common Programs", "CSIDL_COMMON_PROGRAMS" },
	{ "Common Startup", "CSIDL_COMMON_STARTUP" },
	{ "Common Administrative Tools", "CSIDL_COMMON_ADMINTOOLS" },
	{ "Common Templates", "CSIDL_COMMON_TEMPLATES" },
	{ "Common Favorites", "CSIDL_COMMON_FAVORITES" },
	{ "OEM Links", "CSIDL_COMMON_OEM_LINKS" },
};

/* SOFTWARE values that state a system variable. */
static const struct {
	const char *key, *value, *var;
} machine_values[] = {
	{ "Microsoft\\Windows NT\\CurrentVersion", "SystemRoot", "SYSTEMROOT" },
	{ "Microsoft\\Windows\\CurrentVersion", "ProgramFilesDir", "PROGRAMFILES" },
	{ "Microsoft\\Windows\\CurrentVersion", "ProgramFilesDir (x86)", "PROGRAMFILES(X86)" },
	{ "Microsoft\\Windows\\CurrentVersion", "ProgramW6432Dir", "ProgramW6432" },
	{ "Microsoft\\Windows\\CurrentVersion", "CommonFilesDir", "COMMONPROGRAMFILES" },
	{ "Microsoft\\Windows\\CurrentVersion", "CommonFilesDir (x86)", "COMMONPROGRAMFILES(X86)" },
	{ "Microsoft\\Windows\\CurrentVersion", "CommonW6432Dir", "CommonProgramW6432" },
	{ "Microsoft\\Windows NT\\CurrentVersion\\ProfileList", "ProfilesDirectory", "PROFILESFOLDER" },
	{ "Microsoft\\Windows NT\\CurrentVersion\\ProfileList", "Public", "PUBLIC" },
	{ "Microsoft\\Windows NT\\CurrentVersion\\ProfileList", "Default", "DEFAULTUSERPROFILE" },
	{ "Microsoft\\Windows NT\\CurrentVersion\\ProfileList", "ProgramData", "PROGRAMDATA" },
};

void
win_vars_set_folder(mig_vars *stated, const char *value_name, const char *path)
{
	for (size_t k = 0; k < sizeof(user_folders) / sizeof(user_folders[0]); k++)
		if (!strcasecmp(value_name, user_folders[k].value))
			mig_vars_set(stated, user_folders[k].var, path);
}

/* A REG_SZ / REG_EXPAND_SZ value as the hive has it (not expanded), or NULL. */
static char *
hive_string(reg_hive *h, const char *key, const char *value)
{
	struct reg_value v = { 0 };
	char *text = NULL;
	if (!h || reg_hive_get_value(h, key, value, &v) != REG_OK ||
	    reg_value_string(&v, &text) != REG_OK || !text || !*text) {
		free(text);
		text = NULL;
	}
	reg_value_clear(&v);
	return text;
}

static unsigned
build_of(const struct win_offline *w)
{
	return w && w->info.current_build ? (unsigned)strtoul(w->info.current_build, NULL, 10) : 0;
}

struct fallbacks {
	char **text;
	size_t len;
};

static void
note_fallback(void *ctx, const char *name, const char *value, const char *unusable)
{
	struct fallbacks *f = ctx;
	if (!f->text)
		return;
	char *add;
	int n = unusable ? asprintf(&add, "%s%%%s%% = %s (the hive's \"%s\" cannot be expanded)",
				    *f->text ? ", " : "", name, value, unusable)
			 : asprintf(&add, "%s%%%s%% = %s", *f->text ? ", " : "", name, value);
	if (n < 0)
		return;
	char *grown = realloc(*f->text, f->len + (size_t)n + 1);
	if (!grown) {
		free(add);
		return;
	}
	memcpy(grown + f->len, add, (size_t)n + 1);
	f->len += (size_t)n;
	*f->text = grown;
	free(add);
}

void
win_vars_for_system(mig_vars *v, const struct win_offline *w, char drive, char **defaulted)
{
	mig_vars *stated = mig_vars_new();
	static const char ex[] = "Microsoft\\Windows\\CurrentVersion\\Explorer\\";
	for (size_t i = 0; w && i < sizeof(machine_values) / sizeof(machine_values[0]); i++) {
		char *s = hive_string(w->software, machine_values[i].key, machine_values[i].value);
		if (s)
			mig_vars_set(stated, machine_values[i].var, s);
		free(s);
	}
	for (size_t i = 0; w && i < sizeof(machine_folders) / sizeof(machine_folders[0]); i++) {
		char key[128];
		snprintf(key, sizeof(key), "%sUser Shell Folders", ex);
		char *s = hive_string(w->software, key, machine_folders[i].value);
		if (!s) {
			snprintf(key, sizeof(key), "%sShell Folders", ex);
			s = hive_string(w->software, key, machine_folders[i].value);
		}
		if (s)
			mig_vars_set(stated, machine_folders[i].var, s);
		free(s);
	}
	struct fallbacks f = { defaulted, 0 };
	if (defaulted)
		*defaulted = NULL;
	char letter[3] = { drive ? drive : 'C', ':', 0 };
	mig_vars_resolve_system(v, letter, build_of(w), stated, note_fallback, &f);
	mig_vars_free(stated);
}

void
win_vars_user_layer(mig_vars *v, const struct win_offline *w, const char *name,
		      const char *profile, const char *sid, const mig_vars *stated, char **defaulted)
{
	struct fallbacks f = { defaulted, 0 };
	if (defaulted)
		*defaulted = NULL;
	mig_vars_resolve_user(v, name && *name ? name : "user", profile, sid, build_of(w), stated,
			     note_fallback, &f);
}

void
win_vars_for_user(mig_vars *v, const struct win_offline *w, const struct win_user *user,
		    char **defaulted)
{
	/* winstate names the offline system volume C: everywhere (walk, hosts) */
	win_vars_for_system(v, w, 'C', NULL);
	mig_vars *stated = mig_vars_new();
	reg_hive *h = NULL;
	int err;
	char msg[256];
	if (user->ntuser_copy && user->profile_path)
		h = reg_hive_open(user->ntuser_copy, 0, &err, msg, sizeof(msg));
	struct reg_user_folder *folders;
	size_t n;
	if (h && reg_facts_user_folders(h, user->profile_path, &folders, &n) == REG_OK) {
		/* "User Shell Folders" is the truth, "Shell Folders" a cache: apply it last. */
		for (size_t pass = 0; pass < 2; pass++)
			for (size_t i = 0; i < n; i++) {
				bool user_shell = folders[i].source &&
						  !strcmp(folders[i].source, "User Shell Folders");
				if (folders[i].is_unc || !folders[i].path || user_shell != (pass == 1))
					continue;
				win_vars_set_folder(stated, folders[i].name, folders[i].path);
			}
		reg_user_folders_free(folders, n);
	}
	if (h)
		reg_hive_close(h);
	win_vars_user_layer(v, w, user->name, user->profile_path, user->sid, stated, defaulted);
	mig_vars_free(stated);
}
