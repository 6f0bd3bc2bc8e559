#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# `make check-fresh`: the README's two commands on a fresh Debian 12.
#
# Builds a `debootstrap --variant=minbase bookworm` root with only git, make,
# ca-certificates and sudo added, clones this tree's HEAD into it and runs,
# each as the first thing done in that clone:
#
#     sudo make demo
#     sudo CI=true make check
#
# The root runs this kernel as a machine would: in a mount namespace of its
# own whose root it is (pivot_root, so paths read back from /proc are the
# root's own, as on a real machine), with this kernel's /proc, /sys and /dev,
# its own /run, bpffs, tracefs and cgroup2 (where systemd would mount them).
# It shares the network namespace (apt needs it; the tests make their own
# namespaces, named after their PIDs) and the cgroup tree (the tests use a
# subtree named after their PID).
#
# Every mount is made inside that private mount namespace: when its last
# process ends, the kernel removes them all, whatever way this script ended;
# the host never sees one (checked with findmnt at the end).
#
# The minbase root is built once and kept pristine in $IRC_FRESH_DIR/seed
# (default /var/tmp/ircontain-fresh); each run starts from a copy of it.
# IRC_FRESH_REBUILD=1 builds it anew.  The log of the last run is
# $IRC_FRESH_DIR/run.log.
#
#   scripts/check-fresh.sh --again 'CMD' ...   runs CMD (in the clone, as root)
#       in the root the last run left, to look into a failure.
set -euo pipefail

DIR=${IRC_FRESH_DIR:-/var/tmp/ircontain-fresh}
MIRROR=${IRC_FRESH_MIRROR:-http://deb.debian.org/debian}
SUITE=bookworm
EXTRA=git,make,ca-certificates,sudo
SRC=$(cd "$(dirname "$0")/.." && pwd)
CLONE=/root/ircontain		# inside the root
LIMIT=${IRC_FRESH_TIMEOUT:-3600}	# seconds, per command

die() { echo "check-fresh: $*" >&2; exit 1; }

# ns_kill NS [PID]: ends every process in mount namespace NS but PID.
# Only the commands run here are in such a namespace: each run makes its own.
ns_kill() {
	local p
	for p in /proc/[0-9]*; do
		[[ ${p#/proc/} != "${2:-}" && $(readlink "$p/ns/mnt" 2>/dev/null) == "$1" ]] &&
			kill -9 "${p#/proc/}" 2>/dev/null
	done
	return 0
}

# ---- inside: a private mount namespace (see the end of this file) -------
if [[ ${1:-} == --inside ]]; then
	root=$2
	# The root becomes a mount point (pivot_root needs one; so does
	# `ip netns`, which bind-mounts /run/netns inside it).
	readlink /proc/self/ns/mnt >"$root/.check-fresh-mntns"
	mount --bind "$root" "$root"
	mount -t proc proc "$root/proc"
	mount -t sysfs sysfs "$root/sys"
	mount -t cgroup2 cgroup2 "$root/sys/fs/cgroup"
	mount -t bpf bpf "$root/sys/fs/bpf"
	mount -t tracefs tracefs "$root/sys/kernel/tracing"
	mount --rbind /dev "$root/dev"
	mount -t tmpfs -o mode=0755,nosuid,nodev tmpfs "$root/run"
	mkdir -p "$root/run/lock" "$root/.oldroot"
	cd "$root"
	pivot_root . .oldroot
	umount -l /.oldroot
	rmdir /.oldroot
	# Root's environment, as after `ssh root@machine` or `su -`.
	shift 2
	rc=0
	for cmd in "$@"; do
		t0=$SECONDS
		echo "check-fresh: # $cmd"
		env -i HOME=/root TERM=dumb LANG=C.UTF-8 \
			PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
			timeout "$LIMIT" bash -c "cd $CLONE && $cmd" || rc=$?
		echo "check-fresh: '$cmd' exit $rc after $((SECONDS - t0)) s"
		((rc == 0)) || break
	done
	# Whatever the commands left running (it would hold the log open).
	ns_kill "$(readlink /proc/self/ns/mnt)" $$
	exit "$rc"
fi

# ---- outside -------------------------------------------------------------
((EUID == 0)) || die "needs root (debootstrap, mounts): sudo make check-fresh"
for t in debootstrap unshare pivot_root findmnt git; do
	command -v "$t" >/dev/null || die "$t not found: run scripts/install-deps.sh"
done
mkdir -p "$DIR"
ROOT=$DIR/root
SEED=$DIR/seed
LOG=$DIR/run.log

# Nothing may be mounted under the work dir before we delete in it.
mounted() { findmnt -rn -o TARGET | grep -E "^$DIR(/|$)" || true; }
[[ -z $(mounted) ]] || die "mounts under $DIR (another run?): $(mounted | tr '\n' ' ')"

t0=$SECONDS
if [[ ${1:-} == --again ]]; then
	shift
	(($#)) || die "--again needs a command"
	[[ -d $ROOT$CLONE ]] || die "no root left by a previous run at $ROOT"
	cmds=("$@")
	what="the commands"
	LOG=$DIR/again.log
else
	(($# == 0)) || die "usage: $0 [--again 'CMD' ...]"
	git -C "$SRC" diff --quiet HEAD 2>/dev/null ||
		echo "check-fresh: note: uncommitted changes are not tested (HEAD is cloned)" >&2
	rev=$(git -C "$SRC" rev-parse HEAD) || die "$SRC: not a git tree"
	if [[ ${IRC_FRESH_REBUILD:-} == 1 || ! -e $SEED/.complete ]]; then
		echo "check-fresh: debootstrap --variant=minbase --include=$EXTRA $SUITE (once)"
		rm -rf "$SEED" "$SEED.tmp"
		debootstrap --variant=minbase --include="$EXTRA" "$SUITE" "$SEED.tmp" "$MIRROR" \
			>"$DIR/debootstrap.log" 2>&1 ||
			die "debootstrap failed, see $DIR/debootstrap.log"
		# A Debian 12 install also has the updates and the security archive.
		sec=${MIRROR%/debian}/debian-security
		cat >"$SEED.tmp/etc/apt/sources.list" <<-EOF
			deb $MIRROR $SUITE main
			deb $MIRROR $SUITE-updates main
			deb $sec $SUITE-security main
		EOF
		touch "$SEED.tmp/.complete"
		mv "$SEED.tmp" "$SEED"
	fi
	rm -rf "$ROOT"
	cp -a "$SEED" "$ROOT"
	rm -f "$ROOT/.complete"
	cp /etc/resolv.conf "$ROOT/etc/resolv.conf"
	printf '127.0.0.1\tlocalhost\n127.0.1.1\t%s\n::1\tlocalhost ip6-localhost\n' \
		"$(hostname)" >"$ROOT/etc/hosts"
	hostname >"$ROOT/etc/hostname"
	git clone -q --no-hardlinks "$SRC" "$ROOT$CLONE"
	git -C "$ROOT$CLONE" checkout -q "$rev"
	echo "check-fresh: $SUITE minbase + $EXTRA at $ROOT, clone of $rev at $CLONE"
	# The README's two commands, in order, each the first thing done.
	cmds=("sudo make demo" "sudo CI=true make check")
	what="the README's two commands"
fi
t_seed=$((SECONDS - t0))

# Anything still running in the root's mount namespace when the commands
# are done (or this script is interrupted) was started by them: it is ended,
# so that the namespace, and with it every mount, goes away.
NSFILE=$ROOT/.check-fresh-mntns
rm -f "$NSFILE"
ns_leftovers() { [[ -e $NSFILE ]] && ns_kill "$(cat "$NSFILE")"; return 0; }
trap ns_leftovers EXIT
t1=$SECONDS
set +e
unshare --mount --propagation private -- "$0" --inside "$ROOT" "${cmds[@]}" 2>&1 | tee "$LOG"
rc=${PIPESTATUS[0]}
set -e
ns_leftovers
t_run=$((SECONDS - t1))

left=$(mounted)
if [[ -n $left ]]; then
	echo "check-fresh: mounts left under $DIR:" >&2
	echo "$left" >&2
	rc=1
fi
echo "check-fresh: root ready in $t_seed s, $what in $t_run s, exit $rc (log: $LOG)"
exit "$rc"
