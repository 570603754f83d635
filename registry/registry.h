/*
 * registry — offline Windows registry hives, read and written through hivex.
 *
 * This is the only public header of the module; no hivex type appears here.
 *
 *  - Opening a hive checks its base block.  A dirty hive (primary and
 *    secondary sequence numbers differ, or a bad base-block checksum) is
 *    repaired by replaying its transaction logs (.LOG1/.LOG2 new format, or
 *    .LOG/.LOG1 old format, found beside the file case-insensitively) into a
 *    private temporary copy; the source file is never modified.  The outcome is
 *    a state (enum reg_hive_state) and a one-sentence detail.
 *  - Keys are addressed by backslash paths relative to the hive root,
 *    compared case-insensitively.  Values come back with their exact type and
 *    raw bytes; helpers decode strings and integers.
 *  - A hive set maps full registry paths (HKLM\..., HKCU\..., HKU\<SID>\...)
 *    onto hive files the caller supplies as local paths.
 *  - Writes stay in memory until reg_hive_commit(path).
 *  - ws_facts_*() read facts about the offline Windows from its hives.
 *
 * Functions returning int return 0 (REG_OK) or a positive enum reg_err;
 * a handle keeps the last error message (reg_hive_errmsg()).  Strings are UTF-8
 * and owned by the caller unless said otherwise.
 */
#ifndef WINSTATE_REGISTRY_H
#define WINSTATE_REGISTRY_H

#include <stddef.h>
#include <stdint.h>

/* Errors.  Numbers are explicit and never reused. */
enum reg_err {
	REG_OK = 0,
	REG_ENOMEM = 1,      /* out of memory */
	REG_EIO = 2,         /* a file could not be read or written */
	REG_EFORMAT = 3,     /* not a hive, or a hive damaged beyond use */
	REG_ENOTFOUND = 4,   /* no such key, value or hive */
	REG_EINVAL = 5,      /* bad argument (path, type, SID string, ...) */
	REG_EHIVEX = 6,      /* hivex refused an operation (see errmsg) */
	REG_ERDONLY = 7,     /* write on a hive opened read-only */
	REG_ETYPE = 8,       /* value has a type the decoder cannot read */
};
const char *reg_strerror(int err);

/* Registry value types (winnt.h numbers).  Other numbers are kept raw. */
enum {
	REG_NONE = 0,
	REG_SZ = 1,
	REG_EXPAND_SZ = 2,
	REG_BINARY = 3,
	REG_DWORD = 4,
	REG_DWORD_BIG_ENDIAN = 5,
	REG_LINK = 6,
	REG_MULTI_SZ = 7,
	REG_RESOURCE_LIST = 8,
	REG_FULL_RESOURCE_DESCRIPTOR = 9,
	REG_RESOURCE_REQUIREMENTS_LIST = 10,
	REG_QWORD = 11,
};
/* "REG_SZ", ...; numbers without a name give "REG_UNKNOWN" (print the number). */
const char *reg_type_name(uint32_t type);

/* ---------------------------------------------------------------------- */
/* Dirty-hive detection and log replay                                    */

enum reg_hive_state {
	REG_HIVE_CLEAN = 0,              /* base block consistent; logs not needed */
	REG_HIVE_REPLAYED = 1,           /* dirty; logs replayed into a private copy */
	REG_HIVE_DIRTY_NOT_REPLAYED = 2, /* dirty; logs missing/stale/damaged: base hive as is */
	REG_HIVE_UNRECOVERABLE = 3,      /* base block unusable and no log could repair it */
};
const char *reg_hive_state_name(enum reg_hive_state s); /* "clean", "replayed", ... */

enum reg_log_format { REG_LOG_NONE = 0, REG_LOG_OLD = 1, REG_LOG_NEW = 2 };

struct reg_replay_report {
	enum reg_hive_state state;
	char detail[320];               /* one sentence for people */
	uint32_t primary_seq;           /* of the source base block */
	uint32_t secondary_seq;
	int checksum_ok;                /* source base-block checksum was right */
	enum reg_log_format format;      /* format of the logs that were used */
	unsigned logs_found;            /* log files found beside the hive */
	unsigned entries_applied;       /* HvLE entries applied (each passed both hashes) */
	unsigned entries_rejected;      /* entries that failed a hash or were malformed */
	unsigned entries_skipped;       /* valid entries not applied (stale or after a gap) */
	unsigned pages_applied;         /* dirty pages (new) or sectors (old) written */
	uint32_t final_seq;             /* sequence number of the result */
	uint32_t hbins_size;            /* hive bins data size of the result */
};

/* Check the hive at hive_path and, when dirty, replay its logs into out_path
 * (created or truncated).  When the hive is clean, out_path is not written
 * (rep->state == REG_HIVE_CLEAN).  Logs are looked up beside hive_path as
 * <name>.LOG1, <name>.LOG2 and <name>.LOG, case-insensitively.  Returns 0 when
 * the report is filled in (whatever the state), an error only for I/O on
 * out_path, memory, or a file that is not a hive at all.  Source files are
 * only read. */
int reg_hive_replay(const char *hive_path, const char *out_path, struct reg_replay_report *rep);

/* Same, with the log paths given explicitly (either may be NULL). */
int reg_hive_replay_logs(const char *hive_path, const char *log1, const char *log2,
			const char *out_path, struct reg_replay_report *rep);

/* Base-block checksum (XOR of the first 127 little-endian dwords, 0 -> 1,
 * 0xFFFFFFFF -> 0xFFFFFFFE) of a 512-byte or longer buffer. */
uint32_t reg_regf_checksum(const uint8_t *base_block);

/* Marvin32 hash; Windows seeds it with REG_MARVIN32_REGISTRY_SEED for HvLE. */
#define REG_MARVIN32_REGISTRY_SEED 0x82EF4D887A4E55C5ull
uint64_t reg_marvin32(const void *data, size_t len, uint64_t seed);

/* ---------------------------------------------------------------------- */
/* Hive handles                                                           */

typedef struct reg_hive reg_hive;
typedef size_t reg_key;                  /* 0 = none */

enum {
	REG_HIVE_OPEN_WRITE = 1 << 0,    /* allow changes (commit with reg_hive_commit) */
	REG_HIVE_OPEN_NO_REPLAY = 1 << 1,/* open the base hive as is even when dirty */
};

/* Open a hive file (replaying its logs when dirty, see reg_hive_replay).  On
 * failure returns NULL and, when err is not NULL, stores the error; when msg
 * is not NULL, copies a sentence (msgsz bytes at most) saying why. */
reg_hive *reg_hive_open(const char *path, unsigned flags, int *err, char *msg, size_t msgsz);
void reg_hive_close(reg_hive *h);
const struct reg_replay_report *reg_hive_report(const reg_hive *h);
const char *reg_hive_path(const reg_hive *h);      /* the source path given to open */
const char *reg_hive_errmsg(const reg_hive *h);    /* last error on this handle */

/* Write the hive (with its changes) to path. */
int reg_hive_commit(reg_hive *h, const char *path);

/* ---------------------------------------------------------------------- */
/* Keys and values                                                        */

struct reg_value {
	char *name;             /* UTF-8; "" is the default value */
	uint32_t type;          /* exact type number, unusual ones too */
	uint8_t *data;          /* raw bytes as stored */
	size_t len;
};
void reg_value_clear(struct reg_value *v);
void reg_values_free(struct reg_value *v, size_t n);

reg_key reg_hive_root(reg_hive *h);
/* Find a key by path relative to the root ("" or "\\" is the root). */
int reg_key_open(reg_hive *h, const char *path, reg_key *out);
int reg_key_child(reg_hive *h, reg_key parent, const char *name, reg_key *out);
char *reg_key_name(reg_hive *h, reg_key k);                 /* NULL on error */
int reg_key_subkeys(reg_hive *h, reg_key k, reg_key **out, size_t *n); /* free(*out) */
int64_t reg_key_timestamp(reg_hive *h, reg_key k);           /* FILETIME, -1 unknown */
int reg_key_values(reg_hive *h, reg_key k, struct reg_value **out, size_t *n);
/* Value by name, case-insensitive; "" or NULL is the default value. */
int reg_key_get_value(reg_hive *h, reg_key k, const char *name, struct reg_value *out);
int reg_hive_get_value(reg_hive *h, const char *key_path, const char *name,
		      struct reg_value *out);

/* Visit every key (depth first, pre-order) with its path relative to the root;
 * the callback returns non-zero to stop (that number is returned). */
typedef int (*reg_key_cb)(reg_hive *h, reg_key k, const char *path, void *opaque);
int reg_hive_walk(reg_hive *h, reg_key start, const char *start_path, reg_key_cb cb, void *opaque);

/* Pattern matching, MigXML-like: "Key\Path [Value]".  '*' and '?' match within
 * one key-name component or value name, case-insensitively; a last key
 * component that is exactly "*" means "this key and every key below it".
 * Without a "[...]" part keys match (value == NULL in the callback); with it
 * each matching value of each matching key is passed.  Returns 0, a callback's
 * non-zero stop number, or an error. */
typedef int (*reg_match_cb)(reg_hive *h, const char *key_path, reg_key k,
			   const struct reg_value *value, void *opaque);
int reg_hive_match(reg_hive *h, const char *pattern, reg_match_cb cb, void *opaque);
/* Case-insensitive glob of one component ('*', '?'); 1 = match. */
int reg_glob(const char *pattern, const char *name);

/* Decoders.  Strings: UTF-16LE up to the first NUL or the end, to UTF-8
 * (formats' conversion: fmt_utf16le_to_utf8, lone surrogates as WTF-8). */
int reg_value_string(const struct reg_value *v, char **out); /* SZ, EXPAND_SZ, LINK, (MULTI_SZ: first) */
int reg_value_multi(const struct reg_value *v, char ***out, size_t *n); /* free each + array */
int reg_value_u32(const struct reg_value *v, uint32_t *out); /* DWORD, DWORD_BIG_ENDIAN, 4-byte BINARY */
int reg_value_u64(const struct reg_value *v, uint64_t *out); /* QWORD, DWORD, 8-byte BINARY */
/* Data as text the way `reg query` shows it (strings, 0x numbers, hex). */
char *reg_value_format(const struct reg_value *v);

/* ---------------------------------------------------------------------- */
/* Writing (hive opened with REG_HIVE_OPEN_WRITE)                          */

/* Create every missing component of path; *out (may be NULL) is the key. */
int reg_key_create(reg_hive *h, const char *path, reg_key *out);
int reg_key_set_value(reg_hive *h, reg_key k, const char *name, uint32_t type,
		     const void *data, size_t len);
/* Strings are UTF-8 (WTF-8 for lone surrogates); malformed UTF-8 is REG_EINVAL. */
int reg_key_set_string(reg_hive *h, reg_key k, const char *name, uint32_t type, const char *utf8);
int reg_key_set_multi(reg_hive *h, reg_key k, const char *name, const char *const *strings, size_t n);
int reg_key_set_dword(reg_hive *h, reg_key k, const char *name, uint32_t v);
int reg_key_set_qword(reg_hive *h, reg_key k, const char *name, uint64_t v);
int reg_key_delete_value(reg_hive *h, reg_key k, const char *name);
int reg_key_delete(reg_hive *h, reg_key k);        /* with everything below it */

/* New user hive from a template (the target's Default\NTUSER.DAT): copy (logs
 * replayed if dirty) to out_path. */
int reg_hive_create_from_template(const char *template_path, const char *out_path,
				 char *msg, size_t msgsz);

/* A new, empty, clean hive written from nothing (hivex cannot make one):
 * root key @root_name (printable ASCII, e.g. "<SID>_Classes" for a
 * UsrClass.dat), key security owned by @owner_sid (full control for the user,
 * SYSTEM and Administrators), @filetime as its last-written time. */
int reg_hive_create_empty(const char *out_path, const char *root_name, const char *owner_sid,
			 uint64_t filetime, char *msg, size_t msgsz);

/* Add (or replace) HKLM\SOFTWARE\Microsoft\Windows NT\CurrentVersion\ProfileList\<sid>
 * in a SOFTWARE hive: ProfileImagePath (REG_EXPAND_SZ), Sid (REG_BINARY),
 * State, Flags, RefCount, ProfileAttemptedProfileDownloadTimeLow/High and
 * LocalProfileLoadTime/UnloadTime (0) as DWORDs. */
struct reg_profile_new {
	const char *sid;
	const char *image_path;         /* e.g. "C:\\Users\\tony" */
	uint32_t state;
	uint32_t flags;
};
int reg_profilelist_add(reg_hive *software, const struct reg_profile_new *p);

/* ---------------------------------------------------------------------- */
/* Hive sets: full registry paths -> hive + path inside it                */

enum reg_hive_kind {
	REG_HK_SYSTEM, REG_HK_SOFTWARE, REG_HK_SAM, REG_HK_SECURITY, REG_HK_DEFAULT,
	REG_HK_NTUSER, REG_HK_USRCLASS,
};
typedef struct reg_hive_set reg_hive_set;

reg_hive_set *reg_hive_set_new(void);
void reg_hive_set_free(reg_hive_set *s);          /* closes the hives it opened */
/* Register a hive file; sid is for NTUSER/USRCLASS (NULL otherwise). */
int reg_hive_set_add(reg_hive_set *s, enum reg_hive_kind kind, const char *sid, const char *path);
/* The user HKCU means. */
int reg_hive_set_current_user(reg_hive_set *s, const char *sid);

enum { REG_VIEW_DEFAULT = 0, REG_VIEW_32 = 1 };
struct reg_location {
	reg_hive *hive;          /* owned by the set; opened on first use */
	enum reg_hive_kind kind;
	char *subpath;          /* path inside the hive; free() it */
};
/* Resolve "HKLM\Software\...", "HKEY_LOCAL_MACHINE\...", "HKCU\...",
 * "HKU\<SID>\...", "HKU\<SID>_Classes\...", "HKCR\..." (as HKLM\Software\Classes).
 * HKLM\System\CurrentControlSet is replaced by ControlSet00N from Select\Current. */
int reg_hive_set_resolve(reg_hive_set *s, const char *full_path, unsigned view,
			struct reg_location *out);
const char *reg_hive_set_errmsg(const reg_hive_set *s);

/* ---------------------------------------------------------------------- */
/* Facts about an offline Windows                                         */

/* Name of SYSTEM's current control set ("ControlSet001"), from Select\Current
 * (falls back to Default, then 1).  Returns a malloc'd string or NULL. */
char *reg_system_current_control_set(reg_hive *system);

struct reg_windows_info {
	/* product_name says "Windows 11" for build >= 22000, where the registry's
	 * ProductName still says "Windows 10" (Microsoft never changed it). */
	char *product_name, *edition_id, *current_build, *display_version;
	char *arch;             /* "AMD64", "x86", "ARM64" or NULL */
	char *computer_name;
	char *domain;           /* Tcpip Parameters Domain / NV Domain, NULL if none */
	int entra_joined;       /* CloudDomainJoin\JoinInfo has a subkey */
	char *entra_tenant;     /* TenantId of that subkey, or NULL */
	char *control_set;      /* "ControlSet001" */
};
/* Either hive may be NULL; missing facts stay NULL. */
int reg_facts_windows(reg_hive *software, reg_hive *system, struct reg_windows_info *out);
void reg_windows_info_clear(struct reg_windows_info *w);

#define REG_PROFILE_STATE_TEMP 0x0800u   /* PROFILE_TEMP_ASSIGNED */
struct reg_profile {
	char *sid;              /* key name without ".bak" */
	char *image_path_raw;   /* as stored (may contain %SystemDrive%) */
	char *image_path;       /* %SystemDrive% -> C:, %SystemRoot% -> C:\Windows */
	uint32_t state, flags;
	int64_t load_time, unload_time; /* FILETIME, 0 if absent */
	int is_bak;             /* key name ends in .bak */
	int is_temp;            /* state has PROFILE_TEMP_ASSIGNED or path under \TEMP */
	int sid_ok;             /* Sid value matches the key name (when present) */
};
int reg_facts_profiles(reg_hive *software, struct reg_profile **out, size_t *n);
void reg_profiles_free(struct reg_profile *p, size_t n);

struct reg_local_user {
	char *name;
	uint32_t rid;
	char *full_name, *comment;      /* from V, NULL if empty */
	int disabled;                   /* F offset 0x38, bit 0x0001 */
	int64_t last_logon;             /* F offset 0x08, FILETIME */
};
int reg_facts_sam_users(reg_hive *sam, struct reg_local_user **out, size_t *n);
void reg_local_users_free(struct reg_local_user *u, size_t n);

/* Create a local account in a SAM hive opened for writing (LoadState's /lac):
 * Users\<RID> with its F and V records, Users\Names\<name>, the domain's
 * next RID bumped, and membership of the Users alias when the SAM has it.
 * No password hash is written: a non-empty @password is refused (it would
 * need the SAM key's RC4/AES-128 encryption), so the account has an empty
 * password (flagged password-not-required); it is disabled unless @enabled.
 * A duplicate name (case-insensitive), an invalid name or a damaged SAM
 * (no Account\F, no machine SID) is refused with a sentence in
 * reg_hive_errmsg() and nothing changed.  Commit with reg_hive_commit. */
struct reg_sam_new_user {
	const char *name;               /* UTF-8, 1-20 characters */
	const char *password;           /* NULL or "": none */
	int enabled;                    /* 0: disabled (USMT without /lae) */
	uint64_t now;                   /* FILETIME: password last set */
};
struct reg_sam_created {
	uint32_t rid;
	char sid[96];                   /* S-1-5-21-x-y-z-RID */
	int in_users_alias;             /* 0 when the SAM has no Users alias */
};
int reg_sam_create_user(reg_hive *sam, const struct reg_sam_new_user *u, struct reg_sam_created *out);

struct reg_user_folder {
	char *name;             /* value name: "Personal", "Desktop", "{374DE290-...}" */
	char *raw;              /* as stored */
	char *path;             /* %USERPROFILE% etc. expanded */
	const char *source;     /* "User Shell Folders" or "Shell Folders" */
	int is_unc;             /* \\server\share: not on this disk */
	int onedrive;           /* redirected into a OneDrive folder */
};
/* profile_path is what %USERPROFILE% expands to (e.g. "C:\Users\tony"). */
int reg_facts_user_folders(reg_hive *ntuser, const char *profile_path,
			  struct reg_user_folder **out, size_t *n);
void reg_user_folders_free(struct reg_user_folder *f, size_t n);

/*
 * What a profile's account is called, from the evidence Windows leaves
 * (SAM comes first and is the caller's):
 *   1. SOFTWARE IdentityStore\Cache\<SID>\IdentityCache\<SID>: SAMName, else UserName
 *   2. the user's Volatile Environment\USERNAME (the logon session's own record)
 *   3. SOFTWARE LogonUI LastLoggedOnSAMUser, only when LastLoggedOnUserSID is @sid
 *   4. the user's Explorer\Logon User Name
 * (then the caller's profile folder name).  A display name — Office's
 * UserInfo\UserName, IdentityStore DisplayName, LogonUI LastLoggedOnDisplayName —
 * is free text and kept apart; so is the Microsoft account (IdentityCRL).
 * Either hive may be NULL; absent facts stay NULL.
 */
struct reg_account_names {
	char *name, *source;                 /* best account name, where it came from */
	char *domain;                        /* USERDOMAIN, or LastLoggedOnSAMUser's domain */
	char *display_name, *display_source; /* a person's name, never an account name */
	char *online_account;             /* IdentityCRL\UserExtendedProperties subkey */
};
int reg_facts_account_names(reg_hive *software, reg_hive *ntuser, const char *sid,
			   struct reg_account_names *out);
void reg_account_names_clear(struct reg_account_names *a);

#endif
