# SPDX-License-Identifier: GPL-2.0
#
# helper/: nbhelper, the node daemon (libmnl for WireGuard, OpenSSL for
# TLS and keys, libyaml for its config, libnbg for nbguard.ko).

NBHELPER_SRCS := helper/main.c helper/config.c helper/keys.c helper/log.c \
	helper/nl.c helper/wg.c helper/types.c helper/netmap.c \
	helper/policy.c helper/session.c helper/ctl.c helper/status.c
NBHELPER_OBJS := $(NBHELPER_SRCS:%.c=$(B)/%.o)
MNL_CFLAGS := $(shell pkg-config --cflags libmnl 2>/dev/null)
MNL_LIBS := $(shell pkg-config --libs libmnl 2>/dev/null || echo -lmnl)

$(B)/helper/%.o: helper/%.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(MNL_CFLAGS) $(NL_CFLAGS) -c -o $@ $<

$(B)/nbhelper: $(NBHELPER_OBJS) $(NBPROTO_LIB) $(LIBNBG)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ $(NBHELPER_OBJS) $(NBPROTO_LIBS) $(NBG_LIBS) \
		$(MNL_LIBS) -lyaml -lssl -lcrypto

BINS += $(B)/nbhelper

# Control-plane tests, run in the VM (selftests/vm/run.sh).
VM_TESTS += $(wildcard selftests/netns/cp_*.sh)

# Test tool: writes a stored network map without a server.
$(B)/nbh-mkmap: helper/mkmap.c $(NBPROTO_LIB)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ $< $(NBPROTO_LIBS)

BINS += $(B)/nbh-mkmap

# Host test of the config parser, keys and address helpers (KTAP).
$(B)/test_helper: selftests/helper/test_helper.c $(B)/helper/config.o \
		$(B)/helper/keys.o $(B)/helper/log.o $(B)/helper/types.o
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ $^ -lyaml -lcrypto

HOST_TESTS += $(B)/test_helper
