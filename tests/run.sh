#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Runs every suite and prints one closing line, "N passed, N failed".
#   unit  cmocka tests of the pure userspace logic (plain and sanitizer build)
#   bpf   cmocka + BPF_PROG_TEST_RUN on crafted packets (plain and sanitizer)
#   e2e   namespaces, veth pairs, real traffic and real processes
#   fuzz  a few seconds of each libFuzzer target (tests/fuzz/)
# With CI=true a skipped test counts as a failure: nothing may skip in CI.
set -uo pipefail

cd "$(dirname "$0")/.."
BUILD=build
ONLY=
TESTS=
while (($#)); do
	case $1 in
	--build) BUILD=$2; shift 2 ;;
	--only) ONLY=$2; shift 2 ;;
	--tests) TESTS=$2; shift 2 ;;	# e2e scripts by name: "export cli_errors"
	*) echo "run.sh: unknown option '$1'" >&2; exit 2 ;;
	esac
done

# The e2e scripts to run: all, or those named in --tests (test_NAME.sh,
# given as NAME, test_NAME, test_NAME.sh or its path); an unknown name is
# an error, never a run of nothing.
E2E=()
if [[ -z $TESTS ]]; then
	E2E=(tests/e2e/test_*.sh)
else
	for n in $TESTS; do
		n=${n##*/} n=${n%.sh} n=${n#test_}
		if [[ ! -e tests/e2e/test_$n.sh ]]; then
			echo "run.sh: no e2e test '$n' (tests/e2e/test_$n.sh); there are:" \
				$(cd tests/e2e && ls test_*.sh | sed 's/^test_//; s/\.sh$//') >&2
			exit 2
		fi
		E2E+=("tests/e2e/test_$n.sh")
	done
fi

pass=0 fail=0 skip=0
log=$(mktemp /tmp/irc-run.XXXXXX)
trap 'rm -f "$log"' EXIT

want() { [[ -z $ONLY || $ONLY == "$1" ]]; }

# cmocka prints "[ RUN      ] name", then "[       OK ] name", "[  FAILED  ] name"
# or "[  SKIPPED ] name"; its closing summary lists the failed and skipped
# names again, which are not counted twice: only a verdict that ends a run.
run_cmocka() {
	local bin=$1 rc p f s
	echo "=== $bin"
	"$bin" >"$log" 2>&1; rc=$?
	cat "$log"
	read -r p f s < <(awk '
		/^\[ RUN      \] / { run = 1; next }
		run && /^\[       OK \] / { p++; run = 0 }
		run && /^\[  FAILED  \] / { f++; run = 0 }
		run && /^\[  SKIPPED \] / { s++; run = 0 }
		END { print p + 0, f + 0, s + 0 }' "$log")
	# A crash or sanitizer abort fails the binary even if no case said so.
	((rc != 0 && f == 0)) && f=1
	pass=$((pass + p)) fail=$((fail + f)) skip=$((skip + s))
}

# Scripts print "ok - name" / "not ok - name" and exit non-zero on failure.
run_script() {
	local script=$1 rc p f s
	echo "=== $script"
	IRC_BIN=$PWD/$BUILD/ircontain timeout 600 "$script" >"$log" 2>&1; rc=$?
	cat "$log"
	p=$(grep -c '^ok - ' "$log")
	f=$(grep -c '^not ok - ' "$log")
	s=$(grep -c '^skip - ' "$log")
	((rc != 0 && f == 0)) && f=1
	# A script that checked nothing did not pass.
	((p == 0 && f == 0)) && { echo "run.sh: $script: no check ran"; f=1; }
	pass=$((pass + p)) fail=$((fail + f)) skip=$((skip + s))
}

# A suite whose sources exist but whose programs do not ran nothing: that
# is a failure, never a quiet pass.
run_suite() {
	local srcdir=$1 bindir=$2 n=0 t
	for t in "$bindir"/test_*; do
		[[ -x $t && -f $t ]] || continue
		run_cmocka "$t"
		n=$((n + 1))
	done
	if ((n != $(ls "$srcdir"/test_*.c 2>/dev/null | wc -l))); then
		echo "run.sh: $bindir has $n test programs for $(ls "$srcdir"/test_*.c | wc -l) sources"
		fail=$((fail + 1))
	fi
}

for b in "$BUILD" "$BUILD/asan"; do
	want unit && run_suite tests/unit "$b/tests/unit"
	want bpf && run_suite tests/bpf "$b/tests/bpf"
done
if want e2e; then
	for t in "${E2E[@]}"; do
		if [[ -x $t ]]; then
			run_script "$t"
		else
			echo "run.sh: $t is not executable: not run"
			fail=$((fail + 1))
		fi
	done
fi

# A short pass of every libFuzzer target (make fuzz-build; `make fuzz` is the long one).
if want fuzz; then
	FUZZ_TIME=${FUZZ_TIME:-5} run_script tests/fuzz/run.sh
fi

if [[ ${CI:-} == true ]] && ((skip > 0)); then
	echo "run.sh: $skip test(s) skipped under CI=true: counted as failures"
	fail=$((fail + skip)) skip=0
fi
echo
if ((skip)); then
	echo "$pass passed, $fail failed, $skip skipped"
else
	echo "$pass passed, $fail failed"
fi
((fail == 0 && pass > 0))
