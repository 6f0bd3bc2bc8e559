#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# The fleet over TLS with client certificates: etcd requires a certificate
# signed by the test CA (made here with openssl).  An agent with one gets
# the signed entry and drops the traffic; a client without a certificate,
# with one from another CA, trusting another CA for etcd, or speaking
# plain HTTP is refused (exit 1, saying why).
FL_TLS=1
. "$(dirname "$0")/fleet_lib.sh"
need_tools jq

fleet_up 1 || { not_ok "fleet lab over TLS up"; exit 1; }
ok "etcd over TLS (client certificates required) and 1 agent namespace up"
key=$(fl fleet key)
check_rc "agent 1 trusts the operator" 0 ag 1 fleet trust add "$key"
agent_run 1
check "the agent syncs over TLS" wait_for 15 agents_synced 1
check_rc "fleet quarantine host 10.78.0.2 over TLS" 0 fl fleet quarantine host 10.78.0.2 --ttl 10m
check "the agent applies it" wait_for 5 has_entry 1 10.78.0.2
check "and drops host 1's traffic" blocked 1

plain() { nsenter --net="/run/netns/$IRC_NS_P" env IRCONTAIN_STATE_DIR="$IRC_TMP/op" "$IRC_BIN" "$@"; }
check_rc "no client certificate: refused (exit 1)" 1 plain --fleet https://127.0.0.1:2379 --fleet-ca "$FL_PKI/ca.pem" fleet list
fl_make_ca "$FL_PKI/other" other
check_rc "a certificate of another CA: refused (exit 1)" 1 plain --fleet https://127.0.0.1:2379 \
	--fleet-ca "$FL_PKI/ca.pem" --fleet-cert "$FL_PKI/other/other-client.pem" --fleet-key "$FL_PKI/other/other-client.key" fleet list
check_rc "etcd's certificate checked against another CA: refused (exit 1)" 1 plain --fleet https://127.0.0.1:2379 \
	--fleet-ca "$FL_PKI/other/other-ca.pem" --fleet-cert "$FL_PKI/client.pem" --fleet-key "$FL_PKI/client.key" fleet list
check_rc "plain HTTP to the TLS port: refused (exit 1)" 1 plain --fleet http://127.0.0.1:2379 fleet list
check_rc "--fleet-cert without --fleet-key is exit 2" 2 plain --fleet https://127.0.0.1:2379 --fleet-cert "$FL_PKI/client.pem" fleet list
agent_stop 1
check "the stopped agent's entry stays (pinned)" blocked 1
