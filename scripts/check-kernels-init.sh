#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# /init of the VMs of scripts/check-kernels.sh (not for use on a machine):
# mounts what the tests need, loads the kernel's modules, then on the first
# boot runs the suite and counts it:
#   features  ircontain --json status "features", and what status finds
#             missing after a load (the degradations of this kernel)
#   smoke     load / status / quarantine / list / unload on a veth
#   bpf       every build/tests/bpf program (cmocka)
#   e2e       the tests/e2e scripts named in /vm.conf, with CI=true
# and, on every boot, the VM_SCRIPTS.  The last line on the console is
#   === RESULT boot=N smoke=P/F bpf=P/F e2e=P/F scripts=P/F degraded=CAPS|none
# Full logs go to the first virtio disk as a tar; the host unpacks them.
export PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root TERM=dumb LANG=C.UTF-8 CI=true
# TCG is several times slower than the machine the tests' waits are made for.
export IRC_WAIT_SCALE=3
export IRCONTAIN_PIN_DIR=/sys/fs/bpf/ircontain IRCONTAIN_STATE_DIR=/var/lib/ircontain
. /vm.conf
SUITE=${SUITE:-full}

mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mkdir -p /dev/pts /dev/shm && mount -t devpts devpts /dev/pts && mount -t tmpfs tmpfs /dev/shm
mount -t tmpfs tmpfs /run
mount -t tmpfs tmpfs /tmp
mkdir -p /run/netns
mount -t bpf bpf /sys/fs/bpf
mount -t tracefs tracefs /sys/kernel/tracing
mount -t debugfs debugfs /sys/kernel/debug 2>/dev/null
mount -t cgroup2 cgroup2 /sys/fs/cgroup
mount -t securityfs securityfs /sys/kernel/security 2>/dev/null
mkdir -p /var/lib/ircontain /out
hostname vm
ln -sf /proc/self/fd /dev/fd 2>/dev/null
echo /sbin/modprobe >/proc/sys/kernel/modprobe

BOOT=$(sed -n 's/.*irc\.boot=\([0-9]*\).*/\1/p' /proc/cmdline)
export IRC_VM_BOOT=${BOOT:-1}

say() { echo "=== $*"; }
uptime_s() { cut -d' ' -f1 /proc/uptime; }
since() { awk -v a="$1" -v b="$(uptime_s)" 'BEGIN { printf "%.0f", b - a }'; }
t_start=$(uptime_s)

say "kernel $(uname -r), boot $IRC_VM_BOOT of $BOOTS, $(nproc) CPUs, $(awk '/MemTotal/ { print int($2 / 1024) }' /proc/meminfo) MiB"
while read -r ko; do
	insmod "$ko" 2>/dev/null || say "insmod $ko failed"
done </modules.list
say "modules: $(cut -d' ' -f1 /proc/modules | tr '\n' ' ')"
# A persistent state disk, when the host gave one (STATE_DISK): only there
# once virtio_blk is loaded and has probed it.
[[ -n ${STATE_DISK:-} ]] && for i in $(seq 25); do [[ -b /dev/vdb ]] && break; sleep 0.2; done
[[ -b /dev/vdb ]] && export IRC_VM_STATE_DEV=/dev/vdb
ip link set lo up

SP=0 SF=0 BP=0 BF=0 EP=0 EF=0 XP=0 XF=0 DEG=none

# smoke NAME CMD...: one counted check; the output goes to the log.
smoke() {
	local name=$1 rc; shift
	"$@" >/tmp/smoke.out 2>&1; rc=$?
	sed 's/^/    /' /tmp/smoke.out
	if ((rc == 0)); then SP=$((SP + 1)); echo "ok - $name"; else
		SF=$((SF + 1)); echo "not ok - $name (exit $rc)"; fi
}
listed() { ircontain list | grep -q 192.0.2.99; }
no_pins() { [[ ! -e $IRCONTAIN_PIN_DIR ]]; }

run_suite() {
	local t p f rc ts
	ip link add veth0 type veth peer name veth1 && ip link set veth0 up && ip link set veth1 up
	mkdir -p /sys/fs/cgroup/irc-vm
	export IRCONTAIN_CGROUP_ROOT=/sys/fs/cgroup/irc-vm

	say "--- features"
	say "features $(ircontain --json status | jq -c .features)"
	say "--- smoke: load, status, quarantine, list, unload on veth0"
	smoke "load --iface veth0" ircontain load --iface veth0
	ircontain --json status >/out/status.json
	DEG=$(jq -r '[.missing[]?.capability] | if length == 0 then "none" else join(",") end' /out/status.json)
	say "missing after load: $DEG"
	smoke "status exits 0: nothing missing on this kernel" ircontain status
	smoke "quarantine host 192.0.2.99" ircontain quarantine host 192.0.2.99
	smoke "list shows it" listed
	smoke "XDP attached on veth0" sh -c 'ip -d link show veth0 | grep -q prog/xdp'
	smoke "tc egress filter on veth0" sh -c 'tc filter show dev veth0 egress | grep -q bpf'
	smoke "unload" ircontain unload
	smoke "no pins left" no_pins
	unset IRCONTAIN_CGROUP_ROOT
	rmdir /sys/fs/cgroup/irc-vm
	ip link del veth0

	say "--- tests/bpf"
	for t in /irc/build/tests/bpf/test_*; do
		ts=$(uptime_s)
		"$t" >/tmp/t.log 2>&1; rc=$?
		cp /tmp/t.log "/out/bpf-${t##*/}.log"
		p=$(grep -c '^\[       OK \]' /tmp/t.log)
		f=$(grep -c '^\[  FAILED  \] [^0-9]' /tmp/t.log)
		s=$(grep -c '^\[  SKIPPED \] [^0-9]' /tmp/t.log)
		((rc != 0 && f == 0)) && f=1
		f=$((f + s))	# nothing may skip here
		grep '^\[  FAILED  \] [^0-9]\|^\[  SKIPPED \] [^0-9]' /tmp/t.log
		BP=$((BP + p)) BF=$((BF + f))
		say "bpf ${t##*/}: $p passed, $f failed, $(since "$ts") s"
	done

	say "--- e2e"
	for t in $E2E; do
		ts=$(uptime_s)
		in_group "tests/e2e/$t.sh" >/tmp/e.log 2>&1
		rc=$?
		cp /tmp/e.log "/out/e2e-$t.log"
		p=$(grep -c '^ok - ' /tmp/e.log)
		f=$(grep -c '^not ok - ' /tmp/e.log)
		s=$(grep -c '^skip - ' /tmp/e.log)
		((rc != 0 && f == 0)) && f=1
		((p == 0 && f == 0)) && f=1	# a script that checked nothing did not pass
		f=$((f + s))
		grep -A4 '^not ok - \|^skip - ' /tmp/e.log | head -40
		EP=$((EP + p)) EF=$((EF + f))
		say "e2e $t: $p passed, $f failed, $(since "$ts") s"
	done
}

# in_group SCRIPT: runs a test script as a machine would, its process group
# (timeout's) with a parent outside it that is not PID 1 and lives as long as
# it does.  A subshell whose last command is timeout execs it, leaving PID 1
# as timeout's parent: the kernel counts no connection through init, so the
# group is orphaned from the start, and the first exit that re-parents one
# of its members while the tests hold processes stopped (quarantine pid
# --action stop) makes the kernel send the whole group SIGHUP and SIGCONT,
# the test script included.  The "exit" after timeout keeps the subshell.
in_group() {
	(cd /irc && IRC_BIN=/irc/build/ircontain timeout 900 bash "$1"; exit $?)
}

((IRC_VM_BOOT == 1)) && [[ $SUITE == full ]] && run_suite
for s in $VM_SCRIPTS; do
	ts=$(uptime_s)
	in_group "$s" >/tmp/x.log 2>&1
	rc=$?
	cp /tmp/x.log "/out/script-boot$IRC_VM_BOOT-${s//\//_}.log"
	cat /tmp/x.log
	p=$(grep -c '^ok - ' /tmp/x.log)
	f=$(grep -c '^not ok - ' /tmp/x.log)
	((rc != 0 && f == 0)) && f=1
	((p == 0 && f == 0)) && f=1
	XP=$((XP + p)) XF=$((XF + f))
	say "script $s (boot $IRC_VM_BOOT): $p passed, $f failed, $(since "$ts") s"
done

dmesg >/out/dmesg.log
say "RESULT boot=$IRC_VM_BOOT smoke=$SP/$SF bpf=$BP/$BF e2e=$EP/$EF scripts=$XP/$XF degraded=$DEG in-vm=$(since "$t_start")s"
(cd /out && tar cf /dev/vda .) && sync
poweroff -f
