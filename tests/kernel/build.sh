#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# build.sh: build (once) the debug kernel kfw's KUnit suites run on.
#
# Usage: tests/kernel/build.sh [--configure-only]
#
# The kernel is Debian's linux-source-6.1, configured as x86_64 tinyconfig
# with tests/kernel/kfw-debug.config merged onto it. The source is extracted
# to ~/.cache/kfw/linux-source-6.1-DEBVERSION when it is not there yet (a
# newer package is extracted afresh beside the old one), and the kernel is
# built out of tree in ~/.cache/kfw/kernel/VERSION-DEBVERSION-FRAGMENTHASH.
# A second run with the same source and fragment finds the finished build and
# only prints its path.
#
# --configure-only stops where the compiler would start: the source is
# extracted, the configuration made and checked, a finished build of the same
# source (if any) copied in as a head start, and the build directory, holding
# only .config and that head start, printed. tests/kernel/first-run.sh runs
# it in an empty cache, so that make check walks a new user's first steps
# every time.
#
# The build directory holds:
#   arch/x86/boot/bzImage  the kernel to boot
#   modroot/lib/modules/V  its modules, modules.dep and modules.builtin
#   Module.symvers, ...    what `make -C DIR M=...` needs for external modules
#   build.log              the compiler's output
#
# Progress goes to stderr, with a line a minute while the compiler runs; the
# last line on stdout is the build directory. Only the three newest builds,
# and the sources they were built from, are kept.
# Environment: KFW_KERNEL_JOBS (make -j, default 2).

# shellcheck source=tests/strict.sh
. "$(dirname "${BASH_SOURCE[0]}")/../strict.sh"

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
cache=${KFW_KERNEL_CACHE:-${KFW_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/kfw}}
fragment=$here/kfw-debug.config
package=linux-source-6.1
tarball=/usr/src/$package.tar.xz
jobs=${KFW_KERNEL_JOBS:-2}

configure_only=0
case ${1:-} in
'') ;;
--configure-only) configure_only=1 ;;
*) echo "Usage: $0 [--configure-only]" >&2; exit 2 ;;
esac

# Bump when the way the kernel is configured or built changes, so that older
# builds are not reused.
recipe=1

# What a first build compiles, links and generates, counted as the lines
# Kbuild prints ("  CC      net/core/dev.o"), for the progress lines when no
# earlier build of the same configuration left its own count.
expected_steps_default=2000

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

# Kbuild's one line per step, counted in a log.
steps_in() {
	grep -cE '^  [A-Z][A-Z0-9_]* ' "$1" || true
}

# A line a minute while make runs: how long, and how far by the count of
# steps a finished build of this configuration took.
report_progress() {
	local started=$1 expected=$2 last_report=$1 now steps percent
	while sleep 5; do
		now=$(date +%s)
		((now - last_report >= 60)) || continue
		last_report=$now
		steps=$(steps_in "$log")
		percent=$((steps * 100 / expected))
		((percent < 99)) || percent=99
		say "$(((now - started) / 60)) min: $steps of about $expected steps (~$percent%), at $(tail -n 1 "$log" | awk '{ print $NF }' | cut -c 1-60)"
	done
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

# One tree per package version: an upgraded package must not be built from
# the tree an older one left, nor under its name.
src=$cache/$package-$deb_version
if [[ ! -f $src/Makefile ]]; then
	say "extracting $tarball ($deb_version) to $src"
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
	# rebuilds what the new configuration changes. A first run has none.
	seed=
	for stamp in "$cache/kernel/$kernel_version-$deb_version-"*/.kfw-build-done; do
		[[ -f $stamp && (-z $seed || $stamp -nt $seed) ]] && seed=$stamp
	done
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

if [[ $configure_only -eq 1 ]]; then
	say "configured $out; stopping before the compiler (--configure-only)"
	echo "$out"
	exit 0
fi

# --- Build ------------------------------------------------------------------

expected=$(cat "$cache/kernel/.steps-$hash" 2>/dev/null || echo "$expected_steps_default")
say "building bzImage and modules in $out with make -j$jobs (log: $log)"
say "a first build takes 20-35 minutes on 2 cores; a line a minute follows"
started=$(date +%s)
report_progress "$started" "$expected" &
reporter=$!
build_status=0
kmake -j"$jobs" bzImage modules >>"$log" 2>&1 || build_status=$?
kill "$reporter"
wait "$reporter" 2>/dev/null || true
[[ $build_status -eq 0 ]] || failed "the kernel build"
rm -rf "$out/modroot"
kmake INSTALL_MOD_PATH="$out/modroot" modules_install >>"$log" 2>&1 ||
	failed "make modules_install"
steps_in "$log" >"$cache/kernel/.steps-$hash"
touch "$done_stamp"
say "built $kernel_version in $(($(date +%s) - started)) s, $(steps_in "$log") steps"

# Builds for older fragments or sources pile up (400 MB each): keep three,
# and the sources that one of them was built from.
# shellcheck disable=SC2012 # our own directory names, newest first
ls -1dt "$cache"/kernel/*/ | tail -n +4 | while read -r old; do
	say "removing the old build ${old%/}"
	rm -rf "$old"
done
for tree in "$cache/$package" "$cache/$package"-*/; do
	tree=${tree%/}
	[[ -d $tree ]] || continue
	used=0
	for link in "$cache"/kernel/*/source; do
		[[ -L $link && $(readlink -f "$link") == "$(readlink -f "$tree")" ]] && used=1
	done
	[[ $used -eq 1 || $tree == "$src" ]] && continue
	say "removing the unused source $tree"
	rm -rf "$tree"
done
echo "$out"
