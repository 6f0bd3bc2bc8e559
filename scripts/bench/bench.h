/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Shared by the benchmark programs: the median of a round's figures, the
 * load average printed beside them (the machine is shared), and the
 * reference hash's hosts (scripts/bench/bench_ref.bpf.c), the same
 * addresses as ircontain's (tl_addr4).
 */
#ifndef IRC_BENCH_H
#define IRC_BENCH_H

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "testlib.h"

static inline int bench_cmp_dbl(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/*
 * @s as a number from @min to @max, or one line on stderr naming @prog,
 * @what and the bad value, and exit 2.
 */
static inline unsigned long bench_arg_num(const char *prog, const char *s,
					  unsigned long min, unsigned long max,
					  const char *what)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || end == s || *end || v < min || v > max) {
		fprintf(stderr, "%s: %s '%s': not a number from %lu to %lu\n", prog, what, s,
			min, max);
		exit(2);
	}
	return v;
}

/* Sorts @v (n > 0) and returns its median. */
static inline double bench_median(double *v, int n)
{
	qsort(v, n, sizeof(*v), bench_cmp_dbl);
	return v[n / 2];
}

/* The 1-minute load average: -1 if unreadable. */
static inline double bench_loadavg(void)
{
	FILE *f = fopen("/proc/loadavg", "r");
	double l = -1;

	if (f) {
		if (fscanf(f, "%lf", &l) != 1)
			l = -1;
		fclose(f);
	}
	return l;
}

/* Hosts [from, to) into the reference program's hash @fd: 0 or -errno. */
static inline int bench_fill_ref(int fd, __u32 from, __u32 to)
{
	static const __u64 zero;

	for (; from < to; from++) {
		__u32 k = tl_addr4(from);

		if (bpf_map_update_elem(fd, &k, &zero, BPF_ANY))
			return -errno;
	}
	return 0;
}

#endif /* IRC_BENCH_H */
