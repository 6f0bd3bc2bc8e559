// SPDX-License-Identifier: GPL-2.0-only
/* Ownership checks of what ircontain trusts; see owned.h. */
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "owned.h"

/* "uid 1000 (alice)" */
static void owner_name(uid_t uid, char *buf, size_t len)
{
	struct passwd *pw = getpwuid(uid);

	if (pw)
		snprintf(buf, len, "uid %u (%s)", (unsigned int)uid, pw->pw_name);
	else
		snprintf(buf, len, "uid %u", (unsigned int)uid);
}

static int check(const struct stat *st, const char *path, const char *what, bool dir,
		 bool private, char *msg, size_t len)
{
	char who[96], me[96];

	if (dir ? !S_ISDIR(st->st_mode) : !S_ISREG(st->st_mode)) {
		snprintf(msg, len, "%s %s: refused: not a %s", what, path,
			 dir ? "directory" : "regular file");
		return -EPERM;
	}
	if (st->st_uid != geteuid()) {
		owner_name(st->st_uid, who, sizeof(who));
		owner_name(geteuid(), me, sizeof(me));
		snprintf(msg, len, "%s %s: refused: it belongs to %s, not to %s; whoever owns it "
			 "could change or replace what ircontain keeps there", what, path, who, me);
		return -EPERM;
	}
	if (st->st_mode & (private ? 077 : 022)) {
		snprintf(msg, len, "%s %s: refused: mode %04o lets %s (expected %s)", what, path,
			 st->st_mode & 07777,
			 st->st_mode & 022 ? "group or others write it" : "group or others read it",
			 private ? "0600" : "no group/other write");
		return -EPERM;
	}
	return 0;
}

int irc_owned_stat(const struct stat *st, const char *path, const char *what,
		   bool private, char *msg, size_t len)
{
	return check(st, path, what, false, private, msg, len);
}

int irc_owned_at(int dirfd, const char *dir, const char *name, const char *what,
		 bool private, char *msg, size_t len)
{
	char path[4200];
	struct stat st;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW)) {
		int err = -errno;

		snprintf(msg, len, "%s %s: %s", what, path, strerror(errno));
		return err;
	}
	return check(&st, path, what, false, private, msg, len);
}

int irc_owned_dir(const char *path, const char *what, bool create, mode_t mode,
		  char *msg, size_t len)
{
	struct stat st;
	int fd, err;

	if (create && mkdir(path, mode) && errno != EEXIST) {
		err = -errno;
		snprintf(msg, len, "create %s %s: %s", what, path, strerror(errno));
		return err;
	}
	fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		err = -errno;
		if (errno == ELOOP || errno == ENOTDIR) {
			struct stat lst;

			if (!lstat(path, &lst) && S_ISLNK(lst.st_mode)) {
				snprintf(msg, len, "%s %s: refused: it is a symbolic link; give the real path",
					 what, path);
				return -ELOOP;
			}
		}
		snprintf(msg, len, "open %s %s: %s", what, path, strerror(-err));
		return err;
	}
	if (fstat(fd, &st)) {
		err = -errno;
		snprintf(msg, len, "stat %s %s: %s", what, path, strerror(errno));
		close(fd);
		return err;
	}
	err = check(&st, path, what, true, false, msg, len);
	if (err) {
		close(fd);
		return err;
	}
	/* Ours, not writable by others: readable by them is only tightened. */
	if (st.st_mode & 07777 & ~mode)
		fchmod(fd, mode);
	return fd;
}
