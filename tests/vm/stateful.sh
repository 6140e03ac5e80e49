#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# shellcheck disable=SC3043 # busybox ash has local
#
# stateful.sh: kfw's stateful and deep filtering end to end, with real traffic
# between namespaces: connection state, reject, rate-limited logging, payload
# and ICMP type matches, what-if queries, comments and the canonical form of
# the new fields. Runs inside the VM; payload rules need the kernel's
# Boyer-Moore textsearch:
#
#   tests/vm/run-vm.sh --module ts_kmp tests/vm/stateful.sh
#
# Every scenario starts and ends with empty tables and accepting policies in
# every namespace, and runs over IPv4 and IPv6. A drop is always shown next to
# a pass towards the same server, so that a missing server cannot pass for a
# firewall.

. "$(dirname "$0")/lib.sh"

# family 4|6: over, plus what is particular to a family here: the port
# unreachable a rejected datagram earns ("refused PROTO TYPE CODE", as
# kfwprobe reports it), the ICMP protocol's name, and the payload offset at
# which a 3000-byte datagram is cut into IP fragments on a 1500-byte link
# (1480 - 8 bytes of UDP header; IPv6 keeps 1448 after its 48 bytes of
# headers, the fragment header included).
family() {
	over "$1"
	case $1 in
	4) unreach="refused icmp 3 3" icmp=icmp cut=1472 ;;
	6) unreach="refused icmpv6 1 4" icmp=icmpv6 cut=1440 ;;
	esac
}

# counters NS "DIR ACTION MATCH": "PACKETS BYTES" of that rule.
counters() {
	$1 fwctl list | rule_line "$2" | cut -d ' ' -f 2-
}

# list_line NS HANDLE: the rule's line in `fwctl list`, squeezed.
list_line() {
	$1 fwctl list | squeeze | awk -v h="$2" '$1 == h'
}

# json_rule NS HANDLE: the rule's object in `fwctl -j list`. Rule objects hold
# no nested objects, so splitting the array at "},{" finds it.
json_rule() {
	$1 fwctl -j list | kfwprobe json |
		sed 's/.*"rules":\[{//; s/}\]}$//; s/},{/\n/g' |
		awk -v h="\"handle\":$2," 'index($0, h) == 1 { print "{" $0 "}" }'
}

# --- The kernel log ------------------------------------------------------------
#
# The log is never cleared (the end of the run reads it for complaints): a
# numbered mark written to /dev/kmsg starts each look at it instead.

mark=0
kmsg_mark() {
	mark=$((mark + 1))
	echo "kfw-test: mark $mark" >/dev/kmsg
}

# kfw_log: kfw's rule lines since the last mark, as nf_log_syslog writes
# them, cut down to kfw's prefix and the fields that do not change from one
# packet to the next: "kfw: rule H DIR ACTION IN= OUT= SRC= DST= PROTO= SPT= DPT=".
kfw_log() {
	dmesg | sed -n "/kfw-test: mark $mark\$/,\$p" | sed -n 's/^\[[^]]*\] //p' |
		awk '/^kfw: rule / {
			line = $1 " " $2 " " $3 " " $4 " " $5
			for (i = 6; i <= NF; i++)
				if ($i ~ /^(IN|OUT|SRC|DST|PROTO|SPT|DPT)=/)
					line = line " " $i
			print line
		}'
}

# logged ADDRESS: how nf_log_syslog writes an address: IPv6 in full, every
# group of four digits.
logged() {
	case $1 in
	*:*) echo "$1" | awk '{
		at = index($0, "::")
		head = at ? substr($0, 1, at - 1) : $0
		tail = at ? substr($0, at + 2) : ""
		nh = head == "" ? 0 : split(head, h, ":")
		nt = tail == "" ? 0 : split(tail, t, ":")
		for (i = 1; i <= nh; i++) g[++n] = h[i]
		for (i = nh + nt; i < 8; i++) g[++n] = "0"
		for (i = 1; i <= nt; i++) g[++n] = t[i]
		for (i = 1; i <= 8; i++)
			printf "%s%s", substr("0000" g[i], length(g[i]) + 1), i < 8 ? ":" : "\n"
	}' ;;
	*) echo "$1" ;;
	esac
}

# centiseconds: the uptime, in hundredths of a second.
centiseconds() {
	awk '{ printf "%d\n", $1 * 100 }' /proc/uptime
}

echo "== kfw stateful and deep filtering tests on $(uname -r)"

check "modprobe kfw" modprobe kfw
topology_up
allow_ping_sockets
serve n0 tcp 22 80 443 7101 7201
serve n0 udp 5000 7000 7001 7002 7003 7100 7102 7103
serve n1 tcp 8000
serve n1 udp 8001
serve n2 tcp 8000
serve n2 udp 8001
check "the host starts empty" empty_table n0

# --- A stateful host -------------------------------------------------------------
#
# Nothing new comes in; replies to what the host started do. IPv6 needs
# neighbour discovery besides: conntrack does not track it, so its packets
# have no state (they are "invalid") and get rules of their own.

step n0 fwctl policy in drop
step n0 fwctl add in accept state established,related
step n0 fwctl add in accept proto icmpv6 icmp-type neighbour-solicitation
step n0 fwctl add in accept proto icmpv6 icmp-type neighbour-advertisement
for f in 4 6; do
	family $f
	check "the host connects out to client1 and gets the replies ($v)" tcp_passes n0 "$c1" 8000
	check "and to client2, on its other link ($v)" tcp_passes n0 "$c2" 8000
	check "the host's UDP exchange with client1 gets its echoes ($v)" udp_passes n0 "$c1" 8001
	check "the host pings client1 and the reply comes in ($v)" ping_passes n0 "$c1"
	check "a new connection from client1 to the host's listening port is dropped ($v)" tcp_dropped n1 "$h1" 22
	check "and one from client2 ($v)" tcp_dropped n2 "$h2" 22
	check "client1's new UDP exchange is dropped ($v)" udp_dropped n1 "$h1" 5000
	check "client1's ping is dropped ($v)" ping_dropped n1 "$h1"
	check_eq "client1's port unreachable for the host's datagram is related: it comes in ($v)" \
		"$unreach" "$(n0 kfwprobe udp-ask "$c1" 9 timeout 2000)"
done
check_match "the state rule counted the replies" "^[0-9]+ [1-9][0-9]* [1-9][0-9]*$" \
	"$(n0 fwctl list | rule_line "in accept state established,related")"
check_eq "list, /proc and save agree on the state rule" "in accept state established,related
in accept state established,related
in accept state established,related" \
	"$(n0 fwctl list | rules | head -n 1; n0 cat /proc/net/kfw/rules | rules | head -n 1;
		n0 fwctl save | sed -n 's/^add //p' | head -n 1)"

# Without "related" the port unreachable stays out; established still works.
cat >/tmp/established <<'EOF'
policy in drop
add in accept state established
add in accept proto icmpv6 icmp-type neighbour-solicitation
add in accept proto icmpv6 icmp-type neighbour-advertisement
EOF
step n0 fwctl restore /tmp/established
for f in 4 6; do
	family $f
	check "state established alone: the host still connects out ($v)" tcp_passes n0 "$c1" 8000
	check_eq "but client1's port unreachable, related, is dropped ($v)" \
		timeout "$(n0 kfwprobe udp-ask "$c1" 9 timeout 1000)"
done

# Without a state rule, the policy drops the replies too.
step n0 fwctl flush
for f in 4 6; do
	family $f
	check "without the state rule the host's own connection gets no reply ($v)" tcp_dropped n0 "$c1" 8000
done
step reset n0
for f in 4 6; do
	family $f
	check "with policy in accept again the host connects out ($v)" tcp_passes n0 "$c1" 8000
	check "and client1 connects in ($v)" tcp_passes n1 "$h1" 22
done

# --- Reject ---------------------------------------------------------------------------
#
# A rejected TCP connection is refused at once (a reset), where a dropped one
# times out; a rejected datagram earns an ICMP or ICMPv6 port unreachable,
# which a connected UDP socket reports as ECONNREFUSED.

check_error_reject_policy() {
	local out status=0
	out=$(n0 fwctl policy in reject 2>&1) || status=$?
	if [ "$status" -ne 1 ] || [ "$out" != "fwctl: invalid policy 'reject'" ] || ! empty_table n0; then
		echo "exit status $status: $out"
		return 1
	fi
}
check "reject is not a policy: fwctl: invalid policy 'reject'" check_error_reject_policy

step n0 fwctl add in reject proto tcp dport 80
step n0 fwctl add in drop proto tcp dport 443
step n0 fwctl add in reject proto udp dport 5000
for f in 4 6; do
	family $f
	check_eq "reject proto tcp dport 80: the connection is refused within 1 s ($v)" \
		refused "$(n1 kfwprobe tcp-connect "$h1" 80 timeout 1000)"
	check_eq "drop proto tcp dport 443: that one times out ($v)" \
		timeout "$(n1 kfwprobe tcp-connect "$h1" 443 timeout 1000)"
	check "TCP to port 22 still connects ($v)" tcp_passes n1 "$h1" 22
	check_eq "reject proto udp dport 5000: the client gets a port unreachable ($v)" \
		"$unreach" "$(n1 kfwprobe udp-ask "$h1" 5000)"
	check_eq "UDP to port 7000 still gets its echo ($v)" echoed "$(n1 kfwprobe udp-ask "$h1" 7000)"
done
check_eq "the TCP reject rule counted one SYN per family" 2 "$(packets n0 "in reject proto tcp dport 80")"
check_eq "the UDP reject rule counted one datagram per family" 2 "$(packets n0 "in reject proto udp dport 5000")"
check_eq "list shows the action as reject" "in reject proto tcp dport 80
in drop proto tcp dport 443
in reject proto udp dport 5000" "$(n0 fwctl list | rules)"
check_eq "/proc/net/kfw/rules too" "$(n0 fwctl list | rules)" "$(n0 cat /proc/net/kfw/rules | rules)"
step n0 fwctl flush

# An echo request is no ICMP error, so reject answers it as it answers any
# other non-TCP packet, with a port unreachable (iptables' REJECT does the
# same); what must never come is an echo reply.
step n0 fwctl add in reject proto icmp icmp-type echo-request
step n0 fwctl add in reject proto icmpv6 icmp-type echo-request
for f in 4 6; do
	family $f
	check_eq "a rejected echo request gets a port unreachable, no echo reply ($v)" \
		"$unreach" "$(n1 kfwprobe ping "$h1")"
	check "busybox ping gets no reply either ($v)" ping_dropped n1 "$h1"
	check "TCP still connects ($v)" tcp_passes n1 "$h1" 22
done
step n0 fwctl flush
for f in 4 6; do
	family $f
	check_eq "without the rule the echo request gets its reply ($v)" reply "$(n1 kfwprobe ping "$h1")"
done

# kfw never answers an ICMP error. The host sends a datagram to a closed port
# of client1; client1's port unreachable comes back into a reject rule of
# the host. Client1 counts every destination unreachable it receives: none
# may come back from the host.
step n0 fwctl add in reject proto icmp
step n0 fwctl add in reject proto icmpv6 icmp-type destination-unreachable
step n1 fwctl add in accept proto icmp icmp-type destination-unreachable
step n1 fwctl add in accept proto icmpv6 icmp-type destination-unreachable
for f in 4 6; do
	family $f
	check_eq "the host's datagram to a closed port of client1: its port unreachable is rejected ($v)" \
		timeout "$(n0 kfwprobe udp-ask "$c1" 9 timeout 1000)"
done
check_eq "the host's reject rules each took one port unreachable" "1
1" "$(packets n0 "in reject proto icmp"; packets n0 "in reject proto icmpv6 icmp-type destination-unreachable")"
check_eq "client1 received no ICMP error in answer" "0 0
0 0" "$(counters n1 "in accept proto icmp icmp-type destination-unreachable"
	counters n1 "in accept proto icmpv6 icmp-type destination-unreachable")"
step n0 fwctl flush
step n1 fwctl flush

# Reject on the way out answers the local sender: its connection is refused.
step n1 fwctl add out reject proto tcp dport 80
for f in 4 6; do
	family $f
	check_eq "out reject: client1's own connection to port 80 is refused ($v)" \
		refused "$(n1 kfwprobe tcp-connect "$h1" 80 timeout 1000)"
	check "its connection to port 22 passes ($v)" tcp_passes n1 "$h1" 22
done
step n1 fwctl flush

# --- Logging --------------------------------------------------------------------------

# Only the first namespace writes to the kernel log unless the host says
# otherwise, as with iptables' LOG: "host" is another namespace.
all_netns=/proc/sys/net/netfilter/nf_log_all_netns
check_eq "net.netfilter.nf_log_all_netns is 0 by default" 0 "$(cat $all_netns)"
step n0 fwctl add in accept proto udp dport 7000 log
for f in 4 6; do
	family $f
	kmsg_mark
	check "a datagram to a logged port passes ($v)" udp_passes n1 "$h1" 7000 sport 40009
	check_eq "but a namespace's log rule writes nothing while nf_log_all_netns is 0 ($v)" "" "$(kfw_log)"
	check_eq "the rule counted the 3 datagrams all the same ($v)" 3 "$(packets n0 "in accept proto udp dport 7000 log")"
	step n0 fwctl zero
done
step n0 fwctl flush
echo 1 >$all_netns

step n0 fwctl add in accept proto udp dport 7000 log
step n0 fwctl add in drop proto tcp dport 7101 log
step n0 fwctl add in reject proto tcp dport 80 log

h_udp=$(handle n0 "in accept proto udp dport 7000 log")
h_tcp=$(handle n0 "in drop proto tcp dport 7101 log")
h_rej=$(handle n0 "in reject proto tcp dport 80 log")
check_eq "a log rule lists as such; the default rate and burst are not shown" "in accept proto udp dport 7000 log
in drop proto tcp dport 7101 log
in reject proto tcp dport 80 log" "$(n0 fwctl list | rules)"
for f in 4 6; do
	family $f
	kmsg_mark
	check "a datagram to a logged port passes ($v)" udp_passes n1 "$h1" 7000 sport 40001
	check_eq "and its 3 datagrams give 3 lines: handle, direction, action, interface, addresses, protocol, ports ($v)" \
		"3 kfw: rule $h_udp in accept IN=h1 OUT= SRC=$(logged "$c1") DST=$(logged "$h1") PROTO=UDP SPT=40001 DPT=7000" \
		"$(kfw_log | uniq -c | squeeze)"
	kmsg_mark
	check "a logged drop drops ($v)" tcp_dropped n2 "$h2" 7101 sport 40002
	check_eq "and logs the SYN ($v)" \
		"kfw: rule $h_tcp in drop IN=h2 OUT= SRC=$(logged "$c2") DST=$(logged "$h2") PROTO=TCP SPT=40002 DPT=7101" \
		"$(kfw_log | head -n 1)"
	kmsg_mark
	check_eq "a logged reject refuses ($v)" refused "$(n1 kfwprobe tcp-connect "$h1" 80 sport 40003)"
	check_eq "and logs it ($v)" \
		"kfw: rule $h_rej in reject IN=h1 OUT= SRC=$(logged "$c1") DST=$(logged "$h1") PROTO=TCP SPT=40003 DPT=80" \
		"$(kfw_log)"
done
step n0 fwctl add out accept proto udp dport 8001 log
h_out=$(handle n0 "out accept proto udp dport 8001 log")
for f in 4 6; do
	family $f
	kmsg_mark
	check "the host's datagrams to client1 pass an out log rule ($v)" udp_passes n0 "$c1" 8001 sport 40004
	check_eq "and are logged with the output interface ($v)" \
		"3 kfw: rule $h_out out accept IN= OUT=h1 SRC=$(logged "$h1") DST=$(logged "$c1") PROTO=UDP SPT=40004 DPT=8001" \
		"$(kfw_log | uniq -c | squeeze)"
done
check_eq "nothing was suppressed yet" 0 "$(proc_stat_of n0 log_suppressed)"
step n0 fwctl flush

# log_flood FAMILY PORT: 200 datagrams from client1 to the host's PORT, as
# fast as they go. Sets lines (kfw's log lines for them), hits (what the
# rule counted), suppressed (the growth of log_suppressed) and elapsed (the
# seconds the flood took, rounded up: a bound on the time the limiter had).
log_flood() {
	local before t0 t1
	family "$1"
	before=$(proc_stat_of n0 log_suppressed)
	kmsg_mark
	t0=$(centiseconds)
	n1 kfwprobe udp-send "$h1" "$2" 200 timeout 2000 >/dev/null 2>&1 || true
	t1=$(centiseconds)
	lines=$(kfw_log | grep -c " DPT=$2\$" || true)
	hits=$(packets n0 "$rule")
	suppressed=$(($(proc_stat_of n0 log_suppressed) - before))
	elapsed=$(((t1 - t0 + 99) / 100))
	echo "  flood to port $2 ($v): $hits packets, $lines lines, $suppressed suppressed in at most $elapsed s"
}

for f in 4 6; do
	family $f
	rule="in accept proto udp dport 7001 log"
	# shellcheck disable=SC2086 # a rule's words
	step n0 fwctl add $rule
	log_flood $f 7001
	check_eq "the flood hit the log rule 200 times ($v)" 200 "$hits"
	check "the default burst of 10 lines was logged: $lines ($v)" test "$lines" -ge 10
	check "at most burst 10 + 5/s * $elapsed s + 1 lines: $lines ($v)" \
		test "$lines" -le $((10 + 5 * elapsed + 1))
	check_eq "every packet not logged counts in log_suppressed ($v)" $((hits - lines)) "$suppressed"
	step n0 fwctl flush

	rule="in accept proto udp dport 7002 log log-rate 20/s log-burst 3"
	step n0 fwctl add in accept proto udp dport 7002 log-burst 3 log log-rate 20/s
	check_eq "log-rate 20/s log-burst 3 shows in list ($v)" "$rule" "$(n0 fwctl list | rules)"
	check_eq "and in save ($v)" "add $rule" "$(n0 fwctl save | grep '^add ')"
	check_eq "and in /proc/net/kfw/rules ($v)" "$rule" "$(n0 cat /proc/net/kfw/rules | rules)"
	log_flood $f 7002
	check_eq "the flood hit the rule 200 times ($v)" 200 "$hits"
	check "log-burst 3: at least 3 lines: $lines ($v)" test "$lines" -ge 3
	check "at most 3 + 20/s * $elapsed s + 1 lines: $lines ($v)" \
		test "$lines" -le $((3 + 20 * elapsed + 1))
	check_eq "the rest counts in log_suppressed ($v)" $((hits - lines)) "$suppressed"
	step n0 fwctl flush

	# A rate of one a minute makes the count exact whatever the VM's speed.
	rule="in accept proto udp dport 7003 log log-rate 1/m log-burst 2"
	# shellcheck disable=SC2086 # a rule's words
	step n0 fwctl add $rule
	log_flood $f 7003
	check_eq "log-rate 1/m log-burst 2: exactly 2 lines for 200 packets ($v)" "200 2" "$hits $lines"
	check_eq "and 198 suppressed ($v)" 198 "$suppressed"
	step n0 fwctl flush
done
suppressed=$(proc_stat_of n0 log_suppressed)
check_match "log_suppressed grew" "^[1-9][0-9]*$" "$suppressed"
check_eq "fwctl stats shows the same log_suppressed" "$suppressed" "$(stat_of n0 log_suppressed)"
check_match "and fwctl -j stats" "\"log_suppressed\":$suppressed}\$" "$(n0 fwctl -j stats | kfwprobe json)"
step n0 fwctl zero
check_eq "fwctl zero resets log_suppressed" 0 "$(stat_of n0 log_suppressed)"

# --- Payload -------------------------------------------------------------------------
#
# kfwprobe writes a pattern into its datagrams at a payload offset (16 unless
# told), after its "kfwprobe SEQ " header, and pads them with 'x'.

step n0 fwctl add in drop proto udp dport 7100 payload EVIL
step n0 fwctl add in drop proto tcp dport 7201 payload EVIL
step n0 fwctl add in drop proto udp dport 7102 payload-hex 00ff
step n0 fwctl add in drop proto udp dport 7103 payload EVIL payload-within 20
check_eq "payload rules in canonical form" "in drop proto udp dport 7100 payload \"EVIL\"
in drop proto tcp dport 7201 payload \"EVIL\"
in drop proto udp dport 7102 payload-hex 00ff
in drop proto udp dport 7103 payload \"EVIL\" payload-within 20" "$(n0 fwctl list | rules)"
for f in 4 6; do
	family $f
	check "UDP to 7100 without the pattern passes ($v)" udp_passes n1 "$h1" 7100
	check "with EVIL in the datagram it is dropped ($v)" udp_dropped n1 "$h1" 7100 pattern EVIL
	check "with EVIK it passes ($v)" udp_passes n1 "$h1" 7100 pattern EVIK
	check "EVIL at the end of a 1000-byte datagram is found ($v)" udp_dropped n1 "$h1" 7100 size 1000 pattern EVIL at 996
	check "EVIL at offset 200 is found without payload-within ($v)" udp_dropped n1 "$h1" 7100 size 256 pattern EVIL at 200

	check "a TCP connection to 7201 passes ($v)" tcp_passes n1 "$h1" 7201
	check_eq "and the server echoes what it is sent ($v)" echoed \
		"$(n1 kfwprobe tcp-connect "$h1" 7201 timeout 3000 send "a harmless request")"
	check_eq "a segment carrying EVIL never reaches the server ($v)" timeout \
		"$(n1 kfwprobe tcp-connect "$h1" 7201 timeout 2000 send "an EVIL request")"

	check "payload-hex 00ff: a datagram with the bytes 00 ff is dropped ($v)" \
		udp_dropped n1 "$h1" 7102 pattern-hex 00ff
	check "00 fe passes ($v)" udp_passes n1 "$h1" 7102 pattern-hex 00fe
	check "ff 00 passes ($v)" udp_passes n1 "$h1" 7102 pattern-hex ff00

	check "payload-within 20: EVIL in payload bytes 16-19 is dropped ($v)" \
		udp_dropped n1 "$h1" 7103 size 64 pattern EVIL at 16
	check "EVIL in bytes 17-20, one past the window, passes ($v)" \
		udp_passes n1 "$h1" 7103 size 64 pattern EVIL at 17
	check "EVIL at offset 40 passes ($v)" udp_passes n1 "$h1" 7103 size 64 pattern EVIL at 40

	# Sent in two parts with MSG_MORE, a datagram reaches kfw as an skb
	# with the head holding the first part and page fragments the rest:
	# "EV" ends the head and "IL" starts the fragments.
	check "EVIL at offset 30 of a datagram sent whole is found ($v)" \
		udp_dropped n1 "$h1" 7100 size 64 pattern EVIL at 30
	check "EVIL split between an skb's head and its page fragments is found ($v)" \
		udp_dropped n1 "$h1" 7100 size 64 pattern EVIL at 30 split 32
	check "EVIL wholly in the page fragments is found ($v)" \
		udp_dropped n1 "$h1" 7100 size 64 pattern EVIL at 40 split 32
	check "EVIK split the same way passes ($v)" udp_passes n1 "$h1" 7100 size 64 pattern EVIK at 30 split 32
done
check_match "the TCP payload rule counted the dropped segment and its retransmissions" \
	"^[1-9][0-9]* " "$(counters n0 "in drop proto tcp dport 7201 payload \"EVIL\"")"

# A 3000-byte datagram leaves client1 in two IP fragments. Without conntrack
# kfw sees the fragments one by one: EVIL in the second one, or across the
# cut, is not found (documented: fragments after the first never match).
# With a state rule in the table the namespace tracks connections, and its
# defrag hooks (priority -400) reassemble the datagram before kfw (-190)
# sees it, as one skb whose frag_list holds the second fragment: EVIL in
# the second fragment is found, and so must be EVIL across the cut, between
# the skb's head and its frag_list.
for f in 4 6; do
	family $f
	check "without conntrack EVIL in the second IP fragment is not seen ($v)" \
		udp_passes n1 "$h1" 7100 size 3000 pattern EVIL at $((cut + 100))
	check "nor EVIL across the cut ($v)" \
		udp_passes n1 "$h1" 7100 size 3000 pattern EVIL at $((cut - 2))
done
step n0 fwctl add out accept proto 253 state new
for f in 4 6; do
	family $f
	check "with a state rule, a reassembled datagram with EVIL in its second fragment is dropped ($v)" \
		udp_dropped n1 "$h1" 7100 size 3000 pattern EVIL at $((cut + 100))
	check "and one with EVIL across the cut ($v)" \
		udp_dropped n1 "$h1" 7100 size 3000 pattern EVIL at $((cut - 2))
	check "one without the pattern passes ($v)" udp_passes n1 "$h1" 7100 size 3000
done
step n0 fwctl flush

# --- ICMP types and codes --------------------------------------------------------------

step n0 fwctl add in drop proto icmp icmp-type echo-request
for f in 4 6; do
	family $f
	check "TCP to the host passes ($v)" tcp_passes n1 "$h1" 22
done
check "icmp-type echo-request drops an IPv4 ping" ping_dropped n1 "$host1_4"
check_eq "it is dropped, not answered" timeout "$(n1 kfwprobe ping "$host1_4")"
check "an IPv6 ping passes" ping_passes n1 "$host1_6"
check "the host's own ping gets its echo reply in" ping_passes n0 "$client1_4"
step n0 fwctl add in drop proto icmpv6 icmp-type echo-request
# Neighbour discovery must work with the rule: forget the neighbours first.
ip -n host neigh flush dev h1
ip -n client1 neigh flush dev eth0
check "with icmpv6 echo-request dropped, TCP over IPv6 passes (neighbour discovery too)" \
	tcp_passes n1 "$host1_6" 22
check "an IPv6 ping is dropped" ping_dropped n1 "$host1_6"
check "the host's own IPv6 ping gets its reply in" ping_passes n0 "$client1_6"
check_match "the icmp rule counted the ping it dropped" "^[1-9]" \
	"$(packets n0 "in drop proto icmp icmp-type echo-request")"
check_match "the icmpv6 rule too" "^[1-9]" "$(packets n0 "in drop proto icmpv6 icmp-type echo-request")"
step n0 fwctl flush

step n0 fwctl add in drop proto icmp icmp-type echo-reply
step n0 fwctl add in drop proto icmpv6 icmp-type echo-reply
for f in 4 6; do
	family $f
	check "icmp-type echo-reply: the host's ping gets no reply ($v)" ping_dropped n0 "$c1"
	check "client1's ping to the host passes ($v)" ping_passes n1 "$h1"
done
step n0 fwctl flush

# Pings are code 0; echo-request by number prints by name.
step n0 fwctl add in drop proto icmp icmp-type 8 icmp-code 1
step n0 fwctl add in drop proto icmpv6 icmp-type 128 icmp-code 1
check_eq "icmp-type by number lists by name" "in drop proto icmp icmp-type echo-request icmp-code 1
in drop proto icmpv6 icmp-type echo-request icmp-code 1" "$(n0 fwctl list | rules)"
for f in 4 6; do
	family $f
	check "icmp-code 1: a ping, code 0, passes ($v)" ping_passes n1 "$h1"
done
step n0 fwctl flush
step n0 fwctl add in drop proto icmp icmp-type echo-request icmp-code 0
step n0 fwctl add in drop proto icmpv6 icmp-type echo-request icmp-code 0
for f in 4 6; do
	family $f
	check "icmp-code 0: a ping is dropped ($v)" ping_dropped n1 "$h1"
	check "TCP passes ($v)" tcp_passes n1 "$h1" 22
done
step n0 fwctl flush

# An ICMP payload starts after the 8-byte ICMP header. kfwprobe's echo
# requests carry 'p's; busybox ping's carry a timestamp and zeros.
step n0 fwctl add in drop proto icmp icmp-type echo-request payload pppppppp
step n0 fwctl add in drop proto icmpv6 icmp-type echo-request payload pppppppp
for f in 4 6; do
	family $f
	check_eq "payload in an echo request: kfwprobe's ping is dropped ($v)" timeout "$(n1 kfwprobe ping "$h1")"
	check "busybox ping passes ($v)" ping_passes n1 "$h1"
done
step n0 fwctl flush

# --- What if: fwctl test agrees with real traffic ------------------------------------------

cat >/tmp/whatif <<'EOF'
policy in drop
policy out accept
add in accept state established,related
add in accept proto icmpv6 icmp-type neighbour-solicitation
add in accept proto icmpv6 icmp-type neighbour-advertisement
add in accept proto tcp dport 22 state new
add in reject proto tcp dport 80
add in drop proto icmp icmp-type echo-request
add in drop proto icmpv6 icmp-type echo-request
add in accept proto udp dport 7000 iface h1 comment "echo for client1"
EOF
step n0 fwctl restore /tmp/whatif

# what_if NAME "DIR ACTION MATCH"|"policy DIR VERDICT" VERDICT TEST-ARGS...:
# `fwctl test` prints that rule's `fwctl list` line (or the policy line),
# then VERDICT; and -j says the same. Neighbour discovery may count a packet
# between the test and the list it is compared with: then the test is asked
# again, up to ten times (on the debug kernel a try lasts longer than the
# gap between two neighbour solicitations, so three were not always enough).
what_if() {
	local name=$1 rule=$2 verdict=$3 out h line json expected_json before try
	shift 3
	for try in 1 2 3 4 5 6 7 8 9 10; do
		before=$(n0 fwctl list)
		out=$(n0 fwctl test "$@" 2>&1 | squeeze) || true
		json=$(n0 fwctl -j test "$@" 2>&1 | kfwprobe json 2>&1) || true
		case $rule in
		policy*)
			line=$rule
			h=$(echo "$rule" | cut -d ' ' -f 2)
			expected_json="{\"rule\":null,\"policy\":\"$h\",\"verdict\":\"$verdict\"}"
			;;
		*)
			h=$(handle n0 "$rule")
			line=$(list_line n0 "$h")
			expected_json="{\"rule\":$(json_rule n0 "$h"),\"verdict\":\"$verdict\"}"
			;;
		esac
		[ "$before" != "$(n0 fwctl list)" ] || break
		echo "  (the counters moved during the what-if query: try $try)"
	done
	check_eq "fwctl test: $name" "$line
$verdict" "$out"
	check_eq "fwctl -j test: $name" "$expected_json" "$json"
}

for f in 4 6; do
	family $f
	check "real: client1 connects to port 22 ($v)" tcp_passes n1 "$h1" 22 sport 40500
	what_if "new TCP to 22 hits the accept rule ($v)" "in accept proto tcp dport 22 state new" accept \
		in proto tcp src "$c1" dst "$h1" sport 40500 dport 22 iface h1 state new
	check_eq "real: client1's connection to port 80 is refused ($v)" refused \
		"$(n1 kfwprobe tcp-connect "$h1" 80 timeout 1000)"
	what_if "TCP to 80 hits the reject rule ($v)" "in reject proto tcp dport 80" reject \
		in proto tcp src "$c1" dst "$h1" sport 40501 dport 80 iface h1 state new
	check "real: client1's connection to port 443 is dropped ($v)" tcp_dropped n1 "$h1" 443
	what_if "new TCP to 443 falls to the policy ($v)" "policy in drop" drop \
		in proto tcp src "$c1" dst "$h1" sport 40502 dport 443 iface h1 state new
	check "real: client1's ping is dropped ($v)" ping_dropped n1 "$h1"
	what_if "an echo request hits the icmp-type rule ($v)" "in drop proto $icmp icmp-type echo-request" drop \
		in proto "$icmp" src "$c1" dst "$h1" iface h1 state new icmp-type echo-request icmp-code 0
	check "real: client1's datagram to 7000 comes back ($v)" udp_passes n1 "$h1" 7000
	what_if "UDP to 7000 on h1 hits the commented rule ($v)" \
		"in accept proto udp dport 7000 iface h1 comment \"echo for client1\"" accept \
		in proto udp src "$c1" dst "$h1" sport 40503 dport 7000 iface h1 state new
	check "real: client2's datagram to 7000, on h2, is dropped ($v)" udp_dropped n2 "$h2" 7000
	what_if "UDP to 7000 on h2 falls to the policy ($v)" "policy in drop" drop \
		in proto udp src "$c2" dst "$h2" sport 40504 dport 7000 iface h2 state new
	check "real: the host's connection out gets its replies ($v)" tcp_passes n0 "$c1" 8000
	what_if "an established reply hits the state rule ($v)" "in accept state established,related" accept \
		in proto tcp src "$c1" dst "$h1" sport 8000 dport 40505 iface h1 state established
	what_if "the same reply going out falls to policy out accept ($v)" "policy out accept" accept \
		out proto tcp src "$h1" dst "$c1" sport 40505 dport 8000 iface h1 state established
done
ip -n host neigh flush dev h1
ip -n client1 neigh flush dev eth0
check "real: with neighbours forgotten client1 still connects over IPv6" tcp_passes n1 "$host1_6" 22
what_if "a neighbour solicitation, which has no state, hits its rule" \
	"in accept proto icmpv6 icmp-type neighbour-solicitation" accept \
	in proto icmpv6 src "$client1_6" dst "$host1_6" iface h1 icmp-type 135 state invalid
# A field left out is unknown, and a rule that needs it does not match.
what_if "TCP to 22 without a state misses the state rule" "policy in drop" drop \
	in proto tcp src "$client1_4" dst "$host1_4" dport 22
before=$(counters n0 "in reject proto tcp dport 80")
n0 fwctl test in proto tcp dport 80 >/dev/null || true
check_eq "fwctl test changes no counter" "$before" "$(counters n0 "in reject proto tcp dport 80")"
step reset n0

# --- Comments --------------------------------------------------------------------------

step n0 fwctl add in accept proto tcp dport 22 comment "allow ssh from the office"
step n0 fwctl add in drop proto udp dport 7000 payload "GET /x #1" comment "a # is no comment in quotes"
h=$(handle n0 "in accept proto tcp dport 22 comment \"allow ssh from the office\"")
check_match "list shows the comment" "^$h in accept [0-9]+ [0-9]+ proto tcp dport 22 comment \"allow ssh from the office\"\$" \
	"$(n0 fwctl list | squeeze)"
check_match "/proc/net/kfw/rules too" "^$h in accept [0-9]+ [0-9]+ proto tcp dport 22 comment \"allow ssh from the office\"\$" \
	"$(n0 cat /proc/net/kfw/rules | squeeze)"
check_eq "-j list has it as a string" \
	"{\"handle\":$h,\"dir\":\"in\",\"action\":\"accept\",\"packets\":0,\"bytes\":0,\"proto\":\"tcp\",\"dport\":\"22\",\"comment\":\"allow ssh from the office\"}" \
	"$(json_rule n0 "$h")"
n0 fwctl save >/tmp/comments
check_eq "save quotes comments and payloads" "policy in accept
policy out accept
add in accept proto tcp dport 22 comment \"allow ssh from the office\"
add in drop proto udp dport 7000 payload \"GET /x #1\" comment \"a # is no comment in quotes\"" "$(cat /tmp/comments)"
step n0 fwctl flush
step n0 fwctl restore /tmp/comments
n0 fwctl save >/tmp/comments.again
check "save | flush | restore | save: byte for byte the same" cmp /tmp/comments /tmp/comments.again
check "the restored comment rule still lets ssh in" tcp_passes n1 "$host1_4" 22
step reset n0

# --- Canonical form of the new fields ---------------------------------------------------
#
# Matches given in any order, names and numbers, upper-case hex and default
# log settings: save, list and /proc print one canonical form.

cat >/tmp/canonical.in <<'EOF'
policy in accept
policy out accept
add in drop log-burst 3 log-rate 20/s log payload-within 64 payload EVIL state established,new dport 53 proto udp comment "canonical order"
add in accept icmp-code 0 icmp-type 8 proto icmp
add in accept proto icmpv6 icmp-type neighbor-solicitation
add in accept proto icmpv6 icmp-type 136
add in accept proto icmp icmp-type 42
add in drop proto tcp payload-hex 00FF
add in drop proto tcp payload-hex 4556494c
add out accept state invalid,related,new,established
add out accept log log-rate 300/m log-burst 10 proto 253
add out accept log log-rate 90/m
add out accept log log-rate 120/m
add in reject proto udp dport 9 log log-rate 5/s
EOF
canonical="policy in accept
policy out accept
add in drop proto udp dport 53 state new,established payload \"EVIL\" payload-within 64 log log-rate 20/s log-burst 3 comment \"canonical order\"
add in accept proto icmp icmp-type echo-request icmp-code 0
add in accept proto icmpv6 icmp-type neighbour-solicitation
add in accept proto icmpv6 icmp-type neighbour-advertisement
add in accept proto icmp icmp-type 42
add in drop proto tcp payload-hex 00ff
add in drop proto tcp payload \"EVIL\"
add out accept state new,established,related,invalid
add out accept proto 253 log
add out accept log log-rate 90/m
add out accept log log-rate 2/s
add in reject proto udp dport 9 log"
step n0 fwctl restore /tmp/canonical.in
check_eq "save prints the canonical form" "$canonical" "$(n0 fwctl save)"
check_eq "list shows the same matches" "$(echo "$canonical" | sed -n 's/^add //p')" "$(n0 fwctl list | rules)"
check_eq "/proc/net/kfw/rules too" "$(echo "$canonical" | sed -n 's/^add //p')" "$(n0 cat /proc/net/kfw/rules | rules)"
n0 fwctl save >/tmp/canonical
step n0 fwctl flush
step n0 fwctl restore /tmp/canonical
check_eq "save | flush | restore | save: the same" "$canonical" "$(n0 fwctl save)"
h=$(handle n0 "in drop proto udp dport 53 state new,established payload \"EVIL\" payload-within 64 log log-rate 20/s log-burst 3 comment \"canonical order\"")
check_eq "-j list: every new field, log a boolean, rate and burst always there" \
	"{\"handle\":$h,\"dir\":\"in\",\"action\":\"drop\",\"packets\":0,\"bytes\":0,\"proto\":\"udp\",\"dport\":\"53\",\"state\":\"new,established\",\"payload\":\"EVIL\",\"payload-within\":\"64\",\"log\":true,\"log-rate\":\"20/s\",\"log-burst\":\"3\",\"comment\":\"canonical order\"}" \
	"$(json_rule n0 "$h")"
h=$(handle n0 "in drop proto tcp payload-hex 00ff")
check_eq "-j list: payload-hex" \
	"{\"handle\":$h,\"dir\":\"in\",\"action\":\"drop\",\"packets\":0,\"bytes\":0,\"proto\":\"tcp\",\"payload-hex\":\"00ff\"}" \
	"$(json_rule n0 "$h")"
h=$(handle n0 "in accept proto icmp icmp-type echo-request icmp-code 0")
check_eq "-j list: icmp-type and icmp-code" \
	"{\"handle\":$h,\"dir\":\"in\",\"action\":\"accept\",\"packets\":0,\"bytes\":0,\"proto\":\"icmp\",\"icmp-type\":\"echo-request\",\"icmp-code\":\"0\"}" \
	"$(json_rule n0 "$h")"
# Protocol 253 is for experiments: nothing the stack sends by itself hits it,
# unlike the MLD reports that conntrack leaves untracked.
h=$(handle n0 "out accept proto 253 log")
check_eq "-j list: a log rule with the defaults" \
	"{\"handle\":$h,\"dir\":\"out\",\"action\":\"accept\",\"packets\":0,\"bytes\":0,\"proto\":\"253\",\"log\":true,\"log-rate\":\"5/s\",\"log-burst\":\"10\"}" \
	"$(json_rule n0 "$h")"
check "fwctl -j list is valid JSON" sh -c '/sbin/ip netns exec host fwctl -j list | kfwprobe json'
step reset n0

# --- The end -----------------------------------------------------------------------------

check "the host is back to an empty table" empty_table n0
check "client1 too" empty_table n1
topology_down
check "rmmod kfw at the end" rmmod kfw
check_not "the kernel log has no warnings, bugs or leaks" sh -c "dmesg | grep -E '$kernel_complaints'"
finish
