#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# debug-vm.sh: run a VM test script on the debug kernel, with kfw.ko and
# ctl/fwctl as the stock-kernel runs use them.
#
# Usage: tests/kernel/debug-vm.sh SCRIPT [ARG]...
#
# Builds the debug kernel unless it is cached (build.sh), builds kfw.ko
# against it in a private copy of kmod/ (the work tree's objects are built for
# the stock kernel and stay), then boots it with tests/vm/run-vm.sh. KASAN,
# UBSAN, lockdep, kmemleak and panic_on_warn then watch the real traffic,
# rule churn, namespace deletion and module unload of SCRIPT; run-vm.sh fails
# the run on any report. The exit status is SCRIPT's, or run-vm.sh's failure.
#
# Environment: KFW_VM_TIMEOUT (default 1500 s here: a sanitized kernel under
# TCG is several times slower), KFW_KERNEL_JOBS, and run-vm.sh's.

# shellcheck source=tests/strict.sh
. "$(dirname "${BASH_SOURCE[0]}")/../strict.sh"

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
export KFW_VM_TIMEOUT=${KFW_VM_TIMEOUT:-1500}

[[ $# -ge 1 ]] || { echo "Usage: $0 SCRIPT [ARG]..." >&2; exit 2; }

kbuild=$("$here/build.sh" | tail -n 1)
version=$(cat "$kbuild/include/config/kernel.release")

work=$("$here/module-copy.sh" debug-module "$kbuild" | tail -n 1)

exec "$repo/tests/vm/run-vm.sh" --kernel "$kbuild/arch/x86/boot/bzImage" \
	--modules "$kbuild/modroot/lib/modules/$version" --ko "$work/kmod/kfw.ko" \
	--module ts_kmp --quiet "$@"
