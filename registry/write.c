/*
 * The write side: create keys, set and delete values, new user hives from a
 * template, ProfileList entries, SID string <-> binary.  Changes stay in
 * hivex's memory until ws_hive_commit().
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "registry/reg_internal.h"

static int
check_writable(ws_hive *h)
{
	if (h->flags & WS_HIVE_OPEN_WRITE)
		return WS_REG_OK;
	reg_seterr(h, "hive %s was opened read-only", h->src_path);
	return WS_REG_ERDONLY;
}

int
ws_key_create(ws_hive *h, const char *path, ws_key *out)
{
	char *copy, *save = NULL, *tok;
	ws_key k;
	int e = check_writable(h);

	if (e)
		return e;
	copy = strdup(path);
	if (!copy)
		return WS_REG_ENOMEM;
	k = hivex_root(h->hx);
	for (tok = strtok_r(copy, "\\", &save); tok && !e; tok = strtok_r(NULL, "\\", &save)) {
		ws_key c;
		if (ws_key_child(h, k, tok, &c) == WS_REG_OK) {
			k = c;
			continue;
		}
		c = hivex_node_add_child(h->hx, k, tok);
		if (!c) {
			reg_seterr(h, "cannot create key '%s' in '%s': %s", tok, path, strerror(errno));
			e = WS_REG_EHIVEX;
		}
		k = c;
	}
	free(copy);
	if (!e && out)
		*out = k;
	return e;
}

int
ws_key_set_value(ws_hive *h, ws_key k, const char *name, uint32_t type, const void *data, size_t len)
{
	hive_set_value v;
	int e = check_writable(h);

	if (e)
		return e;
	v.key = (char *)(name ? name : "");
	v.t = (hive_type)type;
	v.len = len;
	v.value = (char *)(data ? data : "");
	if (hivex_node_set_value(h->hx, k, &v, 0) < 0) {
		reg_seterr(h, "cannot set value '%s': %s", v.key, strerror(errno));
		return WS_REG_EHIVEX;
	}
	return WS_REG_OK;
}

int
ws_key_set_string(ws_hive *h, ws_key k, const char *name, uint32_t type, const char *utf8)
{
	size_t len;
	uint8_t *w;
	int e;

	if (type != WS_REG_SZ && type != WS_REG_EXPAND_SZ && type != WS_REG_LINK)
		return WS_REG_EINVAL;
	w = ws_utf8_to_utf16le(utf8, &len);
	if (!w)
		return WS_REG_ENOMEM;
	/* REG_LINK is stored without the terminating NUL. */
	e = ws_key_set_value(h, k, name, type, w, type == WS_REG_LINK ? len - 2 : len);
	free(w);
	return e;
}

int
ws_key_set_multi(ws_hive *h, ws_key k, const char *name, const char *const *strings, size_t n)
{
	uint8_t *buf = NULL;
	size_t total = 0;
	int e;

	for (size_t i = 0; i < n; i++) {
		size_t len;
		uint8_t *w = ws_utf8_to_utf16le(strings[i], &len), *nb;
		if (!w || !(nb = realloc(buf, total + len + 2))) {
			free(w);
			free(buf);
			return WS_REG_ENOMEM;
		}
		buf = nb;
		memcpy(buf + total, w, len);
		total += len;
		free(w);
	}
	{
		uint8_t *nb = realloc(buf, total + 2);
		if (!nb) {
			free(buf);
			return WS_REG_ENOMEM;
		}
		buf = nb;
		buf[total++] = 0;
		buf[total++] = 0;
	}
	e = ws_key_set_value(h, k, name, WS_REG_MULTI_SZ, buf, total);
	free(buf);
	return e;
}

int
ws_key_set_dword(ws_hive *h, ws_key k, const char *name, uint32_t v)
{
	uint8_t b[4];

	wr32(b, v);
	return ws_key_set_value(h, k, name, WS_REG_DWORD, b, 4);
}

int
ws_key_set_qword(ws_hive *h, ws_key k, const char *name, uint64_t v)
{
	uint8_t b[8];

	wr32(b, (uint32_t)v);
	wr32(b + 4, (uint32_t)(v >> 32));
	return ws_key_set_value(h, k, name, WS_REG_QWORD, b, 8);
}

int
ws_key_delete_value(ws_hive *h, ws_key k, const char *name)
{
	struct ws_reg_value *vals;
	hive_set_value *keep;
	size_t n, m = 0;
	int e = check_writable(h), found = 0;

	if (e)
		return e;
	if (!name)
		name = "";
	e = ws_key_values(h, k, &vals, &n);
	if (e)
		return e;
	keep = calloc(n + 1, sizeof(*keep));
	if (!keep) {
		ws_reg_values_free(vals, n);
		return WS_REG_ENOMEM;
	}
	for (size_t i = 0; i < n; i++) {
		if (!found && strcasecmp(vals[i].name, name) == 0) {
			found = 1;
			continue;
		}
		keep[m].key = vals[i].name;
		keep[m].t = (hive_type)vals[i].type;
		keep[m].len = vals[i].len;
		keep[m].value = (char *)vals[i].data;
		m++;
	}
	if (!found) {
		reg_seterr(h, "no value '%s' to delete", name);
		e = WS_REG_ENOTFOUND;
	} else if (hivex_node_set_values(h->hx, k, m, keep, 0) < 0) {
		reg_seterr(h, "cannot delete value '%s': %s", name, strerror(errno));
		e = WS_REG_EHIVEX;
	}
	free(keep);
	ws_reg_values_free(vals, n);
	return e;
}

int
ws_key_delete(ws_hive *h, ws_key k)
{
	int e = check_writable(h);

	if (e)
		return e;
	if (k == hivex_root(h->hx)) {
		reg_seterr(h, "the root key cannot be deleted");
		return WS_REG_EINVAL;
	}
	if (hivex_node_delete_child(h->hx, k) < 0) {
		reg_seterr(h, "cannot delete key: %s", strerror(errno));
		return WS_REG_EHIVEX;
	}
	return WS_REG_OK;
}

int
ws_hive_create_from_template(const char *template_path, const char *out_path, char *msg, size_t msgsz)
{
	int e;
	ws_hive *h = ws_hive_open(template_path, WS_HIVE_OPEN_WRITE, &e, msg, msgsz);

	if (!h)
		return e;
	/* Committing through hivex writes a clean hive (equal sequence numbers,
	 * fresh checksum) whatever state the template was in. */
	e = ws_hive_commit(h, out_path);
	if (e && msg && msgsz)
		snprintf(msg, msgsz, "%s", h->errmsg);
	ws_hive_close(h);
	return e;
}

/* ---- SIDs ---- */

int
ws_sid_from_string(const char *s, uint8_t *out, size_t outsz, size_t *len)
{
	uint64_t auth;
	uint32_t subs[15];
	size_t nsub = 0, need;
	char *end;

	if (!s || strncasecmp(s, "S-1-", 4))
		return WS_REG_EINVAL;
	s += 4;
	errno = 0;
	auth = strtoull(s, &end, 10);
	if (end == s || errno || auth >= (1ull << 48))
		return WS_REG_EINVAL;
	s = end;
	while (*s == '-') {
		unsigned long long v;
		s++;
		errno = 0;
		v = strtoull(s, &end, 10);
		if (end == s || errno || v > 0xFFFFFFFFull || nsub == 15 || *s == '-' || *s == '+')
			return WS_REG_EINVAL;
		subs[nsub++] = (uint32_t)v;
		s = end;
	}
	if (*s)
		return WS_REG_EINVAL;
	need = 8 + 4 * nsub;
	if (len)
		*len = need;
	if (outsz < need)
		return WS_REG_EINVAL;
	out[0] = 1;
	out[1] = (uint8_t)nsub;
	for (int i = 0; i < 6; i++)
		out[2 + i] = (uint8_t)(auth >> (8 * (5 - i)));
	for (size_t i = 0; i < nsub; i++)
		wr32(out + 8 + 4 * i, subs[i]);
	return WS_REG_OK;
}

char *
ws_sid_to_string(const uint8_t *sid, size_t len)
{
	uint64_t auth = 0;
	size_t nsub, o;
	char *s;

	if (len < 8 || sid[0] != 1)
		return NULL;
	nsub = sid[1];
	if (nsub > 15 || len < 8 + 4 * nsub)
		return NULL;
	for (int i = 0; i < 6; i++)
		auth = auth << 8 | sid[2 + i];
	s = malloc(24 + 11 * nsub);
	if (!s)
		return NULL;
	o = (size_t)sprintf(s, "S-1-%" PRIu64, auth);
	for (size_t i = 0; i < nsub; i++)
		o += (size_t)sprintf(s + o, "-%" PRIu32, rd32(sid + 8 + 4 * i));
	return s;
}

int
ws_profilelist_add(ws_hive *sw, const struct ws_profile_new *p)
{
	uint8_t sid[8 + 4 * 15];
	size_t sidlen;
	char *path;
	ws_key k;
	int e;

	if (!p || !p->sid || !p->image_path)
		return WS_REG_EINVAL;
	e = ws_sid_from_string(p->sid, sid, sizeof(sid), &sidlen);
	if (e) {
		reg_seterr(sw, "'%s' is not a SID", p->sid);
		return e;
	}
	path = reg_asprintf("Microsoft\\Windows NT\\CurrentVersion\\ProfileList\\%s", p->sid);
	if (!path)
		return WS_REG_ENOMEM;
	e = ws_key_create(sw, path, &k);
	free(path);
	if (e)
		return e;
	if ((e = ws_key_set_string(sw, k, "ProfileImagePath", WS_REG_EXPAND_SZ, p->image_path)) ||
	    (e = ws_key_set_value(sw, k, "Sid", WS_REG_BINARY, sid, sidlen)) ||
	    (e = ws_key_set_dword(sw, k, "State", p->state)) ||
	    (e = ws_key_set_dword(sw, k, "Flags", p->flags)) ||
	    (e = ws_key_set_dword(sw, k, "RefCount", 0)) ||
	    (e = ws_key_set_dword(sw, k, "LocalProfileLoadTimeLow", 0)) ||
	    (e = ws_key_set_dword(sw, k, "LocalProfileLoadTimeHigh", 0)) ||
	    (e = ws_key_set_dword(sw, k, "LocalProfileUnloadTimeLow", 0)) ||
	    (e = ws_key_set_dword(sw, k, "LocalProfileUnloadTimeHigh", 0)) ||
	    (e = ws_key_set_dword(sw, k, "ProfileAttemptedProfileDownloadTimeLow", 0)) ||
	    (e = ws_key_set_dword(sw, k, "ProfileAttemptedProfileDownloadTimeHigh", 0)))
		return e;
	return WS_REG_OK;
}
