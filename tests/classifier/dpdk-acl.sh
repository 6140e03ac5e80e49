#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# dpdk-acl.sh: DPDK's librte_acl on the ClassBench sets, the anchor of the
# classifier's benchmark. dpdk-test-acl (Debian's dpdk-dev) builds its ACL
# from a set's rules, classifies its trace, and is timed by its own cycle
# counter; its answers are checked against the set's expected ones.
#
# Usage: tests/classifier/dpdk-acl.sh SET...
#
# SET is a path without .rules.xz, as classbench-sets.sh prints them. For
# each it prints one line, as classbench does for kfw:
#
#   DPDK_ACL set=SET rules=N packets=M alg=ALG mismatches=K lookup_ns=X build_s=S
#
# ALG is the one DPDK picks given 512-bit vectors (with AVX-512, avx512x32);
# lookup_ns is the mean over KFW_DPDK_LOOKUPS lookups (default 2000000, the
# trace repeated), one at a time on one core (the trace is handed over 256
# headers a call, DPDK's batch); build_s is the wall time of the run that
# checks the answers, most of it the build. Without dpdk-test-acl it says so,
# prints no line and fails.
#
# ClassBench writes rules in this very format; kfw's sets hold them as
# `fwctl restore` reads them, so they are written back. DPDK numbers the
# rules from 1 and prints the number less one, and ~0 for no match.

# shellcheck source=tests/strict.sh
. "$(dirname "${BASH_SOURCE[0]}")/../strict.sh"

[[ $# -ge 1 ]] || { echo "Usage: $0 SET..." >&2; exit 2; }
if ! command -v dpdk-test-acl >/dev/null; then
	echo "dpdk-acl.sh: no dpdk-test-acl (Debian package dpdk-dev)" >&2
	exit 1
fi
lookups=${KFW_DPDK_LOOKUPS:-2000000}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# kfw's "add in drop proto tcp src A/N dst B/M sport P dport Q-R" to
# ClassBench's "@A/N B/M P : P Q : R 0x06/0xff"; a field left out is any.
to_classbench() {
	awk '/^add / {
		src = "0.0.0.0/0"; dst = "0.0.0.0/0"
		port["sport"] = "0 : 65535"; port["dport"] = "0 : 65535"
		proto = "0x00/0x00"
		for (i = 1; i <= NF; i++) {
			if ($i == "src" || $i == "dst") {
				v = $(++i)
				if (v !~ /\//)
					v = v "/32"
				if ($(i - 1) == "src")
					src = v
				else
					dst = v
			} else if ($i == "sport" || $i == "dport") {
				w = $i
				if (split($(++i), r, "-") == 1)
					r[2] = r[1]
				port[w] = r[1] " : " r[2]
			} else if ($i == "proto") {
				p = $(++i)
				n = p == "tcp" ? 6 : p == "udp" ? 17 : p == "icmp" ? 1 : p
				proto = sprintf("0x%02x/0xff", n)
			}
		}
		print "@" src "\t" dst "\t" port["sport"] "\t" port["dport"] "\t" proto
	}'
}

# test_acl ARG...: dpdk-test-acl on one core, without hugepages or devices.
test_acl() {
	dpdk-test-acl --no-huge -m 4096 --no-pci -l 0 --force-max-simd-bitwidth=512 \
		--log-level=lib.eal:error -- "$@"
}

status=0
for set in "$@"; do
	xzcat "$set.rules.xz" | to_classbench >"$work/rules"
	xzcat "$set.trace.xz" >"$work/trace"
	xzcat "$set.expect.xz" >"$work/expect"
	rules=$(wc -l <"$work/rules")
	packets=$(wc -l <"$work/trace")
	common=(--rulesf="$work/rules" --rulenum="$rules" --tracef="$work/trace" --tracenum="$packets")

	started=$(date +%s.%N)
	if ! test_acl "${common[@]}" --iter=1 --verbose=3 >"$work/answers" 2>"$work/err"; then
		echo "dpdk-acl.sh: dpdk-test-acl failed on $set: $(grep -v '^EAL' "$work/err" | head -n 1)" >&2
		status=1
		continue
	fi
	build_s=$(awk -v a="$started" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')
	mismatches=$(awk '/^ipv4_5tuple:/ { n = $6 + 1; print (n == 4294967296 ? 0 : n) }' "$work/answers" |
		paste -d ' ' "$work/expect" - | awk 'NF != 2 || $1 != $2 { n++ } END { print n + 0 }')

	iter=$(((lookups + packets - 1) / packets))
	test_acl "${common[@]}" --iter="$iter" >"$work/timed" 2>&1
	awk -v set="$set" -v rules="$rules" -v packets="$packets" -v mismatches="$mismatches" \
		-v build_s="$build_s" '
		BEGIN { split("scalar sse avx2 neon altivec avx512x16 avx512x32", names) }
		/^alg:/ { alg = $0; sub(/^alg:[0-9]+\(/, "", alg); sub(/\)$/, "", alg) }
		/ alg=[0-9]/ { picked = $0; sub(/.* alg=/, "", picked); picked = names[picked + 0] }
		/^search_ip5tuples +@lcore/ {
			for (i = 1; i <= NF; i++)
				if ($i == "pkt/sec")
					rate = $(i - 1)
		}
		END {
			if (alg == "default")
				alg = picked
			printf "DPDK_ACL set=%s rules=%d packets=%d alg=%s mismatches=%d lookup_ns=%.1f build_s=%s\n",
				set, rules, packets, alg, mismatches, rate ? 1e9 / rate : -1, build_s
		}' "$work/timed"
done
exit "$status"
