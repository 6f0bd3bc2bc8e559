#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Events, end to end: real processes and real traffic in the lab, the `run`
# daemon writing them to the default file ($IRCONTAIN_STATE_DIR/events.jsonl),
# and `events` reading them back.
#
#   - exec: a shell in the test cgroup runs /bin/echo: executable, argv,
#     parent (the shell), two levels of ancestry, cgroup, user, one
#     entity_id for its fork, exec and exit events; exit codes 0, 3 and
#     137 (SIGKILL, with ircontain.signal 9); the cgroup is right also
#     when the daemon reads the event after the process has exited;
#   - connect/accept: a TCP connect (IPv4 and IPv6) from the protected host
#     to a test host gives the 5-tuple the client itself saw, outcome
#     success and the client's PID; the server's accept event has the same
#     5-tuple (source = the client); a connect to a closed port fails;
#   - packet_dropped: a ping from a quarantined host: rule, target, source,
#     interface and a sample that is the packet from its Ethernet header;
#     a 500-packet flood is sampled at most at IRC_SAMPLE_RATE per second
#     per CPU (plus one second's burst), and every drop is either sampled
#     or counted as unsampled;
#   - network_denied: a quarantined process's connect() on a socket it made
#     before, with the hook and the destination;
#   - events: default file, --json, --type/--pid, --since, --follow (an
#     event that arrives after it started), --file, and usage errors.
# The daemon itself (signals, reload, loading) is test_events_daemon.sh,
# ring-buffer loss test_events_loss.sh.
#
# The tracepoints see every process on the machine, so every event looked
# at here is picked by a PID this test started (or, for drops, by the
# lab's own interface and address).
. "$(dirname "$0")/lib.sh"
need_tools pgrep python3 base64 od mkfifo taskset

PY=/usr/bin/python3
H1=10.77.1.2 P1=10.77.1.1 H1_6=fd77:1::2 P1_6=fd77:1::1
PORT=7611 CLOSED=7612 PORT6=7613 QPORT=7614
EV=$IRCONTAIN_STATE_DIR/events.jsonl
RATE=$(awk '$2 == "IRC_SAMPLE_RATE" { print $3 }' "$IRC_ROOT/include/ircontain/abi.h")

# evq FILTER [JQ OPTIONS]: every complete event line selected by FILTER,
# compact, in file order (a line still being written is skipped).
evq() {
	local f=$1; shift
	jq -cR "$@" "fromjson? | select($f)" "$EV" 2>/dev/null
}
# has FILTER [JQ OPTIONS]: at least one such event.
has() { [[ -n $(evq "$@") ]]; }
# ev1 FILTER [JQ OPTIONS]: the first such event.
ev1() { evq "$@" | head -1; }
# is JSON FILTER [JQ OPTIONS]: FILTER is true of the event JSON (shows it if not).
is() {
	local j=$1 f=$2; shift 2
	if [[ -z $j ]]; then echo "no such event"; return 1; fi
	jqx "$f" "$@" <<<"$j" || { echo "$j" | cut -c1-1500; return 1; }
}

# The helper: one TCP connect reporting the local address it got, or a
# process that waits for SIGUSR1 to connect (on a socket made at startup
# with "pre").  Bounded in time; errors by errno name.
cat >"$IRC_TMP/peer.py" <<'EOF'
import errno, os, signal, socket, sys, time

mode, host, port, maxs = sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4])
fam = socket.AF_INET6 if ":" in host else socket.AF_INET


def name(e):
    return errno.errorcode.get(e.errno, str(e.errno))


def connect(s):
    s.settimeout(2)
    s.connect((host, port))
    return s.getsockname()[:2]


if mode == "connect":
    try:
        with socket.socket(fam, socket.SOCK_STREAM) as s:
            ip, p = connect(s)
            print("connect ok %s %d %d" % (ip, p, os.getpid()), flush=True)
    except OSError as e:
        print("connect %s %d" % (name(e), os.getpid()), flush=True)
        sys.exit(1)
    sys.exit(0)

signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGUSR1})
pre = socket.socket(fam, socket.SOCK_STREAM) if mode == "pre" else None
print("ready %d" % os.getpid(), flush=True)
end = time.monotonic() + maxs
while time.monotonic() < end:
    if signal.sigtimedwait({signal.SIGUSR1}, end - time.monotonic()) is None:
        break
    try:
        if pre:
            connect(pre)
        else:
            with socket.socket(fam, socket.SOCK_STREAM) as s:
                connect(s)
        print("connect ok", flush=True)
    except OSError as e:
        print("connect %s" % name(e), flush=True)
    if pre:
        break
EOF
# peer ARGS...: the helper in the test cgroup "app" and the protected host.
peer() { cg_run app ip netns exec "$IRC_NS_P" "$PY" "$IRC_TMP/peer.py" "$@"; }

lab_up 1 || { not_ok "lab up"; exit 1; }
[[ -x $PY && -n $RATE ]] || { not_ok "need $PY and IRC_SAMPLE_RATE from abi.h"; exit 1; }
check_rc "load --iface iv1" 0 irc load --iface iv1

# The daemon, writing to the default events file.
bg nsenter --net="/run/netns/$IRC_NS_P" "$IRC_BIN" run 2>"$IRC_TMP/daemon.err"
DPID=$!
daemon_ready() { [[ $(jq -r .pid "$IRCONTAIN_STATE_DIR/run.json" 2>/dev/null) == "$DPID" ]]; }
check "run: ready (run.json names its PID)" wait_for 5 daemon_ready
check "run: says where the events go (the default file)" \
	grep -qF "events to $EV and to the evidence store $IRCONTAIN_STATE_DIR/ircontain.db," "$IRC_TMP/daemon.err"

# ---- exec, fork, exit ---------------------------------------------------------

# The shell forks echo (a builtin follows it, so it cannot just exec it).
F=$IRC_TMP/pid
cg_run app ip netns exec "$IRC_NS_P" /bin/sh -c \
	'echo $$ >"$1"; /bin/echo one "two three"; exit 0' sh "$F" >"$IRC_TMP/echo.out"
SH=$(cat "$F")
check "the shell ran echo" eq "$(cat "$IRC_TMP/echo.out")" "one two three"
check "exec event whose parent is the shell (pid $SH)" \
	wait_for 5 has ".event.action == \"exec\" and .process.parent.pid == $SH"
E=$(ev1 ".event.action == \"exec\" and .process.parent.pid == $SH")
ECHO=$(jq -r '.process.pid // 0' <<<"${E:-null}")
check "exec: process.executable is /bin/echo" \
	is "$E" '.process.executable == $a or .process.executable == $b' \
	--arg a /bin/echo --arg b "$(readlink -f /bin/echo)"
check "exec: process.args [\"/bin/echo\",\"one\",\"two three\"]" \
	is "$E" '.process.args == ["/bin/echo", "one", "two three"]'
check "exec: process.name echo" is "$E" '.process.name == "echo"'
check "exec: process.parent.executable is the shell" \
	is "$E" '.process.parent.executable == $a or .process.parent.executable == $b' \
	--arg a /bin/sh --arg b "$(readlink -f /bin/sh)"
check "exec: process.parent.args [\"/bin/sh\",\"-c\",...]" \
	is "$E" '.process.parent.args[0:2] == ["/bin/sh", "-c"]'
check "exec: ancestry 2 levels: the shell's parent is this test ($$)" \
	is "$E" ".process.parent.parent.pid == $$ and (.process.parent.parent.executable | length > 0)"
check "exec: process.entity_id is 16 hex digits" \
	is "$E" '.process.entity_id | test("^[0-9a-f]{16}$")'
check "exec: parent's entity_id differs from the process's" \
	is "$E" '.process.parent.entity_id != .process.entity_id and (.process.parent.entity_id | length == 16)'
check "exec: ircontain.cgroup ends in $IRC_ID/app" \
	is "$E" '.ircontain.cgroup | endswith("/" + $id + "/app")' --arg id "$IRC_ID"
check "exec: user.id \"0\", group.id \"0\"" is "$E" '.user.id == "0" and .group.id == "0"'
check "exec: ECS event fields" \
	is "$E" '.event.kind == "event" and .event.category == ["process"] and .event.type == ["start"] and .event.module == "ircontain" and (."@timestamp" | test("^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}\\.[0-9]{3}Z$"))'
check "fork and exit events of echo ($ECHO)" wait_for 5 has \
	".process.pid == $ECHO and .event.action == \"exit\""
FK=$(ev1 ".event.action == \"fork\" and .process.pid == $ECHO")
EX=$(ev1 ".event.action == \"exit\" and .process.pid == $ECHO")
check "fork: child $ECHO of the shell" is "$FK" ".process.parent.pid == $SH"
check "fork, exec and exit: one entity_id" \
	eq "$(jq -r .process.entity_id <<<"$FK$EX" | sort -u | tr '\n' ' ')" \
	"$(jq -r .process.entity_id <<<"$E") "
check "exit: exit_code 0, no signal" is "$EX" '.process.exit_code == 0 and (.ircontain | has("signal") | not)'
check "exit: category process, type end" is "$EX" '.event.type == ["end"]'
check "the shell's own exit: exit_code 0" wait_for 5 has \
	".event.action == \"exit\" and .process.pid == $SH and .process.exit_code == 0"

check_rc "sh -c 'exit 3' exits 3" 3 cg_run app ip netns exec "$IRC_NS_P" /bin/sh -c \
	'echo $$ >"$1"; exit 3' sh "$F"
X3=$(cat "$F")
check "exit event: exit_code 3, no signal" wait_for 5 has \
	".event.action == \"exit\" and .process.pid == $X3 and .process.exit_code == 3 and (.ircontain | has(\"signal\") | not)"

check_rc "sh killing itself with SIGKILL: 137" 137 cg_run app ip netns exec "$IRC_NS_P" /bin/sh -c \
	'echo $$ >"$1"; kill -KILL $$' sh "$F"
X9=$(cat "$F")
check "exit event: exit_code 137, ircontain.signal 9" wait_for 5 has \
	".event.action == \"exit\" and .process.pid == $X9 and .process.exit_code == 137 and .ircontain.signal == 9"

# The daemon may read an event after its process is gone (it lags behind
# under load; here it is stopped meanwhile): the event still names the
# process's cgroup, the one its cgroup_id says.
CG_ID=$(stat -c %i "$IRC_CG/app")
check "exec: ircontain.cgroup_id is the app cgroup's ($CG_ID)" is "$E" ".ircontain.cgroup_id == $CG_ID"
kill -STOP "$DPID"
cg_run app ip netns exec "$IRC_NS_P" /bin/sh -c \
	'echo $$ >"$1"; /bin/echo late; exit 0' sh "$F" >/dev/null
kill -CONT "$DPID"
SHL=$(cat "$F")
LATEQ=".event.action == \"exec\" and .process.parent.pid == $SHL"
check "read after its process exited: the exec event" wait_for 5 has "$LATEQ"
L=$(ev1 "$LATEQ")
check "read after its process exited: cgroup_id $CG_ID, args right" \
	is "$L" ".ircontain.cgroup_id == $CG_ID and .process.args == [\"/bin/echo\", \"late\"]"
check "read after its process exited: ircontain.cgroup still ends in $IRC_ID/app" \
	is "$L" '.ircontain.cgroup | endswith("/" + $id + "/app")' --arg id "$IRC_ID"

# ---- connect, accept ------------------------------------------------------------

bg ip netns exec "${IRC_NS_PFX}h1" socat "TCP4-LISTEN:$PORT,fork,reuseaddr" EXEC:cat
SRV=$!
bg ip netns exec "${IRC_NS_PFX}h1" socat "TCP6-LISTEN:$PORT6,fork,reuseaddr,ipv6only=1" EXEC:cat
SRV6=$!
wait_for 5 in_h 1 sh -c "ss -Htln sport = :$PORT | grep -q ." || not_ok "server on $H1:$PORT"
wait_for 5 in_h 1 sh -c "ss -Htln sport = :$PORT6 | grep -q ." || not_ok "server on [$H1_6]:$PORT6"

# "connect ok LOCAL_IP LOCAL_PORT PID", as the client saw it.
peer connect "$H1" "$PORT" 3 >"$IRC_TMP/c4.out" 2>&1
read -r _ res CIP CPORT CPID <"$IRC_TMP/c4.out"
check "client: connect $H1:$PORT ok (from $CIP:$CPORT, pid $CPID)" eq "$res" ok
CPID=${CPID:-0} CPORT=${CPORT:-0}
check "connect event of the client (pid $CPID)" wait_for 5 has \
	".event.action == \"connect\" and .process.pid == $CPID"
C=$(ev1 ".event.action == \"connect\" and .process.pid == $CPID")
check "connect: source $P1:$CPORT (the client's own view)" \
	is "$C" ".source == {ip: \"$P1\", port: $CPORT}"
check "connect: destination $H1:$PORT" is "$C" ".destination == {ip: \"$H1\", port: $PORT}"
check "connect: outcome success" is "$C" '.event.outcome == "success"'
check "connect: network tcp, ipv4, egress" \
	is "$C" '.network == {transport: "tcp", type: "ipv4", direction: "egress"}'
check "connect: the client's cgroup and executable" \
	is "$C" '(.ircontain.cgroup | endswith("/app")) and (.process.executable | test("python"))'
check "accept event of the server (pid $SRV)" wait_for 5 has \
	".event.action == \"accept\" and .process.pid == $SRV"
A=$(ev1 ".event.action == \"accept\" and .process.pid == $SRV")
check "accept: source $P1:$CPORT (the client)" is "$A" ".source == {ip: \"$P1\", port: $CPORT}"
check "accept: destination $H1:$PORT (the server)" is "$A" ".destination == {ip: \"$H1\", port: $PORT}"
check "accept: outcome success, network ingress" \
	is "$A" '.event.outcome == "success" and .network.direction == "ingress" and .network.transport == "tcp"'

peer connect "$H1_6" "$PORT6" 3 >"$IRC_TMP/c6.out" 2>&1
read -r _ res CIP6 CPORT6 CPID6 <"$IRC_TMP/c6.out"
check "client: connect [$H1_6]:$PORT6 ok (from [$CIP6]:$CPORT6)" eq "$res" ok
CPID6=${CPID6:-0} CPORT6=${CPORT6:-0}
check "IPv6 connect event of the client" wait_for 5 has \
	".event.action == \"connect\" and .process.pid == $CPID6"
C=$(ev1 ".event.action == \"connect\" and .process.pid == $CPID6")
check "IPv6 connect: source [$P1_6]:$CPORT6, destination [$H1_6]:$PORT6, ipv6, success" \
	is "$C" ".source == {ip: \"$P1_6\", port: $CPORT6} and .destination == {ip: \"$H1_6\", port: $PORT6} and .network.type == \"ipv6\" and .event.outcome == \"success\""
check "IPv6 accept event: source = the client" wait_for 5 has \
	".event.action == \"accept\" and .process.pid == $SRV6 and .source == {ip: \"$P1_6\", port: $CPORT6} and .destination == {ip: \"$H1_6\", port: $PORT6}"

peer connect "$H1" "$CLOSED" 3 >"$IRC_TMP/cx.out" 2>&1
read -r _ res XPID <"$IRC_TMP/cx.out"
check "client: connect to closed port $CLOSED refused" eq "$res" ECONNREFUSED
XPID=${XPID:-0}
check "connect event for the refused connect" wait_for 5 has \
	".event.action == \"connect\" and .process.pid == $XPID"
C=$(ev1 ".event.action == \"connect\" and .process.pid == $XPID")
check "refused connect: outcome failure, destination $H1:$CLOSED" \
	is "$C" ".event.outcome == \"failure\" and .destination == {ip: \"$H1\", port: $CLOSED} and .source.ip == \"$P1\""

# ---- packet_dropped -------------------------------------------------------------

MAC_P=$(in_p ip -j link show iv1 | jq -r '.[0].address')
MAC_H=$(in_h 1 ip -j link show hv | jq -r '.[0].address')
check_rc "quarantine host $H1" 0 irc quarantine host "$H1"
check_fail "a ping from the quarantined host is dropped" in_h 1 ping -c1 -W1 "$P1"
DROPQ=".event.action == \"packet_dropped\" and .ircontain.rule_target == \"$H1\""
check "packet_dropped event for $H1" wait_for 5 has "$DROPQ"
D=$(ev1 "$DROPQ")
check "drop: rule.name host-quarantine" is "$D" '.rule.name == "host-quarantine"'
check "drop: source.ip $H1, destination.ip $P1, ICMP" \
	is "$D" ".source.ip == \"$H1\" and .destination.ip == \"$P1\" and .network.iana_number == 1"
check "drop: observer.ingress.interface.name iv1, direction in" \
	is "$D" '.observer.ingress.interface.name == "iv1" and .ircontain.direction == "in"'
check "drop: sample of the whole 98-byte echo request" \
	is "$D" '.ircontain.sample.captured == 98 and .ircontain.sample.length == 98 and .ircontain.sample.linktype == 1'
HEX=$(jq -r '.ircontain.sample.base64 // ""' <<<"${D:-null}" | base64 -d 2>/dev/null | od -An -v -tx1 | tr -d ' \n')
check "drop: sample decodes to 98 bytes" eq "${#HEX}" 196
check "drop: sample starts with the Ethernet header ($MAC_H -> $MAC_P, IPv4)" \
	eq "${HEX:0:28}" "${MAC_P//:/}${MAC_H//:/}0800"
check "drop: sample's IPv4 header: ICMP from $H1 to $P1" \
	eq "${HEX:28:2}/${HEX:46:2}/${HEX:52:16}" "45/01/0a4d01020a4d0101"

# The flood: two bursts of 250 within about a second.  Every drop is
# either sampled or counted as unsampled; samples per CPU are bounded by the
# limiter (GCRA, IRC_SAMPLE_RATE/s with a one-second burst).  The sender
# stays on one CPU, and with it the drops (veth runs the peer's XDP on the
# sending CPU): spread over more CPUs than 500 / (2 * IRC_SAMPLE_RATE),
# every drop could be sampled, and "unsampled grew" would not hold.
drops_total() { irc --json status | jq '.counters.rx_drop_quarantine + .counters.tx_drop_quarantine'; }
ev_status() { irc --json status | jq -r ".events.$1"; }
FLOOD_CPU=$(cpus_allowed | head -1)
sleep 1.1	# the limiter is full again after a second
N0=$(evq "$DROPQ" | wc -l) D0=$(drops_total) U0=$(ev_status unsampled) L0=$(ev_status lost)
for b in 1 2; do
	timeout 3 taskset -c "$FLOOD_CPU" ip netns exec "${IRC_NS_PFX}h1" \
		ping -q -f -l 250 -c 250 -W 0.4 "$P1" >/dev/null 2>&1
done
sleep 0.5
D1=$(drops_total) U1=$(ev_status unsampled) L1=$(ev_status lost)
evq "$DROPQ" | tail -n +$((N0 + 1)) >"$IRC_TMP/flood.jsonl"
NS=$(wc -l <"$IRC_TMP/flood.jsonl")
echo "# flood: $((D1 - D0)) drops, $NS samples, $((U1 - U0)) unsampled, $((L1 - L0)) lost"
check "flood: 500 packets dropped" eq "$((D1 - D0))" 500
check "flood: status unsampled grew" gt "$((U1 - U0))" 0
check "flood: fewer samples than drops" gt "$((D1 - D0))" "$NS"
check "flood: no record lost" eq "$((L1 - L0))" 0
check "flood: samples + unsampled = drops" eq "$((NS + U1 - U0))" "$((D1 - D0))"
# Per CPU: count, and the span from first to last sample (ms).
jq -rs --argjson rate "$RATE" 'map({cpu: .ircontain.cpu, t: ((."@timestamp"[0:19] + "Z" | fromdateiso8601) * 1000 + (."@timestamp"[20:23] | tonumber))})
	| group_by(.cpu)[] | (map(.t) | max - min) as $span
	| "\(.[0].cpu) \(length) \($span) \($rate + ($rate * $span / 1000 | ceil) + 1)"' \
	"$IRC_TMP/flood.jsonl" >"$IRC_TMP/flood.cpu"
while read -r cpu n span bound; do
	check "flood: CPU $cpu: $n samples in ${span} ms <= $bound (rate $RATE/s + 1 s burst)" \
		test "$n" -le "$bound"
	((span <= 1000)) &&
		check "flood: CPU $cpu: at most 2 * $RATE samples in that second" test "$n" -le $((2 * RATE))
done <"$IRC_TMP/flood.cpu"
check "flood: samples were seen" test -s "$IRC_TMP/flood.cpu"
check_rc "release host $H1" 0 irc release host "$H1"

# ---- network_denied -------------------------------------------------------------

bg ip netns exec "${IRC_NS_PFX}h1" socat "TCP4-LISTEN:$QPORT,fork,reuseaddr" EXEC:cat
wait_for 5 in_h 1 sh -c "ss -Htln sport = :$QPORT | grep -q ." || not_ok "server on $H1:$QPORT"
mkdir -p "$IRC_CG/app"
bash -c 'echo $$ > "$0/cgroup.procs" && exec "$@"' "$IRC_CG/app" \
	ip netns exec "$IRC_NS_P" "$PY" "$IRC_TMP/peer.py" pre "$H1" "$QPORT" 20 >"$IRC_TMP/pre.out" 2>&1 &
QP=$!
IRC_PIDS+=("$QP")
check "process with a socket made in advance is ready" wait_for 5 grep -qx "ready $QP" "$IRC_TMP/pre.out"
check_rc "quarantine pid $QP" 0 irc quarantine pid "$QP" --reason events
kill -USR1 "$QP"
check "its connect() is refused: EPERM" wait_for 5 grep -qx "connect EPERM" "$IRC_TMP/pre.out"
wait "$QP" 2>/dev/null
DENYQ=".event.action == \"network_denied\" and .process.pid == $QP"
check "network_denied event for pid $QP" wait_for 5 has "$DENYQ"
N=$(ev1 "$DENYQ")
check "denied: ircontain.hook connect" is "$N" '.ircontain.hook == "connect"'
check "denied: destination $H1:$QPORT" is "$N" ".destination == {ip: \"$H1\", port: $QPORT}"
check "denied: rule process-quarantine, quarantine_root $QP" \
	is "$N" ".rule.name == \"process-quarantine\" and .ircontain.quarantine_root == $QP"
check "denied: process is the python helper in $IRC_ID/app" \
	is "$N" '(.process.executable | test("python")) and (.ircontain.cgroup | endswith("/app")) and .user.id == "0"'

# ---- events --follow ---------------------------------------------------------

# A process whose PID is known before it execs the marker.
mkfifo "$IRC_TMP/go"
bash -c 'echo $$ >"$0"; read -r x <"$1"; exec /bin/echo follow-marker' "$IRC_TMP/fpid" "$IRC_TMP/go" >/dev/null &
FP=$!
IRC_PIDS+=("$FP")
wait_for 5 test -s "$IRC_TMP/fpid"
FP2=$(cat "$IRC_TMP/fpid")
check "marker process: its own PID" eq "$FP2" "$FP"
bg timeout 20 nsenter --net="/run/netns/$IRC_NS_P" "$IRC_BIN" --json events --follow \
	--type exec --pid "$FP2" >"$IRC_TMP/follow.out" 2>&1
FOL=$!
# Its bash exec happened already: --follow shows it once it has read the
# file so far (every line of it: the whole machine's events; slow with
# sanitizers).
check "events --follow: shows what is already there (its bash exec)" \
	wait_for 30 grep -q '"action":"exec"' "$IRC_TMP/follow.out"
sleep 0.5
check "events --follow: nothing new yet" test "$(wc -l <"$IRC_TMP/follow.out")" -eq 1
echo go >"$IRC_TMP/go"
wait "$FP"
check "events --follow: shows the exec that came after it started" \
	wait_for 5 grep -q '"args":\["/bin/echo","follow-marker"\]' "$IRC_TMP/follow.out"
check "events --follow: only exec events of pid $FP2" \
	jqx ".event.action == \"exec\" and .process.pid == $FP2" "$IRC_TMP/follow.out"
kill -TERM "$(pgrep -P "$FOL")" 2>/dev/null
wait "$FOL"
check "events --follow: SIGTERM ends it with exit 0" eq "$?" 0

# ---- the daemon stops; events reads the file it left ------------------------

kill -TERM "$DPID"
wait "$DPID"
check "run: SIGTERM, exit 0" eq "$?" 0
check "run.json: pid 0, no malformed record, no write error, no gap" \
	jqx '.pid == 0 and .malformed == 0 and .write_errors == 0 and .gaps == 0 and .events == .written' \
	"$IRCONTAIN_STATE_DIR/run.json"
LINES=$(wc -l <"$EV")
check "events file: $LINES lines, every one a JSON object" \
	eq "$(jq -c 'type == "object"' "$EV" | grep -c true)" "$LINES"
check "events file: lines equal run.json's written" \
	eq "$LINES" "$(jq .written "$IRCONTAIN_STATE_DIR/run.json")"

irc events >"$IRC_TMP/ev.txt" 2>"$IRC_TMP/ev.err"
check "events (default file): exit 0, one text line per event" eq "$?/$(wc -l <"$IRC_TMP/ev.txt")" "0/$LINES"
check "events (text): the echo exec with its message" \
	grep -qE "exec +echo executed /bin/echo \(pid $ECHO, ppid $SH, uid 0\)" "$IRC_TMP/ev.txt"
irc --json events >"$IRC_TMP/ev.json"
check "events --json: the file's lines, unchanged" cmp "$IRC_TMP/ev.json" "$EV"
irc --json events --file "$EV" >"$IRC_TMP/ev.file"
check "events --file FILE: the same" cmp "$IRC_TMP/ev.file" "$EV"
irc --json events --type exec --pid "$ECHO" >"$IRC_TMP/ev.sel"
check "events --type exec --pid $ECHO: exactly the echo's exec event" \
	eq "$(jq -c '[.event.action, .process.pid, .process.args]' "$IRC_TMP/ev.sel")" \
	"[\"exec\",$ECHO,[\"/bin/echo\",\"one\",\"two three\"]]"
irc --json events --pid "$ECHO" >"$IRC_TMP/ev.sel"
check "events --pid $ECHO: fork, exec, exit" \
	eq "$(jq -r .event.action "$IRC_TMP/ev.sel" | tr '\n' ' ')" "fork exec exit "
irc --json events --type exit --pid "$X3" >"$IRC_TMP/ev.sel"
check "events --type exit --pid $X3: exit_code 3" eq "$(jq -c '.process.exit_code' "$IRC_TMP/ev.sel")" 3
irc --json events --type packet_dropped >"$IRC_TMP/ev.sel"
ND=$(jq -c 'select(.event.action == "packet_dropped")' "$EV" | wc -l)
check "events --type packet_dropped: all $ND of them, nothing else" \
	eq "$(wc -l <"$IRC_TMP/ev.sel")/$(grep -vc '"action":"packet_dropped"' "$IRC_TMP/ev.sel")" "$ND/0"
irc --json events --type connect >"$IRC_TMP/ev.sel"
check "events --type connect: the three connects of this test among them" \
	eq "$(jq -r "select(.process.pid == $CPID or .process.pid == $CPID6 or .process.pid == $XPID) | .event.outcome" "$IRC_TMP/ev.sel" | tr '\n' ' ')" \
	"success success failure "
irc --json events --since 1h >"$IRC_TMP/ev.sel"
check "events --since 1h: every event" eq "$(wc -l <"$IRC_TMP/ev.sel")" "$LINES"
sleep 1.2	# the daemon has stopped: the newest event is older than a second now
irc --json events --since 1s >"$IRC_TMP/ev.sel"
check "events --since 1s: nothing (all older)" eq "$?/$(wc -l <"$IRC_TMP/ev.sel")" "0/0"
AGE=$(($(date +%s) - $(jq -r '."@timestamp"[0:19] + "Z" | fromdateiso8601' <<<"$(head -1 "$EV")") + 2))
irc --json events --since "${AGE}s" >"$IRC_TMP/ev.sel"
check "events --since ${AGE}s (older than the first event): every event" eq "$(wc -l <"$IRC_TMP/ev.sel")" "$LINES"

check_rc "events --type bogus: exit 2" 2 irc events --type bogus
check_rc "events --type '': exit 2" 2 irc events --type ""
check_rc "events --since xyz: exit 2" 2 irc events --since xyz
check_rc "events --since -5s: exit 2" 2 irc events --since -5s
check_rc "events --pid abc: exit 2" 2 irc events --pid abc
check_rc "events --pid 0: exit 2" 2 irc events --pid 0
check_rc "events --pid -1: exit 2" 2 irc events --pid -1
check_rc "events extra operand: exit 2" 2 irc events extra
check_rc "events --file missing: exit 1" 1 irc events --file "$IRC_TMP/none.jsonl"
cp "$IRC_TMP/out" "$IRC_TMP/none.err"
check "events --file missing: names the file" grep -q "none.jsonl" "$IRC_TMP/none.err"
