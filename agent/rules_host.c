#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "agent/rules_host.h"

/* "C:\Users\x" -> volume path, or NULL when not on this volume. */
static char *
to_volume(const struct rules_host *h, const char *path)
{
	if (!path || strlen(path) < 2 || path[1] != ':' || (path[0] & ~0x20) != h->drive)
		return NULL;
	const char *rest = path + 2;
	while (*rest == '\\' || *rest == '/')
		rest++;
	const char *root = h->w->install.root;
	char *out;
	if (asprintf(&out, "%s%s%s", root, *root && *rest ? "/" : "", rest) < 0)
		return NULL;
	for (char *c = out; *c; c++)
		if (*c == '\\')
			*c = '/';
	return out;
}

static int
host_file_exists(void *opaque, const char *path, int *is_dir)
{
	struct rules_host *h = opaque;
	char *vp = to_volume(h, path);
	uint64_t mref;
	struct nv_inode *in;
	int found = 0;
	if (vp && nv_lookup(h->w->vol, vp, &mref) == NV_OK) {
		found = 1;
		if (is_dir && nv_stat(h->w->vol, mref, &in) == NV_OK) {
			*is_dir = (in->kind & NV_IS_DIR) != 0;
			nv_inode_free(in);
		}
	}
	free(vp);
	return found;
}

static int
host_file_read(void *opaque, const char *path, size_t max, unsigned char **data, size_t *len)
{
	struct rules_host *h = opaque;
	char *vp = to_volume(h, path);
	uint64_t mref;
	struct nv_reader *r;
	int rc = -1;
	if (vp && nv_lookup(h->w->vol, vp, &mref) == NV_OK &&
	    nv_reader_open(h->w->vol, mref, NULL, &r) == NV_OK) {
		uint64_t size = nv_reader_size(r);
		size_t want = size < max ? (size_t)size : max;
		*data = malloc(want ? want : 1);
		if (*data && nv_reader_pread(r, *data, want, 0, len) == NV_OK)
			rc = 0;
		else {
			free(*data);
			*data = NULL;
		}
		nv_reader_close(r);
	}
	free(vp);
	return rc;
}

/* The rule engine names keys "HKLM\..."; registry/ resolves them. */
static int
locate(struct rules_host *h, const char *key, struct ws_reg_location *loc, ws_key *k)
{
	if (ws_hive_set_resolve(h->hives, key, WS_VIEW_DEFAULT, loc) != WS_REG_OK)
		return -1;
	if (ws_key_open(loc->hive, loc->subpath, k) != WS_REG_OK) {
		free(loc->subpath);
		return -1;
	}
	return 0;
}

static int
host_reg_exists(void *opaque, const char *key, const char *value)
{
	struct rules_host *h = opaque;
	struct ws_reg_location loc;
	ws_key k;
	struct ws_reg_value v = { 0 };
	if (locate(h, key, &loc, &k) < 0)
		return 0;
	int found = !value || ws_key_get_value(loc.hive, k, value, &v) == WS_REG_OK;
	ws_reg_value_clear(&v);
	free(loc.subpath);
	return found;
}

static int
host_reg_read(void *opaque, const char *key, const char *value, unsigned *type,
	      unsigned char **data, size_t *len)
{
	struct rules_host *h = opaque;
	struct ws_reg_location loc;
	ws_key k;
	struct ws_reg_value v = { 0 };
	int rc = -1;
	if (locate(h, key, &loc, &k) < 0)
		return -1;
	if (ws_key_get_value(loc.hive, k, value ? value : "", &v) == WS_REG_OK) {
		*type = v.type;
		*len = v.len;
		*data = v.data;
		v.data = NULL;
		rc = 0;
	}
	ws_reg_value_clear(&v);
	free(loc.subpath);
	return rc;
}

static int
host_os_version(void *opaque, unsigned *major, unsigned *minor, unsigned *build)
{
	struct rules_host *h = opaque;
	struct ws_reg_value v = { 0 };
	uint32_t n;
	const char *cv = "Microsoft\\Windows NT\\CurrentVersion";
	if (!h->w->software || !h->w->info.current_build)
		return -1;
	*major = 6;
	*minor = 3;
	if (ws_hive_get_value(h->w->software, cv, "CurrentMajorVersionNumber", &v) == WS_REG_OK &&
	    ws_reg_value_u32(&v, &n) == WS_REG_OK)
		*major = n;
	ws_reg_value_clear(&v);
	if (ws_hive_get_value(h->w->software, cv, "CurrentMinorVersionNumber", &v) == WS_REG_OK &&
	    ws_reg_value_u32(&v, &n) == WS_REG_OK)
		*minor = n;
	ws_reg_value_clear(&v);
	*build = (unsigned)strtoul(h->w->info.current_build, NULL, 10);
	return 0;
}

static int
host_native_64(void *opaque)
{
	struct rules_host *h = opaque;
	const char *a = h->w->info.arch;
	if (!a)
		return -1;
	return !strcasecmp(a, "AMD64") || !strcasecmp(a, "ARM64");
}

int
rules_host_init(struct rules_host *h, struct offline_windows *w, const struct offline_user *user)
{
	char path[8192];
	memset(h, 0, sizeof(*h));
	h->w = w;
	h->drive = 'C';
	h->hives = ws_hive_set_new();
	if (!h->hives)
		return -1;
	static const struct {
		const char *name;
		enum ws_hive_kind kind;
	} machine[] = { { "SOFTWARE", WS_HK_SOFTWARE }, { "SYSTEM", WS_HK_SYSTEM },
			{ "SAM", WS_HK_SAM }, { "SECURITY", WS_HK_SECURITY } };
	for (size_t i = 0; i < sizeof(machine) / sizeof(machine[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", w->hives.path, machine[i].name);
		ws_hive_set_add(h->hives, machine[i].kind, NULL, path);
	}
	if (user && user->sid && user->ntuser_copy) {
		ws_hive_set_add(h->hives, WS_HK_NTUSER, user->sid, user->ntuser_copy);
		if (user->usrclass_copy)
			ws_hive_set_add(h->hives, WS_HK_USRCLASS, user->sid, user->usrclass_copy);
		ws_hive_set_current_user(h->hives, user->sid);
	}
	h->host.opaque = h;
	h->host.file_exists = host_file_exists;
	h->host.file_read = host_file_read;
	h->host.reg_exists = host_reg_exists;
	h->host.reg_read = host_reg_read;
	h->host.os_version = host_os_version;
	h->host.is_native_64bit = host_native_64;
	return 0;
}

void
rules_host_fini(struct rules_host *h)
{
	if (h->hives)
		ws_hive_set_free(h->hives);
	h->hives = NULL;
}

/* Shell folder value names and the variables that stand for them. */
static const struct {
	const char *value, *var;
} folder_vars[] = {
	{ "Personal", "CSIDL_PERSONAL" },
	{ "Personal", "CSIDL_MYDOCUMENTS" },
	{ "Personal", "FOLDERID_Documents" },
	{ "Desktop", "CSIDL_DESKTOP" },
	{ "Desktop", "CSIDL_DESKTOPDIRECTORY" },
	{ "Desktop", "FOLDERID_Desktop" },
	{ "My Pictures", "CSIDL_MYPICTURES" },
	{ "My Pictures", "FOLDERID_Pictures" },
	{ "My Music", "CSIDL_MYMUSIC" },
	{ "My Music", "FOLDERID_Music" },
	{ "My Video", "CSIDL_MYVIDEO" },
	{ "My Video", "FOLDERID_Videos" },
	{ "Favorites", "CSIDL_FAVORITES" },
	{ "Favorites", "FOLDERID_Favorites" },
	{ "AppData", "CSIDL_APPDATA" },
	{ "AppData", "APPDATA" },
	{ "Local AppData", "CSIDL_LOCAL_APPDATA" },
	{ "Local AppData", "LOCALAPPDATA" },
	{ "{374DE290-123F-4565-9164-39C4925E467B}", "FOLDERID_Downloads" },
};

void
rules_vars_set_folder(ws_vars *v, const char *value_name, const char *path)
{
	for (size_t k = 0; k < sizeof(folder_vars) / sizeof(folder_vars[0]); k++)
		if (!strcasecmp(value_name, folder_vars[k].value))
			ws_vars_set(v, folder_vars[k].var, path);
}

void
rules_vars_for_user(ws_vars *v, const struct offline_windows *w, const struct offline_user *user)
{
	int err;
	char msg[256];
	ws_vars_default_user(v, "C:", user->name ? user->name : "user", user->profile_path, user->sid);
	rules_vars_for_system(v, w);
	if (!user->ntuser_copy || !user->profile_path)
		return;
	ws_hive *h = ws_hive_open(user->ntuser_copy, 0, &err, msg, sizeof(msg));
	struct ws_user_folder *folders;
	size_t n;
	if (!h)
		return;
	if (ws_facts_user_folders(h, user->profile_path, &folders, &n) == WS_REG_OK) {
		/* "User Shell Folders" is the truth, "Shell Folders" a cache: apply it last. */
		for (size_t pass = 0; pass < 2; pass++)
		for (size_t i = 0; i < n; i++) {
			bool user_shell = folders[i].source && !strcmp(folders[i].source, "User Shell Folders");
			if (folders[i].is_unc || !folders[i].path || user_shell != (pass == 1))
				continue;
			rules_vars_set_folder(v, folders[i].name, folders[i].path);
		}
		ws_user_folders_free(folders, n);
	}
	ws_hive_close(h);
}

/* A REG_SZ/REG_EXPAND_SZ value with %SystemDrive% and %SystemRoot% resolved. */
static char *
system_string(ws_hive *h, const char *key, const char *value, const char *systemroot)
{
	struct ws_reg_value v = { 0 };
	char *text = NULL, *out = NULL;
	if (!h || ws_hive_get_value(h, key, value, &v) != WS_REG_OK ||
	    ws_reg_value_string(&v, &text) != WS_REG_OK || !text || !*text) {
		ws_reg_value_clear(&v);
		free(text);
		return NULL;
	}
	ws_reg_value_clear(&v);
	static const char *const names[] = { "%SystemDrive%", "%SystemRoot%" };
	const char *repl[] = { "C:", systemroot ? systemroot : "C:\\Windows" };
	out = text;
	for (int i = 0; i < 2; i++) {
		char *at = strcasestr(out, names[i]);
		if (!at)
			continue;
		char *joined;
		if (asprintf(&joined, "%.*s%s%s", (int)(at - out), out, repl[i], at + strlen(names[i])) < 0)
			break;
		free(out);
		out = joined;
	}
	return out;
}

void
rules_vars_for_system(ws_vars *v, const struct offline_windows *w)
{
	static const struct {
		const char *key, *value;
		const char *vars[3];
	} map[] = {
		{ "Microsoft\\Windows NT\\CurrentVersion", "SystemRoot",
		  { "SYSTEMROOT", "WINDIR", "CSIDL_WINDOWS" } },
		{ "Microsoft\\Windows\\CurrentVersion", "ProgramFilesDir",
		  { "PROGRAMFILES", "CSIDL_PROGRAM_FILES", "ProgramW6432" } },
		{ "Microsoft\\Windows\\CurrentVersion", "ProgramFilesDir (x86)",
		  { "PROGRAMFILES(X86)", "CSIDL_PROGRAM_FILESX86", NULL } },
		{ "Microsoft\\Windows\\CurrentVersion", "CommonFilesDir",
		  { "COMMONPROGRAMFILES", "CSIDL_PROGRAM_FILES_COMMON", NULL } },
		{ "Microsoft\\Windows NT\\CurrentVersion\\ProfileList", "ProgramData",
		  { "PROGRAMDATA", "ALLUSERSPROFILE", "CSIDL_COMMON_APPDATA" } },
		{ "Microsoft\\Windows NT\\CurrentVersion\\ProfileList", "Public",
		  { "PUBLIC", NULL, NULL } },
		{ "Microsoft\\Windows NT\\CurrentVersion\\ProfileList", "ProfilesDirectory",
		  { "PROFILESFOLDER", NULL, NULL } },
	};
	char *systemroot = system_string(w->software, map[0].key, map[0].value, NULL);
	for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++) {
		char *value = system_string(w->software, map[i].key, map[i].value, systemroot);
		for (int k = 0; value && k < 3 && map[i].vars[k]; k++)
			ws_vars_set(v, map[i].vars[k], value);
		free(value);
	}
	free(systemroot);
}
