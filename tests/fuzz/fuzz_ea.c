/*
 * libFuzzer target: an NTFS extended-attribute buffer ($EA value, as
 * nv_stat reads it from an untrusted volume and a store's catalog carries).
 *
 * What must hold beyond "no crash": nv_ea_check and a walk with nv_ea_next
 * agree (same verdict, same count); every entry lies inside the buffer with
 * a NUL after its name and its value before the next entry; the offsets
 * move forward, 4-byte aligned, and end exactly at the buffer's end; a
 * refusal comes with a sentence.
 */
#include "tests/fuzz/fuzz_common.h"

#include "ntfs/ntfs.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *buf;
	if (!fz_copy(data, size, &buf))
		return 0;
	size_t count = 0, walked = 0, off = 0;
	enum nv_status verdict = nv_ea_check(buf, size, &count);
	if (verdict != NV_OK && !nv_last_error()[0])
		abort();
	struct nv_ea ea;
	enum nv_status st;
	while ((st = nv_ea_next(buf, size, &off, &ea)) == NV_OK) {
		const uint8_t *name = (const uint8_t *)ea.name;
		if (name < buf || name + ea.name_len >= buf + size || name[ea.name_len] != 0 ||
		    ea.value < name + ea.name_len + 1 || ea.value + ea.value_len > buf + off ||
		    off > size || (off & 3) || ea.name_len == 0)
			abort();
		walked++;
	}
	if (st == NV_ERR_NOT_FOUND && off != size)
		abort();
	bool walk_ok = st == NV_ERR_NOT_FOUND && size > 0 && size <= NV_EA_MAX;
	if (walk_ok != (verdict == NV_OK) || (walk_ok && walked != count))
		abort();
	free(buf);
	return 0;
}
