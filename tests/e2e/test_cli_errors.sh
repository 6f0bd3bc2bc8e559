#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# The CLI's error contract (docs/cli-spec.md): a bad value or bad usage
# exits 2 with one line on stderr naming the value and changes nothing;
# not loaded / no permission / nothing to release exit 1 with a useful
# message (not loaded says to run load; non-root names root or CAP_BPF and
# shows no libbpf log); under --json the error is also {"error": ...} on
# stdout.  Refusals: the SSH_CONNECTION peer and allowlisted addresses are
# not quarantined, and isolation does not cut the SSH peer, unless --force
# (or the peer is allowed).
. "$(dirname "$0")/lib.sh"
need_tools tc
lab_up 1 || { not_ok "lab up"; exit 1; }

SSH_PEER="10.77.1.2 50000 10.77.1.1 22"

# Every CLI run through irc or irc_nobody adds a byte to a file (subshells
# count too), so run_err can reuse the state it took last when no command
# ran since: that halves the CLI runs here (slow with sanitizers).
: >"$IRC_TMP/gen"
irc_raw() { nsenter --net="/run/netns/$IRC_NS_P" "$IRC_BIN" "$@"; }
irc() { echo -n x >>"$IRC_TMP/gen"; irc_raw "$@"; }
eval "lib_$(declare -f irc_nobody)"
irc_nobody() { echo -n x >>"$IRC_TMP/gen"; lib_irc_nobody "$@"; }
gen() { local g; g=$(<"$IRC_TMP/gen"); echo "${#g}"; }
STATE_GEN=-1 STATE_LAST=

# state: everything a command could change, as JSON text.
state() {
	irc_raw --json list 2>&1
	irc_raw --json allow list 2>&1
	irc_raw --json isolate status 2>&1
	# Attachments: the XDP program and tc filter ids on iv1, the pins.
	nsenter --net="/run/netns/$IRC_NS_P" ip -d link show iv1 | grep -o 'prog/xdp id [0-9]*'
	nsenter --net="/run/netns/$IRC_NS_P" tc filter show dev iv1 egress | grep -o ' id [0-9]*'
	ls -R "$IRC_PIN_DIR" 2>&1
}

# result NAME REASONS...: ok when no reason was given.
result() {
	local name=$1; shift
	if (($# == 0)); then ok "$name"; else
		not_ok "$name ($(IFS=';'; echo "$*"))"
		sed 's/^/#   stderr: /' "$IRC_TMP/be" | head -3
		sed 's/^/#   stdout: /' "$IRC_TMP/bo" | head -3
	fi
}

# run_err ENV RC NEEDLE JSON ARGS...: runs `irc ARGS` (with env assignment
# ENV if not empty) and collects what breaks the error contract in ${why[@]}.
run_err() {
	local env=$1 want=$2 needle=$3 json=$4 before after rc n; shift 4
	why=()
	if [[ $(gen) == "$STATE_GEN" ]]; then before=$STATE_LAST; else before=$(state); fi
	if [[ -n $env ]]; then
		env "$env" nsenter --net="/run/netns/$IRC_NS_P" "$IRC_BIN" "$@"
	else
		irc "$@"
	fi >"$IRC_TMP/bo" 2>"$IRC_TMP/be"
	rc=$?
	after=$(state)
	STATE_LAST=$after STATE_GEN=$(gen)
	((rc == want)) || why+=("exit $rc, expected $want")
	n=$(grep -c '' "$IRC_TMP/be")
	((n == 1)) || why+=("$n lines on stderr, expected 1")
	grep -qF -- "$needle" "$IRC_TMP/be" || why+=("stderr does not name '$needle'")
	if ((json)); then
		jq -se --arg n "$needle" 'length == 1 and (.[0] | keys == ["error"] and (.error | type == "string" and contains($n)))' \
			"$IRC_TMP/bo" >/dev/null 2>&1 ||
			why+=("stdout is not one {\"error\": ...} naming '$needle'")
	else
		[[ -s $IRC_TMP/bo ]] && why+=("stdout not empty")
	fi
	[[ $before == "$after" ]] || why+=("state changed")
}

# bad NAME NEEDLE ARGS...: exit 2, one stderr line naming NEEDLE, no change.
bad() { local name=$1 needle=$2; shift 2; run_err "" 2 "$needle" 0 "$@"; result "$name" "${why[@]}"; }
# fails NAME NEEDLE ARGS...: the same with exit 1.
fails() { local name=$1 needle=$2; shift 2; run_err "" 1 "$needle" 0 "$@"; result "$name" "${why[@]}"; }
# jbad NAME RC NEEDLE ARGS...: under --json.
jbad() { local name=$1 rc=$2 needle=$3; shift 3; run_err "" "$rc" "$needle" 1 --json "$@"; result "$name" "${why[@]}"; }
# refused NAME NEEDLE ARGS...: exit 2 with SSH_CONNECTION set to host 1.
refused() { local name=$1 needle=$2; shift 2; run_err "SSH_CONNECTION=$SSH_PEER" 2 "$needle" 0 "$@"; result "$name" "${why[@]}"; }

# ---- before load ---------------------------------------------------------

fails "not loaded: quarantine exits 1, says not loaded" "not loaded" quarantine host 10.77.1.2
check "not loaded: the message says to run load" grep -q "run 'ircontain load" "$IRC_TMP/be"
jbad "not loaded: --json quarantine prints {\"error\"}" 1 "not loaded" quarantine host 10.77.1.2
fails "not loaded: list exits 1" "not loaded" list
fails "not loaded: release --all exits 1" "not loaded" release --all
fails "not loaded: unload exits 1" "not loaded" unload
check "not loaded: status exits 0, loaded false" ircq '.loaded == false and .pin_dir != null' status

# The checks as uid 65534 below mean something only if it can run at all.
check "uid 65534 can run the CLI here (the non-root checks need it)" nobody_runs
irc_nobody list >"$IRC_TMP/bo" 2>"$IRC_TMP/be"; rc=$?
check "non-root before load: list exits 1" eq "$rc" 1

bad "load: nonexistent interface" nosuch0 load --iface nosuch0
bad "load: interface name too long" abcdefghijklmnop load --iface abcdefghijklmnop
bad "load: loopback" "'lo'" load --iface lo
bad "load: interface named twice" iv1 load --iface iv1 --iface iv1
bad "load: bad --xdp-mode" bogus load --iface iv1 --xdp-mode bogus
bad "load: no --iface" "no interface" load
bad "load: --iface without a value" "--iface" load --iface
bad "load: one bad interface among good ones" nosuch0 load --iface iv1 --iface nosuch0
bad "load: unexpected argument" extra load --iface iv1 extra
check "failed loads left no pin dir" test ! -e "$IRC_PIN_DIR"
check "failed loads attached nothing to iv1" sh -c \
	"! ip netns exec $IRC_NS_P ip -d link show iv1 | grep -q xdp"

# ---- loaded, with some state to keep -------------------------------------

check_rc "load --iface iv1" 0 irc load --iface iv1
check_rc "baseline: quarantine host 10.77.1.5" 0 irc quarantine host 10.77.1.5 --reason baseline
check_rc "baseline: quarantine host fd77:1::4/126" 0 irc quarantine host fd77:1::4/126
check_rc "baseline: allow add 10.77.1.7" 0 irc allow add 10.77.1.7

bad "bad address" bogus quarantine host bogus
bad "host bits set" 10.77.1.2/24 quarantine host 10.77.1.2/24
bad "IPv6 host bits set" fd77:1::2/64 quarantine host fd77:1::2/64
bad "prefix /33" 10.77.1.0/33 quarantine host 10.77.1.0/33
bad "prefix /129" fd77:1::/129 quarantine host fd77:1::/129
bad "prefix not a number" 10.77.1.0/x quarantine host 10.77.1.0/x
bad "empty address" "''" quarantine host ""
bad "--ttl 0" "'0'" quarantine host 10.77.1.2 --ttl 0
bad "--ttl 5x" 5x quarantine host 10.77.1.2 --ttl 5x
bad "--ttl 400d" 400d quarantine host 10.77.1.2 --ttl 400d
bad "--ttl 367d" 367d quarantine host 10.77.1.2 --ttl 367d
bad "--ttl -5s" -5s quarantine host 10.77.1.2 --ttl -5s
bad "--ttl 1h30 (no last unit)" 1h30 quarantine host 10.77.1.2 --ttl 1h30
bad "--ttl overflow" 99999999999999999999s quarantine host 10.77.1.2 --ttl 99999999999999999999s
bad "--direction sideways" sideways quarantine host 10.77.1.2 --direction sideways
bad "--reason with a control character" "--reason" quarantine host 10.77.1.2 --reason $'bad\x01reason'
# The message must stay one line even when the bad value holds a newline.
bad "--reason with a newline: still one line on stderr" "--reason" \
	quarantine host 10.77.1.2 --reason $'two\nlines'
bad "address with a newline: still one line on stderr" "bad address" \
	quarantine host $'10.77.1.2\nx'
bad "--reason longer than 63 bytes" "--reason" quarantine host 10.77.1.2 \
	--reason "$(printf 'r%.0s' {1..64})"
bad "unknown command" frobnicate frobnicate
bad "unknown subcommand" frobnicate quarantine frobnicate 10.77.1.2
bad "unknown isolate subcommand" sideways isolate sideways
bad "unknown option" --bogus list --bogus
bad "unknown option to quarantine" --bogus quarantine host 10.77.1.2 --bogus
bad "missing argument: quarantine host" "missing argument" quarantine host
bad "missing argument: release host" "missing argument" release host
bad "missing argument: allow add" "missing argument" allow add
bad "missing value: --ttl" "--ttl" quarantine host 10.77.1.2 --ttl
bad "missing value: --reason" "--reason" quarantine host 10.77.1.2 --reason
bad "extra argument" 10.77.1.3 quarantine host 10.77.1.2 10.77.1.3
bad "release: bad address" 10.77.1.2/24 release host 10.77.1.2/24
bad "release --all with an argument" extra release --all extra
bad "allow add: bad prefix" 10.77.1.0/33 allow add 10.77.1.0/33
bad "isolate on --allow bogus" bogus isolate on --allow bogus
bad "load (loaded): nonexistent interface" nosuch0 load --iface nosuch0
bad "load (loaded): too-long interface name" abcdefghijklmnop load --iface abcdefghijklmnop
bad "load (loaded): loopback" "'lo'" load --iface lo
bad "--pin-dir relative" "rel/dir" --pin-dir rel/dir list
bad "--pin-dir without a value" "--pin-dir" list --pin-dir

fails "release of a host not quarantined: exit 1" 10.77.1.3 release host 10.77.1.3
fails "allow del of an address not allowed: exit 1" 10.77.1.3 allow del 10.77.1.3

# ---- --json errors -------------------------------------------------------

jbad "--json bad address" 2 bogus quarantine host bogus
jbad "--json bad --ttl" 2 5x quarantine host 10.77.1.2 --ttl 5x
jbad "--json unknown command" 2 frobnicate frobnicate
jbad "--json unknown option" 2 --bogus list --bogus
jbad "--json nothing to release" 1 10.77.1.3 release host 10.77.1.3
jbad "--json load nonexistent interface" 2 nosuch0 load --iface nosuch0

# ---- not root --------------------------------------------------------------

before=$(state)
irc_nobody list >"$IRC_TMP/bo" 2>"$IRC_TMP/be"; rc=$?
check "non-root: list exits 1" eq "$rc" 1
check "non-root: the message mentions root or CAP_BPF" grep -qE "root|CAP_BPF" "$IRC_TMP/be"
check "non-root: one line on stderr (no libbpf dump)" eq "$(grep -c '' "$IRC_TMP/be")" 1
check_fail "non-root: no libbpf output" grep -qi "libbpf" "$IRC_TMP/be"
irc_nobody quarantine host 10.77.1.2 >"$IRC_TMP/bo" 2>"$IRC_TMP/be"; rc=$?
check "non-root: quarantine exits 1" eq "$rc" 1
check "non-root: quarantine one line, mentions root or CAP_BPF" sh -c \
	"[ \$(grep -c '' $IRC_TMP/be) -eq 1 ] && grep -qE 'root|CAP_BPF' $IRC_TMP/be"
irc_nobody --json status >"$IRC_TMP/bo" 2>"$IRC_TMP/be"; rc=$?
check "non-root: --json status exits 1" eq "$rc" 1
check "non-root: --json status prints {\"error\"} naming root or CAP_BPF" \
	jqx '.error | test("root|CAP_BPF")' "$IRC_TMP/bo"
irc_nobody unload >"$IRC_TMP/bo" 2>"$IRC_TMP/be"; rc=$?
check "non-root: unload exits 1" eq "$rc" 1
check "non-root: nothing changed" eq "$(state)" "$before"

# ---- refusals --------------------------------------------------------------

refused "SSH peer: quarantine refused" SSH_CONNECTION quarantine host 10.77.1.2
refused "SSH peer: a prefix covering it refused" SSH_CONNECTION quarantine host 10.77.1.0/24
run_err "SSH_CONNECTION=::ffff:10.77.1.2 50000 ::ffff:10.77.1.1 22" 2 SSH_CONNECTION 0 \
	quarantine host 10.77.1.2
result "SSH peer as a v4-mapped IPv6 address: refused" "${why[@]}"
refused "SSH peer: refused with --direction in too" SSH_CONNECTION \
	quarantine host 10.77.1.2 --direction in
SSH_CONNECTION=$SSH_PEER irc --json quarantine host 10.77.1.2 --force >"$IRC_TMP/bo" 2>"$IRC_TMP/be"; rc=$?
check "SSH peer: --force quarantines (exit 0)" eq "$rc" 0
check "SSH peer: --force warns on stderr" grep -q "SSH" "$IRC_TMP/be"
check "SSH peer: --force entry listed" ircq '[.entries[] | select(.target == "10.77.1.2")] | length == 1' list
check_rc "release host 10.77.1.2" 0 irc release host 10.77.1.2
SSH_CONNECTION="10.77.1.9 50000 10.77.1.1 22" irc quarantine host 10.77.1.2 >/dev/null 2>&1; rc=$?
check "another SSH peer: quarantine of 10.77.1.2 allowed" eq "$rc" 0
check_rc "release host 10.77.1.2" 0 irc release host 10.77.1.2

bad "allowlisted: quarantine refused" "10.77.1.7" quarantine host 10.77.1.7
bad "allowlisted: a prefix overlapping it refused" "10.77.1.7" quarantine host 10.77.1.0/29
check_rc "allowlisted: --force quarantines (exit 0)" 0 irc quarantine host 10.77.1.7 --force
check "allowlisted: --force entry listed" ircq '[.entries[] | select(.target == "10.77.1.7")] | length == 1' list
check_rc "release host 10.77.1.7" 0 irc release host 10.77.1.7

refused "SSH peer: isolate on refused" "SSH session from 10.77.1.2" isolate on
check "isolate on refused: isolation still off" ircq '.enabled == false' isolate status
refused "SSH peer: isolate on --allow of another address refused" "SSH session from 10.77.1.2" \
	isolate on --allow 10.77.1.3
SSH_CONNECTION=$SSH_PEER irc --json isolate on --allow 10.77.1.2 >"$IRC_TMP/bo" 2>&1; rc=$?
check "SSH peer: isolate on --allow <peer> accepted" eq "$rc" 0
check "SSH peer: isolate on --allow <peer>: enabled" jqx '.enabled == true' "$IRC_TMP/bo"
check_rc "isolate off" 0 irc isolate off
check_rc "allow add 10.77.1.0/30 (covers the peer)" 0 irc allow add 10.77.1.0/30
SSH_CONNECTION=$SSH_PEER irc isolate on >/dev/null 2>&1; rc=$?
check "SSH peer allowlisted: isolate on accepted" eq "$rc" 0
check_rc "isolate off" 0 irc isolate off
check_rc "allow del 10.77.1.0/30" 0 irc allow del 10.77.1.0/30
SSH_CONNECTION=$SSH_PEER irc isolate on --force >/dev/null 2>"$IRC_TMP/be"; rc=$?
check "SSH peer: isolate on --force accepted" eq "$rc" 0
check "SSH peer: isolate on --force warns" grep -q "SSH" "$IRC_TMP/be"
check "isolate on --force: isolation on" ircq '.enabled == true' isolate status
check_rc "isolate off" 0 irc isolate off
check "at the end: the baseline entries are intact" ircq \
	'[.entries[].target] | sort == ["10.77.1.5", "fd77:1::4/126"]' list
