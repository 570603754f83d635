/*
 * Compiling rules into a matcher, and deciding objects.
 *
 * Build: walk every component of every file (nested ones inside Container
 * roles inherit their parent's variables), keep those whose context fits,
 * that Config.xml does not disable and whose detection succeeds; evaluate
 * <environment> variables, rules conditions and generators; expand and
 * compile every pattern.  Patterns are indexed in a trie keyed by the
 * complete literal path components at their start ("c:" / "users" / ...),
 * so a decision walks the object's own path and only tests the patterns
 * hanging on its ancestors; a 64-bit character mask rejects most of those
 * without running the wildcard matcher.
 *
 * Decide (USMT "conflicts and precedence"): unconditionalExclude anywhere
 * wins; otherwise include and exclude only compete inside one component,
 * where the more specific pattern wins and equal specificity goes to the
 * exclude; an object included by any component is INCLUDED.
 */
#include <stdlib.h>
#include <string.h>

#include "rules/internal.h"

struct cpat {
	struct mig_pat p;
	uint32_t comp;
	uint8_t kind;
	struct mig_rule_ref *ref;
};

struct tnode {
	uint32_t *pats;
	uint32_t n, cap;
};

struct edge {
	uint64_t hash;
	uint32_t parent, child;
	char *name;
	uint32_t len;
};

struct mig_matcher {
	struct cpat *pats;
	size_t npats, cappats;
	struct tnode *nodes;
	size_t nnodes, capnodes;
	struct edge *edges;
	size_t nedges, nslots;
	char **pool;
	size_t npool, cappool;
	size_t ncomps;
	struct mig_unresolved *unres;
	size_t nunres, capunres;
};

static const char *
pool(mig_matcher *m, const char *s)
{
	if (!s)
		return NULL;
	if (m->npool == m->cappool) {
		m->cappool = m->cappool ? m->cappool * 2 : 256;
		m->pool = mig__xrealloc(m->pool, m->cappool * sizeof(char *));
	}
	return m->pool[m->npool++] = mig__strdup(s);
}

static void *
pool_mem(mig_matcher *m, size_t n)
{
	if (m->npool == m->cappool) {
		m->cappool = m->cappool ? m->cappool * 2 : 256;
		m->pool = mig__xrealloc(m->pool, m->cappool * sizeof(char *));
	}
	void *p = mig__xmalloc(n);
	memset(p, 0, n);
	m->pool[m->npool++] = p;
	return p;
}

/* ---------------------------------------------------------------- trie */

static uint32_t
new_node(mig_matcher *m)
{
	if (m->nnodes == m->capnodes) {
		m->capnodes = m->capnodes ? m->capnodes * 2 : 256;
		m->nodes = mig__xrealloc(m->nodes, m->capnodes * sizeof(*m->nodes));
	}
	memset(&m->nodes[m->nnodes], 0, sizeof(struct tnode));
	return (uint32_t)m->nnodes++;
}

static uint64_t
edge_hash(uint32_t parent, const char *s, size_t n)
{
	return mig__hash(s, n) ^ ((uint64_t)parent * 0x9E3779B97F4A7C15ull);
}

static ssize_t
edge_find(const mig_matcher *m, uint32_t parent, const char *s, size_t n, uint64_t h)
{
	if (!m->nslots)
		return -1;
	for (size_t i = h & (m->nslots - 1);; i = (i + 1) & (m->nslots - 1)) {
		const struct edge *e = &m->edges[i];
		if (!e->name)
			return -1;
		if (e->hash == h && e->parent == parent && e->len == n && !memcmp(e->name, s, n))
			return (ssize_t)e->child;
	}
}

static void
edge_insert_raw(mig_matcher *m, struct edge e)
{
	size_t i = e.hash & (m->nslots - 1);
	while (m->edges[i].name)
		i = (i + 1) & (m->nslots - 1);
	m->edges[i] = e;
}

static uint32_t
child_of(mig_matcher *m, uint32_t parent, const char *s, size_t n)
{
	uint64_t h = edge_hash(parent, s, n);
	ssize_t c = edge_find(m, parent, s, n, h);
	if (c >= 0)
		return (uint32_t)c;
	if ((m->nedges + 1) * 2 > m->nslots) {
		size_t old = m->nslots;
		struct edge *oe = m->edges;
		m->nslots = old ? old * 2 : 1024;
		m->edges = mig__xmalloc(m->nslots * sizeof(struct edge));
		memset(m->edges, 0, m->nslots * sizeof(struct edge));
		for (size_t i = 0; i < old; i++)
			if (oe[i].name)
				edge_insert_raw(m, oe[i]);
		free(oe);
	}
	uint32_t child = new_node(m);
	edge_insert_raw(m, (struct edge){ h, parent, child, mig__strndup(s, n), (uint32_t)n });
	m->nedges++;
	return child;
}

static void
index_pattern(mig_matcher *m, uint32_t idx)
{
	const struct mig_pat *p = &m->pats[idx].p;
	uint32_t node = p->type;          /* roots 0, 1, 2 */
	size_t i = 0;
	while (i < p->prefix_len) {
		size_t e = i;
		while (e < p->prefix_len && p->node[e] != '\\')
			e++;
		node = child_of(m, node, p->node + i, e - i);
		i = e + 1;
	}
	struct tnode *t = &m->nodes[node];
	if (t->n == t->cap) {
		t->cap = t->cap ? t->cap * 2 : 4;
		t->pats = mig__xrealloc(t->pats, t->cap * sizeof(uint32_t));
	}
	t->pats[t->n++] = idx;
}

/* ---------------------------------------------------------------- build */

struct build {
	const mig_ruleset *rs;
	const mig_config *cfg;
	enum mig_ctx ctx;
	const struct mig_rules_host *host;
	unsigned flags;
	mig_diags *diags;
	mig_matcher *m;
	xmlNodePtr root;
	const char *file;
	const char *comp_name, *comp_id;
	uint32_t comp;
};

static bool
ctx_ok(const struct build *b, xmlNodePtr n)
{
	char *c = mig__attr(n, "context");
	bool ok = true;
	if (c) {
		char *t = mig__trim(c);
		if (!strcasecmp(t, "User"))
			ok = b->ctx == MIG_CTX_USER;
		else if (!strcasecmp(t, "System"))
			ok = b->ctx == MIG_CTX_SYSTEM;
		free(t);
	}
	free(c);
	return ok;
}

static xmlNodePtr
resolve(const struct build *b, xmlNodePtr n)
{
	if (!mig__is_ref(n))
		return n;
	char *name = mig__attr(n, "name");
	xmlNodePtr d = mig__named(b->root, (const char *)n->name, name);
	free(name);
	return d;
}

static struct mig_eval
evalctx(const struct build *b, const mig_vars *v)
{
	return (struct mig_eval){ b->host, v, b->ctx, b->diags, b->file };
}

static int eval_conditions(const struct build *b, const mig_vars *v, xmlNodePtr n);

static int
eval_condition(const struct build *b, const mig_vars *v, xmlNodePtr n)
{
	char *t = mig__text(n);
	struct mig_call c;
	int r = 0;
	if (mig__call_check(t, H_COND, &c, NULL, NULL, 0) == 0) {
		struct mig_eval e = evalctx(b, v);
		r = mig__eval_condition(&e, &c, mig__line(n));
		mig__call_free(&c);
	}
	free(t);
	char *neg = mig__attr(n, "negation");
	if (neg && mig__parse_bool(neg) == 1)
		r = !r;
	free(neg);
	return r;
}

static int
eval_conditions(const struct build *b, const mig_vars *v, xmlNodePtr n)
{
	n = resolve(b, n);
	if (!n)
		return 0;
	char *op = mig__attr(n, "operation");
	bool is_or = op && !strcasecmp(op, "OR");
	free(op);
	bool any = false;
	for (xmlNodePtr c = n->children; c; c = c->next) {
		int r;
		if (mig__is(c, "condition"))
			r = eval_condition(b, v, c);
		else if (mig__is(c, "conditions"))
			r = eval_conditions(b, v, c);
		else
			continue;
		any = true;
		if (is_or && r)
			return 1;
		if (!is_or && !r)
			return 0;
	}
	return is_or ? !any : 1;
}

static void objset_found(const struct build *b, const mig_vars *v, xmlNodePtr os,
	struct mig_found_list *out);

/* Objects of one <pattern>/<script>/<content> child of an objectSet. */
static void
item_found(const struct build *b, const mig_vars *v, xmlNodePtr c, struct mig_found_list *out)
{
	struct mig_eval e = evalctx(b, v);
	if (mig__is(c, "pattern")) {
		char *type = mig__attr(c, "type"), *t = mig__text(c);
		enum mig_obj_type ot = type && !strcasecmp(type, "Registry") ? MIG_OBJ_REGISTRY :
			type && !strcasecmp(type, "Ini") ? MIG_OBJ_INI : MIG_OBJ_FILE;
		char *x = mig__vars_expand(v, t, true, NULL);
		if (x)
			mig__find_objects(&e, ot, x, out);
		free(x);
		free(t);
		free(type);
	} else if (mig__is(c, "content")) {
		char *f = mig__attr(c, "filter");
		struct mig_call call;
		if (f && mig__call_check(f, H_CONTENT, &call, NULL, NULL, 0) == 0) {
			struct mig_found_list in = { 0 };
			for (xmlNodePtr o = c->children; o; o = o->next)
				if (mig__is(o, "objectSet"))
					objset_found(b, v, o, &in);
			mig__eval_content(&e, &call, mig__line(c), &in, out);
			mig__found_free(&in);
			mig__call_free(&call);
		}
		free(f);
	} else if (mig__is(c, "script")) {
		char *t = mig__text(c);
		struct mig_call call;
		if (mig__call_check(t, H_GEN, &call, NULL, NULL, 0) == 0) {
			char **pats = NULL;
			size_t np = 0;
			mig__eval_generator(&e, &call, mig__line(c), &pats, &np);
			for (size_t i = 0; i < np; i++) {
				char *x = mig__vars_expand(v, pats[i], true, NULL);
				if (x)
					mig__find_objects(&e, MIG_OBJ_FILE, x, out);
				free(x);
				free(pats[i]);
			}
			free(pats);
			mig__call_free(&call);
		}
		free(t);
	}
}

static bool
objset_conditions(const struct build *b, const mig_vars *v, xmlNodePtr os)
{
	bool has = false, any_true = false;
	for (xmlNodePtr c = os->children; c; c = c->next) {
		if (mig__is(c, "conditions"))
			return eval_conditions(b, v, c);
		if (mig__is(c, "condition")) {
			has = true;
			any_true |= eval_condition(b, v, c) != 0;
		}
	}
	/* several <condition> directly in an objectSet: all false => empty set */
	return !has || any_true;
}

static void
objset_found(const struct build *b, const mig_vars *v, xmlNodePtr os, struct mig_found_list *out)
{
	if (!objset_conditions(b, v, os))
		return;
	for (xmlNodePtr c = os->children; c; c = c->next)
		item_found(b, v, c, out);
}

static int
eval_detect(const struct build *b, const mig_vars *v, xmlNodePtr d)
{
	d = resolve(b, d);
	if (!d || !ctx_ok(b, d))
		return d ? 1 : 0;
	bool any = false;
	for (xmlNodePtr c = d->children; c; c = c->next) {
		if (mig__is(c, "condition")) {
			any = true;
			if (eval_condition(b, v, c))
				return 1;
		} else if (mig__is(c, "objectSet")) {
			any = true;
			struct mig_found_list l = { 0 };
			objset_found(b, v, c, &l);
			size_t n = l.n;
			mig__found_free(&l);
			if (n)
				return 1;
		}
	}
	return !any;
}

static int
eval_detects(const struct build *b, const mig_vars *v, xmlNodePtr d)
{
	d = resolve(b, d);
	if (!d)
		return 0;
	if (!ctx_ok(b, d))
		return 1;
	for (xmlNodePtr c = d->children; c; c = c->next)
		if (mig__is(c, "detect") && !eval_detect(b, v, c))
			return 0;
	return 1;
}

static int
eval_detection(const struct build *b, const mig_vars *v, xmlNodePtr d)
{
	d = resolve(b, d);
	if (!d)
		return 0;
	for (xmlNodePtr c = d->children; c; c = c->next)
		if (mig__is(c, "conditions"))
			return eval_conditions(b, v, c);
	return 1;
}

/* <detection> elements are OR-ed, <detects> AND-ed; none = present. */
static bool
detected(const struct build *b, const mig_vars *v, xmlNodePtr role)
{
	if (b->flags & MIG_BUILD_IGNORE_DETECTION)
		return true;
	bool has_det = false, det = false, dets = true;
	for (xmlNodePtr c = role->children; c; c = c->next) {
		if (mig__is(c, "detection")) {
			xmlNodePtr r = resolve(b, c);
			if (r && !ctx_ok(b, r))
				continue;
			has_det = true;
			det = det || eval_detection(b, v, c);
		} else if (mig__is(c, "detects")) {
			dets = dets && eval_detects(b, v, c);
		}
	}
	return (!has_det || det) && dets;
}

static void
eval_environment(const struct build *b, mig_vars *v, xmlNodePtr env)
{
	env = resolve(b, env);
	if (!env || !ctx_ok(b, env))
		return;
	for (xmlNodePtr c = env->children; c; c = c->next)
		if (mig__is(c, "conditions") && !eval_conditions(b, v, c))
			return;
	struct mig_eval e = evalctx(b, v);
	for (xmlNodePtr var = env->children; var; var = var->next) {
		if (!mig__is(var, "variable"))
			continue;
		char *name = mig__attr(var, "name");
		char *val = NULL;
		for (xmlNodePtr c = var->children; c && !val; c = c->next) {
			if (mig__is(c, "text")) {
				char *t = mig__text(c);
				val = mig__vars_expand(v, t, false, NULL);
				free(t);
			} else if (mig__is(c, "script")) {
				char *t = mig__text(c);
				struct mig_call call;
				if (mig__call_check(t, H_STR, &call, NULL, NULL, 0) == 0) {
					val = mig__eval_string(&e, &call, mig__line(c));
					mig__call_free(&call);
				}
				free(t);
			} else if (mig__is(c, "objectSet")) {
				struct mig_found_list l = { 0 };
				objset_found(b, v, c, &l);
				if (l.n) {
					struct sbuf s = { 0 };
					sb_add(&s, l.v[0].node);
					if (l.v[0].leaf) {
						sb_addc(&s, '\\');
						sb_add(&s, l.v[0].leaf);
					}
					val = sb_steal(&s);
				}
				mig__found_free(&l);
			}
		}
		if (name && val)
			mig_vars_set(v, name, val);
		free(name);
		free(val);
	}
}

/* ------------------------------------------------------------ rule elements */

struct action {
	enum mig_rule_kind kind;
	const char *helper;
	unsigned nargs;
	const char *const *args;
	const char *attributes;
};

static void
add_pat(struct build *b, const mig_vars *v, const struct action *a, enum mig_obj_type type,
	const char *source, const char *text, unsigned line)
{
	char *missing = NULL;
	/* v == NULL: the text is a literal found on the system, not expanded */
	char *x = v ? mig__vars_expand(v, text, true, &missing) : mig__strdup(text);
	/* A user's folder in the system context: the rule is for the user
	 * contexts, on every Windows alike, so it is simply not used here. */
	if (!x && b->ctx == MIG_CTX_SYSTEM && mig__vars_is_user_name(missing)) {
		mig__diag(b->diags, MIG_DIAG_NOTE, b->file, line, "pattern '%s' not used in the system "
			"context: %%%s%% is a user variable", text, missing);
		free(missing);
		return;
	}
	/* An undefined variable must never widen the capture: an include (or a
	 * transform, or a cleanup) is dropped; an exclude is kept matching more. */
	bool exclude = a->kind == MIG_RULE_EXCLUDE || a->kind == MIG_RULE_UNCOND_EXCLUDE;
	if (!x && exclude) {
		free(missing);
		x = mig__vars_expand_wild(v, text, true, &missing);
	}
	if (!x || missing) {
		mig_matcher *m = b->m;
		if (m->nunres == m->capunres) {
			m->capunres = m->capunres ? m->capunres * 2 : 16;
			m->unres = mig__xrealloc(m->unres, m->capunres * sizeof(*m->unres));
		}
		m->unres[m->nunres++] = (struct mig_unresolved){ b->file, line, b->comp_name, a->kind,
			pool(m, missing), pool(m, source), pool(m, x), x != NULL };
		if (x)
			mig__diag(b->diags, MIG_DIAG_NOTE, b->file, line, "%s pattern '%s': variable %%%s%% "
				"is not defined here; kept as '%s', ahead of every include of its component",
				mig_rule_kind_name(a->kind), text, missing, x);
		else
			mig__diag(b->diags, MIG_DIAG_NOTE, b->file, line,
				"pattern '%s' dropped: variable %%%s%% is not defined here", text, missing);
		if (!x) {
			free(missing);
			return;
		}
	}
	struct mig_pat p;
	char err[512];
	if (mig__pat_compile(type, x, &p, err, sizeof(err)) < 0) {
		mig__diag(b->diags, MIG_DIAG_WARNING, b->file, line, "%s", err);
		free(x);
		free(missing);
		return;
	}
	/* Paths stop far below 2^20 characters, so no include reaches this. */
	if (missing)
		p.spec = UINT64_MAX;
	mig_matcher *m = b->m;
	struct mig_rule_ref *r = pool_mem(m, sizeof(*r));
	r->kind = a->kind;
	r->type = type;
	r->file = b->file;
	r->line = line;
	r->component = b->comp_name;
	r->component_id = b->comp_id;
	r->source = pool(m, source);
	r->pattern = pool(m, x);
	r->helper = a->helper;
	r->nargs = a->nargs;
	r->args = a->args;
	r->attributes = a->attributes;
	r->unresolved = pool(m, missing);
	free(missing);
	free(x);
	if (m->npats == m->cappats) {
		m->cappats = m->cappats ? m->cappats * 2 : 1024;
		m->pats = mig__xrealloc(m->pats, m->cappats * sizeof(*m->pats));
	}
	m->pats[m->npats] = (struct cpat){ p, b->comp, (uint8_t)a->kind, r };
	m->npats++;
}

static enum mig_obj_type
type_of(const char *t)
{
	if (t && !strcasecmp(t, "Registry"))
		return MIG_OBJ_REGISTRY;
	if (t && !strcasecmp(t, "Ini"))
		return MIG_OBJ_INI;
	return MIG_OBJ_FILE;
}

static void
compile_objset(struct build *b, const mig_vars *v, const struct action *a, xmlNodePtr os)
{
	if (!objset_conditions(b, v, os))
		return;
	struct mig_eval e = evalctx(b, v);
	for (xmlNodePtr c = os->children; c; c = c->next) {
		if (mig__is(c, "pattern")) {
			char *type = mig__attr(c, "type"), *t = mig__text(c);
			add_pat(b, v, a, type_of(type), t, t, mig__line(c));
			free(type);
			free(t);
		} else if (mig__is(c, "script")) {
			char *t = mig__text(c);
			struct mig_call call;
			if (mig__call_check(t, H_GEN, &call, NULL, NULL, 0) == 0) {
				char **pats = NULL;
				size_t np = 0;
				mig__eval_generator(&e, &call, mig__line(c), &pats, &np);
				for (size_t i = 0; i < np; i++) {
					add_pat(b, v, a, MIG_OBJ_FILE, t, pats[i], mig__line(c));
					free(pats[i]);
				}
				free(pats);
				mig__call_free(&call);
			}
			free(t);
		} else if (mig__is(c, "content")) {
			struct mig_found_list l = { 0 };
			item_found(b, v, c, &l);
			char *f = mig__attr(c, "filter");
			for (size_t i = 0; i < l.n; i++) {
				struct sbuf s = { 0 };
				for (const char *q = l.v[i].node; *q; q++) {
					if (*q == '[' || *q == ']' || *q == '^')
						sb_addc(&s, '^');
					sb_addc(&s, *q);
				}
				if (l.v[i].leaf) {
					sb_add(&s, " [");
					for (const char *q = l.v[i].leaf; *q; q++) {
						if (*q == '[' || *q == ']' || *q == '^')
							sb_addc(&s, '^');
						sb_addc(&s, *q);
					}
					sb_addc(&s, ']');
				}
				add_pat(b, NULL, a, l.v[i].type, f, s.p, mig__line(c));
				sb_free(&s);
			}
			free(f);
			mig__found_free(&l);
		}
	}
}

static const struct {
	const char *elem;
	enum mig_rule_kind kind;
	const char *attr;
} rule_elems[] = {
	{ "include", MIG_RULE_INCLUDE, "filter" },
	{ "exclude", MIG_RULE_EXCLUDE, "filter" },
	{ "unconditionalExclude", MIG_RULE_UNCOND_EXCLUDE, "filter" },
	{ "merge", MIG_RULE_MERGE, "script" },
	{ "locationModify", MIG_RULE_LOCATION_MODIFY, "script" },
	{ "contentModify", MIG_RULE_CONTENT_MODIFY, "script" },
	{ "destinationCleanup", MIG_RULE_DESTINATION_CLEANUP, "filter" },
	{ "includeAttributes", MIG_RULE_INCLUDE_ATTRIBUTES, "attributes" },
	{ "excludeAttributes", MIG_RULE_EXCLUDE_ATTRIBUTES, "attributes" },
};

static void
compile_rule_elem(struct build *b, const mig_vars *v, xmlNodePtr n, size_t k)
{
	struct action a = { rule_elems[k].kind, NULL, 0, NULL, NULL };
	char *val = mig__attr(n, rule_elems[k].attr);
	if (val && !strcmp(rule_elems[k].attr, "attributes")) {
		a.attributes = pool(b->m, val);
	} else if (val) {
		struct mig_call c;
		if (mig__call_parse(val, &c, (char[256]){ 0 }, 256) == 0) {
			a.helper = pool(b->m, c.name);
			a.nargs = c.nargs;
			const char **args = pool_mem(b->m, (c.nargs + 1) * sizeof(char *));
			char **ex;
			mig__expand_args(v, &c, &ex);
			for (unsigned i = 0; i < c.nargs; i++)
				args[i] = pool(b->m, ex[i]);
			mig__free_args(ex, c.nargs);
			a.args = args;
			mig__call_free(&c);
		}
	}
	free(val);
	for (xmlNodePtr os = n->children; os; os = os->next)
		if (mig__is(os, "objectSet"))
			compile_objset(b, v, &a, os);
}

static void compile_rule_elem(struct build *b, const mig_vars *v, xmlNodePtr n, size_t k);

static void
compile_rules(struct build *b, const mig_vars *v, xmlNodePtr rules, int depth)
{
	xmlNodePtr r = resolve(b, rules);
	if (!r || depth > 16)
		return;
	if (!ctx_ok(b, rules) || (r != rules && !ctx_ok(b, r)))
		return;
	for (xmlNodePtr c = r->children; c; c = c->next) {
		if (mig__is(c, "conditions") && !eval_conditions(b, v, c))
			return;
		if (mig__is(c, "detects") && !(b->flags & MIG_BUILD_IGNORE_DETECTION) &&
			!eval_detects(b, v, c))
			return;
	}
	for (xmlNodePtr c = r->children; c; c = c->next) {
		if (c->type != XML_ELEMENT_NODE)
			continue;
		if (mig__is(c, "rules")) {
			compile_rules(b, v, c, depth + 1);
			continue;
		}
		for (size_t k = 0; k < sizeof(rule_elems) / sizeof(rule_elems[0]); k++)
			if (mig__is(c, rule_elems[k].elem))
				compile_rule_elem(b, v, c, k);
	}
}

static ssize_t
comp_index(const mig_ruleset *rs, xmlNodePtr n)
{
	for (size_t i = 0; i < rs->ncomps; i++)
		if (rs->comps[i].node == n)
			return (ssize_t)i;
	return -1;
}

static void
process_component(struct build *b, const mig_vars *parent, xmlNodePtr comp)
{
	ssize_t ci = comp_index(b->rs, comp);
	if (ci < 0)
		return;
	const struct mig_component_info *info = &b->rs->comps[ci].info;
	if (b->cfg && mig_config_component_enabled(b->cfg, info->id, info->display_name) == 0)
		return;
	if (!ctx_ok(b, comp))
		return;
	mig_vars *v = mig__vars_child(parent);
	for (xmlNodePtr c = comp->children; c; c = c->next)
		if (mig__is(c, "environment"))
			eval_environment(b, v, c);
	for (xmlNodePtr role = comp->children; role; role = role->next) {
		if (!mig__is(role, "role"))
			continue;
		mig_vars *rv = mig__vars_child(v);
		for (xmlNodePtr c = role->children; c; c = c->next)
			if (mig__is(c, "environment"))
				eval_environment(b, rv, c);
		if (detected(b, rv, role)) {
			b->comp_name = pool(b->m, info->display_name);
			b->comp_id = pool(b->m, info->id);
			b->comp = (uint32_t)ci;
			bool counted = false;
			for (xmlNodePtr c = role->children; c; c = c->next) {
				if (mig__is(c, "rules")) {
					b->comp_name = pool(b->m, info->display_name);
					b->comp_id = pool(b->m, info->id);
					b->comp = (uint32_t)ci;
					compile_rules(b, rv, c, 0);
					counted = true;
				} else if (mig__is(c, "component")) {
					process_component(b, rv, c);
				} else if (mig__is(c, "destinationCleanup")) {
					b->comp_name = pool(b->m, info->display_name);
					b->comp_id = pool(b->m, info->id);
					b->comp = (uint32_t)ci;
					compile_rule_elem(b, rv, c, 6);
				}
			}
			if (counted)
				b->m->ncomps++;
		}
		mig_vars_free(rv);
	}
	/* <extensions><extension>*.doc</extension> = GenerateDrivePatterns("* [*.doc]","Fixed") */
	for (xmlNodePtr x = comp->children; x; x = x->next) {
		if (!mig__is(x, "extensions"))
			continue;
		b->comp_name = pool(b->m, info->display_name);
		b->comp_id = pool(b->m, info->id);
		b->comp = (uint32_t)ci;
		struct action a = { MIG_RULE_INCLUDE, NULL, 0, NULL, NULL };
		for (xmlNodePtr e = x->children; e; e = e->next) {
			if (!mig__is(e, "extension"))
				continue;
			char *t = mig__text(e);
			const char *ext = t[0] == '*' && t[1] == '.' ? t + 2 : t[0] == '.' ? t + 1 : t;
			const char *d = mig_vars_get(v, "WS_FIXED_DRIVES");
			char *dl = mig__strdup(d ? d : "C:");
			for (char *tok = strtok(dl, ";, "); tok; tok = strtok(NULL, ";, ")) {
				struct sbuf s = { 0 };
				sb_fmt(&s, "%s\\* [*.%s]", tok, ext);
				add_pat(b, v, &a, MIG_OBJ_FILE, t, s.p, mig__line(e));
				sb_free(&s);
			}
			free(dl);
			free(t);
		}
	}
	mig_vars_free(v);
}

int
mig_matcher_build(const mig_ruleset *rs, const mig_config *cfg, enum mig_ctx ctx,
	const mig_vars *vars, const struct mig_rules_host *host, unsigned flags,
	mig_matcher **out, mig_diags *diags)
{
	*out = NULL;
	if (!rs || (ctx != MIG_CTX_SYSTEM && ctx != MIG_CTX_USER))
		return -1;
	mig_matcher *m = mig__xmalloc(sizeof(*m));
	memset(m, 0, sizeof(*m));
	for (int i = 0; i < 3; i++)
		new_node(m);
	static const struct mig_rules_host none = { 0 };
	mig_vars *empty = NULL;
	if (!vars)
		vars = empty = mig_vars_new();
	struct build b = { rs, cfg, ctx, host ? host : &none, flags, diags, m, NULL, NULL, NULL,
		NULL, 0 };
	for (size_t f = 0; f < rs->nfiles; f++) {
		b.root = rs->files[f].root;
		b.file = pool(m, rs->files[f].path);
		for (xmlNodePtr c = b.root->children; c; c = c->next)
			if (mig__is(c, "component"))
				process_component(&b, vars, c);
	}
	mig_vars_free(empty);
	for (size_t i = 0; i < m->npats; i++)
		index_pattern(m, (uint32_t)i);
	*out = m;
	return 0;
}

void
mig_matcher_free(mig_matcher *m)
{
	if (!m)
		return;
	for (size_t i = 0; i < m->npats; i++)
		mig__pat_free(&m->pats[i].p);
	free(m->pats);
	for (size_t i = 0; i < m->nnodes; i++)
		free(m->nodes[i].pats);
	free(m->nodes);
	for (size_t i = 0; i < m->nslots; i++)
		free(m->edges[i].name);
	free(m->edges);
	for (size_t i = 0; i < m->npool; i++)
		free(m->pool[i]);
	free(m->pool);
	free(m->unres);
	free(m);
}

size_t
mig_matcher_unresolved_count(const mig_matcher *m)
{
	return m ? m->nunres : 0;
}

const struct mig_unresolved *
mig_matcher_unresolved(const mig_matcher *m, size_t i)
{
	return m && i < m->nunres ? &m->unres[i] : NULL;
}

size_t
mig_matcher_pattern_count(const mig_matcher *m)
{
	return m ? m->npats : 0;
}

size_t
mig_matcher_component_count(const mig_matcher *m)
{
	return m ? m->ncomps : 0;
}

const struct mig_rule_ref *
mig_matcher_pattern(const mig_matcher *m, size_t i)
{
	return m && i < m->npats ? m->pats[i].ref : NULL;
}

/* ---------------------------------------------------------------- decide */

const char *
mig_outcome_name(enum mig_outcome o)
{
	switch (o) {
	case MIG_NOT_SELECTED: return "NOT_SELECTED";
	case MIG_INCLUDED: return "INCLUDED";
	case MIG_EXCLUDED: return "EXCLUDED";
	case MIG_UNCOND_EXCLUDED: return "UNCONDITIONALLY_EXCLUDED";
	}
	return "?";
}

const char *
mig_rule_kind_name(enum mig_rule_kind k)
{
	static const char *const names[] = { "include", "exclude", "unconditionalExclude", "merge",
		"locationModify", "contentModify", "destinationCleanup", "includeAttributes",
		"excludeAttributes" };
	return k < MIG_RULE_KIND_COUNT ? names[k] : "?";
}

struct slot {
	uint32_t comp;
	int32_t inc, exc;
};

#define SLOTS 64

static void
decide_folded(const mig_matcher *m, enum mig_obj_type type, const char *node, size_t nlen,
	uint64_t nmask, const char *leaf, size_t llen, uint64_t lmask, struct mig_decision *d)
{
	memset(d, 0, sizeof(*d));
	struct slot stack_slots[SLOTS], *slots = stack_slots;
	size_t nslots = 0, capslots = SLOTS;
	int32_t best[MIG_RULE_KIND_COUNT];
	for (int k = 0; k < MIG_RULE_KIND_COUNT; k++)
		best[k] = -1;

	uint32_t tn = (uint32_t)type;
	size_t pos = 0;       /* bytes of node consumed by the trie walk */
	for (;;) {
		const struct tnode *t = &m->nodes[tn];
		for (uint32_t i = 0; i < t->n; i++) {
			const struct cpat *c = &m->pats[t->pats[i]];
			const struct mig_pat *p = &c->p;
			if ((p->node_mask & ~nmask) || (p->leaf_mask & ~lmask))
				continue;
			if (!p->leaf != !leaf)
				continue;
			if (p->leaf && (p->leaf_lit > llen || !mig__wild(p->leaf, p->leaf_len, leaf, llen)))
				continue;
			if (!mig__node_match(p->node + p->prefix_len, p->node_len - p->prefix_len,
				node + p->prefix_len, nlen - p->prefix_len))
				continue;
			int32_t idx = (int32_t)t->pats[i];
			if (c->kind == MIG_RULE_INCLUDE || c->kind == MIG_RULE_EXCLUDE) {
				size_t s = 0;
				while (s < nslots && slots[s].comp != c->comp)
					s++;
				if (s == nslots) {
					if (nslots == capslots) {
						capslots *= 2;
						if (slots == stack_slots) {
							slots = mig__xmalloc(capslots * sizeof(*slots));
							memcpy(slots, stack_slots, sizeof(stack_slots));
						} else {
							slots = mig__xrealloc(slots, capslots * sizeof(*slots));
						}
					}
					slots[nslots++] = (struct slot){ c->comp, -1, -1 };
				}
				int32_t *b = c->kind == MIG_RULE_INCLUDE ? &slots[s].inc : &slots[s].exc;
				if (*b < 0 || m->pats[*b].p.spec < p->spec)
					*b = idx;
			}
			if (best[c->kind] < 0 || m->pats[best[c->kind]].p.spec < p->spec)
				best[c->kind] = idx;
		}
		/* descend along the object's next path component */
		if (pos > nlen)
			break;
		size_t e = pos;
		while (e < nlen && node[e] != '\\')
			e++;
		uint64_t h = edge_hash(tn, node + pos, e - pos);
		ssize_t ch = edge_find(m, tn, node + pos, e - pos, h);
		if (ch < 0)
			break;
		tn = (uint32_t)ch;
		pos = e + 1;
	}

	for (int k = 0; k < MIG_RULE_KIND_COUNT; k++)
		d->by_kind[k] = best[k] >= 0 ? m->pats[best[k]].ref : NULL;
	if (best[MIG_RULE_UNCOND_EXCLUDE] >= 0) {
		d->outcome = MIG_UNCOND_EXCLUDED;
		d->rule = d->by_kind[MIG_RULE_UNCOND_EXCLUDE];
	} else {
		int32_t inc = -1, exc = -1;
		for (size_t s = 0; s < nslots; s++) {
			int32_t i = slots[s].inc, x = slots[s].exc;
			bool wins = i >= 0 && (x < 0 || m->pats[i].p.spec > m->pats[x].p.spec);
			if (wins) {
				if (inc < 0 || m->pats[inc].p.spec < m->pats[i].p.spec)
					inc = i;
			} else if (x >= 0) {
				if (exc < 0 || m->pats[exc].p.spec < m->pats[x].p.spec)
					exc = x;
			}
		}
		if (inc >= 0) {
			d->outcome = MIG_INCLUDED;
			d->rule = m->pats[inc].ref;
			d->by_kind[MIG_RULE_INCLUDE] = d->rule;
		} else if (exc >= 0) {
			d->outcome = MIG_EXCLUDED;
			d->rule = m->pats[exc].ref;
			d->by_kind[MIG_RULE_EXCLUDE] = d->rule;
		}
	}
	if (slots != stack_slots)
		free(slots);
}

int
mig_query_init(struct mig_query *q, enum mig_obj_type type, const char *node, const char *leaf)
{
	memset(q, 0, sizeof(*q));
	if (!node || type > MIG_OBJ_INI)
		return -1;
	q->type = type;
	size_t n = strlen(node), l = leaf ? strlen(leaf) : 0;
	/* Fast path: an already normalised path folds into the inline buffer. */
	bool simple = n + l + 2 <= sizeof(q->buf) && n > 0 && node[n - 1] != '\\' &&
		!strstr(node, "\\\\") && node[0] != ' ' && type != MIG_OBJ_REGISTRY;
	if (simple) {
		mig__fold_into(node, n, q->buf);
		q->buf[n] = 0;
		q->node = q->buf;
		if (leaf) {
			mig__fold_into(leaf, l, q->buf + n + 1);
			q->buf[n + 1 + l] = 0;
			q->leaf = q->buf + n + 1;
		}
	} else {
		mig__obj_fold(type, node, leaf, &q->node, &q->leaf);
		q->heap = true;
		n = strlen(q->node);
		l = q->leaf ? strlen(q->leaf) : 0;
	}
	q->nlen = n;
	q->llen = l;
	q->nmask = mig__mask(q->node, n);
	q->lmask = q->leaf ? mig__mask(q->leaf, l) : 0;
	return 0;
}

void
mig_query_free(struct mig_query *q)
{
	if (q->heap) {
		free(q->node);
		free(q->leaf);
	}
	q->node = q->leaf = NULL;
	q->heap = false;
}

int
mig_matcher_decide_query(const mig_matcher *m, const struct mig_query *q, struct mig_decision *d)
{
	if (!m || !q || !q->node || !d)
		return -1;
	decide_folded(m, q->type, q->node, q->nlen, q->nmask, q->leaf, q->llen, q->lmask, d);
	return 0;
}

int
mig_matcher_decide(const mig_matcher *m, enum mig_obj_type type, const char *node,
	const char *leaf, struct mig_decision *d)
{
	struct mig_query q;
	if (!m || !d || mig_query_init(&q, type, node, leaf) < 0)
		return -1;
	mig_matcher_decide_query(m, &q, d);
	mig_query_free(&q);
	return 0;
}

int
mig_matcher_decide_location(const mig_matcher *m, enum mig_obj_type type, const char *location,
	struct mig_decision *d)
{
	char *rn, *rl;
	if (!location || mig__loc_split(location, &rn, &rl) < 0)
		return -1;
	char *node = mig__unescape(rn), *leaf = rl ? mig__unescape(rl) : NULL;
	free(rn);
	free(rl);
	int r = mig_matcher_decide(m, type, node, leaf, d);
	free(node);
	free(leaf);
	return r;
}
