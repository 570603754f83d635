/*
 * Private to restore/: the run's context and what its files share.  Order of
 * a run (run.c): open the target and the store; plan every user (plan.c);
 * make missing profiles (profile.c); destinationCleanup (rules_apply.c);
 * files (files.c); registry values and hives back into the volume
 * (registry.c).  context.c holds the outcome, problems, log and paths.
 */
#ifndef WINSTATE_RESTORE_INTERNAL_H
#define WINSTATE_RESTORE_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "windows/windows.h"
#include "formats/formats.h"
#include "restore/restore.h"
#include "capture/capture.h"
#include "registry/registry.h"

#define NO_MREF UINT64_MAX
#define MAX_SID 68

struct known_folder {
	char *name;   /* "Personal" */
	char *src;    /* store volume path: "Users/bob/OneDrive/Documents" */
	char *dst;    /* target volume path */
};

struct plan {
	const struct st_user *su;
	char *domain;          /* source domain (or computer for local accounts) */
	bool local;            /* a local account of the source machine */
	bool restore;
	char *target_sid;
	char *target_name;
	char *target_domain;   /* the target account's domain (NULL: a local account) */
	bool renamed;          /* /mu gave the account a new name */
	char *profile;         /* target volume path "Users/alice" */
	char *profile_win;     /* "C:\\Users\\alice" */
	bool create;
	uint64_t profile_mref;
	char *ntuser_local, *ntuser_volume;
	char *usrclass_local, *usrclass_volume;
	reg_hive *ntuser, *usrclass;
	bool ntuser_dirty, usrclass_dirty;
	bool usrclass_tried, usrclass_new; /* a new empty UsrClass.dat was made for it */
	struct known_folder *kf;
	size_t nkf;
	size_t result;         /* index in res->users */
};

struct dir_entry {
	char *key;             /* lower-case volume path */
	uint64_t mref;
	struct dir_entry *next;
};
#define DIR_BUCKETS 4096

struct sid_pair {
	uint8_t from[MAX_SID], to[MAX_SID];
	size_t from_len, to_len;
};

struct ctx {
	const struct restore_options *o;
	struct restore_result *res;
	struct nv_volume *vol;
	struct win_offline *win;
	struct st_reader *r;
	const struct st_store_info *info;
	struct plan *plans;
	size_t nplans;
	uint64_t *file_mref;
	struct mref_slot *mine;  /* records this run restored a file into: record -> index */
	size_t mine_cap, mine_count;
	struct dir_entry *dirs[DIR_BUCKETS];
	struct sid_pair *sids;
	size_t nsids;
	reg_hive *software, *system;
	bool software_dirty, system_dirty;
	char *software_local, *system_local;
	reg_hive *sam;          /* opened for /lac only */
	bool sam_dirty;        /* /lac created an account: write SAM back first */
	char *sam_local;
	bool resume;           /* an interrupted restore of this store is finished */
	uint64_t resume_since; /* resuming: the creation time of its mark (NTFS time) */
	char *store_dir;         /* hard-link store: the folder of the last link looked up */
	uint64_t store_dir_mref;
	struct restore_rules *rules;   /* restore-time rules, or NULL (restore_rules.c) */
	struct restore_verdict value_verdict; /* the value being restored: its moved key */
	struct restore_options eff;    /* the options with Config.xml's mappings */
	struct restore_map *eff_mu, *eff_md;
	char drive;
	bool fatal;
};

#define RESUME_MARK "winstate-restore.incomplete"   /* see resume_begin */
#define PARTIAL_NAME "winstate-restore.partial"
#define SETTABLE_ATTRS (NV_ATTR_READONLY | NV_ATTR_HIDDEN | NV_ATTR_SYSTEM | NV_ATTR_ARCHIVE | \
			NV_ATTR_TEMPORARY | NV_ATTR_OFFLINE | NV_ATTR_NOT_CONTENT_INDEXED)
#define USRCLASS_FOLDER "AppData/Local/Microsoft/Windows"

/* context.c */
void outcome(struct ctx *c, enum restore_outcome o, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
enum restore_outcome nomem(struct ctx *c);
void problem(struct ctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void nv_problem(struct ctx *c, enum nv_status st, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void logf_(struct ctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
char *xstrdup(const char *s);
char *joinp(const char *a, const char *b);
const char *user_extra(const struct st_user *u, const char *key);
char *win_to_volume(const char *win, char drive);
const char *below(const char *path, const char *prefix);
char *lower_key(const char *s);
bool dir_cached(struct ctx *c, const char *key, uint64_t *mref);
void dir_remember(struct ctx *c, char *key, uint64_t mref);
void restore_ea(struct ctx *c, const struct st_file *f, uint64_t mref);
enum nv_status ensure_dir(struct ctx *c, const char *root, uint64_t root_mref, const char *path,
			  const char *owner, uint64_t *out);
bool real_folders(struct ctx *c, const char *path);

/* plan.c */
const uint8_t *map_sid(const uint8_t *sid, size_t len, size_t *new_len, void *ctx);
const struct win_user *target_profile_of(struct ctx *c, const char *sid);
bool is_shell_folders_key(const char *key);
void plan_known_folders(struct ctx *c, struct plan *p, const struct win_user *tu);
enum restore_outcome plan_users(struct ctx *c);

/* profile.c */
bool folder_is_empty(struct ctx *c, const char *path);
enum restore_outcome create_profile(struct ctx *c, struct plan *p);

/* files.c */
char *relocate(struct ctx *c, const struct st_file *f, struct plan **owner, const char **root);
void resume_begin(struct ctx *c);
enum restore_outcome restore_file(struct ctx *c, size_t index);

/* rules_apply.c */
bool rules_value(struct ctx *c, const struct st_reg_value *v, const char **key, const char **name,
		 enum restore_merge *merge);
char *rules_destination(struct ctx *c, const struct st_file *f, struct plan **p, const char **root,
			enum restore_merge *merge);
void rules_cleanup(struct ctx *c, struct plan *p);
enum restore_outcome rules_prepare(struct ctx *c);

/* registry.c */
reg_hive *open_rw(struct ctx *c, const char *local, const char *what);
bool strip_prefix(const char **key, const char *prefix);
void restore_value(struct ctx *c, const struct st_reg_value *v);
int write_back(struct ctx *c, const char *local, const char *path, const char *owner);
int commit_hive(struct ctx *c, reg_hive *h, const char *volume_path, const char *owner, const char *tag);

#endif
