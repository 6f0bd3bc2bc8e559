#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# One source of truth for the commands: `ircontain help`, the man page,
# the README's command reference and the bash completion name the same
# commands, and every option the help text shows is in the other three.
. "$(dirname "$0")/lib.sh"
need_tools man

cd "$IRC_ROOT" || exit 1
HELP=$("$IRC_BIN" help)
# The troff source with its escapes undone: rendered text hyphenates.
MAN=$(sed -e 's/\\-/-/g' -e 's/\\f[BIRP]//g' docs/ircontain.8)
README=$(cat README.md)
COMP=$(cat scripts/completion/ircontain.bash)

# Commands: the first word of each command line of the help text.
cmds=$(sed -n '/^commands:/,/^$/p' <<<"$HELP" | awk 'NF && $1 != "commands:" && $1 !~ /^\[/ && $1 !~ /^--/ {print $1}' | sort -u)
opts=$(grep -oE -- '--[a-z][a-z-]+' <<<"$HELP" | sort -u)
check "help lists commands" test "$(wc -w <<<"$cmds")" -ge 12
check "help lists options" test "$(wc -w <<<"$opts")" -ge 20

for c in $cmds; do
	check "man page has command '$c'" grep -qw -- "$c" <<<"$MAN"
	check "completion has command '$c'" grep -qw -- "$c" <<<"$COMP"
	[[ $c == help || $c == version ]] && continue
	check "README has command '$c'" grep -qE "\`$c( |\`)" <<<"$README"
done
for o in $opts; do
	check "man page has option '$o'" grep -q -- "$o" <<<"$MAN"
	check "completion has option '$o'" grep -q -- "$o" <<<"$COMP"
	[[ $o == --help || $o == --version || $o == --verbose ]] && continue
	check "README has option '$o'" grep -q -- "$o" <<<"$README"
done
# And the other way: nothing documented that the binary does not know.
for c in $(grep -oE 'local objects="[^"]+"' scripts/completion/ircontain.bash | cut -d'"' -f2); do
	check "completion command '$c' is in help" grep -qE "^  $c( |$)" <<<"$HELP"
done

# Every `make TARGET` the README shows is a target of the Makefile.
targets=$(make -C "$IRC_ROOT" -pnq 2>/dev/null | awk -F: '/^[a-z][a-z0-9-]*:/ {print $1}' | sort -u)
for t in $(grep -oE 'make [a-z][a-z0-9-]*' README.md | cut -d' ' -f2 | sort -u); do
	check "README's 'make $t' is a Makefile target" grep -qx -- "$t" <<<"$targets"
done

# userspace/: the folders userspace/README.md names are the tree's, each
# folder's README names each of its files, and no file includes a header of
# a folder its README says it may not call.
declare -A may=([cli]="cli controller fleet evidence kernel common" [controller]="controller evidence kernel common"
	[fleet]="fleet evidence kernel common"
	[evidence]="evidence common" [kernel]="kernel common" [common]="common")
declare -A home
for h in userspace/*/*.h; do home[${h##*/}]=$(basename "$(dirname "$h")"); done
for d in userspace/*/; do
	d=$(basename "$d")
	check "userspace/README.md names folder $d/" grep -q "\`$d/\`" userspace/README.md
	check "userspace/$d/ is in the layering rule" test -n "${may[$d]:-}"
	missing=
	for f in userspace/"$d"/*.[ch]; do
		f=${f##*/}
		[[ $f == *.h && -e userspace/$d/${f%.h}.c ]] && continue
		pat=${f%%_*}_\*.${f##*.}
		grep -qF -e "\`$f\`" -e "\`$pat\`" "userspace/$d/README.md" || missing+=" $f"
	done
	check "userspace/$d/README.md names each of its files${missing:+ (not:$missing)}" test -z "$missing"
	bad=
	for f in userspace/"$d"/*.[ch]; do
		for inc in $(sed -n 's/^#include "\([^"/]*\)".*/\1/p' "$f"); do
			to=${home[$inc]:-}
			# store_defs.h and fleet_defs.h are constants only (names, limits): anyone may read them.
			[[ -z $to || $inc == store_defs.h || $inc == fleet_defs.h || " ${may[$d]:-} " == *" $to "* ]] ||
				bad+=" ${f#userspace/}->$to/$inc"
		done
	done
	check "userspace/$d/ includes only what it may call${bad:+:$bad}" test -z "$bad"
done

# docs/architecture.md names files by path: each one is in the tree.
missing=
for f in $(grep -oE '`[a-z_]+/[a-z_/.]+\.[ch]`' docs/architecture.md | tr -d '`' | sort -u); do
	[[ -e $f || -e userspace/$f || -e include/$f ]] || missing+=" $f"
done
check "docs/architecture.md names $(grep -oE '`[a-z_]+/[a-z_/.]+\.[ch]`' docs/architecture.md | sort -u | wc -l) files, all in the tree${missing:+ (not:$missing)}" test -z "$missing"
