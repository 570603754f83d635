/*
 * The capture's accounting (docs/capture.md, "Accounting"): for each profile
 * and for the system, every entry the walk finds is counted once, in exactly
 * one bucket, so that
 *
 *     found = captured + excluded + skipped + not selected
 *
 * holds and can be checked against an independent count of the volume.
 * What is an entry: every non-directory name (each hard link's name), and
 * every folder the walk does not enter (a junction, a folder symlink, a folder
 * with another reparse tag, System Volume Information, the hard-link store);
 * a plain folder is not an entry, its contents are.  This file holds only the
 * counting: agent/scan.c decides which bucket.
 */
#ifndef WINSTATE_CAPTURE_INTERNAL_H
#define WINSTATE_CAPTURE_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "rules/rules.h"

/* Why an entry was skipped (not captured although a rule selects it, or
 * not readable).  The keys are stable: report.json consumers match on them. */
enum acct_skip {
	ACCT_SKIP_ERROR,          /* "error": unreadable, or refused by the store */
	ACCT_SKIP_DEHYDRATED,     /* "dehydrated": cloud placeholder, data not on this disk */
	ACCT_SKIP_WOF,            /* "wof": WOF-compressed (compact OS) */
	ACCT_SKIP_EFS,            /* "efs": EFS-encrypted, --efs skip */
	ACCT_SKIP_REPARSE_FOLDER, /* "reparse_folder": a folder with another reparse tag */
	ACCT_SKIP_COUNT
};

const char *acct_skip_key(enum acct_skip k);
/* One sentence for the whole group (each item keeps its own in "skipped"). */
const char *acct_skip_sentence(enum acct_skip k);

/* One exclusion group: a rule (by its compiled reference) or, with ref
 * NULL, one of winstate's own always-excluded items (builtin = its reason). */
struct acct_excl {
	const struct mig_rule_ref *ref;
	const char *builtin;
	uint64_t count;
};

struct acct {
	uint64_t found, captured, excluded, skipped, not_selected;
	uint64_t skipped_by[ACCT_SKIP_COUNT];
	struct acct_excl *excl;
	size_t nexcl, capexcl;
	size_t last;              /* the group hit last: runs of one rule are common */
};

/* Which profile holds @rel (a walk path, '/'-separated, relative to the
 * walk's root): the index of the longest of @profiles that is @rel or one of
 * its parent folders (ASCII case-insensitive, as the walk's decisions are),
 * or -1 when none does (the system).  Empty or NULL profiles never match. */
long acct_context_of(const char *rel, const char *const *profiles, size_t nprofiles);

void acct_found(struct acct *a);
void acct_captured(struct acct *a);
void acct_not_selected(struct acct *a);
void acct_skipped(struct acct *a, enum acct_skip why);
/* 0, or -1 when out of memory (nothing counted then). */
int acct_excluded(struct acct *a, const struct mig_rule_ref *ref, const char *builtin);
bool acct_balanced(const struct acct *a);
void acct_free(struct acct *a);

/* The console line: "NAME: N files found = N captured + N excluded +
 * N skipped + N not selected" ("to capture" for an estimate). */
void acct_line(char *buf, size_t len, const char *name, const struct acct *a, bool estimate);

/* The counts and "excluded_by" as JSON members (no braces), e.g.
 * "found": 3, ..., "excluded_by": [...].  Groups whose rule text is the same
 * (file, line, kind, component, pattern) are written as one. */
void acct_write_json(FILE *out, const struct acct *a);

#endif
