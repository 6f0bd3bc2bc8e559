#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Export bundles and verify, on an incident made of real traffic and real
# processes in the lab.
#
#   - the daemon runs (monitor mode, exec_tmp alerts); `incident open`;
#     `quarantine host 10.77.1.2 --incident N`, then pings from host 1
#     (dropped: packet samples, Ethernet, from XDP); a real process P in the
#     test cgroup holding a TCP connection to host 2 is quarantined with
#     --incident N (a snapshot; its connection cut, its sends dropped by
#     cgroup_skb: raw-IP samples); after that P runs a program copied to
#     /tmp (fork, exec, an exec_tmp finding that joins incident N through
#     the fork); the incident is closed;
#   - `export N -o bundle.tar.gz`: the members; `tcpdump -r packets.pcap`
#     reads back the pings from 10.77.1.2 and P's segments to 10.77.2.2
#     behind their fake Ethernet header, and nothing else; every line of
#     events.jsonl and ocsf.jsonl parses and has the required fields; the
#     OCSF classes 1007, 4001, 2004, 7003, 7004 are there; sha256sum agrees
#     with the manifest; report.html has no script and no URL, and renders
#     in headless Chromium (a screenshot whose pixels vary); `verify
#     bundle` passes, with the host key and with --pubkey; without either
#     (no signing.pub) it fails: intact but untrusted; a corrupt
#     signing.pub is an error; a bzip2 tar is refused;
#   - tampering, each must fail and name what: a flipped byte in each
#     member (events, ocsf, pcap, report, manifest, an artifact), a line
#     deleted, two lines swapped, a truncated member, a truncated archive,
#     a signature replaced (re-signed with another key), a member missing,
#     an extra member, a member twice, a member named "../";
#   - the store (copies): an events row and an actions row edited, a row
#     deleted, two rows' seq swapped, the tail cut off, an incident row
#     edited: `verify` exits 1 naming the record; export of a store that
#     does not verify writes the bundle, says so, and exits 1;
#   - refusals: export over an existing file, of an unknown incident, with
#     no store (exit 2); verify of a missing file (exit 2); a planted
#     FILE.tmp is not used.
. "$(dirname "$0")/lib.sh"
need_tools tcpdump sqlite3 chromium python3 openssl xxd bzip2 gzip tar sha256sum

PY=/usr/bin/python3
H1=10.77.1.2 H2=10.77.2.2 PORT=7431
POL=$IRC_TMP/policy.yaml
EV=$IRC_TMP/events.jsonl
DB=$IRCONTAIN_STATE_DIR/ircontain.db
RUNJ=$IRCONTAIN_STATE_DIR/run.json
OUT=$IRC_TMP/bundles
BUNDLE=$OUT/bundle.tar.gz
# The exec_tmp detector fires on /tmp/...: a private directory there.
QTMP=$(mktemp -d /tmp/irc-exp.XXXXXX)
trap 'rc=$?; rm -rf "$QTMP"; (exit $rc); lab_finish' EXIT
mkdir -p "$OUT"

cat >"$POL" <<'EOF'
mode: monitor
detectors:
  portscan: {enabled: false}
  synflood: {enabled: false}
  exec_tmp: {enabled: true, severity: medium, action: alert}
  fileless: {enabled: false}
  reverse_shell: {enabled: false}
  sensitive_read: {enabled: false}
  ptrace: {enabled: false}
  module_load: {enabled: false}
EOF

# P: holds a TCP connection to host 2 and sends on it every 0.2 s; once
# FLAG exists, runs PROG (a copy of sleep under /tmp) a few times.
# Bounded: 30 s at most.
cat >"$IRC_TMP/p.py" <<'EOF'
import os, socket, subprocess, sys, time
host, port, flag, prog = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
s = socket.create_connection((host, port), timeout=2)
s.settimeout(0.1)
print("ready %d" % os.getpid(), flush=True)
end, runs = time.monotonic() + 30, 0
while time.monotonic() < end:
    try:
        s.send(b"ping\n")
        s.recv(64)
    except OSError:
        pass
    if runs < 3 and os.path.exists(flag):
        runs += 1
        subprocess.run([prog, "0.4"])
        print("ran %d" % runs, flush=True)
    time.sleep(0.2)
EOF

q() { sqlite3 -readonly -cmd ".timeout 5000" "$DB" "$1"; }
qgt() { local v; v=$(q "$1"); [[ $v =~ ^[0-9]+$ ]] && gt "$v" "$2"; }
daemon_ready() { [[ $(jq -r .pid "$RUNJ" 2>/dev/null) == "$DPID" ]]; }
# has FILE PATTERN...: grep -q for each (fixed strings).
# last: keeps the output of the last check (the next check overwrites it).
last() { cp "$IRC_TMP/out" "$IRC_TMP/last"; }
has() { local f=$1 p; shift; for p; do grep -qF -- "$p" "$f" || { echo "no '$p' in $f:"; head -c 2000 "$f"; return 1; }; done; }

lab_up 2 || { not_ok "lab up"; exit 1; }
[[ -x $PY ]] || { not_ok "need $PY"; exit 1; }
T_START=$SECONDS

# ---- refusals before there is a store ---------------------------------------------

check_rc "export, no store: exit 2" 2 irc export 1 -o "$OUT/none.tar.gz"
last
check "export, no store: names it" grep -q "ircontain.db" "$IRC_TMP/last"
check_rc "verify, no store: exit 2" 2 irc verify
check_rc "verify MISSING.tar.gz: exit 2" 2 irc verify "$OUT/missing.tar.gz"
check_rc "export, bad id: exit 2" 2 irc export abc -o "$OUT/x.tar.gz"
check_rc "export, no --output: exit 2" 2 irc export 1
check_rc "verify --pubkey without a bundle: exit 2" 2 irc verify --pubkey 00

# ---- the incident ------------------------------------------------------------------

bg nsenter --net="/run/netns/$IRC_NS_P" "$IRC_BIN" run --iface iv1 --iface iv2 \
	--policy "$POL" --events-file "$EV" --store-events all 2>"$IRC_TMP/daemon.err"
DPID=$!
check "daemon ready" wait_for 10 daemon_ready
N=$(irc --json incident open --title "Export test <host 1> & friends" --severity high | jq -r .id)
check "incident open: an id" test "$N" -ge 1

bg ip netns exec "${IRC_NS_PFX}h2" socat "TCP4-LISTEN:$PORT,fork,reuseaddr" EXEC:cat
wait_for 5 in_h 2 sh -c "ss -Htln sport = :$PORT | grep -q ." || not_ok "echo server on $H2"
cp /bin/sleep "$QTMP/sleep"
mkdir -p "$IRC_CG/app"
bash -c 'echo $$ > "$0/cgroup.procs" && exec "$@"' "$IRC_CG/app" ip netns exec "$IRC_NS_P" \
	"$PY" "$IRC_TMP/p.py" "$H2" "$PORT" "$QTMP/flag" "$QTMP/sleep" >"$IRC_TMP/p.out" 2>&1 &
P=$!
IRC_PIDS+=("$P")
check "process P ready (connected to $H2)" wait_for 5 grep -qx "ready $P" "$IRC_TMP/p.out"

check_rc "quarantine host $H1 --incident $N" 0 \
	irc quarantine host "$H1" --incident "$N" --reason "export test: host 1"
in_h 1 ping -c 30 -i 0.02 -W 1 10.77.1.1 >/dev/null 2>&1
check_rc "quarantine pid P --incident $N" 0 \
	irc quarantine pid "$P" --incident "$N" --reason "export test: process"
check "store: packet samples of $H1 in incident $N" wait_for 15 \
	qgt "SELECT count(*) FROM evidence WHERE type = 'packet' AND incident = $N AND target = 'host:$H1'" 0
check "store: a snapshot of P in incident $N" \
	qgt "SELECT count(*) FROM evidence WHERE type = 'snapshot' AND incident = $N AND target = 'pid:$P'" 0
# The daemon learns P is the incident's (at most 1 s), then P runs /tmp/sleep.
sleep 1.2
touch "$QTMP/flag"
check "P ran its /tmp program" wait_for 8 grep -q "^ran 3" "$IRC_TMP/p.out"
check "store: P's dropped segments sampled (pid:$P)" wait_for 5 \
	qgt "SELECT count(*) FROM evidence WHERE type = 'packet' AND target = 'pid:$P'" 0
check "store: an exec_tmp finding joined incident $N" wait_for 5 \
	qgt "SELECT count(*) FROM events WHERE type = 'finding' AND incident = $N" 0
check_rc "incident close $N" 0 irc incident close "$N" --summary "Host 1 and a process <contained>; test"
kill "$P" 2>/dev/null

# ---- export ------------------------------------------------------------------------------

T0=$EPOCHREALTIME
check_rc "export $N -o bundle.tar.gz: exit 0" 0 irc export "$N" -o "$BUNDLE"
MS=$(((${EPOCHREALTIME/./} - ${T0/./}) / 1000))
cp "$IRC_TMP/out" "$IRC_TMP/export.out"
sed 's/^/# /' "$IRC_TMP/export.out"
echo "# export: $MS ms, $(stat -c %s "$BUNDLE") bytes"
check "export: prints the path and the counts" \
	grep -q "exported incident $N to $BUNDLE: .* files" "$IRC_TMP/export.out"
check_rc "export over an existing file: exit 2" 2 irc export "$N" -o "$BUNDLE"
check "export over an existing file: left as it was" test -s "$BUNDLE"
check_rc "export of an unknown incident: exit 2" 2 irc export 9999 -o "$OUT/u.tar.gz"
check "export of an unknown incident: nothing written" eq "$(ls "$OUT" | grep -c '^u\.tar\.gz')" 0
# A temporary name another user could have made ready is not used; no temp left.
echo planted >"$OUT/b3.tar.gz.tmp"
check_rc "export beside a planted FILE.tmp: exit 0" 0 irc export "$N" -o "$OUT/b3.tar.gz"
check "export beside a planted FILE.tmp: left as it was" eq "$(cat "$OUT/b3.tar.gz.tmp")" planted
check "export: no temporary file left behind" eq "$(ls "$OUT" | grep -c '^b3\.tar\.gz\.')" 1
check "export: the bundle is 0600 (evidence)" eq "$(stat -c %a "$OUT/b3.tar.gz")" 600
check "export --json --force: counts" ircq ".exported == \"$OUT/b2.tar.gz\" and .records.packets > 0 and
	.records.artifacts > 0 and .store_verified == true and (.signer | startswith(\"ed25519:\"))" \
	export "$N" --output "$OUT/b2.tar.gz" --force

X=$IRC_TMP/x
mkdir -p "$X"
tar -xzf "$BUNDLE" -C "$X"
D=$X/ircontain-incident-$N
check "members: one top directory ircontain-incident-$N" eq "$(ls "$X")" "ircontain-incident-$N"
for f in events.jsonl ocsf.jsonl packets.pcap report.html manifest.json manifest.sig; do
	check "member $f" test -s "$D/$f"
done
SNAP=$(cd "$D" && ls artifacts/snapshot-"$P"-*.json 2>/dev/null | head -1)
check "member artifacts/snapshot-$P-SEQ.json" test -n "$SNAP"
check "snapshot artifact: P's pid, exe and its sha256" \
	jqx ".pid == $P and (.exe | test(\"python\")) and (.sha256 | length == 64)" "$D/$SNAP"

# packets.pcap, read back by tcpdump.
tcpdump -nn -r "$D/packets.pcap" >"$IRC_TMP/pcap.txt" 2>"$IRC_TMP/pcap.err"
check "tcpdump -r packets.pcap: reads it" test $? -eq 0 -a -s "$IRC_TMP/pcap.txt"
NP=$(wc -l <"$IRC_TMP/pcap.txt")
N1=$(grep -c "IP $H1 > 10.77.1.1: ICMP echo request" "$IRC_TMP/pcap.txt")
N2=$(grep -cE "IP 10\.77\.2\.1\.[0-9]+ > $H2\.$PORT: " "$IRC_TMP/pcap.txt")
echo "# pcap: $NP packets, $N1 pings from $H1, $N2 segments from P to $H2"
check "pcap: the pings from $H1 (Ethernet samples)" gt "$N1" 0
check "pcap: P's segments to $H2:$PORT (raw-IP samples behind a fake Ethernet header)" gt "$N2" 0
check "pcap: nothing else" eq "$((N1 + N2))" "$NP"
check "pcap: as many packets as the manifest says" jqx ".records.packets == $NP" "$D/manifest.json"
check "pcap: Ethernet (tcpdump -e)" \
	sh -c "tcpdump -nn -e -r '$D/packets.pcap' 2>/dev/null | grep -q 'ethertype IPv4 (0x0800)'"

# events.jsonl: every line JSON, with ECS and Timesketch's fields.
EL=$(wc -l <"$D/events.jsonl")
check "events.jsonl: every line parses" eq "$(jq -c . "$D/events.jsonl" | wc -l)" "$EL"
check "events.jsonl: every line has @timestamp, message, datetime, timestamp_desc, event.kind" \
	eq "$(jq -c '(.["@timestamp"] | type == "string") and (.message | type == "string") and
		(.datetime | test("^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]+Z$")) and
		(.timestamp_desc | type == "string") and (.event.kind | type == "string") and
		(.host.hostname | type == "string") and (.ircontain.seq | type == "number")' \
		"$D/events.jsonl" | grep -c true)" "$EL"
check "events.jsonl: chain order (ircontain.seq increasing)" \
	jqx -s '[.[].ircontain.seq] as $s | $s == ($s | sort) and ($s | unique | length) == ($s | length)' \
	"$D/events.jsonl"
check "events.jsonl: the quarantine of $H1, by root, with its reason" jqx -s \
	"[.[] | select(.event.action == \"quarantine\" and .ircontain.target == \"host:$H1\" and
	  .user.name == \"root\" and .event.reason == \"export test: host 1\")] | length == 1" \
	"$D/events.jsonl"
check "events.jsonl: packet samples, the snapshot, the finding, the /tmp exec" jqx -s \
	"([.[] | select(.timestamp_desc == \"Packet Captured\")] | length == $NP) and
	 ([.[] | select(.event.action == \"snapshot\" and .process.pid == $P)] | length >= 1) and
	 ([.[] | select(.event.kind == \"alert\")] | length >= 1) and
	 ([.[] | select(.event.action == \"exec\" and .process.executable == \"$QTMP/sleep\")] | length >= 1)" \
	"$D/events.jsonl"
# ocsf.jsonl: every line an OCSF event of a known class.
OL=$(wc -l <"$D/ocsf.jsonl")
check "ocsf.jsonl: every line parses" eq "$(jq -c . "$D/ocsf.jsonl" | wc -l)" "$OL"
check "ocsf.jsonl: class_uid, type_uid, time, metadata.product.name on every line" \
	eq "$(jq -c '(.class_uid | IN(1007, 4001, 2004, 7003, 7004)) and
		.type_uid == .class_uid * 100 + .activity_id and (.time | type == "number") and
		.metadata.product.name == "ircontain" and (.metadata.version | type == "string") and
		(.category_uid | type == "number") and (.severity_id | type == "number")' \
		"$D/ocsf.jsonl" | grep -c true)" "$OL"
check "ocsf.jsonl: classes 1007, 4001, 2004, 7003, 7004 all there" jqx -s \
	'[.[].class_uid] | unique == [1007, 2004, 4001, 7003, 7004]' "$D/ocsf.jsonl"
check "ocsf.jsonl: network remediation of $H1 by root" jqx -s \
	"[.[] | select(.class_uid == 7004 and .dst_endpoint.ip == \"$H1\" and .actor.user.name == \"root\")] | length == 1" \
	"$D/ocsf.jsonl"
check "ocsf.jsonl: process remediation of P" jqx -s \
	"[.[] | select(.class_uid == 7003 and .process.pid == $P)] | length >= 1" "$D/ocsf.jsonl"

# The manifest against sha256sum, independently.
check "manifest: sha256sum and size of every file agree" sh -c "cd '$D' && jq -r '.files[] | \"\\(.sha256)  \\(.path)\"' manifest.json | sha256sum -c --quiet"
check "manifest: every file but manifest.json/sig listed" eq \
	"$(cd "$D" && find . -type f ! -name 'manifest.*' | sed 's|^\./||' | sort)" \
	"$(jq -r '.files[].path' "$D/manifest.json" | sort)"
check "manifest: incident, host, tool, exporter, store verified, signer" jqx \
	".incident.id == $N and .incident.status == \"closed\" and .host.hostname == \"$(hostname)\" and
	 (.host.machine_id | length > 0) and (.tool.version | length > 0) and .exporter == \"root\" and
	 .store.verified == true and .signer.public_key == \"$(cat "$IRCONTAIN_STATE_DIR/signing.pub")\"" \
	"$D/manifest.json"

# report.html: self-contained, escaped, and it renders.
R=$D/report.html
check "report: no script, no URL, no external reference" sh -c \
	"! grep -qiE '<script|https?:|src=|href=|@import|url\\(' '$R'"
check "report: title escaped, summary, sections, chart" has "$R" \
	"Export test &lt;host 1&gt; &amp; friends" "&lt;contained&gt;" "Affected hosts and processes" \
	"Actions taken" "Dropped packets over time" "<svg" "Timeline" "verified at export time" \
	"$(cut -c1-64 "$IRCONTAIN_STATE_DIR/signing.pub")" "export test: host 1"
mkdir -p "$IRC_TMP/home"
HOME=$IRC_TMP/home timeout 60 chromium --headless --no-sandbox --disable-gpu \
	--screenshot="$IRC_TMP/report.png" --window-size=1280,2000 "file://$R" \
	>"$IRC_TMP/chromium.log" 2>&1
check "report: headless Chromium takes a screenshot" test -s "$IRC_TMP/report.png"
cat >"$IRC_TMP/png.py" <<'EOF'
# A PNG's pixels, decoded with zlib alone: prints "W H colours inked%".
import struct, sys, zlib
data = open(sys.argv[1], "rb").read()
assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
pos, idat = 8, b""
while pos < len(data):
    n, typ = struct.unpack(">I4s", data[pos:pos + 8])
    body = data[pos + 8:pos + 8 + n]
    if typ == b"IHDR":
        w, h, depth, ctype = struct.unpack(">IIBB", body[:10])
    elif typ == b"IDAT":
        idat += body
    pos += 12 + n
assert depth == 8 and ctype in (2, 6), "unexpected PNG format"
bpp = 3 if ctype == 2 else 4
raw, stride = zlib.decompress(idat), w * bpp
prev, colours, inked, i = bytearray(stride), set(), 0, 0
for y in range(h):
    f, line = raw[i], bytearray(raw[i + 1:i + 1 + stride])
    i += 1 + stride
    for x in range(stride):
        a = line[x - bpp] if x >= bpp else 0
        b, c = prev[x], prev[x - bpp] if x >= bpp else 0
        if f == 1: line[x] = (line[x] + a) & 255
        elif f == 2: line[x] = (line[x] + b) & 255
        elif f == 3: line[x] = (line[x] + (a + b) // 2) & 255
        elif f == 4:
            p = a + b - c
            pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
            line[x] = (line[x] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
    for x in range(0, stride, bpp * 4):
        px = bytes(line[x:x + 3])
        colours.add(px)
        inked += sum(px) < 600
    prev = line
print(w, h, len(colours), round(100.0 * inked / (h * w / 4), 2))
EOF
read -r PW PH PC PI < <("$PY" "$IRC_TMP/png.py" "$IRC_TMP/report.png" 2>&1)
echo "# screenshot: ${PW}x$PH, $PC colours, $PI% inked"
check "report: the screenshot is 1280 wide" eq "$PW" 1280
check "report: the screenshot is not blank (colours vary)" gt "${PC:-0}" 20
check "report: the screenshot has text and bars (> 1% inked)" \
	"$PY" -c "import sys; sys.exit(0 if float('${PI:-0}') > 1 else 1)"

# verify, intact.
KEY=$(cat "$IRCONTAIN_STATE_DIR/signing.pub")
check_rc "verify bundle: exit 0" 0 irc verify "$BUNDLE"
last
check "verify bundle: 'bundle ok: N files, signed by ed25519:KEY16'" \
	grep -qx "bundle ok: $(($(jq '.files | length' "$D/manifest.json") + 2)) files, signed by ed25519:${KEY:0:16}" "$IRC_TMP/last"
check_rc "verify bundle --pubkey KEY: exit 0" 0 irc verify "$BUNDLE" --pubkey "$KEY"
check "verify --json: ok, no problems" ircq '.ok == true and (.problems | length == 0)' verify "$BUNDLE"
check_rc "verify --pubkey BAD: exit 2" 2 irc verify "$BUNDLE" --pubkey nothex
# No key to trust (a state dir without signing.pub): intact is not ok.
NOKEY=$IRC_TMP/nokey
mkdir -p "$NOKEY"
IRCONTAIN_STATE_DIR=$NOKEY irc verify "$BUNDLE" >"$IRC_TMP/nk.out" 2>&1
check "verify, no host key, no --pubkey: exit 1" eq "$?" 1
check "verify, no host key, no --pubkey: one line naming the untrusted key" sh -c \
	"[ \$(wc -l <'$IRC_TMP/nk.out') = 1 ] && grep -q 'bundle intact but signed by an untrusted key ed25519:$KEY.*--pubkey' '$IRC_TMP/nk.out'"
check_rc "verify, no host key, --pubkey KEY: exit 0" 0 env IRCONTAIN_STATE_DIR="$NOKEY" \
	"$IRC_BIN" verify "$BUNDLE" --pubkey "$KEY"
check "verify --json, no host key: ok false, intact, untrusted" sh -c \
	"IRCONTAIN_STATE_DIR='$NOKEY' '$IRC_BIN' --json verify '$BUNDLE' 2>/dev/null |
	 jq -e '.ok == false and .intact == true and .trusted == false and (.problems[0] | test(\"untrusted\"))' >/dev/null"
# A corrupt signing.pub is an error naming it, never passed over.
echo "not a key" >"$NOKEY/signing.pub"
IRCONTAIN_STATE_DIR=$NOKEY irc verify "$BUNDLE" >"$IRC_TMP/nk.out" 2>&1
check "verify, corrupt signing.pub: exit 1" eq "$?" 1
check "verify, corrupt signing.pub: names the file" grep -q "$NOKEY/signing.pub: not a 64-digit hex" "$IRC_TMP/nk.out"
rm -f "$NOKEY/signing.pub"
# Only gzip: a bzip2 tar of the same tree is refused, saying why.
tar -cjf "$OUT/b.tar.bz2" -C "$X" "ircontain-incident-$N"
check_rc "verify of a bzip2 tar: exit 1" 1 irc verify "$OUT/b.tar.bz2"
last
check "verify of a bzip2 tar: says so" grep -q "not a tar.gz: compression bzip2" "$IRC_TMP/last"

# ---- tampered bundles -------------------------------------------------------------

# tamper NAME WANT CMD...: CMD changes a copy of the bundle's tree (in $T),
# which is packed again with tar; verify must exit 1 and say WANT.
tamper() {
	local name=$1 want=$2 rc
	shift 2
	rm -rf "$IRC_TMP/t" && mkdir -p "$IRC_TMP/t" && cp -a "$X/." "$IRC_TMP/t/"
	T=$IRC_TMP/t/ircontain-incident-$N
	"$@"
	tar -czf "$IRC_TMP/t.tar.gz" -C "$IRC_TMP/t" "ircontain-incident-$N"
	irc verify "$IRC_TMP/t.tar.gz" ${VARGS:-} >"$IRC_TMP/v.out" 2>&1; rc=$?
	if ((rc == 1)) && grep -qF -- "$want" "$IRC_TMP/v.out"; then
		ok "tampered: $name: fails, naming it"
	else
		not_ok "tampered: $name: exit $rc, expected 1 and '$want'"
		sed 's/^/#   /' "$IRC_TMP/v.out" | head -8
	fi
}
# flip FILE [OFFSET]: one byte changed (xor 1), in the middle by default.
flip() {
	local f=$1 off=${2:-$(($(stat -c %s "$1") / 2))}
	"$PY" -c 'import sys; f = open(sys.argv[1], "r+b"); o = int(sys.argv[2]); f.seek(o); b = f.read(1); f.seek(o); f.write(bytes([b[0] ^ 1]))' "$f" "$off"
}
check "verify of the untampered repack passes" sh -c \
	"rm -rf '$IRC_TMP/r' && mkdir '$IRC_TMP/r' && tar -czf '$IRC_TMP/r/r.tar.gz' -C '$X' ircontain-incident-$N &&
	 '$IRC_BIN' verify '$IRC_TMP/r/r.tar.gz'"

tamper "flipped byte in events.jsonl" "events.jsonl: SHA-256 differs" eval 'flip "$T/events.jsonl"'
tamper "flipped byte in ocsf.jsonl" "ocsf.jsonl: SHA-256 differs" eval 'flip "$T/ocsf.jsonl"'
tamper "flipped byte in packets.pcap" "packets.pcap: SHA-256 differs" eval 'flip "$T/packets.pcap"'
tamper "flipped byte in report.html" "report.html: SHA-256 differs" eval 'flip "$T/report.html"'
tamper "flipped byte in $SNAP" "$SNAP: SHA-256 differs" eval 'flip "$T/$SNAP"'
tamper "flipped byte in manifest.json" "manifest.sig: bad signature" eval 'flip "$T/manifest.json"'
tamper "a hash in manifest.json edited to match a changed file" "manifest.sig: bad signature" eval \
	'echo x >>"$T/ocsf.jsonl"; jq --indent 2 ".files |= map(if .path == \"ocsf.jsonl\" then .size += 2 | .sha256 = \"$(sha256sum "$T/ocsf.jsonl" | cut -c1-64)\" else . end)" "$T/manifest.json" >"$T/m" && mv "$T/m" "$T/manifest.json"'
tamper "flipped byte in manifest.sig" "manifest.sig: bad signature" eval 'flip "$T/manifest.sig" 10'
tamper "a line of events.jsonl deleted" "events.jsonl: " eval 'sed -i 3d "$T/events.jsonl"'
grep -q "events.jsonl: .* bytes, the manifest says" "$IRC_TMP/v.out" &&
	ok "  ... and says its size differs" || not_ok "  ... and says its size differs"
tamper "two lines of events.jsonl swapped" "events.jsonl: SHA-256 differs" eval \
	'sed -i -e "2{h;d}" -e "3{G}" "$T/events.jsonl"'
tamper "report.html truncated" "report.html: " eval 'truncate -s 1000 "$T/report.html"'
tamper "ocsf.jsonl missing" "ocsf.jsonl: missing" eval 'rm "$T/ocsf.jsonl"'
tamper "manifest.sig missing" "manifest.sig: missing" eval 'rm "$T/manifest.sig"'
tamper "an extra file" "artifacts/extra.txt: extra file" eval 'echo x >"$T/artifacts/extra.txt"'

# Re-signed with another key (a forger rewrites the manifest's signer too).
openssl genpkey -algorithm ed25519 -out "$IRC_TMP/other.pem" 2>/dev/null
OTHER=$(openssl pkey -in "$IRC_TMP/other.pem" -pubout -outform DER | tail -c 32 | xxd -p -c 64)
resign() {
	echo x >>"$T/events.jsonl"
	jq --indent 2 --arg k "$OTHER" --arg h "$(sha256sum "$T/events.jsonl" | cut -c1-64)" \
		--argjson n "$(stat -c %s "$T/events.jsonl")" \
		'.signer.public_key = $k | .files |= map(if .path == "events.jsonl" then .sha256 = $h | .size = $n else . end)' \
		"$T/manifest.json" >"$T/m" && mv "$T/m" "$T/manifest.json"
	openssl pkeyutl -sign -rawin -inkey "$IRC_TMP/other.pem" -in "$T/manifest.json" | xxd -p -c 64 >"$T/manifest.sig"
}
VARGS="--pubkey $KEY" tamper "re-signed with another key, --pubkey" \
	"manifest.sig: signed by another key: ed25519:$OTHER, not by the expected key ed25519:$KEY (--pubkey)" resign
tamper "re-signed with another key, this host's key" \
	"manifest.sig: signed by another key: ed25519:$OTHER, not by the expected key ed25519:$KEY (this host's key" resign
check "re-signed bundle verifies under the forger's own key (so the check is real)" \
	irc verify "$IRC_TMP/t.tar.gz" --pubkey "$OTHER"
IRCONTAIN_STATE_DIR=$NOKEY irc verify "$IRC_TMP/t.tar.gz" >"$IRC_TMP/nk.out" 2>&1
check "re-signed bundle, no key to trust: exit 1" eq "$?" 1
check "re-signed bundle, no key to trust: names the forger's key as untrusted" \
	grep -q "signed by an untrusted key ed25519:$OTHER" "$IRC_TMP/nk.out"
VARGS="--pubkey $KEY" tamper "signature of another bundle" "manifest.sig: bad signature" eval \
	'tar -xzOf "$OUT/b2.tar.gz" "ircontain-incident-$N/manifest.sig" >"$T/manifest.sig"'

# Archive-level damage, made without extracting.
head -c $(($(stat -c %s "$BUNDLE") / 2)) "$BUNDLE" >"$OUT/cut.tar.gz"
check_rc "truncated archive: exit 1" 1 irc verify "$OUT/cut.tar.gz"
last
check "truncated archive: says unreadable" grep -q "unreadable archive" "$IRC_TMP/last"
tar -cf "$OUT/dup.tar" -C "$X" "ircontain-incident-$N" && tar -rf "$OUT/dup.tar" -C "$X" \
	"ircontain-incident-$N/events.jsonl" && gzip -f "$OUT/dup.tar"
check_rc "a member twice: exit 1" 1 irc verify "$OUT/dup.tar.gz"
last
check "a member twice: named" grep -q "events.jsonl: the archive holds it twice" "$IRC_TMP/last"
"$PY" - "$X/ircontain-incident-$N" "$OUT/evil.tar.gz" <<'EOF'
import io, os, sys, tarfile
src, out = sys.argv[1], sys.argv[2]
top = os.path.basename(src)
with tarfile.open(out, "w:gz") as t:
    for root, _, files in os.walk(src):
        for f in files:
            p = os.path.join(root, f)
            t.add(p, arcname=os.path.join(top, os.path.relpath(p, src)))
    data = b"owned\n"
    for name in (top + "/../evil.txt", "/tmp/evil.txt"):
        ti = tarfile.TarInfo(name)
        ti.size = len(data)
        t.addfile(ti, io.BytesIO(data))
EOF
check_rc "members named '../' and '/': exit 1" 1 irc verify "$OUT/evil.tar.gz"
last
check "members named '../' and '/': refused by name" sh -c \
	"grep -q \"unsafe member name '.*/../evil.txt'\" '$IRC_TMP/last' && grep -q \"unsafe member name '/tmp/evil.txt'\" '$IRC_TMP/last'"
check "nothing was written outside (no evil.txt)" test ! -e "$OUT/evil.txt" -a ! -e /tmp/evil.txt

# ---- the store ------------------------------------------------------------------------

kill -TERM "$DPID"
wait "$DPID"
check_rc "verify (store): exit 0" 0 irc verify
last
check "verify (store): 'store ok: N records (...), chain head #H (MAC), I incidents'" grep -qE \
	"^store ok: [0-9]+ records \([0-9]+ actions, [0-9]+ events, [0-9]+ evidence\), chain head #[0-9]+ \([0-9a-f]{16}\), [0-9]+ incidents$" \
	"$IRC_TMP/last"
check "verify --json (store): ok" ircq '.ok == true and .records > 0 and .head_seq == .records' verify
# The bundle anchors the store: it names the chain head (seq and MAC) it was
# exported at, which a store rewritten later cannot match.
HEAD_MAC=$(jq -r .store.head_mac "$D/manifest.json")
check "manifest: names the chain head's MAC at export (${HEAD_MAC:0:16})" \
	grep -qE '^[0-9a-f]{64}$' <<<"$HEAD_MAC"
check "manifest: that head is a record of the chain" test "$(sqlite3 "$IRCONTAIN_STATE_DIR/ircontain.db" \
	"SELECT count(*) FROM (SELECT mac FROM actions UNION ALL SELECT mac FROM events UNION ALL SELECT mac FROM evidence) WHERE hex(mac) = upper('$HEAD_MAC')")" = 1

# store_case NAME WANT SQL: on a copy of the store, SQL makes verify exit 1
# saying WANT.
store_case() {
	local name=$1 want=$2 sql=$3 c=$IRC_TMP/sc rc
	rm -rf "$c" && mkdir -m 700 "$c"
	cp -p "$IRCONTAIN_STATE_DIR"/{hmac.key,signing.key,signing.pub} "$c/"
	sqlite3 "$DB" ".backup '$c/ircontain.db'"
	sqlite3 "$c/ircontain.db" "$sql" || { not_ok "store: $name: SQL failed"; return; }
	IRCONTAIN_STATE_DIR=$c irc verify >"$IRC_TMP/sv.out" 2>&1; rc=$?
	if ((rc == 1)) && grep -qF -- "$want" "$IRC_TMP/sv.out"; then
		ok "store: $name: verify fails, naming it"
	else
		not_ok "store: $name: exit $rc, expected 1 and '$want'"
		sed 's/^/#   /' "$IRC_TMP/sv.out" | head -5
	fi
}
E1=$(q "SELECT min(seq) FROM events")
E2=$(q "SELECT min(seq) FROM events WHERE seq > $E1")
AQ=$(q "SELECT seq FROM actions WHERE type = 'quarantine' AND target = 'host:$H1'")
LAST=$(q "SELECT max(s) FROM (SELECT max(seq) s FROM actions UNION ALL SELECT max(seq) FROM events UNION ALL SELECT max(seq) FROM evidence)")
store_case "an events body edited" "store BROKEN at record #$E1:" \
	"UPDATE events SET body = replace(body, 'pid', 'PID') WHERE seq = $E1"
store_case "the quarantine action's body edited" "store BROKEN at record #$AQ:" \
	"UPDATE actions SET body = replace(body, 'export test', 'routine') WHERE seq = $AQ"
store_case "an events row deleted" "record #$E2 is missing" "DELETE FROM events WHERE seq = $E2"
store_case "two events rows' seq swapped" "store BROKEN at record #$E1:" \
	"UPDATE events SET seq = -1 WHERE seq = $E1; UPDATE events SET seq = $E1 WHERE seq = $E2;
	 UPDATE events SET seq = $E2 WHERE seq = -1"
store_case "the tail cut off (last 3 records)" "the chain was truncated: its head is record #$LAST" \
	"DELETE FROM actions WHERE seq > $LAST - 3; DELETE FROM events WHERE seq > $LAST - 3;
	 DELETE FROM evidence WHERE seq > $LAST - 3"
store_case "the incident row edited" "incident $N was edited" \
	"UPDATE incidents SET title = 'nothing happened' WHERE id = $N"

# Export of a store that does not verify: written, flagged, exit 1.
C=$IRC_TMP/sc
IRCONTAIN_STATE_DIR=$C irc export "$N" -o "$OUT/broken.tar.gz" >"$IRC_TMP/be.out" 2>&1
check "export of a broken store: exit 1" eq "$?" 1
check "export of a broken store: warns" grep -q "did NOT verify" "$IRC_TMP/be.out"
check "export of a broken store: the bundle is written and verifies as a bundle" \
	env IRCONTAIN_STATE_DIR="$C" "$IRC_BIN" verify "$OUT/broken.tar.gz"
check "export of a broken store: its manifest and report say so" sh -c \
	"tar -xzOf '$OUT/broken.tar.gz' ircontain-incident-$N/manifest.json | jq -e '.store.verified == false and (.store.problem | test(\"edited\"))' >/dev/null &&
	 tar -xzOf '$OUT/broken.tar.gz' ircontain-incident-$N/report.html | grep -q 'did NOT verify'"

echo "# test time: $((SECONDS - T_START)) s"
