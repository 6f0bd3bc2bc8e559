// SPDX-License-Identifier: GPL-2.0-only
/*
 * Capacity: IRC_MAX_HOSTS (1,048,576) exact hosts per family fit, the one
 * after them is refused with E2BIG, and with the table full the packet
 * path still drops the last host inserted and passes others.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdlib.h>
#include <cmocka.h>

#include "testlib.h"

#define XDP_DROP_V	1
#define XDP_PASS_V	2

static void full_table(int family)
{
	struct irc_net_bpf *skel = tl_load();
	struct irc_qentry v = { .dir = IRC_DIR_BOTH };
	struct irc_in6 a6, src6, dst6;
	struct tl_pkt4 p4;
	struct tl_pkt6 p6;
	int fd, prog, err;
	__u32 extra4;

	assert_non_null(skel);
	prog = bpf_program__fd(skel->progs.irc_xdp_ingress);
	fd = family == AF_INET ? bpf_map__fd(skel->maps.IRC_MAP_Q4_HOST) :
				 bpf_map__fd(skel->maps.IRC_MAP_Q6_HOST);

	assert_int_equal(tl_fill(fd, family, 0, IRC_MAX_HOSTS), 0);

	/* One more is refused: the limit is real, not a silent eviction. */
	if (family == AF_INET) {
		extra4 = tl_addr4(IRC_MAX_HOSTS);
		err = bpf_map_update_elem(fd, &extra4, &v, BPF_NOEXIST);
	} else {
		tl_addr6(IRC_MAX_HOSTS, &a6);
		err = bpf_map_update_elem(fd, &a6, &v, BPF_NOEXIST);
	}
	assert_int_equal(err, -E2BIG);

	/* The last host inserted is dropped; an address outside passes. */
	if (family == AF_INET) {
		tl_pkt4(&p4, tl_addr4(IRC_MAX_HOSTS - 1), htonl(0xc0000201));
		assert_int_equal(tl_run(prog, &p4, sizeof(p4), 1, NULL), XDP_DROP_V);
		tl_pkt4(&p4, htonl(0xc6336401), htonl(0xc0000201));
		assert_int_equal(tl_run(prog, &p4, sizeof(p4), 1, NULL), XDP_PASS_V);
	} else {
		tl_addr6(IRC_MAX_HOSTS - 1, &src6);
		tl_addr6(0, &dst6);
		dst6.addr[1] = 0x02;	/* 2002:db8::, outside the test range */
		tl_pkt6(&p6, &src6, &dst6);
		assert_int_equal(tl_run(prog, &p6, sizeof(p6), 1, NULL), XDP_DROP_V);
		tl_pkt6(&p6, &dst6, &src6);
		assert_int_equal(tl_run(prog, &p6, sizeof(p6), 1, NULL), XDP_PASS_V);
	}
	irc_net_bpf__destroy(skel);
}

static void test_full_v4(void **state)
{
	(void)state;
	full_table(AF_INET);
}

static void test_full_v6(void **state)
{
	(void)state;
	full_table(AF_INET6);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_full_v4),
		cmocka_unit_test(test_full_v6),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
