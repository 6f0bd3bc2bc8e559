#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# fleet isolate on|off --group G and fleet allow add|del end to end: a real etcd and two agents,
# a1 in group web and a2 in group db, each enforcing on its test host's
# link and on its link to etcd.  A signed isolation of web cuts a1's
# test host (but for the --allow exemption) and not a2's; a1 keeps
# hearing etcd through its own isolation (heartbeat, a new quarantine,
# the order that ends it); the isolation is on record with the fleet
# actor and survives a reload (restored from the store, still the
# fleet's); an isolation copied to another group's key, a replayed old
# order and a fleet order against an operator's own isolation change
# nothing.  A fleet allowlist entry lets a host through the isolation,
# and is refused where it would lift a quarantine made locally.  A fleet
# policy is checked before it reaches etcd and is put in force by the
# group's agents only.
. "$(dirname "$0")/fleet_lib.sh"
need_tools jq sqlite3

fleet_up 2 || { not_ok "fleet lab up"; exit 1; }
ok "etcd and 2 agent namespaces up"

key=$(fl fleet key)
for n in 1 2; do check_rc "agent $n trusts the operator" 0 ag "$n" fleet trust add "$key"; done
check_rc "fleet isolate on without --group is exit 2" 2 fl fleet isolate on
fl fleet isolate on 2>"$IRC_TMP/err"
check "... and says --group is missing" grep -q -- 'missing --group' "$IRC_TMP/err"
check_rc "fleet isolate on --group 'a b' is exit 2" 2 fl fleet isolate on --group 'a b'
check_rc "fleet isolate on --allow 10.78.0.300 is exit 2" 2 fl fleet isolate on --group web --allow 10.78.0.300
check_rc "fleet isolate off --allow is exit 2 (off takes no exemption)" 2 fl fleet isolate off --group web --allow 10.78.0.3
check_rc "fleet isolate sideways is exit 2" 2 fl fleet isolate sideways --group web

# Each agent enforces on its link to etcd (ev) too: its isolation would cut etcd but for the exemption.
agent_run 1 --fleet-group web -- --iface ev
agent_run 2 --fleet-group db -- --iface ev
check "2 agents heartbeat and are synced" wait_for 15 agents_synced 2
for n in 1 2; do check "before: host $n reaches agent $n" reach "$n"; done
check "fleet status: neither is isolated" jqx '[.agents[] | select(.isolation == "off")] | length == 2' <(fl_status)

# ---- on: group web only, with an exemption ------------------------------------

check_rc "fleet isolate on --group web --allow 10.78.0.3" 0 fl fleet isolate on --group web --allow 10.78.0.3 --reason "ransomware on web"
check "agent 1 (web) cuts host 1" wait_for 10 blocked 1
check "agent 1: the exempted address still passes" reach 1 3
check "agent 1: isolate status says on" jqx '.enabled == true' <(ag 1 --json isolate status)
check "agent 2 (db) is not isolated" reach 2
check "agent 2: isolate status says off" jqx '.enabled == false' <(ag 2 --json isolate status)
a1_isolated_synced() {
	fl_status | jq -e '.agents[] | select(.name == "a1") | .isolation == "fleet" and .sync == "synced"'
}
check "fleet status: a1 isolated by the fleet, still synced (etcd exempted)" wait_for 10 a1_isolated_synced
fl fleet status >"$IRC_TMP/st.txt"
check "fleet status (text) shows a1 isolated by fleet" grep -qE '^a1 .* by fleet ' "$IRC_TMP/st.txt"
check "fleet list: the web isolation, signed by the operator" jqx --arg k "$key" \
	'.entries[] | select(.key == "/ircontain/q/web/isolation") | .kind == "isolate" and .state == "isolated" and .signer == $k' \
	<(fl --json fleet list)
rev=$(fl --json fleet list | jq '.entries[] | select(.key == "/ircontain/q/web/isolation") | .revision')
check "agent 1's record: isolate by fleet:USER@HOST at revision $rev, origin fleet" wait_for 5 sh -c \
	"sqlite3 '$IRC_TMP/a1/ircontain.db' \"select actor, json_extract(body, '\$.revision'), json_extract(body, '\$.origin') from actions where type = 'isolate'\" | grep -qE '^fleet:[^@]+@[^|]+\|$rev\|fleet\$'"
check "agent 1's record exempts etcd's address and the --allow" wait_for 5 sh -c \
	"sqlite3 '$IRC_TMP/a1/ircontain.db' \"select json_extract(body, '\$.allow') from actions where type = 'isolate'\" | jq -e 'index(\"10.79.0.1\") != null and index(\"10.78.0.3\") != null'"
# Through its isolation, agent 1 still hears new orders.
check_rc "fleet quarantine host 10.78.0.3 --group web" 0 fl fleet quarantine host 10.78.0.3 --group web
check "isolated agent 1 applies a new fleet quarantine" wait_for 10 has_entry 1 10.78.0.3
check_rc "fleet release host 10.78.0.3 --group web" 0 fl fleet release host 10.78.0.3 --group web

# ---- refused: moved to another group, against a local isolation ---------------

on_val=$(ectl get --print-value-only /ircontain/q/web/isolation)
ectl put /ircontain/q/db/isolation "$on_val" >/dev/null
check "agent 2 refuses web's isolation copied to db's key" wait_for 10 refused 2 'db/isolation$' 'signed for another key'
check "agent 2 still not isolated" reach 2
ectl del /ircontain/q/db/isolation >/dev/null
check_rc "agent 2: an operator isolates it locally (etcd exempted)" 0 env -u SSH_CONNECTION $(ag_env 2) isolate on --allow 10.79.0.1 --reason "local call"
check "agent 2: locally isolated, host 2 cut" wait_for 5 blocked 2
check_rc "fleet isolate off --group db" 0 fl fleet isolate off --group db
check "agent 2 refuses to end a local isolation" wait_for 10 refused 2 'db/isolation$' 'local operator'
check "agent 2 still isolated" blocked 2
check_rc "agent 2: the operator ends it locally" 0 $(ag_env 2) isolate off
check "agent 2: host 2 reaches it again" wait_for 5 reach 2

# ---- a reload (as after a reboot) keeps the fleet's isolation and its mark -------

agent_stop 1
check_rc "agent 1 stopped and unloaded (every pin gone, as after a reboot)" 0 ag 1 unload
check "agent 1 unloaded: host 1 reaches it" wait_for 5 reach 1
agent_run 1 --fleet-group web -- --iface ev
check "agent 1 reloaded: isolated again, by the fleet (restored from its store)" wait_for 20 a1_isolated_synced
check "agent 1 reloaded: host 1 cut again" wait_for 5 blocked 1
check "agent 1 reloaded: the exempted address still passes" reach 1 3

# ---- fleet allow: through the isolation, never over a local quarantine ---------

check_rc "fleet allow add: bad address is exit 2" 2 fl fleet allow add 10.78.0.300 --group web
check_rc "fleet allow add: --ttl is exit 2 (an allowlist entry has none)" 2 fl fleet allow add 10.78.0.2 --ttl 1h
check_rc "fleet allow add 10.78.0.2 --group web" 0 fl fleet allow add 10.78.0.2 --group web --reason "forensics box"
check "isolated agent 1 lets the allowed host 1 through" wait_for 10 reach 1
check "agent 1's allowlist: 10.78.0.2, always, the fleet's" jqx \
	'.entries[] | select(.target == "10.78.0.2") | .always and .fleet' <(ag 1 --json allow list)
check "agent 1's record: allow.add by the fleet" wait_for 5 sh -c \
	"sqlite3 '$IRC_TMP/a1/ircontain.db' \"select actor from actions where type = 'allow.add' and target = 'host:10.78.0.2'\" | grep -q '^fleet:'"
check_rc "agent 2: an operator quarantines 10.78.0.2 locally" 0 env -u SSH_CONNECTION $(ag_env 2) quarantine host 10.78.0.2 --reason "local call"
check_rc "fleet allow add 10.78.0.2 --group db" 0 fl fleet allow add 10.78.0.2 --group db
check "agent 2 refuses an allow that would lift its local quarantine" wait_for 10 refused 2 'db/allow-10.78.0.2$' 'quarantine of 10.78.0.2 made here'
check "agent 2 still drops host 2" blocked 2
check_rc "agent 2: the operator releases it" 0 $(ag_env 2) release host 10.78.0.2
check_rc "fleet allow del 10.78.0.2 --group web" 0 fl fleet allow del 10.78.0.2 --group web
check "agent 1 (still isolated) cuts host 1 again" wait_for 10 blocked 1
check "agent 1's allowlist no longer holds 10.78.0.2" jqx \
	'[.entries[] | select(.target == "10.78.0.2")] | length == 0' <(ag 1 --json allow list)
check_rc "fleet allow del again is exit 1 (already removed)" 1 fl fleet allow del 10.78.0.2 --group web

# ---- off, then a replayed on ----------------------------------------------------

check_rc "fleet isolate off --group web" 0 fl fleet isolate off --group web --reason "rebuilt"
check "agent 1 lets host 1 through again" wait_for 10 reach 1
check "agent 1: the isolation's exemptions are gone" jqx '[.entries[] | select(.isolate_only)] | length == 0' <(ag 1 --json allow list)
check "agent 1's record: isolate.off by the fleet" wait_for 5 sh -c \
	"sqlite3 '$IRC_TMP/a1/ircontain.db' \"select actor from actions where type = 'isolate.off'\" | grep -q '^fleet:'"
check_rc "fleet isolate off again is exit 1 (already off)" 1 fl fleet isolate off --group web
ectl put /ircontain/q/web/isolation "$on_val" >/dev/null
check "agent 1 refuses the replayed isolation" wait_for 10 refused 1 'web/isolation$' 'a replay'
check "after the replay: host 1 still reaches agent 1" reach 1

# ---- fleet policy apply: checked before etcd, in force at the group's agents ----

printf 'mode: monitor\nallowlist:\n  - 10.78.0.3\n' >"$IRC_TMP/web.yaml"
printf 'mode: enforce\ndetectors:\n  portscan: {ports: 1}\n' >"$IRC_TMP/badpol.yaml"
check_rc "fleet policy apply: an invalid policy is exit 2, nothing put" 2 fl fleet policy apply "$IRC_TMP/badpol.yaml" --group web
check "... nothing is at the group's policy key" jqx \
	'[.entries[] | select(.key == "/ircontain/q/web/policy")] | length == 0' <(fl --json fleet list)
check_rc "fleet policy apply: a missing file is exit 2" 2 fl fleet policy apply "$IRC_TMP/none.yaml" --group web
check_rc "fleet policy apply web.yaml --group web" 0 fl fleet policy apply "$IRC_TMP/web.yaml" --group web --reason "web baseline"
policy_allows() {
	ag "$1" --json allow list | jq -e '.entries[] | select(.target == "10.78.0.3") | .always'
}
check "agent 1 (web) puts the fleet's policy in force (its allowlist entry)" wait_for 10 policy_allows 1
check_fail "agent 2 (db) does not" policy_allows 2
check "agent 1's record: policy.apply by the fleet" wait_for 5 sh -c \
	"sqlite3 '$IRC_TMP/a1/ircontain.db' \"select actor from actions where type = 'policy.apply'\" | grep -q '^fleet:'"
check "fleet list: the web policy, applied" jqx \
	'.entries[] | select(.key == "/ircontain/q/web/policy") | .kind == "policy" and .state == "applied"' <(fl --json fleet list)

for n in 1 2; do agent_stop "$n"; done
check "no agent logged a sanitizer or fatal error" sh -c "! grep -l 'AddressSanitizer\|runtime error' $IRC_TMP/a*/run.log"
