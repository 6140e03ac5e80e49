# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
#
# complaints.sh: sourced by the scripts that boot a VM (run-vm.sh,
# tests/host/host-test.sh): what on its console says the kernel complained.
#
# The console lines that fail a run, whatever the script's status: the
# kernel's own (each with its printk timestamp, and perhaps after some of a
# script's output on the same line) and kmemleak's report, never a line a
# test script prints, which may well name KASAN or a BUG it looks for. A VM
# whose console is quiet prints its kernel log under "kfw-vm: kernel log: "
# when dmesg matches bad_console.

# shellcheck disable=SC2034 # used by the scripts that source this one
bad_console='BUG:|WARNING:|Oops|KASAN|UBSAN|refcount_t|suspected memory leak|unreferenced object|possible circular locking|suspicious RCU usage|Call Trace|Kernel panic'

# console_complaints LOG: the lines of LOG where the kernel complained, with
# their line numbers; fails when there are none.
console_complaints() {
	grep -aEn "(\[ *[0-9]+\.[0-9]+\] |^kfw-vm: (kernel log|kmemleak): ).*($bad_console)" "$1"
}
