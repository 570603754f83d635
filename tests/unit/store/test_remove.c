/*
 * Removing stores: a local store folder goes whole, a folder that is not a
 * store or holds a stranger is refused untouched; a hard-link store on NTFS
 * loses only its own names, and a file whose only name is the store's stays
 * unless forced.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "store/store.h"
#include "tests/unit/store/helpers.h"

Test(store_remove, local_store_goes_whole)
{
	char *dir = scratch_dir();
	cr_assert_eq(sh("cd '%s' && mkdir -p s/USMT/File/C$/Users && printf x > s/USMT/File/C$/Users/a "
			"&& printf c > s/catalog && printf '{}' > s/report.json && printf l > s/scan.log",
			dir), 0);
	char store[4200];
	snprintf(store, sizeof(store), "%s/s", dir);
	struct st_removal r;
	cr_assert_eq(st_remove_local_store(store, &r), ST_OK, "%s", st_last_error());
	cr_assert(r.is_store);
	cr_assert_neq(sh("test -e '%s'", store), 0, "the store folder is still there");
	st_removal_free(&r);
	scratch_done(dir);
}

Test(store_remove, local_refusals_remove_nothing)
{
	char *dir = scratch_dir();
	char plain[4200], mixed[4200];
	snprintf(plain, sizeof(plain), "%s/plain", dir);
	snprintf(mixed, sizeof(mixed), "%s/mixed", dir);
	cr_assert_eq(sh("cd '%s' && mkdir -p plain/docs mixed/USMT && printf x > plain/docs/a.txt && "
			"printf y > mixed/precious.doc", dir), 0);
	struct st_removal r;
	cr_assert_eq(st_remove_local_store(plain, &r), ST_ERR_NOT_FOUND);
	cr_assert_not(r.is_store);
	cr_assert(strstr(st_last_error(), "no USMT folder"), "%s", st_last_error());
	cr_assert(strstr(st_last_error(), "nothing was removed"), "%s", st_last_error());
	st_removal_free(&r);
	cr_assert_eq(sh("test -f '%s/docs/a.txt'", plain), 0);

	cr_assert_eq(st_remove_local_store(mixed, &r), ST_ERR_REFUSED);
	cr_assert(r.is_store);
	cr_assert(strstr(st_last_error(), "precious.doc is not part of a store"), "%s",
		  st_last_error());
	st_removal_free(&r);
	cr_assert_eq(sh("test -f '%s/precious.doc' && test -d '%s/USMT'", mixed, mixed), 0);
	scratch_done(dir);
}

/* ---------------------------------------------------- hard-link stores -- */

static char *dir, img[4200], mnt[4200];

static void
setup(void)
{
	dir = scratch_dir();
	snprintf(img, sizeof(img), "%s/vol.img", dir);
	snprintf(mnt, sizeof(mnt), "%s/mnt", dir);
	if (sh("command -v mkntfs >/dev/null && command -v ntfs-3g >/dev/null") != 0)
		cr_skip_test("mkntfs or ntfs-3g is missing");
	cr_assert_eq(sh("truncate -s 32M '%s' && mkntfs -q -F -f '%s' >/dev/null 2>&1", img, img), 0);
	cr_assert_eq(sh("mkdir -p '%s' && ntfs-3g '%s' '%s'", mnt, img, mnt), 0,
		     "ntfs-3g could not mount the image (is /dev/fuse there?)");
	cr_assert_eq(sh("cd '%s' && mkdir -p Users/alice/Documents && printf a > Users/alice/Documents/a.txt "
			"&& printf b > Users/alice/Documents/b.txt", mnt), 0);
	cr_assert_eq(sh("umount '%s'", mnt), 0);
}

static void
teardown(void)
{
	scratch_done(dir);
}

/* A hard-link store MigStore holding a.txt and b.txt (linked, not copied). */
static struct nv_volume *
make_store(void)
{
	struct nv_volume *vol;
	struct nv_open_options rw = { .read_write = true };
	cr_assert_eq(nv_open(img, &rw, &vol), NV_OK, "%s", nv_last_error());
	struct st_create_options o = { .format = ST_FORMAT_HARDLINK, .path = "MigStore",
				       .volume = vol, .computer = "PC" };
	struct st_writer *w;
	cr_assert_eq(st_writer_create(&o, &w), ST_OK, "%s", st_last_error());
	static const char *const files[] = { "Users/alice/Documents/a.txt",
					     "Users/alice/Documents/b.txt" };
	for (int i = 0; i < 2; i++) {
		uint64_t m;
		cr_assert_eq(nv_lookup(vol, files[i], &m), NV_OK, "%s", nv_last_error());
		struct st_file f = test_file(files[i], m);
		bool need = true;
		cr_assert_eq(st_writer_begin_file(w, &f, &need), ST_OK, "%s", st_last_error());
		cr_assert_eq(st_writer_end_file(w), ST_OK, "%s", st_last_error());
	}
	cr_assert_eq(st_writer_put_file(w, "report.json", "{}", 2), ST_OK, "%s", st_last_error());
	cr_assert_eq(st_writer_finish(w, 0), ST_OK, "%s", st_last_error());
	return vol;
}

static bool
exists(struct nv_volume *vol, const char *path)
{
	uint64_t m;
	return nv_lookup(vol, path, &m) == NV_OK;
}

TestSuite(store_remove_volume, .init = setup, .fini = teardown, .timeout = 120);

Test(store_remove_volume, only_the_stores_names_go)
{
	struct nv_volume *vol = make_store();
	struct st_removal r;
	cr_assert_eq(st_remove_volume_store(vol, "MigStore", false, &r), ST_OK, "%s", st_last_error());
	cr_assert(r.is_store);
	cr_assert_gt(r.names, 2);
	cr_assert_eq(r.only_copy_count, 0);
	st_removal_free(&r);
	cr_assert_not(exists(vol, "MigStore"));
	cr_assert(exists(vol, "Users/alice/Documents/a.txt"));
	cr_assert(exists(vol, "Users/alice/Documents/b.txt"));
	nv_close(vol);
}

Test(store_remove_volume, refusals_remove_nothing)
{
	struct nv_volume *vol = make_store();
	struct st_removal r;
	/* Not a store. */
	cr_assert_neq(st_remove_volume_store(vol, "Users", false, &r), ST_OK);
	cr_assert_not(r.is_store);
	cr_assert(strstr(st_last_error(), "does not look like a winstate store"), "%s",
		  st_last_error());
	st_removal_free(&r);
	cr_assert(exists(vol, "Users/alice/Documents/a.txt"));

	/* b.txt's only name left is the store's: kept unless forced. */
	uint64_t docs;
	cr_assert_eq(nv_lookup(vol, "Users/alice/Documents", &docs), NV_OK);
	cr_assert_eq(nv_unlink(vol, docs, "b.txt"), NV_OK, "%s", nv_last_error());
	cr_assert_eq(st_remove_volume_store(vol, "MigStore", false, &r), ST_ERR_REFUSED);
	cr_assert(r.is_store);
	cr_assert_eq(r.only_copy_count, 1);
	cr_assert_str_eq(r.only_copies[0], "USMT/File/C$/Users/alice/Documents/b.txt");
	cr_assert(strstr(st_last_error(), "1 files exist only in the store"), "%s", st_last_error());
	st_removal_free(&r);
	cr_assert(exists(vol, "MigStore/USMT/File/C$/Users/alice/Documents/b.txt"));
	cr_assert(exists(vol, "MigStore/catalog"));

	/* A stranger in the store folder stops it, forced or not. */
	uint64_t store, m;
	cr_assert_eq(nv_lookup(vol, "MigStore", &store), NV_OK);
	cr_assert_eq(nv_lookup(vol, "Users/alice/Documents/a.txt", &m), NV_OK);
	cr_assert_eq(nv_link(vol, m, store, "stranger.doc"), NV_OK, "%s", nv_last_error());
	cr_assert_eq(st_remove_volume_store(vol, "MigStore", true, &r), ST_ERR_REFUSED);
	cr_assert(strstr(st_last_error(), "MigStore/stranger.doc is not part of the store"), "%s",
		  st_last_error());
	st_removal_free(&r);
	cr_assert(exists(vol, "MigStore/USMT/File/C$/Users/alice/Documents/a.txt"));

	/* Without the stranger, --force removes the last copy too. */
	cr_assert_eq(nv_unlink(vol, store, "stranger.doc"), NV_OK, "%s", nv_last_error());
	cr_assert_eq(st_remove_volume_store(vol, "MigStore", true, &r), ST_OK, "%s", st_last_error());
	cr_assert_eq(r.only_copy_count, 1);
	st_removal_free(&r);
	cr_assert_not(exists(vol, "MigStore"));
	cr_assert(exists(vol, "Users/alice/Documents/a.txt"));
	nv_close(vol);
}
