#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# The tc egress program on real traffic (build/bench/bench_tc prints the
# table): in a lab of its own (tests/e2e/lib.sh: namespaces, veth and
# cgroup named after this PID, removed by the EXIT trap however the run
# ends), the protected host sends BYTES (default 50,000,000) over TCP to
# host 1, once per program and round (ROUNDS, default 21), with ircontain's
# tc program, the bare tc program and the reference hash in turn on the
# egress of its side of the veth (iv1).  Each transfer is bounded in bytes
# (socat readbytes) and in time (timeout); the sender's socket lingers
# until host 1 has acknowledged the last byte, so every skb of a transfer
# leaves under the program it was measured with.  NHOSTS (default 1,000)
# hosts are quarantined, none of them host 1.  Nothing is pinned, and the
# driver's statistics switch ends with it.  Prints a table; not a test.
#
#   bench_tc.sh [BYTES [ROUNDS [NHOSTS]]]
. "$(dirname "$0")/../../tests/e2e/lib.sh"
trap 'rc=$?; lab_cleanup; exit $rc' EXIT
B=$(dirname "$IRC_BIN")/bench/bench_tc
BYTES=${1:-50000000}
ROUNDS=${2:-21}
NHOSTS=${3:-1000}
PORT=5201
lab_up 1 >/dev/null || { echo "bench_tc: the lab did not come up" >&2; exit 1; }
# host 1 reads every transfer to its end ("fork": one child per transfer).
bg ip netns exec "${IRC_NS_PFX}h1" socat -u "TCP4-LISTEN:$PORT,bind=10.77.1.2,reuseaddr,fork" \
	OPEN:/dev/null
wait_for 5 in_h 1 sh -c "ss -Htln sport = :$PORT | grep -q ." ||
	{ echo "bench_tc: the receiver on host 1 did not start" >&2; exit 1; }
echo "$BYTES bytes over TCP per transfer, from the protected host to host 1 through a veth"
# In the background, so that a signal runs the trap now: lab_cleanup ends
# the driver and its transfer (they are in the lab's namespace).
bg nsenter --net="/run/netns/$IRC_NS_P" "$B" iv1 "$ROUNDS" "$NHOSTS" \
	timeout 60 socat -u "OPEN:/dev/zero,readbytes=$BYTES" \
	"TCP4:10.77.1.2:$PORT,connect-timeout=5,linger=30"
wait "${IRC_PIDS[-1]}"
