# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=dash disable=SC3043 # busybox ash has local
# shellcheck disable=SC2154 # over() of lib.sh sets v, h1, c1, h2 and c2
#
# 30-over.sh: `over RATE [burst N] [per-src]`, sourced by language.sh. A
# rule with over matches only the packets over its rate; a packet within it
# goes on to the next rule that matches. Every scenario runs over IPv4 and
# IPv6 with real TCP connections to the host's port 22 from both clients,
# and rates per minute, so that no allowance comes back while a scenario
# runs: the results do not depend on the speed of the VM.

# Another part may serve port 22 already.
tcp_passes n0 127.0.0.1 22 >/dev/null 2>&1 || serve n0 tcp 22

ufw="in drop proto tcp dport 22 state new over 6/m burst 6 per-src"
# As `fwctl list` and save print it: burst 6 is the default of 6/m.
ufw_text="in drop proto tcp dport 22 state new over 6/m per-src"

# connects NS ADDR N: N connections in a row to port 22 that pass.
connects() {
	local i=0
	while [ $i -lt "$3" ]; do
		tcp_passes "$1" "$2" 22 || return 1
		i=$((i + 1))
	done
}

# list_sources NS "DIR ACTION MATCH": the sources of that per-src rule in
# `fwctl list`, the number after "sources".
list_sources() {
	$1 fwctl list | squeeze | awk -v want="$2" '
		{ line = $2 " " $3; for (i = 6; i <= NF; i++) line = line " " $i }
		index(line, want " sources ") == 1 { print $NF; exit }'
}

for fam in 4 6; do
	over $fam

	# --- The ufw limit: a source's 7th new connection within a minute ---------
	# shellcheck disable=SC2086 # the words of a rule
	step n0 fwctl add $ufw
	check "ufw limit: client1's first 6 new connections pass ($v)" connects n1 "$h1" 6
	check "ufw limit: client1's 7th is dropped ($v)" tcp_dropped n1 "$h1" 22
	check "ufw limit: client1 stays over its rate ($v)" tcp_dropped n1 "$h1" 22
	check "ufw limit: client2, another source, still connects ($v)" tcp_passes n2 "$h2" 22
	step n0 fwctl list
	check_eq "ufw limit: fwctl list shows 2 tracked sources ($v)" 2 \
		"$(list_sources n0 "$ufw_text")"
	check_eq "ufw limit: /proc/net/kfw/rules shows them too ($v)" \
		"in drop proto tcp dport 22 state new over 6/m per-src sources 2" \
		"$(n0 cat /proc/net/kfw/rules | rules)"
	check_match "ufw limit: fwctl -j list shows them ($v)" \
		'"over":"6/m","burst":"6","per-src":true,"sources":2' "$(n0 fwctl -j list)"
	check_eq "ufw limit: save has the rule without sources ($v)" \
		"policy in accept
policy out accept
add $ufw_text" "$(n0 fwctl save)"
	# The 7th SYN and its retransmissions, and the try after it: all over.
	dropped=$(n0 fwctl list | squeeze | rule_line "$ufw_text sources 2" | cut -d ' ' -f 2)
	check "ufw limit: the rule counted only the SYNs over the rate ($v: $dropped)" \
		test "${dropped:-0}" -ge 2 -a "${dropped:-0}" -le 8
	reset n0

	# --- Without per-src: all sources share the rate ---------------------------
	step n0 fwctl add in drop proto tcp dport 22 state new over 3/m
	check "one rate for all: client1 connects twice ($v)" connects n1 "$h1" 2
	check "one rate for all: client2 once ($v)" tcp_passes n2 "$h2" 22
	check "one rate for all: then client2 is dropped ($v)" tcp_dropped n2 "$h2" 22
	check "one rate for all: and client1 too ($v)" tcp_dropped n1 "$h1" 22
	check_not "one rate for all: list shows no sources ($v)" \
		sh -c "ip netns exec host fwctl list | grep -q sources"
	reset n0

	# --- Within the rate, the packet goes on to the next rule -----------------
	step n0 fwctl add in drop proto tcp dport 22 state new over 2/m per-src
	step n0 fwctl add in accept proto tcp dport 22 state new
	# A what-if is within every rate, and spends nothing. (It names a
	# source port: without one, no rule that keys on ports would match.)
	for i in 1 2 3 4 5; do
		out=$(n0 fwctl test in proto tcp src "$c1" dst "$h1" sport 40000 dport 22 \
			state new | squeeze)
	done
	check_match "fwctl test reports the rule after the over rule ($v)" \
		"^[0-9]+ in accept [0-9]+ [0-9]+ proto tcp dport 22 state new\$" "$out"
	check_eq "fwctl test spent nothing: no source is tracked ($v)" 0 \
		"$(list_sources n0 "in drop proto tcp dport 22 state new over 2/m per-src")"
	check "within the rate: client1 connects twice ($v)" connects n1 "$h1" 2
	check_eq "within the rate: the accept rule after it counted both SYNs ($v)" 2 \
		"$(packets n0 "in accept proto tcp dport 22 state new")"
	check_eq "within the rate: the over rule counted none ($v)" 0 \
		"$(packets n0 "in drop proto tcp dport 22 state new over 2/m per-src sources 1")"
	check "over the rate: client1's 3rd is dropped ($v)" tcp_dropped n1 "$h1" 22
	check_eq "over the rate: the accept rule counted no more ($v)" 2 \
		"$(packets n0 "in accept proto tcp dport 22 state new")"
	check "over the rate: the over rule counted it ($v)" test \
		"$(packets n0 "in drop proto tcp dport 22 state new over 2/m per-src sources 1")" -ge 1
	check_match "fwctl test still reports the accept rule ($v)" \
		" in accept [0-9]+ [0-9]+ proto tcp dport 22 state new\$" \
		"$(n0 fwctl test in proto tcp src "$c1" dst "$h1" sport 40000 dport 22 \
			state new | squeeze)"
	reset n0
done

# --- The language's edges ---------------------------------------------------------

saved="policy in accept
policy out accept
add in drop proto tcp dport 22 state new over 6/m per-src
add in reject proto udp over 100/h burst 3
add out drop over 1000/s"
printf '%s\n' "$saved" >/tmp/over.rules
step n0 fwctl restore /tmp/over.rules
check_eq "restore takes over rules and save gives them back" "$saved" "$(n0 fwctl save)"
reset n0
for bad in "over 6/d" "over 0/m" "over 6/m burst 0" "burst 6" "per-src"; do
	# shellcheck disable=SC2086 # the words of a rule
	out=$(n0 fwctl add in drop $bad 2>&1) && status=0 || status=$?
	check_eq "fwctl add in drop $bad: one line naming it, exit 1" "1 1" \
		"$status $(printf '%s\n' "$out" | wc -l)"
done
check "a bad over left the table empty" empty_table n0
