#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# shellcheck disable=SC3043 # busybox ash has local
#
# userns.sh: what an unprivileged user can make kfw do from a user and network
# namespace of its own (unshare -rn), as any user may on Debian. Runs inside
# the VM, from tests/vm/run-vm.sh.
#
# - The user manages the table of its own namespace, and not the host's.
# - Everything kfw keeps for its rules is charged to the user's memory
#   cgroup: a table of payload rules shows in the cgroup's memory.current,
#   a cgroup limit stops a restore that would pass it (and leaves the table
#   as it was), and a flush gives the memory back; so are the tables of
#   sources of per-src over rules.
# - The user's log rules write nothing to the kernel log, which is the
#   host's: netfilter's logging core keeps other namespaces out of it
#   unless net.netfilter.nf_log_all_netns says otherwise.

. "$(dirname "$0")/lib.sh"

echo "== kfw in an unprivileged user's namespaces on $(uname -r)"

cgroups=/sys/fs/cgroup
grep -q " $cgroups cgroup2 " /proc/mounts || mount -t cgroup2 none $cgroups
echo +memory >$cgroups/cgroup.subtree_control
# holder: the process that keeps the user's namespaces; user: where the
# user's fwctl runs, and where what its requests allocate is charged.
mkdir -p $cgroups/holder $cgroups/user
if [ -w /proc/sys/kernel/unprivileged_userns_clone ]; then
	echo 1 >/proc/sys/kernel/unprivileged_userns_clone
fi
modprobe kfw

# uid 1000 makes its namespaces and sleeps in them; unshare and kfwprobe exec,
# so $! becomes the sleep.
sh -c "echo \$\$ >$cgroups/holder/cgroup.procs
	exec kfwprobe as-uid 1000 unshare -rn sleep 1000000" &
holder=$!
i=0
while [ "$(readlink /proc/$holder/ns/net)" = "$(readlink /proc/self/ns/net)" ] ||
	[ "$(readlink /proc/$holder/exe)" = "$(readlink /proc/self/exe)" ] && [ $i -lt 500 ]; do
	usleep 20000
	i=$((i + 1))
done
check_eq "uid 1000 has a network namespace of its own" 1000 "$(awk '/^Uid:/ { print $2 }' /proc/$holder/status)"

# as_user COMMAND...: COMMAND as uid 1000, in its namespaces (where it is
# root) and in the user cgroup. as_root: COMMAND as the VM's root, in the
# user's network namespace only: charged to nobody's limit.
as_user() {
	sh -c 'echo $$ >'$cgroups'/user/cgroup.procs; exec "$@"' - \
		kfwprobe as-uid 1000 nsenter -t $holder -U -n --preserve-credentials "$@"
}
as_root() { nsenter -t $holder -n "$@"; }
empty='policy in accept
policy out accept'

check "the user adds a rule to its namespace's table" as_user fwctl add in drop proto udp dport 9
check_eq "which holds it" "$empty
add in drop proto udp dport 9" "$(as_root fwctl save)"
check_eq "the host's table is untouched" "$empty" "$(fwctl save)"
check_not "the user cannot change the host's table" kfwprobe as-uid 1000 fwctl add in drop
check "the user flushes its table" as_user fwctl flush

# --- Memory ---------------------------------------------------------------------------

# Each rule searches a pattern of 128 bytes (the longest there is): KMP keeps
# the pattern and a table of 4 bytes for each of its bytes, so 10000 such
# rules hold at least 6.4 MB in kfw's textsearch configurations alone.
rules=10000
floor=$((rules * 128 * 5))
# payload_rules NAME: a file of $rules payload rules, none like another, and
# none like those of another NAME.
payload_rules() {
	awk -v n=$rules -v name="$1" 'BEGIN {
		print "policy in accept"
		print "policy out accept"
		for (i = 0; i < n; i++) {
			text = sprintf("kfw-userns-%s-%05d-", name, i)
			while (length(text) < 128)
				text = text "x"
			printf "add in drop proto udp dport %d payload \"%s\"\n", 1 + i % 60000, text
		}
	}' >"/tmp/userns-$1.rules"
	chmod 0644 "/tmp/userns-$1.rules"
}
payload_rules a
payload_rules b
current() { cat $cgroups/user/memory.current; }
# kernel_memory: the bytes of slab, per-CPU and vmalloc memory the kernel
# holds, charged to any cgroup or none.
kernel_memory() {
	awk '/^(Slab|Percpu|VmallocUsed):/ { kb += $2 } END { print kb * 1024 }' /proc/meminfo
}

before=$(current)
kernel_before=$(kernel_memory)
check "the user restores $rules payload rules" as_user fwctl restore /tmp/userns-a.rules
check_eq "which are in its table" $((rules + 2)) "$(as_root fwctl save | wc -l)"
grew=$(($(current) - before))
kernel_grew=$(($(kernel_memory) - kernel_before))
echo "   (the user's cgroup grew by $grew bytes, $((grew / rules)) a rule; the kernel's slab, per-CPU and vmalloc memory by $kernel_grew)"
if [ $grew -ge $floor ]; then
	pass "its memory cgroup pays for them (at least $floor bytes)"
else
	fail "its memory cgroup pays for them (at least $floor bytes)" "it grew by $grew bytes"
fi
# Whatever kfw allocated without __GFP_ACCOUNT grew the kernel's memory but
# not the cgroup's. Not on the debug kernel, where kmemleak's record of each
# allocation and KASAN's quarantine of freed objects grow the slab too.
grep -q ' /sys/kernel/debug ' /proc/mounts || mount -t debugfs debugfs /sys/kernel/debug 2>/dev/null || true
if [ -e /sys/kernel/debug/kmemleak ]; then
	echo "skip - the share of the kernel's memory growth: the debug kernel's leak and use-after-free checkers keep memory of their own"
elif [ $((grew * 100)) -ge $((kernel_grew * 95)) ]; then
	pass "and for at least 95% of what the kernel's memory grew by"
else
	fail "and for at least 95% of what the kernel's memory grew by" \
		"the cgroup grew by $grew bytes, the kernel's memory by $kernel_grew"
fi

# A limit a little above what the cgroup holds now: the second table cannot
# come in beside the first, as a restore's commit needs.
echo $(($(current) + 4 * 1024 * 1024)) >$cgroups/user/memory.max
limited_before=$(awk '$1 == "max" { print $2 }' $cgroups/user/memory.events)
table=$(as_root fwctl save)
# The cgroup's OOM killer may kill fwctl, and reports with a stack, which
# run-vm.sh would count against the run: the log is read and cleared here,
# where that report is expected, and only that one.
check_eq "the kernel log is clean before the restore" "" \
	"$(dmesg | grep -E "$kernel_complaints" || true)"
dmesg -c >/dev/null
status=0
as_user fwctl restore /tmp/userns-b.rules >/tmp/userns.out 2>&1 || status=$?
dmesg -c >/tmp/userns.log
check_eq "the kernel reported nothing but the cgroup's OOM kill" "" \
	"$(awk -v bad="$kernel_complaints" '
		/invoked oom-killer/ { ooms++ }
		/Call Trace/ { if (++traces > ooms) print; next }
		$0 ~ bad { print }' /tmp/userns.log)"
echo "   (the restore over the limit: exit status $status: $(head -c 200 /tmp/userns.out))"
if [ $status -ne 0 ]; then
	pass "a restore past the cgroup's limit fails"
else
	fail "a restore past the cgroup's limit fails" "it succeeded"
fi
check "for want of memory, in fwctl's words or by the cgroup's OOM killer" \
	sh -c "[ $status -eq 137 ] || grep -q 'Cannot allocate memory' /tmp/userns.out"
check_eq "and the cgroup's limit was hit" 1 \
	"$(awk -v was="$limited_before" '$1 == "max" { print ($2 > was) }' $cgroups/user/memory.events)"
check "the table is as it was" test "$(as_root fwctl save)" = "$table"
echo max >$cgroups/user/memory.max

# Rules are freed after an RCU grace period, from a callback: the cgroup gets
# its memory back soon, not at once.
check "the user flushes its table" as_user fwctl flush
i=0
while [ $(($(current) - before)) -gt $((floor / 4)) ] && [ $i -lt 100 ]; do
	usleep 100000
	i=$((i + 1))
done
left=$(($(current) - before))
echo "   (after the flush the cgroup holds $left bytes more than before the restore)"
if [ $left -le $((floor / 4)) ]; then
	pass "and the memory goes back to the cgroup"
else
	fail "and the memory goes back to the cgroup" "$left bytes more than before, after 10 s"
fi

# A per-src over rule's table of sources: 65536 cells of 16 bytes by
# default, 1 MiB a rule, charged to the cgroup too, and given back.
before=$(current)
for port in 1 2 3 4; do
	step as_user fwctl add in drop proto tcp dport $port over 6/m per-src
done
grew=$(($(current) - before))
echo "   (4 per-src over rules grew the user's cgroup by $grew bytes)"
# The flush above may still be giving back the last of the payload rules
# (they go after a grace period), which offsets a little of the growth:
# 3 MiB of the 4 is the proof, where an uncharged table would show none.
check "its memory cgroup pays for the sources of 4 per-src rules (4 MiB)" \
	test $grew -ge $((3 * 1024 * 1024))
step as_user fwctl flush
i=0
while [ $(($(current) - before)) -gt $((1024 * 1024)) ] && [ $i -lt 100 ]; do
	usleep 100000
	i=$((i + 1))
done
check "and a flush gives it back" test $(($(current) - before)) -le $((1024 * 1024))

# --- The kernel log ---------------------------------------------------------------------

check_eq "net.netfilter.nf_log_all_netns is 0" 0 "$(cat /proc/sys/net/netfilter/nf_log_all_netns)"
check "the user brings up its loopback" as_user ip link set lo up
# What comes back in is dropped, before it can make a port unreachable that
# would stop the sender.
check "and logs what it sends to port 9" as_user fwctl add out accept proto udp dport 9 log log-rate 1000/s
step as_user fwctl add in drop proto udp dport 9
# logged_since MARK: kfw's log lines after MARK was written to the log.
logged_since() {
	dmesg | sed -n "/kfw-test: $1\$/,\$p" | grep -c 'kfw: rule' || true
}
echo "kfw-test: userns 1" >/dev/kmsg
# udp-send waits for echoes that the drop rule stops: "received 0" is right.
check_eq "it sends 5 datagrams" "sent 5 received 0" \
	"$(as_user kfwprobe udp-send 127.0.0.1 9 5 timeout 100 2>&1)"
check_eq "which its rule counted" 5 "$(as_root fwctl list | awk '$1 != "policy" && $1 != "handle" { print $4; exit }')"
check_eq "and none of which reached the kernel log" 0 "$(logged_since 'userns 1')"
echo 1 >/proc/sys/net/netfilter/nf_log_all_netns
echo "kfw-test: userns 2" >/dev/kmsg
check_eq "it sends one more" "sent 1 received 0" "$(as_user kfwprobe udp-send 127.0.0.1 9 1 timeout 100 2>&1)"
check_eq "with nf_log_all_netns 1 the same rule logs (the check above can fail)" 1 "$(logged_since 'userns 2')"
echo 0 >/proc/sys/net/netfilter/nf_log_all_netns

kill $holder
wait $holder 2>/dev/null || true
check "rmmod kfw" rmmod kfw
finish
