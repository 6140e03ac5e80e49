#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# image.sh: a minimal Debian bookworm system with systemd, as a raw ext4 disk
# image that tests/host/host-test.sh boots, built once and cached.
#
# Usage: tests/host/image.sh    build the image unless cached; print its directory
#
# The directory, ${KFW_KERNEL_CACHE:-${XDG_CACHE_HOME:-~/.cache}/kfw}/host-image-KEY/,
# keyed by this script's hash (which holds the package list), has:
#   root.img          the root file system (ext4, sparse), never written by a
#                     run: each run boots a qcow2 overlay on it
#   vmlinuz, initrd   the installed kernel and its initramfs, to boot with
#                     qemu's -kernel and -initrd (the image has no bootloader)
#   kernel-version    that kernel's version (an older ABI than the newest)
#   new-kernel-version  the version a "kernel update" in the guest installs
#
# The kernel is an older ABI of Debian's cloud kernel, with its headers, dkms
# and a compiler, so that kfw-dkms builds in the guest as on a real host.
# The newest ABI (linux-image-cloud-amd64 and linux-headers-cloud-amd64 and
# what they need) waits in a local apt repository in the image, the only
# source its apt knows: the guest has no network, and `apt-get install
# linux-image-cloud-amd64` there is then the usual kernel update, after which
# dkms must build kfw for the new kernel.
#
# The image is built in a temporary directory beside the cache entry and
# renamed into place when complete, so an interrupted build leaves nothing
# that a later run would take for an image.
#
# Environment: KFW_HOST_OLD_ABI (default 6.1.0-56): the ABI the image boots.

# shellcheck source=tests/strict.sh
. "$(dirname "${BASH_SOURCE[0]}")/../strict.sh"

{

old_abi=${KFW_HOST_OLD_ABI:-6.1.0-56}
flavour=cloud-amd64

packages=(
	systemd
	systemd-sysv
	udev
	dbus
	kmod
	initramfs-tools
	zstd
	e2fsprogs
	"linux-image-$old_abi-$flavour"
	"linux-headers-$old_abi-$flavour"
	dkms
	gcc
	make
	libc6-dev
	libmnl0
	iproute2
	iputils-ping
	procps
)

# The mirrors of the host's own sources, in one-line form.
mirrors=(
	"deb http://deb.debian.org/debian bookworm main"
	"deb http://deb.debian.org/debian bookworm-updates main"
	"deb http://deb.debian.org/debian-security bookworm-security main"
)

# Where the newer kernel waits in the image, for the guest's apt.
local_repo=/var/local/kfw-kernel-update

die() {
	echo "image.sh: $*" >&2
	exit 2
}

# Runs inside mmdebstrap, after the packages are installed, with the new root
# as $1: everything the image has besides its packages.
customize() {
	local root=$1 new_abi
	chroot "$root" apt-get clean
	chroot "$root" apt-get install -y -qq --download-only linux-image-$flavour linux-headers-$flavour >/dev/null
	new_abi=$(chroot "$root" apt-cache depends linux-image-$flavour |
		sed -n "s/^ *Depends: linux-image-\(.*\)-$flavour\$/\1/p" | head -n 1)
	[[ -n $new_abi && $new_abi != "$old_abi" ]] ||
		die "linux-image-$flavour depends on ABI '$new_abi', not one newer than $old_abi"
	mkdir -p "$root$local_repo"
	mv "$root"/var/cache/apt/archives/*.deb "$root$local_repo/"
	chroot "$root" dpkg-scanpackages "$local_repo" /dev/null 2>/dev/null |
		sed "s|^Filename: $local_repo/|Filename: ./|" >"$root$local_repo/Packages"
	# The guest's apt as a host's is, with the recommends this build left out.
	rm -f "$root"/etc/apt/sources.list.d/* "$root/etc/apt/sources.list" "$root/etc/apt/apt.conf.d/99mmdebstrap"
	echo "deb [trusted=yes] file:$local_repo ./" >"$root/etc/apt/sources.list"
	echo "$new_abi-$flavour" >"$root/etc/kfw-host-test-new-kernel"

	# dpkg's fsyncs cost much under TCG and protect against nothing in a
	# throwaway disk; everything else of apt and dkms stays as on a host.
	echo force-unsafe-io >"$root/etc/dpkg/dpkg.cfg.d/kfw-host-test"

	echo kfw-host >"$root/etc/hostname"
	printf '127.0.0.1\tlocalhost\n127.0.1.1\tkfw-host\n::1\t\tlocalhost\n' >"$root/etc/hosts"
	echo '/dev/vda / ext4 rw,errors=remount-ro 0 1' >"$root/etc/fstab"

	# The test driver: the script on the second disk that host-test.sh makes
	# for each run, started once the system is up, its output on the serial
	# console where the host reads it. A driver that fails before it reboots
	# or powers off powers off all the same, so the host need not wait for
	# its timeout to learn it.
	cat >"$root/etc/systemd/system/kfw-host-test.service" <<'EOF'
[Unit]
Description=kfw host test driver (tests/host/guest.sh)
After=multi-user.target
ConditionPathExists=/dev/vdb
FailureAction=poweroff

[Service]
Type=oneshot
ExecStartPre=/bin/mkdir -p /run/kfw-test
ExecStartPre=/bin/mount /dev/vdb /run/kfw-test
ExecStart=/bin/bash /run/kfw-test/guest.sh
StandardOutput=tty
StandardError=inherit
TTYPath=/dev/ttyS0
TimeoutStartSec=infinity

[Install]
WantedBy=multi-user.target
EOF
	chroot "$root" systemctl enable -q kfw-host-test.service systemd-networkd.service
	# A getty on the serial console would hang the line up under the
	# driver's output; timers would run apt beside the tests' apt.
	chroot "$root" systemctl mask -q serial-getty@ttyS0.service getty@tty1.service \
		apt-daily.timer apt-daily-upgrade.timer
}

if [[ ${1:-} == --customize ]]; then
	customize "$2"
	exit
fi
[[ $# -eq 0 ]] || die "usage: $0"

cache=${KFW_KERNEL_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/kfw}
key=$( { cat "${BASH_SOURCE[0]}"; echo "$old_abi"; } | sha256sum | cut -c 1-16)
dest=$cache/host-image-$key
# The directory's time says when it was last used, for the pruning below.
if [[ -f $dest/root.img ]]; then
	touch "$dest"
	echo "$dest"
	exit 0
fi

mkdir -p "$cache"
exec 9>"$cache/host-image.lock"
flock 9
if [[ -f $dest/root.img ]]; then
	echo "$dest"
	exit 0
fi
# Leftovers of interrupted builds; the lock says none is running.
# --one-file-system: an interrupted mmdebstrap may leave /proc mounted there.
find "$cache" -maxdepth 1 -name 'host-image-*.tmp.*' -exec rm -rf --one-file-system {} +

command -v mmdebstrap >/dev/null || die "no mmdebstrap (tests/deps.sh --host installs it)"
work=$dest.tmp.$$
trap 'rm -rf --one-file-system "$work"' EXIT
trap 'exit 130' INT TERM HUP
mkdir -p "$work"

started=$SECONDS
echo "image.sh: building the bookworm image in $work (some minutes)" >&2
include=$(IFS=,; echo "${packages[*]}")
mmdebstrap --mode=root --variant=apt --quiet \
	--aptopt='APT::Install-Recommends "false"' \
	--include="$include" \
	--customize-hook="\"$(realpath "${BASH_SOURCE[0]}")\" --customize \"\$1\"" \
	bookworm "$work/root" "${mirrors[@]}" >&2

kernel_version=$old_abi-$flavour
cp "$work/root/boot/vmlinuz-$kernel_version" "$work/vmlinuz"
cp "$work/root/boot/initrd.img-$kernel_version" "$work/initrd"
echo "$kernel_version" >"$work/kernel-version"
cp "$work/root/etc/kfw-host-test-new-kernel" "$work/new-kernel-version"

# Room for what a run installs: the new kernel and its headers, kfw's sources
# and builds. The file is sparse, so the room costs nothing until used.
used_mb=$(du -sm "$work/root" | cut -f 1)
truncate -s "$((used_mb + 1536))M" "$work/root.img"
mke2fs -q -t ext4 -L kfw-root -d "$work/root" "$work/root.img"
rm -rf --one-file-system "$work/root"

mv "$work" "$dest"
trap - EXIT
# Images of other versions of this script, 750 MB each: keep the three used
# last (another work tree may be on one of them).
find "$cache" -maxdepth 1 -name 'host-image-*' ! -name '*.tmp.*' -type d -printf '%T@ %p\n' |
	sort -rn | tail -n +4 | cut -d ' ' -f 2- | xargs -r rm -rf --one-file-system
echo "image.sh: built $dest in $((SECONDS - started)) s: root.img $(du -h --apparent-size "$dest/root.img" | cut -f 1) ($(du -h "$dest/root.img" | cut -f 1) on disk)" >&2
echo "$dest"
exit 0
}
