#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# The `run` daemon's life: how it starts, reloads and stops.
#
#   - not loaded and no --iface: exit 1, telling to load first; bad usage
#     (unknown option, missing --policy file, unknown interface, operand)
#     exits 2; none of these loads anything;
#   - `run --iface iv1 --iface iv2 --policy FILE` loads, then serves;
#   - a host quarantine and a process quarantine, listed and enforced;
#     SIGHUP with the policy file changed: the reload is logged and applied
#     (its allowlist entry appears), the daemon keeps running and writing
#     events, both quarantines are still listed and enforced; an invalid
#     policy, or a missing one, is refused and changes nothing;
#   - SIGTERM and SIGINT: exit 0 within a second (measured), run.json says
#     the daemon is gone, and the quarantines outlive it.
. "$(dirname "$0")/lib.sh"
need_tools python3

PY=/usr/bin/python3
H1=10.77.1.2 H2=10.77.2.2 PORT=7621
POL=$IRC_TMP/policy.yaml
EV=$IRC_TMP/events.jsonl
RUNJ=$IRCONTAIN_STATE_DIR/run.json

# One process that makes a new TCP connect on each SIGUSR1 and prints
# "connect ok" or "connect ERRNO" (bounded: 40 s, 2 s per connect).
cat >"$IRC_TMP/loop.py" <<'EOF'
import errno, os, signal, socket, sys, time

host, port, maxs = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGUSR1})
print("ready %d" % os.getpid(), flush=True)
end = time.monotonic() + maxs
while time.monotonic() < end:
    if signal.sigtimedwait({signal.SIGUSR1}, end - time.monotonic()) is None:
        break
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            s.settimeout(2)
            s.connect((host, port))
        print("connect ok", flush=True)
    except OSError as e:
        print("connect %s" % errno.errorcode.get(e.errno, str(e.errno)), flush=True)
EOF

conn_gt() { (($(grep -c '^connect' "$1") > $2)); }
# try_loop PID OUT: the result of one more connect by the loop process.
try_loop() {
	local n
	n=$(grep -c '^connect' "$2")
	kill -USR1 "$1" 2>/dev/null || { echo dead; return; }
	# Counted on each try: no new line in time is "timeout", not the last one.
	wait_for 4 conn_gt "$2" "$n" || { echo timeout; return; }
	grep '^connect' "$2" | tail -1 | cut -d' ' -f2
}
# one_connect: a fresh process in the same cgroup (not quarantined).
one_connect() {
	cg_run app ip netns exec "$IRC_NS_P" timeout 3 socat -T1 /dev/null "TCP4:$H1:$PORT,connect-timeout=2"
}
# daemon_ready PID: run.json names it.
daemon_ready() { [[ $(jq -r .pid "$RUNJ" 2>/dev/null) == "$1" ]]; }
alive() { [[ -d /proc/$1 && $(awk '{ print $3 }' "/proc/$1/stat") != Z ]]; }
# stop_daemon PID SIGNAL: sends it and waits; RC its exit status, MS how
# long that took.
stop_daemon() {
	local t0=$EPOCHREALTIME
	kill "-$2" "$1"
	wait "$1"; RC=$?
	MS=$(((${EPOCHREALTIME/./} - ${t0/./}) / 1000))
}
both_listed() {
	ircq "([.entries[] | select(.kind == \"host\" and .target == \"$H2\")] | length == 1) and
	      ([.entries[] | select(.kind == \"pid\" and .target == \"$QP\")] | length == 1)" list
}

lab_up 2 || { not_ok "lab up"; exit 1; }
[[ -x $PY ]] || { not_ok "need $PY"; exit 1; }
cat >"$POL" <<'EOF'
# test policy, version 1: monitor mode, no allowlist
mode: monitor
allowlist: []
EOF

# ---- refusals, before anything is loaded ---------------------------------------

check_rc "run, not loaded, no --iface: exit 1" 1 irc run --events-file "$EV"
cp "$IRC_TMP/out" "$IRC_TMP/notloaded.err"
check "run, not loaded: says to load first" grep -qi "not loaded.*load" "$IRC_TMP/notloaded.err"
check_rc "run --bogus: exit 2" 2 irc run --bogus
check_rc "run --policy MISSING: exit 2" 2 irc run --iface iv1 --policy "$IRC_TMP/missing.yaml"
cp "$IRC_TMP/out" "$IRC_TMP/missing.err"
check "run --policy MISSING: names the file" grep -q "missing.yaml" "$IRC_TMP/missing.err"
check_rc "run --iface nosuch0: exit 2" 2 irc run --iface nosuch0
check_rc "run with an operand: exit 2" 2 irc run extra
check_rc "run --events-file without a value: exit 2" 2 irc run --events-file
check "none of these loaded anything" ircq '.loaded == false' status
check "none of these started a daemon (no run.json)" test ! -e "$RUNJ"

# ---- run --iface loads ------------------------------------------------------------

bg nsenter --net="/run/netns/$IRC_NS_P" "$IRC_BIN" run --iface iv1 --iface iv2 \
	--policy "$POL" --events-file "$EV" 2>"$IRC_TMP/daemon.err"
DPID=$!
check "run --iface iv1 --iface iv2 --policy: ready" wait_for 10 daemon_ready "$DPID"
check "run: says it loaded on 2 interfaces" grep -q "loaded on 2 interfaces" "$IRC_TMP/daemon.err"
check "status: loaded, attached to iv1 and iv2, daemon $DPID" \
	ircq ".loaded and ([.interfaces[] | select(.xdp_attached) | .name] | sort == [\"iv1\", \"iv2\"]) and .events.daemon.pid == $DPID" status
check "status: process hooks at the test cgroup" \
	ircq ".process_hooks.cgroup_root == \"$IRC_CG\" and .process_hooks.links > 0" status

# ---- quarantines, before the reload ---------------------------------------------

bg ip netns exec "${IRC_NS_PFX}h1" socat "TCP4-LISTEN:$PORT,fork,reuseaddr" EXEC:cat
wait_for 5 in_h 1 sh -c "ss -Htln sport = :$PORT | grep -q ." || not_ok "server on $H1:$PORT"
mkdir -p "$IRC_CG/app"
bash -c 'echo $$ > "$0/cgroup.procs" && exec "$@"' "$IRC_CG/app" \
	ip netns exec "$IRC_NS_P" "$PY" "$IRC_TMP/loop.py" "$H1" "$PORT" 40 >"$IRC_TMP/loop.out" 2>&1 &
QP=$!
IRC_PIDS+=("$QP")
check "loop process ready" wait_for 5 grep -qx "ready $QP" "$IRC_TMP/loop.out"
check "before: host 2 answers a ping" ping4 2
check "before: the loop process connects" eq "$(try_loop "$QP" "$IRC_TMP/loop.out")" ok
check_rc "quarantine host $H2" 0 irc quarantine host "$H2" --reason "events daemon"
check_rc "quarantine pid $QP" 0 irc quarantine pid "$QP" --reason "events daemon"
check "list: both quarantines" both_listed
check_fail "enforced: host 2's ping is dropped" ping4 2
check "enforced: the quarantined process's connect: EPERM" eq "$(try_loop "$QP" "$IRC_TMP/loop.out")" EPERM
check "not over-enforced: another process in its cgroup connects" one_connect
check "allowlist empty (policy v1)" ircq '.entries | length == 0' allow list

# ---- SIGHUP with a changed policy ---------------------------------------------------

cat >"$POL" <<'EOF'
# test policy, version 2: one allowlist entry, another portscan threshold
mode: monitor
allowlist:
  - 192.0.2.10
detectors:
  portscan:
    enabled: true
    ports: 30
EOF
kill -HUP "$DPID"
check "SIGHUP: the reload is logged" \
	wait_for 3 grep -qF "policy $POL reloaded; quarantines unchanged" "$IRC_TMP/daemon.err"
check "SIGHUP: run.json counts 1 reload" wait_for 3 jqx '.reloads == 1' "$RUNJ"
check "SIGHUP: the daemon keeps running" alive "$DPID"
check "SIGHUP: the new policy applied (192.0.2.10 on the allowlist)" \
	ircq '[.entries[] | select(.target | startswith("192.0.2.10"))] | length == 1' allow list
check "after SIGHUP: both quarantines listed" both_listed
check_fail "after SIGHUP: host 2's ping still dropped" ping4 2
check "after SIGHUP: the quarantined process's connect still EPERM" \
	eq "$(try_loop "$QP" "$IRC_TMP/loop.out")" EPERM
check "after SIGHUP: another process in its cgroup still connects" one_connect
cg_run app /bin/echo after-reload >/dev/null
check "after SIGHUP: events still written" wait_for 5 grep -q '"args":\["/bin/echo","after-reload"\]' "$EV"

# An invalid policy: refused whole, nothing changes.
echo "mode: bogus" >"$POL"
kill -HUP "$DPID"
check "SIGHUP, invalid policy: refused, the previous one stays" \
	wait_for 3 grep -q "refused whole" "$IRC_TMP/daemon.err"
check "SIGHUP, invalid policy: still running" alive "$DPID"
check "SIGHUP, invalid policy: allowlist unchanged" \
	ircq '[.entries[] | select(.target | startswith("192.0.2.10"))] | length == 1' allow list
check "SIGHUP, invalid policy: both quarantines listed" both_listed
check_fail "SIGHUP, invalid policy: host 2 still dropped" ping4 2
# The policy file gone.
rm -f "$POL"
nerr=$(grep -c . "$IRC_TMP/daemon.err")
kill -HUP "$DPID"
check "SIGHUP, policy file gone: an error naming it" \
	wait_for 3 sh -c "tail -n +$((nerr + 1)) '$IRC_TMP/daemon.err' | grep -q 'policy.yaml'"
check "SIGHUP, policy file gone: still running" alive "$DPID"
check "SIGHUP, policy file gone: both quarantines listed" both_listed
check "SIGHUP, policy file gone: the quarantined process still EPERM" \
	eq "$(try_loop "$QP" "$IRC_TMP/loop.out")" EPERM

# ---- SIGTERM ----------------------------------------------------------------------------

stop_daemon "$DPID" TERM
echo "# SIGTERM: exit $RC after $MS ms"
check "SIGTERM: exit 0" eq "$RC" 0
check "SIGTERM: gone within 1 s ($MS ms)" test "$MS" -lt 1000
check "SIGTERM: says goodbye with its totals" grep -q "run: exiting: [0-9]* events" "$IRC_TMP/daemon.err"
check "SIGTERM: run.json pid 0" jqx '.pid == 0' "$RUNJ"
check "status: no daemon" ircq '.events.daemon.pid == 0' status
check "quarantines outlive the daemon: both listed" both_listed
check_fail "quarantines outlive the daemon: host 2 dropped" ping4 2
check "quarantines outlive the daemon: the process still EPERM" \
	eq "$(try_loop "$QP" "$IRC_TMP/loop.out")" EPERM
check "events file: every line a JSON object" \
	eq "$(jq -c 'type == "object"' "$EV" | grep -c true)" "$(wc -l <"$EV")"

# ---- SIGINT (loaded already: no --iface needed) -----------------------------------------

bg nsenter --net="/run/netns/$IRC_NS_P" "$IRC_BIN" run --events-file "$EV" 2>"$IRC_TMP/daemon2.err"
DPID2=$!
check "second daemon (no --iface, module loaded): ready" wait_for 5 daemon_ready "$DPID2"
check "second daemon: loaded nothing itself" test "$(grep -c "loaded on" "$IRC_TMP/daemon2.err")" -eq 0
stop_daemon "$DPID2" INT
echo "# SIGINT: exit $RC after $MS ms"
check "SIGINT: exit 0" eq "$RC" 0
check "SIGINT: gone within 1 s ($MS ms)" test "$MS" -lt 1000
check "SIGINT: run.json pid 0" jqx '.pid == 0' "$RUNJ"

# A policy refused at start: the daemon does not start.
echo "mode: bogus" >"$IRC_TMP/bad.yaml"
check_fail "run --policy INVALID: fails" timeout 5 nsenter --net="/run/netns/$IRC_NS_P" "$IRC_BIN" \
	run --policy "$IRC_TMP/bad.yaml" --events-file "$EV"
cp "$IRC_TMP/out" "$IRC_TMP/bad.err"
check "run --policy INVALID: says why, with the line" grep -q "bad.yaml:1:" "$IRC_TMP/bad.err"
check "both quarantines still listed at the end" both_listed
