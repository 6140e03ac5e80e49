#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# first-run.sh: the steps a new user's first `make check` takes before the
# compiler starts, in caches that hold nothing of this machine's.
#
# Usage: tests/kernel/first-run.sh
#
# A machine that has built the debug kernel once never walks these paths
# again, so a bug in them hides from every later run. Each check here runs
# the real script:
#   1. build.sh --configure-only in an empty cache: extracts linux-source,
#      configures tinyconfig + kfw-debug.config, checks every option held, looks
#      for an earlier build to start from (there is none) and stops where the
#      compiler would start.
#   2. The same after the linux-source package moved on: trees and builds of
#      an older package version, and the unversioned tree older scripts left,
#      sit in the cache; none of them may be used.
#   3. tests/deps.sh on a machine where `apt-get update` never ran: a missing
#      package must make it update the package lists before installing (a
#      stub apt-get and dpkg-query record what it asks for).
#
# The rest of make check runs with an emptied KFW_CACHE (tests/check.sh), so
# kfwprobe, the module copies and the bench files take their first-run path
# every time too.
#
# The last line is "first-run: N passed, N failed".

# shellcheck source=tests/strict.sh
. "$(dirname "${BASH_SOURCE[0]}")/../strict.sh"

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
package=linux-source-6.1

passed=0 failed=0
pass() {
	passed=$((passed + 1))
	echo "ok - $1"
}
fail() {
	failed=$((failed + 1))
	echo "FAIL - $1"
	[[ -z ${2:-} ]] || printf '%s\n' "$2" | sed 's/^/    /'
}

scratch=$(mktemp -d "${TMPDIR:-/tmp}/kfw-first-run.XXXXXX")
trap 'rm -rf "$scratch"' EXIT

"$repo/tests/deps.sh" >/dev/null
deb_version=$(dpkg-query -W -f='${Version}' "$package")

# configure NAME CACHE: build.sh --configure-only in CACHE must succeed and
# leave a configured, uncompiled build directory of the installed package.
configure() {
	local name=$1 cache=$2 out status=0 problems=
	out=$(KFW_KERNEL_CACHE=$cache "$here/build.sh" --configure-only 2>"$scratch/stderr") ||
		status=$?
	out=$(tail -n 1 <<<"$out")
	if [[ $status -ne 0 ]]; then
		problems="exit status $status"
	elif [[ $out != "$cache/kernel/"*"-$deb_version-"* ]]; then
		problems="build directory '$out' is not for $package $deb_version in $cache"
	elif [[ ! -f $out/.config || ! -f $out/.kfw-configured ]]; then
		problems="no configuration in '$out'"
	elif [[ -e $out/arch/x86/boot/bzImage || -e $out/vmlinux ]]; then
		problems="'$out' holds a kernel: the build did not stop before the compiler"
	elif [[ ! -s $out/build.log ]]; then
		problems="no build.log in '$out'"
	fi
	if [[ -z $problems ]]; then
		pass "$name"
	else
		fail "$name" "$problems
$(tail -n 20 "$scratch/stderr")"
	fi
	configured=$out
}

# --- 1. An empty cache --------------------------------------------------------

configure "build.sh --configure-only in an empty cache" "$scratch/empty"
if grep -q 'CONFIG_KASAN=y' "$configured/.config" 2>/dev/null &&
	grep -q 'CONFIG_FAILSLAB=y' "$configured/.config"; then
	pass "the configuration holds kfw-debug.config"
else
	fail "the configuration holds kfw-debug.config" "$(grep -E 'KASAN=|FAILSLAB=' "$configured/.config" 2>&1)"
fi

# --- 2. A newer linux-source than the cache knows -----------------------------

# A Makefile that stops any make run in a tree that must not be used.
# shellcheck disable=SC2016 # $(error) is make's, not the shell's
stale_tree() {
	mkdir -p "$1"
	printf 'kernelversion:\n\t@echo 6.1.0\n%%:\n\t$(error stale tree %s used)\n' "$1" >"$1/Makefile"
}
old=$scratch/empty
rm -rf "$old/kernel/"*"-$deb_version-"*
stale_tree "$old/$package"
stale_tree "$old/$package-0.0-old"
mkdir -p "$old/kernel/6.1.0-0.0-old-000000000000/arch/x86/boot"
touch "$old/kernel/6.1.0-0.0-old-000000000000/arch/x86/boot/bzImage"
touch "$old/kernel/6.1.0-0.0-old-000000000000/.kfw-build-done"
configure "build.sh --configure-only after linux-source was upgraded" "$old"
if grep -q 'starting from the build in' "$scratch/stderr"; then
	fail "no head start from an older package's build" "$(grep 'starting from' "$scratch/stderr")"
else
	pass "no head start from an older package's build"
fi

# --- 3. Package lists never updated -------------------------------------------

stubs=$scratch/stubs
mkdir -p "$stubs"
cat >"$stubs/dpkg-query" <<'EOF'
#!/bin/sh
# Every package but linux-source-6.1 is installed.
for last; do :; done
[ "$last" = linux-source-6.1 ] && exit 1
echo "install ok installed"
EOF
cat >"$stubs/apt-get" <<EOF
#!/bin/sh
echo "\$*" >>"$scratch/apt-get.log"
EOF
chmod +x "$stubs/dpkg-query" "$stubs/apt-get"
PATH=$stubs:$PATH "$repo/tests/deps.sh" >"$scratch/deps.out" 2>&1 || true
calls=$(cat "$scratch/apt-get.log" 2>/dev/null || true)
if [[ $(head -n 1 <<<"$calls") == *update* && $(sed -n 2p <<<"$calls") == *install*linux-source-6.1* ]]; then
	pass "deps.sh updates the package lists before it installs"
else
	fail "deps.sh updates the package lists before it installs" "apt-get was called with:
${calls:-nothing}
deps.sh said:
$(cat "$scratch/deps.out")"
fi

echo "first-run: $passed passed, $failed failed"
exit $((failed > 0))
