/* The rule files and Config.xml, and one matcher per selected user and the system. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "capture/internal.h"
#include "formats/formats.h"
#include "rules/rules.h"

/* --------------------------------------------------------------- rules -- */

static void
log_rule_file(void *ctx, const char *path)
{
	struct scan *s = ctx;
	LOG_INFO(s, "rules: %s", path);
}

enum capture_outcome
scan_load_rules(struct scan *s)
{
	const struct capture_options *o = s->o;
	char failed[4096];
	s->rs = mig_ruleset_new();
	s->diags = mig_diags_new();
	if (!s->rs || !s->diags)
		return scan_out_of_memory(s, "loading the rules");
	int lr = mig_ruleset_load_given_or_defaults(s->rs, o->rules, o->nrules, s->diags,
						    log_rule_file, s, failed, sizeof(failed));
	if (lr == -2) {
		return scan_fail(s, CAPTURE_ERR_RULES, "no rule files given and winstate's default rules "
				 "were not found (set WINSTATE_RULES_DIR)");
	} else if (lr < 0) {
		const char *why = mig_diags_first(s->diags, MIG_DIAG_ERROR);
		return scan_fail(s, CAPTURE_ERR_RULES, "the rule file %s is unusable: %s", failed,
				 why ? why : "see the log");
	}
	for (size_t i = 0; i < mig_ruleset_ignored_count(s->rs); i++) {
		const struct mig_ignored_file *g = mig_ruleset_ignored(s->rs, i);
		scan_say(s, CAPTURE_WARNING, "%s: its urlid \"%s\" is the same as %s's, so it is "
			 "ignored as USMT does (listed in report.json)", g->path, g->urlid, g->kept);
		LOG_WARN(s, "rule file %s ignored: urlid \"%s\" already loaded from %s", g->path,
			 g->urlid, g->kept);
	}
	if (o->config) {
		mig_diags *cd = mig_diags_new();
		if (!cd)
			return scan_out_of_memory(s, "loading the configuration file");
		s->cfg = mig_config_load(o->config, cd);
		if (!s->cfg) {
			const char *why = mig_diags_first(cd, MIG_DIAG_ERROR);
			scan_fail(s, CAPTURE_ERR_CONFIG, "the configuration file %s is unusable: %s", o->config,
			     why ? why : "it could not be read");
			mig_diags_free(cd);
			return s->fail;
		}
		mig_diags_free(cd);
	}
	return CAPTURE_OK;
}

static void
log_diags(struct scan *s)
{
	for (size_t i = 0; i < mig_diags_count(s->diags); i++) {
		const struct mig_diag *d = mig_diags_get(s->diags, i);
		if (d->level == MIG_DIAG_NOTE && !VERBOSE(s))
			continue;
		scan_log(s, d->level >= MIG_DIAG_WARNING ? "Warning" : "Info", "%s:%u: %s",
		      d->file ? d->file : "-", d->line, d->msg);
	}
}

/* Gather the undefined-variable patterns of one context, once per rule. */
static enum capture_outcome
collect_unresolved(struct scan *s, const mig_matcher *m, const char *context)
{
	for (size_t i = 0; i < mig_matcher_unresolved_count(m); i++) {
		const struct mig_unresolved *u = mig_matcher_unresolved(m, i);
		struct unresolved_item *it = NULL;
		for (size_t k = 0; k < s->nunres && !it; k++) {
			const struct mig_unresolved *o = s->unres[k].u;
			if (o->line == u->line && o->kind == u->kind && !strcmp(o->file, u->file) &&
			    !strcmp(o->variable, u->variable) && !strcmp(o->source, u->source))
				it = &s->unres[k];
		}
		FILE *f;
		char *ctx = NULL;
		size_t len = 0;
		if (!(f = open_memstream(&ctx, &len)))
			return scan_out_of_memory(s, "listing undefined variables");
		if (it && it->contexts) {
			/* a generator makes several patterns on one line: one context entry */
			char needle[512];
			snprintf(needle, sizeof(needle), "\"%s\"", context);
			if (strstr(it->contexts, needle)) {
				fclose(f);
				free(ctx);
				continue;
			}
			fprintf(f, "%s, ", it->contexts);
		}
		fmt_json_string(f, context);
		bool lost = ferror(f);
		if (fclose(f) || lost) {
			free(ctx);
			return scan_out_of_memory(s, "listing undefined variables");
		}
		if (!it) {
			struct unresolved_item *grown = realloc(s->unres, (s->nunres + 1) * sizeof(*grown));
			if (!grown) {
				free(ctx);
				return scan_out_of_memory(s, "listing undefined variables");
			}
			s->unres = grown;
			it = &s->unres[s->nunres++];
			it->u = u;
			it->contexts = NULL;
		}
		free(it->contexts);
		it->contexts = ctx;
	}
	return CAPTURE_OK;
}

/* Say every undefined-variable pattern on the console (the first ones) and
 * in the log (all). */
static void
report_unresolved(struct scan *s)
{
	enum { SHOWN = 12 };
	for (size_t i = 0; i < s->nunres; i++) {
		const struct mig_unresolved *u = s->unres[i].u;
		char what[1024];
		if (u->kept)
			snprintf(what, sizeof(what), "the %s pattern \"%s\" is kept as \"%s\", which "
				 "excludes more, never less", mig_rule_kind_name(u->kind), u->source,
				 u->pattern);
		else
			snprintf(what, sizeof(what), "the %s pattern \"%s\" is dropped",
				 mig_rule_kind_name(u->kind), u->source);
		if (i < SHOWN)
			scan_say(s, CAPTURE_WARNING, "%s:%u: %%%s%% is not defined on this Windows "
				 "(context %s): %s", u->file, u->line, u->variable, s->unres[i].contexts,
				 what);
		LOG_WARN(s, "%s:%u: %%%s%% is not defined (context %s): %s", u->file, u->line,
			 u->variable, s->unres[i].contexts, what);
	}
	if (s->nunres > SHOWN)
		scan_say(s, CAPTURE_WARNING, "%zu more patterns with undefined variables: see "
			 "\"unresolved_variables\" in report.json", s->nunres - SHOWN);
}

enum capture_outcome
scan_build_matchers(struct scan *s)
{
	if (win_rules_host_init(&s->syshost, s->w, NULL) < 0)
		return scan_out_of_memory(s, "preparing the system's rules");
	s->syshost_ok = true;
	if (!(s->sysvars = mig_vars_new()))
		return scan_out_of_memory(s, "preparing the system's rules");
	char *defaulted = NULL;
	win_vars_for_system(s->sysvars, s->w, 'C', &defaulted);
	if (defaulted)
		LOG_WARN(s, "variables: the SOFTWARE hive lacks some values; Windows' defaults stand "
			 "in: %s", defaulted);
	free(defaulted);
	if (mig_matcher_build(s->rs, s->cfg, MIG_CTX_SYSTEM, s->sysvars, &s->syshost.host, 0,
			      &s->sysm, s->diags) != 0)
		return scan_fail(s, CAPTURE_ERR_INTERNAL, "internal error: the rules could not be "
				 "compiled for the system");
	/* A detection answered "absent" for lack of memory would drop a component. */
	if (s->syshost.out_of_memory)
		return scan_out_of_memory(s, "compiling the system's rules");
	if (collect_unresolved(s, s->sysm, "system") != CAPTURE_OK)
		return s->fail;
	for (size_t i = 0; i < s->nusers; i++) {
		struct scan_user *u = &s->users[i];
		if (!u->selected)
			continue;
		if (win_rules_host_init(&u->host, s->w, u->u) < 0)
			return scan_out_of_memory(s, "preparing a user's rules");
		u->host_ok = true;
		if (!(u->vars = mig_vars_new()))
			return scan_out_of_memory(s, "preparing a user's rules");
		win_vars_for_user(u->vars, s->w, u->u, &defaulted);
		if (defaulted)
			LOG_WARN(s, "variables of %s: their hive lacks some folders; Windows' defaults "
				 "stand in: %s", u->sid, defaulted);
		free(defaulted);
		if (mig_matcher_build(s->rs, s->cfg, MIG_CTX_USER, u->vars, &u->host.host, 0, &u->m,
				      s->diags) != 0)
			return scan_fail(s, CAPTURE_ERR_INTERNAL, "internal error: the rules could not "
					 "be compiled for %s", u->sid);
		if (u->host.out_of_memory)
			return scan_out_of_memory(s, "compiling a user's rules");
		if (collect_unresolved(s, u->m, u->u->name ? u->u->name : u->sid) != CAPTURE_OK)
			return s->fail;
	}
	log_diags(s);
	report_unresolved(s);
	return CAPTURE_OK;
}
