/*
 * Restore engine (see agent/restore.h).  Order of work, chosen so that a
 * failure leaves the target's existing files as they were:
 *   1. open the target read-write, read its Windows (win_open), open the store;
 *   2. plan every store user: target SID, profile (existing or to create),
 *      known folders on both sides — refusals happen here, before any write;
 *   3. create missing profiles (folder + SD; NTUSER.DAT and ProfileList are
 *      prepared locally);
 *   4. files: created (never overwritten: keep-both names) or linked back;
 *   5. registry values into local hive copies, committed and written back
 *      through a new file that replaces the old name only once complete.
 */
#include <ctype.h>
#include <errno.h>
#include <fnmatch.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

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

/* ------------------------------------------------------------ helpers -- */

/*
 * Names that differ only in case (WSL1's case-sensitive folders) are two files
 * in the store, but one name in a Windows folder, which folds case.  So the
 * records this run restored are remembered: a name on the target held by one
 * of them belongs to another store file, whatever a merge rule or a resumed
 * run would otherwise make of it, and the second file keeps both.
 */
struct mref_slot {
	uint64_t mref;  /* NO_MREF: empty */
	size_t index;
};

static struct mref_slot *
mine_slot(struct mref_slot *v, size_t cap, uint64_t mref)
{
	for (size_t i = (size_t)((mref * 0x9E3779B97F4A7C15ull) >> 32) & (cap - 1);;
	     i = (i + 1) & (cap - 1))
		if (v[i].mref == NO_MREF || v[i].mref == mref)
			return &v[i];
}

/* Remember that store file @index was restored into record @mref (the first
 * one wins: hard links of one record). */
static void
mine_add(struct ctx *c, uint64_t mref, size_t index)
{
	if (mref == NO_MREF)
		return;
	if ((c->mine_count + 1) * 2 > c->mine_cap) {
		size_t cap = c->mine_cap ? c->mine_cap * 2 : 1024;
		struct mref_slot *v = malloc(cap * sizeof(*v));
		if (!v)
			return; /* then a case twin is only renamed as any existing file */
		for (size_t i = 0; i < cap; i++)
			v[i].mref = NO_MREF;
		for (size_t i = 0; i < c->mine_cap; i++)
			if (c->mine[i].mref != NO_MREF)
				*mine_slot(v, cap, c->mine[i].mref) = c->mine[i];
		free(c->mine);
		c->mine = v;
		c->mine_cap = cap;
	}
	struct mref_slot *sl = mine_slot(c->mine, c->mine_cap, mref);
	if (sl->mref == NO_MREF) {
		*sl = (struct mref_slot){ mref, index };
		c->mine_count++;
	}
}

/* The store file this run restored into record @mref, or SIZE_MAX. */
static size_t
mine_find(const struct ctx *c, uint64_t mref)
{
	if (!c->mine_cap || mref == NO_MREF)
		return SIZE_MAX;
	const struct mref_slot *sl = mine_slot(c->mine, c->mine_cap, mref);
	return sl->mref == mref ? sl->index : SIZE_MAX;
}

/* A merge rule never makes one store file win over another: both are kept. */
static enum restore_merge
twin_merge(struct ctx *c, const struct st_file *f, size_t twin)
{
	restore_result_note(c->res, c->o->log, "%s: its merge rule does not apply: the file "
			    "holding its name on the target is %s, restored from this store too, "
			    "so both are kept", f->path, st_reader_file(c->r, twin)->path);
	return RESTORE_MERGE_DEFAULT;
}

static void
outcome(struct ctx *c, enum restore_outcome o, const char *fmt, ...)
{
	va_list ap;
	c->res->outcome = o;
	va_start(ap, fmt);
	vsnprintf(c->res->message, sizeof(c->res->message), fmt, ap);
	va_end(ap);
	if (c->o->log)
		fprintf(c->o->log, "error: %s\n", c->res->message);
}

static void
problem(struct ctx *c, const char *fmt, ...)
{
	char *s = NULL;
	va_list ap;
	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) < 0)
		s = NULL;
	va_end(ap);
	if (!s)
		return;
	char **grown = realloc(c->res->problems, (c->res->problem_count + 1) * sizeof(*grown));
	if (!grown) {
		free(s);
		return;
	}
	c->res->problems = grown;
	grown[c->res->problem_count++] = s;
	c->res->skipped++;
	if (c->o->log)
		fprintf(c->o->log, "skipped: %s\n", s);
}

static void
logf_(struct ctx *c, const char *fmt, ...)
{
	va_list ap;
	if (!c->o->log)
		return;
	va_start(ap, fmt);
	vfprintf(c->o->log, fmt, ap);
	va_end(ap);
	fputc('\n', c->o->log);
}

static char *
xstrdup(const char *s)
{
	return s ? strdup(s) : NULL;
}

static char *
joinp(const char *a, const char *b)
{
	char *p;
	if (asprintf(&p, "%s%s%s", a, *a && *b ? "/" : "", b) < 0)
		return NULL;
	return p;
}

static const char *
user_extra(const struct st_user *u, const char *key)
{
	for (size_t i = 0; i < u->extra_count; i++)
		if (u->extra[i].key && !strcasecmp(u->extra[i].key, key))
			return u->extra[i].value;
	return NULL;
}

/* "C:\Users\x" -> "Users/x" (root "" on the target); NULL when not on drive @drive. */
static char *
win_to_volume(const char *win, char drive)
{
	if (!win || strlen(win) < 3 || win[1] != ':' || toupper((unsigned char)win[0]) != drive ||
	    win[2] != '\\')
		return NULL;
	char *p = strdup(win + 3);
	if (!p)
		return NULL;
	for (char *q = p; *q; q++)
		if (*q == '\\')
			*q = '/';
	size_t n = strlen(p);
	while (n && p[n - 1] == '/')
		p[--n] = '\0';
	return p;
}

/* Is @path equal to or below @prefix (case-insensitive, on a component boundary)? */
static const char *
below(const char *path, const char *prefix)
{
	size_t n = strlen(prefix);
	if (!n)
		return path;
	if (strncasecmp(path, prefix, n))
		return NULL;
	if (path[n] == '\0')
		return path + n;
	if (path[n] == '/')
		return path + n + 1;
	return NULL;
}

static char *
lower_key(const char *s)
{
	char *k = strdup(s);
	for (char *p = k; p && *p; p++)
		*p = (char)tolower((unsigned char)*p);
	return k;
}

static size_t
hash_str(const char *s)
{
	size_t h = 1469598103934665603ull & SIZE_MAX;
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ull;
	return h % DIR_BUCKETS;
}

static bool
dir_cached(struct ctx *c, const char *key, uint64_t *mref)
{
	for (struct dir_entry *e = c->dirs[hash_str(key)]; e; e = e->next)
		if (!strcmp(e->key, key)) {
			*mref = e->mref;
			return true;
		}
	return false;
}

static void
dir_remember(struct ctx *c, char *key, uint64_t mref)
{
	struct dir_entry *e = malloc(sizeof(*e));
	if (!e) {
		free(key);
		return;
	}
	size_t h = hash_str(key);
	e->key = key;
	e->mref = mref;
	e->next = c->dirs[h];
	c->dirs[h] = e;
}

/* A file's or folder's EAs, byte for byte as captured; a buffer ntfs/ will
 * not write (damaged in the store) costs that file its EAs, named. */
static void
restore_ea(struct ctx *c, const struct st_file *f, uint64_t mref)
{
	if (f->ea_len && nv_set_ea(c->vol, mref, f->ea, f->ea_len) != NV_OK)
		problem(c, "%s: its extended attributes were not restored: %s", f->path,
			nv_last_error());
}

/*
 * The folder @path (volume-relative), made when missing.  Every component
 * below @root must be a real folder: a junction, symlink or other reparse
 * point met on the way is refused, so nothing lands outside @root.
 */
static enum nv_status
ensure_dir(struct ctx *c, const char *root, uint64_t root_mref, const char *path, const char *owner,
	   uint64_t *out)
{
	const char *rest = below(path, root);
	if (!rest)
		return NV_ERR_INVALID;
	uint64_t cur = root_mref;
	char *sofar = strdup(root);
	const char *p = rest;
	enum nv_status st = NV_OK;
	while (sofar && *p) {
		const char *slash = strchr(p, '/');
		size_t n = slash ? (size_t)(slash - p) : strlen(p);
		char *comp = strndup(p, n);
		char *next = comp ? joinp(sofar, comp) : NULL;
		if (!next) {
			free(comp);
			st = NV_ERR_NOMEM;
			break;
		}
		free(sofar);
		sofar = next;
		char *key = lower_key(sofar);
		uint64_t m;
		if (key && dir_cached(c, key, &m)) {
			free(key);
		} else {
			if (nv_lookup(c->vol, sofar, &m) == NV_OK) {
				struct nv_inode *in;
				st = nv_stat(c->vol, m, &in);
				if (st == NV_OK) {
					if (in->reparse_tag || !(in->kind & NV_IS_DIR))
						st = in->reparse_tag ? NV_ERR_UNSUPPORTED : NV_ERR_NOT_DIR;
					nv_inode_free(in);
				}
			} else {
				st = nv_mkdir(c->vol, cur, comp, &m);
				if (st == NV_OK) {
					struct nv_inode *pin;
					if (nv_stat(c->vol, cur, &pin) == NV_OK) {
						uint8_t *sd;
						size_t sl;
						if (pin->security &&
						    fmt_sd_inherit(pin->security, pin->security_len, owner,
								       true, &sd, &sl) == 0) {
							nv_set_security(c->vol, m, sd, sl);
							free(sd);
						}
						nv_inode_free(pin);
					}
				}
			}
			if (st != NV_OK) {
				free(key);
				free(comp);
				break;
			}
			if (key)
				dir_remember(c, key, m);
		}
		free(comp);
		cur = m;
		p += n;
		if (*p == '/')
			p++;
	}
	free(sofar);
	if (st == NV_OK)
		*out = cur;
	return st;
}

/* Is every component of @path a real folder (no junction, symlink, reparse point)? */
static bool
real_folders(struct ctx *c, const char *path)
{
	char *copy = strdup(path);
	bool ok = copy != NULL;
	for (char *p = copy; ok && p && *p;) {
		char *slash = strchr(p, '/');
		if (slash)
			*slash = '\0';
		uint64_t m;
		struct nv_inode *in;
		if (nv_lookup(c->vol, copy, &m) != NV_OK || nv_stat(c->vol, m, &in) != NV_OK) {
			ok = false;
			break;
		}
		ok = !in->reparse_tag && (in->kind & NV_IS_DIR);
		nv_inode_free(in);
		if (!slash)
			break;
		*slash = '/';
		p = slash + 1;
	}
	free(copy);
	return ok;
}

/* ---------------------------------------------------------- SID mapping -- */

static const uint8_t *
map_sid(const uint8_t *sid, size_t len, size_t *new_len, void *ctx)
{
	struct ctx *c = ctx;
	for (size_t i = 0; i < c->nsids; i++)
		if (c->sids[i].from_len == len && !memcmp(c->sids[i].from, sid, len)) {
			*new_len = c->sids[i].to_len;
			return c->sids[i].to;
		}
	return NULL;
}

static void
add_sid_pair(struct ctx *c, const char *from, const char *to)
{
	if (!strcmp(from, to))
		return;
	struct sid_pair p;
	if (fmt_sid_from_string(from, p.from, sizeof(p.from), &p.from_len) != 0 ||
	    fmt_sid_from_string(to, p.to, sizeof(p.to), &p.to_len) != 0)
		return;
	struct sid_pair *grown = realloc(c->sids, (c->nsids + 1) * sizeof(*grown));
	if (!grown)
		return;
	c->sids = grown;
	c->sids[c->nsids++] = p;
}

/* ------------------------------------------------------------ planning -- */

/* The same matcher as the capture's (scan_users.c): DOMAIN\user with the
 * store's domain for the user, a bare name, a SID; *\* is everyone. */
static bool
user_matches(const struct plan *p, const char *pattern)
{
	const char *dom[1] = { p->domain };
	return win_user_matches(pattern, p->su->sid, p->su->name, dom, p->domain ? 1 : 0);
}

static char *
sam_lookup(struct ctx *c, const char *name)
{
	struct reg_local_user *u;
	size_t n;
	char *sid = NULL;
	if (!c->win->sam || !c->win->machine_sid || reg_facts_sam_users(c->win->sam, &u, &n) != REG_OK)
		return NULL;
	for (size_t i = 0; i < n && !sid; i++)
		if (u[i].name && !strcasecmp(u[i].name, name) &&
		    asprintf(&sid, "%s-%u", c->win->machine_sid, u[i].rid) < 0)
			sid = NULL;
	reg_local_users_free(u, n);
	return sid;
}

/* "DOM\name", "name" or a SID -> the SID on the target, or NULL. */
static char *
resolve_account(struct ctx *c, const char *account)
{
	if (!strncasecmp(account, "S-1-", 4)) {
		uint8_t b[MAX_SID];
		size_t l;
		return fmt_sid_from_string(account, b, sizeof(b), &l) == 0 ? strdup(account) : NULL;
	}
	const char *bs = strchr(account, '\\');
	const char *name = bs ? bs + 1 : account;
	bool local = !bs || (c->win->info.computer_name &&
			     !strncasecmp(account, c->win->info.computer_name, (size_t)(bs - account)) &&
			     strlen(c->win->info.computer_name) == (size_t)(bs - account));
	if (local) {
		char *sid = sam_lookup(c, name);
		if (sid)
			return sid;
	}
	/* A bare name may also be a profile the target already has; a DOMAIN\name of a
	 * domain is never guessed from a profile's folder name (its SID is not knowable offline). */
	for (size_t i = 0; !bs && i < c->win->user_count; i++) {
		const struct win_user *u = &c->win->users[i];
		if (u->sid && u->name && !strcasecmp(u->name, name) && u->in_profile_list && !u->is_bak)
			return strdup(u->sid);
	}
	return NULL;
}

static const struct win_user *
target_profile_of(struct ctx *c, const char *sid)
{
	for (size_t i = 0; i < c->win->user_count; i++) {
		const struct win_user *u = &c->win->users[i];
		if (u->sid && !strcasecmp(u->sid, sid) && u->in_profile_list && !u->is_bak &&
		    !u->is_temp && u->volume_path && u->folder_exists)
			return u;
	}
	return NULL;
}

static const struct {
	const char *name, *rel;
} default_folders[] = {
	{ "Personal", "Documents" },       { "Desktop", "Desktop" },
	{ "My Pictures", "Pictures" },     { "My Music", "Music" },
	{ "My Video", "Videos" },          { "Favorites", "Favorites" },
	{ "AppData", "AppData/Roaming" },  { "Local AppData", "AppData/Local" },
	{ "{374DE290-123F-4565-9164-39C4925E467B}", "Downloads" },
	{ "Cookies", "AppData/Local/Microsoft/Windows/INetCookies" },
	{ "Start Menu", "AppData/Roaming/Microsoft/Windows/Start Menu" },
	{ "Templates", "AppData/Roaming/Microsoft/Windows/Templates" },
};

static bool
is_shell_folders_key(const char *key)
{
	size_t n = strlen(key);
	static const char *const tails[] = { "\\Explorer\\User Shell Folders",
					     "\\Explorer\\Shell Folders" };
	for (int i = 0; i < 2; i++) {
		size_t t = strlen(tails[i]);
		if (n >= t && !strcasecmp(key + n - t, tails[i]))
			return true;
	}
	return false;
}

/* One source known folder (@raw: "%USERPROFILE%\\x", "C:\\Users\\bob\\x" or
 * "Users/bob/x") and where the target user keeps the same folder. */
static void
add_known_folder(struct ctx *c, struct plan *p, const struct win_user *tu, const char *name,
		 const char *raw_in)
{
	char letter = c->info->volume_letter ? c->info->volume_letter : 'C';
	char *raw = strdup(raw_in), *src = NULL;
	if (!raw)
		return;
	if (!strncasecmp(raw, "%USERPROFILE%", 13) && p->su->profile_path) {
		char *tail = raw + 13;
		for (char *q = tail; *q; q++)
			if (*q == '\\')
				*q = '/';
		while (*tail == '/')
			tail++;
		src = joinp(p->su->profile_path, tail);
	} else if (strlen(raw) > 2 && raw[1] == ':') {
		src = win_to_volume(raw, letter);
	} else {
		src = strdup(raw);
	}
	free(raw);
	if (!src)
		return;
	for (size_t k = 0; k < p->nkf; k++)
		if (!strcasecmp(p->kf[k].name, name)) {
			free(src); /* the first source wins */
			return;
		}
	if (st_check_path(src) != ST_OK) {
		free(src);
		return;
	}
	char *dst = NULL;
	for (size_t k = 0; tu && k < tu->folder_count && !dst; k++)
		if (!strcasecmp(tu->folders[k].name, name) && !tu->folders[k].is_unc)
			dst = win_to_volume(tu->folders[k].path, c->drive);
	if (dst && !below(dst, p->profile)) {
		free(dst); /* a target folder outside the profile is not written to */
		dst = NULL;
	}
	for (size_t k = 0; !dst && k < sizeof(default_folders) / sizeof(default_folders[0]); k++)
		if (!strcasecmp(default_folders[k].name, name))
			dst = joinp(p->profile, default_folders[k].rel);
	struct known_folder *grown = dst ? realloc(p->kf, (p->nkf + 1) * sizeof(*grown)) : NULL;
	if (!grown) {
		free(src);
		free(dst);
		return;
	}
	p->kf = grown;
	p->kf[p->nkf++] = (struct known_folder){ strdup(name), src, dst };
}

/*
 * Source known folders: the user's "folder:<Name>" extras written by capture
 * (e.g. folder:Personal = Users/bob/OneDrive/Documents), else the store's
 * own Shell Folders registry values.
 */
static void
plan_known_folders(struct ctx *c, struct plan *p, const struct win_user *tu)
{
	for (size_t i = 0; i < p->su->extra_count; i++) {
		const struct st_kv *kv = &p->su->extra[i];
		if (kv->key && kv->value && !strncasecmp(kv->key, "folder:", 7) && kv->key[7])
			add_known_folder(c, p, tu, kv->key + 7, kv->value);
	}
	for (size_t i = 0; i < st_reader_registry_count(c->r); i++) {
		const struct st_reg_value *v = st_reader_registry(c->r, i);
		if (strcasecmp(v->owner, p->su->sid) || !is_shell_folders_key(v->key) || !*v->name)
			continue;
		if (v->type != REG_SZ && v->type != REG_EXPAND_SZ)
			continue;
		char *raw = fmt_utf16le_to_utf8(v->data, v->len);
		if (raw)
			add_known_folder(c, p, tu, v->name, raw);
		free(raw);
	}
}

/*
 * /lac: the local account @p's store user had does not exist on the target:
 * create it (same name, empty password, disabled unless /lae) in the local
 * copy of the target's SAM; the SAM goes back into the volume before any
 * profile is made.  A password is refused here, before anything is written.
 */
static reg_hive *open_rw(struct ctx *c, const char *local, const char *what);

static int
lac_create(struct ctx *c, struct plan *p, char **target)
{
	const struct restore_options *o = c->o;
	if (o->lac_password && *o->lac_password) {
		outcome(c, RESTORE_LAC_REFUSED,
			"/lac:password: the local account %s does not exist on the target, and an "
			"account with a password cannot be created offline (the SAM keeps the password's "
			"hash encrypted with a key derived from the SYSTEM hive's boot key, which winstate "
			"does not implement); nothing was written: give /lac without a password (the "
			"account gets an empty password and is disabled unless /lae), or create it first",
			p->su->name);
		return -1;
	}
	if (!c->sam) {
		if (asprintf(&c->sam_local, "%s/SAM", c->win->hives.path) < 0) {
			c->sam_local = NULL;
			outcome(c, RESTORE_INTERNAL, "out of memory");
			return -1;
		}
		c->sam = open_rw(c, c->sam_local, "the target's SAM hive");
		if (!c->sam) {
			outcome(c, RESTORE_TARGET, "/lac: the target's SAM hive cannot be changed, so the "
				"local account %s cannot be created", p->su->name);
			return -1;
		}
	}
	struct reg_sam_new_user nu = {
		.name = p->su->name, .enabled = o->lae,
		.now = (uint64_t)time(NULL) * 10000000ull + 116444736000000000ull,
	};
	struct reg_sam_created made;
	if (reg_sam_create_user(c->sam, &nu, &made) != REG_OK) {
		outcome(c, RESTORE_LAC_REFUSED, "/lac: the local account %s cannot be created on the "
			"target: %s", p->su->name, reg_hive_errmsg(c->sam));
		return -1;
	}
	c->sam_dirty = true;
	logf_(c, "/lac: local account %s created on the target as %s (%s, empty password)",
	      p->su->name, made.sid, o->lae ? "enabled" : "disabled");
	*target = strdup(made.sid);
	return *target ? 0 : -1;
}

static int
plan_users(struct ctx *c)
{
	const struct restore_options *o = c->o;
	size_t n = st_reader_user_count(c->r);
	c->plans = calloc(n ? n : 1, sizeof(*c->plans));
	c->res->users = calloc(n ? n : 1, sizeof(*c->res->users));
	if (!c->plans || !c->res->users)
		return -1;
	c->nplans = n;
	c->res->user_count = n;
	for (size_t i = 0; i < n; i++) {
		struct plan *p = &c->plans[i];
		struct restore_user_result *ur = &c->res->users[i];
		p->su = st_reader_user(c->r, i);
		p->result = i;
		ur->store_sid = xstrdup(p->su->sid);
		ur->store_name = xstrdup(p->su->name);
		const char *type = user_extra(p->su, "type");
		if (!type)
			type = user_extra(p->su, "kind");
		const char *dom = user_extra(p->su, "domain");
		if (dom && !*dom)
			dom = NULL;
		bool s21 = !strncmp(p->su->sid, "S-1-5-21-", 9);
		if (type)
			p->local = !strcasecmp(type, "local");
		else
			p->local = s21 && !(c->win->domain_sid &&
					    !strncmp(p->su->sid, c->win->domain_sid, strlen(c->win->domain_sid)));
		p->domain = xstrdup(dom ? dom : p->local ? c->info->computer : NULL);

		/* Filters: /ue excludes unless /ui names the user too. */
		bool selected = true;
		if (!o->all) {
			for (size_t k = 0; k < o->ue_count; k++)
				if (user_matches(p, o->ue[k]))
					selected = false;
			for (size_t k = 0; k < o->ui_count; k++)
				if (user_matches(p, o->ui[k]))
					selected = true;
		}
		if (!selected) {
			ur->skipped_reason = strdup("not selected (/ue)");
			continue;
		}
		/* Mappings: /mu first (exact), then /md. */
		char *target = NULL;
		const char *mapped_name = NULL;
		bool mapped = false;
		for (size_t k = 0; k < o->mu_count && !mapped; k++) {
			const char *from = o->mu[k].from, *bs = strchr(from, '\\');
			const char *fname = bs ? bs + 1 : from;
			if (!p->su->name || strcasecmp(fname, p->su->name))
				continue;
			if (bs && (!p->domain || strncasecmp(from, p->domain, (size_t)(bs - from)) ||
				   strlen(p->domain) != (size_t)(bs - from)))
				continue;
			mapped = true;
			target = resolve_account(c, o->mu[k].to);
			const char *tbs = strrchr(o->mu[k].to, '\\');
			mapped_name = strncasecmp(o->mu[k].to, "S-1-", 4) ? (tbs ? tbs + 1 : o->mu[k].to) : NULL;
			if (mapped_name && tbs)
				p->target_domain = strndup(o->mu[k].to, (size_t)(tbs - o->mu[k].to));
			if (!target && !strncasecmp(o->mu[k].to, "S-1-", 4)) {
				outcome(c, RESTORE_USAGE, "/mu %s:%s: \"%s\" is not a valid SID", from,
					o->mu[k].to, o->mu[k].to);
				return -1;
			}
			if (!target) {
				outcome(c, RESTORE_USAGE,
					"/mu %s:%s: \"%s\" is not an account the offline target knows "
					"(not in its SAM, no profile): give its SID instead (%s:S-1-5-21-...)",
					from, o->mu[k].to, o->mu[k].to, from);
				return -1;
			}
		}
		for (size_t k = 0; k < o->md_count && !mapped; k++) {
			if (!p->domain || fnmatch(o->md[k].from, p->domain, FNM_CASEFOLD))
				continue;
			mapped = true;
			p->target_domain = xstrdup(o->md[k].to);
			char acct[1024];
			snprintf(acct, sizeof(acct), "%s\\%s", o->md[k].to, p->su->name ? p->su->name : "");
			target = resolve_account(c, acct);
			if (!target) {
				outcome(c, RESTORE_USAGE,
					"/md %s:%s: %s has no account or profile on the offline target, so "
					"its SID cannot be known offline; map the user with /mu %s\\%s:SID",
					o->md[k].from, o->md[k].to, acct, p->domain, p->su->name);
				return -1;
			}
		}
		if (!mapped) {
			if (target_profile_of(c, p->su->sid))
				target = strdup(p->su->sid);
			else if (p->local)
				target = p->su->name ? sam_lookup(c, p->su->name) : NULL;
			else
				target = strdup(p->su->sid);
		}
		if (!target && o->lac && p->su->name) {
			if (lac_create(c, p, &target) < 0)
				return -1;
		} else if (!target) {
			char why[512];
			snprintf(why, sizeof(why),
				 "the local account %s\\%s (%s) does not exist on the target; without "
				 "/lac it is not restored", p->domain ? p->domain : "?",
				 p->su->name ? p->su->name : "?", p->su->sid);
			ur->skipped_reason = strdup(why);
			continue;
		}
		p->target_sid = target;
		p->target_name = strdup(mapped_name ? mapped_name : p->su->name ? p->su->name : target);
		p->renamed = mapped_name && (!p->su->name || strcasecmp(mapped_name, p->su->name));
		/* A local account of this target answers to its computer name; a
		 * domain or Entra account keeps (or /md gives it) its domain. */
		size_t ml = c->win->machine_sid ? strlen(c->win->machine_sid) : 0;
		bool target_local = ml && !strncasecmp(target, c->win->machine_sid, ml) && target[ml] == '-';
		if (target_local) {
			free(p->target_domain);
			p->target_domain = NULL;
		} else if (!p->target_domain && !p->local) {
			p->target_domain = xstrdup(p->domain);
		}
		add_sid_pair(c, p->su->sid, target);
		const struct win_user *tu = target_profile_of(c, target);
		if (tu) {
			p->profile = strdup(tu->volume_path);
			p->profile_win = xstrdup(tu->profile_path);
			p->ntuser_local = xstrdup(tu->ntuser_copy);
			p->usrclass_local = xstrdup(tu->usrclass_copy);
		} else {
			p->create = true;
		}
		p->restore = true;
		ur->target_sid = strdup(target);
	}
	return 0;
}

/* ------------------------------------------------------- new profiles -- */

static int
copy_file_out(struct ctx *c, const char *volume_path, const char *local)
{
	uint64_t m;
	struct nv_reader *rd;
	if (nv_lookup(c->vol, volume_path, &m) != NV_OK || nv_reader_open(c->vol, m, NULL, &rd) != NV_OK)
		return -1;
	FILE *f = fopen(local, "wb");
	char buf[65536];
	uint64_t off = 0;
	size_t got;
	int ret = f ? 0 : -1;
	while (!ret && nv_reader_pread(rd, buf, sizeof(buf), off, &got) == NV_OK && got) {
		if (fwrite(buf, 1, got, f) != got)
			ret = -1;
		off += got;
	}
	nv_reader_close(rd);
	if (f && fclose(f))
		ret = -1;
	return ret;
}

#define RESUME_MARK "winstate-restore.incomplete"   /* see resume_begin */
#define PARTIAL_NAME "winstate-restore.partial"

static int
any_entry(const struct nv_entry *e, void *ctx)
{
	(void)e;
	*(bool *)ctx = false;
	return NV_WALK_STOP;
}

/* Whether folder @path lists nothing (an unreadable one is not empty: its
 * error comes to any_entry as an entry). */
static bool
folder_is_empty(struct ctx *c, const char *path)
{
	bool empty = true;
	return nv_walk(c->vol, path, any_entry, &empty) == NV_OK && empty;
}

/* Resuming: folder @m is a profile root this restore made for @sid (exactly
 * the descriptor create_profile gives it), so it is used again — unless the
 * kill left its index half-written (libntfs-3g has no journal): then it is
 * named, left for chkdsk, and a new folder is made. */
static bool
own_profile_folder(struct ctx *c, uint64_t m, const char *sid, const char *path)
{
	struct nv_inode *in;
	uint8_t *sd;
	size_t sl;
	bool same = false;
	if (nv_stat(c->vol, m, &in) != NV_OK)
		return false;
	if ((in->kind & NV_IS_DIR) && !in->reparse_tag && in->security &&
	    restore_sd_profile_root(sid, &sd, &sl) == 0) {
		same = sl == in->security_len && !memcmp(sd, in->security, sl);
		free(sd);
	}
	/* Killed between the folder's nv_mkdir and its descriptor: still empty,
	 * with the descriptor it inherited; nobody's files are in it, so it is
	 * this run's to finish (else the rerun would make name.COMPUTER). */
	bool empty_dir = !same && (in->kind & NV_IS_DIR) && !in->reparse_tag && folder_is_empty(c, path);
	nv_inode_free(in);
	if (empty_dir) {
		logf_(c, "%s: an empty folder the interrupted restore made for %s: used", path, sid);
		return true;
	}
	uint64_t x;
	if (same && nv_lookup_in(c->vol, m, PARTIAL_NAME, &x) == NV_ERR_IO) {
		problem(c, "%s: the profile folder an interrupted restore began cannot be read (%s); it "
			"is left as it is (chkdsk repairs it) and another folder is made", path,
			nv_last_error());
		same = false;
	}
	return same;
}

/* The new profile's folder is named after the source profile's folder (the
 * last part of its ProfileImagePath), as the user knew it — not after a name
 * guessed from the hives.  /mu to a new name names the folder after that
 * account instead, as Windows names a new account's profile. */
static char *
profile_folder_base(struct ctx *c, const struct plan *p)
{
	const char *src = user_extra(p->su, "profile_image_path");
	if (!src || !*src)
		src = p->su->profile_path;
	const char *base = NULL;
	if (src && !p->renamed) {
		size_t len = strlen(src);
		while (len && (src[len - 1] == '\\' || src[len - 1] == '/'))
			len--;
		size_t start = len;
		while (start && src[start - 1] != '\\' && src[start - 1] != '/')
			start--;
		if (len > start && !(len - start == 4 && !strncasecmp(src + start, "TEMP", 4)))
			return strndup(src + start, len - start);
	}
	base = p->target_name;
	if (!p->renamed)
		logf_(c, "%s: the store has no usable source profile folder, so the new profile is "
		      "named after the account", p->target_name);
	return strdup(base);
}

static int
create_profile(struct ctx *c, struct plan *p)
{
	uint64_t users;
	struct nv_inode *in;
	if (nv_lookup(c->vol, "Users", &users) != NV_OK || nv_stat(c->vol, users, &in) != NV_OK) {
		outcome(c, RESTORE_TARGET, "the target has no Users folder to make %s's profile in",
			p->target_name);
		return -1;
	}
	bool reparse = in->reparse_tag != 0;
	nv_inode_free(in);
	if (reparse) {
		outcome(c, RESTORE_TARGET, "the target's Users folder is a junction or link; nothing is "
			"written through it");
		return -1;
	}
	char *base = profile_folder_base(c, p);
	if (!base) {
		outcome(c, RESTORE_INTERNAL, "out of memory");
		return -1;
	}
	if (st_check_path(base) != ST_OK || strchr(base, '/') || !strcmp(base, ".") ||
	    !strcmp(base, "..")) {
		outcome(c, RESTORE_STORE_CORRUPT, "the profile folder name \"%s\" (of %s) cannot be a "
			"folder name", base, p->target_name);
		free(base);
		return -1;
	}
	/* Windows: Users\name, then Users\name.DOMAIN (the computer's name for a
	 * local account), then name.DOMAIN.000, .001, ... */
	const char *suffix = p->target_domain ? p->target_domain
			     : c->win->info.computer_name ? c->win->info.computer_name : "PC";
	char name[600], path[700];
	uint64_t m;
	enum nv_status st = NV_ERR_EXISTS;
	for (int attempt = -2; attempt < 1000 && st == NV_ERR_EXISTS; attempt++) {
		if (attempt == -2)
			snprintf(name, sizeof(name), "%s", base);
		else if (attempt == -1)
			snprintf(name, sizeof(name), "%s.%s", base, suffix);
		else
			snprintf(name, sizeof(name), "%s.%s.%03d", base, suffix, attempt);
		snprintf(path, sizeof(path), "Users/%s", name);
		if (nv_lookup(c->vol, path, &m) == NV_OK) {
			if (c->resume && own_profile_folder(c, m, p->target_sid, path)) {
				st = NV_OK; /* made by the interrupted run, not yet in ProfileList */
				break;
			}
			continue;
		}
		st = nv_mkdir(c->vol, users, name, &m);
	}
	if (strcmp(name, base))
		logf_(c, "Users/%s is taken on the target: %s's profile is Users/%s, as Windows would "
		      "name it", base, p->target_name, name);
	free(base);
	if (st != NV_OK) {
		outcome(c, st == NV_ERR_NO_SPACE ? RESTORE_FAILED : RESTORE_TARGET,
			"cannot make the profile folder %s: %s", path, nv_last_error());
		return -1;
	}
	uint8_t *sd;
	size_t sl;
	if (restore_sd_profile_root(p->target_sid, &sd, &sl) == 0) {
		nv_set_security(c->vol, m, sd, sl);
		free(sd);
	}
	p->profile = strdup(path);
	if (asprintf(&p->profile_win, "%c:\\Users\\%s", c->drive, name) < 0)
		p->profile_win = NULL;
	p->profile_mref = m;
	dir_remember(c, lower_key(path), m);

	/* NTUSER.DAT from the target's Default profile. */
	char tmpl[4096], out[4096], msg[512];
	snprintf(tmpl, sizeof(tmpl), "%s/default-%zu.DAT", c->win->hives.path, p->result);
	snprintf(out, sizeof(out), "%s/new-ntuser-%zu.DAT", c->win->hives.path, p->result);
	if (copy_file_out(c, "Users/Default/NTUSER.DAT", tmpl) < 0 ||
	    reg_hive_create_from_template(tmpl, out, msg, sizeof(msg)) != REG_OK) {
		outcome(c, RESTORE_TARGET, "cannot make %s's NTUSER.DAT from Users/Default/NTUSER.DAT "
			"on the target", p->target_name);
		return -1;
	}
	p->ntuser_local = strdup(out);
	p->ntuser_dirty = true; /* written into the profile even when no value changes it */

	struct reg_profile_new np = { p->target_sid, p->profile_win, 0, 0 };
	if (!c->software || reg_profilelist_add(c->software, &np) != REG_OK) {
		outcome(c, RESTORE_TARGET, "cannot add %s to the target's ProfileList: %s", p->target_sid,
			c->software ? reg_hive_errmsg(c->software) : "SOFTWARE is not open");
		return -1;
	}
	c->software_dirty = true;
	c->res->users[p->result].created = true;
	logf_(c, "profile %s made for %s (%s)", path, p->target_name, p->target_sid);
	return 0;
}

/* ------------------------------------------------------------- files -- */

struct write_ctx {
	struct ctx *c;
	uint64_t mref;
	const char *stream;
	uint64_t offset;
	bool sparse;
	enum nv_status st;
};

static int
write_chunk(const void *buf, size_t len, void *opaque)
{
	struct write_ctx *w = opaque;
	if (w->sparse) {
		const uint8_t *b = buf;
		size_t i = 0;
		while (i < len && !b[i])
			i++;
		if (i == len) {
			w->offset += len;
			return 0;
		}
	}
	w->st = nv_write(w->c->vol, w->mref, w->stream, w->offset, buf, len);
	if (w->st != NV_OK)
		return ST_ERR_NTFS;
	w->offset += len;
	return 0;
}

/* Where a store path goes on the target: *root is the folder it must stay under. */
static char *
relocate(struct ctx *c, const struct st_file *f, struct plan **owner, const char **root)
{
	*owner = NULL;
	*root = "";
	struct plan *p = NULL;
	for (size_t i = 0; i < c->nplans; i++)
		if (!strcasecmp(c->plans[i].su->sid, f->owner))
			p = &c->plans[i];
	if (p) {
		*owner = p;
		if (!p->restore)
			return NULL;
		const char *best_rest = NULL;
		size_t best_len = 0;
		const struct known_folder *best = NULL;
		for (size_t k = 0; k < p->nkf; k++) {
			const char *rest = below(f->path, p->kf[k].src);
			if (rest && strlen(p->kf[k].src) >= best_len) {
				best = &p->kf[k];
				best_rest = rest;
				best_len = strlen(p->kf[k].src);
			}
		}
		*root = p->profile;
		if (best)
			return joinp(best->dst, best_rest);
		const char *rest = p->su->profile_path ? below(f->path, p->su->profile_path) : NULL;
		if (rest)
			return joinp(p->profile, rest);
		*root = "";
	}
	/* Machine files (and a user's files outside the profile): the same place,
	 * the old C:\ of a Windows.old capture mapping onto the new one. */
	const char *rest = below(f->path, "Windows.old");
	return strdup(rest && *rest ? rest : f->path);
}

static enum nv_status
create_unique(struct ctx *c, uint64_t parent, const char *name, bool link, uint64_t link_mref,
	      uint64_t *out, char **used)
{
	enum nv_status st;
	char *n = strdup(name);
	for (unsigned k = 1; n; k++) {
		if (link)
			st = nv_link(c->vol, link_mref, parent, n);
		else
			st = nv_create(c->vol, parent, n, out);
		if (st != NV_ERR_EXISTS || k > 9999)
			break;
		free(n);
		n = restore_conflict_name(name, k);
	}
	if (!n)
		return NV_ERR_NOMEM;
	if (link)
		*out = link_mref;
	*used = n;
	return st;
}

static void
set_security(struct ctx *c, const struct st_file *f, uint64_t mref, uint64_t parent, const char *owner)
{
	uint8_t *sd = NULL;
	size_t sl = 0;
	char err[256];
	if (f->security_len) {
		if (fmt_sd_rewrite(f->security, f->security_len, map_sid, c, &sd, &sl, err,
				       sizeof(err)) < 0) {
			problem(c, "%s: its security descriptor is damaged (%s); it inherits its folder's",
				f->path, err);
			sd = NULL;
		}
	}
	if (!sd) {
		struct nv_inode *pin;
		if (nv_stat(c->vol, parent, &pin) == NV_OK) {
			if (pin->security)
				fmt_sd_inherit(pin->security, pin->security_len, owner,
						   (f->attributes & NV_ATTR_DIRECTORY) != 0, &sd, &sl);
			nv_inode_free(pin);
		}
	}
	if (sd && nv_set_security(c->vol, mref, sd, sl) != NV_OK)
		problem(c, "%s: its security descriptor could not be set: %s", f->path, nv_last_error());
	free(sd);
}

#define SETTABLE_ATTRS (NV_ATTR_READONLY | NV_ATTR_HIDDEN | NV_ATTR_SYSTEM | NV_ATTR_ARCHIVE | \
			NV_ATTR_TEMPORARY | NV_ATTR_OFFLINE | NV_ATTR_NOT_CONTENT_INDEXED)

static const char *
hardlink_entry(struct ctx *c, const struct st_file *f, char *buf, size_t len)
{
	snprintf(buf, len, "%s/USMT/File/%c$/%s", c->o->store,
		 c->info->volume_letter ? c->info->volume_letter : 'C', f->path);
	return buf;
}

/* The store's link for @f: its folder is looked up once for all the files in
 * it (the catalog keeps a folder's files together), then only the name. */
static enum nv_status
store_link_lookup(struct ctx *c, const struct st_file *f, char *entry, size_t len, uint64_t *em)
{
	hardlink_entry(c, f, entry, len);
	char *slash = strrchr(entry, '/');
	if (!slash)
		return nv_lookup(c->vol, entry, em);
	*slash = '\0';
	enum nv_status st = NV_OK;
	if (!c->store_dir || strcmp(c->store_dir, entry)) {
		free(c->store_dir);
		c->store_dir = strdup(entry);
		st = c->store_dir ? nv_lookup(c->vol, entry, &c->store_dir_mref) : NV_ERR_NOMEM;
		if (st != NV_OK) {
			free(c->store_dir);
			c->store_dir = NULL;
		}
	}
	*slash = '/';
	return st == NV_OK ? nv_lookup_in(c->vol, c->store_dir_mref, slash + 1, em) : st;
}

/* Write back the record held for @path's link and metadata. */
static void
release_held(struct ctx *c, uint64_t *held, const char *path)
{
	if (*held != NO_MREF && nv_release(c->vol, *held) != NV_OK)
		problem(c, "%s: its link or metadata could not be written: %s", path, nv_last_error());
	*held = NO_MREF;
}

/* ---------------------------------------------- interrupted restores -- */
/*
 * A restore that is interrupted (killed, power lost, volume full) must be
 * finished by running it again, without "name(1).ext" copies of what it had
 * already written.  The volume root holds RESUME_MARK (naming the store)
 * from the first write until the end; a run that finds its own store's mark
 * resumes: a file whose name already holds it complete (same record for a
 * link; same size, creation and write times — times are set last — for a
 * copy) is kept, and a profile folder it had made is used again.  Copies
 * are written under PARTIAL_NAME and named only once complete, so no half
 * file ever carries a real name.
 */

static void
resume_begin(struct ctx *c)
{
	char id[600];
	int n = snprintf(id, sizeof(id), "winstate restore of the store of %s, captured %lld-%lld, "
			 "%zu files\n", c->info->computer ? c->info->computer : "?",
			 (long long)c->info->start_time, (long long)c->info->end_time,
			 st_reader_file_count(c->r));
	if (n < 0 || (size_t)n >= sizeof(id))
		return;
	uint64_t m;
	struct nv_reader *rd;
	if (nv_lookup(c->vol, RESUME_MARK, &m) == NV_OK && nv_reader_open(c->vol, m, NULL, &rd) == NV_OK) {
		char old[sizeof(id)];
		size_t got = 0;
		if (nv_reader_pread(rd, old, sizeof(old), 0, &got) == NV_OK && got == (size_t)n &&
		    !memcmp(old, id, got))
			c->resume = true;
		nv_reader_close(rd);
	}
	if (c->resume) {
		struct nv_inode *in;
		if (nv_stat(c->vol, m, &in) == NV_OK) {
			c->resume_since = in->times[NV_TIME_CREATION];
			nv_inode_free(in);
		}
		logf_(c, "an interrupted restore of this store is resumed: files it finished are kept");
		return;
	}
	nv_unlink(c->vol, NV_MREF_ROOT, RESUME_MARK);
	if (nv_create(c->vol, NV_MREF_ROOT, RESUME_MARK, &m) != NV_OK ||
	    nv_write(c->vol, m, NULL, 0, id, (size_t)n) != NV_OK) {
		logf_(c, "cannot write %s (%s): if this restore is interrupted, running it again "
		      "keeps both copies of what was written", RESUME_MARK, nv_last_error());
		return;
	}
	nv_set_attributes(c->vol, m, NV_ATTR_HIDDEN);
}

/*
 * A cloud file's reparse data (OneDrive Files On-Demand) belongs to the old
 * Windows' sync-root registration of the user's account: on a Windows without
 * it the file fails with "The cloud file provider is not running".  So a
 * hydrated cloud file comes back as a plain file (its data, streams,
 * descriptor, attributes and times), as its cloud folders come back as plain
 * folders; OneDrive makes its own again when the user signs in.
 */
static uint32_t
cloud_tag(const struct st_file *f)
{
	if (f->reparse_len < 4)
		return 0;
	uint32_t tag = (uint32_t)f->reparse[0] | (uint32_t)f->reparse[1] << 8 |
		       (uint32_t)f->reparse[2] << 16 | (uint32_t)f->reparse[3] << 24;
	return NV_TAG_IS_CLOUD(tag) ? tag : 0;
}

/* Said for each cloud file restored; a hard-linked one is the captured record
 * itself, so its reparse data (and pinned state) is removed from it. */
static enum nv_status
plain_cloud_file(struct ctx *c, const struct st_file *f, uint64_t mref)
{
	enum nv_status st = NV_OK;
	if (c->info->format == ST_FORMAT_HARDLINK && (st = nv_remove_reparse(c->vol, mref)) != NV_OK) {
		problem(c, "%s: linked, but its cloud reparse data (tag 0x%08x) could not be removed, so "
			"it may not open on the new Windows until OneDrive runs: %s", f->path,
			cloud_tag(f), nv_last_error());
		return st;
	}
	logf_(c, "%s: restored as a plain file: its cloud reparse data (tag 0x%08x) belongs to the "
	      "old Windows' OneDrive registration and is not restored", f->path, cloud_tag(f));
	return NV_OK;
}

/* Resuming: whether @dest already holds store file @f, complete (see above). */
static bool
restored_as(struct ctx *c, const struct st_file *f, const char *dest, uint64_t link_mref,
	    uint64_t *mref)
{
	uint64_t m;
	struct nv_inode *in;
	if (!c->resume || nv_lookup(c->vol, dest, &m) != NV_OK)
		return false;
	if (link_mref != NO_MREF) {
		*mref = m;
		return m == link_mref;
	}
	if (mine_find(c, m) != SIZE_MAX)
		return false; /* another store file's, e.g. its case twin's */
	if (nv_stat(c->vol, m, &in) != NV_OK)
		return false;
	/* A raw EFS file's stored size is its raw length (512-byte blocks + 2). */
	uint64_t size = in->size;
	if (f->raw_efs)
		size = !(in->kind & NV_IS_ENCRYPTED) ? UINT64_MAX : size ? ((size + 511) & ~511ull) + 2 : 0;
	bool same = !(in->kind & NV_IS_DIR) &&
		    size == (f->stream_count ? f->streams[0].size : 0) &&
		    in->times[NV_TIME_CREATION] == f->times[NV_TIME_CREATION] &&
		    in->times[NV_TIME_WRITE] == f->times[NV_TIME_WRITE];
	size_t want = cloud_tag(f) ? 0 : f->reparse_len; /* a cloud file comes back plain */
	bool reparse_done = same && in->reparse_len == want &&
			    (!want || !memcmp(in->reparse, f->reparse, want));
	nv_inode_free(in);
	*mref = m;
	/* Interrupted after its name was given: finish it (reparse data, then times). */
	if (same && !reparse_done && (!want || nv_set_reparse(c->vol, m, f->reparse, want) != NV_OK))
		return false;
	if (same) /* the change time may have moved after the final set_times */
		nv_set_times(c->vol, m, f->times);
	return same;
}

/* Same, also under the "name(k).ext" names the interrupted run gave it when
 * the target already had its name (a new Windows' own Public files ...). */
static bool
already_restored(struct ctx *c, const struct st_file *f, const char *dest, uint64_t link_mref,
		 uint64_t *mref)
{
	if (restored_as(c, f, dest, link_mref, mref))
		return true;
	if (!c->resume)
		return false;
	const char *slash = strrchr(dest, '/');
	const char *name = slash ? slash + 1 : dest;
	for (unsigned k = 1; k < 10000; k++) {
		char *alt = restore_conflict_name(name, k), *path = NULL;
		uint64_t m;
		if (!alt || asprintf(&path, "%.*s%s", (int)(name - dest), dest, alt) < 0) {
			free(alt);
			return false;
		}
		free(alt);
		bool exists = nv_lookup(c->vol, path, &m) == NV_OK;
		bool same = exists && restored_as(c, f, path, link_mref, mref);
		free(path);
		if (same || !exists)
			return same;
	}
	return false;
}

/* ------------------------------------------------ restore-time rules -- */

static reg_hive *open_rw(struct ctx *c, const char *local, const char *what);
static bool strip_prefix(const char **key, const char *prefix);

/*
 * Restore-time rules for registry value @v: false when it is not restored
 * (listed); otherwise *@key and *@name may be moved (owned by c->value_verdict
 * until the next value) and *@merge says who wins.
 */
static bool
rules_value(struct ctx *c, const struct st_reg_value *v, const char **key, const char **name,
	    enum restore_merge *merge)
{
	struct restore_verdict *rv = &c->value_verdict;
	restore_verdict_clear(rv);
	if (restore_rules_value(c->rules, v, rv) < 0)
		return true;
	if (rv->note[0])
		restore_result_note(c->res, c->o->log, "%s [%s]: %s", v->key, v->name, rv->note);
	if (rv->disabled) {
		restore_result_note(c->res, c->o->log, "%s [%s]: not restored: %s", v->key, v->name,
				    rv->why);
		c->res->disabled++;
		return false;
	}
	if (rv->refused) {
		problem(c, "%s [%s]: not restored: %s", v->key, v->name, rv->why);
		return false;
	}
	if (rv->moved) {
		logf_(c, "%s [%s]: moved to %s [%s] by %s", v->key, v->name, rv->moved,
		      rv->moved_name ? rv->moved_name : v->name, rv->move_rule);
		*key = rv->moved;
		if (rv->moved_name)
			*name = rv->moved_name;
		c->res->moved++;
	}
	*merge = rv->merge;
	return true;
}

/*
 * Where store file @f goes once the restore-time rules have spoken
 * (restore_rules.c): NULL when it is not restored (its user is not, Config.xml
 * switched its component off, or a locationModify would take it out of its
 * profile — listed).  A moved file goes through relocate() like any other,
 * so the same checks apply to it.
 */
static char *
rules_destination(struct ctx *c, const struct st_file *f, struct plan **p, const char **root,
		  enum restore_merge *merge)
{
	char *dest = relocate(c, f, p, root);
	struct restore_verdict v;
	if (!dest || !c->rules || restore_rules_file(c->rules, f, &v) < 0)
		return dest;
	if (v.note[0])
		restore_result_note(c->res, c->o->log, "%s: %s", f->path, v.note);
	if (v.disabled) {
		restore_result_note(c->res, c->o->log, "%s: not restored: %s", f->path, v.why);
		c->res->disabled++;
		free(dest);
		dest = NULL;
	} else if (v.refused) {
		problem(c, "%s: not restored: %s", f->path, v.why);
		free(dest);
		dest = NULL;
	} else if (v.moved) {
		struct st_file moved = *f;
		struct plan *mp;
		const char *mroot;
		moved.path = v.moved;
		char *to = relocate(c, &moved, &mp, &mroot);
		if (!to || (**root && strcasecmp(mroot, *root))) {
			problem(c, "%s: not restored: %s moves it to %s, outside %s's profile %s; nothing "
				"is written there", f->path, v.move_rule, v.moved_win ? v.moved_win : v.moved,
				*p && (*p)->target_name ? (*p)->target_name : "its user", *root);
			free(to);
			free(dest);
			dest = NULL;
		} else {
			logf_(c, "%s: moved to %s by %s", f->path, to, v.move_rule);
			free(dest);
			dest = to;
			c->res->moved++;
		}
	}
	*merge = v.merge;
	restore_verdict_clear(&v);
	return dest;
}

/* The hive a destinationCleanup or restored key @key belongs to, for @p (NULL:
 * the machine); *@rest is the path inside it (in *@owned when rewritten). */
static reg_hive *
cleanup_hive(struct ctx *c, struct plan *p, const char *key, const char **rest, bool **dirty,
	     char **owned)
{
	*owned = NULL;
	*rest = key;
	if (p && (strip_prefix(rest, "HKCU") || strip_prefix(rest, "HKEY_CURRENT_USER"))) {
		if (strip_prefix(rest, "Software\\Classes")) {
			if (!p->usrclass && p->usrclass_local)
				p->usrclass = open_rw(c, p->usrclass_local, "UsrClass.dat");
			*dirty = &p->usrclass_dirty;
			return p->usrclass;
		}
		if (!p->ntuser && p->ntuser_local)
			p->ntuser = open_rw(c, p->ntuser_local, "NTUSER.DAT");
		*dirty = &p->ntuser_dirty;
		return p->ntuser;
	}
	if (!p && (strip_prefix(rest, "HKLM") || strip_prefix(rest, "HKEY_LOCAL_MACHINE"))) {
		if (strip_prefix(rest, "SOFTWARE")) {
			*dirty = &c->software_dirty;
			return c->software;
		}
		if (strip_prefix(rest, "SYSTEM")) {
			if (strip_prefix(rest, "CurrentControlSet")) {
				const char *cs = c->win->info.control_set ? c->win->info.control_set : "ControlSet001";
				if (asprintf(owned, "%s%s%s", cs, **rest ? "\\" : "", *rest) < 0)
					return NULL;
				*rest = *owned;
			}
			*dirty = &c->system_dirty;
			return c->system;
		}
	}
	return NULL;
}

struct cleanup_walk {
	struct ctx *c;
	const char *owner;
	const char *src;       /* the walked folder, source-side Windows path */
	struct cleanup_hit {
		uint64_t parent;
		char *name, *path;
	} *v;
	size_t n;
};

static int
cleanup_visit(const struct nv_entry *e, void *opaque)
{
	struct cleanup_walk *w = opaque;
	if (!e->inode)
		return NV_WALK_CONTINUE;
	if (e->inode->reparse_tag) /* never followed, never deleted */
		return (e->inode->kind & NV_IS_DIR) ? NV_WALK_SKIP : NV_WALK_CONTINUE;
	if (e->inode->kind & NV_IS_DIR)
		return NV_WALK_CONTINUE;
	char *win;
	if (asprintf(&win, "%s\\%s", w->src, e->path) < 0)
		return NV_WALK_STOP;
	for (char *q = win; *q; q++)
		if (*q == '/')
			*q = '\\';
	if (restore_rules_cleanup_file(w->c->rules, w->owner, win)) {
		struct cleanup_hit *g = realloc(w->v, (w->n + 1) * sizeof(*g));
		if (g) {
			w->v = g;
			g[w->n].parent = e->parent;
			g[w->n].name = strdup(e->name);
			g[w->n].path = strdup(e->path);
			w->n++;
		}
	}
	free(win);
	return NV_WALK_CONTINUE;
}

/* destinationCleanup of files: the target folder that the pattern's fixed
 * part becomes (through the same relocation as restored files, so inside the
 * user's profile), walked without following links; every plain file a
 * cleanup pattern names is unlinked. */
static void
cleanup_files(struct ctx *c, struct plan *p, const char *pattern, const char *rule)
{
	const char *owner = p ? p->su->sid : ST_OWNER_SYSTEM;
	char letter = c->info->volume_letter ? c->info->volume_letter : 'C';
	char *src = restore_rules_literal_prefix(pattern);
	if (!src || strlen(src) < 3 || toupper((unsigned char)src[0]) != letter || src[1] != ':' ||
	    src[2] != '\\') {
		restore_result_note(c->res, c->o->log, "%s: not applied (%s): not a folder of the "
				    "restored volume %c:", pattern, rule, letter);
		free(src);
		return;
	}
	char *vol_src = strdup(src + 3);
	for (char *q = vol_src; q && *q; q++)
		if (*q == '\\')
			*q = '/';
	struct st_file fake = { .path = vol_src, .owner = owner, .attributes = NV_ATTR_DIRECTORY };
	struct plan *fp;
	const char *root;
	char *dir = vol_src ? relocate(c, &fake, &fp, &root) : NULL;
	uint64_t m;
	if (!dir || (p && !*root) || (*dir && st_check_path(dir) != ST_OK) || !below(dir, root)) {
		restore_result_note(c->res, c->o->log, "%s: not applied (%s): %s is outside %s", pattern,
				    rule, src, p ? "the user's profile" : "the volume");
	} else if (nv_lookup(c->vol, dir, &m) != NV_OK || (*dir && !real_folders(c, dir))) {
		logf_(c, "destinationCleanup %s (%s): %s is not on the target (or is a link), nothing to "
		      "clean", pattern, rule, dir);
	} else {
		struct cleanup_walk w = { c, owner, src, NULL, 0 };
		nv_walk(c->vol, dir, cleanup_visit, &w);
		for (size_t i = 0; i < w.n; i++) {
			if (w.v[i].name && nv_unlink(c->vol, w.v[i].parent, w.v[i].name) == NV_OK) {
				c->res->cleaned++;
				logf_(c, "destinationCleanup (%s): removed %s/%s", rule, dir, w.v[i].path);
			} else {
				problem(c, "%s/%s: destinationCleanup (%s) could not remove it: %s", dir,
					w.v[i].path ? w.v[i].path : "?", rule, nv_last_error());
			}
			free(w.v[i].name);
			free(w.v[i].path);
		}
		free(w.v);
	}
	free(dir);
	free(vol_src);
	free(src);
}

/* destinationCleanup of one context (@p NULL: the system), before anything is restored. */
static void
rules_cleanup(struct ctx *c, struct plan *p)
{
	const char *owner = p ? p->su->sid : ST_OWNER_SYSTEM;
	enum mig_obj_type type;
	const char *pattern;
	char rule[320];
	for (size_t i = 0; restore_rules_cleanup(c->rules, owner, i, &type, &pattern, rule, sizeof(rule)); i++) {
		if (type == MIG_OBJ_FILE) {
			cleanup_files(c, p, pattern, rule);
			continue;
		}
		if (type != MIG_OBJ_REGISTRY) {
			restore_result_note(c->res, c->o->log, "%s: not applied (%s): only files and "
					    "registry are cleaned", pattern, rule);
			continue;
		}
		if (!p && (!strncasecmp(pattern, "HKCU", 4) || !strncasecmp(pattern, "HKEY_CURRENT_USER", 17)))
			continue; /* a UserAndSystem component's HKCU: each user's context cleans it */
		const char *rest;
		bool *dirty = NULL;
		char *owned;
		reg_hive *h = cleanup_hive(c, p, pattern, &rest, &dirty, &owned);
		size_t removed = 0;
		if (!h && p && rest != pattern) {
			logf_(c, "destinationCleanup %s (%s): %s has no such hive yet, nothing to clean",
			      pattern, rule, p->target_name);
		} else if (!h) {
			restore_result_note(c->res, c->o->log, "%s: not applied (%s): only HKCU, "
					    "HKLM\\SOFTWARE and HKLM\\SYSTEM are cleaned%s", pattern, rule,
					    p ? " for a user" : "");
		} else if (restore_rules_clean_hive(h, rest, &removed) < 0) {
			problem(c, "%s: destinationCleanup (%s) failed: %s", pattern, rule, reg_hive_errmsg(h));
		} else if (removed) {
			*dirty = true;
			c->res->cleaned += removed;
			logf_(c, "destinationCleanup %s (%s): %zu removed%s%s", pattern, rule, removed,
			      p ? " for " : "", p ? p->target_name : "");
		}
		free(owned);
	}
}

/* Compile the rules for the system and each restored user, before any write. */
static int
rules_prepare(struct ctx *c)
{
	char letter = c->info->volume_letter ? c->info->volume_letter : 'C';
	if (restore_rules_add_context(c->rules, c->win, NULL, NULL, letter) < 0)
		return -1;
	for (size_t i = 0; i < c->nplans; i++) {
		struct plan *p = &c->plans[i];
		if (p->restore &&
		    restore_rules_add_context(c->rules, c->win, p->su,
					      p->create ? NULL : target_profile_of(c, p->target_sid),
					      letter) < 0)
			return -1;
	}
	restore_rules_index(c->rules, c->r);
	const mig_diags *d = restore_rules_diags(c->rules);
	for (size_t i = 0; c->o->log && i < mig_diags_count(d); i++) {
		const struct mig_diag *g = mig_diags_get(d, i);
		if (g->level >= MIG_DIAG_WARNING)
			logf_(c, "rules: %s:%u: %s", g->file ? g->file : "-", g->line, g->msg);
	}
	return 0;
}

/* The junction's reparse buffer for the target: its target moved from the
 * source profile to @p's restored one when it pointed inside it.  NULL with a
 * problem listed when the store's buffer is damaged; *@owned to free. */
static const uint8_t *
junction_buffer(struct ctx *c, const struct st_file *f, struct plan *p, size_t *len,
		uint8_t **owned)
{
	char why[300];
	struct fmt_junction_target t;
	*owned = NULL;
	*len = f->reparse_len;
	if (fmt_junction_parse(f->reparse, f->reparse_len, &t, why, sizeof(why)) < 0) {
		problem(c, "%s: not restored: its junction data in the store is damaged: %s", f->path,
			why);
		return NULL;
	}
	char src_letter = c->info->volume_letter ? c->info->volume_letter : 'C';
	const char *target = fmt_junction_path(&t);
	char *old = NULL, *new = NULL;
	int rw = 0;
	if (p && p->su->profile_path && p->profile &&
	    asprintf(&old, "%c:\\%s", src_letter, p->su->profile_path) >= 0 &&
	    asprintf(&new, "%c:\\%s", c->drive, p->profile) >= 0) {
		for (char *q = old; *q; q++)
			*q = *q == '/' ? '\\' : *q;
		for (char *q = new; *q; q++)
			*q = *q == '/' ? '\\' : *q;
		size_t new_len = 0;
		if (strcasecmp(old, new))
			rw = fmt_junction_rewrite(f->reparse, f->reparse_len, old, new, owned, &new_len, why,
					      sizeof(why));
		if (rw > 0)
			*len = new_len;
	}
	if (rw < 0) {
		problem(c, "%s: not restored: its target %s cannot be moved to the new profile %s: %s",
			f->path, target, new, why);
	} else if (rw > 0) {
		logf_(c, "%s: its target %s pointed into the old profile %s: now %s%s", f->path, target,
		      old, new, target + strlen(old));
	} else if (t.relative) {
		logf_(c, "%s: its relative target %s is kept", f->path, target);
	} else if (strlen(target) >= 2 && target[1] == ':' &&
		   toupper((unsigned char)target[0]) != toupper((unsigned char)src_letter)) {
		logf_(c, "%s: its target %s is on another drive than the captured Windows; kept as it "
		      "was (the junction works once that drive is there)", f->path, target);
	} else {
		logf_(c, "%s: its target %s is kept", f->path, target);
	}
	free(old);
	free(new);
	fmt_junction_target_free(&t);
	if (rw < 0)
		return NULL;
	return rw > 0 ? *owned : f->reparse;
}

/*
 * Store entry @index is a junction or folder symlink: make it as @name in
 * folder @parent (its path @dest) when nothing is there, with its reparse
 * data (target moved to the new profile when it pointed into the old one),
 * security, attributes and times.  What it points at is never touched; an
 * existing folder, file or junction at @dest is left as it is (logged).
 */
static enum nv_status
restore_junction(struct ctx *c, size_t index, struct plan *p, const char *dest, uint64_t parent,
		 const char *name, const char *owner)
{
	const struct st_file *f = st_reader_file(c->r, index);
	uint64_t m;
	struct nv_inode *in;
	bool unfinished = false;
	if (nv_lookup(c->vol, dest, &m) == NV_OK) {
		const char *what = "a file";
		if (nv_stat(c->vol, m, &in) == NV_OK) {
			what = (in->kind & NV_IS_JUNCTION)  ? "a junction"
			       : (in->kind & NV_IS_SYMLINK) ? "a symbolic link"
			       : (in->kind & NV_IS_DIR)     ? "a folder"
							    : "a file";
			/* The interrupted run was stopped between its mkdir and its
			 * reparse data: an empty plain folder it made (after its mark). */
			unfinished = c->resume && c->resume_since && (in->kind & NV_IS_DIR) &&
				     !in->reparse_tag &&
				     in->times[NV_TIME_CREATION] >= c->resume_since &&
				     folder_is_empty(c, dest);
			nv_inode_free(in);
		}
		if (!unfinished) {
			logf_(c, "%s: the target already has %s at %s; left as it is (the store's "
			      "junction or link is not restored over it)", f->path, what, dest);
			return NV_OK;
		}
		logf_(c, "%s: finishing the junction the interrupted restore began at %s", f->path, dest);
	}
	size_t len;
	uint8_t *owned;
	const uint8_t *buf = junction_buffer(c, f, p, &len, &owned);
	if (!buf)
		return NV_OK;
	enum nv_status st = unfinished ? NV_OK : nv_mkdir(c->vol, parent, name, &m);
	if (st != NV_OK) {
		if (st != NV_ERR_NO_SPACE)
			problem(c, "%s: cannot create the junction %s: %s", f->path, dest, nv_last_error());
		free(owned);
		return st;
	}
	/* Its reparse data first: from then on nothing can be written through it. */
	if ((st = nv_set_reparse(c->vol, m, buf, len)) != NV_OK) {
		problem(c, "%s: its junction data could not be set: %s; the empty folder is removed",
			f->path, nv_last_error());
		nv_unlink(c->vol, parent, name);
		free(owned);
		return st == NV_ERR_NO_SPACE ? st : NV_OK;
	}
	free(owned);
	restore_ea(c, f, m);
	set_security(c, f, m, parent, owner);
	if (nv_set_attributes(c->vol, m, f->attributes & SETTABLE_ATTRS) != NV_OK ||
	    nv_set_times(c->vol, m, f->times) != NV_OK)
		problem(c, "%s: its attributes or times could not be set: %s", f->path, nv_last_error());
	c->file_mref[index] = m;
	c->res->junctions++;
	if (c->o->verbosity & 1)
		logf_(c, "restored junction %s -> %s", f->path, dest);
	return NV_OK;
}

/*
 * A plain folder's EAs: the folder is made (or found) by path as for any
 * file in it, then given the EAs unless it already has some of its own on
 * the target (those are kept, logged).
 */
static enum nv_status
restore_folder_ea(struct ctx *c, const struct st_file *f, const char *root, uint64_t root_mref,
		  const char *dest, const char *owner)
{
	uint64_t m;
	enum nv_status st = ensure_dir(c, root, root_mref, dest, owner, &m);
	if (st == NV_ERR_NO_SPACE)
		return st;
	if (st != NV_OK) {
		problem(c, "%s: its extended attributes were not restored: the folder %s %s", f->path,
			dest, st == NV_ERR_UNSUPPORTED ? "passes through a junction or link on the target"
			: st == NV_ERR_NOT_DIR     ? "is a file on the target"
						   : nv_last_error());
		return NV_OK;
	}
	struct nv_inode *in;
	if (nv_stat(c->vol, m, &in) != NV_OK) {
		problem(c, "%s: its extended attributes were not restored: %s", f->path, nv_last_error());
		return NV_OK;
	}
	bool own = in->ea_len && !(in->ea_len == f->ea_len && !memcmp(in->ea, f->ea, f->ea_len));
	bool same = in->ea_len && !own;
	nv_inode_free(in);
	if (own) {
		logf_(c, "%s: the folder %s on the target has extended attributes of its own; kept "
		      "(the store's are not written over them)", f->path, dest);
		return NV_OK;
	}
	if (!same)
		restore_ea(c, f, m);
	if (c->o->verbosity & 1)
		logf_(c, "restored the extended attributes of folder %s -> %s", f->path, dest);
	return NV_OK;
}

struct efs_buf {
	uint8_t *data;
	size_t len, cap;
	bool too_big;
};

static int
efs_chunk(const void *buf, size_t len, void *opaque)
{
	struct efs_buf *b = opaque;
	if (len > (16u << 20) - b->len) {
		b->too_big = true; /* $EFS is a few KiB: more is no $EFS */
		return ST_ERR_CORRUPT;
	}
	if (b->len + len > b->cap) {
		size_t cap = (b->len + len) * 2;
		uint8_t *g = realloc(b->data, cap);
		if (!g)
			return ST_ERR_NOMEM;
		b->data = g;
		b->cap = cap;
	}
	memcpy(b->data + b->len, buf, len);
	b->len += len;
	return 0;
}

/* A raw EFS file (--efs copyraw): its $EFS metadata from the store, checked
 * before anything is written, and every stream checked to be in raw form.
 * False (the file named in a problem) when it cannot be put back. */
static bool
raw_efs_prepare(struct ctx *c, size_t index, const struct st_file *f, uint8_t **info,
		size_t *info_len, size_t *info_stream)
{
	*info = NULL;
	*info_len = 0;
	*info_stream = SIZE_MAX;
	for (size_t s = 1; s < f->stream_count; s++)
		if (!strcmp(f->streams[s].name, ST_EFS_STREAM))
			*info_stream = s;
	if (*info_stream == SIZE_MAX) {
		problem(c, "%s: not restored: it was stored as a raw EFS file, but its $EFS metadata "
			"(who may decrypt it) is missing from the store", f->path);
		return false;
	}
	for (size_t s = 0; s < f->stream_count; s++) {
		uint64_t size = f->streams[s].size;
		if (s != *info_stream && size && (size & 511) != 2) {
			problem(c, "%s: not restored: its %s%s%s stored raw is %llu bytes, which is not "
				"EFS's raw form (512-byte blocks and 2 bytes of padding count): the store "
				"is damaged", f->path, s ? "stream \"" : "data", s ? f->streams[s].name : "",
				s ? "\"" : "", (unsigned long long)size);
			return false;
		}
	}
	struct efs_buf b = { 0 };
	enum st_status rs = st_reader_read(c->r, index, *info_stream, efs_chunk, &b);
	enum nv_status ok = rs == ST_OK ? nv_efs_check_info(b.data, b.len) : NV_OK;
	if (rs != ST_OK || ok != NV_OK) {
		problem(c, "%s: not restored: its $EFS metadata in the store is damaged: %s", f->path,
			b.too_big ? "it is over 16 MiB" : rs != ST_OK ? st_last_error() : nv_last_error());
		free(b.data);
		return false;
	}
	*info = b.data;
	*info_len = b.len;
	return true;
}

/* Restore one store file; returns false when the whole restore must stop. */
static bool
restore_file(struct ctx *c, size_t index)
{
	const struct st_file *f = st_reader_file(c->r, index);
	struct plan *p;
	const char *root;
	enum restore_merge merge = RESTORE_MERGE_DEFAULT;
	char *dest = rules_destination(c, f, &p, &root, &merge);
	if (!dest)
		return true; /* its user is not restored (reported once, per user), or a rule says so (listed) */
	const char *owner = p ? p->target_sid : NULL;
	bool ok = true;
	char *dir = strdup(dest), *slash = dir ? strrchr(dir, '/') : NULL;
	const char *name = slash ? slash + 1 : dest;
	if (slash)
		*slash = '\0';
	else if (dir)
		dir[0] = '\0';
	uint64_t root_mref = NV_MREF_ROOT, parent = 0, mref = NO_MREF, held = NO_MREF;
	char *used = NULL;
	enum nv_status st;
	bool is_dir = f->attributes & NV_ATTR_DIRECTORY;
	uint8_t *efs_info = NULL;
	size_t efs_len = 0, efs_stream = SIZE_MAX;

	if (st_check_path(dest) != ST_OK || !below(dest, root)) {
		problem(c, "%s: refused, its restored name %s is unsafe: %s", f->path, dest, st_last_error());
		goto out;
	}
	if (is_dir && !strcasecmp(dest, root)) {
		logf_(c, "%s: the profile folder itself keeps the target's security", f->path);
		goto out;
	}
	if (*root && (p->profile_mref || nv_lookup(c->vol, root, &p->profile_mref) == NV_OK))
		root_mref = p->profile_mref;
	st = ensure_dir(c, root, root_mref, dir, owner, &parent);
	if (st != NV_OK) {
		if (st == NV_ERR_NO_SPACE)
			goto full;
		problem(c, "%s: refused: its folder %s %s", f->path, dir,
			st == NV_ERR_UNSUPPORTED ? "passes through a junction or link on the target"
			: st == NV_ERR_NOT_DIR   ? "is a file on the target"
						 : nv_last_error());
		goto out;
	}
	if (is_dir && !f->reparse_len) {
		/* A plain folder kept for its EAs (the catalog checks it has them). */
		if (restore_folder_ea(c, f, root, root_mref, dest, owner) == NV_ERR_NO_SPACE)
			goto full;
		goto out;
	}
	if (is_dir) {
		/* Otherwise folders are junctions and folder links (the catalog
		 * checks they have reparse data). */
		if (restore_junction(c, index, p, dest, parent, name, owner) == NV_ERR_NO_SPACE)
			goto full;
		goto out;
	}
	/* Its name taken by another file of this restore (a name that differs
	 * only in case, folded onto it by the target's folder): found where a
	 * name is taken, so a restore without conflicts looks nothing up. */
	size_t twin = SIZE_MAX;
	if (merge == RESTORE_MERGE_DESTINATION && nv_lookup(c->vol, dest, &mref) == NV_OK) {
		if ((twin = mine_find(c, mref)) != SIZE_MAX) {
			merge = twin_merge(c, f, twin);
		} else {
			restore_result_note(c->res, c->o->log, "%s: kept the existing %s on the target, "
					    "the store's copy is not restored (DestinationPriority)",
					    f->path, dest);
			c->res->kept++;
			mref = NO_MREF;
			goto out;
		}
	}
	mref = NO_MREF;

	if (f->link_to >= 0) {
		uint64_t target = c->file_mref[f->link_to];
		if (target == NO_MREF) {
			problem(c, "%s: not restored: it is a hard link of %s, which was not restored",
				f->path, st_reader_file(c->r, (size_t)f->link_to)->path);
			goto out;
		}
		if (already_restored(c, f, dest, target, &mref))
			goto resumed;
		st = create_unique(c, parent, name, true, target, &mref, &used);
		if (st == NV_ERR_NO_SPACE)
			goto full;
		if (st != NV_OK)
			problem(c, "%s: cannot link it: %s", f->path, nv_last_error());
		else
			c->res->links++;
		goto out;
	}

	if (c->info->format == ST_FORMAT_HARDLINK) {
		char entry[8192];
		uint64_t em;
		if (store_link_lookup(c, f, entry, sizeof(entry), &em) != NV_OK) {
			problem(c, "%s: its link in the store (%s) is gone", f->path, entry);
			goto out;
		}
		if (f->source_id != ST_NO_SOURCE_ID && em != f->source_id) {
			problem(c, "%s: the store's link now names another file (record %llu, captured %llu)",
				f->path, (unsigned long long)em, (unsigned long long)f->source_id);
			goto out;
		}
		/* One open record for the link and its metadata: read and written back once. */
		if (nv_hold(c->vol, em) == NV_OK)
			held = em;
		if (already_restored(c, f, dest, em, &mref))
			goto resumed;
		st = create_unique(c, parent, name, true, em, &mref, &used);
		if (st == NV_ERR_NO_SPACE)
			goto full;
		if (st != NV_OK) {
			problem(c, "%s: cannot link it into %s: %s", f->path, dir, nv_last_error());
			goto out;
		}
		c->res->links++;
		for (size_t s = 0; s < f->stream_count; s++) {
			c->res->bytes += f->streams[s].size;
			if (p)
				c->res->users[p->result].bytes += f->streams[s].size;
		}
	} else {
		if (already_restored(c, f, dest, NO_MREF, &mref))
			goto resumed;
		/* An EFS file stored raw goes back raw: its streams as they were
		 * captured, then its $EFS metadata, which makes them encrypted
		 * again.  Never decrypted: the user's keys migrate with the profile. */
		if (f->raw_efs && !raw_efs_prepare(c, index, f, &efs_info, &efs_len, &efs_stream))
			goto out;
		/* Written under PARTIAL_NAME, named once complete (see resume_begin). */
		nv_unlink(c->vol, parent, PARTIAL_NAME); /* a leftover of an interrupted run */
		used = strdup(PARTIAL_NAME);
		st = used ? nv_create(c->vol, parent, used, &mref) : NV_ERR_NOMEM;
		if (st == NV_ERR_NO_SPACE)
			goto full;
		if (st != NV_OK) {
			problem(c, "%s: cannot create it in %s: %s", f->path, dir, nv_last_error());
			goto out;
		}
		if (f->raw_efs)
			; /* neither sparse nor compressed: EFS excludes both */
		else if (f->sparse)
			nv_set_attributes(c->vol, mref, NV_ATTR_SPARSE);
		else if ((f->attributes & NV_ATTR_COMPRESSED) && nv_set_compressed(c->vol, mref) != NV_OK)
			logf_(c, "%s: restored uncompressed: %s", f->path, nv_last_error());
		for (size_t s = 0; s < f->stream_count; s++) {
			if (s == efs_stream)
				continue;
			const char *sname = s ? f->streams[s].name : NULL;
			if (s && (st = nv_add_stream(c->vol, mref, sname)) != NV_OK) {
				if (st == NV_ERR_NO_SPACE)
					goto undo_full;
				problem(c, "%s:%s: cannot add the stream: %s", f->path, sname, nv_last_error());
				continue;
			}
			struct write_ctx w = { c, mref, sname, 0, f->sparse && !s, NV_OK };
			enum st_status rs = st_reader_read(c->r, index, s, write_chunk, &w);
			if (w.st == NV_ERR_NO_SPACE)
				goto undo_full;
			if (rs != ST_OK) {
				char why[1024];
				snprintf(why, sizeof(why), "%s", w.st != NV_OK ? nv_last_error() : st_last_error());
				nv_unlink(c->vol, parent, used);
				if (!restore_rules_keep_going(c->rules, f, rs == ST_ERR_CORRUPT ? 1392 : 0,
							      c->o->keep_going)) {
					outcome(c, rs == ST_ERR_CORRUPT ? RESTORE_STORE_CORRUPT : RESTORE_FAILED,
						"%s: %s (nothing of it was kept; --continue skips damaged files)",
						f->path, why);
					ok = false;
				} else {
					problem(c, "%s: not restored: %s", f->path, why);
				}
				goto out;
			}
			if (w.sparse && w.offset) /* trailing holes */
				nv_truncate(c->vol, mref, NULL, f->streams[0].size);
			c->res->bytes += f->streams[s].size;
			if (p)
				c->res->users[p->result].bytes += f->streams[s].size;
		}
		/* Before the attributes and times, as Windows would have written them. */
		restore_ea(c, f, mref);
		if (f->raw_efs && (st = nv_set_efs_info(c->vol, mref, efs_info, efs_len)) != NV_OK) {
			if (st == NV_ERR_NO_SPACE)
				goto undo_full;
			problem(c, "%s: not restored: it could not be made EFS-encrypted again from its "
				"raw form: %s", f->path, nv_last_error());
			nv_unlink(c->vol, parent, used);
			goto out;
		}
		/* Complete: its times first (a resumed run recognises it by them), then its name,
		 * then its reparse data (libntfs-3g loses the record when a reparse point's
		 * temporary name is removed). */
		nv_set_times(c->vol, mref, f->times);
		char *final = NULL;
		uint64_t same;
		st = create_unique(c, parent, name, true, mref, &same, &final);
		if (st != NV_OK) {
			free(final);
			if (st == NV_ERR_NO_SPACE)
				goto undo_full;
			problem(c, "%s: cannot name it in %s: %s", f->path, dir, nv_last_error());
			nv_unlink(c->vol, parent, used);
			goto out;
		}
		nv_unlink(c->vol, parent, used);
		free(used);
		used = final;
		if (f->reparse_len && !cloud_tag(f) &&
		    nv_set_reparse(c->vol, mref, f->reparse, f->reparse_len) != NV_OK)
			problem(c, "%s: its reparse data could not be set: %s", f->path, nv_last_error());
	}
	if (cloud_tag(f) && plain_cloud_file(c, f, mref) == NV_ERR_NO_SPACE)
		goto full;
	set_security(c, f, mref, parent, owner);
	/* A failed write here must not pass for a restored file (found by fault injection). */
	if (nv_set_attributes(c->vol, mref, (f->attributes & SETTABLE_ATTRS) |
				(f->sparse ? NV_ATTR_SPARSE : 0)) != NV_OK ||
	    nv_set_times(c->vol, mref, f->times) != NV_OK)
		problem(c, "%s: its attributes or times could not be set: %s", f->path, nv_last_error());
	release_held(c, &held, f->path);
	uint64_t taken_by;
	if (twin == SIZE_MAX && used && strcmp(used, name) &&
	    nv_lookup(c->vol, dest, &taken_by) == NV_OK &&
	    (twin = mine_find(c, taken_by)) != SIZE_MAX && merge == RESTORE_MERGE_SOURCE)
		merge = twin_merge(c, f, twin);
	if (merge == RESTORE_MERGE_SOURCE && used && strcmp(used, name)) {
		char why[512], *taken = strdup(name);
		if (taken && restore_rules_replace(c->vol, parent, dest, name, used, why, sizeof(why)) == 0) {
			free(used);
			used = taken;
			c->res->replaced++;
			logf_(c, "%s: replaced the existing %s (SourcePriority)", f->path, dest);
		} else {
			problem(c, "%s: SourcePriority: the existing %s is kept and the restored copy is "
				"%s/%s: %s", f->path, dest, dir, used, taken ? why : "out of memory");
			free(taken);
		}
	}
	c->file_mref[index] = mref;
	mine_add(c, mref, index);
	c->res->files++;
	if (p) {
		c->res->users[p->result].files++;
		if (strcmp(used, name))
			c->res->users[p->result].renamed++;
	}
	if (strcmp(used, name)) {
		c->res->renamed++;
		const char *tp = twin != SIZE_MAX ? st_reader_file(c->r, twin)->path : NULL;
		const char *ts = tp ? strrchr(tp, '/') : NULL, *fs = strrchr(f->path, '/');
		size_t tdir = ts ? (size_t)(ts - tp) : 0, fdir = fs ? (size_t)(fs - f->path) : 0;
		if (tp && tdir == fdir && !strncmp(tp, f->path, fdir))
			restore_result_note(c->res, c->o->log, "%s: restored as %s/%s: its name differs "
					    "only in case from %s in the same folder (restored earlier), "
					    "and the target's folder folds case as Windows does", f->path,
					    dir, used, ts ? ts + 1 : tp);
		else if (tp)
			restore_result_note(c->res, c->o->log, "%s: restored as %s/%s: %s, restored "
					    "earlier from %s, has the same name on the target", f->path,
					    dir, used, dest, tp);
		else
			logf_(c, "%s: %s/%s exists; restored as %s", f->path, dir, name, used);
	}
	if (c->o->verbosity & 1)
		logf_(c, "restored %s -> %s/%s", f->path, dir, used);
	goto out;

resumed:
	if (cloud_tag(f) && c->info->format == ST_FORMAT_HARDLINK)
		plain_cloud_file(c, f, mref); /* the kill may have come before it */
	c->file_mref[index] = mref;
	mine_add(c, mref, index);
	c->res->files++;
	if (p)
		c->res->users[p->result].files++;
	if (c->o->verbosity & 1)
		logf_(c, "%s: already restored by the interrupted run", f->path);
	goto out;
undo_full:
	nv_unlink(c->vol, parent, used);
full:
	outcome(c, RESTORE_FAILED, "the target volume is full while restoring %s (%s); stopped. "
		"Files already on the target are untouched; free space and run the restore again",
		f->path, nv_last_error());
	ok = false;
out:
	release_held(c, &held, f->path);
	free(efs_info);
	free(used);
	free(dir);
	free(dest);
	return ok;
}

/* ----------------------------------------------------------- registry -- */

static reg_hive *
open_rw(struct ctx *c, const char *local, const char *what)
{
	char msg[512];
	int err;
	reg_hive *h = local ? reg_hive_open(local, REG_HIVE_OPEN_WRITE, &err, msg, sizeof(msg)) : NULL;
	if (!h && local)
		problem(c, "%s: cannot open it for writing: %s", what, msg);
	return h;
}

static bool
strip_prefix(const char **key, const char *prefix)
{
	size_t n = strlen(prefix);
	if (strncasecmp(*key, prefix, n) || ((*key)[n] != '\\' && (*key)[n] != '\0'))
		return false;
	*key += n + ((*key)[n] == '\\');
	return true;
}

#define USRCLASS_FOLDER "AppData/Local/Microsoft/Windows"
#define FILETIME_UNIX_EPOCH 116444736000000000ull

/*
 * A profile without UsrClass.dat (made by this restore, or never signed in
 * to): an empty hive as Windows makes it at first sign-in (root key
 * "<SID>_Classes", owned by the user) is written locally, to be filled and
 * then put into AppData\Local\Microsoft\Windows with the other hives.
 */
static void
new_usrclass(struct ctx *c, struct plan *p)
{
	char path[4096], local[4096], root[128], msg[256];
	uint64_t m;
	if (p->usrclass_tried)
		return;
	p->usrclass_tried = true;
	snprintf(path, sizeof(path), "%s/" USRCLASS_FOLDER "/UsrClass.dat", p->profile);
	if (!p->create && nv_lookup(c->vol, path, &m) == NV_OK) {
		logf_(c, "%s exists but could not be copied out; it is not replaced", path);
		return;
	}
	snprintf(local, sizeof(local), "%s/new-usrclass-%zu.dat", c->win->hives.path, p->result);
	snprintf(root, sizeof(root), "%s_Classes", p->target_sid);
	uint64_t now = FILETIME_UNIX_EPOCH + (uint64_t)time(NULL) * 10000000ull;
	if (reg_hive_create_empty(local, root, p->target_sid, now, msg, sizeof(msg)) != REG_OK) {
		logf_(c, "%s: a new UsrClass.dat cannot be made: %s", p->profile, msg);
		return;
	}
	p->usrclass_local = strdup(local);
	p->usrclass_new = p->usrclass_local != NULL;
}

static void
restore_value(struct ctx *c, const struct st_reg_value *v)
{
	const char *key = v->key;
	reg_hive *h = NULL;
	bool *dirty = NULL;
	char *owned = NULL;
	struct plan *p = NULL;

	if (is_shell_folders_key(key))
		return; /* the target's own folders stay; files were moved into them */
	if (strcasecmp(v->owner, ST_OWNER_SYSTEM)) {
		for (size_t i = 0; i < c->nplans; i++)
			if (!strcasecmp(c->plans[i].su->sid, v->owner))
				p = &c->plans[i];
		if (!p) {
			problem(c, "%s [%s]: its owner %s is not a user of this store", key, v->name, v->owner);
			return;
		}
		if (!p->restore)
			return;
	}
	const char *vname = v->name;
	enum restore_merge merge = RESTORE_MERGE_DEFAULT;
	if (c->rules && !rules_value(c, v, &key, &vname, &merge))
		return;
	if (p && (strip_prefix(&key, "HKCU") || strip_prefix(&key, "HKEY_CURRENT_USER"))) {
		if (strip_prefix(&key, "Software\\Classes")) {
			if (!p->usrclass && !p->usrclass_local)
				new_usrclass(c, p);
			if (!p->usrclass && p->usrclass_local)
				p->usrclass = open_rw(c, p->usrclass_local, "UsrClass.dat");
			if (!p->usrclass) {
				problem(c, "HKCU\\Software\\Classes\\%s [%s]: %s's UsrClass.dat on the target "
					"cannot be read or made", key, v->name, p->target_name);
				return;
			}
			h = p->usrclass;
			dirty = &p->usrclass_dirty;
		} else {
			if (!p->ntuser)
				p->ntuser = open_rw(c, p->ntuser_local, "NTUSER.DAT");
			if (!p->ntuser) {
				problem(c, "%s [%s]: %s's NTUSER.DAT cannot be opened", v->key, v->name,
					p->target_name);
				return;
			}
			h = p->ntuser;
			dirty = &p->ntuser_dirty;
		}
	} else if (!p && (strip_prefix(&key, "HKLM") || strip_prefix(&key, "HKEY_LOCAL_MACHINE"))) {
		if (strip_prefix(&key, "SOFTWARE")) {
			h = c->software;
			dirty = &c->software_dirty;
		} else if (strip_prefix(&key, "SYSTEM")) {
			h = c->system;
			dirty = &c->system_dirty;
			if (strip_prefix(&key, "CurrentControlSet")) {
				const char *cs = c->win->info.control_set ? c->win->info.control_set : "ControlSet001";
				if (asprintf(&owned, "%s%s%s", cs, *key ? "\\" : "", key) < 0)
					return;
				key = owned;
			}
		}
	}
	if (!h) {
		problem(c, "%s [%s]: not restored: only HKCU, HKLM\\SOFTWARE and HKLM\\SYSTEM values are",
			v->key, v->name);
		free(owned);
		return;
	}
	reg_key k;
	struct reg_value existing = { 0 };
	if (merge == RESTORE_MERGE_DESTINATION && reg_key_open(h, key, &k) == REG_OK &&
	    reg_key_get_value(h, k, vname, &existing) == REG_OK) {
		reg_value_clear(&existing);
		restore_result_note(c->res, c->o->log, "%s [%s]: kept the target's value, the store's is "
				    "not restored (DestinationPriority)", v->key, vname);
		c->res->kept++;
		free(owned);
		return;
	}
	if (reg_key_create(h, key, &k) != REG_OK ||
	    reg_key_set_value(h, k, vname, v->type, v->data, v->len) != REG_OK) {
		problem(c, "%s [%s]: cannot set it: %s", v->key, v->name, reg_hive_errmsg(h));
	} else {
		*dirty = true;
		c->res->values++;
		if (p)
			c->res->users[p->result].values++;
	}
	free(owned);
}

/*
 * Put the local file @local into the volume at @path: written whole under a
 * temporary name first, then swapped in, so a full volume never leaves half a
 * hive.  Security and attributes follow the file it replaces (or inherit).
 */
static int
write_back(struct ctx *c, const char *local, const char *path, const char *owner)
{
	char *dir = strdup(path), *slash = dir ? strrchr(dir, '/') : NULL;
	if (!slash) {
		free(dir);
		return -1;
	}
	*slash = '\0';
	const char *base = slash + 1;
	char tmp[600];
	snprintf(tmp, sizeof(tmp), "%s.winstate-new", base);
	uint64_t parent, old = NO_MREF, nm;
	int ret = -1;
	FILE *f = NULL;
	if (nv_lookup(c->vol, dir, &parent) != NV_OK)
		goto out;
	uint64_t m;
	if (nv_lookup(c->vol, path, &m) == NV_OK)
		old = m;
	nv_unlink(c->vol, parent, tmp); /* a leftover of an interrupted run */
	if (nv_create(c->vol, parent, tmp, &nm) != NV_OK)
		goto out;
	f = fopen(local, "rb");
	char buf[65536];
	size_t got;
	uint64_t off = 0;
	while (f && (got = fread(buf, 1, sizeof(buf), f)) > 0) {
		if (nv_write(c->vol, nm, NULL, off, buf, got) != NV_OK) {
			nv_unlink(c->vol, parent, tmp);
			goto out;
		}
		off += got;
	}
	if (!f) {
		nv_unlink(c->vol, parent, tmp);
		goto out;
	}
	struct nv_inode *in = NULL;
	uint8_t *sd = NULL;
	size_t sl = 0;
	uint32_t attrs = NV_ATTR_HIDDEN | NV_ATTR_ARCHIVE;
	if (old != NO_MREF && nv_stat(c->vol, old, &in) == NV_OK) {
		attrs = in->attributes;
		if (in->security)
			fmt_sd_rewrite(in->security, in->security_len, NULL, NULL, &sd, &sl, NULL, 0);
		nv_inode_free(in);
	} else if (nv_stat(c->vol, parent, &in) == NV_OK) {
		if (in->security)
			fmt_sd_inherit(in->security, in->security_len, owner, false, &sd, &sl);
		nv_inode_free(in);
	}
	if (sd)
		nv_set_security(c->vol, nm, sd, sl);
	free(sd);
	nv_set_attributes(c->vol, nm, attrs & SETTABLE_ATTRS);
	if (old != NO_MREF && nv_unlink(c->vol, parent, base) != NV_OK) {
		nv_unlink(c->vol, parent, tmp);
		goto out;
	}
	if (nv_link(c->vol, nm, parent, base) != NV_OK)
		goto out;
	nv_unlink(c->vol, parent, tmp);
	ret = 0;
out:
	if (ret)
		problem(c, "%s: cannot write it back into the target: %s", path, nv_last_error());
	if (f)
		fclose(f);
	free(dir);
	return ret;
}

static int
commit_hive(struct ctx *c, reg_hive *h, const char *volume_path, const char *owner, const char *tag)
{
	char local[4096];
	snprintf(local, sizeof(local), "%s/commit-%s", c->win->hives.path, tag);
	if (reg_hive_commit(h, local) != REG_OK) {
		problem(c, "%s: cannot save the changed hive: %s", volume_path, reg_hive_errmsg(h));
		return -1;
	}
	return write_back(c, local, volume_path, owner);
}

/* --------------------------------------------------------------- run -- */

static enum restore_outcome
store_outcome(enum st_status st)
{
	switch (st) {
	case ST_ERR_KEY: return RESTORE_KEY;
	case ST_ERR_VERSION: return RESTORE_STORE_VERSION;
	case ST_ERR_CORRUPT: case ST_ERR_UNSAFE: return RESTORE_STORE_CORRUPT;
	case ST_ERR_NOMEM: return RESTORE_INTERNAL;
	default: return RESTORE_STORE_MISSING;
	}
}

int
restore_run(const struct restore_options *o, struct restore_result *res)
{
	struct ctx c = { .o = o, .res = res, .drive = 'C' };
	char *disk = NULL, err[1024];
	int part = 0;
	memset(res, 0, sizeof(*res));

	/* Rule files and Config.xml are read before the target is opened: a
	 * file that does not parse stops the restore before any write. */
	if (o->rules_count || o->config) {
		enum restore_outcome ro = restore_rules_load(o->rules, o->rules_count, o->config,
							     &c.rules, err, sizeof(err));
		if (ro != RESTORE_OK) {
			outcome(&c, ro, "%s", ro == RESTORE_INTERNAL ? "out of memory" : err);
			return -1;
		}
		c.eff = *o;
		if (restore_rules_mappings(c.rules, o, &c.eff_mu, &c.eff.mu_count, &c.eff_md,
					   &c.eff.md_count) < 0) {
			restore_rules_free(c.rules);
			outcome(&c, RESTORE_INTERNAL, "out of memory");
			return -1;
		}
		c.eff.mu = c.eff_mu;
		c.eff.md = c.eff_md;
		c.o = o = &c.eff;
	}
	if (nv_split_target(o->target, &disk, &part) != NV_OK) {
		outcome(&c, RESTORE_USAGE, "%s: not a DISK[:PARTITION]", o->target);
		goto early;
	}
	struct nv_open_options no = { .read_write = true, .partition = part };
	enum nv_status nst = nv_open(disk, &no, &c.vol);
	free(disk);
	if (nst != NV_OK) {
		outcome(&c, RESTORE_TARGET, "%s: %s", o->target, nv_last_error());
		goto early;
	}
	if (win_open(c.vol, "Windows", false, &c.win, err, sizeof(err)) < 0) {
		outcome(&c, RESTORE_TARGET, "%s: no Windows to restore into: %s", o->target, err);
		goto done;
	}
	enum st_status sst = o->hardlink ? st_reader_open_ntfs(c.vol, o->store, &c.r)
					 : st_reader_open(o->store, o->key, &c.r);
	if (sst != ST_OK) {
		outcome(&c, store_outcome(sst), "%s: %s", o->store, st_last_error());
		goto done;
	}
	c.info = st_reader_info(c.r);
	if (o->hardlink != (c.info->format == ST_FORMAT_HARDLINK)) {
		outcome(&c, RESTORE_STORE_MISSING,
			o->hardlink ? "%s is a %s store, not a hard-link store: drop --hardlink"
				    : "%s is a hard-link store: give --hardlink and its path on the target",
			o->store, st_format_name(c.info->format));
		goto done;
	}
	/* Local copies of the target's machine hives, writable. */
	if (asprintf(&c.software_local, "%s/SOFTWARE", c.win->hives.path) < 0 ||
	    asprintf(&c.system_local, "%s/SYSTEM", c.win->hives.path) < 0)
		goto oom;
	c.software = open_rw(&c, c.software_local, "the target's SOFTWARE hive");
	c.system = open_rw(&c, c.system_local, "the target's SYSTEM hive");
	if (!c.software) {
		outcome(&c, RESTORE_TARGET, "the target's SOFTWARE hive cannot be changed");
		goto done;
	}
	if (plan_users(&c) < 0)
		goto done;
	if (c.rules && rules_prepare(&c) < 0) {
		outcome(&c, RESTORE_INTERNAL, "the restore-time rules could not be compiled (out of memory)");
		goto done;
	}
	size_t nfiles = st_reader_file_count(c.r);
	c.file_mref = malloc((nfiles ? nfiles : 1) * sizeof(*c.file_mref));
	if (!c.file_mref)
		goto oom;
	for (size_t i = 0; i < nfiles; i++)
		c.file_mref[i] = NO_MREF;

	resume_begin(&c); /* before the first write */
	if (c.sam_dirty) { /* /lac: the accounts exist before their profiles do */
		char sam_path[4096];
		snprintf(sam_path, sizeof(sam_path), "%s/System32/config/SAM", c.win->install.windir);
		if (commit_hive(&c, c.sam, sam_path, NULL, "SAM") < 0) {
			outcome(&c, RESTORE_FAILED, "the target's SAM hive (the accounts /lac creates) "
				"could not be written");
			goto done;
		}
	}
	for (size_t i = 0; i < c.nplans; i++) {
		struct plan *p = &c.plans[i];
		if (!p->restore)
			continue;
		if (p->create && create_profile(&c, p) < 0)
			goto done;
		if (!p->profile_mref && nv_lookup(c.vol, p->profile, &p->profile_mref) != NV_OK) {
			outcome(&c, RESTORE_TARGET, "%s's profile %s cannot be opened", p->target_name, p->profile);
			goto done;
		}
		if (!real_folders(&c, p->profile)) {
			outcome(&c, RESTORE_TARGET, "%s's profile %s is (or lies behind) a junction or link on "
				"the target; nothing is written through it", p->target_name, p->profile);
			goto done;
		}
		res->users[p->result].profile = strdup(p->profile);
		plan_known_folders(&c, p, p->create ? NULL : target_profile_of(&c, p->target_sid));
		logf_(&c, "user %s (%s) -> %s in %s", p->su->name ? p->su->name : "?", p->su->sid,
		      p->target_sid, p->profile);
	}
	if (c.rules) { /* destinationCleanup: before anything is restored (USMT's order) */
		rules_cleanup(&c, NULL);
		for (size_t i = 0; i < c.nplans; i++)
			if (c.plans[i].restore)
				rules_cleanup(&c, &c.plans[i]);
	}
	for (size_t i = 0; i < nfiles; i++) {
		if (!restore_file(&c, i)) {
			c.fatal = true;
			break;
		}
		if (o->progress && i % 1000 == 999)
			fprintf(o->progress, "PHASE, Applying, totalPercentageCompleted, %zu\n",
				(i + 1) * 100 / nfiles);
	}
	if (c.fatal)
		goto done;
	for (size_t i = 0; i < st_reader_registry_count(c.r); i++)
		restore_value(&c, st_reader_registry(c.r, i));

	/* Hives back into the volume: users first, ProfileList last, so a profile
	 * is only announced once its NTUSER.DAT is in place. */
	for (size_t i = 0; i < c.nplans; i++) {
		struct plan *p = &c.plans[i];
		char path[4096];
		if (!p->restore)
			continue;
		if (p->ntuser_dirty) {
			snprintf(path, sizeof(path), "%s/NTUSER.DAT", p->profile);
			int r;
			if (p->ntuser) {
				char tag[32];
				snprintf(tag, sizeof(tag), "ntuser-%zu", i);
				r = commit_hive(&c, p->ntuser, path, p->target_sid, tag);
			} else {
				r = write_back(&c, p->ntuser_local, path, p->target_sid);
			}
			if (r < 0 && p->create) {
				outcome(&c, RESTORE_FAILED, "%s's new NTUSER.DAT could not be written", p->target_name);
				goto done;
			}
		}
		if (p->usrclass_dirty) {
			snprintf(path, sizeof(path), "%s/AppData/Local/Microsoft/Windows/UsrClass.dat",
				 p->profile);
			char tag[32];
			snprintf(tag, sizeof(tag), "usrclass-%zu", i);
			uint64_t folder;
			char *dir = p->usrclass_new ? joinp(p->profile, USRCLASS_FOLDER) : NULL;
			enum nv_status fst = dir ? ensure_dir(&c, p->profile, p->profile_mref, dir,
							      p->target_sid, &folder)
						 : p->usrclass_new ? NV_ERR_NOMEM : NV_OK;
			free(dir);
			if (fst != NV_OK)
				problem(&c, "%s: its folder cannot be made (%s); %s's HKCU\\Software\\Classes "
					"values are not restored", path, nv_last_error(), p->target_name);
			else
				commit_hive(&c, p->usrclass, path, p->target_sid, tag);
		}
	}
	char path[4096];
	if (c.system_dirty) {
		snprintf(path, sizeof(path), "%s/System32/config/SYSTEM", c.win->install.windir);
		commit_hive(&c, c.system, path, NULL, "SYSTEM");
	}
	if (c.software_dirty) {
		snprintf(path, sizeof(path), "%s/System32/config/SOFTWARE", c.win->install.windir);
		if (commit_hive(&c, c.software, path, NULL, "SOFTWARE") < 0) {
			outcome(&c, RESTORE_FAILED, "the target's SOFTWARE hive (ProfileList) could not be written");
			goto done;
		}
	}
	nv_unlink(c.vol, NV_MREF_ROOT, RESUME_MARK); /* every step ran: nothing to resume */
	goto done;
oom:
	outcome(&c, RESTORE_INTERNAL, "out of memory");
done:
	if (res->outcome == RESTORE_OK) {
		size_t missing = 0, len = 0;
		char names[600] = "";
		for (size_t i = 0; i < c.nplans; i++) {
			const struct restore_user_result *u = &res->users[i];
			if (!u->skipped_reason || u->target_sid || !strncmp(u->skipped_reason, "not selected", 12))
				continue;
			missing++;
			if (len < sizeof(names) - 1)
				len += (size_t)snprintf(names + len, sizeof(names) - len, "%s%s\\%s",
							len ? ", " : "", c.plans[i].domain ? c.plans[i].domain : "?",
							u->store_name ? u->store_name : u->store_sid);
			if (len >= sizeof(names))
				len = sizeof(names) - 1;
		}
		if (missing) {
			res->outcome = RESTORE_NEED_LAC;
			snprintf(res->message, sizeof(res->message),
				 "%zu local account%s of the store do%s not exist on the target and %s not "
				 "restored (%s): create %s first, or map %s to existing accounts with --mu "
				 "OLD\\user:NEW\\user (or :SID)",
				 missing, missing > 1 ? "s" : "", missing > 1 ? "" : "es",
				 missing > 1 ? "were" : "was", names, missing > 1 ? "them" : "it",
				 missing > 1 ? "them" : "it");
		}
		if (res->outcome == RESTORE_OK && res->problem_count)
			res->outcome = RESTORE_PARTIAL;
	}
	for (size_t i = 0; i < c.nplans; i++) {
		struct plan *p = &c.plans[i];
		if (p->ntuser)
			reg_hive_close(p->ntuser);
		if (p->usrclass)
			reg_hive_close(p->usrclass);
		free(p->domain);
		free(p->target_sid);
		free(p->target_name);
		free(p->profile);
		free(p->target_domain);
		free(p->profile_win);
		free(p->ntuser_local);
		free(p->ntuser_volume);
		free(p->usrclass_local);
		free(p->usrclass_volume);
		for (size_t k = 0; k < p->nkf; k++) {
			free(p->kf[k].name);
			free(p->kf[k].src);
			free(p->kf[k].dst);
		}
		free(p->kf);
	}
	free(c.plans);
	for (size_t i = 0; i < DIR_BUCKETS; i++)
		for (struct dir_entry *e = c.dirs[i], *n; e; e = n) {
			n = e->next;
			free(e->key);
			free(e);
		}
	free(c.file_mref);
	free(c.mine);
	free(c.store_dir);
	free(c.sids);
	restore_verdict_clear(&c.value_verdict);
early: /* from here on, everything is freed only when it was made */
	restore_rules_free(c.rules);
	free(c.eff_mu);
	free(c.eff_md);
	if (c.software)
		reg_hive_close(c.software);
	if (c.sam)
		reg_hive_close(c.sam);
	free(c.sam_local);
	if (c.system)
		reg_hive_close(c.system);
	free(c.software_local);
	free(c.system_local);
	if (c.r)
		st_reader_close(c.r);
	if (c.win)
		win_close(c.win);
	if (c.vol && nv_close(c.vol) != NV_OK && res->outcome == RESTORE_OK) {
		res->outcome = RESTORE_FAILED;
		snprintf(res->message, sizeof(res->message), "the target could not be flushed: %s",
			 nv_last_error());
	}
	return res->outcome == RESTORE_OK ? 0 : -1;
}

void
restore_result_free(struct restore_result *res)
{
	for (size_t i = 0; i < res->user_count; i++) {
		struct restore_user_result *u = &res->users[i];
		free(u->store_sid);
		free(u->store_name);
		free(u->target_sid);
		free(u->profile);
		free(u->skipped_reason);
	}
	free(res->users);
	for (size_t i = 0; i < res->problem_count; i++)
		free(res->problems[i]);
	free(res->problems);
	for (size_t i = 0; i < res->note_count; i++)
		free(res->notes[i]);
	free(res->notes);
	memset(res, 0, sizeof(*res));
}
