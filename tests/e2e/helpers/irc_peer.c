// SPDX-License-Identifier: GPL-2.0-only
/*
 * irc_peer: a small network client for the process-quarantine e2e tests.
 * Every subcommand is bounded in time, prints one line per observation and
 * names errors by their errno name ("EPERM"), so a test can assert exactly
 * which call failed and how.  Times are CLOCK_MONOTONIC milliseconds, the
 * clock of `irc_peer now`, so a test can compare them with the moment a
 * command returned.  Addresses are numeric IPv4 or IPv6, never resolved.
 *
 *   now                         print the CLOCK_MONOTONIC time in ms
 *   connect HOST PORT           one TCP connect, 2 s timeout
 *   udp HOST PORT               socket() + sendto() of one datagram
 *   bind PORT | listen PORT     socket() + bind() (+ listen()), IPv4 any
 *   socket                      socket(AF_INET, SOCK_STREAM) only
 *     These print "ok" (exit 0) or the errno name (exit 1).
 *
 *   hold HOST PORT INTERVAL_MS MAX_S
 *     Connects, prints "connected T", then every INTERVAL_MS sends the line
 *     "SEQ\n" and expects it echoed back.  Prints "echo SEQ T SENT" when
 *     an echo arrives (T = arrival, SENT = when SEQ was sent; an echo that
 *     comes after its stall is reported too), and "stalled SEQ T" when the
 *     echo of SEQ has not come back 50 ms after it was sent (T = when it
 *     was sent: data sent at T was not carried).  On SIGUSR1 it makes one
 *     new connect to HOST PORT and prints "connect RESULT T".  Ends after
 *     MAX_S seconds, or at once on SIGUSR2, with "done SENT ECHOED T"
 *     (exit 0), or with "error WHAT ERRNO T" (exit 1).
 *
 *   probe MAX_S [--children N] [--thread] OP...
 *     Forks N children first; then every process creates the sockets its
 *     "pre" ops need, prints "ready PID ROLE" (ROLE parent or child) and
 *     waits.  With --thread the parent first starts a second thread that
 *     only sleeps, and prints "thread TID" (a TID that is no process).
 *     On each SIGUSR1 it runs every OP in order and prints
 *     "PID OP RESULT" per op.  Ends after MAX_S seconds.  OPs:
 *       socket | socket6 | socket-unix       socket() only
 *       connect,HOST,PORT                    socket() + connect()
 *       udp,HOST,PORT                        socket() + sendto()
 *       bind,PORT | bind6,PORT | listen,PORT socket() + bind() (+ listen())
 *       preconnect,HOST,PORT | preudp,HOST,PORT | prebind,PORT | prebind6,PORT
 *         the same on a socket created at startup, so that the connect,
 *         sendmsg or bind hook is reached even when socket() would now be
 *         refused; used once ("nosock" afterwards, or "nosock-ERRNO" if
 *         the socket could not be created at startup).
 *
 *   timed FILE CMD [ARG...]
 *     Runs CMD (no shell), writes "T_START T_END" (ms, just before the fork
 *     and just after CMD was reaped) to FILE, and exits with CMD's status
 *     (128 + signal if it was killed).
 *
 *   fork-connect HOST PORT DELAY_MS
 *     Prints "ready PID", waits DELAY_MS (or until SIGUSR1), forks a child
 *     that makes one connect, and prints the child's result as
 *     "child PID RESULT"; exit 0 if "ok".
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define CONNECT_TIMEOUT_MS	2000
#define ECHO_TIMEOUT_MS		50
#define MAX_OPS			32
#define MAX_CHILDREN		512
#define MAX_INFLIGHT		16384
#define MAX_SECONDS		120

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* One line, one write(): lines of several processes never interleave. */
__attribute__((format(printf, 1, 2)))
static void say(const char *fmt, ...)
{
	char buf[512];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf) - 1, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n > sizeof(buf) - 2)
		n = sizeof(buf) - 2;
	buf[n++] = '\n';
	if (write(STDOUT_FILENO, buf, n) < 0)
		_exit(3);
}

static const char *ename(int err)
{
	const char *s = strerrorname_np(err);

	return s ? s : "EUNKNOWN";
}

static int usage(void)
{
	fprintf(stderr,
		"usage: irc_peer now | connect HOST PORT | udp HOST PORT | bind PORT |\n"
		"       listen PORT | socket | hold HOST PORT INTERVAL_MS MAX_S |\n"
		"       probe MAX_S [--children N] [--thread] OP... |\n"
		"       fork-connect HOST PORT DELAY_MS |\n"
		"       timed FILE CMD [ARG...]\n");
	return 2;
}

static bool num(const char *s, long lo, long hi, long *out)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < lo || v > hi)
		return false;
	*out = v;
	return true;
}

/* HOST (numeric, v4 or v6) and PORT into @ss; false if not valid. */
static bool addr(const char *host, const char *port, struct sockaddr_storage *ss,
		 socklen_t *len)
{
	struct sockaddr_in *a4 = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)ss;
	long p;

	memset(ss, 0, sizeof(*ss));
	if (!num(port, 0, 65535, &p))
		return false;
	if (inet_pton(AF_INET, host, &a4->sin_addr) == 1) {
		a4->sin_family = AF_INET;
		a4->sin_port = htons(p);
		*len = sizeof(*a4);
		return true;
	}
	if (inet_pton(AF_INET6, host, &a6->sin6_addr) == 1) {
		a6->sin6_family = AF_INET6;
		a6->sin6_port = htons(p);
		*len = sizeof(*a6);
		return true;
	}
	return false;
}

static void sleep_ms(long ms)
{
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

/* connect() on @fd with a timeout; 0 or an errno. */
static int connect_fd(int fd, const struct sockaddr_storage *ss, socklen_t len)
{
	struct pollfd pfd = { .fd = fd, .events = POLLOUT };
	int fl = fcntl(fd, F_GETFL), err = 0;
	socklen_t elen = sizeof(err);

	if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK))
		return errno;
	if (connect(fd, (const struct sockaddr *)ss, len) == 0)
		goto done;
	if (errno != EINPROGRESS)
		return errno;
	for (;;) {
		int n = poll(&pfd, 1, CONNECT_TIMEOUT_MS);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return errno;
		if (n == 0)
			return ETIMEDOUT;
		break;
	}
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &elen))
		return errno;
	if (err)
		return err;
done:
	return fcntl(fd, F_SETFL, fl) ? errno : 0;
}

/* One fresh TCP connect; 0 or an errno. */
static int do_connect(const struct sockaddr_storage *ss, socklen_t len)
{
	int fd = socket(ss->ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0), err;

	if (fd < 0)
		return errno;
	err = connect_fd(fd, ss, len);
	close(fd);
	return err;
}

static int udp_fd(int fd, const struct sockaddr_storage *ss, socklen_t len)
{
	static const char msg[] = "irc_peer\n";

	if (sendto(fd, msg, sizeof(msg) - 1, 0, (const struct sockaddr *)ss, len) < 0)
		return errno;
	return 0;
}

static int do_udp(const struct sockaddr_storage *ss, socklen_t len)
{
	int fd = socket(ss->ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0), err;

	if (fd < 0)
		return errno;
	err = udp_fd(fd, ss, len);
	close(fd);
	return err;
}

static int bind_fd(int fd, int family, long port, bool lsn)
{
	struct sockaddr_storage ss = {};
	socklen_t len;
	int one = 1;

	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (family == AF_INET6) {
		struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)&ss;

		a6->sin6_family = AF_INET6;
		a6->sin6_port = htons(port);
		a6->sin6_addr = in6addr_any;
		len = sizeof(*a6);
	} else {
		struct sockaddr_in *a4 = (struct sockaddr_in *)&ss;

		a4->sin_family = AF_INET;
		a4->sin_port = htons(port);
		a4->sin_addr.s_addr = htonl(INADDR_ANY);
		len = sizeof(*a4);
	}
	if (bind(fd, (struct sockaddr *)&ss, len))
		return errno;
	if (lsn && listen(fd, 4))
		return errno;
	return 0;
}

static int do_bind(int family, long port, bool lsn)
{
	int fd = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0), err;

	if (fd < 0)
		return errno;
	err = bind_fd(fd, family, port, lsn);
	close(fd);
	return err;
}

static int do_socket(int family)
{
	int fd = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return errno;
	close(fd);
	return 0;
}

static int result(int err)
{
	say("%s", err ? ename(err) : "ok");
	return err ? 1 : 0;
}

/* SIGUSR1 and SIGUSR2 as a file descriptor, so poll() can wait for them. */
static int sig_fd(void)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	sigaddset(&set, SIGUSR2);
	if (sigprocmask(SIG_BLOCK, &set, NULL))
		return -1;
	return signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
}

#define GOT_USR1	1
#define GOT_USR2	2

/* Which of the two signals came (bits), reading all there are. */
static int sig_read(int sfd)
{
	struct signalfd_siginfo si;
	int got = 0;

	while (read(sfd, &si, sizeof(si)) == sizeof(si))
		got |= si.ssi_signo == SIGUSR1 ? GOT_USR1 : GOT_USR2;
	return got;
}

/* ---- hold ---------------------------------------------------------------- */

struct sent {
	long seq;
	int64_t t;
	bool done;
};

static int cmd_hold(char **av)
{
	static struct sent fl[MAX_INFLIGHT];
	struct sockaddr_storage ss;
	socklen_t len;
	long interval, maxs, seq = 0, echoed = 0, lo = 0, i;
	char rbuf[4096];
	size_t rlen = 0;
	int64_t end, next;
	int fd, sfd, err;

	if (!addr(av[0], av[1], &ss, &len) || !num(av[2], 1, 10000, &interval) ||
	    !num(av[3], 1, MAX_SECONDS, &maxs))
		return usage();
	sfd = sig_fd();
	if (sfd < 0) {
		say("error signalfd %s %lld", ename(errno), (long long)now_ms());
		return 1;
	}
	fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || (err = connect_fd(fd, &ss, len))) {
		say("error connect %s %lld", ename(fd < 0 ? errno : err), (long long)now_ms());
		return 1;
	}
	if (fcntl(fd, F_SETFL, O_NONBLOCK)) {
		say("error fcntl %s %lld", ename(errno), (long long)now_ms());
		return 1;
	}
	say("connected %lld", (long long)now_ms());
	end = now_ms() + maxs * 1000;
	next = now_ms();
	for (;;) {
		struct pollfd pfd[2] = {
			{ .fd = fd, .events = POLLIN },
			{ .fd = sfd, .events = POLLIN },
		};
		int64_t now = now_ms(), wake = next < end ? next : end;
		char line[32];
		ssize_t w;
		int n;

		/* Echoes overdue: each is reported once. */
		while (lo < seq && fl[lo].done)
			lo++;
		for (i = lo; i < seq; i++) {
			if (!fl[i].done && now >= fl[i].t + ECHO_TIMEOUT_MS) {
				fl[i].done = true;
				say("stalled %ld %lld", fl[i].seq, (long long)fl[i].t);
			}
			if (!fl[i].done && fl[i].t + ECHO_TIMEOUT_MS < wake)
				wake = fl[i].t + ECHO_TIMEOUT_MS;
		}
		if (now >= end)
			break;
		if (now >= next) {
			n = snprintf(line, sizeof(line), "%ld\n", seq + 1);
			if (seq >= MAX_INFLIGHT) {
				say("error inflight-table-full E2BIG %lld", (long long)now);
				return 1;
			}
			w = write(fd, line, n);
			/* A full send buffer counts as not carried; a line cut
			 * in two would garble the stream: an error. */
			if (w != n && !(w < 0 && errno == EAGAIN)) {
				say("error write %s %lld", w < 0 ? ename(errno) : "short",
				    (long long)now);
				return 1;
			}
			fl[seq].seq = seq + 1;
			fl[seq].t = now;
			fl[seq].done = false;
			seq++;
			next += interval;
			continue;
		}
		n = poll(pfd, 2, (int)(wake - now) + 1);
		if (n < 0 && errno != EINTR) {
			say("error poll %s %lld", ename(errno), (long long)now_ms());
			return 1;
		}
		if (n <= 0)
			continue;
		if (pfd[1].revents & POLLIN) {
			int got = sig_read(sfd);

			if (got & GOT_USR1) {
				err = do_connect(&ss, len);
				say("connect %s %lld", err ? ename(err) : "ok",
				    (long long)now_ms());
			}
			if (got & GOT_USR2)
				break;
		}
		if (pfd[0].revents & (POLLIN | POLLERR | POLLHUP)) {
			ssize_t r = read(fd, rbuf + rlen, sizeof(rbuf) - 1 - rlen);
			char *nl;

			if (r == 0) {
				say("error read EOF %lld", (long long)now_ms());
				return 1;
			}
			if (r < 0) {
				if (errno == EAGAIN || errno == EINTR)
					continue;
				say("error read %s %lld", ename(errno), (long long)now_ms());
				return 1;
			}
			rlen += r;
			rbuf[rlen] = '\0';
			while ((nl = strchr(rbuf, '\n'))) {
				long s;

				*nl = '\0';
				if (num(rbuf, 1, LONG_MAX, &s)) {
					int64_t sent = s <= seq ? fl[s - 1].t : -1;

					echoed++;
					say("echo %ld %lld %lld", s, (long long)now_ms(),
					    (long long)sent);
					if (s <= seq)
						fl[s - 1].done = true;	/* s >= 1 */
				}
				rlen -= nl + 1 - rbuf;
				memmove(rbuf, nl + 1, rlen + 1);
			}
			if (rlen >= sizeof(rbuf) - 1)
				rlen = 0;
		}
	}
	say("done %ld %ld %lld", seq, echoed, (long long)now_ms());
	close(fd);
	return 0;
}

/* ---- probe --------------------------------------------------------------- */

enum opk { O_SOCKET, O_SOCKET6, O_SOCKET_UNIX, O_CONNECT, O_UDP, O_BIND, O_BIND6,
	   O_LISTEN };

struct op {
	const char *text;
	enum opk kind;
	bool pre;
	struct sockaddr_storage ss;
	socklen_t len;
	long port;
	int fd;		/* pre: the socket made at startup, -1 once used */
	int fd_err;	/* pre: errno if it could not be made */
};

static bool parse_op(const char *text, struct op *o)
{
	char buf[128], *f[3] = {}, *save = NULL, *tok;
	int n = 0;

	memset(o, 0, sizeof(*o));
	o->text = text;
	o->fd = -1;
	if (strlen(text) >= sizeof(buf))
		return false;
	strcpy(buf, text);
	for (tok = strtok_r(buf, ",", &save); tok && n < 3; tok = strtok_r(NULL, ",", &save))
		f[n++] = tok;
	if (!f[0] || strtok_r(NULL, ",", &save))
		return false;
	if (!strncmp(f[0], "pre", 3)) {
		o->pre = true;
		f[0] += 3;
	}
	if (!strcmp(f[0], "socket") || !strcmp(f[0], "socket6") || !strcmp(f[0], "socket-unix")) {
		o->kind = f[0][6] == '6' ? O_SOCKET6 : f[0][6] == '-' ? O_SOCKET_UNIX : O_SOCKET;
		return n == 1 && !o->pre;
	}
	if (!strcmp(f[0], "connect") || !strcmp(f[0], "udp")) {
		o->kind = f[0][0] == 'c' ? O_CONNECT : O_UDP;
		return n == 3 && addr(f[1], f[2], &o->ss, &o->len);
	}
	if (!strcmp(f[0], "bind") || !strcmp(f[0], "bind6") || !strcmp(f[0], "listen")) {
		o->kind = f[0][0] == 'l' ? O_LISTEN : f[0][4] == '6' ? O_BIND6 : O_BIND;
		return n == 2 && num(f[1], 0, 65535, &o->port) && !(o->pre && o->kind == O_LISTEN);
	}
	return false;
}

static int op_family(const struct op *o)
{
	switch (o->kind) {
	case O_SOCKET6:
	case O_BIND6:
		return AF_INET6;
	case O_CONNECT:
	case O_UDP:
		return o->ss.ss_family;
	default:
		return AF_INET;
	}
}

static void op_prepare(struct op *o)
{
	int type = o->kind == O_UDP ? SOCK_DGRAM : SOCK_STREAM;

	if (!o->pre)
		return;
	o->fd = socket(op_family(o), type | SOCK_CLOEXEC, 0);
	o->fd_err = o->fd < 0 ? errno : 0;
}

/* Runs one op; 0 or an errno, or -1 for "nosock" (pre socket used up). */
static int op_run(struct op *o)
{
	int fd, err;

	if (o->pre) {
		if (o->fd < 0)
			return o->fd_err ? -o->fd_err - 1000 : -1;
		fd = o->fd;
		o->fd = -1;
		o->fd_err = 0;
		switch (o->kind) {
		case O_CONNECT:
			err = connect_fd(fd, &o->ss, o->len);
			break;
		case O_UDP:
			err = udp_fd(fd, &o->ss, o->len);
			break;
		default:
			err = bind_fd(fd, op_family(o), o->port, false);
			break;
		}
		close(fd);
		return err;
	}
	switch (o->kind) {
	case O_SOCKET:
	case O_SOCKET6:
		return do_socket(op_family(o));
	case O_SOCKET_UNIX:
		return do_socket(AF_UNIX);
	case O_CONNECT:
		return do_connect(&o->ss, o->len);
	case O_UDP:
		return do_udp(&o->ss, o->len);
	case O_BIND:
	case O_BIND6:
		return do_bind(op_family(o), o->port, false);
	case O_LISTEN:
		return do_bind(AF_INET, o->port, true);
	}
	return EINVAL;
}

static void probe_loop(struct op *ops, int nops, int sfd, int64_t end, const char *role)
{
	int i;

	for (i = 0; i < nops; i++)
		op_prepare(&ops[i]);
	say("ready %d %s", (int)getpid(), role);
	for (;;) {
		struct pollfd pfd = { .fd = sfd, .events = POLLIN };
		int64_t now = now_ms();
		int n;

		if (now >= end)
			return;
		n = poll(&pfd, 1, (int)(end - now));
		if (n <= 0 || !(sig_read(sfd) & GOT_USR1))
			continue;
		for (i = 0; i < nops; i++) {
			int err = op_run(&ops[i]);

			if (err == -1)
				say("%d %s nosock", (int)getpid(), ops[i].text);
			else if (err < -1)
				say("%d %s nosock-%s", (int)getpid(), ops[i].text,
				    ename(-(err + 1000)));
			else
				say("%d %s %s", (int)getpid(), ops[i].text,
				    err ? ename(err) : "ok");
		}
	}
}

static atomic_int sleeper_tid;

static void *sleeper(void *arg)
{
	atomic_store(&sleeper_tid, (int)gettid());
	sleep_ms((long)(intptr_t)arg * 1000);
	return NULL;
}

/* A second thread that sleeps MAX_S; prints its TID once it runs. */
static int start_sleeper(long maxs)
{
	pthread_t t;
	int i, err;

	err = pthread_create(&t, NULL, sleeper, (void *)(intptr_t)maxs);
	if (err) {
		say("error pthread_create %s", ename(err));
		return 1;
	}
	pthread_detach(t);
	for (i = 0; i < 1000 && !atomic_load(&sleeper_tid); i++)
		sleep_ms(1);
	if (!atomic_load(&sleeper_tid)) {
		say("error thread-start ETIMEDOUT");
		return 1;
	}
	say("thread %d", atomic_load(&sleeper_tid));
	return 0;
}

static int cmd_probe(int ac, char **av)
{
	static struct op ops[MAX_OPS];
	pid_t kids[MAX_CHILDREN];
	long maxs, nkids = 0, i;
	bool thread = false;
	int nops = 0, sfd;
	int64_t end;

	if (ac < 1 || !num(av[0], 1, MAX_SECONDS, &maxs))
		return usage();
	av++;
	ac--;
	if (ac >= 2 && !strcmp(av[0], "--children")) {
		if (!num(av[1], 0, MAX_CHILDREN, &nkids))
			return usage();
		av += 2;
		ac -= 2;
	}
	if (ac >= 1 && !strcmp(av[0], "--thread")) {
		thread = true;
		av++;
		ac--;
	}
	for (; ac > 0; av++, ac--) {
		if (nops == MAX_OPS || !parse_op(av[0], &ops[nops])) {
			fprintf(stderr, "irc_peer: bad op '%s'\n", av[0]);
			return 2;
		}
		nops++;
	}
	/* Blocked before the fork: no signal is lost in a fresh child. */
	sfd = sig_fd();
	if (sfd < 0) {
		say("error signalfd %s", ename(errno));
		return 1;
	}
	end = now_ms() + maxs * 1000;
	for (i = 0; i < nkids; i++) {
		kids[i] = fork();
		if (kids[i] < 0) {
			say("error fork %s", ename(errno));
			nkids = i;
			break;
		}
		if (kids[i] == 0) {
			probe_loop(ops, nops, sfd, end, "child");
			_exit(0);
		}
	}
	if (thread && start_sleeper(maxs))
		return 1;
	probe_loop(ops, nops, sfd, end, "parent");
	for (i = 0; i < nkids; i++)
		waitpid(kids[i], NULL, 0);
	return 0;
}

/* ---- fork-connect ---------------------------------------------------------- */

static int cmd_fork_connect(char **av)
{
	struct sockaddr_storage ss;
	socklen_t len;
	long delay;
	int st, fds[2], sfd;
	int64_t end;
	char res[64] = "";
	ssize_t n;
	pid_t pid;

	if (!addr(av[0], av[1], &ss, &len) || !num(av[2], 0, MAX_SECONDS * 1000, &delay))
		return usage();
	sfd = sig_fd();
	if (sfd < 0) {
		say("error signalfd %s", ename(errno));
		return 1;
	}
	say("ready %d", (int)getpid());
	/* DELAY_MS, or until SIGUSR1. */
	for (end = now_ms() + delay; now_ms() < end;) {
		struct pollfd pfd = { .fd = sfd, .events = POLLIN };

		if (poll(&pfd, 1, (int)(end - now_ms())) > 0 && (sig_read(sfd) & GOT_USR1))
			break;
	}
	if (pipe(fds)) {
		say("error pipe %s", ename(errno));
		return 1;
	}
	pid = fork();
	if (pid < 0) {
		say("error fork %s", ename(errno));
		return 1;
	}
	if (pid == 0) {
		int err = do_connect(&ss, len);
		const char *s = err ? ename(err) : "ok";

		close(fds[0]);
		if (write(fds[1], s, strlen(s)) < 0)
			_exit(3);
		_exit(err ? 1 : 0);
	}
	close(fds[1]);
	n = read(fds[0], res, sizeof(res) - 1);
	close(fds[0]);
	if (n > 0)
		res[n] = '\0';
	if (waitpid(pid, &st, 0) < 0 || !WIFEXITED(st)) {
		say("child %d died", (int)pid);
		return 1;
	}
	say("child %d %s", (int)pid, res[0] ? res : "noresult");
	return WEXITSTATUS(st) ? 1 : 0;
}

/* ---- timed --------------------------------------------------------------- */

static int cmd_timed(char **av)
{
	int64_t t0, t1;
	int st;
	FILE *f;
	pid_t pid;

	t0 = now_ms();
	pid = fork();
	if (pid < 0)
		return 125;
	if (pid == 0) {
		execvp(av[1], av + 1);
		_exit(127);
	}
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return 125;
	t1 = now_ms();
	f = fopen(av[0], "we");
	if (!f || fprintf(f, "%lld %lld\n", (long long)t0, (long long)t1) < 0 || fclose(f))
		return 125;
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

int main(int argc, char **argv)
{
	struct sockaddr_storage ss;
	socklen_t len;
	const char *c;
	long port;

	if (argc < 2)
		return usage();
	c = argv[1];
	if (!strcmp(c, "now") && argc == 2) {
		say("%lld", (long long)now_ms());
		return 0;
	}
	if ((!strcmp(c, "connect") || !strcmp(c, "udp")) && argc == 4) {
		if (!addr(argv[2], argv[3], &ss, &len))
			return usage();
		return result(c[0] == 'c' ? do_connect(&ss, len) : do_udp(&ss, len));
	}
	if ((!strcmp(c, "bind") || !strcmp(c, "listen")) && argc == 3) {
		if (!num(argv[2], 0, 65535, &port))
			return usage();
		return result(do_bind(AF_INET, port, c[0] == 'l'));
	}
	if (!strcmp(c, "socket") && argc == 2)
		return result(do_socket(AF_INET));
	if (!strcmp(c, "hold") && argc == 6)
		return cmd_hold(argv + 2);
	if (!strcmp(c, "probe") && argc >= 3)
		return cmd_probe(argc - 2, argv + 2);
	if (!strcmp(c, "timed") && argc >= 4)
		return cmd_timed(argv + 2);
	if (!strcmp(c, "fork-connect") && argc == 5)
		return cmd_fork_connect(argv + 2);
	return usage();
}
