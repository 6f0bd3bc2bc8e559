#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Many CLI writers on one evidence store: WRITERS loops (default 50), each
# running `ircontain incident note` back to back for SECONDS (default 60),
# on a private state dir.  Every command's wall time is taken around it
# (bash's EPOCHREALTIME, no extra process).  Printed: commands, commands
# per second, p50/p90/p99/max latency, failures and "database is locked"
# errors, and whether `verify` still says the chain is intact.
#
#   scripts/bench/bench_writers.sh [WRITERS [SECONDS]]
#   --check: one line "ok - ..." or "not ok - ..." (p99 <= P99_MAX_MS,
#            default 1000, no failure, no "database is locked", store
#            intact), for tests/e2e.
set -uo pipefail

CHECK=0
[[ ${1:-} == --check ]] && { CHECK=1; shift; }
WRITERS=${1:-50}
SECS=${2:-60}
IRC_BIN=${IRC_BIN:-$(cd "$(dirname "$0")/../.." && pwd)/build/ircontain}
TMP=$(mktemp -d /tmp/irc-bench-writers.XXXXXX)
trap 'kill $(jobs -p) 2>/dev/null; wait 2>/dev/null; rm -rf "$TMP"' EXIT
export IRCONTAIN_STATE_DIR=$TMP/state
# No pins here: verify has no maps to compare (this is about the store).
export IRCONTAIN_PIN_DIR=$TMP/no-pins

"$IRC_BIN" incident open --title "writers" --severity low >/dev/null || exit 1

writer() {
	local w=$1 end t0 t1 rc
	end=$((SECONDS + SECS))
	while ((SECONDS < end)); do
		t0=$EPOCHREALTIME
		"$IRC_BIN" incident note 1 "writer $w" >/dev/null 2>>"$TMP/err.$w"; rc=$?
		t1=$EPOCHREALTIME
		echo "$rc ${t0/./} ${t1/./}"
	done >"$TMP/lat.$w"
}
for ((w = 0; w < WRITERS; w++)); do writer "$w" & done
wait

cat "$TMP"/lat.* | awk '{ print $1, $3 - $2 }' >"$TMP/all"
n=$(wc -l <"$TMP/all")
failed=$(awk '$1 != 0' "$TMP/all" | wc -l)
locked=$(cat "$TMP"/err.* 2>/dev/null | grep -c "database is locked")
sort -n -k2 "$TMP/all" | awk '{ print $2 }' >"$TMP/sorted"
pct() { awk -v p="$1" -v n="$n" 'NR == (int(n * p / 100) > 0 ? int(n * p / 100) : 1) { printf "%.1f", $1 / 1000; exit }' "$TMP/sorted"; }
p50=$(pct 50) p90=$(pct 90) p99=$(pct 99)
max=$(tail -1 "$TMP/sorted" | awk '{ printf "%.1f", $1 / 1000 }')
if "$IRC_BIN" verify >"$TMP/verify" 2>&1; then intact=yes; else intact=no; fi
records=$(sed -n 's/^store ok: \([0-9]*\) records.*/\1/p' "$TMP/verify")

if ((CHECK)); then
	what="$WRITERS writers for $SECS s (p99 at most ${P99_MAX_MS:-1000} ms): $n commands, p50 $p50 ms, p99 $p99 ms, max $max ms, $failed failed, $locked 'database is locked', store intact: $intact"
	if ((n > 0 && failed == 0 && locked == 0)) && [[ $intact == yes ]] &&
		awk -v p="$p99" -v m="${P99_MAX_MS:-1000}" 'BEGIN { exit !(p <= m) }'; then
		echo "ok - $what"
	else
		echo "not ok - $what"
		cat "$TMP"/err.* 2>/dev/null | sort | uniq -c | sort -rn | head -5 | sed 's/^/#   /'
		exit 1
	fi
	exit 0
fi
printf '%-10s %-8s %-10s %-9s %-9s %-9s %-9s %-7s %-7s %-8s\n' writers seconds commands "cmd/s" \
	"p50 ms" "p90 ms" "p99 ms" "max ms" failed locked
printf '%-10s %-8s %-10s %-9s %-9s %-9s %-9s %-7s %-7s %-8s\n' "$WRITERS" "$SECS" "$n" \
	"$(awk -v n="$n" -v s="$SECS" 'BEGIN { printf "%.0f", n / s }')" "$p50" "$p90" "$p99" "$max" \
	"$failed" "$locked"
echo "store after the run: ${records:-?} records, intact: $intact"
