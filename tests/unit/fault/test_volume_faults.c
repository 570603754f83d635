/*
 * Faults while reading the source volume (ntfs/volume.c's window device is
 * where every libntfs-3g read of the image lands): each pread of a read-only
 * open + lookup + read of a file is failed in turn with EIO, then every read
 * is made short.  What must hold: a failure is an error with a sentence, a
 * success returns exactly the bytes a clean read returns, and a read-only
 * open never writes to the image at all.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ntfs/ntfs.h"
#include "tests/unit/fault/inject.h"

static const char *
volume_image(void)
{
	static char p[4096];
	const char *fx = getenv("WS_FIXTURES");
	if (!fx || snprintf(p, sizeof(p), "%s/volume.img", fx) >= (int)sizeof(p) ||
	    access(p, R_OK) != 0)
		return NULL;
	return p;
}

#define NEED_VOLUME()                                                                     \
	const char *img = volume_image();                                                 \
	if (!img)                                                                          \
		cr_assert_fail("WS_FIXTURES/volume.img not found (make fixtures, and run through " \
			     "tests/run.sh)")

/* Open read-only, find the SOFTWARE hive and read it whole. */
static enum nv_status
read_software(const char *img, uint8_t **data, size_t *len)
{
	struct nv_volume *v = NULL;
	struct nv_reader *r = NULL;
	uint64_t mref;
	enum nv_status st;

	*data = NULL;
	*len = 0;
	if ((st = nv_open(img, NULL, &v)))
		return st;
	if ((st = nv_lookup(v, "Windows/System32/config/SOFTWARE", &mref)) ||
	    (st = nv_reader_open(v, mref, NULL, &r)))
		goto out;
	uint64_t size = nv_reader_size(r);
	*data = malloc(size ? size : 1);
	cr_assert(*data);
	size_t got = 0;
	st = nv_reader_pread(r, *data, size, 0, &got);
	if (st == NV_OK && got != size)
		st = NV_ERR_IO;
	*len = got;
out:
	if (r)
		nv_reader_close(r);
	enum nv_status cst = nv_close(v);
	return st ? st : cst;
}

Test(volume_faults, read_errors_are_reported, .timeout = 600)
{
	NEED_VOLUME();
	uint8_t *ref, *data;
	size_t ref_len, len;

	fault_count();
	cr_assert_eq(read_software(img, &ref, &ref_len), NV_OK, "%s", nv_last_error());
	unsigned long calls = fault_calls(FAULT_READ), writes = fault_calls(FAULT_WRITE);
	fault_reset();
	cr_assert_gt(calls, 0);
	cr_assert_gt(ref_len, 0);
	/* Read-only means not one write or sync reaches the image. */
	cr_expect_eq(writes, 0, "a read-only open wrote %lu times", writes);

	unsigned long step = calls > 300 ? calls / 300 : 1, tried = 0, failed = 0, absorbed = 0;
	for (unsigned long n = 1; n <= calls; n += step) {
		fault_arm(FAULT_READ, n, EIO, false);
		enum nv_status st = read_software(img, &data, &len);
		bool fired = fault_fired();
		fault_reset();
		tried++;
		if (st == NV_OK) {
			cr_assert(len == ref_len && !memcmp(data, ref, len),
				  "read %lu failed with EIO but the file read back different bytes", n);
			absorbed++;
		} else {
			cr_assert(fired);
			cr_assert(strlen(nv_last_error()) > 10, "read %lu: no sentence", n);
			failed++;
		}
		free(data);
	}
	printf("fault: source volume, read Input/output error: %lu reads, %lu points tried, "
	       "%lu reported, %lu absorbed (libntfs-3g retries or does not need the data)\n",
	       calls, tried, failed, absorbed);
	fflush(stdout);
	free(ref);
}

Test(volume_faults, short_reads_are_completed, .timeout = 120)
{
	NEED_VOLUME();
	uint8_t *ref, *data;
	size_t ref_len, len;

	cr_assert_eq(read_software(img, &ref, &ref_len), NV_OK, "%s", nv_last_error());
	fault_count();
	fault_short_io(true);
	enum nv_status st = read_software(img, &data, &len);
	fault_reset();
	cr_assert_eq(st, NV_OK, "%s", nv_last_error());
	cr_assert(len == ref_len && !memcmp(data, ref, len));
	free(data);
	free(ref);
}
