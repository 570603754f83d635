/*
 * Hive sets: mapping full registry paths onto the hive files of an offline
 * Windows.  The caller registers local copies of the hives; they are opened
 * (with log replay) on first use.
 *
 *   HKLM\SOFTWARE\X            SOFTWARE  X   (32-bit view: Wow6432Node\X)
 *   HKLM\SYSTEM\CurrentControlSet\X   SYSTEM  ControlSet00N\X (Select\Current)
 *   HKLM\SAM\X, HKLM\SECURITY\X       SAM / SECURITY  X
 *   HKCU\Software\Classes\X    UsrClass.dat of the current user  X
 *   HKCU\X                     NTUSER.DAT of the current user    X
 *   HKU\<SID>\X, HKU\<SID>_Classes\X, HKU\.DEFAULT\X  likewise / DEFAULT
 *   HKCR\X                     SOFTWARE  Classes\X (machine part only)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "registry/reg_internal.h"

reg_hive_set *
reg_hive_set_new(void)
{
	return calloc(1, sizeof(struct reg_hive_set));
}

void
reg_hive_set_free(reg_hive_set *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->n; i++) {
		reg_hive_close(s->e[i].hive);
		free(s->e[i].sid);
		free(s->e[i].path);
	}
	free(s->e);
	free(s->current_sid);
	free(s);
}

const char *
reg_hive_set_errmsg(const reg_hive_set *s)
{
	return s->errmsg;
}

int
reg_hive_set_add(reg_hive_set *s, enum reg_hive_kind kind, const char *sid, const char *path)
{
	struct reg_hive_set_entry *ne;

	if (!path || ((kind == REG_HK_NTUSER || kind == REG_HK_USRCLASS) && !sid))
		return REG_EINVAL;
	ne = realloc(s->e, (s->n + 1) * sizeof(*ne));
	if (!ne)
		return REG_ENOMEM;
	s->e = ne;
	ne = &s->e[s->n];
	memset(ne, 0, sizeof(*ne));
	ne->kind = kind;
	ne->path = strdup(path);
	ne->sid = sid ? strdup(sid) : NULL;
	if (!ne->path || (sid && !ne->sid)) {
		free(ne->path);
		free(ne->sid);
		return REG_ENOMEM;
	}
	s->n++;
	return REG_OK;
}

int
reg_hive_set_current_user(reg_hive_set *s, const char *sid)
{
	char *c = strdup(sid);

	if (!c)
		return REG_ENOMEM;
	free(s->current_sid);
	s->current_sid = c;
	return REG_OK;
}

static struct reg_hive_set_entry *
find_entry(reg_hive_set *s, enum reg_hive_kind kind, const char *sid)
{
	for (size_t i = 0; i < s->n; i++)
		if (s->e[i].kind == kind && (!sid || (s->e[i].sid && !strcasecmp(s->e[i].sid, sid))))
			return &s->e[i];
	return NULL;
}

static reg_hive *
entry_hive(reg_hive_set *s, struct reg_hive_set_entry *e)
{
	char msg[320];
	int err;

	if (!e->hive && !e->open_failed) {
		e->hive = reg_hive_open(e->path, 0, &err, msg, sizeof(msg));
		if (!e->hive) {
			e->open_failed = 1;
			snprintf(s->errmsg, sizeof(s->errmsg), "%s", msg);
		}
	}
	return e->hive;
}

/* If path starts with component `word` (case-insensitive), return what follows it
 * ("" or the rest after the backslash); NULL otherwise. */
static const char *
eat(const char *path, const char *word)
{
	size_t n = strlen(word);

	if (strncasecmp(path, word, n))
		return NULL;
	if (path[n] == 0)
		return path + n;
	if (path[n] == '\\')
		return path + n + 1;
	return NULL;
}

static char *
join(const char *a, const char *b)
{
	if (!*a)
		return strdup(b);
	if (!*b)
		return strdup(a);
	return reg_asprintf("%s\\%s", a, b);
}

int
reg_hive_set_resolve(reg_hive_set *s, const char *full, unsigned view, struct reg_location *out)
{
	struct reg_hive_set_entry *e = NULL;
	const char *rest, *r2;
	char *prefix = NULL;
	char sidbuf[200];

	memset(out, 0, sizeof(*out));
	s->errmsg[0] = 0;
	while (*full == '\\')
		full++;
	if ((rest = eat(full, "HKLM")) || (rest = eat(full, "HKEY_LOCAL_MACHINE"))) {
		if ((r2 = eat(rest, "SOFTWARE"))) {
			e = find_entry(s, REG_HK_SOFTWARE, NULL);
			rest = r2;
			if (view == REG_VIEW_32 && !eat(rest, "Wow6432Node") && !eat(rest, "Classes") &&
			    *rest)
				prefix = strdup("Wow6432Node");
		} else if ((r2 = eat(rest, "SYSTEM"))) {
			e = find_entry(s, REG_HK_SYSTEM, NULL);
			rest = r2;
			const char *r3 = eat(rest, "CurrentControlSet");
			if (r3 && e) {
				reg_hive *h = entry_hive(s, e);
				if (!h)
					return REG_EFORMAT;
				prefix = reg_system_current_control_set(h);
				if (!prefix) {
					snprintf(s->errmsg, sizeof(s->errmsg),
						 "SYSTEM hive has no Select\\Current control set");
					return REG_ENOTFOUND;
				}
				rest = r3;
			}
		} else if ((r2 = eat(rest, "SAM"))) {
			e = find_entry(s, REG_HK_SAM, NULL);
			rest = r2;
		} else if ((r2 = eat(rest, "SECURITY"))) {
			e = find_entry(s, REG_HK_SECURITY, NULL);
			rest = r2;
		}
	} else if ((rest = eat(full, "HKCR")) || (rest = eat(full, "HKEY_CLASSES_ROOT"))) {
		e = find_entry(s, REG_HK_SOFTWARE, NULL);
		prefix = strdup(view == REG_VIEW_32 ? "Classes\\Wow6432Node" : "Classes");
	} else if ((rest = eat(full, "HKCU")) || (rest = eat(full, "HKEY_CURRENT_USER"))) {
		if (!s->current_sid) {
			snprintf(s->errmsg, sizeof(s->errmsg), "HKCU needs a current user (SID) in the hive set");
			return REG_ENOTFOUND;
		}
		const char *cls = eat(rest, "Software");
		if (cls && (r2 = eat(cls, "Classes"))) {
			e = find_entry(s, REG_HK_USRCLASS, s->current_sid);
			rest = r2;
		} else {
			e = find_entry(s, REG_HK_NTUSER, s->current_sid);
			if (e && view == REG_VIEW_32 && cls && *cls && !eat(cls, "Wow6432Node")) {
				prefix = strdup("Software\\Wow6432Node");
				rest = cls;
			}
		}
	} else if ((rest = eat(full, "HKU")) || (rest = eat(full, "HKEY_USERS"))) {
		const char *bs = strchr(rest, '\\');
		size_t n = bs ? (size_t)(bs - rest) : strlen(rest);
		if (n == 0 || n >= sizeof(sidbuf)) {
			snprintf(s->errmsg, sizeof(s->errmsg), "HKU path needs a SID: %s", full);
			return REG_EINVAL;
		}
		memcpy(sidbuf, rest, n);
		sidbuf[n] = 0;
		rest = bs ? bs + 1 : rest + n;
		if (!strcasecmp(sidbuf, ".DEFAULT")) {
			e = find_entry(s, REG_HK_DEFAULT, NULL);
		} else if (n > 8 && !strcasecmp(sidbuf + n - 8, "_Classes")) {
			sidbuf[n - 8] = 0;
			e = find_entry(s, REG_HK_USRCLASS, sidbuf);
		} else {
			const char *cls = eat(rest, "Software");
			if (cls && (r2 = eat(cls, "Classes"))) {
				e = find_entry(s, REG_HK_USRCLASS, sidbuf);
				rest = r2;
			} else {
				e = find_entry(s, REG_HK_NTUSER, sidbuf);
			}
		}
	} else {
		snprintf(s->errmsg, sizeof(s->errmsg), "unknown registry root in '%s'", full);
		return REG_EINVAL;
	}
	if (!e) {
		free(prefix);
		if (!s->errmsg[0])
			snprintf(s->errmsg, sizeof(s->errmsg), "no hive file for '%s' in this hive set", full);
		return REG_ENOTFOUND;
	}
	out->hive = entry_hive(s, e);
	if (!out->hive) {
		free(prefix);
		return REG_EFORMAT;
	}
	out->kind = e->kind;
	out->subpath = join(prefix ? prefix : "", rest);
	free(prefix);
	return out->subpath ? REG_OK : REG_ENOMEM;
}
