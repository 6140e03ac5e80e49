#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# kunit.sh: run kfw's KUnit suites on the debug kernel.
#
# Usage: tests/kernel/kunit.sh [PARAM=VALUE]...
#
# 1. Builds the debug kernel unless it is cached (tests/kernel/build.sh).
# 2. Builds kmod/kfw_test.ko, kfw with its suites (make KFW_KUNIT=1), against
#    it, in a private copy of the module's sources under ~/.cache/kfw/kunit,
#    so that the objects in the work tree, built for the stock kernel, stay.
# 3. Boots the debug kernel with tests/vm/run-vm.sh, where kunit-vm.sh loads
#    kfw_test: its suites run as it loads, and it is unloaded again.
# 4. Cuts the KTAP results out of the console log and parses them with the
#    kernel's own tools/testing/kunit/kunit.py, whose report is printed.
#
# The last line is "kunit: N passed, N failed". The exit status is non-zero
# when a test fails or crashes, when one of kfw_match, kfw_parse, kfw_netlink,
# kfw_table, kfw_classify and kfw_limit is missing, and when run-vm.sh fails: a warning,
# a KASAN, UBSAN or lockdep report, a leak or a hang shows on the console.
#
# The PARAMs go to modprobe kfw_test and make the randomized tests a soak:
#
#   KFW_VM_TIMEOUT=3600 tests/kernel/kunit.sh seed=$RANDOM rounds=2000 \
#       rules=200 packets=2000 ops=200000
#
# Environment: KFW_KERNEL_JOBS (make -j, default 2), and run-vm.sh's.

# shellcheck source=tests/strict.sh
. "$(dirname "${BASH_SOURCE[0]}")/../strict.sh"

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
suites=(kfw_match kfw_parse kfw_netlink kfw_table kfw_classify kfw_limit)

say() {
	echo "kunit.sh: $*" >&2
}

die() {
	say "$*"
	echo "kunit: 0 passed, 0 failed"
	exit 1
}

"$repo/tests/deps.sh" >&2

kbuild=$("$here/build.sh" | tail -n 1) || die "FAIL: building the debug kernel"
[[ -f $kbuild/arch/x86/boot/bzImage ]] || die "FAIL: build.sh gave no kernel"
version=$(cat "$kbuild/include/config/kernel.release")
src=$(readlink -f "$kbuild/source")
[[ -f $src/tools/testing/kunit/kunit.py ]] || die "no kunit.py in the kernel source '$src'"

# --- The test module --------------------------------------------------------

say "building kfw_test.ko against $version"
work=$("$here/module-copy.sh" kunit "$kbuild" KFW_KUNIT=1 | tail -n 1) ||
	die "FAIL: building kfw_test.ko"
ko=$work/kmod/kfw_test.ko

# Each kunit_test_suite() adds one pointer to the module's .kunit_test_suites.
size=$(objdump -h "$ko" | awk '$2 == ".kunit_test_suites" { print $3 }')
nr_suites=$((0x${size:-0} / 8))
[[ $nr_suites -gt 0 ]] || die "FAIL: kfw_test.ko holds no KUnit suite"

# --- The run ----------------------------------------------------------------

console=$work/console.log
ktap=$work/results.ktap
say "booting $version with kfw_test.ko ($nr_suites suites); console: $console"
set +e
"$repo/tests/vm/run-vm.sh" --kernel "$kbuild/arch/x86/boot/bzImage" \
	--modules "$kbuild/modroot/lib/modules/$version" --ko "$ko" \
	"$here/kunit-vm.sh" "$nr_suites" "$@" >"$console" 2>&1
vm_status=$?
set -e

# The KTAP document: from the header kunit-vm.sh wrote to /dev/kmsg up to its
# end marker, or to the end of the log if the kernel died on the way.
tr -d '\r' <"$console" |
	awk '/kfw-kunit: end$/ { exit } started { print } /kfw-kunit: begin$/ { started = 1 }' >"$ktap"

set +e
report=$(python3 "$src/tools/testing/kunit/kunit.py" parse "$ktap" 2>&1)
parse_status=$?
set -e
echo "$report"

summary=$(grep -o 'Testing complete\. Ran [0-9]* tests:.*' <<<"$report" | tail -n 1 || true)
# kunit.py names only the non-zero counts.
count() {
	local n
	n=$(sed -n "s/.* $1: \([0-9]*\).*/\1/p" <<<"$summary")
	echo "${n:-0}"
}
passed=$(count passed)
failed=$(($(count failed) + $(count crashed) + $(count errors)))

status=0
if [[ $parse_status -ne 0 ]]; then
	say "FAIL: kunit.py found failures, crashes or malformed results"
	status=1
fi
for suite in "${suites[@]}"; do
	if ! grep -Eq "^(\[[ .0-9]*\] )?ok [0-9]+ $suite\$" "$ktap"; then
		say "FAIL: suite $suite did not pass (missing, failed or crashed)"
		status=1
	fi
done
if [[ $vm_status -ne 0 ]]; then
	say "FAIL: the VM run failed ($vm_status):"
	grep -a '^run-vm.sh:' "$console" | sed 's/^/    /' >&2 || true
	grep -aEn 'BUG:|WARNING:|KASAN|UBSAN|Kernel panic|suspected memory leak|kunit-vm.sh:' \
		"$console" | head -n 20 | tr -d '\r' | sed 's/^/    /' >&2 || true
	status=1
fi
if [[ $passed -eq 0 ]]; then
	say "FAIL: no test passed"
	status=1
fi
[[ $status -eq 0 ]] || say "console log: $console"
echo "kunit: $passed passed, $failed failed"
exit "$status"
