/*
 * Faults while writing and reading stores: every write, sync, rename and
 * allocation of a small store capture is failed in turn (ENOSPC, EIO,
 * ENOMEM), and every read of a store being restored.  What must hold each
 * time: the failure is reported with a sentence, no store claims to be
 * complete unless it is (st_reader_open says incomplete or damaged), what
 * reads back successfully is the data that was written, and nothing crashes
 * (this binary also runs under ASan/UBSan in `make check`).
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/store.h"
#include "tests/fuzz/fuzz_common.h"
#include "tests/fuzz/store_fixture.h"
#include "tests/unit/fault/inject.h"

/* A store big enough for several frames (pack frames take 1 MiB of input). */
#define BIG (1536u * 1024u)

static char top[PATH_MAX];
static unsigned trial;

static void
setup(void)
{
	if (snprintf(top, sizeof(top), "%s", fz_path("faults")) >= (int)sizeof(top))
		abort();
	cr_assert_eq(mkdir(top, 0700), 0);
	trial = 0;
}

static void
teardown(void)
{
	fault_reset();
	fz_cleanup();
}

TestSuite(store_faults, .init = setup, .fini = teardown, .timeout = 300);

static const char *
next_store(void)
{
	static char p[PATH_MAX];
	if (snprintf(p, sizeof(p), "%s/store%u", top, trial++) >= (int)sizeof(p))
		abort();
	return p;
}

/* Everything a reader can get out of a store: each stream's bytes, in order. */
struct content {
	uint8_t *p;
	size_t len, cap;
};

static int
collect(const void *buf, size_t len, void *ctx)
{
	struct content *c = ctx;
	if (c->cap - c->len < len) {
		size_t cap = (c->len + len) * 2;
		uint8_t *q = realloc(c->p, cap);
		if (!q)
			return ST_ERR_NOMEM;
		c->p = q;
		c->cap = cap;
	}
	memcpy(c->p + c->len, buf, len);
	c->len += len;
	return 0;
}

/* Open, read everything and verify; ST_OK only if all of it worked. */
static enum st_status
read_store(const char *path, const struct st_key *key, struct content *out)
{
	struct st_reader *r = NULL;
	enum st_status st = st_reader_open(path, key, &r);
	if (st)
		return st;
	for (size_t i = 0; i < st_reader_file_count(r) && !st; i++) {
		const struct st_file *f = st_reader_file(r, i);
		for (size_t s = 0; s < f->stream_count && !st; s++)
			st = st_reader_read(r, i, s, collect, out);
	}
	struct st_verify_result vr;
	if (!st)
		st = st_reader_verify(r, NULL, NULL, &vr);
	st_reader_close(r);
	return st;
}

static struct content
reference(enum st_format format, const struct st_key *key)
{
	const char *p = next_store();
	struct content c = { 0 };
	cr_assert_eq(fz_make_store(p, format, key, BIG), ST_OK, "%s", st_last_error());
	cr_assert_eq(read_store(p, key, &c), ST_OK, "%s", st_last_error());
	fz_rmtree(p);
	return c;
}

struct tally {
	unsigned long points, reported, complete_after_rename, absorbed;
	unsigned long incomplete, corrupt, other;
};

/*
 * Fail call @n of @kind while writing the fixture store, then check the
 * promises.  @want_text: a word the error must contain (NULL: any sentence).
 */
static void
write_trial(enum st_format format, const struct st_key *key, enum fault_kind kind, unsigned long n,
	    int err, bool sticky, const char *want_text, const struct content *ref,
	    struct tally *t)
{
	const char *p = next_store();
	fault_arm(kind, n, err, sticky);
	enum st_status st = fz_make_store(p, format, key, BIG);
	bool fired = fault_fired();
	unsigned long renames = fault_renames_before();
	fault_reset();
	t->points++;
	char why[1024];
	snprintf(why, sizeof(why), "%s", st_last_error());

	struct content c = { 0 };
	enum st_status rs = read_store(p, key, &c);
	if (st == ST_OK) {
		/* The fault was absorbed (a retried short write, an optional cache):
		 * then the store must be whole and right. */
		cr_assert_eq(rs, ST_OK, "%s fault %lu: capture said done but the store reads as: %s",
			     fault_kind_name(kind), n, st_last_error());
		cr_assert(c.len == ref->len && !memcmp(c.p, ref->p, c.len),
			  "%s fault %lu: capture said done but the data differs", fault_kind_name(kind), n);
		t->absorbed++;
	} else {
		t->reported++;
		cr_assert(fired, "%s fault %lu: failed (%s) without the fault firing",
			  fault_kind_name(kind), n, why);
		cr_assert(strlen(why) > 10 && strcmp(why, "no error"),
			  "%s fault %lu: no sentence for the failure", fault_kind_name(kind), n);
		if (want_text)
			cr_assert(strstr(why, want_text), "%s fault %lu: \"%s\" does not say \"%s\"",
				  fault_kind_name(kind), n, why, want_text);
		/* Only a failure after the final rename (syncing the folder) may
		 * leave a store that reads as complete — and then it must be right. */
		unsigned long final_renames = format == ST_FORMAT_COMPRESSED ? 2 : 2;
		if (rs == ST_OK) {
			cr_assert(renames >= final_renames,
				  "%s fault %lu: capture failed (%s) but the store reads as complete",
				  fault_kind_name(kind), n, why);
			cr_assert(c.len == ref->len && !memcmp(c.p, ref->p, c.len));
			t->complete_after_rename++;
		} else if (rs == ST_ERR_INCOMPLETE) {
			t->incomplete++;
		} else if (rs == ST_ERR_CORRUPT) {
			t->corrupt++;
		} else {
			t->other++;
		}
	}
	free(c.p);
	fz_rmtree(p);
}

static unsigned long
count_calls(enum st_format format, const struct st_key *key, enum fault_kind kind)
{
	const char *p = next_store();
	fault_count();
	enum st_status st = fz_make_store(p, format, key, BIG);
	unsigned long n = fault_calls(kind);
	fault_reset();
	cr_assert_eq(st, ST_OK, "%s", st_last_error());
	fz_rmtree(p);
	return n;
}

static void
write_faults(enum st_format format, const struct st_key *key, const char *label)
{
	static const struct {
		enum fault_kind kind;
		int err;
		bool sticky;
		const char *text;
	} plans[] = {
		{ FAULT_WRITE, ENOSPC, true, "No space left on device" },
		{ FAULT_WRITE, EIO, false, "Input/output error" },
		{ FAULT_SYNC, EIO, false, "Input/output error" },
		{ FAULT_RENAME, EIO, false, NULL },
		{ FAULT_ALLOC, ENOMEM, false, NULL },
	};
	struct content ref = reference(format, key);
	unsigned long total = 0;
	for (size_t i = 0; i < sizeof(plans) / sizeof(plans[0]); i++) {
		unsigned long calls = count_calls(format, key, plans[i].kind);
		struct tally t = { 0 };
		cr_assert_gt(calls, 0, "no %s call counted: is the binary linked with --wrap?",
			     fault_kind_name(plans[i].kind));
		for (unsigned long n = 1; n <= calls; n++)
			write_trial(format, key, plans[i].kind, n, plans[i].err, plans[i].sticky,
				    plans[i].text, &ref, &t);
		total += t.points;
		/* The figures for docs/reliability.md. */
		printf("fault: %s store, %s %s: %lu points, %lu reported (%lu incomplete, %lu "
		       "damaged, %lu other, %lu complete after the final rename), %lu absorbed\n",
		       label, fault_kind_name(plans[i].kind), strerror(plans[i].err), t.points,
		       t.reported, t.incomplete, t.corrupt, t.other, t.complete_after_rename,
		       t.absorbed);
	}
	printf("fault: %s store: %lu fault points tried while writing\n", label, total);
	fflush(stdout);
	free(ref.p);
}

Test(store_faults, compressed_store_write)
{
	write_faults(ST_FORMAT_COMPRESSED, NULL, "compressed");
}

Test(store_faults, encrypted_store_write)
{
	struct st_key key;
	fz_store_key(&key);
	write_faults(ST_FORMAT_COMPRESSED, &key, "encrypted");
}

Test(store_faults, directory_store_write)
{
	write_faults(ST_FORMAT_DIRECTORY, NULL, "directory");
}

/* Writes that move half the bytes each time are retried, not mistaken for
 * errors or silently dropped. */
Test(store_faults, short_writes_are_completed)
{
	struct content ref = reference(ST_FORMAT_COMPRESSED, NULL), c = { 0 };
	const char *p = next_store();
	fault_count();
	fault_short_io(true);
	enum st_status st = fz_make_store(p, ST_FORMAT_COMPRESSED, NULL, BIG);
	fault_reset();
	cr_assert_eq(st, ST_OK, "%s", st_last_error());
	cr_assert_eq(read_store(p, NULL, &c), ST_OK, "%s", st_last_error());
	cr_assert(c.len == ref.len && !memcmp(c.p, ref.p, c.len));
	free(c.p);
	free(ref.p);
}

static void
read_faults(enum st_format format, enum fault_kind kind, int err, const char *label)
{
	struct content ref = reference(format, NULL);
	const char *p = next_store();
	cr_assert_eq(fz_make_store(p, format, NULL, BIG), ST_OK, "%s", st_last_error());
	struct content c = { 0 };
	fault_count();
	cr_assert_eq(read_store(p, NULL, &c), ST_OK, "%s", st_last_error());
	unsigned long calls = fault_calls(kind);
	fault_reset();
	free(c.p);
	cr_assert_gt(calls, 0);
	unsigned long failed = 0, absorbed = 0;
	for (unsigned long n = 1; n <= calls; n++) {
		c = (struct content){ 0 };
		fault_arm(kind, n, err, false);
		enum st_status st = read_store(p, NULL, &c);
		fault_reset();
		if (st == ST_OK) {
			cr_assert(c.len == ref.len && !memcmp(c.p, ref.p, c.len),
				  "%s fault %lu: read said done but the data differs",
				  fault_kind_name(kind), n);
			absorbed++;
		} else {
			cr_assert(strlen(st_last_error()) > 10, "%s fault %lu: no sentence",
				  fault_kind_name(kind), n);
			failed++;
		}
		free(c.p);
	}
	printf("fault: reading a %s store, %s %s: %lu points, %lu reported, %lu absorbed\n",
	       label, fault_kind_name(kind), strerror(err), calls, failed, absorbed);
	fflush(stdout);
	free(ref.p);
}

Test(store_faults, compressed_store_read_eio)
{
	read_faults(ST_FORMAT_COMPRESSED, FAULT_READ, EIO, "compressed");
}

Test(store_faults, compressed_store_read_nomem)
{
	read_faults(ST_FORMAT_COMPRESSED, FAULT_ALLOC, ENOMEM, "compressed");
}

Test(store_faults, directory_store_read_eio)
{
	read_faults(ST_FORMAT_DIRECTORY, FAULT_READ, EIO, "directory");
}

Test(store_faults, directory_store_read_nomem)
{
	read_faults(ST_FORMAT_DIRECTORY, FAULT_ALLOC, ENOMEM, "directory");
}

Test(store_faults, short_reads_are_completed)
{
	struct content ref = reference(ST_FORMAT_COMPRESSED, NULL), c = { 0 };
	const char *p = next_store();
	cr_assert_eq(fz_make_store(p, ST_FORMAT_COMPRESSED, NULL, BIG), ST_OK);
	fault_count();
	fault_short_io(true);
	enum st_status st = read_store(p, NULL, &c);
	fault_reset();
	cr_assert_eq(st, ST_OK, "%s", st_last_error());
	cr_assert(c.len == ref.len && !memcmp(c.p, ref.p, c.len));
	free(c.p);
	free(ref.p);
}
