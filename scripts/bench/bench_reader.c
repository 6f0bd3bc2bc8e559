// SPDX-License-Identifier: GPL-2.0-only
/*
 * The controller's CPU per event, without the kernel: connect records as
 * irc_sock_state makes them, from this process (its real ancestry, read
 * from /proc as the daemon seeds its table), through what `run` does for
 * each one: the ECS line (evjson), the store's queue (related mode, a
 * real store in a scratch directory, its writer thread) and the events
 * file (a scratch file, one write per round).  The reader's CPU is its
 * thread's; the writer's is the rest of the process's.  bench_storm.sh
 * measures the same with the kernel and a real storm.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>
#include <linux/types.h>

#include "ircontain/abi.h"
#include "evjson.h"
#include "ptable.h"
#include "run.h"
#include "runstore.h"
#include "store.h"

#define EVENTS	200000
#define RATE	50000		/* events a second, as the storm's target */
#define ROUND	250		/* records a poll round brings (5 ms of them) */

static uint64_t cpu_ns(clockid_t clk)
{
	struct timespec t;

	clock_gettime(clk, &t);
	return (uint64_t)t.tv_sec * 1000000000ULL + (uint64_t)t.tv_nsec;
}

static uint64_t proc_ns(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return ((uint64_t)ru.ru_utime.tv_sec + (uint64_t)ru.ru_stime.tv_sec) * 1000000000ULL +
	       ((uint64_t)ru.ru_utime.tv_usec + (uint64_t)ru.ru_stime.tv_usec) * 1000ULL;
}

static void write_all(int fd, struct irc_jbuf *b)
{
	size_t off = 0;
	ssize_t n;

	while (off < b->len && (n = write(fd, b->p + off, b->len - off)) > 0)
		off += (size_t)n;
	b->len = 0;
}

int main(void)
{
	char dir[64] = "/tmp/irc-bench-reader.XXXXXX", state[96], path[128], boot_id[64] = "";
	struct irc_ev_conn ev = { 0 };
	struct irc_run_stats st = { 0 };
	struct irc_jbuf out = { 0 };
	struct irc_runstore *rs;
	struct irc_ptable pt;
	struct irc_evctx c;
	uint64_t r0, p0, r1, p1, w0, bytes = 0;
	size_t start;
	FILE *f;
	int fd, i;

	if (!mkdtemp(dir))
		return perror("bench_reader: mkdtemp"), 1;
	snprintf(state, sizeof(state), "%s/state", dir);
	snprintf(path, sizeof(path), "%s/events.jsonl", dir);
	f = fopen("/proc/sys/kernel/random/boot_id", "re");
	if (f) {
		if (fgets(boot_id, sizeof(boot_id), f))
			boot_id[strcspn(boot_id, "\n")] = '\0';
		fclose(f);
	}
	if (irc_pt_init(&pt, boot_id) || irc_evctx_init(&c, &pt) || irc_pt_seed(&pt, "/proc") < 0 ||
	    irc_rs_open(&rs, state, &c, &st)) {
		fprintf(stderr, "bench_reader: set up in %s: %s\n", dir, irc_store_errmsg());
		return 1;
	}
	irc_rs_set_events(rs, IRC_RS_EVENTS_RELATED, -1);
	fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
	if (fd < 0 || irc_rs_start(rs, boot_id) || irc_rs_async(rs, fd)) {
		fprintf(stderr, "bench_reader: start: %s\n", strerror(errno));
		return 1;
	}
	ev.h.type = IRC_EV_CONNECT;
	ev.h.size = sizeof(ev);
	ev.h.tgid = ev.h.pid = (__u32)getpid();
	ev.h.ppid = (__u32)getppid();
	ev.h.uid = getuid();
	snprintf(ev.h.comm, sizeof(ev.h.comm), "bench_reader");
	ev.family = 4;
	ev.dport = 9;
	ev.saddr[0] = ev.daddr[0] = 127;
	ev.saddr[3] = ev.daddr[3] = 1;

	r0 = cpu_ns(CLOCK_THREAD_CPUTIME_ID);
	p0 = proc_ns();
	w0 = cpu_ns(CLOCK_MONOTONIC);
	for (i = 0; i < EVENTS; i++) {
		ev.h.seq = (__u64)i + 1;
		ev.h.ts_ns = cpu_ns(CLOCK_BOOTTIME);
		ev.sport = (__u16)(32768 + i % 28000);
		start = out.len;
		if (irc_ev_line(&c, &ev, sizeof(ev), &out))
			return fprintf(stderr, "bench_reader: encode failed\n"), 1;
		irc_rs_record(rs, &ev, sizeof(ev), out.p + start, out.len - start);
		if (irc_jb_reserve(&out, 1))
			return 1;
		out.p[out.len++] = '\n';
		if ((i + 1) % ROUND == 0) {
			uint64_t due = w0 + (uint64_t)(i + 1) * 1000000000ULL / RATE;
			struct timespec ts = { .tv_sec = (time_t)(due / 1000000000ULL),
					       .tv_nsec = (long)(due % 1000000000ULL) };

			bytes += out.len;
			write_all(fd, &out);
			/* At the storm's rate: the writer works beside the reader, as in `run`. */
			clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL);
		}
	}
	bytes += out.len;
	write_all(fd, &out);
	r1 = cpu_ns(CLOCK_THREAD_CPUTIME_ID);
	irc_rs_close(rs, "bench");
	p1 = proc_ns();

	printf("%d connect events at %d/s, %d a round\n\n", EVENTS, RATE, ROUND);
	printf("| events | bytes a line | reader CPU per event | writer CPU per event | queue lost | stored |\n");
	printf("|---|---|---|---|---|---|\n");
	printf("| %d | %llu | %.2f us | %.2f us | %llu | %llu of %llu skipped |\n", EVENTS,
	       (unsigned long long)(bytes / EVENTS), (r1 - r0) / 1000.0 / EVENTS,
	       ((p1 - p0) - (r1 - r0)) / 1000.0 / EVENTS, (unsigned long long)st.queue_lost,
	       (unsigned long long)st.stored, (unsigned long long)st.store_skipped);
	close(fd);
	irc_jb_free(&out);
	irc_pt_free(&pt);
	snprintf(path, sizeof(path), "rm -rf '%s'", dir);
	return system(path) ? 1 : 0;
}
