#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# build.sh: build (once) the debug kernel kfw's KUnit suites run on.
#
# Usage: tests/kernel/build.sh
#
# The kernel is Debian's linux-source-6.1, configured as x86_64 tinyconfig
# with tests/kernel/kfw-debug.config merged onto it. The source is extracted
# to ~/.cache/kfw/linux-source-6.1 when it is not there yet, and the kernel
# is built out of tree in ~/.cache/kfw/kernel/VERSION-FRAGMENTHASH, where
# VERSION is the source's kernel and Debian package version. A second run
# with the same source and fragment finds the finished build and only prints
# its path.
#
# The build directory holds:
#   arch/x86/boot/bzImage  the kernel to boot
#   modroot/lib/modules/V  its modules, modules.dep and modules.builtin
#   Module.symvers, ...    what `make -C DIR M=...` needs for external modules
#   build.log              the compiler's output
#
# Progress goes to stderr; the last line on stdout is the build directory.
# Only the three newest builds are kept.
# Environment: KFW_KERNEL_JOBS (make -j, default 2).

set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
cache=${XDG_CACHE_HOME:-$HOME/.cache}/kfw
fragment=$here/kfw-debug.config
package=linux-source-6.1
tarball=/usr/src/$package.tar.xz
src=$cache/$package
jobs=${KFW_KERNEL_JOBS:-2}

# Bump when the way the kernel is configured or built changes, so that older
# builds are not reused.
recipe=1

say() {
	echo "build.sh: $*" >&2
}

die() {
	say "$*"
	exit 1
}

kmake() {
	nice -n 10 make -C "$src" O="$out" ARCH=x86_64 "$@"
}

# The options the fragment sets (CONFIG_X=v) or unsets (# CONFIG_X is not
# set), one "CONFIG_X=v" or "# CONFIG_X is not set" line each.
fragment_options() {
	grep -E '^(CONFIG_[A-Za-z0-9_]+=|# CONFIG_[A-Za-z0-9_]+ is not set$)' "$1"
}

option_name() {
	sed -E 's/^(# )?(CONFIG_[A-Za-z0-9_]+).*/\2/' <<<"$1"
}

# --- The source -----------------------------------------------------------

if [[ ! -f $tarball ]]; then
	say "no $tarball, installing the build dependencies"
	"$repo/tests/deps.sh" >&2
fi
[[ -f $tarball ]] || die "no $tarball: install the $package package"
deb_version=$(dpkg-query -W -f='${Version}' "$package" 2>/dev/null) ||
	die "the $package package is not installed"

mkdir -p "$cache/kernel"
exec 9>"$cache/kernel/.lock"
if ! flock -n 9; then
	say "waiting for another build.sh to finish"
	flock 9
fi

if [[ ! -f $src/Makefile ]]; then
	say "extracting $tarball to $src"
	tmp=$(mktemp -d "$cache/$package.XXXXXX")
	tar -C "$tmp" -xJf "$tarball"
	[[ -f $tmp/$package/Makefile ]] || die "$tarball holds no $package/Makefile"
	rm -rf "$src"
	mv "$tmp/$package" "$src"
	rmdir "$tmp"
fi
if [[ -f $src/.config || -d $src/include/config ]]; then
	die "$src has been configured in place; out-of-tree builds need it clean (make -C $src mrproper)"
fi

kernel_version=$(make -s -C "$src" kernelversion)
hash=$(cat "$fragment" - <<<"recipe $recipe" | sha256sum | cut -c 1-12)
out=$cache/kernel/$kernel_version-$deb_version-$hash
done_stamp=$out/.kfw-build-done

if [[ -f $done_stamp && -f $out/arch/x86/boot/bzImage ]]; then
	say "reusing $out"
	echo "$out"
	exit 0
fi

log=$cache/kernel/.build-$hash.log
: >"$log"
failed() {
	say "FAIL: $1; the end of $log:"
	tail -n 40 "$log" >&2
	exit 1
}

# --- Configuration ----------------------------------------------------------

# The configuration is made apart, in a scratch tree, and only the result goes
# into the build tree: the intermediate tinyconfig would otherwise touch every
# configuration header there and make the build start from nothing.
configured=$out/.kfw-configured
if [[ ! -f $configured ]]; then
	say "configuring $kernel_version ($deb_version): tinyconfig + $(basename "$fragment")"
	cfg=$(mktemp -d "$cache/kernel/.config.XXXXXX")
	make -C "$src" O="$cfg" ARCH=x86_64 tinyconfig >>"$log" 2>&1 || failed "make tinyconfig"
	"$src/scripts/kconfig/merge_config.sh" -m -O "$cfg" "$cfg/.config" "$fragment" \
		>>"$log" 2>&1 || failed "merge_config.sh"
	make -C "$src" O="$cfg" ARCH=x86_64 olddefconfig >>"$log" 2>&1 ||
		failed "make olddefconfig"

	# merge_config.sh keeps quiet about options whose dependencies are not
	# met: Kconfig simply drops them. Every option of the fragment must have
	# survived.
	dropped=()
	while IFS= read -r wanted; do
		name=$(option_name "$wanted")
		got=$(grep -E "^($name=|# $name is not set$)" "$cfg/.config" || true)
		if [[ $got != "$wanted" ]]; then
			dropped+=("$name (wanted '$wanted', got '${got:-nothing}')")
		fi
	done < <(fragment_options "$fragment")
	if [[ ${#dropped[@]} -gt 0 ]]; then
		say "FAIL: Kconfig did not keep these options of $(basename "$fragment"):"
		printf '    %s\n' "${dropped[@]}" >&2
		mv -f "$cfg/.config" "$cache/kernel/rejected-$hash.config"
		rm -rf "$cfg"
		die "fix their dependencies in the fragment (see $cache/kernel/rejected-$hash.config)"
	fi

	# A finished build of the same source is a head start: make then only
	# rebuilds what the new configuration changes.
	# shellcheck disable=SC2012 # our own directory names, newest first
	seed=$(ls -1t "$cache/kernel/$kernel_version-$deb_version-"*/.kfw-build-done 2>/dev/null |
		head -n 1)
	seed=${seed%/.kfw-build-done}
	if [[ ! -d $out && -n $seed ]]; then
		say "starting from the build in $seed"
		rm -rf "$out.seed"
		cp -a "$seed" "$out.seed"
		rm -rf "$out.seed/.kfw-build-done" "$out.seed/modroot" "$out.seed/build.log"
		# objtool's build records absolute paths: a changed one would
		# rebuild objtool, and with it every object.
		grep -rlZ --include='.*.cmd' "$seed" "$out.seed/tools" |
			xargs -0 -r sed -i "s|$seed|$out|g"
		mv "$out.seed" "$out"
	fi
	mkdir -p "$out"
	cp "$cfg/.config" "$out/.config"
	rm -rf "$cfg"
	touch "$configured"
fi
cat "$log" >"$out/build.log"
rm -f "$log"
log=$out/build.log

# --- Build ------------------------------------------------------------------

say "building bzImage and modules in $out with make -j$jobs (log: $log)"
started=$(date +%s)
kmake -j"$jobs" bzImage modules >>"$log" 2>&1 || failed "the kernel build"
rm -rf "$out/modroot"
kmake INSTALL_MOD_PATH="$out/modroot" modules_install >>"$log" 2>&1 ||
	failed "make modules_install"
touch "$done_stamp"
say "built $kernel_version in $(($(date +%s) - started)) s"

# Builds for older fragments or sources pile up (400 MB each): keep three.
# shellcheck disable=SC2012 # our own directory names, newest first
ls -1dt "$cache"/kernel/*/ | tail -n +4 | while read -r old; do
	say "removing the old build ${old%/}"
	rm -rf "$old"
done
echo "$out"
