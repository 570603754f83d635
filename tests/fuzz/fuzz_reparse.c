/*
 * libFuzzer target: a junction or folder-symlink reparse buffer, as a store
 * carries it and restore moves its target into a renamed profile
 * (fmt_junction_parse, fmt_junction_rewrite).
 *
 * What must hold beyond "no crash": a refusal comes with a sentence; rewrite
 * refuses exactly what parse refuses (or a result over 16 KiB); a rewritten
 * buffer parses, keeps its tag and flags, points below the new prefix, and
 * rewritten back points where the original did.
 */
#include <strings.h>

#include "tests/fuzz/fuzz_common.h"

#include "formats/formats.h"

#define OLD_PREFIX "C:\\Users\\alice"
#define NEW_PREFIX "C:\\Users\\alice.CONTOSO-0001"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *buf;
	if (!fz_copy(data, size, &buf))
		return 0;

	struct fmt_junction_target t;
	char why[256] = "";
	int ok = fmt_junction_parse(buf, size, &t, why, sizeof(why));
	if (ok != 0 && !why[0])
		abort();
	if (ok == 0 && (!t.substitute || !t.print ||
			(t.tag != FMT_TAG_MOUNT_POINT && t.tag != FMT_TAG_SYMLINK)))
		abort();

	uint8_t *moved = NULL;
	size_t moved_len = 0;
	why[0] = '\0';
	int r = fmt_junction_rewrite(buf, size, OLD_PREFIX, NEW_PREFIX, &moved, &moved_len, why,
				     sizeof(why));
	if ((r < 0) != (ok != 0) && !(r < 0 && strstr(why, "more than")))
		abort();
	if (r < 0 && !why[0])
		abort();
	if (r == 0 && moved)
		abort();
	if (r == 1) {
		struct fmt_junction_target m;
		if (fmt_junction_parse(moved, moved_len, &m, why, sizeof(why)) != 0)
			abort();
		if (m.tag != t.tag || m.flags != t.flags ||
		    strncasecmp(fmt_junction_path(&m), NEW_PREFIX, strlen(NEW_PREFIX)))
			abort();
		uint8_t *back = NULL;
		size_t back_len = 0;
		if (fmt_junction_rewrite(moved, moved_len, NEW_PREFIX, OLD_PREFIX, &back, &back_len,
					 why, sizeof(why)) != 1)
			abort();
		struct fmt_junction_target b;
		if (fmt_junction_parse(back, back_len, &b, why, sizeof(why)) != 0 ||
		    strcasecmp(b.substitute, t.substitute))
			abort();
		fmt_junction_target_free(&b);
		fmt_junction_target_free(&m);
		free(back);
	}
	if (ok == 0)
		fmt_junction_target_free(&t);
	free(moved);
	free(buf);
	return 0;
}
