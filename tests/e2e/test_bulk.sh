#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# quarantine host --from-file / release host --from-file on real traffic:
# a list of 20,000 addresses (FireHOL/Spamhaus comments, blank lines, a
# prefix, IPv6) with host 1 among them is applied in one command: host 1's
# ping stops, host 2's goes on, the maps hold every target, and one store
# record carries the count and the list's SHA-256.  A list with bad lines
# exits 2 naming each line, and applies nothing; --skip-bad applies the
# rest; stdin works; a reload restores the list from the store; release
# --from-file restores the traffic.  A host in both tiers is listed, counted
# and released once.
. "$(dirname "$0")/lib.sh"
lab_up 2 || { not_ok "lab up"; exit 1; }
check_rc "load --iface iv1 --iface iv2" 0 irc load --iface iv1 --iface iv2

L=$IRC_TMP/list.txt
{
	echo "# blocklist for the bulk test"
	echo ";; Spamhaus-style header"
	echo "10.77.1.2 ; SBL1 host 1"
	echo
	echo "fd77:1::2	# host 1, IPv6"
	echo "198.51.100.0/24 ; SBL2 a prefix"
	for ((i = 0; i < 20000; i++)); do
		echo "100.$((64 + i / 65536)).$((i / 256 % 256)).$((i % 256))"
	done
} >"$L"
SUM=$(sha256sum "$L" | cut -d' ' -f1)

check "before: ping host 1" ping4 1
check "before: ping host 2" ping4 2

# ---- bad lines: exit 2, every line named, nothing applied ---------------
B=$IRC_TMP/bad.txt
{ head -n 10 "$L"; echo "not-an-address"; echo "10.1.2.0/33 ; too long"; tail -n 5 "$L"; } >"$B"
irc quarantine host --from-file "$B" >"$IRC_TMP/out" 2>"$IRC_TMP/err"
check "bad lines: exit 2" eq "$?" 2
check "bad lines: line 11 named" grep -q "line 11: bad address 'not-an-address'" "$IRC_TMP/err"
check "bad lines: line 12 named" grep -q "line 12: bad address '10.1.2.0/33'" "$IRC_TMP/err"
check "bad lines: says nothing was applied" grep -q "nothing applied" "$IRC_TMP/err"
check "bad lines: nothing applied (no entries)" ircq '.entries.host_v4 == 0 and .entries.prefix_v4 == 0' status
check "bad lines: host 1 still pings" ping4 1

# ---- --skip-bad, from stdin ---------------------------------------------
irc --json quarantine host --from-file - --skip-bad --reason "skip test" <"$B" >"$IRC_TMP/q" 2>/dev/null
check "--skip-bad from stdin: exit 0, 2 skipped" jqx '.kind == "hosts" and .skipped == 2 and .count == 12' "$IRC_TMP/q"
check "--skip-bad: host 1 dropped" eval '! ping4 1'
check "--skip-bad: host 2 still pings" ping4 2
irc release host --from-file - <"$B" >"$IRC_TMP/r0" 2>&1
check "release --from-file - with bad lines: exit 2" eq "$?" 2
check "release with bad lines: nothing released" ircq '.entries.host_v4 == 10 and .entries.host_v6 == 1 and .entries.prefix_v4 == 1' status
irc release host --from-file - --skip-bad <"$B" >"$IRC_TMP/r0" 2>&1
check "release --from-file - --skip-bad (stdin): exit 0" eq "$?" 0
check "released: host 1 pings" ping4 1

# ---- a host in both tiers -----------------------------------------------------
# Two racing writers (one finding the front tier full, the other finding room
# after a release) can leave one host in both tiers; made here by copying
# host 2's front entry into the big map.  list and status show it once, and
# release --from-file counts it once and deletes both.
Q4F=$IRC_PIN_DIR/irc_q4_front Q4H=$IRC_PIN_DIR/irc_q4_host
check_rc "twins: quarantine host 10.77.2.2 (front tier)" 0 irc quarantine host 10.77.2.2
V=$(bpftool -j map lookup pinned "$Q4F" key 10 77 2 2 | jq -r '.value | join(" ")')
# shellcheck disable=SC2086 # one word a byte
check_rc "twins: the same entry put in the big map" 0 \
	bpftool map update pinned "$Q4H" key 10 77 2 2 value $V noexist
check "twins: list shows host 2 once" ircq \
	'[.entries[] | select(.target == "10.77.2.2")] | length == 1' list
check "twins: status counts it once" ircq '.entries.host_v4 == 1' status
echo "10.77.2.2" >"$IRC_TMP/twins.txt"
irc --json release host --from-file "$IRC_TMP/twins.txt" >"$IRC_TMP/r2"
check "twins: release --from-file: 1 released" jqx '.count == 1 and .not_quarantined == 0' \
	"$IRC_TMP/r2"
check "twins: gone from the front tier" eval "! bpftool map lookup pinned '$Q4F' key 10 77 2 2"
check "twins: gone from the big map" eval "! bpftool map lookup pinned '$Q4H' key 10 77 2 2"

# ---- the whole list ------------------------------------------------------
t0=$(date +%s%N)
irc --json quarantine host --from-file "$L" --ttl 2h --reason "bulk list" >"$IRC_TMP/q"
rc=$?
t1=$(date +%s%N)
check "list: exit 0" eq "$rc" 0
echo "# 20,003 targets in $(((t1 - t0) / 1000000)) ms"
check "list: 20003 added, sha256 of the file" jqx --arg s "$SUM" \
	'.count == 20003 and .added == 20003 and .skipped == 0 and .sha256 == $s and .ttl == 7200' "$IRC_TMP/q"
check "list: maps hold 20001 v4 hosts, 1 v6 host, 1 v4 prefix" ircq \
	'.entries.host_v4 == 20001 and .entries.host_v6 == 1 and .entries.prefix_v4 == 1' status
check "list: host 1 dropped (IPv4)" eval '! ping4 1'
check "list: host 1 dropped (IPv6)" eval '! ping6 1'
check "list: host 2 still pings" ping4 2
check "list: host 1's entry counts drops" gt "$(drops 10.77.1.2)" 0
# The front tier holds IRC_MAX_FRONT_HOSTS (16,384) v4 hosts: the rest of
# the list went to the big map, and so does a host quarantined now.
check_rc "front tier full: quarantine host 10.77.2.2 (host 2)" 0 irc quarantine host 10.77.2.2
check "front tier full: host 2 is in the big map" \
	bpftool map lookup pinned "$IRC_PIN_DIR/irc_q4_host" key 10 77 2 2
check "front tier full: the v4 flag of irc_qtier is set" sh -c \
	"bpftool -j map lookup pinned '$IRC_PIN_DIR/irc_qtier' key 0 0 0 0 | jq -e '.value == [\"0x01\",\"0x00\",\"0x00\",\"0x00\"] or .formatted.value == 1'"
check "front tier full: host 2 dropped (real traffic)" eval '! ping4 2'
check "front tier full: status counts both tiers" ircq '.entries.host_v4 == 20002' status
check_rc "front tier full: release host 10.77.2.2" 0 irc release host 10.77.2.2
check "front tier full: host 2 pings again" ping4 2
irc --json list >"$IRC_TMP/list"
check "list --json: every entry, with its TTL and reason" jqx \
	'(.entries | length) == 20003 and ([.entries[] | select(.reason == "bulk list" and .ttl_remaining > 7000)] | length) == 20003' \
	"$IRC_TMP/list"
check "store: one record with the count and the SHA-256" test "$(sqlite3 "$IRCONTAIN_STATE_DIR/ircontain.db" \
	"SELECT count(*) FROM actions WHERE type = 'quarantine' AND target = 'list:sha256:$SUM' AND body LIKE '%\"count\":20003%'")" = 1

# The store is the source of truth: a reload restores the list.
irc unload >/dev/null 2>&1
check_rc "unload + load" 0 irc load --iface iv1 --iface iv2
check "reload: the list restored from the store" ircq \
	'.entries.host_v4 == 20001 and .entries.host_v6 == 1 and .entries.prefix_v4 == 1' status
check "reload: host 1 dropped again" eval '! ping4 1'

# Again: every entry is updated, none added.
irc --json quarantine host --from-file "$L" --reason "bulk list again" >"$IRC_TMP/q2"
check "again: 20003 updated" jqx '.updated == 20003 and .added == 0' "$IRC_TMP/q2"

# ---- release --------------------------------------------------------------
irc --json release host --from-file "$L" >"$IRC_TMP/r"
check "release --from-file: 20003 released" jqx '.count == 20003 and .not_quarantined == 0' "$IRC_TMP/r"
check "released: no entries left" ircq '.entries.host_v4 == 0 and .entries.host_v6 == 0 and .entries.prefix_v4 == 0' status
check "released: host 1 pings again" ping4 1
check "released: host 1 pings again (IPv6)" ping6 1
check "store: the release record" test "$(sqlite3 "$IRCONTAIN_STATE_DIR/ircontain.db" \
	"SELECT count(*) FROM actions WHERE type = 'release' AND target = 'list:sha256:$SUM'")" = 1

# ---- usage -------------------------------------------------------------------
check_rc "--from-file with an operand: exit 2" 2 irc quarantine host 10.0.0.1 --from-file "$L"
check_rc "--from-file of a missing file: exit 2" 2 irc quarantine host --from-file "$IRC_TMP/none.txt"
lab_finish
