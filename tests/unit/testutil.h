/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Shared by the unit tests: table checks that report every failing row
 * before failing once, and removal of a scratch directory tree.  Include
 * after <cmocka.h>.
 */
#ifndef IRC_TESTUTIL_H
#define IRC_TESTUTIL_H

#include <ftw.h>
#include <stdio.h>

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

#endif /* IRC_TESTUTIL_H */
