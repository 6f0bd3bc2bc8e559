/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * What the controller reports about itself, in <state-dir>/run.json, for
 * `status` (the kernel's own counters are read from irc_evstat).
 */
#ifndef IRC_RUN_H
#define IRC_RUN_H

#include <stdint.h>
#include <jansson.h>

struct irc_run_stats {
	uint64_t events;	/* records read */
	uint64_t written;	/* JSON lines written */
	uint64_t gaps;		/* gap markers written */
	uint64_t missing;	/* records the gaps account for */
	uint64_t late;		/* records that arrived behind their CPU's sequence */
	uint64_t malformed;
	uint64_t write_errors;
	uint64_t reloads;
	/* The evidence store (runstore.c). */
	uint64_t stored;	/* records committed to the store */
	uint64_t store_errors;	/* records the store refused: lost, and said so */
	uint64_t store_failures;	/* failed store operations (each logged) */
	char store_error[256];		/* the last one, "" if none */
	int64_t store_error_ns;		/* when (CLOCK_REALTIME) */
	uint64_t store_skipped;	/* ordinary events kept in the events file only */
	uint64_t queue_lost;	/* records the full store queue could not take */
	uint64_t queue_max;	/* the queue's high-water mark */
	uint64_t pruned;	/* records pruned by this daemon */
	int64_t pruned_ns;	/* its last prune (CLOCK_REALTIME), 0 if none */
	int64_t prune_held_by;	/* the incident that last held a prune short, or 0 */
	uint64_t store_batches;	/* commits */
	uint64_t store_us_total;	/* time in batches (begin to commit), us */
	uint64_t store_us_max;		/* the longest batch */
	uint64_t commit_us_total;	/* of which the commits (fsync) */
	uint64_t incidents;	/* incidents opened by findings */
	uint64_t snapshots;	/* process snapshots stored */
	/* Reverse shells by behaviour (revshell.c). */
	uint64_t rsh_execs;	/* execs looked at, */
	uint64_t rsh_in_scope;	/* of which below the cgroup root, */
	uint64_t rsh_shells;	/* of which shells reading stdin */
	uint64_t rsh_ident_reads;	/* binaries read to identify them */
	uint64_t rsh_exec_ns_total, rsh_exec_ns_max;
	uint64_t rsh_rechecks, rsh_found;
};

/* The store counters as JSON (run.json, the run.stop action). */
json_t *irc_run_store_json(const struct irc_run_stats *s);

/* Atomically replaces run.json; @pid 0 means the daemon has exited. */
int irc_run_stats_write(const struct irc_run_stats *s, int pid);

/* Kernel-side totals summed over CPUs from the pinned irc_evstat. */
struct irc_evstat_sum {
	uint64_t seq, lost, unsampled;	/* both rings */
	uint64_t flost;			/* of lost: findings */
};
int irc_evstat_read(int fd, struct irc_evstat_sum *out);

#endif /* IRC_RUN_H */
