/*
 * A hard-link store on a small NTFS volume, for the hard-link catalog fuzzer
 * and its seed: mkntfs makes an 8 MiB image (the ntfs-3g package's tool, not
 * winstate's code), winstate's ntfs/ puts alice's files on it, and the
 * store writer links them into MigStore (st_writer, ST_FORMAT_HARDLINK).  The
 * volume stays open read-write: the fuzzer rewrites MigStore/catalog on it.
 */
#ifndef WINSTATE_TESTS_FUZZ_LINKSTORE_FIXTURE_H
#define WINSTATE_TESTS_FUZZ_LINKSTORE_FIXTURE_H

#include "ntfs/ntfs.h"
#include "tests/fuzz/fuzz_common.h"
#include "tests/fuzz/store_fixture.h"

static inline enum nv_status
fz_put_ntfs_file(struct nv_volume *v, uint64_t parent, const char *name, const char *text,
		 uint64_t *mref)
{
	enum nv_status st = nv_create(v, parent, name, mref);
	if (!st && text && *text)
		st = nv_write(v, *mref, NULL, 0, text, strlen(text));
	return st;
}

/* Make @img and the store; returns the volume (open read-write) or NULL. */
static inline struct nv_volume *
fz_make_linkstore(const char *img)
{
	char cmd[PATH_MAX + 128];
	int fd = open(img, O_CREAT | O_TRUNC | O_WRONLY, 0600);
	if (fd < 0 || ftruncate(fd, 8 << 20) != 0 || close(fd) != 0)
		return NULL;
	snprintf(cmd, sizeof(cmd), "mkntfs -q -F -f -L fuzz '%s' >/dev/null 2>&1", img);
	if (system(cmd) != 0) {
		fprintf(stderr, "fuzz: mkntfs (ntfs-3g) failed or is missing\n");
		return NULL;
	}
	struct nv_open_options o = { .read_write = true };
	struct nv_volume *v = NULL;
	uint64_t users, alice, docs, a, b, e;
	if (nv_open(img, &o, &v) || nv_mkdir(v, NV_MREF_ROOT, "Users", &users) ||
	    nv_mkdir(v, users, "alice", &alice) || nv_mkdir(v, alice, "Documents", &docs) ||
	    fz_put_ntfs_file(v, docs, "a.txt", "winstate fuzz fixture: some text\n", &a) ||
	    nv_add_stream(v, a, "Zone.Identifier") ||
	    nv_write(v, a, "Zone.Identifier", 0, "[ZoneTransfer]\r\nZoneId=3\r\n", 26) ||
	    fz_put_ntfs_file(v, alice, "empty.txt", NULL, &e) ||
	    fz_put_ntfs_file(v, docs, "b.txt", "another file\n", &b)) {
		fprintf(stderr, "fuzz: cannot make the hard-link fixture: %s\n", nv_last_error());
		nv_close(v);
		return NULL;
	}
	struct st_create_options so = {
		.format = ST_FORMAT_HARDLINK, .path = "MigStore", .volume = v,
		.computer = "FUZZPC", .windows_version = "10.0.19045", .winstate_version = "fuzz",
		.start_time = 1700000000,
	};
	struct st_writer *w = NULL;
	struct st_user u = { "S-1-5-21-1111111111-2222222222-3333333333-1001", "alice",
			     "Users/alice", NULL, 0 };
	enum st_status st = st_writer_create(&so, &w);
	if (!st && !(st = st_writer_add_user(w, &u)) &&
	    !(st = fz_add_file(w, "Users/alice/Documents/a.txt", a, NULL, 0, NULL, NULL)) &&
	    !(st = fz_add_file(w, "Users/alice/Documents/b.txt", b, NULL, 0, NULL, NULL)) &&
	    !(st = fz_add_file(w, "Users/alice/empty.txt", e, NULL, 0, NULL, NULL)))
		st = st_writer_finish(w, 1700000100);
	else if (w)
		st_writer_abort(w);
	if (st) {
		fprintf(stderr, "fuzz: cannot write the hard-link store: %s\n", st_last_error());
		nv_close(v);
		return NULL;
	}
	return v;
}

#endif
