#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# `make install` / `make uninstall` with DESTDIR and PREFIX: every file in
# place, an edited policy never overwritten nor removed, and the systemd
# units passing `systemd-analyze verify`.
. "$(dirname "$0")/lib.sh"
need_tools make man systemd-analyze

cd "$IRC_ROOT" || exit 1
D=$IRC_TMP/root
BUILD_DIR=$(dirname "$IRC_BIN")
inst() { make --no-print-directory -s BUILD="$BUILD_DIR" DESTDIR="$D" PREFIX=/usr "$@"; }

check "make install DESTDIR PREFIX=/usr" inst install
for f in usr/sbin/ircontain usr/share/man/man8/ircontain.8 lib/systemd/system/ircontain.service \
	 lib/systemd/system/ircontain-load.service etc/ircontain/ircontain.conf \
	 usr/share/bash-completion/completions/ircontain etc/ircontain/policy.yaml; do
	check "installed: /$f" test -s "$D/$f"
done
check "binary is executable and runs" "$D/usr/sbin/ircontain" version
check "unit runs the installed binary" grep -q '^ExecStart=/usr/sbin/ircontain run' "$D/lib/systemd/system/ircontain.service"
# No window at boot: the load unit is a oneshot ordered before the network,
# and the controller depends on it.
LU=$D/lib/systemd/system/ircontain-load.service
check "load unit runs the installed load" grep -q '^ExecStart=/usr/sbin/ircontain load --iface ${IRCONTAIN_IFACES}' "$LU"
check "load unit: oneshot, stays active" sh -c "grep -qx 'Type=oneshot' '$LU' && grep -qx 'RemainAfterExit=yes' '$LU'"
check "load unit: before network-pre.target, which it wants" sh -c \
	"grep -qE '^Before=.*network-pre.target' '$LU' && grep -qx 'Wants=network-pre.target' '$LU'"
check "load unit: no default dependencies (runs that early)" grep -qx 'DefaultDependencies=no' "$LU"
check "controller unit requires and follows the load unit" sh -c \
	"grep -qx 'Requires=ircontain-load.service' '$D/lib/systemd/system/ircontain.service' &&
	 grep -qE '^After=ircontain-load.service' '$D/lib/systemd/system/ircontain.service'"
check "both units read /etc/ircontain/ircontain.conf" sh -c \
	"grep -q 'EnvironmentFile=-/etc/ircontain/ircontain.conf' '$LU' &&
	 grep -q 'EnvironmentFile=-/etc/ircontain/ircontain.conf' '$D/lib/systemd/system/ircontain.service'"
# The shipped configuration, as systemd would expand it, is accepted by load.
ifaces=$(sed -n 's/^IRCONTAIN_IFACES=//p' "$D/etc/ircontain/ircontain.conf")
check "the shipped IRCONTAIN_IFACES parses (--iface $ifaces)" sh -c \
	"'$D/usr/sbin/ircontain' load --iface '$ifaces' --bogus 2>&1 | grep -q \"unknown option\\|unrecognized\""
check "installed policy is valid" "$D/usr/sbin/ircontain" policy check "$D/etc/ircontain/policy.yaml"
check "man page renders" sh -c "man -l '$D/usr/share/man/man8/ircontain.8' >/dev/null"

# The units as installed, pointed at the binary inside DESTDIR.
for u in ircontain ircontain-load; do
	sed "s|/usr/sbin/ircontain|$D/usr/sbin/ircontain|" "$D/lib/systemd/system/$u.service" \
		>"$IRC_TMP/$u.service"
done
# Both at once: the controller's Requires= names the load unit.
check "systemd-analyze verify (both units)" sh -c "systemd-analyze verify --man=no '$IRC_TMP/ircontain-load.service' '$IRC_TMP/ircontain.service' 2>&1 | { ! grep -q .; }"

# An edited policy survives a reinstall and an uninstall.
echo "# edited by the operator" >>"$D/etc/ircontain/policy.yaml"
check "reinstall" inst install
check "edited policy kept on reinstall" grep -q "edited by the operator" "$D/etc/ircontain/policy.yaml"
check "shipped policy put beside it" test -s "$D/etc/ircontain/policy.yaml.dist"
check "make uninstall" inst uninstall
for f in usr/sbin/ircontain usr/share/man/man8/ircontain.8 lib/systemd/system/ircontain.service \
	 lib/systemd/system/ircontain-load.service etc/ircontain/ircontain.conf \
	 usr/share/bash-completion/completions/ircontain etc/ircontain/policy.yaml.dist; do
	check_fail "uninstalled: /$f" test -e "$D/$f"
done
check "edited policy kept on uninstall" grep -q "edited by the operator" "$D/etc/ircontain/policy.yaml"

# PREFIX=/usr/local puts everything below it (the unit too).
D=$IRC_TMP/root2
check "make install PREFIX=/usr/local" make --no-print-directory -s BUILD="$BUILD_DIR" DESTDIR="$D" PREFIX=/usr/local install
check "binary under /usr/local/sbin" test -x "$D/usr/local/sbin/ircontain"
check "unit under /usr/local/lib/systemd/system" test -s "$D/usr/local/lib/systemd/system/ircontain.service"
