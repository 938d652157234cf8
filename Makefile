# SPDX-License-Identifier: GPL-2.0
#
# nbguard top-level build. `make` builds the module (against KDIR) and all
# userspace into build/. `make deps` installs what Debian 12 needs,
# `make check` runs every test (host unit tests, then the VM tests),
# `make demo` runs the demo, `make bench` the benchmarks.
#
# Each part owns a fragment included below; a fragment adds its programs to
# BINS, its host-side test programs (which print KTAP) to HOST_TESTS and its
# VM test scripts (selftests/netns/*.sh style, run inside the VM) to VM_TESTS.

# Kernel to build against: the running kernel's build dir if there is one,
# else the newest installed Debian cloud headers.
KVER ?= $(shell if [ -d /lib/modules/$$(uname -r)/build ]; then uname -r; \
	else ls -d /usr/src/linux-headers-*-cloud-amd64 2>/dev/null | \
	sed 's,.*/linux-headers-,,' | sort -V | tail -n1; fi)
KDIR ?= $(if $(wildcard /lib/modules/$(KVER)/build),/lib/modules/$(KVER)/build,/usr/src/linux-headers-$(KVER))

CC ?= gcc
CFLAGS ?= -O2 -g
CFLAGS += -Wall -Wextra -Wno-unused-parameter -std=gnu11 -D_GNU_SOURCE -I$(CURDIR) -MMD -MP
B := build

BINS :=
HOST_TESTS :=
VM_TESTS :=

.PHONY: all module userspace deps check check-all check-host check-vm demo demo-run bench bench-run clean install
all: module userspace

-include proto/proto.mk
-include lib/lib.mk
-include tools/nbctl/nbctl.mk
-include policy/policy.mk
-include helper/helper.mk
-include tools/nbmgmt/nbmgmt.mk
-include selftests/selftests.mk
-include selftests/bench/bench.mk

userspace: $(BINS)

module:
	$(MAKE) -C $(KDIR) M=$(CURDIR) modules

# Build clean with extra warnings and sparse, as CI does.
module-lint:
	$(MAKE) -C $(KDIR) M=$(CURDIR) W=1 C=2 CF=-D__CHECK_ENDIAN__ modules

deps:
	scripts/deps.sh

# Install packages only when something is missing, so check stays fast.
deps-if-needed:
	@scripts/deps.sh --check-only >/dev/null 2>&1 || scripts/deps.sh

# Build checks, host tests and VM tests, with one total at the end.
# Each step after deps is a sub-make: on a fresh machine KVER, KDIR and the
# pkg-config flags can only be computed once deps has installed them.
check: deps-if-needed
	$(MAKE) all
	$(MAKE) check-all

check-all: $(HOST_TESTS)
	NBG_KVER=$(KVER) selftests/check.sh "$(KVER)" "$(KDIR)" "$(HOST_TESTS)" "$(VM_TESTS)"

check-host: $(HOST_TESTS)
	selftests/run-host.sh $(HOST_TESTS)

check-vm: all
	selftests/vm/run.sh $(VM_TESTS)

demo: deps-if-needed
	$(MAKE) all
	$(MAKE) demo-run

demo-run:
	NBG_KVER=$(KVER) selftests/vm/run.sh --demo

bench: deps-if-needed
	$(MAKE) all
	$(MAKE) bench-run

bench-run:
	NBG_KVER=$(KVER) selftests/bench/run.sh

# Programs and systemd units; the module is installed with DKMS (README).
install: userspace
	for p in nbctl nbhelper nbmgmt; do \
		install -D -m 0755 $(B)/$$p $(DESTDIR)/usr/sbin/$$p || exit 1; done
	install -d $(DESTDIR)/lib/systemd/system
	install -m 0644 $(wildcard dist/systemd/*.service) $(DESTDIR)/lib/systemd/system/

clean:
	$(MAKE) -C $(KDIR) M=$(CURDIR) clean || true
	rm -rf $(B)

-include $(shell find $(B) -name '*.d' 2>/dev/null)
