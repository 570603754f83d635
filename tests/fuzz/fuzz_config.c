/*
 * libFuzzer target: Config.xml (ScanState /config, LoadState /config).
 *
 * Input: a Config.xml.  It is parsed from memory (mig_config_load_memory);
 * when it loads, every query a capture or restore makes is asked: whether
 * each component of a fixed rule set migrates (by ID and by display name),
 * the ErrorControl action for a few files and registry values and error
 * codes, the HardLinkStoreControl action, every domain and user mapping —
 * then the matcher is built for that rule set under this config and a few
 * objects decided.  What must hold beyond "no crash, no leak": a mapping has
 * both sides, answers are in their ranges, a component disabled by the
 * config never selects anything, and a failed load says why.
 */
#include "tests/fuzz/fuzz_common.h"

#include "rules/rules.h"

static const char rules_xml[] =
	"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
	"<migration urlid=\"http://www.microsoft.com/migration/1.0/migxmlext/fuzzconfig\">\n"
	"  <component type=\"Documents\" context=\"User\">\n"
	"    <displayName>Fuzz documents</displayName>\n"
	"    <role role=\"Data\"><rules><include><objectSet>\n"
	"      <pattern type=\"File\">C:\\Users\\bob\\Documents\\* [*]</pattern>\n"
	"    </objectSet></include></rules></role>\n"
	"  </component>\n"
	"  <component type=\"Application\" context=\"User\">\n"
	"    <displayName>Fuzz settings</displayName>\n"
	"    <role role=\"Settings\"><rules><include><objectSet>\n"
	"      <pattern type=\"Registry\">HKCU\\Software\\Fuzz\\* [*]</pattern>\n"
	"    </objectSet></include></rules></role>\n"
	"  </component>\n"
	"</migration>\n";

static mig_ruleset *rules;

static int
host_file_exists(void *o, const char *p, int *is_dir)
{
	(void)o;
	if (is_dir)
		*is_dir = strrchr(p, '.') == NULL;
	return 1;
}

static int
host_reg_exists(void *o, const char *k, const char *v)
{
	(void)o;
	(void)k;
	(void)v;
	return 1;
}

static const struct mig_rules_host host = {
	.file_exists = host_file_exists,
	.reg_exists = host_reg_exists,
};

static const struct {
	enum mig_obj_type type;
	const char *node, *leaf;
} objects[] = {
	{ MIG_OBJ_FILE, "C:\\Users\\bob\\Documents", "a.docx" },
	{ MIG_OBJ_FILE, "D:\\Scratch\\deep", "x.tmp" },
	{ MIG_OBJ_FILE, "C:\\Users\\bob\\AppData\\Local\\Microsoft\\Outlook", "bob.ost" },
	{ MIG_OBJ_REGISTRY, "HKCU\\Software\\Fuzz\\Key", "Value" },
	{ MIG_OBJ_REGISTRY, "HKLM\\Software\\Fuzz", NULL },
};

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!rules) {
		mig_diags *d = mig_diags_new();
		rules = mig_ruleset_new();
		if (!d || !rules ||
		    mig_ruleset_load_memory(rules, "fuzzconfig.xml", rules_xml, sizeof(rules_xml) - 1, d))
			abort();
		mig_diags_free(d);
	}
	mig_diags *diags = mig_diags_new();
	mig_vars *vars = mig_vars_new();
	mig_matcher *m = NULL;
	if (!diags || !vars)
		abort();
	mig_config *cfg = mig_config_load_memory("Config.xml", (const char *)data, size, diags);
	if (!cfg) {
		/* A refused file says why. */
		const char *why = mig_diags_first(diags, MIG_DIAG_ERROR);
		if (!why || !*why)
			abort();
		goto out;
	}
	for (size_t i = 0; i < mig_ruleset_component_count(rules); i++) {
		const struct mig_component_info *c = mig_ruleset_component(rules, i);
		int on = mig_config_component_enabled(cfg, c->id, c->display_name);
		if (on < -1 || on > 1)
			abort();
	}
	mig_config_component_enabled(cfg, "", "");
	static const unsigned codes[] = { 0, 2, 5, 32, 0xFFFFFFFFu };
	for (size_t i = 0; i < sizeof(objects) / sizeof(objects[0]); i++) {
		for (size_t k = 0; k < sizeof(codes) / sizeof(codes[0]); k++) {
			enum mig_error_action a = mig_config_error_action(cfg, objects[i].type, objects[i].node,
									objects[i].leaf, codes[k]);
			if (a != MIG_ERR_DEFAULT && a != MIG_ERR_NONFATAL && a != MIG_ERR_FATAL)
				abort();
		}
		if (objects[i].type == MIG_OBJ_FILE) {
			enum mig_hardlink_action h =
				mig_config_hardlink_action(cfg, objects[i].node, objects[i].leaf);
			if (h != MIG_HL_DEFAULT && h != MIG_HL_CREATE && h != MIG_HL_ERROR)
				abort();
		}
	}
	const char *from, *to;
	for (size_t i = 0; mig_config_domain_mapping(cfg, i, &from, &to) == 0; i++)
		if (!from || !to || i > size)
			abort();
	for (size_t i = 0; mig_config_user_mapping(cfg, i, &from, &to) == 0; i++)
		if (!from || !to || i > size)
			abort();

	/* The config drives the matcher: a disabled component selects nothing. */
	mig_vars_default_user(vars, "C:", "bob", NULL, NULL);
	if (mig_matcher_build(rules, cfg, MIG_CTX_USER, vars, &host, 0, &m, diags) == 0 && m) {
		struct mig_decision d;
		for (size_t i = 0; i < sizeof(objects) / sizeof(objects[0]); i++) {
			if (mig_matcher_decide(m, objects[i].type, objects[i].node, objects[i].leaf, &d))
				continue;
			if ((d.outcome == MIG_NOT_SELECTED) != (d.rule == NULL))
				abort();
			if (d.outcome == MIG_INCLUDED && d.rule->component_id &&
			    mig_config_component_enabled(cfg, d.rule->component_id, d.rule->component) == 0)
				abort();
		}
	}
out:
	mig_matcher_free(m);
	mig_config_free(cfg);
	mig_vars_free(vars);
	mig_diags_free(diags);
	return 0;
}
