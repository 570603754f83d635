/*
 * Shared by the unit tests that check an image through the ntfs-3g FUSE
 * driver: unmount and wait for the driver's process to exit.  umount(8)
 * returns before the daemon has flushed and closed the image, so reading or
 * writing the image right after it races with the daemon's last writes.
 */
#ifndef WINSTATE_TESTS_FUSE_WAIT_H
#define WINSTATE_TESTS_FUSE_WAIT_H

#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <time.h>

/* The ntfs-3g process whose last argument is @mnt (as it was given), or 0. */
static inline pid_t
ntfs3g_pid_of(const char *mnt)
{
	DIR *d = opendir("/proc");
	struct dirent *e;
	pid_t found = 0;
	if (!d)
		return 0;
	while (!found && (e = readdir(d))) {
		char path[300], cmd[8192];
		if (e->d_name[0] < '1' || e->d_name[0] > '9')
			continue;
		snprintf(path, sizeof(path), "/proc/%s/cmdline", e->d_name);
		FILE *f = fopen(path, "rb");
		if (!f)
			continue;
		size_t n = fread(cmd, 1, sizeof(cmd) - 1, f);
		fclose(f);
		if (n == 0)
			continue;
		cmd[n] = 0;
		const char *argv0 = strrchr(cmd, '/') ? strrchr(cmd, '/') + 1 : cmd;
		if (strcmp(argv0, "ntfs-3g") != 0)
			continue;
		/* cmdline is NUL-separated and NUL-terminated: the last word. */
		size_t end = cmd[n - 1] ? n : n - 1, start = end;
		while (start > 0 && cmd[start - 1])
			start--;
		if (strcmp(cmd + start, mnt) == 0)
			found = (pid_t)atoi(e->d_name);
	}
	closedir(d);
	return found;
}

/* Still running: exists and is not a zombie waiting for its parent. */
static inline int
process_alive(pid_t pid)
{
	char path[64], state = 0;
	if (kill(pid, 0) != 0 && errno == ESRCH)
		return 0;
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	FILE *f = fopen(path, "r");
	if (!f)
		return 0;
	if (fscanf(f, "%*d (%*[^)]) %c", &state) != 1)
		state = 0;
	fclose(f);
	return state != 0 && state != 'Z';
}

/* Unmount @mnt and wait up to 30 s for its ntfs-3g process to exit; 0 when
 * done, -1 when umount failed or the process is still there (stderr says which). */
static inline int
umount_and_wait(const char *mnt)
{
	char *cmd;
	pid_t pid = ntfs3g_pid_of(mnt);
	if (asprintf(&cmd, "umount '%s'", mnt) < 0)
		return -1;
	int rc = system(cmd);
	free(cmd);
	if (rc != 0) {
		fprintf(stderr, "umount %s failed\n", mnt);
		return -1;
	}
	for (int i = 0; pid && i < 600; i++) {
		if (!process_alive(pid))
			return 0;
		nanosleep(&(struct timespec){ 0, 50 * 1000 * 1000 }, NULL);
	}
	if (pid && process_alive(pid)) {
		fprintf(stderr, "ntfs-3g for %s (pid %d) still runs 30 s after umount\n", mnt, (int)pid);
		return -1;
	}
	return 0;
}

#endif
