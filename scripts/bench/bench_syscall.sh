#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Cost of the process hooks per syscall: the same program inside the
# hooked cgroup (hooks and, in enforce mode, every detector run) and in a
# sibling cgroup outside it (only the global tracepoints run), with
# ircontain loaded in a lab of its own.  Prints a table; not a test.
. "$(dirname "$0")/../../tests/e2e/lib.sh"
B=$(dirname "$IRC_BIN")/bench/bench_syscall
lab_up 1 >/dev/null || exit 1
base=$("$B" "not loaded")
irc load --iface iv1 >/dev/null 2>&1 || exit 1
sed 's/^mode: monitor/mode: enforce/' "$IRC_ROOT/docs/policy.yaml" >"$IRC_TMP/p.yaml"
irc policy apply "$IRC_TMP/p.yaml" >/dev/null
mkdir -p "$IRC_CG2/irc-bench-out-$$"
inside=$(cg_run in "$B" "inside the hooked cgroup")
outside=$(bash -c 'echo $$ > "$0/cgroup.procs" && exec "$@"' "$IRC_CG2/irc-bench-out-$$" "$B" "outside it (loaded)")
rmdir "$IRC_CG2/irc-bench-out-$$"
echo "| where | socket()+close() ns | UDP connect() ns | openat()+close() ns | getppid() ns |"
echo "|---|---:|---:|---:|---:|"
for l in "$base" "$outside" "$inside"; do
	set -- $l
	n=$#; g=${!n}; o=${@:n-1:1}; c=${@:n-2:1}; s=${@:n-3:1}
	echo "| ${l% * * * *} | $s | $c | $o | $g |"
done
