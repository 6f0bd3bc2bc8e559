#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# The fleet end to end: a real etcd and three agents (`ircontain run
# --fleet`), each in its own namespace with its own pin dir, state dir and
# cgroup root.  A signed fleet quarantine drops real traffic at every
# agent that trusts the key, and is on record there with the fleet actor
# and the etcd revision; an agent that trusts no key applies nothing and
# says so; forged, untrusted, moved and unsigned changes (a deleted key)
# are refused and reported; the agents' own addresses are never
# quarantined; etcd down changes nothing in the kernel; an agent cut off
# from etcd (and one stopped) catches up with a release made while it was
# away, across a compaction.
. "$(dirname "$0")/fleet_lib.sh"
need_tools jq sqlite3 curl

fleet_up 3 || { not_ok "fleet lab up"; exit 1; }
ok "etcd and 3 agent namespaces up"

# ---- keys and trust ---------------------------------------------------------

key=$(fl fleet key)
check "fleet key prints a 64-hex public key" grep -qxE '[0-9a-f]{64}' <<<"$key"
check "fleet key is stable" eq "$(fl --json fleet key | jq -r .public_key)" "$key"
check_rc "fleet trust add: bad key is exit 2" 2 ag 1 fleet trust add 1234
check_rc "agent 1 trusts the operator" 0 ag 1 fleet trust add "$key"
check_rc "agent 2 trusts the operator" 0 ag 2 fleet trust add "$key"
check "trust list shows it" eq "$(ag 1 --json fleet trust list | jq -r '.keys[0]')" "$key"
check_rc "fleet quarantine: bad address is exit 2" 2 fl fleet quarantine host 10.78.0.300
check_rc "fleet quarantine: bad --group is exit 2" 2 fl fleet quarantine host 10.78.0.2 --group 'a b'
check_rc "bad --fleet URL is exit 2" 2 "$IRC_BIN" --fleet ftp://x fleet list
check_rc "fleet list without --fleet is exit 2" 2 env -u IRCONTAIN_FLEET "$IRC_BIN" fleet list

agent_run 1 -- --metrics 127.0.0.1:9464
for n in 2 3; do agent_run "$n"; done
check "3 agents heartbeat and are synced (fleet status)" wait_for 15 agents_synced 3
fl_status >"$IRC_TMP/st"
check "fleet status: agent a3 trusts no key" jqx '.agents[] | select(.name == "a3") | .trusted_keys == 0' "$IRC_TMP/st"
check "fleet status: a1 trusts 1 key, names its version" jqx '.agents[] | select(.name == "a1") | .trusted_keys == 1 and (.version | length > 0)' "$IRC_TMP/st"
fl fleet status >"$IRC_TMP/st.txt"
check "fleet status (text) says a3 applies nothing" grep -q "trusts no key" "$IRC_TMP/st.txt"
for n in 1 2 3; do check "before: host $n reaches agent $n" reach "$n"; done

# ---- a fleet quarantine drops traffic at each trusting agent -----------------

t0=$(date +%s%N)
check_rc "fleet quarantine host 10.78.0.2 --ttl 1h" 0 fl fleet quarantine host 10.78.0.2 --ttl 1h --reason "C2 beacon"
wait_for 5 sh -c "$(ag_env 1) --json list | grep -q 10.78.0.2 && $(ag_env 2) --json list | grep -q 10.78.0.2"
echo "# propagation to 2 agents: $((($(date +%s%N) - t0) / 1000000)) ms"
for n in 1 2; do
	check "agent $n holds the entry (origin fleet)" wait_for 5 has_entry "$n" 10.78.0.2
	check "agent $n drops host $n's traffic" blocked "$n"
	check "agent $n: the other address still passes" reach "$n" 3
done
check "agent 3 (trusts no key) applied nothing" sh -c "! $(ag_env 3) --json list | grep -q 10.78.0.2"
check "agent 3: host 3 still reaches it" reach 3
rev=$(fl --json fleet list | jq '.entries[] | select(.target == "10.78.0.2") | .revision')
check "fleet list: the entry, quarantined, signed by the operator" jqx --arg k "$key" \
	'.entries[] | select(.target == "10.78.0.2") | .state == "quarantined" and .signer == $k and .group == "all" and .reason == "C2 beacon"' \
	<(fl --json fleet list)
check "agent 1's record: a quarantine by fleet:USER@HOST at revision $rev" wait_for 5 sh -c \
	"sqlite3 '$IRC_TMP/a1/ircontain.db' \"select actor, json_extract(body, '\$.revision') from actions where type = 'quarantine' and target = 'host:10.78.0.2'\" | grep -qE '^fleet:[^@]+@[^|]+\|$rev\$'"
ip netns exec "${IRC_NS_PFX}a1" curl -sf --max-time 2 http://127.0.0.1:9464/metrics >"$IRC_TMP/m" 2>&1
check "agent 1's metrics: synced, 1 fleet entry, the revision" sh -c \
	"grep -qx 'ircontain_fleet_sync{state=\"synced\"} 1' '$IRC_TMP/m' && grep -qx 'ircontain_fleet_entries 1' '$IRC_TMP/m' && grep -qx 'ircontain_fleet_revision $rev' '$IRC_TMP/m'"
check "agent 1's list: ttl about 1h (wall clock)" jqx \
	'.entries[] | select(.target == "10.78.0.2") | .ttl_remaining > 3500 and .ttl_remaining <= 3600 and .actor == "fleet"' \
	<(ag 1 --json list)

# Trusting the key later: agent 3 reads everything again and applies it.
check_rc "agent 3 trusts the operator" 0 ag 3 fleet trust add "$key"
check "agent 3 applies the entry once it trusts the key" wait_for 5 has_entry 3 10.78.0.2
check "agent 3 drops host 3's traffic" blocked 3

# ---- refused: forged, altered, untrusted, moved, unsigned, lockout -----------

val=$(ectl get --print-value-only /ircontain/q/_all/10.78.0.2)
# The same signature over another target: forged.
forged=$(jq -c '.payload |= sub("10.78.0.2"; "10.78.0.3")' <<<"$val")
ectl put /ircontain/q/_all/10.78.0.3 "$forged" >/dev/null
# A signed entry copied to another key.
ectl put /ircontain/q/_all/10.78.0.9 "$val" >/dev/null
# A release nobody signed.
rel=$(jq -c '.payload |= sub("quarantine"; "release")' <<<"$val")
ectl put /ircontain/q/_all/10.78.0.2 "$rel" >/dev/null
# Signed by a key nobody trusts.
nsenter --net="/run/netns/$IRC_NS_P" env IRCONTAIN_STATE_DIR="$IRC_TMP/op2" \
	"$IRC_BIN" --fleet http://127.0.0.1:2379 fleet quarantine host 10.78.0.3 --group other >/dev/null 2>&1
ectl put /ircontain/q/_all/10.78.0.3x 'not json' >/dev/null
for n in 1 2 3; do
	check "agent $n reports the forged entry" wait_for 5 refused "$n" '10.78.0.3$' 'does not match'
	check "agent $n reports the moved entry" wait_for 5 refused "$n" '10.78.0.9$' 'signed for another key'
	check "agent $n reports the entry by an untrusted key" wait_for 5 refused "$n" 'other/10.78.0.3$' 'does not trust'
	check "agent $n reports the entry that is not JSON" wait_for 5 refused "$n" '10.78.0.3x$' 'not a signed'
	check "agent $n reports the unsigned release and keeps enforcing" blocked "$n"
	check "agent $n: 10.78.0.3 still passes (nothing forged applied)" reach "$n" 3
done
check "agent 1 stored the refusal as an event" sh -c \
	"[ \$(sqlite3 '$IRC_TMP/a1/ircontain.db' \"select count(*) from events where type = 'fleet.refused'\") -ge 3 ]"
check "fleet list shows the forged entry as invalid" jqx \
	'[.entries[] | select(.state == "invalid")] | length >= 2' <(fl --json fleet list)
check "fleet status counts refusals" jqx '.agents[] | select(.name == "a1") | .refused >= 3' <(fl_status)
# The operator's real entry back, then the key deleted: nothing is released.
check_rc "fleet quarantine host 10.78.0.2 again" 0 fl fleet quarantine host 10.78.0.2 --ttl 1h --reason "C2 beacon"
ectl del /ircontain/q/_all/10.78.0.2 >/dev/null
check "agent 1 reports the unsigned delete" wait_for 5 refused 1 '10.78.0.2$' 'deleted from etcd without a signed release'
for n in 1 2 3; do check "after the delete: agent $n still drops" blocked "$n"; done
# The agents' own address: refused by the anti-lockout rules at each agent.
check_rc "fleet quarantine host 10.78.0.1 (the agents' own address)" 0 fl fleet quarantine host 10.78.0.1
for n in 1 2 3; do
	check "agent $n refuses to quarantine its own address" wait_for 5 refused "$n" '10.78.0.1$' 'own address'
done
check "agent 1's maps have no entry for its own address" jqx '[.entries[] | select(.target == "10.78.0.1")] | length == 0' <(ag 1 --json list)

# ---- etcd down: nothing changes in the kernel --------------------------------

# The real entry back (the delete above released nothing; the agents update it).
check_rc "fleet quarantine host 10.78.0.2 once more" 0 fl fleet quarantine host 10.78.0.2 --ttl 1h --reason "C2 beacon"
etcd_kill
sleep 3
for n in 1 2 3; do
	check "etcd down: agent $n still drops" blocked "$n"
	check "etcd down: agent $n still runs" kill -0 "${FL_PID[$n]}"
done
etcd_start
check "etcd back: the agents resynchronise" wait_for 20 agents_synced 3

# ---- release while away: a stopped agent, a cut-off agent, a compaction -------

check_fail "agent 3 is in fleet status while it runs" agent_gone a3
agent_stop 3
check "stopped agent 3 leaves fleet status within its lease (10 s)" wait_for 15 agent_gone a3
ip netns exec "${IRC_NS_PFX}a1" ip link set ev down
check_rc "fleet release host 10.78.0.2" 0 fl fleet release host 10.78.0.2 --reason "cleaned"
check "agent 2 lets host 2 through again" wait_for 5 reach 2
check "agent 2's record: a release by the fleet" wait_for 5 sh -c \
	"sqlite3 '$IRC_TMP/a2/ircontain.db' \"select actor from actions where type = 'release' and target = 'host:10.78.0.2'\" | grep -q '^fleet:'"
check "cut-off agent 1 still drops" blocked 1
check "stopped agent 3 still drops (pinned)" blocked 3
# A compaction while agent 1 is away: it must read everything again.
crev=$(ectl endpoint status -w json | jq '.[0].Status.header.revision')
check_rc "etcd compacted to revision $crev" 0 ectl compact "$crev"
ip netns exec "${IRC_NS_PFX}a1" ip link set ev up
check "agent 1, back on the network, applies the release" wait_for 20 reach 1
agent_run 3
check "agent 3, restarted, applies the release made while it was stopped" wait_for 15 reach 3
check "agent 3's record of the release names the fleet actor" wait_for 5 sh -c \
	"sqlite3 '$IRC_TMP/a3/ircontain.db' \"select actor from actions where type = 'release' and target = 'host:10.78.0.2'\" | grep -q '^fleet:'"
check_rc "fleet release of nothing is exit 1" 1 fl fleet release host 10.78.0.2

# ---- a replayed release lifts nothing, not even after a restart -------------

old_release=$(ectl get --print-value-only /ircontain/q/_all/10.78.0.2)
check_rc "fleet quarantine host 10.78.0.2 (after its release)" 0 fl fleet quarantine host 10.78.0.2 --reason "back"
for n in 1 2 3; do check "agent $n drops host $n again" wait_for 5 blocked "$n"; done
agent_stop 1
ectl put /ircontain/q/_all/10.78.0.2 "$old_release" >/dev/null
agent_run 1
check "restarted agent 1 refuses the replayed release" wait_for 15 refused 1 '10.78.0.2$' 'a replay'
check "agent 2 refuses the replayed release" wait_for 5 refused 2 '10.78.0.2$' 'a replay'
for n in 1 2 3; do check "after the replay: agent $n still drops" blocked "$n"; done
# etcd shows the replayed release: the operator signs a quarantine and a release anew.
check_rc "fleet quarantine host 10.78.0.2 (signed, newer)" 0 fl fleet quarantine host 10.78.0.2
check_rc "fleet release host 10.78.0.2 (signed, newer)" 0 fl fleet release host 10.78.0.2
for n in 1 2 3; do check "agent $n lets host $n through" wait_for 10 reach "$n"; done

# ---- groups ----------------------------------------------------------------

agent_stop 2
agent_run 2 --fleet-group web
check "agent 2 back, in group web" wait_for 15 agents_synced 3
check_rc "fleet quarantine host 10.78.0.2 --group web" 0 fl fleet quarantine host 10.78.0.2 --group web
check "group web: agent 2 drops" wait_for 5 has_entry 2 10.78.0.2
sleep 1
check "group web: agent 1 (no group) does not" jqx '[.entries[] | select(.target == "10.78.0.2")] | length == 0' <(ag 1 --json list)
check "group web: host 1 reaches agent 1" reach 1

# ---- degraded: what does not enforce is in fleet status ----------------------

# missing NAME CAP: agent NAME's heartbeat says degraded, CAP missing; not_missing: CAP is not.
missing() {
	fl_status | jq -e --arg a "$1" --arg c "$2" \
		'.agents[] | select(.name == $a) | .state == "degraded" and ([.missing[].capability] | index($c) != null)'
}
not_missing() {
	fl_status | jq -e --arg a "$1" --arg c "$2" \
		'.agents[] | select(.name == $a) | [.missing[].capability] | index($c) == null'
}
check "agent 1 enforces on an interface (fleet status)" wait_for 10 not_missing a1 interfaces
check "every agent is loaded exactly when nothing is missing" jqx \
	'all(.agents[]; (.state == "loaded") == (.missing | length == 0))' <(fl_status)
ip netns exec "${IRC_NS_PFX}a1" ip link del fv
check "agent 1 with no interface left: degraded in fleet status" wait_for 15 missing a1 interfaces
check_rc "fleet status exits 3 when an agent is degraded" 3 fl fleet status
fl fleet status >"$IRC_TMP/st.txt"
check "fleet status (text) names what agent 1 misses" grep -q 'degraded: interfaces: no interface attached' "$IRC_TMP/st.txt"
ip link add fv netns "${IRC_NS_PFX}a1" type veth peer name hv netns "${IRC_NS_PFX}h1"
ip netns exec "${IRC_NS_PFX}a1" ip addr add 10.78.0.1/24 dev fv
ip netns exec "${IRC_NS_PFX}a1" ip link set fv up
in_h 1 ip addr add 10.78.0.2/24 dev hv
in_h 1 ip link set hv up
check "agent 1 attaches to the new fv: no longer missing an interface" wait_for 15 not_missing a1 interfaces

for n in 1 2 3; do agent_stop "$n"; done
check "no agent logged a sanitizer or fatal error" sh -c "! grep -l 'AddressSanitizer\|runtime error' $IRC_TMP/a*/run.log"
