#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Refusals of quarantine pid / quarantine cgroup (see proc_lib.sh):
# each exits 2, says why on stderr, and changes nothing (`list --json` is
# byte-for-byte the same before and after each, and the status entry
# counts after all of them, with one pid and one cgroup quarantine in
# place, both quiet).  Releasing
# what is not quarantined exits 1.  An ancestor of the CLI inside the
# cgroup root is refused without --force and taken with it.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/proc_lib.sh" || exit 1

# A cgroup of this test outside the hooks' root, removed at exit.
OUT_CG=$IRC_CG2/${IRC_ID}-out
trap 'rc=$?; kill -9 $(cat "$OUT_CG/cgroup.procs" 2>/dev/null) 2>/dev/null
	wait_for 2 sh -c "! grep -q . \"$OUT_CG/cgroup.procs\""
	rmdir "$OUT_CG" 2>/dev/null; (exit $rc); lab_finish' EXIT

proc_lab_up || exit 1
mkdir "$OUT_CG" || not_ok "mkdir $OUT_CG"

# The quiet quarantines: an idle probe, an empty cgroup.
probe_start app "$IRC_TMP/p" 120 "connect,$H1,$PORT" || not_ok "probe ready"
PQ=$PROBE
check_rc "quarantine pid IDLE" 0 irc quarantine pid "$PQ" --reason idle
mkdir -p "$IRC_CG/idle"
check_rc "quarantine cgroup idle" 0 irc quarantine cgroup "$IRC_CG/idle" --reason idle

snap() { irc --json list; }
entries() { irc --json status | jq -c .entries; }
SNAP=$(snap)
ENTRIES=$(entries)
check "snapshot: 2 rows" ircq '.entries | length == 2' list

# refused WHY RC PATTERN ARGS...: `irc ARGS` exits RC, its stderr matches
# PATTERN (grep -E), and nothing changed.
refused() {
	local name=$1 want=$2 pat=$3 rc after
	shift 3
	irc "$@" >"$IRC_TMP/r.out" 2>"$IRC_TMP/r.err"; rc=$?
	after=$(snap)
	if ((rc != want)); then
		not_ok "$name (exit $rc, expected $want)"
	elif ! grep -Eq "$pat" "$IRC_TMP/r.err"; then
		not_ok "$name (stderr does not match '$pat')"
	elif [[ $after != "$SNAP" ]]; then
		not_ok "$name (something changed)"
		diff <(echo "$SNAP") <(echo "$after") | sed 's/^/#   /' | head -10
		return
	else
		ok "$name"
		return
	fi
	sed 's/^/#   /' "$IRC_TMP/r.out" "$IRC_TMP/r.err" | head -5
}

free_pid=
for ((p = $(cat /proc/sys/kernel/pid_max) - 1; p > 300; p--)); do
	[[ -e /proc/$p ]] || { free_pid=$p; break; }
done
# A zombie inside the root: the child of a process that never reaps it.
spawn app "$IRC_TMP/z" bash -c 'sleep 0 & echo $!; exec sleep 120'
ZP=$SPAWNED
wait_for 2 grep -q . "$IRC_TMP/z"
ZOMBIE=$(head -1 "$IRC_TMP/z")
wait_for 2 state_is "$ZOMBIE" Z
# A process outside the cgroup root.
sleep 120 &
OUTSIDE=$!
IRC_PIDS+=("$OUTSIDE")
# A process with a second thread: that thread's TID is no process.
probe_start app "$IRC_TMP/thr" 120 --thread "connect,$H1,$PORT" || not_ok "probe with a thread ready"
TP=$PROBE
TID=$(awk '$1 == "thread" { print $2 }' "$IRC_TMP/thr")
check "the probe's second thread has its own TID ($TID)" test -n "$TID" -a "$TID" != "$TP"

refused "nonexistent PID $free_pid" 2 "no such process" quarantine pid "$free_pid"
refused "PID 1 (init)" 2 "PID 1" quarantine pid 1
refused "PID 1 --force" 2 "PID 1" quarantine pid 1 --force
refused "the test script (\$\$, an ancestor of the CLI)" 2 "ancestor" quarantine pid $$
refused "the test script's parent (\$PPID)" 2 "ancestor|PID 1" quarantine pid "$PPID"
check "PID 2 is kthreadd" eq "$(cat /proc/2/comm)" kthreadd
refused "kernel thread (PID 2, kthreadd)" 2 "kernel thread" quarantine pid 2
refused "kernel thread --force" 2 "kernel thread" quarantine pid 2 --force
refused "zombie $ZOMBIE" 2 "zombie" quarantine pid "$ZOMBIE"
refused "process outside the cgroup root" 2 "outside" quarantine pid "$OUTSIDE"
refused "process outside the cgroup root, --force" 2 "outside" quarantine pid "$OUTSIDE" --force
# A TID is not a PID.  Either refusing it or quarantining its process
# would do; taking it and leaving the process on the network would not.
# If taken, the target the command reports is the one list shows and
# release takes (a script may feed one to the other).
irc --json quarantine pid "$TID" >"$IRC_TMP/tid.out" 2>"$IRC_TMP/tid.err"; rc=$?
fire "$IRC_TMP/thr" "$TP" 1
if ((rc == 2)); then
	check "a thread's TID: refused (exit 2), nothing changed" eq "$(snap)" "$SNAP"
else
	sed 's/^/#   /' "$IRC_TMP/tid.err"
	check "a thread's TID: taken (exit $rc), so its process must be blocked" \
		eq "$(res "$IRC_TMP/thr" "$TP" "connect,$H1,$PORT")" EPERM
	tgt=$(jq -r .target "$IRC_TMP/tid.out")
	check "a thread's TID: the reported target ($tgt) is the row list shows" \
		ircq "[.entries[] | select(.kind == \"pid\" and .target == \"$tgt\")] | length == 1" list
	check_rc "a thread's TID: release pid <reported target> releases it" 0 irc release pid "$tgt"
	irc release pid "$TP" >/dev/null 2>&1
	check "a thread's TID: released, the process connects" fire "$IRC_TMP/thr" "$TP" 1
	check "a thread's TID: released, the process connects (result)" \
		eq "$(res "$IRC_TMP/thr" "$TP" "connect,$H1,$PORT")" ok
	SNAP=$(snap)
	ENTRIES=$(entries)
fi
for bad in abc 0 -5 12abc "" 4194305 99999999999; do
	refused "bad PID text '$bad'" 2 "." quarantine pid "$bad"
done
refused "--action bogus" 2 "action" quarantine pid "$PQ" --action bogus
refused "--action ''" 2 "action" quarantine pid "$PQ" --action ""
refused "--ttl bogus" 2 "ttl" quarantine pid "$PQ" --ttl bogus
refused "--ttl 367d (over 366 days)" 2 "ttl" quarantine pid "$PQ" --ttl 367d
refused "--direction on quarantine pid (not its option)" 2 "." quarantine pid "$PQ" --direction in
refused "--action on quarantine cgroup (not its option)" 2 "." quarantine cgroup "$IRC_CG/app" --action kill
refused "no PID" 2 "." quarantine pid
refused "two PIDs" 2 "." quarantine pid "$PQ" "$PQ"

refused "cgroup /tmp (not a cgroup)" 2 "not a cgroup v2" quarantine cgroup /tmp
refused "cgroup /nonexistent" 2 "." quarantine cgroup /nonexistent
refused "cgroup: a file in a cgroup dir" 2 "." quarantine cgroup "$IRC_CG/app/cgroup.procs"
for v1 in /sys/fs/cgroup/memory /sys/fs/cgroup/pids; do
	[[ -d $v1 ]] && [[ $(stat -fc %T "$v1") == cgroupfs ]] &&
		refused "cgroup v1 directory $v1" 2 "not a cgroup v2" quarantine cgroup "$v1"
done
refused "cgroup outside the hooks' root" 2 "outside" quarantine cgroup "$OUT_CG"
refused "cgroup: the cgroup2 mount itself (holds the CLI)" 2 "." quarantine cgroup "$IRC_CG2"
refused "cgroup: relative path escaping the mount" 2 "." quarantine cgroup "../../../tmp"

check_rc "release pid (not quarantined): exit 1" 1 irc release pid "$OUTSIDE"
check_rc "release pid (nonexistent): exit 1" 1 irc release pid "$free_pid"
check_rc "release pid abc: exit 2" 2 irc release pid abc
check_rc "release cgroup (not quarantined): exit 1" 1 irc release cgroup "$IRC_CG/app"
check_rc "release cgroup /tmp: exit 2" 2 irc release cgroup /tmp
check "nothing changed by the releases" eq "$(snap)" "$SNAP"
check "status: entry counts unchanged by all of the above" eq "$(entries)" "$ENTRIES"

# An ancestor of the CLI inside the root: a shell in the cgroup that runs
# the CLI on itself.  Refused; with --force, taken, and then its next child
# (forked after, it inherits) has no network.
cg_run anc bash -c '
	echo "pid=$$"
	"$0" quarantine pid $$ --reason self; echo "rc=$?"
	"$0" quarantine pid $$ --force --reason self; echo "rc=$?"
	"$1" socket' "$IRC_BIN" "$PEER" >"$IRC_TMP/anc" 2>&1
AP=$(sed -n 's/^pid=//p' "$IRC_TMP/anc")
check "ancestor inside the root: refused (exit 2), ancestor named" \
	sh -c "grep -q 'ancestor' '$IRC_TMP/anc' && grep -m1 '^rc=' '$IRC_TMP/anc' | grep -qx 'rc=2'"
check "ancestor with --force: taken (exit 0)" sh -c "grep '^rc=' '$IRC_TMP/anc' | sed -n 2p | grep -qx 'rc=0'"
check "ancestor with --force: its next child has no network" \
	sh -c "tail -1 '$IRC_TMP/anc' | grep -qx EPERM"
check "the forced entry went with the shell (exit hook)" \
	ircq "[.entries[] | select(.target == \"$AP\")] | length == 0" list

check "the quiet quarantines are still in force" says EPERM pc idle socket
fire "$IRC_TMP/p" "$PQ" 1
check "the quiet probe is still blocked" eq "$(res "$IRC_TMP/p" "$PQ" "connect,$H1,$PORT")" EPERM
kill "$PQ" "$ZP" "$TP" "$OUTSIDE"
wait "$PQ" "$ZP" "$TP" "$OUTSIDE" 2>/dev/null
exit 0
