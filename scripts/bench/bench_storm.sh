#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Loss under a connect storm: not a test, it prints a table.
#
# In a lab of its own (tests/e2e/lib.sh: private namespaces, cgroup, pin
# and state dirs, all removed at exit), with the default ring and the
# daemon's default options, tests/e2e/helpers/irc_connstorm makes real TCP
# connects from the protected host, in the test cgroup, at each target rate
# in turn, STEP_S seconds a step.  By default (MODE=filtered) each goes to a
# host that never answers, a link of the protected netns whose other end is
# down, and is given up at once: one failed connect event each (SYN_SENT,
# then CLOSE), as a scanner's SYN to a filtered port makes, and the cheapest
# storm for the machine: no loopback softirq work on either end.
# MODE=refused connects to a bound port on loopback that does not listen
# (a SYN and an RST through loopback each: the kernel's cost per connect
# held that storm near 40,000 a second here); MODE=accept to a listener (a
# connect and an accept event each).  For each step: the connects made and the storm's own CPU,
# the events the daemon read per second, what the kernel lost (ring full),
# what the store's queue lost, and the daemon's CPU (utime+stime of its
# threads over the step, from /proc) as a share of one core, split into
# the reader (ring, JSON, events file) and the store's writer thread, and
# per event read.  The last lines name the first rate at which anything
# was lost, or say none was up to the highest rate reached.
#
#   sudo scripts/bench/bench_storm.sh [EVENT_RATES...]   (default 10000 20000 ... 70000)
#   STEP_S=5 THREADS=4 NICE=-10 MODE=filtered|refused|accept IRC_BIN=build/asan/ircontain ... to change them
#   PERF=FILE records the daemon with perf (call graphs) for the whole run.
set -uo pipefail

RATES=("$@")
((${#RATES[@]})) || RATES=(10000 20000 30000 40000 50000 60000 70000)
STEP_S=${STEP_S:-5}
# The daemon as the systemd unit runs it (Nice=-10), and the storm at the
# same priority: on a 2-core machine busy with other work both would
# otherwise get a fifth of a core, and the table would measure the others.
NICE=${NICE:--10}
# The README's table was made with 4 (each thread keeps one socket in flight).
THREADS=${THREADS:-4}
MODE=${MODE:-filtered}
PERF=${PERF:-}
# The filtered storm's host: behind the link below, in the protected netns.
BLACKHOLE=10.76.0.2
case $MODE in
filtered) PER_CONNECT=1 DST=$BLACKHOLE ;;
refused) PER_CONNECT=1 DST=127.0.0.1 ;;
accept) PER_CONNECT=2 DST=127.0.0.1 ;;
*) echo "bench_storm: MODE is filtered, refused or accept, not '$MODE'" >&2; exit 2 ;;
esac

. "$(dirname "$0")/../../tests/e2e/lib.sh"
PERF_PID=
trap 'rc=$?; [[ -n $PERF_PID ]] && kill -INT "$PERF_PID" && wait "$PERF_PID"; lab_cleanup; exit $rc' EXIT

STORM=$(dirname "$IRC_BIN")/tests/helpers/irc_connstorm
EV=$IRC_TMP/events.jsonl
RUNJ=$IRCONTAIN_STATE_DIR/run.json
HZ=$(getconf CLK_TCK)

die() { echo "bench_storm: $*" >&2; exit 1; }
[[ -x $IRC_BIN ]] || die "no $IRC_BIN (make first)"
[[ -x $STORM ]] || die "no $STORM (make tests first)"

# CPU ms of one task (/proc/PID/task/TID/stat: utime + stime).
task_ms() { awk -v hz="$HZ" '{ sub(/^.*\) /, ""); print int(($12 + $13) * 1000 / hz) }' "$1" 2>/dev/null || echo 0; }
# "reader writer" CPU ms of the daemon: the main thread reads the ring;
# every other thread (the store's writer) is counted as the writer.
daemon_ms() {
	local r=0 w=0 t
	for t in /proc/"$DPID"/task/*; do
		if [[ ${t##*/} == "$DPID" ]]; then r=$(task_ms "$t/stat")
		else w=$((w + $(task_ms "$t/stat"))); fi
	done
	echo "$r $w"
}
now_ms() { echo $((${EPOCHREALTIME/./} / 1000)); }
rj() { jq -r ".$1 // 0" "$RUNJ"; }
klost() { irc --json status | jq -r '.events.lost'; }
pct() { awk -v c="$1" -v ms="$2" 'BEGIN { printf "%.1f", c * 100 / ms }'; }
# The daemon has read everything the kernel emitted (run.json lags 1 s).
caught_up() {
	local a b
	a=$(rj events); sleep 1.2; b=$(rj events)
	[[ $a == "$b" ]]
}

lab_up 1 >/dev/null || die "lab up failed"
irc load --iface iv1 >/dev/null 2>&1 || die "load failed"
if [[ $MODE == filtered ]]; then
	# A veth pair of the lab's own netns (gone with it), the far end down:
	# every SYN is dropped as it leaves.  A fixed neighbour: no ARP.
	in_p ip link add irsb0 type veth peer name irsb1 &&
		in_p ip addr add "${BLACKHOLE%.*}.1/24" dev irsb0 &&
		in_p ip link set irsb0 up &&
		in_p ip neigh add "$BLACKHOLE" lladdr 02:00:00:00:76:02 dev irsb0 nud permanent ||
		die "no link to the filtered host"
fi
bg nice -n "$NICE" nsenter --net="/run/netns/$IRC_NS_P" "$IRC_BIN" run --events-file "$EV" 2>"$IRC_TMP/daemon.err"
DPID=$!
wait_for 5 sh -c "[ \"\$(jq -r .pid '$RUNJ' 2>/dev/null)\" = $DPID ]" || die "daemon did not start"
sleep 1.2
if [[ -n $PERF ]]; then
	perf record -q -g -o "$PERF" -p "$DPID" 2>/dev/null &
	PERF_PID=$!
fi

echo "## bench_storm ($(nproc) CPUs, kernel $(uname -r), $(basename "$IRC_BIN"), default ring, nice $NICE, ${STEP_S} s a step, $THREADS connect threads, connects $MODE: $PER_CONNECT event(s) each)"
echo
echo "| target events/s | connects made | connects/s | storm CPU | events read/s | kernel lost | queue lost | daemon CPU (% of a core) | reader / writer | daemon CPU per event | load avg |"
echo "|---|---|---|---|---|---|---|---|---|---|---|"
FIRST_LOSS= TOP=0 CLEAN=0
for r in "${RATES[@]}"; do
	k0=$(klost) q0=$(rj queue_lost) e0=$(rj events) t0=$(now_ms)
	read -r r0 w0 <<<"$(daemon_ms)"
	out=$(cg_run storm nice -n "$NICE" nsenter --net="/run/netns/$IRC_NS_P" "$STORM" "$DST" \
		$((r / PER_CONNECT)) "$STEP_S" "$THREADS" "$MODE")
	t1=$(now_ms)
	read -r r1 w1 <<<"$(daemon_ms)"
	wait_for 15 caught_up
	k1=$(klost) q1=$(rj queue_lost) e1=$(rj events)
	# Per event: all the CPU the step's events cost, the catching up included.
	read -r r2 w2 <<<"$(daemon_ms)"
	read -r _ made _ failed _ secs _ crate _ scpu <<<"$out"
	ms=$((t1 - t0)) n=$((e1 - e0)) c=$((r1 + w1 - r0 - w0))
	kl=$((k1 - k0)) ql=$((q1 - q0))
	read_rate=$(awk -v n="$n" -v ms="$ms" 'BEGIN { printf "%.0f", n * 1000 / ms }')
	printf '| %s | %s (%s failed) | %s | %s%% | %s | %s | %s | %s%% | %s%% / %s%% | %s us | %s |\n' \
		"$r" "${made:-?}" "${failed:-?}" "${crate:-?}" "$(pct "${scpu:-0}" "$ms")" \
		"$read_rate" "$kl" "$ql" "$(pct "$c" "$ms")" "$(pct $((r1 - r0)) "$ms")" \
		"$(pct $((w1 - w0)) "$ms")" \
		"$(awk -v c=$((r2 + w2 - r0 - w0)) -v n="$n" 'BEGIN { printf "%.1f", n ? c * 1000 / n : 0 }')" \
		"$(cut -d' ' -f1 /proc/loadavg)"
	if ((kl + ql > 0)); then
		[[ -n $FIRST_LOSS ]] || FIRST_LOSS=$r
	elif [[ -z $FIRST_LOSS ]] && ((read_rate > CLEAN)); then
		CLEAN=$read_rate
	fi
	((read_rate > TOP)) && TOP=$read_rate
done
kill -TERM "$DPID"
wait "$DPID"
echo
if [[ -n $FIRST_LOSS ]]; then
	echo "loss starts at a target of $FIRST_LOSS events/s; none below it (up to $CLEAN events/s read)"
else
	echo "no loss at any step: up to $CLEAN events/s read (targets up to ${RATES[-1]}/s)"
fi
echo "store: $(jq -r '"\(.stored) records stored, \(.store_skipped) ordinary events in the events file only, \(.store_errors) store errors, queue high-water \(.queue_max)"' "$RUNJ")"
