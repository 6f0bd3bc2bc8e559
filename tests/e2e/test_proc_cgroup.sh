#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Cgroup quarantine on real processes and real traffic (see
# proc_lib.sh): `quarantine cgroup $IRC_CG/app` blocks every process
# in it, those already there, one that joins afterwards and those in
# sub-cgroups (even one created afterwards), and cuts an open connection
# within 100 ms; processes in a sibling cgroup and in the parent are
# unaffected.  list shows the row; a second quarantine updates it; relative
# paths work; release restores new connections; a --ttl 2s cgroup entry
# (6 s under TCG) expires by itself.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/proc_lib.sh" || exit 1

proc_lab_up || exit 1
REL=${IRC_CG#"$IRC_CG2"/}	# $IRC_CG relative to the cgroup2 mount
OPS=("connect,$H1,$PORT" "connect,$H1_6,$PORT" "preconnect,$H1,$PORT" "udp,$H1,9"
	socket socket-unix)
# What a process of a quarantined cgroup gets for each of OPS.
BLOCKED=(EPERM EPERM EPERM EPERM EPERM ok)

# probe_is FILE PID WANT...: the results of OPS, in order, are WANT...
probe_is() {
	local f=$1 p=$2 i got=()
	shift 2
	for i in "${!OPS[@]}"; do got+=("$(res "$f" "$p" "${OPS[i]}")"); done
	eq "${got[*]}" "$*"
}

# A cgroup with a short ttl (2 s, IRC_WAIT_SCALE times that where every
# command is slow, as under qemu's TCG), checked at the end, 1 s after it.
T=$((2 * ${IRC_WAIT_SCALE:-1}))
mkdir -p "$IRC_CG/ttl"
check_rc "quarantine cgroup ttl --ttl ${T}s" 0 irc quarantine cgroup "$IRC_CG/ttl" --ttl "${T}s"
TTL_AT=$SECONDS
check "ttl cgroup: a joiner is blocked at once" says EPERM pc ttl connect "$H1" "$PORT"

hold_start app "$IRC_TMP/hold.a" || not_ok "hold in app: first echoes"
HA=$SPAWNED
hold_start other "$IRC_TMP/hold.o" || not_ok "hold in other: first echoes"
HO=$SPAWNED
probe_start app "$IRC_TMP/p.a" 30 "${OPS[@]}" || not_ok "probe in app ready"
PA=$PROBE
probe_start app/sub "$IRC_TMP/p.s" 30 "${OPS[@]}" || not_ok "probe in app/sub ready"
PS=$PROBE
probe_start other "$IRC_TMP/p.o" 30 "${OPS[@]}" || not_ok "probe in other ready"
PO=$PROBE
sleep 0.2

irc_timed "$IRC_TMP/t.c" quarantine cgroup "$IRC_CG/app" --reason cgtest >"$IRC_TMP/q.out" 2>&1
check "quarantine cgroup app: exit 0" eq "$?" 0
check "quarantine cgroup app: says so" grep -qx "quarantined cgroup $IRC_CG/app (ttl none, reason \"cgtest\")" "$IRC_TMP/q.out"
read -r T0 T1 <"$IRC_TMP/t.c"
fire "$IRC_TMP/p.a" "$PA" ${#OPS[@]}
fire "$IRC_TMP/p.s" "$PS" ${#OPS[@]}
fire "$IRC_TMP/p.o" "$PO" ${#OPS[@]}
check "in app (there before): every call blocked, AF_UNIX not" probe_is "$IRC_TMP/p.a" "$PA" "${BLOCKED[@]}"
check "in app/sub (there before): every call blocked" probe_is "$IRC_TMP/p.s" "$PS" "${BLOCKED[@]}"
check "in sibling cgroup other: nothing blocked" probe_is "$IRC_TMP/p.o" "$PO" ok ok ok ok ok ok
check "joiner of app: socket, connect v4/v6, udp, bind, listen blocked" \
	says "EPERM EPERM EPERM EPERM EPERM EPERM" \
	pcs app socket "connect $H1 $PORT" "connect $H1_6 $PORT" "udp $H1 9" "bind 7411" "listen 7412"
check "joiner of app/sub: blocked" says "EPERM EPERM" pcs app/sub socket "connect $H1 $PORT"
check "joiner of app/late (created after the quarantine): blocked" \
	says "EPERM EPERM" pcs app/late socket "connect $H1 $PORT"
check "joiner of sibling other: works" says "ok ok ok" pcs other socket "connect $H1 $PORT" "udp $H1 9"
check "joiner of the parent cgroup (the hooks' root): works" \
	says "ok ok" pcs . socket "connect $H1_6 $PORT"
kill -USR1 "$HA" "$HO"
check "holder in app: its next connect fails with EPERM" wait_for 3 grep -q '^connect EPERM ' "$IRC_TMP/hold.a"
check "holder in other: its next connect works" wait_for 3 grep -q '^connect ok ' "$IRC_TMP/hold.o"
check "list --json: cgroup row with reason, created, ttl, denied > 0" \
	ircq ".entries[] | select(.kind == \"cgroup\" and .target == \"$IRC_CG/app\") |
		.process_action == \"deny\" and .processes == null and .children == true and
		.reason == \"cgtest\" and (.created | test(\"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}Z$\")) and
		.ttl_remaining == null and .expired == false and .denied > 10 and
		.origin == \"operator\"" list
check "status: entries.cgroups == 2" ircq '.entries.cgroups == 2' status
hold_stop "$HA" "$T1"
hold_stop "$HO" "$T1"
check "held connection in app stops carrying data within 100 ms of the command" \
	hold_cut "$IRC_TMP/hold.a" "$T0" "$T1"
hold_note "$IRC_TMP/hold.a" "$T0" "$T1"
check "held connection in other kept carrying data" hold_alive "$IRC_TMP/hold.o" "$T1"

# Again, by a path relative to the cgroup2 mount: an update, not a second row.
created=$(irc --json list | jq -r ".entries[] | select(.target == \"$IRC_CG/app\") | .created")
check "quarantine cgroup again (relative path): updated" \
	ircq ".kind == \"cgroup\" and .target == \"$IRC_CG/app\" and .result == \"updated\"" \
	quarantine cgroup "$REL/app" --reason again
check "list: still one row for app, reason updated, created kept" \
	ircq "[.entries[] | select(.target == \"$IRC_CG/app\")] | length == 1 and .[0].reason == \"again\" and .[0].created == \"$created\"" list

# Release, absolute and relative.
check_rc "release cgroup app" 0 irc release cgroup "$IRC_CG/app"
check "released: a joiner of app works" says "ok ok" pcs app socket "connect $H1 $PORT"
check "released: a joiner of app/sub works" says "ok ok" pcs app/sub socket "connect $H1_6 $PORT"
fire "$IRC_TMP/p.a" "$PA" ${#OPS[@]}
check "released: the probe in app works again (new sockets)" \
	eq "$(res "$IRC_TMP/p.a" "$PA" "connect,$H1,$PORT") $(res "$IRC_TMP/p.a" "$PA" socket)" "ok ok"
check "released: no row for app" ircq "[.entries[] | select(.target == \"$IRC_CG/app\")] | length == 0" list
check_rc "release cgroup app again: not quarantined, exit 1" 1 irc release cgroup "$IRC_CG/app"
check_rc "quarantine cgroup app/sub (relative)" 0 irc quarantine cgroup "$REL/app/sub"
check "app/sub quarantined alone: app/sub blocked" says EPERM pc app/sub socket
check "app/sub quarantined alone: its parent app is not" says ok pc app socket
check_rc "release cgroup app/sub (relative)" 0 irc release cgroup "$REL/app/sub"
check "released: app/sub works" says ok pc app/sub connect "$H1" "$PORT"
kill "$PA" "$PS" "$PO"
wait "$PA" "$PS" "$PO" 2>/dev/null

# The ttl cgroup: T + 1 s or more have passed.
sleep $((TTL_AT + T + 1 - SECONDS > 0 ? TTL_AT + T + 1 - SECONDS : 0))
check "ttl cgroup: a joiner connects after the ttl without a release" says ok pc ttl connect "$H1" "$PORT"
check "ttl cgroup: row expired or gone" \
	ircq "[.entries[] | select(.target == \"$IRC_CG/ttl\") | select(.expired == false)] | length == 0" list
exit 0
