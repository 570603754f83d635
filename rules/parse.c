/*
 * Loading MigXML rule files: safe XML parsing (no network, no DTD, no
 * entities) and a full check of the language against our table of every
 * element and attribute of MigXML.xsd.  What we do not implement is
 * reported by name with file:line, never silently skipped; helper calls are
 * parsed and checked (known name, usable at that place, argument count).
 * The checked DOM is kept for mig_matcher_build (match.c / compile.c).
 */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/parser.h>

#include "rules/internal.h"

#define MAX_XML_BYTES (64u << 20)

/* ---------------------------------------------------------------- safe XML */

static bool
find_seq(const char *buf, size_t len, const char *needle, size_t step, int offset, size_t *at)
{
	size_t n = strlen(needle);
	if (len < n * step)
		return false;
	for (size_t i = 0; i + n * step <= len; i++) {
		size_t k = 0;
		for (; k < n; k++) {
			size_t pos = i + k * step + (size_t)offset;
			if (pos >= len || buf[pos] != needle[k])
				break;
			if (step == 2 && buf[i + k * 2 + (size_t)(1 - offset)] != 0)
				break;
		}
		if (k == n) {
			*at = i;
			return true;
		}
	}
	return false;
}

static unsigned
line_at(const char *buf, size_t at)
{
	unsigned line = 1;
	for (size_t i = 0; i < at; i++)
		line += buf[i] == '\n';
	return line;
}

xmlDocPtr
mig__xml_read(const char *name, const char *buf, size_t len, mig_diags *diags)
{
	if (len > MAX_XML_BYTES) {
		mig__diag(diags, MIG_DIAG_ERROR, name, 0, "file too large (%zu bytes, limit %u)", len,
			MAX_XML_BYTES);
		return NULL;
	}
	/* No DTD at all: it is the only way to declare entities (billion laughs,
	 * XXE), and MigXML never uses one.  Checked in UTF-8 and UTF-16. */
	static const char *const bad[] = { "<!DOCTYPE", "<!ENTITY" };
	for (int b = 0; b < 2; b++) {
		size_t at;
		if (find_seq(buf, len, bad[b], 1, 0, &at)) {
			mig__diag(diags, MIG_DIAG_ERROR, name, line_at(buf, at),
				"refused: %s declaration (DTDs and entities are not allowed in rule files)",
				bad[b] + 2);
			return NULL;
		}
		if (find_seq(buf, len, bad[b], 2, 0, &at) || find_seq(buf, len, bad[b], 2, 1, &at)) {
			mig__diag(diags, MIG_DIAG_ERROR, name, 0,
				"refused: %s declaration (DTDs and entities are not allowed in rule files)",
				bad[b] + 2);
			return NULL;
		}
	}
	xmlParserCtxtPtr ctxt = xmlNewParserCtxt();
	if (!ctxt) {
		mig__diag(diags, MIG_DIAG_ERROR, name, 0, "out of memory");
		return NULL;
	}
	/* No XML_PARSE_NOENT (no substitution), no DTDLOAD, no network. */
	int opts = XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING;
	xmlDocPtr doc = xmlCtxtReadMemory(ctxt, buf, (int)len, name, NULL, opts);
	if (!doc || !ctxt->wellFormed) {
		xmlErrorPtr e = xmlCtxtGetLastError(ctxt);
		char msg[512] = "not well-formed";
		if (e && e->message) {
			snprintf(msg, sizeof(msg), "%s", e->message);
			size_t n = strlen(msg);
			while (n && (msg[n - 1] == '\n' || msg[n - 1] == ' '))
				msg[--n] = 0;
		}
		mig__diag(diags, MIG_DIAG_ERROR, name, e ? (unsigned)e->line : 0, "malformed XML: %s",
			msg);
		if (doc)
			xmlFreeDoc(doc);
		xmlFreeParserCtxt(ctxt);
		return NULL;
	}
	xmlFreeParserCtxt(ctxt);
	if (doc->intSubset || doc->extSubset) {
		mig__diag(diags, MIG_DIAG_ERROR, name, 1, "refused: documents with a DTD are not allowed");
		xmlFreeDoc(doc);
		return NULL;
	}
	return doc;
}

char *
mig__read_file(const char *path, size_t *len, mig_diags *diags)
{
	FILE *f = fopen(path, "rb");
	if (!f) {
		mig__diag(diags, MIG_DIAG_ERROR, path, 0, "cannot open: %s", strerror(errno));
		return NULL;
	}
	struct sbuf s = { 0 };
	char tmp[65536];
	size_t n;
	while ((n = fread(tmp, 1, sizeof(tmp), f)) > 0) {
		sb_addn(&s, tmp, n);
		if (s.n > MAX_XML_BYTES)
			break;
	}
	bool err = ferror(f);
	fclose(f);
	if (err) {
		mig__diag(diags, MIG_DIAG_ERROR, path, 0, "read error");
		sb_free(&s);
		return NULL;
	}
	*len = s.n;
	return sb_steal(&s);
}

/* ---------------------------------------------------------------- DOM helpers */

bool
mig__is(xmlNodePtr n, const char *name)
{
	return n && n->type == XML_ELEMENT_NODE && !strcmp((const char *)n->name, name);
}

char *
mig__attr(xmlNodePtr n, const char *name)
{
	for (xmlAttrPtr a = n->properties; a; a = a->next) {
		if (!strcasecmp((const char *)a->name, name)) {
			xmlChar *v = xmlNodeListGetString(n->doc, a->children, 1);
			char *r = mig__strdup(v ? (const char *)v : "");
			xmlFree(v);
			return r;
		}
	}
	return NULL;
}

char *
mig__text(xmlNodePtr n)
{
	xmlChar *v = xmlNodeGetContent(n);
	char *r = mig__trim(v ? (const char *)v : "");
	xmlFree(v);
	return r;
}

unsigned
mig__line(xmlNodePtr n)
{
	long l = xmlGetLineNo(n);
	return l > 0 ? (unsigned)l : 0;
}

bool
mig__is_ref(xmlNodePtr n)
{
	char *name = mig__attr(n, "name");
	if (!name)
		return false;
	free(name);
	for (xmlNodePtr c = n->children; c; c = c->next)
		if (c->type == XML_ELEMENT_NODE)
			return false;
	return true;
}

xmlNodePtr
mig__named(xmlNodePtr root, const char *elem, const char *name)
{
	for (xmlNodePtr ne = root->children; ne; ne = ne->next) {
		if (!mig__is(ne, "namedElements"))
			continue;
		for (xmlNodePtr c = ne->children; c; c = c->next) {
			if (!mig__is(c, elem))
				continue;
			char *nm = mig__attr(c, "name");
			bool hit = nm && !strcasecmp(nm, name);
			free(nm);
			if (hit)
				return c;
		}
	}
	return NULL;
}

/* ---------------------------------------------------------------- the language */

enum support { SUP_YES, SUP_UNSUPPORTED };

struct elem_def {
	const char *name;
	const char *attrs;      /* space-separated, NULL = none */
	const char *children;   /* space-separated, NULL = text only / empty */
	enum support sup;
	const char *why;        /* for unsupported elements */
};

static const struct elem_def elems[] = {
	{ "migration", "urlid", "library _locDefinition namedElements component", SUP_YES, NULL },
	{ "library", "prefix", NULL, SUP_YES, NULL },
	{ "_locDefinition", NULL, "_locDefault _locTag", SUP_YES, NULL },
	{ "_locDefault", "_loc", NULL, SUP_YES, NULL },
	{ "_locTag", "_loc", NULL, SUP_YES, NULL },
	{ "namedElements", "name", "detect detects environment rules detection conditions", SUP_YES, NULL },
	{ "component", "type context defaultSupported hidden",
		"displayName manufacturer version description icon paths environment role extensions",
		SUP_YES, NULL },
	{ "displayName", "_locID", NULL, SUP_YES, NULL },
	{ "manufacturer", NULL, NULL, SUP_YES, NULL },
	{ "version", NULL, NULL, SUP_YES, NULL },
	{ "description", NULL, NULL, SUP_YES, NULL },
	{ "icon", NULL, NULL, SUP_YES, NULL },
	{ "paths", NULL, "path", SUP_YES, NULL },
	{ "path", "type", NULL, SUP_YES, NULL },
	{ "extensions", NULL, "extension", SUP_YES, NULL },
	{ "extension", NULL, NULL, SUP_YES, NULL },
	/* destinationCleanup directly in a role is not in MigXML.xsd but the stock
	 * MigApp.xml has one (Google Chrome): honoured as if inside <rules>. */
	{ "role", "role", "detects detection environment rules component supportedComponents plugin "
		"destinationCleanup",
		SUP_YES, NULL },
	{ "rules", "name context",
		"conditions detects include exclude includeAttributes excludeAttributes "
		"unconditionalExclude merge windowsObjects locationModify contentModify "
		"destinationCleanup addObjects externalProcess processing rules", SUP_YES, NULL },
	{ "include", "filter", "objectSet", SUP_YES, NULL },
	{ "exclude", "filter", "objectSet", SUP_YES, NULL },
	{ "unconditionalExclude", "filter", "objectSet", SUP_YES, NULL },
	{ "destinationCleanup", "filter", "objectSet", SUP_YES, NULL },
	{ "includeAttributes", "attributes", "objectSet", SUP_YES, NULL },
	{ "excludeAttributes", "attributes", "objectSet", SUP_YES, NULL },
	{ "merge", "script", "objectSet", SUP_YES, NULL },
	{ "locationModify", "script", "objectSet", SUP_YES, NULL },
	{ "contentModify", "script", "objectSet", SUP_YES, NULL },
	{ "addObjects", NULL, "condition conditions script object", SUP_YES, NULL },
	{ "object", NULL, "location attributes bytes", SUP_YES, NULL },
	{ "location", "type", NULL, SUP_YES, NULL },
	{ "attributes", NULL, NULL, SUP_YES, NULL },
	{ "bytes", "string expand", NULL, SUP_YES, NULL },
	{ "objectSet", NULL, "condition conditions script pattern content", SUP_YES, NULL },
	{ "pattern", "type", NULL, SUP_YES, NULL },
	{ "content", "filter", "objectSet", SUP_YES, NULL },
	{ "script", NULL, NULL, SUP_YES, NULL },
	{ "condition", "negation", NULL, SUP_YES, NULL },
	{ "conditions", "name operation", "condition conditions", SUP_YES, NULL },
	{ "detect", "name context", "condition objectSet", SUP_YES, NULL },
	{ "detects", "name context", "detect", SUP_YES, NULL },
	{ "detection", "name context", "conditions", SUP_YES, NULL },
	{ "environment", "name context", "conditions variable", SUP_YES, NULL },
	{ "variable", "name remap", "objectSet text script", SUP_YES, NULL },
	{ "text", NULL, NULL, SUP_YES, NULL },
	{ "commandLine", NULL, NULL, SUP_YES, NULL },
	{ "externalProcess", "when", "commandLine", SUP_UNSUPPORTED,
		"winstate never runs external commands (offline)" },
	{ "processing", "when", "script", SUP_UNSUPPORTED,
		"processing scripts are not run by winstate" },
	{ "windowsObjects", "filter", "objectSet", SUP_UNSUPPORTED,
		"internal element of Windows manifests" },
	{ "supportedComponents", NULL, "supportedComponent", SUP_UNSUPPORTED,
		"internal element of Windows manifests" },
	{ "supportedComponent", "id rules", "version rules", SUP_UNSUPPORTED,
		"internal element of Windows manifests" },
	{ "plugin", "file classId offlineApply", NULL, SUP_UNSUPPORTED,
		"plugins are Windows DLLs and cannot run here" },
};

static const struct elem_def *
find_elem(const char *name)
{
	for (size_t i = 0; i < sizeof(elems) / sizeof(elems[0]); i++)
		if (!strcmp(elems[i].name, name))
			return &elems[i];
	return NULL;
}

static bool
in_list(const char *list, const char *word, bool icase)
{
	if (!list)
		return false;
	size_t n = strlen(word);
	for (const char *p = list; *p;) {
		while (*p == ' ')
			p++;
		const char *e = p;
		while (*e && *e != ' ')
			e++;
		if ((size_t)(e - p) == n && (icase ? !strncasecmp(p, word, n) : !strncmp(p, word, n)))
			return true;
		p = e;
	}
	return false;
}

struct chk {
	const char *file;
	mig_diags *diags;
	int errors;
};

static void
err(struct chk *k, xmlNodePtr n, const char *fmt, const char *a, const char *b)
{
	mig__diag(k->diags, MIG_DIAG_ERROR, k->file, mig__line(n), fmt, a, b);
	k->errors++;
}

static void
check_enum(struct chk *k, xmlNodePtr n, const char *attr, const char *allowed)
{
	char *v = mig__attr(n, attr);
	if (v) {
		char *t = mig__trim(v);
		if (!in_list(allowed, t, true)) {
			struct sbuf s = { 0 };
			sb_fmt(&s, "<%s %s=\"%s\">: expected one of: %s", (const char *)n->name, attr, t,
				allowed);
			mig__diag(k->diags, MIG_DIAG_ERROR, k->file, mig__line(n), "%s", s.p);
			k->errors++;
			sb_free(&s);
		}
		free(t);
	}
	free(v);
}

static void
check_bool(struct chk *k, xmlNodePtr n, const char *attr)
{
	char *v = mig__attr(n, attr);
	if (v && mig__parse_bool(v) < 0)
		err(k, n, "attribute %s=\"%s\" is not a boolean (TRUE/FALSE, Yes/No, 1/0)", attr, v);
	free(v);
}

static void
check_call(struct chk *k, xmlNodePtr n, const char *text, unsigned use)
{
	struct mig_call c;
	if (mig__call_check(text, use, &c, k->diags, k->file, mig__line(n)) < 0)
		k->errors++;
	else
		mig__call_free(&c);
}

static void
check_attr_call(struct chk *k, xmlNodePtr n, const char *attr, unsigned use, bool required)
{
	char *v = mig__attr(n, attr);
	if (!v) {
		if (required)
			err(k, n, "<%s> needs a %s= attribute", (const char *)n->name, attr);
		return;
	}
	check_call(k, n, v, use);
	free(v);
}

static void
check_pattern(struct chk *k, xmlNodePtr n, const char *typeattr)
{
	char *type = mig__attr(n, typeattr);
	char *text = mig__text(n);
	if (!type)
		err(k, n, "<%s> needs a type= attribute (File, Registry or Ini)", (const char *)n->name, "");
	else if (!in_list("File Registry Ini", type, true))
		err(k, n, "unknown pattern type '%s'%s (expected File, Registry or Ini)", type, "");
	if (!*text) {
		err(k, n, "empty <%s>%s", (const char *)n->name, "");
	} else {
		char *node, *leaf;
		if (mig__loc_split(text, &node, &leaf) < 0)
			err(k, n, "bad location '%s'%s: brackets must enclose the leaf at the end "
				"(escape [ and ] in names with ^)", text, "");
		free(node);
		free(leaf);
	}
	free(type);
	free(text);
}

static void check_elem(struct chk *k, xmlNodePtr n, xmlNodePtr parent);

static void
check_children(struct chk *k, xmlNodePtr n, const struct elem_def *d)
{
	for (xmlNodePtr c = n->children; c; c = c->next) {
		if (c->type == XML_ELEMENT_NODE) {
			if (!in_list(d->children, (const char *)c->name, false)) {
				const struct elem_def *cd = find_elem((const char *)c->name);
				if (cd)
					mig__diag(k->diags, MIG_DIAG_UNSUPPORTED, k->file, mig__line(c),
						"element <%s> is not allowed inside <%s>: ignored",
						(const char *)c->name, (const char *)n->name);
				else
					mig__diag(k->diags, MIG_DIAG_UNSUPPORTED, k->file, mig__line(c),
						"unknown element <%s> inside <%s>: not supported, ignored",
						(const char *)c->name, (const char *)n->name);
				continue;
			}
			check_elem(k, c, n);
		} else if (c->type == XML_ENTITY_REF_NODE) {
			err(k, c, "entity reference &%s; is not allowed%s", (const char *)c->name, "");
		}
	}
}

static void
check_elem(struct chk *k, xmlNodePtr n, xmlNodePtr parent)
{
	const char *name = (const char *)n->name;
	const struct elem_def *d = find_elem(name);
	if (!d) {
		mig__diag(k->diags, MIG_DIAG_UNSUPPORTED, k->file, mig__line(n),
			"unknown element <%s>: not supported, ignored", name);
		return;
	}
	if (d->sup == SUP_UNSUPPORTED) {
		mig__diag(k->diags, MIG_DIAG_UNSUPPORTED, k->file, mig__line(n),
			"<%s> is not supported (%s): ignored", name, d->why);
		return;
	}
	for (xmlAttrPtr a = n->properties; a; a = a->next) {
		if (a->ns)       /* xml:space, xmlns:* ... */
			continue;
		if (!in_list(d->attrs, (const char *)a->name, true))
			mig__diag(k->diags, MIG_DIAG_UNSUPPORTED, k->file, mig__line(n),
				"unknown attribute %s= on <%s>: not supported, ignored",
				(const char *)a->name, name);
	}
	/* attribute values and helper calls */
	if (!strcmp(name, "component")) {
		check_enum(k, n, "type", "System Application Device Documents");
		char *t = mig__attr(n, "type");
		if (!t)
			err(k, n, "<component> needs a type= attribute%s%s", "", "");
		free(t);
		check_enum(k, n, "context", "User System UserAndSystem");
		check_bool(k, n, "defaultSupported");
		check_bool(k, n, "hidden");
		bool has_dn = false;
		for (xmlNodePtr c = n->children; c; c = c->next)
			has_dn |= mig__is(c, "displayName");
		if (!has_dn)
			mig__diag(k->diags, MIG_DIAG_WARNING, k->file, mig__line(n),
				"<component> without <displayName>: it cannot be named in Config.xml");
	} else if (!strcmp(name, "role")) {
		check_enum(k, n, "role", "Container Binaries Settings Data");
		char *t = mig__attr(n, "role");
		if (!t)
			err(k, n, "<role> needs a role= attribute%s%s", "", "");
		free(t);
	} else if (!strcmp(name, "rules") || !strcmp(name, "detect") || !strcmp(name, "detects") ||
		!strcmp(name, "detection") || !strcmp(name, "environment")) {
		check_enum(k, n, "context", "User System UserAndSystem");
		if (mig__is_ref(n) && !mig__is(parent, "namedElements")) {
			char *nm = mig__attr(n, "name");
			xmlNodePtr def = mig__named(xmlDocGetRootElement(n->doc), name, nm);
			if (!def)
				err(k, n, "<%s name=\"%s\"> refers to nothing in <namedElements>", name, nm);
			free(nm);
		}
	} else if (!strcmp(name, "conditions")) {
		check_enum(k, n, "operation", "AND OR");
	} else if (!strcmp(name, "condition")) {
		check_bool(k, n, "negation");
		char *t = mig__text(n);
		check_call(k, n, t, H_COND);
		free(t);
	} else if (!strcmp(name, "script")) {
		char *t = mig__text(n);
		unsigned use = mig__is(parent, "variable") ? H_STR :
			mig__is(parent, "processing") ? H_PROC : H_GEN;
		check_call(k, n, t, use);
		free(t);
	} else if (!strcmp(name, "include") || !strcmp(name, "exclude") ||
		!strcmp(name, "unconditionalExclude")) {
		check_attr_call(k, n, "filter", H_FILTER, false);
	} else if (!strcmp(name, "destinationCleanup")) {
		check_attr_call(k, n, "filter", H_CLEANUP | H_FILTER, false);
	} else if (!strcmp(name, "merge")) {
		check_attr_call(k, n, "script", H_MERGE, true);
	} else if (!strcmp(name, "locationModify")) {
		check_attr_call(k, n, "script", H_LOCMOD, true);
	} else if (!strcmp(name, "contentModify")) {
		check_attr_call(k, n, "script", H_CONTMOD, true);
	} else if (!strcmp(name, "content")) {
		check_attr_call(k, n, "filter", H_CONTENT, true);
	} else if (!strcmp(name, "includeAttributes") || !strcmp(name, "excludeAttributes")) {
		char *v = mig__attr(n, "attributes");
		if (!v) {
			err(k, n, "<%s> needs attributes=\"Security|TimeFields|Security,TimeFields\"%s",
				name, "");
		} else {
			char *t = mig__strdup(v);
			for (char *tok = strtok(t, ", "); tok; tok = strtok(NULL, ", "))
				if (strcasecmp(tok, "Security") && strcasecmp(tok, "TimeFields"))
					err(k, n, "unknown attribute class '%s'%s (Security, TimeFields)", tok, "");
			free(t);
		}
		free(v);
	} else if (!strcmp(name, "pattern")) {
		check_pattern(k, n, "type");
	} else if (!strcmp(name, "location")) {
		check_pattern(k, n, "type");
	} else if (!strcmp(name, "path")) {
		check_enum(k, n, "type", "File Registry Ini");
	} else if (!strcmp(name, "bytes")) {
		check_bool(k, n, "string");
		check_bool(k, n, "expand");
		char *s = mig__attr(n, "string");
		if (!s || mig__parse_bool(s) != 1) {
			char *t = mig__text(n);
			for (const char *p = t; *p; p++)
				if (!isxdigit((unsigned char)*p) && !isspace((unsigned char)*p)) {
					err(k, n, "<bytes> '%s' is not hexadecimal (use string=\"Yes\" for text)%s",
						t, "");
					break;
				}
			free(t);
		}
		free(s);
	} else if (!strcmp(name, "variable")) {
		check_bool(k, n, "remap");
		char *nm = mig__attr(n, "name");
		if (!nm || !*nm)
			err(k, n, "<variable> needs a name=%s%s", "", "");
		free(nm);
	} else if (!strcmp(name, "extension")) {
		char *t = mig__text(n);
		if (!*t || strchr(t, '\\'))
			err(k, n, "bad <extension> '%s'%s", t, "");
		free(t);
	}
	if (d->children)
		check_children(k, n, d);
}

/* ---------------------------------------------------------------- ruleset */

mig_ruleset *
mig_ruleset_new(void)
{
	mig_ruleset *rs = mig__xmalloc(sizeof(*rs));
	memset(rs, 0, sizeof(*rs));
	return rs;
}

void
mig_ruleset_free(mig_ruleset *rs)
{
	if (!rs)
		return;
	for (size_t i = 0; i < rs->nfiles; i++) {
		free(rs->files[i].path);
		free(rs->files[i].urlid);
		xmlFreeDoc(rs->files[i].doc);
	}
	for (size_t i = 0; i < rs->ncomps; i++) {
		free((char *)rs->comps[i].info.display_name);
		free((char *)rs->comps[i].info.id);
		free((char *)rs->comps[i].info.type);
		free((char *)rs->comps[i].info.context);
	}
	for (size_t i = 0; i < rs->nignored; i++) {
		free((char *)rs->ignored[i].path);
		free((char *)rs->ignored[i].urlid);
		free((char *)rs->ignored[i].kept);
	}
	free(rs->ignored);
	free(rs->files);
	free(rs->comps);
	free(rs);
}

size_t
mig_ruleset_file_count(const mig_ruleset *rs)
{
	return rs ? rs->nfiles : 0;
}

size_t
mig_ruleset_ignored_count(const mig_ruleset *rs)
{
	return rs ? rs->nignored : 0;
}

const struct mig_ignored_file *
mig_ruleset_ignored(const mig_ruleset *rs, size_t i)
{
	return rs && i < rs->nignored ? &rs->ignored[i] : NULL;
}

size_t
mig_ruleset_component_count(const mig_ruleset *rs)
{
	return rs ? rs->ncomps : 0;
}

const struct mig_component_info *
mig_ruleset_component(const mig_ruleset *rs, size_t i)
{
	return i < rs->ncomps ? &rs->comps[i].info : NULL;
}

static char *
lower_dup(const char *s)
{
	struct sbuf b = { 0 };
	mig__fold(s, strlen(s), &b);
	return sb_steal(&b);
}

static void
add_components(mig_ruleset *rs, size_t file, xmlNodePtr parent_elem, ssize_t parent, int depth)
{
	for (xmlNodePtr c = parent_elem->children; c; c = c->next) {
		if (!mig__is(c, "component"))
			continue;
		char *dn = NULL, *role = NULL;
		for (xmlNodePtr x = c->children; x; x = x->next) {
			if (mig__is(x, "displayName") && !dn)
				dn = mig__text(x);
			if (mig__is(x, "role") && !role)
				role = mig__attr(x, "role");
		}
		if (!dn)
			dn = mig__strdup("");
		if (!role)
			role = mig__strdup("");
		struct sbuf id = { 0 };
		char *ldn = lower_dup(dn), *lrole = lower_dup(role);
		sb_fmt(&id, "%s/%s/%s", rs->files[file].urlid, ldn, lrole);
		free(ldn);
		free(lrole);
		free(role);
		rs->comps = mig__xrealloc(rs->comps, (rs->ncomps + 1) * sizeof(*rs->comps));
		struct mig_comp *wc = &rs->comps[rs->ncomps];
		memset(wc, 0, sizeof(*wc));
		char *type = mig__attr(c, "type"), *ctx = mig__attr(c, "context"),
			*hidden = mig__attr(c, "hidden");
		wc->info.display_name = dn;
		wc->info.id = sb_steal(&id);
		wc->info.type = type ? type : mig__strdup("");
		wc->info.context = ctx ? ctx : mig__strdup("UserAndSystem");
		wc->info.file = rs->files[file].path;
		wc->info.line = mig__line(c);
		wc->info.depth = depth;
		wc->info.hidden = hidden && mig__parse_bool(hidden) == 1;
		free(hidden);
		wc->node = c;
		wc->file = file;
		wc->parent = parent;
		ssize_t me = (ssize_t)rs->ncomps++;
		for (xmlNodePtr r = c->children; r; r = r->next)
			if (mig__is(r, "role"))
				add_components(rs, file, r, me, depth + 1);
	}
}

int
mig_ruleset_load_memory(mig_ruleset *rs, const char *name, const char *buf, size_t len,
	mig_diags *diags)
{
	xmlDocPtr doc = mig__xml_read(name, buf, len, diags);
	if (!doc)
		return -1;
	xmlNodePtr root = xmlDocGetRootElement(doc);
	if (!root || !mig__is(root, "migration")) {
		mig__diag(diags, MIG_DIAG_ERROR, name, root ? mig__line(root) : 0,
			"not a MigXML rule file: root element is <%s>, expected <migration>%s",
			root ? (const char *)root->name : "(none)",
			root && mig__is(root, "Configuration") ? " (this is a Config.xml: use --config)" : "");
		xmlFreeDoc(doc);
		return -1;
	}
	char *urlid = mig__attr(root, "urlid");
	if (!urlid || !*urlid) {
		mig__diag(diags, MIG_DIAG_ERROR, name, mig__line(root), "<migration> needs a urlid=");
		free(urlid);
		xmlFreeDoc(doc);
		return -1;
	}
	for (size_t i = 0; i < rs->nfiles; i++) {
		if (!strcasecmp(rs->files[i].urlid, urlid)) {
			mig__diag(diags, MIG_DIAG_WARNING, name, mig__line(root),
				"urlid '%s' already loaded from %s: this file is ignored (as USMT does)",
				urlid, rs->files[i].path);
			rs->ignored = mig__xrealloc(rs->ignored, (rs->nignored + 1) * sizeof(*rs->ignored));
			rs->ignored[rs->nignored++] = (struct mig_ignored_file){ mig__strdup(name),
				mig__line(root), urlid, mig__strdup(rs->files[i].path) };
			urlid = NULL;
			xmlFreeDoc(doc);
			return 0;
		}
	}
	struct chk k = { name, diags, 0 };
	check_elem(&k, root, NULL);
	if (k.errors) {
		free(urlid);
		xmlFreeDoc(doc);
		return -1;
	}
	rs->files = mig__xrealloc(rs->files, (rs->nfiles + 1) * sizeof(*rs->files));
	rs->files[rs->nfiles] = (struct mig_rfile){ mig__strdup(name), urlid, doc, root };
	rs->nfiles++;
	add_components(rs, rs->nfiles - 1, root, -1, 0);
	return 0;
}

int
mig_ruleset_load(mig_ruleset *rs, const char *path, mig_diags *diags)
{
	size_t len;
	char *buf = mig__read_file(path, &len, diags);
	if (!buf)
		return -1;
	int r = mig_ruleset_load_memory(rs, path, buf, len, diags);
	free(buf);
	return r;
}
