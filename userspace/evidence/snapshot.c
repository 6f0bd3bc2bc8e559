// SPDX-License-Identifier: GPL-2.0-only
/*
 * Snapshot of a process at containment (see snapshot.h).
 *
 * Everything is read from @proc_root, so the unit tests run it on a fake
 * tree.  Each part is read on its own: a part that cannot be read is named
 * in "errors" and the others are kept, since a partial record taken before
 * the containment is worth more than none.  Every list is bounded by the
 * IRC_SNAP_* limits and "truncated" says when one was reached.
 */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "entity.h"
#include "irc.h"
#include "snapshot.h"

struct snap {
	const char *root;	/* the proc root */
	pid_t pid;
	unsigned long long hash_max;	/* bytes of the executable hashed */
	int *exe_fd;		/* non-NULL: hold the executable open, hash later */
	json_t *obj;
	json_t *errors;		/* "part: why" strings */
	json_t *truncated;	/* names of the lists that hit their limit */
};

/* A JSON string of @n bytes; bytes that are not UTF-8 become "\xNN". */
static json_t *jstrn(const char *s, size_t n)
{
	json_t *j = json_stringn(s, n);
	char *buf, *p;
	size_t i;

	if (j)
		return j;
	buf = malloc(4 * n + 1);
	if (!buf)
		return json_string("");
	for (p = buf, i = 0; i < n; i++) {
		unsigned char c = s[i];

		if (c >= 0x80 || c == 0)
			p += sprintf(p, "\\x%02x", c);
		else
			*p++ = c;
	}
	*p = '\0';
	j = json_string(buf);
	free(buf);
	return j ?: json_string("");
}

static json_t *jstr(const char *s)
{
	return jstrn(s, strlen(s));
}

static void part_error(struct snap *sn, const char *part, int err)
{
	char buf[128];

	snprintf(buf, sizeof(buf), "%s: %s", part, strerror(-err));
	json_array_append_new(sn->errors, json_string(buf));
}

static void part_truncated(struct snap *sn, const char *part)
{
	json_array_append_new(sn->truncated, json_string(part));
}

static void ppath(const struct snap *sn, pid_t pid, const char *name, char *buf,
		  size_t len)
{
	snprintf(buf, len, "%s/%d/%s", sn->root, (int)pid, name);
}

/*
 * Reads at most @max bytes of a proc file into a malloc()ed, NUL-terminated
 * buffer; *@more is set when the file held more.  Returns the length or
 * -errno.
 */
static ssize_t read_file(const char *path, size_t max, char **out, bool *more)
{
	size_t len = 0, cap = 4096;
	char *buf = malloc(cap + 1), *nb;
	ssize_t n;
	int fd;

	*out = NULL;
	if (more)
		*more = false;
	if (!buf)
		return -ENOMEM;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		free(buf);
		return -errno;
	}
	for (;;) {
		if (len == cap) {
			if (cap >= max + 1)
				break;
			cap = cap * 2 > max + 1 ? max + 1 : cap * 2;
			nb = realloc(buf, cap + 1);
			if (!nb) {
				close(fd);
				free(buf);
				return -ENOMEM;
			}
			buf = nb;
		}
		n = read(fd, buf + len, cap - len);
		if (n < 0) {
			n = -errno;
			close(fd);
			free(buf);
			return n;
		}
		if (!n)
			break;
		len += n;
	}
	close(fd);
	if (len > max) {
		len = max;
		if (more)
			*more = true;
	}
	buf[len] = '\0';
	*out = buf;
	return len;
}

/* readlink() of a proc link, NUL-terminated. */
static int read_link(const char *path, char *buf, size_t len)
{
	ssize_t n = readlink(path, buf, len - 1);

	if (n < 0)
		return -errno;
	buf[n] = '\0';
	return 0;
}

/* ---- stat ------------------------------------------------------------------ */

struct pstat {
	char comm[64];
	char state;
	int ppid;
	unsigned int flags;		/* PF_* */
	unsigned long long start_ticks;
};

/* /proc/PID/stat: "PID (COMM) STATE PPID ... FLAGS(9) ... STARTTIME(22) ..." */
static int read_stat(const struct snap *sn, pid_t pid, struct pstat *st)
{
	char path[PATH_MAX], *buf, *lp, *rp;
	ssize_t n;
	int err = 0;

	ppath(sn, pid, "stat", path, sizeof(path));
	n = read_file(path, 4096, &buf, NULL);
	if (n < 0)
		return n == -ENOENT ? -ESRCH : n;
	memset(st, 0, sizeof(*st));
	lp = strchr(buf, '(');
	rp = strrchr(buf, ')');
	/* Fields 5..8 and 10..21 skipped. */
	if (!lp || !rp || rp < lp ||
	    sscanf(rp + 1, " %c %d %*s %*s %*s %*s %u %*s %*s %*s %*s %*s %*s %*s"
		   " %*s %*s %*s %*s %*s %llu", &st->state, &st->ppid, &st->flags,
		   &st->start_ticks) != 4)
		err = -EIO;
	else
		snprintf(st->comm, sizeof(st->comm), "%.*s", (int)(rp - lp - 1), lp + 1);
	free(buf);
	return err;
}

/* The boot time (CLOCK_REALTIME seconds) from the proc root's "stat". */
static int boot_time(const struct snap *sn, unsigned long long *btime)
{
	char path[PATH_MAX], *buf, *p;
	ssize_t n;
	int err = -ENOENT;

	snprintf(path, sizeof(path), "%s/stat", sn->root);
	n = read_file(path, 1 << 20, &buf, NULL);
	if (n < 0)
		return n;
	for (p = buf; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL)
		if (sscanf(p, "btime %llu", btime) == 1) {
			err = 0;
			break;
		}
	free(buf);
	return err;
}

static void add_identity(struct snap *sn, const struct pstat *st)
{
	unsigned long long btime;
	long hz = sysconf(_SC_CLK_TCK);
	char state[2] = { st->state, '\0' }, when[40];
	uint64_t ns;

	json_object_set_new(sn->obj, "comm", jstr(st->comm));
	json_object_set_new(sn->obj, "state", json_string(state));
	json_object_set_new(sn->obj, "ppid", json_integer(st->ppid));
	json_object_set_new(sn->obj, "start_ticks", json_integer(st->start_ticks));
	if (hz > 0 && !boot_time(sn, &btime)) {
		ns = btime * 1000000000ULL + st->start_ticks * (1000000000ULL / hz);
		irc_fmt_utc(ns, when, sizeof(when));
		json_object_set_new(sn->obj, "start_time", json_string(when));
	} else {
		json_object_set_new(sn->obj, "start_time", json_null());
	}
}

/* ---- executable ------------------------------------------------------------ */

#define DELETED_SUFFIX	" (deleted)"


/*
 * SHA-256 of at most @max bytes of the file at @path, read through its
 * descriptor (/proc/PID/exe is the binary even once deleted).  *@size is
 * the file's size, *@cut set when it is larger than @max: then @hex is
 * the hash of the first @max bytes only.  Bounded, because it runs in the
 * daemon's ring-buffer callback.
 */
static int sha256_capped(const char *path, unsigned long long max, char hex[65],
			 unsigned long long *size, bool *cut)
{
	uint8_t buf[65536], h[crypto_hash_sha256_BYTES];
	crypto_hash_sha256_state hs;
	unsigned long long total = 0;
	struct stat st;
	ssize_t n = 0;
	size_t want;
	int fd, err = 0;

	*cut = false;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st)) {
		err = -errno;
		close(fd);
		return err;
	}
	crypto_hash_sha256_init(&hs);
	while (total < max) {
		want = max - total < sizeof(buf) ? max - total : sizeof(buf);
		n = read(fd, buf, want);
		if (n <= 0)
			break;
		crypto_hash_sha256_update(&hs, buf, n);
		total += n;
	}
	if (n < 0)
		err = -errno;
	/* At the cap: one byte more says whether there was more (a file that grew). */
	else if (total == max && (st.st_size > (off_t)max || read(fd, buf, 1) > 0))
		*cut = true;
	close(fd);
	if (err)
		return err;
	crypto_hash_sha256_final(&hs, h);
	irc_hex(h, sizeof(h), hex);
	*size = *cut && (unsigned long long)st.st_size > total ? (unsigned long long)st.st_size :
		total;
	return 0;
}

/* The hash fields of a snapshot, from what sha256_capped() found. */
static void set_hash(json_t *obj, json_t *errors, int err, const char *hex,
		     unsigned long long size, bool cut, unsigned long long max)
{
	char buf[128];

	if (err) {
		snprintf(buf, sizeof(buf), "sha256: %s", strerror(-err));
		json_array_append_new(errors, json_string(buf));
		json_object_set_new(obj, "sha256", json_null());
		return;
	}
	json_object_set_new(obj, "exe_size", json_integer(size));
	json_object_set_new(obj, "hash_truncated", json_boolean(cut));
	if (!cut) {
		json_object_set_new(obj, "sha256", json_string(hex));
		return;
	}
	/* Not the file's hash: no one must take it for one. */
	json_object_set_new(obj, "sha256", json_null());
	json_object_set_new(obj, "sha256_partial", json_string(hex));
	json_object_set_new(obj, "hash_bytes", json_integer(max));
}

void irc_snapshot_hash(json_t *snap, int exe_fd, unsigned long long hash_max)
{
	char path[64], hex[crypto_hash_sha256_BYTES * 2 + 1];
	unsigned long long size = 0;
	json_t *errors = json_object_get(snap, "errors");
	bool cut = false;
	int err;

	if (exe_fd < 0)
		return;
	/* Reopened through the descriptor: the same file, even deleted since. */
	snprintf(path, sizeof(path), "/proc/self/fd/%d", exe_fd);
	err = sha256_capped(path, hash_max, hex, &size, &cut);
	set_hash(snap, errors, err, hex, size, cut, hash_max);
	close(exe_fd);
}

static void add_exe(struct snap *sn)
{
	char path[PATH_MAX], exe[PATH_MAX], hex[crypto_hash_sha256_BYTES * 2 + 1];
	size_t n, sl = strlen(DELETED_SUFFIX);
	unsigned long long size = 0;
	bool cut;
	int err;

	ppath(sn, sn->pid, "exe", path, sizeof(path));
	err = read_link(path, exe, sizeof(exe));
	if (err) {
		part_error(sn, "exe", err);
		json_object_set_new(sn->obj, "exe", json_null());
	} else {
		n = strlen(exe);
		json_object_set_new(sn->obj, "exe", jstr(exe));
		json_object_set_new(sn->obj, "exe_deleted",
				    json_boolean(n > sl && !strcmp(exe + n - sl, DELETED_SUFFIX)));
	}
	if (sn->exe_fd) {
		/* The file itself, held: hashed after the containment. */
		*sn->exe_fd = open(path, O_RDONLY | O_CLOEXEC);
		if (*sn->exe_fd < 0)
			part_error(sn, "sha256", -errno);
		json_object_set_new(sn->obj, "sha256", json_null());
		return;
	}
	err = sha256_capped(path, sn->hash_max, hex, &size, &cut);
	set_hash(sn->obj, sn->errors, err, hex, size, cut, sn->hash_max);
}

/* ---- cmdline, status, cgroup ----------------------------------------------- */

static void add_cmdline(struct snap *sn)
{
	json_t *arr = json_array();
	char path[PATH_MAX], *buf;
	bool more;
	ssize_t n, i, start;

	json_object_set_new(sn->obj, "cmdline", arr);
	ppath(sn, sn->pid, "cmdline", path, sizeof(path));
	n = read_file(path, IRC_SNAP_CMDLINE_MAX, &buf, &more);
	if (n < 0) {
		part_error(sn, "cmdline", n);
		return;
	}
	/* NUL-separated; the last argument may lack its NUL when cut short. */
	for (start = 0, i = 0; i <= n; i++) {
		if (i < n && buf[i])
			continue;
		if (i > start || i < n)
			json_array_append_new(arr, jstrn(buf + start, i - start));
		start = i + 1;
	}
	if (more)
		part_truncated(sn, "cmdline");
	free(buf);
}

/* "Uid:\tREAL\tEFFECTIVE\tSAVED\tFS" */
static json_t *ids(const char *line)
{
	long long r, e, s, f;

	if (sscanf(line, "%lld %lld %lld %lld", &r, &e, &s, &f) != 4)
		return json_null();
	return json_pack("{s:I,s:I,s:I,s:I}", "real", (json_int_t)r, "effective",
			 (json_int_t)e, "saved", (json_int_t)s, "fs", (json_int_t)f);
}

static void add_status(struct snap *sn)
{
	char path[PATH_MAX], *buf, *line, *save = NULL;
	json_t *uid = NULL, *gid = NULL;
	ssize_t n;

	ppath(sn, sn->pid, "status", path, sizeof(path));
	n = read_file(path, 1 << 16, &buf, NULL);
	if (n < 0) {
		part_error(sn, "status", n);
	} else {
		for (line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
			if (!strncmp(line, "Uid:", 4) && !uid)
				uid = ids(line + 4);
			else if (!strncmp(line, "Gid:", 4) && !gid)
				gid = ids(line + 4);
		}
		free(buf);
	}
	json_object_set_new(sn->obj, "uid", uid ?: json_null());
	json_object_set_new(sn->obj, "gid", gid ?: json_null());
}

#define SNAP_MAX_CGROUP_LINES	64

static void add_cgroup(struct snap *sn)
{
	char path[PATH_MAX], *buf, *line, *save = NULL;
	json_t *lines = json_array(), *v2 = NULL;
	size_t cnt = 0;
	ssize_t n;

	ppath(sn, sn->pid, "cgroup", path, sizeof(path));
	n = read_file(path, 1 << 16, &buf, NULL);
	if (n < 0) {
		part_error(sn, "cgroup", n);
	} else {
		for (line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
			if (!strncmp(line, "0::", 3) && !v2)
				v2 = jstr(line + 3);
			if (cnt++ < SNAP_MAX_CGROUP_LINES)
				json_array_append_new(lines, jstr(line));
		}
		free(buf);
	}
	json_object_set_new(sn->obj, "cgroup", v2 ?: json_null());
	json_object_set_new(sn->obj, "cgroups", lines);
}

/* ---- ancestry -------------------------------------------------------------- */

static void add_ancestry(struct snap *sn, int ppid)
{
	json_t *arr = json_array();
	char path[PATH_MAX], exe[PATH_MAX];
	struct pstat st;
	int pid = ppid, depth;

	json_object_set_new(sn->obj, "ancestry", arr);
	/* Parent first, up to PID 1 (or the root of the PID namespace). */
	for (depth = 0; pid > 0; depth++) {
		if (depth == IRC_SNAP_MAX_ANCESTRY) {
			part_truncated(sn, "ancestry");
			break;
		}
		if (read_stat(sn, pid, &st))
			break;
		ppath(sn, pid, "exe", path, sizeof(path));
		json_array_append_new(arr, json_pack("{s:i,s:o,s:o}", "pid", pid,
			"comm", jstr(st.comm),
			"exe", read_link(path, exe, sizeof(exe)) ? json_null() : jstr(exe)));
		if (pid == 1)
			break;
		pid = st.ppid;
	}
}

/* ---- open files and sockets ------------------------------------------------ */

struct fdent {
	int fd;
	unsigned long long inode;	/* of a socket, else 0 */
	char *target;
	json_t *sock;			/* resolved socket, or NULL */
};

static int cmp_fd(const void *a, const void *b)
{
	const struct fdent *x = a, *y = b;

	return (x->fd > y->fd) - (x->fd < y->fd);
}

static const char *tcp_state(unsigned int st)
{
	static const char *const names[] = {
		[1] = "ESTABLISHED", [2] = "SYN_SENT", [3] = "SYN_RECV",
		[4] = "FIN_WAIT1", [5] = "FIN_WAIT2", [6] = "TIME_WAIT",
		[7] = "CLOSE", [8] = "CLOSE_WAIT", [9] = "LAST_ACK",
		[10] = "LISTEN", [11] = "CLOSING", [12] = "NEW_SYN_RECV",
	};

	return st < sizeof(names) / sizeof(names[0]) && names[st] ? names[st] : "UNKNOWN";
}

/*
 * "0100007F:1F90" (IPv4) or 32 hex digits (IPv6), each 32-bit word in host
 * order as the kernel prints it, then the port in hex: "ADDR:PORT" or
 * "[ADDR]:PORT".
 */
static int inet_endpoint(const char *s, int family, char *out, size_t len)
{
	char word[9], addr[INET6_ADDRSTRLEN];
	uint8_t raw[16];
	uint32_t w;
	unsigned int port, i, nw = family == AF_INET ? 1 : 4;
	const char *colon = strchr(s, ':');

	if (!colon || (size_t)(colon - s) != 8 * nw || sscanf(colon + 1, "%x", &port) != 1)
		return -EINVAL;
	for (i = 0; i < nw; i++) {
		memcpy(word, s + 8 * i, 8);
		word[8] = '\0';
		w = strtoul(word, NULL, 16);
		memcpy(raw + 4 * i, &w, 4);
	}
	if (!inet_ntop(family, raw, addr, sizeof(addr)))
		return -EINVAL;
	snprintf(out, len, family == AF_INET ? "%s:%u" : "[%s]:%u", addr, port);
	return 0;
}

static struct fdent *find_inode(struct fdent *fds, size_t n, unsigned long long ino)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (fds[i].inode == ino && !fds[i].sock)
			return &fds[i];
	return NULL;
}

/* One of /proc/PID/net/{tcp,tcp6,udp,udp6}. */
static void scan_inet(struct snap *sn, const char *table, const char *proto,
		      int family, bool tcp, struct fdent *fds, size_t n)
{
	char path[PATH_MAX], *buf, *line, *save = NULL, local[80], remote[80];
	char la[64], ra[64];
	unsigned long long ino;
	unsigned int st;
	struct fdent *e;
	ssize_t len;

	ppath(sn, sn->pid, table, path, sizeof(path));
	len = read_file(path, 64 << 20, &buf, NULL);
	if (len < 0)
		return;
	line = strtok_r(buf, "\n", &save);	/* the header */
	while ((line = strtok_r(NULL, "\n", &save))) {
		/* sl local rem st tx:rx tr:when retrnsmt uid timeout inode */
		if (sscanf(line, " %*s %63s %63s %x %*s %*s %*s %*s %*s %llu",
			   la, ra, &st, &ino) != 4)
			continue;
		if (!ino || inet_endpoint(la, family, local, sizeof(local)) ||
		    inet_endpoint(ra, family, remote, sizeof(remote)))
			continue;
		/* Every fd of the socket (dup()ed ones too). */
		while ((e = find_inode(fds, n, ino))) {
			e->sock = json_pack("{s:s,s:s,s:s,s:s}", "protocol", proto,
				"local", local, "remote", remote,
				"state", tcp ? tcp_state(st) : st == 1 ? "ESTABLISHED" :
					 st == 7 ? "UNCONN" : tcp_state(st));
			if (!e->sock)
				break;
		}
	}
	free(buf);
}

/* /proc/PID/net/unix: "Num RefCount Protocol Flags Type St Inode [Path]" */
static void scan_unix(struct snap *sn, struct fdent *fds, size_t n)
{
	char path[PATH_MAX], *buf, *line, *save = NULL;
	unsigned int flags, type, st;
	unsigned long long ino;
	struct fdent *e;
	int off;

	ppath(sn, sn->pid, "net/unix", path, sizeof(path));
	if (read_file(path, 64 << 20, &buf, NULL) < 0)
		return;
	line = strtok_r(buf, "\n", &save);
	while ((line = strtok_r(NULL, "\n", &save))) {
		off = 0;
		if (sscanf(line, " %*s %*s %*s %x %x %x %llu%n", &flags, &type, &st,
			   &ino, &off) != 4)
			continue;
		while (line[off] == ' ')
			off++;
		while (ino && (e = find_inode(fds, n, ino))) {
			e->sock = json_pack("{s:s,s:s,s:s,s:o}", "protocol", "unix",
				"type", type == 1 ? "stream" : type == 2 ? "dgram" :
					type == 5 ? "seqpacket" : "other",
				/* __SO_ACCEPTCON: a listening socket */
				"state", flags & 0x10000 ? "LISTEN" : st == 3 ? "CONNECTED" :
					 st == 2 ? "CONNECTING" : st == 4 ? "DISCONNECTING" :
					 "UNCONNECTED",
				"path", line[off] ? jstr(line + off) : json_null());
			if (!e->sock)
				break;
		}
	}
	free(buf);
}

static void add_fds(struct snap *sn)
{
	json_t *files = json_array(), *socks = json_array(), *o;
	char path[PATH_MAX], link[PATH_MAX];
	struct fdent *fds = NULL;
	unsigned long long ino;
	struct dirent *de;
	size_t n = 0, i, nsock = 0;
	char *end;
	long fd;
	DIR *d;
	int err;

	json_object_set_new(sn->obj, "files", files);
	json_object_set_new(sn->obj, "sockets", socks);
	ppath(sn, sn->pid, "fd", path, sizeof(path));
	d = opendir(path);
	if (!d) {
		part_error(sn, "fd", -errno);
		return;
	}
	fds = calloc(IRC_SNAP_MAX_FDS, sizeof(*fds));
	if (!fds) {
		closedir(d);
		part_error(sn, "fd", -ENOMEM);
		return;
	}
	while ((de = readdir(d))) {
		fd = strtol(de->d_name, &end, 10);
		if (de->d_name[0] < '0' || de->d_name[0] > '9' || *end || fd < 0 || fd > INT_MAX)
			continue;
		if (n == IRC_SNAP_MAX_FDS) {
			part_truncated(sn, "fds");
			break;
		}
		snprintf(path, sizeof(path), "%s/%d/fd/%ld", sn->root, (int)sn->pid, fd);
		err = read_link(path, link, sizeof(link));
		if (err == -ENOENT)
			continue;	/* closed meanwhile */
		fds[n].fd = fd;
		fds[n].target = strdup(err ? "" : link);
		if (!fds[n].target)
			break;
		if (sscanf(link, "socket:[%llu]", &ino) == 1 && !err) {
			fds[n].inode = ino;
			nsock++;
		}
		n++;
	}
	closedir(d);
	qsort(fds, n, sizeof(*fds), cmp_fd);
	/* Sockets are named by inode only: the netns's tables say what they are. */
	if (nsock) {
		scan_inet(sn, "net/tcp", "tcp", AF_INET, true, fds, n);
		scan_inet(sn, "net/tcp6", "tcp6", AF_INET6, true, fds, n);
		scan_inet(sn, "net/udp", "udp", AF_INET, false, fds, n);
		scan_inet(sn, "net/udp6", "udp6", AF_INET6, false, fds, n);
		scan_unix(sn, fds, n);
	}
	for (i = 0; i < n; i++) {
		if (fds[i].inode) {
			o = fds[i].sock ?: json_pack("{s:s}", "protocol", "unknown");
			json_object_set_new(o, "fd", json_integer(fds[i].fd));
			json_object_set_new(o, "inode", json_integer(fds[i].inode));
			json_array_append_new(socks, o);
		} else {
			json_array_append_new(files, json_pack("{s:i,s:o}", "fd", fds[i].fd,
				"path", jstr(fds[i].target)));
		}
		free(fds[i].target);
	}
	free(fds);
}

/* ---- memory maps ----------------------------------------------------------- */

/* Unique pathnames of the mappings, each with the permissions it is mapped with. */
static void add_maps(struct snap *sn)
{
	json_t *arr = json_array(), *e, *perms, *p;
	char path[PATH_MAX], *buf, *line, *save = NULL, pm[8];
	size_t i, idx;
	bool seen;
	ssize_t n;
	int off;

	json_object_set_new(sn->obj, "maps", arr);
	ppath(sn, sn->pid, "maps", path, sizeof(path));
	n = read_file(path, 64 << 20, &buf, NULL);
	if (n < 0) {
		part_error(sn, "maps", n);
		return;
	}
	/* "start-end perms offset dev inode   pathname" */
	for (line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		off = 0;
		if (sscanf(line, "%*s %7s %*s %*s %*s%n", pm, &off) != 1 || !off)
			continue;
		while (line[off] == ' ')
			off++;
		if (!line[off])
			continue;	/* anonymous */
		e = NULL;
		json_array_foreach(arr, idx, p)
			if (!strcmp(json_string_value(json_object_get(p, "path")) ?: "", line + off)) {
				e = p;
				break;
			}
		if (!e) {
			if (json_array_size(arr) == IRC_SNAP_MAX_MAPS) {
				part_truncated(sn, "maps");
				break;
			}
			e = json_pack("{s:o,s:[]}", "path", jstr(line + off), "perms");
			json_array_append_new(arr, e);
		}
		perms = json_object_get(e, "perms");
		seen = false;
		for (i = 0; i < json_array_size(perms); i++)
			seen |= !strcmp(json_string_value(json_array_get(perms, i)), pm);
		if (!seen)
			json_array_append_new(perms, json_string(pm));
	}
	free(buf);
}

/* ---- the snapshot ---------------------------------------------------------- */

#define PF_EXITING	0x4	/* linux/sched.h: getting shut down */

/*
 * A process exiting (killed: its memory, files and binary already let go)
 * or a zombie (not yet reaped) has nothing left to take.  Unless other
 * threads still run: a leader that called pthread_exit() is exiting, then
 * "Z", too, and must not hide its process.
 */
static bool is_dead(const struct snap *sn, const struct pstat *st)
{
	char path[PATH_MAX], *buf, *p;
	int threads = 0;

	if (st->state != 'Z' && st->state != 'X' && !(st->flags & PF_EXITING))
		return false;
	ppath(sn, sn->pid, "status", path, sizeof(path));
	if (read_file(path, 1 << 16, &buf, NULL) < 0)
		return true;
	p = strstr(buf, "\nThreads:");
	if (p)
		threads = atoi(p + 10);
	free(buf);
	return threads <= 1;
}

static int take(pid_t pid, const char *proc_root, unsigned long long hash_max,
		int *exe_fd, json_t **out)
{
	struct snap sn = { .root = proc_root, .pid = pid, .hash_max = hash_max,
			   .exe_fd = exe_fd };
	struct pstat st;
	char when[40];
	uint64_t now = irc_now_real_ns();
	int err;

	*out = NULL;
	if (sodium_init() < 0)
		return -EIO;
	err = read_stat(&sn, pid, &st);
	if (err)
		return err;
	if (is_dead(&sn, &st))
		return -ESRCH;
	sn.obj = json_object();
	sn.errors = json_array();
	sn.truncated = json_array();
	if (!sn.obj || !sn.errors || !sn.truncated) {
		json_decref(sn.obj);
		json_decref(sn.errors);
		json_decref(sn.truncated);
		return -ENOMEM;
	}
	irc_fmt_utc(now, when, sizeof(when));
	json_object_set_new(sn.obj, "pid", json_integer(pid));
	json_object_set_new(sn.obj, "taken", json_string(when));
	json_object_set_new(sn.obj, "taken_ns", json_integer(now));
	add_identity(&sn, &st);
	add_exe(&sn);
	add_cmdline(&sn);
	add_status(&sn);
	add_cgroup(&sn);
	add_ancestry(&sn, st.ppid);
	add_fds(&sn);
	add_maps(&sn);
	/*
	 * Killed while being read (the kernel's SIGKILL lands as the daemon
	 * reads the finding): what was read is mostly "no such file".  Gone,
	 * not a snapshot.
	 */
	if ((exe_fd ? *exe_fd < 0 : json_is_null(json_object_get(sn.obj, "sha256")) &&
	     !json_object_get(sn.obj, "sha256_partial")) &&
	    (read_stat(&sn, pid, &st) == -ESRCH || is_dead(&sn, &st))) {
		json_decref(sn.obj);
		json_decref(sn.errors);
		json_decref(sn.truncated);
		return -ESRCH;
	}
	json_object_set_new(sn.obj, "truncated", json_boolean(json_array_size(sn.truncated)));
	json_object_set_new(sn.obj, "truncated_parts", sn.truncated);
	json_object_set_new(sn.obj, "errors", sn.errors);
	*out = sn.obj;
	return 0;
}

int irc_snapshot_proc(pid_t pid, const char *proc_root, json_t **out)
{
	return irc_snapshot_take(pid, proc_root, IRC_SNAP_HASH_MAX, out);
}

int irc_snapshot_append(struct irc_store *s, int64_t incident, pid_t pid, json_t *snap,
			const char *actor)
{
	char target[IRC_ENTITY_LEN], peer[IRC_ENTITY_LEN];
	struct irc_rec r;
	int ppid;

	ppid = json_integer_value(json_object_get(snap, "ppid"));
	irc_entity_pid(target, sizeof(target), (unsigned long long)pid);
	irc_entity_pid(peer, sizeof(peer), (unsigned long long)ppid);
	r = (struct irc_rec){ .kind = IRC_REC_EVIDENCE, .incident = incident,
		.type = "snapshot", .actor = actor, .target = target,
		.peer = ppid > 0 ? peer : NULL, .body = snap };
	return irc_store_append(s, &r, NULL);
}

int irc_snapshot_record(struct irc_store *s, int64_t incident, pid_t pid,
			const char *actor)
{
	json_t *snap;
	int err;

	err = irc_snapshot_proc(pid, "/proc", &snap);
	if (err)
		return err;
	err = irc_snapshot_append(s, incident, pid, snap, actor);
	json_decref(snap);
	return err;
}

int irc_snapshot_take(pid_t pid, const char *proc_root, unsigned long long hash_max,
		      json_t **out)
{
	return take(pid, proc_root, hash_max, NULL, out);
}

int irc_snapshot_begin(pid_t pid, const char *proc_root, json_t **out, int *exe_fd)
{
	int err;

	*exe_fd = -1;
	err = take(pid, proc_root, 0, exe_fd, out);
	if (err && *exe_fd >= 0) {
		close(*exe_fd);
		*exe_fd = -1;
	}
	return err;
}
