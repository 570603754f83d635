/*
 * The capture's accounting: counting only (see agent/accounting.h).
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "capture/internal.h"
#include "formats/formats.h"

static const char *const skip_keys[ACCT_SKIP_COUNT] = {
	"error", "dehydrated", "wof", "efs", "reparse_folder",
};

static const char *const skip_sentences[ACCT_SKIP_COUNT] = {
	"could not be read or stored (an error, continued past with --continue); each one's own "
	"reason is in \"skipped\"",
	"cloud placeholder (OneDrive Files On-Demand): its data is only in the cloud, not on this "
	"disk",
	"WOF-compressed (compact OS): winstate does not decompress WOF data",
	"EFS-encrypted, left out by --efs skip",
	"a folder with a reparse tag that is neither a junction nor a symbolic link: not entered",
};

const char *
acct_skip_key(enum acct_skip k)
{
	return k < ACCT_SKIP_COUNT ? skip_keys[k] : "?";
}

const char *
acct_skip_sentence(enum acct_skip k)
{
	return k < ACCT_SKIP_COUNT ? skip_sentences[k] : "?";
}

long
acct_context_of(const char *rel, const char *const *profiles, size_t nprofiles)
{
	long best = -1;
	size_t best_len = 0;
	for (size_t i = 0; i < nprofiles; i++) {
		const char *p = profiles[i];
		size_t n = p ? strlen(p) : 0;
		if (!n || n <= best_len || strncasecmp(rel, p, n) || (rel[n] && rel[n] != '/'))
			continue;
		best = (long)i;
		best_len = n;
	}
	return best;
}

void
acct_found(struct acct *a)
{
	a->found++;
}

void
acct_captured(struct acct *a)
{
	a->captured++;
}

void
acct_not_selected(struct acct *a)
{
	a->not_selected++;
}

void
acct_skipped(struct acct *a, enum acct_skip why)
{
	a->skipped++;
	if (why < ACCT_SKIP_COUNT)
		a->skipped_by[why]++;
}

int
acct_excluded(struct acct *a, const struct mig_rule_ref *ref, const char *builtin)
{
	size_t i = a->last;
	if (i >= a->nexcl || a->excl[i].ref != ref || a->excl[i].builtin != builtin)
		for (i = 0; i < a->nexcl; i++)
			if (a->excl[i].ref == ref && a->excl[i].builtin == builtin)
				break;
	if (i == a->nexcl) {
		if (a->nexcl == a->capexcl) {
			size_t cap = a->capexcl ? a->capexcl * 2 : 16;
			struct acct_excl *g = realloc(a->excl, cap * sizeof(*g));
			if (!g)
				return -1;
			a->excl = g;
			a->capexcl = cap;
		}
		a->excl[a->nexcl++] = (struct acct_excl){ ref, builtin, 0 };
	}
	a->excl[i].count++;
	a->last = i;
	a->excluded++;
	return 0;
}

bool
acct_balanced(const struct acct *a)
{
	uint64_t by = 0;
	for (size_t k = 0; k < ACCT_SKIP_COUNT; k++)
		by += a->skipped_by[k];
	uint64_t ex = 0;
	for (size_t i = 0; i < a->nexcl; i++)
		ex += a->excl[i].count;
	return by == a->skipped && ex == a->excluded &&
	       a->found == a->captured + a->excluded + a->skipped + a->not_selected;
}

void
acct_free(struct acct *a)
{
	free(a->excl);
	memset(a, 0, sizeof(*a));
}

void
acct_line(char *buf, size_t len, const char *name, const struct acct *a, bool estimate)
{
	snprintf(buf, len, "%s: %llu files found = %llu %s + %llu excluded + %llu skipped + %llu "
		 "not selected", name, (unsigned long long)a->found, (unsigned long long)a->captured,
		 estimate ? "to capture" : "captured", (unsigned long long)a->excluded,
		 (unsigned long long)a->skipped, (unsigned long long)a->not_selected);
}

static bool
same_text(const char *x, const char *y)
{
	return (!x && !y) || (x && y && !strcmp(x, y));
}

/* Groups are kept by compiled reference; two references that read the same
 * (a rule file given twice, a generator repeating a pattern) are one group
 * to a reader. */
static bool
same_rule(const struct acct_excl *x, const struct acct_excl *y)
{
	if (x->builtin || y->builtin)
		return x->builtin == y->builtin && x->ref == y->ref;
	if (x->ref == y->ref)
		return true;
	if (!x->ref || !y->ref)
		return false;
	return x->ref->kind == y->ref->kind && x->ref->line == y->ref->line &&
	       same_text(x->ref->file, y->ref->file) &&
	       same_text(x->ref->component, y->ref->component) &&
	       same_text(x->ref->pattern, y->ref->pattern);
}

static void
json_or_null(FILE *out, const char *s)
{
	if (s)
		fmt_json_string(out, s);
	else
		fputs("null", out);
}

void
acct_write_json(FILE *out, const struct acct *a)
{
	fprintf(out, "\"found\": %llu, \"captured\": %llu, \"excluded\": %llu, \"skipped\": %llu, "
		"\"not_selected\": %llu, \"excluded_by\": [", (unsigned long long)a->found,
		(unsigned long long)a->captured, (unsigned long long)a->excluded,
		(unsigned long long)a->skipped, (unsigned long long)a->not_selected);
	bool first = true;
	for (size_t i = 0; i < a->nexcl; i++) {
		const struct acct_excl *g = &a->excl[i];
		bool earlier = false;
		for (size_t j = 0; j < i && !earlier; j++)
			earlier = same_rule(&a->excl[j], g);
		if (earlier)
			continue;
		uint64_t count = 0;
		for (size_t j = i; j < a->nexcl; j++)
			if (same_rule(&a->excl[j], g))
				count += a->excl[j].count;
		fprintf(out, "%s\n        {\"file\": ", first ? "" : ",");
		first = false;
		const struct mig_rule_ref *r = g->builtin ? NULL : g->ref;
		json_or_null(out, r ? r->file : NULL);
		if (r)
			fprintf(out, ", \"line\": %u", r->line);
		else
			fputs(", \"line\": null", out);
		fputs(", \"kind\": ", out);
		fmt_json_string(out, r ? mig_rule_kind_name(r->kind) : g->builtin ? "always excluded" : "?");
		fputs(", \"component\": ", out);
		json_or_null(out, r ? r->component : NULL);
		fputs(", \"pattern\": ", out);
		json_or_null(out, r ? r->pattern : NULL);
		if (g->builtin) {
			fputs(", \"reason\": ", out);
			fmt_json_string(out, g->builtin);
		}
		fprintf(out, ", \"count\": %llu}", (unsigned long long)count);
	}
	fprintf(out, "%s]", first ? "" : "\n      ");
}
