/*
 * bench_rules: time compiling MigApp.xml + MigUser.xml + MigDocs.xml (parse,
 * check, build the user- and system-context matchers with every application
 * "installed") and deciding 1M realistic profile paths on one core.
 * Targets: compile <= 50 ms, >= 2M decisions/s.
 *
 *   bench_rules [USMT_XML_DIR] [N]      (default $WS_SHARED/usmt-xml, 1000000)
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "rules/rules.h"

static double
now(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static int
yes_file(void *o, const char *p, int *d)
{
	(void)o;
	if (d)
		*d = strrchr(p, '.') == NULL;
	return 1;
}

static int
yes_reg(void *o, const char *k, const char *v)
{
	(void)o;
	(void)k;
	(void)v;
	return 1;
}

static int
x64(void *o)
{
	(void)o;
	return 1;
}

static uint64_t rng = 88172645463325252ull;

static unsigned
rnd(unsigned n)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (unsigned)(rng % n);
}

static const char *const dirs[] = {
	"Documents", "Documents\\Projects\\2024", "Documents\\Scans", "Desktop", "Pictures\\Camera Roll",
	"Pictures\\2019\\Holiday", "Music\\Artist\\Album", "Videos", "Downloads", "Favorites\\Links",
	"OneDrive\\Documents", "OneDrive\\Pictures\\Screenshots", "Source\\repos\\app\\src",
	"AppData\\Local\\Microsoft\\Windows\\INetCache\\IE\\ABCD1234",
	"AppData\\Local\\Temp", "AppData\\Local\\Temp\\chocolatey",
	"AppData\\Local\\Google\\Chrome\\User Data\\Default",
	"AppData\\Local\\Google\\Chrome\\User Data\\Default\\Cache\\Cache_Data",
	"AppData\\Local\\Google\\Chrome\\User Data\\Default\\Code Cache\\js",
	"AppData\\Local\\Microsoft\\Edge\\User Data\\Default\\Extensions\\abc\\1.2_0",
	"AppData\\Roaming\\Microsoft\\Windows\\Start Menu\\Programs",
	"AppData\\Roaming\\Microsoft\\Templates", "AppData\\Roaming\\Microsoft\\Signatures",
	"AppData\\Roaming\\Mozilla\\Firefox\\Profiles\\x1y2.default-release",
	"AppData\\Roaming\\Code\\User", "AppData\\Local\\Packages\\Microsoft.Windows.Photos_8wekyb3d8bbwe\\LocalState",
	"AppData\\Roaming\\Microsoft\\Internet Explorer\\Quick Launch",
	"AppData\\Local\\Microsoft\\Outlook", "AppData\\Roaming\\Adobe\\Acrobat\\DC",
};
static const char *const names[] = {
	"report", "IMG_2034", "budget 2023", "notes", "index", "f_000a1b", "data", "Bookmarks",
	"Preferences", "setup", "thumbcache_256", "desktop", "main", "song", "clip", "letter",
};
static const char *const exts[] = {
	".docx", ".jpg", ".xlsx", ".txt", ".pdf", "", ".js", ".json", ".mp3", ".mp4", ".lnk",
	".tmp", ".db", ".ini", ".c", ".pst", ".png", ".zip", ".url", ".dat",
};
static const char *const regs[] = {
	"HKCU\\Software\\Microsoft\\Office\\16.0\\Word\\Options", "HKCU\\Control Panel\\Desktop",
	"HKCU\\Software\\Microsoft\\Windows\\CurrentVersion\\Explorer\\Advanced",
	"HKCU\\Software\\Google\\Chrome\\PreferenceMACs", "HKCU\\Network\\Z",
	"HKCU\\Software\\Adobe\\Acrobat Reader\\DC\\AVGeneral", "HKCU\\Software\\Classes\\.txt",
};

int
main(int argc, char **argv)
{
	char dir[4096];
	const char *sh = getenv("WS_SHARED");
	if (argc > 1)
		snprintf(dir, sizeof(dir), "%s", argv[1]);
	else
		snprintf(dir, sizeof(dir), "%s/usmt-xml", sh && *sh ? sh : "../shared");
	long n = argc > 2 ? atol(argv[2]) : 1000000;
	static const char *const files[] = { "MigApp.xml", "MigUser.xml", "MigDocs.xml" };
	struct mig_rules_host host = { .file_exists = yes_file, .reg_exists = yes_reg,
		.is_native_64bit = x64 };

	double best = 1e9;
	mig_matcher *mu = NULL, *ms = NULL;
	mig_ruleset *rs = NULL;
	for (int rep = 0; rep < 5; rep++) {
		mig_matcher_free(mu);
		mig_matcher_free(ms);
		mig_ruleset_free(rs);
		double t0 = now();
		rs = mig_ruleset_new();
		for (int i = 0; i < 3; i++) {
			char p[4200];
			snprintf(p, sizeof(p), "%s/%s", dir, files[i]);
			if (mig_ruleset_load(rs, p, NULL) < 0) {
				fprintf(stderr, "bench_rules: cannot load %s\n", p);
				return 3;
			}
		}
		mig_vars *v = mig_vars_new();
		mig_vars_default_user(v, "C:", "alice", NULL, NULL);
		mig_matcher_build(rs, NULL, MIG_CTX_USER, v, &host, 0, &mu, NULL);
		mig_matcher_build(rs, NULL, MIG_CTX_SYSTEM, v, &host, 0, &ms, NULL);
		mig_vars_free(v);
		double t = now() - t0;
		if (t < best)
			best = t;
	}
	printf("compile MigApp+MigUser+MigDocs: %.1f ms (best of 5; %zu user + %zu system patterns, "
		"%zu + %zu components)\n", best * 1e3, mig_matcher_pattern_count(mu),
		mig_matcher_pattern_count(ms), mig_matcher_component_count(mu),
		mig_matcher_component_count(ms));

	/* realistic objects: 85% files under the profile, 15% registry values */
	size_t nobj = 4096;
	char **node = malloc(nobj * sizeof(char *)), **leaf = malloc(nobj * sizeof(char *));
	int *type = malloc(nobj * sizeof(int));
	for (size_t i = 0; i < nobj; i++) {
		char b[1024];
		if (rnd(100) < 85) {
			snprintf(b, sizeof(b), "C:\\Users\\alice\\%s", dirs[rnd(sizeof(dirs) / sizeof(dirs[0]))]);
			node[i] = strdup(b);
			snprintf(b, sizeof(b), "%s%u%s", names[rnd(16)], rnd(1000), exts[rnd(20)]);
			leaf[i] = strdup(b);
			type[i] = MIG_OBJ_FILE;
		} else {
			node[i] = strdup(regs[rnd(sizeof(regs) / sizeof(regs[0]))]);
			snprintf(b, sizeof(b), "Value%u", rnd(50));
			leaf[i] = strdup(b);
			type[i] = MIG_OBJ_REGISTRY;
		}
	}
	size_t counts[4] = { 0 };
	double t0 = now();
	for (long i = 0; i < n; i++) {
		struct mig_decision d;
		size_t k = (size_t)i & (nobj - 1);
		mig_matcher_decide(mu, (enum mig_obj_type)type[k], node[k], leaf[k], &d);
		counts[d.outcome]++;
	}
	double t = now() - t0;
	printf("decide %ld objects (user context): %.3f s = %.2f M decisions/s "
		"(included %zu, excluded %zu, unconditionally excluded %zu, not selected %zu)\n",
		n, t, (double)n / t / 1e6, counts[MIG_INCLUDED], counts[MIG_EXCLUDED],
		counts[MIG_UNCOND_EXCLUDED], counts[MIG_NOT_SELECTED]);
	for (size_t i = 0; i < nobj; i++) {
		free(node[i]);
		free(leaf[i]);
	}
	free(node);
	free(leaf);
	free(type);
	mig_matcher_free(mu);
	mig_matcher_free(ms);
	mig_ruleset_free(rs);
	return 0;
}
