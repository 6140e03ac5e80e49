#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# classbench-rules.sh: a ClassBench rule set in the syntaxes of the benchmark.
#
# Usage: classbench-rules.sh fwctl|iptables|nft-chain N SET
#
# Prints the first N rules of ClassBench set SET (acl1, fw1 or ipc1), taken
# from the smallest of its files (SET-1000, SET-10000, SET-100000, found by
# tests/classifier/classbench-sets.sh) that has enough, as FORMAT: the input
# of `fwctl restore`, of `iptables-legacy-restore` (filter INPUT) or of
# `nft -f` (one linear chain at hook input), every rule `drop`, in the same
# order. Rules that could match bench-vm.sh's probe (UDP from 198.19.255.1
# to 198.19.255.2, port 7, from any source port) are left out, since a
# dropped probe fails the run: the probe pays for the whole lookup. Fails
# when the set has fewer than N other rules. nft's interval map is not
# offered: it refuses the overlapping rules ClassBench is made of.
#
# The files hold `add in drop [proto P] [src A/L] [dst A/L] [sport X[-Y]]
# [dport X[-Y]]` lines (see their README); ports come with tcp or udp only.

# shellcheck source=tests/strict.sh
. "$(dirname "${BASH_SOURCE[0]}")/../strict.sh"

[[ $# -eq 3 ]] || { sed -n '6p' "${BASH_SOURCE[0]}" | sed 's/^# //' >&2; exit 2; }
format=$1 count=$2 set=$3
case $format in
fwctl | iptables | nft-chain) ;;
*) echo "classbench-rules.sh: unknown format '$format'" >&2; exit 2 ;;
esac
[[ $count =~ ^[0-9]+$ ]] || { echo "classbench-rules.sh: invalid rule count '$count'" >&2; exit 2; }

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
file=
for prefix in $("$here/../classifier/classbench-sets.sh"); do
	name=${prefix##*/}
	[[ ${name%-*} == "$set" ]] || continue
	file=$prefix.rules.xz
	[[ ${name##*-} -le $count ]] || break
done
[[ -n $file ]] || { echo "classbench-rules.sh: no ClassBench set '$set'" >&2; exit 2; }

xz -dc "$file" | awk -v format="$format" -v count="$count" -v set="$set" '
function ip(text,    a) {
	split(text, a, ".")
	return ((a[1] * 256 + a[2]) * 256 + a[3]) * 256 + a[4]
}
# Does prefix TEXT (A.B.C.D/L) hold address ADDR?
function holds(text, addr,    p, len, unit) {
	split(text, p, "/")
	len = p[2] + 0
	unit = 2 ^ (32 - len)
	return int(ip(p[1]) / unit) == int(addr / unit)
}
function lo(range,    r) { split(range, r, "-"); return r[1] + 0 }
function hi(range,    r) { return split(range, r, "-") == 2 ? r[2] + 0 : r[1] + 0 }
# The probe: UDP 198.19.255.1 -> 198.19.255.2, destination port 7.
function meets_probe() {
	return (!("proto" in f) || f["proto"] == "udp" || f["proto"] == "17") &&
	       (!("src" in f) || holds(f["src"], ip("198.19.255.1"))) &&
	       (!("dst" in f) || holds(f["dst"], ip("198.19.255.2"))) &&
	       (!("dport" in f) || (lo(f["dport"]) <= 7 && 7 <= hi(f["dport"])))
}
function iptables(    line, p) {
	line = "-A INPUT"
	if ("proto" in f)
		line = line " -p " f["proto"]
	if ("src" in f)
		line = line " -s " f["src"]
	if ("dst" in f)
		line = line " -d " f["dst"]
	if ("sport" in f || "dport" in f)
		line = line " -m " f["proto"]
	if ("sport" in f)
		line = line " --sport " lo(f["sport"]) ":" hi(f["sport"])
	if ("dport" in f)
		line = line " --dport " lo(f["dport"]) ":" hi(f["dport"])
	print line " -j DROP"
}
function nft(    line) {
	line = "\t\t"
	if ("src" in f)
		line = line "ip saddr " f["src"] " "
	if ("dst" in f)
		line = line "ip daddr " f["dst"] " "
	if (("proto" in f) && !("sport" in f) && !("dport" in f))
		line = line "meta l4proto " f["proto"] " "
	if ("sport" in f)
		line = line f["proto"] " sport " lo(f["sport"]) "-" hi(f["sport"]) " "
	if ("dport" in f)
		line = line f["proto"] " dport " lo(f["dport"]) "-" hi(f["dport"]) " "
	print line "drop"
}
BEGIN {
	if (format == "fwctl")
		printf "# ClassBench %s, %d rules\npolicy in accept\npolicy out accept\n", set, count
	else if (format == "iptables")
		printf "# ClassBench %s, %d rules\n*filter\n:INPUT ACCEPT [0:0]\n:FORWARD ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n", set, count
	else
		printf "# ClassBench %s, %d rules\ntable ip kfwbench {\n\tchain input {\n\t\ttype filter hook input priority filter; policy accept;\n", set, count
}
$1 == "add" && kept < count {
	split("", f)
	for (i = 4; i < NF; i += 2)
		f[$i] = $(i + 1)
	if (meets_probe())
		next
	kept++
	if (format == "fwctl")
		print
	else if (format == "iptables")
		iptables()
	else
		nft()
}
END {
	if (format == "iptables")
		print "COMMIT"
	else if (format == "nft-chain")
		print "\t}\n}"
	if (kept < count) {
		printf "classbench-rules.sh: %s has only %d rules the probe does not meet\n", set, kept > "/dev/stderr"
		exit 1
	}
}'
