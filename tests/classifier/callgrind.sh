#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# callgrind.sh: instructions per kfw_cls_lookup(), counted by callgrind.
#
# Usage: callgrind.sh BENCH RULES LOOKUPS
#
# Runs "BENCH -c RULES LOOKUPS TRAFFIC" under valgrind --tool=callgrind for
# the probe packets (which no rule matches) and for packets made from the
# rules, collecting only inside kfw_cls_lookup() (--toggle-collect), so that
# the program's total instruction count (Ir, from callgrind_annotate) is the
# inclusive count of the lookups; divides it by LOOKUPS. Prints for each
#
#	CALLGRIND impl=kfw-native rules=N traffic=T lookups=L ir_per_lookup=X

# shellcheck source=tests/strict.sh
. "$(dirname "${BASH_SOURCE[0]}")/../strict.sh"

[[ $# -eq 3 ]] || { echo "Usage: $0 BENCH RULES LOOKUPS" >&2; exit 2; }
bench=$1 rules=$2 lookups=$3
out=$(dirname "$bench")

command -v valgrind >/dev/null || { echo "callgrind.sh: valgrind is not installed (tests/deps.sh)" >&2; exit 1; }

for traffic in probe inside; do
	file=$out/callgrind.out.$traffic
	valgrind --tool=callgrind --callgrind-out-file="$file" \
		--collect-atstart=no --toggle-collect=kfw_cls_lookup \
		"$bench" -c "$rules" "$lookups" "$traffic" >/dev/null 2>"$out/callgrind.$traffic.log" || {
		tail -n 20 "$out/callgrind.$traffic.log" >&2
		echo "callgrind.sh: valgrind failed" >&2
		exit 1
	}
	# "265,843,105 (100.0%)  PROGRAM TOTALS"
	ir=$(callgrind_annotate "$file" | awk '/PROGRAM TOTALS/ { gsub(",", "", $1); ir = $1 } END { print ir }')
	[[ $ir -gt 0 ]] || { echo "callgrind.sh: no instructions counted in $file" >&2; exit 1; }
	echo "CALLGRIND impl=kfw-native rules=$rules traffic=$traffic lookups=$lookups ir_per_lookup=$((ir / lookups))"
done
