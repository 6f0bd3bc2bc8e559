#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Hardening (issue 13), on a loaded lab with real maps:
#   containment first: --incident with a missing key, a corrupt store, a
#     store locked by another writer: the quarantine is in the kernel at
#     once, the command exits 1 "applied, not recorded", the record is
#     journaled and recorded by the next writer; a SIGKILL between the map
#     write and the record leaves a note that is replayed, and verify names
#     the unrecorded quarantine until then; isolate on likewise;
#   the anchor: a deleted anchor stops writes (not recreated), verify
#     --accept-rollback records the acceptance; a full disk (a tmpfs with
#     no inode left) makes the writing command exit 1;
#   ownership: a state dir through a symlink, of another user, or writable
#     by others is refused naming whose it is (the target's mode unchanged);
#     a pin dir made by another user is refused by load;
#   text: hostile reasons/titles/notes are refused with exit 2, escaped and
#     cut; printable hostile strings survive list --json, list, incident
#     show, report.html (escaped), events.jsonl (ECS) and ocsf.jsonl;
#   one controller per pin dir; incident list on an unopenable store;
#   export without signing.key; policy FIFO, /dev/zero, broken 2nd document.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/proc_lib.sh" || exit 1

ST=$IRCONTAIN_STATE_DIR
DB=$ST/ircontain.db

inmap() { irc --json list | jq -e --arg t "$1" '[.entries[] | select(.target == $t)] | length == 1' >/dev/null; }
recorded() { sqlite3 -batch "$DB" "SELECT count(*) FROM actions WHERE type = '$1' AND target = '$2'"; }
verify_ok() { irc verify >"$IRC_TMP/v.out" 2>&1 || { cat "$IRC_TMP/v.out"; return 1; }; }

proc_lab_up || exit 1
# ircontain itself in the protected host's netns, exec'd: $! is its PID.
irc_bg() { nsenter --net="/run/netns/$IRC_NS_P" "$IRC_BIN" "$@" & IRC_PIDS+=($!); }

check "incident open (a store, a key, an anchor)" irc incident open --title "harden" --severity high

# ---- 1. containment first -------------------------------------------------

mv "$ST/hmac.key" "$IRC_TMP/hmac.key"
t0=$(date +%s%N)
irc quarantine host 10.77.1.20 --incident 1 --reason "key gone" >"$IRC_TMP/o" 2>"$IRC_TMP/e"; rc=$?
t1=$(date +%s%N)
check "missing hmac.key + --incident: exit 1" eq "$rc" 1
check "missing hmac.key + --incident: the quarantine is in force" inmap 10.77.1.20
check "missing hmac.key + --incident: says applied, not recorded" grep -q "applied, not recorded" "$IRC_TMP/e"
check "missing hmac.key + --incident: journaled" grep -q "journaled in $ST/pending" "$IRC_TMP/e"
check "missing hmac.key: done in under 2 s ($(((t1 - t0) / 1000000)) ms)" test $(((t1 - t0) / 1000000)) -lt 2000
check "one note in the journal" eq "$(ls "$ST/pending" | grep -c '\.json$')" 1
mv "$IRC_TMP/hmac.key" "$ST/hmac.key"
check "the next writer replays the note" irc quarantine host 10.77.1.21
check "journal empty after replay" eq "$(ls "$ST/pending" | grep -c '\.json$')" 0
check "the journaled quarantine is on record, with its incident" eq \
	"$(sqlite3 -batch "$DB" "SELECT incident || ' ' || json_extract(body, '$.journaled') FROM actions WHERE type = 'quarantine' AND target = 'host:10.77.1.20'")" \
	"1 not recorded"
check "verify ok after the replay" verify_ok

# A corrupt store: contained anyway.
sqlite3 "$DB" "PRAGMA wal_checkpoint(TRUNCATE)" >/dev/null
cp -p "$DB" "$IRC_TMP/db.good"
printf 'this is not a database at all, not even close to one......' | dd of="$DB" conv=notrunc status=none
irc quarantine host 10.77.1.22 --incident 1 >"$IRC_TMP/o" 2>"$IRC_TMP/e"; rc=$?
check "corrupt store + --incident: exit 1" eq "$rc" 1
check "corrupt store + --incident: the quarantine is in force" inmap 10.77.1.22
check "corrupt store: says contained anyway" grep -q "containing anyway" "$IRC_TMP/e"
irc isolate on --incident 1 --reason "corrupt store" >"$IRC_TMP/o" 2>"$IRC_TMP/e"; rc=$?
check "corrupt store + isolate on --incident: exit 1" eq "$rc" 1
check "corrupt store + isolate on --incident: isolated" ircq '.enabled == true' isolate status
cp -p "$IRC_TMP/db.good" "$DB"
rm -f "$DB-wal" "$DB-shm"
check "isolate off (replays both notes)" irc isolate off
check "corrupt store: both actions recorded late" eq \
	"$(sqlite3 -batch "$DB" "SELECT count(*) FROM actions WHERE json_extract(body, '$.journaled') = 'not recorded' AND (target = 'host:10.77.1.22' OR type = 'isolate')")" 2

# Another writer holds the store: containment is immediate all the same.
flock -o "$ST" sleep 8 &
LOCKER=$!
IRC_PIDS+=("$LOCKER")
sleep 0.3
t0=$(date +%s%N)
irc_bg quarantine host 10.77.1.23 --incident 1
QP=${IRC_PIDS[-1]}
wait_for 1 inmap 10.77.1.23
t1=$(date +%s%N)
check "store locked: the quarantine is in force within 1 s ($(((t1 - t0) / 1000000)) ms)" inmap 10.77.1.23
# Killed before it could record: the note remains; the next open records it.
kill -9 "$QP" 2>/dev/null; wait "$QP" 2>/dev/null
kill "$LOCKER" 2>/dev/null; wait "$LOCKER" 2>/dev/null
check "SIGKILL before the record: the note remains" eq "$(ls "$ST/pending" | grep -c '\.json$')" 1
irc verify >"$IRC_TMP/v.out" 2>&1; rc=$?
check "the next open (verify) records the killed command's intent" eq "$(recorded quarantine host:10.77.1.23)" 1
check "... marked as an intent of unknown outcome" eq "$(sqlite3 -batch "$DB" \
	"SELECT json_extract(body, '$.journaled') FROM actions WHERE target = 'host:10.77.1.23'")" intent
check "... and verify is ok" eq "$rc" 0
# A note lost too (a crash before the page cache reached the disk): verify sees the gap.
flock -o "$ST" sleep 8 &
LOCKER=$!
IRC_PIDS+=("$LOCKER")
sleep 0.3
irc_bg quarantine host 10.77.1.25
QP=${IRC_PIDS[-1]}
wait_for 2 inmap 10.77.1.25
kill -9 "$QP" 2>/dev/null; wait "$QP" 2>/dev/null
rm -f "$ST"/pending/*.json
kill "$LOCKER" 2>/dev/null; wait "$LOCKER" 2>/dev/null
irc verify >"$IRC_TMP/v.out" 2>&1; rc=$?
check "no record, no note: verify exits 1" eq "$rc" 1
check "no record, no note: verify names host:10.77.1.25" grep -q "UNRECORDED containment: 1 .* host:10.77.1.25" "$IRC_TMP/v.out"
check "release host 10.77.1.25" irc release host 10.77.1.25
check "verify ok again" verify_ok
# The same for a cgroup: keyed by id in the kernel, recorded by its path.
mkdir -p "$IRC_CG/unrec"
flock -o "$ST" sleep 8 &
LOCKER=$!
IRC_PIDS+=("$LOCKER")
sleep 0.3
irc_bg quarantine cgroup "$IRC_CG/unrec"
QP=${IRC_PIDS[-1]}
wait_for 2 inmap "$IRC_CG/unrec"
kill -9 "$QP" 2>/dev/null; wait "$QP" 2>/dev/null
rm -f "$ST"/pending/*.json
kill "$LOCKER" 2>/dev/null; wait "$LOCKER" 2>/dev/null
irc verify >"$IRC_TMP/v.out" 2>&1; rc=$?
check "cgroup, no record, no note: verify exits 1" eq "$rc" 1
check "cgroup, no record, no note: verify names cgroup:$IRC_CG/unrec" \
	grep -qF "cgroup:$IRC_CG/unrec" "$IRC_TMP/v.out"
check "release cgroup $IRC_CG/unrec" irc release cgroup "$IRC_CG/unrec"
check "verify ok again (cgroup)" verify_ok

# ---- 2. the anchor ----------------------------------------------------------

rm "$ST/chain.head"
irc incident note 1 "no anchor" >"$IRC_TMP/o" 2>"$IRC_TMP/e"; rc=$?
check "deleted anchor: a write exits 1" eq "$rc" 1
check "deleted anchor: refused, named" grep -q "refused to extend the chain: the chain's anchor .* is missing" "$IRC_TMP/e"
check "deleted anchor: not recreated" test ! -e "$ST/chain.head"
check_rc "deleted anchor: verify BROKEN" 1 irc verify
irc quarantine host 10.77.1.24 >"$IRC_TMP/o" 2>"$IRC_TMP/e"; rc=$?
check "deleted anchor: a quarantine still applies (exit 1, not recorded)" sh -c "[ $rc = 1 ] && grep -q 'applied, not recorded' $IRC_TMP/e"
check "deleted anchor: the quarantine is in force" inmap 10.77.1.24
check "verify --accept-rollback: exit 0" irc verify --accept-rollback
check "the acceptance is on record" eq "$(sqlite3 -batch "$DB" "SELECT count(*) FROM actions WHERE type = 'store.accept-rollback'")" 1
check "verify ok after acceptance" verify_ok
check "writes go on" irc incident note 1 "accepted"
check "the quarantine done meanwhile is on record" eq "$(recorded quarantine host:10.77.1.24)" 1

# An anchor that cannot be rewritten: a tmpfs with no inode left.
FULL=$IRC_TMP/full
mkdir "$FULL"
if mount -t tmpfs -o size=4m,nr_inodes=32,mode=0700 tmpfs "$FULL"; then
	IRCONTAIN_STATE_DIR=$FULL/st irc incident open --title "full disk" --severity low >/dev/null 2>&1
	i=0
	while touch "$FULL/fill$i" 2>/dev/null; do i=$((i + 1)); done
	# SQLite's -wal and -shm stay (no checkpoint on close): no inode for the anchor's new file.
	check "the WAL stays between commands" test -e "$FULL/st/ircontain.db-wal"
	IRCONTAIN_STATE_DIR=$FULL/st irc incident note 1 "no room for the anchor" >"$IRC_TMP/o" 2>"$IRC_TMP/e"; rc=$?
	check "ENOSPC on the anchor: exit 1" eq "$rc" 1
	check "ENOSPC on the anchor: says so" grep -q "chain anchor .* could not be updated" "$IRC_TMP/e"
	rm -f "$FULL"/fill*
	check "ENOSPC gone: verify ok (the anchor lags, the chain holds it)" env \
		IRCONTAIN_STATE_DIR="$FULL/st" IRCONTAIN_PIN_DIR="$FULL/nopins" "$IRC_BIN" verify
	umount "$FULL"
else
	not_ok "mount a tmpfs for the full-disk case"
fi

# ---- 3. own what you trust ---------------------------------------------------

OTHER=$IRC_TMP/other
mkdir -m 0755 "$OTHER"
ln -s "$OTHER" "$IRC_TMP/link"
IRCONTAIN_STATE_DIR=$IRC_TMP/link irc incident list >"$IRC_TMP/o" 2>"$IRC_TMP/e"; rc=$?
check "state dir through a symlink: exit 1" eq "$rc" 1
check "state dir through a symlink: refused as a link" grep -q "symbolic link" "$IRC_TMP/e"
IRCONTAIN_STATE_DIR=$IRC_TMP/link irc incident open --title x --severity low >/dev/null 2>&1
check "state dir through a symlink: the target's mode unchanged" eq "$(stat -c %a "$OTHER")" 755
check "state dir through a symlink: nothing created in the target" eq "$(ls -A "$OTHER" | wc -l)" 0
mkdir -m 0700 "$IRC_TMP/theirs"
chown nobody "$IRC_TMP/theirs"
IRCONTAIN_STATE_DIR=$IRC_TMP/theirs irc incident open --title x --severity low >"$IRC_TMP/o" 2>"$IRC_TMP/e"; rc=$?
check "state dir of another user: exit 1" eq "$rc" 1
check "state dir of another user: says whose it is" grep -q "belongs to uid [0-9]* (nobody)" "$IRC_TMP/e"
mkdir -m 0777 "$IRC_TMP/open"
IRCONTAIN_STATE_DIR=$IRC_TMP/open irc incident open --title x --severity low >"$IRC_TMP/o" 2>"$IRC_TMP/e"; rc=$?
check "state dir writable by others: refused" sh -c "[ $rc = 1 ] && grep -q 'group or others write' $IRC_TMP/e"
chown nobody "$ST/signing.key"
irc export 1 -o "$IRC_TMP/x.tar.gz" >"$IRC_TMP/o" 2>"$IRC_TMP/e"; rc=$?
check "signing.key of another user: export refused" sh -c "[ $rc = 1 ] && grep -q 'belongs to' $IRC_TMP/e"
chown root "$ST/signing.key"
PD=/sys/fs/bpf/${IRC_ID}x
mkdir -m 0755 "$PD" && chown nobody "$PD"
IRCONTAIN_PIN_DIR=$PD irc load --iface iv1 >"$IRC_TMP/o" 2>"$IRC_TMP/e"; rc=$?
check "pin dir made by another user: load refused" sh -c "[ $rc != 0 ] && grep -q 'pin dir $PD: refused: it belongs to uid [0-9]* (nobody)' $IRC_TMP/e"
check "pin dir made by another user: nothing pinned in it" eq "$(ls -A "$PD" | wc -l)" 0
rmdir "$PD"
check "our pin dir is private (0700)" eq "$(stat -c %a "$IRC_PIN_DIR")" 700

# ---- 4. text that cannot lie ---------------------------------------------------

# bad NAME NEEDLE ARGS...: exit 2, one line on stderr naming NEEDLE, nothing raw.
badtext() {
	local name=$1 needle=$2 rc; shift 2
	irc "$@" >"$IRC_TMP/bo" 2>"$IRC_TMP/be"; rc=$?
	if ((rc == 2)) && (($(grep -c '' "$IRC_TMP/be") == 1)) && grep -qF -- "$needle" "$IRC_TMP/be" &&
		! LC_ALL=C grep -qP '[\x00-\x08\x0b-\x1f\x7f]|\xc2[\x80-\x9f]' "$IRC_TMP/be"; then
		ok "$name"
	else
		not_ok "$name (exit $rc)"; sed 's/^/#   /' "$IRC_TMP/be" | cat -v | head -3
	fi
}
badtext "reason: invalid UTF-8" 'caf\xe9' quarantine host 10.77.1.30 --reason $'caf\xe9'
badtext "reason: C1 CSI" '\x9b' quarantine host 10.77.1.30 --reason $'a\xc2\x9b31mred'
badtext "reason: bidi override" '\u{202e}' quarantine host 10.77.1.30 --reason $'a\xe2\x80\xaeb'
badtext "title: escape sequence" '\x1b' incident open --title $'\e[2J' --severity low
badtext "note: invalid UTF-8" 'not valid UTF-8' incident note 1 $'\xff\xfe'
badtext "summary: C1" 'C1' incident close 1 --summary $'x\xc2\x85y'
badtext "cgroup path: control character" 'control character' quarantine cgroup $'a\nb'
LONG=$(printf 'A%.0s' {1..5000})
badtext "too-long reason: refused" "longer than 63 bytes" quarantine host 10.77.1.30 --reason "$LONG"
check "too-long reason: not echoed whole" test "$(wc -c <"$IRC_TMP/be")" -lt 400
badtext "too-long note: refused" "bytes long" incident note 1 "$LONG"
check "too-long note: not echoed whole" test "$(wc -c <"$IRC_TMP/be")" -lt 400
check_rc "nothing was quarantined by the refused commands" 1 inmap 10.77.1.30

HOSTILE='<script>alert("x")</script> & '\''q'\'' \\ "é 日本'
check "a hostile but printable reason is taken" irc quarantine host 10.77.1.31 --reason "${HOSTILE:0:60}"
check "list --json: the reason comes back unchanged" jqx --arg r "${HOSTILE:0:60}" \
	'[.entries[] | select(.target == "10.77.1.31" and .reason == $r)] | length == 1' <<<"$(irc --json list)"
irc list >"$IRC_TMP/l.txt"
check "list text: the reason as given" grep -qF "${HOSTILE:0:60}" "$IRC_TMP/l.txt"
check "hostile incident title" irc incident open --title "$HOSTILE" --severity low
ID=$(irc --json incident list | jq -s 'map(.id) | max')
check "hostile note" irc incident note "$ID" "$HOSTILE"
check "quarantine into the incident" irc quarantine host 10.77.1.32 --incident "$ID" --reason "${HOSTILE:0:60}"
check "incident show --json: title unchanged" jqx --arg t "$HOSTILE" '.incident.title == $t' <<<"$(irc --json incident show "$ID")"
irc incident show "$ID" >"$IRC_TMP/show.txt"
check "incident show text: the title as given" grep -qF "$HOSTILE" "$IRC_TMP/show.txt"
check "export the hostile incident" irc export "$ID" -o "$IRC_TMP/h.tar.gz"
mkdir "$IRC_TMP/h" && tar -xzf "$IRC_TMP/h.tar.gz" -C "$IRC_TMP/h"
R=$(find "$IRC_TMP/h" -name report.html)
check "report.html: no raw <script> from the title" sh -c "! grep -q '<script>alert' '$R'"
check "report.html: the title escaped" grep -qF '&lt;script&gt;alert(' "$R"
E=$(find "$IRC_TMP/h" -name events.jsonl)
O=$(find "$IRC_TMP/h" -name ocsf.jsonl)
check "events.jsonl (ECS): every line is JSON" sh -c "jq -e . '$E' >/dev/null"
check "events.jsonl (ECS): the note text unchanged" jqx -s --arg t "$HOSTILE" '[.. | strings | select(contains($t))] | length >= 1' "$E"
check "ocsf.jsonl: every line is JSON" sh -c "jq -e . '$O' >/dev/null"
check "ocsf.jsonl: the quarantine reason unchanged" jqx -s --arg t "${HOSTILE:0:60}" '[.. | strings | select(contains($t))] | length >= 1' "$O"
check "the bundle verifies" irc verify "$IRC_TMP/h.tar.gz"

# ---- 5. one controller per pin dir --------------------------------------------

irc_bg run --events-file "$IRC_TMP/ev1.jsonl" 2>"$IRC_TMP/run1.err"
RUN1=${IRC_PIDS[-1]}
# Ready: it says so once its signal handlers are in place.
check "first run ready" wait_for 20 grep -q "run: events to" "$IRC_TMP/run1.err"
irc run --events-file "$IRC_TMP/ev2.jsonl" >"$IRC_TMP/o" 2>"$IRC_TMP/e"; rc=$?
check "second run: exit 2" eq "$rc" 2
check "second run: names the first's PID" grep -q "another controller (pid [0-9]*) already runs on $IRC_PIN_DIR" "$IRC_TMP/e"
t0=$(date +%s%N)
kill -TERM "$RUN1"; wait "$RUN1"; rc=$?
t1=$(date +%s%N)
check "first run stops on SIGTERM with exit 0" eq "$rc" 0
check "first run stops within 5 s, not a 10 s busy timeout ($(((t1 - t0) / 1000000)) ms)" test $(((t1 - t0) / 1000000)) -lt 5000 ||
	sed 's/^/#   run: /' "$IRC_TMP/run1.err" | tail -5

# ---- 7. the Low items ---------------------------------------------------------

mkdir -m 0700 "$IRC_TMP/broken"
echo garbage >"$IRC_TMP/broken/ircontain.db"
IRCONTAIN_STATE_DIR=$IRC_TMP/broken irc incident list >"$IRC_TMP/o" 2>"$IRC_TMP/e"; rc=$?
check "incident list, unopenable store: exit 1" eq "$rc" 1
check "incident list, unopenable store: not 'no incidents'" sh -c "! grep -q 'no incidents' $IRC_TMP/o"
mkdir -m 0700 "$IRC_TMP/gone" && cp -p "$ST/chain.head" "$IRC_TMP/gone/"
IRCONTAIN_STATE_DIR=$IRC_TMP/gone irc incident list >"$IRC_TMP/o" 2>"$IRC_TMP/e"; rc=$?
check "incident list, store deleted (anchor left): exit 1" eq "$rc" 1

mv "$ST/signing.key" "$IRC_TMP/signing.key"
irc export 1 -o "$IRC_TMP/nokey.tar.gz" >"$IRC_TMP/o" 2>"$IRC_TMP/e"; rc=$?
check "export, signing.key deleted: exit 1" eq "$rc" 1
check "export, signing.key deleted: says --new-key" grep -q "signing.key is missing.*--new-key" "$IRC_TMP/e"
check "export, signing.key deleted: no key made" test ! -e "$ST/signing.key"
check "export --new-key: a new key" irc export 1 -o "$IRC_TMP/newkey.tar.gz" --new-key
check "export --new-key: the key exists, 0600" eq "$(stat -c %a "$ST/signing.key")" 600
mv "$IRC_TMP/signing.key" "$ST/signing.key"

mkfifo "$IRC_TMP/fifo"
t0=$SECONDS
check_rc "policy check FIFO: exit 2" 2 timeout 5 "$IRC_BIN" policy check "$IRC_TMP/fifo"
check_rc "run --policy FIFO: exit 2" 2 timeout 5 "$IRC_BIN" run --policy "$IRC_TMP/fifo"
check_rc "run --policy /dev/zero: exit 2" 2 timeout 5 "$IRC_BIN" run --policy /dev/zero
check "FIFO and /dev/zero refused at once" test $((SECONDS - t0)) -lt 4
printf 'mode: monitor\n---\nmode: [enforce\n' >"$IRC_TMP/two.yaml"
check_rc "policy check, broken second document: exit 2" 2 irc policy check "$IRC_TMP/two.yaml"
