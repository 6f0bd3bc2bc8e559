#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# The fleet at scale: not a test, it prints a table.
#
# A 3-member etcd cluster on the lab's loopback and bridge, and AGENTS
# agents (`ircontain run --fleet` with the three endpoints), each in its
# own namespace with its own pin dir, state dir and cgroup root
# (tests/e2e/fleet_lib.sh).  ROUNDS fleet quarantines one after the other;
# each agent records when the entry reached its kernel (applied_ns) and the
# entry says when it was signed (created_ms): the difference is the
# propagation, over every agent and round.  Then a fleet quarantine of the
# agents' test hosts is checked with real traffic at every agent; one etcd
# member that does not lead is killed and a quarantine still reaches every
# agent; the leader is killed (no quorum left) and every agent still
# enforces.  Everything is removed at exit.
#
#   sudo scripts/bench/bench_fleet.sh [AGENTS [ROUNDS]]
#
# FL_AGENT_ARGS: more `run` options for every agent (bench_fleet100.sh's
# agents keep only the events related to a containment in their stores).
set -uo pipefail

AGENTS=${1:-20}
ROUNDS=${2:-20}
read -ra agent_args <<<"${FL_AGENT_ARGS:-}"
FL_MEMBERS=3

. "$(dirname "$0")/../../tests/e2e/fleet_lib.sh"
# The lab's cleanup, without the test summary line.
trap 'rc=$?; lab_cleanup; exit $rc' EXIT

die() { echo "bench_fleet: $*" >&2; exit 1; }
[[ -x $IRC_BIN ]] || die "no $IRC_BIN (make first)"
now_ms() { echo $((${EPOCHREALTIME/./} / 1000)); }

t0=$(now_ms)
fleet_up "$AGENTS" >/dev/null 2>&1 || die "fleet lab up failed"
key=$(fl fleet key) || die "fleet key failed"
for ((n = 1; n <= AGENTS; n++)); do
	ag "$n" fleet trust add "$key" >/dev/null || die "trust at agent $n failed"
	agent_run "$n" -- "${agent_args[@]}"
done
wait_for $((30 + 3 * AGENTS)) agents_synced "$AGENTS" || die "not all $AGENTS agents synced"
t_up=$(($(now_ms) - t0))

# applied at agent N for TARGET, in ns since the epoch, minus its signing time.
delays() {
	local n
	for ((n = 1; n <= AGENTS; n++)); do
		grep -hF '"origin":"fleet"' "$IRC_TMP/a$n/events.jsonl" 2>/dev/null |
			jq -r 'select(.event.action == "quarantine") | (.applied_ns - .created_ms * 1000000) / 1000000'
	done
}
# All AGENTS agents hold TARGET.
all_have() {
	local n
	for ((n = 1; n <= AGENTS; n++)); do
		grep -qF "\"key\":\"/ircontain/q/_all/$1\"" "$IRC_TMP/a$n/events.jsonl" || return 1
	done
}
pct() { sort -n | awk -v p="$1" '{ v[NR] = $1 } END { i = int(NR * p / 100 + 0.999); if (i < 1) i = 1; printf "%.0f", v[i] }'; }

# A put that timed out (the CLI gives etcd 3 s) is tried once more, and counted.
missed=0 retried=0
for ((r = 1; r <= ROUNDS; r++)); do
	if ! fl fleet quarantine host "10.78.1.$r" --ttl 10m --reason "bench round $r" >/dev/null; then
		retried=$((retried + 1))
		sleep 1
		fl fleet quarantine host "10.78.1.$r" --ttl 10m --reason "bench round $r" >/dev/null ||
			die "round $r: quarantine failed twice"
	fi
	wait_for 10 all_have "10.78.1.$r" || missed=$((missed + 1))
done
delays >"$IRC_TMP/delays"
samples=$(wc -l <"$IRC_TMP/delays")

# Real traffic: every test host is dropped by its agent.
fl fleet quarantine host 10.78.0.2 --reason "bench traffic" >/dev/null || die "traffic quarantine failed"
wait_for 10 all_have 10.78.0.2
blocked=0
for ((n = 1; n <= AGENTS; n++)); do blocked=$((blocked + $(blocked "$n" && echo 1 || echo 0))); done

# One member that does not lead, then the leader.
leader=$(etcd_leader)
other=$((leader % 3 + 1))
etcd_kill "$other"
fl fleet quarantine host 10.78.2.1 --reason "one member down" >/dev/null &&
	wait_for 15 all_have 10.78.2.1 && one_down=yes || one_down=no
leader=$(etcd_leader)
etcd_kill "$leader"
sleep 3
still=0 alive=0
for ((n = 1; n <= AGENTS; n++)); do
	still=$((still + $(blocked "$n" && echo 1 || echo 0)))
	alive=$((alive + $(kill -0 "${FL_PID[n]}" 2>/dev/null && echo 1 || echo 0)))
done

printf '%-52s %s\n' "etcd members / agents (namespaces)" "3 / $AGENTS"
printf '%-52s %s\n' "fleet up (cluster, agents loaded, all synced)" "$t_up ms"
printf '%-52s %s\n' "propagation samples (agents x rounds)" "$samples (of $((AGENTS * ROUNDS)); rounds not complete in 10 s: $missed)"
printf '%-52s %s\n' "operator's puts retried (etcd slower than 3 s)" "$retried of $ROUNDS"
printf '%-52s %s\n' "propagation p50 (signed -> in the agent's kernel)" "$(pct 50 <"$IRC_TMP/delays") ms"
printf '%-52s %s\n' "propagation p99" "$(pct 99 <"$IRC_TMP/delays") ms"
printf '%-52s %s\n' "propagation max" "$(pct 100 <"$IRC_TMP/delays") ms"
printf '%-52s %s\n' "agents dropping their test host's traffic" "$blocked of $AGENTS"
printf '%-52s %s\n' "one member killed: a new entry reached every agent" "$one_down"
printf '%-52s %s\n' "leader killed too (no quorum): agents still dropping" "$still of $AGENTS (running: $alive)"
