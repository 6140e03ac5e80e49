# shellcheck shell=dash disable=SC3043,SC2154 # busybox ash has local; lib.sh sets over()'s names
# SPDX-License-Identifier: GPL-2.0
#
# Lists and negation (sourced by language.sh): a list matches a packet in
# any of its elements, a negated field one in none of them. Each family gets
# a second address on client1, one that a list leaves out.

serve n0 tcp 22 80 443 8080
serve n0 udp 8053

# entries: the classifier entries of the host's table.
entries() { proc_stat_of n0 classifier_entries; }

for f in 4 6; do
	over $f
	case $f in
	4) other=192.0.2.3 len=24 host=32 ;;
	6) other=2001:db8:1::3 len=64 host=128 ;;
	esac
	# A second address: connections say which one they come from, as IPv6
	# would pick the newer one by itself.
	address client1 eth0 "$other/$len"

	before=$(entries)
	check "$v: a rule of two protocols, two sources and three ports" \
		n0 fwctl add in drop proto tcp,udp src "$c1,$c2" dport 22,80,8000-8100
	rule="in drop proto tcp,udp src $c1/$host,$c2/$host dport 22,80,8000-8100"
	check_eq "$v: listed in canonical form" "$rule" "$(n0 fwctl list | rules)"
	check_eq "$v: indexed per element: one classifier entry per source" \
		$((before + 2)) "$(entries)"
	check "$v: the first listed port, from the first listed source, is dropped" \
		tcp_dropped n1 "$h1" 22 from "$c1"
	check "$v: the second listed port too" tcp_dropped n1 "$h1" 80 from "$c1"
	check "$v: a port inside the listed range too" tcp_dropped n1 "$h1" 8080 from "$c1"
	check "$v: a UDP datagram to a listed port too" udp_dropped n1 "$h1" 8053 from "$c1"
	check "$v: the second listed source is dropped" tcp_dropped n2 "$h2" 80
	check "$v: a port in no element passes" tcp_passes n1 "$h1" 443 from "$c1"
	check "$v: a source in no element passes" tcp_passes n1 "$h1" 22 from "$other"
	check_eq "$v: the rule counted the five drops, and the retries of TCP" \
		"yes" "$(n0 fwctl list | rule_line "$rule" | awk '{ print ($2 >= 5) ? "yes" : "no" }')"
	check "$v: save | restore | save keeps the lists" \
		sh -c '/sbin/ip netns exec host fwctl save >/tmp/lists.rules &&
		       /sbin/ip netns exec host fwctl restore /tmp/lists.rules &&
		       /sbin/ip netns exec host fwctl save | cmp -s - /tmp/lists.rules'
	check_match "$v: fwctl test finds the rule by any element" "in drop .*dport 22,80,8000-8100" \
		"$(n0 fwctl test in proto udp src "$c2" dport 8100)"
	check_eq "$v: and not outside them" "policy in accept" \
		"$(n0 fwctl test in proto udp src "$c2" dport 8101 | head -n 1)"
	reset n0
	check_eq "$v: the flush took every element out of the classifier" "$before" "$(entries)"

	check "$v: a negated source and a negated list of ports" \
		n0 fwctl add in drop proto tcp src != "$c1" dport != 22,443
	check "$v: from the negated source, passes" tcp_passes n1 "$h1" 80 from "$c1"
	check "$v: from another source, to a port outside the list, is dropped" \
		tcp_dropped n1 "$h1" 80 from "$other"
	check "$v: from another source, to a listed port, passes" \
		tcp_passes n1 "$h1" 22 from "$other"
	check "$v: the other listed port too" tcp_passes n1 "$h1" 443 from "$other"
	reset n0

	# A packet in two elements of one list rule is within its rate once:
	# the lookup after it skips every element of the rule.
	check "$v: a list rule over a rate, whose two sources both hold client1" \
		n0 fwctl add in drop proto tcp src "$c1,$c1/$len" dport 22,80 state new over 2/m
	check "$v: the first new connection is within the rate" tcp_passes n1 "$h1" 22 from "$c1"
	check "$v: the second too" tcp_passes n1 "$h1" 80 from "$c1"
	check "$v: the third is over it" tcp_dropped n1 "$h1" 22 from "$c1"
	reset n0

	check "$v: a negated list of addresses" n0 fwctl add in drop proto tcp dst != "$h2,$h1" dport 80
	check "$v: to a listed address, passes" tcp_passes n1 "$h1" 80 from "$c1"
	reset n0

	check "$v: a negated interface" n0 fwctl add in drop proto tcp iface != h2 dport 80
	check "$v: through another interface, is dropped" tcp_dropped n1 "$h1" 80 from "$c1"
	check "$v: through the negated one, passes" tcp_passes n2 "$h2" 80
	reset n0

	ip -n client1 addr del "$other/$len" dev eth0
done

# A negated address still names its family: the other one never matches.
check "a negated IPv4 source" n0 fwctl add in drop proto tcp src != 203.0.113.1 dport 80
check "IPv4 from elsewhere is dropped" tcp_dropped n1 "$host1_4" 80
check "IPv6 is not IPv4: passes" tcp_passes n1 "$host1_6" 80
reset n0

# Bad lists: one line naming the bad token, and nothing added.
check_error "fwctl: invalid port '70000'" n0 fwctl add in drop proto tcp dport 22,70000
check_error "fwctl: empty element in '22,,80'" n0 fwctl add in drop proto tcp dport 22,,80
check_error "fwctl: addresses of different families in '$host1_4,$host1_6'" \
	n0 fwctl add in drop src "$host1_4,$host1_6"
check_error "fwctl: 'dport' needs proto tcp or udp" n0 fwctl add in drop proto tcp,icmp dport 22
check_error "fwctl: '!=' cannot negate 'proto'" n0 fwctl add in drop proto != tcp
sixty_five=$(awk 'BEGIN { for (i = 1; i <= 65; i++) printf "%s%d", (i > 1 ? "," : ""), i }')
check_error "fwctl: more than 64 elements in '1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,1...'" \
	n0 fwctl add in drop proto tcp dport "$sixty_five"
sixty_four=$(awk 'BEGIN { for (i = 1; i <= 64; i++) printf "%s%d", (i > 1 ? "," : ""), i }')
check "64 elements are fine" n0 fwctl add in drop proto tcp dport "$sixty_four"
check_eq "and come back whole" "in drop proto tcp dport $sixty_four" "$(n0 fwctl list | rules)"
reset n0
check "the table is empty again" empty_table n0
