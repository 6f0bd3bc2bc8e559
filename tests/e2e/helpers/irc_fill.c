// SPDX-License-Identifier: GPL-2.0-only
/*
 * irc_fill: fills a pinned ircontain map with test entries, fast, for the
 * full-table e2e test (a CLI call per entry would take minutes).
 *
 *   irc_fill q4pfx PIN N live|expired FIRST
 *     N IPv4 /31 prefixes 100.64.0.0 + 2*(FIRST..FIRST+N-1) into the prefix
 *     quarantine map pinned at PIN, each an operator's entry with no TTL
 *     (live) or one that expired at boot (expired).
 *   irc_fill allow4 PIN N
 *     N IPv4 /32 allowlist entries 100.64.x.y.
 *
 * Prints how many went in and the errno name of the first refusal.  Raw
 * bpf(2): the helpers are built without libbpf.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/syscall.h>
#include <linux/bpf.h>
#include <linux/types.h>

#include "ircontain/abi.h"

static int sys_bpf(int cmd, union bpf_attr *a)
{
	return (int)syscall(__NR_bpf, cmd, a, sizeof(*a));
}

static int obj_get(const char *path)
{
	union bpf_attr a;

	memset(&a, 0, sizeof(a));
	a.pathname = (__u64)(unsigned long)path;
	return sys_bpf(BPF_OBJ_GET, &a);
}

static int update(int fd, const void *key, const void *val)
{
	union bpf_attr a;

	memset(&a, 0, sizeof(a));
	a.map_fd = (__u32)fd;
	a.key = (__u64)(unsigned long)key;
	a.value = (__u64)(unsigned long)val;
	a.flags = BPF_ANY;
	return sys_bpf(BPF_MAP_UPDATE_ELEM, &a);
}

static void addr_of(unsigned long i, __u8 *a)
{
	unsigned long v = (100UL << 24) | (64UL << 16) | i;

	a[0] = v >> 24;
	a[1] = v >> 16;
	a[2] = v >> 8;
	a[3] = v;
}

int main(int argc, char **argv)
{
	unsigned long n, i, first = 0, done = 0;
	int fd, err = 0;
	char *end;

	if (argc < 4) {
		fprintf(stderr, "usage: irc_fill q4pfx|allow4 PIN N [live|expired FIRST]\n");
		return 2;
	}
	n = strtoul(argv[3], &end, 10);
	if (*end || n > 1UL << 21)
		return 2;
	if (argc > 5) {
		first = strtoul(argv[5], &end, 10);
		if (*end)
			return 2;
	}
	fd = obj_get(argv[2]);
	if (fd < 0) {
		perror(argv[2]);
		return 1;
	}
	for (i = 0; i < n && !err; i++) {
		if (!strcmp(argv[1], "q4pfx")) {
			struct irc_lpm4 k = { .prefixlen = 31 };
			struct irc_qentry v = { .dir = IRC_DIR_BOTH, .plen = 31 };

			addr_of(2 * (first + i), k.addr);
			v.expires_ns = argc > 4 && !strcmp(argv[4], "expired") ? 1 : 0;
			snprintf(v.reason, sizeof(v.reason), "fill");
			err = update(fd, &k, &v) ? errno : 0;
		} else if (!strcmp(argv[1], "allow4")) {
			struct irc_lpm4 k = { .prefixlen = 32 };
			struct irc_allow v = { .flags = IRC_ALLOW_ALWAYS, .plen = 32 };

			addr_of(i, k.addr);
			err = update(fd, &k, &v) ? errno : 0;
		} else {
			return 2;
		}
		done += !err;
	}
	printf("%lu%s%s\n", done, err ? " " : "", err ? strerrorname_np(err) : "");
	close(fd);
	return err ? 1 : 0;
}
