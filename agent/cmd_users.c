/*
 * winstate users DISK[:PART] [--windir PATH] [--no-sizes] [--json]
 *
 * Who has a profile on the offline Windows: SID, name and where the name came
 * from, account type, profile path, last use, the state of their registry
 * hive (clean, replayed from its logs, or not), and the profile's size.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/commands.h"
#include "agent/options.h"
#include "windows/windows.h"
#include "formats/formats.h"

static const char *
filetime_text(int64_t t, char *buf, size_t len)
{
	return fmt_ntfs_time(t > 0 ? (uint64_t)t : 0, buf, len);
}

static void
print_json(const struct win_offline *w)
{
	char t[48];
	printf("{\"windows\":{\"windir\":");
	fmt_json_string(stdout, w->install.windir);
	printf(",\"windows_old\":%s", w->install.is_windows_old ? "true" : "false");
	const char *facts[][2] = { { "product_name", w->info.product_name },
				   { "edition_id", w->info.edition_id },
				   { "current_build", w->info.current_build },
				   { "display_version", w->info.display_version },
				   { "architecture", w->info.arch },
				   { "computer_name", w->info.computer_name },
				   { "domain", w->info.domain },
				   { "machine_sid", w->machine_sid },
				   { "machine_sid_source", w->machine_sid_source } };
	for (size_t i = 0; i < sizeof(facts) / sizeof(facts[0]); i++) {
		printf(",\"%s\":", facts[i][0]);
		if (facts[i][1])
			fmt_json_string(stdout, facts[i][1]);
		else
			printf("null");
	}
	printf(",\"entra_joined\":%s,\"software_hive\":\"%s\",\"system_hive\":\"%s\"},\"users\":[",
	       w->info.entra_joined ? "true" : "false", w->software_state, w->system_state);
	for (size_t i = 0; i < w->user_count; i++) {
		const struct win_user *u = &w->users[i];
		printf("%s\n{\"sid\":", i ? "," : "");
		if (u->sid)
			fmt_json_string(stdout, u->sid);
		else
			printf("null");
		printf(",\"name\":");
		fmt_json_string(stdout, u->name ? u->name : "");
		printf(",\"name_source\":");
		fmt_json_string(stdout, u->name_source ? u->name_source : "");
		const char *more[][2] = { { "display_name", u->display_name },
					  { "display_name_source", u->display_source },
					  { "online_account", u->online_account },
					  { "account_domain", u->account_domain } };
		for (size_t m = 0; m < sizeof(more) / sizeof(more[0]); m++) {
			printf(",\"%s\":", more[m][0]);
			if (more[m][1])
				fmt_json_string(stdout, more[m][1]);
			else
				printf("null");
		}
		printf(",\"type\":\"%s\",\"profile_path\":", win_user_type_name(u->type));
		fmt_json_string(stdout, u->profile_path ? u->profile_path : "");
		printf(",\"volume_path\":");
		if (u->volume_path)
			fmt_json_string(stdout, u->volume_path);
		else
			printf("null");
		printf(",\"folder_exists\":%s,\"in_profile_list\":%s,\"bak\":%s,\"temporary\":%s,"
		       "\"disabled\":%s,\"last_use\":",
		       u->folder_exists ? "true" : "false", u->in_profile_list ? "true" : "false",
		       u->is_bak ? "true" : "false", u->is_temp ? "true" : "false",
		       u->disabled ? "true" : "false");
		fmt_json_string(stdout, fmt_ntfs_time_iso(u->last_use > 0 ? (uint64_t)u->last_use : 0, t,
						  sizeof(t)));
		printf(",\"hive_state\":");
		fmt_json_string(stdout, u->hive_state ? u->hive_state : "-");
		printf(",\"hive_detail\":");
		fmt_json_string(stdout, u->hive_detail ? u->hive_detail : "");
		printf(",\"state\":%u,\"flags\":%u,\"size\":%llu,\"files\":%llu,\"folders\":[", u->state,
		       u->flags, (unsigned long long)u->size_bytes, (unsigned long long)u->file_count);
		for (size_t f = 0; f < u->folder_count; f++) {
			const struct reg_user_folder *fo = &u->folders[f];
			printf("%s{\"name\":", f ? "," : "");
			fmt_json_string(stdout, fo->name);
			printf(",\"raw\":");
			fmt_json_string(stdout, fo->raw ? fo->raw : "");
			printf(",\"path\":");
			fmt_json_string(stdout, fo->path ? fo->path : "");
			printf(",\"source\":");
			fmt_json_string(stdout, fo->source ? fo->source : "");
			printf(",\"onedrive\":%s,\"unc\":%s}", fo->onedrive ? "true" : "false",
			       fo->is_unc ? "true" : "false");
		}
		printf("]}");
	}
	printf("\n]}\n");
}

static void
print_table(const struct win_offline *w, bool sizes, bool folders)
{
	char t[48], s[32];
	printf("Windows: %s %s (build %s)%s, computer %s, in %s%s\n",
	       w->info.product_name ? w->info.product_name : "?",
	       w->info.display_version ? w->info.display_version : "",
	       w->info.current_build ? w->info.current_build : "?",
	       w->info.arch ? "" : "", w->info.computer_name ? w->info.computer_name : "?",
	       w->install.windir, w->install.is_windows_old ? " (Windows.old)" : "");
	if (w->info.domain)
		printf("Domain: %s\n", w->info.domain);
	if (w->machine_sid)
		printf("Machine SID: %s (from %s): local accounts are the SIDs below it\n",
		       w->machine_sid, w->machine_sid_source);
	else
		printf("Machine SID: unknown (no SECURITY PolAcDmS, no SAM Account record): local "
		       "accounts cannot be told from domain ones\n");
	if (w->info.entra_joined)
		printf("Entra ID joined%s%s\n", w->info.entra_tenant ? ", tenant " : "",
		       w->info.entra_tenant ? w->info.entra_tenant : "");
	int wsid = 3, wname = 4, wpath = 7;
	for (size_t i = 0; i < w->user_count; i++) {
		const struct win_user *u = &w->users[i];
		int l = (int)strlen(u->sid ? u->sid : "-") + (u->is_bak ? 4 : 0);
		if (l > wsid)
			wsid = l;
		if (u->name && (int)strlen(u->name) > wname)
			wname = (int)strlen(u->name);
		if (u->profile_path && (int)strlen(u->profile_path) > wpath)
			wpath = (int)strlen(u->profile_path);
	}
	printf("\n%-*s  %-*s  %-9s  %-*s  %-19s  %-18s  %s\n", wsid, "SID", wname, "NAME", "TYPE",
	       wpath, "PROFILE", "LAST USE (UTC)", "HIVE", "SIZE");
	for (size_t i = 0; i < w->user_count; i++) {
		const struct win_user *u = &w->users[i];
		char sid[96];
		snprintf(sid, sizeof(sid), "%s%s", u->sid ? u->sid : "-", u->is_bak ? ".bak" : "");
		printf("%-*s  %-*s  %-9s  %-*s  %-19s  %-18s  %s\n", wsid, sid, wname,
		       u->name ? u->name : "?", win_user_type_name(u->type), wpath,
		       u->profile_path ? u->profile_path : "-", filetime_text(u->last_use, t, sizeof(t)),
		       u->hive_state ? u->hive_state : "-",
		       u->folder_exists && sizes ? fmt_size(u->size_bytes, s, sizeof(s)) : "-");
	}
	printf("\nWhere names come from, and what needs attention:\n");
	for (size_t i = 0; i < w->user_count; i++) {
		const struct win_user *u = &w->users[i];
		printf("  %-22s name from %s", u->name ? u->name : "?",
		       u->name_source ? u->name_source : "?");
		if (u->display_name)
			printf("; display name \"%s\" (%s, not an account name)", u->display_name,
			       u->display_source ? u->display_source : "?");
		if (u->online_account)
			printf("; signed in to the online account %s", u->online_account);
		if (!u->in_profile_list)
			printf("; folder has no ProfileList entry");
		else if (!u->volume_path)
			printf("; profile is not on this volume");
		else if (!u->folder_exists)
			printf("; ProfileList entry but no folder");
		if (u->is_bak)
			printf("; .bak entry (Windows kept a backup of a broken profile)");
		if (u->is_temp)
			printf("; temporary profile");
		if (u->disabled)
			printf("; account disabled");
		if (u->hive_state && strcmp(u->hive_state, "clean") && strcmp(u->hive_state, "-"))
			printf("; hive %s: %s", u->hive_state, u->hive_detail ? u->hive_detail : "");
		printf("\n");
		for (size_t f = 0; folders && f < u->folder_count; f++) {
			const struct reg_user_folder *fo = &u->folders[f];
			if (strcmp(fo->source, "User Shell Folders"))
				continue;
			printf("      %-40s %s%s%s\n", fo->name, fo->path ? fo->path : fo->raw,
			       fo->onedrive ? "  [OneDrive]" : "",
			       fo->is_unc ? "  [network share: not on this disk]" : "");
		}
	}
}

static const char users_help[] =
	"usage: winstate users DISK[:PART] [--windir PATH] [--no-sizes] [--folders] [--json]\n\n"
	"List the user profiles of the offline Windows on DISK: SID, name (and where\n"
	"it came from: SAM, the user's hive, or the folder name), type, profile path,\n"
	"last use, the state of the user's registry hive (clean, replayed from its\n"
	"transaction logs, dirty, unrecoverable, missing) and the profile's size.\n"
	"  --windir PATH   the Windows folder to read when the volume has several\n"
	"                  (e.g. Windows.old/Windows)\n"
	"  --no-sizes      skip walking each profile for its size\n"
	"  --folders       also list each user's folders (Documents, Desktop, ...) as\n"
	"                  their own hive says, OneDrive and network redirections marked\n";

int
cmd_users(int argc, char **argv)
{
	const char *spec = NULL, *windir = NULL;
	bool json = false, sizes = true, folders = false;
	struct nv_open_options opts = { 0 };
	struct nv_volume *v;
	struct win_offline *w;
	char *disk, err[1024];

	static const struct ws_option table[] = {
		{ "--json", NULL, WS_OPT_FLAG, 'j' },
		{ "--no-sizes", NULL, WS_OPT_FLAG, 'S' },
		{ "--folders", NULL, WS_OPT_FLAG, 'f' },
		{ "--windir", NULL, WS_OPT_VALUE, 'w' },
		{ 0 },
	};
	struct ws_opts p;
	ws_opts_init(&p, "winstate users", argc, argv, table, users_help);
	p.max_operands = 1;
	p.operands_hint = "one disk at a time";
	for (int id; (id = ws_opts_next(&p)) != WS_OPTS_END;) {
		switch (id) {
		case WS_OPTS_EXIT: return p.exit_code;
		case WS_OPTS_OPERAND: spec = p.value; break;
		case 'j': json = true; break;
		case 'S': sizes = false; break;
		case 'f': folders = true; break;
		case 'w': windir = p.value; break;
		}
	}
	if (!spec) {
		fputs(users_help, stderr);
		return WS_EXIT_USAGE;
	}
	if (nv_split_target(spec, &disk, &opts.partition) != NV_OK) {
		fprintf(stderr, "winstate users: %s\n", nv_last_error());
		return WS_EXIT_USAGE;
	}
	enum nv_status st = nv_open(disk, &opts, &v);
	free(disk);
	if (st != NV_OK) {
		fprintf(stderr, "winstate users: %s\n", nv_last_error());
		return WS_EXIT_INPUT;
	}
	if (win_open(v, windir, sizes, &w, err, sizeof(err)) < 0) {
		fprintf(stderr, "winstate users: %s\n", err);
		nv_close(v);
		return WS_EXIT_INPUT;
	}
	if (json)
		print_json(w);
	else
		print_table(w, sizes, folders);
	win_close(w);
	nv_close(v);
	return WS_EXIT_OK;
}
