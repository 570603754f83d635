#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "formats/formats.h"
#include "windows/windows.h"

static void
seterr(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fmt_vsentence(err, errlen, fmt, ap);
	va_end(ap);
}

const char *
win_user_type_name(enum win_user_type t)
{
	static const char *const names[] = { "local", "domain", "Entra ID", "service",
					     "temporary", "default", "unknown" };
	return names[t];
}

/* ------------------------------------------------------------ installs -- */

struct root_dirs {
	char **names;
	size_t count;
	bool out_of_memory;
};

static int
collect_dirs(const struct nv_entry *e, void *ctx)
{
	struct root_dirs *r = ctx;
	if (e->inode && (e->inode->kind & NV_IS_DIR) && !(e->inode->kind & NV_IS_REPARSE)) {
		char **grown = realloc(r->names, (r->count + 1) * sizeof(*grown));
		char *name = grown ? strdup(e->name) : NULL;
		if (name) {
			r->names = grown;
			r->names[r->count++] = name;
		} else {
			if (grown)
				r->names = grown;
			r->out_of_memory = true;
		}
	}
	return NV_WALK_SKIP;
}

static void
add_install(struct nv_volume *vol, const char *parent, const char *dir, struct win_install **out,
	    size_t *n)
{
	char *windir, *hive;
	uint64_t mref;
	if (asprintf(&windir, "%s%s%s", parent, *parent ? "/" : "", dir) < 0)
		return;
	if (asprintf(&hive, "%s/System32/config/SOFTWARE", windir) < 0) {
		free(windir);
		return;
	}
	if (nv_lookup(vol, hive, &mref) == NV_OK) {
		struct win_install *grown = realloc(*out, (*n + 1) * sizeof(*grown));
		if (grown) {
			*out = grown;
			grown[*n].windir = windir;
			grown[*n].root = strdup(parent);
			grown[*n].is_windows_old = !strcasecmp(parent, "Windows.old");
			(*n)++;
			windir = NULL;
		}
	}
	free(windir);
	free(hive);
}

int
win_find_installs(struct nv_volume *vol, struct win_install **out, size_t *n)
{
	struct root_dirs root = { 0 }, old = { 0 };
	*out = NULL;
	*n = 0;
	nv_walk(vol, "", collect_dirs, &root);
	for (size_t i = 0; i < root.count; i++) {
		if (!strcasecmp(root.names[i], "Windows.old"))
			nv_walk(vol, "Windows.old", collect_dirs, &old);
		else
			add_install(vol, "", root.names[i], out, n);
	}
	for (size_t i = 0; i < old.count; i++)
		add_install(vol, "Windows.old", old.names[i], out, n);
	for (size_t i = 0; i < root.count; i++)
		free(root.names[i]);
	for (size_t i = 0; i < old.count; i++)
		free(old.names[i]);
	free(root.names);
	free(old.names);
	return (int)*n;
}

void
win_installs_free(struct win_install *w, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(w[i].windir);
		free(w[i].root);
	}
	free(w);
}

/* --------------------------------------------------------------- hives -- */

/* A copy of @s (NULL stays NULL); running out of memory is remembered, and
 * win_open then fails as a whole rather than describe fewer users. */
static char *
keep(struct win_offline *w, const char *s)
{
	char *d = s ? strdup(s) : NULL;
	if (s && !d)
		w->out_of_memory = true;
	return d;
}

/* Copy a hive out and open it; NULL with @state "missing"/"unreadable" otherwise. */
static reg_hive *
open_copy(struct win_offline *w, const char *volume_path, const char *local, char **copy,
	  char *state, size_t statelen, char **detail)
{
	char msg[512];
	int err;
	reg_hive *h;

	*copy = NULL;
	if (detail)
		*detail = NULL;
	if (win_hive_copy_out(w->vol, volume_path, &w->hives, local, copy) != NV_OK) {
		snprintf(state, statelen, "missing");
		if (detail)
			*detail = keep(w, win_hive_copy_error());
		return NULL;
	}
	h = reg_hive_open(*copy, 0, &err, msg, sizeof(msg));
	if (!h) {
		snprintf(state, statelen, "unreadable");
		if (detail)
			*detail = keep(w, msg);
		return NULL;
	}
	const struct reg_replay_report *rep = reg_hive_report(h);
	snprintf(state, statelen, "%s", reg_hive_state_name(rep->state));
	if (detail)
		*detail = keep(w, rep->detail);
	return h;
}

static char *
sid_value(reg_hive *h, const char *key)
{
	struct reg_value v = { 0 };
	char *sid = NULL;
	if (h && reg_hive_get_value(h, key, "", &v) == REG_OK && v.len >= 8)
		sid = fmt_sid_to_string(v.data, v.len);
	reg_value_clear(&v);
	return sid;
}

/* The account domain's SID ends SAM's Domains\Account V record: the machine
 * SID for a Windows whose SECURITY hive is missing or damaged. */
static char *
sam_machine_sid(reg_hive *sam)
{
	struct reg_value v = { 0 };
	char *sid = NULL;
	if (sam && reg_hive_get_value(sam, "SAM\\Domains\\Account", "V", &v) == REG_OK && v.len >= 24) {
		const uint8_t *d = v.data + v.len - 24;
		if (d[0] == 1 && d[1] == 4 && d[7] == 5 && d[8] == 21 && !d[9] && !d[10] && !d[11])
			sid = fmt_sid_to_string(d, 24);
	}
	reg_value_clear(&v);
	return sid;
}

static char
system_drive(reg_hive *software)
{
	struct reg_value v = { 0 };
	char *root = NULL, letter = 'C';
	if (software &&
	    reg_hive_get_value(software, "Microsoft\\Windows NT\\CurrentVersion", "SystemRoot", &v) ==
		    REG_OK &&
	    reg_value_string(&v, &root) == REG_OK && root && root[0] && root[1] == ':')
		letter = root[0];
	free(root);
	reg_value_clear(&v);
	return (char)(letter & ~0x20);
}

/* "C:\Users\alice" -> "<root>/Users/alice" when on the system drive. */
static char *
volume_path_of(const char *windows_path, char drive, const char *root)
{
	if (!windows_path || strlen(windows_path) < 3 || windows_path[1] != ':' ||
	    (windows_path[0] & ~0x20) != drive || windows_path[2] != '\\')
		return NULL;
	char *p;
	if (asprintf(&p, "%s%s%s", root, *root ? "/" : "", windows_path + 3) < 0)
		return NULL;
	for (char *c = p; *c; c++)
		if (*c == '\\')
			*c = '/';
	size_t len = strlen(p);
	while (len && p[len - 1] == '/')
		p[--len] = '\0';
	return p;
}

/* ---------------------------------------------------------------- users -- */

static struct win_user *
new_user(struct win_offline *w)
{
	struct win_user *grown = realloc(w->users, (w->user_count + 1) * sizeof(*grown));
	if (!grown) {
		w->out_of_memory = true;
		return NULL;
	}
	w->users = grown;
	memset(&grown[w->user_count], 0, sizeof(*grown));
	return &grown[w->user_count++];
}

static bool
sid_in_domain(const char *sid, const char *domain)
{
	size_t len = domain ? strlen(domain) : 0;
	return len && !strncasecmp(sid, domain, len) && sid[len] == '-' &&
	       !strchr(sid + len + 1, '-');
}

static enum win_user_type
type_of(const struct win_offline *w, const char *sid, bool temp)
{
	if (!strcmp(sid, "S-1-5-18") || !strcmp(sid, "S-1-5-19") || !strcmp(sid, "S-1-5-20"))
		return WIN_USER_SERVICE;
	if (temp)
		return WIN_USER_TEMPORARY;
	if (sid_in_domain(sid, w->machine_sid))
		return WIN_USER_LOCAL;
	if (!strncmp(sid, "S-1-12-1-", 9))
		return WIN_USER_ENTRA;
	/* Without the machine SID a local account cannot be told from a domain
	 * one, unless the SID is in the primary domain: never guess "domain". */
	if (!strncmp(sid, "S-1-5-21-", 9))
		return w->machine_sid || sid_in_domain(sid, w->domain_sid) ? WIN_USER_DOMAIN : WIN_USER_UNKNOWN;
	return WIN_USER_UNKNOWN;
}

struct size_sum {
	uint64_t bytes, files;
};

static int
sum_sizes(const struct nv_entry *e, void *ctx)
{
	struct size_sum *s = ctx;
	if (e->inode && !(e->inode->kind & NV_IS_DIR)) {
		s->bytes += e->inode->size;
		s->files++;
	}
	return NV_WALK_CONTINUE;
}

static void
set_name(struct win_offline *w, struct win_user *u, const char *name, const char *source)
{
	free(u->name);
	free(u->name_source);
	u->name = keep(w, name);
	u->name_source = keep(w, source);
}

static const char *
last_component(const char *path)
{
	const char *slash = strrchr(path, '\\');
	if (!slash)
		slash = strrchr(path, '/');
	return slash ? slash + 1 : path;
}

/* Account name evidence after SAM (reg_facts_account_names); the display name,
 * the online account and the domain the hive names are kept apart from it. */
static void
account_names(struct win_offline *w, struct win_user *u, reg_hive *ntuser)
{
	struct reg_account_names a;
	if (reg_facts_account_names(w->software, ntuser, u->sid, &a) != REG_OK)
		return;
	if (!u->name && a.name) {
		char source[300];
		snprintf(source, sizeof(source), "%s%s", ntuser && strncmp(a.source, "IdentityStore", 13) &&
			 strncmp(a.source, "LogonUI", 7) ? "hive: " : "SOFTWARE: ", a.source);
		set_name(w, u, a.name, source);
	}
	if (!u->display_name && a.display_name) {
		u->display_name = a.display_name;
		u->display_source = a.display_source;
		a.display_name = a.display_source = NULL;
	}
	if (a.online_account) {
		u->online_account = a.online_account;
		a.online_account = NULL;
	}
	if (a.domain) {
		u->account_domain = a.domain;
		a.domain = NULL;
	}
	reg_account_names_clear(&a);
}

/* Read one user's hives and folder: state, names, last use, size. */
static void
inspect_profile(struct win_offline *w, struct win_user *u, size_t index, bool sizes,
		const struct reg_local_user *sam, size_t sam_count)
{
	char local[64], path[8192], state[48];
	uint64_t mref;

	u->folder_exists = u->volume_path && nv_lookup(w->vol, u->volume_path, &mref) == NV_OK;
	/* A temporary profile still belongs to a local account: name it from SAM. */
	if (u->sid && sid_in_domain(u->sid, w->machine_sid)) {
		uint32_t rid = (uint32_t)strtoul(strrchr(u->sid, '-') + 1, NULL, 10);
		for (size_t i = 0; i < sam_count; i++) {
			if (sam[i].rid != rid)
				continue;
			char source[64];
			snprintf(source, sizeof(source), "SAM (RID %u)", rid);
			set_name(w, u, sam[i].name, source);
			u->disabled = sam[i].disabled;
			if (sam[i].full_name) {
				u->display_name = keep(w, sam[i].full_name);
				u->display_source = keep(w, "SAM full name");
			}
		}
	}
	if (!u->folder_exists) {
		account_names(w, u, NULL);
		u->hive_state = keep(w, "-");
		u->hive_detail = keep(w, u->volume_path ? "the profile folder does not exist"
						       : "the profile is not on this volume");
	} else {
		snprintf(local, sizeof(local), "NTUSER-%zu.DAT", index);
		snprintf(path, sizeof(path), "%s/NTUSER.DAT", u->volume_path);
		reg_hive *h = open_copy(w, path, local, &u->ntuser_copy, state, sizeof(state),
				       &u->hive_detail);
		u->hive_state = keep(w, state);
		if (h) {
			if (u->profile_path)
				reg_facts_user_folders(h, u->profile_path, &u->folders, &u->folder_count);
			account_names(w, u, h);
			reg_hive_close(h);
		}
		struct nv_inode *in;
		if (nv_lookup(w->vol, path, &mref) == NV_OK && nv_stat(w->vol, mref, &in) == NV_OK) {
			if ((int64_t)in->times[NV_TIME_WRITE] > u->last_use)
				u->last_use = (int64_t)in->times[NV_TIME_WRITE];
			nv_inode_free(in);
		}
		snprintf(local, sizeof(local), "UsrClass-%zu.dat", index);
		snprintf(path, sizeof(path), "%s/AppData/Local/Microsoft/Windows/UsrClass.dat",
			 u->volume_path);
		char *copy = NULL;
		if (win_hive_copy_out(w->vol, path, &w->hives, local, &copy) == NV_OK)
			u->usrclass_copy = copy;
		if (sizes) {
			struct size_sum s = { 0 };
			nv_walk(w->vol, u->volume_path, sum_sizes, &s);
			u->size_bytes = s.bytes;
			u->file_count = s.files;
		}
	}
	if (!u->name) {
		static const struct {
			const char *sid, *name;
		} wellknown[] = { { "S-1-5-18", "SYSTEM" },
				  { "S-1-5-19", "LOCAL SERVICE" },
				  { "S-1-5-20", "NETWORK SERVICE" } };
		for (size_t i = 0; u->sid && i < 3; i++)
			if (!strcmp(u->sid, wellknown[i].sid))
				set_name(w, u, wellknown[i].name, "well-known SID");
	}
	if (!u->name && u->profile_path)
		set_name(w, u, last_component(u->profile_path), "profile folder name");
	/* A temporary profile's folder is TEMP, which is no account's name. */
	if (u->is_temp && u->name_source && !strcmp(u->name_source, "profile folder name")) {
		free(u->name_source);
		u->name_source = keep(w, "profile folder name (a temporary profile: not the account's)");
	}
}

static bool
path_taken(const struct win_offline *w, const char *volume_path)
{
	for (size_t i = 0; i < w->user_count; i++)
		if (w->users[i].volume_path && !strcasecmp(w->users[i].volume_path, volume_path))
			return true;
	return false;
}

/* Folders in Users\ with no ProfileList entry, and the Default profile. */
static void
add_folders_without_entries(struct win_offline *w, char drive, bool sizes)
{
	struct root_dirs dirs = { 0 };
	char *users_dir = volume_path_of("C:\\Users", 'C', w->install.root);
	(void)drive;
	if (!users_dir)
		return;
	if (nv_walk(w->vol, users_dir, collect_dirs, &dirs) == NV_ERR_NOMEM || dirs.out_of_memory)
		w->out_of_memory = true;
	for (size_t i = 0; i < dirs.count; i++) {
		char *vp;
		if (!strcasecmp(dirs.names[i], "Public") || asprintf(&vp, "%s/%s", users_dir,
								      dirs.names[i]) < 0)
			continue;
		if (path_taken(w, vp)) {
			free(vp);
			continue;
		}
		struct win_user *u = new_user(w);
		if (!u) {
			free(vp);
			break;
		}
		u->volume_path = vp;
		if (asprintf(&u->profile_path, "%c:\\Users\\%s", 'C', dirs.names[i]) < 0) {
			u->profile_path = NULL;
			w->out_of_memory = true;
		}
		bool is_default = !strcasecmp(dirs.names[i], "Default");
		u->type = is_default ? WIN_USER_DEFAULT : WIN_USER_UNKNOWN;
		set_name(w, u, dirs.names[i], is_default ? "the Default profile (template for new users)"
						      : "profile folder name (no ProfileList entry)");
		inspect_profile(w, u, w->user_count, sizes, NULL, 0);
	}
	for (size_t i = 0; i < dirs.count; i++)
		free(dirs.names[i]);
	free(dirs.names);
	free(users_dir);
}

int
win_open(struct nv_volume *vol, const char *windir, bool sizes, struct win_offline **out,
	     char *err, size_t errlen)
{
	struct win_install *installs;
	size_t n;
	struct win_offline *w;
	char path[4096], *copy;

	*out = NULL;
	win_find_installs(vol, &installs, &n);
	const struct win_install *chosen = NULL;
	if (windir) {
		for (size_t i = 0; i < n; i++)
			if (!strcasecmp(installs[i].windir, windir))
				chosen = &installs[i];
		if (!chosen) {
			seterr(err, errlen, "no Windows installation in \"%s\" (no System32/config/SOFTWARE there)",
			       windir);
			win_installs_free(installs, n);
			return -1;
		}
	} else if (n == 0) {
		seterr(err, errlen, "no Windows installation found on this volume "
				    "(no folder holds System32/config/SOFTWARE)");
		return -1;
	} else {
		size_t current = 0;
		for (size_t i = 0; i < n; i++)
			if (!installs[i].is_windows_old)
				current++;
		if (current > 1) {
			char list[1024] = "";
			for (size_t i = 0; i < n; i++) {
				size_t len = strlen(list);
				snprintf(list + len, sizeof(list) - len, "%s%s", len ? ", " : "",
					 installs[i].windir);
			}
			seterr(err, errlen, "several Windows installations on this volume (%s): name one "
					    "with --windir", list);
			win_installs_free(installs, n);
			return -1;
		}
		for (size_t i = 0; i < n && !chosen; i++)
			if (!installs[i].is_windows_old)
				chosen = &installs[i];
		if (!chosen)
			chosen = &installs[0];
	}
	w = calloc(1, sizeof(*w));
	if (!w) {
		win_installs_free(installs, n);
		seterr(err, errlen, "out of memory");
		return WIN_ERR_NOMEM;
	}
	w->vol = vol;
	w->install.windir = strdup(chosen->windir);
	w->install.root = strdup(chosen->root);
	w->install.is_windows_old = chosen->is_windows_old;
	win_installs_free(installs, n);
	if (!w->install.windir || !w->install.root) {
		seterr(err, errlen, "out of memory");
		win_close(w);
		return WIN_ERR_NOMEM;
	}
	int hd = win_hive_dir_open(&w->hives, err, errlen);
	if (hd < 0) {
		win_close(w);
		return hd;
	}
	static const char *const names[] = { "SOFTWARE", "SYSTEM", "SAM", "SECURITY" };
	reg_hive **slots[] = { &w->software, &w->system, &w->sam, &w->security };
	for (int i = 0; i < 4; i++) {
		char state[48], *detail;
		snprintf(path, sizeof(path), "%s/System32/config/%s", w->install.windir, names[i]);
		*slots[i] = open_copy(w, path, names[i], &copy, state, sizeof(state), &detail);
		if (i == 0)
			snprintf(w->software_state, sizeof(w->software_state), "%s", state);
		if (i == 1)
			snprintf(w->system_state, sizeof(w->system_state), "%s", state);
		if (i == 0 && !w->software) {
			seterr(err, errlen, "%s: the SOFTWARE hive is %s: %s", path, state,
			       detail ? detail : "");
			free(detail);
			free(copy);
			win_close(w);
			return -1;
		}
		free(detail);
		free(copy);
	}
	reg_facts_windows(w->software, w->system, &w->info);
	w->machine_sid = sid_value(w->security, "Policy\\PolAcDmS");
	w->machine_sid_source = w->machine_sid ? "SECURITY Policy\\PolAcDmS" : NULL;
	if (!w->machine_sid && (w->machine_sid = sam_machine_sid(w->sam)))
		w->machine_sid_source = "SAM Domains\\Account V (the SECURITY hive has no PolAcDmS)";
	w->domain_sid = sid_value(w->security, "Policy\\PolPrDmS");

	struct reg_local_user *sam = NULL;
	size_t sam_count = 0;
	if (w->sam && reg_facts_sam_users(w->sam, &sam, &sam_count) == REG_ENOMEM)
		w->out_of_memory = true;
	struct reg_profile *profiles;
	size_t np;
	char drive = system_drive(w->software);
	int pr = reg_facts_profiles(w->software, &profiles, &np);
	if (pr == REG_ENOMEM)
		w->out_of_memory = true;
	if (pr == REG_OK) {
		for (size_t i = 0; i < np; i++) {
			struct win_user *u = new_user(w);
			if (!u)
				break;
			u->sid = keep(w, profiles[i].sid);
			u->in_profile_list = true;
			u->is_bak = profiles[i].is_bak;
			u->is_temp = profiles[i].is_temp;
			u->state = profiles[i].state;
			u->flags = profiles[i].flags;
			u->profile_path = keep(w, profiles[i].image_path);
			u->volume_path = volume_path_of(profiles[i].image_path, drive, w->install.root);
			u->type = type_of(w, u->sid, u->is_temp);
			u->last_use = profiles[i].unload_time > profiles[i].load_time
					      ? profiles[i].unload_time : profiles[i].load_time;
			inspect_profile(w, u, i, sizes, sam, sam_count);
		}
		reg_profiles_free(profiles, np);
	}
	add_folders_without_entries(w, drive, sizes);
	reg_local_users_free(sam, sam_count);
	if (w->out_of_memory) {
		seterr(err, errlen, "out of memory");
		win_close(w);
		return WIN_ERR_NOMEM;
	}
	*out = w;
	return 0;
}

void
win_close(struct win_offline *w)
{
	if (!w)
		return;
	for (size_t i = 0; i < w->user_count; i++) {
		struct win_user *u = &w->users[i];
		free(u->sid);
		free(u->name);
		free(u->name_source);
		free(u->display_name);
		free(u->display_source);
		free(u->online_account);
		free(u->account_domain);
		free(u->profile_path);
		free(u->volume_path);
		free(u->hive_state);
		free(u->hive_detail);
		free(u->ntuser_copy);
		free(u->usrclass_copy);
		reg_user_folders_free(u->folders, u->folder_count);
	}
	free(w->users);
	reg_hive *hives[] = { w->software, w->system, w->sam, w->security };
	for (int i = 0; i < 4; i++)
		if (hives[i])
			reg_hive_close(hives[i]);
	reg_windows_info_clear(&w->info);
	free(w->machine_sid);
	free(w->domain_sid);
	free(w->install.windir);
	free(w->install.root);
	win_hive_dir_close(&w->hives);
	free(w);
}

const struct win_user *
win_find_user(const struct win_offline *w, const char *who)
{
	for (size_t i = 0; i < w->user_count; i++) {
		const struct win_user *u = &w->users[i];
		if (!u->is_bak && ((u->sid && !strcasecmp(u->sid, who)) ||
				   (u->name && !strcasecmp(u->name, who))))
			return u;
	}
	/* Then the profile folder's name ("alice" for C:\Users\alice). */
	for (size_t i = 0; i < w->user_count; i++) {
		const struct win_user *u = &w->users[i];
		if (!u->is_bak && u->profile_path && !strcasecmp(last_component(u->profile_path), who))
			return u;
	}
	return NULL;
}
