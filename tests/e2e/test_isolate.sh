#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Isolation: with host 3 allowlisted, `isolate on` blocks hosts 1 and 2
# (ping, TCP, IPv6) while a TCP session from host 3 opened before the switch
# keeps working and new connections from host 3 are accepted; `isolate off`
# restores everything.  `isolate on --allow 10.77.2.2` lets host 2 through
# only while isolated: after `isolate off` the exemption is gone from the
# allow list and from the packet path, while a permanent allowlist entry
# given with --allow stays.  --allow-dns lets DNS replies through.
. "$(dirname "$0")/lib.sh"
lab_up 3 || { not_ok "lab up"; exit 1; }

PORT=7301

check_rc "load --iface iv1 --iface iv2 --iface iv3" 0 \
	irc load --iface iv1 --iface iv2 --iface iv3
tcp_server $PORT || { not_ok "tcp server on the protected host"; exit 1; }
check_rc "allow add 10.77.3.2" 0 irc allow add 10.77.3.2
check "isolate status: off" ircq '.enabled == false and .since == null' isolate status

# A long-lived session from host 3, through the echo server.  socat's idle
# timeout (-T) is longer than the test's longest quiet stretch, scaled as
# the waits are: under qemu's TCG the --allow-dns part alone outlasted 30 s.
coproc ip netns exec "${IRC_NS_PFX}h3" socat -T$((60 * ${IRC_WAIT_SCALE:-1})) - \
	"TCP4:10.77.3.1:$PORT,connect-timeout=2"
IRC_PIDS+=("$COPROC_PID")
exec {S_OUT}<&"${COPROC[0]}" {S_IN}>&"${COPROC[1]}"
# session LINE: sends LINE on the open session and reads it back (2 s).
# Written from a subshell: if the session is gone, SIGPIPE ends that, and
# the check fails, instead of ending this script without a word.
session() {
	local got
	(echo "$1" >&"$S_IN") 2>/dev/null || { echo "the session is gone"; return 1; }
	read -r -t 2 got <&"$S_OUT" || { echo "no answer"; return 1; }
	eq "$got" "$1"
}

check "before: session from host 3 echoes" session before-1
check "before: ping host 1" ping4 1
check "before: ping host 2" ping4 2
check "before: tcp host 1" tcp4 1 $PORT
check "before: ping6 host 1" ping6 1

# ---- isolate on --------------------------------------------------------

rx0=$(counter rx_drop_isolate)
irc --json isolate on >"$IRC_TMP/i" 2>&1
check "isolate on: enabled, since set" jqx \
	'.enabled == true and .allow_dns == false and .allow_dhcp == false and (.since | test("^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}Z$"))' "$IRC_TMP/i"
check "isolated: the session opened before still echoes" session during-1
check "isolated: new tcp from host 3 (allowlisted) works" tcp4 3 $PORT
check "isolated: ping host 3 works" ping4 3
check_fail "isolated: ping host 1 blocked" ping4 1
check_fail "isolated: ping host 2 blocked" ping4 2
check_fail "isolated: tcp host 1 blocked" tcp4 1 $PORT
check_fail "isolated: tcp host 2 blocked" tcp4 2 $PORT
check_fail "isolated: ping6 host 1 blocked" ping6 1
check_fail "isolated: protected host cannot ping host 2" in_p ping -c1 -W1 10.77.2.2
check "isolated: rx_drop_isolate rose" gt "$(counter rx_drop_isolate)" "$rx0"
check "isolate status: on" ircq '.enabled == true and .since != null' isolate status
check "status: isolation.enabled" ircq '.isolation.enabled == true' status
check "isolated: the session still echoes" session during-2

irc --json isolate off >"$IRC_TMP/i" 2>&1
check "isolate off: enabled false" jqx '.enabled == false and .since == null' "$IRC_TMP/i"
check "isolation off: ping host 1" ping4 1
check "isolation off: ping host 2" ping4 2
check "isolation off: tcp host 1" tcp4 1 $PORT
check "isolation off: ping6 host 1" wait_for 3 ping6 1
check "isolation off: the session still echoes" session after-1

# ---- isolate on --allow: exemptions for this isolation only -------------

irc --json isolate on --allow 10.77.2.2 --allow 10.77.3.2 >"$IRC_TMP/i" 2>&1
check "isolate on --allow 10.77.2.2 --allow 10.77.3.2: enabled" jqx '.enabled == true' "$IRC_TMP/i"
check "--allow: host 2 gets through while isolated" ping4 2
check "--allow: tcp host 2 works while isolated" tcp4 2 $PORT
check_fail "--allow: host 1 still blocked" ping4 1
irc --json allow list >"$IRC_TMP/a" 2>&1
check "allow list: 10.77.2.2 isolate_only" jqx \
	'[.entries[] | select(.target == "10.77.2.2" and .isolate_only == true and .always == false)] | length == 1' "$IRC_TMP/a"
check "allow list: 10.77.3.2 still always" jqx \
	'[.entries[] | select(.target == "10.77.3.2" and .always == true)] | length == 1' "$IRC_TMP/a"
check_rc "isolate off" 0 irc isolate off
irc --json allow list >"$IRC_TMP/a" 2>&1
check "after isolate off: 10.77.2.2 gone from the allow list" jqx \
	'[.entries[] | select(.target == "10.77.2.2")] | length == 0' "$IRC_TMP/a"
check "after isolate off: 10.77.3.2 (allowed before) kept, always" jqx \
	'[.entries[] | select(.target == "10.77.3.2" and .always == true)] | length == 1' "$IRC_TMP/a"
check "after isolate off: ping host 2" ping4 2
check_rc "isolate on (no --allow)" 0 irc isolate on
check_fail "isolated again: host 2's old exemption no longer applies" ping4 2
check "isolated again: host 3 (allowlisted) still works" ping4 3
check_rc "isolate off" 0 irc isolate off
check "isolation off: ping host 2" ping4 2

# ---- --allow-dns ---------------------------------------------------------
# A "DNS reply" from host 1 (UDP source port 53) reaches the protected host
# under --allow-dns and not without it.

dns_reply() {
	local f=$IRC_TMP/dns pid rc
	: >"$f"
	ip netns exec "$IRC_NS_P" timeout 4 socat -u UDP4-RECV:7353,bind=10.77.1.1 "OPEN:$f,append" &
	pid=$!
	IRC_PIDS+=("$pid")
	wait_for 2 in_p sh -c "ss -Huln sport = :7353 | grep -q ." || { kill "$pid"; return 2; }
	echo answer | ip netns exec "${IRC_NS_PFX}h1" timeout 2 \
		socat -u - UDP4-SENDTO:10.77.1.1:7353,sourceport=53 2>/dev/null
	wait_for 1 test -s "$f"; rc=$?
	kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null
	return $rc
}
check "before: UDP from port 53 arrives" dns_reply
check_rc "isolate on" 0 irc isolate on
check_rc "isolated: UDP from port 53 dropped" 1 dns_reply
irc --json isolate on --allow-dns >"$IRC_TMP/i" 2>&1
check "isolate on --allow-dns: allow_dns true" jqx '.enabled == true and .allow_dns == true' "$IRC_TMP/i"
check "isolated with --allow-dns: UDP from port 53 arrives" dns_reply
check_fail "isolated with --allow-dns: ping host 1 still blocked" ping4 1
check_rc "isolate off" 0 irc isolate off

check "the session still echoes at the end" session end-1
