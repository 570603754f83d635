/*
 * The capture's accounting (agent/accounting.h): which profile holds a walk
 * path, exclusions grouped by rule, the balance check and what is printed.
 * The counts against a real volume are checked by
 * tests/integration/scan_accounting.sh through the ntfs-3g driver.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "capture/internal.h"

static const char *const profiles[] = {
	"Users/alice", "Users/al", NULL, "", "Users/alice/Nested/bob", "Users/Carol",
};
#define NPROF (sizeof(profiles) / sizeof(profiles[0]))

Test(accounting, context_of_a_path)
{
	cr_assert_eq(acct_context_of("Users/alice/Documents/a.txt", profiles, NPROF), 0);
	cr_assert_eq(acct_context_of("Users/alice", profiles, NPROF), 0, "the folder itself");
	cr_assert_eq(acct_context_of("Users/al/x", profiles, NPROF), 1);
	/* a component boundary, not a string prefix */
	cr_assert_eq(acct_context_of("Users/alice2/x", profiles, NPROF), -1);
	cr_assert_eq(acct_context_of("Users/alx", profiles, NPROF), -1);
	/* case-insensitive, as the walk's decisions */
	cr_assert_eq(acct_context_of("USERS/ALICE/NTUSER.DAT", profiles, NPROF), 0);
	cr_assert_eq(acct_context_of("users/carol/a", profiles, NPROF), 5);
	/* a profile inside another: the longest one holds it */
	cr_assert_eq(acct_context_of("Users/alice/Nested/bob/f", profiles, NPROF), 4);
	cr_assert_eq(acct_context_of("Users/alice/Nested/bobby/f", profiles, NPROF), 0);
	/* NULL and empty profiles never take the whole volume */
	cr_assert_eq(acct_context_of("pagefile.sys", profiles, NPROF), -1);
	cr_assert_eq(acct_context_of("Windows/System32/x.dll", profiles, NPROF), -1);
	cr_assert_eq(acct_context_of("Users/alice/x", NULL, 0), -1);
}

static struct mig_rule_ref
rule(const char *file, unsigned line, enum mig_rule_kind kind, const char *comp, const char *pat)
{
	struct mig_rule_ref r = { 0 };
	r.kind = kind;
	r.type = MIG_OBJ_FILE;
	r.file = file;
	r.line = line;
	r.component = comp;
	r.pattern = pat;
	return r;
}

static char *
json_of(const struct acct *a)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	cr_assert(f);
	acct_write_json(f, a);
	fclose(f);
	return buf;
}

static size_t
occurrences(const char *hay, const char *needle)
{
	size_t n = 0;
	for (const char *p = hay; (p = strstr(p, needle)); p += strlen(needle))
		n++;
	return n;
}

Test(accounting, buckets_balance)
{
	struct acct a = { 0 };
	struct mig_rule_ref temp = rule("r.xml", 12, MIG_RULE_EXCLUDE, "Temp", "C:\\T\\* [*]");
	for (int i = 0; i < 7; i++)
		acct_found(&a);
	acct_captured(&a);
	acct_captured(&a);
	acct_not_selected(&a);
	acct_skipped(&a, ACCT_SKIP_DEHYDRATED);
	acct_skipped(&a, ACCT_SKIP_ERROR);
	cr_assert_eq(acct_excluded(&a, &temp, NULL), 0);
	cr_assert_not(acct_balanced(&a), "one entry is found but not settled");
	cr_assert_eq(acct_excluded(&a, NULL, "pagefile"), 0);
	cr_assert(acct_balanced(&a));
	cr_assert_eq(a.captured, 2);
	cr_assert_eq(a.excluded, 2);
	cr_assert_eq(a.skipped, 2);
	cr_assert_eq(a.skipped_by[ACCT_SKIP_DEHYDRATED], 1);
	cr_assert_eq(a.skipped_by[ACCT_SKIP_ERROR], 1);
	cr_assert_eq(a.not_selected, 1);
	/* a bucket counted without its entry is caught too */
	acct_captured(&a);
	cr_assert_not(acct_balanced(&a));
	acct_free(&a);
	cr_assert_eq(a.nexcl, 0);
}

Test(accounting, exclusions_grouped_by_rule)
{
	struct acct a = { 0 };
	struct mig_rule_ref cache = rule("d.xml", 37, MIG_RULE_EXCLUDE, "Chrome", "C:\\U\\Cache\\* [*]");
	struct mig_rule_ref temp = rule("d.xml", 40, MIG_RULE_UNCOND_EXCLUDE, "Temp", "C:\\U\\Temp\\* [*]");
	/* the same rule compiled twice reads as one group */
	struct mig_rule_ref cache2 = cache;
	/* same file:line, another component: another group */
	struct mig_rule_ref edge = rule("d.xml", 37, MIG_RULE_EXCLUDE, "Edge", "C:\\U\\Cache\\* [*]");
	const struct mig_rule_ref *order[] = { &cache, &cache, &temp, &cache, &cache2, &edge, &temp };
	for (size_t i = 0; i < sizeof(order) / sizeof(order[0]); i++) {
		acct_found(&a);
		cr_assert_eq(acct_excluded(&a, order[i], NULL), 0);
	}
	static const char paging[] = "paging file";
	acct_found(&a);
	acct_excluded(&a, NULL, paging);
	cr_assert(acct_balanced(&a));
	cr_assert_eq(a.nexcl, 5);
	char *j = json_of(&a);
	cr_assert(strstr(j, "\"found\": 8, \"captured\": 0, \"excluded\": 8, \"skipped\": 0, "
			  "\"not_selected\": 0, \"excluded_by\": ["), "%s", j);
	cr_assert(strstr(j, "{\"file\": \"d.xml\", \"line\": 37, \"kind\": \"exclude\", "
			  "\"component\": \"Chrome\", \"pattern\": \"C:\\\\U\\\\Cache\\\\* [*]\", "
			  "\"count\": 4}"), "%s", j);
	cr_assert(strstr(j, "\"component\": \"Edge\", \"pattern\": \"C:\\\\U\\\\Cache\\\\* [*]\", "
			  "\"count\": 1}"), "%s", j);
	cr_assert(strstr(j, "\"line\": 40, \"kind\": \"unconditionalExclude\", \"component\": "
			  "\"Temp\""), "%s", j);
	cr_assert(strstr(j, "\"count\": 2}"), "%s", j);
	cr_assert(strstr(j, "{\"file\": null, \"line\": null, \"kind\": \"always excluded\", "
			  "\"component\": null, \"pattern\": null, \"reason\": \"paging file\", "
			  "\"count\": 1}"), "%s", j);
	cr_assert_eq(occurrences(j, "\"count\""), 4, "Chrome written once: %s", j);
	free(j);
	acct_free(&a);
}

Test(accounting, empty_account_json)
{
	struct acct a = { 0 };
	char *j = json_of(&a);
	cr_assert_str_eq(j, "\"found\": 0, \"captured\": 0, \"excluded\": 0, \"skipped\": 0, "
			    "\"not_selected\": 0, \"excluded_by\": []");
	cr_assert(acct_balanced(&a));
	free(j);
}

Test(accounting, console_line)
{
	struct acct a = { 0 };
	for (int i = 0; i < 4; i++)
		acct_found(&a);
	acct_captured(&a);
	acct_captured(&a);
	acct_skipped(&a, ACCT_SKIP_WOF);
	acct_not_selected(&a);
	char line[256];
	acct_line(line, sizeof(line), "alice", &a, false);
	cr_assert_str_eq(line, "alice: 4 files found = 2 captured + 0 excluded + 1 skipped + "
			       "1 not selected");
	acct_line(line, sizeof(line), "system", &a, true);
	cr_assert_str_eq(line, "system: 4 files found = 2 to capture + 0 excluded + 1 skipped + "
			       "1 not selected");
	char tiny[8];
	acct_line(tiny, sizeof(tiny), "alice", &a, false);
	cr_assert_str_eq(tiny, "alice: ", "cut, still terminated");
}

Test(accounting, skip_keys_are_stable)
{
	const char *want[] = { "error", "dehydrated", "wof", "efs", "reparse_folder" };
	cr_assert_eq(sizeof(want) / sizeof(want[0]), ACCT_SKIP_COUNT);
	for (int k = 0; k < ACCT_SKIP_COUNT; k++) {
		cr_assert_str_eq(acct_skip_key(k), want[k]);
		cr_assert_gt(strlen(acct_skip_sentence(k)), 20);
	}
	cr_assert_str_eq(acct_skip_key(ACCT_SKIP_COUNT), "?");
	cr_assert_str_eq(acct_skip_sentence((enum acct_skip)99), "?");
	/* an out-of-range reason still counts as skipped, in no group */
	struct acct a = { 0 };
	acct_found(&a);
	acct_skipped(&a, (enum acct_skip)99);
	cr_assert_eq(a.skipped, 1);
	cr_assert_not(acct_balanced(&a), "no group holds it: said, not hidden");
}
