// SPDX-License-Identifier: GPL-2.0-only
/* Pin dir management and access to the pinned maps. */
#include <dirent.h>
#include <stdbool.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/vfs.h>
#include <unistd.h>
#include <linux/magic.h>
#include <linux/types.h>
#include <stdlib.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "ircontain/abi.h"
#include "irc.h"
#include "owned.h"
#include "pins.h"

#define BPFFS_DEFAULT	"/sys/fs/bpf"

#define IRC_M_NAME(id)	[IRC_M_##id] = IRC_STR(IRC_MAP_##id),
const char *const irc_map_names[IRC_M__MAX] = { IRC_MAP_LIST(IRC_M_NAME) };
#undef IRC_M_NAME

int irc_pin_path(char *buf, size_t len, const char *name)
{
	int n = snprintf(buf, len, "%s/%s", irc.pin_dir, name);

	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

int irc_link_path(char *buf, size_t len, const char *name)
{
	int n = snprintf(buf, len, "%s/%s/%s", irc.pin_dir,
			 IRC_PIN_LINKS_SUBDIR, name);

	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

int irc_prog_path(char *buf, size_t len, const char *name)
{
	int n = snprintf(buf, len, "%s/%s/%s", irc.pin_dir,
			 IRC_PIN_PROGS_SUBDIR, name);

	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

static int is_bpffs(const char *path)
{
	struct statfs st;

	if (statfs(path, &st))
		return -errno;
	return st.f_type == BPF_FS_MAGIC;
}

/* Nearest existing ancestor of @path (the path itself if it exists). */
static void existing_ancestor(const char *path, char *buf, size_t len)
{
	char *slash;

	snprintf(buf, len, "%s", path);
	while (access(buf, F_OK) && (slash = strrchr(buf, '/'))) {
		if (slash == buf) {
			buf[1] = '\0';
			break;
		}
		*slash = '\0';
	}
}

static int mkdir_p(const char *path, mode_t mode)
{
	char buf[4096];
	char *p;

	if (snprintf(buf, sizeof(buf), "%s", path) >= (int)sizeof(buf))
		return -ENAMETOOLONG;
	for (p = buf + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(buf, mode) && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	if (mkdir(buf, mode) && errno != EEXIST)
		return -errno;
	return 0;
}

/* The pin dir exists (or is made, with @create), is ours and private. */
static int pin_dir_check(bool create)
{
	char msg[600], parent[4096], *slash;
	int fd;

	if (create) {
		snprintf(parent, sizeof(parent), "%s", irc.pin_dir);
		slash = strrchr(parent, '/');
		if (slash && slash != parent) {
			*slash = '\0';
			mkdir_p(parent, 0700);
		}
	}
	fd = irc_owned_dir(irc.pin_dir, "pin dir", create, 0700, msg, sizeof(msg));
	if (fd < 0) {
		irc_err("%s", msg);
		return fd;
	}
	close(fd);
	return 0;
}

int irc_pins_prepare(void)
{
	char anc[4096], links[4096];
	int err;

	existing_ancestor(irc.pin_dir, anc, sizeof(anc));
	err = is_bpffs(anc);
	if (err == 0 && !strncmp(irc.pin_dir, BPFFS_DEFAULT "/",
				 strlen(BPFFS_DEFAULT) + 1)) {
		/* The usual place, not mounted yet: mount it. */
		if (mount("bpf", BPFFS_DEFAULT, "bpf", 0, "mode=0700")) {
			err = -errno;
			irc_err("mount bpffs on %s: %s", BPFFS_DEFAULT,
				strerror(errno));
			return err;
		}
		irc_info("mounted bpffs on %s", BPFFS_DEFAULT);
		err = is_bpffs(BPFFS_DEFAULT);
	}
	if (err < 0) {
		irc_err("pin dir %s: %s", irc.pin_dir, strerror(-err));
		return err;
	}
	if (err == 0) {
		irc_err("pin dir %s: %s is not on a bpf filesystem (mount -t bpf bpf DIR)",
			irc.pin_dir, anc);
		return -ENOTDIR;
	}
	/*
	 * The pin dir is ours and private: bpffs is often mounted 1777, and a
	 * user who made the dir first could unlink the maps (every command
	 * then fails, and the next load makes empty ones).  Refused, never
	 * adopted; one of ours is made 0700.
	 */
	err = pin_dir_check(true);
	if (err)
		return err;
	err = irc_link_path(links, sizeof(links), "");
	if (!err)
		err = mkdir_p(links, 0700);
	if (!err)
		err = irc_prog_path(links, sizeof(links), "");
	if (!err)
		err = mkdir_p(links, 0700);
	if (err) {
		irc_err("create pin dir %s: %s", irc.pin_dir, strerror(-err));
		return err;
	}
	return 0;
}

int irc_pins_loaded(void)
{
	char path[4096];

	if (irc_pin_path(path, sizeof(path), IRC_STR(IRC_MAP_CONFIG)))
		return -ENAMETOOLONG;
	return access(path, F_OK) ? -ENOENT : 0;
}

/*
 * A map that is not pinned while the module is (irc_config is): the
 * module was loaded by an older ircontain, whose pin layout lacked it.
 * One of IRC_MAPS_LATE is left at -1 with a warning; any other stops the
 * command, and both say that a `load` again pins it.
 */
static int open_map(const char *action, int id, int *fd)
{
	const char *name = irc_map_names[id];
	char path[4096];
	int err = irc_pin_path(path, sizeof(path), name);

	if (err)
		return err;
	*fd = bpf_obj_get(path);
	if (*fd >= 0)
		return 0;
	err = -errno;
	if (err != -ENOENT) {
		irc_err("%s: open map %s: %s", action, path, strerror(-err));
		return err;
	}
	if (IRC_MAPS_LATE & IRC_MAP_BIT(id)) {
		irc_warn("%s: map %s is not pinned (the module was loaded by an older ircontain, "
			 "whose programs do not use it): 'ircontain load --iface IF' again pins it",
			 action, name);
		return 0;
	}
	irc_err("%s: map %s is not pinned: the module was loaded by an older ircontain; "
		"run 'ircontain load --iface IF' again", action, name);
	return err;
}

static int open_maps(const char *action, struct irc_maps *m, uint64_t which)
{
	int i, err;

	for (i = 0; i < IRC_M__MAX; i++) {
		if (!(which & IRC_MAP_BIT(i)))
			continue;
		err = open_map(action, i, &m->fd[i]);
		if (err)
			return err;
	}
	return 0;
}

/* Maps m->fd[IRC_M_QBLOOM] (when open) into m->qbloom; 0 or -errno. */
static int map_qbloom(struct irc_maps *m)
{
	void *p;

	m->qbloom = NULL;
	if (m->fd[IRC_M_QBLOOM] < 0)
		return 0;
	p = mmap(NULL, 2 * (size_t)IRC_QBLOOM_SLOTS, PROT_READ | PROT_WRITE, MAP_SHARED,
		 m->fd[IRC_M_QBLOOM], 0);
	if (p == MAP_FAILED)
		return -errno;
	m->qbloom = p;
	return 0;
}

int irc_maps_open_some(const char *action, struct irc_maps *m, uint64_t which)
{
	int i, err;

	for (i = 0; i < IRC_M__MAX; i++)
		m->fd[i] = -1;
	m->qbloom = NULL;
	err = irc_require_privileges(action);
	if (err)
		return err;
	if (irc_pins_loaded()) {
		irc_err("%s: ircontain is not loaded (nothing pinned in %s); run 'ircontain load --iface IF' first",
			action, irc.pin_dir);
		return -ENOENT;
	}
	if (which & (IRC_MAP_BIT(IRC_M_Q4_HOST) | IRC_MAP_BIT(IRC_M_Q6_HOST)))
		which |= IRC_MAPS_TIERS;
	err = pin_dir_check(false);
	if (!err)
		err = open_maps(action, m, which);
	if (!err) {
		err = map_qbloom(m);
		if (err)
			irc_err("%s: map %s into memory: %s", action, irc_map_names[IRC_M_QBLOOM],
				strerror(-err));
	}
	if (err)
		irc_maps_close(m);
	return err;
}

int irc_maps_open(const char *action, struct irc_maps *m)
{
	return irc_maps_open_some(action, m, IRC_MAPS_ALL);
}

void irc_maps_unmap_qbloom(struct irc_maps *m)
{
	if (m->qbloom)
		munmap(m->qbloom, 2 * (size_t)IRC_QBLOOM_SLOTS);
	m->qbloom = NULL;
}

int irc_maps_of_obj(struct bpf_object *obj, struct irc_maps *m)
{
	struct bpf_map *map;
	int i;

	for (i = 0; i < IRC_M__MAX; i++) {
		map = bpf_object__find_map_by_name(obj, irc_map_names[i]);
		m->fd[i] = map ? bpf_map__fd(map) : -1;
	}
	return map_qbloom(m);
}

void irc_maps_close(struct irc_maps *m)
{
	int i;

	irc_maps_unmap_qbloom(m);
	for (i = 0; i < IRC_M__MAX; i++) {
		if (m->fd[i] >= 0)
			close(m->fd[i]);
		m->fd[i] = -1;
	}
}

void *irc_percpu_read(int fd, size_t size, int *ncpu, int *err)
{
	__u32 zero = 0;
	void *vals;

	*ncpu = libbpf_num_possible_cpus();
	if (*ncpu <= 0) {
		*err = -EINVAL;
		return NULL;
	}
	/* The kernel rounds each CPU's value up to 8 bytes. */
	vals = calloc(*ncpu, (size + 7) & ~(size_t)7);
	if (!vals) {
		*err = -ENOMEM;
		return NULL;
	}
	if (bpf_map_lookup_elem(fd, &zero, vals)) {
		*err = -errno;
		free(vals);
		return NULL;
	}
	*err = 0;
	return vals;
}

int irc_config_read(const struct irc_maps *m, struct irc_config *cfg)
{
	__u32 zero = 0;

	if (bpf_map_lookup_elem(m->fd[IRC_M_CONFIG], &zero, cfg)) {
		irc_err("read map %s: %s", irc_map_names[IRC_M_CONFIG], strerror(errno));
		return -errno;
	}
	return 0;
}

int irc_config_write(const struct irc_maps *m, const struct irc_config *cfg)
{
	__u32 zero = 0;

	if (bpf_map_update_elem(m->fd[IRC_M_CONFIG], &zero, cfg, BPF_ANY)) {
		irc_err("update map %s: %s", irc_map_names[IRC_M_CONFIG], strerror(errno));
		return -errno;
	}
	return 0;
}

static int pins_lock(int how)
{
	int fd = open(irc.pin_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	if (flock(fd, how)) {
		int err = -errno;

		close(fd);
		return err;
	}
	return fd;
}

int irc_pins_lock(void)
{
	return pins_lock(LOCK_EX);
}

int irc_pins_trylock(void)
{
	return pins_lock(LOCK_EX | LOCK_NB);
}

void irc_pins_unlock(int fd)
{
	if (fd >= 0)
		close(fd);	/* closing drops the flock */
}

/* Unpins everything in one of the pin dir's subdirs, then the subdir. */
static int subdir_remove(int (*path_of)(char *, size_t, const char *))
{
	char path[4096], p[4096];
	struct dirent *de;
	DIR *d;
	int err = 0;

	if (path_of(path, sizeof(path), "") || !(d = opendir(path)))
		return 0;
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		if (!path_of(p, sizeof(p), de->d_name) && unlink(p) && errno != ENOENT) {
			err = -errno;
			irc_err("unpin %s: %s", p, strerror(errno));
		}
	}
	closedir(d);
	if (rmdir(path) && errno != ENOENT) {
		err = -errno;
		irc_err("remove %s: %s", path, strerror(errno));
	}
	return err;
}

int irc_pins_remove(void)
{
	char path[4096];
	int i, e;
	int err = 0;

	/* Links first (it is their removal that detaches), then programs and maps. */
	err = subdir_remove(irc_link_path);
	e = subdir_remove(irc_prog_path);
	err = err ?: e;
	for (i = 0; i < IRC_M__MAX; i++) {
		if (irc_pin_path(path, sizeof(path), irc_map_names[i]))
			continue;
		if (unlink(path) && errno != ENOENT) {
			err = -errno;
			irc_err("unpin %s: %s", path, strerror(errno));
		}
	}
	if (rmdir(irc.pin_dir) && errno != ENOENT) {
		/* Something not ours is in there: leave it, say so. */
		irc_warn("pin dir %s not removed: %s", irc.pin_dir, strerror(errno));
	}
	return err;
}

/* The process holding an flock on the inode of @st, from /proc/locks; 0 if unknown. */
static long flock_holder(const struct stat *st)
{
	char line[256], want[64];
	long pid, found = 0;
	FILE *f = fopen("/proc/locks", "re");

	if (!f)
		return 0;
	snprintf(want, sizeof(want), "%02x:%02x:%lu ", major(st->st_dev), minor(st->st_dev),
		 (unsigned long)st->st_ino);
	while (!found && fgets(line, sizeof(line), f)) {
		char *p = strstr(line, "FLOCK");

		if (p && strstr(line, want) && sscanf(p, "FLOCK %*s %*s %ld", &pid) == 1)
			found = pid;
	}
	fclose(f);
	return found;
}

int irc_run_lock(long *holder)
{
	char path[4096];
	struct stat st;
	int fd, err;

	*holder = 0;
	err = irc_link_path(path, sizeof(path), "");
	if (err)
		return err;
	fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (flock(fd, LOCK_EX | LOCK_NB)) {
		err = -errno;
		if (err == -EWOULDBLOCK && !fstat(fd, &st))
			*holder = flock_holder(&st);
		close(fd);
		return err;
	}
	return fd;
}
