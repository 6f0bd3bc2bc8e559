#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Sharing detections across the fleet (opt-in: `fleet: share_findings` in
# the policy), end to end with a real etcd and two agents.  Host 1
# completes a TCP handshake with agent 1 (a verified source), then scans
# it: agent 1's kernel quarantines it, and agent 1 publishes a signed
# fleet quarantine of that address for the policy's TTL, by
# portscan@a1.  Agent 2, which trusts agent 1's key, drops the same
# address (its own host 2: every agent's host is 10.78.0.2 here) though
# it never saw a scan.
. "$(dirname "$0")/fleet_lib.sh"
. "$(dirname "$0")/detect_lib.sh"
need_tools jq socat sqlite3

fleet_up 2 || { not_ok "fleet lab up"; exit 1; }
ok "etcd and 2 agent namespaces up"

{
	echo "mode: enforce"
	echo "detectors:"
	echo "  portscan: {enabled: true, ports: 10, window: 10s, severity: high, action: quarantine-host, ttl: 10m}"
	detectors_off_but portscan
	echo "fleet:"
	echo "  share_findings: 5m"
} >"$IRC_TMP/share.yaml"
printf 'mode: enforce\nfleet:\n  share_findings: 0\n' >"$IRC_TMP/bad.yaml"
check_rc "policy check: the share policy is valid" 0 ag 1 policy check "$IRC_TMP/share.yaml"
check_fail "policy check: share_findings 0 is refused" ag 1 policy check "$IRC_TMP/bad.yaml"
ag 1 policy check "$IRC_TMP/bad.yaml" >"$IRC_TMP/bad.out" 2>&1
check "... naming its line and the key" grep -q ":3:.*share_findings" "$IRC_TMP/bad.out"

key1=$(ag 1 fleet key)
check "agent 1 has a signing key" grep -qxE '[0-9a-f]{64}' <<<"$key1"
check_rc "agent 2 trusts agent 1's key" 0 ag 2 fleet trust add "$key1"
agent_run 1 -- --policy "$IRC_TMP/share.yaml"
agent_run 2
check "2 agents heartbeat and are synced" wait_for 15 agents_synced 2
for n in 1 2; do check "before: host $n reaches agent $n" reach "$n"; done

# A handshake with agent 1 proves host 1 receives its packets.
bg ip netns exec "${IRC_NS_PFX}a1" socat TCP4-LISTEN:8000,fork,reuseaddr EXEC:cat
wait_for 5 ip netns exec "${IRC_NS_PFX}a1" sh -c "ss -Htln sport = :8000 | grep -q ."
handshake() {
	[[ $(echo hi | timeout 3 ip netns exec "${IRC_NS_PFX}h1" \
		socat -T2 - "TCP4:10.78.0.1:8000,connect-timeout=2" 2>/dev/null) == hi ]]
}
check "host 1 completes a handshake with agent 1 (verified source)" wait_for 5 handshake
# The scan: one connect per port, 0.2 s each at most.
in_h 1 bash -c 'for ((p = 1000; p < 1030; p++)); do timeout 0.2 bash -c ": >/dev/tcp/10.78.0.1/$p" 2>/dev/null; done'
detected() {
	ag 1 --json list | jq -e '.entries[] | select(.target == "10.78.0.2" and .origin == "detector")'
}
check "agent 1's kernel quarantined host 1 (detector)" wait_for 5 detected
check "agent 2 applies the shared quarantine (origin fleet)" wait_for 15 has_entry 2 10.78.0.2
check "agent 2 drops host 2, which never scanned it" blocked 2
check "agent 2: the other address still passes" reach 2 3
fl --json fleet list >"$IRC_TMP/list"
check "fleet list: the entry by portscan@a1, signed by agent 1" jqx --arg k "$key1" \
	'.entries[] | select(.target == "10.78.0.2") | .state == "quarantined" and .by == "portscan@a1" and .signer == $k' "$IRC_TMP/list"
check "fleet list: the shared entry expires in about 5 minutes" jqx --argjson now "$(date +%s)" \
	'.entries[] | select(.target == "10.78.0.2") | .expires - $now > 240 and .expires - $now <= 300' "$IRC_TMP/list"
# The count rides on agent 1's next heartbeat (every 2 s).
shared_one() { fl_status | jq -e '.agents[] | select(.name == "a1") | .shared == 1'; }
check "fleet status: agent 1 shared 1 finding" wait_for 10 shared_one
check "agent 2's record: a quarantine by fleet:portscan@a1" wait_for 5 sh -c \
	"sqlite3 '$IRC_TMP/a2/ircontain.db' \"select actor from actions where type = 'quarantine' and target = 'host:10.78.0.2'\" | grep -qx 'fleet:portscan@a1'"

for n in 1 2; do agent_stop "$n"; done
check "no agent logged a sanitizer or fatal error" sh -c "! grep -l 'AddressSanitizer\|runtime error' $IRC_TMP/a*/run.log"
