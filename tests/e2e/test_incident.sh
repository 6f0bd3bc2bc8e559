#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Incidents and the CLI's own record, on real processes and real traffic:
#
#   - incident open/list/show/note/status/close, text and --json; reading
#     commands create no store; the store's modes (dir 0700, db and key 0600);
#   - every bad input exits 2 with one line naming it and changes nothing
#     (the store's row counts and incidents are compared before and after);
#     a closed incident takes no note, status or containment;
#   - --incident on quarantine host|pid|cgroup, release and isolate: an
#     unknown or closed incident refuses the command before anything is
#     changed; otherwise each command records its action (actor from
#     SUDO_UID, target, reason, result) and a detected incident becomes
#     contained; allow and policy apply record theirs;
#   - quarantine pid of a process holding a TCP connection stores, before
#     the quarantine, a snapshot whose SHA-256 is sha256sum's of the binary,
#     whose cmdline, ancestry and cgroup are the process's, and whose
#     sockets hold that connection; --action kill and quarantine cgroup
#     snapshot too;
#   - show's timeline: the incident's records and those of its entities,
#     in chain order;
#   - a store that cannot be written: the containment stays, exit 1, and
#     the warning says it was not recorded.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/proc_lib.sh" || exit 1
need_tools sqlite3 sha256sum

ST=$IRCONTAIN_STATE_DIR
DB=$ST/ircontain.db

# sq SQL: one query on the store.
sq() { sqlite3 -batch "$DB" "$1"; }

# counts: everything a refused command could have changed in the store.
counts() {
	[[ -e $DB ]] || { echo "no store"; return; }
	sq "SELECT (SELECT count(*) FROM incidents), (SELECT count(*) FROM actions),
	    (SELECT count(*) FROM events), (SELECT count(*) FROM evidence),
	    (SELECT group_concat(id || ':' || status || ':' || updated_ns || ':' || summary, ',')
	     FROM incidents)"
}

# bad NAME NEEDLE ARGS...: `irc ARGS` exits 2 with one stderr line naming
# NEEDLE, and neither the store nor the kernel's entries changed.
bad() {
	local name=$1 needle=$2 before after kbefore kafter rc why=()
	shift 2
	before=$(counts)
	kbefore=$(irc_state)
	irc "$@" >"$IRC_TMP/bo" 2>"$IRC_TMP/be"
	rc=$?
	after=$(counts)
	kafter=$(irc_state)
	((rc == 2)) || why+=("exit $rc, expected 2")
	(($(grep -c '' "$IRC_TMP/be") == 1)) || why+=("$(grep -c '' "$IRC_TMP/be") lines on stderr")
	grep -qF -- "$needle" "$IRC_TMP/be" || why+=("stderr does not name '$needle'")
	[[ -s $IRC_TMP/bo ]] && why+=("stdout not empty")
	[[ $before == "$after" ]] || why+=("store changed: $before -> $after")
	[[ $kbefore == "$kafter" ]] || why+=("entries changed")
	if ((${#why[@]} == 0)); then ok "$name"; else
		not_ok "$name ($(IFS=';'; echo "${why[*]}"))"
		sed 's/^/#   stderr: /' "$IRC_TMP/be" | head -3
	fi
}

# irc_state: the kernel side (entries, isolation).
irc_state() {
	irc --json list 2>&1
	irc --json isolate status 2>&1
}

# act TYPE [TARGET]: the latest action row of TYPE (and TARGET) as JSON.
act() {
	sq "SELECT json_object('seq', seq, 'incident', incident, 'actor', actor,
	    'target', target, 'body', json(body)) FROM actions WHERE type = '$1'
	    ${2+AND target = '$2'} ORDER BY seq DESC LIMIT 1"
}

# snap PID: the latest snapshot of PID (its body).
snap() {
	sq "SELECT json_object('incident', incident, 'actor', actor, 'target', target,
	    'body', json(body)) FROM evidence WHERE type = 'snapshot'
	    AND target = 'pid:$1' ORDER BY seq DESC LIMIT 1"
}

mode() { eq "$(stat -c %a "$1")" "$2"; }

proc_lab_up || exit 1

# ---- no store yet: reading creates nothing -------------------------------

check "incident list, no store: exit 0, no incidents" says "no incidents" irc incident list
check "incident list --json, no store: nothing printed" says "" irc --json incident list
bad "incident show, no store: unknown id" "no incident 1" incident show 1
bad "incident note, no store: unknown id" "no incident 1" incident note 1 hello
check "reading commands created no state dir" test ! -e "$ST"

# ---- open, list, show ------------------------------------------------------

check "open: prints the new id" says 1 irc incident open --title "C2 beacon from web1" --severity high
check "state dir is 0700" mode "$ST" 700
check "ircontain.db is 0600" mode "$DB" 600
check "hmac.key is 0600" mode "$ST/hmac.key" 600
irc --json incident open --title "odd login" --severity low >"$IRC_TMP/o2"
check "open --json: id 2, detected, low, opened by root" jqx \
	'.id == 2 and .status == "detected" and .severity == "low" and .title == "odd login" and .opened_by == "root" and (.opened | test("^[0-9-]+T[0-9:]+Z$")) and .closed == null' \
	"$IRC_TMP/o2"
irc incident list >"$IRC_TMP/l"
check "list: header and two rows, newest first" sh -c \
	"head -1 $IRC_TMP/l | grep -q '^ID  *STATUS  *SEVERITY  *OPENED (UTC)  *TITLE' &&
	 sed -n 2p $IRC_TMP/l | grep -qE '^2 +detected +low +[0-9T:-]+Z +odd login$' &&
	 sed -n 3p $IRC_TMP/l | grep -qE '^1 +detected +high +[0-9T:-]+Z +C2 beacon from web1$'"
irc --json incident list >"$IRC_TMP/lj"
check "list --json: one object per incident" jqx -s \
	'length == 2 and .[0].id == 2 and .[1].id == 1 and .[1].severity == "high"' "$IRC_TMP/lj"
check "list --status detected: both" jqx -s 'length == 2' <<<"$(irc --json incident list --status detected)"
check "list --status closed: none" says "no incidents with status closed" irc incident list --status closed

# ---- every bad input: exit 2, nothing changed -------------------------------

T201=$(printf 't%.0s' {1..201})
N4001=$(printf 'n%.0s' {1..4001})
bad "open: no --title" "--title" incident open --severity high
bad "open: no --severity" "--severity" incident open --title x
bad "open: unknown severity names the valid ones" "low, medium, high, critical" \
	incident open --title x --severity urgent
bad "open: empty title" "--title" incident open --title "" --severity low
bad "open: title of 201 bytes" "at most 200" incident open --title "$T201" --severity low
bad "open: title with a newline" "control character" incident open --title $'a\nb' --severity low
bad "open: unexpected argument" "extra" incident open --title x --severity low extra
bad "open: unknown option" "--bogus" incident open --title x --severity low --bogus
bad "show: id not a number" "bad incident id 'x'" incident show x
bad "show: id 0" "bad incident id '0'" incident show 0
bad "show: negative id" "'-1'" incident show -1
bad "show: unknown id" "no incident 99" incident show 99
bad "show: missing id" "missing argument" incident show
bad "note: bad id" "bad incident id '1x'" incident note 1x hello
bad "note: unknown id" "no incident 99" incident note 99 hello
bad "note: empty text" "empty" incident note 1 ""
bad "note: 4001 bytes" "at most 4000" incident note 1 "$N4001"
bad "note: missing text" "missing argument" incident note 1
bad "status: unknown state names the valid ones" "detected, triaged, contained, eradicated, recovered" \
	incident status 1 bogus
bad "status: closed is refused, says to use close" "incident close ID --summary" incident status 1 closed
bad "status: bad id" "bad incident id 'one'" incident status one triaged
bad "status: unknown id" "no incident 99" incident status 99 triaged
bad "close: no --summary" "--summary" incident close 1
bad "close: empty summary" "--summary" incident close 1 --summary ""
bad "close: summary of 4001 bytes" "at most 4000" incident close 1 --summary "$N4001"
bad "close: bad id" "bad incident id 'x'" incident close x --summary done
bad "close: unknown id" "no incident 99" incident close 99 --summary done
bad "list: unknown --status" "bogus" incident list --status bogus
bad "unknown incident verb" "frobnicate" incident frobnicate

# ---- note, status, close -----------------------------------------------------

check "note: recorded" says "noted on incident 1" irc incident note 1 "beacon every 60 s to 203.0.113.7"
check "note --json: id and seq" ircq '.id == 1 and .action == "incident.note" and .seq > 0' \
	incident note 1 "second note"
check "status 1 triaged" says "incident 1: detected -> triaged" irc incident status 1 triaged
check "status --json 2 triaged" ircq '.id == 2 and .status == "triaged" and .from == "detected" and .changed' \
	incident status 2 triaged
check "status to the same state changes nothing" says "incident 1 is already triaged" \
	irc incident status 1 triaged
check "close 2 --summary" says "incident 2: triaged -> closed" \
	irc incident close 2 --summary "false positive: admin VPN"
check "show --json 2: closed with its summary and close time" ircq \
	'.incident.status == "closed" and .incident.summary == "false positive: admin VPN" and (.incident.closed | type == "string")' \
	incident show 2
bad "closed: note refused" "incident 2 is closed" incident note 2 more
bad "closed: status refused" "incident 2 is closed" incident status 2 triaged
bad "closed: close again refused" "incident 2 is closed" incident close 2 --summary again
check "show 1 --json: timeline open, 2 notes, status, in chain order" ircq \
	'[.timeline[].type] == ["incident.open", "incident.note", "incident.note", "incident.status"] and
	 ([.timeline[].seq] | . == sort) and .timeline[1].text == "beacon every 60 s to 203.0.113.7" and
	 .timeline[3].text == "detected -> triaged" and (.timeline | all(.actor == "root" and .kind == "action"))' \
	incident show 1
irc incident show 1 >"$IRC_TMP/s1"
check "show 1: header" sh -c "grep -q '^incident 1: C2 beacon from web1$' $IRC_TMP/s1 &&
	grep -qE '^  severity: +high$' $IRC_TMP/s1 && grep -qE '^  status: +triaged$' $IRC_TMP/s1 &&
	grep -qE '^  opened: +[0-9T:-]+Z by root$' $IRC_TMP/s1 && grep -q '^timeline:' $IRC_TMP/s1"
check "show 1: the note on its timeline line" grep -qE \
	'^  [0-9T:.-]+Z +action +incident.note +root +- +beacon every 60 s to 203.0.113.7$' "$IRC_TMP/s1"

# ---- containment with --incident ----------------------------------------------

check "open incident 3 (critical)" says 3 irc incident open --title "web1 intrusion" --severity critical

bad "quarantine host --incident unknown" "no incident 99" quarantine host 10.77.1.2 --incident 99
bad "quarantine host --incident closed" "incident 2 is closed" quarantine host 10.77.1.2 --incident 2
bad "quarantine host --incident x" "--incident 'x'" quarantine host 10.77.1.2 --incident x
bad "quarantine host --incident 0" "--incident '0'" quarantine host 10.77.1.2 --incident 0
bad "quarantine cgroup --incident unknown" "no incident 99" quarantine cgroup "$IRC_CG/app" --incident 99
bad "release host --incident closed" "incident 2 is closed" release host 10.77.1.2 --incident 2
bad "release --all --incident unknown" "no incident 99" release --all --incident 99
bad "release pid --incident unknown" "no incident 99" release pid 1234 --incident 99
bad "release cgroup --incident closed" "incident 2 is closed" release cgroup "$IRC_CG/app" --incident 2
bad "isolate on --incident closed" "incident 2 is closed" isolate on --incident 2
bad "isolate off --incident unknown" "no incident 99" isolate off --incident 99
bad "isolate on --reason with a control character" "--reason" isolate on --reason $'a\x01b'
bad "release host --reason too long" "--reason" release host 10.77.1.2 \
	--reason "$(printf 'r%.0s' {1..64})"

# A held connection, then a quarantine on a closed incident: refused, and
# no snapshot taken, nothing in the kernel.
hold_start app "$IRC_TMP/hold" || not_ok "holder: first echoes"
HP=$SPAWNED
bad "quarantine pid --incident closed: refused, no snapshot" "incident 2 is closed" \
	quarantine pid "$HP" --incident 2
check "the holder still talks" wait_for 2 sh -c "tail -1 $IRC_TMP/hold | grep -q '^echo '"

# quarantine host, as another user behind sudo: actor, target, reason, result.
SUDO_UID=65534 SUDO_USER=nobody irc quarantine host 10.77.1.2 --incident 3 \
	--reason "C2 beacon" >"$IRC_TMP/q" 2>&1
check "quarantine host --incident 3 (as nobody via sudo): exit 0" eq "$?" 0
check "quarantine host: action recorded" jqx \
	'.incident == 3 and .actor == "nobody" and .target == "host:10.77.1.2" and .body.reason == "C2 beacon" and .body.result == "ok" and .body.uid == 65534 and .body.direction == "both" and .body.change == "added"' \
	<<<"$(act quarantine host:10.77.1.2)"
check "incident 3 detected -> contained, by nobody" jqx \
	'.incident == 3 and .actor == "nobody" and .body.from == "detected" and .body.to == "contained"' \
	<<<"$(act incident.status)"
check "incident 3 is contained" ircq '.incident.status == "contained"' incident show 3

# A v4-mapped prefix: recorded as the IPv4 prefix the command prints.
check "quarantine host ::ffff:10.77.1.0/120 prints 10.77.1.0/24" grep -q "^quarantined 10.77.1.0/24 " \
	<(irc quarantine host ::ffff:10.77.1.0/120 --incident 3 --force 2>&1)
check "... recorded as host:10.77.1.0/24" jqx '.incident == 3 and .actor == "root"' \
	<<<"$(act quarantine host:10.77.1.0/24)"
check "release host 10.77.1.0/24 --incident 3 --reason" says "released 10.77.1.0/24" \
	irc release host 10.77.1.0/24 --incident 3 --reason "too wide"
check "release recorded with its reason" jqx \
	'.incident == 3 and .body.reason == "too wide" and .body.result == "ok"' \
	<<<"$(act release host:10.77.1.0/24)"
check_rc "release host 10.77.1.3 (not quarantined): exit 1" 1 irc release host 10.77.1.3
check "... recorded as a failed release" jqx '.incident == 0 and .body.result == "No such file or directory"' \
	<<<"$(act release host:10.77.1.3)"

# quarantine pid of the holder: the snapshot, taken before the quarantine.
ev0=$(sq "SELECT count(*) FROM evidence")
irc --json quarantine pid "$HP" --incident 3 --reason "beacon" >"$IRC_TMP/qp" 2>&1
check "quarantine pid HOLDER --incident 3: exit 0" eq "$?" 0
check "one snapshot stored" eq "$(sq "SELECT count(*) FROM evidence")" $((ev0 + 1))
snap "$HP" >"$IRC_TMP/snap"
check "snapshot: evidence of incident 3, target pid:HOLDER, by root" jqx \
	".incident == 3 and .target == \"pid:$HP\" and .actor == \"root\" and .body.pid == $HP" "$IRC_TMP/snap"
check "snapshot: sha256 is sha256sum of the binary" eq \
	"$(jq -r .body.sha256 "$IRC_TMP/snap")" "$(sha256sum "$PEER" | cut -d' ' -f1)"
check "snapshot: exe is the binary" eq "$(jq -r .body.exe "$IRC_TMP/snap")" "$(realpath "$PEER")"
check "snapshot: cmdline" jqx --arg p "$PEER" --arg h "$H1" --arg port "$PORT" \
	'.body.cmdline == [$p, "hold", $h, $port, "20", "60"]' "$IRC_TMP/snap"
check "snapshot: ancestry starts at this test's shell, ends at PID 1" jqx --argjson me $$ \
	'.body.ancestry[0].pid == $me and .body.ancestry[0].comm == "bash" and .body.ancestry[-1].pid == 1' \
	"$IRC_TMP/snap"
check "snapshot: uid/gid root, state, start time" jqx \
	'.body.uid.real == 0 and .body.uid.effective == 0 and .body.gid.real == 0 and (.body.state | test("^[RS]$")) and (.body.start_time | test("Z$"))' \
	"$IRC_TMP/snap"
check "snapshot: cgroup is the test's app cgroup" jqx --arg cg "${IRC_CG#"$IRC_CG2"}/app" \
	'.body.cgroup == $cg' "$IRC_TMP/snap"
check "snapshot: the held TCP connection to host 1, established" jqx --arg r "$H1:$PORT" \
	'[.body.sockets[] | select(.protocol == "tcp" and .remote == $r and .state == "ESTABLISHED")] | length == 1' \
	"$IRC_TMP/snap"
check "snapshot: memory maps name the binary" jqx --arg p "$(realpath "$PEER")" \
	'[.body.maps[] | select(.path == $p)] | length == 1' "$IRC_TMP/snap"
check "snapshot: not truncated, no errors" jqx '.body.truncated == false and .body.errors == []' "$IRC_TMP/snap"
check "quarantine pid: action recorded (snapshots 1, sockets cut 1)" jqx \
	'.incident == 3 and .body.reason == "beacon" and .body.result == "ok" and .body.snapshots == 1 and .body.sockets_cut == 1 and .body.action == "deny"' \
	<<<"$(act quarantine "pid:$HP")"
check "snapshot recorded before the quarantine" eq \
	"$(sq "SELECT (SELECT max(seq) FROM evidence WHERE target = 'pid:$HP') < (SELECT max(seq) FROM actions WHERE target = 'pid:$HP')")" 1
kill -USR1 "$HP"
check "holder's next connect fails with EPERM" wait_for 3 grep -q '^connect EPERM ' "$IRC_TMP/hold"
check "release pid HOLDER --incident 3" says "released PID $HP (1 process)" irc release pid "$HP" --incident 3
check "release pid recorded" jqx '.incident == 3 and .body.processes == 1' <<<"$(act release "pid:$HP")"

# --action kill: snapshot, then the kill, recorded as "kill".
probe_start app "$IRC_TMP/pk" 30 socket || not_ok "probe to kill ready"
PK=$PROBE
check_rc "quarantine pid --action kill --incident 3" 0 irc quarantine pid "$PK" --action kill --incident 3
check "killed process: gone" wait_for 3 dead "$PK"
check "kill: snapshot of it stored" jqx --argjson p "$PK" \
	'.incident == 3 and .body.pid == $p and .body.cmdline[1] == "probe"' <<<"$(snap "$PK")"
check "kill: recorded as action kill" jqx '.incident == 3 and .body.action == "kill"' \
	<<<"$(act kill "pid:$PK")"

# A big binary (300 MB, past the 256 MiB hash cap): the kill does not wait
# for the hash.  The executable is held open before the kill and hashed
# after it, so the (partial) hash is still of the very file that ran.
BIG=$IRC_TMP/bigsleep
cp /bin/sleep "$BIG" && truncate -s 300M "$BIG"
mkdir -p "$IRC_CG/app"
# Not through cg_run: a backgrounded function would be a subshell, not it.
bash -c 'echo $$ > "$0/cgroup.procs" && exec "$@"' "$IRC_CG/app" "$BIG" 30 &
BP=$!
IRC_PIDS+=("$BP")
big_running() { [[ $(readlink "/proc/$BP/exe") == "$BIG" ]]; }
check "big binary running in the app cgroup" wait_for 3 big_running
died_at=""
irc quarantine pid "$BP" --action kill --incident 3 >"$IRC_TMP/bigq" 2>&1 &
QP=$!
while kill -0 "$QP" 2>/dev/null; do
	[[ -z $died_at ]] && ! [[ -d /proc/$BP && $(awk '{print $3}' "/proc/$BP/stat" 2>/dev/null) != Z ]] &&
		died_at=$EPOCHREALTIME
	sleep 0.01
done
wait "$QP"
rc=$?
wait "$BP" 2>/dev/null	# reap it quietly: its SIGKILL is the point
check "big binary: quarantine --action kill exit 0 ($(head -c 200 "$IRC_TMP/bigq"))" eq "$rc" 0
done_at=$EPOCHREALTIME
us() { local t=${1/[.,]/}; echo $((10#$t)); }
# Hashing 256 MiB takes well over half a second here; the kill came first.
ahead_ms=-1
[[ -n $died_at ]] && ahead_ms=$(( ($(us "$done_at") - $(us "$died_at")) / 1000 ))
check "big binary: killed at least 0.5 s before the command finished hashing (${ahead_ms} ms)" \
	test "$ahead_ms" -ge 500
snap "$BP" >"$IRC_TMP/bigsnap"
check "big binary: partial hash of the first 256 MiB, the size, hash_truncated" jqx \
	--arg h "$(head -c 268435456 "$BIG" | sha256sum | cut -d' ' -f1)" \
	'.body.sha256 == null and .body.sha256_partial == $h and .body.hash_bytes == 268435456 and .body.exe_size == 314572800 and .body.hash_truncated == true' \
	"$IRC_TMP/bigsnap"
rm -f "$BIG"

# quarantine cgroup: a snapshot of each of its processes.
probe_start grp "$IRC_TMP/g1" 30 socket || not_ok "cgroup probe 1 ready"
G1=$PROBE
probe_start grp/sub "$IRC_TMP/g2" 30 socket || not_ok "cgroup probe 2 ready"
G2=$PROBE
check_rc "quarantine cgroup GRP --incident 3" 0 irc quarantine cgroup "$IRC_CG/grp" --incident 3 --reason lateral
check "cgroup: snapshots of both processes (one in a sub-cgroup)" jqx -s \
	'length == 2 and all(.incident == 3)' <<<"$(snap "$G1"; snap "$G2")"
check "cgroup: recorded (processes 2, snapshots 2)" jqx \
	'.incident == 3 and .body.processes == 2 and .body.snapshots == 2 and .body.reason == "lateral"' \
	<<<"$(act quarantine "cgroup:$IRC_CG/grp")"
check_rc "release cgroup GRP --incident 3" 0 irc release cgroup "$IRC_CG/grp" --incident 3
check "release cgroup recorded" jqx '.incident == 3 and .body.result == "ok"' \
	<<<"$(act release "cgroup:$IRC_CG/grp")"

# isolate on/off, release --all.
check_rc "isolate on --incident 3 --reason" 0 irc isolate on --allow 10.77.1.9 --allow-dns --incident 3 --reason "spreading"
check "isolate recorded" jqx \
	'.incident == 3 and .target == "" and .body.reason == "spreading" and .body.allow == ["10.77.1.9"] and .body.allow_dns and (.body.allow_dhcp | not)' \
	<<<"$(act isolate)"
check_rc "isolate off --incident 3" 0 irc isolate off --incident 3
check "isolate.off recorded" jqx '.incident == 3 and .body.was_on' <<<"$(act isolate.off)"
check_rc "quarantine host 10.77.1.4 --incident 3" 0 irc quarantine host 10.77.1.4 --incident 3
check_rc "release --all --incident 3 --reason" 0 irc release --all --incident 3 --reason "eradicated"
check "release --all recorded" jqx '.incident == 3 and .body.kind == "all" and .body.released >= 1 and .body.reason == "eradicated"' \
	<<<"$(act release "")"

# Without --incident: recorded all the same, under incident 0.
check_rc "quarantine host 10.77.1.4 (no incident)" 0 irc quarantine host 10.77.1.4
check_rc "release host 10.77.1.4 (no incident)" 0 irc release host 10.77.1.4
check "release without --incident: incident 0" jqx '.incident == 0 and .body.result == "ok"' \
	<<<"$(act release host:10.77.1.4)"
check_rc "allow add 10.77.1.9" 0 irc allow add 10.77.1.9
check "allow.add recorded" jqx '.incident == 0 and .body.change == "added"' <<<"$(act allow.add host:10.77.1.9)"
check_rc "allow del 10.77.1.9" 0 irc allow del 10.77.1.9
check "allow.del recorded" jqx '.body.result == "ok"' <<<"$(act allow.del host:10.77.1.9)"
check_rc "policy apply docs/policy.yaml" 0 irc policy apply "$IRC_ROOT/docs/policy.yaml"
check "policy.apply recorded with the file's sha256" jqx --arg h "$(sha256sum "$IRC_ROOT/docs/policy.yaml" | cut -d' ' -f1)" \
	'.body.sha256 == $h and .body.mode == "monitor" and .body.result == "ok"' <<<"$(act policy.apply)"

# ---- the timeline ---------------------------------------------------------------

irc --json incident show 3 >"$IRC_TMP/s3"
check "show 3 --json: chain order" jqx '[.timeline[].seq] | . == sort and length == (unique | length)' "$IRC_TMP/s3"
check "show 3: every kind of its actions" jqx \
	'[.timeline[].type] | (index("incident.open") == 0) and contains(["quarantine", "incident.status", "release", "kill", "isolate", "isolate.off", "snapshot"])' \
	"$IRC_TMP/s3"
check "show 3: the release of 10.77.1.4 without --incident joins (same entity)" jqx \
	'[.timeline[] | select(.type == "release" and .target == "host:10.77.1.4" and .incident == 0)] | length == 1' \
	"$IRC_TMP/s3"
check "show 3: the unrelated allow.add does not" jqx '[.timeline[] | select(.type == "allow.add")] | length == 0' "$IRC_TMP/s3"
check "show 3: the snapshot row, evidence, with exe and sha256" jqx --arg t "pid:$HP" \
	--arg h "$(sha256sum "$PEER" | cut -d' ' -f1)" \
	'[.timeline[] | select(.kind == "evidence" and .type == "snapshot" and .target == $t and (.text | endswith($h)))] | length == 1' \
	"$IRC_TMP/s3"
irc incident show 3 >"$IRC_TMP/s3t"
check "show 3 text: the quarantine line with actor, target, result and reason" grep -qE \
	'^  [0-9T:.-]+Z +action +quarantine +nobody +host:10.77.1.2 +ok, reason "C2 beacon"$' "$IRC_TMP/s3t"
check "show 3 text: the snapshot line" grep -qE \
	"^  [0-9T:.-]+Z +evidence +snapshot +root +pid:$HP +irc_peer exe .* sha256 [0-9a-f]{64}$" "$IRC_TMP/s3t"
check "show 3 text: one line per record" eq "$(grep -c '^  [0-9]' "$IRC_TMP/s3t")" \
	"$(jq '.timeline | length' "$IRC_TMP/s3")"
check "close 3" says "incident 3: contained -> closed" irc incident close 3 --summary "web1 rebuilt"
bad "closed incident 3: quarantine refused" "incident 3 is closed" quarantine host 10.77.1.2 --incident 3

# ---- a store that cannot be written ------------------------------------------------

: >"$IRC_TMP/notadir"
IRCONTAIN_STATE_DIR=$IRC_TMP/notadir irc quarantine host 10.77.1.5 >"$IRC_TMP/bo" 2>"$IRC_TMP/be"
check "store not writable: exit 1" eq "$?" 1
check "store not writable: the warning says not recorded" grep -q "applied, not recorded" "$IRC_TMP/be"
check "store not writable: the quarantine stays" ircq \
	'[.entries[] | select(.target == "10.77.1.5")] | length == 1' list
check "modes still 0700/0600/0600" sh -c "[ \$(stat -c %a $ST) = 700 ] && [ \$(stat -c %a $DB) = 600 ] && [ \$(stat -c %a $ST/hmac.key) = 600 ]"
