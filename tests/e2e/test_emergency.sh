#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Break-glass: `unload --emergency` removes every program, link and pin
# even when the pin dir is damaged (maps unpinned: a plain unload fails) and
# records that it did so while the store is writable; and when the store is
# corrupt and every pin is gone, it still finds and removes the tc filters
# left on the interfaces (their pins never held them), saying the record
# could not be written.  --iface limits it to the lab's own interfaces.
. "$(dirname "$0")/lib.sh"
lab_up 2 || { not_ok "lab up"; exit 1; }

xdp_id() { in_p ip -j -d link show "$1" | jq -r '.[0].xdp.prog.id // 0'; }
tc_count() {
	in_p tc -j filter show dev "$1" egress |
		jq '[.[] | select(.options.prog.name == "irc_tc_egress")] | length'
}
all_gone() {
	local i
	for i in iv1 iv2; do
		eq "$(xdp_id $i)" 0 || return 1
		eq "$(tc_count $i)" 0 || return 1
	done
	eq "$(cg_progs "$IRC_CG")" 0
}

check_rc "load --iface 'iv*'" 0 irc load --iface 'iv*'
check_rc "quarantine host 10.77.1.2" 0 irc quarantine host 10.77.1.2
check_fail "host 1 blocked" ping4 1
check "process hooks attached" gt "$(cg_progs "$IRC_CG")" 0

# ---- a damaged pin dir, a writable store ----------------------------------
rm "$IRC_PIN_DIR/irc_config" "$IRC_PIN_DIR/irc_ifaces"
check_rc "damaged pin dir: plain unload fails" 1 irc unload
irc --json unload --emergency >"$IRC_TMP/u" 2>"$IRC_TMP/u.err"; rc=$?
check "unload --emergency: exit 0" eq "$rc" 0
check "it reports links detached and pins removed" jqx \
	'.action == "unload.emergency" and .links_detached >= 2 and .pins_removed > 10 and .errors == 0' "$IRC_TMP/u"
check "pin dir gone" test ! -e "$IRC_PIN_DIR"
check "no XDP, no tc filter, no cgroup program left" all_gone
check "host 1 reachable" ping4 1
check "the break-glass is on record" sh -c \
	"sqlite3 '$IRCONTAIN_STATE_DIR/ircontain.db' \"select count(*) from actions where type = 'unload.emergency'\" | grep -qx 1"

# ---- every pin gone, the store corrupt ------------------------------------
check_rc "load again" 0 irc load --iface 'iv*'
check_fail "restored: host 1 blocked" ping4 1
find "$IRC_PIN_DIR" -depth -mindepth 1 -delete; rmdir "$IRC_PIN_DIR"
check "pins gone, yet the tc filters stay on the interfaces" eq "$(tc_count iv1)" 1
rm -f "$IRCONTAIN_STATE_DIR"/ircontain.db-*
head -c 8192 /dev/urandom >"$IRCONTAIN_STATE_DIR/ircontain.db"
irc --json unload --emergency --iface 'iv*' >"$IRC_TMP/u" 2>"$IRC_TMP/u.err"; rc=$?
check "corrupt store, no pins: unload --emergency exits 0" eq "$rc" 0
check "it detached the two tc filters" jqx '.tc_filters_detached == 2 and .errors == 0' "$IRC_TMP/u"
check "it says the record could not be written" grep -q "could not record" "$IRC_TMP/u.err"
check "no XDP, no tc filter, no cgroup program left" all_gone
check "host 1 reachable" ping4 1
