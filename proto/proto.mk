# SPDX-License-Identifier: GPL-2.0
# proto/: the control-plane wire codec and TLS helpers (build/libnbproto.a),
# shared by nbmgmt and nbhelper. Link with $(NBPROTO_LIBS).

NBPROTO_SRCS := proto/wire.c proto/tls.c
NBPROTO_OBJS := $(NBPROTO_SRCS:%.c=$(B)/%.o)
NBPROTO_LIB := $(B)/libnbproto.a
NBPROTO_LIBS := $(NBPROTO_LIB) -lssl -lcrypto

$(B)/proto/%.o: proto/%.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -c -o $@ $<

$(NBPROTO_LIB): $(NBPROTO_OBJS)
	@mkdir -p $(dir $@)
	$(AR) rcs $@ $^

# Host tests: the codec (KTAP) and the deterministic fuzz driver.
$(B)/test_wire: selftests/proto/test_wire.c $(NBPROTO_LIB)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ $< $(NBPROTO_LIBS)

$(B)/fuzz_wire: selftests/fuzz/fuzz_wire.c selftests/fuzz/fuzz_wire_main.c $(NBPROTO_LIB)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ selftests/fuzz/fuzz_wire.c selftests/fuzz/fuzz_wire_main.c $(NBPROTO_LIBS)

HOST_TESTS += $(B)/test_wire $(B)/fuzz_wire

# libFuzzer + ASan/UBSan build of the same target (not part of check):
#   make fuzz-wire-libfuzzer && build/fuzz_wire_lf -max_total_time=60 CORPUS_DIR
fuzz-wire-libfuzzer: selftests/fuzz/fuzz_wire.c proto/wire.c proto/wire.h
	@mkdir -p $(B)
	clang -g -O1 -fsanitize=fuzzer,address,undefined -I$(CURDIR) \
		-o $(B)/fuzz_wire_lf selftests/fuzz/fuzz_wire.c proto/wire.c
.PHONY: fuzz-wire-libfuzzer
