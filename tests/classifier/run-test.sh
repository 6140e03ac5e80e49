#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# run-test.sh: the host differential test, twice: a smaller run of the build
# with ASan and UBSan (a use after free shows there), then the full run of
# the optimised build; then classbench -t, every expected answer of every
# ClassBench set. Prints the sum of all as its last line, "classifier: N
# passed, N failed"; a run that dies counts as a failure.
#
# classbench-sets.sh says where the ClassBench sets are.
#
# Usage: run-test.sh TEST SANITIZED_TEST CLASSBENCH [ARG]...

set -uo pipefail

[[ $# -ge 3 ]] || { echo "Usage: $0 TEST SANITIZED_TEST CLASSBENCH [ARG]..." >&2; exit 2; }
test=$1 san=$2 classbench=$3
shift 3

total_passed=0 total_failed=0
run() {
	local output status count passed failed

	output=$(mktemp)
	"$@" 2>&1 | tee "$output"
	status=${PIPESTATUS[0]}
	count=$(sed -n 's/^[a-z]*: \([0-9]*\) passed, \([0-9]*\) failed$/\1 \2/p' "$output" | tail -n 1)
	rm -f "$output"
	read -r passed failed <<<"${count:-0 1}"
	[[ $status -eq 0 || $failed -ne 0 ]] || failed=1
	total_passed=$((total_passed + passed))
	total_failed=$((total_failed + failed))
}

echo "=== $san -r 2000 -p 20000 (ASan, UBSan)"
ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
	run "$san" -r 2000 -p 20000 "$@"
echo "=== $test"
run "$test" "$@"

echo "=== $classbench -t (ClassBench: every expected answer)"
if sets=$("$(dirname "${BASH_SOURCE[0]}")/classbench-sets.sh"); then
	# shellcheck disable=SC2086 # one word per set
	run "$classbench" -t $sets
else
	total_failed=$((total_failed + 1))
fi
echo "classifier: $total_passed passed, $total_failed failed"
[[ $total_failed -eq 0 ]]
