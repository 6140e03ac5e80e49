#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# kunit-vm.sh: the part of tests/kernel/kunit.sh that runs inside the VM.
#
# Usage: kunit-vm.sh NR_SUITES [PARAM=VALUE]...
#
# Loads kfw_test, whose NR_SUITES KUnit suites run while it loads (the
# PARAMs go to modprobe: seed=, rounds=, ...), then unloads it. The suites
# print their KTAP results through printk; this script frames them with a
# KTAP header and begin/end markers written to /dev/kmsg, so that they land
# in the same log, in order, and the host can cut the document out of the
# console output.

set -e

nr_suites=$1
shift

kmsg() {
	echo "$*" >/dev/kmsg
}

kmsg "kfw-kunit: begin"
kmsg "KTAP version 1"
kmsg "1..$nr_suites"
status=0
modprobe kfw_test "$@" || status=$?
kmsg "kfw-kunit: end"
[ "$status" -eq 0 ] || { echo "kunit-vm.sh: modprobe kfw_test failed ($status)"; exit "$status"; }
rmmod kfw_test
