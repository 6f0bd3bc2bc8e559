#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Containment outlives the loss of every pin (what a reboot does to bpffs):
# after `unload` and the removal of the pin dir, `load` restores from the
# evidence store every host and prefix quarantine, the allowlist, cgroup
# quarantines and isolation, with TTLs measured on the wall clock (time
# spent unloaded is taken off; an entry that expired meanwhile is not
# restored, and load says so); a process quarantine is recorded as ended;
# every restored entry is an action by "restore" and the chain verifies; a
# released entry stays released.  A store that cannot be read makes load
# fail closed (isolation on, the allowlist still passing), unless
# --fail-open.  Interfaces are given as a glob that matches only the lab's.
. "$(dirname "$0")/lib.sh"
lab_up 3 || { not_ok "lab up"; exit 1; }

PORT=7431
tcp_server $PORT || { not_ok "tcp server on the protected host"; exit 1; }

check_rc "load --iface 'iv*' (a glob)" 0 irc load --iface 'iv*'
check "the glob attached iv1, iv2 and iv3" ircq \
	'[.interfaces[] | select(.xdp_attached and .tc_attached) | .name] | sort == ["iv1","iv2","iv3"]' status

check_rc "quarantine host 10.77.1.2 --ttl 2h" 0 irc quarantine host 10.77.1.2 --ttl 2h --reason beacon
check_rc "quarantine host fd77:2::/64 --direction in" 0 irc quarantine host fd77:2::/64 --direction in --reason v6net
check_rc "quarantine host 10.77.3.2 --ttl 3s" 0 irc quarantine host 10.77.3.2 --ttl 3s --reason short
check_rc "quarantine host 10.77.2.2, then released" 0 irc quarantine host 10.77.2.2
check_rc "release host 10.77.2.2" 0 irc release host 10.77.2.2
check_rc "allow add 192.0.2.10" 0 irc allow add 192.0.2.10
mkdir -p "$IRC_CG/web" "$IRC_CG/later"
check_rc "quarantine cgroup web" 0 irc quarantine cgroup "$IRC_CG/web" --ttl 1h --reason webshell
check_rc "quarantine cgroup later" 0 irc quarantine cgroup "$IRC_CG/later" --reason later
rmdir "$IRC_CG/later"
# Two cgroups whose paths (over 256 characters) differ only past the 256th:
# one stays quarantined, one is released.  Each is restored as it was.
long=$(printf 'n%.0s' {1..120})
LONG=$IRC_CG/$long/$long
mkdir -p "$LONG/keep" "$LONG/gone"
check "the long paths are over 256 characters (${#LONG} before /keep)" gt "${#LONG}" 256
check_rc "quarantine cgroup (long path)/keep" 0 irc quarantine cgroup "$LONG/keep" --reason long
check_rc "quarantine cgroup (long path)/gone" 0 irc quarantine cgroup "$LONG/gone" --reason long
check_rc "release cgroup (long path)/gone" 0 irc release cgroup "$LONG/gone"
mkdir -p "$IRC_CG/proc"
bash -c 'echo $$ > "$0/cgroup.procs" && exec sleep 60' "$IRC_CG/proc" &
IRC_PIDS+=($!)
wait_for 2 test -s "$IRC_CG/proc/cgroup.procs"
check_rc "quarantine pid of a sleeper" 0 irc quarantine pid "$!" --reason proc
check_fail "before: ping host 1 blocked" ping4 1

# ---- the simulated reboot -----------------------------------------------
check_rc "unload" 0 irc unload
find "$IRC_PIN_DIR" -depth -mindepth 1 -delete 2>/dev/null; rmdir "$IRC_PIN_DIR" 2>/dev/null
check "every pin is gone" test ! -e "$IRC_PIN_DIR"
check "unloaded: ping host 1 flows" ping4 1
sleep 3.2
irc --json load --iface 'iv*' >"$IRC_TMP/load" 2>"$IRC_TMP/load.err"; rc=$?
check "load after the pins were lost: exit 0" eq "$rc" 0
check "load reports the restore (2 hosts, 1 allow, 2 cgroups, 1 expired, 1 pending, 1 ended)" jqx \
	'.restore | .store_readable and .hosts == 2 and .allowlist == 1 and .cgroups == 2 and .expired == 1 and .pending_cgroups == 1 and .processes_ended == 1 and .failed == 0 and .not_recorded == 0' "$IRC_TMP/load"
check "load says the 3 s entry expired while not loaded" \
	grep -q "not restored: the quarantine of host:10.77.3.2 expired" "$IRC_TMP/load.err"
check "load says the missing cgroup is applied when it appears" \
	grep -q "cgroup $IRC_CG/later does not exist yet" "$IRC_TMP/load.err"
check "restored: ping host 1 blocked from the first packet" sh -c '! ip netns exec '"${IRC_NS_PFX}h1"' ping -c1 -W1 10.77.1.1'
check_fail "restored: tcp host 1 blocked" tcp4 1 $PORT
check "restored: ping host 3 (expired) flows" ping4 3
check "restored: ping host 2 (released) flows" ping4 2
check "restored: 10.77.1.2 has its wall-clock TTL left (7200 s minus the time unloaded)" ircq \
	'.entries[] | select(.target == "10.77.1.2") | .reason == "beacon" and .ttl_remaining <= 7196 and .ttl_remaining >= 7100' list
check "restored: fd77:2::/64 inbound only, no ttl" ircq \
	'.entries[] | select(.target == "fd77:2::/64") | .direction == "in" and .ttl_remaining == null' list
check "restored: the allowlist entry" ircq '[.entries[] | select(.target == "192.0.2.10")] | length == 1' allow list
check "restored: cgroup web quarantined" ircq \
	"[.entries[] | select(.kind == \"cgroup\" and (.target | endswith(\"/web\")))] | length == 1" list
check "restored: the long-path cgroup keep, its path whole" ircq \
	"[.entries[] | select(.kind == \"cgroup\" and .target == \"$LONG/keep\")] | length == 1" list
check "restored: not the released long-path cgroup gone" ircq \
	"[.entries[] | select(.kind == \"cgroup\" and (.target | endswith(\"/gone\")))] | length == 0" list
check "the long-path restore is on record with its whole path" sh -c \
	"sqlite3 '$IRCONTAIN_STATE_DIR/ircontain.db' \"select count(*) from actions where actor = 'restore' and target = 'cgroup:$LONG/keep'\" | grep -qx 1"
check "restored: no entry for 10.77.2.2 (released) nor 10.77.3.2 (expired)" ircq \
	'[.entries[] | select(.target == "10.77.2.2" or .target == "10.77.3.2")] | length == 0' list
check "the chain verifies" irc verify
n=$(sqlite3 "$IRCONTAIN_STATE_DIR/ircontain.db" "select count(*) from actions where actor = 'restore'" 2>/dev/null)
check "every restored or ended entry is an action by 'restore' (>= 6)" gt "${n:-0}" 5
check "the ended process quarantine is recorded as such" sh -c \
	"sqlite3 '$IRCONTAIN_STATE_DIR/ircontain.db' \"select body from actions where actor = 'restore' and type = 'release'\" | grep -q ended"

# A second load (pins in place) restores nothing twice.
irc --json load --iface 'iv*' >"$IRC_TMP/load2" 2>/dev/null
check "load again: nothing restored twice, nothing expired twice" jqx \
	'.restore | .hosts == 0 and .expired == 0 and .processes_ended == 0 and .already_present >= 3' "$IRC_TMP/load2"

# The awaited cgroup: the controller applies its quarantine when it appears.
bg nsenter --net="/run/netns/$IRC_NS_P" "$IRC_BIN" run --events-file "$IRC_TMP/ev.jsonl" 2>"$IRC_TMP/run.err"
check "controller started, awaiting the cgroup" wait_for 10 grep -q "awaiting 1 cgroup" "$IRC_TMP/run.err"
mkdir "$IRC_CG/later"
check "cgroup later appears: quarantined (within 10 s)" wait_for 10 ircq \
	"[.entries[] | select(.kind == \"cgroup\" and (.target | endswith(\"/later\")))] | length == 1" list
check "... by 'restore', on record" wait_for 2 sh -c \
	"sqlite3 '$IRCONTAIN_STATE_DIR/ircontain.db' \"select count(*) from actions where actor = 'restore' and target = 'cgroup:$IRC_CG/later'\" | grep -qx 1"
kill -TERM "${IRC_PIDS[-1]}"
check "controller exits 0" wait "${IRC_PIDS[-1]}"

# ---- isolation is restored too ------------------------------------------
check_rc "release host 10.77.1.2" 0 irc release host 10.77.1.2
check_rc "isolate on --allow 10.77.2.0/24" 0 irc isolate on --allow 10.77.2.0/24
check_rc "unload" 0 irc unload
check "unloaded: ping host 1 flows" ping4 1
irc --json load --iface 'iv*' >"$IRC_TMP/load" 2>/dev/null
check "load restores isolation" jqx '.restore.isolation == true' "$IRC_TMP/load"
check "isolation restored: status says on" ircq '.isolation.enabled' status
check_fail "isolation restored: ping host 1 blocked" ping4 1
check "isolation restored: the exemption (host 2) passes" ping4 2
check_rc "isolate off" 0 irc isolate off
check "isolate off: ping host 1" ping4 1

# ---- a store that cannot be read: fail closed ---------------------------
check_rc "unload" 0 irc unload
cp "$IRCONTAIN_STATE_DIR/ircontain.db" "$IRC_TMP/db.good"
# A record edited behind ircontain's back: the store no longer verifies.
sqlite3 "$IRCONTAIN_STATE_DIR/ircontain.db" "update actions set type = 'edited' where seq = (select min(seq) from actions)"
irc --json load --iface 'iv*' >"$IRC_TMP/load" 2>"$IRC_TMP/load.err"; rc=$?
check "tampered store: load still loads (exit 0)" eq "$rc" 0
check "tampered store: load fails closed and says why" jqx \
	'.restore.store_readable == false and .restore.failed_closed and (.restore.why | test("does not verify"))' "$IRC_TMP/load"
check "tampered store: the warning names isolation and --fail-open" \
	grep -q "failing closed: isolation is ON.*--fail-open" "$IRC_TMP/load.err"
check "tampered store: isolation on" ircq '.isolation.enabled' status
check_fail "tampered store: ping host 2 blocked" ping4 2
check_rc "unload" 0 irc unload
irc --json load --iface 'iv*' --fail-open >"$IRC_TMP/load" 2>/dev/null
check "--fail-open: loads open, says why" jqx \
	'.restore.store_readable == false and .restore.failed_closed == false' "$IRC_TMP/load"
check "--fail-open: isolation off" ircq '.isolation.enabled == false' status
check "--fail-open: ping host 2" ping4 2
