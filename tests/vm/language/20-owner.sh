# shellcheck shell=dash disable=SC3043,SC2154 # busybox ash has local; lib.sh sets over()'s names
# SPDX-License-Identifier: GPL-2.0
#
# Socket owners (sourced by language.sh): `uid` and `gid` rules on out match
# what a user's sockets send, and nothing the kernel sends on its own.

serve n1 tcp 80 81

# as_who COMMAND...: COMMAND on the host as the user (USER[:GROUP]) in $who,
# without capabilities; a namespace function for tcp_passes and tcp_dropped.
as_who() { n0 kfwprobe as-uid "$who" "$@"; }

for f in 4 6; do
	over $f
	check "$v: out drop for the users 1000-1999" \
		n0 fwctl add out drop proto tcp uid 1000-1999 dport 80
	who=1000
	check "$v: user 1000 cannot connect" tcp_dropped as_who "$c1" 80
	who=1999
	check "$v: nor user 1999" tcp_dropped as_who "$c1" 80
	who=2000
	check "$v: user 2000 can" tcp_passes as_who "$c1" 80
	check "$v: root can" tcp_passes n0 "$c1" 80
	who=1000
	check "$v: user 1000 can reach another port" tcp_passes as_who "$c1" 81
	check_eq "$v: fwctl test: user 1500 hits the rule" "drop" \
		"$(n0 fwctl test out proto tcp dst "$c1" dport 80 uid 1500 | tail -n 1)"
	check_eq "$v: fwctl test: user 2000 does not" "accept" \
		"$(n0 fwctl test out proto tcp dst "$c1" dport 80 uid 2000 | tail -n 1)"
	check_eq "$v: fwctl test: without an owner, no owner rule matches" "policy out accept" \
		"$(n0 fwctl test out proto tcp dst "$c1" dport 80 | head -n 1)"
	reset n0

	check "$v: out drop for the group 3000" n0 fwctl add out drop proto tcp gid 3000
	who=1000:3000
	check "$v: a user in group 3000 cannot connect" tcp_dropped as_who "$c1" 80
	who=1000:3001
	check "$v: the same user in group 3001 can" tcp_passes as_who "$c1" 80
	reset n0

	# Every owner there is: only packets with a socket file match. The reset
	# that answers a connection to a closed port comes from the kernel.
	check "$v: out drop for every owner" n0 fwctl add out drop proto tcp uid 0-4294967294
	check "$v: root's own connection is dropped" tcp_dropped n0 "$c1" 80
	check_eq "$v: the kernel's reset to a closed port is not: refused" "refused" \
		"$(n1 kfwprobe tcp-connect "$h1" 9 timeout 3000 || true)"
	reset n0
done

check "uid by name" n0 fwctl add out drop proto tcp uid root
check_eq "is listed by number" "out drop proto tcp uid 0" "$(n0 fwctl list | rules)"
reset n0
check_error "fwctl: 'uid' matches only on out" n0 fwctl add in drop uid 1000
check_error "fwctl: unknown user 'no-such-user'" n0 fwctl add out drop uid no-such-user
check_error "fwctl: unknown group 'no-such-group'" n0 fwctl add out drop gid no-such-group
check_error "fwctl: invalid user range '2000-1000'" n0 fwctl add out drop uid 2000-1000
check "the table is empty again" empty_table n0
