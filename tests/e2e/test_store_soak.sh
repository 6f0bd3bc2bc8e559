#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# The evidence store under a running controller and a busy CLI (issue 12).
# SOAK_S seconds (60 in `make check`, 600 in `make soak`):
#   - the controller with --store-events all and --store-max-size 2M, so
#     it writes and prunes all along, under a connect storm (irc_connstorm,
#     real TCP connects on the protected host's loopback) and an exec storm;
#   - 20 CLI loops at once: incident show (4), export (3), verify (3),
#     quarantine/release host with --incident (4), incident note (6);
#   - every 2 s, the controller's descriptors: none may point at a deleted
#     -wal or -shm (the old corruption: another process deleted the WAL
#     under it).
# Then: PRAGMA integrity_check is ok, verify passes (across the ranges the
# last prune's seal lists), every note the CLI acknowledged is in the store
# unless in a pruned range, containment actions acknowledged are there, verify never failed during the run, a prune happened and status
# shows it, and a store error, if the controller met one, is in status.
# Also: no userspace code opens the database file itself.
. "$(dirname "$0")/lib.sh"

SOAK_S=${SOAK_S:-60}
EV=$IRC_TMP/events.jsonl
RUNJ=$IRCONTAIN_STATE_DIR/run.json
DB=$IRCONTAIN_STATE_DIR/ircontain.db
STORM=$(dirname "$IRC_BIN")/tests/helpers/irc_connstorm
[[ -x $STORM ]] || STORM=$IRC_ROOT/build/tests/helpers/irc_connstorm
LOOPS=$IRC_TMP/loops
mkdir -p "$LOOPS"

# ---- the rule that keeps the corruption out -------------------------------------
# Closing any descriptor of the database drops the process's SQLite locks:
# only SQLite may open it.  The path is built from IRC_STORE_DB in store.c
# (s->path) and for stat() elsewhere; none of these may reach open().
check "no userspace code opens the database file itself" \
	sh -c "! grep -rnE --include='*.c' '(open|openat|fopen|creat|truncate|irc_sha256_file|irc_sha256_json)\\((s->path|db|dbpath|irc_store_path)' \
		'$IRC_ROOT'/userspace"

lab_up 1 || { not_ok "lab up"; exit 1; }
check "load --iface iv1" irc load --iface iv1
bg nsenter --net="/run/netns/$IRC_NS_P" "$IRC_BIN" run --events-file "$EV" \
	--store-events all --store-max-size 2M --store-max-age off 2>"$IRC_TMP/daemon.err"
DPID=$!
daemon_ready() { [[ $(jq -r .pid "$RUNJ" 2>/dev/null) == "$DPID" ]]; }
check "controller ready" wait_for 10 daemon_ready
# The loops work on the current incident ($CUR); every 10 s it is closed
# (exported first, as the policy's keep_until_exported wants) and a new one
# opened, so the prune can move past the closed ones.
CUR=$IRC_TMP/current
new_incident() {
	local id
	id=$(irc --json incident open --title "Soak $1" --severity high | jq -r .id)
	[[ $id =~ ^[0-9]+$ ]] && echo "$id" >"$CUR.new" && mv "$CUR.new" "$CUR"
}
new_incident 0
check "incident open: $(cat "$CUR")" test "$(cat "$CUR")" -ge 1

END=$((SECONDS + SOAK_S))
# The storms, bounded by SOAK_S.
bg cg_run storm nsenter --net="/run/netns/$IRC_NS_P" "$STORM" 127.0.0.1 1500 "$SOAK_S"
bg cg_run storm bash -c 'while ((SECONDS < $0)); do /bin/true; done' "$END"

# loop NAME CMD...: CMD again and again until the end; "ok N" or "fail N: output" per run.
loop() {
	local name=$1 n=0 out rest; shift
	while ((SECONDS < END)); do
		n=$((n + 1))
		if out=$("$@" 2>&1); then echo "ok $n"; continue; fi
		# Closed, exported and pruned between reading $CUR and the command: by design.
		if [[ $out == *"no incident"* ]]; then echo "gone $n"; continue; fi
		# The chain is intact; a quarantine was between its kernel write and its
		# record (the CLI's pending journal): verify says so, by design.  Before
		# its verdict verify may warn that it recorded journaled actions, or
		# that a writer held the store too long to (the journal then stays).
		rest=$out
		while [[ $rest == "ircontain: warning: "*"journal"*$'\n'* ]]; do rest=${rest#*$'\n'}; done
		if [[ $rest == "store ok:"*"UNRECORDED containment"* ]]; then echo "inflight $n"
		else echo "fail $n: ${out//$'\n'/ | }"; fi
	done >"$LOOPS/$name"
}
# A note acknowledged (exit 0) is "SEQ TEXT": it must be in the store unless pruned.
note_loop() {
	local k=$1 n=0 seq
	while ((SECONDS < END)); do
		n=$((n + 1))
		seq=$(irc --json incident note "$(cat "$CUR")" "soak note $k.$n" 2>/dev/null | jq -r .seq) &&
			[[ $seq =~ ^[0-9]+$ ]] && echo "$seq soak note $k.$n"
	done >"$LOOPS/note$k"
}
contain_loop() {
	local k=$1 a=198.51.100.$((10 + $1)) n=0
	while ((SECONDS < END)); do
		n=$((n + 1))
		irc quarantine host "$a" --reason "soak $k.$n" --incident "$(cat "$CUR")" >/dev/null 2>&1 &&
			echo "quarantine soak $k.$n"
		irc release host "$a" --reason "soak $k.$n" --incident "$(cat "$CUR")" >/dev/null 2>&1 &&
			echo "release soak $k.$n"
	done >"$LOOPS/contain$k"
}
# The last incident stays open for the last 10 s at least, so notes and actions
# of an incident the prune must keep are there and their checks have
# something to check: an export can take long on a big store.
rotate() {
	local i=0 old
	while sleep 10 && ((SECONDS + 10 < END)); do
		old=$(cat "$CUR") i=$((i + 1))
		irc export "$old" -o "$IRC_TMP/rot.tar.gz" --force >/dev/null 2>&1
		((SECONDS + 10 < END)) || break
		new_incident "$i"
		irc incident close "$old" --summary "soak rotation" >/dev/null 2>&1
	done
}
# lbg CMD...: one of the 20 loops (waited for at the end, killed at cleanup).
LP=()
lbg() { "$@" & LP+=($!); IRC_PIDS+=($!); }
for k in 1 2 3 4; do lbg loop "show$k" sh -c 'exec "$0" incident show "$(cat "$1")"' "$IRC_BIN" "$CUR"; done
for k in 1 2 3; do lbg loop "export$k" sh -c 'exec "$0" export "$(cat "$1")" -o "$2" --force' \
	"$IRC_BIN" "$CUR" "$IRC_TMP/soak$k.tar.gz"; done
for k in 1 2 3; do lbg loop "verify$k" irc verify; done
for k in 1 2 3 4; do lbg contain_loop "$k"; done
for k in 1 2 3 4 5 6; do lbg note_loop "$k"; done
lbg rotate

# The controller's descriptors and the WAL's size, every 2 s until the end.
deleted=0 walmax=0 walcut=0
while ((SECONDS < END)); do
	wal=$(stat -c %s "$DB-wal" 2>/dev/null || echo 0)
	((wal > walmax)) && walmax=$wal
	((wal < walmax / 2)) && walcut=$((walcut + 1))
	if ls -l "/proc/$DPID/fd" 2>/dev/null | grep -q "$IRCONTAIN_STATE_DIR.*(deleted)"; then
		deleted=$((deleted + 1))
		ls -l "/proc/$DPID/fd" | grep "(deleted)" | sed 's/^/#   /' | head -3
	fi
	sleep 2
done
wait "${LP[@]}"
check "the controller never had its WAL or -shm deleted under it" test "$deleted" -eq 0
# With readers always in it, the WAL only grew (1.1 GB in 10 minutes) until
# the controller trimmed it every IRC_STORE_PRUNE_S.
echo "# WAL: at most $walmax bytes while the controller ran, seen cut to under half $walcut times"
check "the WAL was truncated while readers never stopped ($walcut samples under half its peak)" \
	test "$walcut" -gt 0
check "the WAL stayed bounded (max $((walmax >> 20)) MiB <= 128 MiB)" test "$walmax" -le $((128 << 20))

STATUS=$(irc --json status)
kill -TERM "$DPID"
check "controller: SIGTERM, exit 0" wait "$DPID"

q() { sqlite3 -readonly -cmd ".timeout 5000" "$DB" "$1"; }
check "PRAGMA integrity_check: ok" test "$(q 'PRAGMA integrity_check')" = ok
check "verify at the end: exit 0" irc verify
runs() { cat "$LOOPS"/$1* 2>/dev/null | grep -c "^$2"; }
for c in show export verify; do
	echo "# $c: $(runs "$c" ok) ok, $(runs "$c" fail) failed, $(runs "$c" gone) on an incident pruned meanwhile, $(runs "$c" inflight) intact with a quarantine not yet recorded"
	grep -h "^fail" "$LOOPS"/$c* 2>/dev/null | head -3 | sed 's/^/#   /'
done
check "verify never failed while the controller ran ($(runs verify ok) runs)" \
	test "$(runs verify fail)" -eq 0 -a "$(runs verify ok)" -gt 0
check "incident show never failed ($(runs show ok) runs)" \
	test "$(runs show fail)" -eq 0 -a "$(runs show ok)" -gt 0
check "export never failed ($(runs export ok) runs)" \
	test "$(runs export fail)" -eq 0 -a "$(runs export ok)" -gt 0

# Pruned records are gone by design: every note outside the ranges the last
# prune sealed as pruned (it lists them all) must be there.
q "SELECT json_extract(value, '$.first') || ' ' || json_extract(value, '$.last')
	FROM actions, json_each(actions.body, '$.gaps')
	WHERE seq = (SELECT max(seq) FROM actions WHERE type = 'store.prune')" >"$IRC_TMP/ranges"
cat "$LOOPS"/note* | sort >"$IRC_TMP/acked"
q "SELECT seq || ' ' || json_extract(body, '$.text') FROM actions WHERE type = 'incident.note'" |
	sort >"$IRC_TMP/stored_notes"
NOTES=$(wc -l <"$IRC_TMP/acked")
KEPT=$(awk 'NR == FNR { f[NR] = $1; l[NR] = $2; n = NR; next }
	{ for (i = 1; i <= n; i++) if ($1 >= f[i] && $1 <= l[i]) next; print }' \
	"$IRC_TMP/ranges" "$IRC_TMP/acked" | sort | tee "$IRC_TMP/acked_kept" | wc -l)
MISSING=$(comm -23 "$IRC_TMP/acked_kept" "$IRC_TMP/stored_notes" | wc -l)
echo "# notes: $NOTES acknowledged, $((NOTES - KEPT)) of them pruned ($(wc -l <"$IRC_TMP/ranges") ranges), $MISSING of the rest missing"
check "every acknowledged note outside the pruned ranges is in the store, as written ($KEPT)" \
	test "$MISSING" -eq 0 -a "$KEPT" -gt 0
ACTS=$(cat "$LOOPS"/contain* | sort -u | wc -l)
SACTS=$(q "SELECT type || ' ' || json_extract(body, '$.reason') FROM actions WHERE type IN ('quarantine', 'release')
	AND target LIKE 'host:198.51.100.%' AND json_extract(body, '$.result') = 'ok'" | sort -u |
	comm -12 - <(cat "$LOOPS"/contain* | sort -u) | wc -l)
echo "# containment: $ACTS acknowledged, $SACTS of them still in the store (those of the incidents closed and exported were prunable)"
check "acknowledged quarantines and releases are in the store unless pruned ($SACTS of $ACTS)" \
	test "$ACTS" -gt 0 -a "$SACTS" -gt 0
PRUNED=$(jq -r '.store.last_prune.total // 0' <<<"$STATUS")
echo "# store: $(jq -c '.store | {file_bytes, records, first_seq, last_seq, last_prune}' <<<"$STATUS")"
check "the store was pruned along the way, and status says so ($PRUNED records)" test "$PRUNED" -gt 0
check "status: the store's size, records and oldest record" \
	jq -e '.store.file_bytes > 0 and .store.records > 0 and (.store.oldest | type) == "string"' <<<"$STATUS"
FAILS=$(jq -r '.store_failures' "$RUNJ")
echo "# controller: $(jq -c '{events, stored, store_skipped, store_failures, store_errors, queue_lost, queue_max, pruned, prune_held_by}' "$RUNJ")"
# What bounds the file and what held the prune, for whoever reads a long run.
echo "# files: db $(stat -c %s "$DB") bytes, -wal $(stat -c %s "$DB-wal" 2>/dev/null || echo 0) bytes"
echo "# incidents (id:status:exports), the oldest 20: $(q "SELECT group_concat(x, ' ') FROM (SELECT i.id || ':' || i.status || ':' || (SELECT count(*) FROM actions a WHERE a.incident = i.id AND a.type = 'export') AS x FROM incidents i ORDER BY i.id LIMIT 20)")"
if ((FAILS > 0)); then
	check "the controller's store errors are in status ($FAILS)" \
		sh -c "irc status | grep -q 'STORE ERROR'"
else
	check "the controller met no store error" test "$FAILS" -eq 0
fi
