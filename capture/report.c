/* What the capture tells: the accounting lines, report.json and the estimate file. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "capture/internal.h"
#include "formats/formats.h"
#include "rules/rules.h"

/* --------------------------------------------------------- accounting -- */

/* Which folder each user's account counts: its profile folder, except that a
 * folder two ProfileList entries name is counted once, for the selected one
 * (else the first).  Everything outside them is the system's. */
enum capture_outcome
scan_plan_accounting(struct scan *s)
{
	s->profiles = calloc(s->nusers + 1, sizeof(*s->profiles));
	if (!s->profiles)
		return scan_out_of_memory(s, "planning the accounting");
	for (size_t i = 0; i < s->nusers; i++) {
		struct scan_user *u = &s->users[i];
		const char *p = u->rel_profile && *u->rel_profile ? u->rel_profile : NULL;
		for (size_t j = 0; j < s->nusers && p; j++) {
			struct scan_user *o = &s->users[j];
			if (j == i || !o->rel_profile || strcasecmp(o->rel_profile, p))
				continue;
			if ((o->selected && !u->selected) || (o->selected == u->selected && j < i))
				p = NULL;
		}
		s->profiles[i] = p;
	}
	return CAPTURE_OK;
}

static void
write_account(struct scan *s, FILE *out, const struct acct *a, long ctx)
{
	acct_write_json(out, a);
	fputs(", \"skipped_by\": [", out);
	bool first = true;
	for (int k = 0; k < ACCT_SKIP_COUNT; k++) {
		if (!a->skipped_by[k])
			continue;
		fprintf(out, "%s\n        {\"reason\": \"%s\", \"sentence\": ", first ? "" : ",",
			acct_skip_key(k));
		first = false;
		fmt_json_string(out, acct_skip_sentence(k));
		fprintf(out, ", \"count\": %llu, \"paths\": [", (unsigned long long)a->skipped_by[k]);
		bool pfirst = true;
		for (size_t i = 0; i < s->nskips; i++) {
			if (s->skips[i].ctx != ctx || s->skips[i].kind != (enum acct_skip)k)
				continue;
			fputs(pfirst ? "" : ", ", out);
			pfirst = false;
			fmt_json_string(out, s->skips[i].path);
		}
		fputs("]}", out);
	}
	fprintf(out, "%s]", first ? "" : "\n      ");
}

static void
write_accounting(struct scan *s, FILE *out)
{
	fprintf(out, ",\n  \"accounting\": {\n    \"users\": [");
	for (size_t i = 0; i < s->nusers; i++) {
		struct scan_user *u = &s->users[i];
		fprintf(out, "%s\n      {\"sid\": ", i ? "," : "");
		fmt_json_string(out, u->sid);
		fputs(", \"name\": ", out);
		fmt_json_string(out, u->u->name ? u->u->name : "");
		fputs(", \"profile\": ", out);
		char *win = NULL;
		if (s->profiles && s->profiles[i]) {
			if (asprintf(&win, "C:\\%s", s->profiles[i]) < 0) {
				win = NULL;
				scan_out_of_memory(s, "writing report.json");
			}
			for (char *c = win; c && *c; c++)
				if (*c == '/')
					*c = '\\';
		}
		if (win)
			fmt_json_string(out, win);
		else
			fputs("null", out);
		free(win);
		fprintf(out, ", \"selected\": %s, ", u->selected ? "true" : "false");
		write_account(s, out, &u->acct, (long)i);
		fputc('}', out);
	}
	fprintf(out, "\n    ],\n    \"system\": {");
	write_account(s, out, &s->sys_acct, -1);
	fprintf(out, "}\n  }");
}

/* A bucket nobody settled is winstate's own bug: said, never hidden. */
void
scan_check_accounting(struct scan *s)
{
	for (size_t i = 0; i <= s->nusers; i++) {
		const struct acct *a = i < s->nusers ? &s->users[i].acct : &s->sys_acct;
		if (acct_balanced(a))
			continue;
		const char *who = i < s->nusers ? s->users[i].sid : "the system";
		scan_say(s, CAPTURE_ERROR, "internal error: the accounting of %s does not balance (%llu "
			 "found, %llu captured, %llu excluded, %llu skipped, %llu not selected); please "
			 "report this", who, (unsigned long long)a->found,
			(unsigned long long)a->captured, (unsigned long long)a->excluded,
			(unsigned long long)a->skipped, (unsigned long long)a->not_selected);
		LOG_ERR(s, "the accounting of %s does not balance", who);
	}
}

/* One line per selected user, per other profile that holds files, and for
 * the system; to the log, and into the result for the caller to print. */
enum capture_outcome
scan_summarise_accounting(struct scan *s)
{
	char line[512], name[300];
	for (size_t i = 0; i <= s->nusers; i++) {
		const struct acct *a = i < s->nusers ? &s->users[i].acct : &s->sys_acct;
		if (i < s->nusers) {
			struct scan_user *u = &s->users[i];
			if (!u->selected && !a->found)
				continue;
			snprintf(name, sizeof(name), "%s%s", u->u->name ? u->u->name : u->sid,
				 u->selected ? "" : " (not selected)");
		} else {
			snprintf(name, sizeof(name), "system");
		}
		acct_line(line, sizeof(line), name, a, s->o->estimate != NULL);
		LOG_INFO(s, "%s", line);
		struct capture_result *res = s->res;
		char **grown = realloc(res->accounting, (res->accounting_count + 1) * sizeof(*grown));
		if (!grown)
			return scan_out_of_memory(s, "summing up the accounting");
		res->accounting = grown;
		if (!(grown[res->accounting_count] = strdup(line)))
			return scan_out_of_memory(s, "summing up the accounting");
		res->accounting_count++;
	}
	return CAPTURE_OK;
}

/* ------------------------------------------------------------- report -- */

void
scan_write_report(struct scan *s, FILE *out, bool complete)
{
	char t1[40];
	fprintf(out, "{\n  \"winstate_version\": \"%s\",\n  \"source\": ", WINSTATE_VERSION);
	fmt_json_string(out, s->o->source);
	fprintf(out, ",\n  \"windows\": ");
	fmt_json_string(out, s->w && s->w->install.windir ? s->w->install.windir : "");
	if (s->w) {
		char ver[256];
		snprintf(ver, sizeof(ver), "%s %s (build %s)",
			 s->w->info.product_name ? s->w->info.product_name : "Windows",
			 s->w->info.display_version ? s->w->info.display_version : "",
			 s->w->info.current_build ? s->w->info.current_build : "?");
		fprintf(out, ",\n  \"windows_version\": ");
		fmt_json_string(out, ver);
	}
	fprintf(out, ",\n  \"computer\": ");
	fmt_json_string(out, s->w && s->w->info.computer_name ? s->w->info.computer_name : "");
	fprintf(out, ",\n  \"store\": ");
	fmt_json_string(out, s->o->store);
	fprintf(out, ",\n  \"format\": \"%s\",\n  \"complete\": %s,\n",
		s->o->estimate ? "estimate" : st_format_name(s->o->hardlink ? ST_FORMAT_HARDLINK :
		s->o->nocompress ? ST_FORMAT_DIRECTORY : ST_FORMAT_COMPRESSED),
		complete ? "true" : "false");
	struct tm tm;
	gmtime_r(&s->start, &tm);
	strftime(t1, sizeof(t1), "%Y-%m-%dT%H:%M:%SZ", &tm);
	fprintf(out, "  \"started\": \"%s\",\n  \"seconds\": %.3f,\n", t1, scan_now() - s->t0);
	fprintf(out, "  \"files\": %llu,\n  \"hard_links\": %llu,\n  \"bytes\": %llu,\n"
		"  \"registry_values\": %llu,\n  \"errors\": %llu,\n  \"not_captured\": %llu,\n"
		"  \"junctions_stored\": %llu,\n",
		(unsigned long long)s->files, (unsigned long long)s->links,
		(unsigned long long)s->bytes, (unsigned long long)s->regs,
		(unsigned long long)s->errors, (unsigned long long)s->not_captured,
		(unsigned long long)s->links_stored);
	fprintf(out, "  \"system\": {\"files\": %llu, \"bytes\": %llu},\n",
		(unsigned long long)s->sys_files, (unsigned long long)s->sys_bytes);
	fprintf(out, "  \"users\": [");
	for (size_t i = 0; i < s->nusers; i++) {
		struct scan_user *u = &s->users[i];
		fprintf(out, "%s\n    {\"sid\": ", i ? "," : "");
		fmt_json_string(out, u->sid);
		fprintf(out, ", \"name\": ");
		fmt_json_string(out, u->u->name ? u->u->name : "");
		fprintf(out, ", \"type\": \"%s\", \"profile\": ", win_user_type_name(u->u->type));
		fmt_json_string(out, u->u->profile_path ? u->u->profile_path : "");
		fprintf(out, ", \"captured\": %s, \"why\": ", u->selected ? "true" : "false");
		fmt_json_string(out, u->why);
		fprintf(out, ", \"files\": %llu, \"bytes\": %llu, \"registry_values\": %llu}",
			(unsigned long long)u->files, (unsigned long long)u->bytes,
			(unsigned long long)u->regs);
	}
	fprintf(out, "\n  ],\n  \"skipped\": [");
	for (size_t i = 0; i < s->nskips; i++) {
		fprintf(out, "%s\n    {\"path\": ", i ? "," : "");
		fmt_json_string(out, s->skips[i].path);
		fprintf(out, ", \"owner\": ");
		fmt_json_string(out, s->skips[i].owner);
		fprintf(out, ", \"error\": %s, \"reason\": ", s->skips[i].error ? "true" : "false");
		fmt_json_string(out, s->skips[i].reason);
		fputc('}', out);
	}
	fprintf(out, "\n  ],\n  \"unresolved_variables\": [");
	for (size_t i = 0; i < s->nunres; i++) {
		const struct mig_unresolved *u = s->unres[i].u;
		fprintf(out, "%s\n    {\"file\": ", i ? "," : "");
		fmt_json_string(out, u->file);
		fprintf(out, ", \"line\": %u, \"variable\": ", u->line);
		fmt_json_string(out, u->variable);
		fprintf(out, ", \"rule\": \"%s\", \"component\": ", mig_rule_kind_name(u->kind));
		fmt_json_string(out, u->component ? u->component : "");
		fprintf(out, ", \"pattern\": ");
		fmt_json_string(out, u->source ? u->source : "");
		fprintf(out, ", \"action\": \"%s\"", u->kept ? "excludes more" : "dropped");
		if (u->kept) {
			fprintf(out, ", \"kept_as\": ");
			fmt_json_string(out, u->pattern);
		}
		fprintf(out, ", \"contexts\": [%s]}", s->unres[i].contexts);
	}
	fprintf(out, "\n  ],\n  \"ignored_rule_files\": [");
	for (size_t i = 0; s->rs && i < mig_ruleset_ignored_count(s->rs); i++) {
		const struct mig_ignored_file *g = mig_ruleset_ignored(s->rs, i);
		fprintf(out, "%s\n    {\"file\": ", i ? "," : "");
		fmt_json_string(out, g->path);
		fprintf(out, ", \"urlid\": ");
		fmt_json_string(out, g->urlid);
		fprintf(out, ", \"kept\": ");
		fmt_json_string(out, g->kept);
		fprintf(out, ", \"reason\": \"same urlid as a file loaded before (USMT keeps the first)\"}");
	}
	fprintf(out, "\n  ]");
	write_accounting(s, out);
	fprintf(out, ",\n  \"cloud_folders\": [");
	for (size_t i = 0; i < s->nclouds; i++) {
		const struct cloud_folder *c = &s->clouds[i];
		fprintf(out, "%s\n    {\"path\": ", i ? "," : "");
		fmt_json_string(out, c->path);
		fprintf(out, ", \"owner\": ");
		fmt_json_string(out, c->owner);
		fprintf(out, ", \"reparse_tag\": \"0x%08x\", \"sync_root\": %s, \"complete_on_disk\": %s, "
			"\"streams\": ", c->tag, c->sync_root ? "true" : "false",
			c->partial ? "false" : "true");
		fmt_json_string(out, c->streams);
		fprintf(out, ", \"restored_as\": \"plain folder\"}");
	}
	fprintf(out, "\n  ]");
	if (s->fail) {
		fprintf(out, ",\n  \"failure\": ");
		fmt_json_string(out, s->failmsg);
	}
	fprintf(out, "\n}\n");
}

enum capture_outcome
scan_write_estimate(struct scan *s)
{
	FILE *f = fopen(s->o->estimate, "w");
	if (!f) {
		return scan_fail(s, CAPTURE_ERR_OUTPUT, "the estimate file %s cannot be written: %s",
				 s->o->estimate, strerror(errno));
	}
	/* USMT's /p:file.xml format; a compressed store needs no temporary space. */
	fprintf(f, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<PreMigration>\n"
		"  <storeSize>\n    <size clusterSize=\"%u\">%llu</size>\n  </storeSize>\n"
		"  <temporarySpace>\n    <size>0</size>\n  </temporarySpace>\n</PreMigration>\n",
		s->cluster, (unsigned long long)s->est_bytes);
	if (fclose(f)) {
		return scan_fail(s, CAPTURE_ERR_OUTPUT, "the estimate file %s cannot be written: %s",
				 s->o->estimate, strerror(errno));
	}
	return CAPTURE_OK;
}
