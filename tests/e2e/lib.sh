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
unset SSH_CONNECTION SUDO_UID

# The process hooks attach to a cgroup of the test's own, never the root.
IRC_CG2=$(awk '$9 == "cgroup2" { print $5; exit }' /proc/self/mountinfo)
if [[ -z $IRC_CG2 ]]; then
	echo "not ok - no cgroup v2 mount found"
	exit 1
fi
IRC_CG=$IRC_CG2/$IRC_ID
export IRCONTAIN_CGROUP_ROOT=$IRC_CG

IRC_HOSTS=0
# Fleet tests: agent namespaces "$IRC_NS_PFX"aN with pin dirs "$IRC_PIN_DIR"aN.
IRC_AGENTS=0
IRC_PIDS=()
IRC_PASS=0
IRC_FAIL=0
IRC_TMP=$(mktemp -d /tmp/irc-e2e.XXXXXX)
# Never the machine's own state dir: a private one, removed at cleanup.
export IRCONTAIN_STATE_DIR=$IRC_TMP/state
# Sanitizer builds (IRC_BIN=build/asan/ircontain) write any report here,
# also from commands whose failure a check expects; lab_cleanup fails the
# test if there is one.  Writable by the non-root runs too.
IRC_SAN_DIR=$IRC_TMP/san
chmod 711 "$IRC_TMP" && mkdir -m 1777 "$IRC_SAN_DIR"
export ASAN_OPTIONS="log_path=$IRC_SAN_DIR/asan${ASAN_OPTIONS:+:$ASAN_OPTIONS}"
export UBSAN_OPTIONS="log_path=$IRC_SAN_DIR/ubsan:print_stacktrace=1${UBSAN_OPTIONS:+:$UBSAN_OPTIONS}"

# ---- reporting --------------------------------------------------------

ok() { IRC_PASS=$((IRC_PASS + 1)); echo "ok - $*"; }
not_ok() { IRC_FAIL=$((IRC_FAIL + 1)); echo "not ok - $*"; }

# need_tools TOOL...: the programs a test runs beyond bash and coreutils,
# looked for before it does anything.  A missing one fails the test, naming
# it, instead of a wrong verdict further on; scripts/install-deps.sh
# installs them all.
need_tools() {
	local t missing=()
	for t in "$@"; do
		command -v "$t" >/dev/null 2>&1 || missing+=("$t")
	done
	((${#missing[@]} == 0)) && return 0
	not_ok "needs ${missing[*]}: not installed (scripts/install-deps.sh installs them)"
	exit 1
}

# A program missing all the same (one need_tools was not told about) is
# named and fails the test too, even from a subshell or under 2>/dev/null.
command_not_found_handle() {
	echo "$1" >>"$IRC_TMP/missing-tools"
	echo "$0: $1: command not found (scripts/install-deps.sh installs it)" >&2
	return 127
}

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

# Every process still inside one of this lab's namespaces: only this test
# creates them (the names carry our PID), so only our processes are there.
lab_ns_pids() {
	local n
	ip netns pids "$IRC_NS_P" 2>/dev/null
	for ((n = 1; n <= IRC_HOSTS; n++)); do
		ip netns pids "${IRC_NS_PFX}h$n" 2>/dev/null
	done
	for ((n = 1; n <= IRC_AGENTS; n++)); do
		ip netns pids "${IRC_NS_PFX}a$n" 2>/dev/null
	done
}

# lab_sweep_stale: what a test killed with SIGKILL (no trap runs then) left
# behind: namespaces, pins and cgroups named irtPID whose PID is gone.  Only
# our own naming is ever touched, and only for processes that no longer exist.
lab_sweep_stale() {
	local name pid
	{
		for name in $(ip netns list | awk '{ print $1 }'); do
			[[ $name =~ ^irt([0-9]+)(p|[ha][0-9]+)$ ]] || continue
			pid=${BASH_REMATCH[1]}
			[[ -d /proc/$pid ]] || ip netns del "$name"
		done
		for name in /sys/fs/bpf/irt* "$IRC_CG2"/irt*; do
			[[ ${name##*/} =~ ^irt([0-9]+)(a[0-9]+)?$ && ! -d /proc/${BASH_REMATCH[1]} ]] || continue
			if [[ $name == /sys/fs/bpf/* ]]; then
				find "$name" -depth -mindepth 1 -delete && rmdir "$name"
			else
				find "$name" -depth -type d -exec rmdir {} +
			fi
		done
	} 2>/dev/null
	return 0
}

lab_cleanup() {
	local pid n
	{
		# Only while still our child: a reaped PID may have been reused.
		for pid in "${IRC_PIDS[@]}"; do
			(($(ps -o ppid= -p "$pid" || echo 0) == $$)) &&
				kill -9 "$pid" && wait "$pid"
		done
		# A background shell function (bg in_p ...) is a subshell whose
		# child would outlive it, holding the namespace: end those too.
		for pid in $(lab_ns_pids); do kill -9 "$pid"; done
		wait
	} 2>/dev/null
	if [[ -e $IRC_PIN_DIR ]]; then
		irc unload >/dev/null 2>&1
		# Whatever unload left: remove our pins, never anything else.
		find "$IRC_PIN_DIR" -depth -mindepth 1 -delete 2>/dev/null
		rmdir "$IRC_PIN_DIR" 2>/dev/null
	fi
	for ((n = 1; n <= IRC_AGENTS; n++)); do
		[[ -e ${IRC_PIN_DIR}a$n ]] || continue
		IRCONTAIN_PIN_DIR=${IRC_PIN_DIR}a$n nsenter --net="/run/netns/${IRC_NS_PFX}a$n" \
			"$IRC_BIN" unload >/dev/null 2>&1
		find "${IRC_PIN_DIR}a$n" -depth -mindepth 1 -delete 2>/dev/null
		rmdir "${IRC_PIN_DIR}a$n" 2>/dev/null
	done
	for ((n = 1; n <= IRC_HOSTS; n++)); do
		ip netns del "${IRC_NS_PFX}h$n" 2>/dev/null
	done
	for ((n = 1; n <= IRC_AGENTS; n++)); do
		ip netns del "${IRC_NS_PFX}a$n" 2>/dev/null
	done
	ip netns del "$IRC_NS_P" 2>/dev/null
	cg_cleanup
	if [[ -s $IRC_TMP/missing-tools ]]; then
		not_ok "ran programs that are not installed: $(sort -u "$IRC_TMP/missing-tools" | tr '\n' ' ')"
	fi
	if compgen -G "$IRC_SAN_DIR/*" >/dev/null; then
		not_ok "sanitizer reports: $(ls "$IRC_SAN_DIR" | tr '\n' ' ')"
		cat "$IRC_SAN_DIR"/* | sed 's/^/#   /' | head -60
	fi
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

# What this library itself runs.
need_tools ip nsenter setpriv socat ss ping jq strace bpftool ps mountpoint timeout

# Removes the test cgroup tree, killing any process still in it first.
cg_cleanup() {
	local d pid
	[[ -d $IRC_CG ]] || return 0
	while read -r d; do
		while read -r pid; do
			kill -9 "$pid" 2>/dev/null
		done <"$d/cgroup.procs"
	done < <(find "$IRC_CG" -depth -type d)
	wait_for 2 sh -c "! find '$IRC_CG' -name cgroup.procs -exec cat {} + | grep -q ."
	find "$IRC_CG" -depth -type d -exec rmdir {} + 2>/dev/null
}

# cg_run CGROUP CMD...: CMD in cgroup $IRC_CG/CGROUP (created if needed).
cg_run() {
	local cg=$IRC_CG/$1; shift
	mkdir -p "$cg"
	bash -c 'echo $$ > "$0/cgroup.procs" && exec "$@"' "$cg" "$@"
}

# lab_up N: the protected host and N test hosts.
lab_up() {
	local n
	mountpoint -q /sys/fs/bpf || mount -t bpf bpf /sys/fs/bpf
	lab_sweep_stale
	mkdir -p "$IRC_CG" || return 1
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
# IRC_WAIT_SCALE (default 1) multiplies the wait: the kernel VMs of
# scripts/check-kernels.sh run under TCG, several times slower.
wait_for() {
	local deadline=$((SECONDS + $1 * ${IRC_WAIT_SCALE:-1})); shift
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
	# ip execs socat: the PID bg records is the server's own.
	bg ip netns exec "$IRC_NS_P" socat "TCP6-LISTEN:$1,fork,reuseaddr,ipv6only=0" EXEC:cat
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

# jqx FILTER [JQ ARGS / FILE]: jq over the CLI's --json output (stdin or
# FILE); true only if the filter gave at least one result and every result
# is true.  (jq 1.6's -e alone exits 0 on empty input, and looks at the last
# result only.)
jqx() {
	local out
	out=$(jq -e "$@" 2>&1)
	if [[ -n $out ]] && ! grep -qvx true <<<"$out"; then return 0; fi
	echo "jq filter gave '${out:-no result}'"
	return 1
}

# udp_to_p N PORT: 3 datagrams from host N to the protected host; true if
# at least one arrived (1 s wait at most once they are sent).
# udp_from_p N PORT: the same from the protected host to host N.
# One-way traffic, so it tells the two directions apart where a ping or a
# TCP connect (which need both) cannot.
udp_oneway() {
	local rx=$1 tx=$2 addr=$3 port=$4 f=$IRC_TMP/udp.$4 pid rc i
	: >"$f"
	ip netns exec "$rx" timeout 4 socat -u "UDP4-RECV:$port,bind=$addr" \
		"OPEN:$f,append" 2>/dev/null &
	pid=$!
	IRC_PIDS+=("$pid")
	if wait_for 2 ip netns exec "$rx" sh -c "ss -Huln sport = :$port | grep -q ."; then
		for i in 1 2 3; do
			echo "dgram$i" | ip netns exec "$tx" timeout 2 \
				socat -u - "UDP4-SENDTO:$addr:$port" 2>/dev/null
		done
		wait_for 1 test -s "$f"; rc=$?
	else
		rc=2
	fi
	kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null
	return $rc
}
udp_to_p() { udp_oneway "$IRC_NS_P" "${IRC_NS_PFX}h$1" "10.77.$1.1" "$2"; }
udp_from_p() { udp_oneway "${IRC_NS_PFX}h$1" "$IRC_NS_P" "10.77.$1.2" "$2"; }

# ---- the CLI in other conditions ----------------------------------------

# irc_nobody ARGS...: the CLI as uid/gid 65534 with no capabilities.
irc_nobody() {
	nsenter --net="/run/netns/$IRC_NS_P" \
		setpriv --reuid=65534 --regid=65534 --clear-groups "$IRC_BIN" "$@"
}

# nobody_runs: true if uid 65534 can start the CLI here at all; if not,
# says why.  It cannot where a directory on the way is closed to others:
# the root directory of a machine made with `mktemp -d` (mode 0700), say.
# setpriv still execs the binary then (it keeps its capabilities until the
# exec), but the dynamic loader, as 65534, opens no library: "error while
# loading shared libraries: libbpf.so.1", exit 127.
nobody_runs() {
	local out
	out=$(irc_nobody version 2>&1) && return 0
	echo "the CLI cannot run as uid 65534 here: $out"
	ls -ld / "$(dirname "$IRC_BIN")"
	return 1
}

# irc_killed ARGS...: the CLI, SIGKILLed by strace when it calls exit_group,
# i.e. after it has done all its work but before it can clean anything up.
# Exits 137 when that happened.
# (The shell's own "Killed" notice goes to /dev/null, the CLI's stderr not.
# LeakSanitizer cannot work under ptrace: off here, for sanitizer builds.)
irc_killed() {
	{
		ASAN_OPTIONS="$ASAN_OPTIONS:detect_leaks=0" \
		nsenter --net="/run/netns/$IRC_NS_P" strace -f -o /dev/null \
			-e trace=exit_group -e inject=exit_group:signal=KILL \
			"$IRC_BIN" "$@" 2>&3
	} 3>&2 2>/dev/null
}

# cg_progs CG: how many BPF programs are attached to cgroup CG; "error"
# (never a number) if bpftool could not tell.
cg_progs() {
	local out
	out=$(bpftool -j cgroup show "$1" 2>/dev/null) || { echo error; return; }
	if [[ -z $out ]]; then echo 0; else jq length <<<"$out" 2>/dev/null || echo error; fi
}

# irc_running: true if a CLI process working on this test's pin dir exists.
irc_running() {
	local p
	for p in /proc/[0-9]*; do
		[[ $(cat "$p/comm" 2>/dev/null) == ircontain ]] || continue
		grep -qzxF "IRCONTAIN_PIN_DIR=$IRC_PIN_DIR" "$p/environ" 2>/dev/null && return 0
	done
	return 1
}

# counter NAME: a status counter (rx_drop_quarantine, ...), or -1.
counter() {
	irc --json status 2>/dev/null | jq -r --arg n "$1" '.counters[$n] // -1'
}

# drops TARGET: the drops of the list entry for TARGET, or -1.
drops() {
	irc --json list 2>/dev/null |
		jq -r --arg t "$1" '[.entries[] | select(.target == $t) | .drops][0] // -1'
}

# cpus_allowed: the CPUs this test may run on, one a line.  Its affinity,
# not 0 .. nproc - 1: a container's cpuset may leave out CPU 0.
cpus_allowed() {
	local r
	for r in $(awk '/^Cpus_allowed_list:/ { gsub(",", " ", $2); print $2 }' /proc/self/status); do
		seq "${r%-*}" "${r#*-}"
	done
}

# gt A B: A > B (numbers); eq A B: same text.  Both say why they failed.
gt() { (($1 > $2)) || { echo "$1 is not greater than $2"; return 1; }; }
eq() { [[ $1 == "$2" ]] || { echo "got '$1', expected '$2'"; return 1; }; }

# ircq FILTER ARGS...: true if `irc --json ARGS` succeeds and its output
# satisfies the jq FILTER; shows that output when not.
ircq() {
	local f=$1 out rc; shift
	out=$(irc --json "$@" 2>"$IRC_TMP/ircq.err"); rc=$?
	((rc == 0)) && jqx "$f" <<<"$out" >/dev/null && return 0
	echo "exit $rc: $out"
	cat "$IRC_TMP/ircq.err"
	return 1
}
