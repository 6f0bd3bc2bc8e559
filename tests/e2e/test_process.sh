#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Process quarantine on real processes and real traffic.  The processes run
# in the protected host's network namespace, inside the test's own cgroup
# ($IRC_CG/...), where `load` attached the process hooks; the echo servers
# run on test hosts 1 and 2.  tests/e2e/helpers/irc_peer (built by `make
# tests`) makes every observation precise: a held connection reports each
# echo and each stall with CLOCK_MONOTONIC ms timestamps, probes report the
# errno name of each socket call they make on SIGUSR1.
#
#   - a client holding a TCP connection is quarantined: the connection stops
#     carrying data within 100 ms of the command returning, its next
#     connect fails with EPERM; a sibling in the same cgroup keeps working;
#   - socket() (v4, v6), connect() (v4, v6), sendto() (v4, v6), bind()
#     (v4, v6) and listen() fail with EPERM, each hook on its own (sockets
#     made before the quarantine); AF_UNIX sockets are left alone;
#   - children: existing ones are entered by default and left alone with
#     --no-children; one forked after the quarantine inherits it;
#   - --action stop: the tree is frozen (cgroup v2 freezer); release (and release
#     --all) resumes it, its network back by the time it runs again;
#     --action kill: no process of the tree is left;
#   - release restores new connections; an exiting process drops its entry;
#   - list --json rows; a --ttl 2s entry (6 s under TCG) expires by itself.
# Cgroup quarantine, persistence and refusals: test_proc_cgroup.sh,
# test_proc_persist.sh, test_proc_refuse.sh.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/proc_lib.sh" || exit 1

proc_lab_up || exit 1

# ---- a held connection is cut within 100 ms ----------------------------------

hold_start app "$IRC_TMP/hold.q" || not_ok "hold: first echoes (quarantined client)"
HQ=$SPAWNED
hold_start app "$IRC_TMP/hold.s" || not_ok "hold: first echoes (sibling)"
HS=$SPAWNED
sleep 0.3
irc_timed "$IRC_TMP/t.q" quarantine pid "$HQ" --reason "hold test" >"$IRC_TMP/q.out" 2>&1
check "quarantine pid HOLDER: exit 0" eq "$?" 0
check "quarantine pid HOLDER: 1 process, 1 open socket cut" \
	grep -q "^quarantined PID $HQ (irc_peer): 1 process, 1 open socket cut, action deny" "$IRC_TMP/q.out"
read -r T0 T1 <"$IRC_TMP/t.q"
sleep 0.2
kill -USR1 "$HQ" "$HS"
check "holder's next connect fails with EPERM" wait_for 3 grep -q '^connect EPERM ' "$IRC_TMP/hold.q"
check "sibling (same cgroup, not in the tree) connects" wait_for 3 grep -q '^connect ok ' "$IRC_TMP/hold.s"
check "sibling: new connect from the same cgroup works" says ok pc app connect "$H1" "$PORT"
# Its connect refused, its lines dropped on the way out: all counted.
check "list: holder's row, denied > 1" \
	ircq ".entries[] | select(.kind == \"pid\" and .target == \"$HQ\") | .denied > 1" list
hold_stop "$HQ" "$T1"
hold_stop "$HS" "$T1"
check "held connection stops carrying data within 100 ms of the command" \
	hold_cut "$IRC_TMP/hold.q" "$T0" "$T1"
hold_note "$IRC_TMP/hold.q" "$T0" "$T1"
check "sibling's held connection kept carrying data" hold_alive "$IRC_TMP/hold.s" "$T1"
check "status: proc_dropped > 0" gt "$(counter proc_dropped)" 0
check "status: proc_denied > 0" gt "$(counter proc_denied)" 0
# The holder has exited: the exit hook removed its entry.
check "exited process: its entry is gone" \
	ircq "[.entries[] | select(.target == \"$HQ\")] | length == 0" list

# ---- every socket call, each hook on its own ---------------------------------

OPS=(socket socket6 socket-unix "connect,$H1,$PORT" "connect,$H1_6,$PORT"
	"udp,$H1,9" "udp,$H1_6,9" "listen,7402" "preconnect,$H1,$PORT"
	"preconnect,$H1_6,$PORT" "preudp,$H1,9" "preudp,$H1_6,9" "prebind,7403"
	"prebind6,7404")
probe_start app "$IRC_TMP/p.base" 30 "${OPS[@]}" || not_ok "probe ready (baseline)"
PB=$PROBE
probe_start app "$IRC_TMP/p.hooks" 30 "${OPS[@]}" || not_ok "probe ready"
PH=$PROBE
fire "$IRC_TMP/p.base" "$PB" ${#OPS[@]}
for op in "${OPS[@]}"; do
	check "baseline: $op ok" eq "$(res "$IRC_TMP/p.base" "$PB" "$op")" ok
done
check_rc "quarantine pid PROBE --reason hooks" 0 irc quarantine pid "$PH" --reason hooks
fire "$IRC_TMP/p.hooks" "$PH" ${#OPS[@]}
for op in "${OPS[@]}"; do
	want=EPERM
	[[ $op == socket-unix ]] && want=ok
	check "quarantined: $op -> $want" eq "$(res "$IRC_TMP/p.hooks" "$PH" "$op")" "$want"
done
check "sibling still: socket, connect v4 and v6, udp" says "ok ok ok ok" \
	pcs app socket "connect $H1 $PORT" "connect $H1_6 $PORT" "udp $H1 9"
check "list --json: pid row with reason, created, ttl, denied >= 12" \
	ircq ".entries[] | select(.kind == \"pid\" and .target == \"$PH\") |
		.process_action == \"deny\" and .processes == 1 and .children == true and
		.reason == \"hooks\" and (.created | test(\"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}Z$\")) and
		.ttl_remaining == null and .expired == false and .denied >= 12 and
		.origin == \"operator\"" list
check_rc "release pid PROBE" 0 irc release pid "$PH"
fire "$IRC_TMP/p.hooks" "$PH" ${#OPS[@]}
for op in socket socket6 "connect,$H1,$PORT" "connect,$H1_6,$PORT" "udp,$H1,9" \
	"udp,$H1_6,9" "listen,7402"; do
	check "released: $op ok" eq "$(res "$IRC_TMP/p.hooks" "$PH" "$op")" ok
done
check "released: no row left" ircq "[.entries[] | select(.target == \"$PH\")] | length == 0" list
check_rc "release pid again: not quarantined, exit 1" 1 irc release pid "$PH"
kill "$PB" "$PH"; wait "$PB" "$PH" 2>/dev/null

# ---- children --------------------------------------------------------------

probe_start app "$IRC_TMP/p.kids" 30 --children 1 "connect,$H1,$PORT" || not_ok "probe with a child ready"
PK=$PROBE
PKC=$(child_of "$IRC_TMP/p.kids")
check_rc "quarantine pid PARENT (children by default)" 0 irc quarantine pid "$PK"
check "list: 2 processes in the tree" \
	ircq ".entries[] | select(.target == \"$PK\") | .processes == 2 and .children == true" list
fire "$IRC_TMP/p.kids" "$PK" 1
fire "$IRC_TMP/p.kids" "$PKC" 1
check "default: parent blocked" eq "$(res "$IRC_TMP/p.kids" "$PK" "connect,$H1,$PORT")" EPERM
check "default: existing child blocked" eq "$(res "$IRC_TMP/p.kids" "$PKC" "connect,$H1,$PORT")" EPERM
check_rc "release pid PARENT" 0 irc release pid "$PK"
fire "$IRC_TMP/p.kids" "$PK" 1
fire "$IRC_TMP/p.kids" "$PKC" 1
check "released: parent connects" eq "$(res "$IRC_TMP/p.kids" "$PK" "connect,$H1,$PORT")" ok
check "released: child connects (release takes the tree)" eq "$(res "$IRC_TMP/p.kids" "$PKC" "connect,$H1,$PORT")" ok
check_rc "quarantine pid PARENT --no-children" 0 irc quarantine pid "$PK" --no-children
check "list: 1 process, children false" \
	ircq ".entries[] | select(.target == \"$PK\") | .processes == 1 and .children == false" list
fire "$IRC_TMP/p.kids" "$PK" 1
fire "$IRC_TMP/p.kids" "$PKC" 1
check "--no-children: parent blocked" eq "$(res "$IRC_TMP/p.kids" "$PK" "connect,$H1,$PORT")" EPERM
check "--no-children: existing child left alone" eq "$(res "$IRC_TMP/p.kids" "$PKC" "connect,$H1,$PORT")" ok
check_rc "release pid PARENT" 0 irc release pid "$PK"
kill "$PK"; wait "$PK" 2>/dev/null

# A child forked after the quarantine (on SIGUSR1): with and without
# --no-children.
spawn app "$IRC_TMP/fc.def" "$PEER" fork-connect "$H1" "$PORT" 20000
FD=$SPAWNED
spawn app "$IRC_TMP/fc.noc" "$PEER" fork-connect "$H1" "$PORT" 20000
FN=$SPAWNED
wait_for 3 grep -q '^ready' "$IRC_TMP/fc.def"
wait_for 3 grep -q '^ready' "$IRC_TMP/fc.noc"
check_rc "quarantine pid FORKER" 0 irc quarantine pid "$FD"
check_rc "quarantine pid FORKER2 --no-children" 0 irc quarantine pid "$FN" --no-children
kill -USR1 "$FD" "$FN"	# now they fork
wait "$FD"; rc=$?
check "child forked after the quarantine: EPERM" grep -q '^child [0-9]* EPERM$' "$IRC_TMP/fc.def"
check "forker reports the child's failure (exit 1)" eq "$rc" 1
wait "$FN"; rc=$?
check "--no-children: child forked after the quarantine connects" grep -q '^child [0-9]* ok$' "$IRC_TMP/fc.noc"
check "forker2 exit 0" eq "$rc" 0
check "both forkers exited: no rows left" \
	ircq "[.entries[] | select(.target == \"$FD\" or .target == \"$FN\")] | length == 0" list

# ---- --action stop / kill ------------------------------------------------------

# --action stop, then release.  Each process gets a SIGUSR1 while stopped,
# which it acts on (a connect) the moment it runs again: its result shows
# whether its network was back by then.  The release runs with every
# kill() it makes held for 300 ms on the way out (strace), which widens
# the gap between the steps of the release without changing their order:
# a release that lets a process run before its entry is gone is caught
# every time, not just when the scheduler happens to show it.
probe_start app "$IRC_TMP/p.stop" 30 --children 2 "connect,$H1,$PORT" || not_ok "probe tree to stop ready"
PS=$PROBE
mapfile -t PST < <(awk '$1 == "ready" { print $2 }' "$IRC_TMP/p.stop")
check "stop: tree of 3 processes" eq "${#PST[@]}" 3
check_rc "quarantine pid P --action stop" 0 irc quarantine pid "$PS" --action stop --reason forensics
wait_for 2 all_held "${PST[@]}"
check "stop: all 3 are frozen" all_held "${PST[@]}"
check "list: process_action stop, 3 processes" \
	ircq ".entries[] | select(.target == \"$PS\") | .process_action == \"stop\" and .processes == 3" list
kill -USR1 "${PST[@]}"
sleep 0.3
check "stop: stopped processes do not run (signals stay pending)" \
	eq "$(grep -c '^[0-9]* connect' "$IRC_TMP/p.stop")" 0
check_rc "release pid P (kill() slowed)" 0 irc_slow_kill release pid "$PS"
wait_for 2 all_free "${PST[@]}"
check "released: all 3 resumed (neither frozen nor stopped)" all_free "${PST[@]}"
wait_for 3 sh -c "[ \$(grep -c '^[0-9]* connect' '$IRC_TMP/p.stop') -ge 3 ]"
check "released: each resumed process's first connect works (entry gone before SIGCONT)" \
	all_results ok "$IRC_TMP/p.stop" "connect,$H1,$PORT" "${PST[@]}"
for p in "${PST[@]}"; do fire "$IRC_TMP/p.stop" "$p" 1; done
check "released: every process of the tree connects afterwards" \
	all_results ok "$IRC_TMP/p.stop" "connect,$H1,$PORT" "${PST[@]}"
kill "$PS"; wait "$PS" 2>/dev/null

# The same through release --all: a stopped process that is in a
# quarantined cgroup too.  release --all ends both quarantines; the
# process must not run before both are gone.
mkdir -p "$IRC_CG/both"
check_rc "quarantine cgroup both" 0 irc quarantine cgroup "$IRC_CG/both"
probe_start both "$IRC_TMP/p.stop2" 30 "connect,$H1,$PORT" || not_ok "probe to stop ready"
PS2=$PROBE
check_rc "quarantine pid P2 (in cgroup both) --action stop" 0 irc quarantine pid "$PS2" --action stop
wait_for 2 held "$PS2"
kill -USR1 "$PS2"
check_rc "release --all (kill() slowed)" 0 irc_slow_kill release --all
check "release --all: resumed" wait_for 2 all_free "$PS2"
wait_for 3 lines_ge "$IRC_TMP/p.stop2" "$PS2" 1
check "release --all: the resumed process's first connect works (pid and cgroup entries gone before SIGCONT)" \
	eq "$(res "$IRC_TMP/p.stop2" "$PS2" "connect,$H1,$PORT")" ok
fire "$IRC_TMP/p.stop2" "$PS2" 1
check "release --all: it connects afterwards" eq "$(res "$IRC_TMP/p.stop2" "$PS2" "connect,$H1,$PORT")" ok
check "release --all: no rows left" ircq '.entries | length == 0' list
kill "$PS2"; wait "$PS2" 2>/dev/null

# A stopped tree of 301 processes, larger than any small fixed buffer:
# release pid and release --all each resume all of them.
spawn app "$IRC_TMP/p.big" "$PEER" probe 120 --children 300 "connect,$H1,$PORT"
PBIG=$SPAWNED
wait_for 20 ready_ge "$IRC_TMP/p.big" 301
mapfile -t PBT < <(awk '$1 == "ready" { print $2 }' "$IRC_TMP/p.big")
check "big tree: 301 processes" eq "${#PBT[@]}" 301
check_rc "quarantine pid BIG --action stop" 0 irc quarantine pid "$PBIG" --action stop
check "big tree: list shows 301 processes" \
	ircq ".entries[] | select(.target == \"$PBIG\") | .processes == 301" list
wait_for 10 all_held "${PBT[@]}"
check "big tree: all 301 frozen" all_held "${PBT[@]}"
check_rc "release pid BIG" 0 irc release pid "$PBIG"
wait_for 10 all_free "${PBT[@]}"
check "release pid: all 301 resumed" all_free "${PBT[@]}"
check_rc "quarantine pid BIG --action stop, again" 0 irc quarantine pid "$PBIG" --action stop
wait_for 10 all_held "${PBT[@]}"
check "big tree: all 301 frozen again" all_held "${PBT[@]}"
check_rc "release --all" 0 irc release --all
wait_for 10 all_free "${PBT[@]}"
check "release --all: all 301 resumed" all_free "${PBT[@]}"
kill -9 "${PBT[@]}" 2>/dev/null; wait "$PBIG" 2>/dev/null

probe_start app "$IRC_TMP/p.kill" 30 --children 2 "connect,$H1,$PORT" || not_ok "probe to kill ready"
PX=$PROBE
mapfile -t PXC < <(awk '$1 == "ready" && $3 == "child" { print $2 }' "$IRC_TMP/p.kill")
check "kill: probe has 2 children" eq "${#PXC[@]}" 2
exec 3>&2 2>/dev/null	# not bash's "Killed" notice
check_rc "quarantine pid P --action kill" 0 irc quarantine pid "$PX" --action kill
check "kill: parent is dead" wait_for 2 dead "$PX"
for c in "${PXC[@]}"; do
	check "kill: child $c is dead" wait_for 2 dead "$c"
done
wait "$PX"
exec 2>&3 3>&-
check "kill: no rows left (exit hook)" \
	ircq "[.entries[] | select(.target == \"$PX\")] | length == 0" list

# ---- --ttl ----------------------------------------------------------------------

# The TTL: 2 s, IRC_WAIT_SCALE times that where every command is slow (qemu's
# TCG), so that the checks made while it lives come before it ends.
T=$((2 * ${IRC_WAIT_SCALE:-1}))
probe_start app "$IRC_TMP/p.ttl" 30 "connect,$H1,$PORT" || not_ok "probe for ttl ready"
PT=$PROBE
check_rc "quarantine pid P --ttl ${T}s" 0 irc quarantine pid "$PT" --ttl "${T}s" --reason ttl
TQ=$SECONDS
check "list: ttl_remaining 1..$T, not expired" \
	ircq ".entries[] | select(.target == \"$PT\") | .ttl_remaining >= 1 and .ttl_remaining <= $T and .expired == false" list
fire "$IRC_TMP/p.ttl" "$PT" 1
check "ttl: blocked at once" eq "$(res "$IRC_TMP/p.ttl" "$PT" "connect,$H1,$PORT")" EPERM
while ((SECONDS < TQ + T + 1)); do sleep 0.2; done
fire "$IRC_TMP/p.ttl" "$PT" 1
check "ttl: connects again after the TTL without a release" eq "$(res "$IRC_TMP/p.ttl" "$PT" "connect,$H1,$PORT")" ok
check "ttl: the test took $T s or more since the quarantine" gt $((SECONDS - TQ + 1)) "$T"
kill "$PT"; wait "$PT" 2>/dev/null
exit 0
