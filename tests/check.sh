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
#
# Every run starts from an empty cache, as a new user's first run does: only
# the debug kernel (KFW_KERNEL_CACHE, default ~/.cache/kfw) is kept between
# runs, as it takes half an hour to build; tests/kernel/first-run.sh walks
# its first steps in an empty cache of its own. Everything else the targets
# build, keep or log (KFW_CACHE: kfwprobe, module copies, bench files, VM
# logs) goes to a directory emptied at the start, and stays there for a look
# after the run.

set -uo pipefail

cache=${XDG_CACHE_HOME:-$HOME/.cache}/kfw
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
KFW_KERNEL_CACHE=${KFW_KERNEL_CACHE:-$cache}
KFW_CACHE=$cache/check-$(echo "$repo" | sha256sum | cut -c 1-12)
export KFW_KERNEL_CACHE KFW_CACHE
rm -rf "$KFW_CACHE"
mkdir -p "$KFW_CACHE"
echo "=== cache: $KFW_CACHE (emptied); debug kernel: $KFW_KERNEL_CACHE/kernel"

total_passed=0 total_failed=0 broken=()
started=$SECONDS
for target in "$@"; do
	echo "=== make $target"
	output=$(mktemp)
	target_started=$SECONDS
	make --no-print-directory "$target" 2>&1 | tee "$output"
	status=${PIPESTATUS[0]}
	echo "=== make $target took $((SECONDS - target_started)) s"
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

echo "=== ${#broken[@]} of $# targets failed${broken[*]:+: ${broken[*]}}, in $((SECONDS - started)) s"
echo "check: $total_passed passed, $total_failed failed"
[[ $total_failed -eq 0 ]]
