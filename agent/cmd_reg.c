/*
 * winstate reg --hive FILE [--json] [-s] [KEY | "PATTERN [VALUE]"]
 *
 * Prints keys and values of a hive file like `reg query`, after replaying its
 * transaction logs when it is dirty (logs are found beside the file by name,
 * case-insensitively).  The first line says the hive's state.  KEY is a path
 * inside the hive ("" = root); with '*', '?' or "[...]" it is a pattern
 * (registry/registry.h: ws_hive_match).  The DISK[:PART] form comes later.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/commands.h"
#include "agent/output.h"
#include "registry/registry.h"

struct reg_opts {
	int json;
	int recurse;
	int first;              /* nothing printed yet (JSON: no comma needed) */
	char last_key[1024];    /* text patterns: key line printed last */
};

static void
usage(FILE *out)
{
	fprintf(out, "usage: winstate reg --hive FILE [--json] [-s] [KEY]\n"
		"       winstate reg --hive FILE [--json] 'KEY\\PAT* [VALUE*]'\n\n"
		"Show the keys and values of an offline registry hive like `reg query`.\n"
		"A dirty hive is read with its .LOG1/.LOG2 (or .LOG) replayed into a private\n"
		"copy; the first line says whether that happened.  -s lists subkeys recursively.\n");
}

static void
print_value_text(const struct ws_reg_value *v)
{
	char *data = ws_reg_value_format(v);
	const char *tn = ws_reg_type_name(v->type);

	if (!strcmp(tn, "REG_UNKNOWN"))
		printf("    %s    REG_0x%" PRIx32 "    %s\n", *v->name ? v->name : "(Default)", v->type,
		       data ? data : "");
	else
		printf("    %s    %s    %s\n", *v->name ? v->name : "(Default)", tn, data ? data : "");
	free(data);
}

static void
print_value_json(const struct ws_reg_value *v)
{
	char *data = ws_reg_value_format(v);
	uint64_t n;

	printf("{\"name\":");
	json_string(stdout, v->name);
	printf(",\"type\":%" PRIu32 ",\"type_name\":", v->type);
	json_string(stdout, ws_reg_type_name(v->type));
	printf(",\"data\":");
	if ((v->type == WS_REG_DWORD || v->type == WS_REG_DWORD_BIG_ENDIAN || v->type == WS_REG_QWORD) &&
	    (v->len == 4 || v->len == 8) && ws_reg_value_u64(v, &n) == WS_REG_OK) {
		printf("%" PRIu64, n);
	} else if (v->type == WS_REG_MULTI_SZ) {
		char **arr;
		size_t cnt;
		if (ws_reg_value_multi(v, &arr, &cnt) == WS_REG_OK) {
			printf("[");
			for (size_t i = 0; i < cnt; i++) {
				printf(i ? "," : "");
				json_string(stdout, arr[i]);
				free(arr[i]);
			}
			free(arr);
			printf("]");
		} else {
			printf("null");
		}
	} else {
		json_string(stdout, data ? data : "");
	}
	printf(",\"raw\":");
	json_hex(stdout, v->data, v->len);
	printf("}");
	free(data);
}

/* One key: its values then (text) its subkeys' paths; recursive with -s. */
static int
show_key(ws_hive *h, ws_key k, const char *path, struct reg_opts *o)
{
	struct ws_reg_value *vals = NULL;
	ws_key *kids = NULL;
	size_t nv = 0, nk = 0;
	int e;

	if ((e = ws_key_values(h, k, &vals, &nv)) || (e = ws_key_subkeys(h, k, &kids, &nk))) {
		fprintf(stderr, "winstate reg: %s: %s\n", *path ? path : "\\", ws_hive_errmsg(h));
		ws_reg_values_free(vals, nv);
		return e;
	}
	if (o->json) {
		printf("%s{\"key\":", o->first ? "" : ",");
		o->first = 0;
		json_string(stdout, path);
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
		char *name = ws_key_name(h, kids[i]);
		if (o->json) {
			printf(i ? "," : "");
			json_string(stdout, name ? name : "");
		} else if (!o->recurse) {
			printf("%s%s%s\n", path, *path ? "\\" : "", name ? name : "?");
		}
		free(name);
	}
	if (o->json)
		printf("]}");
	ws_reg_values_free(vals, nv);
	for (size_t i = 0; o->recurse && !e && i < nk; i++) {
		char *name = ws_key_name(h, kids[i]);
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
match_cb(ws_hive *h, const char *key_path, ws_key k, const struct ws_reg_value *v, void *opaque)
{
	struct reg_opts *o = opaque;

	(void)h;
	(void)k;
	if (o->json) {
		printf("%s{\"key\":", o->first ? "" : ",");
		o->first = 0;
		json_string(stdout, key_path);
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

int
cmd_reg(int argc, char **argv)
{
	struct reg_opts o = { .first = 1 };
	const char *hive_path = NULL, *key = "";
	int have_key = 0, e;
	char msg[400];

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
			usage(stdout);
			return WS_EXIT_OK;
		} else if (!strcmp(argv[i], "--hive") && i + 1 < argc) {
			hive_path = argv[++i];
		} else if (!strncmp(argv[i], "--hive=", 7)) {
			hive_path = argv[i] + 7;
		} else if (!strcmp(argv[i], "--json")) {
			o.json = 1;
		} else if (!strcmp(argv[i], "-s") || !strcmp(argv[i], "/s") || !strcmp(argv[i], "--recurse")) {
			o.recurse = 1;
		} else if (argv[i][0] == '-' && argv[i][1]) {
			fprintf(stderr, "winstate reg: unknown option '%s'\n\n", argv[i]);
			usage(stderr);
			return WS_EXIT_USAGE;
		} else if (!have_key) {
			key = argv[i];
			have_key = 1;
		} else {
			fprintf(stderr, "winstate reg: more than one KEY given\n\n");
			usage(stderr);
			return WS_EXIT_USAGE;
		}
	}
	if (!hive_path) {
		fprintf(stderr, "winstate reg: --hive FILE is needed (the DISK[:PART] form is not "
			"available yet)\n\n");
		usage(stderr);
		return WS_EXIT_USAGE;
	}
	while (*key == '\\')
		key++;

	ws_hive *h = ws_hive_open(hive_path, 0, &e, msg, sizeof(msg));
	if (!h) {
		fprintf(stderr, "winstate reg: %s\n", msg);
		return e == WS_REG_ENOMEM ? WS_EXIT_INTERNAL : WS_EXIT_INPUT;
	}
	const struct ws_replay_report *r = ws_hive_report(h);
	if (o.json) {
		printf("{\"hive\":");
		json_string(stdout, hive_path);
		printf(",\"state\":\"%s\",\"detail\":", ws_hive_state_name(r->state));
		json_string(stdout, r->detail);
		printf(",\"entries_applied\":%u,\"entries_rejected\":%u,\"keys\":[",
		       r->entries_applied, r->entries_rejected);
	} else {
		printf("hive %s: %s (%s)\n", hive_path, ws_hive_state_name(r->state), r->detail);
	}

	int rc = WS_EXIT_OK;
	if (strpbrk(key, "*?[")) {
		e = ws_hive_match(h, key, match_cb, &o);
		if (e) {
			fprintf(stderr, "winstate reg: %s\n", ws_hive_errmsg(h));
			rc = e == WS_REG_EINVAL ? WS_EXIT_USAGE : WS_EXIT_FAILED;
		} else if (o.first && !o.json) {
			printf("(nothing matches)\n");
		}
	} else {
		ws_key k;
		e = ws_key_open(h, key, &k);
		if (e) {
			fprintf(stderr, "winstate reg: %s\n", ws_hive_errmsg(h));
			rc = WS_EXIT_FAILED;
		} else if (show_key(h, k, key, &o)) {
			rc = WS_EXIT_PARTIAL;
		}
	}
	if (o.json)
		printf("]}\n");
	if (rc == WS_EXIT_OK && (r->state == WS_HIVE_DIRTY_NOT_REPLAYED || r->state == WS_HIVE_UNRECOVERABLE))
		rc = WS_EXIT_PARTIAL;   /* shown, but recent changes may be missing */
	ws_hive_close(h);
	return rc;
}
