# SPDX-License-Identifier: GPL-2.0
#
# make              kmod/kfw.ko against KDIR (default: the running kernel) and ctl/fwctl
# make demo         install what is missing, build, and show kfw at work in a VM
# make check        install what is missing, build, and run every test
# make vm           a shell in the VM with kfw loaded and fwctl on PATH
# make unit         fwctl's host unit tests only
# make classifier   the classifier's host differential test (tests/classifier/)
# make kunit        the KUnit suites on the debug kernel (built once, cached)
# make first-run    a new user's first steps, in an empty cache, up to the compiler
# make faults       changes under injected allocation failures, on the debug kernel
# make stress       long teardown and counter stress on the debug kernel (stress-smoke: short)
# make fuzz         1M fuzzed netlink messages on the debug kernel (fuzz-smoke: 50k)
# make bench        per-packet cost of kfw, iptables and nftables up to 100k rules, in the VM
# make bench-smoke  the same, quickly, as a test
# make install      the module for KVER (default: the running kernel), fwctl, its
#                   manual, bash completion, kfw.service and /etc/kfw/rules; DESTDIR,
#                   PREFIX (default /usr)
# make uninstall    remove them again (/etc/kfw/rules only if unchanged)
# make dkms-install the module's source to /usr/src/kfw-VERSION, built and installed
#                   by dkms for KVER, and for each new kernel
# make dkms-uninstall  dkms forgets kfw for all kernels, and the source goes
# make deb          the Debian packages fwctl and kfw-dkms, in BUILD_DEB_DIR
#                   (default ~/.cache/kfw/deb)
# make host-test    the packages of make deb on a booted Debian system: boot, reload,
#                   reboot, kernel update, purge (DEBS="A.deb B.deb": those instead)
# make host-test-smoke  the same without the kernel update
# make clean

KVER ?= $(shell uname -r)
KDIR ?= /lib/modules/$(KVER)/build
PREFIX ?= /usr
DEPMOD ?= /sbin/depmod
MODINFO ?= /sbin/modinfo
VERSION := $(shell sed -n 's/.*FWCTL_VERSION[^"]*"\([^"]*\)".*/\1/p' ctl/version.h)

# The kernel the VM boots: Debian's stock cloud kernel, resolved once the
# packages are installed (hence the recursive make in the targets below).
STOCK_KVER = $(shell tests/deps.sh --kernel-version)
STOCK_KDIR = /lib/modules/$(STOCK_KVER)/build
STOCK_KERNEL = /boot/vmlinuz-$(STOCK_KVER)

VM = tests/vm/run-vm.sh --module ts_kmp

all: module fwctl

# modpost writes kmod/kfw.mod.c, which is not ours and not kernel style;
# it is written afresh on every build, so it need not stay among the sources.
module:
	$(MAKE) -C $(KDIR) M=$(CURDIR) modules
	rm -f kmod/*.mod.c

fwctl:
	$(MAKE) -C ctl

deps:
	tests/deps.sh

unit:
	$(MAKE) -C tests/unit

# The classifier against its linear reference, on the host (tests/classifier/).
classifier:
	$(MAKE) -C tests/classifier test

# Everything the VM runs is built against the stock kernel's headers.
stock-build:
	$(MAKE) KDIR=$(STOCK_KDIR) module fwctl

# The VM suites, on the stock kernel and on the debug kernel.
SUITES = integration stateful userns language

$(SUITES): stock-build
	$(VM) --kernel $(STOCK_KERNEL) --quiet tests/vm/$@.sh

$(SUITES:%=%-debug): fwctl
	tests/kernel/debug-vm.sh tests/vm/$(@:%-debug=%).sh

kunit:
	tests/kernel/kunit.sh

first-run:
	tests/kernel/first-run.sh

faults: fwctl
	tests/kernel/debug-vm.sh tests/vm/faults.sh

stress stress-smoke: fwctl
	tests/kernel/debug-vm.sh tests/vm/stress.sh $(if $(filter stress,$@),long,short)

fuzz fuzz-smoke: fwctl
	tests/vm/fuzz-run.sh $(if $(filter fuzz,$@),1000000,50000)

check: deps
	tests/check.sh unit classifier first-run kunit bench-smoke $(SUITES) $(SUITES:%=%-debug) \
		faults stress-smoke fuzz-smoke host-test

demo: deps
	$(MAKE) stock-build
	$(VM) --kernel $(STOCK_KERNEL) --quiet tests/vm/demo.sh

bench:
	tests/deps.sh --bench
	tests/bench/bench.sh

bench-smoke: deps
	tests/bench/bench.sh --smoke

# The debs the host test installs: make deb's, unless DEBS names others.
HOST_DEBS = $(or $(DEBS),$(BUILD_DEB_DIR)/fwctl_$(VERSION)_$(shell dpkg --print-architecture).deb \
	$(BUILD_DEB_DIR)/kfw-dkms_$(VERSION)_all.deb)

host-test host-test-smoke:
	tests/deps.sh --host
	$(if $(DEBS),,$(MAKE) deb)
	tests/host/host-test.sh $(if $(filter host-test-smoke,$@),--smoke) $(addprefix --deb ,$(HOST_DEBS))

vm: deps
	$(MAKE) stock-build
	$(VM) --kernel $(STOCK_KERNEL) --interactive

# With DESTDIR, files are only staged: depmod is the package manager's job
# (as dkms is below). Kbuild's own modules_install would put the module in
# updates/kmod/, try to sign it without Debian's key, and skip depmod.
MODDIR = $(DESTDIR)/lib/modules/$(KVER)/updates

install: all
	@built=$$($(MODINFO) -F vermagic kmod/kfw.ko | cut -d ' ' -f 1); \
	if [ "$$built" != "$(KVER)" ]; then \
		echo "kmod/kfw.ko is built for $$built, not KVER=$(KVER)" >&2; exit 1; \
	fi
	install -D -m 0644 kmod/kfw.ko $(MODDIR)/kfw.ko
	$(if $(DESTDIR),,$(DEPMOD) -a $(KVER))
	$(MAKE) -C ctl install PREFIX=$(PREFIX)

uninstall:
	rm -f $(MODDIR)/kfw.ko
	test ! -d $(MODDIR) || rmdir --ignore-fail-on-non-empty $(MODDIR)
	$(if $(DESTDIR),,$(DEPMOD) -a $(KVER))
	$(MAKE) -C ctl uninstall PREFIX=$(PREFIX)

# What dkms builds the module from: Kbuild and kmod/, less the KUnit suites
# and their helpers, which only KFW_KUNIT=1 builds. With DESTDIR the source is
# only staged (the kfw-dkms package's scripts run dkms); without, dkms builds
# and installs it for KVER, replacing any earlier build of this version.
DKMS_DIR = $(DESTDIR)/usr/src/kfw-$(VERSION)
KUNIT_ONLY = $(wildcard kmod/*_test.c kmod/test_util.* kmod/classify_gen.*)
DKMS_SOURCES = $(filter-out $(KUNIT_ONLY),$(wildcard kmod/*.c kmod/*.h))

dkms-install: $(if $(DESTDIR),,dkms-uninstall)
	@[ -n "$(DESTDIR)" ] || command -v dkms >/dev/null || \
		{ echo "make dkms-install needs dkms (apt-get install dkms)" >&2; exit 1; }
	install -d $(DKMS_DIR)/kmod/uapi
	install -m 0644 Kbuild $(DKMS_DIR)/
	install -m 0644 $(DKMS_SOURCES) $(DKMS_DIR)/kmod/
	install -m 0644 kmod/uapi/kfw.h $(DKMS_DIR)/kmod/uapi/
	sed 's/#MODULE_VERSION#/$(VERSION)/' kmod/dkms.conf > $(DKMS_DIR)/dkms.conf
ifeq ($(DESTDIR),)
	dkms add kfw/$(VERSION)
	dkms install kfw/$(VERSION) -k $(KVER)
endif

dkms-uninstall:
ifeq ($(DESTDIR),)
	if command -v dkms >/dev/null && dkms status kfw/$(VERSION) | grep -q .; then \
		dkms remove kfw/$(VERSION) --all; \
	fi
endif
	rm -rf $(DKMS_DIR)

# The packages are built with Debian's tools in a copy of the tree: the files
# git knows or would add (so no build output), with ctl/debian as debian/.
# The .deb files land beside the copy.
BUILD_DEB_DIR ?= $(or $(XDG_CACHE_HOME),$(HOME)/.cache)/kfw/deb
DEB_SRC = $(BUILD_DEB_DIR)/kfw-$(VERSION)

deb:
	tests/deps.sh --deb
	rm -rf $(DEB_SRC)
	rm -f $(BUILD_DEB_DIR)/fwctl_* $(BUILD_DEB_DIR)/kfw-dkms_* $(BUILD_DEB_DIR)/kfw_*
	mkdir -p $(DEB_SRC)
	git ls-files -z --cached --others --exclude-standard Kbuild Makefile LICENSE kmod ctl \
		> $(BUILD_DEB_DIR)/files
	tar -c --null --ignore-failed-read -T $(BUILD_DEB_DIR)/files | tar -x -C $(DEB_SRC)
	mv $(DEB_SRC)/ctl/debian $(DEB_SRC)/debian
	cd $(DEB_SRC) && dpkg-buildpackage -b --no-sign
	lintian --fail-on error,warning $(BUILD_DEB_DIR)/fwctl_$(VERSION)_*.deb $(BUILD_DEB_DIR)/kfw-dkms_$(VERSION)_all.deb
	@ls $(BUILD_DEB_DIR)/fwctl_$(VERSION)_*.deb $(BUILD_DEB_DIR)/kfw-dkms_$(VERSION)_all.deb

clean:
	-$(MAKE) -C $(KDIR) M=$(CURDIR) clean
	$(MAKE) -C ctl clean
	-$(MAKE) -C tests/unit clean
	-$(MAKE) -C tests/classifier clean

.PHONY: all module fwctl deps unit classifier stock-build kunit first-run faults stress stress-smoke \
	fuzz fuzz-smoke check demo vm clean bench bench-smoke host-test host-test-smoke \
	install uninstall dkms-install dkms-uninstall deb \
	$(SUITES) $(SUITES:%=%-debug)
