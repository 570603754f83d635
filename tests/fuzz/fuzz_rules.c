/*
 * libFuzzer target: the MigXML rule parser and the pattern matcher.
 *
 * Input: a rule file, optionally followed by a NUL byte and objects to
 * decide, one per line, "F node [leaf]" or "R HKCU\\key [value]" (any other
 * first letter: a file).  The rules are loaded from memory, compiled for a
 * user context (a host on which everything exists, so detections and
 * conditions pass), and a fixed set of common paths plus the fuzzed ones are
 * decided.  Every decision is checked for consistency with its rule.
 */
#include "tests/fuzz/fuzz_common.h"

#include "rules/rules.h"

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

/* Every value reads as REG_SZ "C:\Program Files\Fuzz". */
static int
host_reg_read(void *o, const char *key, const char *value, unsigned *type, unsigned char **data,
	      size_t *len)
{
	static const char s[] = "C:\\Program Files\\Fuzz";
	(void)o;
	(void)key;
	(void)value;
	*data = calloc(1, 2 * sizeof(s));
	if (!*data)
		return -1;
	for (size_t i = 0; i < sizeof(s); i++)
		(*data)[2 * i] = (unsigned char)s[i];
	*len = 2 * sizeof(s);
	*type = MIG_REG_SZ;
	return 0;
}

static int
host_os_version(void *o, unsigned *major, unsigned *minor, unsigned *build)
{
	(void)o;
	*major = 10;
	*minor = 0;
	*build = 19045;
	return 0;
}

static int
host_is64(void *o)
{
	(void)o;
	return 1;
}

static int
host_enumerate(void *o, enum mig_obj_type type, const char *node, const char *leaf,
	       int (*emit)(void *ctx, const char *node, const char *leaf), void *ctx)
{
	(void)o;
	(void)type;
	(void)node;
	if (emit(ctx, "C:\\Users\\bob\\Documents", leaf ? "report.docx" : NULL))
		return 0;
	emit(ctx, "C:\\Users\\bob\\AppData\\Roaming\\Fuzz", leaf ? "settings.ini" : NULL);
	return 0;
}

static const struct mig_rules_host host = {
	.file_exists = host_file_exists,
	.reg_exists = host_reg_exists,
	.reg_read = host_reg_read,
	.os_version = host_os_version,
	.is_native_64bit = host_is64,
	.enumerate = host_enumerate,
};

static const struct {
	enum mig_obj_type type;
	const char *node, *leaf;
} fixed[] = {
	{ MIG_OBJ_FILE, "C:\\Users\\bob\\Documents", "a.docx" },
	{ MIG_OBJ_FILE, "C:\\Users\\bob\\Documents", NULL },
	{ MIG_OBJ_FILE, "C:\\Users\\bob\\AppData\\Local\\Temp", "x.tmp" },
	{ MIG_OBJ_FILE, "C:\\Users\\bob\\Desktop\\", "Shortcut.lnk" },
	{ MIG_OBJ_FILE, "C:\\Windows\\System32", "notepad.exe" },
	{ MIG_OBJ_REGISTRY, "HKCU\\Control Panel\\Desktop", "Wallpaper" },
	{ MIG_OBJ_REGISTRY, "HKEY_CURRENT_USER\\Software\\Fuzz", "" },
	{ MIG_OBJ_REGISTRY, "HKLM\\Software\\Microsoft\\Windows", NULL },
};

static void
check_decision(const struct mig_decision *d)
{
	/* A decision names its rule exactly when something was selected. */
	if ((d->outcome == MIG_NOT_SELECTED) != (d->rule == NULL))
		abort();
	if (d->rule && (!d->rule->pattern || !d->rule->file))
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *nul = memchr(data, 0, size);
	size_t xml_len = nul ? (size_t)(nul - data) : size;
	mig_diags *diags = mig_diags_new();
	mig_ruleset *rs = mig_ruleset_new();
	mig_vars *vars = mig_vars_new();
	mig_matcher *m = NULL;
	struct mig_decision d;

	if (!diags || !rs || !vars)
		goto out;
	if (mig_ruleset_load_memory(rs, "fuzz.xml", (const char *)data, xml_len, diags) != 0)
		goto out;
	for (size_t i = 0; i < mig_ruleset_component_count(rs); i++) {
		const struct mig_component_info *c = mig_ruleset_component(rs, i);
		if (!c->id || !c->display_name)
			abort();
	}
	mig_vars_default_user(vars, "C:", "bob", NULL, NULL);
	if (mig_matcher_build(rs, NULL, MIG_CTX_USER, vars, &host, 0, &m, diags) != 0 || !m)
		goto out;
	for (size_t i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++)
		if (mig_matcher_decide(m, fixed[i].type, fixed[i].node, fixed[i].leaf, &d) == 0)
			check_decision(&d);
	if (nul) {
		/* The objects: lines after the NUL. */
		size_t rest = size - xml_len - 1;
		char *objs = malloc(rest + 1);
		if (!objs)
			goto out;
		memcpy(objs, nul + 1, rest);
		objs[rest] = 0;
		char *save = NULL;
		unsigned n = 0;
		for (char *line = strtok_r(objs, "\n", &save); line && n < 64;
		     line = strtok_r(NULL, "\n", &save), n++) {
			enum mig_obj_type type = line[0] == 'R' ? MIG_OBJ_REGISTRY : MIG_OBJ_FILE;
			const char *loc = line[0] && line[1] == ' ' ? line + 2 : line;
			if (mig_matcher_decide_location(m, type, loc, &d) == 0)
				check_decision(&d);
		}
		free(objs);
	}
out:
	mig_matcher_free(m);
	mig_vars_free(vars);
	mig_ruleset_free(rs);
	mig_diags_free(diags);
	return 0;
}
