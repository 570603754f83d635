/*
 * winstate ls DISK[:PART] [PATH] [-R] [--json]
 *
 * Lists files on an offline NTFS volume with what matters for a migration:
 * attributes, hard-link counts, named streams, reparse points (junctions are
 * shown with their target, never followed), cloud placeholders, EFS and
 * extended attributes (WSL's $LXUID/$LXGID/$LXMOD/$LXDEV and others).
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "agent/commands.h"
#include "agent/options.h"
#include "formats/formats.h"
#include "ntfs/ntfs.h"

struct ls_state {
	bool json, recursive, first;
	unsigned long count, errors;
};

/* An EA name as text: its bytes when printable ASCII, \xNN otherwise (EA
 * names are 8-bit, in no declared character set). */
static const char *
ea_name_text(const struct nv_ea *ea, char *buf, size_t len)
{
	size_t o = 0;
	for (size_t i = 0; i < ea->name_len && o + 5 < len; i++) {
		unsigned char ch = (unsigned char)ea->name[i];
		if (ch > 0x20 && ch < 0x7f && ch != '\\')
			buf[o++] = (char)ch;
		else
			o += (size_t)snprintf(buf + o, len - o, "\\x%02x", ch);
	}
	buf[o] = '\0';
	return buf;
}

/* " [EA: $LXUID $LXGID $LXMOD]", or why the buffer cannot be read. */
static void
ea_note(const struct nv_inode *in, char *buf, size_t len)
{
	size_t off = 0, o = strlen(buf);
	struct nv_ea ea;
	char name[1100];
	enum nv_status st;
	if (!in->ea_len)
		return;
	if (nv_ea_check(in->ea, in->ea_len, NULL) != NV_OK) {
		snprintf(buf + o, len - o, " [EA: %zu bytes, %s]", in->ea_len, nv_last_error());
		return;
	}
	o += (size_t)snprintf(buf + o, len - o, " [EA:");
	while (o < len && (st = nv_ea_next(in->ea, in->ea_len, &off, &ea)) == NV_OK)
		o += (size_t)snprintf(buf + o, len - o, " %s%s", ea_name_text(&ea, name, sizeof(name)),
				      ea.flags & NV_EA_NEED_EA ? "(NEED_EA)" : "");
	if (o < len)
		snprintf(buf + o, len - o, "]");
}

static const char *
kind_note(const struct nv_inode *in, char *buf, size_t len)
{
	char *target = NULL;
	buf[0] = '\0';
	if (in->kind & (NV_IS_JUNCTION | NV_IS_SYMLINK)) {
		if (nv_reparse_target(in, &target) == NV_OK) {
			snprintf(buf, len, " -> %s [%s]", target,
				 (in->kind & NV_IS_JUNCTION) ? "junction" : "symlink");
			free(target);
		} else
			snprintf(buf, len, " [%s, damaged target]",
				 (in->kind & NV_IS_JUNCTION) ? "junction" : "symlink");
	} else if ((in->kind & NV_IS_CLOUD) && (in->kind & NV_IS_DIR))
		snprintf(buf, len, " [cloud folder%s, tag 0x%08x%s]",
			 (in->kind & NV_IS_SYNC_ROOT) ? ": OneDrive sync root" : "", in->reparse_tag,
			 (in->kind & NV_IS_DEHYDRATED) ? ", not fully on this disk" : "");
	else if (in->kind & NV_IS_CLOUD)
		snprintf(buf, len, (in->kind & NV_IS_DEHYDRATED)
					   ? " [cloud placeholder: dehydrated, data not on this disk]"
					   : " [cloud file: hydrated]");
	else if (in->kind & NV_IS_WOF)
		snprintf(buf, len, " [WOF-compressed]");
	else if (in->reparse_tag)
		snprintf(buf, len, " [reparse tag 0x%08x]", in->reparse_tag);
	/* OneDrive's "Always keep on this device" / "Free up space" choice. */
	if (in->attributes & NV_ATTR_PINNED)
		strncat(buf, " [pinned]", len - strlen(buf) - 1);
	if (in->attributes & NV_ATTR_UNPINNED)
		strncat(buf, " [unpinned]", len - strlen(buf) - 1);
	if (in->kind & NV_IS_ENCRYPTED)
		strncat(buf, " [EFS-encrypted]", len - strlen(buf) - 1);
	ea_note(in, buf, len);
	return buf;
}

static const char *
kind_word(const struct nv_inode *in)
{
	if (in->kind & NV_IS_JUNCTION)
		return "junction";
	if (in->kind & NV_IS_SYMLINK)
		return "symlink";
	if (in->kind & NV_IS_DIR)
		return "dir";
	return "file";
}

static void
print_json_entry(struct ls_state *s, const char *path, const struct nv_inode *in)
{
	char t[48];
	static const char *const time_names[] = { "creation", "write", "access", "change" };
	char *target = NULL;

	printf("%s\n{\"path\":", s->first ? "" : ",");
	s->first = false;
	fmt_json_string(stdout, path);
	printf(",\"mref\":%llu,\"kind\":\"%s\",\"size\":%llu,\"allocated\":%llu,\"attributes\":%u,"
	       "\"links\":%zu",
	       (unsigned long long)in->mref, kind_word(in), (unsigned long long)in->size,
	       (unsigned long long)in->allocated, in->attributes, in->name_count);
	printf(",\"sparse\":%s,\"compressed\":%s,\"encrypted\":%s,\"wof\":%s,\"cloud\":%s,"
	       "\"dehydrated\":%s,\"pinned\":%s,\"unpinned\":%s",
	       in->kind & NV_IS_SPARSE ? "true" : "false", in->kind & NV_IS_COMPRESSED ? "true" : "false",
	       in->kind & NV_IS_ENCRYPTED ? "true" : "false", in->kind & NV_IS_WOF ? "true" : "false",
	       in->kind & NV_IS_CLOUD ? "true" : "false", in->kind & NV_IS_DEHYDRATED ? "true" : "false",
	       in->attributes & NV_ATTR_PINNED ? "true" : "false",
	       in->attributes & NV_ATTR_UNPINNED ? "true" : "false");
	printf(",\"times\":{");
	for (int i = 0; i < 4; i++) {
		printf("%s\"%s\":", i ? "," : "", time_names[i]);
		fmt_json_string(stdout, fmt_ntfs_time_iso(in->times[i], t, sizeof(t)));
	}
	printf("},\"times_raw\":[%llu,%llu,%llu,%llu]", (unsigned long long)in->times[0],
	       (unsigned long long)in->times[1], (unsigned long long)in->times[2],
	       (unsigned long long)in->times[3]);
	printf(",\"streams\":[");
	for (size_t i = 0; i < in->stream_count; i++) {
		printf("%s{\"name\":", i ? "," : "");
		fmt_json_string(stdout, in->streams[i].name);
		printf(",\"size\":%llu}", (unsigned long long)in->streams[i].size);
	}
	printf("],\"names\":[");
	for (size_t i = 0; i < in->name_count; i++) {
		printf("%s{\"parent\":%llu,\"name\":", i ? "," : "",
		       (unsigned long long)in->names[i].parent);
		fmt_json_string(stdout, in->names[i].name);
		printf("}");
	}
	printf("],\"security\":");
	fmt_json_hex(stdout, in->security, in->security_len);
	if (in->ea_len) {
		size_t off = 0, k = 0;
		struct nv_ea ea;
		char name[1100];
		printf(",\"ea_raw\":");
		fmt_json_hex(stdout, in->ea, in->ea_len);
		if (nv_ea_check(in->ea, in->ea_len, NULL) != NV_OK) {
			printf(",\"ea_error\":");
			fmt_json_string(stdout, nv_last_error());
		} else {
			printf(",\"ea\":[");
			while (nv_ea_next(in->ea, in->ea_len, &off, &ea) == NV_OK) {
				printf("%s{\"name\":", k++ ? "," : "");
				fmt_json_string(stdout, ea_name_text(&ea, name, sizeof(name)));
				printf(",\"flags\":%u,\"value\":", ea.flags);
				fmt_json_hex(stdout, ea.value, ea.value_len);
				printf("}");
			}
			printf("]");
		}
	}
	if (in->reparse_tag) {
		printf(",\"reparse_tag\":%u,\"reparse\":", in->reparse_tag);
		fmt_json_hex(stdout, in->reparse, in->reparse_len);
		if (nv_reparse_target(in, &target) == NV_OK) {
			printf(",\"target\":");
			fmt_json_string(stdout, target);
			free(target);
		}
	}
	printf("}");
}

static void
print_line(const char *path, const struct nv_inode *in)
{
	char attrs[16], when[32], note[4200];
	printf("%-12s %3zu %12llu  %s  %s%s", fmt_attribute_letters(in->attributes, attrs, sizeof(attrs)),
	       in->name_count, (unsigned long long)in->size,
	       fmt_ntfs_time(in->times[NV_TIME_WRITE], when, sizeof(when)), path,
	       (in->kind & NV_IS_DIR) && (!(in->kind & NV_IS_REPARSE) || (in->kind & NV_IS_CLOUD))
		       ? "/"
		       : "");
	for (size_t i = 0; i < in->stream_count; i++)
		printf("  :%s (%llu)", in->streams[i].name, (unsigned long long)in->streams[i].size);
	printf("%s\n", kind_note(in, note, sizeof(note)));
}

static int
visit(const struct nv_entry *e, void *ctx)
{
	struct ls_state *s = ctx;
	if (!e->inode) {
		s->errors++;
		fprintf(stderr, "winstate ls: %s: %s\n", e->path[0] ? e->path : "(folder)", e->error);
		return NV_WALK_CONTINUE;
	}
	s->count++;
	if (s->json)
		print_json_entry(s, e->path, e->inode);
	else
		print_line(e->path, e->inode);
	return s->recursive ? NV_WALK_CONTINUE : NV_WALK_SKIP;
}

static const char ls_help[] =
	"usage: winstate ls DISK[:PART] [PATH] [-R] [--json]\n\n"
	"List PATH (default: the volume root) on the offline NTFS volume in DISK.\n"
	"Columns: attributes (R H S A D C E P L O T N = read-only, hidden, system,\n"
	"archive, directory, compressed, encrypted, sparse, reparse point, offline,\n"
	"temporary, not indexed), hard links, size, last write (UTC), path, then\n"
	"named streams as :name (size), junction/symlink targets, cloud (OneDrive)\n"
	"folders and files with [pinned]/[unpinned]. Junctions are never followed;\n"
	"cloud folders are listed like folders.\n"
	"  -R       list every folder below PATH\n"
	"  --json   one JSON array with every piece of metadata\n";

int
cmd_ls(int argc, char **argv)
{
	struct ls_state s = { .first = true };
	const char *spec = NULL, *path = "";
	struct nv_open_options opts = { 0 };
	struct nv_volume *v;
	struct nv_inode *in;
	uint64_t mref;
	char *disk;
	int rc = WS_EXIT_OK;

	static const struct ws_option table[] = {
		{ "--recursive", "-R", WS_OPT_FLAG, 'R' },
		{ "--json", NULL, WS_OPT_FLAG, 'j' },
		{ 0 },
	};
	struct ws_opts p;
	ws_opts_init(&p, "winstate ls", argc, argv, table, ls_help);
	p.max_operands = 2;
	p.operands_hint = "one path at a time";
	for (int id; (id = ws_opts_next(&p)) != WS_OPTS_END;) {
		if (id == WS_OPTS_EXIT)
			return p.exit_code;
		if (id == WS_OPTS_OPERAND && !spec)
			spec = p.value;
		else if (id == WS_OPTS_OPERAND)
			path = p.value;
		else if (id == 'R')
			s.recursive = true;
		else if (id == 'j')
			s.json = true;
	}
	if (!spec) {
		fputs(ls_help, stderr);
		return WS_EXIT_USAGE;
	}
	if (nv_split_target(spec, &disk, &opts.partition) != NV_OK) {
		fprintf(stderr, "winstate ls: %s\n", nv_last_error());
		return WS_EXIT_USAGE;
	}
	if (nv_open(disk, &opts, &v) != NV_OK) {
		fprintf(stderr, "winstate ls: %s\n", nv_last_error());
		free(disk);
		return WS_EXIT_INPUT;
	}
	free(disk);
	if (nv_lookup(v, path, &mref) != NV_OK || nv_stat(v, mref, &in) != NV_OK) {
		fprintf(stderr, "winstate ls: %s\n", nv_last_error());
		nv_close(v);
		return WS_EXIT_INPUT;
	}
	if (s.json)
		printf("[");
	if (!(in->kind & NV_IS_DIR) || ((in->kind & NV_IS_REPARSE) && !(in->kind & NV_IS_CLOUD))) {
		/* A file (or a junction, which is listed, not entered; a cloud
		 * folder is a folder). */
		if (s.json)
			print_json_entry(&s, path, in);
		else
			print_line(path, in);
		s.count++;
	} else if (nv_walk(v, path, visit, &s) != NV_OK) {
		fprintf(stderr, "winstate ls: %s\n", nv_last_error());
		rc = WS_EXIT_INPUT;
	}
	if (s.json)
		printf("\n]\n");
	nv_inode_free(in);
	nv_close(v);
	if (rc == WS_EXIT_OK && s.errors) {
		fprintf(stderr, "winstate ls: %lu entries could not be read (listed above)\n", s.errors);
		rc = WS_EXIT_PARTIAL;
	}
	return rc;
}
