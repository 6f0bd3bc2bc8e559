#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Loss under a connect storm: not a test, it prints a table.
#
# In a lab of its own (tests/e2e/lib.sh: private namespaces, cgroup, pin
# and state dirs, all removed at exit), with the default ring and the
# daemon's default options, tests/e2e/helpers/irc_connstorm makes real TCP
# connects on the protected host's loopback from the test cgroup (each is
# a connect and an accept event) at each target rate in turn, STEP_S
# seconds a step.  For each step: the connects made, the events the daemon
# read per second, what the kernel lost (ring full), what the store's
# queue lost, and the daemon's CPU as a share of one core.  The last line
# names the first rate at which anything was lost, or says none was.
#
#   sudo scripts/bench/bench_storm.sh [EVENT_RATES...]   (default 10000 20000 30000 40000 50000)
#   STEP_S=5 THREADS=2 NICE=-10 IRC_BIN=build/asan/ircontain ... to change them
set -uo pipefail

RATES=("$@")
((${#RATES[@]})) || RATES=(10000 20000 30000 40000 50000)
STEP_S=${STEP_S:-5}
# The daemon as the systemd unit runs it (Nice=-10), and the storm at the
# same priority: on a 2-core machine busy with other work both would
# otherwise get a fifth of a core, and the table would measure the others.
NICE=${NICE:--10}
THREADS=${THREADS:-2}

. "$(dirname "$0")/../../tests/e2e/lib.sh"
trap 'rc=$?; lab_cleanup; exit $rc' EXIT

STORM=$(dirname "$IRC_BIN")/tests/helpers/irc_connstorm
EV=$IRC_TMP/events.jsonl
RUNJ=$IRCONTAIN_STATE_DIR/run.json

die() { echo "bench_storm: $*" >&2; exit 1; }
[[ -x $IRC_BIN ]] || die "no $IRC_BIN (make first)"
[[ -x $STORM ]] || die "no $STORM (make tests first)"

cpu_ms() { awk -v hz="$(getconf CLK_TCK)" '{ print int(($14 + $15) * 1000 / hz) }' "/proc/$1/stat"; }
now_ms() { echo $((${EPOCHREALTIME/./} / 1000)); }
rj() { jq -r ".$1 // 0" "$RUNJ"; }
klost() { irc --json status | jq -r '.events.lost'; }
# The daemon has read everything the kernel emitted (run.json lags 1 s).
caught_up() {
	local a b
	a=$(rj events); sleep 1.2; b=$(rj events)
	[[ $a == "$b" ]]
}

lab_up 1 >/dev/null || die "lab up failed"
irc load --iface iv1 >/dev/null 2>&1 || die "load failed"
bg nice -n "$NICE" nsenter --net="/run/netns/$IRC_NS_P" "$IRC_BIN" run --events-file "$EV" 2>"$IRC_TMP/daemon.err"
DPID=$!
wait_for 5 sh -c "[ \"\$(jq -r .pid '$RUNJ' 2>/dev/null)\" = $DPID ]" || die "daemon did not start"
sleep 1.2

echo "## bench_storm ($(nproc) CPUs, kernel $(uname -r), $(basename "$IRC_BIN"), default ring, nice $NICE, ${STEP_S} s a step, $THREADS connect threads)"
echo
echo "| target events/s | connects made | connects/s | events read/s | kernel lost | queue lost | daemon CPU (% of a core) | daemon CPU per event | load avg |"
echo "|---|---|---|---|---|---|---|---|---|"
FIRST_LOSS=
for r in "${RATES[@]}"; do
	k0=$(klost) q0=$(rj queue_lost) e0=$(rj events) c0=$(cpu_ms "$DPID") t0=$(now_ms)
	out=$(cg_run storm nice -n "$NICE" nsenter --net="/run/netns/$IRC_NS_P" "$STORM" 127.0.0.1 $((r / 2)) "$STEP_S" "$THREADS")
	t1=$(now_ms) c1=$(cpu_ms "$DPID")
	wait_for 15 caught_up
	k1=$(klost) q1=$(rj queue_lost) e1=$(rj events)
	read -r _ made _ failed _ secs _ crate <<<"$out"
	ms=$((t1 - t0))
	kl=$((k1 - k0)) ql=$((q1 - q0))
	printf '| %s | %s (%s failed) | %s | %s | %s | %s | %s | %s us | %s |\n' "$r" "${made:-?}" "${failed:-?}" \
		"${crate:-?}" "$(awk -v n=$((e1 - e0)) -v ms="$ms" 'BEGIN { printf "%.0f", n * 1000 / ms }')" \
		"$kl" "$ql" "$(awk -v c=$((c1 - c0)) -v ms="$ms" 'BEGIN { printf "%.1f", c * 100 / ms }')" \
		"$(awk -v c=$((c1 - c0)) -v n=$((e1 - e0)) 'BEGIN { printf "%.1f", n ? c * 1000 / n : 0 }')" \
		"$(cut -d' ' -f1 /proc/loadavg)"
	if [[ -z $FIRST_LOSS ]] && ((kl + ql > 0)); then FIRST_LOSS=$r; fi
done
kill -TERM "$DPID"
wait "$DPID"
echo
if [[ -n $FIRST_LOSS ]]; then
	echo "loss starts at a target of $FIRST_LOSS events/s"
else
	echo "no loss up to ${RATES[-1]} events/s targeted (see 'events read/s' for what was reached)"
fi
echo "store: $(jq -r '"\(.stored) records stored, \(.store_skipped) ordinary events in the events file only, \(.store_errors) store errors, queue high-water \(.queue_max)"' "$RUNJ")"
