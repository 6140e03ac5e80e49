#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# shellcheck disable=SC3043 # busybox ash has local
#
# faults.sh: kfw's changes under injected allocation failures, for the debug
# kernel (failslab, fail_page_alloc), while traffic flows. Runs inside the VM:
#
#   tests/kernel/debug-vm.sh tests/vm/faults.sh [SEED]
#
# Which change is tried and which allocation fails are drawn at random; the
# seed, printed first, makes a run again.
#
# Every change (add, insert, del, flush, policy, restore of 20 and of 5000
# rules) either succeeds and leaves exactly the intended table, or fails with
# one line on stderr and leaves `fwctl save` byte for byte as it was. Namespace
# creation and module loading, which run kfw's per-namespace setup, either
# work or leave nothing behind. KASAN, lockdep and kmemleak watch the error
# paths; the script counts how many attempts an injected failure actually
# stopped, and fails if none did: then it proved nothing.
#
# Only the command under test fails allocations, and only once it has
# started and waits, so that its exec and start-up are spared: then its
# /proc/PID/make-it-fail or fail-nth is set. fwctl waits in a write to
# stderr: with FWCTL_TIMING it writes a line after its first request (the
# genetlink family lookup) and before the change, and stderr is a pipe left
# full until it is marked. ip and kfwprobe load-module wait for their input.
#
# The host whose table changes is the VM's own namespace, so that fwctl and
# /proc/net/kfw need no nsenter there: on the debug kernel under TCG every
# program started costs a good fraction of a second.
#
# On a kernel without fault injection (the stock one) the suite says so and
# skips; on the debug kernel its absence is a failure.

. "$(dirname "$0")/lib.sh"

debugfs=/sys/kernel/debug
[ -d $debugfs/failslab ] || mount -t debugfs debugfs $debugfs 2>/dev/null || true
if [ ! -d $debugfs/failslab ] || [ ! -d $debugfs/fail_page_alloc ]; then
	case $(uname -r) in
	*-kfwdebug)
		fail "the debug kernel has fault injection" \
			"no $debugfs/failslab or $debugfs/fail_page_alloc"
		;;
	*)
		echo "skip - $(uname -r) has no fault injection" \
			"(CONFIG_FAILSLAB, CONFIG_FAIL_PAGE_ALLOC, CONFIG_FAULT_INJECTION_DEBUG_FS)"
		;;
	esac
	finish
	exit
fi

seed=${1:-$(($(date +%s) % 100000))}
# How many attempts of each kind: about four minutes on the debug kernel.
changes=40 large=3 namespaces=10 loads=6
echo "== kfw under allocation failures on $(uname -r), $(nproc) cpus, seed $seed"

# rand N: a number from 0 to N - 1 (N up to 2^30), in $r; the same seed
# gives the same run.
rand() {
	local high
	seed=$(((seed * 1103515245 + 12345) % 2147483648))
	high=$((seed / 65536))
	seed=$(((seed * 1103515245 + 12345) % 2147483648))
	r=$(((high * 32768 + seed / 65536) % $1))
}

# pick WORD...: one of the words, in $r.
pick() {
	rand $#
	shift $r
	r=$1
}


# uptime_s: seconds since boot; took START: seconds since START.
uptime_s() { cut -d ' ' -f 1 /proc/uptime; }
took() { awk -v a="$1" -v b="$(uptime_s)" 'BEGIN { printf "%.0f", b - a }'; }

# --- Fault injection ---------------------------------------------------------------
#
# Three ways, all for marked tasks only, and all for allocations that may
# sleep too (fwctl's are GFP_KERNEL):
#
#   nth N       the task's Nth allocation from the moment it is marked fails
#               (/proc/PID/task/TID/fail-nth), and only that one: each site
#               on the way, kfw's included, fails alone in some attempt;
#   interval K  every Kth allocation of marked tasks fails, through
#               /proc/PID/make-it-fail; the count runs on across attempts,
#               so where the first failure lands varies, and more follow;
#   budget B    the first three slab allocations after B bytes of them
#               fail (failslab's space and times; three, so that a fallback
#               fails with the allocation it stands in for): for ip and
#               module loads, whose allocations are counted in bytes by a run
#               that fails nothing (see budget_of).
#
# Page allocations marked highmem stay spared: those are user pages and the
# pages behind vmalloc(), whose failures only stall page faults. verbose=1
# logs one line per injected failure, without a stack (but none for an
# allocation made with __GFP_NOWARN); budget sets verbose=2, which adds the
# stack, so that a failure inside kfw's setup can be told from one in the
# kernel's own part of creating a namespace or loading a module. Neither is
# rate-limited: a report dropped would hide where a failure struck. Frames
# marked "?" are stale words on the stack, not callers, and do not count.

for attr in failslab fail_page_alloc; do
	echo Y >$debugfs/$attr/task-filter
	echo N >$debugfs/$attr/ignore-gfp-wait
	echo 1 >$debugfs/$attr/verbose
	echo 0 >$debugfs/$attr/verbose_ratelimit_interval_ms
	echo 0 >$debugfs/$attr/probability
done
echo 0 >$debugfs/fail_page_alloc/min-order

# arm nth N | interval K | budget B: how the next marked task fails, in
# $inject too.
arm() {
	local attr verbose=1
	inject="$1 $2"
	[ "$1" != budget ] || verbose=2
	for attr in failslab fail_page_alloc; do
		case $1 in
		nth) echo 0 >$debugfs/$attr/probability ;;
		interval)
			echo 100 >$debugfs/$attr/probability
			echo "$2" >$debugfs/$attr/interval
			echo -1 >$debugfs/$attr/times
			echo 0 >$debugfs/$attr/space
			;;
		budget)
			echo 0 >$debugfs/$attr/probability
			;;
		esac
		echo "$verbose" >$debugfs/$attr/verbose
	done
	if [ "$1" = budget ]; then
		echo 100 >$debugfs/failslab/probability
		echo 1 >$debugfs/failslab/interval
		echo 3 >$debugfs/failslab/times
		echo "$2" >$debugfs/failslab/space
	fi
}

# mark PID WCHAN: once PID waits in the kernel at WCHAN, arm it as $inject
# says. (read, a builtin, polls without starting a program.)
mark() {
	local pid=$1 wchan=$2 now i=0
	while :; do
		now=
		read -r now 2>/dev/null <"/proc/$pid/wchan" || true
		[ "$now" != "$wchan" ] || break
		i=$((i + 1))
		if [ $i -ge 1000 ]; then
			echo "$pid never waited in $wchan" >&2
			return 1
		fi
		usleep 10000
	done
	case $inject in
	nth*) echo "${inject#nth }" >"/proc/$pid/task/$pid/fail-nth" ;;
	*) echo 1 >"/proc/$pid/make-it-fail" ;;
	esac
}

# budget_of FUNCTION ARG: the bytes of slab FUNCTION's marked task
# allocates, in $budget, from a run with a budget it never exhausts.
budget_of() {
	local most=2147483647
	arm budget $most
	"$1" "$2"
	budget=$((most - $(cat $debugfs/failslab/space)))
}

# count_lines TEXT: the number of lines of TEXT, in $n.
count_lines() {
	local IFS='
'
	set -f
	# shellcheck disable=SC2086 # split into lines on purpose
	set -- $1
	set +f
	n=$#
}

# Reading the kernel log also clears it, so that each attempt's lines are its
# own. The kernel may report an injected failure with a stack dump (a page
# allocation or vmalloc failure, a sysctl table it could not register):
# that is expected after a failure was injected, and only then. Anything
# else that run-vm.sh would count against the run (a BUG, a WARNING, a stall)
# fails the attempt here, and is printed, so that run-vm.sh sees it too.
injected_total=0
# drain_log WHAT: sets $injected to the failures injected since the last call,
# $in_kfw to 1 if a stack printed with one passes through kfw's code, and
# $in_conntrack to 1 if through nf_ct_netns_get().
drain_log() {
	local verdict what=$1
	dmesg -c >/tmp/faults.log
	# Stalls and lockups by their whole words: a stack's frames may well
	# hold "stall" (generic_xdp_install).
	verdict=$(awk -v bad="$kernel_complaints|INFO: task|detected stalls|soft lockup|hard LOCKUP" '
		/FAULT_INJECTION: forcing a failure/ { injected++ }
		/Call Trace/ { traces++; next }
		/ \? / { next }
		/ kfw_[a-z0-9_]+\+0x/ { in_kfw = 1 }
		/ nf_ct_netns_get\+0x/ { in_conntrack = 1 }
		$0 ~ bad { others++ }
		END {
			print injected + 0, in_kfw + 0, in_conntrack + 0,
				(others > 0 || (traces > 0 && injected == 0)) ? "bad" : "fine"
		}' /tmp/faults.log)
	# shellcheck disable=SC2086 # four words
	set -- $verdict
	injected=$1 in_kfw=$2 in_conntrack=$3
	injected_total=$((injected_total + injected))
	[ "$4" = fine ] || fail "the kernel log after $what holds only allocation failure reports" "$(cat /tmp/faults.log)"
}

fifo=/tmp/faults.fifo
mkfifo $fifo
# A newline for each byte a pipe holds (16 pages).
awk 'BEGIN { for (i = 0; i < 65536; i++) printf "\n" }' >/tmp/faults.filler

# fwctl_failing ARGS...: fwctl ARGS, with failures injected into its
# requests. Sets $status, and $errors to its stderr without the timing lines.
# stderr is the FIFO, filled up first, so that fwctl's first line blocks it
# until make-it-fail is set and the FIFO read. The reader opens it before
# this shell lets go of it: a FIFO without readers would kill fwctl with
# SIGPIPE.
fwctl_failing() {
	local pid reader
	exec 8<>$fifo
	dd if=/tmp/faults.filler bs=4096 count=16 >&8 2>/dev/null
	FWCTL_TIMING=1 fwctl "$@" 2>$fifo 8<&- &
	pid=$!
	mark $pid pipe_write || true
	exec 9<$fifo
	cat <&9 >/tmp/faults.err 8<&- 9<&- &
	reader=$!
	exec 8<&- 9<&-
	wait $pid && status=0 || status=$?
	wait $reader || true
	# Warnings (of rules that can never match, or that fwctl could not
	# look for them) come with a change that succeeded.
	errors=$(grep -v -e '^$' -e '^fwctl: request [0-9]* took [0-9]* us$' \
		-e '^fwctl: warning: ' /tmp/faults.err) || true
}

# tally KIND OUTCOME: one attempt's outcome, for the summary at the end: ok
# (it succeeded), stopped (it failed for want of memory: ENOMEM or ENOBUFS,
# which only the injection causes here), failed (it failed otherwise), lost
# (see attempt), wrong (the test failed).
tally=/tmp/faults.tally
: >$tally
tally() { echo "$1 $2" >>$tally; }

# attempt KIND EXPECTED ARGS...: fwctl ARGS under injection; the table,
# $table before (as `fwctl save` prints it), must end up as EXPECTED if it
# succeeded, and as it was if it failed. Sets $table to what it is.
#
# A change can also succeed in the kernel and fwctl still fail, when the
# acknowledgement cannot be allocated: netlink then reports ENOBUFS on the
# socket. Those are counted apart, as "lost acknowledgements".
attempt() {
	local kind=$1 expected=$2 before=$table after problem=
	shift 2
	fwctl_failing "$@"
	drain_log "fwctl $*"
	after=$(fwctl save)
	table=$after
	if [ "$status" -eq 0 ]; then
		[ -z "$errors" ] || problem="it succeeded, but wrote to stderr"
		[ "$after" = "$expected" ] || problem="$problem
it succeeded, but the table is not the intended one"
		[ -n "$problem" ] || { tally "$kind" ok; return 0; }
	elif [ "$status" -ne 1 ]; then
		problem="exit status $status"
	elif count_lines "$errors" && [ "$n" -ne 1 ] || [ "${errors#fwctl: }" = "$errors" ]; then
		problem="it failed without one line of error"
	elif [ "$after" = "$before" ]; then
		case $errors in
		*"Cannot allocate memory" | *"No buffer space available") tally "$kind" stopped ;;
		*) tally "$kind" failed ;;
		esac
		echo "   $kind ($inject): $errors"
		return 0
	elif [ "$after" = "$expected" ] && [ "${errors%No buffer space available}" != "$errors" ]; then
		tally "$kind" lost
		echo "   $kind ($inject): $errors, but the change was made: its acknowledgement was lost"
		return 0
	else
		problem="it failed, but the table changed"
	fi
	tally "$kind" wrong
	fail "fwctl $* under injection ($inject)" "$problem
exit status $status, $injected failures injected, stderr:
$errors
table before:
$before
intended:
$expected
after:
$after"
}

# --- The network and its traffic -----------------------------------------------------
#
# UDP floods from two client namespaces into the host, over both families,
# through rules with the port ranges, prefixes, states and payloads that the
# changes rebuild around them.

modprobe kfw
vm_host_up

stop=/tmp/faults.stop
flood() {
	while [ ! -e $stop ]; do
		in_ns "$1" kfwprobe udp-flood "$2" "$3" 1500 size 200 >/dev/null 2>&1 || true
		usleep 300000
	done
}
flood client1 "$host1_4" 9000 &
floods=$!
flood client2 "$host2_6" 9001 &
floods="$floods $!"
# shellcheck disable=SC2086 # a list of pids
renice -n 10 -p $floods >/dev/null

# Rules in canonical form, as `fwctl save` prints them. The first matches
# the floods and makes each of their packets search its payload: a rule
# freed too early while its insertion is undone is then likely to be in use.
pool='in accept proto udp dport 9000-9100 payload "kfw-faults-absent"
in drop proto tcp dport 1000-1999
in accept proto udp src 192.0.2.0/24 dport 9000
in drop proto udp src 198.51.100.7/32 sport 1-1024
in accept proto tcp dst 2001:db8:1::/64 dport 22
in accept state established,related
in drop state invalid log
in accept proto udp dport 9001 payload "kfw-faults" payload-within 64
in drop proto icmp icmp-type echo-request log log-rate 2/s comment "no ping"
in accept proto icmpv6 icmp-type neighbour-solicitation
out accept proto udp sport 9000-9001 state new,established
out drop proto tcp dport 80 comment "web"
out reject proto udp dport 5353
in accept proto udp dport 8000-8999 iface h1
in drop src 203.0.113.0/24
in accept proto udp src 2001:db8:2::/64 dport 9000-9001
out accept dst 198.51.100.0/24
in drop proto tcp src 2001:db8::/32 sport 40000-40999 dport 1-1023
in accept proto tcp,udp src 192.0.2.0/24,198.51.100.0/24 dport 9000,9001,9100-9200
in drop proto udp src != 203.0.113.0/24 dport != 9000,9001
out drop proto tcp dport 81 uid 1000-1999 gid 100'
pool_size=$(printf '%s\n' "$pool" | wc -l)

# pool_rule: one rule of the pool, in $rule; and as fwctl's arguments, its
# quotes taken as the shell takes them, in the positional parameters.
pool_rule() {
	rand "$pool_size"
	rule=$(printf '%s\n' "$pool" | sed -n "$((r + 1))p")
}

# small_file FILE: policies and 20 rules of the pool, for restore.
small_file() {
	local i=0
	{
		pick accept drop
		echo "policy in $r"
		pick accept drop
		echo "policy out $r"
		while [ $i -lt 20 ]; do
			pool_rule
			echo "add $rule"
			i=$((i + 1))
		done
	} >"$1"
}

# The 5000 rules: source prefixes and port ranges, which the classifier cuts
# into many entries, over both families.
awk 'BEGIN {
	print "policy in accept"
	print "policy out accept"
	for (i = 0; i < 5000; i++) {
		if (i % 3 == 0)
			printf "add in drop proto tcp src 203.0.113.%d/32 dport %d-%d\n", i % 256, 1000 + i % 3000, 1001 + i % 3000 + i % 97
		else if (i % 3 == 1)
			printf "add in drop proto udp src 2001:db8:%x::/48 sport %d-%d\n", i, 2000 + i % 500, 2500 + i % 700
		else
			printf "add out accept proto udp dst 198.51.100.%d/32 dport %d\n", i % 256, 10000 + i
	}
}' >/tmp/faults-5k.rules

printf 'policy in accept\npolicy out accept\n' >/tmp/faults-pool.rules
printf '%s\n' "$pool" | sed 's/^/add /' >>/tmp/faults-pool.rules
check "the pool's rules restore without injection" fwctl restore /tmp/faults-pool.rules
table=$(fwctl save)
check_eq "and save gives them back as written (canonical form)" "$(cat /tmp/faults-pool.rules)" "$table"
drain_log "the setup"

# --- Changes under injection -----------------------------------------------------------

# nth_rule N: the handle of the table's Nth rule, in list order.
nth_rule() {
	awk -v n="$1" 'NR == n + 1 { print $1 }' /proc/net/kfw/rules
}

started=$(uptime_s)
i=0
while [ $i -lt $changes ]; do
	i=$((i + 1))
	before=$table
	count_lines "$before"
	rules=$((n - 2))
	if [ "$rules" -gt 40 ]; then
		pick flush restore
	elif [ "$rules" -eq 0 ]; then
		pick add insert policy restore
	else
		pick add add insert insert del del policy restore flush
	fi
	kind=$r
	# Most attempts fail one allocation among about as many as the request
	# makes, as counted on the debug kernel; about every other one has a
	# fallback, so that the request still succeeds.
	case $kind in
	add | insert) calls=36 ;;
	del) calls=8 ;;
	policy) calls=12 ;;
	flush) calls=16 ;;
	restore) calls=160 ;;
	esac
	rand 4
	if [ $r -eq 0 ]; then
		pick 3 7 20
		arm interval "$r"
	else
		rand "$calls"
		arm nth $((r + 1))
	fi
	case $kind in
	add)
		pool_rule
		eval "set -- $rule"
		attempt add "$before
add $rule" add "$@"
		;;
	insert)
		pool_rule
		eval "set -- $rule"
		rand $((rules + 1))
		pos=$((r + 1))
		attempt insert "$(printf '%s\n' "$before" |
			awk -v at=$((pos + 2)) -v line="add $rule" 'NR == at { print line } { print } END { if (NR < at) print line }')" \
			insert $pos "$@"
		;;
	del)
		rand "$rules"
		attempt del "$(printf '%s\n' "$before" | sed "$((r + 3))d")" del "$(nth_rule $((r + 1)))"
		;;
	flush)
		attempt flush "$(printf '%s\n' "$before" | head -n 2)" flush
		;;
	policy)
		pick in out
		dir=$r
		pick accept drop
		attempt policy "$(printf '%s\n' "$before" | sed "s/^policy $dir .*/policy $dir $r/")" policy "$dir" "$r"
		;;
	restore)
		small_file /tmp/faults-small.rules
		# One in three goes on trial: keeping the old table must fail whole
		# too. A trial that began (its acknowledgement may be what failed)
		# is confirmed, uninjected, so that the next restore may begin.
		rand 3
		if [ $r -eq 0 ]; then
			attempt trial "$(cat /tmp/faults-small.rules)" restore --confirm 600 /tmp/faults-small.rules
			fwctl confirm >/dev/null 2>&1 || true
		else
			attempt restore "$(cat /tmp/faults-small.rules)" restore /tmp/faults-small.rules
		fi
		;;
	esac
done
echo "   ($changes changes took $(took "$started") s)"

# A restore of 5000 rules makes tens of thousands of allocations: one of
# them fails, anywhere, or none. Every other attempt goes back to a small
# table, from the large one when it made it.
started=$(uptime_s)
i=0
while [ $i -lt $large ]; do
	i=$((i + 1))
	rand 30000
	arm nth $((r + 1))
	attempt restore_5k "$(cat /tmp/faults-5k.rules)" restore /tmp/faults-5k.rules
	rand 160
	arm nth $((r + 1))
	small_file /tmp/faults-small.rules
	attempt restore "$(cat /tmp/faults-small.rules)" restore /tmp/faults-small.rules
done
echo "   (large restores took $(took "$started") s)"

# --- An insertion that renumbers the table, under injection ----------------------------
#
# Priorities halve the gap between two rules at each insertion between them,
# and each rule keeps 64 of them for the elements of a list: after a restore
# of two rules, the 27th insertion right after the first finds no room, and
# renumbers the whole table into new classifiers. When
# that insertion also brings the first state match, it turns connection
# tracking on last (nf_ct_netns_get(), which allocates as it registers
# conntrack's hooks). A failure anywhere must leave every live rule as it
# was: a rule that a failed renumbering left with a priority its classifier
# entries do not have is missed by its own deletion, and stays indexed after
# it is freed.
#
# A first run that fails nothing counts the slab bytes the renumbering
# allocates. Then, on the same table again, budgets among the last few
# thousand bytes fail conntrack's allocations, and a few others kfw's. After
# each failure one of the inserted rules is deleted, and a packet only it
# matched must meet the policy.

# renumbering_table: two rules from a restore, 26 inserted between them.
renumbering_table() {
	local k=26
	{
		printf 'policy in accept\npolicy out accept\n'
		printf 'add in accept proto udp dport 9000\nadd in accept proto udp dport 9001\n'
	} >/tmp/faults-renumber.rules
	step fwctl restore /tmp/faults-renumber.rules
	while [ $k -ge 1 ]; do
		fwctl insert 2 in drop proto udp dport $((7000 + k)) ||
			fail "fwctl insert 2 in drop proto udp dport $((7000 + k))"
		k=$((k - 1))
	done
	table=$(fwctl save)
	drain_log "the renumbering's table"
	victim=1
}

# renumbering BUDGET: the insertion that renumbers, failing after BUDGET
# bytes; after a failure, the next victim goes. An insertion that was made
# (its acknowledgement may be lost all the same) leaves nothing to renumber:
# a new table replaces it.
renumbering() {
	local was=$table made=0
	arm budget "$1"
	attempt renumber "$(printf '%s\n' "$table" | awk 'NR == 4 { print "add in accept state established" } { print }')" \
		insert 2 in accept state established
	[ "$table" = "$was" ] || made=1
	[ "$status" -eq 0 ] || renumbering_victim
	if [ $made -eq 1 ]; then
		fwctl flush
		renumbering_table
	fi
}

# renumbering_victim: after a failed renumbering, the next inserted rule is
# deleted, and a packet only it matched must meet the policy.
renumbering_victim() {
	[ "$in_conntrack" -eq 0 ] || tally renumber_conntrack stopped
	step fwctl del "$(awk -v port=$((7000 + victim)) '$NF == port { print $1 }' /proc/net/kfw/rules)"
	check_eq "after a failed renumbering ($inject$([ "$in_conntrack" -eq 0 ] || echo ', in nf_ct_netns_get')), deleting the rule for udp $((7000 + victim)) takes it out" \
		"policy in accept" "$(fwctl test in proto udp src 192.0.2.9 dport $((7000 + victim)) | head -n 1)"
	victim=$((victim + 1))
	table=$(fwctl save)
}

started=$(uptime_s)
renumbering_table
most=2147483647
renumbering $most
budget=$((most - $(cat $debugfs/failslab/space)))
echo "   (the renumbering insertion takes $budget bytes of slab)"
# Conntrack's allocations come 3000 to 7000 bytes before the end of the
# insertion on the debug kernel (the netlink acknowledgement and kfw's last
# steps follow), and fwctl then reads the table back for its warnings about
# rules that can never match, which takes about 11000 bytes more. The total
# varies by a few thousand bytes from one run to the next: tries walk down
# from 3000 bytes before the end until two have failed in conntrack, and a
# new table replaces one whose renumbering went through. Then two budgets
# drawn from the rest fail kfw's rebuild.
back=3000
while [ $back -le 24000 ] && [ "$(grep -c '^renumber_conntrack ' $tally)" -lt 2 ]; do
	renumbering $((budget - back))
	back=$((back + 500))
done
i=0
while [ $i -lt 2 ]; do
	i=$((i + 1))
	rand $((budget - 24000))
	renumbering $((r + 1))
done
echo "   (renumbering took $(took "$started") s)"

# --- Namespaces and the module, under injection -----------------------------------------
#
# `ip -batch -` waits for its command on the FIFO; it gets one once marked.
# A namespace that ip made must have kfw's empty table; one it failed to make
# must be gone. Which allocation fails is drawn from the bytes a namespace
# takes.

# ip_failing COMMAND: ip runs COMMAND with failures injected; sets $status.
ip_failing() {
	local pid
	exec 8<>$fifo
	/sbin/ip -batch - <$fifo >/tmp/faults.err 2>&1 8<&- &
	pid=$!
	mark $pid pipe_read || true
	echo "$1" >&8
	exec 8<&-
	wait $pid && status=0 || status=$?
}

started=$(uptime_s)
budget_of ip_failing "netns add measured"
ip netns del measured 2>/dev/null
echo "   (a namespace takes $budget bytes of slab)"
i=0
while [ $i -lt $namespaces ]; do
	i=$((i + 1))
	ns=faulty$i
	rand "$budget"
	arm budget $((r + 1))
	ip_failing "netns add $ns"
	drain_log "ip netns add"
	if [ "$status" -eq 0 ]; then
		if [ "$(in_ns $ns fwctl save 2>&1)" = "policy in accept
policy out accept" ] && in_ns $ns test -r /proc/net/kfw/stats; then
			tally netns ok
		else
			tally netns wrong
			fail "ip netns add $ns under injection ($inject) made a namespace without kfw's table" \
				"$(in_ns $ns fwctl save 2>&1)"
		fi
		ip netns del $ns 2>/dev/null
	elif [ -e /run/netns/$ns ] && ! in_ns $ns true 2>/dev/null; then
		# ip failed a step of its own (a mount, an unlink), and left
		# its file behind, not bound to any namespace.
		tally netns stopped
		[ "$in_kfw" -eq 0 ] || tally kfw_setup stopped
		echo "   netns ($inject): $(grep -v 'could not flock' /tmp/faults.err | tr '\n' ' ')"
		rm -f /run/netns/$ns
	elif [ -e /run/netns/$ns ]; then
		# ip made it, then failed a step of its own (going back to the
		# namespace it came from): the namespace must be whole all the same.
		if [ "$(in_ns $ns fwctl save 2>&1)" = "policy in accept
policy out accept" ] && in_ns $ns test -r /proc/net/kfw/stats; then
			tally netns stopped
			[ "$in_kfw" -eq 0 ] || tally kfw_setup stopped
			echo "   netns ($inject): made, but $(grep -v 'could not flock' /tmp/faults.err | head -n 1)"
		else
			tally netns wrong
			fail "ip netns add $ns under injection ($inject) failed, and left a namespace without kfw's table" \
				"$(cat /tmp/faults.err; in_ns $ns fwctl save 2>&1)"
		fi
		ip netns del $ns 2>/dev/null
	else
		tally netns stopped
		[ "$in_kfw" -eq 0 ] || tally kfw_setup stopped
		echo "   netns ($inject): $(grep -v 'could not flock' /tmp/faults.err | head -n 1)"
	fi
done

# Loading the module sets kfw up in every namespace there is; one that fails
# half-way must undo the others. The load is one finit_module() by kfwprobe,
# which waits for its go-ahead on the FIFO: busybox's modprobe would retry a
# failed load with init_module(), and hide the failure when the retry works.
module_file=/lib/modules/$(uname -r)/extra/kfw.ko
load_failing() {
	local pid
	exec 8<>$fifo
	kfwprobe load-module "$module_file" <$fifo >/tmp/faults.err 2>&1 8<&- &
	pid=$!
	mark $pid pipe_read || true
	echo go >&8
	exec 8<&-
	wait $pid && status=0 || status=$?
}

# kfw_loaded: the module is loaded and its files are there; without
# asking fwctl, whose netlink request would load the module.
kfw_loaded() {
	grep -q '^kfw ' /proc/modules && [ -r /proc/net/kfw/stats ]
}

# load_attempt BUDGET: load kfw, the first slab allocations after BUDGET
# bytes failing; kfw must then be whole, or gone.
load_attempt() {
	rmmod kfw
	arm budget "$1"
	load_failing
	drain_log "loading kfw"
	if [ "$status" -eq 0 ]; then
		if kfw_loaded && [ "$(in_ns client2 fwctl save)" = "policy in accept
policy out accept" ]; then
			tally load ok
		else
			tally load wrong
			fail "loading kfw under injection ($inject) succeeded, but kfw is not whole" \
				"$(grep kfw /proc/modules; in_ns client2 fwctl save 2>&1)"
		fi
	elif grep -q '^kfw ' /proc/modules || [ -e /proc/net/kfw ]; then
		tally load wrong
		fail "loading kfw under injection ($inject) failed, but left kfw behind" \
			"$(cat /tmp/faults.err; grep kfw /proc/modules)"
	else
		tally load stopped
		[ "$in_kfw" -eq 0 ] || tally kfw_setup stopped
		echo "   load ($inject$([ "$in_kfw" -eq 0 ] || echo ', in kfw_init')): $(head -n 1 /tmp/faults.err)"
	fi
	grep -q '^kfw ' /proc/modules || modprobe kfw
}

rmmod kfw
budget_of load_failing
echo "   (loading kfw takes $budget bytes of slab)"
i=0
while [ $i -lt $loads ]; do
	i=$((i + 1))
	rand "$budget"
	load_attempt $((r + 1))
done
# kfw_init runs last, after the kernel has read and laid out the module, and
# ends some kilobytes before the whole (the module's uevent, one message per
# namespace, comes after it): its allocations are too few for random budgets
# to be sure to meet them. Budgets stepping down from the whole, each by about
# a fortieth of it (kfw_init takes more than that), until two attempts stop
# inside kfw, prove that a setup failing half-way (per namespace, or in the
# family's registration) leaves nothing behind.
step=$((budget / 40))
back=0
while [ $back -lt $((budget * 3 / 4)) ] && [ "$(grep -c '^kfw_setup ' $tally)" -lt 2 ]; do
	rand $step
	back=$((back + step / 2 + r))
	load_attempt $((budget - back))
done
arm nth 0
echo "   (namespaces and loads took $(took "$started") s)"

# --- What it came to -------------------------------------------------------------------------

awk '
	$1 == "kfw_setup" || $1 == "renumber_conntrack" { next }
	{ n[$1]++; o[$1 " " $2]++; n["all"]++; o["all " $2]++ }
	END {
		split("add insert del flush policy restore trial restore_5k renumber netns load all", kinds)
		for (k = 1; k in kinds; k++)
			printf "   %s: %d attempts, %d succeeded, %d stopped by an injected failure, %d failed otherwise, %d lost acknowledgements\n",
				kinds[k], n[kinds[k]], o[kinds[k] " ok"], o[kinds[k] " stopped"],
				o[kinds[k] " failed"], o[kinds[k] " lost"]
	}' $tally
echo "   $injected_total failures injected in all"
check "some attempts were stopped by an injected failure" grep -q ' stopped$' $tally
check "some attempts succeeded" grep -q ' ok$' $tally
check "some fwctl changes were stopped by an injected failure" \
	grep -qE '^(add|insert|del|flush|policy|restore|trial|restore_5k|renumber) stopped$' $tally
check "namespace creation and module loading were stopped by injected failures" \
	grep -qE '^(netns|load) stopped$' $tally
check "kfw's own setup (kfw_init, kfw_net_init) was stopped by an injected failure" \
	grep -q '^kfw_setup stopped$' $tally
check "a renumbering insertion was stopped in nf_ct_netns_get()" \
	grep -q '^renumber_conntrack stopped$' $tally
check_eq "every failure was for want of memory (ENOMEM, ENOBUFS)" "" "$(grep ' failed$' $tally | sort | uniq -c)"

touch $stop
# shellcheck disable=SC2086 # a list of pids
wait $floods || true
printf 'policy in accept\npolicy out accept\nadd in drop proto udp dport 9000\n' >/tmp/faults-end.rules
step fwctl restore /tmp/faults-end.rules
check "after all that, kfw still drops by a rule" udp_dropped n1 "$host1_4" 9000
step fwctl flush
check "and lets through without it" udp_passes n1 "$host1_4" 9000

# kmemleak reports an object only once it has stayed unreferenced over two
# scans.
kmemleak=$debugfs/kmemleak
if [ -w $kmemleak ]; then
	echo scan >$kmemleak
	sleep 5
	echo scan >$kmemleak
	check_eq "kmemleak finds no leak" "" "$(cat $kmemleak)"
else
	case $(uname -r) in
	*-kfwdebug) fail "kmemleak is there on the debug kernel" "no $kmemleak" ;;
	*) echo "skip - no kmemleak in this kernel" ;;
	esac
fi
drain_log "the end"

topology_down
ip link del h1 2>/dev/null || true
ip link del h2 2>/dev/null || true
check "rmmod kfw at the end" rmmod kfw
finish
