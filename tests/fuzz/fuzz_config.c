/*
 * libFuzzer target: Config.xml (ScanState /config, LoadState /config).
 *
 * Input: a Config.xml.  It is parsed from memory (ws_config_load_memory);
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

static ws_ruleset *rules;

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

static const struct ws_rules_host host = {
	.file_exists = host_file_exists,
	.reg_exists = host_reg_exists,
};

static const struct {
	enum ws_obj_type type;
	const char *node, *leaf;
} objects[] = {
	{ WS_OBJ_FILE, "C:\\Users\\bob\\Documents", "a.docx" },
	{ WS_OBJ_FILE, "D:\\Scratch\\deep", "x.tmp" },
	{ WS_OBJ_FILE, "C:\\Users\\bob\\AppData\\Local\\Microsoft\\Outlook", "bob.ost" },
	{ WS_OBJ_REGISTRY, "HKCU\\Software\\Fuzz\\Key", "Value" },
	{ WS_OBJ_REGISTRY, "HKLM\\Software\\Fuzz", NULL },
};

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!rules) {
		ws_diags *d = ws_diags_new();
		rules = ws_ruleset_new();
		if (!d || !rules ||
		    ws_ruleset_load_memory(rules, "fuzzconfig.xml", rules_xml, sizeof(rules_xml) - 1, d))
			abort();
		ws_diags_free(d);
	}
	ws_diags *diags = ws_diags_new();
	ws_vars *vars = ws_vars_new();
	ws_matcher *m = NULL;
	if (!diags || !vars)
		abort();
	ws_config *cfg = ws_config_load_memory("Config.xml", (const char *)data, size, diags);
	if (!cfg) {
		/* A refused file says why. */
		const char *why = ws_diags_first(diags, WS_DIAG_ERROR);
		if (!why || !*why)
			abort();
		goto out;
	}
	for (size_t i = 0; i < ws_ruleset_component_count(rules); i++) {
		const struct ws_component_info *c = ws_ruleset_component(rules, i);
		int on = ws_config_component_enabled(cfg, c->id, c->display_name);
		if (on < -1 || on > 1)
			abort();
	}
	ws_config_component_enabled(cfg, "", "");
	static const unsigned codes[] = { 0, 2, 5, 32, 0xFFFFFFFFu };
	for (size_t i = 0; i < sizeof(objects) / sizeof(objects[0]); i++) {
		for (size_t k = 0; k < sizeof(codes) / sizeof(codes[0]); k++) {
			enum ws_error_action a = ws_config_error_action(cfg, objects[i].type, objects[i].node,
									objects[i].leaf, codes[k]);
			if (a != WS_ERR_DEFAULT && a != WS_ERR_NONFATAL && a != WS_ERR_FATAL)
				abort();
		}
		if (objects[i].type == WS_OBJ_FILE) {
			enum ws_hardlink_action h =
				ws_config_hardlink_action(cfg, objects[i].node, objects[i].leaf);
			if (h != WS_HL_DEFAULT && h != WS_HL_CREATE && h != WS_HL_ERROR)
				abort();
		}
	}
	const char *from, *to;
	for (size_t i = 0; ws_config_domain_mapping(cfg, i, &from, &to) == 0; i++)
		if (!from || !to || i > size)
			abort();
	for (size_t i = 0; ws_config_user_mapping(cfg, i, &from, &to) == 0; i++)
		if (!from || !to || i > size)
			abort();

	/* The config drives the matcher: a disabled component selects nothing. */
	ws_vars_default_user(vars, "C:", "bob", NULL, NULL);
	if (ws_matcher_build(rules, cfg, WS_CTX_USER, vars, &host, 0, &m, diags) == 0 && m) {
		struct ws_decision d;
		for (size_t i = 0; i < sizeof(objects) / sizeof(objects[0]); i++) {
			if (ws_matcher_decide(m, objects[i].type, objects[i].node, objects[i].leaf, &d))
				continue;
			if ((d.outcome == WS_NOT_SELECTED) != (d.rule == NULL))
				abort();
			if (d.outcome == WS_INCLUDED && d.rule->component_id &&
			    ws_config_component_enabled(cfg, d.rule->component_id, d.rule->component) == 0)
				abort();
		}
	}
out:
	ws_matcher_free(m);
	ws_config_free(cfg);
	ws_vars_free(vars);
	ws_diags_free(diags);
	return 0;
}
