#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# sensitive_read by file identity and program identity, with real
# processes and the `run` daemon writing findings (issue 14, point 4).
# The policy watches files of this test's own ($D), never the machine's:
#
#   - action kill: cat of the file, of a symlink to it and of a hard link
#     to it is killed at the open's return (137) and prints nothing; a copy
#     of cat named sshd, or named head while /usr/bin/head is allowed, is
#     killed too;
#   - the allowed program (a copy of cat at $D/bin/reader) reads it, also
#     started through a symlink; the same binary copied or hard-linked to
#     another path is killed: programs are allowed by their executable's
#     path, not their name or their bytes;
#   - a file replaced by rename (a new inode, as passwd does to
#     /etc/shadow) is matched by its directory and name, and the kernel
#     learns the new identity: a hard link made after that is matched; a
#     file new under a prefix pattern is matched by name;
#   - the controller's periodic resolve: a file replaced and hard-linked
#     away before anyone opens it by name is matched through the link
#     within one resolve period (5 s);
#   - action alert: the read succeeds and the finding names the policy's
#     path, the process and the action; an unwatched file in the same
#     directory and O_PATH opens give nothing;
#   - policy apply warns about an allowed program that does not exist.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/detect_lib.sh"
need_tools python3

EV=$IRC_TMP/events.jsonl
POL=$IRC_TMP/policy.yaml
D=$IRC_TMP/s
mkdir -p "$D/bin" "$D/x" "$D/other" "$D/keys" "$D/away"
echo "s3cret" >"$D/secret" && echo "g3cret" >"$D/gsecret" && echo plain >"$D/plain"
echo key >"$D/keys/id_old"
cp /usr/bin/cat "$D/bin/reader"
cp /usr/bin/cat "$D/x/sshd"
cp /usr/bin/cat "$D/x/head"
cp /usr/bin/cat "$D/other/reader"
ln "$D/bin/reader" "$D/other/hardreader"
ln -s "$D/bin/reader" "$D/rlink"
ln -s "$D/secret" "$D/link"
ln "$D/secret" "$D/hard"

policy() {
	cat >"$POL" <<EOF
mode: enforce
detectors:
$(detectors_off_but sensitive_read)
  sensitive_read:
    enabled: true
    severity: high
    action: $1
    files: [$D/secret, $D/gsecret, "$D/keys/id_*"]
    allowed: [/usr/bin/head, $D/bin/reader, $D/bin/absent]
EOF
	irc policy apply "$POL" >"$IRC_TMP/apply.out" 2>&1
}
cgid() { mkdir -p "$IRC_CG/$1" && stat -c %i "$IRC_CG/$1"; }
fnd() { evq ".event.action == \"sensitive_read_detected\" and .ircontain.cgroup_id == $(cgid "$1")"; }
has_fnd() { [[ -n $(fnd "$1") ]]; }
none() { sleep 0.5; [[ -z $(fnd "$1") ]] || { fnd "$1" | head -2; return 1; }; }
fnd_is() {
	local j
	j=$(fnd "$1" | head -1)
	[[ -n $j ]] || { echo "no finding"; return 1; }
	jqx "$2" <<<"$j" || { echo "$j" | cut -c1-1200; return 1; }
}
# killed NAME CG CMD...: CMD in cgroup CG is killed (137) and prints nothing.
killed() {
	local name=$1 cg=$2 rc out; shift 2
	out=$(cg_run "$cg" "$@" 2>&1); rc=$?
	if ((rc == 137)) && [[ -z $out ]]; then ok "$name: killed at the open, nothing read"; else
		not_ok "$name: exit $rc, output '${out:0:80}'"; fi
}

lab_up 1 || { not_ok "lab up"; exit 1; }
check_rc "load --iface iv1" 0 irc load --iface iv1
bg nsenter --net="/run/netns/$IRC_NS_P" "$IRC_BIN" run --events-file "$EV" \
	2>"$IRC_TMP/daemon.err"
DPID=$!
daemon_ready() { [[ $(jq -r .pid "$IRCONTAIN_STATE_DIR/run.json" 2>/dev/null) == "$DPID" ]]; }
check "run: ready" wait_for 5 daemon_ready

check "policy apply: sensitive_read, action kill" policy kill
check "apply warns: an allowed program that does not exist allows nothing" \
	grep -q "allowed program $D/bin/absent: not on this host" "$IRC_TMP/apply.out"
check "apply --json: the identities resolved, the absent program named" ircq \
	".detectors.sensitive_read.resolved | .identities >= 5 and .allowed_absent == [\"$D/bin/absent\"] and .files_unresolved == []" \
	policy apply "$POL"

# ---- kill: every path to the file, every disguise of the program -------

killed "cat FILE" k_cat cat "$D/secret"
check "finding: the policy's path, cat, kill enforced" wait_for 10 fnd_is k_cat \
	".file.path == \"$D/secret\" and .process.name == \"cat\" and .ircontain.finding.action == \"kill\" and .ircontain.finding.enforced == true"
killed "cat through a symlink" k_sym cat "$D/link"
check "finding for the symlink names the file" wait_for 10 fnd_is k_sym ".file.path == \"$D/secret\""
killed "cat through a hard link" k_hard cat "$D/hard"
killed "a copy of cat named sshd" k_sshd "$D/x/sshd" "$D/secret"
check "finding: process.name sshd" wait_for 10 fnd_is k_sshd '.process.name == "sshd"'
killed "a copy of cat named head (comm head; /usr/bin/head is allowed)" k_head "$D/x/head" "$D/secret"
check_rc "/usr/bin/head itself, allowed, reads it" 0 cg_run a_head head -c 3 "$D/secret"
killed "bash reading it by redirection" k_bash bash -c "read -r l <'$D/secret'; echo \"\$l\""
killed "through /proc/self/fd of an O_PATH descriptor" k_opath \
	python3 -c "import os; fd = os.open('$D/secret', os.O_PATH); print(open('/proc/self/fd/%d' % fd).read())"

reads() { local cg=$1; shift; cg_run "$cg" "$@" >"$IRC_TMP/$cg.out"; }
check "the allowed program by its path reads it" reads a_path "$D/bin/reader" "$D/secret"
check "  and printed it" grep -qx s3cret "$IRC_TMP/a_path.out"
check_rc "the allowed program started through a symlink reads it" 0 cg_run a_sym "$D/rlink" "$D/secret"
check "no finding for the allowed programs" eval 'none a_path && none a_head'
check "no finding for it through the symlink" none a_sym
killed "the allowed program copied to another path" k_copy "$D/other/reader" "$D/secret"
killed "the allowed program hard-linked to another path (same inode)" k_hardexe "$D/other/hardreader" "$D/secret"

check_rc "an unwatched file in the same directory" 0 cg_run n_plain cat "$D/plain"
check_rc "an O_PATH open alone (no read possible)" 0 cg_run n_opath \
	python3 -c "import os; os.close(os.open('$D/secret', os.O_PATH))"
check "no finding for either" eval 'none n_plain && none n_opath'

# ---- files replaced, new, hard-linked ---------------------------------

old=$(stat -c %i "$D/secret")
echo "n3w" >"$D/secret.new" && mv "$D/secret.new" "$D/secret"
check "the file was replaced (a new inode)" test "$(stat -c %i "$D/secret")" != "$old"
killed "cat of the replaced file (by directory and name)" k_repl cat "$D/secret"
ln "$D/secret" "$D/away/hard2"
killed "cat of a hard link made to the new file after that (identity learned)" k_learn cat "$D/away/hard2"
echo key >"$D/keys/id_new"
killed "cat of a new file under the prefix keys/id_*" k_pfx cat "$D/keys/id_new"
killed "cat of a file the prefix matched at apply" k_pfx_old cat "$D/keys/id_old"

echo "g" >"$D/gsecret.new" && mv "$D/gsecret.new" "$D/gsecret"
ln "$D/gsecret" "$D/away/g2"
# Within the controller's resolve period (5 s) the new identity is in the map.
sensid_has() {
	bpftool -j map dump pinned "$IRC_PIN_DIR/irc_sensid" |
		jq -e "[.[] | select(.formatted.key.ino == $1)] | length == 1"
}
check "a file replaced and hard-linked away, not opened by name: in the map within a resolve" \
	wait_for 8 sensid_has "$(stat -c %i "$D/gsecret")"
killed "  and cat of that hard link is killed" k_resolve cat "$D/away/g2"

# ---- alert ---------------------------------------------------------------

check "policy apply: action alert" policy alert
check "alert: cat reads the file" reads al_cat cat "$D/secret"
check "  and printed it" grep -qx n3w "$IRC_TMP/al_cat.out"
check "alert finding: path, process, action alert, severity high" wait_for 10 fnd_is al_cat \
	".file.path == \"$D/secret\" and .process.name == \"cat\" and .ircontain.finding.action == \"alert\" and .ircontain.finding.severity == \"high\""

lab_finish
