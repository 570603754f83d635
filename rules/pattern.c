/*
 * MigXML patterns ("encoded locations"): `node [leaf]`, '*' wildcards in
 * both parts, '^' escaping '[', ']' and '^', "[]" = the default registry
 * value, no brackets = the directory or key itself.  Patterns and objects
 * are compared case-folded; "dir\*" matches dir itself and everything
 * below it, and '*' crosses '\' (so "C:\* [a.doc]" finds a.doc anywhere).
 *
 * Specificity (USMT: the most specific rule wins, directory names beat file
 * extensions) is one integer, compared in this order: literal characters of
 * the node before its first '*', node without wildcard, all literal node
 * characters, leaf without wildcard, literal leaf characters.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "rules/internal.h"

int
mig__loc_split(const char *text, char **node, char **leaf)
{
	*node = *leaf = NULL;
	while (isspace((unsigned char)*text))
		text++;
	size_t n = strlen(text);
	while (n && isspace((unsigned char)text[n - 1]))
		n--;
	ssize_t open = -1, close = -1;
	for (size_t i = 0; i < n; i++) {
		if (text[i] == '^' && i + 1 < n) {
			i++;
			continue;
		}
		if (text[i] == '[' && open < 0)
			open = (ssize_t)i;
		else if (text[i] == ']') {
			if (open < 0)
				return -1;
			close = (ssize_t)i;
		}
	}
	if (open < 0) {
		*node = mig__strndup(text, n);
		return 0;
	}
	if (close < open || (size_t)close != n - 1)
		return -1;
	size_t e = (size_t)open;
	while (e && isspace((unsigned char)text[e - 1]))
		e--;
	*node = mig__strndup(text, e);
	*leaf = mig__strndup(text + open + 1, (size_t)(close - open - 1));
	return 0;
}

char *
mig__unescape(const char *s)
{
	struct sbuf b = { 0 };
	for (; *s; s++) {
		if (s[0] == '^' && (s[1] == '[' || s[1] == ']' || s[1] == '^'))
			s++;
		sb_addc(&b, *s);
	}
	return sb_steal(&b);
}

static const struct { const char *longname, *shortname; } hives[] = {
	{ "HKEY_LOCAL_MACHINE", "HKLM" }, { "HKEY_CURRENT_USER", "HKCU" },
	{ "HKEY_USERS", "HKU" }, { "HK_USERS", "HKU" }, { "HKEY_CLASSES_ROOT", "HKCR" },
	{ "HKEY_CURRENT_CONFIG", "HKCC" },
};

char *
mig__norm_node(enum mig_obj_type type, const char *node)
{
	struct sbuf b = { 0 };
	while (isspace((unsigned char)*node))
		node++;
	if (type == MIG_OBJ_REGISTRY) {
		size_t k = strcspn(node, "\\");
		for (size_t i = 0; i < sizeof(hives) / sizeof(hives[0]); i++) {
			if (strlen(hives[i].longname) == k && !strncasecmp(node, hives[i].longname, k)) {
				sb_add(&b, hives[i].shortname);
				node += k;
				break;
			}
		}
	}
	const char *start = node;
	for (const char *p = node; *p; p++) {
		/* keep a leading "\\" (UNC), collapse other runs of backslashes */
		if (*p == '\\' && p > start + 1 && p[-1] == '\\')
			continue;
		sb_addc(&b, *p);
	}
	while (b.n > 1 && (b.p[b.n - 1] == '\\' || isspace((unsigned char)b.p[b.n - 1])))
		b.p[--b.n] = 0;
	return sb_steal(&b);
}

uint64_t
mig__mask(const char *s, size_t n)
{
	uint64_t m = 0;
	for (size_t i = 0; i < n; i++)
		if (s[i] != '*')
			m |= 1ull << ((unsigned char)s[i] & 63);
	return m;
}

bool
mig__wild(const char *pat, size_t plen, const char *s, size_t slen)
{
	size_t p = 0, i = 0, star = (size_t)-1, mark = 0;
	while (i < slen) {
		if (p < plen && pat[p] == '*') {
			star = p++;
			mark = i;
		} else if (p < plen && pat[p] == s[i]) {
			p++;
			i++;
		} else if (star != (size_t)-1) {
			p = star + 1;
			i = ++mark;
		} else {
			return false;
		}
	}
	while (p < plen && pat[p] == '*')
		p++;
	return p == plen;
}

bool
mig__node_match(const char *pat, size_t plen, const char *s, size_t slen)
{
	if (mig__wild(pat, plen, s, slen))
		return true;
	return plen >= 2 && pat[plen - 1] == '*' && pat[plen - 2] == '\\' &&
		mig__wild(pat, plen - 2, s, slen);
}

bool
mig__pat_match(const struct mig_pat *p, const char *node, size_t nlen, const char *leaf,
	size_t llen)
{
	if (p->leaf) {
		if (!leaf || !mig__wild(p->leaf, p->leaf_len, leaf, llen))
			return false;
	} else if (leaf) {
		return false;
	}
	return mig__node_match(p->node, p->node_len, node, nlen);
}

static uint64_t
clamp(uint64_t v, unsigned bits)
{
	uint64_t max = (1ull << bits) - 1;
	return v > max ? max : v;
}

int
mig__pat_compile(enum mig_obj_type type, const char *expanded, struct mig_pat *p, char *err,
	size_t errlen)
{
	memset(p, 0, sizeof(*p));
	char *rn, *rl;
	if (mig__loc_split(expanded, &rn, &rl) < 0) {
		snprintf(err, errlen, "bad pattern '%s': brackets must enclose the leaf at the end "
			"(escape [ and ] in names with ^)", expanded);
		return -1;
	}
	char *un = mig__unescape(rn);
	char *nn = mig__norm_node(type, un);
	free(un);
	free(rn);
	if (!*nn) {
		free(nn);
		free(rl);
		snprintf(err, errlen, "bad pattern '%s': empty location", expanded);
		return -1;
	}
	struct sbuf b = { 0 };
	mig__fold(nn, strlen(nn), &b);
	free(nn);
	p->node_len = (uint32_t)b.n;
	p->node = sb_steal(&b);
	if (rl) {
		char *ul = mig__unescape(rl);
		free(rl);
		mig__fold(ul, strlen(ul), &b);
		free(ul);
		p->leaf_len = (uint32_t)b.n;
		p->leaf = sb_steal(&b);
	}
	p->type = (uint8_t)type;

	const char *star = memchr(p->node, '*', p->node_len);
	size_t before = star ? (size_t)(star - p->node) : p->node_len;
	bool rec = p->node_len >= 2 && p->node[p->node_len - 1] == '*' &&
		p->node[p->node_len - 2] == '\\';
	if (!star) {
		p->prefix_len = p->node_len;
	} else {
		size_t k = before;
		while (k && p->node[k - 1] != '\\')
			k--;
		p->prefix_len = k ? (uint32_t)(k - 1) : 0;
	}
	for (size_t i = 0; i < p->node_len; i++)
		p->node_lit += p->node[i] != '*';
	/* "dir\*" also matches "dir": its last '\' is optional */
	p->node_mask = mig__mask(p->node, rec ? p->node_len - 2 : p->node_len);
	if (rec) {
		p->node_lit--;
		if (before == p->node_len - 1)
			before--;
	}
	bool leaf_exact = false;
	if (p->leaf) {
		for (size_t i = 0; i < p->leaf_len; i++)
			p->leaf_lit += p->leaf[i] != '*';
		p->leaf_mask = mig__mask(p->leaf, p->leaf_len);
		leaf_exact = !memchr(p->leaf, '*', p->leaf_len);
	}
	p->spec = clamp(before, 20) << 44 | (uint64_t)(star == NULL) << 43 |
		clamp(p->node_lit, 19) << 24 | (uint64_t)leaf_exact << 23 | clamp(p->leaf_lit, 23);
	return 0;
}

void
mig__pat_free(struct mig_pat *p)
{
	free(p->node);
	free(p->leaf);
	p->node = p->leaf = NULL;
}

void
mig__obj_fold(enum mig_obj_type type, const char *node, const char *leaf, char **fnode,
	char **fleaf)
{
	char *nn = mig__norm_node(type, node ? node : "");
	struct sbuf b = { 0 };
	mig__fold(nn, strlen(nn), &b);
	free(nn);
	*fnode = sb_steal(&b);
	*fleaf = NULL;
	if (leaf) {
		mig__fold(leaf, strlen(leaf), &b);
		*fleaf = sb_steal(&b);
	}
}
