#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# `quarantine pid --action stop` survives the kernel's orphaned-process-
# group rule and anyone's SIGCONT.
#
# When a process exits and so orphans a process group of its session that
# has a stopped job, the kernel sends that group SIGHUP then SIGCONT: a
# process stopped by SIGSTOP alone dies of the SIGHUP (default action) or,
# if it ignores SIGHUP, runs again.  ircontain freezes a stopped tree with
# the cgroup v2 freezer instead (a frozen process is no stopped job, and
# only SIGKILL reaches it).
#
# Each tree: a session leader S (python) starts two jobs,
# each in a process group of its own: a ticker with the default SIGHUP
# action (T1) and one that ignores SIGHUP (T2), each appending a line to a
# file every 100 ms.  S exits when told (a FIFO), orphaning both groups.
#
#   - control, plain `kill -STOP`: S exits; T1 is killed by the SIGHUP, T2
#     ticks again (this is what the test would see without the fix, and
#     shows the rule fires here);
#   - ircontain: both quarantined with --action stop: frozen (the freeze
#     cgroup reports frozen 1), no ticks; S exits; both are still there, no
#     tick for 1 s, `kill -CONT` changes nothing, list still shows both
#     stopped; release pid resumes each, alive, ticking;
#   - a process killed while frozen leaves an empty freeze cgroup, which
#     the next stop in that cgroup removes.
. "$(dirname "$0")/lib.sh"
need_tools python3

lab_up 1 || { not_ok "lab up"; exit 1; }
check_rc "load --iface iv1" 0 irc load --iface iv1

# tree NAME: starts S in cgroup NAME; sets S, T1, T2 (PIDs), files in $IRC_TMP/NAME.*.
# S is python, not a shell: a shell that exits with stopped jobs sends them
# SIGTERM and SIGCONT itself (bash does), which would hide the kernel's rule.
tree() {
	local n=$1 f=$IRC_TMP/$1
	mkfifo "$f.go"
	bg cg_run "$n" setsid python3 -c '
import os, sys
f = sys.argv[1]
def job(n, ignore_hup):
    pid = os.fork()
    if pid == 0:
        os.setpgid(0, 0)
        trap = "trap \"\" HUP; " if ignore_hup else ""
        os.execvp("bash", ["bash", "-c", trap + "while :; do echo t >>%s.t%d; sleep 0.1; done" % (f, n)])
    open("%s.p%d" % (f, n), "w").write(str(pid))
open(f + ".s", "w").write(str(os.getpid()))
job(1, False)
job(2, True)
open(f + ".go").read()' "$f"
	wait_for 5 test -s "$f.p2" -a -s "$f.t2" || return 1
	S=$(<"$f.s") T1=$(<"$f.p1") T2=$(<"$f.p2")
}
# orphan NAME: S exits (its jobs' process groups are orphaned).
orphan() { echo go >"$IRC_TMP/$1.go"; wait_for 5 dead "$S"; }
dead() { [[ ! -e /proc/$1 || $(awk '{ print $3 }' "/proc/$1/stat" 2>/dev/null) == Z ]]; }
alive() { ! dead "$1"; }
lines() { wc -l <"$1" 2>/dev/null || echo 0; }
# ticks FILE: FILE grows within 1 s.  still FILE: it does not for 1 s.
ticks() { local a; a=$(lines "$1"); sleep 1; (($(lines "$1") > a)); }
still() { local a b; a=$(lines "$1"); sleep 1; b=$(lines "$1"); ((b == a)) || { echo "$a -> $b lines"; return 1; }; }
pgrp_of() { awk '{ print $5 }' "/proc/$1/stat"; }
frozen_cg() { # PID: in a freeze cgroup that reports frozen 1
	local cg
	cg=$(awk -F:: '/^0::/ { print $2 }' "/proc/$1/cgroup")
	[[ $cg == */ircontain.stop.* ]] && grep -qx "frozen 1" "$IRC_CG2$cg/cgroup.events" ||
		{ echo "cgroup $cg"; return 1; }
}

# ---- control: SIGSTOP alone ---------------------------------------------

tree ctl || not_ok "control tree started"
check "control: each job has its own process group, S another" \
	eval '[[ $(pgrp_of $T1) == $T1 && $(pgrp_of $T2) == $T2 && $(pgrp_of $T1) != $(pgrp_of $S) ]]'
kill -STOP "$T1" "$T2"
check "control: stopped by SIGSTOP, no ticks" still "$IRC_TMP/ctl.t2"
check "control: S exits" orphan ctl
check "control: the orphaned group's SIGHUP killed T1 (default action)" wait_for 3 dead "$T1"
check "control: T2 (ignores SIGHUP) got SIGCONT and ticks again" ticks "$IRC_TMP/ctl.t2"
kill -9 "$T2" 2>/dev/null

# ---- ircontain --action stop ----------------------------------------------

tree q || not_ok "tree started"
check_rc "quarantine pid T1 --action stop" 0 irc quarantine pid "$T1" --action stop --reason orphan-test
check "quarantine pid T2 --action stop (--json: frozen; its sleep child may have exited)" \
	ircq '.process_action == "stop" and .frozen >= 1' quarantine pid "$T2" --action stop
check "T1 frozen by the cgroup freezer" frozen_cg "$T1"
check "T2 frozen by the cgroup freezer" frozen_cg "$T2"
check "no ticks from T1" still "$IRC_TMP/q.t1"
check "no ticks from T2" still "$IRC_TMP/q.t2"
check "S exits: both process groups orphaned" orphan q
sleep 0.5
check "T1 alive after the orphaned group's SIGHUP+SIGCONT (none was sent)" alive "$T1"
check "T2 alive" alive "$T2"
check "T1 still does not run" still "$IRC_TMP/q.t1"
check "T2 still does not run" still "$IRC_TMP/q.t2"
kill -CONT "$T1" "$T2"
check "kill -CONT by anyone: T1 does not run" still "$IRC_TMP/q.t1"
check "  nor T2" still "$IRC_TMP/q.t2"
check "still frozen" eval 'frozen_cg $T1 && frozen_cg $T2'
check "list: both still contained, process_action stop" \
	ircq "[.entries[] | select(.target == \"$T1\" or .target == \"$T2\") | .process_action] == [\"stop\", \"stop\"]" list
check_rc "release pid T1" 0 irc release pid "$T1"
check "T1 runs again, alive" eval 'ticks "$IRC_TMP/q.t1" && alive $T1'
check "T1 back in its own cgroup, the freeze cgroup removed" \
	eval "grep -qx '0::${IRC_CG#$IRC_CG2}/q' /proc/$T1/cgroup && [[ ! -e $IRC_CG/q/ircontain.stop.$T1 ]]"
check "T2 still does not run" still "$IRC_TMP/q.t2"
check_rc "release pid T2" 0 irc release pid "$T2"
check "T2 runs again, alive" eval 'ticks "$IRC_TMP/q.t2" && alive $T2'

# A process killed while frozen leaves its freeze cgroup empty: the next
# stop in the same cgroup removes it.
check_rc "T1 stopped again" 0 irc quarantine pid "$T1" --action stop
# T1 and its child (a sleep), the whole frozen tree, by their PIDs.
kill -9 $(cat "$IRC_CG/q/ircontain.stop.$T1/cgroup.procs")
check "T1's tree killed while frozen" wait_for 3 eval "dead $T1 && [[ -z \$(cat $IRC_CG/q/ircontain.stop.$T1/cgroup.procs) ]]"
check "its freeze cgroup is left, empty" test -d "$IRC_CG/q/ircontain.stop.$T1"
check_rc "T2 stopped" 0 irc quarantine pid "$T2" --action stop
check "T1's empty freeze cgroup removed by T2's stop; T2's in place" \
	eval "[[ ! -e $IRC_CG/q/ircontain.stop.$T1 && -d $IRC_CG/q/ircontain.stop.$T2 ]]"
kill -9 "$T2" 2>/dev/null

lab_finish
