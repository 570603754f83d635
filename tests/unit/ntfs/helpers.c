#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "tests/unit/ntfs/helpers.h"
#include "tests/unit/fuse_wait.h"
#include "tests/unit/fixture_env.h"

char *
scratch_dir(void)
{
	const char *tmp = getenv("TMPDIR");
	char *dir;
	cr_assert(asprintf(&dir, "%s/winstate-test-XXXXXX", tmp ? tmp : "/tmp") > 0);
	cr_assert_not_null(mkdtemp(dir), "mkdtemp: %s", strerror(errno));
	return dir;
}

void
scratch_done(char *dir)
{
	/* Anything still mounted below would make rm fail loudly: unmount first. */
	sh("for m in $(grep -o ' %s/[^ ]*' /proc/mounts); do umount \"$m\"; done; rm -rf '%s'",
	   dir, dir);
	free(dir);
}

static char *
vformat(const char *fmt, va_list ap)
{
	char *cmd;
	cr_assert(vasprintf(&cmd, fmt, ap) >= 0);
	return cmd;
}

int
sh(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *cmd = vformat(fmt, ap);
	va_end(ap);
	int rc = system(cmd);
	free(cmd);
	return WIFEXITED(rc) ? WEXITSTATUS(rc) : 128;
}

uint8_t *
sh_output(size_t *len, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *cmd = vformat(fmt, ap);
	va_end(ap);
	FILE *p = popen(cmd, "r");
	cr_assert_not_null(p, "popen %s", cmd);
	size_t cap = 4096, n = 0, got;
	uint8_t *buf = malloc(cap + 1);
	while ((got = fread(buf + n, 1, cap - n, p)) > 0) {
		n += got;
		if (n == cap)
			buf = realloc(buf, (cap *= 2) + 1);
	}
	pclose(p);
	buf[n] = 0;
	if (len)
		*len = n;
	free(cmd);
	return buf;
}

void
make_volume(const char *path, int mib)
{
	cr_assert_eq(sh("truncate -s %dM '%s' && mkntfs -q -F -f -L Test '%s' >/dev/null 2>&1", mib,
			path, path), 0, "mkntfs failed for %s", path);
}

void
fuse_mount(const char *image, const char *mnt, bool ro)
{
	cr_assert_eq(sh("mkdir -p '%s' && ntfs-3g %s -o streams_interface=xattr%s '%s' '%s'", mnt,
			"", ro ? ",ro" : "", image, mnt), 0, "ntfs-3g could not mount %s", image);
}

void
fuse_umount(const char *mnt)
{
	cr_assert_eq(umount_and_wait(mnt), 0, "cannot unmount %s", mnt);
}

uint8_t *
fuse_xattr(const char *path, const char *name, size_t *len)
{
	size_t n;
	if (sh("getfattr -h -n '%s' '%s' >/dev/null 2>&1", name, path) != 0)
		return NULL;
	uint8_t *v = sh_output(&n, "getfattr -h --only-values -n '%s' '%s' 2>/dev/null", name, path);
	*len = n;
	return v;
}

const char *
fixture(const char *name)
{
	static char path[4096];
	const char *dir = getenv("WS_FIXTURES");
	snprintf(path, sizeof(path), "%s/%s", dir ? dir : "build/fixtures", name);
	if (access(path, R_OK) != 0)
		cr_assert_fail("fixture %s is not built (run `make fixtures`)", path);
	return path;
}

const char *
fixture_env(const char *key)
{
	return fixture_env_value(fixture("fixture.env"), key);
}

char *
shared_path(const char *rel)
{
	const char *dir = getenv("WS_SHARED");
	char *path;
	cr_assert(asprintf(&path, "%s/%s", dir ? dir : "../shared", rel) > 0);
	if (access(path, R_OK) != 0) {
		free(path);
		return NULL;
	}
	return path;
}

char *
sha256_file(const char *path)
{
	uint8_t *out = sh_output(NULL, "sha256sum < '%s' | cut -c1-64", path);
	out[strcspn((char *)out, "\n")] = 0;
	return (char *)out;
}
