#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# check.sh: run make targets one after another, each a test runner ending in
# an "N passed, N failed" line, then print the total of those lines.
#
# Usage: tests/check.sh TARGET...
#
# Every target runs even when an earlier one failed, so one run shows every
# failure. A target that fails without a count line counts as one failure.

set -uo pipefail

total_passed=0 total_failed=0 broken=()
for target in "$@"; do
	echo "=== make $target"
	output=$(mktemp)
	make --no-print-directory "$target" 2>&1 | tee "$output"
	status=${PIPESTATUS[0]}
	count=$(sed -n 's/^\([a-z-]*: \)\{0,1\}\([0-9][0-9]*\) passed, \([0-9][0-9]*\) failed.*$/\2 \3/p' "$output" | tail -n 1)
	rm -f "$output"
	read -r passed failed <<<"${count:-0 1}"
	if [[ $status -ne 0 && $failed -eq 0 ]]; then
		failed=1
	fi
	[[ $failed -eq 0 ]] || broken+=("$target")
	total_passed=$((total_passed + passed))
	total_failed=$((total_failed + failed))
done

echo "=== ${#broken[@]} of $# targets failed${broken[*]:+: ${broken[*]}}"
echo "check: $total_passed passed, $total_failed failed"
[[ $total_failed -eq 0 ]]
