/*
 * Restore benchmark: winstate load against what an administrator would do
 * instead, measured in the same run on the same files.
 *
 *   hard-link load    vs  cp -al of the same files over an ntfs-3g FUSE mount
 *   compressed load   vs  zstd -d | tar -x of the same files onto the FUSE mount
 *                     vs  wimlib-imagex apply onto the FUSE mount (when wimtools is installed)
 *
 * The files: WS_BENCH_FILES (default 5000) small files, 20 B - 16 KiB
 * log-uniform, in Users/carol/Documents/bench of a copy of the fixture
 * volume (carol is a domain user, so the restore makes her a new profile),
 * plus what the default rules take of her profile.  The peers copy exactly
 * the files the store holds (`winstate list --json`).  Every target is a
 * "reinstalled" copy (tests/fixtures/reinstall.sh).  Times include opening
 * and flushing the volume (mount and unmount for the peers).
 *
 * Environment (set by `make bench`): WS_BIN, WS_FIXTURES; WS_TOP (repo root,
 * default "."), WS_TOOLS (default WS_BIN's folder/tools), WS_BENCH_DIR
 * (scratch, default /tmp/winstate-bench-restore).
 */
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double
now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static int __attribute__((format(printf, 1, 2)))
sh(const char *fmt, ...)
{
	char cmd[16384];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	int st = system(cmd);
	int rc = WIFEXITED(st) ? WEXITSTATUS(st) : 128;
	if (rc)
		fprintf(stderr, "bench: command failed (%d): %s\n", rc, cmd);
	return rc;
}

/* Seconds taken by @cmd, or a negative number when it failed. */
static double __attribute__((format(printf, 1, 2)))
timed(const char *fmt, ...)
{
	char cmd[16384];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	double t0 = now();
	int rc = sh("%s", cmd);
	double t = now() - t0;
	return rc ? -1 : t;
}

static const char *dir, *bin, *top, *tools;

/* A reinstalled copy of the source: a fresh target. */
static int
fresh_target(const char *name)
{
	return sh("cp --sparse=always '%s/src.img' '%s/%s' && WS_TOOLSDIR='%s' bash '%s/tests/fixtures/reinstall.sh' "
		  "'%s/%s' >/dev/null 2>&1", dir, dir, name, tools, top, dir, name);
}

/* Shell helpers written into the scratch folder: mount read-write with the
 * daemon in the foreground, so that unmounting returns when the image is written. */
static const char lib_sh[] =
	"mnt() { mkdir -p \"$2\"; ntfs-3g -o no_detach,big_writes \"$1\" \"$2\" >/dev/null 2>&1 & echo $! >\"$2.pid\";\n"
	"  for i in $(seq 200); do mountpoint -q \"$2\" && return 0; sleep 0.05; done; return 1; }\n"
	"umnt() { umount \"$1\" || return 1; while kill -0 $(cat \"$1.pid\") 2>/dev/null; do sleep 0.02; done; }\n";

static void
ratio(const char *what, double ours, const char *peer, double theirs)
{
	if (ours <= 0 || theirs <= 0) {
		printf("  %-34s %s: not measured\n", what, peer);
		return;
	}
	printf("  %-34s %7.2f s   %-28s %7.2f s   ratio %.2fx %s\n", what, ours, peer, theirs,
	       theirs / ours, theirs >= ours ? "(winstate faster)" : "(winstate slower)");
}

int
main(void)
{
	const char *fx = getenv("WS_FIXTURES");
	bin = getenv("WS_BIN");
	top = getenv("WS_TOP") ? getenv("WS_TOP") : ".";
	dir = getenv("WS_BENCH_DIR") ? getenv("WS_BENCH_DIR") : "/tmp/winstate-bench-restore";
	int files = getenv("WS_BENCH_FILES") ? atoi(getenv("WS_BENCH_FILES")) : 5000;
	if (!fx || !bin) {
		fprintf(stderr, "bench-restore: set WS_FIXTURES and WS_BIN (make bench does)\n");
		return 2;
	}
	static char tools_buf[4096];
	if (getenv("WS_TOOLS")) {
		tools = getenv("WS_TOOLS");
	} else {
		snprintf(tools_buf, sizeof(tools_buf), "%s", bin);
		char *slash = strrchr(tools_buf, '/');
		snprintf(slash ? slash + 1 : tools_buf, sizeof(tools_buf) - (size_t)(slash ? slash + 1 - tools_buf : 0),
			 "tools");
		tools = tools_buf;
	}
	char lib[4096];
	snprintf(lib, sizeof(lib), "%s/lib.sh", dir);
	if (sh("rm -rf '%s' && mkdir -p '%s'", dir, dir))
		return 1;
	FILE *lf = fopen(lib, "w");
	if (!lf || fputs(lib_sh, lf) < 0 || fclose(lf))
		return 1;
	if (sh("cp --sparse=always '%s/volume.img' '%s/src.img'", fx, dir))
		return 1;
	/* The files, made with python (deterministic) and copied in through FUSE. */
	if (sh("python3 - '%s/gen' %d <<'EOF'\n"
	       "import math, os, random, sys\n"
	       "root, n = sys.argv[1], int(sys.argv[2])\n"
	       "r = random.Random(7)\n"
	       "for i in range(n):\n"
	       "    d = os.path.join(root, 'bench', 'd%%03d' %% (i // 200))\n"
	       "    os.makedirs(d, exist_ok=True)\n"
	       "    size = int(math.exp(r.uniform(math.log(20), math.log(16384))))\n"
	       "    open(os.path.join(d, 'f%%05d.txt' %% i), 'wb').write(r.randbytes(size // 2) + bytes(size - size // 2))\n"
	       "EOF", dir, files) ||
	    sh(". '%s/lib.sh' && mnt '%s/src.img' '%s/m' && cp -r '%s/gen/bench' '%s/m/Users/carol/Documents/' && "
	       "umnt '%s/m'", dir, dir, dir, dir, dir, dir))
		return 1;

	/* ---- compressed store ---- */
	if (sh("'%s' scan '%s/src.img' '%s/store' --efs skip --ui carol --ue '*' >/dev/null", bin, dir, dir) ||
	    sh("'%s' list '%s/store' --json | python3 -c 'import json,sys; "
	       "[print(f[\"path\"][len(\"Users/carol/\"):]) for f in json.load(sys.stdin)[\"files\"]]' >'%s/files.txt'",
	       bin, dir, dir))
		return 1;
	/* The peers' archives, made from the same files over a read-only mount. */
	if (sh("mkdir -p '%s/r' && ntfs-3g -o ro '%s/src.img' '%s/r' && "
	       "tar -C '%s/r/Users/carol' -cf - -T '%s/files.txt' | zstd -q -T0 -3 -o '%s/carol.tar.zst' && "
	       "umount '%s/r'", dir, dir, dir, dir, dir, dir, dir))
		return 1;
	bool wim = sh("command -v wimlib-imagex >/dev/null") == 0;
	if (wim && sh("mkdir -p '%s/wimsrc' && zstd -dc '%s/carol.tar.zst' | tar -C '%s/wimsrc' -xf - && "
		      "wimlib-imagex capture '%s/wimsrc' '%s/carol.wim' --compress=LZX >/dev/null",
		      dir, dir, dir, dir, dir))
		wim = false;
	if (fresh_target("t1.img") || fresh_target("t2.img") || (wim && fresh_target("t3.img")))
		return 1;
	double ours_c = timed("'%s' load '%s/store' '%s/t1.img' >/dev/null", bin, dir, dir);
	double tar_c = timed(". '%s/lib.sh' && mnt '%s/t2.img' '%s/m' && mkdir -p '%s/m/Users/carol' && "
			     "zstd -dc '%s/carol.tar.zst' | tar -C '%s/m/Users/carol' -xf - && umnt '%s/m'",
			     dir, dir, dir, dir, dir, dir, dir);
	double wim_c = wim ? timed(". '%s/lib.sh' && mnt '%s/t3.img' '%s/m' && mkdir -p '%s/m/Users/carol' && "
				   "wimlib-imagex apply '%s/carol.wim' 1 '%s/m/Users/carol' >/dev/null && umnt '%s/m'",
				   dir, dir, dir, dir, dir, dir, dir)
			   : -1;

	/* ---- hard-link store: the in-place refresh ---- */
	if (fresh_target("h1.img") ||
	    sh("'%s' scan '%s/h1.img' MigStore --windir Windows.old/Windows --hardlink --nocompress --efs skip "
	       "--ui carol --ue '*' >/dev/null", bin, dir) ||
	    sh("cp --sparse=always '%s/h1.img' '%s/h2.img'", dir, dir))
		return 1;
	double ours_h = timed("'%s' load MigStore '%s/h1.img' --hardlink >/dev/null", bin, dir);
	double cp_h = timed(". '%s/lib.sh' && mnt '%s/h2.img' '%s/m' && mkdir -p '%s/m/Users/carol' && "
			    "cd '%s/m/Windows.old/Users/carol' && tr '\\n' '\\0' <'%s/files.txt' | "
			    "xargs -0 cp -al --parents -t '%s/m/Users/carol' && cd / && umnt '%s/m'",
			    dir, dir, dir, dir, dir, dir, dir, dir);

	int n = 0;
	FILE *f = NULL;
	char path[4096];
	snprintf(path, sizeof(path), "%s/files.txt", dir);
	if ((f = fopen(path, "r"))) {
		for (int ch; (ch = fgetc(f)) != EOF;)
			n += ch == '\n';
		fclose(f);
	}
	printf("restore benchmark: %d files of carol's (incl. %d generated), same files for every tool\n", n, files);
	ratio("hard-link load (winstate)", ours_h, "cp -al over ntfs-3g FUSE", cp_h);
	ratio("compressed load (winstate)", ours_c, "zstd -d | tar -x onto FUSE", tar_c);
	if (wim)
		ratio("compressed load (winstate)", ours_c, "wimlib-imagex apply onto FUSE", wim_c);
	else
		printf("  wimlib-imagex: not installed (apt-get install wimtools)\n");
	sh("rm -rf '%s'", dir);
	return ours_c > 0 && ours_h > 0 ? 0 : 1;
}
