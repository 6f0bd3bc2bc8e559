#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# A fleet lab on top of lib.sh: etcd in the lab's namespace "$IRC_NS_P"
# (a bridge 10.79.0.1/24, etcd on it and on that namespace's loopback) and
# N agents, each a namespace "$IRC_NS_PFX"aN with its own pin dir, state
# dir and cgroup root, joined to the bridge (10.79.0.(10+N)) and to its
# test host "$IRC_NS_PFX"hN by a veth: the agent is 10.78.0.1, its host
# 10.78.0.2 (the same addresses at every agent: one fleet entry covers
# them all).  Everything carries the test's PID and goes at cleanup.
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
need_tools etcd etcdctl openssl

# FL_MEMBERS etcd members (1 or 3): member M serves clients on port
# 2379 + 10000 (M - 1) of 10.79.0.1 and of the namespace's loopback.
# FL_TLS=1: etcd over TLS with client certificates (a test CA made by
# fl_make_ca with openssl); every client here then uses FL_TLS_ARGS.
FL_MEMBERS=${FL_MEMBERS:-1}
FL_TLS=${FL_TLS:-0}
FL_SCHEME=http
FL_TLS_ARGS=()
FL_PKI=$IRC_TMP/pki
if ((FL_TLS)); then
	FL_SCHEME=https
	FL_TLS_ARGS=(--fleet-cert "$FL_PKI/client.pem" --fleet-key "$FL_PKI/client.key" --fleet-ca "$FL_PKI/ca.pem")
fi
fl_port() { echo $((2379 + 10000 * ($1 - 1))); }
FL_URL=$(for ((m = 1; m <= FL_MEMBERS; m++)); do printf '%s://10.79.0.1:%s,' "$FL_SCHEME" "$(fl_port $m)"; done)
FL_URL=${FL_URL%,}
FL_LOCAL=${FL_URL//10.79.0.1/127.0.0.1}
declare -a FL_ETCD_PID
declare -a FL_PID

# fl ARGS...: the operator's CLI, next to etcd, with a state dir (and key) of its own.
fl() {
	nsenter --net="/run/netns/$IRC_NS_P" env IRCONTAIN_STATE_DIR="$IRC_TMP/op" \
		"$IRC_BIN" --fleet "$FL_LOCAL" "${FL_TLS_ARGS[@]}" "$@"
}
# etcdctl next to etcd.
ectl() {
	local tls=()
	((FL_TLS)) && tls=(--cacert "$FL_PKI/ca.pem" --cert "$FL_PKI/client.pem" --key "$FL_PKI/client.key")
	nsenter --net="/run/netns/$IRC_NS_P" env ETCDCTL_API=3 etcdctl --endpoints "$FL_LOCAL" "${tls[@]}" "$@"
}

# fl_make_ca DIR NAME: a CA (NAME-ca), and under it a server certificate for
# 10.79.0.1 and 127.0.0.1 and a client certificate (P-256, one day).
fl_make_ca() {
	local d=$1 n=$2
	mkdir -p "$d"
	(
		cd "$d" || exit 1
		openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 \
			-keyout "$n-ca.key" -out "$n-ca.pem" -subj "/CN=$n-ca" &&
		for who in server client; do
			openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
				-keyout "$n-$who.key" -out "$n-$who.csr" -subj "/CN=$n-$who" &&
			# etcd 3.4's JSON gateway dials etcd itself with the server's
			# certificate: it must be good for client authentication too.
			eku=clientAuth
			[[ $who == server ]] && eku=serverAuth,clientAuth
			printf 'subjectAltName=IP:10.79.0.1,IP:127.0.0.1\nextendedKeyUsage=%s\n' "$eku" >"$who.ext" &&
			openssl x509 -req -in "$n-$who.csr" -CA "$n-ca.pem" -CAkey "$n-ca.key" -CAcreateserial \
				-days 1 -extfile "$who.ext" -out "$n-$who.pem" || exit 1
		done
	) >/dev/null 2>&1
}

# ag_env N: the command prefix that runs as agent N (its netns, pins, state, cgroup).
ag_env() {
	echo nsenter --net="/run/netns/${IRC_NS_PFX}a$1" env IRCONTAIN_PIN_DIR="${IRC_PIN_DIR}a$1" \
		IRCONTAIN_STATE_DIR="$IRC_TMP/a$1" IRCONTAIN_CGROUP_ROOT="$IRC_CG/a$1" "$IRC_BIN"
}
# ag N ARGS...: the CLI as agent N.
ag() { local n=$1; shift; $(ag_env "$n") "$@"; }

# etcd_start [M]: member M (default: every member, then waits for the cluster).
etcd_start() {
	local m cluster= p tls=()
	((FL_TLS)) && tls=(--cert-file "$FL_PKI/server.pem" --key-file "$FL_PKI/server.key"
		--client-cert-auth --trusted-ca-file "$FL_PKI/ca.pem")
	for ((m = 1; m <= FL_MEMBERS; m++)); do
		cluster+=e$m=http://127.0.0.1:$(($(fl_port $m) + 1)),
	done
	for m in ${1:-$(seq "$FL_MEMBERS")}; do
		p=$(fl_port "$m")
		mkdir -p "$IRC_TMP/etcd"
		bg ip netns exec "$IRC_NS_P" etcd --name "e$m" --data-dir "$IRC_TMP/etcd/e$m" \
			--listen-client-urls "$FL_SCHEME://10.79.0.1:$p,$FL_SCHEME://127.0.0.1:$p" \
			--advertise-client-urls "$FL_SCHEME://10.79.0.1:$p" "${tls[@]}" \
			--listen-peer-urls "http://127.0.0.1:$((p + 1))" \
			--initial-advertise-peer-urls "http://127.0.0.1:$((p + 1))" \
			--initial-cluster "${cluster%,}" --logger zap --log-level error \
			>>"$IRC_TMP/etcd/log" 2>&1
		FL_ETCD_PID[m]=$!
	done
	wait_for 20 ectl endpoint health --cluster
}

# etcd_kill [M]: member M (default: every member), with SIGKILL.
etcd_kill() {
	local m
	for m in ${1:-$(seq "$FL_MEMBERS")}; do
		kill -9 "${FL_ETCD_PID[m]}" 2>/dev/null
		wait "${FL_ETCD_PID[m]}" 2>/dev/null
	done
}

# The member that leads the cluster now (1..FL_MEMBERS), or nothing.
etcd_leader() {
	ectl endpoint status -w json 2>/dev/null | jq -r '.[] | select(.Status.leader == .Status.header.member_id) | .Endpoint' |
		sed -n 's/.*:\([0-9]*\)$/\1/p' | awk '{ print ($1 - 2379) / 10000 + 1 }'
}

# fleet_up N: etcd and N agent namespaces (not yet running).
fleet_up() {
	local n
	lab_up 0 || return 1
	if ((FL_TLS)); then
		fl_make_ca "$FL_PKI" irc || return 1
		for n in ca server client; do
			cp "$FL_PKI/irc-$n.pem" "$FL_PKI/$n.pem"
			[[ $n == ca ]] || cp "$FL_PKI/irc-$n.key" "$FL_PKI/$n.key"
		done
	fi
	in_p ip link add br0 type bridge || return 1
	in_p ip addr add 10.79.0.1/24 dev br0
	in_p ip link set br0 up
	for ((n = 1; n <= $1; n++)); do
		ip netns add "${IRC_NS_PFX}a$n" || return 1
		IRC_AGENTS=$n
		ip netns add "${IRC_NS_PFX}h$n" || return 1
		IRC_HOSTS=$n
		mkdir -p "$IRC_CG/a$n" "$IRC_TMP/a$n"
		ip netns exec "${IRC_NS_PFX}a$n" ip link set lo up
		ip link add ev netns "${IRC_NS_PFX}a$n" type veth peer name "eb$n" netns "$IRC_NS_P" || return 1
		in_p ip link set "eb$n" master br0 up
		ip netns exec "${IRC_NS_PFX}a$n" ip addr add "10.79.0.$((10 + n))/24" dev ev
		ip netns exec "${IRC_NS_PFX}a$n" ip link set ev up
		ip link add fv netns "${IRC_NS_PFX}a$n" type veth peer name hv netns "${IRC_NS_PFX}h$n" || return 1
		ip netns exec "${IRC_NS_PFX}a$n" ip addr add 10.78.0.1/24 dev fv
		ip netns exec "${IRC_NS_PFX}a$n" ip link set fv up
		in_h "$n" ip link set lo up
		in_h "$n" ip addr add 10.78.0.2/24 dev hv
		in_h "$n" ip addr add 10.78.0.3/24 dev hv
		in_h "$n" ip link set hv up
	done
	etcd_start || return 1
	for ((n = 1; n <= $1; n++)); do
		wait_for 5 ip netns exec "${IRC_NS_PFX}a$n" ping -c1 -W1 10.79.0.1 || return 1
		wait_for 5 in_h "$n" ping -c1 -W1 10.78.0.1 || return 1
	done
}

# agent_run N [GLOBAL ARGS...] [-- RUN ARGS...]: agent N's controller, in the background.
agent_run() {
	local n=$1 g=() r=(); shift
	while (($#)) && [[ $1 != -- ]]; do g+=("$1"); shift; done
	(($#)) && shift && r=("$@")
	bg $(ag_env "$n") --fleet "$FL_URL" "${FL_TLS_ARGS[@]}" --fleet-name "a$n" "${g[@]}" run --iface fv \
		--events-file "$IRC_TMP/a$n/events.jsonl" "${r[@]}" >>"$IRC_TMP/a$n/run.log" 2>&1
	FL_PID[n]=$!
}

agent_stop() {
	kill -TERM "${FL_PID[$1]}" 2>/dev/null
	wait "${FL_PID[$1]}" 2>/dev/null
}

# Host N reaches its agent (ping, and UDP would be the same: XDP drops by source).
reach() { in_h "$1" ping -c1 -W1 -I 10.78.0.${2:-2} 10.78.0.1 >/dev/null 2>&1; }
blocked() { ! reach "$@"; }

# fl_status: fleet status --json; exit 3 (an agent is degraded) is an answer too.
fl_status() {
	local rc
	fl --json fleet status
	rc=$?
	((rc == 0 || rc == 3))
}

# agents_in_status N: fleet status shows N agents with heartbeats, all synced.
agents_synced() {
	fl_status | jq -e --argjson n "$1" \
		'[.agents[] | select(.sync == "synced")] | length == $n' >/dev/null
}

# agent_gone NAME: fleet status no longer lists NAME (its lease ran out).
agent_gone() {
	fl_status | jq -e --arg n "$1" '[.agents[].name] | index($n) == null' >/dev/null
}

# has_entry N TARGET: agent N's kernel maps hold TARGET, made by the fleet.
has_entry() {
	ag "$1" --json list | jq -e --arg t "$2" '.entries[] | select(.target == $t and .origin == "fleet")' >/dev/null
}

# db N SQL: agent N's evidence store.
db() { sqlite3 "$IRC_TMP/a$1/ircontain.db" "$2"; }

# refused N KEY_RE WHY_RE: agent N reported a refusal of a key matching KEY_RE for WHY_RE.
refused() {
	# The events file has every process on the machine: the refusals first.
	grep -F '"fleet.refused"' "$IRC_TMP/a$1/events.jsonl" | jq -en --arg k "$2" --arg w "$3" \
		'[inputs | select(.event.action == "fleet.refused" and (.key // "" | test($k)) and (.reason // "" | test($w)))] | length > 0' \
		>/dev/null
}
