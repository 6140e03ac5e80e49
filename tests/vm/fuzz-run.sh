#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# fuzz-run.sh: fuzz kfw's generic netlink family in the VM.
#
# Usage: tests/vm/fuzz-run.sh [--stock] COUNT [SEED]
#
# Builds kfwfuzz (tests/vm/kfwfuzz.c, static) into the cache (KFW_CACHE,
# default ${XDG_CACHE_HOME:-~/.cache}/kfw) and runs tests/vm/fuzz.sh with
# it: COUNT fuzzed messages, then the checks that the kernel came through.
# The VM boots the debug kernel (tests/kernel/debug-vm.sh builds it once and
# caches it), where KASAN, lockdep, kmemleak and panic_on_warn watch; with
# --stock, Debian's stock kernel with kmod/kfw.ko as `make stock-build` left
# it, which is quicker.
#
# The seed (random unless given) is printed first and again on a failure:
# the same COUNT and SEED replay the run.
#
# A debug kernel under TCG manages some 250 messages a second on two busy
# cores: 50000 take 3-4 minutes, a million over an hour.
#
# Environment: KFW_CACHE, KFW_VM_TIMEOUT (default: 600 s, and 1 s for every
# 150 messages), and run-vm.sh's.

# shellcheck source=tests/strict.sh
. "$(dirname "${BASH_SOURCE[0]}")/../strict.sh"

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
cache=${KFW_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/kfw}

usage() {
	echo "Usage: $0 [--stock] COUNT [SEED]" >&2
	exit 2
}

stock=0
if [[ ${1:-} == --stock ]]; then
	stock=1
	shift
fi
[[ $# -ge 1 && $# -le 2 && $1 =~ ^[0-9]+$ ]] || usage
count=$1
seed=${2:-0x$(od -An -tx8 -N8 /dev/urandom | tr -d ' ')}
[[ $seed =~ ^(0x[0-9a-fA-F]+|[0-9]+)$ ]] || usage

# The VM's /init mounts over /tmp: the fuzzer lives in the cache.
fuzzer=$("$here/static-program.sh" "$cache" "$here/kfwfuzz.c" "$repo/kmod/uapi/kfw.h")

# A sanitized kernel under TCG manages a few hundred messages a second.
export KFW_VM_TIMEOUT=${KFW_VM_TIMEOUT:-$((600 + count / 150))}

replay="tests/vm/fuzz-run.sh$([[ $stock -eq 0 ]] || echo ' --stock') $count $seed"
echo "fuzz-run.sh: $count messages, seed $seed (replay: $replay)"
status=0
if [[ $stock -eq 1 ]]; then
	"$here/run-vm.sh" --module ts_kmp --module nf_log_syslog --file "$fuzzer" --quiet \
		"$here/fuzz.sh" "$count" "$fuzzer" "$seed" || status=$?
else
	"$repo/tests/kernel/debug-vm.sh" --file "$fuzzer" \
		"$here/fuzz.sh" "$count" "$fuzzer" "$seed" || status=$?
fi
if [[ $status -ne 0 ]]; then
	echo "fuzz-run.sh: FAIL (status $status); replay: $replay" >&2
fi
exit "$status"
