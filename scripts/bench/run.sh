#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# `make bench`: runs every benchmark and prints its table.  Not a test.
# A benchmark is a program build/bench/bench_X, or a script
# scripts/bench/bench_X.sh (which may drive the program of the same name).
set -uo pipefail
cd "$(dirname "$0")/../.."
BUILD=build
[[ ${1:-} == --build ]] && BUILD=$2
export IRC_BIN=$PWD/$BUILD/ircontain
for b in "$BUILD"/bench/bench_*; do
	[[ -x $b && $b != *.d ]] || continue
	[[ -e scripts/bench/$(basename "$b").sh ]] && continue
	echo "## $(basename "$b")"
	"$b"
	echo
done
for s in scripts/bench/bench_*.sh; do
	echo "## $(basename "$s" .sh)"
	"$s" | grep -v '^# '
	echo
done
