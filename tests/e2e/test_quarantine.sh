#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Quarantine on real traffic: load attaches XDP and tc to both lab links;
# quarantining host 1 (IPv4 host, IPv4 prefix, IPv6 host, IPv6 prefix)
# stops its ping and TCP while host 2 keeps working, the drops are counted
# per entry and in the status counters, release restores the traffic, and
# --direction in / out each act on their own hook only (shown with one-way
# UDP, where a ping or a TCP connect would need both directions).  The
# allowlist wins over a (forced) quarantine.
. "$(dirname "$0")/lib.sh"
need_tools tc
lab_up 2 || { not_ok "lab up"; exit 1; }

PORT=7101

# same A B: A is a count (a number) and equals B.
same() { [[ $1 =~ ^[0-9]+$ ]] || { echo "'$1' is not a count"; return 1; }; eq "$1" "$2"; }

# ---- load --------------------------------------------------------------

check_rc "load --iface iv1 --iface iv2" 0 irc load --iface iv1 --iface iv2
irc --json status >"$IRC_TMP/status" 2>&1
check "status: loaded" jqx '.loaded == true' "$IRC_TMP/status"
for i in iv1 iv2; do
	check "status: $i xdp_attached and tc_attached" jqx --arg i "$i" \
		'[.interfaces[] | select(.name == $i and .xdp_attached == true and .tc_attached == true)] | length == 1' \
		"$IRC_TMP/status"
	check "$i has an XDP program (ip link)" sh -c \
		"ip netns exec $IRC_NS_P ip -d link show $i | grep -q 'prog/xdp'"
	check "$i has the tc egress filter" sh -c \
		"ip netns exec $IRC_NS_P tc filter show dev $i egress | grep -q irc_tc_egress"
done

tcp_server $PORT || { not_ok "tcp server on the protected host"; exit 1; }

# ---- IPv4 host ---------------------------------------------------------

check "before: ping host 1" ping4 1
check "before: tcp host 1" tcp4 1 $PORT
check "before: ping host 2" ping4 2
check "before: protected host pings host 1" in_p ping -c1 -W1 10.77.1.2
rx0=$(counter rx_drop_quarantine) tx0=$(counter tx_drop_quarantine)

irc --json quarantine host 10.77.1.2 >"$IRC_TMP/q" 2>&1
check "quarantine host 10.77.1.2: exit 0, added" jqx \
	'.action == "quarantine" and .target == "10.77.1.2" and .result == "added" and .direction == "both" and .ttl == null' \
	"$IRC_TMP/q"
check_fail "quarantined: ping host 1" ping4 1
check_fail "quarantined: tcp host 1" tcp4 1 $PORT
check_fail "quarantined: protected host cannot ping host 1" in_p ping -c1 -W1 10.77.1.2
check "quarantined: ping host 2 still works" ping4 2
check "quarantined: tcp host 2 still works" tcp4 2 $PORT
check "quarantined: host 1's IPv6 address is not covered" ping6 1
check "list: entry drops > 0" gt "$(drops 10.77.1.2)" 0
check "status: rx_drop_quarantine rose" gt "$(counter rx_drop_quarantine)" "$rx0"
check "status: tx_drop_quarantine rose" gt "$(counter tx_drop_quarantine)" "$tx0"
check "status: entries.host_v4 == 1" ircq '.entries.host_v4 == 1' status

check_rc "release host 10.77.1.2" 0 irc release host 10.77.1.2
check "released: ping host 1" ping4 1
check "released: tcp host 1" tcp4 1 $PORT
check "released: list is empty" ircq '.entries == []' list
check_rc "release again: exit 1 (not quarantined)" 1 irc release host 10.77.1.2

# ---- direction ---------------------------------------------------------
# IN: packets FROM the address arriving (XDP).  OUT: packets TO the address
# leaving (tc).  A ping or TCP needs both ways, so one-way UDP tells them
# apart, and the counters show which hook dropped.

check "before: UDP host 1 -> protected arrives" udp_to_p 1 7201
check "before: UDP protected -> host 1 arrives" udp_from_p 1 7202

rx0=$(counter rx_drop_quarantine) tx0=$(counter tx_drop_quarantine)
irc --json quarantine host 10.77.1.2 --direction in >"$IRC_TMP/q" 2>&1
check "quarantine --direction in: direction in" jqx '.direction == "in"' "$IRC_TMP/q"
check_rc "dir in: UDP host 1 -> protected dropped" 1 udp_to_p 1 7203
check "dir in: UDP protected -> host 1 still arrives" udp_from_p 1 7204
check_fail "dir in: ping from host 1 fails (request dropped on ingress)" ping4 1
check "dir in: rx_drop_quarantine rose" gt "$(counter rx_drop_quarantine)" "$rx0"
check "dir in: tx_drop_quarantine unchanged" same "$(counter tx_drop_quarantine)" "$tx0"
d_in=$(drops 10.77.1.2)
check "dir in: entry drops > 0" gt "$d_in" 0

rx0=$(counter rx_drop_quarantine) tx0=$(counter tx_drop_quarantine)
irc --json quarantine host 10.77.1.2 --direction out >"$IRC_TMP/q" 2>&1
check "quarantine again --direction out: updated in place" jqx \
	'.result == "updated" and .direction == "out"' "$IRC_TMP/q"
check "dir out: list shows direction out" ircq '.entries[0].direction == "out"' list
check_fail "dir out: protected host cannot ping host 1" in_p ping -c1 -W1 10.77.1.2
check_rc "dir out: UDP protected -> host 1 dropped" 1 udp_from_p 1 7205
check "dir out: UDP host 1 -> protected still arrives" udp_to_p 1 7206
check_fail "dir out: ping from host 1 fails (the reply is egress)" ping4 1
check "dir out: tx_drop_quarantine rose" gt "$(counter tx_drop_quarantine)" "$tx0"
check "dir out: rx_drop_quarantine unchanged" same "$(counter rx_drop_quarantine)" "$rx0"
check "dir out: update kept the entry's drop count" gt "$(drops 10.77.1.2)" "$d_in"
check "dir out: host 2 unaffected" ping4 2
check_rc "release host 10.77.1.2 (dir out)" 0 irc release host 10.77.1.2
check "released: protected host pings host 1" in_p ping -c1 -W1 10.77.1.2

# ---- IPv6 host ---------------------------------------------------------

check "before: ping6 host 1" ping6 1
check "before: tcp6 host 1" tcp6 1 $PORT
rx0=$(counter rx_drop_quarantine)
irc --json quarantine host fd77:1::2 >"$IRC_TMP/q" 2>&1
check "quarantine host fd77:1::2: added" jqx '.result == "added" and .target == "fd77:1::2"' "$IRC_TMP/q"
check_fail "v6 quarantined: ping6 host 1" ping6 1
check_fail "v6 quarantined: tcp6 host 1" tcp6 1 $PORT
check "v6 quarantined: ping6 host 2 still works" ping6 2
check "v6 quarantined: tcp6 host 2 still works" tcp6 2 $PORT
check "v6 quarantined: host 1's IPv4 still works" ping4 1
irc --json list >"$IRC_TMP/l" 2>&1
check "v6 list: family 6, prefix_len 128, drops > 0" jqx \
	'.entries | length == 1 and .[0].family == 6 and .[0].prefix_len == 128 and .[0].drops > 0' "$IRC_TMP/l"
check "v6: rx_drop_quarantine rose" gt "$(counter rx_drop_quarantine)" "$rx0"
check_rc "release host fd77:1::2" 0 irc release host fd77:1::2
check "v6 released: ping6 host 1" wait_for 3 ping6 1
check "v6 released: tcp6 host 1" tcp6 1 $PORT

# ---- IPv6 prefix -------------------------------------------------------

check_rc "quarantine host fd77:1::/64" 0 irc quarantine host fd77:1::/64
check_fail "v6 prefix: ping6 host 1" ping6 1
check_fail "v6 prefix: tcp6 host 1" tcp6 1 $PORT
check "v6 prefix: ping6 host 2 still works" ping6 2
irc --json list >"$IRC_TMP/l" 2>&1
check "v6 prefix list: target fd77:1::/64, prefix_len 64, drops > 0" jqx \
	'.entries | length == 1 and .[0].target == "fd77:1::/64" and .[0].prefix_len == 64 and .[0].drops > 0' "$IRC_TMP/l"
check "status: entries.prefix_v6 == 1" ircq '.entries.prefix_v6 == 1' status
check_rc "release host fd77:1::/64" 0 irc release host fd77:1::/64
check "v6 prefix released: ping6 host 1" wait_for 3 ping6 1

# ---- IPv4 prefix -------------------------------------------------------

check_rc "quarantine host 10.77.1.0/24" 0 irc quarantine host 10.77.1.0/24
check_fail "prefix: ping host 1" ping4 1
check_fail "prefix: tcp host 1" tcp4 1 $PORT
check "prefix: ping host 2 still works" ping4 2
check "prefix: tcp host 2 still works" tcp4 2 $PORT
check "prefix list: drops > 0" gt "$(drops 10.77.1.0/24)" 0
irc release host 10.77.1.2 >/dev/null 2>"$IRC_TMP/err"; rc=$?
check "release of a host inside the prefix: exit 1" eq "$rc" 1
check "release of a host inside the prefix: names the covering prefix" \
	grep -q "10.77.1.0/24" "$IRC_TMP/err"
check_fail "prefix: host 1 still blocked after the failed release" ping4 1
check_rc "release host 10.77.1.0/24" 0 irc release host 10.77.1.0/24
check "prefix released: ping host 1" ping4 1
check "prefix released: tcp host 1" tcp4 1 $PORT

# ---- release --all -----------------------------------------------------

irc quarantine host 10.77.1.2 >/dev/null 2>&1
irc quarantine host fd77:2::/64 >/dev/null 2>&1
check_fail "two entries: ping host 1" ping4 1
check_fail "two entries: ping6 host 2" ping6 2
irc --json release --all >"$IRC_TMP/r" 2>&1
check "release --all: released 2" jqx '.action == "release" and .released == 2' "$IRC_TMP/r"
check "release --all: ping host 1" ping4 1
check "release --all: ping6 host 2" wait_for 3 ping6 2

# ---- the allowlist wins ------------------------------------------------

check_rc "allow add 10.77.2.2" 0 irc allow add 10.77.2.2
ra0=$(counter rx_allow)
check_rc "quarantine of an allowlisted host --force: exit 0" 0 \
	irc quarantine host 10.77.2.2 --force
check "allowlisted + quarantined: ping host 2 still works" ping4 2
check "allowlisted: rx_allow rose" gt "$(counter rx_allow)" "$ra0"
check "allowlisted: entry drops == 0" eq "$(drops 10.77.2.2)" 0
check_rc "allow del 10.77.2.2" 0 irc allow del 10.77.2.2
check_fail "allow removed: the recorded quarantine now applies" ping4 2
check_rc "release host 10.77.2.2" 0 irc release host 10.77.2.2
check "released: ping host 2" ping4 2

# ---- an upgrade: the module was loaded by an older ircontain -----------
# Its pin layout lacks the maps added since (irc_droprun: per-CPU drop
# runs; irc_sensid: sensitive_read's identities).  Shown by removing their
# pins from a working load: the loaded programs and the rules stay.

check_rc "upgrade: quarantine host 10.77.1.2" 0 irc quarantine host 10.77.1.2
rm "$IRC_PIN_DIR/irc_droprun"
irc list >"$IRC_TMP/l" 2>"$IRC_TMP/err"; rc=$?
check "upgrade, no irc_droprun: list exits 0" eq "$rc" 0
check "upgrade, no irc_droprun: list shows the host" grep -q "10.77.1.2" "$IRC_TMP/l"
check "upgrade, no irc_droprun: the warning names the map and 'load'" \
	grep -q "map irc_droprun is not pinned.*load --iface" "$IRC_TMP/err"
check "upgrade, no irc_droprun: list --json" ircq '[.entries[] | select(.target == "10.77.1.2")] | length == 1' list
check_fail "upgrade, no irc_droprun: ping host 1 still blocked" ping4 1
check_rc "upgrade, no irc_droprun: release host 10.77.1.2" 0 irc release host 10.77.1.2
check "upgrade, no irc_droprun: released, ping host 1" ping4 1
check_rc "upgrade, no irc_droprun: quarantine host 10.77.1.2" 0 irc quarantine host 10.77.1.2
check_fail "upgrade, no irc_droprun: quarantined again, ping host 1" ping4 1
rm "$IRC_PIN_DIR/irc_sensid"
irc list >/dev/null 2>"$IRC_TMP/err"; rc=$?
check "upgrade, no irc_sensid (needed): list exits 1" eq "$rc" 1
check "upgrade, no irc_sensid: the error says to load again" \
	grep -q "map irc_sensid is not pinned.*run 'ircontain load --iface IF' again" "$IRC_TMP/err"
check_rc "upgrade: load again" 0 irc load --iface iv1 --iface iv2
check "upgrade: load pinned irc_droprun and irc_sensid" \
	test -e "$IRC_PIN_DIR/irc_droprun" -a -e "$IRC_PIN_DIR/irc_sensid"
irc list >"$IRC_TMP/l" 2>"$IRC_TMP/err"; rc=$?
check "upgrade, loaded again: list exits 0 with no warning, the host kept" \
	sh -c "[ $rc = 0 ] && [ ! -s '$IRC_TMP/err' ] && grep -q 10.77.1.2 '$IRC_TMP/l'"
check_fail "upgrade, loaded again: ping host 1 still blocked" ping4 1
check_rc "upgrade: release host 10.77.1.2" 0 irc release host 10.77.1.2
