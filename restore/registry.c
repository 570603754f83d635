/*
 * Settings: registry values into local copies of the target's hives, which
 * are committed and written back through a new file that replaces the old
 * name only once complete.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "restore/internal.h"

/* ----------------------------------------------------------- registry -- */

reg_hive *
open_rw(struct ctx *c, const char *local, const char *what)
{
	char msg[512];
	int err;
	reg_hive *h = local ? reg_hive_open(local, REG_HIVE_OPEN_WRITE, &err, msg, sizeof(msg)) : NULL;
	if (!h && local && err == REG_ENOMEM)
		nomem(c);
	else if (!h && local)
		problem(c, "%s: cannot open it for writing: %s", what, msg);
	return h;
}

bool
strip_prefix(const char **key, const char *prefix)
{
	size_t n = strlen(prefix);
	if (strncasecmp(*key, prefix, n) || ((*key)[n] != '\\' && (*key)[n] != '\0'))
		return false;
	*key += n + ((*key)[n] == '\\');
	return true;
}

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
	int rst = reg_hive_create_empty(local, root, p->target_sid, now, msg, sizeof(msg));
	if (rst == REG_ENOMEM) {
		nomem(c);
		return;
	}
	if (rst != REG_OK) {
		logf_(c, "%s: a new UsrClass.dat cannot be made: %s", p->profile, msg);
		return;
	}
	if (!(p->usrclass_local = strdup(local)))
		nomem(c);
	p->usrclass_new = p->usrclass_local != NULL;
}

void
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
				if (asprintf(&owned, "%s%s%s", cs, *key ? "\\" : "", key) < 0) {
					nomem(c);
					return;
				}
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
	int rst = reg_key_create(h, key, &k);
	if (rst == REG_OK)
		rst = reg_key_set_value(h, k, vname, v->type, v->data, v->len);
	if (rst == REG_ENOMEM) {
		nomem(c);
	} else if (rst != REG_OK) {
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
int
write_back(struct ctx *c, const char *local, const char *path, const char *owner)
{
	char *dir = strdup(path), *slash = dir ? strrchr(dir, '/') : NULL;
	if (!slash) {
		if (!dir)
			nomem(c);
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
	errno = 0; /* how the descriptor functions say out of memory */
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
	if (!sd && errno == ENOMEM) {
		nv_unlink(c->vol, parent, tmp);
		nomem(c);
		goto out;
	}
	/* A hive under the default descriptor would be readable by anyone: not swapped in. */
	if (sd && nv_set_security(c->vol, nm, sd, sl) != NV_OK) {
		free(sd);
		nv_unlink(c->vol, parent, tmp);
		goto out;
	}
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

int
commit_hive(struct ctx *c, reg_hive *h, const char *volume_path, const char *owner, const char *tag)
{
	char local[4096];
	snprintf(local, sizeof(local), "%s/commit-%s", c->win->hives.path, tag);
	int rst = reg_hive_commit(h, local);
	if (rst == REG_ENOMEM) {
		nomem(c);
		return -1;
	}
	if (rst != REG_OK) {
		problem(c, "%s: cannot save the changed hive: %s", volume_path, reg_hive_errmsg(h));
		return -1;
	}
	return write_back(c, local, volume_path, owner);
}
