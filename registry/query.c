/*
 * Reading keys and values: lookup by path (case-insensitive), enumeration,
 * walking, MigXML-like patterns, and decoding of value data.
 */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "registry/reg_internal.h"

#define MAX_DEPTH 512           /* deeper than any real hive; stops cycles */

void
reg_value_clear(struct reg_value *v)
{
	if (!v)
		return;
	free(v->name);
	free(v->data);
	memset(v, 0, sizeof(*v));
}

void
reg_values_free(struct reg_value *v, size_t n)
{
	for (size_t i = 0; v && i < n; i++)
		reg_value_clear(&v[i]);
	free(v);
}

reg_key
reg_hive_root(reg_hive *h)
{
	return hivex_root(h->hx);
}

int
reg_key_child(reg_hive *h, reg_key parent, const char *name, reg_key *out)
{
	hive_node_h c;

	errno = 0;
	c = hivex_node_get_child(h->hx, parent, name);
	if (!c) {
		if (errno) {
			reg_seterr(h, "cannot read subkeys: %s", strerror(errno));
			return REG_EFORMAT;
		}
		reg_seterr(h, "no subkey '%s'", name);
		return REG_ENOTFOUND;
	}
	*out = c;
	return REG_OK;
}

int
reg_key_open(reg_hive *h, const char *path, reg_key *out)
{
	char *copy = strdup(path ? path : ""), *save = NULL, *tok;
	reg_key k = hivex_root(h->hx);
	int e = REG_OK;

	if (!copy)
		return REG_ENOMEM;
	if (!k) {
		free(copy);
		reg_seterr(h, "hive has no root key");
		return REG_EFORMAT;
	}
	for (tok = strtok_r(copy, "\\", &save); tok; tok = strtok_r(NULL, "\\", &save)) {
		e = reg_key_child(h, k, tok, &k);
		if (e) {
			reg_seterr(h, "key '%s' not found (no '%s')", path, tok);
			break;
		}
	}
	free(copy);
	if (!e)
		*out = k;
	return e;
}

char *
reg_key_name(reg_hive *h, reg_key k)
{
	return hivex_node_name(h->hx, k);
}

int64_t
reg_key_timestamp(reg_hive *h, reg_key k)
{
	return hivex_node_timestamp(h->hx, k);
}

int
reg_key_subkeys(reg_hive *h, reg_key k, reg_key **out, size_t *n)
{
	hive_node_h *c = hivex_node_children(h->hx, k);
	size_t i;

	if (!c) {
		reg_seterr(h, "cannot list subkeys: %s", strerror(errno));
		return REG_EFORMAT;
	}
	for (i = 0; c[i]; i++)
		;
	*out = malloc((i + 1) * sizeof(**out));
	if (!*out) {
		free(c);
		return REG_ENOMEM;
	}
	for (size_t j = 0; j < i; j++)
		(*out)[j] = c[j];
	(*out)[i] = 0;
	*n = i;
	free(c);
	return REG_OK;
}

static int
read_value(reg_hive *h, hive_value_h v, struct reg_value *out)
{
	hive_type t;
	size_t len = 0;
	char *data;

	memset(out, 0, sizeof(*out));
	out->name = hivex_value_key(h->hx, v);
	if (!out->name) {
		reg_seterr(h, "cannot read a value name: %s", strerror(errno));
		return REG_EFORMAT;
	}
	data = hivex_value_value(h->hx, v, &t, &len);
	if (!data) {
		reg_seterr(h, "cannot read value '%s': %s", out->name, strerror(errno));
		reg_value_clear(out);
		return REG_EFORMAT;
	}
	out->type = (uint32_t)t;
	out->data = (uint8_t *)data;
	out->len = len;
	return REG_OK;
}

int
reg_key_values(reg_hive *h, reg_key k, struct reg_value **out, size_t *n)
{
	hive_value_h *vals = hivex_node_values(h->hx, k);
	size_t i, cnt;
	int e = REG_OK;

	*out = NULL;
	*n = 0;
	if (!vals) {
		reg_seterr(h, "cannot list values: %s", strerror(errno));
		return REG_EFORMAT;
	}
	for (cnt = 0; vals[cnt]; cnt++)
		;
	*out = calloc(cnt + 1, sizeof(**out));
	if (!*out) {
		free(vals);
		return REG_ENOMEM;
	}
	for (i = 0; i < cnt && !e; i++)
		e = read_value(h, vals[i], &(*out)[i]);
	free(vals);
	if (e) {
		reg_values_free(*out, cnt);
		*out = NULL;
		return e;
	}
	*n = cnt;
	return REG_OK;
}

int
reg_key_get_value(reg_hive *h, reg_key k, const char *name, struct reg_value *out)
{
	hive_value_h *vals = hivex_node_values(h->hx, k);
	int e = REG_ENOTFOUND;

	memset(out, 0, sizeof(*out));   /* safe to clear whatever happens */
	if (!name)
		name = "";
	if (!vals) {
		reg_seterr(h, "cannot list values: %s", strerror(errno));
		return REG_EFORMAT;
	}
	for (size_t i = 0; vals[i]; i++) {
		char *vn = hivex_value_key(h->hx, vals[i]);
		int same = vn && strcasecmp(vn, name) == 0;
		free(vn);
		if (same) {
			e = read_value(h, vals[i], out);
			break;
		}
	}
	free(vals);
	if (e == REG_ENOTFOUND)
		reg_seterr(h, "no value '%s'", name);
	return e;
}

int
reg_hive_get_value(reg_hive *h, const char *key_path, const char *name, struct reg_value *out)
{
	reg_key k;
	int e;

	memset(out, 0, sizeof(*out));
	e = reg_key_open(h, key_path, &k);
	return e ? e : reg_key_get_value(h, k, name, out);
}

static int
walk(reg_hive *h, reg_key k, const char *path, reg_key_cb cb, void *opaque, int depth)
{
	reg_key *kids = NULL;
	size_t n = 0;
	int r;

	r = cb(h, k, path, opaque);
	if (r)
		return r;
	if (depth >= MAX_DEPTH) {
		reg_seterr(h, "key '%s' is nested too deep", path);
		return REG_EFORMAT;
	}
	r = reg_key_subkeys(h, k, &kids, &n);
	for (size_t i = 0; !r && i < n; i++) {
		char *name = hivex_node_name(h->hx, kids[i]);
		char *sub = name ? reg_asprintf("%s%s%s", path, *path ? "\\" : "", name) : NULL;
		if (!sub)
			r = name ? REG_ENOMEM : REG_EFORMAT;
		else
			r = walk(h, kids[i], sub, cb, opaque, depth + 1);
		free(name);
		free(sub);
	}
	free(kids);
	return r;
}

int
reg_hive_walk(reg_hive *h, reg_key start, const char *start_path, reg_key_cb cb, void *opaque)
{
	return walk(h, start ? start : hivex_root(h->hx), start_path ? start_path : "", cb, opaque, 0);
}

int
reg_glob(const char *p, const char *s)
{
	const char *star = NULL, *resume = NULL;

	while (*s) {
		if (*p == '*') {
			star = p++;
			resume = s;
		} else if (*p == '?' || (*p && tolower((unsigned char)*p) == tolower((unsigned char)*s))) {
			p++;
			s++;
		} else if (star) {
			p = star + 1;
			s = ++resume;
		} else {
			return 0;
		}
	}
	while (*p == '*')
		p++;
	return *p == 0;
}

struct match_ctx {
	char **comps;
	size_t ncomps;
	const char *value_pat;  /* NULL = keys only */
	reg_match_cb cb;
	void *opaque;
};

static int
emit(reg_hive *h, reg_key k, const char *path, struct match_ctx *m)
{
	struct reg_value *vals;
	size_t n;
	int r;

	if (!m->value_pat)
		return m->cb(h, path, k, NULL, m->opaque);
	r = reg_key_values(h, k, &vals, &n);
	if (r)
		return r;
	for (size_t i = 0; !r && i < n; i++)
		if (reg_glob(m->value_pat, vals[i].name))
			r = m->cb(h, path, k, &vals[i], m->opaque);
	reg_values_free(vals, n);
	return r;
}

static int
emit_cb(reg_hive *h, reg_key k, const char *path, void *opaque)
{
	return emit(h, k, path, opaque);
}

static int
match_from(reg_hive *h, reg_key k, const char *path, size_t i, struct match_ctx *m)
{
	const char *c;
	int r = 0;

	if (i == m->ncomps)
		return emit(h, k, path, m);
	c = m->comps[i];
	if (!strcmp(c, "*") && i + 1 == m->ncomps)
		return reg_hive_walk(h, k, path, emit_cb, m);
	if (!strpbrk(c, "*?")) {
		reg_key child;
		char *sub;
		if (reg_key_child(h, k, c, &child))
			return 0;
		{
			char *name = hivex_node_name(h->hx, child);
			sub = reg_asprintf("%s%s%s", path, *path ? "\\" : "", name ? name : c);
			free(name);
		}
		if (!sub)
			return REG_ENOMEM;
		r = match_from(h, child, sub, i + 1, m);
		free(sub);
		return r;
	}
	reg_key *kids;
	size_t n;
	r = reg_key_subkeys(h, k, &kids, &n);
	for (size_t j = 0; !r && j < n; j++) {
		char *name = hivex_node_name(h->hx, kids[j]);
		if (name && reg_glob(c, name)) {
			char *sub = reg_asprintf("%s%s%s", path, *path ? "\\" : "", name);
			r = sub ? match_from(h, kids[j], sub, i + 1, m) : REG_ENOMEM;
			free(sub);
		}
		free(name);
	}
	free(kids);
	return r;
}

int
reg_hive_match(reg_hive *h, const char *pattern, reg_match_cb cb, void *opaque)
{
	struct match_ctx m = { .cb = cb, .opaque = opaque };
	char *keyp = strdup(pattern), *br, *save = NULL, *tok, *end;
	int r = REG_OK;

	if (!keyp)
		return REG_ENOMEM;
	br = strrchr(keyp, '[');
	if (br) {
		end = strrchr(br, ']');
		if (!end) {
			free(keyp);
			reg_seterr(h, "pattern '%s' has '[' without ']'", pattern);
			return REG_EINVAL;
		}
		*end = 0;
		m.value_pat = br + 1;
		*br = 0;
	}
	/* trim the blanks between key and "[value]" */
	for (end = keyp + strlen(keyp); end > keyp && (end[-1] == ' ' || end[-1] == '\t'); end--)
		end[-1] = 0;
	m.comps = calloc(strlen(keyp) / 2 + 2, sizeof(*m.comps));
	if (!m.comps) {
		free(keyp);
		return REG_ENOMEM;
	}
	for (tok = strtok_r(keyp, "\\", &save); tok; tok = strtok_r(NULL, "\\", &save))
		m.comps[m.ncomps++] = tok;
	r = match_from(h, hivex_root(h->hx), "", 0, &m);
	free(m.comps);
	free(keyp);
	return r;
}

int
reg_value_string(const struct reg_value *v, char **out)
{
	if (v->type != REG_SZ && v->type != REG_EXPAND_SZ && v->type != REG_LINK &&
	    v->type != REG_MULTI_SZ)
		return REG_ETYPE;
	*out = fmt_utf16le_to_utf8(v->data, v->len);
	return *out ? REG_OK : REG_ENOMEM;
}

int
reg_value_multi(const struct reg_value *v, char ***out, size_t *n)
{
	size_t cnt = 0, i = 0, words = v->len / 2;
	char **arr;

	if (v->type != REG_MULTI_SZ && v->type != REG_SZ && v->type != REG_EXPAND_SZ)
		return REG_ETYPE;
	arr = calloc(words / 2 + 2, sizeof(*arr));
	if (!arr)
		return REG_ENOMEM;
	while (i < words) {
		size_t start = i;
		while (i < words && (v->data[2 * i] | v->data[2 * i + 1]))
			i++;
		if (i == start)
			break;          /* empty string: end of the list */
		arr[cnt] = fmt_utf16le_to_utf8(v->data + 2 * start, 2 * (i - start));
		if (!arr[cnt]) {
			for (size_t j = 0; j < cnt; j++)
				free(arr[j]);
			free(arr);
			return REG_ENOMEM;
		}
		cnt++;
		i++;
	}
	*out = arr;
	*n = cnt;
	return REG_OK;
}

int
reg_value_u32(const struct reg_value *v, uint32_t *out)
{
	if (v->len < 4)
		return REG_ETYPE;
	if (v->type == REG_DWORD || ((v->type == REG_BINARY || v->type == REG_NONE) && v->len == 4))
		*out = fmt_le32(v->data);
	else if (v->type == REG_DWORD_BIG_ENDIAN)
		*out = (uint32_t)v->data[0] << 24 | (uint32_t)v->data[1] << 16 |
		       (uint32_t)v->data[2] << 8 | v->data[3];
	else
		return REG_ETYPE;
	return REG_OK;
}

int
reg_value_u64(const struct reg_value *v, uint64_t *out)
{
	uint32_t d;

	if ((v->type == REG_QWORD || v->type == REG_BINARY) && v->len == 8) {
		*out = fmt_le64(v->data);
		return REG_OK;
	}
	if (v->type == REG_QWORD && v->len > 8) {
		*out = fmt_le64(v->data);
		return REG_OK;
	}
	if (reg_value_u32(v, &d) == REG_OK) {
		*out = d;
		return REG_OK;
	}
	return REG_ETYPE;
}

char *
reg_value_format(const struct reg_value *v)
{
	char *s = NULL;
	uint32_t d;
	uint64_t q;

	switch (v->type) {
	case REG_SZ:
	case REG_EXPAND_SZ:
	case REG_LINK:
		return fmt_utf16le_to_utf8(v->data, v->len);
	case REG_MULTI_SZ: {
		char **arr;
		size_t n, total = 1;
		if (reg_value_multi(v, &arr, &n))
			break;
		for (size_t i = 0; i < n; i++)
			total += strlen(arr[i]) + 2;
		s = malloc(total);
		if (s) {
			s[0] = 0;
			for (size_t i = 0; i < n; i++) {
				if (i)
					strcat(s, "\\0");
				strcat(s, arr[i]);
			}
		}
		for (size_t i = 0; i < n; i++)
			free(arr[i]);
		free(arr);
		return s;
	}
	case REG_DWORD:
	case REG_DWORD_BIG_ENDIAN:
		if (v->len == 4 && reg_value_u32(v, &d) == REG_OK)
			return reg_asprintf("0x%" PRIx32, d);
		break;
	case REG_QWORD:
		if (v->len == 8 && reg_value_u64(v, &q) == REG_OK)
			return reg_asprintf("0x%" PRIx64, q);
		break;
	default:
		break;
	}
	/* raw: hex digits, as `reg query` prints REG_BINARY */
	s = malloc(v->len * 2 + 1);
	if (!s)
		return NULL;
	for (size_t i = 0; i < v->len; i++)
		sprintf(s + 2 * i, "%02X", v->data[i]);
	s[2 * v->len] = 0;
	return s;
}
