# SPDX-License-Identifier: GPL-2.0
#
# nbctl: every tools/nbctl/*.c is part of it (cmd_policy.c and cmd_status.c
# from other parts are picked up without editing this file). The fragments
# owning those files may append the libraries they need to NBCTL_EXTRA_LIBS
# and NBCTL_EXTRA_DEPS (both expanded late, so fragments included after
# this one work too).

NBCTL_SRCS := $(wildcard tools/nbctl/*.c)
NBCTL_OBJS := $(patsubst %.c,$(B)/%.o,$(NBCTL_SRCS))
NBCTL_EXTRA_LIBS ?=
NBCTL_EXTRA_DEPS ?=
# nbctl policy: the policy library (policy/policy.mk) and libyaml.
ifneq ($(wildcard tools/nbctl/cmd_policy.c),)
NBCTL_EXTRA_DEPS += $(B)/libnbpolicy.a
NBCTL_EXTRA_LIBS += $(B)/libnbpolicy.a -lyaml
endif

$(B)/tools/nbctl/%.o: tools/nbctl/%.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(NL_CFLAGS) -c -o $@ $<

.SECONDEXPANSION:
$(B)/nbctl: $(NBCTL_OBJS) $(LIBNBG) $$(NBCTL_EXTRA_DEPS)
	$(CC) $(CFLAGS) -o $@ $(NBCTL_OBJS) $(NBCTL_EXTRA_LIBS) $(NBG_LIBS) $(LDFLAGS)

# Sends malformed and oversized requests to the module (VM tests).
$(B)/nbg-rawnl: selftests/tools/nbg-rawnl.c $(LIBNBG)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(NL_CFLAGS) -o $@ $< $(NBG_LIBS)

BINS += $(B)/nbctl $(B)/nbg-rawnl

# End to end test of nbctl and nbg-rawnl against the module (in the VM).
VM_TESTS += selftests/netns/nbctl_cli.sh

$(B)/json_test: selftests/unit/json_test.c tools/nbctl/json.c tools/nbctl/json.h
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ selftests/unit/json_test.c tools/nbctl/json.c

HOST_TESTS += $(B)/json_test
