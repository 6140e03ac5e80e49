#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=dash disable=SC3043 # busybox ash has local
#
# bench-vm.sh: the per-packet cost of kfw, iptables and nftables, measured in
# the VM. tests/bench/bench.sh builds the rule files and runs it:
#
#   tests/vm/run-vm.sh --file RULEDIR ... tests/bench/bench-vm.sh \
#       RULEDIR SIZES ROUNDS COUNT BUDGET [smoke]
#
# RULEDIR holds IMPL-N.rules from tests/bench/rulegen.c for IMPL in fwctl,
# iptables, nft-chain and nft-set and every N in SIZES (e.g. "0 100 1000").
# Each measurement is COUNT UDP round trips of `kfwprobe udp-rr` (fewer when
# they take more than BUDGET ms) and ROUNDS are taken of each; its line is
#
#   BENCH impl=IMPL rules=N cost_ns=X
#
# X being the median over the rounds of the mean round-trip time in ns, and
#
#   BENCH-MIN impl=IMPL rules=N min_ns=X
#
# the fastest round: the host's load only ever slows a round down.
#
# Every implementation has its own pair of namespaces, client c-IMPL
# (198.19.255.1) and server s-IMPL (198.19.255.2) on a veth pair, the rules
# being in the server's: kfw "in", iptables-legacy's filter INPUT and an nft
# chain at hook input, linear (nft-chain) or one concatenated interval map
# of verdicts (nft-set: pipapo). The probes go to udp port 7, outside every
# rule's ports (1024-60999), from addresses inside many rules' prefixes, so
# each packet pays the whole lookup and none is dropped: a lost probe fails
# the run. "none" is a pair without any filter, kfw not even loaded: kfw hooks
# into every namespace as soon as it is loaded. So each round measures none,
# iptables, nft-chain and nft-set in turn with kfw unloaded, then loads kfw,
# restores its rules and measures it: all five within seconds, since on a
# wall clock the emulated machine's speed drifts with the host's load
# (bench.sh gives the VM a clock that counts instructions instead).
#
# It also prints how long kfw takes to restore the N rules (median over the
# rounds), for one add, insert and del on the N-rule table (the whole
# fwctl command, and, as op=add-kernel etc., the kernel's handling of its
# request alone), and to list, save and read /proc/net/kfw/rules:
#
#   BENCH-UPDATE op=restore|add|insert|del|add-kernel|insert-kernel|del-kernel|list|save|proc-rules rules=N ms=X
#
# what the rules cost in memory, from /proc/meminfo before and after the
# first restore:
#
#   BENCH-MEM rules=N bytes_per_rule=X kernel_bytes_per_rule=Y
#
# X from MemAvailable, Y from Slab + VmallocUsed + Percpu, and how long the
# others took to load their rules:
#
#   BENCH-LOAD impl=IMPL rules=N ms=X
#
# "smoke" adds the checks that every implementation took its rules whole.

# shellcheck source=tests/vm/lib.sh
. /tests/lib.sh

ruledir=$1 sizes=$2 rounds=$3 count=$4 budget=$5 mode=${6:-bench}
# shellcheck disable=SC2034 # lib.sh's finish prints it
suite=bench
# shellcheck disable=SC2034
[ "$mode" = smoke ] && suite=bench-smoke

client=198.19.255.1
server=198.19.255.2
port=7
impls="none iptables nft-chain nft-set kfw"
results=/tmp/bench
mkdir -p $results

c() { local impl=$1; shift; ip netns exec "c-$impl" "$@"; }
s() { local impl=$1; shift; ip netns exec "s-$impl" "$@"; }

# The largest N each implementation is measured at. Loading nft-set is
# quadratic (pipapo grows its lookup tables element by element): under TCG
# 1000 elements take 1 s, 3000 10 s, 10000 2 min, so 100000 would take
# hours; iptables and a linear nft chain are measured as far, for comparison.
max_rules() {
	case $1 in
	iptables | nft-chain | nft-set) echo 10000 ;;
	*) echo 1000000 ;;
	esac
}

# to_ms NS: nanoseconds as milliseconds with one decimal.
to_ms() { awk -v ns="$1" 'BEGIN { printf "%.1f", ns / 1e6 }'; }

# timed IMPL COMMAND...: run COMMAND in the server namespace, print its ms.
timed() {
	local impl=$1 out
	shift
	out=$(s "$impl" kfwprobe time "$@") || { echo "$*: failed" >&2; return 1; }
	to_ms "${out#elapsed_ns }"
}

pair_up() {
	local impl=$1 ns
	for ns in "c-$impl" "s-$impl"; do
		ip netns add "$ns"
		ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1
		ip netns exec "$ns" sysctl -qw net.ipv6.conf.default.disable_ipv6=1
		ip -n "$ns" link set lo up
	done
	ip link add eth0 netns "c-$impl" type veth peer name eth0 netns "s-$impl"
	ip -n "c-$impl" addr add $client/24 dev eth0
	ip -n "s-$impl" addr add $server/24 dev eth0
	ip -n "c-$impl" link set eth0 up
	ip -n "s-$impl" link set eth0 up
	wait_up "ip netns exec c-$impl" eth0
	wait_up "ip netns exec s-$impl" eth0
	servers="$servers $(s "$impl" kfwprobe udp-echo $server $port)"
}

# measure IMPL N: one round; its mean round-trip time goes to the results.
measure() {
	local impl=$1 n=$2 out
	if out=$(c "$impl" kfwprobe udp-rr $server $port "$count" budget "$budget" timeout 1000); then
		echo "  $impl rules=$n: $out"
		echo "${out##* }" >>"$results/$impl-$n"
	else
		fail "$impl with $n rules: every probe comes back" "$out"
	fi
}

# median FILE: of the numbers in FILE, one a line.
median() { sort -n "$1" | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

# report IMPL N: the median of the rounds, and for the log their spread.
report() {
	local impl=$1 n=$2 median
	[ -s "$results/$impl-$n" ] || return 0
	median=$(median "$results/$impl-$n")
	sort -n "$results/$impl-$n" | awk -v what="$impl rules=$n" '{ v[NR] = $1 }
		END { printf "  %s: %d rounds, quartiles %d %d %d, max %d\n", what, NR,
			v[int((NR + 3) / 4)], v[int((NR + 1) / 2)], v[int((3 * NR + 3) / 4)], v[NR]
		      printf "BENCH-MIN impl=%s min_ns=%d\n", what, v[1] }'
	echo "BENCH impl=$impl rules=$n cost_ns=$median"
	check_match "$impl with $n rules: a cost" '^[0-9]+$' "$median"
}

# meminfo: "MemAvailable Slab+VmallocUsed+Percpu", in kB, caches dropped.
meminfo() {
	sync
	echo 3 >/proc/sys/vm/drop_caches
	awk '$1 == "MemAvailable:" { a = $2 }
	     $1 == "Slab:" || $1 == "VmallocUsed:" || $1 == "Percpu:" { k += $2 }
	     END { print a, k }' /proc/meminfo
}

# --- kfw unloaded: none, iptables, nft-chain, nft-set -------------------------

# load IMPL N: put the N-rule set in place; false when IMPL skips N.
load() {
	local impl=$1 n=$2 file ms got
	[ "$n" -le "$(max_rules "$impl")" ] || return 1
	case $impl in
	none) return 0 ;;
	iptables) file=$ruledir/iptables-$n.rules ;;
	nft-*) file=$ruledir/$impl-$n.rules ;;
	esac
	# An overlapping set has no nft-set file: pipapo refuses overlaps.
	[ -f "$file" ] || return 1
	case $impl in
	iptables) ms=$(timed "$impl" /usr/sbin/iptables-legacy-restore "$file") ;;
	nft-*)
		s "$impl" /usr/sbin/nft flush ruleset
		ms=$(timed "$impl" /usr/sbin/nft -f "$file")
		;;
	esac || { fail "$impl takes $n rules" "$(head -n 5 "$file")"; return 1; }
	echo "BENCH-LOAD impl=$impl rules=$n ms=$ms"
	[ "$mode" = smoke ] || return 0
	case $impl in
	iptables) got=$(s "$impl" /usr/sbin/iptables-legacy -S INPUT | grep -c '^-A') ;;
	nft-chain) got=$(s "$impl" /usr/sbin/nft list chain ip kfwbench input | grep -c ' drop$') ;;
	nft-set) got=$(s "$impl" /usr/sbin/nft list map ip kfwbench rules | grep -o ': drop' | grep -c .) ;;
	esac || true
	check_eq "$impl holds all $n rules" "$n" "$got"
}

unload() {
	case $1 in
	iptables) s "$1" /usr/sbin/iptables-legacy -F INPUT ;;
	nft-*) s "$1" /usr/sbin/nft flush ruleset ;;
	esac
}

# --- kfw ---------------------------------------------------------------------

kfw_stat() { s kfw cat /proc/net/kfw/stats | awk -v name="$1" '$1 == name { print $2 }'; }

# kfw_load N FIRST: load kfw and restore the N rules, timed. FIRST (1 in the
# first round) measures memory and checks the count.
kfw_load() {
	local n=$1 first=$2 before after ms
	modprobe kfw
	[ "$first" -eq 0 ] || before=$(meminfo)
	if ms=$(timed kfw fwctl restore "$ruledir/fwctl-$n.rules"); then
		echo "$ms" >>"$results/restore-$n"
	else
		fail "kfw takes $n rules"
	fi
	[ "$first" -eq 1 ] || return 0
	sleep 2	# the empty table it replaced is freed after a grace period
	after=$(meminfo)
	if [ "$n" -gt 0 ]; then
		echo "$before $after" | awk -v n="$n" '{
			printf "BENCH-MEM rules=%d bytes_per_rule=%d kernel_bytes_per_rule=%d\n",
				n, ($1 - $3) * 1024 / n, ($4 - $2) * 1024 / n }'
	fi
	check_eq "kfw holds all $n rules" "$n" "$(kfw_stat rules)"
}

# kernel_trace_begin: time the kernel's handling of each single add and
# del from now on, with the function_graph tracer. set_ftrace_filter
# instruments those two functions alone, so the commands around them run
# at full speed; the clock is the guest's, which counts instructions under
# bench.sh.
tracing=/sys/kernel/tracing
kernel_trace_begin() {
	[ -e $tracing/trace ] || mount -t tracefs tracefs $tracing || return 1
	echo 1 >$tracing/max_graph_depth &&
		echo "kfw_nl_add_rule kfw_nl_del_rule" >$tracing/set_ftrace_filter &&
		echo function_graph >$tracing/current_tracer &&
		echo >$tracing/trace
}

# kernel_trace_end N: stops tracing, and prints the kernel time of the add,
# insert (both kfw_nl_add_rule) and del of kfw_last, in that order.
kernel_trace_end() {
	awk -v n="$1" '/kfw_nl_(add|del)_rule/ {
		for (i = 1; i < NF; i++)
			if ($(i + 1) == "us" && $i ~ /^[0-9.]+$/) {
				op = /add/ ? (adds++ ? "insert" : "add") : "del"
				printf "BENCH-UPDATE op=%s-kernel rules=%d ms=%.3f\n", op, n, $i / 1000
			}
	}' $tracing/trace
	echo nop >$tracing/current_tracer
	echo >$tracing/set_ftrace_filter
}

# kfw_last N: after the last round, the counters, then reads and updates.
kfw_last() {
	local n=$1 ms handle extra op traced
	check_eq "no probe hit a kfw rule" 0 \
		"$(s kfw cat /proc/net/kfw/rules | awk 'NR > 1 && $4 != 0' | wc -l)"
	check_eq "kfw dropped nothing" 0 "$(kfw_stat in_ipv4_dropped)"
	if [ "$n" -gt 0 ]; then
		check_match "kfw accepted the probes" '^[1-9][0-9]*$' "$(kfw_stat in_ipv4_accepted)"
	else
		# No rules and accept policies: kfw takes no hooks at all.
		check_eq "an empty kfw saw none of the probes" 0 "$(kfw_stat in_ipv4_accepted)"
	fi
	echo "BENCH-UPDATE op=restore rules=$n ms=$(median "$results/restore-$n")"
	for op in list save proc-rules; do
		case $op in
		proc-rules) ms=$(timed kfw cat /proc/net/kfw/rules) ;;
		*) ms=$(timed kfw fwctl $op) ;;
		esac && echo "BENCH-UPDATE op=$op rules=$n ms=$ms"
	done
	extra="in drop proto tcp src 198.19.255.254 dport 1"
	traced=
	kernel_trace_begin && traced=1
	# shellcheck disable=SC2086 # a rule is words
	ms=$(timed kfw fwctl add $extra) && echo "BENCH-UPDATE op=add rules=$n ms=$ms"
	# shellcheck disable=SC2086
	ms=$(timed kfw fwctl insert 1 $extra) && echo "BENCH-UPDATE op=insert rules=$n ms=$ms"
	handle=$(s kfw tail -n 1 /proc/net/kfw/rules | cut -d ' ' -f 1)
	ms=$(timed kfw fwctl del "$handle") && echo "BENCH-UPDATE op=del rules=$n ms=$ms"
	[ -z "$traced" ] || kernel_trace_end "$n"
	check_eq "kfw holds $n rules and one more after add, insert, del" $((n + 1)) "$(kfw_stat rules)"
}

# --- The rounds ------------------------------------------------------------------

# size N: every implementation at N rules. The others keep their rules for
# all the rounds; kfw is loaded for its turn in each round and unloaded
# after it, restoring its N rules each time (a few seconds at 100000).
size() {
	local n=$1 impl round=1 active=
	for impl in none iptables nft-chain nft-set; do
		load "$impl" "$n" && active="$active $impl"
	done
	while [ $round -le "$rounds" ]; do
		echo "rules=$n round $round"
		for impl in $active; do
			measure "$impl" "$n"
		done
		kfw_load "$n" $((round == 1))
		measure kfw "$n"
		[ $round -lt "$rounds" ] || kfw_last "$n"
		rmmod kfw
		round=$((round + 1))
	done
	for impl in $active kfw; do
		report "$impl" "$n"
	done
	for impl in $active; do
		unload "$impl"
	done
}

# -------------------------------------------------------------------------------

for impl in $impls; do
	pair_up "$impl"
done
for impl in $impls; do
	check "$impl: the probe goes through" c "$impl" kfwprobe udp-rr $server $port 10
done
rmmod kfw 2>/dev/null || true
modprobe nf_tables
modprobe iptable_filter
modprobe xt_tcpudp

for n in $sizes; do
	size "$n"
done

# shellcheck disable=SC2086 # a list of pids
kill $servers 2>/dev/null || true
finish
