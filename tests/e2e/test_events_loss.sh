#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# No loss is silent.  With a 64 KiB ring the daemon is stopped (SIGSTOP)
# while 300 processes run, so the ring overflows; after SIGCONT one more
# process runs on every CPU, so each CPU has a record after its losses.
# Then every record the kernel counted as lost is accounted for by the
# daemon's gap markers (event.action events_lost, ircontain.gap.missing),
# by run.json's missing and by `status`; in the file, each CPU's sequence
# numbers from its first to its last record are each either a record or
# inside a gap marker.
#
# A finding is never crowded out by a storm: a read of /etc/shadow
# (sensitive_read) made while the event ring is full is delivered, with
# nothing lost on the findings ring (it has a ring of its own).
. "$(dirname "$0")/lib.sh"
need_tools taskset

EV=$IRC_TMP/events.jsonl
RUNJ=$IRCONTAIN_STATE_DIR/run.json
ev_status() { irc --json status | jq -r ".events.$1"; }

lab_up 1 || { not_ok "lab up"; exit 1; }
check_rc "load --iface iv1 --ring-size 65536" 0 irc load --iface iv1 --ring-size 65536
cat >"$IRC_TMP/policy.yaml" <<EOF
mode: monitor
detectors:
  sensitive_read: {enabled: true, severity: high, action: alert, files: [/etc/shadow]}
EOF
check "policy apply: sensitive_read on /etc/shadow" irc policy apply "$IRC_TMP/policy.yaml"
bg nsenter --net="/run/netns/$IRC_NS_P" "$IRC_BIN" run --events-file "$EV" 2>"$IRC_TMP/daemon.err"
DPID=$!
daemon_ready() { [[ $(jq -r .pid "$RUNJ" 2>/dev/null) == "$DPID" ]]; }
check "run: ready" wait_for 5 daemon_ready
sleep 0.3
L0=$(ev_status lost)
echo "# lost before the burst (the ring was small, the daemon not yet there): $L0"

kill -STOP "$DPID"
stopped() { [[ $(awk '{ print $3 }' "/proc/$1/stat") == T ]]; }
check "daemon stopped (state T)" wait_for 2 stopped "$DPID"
for ((i = 0; i < 300; i++)); do /bin/true; done
L1=$(ev_status lost)
check "the ring overflowed while the daemon was stopped (lost $L0 -> $L1)" gt "$L1" "$L0"
cg_run sr cat /etc/shadow >/dev/null
check "a read of /etc/shadow while the event ring is full: no finding lost" \
	eq "$(ev_status findings_lost)" 0
kill -CONT "$DPID"
sr_finding() {
	grep -F '"sensitive_read_detected"' "$EV" | jq -e --argjson cg "$(stat -c %i "$IRC_CG/sr")" \
		'select(.ircontain.cgroup_id == $cg and .file.path == "/etc/shadow")' >/dev/null
}
check "the finding is delivered" wait_for 5 sr_finding
sleep 0.5
# A later record on every CPU: a loss shows only before a CPU's next record.
PINNED=()
for c in $(cpus_allowed); do
	taskset -c "$c" /bin/true &
	PINNED+=("$c:$!")
	wait $!
done
sleep 0.5
LOST=$(ev_status lost)
stop_t0=$EPOCHREALTIME
kill -TERM "$DPID"
wait "$DPID"
RC=$?
MS=$(((${EPOCHREALTIME/./} - ${stop_t0/./}) / 1000))
check "run: SIGTERM, exit 0 within 1 s ($MS ms)" test "$RC/$((MS < 1000))" = 0/1

for p in "${PINNED[@]}"; do
	check "CPU ${p%%:*}: a record after the burst (pid ${p#*:}: exec of /bin/true and its exit there)" \
		jqx "[.[] | select(.process.pid == ${p#*:} and (.event.action == \"exit\" or .process.executable == \"/bin/true\")) | [.event.action, .ircontain.cpu]] == [[\"exec\", ${p%%:*}], [\"exit\", ${p%%:*}]]" -s "$EV"
done

MARKERS=$(jq -c 'select(.event.action == "events_lost")' "$EV")
NMARK=$(grep -c . <<<"$MARKERS")
SUM=$(jq -s 'map(.ircontain.gap.missing) | add // 0' <<<"$MARKERS")
echo "# kernel lost $LOST; $NMARK gap markers, missing $SUM; run.json $(jq -c '{gaps, missing, late}' "$RUNJ")"
check "kernel lost > 0" gt "$LOST" 0
check "gap markers written" gt "$NMARK" 0
check "kernel lost = sum of ircontain.gap.missing over the markers" eq "$SUM" "$LOST"
check "kernel lost = run.json missing" eq "$(jq .missing "$RUNJ")" "$LOST"
check "run.json gaps = number of markers" eq "$(jq .gaps "$RUNJ")" "$NMARK"
check "run.json: no late record" eq "$(jq .late "$RUNJ")" 0
check "daemon's goodbye: the same totals" \
	grep -q "exiting: [0-9]* events, $NMARK gaps ($SUM records lost)" "$IRC_TMP/daemon.err"
check "markers: ECS fields (outcome failure, message names the count)" \
	jqx 'select(.event.action == "events_lost") | .ircontain.gap as $g
	| .event.outcome == "failure" and $g.cpu == .ircontain.cpu
	  and (.message | startswith("\($g.missing) event record(s) lost on CPU \($g.cpu) after sequence \($g.after_sequence) "))' "$EV"
check "markers: all of the event ring's (ring events)" \
	jqx 'select(.event.action == "events_lost") | .ircontain.gap.ring == "events"' "$EV"
# Each marker sits right before the record that revealed it: that record's
# sequence is after_sequence + missing + 1, on the same CPU, and the
# record before it on that CPU had after_sequence.  Findings are numbered
# on their own (their own ring): the event ring's sequence, without them.
check "markers: each between the records that bound its gap" jqx -s '
	map(select(.ircontain.cpu != null and .ircontain.finding == null)) as $all
	| [ $all | to_entries[] | select(.value.event.action == "events_lost") | .key as $k | .value.ircontain.gap as $g
	    | ([$all[$k + 1:][] | select(.ircontain.cpu == $g.cpu and .event.action != "events_lost")][0].event.sequence == $g.after_sequence + $g.missing + 1)
	      and ([$all[:$k][] | select(.ircontain.cpu == $g.cpu and .event.action != "events_lost")][-1].event.sequence == $g.after_sequence) ]
	| length > 0 and all' "$EV"
# Per CPU, from its first record to its last, every sequence number is a
# record or in a gap: nothing vanished without a marker.
check "file: per CPU, records + missing = last - first + 1" jqx -s '
	map(select(.ircontain.finding == null)) | group_by(.ircontain.cpu)[]
	| [.[] | select(.event.action != "events_lost")] as $r
	| ([.[] | select(.event.action == "events_lost") | .ircontain.gap.missing] | add // 0) as $m
	| ($r | length) + $m == ($r | map(.event.sequence) | max - min + 1)' "$EV"
check "file: events read = run.json events" \
	eq "$(jq -c 'select(.event.action != "events_lost")' "$EV" | wc -l)" "$(jq .events "$RUNJ")"
irc --json events --type events_lost --file "$EV" >"$IRC_TMP/lost.sel"
check "events --type events_lost: the $NMARK markers" eq "$(wc -l <"$IRC_TMP/lost.sel")" "$NMARK"
