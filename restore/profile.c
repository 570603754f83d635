/*
 * New profiles, made offline as Windows makes them: the folder under Users
 * (name, name.DOMAIN, name.DOMAIN.000 ...), its protected descriptor,
 * NTUSER.DAT from the Default profile and the ProfileList entry.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "restore/internal.h"

/* ------------------------------------------------------- new profiles -- */

/* Copy the volume's file @volume_path to the local file @local, whole. */
static enum nv_status
copy_file_out(struct ctx *c, const char *volume_path, const char *local)
{
	uint64_t m;
	struct nv_reader *rd;
	enum nv_status st = nv_lookup(c->vol, volume_path, &m);
	if (st != NV_OK || (st = nv_reader_open(c->vol, m, NULL, &rd)) != NV_OK)
		return st;
	FILE *f = fopen(local, "wb");
	char buf[65536];
	uint64_t off = 0;
	size_t got = 0;
	st = f ? NV_OK : NV_ERR_IO;
	while (st == NV_OK && (st = nv_reader_pread(rd, buf, sizeof(buf), off, &got)) == NV_OK && got) {
		if (fwrite(buf, 1, got, f) != got)
			st = NV_ERR_IO;
		off += got;
	}
	nv_reader_close(rd);
	if (f && fclose(f) && st == NV_OK)
		st = NV_ERR_IO;
	return st;
}

static int
any_entry(const struct nv_entry *e, void *ctx)
{
	(void)e;
	*(bool *)ctx = false;
	return NV_WALK_STOP;
}

/* Whether folder @path lists nothing (an unreadable one is not empty: its
 * error comes to any_entry as an entry). */
bool
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

enum restore_outcome
create_profile(struct ctx *c, struct plan *p)
{
	uint64_t users;
	struct nv_inode *in;
	if (nv_lookup(c->vol, "Users", &users) != NV_OK || nv_stat(c->vol, users, &in) != NV_OK) {
		outcome(c, RESTORE_TARGET, "the target has no Users folder to make %s's profile in",
			p->target_name);
		return c->res->outcome;
	}
	bool reparse = in->reparse_tag != 0;
	nv_inode_free(in);
	if (reparse) {
		outcome(c, RESTORE_TARGET, "the target's Users folder is a junction or link; nothing is "
			"written through it");
		return c->res->outcome;
	}
	char *base = profile_folder_base(c, p);
	if (!base)
		return nomem(c);
	if (st_check_path(base) != ST_OK || strchr(base, '/') || !strcmp(base, ".") ||
	    !strcmp(base, "..")) {
		outcome(c, RESTORE_STORE_CORRUPT, "the profile folder name \"%s\" (of %s) cannot be a "
			"folder name", base, p->target_name);
		free(base);
		return c->res->outcome;
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
		return c->res->outcome;
	}
	/*
	 * A new folder under Users inherits Users' descriptor, which lets every
	 * user of the machine read it.  A profile that cannot be given its own
	 * (the user, SYSTEM and Administrators only) would stay open to them
	 * without a word, so the restore stops here, before any file is in it,
	 * and the empty folder is removed: an admin would rather fix the cause
	 * and run again than find a user's documents readable by everyone.
	 */
	uint8_t *sd = NULL;
	size_t sl = 0;
	uint8_t sid[MAX_SID];
	size_t sid_len;
	enum nv_status sst = restore_sd_profile_root(p->target_sid, &sd, &sl) == 0
			     ? nv_set_security(c->vol, m, sd, sl)
			     : fmt_sid_from_string(p->target_sid, sid, sizeof(sid), &sid_len) == 0
			     ? NV_ERR_NOMEM : NV_ERR_INVALID;
	free(sd);
	if (sst != NV_OK) {
		char why[512];
		snprintf(why, sizeof(why), "%s", sst == NV_ERR_NOMEM ? "out of memory"
				  : sst == NV_ERR_INVALID ? "its SID is not valid" : nv_last_error());
		bool removed = nv_unlink(c->vol, users, name) == NV_OK;
		outcome(c, sst == NV_ERR_NOMEM ? RESTORE_INTERNAL
			: sst == NV_ERR_INVALID ? RESTORE_STORE_CORRUPT : RESTORE_FAILED,
			"the new profile folder %s cannot be given its own security descriptor (%s): "
			"it would be readable by every user of the machine, so nothing was restored "
			"into it%s", path, why, removed ? " and it was removed" : " (the empty folder is left)");
		return c->res->outcome;
	}
	p->profile = strdup(path);
	char *key = lower_key(path);
	if (!p->profile || !key || asprintf(&p->profile_win, "%c:\\Users\\%s", c->drive, name) < 0) {
		p->profile_win = NULL;
		free(key);
		return nomem(c);
	}
	p->profile_mref = m;
	dir_remember(c, key, m);

	/* NTUSER.DAT from the target's Default profile. */
	char tmpl[4096], out[4096], msg[512];
	snprintf(tmpl, sizeof(tmpl), "%s/default-%zu.DAT", c->win->hives.path, p->result);
	snprintf(out, sizeof(out), "%s/new-ntuser-%zu.DAT", c->win->hives.path, p->result);
	enum nv_status cst = copy_file_out(c, "Users/Default/NTUSER.DAT", tmpl);
	int rst = cst == NV_OK ? reg_hive_create_from_template(tmpl, out, msg, sizeof(msg)) : REG_OK;
	if (cst == NV_ERR_NOMEM || rst == REG_ENOMEM)
		return nomem(c);
	if (cst != NV_OK || rst != REG_OK) {
		outcome(c, RESTORE_TARGET, "cannot make %s's NTUSER.DAT from Users/Default/NTUSER.DAT "
			"on the target", p->target_name);
		return c->res->outcome;
	}
	if (!(p->ntuser_local = strdup(out)))
		return nomem(c);
	p->ntuser_dirty = true; /* written into the profile even when no value changes it */

	struct reg_profile_new np = { p->target_sid, p->profile_win, 0, 0 };
	rst = c->software ? reg_profilelist_add(c->software, &np) : REG_OK;
	if (rst == REG_ENOMEM)
		return nomem(c);
	if (!c->software || rst != REG_OK) {
		outcome(c, RESTORE_TARGET, "cannot add %s to the target's ProfileList: %s", p->target_sid,
			c->software ? reg_hive_errmsg(c->software) : "SOFTWARE is not open");
		return c->res->outcome;
	}
	c->software_dirty = true;
	c->res->users[p->result].created = true;
	logf_(c, "profile %s made for %s (%s)", path, p->target_name, p->target_sid);
	return RESTORE_OK;
}
