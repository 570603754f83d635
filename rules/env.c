/*
 * Variable tables: %CSIDL_*%, %FOLDERID_*%, %USERPROFILE%, ... and the
 * <environment> variables of rule files.  Names are case-insensitive.  A
 * child table (one per component scope) falls back to its parent, so rule
 * variables stay private to their component.  The documented Windows 10/11
 * defaults are filled by mig_vars_default_system/_user.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "rules/internal.h"

uint64_t
mig__hash(const char *p, size_t n)
{
	uint64_t h = 1469598103934665603ull;
	for (size_t i = 0; i < n; i++) {
		h ^= (unsigned char)p[i];
		h *= 1099511628211ull;
	}
	return h;
}

mig_vars *
mig_vars_new(void)
{
	mig_vars *v = mig__xmalloc(sizeof(*v));
	memset(v, 0, sizeof(*v));
	return v;
}

mig_vars *
mig__vars_child(const mig_vars *parent)
{
	mig_vars *v = mig_vars_new();
	v->parent = parent;
	return v;
}

void
mig_vars_free(mig_vars *v)
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
	mig__fold(name, strlen(name), &s);
	char *k = sb_steal(&s);
	*hash = mig__hash(k, strlen(k));
	return k;
}

static ssize_t
find_local(const mig_vars *v, const char *key, uint64_t h)
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
rehash(mig_vars *v)
{
	size_t ns = v->nslots ? v->nslots * 2 : 64;
	free(v->slots);
	v->slots = mig__xmalloc(ns * sizeof(uint32_t));
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
mig_vars_set(mig_vars *v, const char *name, const char *value)
{
	if (!v || !name || !*name || !value)
		return -1;
	uint64_t h;
	char *key = fold_name(name, &h);
	ssize_t i = find_local(v, key, h);
	if (i >= 0) {
		free(key);
		free(v->v[i].value);
		v->v[i].value = mig__strdup(value);
		return 0;
	}
	if (v->n == v->cap) {
		v->cap = v->cap ? v->cap * 2 : 32;
		v->v = mig__xrealloc(v->v, v->cap * sizeof(*v->v));
	}
	v->v[v->n] = (struct mig_var_ent){ mig__strdup(name), key, mig__strdup(value), h };
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
get_n(const mig_vars *v, const char *name, size_t n)
{
	char buf[256];
	if (n >= sizeof(buf))
		return NULL;
	mig__fold_into(name, n, buf);
	buf[n] = 0;
	uint64_t h = mig__hash(buf, n);
	for (; v; v = v->parent) {
		ssize_t i = find_local(v, buf, h);
		if (i >= 0)
			return v->v[i].value;
	}
	return NULL;
}

const char *
mig_vars_get(const mig_vars *v, const char *name)
{
	return name ? get_n(v, name, strlen(name)) : NULL;
}

size_t
mig_vars_count(const mig_vars *v)
{
	return v ? v->n : 0;
}

void
mig_vars_entry(const mig_vars *v, size_t i, const char **name, const char **value)
{
	*name = i < v->n ? v->v[i].name : NULL;
	*value = i < v->n ? v->v[i].value : NULL;
}

mig_vars *
mig_vars_clone(const mig_vars *v)
{
	mig_vars *c = mig_vars_new();
	/* flatten the chain, parents first so children override */
	const mig_vars *chain[64];
	size_t n = 0;
	for (const mig_vars *p = v; p && n < 64; p = p->parent)
		chain[n++] = p;
	while (n--)
		for (size_t i = 0; i < chain[n]->n; i++)
			mig_vars_set(c, chain[n]->v[i].name, chain[n]->v[i].value);
	return c;
}

static char *
expand(const mig_vars *v, const char *in, bool escape, bool wild, char **missing)
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
		if (!val && wild) {
			if (missing && !*missing)
				*missing = mig__strndup(pc + 1, n);
			sb_addc(&s, '*');
			p = end + 1;
			continue;
		}
		if (!val) {
			if (missing)
				*missing = mig__strndup(pc + 1, n);
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
mig__vars_expand(const mig_vars *v, const char *in, bool escape, char **missing)
{
	return expand(v, in, escape, false, missing);
}

char *
mig__vars_expand_wild(const mig_vars *v, const char *in, bool escape, char **missing)
{
	if (missing)
		*missing = NULL;
	return expand(v, in, escape, true, missing);
}

char *
mig_vars_expand(const mig_vars *v, const char *in, char **missing)
{
	if (missing)
		*missing = NULL;
	return in ? mig__vars_expand(v, in, false, missing) : NULL;
}

/* ---------------------------------------------------------------- resolver */

/*
 * Windows' own defaults, in dependency order: each template names only
 * variables defined above it, so a value the offline Windows states (its
 * SystemRoot, ProfilesDirectory, Public, ...) carries into everything
 * derived from it.  `stated` marks the values Windows keeps in its hives:
 * when such a value is missing, the default standing in for it is reported.
 * `min_build` / `max_build` (0 = any) pick the layout of a Windows version:
 * Windows 8.1 (build 9600) moved the IE cache and cookies under INetCache and
 * INetCookies.
 */
struct def {
	const char *name, *tmpl;
	bool stated;
	unsigned min_build, max_build;
};

#define W81 9600u

static const struct def sys_defs[] = {
	{ "SYSTEMROOT", "%SYSTEMDRIVE%\\Windows", true, 0, 0 },
	{ "WINDIR", "%SYSTEMROOT%", false, 0, 0 },
	{ "CSIDL_WINDOWS", "%SYSTEMROOT%", false, 0, 0 },
	{ "SYSTEM", "%SYSTEMROOT%\\System32", false, 0, 0 },
	{ "SYSTEM32", "%SYSTEMROOT%\\System32", false, 0, 0 },
	{ "CSIDL_SYSTEM", "%SYSTEMROOT%\\System32", false, 0, 0 },
	{ "SYSTEM16", "%SYSTEMROOT%\\System", false, 0, 0 },
	{ "CSIDL_SYSTEMX86", "%SYSTEMROOT%\\SysWOW64", false, 0, 0 },
	{ "CSIDL_FONTS", "%SYSTEMROOT%\\Fonts", false, 0, 0 },
	{ "CSIDL_RESOURCES", "%SYSTEMROOT%\\Resources", false, 0, 0 },
	{ "SYSTEMPROFILE", "%SYSTEMROOT%\\System32\\config\\systemprofile", false, 0, 0 },
	{ "PROGRAMFILES", "%SYSTEMDRIVE%\\Program Files", true, 0, 0 },
	{ "CSIDL_PROGRAM_FILES", "%PROGRAMFILES%", false, 0, 0 },
	{ "ProgramW6432", "%PROGRAMFILES%", false, 0, 0 },
	{ "PROGRAMFILES(X86)", "%SYSTEMDRIVE%\\Program Files (x86)", false, 0, 0 },
	{ "CSIDL_PROGRAM_FILESX86", "%PROGRAMFILES(X86)%", false, 0, 0 },
	{ "COMMONPROGRAMFILES", "%PROGRAMFILES%\\Common Files", true, 0, 0 },
	{ "CSIDL_PROGRAM_FILES_COMMON", "%COMMONPROGRAMFILES%", false, 0, 0 },
	{ "CommonProgramW6432", "%COMMONPROGRAMFILES%", false, 0, 0 },
	{ "COMMONPROGRAMFILES(X86)", "%PROGRAMFILES(X86)%\\Common Files", false, 0, 0 },
	{ "CSIDL_PROGRAM_FILES_COMMONX86", "%COMMONPROGRAMFILES(X86)%", false, 0, 0 },
	{ "PROGRAMDATA", "%SYSTEMDRIVE%\\ProgramData", true, 0, 0 },
	{ "ALLUSERSPROFILE", "%PROGRAMDATA%", false, 0, 0 },
	{ "ALLUSERSAPPDATA", "%PROGRAMDATA%", false, 0, 0 },
	{ "CSIDL_COMMON_APPDATA", "%PROGRAMDATA%", true, 0, 0 },
	{ "CSIDL_COMMON_STARTMENU", "%PROGRAMDATA%\\Microsoft\\Windows\\Start Menu", true, 0, 0 },
	{ "CSIDL_COMMON_PROGRAMS", "%CSIDL_COMMON_STARTMENU%\\Programs", true, 0, 0 },
	{ "CSIDL_COMMON_STARTUP", "%CSIDL_COMMON_PROGRAMS%\\Startup", true, 0, 0 },
	{ "CSIDL_COMMON_ALTSTARTUP", "%CSIDL_COMMON_STARTUP%", false, 0, 0 },
	{ "CSIDL_COMMON_ADMINTOOLS", "%CSIDL_COMMON_PROGRAMS%\\Administrative Tools", false, 0, 0 },
	{ "CSIDL_COMMON_TEMPLATES", "%PROGRAMDATA%\\Microsoft\\Windows\\Templates", true, 0, 0 },
	{ "CSIDL_COMMON_OEM_LINKS", "%PROGRAMDATA%\\OEM Links", false, 0, 0 },
	{ "PROFILESFOLDER", "%SYSTEMDRIVE%\\Users", true, 0, 0 },
	{ "PUBLIC", "%PROFILESFOLDER%\\Public", true, 0, 0 },
	{ "FOLDERID_Public", "%PUBLIC%", false, 0, 0 },
	/* Windows 10 keeps no "Common Favorites" value: Public\Favorites is the known folder */
	{ "CSIDL_COMMON_FAVORITES", "%PUBLIC%\\Favorites", false, 0, 0 },
	{ "CSIDL_COMMON_DESKTOPDIRECTORY", "%PUBLIC%\\Desktop", true, 0, 0 },
	{ "CSIDL_COMMON_DOCUMENTS", "%PUBLIC%\\Documents", true, 0, 0 },
	{ "CSIDL_COMMON_MUSIC", "%PUBLIC%\\Music", true, 0, 0 },
	{ "CSIDL_COMMON_PICTURES", "%PUBLIC%\\Pictures", true, 0, 0 },
	{ "CSIDL_COMMON_VIDEO", "%PUBLIC%\\Videos", true, 0, 0 },
	{ "FOLDERID_PublicDownloads", "%PUBLIC%\\Downloads", true, 0, 0 },
	{ "DEFAULTUSERPROFILE", "%PROFILESFOLDER%\\Default", true, 0, 0 },
	{ "CSIDL_DEFAULT_APPDATA", "%DEFAULTUSERPROFILE%\\AppData\\Roaming", false, 0, 0 },
	{ "CSIDL_DEFAULT_LOCAL_APPDATA", "%DEFAULTUSERPROFILE%\\AppData\\Local", false, 0, 0 },
	{ "CSIDL_DEFAULT_COOKIES", "%CSIDL_DEFAULT_LOCAL_APPDATA%\\Microsoft\\Windows\\INetCookies", false, W81, 0 },
	{ "CSIDL_DEFAULT_COOKIES", "%CSIDL_DEFAULT_APPDATA%\\Microsoft\\Windows\\Cookies", false, 0, W81 - 1 },
	{ "CSIDL_DEFAULT_CONTACTS", "%DEFAULTUSERPROFILE%\\Contacts", false, 0, 0 },
	{ "CSIDL_DEFAULT_DESKTOP", "%DEFAULTUSERPROFILE%\\Desktop", false, 0, 0 },
	{ "CSIDL_DEFAULT_DOWNLOADS", "%DEFAULTUSERPROFILE%\\Downloads", false, 0, 0 },
	{ "CSIDL_DEFAULT_FAVORITES", "%DEFAULTUSERPROFILE%\\Favorites", false, 0, 0 },
	{ "CSIDL_DEFAULT_HISTORY", "%CSIDL_DEFAULT_LOCAL_APPDATA%\\Microsoft\\Windows\\History", false, 0, 0 },
	{ "CSIDL_DEFAULT_INTERNET_CACHE", "%CSIDL_DEFAULT_LOCAL_APPDATA%\\Microsoft\\Windows\\INetCache", false, W81, 0 },
	{ "CSIDL_DEFAULT_INTERNET_CACHE", "%CSIDL_DEFAULT_LOCAL_APPDATA%\\Microsoft\\Windows\\Temporary Internet Files", false, 0, W81 - 1 },
	{ "CSIDL_DEFAULT_PERSONAL", "%DEFAULTUSERPROFILE%\\Documents", false, 0, 0 },
	{ "CSIDL_DEFAULT_MYDOCUMENTS", "%DEFAULTUSERPROFILE%\\Documents", false, 0, 0 },
	{ "CSIDL_DEFAULT_MYPICTURES", "%DEFAULTUSERPROFILE%\\Pictures", false, 0, 0 },
	{ "CSIDL_DEFAULT_MYMUSIC", "%DEFAULTUSERPROFILE%\\Music", false, 0, 0 },
	{ "CSIDL_DEFAULT_MYVIDEO", "%DEFAULTUSERPROFILE%\\Videos", false, 0, 0 },
	{ "CSIDL_DEFAULT_RECENT", "%CSIDL_DEFAULT_APPDATA%\\Microsoft\\Windows\\Recent", false, 0, 0 },
	{ "CSIDL_DEFAULT_SENDTO", "%CSIDL_DEFAULT_APPDATA%\\Microsoft\\Windows\\SendTo", false, 0, 0 },
	{ "CSIDL_DEFAULT_STARTMENU", "%CSIDL_DEFAULT_APPDATA%\\Microsoft\\Windows\\Start Menu", false, 0, 0 },
	{ "CSIDL_DEFAULT_PROGRAMS", "%CSIDL_DEFAULT_STARTMENU%\\Programs", false, 0, 0 },
	{ "CSIDL_DEFAULT_STARTUP", "%CSIDL_DEFAULT_PROGRAMS%\\Startup", false, 0, 0 },
	{ "CSIDL_DEFAULT_TEMPLATES", "%CSIDL_DEFAULT_APPDATA%\\Microsoft\\Windows\\Templates", false, 0, 0 },
	{ "CSIDL_DEFAULT_QUICKLAUNCH", "%CSIDL_DEFAULT_APPDATA%\\Microsoft\\Internet Explorer\\Quick Launch", false, 0, 0 },
	{ "WS_FIXED_DRIVES", "%SYSTEMDRIVE%", false, 0, 0 },
	{ NULL, NULL, false, 0, 0 },
};

/* User context, on top of the system table; USERPROFILE is set first. */
static const struct def user_defs[] = {
	{ "CSIDL_PROFILE", "%USERPROFILE%", false, 0, 0 },
	{ "APPDATA", "%USERPROFILE%\\AppData\\Roaming", true, 0, 0 },
	{ "CSIDL_APPDATA", "%APPDATA%", false, 0, 0 },
	{ "LOCALAPPDATA", "%USERPROFILE%\\AppData\\Local", true, 0, 0 },
	{ "CSIDL_LOCAL_APPDATA", "%LOCALAPPDATA%", false, 0, 0 },
	{ "FOLDERID_LocalAppDataLow", "%USERPROFILE%\\AppData\\LocalLow", false, 0, 0 },
	{ "TEMP", "%LOCALAPPDATA%\\Temp", false, 0, 0 },
	{ "TMP", "%LOCALAPPDATA%\\Temp", false, 0, 0 },
	{ "CSIDL_PERSONAL", "%USERPROFILE%\\Documents", true, 0, 0 },
	{ "CSIDL_MYDOCUMENTS", "%CSIDL_PERSONAL%", false, 0, 0 },
	{ "FOLDERID_Documents", "%CSIDL_PERSONAL%", false, 0, 0 },
	{ "CSIDL_MYPICTURES", "%USERPROFILE%\\Pictures", true, 0, 0 },
	{ "FOLDERID_Pictures", "%CSIDL_MYPICTURES%", false, 0, 0 },
	{ "FOLDERID_OriginalImages", "%LOCALAPPDATA%\\Microsoft\\Windows Photo Gallery\\Original Images", false, 0, 0 },
	{ "CSIDL_MYMUSIC", "%USERPROFILE%\\Music", true, 0, 0 },
	{ "FOLDERID_Music", "%CSIDL_MYMUSIC%", false, 0, 0 },
	{ "CSIDL_PLAYLISTS", "%CSIDL_MYMUSIC%\\Playlists", false, 0, 0 },
	{ "CSIDL_MYVIDEO", "%USERPROFILE%\\Videos", true, 0, 0 },
	{ "FOLDERID_Videos", "%CSIDL_MYVIDEO%", false, 0, 0 },
	{ "FOLDERID_RecordedTV", "%CSIDL_MYVIDEO%\\Recorded TV", false, 0, 0 },
	{ "CSIDL_DESKTOP", "%USERPROFILE%\\Desktop", true, 0, 0 },
	{ "CSIDL_DESKTOPDIRECTORY", "%CSIDL_DESKTOP%", false, 0, 0 },
	{ "FOLDERID_Desktop", "%CSIDL_DESKTOP%", false, 0, 0 },
	{ "CSIDL_FAVORITES", "%USERPROFILE%\\Favorites", true, 0, 0 },
	{ "FOLDERID_Favorites", "%CSIDL_FAVORITES%", false, 0, 0 },
	{ "FOLDERID_Downloads", "%USERPROFILE%\\Downloads", true, 0, 0 },
	{ "FOLDERID_Contacts", "%USERPROFILE%\\Contacts", false, 0, 0 },
	{ "CSIDL_CONTACTS", "%FOLDERID_Contacts%", false, 0, 0 },
	{ "FOLDERID_SavedGames", "%USERPROFILE%\\Saved Games", false, 0, 0 },
	{ "FOLDERID_Links", "%USERPROFILE%\\Links", false, 0, 0 },
	{ "FOLDERID_Searches", "%USERPROFILE%\\Searches", false, 0, 0 },
	{ "FOLDERID_SkyDrive", "%USERPROFILE%\\OneDrive", false, 0, 0 },
	{ "OneDrive", "%FOLDERID_SkyDrive%", false, 0, 0 },
	{ "FOLDERID_Libraries", "%APPDATA%\\Microsoft\\Windows\\Libraries", false, 0, 0 },
	{ "CSIDL_STARTMENU", "%APPDATA%\\Microsoft\\Windows\\Start Menu", false, 0, 0 },
	{ "CSIDL_PROGRAMS", "%CSIDL_STARTMENU%\\Programs", false, 0, 0 },
	{ "CSIDL_STARTUP", "%CSIDL_PROGRAMS%\\Startup", false, 0, 0 },
	{ "CSIDL_ALTSTARTUP", "%CSIDL_STARTUP%", false, 0, 0 },
	{ "CSIDL_ADMINTOOLS", "%CSIDL_PROGRAMS%\\Administrative Tools", false, 0, 0 },
	{ "CSIDL_RECENT", "%APPDATA%\\Microsoft\\Windows\\Recent", false, 0, 0 },
	{ "CSIDL_SENDTO", "%APPDATA%\\Microsoft\\Windows\\SendTo", false, 0, 0 },
	{ "CSIDL_TEMPLATES", "%APPDATA%\\Microsoft\\Windows\\Templates", false, 0, 0 },
	{ "CSIDL_NETHOOD", "%APPDATA%\\Microsoft\\Windows\\Network Shortcuts", false, 0, 0 },
	{ "CSIDL_PRINTHOOD", "%APPDATA%\\Microsoft\\Windows\\Printer Shortcuts", false, 0, 0 },
	{ "CSIDL_QUICKLAUNCH", "%APPDATA%\\Microsoft\\Internet Explorer\\Quick Launch", false, 0, 0 },
	{ "CSIDL_COOKIES", "%LOCALAPPDATA%\\Microsoft\\Windows\\INetCookies", false, W81, 0 },
	{ "CSIDL_COOKIES", "%APPDATA%\\Microsoft\\Windows\\Cookies", false, 0, W81 - 1 },
	{ "CSIDL_HISTORY", "%LOCALAPPDATA%\\Microsoft\\Windows\\History", false, 0, 0 },
	{ "CSIDL_INTERNET_CACHE", "%LOCALAPPDATA%\\Microsoft\\Windows\\INetCache", false, W81, 0 },
	{ "CSIDL_INTERNET_CACHE", "%LOCALAPPDATA%\\Microsoft\\Windows\\Temporary Internet Files", false, 0, W81 - 1 },
	{ "CSIDL_CDBURN_AREA", "%LOCALAPPDATA%\\Microsoft\\Windows\\Burn\\Burn", false, 0, 0 },
	{ "CSIDL_VIRTUALSTORE_PROGRAMFILES", "%LOCALAPPDATA%\\VirtualStore\\Program Files", false, 0, 0 },
	{ "CSIDL_VIRTUALSTORE_PROGRAMFILES(X86)", "%LOCALAPPDATA%\\VirtualStore\\Program Files (x86)", false, 0, 0 },
	{ "CSIDL_VIRTUALSTORE_COMMONPROGRAMFILES", "%LOCALAPPDATA%\\VirtualStore\\Program Files\\Common Files", false, 0, 0 },
	{ "CSIDL_VIRTUALSTORE_COMMONPROGRAMFILES(X86)", "%LOCALAPPDATA%\\VirtualStore\\Program Files (x86)\\Common Files", false, 0, 0 },
	{ NULL, NULL, false, 0, 0 },
};

static bool
def_applies(const struct def *d, unsigned build)
{
	/* build 0 = unknown: Windows 10/11 */
	unsigned b = build ? build : 19041;
	return (!d->min_build || b >= d->min_build) && (!d->max_build || b <= d->max_build);
}

static void
apply_defs(mig_vars *out, const struct def *d, unsigned build, const mig_vars *stated,
	mig_vars_fallback_fn fallback, void *ctx)
{
	for (; d->name; d++) {
		if (!def_applies(d, build))
			continue;
		const char *given = stated ? mig_vars_get(stated, d->name) : NULL;
		char *val = NULL, *missing = NULL;
		if (given && *given) {
			/* Hive values say %SystemDrive%, %ProgramData%, %PUBLIC% ...: defined above. */
			val = mig__vars_expand(out, given, false, &missing);
			free(missing);
		}
		if (!val) {
			val = mig__vars_expand(out, d->tmpl, false, NULL);
			if (val && fallback && (d->stated || given))
				fallback(ctx, d->name, val, given);
		}
		if (val)
			mig_vars_set(out, d->name, val);
		free(val);
	}
}

static char *
drive_of(const char *drive)
{
	if (!drive || !*drive)
		return mig__strdup("C:");
	char *d = mig__strndup(drive, strlen(drive));
	size_t n = strlen(d);
	while (n > 2 && d[n - 1] == '\\')
		d[--n] = 0;
	if (n == 1) {
		char *x = mig__xmalloc(3);
		x[0] = d[0];
		x[1] = ':';
		x[2] = 0;
		free(d);
		return x;
	}
	return d;
}

int
mig_vars_resolve_system(mig_vars *out, const char *drive, unsigned build, const mig_vars *stated,
	mig_vars_fallback_fn fallback, void *ctx)
{
	if (!out)
		return -1;
	char *d = drive_of(drive);
	mig_vars_set(out, "SYSTEMDRIVE", d);
	free(d);
	apply_defs(out, sys_defs, build, stated, fallback, ctx);
	return 0;
}

int
mig_vars_resolve_user(mig_vars *out, const char *user, const char *profile, const char *sid,
	unsigned build, const mig_vars *stated, mig_vars_fallback_fn fallback, void *ctx)
{
	if (!out || !user)
		return -1;
	const char *sd = mig_vars_get(out, "SYSTEMDRIVE");
	if (!sd)
		mig_vars_resolve_system(out, "C:", build, NULL, NULL, NULL);
	struct sbuf s = { 0 };
	if (profile && *profile)
		sb_add(&s, profile);
	else
		sb_fmt(&s, "%s\\%s", mig_vars_get(out, "PROFILESFOLDER"), user);
	char *prof = sb_steal(&s);
	mig_vars_set(out, "USERPROFILE", prof);
	mig_vars_set(out, "USERNAME", user);
	/* HOMEPATH is the profile without its drive. */
	bool lettered = strlen(prof) > 2 && prof[1] == ':';
	char drive[3] = { lettered ? prof[0] : 'C', ':', 0 };
	mig_vars_set(out, "HOMEDRIVE", lettered ? drive : mig_vars_get(out, "SYSTEMDRIVE"));
	mig_vars_set(out, "HOMEPATH", lettered ? prof + 2 : prof);
	if (sid)
		mig_vars_set(out, "USERSID", sid);
	apply_defs(out, user_defs, build, stated, fallback, ctx);
	free(prof);
	return 0;
}

int
mig_vars_default_system(mig_vars *v, const char *drive)
{
	return mig_vars_resolve_system(v, drive, 0, NULL, NULL, NULL);
}

int
mig_vars_default_user(mig_vars *v, const char *drive, const char *user, const char *profile,
	const char *sid)
{
	if (!v || !user)
		return -1;
	mig_vars_resolve_system(v, drive, 0, NULL, NULL, NULL);
	return mig_vars_resolve_user(v, user, profile, sid, 0, NULL, NULL, NULL);
}

bool
mig__vars_is_user_name(const char *name)
{
	static const char *const base[] = { "USERPROFILE", "USERNAME", "HOMEDRIVE", "HOMEPATH",
		"USERSID", NULL };
	for (const char *const *n = base; *n; n++)
		if (!strcasecmp(*n, name))
			return true;
	for (const struct def *d = user_defs; d->name; d++)
		if (!strcasecmp(d->name, name))
			return true;
	return false;
}
