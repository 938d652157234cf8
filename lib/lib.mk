# SPDX-License-Identifier: GPL-2.0
#
# lib/: the userspace library (ruleset description helpers, ruleset file
# parser/printer, nbguard netlink client) as build/libnbg.a, linked by
# nbctl, policy/, helper/ and tools/nbmgmt. Link with $(NBG_LIBS).

NL_CFLAGS := $(shell pkg-config --cflags libnl-genl-3.0 2>/dev/null)
NL_LIBS := $(shell pkg-config --libs libnl-genl-3.0 2>/dev/null)

LIBNBG := $(B)/libnbg.a
LIBNBG_SRCS := lib/desc.c lib/rulesfile.c lib/nbgnl.c
LIBNBG_OBJS := $(patsubst %.c,$(B)/%.o,$(LIBNBG_SRCS))
# What a program linking libnbg.a needs after it on the command line.
NBG_LIBS := $(LIBNBG) $(NL_LIBS)

$(B)/lib/%.o: lib/%.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(NL_CFLAGS) -c -o $@ $<

$(LIBNBG): $(LIBNBG_OBJS)
	@mkdir -p $(dir $@)
	rm -f $@
	$(AR) rcs $@ $^

BINS += $(LIBNBG)

# Host unit tests of the parser/printer and desc helpers (print KTAP).
$(B)/rulesfile_test: selftests/unit/rulesfile_test.c $(LIBNBG)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ $< $(NBG_LIBS)

HOST_TESTS += $(B)/rulesfile_test
