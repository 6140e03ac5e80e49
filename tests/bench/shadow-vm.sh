#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# shadow-vm.sh: what the shadow warnings cost fwctl at 100k rules, in the VM.
#
# Usage (from the top of the tree):
#   tests/vm/run-vm.sh --quiet --file DIR tests/bench/shadow-vm.sh DIR/*.rules
#
# For each restore file: the time of `fwctl restore` (parse, shadow check,
# the kernel's replace), `fwctl check`, `fwctl list` (the dump both add and
# check read), and of an `add` and an `insert 1` of a rule that nothing
# covers, on the table the file made. Times as `kfwprobe time` measures
# them, in ms, under the VM's emulated CPU.

ms() {
	kfwprobe time "$@" | awk '{ printf "%.1f", $2 / 1e6 }'
}

modprobe kfw || exit 1
for file in "$@"; do
	name=$(basename "$file" .rules)
	fwctl flush
	echo "$name: $(grep -c '^add' "$file") rules"
	echo "  restore $(ms sh -c "fwctl restore $file 2>/dev/null") ms"
	echo "  check   $(ms sh -c 'fwctl check >/dev/null') ms, $(fwctl check | wc -l) shadowed"
	echo "  list    $(ms sh -c 'fwctl list >/dev/null') ms"
	echo "  add     $(ms fwctl add in drop proto tcp src 198.19.255.254 dport 1) ms"
	echo "  insert  $(ms fwctl insert 1 in drop proto tcp src 198.19.255.253 dport 1) ms"
	echo "  del     $(ms fwctl del "$(fwctl list | awk 'NR == 4 { print $1 }')") ms"
done
fwctl flush
