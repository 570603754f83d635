/*
 * winstate reg DISK[:PART] [--user NAME|SID] [--json] [-s] FULLKEY
 * winstate reg --hive FILE [--json] [-s] [KEY | "PATTERN [VALUE]"]
 *
 * Prints keys and values of a hive file like `reg query`, after replaying its
 * transaction logs when it is dirty (logs are found beside the file by name,
 * case-insensitively).  The first line says the hive's state.  KEY is a path
 * inside the hive ("" = root); with '*', '?' or "[...]" it is a pattern
 * (registry/registry.h: reg_hive_match).  With a disk, FULLKEY is a full path
 * (HKLM\Software\..., HKLM\System\CurrentControlSet\..., HKCU\... with --user,
 * HKU\<SID>\...) mapped onto the offline Windows' hives.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "agent/commands.h"
#include "agent/options.h"
#include "windows/windows.h"
#include "formats/formats.h"
#include "registry/registry.h"

struct reg_opts {
	int json;
	int recurse;
	int first;              /* nothing printed yet (JSON: no comma needed) */
	char last_key[1024];    /* text patterns: key line printed last */
};

static const char reg_help[] =
	"usage: winstate reg DISK[:PART] [--user NAME|SID|FOLDER] [--json] [-s] FULLKEY\n"
	"       winstate reg --hive FILE [--json] [-s] [KEY]\n"
	"       winstate reg --hive FILE [--json] 'KEY\\PAT* [VALUE*]'\n\n"
	"Show the keys and values of an offline registry hive like `reg query`.\n"
	"A dirty hive is read with its .LOG1/.LOG2 (or .LOG) replayed into a private\n"
	"copy; the first line says whether that happened.  -s lists subkeys recursively.\n"
	"With DISK, FULLKEY is HKLM\\Software\\..., HKLM\\System\\CurrentControlSet\\...,\n"
	"HKLM\\SAM\\..., HKU\\<SID>\\..., or HKCU\\... for the profile named by --user.\n";

static void
print_value_text(const struct reg_value *v)
{
	char *data = reg_value_format(v);
	const char *tn = reg_type_name(v->type);

	if (!strcmp(tn, "REG_UNKNOWN"))
		printf("    %s    REG_0x%" PRIx32 "    %s\n", *v->name ? v->name : "(Default)", v->type,
		       data ? data : "");
	else
		printf("    %s    %s    %s\n", *v->name ? v->name : "(Default)", tn, data ? data : "");
	free(data);
}

static void
print_value_json(const struct reg_value *v)
{
	char *data = reg_value_format(v);
	uint64_t n;

	printf("{\"name\":");
	fmt_json_string(stdout, v->name);
	printf(",\"type\":%" PRIu32 ",\"type_name\":", v->type);
	fmt_json_string(stdout, reg_type_name(v->type));
	printf(",\"data\":");
	if ((v->type == REG_DWORD || v->type == REG_DWORD_BIG_ENDIAN || v->type == REG_QWORD) &&
	    (v->len == 4 || v->len == 8) && reg_value_u64(v, &n) == REG_OK) {
		printf("%" PRIu64, n);
	} else if (v->type == REG_MULTI_SZ) {
		char **arr;
		size_t cnt;
		if (reg_value_multi(v, &arr, &cnt) == REG_OK) {
			printf("[");
			for (size_t i = 0; i < cnt; i++) {
				printf(i ? "," : "");
				fmt_json_string(stdout, arr[i]);
				free(arr[i]);
			}
			free(arr);
			printf("]");
		} else {
			printf("null");
		}
	} else {
		fmt_json_string(stdout, data ? data : "");
	}
	printf(",\"raw\":");
	fmt_json_hex(stdout, v->data, v->len);
	printf("}");
	free(data);
}

/* One key: its values then (text) its subkeys' paths; recursive with -s. */
static int
show_key(reg_hive *h, reg_key k, const char *path, struct reg_opts *o)
{
	struct reg_value *vals = NULL;
	reg_key *kids = NULL;
	size_t nv = 0, nk = 0;
	int e;

	if ((e = reg_key_values(h, k, &vals, &nv)) || (e = reg_key_subkeys(h, k, &kids, &nk))) {
		fprintf(stderr, "winstate reg: %s: %s\n", *path ? path : "\\", reg_hive_errmsg(h));
		reg_values_free(vals, nv);
		return e;
	}
	if (o->json) {
		printf("%s{\"key\":", o->first ? "" : ",");
		o->first = 0;
		fmt_json_string(stdout, path);
		printf(",\"values\":[");
		for (size_t i = 0; i < nv; i++) {
			printf(i ? "," : "");
			print_value_json(&vals[i]);
		}
		printf("],\"subkeys\":[");
	} else {
		printf("\n%s\n", *path ? path : "\\");
		for (size_t i = 0; i < nv; i++)
			print_value_text(&vals[i]);
		if (nv && nk && !o->recurse)
			printf("\n");
	}
	for (size_t i = 0; i < nk; i++) {
		char *name = reg_key_name(h, kids[i]);
		if (o->json) {
			printf(i ? "," : "");
			fmt_json_string(stdout, name ? name : "");
		} else if (!o->recurse) {
			printf("%s%s%s\n", path, *path ? "\\" : "", name ? name : "?");
		}
		free(name);
	}
	if (o->json)
		printf("]}");
	reg_values_free(vals, nv);
	for (size_t i = 0; o->recurse && !e && i < nk; i++) {
		char *name = reg_key_name(h, kids[i]);
		char *sub = NULL;
		if (name && asprintf(&sub, "%s%s%s", path, *path ? "\\" : "", name) < 0)
			sub = NULL;
		if (sub)
			e = show_key(h, kids[i], sub, o);
		free(sub);
		free(name);
	}
	free(kids);
	return e;
}

static int
match_cb(reg_hive *h, const char *key_path, reg_key k, const struct reg_value *v, void *opaque)
{
	struct reg_opts *o = opaque;

	(void)h;
	(void)k;
	if (o->json) {
		printf("%s{\"key\":", o->first ? "" : ",");
		o->first = 0;
		fmt_json_string(stdout, key_path);
		if (v) {
			printf(",\"value\":");
			print_value_json(v);
		}
		printf("}");
		return 0;
	}
	o->first = 0;
	if (!v || strcmp(o->last_key, key_path)) {
		printf("\n%s\n", *key_path ? key_path : "\\");
		snprintf(o->last_key, sizeof(o->last_key), "%s", key_path);
	}
	if (v)
		print_value_text(v);
	return 0;
}

static int show(reg_hive *h, const char *label, const char *key, struct reg_opts *o);
static int reg_on_disk(const char *spec, const char *key, const char *user, struct reg_opts *o);

int
cmd_reg(int argc, char **argv)
{
	struct reg_opts o = { .first = 1 };
	const char *hive_path = NULL, *key = "";
	int have_key = 0, e;
	char msg[400];
	const char *disk_spec = NULL, *user = NULL;

	static const struct ws_option table[] = {
		{ "--hive", NULL, WS_OPT_VALUE, 'H' },
		{ "--json", NULL, WS_OPT_FLAG, 'j' },
		{ "--user", NULL, WS_OPT_VALUE, 'u' },
		{ "--recurse", "-s", WS_OPT_FLAG, 's' },
		{ 0 },
	};
	struct ws_opts p;
	ws_opts_init(&p, "winstate reg", argc, argv, table, reg_help);
	for (int id; (id = ws_opts_next(&p)) != WS_OPTS_END;) {
		const char *a = p.value;
		switch (id) {
		case WS_OPTS_EXIT: return p.exit_code;
		case 'H': hive_path = a; break;
		case 'j': o.json = 1; break;
		case 'u': user = a; break;
		case 's': o.recurse = 1; break;
		case WS_OPTS_OPERAND:
			if (!strcmp(a, "/s")) /* reg query's own spelling */
				o.recurse = 1;
			else if (!hive_path && !disk_spec && !strchr(a, '\\') && strncasecmp(a, "HK", 2))
				disk_spec = a;
			else if (!have_key) {
				key = a;
				have_key = 1;
			} else
				return ws_opts_unexpected(&p, a, "more than one KEY given");
			break;
		}
	}
	if (!hive_path && !disk_spec) {
		fprintf(stderr, "winstate reg: name a disk (DISK[:PART] KEY) or a hive file (--hive FILE)\n\n");
		fputs(reg_help, stderr);
		return WS_EXIT_USAGE;
	}
	if (disk_spec)
		return reg_on_disk(disk_spec, key, user, &o);
	while (*key == '\\')
		key++;

	reg_hive *h = reg_hive_open(hive_path, 0, &e, msg, sizeof(msg));
	if (!h) {
		fprintf(stderr, "winstate reg: %s\n", msg);
		return e == REG_ENOMEM ? WS_EXIT_INTERNAL : WS_EXIT_INPUT;
	}
	int rc = show(h, hive_path, key, &o);
	reg_hive_close(h);
	return rc;
}

/* Show @key (relative to the hive root) of an open hive; @label names it. */
static int
show(reg_hive *h, const char *label, const char *key, struct reg_opts *o_)
{
	struct reg_opts o = *o_;
	int e;
	const struct reg_replay_report *r = reg_hive_report(h);
	if (o.json) {
		printf("{\"hive\":");
		fmt_json_string(stdout, label);
		printf(",\"state\":\"%s\",\"detail\":", reg_hive_state_name(r->state));
		fmt_json_string(stdout, r->detail);
		printf(",\"entries_applied\":%u,\"entries_rejected\":%u,\"keys\":[",
		       r->entries_applied, r->entries_rejected);
	} else {
		printf("hive %s: %s (%s)\n", label, reg_hive_state_name(r->state), r->detail);
	}

	int rc = WS_EXIT_OK;
	if (strpbrk(key, "*?[")) {
		e = reg_hive_match(h, key, match_cb, &o);
		if (e) {
			fprintf(stderr, "winstate reg: %s\n", reg_hive_errmsg(h));
			rc = e == REG_EINVAL ? WS_EXIT_USAGE : WS_EXIT_FAILED;
		} else if (o.first && !o.json) {
			printf("(nothing matches)\n");
		}
	} else {
		reg_key k;
		e = reg_key_open(h, key, &k);
		if (e) {
			fprintf(stderr, "winstate reg: %s\n", reg_hive_errmsg(h));
			rc = WS_EXIT_FAILED;
		} else if (show_key(h, k, key, &o)) {
			rc = WS_EXIT_PARTIAL;
		}
	}
	if (o.json)
		printf("]}\n");
	if (rc == WS_EXIT_OK && (r->state == REG_HIVE_DIRTY_NOT_REPLAYED || r->state == REG_HIVE_UNRECOVERABLE))
		rc = WS_EXIT_PARTIAL;   /* shown, but recent changes may be missing */
	return rc;
}

/*
 * The DISK form: the hives are copied out of the offline Windows (and
 * replayed when dirty), and a full path (HKLM\..., HKCU\... for --user,
 * HKU\<SID>\...) is mapped onto the right one.
 */
static int
reg_on_disk(const char *spec, const char *key, const char *user, struct reg_opts *o)
{
	struct nv_open_options opts = { 0 };
	struct nv_volume *v;
	struct win_offline *w;
	struct win_rules_host host;
	struct reg_location loc;
	char *disk, err[1024];
	int rc;

	if (nv_split_target(spec, &disk, &opts.partition) != NV_OK) {
		fprintf(stderr, "winstate reg: %s\n", nv_last_error());
		return WS_EXIT_USAGE;
	}
	enum nv_status st = nv_open(disk, &opts, &v);
	free(disk);
	if (st != NV_OK) {
		fprintf(stderr, "winstate reg: %s\n", nv_last_error());
		return WS_EXIT_INPUT;
	}
	if (win_open(v, NULL, false, &w, err, sizeof(err)) < 0) {
		fprintf(stderr, "winstate reg: %s\n", err);
		nv_close(v);
		return WS_EXIT_INPUT;
	}
	const struct win_user *found = user ? win_find_user(w, user) : NULL;
	if (user && !found) {
		fprintf(stderr, "winstate reg: no profile for \"%s\" (see `winstate users %s`)\n", user,
			spec);
		rc = WS_EXIT_INPUT;
		goto out;
	}
	if (!strncasecmp(key, "HKCU", 4) && !found) {
		fprintf(stderr, "winstate reg: HKCU needs --user NAME|SID: whose hive should it be?\n");
		rc = WS_EXIT_USAGE;
		goto out;
	}
	win_rules_host_init(&host, w, found);
	/* HKU\<SID> for every profile whose hive was copied. */
	for (size_t i = 0; i < w->user_count; i++) {
		const struct win_user *u = &w->users[i];
		if (u != found && u->sid && !u->is_bak && u->ntuser_copy) {
			reg_hive_set_add(host.hives, REG_HK_NTUSER, u->sid, u->ntuser_copy);
			if (u->usrclass_copy)
				reg_hive_set_add(host.hives, REG_HK_USRCLASS, u->sid, u->usrclass_copy);
		}
	}
	if (reg_hive_set_resolve(host.hives, key, REG_VIEW_DEFAULT, &loc) != REG_OK) {
		fprintf(stderr, "winstate reg: %s\n", reg_hive_set_errmsg(host.hives));
		rc = WS_EXIT_INPUT;
	} else {
		static const char *const kinds[] = { "SYSTEM", "SOFTWARE", "SAM", "SECURITY", "DEFAULT",
						     "NTUSER.DAT", "UsrClass.dat" };
		char label[128];
		snprintf(label, sizeof(label), "%s%s%s", kinds[loc.kind],
			 loc.kind >= REG_HK_NTUSER && found ? " of " : "",
			 loc.kind >= REG_HK_NTUSER && found ? found->name : "");
		rc = show(loc.hive, label, loc.subpath, o);
		free(loc.subpath);
	}
	win_rules_host_fini(&host);
out:
	win_close(w);
	nv_close(v);
	return rc;
}
