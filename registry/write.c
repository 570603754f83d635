/*
 * The write side: create keys, set and delete values, new user hives from a
 * template, ProfileList entries, SID string <-> binary.  Changes stay in
 * hivex's memory until reg_hive_commit().
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
check_writable(reg_hive *h)
{
	if (h->flags & REG_HIVE_OPEN_WRITE)
		return REG_OK;
	reg_seterr(h, "hive %s was opened read-only", h->src_path);
	return REG_ERDONLY;
}

int
reg_key_create(reg_hive *h, const char *path, reg_key *out)
{
	char *copy, *save = NULL, *tok;
	reg_key k;
	int e = check_writable(h);

	if (e)
		return e;
	copy = strdup(path);
	if (!copy)
		return REG_ENOMEM;
	k = hivex_root(h->hx);
	for (tok = strtok_r(copy, "\\", &save); tok && !e; tok = strtok_r(NULL, "\\", &save)) {
		reg_key c;
		if (reg_key_child(h, k, tok, &c) == REG_OK) {
			k = c;
			continue;
		}
		c = hivex_node_add_child(h->hx, k, tok);
		if (!c) {
			reg_seterr(h, "cannot create key '%s' in '%s': %s", tok, path, strerror(errno));
			e = REG_EHIVEX;
		}
		k = c;
	}
	free(copy);
	if (!e && out)
		*out = k;
	return e;
}

int
reg_key_set_value(reg_hive *h, reg_key k, const char *name, uint32_t type, const void *data, size_t len)
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
		return REG_EHIVEX;
	}
	return REG_OK;
}

int
reg_key_set_string(reg_hive *h, reg_key k, const char *name, uint32_t type, const char *utf8)
{
	size_t len;
	uint8_t *w;
	int e;

	if (type != REG_SZ && type != REG_EXPAND_SZ && type != REG_LINK)
		return REG_EINVAL;
	w = fmt_utf8_to_utf16le(utf8, &len);
	if (!w)
		return errno == EILSEQ ? REG_EINVAL : REG_ENOMEM;
	/* REG_LINK is stored without the terminating NUL. */
	e = reg_key_set_value(h, k, name, type, w, type == REG_LINK ? len - 2 : len);
	free(w);
	return e;
}

int
reg_key_set_multi(reg_hive *h, reg_key k, const char *name, const char *const *strings, size_t n)
{
	uint8_t *buf = NULL;
	size_t total = 0;
	int e;

	for (size_t i = 0; i < n; i++) {
		size_t len;
		uint8_t *w = fmt_utf8_to_utf16le(strings[i], &len), *nb;
		if (!w) {
			int invalid = errno == EILSEQ;
			free(buf);
			return invalid ? REG_EINVAL : REG_ENOMEM;
		}
		if (!(nb = realloc(buf, total + len + 2))) {
			free(w);
			free(buf);
			return REG_ENOMEM;
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
			return REG_ENOMEM;
		}
		buf = nb;
		buf[total++] = 0;
		buf[total++] = 0;
	}
	e = reg_key_set_value(h, k, name, REG_MULTI_SZ, buf, total);
	free(buf);
	return e;
}

int
reg_key_set_dword(reg_hive *h, reg_key k, const char *name, uint32_t v)
{
	uint8_t b[4];

	fmt_put_le32(b, v);
	return reg_key_set_value(h, k, name, REG_DWORD, b, 4);
}

int
reg_key_set_qword(reg_hive *h, reg_key k, const char *name, uint64_t v)
{
	uint8_t b[8];

	fmt_put_le32(b, (uint32_t)v);
	fmt_put_le32(b + 4, (uint32_t)(v >> 32));
	return reg_key_set_value(h, k, name, REG_QWORD, b, 8);
}

int
reg_key_delete_value(reg_hive *h, reg_key k, const char *name)
{
	struct reg_value *vals;
	hive_set_value *keep;
	size_t n, m = 0;
	int e = check_writable(h), found = 0;

	if (e)
		return e;
	if (!name)
		name = "";
	e = reg_key_values(h, k, &vals, &n);
	if (e)
		return e;
	keep = calloc(n + 1, sizeof(*keep));
	if (!keep) {
		reg_values_free(vals, n);
		return REG_ENOMEM;
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
		e = REG_ENOTFOUND;
	} else if (hivex_node_set_values(h->hx, k, m, keep, 0) < 0) {
		reg_seterr(h, "cannot delete value '%s': %s", name, strerror(errno));
		e = REG_EHIVEX;
	}
	free(keep);
	reg_values_free(vals, n);
	return e;
}

int
reg_key_delete(reg_hive *h, reg_key k)
{
	int e = check_writable(h);

	if (e)
		return e;
	if (k == hivex_root(h->hx)) {
		reg_seterr(h, "the root key cannot be deleted");
		return REG_EINVAL;
	}
	if (hivex_node_delete_child(h->hx, k) < 0) {
		reg_seterr(h, "cannot delete key: %s", strerror(errno));
		return REG_EHIVEX;
	}
	return REG_OK;
}

int
reg_hive_create_from_template(const char *template_path, const char *out_path, char *msg, size_t msgsz)
{
	int e;
	reg_hive *h = reg_hive_open(template_path, REG_HIVE_OPEN_WRITE, &e, msg, msgsz);

	if (!h)
		return e;
	/* Committing through hivex writes a clean hive (equal sequence numbers,
	 * fresh checksum) whatever state the template was in. */
	e = reg_hive_commit(h, out_path);
	if (e && msg && msgsz)
		snprintf(msg, msgsz, "%s", h->errmsg);
	reg_hive_close(h);
	return e;
}

int
reg_profilelist_add(reg_hive *sw, const struct reg_profile_new *p)
{
	uint8_t sid[FMT_SID_MAX];
	size_t sidlen;
	char *path;
	reg_key k;
	int e;

	if (!p || !p->sid || !p->image_path)
		return REG_EINVAL;
	if (fmt_sid_from_string(p->sid, sid, sizeof(sid), &sidlen) < 0) {
		reg_seterr(sw, "'%s' is not a SID", p->sid);
		return REG_EINVAL;
	}
	path = reg_asprintf("Microsoft\\Windows NT\\CurrentVersion\\ProfileList\\%s", p->sid);
	if (!path)
		return REG_ENOMEM;
	e = reg_key_create(sw, path, &k);
	free(path);
	if (e)
		return e;
	if ((e = reg_key_set_string(sw, k, "ProfileImagePath", REG_EXPAND_SZ, p->image_path)) ||
	    (e = reg_key_set_value(sw, k, "Sid", REG_BINARY, sid, sidlen)) ||
	    (e = reg_key_set_dword(sw, k, "State", p->state)) ||
	    (e = reg_key_set_dword(sw, k, "Flags", p->flags)) ||
	    (e = reg_key_set_dword(sw, k, "RefCount", 0)) ||
	    (e = reg_key_set_dword(sw, k, "LocalProfileLoadTimeLow", 0)) ||
	    (e = reg_key_set_dword(sw, k, "LocalProfileLoadTimeHigh", 0)) ||
	    (e = reg_key_set_dword(sw, k, "LocalProfileUnloadTimeLow", 0)) ||
	    (e = reg_key_set_dword(sw, k, "LocalProfileUnloadTimeHigh", 0)) ||
	    (e = reg_key_set_dword(sw, k, "ProfileAttemptedProfileDownloadTimeLow", 0)) ||
	    (e = reg_key_set_dword(sw, k, "ProfileAttemptedProfileDownloadTimeHigh", 0)))
		return e;
	return REG_OK;
}
