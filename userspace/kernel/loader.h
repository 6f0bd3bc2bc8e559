/* SPDX-License-Identifier: GPL-2.0-only */
/* Loading, attaching, detaching and probing the BPF side. */
#ifndef IRC_LOADER_H
#define IRC_LOADER_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>

#include "netif.h"

enum irc_xdp_req {
	IRC_XDP_REQ_AUTO,	/* native, falling back to generic */
	IRC_XDP_REQ_NATIVE,
	IRC_XDP_REQ_GENERIC,
};

/* What `load` did on one interface, for the report. */
struct irc_attach_result {
	struct irc_netif nif;
	int xdp_mode;		/* enum irc_xdp_mode */
	bool replaced;		/* an earlier load's programs were swapped */
	bool fell_back;		/* auto mode: native refused, generic used */
};

/*
 * Loads the programs (reusing pinned maps), attaches XDP ingress and tc
 * egress on each interface, pins everything.  On failure, interfaces this
 * call attached for the first time are detached again.  With @cgroup_root
 * (NULL to skip), also attaches the process hooks there.  @ring_size is
 * the event ring buffer's size in bytes (0: IRC_RINGBUF_DEFAULT); an
 * existing pinned ring keeps its size.
 */
int irc_load(const struct irc_netif *nifs, int n, enum irc_xdp_req req,
	     struct irc_attach_result *res, const char *cgroup_root,
	     unsigned int ring_size, int (*prepare)(void *ctx), void *ctx);
/*
 * (@prepare, when not NULL, runs once the maps are pinned and the process
 * hooks attached, before any interface gets its programs: `load` restores
 * the store's state there.  Its error fails the load.)
 */

struct irc_maps;
/*
 * Attaches the pinned packet programs to @nif (a new interface, or one
 * whose programs another tool removed) and records it in irc_ifaces.
 */
int irc_attach_iface(const struct irc_maps *m, const struct irc_netif *nif,
		     enum irc_xdp_req req, struct irc_attach_result *r);
/* Detaches from @ifindex (if still there) and forgets its record. */
void irc_detach_iface(const struct irc_maps *m, int ifindex);

/* Number of process-hook links pinned (0 if process quarantine is off). */
int irc_proc_links(void);

/*
 * An optional part of the process hooks: a program an older kernel may
 * reject, left out with a warning.  Everything else is the containment
 * core, loaded all or nothing.
 */
struct irc_part {
	const char *prog;	/* BPF program name */
	const char *capability;	/* short name, as status --json reports it */
	const char *sees;	/* what is not seen without it */
	const char *needs;	/* a path that exists when the kernel has what
				   it watches (NULL: always) */
};
const struct irc_part *irc_part_of(const char *prog);

/* The optional parts whose link is not attached, at most @max. */
int irc_parts_missing(const struct irc_part **out, int max);

/* Core process programs whose link is not attached (0: all are). */
int irc_proc_core_missing(__u64 cgroup_id, char *names, size_t len);

/* What enforces a rule: the interfaces' XDP+tc, or the process hooks. */
enum irc_enforcer {
	IRC_ENF_NET,
	IRC_ENF_PROC,
};
struct irc_maps;
/*
 * 0 if the programs that enforce @what are attached, checked against the
 * kernel (links and attachments, not the maps); otherwise prints
 * "<action>: not enforced: <why>" and returns -ENOLINK.  For the network,
 * interfaces that are gone or detached are warned about as long as one
 * still enforces.
 */
int irc_require_enforced(const struct irc_maps *m, const char *action,
			 enum irc_enforcer what);

/* Detaches from every recorded interface and removes every pin. */
int irc_unload(int *detached);

/*
 * Break-glass: removes every ircontain program, link and pin without
 * needing the maps, the store or an intact pin dir.  Every pin under the
 * pin dir goes (links detached first); then any link or tc filter of an
 * irc_* program that uses one of those maps is detached; if no map could be
 * read, any irc_* one on the interfaces matching @pats (all if none).
 * Returns 0, or -EIO if something could not be removed (said why).
 */
struct irc_emergency {
	int pins, links, tc, maps_known, errors;
};
int irc_unload_emergency(char **pats, int npats, struct irc_emergency *rep);

/* Attach state of one interface record, checked against the kernel. */
struct irc_attach_state {
	bool xdp_attached;	/* our program is the one on the interface */
	bool tc_attached;
	bool present;		/* the interface still exists */
};
int irc_attach_check(int ifindex, unsigned int xdp_prog_id,
		     struct irc_attach_state *st);

struct irc_features {
	bool btf;
	bool ringbuf;
	bool boot_clock;
	bool xdp_link;
	bool lsm;
	char cgroup2[256];	/* mount point, "" if none */
};
void irc_probe_features(struct irc_features *f);

/* libbpf's own log goes to stderr only with -v. */
void irc_libbpf_log_setup(void);

const char *irc_xdp_mode_name(int mode);

#endif /* IRC_LOADER_H */
