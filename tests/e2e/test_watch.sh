#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# The controller keeps the data path whole: an XDP program detached (its
# link unpinned) or a tc filter deleted by another tool is attached again
# within 1 s, recorded as a "tamper" event and a "reattach" action; an
# interface that matches `run --iface 'iv*'` gets the programs when it is
# hot-plugged and is released when it goes; a renamed interface is followed;
# expired entries are removed from the maps and recorded as "expire".
# The glob only ever matches the lab's own interfaces (this netns has no other).
. "$(dirname "$0")/lib.sh"
lab_up 3 || { not_ok "lab up"; exit 1; }

xdp_id() { in_p ip -j -d link show "$1" 2>/dev/null | jq -r '.[0].xdp.prog.id // 0'; }
tc_count() {
	in_p tc -j filter show dev "$1" egress 2>/dev/null |
		jq '[.[] | select(.options.prog.name == "irc_tc_egress")] | length'
}
ifindex() { in_p cat "/sys/class/net/$1/ifindex"; }
db() { sqlite3 "$IRCONTAIN_STATE_DIR/ircontain.db" "$1"; }
attached() { ircq "[.interfaces[] | select(.name == \"$1\" and .xdp_attached and .tc_attached)] | length == 1" status; }
# ms_until SECONDS CMD...: milliseconds until CMD succeeds, or "timeout".
ms_until() {
	local t0 t1 lim=$1; shift
	t0=$(date +%s%N)
	if wait_for "$lim" "$@"; then t1=$(date +%s%N); echo $(((t1 - t0) / 1000000)); else echo timeout; fi
}
le() { [[ $1 != timeout ]] && (($1 <= $2)) || { echo "$1 is not <= $2"; return 1; }; }

# iv3 is hot-plugged later: not there at load.
in_p ip link del iv3
check_rc "load --iface 'iv*'" 0 irc load --iface 'iv*'
check_rc "quarantine host 10.77.1.2" 0 irc quarantine host 10.77.1.2
check_rc "quarantine host 10.77.3.2" 0 irc quarantine host 10.77.3.2
bg nsenter --net="/run/netns/$IRC_NS_P" "$IRC_BIN" run --iface 'iv*' \
	--events-file "$IRC_TMP/events.jsonl" 2>"$IRC_TMP/run.err"
check "controller started" wait_for 10 grep -q "run: events to" "$IRC_TMP/run.err"

# ---- tamper: XDP -----------------------------------------------------------
x1=$(xdp_id iv1)
check "XDP on iv1" gt "$x1" 0
rm -f "$IRC_PIN_DIR/links/xdp_$(ifindex iv1)"
ms=$(ms_until 3 sh -c "[ \$(ip netns exec $IRC_NS_P ip -j -d link show iv1 | jq -r '.[0].xdp.prog.id // 0') != 0 ]")
check "XDP unpinned (detached) by another tool: attached again within 1 s ($ms ms)" le "$ms" 1000
check_fail "iv1 re-attached: ping host 1 blocked again" ping4 1
check "re-attached: status shows iv1 attached" attached iv1

# ---- tamper: tc ------------------------------------------------------------
in_p tc filter del dev iv1 egress
ms=$(ms_until 3 sh -c "[ \$(ip netns exec $IRC_NS_P tc -j filter show dev iv1 egress | jq '[.[] | select(.options.prog.name == \"irc_tc_egress\")] | length') = 1 ]")
check "tc filter deleted by another tool: attached again within 1 s ($ms ms)" le "$ms" 1000
wait_for 2 sh -c "[ \$(sqlite3 '$IRCONTAIN_STATE_DIR/ircontain.db' \"select count(*) from actions where type = 'reattach'\") -ge 2 ]"
check "two tamper events in the store" eq "$(db "select count(*) from events where type = 'tamper' and target = 'iface:iv1'")" 2
check "two reattach actions, both ok" eq "$(db "select count(*) from actions where type = 'reattach' and body like '%\"result\":\"ok\"%'")" 2
check "tamper events in the events file" sh -c "jq -c 'select(.event.action == \"tamper\")' '$IRC_TMP/events.jsonl' | grep -q iv1"

# ---- hot-plug ----------------------------------------------------------------
check_fail "iv3 absent: nothing recorded for it" attached iv3
ip link add iv3 netns "$IRC_NS_P" type veth peer name hv netns "${IRC_NS_PFX}h3"
in_p ip addr add 10.77.3.1/24 dev iv3
in_p ip link set iv3 up
in_h 3 ip addr add 10.77.3.2/24 dev hv
in_h 3 ip link set hv up
ms=$(ms_until 3 attached iv3)
check "hot-plugged iv3 (matches iv*): programs attached within 1 s ($ms ms)" le "$ms" 1000
check_fail "hot-plugged iv3: the quarantine of host 3 applies" ping4 3
check "an attach action for iv3" wait_for 2 sh -c \
	"[ \$(sqlite3 '$IRCONTAIN_STATE_DIR/ircontain.db' \"select count(*) from actions where type = 'attach' and target = 'iface:iv3'\") = 1 ]"

# ---- rename --------------------------------------------------------------------
in_p ip link set iv2 name iw2
check "renamed iv2 -> iw2: followed, still attached" wait_for 2 attached iw2
check "rename recorded" wait_for 2 sh -c \
	"[ \$(sqlite3 '$IRCONTAIN_STATE_DIR/ircontain.db' \"select count(*) from actions where type = 'rename' and target = 'iface:iw2'\") = 1 ]"
check "renamed: no spurious tamper" eq "$(db "select count(*) from events where type = 'tamper' and target like 'iface:iw%'")" 0

# ---- removal -------------------------------------------------------------------
in_p ip link del iv3
check "iv3 deleted: released (no record left) within 1 s" wait_for 1 ircq \
	'[.interfaces[] | select(.name == "iv3")] | length == 0' status
check "detach recorded" wait_for 2 sh -c \
	"[ \$(sqlite3 '$IRCONTAIN_STATE_DIR/ircontain.db' \"select count(*) from actions where type = 'detach' and target = 'iface:iv3'\") = 1 ]"

# ---- expiry clean-up -----------------------------------------------------------
check_rc "quarantine host 10.77.2.2 --ttl 1s" 0 irc quarantine host 10.77.2.2 --ttl 1s
check "expired entry removed from the map by the controller (<= 7 s)" wait_for 8 ircq \
	'[.entries[] | select(.target == "10.77.2.2")] | length == 0' list
check "its removal is an 'expire' action" wait_for 2 sh -c \
	"[ \$(sqlite3 '$IRCONTAIN_STATE_DIR/ircontain.db' \"select count(*) from actions where type = 'expire' and target = 'host:10.77.2.2'\") = 1 ]"
check "the live entry stays" ircq '[.entries[] | select(.target == "10.77.1.2")] | length == 1' list

pid=${IRC_PIDS[-1]}
kill -TERM "$pid"
check "controller exits 0 on SIGTERM" wait "$pid"
check "the chain verifies" irc verify
