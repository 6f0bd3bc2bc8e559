/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Trust nothing we did not create: the pin dir, the state dir, the keys
 * and the database must belong to the user running ircontain (root) and
 * be writable by nobody else.  Directories are opened with O_NOFOLLOW and
 * checked with fstat on the descriptor, so a symlink or a swap between
 * check and use is refused rather than followed.  Files in a checked
 * directory are checked with fstatat(AT_SYMLINK_NOFOLLOW): never by
 * opening them (an open and close of the database file would drop this
 * process's SQLite locks).
 */
#ifndef IRC_OWNED_H
#define IRC_OWNED_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/stat.h>

/*
 * Opens the directory @path (@what names it in messages), creating it
 * with @mode if @create and it is missing.  Refused: a symlink, not a
 * directory, another owner, group or other write.  A directory of ours
 * that others may read or search is tightened to @mode (by descriptor,
 * never through a link).  Returns the O_DIRECTORY fd, or -errno with the
 * reason in @msg.
 */
int irc_owned_dir(const char *path, const char *what, bool create, mode_t mode,
		  char *msg, size_t len);

/*
 * Checks @st (of @path) as irc_owned_dir() checks a directory, for a
 * regular file; with @private, any group or other permission is refused
 * too.  Returns 0 or -errno with the reason in @msg.
 */
int irc_owned_stat(const struct stat *st, const char *path, const char *what,
		   bool private, char *msg, size_t len);

/* The file @name in the checked directory @dirfd, without opening it. */
int irc_owned_at(int dirfd, const char *dir, const char *name, const char *what,
		 bool private, char *msg, size_t len);

#endif /* IRC_OWNED_H */
