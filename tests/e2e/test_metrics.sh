#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# `run --metrics`: the text exposition is well-formed (promtool), and
# Debian's real Prometheus scrapes it: after a quarantine and traffic to
# it, a query for the table's entries and one for the drops give the
# kernel's numbers.  Bad addresses are exit 2.
. "$(dirname "$0")/lib.sh"
need_tools prometheus promtool curl

lab_up 1 || { not_ok "lab up"; exit 1; }
check_rc "load --iface iv1" 0 irc load --iface iv1
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
for _ in 1 2 3; do ping4 1; done

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
check "Prometheus: ircontain_entries{table=\"irc_q4_host\"} is 1" wait_for 10 \
	query 'ircontain_entries{table="irc_q4_host"}' '.data.result[0].value[1] == "1"'
check "Prometheus: the drops of the quarantine are counted" wait_for 10 \
	query 'ircontain_packets_total{counter="rx_drop_quarantine"}' '.data.result[0].value[1] | tonumber >= 3'
check "Prometheus: the controller read events" wait_for 10 \
	query 'ircontain_events_read_total' '.data.result[0].value[1] | tonumber > 0'
