#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# fuzz-run.sh: run the differential fuzzer for a bounded time.
#
# Usage: fuzz-run.sh FUZZER SECONDS [LIBFUZZER_ARG]...
#
# The corpus lives next to the fuzzer (build/fuzz/corpus) and grows from run
# to run; a crash leaves its input in build/fuzz/ (crash-*), which
# "FUZZER crash-..." replays. The last line is
# "classifier-fuzz: N passed, N failed": one run, with the number of inputs
# executed printed above it.

set -uo pipefail

[[ $# -ge 2 ]] || { echo "Usage: $0 FUZZER SECONDS [LIBFUZZER_ARG]..." >&2; exit 2; }
fuzzer=$(readlink -f "$1") seconds=$2
shift 2
dir=$(dirname "$fuzzer")
mkdir -p "$dir/corpus"
log=$dir/fuzz.log

(cd "$dir" && "$fuzzer" -max_total_time="$seconds" -max_len=4096 \
	-print_final_stats=1 "$@" corpus) >"$log" 2>&1
status=$?

runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
echo "classifier-fuzz: ${runs:-0} inputs executed in ${seconds}s (corpus: $(find "$dir/corpus" -type f | wc -l) inputs)"
if [[ $status -ne 0 ]]; then
	grep -E -A12 'MISMATCH|ERROR: AddressSanitizer|runtime error|ERROR: libFuzzer|LeakSanitizer' "$log" | head -n 40
	find "$dir" -maxdepth 1 \( -name 'crash-*' -o -name 'leak-*' \) | sed 's/^/classifier-fuzz: input: /'
	echo "classifier-fuzz: FAIL (status $status, log: $log)"
	echo "classifier-fuzz: 0 passed, 1 failed"
	exit 1
fi
echo "classifier-fuzz: 1 passed, 0 failed"
