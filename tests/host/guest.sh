#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# guest.sh: the test driver inside the booted image (tests/host/image.sh),
# started by kfw-host-test.service once the system is up, from the data disk
# that tests/host/host-test.sh makes for each run (mounted at /run/kfw-test,
# with the debs under debs/ and host.conf).
#
# A run spans several boots of the same disk. The phase to run next is kept in
# /var/lib/kfw-host-test/phase; each phase prints TAP-like "ok - ..." and
# "not ok - ..." lines on the serial console, then one line
# "KFW-HOST-NEXT=WHAT" and reboots or powers off. WHAT tells the host what to
# do, as qemu runs with -no-reboot and so stops at every reboot:
#   boot    start qemu again on the same disk and kernel
#   kernel  start it again on the kernel and initramfs the guest left under
#           next/ on the data disk (the kernel update installed them)
#   end     the run is over
#
# Each scenario is one function, scenario_NAME, listed in the phases below:
# a new one goes where its preconditions hold (kfw installed and running
# with RULES_B as /etc/kfw/rules, say, for one run between scenario_stop and
# the reboot).

disk=/run/kfw-test
state=/var/lib/kfw-host-test
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export DEBIAN_FRONTEND=noninteractive

# Written by host-test.sh: bad_console, the pattern of the kernel's
# complaints; new_kernel, the version the kernel update installs; smoke, 1
# to leave the kernel update out.
# shellcheck disable=SC1091
. "$disk/host.conf"
: "${bad_console:?}" "${new_kernel:?}" "${smoke:?}"

# --- Reporting ---------------------------------------------------------------

failed=0

say() { echo "# $*"; }

ok() { echo "ok - $*"; }

not_ok() {
	echo "not ok - $*"
	failed=$((failed + 1))
}

# check DESCRIPTION COMMAND...: one test line for the command's status, with
# its output as comments when it fails.
check() {
	local description=$1 output line
	shift
	if output=$("$@" 2>&1); then
		ok "$description"
	else
		not_ok "$description"
		[[ -z $output ]] || while IFS= read -r line; do echo "#   $line"; done <<<"$output"
	fi
}

# The kernel's complaints of this boot, in the form the host looks for on the
# console (as run-vm.sh's /init prints them), whatever the console log level.
report_kernel() {
	if dmesg | grep -qE "$bad_console"; then
		echo "kfw-vm: the kernel complained; its log follows"
		dmesg | sed 's/^/kfw-vm: kernel log: /'
	fi
}

# --- Rule sets ---------------------------------------------------------------

# The first, as the tests write /etc/kfw/rules before the first boot with kfw:
# pings from 192.0.2.2 and 2001:db8::2 are dropped, from .3 and ::3 not.
RULES_A='# kfw host test, rule set A
policy in accept
policy out accept
add in drop proto icmp src 192.0.2.2 comment "host-test A"
add in drop proto icmpv6 src 2001:db8::2 icmp-type echo-request
add out drop proto tcp dport 80
'

# The second, for reload: the other way round, with a drop policy.
RULES_B='# kfw host test, rule set B
policy in drop
policy out accept
add in drop proto icmp src 192.0.2.3 comment "host-test B"
add in drop proto icmpv6 src 2001:db8::3 icmp-type echo-request
add in accept src 192.0.2.0/24
add in accept src 2001:db8::/32
add in accept src fe80::/10
'

RULES_EMPTY='policy in accept
policy out accept
'

# What `fwctl save` prints for a rules file: the file restored into a
# namespace of its own, so that the comparison does not depend on how the
# file is written (comments, order of keywords, host bits).
canonical() {
	ip netns add kfw-canon
	ip netns exec kfw-canon fwctl restore <<<"$1" &&
		ip netns exec kfw-canon fwctl save
	local status=$?
	ip netns del kfw-canon
	return $status
}

# rules_are RULES: the host's rules are RULES.
rules_are() {
	local want have
	want=$(canonical "$1") || return 1
	have=$(fwctl save) || return 1
	[[ $have == "$want" ]] && return 0
	echo "fwctl save:"
	echo "$have"
	echo "expected:"
	echo "$want"
	return 1
}

write_rules() {
	printf '%s' "$1" >/etc/kfw/rules
}

# --- Traffic -------------------------------------------------------------------

# A namespace "peer" on a veth pair, with two addresses of each family: the
# rules tell the two apart by source address.
setup_peer() {
	ip netns del peer 2>/dev/null
	ip link del kfw0 2>/dev/null
	ip netns add peer &&
		ip link add kfw0 type veth peer name eth0 netns peer &&
		ip addr add 192.0.2.1/24 dev kfw0 &&
		ip addr add 2001:db8::1/64 dev kfw0 nodad &&
		ip link set kfw0 up &&
		ip -n peer addr add 192.0.2.2/24 dev eth0 &&
		ip -n peer addr add 192.0.2.3/24 dev eth0 &&
		ip -n peer addr add 2001:db8::2/64 dev eth0 nodad &&
		ip -n peer addr add 2001:db8::3/64 dev eth0 nodad &&
		ip -n peer link set eth0 up &&
		ip -n peer link set lo up
}

# ping_from SOURCE DEST: one echo from the peer's address SOURCE answered.
ping_from() {
	ip netns exec peer ping -q -c 1 -W 3 -I "$1" "$2" >/dev/null 2>&1
}

# pings DROPPED4 PASSED4 DROPPED6 PASSED6 WHAT: the host's rules drop the
# pings of the first address of each family and let the second through.
pings() {
	if ! ping_from "$2" 192.0.2.1; then
		not_ok "$5: a ping from $2 passes"
	elif ping_from "$1" 192.0.2.1; then
		not_ok "$5: a ping from $1 is dropped"
	else
		ok "$5: a ping from $1 is dropped, one from $2 passes"
	fi
	if ! ping_from "$4" 2001:db8::1; then
		not_ok "$5: a ping from $4 passes"
	elif ping_from "$3" 2001:db8::1; then
		not_ok "$5: a ping from $3 is dropped"
	else
		ok "$5: a ping from $3 is dropped, one from $4 passes"
	fi
}

# --- Scenarios -----------------------------------------------------------------

# How long dkms took to compile kfw for a kernel: from the date its make.log
# starts with to the log's last write.
say_dkms_time() {
	local log
	log=$(compgen -G "/var/lib/dkms/kfw/*/$1/*/log/make.log" | head -n 1)
	[[ -n $log ]] || return 0
	say "dkms compiled kfw for $1 in $(($(stat -c %Y "$log") - $(date -d "$(sed -n 2p "$log")" +%s))) s"
}

# The debs install offline (their dependencies are in the image), dkms builds
# kfw for the running kernel, and the rules file is a conffile of fwctl's.
scenario_install() {
	local debs=("$disk"/debs/*.deb) kernel
	kernel=$(uname -r)
	say "installing ${debs[*]##*/} (dkms builds kfw for $kernel)"
	local started=$SECONDS
	check "apt-get install of the debs" apt-get install -y -q "${debs[@]}"
	say "apt-get install took $((SECONDS - started)) s"
	say_dkms_time "$kernel"
	check "dkms status shows kfw installed for $kernel" \
		bash -c "dkms status kfw | grep -E '^kfw/.*, $kernel, [^:]*: installed'"
	check "/etc/kfw/rules is a conffile of fwctl" \
		bash -c "dpkg-query -W -f='\${Conffiles}\n' fwctl | grep -q '^ /etc/kfw/rules '"
	check "kfw.service is enabled" systemctl is-enabled -q kfw.service
	# Whichever package apt configured first, the filter runs once both are.
	check "the kfw module is loaded after the install" test -d /sys/module/kfw
	check "kfw.service is active after the install" systemctl is-active -q kfw.service
	check "the default /etc/kfw/rules is in place" rules_are "$(cat /etc/kfw/rules)"
}

# After a boot: kfw loaded, kfw.service active with /etc/kfw/rules in place,
# and all that before the network was configured.
scenario_boot() {
	local rules=$1
	check "the kfw module is loaded at boot" test -d /sys/module/kfw
	check "kfw.service is active" systemctl is-active -q kfw.service
	check "the rules of /etc/kfw/rules are in place" rules_are "$rules"
	check "kfw.service finished before network-pre.target" before kfw.service network-pre.target
	check "kfw.service finished before systemd-networkd started" before kfw.service systemd-networkd.service
}

# before A B: unit A became active before unit B began to start (both of
# this boot, on the monotonic clock).
before() {
	local a b
	a=$(systemctl show -P ActiveEnterTimestampMonotonic "$1")
	b=$(systemctl show -P InactiveExitTimestampMonotonic "$2")
	# A target has no start of its own: it is reached at once.
	[[ $2 != *.target ]] || b=$(systemctl show -P ActiveEnterTimestampMonotonic "$2")
	echo "$1 active at $a us, $2 started at $b us"
	[[ $a -gt 0 && $b -gt 0 && $a -le $b ]]
}

# A rule really filters: scenario_filter WHAT DROPPED4 PASSED4 DROPPED6 PASSED6.
scenario_filter() {
	check "a veth pair to a namespace" setup_peer || return
	pings "$2" "$3" "$4" "$5" "$1"
}

# An edited /etc/kfw/rules and a reload: the new set is in place and filters.
scenario_reload() {
	write_rules "$RULES_B"
	check "systemctl reload kfw with rule set B" systemctl reload kfw.service
	check "rule set B is in place" rules_are "$RULES_B"
	pings 192.0.2.3 192.0.2.2 2001:db8::3 2001:db8::2 "rule set B"
}

# A bad line fails the reload and leaves the rules that were there.
scenario_bad_reload() {
	write_rules "${RULES_A}add in drop src 300.1.2.3
"
	check "systemctl reload kfw with a bad line fails" bash -c '! systemctl reload kfw.service'
	check "the failed reload left rule set B" rules_are "$RULES_B"
	check "kfw.service is still active" systemctl is-active -q kfw.service
	write_rules "$RULES_B"
}

# Stopping the service leaves no rules and accepting policies.
scenario_stop() {
	check "systemctl stop kfw" systemctl stop kfw.service
	check "no rules and accept policies after stop" rules_are "$RULES_EMPTY"
	check "the module stays loaded" test -d /sys/module/kfw
	check "systemctl start kfw" systemctl start kfw.service
	check "rule set B is in place again" rules_are "$RULES_B"
}

# restore --check has the kernel try the file and changes nothing.
scenario_check() {
	printf '%s' "$RULES_A" >/tmp/kfw-candidate
	printf '%s' "${RULES_A}add in drop src 300.1.2.3
" >/tmp/kfw-bad
	check "fwctl restore --check of rule set A" fwctl restore --check /tmp/kfw-candidate
	check "fwctl restore --check of a bad file fails" bash -c '! fwctl restore --check /tmp/kfw-bad'
	check "the checks left rule set B" rules_are "$RULES_B"
}

# until_rules RULES SECONDS: wait for the host's rules to become RULES.
until_rules() {
	local deadline=$((SECONDS + $2))
	until rules_are "$1" >/dev/null; do
		((SECONDS < deadline)) || { rules_are "$1"; return 1; }
		sleep 0.5
	done
}

# restore --confirm from a session that dies at once, as an SSH session cut
# off by its own rules would: the kernel puts rule set B back by itself.
# Then a trial that is confirmed stays.
scenario_confirm() {
	local session
	setsid bash -c 'fwctl restore --confirm 8 /tmp/kfw-candidate; exec sleep 600' </dev/null &>/dev/null &
	session=$!
	check "rule set A is on trial" until_rules "$RULES_A" 5
	kill -KILL -- "-$session" 2>/dev/null
	wait "$session" 2>/dev/null
	check "fwctl list says how long is left" bash -c 'fwctl list | grep -E "^confirm within [0-9]+ s"'
	check "unconfirmed, with its session gone, rule set B comes back by itself" \
		until_rules "$RULES_B" 30
	check "fwctl confirm has nothing left to confirm" bash -c '! fwctl confirm'

	check "fwctl restore --confirm 60 of rule set A" fwctl restore --confirm 60 /tmp/kfw-candidate
	pings 192.0.2.2 192.0.2.3 2001:db8::2 2001:db8::3 "rule set A on trial"
	check "systemctl reload kfw is refused during the trial" bash -c '! systemctl reload kfw.service'
	check "fwctl confirm" fwctl confirm
	check "confirmed, rule set A stays" rules_are "$RULES_A"
	check "systemctl reload kfw brings rule set B back" systemctl reload kfw.service
	check "rule set B is in place" rules_are "$RULES_B"
}

# rule_counts COMMENT: "PACKETS BYTES" of the rule with that comment.
rule_counts() {
	fwctl list | awk -v c="comment \"$1\"" 'index($0, c) { print $4, $5 }'
}

# A reload of the same file keeps every rule's counters; --zero does not.
scenario_counters() {
	local before
	pings 192.0.2.3 192.0.2.2 2001:db8::3 2001:db8::2 "rule set B"
	before=$(rule_counts "host-test B")
	check "the dropped ping was counted" bash -c "[[ '$before' =~ ^[1-9][0-9]*\ [1-9][0-9]*$ ]]"
	check "systemctl reload kfw with the same file" systemctl reload kfw.service
	check "the reload kept the counters" test "$(rule_counts "host-test B")" = "$before"
	check "fwctl stats --prometheus has them" bash -c \
		"fwctl stats --prometheus | grep -qE '^kfw_rule_packets_total\\{.*comment=\"host-test B\"\\} ${before%% *}$'"
	check "fwctl restore --zero of the same file" fwctl restore --zero /etc/kfw/rules
	check "zeroes them" test "$(rule_counts "host-test B")" = "0 0"
}

# The kernel update: apt installs the newer ABI from the image's own
# repository, and dkms builds kfw for it from its postinst hook.
scenario_kernel_update() {
	local ko started=$SECONDS
	say "installing linux-image-cloud-amd64 ($new_kernel) and its headers"
	check "apt-get update from the image's repository" apt-get update -q
	check "apt-get install of the new kernel and headers" \
		apt-get install -y -q linux-image-cloud-amd64 linux-headers-cloud-amd64
	say "the kernel update took $((SECONDS - started)) s"
	say_dkms_time "$new_kernel"
	check "dkms status shows kfw installed for $new_kernel" \
		bash -c "dkms status kfw | grep -E '^kfw/.*, $new_kernel, [^:]*: installed'"
	ko=$(find "/lib/modules/$new_kernel/updates/dkms" -name 'kfw.ko*' 2>/dev/null | head -n 1)
	check "/lib/modules/$new_kernel/updates/dkms/kfw.ko exists" test -n "$ko"
	check "its vermagic is $new_kernel" \
		bash -c "modinfo -F vermagic '$ko' | grep -q '^$new_kernel '"
	check "the new kernel has an initramfs" test -f "/boot/initrd.img-$new_kernel"
}

# Everything the packages brought goes with a purge.
scenario_purge() {
	check "apt-get purge fwctl kfw-dkms" apt-get purge -y -q fwctl kfw-dkms
	check "no /usr/src/kfw-*" bash -c '! compgen -G "/usr/src/kfw-*"'
	check "no /var/lib/dkms/kfw" test ! -e /var/lib/dkms/kfw
	check "no /etc/kfw" test ! -e /etc/kfw
	check "no modules-load.d/kfw.conf" bash -c "! ls /etc/modules-load.d/kfw.conf /usr/lib/modules-load.d/kfw.conf"
	check "no kfw.ko under /lib/modules" \
		bash -c '! find /lib/modules -name "kfw.ko*" | grep .'
	check "no kfw.service" bash -c '! systemctl cat kfw.service'
	check "the module is unloaded or unloads" \
		bash -c '[[ ! -d /sys/module/kfw ]] || rmmod kfw'
}

# --- Phases ------------------------------------------------------------------

# First boot, without kfw: install the debs, and the rules the next boot
# must bring up.
phase_install() {
	scenario_install
	write_rules "$RULES_A"
	next boot boot
}

# Booted with kfw and rule set A.
phase_boot() {
	scenario_boot "$RULES_A"
	scenario_filter "rule set A" 192.0.2.2 192.0.2.3 2001:db8::2 2001:db8::3
	scenario_reload
	scenario_bad_reload
	scenario_stop
	scenario_check
	scenario_confirm
	scenario_counters
	next boot reboot
}

# Rebooted with rule set B saved in /etc/kfw/rules.
phase_reboot() {
	say "rebooted"
	scenario_boot "$RULES_B"
	if [[ $smoke -eq 1 ]]; then
		scenario_purge
		next end
		return
	fi
	scenario_kernel_update
	mkdir -p "$disk/next"
	cp "/boot/vmlinuz-$new_kernel" "$disk/next/vmlinuz" &&
		cp "/boot/initrd.img-$new_kernel" "$disk/next/initrd" &&
		next kernel new_kernel
}

# Booted on the new kernel.
phase_new_kernel() {
	check "running the new kernel $new_kernel" test "$(uname -r)" = "$new_kernel"
	scenario_boot "$RULES_B"
	scenario_filter "rule set B on $new_kernel" 192.0.2.3 192.0.2.2 2001:db8::3 2001:db8::2
	scenario_purge
	next end
}

# next WHAT [PHASE]: tell the host WHAT to do next (see the top), and run
# PHASE at the next boot.
next_phase=
next() {
	next_phase=$1
	[[ -z ${2:-} ]] || echo "$2" >"$state/phase"
}

# --- Main ----------------------------------------------------------------------

mkdir -p "$state"
phase=$(cat "$state/phase" 2>/dev/null || echo install)
echo "kfw-host: phase $phase on $(uname -r), up $(cut -d ' ' -f 1 /proc/uptime) s"
systemd-analyze 2>/dev/null | sed -n 's/^Startup finished in /# boot: /p'
"phase_$phase"
report_kernel

# A phase that did not get as far as to say what follows ends the run.
[[ -n $next_phase ]] || next_phase=end
echo "kfw-host: phase $phase: $failed failed, up $(cut -d ' ' -f 1 /proc/uptime) s"
sync
echo "KFW-HOST-NEXT=$next_phase"
if [[ $next_phase == end ]]; then
	systemctl --no-block poweroff
else
	systemctl --no-block reboot
fi
