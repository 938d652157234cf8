# SPDX-License-Identifier: GPL-2.0
#
# Benchmarks (`make bench`): the policy generator and the load tool run
# inside the VM, so they build into build/ like every other program.

BENCH_BINS := $(B)/nbg-bench-gen $(B)/nbg-bench-load
BINS += $(BENCH_BINS)
VM_TESTS += selftests/netns/bench_smoke.sh

$(B)/nbg-bench-gen: selftests/bench/bench_gen.c
	@mkdir -p $(B)
	$(CC) $(CFLAGS) -o $@ $< $(LDFLAGS)

# The VM harness copies build/ executables with the libraries they need.
$(B)/nbg-bench-load: selftests/bench/bench_load.c
	@mkdir -p $(B)
	$(CC) $(CFLAGS) -o $@ $< $(LDFLAGS)

.PHONY: bench-smoke
bench-smoke: all
	selftests/bench/run.sh --smoke

# Compile time through the policy library (host only: not in BINS, so the
# VM image does not carry it and `make all` does not need policy/ to build).
$(B)/bench/nbg-bench-compile: selftests/bench/bench_compile.c $(LIBNBPOLICY) $(LIBNBG)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ $< $(NBP_LIBS)
