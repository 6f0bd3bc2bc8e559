#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Per-packet cost against the anchors (build/bench/bench_packet prints the
# table), then the plot: ns per packet against the number of quarantined
# hosts for each mechanism, one panel per case, written to
# $BENCH_OUT/packet.svg (default build/bench).  Not a test.
set -uo pipefail
cd "$(dirname "$0")/../.."
BIN=${IRC_BIN:-build/ircontain}
OUT=${BENCH_OUT:-$(dirname "$BIN")/bench}
DAT=$OUT/packet.dat
"$OUT/bench_packet" "$DAT" || exit 1
command -v gnuplot >/dev/null || { echo "(gnuplot not installed: no plot)"; exit 0; }
# One file per mechanism: gnuplot draws one line per file.
rm -f "$OUT"/packet-*.dat
awk -v out="$OUT" -F'"' '!/^#/ && NF >= 3 {
	name = $2; f = name; gsub(/[^A-Za-z0-9]+/, "_", f)
	split($1, a, " "); split($3, v, " ")
	print a[1], v[1], v[2], v[3], v[4] >> (out "/packet-" f ".dat")
	titles[f] = name
} END { for (f in titles) print f "\t" titles[f] > (out "/packet-titles.txt") }' "$DAT"
plots() {	# $1: column (2 hot hit ... 5 rotating miss)
	local sep="" f t
	while IFS=$'\t' read -r f t; do
		printf '%s"%s" using 1:%s with linespoints title "%s"' "$sep" "$OUT/packet-$f.dat" "$1" "$t"
		sep=", "
	done < <(sort -k2 "$OUT/packet-titles.txt")
}
gnuplot <<GP
set terminal svg size 1200,900 dynamic font "DejaVu Sans,11"
set output "$OUT/packet.svg"
set multiplot layout 2,2 title "Per-packet cost against quarantined hosts (BPF_PROG_TEST_RUN, median of interleaved rounds)"
set logscale x
set xlabel "quarantined hosts (N)"
set ylabel "ns per packet"
set key top left font ",9"
set grid
set title "hot address, hit (dropped)"
plot $(plots 2)
set title "hot address, miss (passed)"
plot $(plots 3)
set title "rotating addresses, hit (dropped)"
plot $(plots 4)
set title "rotating addresses, miss (passed)"
plot $(plots 5)
unset multiplot
GP
echo
echo "plot: $OUT/packet.svg"
