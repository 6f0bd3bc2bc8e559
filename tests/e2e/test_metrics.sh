#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# `run --metrics`: the text exposition is well-formed (promtool), and
# Debian's real Prometheus scrapes it: after a quarantine and traffic to
# it, a query for the table's entries and one for the drops give the
# kernel's numbers.  Drops per interface: two hosts quarantined behind two
# veths, traffic both ways; each interface's drops (status --json and the
# scraped series) are exactly its host's entry's drops, and a deleted
# interface keeps its name and count.  Bad addresses are exit 2.
. "$(dirname "$0")/lib.sh"
need_tools prometheus promtool curl

lab_up 2 || { not_ok "lab up"; exit 1; }
check_rc "load --iface iv1 --iface iv2" 0 irc load --iface iv1 --iface iv2
check_rc "run --metrics 127.0.0.1 (no port) is exit 2" 2 irc run --metrics 127.0.0.1
check_rc "run --metrics 127.0.0.1:0 is exit 2" 2 irc run --metrics 127.0.0.1:0
check_rc "run --metrics ::1:9464 (unbracketed) is exit 2" 2 irc run --metrics ::1:9464

bg nsenter --net="/run/netns/$IRC_NS_P" "$IRC_BIN" run --metrics 127.0.0.1:9464 \
	--events-file "$IRC_TMP/events.jsonl" 2>"$IRC_TMP/run.log"
scrape() { in_p curl -sf --max-time 2 http://127.0.0.1:9464/metrics; }
check "the controller serves /metrics" wait_for 10 scrape
scrape >"$IRC_TMP/m1"
check "promtool accepts the exposition" sh -c "promtool check metrics <'$IRC_TMP/m1'"
check "entries per table" grep -qx 'ircontain_entries{table="irc_q4_host"} 0' "$IRC_TMP/m1"
check "kernel counters" grep -q '^ircontain_packets_total{counter="rx_drop_quarantine"} ' "$IRC_TMP/m1"
check "findings per detector" grep -q '^ircontain_findings_total{detector="portscan"} ' "$IRC_TMP/m1"
check "store size and errors" grep -qE '^ircontain_store_(bytes|errors_total)' "$IRC_TMP/m1"
check "events lost" grep -q '^ircontain_events_lost_total{where="ring"} ' "$IRC_TMP/m1"
check "another path is 404" sh -c "[ \$(nsenter --net=/run/netns/$IRC_NS_P curl -s -o /dev/null -w '%{http_code}' http://127.0.0.1:9464/x) = 404 ]"

check_rc "quarantine host 10.77.1.2" 0 irc quarantine host 10.77.1.2
check_rc "quarantine host 10.77.2.2" 0 irc quarantine host 10.77.2.2
for _ in 1 2 3; do ping4 1; done
for _ in 1 2 3 4 5; do ping4 2; done
# Out through iv2's tc program: dropped there (the ping fails).
for _ in 1 2; do in_p ping -c1 -W1 10.77.2.2 >/dev/null 2>&1; done
IF1=$(in_p cat /sys/class/net/iv1/ifindex) IF2=$(in_p cat /sys/class/net/iv2/ifindex)
# ifdrop IF DIR RULE: that interface's drops in status --json, or -1.
ifdrop() {
	irc --json status 2>/dev/null | jq -r --arg i "$1" --arg d "$2" --arg r "$3" \
		'[.interface_drops[] | select(.interface == $i) | .[$d][$r]][0] // -1'
}
D1=$(drops 10.77.1.2) D2=$(drops 10.77.2.2)
R1=$(ifdrop iv1 rx quarantine) T1=$(ifdrop iv1 tx quarantine)
R2=$(ifdrop iv2 rx quarantine) T2=$(ifdrop iv2 tx quarantine)
check "status: iv1 dropped host 1's pings (rx $R1 >= 3)" test "$R1" -ge 3
check "status: iv2 dropped host 2's pings (rx $R2 >= 5)" test "$R2" -ge 5
check "status: iv2 dropped the pings out (tx $T2 >= 2)" test "$T2" -ge 2
check "status: iv1's drops are host 1's entry's ($R1 + $T1 = $D1)" eq $((R1 + T1)) "$D1"
check "status: iv2's drops are host 2's entry's ($R2 + $T2 = $D2)" eq $((R2 + T2)) "$D2"
check "status: the ifindexes" ircq "([.interface_drops[] | select(.interface == \"iv1\" and .ifindex == $IF1 and .present)] | length == 1) and
	([.interface_drops[] | select(.interface == \"iv2\" and .ifindex == $IF2 and .present)] | length == 1)" status
check "status: no drop in 'other'" ircq '[.interface_drops[] | select(.ifindex == 0) | .rx[], .tx[]] | add == 0' status
check "status text: drops per interface" sh -c "nsenter --net=/run/netns/$IRC_NS_P '$IRC_BIN' status |
	grep -qE '^  iv2 +ifindex $IF2 +rx $R2/0/0 tx $T2/0/0\$'"
scrape >"$IRC_TMP/m2"
check "promtool accepts the exposition with the interfaces" sh -c "promtool check metrics <'$IRC_TMP/m2'"
check "metrics: iv1's rx quarantine drops" grep -qx \
	"ircontain_interface_drops_total{interface=\"iv1\",ifindex=\"$IF1\",direction=\"rx\",rule=\"quarantine\"} $R1" "$IRC_TMP/m2"
check "metrics: iv2's tx quarantine drops" grep -qx \
	"ircontain_interface_drops_total{interface=\"iv2\",ifindex=\"$IF2\",direction=\"tx\",rule=\"quarantine\"} $T2" "$IRC_TMP/m2"

# Prometheus, in the lab's namespace, scraping every second.
mkdir -p "$IRC_TMP/prom"
cat >"$IRC_TMP/prom/prometheus.yml" <<EOF
global: { scrape_interval: 1s, evaluation_interval: 1s }
scrape_configs:
  - job_name: ircontain
    static_configs: [ { targets: ["127.0.0.1:9464"] } ]
EOF
bg ip netns exec "$IRC_NS_P" prometheus --config.file="$IRC_TMP/prom/prometheus.yml" \
	--storage.tsdb.path="$IRC_TMP/prom/data" --web.listen-address=127.0.0.1:9090 \
	--log.level=error
query() {
	in_p curl -sf --max-time 2 --data-urlencode "query=$1" http://127.0.0.1:9090/api/v1/query |
		jq -e "$2" >/dev/null
}
check "Prometheus: the target is up" wait_for 20 query 'up{job="ircontain"}' '.data.result[0].value[1] == "1"'
check "Prometheus: ircontain_entries{table=\"irc_q4_host\"} is 2" wait_for 10 \
	query 'ircontain_entries{table="irc_q4_host"}' '.data.result[0].value[1] == "2"'
check "Prometheus: the drops of the quarantine are counted" wait_for 10 \
	query 'ircontain_packets_total{counter="rx_drop_quarantine"}' '.data.result[0].value[1] | tonumber >= 3'
check "Prometheus: the controller read events" wait_for 10 \
	query 'ircontain_events_read_total' '.data.result[0].value[1] | tonumber > 0'
check "Prometheus: drops per interface (iv2, rx, quarantine = $R2)" wait_for 10 \
	query 'ircontain_interface_drops_total{interface="iv2",direction="rx",rule="quarantine"}' \
	".data.result[0].value[1] == \"$R2\""
check "Prometheus: sum by interface (iv1 = $((R1 + T1)))" wait_for 10 \
	query 'sum by (interface) (ircontain_interface_drops_total{interface="iv1"})' \
	".data.result[0].value[1] == \"$((R1 + T1))\""

# An interface gone keeps its name and its count (status is degraded: exit 3).
in_p ip link del iv2
gone() {
	local out
	out=$(nsenter --net="/run/netns/$IRC_NS_P" "$IRC_BIN" --json status 2>/dev/null)
	jq -e --arg r "$R2" '[.interface_drops[] | select(.interface == "iv2" and .present == false and
		(.rx.quarantine | tostring) == $r)] | length == 1' <<<"$out"
}
check "status: iv2 deleted, still named, its drops kept" wait_for 10 gone
gone_metric() {
	scrape >"$IRC_TMP/m3" || return 1
	grep -qx "ircontain_interface_drops_total{interface=\"iv2\",ifindex=\"$IF2\",direction=\"rx\",rule=\"quarantine\"} $R2" \
		"$IRC_TMP/m3" || { grep iv2 "$IRC_TMP/m3"; return 1; }
}
check "metrics: iv2 deleted, its series kept" gone_metric
