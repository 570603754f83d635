/*
 * Evaluation of the MigXML helper functions that can be decided while
 * compiling rules: conditions (DoesObjectExist, DoesFileVersionMatch,
 * DoesOSMatch, IsOSLaterThan, IsNative64Bit, string-content tests ...),
 * string helpers (GetStringContent), pattern generators
 * (GenerateDrivePatterns, GenerateDocPatterns, GenerateUserPatterns) and
 * content filters (ExtractSingleFile, ExtractMultipleFiles,
 * ExtractDirectory, MigSysHelper.ExtractSingleFile{Ansi,Unicode}Bin).
 * Everything about the offline system goes through struct mig_rules_host;
 * a missing callback answers "no".  Transforms (merge, locationModify,
 * contentModify, filters) are not evaluated here: match.c records them.
 */
#include <ctype.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "rules/internal.h"

#define MAX_PE_READ (64u << 20)

void
mig__found_add(struct mig_found_list *l, enum mig_obj_type t, const char *node, const char *leaf)
{
	if (l->n == l->cap) {
		l->cap = l->cap ? l->cap * 2 : 8;
		l->v = mig__xrealloc(l->v, l->cap * sizeof(*l->v));
	}
	l->v[l->n++] = (struct mig_found){ t, mig__strdup(node), mig__strdup(leaf) };
}

void
mig__found_free(struct mig_found_list *l)
{
	for (size_t i = 0; i < l->n; i++) {
		free(l->v[i].node);
		free(l->v[i].leaf);
	}
	free(l->v);
	memset(l, 0, sizeof(*l));
}

void
mig__free_args(char **a, unsigned n)
{
	for (unsigned i = 0; a && i < n; i++)
		free(a[i]);
	free(a);
}

int
mig__expand_args(const mig_vars *v, const struct mig_call *c, char ***out)
{
	char **a = mig__xmalloc((c->nargs + 1) * sizeof(char *));
	int rc = 0;
	for (unsigned i = 0; i < c->nargs; i++) {
		a[i] = NULL;
		if (!c->args[i])
			continue;
		a[i] = mig__vars_expand(v, c->args[i], false, NULL);
		if (!a[i]) {
			a[i] = mig__strdup(c->args[i]);
			rc = -1;
		}
	}
	*out = a;
	return rc;
}

static int
obj_type(const char *t)
{
	if (!t)
		return -1;
	if (!strcasecmp(t, "File"))
		return MIG_OBJ_FILE;
	if (!strcasecmp(t, "Registry"))
		return MIG_OBJ_REGISTRY;
	if (!strcasecmp(t, "Ini"))
		return MIG_OBJ_INI;
	return -1;
}

/* Split an expanded location into normalised node and unescaped leaf. */
static int
split_obj(enum mig_obj_type t, const char *loc, char **node, char **leaf)
{
	char *rn, *rl;
	if (mig__loc_split(loc, &rn, &rl) < 0)
		return -1;
	char *un = mig__unescape(rn);
	*node = mig__norm_node(t, un);
	free(un);
	free(rn);
	*leaf = rl ? mig__unescape(rl) : NULL;
	free(rl);
	return 0;
}

static char *
join_path(const char *node, const char *leaf)
{
	struct sbuf b = { 0 };
	sb_add(&b, node);
	if (leaf) {
		if (b.n && b.p[b.n - 1] != '\\')
			sb_addc(&b, '\\');
		sb_add(&b, leaf);
	}
	return sb_steal(&b);
}

struct first_ctx { struct mig_found_list *out; enum mig_obj_type t; bool first_only; };

static int
emit_found(void *ctx, const char *node, const char *leaf)
{
	struct first_ctx *f = ctx;
	mig__found_add(f->out, f->t, node, leaf);
	return f->first_only;
}

static void
find_impl(const struct mig_eval *e, enum mig_obj_type t, const char *loc, bool first,
	struct mig_found_list *out)
{
	char *node, *leaf;
	if (split_obj(t, loc, &node, &leaf) < 0)
		return;
	bool wild = strchr(node, '*') || (leaf && strchr(leaf, '*'));
	const struct mig_rules_host *h = e->host;
	if (wild) {
		if (h && h->enumerate) {
			struct first_ctx f = { out, t, first };
			h->enumerate(h->opaque, t, node, leaf, emit_found, &f);
		}
	} else if (t == MIG_OBJ_FILE) {
		char *path = join_path(node, leaf);
		if (h && h->file_exists && h->file_exists(h->opaque, path, NULL) == 1)
			mig__found_add(out, t, node, leaf);
		free(path);
	} else if (t == MIG_OBJ_REGISTRY) {
		if (h && h->reg_exists && h->reg_exists(h->opaque, node, leaf) == 1)
			mig__found_add(out, t, node, leaf);
	} else {
		char *s = mig__string_content(e, "Ini", loc, false);
		if (s)
			mig__found_add(out, t, node, leaf);
		free(s);
	}
	free(node);
	free(leaf);
}

void
mig__find_objects(const struct mig_eval *e, enum mig_obj_type t, const char *loc,
	struct mig_found_list *out)
{
	find_impl(e, t, loc, false, out);
}

int
mig__object_exists(const struct mig_eval *e, enum mig_obj_type t, const char *loc)
{
	struct mig_found_list l = { 0 };
	find_impl(e, t, loc, true, &l);
	int r = l.n > 0;
	mig__found_free(&l);
	return r;
}

/* Registry data -> string (REG_SZ, EXPAND_SZ, first MULTI_SZ, DWORD, QWORD). */
static char *
reg_string(unsigned type, const unsigned char *d, size_t len)
{
	struct sbuf b = { 0 };
	switch (type) {
	case MIG_REG_SZ:
	case MIG_REG_EXPAND_SZ:
	case MIG_REG_MULTI_SZ:
		return fmt_utf16le_to_utf8(d, len);
	case MIG_REG_DWORD:
		if (len < 4)
			return NULL;
		sb_fmt(&b, "%" PRIu32, fmt_le32(d));
		return sb_steal(&b);
	case MIG_REG_QWORD: {
		if (len < 8)
			return NULL;
		sb_fmt(&b, "%" PRIu64, fmt_le64(d));
		return sb_steal(&b);
	}
	}
	return NULL;
}

static char *
ini_lookup(const char *text, const char *section, const char *key)
{
	char *res = NULL;
	bool in = false;
	const char *p = text;
	while (*p && !res) {
		const char *e = strchr(p, '\n');
		size_t n = e ? (size_t)(e - p) : strlen(p);
		char *line = mig__strndup(p, n);
		char *t = mig__trim(line);
		free(line);
		if (*t == '[') {
			char *c = strchr(t, ']');
			if (c) {
				*c = 0;
				char *s = mig__trim(t + 1);
				in = !strcasecmp(s, section);
				free(s);
			}
		} else if (in && *t && *t != ';') {
			char *eq = strchr(t, '=');
			if (eq) {
				*eq = 0;
				char *k = mig__trim(t);
				if (!strcasecmp(k, key))
					res = mig__trim(eq + 1);
				free(k);
			}
		}
		free(t);
		p = e ? e + 1 : p + n;
	}
	return res;
}

char *
mig__string_content(const struct mig_eval *e, const char *type, const char *loc, bool expand)
{
	int t = obj_type(type);
	const struct mig_rules_host *h = e->host;
	char *node, *leaf, *res = NULL;
	if (t < 0 || t == MIG_OBJ_FILE || !loc || split_obj((enum mig_obj_type)t, loc, &node, &leaf) < 0)
		return NULL;
	if (t == MIG_OBJ_REGISTRY) {
		unsigned rt;
		unsigned char *d = NULL;
		size_t len = 0;
		if (h && h->reg_read && h->reg_read(h->opaque, node, leaf ? leaf : "", &rt, &d, &len) == 0)
			res = reg_string(rt, d, len);
		free(d);
	} else if (leaf) {
		/* Ini: "file|Section [Key]" */
		char *bar = strrchr(node, '|');
		unsigned char *d = NULL;
		size_t len = 0;
		if (bar && h && h->file_read) {
			*bar = 0;
			if (h->file_read(h->opaque, node, 1u << 20, &d, &len) == 0) {
				char *text;
				if (len >= 2 && d[0] == 0xFF && d[1] == 0xFE)
					text = fmt_utf16le_to_utf8(d + 2, len - 2);
				else
					text = mig__strndup((const char *)d, len);
				res = ini_lookup(text, bar + 1, leaf);
				free(text);
			}
			free(d);
		}
	}
	free(node);
	free(leaf);
	if (res && expand) {
		char *x = mig__vars_expand(e->vars, res, false, NULL);
		if (x) {
			free(res);
			res = x;
		}
	}
	return res;
}

/* ---------------------------------------------------------------- versions */

static int
ver_parse(const char *s, unsigned long v[4])
{
	int n = 0;
	memset(v, 0, 4 * sizeof(v[0]));
	while (s && *s && n < 4) {
		while (*s && !isdigit((unsigned char)*s))
			s++;
		if (!*s)
			break;
		v[n++] = strtoul(s, (char **)&s, 10);
		if (*s && *s != '.')
			break;
	}
	return n;
}

static int
ver_cmp(const unsigned long a[4], const unsigned long b[4])
{
	for (int i = 0; i < 4; i++)
		if (a[i] != b[i])
			return a[i] < b[i] ? -1 : 1;
	return 0;
}

static char *
file_version(const struct mig_eval *e, const char *file, const char *tag)
{
	const struct mig_rules_host *h = e->host;
	unsigned char *d = NULL;
	size_t len = 0;
	if (!h || !h->file_read || h->file_read(h->opaque, file, MAX_PE_READ, &d, &len) < 0)
		return NULL;
	char *v = fmt_pe_version_string(d, len, tag);
	free(d);
	return v;
}

static bool
wild_icase(const char *pat, const char *s)
{
	struct sbuf a = { 0 }, b = { 0 };
	mig__fold(pat, strlen(pat), &a);
	mig__fold(s, strlen(s), &b);
	bool r = mig__wild(a.p, a.n, b.p, b.n);
	sb_free(&a);
	sb_free(&b);
	return r;
}

static bool
os_version(const struct mig_eval *e, unsigned long v[4])
{
	unsigned ma, mi, bu;
	const struct mig_rules_host *h = e->host;
	if (!h || !h->os_version || h->os_version(h->opaque, &ma, &mi, &bu) < 0)
		return false;
	v[0] = ma;
	v[1] = mi;
	v[2] = bu;
	v[3] = 0;
	return true;
}

static bool
contains_icase(const char *hay, const char *needle)
{
	struct sbuf a = { 0 }, b = { 0 };
	mig__fold(hay, strlen(hay), &a);
	mig__fold(needle, strlen(needle), &b);
	bool r = strstr(a.p, b.p) != NULL;
	sb_free(&a);
	sb_free(&b);
	return r;
}

int
mig__eval_condition(const struct mig_eval *e, const struct mig_call *c, unsigned line)
{
	char **a;
	if (mig__expand_args(e->vars, c, &a) < 0) {
		/* an undefined variable: the object cannot exist */
		mig__free_args(a, c->nargs);
		return 0;
	}
	const char *n = c->def->name;
	const struct mig_rules_host *h = e->host;
	int r = 0;
	unsigned long v[4], w[4];
	if (!strcmp(n, "IsNative64Bit")) {
		r = h && h->is_native_64bit && h->is_native_64bit(h->opaque) == 1;
	} else if (!strcmp(n, "IsSystemContext")) {
		r = e->ctx == MIG_CTX_SYSTEM;
	} else if (!strcmp(n, "DoesObjectExist")) {
		int t = obj_type(a[0]);
		r = t >= 0 && a[1] && mig__object_exists(e, (enum mig_obj_type)t, a[1]);
	} else if (!strcmp(n, "DoesFileVersionMatch") || !strcmp(n, "IsFileVersionAbove") ||
		!strcmp(n, "IsFileVersionBelow")) {
		char *fv = a[0] && a[1] ? file_version(e, a[0], a[1]) : NULL;
		if (fv && a[2]) {
			if (n[2] == 'e')       /* DoesFileVersionMatch */
				r = wild_icase(a[2], fv);
			else {
				ver_parse(fv, v);
				ver_parse(a[2], w);
				r = !strcmp(n, "IsFileVersionAbove") ? ver_cmp(v, w) > 0 : ver_cmp(v, w) < 0;
			}
		}
		free(fv);
	} else if (!strcmp(n, "DoesOSMatch")) {
		if (a[0] && !strcasecmp(a[0], "NT") && a[1] && os_version(e, v)) {
			char s[64];
			snprintf(s, sizeof(s), "%lu.%lu.%lu", v[0], v[1], v[2]);
			r = wild_icase(a[1], s) || (strlen(a[1]) > 2 && wild_icase(a[1], s));
		}
	} else if (!strcmp(n, "IsOSLaterThan") || !strcmp(n, "IsOSEarlierThan")) {
		if (a[0] && !strcasecmp(a[0], "NT") && a[1] && os_version(e, v)) {
			int k = ver_parse(a[1], w);
			for (int i = k; i < 4; i++)
				v[i] = 0;       /* compare only the given components */
			r = n[4] == 'L' ? ver_cmp(v, w) >= 0 : ver_cmp(v, w) < 0;
		}
	} else if (!strcmp(n, "DoesStringContentEqual") || !strcmp(n, "DoesStringContentContain")) {
		char *s = mig__string_content(e, a[0], a[1], false);
		if (s && a[2])
			r = n[17] == 'E' ? !strcasecmp(s, a[2]) : contains_icase(s, a[2]);
		free(s);
	} else if (!strcmp(n, "IsSameObject")) {
		int t = obj_type(a[0]);
		if (t >= 0 && a[1] && a[2]) {
			char *n1, *l1, *n2, *l2;
			if (!split_obj((enum mig_obj_type)t, a[1], &n1, &l1)) {
				if (!split_obj((enum mig_obj_type)t, a[2], &n2, &l2)) {
					r = mig__object_exists(e, (enum mig_obj_type)t, a[1]) &&
						!strcasecmp(n1, n2) && ((!l1 && !l2) || (l1 && l2 && !strcasecmp(l1, l2)));
					free(n2);
					free(l2);
				}
				free(n1);
				free(l1);
			}
		}
	} else if (!strcmp(n, "IsSameContent") || !strcmp(n, "IsSameStringContent")) {
		char *s1 = mig__string_content(e, a[0], a[1], false);
		char *s2 = mig__string_content(e, a[2], a[3], false);
		r = s1 && s2 && (n[6] == 'S' ? !strcasecmp(s1, s2) : !strcmp(s1, s2));
		free(s1);
		free(s2);
	} else {
		mig__diag(e->diags, MIG_DIAG_UNSUPPORTED, e->file, line,
			"condition helper %s is not evaluated: taken as false", n);
	}
	mig__free_args(a, c->nargs);
	return r;
}

char *
mig__eval_string(const struct mig_eval *e, const struct mig_call *c, unsigned line)
{
	char **a;
	char *r = NULL;
	if (c->nargs > 3)
		mig__diag(e->diags, MIG_DIAG_NOTE, e->file, line,
			"GetStringContent: arguments 4 and 5 are undocumented and ignored");
	if (mig__expand_args(e->vars, c, &a) == 0 && !strcmp(c->def->name, "GetStringContent"))
		r = mig__string_content(e, a[0], a[1], c->nargs > 2 && a[2] && mig__parse_bool(a[2]) == 1);
	mig__free_args(a, c->nargs);
	return r;
}

/* ---------------------------------------------------------------- generators */

static void
push(char ***out, size_t *n, const char *s)
{
	*out = mig__xrealloc(*out, (*n + 1) * sizeof(char *));
	(*out)[(*n)++] = mig__strdup(s);
}

static void
push2(char ***out, size_t *n, const char *a, const char *b)
{
	struct sbuf s = { 0 };
	sb_add(&s, a);
	sb_add(&s, b);
	push(out, n, s.p);
	sb_free(&s);
}

static void
drives(const struct mig_eval *e, char ***list, size_t *n)
{
	const char *d = mig_vars_get(e->vars, "WS_FIXED_DRIVES");
	if (!d)
		d = mig_vars_get(e->vars, "SYSTEMDRIVE");
	if (!d)
		d = "C:";
	char *t = mig__strdup(d);
	for (char *tok = strtok(t, ";, "); tok; tok = strtok(NULL, ";, ")) {
		size_t k = strlen(tok);
		while (k > 2 && tok[k - 1] == '\\')
			tok[--k] = 0;
		push(list, n, tok);
	}
	free(t);
}

/* The document finder, approximated with the folders USMT documents. */
static const char *const doc_user_inc[] = {
	"%CSIDL_MYDOCUMENTS%", "%CSIDL_MYPICTURES%", "%FOLDERID_OriginalImages%", "%CSIDL_MYMUSIC%",
	"%CSIDL_MYVIDEO%", "%CSIDL_FAVORITES%", "%CSIDL_DESKTOP%", "%CSIDL_QUICKLAUNCH%",
	"%FOLDERID_Contacts%", "%FOLDERID_Libraries%", "%FOLDERID_Downloads%",
	"%FOLDERID_SavedGames%", "%FOLDERID_RecordedTV%", "%USERPROFILE%", NULL,
};
static const char *const doc_user_exc[] = {
	"%USERPROFILE%\\AppData", "%CSIDL_APPDATA%", "%CSIDL_LOCAL_APPDATA%",
	"%CSIDL_INTERNET_CACHE%", "%CSIDL_COOKIES%", "%CSIDL_HISTORY%", "%TEMP%", NULL,
};
static const char *const doc_sys_inc[] = {
	"%CSIDL_COMMON_DESKTOPDIRECTORY%", "%CSIDL_COMMON_FAVORITES%", "%CSIDL_COMMON_DOCUMENTS%",
	"%CSIDL_COMMON_MUSIC%", "%CSIDL_COMMON_PICTURES%", "%CSIDL_COMMON_VIDEO%",
	"%FOLDERID_PublicDownloads%", NULL,
};
static const char *const doc_sys_exc[] = {
	"%CSIDL_WINDOWS%", "%CSIDL_COMMON_APPDATA%", "%PROFILESFOLDER%", NULL,
};

static int
gen_doc(const struct mig_eval *e, char **a, unsigned na, char ***out, size_t *nout)
{
	bool scan_pf = na > 0 && a[0] && mig__parse_bool(a[0]) == 1;
	bool include = !(na > 1 && a[1] && mig__parse_bool(a[1]) == 0);
	bool sysdrive_only = na > 2 && a[2] && mig__parse_bool(a[2]) == 1;
	bool user = e->ctx == MIG_CTX_USER;
	const char *const *list = user ? (include ? doc_user_inc : doc_user_exc)
		: (include ? doc_sys_inc : doc_sys_exc);
	for (; *list; list++)
		push2(out, nout, *list, "\\* [*]");
	if (!user) {
		char **dl = NULL;
		size_t nd = 0;
		drives(e, &dl, &nd);
		const char *sd = mig_vars_get(e->vars, "SYSTEMDRIVE");
		for (size_t i = 0; i < nd; i++) {
			if (sysdrive_only && sd && strcasecmp(dl[i], sd))
				continue;
			if (include) {
				push2(out, nout, dl[i], "\\* [*]");
			} else {
				static const char *const junk[] = { "\\$Recycle.Bin\\* [*]",
					"\\System Volume Information\\* [*]", "\\$WINDOWS.~BT\\* [*]",
					"\\Windows.old\\* [*]", "\\Recovery\\* [*]", "\\ [pagefile.sys]",
					"\\ [hiberfil.sys]", "\\ [swapfile.sys]", "\\ [DumpStack.log*]",
					"\\Windows\\* [*]", "\\ProgramData\\* [*]", NULL };
				for (const char *const *j = junk; *j; j++)
					push2(out, nout, dl[i], *j);
				if (!scan_pf) {
					push2(out, nout, dl[i], "\\Program Files\\* [*]");
					push2(out, nout, dl[i], "\\Program Files (x86)\\* [*]");
				}
			}
		}
		for (size_t i = 0; i < nd; i++)
			free(dl[i]);
		free(dl);
	} else if (!include) {
		push(out, nout, "%USERPROFILE% [ntuser.*]");
		push(out, nout, "%USERPROFILE%\\* [desktop.ini]");
	}
	return 0;
}

int
mig__eval_generator(const struct mig_eval *e, const struct mig_call *c, unsigned line,
	char ***out, size_t *nout)
{
	const char *n = c->def->name;
	char **a;
	mig__expand_args(e->vars, c, &a);
	int rc = 0;
	if (!strcmp(n, "GenerateDrivePatterns")) {
		if (a[0] && a[1] && !strcasecmp(a[1], "Fixed")) {
			char **dl = NULL;
			size_t nd = 0;
			drives(e, &dl, &nd);
			for (size_t i = 0; i < nd; i++) {
				/* the segment is appended to "X:\" */
				const char *seg = c->args[0];
				push2(out, nout, dl[i], *seg == '\\' ? seg : "\\");
				if (*seg != '\\') {
					char *last = (*out)[*nout - 1];
					struct sbuf s = { 0 };
					sb_add(&s, last);
					sb_add(&s, seg);
					free(last);
					(*out)[*nout - 1] = sb_steal(&s);
				}
				free(dl[i]);
			}
			free(dl);
		}
		/* CDROM, Removable, Remote: never present in an offline scan */
	} else if (!strcmp(n, "GenerateDocPatterns")) {
		rc = gen_doc(e, a, c->nargs, out, nout);
	} else if (!strcmp(n, "GenerateUserPatterns")) {
		bool cur = c->nargs > 2 && a[2] && mig__parse_bool(a[2]) == 1;
		const char *profiles = mig_vars_get(e->vars, "WS_USER_PROFILES");
		const char *me = mig_vars_get(e->vars, "USERPROFILE");
		if (a[0] && !strcasecmp(a[0], "File") && profiles && c->args[1]) {
			char *t = mig__strdup(profiles);
			for (char *p = strtok(t, ";"); p; p = strtok(NULL, ";")) {
				if (!cur && me && !strcasecmp(p, me))
					continue;
				const char *pat = c->args[1];
				if (!strncasecmp(pat, "%USERPROFILE%", 13))
					push2(out, nout, p, pat + 13);
			}
			free(t);
		} else if (a[0] && strcasecmp(a[0], "File")) {
			mig__diag(e->diags, MIG_DIAG_UNSUPPORTED, e->file, line,
				"GenerateUserPatterns(\"%s\", ...) generates nothing yet (File only)", a[0]);
		}
	} else if (!strcmp(n, "GetStringContent")) {
		char *s = mig__string_content(e, a[0], a[1], c->nargs > 2 && a[2] && mig__parse_bool(a[2]) == 1);
		if (s)
			push(out, nout, s);
		free(s);
	} else {
		rc = -1;
	}
	mig__free_args(a, c->nargs);
	return rc;
}

/* ---------------------------------------------------------------- content filters */

/* Take the path out of a command line / value: quotes, separators, arguments. */
static char *
path_of(const struct mig_eval *e, const char *s, const char *seps)
{
	while (isspace((unsigned char)*s))
		s++;
	char *p;
	if (*s == '"') {
		const char *q = strchr(s + 1, '"');
		p = mig__strndup(s + 1, q ? (size_t)(q - s - 1) : strlen(s + 1));
	} else {
		size_t n = seps ? strcspn(s, seps) : strlen(s);
		p = mig__strndup(s, n);
	}
	/* ",0" icon indexes and trailing blanks */
	char *t = mig__trim(p);
	free(p);
	char *x = mig__vars_expand(e->vars, t, false, NULL);
	if (x) {
		free(t);
		t = x;
	}
	return t;
}

static void
add_file_if_exists(const struct mig_eval *e, const char *path, const char *hints,
	struct mig_found_list *out)
{
	const struct mig_rules_host *h = e->host;
	if (!*path || !h || !h->file_exists)
		return;
	char *cand = NULL;
	if (strchr(path, '\\')) {
		cand = mig__strdup(path);
	} else if (hints) {
		char *t = mig__strdup(hints);
		for (char *d = strtok(t, ";"); d && !cand; d = strtok(NULL, ";")) {
			char *x = mig__vars_expand(e->vars, d, false, NULL);
			char *j = join_path(x ? x : d, path);
			free(x);
			if (h->file_exists(h->opaque, j, NULL) == 1)
				cand = j;
			else
				free(j);
		}
		free(t);
	}
	if (!cand)
		return;
	int dir = 0;
	if (h->file_exists(h->opaque, cand, &dir) == 1) {
		char *bs = strrchr(cand, '\\');
		if (dir) {
			mig__found_add(out, MIG_OBJ_FILE, cand, NULL);
		} else if (bs) {
			*bs = 0;
			mig__found_add(out, MIG_OBJ_FILE, *cand ? cand : "\\", bs + 1);
		}
	}
	free(cand);
}

int
mig__eval_content(const struct mig_eval *e, const struct mig_call *c, unsigned line,
	const struct mig_found_list *in, struct mig_found_list *out)
{
	(void)line;
	const char *n = c->def->name;
	char **a;
	mig__expand_args(e->vars, c, &a);
	const char *seps = c->nargs > 0 ? a[0] : NULL;
	const char *hints = c->nargs > 1 ? a[1] : NULL;
	if (hints && !strcasecmp(hints, "NULL"))
		hints = NULL;
	const struct mig_rules_host *h = e->host;
	for (size_t i = 0; i < in->n; i++) {
		const struct mig_found *f = &in->v[i];
		if (f->type != MIG_OBJ_REGISTRY || !h || !h->reg_read)
			continue;
		unsigned rt;
		unsigned char *d = NULL;
		size_t len = 0;
		if (h->reg_read(h->opaque, f->node, f->leaf ? f->leaf : "", &rt, &d, &len) < 0)
			continue;
		char *s = NULL;
		if (!strcmp(n, "ExtractSingleFileAnsiBin"))
			s = mig__strndup((const char *)d, strnlen((const char *)d, len));
		else if (!strcmp(n, "ExtractSingleFileUnicodeBin"))
			s = fmt_utf16le_to_utf8(d, len);
		else
			s = reg_string(rt, d, len);
		free(d);
		if (!s)
			continue;
		if (!strcmp(n, "ExtractMultipleFiles")) {
			const char *sp = seps ? seps : ";";
			char *t = mig__strdup(s);
			for (char *tok = strtok(t, sp); tok; tok = strtok(NULL, sp)) {
				char *p = path_of(e, tok, NULL);
				add_file_if_exists(e, p, hints, out);
				free(p);
			}
			free(t);
		} else if (!strcmp(n, "ExtractDirectory")) {
			char *p = path_of(e, s, seps);
			long trim = c->nargs > 1 && a[1] ? strtol(a[1], NULL, 10) : 0;
			for (long k = 0; k < trim; k++) {
				char *bs = strrchr(p, '\\');
				if (!bs)
					break;
				*bs = 0;
			}
			if (*p) {
				if (c->nargs > 2 && a[2]) {
					struct sbuf b = { 0 };
					sb_add(&b, p);
					sb_add(&b, a[2]);
					char *nn, *ll;
					if (!split_obj(MIG_OBJ_FILE, b.p, &nn, &ll)) {
						mig__found_add(out, MIG_OBJ_FILE, nn, ll);
						free(nn);
						free(ll);
					}
					sb_free(&b);
				} else {
					char *nn = mig__norm_node(MIG_OBJ_FILE, p);
					mig__found_add(out, MIG_OBJ_FILE, nn, NULL);
					free(nn);
				}
			}
			free(p);
		} else {
			char *p = path_of(e, s, seps);
			add_file_if_exists(e, p, hints, out);
			free(p);
		}
		free(s);
	}
	mig__free_args(a, c->nargs);
	return 0;
}
