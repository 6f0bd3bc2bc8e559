/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The controller's watch over the data path.
 *
 * Interfaces: rtnetlink link and tc notifications (libnl), and a check of
 * every attachment each IRC_WATCH_CHECK_MS.  An XDP program or tc filter
 * removed by another tool is attached again, recorded as a "tamper" event
 * and a "reattach" action; an interface matching a `--iface` pattern gets
 * the programs when it appears and is released when it goes; a rename is
 * followed (the programs stay, the record takes the new name).
 *
 * Maps: expired entries are swept out every IRC_GC_INTERVAL_MS, each one an
 * "expire" action.  Cgroups: a restored cgroup quarantine whose cgroup did
 * not exist at load is applied when the cgroup appears.
 */
#ifndef IRC_WATCH_H
#define IRC_WATCH_H

#include <jansson.h>

struct irc_watch;
struct irc_store;

struct irc_watch_ops {
	void *ctx;
	/*
	 * One record (@kind: enum irc_rec_kind) by @actor (NULL: the daemon)
	 * for the store and the events file; @type and @actor static strings,
	 * @body taken.
	 */
	void (*record)(void *ctx, int kind, const char *type, const char *actor,
		       const char *target, json_t *body);
	/* The store, to read the desired state at the start (NULL later). */
	struct irc_store *(*store)(void *ctx);
};

/*
 * Subscribes to link and tc notifications, attaches to the interfaces that
 * match @pats (the patterns are borrowed) and are not attached yet, reads
 * the cgroup quarantines still awaited.  0 or -errno after saying why.
 */
int irc_watch_open(struct irc_watch **wp, char **pats, int npats,
		   const struct irc_watch_ops *ops);
/* Everything due: notifications, the attach check, the sweep, the cgroups. */
void irc_watch_tick(struct irc_watch *w);
void irc_watch_close(struct irc_watch *w);

#endif /* IRC_WATCH_H */
