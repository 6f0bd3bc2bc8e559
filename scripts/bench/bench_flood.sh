#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# A live flood through a veth of the lab (its own namespaces, bounded in
# count): host 1 sends COUNT UDP frames (default 1,000,000) from a
# quarantined address to the protected host, where each mechanism in turn
# drops them:
#   ircontain      XDP on the veth (loaded for its round, unloaded after)
#   nft netdev     an ingress chain on the veth: ip saddr @set drop
#   ipset          iptables -t raw PREROUTING -m set --match-set S src -j DROP
#   iptables       iptables -t raw PREROUTING -s ADDR -j DROP
#   none           nothing drops (the stack answers: the costliest)
# Each set holds the address among SET_N others (default 10,000).  Rounds
# interleave the mechanisms (A B C D E, A B C D E, ...); the figures are
# the sender's CPU time and wall time per frame, medians of the rounds (on
# a veth the receiver's work runs in the sender's transmit path; CPU time
# holds better than wall time on a busy machine).  Prints a table; not a test.
. "$(dirname "$0")/../../tests/e2e/lib.sh"
trap 'rc=$?; lab_cleanup; exit $rc' EXIT
B=$(dirname "$IRC_BIN")/bench/bench_flood
COUNT=${1:-1000000}
ROUNDS=${2:-3}
SET_N=${3:-10000}
lab_up 1 >/dev/null || exit 1
MAC=$(in_p cat /sys/class/net/iv1/address)
SRC=10.77.1.2 DST=10.77.1.1
L=$IRC_TMP/list.txt
awk -v n="$SET_N" 'BEGIN { for (i = 0; i < n; i++) printf "11.%d.%d.%d\n", int(i / 65536), int(i / 256) % 256, i % 256 }' >"$L"
echo "$SRC" >>"$L"

flood() { in_h 1 "$B" hv "$MAC" "$SRC" "$DST" "$COUNT"; }
run_ircontain() {
	irc load --iface iv1 >/dev/null 2>&1 || return 1
	irc quarantine host --from-file "$L" >/dev/null || return 1
	flood
	irc unload >/dev/null 2>&1
}
run_nft() {
	{ echo "table netdev ircb {"
	  echo "set s { type ipv4_addr; size 1048576; elements = {"
	  sed 's/$/,/' "$L"; echo "} }"
	  echo "chain c {"
	  echo "type filter hook ingress device iv1 priority 0;"
	  echo "ip saddr @s drop"
	  echo "}"
	  echo "}"; } >"$IRC_TMP/nft"
	in_p nft -f "$IRC_TMP/nft" || return 1
	flood
	in_p nft delete table netdev ircb
}
run_ipset() {
	{ echo "create ircb hash:ip maxelem 1048576"; sed 's/^/add ircb /' "$L"; } | in_p ipset restore || return 1
	in_p iptables -t raw -A PREROUTING -m set --match-set ircb src -j DROP || return 1
	flood
	in_p iptables -t raw -F PREROUTING
	in_p ipset destroy ircb
}
run_iptables() {
	in_p iptables -t raw -A PREROUTING -s "$SRC" -j DROP || return 1
	flood
	in_p iptables -t raw -F PREROUTING
}
run_none() { flood; }

mechs=(ircontain nft ipset iptables none)
declare -A res wall
for ((r = 0; r < ROUNDS; r++)); do
	for m in "${mechs[@]}"; do
		v=$("run_$m") || { echo "bench_flood: $m failed" >&2; exit 1; }
		res[$m]+="${v% *} " wall[$m]+="${v#* } "
	done
done
med() { tr ' ' '\n' | grep . | sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
base=$(med <<<"${res[ircontain]}")
echo "Live flood: $COUNT UDP frames from a quarantined source through a veth, the"
echo "address among $SET_N others; sender's ns per frame, median of $ROUNDS interleaved rounds"
echo
echo "| mechanism | CPU ns per frame | ÷ ircontain | wall ns per frame |"
echo "|---|---:|---:|---:|"
for m in "${mechs[@]}"; do
	v=$(med <<<"${res[$m]}")
	echo "| $m | $v | $(awk -v a="$v" -v b="$base" 'BEGIN { printf "%.2f×", a / b }') | $(med <<<"${wall[$m]}") |"
done
