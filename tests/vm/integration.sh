#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# shellcheck disable=SC3043 # busybox ash has local
#
# integration.sh: kfw end to end, with real traffic between namespaces.
# Runs inside the VM: tests/vm/run-vm.sh tests/vm/integration.sh
#
# Every scenario starts and ends with empty tables and accepting policies in
# every namespace, and runs over IPv4 and IPv6 wherever both apply. A drop is
# always shown next to a pass towards the same server, so that a missing
# server cannot pass for a firewall.

. "$(dirname "$0")/lib.sh"

not_loaded="fwctl: the kfw module is not loaded"
no_cap="fwctl: permission denied: changing rules needs CAP_NET_ADMIN"

# One more namespace, made by a test (vm, the VM's own, is lib.sh's).
n3() { ip netns exec other "$@"; }

# fwctl asks for the "kfw" genetlink family, and the kernel loads the module
# on demand when it has an alias for that family. The checks of fwctl without
# the module turn that off.
autoload() {
	case $1 in
	off) echo /bin/false >/proc/sys/kernel/modprobe ;;
	on) echo /sbin/modprobe >/proc/sys/kernel/modprobe ;;
	esac
}

echo "== kfw integration tests on $(uname -r)"

# --- Before the module is loaded -------------------------------------------------

autoload off
check_error "$not_loaded" vm fwctl list
check_error "$not_loaded" vm fwctl add in drop proto tcp dport 80
check_not "without the module there is no /proc/net/kfw" test -e /proc/net/kfw
autoload on

# The namespaces exist before the module: it must take them on when it loads.
topology_up
serve n0 tcp 22 80 443 999 1000 1999 2000 5000 5001 7000 8080
serve n0 udp 5000 5001 5999 6000 6009 6010 7000 9000

check "modprobe kfw" modprobe kfw
check "/proc/net/kfw/rules is there" test -r /proc/net/kfw/rules
check_eq "an empty table lists two policies and the header" "policy in accept
policy out accept
handle dir action packets bytes match" "$(n0 fwctl list | squeeze)"
check "the host namespace starts empty" empty_table n0
check "client1 starts empty" empty_table n1

# --- Seed 1: block incoming connections from one address ----------------------

for f in 4 6; do
	over $f
	check "client1 connects to the host before any rule ($v)" tcp_passes n1 "$h1" 22
done
step n0 fwctl add in drop src "$client1_4"
check "the host drops client1's connection (IPv4)" tcp_dropped n1 "$host1_4" 22
check "and client1's ping (IPv4)" ping_dropped n1 "$host1_4"
check "client1 still connects over IPv6: the rule is an IPv4 one" tcp_passes n1 "$host1_6" 22
check "client2 still connects (IPv4)" tcp_passes n2 "$host2_4" 22
step n0 fwctl add in drop src "$client1_6"
check "the host drops client1's connection (IPv6)" tcp_dropped n1 "$host1_6" 22
check "and client1's ping (IPv6)" ping_dropped n1 "$host1_6"
for f in 4 6; do
	over $f
	check "client2 still connects ($v)" tcp_passes n2 "$h2" 22
	check "client2 still pings ($v)" ping_passes n2 "$h2"
done
step n0 fwctl flush
for f in 4 6; do
	over $f
	check "after flush client1 connects again ($v)" tcp_passes n1 "$h1" 22
done

# A rule for one family never matches the other.
step n0 fwctl add in drop src 0.0.0.0/0
check "src 0.0.0.0/0 drops every IPv4 connection" tcp_dropped n2 "$host2_4" 22
check "src 0.0.0.0/0 lets IPv6 through" tcp_passes n2 "$host2_6" 22
step n0 fwctl flush
step n0 fwctl add in drop src ::/0
check "src ::/0 drops every IPv6 connection" tcp_dropped n2 "$host2_6" 22
check "src ::/0 lets IPv4 through" tcp_passes n2 "$host2_4" 22
step n0 fwctl flush

# --- Seed 2: block outgoing connections to port 80 -----------------------------

step n1 fwctl add out drop proto tcp dport 80
for f in 4 6; do
	over $f
	check "client1 cannot connect out to port 80 ($v)" tcp_dropped n1 "$h1" 80
	check "client1 still connects to port 8080 ($v)" tcp_passes n1 "$h1" 8080
	check "client1 still connects to port 443 ($v)" tcp_passes n1 "$h1" 443
	check "client2 still connects to port 80 ($v)" tcp_passes n2 "$h2" 80
done
step n1 fwctl flush
check "with the rule gone client1 connects to port 80" tcp_passes n1 "$host1_4" 80

# --- Prefix boundaries ---------------------------------------------------------
#
# Client1 gets the addresses just outside, first and last inside a /29
# (192.0.2.8-15) and a /125 (2001:db8:1::8-f); the host gets them around a
# /30 (192.0.2.64-67) and a /126 (2001:db8:1::64-67).

address client1 eth0 192.0.2.7/24 192.0.2.8/24 192.0.2.15/24 192.0.2.16/24 \
	2001:db8:1::7/64 2001:db8:1::8/64 2001:db8:1::f/64 2001:db8:1::10/64
address host h1 192.0.2.63/24 192.0.2.64/24 192.0.2.67/24 192.0.2.68/24 \
	2001:db8:1::63/64 2001:db8:1::64/64 2001:db8:1::67/64 2001:db8:1::68/64

step n0 fwctl add in drop src 192.0.2.8/29
step n0 fwctl add in drop src 2001:db8:1::8/125
check "from 192.0.2.7, just below src 192.0.2.8/29: passes" tcp_passes n1 "$host1_4" 22 from 192.0.2.7
check "from 192.0.2.8, first in the prefix: dropped" tcp_dropped n1 "$host1_4" 22 from 192.0.2.8
check "from 192.0.2.15, last in the prefix: dropped" tcp_dropped n1 "$host1_4" 22 from 192.0.2.15
check "from 192.0.2.16, just above: passes" tcp_passes n1 "$host1_4" 22 from 192.0.2.16
check "from 2001:db8:1::7, just below src 2001:db8:1::8/125: passes" tcp_passes n1 "$host1_6" 22 from 2001:db8:1::7
check "from 2001:db8:1::8, first in the prefix: dropped" tcp_dropped n1 "$host1_6" 22 from 2001:db8:1::8
check "from 2001:db8:1::f, last in the prefix: dropped" tcp_dropped n1 "$host1_6" 22 from 2001:db8:1::f
check "from 2001:db8:1::10, just above: passes" tcp_passes n1 "$host1_6" 22 from 2001:db8:1::10
step n0 fwctl flush

step n0 fwctl add in drop dst 192.0.2.64/30
step n0 fwctl add in drop dst 2001:db8:1::64/126
for a in 192.0.2.63 192.0.2.68 2001:db8:1::63 2001:db8:1::68; do
	check "to $a, just outside the dst prefix: passes" tcp_passes n1 $a 22
done
for a in 192.0.2.64 192.0.2.67 2001:db8:1::64 2001:db8:1::67; do
	check "to $a, at an end of the dst prefix: dropped" tcp_dropped n1 $a 22
done
step n0 fwctl flush
for a in 192.0.2.7/24 192.0.2.8/24 192.0.2.15/24 192.0.2.16/24 \
	2001:db8:1::7/64 2001:db8:1::8/64 2001:db8:1::f/64 2001:db8:1::10/64; do
	ip -n client1 addr del $a dev eth0
done
for a in 192.0.2.63/24 192.0.2.64/24 192.0.2.67/24 192.0.2.68/24 \
	2001:db8:1::63/64 2001:db8:1::64/64 2001:db8:1::67/64 2001:db8:1::68/64; do
	ip -n host addr del $a dev h1
done

# --- Port range boundaries -----------------------------------------------------

step n0 fwctl add in drop proto tcp dport 1000-1999
for f in 4 6; do
	over $f
	check "dport 999, below 1000-1999: passes ($v)" tcp_passes n1 "$h1" 999
	check "dport 1000, first of the range: dropped ($v)" tcp_dropped n1 "$h1" 1000
	check "dport 1999, last of the range: dropped ($v)" tcp_dropped n1 "$h1" 1999
	check "dport 2000, above the range: passes ($v)" tcp_passes n1 "$h1" 2000
done
step n0 fwctl flush

step n0 fwctl add in drop proto tcp sport 40000-40009
for f in 4 6; do
	over $f
	check "sport 39999, below 40000-40009: passes ($v)" tcp_passes n1 "$h1" 22 sport 39999
	check "sport 40000, first of the range: dropped ($v)" tcp_dropped n1 "$h1" 22 sport 40000
	check "sport 40009, last of the range: dropped ($v)" tcp_dropped n1 "$h1" 22 sport 40009
	check "sport 40010, above the range: passes ($v)" tcp_passes n1 "$h1" 22 sport 40010
done
step n0 fwctl flush

step n0 fwctl add in drop proto udp dport 6000-6009
for f in 4 6; do
	over $f
	check "UDP to 5999, below 6000-6009: passes ($v)" udp_passes n1 "$h1" 5999
	check "UDP to 6000, first of the range: dropped ($v)" udp_dropped n1 "$h1" 6000
	check "UDP to 6009, last of the range: dropped ($v)" udp_dropped n1 "$h1" 6009
	check "UDP to 6010, above the range: passes ($v)" udp_passes n1 "$h1" 6010
done
step n0 fwctl flush

# --- Protocols -------------------------------------------------------------------

step n0 fwctl add in drop proto udp dport 5000
step n0 fwctl add in drop proto tcp dport 5001
for f in 4 6; do
	over $f
	check "a UDP rule drops UDP to 5000 ($v)" udp_dropped n1 "$h1" 5000
	check "a UDP rule lets TCP to 5000 pass ($v)" tcp_passes n1 "$h1" 5000
	check "a TCP rule drops TCP to 5001 ($v)" tcp_dropped n1 "$h1" 5001
	check "a TCP rule lets UDP to 5001 pass ($v)" udp_passes n1 "$h1" 5001
done
step n0 fwctl flush
check "with the rules gone UDP to 5000 passes" udp_passes n1 "$host1_4" 5000
check "with the rules gone TCP to 5001 passes" tcp_passes n1 "$host1_6" 5001

step n0 fwctl add in drop proto icmp
check "proto icmp drops an IPv4 ping" ping_dropped n1 "$host1_4"
check "proto icmp lets an IPv6 ping pass" ping_passes n1 "$host1_6"
check "proto icmp lets TCP pass" tcp_passes n1 "$host1_4" 22
step n0 fwctl flush
step n0 fwctl add in drop proto icmpv6 src "$client2_6"
check "proto icmpv6 drops an IPv6 ping" ping_dropped n2 "$host2_6"
check "proto icmpv6 lets an IPv4 ping pass" ping_passes n2 "$host2_4"
step n0 fwctl flush
check "after flush client2 pings over IPv6 again" ping_passes n2 "$host2_6"

# --- Default policies --------------------------------------------------------------

# With policy in drop nothing comes in that a rule does not let in: neighbour
# discovery included, so the allow rules go by interface or by every address
# the peer uses.
step n0 fwctl policy in drop
check_match "list shows policy in drop" "^policy in drop$" "$(n0 fwctl list | squeeze)"
for f in 4 6; do
	over $f
	check "policy in drop: client2 cannot connect ($v)" tcp_dropped n2 "$h2" 22
	check "policy in drop: client2 cannot ping ($v)" ping_dropped n2 "$h2"
done
step n0 fwctl add in accept iface h2
for f in 4 6; do
	over $f
	check "accept iface h2 lets client2 connect ($v)" tcp_passes n2 "$h2" 22
	check "accept iface h2 lets client2 ping ($v)" ping_passes n2 "$h2"
	check "client1 on h1 is still dropped ($v)" tcp_dropped n1 "$h1" 22
done
step n0 fwctl flush
check_match "flush keeps the policies" "^policy in drop$" "$(n0 fwctl list | squeeze)"
check "after flush client2 is dropped again" tcp_dropped n2 "$host2_4" 22
step n0 fwctl add in accept src "$client1_4"
step n0 fwctl add in accept src "$client1_6"
# Neighbour unreachability probes come from link-local addresses.
step n0 fwctl add in accept proto icmpv6 src fe80::/10
for f in 4 6; do
	over $f
	check "accept src client1 lets client1 connect ($v)" tcp_passes n1 "$h1" 22
	check "client2 is still dropped ($v)" tcp_dropped n2 "$h2" 22
done
step n0 fwctl policy in accept
step n0 fwctl flush
check "policy in accept again: client2 connects" tcp_passes n2 "$host2_4" 22

# Outgoing, in client1: only TCP to 8080 and neighbour discovery may leave.
step n1 fwctl policy out drop
check "policy out drop: client1 cannot connect out" tcp_dropped n1 "$host1_4" 8080
step n1 fwctl add out accept proto tcp dport 8080
step n1 fwctl add out accept proto icmpv6
for f in 4 6; do
	over $f
	check "accept dport 8080 under policy out drop: passes ($v)" tcp_passes n1 "$h1" 8080
	check "anything else under policy out drop: dropped ($v)" tcp_dropped n1 "$h1" 443
done
step n1 fwctl policy out accept
step n1 fwctl flush
check "client1 is back to an empty table" empty_table n1

# --- Order: insert, delete, flush ------------------------------------------------------

step n0 fwctl add in drop proto tcp dport 7000
step n0 fwctl add in drop proto udp dport 7000
check "TCP to 7000 is dropped" tcp_dropped n1 "$host1_4" 7000
step n0 fwctl insert 1 in accept proto tcp src "$client1_4" dport 7000
check "a rule inserted first wins over the later drop" tcp_passes n1 "$host1_4" 7000
check "it is only for its source" tcp_dropped n2 "$host2_4" 7000
step n0 fwctl insert 3 in accept proto tcp src "$client1_6" dport 7000
check "a rule inserted after the drop does not win" tcp_dropped n1 "$host1_6" 7000
step n0 fwctl insert 5 in accept proto icmp
check_eq "list shows the rules in insertion order" "in accept proto tcp src 192.0.2.2/32 dport 7000
in drop proto tcp dport 7000
in accept proto tcp src 2001:db8:1::2/128 dport 7000
in drop proto udp dport 7000
in accept proto icmp" "$(n0 fwctl list | rules)"
check_eq "/proc/net/kfw/rules shows the same order" "$(n0 fwctl list | rules)" "$(n0 cat /proc/net/kfw/rules | rules)"

drop_tcp=$(handle n0 "in drop proto tcp dport 7000")
check_match "the drop rule has a handle" "^[0-9]+$" "$drop_tcp"
step n0 fwctl del "$drop_tcp"
check "deleting the drop by handle lets client1 in over IPv6" tcp_passes n1 "$host1_6" 7000
check "and client2 too" tcp_passes n2 "$host2_4" 7000
check "UDP to 7000 is still dropped" udp_dropped n1 "$host1_4" 7000
check_eq "the deleted rule is gone from the list" "in accept proto tcp src 192.0.2.2/32 dport 7000
in accept proto tcp src 2001:db8:1::2/128 dport 7000
in drop proto udp dport 7000
in accept proto icmp" "$(n0 fwctl list | rules)"
check_error "fwctl: no rule with handle $drop_tcp" n0 fwctl del "$drop_tcp"
step n0 fwctl add in drop proto tcp dport 7000
check_not "a new rule does not get the deleted rule's handle" \
	test "$(handle n0 "in drop proto tcp dport 7000")" = "$drop_tcp"
check_eq "handles are unique" "" "$(n0 fwctl list | awk '$1 ~ /^[0-9]+$/ { print $1 }' | sort | uniq -d)"
step n0 fwctl flush
check "flush empties the table" empty_table n0
check "after flush UDP to 7000 passes" udp_passes n1 "$host1_4" 7000

# --- Canonical form, save and restore -------------------------------------------------

step n0 fwctl policy out drop
step n0 fwctl add in drop dport 22 src 192.0.2.7/24 proto tcp
step n0 fwctl add in accept sport 1000-2000 dst 2001:db8:1:0:0:0:0:5/64 proto udp
step n0 fwctl add out drop iface h1 proto 58
step n0 fwctl add in accept proto 1
step n0 fwctl add in drop proto 47
step n0 fwctl add in accept proto tcp dport 443-443
step n0 fwctl add out accept dst 2001:db8:2::2 src 2001:db8:0:0:1::/32
step n0 fwctl add in drop
saved="policy in accept
policy out drop
add in drop proto tcp src 192.0.2.0/24 dport 22
add in accept proto udp dst 2001:db8:1::/64 sport 1000-2000
add out drop proto icmpv6 iface h1
add in accept proto icmp
add in drop proto 47
add in accept proto tcp dport 443
add out accept src 2001:db8::/32 dst 2001:db8:2::2/128
add in drop"
n0 fwctl save >/tmp/saved || true
check_eq "save prints policies and rules in canonical form" "$saved" "$(cat /tmp/saved)"
check_eq "list shows the same canonical matches" "$(grep '^add ' /tmp/saved | cut -d ' ' -f 2-)" "$(n0 fwctl list | rules)"
check_eq "/proc/net/kfw/rules too" "$(grep '^add ' /tmp/saved | cut -d ' ' -f 2-)" "$(n0 cat /proc/net/kfw/rules | rules)"

step n0 fwctl flush
step n0 fwctl policy out accept
step n0 fwctl restore /tmp/saved
check_eq "save, flush, restore FILE, save: the same text" "$(cat /tmp/saved)" "$(n0 fwctl save)"
step n0 fwctl flush
step n0 fwctl policy out accept
step sh -c '/sbin/ip netns exec host fwctl restore < /tmp/saved'
check_eq "restore from stdin: the same text" "$(cat /tmp/saved)" "$(n0 fwctl save)"
check_eq "restored rules start with zero counters" "" "$(n0 fwctl list | awk '$1 ~ /^[0-9]+$/ && ($4 != 0 || $5 != 0)')"

cat >/tmp/commented <<'EOF'
# a comment line

policy in accept   # a comment after a line
add in drop proto tcp dport 22	# and after a rule
EOF
step n0 fwctl restore /tmp/commented
check_eq "comments and blank lines are skipped; a direction without a policy line keeps its policy" \
	"policy in accept
policy out drop
add in drop proto tcp dport 22" "$(n0 fwctl save)"

# A restore that fails changes nothing: not the rules, not the policies.
step n0 fwctl restore /tmp/saved
printf 'policy in drop\nadd in drop proto tcp dport 80\nadd in drop src 300.1.2.3\n' >/tmp/bad
check_error "fwctl: line 3: invalid address '300.1.2.3'" n0 fwctl restore /tmp/bad
printf '# comment\npolicy out accept\n\nadd in accept proto udp\nadd in drop frob\n' >/tmp/bad
check_error "fwctl: line 5: unknown keyword 'frob'" n0 fwctl restore /tmp/bad
check_eq "after the failed restores the table is as saved" "$(cat /tmp/saved)" "$(n0 fwctl save)"

# --- Restores checked, on trial, and counters that survive them ---------------------------------------

# counts NS "DIR ACTION MATCH": "PACKETS BYTES" of that rule.
counts() {
	$1 fwctl list | rule_line "$2" | cut -d ' ' -f 2-
}

# until_saved NS TEXT: wait up to 10 s for the table of NS to save as TEXT.
until_saved() {
	local i=0
	while [ "$($1 fwctl save)" != "$2" ] && [ $i -lt 20 ]; do
		sleep 0.5
		i=$((i + 1))
	done
	[ "$($1 fwctl save)" = "$2" ]
}

printf '%s\n' "policy in accept" "policy out accept" "add in accept proto tcp dport 8080" \
	"add in drop proto tcp dport 7000" "add in accept proto icmp" >/tmp/open
step n0 fwctl restore /tmp/open
check "TCP to 7000 is dropped" tcp_dropped n1 "$host1_4" 7000
check "ping passes" ping_passes n1 "$host1_4"
dropped=$(counts n0 "in drop proto tcp dport 7000")
pinged=$(counts n0 "in accept proto icmp")
check_match "the dropped SYNs are counted" "^[1-9][0-9]* [1-9][0-9]*$" "$dropped"
check_match "the pings are counted" "^[1-9][0-9]* [1-9][0-9]*$" "$pinged"

# One rule changed, one gone, one new, two left alone: those two keep their
# counts, whatever their comments and handles.
printf '%s\n' "policy in accept" "policy out accept" "add in accept proto tcp dport 8081" \
	"add in drop proto tcp dport 7000 comment \"kept\"" "add in drop proto udp dport 9" \
	"add in accept proto icmp" >/tmp/open2
step n0 fwctl restore /tmp/open2
check_eq "a rule a restore leaves unchanged keeps its counters" "$dropped" \
	"$(counts n0 'in drop proto tcp dport 7000 comment "kept"')"
check_eq "so does the next unchanged one" "$pinged" "$(counts n0 "in accept proto icmp")"
check_eq "a new rule starts from zero" "0 0" "$(counts n0 "in accept proto tcp dport 8081")"
check "the carried rule still drops" tcp_dropped n1 "$host1_4" 7000
check "and counts on from the carried count" [ "$(counts n0 'in drop proto tcp dport 7000 comment "kept"' |
	cut -d ' ' -f 1)" -gt "${dropped%% *}" ]
dropped=$(counts n0 'in drop proto tcp dport 7000 comment "kept"')
check_match "stats --prometheus gives each rule's counters, labelled" \
	"^kfw_rule_packets_total\\{handle=\"[0-9]+\",dir=\"in\",action=\"drop\",comment=\"kept\"\\} ${dropped%% *}\$" \
	"$(n0 fwctl stats --prometheus)"
check_match "and the hooks' counters" '^kfw_hook_seen_packets_total\{dir="in",family="ipv4"\} [1-9][0-9]*$' \
	"$(n0 fwctl stats --prometheus)"
printf '%s\n' "policy in accept" "policy out accept" "add in accept proto icmp" \
	"add in drop proto tcp dport 7000" >/tmp/moved
step n0 fwctl restore /tmp/moved
check_eq "the first of two unchanged rules that swapped places keeps its counters" "$pinged" \
	"$(counts n0 "in accept proto icmp")"
check_eq "the second, now out of order, starts from zero" "0 0" \
	"$(counts n0 "in drop proto tcp dport 7000")"
step n0 fwctl restore /tmp/open
check "ping passes" ping_passes n1 "$host1_4"
step n0 fwctl restore --zero /tmp/open
check_eq "restore --zero zeroes unchanged rules too" "0 0" "$(counts n0 "in accept proto icmp")"

# --check: the kernel builds the table and throws it away.
printf '%s\n' "policy in drop" "policy out drop" "add in accept proto tcp dport 22" >/tmp/lockout
check_eq "restore --check of a good file" "'/tmp/lockout': the kernel would take 1 rule" \
	"$(n0 fwctl restore --check /tmp/lockout)"
check_eq "changes nothing" "$(cat /tmp/open)" "$(n0 fwctl save)"
check "ping still passes" ping_passes n1 "$host1_4"
printf 'policy in drop\nadd in drop src 300.1.2.3\n' >/tmp/bad
check_error "fwctl: line 2: invalid address '300.1.2.3'" n0 fwctl restore --check /tmp/bad

# --confirm: the kernel puts the old table back unless confirmed in time,
# with fwctl long gone. The trials that are checked while they last are long
# enough for the debug kernel; the one left to expire is short.
step n0 fwctl restore --confirm 600 /tmp/lockout
check "on trial, the new rules are in force: ping is dropped" ping_dropped n1 "$host1_4"
check_match "list says how long is left to confirm" \
	"^confirm within [0-9]+ s, or the previous rules come back$" "$(n0 fwctl list)"
check_match "list -j too" '"confirm_left_ms":[1-9][0-9]*,' "$(n0 fwctl -j list)"
check_eq "save shows the rules on trial, without the notice" "$(cat /tmp/lockout)" "$(n0 fwctl save)"
check_error "fwctl: a restore awaits confirmation: confirm it, or wait for it to revert" \
	n0 fwctl restore /tmp/open
check_error "fwctl: a restore awaits confirmation: confirm it, or wait for it to revert" \
	n0 fwctl restore --check /tmp/open
step n0 fwctl add in accept proto udp dport 53
step n0 fwctl confirm
check_eq "confirm keeps the rules on trial, and what changed meanwhile" \
	"$(cat /tmp/lockout)
add in accept proto udp dport 53" "$(n0 fwctl save)"
check_eq "list no longer mentions a confirmation" "" "$(n0 fwctl list | grep '^confirm' || true)"
check_error "fwctl: no restore awaits confirmation" n0 fwctl confirm

step n0 fwctl restore /tmp/open
check "ping passes" ping_passes n1 "$host1_4"
step n0 fwctl restore --confirm 1 /tmp/lockout
check "unconfirmed, the previous rules come back by themselves" until_saved n0 "$(cat /tmp/open)"
check "ping passes again" ping_passes n1 "$host1_4"
check_eq "the table that came back kept its counters through the trial" 2 \
	"$(counts n0 "in accept proto icmp" | cut -d ' ' -f 1)"
check_error "fwctl: no restore awaits confirmation" n0 fwctl confirm

step n0 fwctl restore --confirm 6 /tmp/open2
step n0 fwctl confirm
sleep 7
check_eq "confirmed in time, the new rules stay past the deadline" \
	"$(sed 's/ comment "kept"//' /tmp/open2)" "$(n0 fwctl save | sed 's/ comment "kept"//')"
check_error "fwctl: invalid confirmation time '0' (1-86400 seconds)" n0 fwctl restore --confirm 0 /tmp/open
# A trial pending when its namespace goes must leave nothing behind.
step ip netns add trial
step ip netns exec trial fwctl restore --confirm 600 /tmp/open
step ip netns del trial
step n0 fwctl restore /tmp/saved

# A table of more rules than one netlink message carries, and one the kernel
# must refuse whole because it is larger than the rule limit.
limit=$(stat_of n0 rule_limit)
check_match "stats show a rule limit" "^[0-9]+$" "$limit"
{
	echo "policy in accept"
	echo "policy out accept"
	i=1
	while [ $i -le 600 ]; do
		echo "add in drop proto udp dport $((10000 + i))"
		i=$((i + 1))
	done
} >/tmp/big
if [ "${limit:-0}" -ge 600 ]; then
	step n0 fwctl restore /tmp/big
	check_eq "a 600-rule restore (two chunks) installs 600 rules" 600 "$(stat_of n0 rules)"
	check_eq "and saves back identically" "$(cat /tmp/big)" "$(n0 fwctl save)"
	check "UDP to 10600, the last rule, is dropped" udp_dropped n1 "$host1_4" 10600
	check "UDP to 9000, beyond them, passes" udp_passes n1 "$host1_4" 9000
fi
step n0 fwctl flush
step n0 fwctl policy out accept
check "the host is back to an empty table" empty_table n0

# --- Idle directions ------------------------------------------------------------------------
#
# A direction whose table has no rules and an accept policy takes no hooks:
# its packets never enter kfw, which then costs them nothing, and its hook
# counters stand still. A rule or a drop policy brings the direction's hooks
# (IPv4 and IPv6) back, and a flush takes them away again.

# hook_counts NS DIR: that direction's seen counters, IPv4 then IPv6.
hook_counts() {
	echo "$(stat_of "$1" "$2_ipv4_seen") $(stat_of "$1" "$2_ipv6_seen")"
}
# pings NS: a ping each way to the host over both families, whatever comes of it.
pings() {
	$1 ping -c 1 -W 1 "$host1_4" >/dev/null 2>&1 || true
	$1 ping -c 1 -W 1 "$host1_6" >/dev/null 2>&1 || true
}

step n1 fwctl zero
pings n1
check_eq "a namespace with an empty table: in counts nothing" "0 0" "$(hook_counts n1 in)"
check_eq "and out counts nothing" "0 0" "$(hook_counts n1 out)"
check "and its packets pass" ping_passes n1 "$host1_4"

step n1 fwctl add in drop proto udp dport 9
pings n1
check_match "a rule in: in counts the ping replies, both families" "^[1-9][0-9]* [1-9][0-9]*$" "$(hook_counts n1 in)"
check_eq "out still counts nothing" "0 0" "$(hook_counts n1 out)"

step n1 fwctl add out accept proto icmp
pings n1
check_match "a rule out too: out counts the pings" "^[1-9][0-9]* [1-9][0-9]*$" "$(hook_counts n1 out)"

step n1 fwctl flush
step n1 fwctl zero
pings n1
check_eq "after a flush neither direction counts" "0 0 0 0" "$(hook_counts n1 in) $(hook_counts n1 out)"

step n1 fwctl policy in drop
check "policy in drop, no rules: the replies to client1's pings are dropped" ping_dropped n1 "$host1_4"
check_match "and counted" "^[1-9][0-9]* [0-9]+$" "$(hook_counts n1 in)"
step n1 fwctl policy in accept
step n1 fwctl zero
pings n1
check_eq "policy in accept again: nothing counts" "0 0" "$(hook_counts n1 in)"
check "and the pings pass" ping_passes n1 "$host1_4"
check "rmmod kfw with hooks in some namespaces and not in others" sh -c '
	/sbin/ip netns exec client1 fwctl add in drop proto udp dport 9 && rmmod kfw && modprobe kfw'
check "client1 is empty again after the reload" empty_table n1

# --- Counters ------------------------------------------------------------------------------

# Five datagrams of 32 bytes: 5 * (20 + 8 + 32) bytes over IPv4, 5 * (40 + 8 + 32)
# over IPv6. Nothing else matches the rules, and nothing else is dropped.
step n0 fwctl add in drop proto udp src "$client1_4" dport 5353
step n0 fwctl add in drop proto udp src "$client1_6" dport 5353
step n0 fwctl zero
check_eq "after zero in_ipv4_dropped is 0" 0 "$(stat_of n0 in_ipv4_dropped)"
check_eq "after zero in_ipv6_dropped is 0" 0 "$(stat_of n0 in_ipv6_dropped)"
n1 kfwprobe udp-send "$host1_4" 5353 5 size 32 timeout 300 || true
n1 kfwprobe udp-send "$host1_6" 5353 5 size 32 timeout 300 || true
rule4=$(n0 fwctl list | rule_line "in drop proto udp src 192.0.2.2/32 dport 5353")
rule6=$(n0 fwctl list | rule_line "in drop proto udp src 2001:db8:1::2/128 dport 5353")
check_eq "fwctl list: the IPv4 rule counted 5 packets, 300 bytes" "5 300" "${rule4#* }"
check_eq "fwctl list: the IPv6 rule counted 5 packets, 400 bytes" "5 400" "${rule6#* }"
check_eq "/proc/net/kfw/rules shows the same IPv4 counters" "$rule4" \
	"$(n0 cat /proc/net/kfw/rules | rule_line "in drop proto udp src 192.0.2.2/32 dport 5353")"
check_eq "/proc/net/kfw/rules shows the same IPv6 counters" "$rule6" \
	"$(n0 cat /proc/net/kfw/rules | rule_line "in drop proto udp src 2001:db8:1::2/128 dport 5353")"
check_eq "in_ipv4_dropped is 5" 5 "$(stat_of n0 in_ipv4_dropped)"
check_eq "in_ipv6_dropped is 5" 5 "$(stat_of n0 in_ipv6_dropped)"
check_eq "out_ipv4_dropped is 0" 0 "$(stat_of n0 out_ipv4_dropped)"
check_eq "/proc/net/kfw/stats agrees: 5 and 5 dropped" "5 5" \
	"$(proc_stat_of n0 in_ipv4_dropped) $(proc_stat_of n0 in_ipv6_dropped)"

h4=${rule4%% *}
h6=${rule6%% *}
check_eq "fwctl -j list: the exact JSON of the table" \
	"{\"policy\":{\"in\":\"accept\",\"out\":\"accept\"},\"rules\":[{\"handle\":$h4,\"dir\":\"in\",\"action\":\"drop\",\"packets\":5,\"bytes\":300,\"proto\":\"udp\",\"src\":\"192.0.2.2/32\",\"dport\":\"5353\"},{\"handle\":$h6,\"dir\":\"in\",\"action\":\"drop\",\"packets\":5,\"bytes\":400,\"proto\":\"udp\",\"src\":\"2001:db8:1::2/128\",\"dport\":\"5353\"}]}" \
	"$(n0 fwctl -j list | kfwprobe json)"
check "fwctl -j list is valid JSON" sh -c '/sbin/ip netns exec host fwctl -j list | kfwprobe json'
check "fwctl -j stats is valid JSON" sh -c '/sbin/ip netns exec host fwctl -j stats | kfwprobe json'
hook='\{"seen":[0-9]+,"accepted":[0-9]+,"dropped":[0-9]+\}'
dir="\\{\"ipv4\":$hook,\"ipv6\":$hook\\}"
check_match "fwctl -j stats has the documented structure" \
	"^\\{\"in\":$dir,\"out\":$dir,\"rules\":2,\"rule_limit\":$limit,\"log_suppressed\":0\\}\$" "$(n0 fwctl -j stats | kfwprobe json)"
check_match "fwctl -j stats counts the drops" '"in":\{"ipv4":\{[^}]*"dropped":5\},"ipv6":\{[^}]*"dropped":5\}' \
	"$(n0 fwctl -j stats | kfwprobe json)"
check_eq "fwctl -j list of an empty table" '{"policy":{"in":"accept","out":"accept"},"rules":[]}' \
	"$(n1 fwctl -j list | kfwprobe json)"

names="in_ipv4_seen
in_ipv4_accepted
in_ipv4_dropped
in_ipv6_seen
in_ipv6_accepted
in_ipv6_dropped
out_ipv4_seen
out_ipv4_accepted
out_ipv4_dropped
out_ipv6_seen
out_ipv6_accepted
out_ipv6_dropped
rules
rule_limit
log_suppressed"
check_eq "/proc/net/kfw/stats has every counter, in order, then the classifier's size" "$names
classifier_entries
classifier_nodes
classifier_bytes" "$(n0 cat /proc/net/kfw/stats | awk '{ print $1 }')"
check_eq "fwctl stats has the same names, but for the classifier's size" "$names" "$(n0 fwctl stats | awk '{ print $1 }')"
check_eq "each of the two rules takes one classifier entry (a /32 or a single port)" 2 "$(proc_stat_of n0 classifier_entries)"
check_eq "every stats line is a name and a number" "" "$(n0 cat /proc/net/kfw/stats | awk 'NF != 2 || $2 !~ /^[0-9]+$/')"
check_eq "stats count the rules" 2 "$(stat_of n0 rules)"
check_eq "fwctl stats: the same rules, rule_limit and log_suppressed as /proc" \
	"$(n0 cat /proc/net/kfw/stats | sed -n '/^rules /,/^log_suppressed /p' | squeeze)" "$(n0 fwctl stats | tail -n 3 | squeeze)"
check_eq "nothing logs here: log_suppressed is 0" 0 "$(stat_of n0 log_suppressed)"

# Outgoing drops are counted where they happen, in the sender's namespace.
step n1 fwctl add out drop proto udp dport 5353
step n1 fwctl zero
n1 kfwprobe udp-send "$host1_4" 5353 5 size 32 timeout 300 >/dev/null 2>&1 || true
check_eq "an out rule counted 5 packets, 300 bytes" "5 300" \
	"$(n1 fwctl list | rule_line "out drop proto udp dport 5353" | cut -d ' ' -f 2-)"
n1 kfwprobe udp-send "$host1_6" 5353 5 size 32 timeout 300 >/dev/null 2>&1 || true
check_eq "and 5 more over IPv6: 10 packets, 700 bytes" "10 700" \
	"$(n1 cat /proc/net/kfw/rules | rule_line "out drop proto udp dport 5353" | cut -d ' ' -f 2-)"
check_eq "client1's out_ipv4_dropped is 5" 5 "$(stat_of n1 out_ipv4_dropped)"
check_eq "client1's out_ipv6_dropped is 5" 5 "$(stat_of n1 out_ipv6_dropped)"

step n0 fwctl zero
check_eq "fwctl zero resets the rule counters" "0 0
0 0" "$(n0 fwctl list | awk '$1 ~ /^[0-9]+$/ { print $4, $5 }')"
check_eq "and the dropped counters" "0 0 0 0" \
	"$(for s in in_ipv4_dropped in_ipv6_dropped out_ipv4_dropped out_ipv6_dropped; do stat_of n0 $s; done | xargs)"
check_eq "zero in the host leaves client1's counters alone" "10 700" \
	"$(n1 fwctl list | rule_line "out drop proto udp dport 5353" | cut -d ' ' -f 2-)"
step n1 fwctl zero
check_eq "zero in client1 resets them" "0 0" \
	"$(n1 fwctl list | rule_line "out drop proto udp dport 5353" | cut -d ' ' -f 2-)"
step n0 fwctl flush
step n1 fwctl flush

# --- Bad input: one exact line on stderr, exit status 1, nothing changed ------------------

step n0 fwctl add in drop proto tcp dport 22
step n0 fwctl add out drop proto udp dport 53
step n0 fwctl add in accept src 192.0.2.0/24
free=99
n0 fwctl list | awk '{ print $1 }' | grep -qx 99 && free=4000000000
check_error "fwctl: unknown command 'frob'" n0 fwctl frob
check_error "fwctl: invalid direction 'sideways'" n0 fwctl add sideways drop
check_error "fwctl: invalid action 'deny'" n0 fwctl add in deny
check_error "fwctl: unknown keyword 'port'" n0 fwctl add in drop port 80
check_error "fwctl: missing value for 'dport'" n0 fwctl add in drop proto tcp dport
check_error "fwctl: duplicate keyword 'src'" n0 fwctl add in drop src 192.0.2.1 src 192.0.2.2
check_error "fwctl: invalid protocol 'foo'" n0 fwctl add in drop proto foo
check_error "fwctl: invalid protocol '256'" n0 fwctl add in drop proto 256
check_error "fwctl: invalid address '300.1.2.3'" n0 fwctl add in drop src 300.1.2.3
check_error "fwctl: invalid address '2001:db8::g'" n0 fwctl add in drop dst 2001:db8::g
check_error "fwctl: invalid prefix length '33' in '192.0.2.0/33'" n0 fwctl add in drop src 192.0.2.0/33
check_error "fwctl: invalid prefix length '129' in '2001:db8::/129'" n0 fwctl add in drop dst 2001:db8::/129
check_error "fwctl: invalid port '70000'" n0 fwctl add in drop proto tcp dport 70000
check_error "fwctl: invalid port range '90-80'" n0 fwctl add in drop proto tcp dport 90-80
check_error "fwctl: 'dport' needs proto tcp or udp" n0 fwctl add in drop dport 80
check_error "fwctl: 'sport' needs proto tcp or udp" n0 fwctl add in drop proto icmp sport 80
check_error "fwctl: src and dst are of different families" n0 fwctl add in drop src 192.0.2.1 dst 2001:db8::1
check_error "fwctl: invalid interface name 'aaaaaaaaaaaaaaaaaaaa'" n0 fwctl add in drop iface aaaaaaaaaaaaaaaaaaaa
check_error "fwctl: invalid handle 'x'" n0 fwctl del x
check_error "fwctl: no rule with handle $free" n0 fwctl del $free
check_error "fwctl: invalid position '0'" n0 fwctl insert 0 in drop
check_error "fwctl: invalid position '9': the table has 3 rules" n0 fwctl insert 9 in drop
check_error "fwctl: invalid direction 'up'" n0 fwctl policy up drop
step n0 fwctl insert 4 in drop proto icmp
check_eq "insert at count + 1 appends" "in drop proto icmp" "$(n0 fwctl list | rules | tail -n 1)"

# Missing arguments: the message first; the usage may follow, on that line or the next.
n0 fwctl add >/tmp/stdout 2>/tmp/stderr && status=0 || status=$?
check_not "fwctl add without arguments fails" test "$status" -eq 0
check_match "and says: fwctl: missing direction" "^fwctl: missing direction" "$(head -n 1 /tmp/stderr)"
check "fwctl help succeeds" n0 fwctl help
check "fwctl --version succeeds" n0 fwctl --version
step n0 fwctl flush

# --- Namespaces are isolated -----------------------------------------------------------------------

step n0 fwctl add in drop proto tcp dport 7000
step n1 fwctl add out drop proto tcp dport 80
ip netns add other
check "a namespace created now has an empty table" empty_table n3
check_eq "and its /proc/net/kfw/rules has only the header" 1 "$(n3 cat /proc/net/kfw/rules | wc -l)"
check_match "the header starts with handle" "^handle" "$(n3 cat /proc/net/kfw/rules)"
check_eq "the host lists only its own rule" "in drop proto tcp dport 7000" "$(n0 fwctl list | rules)"
check_eq "client1 lists only its own rule" "out drop proto tcp dport 80" "$(n1 fwctl list | rules)"
check_eq "client1's /proc shows only its own rule" "out drop proto tcp dport 80" "$(n1 cat /proc/net/kfw/rules | rules)"
check "client2 lists none" empty_table n2
check_eq "client2's /proc shows none" "" "$(n2 cat /proc/net/kfw/rules | rules)"
check "client1's out rule drops its own connection" tcp_dropped n1 "$host1_4" 80
check "but not client2's" tcp_passes n2 "$host2_4" 80
check "the host's rule drops TCP to 7000 from client2" tcp_dropped n2 "$host2_6" 7000

# The VM's own namespace drops everything: no other namespace notices.
step fwctl policy in drop
step fwctl policy out drop
step fwctl add in drop
check "a drop-all in the initial namespace does not touch the others" tcp_passes n2 "$host2_6" 22
check_eq "the initial namespace lists its own rule" "in drop" "$(fwctl list | rules)"
step fwctl flush
step fwctl policy in accept
step fwctl policy out accept

# A namespace that goes away with rules in it.
step n3 fwctl add in drop proto tcp dport 1
step n3 fwctl policy out drop
check "a namespace with rules can be deleted" ip netns del other
step n0 fwctl flush
step n1 fwctl flush

# --- Unprivileged users read, and cannot write ------------------------------------------------------

# as_user COMMAND...: COMMAND as uid 1000 in the host namespace.
as_user() { n0 kfwprobe as-uid 1000 "$@"; }
step n0 fwctl add in drop proto tcp dport 7000
check "the rule drops" tcp_dropped n1 "$host1_4" 7000
h=$(handle n0 "in drop proto tcp dport 7000")
counters=$(n0 fwctl list | rule_line "in drop proto tcp dport 7000")
printf 'policy in drop\nadd in drop proto udp dport 1\n' >/tmp/user.rules
chmod 0644 /tmp/user.rules
check_error "$no_cap" n0 kfwprobe as-uid 1000 fwctl add in drop proto tcp dport 22
check_error "$no_cap" n0 kfwprobe as-uid 1000 fwctl insert 1 in drop
check_error "$no_cap" n0 kfwprobe as-uid 1000 fwctl del "$h"
check_error "$no_cap" n0 kfwprobe as-uid 1000 fwctl flush
check_error "$no_cap" n0 kfwprobe as-uid 1000 fwctl policy in drop
check_error "$no_cap" n0 kfwprobe as-uid 1000 fwctl zero
check_error "$no_cap" n0 kfwprobe as-uid 1000 fwctl restore /tmp/user.rules
check_eq "the counters are still there" "$counters" "$(n0 fwctl list | rule_line "in drop proto tcp dport 7000")"
check_match "and not zero" "^[0-9]+ [1-9][0-9]* [1-9][0-9]*$" "$counters"
check "an unprivileged user can run fwctl list" as_user fwctl list
check_eq "and sees the rule" "in drop proto tcp dport 7000" "$(as_user fwctl list | rules)"
check "and fwctl stats" as_user fwctl stats
check "and fwctl save" as_user fwctl save
check "and read /proc/net/kfw/rules" as_user cat /proc/net/kfw/rules
check "and read /proc/net/kfw/stats" as_user cat /proc/net/kfw/stats
check_eq "/proc/net/kfw/rules is mode 0444" 444 "$(n0 stat -c %a /proc/net/kfw/rules)"
check_eq "/proc/net/kfw/stats is mode 0444" 444 "$(n0 stat -c %a /proc/net/kfw/stats)"
check "the rule still drops" tcp_dropped n1 "$host1_4" 7000
step n0 fwctl flush

# --- Unloading under traffic --------------------------------------------------------------------------
#
# Rules in three namespaces, and UDP flowing through both hooks of both
# families, accepted and dropped, while the module goes away. It comes back
# with nothing: empty tables, accepting policies.

step n0 fwctl add in drop proto tcp dport 7000
step n0 fwctl add in drop proto udp dport 6000
step n0 fwctl policy out accept
step n1 fwctl add out drop proto udp dport 6009
step n2 fwctl policy in drop
step n2 fwctl add in accept iface eth0
n1 kfwprobe udp-flood "$host1_4" 9000 8000 >/tmp/flood4 2>&1 &
flood4=$!
n2 kfwprobe udp-flood "$host2_6" 9000 8000 >/tmp/flood6 2>&1 &
flood6=$!
n1 kfwprobe udp-flood "$host1_6" 6000 8000 >/tmp/flood-dropped 2>&1 &
flood_dropped=$!
sleep 1
check "rmmod kfw while rules are loaded and traffic flows" rmmod kfw
check "the traffic was still flowing" kill -0 $flood4 $flood6 $flood_dropped
wait $flood4 $flood6 $flood_dropped || true
check_match "the IPv4 flood got echoes" "^sent [1-9][0-9]* received [1-9]" "$(cat /tmp/flood4)"
check_match "the IPv6 flood got echoes" "^sent [1-9][0-9]* received [1-9]" "$(cat /tmp/flood6)"
autoload off
check_error "$not_loaded" n0 fwctl list
check_not "/proc/net/kfw is gone" n0 test -e /proc/net/kfw
autoload on
check "TCP to 7000 passes without the module" tcp_passes n1 "$host1_4" 7000

check "modprobe kfw again" modprobe kfw
check "the host's table is empty again" empty_table n0
check "client1's too" empty_table n1
check "client2's policy is accept again" empty_table n2
check "TCP to 7000 passes" tcp_passes n1 "$host1_4" 7000
check "UDP to 6000 passes" udp_passes n1 "$host1_6" 6000
check "UDP to 6009 passes" udp_passes n1 "$host1_4" 6009
check "client2 connects" tcp_passes n2 "$host2_6" 22
step n0 fwctl add in drop src "$client1_6"
check "and rules work again" tcp_dropped n1 "$host1_6" 22
step n0 fwctl flush

# --- The rule limit -----------------------------------------------------------------------------------
#
# Loaded with max_rules=10, the module must refuse an eleventh rule, and a
# restore of eleven must fail whole, on the kernel's side of the transaction.

# Unloading with a restore on trial frees both tables (kmemleak would tell).
step n0 fwctl restore --confirm 600 /tmp/open
check "rmmod kfw" rmmod kfw
check "modprobe kfw max_rules=10" modprobe kfw max_rules=10
check_eq "stats show rule_limit 10" 10 "$(stat_of n0 rule_limit)"
{
	echo "policy in accept"
	echo "policy out drop"
	for i in 1 2 3 4 5 6 7 8 9 10; do
		echo "add in drop proto tcp dport $i"
	done
} >/tmp/ten
step n0 fwctl restore /tmp/ten
check_eq "ten rules fit" "$(cat /tmp/ten)" "$(n0 fwctl save)"
for command in "add in drop proto tcp dport 11" "insert 1 in drop proto tcp dport 11"; do
	# shellcheck disable=SC2086 # a command line
	n0 fwctl $command >/tmp/stdout 2>/tmp/stderr && status=0 || status=$?
	check_eq "an eleventh rule is refused: fwctl $command" 1 "$status"
	check_match "with a message" "^fwctl: " "$(cat /tmp/stderr)"
done
{
	echo "policy in drop"
	echo "policy out accept"
	for i in 1 2 3 4 5 6 7 8 9 10 11; do
		echo "add out drop proto udp dport $i"
	done
} >/tmp/eleven
n0 fwctl restore /tmp/eleven >/tmp/stdout 2>/tmp/stderr && status=0 || status=$?
check_eq "restoring eleven rules fails" 1 "$status"
check_match "with a message" "^fwctl: " "$(cat /tmp/stderr)"
check_eq "and changes nothing, policies included" "$(cat /tmp/ten)" "$(n0 fwctl save)"
step n0 fwctl del "$(handle n0 "in drop proto tcp dport 10")"
step n0 fwctl add in drop proto tcp dport 11
check_eq "a deleted rule makes room for another" 10 "$(stat_of n0 rules)"
step n0 fwctl flush
step n0 fwctl policy out accept

# --- Hostile input: refused whole, before the kernel is asked -----------------------------------------
#
# Still with max_rules=10. Bytes that could change what a file means, or what
# a terminal shows, are refused by name; nothing reaches the table. Control
# bytes are made inside the commands, so that this log never holds them raw.

step n0 fwctl add in drop proto tcp dport 7000
printf 'policy in accept\n# comment\nadd in drop\000proto tcp dport 22\n' >/tmp/nul
check "the NUL file holds a NUL byte" test "$(wc -c </tmp/nul)" -gt "$(tr -d '\000' </tmp/nul | wc -c)"
check_error "fwctl: line 3: NUL byte in input" n0 fwctl restore /tmp/nul
printf '\000add in drop\n' >/tmp/nul
check_error "fwctl: line 1: NUL byte in input" n0 fwctl restore /tmp/nul
check "the NUL line did not become a drop-all rule: TCP to 22 passes" tcp_passes n1 "$host1_4" 22
check "and the old table is in place: TCP to 7000 is dropped" tcp_dropped n1 "$host1_4" 7000

check_error "fwctl: restore: no rules or policies in standard input; use 'fwctl flush' to empty the table" \
	n0 sh -c 'fwctl restore </dev/null'
: >/tmp/empty
check_error "fwctl: restore: no rules or policies in '/tmp/empty'; use 'fwctl flush' to empty the table" \
	n0 fwctl restore /tmp/empty
printf '# nothing but comments\n\n   \n' >/tmp/comments
check_error "fwctl: restore: no rules or policies in '/tmp/comments'; use 'fwctl flush' to empty the table" \
	n0 fwctl restore /tmp/comments
check "after the refused empty restores TCP to 7000 is still dropped" tcp_dropped n1 "$host1_4" 7000
printf 'policy in accept\npolicy out accept\n' >/tmp/policies
step n0 fwctl restore /tmp/policies
check "policy lines alone restore a table without rules" empty_table n0
check "and TCP to 7000 passes" tcp_passes n1 "$host1_4" 7000

# check_error_bytes EXPECTED FORMAT COMMAND...: check_error of COMMAND in the
# host namespace, with the bytes `printf FORMAT` makes as its last argument.
check_error_bytes() {
	local expected=$1 format=$2
	shift 2
	# shellcheck disable=SC2016 # the inner shell expands them
	check_error "$expected" n0 sh -c '"$@" "$(printf "$0")"' "$format" "$@"
}

check_error_bytes "fwctl: unknown command 'frob\\x1b[2J'" 'frob\033[2J' fwctl
check_error_bytes "fwctl: invalid protocol 't\\x01cp'" 't\001cp' fwctl add in drop proto
check_error_bytes "fwctl: invalid address '192.0.2.2\\nfwctl: ok'" '192.0.2.2\nfwctl: ok' \
	fwctl add in drop src
check_error_bytes "fwctl: invalid comment 'caf\\xc3\\xa9'" 'caf\303\251' fwctl add in drop comment
printf 'add in drop proto tcp dport 22\nadd in drop iface h1\033[8m\n' >/tmp/escape
check_error "fwctl: line 2: invalid interface name 'h1\\x1b[8m'" n0 fwctl restore /tmp/escape

check_error "fwctl: invalid interface name 'h1\"'" n0 fwctl add in drop iface 'h1"'
check_error "fwctl: invalid interface name '\"h1\"'" n0 fwctl add in drop iface '"h1"'
check_error "fwctl: invalid interface name 'h'1'" n0 fwctl add in drop iface "h'1"
check_error "fwctl: invalid interface name '#h1'" n0 fwctl add in drop iface '#h1'
check_error_bytes "fwctl: invalid interface name 'h\\x7f'" 'h\177' fwctl add in drop iface
check_error_bytes "fwctl: invalid interface name 'h\\x01'" 'h\001' fwctl test in iface
check_error "fwctl: invalid interface name '..'" n0 fwctl add in drop iface ..
check_error "fwctl: invalid interface name 'h:1'" n0 fwctl add in drop iface h:1
printf 'add in drop iface #h1\n' >/tmp/iface
check_error "fwctl: line 1: missing value for 'iface'" n0 fwctl restore /tmp/iface
# The odd names the kernel takes round-trip through save and restore.
step n0 fwctl add in drop iface 'h#1'
step n0 fwctl add in drop iface 'h\1'
step n0 fwctl add in drop iface '~!$%&()*+,-.;<='
n0 fwctl save >/tmp/ifaces || true
step n0 fwctl flush
step n0 fwctl restore /tmp/ifaces
check_eq "odd interface names save and restore unchanged" "$(cat /tmp/ifaces)" "$(n0 fwctl save)"
step n0 fwctl flush

check_error "fwctl: IPv4-mapped address '::ffff:192.0.2.2' matches no IPv4 packet; write 192.0.2.2" \
	n0 fwctl add in drop src ::ffff:192.0.2.2
check_error "fwctl: IPv4-mapped address '::ffff:0:0/96' matches no IPv4 packet; write 0.0.0.0/0" \
	n0 fwctl add in drop src ::ffff:0:0/96
check_error "fwctl: IPv4-mapped address '::ffff:c000:200/120' matches no IPv4 packet; write 192.0.2.0/24" \
	n0 fwctl insert 1 out drop dst ::ffff:c000:200/120
printf 'policy in drop\nadd in accept src ::ffff:192.0.2.2\n' >/tmp/mapped
check_error "fwctl: line 2: IPv4-mapped address '::ffff:192.0.2.2' matches no IPv4 packet; write 192.0.2.2" \
	n0 fwctl restore /tmp/mapped
check_error "fwctl: IPv4-mapped address '::ffff:192.0.2.2' matches no IPv4 packet; write 192.0.2.2" \
	n0 fwctl test in src ::ffff:192.0.2.2
step n0 fwctl add in drop proto tcp src 192.0.2.2 dport 22
check "the IPv4 form the error suggests drops client1's connection" tcp_dropped n1 "$host1_4" 22
step n0 fwctl flush

# Fields left out of a test packet are unknown: rules that need them do not
# match, whatever number a missing field would have had. (A real packet
# always has both ports, and a code with its ICMP type.)
step n0 fwctl add in drop proto tcp dport 0-1023
step n0 fwctl add in drop proto udp sport 0-1023
step n0 fwctl add in drop proto icmp icmp-type echo-request icmp-code 0
check "a real connection to port 22 hits dport 0-1023" tcp_dropped n1 "$host1_4" 22
check "a real ping hits icmp-code 0" ping_dropped n1 "$host1_4"
check_match "fwctl test with both ports hits dport 0-1023" " in drop [0-9]+ [0-9]+ proto tcp dport 0-1023$" \
	"$(n0 fwctl test in proto tcp src 192.0.2.2 sport 40000 dport 22 | head -n 1)"
no_match="policy in accept
accept"
check_eq "fwctl test without ports does not hit dport 0-1023" "$no_match" \
	"$(n0 fwctl test in proto tcp src 192.0.2.2)"
check_eq "fwctl test with only a source port does not hit dport 0-1023" "$no_match" \
	"$(n0 fwctl test in proto tcp src 192.0.2.2 sport 40000)"
check_eq "fwctl test with only a destination port does not hit sport 0-1023" "$no_match" \
	"$(n0 fwctl test in proto udp dport 53)"
check_match "with the source port too it does" " in drop [0-9]+ [0-9]+ proto udp sport 0-1023$" \
	"$(n0 fwctl test in proto udp sport 53 dport 53 | head -n 1)"
check_eq "fwctl test of an echo request without a code does not hit icmp-code 0" "$no_match" \
	"$(n0 fwctl test in proto icmp icmp-type echo-request)"
check_match "with code 0 it does, as the real ping did" "icmp-type echo-request icmp-code 0$" \
	"$(n0 fwctl test in proto icmp icmp-type echo-request icmp-code 0 | head -n 1)"
step n0 fwctl flush

# The rule past max_rules stops the parse: an endless input ends at once.
check_error "fwctl: line 13: more rules than the kfw module's limit of 10 (max_rules)" n0 fwctl restore /tmp/eleven
check_error "fwctl: line 11: more rules than the kfw module's limit of 10 (max_rules)" \
	n0 sh -c 'yes "add in drop proto tcp dport 1" | timeout 60 fwctl restore'
check "the host's table is empty after the hostile input" empty_table n0

# --- max_rules at its edges -------------------------------------------------------------------------

# "Unlimited" is a natural value to try; counters for a full table and its
# replacement must stay addressable. Refused at load, not at the first rule.
check "rmmod kfw before trying other limits" rmmod kfw
for limit in 0 16777217 2147483647 2147483648 4294967295 99999999999; do
	check_not "modprobe kfw max_rules=$limit is refused" modprobe kfw max_rules=$limit
done
check_match "and the kernel log says why" "kfw: max_rules must be between 1 and 16777216" \
	"$(dmesg | grep 'kfw: max_rules' | tail -n 1)"
check "modprobe kfw max_rules=16777216, the largest" modprobe kfw max_rules=16777216
check_eq "/proc/net/kfw/stats shows the limit" 16777216 "$(proc_stat_of n0 rule_limit)"
step n0 fwctl add in drop proto tcp dport 7
check "a rule is added under it, and drops" tcp_dropped n1 "$host1_4" 7
step n0 fwctl flush

# --- /proc/net/kfw/rules read in small pieces while the table changes ----------------------------------

# Each read() used to resume at an index into whatever table was current:
# rules inserted in front in between showed twice. One open file is one
# snapshot, however small the reads.
i=0
while [ $i -lt 300 ]; do
	echo "add in drop proto udp dport $((20000 + i))"
	i=$((i + 1))
done >/tmp/three-hundred
step n0 fwctl restore /tmp/three-hundred
n0 sh -c 'i=0; while [ $i -lt 40 ]; do fwctl insert 1 in drop proto udp dport $((30000 + i)); i=$((i + 1)); done' &
churn=$!
duplicates=0
while kill -0 $churn 2>/dev/null; do
	n0 dd if=/proc/net/kfw/rules bs=64 2>/dev/null >/tmp/rules-read
	found=$(awk 'NR > 1 { print $1 }' /tmp/rules-read | sort | uniq -d | wc -l)
	duplicates=$((duplicates + found))
done
wait $churn
check_eq "rules read 64 bytes at a time while 40 rules go in front: no rule twice" 0 "$duplicates"
n0 dd if=/proc/net/kfw/rules bs=64 2>/dev/null >/tmp/rules-read
check_eq "and the last read is one whole table" "$(n0 fwctl list | rules)" "$(rules </tmp/rules-read)"
step n0 fwctl flush

# --- The end -----------------------------------------------------------------------------------------

topology_down
check "rmmod kfw at the end" rmmod kfw
check_not "the kernel log has no warnings, bugs or leaks" sh -c "dmesg | grep -E '$kernel_complaints'"
finish
