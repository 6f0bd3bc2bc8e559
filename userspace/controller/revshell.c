// SPDX-License-Identifier: GPL-2.0-only
/*
 * Reverse shells by behaviour (see revshell.h).
 *
 * Cost per exec: one stat() of /proc/PID/exe and a cache probe for most
 * execs (the binary is no shell); a shell that reads stdin costs its argv
 * parse, then a read of the fds of a few processes of its tree (its
 * ancestors, their children) only when its stdin is a pipe, fifo or pty.
 * A binary seen for the first time (a new inode) costs one read of its ELF
 * notes, and a SHA-256 only when its size is that of a known shell.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <dirent.h>
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "cgroup.h"
#include "irc.h"
#include "revshell.h"

#define MAX_KNOWN	64	/* shells and interpreters on the host */
#define VCACHE		1024	/* binaries identified (direct mapped) */
#define MAX_CAND	32	/* processes looked at around one shell */
#define MAX_OBJ		64	/* pipes, ptys and sockets kept per process */
#define MAX_FDS		256	/* descriptors read per process */
#define MAX_ANC		4	/* ancestors looked at */
#define MAX_HOPS	2	/* relays in between: cat in `cat f | sh -i | nc` */
#define MAX_WATCH	128
#define RSH_WATCH_S	30	/* a watched shell's relay may connect this late */
#define RSH_RECHECK_MS	250
#define RSH_PEER_WAIT_MS 2000	/* a relay's socket seen without a peer: waited for this long */
#define NOTE_MAX	4096

struct known {
	uint64_t dev, ino;
	off_t size;
	uint8_t bid[20];
	uint8_t nbid;
	uint8_t sha[32];
	bool sha_ok;
	uint8_t kind;
	char name[24];
	char path[IRC_RSH_EXE_LEN];
};

struct vent {
	uint64_t dev, ino;
	off_t size;
	int64_t mtime_ns;
	uint8_t kind;
	uint8_t idx;		/* into known[] */
	uint8_t by;		/* 0 inode, 1 build-id, 2 sha256 */
	bool used;
};

enum okind { O_NONE, O_PIPE, O_FIFO, O_PTS, O_PTM, O_INET, O_OTHER };

struct obj {
	uint8_t kind;
	uint8_t mode;		/* a pipe or fifo: ACC_R, ACC_W bits of its open mode */
	uint64_t dev, ino;	/* a pty: its index in ino */
};

#define ACC_R	1
#define ACC_W	2

struct pinfo {
	int pid, ppid;
	uint64_t start;
	int nobj;
	struct obj o[MAX_OBJ];
	struct obj io[3];
	int inet;		/* index in o[] of its first IPv4/IPv6 socket, -1 */
	char proto[8];
};

#define SCOPE_CACHE	256

struct scope_ent {
	uint64_t id;
	bool in;
};

struct watch {
	int pid;
	uint64_t start;
	int anc[MAX_ANC];
	uint64_t exec_ns, until_ns;
	uint64_t nopeer_ns;	/* first seen with a relay whose socket had no peer (0: not) */
	uint8_t kind, idx, by;
	bool used;
};

struct irc_rsh {
	char proc[64];
	char scope[IRC_PATH_LEN];
	char cgmnt[IRC_PATH_LEN];	/* the cgroup2 mount, "": unknown */
	struct known known[MAX_KNOWN];
	int nknown;
	struct vent vc[VCACHE];
	struct scope_ent sc[SCOPE_CACHE];
	struct pinfo cand[MAX_CAND];
	int ncand;
	struct watch w[MAX_WATCH];
	uint64_t next_tick_ns;
	/* Direct hits held to the end of the ring batch: the kernel may have reported them. */
	struct irc_rsh_hit held[8];
	int nheld;
	char allowed[IRC_RSH_ALLOWED][IRC_RSH_PATH_LEN];
	int nallowed;
	bool (*cb)(void *ctx, const struct irc_rsh_hit *hit);
	void *ctx;
	struct irc_rsh_stats st;
};

static const char *const shell_names[] = {
	"sh", "bash", "rbash", "dash", "zsh", "ksh", "ksh93", "mksh", "pdksh", "oksh",
	"csh", "tcsh", "fish", "ash", "yash", "posh", NULL,
};
/* Interpreters that run what they read on stdin; "python3" also matches "python3.11". */
static const char *const interp_names[] = {
	"python", "python2", "python3", "perl", "ruby", "irb", "php", "node", "nodejs",
	"lua", "luajit", "tclsh", "wish", "expect", "guile", "pwsh", NULL,
};

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_BOOTTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

/* @base is @name, or @name followed by a version ("python3.11", "perl5.36.0"). */
static bool name_is(const char *base, const char *name)
{
	size_t n = strlen(name);
	const char *p;

	if (strncmp(base, name, n))
		return false;
	for (p = base + n; *p; p++)
		if (!isdigit((unsigned char)*p) && *p != '.')
			return false;
	return true;
}

static int kind_of_name(const char *base)
{
	int i;

	for (i = 0; shell_names[i]; i++)
		if (!strcmp(base, shell_names[i]))
			return IRC_RSH_SHELL;
	for (i = 0; interp_names[i]; i++)
		if (name_is(base, interp_names[i]))
			return IRC_RSH_INTERP;
	return IRC_RSH_NONE;
}

/* The GNU build-id of an ELF64 file, from its PT_NOTE segments; 0 if none. */
static int build_id(int fd, uint8_t out[20])
{
	Elf64_Ehdr eh;
	Elf64_Phdr ph;
	uint8_t note[NOTE_MAX];
	int i;

	if (pread(fd, &eh, sizeof(eh), 0) != sizeof(eh) || memcmp(eh.e_ident, ELFMAG, SELFMAG) ||
	    eh.e_ident[EI_CLASS] != ELFCLASS64 || eh.e_phentsize != sizeof(ph) || eh.e_phnum > 64)
		return 0;
	for (i = 0; i < eh.e_phnum; i++) {
		size_t off = 0, len;

		if (pread(fd, &ph, sizeof(ph), (off_t)(eh.e_phoff + (uint64_t)i * sizeof(ph))) !=
		    sizeof(ph) || ph.p_type != PT_NOTE)
			continue;
		len = ph.p_filesz < sizeof(note) ? ph.p_filesz : sizeof(note);
		if (pread(fd, note, len, (off_t)ph.p_offset) != (ssize_t)len)
			continue;
		while (off + sizeof(Elf64_Nhdr) <= len) {
			Elf64_Nhdr nh;
			size_t name_at = off + sizeof(nh), desc_at;

			memcpy(&nh, note + off, sizeof(nh));
			desc_at = name_at + ((nh.n_namesz + 3) & ~3U);
			if (desc_at + nh.n_descsz > len)
				break;
			if (nh.n_type == NT_GNU_BUILD_ID && nh.n_namesz == 4 &&
			    !memcmp(note + name_at, "GNU", 4) && nh.n_descsz >= 8 && nh.n_descsz <= 20) {
				memcpy(out, note + desc_at, nh.n_descsz);
				return (int)nh.n_descsz;
			}
			off = desc_at + ((nh.n_descsz + 3) & ~3U);
		}
	}
	return 0;
}

static int sha256_fd(int fd, uint8_t out[32])
{
	crypto_hash_sha256_state st;
	uint8_t buf[65536];
	off_t off = 0;
	ssize_t n;

	crypto_hash_sha256_init(&st);
	while ((n = pread(fd, buf, sizeof(buf), off)) > 0) {
		crypto_hash_sha256_update(&st, buf, (unsigned long long)n);
		off += n;
	}
	if (n < 0)
		return -errno;
	crypto_hash_sha256_final(&st, out);
	return 0;
}

static void known_add(struct irc_rsh *r, const char *path, int kind)
{
	char real[PATH_MAX];
	struct known *k;
	struct stat st;
	const char *base;
	int fd, i;

	if (r->nknown == MAX_KNOWN || !realpath(path, real))
		return;
	fd = open(real, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0)
		return;
	if (fstat(fd, &st) || !S_ISREG(st.st_mode))
		goto out;
	for (i = 0; i < r->nknown; i++)
		if (r->known[i].dev == st.st_dev && r->known[i].ino == st.st_ino)
			goto out;
	base = strrchr(real, '/');
	base = base ? base + 1 : real;
	/* A link's target names the binary: /bin/sh -> dash.  Not a shell by that name: not one. */
	if (!kind)
		kind = kind_of_name(base);
	if (!kind)
		goto out;
	k = &r->known[r->nknown++];
	memset(k, 0, sizeof(*k));
	k->dev = st.st_dev;
	k->ino = st.st_ino;
	k->size = st.st_size;
	k->kind = (uint8_t)kind;
	k->nbid = (uint8_t)build_id(fd, k->bid);
	snprintf(k->name, sizeof(k->name), "%.23s", base);
	snprintf(k->path, sizeof(k->path), "%.255s", real);
out:
	close(fd);
}

static void known_scan(struct irc_rsh *r)
{
	static const char *const dirs[] = { "/usr/bin", "/bin", "/usr/local/bin", NULL };
	char line[PATH_MAX], path[PATH_MAX];
	struct dirent *de;
	FILE *f;
	DIR *d;
	int i;

	for (i = 0; dirs[i]; i++) {
		d = opendir(dirs[i]);
		if (!d)
			continue;
		while ((de = readdir(d))) {
			if (de->d_name[0] == '.' || !kind_of_name(de->d_name))
				continue;
			snprintf(path, sizeof(path), "%s/%s", dirs[i], de->d_name);
			known_add(r, path, 0);
		}
		closedir(d);
	}
	/* The login shells the host declares, whatever their names. */
	f = fopen("/etc/shells", "re");
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		const char *b;

		line[strcspn(line, "\n")] = '\0';
		b = strrchr(line, '/');
		if (line[0] != '/' || !b || !strcmp(b, "/tmux") || !strcmp(b, "/screen") ||
		    !strcmp(b, "/nologin") || !strcmp(b, "/false") || !strcmp(b, "/git-shell"))
			continue;
		known_add(r, line, IRC_RSH_SHELL);
	}
	fclose(f);
}

int irc_rsh_open(struct irc_rsh **rp, const char *proc_root, const char *cgroup_mount,
		 const char *scope)
{
	struct irc_rsh *r = calloc(1, sizeof(*r));

	if (!r)
		return -ENOMEM;
	snprintf(r->proc, sizeof(r->proc), "%s", proc_root);
	snprintf(r->scope, sizeof(r->scope), "%s", scope && strcmp(scope, "/") ? scope : "");
	snprintf(r->cgmnt, sizeof(r->cgmnt), "%s", cgroup_mount ? cgroup_mount : "");
	known_scan(r);
	*rp = r;
	return 0;
}

void irc_rsh_close(struct irc_rsh *r)
{
	free(r);
}

void irc_rsh_set_cb(struct irc_rsh *r, bool (*cb)(void *, const struct irc_rsh_hit *), void *ctx)
{
	r->cb = cb;
	r->ctx = ctx;
}

int irc_rsh_known(const struct irc_rsh *r)
{
	return r->nknown;
}

void irc_rsh_allow(struct irc_rsh *r, const char (*paths)[IRC_RSH_PATH_LEN], int n)
{
	int i;

	r->nallowed = 0;
	for (i = 0; i < n && i < IRC_RSH_ALLOWED; i++)
		if (paths[i][0])
			snprintf(r->allowed[r->nallowed++], IRC_RSH_PATH_LEN, "%.*s",
				 IRC_RSH_PATH_LEN - 1, paths[i]);
}

const struct irc_rsh_stats *irc_rsh_stats(const struct irc_rsh *r)
{
	return &r->st;
}

/* --- argv --------------------------------------------------------------- */

bool irc_rsh_stdin_commands(int kind, const char *args, size_t len)
{
	const char *p = args, *end = args + len;
	bool inter = false, from_stdin = false, prog = false, operand = false, skip = false;
	int i;

	for (i = 0; p < end && !operand; p += strnlen(p, (size_t)(end - p)) + 1, i++) {
		/* Each word NUL-terminated here: the kernel's argv may be cut mid-word. */
		char a[64];
		const char *c;

		if (i == 0)
			continue;
		snprintf(a, sizeof(a), "%.*s", (int)strnlen(p, (size_t)(end - p)), p);
		if (skip) {
			skip = false;
			continue;
		}
		if (!strcmp(a, "-")) {
			from_stdin = true;
			break;
		}
		if (!strcmp(a, "--")) {
			/* What follows is the operand: a script, unless there is none. */
			operand = p + 3 < end;
			break;
		}
		if (a[0] == '-' && a[1] == '-') {
			/* bash's long options that take a value. */
			skip = !strcmp(a, "--rcfile") || !strcmp(a, "--init-file");
			if (!strcmp(a, "--interactive"))
				inter = true;
			continue;
		}
		if ((a[0] != '-' && a[0] != '+') || !a[1]) {
			operand = true;
			break;
		}
		for (c = a + 1; *c; c++) {
			if (*c == 'i')
				inter = true;
			else if (*c == 's' && kind == IRC_RSH_SHELL)
				from_stdin = true;
			else if (*c == 'c')
				prog = true;
			else if (kind == IRC_RSH_SHELL && (*c == 'o' || *c == 'O')) {
				skip = !c[1];
				break;
			} else if (kind == IRC_RSH_INTERP && strchr("eErpm", *c)) {
				prog = true;
				break;
			} else if (kind == IRC_RSH_INTERP && strchr("WXIM", *c)) {
				skip = !c[1];
				break;
			}
			/* python -c CODE: the rest of the cluster, or the next argument. */
			if (*c == 'c' && kind == IRC_RSH_INTERP)
				break;
		}
	}
	if (prog)
		return false;
	return inter || from_stdin || !operand;
}

/* --- identity ------------------------------------------------------------- */

static uint32_t vhash(uint64_t dev, uint64_t ino)
{
	uint64_t h = (dev * 0x9E3779B97F4A7C15ULL) ^ (ino * 0xC2B2AE3D27D4EB4FULL);

	return (uint32_t)(h >> 40) % VCACHE;
}

/*
 * The known binary @pid runs, by identity: -1 if none.  @by: 0 the same
 * file, 1 the same build-id, 2 the same contents.
 */
static int identify(struct irc_rsh *r, int pid, int *by)
{
	char path[96];
	struct stat st;
	struct vent *v;
	uint8_t bid[20], sha[32];
	int fd, i, nbid, idx = -1, how = 0;

	snprintf(path, sizeof(path), "%s/%d/exe", r->proc, pid);
	if (stat(path, &st) || !S_ISREG(st.st_mode))
		return -1;
	v = &r->vc[vhash(st.st_dev, st.st_ino)];
	if (v->used && v->dev == st.st_dev && v->ino == st.st_ino && v->size == st.st_size &&
	    v->mtime_ns == (int64_t)st.st_mtim.tv_sec * 1000000000LL + st.st_mtim.tv_nsec) {
		*by = v->by;
		return v->kind ? v->idx : -1;
	}
	for (i = 0; i < r->nknown && idx < 0; i++)
		if (r->known[i].dev == st.st_dev && r->known[i].ino == st.st_ino)
			idx = i;
	if (idx < 0) {
		r->st.ident_reads++;
		fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
		if (fd < 0)
			return -1;
		nbid = build_id(fd, bid);
		for (i = 0; i < r->nknown && idx < 0 && nbid; i++)
			if (r->known[i].nbid == nbid && !memcmp(r->known[i].bid, bid, (size_t)nbid)) {
				idx = i;
				how = 1;
			}
		/* No build-id match (stripped or rewritten): the same bytes as a known one? */
		for (i = 0; i < r->nknown && idx < 0; i++) {
			struct known *k = &r->known[i];
			int kfd;

			if (k->size != st.st_size)
				continue;
			if (!k->sha_ok && (kfd = open(k->path, O_RDONLY | O_CLOEXEC)) >= 0) {
				k->sha_ok = !sha256_fd(kfd, k->sha);
				close(kfd);
			}
			if (k->sha_ok && !sha256_fd(fd, sha) && !memcmp(sha, k->sha, 32)) {
				idx = i;
				how = 2;
			}
		}
		close(fd);
	}
	*v = (struct vent){ .dev = st.st_dev, .ino = st.st_ino, .size = st.st_size,
		.mtime_ns = (int64_t)st.st_mtim.tv_sec * 1000000000LL + st.st_mtim.tv_nsec,
		.kind = idx >= 0 ? r->known[idx].kind : 0, .idx = (uint8_t)(idx >= 0 ? idx : 0),
		.by = (uint8_t)how, .used = true };
	*by = how;
	return idx;
}

/* --- processes and their descriptors ----------------------------------- */

/* @r->proc/PID/@what into @buf, NUL-terminated; its length, or -1. */
static ssize_t read_proc(const struct irc_rsh *r, int pid, const char *what, char *buf,
			 size_t len)
{
	char path[128];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "%s/%d/%s", r->proc, pid, what);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	n = read(fd, buf, len - 1);
	close(fd);
	buf[n > 0 ? n : 0] = '\0';
	return n > 0 ? n : -1;
}

/* ppid and start time (clock ticks) from /proc/PID/stat. */
static int proc_stat(const struct irc_rsh *r, int pid, int *ppid, uint64_t *start)
{
	char buf[1024], *p;
	unsigned long long st = 0;
	int n, pp = 0;

	if (read_proc(r, pid, "stat", buf, sizeof(buf)) < 0)
		return -ESRCH;
	p = strrchr(buf, ')');
	/* state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt utime stime
	   cutime cstime priority nice threads itrealvalue starttime */
	if (!p || sscanf(p + 2, "%*c %d %*d %*d %*d %*d %*u %*u %*u %*u %*u %*u %*u %*d %*d "
			 "%*d %*d %*d %*d %llu%n", &pp, &st, &n) < 2)
		return -ESRCH;
	if (p[2] == 'Z')
		return -ESRCH;
	*ppid = pp;
	*start = st;
	return 0;
}

static bool is_inet_proto(const char *p)
{
	return !strncmp(p, "TCP", 3) || !strncmp(p, "UDP", 3) || !strncmp(p, "SCTP", 4) ||
	       !strncmp(p, "MPTCP", 5);
}

static void classify(const struct irc_rsh *r, int pid, const char *fd, struct obj *o,
		     char *proto, size_t plen)
{
	char path[128], info[32], buf[256], *t;
	struct stat st;
	ssize_t n;

	o->kind = O_NONE;
	snprintf(info, sizeof(info), "fdinfo/%s", fd);
	snprintf(path, sizeof(path), "%s/%d/fd/%s", r->proc, pid, fd);
	if (stat(path, &st))
		return;
	o->dev = st.st_dev;
	o->ino = st.st_ino;
	if (S_ISFIFO(st.st_mode)) {
		n = readlink(path, buf, sizeof(buf) - 1);
		o->kind = n > 5 && !strncmp(buf, "pipe:", 5) ? O_PIPE : O_FIFO;
		/* Which end: fdinfo's flags, in octal (O_ACCMODE). */
		o->mode = ACC_R | ACC_W;
		if (read_proc(r, pid, info, buf, sizeof(buf)) > 0 && (t = strstr(buf, "flags:"))) {
			unsigned long fl = strtoul(t + 6, NULL, 8);

			o->mode = (fl & O_ACCMODE) == O_RDONLY ? ACC_R :
				  (fl & O_ACCMODE) == O_WRONLY ? ACC_W : ACC_R | ACC_W;
		}
	} else if (S_ISCHR(st.st_mode) && major(st.st_rdev) >= 136 && major(st.st_rdev) <= 143) {
		o->kind = O_PTS;
		o->dev = 0;
		o->ino = (major(st.st_rdev) - 136) * 256 + minor(st.st_rdev);
	} else if (S_ISCHR(st.st_mode) && major(st.st_rdev) == 5 && minor(st.st_rdev) == 2) {
		/* A pty master: which pty, from fdinfo (Linux 4.18+). */
		o->kind = O_OTHER;
		if (read_proc(r, pid, info, buf, sizeof(buf)) > 0 && (t = strstr(buf, "tty-index:"))) {
			o->kind = O_PTM;
			o->dev = 0;
			o->ino = strtoull(t + 10, NULL, 10);
		}
	} else if (S_ISSOCK(st.st_mode)) {
		n = getxattr(path, "system.sockprotoname", buf, sizeof(buf) - 1);
		o->kind = O_OTHER;
		if (n > 0) {
			buf[n] = '\0';
			if (is_inet_proto(buf)) {
				o->kind = O_INET;
				if (proto && !proto[0])
					snprintf(proto, plen, "%.7s", buf);
			}
		}
	} else {
		o->kind = O_OTHER;
	}
}

static bool linkable(const struct obj *o)
{
	return o->kind == O_PIPE || o->kind == O_FIFO || o->kind == O_PTS || o->kind == O_PTM;
}

/*
 * @b is the other end of @a's channel: of a pipe or fifo, the end that
 * writes what @a reads (@want ACC_W) or reads what it writes (ACC_R); of a
 * pty, the other side.
 */
static bool joined(const struct obj *a, const struct obj *b, int want)
{
	if ((a->kind == O_PIPE || a->kind == O_FIFO) && (b->kind == O_PIPE || b->kind == O_FIFO))
		return a->dev == b->dev && a->ino == b->ino && (b->mode & want);
	if ((a->kind == O_PTS && b->kind == O_PTM) || (a->kind == O_PTM && b->kind == O_PTS))
		return a->ino == b->ino;
	return false;
}

/* Reads @p's stdio, its pipes, ptys and network sockets. */
static void read_fds(struct irc_rsh *r, struct pinfo *p)
{
	char path[96];
	struct dirent *de;
	int k, seen = 0;
	DIR *d;

	p->nobj = 0;
	p->inet = -1;
	p->proto[0] = '\0';
	for (k = 0; k < 3; k++) {
		char n[4];

		snprintf(n, sizeof(n), "%d", k);
		classify(r, p->pid, n, &p->io[k], NULL, 0);
	}
	snprintf(path, sizeof(path), "%s/%d/fd", r->proc, p->pid);
	d = opendir(path);
	if (!d)
		return;
	while ((de = readdir(d)) && seen < MAX_FDS && p->nobj < MAX_OBJ) {
		struct obj o;

		if (de->d_name[0] == '.')
			continue;
		seen++;
		classify(r, p->pid, de->d_name, &o, p->proto, sizeof(p->proto));
		if (o.kind == O_INET && p->inet < 0)
			p->inet = p->nobj;
		if (o.kind == O_INET || linkable(&o))
			p->o[p->nobj++] = o;
	}
	closedir(d);
}

static int cand_add(struct irc_rsh *r, int pid)
{
	struct pinfo *p;
	int i;

	if (pid <= 1 || pid == getpid())
		return -1;
	for (i = 0; i < r->ncand; i++)
		if (r->cand[i].pid == pid)
			return i;
	if (r->ncand == MAX_CAND)
		return -1;
	p = &r->cand[r->ncand];
	p->pid = pid;
	if (proc_stat(r, pid, &p->ppid, &p->start))
		return -1;
	read_fds(r, p);
	return r->ncand++;
}

static void cand_children(struct irc_rsh *r, int pid)
{
	char what[48], buf[1024], *s, *e;

	snprintf(what, sizeof(what), "task/%d/children", pid);
	if (read_proc(r, pid, what, buf, sizeof(buf)) < 0)
		return;
	for (s = buf; *s; s = e) {
		long c = strtol(s, &e, 10);

		if (e == s)
			break;
		cand_add(r, (int)c);
	}
}

/* 1 if @p holds both ends of @o's pipe: it made it and has not let go (not a relay). */
static bool both_ends(const struct pinfo *p, const struct obj *o)
{
	int j, mode = 0;

	if (o->kind != O_PIPE)
		return false;
	for (j = 0; j < p->nobj; j++)
		if (p->o[j].kind == O_PIPE && p->o[j].dev == o->dev && p->o[j].ino == o->ino)
			mode |= p->o[j].mode;
	return mode == (ACC_R | ACC_W);
}

/*
 * The process (index in cand[]) that holds a network socket and is
 * reached from @o, an end of a channel held by cand[@from], in the
 * direction of the data: what @from reads from @o (@in) comes from it,
 * or what it writes goes to it.  Directly, or through up to MAX_HOPS
 * processes, by what they read (@in) or write.
 */
static int reach(struct irc_rsh *r, int from, const struct obj *o, bool in, int hops,
		 uint32_t *seen)
{
	int i, j, k, got;

	if (!linkable(o))
		return -1;
	for (i = 0; i < r->ncand; i++) {
		struct pinfo *p = &r->cand[i];
		bool holds = false;

		if (i == from || (*seen & (1U << i)))
			continue;
		for (j = 0; j < p->nobj && !holds; j++)
			holds = joined(o, &p->o[j], in ? ACC_W : ACC_R);
		if (!holds || both_ends(p, o))
			continue;
		if (p->inet >= 0)
			return i;
		if (hops >= MAX_HOPS)
			continue;
		/*
		 * On from what it reads (@in) or writes: `cat f | sh -i` reads
		 * the fifo f on a descriptor of its own, not its stdin.
		 */
		*seen |= 1U << i;
		for (k = 0; k < p->nobj; k++) {
			const struct obj *q = &p->o[k];

			if (q->kind == O_INET || (q->dev == o->dev && q->ino == o->ino) ||
			    ((q->kind == O_PIPE || q->kind == O_FIFO) && !(q->mode & (in ? ACC_R : ACC_W))))
				continue;
			got = reach(r, i, q, in, hops + 1, seen);
			if (got >= 0)
				return got;
		}
	}
	return -1;
}

/* The socket (index in cand[@a].o) that cand[@a] and cand[@b] both hold, or -1. */
static int shared_inet(const struct irc_rsh *r, int a, int b)
{
	const struct pinfo *pa = &r->cand[a], *pb = &r->cand[b];
	int i, j;

	for (i = 0; i < pa->nobj; i++)
		for (j = 0; j < pb->nobj && pa->o[i].kind == O_INET; j++)
			if (pb->o[j].kind == O_INET && pb->o[j].dev == pa->o[i].dev &&
			    pb->o[j].ino == pa->o[i].ino)
				return i;
	return -1;
}

static void via(const struct obj *o, char *buf, size_t len)
{
	switch (o->kind) {
	case O_PIPE: snprintf(buf, len, "pipe"); break;
	case O_FIFO: snprintf(buf, len, "fifo"); break;
	case O_PTS: case O_PTM: snprintf(buf, len, "pty %llu", (unsigned long long)o->ino); break;
	case O_INET: snprintf(buf, len, "socket"); break;
	default: snprintf(buf, len, "?"); break;
	}
}

static void read_str(const struct irc_rsh *r, int pid, const char *what, char *buf, size_t len)
{
	char path[96];
	ssize_t n;

	buf[0] = '\0';
	if (!strcmp(what, "exe")) {
		snprintf(path, sizeof(path), "%s/%d/exe", r->proc, pid);
		n = readlink(path, buf, len - 1);
		buf[n > 0 ? n : 0] = '\0';
		return;
	}
	read_proc(r, pid, what, buf, len);
	buf[strcspn(buf, "\n")] = '\0';
	/* A comm is any bytes: text for the record. */
	for (n = 0; buf[n]; n++)
		if ((unsigned char)buf[n] < 0x20 || (unsigned char)buf[n] > 0x7e)
			buf[n] = '?';
}

/* The peer "ADDR:PORT" of socket inode @ino of @pid, from its netns's tables. */
static void sock_remote(const struct irc_rsh *r, int pid, uint64_t ino, char *out, size_t len)
{
	static const char *const tabs[] = { "tcp", "tcp6", "udp", "udp6", NULL };
	char path[96], line[512], rem[64];
	unsigned long long inode;
	unsigned int port;
	FILE *f;
	int t;

	out[0] = '\0';
	for (t = 0; tabs[t] && !out[0]; t++) {
		snprintf(path, sizeof(path), "%s/%d/net/%s", r->proc, pid, tabs[t]);
		f = fopen(path, "re");
		if (!f)
			continue;
		while (fgets(line, sizeof(line), f)) {
			uint32_t a[4] = { 0 };
			char ip[INET6_ADDRSTRLEN];
			size_t i, words;

			/* sl local rem st tx:rx tr:when retr uid timeout inode */
			if (sscanf(line, " %*s %*s %32[0-9A-Fa-f]:%x %*s %*s %*s %*s %*s %*s %llu",
				   rem, &port, &inode) != 3 || inode != ino)
				continue;
			/* Each 32-bit word in host order, as the kernel prints it. */
			words = strlen(rem) / 8;
			for (i = 0; i < words && i < 4; i++) {
				char w[9];

				memcpy(w, rem + i * 8, 8);
				w[8] = '\0';
				a[i] = (uint32_t)strtoul(w, NULL, 16);
			}
			if (!inet_ntop(words == 1 ? AF_INET : AF_INET6, a, ip, sizeof(ip)))
				break;
			snprintf(out, len, words == 1 ? "%s:%u" : "[%s]:%u", ip, port);
			break;
		}
		fclose(f);
	}
}

bool irc_rsh_allowed(const struct irc_rsh *r, const char *exe)
{
	int i;

	for (i = 0; i < r->nallowed; i++) {
		size_t n = strlen(r->allowed[i]);

		/* A pattern ending in '*' is a prefix, as the policy's paths are. */
		if (n && r->allowed[i][n - 1] == '*' ? !strncmp(exe, r->allowed[i], n - 1)
						   : !strcmp(exe, r->allowed[i]))
			return true;
	}
	return false;
}

/*
 * Looks around the shell @pid (known binary known[@idx], found @by):
 * its stdin and its stdout (or stderr) must reach the same process that
 * holds a network socket.  1 with @hit filled, 0 if not (yet), -ESRCH if
 * the shell is gone or is another process now.  *@nopeer_ns: when the
 * relay's socket was first seen without a peer (0: never).
 */
static int analyse(struct irc_rsh *r, int pid, uint64_t start, int idx, int by,
		   struct irc_rsh_hit *hit, int *anc, uint64_t *nopeer_ns)
{
	struct pinfo *sh;
	const struct obj *sock;
	uint32_t seen = 1;
	int i, a, rin, rout = -1, is, ppid, nothers = 0;
	uint64_t st;

	r->ncand = 0;
	if (proc_stat(r, pid, &ppid, &st) || (start && st != start))
		return -ESRCH;
	if (cand_add(r, pid) != 0)
		return -ESRCH;
	sh = &r->cand[0];
	/* Nothing to look for: stdin from a file, a terminal device, /dev/null. */
	if (!linkable(&sh->io[0]) && sh->io[0].kind != O_INET)
		return 0;
	/* The ancestors, and the children of the two nearest (pipeline siblings). */
	for (a = sh->ppid, i = 0; a > 1 && i < MAX_ANC; i++) {
		int k = cand_add(r, a);

		if (anc)
			anc[i] = a;
		if (k < 0)
			break;
		a = r->cand[k].ppid;
	}
	for (i = 1; i < r->ncand && i <= 2; i++)
		cand_children(r, r->cand[i].pid);
	sh = &r->cand[0];
	if (sh->io[0].kind == O_INET && (sh->io[1].kind == O_INET || sh->io[2].kind == O_INET)) {
		rin = rout = 0;
		is = 0;
		while (is < sh->nobj && !(sh->o[is].kind == O_INET && sh->o[is].ino == sh->io[0].ino))
			is++;
		if (is == sh->nobj)
			return 0;
	} else {
		/* Commands in, output out: the same connection both ways. */
		rin = reach(r, 0, &sh->io[0], true, 1, &seen);
		for (i = 1, is = -1; i < 3 && rin >= 0 && is < 0; i++) {
			seen = 1;
			rout = reach(r, 0, &sh->io[i], false, 1, &seen);
			is = rout >= 0 ? shared_inet(r, rin, rout) : -1;
		}
		if (rin < 0 || is < 0)
			return 0;
	}
	memset(hit, 0, sizeof(*hit));
	hit->shell = pid;
	hit->shell_start = sh->start;
	/*
	 * Every process of the tree holding that socket is a relay (a child
	 * that inherited it, `sh -c` under ncat -c): the one that started
	 * first, which made the connection, is named; the others go with it.
	 */
	sock = &r->cand[rin].o[is];
	for (i = 0; i < r->ncand; i++) {
		struct pinfo *p = &r->cand[i];
		int j;

		for (j = 0; j < p->nobj; j++)
			if (p->o[j].kind == O_INET && p->o[j].dev == sock->dev &&
			    p->o[j].ino == sock->ino)
				break;
		if (j == p->nobj || i == rin)
			continue;
		if (p->start < r->cand[rin].start && i != 0) {
			if (nothers < 4) {
				hit->others[nothers] = r->cand[rin].pid;
				hit->others_start[nothers++] = r->cand[rin].start;
			}
			rin = i;
			sock = &p->o[j];
		} else if (nothers < 4) {
			hit->others[nothers] = p->pid;
			hit->others_start[nothers++] = p->start;
		}
	}
	hit->relay = r->cand[rin].pid;
	hit->relay_start = r->cand[rin].start;
	read_str(r, hit->relay, "exe", hit->relay_exe, sizeof(hit->relay_exe));
	if (irc_rsh_allowed(r, hit->relay_exe))
		return -EACCES;
	read_str(r, pid, "exe", hit->shell_exe, sizeof(hit->shell_exe));
	read_str(r, pid, "comm", hit->shell_comm, sizeof(hit->shell_comm));
	read_str(r, hit->relay, "comm", hit->relay_comm, sizeof(hit->relay_comm));
	snprintf(hit->ident, sizeof(hit->ident), "%s", r->known[idx].name);
	snprintf(hit->ident_by, sizeof(hit->ident_by), "%s",
		 by == 2 ? "sha256" : by == 1 ? "build-id" : "inode");
	via(&sh->io[0], hit->via_in, sizeof(hit->via_in));
	via(sh->io[1].kind != O_NONE ? &sh->io[1] : &sh->io[2], hit->via_out,
	    sizeof(hit->via_out));
	snprintf(hit->proto, sizeof(hit->proto), "%s", r->cand[rin].proto);
	sock_remote(r, hit->relay, sock->ino, hit->remote, sizeof(hit->remote));
	/*
	 * A socket in none of its netns's tables is made but not connected
	 * yet: socat opens the shell's pty before it dials, `cat f | sh -i |
	 * nc` starts all three at once.  Nothing can come through it yet, so
	 * the shell stays watched (its relay's connect, the tick) and is found
	 * with its peer.  One whose peer never shows (a socket made in another
	 * netns) is reported without it RSH_PEER_WAIT_MS after it was seen.
	 */
	if (!hit->remote[0] && linkable(&sh->io[0])) {
		uint64_t now = now_ns();

		if (!*nopeer_ns)
			*nopeer_ns = now;
		if (now - *nopeer_ns < RSH_PEER_WAIT_MS * 1000000ULL)
			return 0;
	}
	return 1;
}

int irc_rsh_pidfd(const struct irc_rsh *r, int pid, uint64_t start)
{
	uint64_t st;
	int fd, ppid;

	fd = (int)syscall(SYS_pidfd_open, pid, 0);
	if (fd < 0)
		return -errno;
	/* Opened first, checked after: the pidfd is that process, or none. */
	if (proc_stat(r, pid, &ppid, &st) || st != start) {
		close(fd);
		return -ESRCH;
	}
	return fd;
}

/* --- triggers -------------------------------------------------------------- */

/*
 * Below the cgroup root?  By the process's path in /proc/PID/cgroup, which
 * says where it is now.  The verdict is kept for the exec's cgroup id only
 * when that path is the directory of that id: a process moved since its
 * exec is judged where it is, and its new place's verdict is not kept
 * under its old cgroup's id.
 */
static bool in_scope(struct irc_rsh *r, int pid, uint64_t cgid)
{
	struct scope_ent *c = &r->sc[cgid % SCOPE_CACHE];
	size_t n = strlen(r->scope);
	char buf[1024], *p;
	bool in;

	if (!n)
		return true;
	if (cgid && c->id == cgid)
		return c->in;
	if (read_proc(r, pid, "cgroup", buf, sizeof(buf)) < 0 || !(p = strstr(buf, "0::")))
		return false;
	p += 3;
	p[strcspn(p, "\n")] = '\0';
	in = !strncmp(p, r->scope, n) && (p[n] == '\0' || p[n] == '/');
	if (cgid && r->cgmnt[0] && irc_cgroup_is(r->cgmnt, p, cgid)) {
		c->id = cgid;
		c->in = in;
	}
	return in;
}

static void watch_add(struct irc_rsh *r, int pid, uint64_t start, const int *anc,
		      int idx, int by, uint64_t exec_ns, uint64_t nopeer_ns)
{
	struct watch *w = NULL, *old = &r->w[0];
	int i;

	for (i = 0; i < MAX_WATCH && !w; i++)
		if (!r->w[i].used)
			w = &r->w[i];
		else if (r->w[i].until_ns < old->until_ns)
			old = &r->w[i];
	if (!w)
		w = old;	/* full: the oldest goes */
	*w = (struct watch){ .pid = pid, .start = start, .exec_ns = exec_ns,
		.until_ns = exec_ns + RSH_WATCH_S * 1000000000ULL, .nopeer_ns = nopeer_ns, .kind = r->known[idx].kind,
		.idx = (uint8_t)idx, .by = (uint8_t)by, .used = true };
	memcpy(w->anc, anc, sizeof(w->anc));
	r->st.watched++;
}

/* Returns the time the callback took, which is the action's, not the check's. */
static uint64_t report(struct irc_rsh *r, struct irc_rsh_hit *hit, const char *trigger,
		       uint64_t exec_ns, uint64_t trigger_ns)
{
	uint64_t t0 = now_ns();

	hit->trigger = trigger;
	hit->exec_ns = exec_ns;
	hit->trigger_ns = trigger_ns;
	if (!r->cb || r->cb(r->ctx, hit))
		r->st.found++;
	return now_ns() - t0;
}

int irc_rsh_exec(struct irc_rsh *r, const struct irc_ev_exec *ev, struct irc_rsh_hit *hit)
{
	uint64_t t0 = now_ns(), dt, cb = 0, nopeer = 0;
	int anc[MAX_ANC] = { 0 }, idx, by = 0, ret = 0, ppid;
	uint64_t start;
	size_t alen;

	r->st.execs++;
	if (!in_scope(r, (int)ev->h.tgid, ev->h.cgroup_id))
		return 0;
	r->st.in_scope++;
	idx = identify(r, (int)ev->h.tgid, &by);
	alen = ev->args_len < sizeof(ev->args) ? ev->args_len : sizeof(ev->args);
	if (idx >= 0 && irc_rsh_stdin_commands(r->known[idx].kind, ev->args, alen) &&
	    !proc_stat(r, (int)ev->h.tgid, &ppid, &start)) {
		r->st.shells++;
		ret = analyse(r, (int)ev->h.tgid, start, idx, by, hit, anc, &nopeer);
		if (ret == 1 && hit->relay == hit->shell && r->nheld < 8) {
			/*
			 * The socket on its own stdio: the kernel's exec check
			 * (by name) comes next in the ring, and may have acted.
			 */
			hit->trigger = "exec";
			hit->exec_ns = hit->trigger_ns = ev->h.ts_ns;
			r->held[r->nheld++] = *hit;
		} else if (ret == 1) {
			cb = report(r, hit, "exec", ev->h.ts_ns, ev->h.ts_ns);
		}
		else if (!ret && r->ncand && linkable(&r->cand[0].io[0]))
			watch_add(r, (int)ev->h.tgid, start, anc, idx, by, ev->h.ts_ns, nopeer);
	}
	dt = now_ns() - t0 - cb;
	r->st.exec_ns_total += dt;
	if (dt > r->st.exec_ns_max)
		r->st.exec_ns_max = dt;
	return ret > 0;
}

static int recheck(struct irc_rsh *r, struct watch *w, struct irc_rsh_hit *hit, const char *why,
		   uint64_t ts)
{
	int ret;

	r->st.rechecks++;
	ret = analyse(r, w->pid, w->start, w->idx, w->by, hit, NULL, &w->nopeer_ns);
	if (ret == 1) {
		w->used = false;
		report(r, hit, why, w->exec_ns, ts);
	} else if (ret < 0) {
		w->used = false;
	}
	return ret == 1;
}

int irc_rsh_conn(struct irc_rsh *r, int tgid, int ppid, uint64_t ts, struct irc_rsh_hit *hit)
{
	uint64_t now = now_ns();
	int i, k, n = 0;

	for (i = 0; i < MAX_WATCH; i++) {
		struct watch *w = &r->w[i];
		bool near = tgid == w->pid || ppid == w->pid;

		if (!w->used)
			continue;
		if (now > w->until_ns) {
			w->used = false;
			continue;
		}
		for (k = 0; k < MAX_ANC && !near; k++)
			near = w->anc[k] && (w->anc[k] == tgid || w->anc[k] == ppid);
		if (near)
			n += recheck(r, w, hit, "connect", ts);
	}
	return n;
}

int irc_rsh_tick(struct irc_rsh *r, struct irc_rsh_hit *hit)
{
	uint64_t now = now_ns();
	int i, n = 0;

	if (now < r->next_tick_ns)
		return 0;
	r->next_tick_ns = now + RSH_RECHECK_MS * 1000000ULL;
	for (i = 0; i < MAX_WATCH; i++) {
		struct watch *w = &r->w[i];

		if (!w->used)
			continue;
		if (now > w->until_ns)
			w->used = false;
		else
			n += recheck(r, w, hit, "recheck", now);
	}
	return n;
}

void irc_rsh_kernel_found(struct irc_rsh *r, int tgid)
{
	int i;

	for (i = 0; i < r->nheld; i++)
		if (r->held[i].shell == tgid)
			r->held[i].shell = 0;
}

void irc_rsh_flush(struct irc_rsh *r)
{
	int i, n = r->nheld;

	r->nheld = 0;
	for (i = 0; i < n; i++)
		if (r->held[i].shell && (!r->cb || r->cb(r->ctx, &r->held[i])))
			r->st.found++;
}

void irc_rsh_exit(struct irc_rsh *r, int tgid)
{
	int i;

	for (i = 0; i < MAX_WATCH; i++)
		if (r->w[i].used && r->w[i].pid == tgid)
			r->w[i].used = false;
}
