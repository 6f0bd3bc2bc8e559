// SPDX-License-Identifier: GPL-2.0-only
/* /proc walks for process quarantine. */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <bpf/bpf.h>

#include "parse.h"
#include "proc.h"

#define PF_KTHREAD	0x00200000

int irc_proc_read(int pid, struct irc_proc *p)
{
	char path[64], buf[1024], *rp;
	unsigned long flags;
	int ppid;
	size_t n;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	f = fopen(path, "re");
	if (!f)
		return errno == ENOENT ? -ESRCH : -errno;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	/* "PID (COMM) STATE PPID PGRP SESSION TTY TPGID FLAGS ..." */
	rp = strrchr(buf, ')');
	if (!rp || sscanf(rp + 1, " %c %d %*d %*d %*d %*d %lu", &p->state,
			  &ppid, &flags) != 3)
		return -EIO;
	memset(p->comm, 0, sizeof(p->comm));
	if (strchr(buf, '('))
		snprintf(p->comm, sizeof(p->comm), "%.*s",
			 (int)(rp - strchr(buf, '(') - 1), strchr(buf, '(') + 1);
	p->pid = pid;
	p->ppid = ppid;
	p->kthread = flags & PF_KTHREAD;
	p->tgid = pid;
	/* A thread's /proc/TID is reachable too: find its process. */
	snprintf(path, sizeof(path), "/proc/%d/status", pid);
	f = fopen(path, "re");
	if (f) {
		while (fgets(buf, sizeof(buf), f))
			if (sscanf(buf, "Tgid: %d", &p->tgid) == 1)
				break;
		fclose(f);
	}
	return 0;
}

int irc_proc_is_ancestor(int anc, int pid)
{
	struct irc_proc p;
	int depth;

	/* Bounded: a PID cycle cannot happen, but a racing reuse could. */
	for (depth = 0; pid > 0 && depth < 4096; depth++) {
		if (pid == anc)
			return 1;
		if (irc_proc_read(pid, &p))
			return 0;
		pid = p.ppid;
	}
	return 0;
}

struct pp {
	int pid, ppid;
};

static int cmp_ppid(const void *a, const void *b)
{
	const struct pp *x = a, *y = b;

	return (x->ppid > y->ppid) - (x->ppid < y->ppid);
}

int irc_proc_descendants(int root, int **out, size_t *n)
{
	struct pp *all = NULL;
	size_t nall = 0, cap = 0, head = 0, i;
	struct dirent *de;
	int *res = NULL;
	DIR *d;

	*n = 0;
	d = opendir("/proc");
	if (!d)
		return -errno;
	while ((de = readdir(d))) {
		struct irc_proc p;
		uint64_t pid;

		if (irc_parse_u64(de->d_name, 1, INT32_MAX, &pid, NULL) ||
		    irc_proc_read(pid, &p))
			continue;
		if (nall == cap) {
			void *t = realloc(all, (cap = cap ? cap * 2 : 512) * sizeof(*all));

			if (!t)
				goto nomem;
			all = t;
		}
		all[nall].pid = p.pid;
		all[nall++].ppid = p.ppid;
	}
	closedir(d);
	d = NULL;
	if (nall)
		qsort(all, nall, sizeof(*all), cmp_ppid);

	/* Breadth-first from root over the children index. */
	res = malloc((nall + 1) * sizeof(*res));
	if (!res)
		goto nomem;
	res[0] = root;
	for (*n = 1; head < *n; head++) {
		struct pp key = { .ppid = res[head] };
		struct pp *hit = bsearch(&key, all, nall, sizeof(*all), cmp_ppid);

		if (!hit)
			continue;
		while (hit > all && hit[-1].ppid == key.ppid)
			hit--;
		for (i = hit - all; i < nall && all[i].ppid == key.ppid; i++)
			if (*n <= nall)
				res[(*n)++] = all[i].pid;
	}
	/* Drop root itself from the front. */
	memmove(res, res + 1, (*n - 1) * sizeof(*res));
	(*n)--;
	free(all);
	*out = res;
	return 0;
nomem:
	if (d)
		closedir(d);
	free(all);
	*n = 0;
	return -ENOMEM;
}

int irc_sock_cut_add(uint64_t cookie, void *ctx)
{
	struct irc_sock_cut *c = ctx;

	if (bpf_map_update_elem(c->fd, &cookie, &c->v, BPF_NOEXIST) && errno != EEXIST) {
		if (errno == E2BIG || errno == ENOMEM) {
			c->full = 1;
			return 0;
		}
		return -errno;
	}
	return 0;
}

int irc_proc_sockets(int pid, int (*cb)(uint64_t cookie, void *ctx), void *ctx)
{
	char dir[64], target[64];
	int pidfd, count = 0, err = 0;
	struct dirent *de;
	DIR *d;

	pidfd = syscall(SYS_pidfd_open, pid, 0);
	if (pidfd < 0)
		return errno == ESRCH ? -ESRCH : -errno;
	snprintf(dir, sizeof(dir), "/proc/%d/fd", pid);
	d = opendir(dir);
	if (!d) {
		err = -errno;
		close(pidfd);
		return err;
	}
	while ((de = readdir(d))) {
		uint64_t fdnum, cookie;
		socklen_t len;
		int fd, domain;
		ssize_t n;

		if (irc_parse_u64(de->d_name, 0, INT32_MAX, &fdnum, NULL))
			continue;
		n = readlinkat(dirfd(d), de->d_name, target, sizeof(target) - 1);
		if (n < 0)
			continue;
		target[n] = '\0';
		if (strncmp(target, "socket:[", 8))
			continue;
		fd = syscall(SYS_pidfd_getfd, pidfd, (int)fdnum, 0);
		if (fd < 0 && errno == EBADF)
			continue;	/* closed meanwhile */
		if (fd < 0) {
			/* Refused (Yama, an LSM): say so, never report 0 cut. */
			err = -errno;
			break;
		}
		len = sizeof(domain);
		if (!getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &domain, &len) &&
		    (domain == AF_INET || domain == AF_INET6)) {
			len = sizeof(cookie);
			if (getsockopt(fd, SOL_SOCKET, SO_COOKIE, &cookie, &len))
				err = -errno;
			else if ((err = cb(cookie, ctx)) == 0)
				count++;
		}
		close(fd);
		if (err)
			break;
	}
	closedir(d);
	close(pidfd);
	return err ? err : count;
}
