#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Runs only inside the VMs of scripts/check-kernels.sh, as a diagnosis
# (issue 11: an "Oops: int3" in syscall_trace_enter on 6.12 under qemu TCG):
#   SUITE=none VM_SCRIPTS=tests/vm/stress_sysenter.sh QEMU_SMP=1|2
# Turns the kernel's sys_enter tracepoint on and off again and again (its
# static key is live-patched in the syscall entry path each time) while
# other processes make system calls on every CPU, first through tracefs
# (no BPF at all), then through `ircontain load`/`unload` (our
# tp/syscalls and raw_tp/sys_enter programs).  An oops panics the VM
# (panic_on_oops), so a crash ends the run without a RESULT line.
# STRESS_SECS (per phase, default 90) may come from the environment.
set -uo pipefail
cd "$(dirname "$0")/../.."
ok() { echo "ok - $*"; }
not_ok() { echo "not ok - $*"; FAILED=1; }
FAILED=0
SECS=${STRESS_SECS:-90}
IRC=${IRC_BIN:-build/ircontain}
EV=/sys/kernel/tracing/events/raw_syscalls/sys_enter/enable
# It sets panic_on_oops and loads every CPU: never on a real machine.
[[ -n ${IRC_VM_BOOT:-} && $$ != 1 && -e /vm.conf ]] ||
	{ not_ok "stress_sysenter runs only inside check-kernels' VM"; exit 1; }
echo 1 >/proc/sys/kernel/panic_on_oops

load_pids=()
start_load() {
	local i
	for ((i = 0; i < $(nproc); i++)); do
		python3 -c 'import os
while True: os.getppid()' &
		load_pids+=($!)
	done
	(while :; do cat /sys/kernel/btf/vmlinux >/dev/null; done) &
	load_pids+=($!)
}
stop_load() { kill "${load_pids[@]}" 2>/dev/null; wait "${load_pids[@]}" 2>/dev/null; load_pids=(); }
trap stop_load EXIT
# Progress into the kernel's log at level 3 (the console shows < 4): with the kernel's
# time, so a crash shows how far the stress got.
progress() { echo "<3>stress_sysenter: $*" >/dev/kmsg; }
oopses() { dmesg | grep -c 'Oops\|BUG:\|general protection'; }

echo "stress_sysenter: $(nproc) CPUs, $SECS s per phase"
start_load
n=0 t_end=$((SECONDS + SECS))
while ((SECONDS < t_end)); do
	echo 1 >"$EV" && echo 0 >"$EV" || { not_ok "toggle $EV"; break; }
	n=$((n + 1))
	((n % 20 == 0)) && progress "tracefs: $n on/off toggles"
done
echo "stress_sysenter: tracefs: $n on/off toggles in $SECS s"
(($(oopses) == 0)) && ok "tracefs: $n sys_enter on/off toggles under syscall load, no oops" ||
	not_ok "tracefs: oops after $n toggles"

ip link add irs0 type veth peer name irs1 && ip link set irs0 up && ip link set irs1 up
mkdir -p /sys/fs/cgroup/irc-stress
export IRCONTAIN_CGROUP_ROOT=/sys/fs/cgroup/irc-stress
n=0 t_end=$((SECONDS + SECS))
while ((SECONDS < t_end)); do
	"$IRC" load --iface irs0 >/tmp/stress-load.log 2>&1 || { not_ok "load"; cat /tmp/stress-load.log; break; }
	"$IRC" unload >/tmp/stress-load.log 2>&1 || { not_ok "unload"; cat /tmp/stress-load.log; break; }
	n=$((n + 1))
	progress "ircontain: $n load/unload"
done
echo "stress_sysenter: ircontain: $n load/unload in $SECS s"
(($(oopses) == 0)) && ok "ircontain: $n load/unload under syscall load, no oops" ||
	not_ok "ircontain: oops after $n load/unload"
stop_load
ip link del irs0
rmdir /sys/fs/cgroup/irc-stress
exit $FAILED
