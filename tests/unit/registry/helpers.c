/* Shared helpers of the registry unit tests: shared hives, temp dirs, a
 * minimal regf writer (so tests need no third-party hive to write into). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "registry/registry.h"
#include "tests/unit/registry/helpers.h"

static char hives_dir[2300];
static char tmpdir[1024];

const char *
t_hives_dir(void)
{
	const char *s = getenv("WS_SHARED");
	char cwd[2048], probe[4200];
	struct stat st;

	if (s && *s) {
		snprintf(hives_dir, sizeof(hives_dir), "%s/hives", s);
		return stat(hives_dir, &st) == 0 && S_ISDIR(st.st_mode) ? hives_dir : NULL;
	}
	/* Default: ../shared relative to the repository root, found by walking up
	 * from the current directory to the folder that holds registry/registry.h. */
	if (!getcwd(cwd, sizeof(cwd)))
		return NULL;
	for (;;) {
		snprintf(probe, sizeof(probe), "%s/registry/registry.h", cwd);
		if (stat(probe, &st) == 0) {
			snprintf(hives_dir, sizeof(hives_dir), "%s/../shared/hives", cwd);
			return stat(hives_dir, &st) == 0 && S_ISDIR(st.st_mode) ? hives_dir : NULL;
		}
		char *slash = strrchr(cwd, '/');
		if (!slash || slash == cwd)
			return NULL;
		*slash = 0;
	}
}

const char *
t_tmpdir(void)
{
	if (!tmpdir[0]) {
		const char *t = getenv("TMPDIR");
		snprintf(tmpdir, sizeof(tmpdir), "%s/ws-regtest-XXXXXX", t && *t ? t : "/tmp");
		if (!mkdtemp(tmpdir))
			tmpdir[0] = 0;
	}
	return tmpdir;
}

void
t_cleanup(void)
{
	char cmd[4200];

	if (tmpdir[0]) {
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
		if (system(cmd) != 0)
			fprintf(stderr, "cannot remove %s\n", tmpdir);
		tmpdir[0] = 0;
	}
}

const char *
t_extract(const char *xz_name, const char *out_name)
{
	static char slots[8][4096];
	static int next;
	char cmd[9000];
	const char *hd = t_hives_dir();
	char *out;

	if (!hd)
		return NULL;
	out = slots[next++ % 8];
	snprintf(out, 4096, "%s/%s", t_tmpdir(), out_name);
	snprintf(cmd, sizeof(cmd), "xz -dc '%s/%s.xz' > '%s'", hd, xz_name, out);
	if (system(cmd) != 0)
		return NULL;
	return out;
}

uint64_t
t_file_hash(const char *path)
{
	FILE *f = fopen(path, "rb");
	uint64_t h = 0xcbf29ce484222325ull;
	int c;

	if (!f)
		return 0;
	while ((c = getc(f)) != EOF) {
		h ^= (uint8_t)c;
		h *= 0x100000001b3ull;
	}
	fclose(f);
	return h;
}

char *
t_run(const char *cmd, int *status)
{
	FILE *p = popen(cmd, "r");
	char *buf = NULL;
	size_t len = 0, cap = 0;
	int c, st;

	if (!p)
		return NULL;
	while ((c = getc(p)) != EOF) {
		if (len + 2 > cap) {
			cap = cap ? cap * 2 : 4096;
			buf = realloc(buf, cap);
			if (!buf)
				break;
		}
		buf[len++] = (char)c;
	}
	st = pclose(p);
	if (status)
		*status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
	if (!buf)
		buf = calloc(1, 1);
	else
		buf[len] = 0;
	return buf;
}

int
t_copy(const char *from, const char *to)
{
	char cmd[9000];

	snprintf(cmd, sizeof(cmd), "cp '%s' '%s'", from, to);
	return system(cmd);
}

static void
put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

static void
put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

/*
 * Layout: base block (4096) + one hbin of 4096 bytes at hive offset 0:
 *   0x20 root nk cell (ASCII name), then an sk cell (empty self-relative
 *   security descriptor, linked to itself), then one free cell for the rest.
 */
int
t_write_min_hive(const char *path, const char *root_name)
{
	uint8_t *f = calloc(1, 8192);
	uint8_t *b = f + 4096, *nk, *sk;
	size_t nlen = strlen(root_name);
	uint32_t nk_off = 0x20, nk_size, sk_off, sk_size, free_off;
	FILE *out;
	size_t w;

	if (!f)
		return -1;
	memcpy(f, "regf", 4);
	put32(f + 4, 1);
	put32(f + 8, 1);
	put32(f + 0x14, 1);             /* major */
	put32(f + 0x18, 5);             /* minor */
	put32(f + 0x20, 1);             /* file format: direct memory load */
	put32(f + 0x24, nk_off);        /* root cell */
	put32(f + 0x28, 4096);          /* hive bins data size */
	put32(f + 0x2C, 1);             /* clustering factor */
	put32(f + 0x1FC, reg_regf_checksum(f));

	memcpy(b, "hbin", 4);
	put32(b + 4, 0);
	put32(b + 8, 4096);

	nk_size = (uint32_t)((4 + 0x4C + nlen + 7) & ~7u);
	sk_off = nk_off + nk_size;
	sk_size = (4 + 0x14 + 20 + 7) & ~7u;
	free_off = sk_off + sk_size;

	nk = b + nk_off;
	put32(nk, (uint32_t)-(int32_t)nk_size);
	nk += 4;
	memcpy(nk, "nk", 2);
	put16(nk + 2, 0x2C);            /* hive entry | no delete | compressed name */
	put32(nk + 0x10, 0);            /* parent (none) */
	put32(nk + 0x1C, 0xFFFFFFFF);   /* subkey list */
	put32(nk + 0x20, 0xFFFFFFFF);
	put32(nk + 0x28, 0xFFFFFFFF);   /* value list */
	put32(nk + 0x2C, sk_off);       /* security */
	put32(nk + 0x30, 0xFFFFFFFF);   /* class */
	put16(nk + 0x48, (uint16_t)nlen);
	memcpy(nk + 0x4C, root_name, nlen);

	sk = b + sk_off;
	put32(sk, (uint32_t)-(int32_t)sk_size);
	sk += 4;
	memcpy(sk, "sk", 2);
	put32(sk + 4, sk_off);          /* flink */
	put32(sk + 8, sk_off);          /* blink */
	put32(sk + 12, 1);              /* reference count */
	put32(sk + 16, 20);             /* descriptor size */
	sk[20] = 1;                     /* revision */
	put16(sk + 22, 0x8004);         /* self-relative, DACL present (null DACL) */

	put32(b + free_off, 4096 - free_off);

	out = fopen(path, "wb");
	if (!out) {
		free(f);
		return -1;
	}
	w = fwrite(f, 1, 8192, out);
	free(f);
	return (fclose(out) == 0 && w == 8192) ? 0 : -1;
}
