#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Containment lives in the kernel, not in a process: a `load` and a
# `quarantine` SIGKILLed at exit_group (after doing their work, before any
# exit path could run) leave the programs attached and the entry enforced;
# a second `load` swaps the programs in place and keeps every entry and its
# drop count; `unload` (also when killed at exit) detaches XDP and tc,
# removes the pin dir and lets traffic flow again.
. "$(dirname "$0")/lib.sh"
need_tools tc clang
lab_up 2 || { not_ok "lab up"; exit 1; }

PORT=7401

# xdp_id IF / tc_count IF: attached XDP program id (0: none), number of
# our tc filters on the egress hook.
xdp_id() { in_p ip -j -d link show "$1" | jq -r '.[0].xdp.prog.id // 0'; }
tc_count() {
	in_p tc -j filter show dev "$1" egress |
		jq '[.[] | select(.options.prog.name == "irc_tc_egress")] | length'
}

tcp_server $PORT || { not_ok "tcp server on the protected host"; exit 1; }
check "before: ping host 1" ping4 1
check "before: tcp host 1" tcp4 1 $PORT

# ---- load, killed at exit ----------------------------------------------

check_rc "load killed by SIGKILL at exit_group: exit 137" 137 \
	irc_killed load --iface iv1 --iface iv2
check_fail "no ircontain process left" irc_running
check "killed load: status shows iv1 and iv2 attached" ircq \
	'.loaded and ([.interfaces[] | select(.xdp_attached and .tc_attached) | .name] | sort == ["iv1", "iv2"])' status
check "killed load: XDP program on iv1" gt "$(xdp_id iv1)" 0
check "killed load: tc filter on iv1 egress" eq "$(tc_count iv1)" 1
p0=$(counter rx_pass)
check "killed load: traffic still flows (ping host 1)" ping4 1
check "killed load: the programs see it (rx_pass rose)" gt "$(counter rx_pass)" "$p0"

# ---- quarantine, killed at exit -----------------------------------------

check_rc "quarantine killed by SIGKILL at exit_group: exit 137" 137 \
	irc_killed quarantine host 10.77.1.2 --reason persist
check_fail "no ircontain process left" irc_running
check "killed quarantine: entry listed" ircq \
	'[.entries[] | select(.target == "10.77.1.2" and .reason == "persist")] | length == 1' list
check_fail "killed quarantine: ping host 1 blocked" ping4 1
check_fail "killed quarantine: tcp host 1 blocked" tcp4 1 $PORT
check "killed quarantine: ping host 2 works" ping4 2
d1=$(drops 10.77.1.2) r1=$(counter rx_drop_quarantine)
check "killed quarantine: drops counted" gt "$d1" 0
c1=$(irc --json list | jq -r '.entries[0].created')

check_rc "isolate on killed by SIGKILL at exit_group: exit 137" 137 irc_killed isolate on
check_fail "killed isolate on: ping host 2 blocked" ping4 2
check_rc "isolate off" 0 irc isolate off
check "isolate off: ping host 2" ping4 2

# ---- load again: programs swapped, entries kept -------------------------

x1=$(xdp_id iv1)
irc --json load --iface iv1 --iface iv2 >"$IRC_TMP/l" 2>"$IRC_TMP/l.err"
check "load again: exit 0, both replaced" jqx \
	'.action == "load" and ([.interfaces[] | select(.replaced == true)] | length == 2)' "$IRC_TMP/l"
# new_id NOW BEFORE: an attached program (id > 0) that is not the old one.
new_id() { gt "$1" 0 && { [[ $1 != "$2" ]] || { echo "still program $2"; return 1; }; }; }
check "load again: a new XDP program on iv1" new_id "$(xdp_id iv1)" "$x1"
check "load again: still one tc filter on iv1 egress" eq "$(tc_count iv1)" 1
check "load again: status shows both attached" ircq \
	'[.interfaces[] | select(.xdp_attached and .tc_attached)] | length == 2' status
check "load again: entry still listed, created and drops kept" ircq \
	".entries | length == 1 and .[0].target == \"10.77.1.2\" and .[0].created == \"$c1\" and .[0].drops >= $d1" list
check "load again: status counters kept (not reset)" gt "$(($(counter rx_drop_quarantine) + 1))" "$r1"
check_fail "load again: ping host 1 still blocked" ping4 1
check_fail "load again: tcp host 1 still blocked" tcp4 1 $PORT
check "load again: entry drops still counting" gt "$(drops 10.77.1.2)" "$d1"
check "load again: ping host 2 works" ping4 2
check "load again: tcp host 2 works" tcp4 2 $PORT

# ---- unload -------------------------------------------------------------

irc --json unload >"$IRC_TMP/u" 2>&1
check "unload: exit 0, 2 interfaces detached" jqx \
	'.action == "unload" and .interfaces_detached == 2' "$IRC_TMP/u"
check "unload: pin dir removed" test ! -e "$IRCONTAIN_PIN_DIR"
for i in iv1 iv2; do
	check "unload: no XDP on $i" sh -c \
		"! ip netns exec $IRC_NS_P ip -d link show $i | grep -q xdp"
	check "unload: no tc filter on $i egress" eq \
		"$(in_p tc filter show dev $i egress)" ""
done
check "unload: ping host 1 flows again" ping4 1
check "unload: tcp host 1 flows again" tcp4 1 $PORT
check "unload: status says not loaded" ircq '.loaded == false' status
irc quarantine host 10.77.1.2 >/dev/null 2>"$IRC_TMP/err"; rc=$?
check "after unload: quarantine exits 1" eq "$rc" 1
check "after unload: it says not loaded, run load" grep -q "not loaded.*load" "$IRC_TMP/err"
check_rc "after unload: unload again exits 1" 1 irc unload

# ---- load afresh, unload killed at exit ---------------------------------

check_rc "load afresh" 0 irc load --iface iv1
# Unload detaches; it releases nothing: the store still says 10.77.1.2 is
# quarantined, so a load restores it (test_restore.sh has the details).
check "load afresh: the quarantine in force is restored from the store" ircq \
	'[.entries[] | .target] == ["10.77.1.2"]' list
check_rc "release host 10.77.1.2" 0 irc release host 10.77.1.2
check_rc "unload killed by SIGKILL at exit_group: exit 137" 137 irc_killed unload
check "killed unload: pin dir removed" test ! -e "$IRCONTAIN_PIN_DIR"
check "killed unload: no XDP on iv1" eq "$(xdp_id iv1)" 0
check "killed unload: no tc filter on iv1" eq "$(tc_count iv1)" 0
check "killed unload: ping host 1" ping4 1

# ---- a first load that fails half-way leaves nothing behind -------------
# A foreign XDP program on iv2: the process hooks and iv1 were attached
# before iv2 refused; all of it must go again.
cat >"$IRC_TMP/foreign.bpf.c" <<'C'
struct xdp_md;
__attribute__((section("xdp"), used)) int foreign(struct xdp_md *ctx) { return 2; /* XDP_PASS */ }
char _license[] __attribute__((section("license"), used)) = "GPL";
C
clang -O2 -target bpf -c "$IRC_TMP/foreign.bpf.c" -o "$IRC_TMP/foreign.bpf.o"
check "a foreign XDP program on iv2" in_p ip link set dev iv2 xdpgeneric obj "$IRC_TMP/foreign.bpf.o" sec xdp
foreign=$(xdp_id iv2)
irc load --iface iv1 --iface iv2 >/dev/null 2>"$IRC_TMP/err"; rc=$?
check "load over a foreign XDP program: exit 1" eq "$rc" 1
check "it names iv2 and the other program" grep -q "iv2: another XDP program" "$IRC_TMP/err"
check "the foreign program is untouched" eq "$(xdp_id iv2)" "$foreign"
check "iv1 was detached again" eq "$(xdp_id iv1)" 0
check "no tc filter left on iv1" eq "$(tc_count iv1)" 0
links_left() { find "$IRCONTAIN_PIN_DIR" -path '*/links/*' 2>/dev/null | wc -l; }
check "no process-hook link left pinned" eq "$(links_left)" 0
check "no cgroup program left on the test cgroup" \
	eq "$(cg_progs "$IRC_CG")" 0
in_p ip link set dev iv2 xdpgeneric off
check "ping host 1" ping4 1
