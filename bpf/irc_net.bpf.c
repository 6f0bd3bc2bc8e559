// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Host containment on the packet path: XDP on ingress, tc on egress.
 *
 * Per packet, in this order: parse; allowlist 'always' (pass); quarantine,
 * exact host in a hash then prefix in an LPM trie (drop); isolation (drop all
 * but isolation-allowlisted peers and the exempt protocols); pass.
 * Quarantine comes before the isolation exemptions so that a quarantined DNS
 * server stays dropped under --allow-dns, and a quarantined peer stays
 * dropped under 'isolate on --allow'.
 *
 * Every lookup is O(1) or one trie walk; the only loops are bounded by
 * constants from abi.h.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#include "irc_maps.bpf.h"
#include "irc_common.bpf.h"
#include "irc_events.bpf.h"
#include "irc_parse.bpf.h"

#define TC_ACT_OK	0
#define TC_ACT_SHOT	2

#define TCP_FLAG_SYN	0x02
#define TCP_FLAG_ACK	0x10

/* Bytes the tc program pulls into the linear part when headers are paged. */
#define IRC_TC_PULL_LEN	128

char LICENSE[] SEC("license") = "Dual BSD/GPL";

struct irc_dir_stats {
	__u32 pass, allow, drop_quar, drop_iso;
};

static const struct irc_dir_stats rx_stats = {
	IRC_STAT_RX_PASS, IRC_STAT_RX_ALLOW, IRC_STAT_RX_DROP_QUAR,
	IRC_STAT_RX_DROP_ISO,
};
static const struct irc_dir_stats tx_stats = {
	IRC_STAT_TX_PASS, IRC_STAT_TX_ALLOW, IRC_STAT_TX_DROP_QUAR,
	IRC_STAT_TX_DROP_ISO,
};

/*
 * 1 if the entry applies to a packet in direction @dir now.  The clock is
 * read only for an entry that has a TTL: most have none, and on this path
 * the read costs more than the lookup.
 */
static __always_inline int irc_live(const struct irc_qentry *e, __u32 dir)
{
	if (!(e->dir & dir))
		return 0;
	if (e->expires_ns && e->expires_ns <= bpf_ktime_get_boot_ns()) {
		irc_count(IRC_STAT_EXPIRED);
		return 0;
	}
	return 1;
}

/*
 * The kernel's own count of an LPM trie's entries, read in place (BTF, CO-RE;
 * Linux 5.10+): an empty trie costs a load instead of a lookup, and nothing
 * in userspace has to keep a flag in step with the maps.
 */
struct lpm_trie___irc {
	size_t n_entries;
} __attribute__((preserve_access_index));

#define irc_trie_empty(map) \
	(((struct lpm_trie___irc *)&(map))->n_entries == 0)

/*
 * 1 when the big exact-host map of family index @idx (IRC_QTIER_V4 / V6)
 * may hold entries (IRC_MAX_FRONT_HOSTS); an unreadable flag counts as set.
 */
static __always_inline int irc_tier_big(__u32 idx)
{
	__u32 *f = bpf_map_lookup_elem(&IRC_MAP_QTIER, &idx);

	return !f || *f;
}

/* 0 when exact host @key is surely not in its front tier (IRC_MAP_QBLOOM). */
static __always_inline int irc_maybe_front(const void *key, __u32 idx)
{
	__u32 slot = irc_qbloom_slot(key, idx == IRC_QTIER_V6) & (IRC_QBLOOM_SLOTS - 1);
	struct irc_qbloom_v *b = bpf_map_lookup_elem(&IRC_MAP_QBLOOM, &idx);

	return !b || b->slot[slot];
}

/* How the drop of a matched packet is counted (irc_match4() / irc_match6()). */
enum irc_hit {
	IRC_HIT_PREFIX,		/* a prefix's entry: the caller's atomic */
	IRC_HIT_COUNTED,	/* an exact host's: already counted on its entry */
	IRC_HIT_RUN,		/* an exact host's, a heavy hitter: irc_drop_count() */
};

/*
 * The drop of exact host entry @e (live, just read): counted at once with
 * the entry's atomic while the entry has counted fewer than
 * IRC_DROPRUN_AFTER drops; past that the host is a heavy hitter, and its
 * drops go through this CPU's run (irc_drop_count()), so a flood from it on
 * several CPUs does not move the entry's cache line between them on every
 * drop.  Most hosts never get there: in a flood from many sources each
 * drop reads an entry gone cold, and there reading the per-CPU run before
 * the atomic cost a rotating hit among 1M hosts 500-537 ns in
 * BPF_PROG_TEST_RUN on the 2-core VM, against 338-351 without it.
 */
static __always_inline void irc_host_drop(struct irc_qentry *e, enum irc_hit *hit)
{
	if (e->drops < IRC_DROPRUN_AFTER) {
		__sync_fetch_and_add(&e->drops, 1);
		*hit = IRC_HIT_COUNTED;
	} else {
		*hit = IRC_HIT_RUN;
	}
}

/*
 * An exact host's live entry: the front tier @front, then (only when its
 * flag says it is in use) the big map @big, of family index @idx.  A key is
 * in one tier; if a race left it in both, the other one is still seen when
 * the front's does not apply.  Every live entry found here drops its packet
 * (irc_host_drop()).
 */
static __always_inline struct irc_qentry *irc_host(void *front, void *big, const void *key,
						    __u32 idx, __u32 dir, enum irc_hit *hit)
{
	struct irc_qentry *e = NULL;

	if (irc_maybe_front(key, idx))
		e = bpf_map_lookup_elem(front, key);
	if (!e || !irc_live(e, dir)) {
		if (!irc_tier_big(idx))
			return NULL;
		e = bpf_map_lookup_elem(big, key);
		if (!e || !irc_live(e, dir))
			return NULL;
	}
	irc_host_drop(e, hit);
	return e;
}

/* The live entry that drops @addr, if any; *@hit says which table's. */
static __always_inline struct irc_qentry *irc_match4(__u32 addr, __u32 dir,
						     enum irc_hit *hit)
{
	struct irc_lpm4 key = { .prefixlen = 32 };
	struct irc_qentry *e;
	int i;

	e = irc_host(&IRC_MAP_Q4_FRONT, &IRC_MAP_Q4_HOST, &addr, IRC_QTIER_V4, dir, hit);
	if (e)
		return e;
	*hit = IRC_HIT_PREFIX;
	if (irc_trie_empty(IRC_MAP_Q4_PFX))
		return NULL;

	__builtin_memcpy(key.addr, &addr, 4);
	/* The first lookup, then at most IRC_LPM_RETRIES shorter ones. */
	for (i = 0; i <= IRC_LPM_RETRIES; i++) {
		e = bpf_map_lookup_elem(&IRC_MAP_Q4_PFX, &key);
		if (!e)
			return NULL;
		if (irc_live(e, dir))
			return e;
		/* Longest prefix does not apply: try the next shorter one. */
		if (e->plen == 0 || e->plen > 32)
			return NULL;
		key.prefixlen = e->plen - 1;
	}
	return NULL;
}

static __always_inline struct irc_qentry *irc_match6(const __u8 *addr,
						     __u32 dir, enum irc_hit *hit)
{
	struct irc_lpm6 key = { .prefixlen = 128 };
	struct irc_in6 hkey;
	struct irc_qentry *e;
	int i;

	__builtin_memcpy(hkey.addr, addr, 16);
	e = irc_host(&IRC_MAP_Q6_FRONT, &IRC_MAP_Q6_HOST, &hkey, IRC_QTIER_V6, dir, hit);
	if (e)
		return e;
	*hit = IRC_HIT_PREFIX;
	if (irc_trie_empty(IRC_MAP_Q6_PFX))
		return NULL;

	__builtin_memcpy(key.addr, addr, 16);
	for (i = 0; i <= IRC_LPM_RETRIES; i++) {
		e = bpf_map_lookup_elem(&IRC_MAP_Q6_PFX, &key);
		if (!e)
			return NULL;
		if (irc_live(e, dir))
			return e;
		if (e->plen == 0 || e->plen > 128)
			return NULL;
		key.prefixlen = e->plen - 1;
	}
	return NULL;
}

/*
 * The allowlist flags that apply to @peer: those of the longest prefix
 * holding it and, while that one is not an 'always' entry, of the shorter
 * prefixes around it (bounded by IRC_LPM_RETRIES).
 */
static __always_inline __u32 irc_allow_walk(const struct irc_pkt *p,
					    const void *peer)
{
	struct irc_lpm4 k4 = { .prefixlen = 32 };
	struct irc_lpm6 k6 = { .prefixlen = 128 };
	struct irc_allow *al;
	__u32 flags = 0;
	int i;

	if (p->family == 4)
		__builtin_memcpy(k4.addr, peer, 4);
	else
		__builtin_memcpy(k6.addr, peer, 16);
	for (i = 0; i <= IRC_LPM_RETRIES; i++) {
		if (p->family == 4)
			al = bpf_map_lookup_elem(&IRC_MAP_ALLOW4, &k4);
		else
			al = bpf_map_lookup_elem(&IRC_MAP_ALLOW6, &k6);
		if (!al)
			break;
		flags |= al->flags;
		if ((flags & IRC_ALLOW_ALWAYS) || al->plen == 0 ||
		    al->plen > (p->family == 4 ? 32 : 128))
			break;
		k4.prefixlen = al->plen - 1;
		k6.prefixlen = al->plen - 1;
	}
	return flags;
}

/* The walk's keys are built only when the family's allowlist has entries. */
static __always_inline __u32 irc_allow_flags(const struct irc_pkt *p,
					     const void *peer)
{
	if (p->family == 4 ? irc_trie_empty(IRC_MAP_ALLOW4) : irc_trie_empty(IRC_MAP_ALLOW6))
		return 0;
	return irc_allow_walk(p, peer);
}

static __always_inline int irc_is_loopback(const struct irc_pkt *p,
					   const void *peer)
{
	const __u8 *a = peer;
	int i;

	if (p->family == 4)
		return a[0] == 127;
	for (i = 0; i < 15; i++)
		if (a[i])
			return 0;
	return a[15] == 1;
}

/* Traffic that isolation lets through when the operator asked for it. */
static __always_inline int irc_iso_exempt(const struct irc_pkt *p, __u32 flags,
					  int ingress)
{
	__u16 peer_port = ingress ? p->sport : p->dport;
	__u16 own_port = ingress ? p->dport : p->sport;

	/* Neighbour discovery: without it no IPv6 peer is reachable at all. */
	if (p->family == 6 && p->l4proto == IPPROTO_ICMPV6 &&
	    p->icmp6_type >= 133 && p->icmp6_type <= 137)
		return 1;
	if (!p->has_ports)
		return 0;
	/*
	 * DNS as a client only: to port 53 out, and back in to an ephemeral
	 * port.  An inbound TCP SYN from port 53 is a connection attempt to
	 * a local service, not an answer.
	 */
	if ((flags & IRC_CFG_ISO_DNS) && peer_port == 53 &&
	    (p->l4proto == IPPROTO_UDP || p->l4proto == IPPROTO_TCP)) {
		if (!ingress)
			return 1;
		if (own_port >= 1024 &&
		    (p->l4proto == IPPROTO_UDP ||
		     (p->tcp_flags & (TCP_FLAG_SYN | TCP_FLAG_ACK)) != TCP_FLAG_SYN))
			return 1;
	}
	if ((flags & IRC_CFG_ISO_DHCP) && p->l4proto == IPPROTO_UDP) {
		if (p->family == 4 && peer_port == 67 && own_port == 68)
			return 1;
		if (p->family == 6 && peer_port == 547 && own_port == 546)
			return 1;
	}
	return 0;
}

/* v4-mapped form, so one LRU map keys both families. */
static __always_inline void irc_key6(const struct irc_pkt *p, const void *peer,
				     struct irc_in6 *k)
{
	__builtin_memset(k, 0, sizeof(*k));
	if (p->family == 4) {
		k->addr[10] = 0xff;
		k->addr[11] = 0xff;
		__builtin_memcpy(&k->addr[12], peer, 4);
	} else {
		__builtin_memcpy(k->addr, peer, 16);
	}
}

#define IRC_NS	1000000000ULL

/*
 * How far @key's source can be trusted: protected (never acted on; its
 * reasons in *@protect), verified (it completed a TCP handshake with us
 * lately, so it receives our packets), or neither (it may be spoofed).
 * Only called when a detector fires: two O(1) lookups.
 */
static __always_inline __u32 irc_trust(const struct irc_in6 *key, __u32 allow,
				       __u64 now, __u32 *protect)
{
	__u32 *why = bpf_map_lookup_elem(&IRC_MAP_PROTECT, key);
	__u64 *seen;

	*protect = (why ? *why : 0) | (allow ? IRC_PROT_ALLOW : 0);
	if (*protect)
		return IRC_SRC_PROTECTED;
	seen = bpf_map_lookup_elem(&IRC_MAP_VERIFIED, key);
	if (seen && *seen + IRC_VERIFIED_AGE_SEC * IRC_NS > now)
		return IRC_SRC_VERIFIED;
	return IRC_SRC_UNVERIFIED;
}

/*
 * One more quarantine of an unverified source allowed now?  GCRA over all
 * CPUs; the unlocked update may let a CPU or two more through, which
 * leaves the bound as it is.
 */
static __always_inline int irc_unverified_budget(__u64 now)
{
	const __u64 every = IRC_UNVERIFIED_EVERY_SEC * IRC_NS;
	struct irc_detstate *s;
	__u32 zero = 0;
	__u64 tat;

	s = bpf_map_lookup_elem(&IRC_MAP_DETSTATE, &zero);
	if (!s)
		return 0;
	tat = s->unverified_tat_ns > now ? s->unverified_tat_ns : now;
	if (tat - now > (IRC_UNVERIFIED_BURST - 1) * every) {
		__sync_fetch_and_add(&s->unverified_held, 1);
		return 0;
	}
	s->unverified_tat_ns = tat + every;
	return 1;
}

/*
 * Puts @e in the exact-host tiers of @peer (IRC_MAX_FRONT_HOSTS): where
 * an entry of it is, else the front tier, else (the front full) the big
 * map, its family's flag set first.  Never overwrites what an operator
 * set; a detector's expired entry is replaced.  1 if it is in.
 */
static __always_inline int irc_quarantine(const struct irc_pkt *p, const void *peer,
					  struct irc_qentry *e, __u64 now)
{
	int v4 = p->family == 4;
	void *map = v4 ? (void *)&IRC_MAP_Q4_FRONT : (void *)&IRC_MAP_Q6_FRONT;
	void *big = v4 ? (void *)&IRC_MAP_Q4_HOST : (void *)&IRC_MAP_Q6_HOST;
	__u32 idx = v4 ? IRC_QTIER_V4 : IRC_QTIER_V6;
	struct irc_qbloom_v *b;
	struct irc_qentry *q;
	__u32 *flag;

	/* Already in the big map: it stays there. */
	if (irc_tier_big(idx)) {
		q = bpf_map_lookup_elem(big, peer);
		if (q) {
			map = big;
			goto there;
		}
	}
	/* Its slot's byte before it can be in the front tier. */
	b = bpf_map_lookup_elem(&IRC_MAP_QBLOOM, &idx);
	if (!b)
		return 0;
	b->slot[irc_qbloom_slot(peer, !v4) & (IRC_QBLOOM_SLOTS - 1)] = 1;
	if (!bpf_map_update_elem(map, peer, e, BPF_NOEXIST))
		goto in;
	q = bpf_map_lookup_elem(map, peer);
	if (!q) {
		/* The front tier is full: the flag before the entry. */
		flag = bpf_map_lookup_elem(&IRC_MAP_QTIER, &idx);
		if (!flag)
			return 0;
		*flag = 1;
		map = big;
		if (!bpf_map_update_elem(map, peer, e, BPF_NOEXIST))
			goto in;
		q = bpf_map_lookup_elem(map, peer);
		if (!q)
			return 0;
	}
there:
	if (!q->expires_ns || q->expires_ns > now)
		return 0;
	e->drops = q->drops;
	if (bpf_map_update_elem(map, peer, e, BPF_EXIST))
		return 0;
in:
	/* The packet that crossed the threshold is this entry's first drop. */
	q = bpf_map_lookup_elem(map, peer);
	if (q)
		__sync_fetch_and_add(&q->drops, 1);
	return 1;
}

/* What fired, on whom. */
struct irc_shot {
	const void *addr;	/* the source, or the destination (TARGET) */
	__u32 det;
	__u32 count;
	__u32 trust;
	__u32 hold;
	__u32 protect;
	__u32 offences;
	__u32 action;
	__u32 slow;
	__u64 window_ns;
	__u64 ttl_ns;
	int enforced;
};

static __always_inline void irc_finding(const struct irc_pkt *p,
					const struct irc_det *d,
					const struct irc_shot *s)
{
	struct irc_ev_finding *ev;

	ev = IRC_EV_RESERVE(struct irc_ev_finding, IRC_EV_FINDING);
	if (!ev)
		return;
	ev->detector = s->det;
	ev->action = s->action;
	ev->severity = d->severity;
	ev->enforced = s->enforced;
	ev->count = s->count;
	ev->offences = s->offences;
	ev->window_ns = s->window_ns;
	ev->ttl_ns = s->ttl_ns;
	ev->family = p->family;
	ev->trust = s->trust;
	ev->hold = s->hold;
	ev->slow = s->slow;
	ev->protect = s->protect;
	__builtin_memset(ev->addr, 0, sizeof(ev->addr));
	__builtin_memset(ev->path, 0, sizeof(ev->path));
	ev->target_pid = 0;
	ev->fd = 0;
	if (p->family == 4)
		__builtin_memcpy(ev->addr, s->addr, 4);
	else
		__builtin_memcpy(ev->addr, s->addr, 16);
	bpf_ringbuf_submit(ev, 0);
}

/*
 * A detector fired on @peer.  Always a finding.  In enforce mode with a
 * quarantine action the program quarantines the source itself, from this
 * packet on, but only as far as the source is trusted:
 *   - protected (own address, gateway, resolver, operator session,
 *     allowlist): never;
 *   - verified: both ways, the policy's TTL multiplied per repeat offence
 *     (history in irc_offence, apart from the LRU window state) up to the
 *     cap;
 *   - unverified (may be spoofed): a port scan is dropped inbound only,
 *     for the short unverified TTL, never escalated, and within a rate
 *     budget; a SYN flood proves nothing of its source and only alerts.
 * Returns 1 if the source is now quarantined.
 */
static __always_inline int irc_fire(const struct irc_pkt *p, const void *peer,
				    const struct irc_in6 *key,
				    const struct irc_detcfg *cfg, __u32 det,
				    __u32 slow, __u32 count, __u32 allow, __u64 now)
{
	const struct irc_det *d = &cfg->det[det == IRC_DET_SYNFLOOD];
	struct irc_offence *off = NULL;
	struct irc_shot s = {
		.addr = peer, .det = det, .count = count, .slow = slow,
		.action = d->action, .ttl_ns = d->ttl_ns,
		.window_ns = slow ? d->slow_window_ns : d->window_ns,
	};
	__u32 dir = IRC_DIR_BOTH;
	int i;

	s.trust = irc_trust(key, allow, now, &s.protect);
	if (s.trust == IRC_SRC_VERIFIED) {
		off = bpf_map_lookup_elem(&IRC_MAP_OFFENCE, key);
		if (!off) {
			struct irc_offence fresh = {};

			/* Full (16k verified offenders): no history, first offence. */
			bpf_map_update_elem(&IRC_MAP_OFFENCE, key, &fresh, BPF_NOEXIST);
			off = bpf_map_lookup_elem(&IRC_MAP_OFFENCE, key);
		}
		s.offences = (off ? off->offences : 0) + 1;
		for (i = 0; i < 8; i++) {
			if (i + 1 >= s.offences || !d->factor ||
			    (d->max_ttl_ns && s.ttl_ns >= d->max_ttl_ns))
				break;
			s.ttl_ns *= d->factor;
		}
		if (d->max_ttl_ns && s.ttl_ns > d->max_ttl_ns)
			s.ttl_ns = d->max_ttl_ns;
	} else if (d->unverified_ttl_ns &&
		   (!s.ttl_ns || d->unverified_ttl_ns < s.ttl_ns)) {
		s.ttl_ns = d->unverified_ttl_ns;
	}
	if (s.trust != IRC_SRC_VERIFIED)
		dir = IRC_DIR_IN;

	if (d->action == IRC_ACT_QUAR_HOST) {
		if (!cfg->enforce)
			s.hold = IRC_HOLD_MONITOR;
		else if (s.trust == IRC_SRC_PROTECTED)
			s.hold = IRC_HOLD_PROTECTED;
		else if (s.trust == IRC_SRC_UNVERIFIED && det == IRC_DET_SYNFLOOD)
			s.hold = IRC_HOLD_UNVERIFIED;
		else if (s.trust == IRC_SRC_UNVERIFIED && !irc_unverified_budget(now))
			s.hold = IRC_HOLD_BUDGET;
	}
	if (d->action == IRC_ACT_QUAR_HOST && s.hold == IRC_HOLD_NONE) {
		struct irc_qentry e = {
			.expires_ns = s.ttl_ns ? now + s.ttl_ns : 0,
			.created_ns = now + cfg->boot_to_real_ns,
			.dir = dir,
			.plen = p->family == 4 ? 32 : 128,
			.actor_uid = det,
			.origin = IRC_ORIGIN_DETECTOR,
		};

		if (det == IRC_DET_SYNFLOOD)
			__builtin_memcpy(e.reason, "SYN flood detected", 19);
		else if (s.trust == IRC_SRC_VERIFIED)
			__builtin_memcpy(e.reason, "port scan detected", 19);
		else
			__builtin_memcpy(e.reason, "port scan detected (unverified source)", 39);
		s.enforced = irc_quarantine(p, peer, &e, now);
		if (!s.enforced)
			s.hold = IRC_HOLD_EXISTS;
	}
	if (off) {
		__sync_fetch_and_add(&off->offences, 1);
		off->last_ns = now;
	}
	irc_finding(p, d, &s);
	return s.enforced;
}

/*
 * SYNs to one of our addresses, whatever their source: the finding a
 * random-source flood gets (the kernel's SYN cookies answer the flood;
 * no source is quarantined for it).  One LRU lookup per SYN.
 */
static __always_inline void irc_dst_count(const struct irc_pkt *p,
					  const struct irc_detcfg *cfg, __u64 now)
{
	const struct irc_det *d = &cfg->det[IRC_DET_SYNFLOOD];
	struct irc_dststate *ds, fresh = { .start_ns = now };
	struct irc_in6 key;

	irc_key6(p, &p->dst, &key);
	ds = bpf_map_lookup_elem(&IRC_MAP_DSTSTATE, &key);
	if (!ds) {
		bpf_map_update_elem(&IRC_MAP_DSTSTATE, &key, &fresh, BPF_NOEXIST);
		ds = bpf_map_lookup_elem(&IRC_MAP_DSTSTATE, &key);
		if (!ds)
			return;
	}
	if (now - ds->start_ns > d->window_ns) {
		ds->start_ns = now;
		ds->syns = 0;
		ds->fired = 0;
	}
	if (++ds->syns >= d->threshold && !ds->fired) {
		struct irc_shot s = {
			.addr = &p->dst, .det = IRC_DET_SYNFLOOD, .count = ds->syns,
			.trust = IRC_SRC_TARGET, .action = IRC_ACT_ALERT,
			.window_ns = d->window_ns,
		};

		ds->fired = 1;
		irc_finding(p, d, &s);
	}
}

/*
 * The port's bit in the 256-bit map, under this load's random key: the
 * key is mixed in before and inside two multiply-xorshift rounds, so
 * which ports share a bit cannot be known (or chosen) without it.
 */
static __always_inline __u32 irc_port_bit(const struct irc_detcfg *cfg, __u16 port)
{
	__u64 h = ((__u64)port ^ cfg->port_key[0]) * 0x9e3779b97f4a7c15ULL;

	h ^= h >> 32;
	h *= cfg->port_key[1] | 1;
	h ^= h >> 29;
	return (__u32)(h >> 56);
}

/*
 * Port scan and SYN flood, on TCP SYNs only.  Per SYN: one LRU lookup for
 * the source, one for the destination, and bit tests in two 256-bit maps
 * of keyed-hashed destination ports (a short and a slow window), so the
 * cost does not depend on how many sources or ports there are.  Returns 1
 * when the source has just been quarantined (this packet is dropped too).
 */
static __always_inline int irc_detect(const struct irc_pkt *p, const void *peer,
				      __u32 allow)
{
	struct irc_netstate *st, fresh = {};
	struct irc_detcfg *cfg;
	struct irc_in6 key;
	__u32 zero = 0, bit, w;
	__u64 m;
	int quarantined = 0;
	__u64 now;

	if (p->l4proto != IPPROTO_TCP || !p->has_ports ||
	    (p->tcp_flags & (TCP_FLAG_SYN | TCP_FLAG_ACK)) != TCP_FLAG_SYN)
		return 0;
	cfg = bpf_map_lookup_elem(&IRC_MAP_DETCFG, &zero);
	if (!cfg || (!cfg->det[IRC_DET_PORTSCAN].enabled &&
		     !cfg->det[IRC_DET_SYNFLOOD].enabled))
		return 0;
	/* The detector windows are the only reason to read the clock here. */
	now = bpf_ktime_get_boot_ns();
	if (cfg->det[IRC_DET_SYNFLOOD].enabled)
		irc_dst_count(p, cfg, now);
	irc_key6(p, peer, &key);
	st = bpf_map_lookup_elem(&IRC_MAP_NETSTATE, &key);
	if (!st) {
		fresh.window_start_ns = now;
		fresh.syn_start_ns = now;
		fresh.slow_start_ns = now;
		bpf_map_update_elem(&IRC_MAP_NETSTATE, &key, &fresh, BPF_NOEXIST);
		st = bpf_map_lookup_elem(&IRC_MAP_NETSTATE, &key);
		if (!st)
			return 0;
	}

	if (cfg->det[IRC_DET_PORTSCAN].enabled) {
		const struct irc_det *d = &cfg->det[IRC_DET_PORTSCAN];

		if (now - st->window_start_ns > d->window_ns) {
			__builtin_memset(st->ports, 0, sizeof(st->ports));
			st->distinct = 0;
			st->window_start_ns = now;
			st->fired &= ~IRC_FIRED_SCAN;
		}
		if (now - st->slow_start_ns > d->slow_window_ns) {
			__builtin_memset(st->slow_ports, 0, sizeof(st->slow_ports));
			st->slow_distinct = 0;
			st->slow_start_ns = now;
			st->fired &= ~IRC_FIRED_SLOW;
		}
		bit = irc_port_bit(cfg, p->dport);
		w = (bit >> 6) & 3;
		m = 1ULL << (bit & 63);
		if (!(st->ports[w] & m)) {
			st->ports[w] |= m;
			st->distinct++;
		}
		if (!(st->slow_ports[w] & m)) {
			st->slow_ports[w] |= m;
			st->slow_distinct++;
		}
		/* A fast scan is also a slow one: one finding for both. */
		if (st->distinct >= d->threshold && !(st->fired & IRC_FIRED_SCAN)) {
			st->fired |= IRC_FIRED_SCAN | IRC_FIRED_SLOW;
			quarantined |= irc_fire(p, peer, &key, cfg, IRC_DET_PORTSCAN,
						0, st->distinct, allow, now);
		} else if (d->slow_window_ns && st->slow_distinct >= d->slow_threshold &&
			   !(st->fired & IRC_FIRED_SLOW)) {
			st->fired |= IRC_FIRED_SLOW;
			quarantined |= irc_fire(p, peer, &key, cfg, IRC_DET_PORTSCAN,
						1, st->slow_distinct, allow, now);
		}
	}
	if (cfg->det[IRC_DET_SYNFLOOD].enabled) {
		const struct irc_det *d = &cfg->det[IRC_DET_SYNFLOOD];

		if (now - st->syn_start_ns > d->window_ns) {
			st->syns = 0;
			st->syn_start_ns = now;
			st->fired &= ~IRC_FIRED_SYN;
		}
		st->syns++;
		if (st->syns >= d->threshold && !(st->fired & IRC_FIRED_SYN)) {
			st->fired |= IRC_FIRED_SYN;
			quarantined |= irc_fire(p, peer, &key, cfg, IRC_DET_SYNFLOOD,
						0, st->syns, allow, now);
		}
	}
	return quarantined;
}

/*
 * One more drop of the entry @q of heavy-hitter host @peer (struct
 * irc_droprun, irc_host_drop()): a plain per-CPU increment while this CPU
 * keeps dropping the same host, the entry's atomic for the others.  A
 * flood from one source spread over several CPUs does not bounce the
 * entry's cache line between them.  A run starts empty (the drop that
 * starts it takes the atomic, on the entry already at hand), so a run
 * that got no second drop hands over with no lookup: addresses that never
 * repeat (a flood from many sources) pay no lookup of an entry gone cold
 * for it.
 */
static __always_inline void irc_drop_count(const struct irc_pkt *p, const void *peer,
					   struct irc_qentry *q)
{
	const __u32 *a = peer;
	struct irc_droprun *r;
	struct irc_qentry *old;
	__u32 zero = 0;

	r = bpf_map_lookup_elem(&IRC_MAP_DROPRUN, &zero);
	if (!r) {
		__sync_fetch_and_add(&q->drops, 1);
		return;
	}
	/*
	 * The parser zeroes the 12 bytes after an IPv4 address, and a run
	 * copies them: an IPv4 run needs only its first word compared.
	 */
	if (r->family == p->family && r->created_ns == q->created_ns &&
	    r->addr[0] == a[0] && (p->family == 4 || (r->addr[1] == a[1] &&
	    r->addr[2] == a[2] && r->addr[3] == a[3]))) {
		r->count++;
		r->others = 0;
		return;
	}
	__sync_fetch_and_add(&q->drops, 1);
	if (r->count && ++r->others < IRC_DROPRUN_PATIENCE)
		return;
	/* The run goes to this host: the last one's count to its entry. */
	if (r->count) {
		/* Its tier: the front, else the big map when that is in use. */
		if (r->family == 4) {
			old = bpf_map_lookup_elem(&IRC_MAP_Q4_FRONT, &r->addr[0]);
			if (!old && irc_tier_big(IRC_QTIER_V4))
				old = bpf_map_lookup_elem(&IRC_MAP_Q4_HOST, &r->addr[0]);
		} else {
			old = bpf_map_lookup_elem(&IRC_MAP_Q6_FRONT, r->addr);
			if (!old && irc_tier_big(IRC_QTIER_V6))
				old = bpf_map_lookup_elem(&IRC_MAP_Q6_HOST, r->addr);
		}
		if (old && old->created_ns == r->created_ns)
			__sync_fetch_and_add(&old->drops, r->count);
	}
	r->family = p->family;
	r->created_ns = q->created_ns;
	r->addr[0] = a[0];
	r->addr[1] = a[1];
	r->addr[2] = a[2];
	r->addr[3] = a[3];
	r->count = 0;
	r->others = 0;
}

/* What dropped a packet, for its sample: set on every drop, read only then. */
struct irc_why {
	__u32 rule;		/* enum irc_drop_rule */
	__u32 plen;
	const void *addr;	/* the matched peer (in the parsed packet), or NULL */
};

/*
 * Returns 1 to drop, 0 to pass; counts the outcome, fills @why on a drop.
 * The L4 header is read only after a quarantine miss: a drop never needs it.
 */
static __always_inline int irc_decide(struct irc_pkt *p, void *data, void *end,
				      int ingress, struct irc_why *why)
{
	const struct irc_dir_stats *ds = ingress ? &rx_stats : &tx_stats;
	__u32 dir = ingress ? IRC_DIR_IN : IRC_DIR_OUT;
	const void *peer = ingress ? (const void *)&p->src : (const void *)&p->dst;
	enum irc_hit hit = IRC_HIT_PREFIX;
	struct irc_qentry *q;
	__u32 flags, allow;

	if (irc_is_loopback(p, peer)) {
		irc_count(ds->pass);
		return 0;
	}

	/*
	 * IRC_ALLOW_ALWAYS wins over everything; IRC_ALLOW_ISOLATE only
	 * exempts from isolation, below, so isolating never lifts a
	 * quarantine.
	 */
	allow = irc_allow_flags(p, peer);
	if (allow & IRC_ALLOW_ALWAYS) {
		irc_count(ds->allow);
		return 0;
	}

	if (p->family == 4)
		q = irc_match4(ingress ? p->src.v4 : p->dst.v4, dir, &hit);
	else
		q = irc_match6(peer, dir, &hit);
	if (q) {
		if (hit == IRC_HIT_RUN)
			irc_drop_count(p, peer, q);
		else if (hit == IRC_HIT_PREFIX)
			__sync_fetch_and_add(&q->drops, 1);
		irc_count(ds->drop_quar);
		why->rule = IRC_RULE_QUARANTINE;
		why->plen = q->plen;
		why->addr = peer;
		return 1;
	}

	/* Detectors watch what arrives; a source they quarantine drops now. */
	if (ingress)
		irc_parse_l4(p, data, end);
	if (ingress && irc_detect(p, peer, allow)) {
		irc_count(ds->drop_quar);
		why->rule = IRC_RULE_QUARANTINE;
		why->plen = p->family == 4 ? 32 : 128;
		why->addr = peer;
		return 1;
	}

	/* The switches are read only now: a quarantine drop never needs them. */
	flags = irc_cfg_flags();
	if (flags & IRC_CFG_ISOLATE) {
		if (allow & IRC_ALLOW_ISOLATE) {
			irc_count(ds->allow);
			return 0;
		}
		irc_parse_l4(p, data, end);
		if (!irc_iso_exempt(p, flags, ingress)) {
			irc_count(ds->drop_iso);
			why->rule = IRC_RULE_ISOLATE;
			why->plen = 0;
			why->addr = NULL;
			return 1;
		}
	}

	irc_count(ds->pass);
	return 0;
}

_Static_assert((IRC_SAMPLE_LEN & (IRC_SAMPLE_LEN - 1)) == 0,
	       "irc_skb_sample() masks with IRC_SAMPLE_LEN - 1");

/* The first @n (0..IRC_SAMPLE_LEN) bytes of @skb, paged ones too, into @to. */
static __always_inline long irc_skb_sample(void *skb, void *to, __u64 n)
{
	if (!n)
		return -1;
	/*
	 * 1..IRC_SAMPLE_LEN in the register the verifier checks (Linux 6.1
	 * refuses a length that may be 0); n itself is unchanged.
	 */
	asm volatile("%[n] += -1; %[n] &= %[m]; %[n] += 1"
		     : [n] "+r"(n) : [m] "i"(IRC_SAMPLE_LEN - 1));
	return bpf_skb_load_bytes(skb, 0, to, n);
}

/*
 * A rate-limited sample of a dropped packet: its first IRC_SAMPLE_LEN
 * bytes and the rule that dropped it.  Only drops pay for this.
 */
static __always_inline void irc_sample(const struct irc_why *why, void *ctx,
				       void *data, void *end, __u32 pkt_len,
				       __u32 ifindex, int ingress)
{
	struct irc_ev_drop *ev;
	/* tc copies from the skb: its paged bytes too, as they are not pulled. */
	__u64 cap = ingress ? (__u64)(end - data) : pkt_len;

	if (!irc_rate_ok(0))
		return;
	ev = IRC_EV_RESERVE(struct irc_ev_drop, IRC_EV_DROP);
	if (!ev)
		return;
	ev->rule = why->rule;
	ev->dir = ingress ? IRC_DIR_IN : IRC_DIR_OUT;
	ev->ifindex = ifindex;
	ev->pkt_len = pkt_len;
	ev->rule_plen = why->plen;
	ev->linktype = IRC_LINK_ETHERNET;
	ev->rule_tgid = 0;
	if (why->addr)
		__builtin_memcpy(ev->rule_addr, why->addr, 16);
	else
		__builtin_memset(ev->rule_addr, 0, 16);
	/*
	 * Bound the length where the verifier sees it: clang may otherwise
	 * keep the clamp on a copy of the register.
	 */
	if (cap > IRC_SAMPLE_LEN)
		cap = IRC_SAMPLE_LEN;
	asm volatile("%[c] &= 0xff" : [c] "+r"(cap));
	ev->cap_len = cap;
	if (cap > IRC_SAMPLE_LEN)
		ev->cap_len = 0;
	else if (ingress ? bpf_probe_read_kernel(ev->data, cap, data) :
		 irc_skb_sample(ctx, ev->data, cap))
		ev->cap_len = 0;
	bpf_ringbuf_submit(ev, 0);
}

/*
 * One more drop on interface @ifindex (struct irc_ifdrops): this CPU's
 * slot of the interface, or the shared 'other' slot when another
 * interface holds it.  Only drops pay for this.
 */
static __always_inline void irc_ifdrop_count(__u32 ifindex, int ingress, __u32 rule)
{
	struct irc_ifdrops *d;
	struct irc_ifdrop *s;
	__u32 zero = 0, r = rule - 1;

	d = bpf_map_lookup_elem(&IRC_MAP_IFDROPS, &zero);
	if (!d || r >= IRC_IFDROP_RULES)
		return;
	s = &d->slot[ifindex & (IRC_IFDROP_SLOTS - 1)];
	if (s->ifindex != ifindex) {
		if (s->ifindex)
			s = &d->other;
		else
			s->ifindex = ifindex;
	}
	s->drops[!ingress][r]++;
}

/*
 * The frame's length and interface, from the hook's context (@ingress:
 * XDP's, else tc's), read only for a drop.
 */
static __always_inline __u32 irc_ctx_len(void *ctx, int ingress, void *data,
					 void *end)
{
	return ingress ? end - data : ((struct __sk_buff *)ctx)->len;
}

static __always_inline __u32 irc_ctx_ifindex(void *ctx, int ingress)
{
	return ingress ? ((struct xdp_md *)ctx)->ingress_ifindex :
			 ((struct __sk_buff *)ctx)->ifindex;
}

/*
 * Shared by both hooks: decide on @p (parsed, irc_parse() returned @res),
 * count, sample.  Returns 1 to drop.
 */
static __always_inline int irc_handle(void *ctx, struct irc_pkt *p, int res,
				      void *data, void *end, int ingress)
{
	struct irc_why why;
	int drop;

	switch (res) {
	case IRC_PKT_IP:
		drop = irc_decide(p, data, end, ingress, &why);
		break;
	case IRC_PKT_BAD:
		/* Cannot tell who sent it: fail closed only when isolated. */
		irc_count(IRC_STAT_MALFORMED);
		drop = !!(irc_cfg_flags() & IRC_CFG_ISOLATE);
		why.rule = IRC_RULE_MALFORMED;
		why.plen = 0;
		why.addr = NULL;
		break;
	default:
		irc_count(IRC_STAT_NON_IP);
		return 0;
	}
	if (drop) {
		__u32 ifindex = irc_ctx_ifindex(ctx, ingress);

		irc_ifdrop_count(ifindex, ingress, why.rule);
		irc_sample(&why, ctx, data, end,
			   irc_ctx_len(ctx, ingress, data, end), ifindex, ingress);
	}
	return drop;
}

SEC("xdp")
int irc_xdp_ingress(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;
	struct irc_pkt p = {};

	return irc_handle(ctx, &p, irc_parse(&p, data, end), data, end, 1) ?
	       XDP_DROP : XDP_PASS;
}

/*
 * 1 when the parse of @p (result @res) may have missed headers that sit in
 * the skb's paged data: the linear part ends before the L4 bytes the
 * parser reads (before IRC_TC_PULL_LEN when it found no L4 header) and the
 * skb goes on.
 */
static __always_inline int irc_tc_short(struct __sk_buff *skb,
					const struct irc_pkt *p, int res,
					void *data, void *end)
{
	__u32 lin = end - data, need = IRC_TC_PULL_LEN;
	__u32 l4off = p->l4off & IRC_L4OFF_MASK;

	if (res == IRC_PKT_IP && l4off && l4off + IRC_L4_LEN < need)
		need = l4off + IRC_L4_LEN;
	return lin < need && skb->len > lin;
}

SEC("tc")
int irc_tc_egress(struct __sk_buff *skb)
{
	void *data = (void *)(long)skb->data;
	void *end = (void *)(long)skb->data_end;
	struct irc_pkt p = {};
	int res = irc_parse(&p, data, end);

	/*
	 * Headers may sit in paged data: pull them, and parse again.  Only
	 * then: the pull makes the head writable, a copy of it for a cloned
	 * skb (every TCP segment), where TCP's headers are linear anyway.
	 */
	if (irc_tc_short(skb, &p, res, data, end)) {
		bpf_skb_pull_data(skb, skb->len < IRC_TC_PULL_LEN ?
				  skb->len : IRC_TC_PULL_LEN);
		/* The pull invalidates every packet pointer: read them again. */
		data = (void *)(long)skb->data;
		end = (void *)(long)skb->data_end;
		__builtin_memset(&p, 0, sizeof(p));
		res = irc_parse(&p, data, end);
	}
	return irc_handle(skb, &p, res, data, end, 0) ? TC_ACT_SHOT : TC_ACT_OK;
}
