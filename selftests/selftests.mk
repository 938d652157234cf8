# SPDX-License-Identifier: GPL-2.0
#
# selftests/: host unit tests (selftests/unit, its own fragment), the
# nbg-probe traffic tool, and the namespace tests that run inside the VM
# (selftests/vm/run.sh boots it; selftests/netns/lib.sh is their library).

-include selftests/unit/unit.mk

$(B)/nbg-probe: selftests/tools/nbg-probe.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ $<

# Loads two rulesets alternately from one process (atomic swap test).
$(B)/nbg-swap: selftests/tools/nbg-swap.c $(LIBNBG)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(NL_CFLAGS) -o $@ $< $(NBG_LIBS)

BINS += $(B)/nbg-probe $(B)/nbg-swap

# Namespace tests for the enforcement point, in the order they run.
VM_TESTS += \
	selftests/netns/wg_basic.sh \
	selftests/netns/identity.sh \
	selftests/netns/ports.sh \
	selftests/netns/outbound.sh \
	selftests/netns/revocation.sh \
	selftests/netns/atomic_swap.sh \
	selftests/netns/isolation.sh \
	selftests/netns/privilege.sh \
	selftests/netns/malformed.sh \
	selftests/netns/counters_events.sh \
	selftests/netns/devices.sh \
	selftests/netns/big_ruleset.sh \
	selftests/netns/leaks.sh \
	selftests/netns/kmod_txn.sh \
	selftests/netns/unload.sh

# The VM boots the kernel the module was built for.
check-vm demo: export NBG_KVER := $(KVER)
VM_TESTS += selftests/doc/quickstart.sh
