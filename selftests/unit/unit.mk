# SPDX-License-Identifier: GPL-2.0
#
# selftests/unit: host tests of the classifier, built from kmod/classifier.c
# itself (through lib/kshim.h), and the classifier benchmark.
#
#   make check-host             runs them with the other host tests
#   make unit-asan              same tests built with ASan + UBSan, run
#   make unit-valgrind          same tests under valgrind memcheck
#   make $(B)/classifier_bench  the benchmark (selftests/bench/classifier.sh)
#
# Other userspace code that wants the classifier links $(NBG_CLASSIFIER_OBJ).

NBG_CLASSIFIER_OBJ := $(B)/unit/classifier.o
UNIT_TESTLIB := $(B)/unit/testlib.o
UNIT_REF := $(B)/unit/refmatch.o
UNIT_TESTS := $(B)/classifier_test $(B)/classifier_diff \
	$(B)/classifier_diff_generic $(B)/fuzz_classifier
# The classifier with every size threshold at its extreme, so that the
# differential test also covers the table paths small rulesets never reach.
GENERIC_FLAGS := -DNBG_TINY_MAX=0 -DNBG_BKT_MUL=0 -DNBG_SCAN_MAX=1 '-DNBG_WILD_MERGE_MAX(n)=0'

$(B)/unit/classifier.o: kmod/classifier.c kmod/classifier.h lib/kshim.h
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -c -o $@ $<

$(B)/unit/testlib.o: selftests/unit/testlib.c selftests/unit/testlib.h
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -c -o $@ $<

$(B)/unit/refmatch.o: selftests/unit/refmatch.c selftests/unit/refmatch.h
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -c -o $@ $<

$(B)/fuzz_classifier: selftests/unit/fuzz_classifier.c $(UNIT_TESTLIB) $(UNIT_REF) $(NBG_CLASSIFIER_OBJ)
	$(CC) $(CFLAGS) -o $@ $^

$(B)/classifier_test: selftests/unit/classifier_test.c $(UNIT_TESTLIB) $(NBG_CLASSIFIER_OBJ)
	$(CC) $(CFLAGS) -o $@ $^

$(B)/classifier_diff: selftests/unit/classifier_diff.c $(UNIT_TESTLIB) $(UNIT_REF) $(NBG_CLASSIFIER_OBJ)
	$(CC) $(CFLAGS) -o $@ $^

$(B)/unit/classifier_generic.o: kmod/classifier.c kmod/classifier.h lib/kshim.h
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(GENERIC_FLAGS) -c -o $@ $<

$(B)/classifier_diff_generic: selftests/unit/classifier_diff.c $(UNIT_TESTLIB) $(UNIT_REF) $(B)/unit/classifier_generic.o
	$(CC) $(CFLAGS) -o $@ $^

$(B)/classifier_bench: selftests/bench/classifier_bench.c $(UNIT_TESTLIB) $(NBG_CLASSIFIER_OBJ)
	$(CC) $(CFLAGS) -o $@ $^

HOST_TESTS += $(UNIT_TESTS) $(B)/classifier_bench_smoke
BINS += $(B)/classifier_bench

# The benchmark's smallest size, as a test that it still runs.
$(B)/classifier_bench_smoke: $(B)/classifier_bench
	printf '#!/bin/sh\nexec "$$(dirname "$$0")/classifier_bench" --smoke\n' >$@
	chmod +x $@

# Sanitizer build: separate objects, so the normal build is untouched.
ASAN_FLAGS := -O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer \
	-fno-sanitize-recover=all
ASAN_SRCS := kmod/classifier.c selftests/unit/testlib.c selftests/unit/refmatch.c
$(B)/asan/classifier_test: selftests/unit/classifier_test.c $(ASAN_SRCS)
	@mkdir -p $(dir $@)
	$(CC) $(filter-out -MMD -MP,$(CFLAGS)) $(ASAN_FLAGS) -o $@ $^
$(B)/asan/classifier_diff: selftests/unit/classifier_diff.c $(ASAN_SRCS)
	@mkdir -p $(dir $@)
	$(CC) $(filter-out -MMD -MP,$(CFLAGS)) $(ASAN_FLAGS) -o $@ $^
$(B)/asan/classifier_diff_generic: selftests/unit/classifier_diff.c $(ASAN_SRCS)
	@mkdir -p $(dir $@)
	$(CC) $(filter-out -MMD -MP,$(CFLAGS)) $(ASAN_FLAGS) $(GENERIC_FLAGS) -o $@ $^

$(B)/asan/fuzz_classifier: selftests/unit/fuzz_classifier.c $(ASAN_SRCS)
	@mkdir -p $(dir $@)
	$(CC) $(filter-out -MMD -MP,$(CFLAGS)) $(ASAN_FLAGS) -o $@ $^

# Coverage-guided fuzzing with clang's libFuzzer:
#   make fuzz-classifier && build/fuzz_classifier_lf -max_total_time=60
fuzz-classifier: selftests/unit/fuzz_classifier.c $(ASAN_SRCS)
	@mkdir -p $(B)
	clang -g -O1 -fsanitize=fuzzer,address,undefined -DNBG_LIBFUZZER \
		-std=gnu11 -D_GNU_SOURCE -I$(CURDIR) -o $(B)/fuzz_classifier_lf $^

.PHONY: unit-asan unit-valgrind fuzz-classifier
unit-asan: $(B)/asan/classifier_test $(B)/asan/classifier_diff \
		$(B)/asan/classifier_diff_generic $(B)/asan/fuzz_classifier
	selftests/run-host.sh $^

unit-valgrind: $(UNIT_TESTS)
	NBG_VALGRIND=1 NBG_DIFF_ITERS=300 selftests/run-host.sh $^
