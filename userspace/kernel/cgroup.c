// SPDX-License-Identifier: GPL-2.0-only
/* cgroup v2 discovery, ids and membership. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <sys/vfs.h>
#include <linux/magic.h>

#include "ircontain/abi.h"

#include "cgroup.h"
#include "irc.h"

int irc_cgroup2_mount(char *buf, size_t len)
{
	char line[4096];
	FILE *f = fopen("/proc/self/mountinfo", "re");
	int err = -ENOENT;

	if (len)
		buf[0] = '\0';
	if (!f)
		return -errno;
	/* "ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTS... - FSTYPE SOURCE SUPER" */
	while (fgets(line, sizeof(line), f)) {
		char mnt[1024], *sep = strstr(line, " - ");

		if (!sep || strncmp(sep + 3, "cgroup2 ", 8))
			continue;
		if (sscanf(line, "%*s %*s %*s %*s %1023s", mnt) != 1)
			continue;
		snprintf(buf, len, "%s", mnt);
		err = 0;
		break;
	}
	fclose(f);
	return err;
}

int irc_cgroup_check(const char *path)
{
	struct statfs sf;
	struct stat st;

	if (stat(path, &st))
		return -errno;
	if (!S_ISDIR(st.st_mode) || statfs(path, &sf) ||
	    sf.f_type != CGROUP2_SUPER_MAGIC)
		return -ENOTDIR;
	return 0;
}

int irc_cgroup_id(const char *path, uint64_t *id)
{
	struct {
		struct file_handle fh;
		uint64_t id;
	} h = { .fh.handle_bytes = sizeof(uint64_t) };
	int mount_id;

	/* On cgroup2 the file handle of a directory is its 64-bit id. */
	if (name_to_handle_at(AT_FDCWD, path, &h.fh, &mount_id, 0))
		return -errno;
	if (h.fh.handle_bytes != sizeof(uint64_t))
		return -EINVAL;
	memcpy(id, h.fh.f_handle, sizeof(*id));
	return 0;
}

int irc_cgroup_root(char *buf, size_t len)
{
	const char *want = irc.cgroup_root ?: getenv("IRCONTAIN_CGROUP_ROOT");
	char mnt[PATH_MAX], real[PATH_MAX];
	int err;

	if (!want) {
		err = irc_cgroup2_mount(mnt, sizeof(mnt));
		if (err)
			return err;
		want = mnt;
	}
	if (!realpath(want, real))
		return -errno;
	err = irc_cgroup_check(real);
	if (err)
		return err;
	if (snprintf(buf, len, "%s", real) >= (int)len)
		return -ENAMETOOLONG;
	return 0;
}

int irc_proc_cgroup_path(int pid, char *buf, size_t len)
{
	char path[64], line[4096], mnt[PATH_MAX];
	FILE *f;
	int err = -ENOENT, n;

	if (irc_cgroup2_mount(mnt, sizeof(mnt)))
		return -ENOENT;
	snprintf(path, sizeof(path), "/proc/%d/cgroup", pid);
	f = fopen(path, "re");
	if (!f)
		return errno == ENOENT ? -ESRCH : -errno;
	while (fgets(line, sizeof(line), f)) {
		if (strncmp(line, "0::", 3))
			continue;
		line[strcspn(line, "\n")] = '\0';
		n = snprintf(buf, len, "%s%s", mnt, strcmp(line + 3, "/") ? line + 3 : "");
		err = n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
		break;
	}
	fclose(f);
	return err;
}

bool irc_cgroup_is(const char *mnt, const char *rel, uint64_t id)
{
	char path[PATH_MAX];
	struct stat st;

	if (snprintf(path, sizeof(path), "%s%s", mnt, rel) >= (int)sizeof(path))
		return false;
	return !lstat(path, &st) && S_ISDIR(st.st_mode) && st.st_ino == id;
}

int irc_path_under(const char *path, const char *root)
{
	size_t n = strlen(root);

	if (n && root[n - 1] == '/')
		n--;
	return !strncmp(path, root, n) && (path[n] == '\0' || path[n] == '/');
}

/* nftw() takes no context: the one walk's target and result. */
static uint64_t find_id;
static char found_path[PATH_MAX];

static int find_cb(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	uint64_t id;

	(void)st;
	(void)ftw;
	if (type == FTW_D && irc_cgroup_id(path, &id) == 0 && id == find_id) {
		snprintf(found_path, sizeof(found_path), "%s", path);
		return 1;
	}
	return 0;
}

int irc_cgroup_path_by_id(const char *root, uint64_t id, char *buf, size_t len)
{
	find_id = id;
	found_path[0] = '\0';
	if (nftw(root, find_cb, 16, FTW_PHYS) != 1)
		return -ENOENT;
	if (strlen(found_path) >= len)
		return -ENAMETOOLONG;
	snprintf(buf, len, "%s", found_path);
	return 0;
}

static int write_str(const char *dir, const char *file, const char *val)
{
	char path[PATH_MAX];
	ssize_t n;
	int fd;

	if (snprintf(path, sizeof(path), "%s/%s", dir, file) >= (int)sizeof(path))
		return -ENAMETOOLONG;
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = write(fd, val, strlen(val));
	if (n < 0)
		n = -errno;
	close(fd);
	return n < 0 ? (int)n : 0;
}

/* 1 if the cgroup at @dir reports "frozen 1" in cgroup.events. */
static int cgroup_frozen(const char *dir)
{
	char path[PATH_MAX], line[64];
	int frozen = 0;
	FILE *f;

	if (snprintf(path, sizeof(path), "%s/cgroup.events", dir) >= (int)sizeof(path))
		return 0;
	f = fopen(path, "re");
	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (!strcmp(line, "frozen 1\n"))
			frozen = 1;
	fclose(f);
	return frozen;
}

/* The freeze cgroup @pid is in ("<parent>/ircontain.stop.N"), split at its last '/'. */
static int freeze_cgroup_of(int pid, char *path, size_t len, char **slash)
{
	int err = irc_proc_cgroup_path(pid, path, len);

	if (err)
		return err;
	*slash = strrchr(path, '/');
	if (!*slash || strncmp(*slash + 1, IRC_FREEZE_CGROUP, strlen(IRC_FREEZE_CGROUP)))
		return -ENOENT;
	return 0;
}

int irc_cgroup_freeze_pid(int pid, unsigned int root, char *fpath, size_t len)
{
	char cg[PATH_MAX], id[24];
	int err;

	err = irc_proc_cgroup_path(pid, cg, sizeof(cg));
	if (err)
		return err;
	/* Frozen already (a second stop of the same tree): nothing to do. */
	if (strstr(cg, "/" IRC_FREEZE_CGROUP) && cgroup_frozen(cg)) {
		snprintf(fpath, len, "%s", cg);
		return 0;
	}
	if (snprintf(fpath, len, "%s/" IRC_FREEZE_CGROUP "%u", cg, root) >= (int)len)
		return -ENAMETOOLONG;
	if (mkdir(fpath, 0755) && errno != EEXIST)
		return -errno;
	/* Frozen before the move: the process never runs in it unfrozen. */
	err = write_str(fpath, "cgroup.freeze", "1");
	if (err)
		goto undo;
	snprintf(id, sizeof(id), "%d", pid);
	err = write_str(fpath, "cgroup.procs", id);
	if (!err)
		return 0;
undo:
	rmdir(fpath);
	return err;
}

int irc_cgroup_frozen_wait(const char *fpath, int ms)
{
	struct timespec ts = { 0, 10 * 1000000L };
	int i;

	for (i = 0; i <= ms / 10; i++) {
		if (cgroup_frozen(fpath))
			return 0;
		nanosleep(&ts, NULL);
	}
	return -ETIMEDOUT;
}

int irc_cgroup_thaw_pid(int pid)
{
	char path[PATH_MAX], *slash, id[24];
	int err = freeze_cgroup_of(pid, path, sizeof(path), &slash);

	if (err)
		return err == -ENOENT ? 0 : err;
	snprintf(id, sizeof(id), "%d", pid);
	*slash = '\0';
	/* Moved out of the frozen cgroup, the process is thawed. */
	err = write_str(path, "cgroup.procs", id);
	*slash = '/';
	/* The last one out removes it (EBUSY while others are in it). */
	rmdir(path);
	return err;
}

int irc_cgroup_freeze_gc(const char *fpath, int (*live)(unsigned int root, void *ctx), void *ctx)
{
	char parent[PATH_MAX], path[PATH_MAX];
	const size_t plen = strlen(IRC_FREEZE_CGROUP);
	const char *slash = strrchr(fpath, '/');
	struct dirent *de;
	unsigned long root;
	char *end;
	DIR *d;
	int n = 0;

	if (!slash || (size_t)(slash - fpath) >= sizeof(parent))
		return 0;
	memcpy(parent, fpath, slash - fpath);
	parent[slash - fpath] = '\0';
	d = opendir(parent);
	if (!d)
		return 0;
	while ((de = readdir(d))) {
		if (strncmp(de->d_name, IRC_FREEZE_CGROUP, plen))
			continue;
		errno = 0;
		root = strtoul(de->d_name + plen, &end, 10);
		if (errno || *end || !root || root > UINT32_MAX || live((unsigned int)root, ctx))
			continue;
		/* Empty: its processes died frozen.  Not empty: rmdir says EBUSY. */
		if (snprintf(path, sizeof(path), "%s/%s", parent, de->d_name) < (int)sizeof(path) &&
		    !rmdir(path))
			n++;
	}
	closedir(d);
	return n;
}
