/*
 * winstate volumes DISK [--json]
 *
 * What is on a disk: its partition table, each partition with its filesystem,
 * and for NTFS ones whether Windows is installed and whether the volume can
 * be used (hibernated, unclean, BitLocker-locked, damaged).
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/commands.h"
#include "agent/options.h"
#include "formats/formats.h"
#include "ntfs/ntfs.h"

struct ntfs_report {
	bool opened;
	enum nv_status status;
	char error[512];
	bool windows, windows_old;
	struct nv_volume_info info;
};

static void
inspect(const char *disk, const struct nv_partition *p, struct ntfs_report *r)
{
	struct nv_open_options o = { .partition = p->number };
	struct nv_volume *v;
	uint64_t mref;

	memset(r, 0, sizeof(*r));
	r->status = nv_open(disk, &o, &v);
	if (r->status != NV_OK) {
		snprintf(r->error, sizeof(r->error), "%s", nv_last_error());
		return;
	}
	r->opened = true;
	nv_volume_info(v, &r->info);
	r->windows = nv_lookup(v, "Windows/System32/config/SOFTWARE", &mref) == NV_OK;
	r->windows_old = nv_lookup(v, "Windows.old/Windows/System32/config/SOFTWARE", &mref) == NV_OK;
	nv_close(v);
}

static const char *
state_text(const struct ntfs_report *r, char *buf, size_t len)
{
	if (!r->opened) {
		snprintf(buf, len, "%s", nv_status_name(r->status));
		return buf;
	}
	buf[0] = '\0';
	if (r->info.state & NV_STATE_HIBERNATED)
		strncat(buf, "hibernated ", len - strlen(buf) - 1);
	if (r->info.state & NV_STATE_DIRTY)
		strncat(buf, "dirty ", len - strlen(buf) - 1);
	if (r->info.state & NV_STATE_LOG_UNCLEAN)
		strncat(buf, "journal-unclean ", len - strlen(buf) - 1);
	if (!buf[0])
		snprintf(buf, len, "clean");
	else
		buf[strlen(buf) - 1] = '\0';
	return buf;
}

static bool
looks_ntfs(const struct nv_partition *p)
{
	return !p->problem[0] && (!strcmp(p->fstype, "ntfs") || !strcmp(p->fstype, "BitLocker") ||
				  !strcmp(p->type_name, "Basic data") || !strcmp(p->type, "0x07") ||
				  (p->number == 0));
}

static void
print_json(const char *path, const struct nv_disk *disk, const struct ntfs_report *reports)
{
	char buf[64];
	printf("{\"disk\":");
	fmt_json_string(stdout, path);
	printf(",\"table\":");
	fmt_json_string(stdout, disk->table);
	printf(",\"size\":%llu,\"partitions\":[", (unsigned long long)disk->size);
	for (size_t i = 0; i < disk->count; i++) {
		const struct nv_partition *p = &disk->parts[i];
		const struct ntfs_report *r = &reports[i];
		printf("%s{\"number\":%d,\"offset\":%llu,\"size\":%llu,\"type\":", i ? "," : "",
		       p->number, (unsigned long long)p->offset, (unsigned long long)p->size);
		fmt_json_string(stdout, p->type);
		printf(",\"type_name\":");
		fmt_json_string(stdout, p->type_name);
		printf(",\"name\":");
		fmt_json_string(stdout, p->name);
		printf(",\"filesystem\":");
		fmt_json_string(stdout, p->fstype);
		printf(",\"label\":");
		fmt_json_string(stdout, p->label);
		if (p->problem[0]) {
			printf(",\"problem\":");
			fmt_json_string(stdout, p->problem);
		}
		if (looks_ntfs(p)) {
			printf(",\"ntfs\":{\"usable\":%s,\"state\":", r->opened ? "true" : "false");
			fmt_json_string(stdout, state_text(r, buf, sizeof(buf)));
			if (r->opened)
				printf(",\"windows\":%s,\"windows_old\":%s,\"free\":%llu,\"version\":\"%d.%d\"",
				       r->windows ? "true" : "false", r->windows_old ? "true" : "false",
				       (unsigned long long)r->info.free_bytes, r->info.major_version,
				       r->info.minor_version);
			else {
				printf(",\"error\":");
				fmt_json_string(stdout, r->error);
			}
			printf("}");
		}
		printf("}");
	}
	printf("]}\n");
}

static void
print_table(const char *path, const struct nv_disk *disk, const struct ntfs_report *reports)
{
	char a[32], b[32], st[64];
	printf("%s: %s, %s\n", path,
	       disk->table[0] ? (!strcmp(disk->table, "gpt") ? "GPT disk" : "MBR disk") : "bare volume",
	       fmt_size(disk->size, a, sizeof(a)));
	printf("%-4s %-11s %-11s %-20s %-10s %-12s %s\n", "part", "start", "size", "type", "fs",
	       "label", "contents");
	for (size_t i = 0; i < disk->count; i++) {
		const struct nv_partition *p = &disk->parts[i];
		const struct ntfs_report *r = &reports[i];
		char contents[700];
		if (p->problem[0])
			snprintf(contents, sizeof(contents), "unusable: %s", p->problem);
		else if (!looks_ntfs(p))
			snprintf(contents, sizeof(contents), "-");
		else if (!r->opened)
			snprintf(contents, sizeof(contents), "%s: %s", nv_status_name(r->status), r->error);
		else
			snprintf(contents, sizeof(contents), "%s%s, volume %s",
				 r->windows ? "Windows installed" : "no Windows",
				 r->windows_old ? ", Windows.old present" : "",
				 state_text(r, st, sizeof(st)));
		printf("%-4d %-11s %-11s %-20s %-10s %-12s %s\n", p->number,
		       fmt_size(p->offset, a, sizeof(a)), fmt_size(p->size, b, sizeof(b)),
		       p->type_name[0] ? p->type_name : (p->type[0] ? p->type : "-"),
		       p->fstype[0] ? p->fstype : "-", p->label[0] ? p->label : "-", contents);
	}
}

int
cmd_volumes(int argc, char **argv)
{
	const char *path = NULL;
	bool json = false;
	struct nv_disk *disk;
	struct ntfs_report *reports;

	static const char help[] =
		"usage: winstate volumes DISK [--json]\n\n"
		"List the partitions of DISK (an image file or block device, whole disk\n"
		"or single volume) and, for NTFS, whether Windows is installed and whether\n"
		"the volume is usable (hibernated, unclean, BitLocker, damaged).\n";
	static const struct ws_option table[] = {
		{ "--json", NULL, WS_OPT_FLAG, 'j' },
		{ 0 },
	};
	struct ws_opts p;
	ws_opts_init(&p, "winstate volumes", argc, argv, table, help);
	p.max_operands = 1;
	p.operands_hint = "one disk at a time";
	for (int id; (id = ws_opts_next(&p)) != WS_OPTS_END;) {
		if (id == WS_OPTS_EXIT)
			return p.exit_code;
		if (id == WS_OPTS_OPERAND)
			path = p.value;
		else if (id == 'j')
			json = true;
	}
	if (!path) {
		fprintf(stderr, "usage: winstate volumes DISK [--json]\n");
		return WS_EXIT_USAGE;
	}
	if (nv_disk_probe(path, &disk) != NV_OK) {
		fprintf(stderr, "winstate volumes: %s\n", nv_last_error());
		return WS_EXIT_INPUT;
	}
	reports = calloc(disk->count, sizeof(*reports));
	if (!reports) {
		nv_disk_free(disk);
		fprintf(stderr, "winstate volumes: out of memory\n");
		return WS_EXIT_INTERNAL;
	}
	for (size_t i = 0; i < disk->count; i++)
		if (looks_ntfs(&disk->parts[i]))
			inspect(path, &disk->parts[i], &reports[i]);
	if (json)
		print_json(path, disk, reports);
	else
		print_table(path, disk, reports);
	free(reports);
	nv_disk_free(disk);
	return WS_EXIT_OK;
}
