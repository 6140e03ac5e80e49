#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# bench.sh: the per-packet cost of kfw against no filter, iptables-legacy and
# nftables (a linear chain, and a concatenated interval map: pipapo), from
# 0 to 100000 rules, in the test VM; then kfw's own classifier on the host.
#
# Usage: tests/bench/bench.sh [--smoke]
#
# It builds kfw for the stock kernel (make stock-build) and
# tests/bench/rulegen.c, writes the same N rules in the four syntaxes
# (rulegen's comment says what they are), boots the VM with iptables-legacy,
# nft and their modules and runs tests/bench/bench-vm.sh there (its comment
# says how it measures). Then, if tests/classifier has a Makefile, it runs
# `make -C tests/classifier bench` for the native classifier's lines, and it
# ends with a table: the mean UDP round-trip time (cost_ns) of each
# implementation at each size, the excess over no filter, and three ratios.
# All it printed is kept in ${XDG_CACHE_HOME:-~/.cache}/kfw/bench/LAST.txt
# (bench/smoke/LAST.txt for --smoke).
#
# --smoke is the quick test of all that: sizes 0 and 100, one short round,
# every check on; it ends in "bench-smoke: N passed, N failed" and fails when
# a check does.
#
# The VM runs under TCG with a clock that counts instructions (one ns each):
# the times are an emulated CPU's, good for comparing implementations with
# each other, not with real hardware.
#
# Environment: KFW_BENCH_SIZES (default "0 100 1000 10000 100000"),
# KFW_BENCH_ROUNDS (15), KFW_BENCH_COUNT (round trips per round, 500),
# KFW_BENCH_BUDGET (at most that many ms per round, 1000), KFW_BENCH_SEED (1),
# KFW_BENCH_SET (unique, the default: rulegen's rules that never overlap;
# overlap: rulegen's overlapping rules, which nft-set cannot take; acl1, fw1
# or ipc1: that ClassBench set, less the rules that could match the probe,
# by tests/bench/classbench-rules.sh, sizes "0 100 1000 10000 90000" unless
# given, nft-set left out too),
# and run-vm.sh's KFW_VM_MEMORY (here 2G), KFW_VM_TIMEOUT (here 5400),
# KFW_VM_CPUS (here 1) and KFW_VM_ICOUNT (here shift=0).

# shellcheck source=tests/strict.sh
. "$(dirname "${BASH_SOURCE[0]}")/../strict.sh"

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
cache=${KFW_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/kfw}/bench

mode=bench
case ${1:-} in
--smoke) mode=smoke ;;
'') ;;
*) sed -n '8,9s/^# //p' "${BASH_SOURCE[0]}" >&2; exit 2 ;;
esac

if [[ $mode == smoke ]]; then
	# A directory of its own: make check may run while a bench runs.
	cache=$cache/smoke
	sizes="0 100" rounds=1 count=200 budget=2000
	output=$cache/LAST.txt
else
	sizes=${KFW_BENCH_SIZES:-0 100 1000 10000 100000}
	rounds=${KFW_BENCH_ROUNDS:-15}
	count=${KFW_BENCH_COUNT:-500}
	budget=${KFW_BENCH_BUDGET:-1000}
	output=$cache/LAST.txt
fi
seed=${KFW_BENCH_SEED:-1}
set=${KFW_BENCH_SET:-unique}
case $set in
unique | overlap) ;;
acl1 | fw1 | ipc1) [[ $mode == smoke ]] || sizes=${KFW_BENCH_SIZES:-0 100 1000 10000 90000} ;;
*) echo "bench: KFW_BENCH_SET is unique, overlap, acl1, fw1 or ipc1, not '$set'" >&2; exit 2 ;;
esac
export KFW_VM_MEMORY=${KFW_VM_MEMORY:-2G}
# One vCPU: under TCG a wakeup across vCPUs costs milliseconds, and two
# vCPUs bring that jitter into every round trip. And a clock that counts
# instructions (qemu -icount shift=0: one instruction, one ns), so that the
# other VMs and builds on this host do not show in the numbers; an empty
# KFW_VM_ICOUNT measures wall time instead.
export KFW_VM_CPUS=${KFW_VM_CPUS:-1}
export KFW_VM_ICOUNT=${KFW_VM_ICOUNT-shift=0}
export KFW_VM_TIMEOUT=${KFW_VM_TIMEOUT:-5400}

mkdir -p "$cache"

main() {
started=$(date +%s)

make -C "$repo" --no-print-directory stock-build >/dev/null
kver=$("$repo/tests/deps.sh" --kernel-version)

gcc -O2 -Wall -Wextra -Werror -o "$cache/rulegen" "$here/rulegen.c"
rules=$cache/rules
rm -rf "$rules"
mkdir -p "$rules"
for n in $sizes; do
	for format in fwctl iptables nft-chain nft-set; do
		# bench-vm.sh loads the others up to 10000 rules only
		[[ $format == fwctl || $n -le 10000 ]] || continue
		[[ $set == unique || $format != nft-set ]] || continue
		case $set in
		unique) "$cache/rulegen" "$format" "$n" "$seed" ;;
		overlap) "$cache/rulegen" "$format" "$n" "$seed" overlap ;;
		*) "$here/classbench-rules.sh" "$format" "$n" "$set" ;;
		esac >"$rules/$format-$n.rules"
	done
done

ship=()
for file in /usr/sbin/iptables-legacy /usr/sbin/iptables-legacy-restore /usr/sbin/nft \
	/usr/lib/x86_64-linux-gnu/xtables /etc/protocols /etc/services "$rules"; do
	ship+=(--file "$file")
done
for module in ts_kmp nf_tables iptable_filter xt_tcpudp; do
	ship+=(--module "$module")
done

echo "bench: sizes $sizes, $rounds rounds of up to $count round trips or ${budget} ms, seed $seed, rule set $set"
vm_output=$cache/vm-output.txt
status=0
"$repo/tests/vm/run-vm.sh" --kernel "/boot/vmlinuz-$kver" --quiet "${ship[@]}" \
	"$here/bench-vm.sh" "$rules" "$sizes" "$rounds" "$count" "$budget" "$mode" |
	tee "$vm_output" || status=${PIPESTATUS[0]}

if [[ $mode == smoke ]]; then
	if ! grep -q '^bench-smoke: [0-9]* passed' "$vm_output"; then
		echo "bench-smoke: 0 passed, 1 failed"
		[[ $status -ne 0 ]] || status=1
	fi
	return "$status"
fi

native_output=$cache/native-output.txt
: >"$native_output"

if [[ -f $repo/tests/classifier/Makefile ]]; then
	echo "bench: make -C tests/classifier bench"
	make -C "$repo/tests/classifier" --no-print-directory bench 2>&1 | tee "$native_output" ||
		echo "bench: make -C tests/classifier bench failed"
else
	echo "bench: no tests/classifier/Makefile yet, no native classifier numbers"
fi

elapsed=$(($(date +%s) - started))
clock="wall-clock times"
[[ -z $KFW_VM_ICOUNT ]] || clock="-icount $KFW_VM_ICOUNT: times count guest instructions, 1 ns each"
cat <<EOF

=== kfw benchmark, $(date -u '+%Y-%m-%d %H:%M:%S UTC'), ${elapsed} s
host CPU:  $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1), $(nproc) cores
VM:        qemu-system-x86_64 under TCG (no KVM), $KFW_VM_CPUS vCPU(s), $KFW_VM_MEMORY, $clock
kernel:    $kver in the VM (host $(uname -r))
probe:     UDP request/response over veth to port 7, which no rule matches; seed $seed
rules:     set $set (KFW_BENCH_SET): tests/bench/rulegen.c or, for a ClassBench set, classbench-rules.sh
cost_ns:   mean round trip (median of $rounds rounds); excess = cost - cost(none)
EOF

cat "$vm_output" "$native_output" | tr -d '\r' | grep -a '^BENCH' | awk '
function field(name,    i) {
	for (i = 2; i <= NF; i++)
		if (index($i, name "=") == 1)
			return substr($i, length(name) + 2)
	return ""
}
# The table of costs, rows N, columns implementations.
function matrix(cost,    s, n, i) {
	printf "%8s", "rules"
	for (i = 1; i <= 5; i++)
		printf " %22s", impls[i]
	printf "\n"
	for (s = 1; s <= nsizes; s++) {
		n = sizes[s]
		if (!((("none", n) in cost) || (("kfw", n) in cost)))
			continue
		printf "%8s", n
		for (i = 1; i <= 5; i++) {
			if (!((impls[i], n) in cost))
				printf " %22s", "-"
			else if (impls[i] == "none" || !(("none", n) in cost))
				printf " %22s", cost[impls[i], n]
			else
				printf " %22s", cost[impls[i], n] " (" cost[impls[i], n] - cost["none", n] ")"
		}
		printf "\n"
		last = n
	}
}
# The three ratios the scaling goals are stated in.
function ratios(cost,    s, both, r1, r2, r3) {
	r1 = r2 = r3 = "n/a"
	if ((("kfw", last) in cost) && (("kfw", 0) in cost))
		r1 = ratio(cost["kfw", last] - cost["none", last], cost["kfw", 0] - cost["none", 0])
	if ((("iptables", 10000) in cost) && (("kfw", 10000) in cost))
		r2 = ratio(cost["iptables", 10000] - cost["none", 10000], cost["kfw", 10000] - cost["none", 10000])
	for (s = 1; s <= nsizes; s++)
		if ((("nft-set", sizes[s]) in cost) && (("kfw", sizes[s]) in cost))
			both = sizes[s]
	if (both != "")
		r3 = ratio(cost["nft-set", both], cost["kfw", both])
	printf "kfw excess at %s / kfw excess at 0: %s\n", last, r1
	printf "iptables excess / kfw excess at 10000: %s\n", r2
	printf "nft-set cost / kfw cost at %s: %s\n", both, r3
}
# An excess at or below zero is noise: no ratio to it.
function ratio(a, b) { return b > 0 ? sprintf("%.2f", a / b) : "n/a (denominator " b ")" }
$1 == "BENCH" {
	impl = field("impl"); n = field("rules"); cost[impl, n] = field("cost_ns")
	if (!(n in seen)) { seen[n] = 1; sizes[++nsizes] = n }
	if (impl ~ /-native$/) native[impl] = 1
}
$1 == "BENCH-MIN" { fastest[field("impl"), field("rules")] = field("min_ns") }
$1 == "BENCH-UPDATE" { update[field("op"), field("rules")] = field("ms") }
$1 == "BENCH-MEM" { mem[field("rules")] = field("bytes_per_rule") " (kernel " field("kernel_bytes_per_rule") ")" }
BEGIN { split("none kfw iptables nft-chain nft-set", impls, " ") }
END {
	printf "\nmedian of the rounds: cost_ns (excess)\n"
	matrix(cost)
	printf "\nfastest round, for comparison: host load only ever slows a round down\n"
	matrix(fastest)
	printf "\nratios of the medians\n"
	ratios(cost)
	printf "\nratios of the fastest rounds\n"
	ratios(fastest)
	printf "\nkfw updates and reads (ms) and memory (bytes per rule)\n%8s", "rules"
	nops = split("restore add insert del add-kernel insert-kernel del-kernel list save proc-rules", ops, " ")
	for (i = 1; i <= nops; i++)
		printf " %13s", ops[i]
	printf "  memory\n"
	for (s = 1; s <= nsizes; s++) {
		n = sizes[s]
		if (!(("restore", n) in update))
			continue
		printf "%8s", n
		for (i = 1; i <= nops; i++)
			printf " %13s", (ops[i], n) in update ? update[ops[i], n] : "-"
		printf "  %s\n", n in mem ? mem[n] : "-"
	}
	if (length(native)) {
		printf "\nnative classifier on the host (ns per lookup)\n"
		for (s = 1; s <= nsizes; s++)
			for (impl in native)
				if ((impl, sizes[s]) in cost)
					printf "%8s %-14s %s\n", sizes[s], impl, cost[impl, sizes[s]]
	}
}'
grep -a -E '^(CLASSBENCH|DPDK_ACL) ' "$native_output" | awk '
	{
		delete v
		for (i = 2; i <= NF; i++) {
			split($i, kv, "=")
			v[kv[1]] = kv[2]
		}
		name = v["set"]
		sub(/.*\//, "", name)
		if ($1 == "DPDK_ACL") {
			dpdk[name] = v["lookup_ns"]
			dpdk_alg[name] = v["alg"]
			dpdk_bad[name] = v["mismatches"]
			next
		}
		names[++n] = name
		line[name] = sprintf("%-14s %7s %10s %9s %13s %9s %10s %10s", name, v["rules"], v["mismatches"],
			v["lookup_ns"], v["bytes_per_rule"], v["build_ms"], v["insert_us"], v["remove_us"])
		kfw[name] = v["lookup_ns"]
	}
	END {
		if (!n)
			exit
		printf "\nkfw_cls on the ClassBench sets, on the host (tests/classifier/classbench.c),\n"
		printf "and DPDK librte_acl on the same rules and trace (tests/classifier/dpdk-acl.sh)\n"
		printf "%-14s %7s %10s %9s %13s %9s %10s %10s %9s %9s\n", "set", "rules", "mismatches",
			"lookup_ns", "bytes_per_rule", "build_ms", "insert_us", "remove_us", "dpdk_ns", "kfw/dpdk"
		for (i = 1; i <= n; i++) {
			name = names[i]
			d = "-"
			ratio = "-"
			if (name in dpdk) {
				d = dpdk[name] (dpdk_bad[name] != 0 ? "!" : "")
				if (dpdk[name] > 0)
					ratio = sprintf("%.2f", kfw[name] / dpdk[name])
			}
			printf "%s %9s %9s\n", line[name], d, ratio
			if (name in dpdk_alg)
				alg = dpdk_alg[name]
		}
		if (alg != "")
			printf "(DPDK classifies with %s; \"!\" marks a set where its answers differ from the expected ones)\n", alg
	}'
return "$status"
}

status=0
main 2>&1 | tee "$output.tmp" || status=${PIPESTATUS[0]}
mv -f "$output.tmp" "$output"
echo "bench: output kept in $output"
exit "$status"
