/*
 * Restore (LoadState): a store's users, files and settings into the Windows
 * on a target volume, written offline through ntfs/ and registry/.
 *
 *  - Users: a store user whose SID (after /mu, /md) has a profile on the
 *    target is restored into it; a domain or Entra user without one gets a
 *    new profile made as Windows makes it (folder, protected DACL,
 *    ProfileList entry, NTUSER.DAT from Users/Default).  A local account is
 *    matched by name in the target's SAM; one that does not exist there is
 *    not restored (USMT's rc 14) — creating SAM accounts (/lac) is refused.
 *  - Files: each lands in the target user's matching known folder or the
 *    same place below the profile; an existing file is kept and the restored
 *    one is renamed "name(1).ext".  Every path is created component by
 *    component below the profile (or volume root for machine files), and a
 *    junction or symlink met on the way is refused, so a hostile store
 *    cannot write elsewhere.  Hard-link stores on the same volume are linked
 *    back (nothing copied).
 *  - Settings: registry values go into NTUSER.DAT / UsrClass.dat / SOFTWARE
 *    / SYSTEM (copied out, changed, committed, written back).
 *
 * Security descriptors from a store are untrusted: restore_sd_rewrite checks
 * every offset and length before it maps SIDs.
 */
#ifndef WINSTATE_AGENT_RESTORE_H
#define WINSTATE_AGENT_RESTORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

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
	RESTORE_LAC_REFUSED,    /* /lac asked: creating SAM accounts is not supported */
	RESTORE_FAILED,         /* a write failed (volume full, ...): stopped */
	RESTORE_INTERNAL,
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
};

int restore_run(const struct restore_options *opts, struct restore_result *res);
void restore_result_free(struct restore_result *res);

/* ---------------------------------------------------- security descriptors */

/* Returns the binary SID to use instead of @sid (@len bytes), or NULL to keep it. */
typedef const uint8_t *(*restore_sid_map_fn)(const uint8_t *sid, size_t len, size_t *new_len,
					     void *ctx);
/*
 * Check a self-relative security descriptor (every offset, length, SID and
 * ACE bounded) and rebuild it with owner, group and every ACE's SID passed
 * through @map (may be NULL: check and copy).  *@out is malloc'd.  Returns 0,
 * or -1 with a sentence in @err.
 */
int restore_sd_rewrite(const uint8_t *sd, size_t len, restore_sid_map_fn map, void *ctx,
		       uint8_t **out, size_t *out_len, char *err, size_t errlen);
/* A profile root as Windows makes it: O:user G:SY D:PAI(A;OICI;FA;;;SY)(A;OICI;FA;;;BA)(A;OICI;FA;;;user). */
int restore_sd_profile_root(const char *user_sid, uint8_t **out, size_t *out_len);
/* The descriptor a new child of @parent inherits (owner @owner_sid, or the parent's). */
int restore_sd_inherit(const uint8_t *parent, size_t len, const char *owner_sid, bool is_dir,
		       uint8_t **out, size_t *out_len);

/* "name.ext" -> "name(N).ext" (USMT's keep-both naming); malloc'd. */
char *restore_conflict_name(const char *name, unsigned n);

#endif
