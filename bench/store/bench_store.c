/*
 * bench/store: compressed-store write time and size against
 * `tar -c DIR | zstd -T0 -3`, measured in the same run on the same tree.
 *
 * Generates a tree of N files (default 20000) with a realistic mix: most
 * files small (documents, settings), a few hundred medium, a few large; text,
 * random and half-compressible contents; ~10% of files duplicates of earlier
 * ones.  Then writes it into a winstate compressed store (1 thread, then all
 * CPUs) and through tar | zstd, and prints times, sizes and ratios.
 *
 *   cc -std=c11 -O2 -Wall -Wextra -Werror -D_GNU_SOURCE -D_FILE_OFFSET_BITS=64 -I. \
 *      bench/store/bench_store.c build-store/lib/libws_store.a build-store/lib/libws_ntfs.a \
 *      $(pkg-config --libs libntfs-3g blkid libzstd libsodium) -lpthread -o build-store/bench-store
 *   build-store/bench-store [FILES] [SCRATCH_DIR]
 */
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "store/store.h"

static uint64_t rng = 0x1234567;
static uint64_t
rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static double
now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void
fill(uint8_t *p, size_t n, int kind)
{
	static const char *const words[] = { "the ", "user ", "profile ", "settings ", "Documents ",
					     "<value>", "</value>\n", "0x1F ", "alice ", "report ",
					     "quarterly ", "total: ", "42 ", "\r\n", "{\"k\": ", "} " };
	size_t i = 0;
	if (kind == 0) {
		while (i < n) {
			const char *w = words[rnd() % 16];
			size_t l = strlen(w);
			if (l > n - i)
				l = n - i;
			memcpy(p + i, w, l);
			i += l;
		}
	} else if (kind == 1) {
		for (; i + 8 <= n; i += 8) {
			uint64_t v = rnd();
			memcpy(p + i, &v, 8);
		}
		for (; i < n; i++)
			p[i] = (uint8_t)rnd();
	} else {
		for (; i < n; i++)
			p[i] = (uint8_t)(rnd() % 24); /* ~4.6 bits of entropy a byte */
	}
}

static size_t
pick_size(void)
{
	uint64_t r = rnd() % 1000;
	if (r < 850)
		return rnd() % 8192;
	if (r < 975)
		return 8192 + rnd() % (56 * 1024);
	if (r < 999)
		return 65536 + rnd() % (448 * 1024);
	return (1u << 20) + rnd() % (7u << 20);
}

static const char *tree_root;
static size_t root_len;
static struct st_writer *writer;
static uint8_t *iobuf;
#define IOBUF (1u << 20)

static int
add_one(const char *path, const struct stat *sb, int type, struct FTW *ftw)
{
	(void)ftw;
	if (type != FTW_F)
		return 0;
	struct st_file f = { .path = path + root_len + 1, .owner = "S-1-5-21-1-1-1-1001",
			     .decision = "bench", .source_id = (uint64_t)sb->st_ino,
			     .attributes = 0x20 };
	bool need;
	if (st_writer_begin_file(writer, &f, &need) != ST_OK) {
		fprintf(stderr, "%s: %s\n", path, st_last_error());
		return 1;
	}
	if (need) {
		int fd = open(path, O_RDONLY);
		ssize_t n;
		while ((n = read(fd, iobuf, IOBUF)) > 0)
			if (st_writer_write_data(writer, iobuf, (size_t)n) != ST_OK) {
				fprintf(stderr, "%s: %s\n", path, st_last_error());
				close(fd);
				return 1;
			}
		close(fd);
	}
	return st_writer_end_file(writer) != ST_OK;
}

static uint64_t
fsize(const char *p)
{
	struct stat sb;
	return stat(p, &sb) == 0 ? (uint64_t)sb.st_size : 0;
}

static double
run_ours(const char *scratch, const char *tree, int threads, uint64_t *size)
{
	char store[4096], mig[4200], cmd[8300];
	snprintf(store, sizeof(store), "%s/store-t%d", scratch, threads);
	snprintf(mig, sizeof(mig), "%s/USMT/USMT.MIG", store);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", store);
	if (system(cmd) != 0)
		return -1;
	struct st_create_options o = { .format = ST_FORMAT_COMPRESSED, .path = store,
				       .threads = threads, .winstate_version = "bench" };
	tree_root = tree;
	root_len = strlen(tree);
	double t0 = now();
	if (st_writer_create(&o, &writer) != ST_OK) {
		fprintf(stderr, "%s\n", st_last_error());
		exit(1);
	}
	if (nftw(tree, add_one, 64, FTW_PHYS) != 0)
		exit(1);
	if (st_writer_finish(writer, 0) != ST_OK) {
		fprintf(stderr, "%s\n", st_last_error());
		exit(1);
	}
	double t = now() - t0;
	*size = fsize(mig);
	return t;
}

int
main(int argc, char **argv)
{
	size_t nfiles = argc > 1 ? (size_t)atol(argv[1]) : 20000;
	char scratch[4096], tree[4200], cmd[9000], tarout[4300];
	snprintf(scratch, sizeof(scratch), "%s/ws-bench-XXXXXX", argc > 2 ? argv[2] : "/tmp");
	if (!mkdtemp(scratch))
		return 1;
	snprintf(tree, sizeof(tree), "%s/tree", scratch);
	mkdir(tree, 0755);
	iobuf = malloc(IOBUF > (8u << 20) ? IOBUF : (8u << 20));
	uint8_t *buf = malloc(8u << 20);
	uint64_t total = 0, dups = 0;
	size_t *sizes = calloc(nfiles, sizeof(*sizes));
	uint64_t *seeds = calloc(nfiles, sizeof(*seeds));
	int *kinds = calloc(nfiles, sizeof(*kinds));
	for (size_t i = 0; i < nfiles; i++) {
		char d[4400], p[4500];
		snprintf(d, sizeof(d), "%s/user%zu/folder%zu", tree, i % 4, (i / 4) % 97);
		snprintf(cmd, sizeof(cmd), "%s/user%zu", tree, i % 4);
		mkdir(cmd, 0755);
		mkdir(d, 0755);
		snprintf(p, sizeof(p), "%s/file%06zu.dat", d, i);
		if (i > 100 && rnd() % 10 == 0) { /* a copy of an earlier file */
			size_t j = rnd() % i;
			sizes[i] = sizes[j];
			seeds[i] = seeds[j];
			kinds[i] = kinds[j];
			dups++;
		} else {
			sizes[i] = pick_size();
			seeds[i] = rnd() | 1;
			uint64_t k = rnd() % 10;
			kinds[i] = k < 6 ? 0 : k < 8 ? 1 : 2;
		}
		uint64_t keep = rng;
		rng = seeds[i];
		fill(buf, sizes[i], kinds[i]);
		rng = keep;
		FILE *f = fopen(p, "wb");
		if (!f || fwrite(buf, 1, sizes[i], f) != sizes[i] || fclose(f) != 0)
			return 1;
		total += sizes[i];
	}
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	printf("tree: %zu files (%llu duplicates), %.1f MiB, %ld CPUs\n", nfiles,
	       (unsigned long long)dups, (double)total / 1048576, cpus);
	if (system("sync") != 0)
		return 1;

	uint64_t s1, sn, st;
	double t1 = run_ours(scratch, tree, 1, &s1);
	double tn = run_ours(scratch, tree, 0, &sn);
	snprintf(tarout, sizeof(tarout), "%s/tree.tar.zst", scratch);
	snprintf(cmd, sizeof(cmd), "tar -c -C '%s' tree | zstd -T0 -3 -q -o '%s'", scratch, tarout);
	double t0 = now();
	if (system(cmd) != 0)
		return 1;
	double tt = now() - t0;
	st = fsize(tarout);
	printf("%-34s %8s %10s %9s\n", "", "seconds", "MiB", "MiB/s in");
	printf("%-34s %8.2f %10.1f %9.1f\n", "winstate, 1 compression worker", t1,
	       (double)s1 / 1048576, (double)total / 1048576 / t1);
	printf("%-34s %8.2f %10.1f %9.1f\n", "winstate, 1 worker per CPU", tn,
	       (double)sn / 1048576, (double)total / 1048576 / tn);
	printf("%-34s %8.2f %10.1f %9.1f\n", "tar -c | zstd -T0 -3", tt, (double)st / 1048576,
	       (double)total / 1048576 / tt);
	printf("ratio winstate/tar|zstd (all CPUs): time %.2f, size %.3f\n", tn / tt,
	       (double)sn / (double)st);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", scratch);
	if (system(cmd) != 0)
		return 1;
	free(buf);
	free(iobuf);
	free(sizes);
	free(seeds);
	free(kinds);
	return 0;
}
