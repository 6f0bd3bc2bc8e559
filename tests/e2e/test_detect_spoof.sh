#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# The network detectors against an attacker who spoofs and evades, with the
# real tools (nmap, hping3), from the lab's test hosts only, each bounded by
# a count and a timeout.  The protected host's default gateway is host 2,
# its resolver host 3 (IRCONTAIN_RESOLV_CONF), host 4 a benign client that
# never scans, host 1 the attacker; hosts 5 and 6 scan in ways the old
# detector missed.
#
#   - decoys: `nmap -sS -D client,gateway,resolver,OWN,ME`: the gateway,
#     the resolver and the host's own address get findings that say
#     "protected" and no entry; the attacker and the client, unverified,
#     get only an inbound, short-TTL entry;
#   - spoofed SYN floods (`hping3 -S -a`) as the gateway, the host itself
#     and the client quarantine nobody (a SYN flood proves nothing of its
#     source), and the destination gets a synflood finding;
#   - a verified attacker (it completed a handshake) scanned with
#     `nmap -sT` is quarantined both ways with the policy's TTL; a
#     random-source flood (`hping3 --rand-source`, 100k SYNs, more than the
#     detector's LRU holds) adds no entry and does not reset its history:
#     its next scan gets ttl x factor;
#   - low and slow: `nmap --scan-delay 0.6s` stays under the 2 s window's
#     threshold and is caught by the slow window;
#   - aimed ports: a port list whose 40 ports share 9 bits of the old,
#     fixed 256-bit hash is caught (the hash is keyed per load);
#   - `policy apply` from monitor to enforce acts at once on a source
#     already past the threshold in the current window;
#   - `nmap -D RND:40`: the unverified quarantines stop at the rate budget.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/detect_lib.sh"

EV=$IRC_TMP/events.jsonl
P=10.77.1.1			# the protected host, as host 1 sees it
GW=10.77.2.2 RESOLVER=10.77.3.2 CLIENT=10.77.4.2 OWN=10.77.2.1
THRESH=10 WINDOW=2 SLOW_WINDOW=60 TTL=300 UTTL=30 FACTOR=3 SYNS=50

need_tools nmap hping3 bpftool jq socat timeout

# policy MODE [WINDOW]: the test policy.
policy() {
	cat <<EOF
mode: $1
detectors:
  portscan:
    enabled: true
    ports: $THRESH
    window: ${2:-$WINDOW}s
    slow_ports: $THRESH
    slow_window: ${SLOW_WINDOW}s
    severity: high
    action: quarantine-host
    ttl: ${TTL}s
    unverified_ttl: ${UTTL}s
    escalation: {factor: $FACTOR, max_ttl: 1h}
  synflood:
    enabled: true
    syns: $SYNS
    window: 1s
    severity: high
    action: quarantine-host
    ttl: 120s
EOF
	host_detectors_off
}

# nmap_from N ARGS...: nmap from host N, no DNS, no ping, one try, 60 s at most.
nmap_from() {
	local n=$1; shift
	in_h "$n" timeout 60 nmap -n -Pn --max-retries 0 "$@" >"$IRC_TMP/nmap.$n" 2>&1
}
# hping_from N ARGS...: hping3 from host N, 60 s at most.
hping_from() {
	local n=$1; shift
	in_h "$n" timeout 60 hping3 -q "$@" >"$IRC_TMP/hping.$n" 2>&1
	true
}
# nfind FILTER: how many findings FILTER selects.
nfind() { evq "$1" | wc -l; }
src() { echo ".source.ip == \"$1\""; }
# entries FILTER: how many list entries FILTER selects.
entries() { irc --json list | jq "[.entries[] | select($1)] | length"; }
unverified_entry() {
	entry "$1" ".origin == \"detector\" and .direction == \"in\" and (.reason | test(\"unverified\")) and .ttl_remaining <= $UTTL"
}

lab_up 6 || { not_ok "lab up"; exit 1; }
in_p ip route add default via "$GW"
in_p ip -6 route add default via fd77:2::2
echo "nameserver $RESOLVER" >"$IRC_TMP/resolv.conf"
export IRCONTAIN_RESOLV_CONF=$IRC_TMP/resolv.conf
policy enforce >"$IRC_TMP/enforce.yaml"
policy monitor 30 >"$IRC_TMP/monitor30.yaml"
policy enforce 30 >"$IRC_TMP/enforce30.yaml"
check_rc "load --iface iv1..iv6" 0 irc load --iface iv1 --iface iv2 --iface iv3 \
	--iface iv4 --iface iv5 --iface iv6
check "protected set: own addresses, gateway $GW and resolver $RESOLVER" \
	jqx "[.[] | .key[12:] | map(ltrimstr(\"0x\") | explode |
	      map(if . >= 97 then . - 87 else . - 48 end) | .[0] * 16 + .[1] | tostring) | join(\".\")] |
	     (index(\"$GW\") != null) and (index(\"$RESOLVER\") != null) and (index(\"$OWN\") != null)" \
	<(bpftool -j map dump pinned "$IRC_PIN_DIR/irc_protect")
bg nsenter --net="/run/netns/$IRC_NS_P" "$IRC_BIN" run --events-file "$EV" \
	--policy "$IRC_TMP/enforce.yaml" 2>"$IRC_TMP/daemon.err"
daemon_ready() { [[ $(jq -r .pid "$IRCONTAIN_STATE_DIR/run.json" 2>/dev/null) == "$DPID" ]]; }
DPID=$!
check "run --policy (enforce): ready" wait_for 5 daemon_ready
tcp_server 8000

# ---- decoys ----------------------------------------------------------------

check "nmap -sS -D client,gateway,resolver,own,ME (30 ports)" \
	nmap_from 1 -sS -p 3000-3029 -D "$CLIENT,$GW,$RESOLVER,$OWN,ME" "$P"
for a in "$GW" "$RESOLVER" "$OWN"; do
	check "decoy $a: no entry" no_entry "$a"
done
check "the gateway: a finding that says protected (gateway), not acted on" \
	wait_for 5 has "$(src $GW) and .ircontain.finding.source_trust == \"protected\" and .ircontain.finding.protected == \"gateway\" and .ircontain.finding.enforced == false and .ircontain.finding.held == \"protected source\""
check "the resolver: protected (resolver)" \
	has "$(src $RESOLVER) and .ircontain.finding.protected == \"resolver\" and .ircontain.finding.enforced == false"
check "the host's own address: protected (own address)" \
	has "$(src $OWN) and .ircontain.finding.protected == \"own address\" and .ircontain.finding.enforced == false"
check "the attacker (unverified): inbound only, TTL <= ${UTTL}s" unverified_entry 10.77.1.2
check "the client (unverified decoy): inbound only, TTL <= ${UTTL}s" unverified_entry "$CLIENT"
check "unverified findings say so (source_trust unverified, offences 0)" \
	is "$(evq "$(src $CLIENT)" | head -1)" \
	'.ircontain.finding.source_trust == "unverified" and .ircontain.finding.enforced == true and .ircontain.finding.offences == 0 and (.message | test("inbound only, never escalated"))'
check "the gateway stays reachable: ping host 2" ping4 2
check "the resolver stays reachable: ping host 3" ping4 3
check_rc "release the client" 0 irc release host "$CLIENT"
check_rc "release host 1" 0 irc release host 10.77.1.2

# ---- spoofed SYN floods ------------------------------------------------------

n0=$(entries 'true')
for a in "$GW" "$P" "$CLIENT"; do
	hping_from 1 -S -p 8000 -a "$a" -c 200 -i u2000 "$P"
done
check "spoofed floods (gateway, own, client): a finding each" \
	wait_for 5 eval '(($(nfind ".event.action == \"synflood_detected\" and (.source.ip == \"$GW\" or .source.ip == \"$P\" or .source.ip == \"$CLIENT\")") >= 3))'
check "spoofed floods: none of them enforced (protected, protected, unverified)" \
	is "$(evq ".event.action == \"synflood_detected\" and (.source.ip == \"$GW\" or .source.ip == \"$P\" or .source.ip == \"$CLIENT\")" | jq -s -c .)" \
	"all(.[]; .ircontain.finding.enforced == false and .ircontain.finding.held == (if .source.ip == \"$CLIENT\" then \"unverified source\" else \"protected source\" end))"
check "spoofed floods: no new entry" eq "$(entries 'true')" "$n0"
check "the destination gets the finding (synflood to $P)" \
	has ".event.action == \"synflood_detected\" and .destination.ip == \"$P\" and .ircontain.finding.source_trust == \"destination\" and (.message | test(\"SYN cookies\"))"

# ---- a verified attacker; a random-source flood ---------------------------------

sleep "$WINDOW"
check "host 1 completes a handshake: verified" tcp4 1 8000
sleep "$WINDOW"
check "nmap -sT (connect scan, 30 ports) from host 1" nmap_from 1 -sT -p 4000-4029 "$P"
check "verified attacker: quarantined both ways, the policy's TTL (offence 1)" \
	entry 10.77.1.2 ".direction == \"both\" and .ttl_remaining > $((TTL - 15)) and .ttl_remaining <= $TTL and .reason == \"port scan detected\""
check "verified finding: offence 1" \
	wait_for 5 has "$(src 10.77.1.2) and .ircontain.finding.source_trust == \"verified\" and .ircontain.finding.offences == 1"
check_rc "release host 1" 0 irc release host 10.77.1.2
n0=$(entries 'true')
t0=$SECONDS
hping_from 1 -S -p 8000 --rand-source -c 100000 -i u10 "$P"
echo "# hping3 --rand-source: 100000 SYNs in $((SECONDS - t0)) s"
check "random-source flood: no new entry" eq "$(entries 'true')" "$n0"
check "random-source flood: it filled the detector's LRU (65536 sources)" \
	gt "$(bpftool -j map dump pinned "$IRC_PIN_DIR/irc_netstate" | jq length)" 60000
sleep "$WINDOW"
check "host 1 scans again (nmap -sT)" nmap_from 1 -sT -p 4100-4129 "$P"
check "its history survived the flood: offence 2, ttl x $FACTOR" \
	entry 10.77.1.2 ".direction == \"both\" and .ttl_remaining > $((TTL * FACTOR - 15)) and .ttl_remaining <= $((TTL * FACTOR))"
check "finding: offence 2" wait_for 5 has "$(src 10.77.1.2) and .ircontain.finding.offences == 2"

# ---- low and slow ----------------------------------------------------------------

t0=$SECONDS
check "nmap --scan-delay 0.6s from host 5 (14 ports)" \
	nmap_from 5 -sS --scan-delay 0.6s -p 5000-5013 10.77.5.1
echo "# slow scan: $((SECONDS - t0)) s"
check "slow scan: caught by the slow window (slow, window ${SLOW_WINDOW}s, count $THRESH)" \
	wait_for 5 has "$(src 10.77.5.2) and .ircontain.finding.slow == true and .ircontain.finding.window_s == $SLOW_WINDOW and .ircontain.finding.count == $THRESH"
check "slow scan: never seen by the ${WINDOW}s window" eq "$(nfind "$(src 10.77.5.2) and .ircontain.finding.slow == false")" 0
check "slow scanner quarantined (unverified: inbound, short TTL)" unverified_entry 10.77.5.2

# ---- ports aimed at the old fixed hash ----------------------------------------------

# 40 ports that share at most 9 bits of the old hash, (port * 2654435761) >> 24
# in 32 bits: it counted them as 9 distinct ports, under the threshold.
ports=() slots=()
for ((p = 1024; p < 65536 && ${#ports[@]} < 40; p++)); do
	s=$(((p * 2654435761 & 0xffffffff) >> 24))
	if [[ " ${slots[*]} " == *" $s "* ]] || ((${#slots[@]} < 9)); then
		[[ " ${slots[*]} " == *" $s "* ]] || slots+=("$s")
		ports+=("$p")
	fi
done
check "aimed list: 40 ports in $((${#slots[@]})) bits of the old hash" eq "${#ports[@]}/${#slots[@]}" 40/9
list=$(IFS=,; echo "${ports[*]}")
check "nmap -sS over the aimed list from host 6" nmap_from 6 -sS -p "$list" 10.77.6.1
check "aimed scan caught (the keyed hash spreads it)" \
	wait_for 5 has "$(src 10.77.6.2) and .event.action == \"portscan_detected\""
check "aimed scanner quarantined" unverified_entry 10.77.6.2

# ---- policy apply resets the windows ----------------------------------------------

check_rc "policy apply (monitor, 30 s window)" 0 irc policy apply "$IRC_TMP/monitor30.yaml"
check "monitor: host 4 scans 12 ports" nmap_from 4 -sS -p 6000-6011 10.77.4.1
check "monitor: a finding, not enforced" \
	wait_for 5 has "$(src $CLIENT) and .ircontain.finding.held == \"monitor mode\""
check "monitor: no entry for host 4" no_entry "$CLIENT"
check_rc "policy apply (enforce, same thresholds)" 0 irc policy apply "$IRC_TMP/enforce30.yaml"
check "enforce: host 4 scans 12 more ports within the same 30 s window" \
	nmap_from 4 -sS -p 6100-6111 10.77.4.1
check "enforce: acted on at once (not after the window)" unverified_entry "$CLIENT"
check_rc "policy apply (enforce, 2 s window)" 0 irc policy apply "$IRC_TMP/enforce.yaml"

# ---- the unverified quarantine budget ------------------------------------------------

n0=$(entries '.origin == "detector"')
check "nmap -sS -D RND:40 from host 1 (12 ports)" nmap_from 1 -sS -p 7000-7011 -D RND:40 "$P"
n1=$(entries '.origin == "detector"')
echo "# RND:40 decoys: $((n1 - n0)) new detector entries"
check "RND:40: at most $((32)) new unverified entries (the burst)" eq "$((n1 - n0 <= 32))" 1
check "RND:40: the rest alerted only (rate exceeded)" \
	wait_for 5 has ".ircontain.finding.held == \"unverified quarantine rate exceeded\""

kill -TERM "$DPID" 2>/dev/null
check "daemon: exits on SIGTERM" wait_for 10 sh -c "! kill -0 $DPID"
check_rc "unload" 0 irc unload
