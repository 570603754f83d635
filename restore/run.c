/*
 * Restore engine (see restore/restore.h).  Order of work, chosen so that a
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
#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "restore/internal.h"

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
	enum restore_outcome step = RESTORE_OK; /* what the last step run returned */
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
	enum nv_status nst = nv_split_target(o->target, &disk, &part);
	if (nst == NV_ERR_NOMEM) {
		nomem(&c);
		goto early;
	}
	if (nst != NV_OK) {
		outcome(&c, RESTORE_USAGE, "%s: not a DISK[:PARTITION]", o->target);
		goto early;
	}
	struct nv_open_options no = { .read_write = true, .partition = part };
	nst = nv_open(disk, &no, &c.vol);
	free(disk);
	if (nst == NV_ERR_NOMEM) {
		nomem(&c);
		goto early;
	}
	if (nst != NV_OK) {
		outcome(&c, RESTORE_TARGET, "%s: %s", o->target, nv_last_error());
		goto early;
	}
	int wo = win_open(c.vol, "Windows", false, &c.win, err, sizeof(err));
	if (wo < 0) {
		if (wo == WIN_ERR_NOMEM)
			goto oom;
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
	/* Each step returns the run's outcome: anything but RESTORE_OK stops it. */
	if ((step = plan_users(&c)) != RESTORE_OK)
		goto done;
	if (c.rules && (step = rules_prepare(&c)) != RESTORE_OK)
		goto done;
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
		if (p->create && (step = create_profile(&c, p)) != RESTORE_OK)
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
		if (!(res->users[p->result].profile = strdup(p->profile)))
			goto oom;
		plan_known_folders(&c, p, p->create ? NULL : target_profile_of(&c, p->target_sid));
		if ((step = res->outcome) != RESTORE_OK)
			goto done;
		logf_(&c, "user %s (%s) -> %s in %s", p->su->name ? p->su->name : "?", p->su->sid,
		      p->target_sid, p->profile);
	}
	if (c.rules) { /* destinationCleanup: before anything is restored (USMT's order) */
		rules_cleanup(&c, NULL);
		for (size_t i = 0; i < c.nplans && res->outcome == RESTORE_OK; i++)
			if (c.plans[i].restore)
				rules_cleanup(&c, &c.plans[i]);
		if ((step = res->outcome) != RESTORE_OK)
			goto done;
	}
	for (size_t i = 0; i < nfiles; i++) {
		if ((step = restore_file(&c, i)) != RESTORE_OK) {
			c.fatal = true;
			break;
		}
		if (o->progress && i % 1000 == 999)
			fprintf(o->progress, "PHASE, Applying, totalPercentageCompleted, %zu\n",
				(i + 1) * 100 / nfiles);
	}
	if (c.fatal)
		goto done;
	for (size_t i = 0; i < st_reader_registry_count(c.r) && res->outcome == RESTORE_OK; i++)
		restore_value(&c, st_reader_registry(c.r, i));
	if ((step = res->outcome) != RESTORE_OK)
		goto done;

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
			if (fst == NV_ERR_NOMEM)
				goto oom;
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
	if ((step = res->outcome) != RESTORE_OK) /* out of memory writing the hives back */
		goto done;
	nv_unlink(c.vol, NV_MREF_ROOT, RESUME_MARK); /* every step ran: nothing to resume */
	goto done;
oom:
	step = nomem(&c);
done:
	/* One way to fail: a step that returned a failure has set the outcome
	 * (the first failure's), so "done" can never follow it. */
	assert(step == RESTORE_OK || res->outcome != RESTORE_OK);
	if (step != RESTORE_OK && res->outcome == RESTORE_OK) /* NDEBUG builds */
		outcome(&c, RESTORE_INTERNAL, "internal error: a step failed without saying why");
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
