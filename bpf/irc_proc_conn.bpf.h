/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * TCP connections as events (inet_sock_set_state, accept), and the peers a
 * completed handshake verifies for the network detectors (a spoofer never
 * completes one).
 *
 * Part of irc_proc.bpf.c, included there (in this order: enforce, detect,
 * life, conn), never on its own.
 */
#ifndef IRC_PROC_CONN_BPF_H
#define IRC_PROC_CONN_BPF_H

/* A TCP 5-tuple from a socket, local side first. */
static __always_inline void irc_conn_fill(struct irc_ev_conn *ev, struct sock *sk)
{
	__u16 family = BPF_CORE_READ(sk, __sk_common.skc_family);

	ev->proto = IPPROTO_TCP;
	ev->established = 1;
	ev->sport = BPF_CORE_READ(sk, __sk_common.skc_num);
	ev->dport = bpf_ntohs(BPF_CORE_READ(sk, __sk_common.skc_dport));
	__builtin_memset(ev->saddr, 0, 16);
	__builtin_memset(ev->daddr, 0, 16);
	if (family == AF_INET) {
		__u32 s4 = BPF_CORE_READ(sk, __sk_common.skc_rcv_saddr);
		__u32 d4 = BPF_CORE_READ(sk, __sk_common.skc_daddr);

		ev->family = 4;
		__builtin_memcpy(ev->saddr, &s4, 4);
		__builtin_memcpy(ev->daddr, &d4, 4);
	} else {
		ev->family = 6;
		BPF_CORE_READ_INTO(&ev->saddr, sk, __sk_common.skc_v6_rcv_saddr);
		BPF_CORE_READ_INTO(&ev->daddr, sk, __sk_common.skc_v6_daddr);
	}
}

/*
 * A TCP handshake completed in the protected netns: the peer answered our
 * SYN-ACK with its sequence number (SYN_RECV -> ESTABLISHED, the kernel
 * checked the ACK or its SYN cookie) or our SYN with a SYN-ACK
 * (SYN_SENT -> ESTABLISHED).  Either way it receives our packets, which a
 * spoofer does not: the network detectors may act on it.  Once per
 * connection, not per packet.
 */
static __always_inline void irc_verify(const struct sock *sk)
{
	struct irc_detcfg *cfg;
	struct irc_in6 key = {};
	__u32 zero = 0, a4;
	__u64 now;

	cfg = bpf_map_lookup_elem(&IRC_MAP_DETCFG, &zero);
	if (!cfg || !cfg->netns_ino ||
	    BPF_CORE_READ(sk, __sk_common.skc_net.net, ns.inum) != cfg->netns_ino)
		return;
	if (BPF_CORE_READ(sk, __sk_common.skc_family) == AF_INET) {
		a4 = BPF_CORE_READ(sk, __sk_common.skc_daddr);
		key.addr[10] = 0xff;
		key.addr[11] = 0xff;
		__builtin_memcpy(&key.addr[12], &a4, 4);
	} else {
		BPF_CORE_READ_INTO(&key.addr, sk, __sk_common.skc_v6_daddr);
	}
	now = bpf_ktime_get_boot_ns();
	bpf_map_update_elem(&IRC_MAP_VERIFIED, &key, &now, BPF_ANY);
}

/*
 * connect(): at SYN_SENT (in the caller's context) the source port is not
 * chosen yet, so the caller is remembered; when the handshake resolves
 * (in softirq) the event goes out with the whole 5-tuple and the outcome.
 */
SEC("tp_btf/inet_sock_set_state")
int BPF_PROG(irc_sock_state, const struct sock *sk, int oldstate, int newstate)
{
	__u64 key = (__u64)sk;
	struct irc_ev_hdr *saved;
	struct irc_ev_conn *ev;

	if (BPF_CORE_READ(sk, sk_protocol) != IPPROTO_TCP)
		return 0;
	if (newstate == TCP_ESTABLISHED &&
	    (oldstate == TCP_SYN_RECV || oldstate == TCP_SYN_SENT))
		irc_verify(sk);
	if (newstate == TCP_SYN_SENT) {
		struct irc_ev_hdr h = {};

		irc_ev_task(&h, bpf_get_current_task_btf());
		bpf_map_update_elem(&IRC_MAP_CONNPEND, &key, &h, BPF_ANY);
		return 0;
	}
	if (oldstate != TCP_SYN_SENT)
		return 0;
	saved = bpf_map_lookup_elem(&IRC_MAP_CONNPEND, &key);
	if (!saved)
		return 0;
	ev = IRC_EV_RESERVE(struct irc_ev_conn, IRC_EV_CONNECT);
	if (ev) {
		__u64 seq = ev->h.seq, ts = ev->h.ts_ns;
		__u16 cpu = ev->h.cpu;

		__builtin_memcpy(&ev->h, saved, sizeof(ev->h));
		ev->h.type = IRC_EV_CONNECT;
		ev->h.size = sizeof(*ev);
		ev->h.seq = seq;
		ev->h.ts_ns = ts;
		ev->h.cpu = cpu;
		irc_conn_fill(ev, (struct sock *)sk);
		ev->established = newstate == TCP_ESTABLISHED;
		bpf_ringbuf_submit(ev, 0);
	}
	bpf_map_delete_elem(&IRC_MAP_CONNPEND, &key);
	return 0;
}

/* accept(): the new descriptor, read back through the caller's fd table. */
static __always_inline int irc_accept(long fd)
{
	struct task_struct *t = bpf_get_current_task_btf();
	struct file **fds, *f;
	struct socket *sock;
	struct irc_ev_conn *ev;
	struct sock *sk;

	if (fd < 0 || fd >= BPF_CORE_READ(t, files, fdt, max_fds))
		return 0;
	fds = BPF_CORE_READ(t, files, fdt, fd);
	if (bpf_probe_read_kernel(&f, sizeof(f), &fds[fd]) || !f)
		return 0;
	sock = BPF_CORE_READ(f, private_data);
	sk = BPF_CORE_READ(sock, sk);
	if (!sk || BPF_CORE_READ(sk, sk_protocol) != IPPROTO_TCP)
		return 0;
	ev = IRC_EV_RESERVE(struct irc_ev_conn, IRC_EV_ACCEPT);
	if (!ev)
		return 0;
	irc_ev_task(&ev->h, t);
	irc_conn_fill(ev, sk);
	bpf_ringbuf_submit(ev, 0);
	return 0;
}

SEC("tp/syscalls/sys_exit_accept4")
int irc_accept4(struct trace_event_raw_sys_exit *ctx)
{
	return irc_accept(ctx->ret);
}

SEC("tp/syscalls/sys_exit_accept")
int irc_accept0(struct trace_event_raw_sys_exit *ctx)
{
	return irc_accept(ctx->ret);
}

#endif
