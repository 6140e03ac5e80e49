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
# make clean

KDIR ?= /lib/modules/$(shell uname -r)/build

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
SUITES = integration stateful userns

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
		faults stress-smoke fuzz-smoke

demo: deps
	$(MAKE) stock-build
	$(VM) --kernel $(STOCK_KERNEL) --quiet tests/vm/demo.sh

bench:
	tests/deps.sh --bench
	tests/bench/bench.sh

bench-smoke: deps
	tests/bench/bench.sh --smoke

vm: deps
	$(MAKE) stock-build
	$(VM) --kernel $(STOCK_KERNEL) --interactive

clean:
	-$(MAKE) -C $(KDIR) M=$(CURDIR) clean
	$(MAKE) -C ctl clean
	-$(MAKE) -C tests/unit clean
	-$(MAKE) -C tests/classifier clean

.PHONY: all module fwctl deps unit classifier stock-build kunit first-run faults stress stress-smoke \
	fuzz fuzz-smoke check demo vm clean bench bench-smoke \
	$(SUITES) $(SUITES:%=%-debug)
