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
 *    a state (enum ws_hive_state) and a one-sentence detail.
 *  - Keys are addressed by backslash paths relative to the hive root,
 *    compared case-insensitively.  Values come back with their exact type and
 *    raw bytes; helpers decode strings and integers.
 *  - A hive set maps full registry paths (HKLM\..., HKCU\..., HKU\<SID>\...)
 *    onto hive files the caller supplies as local paths.
 *  - Writes stay in memory until ws_hive_commit(path).
 *  - ws_facts_*() read facts about the offline Windows from its hives.
 *
 * Functions returning int return 0 (WS_REG_OK) or a positive enum ws_reg_err;
 * a handle keeps the last error message (ws_hive_errmsg()).  Strings are UTF-8
 * and owned by the caller unless said otherwise.
 */
#ifndef WINSTATE_REGISTRY_H
#define WINSTATE_REGISTRY_H

#include <stddef.h>
#include <stdint.h>

/* Errors.  Numbers are explicit and never reused. */
enum ws_reg_err {
	WS_REG_OK = 0,
	WS_REG_ENOMEM = 1,      /* out of memory */
	WS_REG_EIO = 2,         /* a file could not be read or written */
	WS_REG_EFORMAT = 3,     /* not a hive, or a hive damaged beyond use */
	WS_REG_ENOTFOUND = 4,   /* no such key, value or hive */
	WS_REG_EINVAL = 5,      /* bad argument (path, type, SID string, ...) */
	WS_REG_EHIVEX = 6,      /* hivex refused an operation (see errmsg) */
	WS_REG_ERDONLY = 7,     /* write on a hive opened read-only */
	WS_REG_ETYPE = 8,       /* value has a type the decoder cannot read */
};
const char *ws_reg_strerror(int err);

/* Registry value types (winnt.h numbers).  Other numbers are kept raw. */
enum {
	WS_REG_NONE = 0,
	WS_REG_SZ = 1,
	WS_REG_EXPAND_SZ = 2,
	WS_REG_BINARY = 3,
	WS_REG_DWORD = 4,
	WS_REG_DWORD_BIG_ENDIAN = 5,
	WS_REG_LINK = 6,
	WS_REG_MULTI_SZ = 7,
	WS_REG_RESOURCE_LIST = 8,
	WS_REG_FULL_RESOURCE_DESCRIPTOR = 9,
	WS_REG_RESOURCE_REQUIREMENTS_LIST = 10,
	WS_REG_QWORD = 11,
};
/* "REG_SZ", ...; numbers without a name give "REG_UNKNOWN" (print the number). */
const char *ws_reg_type_name(uint32_t type);

/* ---------------------------------------------------------------------- */
/* Dirty-hive detection and log replay                                    */

enum ws_hive_state {
	WS_HIVE_CLEAN = 0,              /* base block consistent; logs not needed */
	WS_HIVE_REPLAYED = 1,           /* dirty; logs replayed into a private copy */
	WS_HIVE_DIRTY_NOT_REPLAYED = 2, /* dirty; logs missing/stale/damaged: base hive as is */
	WS_HIVE_UNRECOVERABLE = 3,      /* base block unusable and no log could repair it */
};
const char *ws_hive_state_name(enum ws_hive_state s); /* "clean", "replayed", ... */

enum ws_log_format { WS_LOG_NONE = 0, WS_LOG_OLD = 1, WS_LOG_NEW = 2 };

struct ws_replay_report {
	enum ws_hive_state state;
	char detail[320];               /* one sentence for people */
	uint32_t primary_seq;           /* of the source base block */
	uint32_t secondary_seq;
	int checksum_ok;                /* source base-block checksum was right */
	enum ws_log_format format;      /* format of the logs that were used */
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
 * (rep->state == WS_HIVE_CLEAN).  Logs are looked up beside hive_path as
 * <name>.LOG1, <name>.LOG2 and <name>.LOG, case-insensitively.  Returns 0 when
 * the report is filled in (whatever the state), an error only for I/O on
 * out_path, memory, or a file that is not a hive at all.  Source files are
 * only read. */
int ws_hive_replay(const char *hive_path, const char *out_path, struct ws_replay_report *rep);

/* Same, with the log paths given explicitly (either may be NULL). */
int ws_hive_replay_logs(const char *hive_path, const char *log1, const char *log2,
			const char *out_path, struct ws_replay_report *rep);

/* Base-block checksum (XOR of the first 127 little-endian dwords, 0 -> 1,
 * 0xFFFFFFFF -> 0xFFFFFFFE) of a 512-byte or longer buffer. */
uint32_t ws_regf_checksum(const uint8_t *base_block);

/* Marvin32 hash; Windows seeds it with WS_MARVIN32_REGISTRY_SEED for HvLE. */
#define WS_MARVIN32_REGISTRY_SEED 0x82EF4D887A4E55C5ull
uint64_t ws_marvin32(const void *data, size_t len, uint64_t seed);

/* ---------------------------------------------------------------------- */
/* Hive handles                                                           */

typedef struct ws_hive ws_hive;
typedef size_t ws_key;                  /* 0 = none */

enum {
	WS_HIVE_OPEN_WRITE = 1 << 0,    /* allow changes (commit with ws_hive_commit) */
	WS_HIVE_OPEN_NO_REPLAY = 1 << 1,/* open the base hive as is even when dirty */
};

/* Open a hive file (replaying its logs when dirty, see ws_hive_replay).  On
 * failure returns NULL and, when err is not NULL, stores the error; when msg
 * is not NULL, copies a sentence (msgsz bytes at most) saying why. */
ws_hive *ws_hive_open(const char *path, unsigned flags, int *err, char *msg, size_t msgsz);
void ws_hive_close(ws_hive *h);
const struct ws_replay_report *ws_hive_report(const ws_hive *h);
const char *ws_hive_path(const ws_hive *h);      /* the source path given to open */
const char *ws_hive_errmsg(const ws_hive *h);    /* last error on this handle */

/* Write the hive (with its changes) to path. */
int ws_hive_commit(ws_hive *h, const char *path);

/* ---------------------------------------------------------------------- */
/* Keys and values                                                        */

struct ws_reg_value {
	char *name;             /* UTF-8; "" is the default value */
	uint32_t type;          /* exact type number, unusual ones too */
	uint8_t *data;          /* raw bytes as stored */
	size_t len;
};
void ws_reg_value_clear(struct ws_reg_value *v);
void ws_reg_values_free(struct ws_reg_value *v, size_t n);

ws_key ws_hive_root(ws_hive *h);
/* Find a key by path relative to the root ("" or "\\" is the root). */
int ws_key_open(ws_hive *h, const char *path, ws_key *out);
int ws_key_child(ws_hive *h, ws_key parent, const char *name, ws_key *out);
char *ws_key_name(ws_hive *h, ws_key k);                 /* NULL on error */
int ws_key_subkeys(ws_hive *h, ws_key k, ws_key **out, size_t *n); /* free(*out) */
int64_t ws_key_timestamp(ws_hive *h, ws_key k);           /* FILETIME, -1 unknown */
int ws_key_values(ws_hive *h, ws_key k, struct ws_reg_value **out, size_t *n);
/* Value by name, case-insensitive; "" or NULL is the default value. */
int ws_key_get_value(ws_hive *h, ws_key k, const char *name, struct ws_reg_value *out);
int ws_hive_get_value(ws_hive *h, const char *key_path, const char *name,
		      struct ws_reg_value *out);

/* Visit every key (depth first, pre-order) with its path relative to the root;
 * the callback returns non-zero to stop (that number is returned). */
typedef int (*ws_key_cb)(ws_hive *h, ws_key k, const char *path, void *opaque);
int ws_hive_walk(ws_hive *h, ws_key start, const char *start_path, ws_key_cb cb, void *opaque);

/* Pattern matching, MigXML-like: "Key\Path [Value]".  '*' and '?' match within
 * one key-name component or value name, case-insensitively; a last key
 * component that is exactly "*" means "this key and every key below it".
 * Without a "[...]" part keys match (value == NULL in the callback); with it
 * each matching value of each matching key is passed.  Returns 0, a callback's
 * non-zero stop number, or an error. */
typedef int (*ws_match_cb)(ws_hive *h, const char *key_path, ws_key k,
			   const struct ws_reg_value *value, void *opaque);
int ws_hive_match(ws_hive *h, const char *pattern, ws_match_cb cb, void *opaque);
/* Case-insensitive glob of one component ('*', '?'); 1 = match. */
int ws_reg_glob(const char *pattern, const char *name);

/* Decoders.  Strings: UTF-16LE up to the first NUL or the end, to UTF-8. */
char *ws_utf16le_to_utf8(const uint8_t *p, size_t len);
uint8_t *ws_utf8_to_utf16le(const char *s, size_t *len_out); /* with the NUL */
int ws_reg_value_string(const struct ws_reg_value *v, char **out); /* SZ, EXPAND_SZ, LINK, (MULTI_SZ: first) */
int ws_reg_value_multi(const struct ws_reg_value *v, char ***out, size_t *n); /* free each + array */
int ws_reg_value_u32(const struct ws_reg_value *v, uint32_t *out); /* DWORD, DWORD_BIG_ENDIAN, 4-byte BINARY */
int ws_reg_value_u64(const struct ws_reg_value *v, uint64_t *out); /* QWORD, DWORD, 8-byte BINARY */
/* Data as text the way `reg query` shows it (strings, 0x numbers, hex). */
char *ws_reg_value_format(const struct ws_reg_value *v);

/* ---------------------------------------------------------------------- */
/* Writing (hive opened with WS_HIVE_OPEN_WRITE)                          */

/* Create every missing component of path; *out (may be NULL) is the key. */
int ws_key_create(ws_hive *h, const char *path, ws_key *out);
int ws_key_set_value(ws_hive *h, ws_key k, const char *name, uint32_t type,
		     const void *data, size_t len);
int ws_key_set_string(ws_hive *h, ws_key k, const char *name, uint32_t type, const char *utf8);
int ws_key_set_multi(ws_hive *h, ws_key k, const char *name, const char *const *strings, size_t n);
int ws_key_set_dword(ws_hive *h, ws_key k, const char *name, uint32_t v);
int ws_key_set_qword(ws_hive *h, ws_key k, const char *name, uint64_t v);
int ws_key_delete_value(ws_hive *h, ws_key k, const char *name);
int ws_key_delete(ws_hive *h, ws_key k);        /* with everything below it */

/* New user hive from a template (the target's Default\NTUSER.DAT): copy (logs
 * replayed if dirty) to out_path. */
int ws_hive_create_from_template(const char *template_path, const char *out_path,
				 char *msg, size_t msgsz);

/* A new, empty, clean hive written from nothing (hivex cannot make one):
 * root key @root_name (printable ASCII, e.g. "<SID>_Classes" for a
 * UsrClass.dat), key security owned by @owner_sid (full control for the user,
 * SYSTEM and Administrators), @filetime as its last-written time. */
int ws_hive_create_empty(const char *out_path, const char *root_name, const char *owner_sid,
			 uint64_t filetime, char *msg, size_t msgsz);

/* SIDs: "S-1-5-21-..." <-> binary form. */
int ws_sid_from_string(const char *s, uint8_t *out, size_t outsz, size_t *len);
char *ws_sid_to_string(const uint8_t *sid, size_t len);

/* Add (or replace) HKLM\SOFTWARE\Microsoft\Windows NT\CurrentVersion\ProfileList\<sid>
 * in a SOFTWARE hive: ProfileImagePath (REG_EXPAND_SZ), Sid (REG_BINARY),
 * State, Flags, RefCount, ProfileAttemptedProfileDownloadTimeLow/High and
 * LocalProfileLoadTime/UnloadTime (0) as DWORDs. */
struct ws_profile_new {
	const char *sid;
	const char *image_path;         /* e.g. "C:\\Users\\tony" */
	uint32_t state;
	uint32_t flags;
};
int ws_profilelist_add(ws_hive *software, const struct ws_profile_new *p);

/* ---------------------------------------------------------------------- */
/* Hive sets: full registry paths -> hive + path inside it                */

enum ws_hive_kind {
	WS_HK_SYSTEM, WS_HK_SOFTWARE, WS_HK_SAM, WS_HK_SECURITY, WS_HK_DEFAULT,
	WS_HK_NTUSER, WS_HK_USRCLASS,
};
typedef struct ws_hive_set ws_hive_set;

ws_hive_set *ws_hive_set_new(void);
void ws_hive_set_free(ws_hive_set *s);          /* closes the hives it opened */
/* Register a hive file; sid is for NTUSER/USRCLASS (NULL otherwise). */
int ws_hive_set_add(ws_hive_set *s, enum ws_hive_kind kind, const char *sid, const char *path);
/* The user HKCU means. */
int ws_hive_set_current_user(ws_hive_set *s, const char *sid);

enum { WS_VIEW_DEFAULT = 0, WS_VIEW_32 = 1 };
struct ws_reg_location {
	ws_hive *hive;          /* owned by the set; opened on first use */
	enum ws_hive_kind kind;
	char *subpath;          /* path inside the hive; free() it */
};
/* Resolve "HKLM\Software\...", "HKEY_LOCAL_MACHINE\...", "HKCU\...",
 * "HKU\<SID>\...", "HKU\<SID>_Classes\...", "HKCR\..." (as HKLM\Software\Classes).
 * HKLM\System\CurrentControlSet is replaced by ControlSet00N from Select\Current. */
int ws_hive_set_resolve(ws_hive_set *s, const char *full_path, unsigned view,
			struct ws_reg_location *out);
const char *ws_hive_set_errmsg(const ws_hive_set *s);

/* ---------------------------------------------------------------------- */
/* Facts about an offline Windows                                         */

/* Name of SYSTEM's current control set ("ControlSet001"), from Select\Current
 * (falls back to Default, then 1).  Returns a malloc'd string or NULL. */
char *ws_system_current_control_set(ws_hive *system);

struct ws_windows_info {
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
int ws_facts_windows(ws_hive *software, ws_hive *system, struct ws_windows_info *out);
void ws_windows_info_clear(struct ws_windows_info *w);

#define WS_PROFILE_STATE_TEMP 0x0800u   /* PROFILE_TEMP_ASSIGNED */
struct ws_profile {
	char *sid;              /* key name without ".bak" */
	char *image_path_raw;   /* as stored (may contain %SystemDrive%) */
	char *image_path;       /* %SystemDrive% -> C:, %SystemRoot% -> C:\Windows */
	uint32_t state, flags;
	int64_t load_time, unload_time; /* FILETIME, 0 if absent */
	int is_bak;             /* key name ends in .bak */
	int is_temp;            /* state has PROFILE_TEMP_ASSIGNED or path under \TEMP */
	int sid_ok;             /* Sid value matches the key name (when present) */
};
int ws_facts_profiles(ws_hive *software, struct ws_profile **out, size_t *n);
void ws_profiles_free(struct ws_profile *p, size_t n);

struct ws_local_user {
	char *name;
	uint32_t rid;
	char *full_name, *comment;      /* from V, NULL if empty */
	int disabled;                   /* F offset 0x38, bit 0x0001 */
	int64_t last_logon;             /* F offset 0x08, FILETIME */
};
int ws_facts_sam_users(ws_hive *sam, struct ws_local_user **out, size_t *n);
void ws_local_users_free(struct ws_local_user *u, size_t n);

/* Create a local account in a SAM hive opened for writing (LoadState's /lac):
 * Users\<RID> with its F and V records, Users\Names\<name>, the domain's
 * next RID bumped, and membership of the Users alias when the SAM has it.
 * No password hash is written: a non-empty @password is refused (it would
 * need the SAM key's RC4/AES-128 encryption), so the account has an empty
 * password (flagged password-not-required); it is disabled unless @enabled.
 * A duplicate name (case-insensitive), an invalid name or a damaged SAM
 * (no Account\F, no machine SID) is refused with a sentence in
 * ws_hive_errmsg() and nothing changed.  Commit with ws_hive_commit. */
struct ws_sam_new_user {
	const char *name;               /* UTF-8, 1-20 characters */
	const char *password;           /* NULL or "": none */
	int enabled;                    /* 0: disabled (USMT without /lae) */
	uint64_t now;                   /* FILETIME: password last set */
};
struct ws_sam_created {
	uint32_t rid;
	char sid[96];                   /* S-1-5-21-x-y-z-RID */
	int in_users_alias;             /* 0 when the SAM has no Users alias */
};
int ws_sam_create_user(ws_hive *sam, const struct ws_sam_new_user *u, struct ws_sam_created *out);

struct ws_user_folder {
	char *name;             /* value name: "Personal", "Desktop", "{374DE290-...}" */
	char *raw;              /* as stored */
	char *path;             /* %USERPROFILE% etc. expanded */
	const char *source;     /* "User Shell Folders" or "Shell Folders" */
	int is_unc;             /* \\server\share: not on this disk */
	int onedrive;           /* redirected into a OneDrive folder */
};
/* profile_path is what %USERPROFILE% expands to (e.g. "C:\Users\tony"). */
int ws_facts_user_folders(ws_hive *ntuser, const char *profile_path,
			  struct ws_user_folder **out, size_t *n);
void ws_user_folders_free(struct ws_user_folder *f, size_t n);

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
struct ws_account_names {
	char *name, *source;                 /* best account name, where it came from */
	char *domain;                        /* USERDOMAIN, or LastLoggedOnSAMUser's domain */
	char *display_name, *display_source; /* a person's name, never an account name */
	char *online_account;             /* IdentityCRL\UserExtendedProperties subkey */
};
int ws_facts_account_names(ws_hive *software, ws_hive *ntuser, const char *sid,
			   struct ws_account_names *out);
void ws_account_names_clear(struct ws_account_names *a);

#endif
