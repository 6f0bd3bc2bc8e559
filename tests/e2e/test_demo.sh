#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# The demo (scripts/demo.sh, `sudo make demo`): run whole, non-interactively
# and within 150 s, every step passes: the port scanner is quarantined by the
# kernel, the reverse shell is stopped and killed, the admin's session survives
# isolation, the evidence is shown; nothing is left behind and the host's own
# interfaces are never touched.  Interrupted with a Ctrl-C (SIGINT to its
# process group) after ~8 s, or with a SIGTERM while the host is isolated, it
# cleans up just the same.
. "$(dirname "$0")/lib.sh"
need_tools tc tcpdump

DEMO=$IRC_ROOT/scripts/demo.sh
export IRC_BIN DEMO_NONINTERACTIVE=1
DEMO_PID=

# A demo still running when the test ends is stopped the way a user would
# (SIGTERM: its own cleanup runs), never SIGKILLed (that would leak its lab).
demo_stop() {
	local i
	[[ -n $DEMO_PID ]] && kill -0 "$DEMO_PID" 2>/dev/null || return 0
	kill -TERM "$DEMO_PID" 2>/dev/null
	for ((i = 0; i < 300; i++)); do
		kill -0 "$DEMO_PID" 2>/dev/null || break
		sleep 0.1
	done
	wait "$DEMO_PID" 2>/dev/null
}
demo_finish() {
	local rc=$?
	demo_stop
	(exit $rc)
	lab_finish
}
trap demo_finish EXIT

# demo_id FILE: the demo's lab name (ircdemo<PID>) from its first lines.
demo_id() {
	sed -n 's/^lab \(ircdemo[0-9]*\): .*/\1/p' "$1" | head -1
}

# nothing_left ID: no namespace, interface, pin, cgroup, process or
# temporary directory of demo ID remains; says what does.
nothing_left() {
	local id=$1 left=() p
	[[ -n $id ]] || { echo "no lab id in the output"; return 1; }
	ip netns list | grep -q "^$id-" && left+=("namespaces: $(ip netns list | grep "^$id-" | tr '\n' ' ')")
	ip -o link show | grep -q ircdemo && left+=("interfaces in the host namespace")
	[[ -e /sys/fs/bpf/$id ]] && left+=("pins /sys/fs/bpf/$id")
	[[ -e $IRC_CG2/$id ]] && left+=("cgroup $IRC_CG2/$id")
	for p in /proc/[0-9]*; do
		tr '\0' '\n' <"$p/environ" 2>/dev/null | grep -qxF "IRCDEMO_ID=$id" &&
			left+=("process ${p#/proc/} ($(cat "$p/comm" 2>/dev/null))")
	done
	for p in /tmp/ircdemo.*; do
		[[ -e $p ]] || continue
		# Only ours: created after this test started.
		[[ $p -nt $IRC_TMP ]] && left+=("temporary directory $p")
	done
	((${#left[@]} == 0)) && return 0
	printf '%s\n' "${left[@]}"
	return 1
}

# in_output NAME PATTERN: the demo's output has a line matching PATTERN.
in_output() {
	if grep -qE -- "$2" "$OUT"; then ok "$1"; else
		not_ok "$1 (no line matching '$2')"; fi
}

show_output() { sed 's/^/#   /' "$1" | tail -n "${2:-60}"; }

# The host's own interfaces: names, XDP programs and egress filters.
host_ifaces() {
	local i
	ip -o link show | sed 's/^[0-9]*: //; s/ state .*//' | sort
	for i in $(ip -o link show | awk -F': ' '{ sub(/@.*/, "", $2); print $2 }'); do
		echo "$i: $(tc filter show dev "$i" egress 2>/dev/null | tr '\n' ' ')"
	done
}

if [[ ! -x $IRC_BIN ]]; then
	not_ok "binary $IRC_BIN built"
	exit 1
fi
if ip netns list | grep -q '^ircdemo'; then
	echo "# note: namespaces of an earlier demo exist: $(ip netns list | grep '^ircdemo' | tr '\n' ' ')"
fi

# ---- the whole demo ------------------------------------------------------

OUT=$IRC_TMP/demo.out
host_ifaces >"$IRC_TMP/ifaces.before"
# The host's interfaces, sampled while the demo runs.
(
	while :; do ip -o link show; sleep 0.5; done
) >"$IRC_TMP/ifaces.during" 2>/dev/null &
SAMPLER=$!
IRC_PIDS+=("$SAMPLER")

t0=$SECONDS
export IRC_DEMO_OUT=$IRC_TMP/evidence
timeout -k 10 150 "$DEMO" </dev/null >"$OUT" 2>&1
rc=$?
took=$((SECONDS - t0))
kill "$SAMPLER" 2>/dev/null
wait "$SAMPLER" 2>/dev/null
host_ifaces >"$IRC_TMP/ifaces.after"
echo "# demo: exit $rc in ${took}s"

if ((rc == 0)); then ok "demo exits 0"; else
	not_ok "demo exits 0 (exit $rc)"; show_output "$OUT"; fi
if ((took < 120)); then ok "demo takes under two minutes (${took}s)"; else
	not_ok "demo takes under two minutes (${took}s)"; fi
for s in 1 2 3 4 5 6; do
	in_output "heading of step $s" "^== $s\. .* ==$"
done
in_output "step 1: ircontain loaded on the lab interfaces only" \
	'^ +ok - loaded on the lab-side interfaces only: ircdemo-'
in_output "step 1: policy applied in enforce mode" '^ +ok - policy applied \(enforce'
in_output "step 1: controller running" '^ +ok - controller running'
in_output "step 2: client traffic flows" '^ +ok - client .* talks TCP'
in_output "step 2: admin session opened" '^ +ok - admin .* opened a long-lived TCP session'
in_output "step 3: scanner quarantined by the kernel" \
	'^ +ok - attacker .* quarantined by the kernel \(actor detector:portscan\)'
in_output "step 3: scanner's next ping fails" "^ +ok - attacker's next ping fails"
in_output "step 3: client unaffected" '^ +ok - client .* still pings and talks TCP'
in_output "step 3: portscan finding logged" '^ +ok - controller logged a portscan_detected finding'
in_output "step 4: reverse shell stopped, then killed (exit 137)" \
	'^ +ok - reverse shell stopped by the kernel, then killed \(exit 137\)'
in_output "step 4: reverse_shell_detected finding, enforced" \
	'^ +ok - controller logged reverse_shell_detected, action contain-then-kill, enforced'
in_output "step 4: the attacker got no shell" '^ +ok - the attacker got no shell'
in_output "step 5: admin session alive under isolation" \
	"^ +ok - admin's session, opened before, is alive under isolation"
in_output "step 5: the same TCP connection" '^ +ok - same TCP connection'
in_output "step 5: client cut off" '^ +ok - client .* is cut off: TCP fails'
in_output "step 5: client back after isolate off" '^ +ok - client .* is back: TCP'
in_output "step 6: findings shown" '^ +ok - finding: reverse shell'
in_output "step 6: drop samples shown" '^ +ok - [0-9]+ drop samples'
in_output "step 3: the detector opened an incident, contained" \
	'^ +ok - the finding opened incident "Port scan from .*", contained, by the detector'
in_output "step 4: the detector opened a reverse-shell incident, contained" \
	'^ +ok - the finding opened a reverse-shell incident, contained'
in_output "step 6: incident closed with its record" '^ +ok - incident [0-9]+ closed, every step on its record'
in_output "step 6: bundle exported" '^ +ok - incident [0-9]+ exported: '
in_output "step 6: bundle verified" '^ +ok - bundle verified'
in_output "step 6: store verified" '^ +ok - evidence store verified'
in_output "report.html path printed" "^report.html: $IRC_DEMO_OUT/ircontain-incident-[0-9]+/report.html"
# The demo's word is not taken for it: the bundles are checked here too.
bundles=("$IRC_DEMO_OUT"/incident-*.tar.gz)
check "two bundles left for the investigators (${#bundles[@]})" test "${#bundles[@]}" -eq 2
for b in "${bundles[@]}"; do
	check "$(basename "$b") verifies with the key the demo left" \
		"$IRC_BIN" verify "$b" --pubkey "$(cat "$IRC_DEMO_OUT/signing.pub")"
done
pcap_from() { tcpdump -nr "$1" 2>/dev/null | grep -c "$2"; }
scan_dir=$(grep -l 'Port scan' "$IRC_DEMO_OUT"/ircontain-incident-*/report.html | head -1)
check "the port-scan bundle holds the attacker's dropped packets" \
	gt "$(pcap_from "$(dirname "$scan_dir")/packets.pcap" 10.99.1.2)" 0
report=$(sed -n 's/^report.html: \([^ ]*\) .*/\1/p' "$OUT")
check "report.html is there and names the reverse shell" grep -q "Reverse shell" "$report"
check_fail "no FAILED line" grep -n FAILED "$OUT"
in_output "summary: all 6 steps passed" '^demo: all 6 steps passed in'
in_output "cleanup reported" '^cleanup: .* removed$'
ID=$(demo_id "$OUT")
check "nothing left behind after the demo ($ID)" nothing_left "$ID"
check_fail "no ircdemo interface ever in the host namespace" grep ircdemo "$IRC_TMP/ifaces.during"
check "host interfaces, XDP and tc filters unchanged" \
	diff "$IRC_TMP/ifaces.before" "$IRC_TMP/ifaces.after"

# ---- Ctrl-C after ~8 s -----------------------------------------------------

# demo_bg FILE: the demo in the background, in a session of its own (its
# PID is its process group: a Ctrl-C reaches the whole group), with SIGINT
# as a terminal would leave it: a background command of a script starts with
# SIGINT ignored, and a shell cannot trap a signal ignored on entry.
demo_bg() {
	env --default-signal=INT setsid "$DEMO" </dev/null >"$1" 2>&1 &
	DEMO_PID=$!
}
# demo_wait SECONDS: waits for the demo to end; sets DEMO_RC (-1: still running).
demo_wait() {
	local i
	DEMO_RC=-1
	for ((i = 0; i < $1 * 10; i++)); do
		kill -0 "$DEMO_PID" 2>/dev/null || break
		sleep 0.1
	done
	kill -0 "$DEMO_PID" 2>/dev/null && return 1
	wait "$DEMO_PID"
	DEMO_RC=$?
	DEMO_PID=
}

OUT=$IRC_TMP/demo-int.out
demo_bg "$OUT"
sleep 8
ID=$(demo_id "$OUT")
check "lab up when interrupted (${ID:-no id}, $(grep -o '^== [0-9]' "$OUT" | tail -1))" \
	sh -c "ip netns list | grep -q '^$ID-host'"
kill -INT -- "-$DEMO_PID"
demo_wait 30
if ((DEMO_RC == 130)); then ok "SIGINT: demo exits 130"; else
	not_ok "SIGINT: demo exits 130 (exit $DEMO_RC)"; show_output "$OUT" 20; fi
in_output "SIGINT: says it was interrupted" '^interrupted during step [0-9]: cleaning up'
in_output "SIGINT: cleanup reported" '^cleanup: .* removed$'
check "SIGINT: nothing left behind ($ID)" nothing_left "$ID"

# ---- SIGTERM while the host is isolated --------------------------------------

OUT=$IRC_TMP/demo-term.out
demo_bg "$OUT"
wait_for 90 grep -q '^   ok - isolate on' "$OUT"
ID=$(demo_id "$OUT")
check "isolated when terminated ($ID)" \
	sh -c "nsenter --net=/run/netns/$ID-host '$IRC_BIN' --pin-dir /sys/fs/bpf/$ID --json isolate status | jq -e .enabled"
kill -TERM "$DEMO_PID"
demo_wait 30
if ((DEMO_RC == 143)); then ok "SIGTERM: demo exits 143"; else
	not_ok "SIGTERM: demo exits 143 (exit $DEMO_RC)"; show_output "$OUT" 20; fi
in_output "SIGTERM: says it was interrupted" '^interrupted during step 5: cleaning up'
check "SIGTERM: nothing left behind ($ID)" nothing_left "$ID"
