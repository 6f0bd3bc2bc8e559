// SPDX-License-Identifier: GPL-2.0-only
/*
 * The sender of scripts/bench/bench_flood.sh: COUNT UDP frames from SRC to
 * DST out of IFACE (an AF_PACKET socket, batches of 64 with sendmmsg, the
 * qdisc bypassed), as fast as it can, then prints the CPU time it took per
 * frame (user + system, ns) and the wall time per frame.  On a veth the
 * receiving side's work (the drop under test) runs in the sender's own
 * transmit path; its CPU time, unlike the wall time, does not grow with
 * what else the machine runs.
 *
 *   bench_flood IFACE DSTMAC SRC DST COUNT
 */
#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <linux/ip.h>
#include <linux/udp.h>

#define BATCH	64

struct frame {
	struct ethhdr eth;
	struct iphdr ip;
	struct udphdr udp;
	char payload[18];
} __attribute__((packed));

static __u16 csum(const void *p, int len)
{
	const __u16 *w = p;
	__u32 s = 0;

	for (; len > 1; len -= 2)
		s += *w++;
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (__u16)~s;
}

int main(int argc, char **argv)
{
	struct sockaddr_ll sll = { .sll_family = AF_PACKET };
	struct mmsghdr msg[BATCH];
	struct iovec iov;
	struct frame f;
	struct timespec t0, t1;
	struct rusage r0, r1;
	unsigned int mac[6];
	long count, sent = 0;
	int fd, i, one = 1;

	if (argc != 6 || sscanf(argv[2], "%x:%x:%x:%x:%x:%x", &mac[0], &mac[1], &mac[2],
				&mac[3], &mac[4], &mac[5]) != 6 || (count = atol(argv[5])) < 1) {
		fprintf(stderr, "usage: bench_flood IFACE DSTMAC SRC DST COUNT\n");
		return 2;
	}
	memset(&f, 0, sizeof(f));
	for (i = 0; i < 6; i++)
		f.eth.h_dest[i] = (unsigned char)mac[i];
	f.eth.h_source[0] = 0x02;
	f.eth.h_proto = htons(ETH_P_IP);
	f.ip.version = 4;
	f.ip.ihl = 5;
	f.ip.ttl = 64;
	f.ip.protocol = IPPROTO_UDP;
	f.ip.tot_len = htons(sizeof(f) - sizeof(f.eth));
	if (inet_pton(AF_INET, argv[3], &f.ip.saddr) != 1 ||
	    inet_pton(AF_INET, argv[4], &f.ip.daddr) != 1) {
		fprintf(stderr, "bench_flood: bad address\n");
		return 2;
	}
	f.ip.check = csum(&f.ip, sizeof(f.ip));
	f.udp.source = htons(40000);
	f.udp.dest = htons(9);
	f.udp.len = htons(sizeof(f.udp) + sizeof(f.payload));

	fd = socket(AF_PACKET, SOCK_RAW, 0);
	if (fd < 0) {
		perror("bench_flood: socket");
		return 1;
	}
	setsockopt(fd, SOL_PACKET, PACKET_QDISC_BYPASS, &one, sizeof(one));
	sll.sll_ifindex = (int)if_nametoindex(argv[1]);
	sll.sll_halen = 6;
	memcpy(sll.sll_addr, f.eth.h_dest, 6);
	if (!sll.sll_ifindex || bind(fd, (struct sockaddr *)&sll, sizeof(sll))) {
		perror("bench_flood: bind");
		return 1;
	}
	iov.iov_base = &f;
	iov.iov_len = sizeof(f);
	memset(msg, 0, sizeof(msg));
	for (i = 0; i < BATCH; i++) {
		msg[i].msg_hdr.msg_iov = &iov;
		msg[i].msg_hdr.msg_iovlen = 1;
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	getrusage(RUSAGE_SELF, &r0);
	while (sent < count) {
		int n = sendmmsg(fd, msg, count - sent < BATCH ? (int)(count - sent) : BATCH, 0);

		if (n < 0) {
			if (errno == ENOBUFS || errno == EAGAIN)
				continue;
			perror("bench_flood: sendmmsg");
			return 1;
		}
		sent += n;
	}
	getrusage(RUSAGE_SELF, &r1);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	printf("%.1f %.1f\n",
	       ((r1.ru_utime.tv_sec - r0.ru_utime.tv_sec + r1.ru_stime.tv_sec - r0.ru_stime.tv_sec) * 1e9 +
		(r1.ru_utime.tv_usec - r0.ru_utime.tv_usec + r1.ru_stime.tv_usec - r0.ru_stime.tv_usec) * 1e3) / sent,
	       ((t1.tv_sec - t0.tv_sec) * 1e9 + (t1.tv_nsec - t0.tv_nsec)) / sent);
	return 0;
}
