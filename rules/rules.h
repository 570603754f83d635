/*
 * rules — the MigXML rule engine.
 *
 * Reads USMT migration rule files (MigApp.xml, MigUser.xml, MigDocs.xml and
 * custom ones) and Config.xml unchanged, and answers one question for every
 * object of an offline Windows: does this file / registry value migrate, and
 * which rule says so?  Rule files are parsed safely (no network, no DTD, no
 * entities), every element and helper function of the language is checked
 * and anything we do not support is reported by name with file:line.
 *
 * The engine never touches a disk: whatever it needs to know about the
 * offline Windows (does a file exist, registry values, version resources of
 * executables, OS version, architecture, object enumeration) comes through
 * struct mig_rules_host, and variables (%CSIDL_PERSONAL%, %USERPROFILE%, ...)
 * come from a mig_vars table the caller fills, one per user context.
 *
 * Typical use:
 *     mig_ruleset *rs = mig_ruleset_new();
 *     mig_ruleset_load(rs, "MigDocs.xml", diags);          (repeat per file)
 *     mig_vars *v = mig_vars_new();  mig_vars_default_user(v, "C:", "bob", NULL);
 *     mig_matcher *m;  mig_matcher_build(rs, cfg, MIG_CTX_USER, v, &host, 0, &m, diags);
 *     mig_matcher_decide(m, MIG_OBJ_FILE, "C:\\Users\\bob\\Documents", "a.docx", &d);
 * A matcher is immutable once built: decide() may run from several threads.
 */
#ifndef WINSTATE_RULES_H
#define WINSTATE_RULES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* ---------------------------------------------------------------- diagnostics */

enum mig_diag_level {
	MIG_DIAG_NOTE,        /* informational (e.g. a pattern dropped: variable undefined) */
	MIG_DIAG_WARNING,     /* suspicious but usable */
	MIG_DIAG_UNSUPPORTED, /* a construct we parse but do not implement: named, never silent */
	MIG_DIAG_ERROR,       /* the file (or a part of it) is unusable */
};

struct mig_diag {
	enum mig_diag_level level;
	char *file;          /* rule or config file, may be NULL */
	unsigned line;       /* 0 = unknown */
	char *msg;
};

typedef struct mig_diags mig_diags;

mig_diags *mig_diags_new(void);
void mig_diags_free(mig_diags *d);
size_t mig_diags_count(const mig_diags *d);
const struct mig_diag *mig_diags_get(const mig_diags *d, size_t i);
/* Number of diagnostics at exactly this level. */
size_t mig_diags_count_level(const mig_diags *d, enum mig_diag_level level);
/* Add one diagnostic (for callers that report through the same list). */
void mig_diags_add(mig_diags *d, enum mig_diag_level level, const char *file, unsigned line,
	const char *msg);
/* Print as "file:line: level: message", one per line, levels >= min. */
void mig_diags_print(const mig_diags *d, FILE *out, enum mig_diag_level min);
/* Text of the first diagnostic at or above the level, or NULL. */
const char *mig_diags_first(const mig_diags *d, enum mig_diag_level min);

/* ---------------------------------------------------------------- variables */

/* A case-insensitive NAME -> value table (names without the % signs). */
typedef struct mig_vars mig_vars;

mig_vars *mig_vars_new(void);
mig_vars *mig_vars_clone(const mig_vars *v);
void mig_vars_free(mig_vars *v);
int mig_vars_set(mig_vars *v, const char *name, const char *value);
const char *mig_vars_get(const mig_vars *v, const char *name);
size_t mig_vars_count(const mig_vars *v);
/* i-th entry, for listing (order unspecified). */
void mig_vars_entry(const mig_vars *v, size_t i, const char **name, const char **value);

/*
 * The resolver every command uses (scan, explain, genconfig, restore): first
 * Windows' own defaults for the build (7601 Windows 7 ... 22631 Windows 11;
 * 0 = unknown, taken as 10/11) on the system drive, then the values the
 * offline Windows states.  `stated` (may be NULL) holds those values under
 * the variable's name, as the hive has them (%SystemDrive%, %ProgramData%,
 * %PUBLIC%, %USERPROFILE% ... are expanded here, in dependency order), e.g.
 * SYSTEMROOT, PROGRAMFILES, PROFILESFOLDER, PUBLIC, DEFAULTUSERPROFILE,
 * PROGRAMDATA, CSIDL_COMMON_DESKTOPDIRECTORY ... for the system and
 * CSIDL_PERSONAL, APPDATA, FOLDERID_Downloads ... for a user.  Values derived
 * from one (WINDIR, CSIDL_MYDOCUMENTS, TEMP ...) follow it.  Whenever a
 * default stands in for a value Windows keeps in its hives, `fallback` (may
 * be NULL) is told: the variable, the default used, and the stated value that
 * could not be expanded (NULL when there was none).
 */
typedef void (*mig_vars_fallback_fn)(void *ctx, const char *name, const char *value,
	const char *unusable);
int mig_vars_resolve_system(mig_vars *out, const char *drive, unsigned build, const mig_vars *stated,
	mig_vars_fallback_fn fallback, void *ctx);
/* On top of a resolved system table: USERPROFILE = `profile` (NULL =
 * PROFILESFOLDER\user), USERNAME, HOMEDRIVE, HOMEPATH, USERSID (`sid` may be
 * NULL) and every user-context folder. */
int mig_vars_resolve_user(mig_vars *out, const char *user, const char *profile, const char *sid,
	unsigned build, const mig_vars *stated, mig_vars_fallback_fn fallback, void *ctx);

/*
 * Documented defaults of a Windows 10/11 install on `drive` (e.g. "C:"):
 * SYSTEMROOT, WINDIR, PROGRAMFILES, CSIDL_COMMON_*, PROFILESFOLDER, ... and
 * the fixed-drive list WS_FIXED_DRIVES (";"-separated, default the system
 * drive) used by GenerateDrivePatterns.  Existing entries are overwritten.
 */
int mig_vars_default_system(mig_vars *v, const char *drive);
/*
 * System defaults plus the user-context ones for `user` with profile
 * directory `profile` (NULL = <drive>\Users\<user>): USERPROFILE, APPDATA,
 * LOCALAPPDATA, CSIDL_PERSONAL, CSIDL_DESKTOP, FOLDERID_Downloads, ...
 * `sid` (may be NULL) sets USERSID.
 */
int mig_vars_default_user(mig_vars *v, const char *drive, const char *user, const char *profile,
	const char *sid);
/*
 * Expand %NAME% references in `in`.  Returns a malloc'd string, or NULL if a
 * variable is undefined (its name is then copied to *missing, when given, as
 * a malloc'd string).  "%%" and a lone "%" stay as they are.
 */
char *mig_vars_expand(const mig_vars *v, const char *in, char **missing);

/* ---------------------------------------------------------------- host callbacks */

enum mig_obj_type { MIG_OBJ_FILE = 0, MIG_OBJ_REGISTRY = 1, MIG_OBJ_INI = 2 };

/* Registry value types, as in winnt.h. */
enum { MIG_REG_NONE = 0, MIG_REG_SZ = 1, MIG_REG_EXPAND_SZ = 2, MIG_REG_BINARY = 3,
	MIG_REG_DWORD = 4, MIG_REG_MULTI_SZ = 7, MIG_REG_QWORD = 11 };

/*
 * What the engine may ask about the offline system.  Every member may be
 * NULL: the question then gets the answer "no / unknown" (a file does not
 * exist, a value is absent, the OS version is unknown ...).  Paths are
 * Windows paths ("C:\Users\bob\x.txt"); registry keys use the short hive
 * names HKLM, HKCU, HKU, HKCR, HKCC; a value name "" is the default value.
 * Returned buffers are malloc'd and freed by the engine.
 */
struct mig_rules_host {
	void *opaque;
	/* 1 exists, 0 does not; *is_dir (may be NULL) set when it exists. */
	int (*file_exists)(void *opaque, const char *path, int *is_dir);
	/* value == NULL: does the key exist?  Otherwise: does the value exist?  1/0. */
	int (*reg_exists)(void *opaque, const char *key, const char *value);
	/* 0 with type, data (bytes as stored in the hive: REG_SZ is UTF-16LE) and
	 * length set, or -1 if absent. */
	int (*reg_read)(void *opaque, const char *key, const char *value, unsigned *type,
		unsigned char **data, size_t *len);
	/* Read at most `max` bytes from the start of a file: 0 ok, -1 error/absent. */
	int (*file_read)(void *opaque, const char *path, size_t max, unsigned char **data,
		size_t *len);
	/* 0 and the version of the offline Windows (10.0.19045 ...), -1 unknown. */
	int (*os_version)(void *opaque, unsigned *major, unsigned *minor, unsigned *build);
	/* 1 = 64-bit Windows, 0 = 32-bit, -1 unknown. */
	int (*is_native_64bit)(void *opaque);
	/*
	 * Enumerate existing objects matching a pattern (node pattern and leaf
	 * pattern with '*' wildcards, leaf NULL = containers), calling emit for
	 * each until it returns non-zero.  Used by DoesObjectExist on wildcards,
	 * <content> filters and objectSet variables.  0 ok, -1 error.
	 */
	int (*enumerate)(void *opaque, enum mig_obj_type type, const char *node, const char *leaf,
		int (*emit)(void *ctx, const char *node, const char *leaf), void *ctx);
};

/* Version-resource strings of PE files: fmt_pe_version_string (formats/). */

/* ---------------------------------------------------------------- rule sets */

typedef struct mig_ruleset mig_ruleset;

mig_ruleset *mig_ruleset_new(void);
void mig_ruleset_free(mig_ruleset *rs);
/*
 * Parse and check one rule file.  Every problem is added to `diags` with
 * file:line.  Returns 0 if the file is usable (it may still contain
 * unsupported constructs, reported as MIG_DIAG_UNSUPPORTED), -1 if not
 * (unreadable, malformed, DTD/entities, wrong root, unknown helper ...).
 * A file whose urlid was already loaded is ignored with a warning (USMT).
 */
int mig_ruleset_load(mig_ruleset *rs, const char *path, mig_diags *diags);
/* Same from memory; `name` is used in messages. */
int mig_ruleset_load_memory(mig_ruleset *rs, const char *name, const char *buf, size_t len,
	mig_diags *diags);
size_t mig_ruleset_file_count(const mig_ruleset *rs);
/* Rule files left out because an earlier file has the same urlid (USMT
 * keeps the first): the file, the line of its <migration>, the urlid and the
 * file that was kept.  Valid while the ruleset lives. */
struct mig_ignored_file {
	const char *path;
	unsigned line;
	const char *urlid;
	const char *kept;
};
size_t mig_ruleset_ignored_count(const mig_ruleset *rs);
const struct mig_ignored_file *mig_ruleset_ignored(const mig_ruleset *rs, size_t i);

/* A component as seen by Config.xml / genconfig. */
struct mig_component_info {
	const char *display_name;
	const char *id;           /* <urlid>/<lower(displayName)>/<lower(role)> */
	const char *type;         /* Documents, Application, System, Device */
	const char *context;      /* User, System, UserAndSystem */
	const char *file;
	unsigned line;
	int depth;                /* 0 = top level, 1 = inside a Container role ... */
	int hidden;
};
/* Components in document order (parents before their children). */
size_t mig_ruleset_component_count(const mig_ruleset *rs);
const struct mig_component_info *mig_ruleset_component(const mig_ruleset *rs, size_t i);

/* ---------------------------------------------------------------- Config.xml */

typedef struct mig_config mig_config;

/* Parse a Config.xml (same safety rules).  NULL on error (in diags). */
mig_config *mig_config_load(const char *path, mig_diags *diags);
mig_config *mig_config_load_memory(const char *name, const char *buf, size_t len,
	mig_diags *diags);
void mig_config_free(mig_config *c);
/* 1 enabled, 0 migrate="no" (itself or an enclosing group), -1 not listed. */
int mig_config_component_enabled(const mig_config *c, const char *id, const char *display_name);

enum mig_error_action { MIG_ERR_DEFAULT = 0, MIG_ERR_NONFATAL, MIG_ERR_FATAL };
/* <ErrorControl>: first matching fileError/registryError entry wins. */
enum mig_error_action mig_config_error_action(const mig_config *c, enum mig_obj_type type,
	const char *node, const char *leaf, unsigned error_code);
enum mig_hardlink_action { MIG_HL_DEFAULT = 0, MIG_HL_CREATE, MIG_HL_ERROR };
/* <HardLinkStoreControl><fileLocked>: first matching entry wins. */
enum mig_hardlink_action mig_config_hardlink_action(const mig_config *c, const char *node,
	const char *leaf);
/* <ProfileControl><domains>/<users> mappings (from, to) — i-th pair or -1. */
int mig_config_domain_mapping(const mig_config *c, size_t i, const char **from, const char **to);
int mig_config_user_mapping(const mig_config *c, size_t i, const char **from, const char **to);

/* Write a Config.xml listing the components of `rs` like ScanState /genconfig
 * (all migrate="yes", nested components nested).  0 ok. */
int mig_genconfig_write(const mig_ruleset *rs, FILE *out);

/* ---------------------------------------------------------------- matching */

enum mig_ctx { MIG_CTX_SYSTEM = 1, MIG_CTX_USER = 2 };

enum mig_outcome {
	MIG_NOT_SELECTED = 0,
	MIG_INCLUDED,
	MIG_EXCLUDED,
	MIG_UNCOND_EXCLUDED,
};
const char *mig_outcome_name(enum mig_outcome o);

enum mig_rule_kind {
	MIG_RULE_INCLUDE, MIG_RULE_EXCLUDE, MIG_RULE_UNCOND_EXCLUDE, MIG_RULE_MERGE,
	MIG_RULE_LOCATION_MODIFY, MIG_RULE_CONTENT_MODIFY, MIG_RULE_DESTINATION_CLEANUP,
	MIG_RULE_INCLUDE_ATTRIBUTES, MIG_RULE_EXCLUDE_ATTRIBUTES,
	MIG_RULE_KIND_COUNT
};
const char *mig_rule_kind_name(enum mig_rule_kind k);

/* One compiled pattern and where it came from.  Owned by the matcher. */
struct mig_rule_ref {
	enum mig_rule_kind kind;
	enum mig_obj_type type;
	const char *file;
	unsigned line;            /* line of the <pattern> or <script> that produced it */
	const char *component;    /* display name */
	const char *component_id;
	const char *source;       /* pattern as written, or the generator call */
	const char *pattern;      /* after variable expansion: "node [leaf]" */
	/* filter (include/exclude) or script (merge, locationModify, contentModify),
	 * e.g. helper "RelativeMove" with its arguments, variables expanded. */
	const char *helper;       /* NULL if none; name without the "MigXmlHelper." prefix */
	unsigned nargs;
	const char *const *args;  /* NULL entries are NULL arguments */
	const char *attributes;   /* include/excludeAttributes: "Security,TimeFields" */
	/* An exclude whose variable is undefined here, kept so that it matches
	 * more rather than nothing (see mig_matcher_unresolved): the variable's
	 * name; NULL for every ordinary pattern. */
	const char *unresolved;
};

struct mig_decision {
	enum mig_outcome outcome;
	const struct mig_rule_ref *rule;   /* the deciding rule, NULL if NOT_SELECTED */
	/* Most specific matching rule of each kind (any component), NULL if none:
	 * restore applies merge / locationModify / contentModify / attributes. */
	const struct mig_rule_ref *by_kind[MIG_RULE_KIND_COUNT];
};

typedef struct mig_matcher mig_matcher;

enum {
	MIG_BUILD_IGNORE_DETECTION = 1,  /* LoadState: all components present */
};

/*
 * Compile every rule of `rs` that applies to the context (system, or one
 * user with its variable table): evaluate environments, detections and
 * conditions through `host`, run generators, expand variables, and index
 * the patterns.  `cfg` (may be NULL) disables components.  0 ok.
 */
int mig_matcher_build(const mig_ruleset *rs, const mig_config *cfg, enum mig_ctx ctx,
	const mig_vars *vars, const struct mig_rules_host *host, unsigned flags,
	mig_matcher **out, mig_diags *diags);
void mig_matcher_free(mig_matcher *m);
size_t mig_matcher_pattern_count(const mig_matcher *m);
/* Components that were compiled in (detected, enabled, in context). */
size_t mig_matcher_component_count(const mig_matcher *m);
/* The i-th compiled pattern (i < mig_matcher_pattern_count), for callers that
 * must enumerate what the rules name (a capture visits the registry keys of
 * every include pattern).  NULL when out of range. */
const struct mig_rule_ref *mig_matcher_pattern(const mig_matcher *m, size_t i);

/*
 * Patterns that named a variable undefined in this context.  None may make
 * a capture wider than the same rules where it is defined:
 *  - include, merge, locationModify, contentModify, destinationCleanup and
 *    the attribute rules are dropped (`kept` false);
 *  - exclude and unconditionalExclude are kept with every undefined variable
 *    matching anything ('*'), and such an exclude beats every include of its
 *    component whatever their specificity (`kept` true): the component takes
 *    less, never more.
 * `source` is the pattern as written (or the generator call), `variable` the
 * first undefined name.  Valid while the matcher lives.
 */
struct mig_unresolved {
	const char *file;
	unsigned line;
	const char *component;
	enum mig_rule_kind kind;
	const char *variable;
	const char *source;
	const char *pattern;      /* the conservative pattern when kept, else NULL */
	bool kept;
};
size_t mig_matcher_unresolved_count(const mig_matcher *m);
const struct mig_unresolved *mig_matcher_unresolved(const mig_matcher *m, size_t i);

/*
 * Decide one object.  node = directory or registry key; leaf = file name or
 * value name ("" = default value), NULL = the directory/key itself.  The
 * object is normalised (case, trailing "\", HKEY_* spellings).  0 ok.
 */
int mig_matcher_decide(const mig_matcher *m, enum mig_obj_type type, const char *node,
	const char *leaf, struct mig_decision *d);
/* One object folded once, to decide it against several matchers (a capture
 * asks every user's matcher about each file).  init returns -1 on bad
 * arguments; free after use. */
struct mig_query {
	enum mig_obj_type type;
	char *node, *leaf;          /* normalised; leaf NULL for the node itself */
	size_t nlen, llen;
	uint64_t nmask, lmask;
	bool heap;
	char buf[1024];
};
int mig_query_init(struct mig_query *q, enum mig_obj_type type, const char *node, const char *leaf);
void mig_query_free(struct mig_query *q);
int mig_matcher_decide_query(const mig_matcher *m, const struct mig_query *q, struct mig_decision *d);
/* Same with an encoded location "node [leaf]" (leaf escapes with ^). */
int mig_matcher_decide_location(const mig_matcher *m, enum mig_obj_type type,
	const char *location, struct mig_decision *d);

/* ---------------------------------------------------------------- default rules */

/*
 * Our own default rule files (winstate-default.xml ...), found in
 * $WINSTATE_RULES_DIR, else next to the executable (<exe dir>/rules/xml and
 * <exe dir>/../rules/xml), else the build-time WS_RULES_DIR ("rules/xml").
 * Returns the number of paths stored in paths[] (malloc'd strings), 0 if
 * none found.
 */
size_t mig_rules_default_paths(char **paths, size_t max);
/* The rule compiler ends the program when memory runs out (it cannot unwind
 * from deep inside): with exit code 5, winstate's, unless the program sets
 * its own spelling's code here (USMT's 71 under scanstate/loadstate). */
void mig_set_out_of_memory_exit(int code);

/* The directory chosen by the search above (malloc'd) or NULL. */
char *mig_rules_default_dir(void);
/*
 * The rule of every command: load the rule files given, or winstate's
 * default rules when none are given (@n 0).  @each (may be NULL) hears each
 * path before it loads, for logs.  Returns 0; -1 when a file is unusable
 * (its path in @failed, the reason in @diags); -2 when none were given and
 * no default rules were found (@failed empty).
 */
int mig_ruleset_load_given_or_defaults(mig_ruleset *rs, const char *const *files, size_t n,
				       mig_diags *diags, void (*each)(void *ctx, const char *path),
				       void *ctx, char *failed, size_t failedlen);

/* ---------------------------------------------------------------- offline.xml */

/*
 * USMT's offline.xml (ScanState /offline:FILE) names the Windows to capture
 * in <offline><winDir><path> elements; here each <path> is a disk, as the
 * /offlinewindir: value is: DISK[:PART] or DISK[:PART]:\Windows.
 */
struct mig_offline_windows {
	char *disk;     /* "/dev/sda:3", "disk.img" */
	char *windir;   /* the Windows folder as a volume path ("Windows"), NULL when not named */
};
struct mig_offline {
	struct mig_offline_windows *windows;   /* in the file's order */
	size_t count;
};

/* "DISK[:PART][:\Windows]" -> malloc'd disk and Windows folder ('/'-separated,
 * no trailing '/'; NULL when not given).  0, or -1 when there is no disk. */
int mig_offline_split(const char *spec, char **disk, char **windir);
/* Every <winDir><path> of @file that names a disk (others are left out), read
 * like a rule file (no network, no DTD, no entities).  0, or -1 with a
 * sentence naming @file in @err: unreadable, not XML, or its root is not
 * <offline>.  mig_offline_free after success. */
int mig_offline_load(const char *file, struct mig_offline *out, char *err, size_t errlen);
void mig_offline_free(struct mig_offline *o);

#endif
