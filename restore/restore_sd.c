/*
 * What restore decides about security descriptors and names; parsing,
 * rewriting and inheriting descriptors is formats/ (fmt_sd_*).  Kept here
 * because they are restore's policy, not the structures': the ACL a profile
 * root gets when restore creates the profile, and how a copy kept beside an
 * existing file is named (USMT's "name(1).ext").
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "formats/formats.h"
#include "restore/restore.h"

int
restore_sd_profile_root(const char *user_sid, uint8_t **out, size_t *out_len)
{
	uint8_t user[FMT_SID_MAX], sys[FMT_SID_MAX], admins[FMT_SID_MAX];
	*out = NULL;
	if (fmt_sid_from_string(user_sid, user, sizeof(user), NULL) < 0 ||
	    fmt_sid_from_string("S-1-5-18", sys, sizeof(sys), NULL) < 0 ||
	    fmt_sid_from_string("S-1-5-32-544", admins, sizeof(admins), NULL) < 0)
		return -1;
	const uint8_t inherit = FMT_ACE_OBJECT_INHERIT | FMT_ACE_CONTAINER_INHERIT;
	const struct fmt_sd_allow aces[] = {
		{ inherit, 0x001F01FF, sys },           /* FILE_ALL_ACCESS */
		{ inherit, 0x001F01FF, admins },
		{ inherit, 0x001F01FF, user },
	};
	return fmt_sd_build(FMT_SE_DACL_PROTECTED | FMT_SE_DACL_AUTO_INHERITED, user, sys, aces,
			    sizeof(aces) / sizeof(aces[0]), out, out_len);
}

#define NTFS_NAME_UNITS 255

char *
restore_conflict_name(const char *name, unsigned n)
{
	const char *dot = strrchr(name, '.');
	char tag[16];
	int tl = snprintf(tag, sizeof(tag), "(%u)", n);
	if (!dot || dot == name || fmt_utf16_units(dot, strlen(dot)) + (size_t)tl >= NTFS_NAME_UNITS)
		dot = name + strlen(name);
	/* A name near NTFS's 255 units loses characters at the end of its stem
	 * (never half of one) so that the copy's name still fits. */
	size_t stem = (size_t)(dot - name), ext = fmt_utf16_units(dot, strlen(dot));
	while (stem > 0 && fmt_utf16_units(name, stem) + (size_t)tl + ext > NTFS_NAME_UNITS) {
		stem--;
		while (stem > 0 && ((unsigned char)name[stem] & 0xC0) == 0x80)
			stem--;
	}
	size_t need = strlen(name) + 16;
	char *out = malloc(need);
	if (out)
		snprintf(out, need, "%.*s%s%s", (int)stem, name, tag, dot);
	return out;
}
