#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# run-vm.sh: boot a throwaway VM with kfw in it and run one test script there.
#
# Usage: tests/vm/run-vm.sh [OPTION]... SCRIPT [ARG]...
#        tests/vm/run-vm.sh [OPTION]... --interactive [SCRIPT [ARG]...]
#
#   --kernel VMLINUZ  kernel to boot (default: the stock cloud kernel that
#                     tests/deps.sh resolves)
#   --modules DIR     its modules (default: /lib/modules/VERSION, the version
#                     being read from the kernel image itself)
#   --ko PATH         a module of ours to ship, repeatable (default: kmod/kfw.ko)
#   --fwctl PATH      the fwctl to ship (default: ctl/fwctl)
#   --module NAME     one more kernel module to ship, with its dependencies
#   --file PATH       a file or directory to ship at the same path, repeatable;
#                     an executable goes with the shared libraries it needs
#                     (not under /tmp, /run, /dev, /proc or /sys: /init mounts
#                     over those)
#   --quiet           no boot messages on the console, only the script's output
#                     (the kernel's complaints still fail the run)
#   --interactive     load kfw, run SCRIPT if given, then give a shell on the
#                     console (leave it with "exit", or Ctrl-A x)
#
# The host kernel here cannot load modules and there is no KVM, so the VM is
# qemu under TCG with no network device at all: every test builds its own
# network out of namespaces and veth pairs inside the VM.
#
# The initramfs is built afresh for each run in a private directory under
# $KFW_CACHE (default ${XDG_CACHE_HOME:-~/.cache}/kfw), from busybox-static, the real iproute2 `ip`,
# fwctl and the shared libraries these two need, kfwprobe (built here), our
# modules and those of the kernel's modules they and the tests need. Its /init
# mounts the usual file systems, runs SCRIPT, prints "KFW-VM-EXIT=<status>" on
# the console and powers off.
#
# This script exits with SCRIPT's status. It fails instead when the VM never
# reports a status (a hang, a panic, a timeout) or when the console shows a
# kernel warning, a bug, a leak or a lockdep splat. The console log is kept and
# its path printed last.
#
# Environment: KFW_VM_TIMEOUT (seconds, default 600; give a debug kernel more),
# KFW_VM_MEMORY (default 1G), KFW_VM_CPUS (default 2), KFW_VM_ICOUNT (qemu's
# -icount option, e.g. "shift=0": the guest's clock then counts executed
# instructions, one per nanosecond, so guest timings no longer depend on how
# busy the host is; it needs KFW_VM_CPUS=1).

# shellcheck source=tests/strict.sh
. "$(dirname "${BASH_SOURCE[0]}")/../strict.sh"

# The whole script is one block, read before it runs: a file that changes
# under a run of several minutes (an edit, a checkout) cannot derail it.
{

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
cache=${KFW_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/kfw}
timeout=${KFW_VM_TIMEOUT:-600}
memory=${KFW_VM_MEMORY:-1G}
cpus=${KFW_VM_CPUS:-2}
icount=${KFW_VM_ICOUNT:-}

# bad_console and console_complaints: what fails a run on the console.
# shellcheck source=tests/vm/complaints.sh
. "$here/complaints.sh"

# Kernel modules the tests need besides ours and their dependencies.
kernel_modules=(veth)

die() {
	echo "run-vm.sh: $*" >&2
	exit 2
}

usage() {
	sed -n '4,/Ctrl-A x/s/^# \{0,1\}//p' "${BASH_SOURCE[0]}" >&2
	exit 2
}

kernel='' modules='' fwctl='' interactive=0 quiet=0 kos=() files=()
while [[ $# -gt 0 ]]; do
	case $1 in
	--kernel) kernel=${2:?}; shift 2 ;;
	--modules) modules=${2:?}; shift 2 ;;
	--ko) kos+=("${2:?}"); shift 2 ;;
	--fwctl) fwctl=${2:?}; shift 2 ;;
	--module) kernel_modules+=("${2:?}"); shift 2 ;;
	--file) files+=("$(realpath -s "${2:?}")"); shift 2 ;;
	--interactive) interactive=1; shift ;;
	--quiet) quiet=1; shift ;;
	-h|--help) usage ;;
	--) shift; break ;;
	-*) die "unknown option '$1'" ;;
	*) break ;;
	esac
done
if [[ $# -eq 0 && $interactive -eq 0 ]]; then
	usage
fi
script=${1:-}
[[ $# -gt 0 ]] && shift
[[ -z $script || -f $script ]] || die "no script '$script'"

# The version string a bzImage carries: setup header field kernel_version
# (offset 0x20e) points at it, relative to 0x200.
image_version() {
	local magic offset
	magic=$(dd if="$1" bs=1 skip=514 count=4 status=none)
	[[ $magic == HdrS ]] || die "$1 is not a bzImage"
	offset=$(od -An -tu2 -j526 -N2 "$1" | tr -d ' ')
	dd if="$1" bs=1 skip=$((offset + 512)) count=256 status=none | tr '\0' '\n' | head -n 1 | cut -d ' ' -f 1
}

if [[ -z $kernel ]]; then
	kernel=/boot/vmlinuz-$("$repo/tests/deps.sh" --kernel-version)
fi
[[ -r $kernel ]] || die "cannot read the kernel '$kernel'"
version=$(image_version "$kernel")
[[ -n $version ]] || die "cannot read the version of '$kernel'"
modules=${modules:-/lib/modules/$version}

# Our modules and fwctl: given ones must exist; the defaults may be missing
# while they are being written, and the script then runs without them.
if [[ ${#kos[@]} -eq 0 ]]; then
	if [[ -f $repo/kmod/kfw.ko ]]; then
		kos=("$repo/kmod/kfw.ko")
	else
		echo "run-vm.sh: warning: no kmod/kfw.ko, booting without it" >&2
	fi
fi
for ko in "${kos[@]}"; do
	[[ -f $ko ]] || die "no module '$ko'"
	built_for=$(modinfo -F vermagic "$ko" | cut -d ' ' -f 1)
	[[ $built_for == "$version" ]] ||
		die "$ko was built for $built_for, the kernel is $version"
done
if [[ -z $fwctl ]]; then
	fwctl=$repo/ctl/fwctl
	if [[ ! -x $fwctl ]]; then
		echo "run-vm.sh: warning: no ctl/fwctl, booting without it" >&2
		fwctl=
	fi
fi
[[ -z $fwctl || -x $fwctl ]] || die "no executable fwctl '$fwctl'"

mkdir -p "$cache/logs"
work=$(mktemp -d "$cache/run.XXXXXX")
# shellcheck disable=SC2317 # called by the trap
cleanup() {
	local status=$?
	rm -rf "$work"
	exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

root=$work/root

# --- kfwprobe, built once per source ---------------------------------------

kfwprobe=$("$here/static-program.sh" "$cache" "$here/kfwprobe.c")

# --- The initramfs --------------------------------------------------------

mkdir -p "$root"/{bin,sbin,usr/bin,usr/sbin,etc,dev,proc,sys,tmp,run,root,tests,lib64}
mkdir -p "$root/lib/modules/$version"
mkdir -p "$root/var"
ln -s ../run "$root/var/run"
chmod 1777 "$root/tmp"

# Busybox, with a link for every applet but ip: the real one is iproute2's.
cp /bin/busybox "$root/bin/busybox"
for applet in $("$root/bin/busybox" --list-full); do
	[[ $applet == */ip ]] && continue
	[[ -e $root/$applet ]] || ln -s /bin/busybox "$root/$applet"
done

# A dynamically linked program goes with the libraries ldd finds for it, at
# the paths ldd names (the loader's own path is built into the program).
install_program() {
	local program=$1 dest=$2 lib
	install -m 0755 "$program" "$root/$dest"
	# ldd fails on a static program, which needs no libraries.
	for lib in $({ ldd "$program" 2>/dev/null || true; } | awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\// { print $1 }'); do
		[[ -e $root/$lib ]] && continue
		mkdir -p "$root/$(dirname "$lib")"
		cp -L "$lib" "$root/$lib"
	done
}
install_program "$(command -v ip || echo /sbin/ip)" /sbin/ip
ln -s /sbin/ip "$root/usr/sbin/ip" 2>/dev/null || true
[[ -n $fwctl ]] && install_program "$fwctl" /usr/sbin/fwctl
install -m 0755 "$kfwprobe" "$root/usr/bin/kfwprobe"
for file in "${files[@]}"; do
	[[ -e $file ]] || die "no file '$file'"
	[[ ! $file =~ ^/(tmp|run|dev|proc|sys)(/|$) ]] || die "cannot ship '$file': /init mounts over its directory"
	mkdir -p "$root/$(dirname "$file")"
	rm -rf "${root:?}/$file"	# perhaps a link to busybox
	if [[ -d $file ]]; then
		cp -rL "$file" "$root/$file"
	elif [[ -x $file ]]; then
		install_program "$file" "$file"
	else
		cp -L "$file" "$root/$file"
	fi
done

# Kernel modules: the ones the tests need and the ones ours depend on, each
# with its own dependencies as modules.dep lists them. They are shipped
# uncompressed, so busybox's modprobe loads them whatever the kernel supports,
# and a fresh modules.dep lets `modprobe kfw` resolve the rest in the VM.
module_closure() {
	local name=$1 pattern
	pattern=${name//[-_]/[-_]}
	if [[ -f $modules/modules.builtin ]] &&
		grep -Eq "/$pattern\.ko\$" "$modules/modules.builtin"; then
		return
	fi
	[[ -f $modules/modules.dep ]] || die "no $modules/modules.dep for module $name"
	grep -E "(^|/)$pattern\.ko(\.[a-z]+)?:" "$modules/modules.dep" | tr -d ':' | tr ' ' '\n' | grep . ||
		die "module $name is neither built in nor in $modules"
}

wanted=("${kernel_modules[@]}")
for ko in "${kos[@]}"; do
	IFS=, read -ra deps <<<"$(modinfo -F depends "$ko")"
	wanted+=("${deps[@]}")
	# Soft dependencies ("pre: ts_kmp nf_log_syslog") are loaded by name.
	read -ra deps <<<"$(modinfo -F softdep "$ko" | sed 's/\(pre\|post\)://g')"
	wanted+=("${deps[@]}")
done
for name in "${wanted[@]}"; do
	[[ -n $name ]] && module_closure "$name"
done | sort -u | while read -r path; do
	target=$root/lib/modules/$version/${path%.[gx]z}
	target=${target%.zst}
	mkdir -p "$(dirname "$target")"
	case $path in
	*.ko) cp "$modules/$path" "$target" ;;
	*.ko.xz) xz -dc "$modules/$path" >"$target" ;;
	*.ko.gz) gzip -dc "$modules/$path" >"$target" ;;
	*.ko.zst) zstd -qdc "$modules/$path" >"$target" ;;
	*) die "unknown module file '$path'" ;;
	esac
done
if [[ ${#kos[@]} -gt 0 ]]; then
	mkdir -p "$root/lib/modules/$version/extra"
	cp "${kos[@]}" "$root/lib/modules/$version/extra/"
fi
for file in modules.builtin modules.builtin.modinfo modules.order; do
	[[ -f $modules/$file ]] && cp "$modules/$file" "$root/lib/modules/$version/"
done
depmod -b "$root" "$version"

# The tests: every shell file next to this one, the parts of language.sh,
# and SCRIPT itself.
cp "$here"/*.sh "$root/tests/"
mkdir -p "$root/tests/language"
cp "$here"/language/*.sh "$root/tests/language/" 2>/dev/null || true
if [[ -n $script ]]; then
	cp "$script" "$root/tests/$(basename "$script")"
	script=/tests/$(basename "$script")
fi

printf 'root:x:0:0:root:/root:/bin/sh\nuser:x:1000:1000:unprivileged tester:/tmp:/bin/sh\n' >"$root/etc/passwd"
printf 'root:x:0:\nuser:x:1000:\n' >"$root/etc/group"
touch "$root/etc/fstab"

# What /init runs, as shell assignments it sources.
quote() { printf "'%s' " "${@//\'/\'\\\'\'}"; }
{
	echo "script=$(quote "$script")"
	echo "interactive=$interactive"
	echo "limit=$((timeout > 120 ? timeout - 60 : timeout / 2))"
	echo "bad_console=$(quote "$bad_console")"
	echo "set -- $(quote "$@")"
} >"$root/etc/kfw-vm.conf"

cat >"$root/init" <<'EOF'
#!/bin/sh
# /init of the kfw test VM: set up, run the script, report, power off.
export PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root
mount -t devtmpfs dev /dev
exec </dev/console >/dev/console 2>&1
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t tmpfs tmp /tmp
mount -t tmpfs run /run
mkdir -p /dev/pts /dev/shm
mount -t devpts devpts /dev/pts
mount -t debugfs debugfs /sys/kernel/debug 2>/dev/null
hostname kfw-vm
/sbin/ip link set lo up
. /etc/kfw-vm.conf
cd /tests

echo "kfw-vm: kernel $(uname -r), $(nproc) cpus, booted in $(cut -d ' ' -f 1 /proc/uptime) s"
status=0
if [ "$interactive" = 1 ]; then
	modprobe kfw && echo "kfw-vm: kfw loaded"
	[ -n "$script" ] && sh "$script" "$@"
	echo "kfw-vm: Ctrl-A x or 'exit' powers off"
	setsid cttyhack sh -l
elif [ -n "$script" ]; then
	# Stop a hung script while there is time left to say where it hangs.
	timeout -k 10 "$limit" sh "$script" "$@"
	status=$?
	if [ "$status" -eq 143 ] || [ "$status" -eq 137 ]; then
		echo "kfw-vm: $script was stopped after $limit s; blocked tasks:"
		echo w >/proc/sysrq-trigger
	fi
fi

# A kernel with kmemleak gets a scan before the report: suspects are printed
# on the console, where the host looks for them.
if [ -w /sys/kernel/debug/kmemleak ]; then
	echo scan >/sys/kernel/debug/kmemleak
	sleep 5
	echo scan >/sys/kernel/debug/kmemleak
	sed 's/^/kfw-vm: kmemleak: /' /sys/kernel/debug/kmemleak
fi

# A quiet console, or a script that turned it down, hides what the kernel
# says: if it complained, its whole log goes to the console after all.
if dmesg | grep -qE "$bad_console"; then
	echo "kfw-vm: the kernel complained; its log follows"
	dmesg | sed 's/^/kfw-vm: kernel log: /'
fi

echo "kfw-vm: finished in $(cut -d ' ' -f 1 /proc/uptime) s"
echo "KFW-VM-EXIT=$status"
sync
poweroff -f
reboot -f
EOF
chmod 0755 "$root/init"

initramfs=$work/initramfs.cpio
(cd "$root" && find . -mindepth 1 | LC_ALL=C sort | cpio --quiet -o -H newc -R 0:0) >"$initramfs"

# --- Boot -----------------------------------------------------------------

quiet_kernel=
[[ $quiet -eq 0 ]] || quiet_kernel=" quiet"
qemu=(
	qemu-system-x86_64
	-accel tcg
	-cpu max
	-m "$memory"
	-smp "$cpus"
	-nodefaults
	-nic none
	-no-reboot
	-display none
	-kernel "$kernel"
	-initrd "$initramfs"
	-append "console=ttyS0 panic=-1 printk.devkmsg=on printk.time=1${quiet_kernel}"
	${icount:+-icount "$icount"}
)

if [[ $interactive -eq 1 ]]; then
	"${qemu[@]}" -serial mon:stdio
	exit
fi

name=$(basename "${script:-boot}" .sh)
log=$cache/logs/$name-$(date +%Y%m%d-%H%M%S)-$$.log
started=$(date +%s)
set +e
timeout --foreground -k 10 "$timeout" "${qemu[@]}" -serial stdio </dev/null 2>&1 | tee "$log"
qemu_status=${PIPESTATUS[0]}
set -e
elapsed=$(($(date +%s) - started))

status=$(tr -d '\r' <"$log" | sed -n 's/.*KFW-VM-EXIT=\([0-9][0-9]*\)$/\1/p' | tail -n 1)
if [[ -z $status ]]; then
	if [[ $qemu_status -eq 124 ]]; then
		echo "run-vm.sh: FAIL: the VM did not finish within ${timeout}s" >&2
	else
		echo "run-vm.sh: FAIL: the VM stopped (qemu status $qemu_status) without reporting a status" >&2
	fi
	status=1
fi

# Logs of earlier runs pile up; keep the newest 30.
find "$cache/logs" -name '*.log' -printf '%T@ %p\n' | sort -rn | tail -n +31 | cut -d ' ' -f 2- | xargs -r rm -f

if console_complaints "$log" >"$work/bad"; then
	echo "run-vm.sh: FAIL: the kernel complained on the console:" >&2
	head -n 20 "$work/bad" | tr -d '\r' | sed 's/^/    /' >&2
	[[ $status -ne 0 ]] || status=1
fi

echo "run-vm.sh: $name exited $status after ${elapsed}s; log: $log"
exit "$status"
}
