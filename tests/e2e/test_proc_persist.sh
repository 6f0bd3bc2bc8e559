#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Process and cgroup quarantines live in the kernel, not in the CLI (see
# proc_lib.sh): set by CLI processes that are SIGKILLed right after
# their work (strace turns their exit_group into a SIGKILL: exit 137),
# they are listed and enforced; `load` again keeps them (entries, counters,
# enforcement, fork inheritance by the re-attached tracepoint, the cut of
# an open connection); release then restores the network.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/proc_lib.sh" || exit 1

proc_lab_up || exit 1
C=connect,$H1,$PORT

hold_start pers "$IRC_TMP/hold" || not_ok "hold: first echoes"
HP=$SPAWNED
probe_start pers "$IRC_TMP/p" 60 "$C" || not_ok "probe ready"
PP=$PROBE
# Forks its child on SIGUSR1, after the reload below.
spawn pers "$IRC_TMP/fc" "$PEER" fork-connect "$H1" "$PORT" 30000
FC=$SPAWNED
wait_for 3 grep -q '^ready' "$IRC_TMP/fc"
mkdir -p "$IRC_CG/pcg"

T0=$("$PEER" now)
check_rc "quarantine pid HOLDER, CLI SIGKILLed at exit: 137" 137 \
	irc_killed quarantine pid "$HP" --reason persist-hold
T1=$("$PEER" now)
check_rc "quarantine pid PROBE, CLI SIGKILLed: 137" 137 irc_killed quarantine pid "$PP" --reason persist-probe
check_rc "quarantine pid FORKER, CLI SIGKILLed: 137" 137 irc_killed quarantine pid "$FC" --reason persist-fork
check_rc "quarantine cgroup pcg, CLI SIGKILLed: 137" 137 \
	irc_killed quarantine cgroup "$IRC_CG/pcg" --reason persist-cg
check_fail "no CLI process left" irc_running

rows() {
	irc --json list | jq -c '[.entries[] | select(.kind == "pid" or .kind == "cgroup") |
		{kind, target, reason, created, process_action, children}] | sort_by(.target)'
}
check "list: the 4 rows, with their reasons" ircq "
	([.entries[] | select(.kind == \"pid\") | .target] | sort) == ([\"$HP\", \"$PP\", \"$FC\"] | sort) and
	([.entries[] | select(.kind == \"cgroup\") | .target] == [\"$IRC_CG/pcg\"]) and
	([.entries[] | .reason] | sort) == [\"persist-cg\", \"persist-fork\", \"persist-hold\", \"persist-probe\"]" list
fire "$IRC_TMP/p" "$PP" 1
check "killed CLI's pid quarantine enforced" eq "$(res "$IRC_TMP/p" "$PP" "$C")" EPERM
check "killed CLI's cgroup quarantine enforced (joiner)" says EPERM pc pcg connect "$H1" "$PORT"
kill -USR1 "$HP"
check "holder: next connect EPERM" wait_for 3 grep -q '^connect EPERM ' "$IRC_TMP/hold"
check "one refused call, one denial counted" \
	ircq ".entries[] | select(.target == \"$PP\") | .denied == 1" list
before=$(rows)
links=$(irc --json status | jq .process_hooks.links)
progs=$(cg_progs "$IRC_CG")
check "programs attached to the test cgroup ($progs)" test "$progs" -gt 0 2>/dev/null

check_rc "load again (same interface)" 0 irc load --iface iv1
check "status: process hooks still attached at the test cgroup" hooks_at_cg
check "status: as many process hook links as before (replaced, not added)" \
	ircq ".process_hooks.links == $links" status
check "list after load: the same rows (targets, reasons, created, actions)" eq "$(rows)" "$before"
fire "$IRC_TMP/p" "$PP" 1
check "after load: pid quarantine enforced" eq "$(res "$IRC_TMP/p" "$PP" "$C")" EPERM
check "after load: denied kept, +1 for one more refused call (hooks not doubled)" \
	ircq ".entries[] | select(.target == \"$PP\") | .denied == 2" list
check "after load: as many programs attached at the test cgroup as before (bpftool)" \
	eq "$(cg_progs "$IRC_CG")" "$progs"
check "after load: cgroup quarantine enforced (joiner)" says EPERM pc pcg connect "$H1" "$PORT"
check "after load: a new sub-cgroup of pcg is blocked too" says EPERM pc pcg/sub socket
kill -USR1 "$HP"
check "after load: holder's next connect EPERM" \
	wait_for 3 sh -c "[ \$(grep -c '^connect EPERM ' '$IRC_TMP/hold') -ge 2 ]"
check "after load: processes outside keep working" says ok pc other connect "$H1" "$PORT"
kill -USR1 "$FC"
wait "$FC"
check "after load: a child forked after the reload inherits (EPERM)" grep -q '^child [0-9]* EPERM$' "$IRC_TMP/fc"
hold_stop "$HP" "$T1"
check "held connection: cut within 100 ms of the killed CLI, and still cut after the reload" \
	hold_cut "$IRC_TMP/hold" "$T0" "$T1"
hold_note "$IRC_TMP/hold" "$T0" "$T1"

check_rc "release pid PROBE" 0 irc release pid "$PP"
check_rc "release cgroup pcg" 0 irc release cgroup "$IRC_CG/pcg"
fire "$IRC_TMP/p" "$PP" 1
check "released: probe connects" eq "$(res "$IRC_TMP/p" "$PP" "$C")" ok
check "released: a joiner of pcg connects" says ok pc pcg connect "$H1" "$PORT"
check "no rows left (the others exited)" ircq '[.entries[] | select(.kind == "pid" or .kind == "cgroup")] | length == 0' list
kill "$PP"
wait "$PP" 2>/dev/null
exit 0
