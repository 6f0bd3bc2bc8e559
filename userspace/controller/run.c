// SPDX-License-Identifier: GPL-2.0-only
/* The controller's own counters, and the kernel's event counters. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <linux/types.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <jansson.h>

#include "ircontain/abi.h"
#include "irc.h"
#include "pins.h"
#include "run.h"

json_t *irc_run_store_json(const struct irc_run_stats *s)
{
	uint64_t n = s->store_batches ? s->store_batches : 1;

	char when[40] = "";

	if (s->store_error_ns)
		irc_fmt_utc(s->store_error_ns, when, sizeof(when));
	char pruned[40] = "";

	if (s->pruned_ns)
		irc_fmt_utc(s->pruned_ns, pruned, sizeof(pruned));
	return json_pack("{s:I,s:s,s:I,s:I,s:I,s:I,s:s,s:s,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I}",
		"pruned", (json_int_t)s->pruned, "pruned_at", pruned,
		"prune_held_by", (json_int_t)s->prune_held_by,
		"stored", (json_int_t)s->stored,
		"store_errors", (json_int_t)s->store_errors,
		"store_failures", (json_int_t)s->store_failures,
		"store_last_error", s->store_error, "store_last_error_at", when,
		"store_skipped", (json_int_t)s->store_skipped,
		"queue_lost", (json_int_t)s->queue_lost,
		"queue_max", (json_int_t)s->queue_max,
		"store_batches", (json_int_t)s->store_batches,
		"store_batch_us_avg", (json_int_t)(s->store_us_total / n),
		"store_batch_us_max", (json_int_t)s->store_us_max,
		"store_commit_us_avg", (json_int_t)(s->commit_us_total / n),
		"incidents_opened", (json_int_t)s->incidents,
		"snapshots", (json_int_t)s->snapshots);
}

int irc_run_stats_write(const struct irc_run_stats *s, int pid)
{
	char path[4096], tmp[4200], ts[32];
	json_t *o;
	int err = 0;

	if (snprintf(path, sizeof(path), "%s/run.json", irc.state_dir) >= (int)sizeof(path))
		return -ENAMETOOLONG;
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	irc_fmt_utc(irc_now_real_ns(), ts, sizeof(ts));
	o = json_pack("{s:i,s:s,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I}", "pid", pid,
		"updated", ts, "events", (json_int_t)s->events,
		"written", (json_int_t)s->written, "gaps", (json_int_t)s->gaps,
		"missing", (json_int_t)s->missing, "late", (json_int_t)s->late,
		"malformed", (json_int_t)s->malformed,
		"write_errors", (json_int_t)s->write_errors,
		"reloads", (json_int_t)s->reloads);
	json_object_update_new(o, irc_run_store_json(s));
	json_object_set_new(o, "reverse_shell", json_pack("{s:I,s:I,s:I,s:I,s:f,s:I,s:I,s:I}",
		"execs", (json_int_t)s->rsh_execs, "in_scope", (json_int_t)s->rsh_in_scope,
		"shells", (json_int_t)s->rsh_shells, "identified", (json_int_t)s->rsh_ident_reads,
		"exec_us_avg", s->rsh_execs ? s->rsh_exec_ns_total / 1000.0 / (double)s->rsh_execs : 0.0,
		"exec_us_max", (json_int_t)(s->rsh_exec_ns_max / 1000),
		"rechecks", (json_int_t)s->rsh_rechecks, "found", (json_int_t)s->rsh_found));
	if (json_dump_file(o, tmp, JSON_COMPACT) || rename(tmp, path))
		err = -errno;
	json_decref(o);
	return err;
}

int irc_evstat_read(int fd, struct irc_evstat_sum *out)
{
	struct irc_evstat *per;
	int ncpu, i, err;

	per = irc_percpu_read(fd, sizeof(*per), &ncpu, &err);
	if (!per)
		return err;
	out->seq = out->lost = out->unsampled = out->flost = 0;
	for (i = 0; i < ncpu; i++) {
		out->seq += per[i].seq + per[i].fseq;
		out->lost += per[i].lost + per[i].flost;
		out->unsampled += per[i].unsampled;
		out->flost += per[i].flost;
	}
	free(per);
	return 0;
}
