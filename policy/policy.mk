# SPDX-License-Identifier: GPL-2.0
#
# policy/: the YAML policy language (libyaml) as build/libnbpolicy.a, its
# host tests (KTAP) and its VM tests. A program using it links
#   $(NBP_LIBS)      = build/libnbpolicy.a build/libnbg.a -lnl... -lyaml

LIBNBPOLICY := $(B)/libnbpolicy.a
NBP_SRCS := policy/yaml.c policy/diag.c policy/parse.c policy/policy.c \
	policy/eval.c policy/compile.c policy/lint.c
NBP_OBJS := $(patsubst %.c,$(B)/%.o,$(NBP_SRCS))
NBP_LIBS := $(LIBNBPOLICY) $(NBG_LIBS) -lyaml

$(B)/policy/%.o: policy/%.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -c -o $@ $<

$(LIBNBPOLICY): $(NBP_OBJS)
	@mkdir -p $(dir $@)
	rm -f $@
	$(AR) rcs $@ $^

BINS += $(LIBNBPOLICY)

# Host tests. The differential test links the kernel classifier built for
# userspace (kmod/classifier.c through lib/kshim.h).
NBP_CLASSIFIER_OBJ := $(B)/policy/classifier_user.o
$(NBP_CLASSIFIER_OBJ): kmod/classifier.c kmod/classifier.h lib/kshim.h
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -c -o $@ $<

$(B)/policy_test: policy/tests/policy_test.c selftests/ktap.h $(LIBNBPOLICY) $(LIBNBG)
	$(CC) $(CFLAGS) -o $@ $< $(NBP_LIBS)
$(B)/policy_diff: policy/tests/policy_diff.c selftests/ktap.h $(NBP_CLASSIFIER_OBJ) $(LIBNBPOLICY) $(LIBNBG)
	$(CC) $(CFLAGS) -o $@ $< $(NBP_CLASSIFIER_OBJ) $(NBP_LIBS)
$(B)/policy_fuzz: policy/tests/policy_fuzz.c selftests/ktap.h $(LIBNBPOLICY) $(LIBNBG)
	$(CC) $(CFLAGS) -o $@ $< $(NBP_LIBS)
$(B)/policy_examples: policy/tests/policy_examples.sh $(B)/nbctl
	@mkdir -p $(dir $@)
	cp $< $@
	chmod +x $@

HOST_TESTS += $(B)/policy_test $(B)/policy_diff $(B)/policy_fuzz $(B)/policy_examples

# A benchmark, not a test: compile time for 10,000 peers/1,000 rules.
$(B)/policy_bench: policy/tests/policy_bench.c $(LIBNBPOLICY) $(LIBNBG)
	$(CC) $(CFLAGS) -o $@ $< $(NBP_LIBS)
BINS += $(B)/policy_bench

VM_TESTS += selftests/netns/policy_access.sh

# The host tests again under ASan + UBSan (separate objects).
NBP_ASAN := -O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all
NBP_ASAN_SRCS := $(NBP_SRCS) lib/desc.c lib/rulesfile.c
$(B)/asan/policy_%: policy/tests/policy_%.c $(NBP_ASAN_SRCS) kmod/classifier.c
	@mkdir -p $(dir $@)
	$(CC) $(filter-out -MMD -MP,$(CFLAGS)) $(NBP_ASAN) -o $@ $< $(NBP_ASAN_SRCS) \
		$(if $(filter diff,$*),kmod/classifier.c) -lyaml

.PHONY: policy-asan
policy-asan: $(B)/asan/policy_test $(B)/asan/policy_diff $(B)/asan/policy_fuzz
	NBP_FUZZ_ITERS=1000 selftests/run-host.sh $^
