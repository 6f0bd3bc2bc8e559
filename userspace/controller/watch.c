// SPDX-License-Identifier: GPL-2.0-only
/* The controller's watch over interfaces, expired entries and awaited cgroups. */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <net/if.h>
#include <linux/rtnetlink.h>
#include <netlink/netlink.h>
#include <netlink/msg.h>
#include <netlink/attr.h>
#include <bpf/bpf.h>

#include "entity.h"
#include "entries.h"
#include "irc.h"
#include "loader.h"
#include "netif.h"
#include "pins.h"
#include "restore.h"
#include "store.h"
#include "sensid.h"
#include "watch.h"

#define MS	1000000ULL

/* A link notification, queued by the callback and handled after the read. */
struct note {
	int type;		/* RTM_NEWLINK, RTM_DELLINK, RTM_DELTFILTER */
	int ifindex;
	char name[IRC_IFNAME_LEN];
};
#define MAX_NOTES	256

struct irc_watch {
	struct irc_watch_ops ops;
	struct irc_maps m;
	struct nl_sock *sk;
	char **pats;
	int npats;
	struct note notes[MAX_NOTES];
	int nnotes;
	bool resync;		/* notifications were lost: look at everything */
	bool check_now;
	uint64_t next_check, next_gc, next_cgroups;
	/* Interfaces whose (re-)attach failed, and when to try again. */
	struct { int ifindex; uint64_t at; } retry[IRC_MAX_IFACES];
	struct irc_want want;	/* the cgroup quarantines awaited */
	bool awaiting;
	/*
	 * The interface watch runs in its own thread: the main loop waits on
	 * the disk (fsync of the store and the events file), and a re-attach
	 * must not wait behind it.  The thread only does kernel work; what it
	 * did is queued here and recorded by the main loop.
	 */
	pthread_t thread;
	bool started;
	atomic_bool stop;
	pthread_mutex_t lock;
	struct qrec { int kind; const char *type; char target[IRC_IFNAME_LEN + 8]; json_t *body; }
		queue[MAX_NOTES];
	int nqueue;
	unsigned long dropped;	/* records the queue had no room for */
};

static int on_msg(struct nl_msg *msg, void *arg)
{
	struct irc_watch *w = arg;
	struct nlmsghdr *h = nlmsg_hdr(msg);
	struct note *n;
	struct nlattr *a;

	if (w->nnotes == MAX_NOTES) {
		w->resync = true;
		return NL_OK;
	}
	n = &w->notes[w->nnotes];
	memset(n, 0, sizeof(*n));
	n->type = h->nlmsg_type;
	if (h->nlmsg_type == RTM_NEWLINK || h->nlmsg_type == RTM_DELLINK) {
		struct ifinfomsg *ifi = nlmsg_data(h);

		if (nlmsg_datalen(h) < (int)sizeof(*ifi))
			return NL_OK;
		n->ifindex = ifi->ifi_index;
		a = nlmsg_find_attr(h, sizeof(*ifi), IFLA_IFNAME);
		if (a)
			snprintf(n->name, sizeof(n->name), "%s", nla_get_string(a));
	} else if (h->nlmsg_type == RTM_DELTFILTER || h->nlmsg_type == RTM_DELQDISC) {
		struct tcmsg *t = nlmsg_data(h);

		if (nlmsg_datalen(h) < (int)sizeof(*t))
			return NL_OK;
		n->ifindex = t->tcm_ifindex;
		n->type = RTM_DELTFILTER;
	} else {
		return NL_OK;
	}
	w->nnotes++;
	return NL_OK;
}

static bool iface_rec(struct irc_watch *w, int ifindex, struct irc_iface *rec)
{
	__u32 k = (__u32)ifindex;

	return bpf_map_lookup_elem(w->m.fd[IRC_M_IFACES], &k, rec) == 0;
}

static void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void say(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "ircontain: run: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

/* From the watch thread: queued for the main loop (irc_watch_tick). */
static void record(struct irc_watch *w, int kind, const char *type, const char *ifname,
		   json_t *body)
{
	struct qrec *q;

	pthread_mutex_lock(&w->lock);
	if (w->nqueue == MAX_NOTES) {
		w->dropped++;
		json_decref(body);
	} else {
		q = &w->queue[w->nqueue++];
		q->kind = kind;
		q->type = type;
		snprintf(q->target, sizeof(q->target), "iface:%s", ifname);
		q->body = body;
	}
	pthread_mutex_unlock(&w->lock);
}

/* In the main loop: what the thread did, into the store and the events file. */
static void drain(struct irc_watch *w)
{
	struct qrec q[MAX_NOTES];
	unsigned long dropped;
	int n, i;

	pthread_mutex_lock(&w->lock);
	n = w->nqueue;
	memcpy(q, w->queue, n * sizeof(q[0]));
	w->nqueue = 0;
	dropped = w->dropped;
	w->dropped = 0;
	pthread_mutex_unlock(&w->lock);
	for (i = 0; i < n; i++) {
		if (w->ops.record)
			w->ops.record(w->ops.ctx, q[i].kind, q[i].type, NULL, q[i].target, q[i].body);
		else
			json_decref(q[i].body);
	}
	if (dropped)
		irc_warn("run: %lu interface records lost (queue full)", dropped);
}

/* Whether a failed attach on @ifindex is to be left alone for now. */
static bool backing_off(struct irc_watch *w, int ifindex, uint64_t now)
{
	int i;

	for (i = 0; i < IRC_MAX_IFACES; i++)
		if (w->retry[i].ifindex == ifindex)
			return now < w->retry[i].at;
	return false;
}

static void set_retry(struct irc_watch *w, int ifindex, bool failed, uint64_t now)
{
	int i, free_slot = -1;

	for (i = 0; i < IRC_MAX_IFACES; i++) {
		if (w->retry[i].ifindex == ifindex) {
			if (!failed)
				w->retry[i].ifindex = 0;
			else
				w->retry[i].at = now + IRC_WATCH_RETRY_MS * MS;
			return;
		}
		if (!w->retry[i].ifindex && free_slot < 0)
			free_slot = i;
	}
	if (failed && free_slot >= 0) {
		w->retry[free_slot].ifindex = ifindex;
		w->retry[free_slot].at = now + IRC_WATCH_RETRY_MS * MS;
	}
}

static int attach(struct irc_watch *w, const struct irc_netif *nif, int mode,
		  struct irc_attach_result *r)
{
	enum irc_xdp_req req = mode == IRC_XDP_NATIVE ? IRC_XDP_REQ_NATIVE :
			       mode == IRC_XDP_GENERIC ? IRC_XDP_REQ_GENERIC : IRC_XDP_REQ_AUTO;
	int err = irc_attach_iface(&w->m, nif, req, r);

	set_retry(w, nif->ifindex, err != 0, irc_now_boot_ns());
	return err;
}

/* A new interface that matches a pattern. */
static void appeared(struct irc_watch *w, int ifindex)
{
	struct irc_attach_result r;
	struct irc_netif nif;
	struct irc_iface rec;
	int err;

	if (iface_rec(w, ifindex, &rec) || backing_off(w, ifindex, irc_now_boot_ns()))
		return;
	if (irc_netif_by_index(ifindex, &nif) || nif.loopback ||
	    !irc_ifpattern_match(w->pats, w->npats, nif.name))
		return;
	err = attach(w, &nif, IRC_XDP_NONE, &r);
	if (!err)
		say("interface %s appeared: xdp %s ingress, tc egress attached", nif.name,
		    irc_xdp_mode_name(r.xdp_mode));
	record(w, IRC_REC_ACTION, "attach", nif.name,
	       json_pack("{s:s,s:i,s:s,s:s,s:s}", "interface", nif.name, "ifindex", ifindex,
			 "xdp_mode", irc_xdp_mode_name(r.xdp_mode),
			 "reason", "interface appeared, matching --iface",
			 "result", err ? strerror(-err) : "ok"));
}

static void gone(struct irc_watch *w, const struct irc_iface *rec)
{
	char name[IRC_IFNAME_LEN];

	snprintf(name, sizeof(name), "%s", rec->name);
	irc_detach_iface(&w->m, (int)rec->ifindex);
	set_retry(w, (int)rec->ifindex, false, 0);
	say("interface %s is gone: released", name);
	record(w, IRC_REC_ACTION, "detach", name,
	       json_pack("{s:s,s:i,s:s,s:s}", "interface", name, "ifindex", (int)rec->ifindex,
			 "reason", "interface removed", "result", "ok"));
}

static void renamed(struct irc_watch *w, struct irc_iface *rec, const char *name)
{
	char old[IRC_IFNAME_LEN];
	__u32 k = rec->ifindex;

	snprintf(old, sizeof(old), "%s", rec->name);
	snprintf(rec->name, sizeof(rec->name), "%s", name);
	if (bpf_map_update_elem(w->m.fd[IRC_M_IFACES], &k, rec, BPF_EXIST))
		return;
	say("interface %s renamed %s: followed, programs stay attached", old, name);
	record(w, IRC_REC_ACTION, "rename", name,
	       json_pack("{s:s,s:s,s:i,s:s,s:s}", "interface", name, "was", old,
			 "ifindex", (int)rec->ifindex, "reason", "interface renamed", "result", "ok"));
}

/* One recorded interface: still there, still ours? */
static void check_one(struct irc_watch *w, struct irc_iface *rec, uint64_t now)
{
	struct irc_attach_state st;
	struct irc_attach_result r;
	struct irc_netif nif;
	int err;

	irc_attach_check((int)rec->ifindex, rec->xdp_prog_id, &st);
	if (!st.present) {
		gone(w, rec);
		return;
	}
	if ((st.xdp_attached && st.tc_attached) || backing_off(w, (int)rec->ifindex, now))
		return;
	if (irc_netif_by_index((int)rec->ifindex, &nif))
		return;
	if (strcmp(nif.name, rec->name))
		renamed(w, rec, nif.name);
	/* Containment first: attached again, then on record. */
	err = attach(w, &nif, (int)rec->xdp_mode, &r);
	say("TAMPER: %s%s%s removed from %s by another tool: %s",
	    st.xdp_attached ? "" : "XDP program", !st.xdp_attached && !st.tc_attached ? " and " : "",
	    st.tc_attached ? "" : "tc filter", nif.name,
	    err ? "attaching again failed" : "attached again");
	record(w, IRC_REC_EVENT, "tamper", nif.name,
	       json_pack("{s:s,s:i,s:b,s:b,s:s}", "interface", nif.name, "ifindex", nif.ifindex,
			 "xdp_attached", st.xdp_attached, "tc_attached", st.tc_attached,
			 "message", "a containment program was removed by another tool"));
	record(w, IRC_REC_ACTION, "reattach", nif.name,
	       json_pack("{s:s,s:i,s:b,s:b,s:s,s:s}", "interface", nif.name, "ifindex", nif.ifindex,
			 "xdp_was_attached", st.xdp_attached, "tc_was_attached", st.tc_attached,
			 "reason", "tamper: program removed by another tool",
			 "result", err ? strerror(-err) : "ok"));
}

static void check_all(struct irc_watch *w, uint64_t now)
{
	struct irc_iface recs[IRC_MAX_IFACES];
	__u32 key, *prev = NULL;
	int n = 0, i;

	/* Collected first: check_one may delete a record. */
	while (n < IRC_MAX_IFACES &&
	       bpf_map_get_next_key(w->m.fd[IRC_M_IFACES], prev, &key) == 0) {
		prev = &recs[n].ifindex;
		if (bpf_map_lookup_elem(w->m.fd[IRC_M_IFACES], &key, &recs[n]))
			break;
		n++;
	}
	for (i = 0; i < n; i++)
		check_one(w, &recs[i], now);
}

/* Every interface matching a pattern that is not attached yet. */
static void attach_matching(struct irc_watch *w)
{
	struct irc_netif nifs[IRC_MAX_IFACES];
	int n, i;

	if (!w->npats)
		return;
	n = irc_netif_match(w->pats, w->npats, nifs, IRC_MAX_IFACES);
	for (i = 0; i < n; i++)
		appeared(w, nifs[i].ifindex);
}

static void handle_notes(struct irc_watch *w)
{
	struct irc_iface rec;
	int i;

	for (i = 0; i < w->nnotes; i++) {
		struct note *n = &w->notes[i];
		bool known = iface_rec(w, n->ifindex, &rec);

		if (n->type == RTM_DELLINK && known) {
			/* Gone, or moved to another namespace: released either way. */
			gone(w, &rec);
		} else if (n->type == RTM_NEWLINK && known) {
			if (n->name[0] && strcmp(n->name, rec.name))
				renamed(w, &rec, n->name);
		} else if (n->type == RTM_NEWLINK) {
			appeared(w, n->ifindex);
		} else if (n->type == RTM_DELTFILTER && known) {
			w->check_now = true;
		}
	}
	w->nnotes = 0;
}

/* ---- expired entries ----------------------------------------------------- */

static void on_expired(void *ctx, int map, const struct irc_cidr *target,
		       const void *key, const void *val)
{
	struct irc_watch *w = ctx;
	char ent[IRC_ENTITY_LEN];

	(void)val;
	if (target) {
		irc_entity_host(ent, sizeof(ent), target);
	} else if (map == IRC_M_QPID) {
		irc_entity_pid(ent, sizeof(ent), *(const __u32 *)key);
	} else {
		/* Cgroups and sockets: counted in the log line. */
		return;
	}
	if (w->ops.record)
		w->ops.record(w->ops.ctx, IRC_REC_ACTION, "expire", NULL, ent,
			      json_pack("{s:s,s:s,s:s}", "reason",
					"ttl expired: entry removed from the kernel",
					"table", irc_map_names[map], "result", "ok"));
}

static void sweep(struct irc_watch *w)
{
	uint64_t now = irc_now_boot_ns();
	long n, total = 0, cg = 0, socks = 0;
	size_t i;

	for (i = 0; i < irc_n_ttl_maps; i++) {
		n = irc_gc_map(&w->m, irc_ttl_maps[i], now, on_expired, w);
		if (n <= 0)
			continue;
		total += n;
		if (irc_ttl_maps[i] == IRC_M_QCGRP)
			cg = n;
		if (irc_ttl_maps[i] == IRC_M_QSOCK)
			socks = n;
	}
	if (cg)
		irc_qproc_sync_cgroup_flag(&w->m);
	if (total)
		say("removed %ld expired entr%s from the kernel maps (%ld cgroup%s, %ld socket%s)",
		    total, total == 1 ? "y" : "ies", cg, cg == 1 ? "" : "s", socks,
		    socks == 1 ? "" : "s");
}

/* ---- awaited cgroups ----------------------------------------------------- */

static void load_want(struct irc_watch *w)
{
	struct irc_store *s = w->ops.store ? w->ops.store(w->ops.ctx) : NULL;

	if (!s || irc_want_collect(s, &w->want)) {
		irc_want_free(&w->want);
		return;
	}
	w->awaiting = irc_want_pending_cgroups(&w->want, &w->m) > 0;
	if (w->awaiting)
		say("awaiting %zu cgroup%s whose quarantine is in force",
		    irc_want_pending_cgroups(&w->want, &w->m),
		    irc_want_pending_cgroups(&w->want, &w->m) == 1 ? "" : "s");
}

static int cgroup_record(void *ctx, const char *type, const char *target, int64_t incident,
			 json_t *body)
{
	struct irc_watch *w = ctx;

	(void)incident;
	/* The types restore uses are static strings. */
	if (w->ops.record)
		w->ops.record(w->ops.ctx, IRC_REC_ACTION, type, IRC_RESTORE_ACTOR, target, body);
	else
		json_decref(body);
	return 0;
}

static void cgroups(struct irc_watch *w)
{
	struct irc_restore_sink sink = { .ctx = w, .record = cgroup_record };
	struct irc_restore_report rep;
	size_t i;

	/* Nothing to do (and no commit) until one of them exists. */
	for (i = 0; i < w->want.n; i++)
		if (w->want.ent[i].live && w->want.ent[i].kind == IRC_WANT_CGROUP &&
		    !access(w->want.ent[i].entity + 7, F_OK))
			break;
	if (i == w->want.n)
		return;

	irc_restore(&w->m, &sink, &w->want, true, false, &rep);
	w->awaiting = irc_want_pending_cgroups(&w->want, &w->m) > 0;
}

/* ---- the watch ------------------------------------------------------------ */

static void *watch_thread(void *arg)
{
	struct irc_watch *w = arg;
	struct pollfd pfd = { .fd = nl_socket_get_fd(w->sk), .events = POLLIN };
	uint64_t now;
	int i, err = 0;

	while (!atomic_load(&w->stop)) {
		poll(&pfd, 1, IRC_WATCH_CHECK_MS / 2);
		/* Non-blocking: what has arrived, no more. */
		for (i = 0; i < 64; i++) {
			err = nl_recvmsgs_default(w->sk);
			if (err < 0)
				break;
		}
		if (err == -NLE_NOMEM || err == -NLE_MSG_OVERFLOW)
			w->resync = true;	/* the socket overran: notifications lost */
		handle_notes(w);
		now = irc_now_boot_ns();
		if (w->resync) {
			w->resync = false;
			attach_matching(w);
			w->check_now = true;
		}
		if (w->check_now || now >= w->next_check) {
			w->check_now = false;
			w->next_check = now + IRC_WATCH_CHECK_MS * MS;
			check_all(w, now);
		}
	}
	return NULL;
}

int irc_watch_open(struct irc_watch **wp, char **pats, int npats,
		   const struct irc_watch_ops *ops)
{
	struct irc_watch *w;
	int err;

	*wp = NULL;
	w = calloc(1, sizeof(*w));
	if (!w)
		return -ENOMEM;
	pthread_mutex_init(&w->lock, NULL);
	w->ops = *ops;
	w->pats = pats;
	w->npats = npats;
	err = irc_maps_open("run", &w->m);
	if (err) {
		pthread_mutex_destroy(&w->lock);
		free(w);
		return err;
	}
	w->sk = nl_socket_alloc();
	if (!w->sk) {
		irc_watch_close(w);
		return -ENOMEM;
	}
	nl_socket_disable_seq_check(w->sk);
	nl_socket_modify_cb(w->sk, NL_CB_VALID, NL_CB_CUSTOM, on_msg, w);
	if (nl_connect(w->sk, NETLINK_ROUTE) ||
	    nl_socket_add_memberships(w->sk, RTNLGRP_LINK, RTNLGRP_TC, 0) ||
	    nl_socket_set_nonblocking(w->sk)) {
		irc_err("run: subscribe to link notifications: %s", strerror(errno));
		irc_watch_close(w);
		return -EIO;
	}
	/* Big enough for a burst of interfaces (a container host starting up). */
	nl_socket_set_buffer_size(w->sk, 1 << 20, 0);
	attach_matching(w);
	check_all(w, irc_now_boot_ns());
	drain(w);
	load_want(w);
	err = pthread_create(&w->thread, NULL, watch_thread, w);
	if (err) {
		irc_err("run: start the interface watch: %s", strerror(err));
		irc_watch_close(w);
		return -err;
	}
	w->started = true;
	*wp = w;
	return 0;
}

void irc_watch_tick(struct irc_watch *w)
{
	uint64_t now = irc_now_boot_ns();

	drain(w);
	if (now >= w->next_gc) {
		w->next_gc = now + IRC_GC_INTERVAL_MS * MS;
		sweep(w);
		/* A sensitive file replaced since (passwd renames over /etc/shadow). */
		irc_sens_refresh(&w->m);
	}
	if (w->awaiting && now >= w->next_cgroups) {
		w->next_cgroups = now + IRC_CGROUP_WAIT_MS * MS;
		cgroups(w);
	}
}

void irc_watch_close(struct irc_watch *w)
{
	if (!w)
		return;
	if (w->started) {
		atomic_store(&w->stop, true);
		pthread_join(w->thread, NULL);
		drain(w);
	}
	pthread_mutex_destroy(&w->lock);
	nl_socket_free(w->sk);
	irc_maps_close(&w->m);
	irc_want_free(&w->want);
	free(w);
}
