#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# static-program.sh: build a test program of one C file, static (the VM has
# no libc of its own), into the cache, once per content of its sources, and
# print its path.
#
# Usage: tests/vm/static-program.sh CACHE SOURCE [HEADER]...
#
# The path is named by the hash of SOURCE and the HEADERs it includes, not
# compared by date: a checkout of any version finds its own build or makes one.

# shellcheck source=tests/strict.sh
. "$(dirname "${BASH_SOURCE[0]}")/../strict.sh"

[[ $# -ge 2 ]] || { echo "Usage: $0 CACHE SOURCE [HEADER]..." >&2; exit 2; }
cache=$1 source=$2
shift 2
program=$cache/$(basename "$source" .c)-$(cat "$source" "$@" | sha256sum | cut -c 1-12)
if [[ ! -x $program ]]; then
	mkdir -p "$cache"
	built=$(mktemp "$program.XXXXXX")
	trap 'rm -f "$built"' EXIT
	gcc -static -O2 -Wall -Wextra -Werror -o "$built" "$source"
	mv -f "$built" "$program"
fi
echo "$program"
