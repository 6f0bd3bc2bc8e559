#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# A real reboot: runs only inside the VMs of scripts/check-kernels.sh, with
# a persistent state disk and two boots (make check-reboot).  The state dir
# (/var/lib/ircontain) lives on the disk.
#   boot 1: load, quarantine host 10.99.1.2 for 2 h, 10.99.2.2 for 3 s, a
#           process; the kernel drops host 1; power off.
#   boot 2: bpffs is empty (a reboot empties it).  As ircontain-load.service
#           does, `load` runs before any interface is up; then the network
#           comes up and the very first packet of host 1 is dropped (its
#           entry counts exactly the packets sent, none passed), with the
#           2 h TTL measured on the wall clock across the reboot; host 2's
#           entry expired while the machine was down and is not restored;
#           the process quarantine is recorded as ended by the reboot; the
#           chain verifies.
set -uo pipefail
IRC=${IRC_BIN:-/irc/build/ircontain}
FAILED=0
ok() { echo "ok - $*"; }
not_ok() { echo "not ok - $*"; FAILED=1; }
check() { local n=$1; shift; if "$@" >/tmp/chk.out 2>&1; then ok "$n"; else not_ok "$n"; sed 's/^/#   /' /tmp/chk.out | tail -5; fi; }
# The init may look for the disk before virtio_blk has probed it: wait for it.
for i in $(seq 50); do [[ -b /dev/vdb ]] && break; sleep 0.2; done
[[ -z ${IRC_VM_STATE_DEV:-} && -b /dev/vdb ]] && IRC_VM_STATE_DEV=/dev/vdb
[[ -n ${IRC_VM_BOOT:-} && -b ${IRC_VM_STATE_DEV:-} ]] || {
	not_ok "no VM state disk (STATE_DISK and BOOTS=2; block devices: $(ls /sys/block | tr '\n' ' '))"; exit 1; }

export IRCONTAIN_STATE_DIR=/var/lib/ircontain IRCONTAIN_PIN_DIR=/sys/fs/bpf/ircontain
export IRCONTAIN_CGROUP_ROOT=/sys/fs/cgroup/irc-reboot
mkdir -p "$IRCONTAIN_STATE_DIR" "$IRCONTAIN_CGROUP_ROOT"
((IRC_VM_BOOT == 1)) && { mke2fs -q "$IRC_VM_STATE_DEV" || not_ok "mke2fs"; }
check "boot $IRC_VM_BOOT: state disk mounted on $IRCONTAIN_STATE_DIR" mount -t ext2 "$IRC_VM_STATE_DEV" "$IRCONTAIN_STATE_DIR"

# Two test hosts on veth pairs, links down: the network is not up yet.
for n in 1 2; do
	ip netns add "h$n"
	ip link add "vr$n" type veth peer name eth0 netns "h$n"
done
net_up() {
	local n
	for n in 1 2; do
		ip addr add "10.99.$n.1/24" dev "vr$n" && ip link set "vr$n" up
		ip netns exec "h$n" ip link set lo up
		ip netns exec "h$n" ip addr add "10.99.$n.2/24" dev eth0
		ip netns exec "h$n" ip link set eth0 up
	done
}
ping_from() { ip netns exec "h$1" ping -c1 -W2 "10.99.$1.1"; }
drops() { "$IRC" --json list | jq -r --arg t "$1" '[.entries[] | select(.target == $t) | .drops][0] // -1'; }

if ((IRC_VM_BOOT == 1)); then
	net_up
	check "boot 1: load --iface 'vr*'" "$IRC" load --iface 'vr*'
	check "boot 1: host 1 reachable before" ping_from 1
	check "boot 1: quarantine host 10.99.1.2 --ttl 2h" "$IRC" quarantine host 10.99.1.2 --ttl 2h --reason reboot-test
	check "boot 1: quarantine host 10.99.2.2 --ttl 3s" "$IRC" quarantine host 10.99.2.2 --ttl 3s
	sleep 1000 &
	echo $! >"$IRCONTAIN_CGROUP_ROOT/cgroup.procs"
	check "boot 1: quarantine pid of a sleeper" "$IRC" quarantine pid $! --reason reboot-test
	check "boot 1: host 1 dropped" sh -c "! ip netns exec h1 ping -c1 -W1 10.99.1.1"
	date +%s >"$IRCONTAIN_STATE_DIR/boot1.time"
	sleep 4	# host 2's entry expires before the reboot
else
	check "boot 2: bpffs is empty after the reboot" test ! -e "$IRCONTAIN_PIN_DIR"
	# What ircontain-load.service does, before network-pre.target.
	"$IRC" --json load --iface 'vr*' >/tmp/load.json 2>/tmp/load.err
	check "boot 2: load (before the network) exits 0" test $? -eq 0
	cat /tmp/load.json /tmp/load.err | sed 's/^/#   /'
	check "boot 2: load restored host 1, expired host 2, ended the process" jq -e \
		'.restore | .store_readable and .hosts == 1 and .expired == 1 and .processes_ended == 1 and .failed == 0' /tmp/load.json
	check "boot 2: load says the process quarantine ended by the reboot" grep -q "ended by the reboot" /tmp/load.err
	net_up
	check "boot 2: the first packet of host 1 after boot is dropped" sh -c "! ip netns exec h1 ping -c1 -W2 10.99.1.1"
	check "boot 2: the entry dropped exactly that packet (1), none passed" test "$(drops 10.99.1.2)" = 1
	check "boot 2: host 2 (expired while down) reachable" ping_from 2
	elapsed=$(($(date +%s) - $(cat "$IRCONTAIN_STATE_DIR/boot1.time")))
	left=$("$IRC" --json list | jq -r '.entries[] | select(.target == "10.99.1.2") | .ttl_remaining')
	echo "# $elapsed s of wall clock since boot 1; $left s of the 2 h left"
	check "boot 2: the TTL counts the time across the reboot (left <= 7200 - $elapsed + 1)" \
		test "$left" -le $((7200 - elapsed + 1)) -a "$left" -ge $((7200 - elapsed - 30))
	check "boot 2: the chain verifies" "$IRC" verify
	check "boot 2: restore actions on record" sh -c \
		"sqlite3 $IRCONTAIN_STATE_DIR/ircontain.db \"select count(*) from actions where actor = 'restore'\" | grep -qx 3"
fi
((IRC_VM_BOOT == 1)) || "$IRC" unload >/dev/null 2>&1
sync
umount "$IRCONTAIN_STATE_DIR"
exit $FAILED
