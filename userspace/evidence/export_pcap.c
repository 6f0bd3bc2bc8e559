// SPDX-License-Identifier: GPL-2.0-only
/*
 * Packet samples into packets.pcap (LINKTYPE_ETHERNET), written with
 * libpcap so every reader takes it.  XDP and tc samples start at the MAC
 * header; cgroup_skb samples start at the IP header and get a fake
 * Ethernet header (locally administered addresses, the ethertype of the
 * IP version) so that one file holds both.
 */
#include <errno.h>
#include <string.h>
#include <sys/time.h>
#include <sys/types.h>
#include <linux/types.h>

#include "ircontain/abi.h"
#include "export.h"

#define ETH_HLEN	14

/* Base64 (standard alphabet) into @out; the decoded length, or -EINVAL. */
static ssize_t unb64(const char *s, uint8_t *out, size_t outlen)
{
	uint32_t acc = 0;
	size_t n = 0;
	int bits = 0, v;

	for (; *s && *s != '='; s++) {
		char c = *s;

		if (c >= 'A' && c <= 'Z') v = c - 'A';
		else if (c >= 'a' && c <= 'z') v = c - 'a' + 26;
		else if (c >= '0' && c <= '9') v = c - '0' + 52;
		else if (c == '+') v = 62;
		else if (c == '/') v = 63;
		else return -EINVAL;
		acc = acc << 6 | (uint32_t)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			if (n >= outlen)
				return -EINVAL;
			out[n++] = acc >> bits & 0xff;
		}
	}
	return (ssize_t)n;
}

int irc_x_packet(const struct irc_xrow *x, uint8_t *scratch, size_t scratch_len,
		 struct irc_xpkt *p)
{
	json_t *b = x->body;
	const char *b64;
	ssize_t n;

	memset(p, 0, sizeof(*p));
	p->linktype = (int)irc_jint(b, "linktype", irc_jint(b, "ircontain.sample.linktype", 0));
	if (x->r->data && x->r->data_len) {
		p->data = x->r->data;
		p->len = x->r->data_len;
	} else if ((b64 = irc_jstr(b, "ircontain.sample.base64"))) {
		/* A drop event whose sample travelled in its body. */
		n = unb64(b64, scratch, scratch_len);
		if (n <= 0)
			return -ENOENT;
		p->data = scratch;
		p->len = (size_t)n;
	} else {
		return -ENOENT;
	}
	if (p->linktype != IRC_LINK_ETHERNET && p->linktype != IRC_LINK_RAW)
		return -ENOENT;
	p->pkt_len = (uint32_t)irc_jint(b, "pkt_len", irc_jint(b, "ircontain.sample.length", 0));
	if (p->pkt_len < p->len)
		p->pkt_len = (uint32_t)p->len;
	return 0;
}

size_t irc_x_frame(const struct irc_xpkt *p, uint8_t *out, size_t outlen)
{
	static const uint8_t macs[12] = {
		0x02, 0, 0, 0, 0, 0x02,		/* destination */
		0x02, 0, 0, 0, 0, 0x01,		/* source */
	};
	unsigned int ver;

	if (p->linktype == IRC_LINK_ETHERNET) {
		if (p->len > outlen)
			return 0;
		memcpy(out, p->data, p->len);
		return p->len;
	}
	if (p->linktype != IRC_LINK_RAW || !p->len || p->len + ETH_HLEN > outlen)
		return 0;
	ver = p->data[0] >> 4;
	memcpy(out, macs, sizeof(macs));
	/* Neither IPv4 nor IPv6: say so (0x0000 is no protocol), keep the bytes. */
	out[12] = ver == 4 ? 0x08 : ver == 6 ? 0x86 : 0;
	out[13] = ver == 4 ? 0x00 : ver == 6 ? 0xdd : 0;
	memcpy(out + ETH_HLEN, p->data, p->len);
	return p->len + ETH_HLEN;
}

pcap_dumper_t *irc_xpcap_open(FILE *f, pcap_t **dead)
{
	pcap_dumper_t *d;

	*dead = pcap_open_dead(DLT_EN10MB, 65535);
	if (!*dead)
		return NULL;
	d = pcap_dump_fopen(*dead, f);
	if (!d) {
		pcap_close(*dead);
		*dead = NULL;
	}
	return d;
}

int irc_xpcap_add(pcap_dumper_t *d, int64_t ts_ns, const struct irc_xpkt *p)
{
	uint8_t frame[ETH_HLEN + 65536];
	struct pcap_pkthdr h;
	size_t n;

	n = irc_x_frame(p, frame, sizeof(frame));
	if (!n)
		return -EINVAL;
	memset(&h, 0, sizeof(h));
	h.ts.tv_sec = ts_ns / 1000000000LL;
	h.ts.tv_usec = ts_ns % 1000000000LL / 1000;
	h.caplen = (bpf_u_int32)n;
	h.len = p->pkt_len + (uint32_t)(n - p->len);
	pcap_dump((u_char *)d, &h, frame);
	return 0;
}
