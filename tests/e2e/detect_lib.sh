# SPDX-License-Identifier: GPL-2.0-only
#
# Shared by the network detector tests (test_detect_net.sh,
# test_detect_spoof.sh), sourced after lib.sh: quarantine list entries and
# findings in the daemon's events file $EV.  Not a test itself.
[[ ${BASH_SOURCE[0]} == "$0" ]] && exit 0

# entry ADDR FILTER: the list entry of ADDR satisfies the jq FILTER.
entry() {
	ircq "[.entries[] | select(.target == \"$1\")] | length == 1 and (.[0] | $2)" list
}
no_entry() {
	ircq "[.entries[] | select(.target == \"$1\")] | length == 0" list
}

# evq FILTER: every complete finding line selected by FILTER, compact.
# (The file also holds every exec, fork and exit on the machine: findings
# are the only lines with event.kind "alert", so jq reads only those.)
evq() { grep -F '"kind":"alert"' "$EV" | jq -cR "fromjson? | select($1)" 2>/dev/null; }
has() { [[ -n $(evq "$1") ]]; }
# is JSON FILTER: FILTER is true of the event JSON (shows it if not).
is() {
	if [[ -z $1 ]]; then echo "no such event"; return 1; fi
	jqx "$2" <<<"$1" || { echo "$1" | cut -c1-1500; return 1; }
}
finding() { # DETECTOR SOURCE_IP: the first such finding
	evq ".event.kind == \"alert\" and .event.action == \"$1_detected\" and .source.ip == \"$2\"" |
		head -1
}


# host_detectors_off: the policy lines that turn the host detectors off
# (they watch the whole machine; test_detect_host.sh covers them).
host_detectors_off() {
	cat <<EOF
  exec_tmp: {enabled: false}
  fileless: {enabled: false}
  reverse_shell: {enabled: false}
  sensitive_read: {enabled: false}
  ptrace: {enabled: false}
  module_load: {enabled: false}
EOF
}

# detectors_off_but NAME: the policy lines that turn every detector off but
# NAME (which the caller sets).
detectors_off_but() {
	local d
	for d in portscan synflood exec_tmp fileless reverse_shell sensitive_read ptrace module_load; do
		[[ $d == "$1" ]] || echo "  $d: {enabled: false}"
	done
}
