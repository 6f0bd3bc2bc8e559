#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Fail closed, never open.  One part per failure mode:
#   - a program the verifier refuses (the test build's injected rejection,
#     IRCONTAIN_TEST_REJECT, in build/tests/helpers/ircontain-fault only):
#     a core program fails the whole load, the error names the program and
#     the verifier's words, and nothing is left: no pin, no link, no XDP or
#     tc program, no cgroup hook; `status` says not loaded and `quarantine`
#     refuses.  A reload that fails leaves the working load enforcing.
#     An optional program is left out with a warning naming what is not
#     seen; `status` exits 3 and --json names the capability; containment
#     still works.
#   - an interface that vanished: `quarantine host`, `isolate on` and
#     `allow add` refuse with "not enforced", `status` exits 3, the
#     controller does not start.
#   - no cgroup v2 (a mount namespace without it): the network core loads
#     with a warning, `status` exits 3 (process_quarantine missing) and
#     `quarantine pid|cgroup` refuse with "not enforced".
. "$(dirname "$0")/lib.sh"

FAULT=${IRC_FAULT_BIN:-$(dirname "$IRC_BIN")/tests/helpers/ircontain-fault}
if [[ ! -x $FAULT ]]; then
	not_ok "test build $FAULT missing (make tests)"
	exit 1
fi
lab_up 2 || { not_ok "lab setup"; exit 1; }

# fault REJECT ARGS...: the test build, refusing the programs named in REJECT.
fault() {
	local rej=$1; shift
	nsenter --net="/run/netns/$IRC_NS_P" env IRCONTAIN_TEST_REJECT="$rej" "$FAULT" "$@"
}
# run_rc NAME RC CMD...: check_rc, keeping CMD's output for out_has and jq.
run_rc() { check_rc "$@"; cp "$IRC_TMP/out" "$IRC_TMP/last"; }
out_has() { grep -qF -- "$1" "$IRC_TMP/last"; }
no_pins() { [[ ! -e $IRC_PIN_DIR ]] || [[ -z $(find "$IRC_PIN_DIR" -mindepth 1 -print -quit) ]]; }
no_xdp() { ! in_p ip -d link show "$1" | grep -q 'prog/xdp'; }
no_tc() { [[ -z $(in_p tc filter show dev "$1" egress 2>/dev/null) ]]; }
no_cg_hooks() { [[ -z $(bpftool cgroup show "$IRC_CG" 2>/dev/null | tail -n +2) ]]; }
nothing_left() { no_pins && no_xdp iv1 && no_tc iv1 && no_cg_hooks; }
dropped() { ! ping4 "$1"; }

# ---- a core program refused: the whole load fails, nothing is left ------
for p in irc_xdp_ingress irc_tc_egress irc_connect4 irc_skb_egress irc_fork; do
	run_rc "core $p refused: load exits 1" 1 fault "$p" load --iface iv1
	check "core $p refused: the error names $p and the verifier's message" \
		eval 'out_has "program $p" && out_has "last insn is not an exit or jmp"'
	check "core $p refused: no pin, no XDP or tc program, no cgroup hook left" nothing_left
done
check "after the refusals: status says not loaded" eval \
	'irc status | grep -q "not loaded"'
run_rc "after the refusals: quarantine host refuses (not loaded)" 1 \
	irc quarantine host 10.77.1.2
check "after the refusals: host 1 still reaches the protected host" ping4 1

# ---- a reload that fails leaves the working load enforcing --------------
run_rc "load" 0 irc load --iface iv1
run_rc "quarantine host 10.77.1.2" 0 irc quarantine host 10.77.1.2
check "host 1 dropped" dropped 1
run_rc "reload with irc_xdp_ingress refused: exits 1" 1 fault irc_xdp_ingress load --iface iv1
check "reload refused: the error names irc_xdp_ingress" out_has "program irc_xdp_ingress"
run_rc "after the failed reload: status exits 0" 0 irc status
check "after the failed reload: host 1 still dropped" dropped 1
run_rc "unload" 0 irc unload
check "unloaded: host 1 reaches the protected host" ping4 1

# ---- an optional program refused: left out, status degraded ------------
run_rc "optional irc_openat refused: load exits 0" 0 fault irc_openat load --iface iv1
check "the warning names irc_openat and what is not seen" \
	eval 'out_has "irc_openat" && out_has "sensitive_read"'
run_rc "status exits 3 (degraded)" 3 irc status
check "status names the missing part" out_has "missing: sensitive_read"
run_rc "status --json exits 3" 3 irc --json status
check "status --json: degraded, sensitive_read missing, nothing else" jq -e \
	'.degraded == true and ([.missing[].capability] == ["sensitive_read"]) and .missing[0].program == "irc_openat"' \
	"$IRC_TMP/last"
run_rc "quarantine host still enforced" 0 irc quarantine host 10.77.1.2
check "host 1 dropped" dropped 1
run_rc "release host" 0 irc release host 10.77.1.2
run_rc "a full load again attaches the part" 0 irc load --iface iv1
run_rc "status exits 0" 0 irc status
run_rc "unload" 0 irc unload

# ---- an interface that vanished -------------------------------------------
run_rc "load on iv1" 0 irc load --iface iv1
in_p ip link del iv1
run_rc "iv1 deleted: status exits 3" 3 irc --json status
check "status --json names interface:iv1 as missing" jq -e \
	'.degraded and ([.missing[].capability] | index("interface:iv1")) != null' "$IRC_TMP/last"
run_rc "quarantine host refuses" 1 irc quarantine host 10.77.2.2
check "quarantine host: not enforced, iv1 gone" eval 'out_has "not enforced" && out_has "iv1: interface gone"'
run_rc "isolate on refuses" 1 irc isolate on --force
check "isolate on: not enforced" out_has "not enforced"
run_rc "allow add refuses" 1 irc allow add 10.77.2.2
check "allow add: not enforced" out_has "not enforced"
run_rc "status --json" 3 irc --json status
check "nothing was put in the maps: no host quarantined, none allowed" jq -e \
	'.entries.host_v4 == 0 and .entries.allow_v4 == 0 and .isolation.enabled == false' "$IRC_TMP/last"
run_rc "the controller does not start" 1 timeout 20 nsenter --net="/run/netns/$IRC_NS_P" "$IRC_BIN" run
check "controller: not enforced" out_has "not enforced"
run_rc "unload" 0 irc unload

# ---- no cgroup v2 -----------------------------------------------------------
# A private mount namespace without the cgroup2 mount: only this command sees it.
nocg() {
	unshare -m --propagation private bash -c '
		awk '\''$9 == "cgroup2" { print $5 }'\'' /proc/self/mountinfo | sort -r |
			while read -r m; do umount -l "$m" || exit 1; done
		exec nsenter --net="/run/netns/$0" env -u IRCONTAIN_CGROUP_ROOT "$@"' \
		"$IRC_NS_P" "$IRC_BIN" "$@"
}
run_rc "no cgroup v2: load exits 0 (the network core)" 0 nocg load --iface iv2
check "no cgroup v2: load warns that process quarantine is unavailable" out_has "no cgroup v2"
run_rc "no cgroup v2: status exits 3" 3 irc --json status
check "status --json: process_quarantine missing" jq -e \
	'.degraded and ([.missing[].capability] | index("process_quarantine")) != null' "$IRC_TMP/last"
bg cg_run nocg sleep 30
wait_for 5 test -s "$IRC_CG/nocg/cgroup.procs"
SPID=$(head -1 "$IRC_CG/nocg/cgroup.procs")
run_rc "quarantine pid refuses" 1 irc quarantine pid "$SPID"
check "quarantine pid: not enforced" out_has "not enforced"
run_rc "quarantine cgroup refuses" 1 irc quarantine cgroup "$IRC_CG/nocg"
check "quarantine cgroup: not enforced" out_has "not enforced"
run_rc "quarantine host works on iv2" 0 irc quarantine host 10.77.2.2
check "host 2 dropped" dropped 2
run_rc "unload" 0 irc unload
