#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# A full table is never a silent failure: with the IPv4 prefix table at its
# 65,536 live entries, `quarantine host` of a prefix exits 1 naming the
# table and its size and changes nothing; once some of those entries have
# expired, the same command sweeps them out and succeeds (and the traffic is
# dropped); a full allowlist (4,096) is named the same way.  The entries
# are written straight into the pinned maps by tests/e2e/helpers/irc_fill.
. "$(dirname "$0")/lib.sh"
lab_up 1 || { not_ok "lab up"; exit 1; }

FILL=${IRC_FILL:-$(dirname "$IRC_BIN")/tests/helpers/irc_fill}
[[ $FILL == */asan/* ]] || FILL=$IRC_ROOT/build/tests/helpers/irc_fill
check "irc_fill helper built" test -x "$FILL"
check_rc "load --iface iv1" 0 irc load --iface iv1

out=$("$FILL" q4pfx "$IRC_PIN_DIR/irc_q4_pfx" 65536 live 0)
check "65536 live prefixes written" eq "$out" 65536
check "one more does not fit (the kernel refuses)" sh -c \
	"'$FILL' q4pfx '$IRC_PIN_DIR/irc_q4_pfx' 1 live 70000 | grep -qE 'E2BIG|ENOSPC'"
irc quarantine host 10.77.1.0/24 >"$IRC_TMP/o" 2>"$IRC_TMP/e"; rc=$?
check "full table: quarantine host 10.77.1.0/24 exits 1" eq "$rc" 1
check "full table: the error names the table and its size" \
	grep -q "the irc_q4_pfx table is full (65536 entries, none expired); release entries first" "$IRC_TMP/e"
check "full table: nothing changed (no entry for 10.77.1.0/24)" ircq \
	'[.entries[] | select(.target == "10.77.1.0/24")] | length == 0' list
check "full table: host 1 still reachable" ping4 1
check "full table: the failure is on record" sh -c \
	"sqlite3 '$IRCONTAIN_STATE_DIR/ircontain.db' \"select body from actions where type = 'quarantine' and target = 'host:10.77.1.0/24'\" | grep -q 'No space left'"

# 16 of them expire (rewritten with an expiry in the past).
out=$("$FILL" q4pfx "$IRC_PIN_DIR/irc_q4_pfx" 16 expired 0)
check "16 entries now expired" eq "$out" 16
check_rc "with expired entries: the same quarantine sweeps them and succeeds" 0 \
	irc quarantine host 10.77.1.0/24 --reason full
check "swept: 65536 - 16 + 1 prefixes" ircq '.entries.prefix_v4 == 65521' status
check_fail "swept: host 1 dropped" ping4 1

# The allowlist has no TTL: full is full, and said so.
out=$("$FILL" allow4 "$IRC_PIN_DIR/irc_allow4" 4096)
check "4096 allowlist entries written" eq "$out" 4096
irc allow add 192.0.2.10 >/dev/null 2>"$IRC_TMP/e"; rc=$?
check "full allowlist: allow add exits 1" eq "$rc" 1
check "full allowlist: the error names irc_allow4 and 4096" \
	grep -q "the irc_allow4 table is full (4096 entries)" "$IRC_TMP/e"
