# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=dash disable=SC3043 # busybox ash has local
#
# lib.sh: the words the kfw VM tests are written in. Sourced by the scripts
# that tests/vm/run-vm.sh runs inside the VM, under busybox ash.
#
# The network is three namespaces joined by two veth pairs. "host" is the
# machine kfw protects; the clients talk to it and, when a test says so, run
# rules of their own (kfw's table is per namespace, so a rule is added, listed
# and counted in the namespace whose traffic it filters):
#
#   client1 (n1)                    host (n0)                     client2 (n2)
#   eth0 192.0.2.2/24     <---->  h1 192.0.2.1/24
#        2001:db8:1::2/64            2001:db8:1::1/64
#                                 h2 198.51.100.1/24    <---->  eth0 198.51.100.2/24
#                                    2001:db8:2::1/64                2001:db8:2::2/64
#
# Checks print "ok - NAME" or "FAIL - NAME" followed by what went wrong, and
# finish prints "SUITE: N passed, N failed" and exits non-zero on a failure.
# A script that stops early (set -e) is counted as a failure too.

set -e

# Busybox's ash prefers its own applets to programs on PATH; the tests need
# iproute2's ip, for network namespaces.
ip() { /sbin/ip "$@"; }

# The kernel-log lines that fail a run: run-vm.sh hands its list to the VM.
kernel_complaints=$(sed -n "s/^bad_console='\(.*\)'\$/\1/p" /etc/kfw-vm.conf 2>/dev/null)
kernel_complaints=${kernel_complaints:-BUG:|WARNING:|Oops|Call Trace}

n0() { ip netns exec host "$@"; }
n1() { ip netns exec client1 "$@"; }
n2() { ip netns exec client2 "$@"; }

host1_4=192.0.2.1        client1_4=192.0.2.2
host1_6=2001:db8:1::1    client1_6=2001:db8:1::2
host2_4=198.51.100.1     client2_4=198.51.100.2
host2_6=2001:db8:2::1    client2_6=2001:db8:2::2

# over 4|6: the addresses of one family, for scenarios written once for both.
# shellcheck disable=SC2034 # for the scripts that source this file
over() {
	case $1 in
	4) v=IPv4 h1=$host1_4 c1=$client1_4 h2=$host2_4 c2=$client2_4 ;;
	6) v=IPv6 h1=$host1_6 c1=$client1_6 h2=$host2_6 c2=$client2_6 ;;
	esac
}

suite=$(basename "$0" .sh)
passed=0
failed=0
finished=

# --- Reporting ---------------------------------------------------------------

pass() {
	passed=$((passed + 1))
	echo "ok - $1"
}

# fail NAME [DETAILS]: DETAILS, if any, are printed indented under the name.
fail() {
	failed=$((failed + 1))
	echo "FAIL - $1"
	[ -z "$2" ] || printf '%s\n' "$2" | sed 's/^/    /'
}

# check NAME COMMAND...: COMMAND must succeed.
check() {
	local name=$1 out
	shift
	if out=$("$@" 2>&1); then
		pass "$name"
	else
		fail "$name" "\$ $*
$out
(exit status $?)"
	fi
}

# check_not NAME COMMAND...: COMMAND must fail.
check_not() {
	local name=$1 out
	shift
	if out=$("$@" 2>&1); then
		fail "$name" "\$ $*
$out
(succeeded, expected a failure)"
	else
		pass "$name"
	fi
}

# check_eq NAME EXPECTED ACTUAL
check_eq() {
	if [ "$2" = "$3" ]; then
		pass "$1"
	else
		fail "$1" "expected:
$2
got:
$3"
	fi
}

# check_match NAME EXTENDED-REGEX TEXT: some line of TEXT matches.
check_match() {
	if printf '%s\n' "$3" | grep -Eq -- "$2"; then
		pass "$1"
	else
		fail "$1" "no line matches /$2/ in:
$3"
	fi
}

# check_error EXPECTED NS COMMAND...: COMMAND, run through the namespace
# function NS, exits 1 with exactly EXPECTED on stderr, nothing on stdout, and
# the namespace's table (policies and rules) is what it was.
check_error() {
	local expected=$1 ns=$2 before after status problems=
	shift
	before=$($ns fwctl save 2>&1) || true
	"$@" >/tmp/stdout 2>/tmp/stderr && status=0 || status=$?
	after=$($ns fwctl save 2>&1) || true
	[ "$status" -eq 1 ] || problems="exit status $status, expected 1"
	[ "$(cat /tmp/stderr)" = "$expected" ] || problems="$problems
stderr: $(cat /tmp/stderr)"
	[ ! -s /tmp/stdout ] || problems="$problems
stdout: $(cat /tmp/stdout)"
	[ "$before" = "$after" ] || problems="$problems
the table changed from:
$before
to:
$after"
	shift
	if [ -z "$problems" ]; then
		pass "$* -> $expected"
	else
		fail "$* -> $expected" "$problems"
	fi
}

# step COMMAND...: a step of a scenario that must work for the checks after it
# to mean anything. It is shown in the log; if it fails, that is a failure.
step() {
	local out status=0
	echo "  \$ $*"
	out=$("$@" 2>&1) || status=$?
	[ -z "$out" ] || printf '%s\n' "$out" | sed 's/^/    /'
	[ "$status" -eq 0 ] || fail "step: $*" "exit status $status"
}

finish() {
	finished=1
	echo "$suite: $passed passed, $failed failed"
	[ "$failed" -eq 0 ]
}

stopped_early() {
	local status=$?
	[ -n "$finished" ] && return
	fail "the script runs to its end" "it stopped early with status $status"
	echo "$suite: $passed passed, $failed failed"
	exit 1
}
trap stopped_early EXIT

# --- Traffic -----------------------------------------------------------------
#
# Each takes the namespace function to run in, then kfwprobe's arguments. A
# drop must look like one: a TCP connection that times out (or whose SYN the
# local stack refused to send), not one that was refused by a closed port, so
# that a missing server cannot pass for a firewall. For UDP and ping, pair
# each "dropped" with a "passes" towards the same server.

# What passes gets 3 s, for a slow emulated VM on a busy machine; a drop is
# waited for 1 s.
tcp_passes() {
	local ns=$1 addr=$2 port=$3
	shift 3
	$ns kfwprobe tcp-connect "$addr" "$port" timeout 3000 "$@"
}

tcp_dropped() {
	local ns=$1 addr=$2 port=$3 out
	shift 3
	out=$($ns kfwprobe tcp-connect "$addr" "$port" timeout 1000 "$@") || true
	case $out in
	timeout | "error: Operation not permitted") return 0 ;;
	esac
	echo "$out"
	return 1
}

udp_passes() {
	local ns=$1 addr=$2 port=$3
	shift 3
	$ns kfwprobe udp-send "$addr" "$port" 3 timeout 3000 "$@"
}

udp_dropped() {
	local ns=$1 addr=$2 port=$3 out
	shift 3
	out=$($ns kfwprobe udp-send "$addr" "$port" 3 timeout 1000 "$@" 2>&1) || true
	case $out in
	*"received 0") return 0 ;;
	esac
	echo "$out"
	return 1
}

ping_passes() {
	$1 ping -c 1 -W 3 "$2"
}

ping_dropped() {
	! $1 ping -c 1 -W 1 "$2"
}

# serve NS tcp|udp PORT...: a server on every address of both families.
serve() {
	local ns=$1 kind=$2 port addr
	shift 2
	for port in "$@"; do
		for addr in 0.0.0.0 ::; do
			case $kind in
			tcp) servers="$servers $($ns kfwprobe tcp-listen "$addr" "$port")" ;;
			udp) servers="$servers $($ns kfwprobe udp-echo "$addr" "$port")" ;;
			esac
		done
	done
}
servers=

# --- The network -------------------------------------------------------------

# wait_up NS IFACE: until the link is operationally up (at most 5 s).
wait_up() {
	local i=0
	while [ "$($1 cat "/sys/class/net/$2/operstate")" != up ]; do
		i=$((i + 1))
		[ $i -lt 50 ] || { echo "$2 did not come up" >&2; return 1; }
		usleep 100000
	done
}

# reachable NS ADDR: ping until the first answer (at most 5 tries), which also
# settles ARP and neighbour discovery before the tests start.
reachable() {
	local i
	for i in 1 2 3 4 5; do
		$1 ping -c 1 -W 1 "$2" >/dev/null 2>&1 && return 0
	done
	echo "$2 is unreachable from $1" >&2
	return 1
}

# link NS IFACE PEER-NS PEER-IFACE: a veth pair between two namespaces.
link() {
	ip link add "$2" netns "$1" type veth peer name "$4" netns "$3"
}

# address NS IFACE ADDR/LEN...: addresses usable at once (no DAD for IPv6).
address() {
	local ns=$1 dev=$2 addr
	shift 2
	for addr in "$@"; do
		case $addr in
		*:*) ip -n "$ns" addr add "$addr" dev "$dev" nodad ;;
		*) ip -n "$ns" addr add "$addr" dev "$dev" ;;
		esac
	done
}

topology_up() {
	local ns
	for ns in host client1 client2; do
		ip netns add $ns
		ip -n $ns link set lo up
		# No router solicitations: less background noise in the counters.
		ip netns exec $ns sysctl -qw net.ipv6.conf.default.router_solicitations=0
	done
	link host h1 client1 eth0
	link host h2 client2 eth0
	address host h1 $host1_4/24 $host1_6/64
	address host h2 $host2_4/24 $host2_6/64
	address client1 eth0 $client1_4/24 $client1_6/64
	address client2 eth0 $client2_4/24 $client2_6/64
	ip -n host link set h1 up
	ip -n host link set h2 up
	ip -n client1 link set eth0 up
	ip -n client2 link set eth0 up
	wait_up n0 h1
	wait_up n0 h2
	wait_up n1 eth0
	wait_up n2 eth0
	reachable n1 $host1_4
	reachable n1 $host1_6
	reachable n2 $host2_4
	reachable n2 $host2_6
}

# allow_ping_sockets: kfwprobe ping uses ping sockets, which root may open
# only when the namespace lets it.
allow_ping_sockets() {
	local ns
	for ns in host client1 client2; do
		ip netns exec $ns sysctl -qw net.ipv4.ping_group_range="0 2147483647"
	done
}

topology_down() {
	# shellcheck disable=SC2086 # a list of pids
	[ -z "$servers" ] || kill $servers 2>/dev/null || true
	servers=
	ip netns del client2 2>/dev/null || true
	ip netns del client1 2>/dev/null || true
	ip netns del host 2>/dev/null || true
}

# in_ns NS COMMAND...: COMMAND in a namespace made by `ip netns add`. nsenter
# only switches the network namespace, where `ip netns exec` also makes a
# mount namespace: the cheaper way for suites that run hundreds of commands.
# -F: no fork, so that $! of a background in_ns is COMMAND's own pid.
in_ns() {
	local ns=$1
	shift
	nsenter -F --net="/run/netns/$ns" "$@"
}

# vm_host_up: the clients of topology_up, wired to the VM's own namespace as
# the host, with a UDP echo server on ports 9000 and 9001 there: for the
# suites whose busiest table is the host's, where fwctl and /proc/net/kfw then
# need no nsenter (on the debug kernel under TCG every program started costs
# a good fraction of a second). topology_down and deleting h1 and h2 undo it.
vm_host_up() {
	local ns
	for ns in client1 client2; do
		# This kernel has no file locks, which ip netns asks for, and says so.
		ip netns add $ns 2>/dev/null
		ip -n $ns link set lo up
		in_ns $ns sysctl -qw net.ipv6.conf.default.router_solicitations=0
	done
	ip link add h1 type veth peer name eth0 netns client1
	ip link add h2 type veth peer name eth0 netns client2
	ip addr add "$host1_4/24" dev h1
	ip addr add "$host1_6/64" dev h1 nodad
	ip addr add "$host2_4/24" dev h2
	ip addr add "$host2_6/64" dev h2 nodad
	address client1 eth0 "$client1_4/24" "$client1_6/64"
	address client2 eth0 "$client2_4/24" "$client2_6/64"
	ip link set h1 up
	ip link set h2 up
	ip -n client1 link set eth0 up
	ip -n client2 link set eth0 up
	serve vm udp 9000 9001
}

# vm COMMAND...: COMMAND in the VM's own, initial namespace, as n0 runs one
# in the host's.
vm() { "$@"; }

# --- Reading the rule table ----------------------------------------------------

# The lines of `fwctl list` that are not rules: the policies, the heading,
# and the time left to confirm a restore on trial.
not_a_rule='$1 == "policy" || $1 == "handle" || $1 == "confirm" { next }'

# rule_line "DIR ACTION MATCH": from `fwctl list` or /proc/net/kfw/rules on
# stdin, print "HANDLE PACKETS BYTES" of the first rule with exactly that
# direction, action and canonical match.
rule_line() {
	awk -v want="$1" "$not_a_rule"'
		{
			line = $2 " " $3
			for (i = 6; i <= NF; i++)
				line = line " " $i
			if (line == want) { print $1, $4, $5; exit }
		}'
}

# rules: the rules of `fwctl list` or /proc/net/kfw/rules on stdin as
# "DIR ACTION MATCH", one a line, in list order.
rules() {
	awk "$not_a_rule"'
		{
			line = $2 " " $3
			for (i = 6; i <= NF; i++)
				line = line " " $i
			print line
		}'
}

# handle NS "DIR ACTION MATCH": the handle of that rule in the namespace.
handle() {
	$1 fwctl list | rule_line "$2" | cut -d ' ' -f 1
}

# squeeze: fields separated by one space, as `fwctl list` may pad columns.
squeeze() { awk '{ $1 = $1; print }'; }

# reset NS: no rules, accepting policies.
reset() {
	$1 fwctl flush
	$1 fwctl policy in accept
	$1 fwctl policy out accept
}

# empty_table NS: the namespace has no rules and accepting policies.
empty_table() {
	[ "$($1 fwctl save)" = "policy in accept
policy out accept" ]
}

# packets NS "DIR ACTION MATCH": the packets that rule counted.
packets() {
	$1 fwctl list | rule_line "$2" | cut -d ' ' -f 2
}

# stat_of NS NAME: one counter of `fwctl stats` in that namespace.
stat_of() {
	$1 fwctl stats | awk -v name="$2" '$1 == name { print $2 }'
}

# proc_stat_of NS NAME: the same counter, from /proc/net/kfw/stats.
proc_stat_of() {
	$1 cat /proc/net/kfw/stats | awk -v name="$2" '$1 == name { print $2 }'
}
