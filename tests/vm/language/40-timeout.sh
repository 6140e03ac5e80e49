# shellcheck shell=dash disable=SC3043,SC2154 # busybox ash has local; lib.sh sets over()'s names
# SPDX-License-Identifier: GPL-2.0
#
# Timed rules (sourced by language.sh): `timeout DURATION` drops what it
# matches until its time runs out, and then the kernel deletes it by itself,
# on time by the clock; save writes the time left, and restore starts the
# clock again from the file. Flushes, namespace deletions and module unloads
# with timed rules pending leave nothing behind (the debug kernel watches).

serve n0 tcp 7400

# The debug kernel under emulation takes about a second a command: there the
# rules live longer, so that the checks made while they drop fit in.
case $(uname -r) in
*-kfwdebug) life=15 saved_life=14 ;;
*) life=4 saved_life=5 ;;
esac

# The host and client1 through nsenter, cheaper than `ip netns exec`.
h0() { in_ns host "$@"; }
c1() { in_ns client1 "$@"; }

# centiseconds: the uptime, in hundredths of a second.
centiseconds() {
	awk '{ printf "%d\n", $1 * 100 }' /proc/uptime
}

# seconds CENTISECONDS: as "3.07".
seconds() {
	printf '%d.%02d' $(($1 / 100)) $(($1 % 100))
}

# timed_line ADDR: the host's rule from ADDR in /proc/net/kfw/rules.
timed_line() {
	h0 cat /proc/net/kfw/rules | grep -F " src $1/" || true
}

# left_of ADDR: the seconds `fwctl list` says that rule has left.
left_of() {
	h0 fwctl list | grep -F " src $1/" | sed -n 's/.* timeout \([0-9]*\)s.*/\1/p'
}

# wait_gone ADDR START LIMIT: polls until the host's rule from ADDR is gone,
# for at most LIMIT centiseconds after START (a centiseconds value), and
# prints "GONE SEEN": centiseconds from START to the end of the first look
# that found it gone, and to the start of the last that found it there
# ("-" if the first look found it gone already). The rule went in between.
wait_gone() {
	local addr=$1 start=$2 limit=$3 before after seen=-
	while :; do
		before=$(centiseconds)
		if [ -z "$(timed_line "$addr")" ]; then
			after=$(centiseconds)
			echo "$((after - start)) $seen"
			return 0
		fi
		seen=$((before - start))
		[ "$seen" -lt "$limit" ] || { echo "never $seen"; return 1; }
		usleep 50000
	done
}

# check_on_time NAME SECONDS START ADDED ADDR: the rule from ADDR, added
# between START and START + ADDED centiseconds with `timeout SECONDS`, is
# still there when the looking starts, goes no earlier than SECONDS after
# START, and is seen gone at most 1.5 s after its deadline (the time between
# two looks, on a slow emulated machine).
check_on_time() {
	local name=$1 want=$(($2 * 100)) start=$3 added=$4 addr=$5 out gone seen
	out=$(wait_gone "$addr" "$start" $((want + added + 500))) || true
	gone=${out% *} seen=${out#* }
	echo "  rule gone after $(seconds "$gone") s (seen there at $(seconds "${seen#-}") s; timeout $2 s)"
	if [ "$gone" = never ]; then
		fail "$name" "still there after $(seconds "$seen") s"
	elif [ "$seen" = - ]; then
		fail "$name" "already gone at the first look, $(seconds "$gone") s after the add: too late to tell"
	elif [ "$gone" -lt "$want" ]; then
		fail "$name" "gone after $(seconds "$gone") s, before its time"
	elif [ "$gone" -gt $((want + added + 150)) ]; then
		fail "$name" "gone only after $(seconds "$gone") s"
	else
		pass "$name"
	fi
}

# at_most MAX VALUE: VALUE is a number from 1 to MAX.
at_most() {
	[ -n "$2" ] && [ "$2" -ge 1 ] && [ "$2" -le "$1" ]
}

for f in 4 6; do
	over $f
	case $f in
	4) len=32 ;;
	6) len=128 ;;
	esac

	# --- Dropped until its time runs out, then gone, on time -------------
	start=$(centiseconds)
	step h0 fwctl add in drop src "$c1" timeout "${life}s" comment "ssh brute force"
	added=$(($(centiseconds) - start))
	check_match "$v: list shows the time left" \
		"^[0-9]+ in drop [0-9]+ [0-9]+ src $c1/$len timeout [0-9]+s comment \"ssh brute force\"\$" \
		"$(h0 fwctl list | squeeze)"
	check "$v: at most the ${life}s given" at_most "$life" "$(left_of "$c1")"
	left=$(h0 fwctl -j list | sed -n 's/.*"timeout":"[0-9]*s","timeout_ms":\([0-9]*\).*/\1/p')
	check "$v: -j list shows the milliseconds left" at_most $((life * 1000)) "$left"
	check_match "$v: /proc/net/kfw/rules shows it" \
		"in drop [0-9]+ [0-9]+ src $c1/$len timeout [0-9]+s comment" "$(timed_line "$c1")"
	check_match "$v: fwctl test reports the rule, with its time left" \
		"^[0-9]+ in drop [0-9]+ [0-9]+ src $c1/$len timeout [0-9]+s" \
		"$(h0 fwctl test in proto tcp src "$c1" dst "$h1" dport 7400 | squeeze)"
	check "$v: the timed rule drops client1's TCP" tcp_dropped c1 "$h1" 7400
	check "$v: and its pings" ping_dropped c1 "$h1"
	check "$v: client2 still connects" tcp_passes n2 "$h2" 7400
	check_on_time "$v: the kernel deletes the rule when its time runs out" \
		"$life" "$start" "$added" "$c1"
	check_eq "$v: it is gone from list" "" "$(h0 fwctl list | rules)"
	check "$v: client1 connects again" tcp_passes c1 "$h1" 7400
	check "$v: and pings" ping_passes c1 "$h1"

	# --- save writes the time left; restore starts the clock again ------
	step h0 fwctl add in drop src "$c2" timeout 1h
	step h0 fwctl add in drop src "$c1" timeout "${saved_life}s"
	usleep 2000000
	h0 fwctl save >/tmp/timed.rules
	check_match "$v: save writes the time left" \
		"^add in drop src $c1/$len timeout [0-9]+s\$" "$(cat /tmp/timed.rules)"
	saved=$(sed -n "s|^add in drop src $c1/$len timeout \([0-9]*\)s\$|\1|p" /tmp/timed.rules)
	check "$v: rounded up, two seconds or more gone" at_most $((saved_life - 2)) "$saved"
	check_match "$v: and an hour less the seconds gone" \
		"^add in drop src $c2/$len timeout (1h|35[0-9][0-9]s)\$" "$(cat /tmp/timed.rules)"
	wait_gone "$c1" "$(centiseconds)" $((saved_life * 100 + 500)) >/dev/null || true
	check_eq "$v: the ${saved_life}s rule ran out, the hour-long one did not" \
		"in drop src $c2/$len timeout 1h" \
		"$(h0 fwctl list | rules | sed 's/timeout 35[0-9][0-9]s$/timeout 1h/')"
	start=$(centiseconds)
	step h0 fwctl restore /tmp/timed.rules
	added=$(($(centiseconds) - start))
	check "$v: restored, with at most the ${saved:-?}s of the file" \
		at_most "${saved:-0}" "$(left_of "$c1")"
	check "$v: the restored rule drops client1" ping_dropped c1 "$h1"
	check "$v: the hour-long rule is back too: client2 is dropped" ping_dropped n2 "$h2"
	check_on_time "$v: the restored rule goes ${saved:-?} s after the restore" \
		"${saved:-1}" "$start" "$added" "$c1"
	check "$v: client1 pings again" ping_passes c1 "$h1"
	check "$v: while client2 stays dropped" ping_dropped n2 "$h2"
	reset n0

	# --- A flush with timed rules pending ---------------------------------
	step h0 fwctl add in drop src "$c1" timeout 1s
	step h0 fwctl add in drop src "$c2" timeout 1h
	step h0 fwctl flush
	usleep 1500000
	check "$v: after a flush, nothing comes back" empty_table n0
	step h0 fwctl add in drop src "$c1"
	usleep 1500000
	check_eq "$v: a rule added after the flush is not taken for a timed one" \
		"in drop src $c1/$len" "$(h0 fwctl list | rules)"
	check "$v: and drops" ping_dropped c1 "$h1"
	check "$v: next to a pass" ping_passes n2 "$h2"
	reset n0
done

# --- Namespaces and the module going with timed rules pending ----------------
# Each namespace gets rules that run out at once, rules of an hour, and a
# restore on trial whose kept table holds timed rules too.
timed_table() {
	ip netns exec "$1" fwctl add in drop src "$client1_4" timeout 1s &&
	ip netns exec "$1" fwctl add in drop src "$client1_6" timeout 1h &&
	printf 'add in drop src %s timeout 1s\nadd in drop src %s timeout 1h\n' \
		"$client2_4" "$client2_6" >/tmp/timed-trial.rules &&
	ip netns exec "$1" fwctl restore --confirm 60 /tmp/timed-trial.rules
}

ip netns add timed
check "a namespace with timed rules and a trial pending" timed_table timed
step ip netns del timed
usleep 1500000
check "the namespace goes; its timers with it (dmesg is clean)" \
	sh -c "! dmesg | grep -E '$kernel_complaints'"

ip netns add timed
check "timed rules pending in the host and another namespace" timed_table timed
step n0 fwctl add in drop src "$client1_4" timeout 1h
step n0 fwctl add in drop src "$client1_6" timeout 2s
check "rmmod kfw with timed rules pending" rmmod kfw
usleep 2500000
check "modprobe kfw" modprobe kfw
check "the tables are new and empty" empty_table n0
check "client1 pings the host (IPv4)" ping_passes n1 "$host1_4"
check "client1 pings the host (IPv6)" ping_passes n1 "$host1_6"
step ip netns del timed
check "the kernel log stays clean" sh -c "! dmesg | grep -E '$kernel_complaints'"
rm -f /tmp/timed.rules /tmp/timed-trial.rules
