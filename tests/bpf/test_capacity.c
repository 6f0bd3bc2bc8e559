// SPDX-License-Identifier: GPL-2.0-only
/*
 * Capacity: IRC_MAX_FRONT_HOSTS exact hosts per family fit in the front
 * tier and IRC_MAX_HOSTS (1,048,576) more in the big map, the one after
 * them is refused with E2BIG by both, and with both full the packet path
 * still drops the first host (front tier) and the last one inserted (big
 * map) and passes others.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdlib.h>
#include <cmocka.h>

#include "testlib.h"

#define XDP_DROP_V	1
#define XDP_PASS_V	2
#define ALL		(IRC_MAX_FRONT_HOSTS + IRC_MAX_HOSTS)

static void full_table(int family)
{
	struct irc_net_bpf *skel = tl_load();
	struct irc_qentry v = { .dir = IRC_DIR_BOTH };
	struct irc_in6 a6, src6, dst6;
	struct tl_pkt4 p4;
	struct tl_pkt6 p6;
	int fd, front, prog, err;
	__u32 extra4, idx, flag = 0;

	assert_non_null(skel);
	prog = bpf_program__fd(skel->progs.irc_xdp_ingress);
	fd = family == AF_INET ? bpf_map__fd(skel->maps.IRC_MAP_Q4_HOST) :
				 bpf_map__fd(skel->maps.IRC_MAP_Q6_HOST);
	front = family == AF_INET ? bpf_map__fd(skel->maps.IRC_MAP_Q4_FRONT) :
				    bpf_map__fd(skel->maps.IRC_MAP_Q6_FRONT);

	assert_int_equal(tl_fill_hosts(skel, family, 0, ALL), 0);
	/* The big map took the overflow, with the family's flag set. */
	idx = family == AF_INET ? IRC_QTIER_V4 : IRC_QTIER_V6;
	assert_int_equal(bpf_map_lookup_elem(bpf_map__fd(skel->maps.IRC_MAP_QTIER), &idx, &flag), 0);
	assert_int_equal(flag, 1);

	/* One more is refused by both: the limit is real, not a silent eviction. */
	if (family == AF_INET) {
		extra4 = tl_addr4(ALL);
		assert_int_equal(bpf_map_update_elem(front, &extra4, &v, BPF_NOEXIST), -E2BIG);
		err = bpf_map_update_elem(fd, &extra4, &v, BPF_NOEXIST);
	} else {
		tl_addr6(ALL, &a6);
		assert_int_equal(bpf_map_update_elem(front, &a6, &v, BPF_NOEXIST), -E2BIG);
		err = bpf_map_update_elem(fd, &a6, &v, BPF_NOEXIST);
	}
	assert_int_equal(err, -E2BIG);

	/* The first and the last host are dropped; an address outside passes. */
	if (family == AF_INET) {
		tl_pkt4(&p4, tl_addr4(0), htonl(0xc0000201));
		assert_int_equal(tl_run(prog, &p4, sizeof(p4), 1, NULL), XDP_DROP_V);
		tl_pkt4(&p4, tl_addr4(ALL - 1), htonl(0xc0000201));
		assert_int_equal(tl_run(prog, &p4, sizeof(p4), 1, NULL), XDP_DROP_V);
		tl_pkt4(&p4, htonl(0xc6336401), htonl(0xc0000201));
		assert_int_equal(tl_run(prog, &p4, sizeof(p4), 1, NULL), XDP_PASS_V);
	} else {
		tl_addr6(0, &src6);
		tl_addr6(0, &dst6);
		dst6.addr[1] = 0x02;
		tl_pkt6(&p6, &src6, &dst6);
		assert_int_equal(tl_run(prog, &p6, sizeof(p6), 1, NULL), XDP_DROP_V);
		tl_addr6(ALL - 1, &src6);
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
