/*
 * libFuzzer target: a self-relative security descriptor, as a store carries
 * it and restore maps and inherits it (fmt_sd_rewrite, fmt_sd_inherit).
 *
 * What must hold beyond "no crash": a refusal comes with a sentence; a
 * checked copy checks again to the same bytes; a copy with SIDs mapped (some
 * grow, some shrink) is accepted only when the plain check is, and checks
 * again; inheriting works exactly when the parent checks, for a file and a
 * folder, with the parent's owner or a given one, and what it makes checks.
 */
#include "tests/fuzz/fuzz_common.h"

#include "formats/formats.h"

/* Map every SID with an odd last sub-authority to a 15-sub-authority SID and
 * every other one with sub-authorities to S-1-5-18: lengths change both ways. */
static const uint8_t *
map_sid(const uint8_t *sid, size_t len, size_t *new_len, void *ctx)
{
	static uint8_t longest[FMT_SID_MAX], system_sid[12];
	(void)ctx;
	if (len < 12)
		return NULL;
	if (!longest[0]) {
		longest[0] = 1;
		longest[1] = FMT_SID_MAX_SUBS;
		longest[7] = 5;
		for (int i = 0; i < FMT_SID_MAX_SUBS; i++)
			fmt_put_le32(longest + 8 + 4 * i, 1000u + (uint32_t)i);
		if (fmt_sid_from_string("S-1-5-18", system_sid, sizeof(system_sid), NULL) < 0)
			abort();
	}
	if (fmt_le32(sid + len - 4) & 1) {
		*new_len = sizeof(longest);
		return longest;
	}
	*new_len = sizeof(system_sid);
	return system_sid;
}

static void
must_check_again(const uint8_t *sd, size_t len, bool same)
{
	uint8_t *again;
	size_t again_len;
	char err[256] = "";
	if (fmt_sd_rewrite(sd, len, NULL, NULL, &again, &again_len, err, sizeof(err)) != 0)
		abort();
	if (same && (again_len != len || memcmp(again, sd, len)))
		abort();
	free(again);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *sd;
	if (!fz_copy(data, size, &sd))
		return 0;

	uint8_t *plain = NULL, *mapped = NULL;
	size_t plain_len = 0, mapped_len = 0;
	char err[256] = "";
	int ok = fmt_sd_rewrite(sd, size, NULL, NULL, &plain, &plain_len, err, sizeof(err));
	if (ok != 0 && (!err[0] || plain))
		abort();
	if (ok == 0)
		must_check_again(plain, plain_len, true);

	err[0] = '\0';
	int mok = fmt_sd_rewrite(sd, size, map_sid, NULL, &mapped, &mapped_len, err, sizeof(err));
	if (mok != 0 && !err[0])
		abort();
	if (mok == 0) {
		if (ok != 0)
			abort();
		must_check_again(mapped, mapped_len, false);
	}

	static const char *const owners[] = { NULL, "S-1-5-21-1-2-3-1001" };
	for (int dir = 0; dir < 2; dir++) {
		for (int o = 0; o < 2; o++) {
			uint8_t *child;
			size_t child_len;
			int iok = fmt_sd_inherit(sd, size, owners[o], dir, &child, &child_len);
			if ((iok == 0) != (ok == 0))
				abort();
			if (iok == 0) {
				must_check_again(child, child_len, true);
				free(child);
			}
		}
	}
	free(plain);
	free(mapped);
	free(sd);
	return 0;
}
