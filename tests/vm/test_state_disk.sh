#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Runs only inside the VMs of scripts/check-kernels.sh, as an example of a
# test that spans reboots (STATE_DISK=img BOOTS=2 VM_SCRIPTS=tests/vm/...):
# boot 1 makes a filesystem on the persistent disk and leaves a file there,
# boot 2 finds it.  A real-reboot test of ircontain's own state follows the
# same shape: mount $IRC_VM_STATE_DEV on its state dir, act on boot 1,
# check on boot 2.
set -uo pipefail
ok() { echo "ok - $*"; }
not_ok() { echo "not ok - $*"; FAILED=1; }
FAILED=0
[[ -n ${IRC_VM_BOOT:-} && -b ${IRC_VM_STATE_DEV:-} ]] || { not_ok "no VM state disk (run with STATE_DISK and BOOTS=2)"; exit 1; }
mkdir -p /mnt/state
if ((IRC_VM_BOOT == 1)); then
	mke2fs "$IRC_VM_STATE_DEV" >/dev/null 2>&1 || not_ok "mke2fs on $IRC_VM_STATE_DEV"
fi
mount -t ext2 "$IRC_VM_STATE_DEV" /mnt/state && ok "boot $IRC_VM_BOOT: state disk mounted" || not_ok "boot $IRC_VM_BOOT: mount state disk"
if ((IRC_VM_BOOT == 1)); then
	uname -r >/mnt/state/written-by && ok "boot 1: a file written"
else
	[[ $(cat /mnt/state/written-by 2>/dev/null) == "$(uname -r)" ]] &&
		ok "boot $IRC_VM_BOOT: boot 1's file is there" || not_ok "boot $IRC_VM_BOOT: boot 1's file is missing"
fi
umount /mnt/state
exit $FAILED
