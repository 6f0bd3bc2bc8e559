#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# `make bench`: runs every benchmark and prints its table.  Not a test.
set -euo pipefail
cd "$(dirname "$0")/../.."
BUILD=build
[[ ${1:-} == --build ]] && BUILD=$2
for b in "$BUILD"/bench/bench_*; do
	[[ -x $b ]] || continue
	echo "## $(basename "$b")"
	"$b"
	echo
done
