/*
 * USMT's user selection syntax: /ui and /ue patterns, /uel ages.
 */
#include <ctype.h>
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "agent/scan.h"

#define FILETIME_UNIX_EPOCH 116444736000000000LL

int
scan_parse_uel(const char *text, int64_t now, int64_t *cutoff, bool *latest_only)
{
	*latest_only = false;
	*cutoff = 0;
	if (!text || !*text)
		return -1;
	if (!strcmp(text, "0")) {
		*latest_only = true;
		return 0;
	}
	int y, m, d;
	char tail;
	if (sscanf(text, "%4d/%2d/%2d%c", &y, &m, &d, &tail) == 3) {
		if (y < 1601 || m < 1 || m > 12 || d < 1 || d > 31)
			return -1;
		struct tm tm = { .tm_year = y - 1900, .tm_mon = m - 1, .tm_mday = d };
		time_t t = timegm(&tm);
		*cutoff = (int64_t)t * 10000000LL + FILETIME_UNIX_EPOCH;
		return 0;
	}
	for (const char *c = text; *c; c++)
		if (!isdigit((unsigned char)*c))
			return -1;
	if (strlen(text) > 6)
		return -1;
	long days = strtol(text, NULL, 10);
	*cutoff = (now - (int64_t)days * 86400) * 10000000LL + FILETIME_UNIX_EPOCH;
	return 0;
}

static bool
glob(const char *pattern, const char *text)
{
	return text && fnmatch(pattern, text, FNM_CASEFOLD | FNM_NOESCAPE) == 0;
}

bool
scan_user_matches(const char *pattern, const char *sid, const char *name,
		  const char *const *domains, size_t ndomains)
{
	const char *bs = strchr(pattern, '\\');
	if (!bs)
		/* A plain name, or a SID pattern such as S-1-5-21-*-1001 or *-500. */
		return glob(pattern, sid) || glob(pattern, name);
	char *dom = strndup(pattern, (size_t)(bs - pattern));
	const char *user = bs + 1;
	bool ok = false;
	if (dom && (glob(user, name) || glob(user, sid)))
		for (size_t i = 0; i < ndomains && !ok; i++)
			ok = glob(dom, domains[i]);
	free(dom);
	return ok;
}
