#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# shellcheck disable=SC3043 # busybox ash has local
#
# stress.sh: kfw's teardown and counters under load, for the debug kernel,
# where KASAN, lockdep and kmemleak watch. Runs inside the VM:
#
#   tests/kernel/debug-vm.sh tests/vm/stress.sh short|long
#
# 1. The module goes away and comes back while UDP floods run through the
#    hooks, whose tables make every packet search its payload: a CPU still
#    inside kfw_hook() when the table is freed reads freed memory, and KASAN
#    says so.
# 2. Namespaces with stateful and logging rules are made, get traffic and
#    are deleted, while the floods go on.
# 3. kmemleak finds nothing left behind.
# 4. Counters are exact: a rule counts every datagram of a probe while
#    unrelated rules are added, inserted (renumbering the table), deleted
#    and restored around it; and while restore swaps two tables back and
#    forth, every datagram meets one whole table or the other.
#
# short is the smoke test of make check (a few minutes on the debug kernel
# under TCG); long is the soak of make stress. The host whose table is busiest
# is the VM's own namespace, so that fwctl and /proc/net/kfw need no nsenter
# there: on the debug kernel under TCG every program started costs a good
# fraction of a second.

. "$(dirname "$0")/lib.sh"

scale=${1:-short}
case $scale in
short) cycles=10 netns_cycles=10 churn=150 swaps=40 ;;
long) cycles=50 netns_cycles=50 churn=2000 swaps=300 ;;
*)
	echo "usage: stress.sh short|long" >&2
	finished=1
	exit 2
	;;
esac

echo "== kfw stress ($scale: $cycles unloads, $netns_cycles namespaces, $churn changes, $swaps swaps) on $(uname -r), $(nproc) cpus"


# stats_of NAME...: those counters of /proc/net/kfw/stats, on one line;
# stats_in NS NAME...: the same in a namespace.
# shellcheck disable=SC2016 # an awk program
stats_awk='
	BEGIN { n = split(names, name) }
	{ v[$1] = $2 }
	END { for (i = 1; i <= n; i++) printf "%s%s", v[name[i]] + 0, i < n ? " " : "\n" }'
stats_of() { awk -v names="$*" "$stats_awk" /proc/net/kfw/stats; }
stats_in() {
	local ns=$1
	shift
	in_ns "$ns" awk -v names="$*" "$stats_awk" /proc/net/kfw/stats
}

# counts_in NS "DIR ACTION MATCH": "PACKETS BYTES" of that rule.
counts_in() {
	in_ns "$1" cat /proc/net/kfw/rules | rule_line "$2" | cut -d ' ' -f 2-
}

# uptime_s: seconds since boot, for the time each part takes.
uptime_s() { cut -d ' ' -f 1 /proc/uptime; }
took() { awk -v a="$1" -v b="$(uptime_s)" 'BEGIN { printf "%.0f", b - a }'; }

# sum: the sum of the first field of every line on stdin.
sum() { awk '{ s += $1 } END { print s + 0 }'; }

# --- The network ----------------------------------------------------------------------
#
# Two clients, each in a namespace with a veth to the VM's own namespace, the
# host, with lib.sh's addresses. IPv6 routers are not solicited: no noise.

sysctl -qw net.ipv6.conf.default.router_solicitations=0
vm_host_up

stop=/tmp/stress.stop

# flood NS ADDR PORT: UDP datagrams of 1000 bytes, as fast as they go, until
# $stop exists.
flood() {
	while [ ! -e $stop ]; do
		in_ns "$1" kfwprobe udp-flood "$2" "$3" 2000 size 1000 >/dev/null 2>&1 || true
	done
}

# The floods are niced, so that the commands under test keep a CPU.
rm -f $stop
flood client1 "$host1_4" 9000 &
floods=$!
flood client2 "$host2_6" 9001 &
floods="$floods $!"
# shellcheck disable=SC2086 # a list of pids
renice -n 10 -p $floods >/dev/null

# --- 1. Unloading under traffic ------------------------------------------------
#
# Every datagram of the floods passes kfw's hooks out of its client and into
# the host, and its echo back. The host's rules make each one search its
# payload for six patterns it does not hold, so a CPU spends long inside
# kfw_hook() per packet, reading the table and its rules: the window in
# which an unload that frees them too early is caught is as wide as it gets.

{
	echo "policy in accept"
	echo "policy out accept"
	for i in 1 2 3 4 5 6; do
		echo "add in accept proto udp dport 9000-9001 payload \"kfw-stress-absent-$i\""
	done
	echo "add in drop proto tcp dport 1000-1999"
	echo "add in accept proto udp src 192.0.2.0/24 dport 9000"
	echo "add in accept proto udp state new,established"
	echo "add in accept proto udp src 2001:db8::/32"
	echo "add out accept proto udp sport 9000-9001 log log-rate 1/s"
	echo "add out accept proto icmpv6 icmp-type neighbour-advertisement"
} >/tmp/stress-host.rules
{
	echo "policy in accept"
	echo "policy out accept"
	echo "add out accept proto udp dport 9000-9001 payload \"kfw-stress-absent\""
	echo "add out accept state new,established"
	echo "add out drop proto tcp dport 1-10"
	echo "add in accept proto udp sport 9000-9001"
} >/tmp/stress-client.rules

# unload_cycle N: load kfw, give the host and both clients their rules, see
# the floods counted by the host's hooks, unload. Prints what went wrong, if
# anything.
unload_cycle() {
	local before after i
	modprobe kfw || { echo "cycle $1: modprobe kfw failed"; return 0; }
	fwctl restore /tmp/stress-host.rules || echo "cycle $1: restore in the host failed"
	in_ns client1 fwctl restore /tmp/stress-client.rules || echo "cycle $1: restore in client1 failed"
	in_ns client2 fwctl restore /tmp/stress-client.rules || echo "cycle $1: restore in client2 failed"
	# The hooks must be busy at the moment of the unload, or it proves
	# nothing: both floods are seen to go on (within 10 s) just before it.
	before=$(stats_of in_ipv4_seen in_ipv6_seen)
	i=0
	while :; do
		usleep 100000
		after=$(stats_of in_ipv4_seen in_ipv6_seen)
		[ "${before% *}" -ge "${after% *}" ] || [ "${before#* }" -ge "${after#* }" ] || break
		i=$((i + 1))
		if [ $i -ge 100 ]; then
			echo "cycle $1: no packets through the host's hooks (seen IPv4, IPv6: $before, then $after)"
			break
		fi
	done
	rmmod kfw || echo "cycle $1: rmmod kfw failed"
}

# run_cycles N FUNCTION: FUNCTION 1, then 2, up to N; whatever they print
# (problems only) goes to $problems.
run_cycles() {
	local i=0
	problems=
	while [ $i -lt "$1" ]; do
		i=$((i + 1))
		problems="$problems$($2 $i 2>&1 || echo "cycle $i: stopped with status $?")"
	done
}

started=$(uptime_s)
run_cycles "$cycles" unload_cycle
check_eq "$cycles unloads under traffic, each with packets in the hooks just before" "" "$problems"
# shellcheck disable=SC2086 # a list of pids
check "the floods outlived the unloads" kill -0 $floods
check "modprobe kfw after the last unload" modprobe kfw
check_eq "the host's table is empty again" "policy in accept
policy out accept" "$(fwctl save)"
echo "   (unloads took $(took "$started") s)"

# --- 2. Namespaces that come and go ---------------------------------------------
#
# Each gets its own veth to the host, a /30 and a /64 of its own (a dying
# namespace may still hold its addresses while the next one is made), rules
# that turn connection tracking on and log, a server, traffic, and a flood
# still running when it is deleted.

{
	echo "policy in drop"
	echo "policy out accept"
	echo "add in accept state established,related"
	echo "add in drop state invalid log"
	echo "add in accept proto udp dport 7000 state new log log-rate 2/s comment \"probe\""
	echo "add in accept proto udp dport 7001-7010"
	echo "add in accept proto icmpv6"
	echo "add in accept proto icmp icmp-type echo-request"
	echo "add out accept state new,established,related"
} >/tmp/stress-cyc.rules

# netns_cycle N: prints what went wrong, if anything. ip -batch makes each
# side's links and addresses in one program.
netns_cycle() {
	local ns="cyc$1" dev="c$1" k=$(($1 % 32)) h4 c4 h6 c6 srv out flood_pid
	h4=203.0.113.$((128 + 4 * k + 1)) c4=203.0.113.$((128 + 4 * k + 2))
	h6=2001:db8:3:$k::1 c6=2001:db8:3:$k::2
	# This kernel has no file locks, which ip netns asks for, and says so.
	ip netns add "$ns" 2>/dev/null || { echo "cycle $1: ip netns add $ns failed"; return 0; }
	printf '%s\n' "link add $dev type veth peer name eth0 netns $ns" \
		"addr add $h4/30 dev $dev" "addr add $h6/64 dev $dev nodad" "link set $dev up" |
		ip -batch - || echo "cycle $1: the host's side failed"
	printf '%s\n' "link set lo up" "addr add $c4/30 dev eth0" "addr add $c6/64 dev eth0 nodad" \
		"link set eth0 up" | ip -n "$ns" -batch - || echo "cycle $1: the namespace's side failed"
	in_ns "$ns" fwctl restore /tmp/stress-cyc.rules || echo "cycle $1: restore failed"
	srv="$(in_ns "$ns" kfwprobe udp-echo 0.0.0.0 7000) $(in_ns "$ns" kfwprobe udp-echo :: 7000)"
	for addr in "$c4" "$c6"; do
		out=$(kfwprobe udp-send "$addr" 7000 5 timeout 5000 2>&1) ||
			echo "cycle $1: UDP to $addr: $out"
	done
	kfwprobe udp-flood "$c4" 7005 60000 >/dev/null 2>&1 &
	flood_pid=$!
	kfwprobe udp-send "$c6" 7001 20 timeout 1 >/dev/null 2>&1 || true
	# shellcheck disable=SC2086 # a list of pids
	kill $srv
	ip netns del "$ns" 2>/dev/null || echo "cycle $1: ip netns del $ns failed"
	{ kill $flood_pid && wait $flood_pid; } 2>/dev/null || true
}

started=$(uptime_s)
run_cycles "$netns_cycles" netns_cycle
check_eq "$netns_cycles namespaces made, used and deleted under traffic" "" "$problems"
# shellcheck disable=SC2086 # a list of pids
check "the floods went on" kill -0 $floods
touch $stop
# shellcheck disable=SC2086 # a list of pids
wait $floods || true
echo "   (namespaces took $(took "$started") s)"

# --- 3. Leaks ----------------------------------------------------------------------
#
# kmemleak reports an object only once it has stayed unreferenced over two
# scans; deleted namespaces are dismantled by a worker in the meantime.

kmemleak=/sys/kernel/debug/kmemleak
[ -e /sys/kernel/debug/kmemleak ] || mount -t debugfs debugfs /sys/kernel/debug 2>/dev/null || true
if [ -w $kmemleak ]; then
	started=$(uptime_s)
	echo scan >$kmemleak
	sleep 5
	echo scan >$kmemleak
	check_eq "kmemleak finds no leak" "" "$(cat $kmemleak)"
	echo "   (kmemleak took $(took "$started") s)"
else
	case $(uname -r) in
	*-kfwdebug) fail "kmemleak is there on the debug kernel" "no $kmemleak" ;;
	*) echo "skip - no kmemleak in this kernel" ;;
	esac
fi

# --- 4. Exact counters -------------------------------------------------------------
#
# A probe namespace sends UDP to a sink namespace, over IPv4 alone: with IPv6
# off neither sends anything else (ARP does not pass IP hooks), so the
# probe's out hook counts exactly what kfwprobe sent. A datagram that the
# socket accepted has been through that hook; one that met a drop there
# failed with EPERM and was not counted as sent. The sink drops the probe at
# its in hook, so nothing comes back.

for ns in probe sink; do
	ip netns add $ns 2>/dev/null
	in_ns $ns sysctl -qw net.ipv6.conf.all.disable_ipv6=1
	in_ns $ns sysctl -qw net.ipv6.conf.default.disable_ipv6=1
	ip -n $ns link set lo up
done
link probe eth0 sink eth0
address probe eth0 203.0.113.17/28
address sink eth0 203.0.113.18/28
ip -n probe link set eth0 up
ip -n sink link set eth0 up
in_ns sink fwctl add in drop proto udp dport 7777
reachable "in_ns probe" 203.0.113.18

probe_rule='out accept proto udp dst 203.0.113.18/32 dport 7777 comment "probe"'
sink_rule='in drop proto udp dport 7777'

# probe_loop FILE: bursts of 1000 datagrams until $stop exists; the number
# each burst sent goes to FILE.
probe_loop() {
	while [ ! -e $stop ]; do
		in_ns probe kfwprobe udp-send 203.0.113.18 7777 1000 timeout 1 2>/dev/null |
			sed -n 's/^sent \([0-9]*\) .*/\1/p' >>"$1"
	done
}

# ... 4a. A rule's counters while the table changes around it.
#
# The probe's rule comes first. The three after it match the probe too, and
# must count nothing: a packet that any change let slip past the probe's rule
# would show there (or be dropped, and be missing from the probe's count).
# Half the changes insert at positions 2 and 3, just behind the probe's rule,
# halving the room between two priorities each time, so that about every
# 32nd renumbers the table. Nothing goes in front of the probe's rule: that
# would make fresh room.

{
	echo "policy in accept"
	echo "policy out accept"
	echo "add $probe_rule"
	echo 'add out drop proto udp dport 7777 comment "shadowed"'
	echo 'add out accept proto udp comment "shadowed"'
	echo 'add out accept dst 203.0.113.16/28 comment "shadowed"'
} >/tmp/stress-probe.rules
{
	echo "policy in accept"
	echo "policy out accept"
	for i in $(seq 1 100); do
		echo "add in drop proto tcp src 198.51.100.$i dport $((1000 + i))-$((1000 + 2 * i))"
	done
} >/tmp/stress-unrelated.rules

# churn_op N: one unrelated change in the probe's namespace, or in the host.
# Deletes take the handles of rules without a comment, listed afresh when
# the last list is used up.
doomed=
churn_op() {
	local n=$1 h
	case $((n % 4)) in
	0) in_ns probe fwctl insert 2 out drop proto tcp dport $((n % 60000 + 1)) ;;
	1) in_ns probe fwctl insert 3 out drop proto udp dst 203.0.113.19/32 dport 7000-7999 ;;
	2)
		[ -n "$doomed" ] || doomed=$(in_ns probe fwctl list |
			awk '$1 ~ /^[0-9]+$/ && !/ comment / { print $1 }' | head -n 40 | xargs)
		h=${doomed%% *}
		doomed=${doomed#"$h"}
		doomed=${doomed# }
		in_ns probe fwctl del "$h"
		;;
	3)
		case $((n % 16)) in
		3) fwctl restore /tmp/stress-unrelated.rules ;;
		7) in_ns probe fwctl policy in drop ;;
		11) in_ns probe fwctl add out drop proto udp dport $((20000 + n % 5000))-$((20000 + n % 5000 + n % 700)) ;;
		15) in_ns probe fwctl policy in accept ;;
		esac
		;;
	esac
}

in_ns probe fwctl restore /tmp/stress-probe.rules
in_ns probe fwctl zero
in_ns sink fwctl zero
sent_file=/tmp/stress-sent
: >$sent_file
rm -f $stop
probe_loop $sent_file &
prober=$!
started=$(uptime_s)
failed_ops=0 added=0 deleted=0
i=0
while [ $i -lt "$churn" ]; do
	i=$((i + 1))
	churn_op $i >/tmp/stress-op 2>&1 || {
		failed_ops=$((failed_ops + 1))
		sed "s/^/    change $i: /" /tmp/stress-op
	}
	case $((i % 4)):$((i % 16)) in
	0:* | 1:* | *:11) added=$((added + 1)) ;;
	2:*) deleted=$((deleted + 1)) ;;
	esac
done
touch $stop
wait $prober || true
sent=$(sum <$sent_file)
echo "   ($churn changes took $(took "$started") s; the probe sent $sent datagrams in $(wc -l <$sent_file) bursts)"
check_eq "every one of $churn unrelated changes succeeded" 0 "$failed_ops"
check_match "the probe sent while the table changed" "^[1-9]" "$sent"
check_eq "the probe's rule counted every datagram sent, 60 bytes each" "$sent $((60 * sent))" \
	"$(counts_in probe "$probe_rule")"
check_eq "the rules behind it counted none" "0 0
0 0
0 0" "$(in_ns probe cat /proc/net/kfw/rules | awk '/ comment "shadowed"$/ { print $4, $5 }')"
check_eq "the out hook saw, accepted and dropped: $sent, $sent, 0" "$sent $sent 0" \
	"$(stats_in probe out_ipv4_seen out_ipv4_accepted out_ipv4_dropped)"
check_eq "the sink's rule counted every datagram sent (veth loses none)" "$sent" \
	"$(counts_in sink "$sink_rule" | cut -d ' ' -f 1)"
check_eq "the table holds its 4 rules, $added added and $deleted deleted" \
	$((4 + added - deleted)) "$(stats_in probe rules)"

# ... 4b. Restore swaps two tables under traffic.
#
# Both tables drop by policy what no rule accepts; A accepts the probe with
# its first rule, B with its last. A packet that met a table in the making
# (some of B's rules, not yet the last) would be dropped by the policy and
# counted as dropped. A replaced table's counters go with it, so the split
# between A's and B's rules cannot be read afterwards; their sum can: the
# hook's accepted count, which only their rules add to.

{
	echo "policy in accept"
	echo "policy out drop"
	echo 'add out accept proto udp dport 7777 comment "A"'
	for i in $(seq 1 60); do
		echo "add out drop proto tcp dst 198.51.100.$i/32 dport $i-$((i + 100))"
	done
} >/tmp/stress-a.rules
{
	echo "policy in accept"
	echo "policy out drop"
	for i in $(seq 1 60); do
		echo "add out drop proto udp dst 198.51.100.$i/32 dport 7000-$((7700 + i))"
	done
	echo 'add out accept proto udp dst 203.0.113.18/32 dport 7777 comment "B"'
} >/tmp/stress-b.rules
rule_a='out accept proto udp dport 7777 comment "A"'
rule_b='out accept proto udp dst 203.0.113.18/32 dport 7777 comment "B"'

in_ns probe fwctl restore /tmp/stress-a.rules
in_ns probe fwctl zero
in_ns sink fwctl zero
: >$sent_file
rm -f $stop
probe_loop $sent_file &
prober=$!
started=$(uptime_s)
failed_ops=0
i=0
while [ $i -lt "$swaps" ]; do
	i=$((i + 1))
	if [ $((i % 2)) -eq 1 ]; then table=b; else table=a; fi
	in_ns probe fwctl restore /tmp/stress-$table.rules >/tmp/stress-op 2>&1 || {
		failed_ops=$((failed_ops + 1))
		sed "s/^/    swap $i: /" /tmp/stress-op
	}
done
touch $stop
wait $prober || true
sent=$(sum <$sent_file)
echo "   ($swaps swaps took $(took "$started") s; the probe sent $sent datagrams in $(wc -l <$sent_file) bursts)"
check_eq "all $swaps restores succeeded" 0 "$failed_ops"
check_match "the probe sent while the tables swapped" "^[1-9]" "$sent"
check_eq "the out hook saw every datagram sent, once; none met a half-made table" \
	"seen $sent, dropped by the policy 0" \
	"$(stats_in probe out_ipv4_seen out_ipv4_dropped | sed 's/\(.*\) \(.*\)/seen \1, dropped by the policy \2/')"
check_eq "A's and B's rules accepted them all" "$sent" "$(stats_in probe out_ipv4_accepted)"
check_eq "the sink's rule counted them all" "$sent" "$(counts_in sink "$sink_rule" | cut -d ' ' -f 1)"

# With the probe paused around each swap, each generation's count can be
# read before it goes: A's count + B's count + the policy's = what was sent.
in_ns probe fwctl zero
in_ns sink fwctl zero
total=0 counted=0
for table in a b a b; do
	in_ns probe fwctl restore /tmp/stress-$table.rules
	n=$(in_ns probe kfwprobe udp-send 203.0.113.18 7777 500 timeout 1 2>/dev/null | sed -n 's/^sent \([0-9]*\) .*/\1/p')
	total=$((total + n))
	if [ $table = a ]; then rule=$rule_a; else rule=$rule_b; fi
	counted=$((counted + $(counts_in probe "$rule" | cut -d ' ' -f 1)))
done
check_match "quiet swaps: the probe sent" "^[1-9]" "$total"
check_eq "quiet swaps: A's + B's + the policy's counts = the $total sent" "$total" \
	"$((counted + $(stats_in probe out_ipv4_dropped)))"
check_eq "and the sink counted them" "$total" "$(counts_in sink "$sink_rule" | cut -d ' ' -f 1)"

# --- The end -----------------------------------------------------------------------

ip netns del probe 2>/dev/null
ip netns del sink 2>/dev/null
topology_down
check "rmmod kfw at the end" rmmod kfw
check_not "the kernel log has no warnings, bugs or leaks" sh -c "dmesg | grep -E '$kernel_complaints'"
finish
