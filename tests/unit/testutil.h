/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Shared by the unit tests: table checks that report every failing row
 * before failing once, and removal of a scratch directory tree.  Include
 * after <cmocka.h>.
 */
#ifndef IRC_TESTUTIL_H
#define IRC_TESTUTIL_H

#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

/* Counts a failed row in @bad and says why; the test fails once, at the end. */
#define EXPECT(bad, cond, ...)						\
	do {								\
		if (!(cond)) {						\
			print_error(__VA_ARGS__);			\
			print_error("\n");				\
			(bad)++;					\
		}							\
	} while (0)

static inline int tu_rm_entry(const char *path, const struct stat *sb, int flag,
			      struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(path);
}

/* Removes @dir and everything below it; 0 or -1. */
static inline int tu_rm_tree(const char *dir)
{
	return nftw(dir, tu_rm_entry, 16, FTW_DEPTH | FTW_PHYS) ? -1 : 0;
}

/* Scratch trees (a fake /proc): a file, a directory, a symlink under @root. */
static inline void tu_put_file(const char *root, const char *rel, const void *data,
			       size_t n)
{
	char path[256];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", root, rel);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, data, n), (ssize_t)n);
	close(fd);
}

static inline void tu_put_dir(const char *root, const char *rel)
{
	char path[256];

	snprintf(path, sizeof(path), "%s/%s", root, rel);
	assert_int_equal(mkdir(path, 0755), 0);
}

static inline void tu_put_link(const char *root, const char *rel, const char *target)
{
	char path[256];

	snprintf(path, sizeof(path), "%s/%s", root, rel);
	assert_int_equal(symlink(target, path), 0);
}

#endif /* IRC_TESTUTIL_H */
