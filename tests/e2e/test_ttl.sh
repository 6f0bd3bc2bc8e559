#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Quarantine expiry is enforced by the kernel: an entry with a short TTL
# (2 s; IRC_WAIT_SCALE times that where every command is slow, as under
# qemu's TCG, so that the checks made while it lives come before its end)
# blocks at once and lets traffic through again when it is up, with no
# ircontain process running (IPv4 host, IPv6 host); an expired longer prefix does not
# hide a live shorter one (the packet path retries the LPM lookup); list
# shows the entries as expired; quarantining again updates in place (same
# created, drops kept) and blocks again; TTL formats are accepted as
# documented.
. "$(dirname "$0")/lib.sh"
lab_up 3 || { not_ok "lab up"; exit 1; }
T=$((2 * ${IRC_WAIT_SCALE:-1}))	# the short TTL, seconds

check_rc "load --iface iv1 --iface iv2 --iface iv3" 0 \
	irc load --iface iv1 --iface iv2 --iface iv3
check "before: ping host 1" ping4 1
check "before: ping host 2" ping4 2
check "before: ping6 host 3" ping6 3

# ---- TTL formats -------------------------------------------------------

t0=$(date +%s)
irc --json quarantine host 10.77.3.2 --ttl 1h30m >"$IRC_TMP/q" 2>&1
check "--ttl 1h30m: ttl 5400" jqx '.ttl == 5400' "$IRC_TMP/q"
# Bounded by the clock before the command and after the listing (1 s for
# the whole-second rounding), however slow the commands were.
irc --json list >"$IRC_TMP/l" 2>&1
t1=$(date +%s)
check "--ttl 1h30m: list ttl_remaining 5400 less the time taken, expires at its start+5400, not expired" \
	jqx --argjson t0 "$t0" --argjson t1 "$t1" '.entries[] | select(.target == "10.77.3.2") | .expired == false and .ttl_remaining >= 5400 - ($t1 - $t0) - 1 and .ttl_remaining <= 5400 and (.expires | fromdateiso8601) as $e | $e >= $t0 + 5400 - 1 and $e <= $t1 + 5400 + 1' "$IRC_TMP/l"
irc --json quarantine host 10.77.3.2 --ttl 90 >"$IRC_TMP/q" 2>&1
check "--ttl 90 (bare seconds): ttl 90, updated" jqx '.ttl == 90 and .result == "updated"' "$IRC_TMP/q"
irc --json quarantine host 10.77.3.2 --ttl 1w >"$IRC_TMP/q" 2>&1
check "--ttl 1w: ttl 604800" jqx '.ttl == 604800' "$IRC_TMP/q"
check_rc "release host 10.77.3.2" 0 irc release host 10.77.3.2

# ---- short-TTL entries -------------------------------------------------

# The entry without a TTL first; then the three short-TTL entries, each command
# checked only afterwards, and the probes at once: on a slow machine (a
# sanitizer build, other suites running) they must still come well before
# the first entry's T s are up.
check_rc "quarantine host 10.77.2.0/24 (no ttl)" 0 irc quarantine host 10.77.2.0/24
tq=$(date +%s)
irc --json quarantine host 10.77.1.2 --ttl "${T}s" >"$IRC_TMP/q1" 2>&1
irc quarantine host 10.77.2.0/25 --ttl "${T}s" >/dev/null 2>&1; rc2=$?
irc quarantine host fd77:3::2 --ttl "${T}s" >/dev/null 2>&1; rc3=$?
# The three probes run together: each blocked ping takes its full 1 s.
{ ping4 1; echo $? >"$IRC_TMP/p1"; } &
{ ping4 2; echo $? >"$IRC_TMP/p2"; } &
{ ping6 3; echo $? >"$IRC_TMP/p3"; } &
irc --json list >"$IRC_TMP/l" 2>&1
wait
check "quarantine host 10.77.1.2 --ttl ${T}s: ttl $T" jqx --argjson t "$T" '.ttl == $t and .result == "added"' "$IRC_TMP/q1"
check "quarantine host 10.77.2.0/25 --ttl ${T}s" eq "$rc2" 0
check "quarantine host fd77:3::2 --ttl ${T}s" eq "$rc3" 0
check "ttl: list shows 10.77.1.2 live with 1-$T s left" jqx --argjson t "$T" \
	'.entries[] | select(.target == "10.77.1.2") | .expired == false and .ttl_remaining >= 1 and .ttl_remaining <= $t and .expires != null' "$IRC_TMP/l"
check "ttl: ping host 1 blocked at once" gt "$(cat "$IRC_TMP/p1")" 0
check "ttl: ping host 2 blocked at once" gt "$(cat "$IRC_TMP/p2")" 0
check "ttl: ping6 host 3 blocked at once" gt "$(cat "$IRC_TMP/p3")" 0
check_fail "ttl: no ircontain process is running for this lab" irc_running
check "ttl: host 1 reachable again after the TTL (kernel expiry)" wait_for 4 ping4 1
check "ttl: elapsed >= $T s when host 1 came back" gt $(($(date +%s) - tq)) $((T - 1))
check "ttl: IPv6 host 3 reachable again" wait_for 3 ping6 3
check "ttl: host 3 IPv4 (never quarantined) works" ping4 3
check_fail "ttl: host 2 still blocked by the /24 once the /25 expired" ping4 2
irc --json list >"$IRC_TMP/l" 2>&1
check "list: 10.77.1.2 expired, ttl_remaining 0" jqx \
	'.entries[] | select(.target == "10.77.1.2") | .expired == true and .ttl_remaining == 0' "$IRC_TMP/l"
check "list: fd77:3::2 expired" jqx \
	'.entries[] | select(.target == "fd77:3::2") | .expired == true' "$IRC_TMP/l"
check "list: 10.77.2.0/25 expired" jqx \
	'.entries[] | select(.target == "10.77.2.0/25") | .expired == true' "$IRC_TMP/l"
check "list: 10.77.2.0/24 live, no expiry" jqx \
	'.entries[] | select(.target == "10.77.2.0/24") | .expired == false and .expires == null and .ttl_remaining == null' "$IRC_TMP/l"
check "list: the /24 counted the drops after the /25 expired" gt "$(drops 10.77.2.0/24)" 0
check "status: counter expired > 0" gt "$(counter expired)" 0
check "list (text): shows 'expired'" sh -c \
	"nsenter --net=/run/netns/$IRC_NS_P $IRC_BIN list | grep -E '^10\.77\.1\.2 .* expired '"

# ---- quarantine again: update in place ----------------------------------

c1=$(jq -r '.entries[] | select(.target == "10.77.1.2") | .created' "$IRC_TMP/l")
d1=$(drops 10.77.1.2)
irc --json quarantine host 10.77.1.2 --ttl 1h >"$IRC_TMP/q" 2>&1
check "quarantine again --ttl 1h: updated" jqx '.result == "updated" and .ttl == 3600' "$IRC_TMP/q"
check "updated: created kept, drops kept, live again" ircq \
	".entries[] | select(.target == \"10.77.1.2\") | .created == \"$c1\" and .drops == $d1 and .expired == false and .ttl_remaining > 3590" list
check_fail "updated: ping host 1 blocked again" ping4 1
check "updated: drops counted again" gt "$(drops 10.77.1.2)" "$d1"
check_rc "release host 10.77.2.0/24" 0 irc release host 10.77.2.0/24
check "released the /24: host 2 reachable (the /25 is expired)" ping4 2

# ---- expires is the expiry time, not the time of the listing ------------
# Wait until the short entries expired at least 3 s ago.
while (($(date +%s) < tq + T + 4)); do sleep 0.2; done
irc --json list >"$IRC_TMP/l" 2>&1
check "list: expires of an expired entry is created+ttl (not now)" jqx --argjson t "$T" \
	'.entries[] | select(.target == "10.77.2.0/25") | ((.expires | fromdateiso8601) - (.created | fromdateiso8601)) as $d | $d >= $t - 1 and $d <= $t + 1' "$IRC_TMP/l"
