/*
 * Variable tables: %CSIDL_*%, %FOLDERID_*%, %USERPROFILE%, ... and the
 * <environment> variables of rule files.  Names are case-insensitive.  A
 * child table (one per component scope) falls back to its parent, so rule
 * variables stay private to their component.  The documented Windows 10/11
 * defaults are filled by ws_vars_default_system/_user.
 */
#include <stdlib.h>
#include <string.h>

#include "rules/internal.h"

uint64_t
ws__hash(const char *p, size_t n)
{
	uint64_t h = 1469598103934665603ull;
	for (size_t i = 0; i < n; i++) {
		h ^= (unsigned char)p[i];
		h *= 1099511628211ull;
	}
	return h;
}

ws_vars *
ws_vars_new(void)
{
	ws_vars *v = ws__xmalloc(sizeof(*v));
	memset(v, 0, sizeof(*v));
	return v;
}

ws_vars *
ws__vars_child(const ws_vars *parent)
{
	ws_vars *v = ws_vars_new();
	v->parent = parent;
	return v;
}

void
ws_vars_free(ws_vars *v)
{
	if (!v)
		return;
	for (size_t i = 0; i < v->n; i++) {
		free(v->v[i].name);
		free(v->v[i].key);
		free(v->v[i].value);
	}
	free(v->v);
	free(v->slots);
	free(v);
}

static char *
fold_name(const char *name, uint64_t *hash)
{
	struct sbuf s = { 0 };
	ws__fold(name, strlen(name), &s);
	char *k = sb_steal(&s);
	*hash = ws__hash(k, strlen(k));
	return k;
}

static ssize_t
find_local(const ws_vars *v, const char *key, uint64_t h)
{
	if (!v->nslots)
		return -1;
	for (size_t i = h & (v->nslots - 1);; i = (i + 1) & (v->nslots - 1)) {
		uint32_t s = v->slots[i];
		if (!s)
			return -1;
		if (v->v[s - 1].hash == h && !strcmp(v->v[s - 1].key, key))
			return (ssize_t)(s - 1);
	}
}

static void
rehash(ws_vars *v)
{
	size_t ns = v->nslots ? v->nslots * 2 : 64;
	free(v->slots);
	v->slots = ws__xmalloc(ns * sizeof(uint32_t));
	memset(v->slots, 0, ns * sizeof(uint32_t));
	v->nslots = ns;
	for (size_t k = 0; k < v->n; k++) {
		size_t i = v->v[k].hash & (ns - 1);
		while (v->slots[i])
			i = (i + 1) & (ns - 1);
		v->slots[i] = (uint32_t)k + 1;
	}
}

int
ws_vars_set(ws_vars *v, const char *name, const char *value)
{
	if (!v || !name || !*name || !value)
		return -1;
	uint64_t h;
	char *key = fold_name(name, &h);
	ssize_t i = find_local(v, key, h);
	if (i >= 0) {
		free(key);
		free(v->v[i].value);
		v->v[i].value = ws__strdup(value);
		return 0;
	}
	if (v->n == v->cap) {
		v->cap = v->cap ? v->cap * 2 : 32;
		v->v = ws__xrealloc(v->v, v->cap * sizeof(*v->v));
	}
	v->v[v->n] = (struct ws_var_ent){ ws__strdup(name), key, ws__strdup(value), h };
	v->n++;
	if (v->n * 2 > v->nslots)
		rehash(v);
	else {
		size_t k = h & (v->nslots - 1);
		while (v->slots[k])
			k = (k + 1) & (v->nslots - 1);
		v->slots[k] = (uint32_t)v->n;
	}
	return 0;
}

static const char *
get_n(const ws_vars *v, const char *name, size_t n)
{
	char buf[256];
	if (n >= sizeof(buf))
		return NULL;
	ws__fold_into(name, n, buf);
	buf[n] = 0;
	uint64_t h = ws__hash(buf, n);
	for (; v; v = v->parent) {
		ssize_t i = find_local(v, buf, h);
		if (i >= 0)
			return v->v[i].value;
	}
	return NULL;
}

const char *
ws_vars_get(const ws_vars *v, const char *name)
{
	return name ? get_n(v, name, strlen(name)) : NULL;
}

size_t
ws_vars_count(const ws_vars *v)
{
	return v ? v->n : 0;
}

void
ws_vars_entry(const ws_vars *v, size_t i, const char **name, const char **value)
{
	*name = i < v->n ? v->v[i].name : NULL;
	*value = i < v->n ? v->v[i].value : NULL;
}

ws_vars *
ws_vars_clone(const ws_vars *v)
{
	ws_vars *c = ws_vars_new();
	/* flatten the chain, parents first so children override */
	const ws_vars *chain[64];
	size_t n = 0;
	for (const ws_vars *p = v; p && n < 64; p = p->parent)
		chain[n++] = p;
	while (n--)
		for (size_t i = 0; i < chain[n]->n; i++)
			ws_vars_set(c, chain[n]->v[i].name, chain[n]->v[i].value);
	return c;
}

char *
ws__vars_expand(const ws_vars *v, const char *in, bool escape, char **missing)
{
	struct sbuf s = { 0 };
	const char *p = in;
	while (*p) {
		const char *pc = strchr(p, '%');
		if (!pc) {
			sb_add(&s, p);
			break;
		}
		sb_addn(&s, p, (size_t)(pc - p));
		const char *end = strchr(pc + 1, '%');
		if (!end) {
			sb_add(&s, pc);
			break;
		}
		size_t n = (size_t)(end - pc - 1);
		/* A name has no blanks or path separators: otherwise this '%' is literal. */
		bool plausible = n > 0 && n < 200 && !memchr(pc + 1, '\\', n) && !memchr(pc + 1, '[', n);
		if (!plausible) {
			sb_addc(&s, '%');
			p = pc + 1;
			continue;
		}
		const char *val = get_n(v, pc + 1, n);
		if (!val) {
			if (missing)
				*missing = ws__strndup(pc + 1, n);
			sb_free(&s);
			return NULL;
		}
		for (const char *q = val; *q; q++) {
			if (escape && (*q == '[' || *q == ']' || *q == '^'))
				sb_addc(&s, '^');
			sb_addc(&s, *q);
		}
		p = end + 1;
	}
	return sb_steal(&s);
}

char *
ws_vars_expand(const ws_vars *v, const char *in, char **missing)
{
	if (missing)
		*missing = NULL;
	return in ? ws__vars_expand(v, in, false, missing) : NULL;
}

/* ---------------------------------------------------------------- defaults */

struct def { const char *name, *fmt; };

/* System context (documented in usmt-recognized-environment-variables);
 * "%1" is replaced by the system drive ("C:"). */
static const struct def sys_defs[] = {
	{ "SYSTEMDRIVE", "%1" },
	{ "SYSTEMROOT", "%1\\Windows" }, { "WINDIR", "%1\\Windows" },
	{ "CSIDL_WINDOWS", "%1\\Windows" },
	{ "SYSTEM", "%1\\Windows\\System32" }, { "SYSTEM32", "%1\\Windows\\System32" },
	{ "CSIDL_SYSTEM", "%1\\Windows\\System32" }, { "SYSTEM16", "%1\\Windows\\System" },
	{ "CSIDL_SYSTEMX86", "%1\\Windows\\SysWOW64" },
	{ "CSIDL_FONTS", "%1\\Windows\\Fonts" }, { "CSIDL_RESOURCES", "%1\\Windows\\Resources" },
	{ "PROGRAMFILES", "%1\\Program Files" }, { "CSIDL_PROGRAM_FILES", "%1\\Program Files" },
	{ "PROGRAMFILES(X86)", "%1\\Program Files (x86)" },
	{ "CSIDL_PROGRAM_FILESX86", "%1\\Program Files (x86)" },
	{ "COMMONPROGRAMFILES", "%1\\Program Files\\Common Files" },
	{ "CSIDL_PROGRAM_FILES_COMMON", "%1\\Program Files\\Common Files" },
	{ "COMMONPROGRAMFILES(X86)", "%1\\Program Files (x86)\\Common Files" },
	{ "CSIDL_PROGRAM_FILES_COMMONX86", "%1\\Program Files (x86)\\Common Files" },
	{ "PROGRAMDATA", "%1\\ProgramData" },
	{ "ALLUSERSPROFILE", "%1\\ProgramData" }, { "ALLUSERSAPPDATA", "%1\\ProgramData" },
	{ "CSIDL_COMMON_APPDATA", "%1\\ProgramData" },
	{ "CSIDL_COMMON_STARTMENU", "%1\\ProgramData\\Microsoft\\Windows\\Start Menu" },
	{ "CSIDL_COMMON_PROGRAMS", "%1\\ProgramData\\Microsoft\\Windows\\Start Menu\\Programs" },
	{ "CSIDL_COMMON_STARTUP", "%1\\ProgramData\\Microsoft\\Windows\\Start Menu\\Programs\\Startup" },
	{ "CSIDL_COMMON_ALTSTARTUP", "%1\\ProgramData\\Microsoft\\Windows\\Start Menu\\Programs\\Startup" },
	{ "CSIDL_COMMON_ADMINTOOLS", "%1\\ProgramData\\Microsoft\\Windows\\Start Menu\\Programs\\Administrative Tools" },
	{ "CSIDL_COMMON_TEMPLATES", "%1\\ProgramData\\Microsoft\\Windows\\Templates" },
	{ "CSIDL_COMMON_FAVORITES", "%1\\Users\\Public\\Favorites" },
	{ "CSIDL_COMMON_DESKTOPDIRECTORY", "%1\\Users\\Public\\Desktop" },
	{ "CSIDL_COMMON_DOCUMENTS", "%1\\Users\\Public\\Documents" },
	{ "CSIDL_COMMON_MUSIC", "%1\\Users\\Public\\Music" },
	{ "CSIDL_COMMON_PICTURES", "%1\\Users\\Public\\Pictures" },
	{ "CSIDL_COMMON_VIDEO", "%1\\Users\\Public\\Videos" },
	{ "FOLDERID_PublicDownloads", "%1\\Users\\Public\\Downloads" },
	{ "FOLDERID_Public", "%1\\Users\\Public" }, { "PUBLIC", "%1\\Users\\Public" },
	{ "PROFILESFOLDER", "%1\\Users" },
	{ "DEFAULTUSERPROFILE", "%1\\Users\\Default" },
	{ "SYSTEMPROFILE", "%1\\Windows\\System32\\config\\systemprofile" },
	{ "CSIDL_DEFAULT_APPDATA", "%1\\Users\\Default\\AppData\\Roaming" },
	{ "CSIDL_DEFAULT_LOCAL_APPDATA", "%1\\Users\\Default\\AppData\\Local" },
	{ "CSIDL_DEFAULT_COOKIES", "%1\\Users\\Default\\AppData\\Local\\Microsoft\\Windows\\INetCookies" },
	{ "CSIDL_DEFAULT_CONTACTS", "%1\\Users\\Default\\Contacts" },
	{ "CSIDL_DEFAULT_DESKTOP", "%1\\Users\\Default\\Desktop" },
	{ "CSIDL_DEFAULT_DOWNLOADS", "%1\\Users\\Default\\Downloads" },
	{ "CSIDL_DEFAULT_FAVORITES", "%1\\Users\\Default\\Favorites" },
	{ "CSIDL_DEFAULT_HISTORY", "%1\\Users\\Default\\AppData\\Local\\Microsoft\\Windows\\History" },
	{ "CSIDL_DEFAULT_INTERNET_CACHE", "%1\\Users\\Default\\AppData\\Local\\Microsoft\\Windows\\INetCache" },
	{ "CSIDL_DEFAULT_PERSONAL", "%1\\Users\\Default\\Documents" },
	{ "CSIDL_DEFAULT_MYDOCUMENTS", "%1\\Users\\Default\\Documents" },
	{ "CSIDL_DEFAULT_MYPICTURES", "%1\\Users\\Default\\Pictures" },
	{ "CSIDL_DEFAULT_MYMUSIC", "%1\\Users\\Default\\Music" },
	{ "CSIDL_DEFAULT_MYVIDEO", "%1\\Users\\Default\\Videos" },
	{ "CSIDL_DEFAULT_RECENT", "%1\\Users\\Default\\AppData\\Roaming\\Microsoft\\Windows\\Recent" },
	{ "CSIDL_DEFAULT_SENDTO", "%1\\Users\\Default\\AppData\\Roaming\\Microsoft\\Windows\\SendTo" },
	{ "CSIDL_DEFAULT_STARTMENU", "%1\\Users\\Default\\AppData\\Roaming\\Microsoft\\Windows\\Start Menu" },
	{ "CSIDL_DEFAULT_PROGRAMS", "%1\\Users\\Default\\AppData\\Roaming\\Microsoft\\Windows\\Start Menu\\Programs" },
	{ "CSIDL_DEFAULT_STARTUP", "%1\\Users\\Default\\AppData\\Roaming\\Microsoft\\Windows\\Start Menu\\Programs\\Startup" },
	{ "CSIDL_DEFAULT_TEMPLATES", "%1\\Users\\Default\\AppData\\Roaming\\Microsoft\\Windows\\Templates" },
	{ "CSIDL_DEFAULT_QUICKLAUNCH", "%1\\Users\\Default\\AppData\\Roaming\\Microsoft\\Internet Explorer\\Quick Launch" },
	{ "WS_FIXED_DRIVES", "%1" },
	{ NULL, NULL },
};

/* User context; "%1" = profile directory. */
static const struct def user_defs[] = {
	{ "USERPROFILE", "%1" }, { "CSIDL_PROFILE", "%1" },
	{ "APPDATA", "%1\\AppData\\Roaming" }, { "CSIDL_APPDATA", "%1\\AppData\\Roaming" },
	{ "LOCALAPPDATA", "%1\\AppData\\Local" }, { "CSIDL_LOCAL_APPDATA", "%1\\AppData\\Local" },
	{ "FOLDERID_LocalAppDataLow", "%1\\AppData\\LocalLow" },
	{ "TEMP", "%1\\AppData\\Local\\Temp" }, { "TMP", "%1\\AppData\\Local\\Temp" },
	{ "CSIDL_PERSONAL", "%1\\Documents" }, { "CSIDL_MYDOCUMENTS", "%1\\Documents" },
	{ "FOLDERID_Documents", "%1\\Documents" },
	{ "CSIDL_MYPICTURES", "%1\\Pictures" }, { "FOLDERID_Pictures", "%1\\Pictures" },
	{ "FOLDERID_OriginalImages", "%1\\AppData\\Local\\Microsoft\\Windows Photo Gallery\\Original Images" },
	{ "CSIDL_MYMUSIC", "%1\\Music" }, { "FOLDERID_Music", "%1\\Music" },
	{ "CSIDL_MYVIDEO", "%1\\Videos" }, { "FOLDERID_Videos", "%1\\Videos" },
	{ "CSIDL_DESKTOP", "%1\\Desktop" }, { "CSIDL_DESKTOPDIRECTORY", "%1\\Desktop" },
	{ "FOLDERID_Desktop", "%1\\Desktop" },
	{ "CSIDL_FAVORITES", "%1\\Favorites" }, { "FOLDERID_Favorites", "%1\\Favorites" },
	{ "FOLDERID_Contacts", "%1\\Contacts" }, { "CSIDL_CONTACTS", "%1\\Contacts" },
	{ "FOLDERID_Downloads", "%1\\Downloads" },
	{ "FOLDERID_SavedGames", "%1\\Saved Games" },
	{ "FOLDERID_Links", "%1\\Links" }, { "FOLDERID_Searches", "%1\\Searches" },
	{ "FOLDERID_SkyDrive", "%1\\OneDrive" }, { "OneDrive", "%1\\OneDrive" },
	{ "FOLDERID_RecordedTV", "%1\\Videos\\Recorded TV" },
	{ "FOLDERID_Libraries", "%1\\AppData\\Roaming\\Microsoft\\Windows\\Libraries" },
	{ "CSIDL_STARTMENU", "%1\\AppData\\Roaming\\Microsoft\\Windows\\Start Menu" },
	{ "CSIDL_PROGRAMS", "%1\\AppData\\Roaming\\Microsoft\\Windows\\Start Menu\\Programs" },
	{ "CSIDL_STARTUP", "%1\\AppData\\Roaming\\Microsoft\\Windows\\Start Menu\\Programs\\Startup" },
	{ "CSIDL_ALTSTARTUP", "%1\\AppData\\Roaming\\Microsoft\\Windows\\Start Menu\\Programs\\Startup" },
	{ "CSIDL_ADMINTOOLS", "%1\\AppData\\Roaming\\Microsoft\\Windows\\Start Menu\\Programs\\Administrative Tools" },
	{ "CSIDL_RECENT", "%1\\AppData\\Roaming\\Microsoft\\Windows\\Recent" },
	{ "CSIDL_SENDTO", "%1\\AppData\\Roaming\\Microsoft\\Windows\\SendTo" },
	{ "CSIDL_TEMPLATES", "%1\\AppData\\Roaming\\Microsoft\\Windows\\Templates" },
	{ "CSIDL_NETHOOD", "%1\\AppData\\Roaming\\Microsoft\\Windows\\Network Shortcuts" },
	{ "CSIDL_PRINTHOOD", "%1\\AppData\\Roaming\\Microsoft\\Windows\\Printer Shortcuts" },
	{ "CSIDL_COOKIES", "%1\\AppData\\Local\\Microsoft\\Windows\\INetCookies" },
	{ "CSIDL_HISTORY", "%1\\AppData\\Local\\Microsoft\\Windows\\History" },
	{ "CSIDL_INTERNET_CACHE", "%1\\AppData\\Local\\Microsoft\\Windows\\INetCache" },
	{ "CSIDL_CDBURN_AREA", "%1\\AppData\\Local\\Microsoft\\Windows\\Burn\\Burn" },
	{ "CSIDL_QUICKLAUNCH", "%1\\AppData\\Roaming\\Microsoft\\Internet Explorer\\Quick Launch" },
	{ "CSIDL_PLAYLISTS", "%1\\Music\\Playlists" },
	{ "CSIDL_VIRTUALSTORE_PROGRAMFILES", "%1\\AppData\\Local\\VirtualStore\\Program Files" },
	{ "CSIDL_VIRTUALSTORE_PROGRAMFILES(X86)", "%1\\AppData\\Local\\VirtualStore\\Program Files (x86)" },
	{ "CSIDL_VIRTUALSTORE_COMMONPROGRAMFILES", "%1\\AppData\\Local\\VirtualStore\\Program Files\\Common Files" },
	{ "CSIDL_VIRTUALSTORE_COMMONPROGRAMFILES(X86)", "%1\\AppData\\Local\\VirtualStore\\Program Files (x86)\\Common Files" },
	{ NULL, NULL },
};

static void
apply_defs(ws_vars *v, const struct def *d, const char *arg)
{
	for (; d->name; d++) {
		struct sbuf s = { 0 };
		for (const char *p = d->fmt; *p; p++) {
			if (p[0] == '%' && p[1] == '1') {
				sb_add(&s, arg);
				p++;
			} else {
				sb_addc(&s, *p);
			}
		}
		char *val = sb_steal(&s);
		ws_vars_set(v, d->name, val);
		free(val);
	}
}

static char *
drive_of(const char *drive)
{
	if (!drive || !*drive)
		return ws__strdup("C:");
	char *d = ws__strndup(drive, strlen(drive));
	size_t n = strlen(d);
	while (n > 2 && d[n - 1] == '\\')
		d[--n] = 0;
	if (n == 1) {
		char *x = ws__xmalloc(3);
		x[0] = d[0];
		x[1] = ':';
		x[2] = 0;
		free(d);
		return x;
	}
	return d;
}

int
ws_vars_default_system(ws_vars *v, const char *drive)
{
	if (!v)
		return -1;
	char *d = drive_of(drive);
	apply_defs(v, sys_defs, d);
	free(d);
	return 0;
}

int
ws_vars_default_user(ws_vars *v, const char *drive, const char *user, const char *profile,
	const char *sid)
{
	if (!v || !user)
		return -1;
	ws_vars_default_system(v, drive);
	char *d = drive_of(drive);
	struct sbuf s = { 0 };
	if (profile)
		sb_add(&s, profile);
	else
		sb_fmt(&s, "%s\\Users\\%s", d, user);
	char *prof = sb_steal(&s);
	apply_defs(v, user_defs, prof);
	ws_vars_set(v, "USERNAME", user);
	/* HOMEPATH is the profile without its drive. */
	ws_vars_set(v, "HOMEDRIVE", d);
	ws_vars_set(v, "HOMEPATH", strlen(prof) > 2 && prof[1] == ':' ? prof + 2 : prof);
	if (sid)
		ws_vars_set(v, "USERSID", sid);
	free(prof);
	free(d);
	return 0;
}
