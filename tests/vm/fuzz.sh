#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# shellcheck disable=SC3043 # busybox ash has local
#
# fuzz.sh: kfwfuzz against the kfw module, then the proof that the kernel
# came through: nothing in its log, no leak, fwctl still works, a table no
# fuzzer could reach is unchanged and still filters real traffic, and the
# module unloads.
# Runs inside the VM: tests/vm/fuzz-run.sh COUNT [SEED] starts it as
#   fuzz.sh COUNT FUZZER [SEED]
# with FUZZER the path kfwfuzz was shipped at.

# shellcheck source=tests/vm/lib.sh
. "$(dirname "$0")/lib.sh"

count=${1:?Usage: fuzz.sh COUNT FUZZER [SEED]}
fuzzer=${2:?Usage: fuzz.sh COUNT FUZZER [SEED]}
seed=${3:-}

kmemleak=/sys/kernel/debug/kmemleak

# no_leaks NAME: kmemleak, asked twice (a suspect must be seen unreferenced
# by two scans, and be 5 s old), finds nothing. Without kmemleak (the stock
# kernel), says so and checks nothing. A scan takes a debug kernel under TCG
# some 15 s: this is done once, and /init scans again after rmmod.
no_leaks() {
	if [ ! -w $kmemleak ]; then
		echo "# $1: no kmemleak in this kernel"
		return
	fi
	echo scan >$kmemleak
	sleep 5
	echo scan >$kmemleak
	check_eq "$1" "" "$(cat $kmemleak)"
}

# phase TITLE: a header, with the time since boot: a debug kernel is slow.
phase() {
	echo "== $1 (at $(cut -d ' ' -f 1 /proc/uptime) s)"
}

# kernel_quiet NAME: nothing in the kernel log that run-vm.sh would fail on.
kernel_quiet() {
	check_not "$1" sh -c "dmesg | grep -E '$kernel_complaints'"
}

echo "== kfw netlink fuzzing on $(uname -r): $count messages"

grep -q ' /sys/kernel/debug ' /proc/mounts || mount -t debugfs debugfs /sys/kernel/debug 2>/dev/null || true
# The fuzzer's uid 65534 worker makes a user namespace of its own.
if [ -w /proc/sys/kernel/unprivileged_userns_clone ]; then
	echo 1 >/proc/sys/kernel/unprivileged_userns_clone
fi

# A small limit, so that the fuzzer's chunks of hundreds of rules reach it.
check "modprobe kfw max_rules=1000" modprobe kfw max_rules=1000

# The host's table is out of every fuzzer's reach (they work in the initial
# namespace and in namespaces of their own): it must come through unchanged,
# and keep filtering.
topology_up
serve n0 udp 5001 5002
step n0 fwctl add in drop proto udp dport 5001 comment "fuzz witness"
step n0 fwctl add in accept proto tcp src 192.0.2.0/24 dport 22
step n0 fwctl add out drop proto icmpv6 icmp-type 129 log
step n0 fwctl policy out accept
witness=$(n0 fwctl save)
for f in 4 6; do
	over $f
	check "the witness rule drops udp 5001 before fuzzing ($v)" udp_dropped n1 "$h1" 5001
done

# What kmemleak suspected before kfw's fuzzing (boot) is not kfw's doing.
[ ! -w $kmemleak ] || echo clear >$kmemleak

phase "kfwfuzz"
if "$fuzzer" -n "$count" ${seed:+-s "$seed"}; then
	pass "kfwfuzz: $count messages, every reply well-formed, every refusal where it belongs"
else
	fail "kfwfuzz: $count messages" "kfwfuzz found failures, printed above (exit status $?)"
fi

phase "after fuzzing"
kernel_quiet "the kernel log has no warnings, bugs or leaks after fuzzing"

# fwctl, in the namespace the fuzzers left behind, with whatever rules they
# got in. A restore needs the namespace's one transaction: fuzzers' sockets
# that closed with one open must have given it back.
# A restore the fuzzers left on trial would refuse the restores below.
fwctl confirm >/dev/null 2>&1 || true
echo "# the fuzzers left $(fwctl list | rules | wc -l) rules in the initial namespace"
check "fwctl list reads the fuzzed table" fwctl list
check "/proc/net/kfw/rules reads the fuzzed table" cat /proc/net/kfw/rules
# Timed rules: the fuzzers' short ones (5 s at most) run out first, and the
# time the others have left goes down between two saves, so the tables are
# compared without it.
sleep 6
untimed() { sed 's/ timeout [0-9]*[smhd]//'; }
fuzzed=$(fwctl save)
check "fwctl restore takes what fwctl save printed of the fuzzed table" sh -c 'fwctl save | fwctl restore'
check_eq "and gives the same table back (time left aside)" "$(echo "$fuzzed" | untimed)" \
	"$(fwctl save | untimed)"
step fwctl flush
step fwctl policy in accept
step fwctl policy out accept
check "fwctl add after fuzzing" fwctl add in drop proto udp dport 9 comment "after fuzzing"
added=$(handle vm 'in drop proto udp dport 9 comment "after fuzzing"')
check "fwctl list shows the new rule" test -n "$added"
check "fwctl del removes it" fwctl del "$added"
check_eq "the table is empty again" "" "$(fwctl list | rules)"
check "fwctl restore (a transaction) after fuzzing" sh -c \
	'printf "policy in accept\nadd in drop proto tcp dport 7\nadd out reject proto udp\n" | fwctl restore'
check_eq "the restored table" "in drop proto tcp dport 7
out reject proto udp" "$(fwctl list | rules)"
step fwctl flush
no_leaks "kmemleak finds no leak after fuzzing"

check_eq "the host's table came through unchanged" "$witness" "$(n0 fwctl save)"
for f in 4 6; do
	over $f
	check "the witness rule still drops udp 5001 ($v)" udp_dropped n1 "$h1" 5001
	check "udp 5002 still passes ($v)" udp_passes n1 "$h1" 5002
done
counted=$(n0 cat /proc/net/kfw/rules | rule_line 'in drop proto udp dport 5001 comment "fuzz witness"')
check_match "the witness rule counted the drops" '^[0-9]+ [1-9][0-9]* ' "$counted"

# A rule added now filters too: client2 loses port 5002, client1 keeps it.
check "a rule added after fuzzing" n0 fwctl add in drop proto udp src "$client2_4" dport 5002
check "it drops client2's datagrams" udp_dropped n2 "$host2_4" 5002
check "client1's still pass" udp_passes n1 "$host1_4" 5002

phase "unloading"
topology_down
check "rmmod kfw" rmmod kfw
check_not "no /proc/net/kfw after rmmod" test -e /proc/net/kfw
# Payload rules hold ts_kmp, log rules nf_log_syslog: every reference the
# fuzzed rules took is given back (where they are modules, not built in).
for module in ts_kmp nf_log_syslog; do
	[ ! -r /sys/module/$module/refcnt ] ||
		check_eq "$module is no longer used after rmmod kfw" 0 "$(cat /sys/module/$module/refcnt)"
done
kernel_quiet "the kernel log has no warnings, bugs or leaks after rmmod"
phase "done"

finish
