/*
 * Restore (LoadState): a store's users, files and settings into the Windows
 * on a target volume, written offline through ntfs/ and registry/.
 *
 *  - Users: a store user whose SID (after /mu, /md) has a profile on the
 *    target is restored into it; a domain or Entra user without one gets a
 *    new profile made as Windows makes it (folder, protected DACL,
 *    ProfileList entry, NTUSER.DAT from Users/Default).  A local account is
 *    matched by name in the target's SAM; one that does not exist there is
 *    not restored (USMT's rc 14) unless /lac creates it in the target's SAM
 *    (registry/sam.c: empty password, disabled unless /lae; a password is refused).
 *  - Files: each lands in the target user's matching known folder or the
 *    same place below the profile; an existing file is kept and the restored
 *    one is renamed "name(1).ext".  Every path is created component by
 *    component below the profile (or volume root for machine files), and a
 *    junction or symlink met on the way is refused, so a hostile store
 *    cannot write elsewhere.  Hard-link stores on the same volume are linked
 *    back (nothing copied).
 *  - Settings: registry values go into NTUSER.DAT / UsrClass.dat / SOFTWARE
 *    / SYSTEM (copied out, changed, committed, written back).
 *  - Restore-time rules (restore_rules.c, with the capture's rule files and
 *    Config.xml): locationModify moves a file or value (then checked like
 *    any destination), merge SourcePriority replaces and DestinationPriority
 *    keeps the target's, destinationCleanup deletes first, and components
 *    Config.xml switches off are not restored (listed).
 *
 * Security descriptors from a store are untrusted: fmt_sd_rewrite (formats/)
 * checks every offset and length before it maps SIDs.
 */
#ifndef WINSTATE_RESTORE_H
#define WINSTATE_RESTORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "capture/capture.h"
#include "windows/windows.h"
#include "rules/rules.h"
#include "store/store.h"

/* Outcome classes; callers translate them to winstate's or USMT's exit codes. */
enum restore_outcome {
	RESTORE_OK = 0,
	RESTORE_PARTIAL,        /* --continue skipped damaged or unwritable items (listed) */
	RESTORE_USAGE,          /* bad options (mapping, filters) */
	RESTORE_TARGET,         /* the target disk/volume/Windows is unusable */
	RESTORE_STORE_MISSING,  /* no store, incomplete store, wrong location */
	RESTORE_STORE_VERSION,  /* written by a newer winstate */
	RESTORE_STORE_CORRUPT,  /* damaged store (catalog or files) */
	RESTORE_KEY,            /* wrong or missing key */
	RESTORE_NEED_LAC,       /* a selected local account does not exist on the target */
	RESTORE_LAC_REFUSED,    /* /lac:password, or /lac on a damaged SAM / bad name: refused */
	RESTORE_FAILED,         /* a write failed (volume full, ...): stopped */
	RESTORE_INTERNAL,
	RESTORE_RULES,          /* a rule file (--rules, /i:) is missing or does not parse */
	RESTORE_CONFIG,         /* Config.xml (--config, /config:) is missing or does not parse */
};

struct restore_map {
	const char *from, *to;
};

struct restore_options {
	const char *store;          /* folder (or, with hardlink, a folder on the target volume) */
	const char *target;         /* DISK[:PART] */
	bool hardlink;              /* the store is a hard-link store on the target volume */
	const struct st_key *key;   /* NULL: none */
	bool keep_going;            /* --continue / /c */
	bool all;
	const char *const *ui;      /* include users (name, DOMAIN\name, SID; '*' wildcards) */
	size_t ui_count;
	const char *const *ue;      /* exclude users */
	size_t ue_count;
	const struct restore_map *mu; /* OLDDOM\old : NEWDOM\new (or a SID) */
	size_t mu_count;
	const struct restore_map *md; /* OLDDOM : NEWDOM */
	size_t md_count;
	bool lac, lae;
	const char *lac_password;
	/* Restore-time rules (LoadState's /i: and /config:): locationModify,
	 * merge, destinationCleanup and Config.xml's migrate="no" and
	 * ProfileControl.  No rules and no config: the capture's decisions only. */
	const char *const *rules;   /* rule files; none with a config: winstate's defaults */
	size_t rules_count;
	const char *config;         /* Config.xml, or NULL */
	int verbosity;
	FILE *log;                  /* may be NULL; progress lines and every skip */
	FILE *progress;             /* may be NULL; USMT-style progress lines */
};

struct restore_user_result {
	char *store_sid, *store_name;
	char *target_sid;           /* NULL when the user was not restored */
	char *profile;              /* volume path of the target profile */
	bool created;               /* the profile was made by this restore */
	char *skipped_reason;       /* why the user was not restored */
	uint64_t files, bytes, renamed, values;
};

struct restore_result {
	enum restore_outcome outcome;
	char message[1024];         /* the sentence for the outcome (empty on success) */
	struct restore_user_result *users;
	size_t user_count;
	uint64_t files, links, bytes, renamed, values, skipped;
	char **problems;            /* each skipped item, with its reason */
	size_t problem_count;
	/* What restore-time rules did (listed in notes, not problems). */
	uint64_t moved, replaced, kept, disabled, cleaned;
	char **notes;               /* "path: not restored: component X disabled in Config.xml" */
	size_t note_count;
	uint64_t junctions;         /* junctions and folder links made (never followed) */
};

int restore_run(const struct restore_options *opts, struct restore_result *res);
void restore_result_free(struct restore_result *res);

/* ------------------------------------------------- migrate-winold (winold.c) */

/*
 * After Windows was reinstalled without formatting: capture Windows.old's
 * users into a hard-link store on the same volume (nothing is copied), then
 * restore them into the new Windows by linking.  The store stays.
 */
struct restore_winold_options {
	const char *disk;           /* DISK[:PART] */
	const char *store;          /* the store's folder on the volume (default MigStore.winold) */
	const char **ui, **ue;      /* none of either: every user */
	size_t ui_count, ue_count;
	const struct restore_map *mu, *md;
	size_t mu_count, md_count;
	bool keep_going;
	const char *log;            /* the restore's log file, or NULL */
	/* Runs the capture; NULL: capture_run, saying nothing.  The command line
	 * passes its own, which prints what the capture says and handles signals. */
	enum capture_outcome (*capture)(struct capture_options *o, void *ctx);
	void *capture_ctx;
};

/* How far it went; each step before RESTORE_WINOLD_RESTORED ends it with
 * restore.outcome and (but for the capture's, which said why) restore.message. */
enum restore_winold_step {
	RESTORE_WINOLD_STORE_PATH,  /* the store path is not a volume path */
	RESTORE_WINOLD_CAPTURE,     /* the capture did not complete: nothing restored */
	RESTORE_WINOLD_LOG,         /* the log cannot be written: nothing restored */
	RESTORE_WINOLD_RESTORED,    /* the restore ran: restore says how it went */
};

struct restore_winold_result {
	enum restore_winold_step step;
	bool capture_partial;       /* the capture skipped items (listed by it) */
	char store[4096];           /* the store's volume path */
	struct restore_result restore;
};

/* 0 when the restore ran to RESTORE_OK, else -1; free with restore_winold_free. */
int restore_winold(const struct restore_winold_options *opts, struct restore_winold_result *res);
void restore_winold_free(struct restore_winold_result *res);

/* ---------------------------------------------------- security descriptors */

/* Parsing, SID mapping and inheritance of descriptors: fmt_sd_rewrite and
 * fmt_sd_inherit (formats/formats.h).  What restore itself decides: */
/* A profile root as Windows makes it: O:user G:SY D:PAI(A;OICI;FA;;;SY)(A;OICI;FA;;;BA)(A;OICI;FA;;;user). */
int restore_sd_profile_root(const char *user_sid, uint8_t **out, size_t *out_len);
/* "name.ext" -> "name(N).ext" (USMT's keep-both naming); malloc'd.  A name
 * that would pass NTFS's 255 UTF-16 units loses the end of its stem. */
char *restore_conflict_name(const char *name, unsigned n);

/* ------------------------------------------- restore-time rules (restore_rules.c) */

struct restore_rules;

/* Parse the rule files (none: winstate's defaults, for Config.xml's IDs) and
 * Config.xml, before anything is opened for writing.  RESTORE_OK, or
 * RESTORE_RULES / RESTORE_CONFIG with the sentence in @msg. */
enum restore_outcome restore_rules_load(const char *const *files, size_t n, const char *config,
					struct restore_rules **out, char *msg, size_t msglen);
void restore_rules_free(struct restore_rules *r);
const mig_diags *restore_rules_diags(const struct restore_rules *r);
/* Compile the rules for the system (@su NULL) or a store user, with the
 * user's variables as they were on the source; @target_user (may be NULL)
 * answers the rules' questions about HKCU on the target.  0 or -1. */
int restore_rules_add_context(struct restore_rules *r, struct win_offline *target,
			      const struct st_user *su, const struct win_user *target_user,
			      char letter);
/* The source-side variables of store user @su: profile and known folders
 * (folder:<Name> extras); the rest are Windows' documented defaults. */
void restore_rules_user_vars(mig_vars *v, const struct st_user *su, char letter);
/* /mu and /md with Config.xml's <ProfileControl> mappings after them; a
 * mapping of the command line wins.  The arrays are malloc'd, the strings
 * borrowed.  0 or -1. */
int restore_rules_mappings(const struct restore_rules *r, const struct restore_options *o,
			   struct restore_map **mu, size_t *nmu, struct restore_map **md, size_t *nmd);

enum restore_merge {
	RESTORE_MERGE_DEFAULT = 0,   /* files: keep both, name(1).ext; registry: source wins */
	RESTORE_MERGE_SOURCE,        /* MigXmlHelper.SourcePriority() */
	RESTORE_MERGE_DESTINATION,   /* MigXmlHelper.DestinationPriority() */
};

struct restore_verdict {
	bool disabled;               /* Config.xml switched its component off (why) */
	bool refused;                /* a locationModify that cannot be applied (why) */
	enum restore_merge merge;
	char *moved;                 /* files: new source-side volume path; registry: new key */
	char *moved_win;             /* files: the same as a Windows path */
	char *moved_name;            /* registry: new value name (ExactMove with a leaf) */
	char move_rule[320], merge_rule[320];
	char why[768];
	char note[512];              /* something to tell (an unsupported merge helper) */
};
int restore_rules_file(const struct restore_rules *r, const struct st_file *f,
		       struct restore_verdict *v);
int restore_rules_value(const struct restore_rules *r, const struct st_reg_value *val,
			struct restore_verdict *v);
void restore_verdict_clear(struct restore_verdict *v);
/* The i-th destinationCleanup pattern of @owner's context (a SID or
 * ST_OWNER_SYSTEM): 1 with *type, *pattern (expanded) and the rule's text, 0 past the end. */
size_t restore_rules_cleanup(const struct restore_rules *r, const char *owner, size_t i,
			     enum mig_obj_type *type, const char **pattern, char *rule, size_t rulelen);
/* Note which components have something in the store (after every context
 * is added): only their destinationCleanup runs. */
void restore_rules_index(struct restore_rules *r, struct st_reader *rd);
/* 1 when a destinationCleanup of @owner's context names the file @win_path
 * ("C:\\Users\\bob\\x", source-side). */
int restore_rules_cleanup_file(const struct restore_rules *r, const char *owner, const char *win_path);
/* The folder part of a file pattern before its first wildcard ("C:\\a\\b\\* [*]" -> "C:\\a\\b"). */
char *restore_rules_literal_prefix(const char *pattern);
/* Delete what @pattern ("Key\Path [value]", relative to the hive's root;
 * "Key\* [*]" empties Key) names in @h.  0 or -1. */
int restore_rules_clean_hive(reg_hive *h, const char *pattern, size_t *removed);
/* Give file @used in folder @parent the name @name, replacing the plain file
 * there (SourcePriority).  0, or -1 with a sentence in @why. */
int restore_rules_replace(struct nv_volume *vol, uint64_t parent, const char *name_path,
			  const char *name, const char *used, char *why, size_t whylen);
/* Whether a file that cannot be restored (@code: a Win32 error, 1392 =
 * ERROR_FILE_CORRUPT for a damaged store file, 0 = other) is skipped (true) or
 * stops the restore: Config.xml's <ErrorControl> <nonFatal>/<fatal> first
 * matching pattern, else @keep_going (--continue, /c).  @r may be NULL. */
bool restore_rules_keep_going(const struct restore_rules *r, const struct st_file *f, unsigned code,
			      bool keep_going);
/* Add a note to the result (and the log). */
void restore_result_note(struct restore_result *res, FILE *log, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Pure pieces, for tests. */
/* The Windows path @object after locationModify @helper(@args): malloc'd, or
 * NULL when it does not move (err empty) or cannot be applied (err says why). */
char *restore_location_modify(const char *helper, unsigned nargs, const char *const *args,
			      const char *object, const mig_vars *vars, char *err, size_t errlen);
/* "x.xml:12 include (component \"Name\")" -> "x.xml", "Name" (malloc'd).  0 or -1. */
int restore_decision_component(const char *decision, char **file, char **component);

#endif
