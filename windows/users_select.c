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

#include "windows/windows.h"

#define FILETIME_UNIX_EPOCH 116444736000000000LL

int
win_parse_uel(const char *text, int64_t now, int64_t *cutoff, bool *latest_only)
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

/* A domain part made only of '*' also names users whose domain is unknown
 * offline (an orphan SID, a profile from another PC): USMT's "/ue:*\*" is
 * "everyone", and the "exclude all, include some" pattern must not let
 * anybody through unnamed. */
static bool
any_domain(const char *dom, size_t len)
{
	if (!len)
		return false;
	for (size_t i = 0; i < len; i++)
		if (dom[i] != '*')
			return false;
	return true;
}

bool
win_user_matches(const char *pattern, const char *sid, const char *name,
		  const char *const *domains, size_t ndomains)
{
	if (!pattern || !*pattern)
		return false;
	const char *bs = strchr(pattern, '\\');
	if (!bs)
		/* A plain name, or a SID pattern such as S-1-5-21-*-1001 or *-500. */
		return glob(pattern, sid) || glob(pattern, name);
	const char *user = bs + 1;
	if (!glob(user, name) && !glob(user, sid))
		return false;
	if (any_domain(pattern, (size_t)(bs - pattern)))
		return true;
	char *dom = strndup(pattern, (size_t)(bs - pattern));
	bool ok = false;
	for (size_t i = 0; dom && i < ndomains && !ok; i++)
		ok = glob(dom, domains[i]);
	free(dom);
	return ok;
}

const char *
win_user_pattern_problem(const char *pattern)
{
	if (!pattern || !*pattern)
		return "is empty: give DOMAIN\\user, COMPUTER\\user, a user name or a SID ('*' "
		       "wildcards allowed, *\\* for everyone)";
	const char *bs = strchr(pattern, '\\');
	if (bs == pattern)
		return "has no domain before the backslash: give DOMAIN\\user, or *\\user for any domain";
	if (bs && !bs[1])
		return "has no user after the backslash: give DOMAIN\\user, or DOMAIN\\* for all of "
		       "that domain's users";
	if (bs && strchr(bs + 1, '\\'))
		return "has more than one backslash: give DOMAIN\\user";
	return NULL;
}

bool
win_user_pick(bool in_ui, bool in_ue, bool have_uel, bool recent, const char **why)
{
	/* USMT: /ui wins over /ue and /uel; /uel wins over /ue (it is an include
	 * rule, and everyone it does not name is left out); /ue excludes. */
	if (in_ui) {
		*why = "included by --ui (it wins over --ue and --uel)";
		return true;
	}
	if (have_uel) {
		if (recent)
			*why = in_ue ? "used within the --uel limit (--uel wins over --ue)"
				     : "used within the --uel limit";
		else
			*why = "not used within the --uel limit";
		return recent;
	}
	if (in_ue) {
		*why = "excluded by --ue";
		return false;
	}
	*why = "all users";
	return true;
}
