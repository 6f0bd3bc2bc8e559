# SPDX-License-Identifier: GPL-2.0-only
#
# Shared by the process-quarantine tests (test_process.sh, test_proc_*.sh),
# sourced after lib.sh.  Not a test itself: not executable, and it does
# nothing when run.
#
# Every process these tests start runs in a cgroup under $IRC_CG (where the
# process hooks are attached) and in the protected host's network
# namespace.  spawn records the PID of the program itself (bash and
# `ip netns exec` both exec), so it can be quarantined, signalled and
# waited for; lab_cleanup kills it at the latest, cg_cleanup anything left
# in the cgroups.
[[ ${BASH_SOURCE[0]} == "$0" ]] && exit 0

PEER=${IRC_PEER:-$(dirname "$IRC_BIN")/tests/helpers/irc_peer}
H1=10.77.1.2
H1_6=fd77:1::2
PORT=7401	# the TCP echo server on host 1, IPv4 and IPv6

# proc_lab_up: lab with 1 test host, ircontain loaded on iv1 with the
# process hooks in $IRC_CG, an echo server on the host.
proc_lab_up() {
	if [[ ! -x $PEER ]]; then
		not_ok "helper $PEER not built (make tests)"
		return 1
	fi
	lab_up 1 || { not_ok "lab up"; return 1; }
	if ! irc load --iface iv1 >"$IRC_TMP/load.out" 2>&1; then
		not_ok "load --iface iv1"
		sed 's/^/#   /' "$IRC_TMP/load.out"
		return 1
	fi
	ok "load --iface iv1"
	check "status: process hooks attached at the test cgroup" hooks_at_cg
	bg ip netns exec "${IRC_NS_PFX}h1" socat \
		"TCP6-LISTEN:$PORT,fork,reuseaddr,ipv6only=0" EXEC:cat
	wait_for 5 in_h 1 sh -c "ss -Htln sport = :$PORT | grep -q ." ||
		{ not_ok "echo server on host 1"; return 1; }
	check "before: a process in the test cgroup reaches host 1 (v4)" says ok pc app connect "$H1" "$PORT"
	check "before: a process in the test cgroup reaches host 1 (v6)" says ok pc app connect "$H1_6" "$PORT"
}

hooks_at_cg() { ircq ".process_hooks.cgroup_root == \"$IRC_CG\" and .process_hooks.links > 0" status; }

# says WANT CMD...: CMD's output is exactly WANT.
says() {
	local want=$1 out
	shift
	out=$("$@" 2>&1)
	eq "$out" "$want"
}

# spawn CG FILE CMD...: CMD in the background, in cgroup $IRC_CG/CG and the
# protected host's netns, output to FILE; SPAWNED = its PID.
spawn() {
	local cg=$IRC_CG/$1 f=$2
	shift 2
	mkdir -p "$cg"
	bash -c 'echo $$ > "$0/cgroup.procs" && exec "$@"' "$cg" \
		ip netns exec "$IRC_NS_P" "$@" >"$f" 2>&1 &
	SPAWNED=$!
	IRC_PIDS+=("$SPAWNED")
}

# pc CG ARGS...: irc_peer ARGS in cgroup $IRC_CG/CG and the protected netns.
pc() {
	local cg=$1
	shift
	cg_run "$cg" ip netns exec "$IRC_NS_P" "$PEER" "$@"
}

# pcs CG "ARGS" ...: several one-shot irc_peer runs; their results, spaced.
pcs() {
	local cg=$1 a out=()
	shift
	for a in "$@"; do
		# shellcheck disable=SC2086 # ARGS is split on purpose
		out+=("$(pc "$cg" $a 2>&1)")
	done
	echo "${out[*]}"
}

# irc_timed FILE ARGS...: the CLI, its start and end times (ms) in FILE.
irc_timed() {
	local f=$1
	shift
	nsenter --net="/run/netns/$IRC_NS_P" "$PEER" timed "$f" "$IRC_BIN" "$@"
}

# irc_slow_kill ARGS...: the CLI with each kill() it makes held for 300 ms
# before it returns (strace fault injection): the order of its steps is
# the same, the gaps between them are wider.  (No LeakSanitizer under
# ptrace: off here, for sanitizer builds.)
irc_slow_kill() {
	ASAN_OPTIONS="$ASAN_OPTIONS:detect_leaks=0" \
	nsenter --net="/run/netns/$IRC_NS_P" strace -f -o /dev/null \
		-e trace=kill -e inject=kill:delay_exit=300000 "$IRC_BIN" "$@"
}

# hold_start CG FILE: a client holding a connection to host 1, a line
# every 20 ms, for 60 s at most (hold_stop ends it); true once it has had
# 3 echoes.
hold_start() {
	spawn "$1" "$2" "$PEER" hold "$H1" "$PORT" 20 60
	wait_for 3 grep -q '^echo 3 ' "$2"
}

# hold_stop PID T1: ends holder PID (SIGUSR2: it prints "done") once
# 1.1 s have passed since T1, and reaps it.
hold_stop() {
	local wait_ms=$(($2 + 1100 - $("$PEER" now)))
	((wait_ms > 0)) && sleep "$((wait_ms / 1000)).$(printf %03d $((wait_ms % 1000)))"
	kill -USR2 "$1"
	wait "$1"
}

# hold_cut FILE T0 T1: the connection held (FILE, hold output) carried
# data until the command that ran from T0 to T1 started, and none from
# 100 ms after it returned: an echo arrived in [T0 - 500, T1]; no line
# sent after T1 was ever echoed; no echo at all arrived after T1 + 100;
# and the connection was tried after T1 (3 lines or more sent after T1,
# none echoed), the holder going on for a second or more.
hold_cut() {
	awk -v t0="$2" -v t1="$3" '
		$1 == "echo" && $3 >= t0 - 500 && $3 <= t1 { live++ }
		$1 == "echo" && $4 > t1 { if (after++ < 10) a = a " " $2 }
		$1 == "echo" && $3 > t1 + 100 { if (late++ < 10) l = l " " $2 "@" $3 - t1 }
		$1 == "stalled" && $3 > t1 { probed++ }
		$1 == "done" { done = $4 }
		$1 == "error" { err = $0 }
		END {
			ok = live && !after && !late && probed >= 3 && done >= t1 + 1000 && err == ""
			if (!ok) {
				printf "command %d..%d ms (%d ms); echoes just before: %d\n", t0, t1, t1 - t0, live
				printf "echoes of lines sent after it returned: %d%s\n", after, a
				printf "echoes arriving > 100 ms after it returned: %d%s\n", late, l
				printf "lines sent after it, never echoed: %d; done at %+d ms %s\n", probed, done - t1, err
			}
			exit !ok
		}' "$1" || { sed 's/^/  /' "$1" | tail -40; return 1; }
}

# hold_note FILE T0 T1: one "#" line on the timing of a cut.
hold_note() {
	awk -v t0="$2" -v t1="$3" '
		$1 == "echo" { last = $3 }
		$1 == "stalled" && first == "" && $3 > t0 { first = $3 }
		END {
			printf "#   command took %d ms; last echo %+d ms after it returned; first line not echoed sent %+d ms after\n", t1 - t0, last - t1, first - t1
		}' "$1"
}

# hold_alive FILE T1: the connection (FILE, hold output) carried data all
# along: every line but the last was echoed, some sent over a second after
# T1.
hold_alive() {
	awk -v t1="$2" '
		$1 == "echo" && $4 > t1 + 1000 { after++ }
		$1 == "done" { sent = $2; echoed = $3 }
		$1 == "error" { err = $0 }
		END {
			ok = sent > 0 && echoed >= sent - 1 && after > 0 && err == ""
			if (!ok)
				printf "sent %d echoed %d, echoes of lines sent > 1 s after the command %d %s\n", sent, echoed, after, err
			exit !ok
		}' "$1"
}

# probe_start CG FILE MAX_S [--children N] [--thread] OP...: a probe;
# PROBE = its PID; true once it and its children are ready.
probe_start() {
	local cg=$1 f=$2 kids=0
	shift 2
	[[ ${2:-} == --children ]] && kids=$3
	spawn "$cg" "$f" "$PEER" probe "$@"
	# shellcheck disable=SC2034 # for the caller
	PROBE=$SPAWNED
	wait_for 5 ready_ge "$f" $((kids + 1))
}
ready_ge() { (($(grep -c '^ready ' "$1") >= $2)); }

# child_of FILE: the PID of the (first) child of the probe writing FILE.
child_of() { awk '$1 == "ready" && $3 == "child" { print $2; exit }' "$1"; }

# lines_ge FILE PID N: probe PID has written N result lines or more.
lines_ge() { (($(grep -c "^$2 " "$1") >= $3)); }

# fire FILE PID NOPS: SIGUSR1 to probe process PID; waits (5 s at most)
# for its NOPS results.
# No new result in time is a failure of its own: res would otherwise
# hand back the previous one.
fire() {
	local n0
	n0=$(grep -c "^$2 " "$1")
	kill -USR1 "$2" && wait_for 5 lines_ge "$1" "$2" $((n0 + $3)) && return 0
	not_ok "probe $2: no new result in 5 s"
	return 1
}

# res FILE PID OP: the latest result of OP by probe process PID.
res() { awk -v p="$2" -v o="$3" '$1 == p && $2 == o { r = $3 } END { print r }' "$1"; }

# state_of PID: STATE = its state letter (/proc/PID/stat), or "gone".
# No subshell, no fork: cheap enough for trees of hundreds.
state_of() {
	local l
	if ! { read -r l <"/proc/$1/stat"; } 2>/dev/null; then
		STATE=gone
		return
	fi
	l=${l##*) }
	STATE=${l%% *}
}
state() { state_of "$1"; echo "$STATE"; }
state_is() { state_of "$1"; [[ $STATE == "$2" ]]; }
state_not() { state_of "$1"; [[ $STATE != "$2" ]]; }
# dead PID: exited (gone, or a zombie not reaped yet).
dead() { state_of "$1"; [[ $STATE == gone || $STATE == Z ]]; }

# held PID: stopped by --action stop, which freezes (cgroup v2 freezer): in
# a freeze cgroup of ircontain that reports "frozen 1".  A frozen process
# sleeps (state S), it is not in state T.  No fork: cheap for big trees.
held() {
	local l cg=
	{ while read -r l; do [[ $l == 0::* ]] && cg=${l#0::}; done <"/proc/$1/cgroup"; } 2>/dev/null
	[[ $cg == */ircontain.stop.* ]] || return 1
	{ while read -r l; do [[ $l == "frozen 1" ]] && return 0; done <"$IRC_CG2$cg/cgroup.events"; } 2>/dev/null
	return 1
}
# all_held PID...: every PID is held.  all_free PID...: none is held or
# stopped (state T).  Both name the ones that are not.
all_held() {
	local p bad=()
	for p; do held "$p" || bad+=("$p"); done
	((${#bad[@]} == 0)) || { echo "${#bad[@]} not frozen: ${bad[*]:0:10}"; return 1; }
}
all_free() {
	local p bad=()
	for p; do
		state_of "$p"
		if held "$p" || [[ $STATE == T ]]; then bad+=("$p:$STATE"); fi
	done
	((${#bad[@]} == 0)) || { echo "${#bad[@]} still held: ${bad[*]:0:10}"; return 1; }
}

# all_results WANT FILE OP PID...: the latest result of OP is WANT for
# every probe process PID; says how many got what otherwise.
all_results() {
	local want=$1 f=$2 op=$3 p r nbad=0 got=()
	shift 3
	for p; do
		r=$(res "$f" "$p" "$op")
		got+=("${r:-none}")
		[[ $r == "$want" ]] || nbad=$((nbad + 1))
	done
	((nbad == 0)) && return 0
	echo "$nbad of $# did not get $want: $(printf '%s\n' "${got[@]}" | sort | uniq -c | tr -s ' \n' ' ')"
	return 1
}
