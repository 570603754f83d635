/*
 * Internal interfaces of the rules module (shared by its .c files only).
 * libxml2 appears here and never in rules.h.
 */
#ifndef WINSTATE_RULES_INTERNAL_H
#define WINSTATE_RULES_INTERNAL_H

#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include <libxml/tree.h>

#include "formats/formats.h"
#include "rules/rules.h"

#define WS_PRINTF(a, b) __attribute__((format(printf, a, b)))

/* ---------------------------------------------------------------- util.c */

struct mig_diags {
	struct mig_diag *v;
	size_t n, cap;
};

void mig__diag(mig_diags *d, enum mig_diag_level level, const char *file, unsigned line,
	const char *fmt, ...) WS_PRINTF(5, 6);

struct sbuf {
	char *p;
	size_t n, cap;
};
void sb_addn(struct sbuf *s, const char *p, size_t n);
void sb_add(struct sbuf *s, const char *p);
void sb_addc(struct sbuf *s, char c);
void sb_fmt(struct sbuf *s, const char *fmt, ...) WS_PRINTF(2, 3);
char *sb_steal(struct sbuf *s);        /* NUL-terminated, never NULL */
void sb_free(struct sbuf *s);

void *mig__xmalloc(size_t n);
void *mig__xrealloc(void *p, size_t n);
char *mig__strdup(const char *s);
char *mig__strndup(const char *s, size_t n);
bool mig__ieq(const char *a, const char *b);    /* ASCII case-insensitive equality */
/* Simple Unicode case folding (to lower case) of UTF-8, appended to out.
 * Only mappings that keep the UTF-8 length are applied. */
void mig__fold(const char *in, size_t len, struct sbuf *out);
/* Fold into buf (at least len bytes); returns false if buf too small. */
void mig__fold_into(const char *in, size_t len, char *out);
/* 1 for 1/TRUE/Yes, 0 for 0/FALSE/No (any case), -1 otherwise. */
int mig__parse_bool(const char *s);
/* Trim ASCII white space; returns malloc'd copy. */
char *mig__trim(const char *s);

/* ---------------------------------------------------------------- env.c */

struct mig_var_ent {
	char *name;     /* as given */
	char *key;      /* folded */
	char *value;
	uint64_t hash;
};
struct mig_vars {
	struct mig_var_ent *v;
	size_t n, cap;
	uint32_t *slots;    /* open addressing, index+1, 0 = empty */
	size_t nslots;
	const struct mig_vars *parent;   /* lookups fall back to it */
};
mig_vars *mig__vars_child(const mig_vars *parent);
uint64_t mig__hash(const char *p, size_t n);
/* Expand; values are ^-escaped when `escape` (for use inside patterns). */
char *mig__vars_expand(const mig_vars *v, const char *in, bool escape, char **missing);
/* Is this one of the user-context variables (USERPROFILE, CSIDL_PERSONAL,
 * TEMP ...), which the system context never defines? */
bool mig__vars_is_user_name(const char *name);
/* Same, but an undefined variable becomes '*' (the first one's name goes to
 * *missing); never NULL.  For excludes that must match more, never less. */
char *mig__vars_expand_wild(const mig_vars *v, const char *in, bool escape, char **missing);

/* ---------------------------------------------------------------- script.c */

enum {
	H_COND = 1 << 0,       /* <condition> */
	H_GEN = 1 << 1,        /* <script> in an objectSet: generates patterns */
	H_STR = 1 << 2,        /* <script> in a variable: returns a string */
	H_CONTENT = 1 << 3,    /* <content filter=> */
	H_FILTER = 1 << 4,     /* include/exclude filter= */
	H_MERGE = 1 << 5,
	H_LOCMOD = 1 << 6,
	H_CONTMOD = 1 << 7,
	H_PROC = 1 << 8,       /* <processing><script> */
	H_CLEANUP = 1 << 9,    /* destinationCleanup filter= */
};

struct mig_helper {
	const char *lib;       /* "MigXmlHelper" or "MigSysHelper" */
	const char *name;
	unsigned min, max;     /* argument counts; max UINT_MAX = variadic */
	unsigned uses;
	bool evaluated;        /* evaluated by the engine (else recorded only) */
};

struct mig_call {
	char *lib;             /* text before the dot, may be NULL */
	char *name;
	unsigned nargs;
	char **args;           /* NULL entry = NULL argument */
	const struct mig_helper *def;
};

/* Parse "Lib.Name (arg, 'arg', NULL)".  0 ok, else -1 and a message in err. */
int mig__call_parse(const char *text, struct mig_call *c, char *err, size_t errlen);
void mig__call_free(struct mig_call *c);
const struct mig_helper *mig__helper_find(const char *lib, const char *name);
/* Parse and check against the table and the place of use; diag on error. */
int mig__call_check(const char *text, unsigned use, struct mig_call *c, mig_diags *diags,
	const char *file, unsigned line);
const char *mig__use_name(unsigned use);

/* ---------------------------------------------------------------- pattern.c */

/* A parsed, expanded, folded pattern ready to match. */
struct mig_pat {
	char *node;            /* folded, escapes resolved, '*' = wildcard */
	char *leaf;            /* NULL: no leaf (containers) */
	uint32_t node_len, leaf_len;
	uint32_t node_lit, leaf_lit;   /* literal byte counts */
	uint32_t prefix_len;   /* bytes of complete literal components (trie key) */
	uint64_t node_mask, leaf_mask;
	uint64_t spec;         /* specificity: larger = more specific */
	uint8_t type;
};

/* Split an encoded location "node [leaf]" (escapes kept); leaf NULL if no brackets.
 * Returns -1 on a syntax error (unbalanced bracket). */
int mig__loc_split(const char *text, char **node, char **leaf);
/* Resolve ^ escapes. */
char *mig__unescape(const char *s);
/* Normalise a node (hive names, duplicate and trailing backslashes). */
char *mig__norm_node(enum mig_obj_type type, const char *node);
/* Compile expanded text into p.  -1 on syntax error (msg in err). */
int mig__pat_compile(enum mig_obj_type type, const char *expanded, struct mig_pat *p, char *err,
	size_t errlen);
void mig__pat_free(struct mig_pat *p);
uint64_t mig__mask(const char *s, size_t n);
/* Wildcard match of folded strings ('*' only). */
bool mig__wild(const char *pat, size_t plen, const char *s, size_t slen);
/* Node match honouring "dir\*" also matching "dir" itself. */
bool mig__node_match(const char *pat, size_t plen, const char *s, size_t slen);
/* Match a compiled pattern against folded node/leaf. */
bool mig__pat_match(const struct mig_pat *p, const char *node, size_t nlen, const char *leaf,
	size_t llen);
/* Fold and normalise an object; out strings malloc'd. */
void mig__obj_fold(enum mig_obj_type type, const char *node, const char *leaf, char **fnode,
	char **fleaf);

/* ---------------------------------------------------------------- parse.c */

struct mig_rfile {
	char *path;
	char *urlid;
	xmlDocPtr doc;
	xmlNodePtr root;
};

struct mig_comp {
	struct mig_component_info info;
	xmlNodePtr node;
	size_t file;           /* index in mig_ruleset.files */
	ssize_t parent;        /* index or -1 */
};

struct mig_ruleset {
	struct mig_rfile *files;
	size_t nfiles;
	struct mig_comp *comps;
	size_t ncomps;
	struct mig_ignored_file *ignored;   /* strings owned */
	size_t nignored;
};

/* Safe XML loading shared with config.c: NULL on error (diag added). */
xmlDocPtr mig__xml_read(const char *name, const char *buf, size_t len, mig_diags *diags);
/* Read a whole file (limit 64 MiB); NULL on error (diag added). */
char *mig__read_file(const char *path, size_t *len, mig_diags *diags);
/* Element helpers. */
bool mig__is(xmlNodePtr n, const char *name);
char *mig__attr(xmlNodePtr n, const char *name);       /* malloc'd or NULL */
char *mig__text(xmlNodePtr n);                         /* malloc'd, trimmed */
unsigned mig__line(xmlNodePtr n);
/* Find a <namedElements> child `elem` with name= in the file of root. */
xmlNodePtr mig__named(xmlNodePtr root, const char *elem, const char *name);
/* Is this element a named reference (name= and no element children)? */
bool mig__is_ref(xmlNodePtr n);

/* ---------------------------------------------------------------- helpers.c */

struct mig_eval {
	const struct mig_rules_host *host;
	const mig_vars *vars;
	enum mig_ctx ctx;
	mig_diags *diags;
	const char *file;
};

/* One object found by evaluating an objectSet / content filter. */
struct mig_found {
	enum mig_obj_type type;
	char *node;
	char *leaf;
};
struct mig_found_list {
	struct mig_found *v;
	size_t n, cap;
};
void mig__found_add(struct mig_found_list *l, enum mig_obj_type t, const char *node,
	const char *leaf);
void mig__found_free(struct mig_found_list *l);

/* Evaluate a condition helper with variable-expanded args: 1 true, 0 false. */
int mig__eval_condition(const struct mig_eval *e, const struct mig_call *c, unsigned line);
/* String helper (GetStringContent): malloc'd or NULL. */
char *mig__eval_string(const struct mig_eval *e, const struct mig_call *c, unsigned line);
/* Pattern generator: appends pattern texts (unexpanded, may contain %vars%). */
int mig__eval_generator(const struct mig_eval *e, const struct mig_call *c, unsigned line,
	char ***out, size_t *nout);
/* Content filter applied to found registry objects: appends file objects. */
int mig__eval_content(const struct mig_eval *e, const struct mig_call *c, unsigned line,
	const struct mig_found_list *in, struct mig_found_list *out);
/* Registry/Ini string content, malloc'd or NULL. */
char *mig__string_content(const struct mig_eval *e, const char *type, const char *loc,
	bool expand);
/* Existence of an expanded encoded location. */
int mig__object_exists(const struct mig_eval *e, enum mig_obj_type t, const char *loc);
/* Find objects matching an expanded pattern (existence or enumeration). */
void mig__find_objects(const struct mig_eval *e, enum mig_obj_type t, const char *loc,
	struct mig_found_list *out);
/* Expand every argument of a call with the variables; NULL stays NULL.
 * Returns -1 if a variable is undefined. */
int mig__expand_args(const mig_vars *v, const struct mig_call *c, char ***out);
void mig__free_args(char **a, unsigned n);

#endif
