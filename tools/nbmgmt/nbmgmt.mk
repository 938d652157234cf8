# SPDX-License-Identifier: GPL-2.0
# tools/nbmgmt: the control server, and its host integration test.

NBMGMT_SRCS := $(wildcard tools/nbmgmt/*.c)
NBMGMT_OBJS := $(NBMGMT_SRCS:%.c=$(B)/%.o)

$(B)/tools/nbmgmt/%.o: tools/nbmgmt/%.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -c -o $@ $<

$(B)/nbmgmt: $(NBMGMT_OBJS) $(NBPROTO_LIB) $(LIBNBPOLICY) $(LIBNBG)
	$(CC) $(CFLAGS) -o $@ $(NBMGMT_OBJS) $(NBPROTO_LIBS) $(NBP_LIBS) -lsqlite3

# Test client (enroll/login/raw frames) and the loopback integration test.
$(B)/nbmgmt-client: selftests/nbmgmt/client.c $(NBPROTO_LIB)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ $< $(NBPROTO_LIBS)

$(B)/test_nbmgmt: selftests/nbmgmt/test_nbmgmt.sh $(B)/nbmgmt $(B)/nbmgmt-client
	cp $< $@
	chmod +x $@

BINS += $(B)/nbmgmt $(B)/nbmgmt-client
HOST_TESTS += $(B)/test_nbmgmt
