/*
 * Facts about an offline Windows read from its hives (no volume access):
 * version and names from SOFTWARE and SYSTEM, ProfileList entries, local
 * users from SAM, a user's known folders and name hints from NTUSER.DAT.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "registry/reg_internal.h"

static char *
get_str(reg_hive *h, const char *key, const char *name)
{
	struct reg_value v = { 0 };
	char *s = NULL;

	if (!h || reg_hive_get_value(h, key, name, &v))
		return NULL;
	if (reg_value_string(&v, &s))
		s = NULL;
	reg_value_clear(&v);
	if (s && !*s) {
		free(s);
		s = NULL;
	}
	return s;
}

static int
get_u32(reg_hive *h, reg_key k, const char *name, uint32_t *out)
{
	struct reg_value v = { 0 };
	int e = reg_key_get_value(h, k, name, &v);

	if (!e)
		e = reg_value_u32(&v, out);
	reg_value_clear(&v);
	return e;
}

/* Replace %NAME% (case-insensitive) by the values given in vars[2*i], vars[2*i+1]. */
static char *
expand_vars(const char *s, const char *const *vars, size_t nvars)
{
	size_t cap = strlen(s) + 1, o = 0;
	char *out = malloc(cap);

	if (!out)
		return NULL;
	while (*s) {
		const char *rep = NULL;
		size_t skip = 0;
		if (*s == '%') {
			for (size_t i = 0; i < nvars; i++) {
				size_t n = strlen(vars[2 * i]);
				if (vars[2 * i + 1] && !strncasecmp(s + 1, vars[2 * i], n) && s[1 + n] == '%') {
					rep = vars[2 * i + 1];
					skip = n + 2;
					break;
				}
			}
		}
		if (!rep) {
			rep = s;
			skip = 1;
		}
		size_t rl = rep == s ? 1 : strlen(rep);
		if (o + rl + 1 > cap) {
			char *nb;
			cap = (o + rl + 1) * 2;
			nb = realloc(out, cap);
			if (!nb) {
				free(out);
				return NULL;
			}
			out = nb;
		}
		memcpy(out + o, rep, rl);
		o += rl;
		s += skip;
	}
	out[o] = 0;
	return out;
}

char *
reg_system_current_control_set(reg_hive *system)
{
	reg_key sel, cs;
	uint32_t n = 0;

	if (reg_key_open(system, "Select", &sel) ||
	    (get_u32(system, sel, "Current", &n) && get_u32(system, sel, "Default", &n)))
		n = 1;
	char *name = reg_asprintf("ControlSet%03u", n);
	if (name && reg_key_open(system, name, &cs)) {
		free(name);
		return NULL;
	}
	return name;
}

void
reg_windows_info_clear(struct reg_windows_info *w)
{
	free(w->product_name);
	free(w->edition_id);
	free(w->current_build);
	free(w->display_version);
	free(w->arch);
	free(w->computer_name);
	free(w->domain);
	free(w->entra_tenant);
	free(w->control_set);
	memset(w, 0, sizeof(*w));
}

int
reg_facts_windows(reg_hive *sw, reg_hive *sys, struct reg_windows_info *w)
{
	static const char cv[] = "Microsoft\\Windows NT\\CurrentVersion";

	memset(w, 0, sizeof(*w));
	if (sw) {
		w->product_name = get_str(sw, cv, "ProductName");
		w->edition_id = get_str(sw, cv, "EditionID");
		w->current_build = get_str(sw, cv, "CurrentBuild");
		if (!w->current_build)
			w->current_build = get_str(sw, cv, "CurrentBuildNumber");
		w->display_version = get_str(sw, cv, "DisplayVersion");
		if (!w->display_version)
			w->display_version = get_str(sw, cv, "ReleaseId");
		if (w->product_name && w->current_build && atol(w->current_build) >= 22000 &&
		    !strncmp(w->product_name, "Windows 10", 10)) {
			char *eleven = reg_asprintf("Windows 11%s", w->product_name + 10);
			if (eleven) {
				free(w->product_name);
				w->product_name = eleven;
			}
		}
	}
	if (sys && (w->control_set = reg_system_current_control_set(sys))) {
		char *p;
		reg_key k;

		p = reg_asprintf("%s\\Control\\Session Manager\\Environment", w->control_set);
		w->arch = p ? get_str(sys, p, "PROCESSOR_ARCHITECTURE") : NULL;
		free(p);
		p = reg_asprintf("%s\\Control\\ComputerName\\ComputerName", w->control_set);
		w->computer_name = p ? get_str(sys, p, "ComputerName") : NULL;
		free(p);
		p = reg_asprintf("%s\\Services\\Tcpip\\Parameters", w->control_set);
		if (p) {
			w->domain = get_str(sys, p, "Domain");
			if (!w->domain)
				w->domain = get_str(sys, p, "NV Domain");
		}
		free(p);
		p = reg_asprintf("%s\\Control\\CloudDomainJoin\\JoinInfo", w->control_set);
		if (p && !reg_key_open(sys, p, &k)) {
			reg_key *kids;
			size_t n;
			if (!reg_key_subkeys(sys, k, &kids, &n)) {
				if (n) {
					struct reg_value v;
					w->entra_joined = 1;
					if (!reg_key_get_value(sys, kids[0], "TenantId", &v)) {
						reg_value_string(&v, &w->entra_tenant);
						reg_value_clear(&v);
					}
				}
				free(kids);
			}
		}
		free(p);
	}
	if (!w->arch && sw) {
		reg_key k;
		if (!reg_key_open(sw, "Wow6432Node", &k))
			w->arch = strdup("AMD64");   /* a hint: 64-bit Windows has a 32-bit view */
	}
	return REG_OK;
}

/* ---- ProfileList ---- */

void
reg_profiles_free(struct reg_profile *p, size_t n)
{
	for (size_t i = 0; p && i < n; i++) {
		free(p[i].sid);
		free(p[i].image_path_raw);
		free(p[i].image_path);
	}
	free(p);
}

static char *
expand_system(const char *s)
{
	static const char *const vars[] = {
		"SystemDrive", "C:", "SystemRoot", "C:\\Windows", "windir", "C:\\Windows",
		"ProgramData", "C:\\ProgramData", "ALLUSERSPROFILE", "C:\\ProgramData",
	};
	return expand_vars(s, vars, sizeof(vars) / sizeof(vars[0]) / 2);
}

int
reg_facts_profiles(reg_hive *sw, struct reg_profile **out, size_t *n)
{
	reg_key pl, *kids;
	size_t nk;
	struct reg_profile *v;
	int e;

	*out = NULL;
	*n = 0;
	e = reg_key_open(sw, "Microsoft\\Windows NT\\CurrentVersion\\ProfileList", &pl);
	if (e)
		return e;
	e = reg_key_subkeys(sw, pl, &kids, &nk);
	if (e)
		return e;
	v = calloc(nk + 1, sizeof(*v));
	if (!v) {
		free(kids);
		return REG_ENOMEM;
	}
	for (size_t i = 0; i < nk; i++) {
		struct reg_profile *p = &v[*n];
		struct reg_value val;
		uint32_t lo, hi;
		char *name = reg_key_name(sw, kids[i]);
		size_t len;

		if (!name)
			continue;
		len = strlen(name);
		if (len > 4 && !strcasecmp(name + len - 4, ".bak")) {
			p->is_bak = 1;
			name[len - 4] = 0;
		}
		p->sid = name;
		p->image_path_raw = NULL;
		if (!reg_key_get_value(sw, kids[i], "ProfileImagePath", &val)) {
			reg_value_string(&val, &p->image_path_raw);
			reg_value_clear(&val);
		}
		if (p->image_path_raw)
			p->image_path = expand_system(p->image_path_raw);
		get_u32(sw, kids[i], "State", &p->state);
		get_u32(sw, kids[i], "Flags", &p->flags);
		if (!get_u32(sw, kids[i], "LocalProfileLoadTimeLow", &lo) &&
		    !get_u32(sw, kids[i], "LocalProfileLoadTimeHigh", &hi))
			p->load_time = (int64_t)((uint64_t)hi << 32 | lo);
		if (!get_u32(sw, kids[i], "LocalProfileUnloadTimeLow", &lo) &&
		    !get_u32(sw, kids[i], "LocalProfileUnloadTimeHigh", &hi))
			p->unload_time = (int64_t)((uint64_t)hi << 32 | lo);
		p->sid_ok = 1;
		if (!reg_key_get_value(sw, kids[i], "Sid", &val)) {
			char *s = fmt_sid_to_string(val.data, val.len);
			p->sid_ok = s && !strcasecmp(s, p->sid);
			free(s);
			reg_value_clear(&val);
		}
		p->is_temp = (p->state & REG_PROFILE_STATE_TEMP) != 0;
		if (p->image_path) {
			const char *b = strrchr(p->image_path, '\\');
			if (b && !strncasecmp(b + 1, "TEMP", 4) &&
			    (b[5] == 0 || b[5] == '.'))
				p->is_temp = 1;
		}
		(*n)++;
	}
	free(kids);
	*out = v;
	return REG_OK;
}

/* ---- SAM ---- */

void
reg_local_users_free(struct reg_local_user *u, size_t n)
{
	for (size_t i = 0; u && i < n; i++) {
		free(u[i].name);
		free(u[i].full_name);
		free(u[i].comment);
	}
	free(u);
}

/* One string of the V value: its table entry at `at` (offset, length), data at 0xCC + offset. */
static char *
v_string(const struct reg_value *v, size_t at)
{
	uint32_t off, len;

	if (v->len < 0xCC || at + 8 > v->len)
		return NULL;
	off = fmt_le32(v->data + at);
	len = fmt_le32(v->data + at + 4);
	if (!len || (uint64_t)0xCC + off + len > v->len)
		return NULL;
	char *s = fmt_utf16le_to_utf8(v->data + 0xCC + off, len);
	if (s && !*s) {
		free(s);
		s = NULL;
	}
	return s;
}

int
reg_facts_sam_users(reg_hive *sam, struct reg_local_user **out, size_t *n)
{
	reg_key names, users, *kids;
	size_t nk;
	struct reg_local_user *u;
	int e;

	*out = NULL;
	*n = 0;
	if ((e = reg_key_open(sam, "SAM\\Domains\\Account\\Users\\Names", &names)) ||
	    (e = reg_key_open(sam, "SAM\\Domains\\Account\\Users", &users)))
		return e;
	if ((e = reg_key_subkeys(sam, names, &kids, &nk)))
		return e;
	u = calloc(nk + 1, sizeof(*u));
	if (!u) {
		free(kids);
		return REG_ENOMEM;
	}
	for (size_t i = 0; i < nk; i++) {
		struct reg_local_user *x = &u[*n];
		hive_value_h dv = hivex_node_get_value(sam->hx, kids[i], "");
		hive_type t;
		size_t len;
		char rid[16];
		reg_key uk;

		x->name = reg_key_name(sam, kids[i]);
		if (!x->name)
			continue;
		/* The RID is the *type* of the default value of Names\<name>. */
		if (dv && hivex_value_type(sam->hx, dv, &t, &len) == 0)
			x->rid = (uint32_t)t;
		snprintf(rid, sizeof(rid), "%08X", x->rid);
		if (x->rid && !reg_key_child(sam, users, rid, &uk)) {
			struct reg_value v;
			if (!reg_key_get_value(sam, uk, "F", &v)) {
				if (v.len >= 0x3A)
					x->disabled = (v.data[0x38] & 0x01) != 0;
				if (v.len >= 0x10)
					x->last_logon = (int64_t)fmt_le64(v.data + 0x08);
				reg_value_clear(&v);
			}
			if (!reg_key_get_value(sam, uk, "V", &v)) {
				x->full_name = v_string(&v, 0x18);
				x->comment = v_string(&v, 0x24);
				reg_value_clear(&v);
			}
		}
		(*n)++;
	}
	free(kids);
	*out = u;
	return REG_OK;
}

/* ---- user folders ---- */

void
reg_user_folders_free(struct reg_user_folder *f, size_t n)
{
	for (size_t i = 0; f && i < n; i++) {
		free(f[i].name);
		free(f[i].raw);
		free(f[i].path);
	}
	free(f);
}

int
reg_facts_user_folders(reg_hive *nt, const char *profile, struct reg_user_folder **out, size_t *n)
{
	static const char usf[] = "Software\\Microsoft\\Windows\\CurrentVersion\\Explorer\\User Shell Folders";
	static const char sf[] = "Software\\Microsoft\\Windows\\CurrentVersion\\Explorer\\Shell Folders";
	const char *paths[2] = { usf, sf };
	const char *sources[2] = { "User Shell Folders", "Shell Folders" };
	char *onedrive = get_str(nt, "Environment", "OneDrive");
	struct reg_user_folder *v = NULL;
	size_t cnt = 0, cap = 0;
	int e = REG_OK, found_any = 0;

	if (!onedrive)
		onedrive = get_str(nt, "Software\\Microsoft\\OneDrive", "UserFolder");
	const char *vars[] = {
		"USERPROFILE", profile, "OneDrive", onedrive, "SystemDrive", "C:",
		"SystemRoot", "C:\\Windows", "windir", "C:\\Windows", "HOMEDRIVE", "C:",
	};
	*out = NULL;
	*n = 0;
	for (int pass = 0; pass < 2 && !e; pass++) {
		struct reg_value *vals;
		size_t nv;
		reg_key k;

		if (reg_key_open(nt, paths[pass], &k) || reg_key_values(nt, k, &vals, &nv))
			continue;
		found_any = 1;
		for (size_t i = 0; i < nv && !e; i++) {
			char *raw = NULL;
			size_t j;

			if (!*vals[i].name || reg_value_string(&vals[i], &raw))
				continue;
			for (j = 0; j < cnt; j++)
				if (!strcasecmp(v[j].name, vals[i].name))
					break;
			if (j < cnt) {          /* User Shell Folders wins */
				free(raw);
				continue;
			}
			if (cnt == cap) {
				size_t nc = cap ? cap * 2 : 32;
				struct reg_user_folder *nvp = realloc(v, nc * sizeof(*nvp));
				if (!nvp) {
					free(raw);
					e = REG_ENOMEM;
					break;
				}
				v = nvp;
				cap = nc;
			}
			struct reg_user_folder *f = &v[cnt];
			memset(f, 0, sizeof(*f));
			f->name = strdup(vals[i].name);
			f->raw = raw;
			f->path = expand_vars(raw, vars, sizeof(vars) / sizeof(vars[0]) / 2);
			f->source = sources[pass];
			if (!f->name || !f->path) {
				free(f->name);
				free(f->raw);
				free(f->path);
				e = REG_ENOMEM;
				break;
			}
			f->is_unc = f->path[0] == '\\' && f->path[1] == '\\';
			f->onedrive = strcasestr(f->path, "\\OneDrive") != NULL ||
				      (onedrive && !strncasecmp(f->path, onedrive, strlen(onedrive)));
			cnt++;
		}
		reg_values_free(vals, nv);
	}
	free(onedrive);
	if (e) {
		reg_user_folders_free(v, cnt);
		return e;
	}
	if (!found_any) {
		free(v);
		reg_seterr(nt, "hive has neither User Shell Folders nor Shell Folders");
		return REG_ENOTFOUND;
	}
	*out = v;
	*n = cnt;
	return REG_OK;
}

/* ---- account names ---- */

void
reg_account_names_clear(struct reg_account_names *a)
{
	free(a->name);
	free(a->source);
	free(a->domain);
	free(a->display_name);
	free(a->display_source);
	free(a->online_account);
	memset(a, 0, sizeof(*a));
}

/* Take @name (owned) as the account name unless a stronger one is there. */
static void
evidence(struct reg_account_names *a, char *name, const char *source)
{
	if (!name)
		return;
	if (a->name) {
		free(name);
		return;
	}
	a->name = name;
	a->source = strdup(source);
}

static void
display(struct reg_account_names *a, char *name, const char *source)
{
	if (!name)
		return;
	if (a->display_name) {
		free(name);
		return;
	}
	a->display_name = name;
	a->display_source = strdup(source);
}

int
reg_facts_account_names(reg_hive *sw, reg_hive *nt, const char *sid, struct reg_account_names *a)
{
	memset(a, 0, sizeof(*a));
	if (sw && sid) {
		char *ic = reg_asprintf("Microsoft\\IdentityStore\\Cache\\%s\\IdentityCache\\%s", sid, sid);
		if (ic) {
			evidence(a, get_str(sw, ic, "SAMName"), "IdentityStore\\Cache SAMName");
			evidence(a, get_str(sw, ic, "UserName"), "IdentityStore\\Cache UserName");
			display(a, get_str(sw, ic, "DisplayName"), "IdentityStore\\Cache DisplayName");
		}
		free(ic);
	}
	if (nt) {
		evidence(a, get_str(nt, "Volatile Environment", "USERNAME"),
			 "Volatile Environment\\USERNAME");
		a->domain = get_str(nt, "Volatile Environment", "USERDOMAIN");
	}
	if (sw && sid) {
		static const char lu[] = "Microsoft\\Windows\\CurrentVersion\\Authentication\\LogonUI";
		char *last_sid = get_str(sw, lu, "LastLoggedOnUserSID");
		if (last_sid && !strcasecmp(last_sid, sid)) {
			char *sam = get_str(sw, lu, "LastLoggedOnSAMUser");
			char *bs = sam ? strrchr(sam, '\\') : NULL;
			if (bs && bs[1]) {
				/* "WS-PC01\\alice" or ".\\alice": the part after the backslash. */
				if (!a->domain && bs != sam && strncmp(sam, ".", (size_t)(bs - sam)))
					a->domain = strndup(sam, (size_t)(bs - sam));
				evidence(a, strdup(bs + 1), "LogonUI LastLoggedOnSAMUser");
			} else if (sam && !bs) {
				evidence(a, strdup(sam), "LogonUI LastLoggedOnSAMUser");
			}
			free(sam);
			display(a, get_str(sw, lu, "LastLoggedOnDisplayName"),
				"LogonUI LastLoggedOnDisplayName");
		}
		free(last_sid);
	}
	if (nt) {
		evidence(a, get_str(nt, "Software\\Microsoft\\Windows\\CurrentVersion\\Explorer",
				    "Logon User Name"), "Explorer\\Logon User Name");
		display(a, get_str(nt, "Software\\Microsoft\\Office\\Common\\UserInfo", "UserName"),
			"Office Common\\UserInfo\\UserName");
		reg_key k;
		if (!reg_key_open(nt, "Software\\Microsoft\\IdentityCRL\\UserExtendedProperties", &k)) {
			reg_key *kids;
			size_t nk;
			if (!reg_key_subkeys(nt, k, &kids, &nk)) {
				if (nk)
					a->online_account = reg_key_name(nt, kids[0]);
				free(kids);
			}
		}
	}
	if ((a->name && !a->source) || (a->display_name && !a->display_source)) {
		reg_account_names_clear(a);
		return REG_ENOMEM;
	}
	return REG_OK;
}
