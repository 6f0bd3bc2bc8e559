#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# `make install` / `make uninstall` with DESTDIR and PREFIX: every file in
# place, an edited policy never overwritten nor removed, and the systemd
# unit passing `systemd-analyze verify` where systemd-analyze exists.
. "$(dirname "$0")/lib.sh"

cd "$IRC_ROOT" || exit 1
D=$IRC_TMP/root
BUILD_DIR=$(dirname "$IRC_BIN")
inst() { make --no-print-directory -s BUILD="$BUILD_DIR" DESTDIR="$D" PREFIX=/usr "$@"; }

check "make install DESTDIR PREFIX=/usr" inst install
for f in usr/sbin/ircontain usr/share/man/man8/ircontain.8 lib/systemd/system/ircontain.service \
	 usr/share/bash-completion/completions/ircontain etc/ircontain/policy.yaml; do
	check "installed: /$f" test -s "$D/$f"
done
check "binary is executable and runs" "$D/usr/sbin/ircontain" version
check "unit runs the installed binary" grep -q '^ExecStart=/usr/sbin/ircontain run' "$D/lib/systemd/system/ircontain.service"
check "installed policy is valid" "$D/usr/sbin/ircontain" policy check "$D/etc/ircontain/policy.yaml"
check "man page renders" sh -c "man -l '$D/usr/share/man/man8/ircontain.8' >/dev/null"

if command -v systemd-analyze >/dev/null; then
	# The unit as installed, pointed at the binary inside DESTDIR.
	sed "s|/usr/sbin/ircontain|$D/usr/sbin/ircontain|" "$D/lib/systemd/system/ircontain.service" \
		>"$IRC_TMP/ircontain.service"
	check "systemd-analyze verify" sh -c "systemd-analyze verify --man=no '$IRC_TMP/ircontain.service' 2>&1 | { ! grep -q .; }"
else
	echo "skip - systemd-analyze not installed"
fi

# An edited policy survives a reinstall and an uninstall.
echo "# edited by the operator" >>"$D/etc/ircontain/policy.yaml"
check "reinstall" inst install
check "edited policy kept on reinstall" grep -q "edited by the operator" "$D/etc/ircontain/policy.yaml"
check "shipped policy put beside it" test -s "$D/etc/ircontain/policy.yaml.dist"
check "make uninstall" inst uninstall
for f in usr/sbin/ircontain usr/share/man/man8/ircontain.8 lib/systemd/system/ircontain.service \
	 usr/share/bash-completion/completions/ircontain etc/ircontain/policy.yaml.dist; do
	check_fail "uninstalled: /$f" test -e "$D/$f"
done
check "edited policy kept on uninstall" grep -q "edited by the operator" "$D/etc/ircontain/policy.yaml"

# PREFIX=/usr/local puts everything below it (the unit too).
D=$IRC_TMP/root2
check "make install PREFIX=/usr/local" make --no-print-directory -s BUILD="$BUILD_DIR" DESTDIR="$D" PREFIX=/usr/local install
check "binary under /usr/local/sbin" test -x "$D/usr/local/sbin/ircontain"
check "unit under /usr/local/lib/systemd/system" test -s "$D/usr/local/lib/systemd/system/ircontain.service"
