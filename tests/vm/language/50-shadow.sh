# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=sh disable=SC3043 # busybox ash has local
# shellcheck disable=SC2154 # v and h1 come from over(), in lib.sh
#
# Warnings for rules that can never match: restore, add and insert warn,
# `fwctl check` lists them, and a reported rule really counts no packet
# while the rule that covers it does. Sourced by language.sh.

# The sample rule set: comments and blank lines so that lines and positions
# differ; rules covered in IPv4, IPv6 and in both families at once; one
# covered by two rules together only, which is not reported.
shadow_sample='# kfw shadow sample
policy in accept
policy out accept

# IPv4: the /24 drops what the rule for its one client would accept.
add in drop proto udp src 192.0.2.0/24 dport 7000-7010
add in accept proto udp src 192.0.2.2 dport 7005
# IPv6 likewise; the later rule also names an interface.
add in drop proto udp src 2001:db8:1::/64 dport 7000-7010
add in accept proto udp src 2001:db8:1::2 dport 7005 iface h1
# No address: both families.
add in drop proto tcp dport 9000
add in accept proto tcp dst 2001:db8:2::1 dport 9000 state new
add in accept proto tcp dst 198.51.100.1 dport 9000 log comment "web"
# Covered by two rules together, by neither alone: not reported.
add in drop proto udp dport 8000-8004
add in drop proto udp dport 8005-8010
add in accept proto udp dport 8003-8006
# Another direction is another list.
add out drop proto udp dport 7005
# Lists: each port of the last rule is in the list before; UDP is not.
add in drop proto tcp dport 22,80,443
add in accept proto tcp,udp dport 443,80
add in accept proto tcp dport 443,80'

shadow_warnings='fwctl: warning: rule 2 (line 7) can never match: rule 1 (line 6) covers it
fwctl: warning: rule 4 (line 10) can never match: rule 3 (line 9) covers it
fwctl: warning: rule 6 (line 13) can never match: rule 5 (line 12) covers it
fwctl: warning: rule 7 (line 14) can never match: rule 5 (line 12) covers it
fwctl: warning: rule 14 (line 24) can never match: rule 12 (line 22) covers it'

# handle_at POS: the handle of the rule at that position of the host's table.
handle_at() {
	n0 fwctl list | awk -v pos="$1" 'NR == pos + 3 { print $1 }'
}

# counted POS: the packets the host's rule at that position counted.
counted() {
	n0 fwctl list | awk -v pos="$1" 'NR == pos + 3 { print $4 }'
}

echo "the sample rule set:"
printf '%s\n' "$shadow_sample" | sed 's/^/    /'

printf '%s\n' "$shadow_sample" >/tmp/shadow.rules
status=0
n0 fwctl restore /tmp/shadow.rules >/tmp/shadow.out 2>/tmp/shadow.err || status=$?
echo "fwctl restore warned:"
sed 's/^/    /' /tmp/shadow.err
check_eq "restore of the sample: exit status 0" 0 "$status"
check_eq "restore prints one warning per covered rule" "$shadow_warnings" "$(cat /tmp/shadow.err)"
check_eq "restore prints nothing else" "" "$(cat /tmp/shadow.out)"
check_eq "the rules are installed, covered ones too" 14 "$(n0 fwctl list | awk 'NR > 3' | wc -l)"

status=0
out=$(n0 fwctl restore --check /tmp/shadow.rules 2>&1) || status=$?
check_eq "restore --check warns the same" "$shadow_warnings
'/tmp/shadow.rules': the kernel would take 14 rules" "$out"
check_eq "restore --check: exit status 0" 0 "$status"

k1=$(handle_at 1) k2=$(handle_at 2) k3=$(handle_at 3) k4=$(handle_at 4)
k5=$(handle_at 5) k6=$(handle_at 6) k7=$(handle_at 7) k12=$(handle_at 12) k14=$(handle_at 14)
status=0
out=$(n0 fwctl check 2>&1) || status=$?
echo "fwctl check said:"
printf '%s\n' "$out" | sed 's/^/    /'
check_eq "fwctl check lists the covered rules" "rule 2 (handle $k2) can never match: rule 1 (handle $k1) covers it
rule 4 (handle $k4) can never match: rule 3 (handle $k3) covers it
rule 6 (handle $k6) can never match: rule 5 (handle $k5) covers it
rule 7 (handle $k7) can never match: rule 5 (handle $k5) covers it
rule 14 (handle $k14) can never match: rule 12 (handle $k12) covers it" "$out"
check_eq "fwctl check exits 1" 1 "$status"

# The reported rules would accept what their coverers drop: on the wire the
# coverer counts every packet and the covered rule none.
serve n0 udp 7005 7020 8000
for family in 4 6; do
	over $family
	case $family in
	4) coverer=1 covered=2 ;;
	6) coverer=3 covered=4 ;;
	esac
	check "$v: port 7005 is dropped, by the rule that covers" udp_dropped n1 "$h1" 7005
	check "$v: port 7020 passes" udp_passes n1 "$h1" 7020
	check "$v: the covering rule $coverer counted the drop" test "$(counted "$coverer")" -gt 0
	check_eq "$v: the covered rule $covered counted nothing" 0 "$(counted "$covered")"
	check "$v: TCP to port 443 is dropped by the list rule 12" tcp_dropped n1 "$h1" 443
	check "$v: which counted it" test "$(counted 12)" -gt 0
	check_eq "$v: and the list rule 14 it covers counted nothing" 0 "$(counted 14)"
done

# Without the coverers nothing is covered, and the rules they hid decide.
n0 fwctl del "$k1"
n0 fwctl del "$k3"
n0 fwctl del "$k5"
n0 fwctl del "$k12"
n0 fwctl del "$k14"
status=0
out=$(n0 fwctl check 2>&1) || status=$?
check_eq "without the coverers fwctl check is silent" "" "$out"
check_eq "and exits 0" 0 "$status"
for family in 4 6; do
	over $family
	check "$v: port 7005 passes now" udp_passes n1 "$h1" 7005
	check "$v: port 8000 is still dropped" udp_dropped n1 "$h1" 8000
done
check "the rule once covered counts packets now (IPv4)" \
	test "$(n0 fwctl list | rule_line "in accept proto udp src 192.0.2.2/32 dport 7005" | cut -d ' ' -f 2)" -gt 0
reset n0

# add warns when the new rule is covered; insert also when it covers a
# later rule that nothing before it covered. Exit status 0, rule in.
n0 fwctl add in drop proto tcp src 192.0.2.0/24
status=0
out=$(n0 fwctl add in accept proto tcp src 192.0.2.2 dport 22 2>&1) || status=$?
check_eq "add of a covered rule warns" \
	"fwctl: warning: rule 2 (handle $(handle_at 2)) can never match: rule 1 (handle $(handle_at 1)) covers it" "$out"
check_eq "add of a covered rule: exit status 0" 0 "$status"
check_eq "and the rule is in" "in accept proto tcp src 192.0.2.2/32 dport 22" \
	"$(n0 fwctl save | sed -n 4p | sed 's/^add //')"
out=$(n0 fwctl add in accept proto tcp src 2001:db8:1::2 dport 22 2>&1)
check_eq "add of a rule nothing covers says nothing" "" "$out"
status=0
out=$(n0 fwctl insert 1 in drop proto tcp src 2001:db8:1::/64 2>&1) || status=$?
check_eq "insert of a rule that covers a later one warns about that one" \
	"fwctl: warning: rule 4 (handle $(handle_at 4)) can never match: rule 1 (handle $(handle_at 1)) covers it" "$out"
check_eq "insert: exit status 0" 0 "$status"
out=$(n0 fwctl insert 2 in drop proto tcp src 192.0.2.2 2>&1)
check_eq "insert before a rule's coverer: the new rule covers it first" \
	"fwctl: warning: rule 4 (handle $(handle_at 4)) can never match: rule 2 (handle $(handle_at 2)) covers it" "$out"
out=$(n0 fwctl insert 3 in drop proto tcp src 2001:db8:1::5 2>&1)
check_eq "insert of a covered rule warns about it" \
	"fwctl: warning: rule 3 (handle $(handle_at 3)) can never match: rule 1 (handle $(handle_at 1)) covers it" "$out"
check_eq "the table has all six rules" 6 "$(n0 fwctl list | awk 'NR > 3' | wc -l)"
reset n0
rm -f /tmp/shadow.rules /tmp/shadow.out /tmp/shadow.err
