/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Enforcement on the cgroup v2 hooks: a quarantined process or cgroup gets
 * EPERM from socket(), connect(), sendmsg() and bind(), and the packets of
 * the sockets it already held are dropped both ways (cgroup_skb).
 *
 * Part of irc_proc.bpf.c, included there (in this order: enforce, detect,
 * life, conn), never on its own.
 */
#ifndef IRC_PROC_ENFORCE_BPF_H
#define IRC_PROC_ENFORCE_BPF_H

static __always_inline struct irc_pentry *irc_plive(struct irc_pentry *e)
{
	if (e && e->expires_ns && e->expires_ns <= bpf_ktime_get_boot_ns())
		return NULL;
	return e;
}

/* The entry that quarantines the calling process, if any. */
static __always_inline struct irc_pentry *irc_current_entry(void)
{
	__u32 tgid = bpf_get_current_pid_tgid() >> 32;
	struct irc_config *c;
	struct irc_pentry *e;
	int i;

	e = irc_plive(bpf_map_lookup_elem(&IRC_MAP_QPID, &tgid));
	c = irc_config_get();
	if (e || !c || !(c->flags & IRC_CFG_HAS_CGROUPS))
		return e;
	/* From the hooks' cgroup down: a quarantined cgroup is never above it. */
	for (i = 0; i < IRC_CGROUP_MAX_DEPTH; i++) {
		__u64 id = bpf_get_current_ancestor_cgroup_id(c->cgroup_root_level + i);

		if (!id)
			break;
		e = irc_plive(bpf_map_lookup_elem(&IRC_MAP_QCGRP, &id));
		if (e)
			return e;
	}
	return NULL;
}

/* A rate-limited record of one refusal, with the address it was for. */
/*
 * @fam is a constant (4, 6, or 0 without an address): each program may
 * only read the context fields of its own attach type.
 */
static __always_inline void irc_deny_event(const struct irc_pentry *e, __u32 hook,
					   struct bpf_sock_addr *ctx, int fam)
{
	struct irc_ev_deny *ev;

	if (!irc_rate_ok(1))
		return;
	ev = IRC_EV_RESERVE(struct irc_ev_deny, IRC_EV_DENY);
	if (!ev)
		return;
	irc_ev_current(&ev->h);
	ev->hook = hook;
	ev->root = e->root;
	ev->family = 0;
	ev->pad = 0;
	ev->dport = 0;
	ev->pad2 = 0;
	__builtin_memset(ev->daddr, 0, sizeof(ev->daddr));
	if (fam) {
		ev->dport = bpf_ntohs(ctx->user_port);
		if (fam == 4) {
			__u32 a = ctx->user_ip4;

			ev->family = 4;
			__builtin_memcpy(ev->daddr, &a, 4);
		} else {
			__u32 a[4] = { ctx->user_ip6[0], ctx->user_ip6[1],
				       ctx->user_ip6[2], ctx->user_ip6[3] };

			ev->family = 6;
			__builtin_memcpy(ev->daddr, a, 16);
		}
	}
	bpf_ringbuf_submit(ev, 0);
}

/* 1 to allow the call, 0 to refuse it with EPERM. */
static __always_inline int irc_sock_verdict(__u32 hook,
					    struct bpf_sock_addr *ctx, int fam)
{
	struct irc_pentry *e = irc_current_entry();

	if (!e)
		return SK_PASS_V;
	__sync_fetch_and_add(&e->denied, 1);
	irc_count(IRC_STAT_PROC_DENY);
	irc_deny_event(e, hook, ctx, fam);
	return SK_DROP_V;
}

SEC("cgroup/sock_create")
int irc_sock_create(struct bpf_sock *sk)
{
	if (sk->family != AF_INET && sk->family != AF_INET6)
		return SK_PASS_V;
	return irc_sock_verdict(IRC_HOOK_SOCK_CREATE, NULL, 0);
}

SEC("cgroup/connect4")
int irc_connect4(struct bpf_sock_addr *ctx)
{
	return irc_sock_verdict(IRC_HOOK_CONNECT, ctx, 4);
}

SEC("cgroup/connect6")
int irc_connect6(struct bpf_sock_addr *ctx)
{
	return irc_sock_verdict(IRC_HOOK_CONNECT, ctx, 6);
}

SEC("cgroup/sendmsg4")
int irc_sendmsg4(struct bpf_sock_addr *ctx)
{
	return irc_sock_verdict(IRC_HOOK_SENDMSG, ctx, 4);
}

SEC("cgroup/sendmsg6")
int irc_sendmsg6(struct bpf_sock_addr *ctx)
{
	return irc_sock_verdict(IRC_HOOK_SENDMSG, ctx, 6);
}

SEC("cgroup/bind4")
int irc_bind4(struct bpf_sock_addr *ctx)
{
	return irc_sock_verdict(IRC_HOOK_BIND, ctx, 4);
}

SEC("cgroup/bind6")
int irc_bind6(struct bpf_sock_addr *ctx)
{
	return irc_sock_verdict(IRC_HOOK_BIND, ctx, 6);
}

/*
 * Packets of existing sockets.  The socket, not the current task, tells
 * whose packet it is: ingress runs in softirq context.
 */
static __always_inline void irc_skb_sample(struct __sk_buff *skb, __u32 tgid,
					   int ingress)
{
	struct irc_ev_drop *ev;
	__u64 cap = skb->len;

	if (!irc_rate_ok(0))
		return;
	ev = IRC_EV_RESERVE(struct irc_ev_drop, IRC_EV_DROP);
	if (!ev)
		return;
	ev->rule = IRC_RULE_PROCESS;
	ev->dir = ingress ? IRC_DIR_IN : IRC_DIR_OUT;
	ev->ifindex = skb->ifindex;
	ev->pkt_len = skb->len;
	ev->rule_plen = 0;
	ev->linktype = IRC_LINK_RAW;
	ev->rule_tgid = tgid;
	__builtin_memset(ev->rule_addr, 0, sizeof(ev->rule_addr));
	ev->cap_len = 0;
	if (cap) {
		/*
		 * bpf_skb_load_bytes() takes no zero size, and older verifiers
		 * (6.1) lose a "!= 0" test that clang folds into a range check
		 * on a copy.  ((cap - 1) & (LEN - 1)) + 1 is in [1, LEN] by
		 * construction, in the register the call uses.
		 */
		if (cap > IRC_SAMPLE_LEN)
			cap = IRC_SAMPLE_LEN;
		cap -= 1;
		asm volatile("%[c] &= %[m]" : [c] "+r"(cap) : [m] "i"(IRC_SAMPLE_LEN - 1));
		cap += 1;
		if (!bpf_skb_load_bytes(skb, 0, ev->data, cap))
			ev->cap_len = cap;
	}
	bpf_ringbuf_submit(ev, 0);
}

static __always_inline int irc_skb_verdict(struct __sk_buff *skb, int ingress)
{
	__u64 cookie = bpf_get_socket_cookie(skb);
	struct irc_qsock *qs;
	struct irc_pentry *e = NULL;
	struct irc_config *c;
	int i;

	qs = bpf_map_lookup_elem(&IRC_MAP_QSOCK, &cookie);
	if (qs && (!qs->expires_ns || qs->expires_ns > bpf_ktime_get_boot_ns())) {
		/* Cut while the cookie lives, whoever of its holders exited. */
		e = irc_plive(bpf_map_lookup_elem(&IRC_MAP_QPID, &qs->root));
		if (e)
			__sync_fetch_and_add(&e->denied, 1);
		irc_count(IRC_STAT_PROC_DROP);
		irc_skb_sample(skb, qs->tgid, ingress);
		return SK_DROP_V;
	}
	c = irc_config_get();
	if (!e && c && (c->flags & IRC_CFG_HAS_CGROUPS)) {
		for (i = 0; i < IRC_CGROUP_MAX_DEPTH; i++) {
			__u64 id = bpf_skb_ancestor_cgroup_id(skb, c->cgroup_root_level + i);

			if (!id)
				break;
			e = irc_plive(bpf_map_lookup_elem(&IRC_MAP_QCGRP, &id));
			if (e)
				break;
		}
	}
	if (!e)
		return SK_PASS_V;
	__sync_fetch_and_add(&e->denied, 1);
	irc_count(IRC_STAT_PROC_DROP);
	irc_skb_sample(skb, 0, ingress);
	return SK_DROP_V;
}

SEC("cgroup_skb/ingress")
int irc_skb_ingress(struct __sk_buff *skb)
{
	return irc_skb_verdict(skb, 1);
}

SEC("cgroup_skb/egress")
int irc_skb_egress(struct __sk_buff *skb)
{
	return irc_skb_verdict(skb, 0);
}

#endif
