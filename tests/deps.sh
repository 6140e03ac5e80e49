#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# deps.sh: install the Debian packages that building kfw and running its tests
# need, then say which kernel the tests boot.
#
#   tests/deps.sh                  install what is missing, print the kernel version
#   tests/deps.sh --bench          the same, with what `make bench` needs besides
#                                  (DPDK's dpdk-test-acl, the classifier's anchor)
#   tests/deps.sh --deb            install only what `make deb` needs (Debian's
#                                  packaging tools, lintian, fwctl's build
#                                  dependencies); no kernel
#   tests/deps.sh --host           install only what `make host-test` needs
#                                  (qemu, mmdebstrap for its Debian image,
#                                  qemu-img); no kernel
#   tests/deps.sh --kernel-version print the kernel version only, install nothing
#
# The kernel is Debian's stock "cloud" kernel: the newest version for which
# both /boot/vmlinuz-VERSION and the matching linux-headers-VERSION are
# installed, so that the module built against those headers loads in the VM
# that boots that image. Nothing is installed, and nothing but that one line is
# printed, when every package is already there.

set -e

packages="
	linux-image-cloud-amd64
	linux-headers-cloud-amd64
	qemu-system-x86
	busybox-static
	iptables
	nftables
	iproute2
	libmnl-dev
	libcmocka-dev
	pkg-config
	cpio
	kmod
	gcc
	libc6-dev
	make
	linux-source-6.1
	flex
	bison
	bc
	libelf-dev
	libssl-dev
	xz-utils
	rsync
	python3
	clang
	libclang-rt-14-dev
	valgrind
"
bench_packages="
	dpdk-dev
"
deb_packages="
	dpkg-dev
	debhelper
	dh-dkms
	lintian
	libmnl-dev
	pkgconf
	gcc
	libc6-dev
	make
"
host_packages="
	qemu-system-x86
	qemu-utils
	mmdebstrap
	e2fsprogs
"

# The newest cloud kernel whose image and headers are both installed.
kernel_version() {
	for headers in /usr/src/linux-headers-*-cloud-amd64; do
		version=${headers#/usr/src/linux-headers-}
		[ -f "$headers/Makefile" ] && [ -f "/boot/vmlinuz-$version" ] && echo "$version"
	done | sort -V | tail -n 1
}

installed() {
	dpkg-query -W -f='${Status}\n' "$1" 2>/dev/null | grep -q '^install ok installed$'
}

if [ "$1" = "--kernel-version" ]; then
	version=$(kernel_version)
	[ -n "$version" ] || { echo "$0: no cloud kernel with matching headers is installed" >&2; exit 1; }
	echo "$version"
	exit 0
elif [ "$1" = "--bench" ]; then
	packages="$packages $bench_packages"
elif [ "$1" = "--deb" ]; then
	packages=$deb_packages
elif [ "$1" = "--host" ]; then
	packages=$host_packages
elif [ $# -ne 0 ]; then
	echo "Usage: $0 [--bench | --deb | --host | --kernel-version]" >&2
	exit 2
fi

missing=
for package in $packages; do
	installed "$package" || missing="$missing $package"
done

if [ -n "$missing" ]; then
	echo "$0: installing$missing"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	# shellcheck disable=SC2086 # one word per package
	apt-get install -y -qq --no-install-recommends $missing >/dev/null
fi
case $1 in --deb|--host) exit 0 ;; esac

version=$(kernel_version)
if [ -z "$version" ]; then
	echo "$0: no cloud kernel has both /boot/vmlinuz-VERSION and linux-headers-VERSION" >&2
	exit 1
fi
echo "kernel: $version"
