#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Network detectors on real traffic: TCP SYNs sent by the lab's test hosts
# to the protected host, where XDP watches them.  Hosts 1 and 4 first
# complete a TCP handshake with the protected host (a verified source: it
# receives our packets); the kernel acts on them in full.  Unverified
# (possibly spoofed) sources are tested in test_detect_spoof.sh.
#
#   - port scan, enforce (ports: 10), and no daemon running: a scan of 30
#     ports (one bash /dev/tcp connect each, 0.2 s at most) from host 1 is
#     refused on the first 9 ports or so and dropped once 10 distinct (hashed) ports are seen, the SYN
#     that crosses the threshold included; the kernel itself quarantines
#     host 1 (list: actor detector:portscan, origin detector, the policy's
#     TTL); its ping fails right after, host 2 is unaffected;
#   - escalation: released and scanning again after the detector window,
#     host 1 gets ttl x factor, then (third time) the max_ttl cap;
#   - allowlist: host 3, in the policy's allowlist, scans in enforce mode:
#     never dropped, never quarantined, and no finding at all;
#   - port scan, monitor, with the daemon: host 2 scans, nothing is dropped
#     or quarantined, ping works, and a portscan_detected finding says
#     enforced false and what would have been done;
#   - SYN flood, enforce (syns: 20 in 1 s): host 4 sends SYNs to one closed
#     port from a tight loop: refused 19 times, the 20th SYN and all after
#     are dropped, host 4 is quarantined (detector:synflood), and the
#     daemon writes a synflood_detected finding with enforced true;
#   - the findings of the first phase, made while no daemon ran, wait in
#     the ring buffer and are written when the daemon starts (offences 1-3
#     with their TTLs), unless the ring overflowed meanwhile (then a gap
#     marker says so, and the check is skipped).
# Findings are picked by the source address, which only this lab uses.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/detect_lib.sh"
need_tools pgrep

EV=$IRC_TMP/events.jsonl
POL_ENF=$IRC_TMP/enforce.yaml
POL_MON=$IRC_TMP/monitor.yaml
PS_TTL=300 PS_FACTOR=3 PS_MAX=1200 SF_TTL=120
SCAN_FIRST=1000 SCAN_N=30 THRESH=10 SYNS=20 WINDOW_MS=2000

# policy MODE: the test policy.  The portscan window is short so that the
# escalation test need not wait long; host 3 is allowlisted; the host
# detectors are off.
policy() {
	cat <<EOF
mode: $1
allowlist:
  - 10.77.3.2
detectors:
  portscan:
    enabled: true
    ports: $THRESH
    window: $((WINDOW_MS / 1000))s
    severity: high
    action: quarantine-host
    ttl: ${PS_TTL}s
    escalation: {factor: $PS_FACTOR, max_ttl: ${PS_MAX}s}
  synflood:
    enabled: true
    syns: $SYNS
    window: 1s
    severity: critical
    action: quarantine-host
    ttl: ${SF_TTL}s
    escalation: {factor: 2, max_ttl: 1h}
EOF
	host_detectors_off
}

# scan N [MAXDROP]: one connect per port, SCAN_FIRST.. (SCAN_N ports), from
# host N to the protected host, each 0.2 s at most; with MAXDROP, it stops
# after that many timed out.  Prints the exit status of each in order,
# run-length coded: "1x9 124x21" = 9 refused, then 21 timed out (dropped).
# 0 would be a connect that succeeded.
scan() {
	in_h "$1" bash -c 'a=$1 first=$2 n=$3 maxdrop=$4 drops=0
		for ((p = first; p < first + n; p++)); do
			timeout 0.2 bash -c ": >/dev/tcp/$a/$p" 2>/dev/null
			rc=$?
			echo $rc
			((rc == 124 && ++drops == maxdrop)) && break
		done' scan "10.77.$1.1" "$SCAN_FIRST" "$SCAN_N" "${2:-0}" |
		uniq -c | awk '{ printf "%s%sx%s", (NR > 1 ? " " : ""), $2, $1 }'
}

# cut_at OUT DROPS: OUT (from scan) is "1xN 124xM": the first N connects
# refused, then every one dropped (M of them; DROPS is M, or the total
# when scan ran to the end).  The ports are hashed into the detector's
# 256-bit map under a key drawn at load, so two of them may share a bit:
# the THRESH-th distinct bit may come a port or few after the THRESH-th
# port (N from THRESH-1 to THRESH+4).
cut_at() {
	local n m
	[[ $1 =~ ^1x([0-9]+)\ 124x([0-9]+)$ ]] || { echo "got '$1'"; return 1; }
	n=${BASH_REMATCH[1]} m=${BASH_REMATCH[2]}
	((n >= THRESH - 1 && n <= THRESH + 4)) || { echo "got '$1': $n refused"; return 1; }
	((m == $2 || n + m == $2)) || { echo "got '$1', expected $2 in all"; return 1; }
}

# synflood N PORT: SYNs to one closed port from host N, from one bash that
# connects in a loop (no fork per connect: all within a few ms).  A dropped
# SYN leaves its connect hanging, so the whole loop is bounded to 2 s.
# Prints how many connects were refused.
synflood() {
	in_h "$1" timeout 2 bash -c 'for ((i = 0; i < 100; i++)); do
			{ : >"/dev/tcp/$1/$2"; } 2>/dev/null || echo refused
		done' flood "10.77.$1.1" "$2" | grep -c refused
}

# now_ms: the time in ms.  after_window T: sleeps until the detector window
# (2 s) that began at T (ms) is over, with a margin.
now_ms() { date +%s%3N; }
after_window() {
	local left=$(($1 + WINDOW_MS + 300 - $(now_ms)))
	((left <= 0)) || sleep "$((left / 1000)).$(printf %03d $((left % 1000)))"
}

# no_daemon: no ircontain process works on this test's pin dir (the same
# as lib.sh's irc_running, without reading every process's comm).
no_daemon() {
	local p
	for p in $(pgrep -x ircontain); do
		tr '\0' '\n' <"/proc/$p/environ" 2>/dev/null |
			grep -qxF "IRCONTAIN_PIN_DIR=$IRC_PIN_DIR" && return 1
	done
	return 0
}

lab_up 4 || { not_ok "lab up"; exit 1; }
check_rc "load --iface iv1..iv4" 0 irc load --iface iv1 --iface iv2 --iface iv3 --iface iv4
policy enforce >"$POL_ENF"
policy monitor >"$POL_MON"
check_rc "policy check (enforce test policy)" 0 irc policy check "$POL_ENF"
check_rc "policy check (monitor test policy)" 0 irc policy check "$POL_MON"

# ---- port scan, enforce, no daemon ---------------------------------------

check_rc "policy apply (enforce)" 0 irc policy apply "$POL_ENF"
check "no ircontain daemon for this pin dir" no_daemon
check "before: ping host 1" ping4 1
check "before: ping host 2" ping4 2
check "before: no entry for host 1" no_entry 10.77.1.2
# A handshake proves that host 1 receives our packets: a verified source.
tcp_server 8000
check "host 1 completes a handshake (verified source)" tcp4 1 8000
check "host 4 completes a handshake (verified source)" tcp4 4 8000
# Their SYNs to port 8000 must not count in the scans' windows.
after_window "$(now_ms)"

t0=$SECONDS
w1=$(now_ms)
out=$(scan 1)
t1=$SECONDS
check "scan host 1: 9+ refused, then every SYN dropped" cut_at "$out" $((SCAN_N))
check_fail "scan host 1: ping fails right after" ping4 1
check "host 2 unaffected: ping" ping4 2
check "list: host 1 quarantined by the kernel (detector:portscan, origin detector)" \
	entry 10.77.1.2 '.actor == "detector:portscan" and .origin == "detector" and .direction == "both" and .prefix_len == 32 and (.reason | test("port scan"))'
check "list: host 1's TTL is the policy's (${PS_TTL}s)" \
	entry 10.77.1.2 ".ttl_remaining > $((PS_TTL - 15)) and .ttl_remaining <= $PS_TTL"
# Every SYN from the one that crossed the threshold on (that one included).
check "list: host 1's entry counts the SYNs dropped (>= $((SCAN_N - THRESH - 4)))" \
	gt "$(drops 10.77.1.2)" $((SCAN_N - THRESH - 5))
check "list: no entry for host 2" no_entry 10.77.2.2
check "still no daemon: all of it done by the kernel" no_daemon

# ---- allowlist: host 3 scans in enforce mode --------------------------------

out=$(scan 3)
check "allowlisted host 3 scans: all $SCAN_N refused, none dropped" eq "$out" "1x$SCAN_N"
check "allowlisted host 3: no entry" no_entry 10.77.3.2
check "allowlisted host 3: ping works" ping4 3

# ---- escalation -------------------------------------------------------------

check_rc "release host 1" 0 irc release host 10.77.1.2
check "released: ping host 1" ping4 1
# A new offence needs a new window: the first scan's (2 s) must be over.
after_window "$w1"
w2=$(now_ms)
out=$(scan 1 3)
check "second scan of host 1: 9+ refused, then dropped again" cut_at "$out" 3
T2=$((PS_TTL * PS_FACTOR))
check "second offence: TTL is ttl x factor (${T2}s)" \
	entry 10.77.1.2 ".actor == \"detector:portscan\" and .ttl_remaining > $((T2 - 15)) and .ttl_remaining <= $T2"
check_fail "second offence: ping host 1 fails" ping4 1
check_rc "release host 1 again" 0 irc release host 10.77.1.2
after_window "$w2"
out=$(scan 1 3)
check "third scan of host 1: 9+ refused, then dropped" cut_at "$out" 3
check "third offence: ttl x factor^2 capped at max_ttl (${PS_MAX}s)" \
	entry 10.77.1.2 ".ttl_remaining > $((PS_MAX - 15)) and .ttl_remaining <= $PS_MAX"
check "phase without daemon: none was running" no_daemon
echo "# enforce scans: $((t1 - t0)) s for the first, $((SECONDS - t0)) s for all three"

# ---- monitor mode, with the daemon -------------------------------------------

bg nsenter --net="/run/netns/$IRC_NS_P" "$IRC_BIN" run --events-file "$EV" \
	--policy "$POL_MON" 2>"$IRC_TMP/daemon.err"
DPID=$!
daemon_ready() { [[ $(jq -r .pid "$IRCONTAIN_STATE_DIR/run.json" 2>/dev/null) == "$DPID" ]]; }
check "run --policy (monitor): ready" wait_for 5 daemon_ready

out=$(scan 2)
check "monitor: host 2's scan is never dropped (all $SCAN_N refused)" eq "$out" "1x$SCAN_N"
check "monitor: no entry for host 2" no_entry 10.77.2.2
check "monitor: host 2's ping works" ping4 2
check "monitor: portscan_detected finding for host 2" \
	wait_for 5 has ".event.action == \"portscan_detected\" and .source.ip == \"10.77.2.2\""
check "monitor: finding says enforced false, would quarantine-host, count $THRESH" \
	is "$(finding portscan 10.77.2.2)" \
	".event.kind == \"alert\" and .ircontain.finding.detector == \"portscan\" and .ircontain.finding.enforced == false and .ircontain.finding.action == \"quarantine-host\" and .ircontain.finding.count == $THRESH and .ircontain.finding.window_s == $((WINDOW_MS / 1000)) and .event.outcome == \"unknown\" and (.message | test(\"monitor mode\\\\), would quarantine-host\"))"
# One per window: a slow scan may span two of the 2 s windows.
check "monitor: every finding for host 2 says enforced false" \
	is "$(evq ".event.action == \"portscan_detected\" and .source.ip == \"10.77.2.2\"" | jq -s -c .)" \
	'length >= 1 and all(.[]; .ircontain.finding.enforced == false and .ircontain.finding.count == 10)'
# The findings of the phase without a daemon stayed in the ring buffer:
# the daemon wrote them when it started (or a gap marker if they were lost).
# Findings have a ring of their own: only its gap can have taken them.
if grep -qE '"action":"events_lost".*"ring":"findings"' "$EV"; then
	echo "skip - findings made with no daemon running: the findings ring overflowed meanwhile"
else check "findings made with no daemon running are delivered later: host 1, offences 1-3" \
	is "$(evq ".event.action == \"portscan_detected\" and .source.ip == \"10.77.1.2\"" | jq -s -c .)" \
	"map([.ircontain.finding.offences, .ircontain.finding.ttl_s, .ircontain.finding.enforced]) == [[1, $PS_TTL, true], [2, $T2, true], [3, $PS_MAX, true]]"
fi

# ---- SYN flood, enforce, with the daemon ------------------------------------

check_rc "policy apply (enforce) while the daemon runs" 0 irc policy apply "$POL_ENF"
# The allowlisted host again, now that the daemon writes every finding.
out=$(scan 3)
check "allowlisted host 3, enforce, daemon running: all refused" eq "$out" "1x$SCAN_N"
check "before the flood: ping host 4" ping4 4
n=$(synflood 4 7999)
check "SYN flood from host 4: $((SYNS - 1)) refused, then dropped" eq "$n" $((SYNS - 1))
check_fail "SYN flood: host 4's ping fails" ping4 4
check "list: host 4 quarantined by the kernel (detector:synflood, TTL ${SF_TTL}s)" \
	entry 10.77.4.2 ".actor == \"detector:synflood\" and .origin == \"detector\" and (.reason | test(\"SYN flood\")) and .ttl_remaining > $((SF_TTL - 15)) and .ttl_remaining <= $SF_TTL"
check "SYN flood: synflood_detected finding, enforced true" \
	wait_for 5 has ".event.action == \"synflood_detected\" and .source.ip == \"10.77.4.2\""
check "SYN flood finding: enforced, quarantine-host, count $SYNS, ttl ${SF_TTL}s" \
	is "$(finding synflood 10.77.4.2)" \
	".ircontain.finding.enforced == true and .ircontain.finding.action == \"quarantine-host\" and .ircontain.finding.count == $SYNS and .ircontain.finding.ttl_s == $SF_TTL and .ircontain.finding.severity == \"critical\" and .event.outcome == \"success\""
check "SYN flood to one port is no port scan" \
	eq "$(evq ".event.action == \"portscan_detected\" and .source.ip == \"10.77.4.2\"" | wc -l)" 0
check "host 2 still unaffected" ping4 2
# Both scans of host 3 are over, and a later finding has been written.
check "allowlisted host 3: no finding at all" \
	eq "$(evq ".event.kind == \"alert\" and .source.ip == \"10.77.3.2\"" | wc -l)" 0
check "allowlisted host 3: still no entry" no_entry 10.77.3.2

kill -TERM "$DPID" 2>/dev/null
check "daemon: exits on SIGTERM" wait_for 3 sh -c "! kill -0 $DPID"
check_rc "unload" 0 irc unload
