#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# shellcheck disable=SC3043 # busybox ash has local
#
# language.sh: the rule language beyond single values, end to end on real
# packets over IPv4 and IPv6: lists, negation, socket owners, rates over a
# limit, timed rules and the warnings for rules that can never match. Runs
# inside the VM, from tests/vm/run-vm.sh.
#
# Each keyword has its part in tests/vm/language/, sourced here in name
# order. A part starts and ends with empty tables and accepting policies in
# every namespace, as stateful.sh's scenarios do.

. "$(dirname "$0")/lib.sh"

echo "== kfw rule language tests on $(uname -r)"

check "modprobe kfw" modprobe kfw
topology_up
allow_ping_sockets

for part in "$(dirname "$0")"/language/*.sh; do
	[ -e "$part" ] || continue
	echo "== $(basename "$part" .sh)"
	# shellcheck disable=SC1090 # the parts are found at run time
	. "$part"
done

# --- The end -----------------------------------------------------------------------------

check "the host is back to an empty table" empty_table n0
check "client1 too" empty_table n1
check "client2 too" empty_table n2
topology_down
check "rmmod kfw at the end" rmmod kfw
check_not "the kernel log has no warnings, bugs or leaks" sh -c "dmesg | grep -E '$kernel_complaints'"
finish
