/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * `run --metrics ADDR:PORT`: Prometheus' text exposition format over HTTP
 * (libmicrohttpd, loaded on first use, a thread of its own).  A scrape
 * reads the kernel's counters and table sizes itself; the controller's own
 * counters come from the snapshot it hands over once a second, so the
 * server never touches the controller's state.
 */
#ifndef IRC_METRICS_H
#define IRC_METRICS_H

#include <stdint.h>
#include <jansson.h>

#include "ircontain/abi.h"
#include "run.h"

struct irc_metrics;

/* "127.0.0.1:9464", "[::1]:9464": 0, or -EINVAL with *@why. */
int irc_metrics_parse_addr(const char *s, void *sa, unsigned int *len, const char **why);

/* Starts serving at @addr; 0 or -errno after printing. */
int irc_metrics_start(struct irc_metrics **mp, const char *addr);

struct irc_metrics_snap {
	struct irc_run_stats st;
	uint64_t findings[IRC_DET__MAX];	/* findings read, per detector */
	json_t *fleet;			/* the agent's state (irc_agent_json), or NULL */
};
/* The controller's counters as they stand (@s->fleet is taken). */
void irc_metrics_update(struct irc_metrics *m, struct irc_metrics_snap *s);
void irc_metrics_stop(struct irc_metrics *m);

#endif /* IRC_METRICS_H */
