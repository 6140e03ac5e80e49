#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# module-copy.sh: build kmod/ against another kernel in a private copy.
#
# Usage: tests/kernel/module-copy.sh NAME KERNEL_BUILD_DIR [MAKE_VAR=VALUE]...
#
# The work tree's objects are built for the stock kernel and must stay, so
# the sources are copied to $KFW_CACHE/NAME/<hash of the work tree's path>
# (KFW_CACHE defaults to ~/.cache/kfw)
# (one copy per work tree, so two trees can run at once) and built there.
# Progress and errors go to stderr; the last line on stdout is the copy's
# directory, whose kmod/ holds the built modules.

# shellcheck source=tests/strict.sh
. "$(dirname "${BASH_SOURCE[0]}")/../strict.sh"

[[ $# -ge 2 ]] || { echo "Usage: $0 NAME KERNEL_BUILD_DIR [MAKE_VAR=VALUE]..." >&2; exit 2; }
name=$1 kbuild=$2
shift 2

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
cache=${KFW_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/kfw}
jobs=${KFW_KERNEL_JOBS:-2}

work=$cache/$name/$(echo "$repo" | sha256sum | cut -c 1-12)
mkdir -p "$work/kmod"
exec 9>"$work/.lock"
flock 9
rsync -a --delete --include='*/' --include='*.[ch]' --exclude='*' \
	"$repo/kmod/" "$work/kmod/"
cp -p "$repo/Kbuild" "$work/Kbuild"
echo "module-copy.sh: building $* against $(cat "$kbuild/include/config/kernel.release")" >&2
if ! nice -n 10 make -C "$kbuild" M="$work" "$@" -j"$jobs" modules >"$work/module.log" 2>&1; then
	tail -n 40 "$work/module.log" >&2
	echo "module-copy.sh: FAIL: building the module (log: $work/module.log)" >&2
	exit 1
fi
echo "$work"
