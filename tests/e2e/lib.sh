#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# End-to-end test library: a lab of test hosts in network namespaces.
#
#   ns "$IRC_NS_P"       the protected host, where ircontain is loaded
#   ns "$IRC_NS_PFX"hN   test host N, joined to the protected host by a veth
#
# Host N is 10.77.N.2/24 and fd77:N::2/64; the protected host's side of its
# link is "ivN" with 10.77.N.1/24 and fd77:N::1/64.  Every name carries the
# test's PID, so parallel or stale runs never collide, and everything is
# removed by the EXIT trap whatever way the test ends.  No program is ever
# attached to an interface the lab did not create, and traffic only goes to
# the lab's own addresses.
set -uo pipefail

IRC_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
IRC_BIN=${IRC_BIN:-$IRC_ROOT/build/ircontain}
IRC_ID=irt$$
IRC_NS_PFX=$IRC_ID
IRC_NS_P=${IRC_ID}p
IRC_PIN_DIR=/sys/fs/bpf/$IRC_ID
export IRCONTAIN_PIN_DIR=$IRC_PIN_DIR
unset SSH_CONNECTION

IRC_HOSTS=0
IRC_PIDS=()
IRC_PASS=0
IRC_FAIL=0
IRC_TMP=$(mktemp -d /tmp/irc-e2e.XXXXXX)

# ---- reporting --------------------------------------------------------

ok() { IRC_PASS=$((IRC_PASS + 1)); echo "ok - $*"; }
not_ok() { IRC_FAIL=$((IRC_FAIL + 1)); echo "not ok - $*"; }

# check NAME CMD...: passes when CMD succeeds.
check() {
	local name=$1; shift
	if "$@" >"$IRC_TMP/out" 2>&1; then ok "$name"; else
		not_ok "$name"; sed 's/^/#   /' "$IRC_TMP/out" | tail -5; fi
}

# check_fail NAME CMD...: passes when CMD fails.
check_fail() {
	local name=$1; shift
	if "$@" >"$IRC_TMP/out" 2>&1; then
		not_ok "$name (succeeded, expected failure)"; sed 's/^/#   /' "$IRC_TMP/out" | tail -5
	else ok "$name"; fi
}

# check_rc NAME RC CMD...: passes when CMD exits with RC.
check_rc() {
	local name=$1 want=$2 rc; shift 2
	"$@" >"$IRC_TMP/out" 2>&1; rc=$?
	if ((rc == want)); then ok "$name"; else
		not_ok "$name (exit $rc, expected $want)"; sed 's/^/#   /' "$IRC_TMP/out" | tail -5; fi
}

# ---- lab --------------------------------------------------------------

# irc ARGS...: the CLI inside the protected host's network namespace.
# nsenter --net keeps our mount namespace (ip netns exec would hide bpffs).
irc() { nsenter --net="/run/netns/$IRC_NS_P" "$IRC_BIN" "$@"; }
in_p() { ip netns exec "$IRC_NS_P" "$@"; }
in_h() { local n=$1; shift; ip netns exec "${IRC_NS_PFX}h$n" "$@"; }

lab_cleanup() {
	local pid n
	for pid in "${IRC_PIDS[@]}"; do kill -9 "$pid" 2>/dev/null; done
	wait 2>/dev/null
	if [[ -e $IRC_PIN_DIR ]]; then
		irc unload >/dev/null 2>&1
		# Whatever unload left: remove our pins, never anything else.
		find "$IRC_PIN_DIR" -depth -mindepth 1 -delete 2>/dev/null
		rmdir "$IRC_PIN_DIR" 2>/dev/null
	fi
	for ((n = 1; n <= IRC_HOSTS; n++)); do
		ip netns del "${IRC_NS_PFX}h$n" 2>/dev/null
	done
	ip netns del "$IRC_NS_P" 2>/dev/null
	rm -rf "$IRC_TMP"
}

lab_finish() {
	local rc=$?
	lab_cleanup
	echo "# $(basename "$0"): $IRC_PASS passed, $IRC_FAIL failed"
	((IRC_FAIL == 0 && rc == 0)) && exit 0
	exit 1
}
trap lab_finish EXIT
trap 'exit 130' INT TERM

# lab_up N: the protected host and N test hosts.
lab_up() {
	local n
	mountpoint -q /sys/fs/bpf || mount -t bpf bpf /sys/fs/bpf
	ip netns add "$IRC_NS_P" || return 1
	in_p ip link set lo up
	for ((n = 1; n <= $1; n++)); do
		ip netns add "${IRC_NS_PFX}h$n" || return 1
		IRC_HOSTS=$n
		ip link add "iv$n" netns "$IRC_NS_P" type veth peer name hv \
			netns "${IRC_NS_PFX}h$n" || return 1
		in_p ip addr add "10.77.$n.1/24" dev "iv$n"
		in_p ip addr add "fd77:$n::1/64" dev "iv$n" nodad
		in_p ip link set "iv$n" up
		in_h "$n" ip link set lo up
		in_h "$n" ip addr add "10.77.$n.2/24" dev hv
		in_h "$n" ip addr add "fd77:$n::2/64" dev hv nodad
		in_h "$n" ip link set hv up
	done
	# Let the links come up (carrier on both veth ends).
	for ((n = 1; n <= $1; n++)); do
		wait_for 5 in_h "$n" ping -c1 -W1 "10.77.$n.1" || return 1
	done
}

# wait_for SECONDS CMD...: retries CMD every 100 ms until it succeeds.
wait_for() {
	local deadline=$((SECONDS + $1)); shift
	until "$@" >/dev/null 2>&1; do
		((SECONDS >= deadline)) && return 1
		sleep 0.1
	done
}

# bg CMD...: a background process, killed at cleanup.
bg() { "$@" & IRC_PIDS+=($!); }

# ---- traffic (always bounded in count and time) -----------------------

ping4() { in_h "$1" ping -c1 -W1 "10.77.$1.1" >/dev/null 2>&1; }
ping6() { in_h "$1" ping -6 -c1 -W1 "fd77:$1::1" >/dev/null 2>&1; }

# tcp_server PORT: a TCP echo server on the protected host, all addresses.
tcp_server() {
	bg in_p socat "TCP6-LISTEN:$1,fork,reuseaddr,ipv6only=0" EXEC:cat
	wait_for 5 in_p sh -c "ss -Htln sport = :$1 | grep -q ."
}

# tcp4 N PORT / tcp6 N PORT: one round trip from host N, 2 s at most.
tcp4() {
	[[ $(echo hi | timeout 3 ip netns exec "${IRC_NS_PFX}h$1" \
		socat -T2 - "TCP4:10.77.$1.1:$2,connect-timeout=2" 2>/dev/null) == hi ]]
}
tcp6() {
	[[ $(echo hi | timeout 3 ip netns exec "${IRC_NS_PFX}h$1" \
		socat -T2 - "TCP6:[fd77:$1::1]:$2,connect-timeout=2" 2>/dev/null) == hi ]]
}

# jqx FILTER: jq over the CLI's --json output on stdin, exit 1 if false/null.
jqx() { jq -e "$@" >/dev/null; }
