#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# shellcheck disable=SC3043 # busybox ash has local
#
# demo.sh: the two seed scenarios of kfw, narrated. Runs inside the VM:
#   tests/vm/run-vm.sh tests/vm/demo.sh
# It exits non-zero if a scenario does not behave as told.

. "$(dirname "$0")/lib.sh"

say() { printf '\n%s\n' "$*"; }

# on NS COMMAND...: show a command as typed at that namespace's prompt, run
# it, and show its output; a command that fails is a failure of the demo.
on() {
	local ns=$1 name
	shift
	case $ns in
	n0) name=host ;;
	n1) name=client1 ;;
	n2) name=client2 ;;
	esac
	echo "[$name]# $*"
	if $ns "$@" >/tmp/on.out 2>&1; then
		sed 's/^/    /' /tmp/on.out
	else
		sed 's/^/    /' /tmp/on.out
		fail "[$name]# $* failed"
	fi
}

# connect FROM-NS FROM-NAME ADDR PORT passes|dropped: try a TCP connection,
# tell what happened, and count it against what should have happened.
connect() {
	local ns=$1 who=$2 addr=$3 port=$4 expect=$5 got wait
	if [ "$expect" = passes ]; then wait=3000; else wait=1000; fi
	got=$($ns kfwprobe tcp-connect "$addr" "$port" timeout $wait) || true
	printf '  %-8s -> %-16s port %-5s %s\n' "$who" "$addr" "$port" "$got"
	case $expect:$got in
	passes:connected | dropped:timeout) pass "$who to $addr port $port $expect" >/dev/null ;;
	*) fail "$who to $addr port $port should be $expect, was: $got" ;;
	esac
}

# Kernel messages would interrupt the story: only emergencies reach the
# console. run-vm.sh still finds any warning in the kernel log at the end.
dmesg -n 1

echo "== kfw demo on $(uname -r)"
say "Three network namespaces joined by veth pairs:

  client1 192.0.2.2    2001:db8:1::2  --  host 192.0.2.1    2001:db8:1::1
  client2 198.51.100.2 2001:db8:2::2  --  host 198.51.100.1 2001:db8:2::1

The host serves TCP on ports 22, 80, 443 and 8080."
topology_up
serve n0 tcp 22 80 443 8080
modprobe kfw
say "kfw is loaded. Each namespace has its own rule table, empty to begin with:"
on n0 fwctl list

say "--- Scenario 1: the host refuses one client ---------------------------------"
say "Both clients reach the host's SSH port:"
connect n1 client1 "$host1_4" 22 passes
connect n2 client2 "$host2_4" 22 passes
say "The host drops everything that comes from client1's addresses:"
on n0 fwctl add in drop src "$client1_4"
on n0 fwctl add in drop src "$client1_6"
connect n1 client1 "$host1_4" 22 dropped
connect n1 client1 "$host1_6" 22 dropped
connect n2 client2 "$host2_4" 22 passes
connect n2 client2 "$host2_6" 22 passes
say "The rules counted client1's attempts (SYN and its retransmissions):"
on n0 fwctl list
on n0 cat /proc/net/kfw/rules
on n0 cat /proc/net/kfw/stats
say "Flushing the table lets client1 in again:"
on n0 fwctl flush
connect n1 client1 "$host1_4" 22 passes
connect n1 client1 "$host1_6" 22 passes

say "--- Scenario 2: a client blocks its own web traffic ------------------------------"
say "Client1 forbids itself outgoing TCP to port 80, in its own namespace:"
on n1 fwctl add out drop proto tcp dport 80
connect n1 client1 "$host1_4" 80 dropped
connect n1 client1 "$host1_6" 80 dropped
connect n1 client1 "$host1_4" 8080 passes
connect n1 client1 "$host1_6" 443 passes
say "The rule is client1's alone: client2 still reaches port 80, and the host lists nothing."
connect n2 client2 "$host2_4" 80 passes
connect n2 client2 "$host2_6" 80 passes
on n0 fwctl list
on n1 fwctl list
on n1 cat /proc/net/kfw/rules
on n1 cat /proc/net/kfw/stats
say "Saved as restore input:"
on n1 fwctl save

echo
finish
