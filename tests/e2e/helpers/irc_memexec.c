// SPDX-License-Identifier: GPL-2.0-only
/*
 * Test helper: copies an executable into a memfd and executes it from
 * there (fileless execution), passing the remaining arguments.
 *   irc_memexec /bin/true [ARGS...]
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	extern char **environ;
	struct stat st;
	int in, mfd;

	if (argc < 2) {
		fprintf(stderr, "usage: irc_memexec PROGRAM [ARGS...]\n");
		return 2;
	}
	in = open(argv[1], O_RDONLY | O_CLOEXEC);
	if (in < 0 || fstat(in, &st)) {
		fprintf(stderr, "irc_memexec: open %s: %s\n", argv[1], strerror(errno));
		return 1;
	}
	mfd = memfd_create("irc-test", MFD_CLOEXEC);
	if (mfd < 0 || sendfile(mfd, in, NULL, st.st_size) != st.st_size) {
		fprintf(stderr, "irc_memexec: copy into memfd: %s\n", strerror(errno));
		return 1;
	}
	close(in);
	fexecve(mfd, argv + 1, environ);
	fprintf(stderr, "irc_memexec: fexecve: %s\n", strerror(errno));
	return 1;
}
