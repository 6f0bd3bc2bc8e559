// SPDX-License-Identifier: GPL-2.0-only
/*
 * One host or prefix quarantine into the kernel.  See hostq.h.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <bpf/bpf.h>

#include "entries.h"
#include "hostq.h"
#include "irc.h"
#include "loader.h"
#include "pins.h"
#include "protect.h"

/* A protected address (irc_protect, v4-mapped) that @t covers; 1 if found. */
static int covers_protected(const struct irc_maps *m, const struct irc_cidr *t,
			    struct irc_cidr *which, __u32 *why)
{
	static const uint8_t mapped[12] = { [10] = 0xff, [11] = 0xff };
	struct irc_in6 key, cur, *prev = NULL;
	int fd = m->fd[IRC_M_PROTECT];

	while (bpf_map_get_next_key(fd, prev, &key) == 0) {
		struct irc_cidr a = { .family = AF_INET6, .plen = 128 };

		if (!memcmp(key.addr, mapped, sizeof(mapped))) {
			a.family = AF_INET;
			a.plen = 32;
			memcpy(a.addr, key.addr + 12, 4);
		} else {
			memcpy(a.addr, key.addr, 16);
		}
		if (a.family == t->family && irc_cidr_contains(t, &a) &&
		    bpf_map_lookup_elem(fd, &key, why) == 0) {
			*which = a;
			return 1;
		}
		cur = key;
		prev = &cur;
	}
	return 0;
}

/* 0, or IRC_HQ_REFUSED / IRC_HQ_FAILED with @why. */
static int lockout_check(const struct irc_maps *m, const struct irc_hostq *q,
			 char *why, size_t len)
{
	struct irc_cidr peer, which;
	char w[IRC_CIDR_STRLEN], words[96];
	__u32 pwhy;
	int r;

	if (irc_parse_ssh_peer(getenv("SSH_CONNECTION"), &peer) == 0 &&
	    irc_cidr_contains(&q->target, &peer)) {
		irc_cidr_format(&peer, w, sizeof(w));
		if (!q->force) {
			snprintf(why, len, "quarantine host %s: refused: it covers %s, the address of your SSH session (SSH_CONNECTION); add --force if you mean it",
				 q->arg, w);
			return IRC_HQ_REFUSED;
		}
		irc_warn("quarantining %s cuts your SSH session from %s", q->arg, w);
	}
	r = irc_allow_find(m, &q->target, IRC_ALLOW_ALWAYS, 0, &which);
	if (r < 0) {
		snprintf(why, len, "quarantine host %s: read allowlist: %s", q->arg, strerror(-r));
		return IRC_HQ_FAILED;
	}
	if (r == 1) {
		irc_cidr_format(&which, w, sizeof(w));
		if (!q->force) {
			snprintf(why, len, "quarantine host %s: refused: the allowlist entry %s covers it; add --force to record it anyway (the allowlist still wins)",
				 q->arg, w);
			return IRC_HQ_REFUSED;
		}
		irc_warn("allowlist entry %s still exempts addresses of %s", w, q->arg);
	}
	if (q->protect && covers_protected(m, &q->target, &which, &pwhy)) {
		irc_cidr_format(&which, w, sizeof(w));
		snprintf(why, len, "quarantine host %s: refused: it covers %s (%s of this host)",
			 q->arg, w, irc_protect_words(pwhy, words, sizeof(words)));
		return IRC_HQ_REFUSED;
	}
	return 0;
}

/* Equal as far as the operator can tell: origin, direction, reason, expiry. */
static bool same_entry(const struct irc_qentry *a, const struct irc_qentry *b)
{
	uint64_t d = a->expires_ns > b->expires_ns ? a->expires_ns - b->expires_ns :
						     b->expires_ns - a->expires_ns;

	return a->origin == b->origin && a->dir == b->dir && !strcmp(a->reason, b->reason) &&
	       !a->expires_ns == !b->expires_ns && d < 1000000000ULL &&
	       a->created_ns == b->created_ns;
}

int irc_hostq_apply(const struct irc_maps *m, const struct irc_hostq *q, bool same_ok,
		    int *err, char *why, size_t len)
{
	struct irc_qentry val = {}, old;
	struct irc_key key;
	bool existed;
	int r;

	*err = 0;
	why[0] = '\0';
	r = lockout_check(m, q, why, len);
	if (r)
		return r;
	irc_qkey(&q->target, &key);
	existed = irc_q_lookup(m, &key, &old) == 0;
	val.expires_ns = q->expires_ns;
	val.created_ns = q->created_ns ?: existed ? old.created_ns : irc_now_real_ns();
	val.drops = existed ? old.drops : 0;
	val.dir = q->dir;
	val.plen = q->target.plen;
	val.actor_uid = q->actor_uid;
	val.origin = q->origin;
	snprintf(val.reason, sizeof(val.reason), "%s", q->reason ?: "");
	if (existed && same_ok && same_entry(&old, &val))
		return IRC_HQ_UNCHANGED;

	*err = irc_q_update(m, &key, &val, BPF_ANY);
	/*
	 * Never a rule that nothing enforces.  Checked after the write (the
	 * netlink queries take longer than the write itself, and containment
	 * comes first), like the caller's own checks; when one fails, the
	 * write is undone.
	 */
	if (q->after_write && q->after_write(q->ctx, *err) && !*err)
		*err = -ECANCELED;
	else if (!*err && irc_require_enforced(m, "quarantine host", IRC_ENF_NET))
		*err = -ENOLINK;
	if (*err == -ECANCELED || *err == -ENOLINK) {
		if (existed)
			irc_q_update(m, &key, &old, BPF_ANY);
		else
			irc_q_delete(m, &key);
		snprintf(why, len, "quarantine host %s: %s", q->arg,
			 *err == -ENOLINK ? "not enforced" : "refused");
		return IRC_HQ_FAILED;
	}
	if (*err) {
		char full[128];

		if (IRC_ERR_FULL(*err))
			snprintf(why, len, "quarantine host %s: %s; release entries first", q->arg,
				 irc_map_full_msg(m, key.map, full, sizeof(full)));
		else
			snprintf(why, len, "quarantine host %s: update map %s: %s", q->arg,
				 irc_map_names[key.map], strerror(-*err));
		return IRC_HQ_FAILED;
	}
	return existed ? IRC_HQ_UPDATED : IRC_HQ_ADDED;
}

int irc_hostq_release(const struct irc_maps *m, const struct irc_cidr *t, int origin,
		      uint64_t decided_ns)
{
	struct irc_qentry old;
	struct irc_key key;

	irc_qkey(t, &key);
	if (origin >= 0 || decided_ns) {
		int err = irc_q_lookup(m, &key, &old);

		if (err)
			return err;
		if (origin >= 0 && old.origin != (__u32)origin)
			return -EPERM;
		if (decided_ns && old.created_ns > decided_ns)
			return -ESTALE;
	}
	return irc_q_delete(m, &key);
}
