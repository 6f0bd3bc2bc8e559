#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# A blocklist of N addresses (default 100,000) applied end to end, in its
# own lab: `ircontain quarantine host --from-file` (parse, checks, batched
# map writes, the store record) beside `ipset restore` of the same list
# into a fresh hash:ip set and `nft -f` of the same list as a set of a
# fresh table; then `ircontain list` (streamed) and `release --from-file`.
# Rounds interleave A B C; medians.  Prints a table; not a test.
. "$(dirname "$0")/../../tests/e2e/lib.sh"
trap 'rc=$?; lab_cleanup; exit $rc' EXIT
N=${1:-100000}
ROUNDS=${2:-3}
lab_up 1 >/dev/null || exit 1
irc load --iface iv1 >/dev/null 2>&1 || { echo "bench_bulk: load failed" >&2; exit 1; }

L=$IRC_TMP/list.txt IPS=$IRC_TMP/ipset.txt NFT=$IRC_TMP/nft.txt
awk -v n="$N" 'BEGIN {
	for (i = 0; i < n; i++) {
		a = 184549376 + i * 7	# 11.0.0.0 and up
		printf "%d.%d.%d.%d ; SBL%d\n", int(a / 16777216), int(a / 65536) % 256, int(a / 256) % 256, a % 256, i
	}
}' >"$L"
{ echo "create ircb$$ hash:ip maxelem 1048576"; sed "s/^\([^ ]*\) .*/add ircb$$ \1/" "$L"; } >"$IPS"
{ echo "table inet ircb$$ {"; echo "set s { type ipv4_addr; size 1048576; elements = {"
  sed 's/^\([^ ]*\) .*/\1,/' "$L"; echo "} }"; echo "}"; } >"$NFT"

ms() { echo $(( ($(date +%s%N) - $1) / 1000000 )); }
med() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
declare -a A B C D E
for ((r = 0; r < ROUNDS; r++)); do
	t=$(date +%s%N); irc quarantine host --from-file "$L" >/dev/null || exit 1; A+=("$(ms "$t")")
	t=$(date +%s%N); in_p ipset restore <"$IPS" || exit 1; B+=("$(ms "$t")")
	t=$(date +%s%N); in_p nft -f "$NFT" || exit 1; C+=("$(ms "$t")")
	t=$(date +%s%N); irc list | wc -l >/dev/null; D+=("$(ms "$t")")
	t=$(date +%s%N); irc release host --from-file "$L" >/dev/null || exit 1; E+=("$(ms "$t")")
	in_p ipset destroy "ircb$$"; in_p nft delete table inet "ircb$$"
done
echo "$N addresses, one list, median of $ROUNDS interleaved rounds (ms, end to end):"
echo
echo "| what | ms |"
echo "|---|---:|"
echo "| \`ircontain quarantine host --from-file\` | $(printf '%s\n' "${A[@]}" | med) |"
echo "| \`ipset restore\` (hash:ip) | $(printf '%s\n' "${B[@]}" | med) |"
echo "| \`nft -f\` (a set in a table) | $(printf '%s\n' "${C[@]}" | med) |"
echo "| \`ircontain list\` (streamed) | $(printf '%s\n' "${D[@]}" | med) |"
echo "| \`ircontain release host --from-file\` | $(printf '%s\n' "${E[@]}" | med) |"
