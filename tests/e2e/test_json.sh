#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Every --json output parses with jq, is one object on one line and has the
# fields and types docs/cli-spec.md gives: status (not loaded and loaded),
# load, quarantine, list (with and without a TTL), release, release --all,
# allow add/list/del, isolate on/status/off, unload, version.  Reasons with
# quotes, backslashes and UTF-8 come back unchanged; the actor is the sudo
# user when SUDO_UID is set; -j and --json anywhere on the line are the same.
. "$(dirname "$0")/lib.sh"
need_tools getent
lab_up 1 || { not_ok "lab up"; exit 1; }

ISO='test("^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z$")'

# js NAME FILTER ARGS...: `irc --json ARGS` exits 0, prints exactly one line
# that is one JSON object satisfying FILTER.
js() {
	local name=$1 f=$2 out rc; shift 2
	out=$(irc --json "$@" 2>"$IRC_TMP/err"); rc=$?
	if ((rc == 0)) && [[ -n $out && $(grep -c '' <<<"$out") == 1 ]] &&
		jqx "type == \"object\" and ($f)" <<<"$out" >/dev/null; then
		ok "$name"
	else
		not_ok "$name (exit $rc)"
		sed 's/^/#   /' <<<"$out" | head -3
		sed 's/^/#   stderr: /' "$IRC_TMP/err" | head -3
	fi
}

js "status (not loaded): loaded false, pin_dir, features" \
	".loaded == false and .pin_dir == \"$IRC_PIN_DIR\" and (.features | has(\"btf\", \"ringbuf\", \"boot_clock\", \"xdp\", \"lsm\", \"cgroup2\"))" status
js "load: action, pin_dir, interfaces[name, ifindex, xdp_mode, replaced, fell_back]" \
	".action == \"load\" and .pin_dir == \"$IRC_PIN_DIR\" and (.interfaces | length == 1) and (.interfaces[0] | .name == \"iv1\" and (.ifindex | type == \"number\") and (.xdp_mode == \"native\" or .xdp_mode == \"generic\") and .replaced == false and (.fell_back | type == \"boolean\"))" \
	load --iface iv1
js "status: top-level fields" \
	'[("loaded", "pin_dir", "interfaces", "isolation", "entries", "counters", "features") as $k | has($k)] | all' status
js "status: interfaces[name, ifindex, xdp_mode, xdp_attached, tc_attached]" \
	'.interfaces | length == 1 and (.[0] | .name == "iv1" and (.ifindex | type == "number") and (.xdp_mode | type == "string") and .xdp_attached == true and .tc_attached == true)' status
js "status: interface_drops[interface, ifindex, present, rx, tx per rule], 'other' last" \
	'.interface_drops | (.[0] | .interface == "iv1" and (.ifindex | type == "number") and .present == true and
		([.rx, .tx][] | keys == ["isolate", "malformed", "quarantine"])) and (.[-1] | .interface == "other" and .ifindex == 0)' status
js "status: isolation{enabled, allow_dns, allow_dhcp}" \
	'.isolation | [.enabled, .allow_dns, .allow_dhcp] == [false, false, false]' status
js "status: entries has the six counts, all 0" \
	'.entries | [.host_v4, .host_v6, .prefix_v4, .prefix_v6, .allow_v4, .allow_v6] == [0, 0, 0, 0, 0, 0]' status
js "status: counters has the eleven documented counters, all numbers" \
	'.counters as $c | ["rx_pass", "rx_allow", "rx_drop_quarantine", "rx_drop_isolate", "tx_pass", "tx_allow", "tx_drop_quarantine", "tx_drop_isolate", "non_ip", "malformed", "expired"] | map($c[.] | type == "number") | all' status
js "status: features types" \
	'.features | (.btf, .ringbuf, .boot_clock, .xdp, .lsm | type == "boolean") and (.cgroup2 == null or (.cgroup2 | type == "string"))' status

# ---- quarantine / list -----------------------------------------------------

js "quarantine: action, target, result added" \
	'.action == "quarantine" and .target == "10.77.1.2" and .result == "added"' \
	quarantine host 10.77.1.2 --reason "case 42"
js "quarantine again: result updated" '.result == "updated"' \
	quarantine host 10.77.1.2 --reason "case 42"
LIST_KEYS='["kind", "target", "family", "prefix_len", "direction", "reason", "created", "expires", "ttl_remaining", "expired", "drops", "actor", "origin"]'
js "list: entry has every documented field" \
	".entries | length == 1 and (.[0] as \$e | $LIST_KEYS | map(. as \$k | \$e | has(\$k)) | all)" list
js "list: entry values and types" \
	".entries[0] | .kind == \"host\" and .target == \"10.77.1.2\" and .family == 4 and .prefix_len == 32 and .direction == \"both\" and .reason == \"case 42\" and (.created | $ISO) and .expires == null and .ttl_remaining == null and .expired == false and .drops == 0 and .actor == \"root\" and .origin == \"operator\"" list
js "list: created is now (UTC)" \
	'.entries[0].created | fromdateiso8601 - now | fabs < 60' list
js "list: -j works too, after the command" '.entries | length == 1' list -j
out=$(nsenter --net="/run/netns/$IRC_NS_P" "$IRC_BIN" list --json 2>&1)
check "list: --json after the command is the same" jqx '.entries | length == 1' <<<"$out"

js "quarantine IPv6 prefix --ttl 10m --direction in" \
	'.target == "fd77:1::/64" and .direction == "in" and .ttl == 600' \
	quarantine host fd77:1::/64 --ttl 10m --direction in
js "list: IPv6 prefix entry with TTL" \
	".entries[] | select(.target == \"fd77:1::/64\") | .family == 6 and .prefix_len == 64 and .direction == \"in\" and (.expires | $ISO) and (.ttl_remaining | . > 590 and . <= 600) and .expired == false" list

reason='say "hi" \ back\slash, é ü 漢'
export R=$reason
js "quarantine: reason with quotes, backslashes and UTF-8" ".reason == \$ENV.R" \
	quarantine host 10.77.1.3 --reason "$reason"
js "list: the reason comes back unchanged" \
	'.entries[] | select(.target == "10.77.1.3") | .reason == $ENV.R' list
unset R

nobody=$(getent passwd 65534 | cut -d: -f1)
SUDO_UID=65534 irc --json quarantine host 10.77.1.4 >/dev/null 2>&1
js "list: actor is the sudo user ($nobody)" \
	".entries[] | select(.target == \"10.77.1.4\") | .actor == \"$nobody\"" list

js "status: entries counted" \
	'.entries.host_v4 == 3 and .entries.prefix_v6 == 1' status
js "release: action, target, result" \
	'.action == "release" and .target == "10.77.1.2" and .result == "released"' \
	release host 10.77.1.2
js "release --all: released 3" \
	'.action == "release" and .target == "all" and .released == 3' release --all
js "list: empty entries array" '.entries == []' list

# ---- allow -------------------------------------------------------------------

js "allow add: action, target, result" \
	'.action == "allow add" and .target == "10.77.1.8/29" and .result == "added"' \
	allow add 10.77.1.8/29
js "allow add again: already allowed" '.result == "already allowed"' allow add 10.77.1.8/29
js "allow list: the documented fields" \
	".entries | length == 1 and (.[0] | has(\"target\", \"always\", \"isolate_only\", \"created\", \"actor\") and .target == \"10.77.1.8/29\" and .always == true and .isolate_only == false and (.created | $ISO) and .actor == \"root\")" \
	allow list

# ---- isolate -------------------------------------------------------------------

js "isolate status: enabled, allow_dns, allow_dhcp, since" \
	'[.enabled, .allow_dns, .allow_dhcp, .since] == [false, false, false, null] and has("since")' isolate status
js "isolate on --allow-dns --allow-dhcp: the state" \
	".enabled == true and .allow_dns == true and .allow_dhcp == true and (.since | $ISO)" \
	isolate on --allow-dns --allow-dhcp --allow fd77:1::9
js "isolate status: on, since" ".enabled == true and (.since | $ISO) and has(\"allow_dns\", \"allow_dhcp\")" isolate status
js "status: isolation block follows" \
	'.isolation | [.enabled, .allow_dns, .allow_dhcp] == [true, true, true]' status
js "allow list: the --allow exemption is isolate_only" \
	'.entries[] | select(.target == "fd77:1::9") | .always == false and .isolate_only == true' allow list
js "isolate off: disabled, since null" \
	'.enabled == false and .since == null' isolate off
js "allow del: action, target, result" \
	'.action == "allow del" and .target == "10.77.1.8/29" and .result == "removed"' \
	allow del 10.77.1.8/29
js "allow list: empty" '.entries == []' allow list

# ---- unload / version ------------------------------------------------------------

js "unload: action, interfaces_detached" \
	'.action == "unload" and .interfaces_detached == 1' unload
js "version: a version string" '.version | type == "string" and length > 0' version
