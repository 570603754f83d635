/* The registry values the rules name, stored once per owner. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "capture/internal.h"
#include "rules/rules.h"

static uint64_t
hash_str(const char *s)
{
	uint64_t h = 1469598103934665603ull;
	for (; *s; s++)
		h = (h ^ (unsigned char)(*s >= 'A' && *s <= 'Z' ? *s + 32 : *s)) * 1099511628211ull;
	return h;
}

/* Insert: 1, or 0 when already there, -1 when out of memory. */
static int
seen_add(struct seen_set *set, const char *key)
{
	if ((set->n + 1) * 2 > set->cap) {
		size_t cap = set->cap ? set->cap * 2 : 256;
		char **slots = calloc(cap, sizeof(*slots));
		if (!slots)
			return -1;
		for (size_t i = 0; i < set->cap; i++)
			if (set->slots[i]) {
				size_t j = hash_str(set->slots[i]) & (cap - 1);
				while (slots[j])
					j = (j + 1) & (cap - 1);
				slots[j] = set->slots[i];
			}
		free(set->slots);
		set->slots = slots;
		set->cap = cap;
	}
	size_t j = hash_str(key) & (set->cap - 1);
	while (set->slots[j]) {
		if (!strcasecmp(set->slots[j], key))
			return 0;
		j = (j + 1) & (set->cap - 1);
	}
	if (!(set->slots[j] = strdup(key)))
		return -1;
	set->n++;
	return 1;
}

void
scan_seen_free(struct seen_set *set)
{
	for (size_t i = 0; i < set->cap; i++)
		free(set->slots[i]);
	free(set->slots);
}


/* ------------------------------------------------------------ registry -- */

struct reg_ctx {
	struct scan *s;
	struct scan_user *user;         /* NULL: system */
	const mig_matcher *m;
	const struct mig_rule_ref *ref;
	const char *prefix;             /* "HKCU", "HKLM\SOFTWARE", ... */
};

static const char *
hive_prefix(enum reg_hive_kind k)
{
	switch (k) {
	case REG_HK_SYSTEM: return "HKLM\\SYSTEM";
	case REG_HK_SOFTWARE: return "HKLM\\SOFTWARE";
	case REG_HK_SAM: return "HKLM\\SAM";
	case REG_HK_SECURITY: return "HKLM\\SECURITY";
	case REG_HK_DEFAULT: return "HKU\\.DEFAULT";
	case REG_HK_NTUSER: return "HKCU";
	case REG_HK_USRCLASS: return "HKCU\\Software\\Classes";
	}
	return "HK?";
}

static int
reg_value_cb(reg_hive *h, const char *key_path, reg_key k, const struct reg_value *v, void *opaque)
{
	(void)h;
	(void)k;
	struct reg_ctx *c = opaque;
	struct scan *s = c->s;
	if (!v)
		return 0;
	char *full;
	if (asprintf(&full, "%s%s%s", c->prefix, *key_path ? "\\" : "", key_path) < 0) {
		scan_out_of_memory(s, "naming a registry value");
		return 1;
	}
	struct mig_decision d;
	const struct mig_rule_ref *rule = c->ref;
	if (mig_matcher_decide(c->m, MIG_OBJ_REGISTRY, full, v->name, &d) < 0) {
		scan_out_of_memory(s, "deciding a registry value against the rules");
		free(full);
		return 1;
	}
	if (d.outcome == MIG_EXCLUDED || d.outcome == MIG_UNCOND_EXCLUDED) {
		if (VERBOSE(s))
			LOG_INFO(s, "%s [%s]: %s", full, v->name, mig_outcome_name(d.outcome));
		free(full);
		return 0;
	}
	if (d.outcome == MIG_INCLUDED)
		rule = d.rule;
	const char *owner = c->user ? c->user->sid : ST_OWNER_SYSTEM;
	char *key;
	int added;
	if (asprintf(&key, "%s|%s|%s", owner, full, v->name) < 0 ||
	    (added = seen_add(&s->seen, key)) < 0) {
		scan_out_of_memory(s, "noting a registry value");
		free(key);
		free(full);
		return 1;
	}
	if (added) {
		char dec[600];
		scan_decision_text(rule, dec, sizeof(dec));
		if (VERBOSE(s))
			LOG_INFO(s, "%s [%s]: captured for %s by %s", full, v->name, owner, dec);
		if (s->wr) {
			struct st_reg_value rv = { owner, full, v->name, v->type, v->data, v->len, dec };
			enum st_status st = st_writer_add_registry(s->wr, &rv);
			if (st) {
				scan_store_fail(s, st, "storing %s [%s] failed: %s", full, v->name,
				     st_last_error());
				free(key);
				free(full);
				return 1;
			}
		}
		s->regs++;
		if (c->user)
			c->user->regs++;
	}
	free(key);
	free(full);
	return 0;
}

/* Split "node [leaf]" (no escapes handled beyond ^] ^[): 0, -1 when it is
 * not that form, -2 when out of memory. */
static int
split_location(const char *pat, char **node, char **leaf)
{
	const char *br = strstr(pat, " [");
	*leaf = NULL;
	if (!br) {
		*node = strdup(pat);
		return *node ? 0 : -2;
	}
	size_t n = strlen(pat);
	if (pat[n - 1] != ']')
		return -1;
	*node = strndup(pat, (size_t)(br - pat));
	*leaf = strndup(br + 2, n - (size_t)(br - pat) - 3);
	if (!*node || !*leaf) {
		free(*node);
		free(*leaf);
		return -2;
	}
	return 0;
}

enum capture_outcome
scan_registry(struct scan *s, struct scan_user *u, const mig_matcher *m, reg_hive_set *hives)
{
	for (size_t i = 0; i < mig_matcher_pattern_count(m) && !s->fail; i++) {
		const struct mig_rule_ref *r = mig_matcher_pattern(m, i);
		if (!r || r->type != MIG_OBJ_REGISTRY || r->kind != MIG_RULE_INCLUDE)
			continue;
		char *node, *leaf;
		int sl = split_location(r->pattern, &node, &leaf);
		if (sl == -2)
			return scan_out_of_memory(s, "reading a registry rule");
		if (sl < 0)
			continue;
		if (!leaf) { /* a key alone carries no value to store */
			free(node);
			continue;
		}
		struct reg_location loc;
		int rr = reg_hive_set_resolve(hives, node, REG_VIEW_DEFAULT, &loc);
		if (rr == REG_OK && loc.hive) {
			char *pat;
			if (asprintf(&pat, "%s [%s]", loc.subpath, leaf) >= 0) {
				struct reg_ctx c = { s, u, m, r, hive_prefix(loc.kind) };
				/* A hive damaged below a key only loses what it cannot
				 * read there (as before); out of memory loses the run. */
				if (reg_hive_match(loc.hive, pat, reg_value_cb, &c) == REG_ENOMEM)
					scan_out_of_memory(s, "matching registry values");
				free(pat);
			} else {
				scan_out_of_memory(s, "matching registry values");
			}
			free(loc.subpath);
		} else if (rr == REG_ENOMEM) {
			scan_out_of_memory(s, "finding a registry key");
		} else if (VERBOSE(s)) {
			LOG_INFO(s, "%s: no such hive or key on this Windows (%s)", r->pattern,
				 reg_hive_set_errmsg(hives));
		}
		free(node);
		free(leaf);
	}
	return s->fail;
}
