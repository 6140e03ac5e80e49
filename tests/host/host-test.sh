#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# host-test.sh: kfw's Debian packages on a booted Debian system, as an
# administrator meets them: install, boot, reload, stop, reboot, kernel
# update, purge.
#
# Usage: tests/host/host-test.sh [--smoke] --deb PATH [--deb PATH]...
#
#   --smoke   leave out the kernel update and the boot of the new kernel
#             (a dkms build, an initramfs and a boot under TCG: half the time)
#
# The system is the bookworm image of tests/host/image.sh (built once and
# cached), booted under qemu (TCG) from a qcow2 overlay of this run, so the
# cached image stays as it was built. A second, small disk made for the run
# carries the debs, tests/host/guest.sh and what it needs to know; the
# image's kfw-host-test.service runs guest.sh from there once the system is
# up. guest.sh installs the debs with apt, then walks the scenarios over
# several boots, printing "ok - ..." and "not ok - ..." lines on the serial
# console. qemu runs with -no-reboot, so each reboot of the guest ends qemu,
# and this script starts it again on the same disks, on the kernel the guest
# asked for (see guest.sh's KFW-HOST-NEXT).
#
# The debs are installed in the booted guest, not in a chroot at image
# time: dkms then builds for the running kernel from the packages' own
# scripts, as on a host, at the price of compiling under TCG (about a
# minute; 6 s natively in a chroot). The kernel update covers the other case,
# dkms building for a kernel installed but not running.
#
# The guest's test lines are printed as they come; the whole console of
# each boot is kept under $KFW_CACHE/logs. A boot fails the run when it does
# not finish in time, stops without saying what follows, or shows a kernel
# complaint on the console (tests/vm/complaints.sh). The last line is
# "host-test: N passed, N failed"; the exit status is non-zero on a failure.
#
# Environment: KFW_HOST_BOOT_TIMEOUT (seconds for one boot, default 1800:
# one boot may compile kfw and install a kernel under TCG), KFW_VM_MEMORY (default 1G),
# KFW_VM_CPUS (default 2), KFW_CACHE (logs and the run's disks, default
# ${XDG_CACHE_HOME:-~/.cache}/kfw), KFW_KERNEL_CACHE (the image, see image.sh).

# shellcheck source=tests/strict.sh
. "$(dirname "${BASH_SOURCE[0]}")/../strict.sh"

{

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=tests/vm/complaints.sh
. "$here/../vm/complaints.sh"
cache=${KFW_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/kfw}
boot_timeout=${KFW_HOST_BOOT_TIMEOUT:-1800}
memory=${KFW_VM_MEMORY:-1G}
cpus=${KFW_VM_CPUS:-2}
# More boots than guest.sh's phases, so that a guest that keeps rebooting
# ends the run.
max_boots=6

die() {
	echo "host-test.sh: $*" >&2
	exit 2
}

usage() {
	sed -n '8,11s/^# \{0,1\}//p' "${BASH_SOURCE[0]}" >&2
	exit 2
}

debs=() smoke=0
while [[ $# -gt 0 ]]; do
	case $1 in
	--deb) debs+=("${2:?}"); shift 2 ;;
	--smoke) smoke=1; shift ;;
	-h|--help) usage ;;
	*) die "unknown argument '$1'" ;;
	esac
done
[[ ${#debs[@]} -gt 0 ]] || usage
for deb in "${debs[@]}"; do
	[[ -f $deb ]] || die "no deb '$deb'"
	dpkg-deb --info "$deb" >/dev/null || die "'$deb' is not a deb"
done

started=$SECONDS
image=$("$here/image.sh")
echo "host-test: image $image ($((SECONDS - started)) s)"

mkdir -p "$cache/logs"
work=$(mktemp -d "$cache/host-test.XXXXXX")
trap 'rm -rf "$work"' EXIT
trap 'exit 130' INT TERM HUP

qemu-img create -q -f qcow2 -b "$image/root.img" -F raw "$work/root.qcow2"

# The data disk: room for the debs, and for the new kernel and initramfs the
# guest leaves there for the last boot.
mkdir -p "$work/data/debs"
cp "${debs[@]}" "$work/data/debs/"
cp "$here/guest.sh" "$work/data/"
quote() { printf "'%s' " "${@//\'/\'\\\'\'}"; }
{
	echo "bad_console=$(quote "$bad_console")"
	echo "new_kernel=$(cat "$image/new-kernel-version")"
	echo "smoke=$smoke"
} >"$work/data/host.conf"
data_mb=$(($(du -sm "$work/data" | cut -f 1) + 256))
truncate -s "${data_mb}M" "$work/data.img"
mke2fs -q -t ext4 -L kfw-test -d "$work/data" "$work/data.img"

kernel=$image/vmlinuz initrd=$image/initrd version=$(cat "$image/kernel-version")
passed=0 failed=0 next=boot boot=0
stamp=$(date +%Y%m%d-%H%M%S)
while [[ $next != end ]]; do
	boot=$((boot + 1))
	if [[ $boot -gt $max_boots ]]; then
		echo "not ok - the guest still reboots after $max_boots boots"
		failed=$((failed + 1))
		break
	fi
	log=$cache/logs/host-test-$stamp-$$-boot$boot.log
	echo "host-test: boot $boot, kernel $version"
	boot_started=$SECONDS
	set +e
	timeout --foreground -k 10 "$boot_timeout" \
		qemu-system-x86_64 -accel tcg -machine q35 -cpu max -m "$memory" -smp "$cpus" \
		-nodefaults -nic none -no-reboot -display none -serial stdio \
		-kernel "$kernel" -initrd "$initrd" \
		-append "root=/dev/vda rw console=ttyS0 panic=-1 printk.time=1" \
		-drive "file=$work/root.qcow2,if=virtio,format=qcow2" \
		-drive "file=$work/data.img,if=virtio,format=raw" \
		</dev/null 2>&1 | sed -u 's/\r$//' | tee "$log" |
		grep --line-buffered -aE '^(ok|not ok|#|kfw-host:) '
	qemu_status=${PIPESTATUS[0]}
	set -e
	echo "host-test: boot $boot took $((SECONDS - boot_started)) s; log: $log"

	passed=$((passed + $(grep -ac '^ok ' "$log" || true)))
	failed=$((failed + $(grep -ac '^not ok ' "$log" || true)))
	if console_complaints "$log" >"$work/bad"; then
		echo "not ok - boot $boot: the kernel complained on the console"
		head -n 20 "$work/bad" | sed 's/^/#   /'
		failed=$((failed + 1))
	fi
	next=$(sed -n 's/^KFW-HOST-NEXT=\([a-z]*\)$/\1/p' "$log" | tail -n 1)
	case $next in
	boot) ;;
	kernel)
		for file in vmlinuz initrd; do
			debugfs -R "dump /next/$file $work/$file" "$work/data.img" 2>/dev/null
			[[ -s $work/$file ]] || die "the guest left no next/$file on the data disk"
		done
		kernel=$work/vmlinuz initrd=$work/initrd version=$(cat "$image/new-kernel-version")
		;;
	end) ;;
	*)
		if [[ $qemu_status -eq 124 ]]; then
			echo "not ok - boot $boot did not finish within $boot_timeout s"
		else
			echo "not ok - boot $boot stopped (qemu status $qemu_status) without saying what follows"
		fi
		failed=$((failed + 1))
		next=end
		;;
	esac
done

# Logs of earlier runs pile up; keep the newest 30.
find "$cache/logs" -name '*.log' -printf '%T@ %p\n' | sort -rn | tail -n +31 | cut -d ' ' -f 2- | xargs -r rm -f

echo "host-test: $boot boots in $((SECONDS - started)) s"
echo "host-test: $passed passed, $failed failed"
[[ $failed -eq 0 ]] || exit 1
exit 0
}
