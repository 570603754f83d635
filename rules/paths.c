/*
 * Where our own default rule files live: $WINSTATE_RULES_DIR, else next to
 * the executable (<exe dir>/rules/xml, <exe dir>/../rules/xml,
 * <exe dir>/../../rules/xml for build/ and build/asan/), else the
 * build-time WS_RULES_DIR (default "rules/xml", relative to the repository).
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "rules/internal.h"

#ifndef WS_RULES_DIR
#define WS_RULES_DIR "rules/xml"
#endif

static bool
has_default(const char *dir)
{
	struct sbuf s = { 0 };
	sb_fmt(&s, "%s/winstate-default.xml", dir);
	struct stat st;
	bool ok = stat(s.p, &st) == 0 && S_ISREG(st.st_mode);
	sb_free(&s);
	return ok;
}

char *
mig_rules_default_dir(void)
{
	const char *env = getenv("WINSTATE_RULES_DIR");
	if (env && *env)
		return has_default(env) ? mig__strdup(env) : NULL;
	char exe[4096];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n > 0) {
		exe[n] = 0;
		char *slash = strrchr(exe, '/');
		if (slash) {
			*slash = 0;
			static const char *const rel[] = { "rules/xml", "../rules/xml", "../../rules/xml",
				"../../../rules/xml" };
			for (size_t i = 0; i < sizeof(rel) / sizeof(rel[0]); i++) {
				struct sbuf s = { 0 };
				sb_fmt(&s, "%s/%s", exe, rel[i]);
				if (has_default(s.p))
					return sb_steal(&s);
				sb_free(&s);
			}
		}
	}
	return has_default(WS_RULES_DIR) ? mig__strdup(WS_RULES_DIR) : NULL;
}

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

size_t
mig_rules_default_paths(char **paths, size_t max)
{
	char *dir = mig_rules_default_dir();
	if (!dir)
		return 0;
	DIR *d = opendir(dir);
	size_t n = 0;
	if (d) {
		struct dirent *e;
		while ((e = readdir(d)) && n < max) {
			size_t l = strlen(e->d_name);
			if (l > 4 && !strcasecmp(e->d_name + l - 4, ".xml") &&
				!strncmp(e->d_name, "winstate-", 9)) {
				struct sbuf s = { 0 };
				sb_fmt(&s, "%s/%s", dir, e->d_name);
				paths[n++] = sb_steal(&s);
			}
		}
		closedir(d);
	}
	qsort(paths, n, sizeof(char *), cmp_str);
	free(dir);
	return n;
}

int
mig_ruleset_load_given_or_defaults(mig_ruleset *rs, const char *const *files, size_t n,
				   mig_diags *diags, void (*each)(void *ctx, const char *path),
				   void *ctx, char *failed, size_t failedlen)
{
	char *defaults[32];
	size_t ndef = 0;
	int rc = 0;

	if (failedlen)
		failed[0] = '\0';
	if (!n) {
		ndef = mig_rules_default_paths(defaults, 32);
		if (!ndef)
			return -2;
		files = (const char *const *)defaults;
		n = ndef;
	}
	for (size_t i = 0; i < n && !rc; i++) {
		if (each)
			each(ctx, files[i]);
		if (mig_ruleset_load(rs, files[i], diags) < 0) {
			snprintf(failed, failedlen, "%s", files[i]);
			rc = -1;
		}
	}
	for (size_t i = 0; i < ndef; i++)
		free(defaults[i]);
	return rc;
}
