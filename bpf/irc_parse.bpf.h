/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Bounded packet parser shared by the XDP and tc programs: Ethernet, up to
 * IRC_VLAN_MAX VLAN tags, IPv4 or IPv6 (with up to IRC_V6_EXT_MAX extension
 * headers); irc_parse_l4() reads the L4 ports later, only for a decision
 * that needs them (a quarantine drop does not).  Every step is
 * bounds-checked against data_end; the work per packet is constant.
 */
#ifndef IRC_PARSE_BPF_H
#define IRC_PARSE_BPF_H

#define ETH_P_IP	0x0800
#define ETH_P_IPV6	0x86DD
#define ETH_P_8021Q	0x8100
#define ETH_P_8021AD	0x88A8

#define IPPROTO_HOPOPTS		0
#define IPPROTO_ROUTING		43
#define IPPROTO_FRAGMENT	44
#define IPPROTO_AH		51
#define IPPROTO_ICMPV6		58
#define IPPROTO_DSTOPTS		60

enum irc_parse_res {
	IRC_PKT_IP	= 0,
	IRC_PKT_NON_IP	= 1,
	IRC_PKT_BAD	= 2,	/* IP ethertype, truncated IP header */
};

struct irc_pkt {
	__u8 family;		/* 4 or 6 */
	__u8 l4proto;
	/* The next three are set by irc_parse_l4(), 0 until then. */
	__u8 has_ports;		/* sport/dport valid (TCP/UDP, first fragment) */
	__u8 icmp6_type;	/* valid when l4proto == ICMPv6, else 0 */
	__u8 tcp_flags;		/* valid when has_ports and TCP */
	__u8 pad;
	__u16 l4off;		/* L4 header's offset from data until irc_parse_l4(), or 0 */
	__u16 sport;		/* host order */
	__u16 dport;
	union {
		__u32 v4;	/* network order */
		__u8 v6[16];
	} src, dst;
};

/*
 * The furthest the walk below can reach fits in irc_pkt.l4off under this
 * mask, which tells the verifier the bound (it range-checks a packet
 * pointer only while offset + access stays below 64 KiB).
 */
#define IRC_L4OFF_MASK	0x3fff
_Static_assert(14 + 4 * IRC_VLAN_MAX + 40 + IRC_V6_EXT_MAX * 256 * 8 <= IRC_L4OFF_MASK,
	       "IRC_L4OFF_MASK too narrow for the header walk");

struct irc_vlan_hdr {
	__be16 tci;
	__be16 proto;
};

/* Bytes of the L4 header irc_parse_ports() reads at most (TCP flags: byte 13). */
#define IRC_L4_LEN	14

static __always_inline void irc_parse_ports(struct irc_pkt *p, void *l4,
					    void *end)
{
	if (p->l4proto == IPPROTO_TCP || p->l4proto == IPPROTO_UDP) {
		__be16 *ports = l4;

		if ((void *)(ports + 2) > end)
			return;
		p->sport = bpf_ntohs(ports[0]);
		p->dport = bpf_ntohs(ports[1]);
		p->has_ports = 1;
		/* TCP flags: byte 13 of the header. */
		if (p->l4proto == IPPROTO_TCP && l4 + IRC_L4_LEN <= end)
			p->tcp_flags = ((__u8 *)l4)[13];
	} else if (p->l4proto == IPPROTO_ICMPV6) {
		__u8 *type = l4;

		if ((void *)(type + 1) <= end)
			p->icmp6_type = *type;
	}
}

static __always_inline int irc_parse_v4(struct irc_pkt *p, void *data, void *nh,
					void *end)
{
	struct iphdr *iph = nh;
	__u32 hlen;

	if ((void *)(iph + 1) > end)
		return IRC_PKT_BAD;
	hlen = iph->ihl * 4;
	if (hlen < sizeof(*iph) || nh + hlen > end)
		return IRC_PKT_BAD;
	p->family = 4;
	p->src.v4 = iph->saddr;
	p->dst.v4 = iph->daddr;
	p->l4proto = iph->protocol;
	/* A non-first fragment carries no L4 header: addresses only. */
	if (iph->frag_off & bpf_htons(0x1fff))
		return IRC_PKT_IP;
	p->l4off = nh + hlen - data;
	return IRC_PKT_IP;
}

static __always_inline int irc_parse_v6(struct irc_pkt *p, void *data, void *nh,
					void *end)
{
	struct ipv6hdr *ip6h = nh;
	void *cur = nh + sizeof(*ip6h);
	__u8 next;
	int i;

	if ((void *)(ip6h + 1) > end)
		return IRC_PKT_BAD;
	p->family = 6;
	__builtin_memcpy(p->src.v6, &ip6h->saddr, 16);
	__builtin_memcpy(p->dst.v6, &ip6h->daddr, 16);
	next = ip6h->nexthdr;

	for (i = 0; i < IRC_V6_EXT_MAX; i++) {
		__u8 *ext = cur;

		if (next != IPPROTO_HOPOPTS && next != IPPROTO_ROUTING &&
		    next != IPPROTO_DSTOPTS && next != IPPROTO_FRAGMENT &&
		    next != IPPROTO_AH)
			break;
		if ((void *)(ext + 8) > end) {
			/* Addresses are known; the L4 header is not. */
			p->l4proto = next;
			return IRC_PKT_IP;
		}
		if (next == IPPROTO_FRAGMENT) {
			/* Offset bits of the fragment header, bytes 2-3. */
			if ((ext[2] << 8 | ext[3]) & 0xfff8) {
				p->l4proto = ext[0];
				return IRC_PKT_IP;
			}
			next = ext[0];
			cur += 8;
		} else if (next == IPPROTO_AH) {
			next = ext[0];
			cur += (ext[1] + 2) * 4;
		} else {
			next = ext[0];
			cur += (ext[1] + 1) * 8;
		}
	}
	p->l4proto = next;
	p->l4off = cur - data;
	return IRC_PKT_IP;
}

static __always_inline int irc_parse(struct irc_pkt *p, void *data, void *end)
{
	struct ethhdr *eth = data;
	void *nh = data + sizeof(*eth);
	__u16 proto;
	int i;

	if ((void *)(eth + 1) > end)
		return IRC_PKT_NON_IP;
	proto = bpf_ntohs(eth->h_proto);

	for (i = 0; i < IRC_VLAN_MAX; i++) {
		struct irc_vlan_hdr *vh = nh;

		if (proto != ETH_P_8021Q && proto != ETH_P_8021AD)
			break;
		if ((void *)(vh + 1) > end)
			return IRC_PKT_NON_IP;
		proto = bpf_ntohs(vh->proto);
		nh = vh + 1;
	}

	/* More tags than we skip: unknown sender, treated as malformed. */
	if (proto == ETH_P_8021Q || proto == ETH_P_8021AD)
		return IRC_PKT_BAD;
	if (proto == ETH_P_IP)
		return irc_parse_v4(p, data, nh, end);
	if (proto == ETH_P_IPV6)
		return irc_parse_v6(p, data, nh, end);
	return IRC_PKT_NON_IP;
}

/*
 * The L4 ports (TCP flags, ICMPv6 type) of a packet irc_parse() found to be
 * IP, read once: the first call reads them, later ones do nothing.
 */
static __always_inline void irc_parse_l4(struct irc_pkt *p, void *data, void *end)
{
	__u16 off = p->l4off & IRC_L4OFF_MASK;

	if (!off)
		return;
	p->l4off = 0;
	irc_parse_ports(p, data + off, end);
}

#endif /* IRC_PARSE_BPF_H */
