#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Containment latency: `ircontain quarantine host ADDR` from its start to
# the kernel map write and to its exit, beside `ipset add` in the same lab,
# interleaved (build/bench/bench_contain does the timing).  Prints a table;
# not a test.  ROUNDS (default 200) fresh addresses each.
. "$(dirname "$0")/../../tests/e2e/lib.sh"
trap 'rc=$?; lab_cleanup; exit $rc' EXIT
B=$(dirname "$IRC_BIN")/bench/bench_contain
ROUNDS=${1:-200}
lab_up 1 >/dev/null || exit 1
irc load --iface iv1 >/dev/null 2>&1 || { echo "bench_contain: load failed" >&2; exit 1; }
SET=ircb$$
in_p ipset create "$SET" hash:ip maxelem 1048576 || exit 1
nsenter --net="/run/netns/$IRC_NS_P" "$B" "$IRC_BIN" "$SET" "$ROUNDS"
in_p ipset destroy "$SET"
