#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# The `run` daemon under load: not a test, it prints a table.
#
# In a lab of its own (tests/e2e/lib.sh: private namespaces, cgroup, pin
# and state dirs, all removed at exit), with the default ring, the daemon
# is started and then, one after the other:
#   - an exec storm: EXECS runs of /bin/true from 2 parallel loops;
#   - a connect storm: CONNECTS TCP connects from the protected host to a
#     test host (each gives a connect and an accept event);
# both bounded in time.  Printed: events read per second, records lost,
# gaps, the daemon's RSS at start and its peak (VmHWM), its CPU time, and
# the process table's bound (IRC_PT_MAX entries of struct irc_pt_entry).
# Ends by itself within about 90 s.
#
#   sudo scripts/bench/bench_daemon.sh [EXECS [CONNECTS]]
#   IRC_BIN=build/asan/ircontain ... for another build
set -uo pipefail

EXECS=${1:-20000}
CONNECTS=${2:-5000}
STORM_MAX_S=25	# each storm ends after this many seconds, done or not

. "$(dirname "$0")/../../tests/e2e/lib.sh"
# The lab's cleanup, without the test summary line.
trap 'rc=$?; lab_cleanup; exit $rc' EXIT

PY=/usr/bin/python3
EV=$IRC_TMP/events.jsonl
RUNJ=$IRCONTAIN_STATE_DIR/run.json
H1=10.77.1.2 PORT=7631

die() { echo "bench_daemon: $*" >&2; exit 1; }
[[ -x $IRC_BIN ]] || die "no $IRC_BIN (make first)"
[[ -x $PY ]] || die "needs $PY"

# "KEY" of /proc/PID/status in kB.
vm() { awk -v k="$2:" '$1 == k { print $2 }' "/proc/$1/status"; }
# utime + stime of PID in ms.
cpu_ms() { awk -v hz="$(getconf CLK_TCK)" '{ print int(($14 + $15) * 1000 / hz) }' "/proc/$1/stat"; }
run_events() { jq -r .events "$RUNJ"; }
now_ms() { echo $((${EPOCHREALTIME/./} / 1000)); }

# The process table's bound, from the header the daemon was built with.
cat >"$IRC_TMP/ptsize.c" <<'EOF'
#include <stdio.h>
#include "ptable.h"
int main(void)
{
	printf("%d %zu\n", IRC_PT_MAX, sizeof(struct irc_pt_entry));
	return 0;
}
EOF
read -r PT_MAX PT_ENTRY < <(cc -I"$IRC_ROOT/userspace/controller" -o "$IRC_TMP/ptsize" "$IRC_TMP/ptsize.c" &&
	"$IRC_TMP/ptsize")
[[ -n ${PT_ENTRY:-} ]] || die "cannot compile against userspace/controller/ptable.h"

lab_up 1 >/dev/null || die "lab up failed"
irc load --iface iv1 >/dev/null 2>&1 || die "load failed"
bg nsenter --net="/run/netns/$IRC_NS_P" "$IRC_BIN" run --events-file "$EV" 2>"$IRC_TMP/daemon.err"
DPID=$!
wait_for 5 sh -c "[ \"\$(jq -r .pid '$RUNJ' 2>/dev/null)\" = $DPID ]" || die "daemon did not start"
sleep 1.2
RSS0=$(vm "$DPID" VmRSS) HWM0=$(vm "$DPID" VmHWM)

# ---- exec storm: 2 loops --------------------------------------------------------

ev0=$(run_events) cpu0=$(cpu_ms "$DPID") t0=$(now_ms)
for l in 1 2; do
	bg cg_run storm bash -c 'n=0; end=$((SECONDS + $2))
		while ((n < $1 && SECONDS < end)); do /bin/true; n=$((n + 1)); done
		echo $n >"$0"' "$IRC_TMP/loop$l" $((EXECS / 2)) "$STORM_MAX_S"
done
wait_for $((STORM_MAX_S + 5)) test -s "$IRC_TMP/loop1" -a -s "$IRC_TMP/loop2"
t1=$(now_ms)
sleep 1.5	# the daemon catches up, run.json is rewritten
ev1=$(run_events) cpu1=$(cpu_ms "$DPID")
EXEC_DONE=$(($(cat "$IRC_TMP/loop1" 2>/dev/null || echo 0) + $(cat "$IRC_TMP/loop2" 2>/dev/null || echo 0)))
EXEC_MS=$((t1 - t0)) EXEC_EV=$((ev1 - ev0)) EXEC_CPU=$((cpu1 - cpu0))

# ---- connect storm --------------------------------------------------------------

cat >"$IRC_TMP/srv.py" <<'EOF'
import socket, sys, time
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("0.0.0.0", int(sys.argv[1])))
s.listen(512)
s.settimeout(1)
end = time.monotonic() + float(sys.argv[2])
while time.monotonic() < end:
    try:
        c, _ = s.accept()
        c.close()
    except socket.timeout:
        pass
EOF
cat >"$IRC_TMP/cli.py" <<'EOF'
import socket, sys, time
host, port, n, maxs = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4])
end, ok = time.monotonic() + maxs, 0
for i in range(n):
    if time.monotonic() > end:
        break
    try:
        with socket.create_connection((host, port), timeout=2):
            ok += 1
    except OSError:
        pass
print(ok)
EOF
bg ip netns exec "${IRC_NS_PFX}h1" "$PY" "$IRC_TMP/srv.py" "$PORT" $((STORM_MAX_S + 10))
wait_for 5 in_h 1 sh -c "ss -Htln sport = :$PORT | grep -q ." || die "server did not start"
ev2=$(run_events) cpu2=$(cpu_ms "$DPID") t2=$(now_ms)
CONN_DONE=$(cg_run storm ip netns exec "$IRC_NS_P" "$PY" "$IRC_TMP/cli.py" "$H1" "$PORT" \
	"$CONNECTS" "$STORM_MAX_S")
t3=$(now_ms)
sleep 1.5
ev3=$(run_events) cpu3=$(cpu_ms "$DPID")
CONN_MS=$((t3 - t2)) CONN_EV=$((ev3 - ev2)) CONN_CPU=$((cpu3 - cpu2))

RSS1=$(vm "$DPID" VmRSS) HWM1=$(vm "$DPID" VmHWM)
STATUS=$(irc --json status)
kill -TERM "$DPID"
wait "$DPID"
LOST=$(jq -r .events.lost <<<"$STATUS")
UNSAMPLED=$(jq -r .events.unsampled <<<"$STATUS")
read -r GAPS MISSING EVENTS < <(jq -r '"\(.gaps) \(.missing) \(.events)"' "$RUNJ")

rate() { awk -v n="$1" -v ms="$2" 'BEGIN { printf "%.0f", (ms > 0 ? n * 1000 / ms : 0) }'; }
mib() { awk -v k="$1" 'BEGIN { printf "%.1f MiB", k / 1024 }'; }

echo "## bench_daemon ($(nproc) CPUs, kernel $(uname -r), $(basename "$IRC_BIN"))"
echo
echo "| measure | value |"
echo "|---|---|"
echo "| exec storm | $EXEC_DONE of $EXECS /bin/true in $EXEC_MS ms, 2 loops |"
echo "| exec storm: events read | $EXEC_EV ($(rate "$EXEC_EV" "$EXEC_MS")/s), daemon CPU $EXEC_CPU ms |"
echo "| connect storm | $CONN_DONE of $CONNECTS connects in $CONN_MS ms |"
echo "| connect storm: events read | $CONN_EV ($(rate "$CONN_EV" "$CONN_MS")/s), daemon CPU $CONN_CPU ms |"
echo "| events read in all | $EVENTS |"
echo "| records lost (kernel, ring full) | $LOST |"
echo "| gaps (markers) / records they account for | $GAPS / $MISSING |"
echo "| not sampled (rate limit) | $UNSAMPLED |"
echo "| RSS at start (VmRSS) | $RSS0 kB ($(mib "$RSS0")) |"
echo "| RSS at end (VmRSS) | $RSS1 kB ($(mib "$RSS1")) |"
echo "| peak RSS (VmHWM) | $HWM1 kB ($(mib "$HWM1")), $((HWM1 - HWM0)) kB above the start |"
echo "| process table bound: IRC_PT_MAX x sizeof(struct irc_pt_entry) | $PT_MAX x $PT_ENTRY B = $((PT_MAX * PT_ENTRY / 1024)) kB ($(mib $((PT_MAX * PT_ENTRY / 1024)))); allocated as 2 x that ($((2 * PT_MAX * PT_ENTRY / 1024)) kB, open addressing) |"
echo
