/*
 * The store tools:
 *   winstate verify  STORE [--target DISK[:PART]] [--key K|--keyfile F] [--json]
 *   winstate list    STORE [--target DISK[:PART]] [--key K|--keyfile F] [--json]
 *   winstate extract STORE [--user SID] [--key K|--keyfile F] [--overwrite] PATTERN DEST
 *   winstate rmstore STORE [--target DISK[:PART]] [--force]
 *   usmtutils /verify[:summary|all|failureonly|catalog] /extract /rd  (USMT's shapes and codes)
 *
 * --target names the volume that holds a hard-link store (STORE is then its
 * folder on that volume).  The reader checks everything it reads, so these
 * tools are also how a damaged or hostile store is inspected safely.
 */
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "agent/commands.h"
#include "agent/options.h"
#include "formats/formats.h"
#include "agent/usmt_args.h"
#include "registry/registry.h"
#include "store/store.h"

struct store_handle {
	struct nv_volume *vol;
	struct st_reader *r;
	struct st_key key;
};

static int
exit_for(enum st_status st)
{
	return st == ST_ERR_NOMEM ? WS_EXIT_INTERNAL : WS_EXIT_INPUT;
}

static int
usmt_for(enum st_status st)
{
	switch (st) {
	case ST_ERR_KEY: return 37;
	case ST_ERR_CORRUPT: case ST_ERR_UNSAFE: return 42;
	case ST_ERR_NOMEM: return 71;
	default: return 27;
	}
}

/* Open a store (local, or a hard-link store on @target); prints why not. */
static enum st_status
open_store(const char *self, const char *store, const char *target, bool rw, const char *key,
	   const char *keyfile, struct store_handle *h)
{
	memset(h, 0, sizeof(*h));
	if (key) {
		h->key.kind = ST_KEY_PASSPHRASE;
		h->key.passphrase = key;
	} else if (keyfile && st_key_from_file(keyfile, &h->key) != ST_OK) {
		fprintf(stderr, "%s: %s\n", self, st_last_error());
		return ST_ERR_KEY;
	}
	enum st_status st;
	if (target) {
		char *disk;
		int part;
		if (nv_split_target(target, &disk, &part) != NV_OK) {
			fprintf(stderr, "%s: %s: not a DISK[:PARTITION]\n", self, target);
			return ST_ERR_INVALID;
		}
		struct nv_open_options o = { .read_write = rw, .partition = part };
		enum nv_status ns = nv_open(disk, &o, &h->vol);
		free(disk);
		if (ns != NV_OK) {
			fprintf(stderr, "%s: %s: %s\n", self, target, nv_last_error());
			return ST_ERR_NOT_FOUND;
		}
		char volume_store[4096];
		st = st_volume_store_path(store, volume_store, sizeof(volume_store));
		if (st == ST_OK)
			st = st_reader_open_ntfs(h->vol, volume_store, &h->r);
	} else {
		st = st_reader_open(store, h->key.kind ? &h->key : NULL, &h->r);
	}
	if (st != ST_OK) {
		fprintf(stderr, "%s: %s: %s\n", self, store, st_last_error());
		if (h->vol)
			nv_close(h->vol);
		h->vol = NULL;
	}
	return st;
}

static void
close_store(struct store_handle *h)
{
	if (h->r)
		st_reader_close(h->r);
	if (h->vol)
		nv_close(h->vol);
	memset(h, 0, sizeof(*h));
}

/* ---------------------------------------------------------------- verify -- */

struct damage {
	char **paths;
	char **whys;
	size_t n;
	bool catalog_bad;
	char *catalog_why;
};

static void
on_damage(const char *path, const char *why, void *ctx)
{
	struct damage *d = ctx;
	if (!path) {
		d->catalog_bad = true;
		free(d->catalog_why);
		d->catalog_why = strdup(why ? why : "");
		return;
	}
	char **p = realloc(d->paths, (d->n + 1) * sizeof(*p)), **w;
	if (!p)
		return;
	d->paths = p;
	w = realloc(d->whys, (d->n + 1) * sizeof(*w));
	if (!w)
		return;
	d->whys = w;
	p[d->n] = strdup(path);
	w[d->n] = strdup(why ? why : "");
	d->n++;
}

static void
damage_free(struct damage *d)
{
	for (size_t i = 0; i < d->n; i++) {
		free(d->paths[i]);
		free(d->whys[i]);
	}
	free(d->paths);
	free(d->whys);
	free(d->catalog_why);
}

static bool
is_damaged(const struct damage *d, const char *path)
{
	size_t n = strlen(path);
	for (size_t i = 0; i < d->n; i++)
		if (!strncmp(d->paths[i], path, n) && (d->paths[i][n] == 0 || d->paths[i][n] == ':'))
			return true;
	return false;
}

enum { OPT_TARGET, OPT_KEY, OPT_KEYFILE, OPT_JSON, OPT_USER, OPT_OVERWRITE, OPT_FORCE };

static const struct ws_option store_options[] = {
	{ "--target", NULL, WS_OPT_VALUE, OPT_TARGET },  { "--key", NULL, WS_OPT_VALUE, OPT_KEY },
	{ "--keyfile", NULL, WS_OPT_VALUE, OPT_KEYFILE }, { "--json", NULL, WS_OPT_FLAG, OPT_JSON },
	{ "--user", NULL, WS_OPT_VALUE, OPT_USER },      { "--overwrite", NULL, WS_OPT_FLAG, OPT_OVERWRITE },
	{ "--force", NULL, WS_OPT_FLAG, OPT_FORCE },     { 0 },
};

struct common {
	const char *target, *key, *keyfile, *user;
	bool json, overwrite, force;
	const char *operand[3];
	int count;
};

/*
 * Parse the options every store tool shares: those of store_options named in
 * @allowed ("--target --json"), and up to @operands operands (@hint says which
 * when there are more).  Returns 0, 1 after --help or --version, or -1.
 */
static int
parse_common(int argc, char **argv, const char *allowed, int operands, const char *hint,
	     struct common *c, const char *usage)
{
	struct ws_option table[sizeof(store_options) / sizeof(store_options[0])];
	size_t n = 0;
	for (const struct ws_option *o = store_options; o->name; o++) {
		const char *at = strstr(allowed, o->name);
		size_t len = strlen(o->name);
		if (at && (at[len] == ' ' || !at[len]))
			table[n++] = *o;
	}
	table[n] = (struct ws_option){ 0 };
	char prog[64];
	snprintf(prog, sizeof(prog), "winstate %s", argv[0]);
	struct ws_opts p;
	ws_opts_init(&p, prog, argc, argv, table, usage);
	p.max_operands = operands;
	p.operands_hint = hint;
	memset(c, 0, sizeof(*c));
	for (int id; (id = ws_opts_next(&p)) != WS_OPTS_END;) {
		switch (id) {
		case WS_OPTS_EXIT: return p.exit_code == WS_EXIT_OK ? 1 : -1;
		case WS_OPTS_OPERAND: c->operand[c->count++] = p.value; break;
		case OPT_TARGET: c->target = p.value; break;
		case OPT_KEY: c->key = p.value; break;
		case OPT_KEYFILE: c->keyfile = p.value; break;
		case OPT_JSON: c->json = true; break;
		case OPT_USER: c->user = p.value; break;
		case OPT_OVERWRITE: c->overwrite = true; break;
		case OPT_FORCE: c->force = true; break;
		}
	}
	if (c->key && c->keyfile) {
		fprintf(stderr, "winstate %s: give the key one way: --key or --keyfile\n", argv[0]);
		return -1;
	}
	return 0;
}

/* A junction or folder-link entry: "junction"/"symlink" and its target (or
 * why its stored reparse data cannot be read). */
static void
link_entry(const struct st_file *f, char *kind, size_t kindlen, char *target, size_t targetlen)
{
	struct fmt_junction_target t;
	char why[300];
	if (!f->reparse_len) { /* a plain folder, kept for its extended attributes */
		snprintf(kind, kindlen, "folder");
		snprintf(target, targetlen, "(its extended attributes)");
		return;
	}
	if (fmt_junction_parse(f->reparse, f->reparse_len, &t, why, sizeof(why)) < 0) {
		snprintf(kind, kindlen, "link?");
		snprintf(target, targetlen, "(damaged link data: %s)", why);
		return;
	}
	snprintf(kind, kindlen, "%s", t.tag == FMT_TAG_MOUNT_POINT ? "junction" : "symlink");
	snprintf(target, targetlen, "%s", fmt_junction_path(&t));
	fmt_junction_target_free(&t);
}

/*
 * The start of `verify` and `list`: the common options, exactly one STORE,
 * opened for reading.  Returns 0, or -1 with the exit code in *code (0 after
 * --help).
 */
static int
open_one_store(const char *cmd, int argc, char **argv, const char *usage, struct common *c,
	       struct store_handle *h, int *code)
{
	int i = parse_common(argc, argv, "--target --key --keyfile --json", 1, "give one store", c,
			     usage);
	if (i) {
		*code = i > 0 ? WS_EXIT_OK : WS_EXIT_USAGE;
		return -1;
	}
	if (c->count != 1) {
		fprintf(stderr, "%s: give one store\n%s", cmd, usage);
		*code = WS_EXIT_USAGE;
		return -1;
	}
	enum st_status st = open_store(cmd, c->operand[0], c->target, false, c->key, c->keyfile, h);
	if (st != ST_OK) {
		*code = exit_for(st);
		return -1;
	}
	return 0;
}

int
cmd_verify(int argc, char **argv)
{
	static const char usage[] =
		"usage: winstate verify STORE [--target DISK[:PART]] [--key K | --keyfile F] [--json]\n";
	struct common c;
	struct store_handle h;
	int code;
	if (open_one_store("winstate verify", argc, argv, usage, &c, &h, &code) < 0)
		return code;
	enum st_status st;
	struct damage d = { 0 };
	struct st_verify_result vr = { 0 };
	st = st_reader_verify(h.r, on_damage, &d, &vr);
	if (c.json) {
		printf("{\"store\": ");
		fmt_json_string(stdout, c.operand[0]);
		printf(", \"format\": ");
		fmt_json_string(stdout, st_format_name(st_reader_info(h.r)->format));
		printf(", \"files_ok\": %llu, \"files_damaged\": %llu, \"catalog_ok\": %s, \"damaged\": [",
		       (unsigned long long)vr.files_ok, (unsigned long long)vr.files_damaged,
		       vr.catalog_ok && !d.catalog_bad ? "true" : "false");
		for (size_t k = 0; k < d.n; k++) {
			printf("%s{\"path\": ", k ? ", " : "");
			fmt_json_string(stdout, d.paths[k]);
			printf(", \"why\": ");
			fmt_json_string(stdout, d.whys[k]);
			printf("}");
		}
		printf("]}\n");
	} else {
		for (size_t k = 0; k < d.n; k++)
			printf("DAMAGED %s: %s\n", d.paths[k], d.whys[k]);
		if (d.catalog_bad)
			printf("DAMAGED catalog: %s\n", d.catalog_why);
		printf("%s: %llu files intact, %llu damaged, catalog %s\n", c.operand[0],
		       (unsigned long long)vr.files_ok, (unsigned long long)vr.files_damaged,
		       vr.catalog_ok && !d.catalog_bad ? "intact" : "damaged");
	}
	code = st == ST_OK ? WS_EXIT_OK : exit_for(st);
	if (st != ST_OK && st != ST_ERR_CORRUPT)
		fprintf(stderr, "winstate verify: %s\n", st_last_error());
	damage_free(&d);
	close_store(&h);
	return code;
}

/* ------------------------------------------------------------------ list -- */

int
cmd_list(int argc, char **argv)
{
	static const char usage[] =
		"usage: winstate list STORE [--target DISK[:PART]] [--key K | --keyfile F] [--json]\n";
	struct common c;
	struct store_handle h;
	int code;
	if (open_one_store("winstate list", argc, argv, usage, &c, &h, &code) < 0)
		return code;
	const struct st_store_info *info = st_reader_info(h.r);
	size_t nu = st_reader_user_count(h.r), nf = st_reader_file_count(h.r);
	size_t nr = st_reader_registry_count(h.r), ns = st_reader_skipped_count(h.r);
	char size[32];
	if (c.json) {
		printf("{\"format\": ");
		fmt_json_string(stdout, st_format_name(info->format));
		printf(", \"version\": %u, \"computer\": ", info->version);
		fmt_json_string(stdout, info->computer ? info->computer : "");
		printf(", \"windows_version\": ");
		fmt_json_string(stdout, info->windows_version ? info->windows_version : "");
		printf(", \"encrypted\": %s, \"start\": %lld, \"end\": %lld, \"users\": [",
		       info->encrypted ? "true" : "false", (long long)info->start_time,
		       (long long)info->end_time);
		for (size_t k = 0; k < nu; k++) {
			const struct st_user *u = st_reader_user(h.r, k);
			printf("%s{\"sid\": ", k ? ", " : "");
			fmt_json_string(stdout, u->sid);
			printf(", \"name\": ");
			fmt_json_string(stdout, u->name ? u->name : "");
			printf(", \"profile\": ");
			fmt_json_string(stdout, u->profile_path ? u->profile_path : "");
			printf(", \"extra\": {");
			for (size_t e = 0; e < u->extra_count; e++) {
				printf("%s", e ? ", " : "");
				fmt_json_string(stdout, u->extra[e].key ? u->extra[e].key : "");
				printf(": ");
				fmt_json_string(stdout, u->extra[e].value ? u->extra[e].value : "");
			}
			printf("}}");
		}
		printf("], \"files\": [");
		for (size_t k = 0; k < nf; k++) {
			const struct st_file *f = st_reader_file(h.r, k);
			printf("%s{\"path\": ", k ? ", " : "");
			fmt_json_string(stdout, f->path);
			printf(", \"owner\": ");
			fmt_json_string(stdout, f->owner);
			printf(", \"size\": %llu, \"decision\": ",
			       (unsigned long long)(f->stream_count ? f->streams[0].size : 0));
			fmt_json_string(stdout, f->decision ? f->decision : "");
			printf(", \"attributes\": %u, \"streams\": %zu, \"link_to\": %lld, \"raw_efs\": %s"
			       ", \"ea_bytes\": %zu",
			       f->attributes, f->stream_count, (long long)f->link_to,
			       f->raw_efs ? "true" : "false", f->ea_len);
			char *as = st_reader_stored_as(h.r, k);
			if (as) {
				printf(", \"stored_as\": ");
				fmt_json_string(stdout, as);
				free(as);
			}
			if (f->attributes & NV_ATTR_DIRECTORY) {
				char kind[16], target[4200];
				link_entry(f, kind, sizeof(kind), target, sizeof(target));
				printf(", \"kind\": \"%s\", \"target\": ", kind);
				fmt_json_string(stdout, target);
			}
			printf("}");
		}
		printf("], \"registry\": [");
		for (size_t k = 0; k < nr; k++) {
			const struct st_reg_value *v = st_reader_registry(h.r, k);
			printf("%s{\"owner\": ", k ? ", " : "");
			fmt_json_string(stdout, v->owner);
			printf(", \"key\": ");
			fmt_json_string(stdout, v->key);
			printf(", \"name\": ");
			fmt_json_string(stdout, v->name);
			printf(", \"type\": %u, \"size\": %zu, \"decision\": ", v->type, v->len);
			fmt_json_string(stdout, v->decision ? v->decision : "");
			printf("}");
		}
		printf("], \"skipped\": [");
		for (size_t k = 0; k < ns; k++) {
			const struct st_skipped *s = st_reader_skipped(h.r, k);
			printf("%s{\"path\": ", k ? ", " : "");
			fmt_json_string(stdout, s->path);
			printf(", \"owner\": ");
			fmt_json_string(stdout, s->owner ? s->owner : "");
			printf(", \"reason\": ");
			fmt_json_string(stdout, s->reason ? s->reason : "");
			printf("}");
		}
		printf("]}\n");
	} else {
		printf("store: %s, format %s (version %u)%s, from %s (%s)\n", c.operand[0],
		       st_format_name(info->format), info->version, info->encrypted ? ", encrypted" : "",
		       info->computer ? info->computer : "?",
		       info->windows_version ? info->windows_version : "?");
		printf("users (%zu):\n", nu);
		for (size_t k = 0; k < nu; k++) {
			const struct st_user *u = st_reader_user(h.r, k);
			printf("  %-20s %-48s %s\n", u->name ? u->name : "?", u->sid,
			       u->profile_path ? u->profile_path : "");
		}
		printf("files (%zu):\n", nf);
		for (size_t k = 0; k < nf; k++) {
			const struct st_file *f = st_reader_file(h.r, k);
			char kind[16], target[4200];
			if ((f->attributes & NV_ATTR_DIRECTORY) && !f->reparse_len) {
				printf("  %10s  %s/  [%s]  (its EAs)\n", "folder", f->path,
				       f->decision ? f->decision : "");
			} else if (f->attributes & NV_ATTR_DIRECTORY) {
				link_entry(f, kind, sizeof(kind), target, sizeof(target));
				printf("  %10s  %s -> %s  [%s]%s\n", kind, f->path, target,
				       f->decision ? f->decision : "", f->ea_len ? "  (EAs)" : "");
			} else if (f->link_to >= 0)
				printf("  %10s  %s  (hard link of %s)\n", "link", f->path,
				       st_reader_file(h.r, (size_t)f->link_to)->path);
			else
				printf("  %10s  %s  [%s]%s%s\n",
				       fmt_size(f->stream_count ? f->streams[0].size : 0, size, sizeof(size)),
				       f->path, f->decision ? f->decision : "",
				       f->raw_efs ? "  (EFS-encrypted, stored raw)" : "",
				       f->ea_len ? "  (EAs)" : "");
			char *as = st_reader_stored_as(h.r, k);
			if (as)
				printf("  %10s  (in the store as %s)\n", "", as);
			free(as);
		}
		printf("registry values (%zu):\n", nr);
		for (size_t k = 0; k < nr; k++) {
			const struct st_reg_value *v = st_reader_registry(h.r, k);
			printf("  %s [%s] %s (%zu bytes)\n", v->key, v->name, reg_type_name(v->type), v->len);
		}
		if (ns)
			printf("skipped at capture (%zu):\n", ns);
		for (size_t k = 0; k < ns; k++) {
			const struct st_skipped *s = st_reader_skipped(h.r, k);
			printf("  %s: %s\n", s->path, s->reason ? s->reason : "");
		}
	}
	close_store(&h);
	return WS_EXIT_OK;
}

/* --------------------------------------------------------------- extract -- */

/* What extract says about each file not written exactly as its store path. */
struct extract_report {
	const char *who;     /* "winstate extract", "usmtutils" */
	const char *dest;
	size_t renamed, failed;
	char letter;         /* usmtutils: errors name files as C:\Users\... */
};

static void windows_path(char letter, const char *path, char *out, size_t len);

static void
extract_said(const char *path, const char *written_as, const char *why, void *ctx)
{
	struct extract_report *x = ctx;
	if (written_as && !why) {
		/* The rule is docs/store-format.md's: the name stays findable. */
		printf("renamed: %s -> %s/%s (a name in its path does not fit a Linux folder)\n",
		       path, x->dest, written_as);
		x->renamed++;
		return;
	}
	x->failed++;
	if (x->letter && path) {
		char wp[8192];
		windows_path(x->letter, path, wp, sizeof(wp));
		fprintf(stderr, "%s: %s: %s\n", x->who, wp, why);
	} else if (written_as) {
		fprintf(stderr, "%s: %s (the store's %s, under a shortened name)\n", x->who, why, path);
	} else {
		fprintf(stderr, "%s: %s\n", x->who, why);
	}
}

/* st_reader_extract_report, saying also a failure that is no one file's
 * (the destination cannot be made). */
static enum st_status
extract_run(struct st_reader *r, const char *pattern, const char *dest, unsigned flags,
	    struct extract_report *x, size_t *count)
{
	size_t before = x->failed;
	enum st_status st = st_reader_extract_report(r, pattern, dest, flags, extract_said, x, count);
	if (st != ST_OK && x->failed == before)
		extract_said(NULL, NULL, st_last_error(), x);
	return st;
}

/* Extract exactly @path (fnmatch specials escaped). */
static enum st_status
extract_exact(struct st_reader *r, const char *path, const char *dest, unsigned flags,
	      struct extract_report *x, size_t *count)
{
	size_t n = strlen(path);
	char *pat = malloc(2 * n + 1), *q = pat;
	if (!pat)
		return ST_ERR_NOMEM;
	for (const char *p = path; *p; p++) {
		if (strchr("*?[]\\", *p))
			*q++ = '\\';
		*q++ = *p;
	}
	*q = '\0';
	size_t got = 0;
	enum st_status st = extract_run(r, pat, dest, flags, x, &got);
	free(pat);
	*count += got;
	return st;
}

int
cmd_extract(int argc, char **argv)
{
	static const char usage[] =
		"usage: winstate extract STORE [--user SID] [--key K | --keyfile F] [--overwrite] PATTERN DEST\n"
		"  PATTERN is matched against store paths (Users/alice/Documents/*.docx; '*' crosses '/')\n";
	struct common c;
	int i = parse_common(argc, argv, "--key --keyfile --user --overwrite", 3,
			     "give the store, a pattern and a destination folder", &c, usage);
	if (i)
		return i > 0 ? WS_EXIT_OK : WS_EXIT_USAGE;
	if (c.count != 3) {
		fprintf(stderr, "winstate extract: give the store, a pattern and a destination folder\n%s",
			usage);
		return WS_EXIT_USAGE;
	}
	struct store_handle h;
	enum st_status st = open_store("winstate extract", c.operand[0], NULL, false, c.key, c.keyfile, &h);
	if (st != ST_OK)
		return exit_for(st);
	const char *pattern = c.operand[1], *dest = c.operand[2];
	unsigned flags = c.overwrite ? ST_EXTRACT_OVERWRITE : 0;
	size_t count = 0;
	struct extract_report x = { "winstate extract", dest, 0, 0, 0 };
	if (!c.user) {
		st = extract_run(h.r, pattern, dest, flags, &x, &count);
	} else {
		enum st_status first = ST_OK;
		for (size_t k = 0; k < st_reader_file_count(h.r); k++) {
			const struct st_file *f = st_reader_file(h.r, k);
			if (strcasecmp(f->owner, c.user) || fnmatch(pattern, f->path, FNM_CASEFOLD))
				continue;
			enum st_status s = extract_exact(h.r, f->path, dest, flags, &x, &count);
			if (s != ST_OK && !first)
				first = s;
		}
		st = first;
	}
	printf("extracted %zu files into %s", count, dest);
	if (x.renamed)
		printf(" (%zu under shortened names, listed above)", x.renamed);
	printf("\n");
	/* A plain folder has nowhere for NTFS extended attributes: say so, file
	 * by file, rather than let them vanish (winstate load restores them). */
	size_t eas = 0;
	for (size_t k = 0; k < st_reader_file_count(h.r); k++) {
		const struct st_file *f = st_reader_file(h.r, k);
		if (!f->ea_len || (f->attributes & NV_ATTR_DIRECTORY) || f->raw_efs ||
		    fnmatch(pattern, f->path, FNM_CASEFOLD) || (c.user && strcasecmp(f->owner, c.user)))
			continue;
		if (!eas++)
			printf("NTFS extended attributes are not extracted (a plain folder cannot keep "
			       "them; winstate load restores them onto NTFS):\n");
		printf("  EAs not kept: %s\n", f->path);
	}
	if (st == ST_ERR_EXISTS)
		fprintf(stderr, "winstate extract: files already in %s are kept; --overwrite replaces them\n",
			dest);
	close_store(&h);
	if (st == ST_OK)
		return WS_EXIT_OK;
	if (count)
		return WS_EXIT_PARTIAL;
	return st == ST_ERR_EXISTS ? WS_EXIT_FAILED : exit_for(st);
}

/* --------------------------------------------------------------- rmstore -- */

/* The exit code (winstate's, or USMT's with @usmt) of a refused or failed removal. */
static int
removal_code(const struct st_removal *r, enum st_status st, bool usmt)
{
	if (!r->is_store)
		return usmt ? usmt_for(st) : exit_for(st);
	return usmt ? 35 : WS_EXIT_FAILED;
}

static int
rm_volume_store(const char *self, const char *store, const char *target, bool force, bool usmt)
{
	char volume_store[4096];
	if (st_volume_store_path(store, volume_store, sizeof(volume_store)) != ST_OK) {
		fprintf(stderr, "%s: %s; nothing was removed\n", self, st_last_error());
		return usmt ? 27 : WS_EXIT_USAGE;
	}
	store = volume_store;
	char *disk;
	int part;
	if (nv_split_target(target, &disk, &part) != NV_OK) {
		fprintf(stderr, "%s: %s: not a DISK[:PARTITION]; nothing was removed\n", self, target);
		return usmt ? usmt_for(ST_ERR_INVALID) : exit_for(ST_ERR_INVALID);
	}
	struct nv_open_options o = { .read_write = true, .partition = part };
	struct nv_volume *vol;
	enum nv_status ns = nv_open(disk, &o, &vol);
	free(disk);
	if (ns != NV_OK) {
		fprintf(stderr, "%s: %s: %s; nothing was removed\n", self, target, nv_last_error());
		return usmt ? usmt_for(ST_ERR_NOT_FOUND) : exit_for(ST_ERR_NOT_FOUND);
	}
	struct st_removal r;
	enum st_status st = st_remove_volume_store(vol, store, force, &r);
	for (size_t i = 0; i < r.only_copy_count && i < 10; i++)
		fprintf(stderr, "%s: %s/%s is the file's only name: removing it deletes the data "
			"(it was not restored)\n", self, store, r.only_copies[i]);
	int code = 0;
	if (st != ST_OK) {
		fprintf(stderr, "%s: %s\n", self, st_last_error());
		code = removal_code(&r, st, usmt);
	} else {
		printf("removed the store %s (%zu names; the files themselves stay where they were "
		       "restored)\n", store, r.names);
	}
	st_removal_free(&r);
	nv_close(vol);
	return code;
}

static int
rm_local_store(const char *self, const char *store, bool usmt)
{
	struct st_removal r;
	enum st_status st = st_remove_local_store(store, &r);
	int code = 0;
	if (st != ST_OK) {
		fprintf(stderr, "%s: %s\n", self, st_last_error());
		code = removal_code(&r, st, usmt);
	} else {
		printf("removed the store %s\n", store);
	}
	st_removal_free(&r);
	return code;
}

int
cmd_rmstore(int argc, char **argv)
{
	static const char usage[] =
		"usage: winstate rmstore STORE [--target DISK[:PART]] [--force]\n"
		"  with --target, STORE is a hard-link store's folder on that volume: only the store's\n"
		"  own names are removed; files that exist only in the store are kept unless --force\n";
	struct common c;
	int i = parse_common(argc, argv, "--target --force", 1, "give one store", &c, usage);
	if (i)
		return i > 0 ? WS_EXIT_OK : WS_EXIT_USAGE;
	if (c.count != 1) {
		fprintf(stderr, "winstate rmstore: give one store\n%s", usage);
		return WS_EXIT_USAGE;
	}
	if (c.target)
		return rm_volume_store("winstate rmstore", c.operand[0], c.target, c.force, false);
	return rm_local_store("winstate rmstore", c.operand[0], false);
}

/* ---------------------------------------------------------------- usmtutils -- */

static void
windows_path(char letter, const char *path, char *out, size_t len)
{
	snprintf(out, len, "%c:\\%s", letter, path);
	for (char *p = out; *p; p++)
		if (*p == '/')
			*p = '\\';
}

static bool
in_list(const char *list, const char *path)
{
	if (!list)
		return false;
	char *copy = strdup(list), *save = NULL;
	bool hit = false;
	const char *base = strrchr(path, '/');
	base = base ? base + 1 : path;
	for (char *t = strtok_r(copy, ",;", &save); t && !hit; t = strtok_r(NULL, ",;", &save)) {
		while (*t == ' ')
			t++;
		hit = !fnmatch(t, path, FNM_CASEFOLD) || !fnmatch(t, base, FNM_CASEFOLD);
	}
	free(copy);
	return hit;
}

int
usmt_utils(const struct usmt_args *a)
{
	if (a->op == UTILS_EC) {
		printf("winstate stores are encrypted with XChaCha20-Poly1305 (key: 32 bytes, or a "
		       "passphrase through Argon2id); /decrypt:AlgID is accepted and ignored\n");
		return 0;
	}
	if (a->op == UTILS_RD) {
		if (a->target)
			return rm_volume_store("usmtutils", a->store, a->target, false, true);
		return rm_local_store("usmtutils", a->store, true);
	}
	struct store_handle h;
	enum st_status st = open_store("usmtutils", a->store, a->target, false, a->key, a->keyfile, &h);
	if (st != ST_OK)
		return usmt_for(st);
	char letter = st_reader_info(h.r)->volume_letter ? st_reader_info(h.r)->volume_letter : 'C';
	char wp[8192];
	int code = 0;
	if (a->op == UTILS_VERIFY) {
		const char *type = a->verify_type ? a->verify_type : "summary";
		struct damage d = { 0 };
		struct st_verify_result vr = { 0 };
		st = st_reader_verify(h.r, on_damage, &d, &vr);
		bool catalog_ok = vr.catalog_ok && !d.catalog_bad;
		if (!strcasecmp(type, "all") || !strcasecmp(type, "failureonly")) {
			bool all = !strcasecmp(type, "all");
			for (size_t k = 0; k < st_reader_file_count(h.r); k++) {
				const struct st_file *f = st_reader_file(h.r, k);
				bool bad = is_damaged(&d, f->path);
				if (!all && !bad)
					continue;
				windows_path(letter, f->path, wp, sizeof(wp));
				printf("%s\t%s\n", wp, bad ? "CORRUPTED" : "OK");
			}
			printf("CATALOG\t%s\n", catalog_ok ? "OK" : "CORRUPTED");
		} else if (!strcasecmp(type, "catalog")) {
			printf("CATALOG\t%s\n", catalog_ok ? "OK" : "CORRUPTED");
		} else {
			printf("Total number of files: %llu\n",
			       (unsigned long long)(vr.files_ok + vr.files_damaged));
			printf("Number of intact files: %llu\n", (unsigned long long)vr.files_ok);
			printf("Number of corrupted files: %llu\n", (unsigned long long)vr.files_damaged);
			printf("Catalog: %s\n", catalog_ok ? "OK" : "CORRUPTED");
		}
		if (st != ST_OK)
			code = usmt_for(st);
		damage_free(&d);
	} else {
		size_t count = 0;
		enum st_status first = ST_OK;
		unsigned flags = a->overwrite ? ST_EXTRACT_OVERWRITE : 0;
		struct extract_report x = { "usmtutils", a->extract_dest, 0, 0, letter };
		for (size_t k = 0; k < st_reader_file_count(h.r); k++) {
			const struct st_file *f = st_reader_file(h.r, k);
			bool inc = in_list(a->utils_include, f->path), exc = in_list(a->utils_exclude, f->path);
			if ((a->utils_include && !inc) || (exc && !inc))
				continue;
			enum st_status s = extract_exact(h.r, f->path, a->extract_dest, flags, &x, &count);
			if (s != ST_OK) {
				if (!first)
					first = s;
			} else if (f->ea_len && !(f->attributes & NV_ATTR_DIRECTORY)) {
				windows_path(letter, f->path, wp, sizeof(wp));
				printf("%s: its NTFS extended attributes are not extracted (a plain folder "
				       "cannot keep them; loadstate restores them)\n", wp);
			}
		}
		printf("Extracted %zu files to %s\n", count, a->extract_dest);
		if (first)
			/* A raw EFS file left out on purpose is no damage to the store. */
			code = first == ST_ERR_EXISTS ? 41 : first == ST_ERR_REFUSED ? 3 : usmt_for(first);
	}
	close_store(&h);
	return code;
}
