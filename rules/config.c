/*
 * Config.xml: which components migrate (migrate="yes|no", nested groups),
 * <Policies><ErrorControl> and <HardLinkStoreControl> pattern lists, and
 * <ProfileControl> domain/user mappings (localGroups is reported as not
 * supported).  Also the /genconfig writer: a Config.xml listing the
 * components of a rule set in the same structure ScanState produces.
 */
#include <stdlib.h>
#include <string.h>

#include "rules/internal.h"

struct cfg_comp {
	char *id, *dn;
	int enabled;           /* effective: 0 if itself or a parent says no */
};

struct cfg_pat {
	enum mig_obj_type type;
	struct mig_pat p;
	int action;
	bool any_code;
	unsigned code;
};

struct pair {
	char *from, *to;
};

struct mig_config {
	struct cfg_comp *comps;
	size_t ncomps;
	struct cfg_pat *errs;
	size_t nerrs;
	struct cfg_pat *hls;
	size_t nhls;
	struct pair *domains, *users;
	size_t ndomains, nusers;
};

struct cctx {
	mig_config *c;
	const char *file;
	mig_diags *diags;
	int errors;
};

static void
unsupported(struct cctx *k, xmlNodePtr n, xmlNodePtr parent)
{
	mig__diag(k->diags, MIG_DIAG_UNSUPPORTED, k->file, mig__line(n),
		"unknown element <%s> inside <%s>: not supported, ignored", (const char *)n->name,
		(const char *)parent->name);
}

static void
check_attrs(struct cctx *k, xmlNodePtr n, const char *allowed)
{
	for (xmlAttrPtr a = n->properties; a; a = a->next) {
		char want[64];
		snprintf(want, sizeof(want), " %s ", (const char *)a->name);
		struct sbuf s = { 0 };
		sb_fmt(&s, " %s ", allowed);
		if (!strstr(s.p, want))
			mig__diag(k->diags, MIG_DIAG_UNSUPPORTED, k->file, mig__line(n),
				"unknown attribute %s= on <%s>: not supported, ignored",
				(const char *)a->name, (const char *)n->name);
		sb_free(&s);
	}
}

static void
components(struct cctx *k, xmlNodePtr parent, int parent_enabled)
{
	for (xmlNodePtr n = parent->children; n; n = n->next) {
		if (n->type != XML_ELEMENT_NODE)
			continue;
		if (!mig__is(n, "component")) {
			unsupported(k, n, parent);
			continue;
		}
		check_attrs(k, n, "displayname migrate ID");
		char *mig = mig__attr(n, "migrate");
		int en = 1;
		if (mig) {
			int b = mig__parse_bool(mig);
			if (b < 0) {
				mig__diag(k->diags, MIG_DIAG_ERROR, k->file, mig__line(n),
					"migrate=\"%s\": expected yes or no", mig);
				k->errors++;
			} else {
				en = b;
			}
		}
		free(mig);
		mig_config *c = k->c;
		c->comps = mig__xrealloc(c->comps, (c->ncomps + 1) * sizeof(*c->comps));
		c->comps[c->ncomps++] = (struct cfg_comp){ mig__attr(n, "ID"), mig__attr(n, "displayname"),
			en && parent_enabled };
		components(k, n, en && parent_enabled);
	}
}

static void
add_pat(struct cctx *k, xmlNodePtr n, enum mig_obj_type type, int action, bool err_list)
{
	char *text = mig__text(n);
	struct cfg_pat cp = { .type = type, .action = action, .any_code = true };
	if (err_list) {
		char *code = mig__attr(n, "errorCode");
		if (code && strcasecmp(code, "any")) {
			char *end;
			unsigned long v = strtoul(code, &end, 0);
			if (*end || !*code) {
				mig__diag(k->diags, MIG_DIAG_ERROR, k->file, mig__line(n),
					"errorCode=\"%s\": expected a number or \"any\"", code);
				k->errors++;
			}
			cp.any_code = false;
			cp.code = (unsigned)v;
		}
		free(code);
		check_attrs(k, n, "errorCode");
	} else {
		check_attrs(k, n, "");
	}
	/* ErrorControl only knows the current OS's variables: expand what we can */
	mig_vars *v = mig_vars_new();
	char *x = mig__vars_expand(v, text, true, NULL);
	mig_vars_free(v);
	char err[512];
	if (!x) {
		mig__diag(k->diags, MIG_DIAG_WARNING, k->file, mig__line(n),
			"pattern '%s' uses a variable: never matches (use * instead)", text);
	} else if (mig__pat_compile(type, x, &cp.p, err, sizeof(err)) < 0) {
		mig__diag(k->diags, MIG_DIAG_ERROR, k->file, mig__line(n), "%s", err);
		k->errors++;
	} else {
		mig_config *c = k->c;
		struct cfg_pat **list = err_list ? &c->errs : &c->hls;
		size_t *cnt = err_list ? &c->nerrs : &c->nhls;
		*list = mig__xrealloc(*list, (*cnt + 1) * sizeof(**list));
		(*list)[(*cnt)++] = cp;
	}
	free(x);
	free(text);
}

static void
policies(struct cctx *k, xmlNodePtr pol)
{
	for (xmlNodePtr n = pol->children; n; n = n->next) {
		if (n->type != XML_ELEMENT_NODE)
			continue;
		if (mig__is(n, "ErrorControl")) {
			for (xmlNodePtr t = n->children; t; t = t->next) {
				if (t->type != XML_ELEMENT_NODE)
					continue;
				bool file = mig__is(t, "fileError"), reg = mig__is(t, "registryError");
				if (!file && !reg) {
					unsupported(k, t, n);
					continue;
				}
				for (xmlNodePtr e = t->children; e; e = e->next) {
					if (e->type != XML_ELEMENT_NODE)
						continue;
					if (mig__is(e, "nonFatal") || mig__is(e, "fatal"))
						add_pat(k, e, file ? MIG_OBJ_FILE : MIG_OBJ_REGISTRY,
							mig__is(e, "fatal") ? MIG_ERR_FATAL : MIG_ERR_NONFATAL, true);
					else
						unsupported(k, e, t);
				}
			}
		} else if (mig__is(n, "HardLinkStoreControl")) {
			for (xmlNodePtr t = n->children; t; t = t->next) {
				if (t->type != XML_ELEMENT_NODE)
					continue;
				if (!mig__is(t, "fileLocked")) {
					unsupported(k, t, n);
					continue;
				}
				for (xmlNodePtr e = t->children; e; e = e->next) {
					if (e->type != XML_ELEMENT_NODE)
						continue;
					if (mig__is(e, "createHardLink") || mig__is(e, "errorHardLink"))
						add_pat(k, e, MIG_OBJ_FILE,
							mig__is(e, "createHardLink") ? MIG_HL_CREATE : MIG_HL_ERROR, false);
					else
						unsupported(k, e, t);
				}
			}
		} else {
			unsupported(k, n, pol);
		}
	}
}

static void
mappings(struct cctx *k, xmlNodePtr n, const char *child, struct pair **list, size_t *cnt)
{
	for (xmlNodePtr e = n->children; e; e = e->next) {
		if (e->type != XML_ELEMENT_NODE)
			continue;
		if (!mig__is(e, child)) {
			unsupported(k, e, n);
			continue;
		}
		check_attrs(k, e, "from to");
		char *from = mig__attr(e, "from"), *to = mig__attr(e, "to");
		if (!from || !to) {
			mig__diag(k->diags, MIG_DIAG_ERROR, k->file, mig__line(e), "<%s> needs from= and to=",
				child);
			k->errors++;
			free(from);
			free(to);
			continue;
		}
		*list = mig__xrealloc(*list, (*cnt + 1) * sizeof(**list));
		(*list)[(*cnt)++] = (struct pair){ from, to };
	}
}

mig_config *
mig_config_load_memory(const char *name, const char *buf, size_t len, mig_diags *diags)
{
	xmlDocPtr doc = mig__xml_read(name, buf, len, diags);
	if (!doc)
		return NULL;
	xmlNodePtr root = xmlDocGetRootElement(doc);
	if (!mig__is(root, "Configuration")) {
		mig__diag(diags, MIG_DIAG_ERROR, name, root ? mig__line(root) : 0,
			"not a Config.xml: root element is <%s>, expected <Configuration>",
			root ? (const char *)root->name : "(none)");
		xmlFreeDoc(doc);
		return NULL;
	}
	mig_config *c = mig__xmalloc(sizeof(*c));
	memset(c, 0, sizeof(*c));
	struct cctx k = { c, name, diags, 0 };
	for (xmlNodePtr n = root->children; n; n = n->next) {
		if (n->type != XML_ELEMENT_NODE)
			continue;
		if (mig__is(n, "Applications") || mig__is(n, "Documents") || mig__is(n, "WindowsComponents")) {
			components(&k, n, 1);
		} else if (mig__is(n, "Policies")) {
			policies(&k, n);
		} else if (mig__is(n, "ProfileControl")) {
			for (xmlNodePtr p = n->children; p; p = p->next) {
				if (p->type != XML_ELEMENT_NODE)
					continue;
				if (mig__is(p, "domains"))
					mappings(&k, p, "domain", &c->domains, &c->ndomains);
				else if (mig__is(p, "users"))
					mappings(&k, p, "user", &c->users, &c->nusers);
				else if (mig__is(p, "localGroups"))
					mig__diag(diags, MIG_DIAG_UNSUPPORTED, name, mig__line(p),
						"<localGroups> (group membership changes) is not supported: ignored");
				else
					unsupported(&k, p, n);
			}
		} else {
			unsupported(&k, n, root);
		}
	}
	xmlFreeDoc(doc);
	if (k.errors) {
		mig_config_free(c);
		return NULL;
	}
	return c;
}

mig_config *
mig_config_load(const char *path, mig_diags *diags)
{
	size_t len;
	char *buf = mig__read_file(path, &len, diags);
	if (!buf)
		return NULL;
	mig_config *c = mig_config_load_memory(path, buf, len, diags);
	free(buf);
	return c;
}

void
mig_config_free(mig_config *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < c->ncomps; i++) {
		free(c->comps[i].id);
		free(c->comps[i].dn);
	}
	for (size_t i = 0; i < c->nerrs; i++)
		mig__pat_free(&c->errs[i].p);
	for (size_t i = 0; i < c->nhls; i++)
		mig__pat_free(&c->hls[i].p);
	for (size_t i = 0; i < c->ndomains; i++) {
		free(c->domains[i].from);
		free(c->domains[i].to);
	}
	for (size_t i = 0; i < c->nusers; i++) {
		free(c->users[i].from);
		free(c->users[i].to);
	}
	free(c->comps);
	free(c->errs);
	free(c->hls);
	free(c->domains);
	free(c->users);
	free(c);
}

int
mig_config_component_enabled(const mig_config *c, const char *id, const char *display_name)
{
	if (!c)
		return -1;
	for (size_t i = 0; i < c->ncomps; i++)
		if (id && c->comps[i].id && mig__ieq(c->comps[i].id, id))
			return c->comps[i].enabled;
	for (size_t i = 0; i < c->ncomps; i++)
		if (display_name && !c->comps[i].id && c->comps[i].dn &&
			mig__ieq(c->comps[i].dn, display_name))
			return c->comps[i].enabled;
	return -1;
}

static int
first_match(const struct cfg_pat *list, size_t n, enum mig_obj_type type, const char *node,
	const char *leaf, bool check_code, unsigned code)
{
	char *fn, *fl;
	mig__obj_fold(type, node, leaf, &fn, &fl);
	int act = 0;
	for (size_t i = 0; i < n && !act; i++) {
		const struct cfg_pat *p = &list[i];
		if (p->type != type || (check_code && !p->any_code && p->code != code))
			continue;
		/* "* [*]" also covers containers: their leaf test is skipped */
		bool ok = fl || !p->p.leaf ? mig__pat_match(&p->p, fn, strlen(fn), fl, fl ? strlen(fl) : 0)
			: mig__node_match(p->p.node, p->p.node_len, fn, strlen(fn));
		if (ok)
			act = p->action;
	}
	free(fn);
	free(fl);
	return act;
}

enum mig_error_action
mig_config_error_action(const mig_config *c, enum mig_obj_type type, const char *node,
	const char *leaf, unsigned error_code)
{
	if (!c || !node)
		return MIG_ERR_DEFAULT;
	return (enum mig_error_action)first_match(c->errs, c->nerrs, type, node, leaf, true,
		error_code);
}

enum mig_hardlink_action
mig_config_hardlink_action(const mig_config *c, const char *node, const char *leaf)
{
	if (!c || !node)
		return MIG_HL_DEFAULT;
	return (enum mig_hardlink_action)first_match(c->hls, c->nhls, MIG_OBJ_FILE, node, leaf, false, 0);
}

int
mig_config_domain_mapping(const mig_config *c, size_t i, const char **from, const char **to)
{
	if (!c || i >= c->ndomains)
		return -1;
	*from = c->domains[i].from;
	*to = c->domains[i].to;
	return 0;
}

int
mig_config_user_mapping(const mig_config *c, size_t i, const char **from, const char **to)
{
	if (!c || i >= c->nusers)
		return -1;
	*from = c->users[i].from;
	*to = c->users[i].to;
	return 0;
}

/* ---------------------------------------------------------------- genconfig */

static void
xml_attr(FILE *out, const char *s)
{
	for (; s && *s; s++) {
		switch (*s) {
		case '&': fputs("&amp;", out); break;
		case '<': fputs("&lt;", out); break;
		case '>': fputs("&gt;", out); break;
		case '"': fputs("&quot;", out); break;
		default: fputc(*s, out);
		}
	}
}

static void
write_comp(const mig_ruleset *rs, size_t i, FILE *out, int indent)
{
	const struct mig_component_info *ci = &rs->comps[i].info;
	bool has_child = false;
	for (size_t j = i + 1; j < rs->ncomps; j++)
		if (rs->comps[j].parent == (ssize_t)i && !rs->comps[j].info.hidden)
			has_child = true;
	fprintf(out, "%*s<component displayname=\"", indent, "");
	xml_attr(out, ci->display_name);
	fprintf(out, "\" migrate=\"yes\" ID=\"");
	xml_attr(out, ci->id);
	fprintf(out, "\"%s>\n", has_child ? "" : "/");
	if (!has_child)
		return;
	for (size_t j = i + 1; j < rs->ncomps; j++)
		if (rs->comps[j].parent == (ssize_t)i && !rs->comps[j].info.hidden)
			write_comp(rs, j, out, indent + 2);
	fprintf(out, "%*s</component>\n", indent, "");
}

static void
section(const mig_ruleset *rs, FILE *out, const char *name, const char *t1, const char *t2)
{
	bool any = false;
	for (size_t i = 0; i < rs->ncomps; i++) {
		const struct mig_component_info *ci = &rs->comps[i].info;
		if (rs->comps[i].parent < 0 && !ci->hidden &&
			(mig__ieq(ci->type, t1) || (t2 && mig__ieq(ci->type, t2)))) {
			if (!any)
				fprintf(out, "  <%s>\n", name);
			any = true;
			write_comp(rs, i, out, 4);
		}
	}
	if (any)
		fprintf(out, "  </%s>\n", name);
	else
		fprintf(out, "  <%s/>\n", name);
}

int
mig_genconfig_write(const mig_ruleset *rs, FILE *out)
{
	if (!rs || !out)
		return -1;
	fprintf(out, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Configuration>\n");
	section(rs, out, "Applications", "Application", NULL);
	section(rs, out, "Documents", "Documents", NULL);
	section(rs, out, "WindowsComponents", "System", "Device");
	fprintf(out,
		"  <Policies>\n"
		"    <ErrorControl>\n"
		"      <!-- first matching entry wins; errorCode is a Win32 code or \"any\":\n"
		"      <fileError><nonFatal errorCode=\"any\">D:\\Scratch\\* [*]</nonFatal></fileError>\n"
		"      <registryError><nonFatal errorCode=\"5\">* [*]</nonFatal></registryError>\n"
		"      -->\n"
		"    </ErrorControl>\n"
		"    <HardLinkStoreControl>\n"
		"      <!-- files locked by applications in a hard-link store:\n"
		"      <fileLocked><createHardLink>C:\\Users\\* [*.ost]</createHardLink></fileLocked>\n"
		"      -->\n"
		"    </HardLinkStoreControl>\n"
		"  </Policies>\n"
		"  <ProfileControl>\n"
		"    <!-- account mappings applied at restore:\n"
		"    <domains><domain from=\"OLDDOM\" to=\"NEWDOM\"/></domains>\n"
		"    <users><user from=\"OLDDOM\\alice\" to=\"NEWDOM\\alice\"/></users>\n"
		"    -->\n"
		"  </ProfileControl>\n"
		"</Configuration>\n");
	return ferror(out) ? -1 : 0;
}
