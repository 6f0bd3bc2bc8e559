#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Runs every libFuzzer target for FUZZ_TIME seconds (default 60) from its
# seeds in tests/fuzz/corpus/TARGET/, on a scratch copy of the corpus (the
# seeds in git stay as they are), and prints "ok - fuzz TARGET: N runs" or
# "not ok": a crash, a leak, a sanitizer report or a timeout fails it, and
# the input that did is kept in $BUILD/fuzz/crashes/.
set -uo pipefail

cd "$(dirname "$0")/../.."
BUILD=build
while (($#)); do
	case $1 in
	--build) BUILD=$2; shift 2 ;;
	*) echo "run.sh: unknown option '$1'" >&2; exit 2 ;;
	esac
done
TIME=${FUZZ_TIME:-60}
work=$(mktemp -d /tmp/irc-fuzz.XXXXXX)
trap 'rm -rf "$work"' EXIT
mkdir -p "$BUILD/fuzz/crashes"
fail=0 n=0
for src in tests/fuzz/fuzz_*.c; do
	name=$(basename "$src" .c)
	t=${name#fuzz_}
	bin=$BUILD/fuzz/$name
	n=$((n + 1))
	if [[ ! -x $bin ]]; then
		echo "not ok - fuzz $t: $bin not built (make fuzz-build)"
		fail=1
		continue
	fi
	mkdir -p "$work/$t"
	cp tests/fuzz/corpus/"$t"/* "$work/$t/" 2>/dev/null
	if "$bin" -max_total_time="$TIME" -timeout=10 -rss_limit_mb=2048 -max_len=65536 \
		-print_final_stats=1 -artifact_prefix="$BUILD/fuzz/crashes/$t-" \
		"$work/$t" >"$work/$t.log" 2>&1; then
		runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$work/$t.log")
		echo "ok - fuzz $t: ${runs:-?} runs in ${TIME} s, $(ls "$work/$t" | wc -l) inputs in the corpus"
	else
		echo "not ok - fuzz $t"
		grep -E 'ERROR|SUMMARY|==[0-9]+==|Test unit written' "$work/$t.log" | head -20 | sed 's/^/#   /'
		fail=1
	fi
done
((n > 0)) || { echo "not ok - fuzz: no targets"; exit 1; }
exit $fail
