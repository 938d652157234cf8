#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# A 100k-rule ruleset (1000 identities) loads, enforces (the deciding rule
# is the last one), dumps back completely, and the dump loads again to the
# same dump; flushing it gives the memory back.
source "$(dirname "$0")/lib.sh"
need_nbguard

RULES=${RULES:-100000}
setup_wg 3
serve 0 tcp 22
guard 0
max=$(nfield 0 max_rules show)
((max >= RULES)) || fail "module limit max_rules $max < $RULES"

awk -v nr="$RULES" 'BEGIN {
	print "identity 1 n1 prefix 10.77.0.11/32 prefix fd77::11/128 group 10"
	print "identity 2 n2 prefix 10.77.0.12/32 prefix fd77::12/128 group 20"
	for (i = 3; i <= 1000; i++)
		printf "identity %d id%d prefix 10.%d.%d.0/24 group %d\n", i, i, 100 + int(i / 256), i % 256, 100 + i % 50
	for (r = 1; r < nr; r++) {
		if (r % 4 == 0 && r % 7 == 0)
			printf "rule %d allow in proto udp src group %d port %d\n", r, 100 + r % 50, 1000 + r % 30000
		else if (r % 4 == 0)
			printf "rule %d allow in proto udp src group %d port %d-%d\n", r, 100 + r % 50, 1000 + r % 30000, 1000 + r % 30000 + r % 7
		else if (r % 4 == 1)
			printf "rule %d allow in proto tcp src ident %d port %d\n", r, 3 + r % 998, 1024 + r % 40000
		else if (r % 4 == 2)
			printf "rule %d deny in proto tcp src prefix 172.%d.%d.0/24 port %d\n", r, 16 + r % 16, int(r / 16) % 256, 1 + r % 1000
		else
			printf "rule %d allow in proto icmp src ident %d\n", r, 3 + r % 998
	}
	printf "rule %d allow in proto tcp src ident 1 port 22\n", nr
}' >/tmp/big.rules
check_eq "$(grep -c '^rule ' /tmp/big.rules)" "$RULES" "generated rules"

kb0=$(slab_unreclaim_kb)
t0=${EPOCHREALTIME/./}
check n0 nbctl rules load /tmp/big.rules
pass "load took $(( (${EPOCHREALTIME/./} - t0) / 1000 )) ms"
check_eq "$(nfield 0 rules show)" "$RULES" "rules in the kernel"
check_eq "$(nfield 0 identities show)" 1000 "identities in the kernel"
echo "    mem_bytes $(nfield 0 mem_bytes show), slab +$(( $(slab_unreclaim_kb) - kb0 )) kB"

expect_ok 1 tcp "$(ip4 0)" 22
expect_drop 2 tcp "$(ip4 0)" 22
check_match "$(nbg 0 trace "$(ip4 1)" "$(ip4 0)" tcp 22)" "rule: +$RULES" "trace names the last rule"

n0 nbctl rules dump >/tmp/dump1
check_eq "$(grep -c '^rule ' /tmp/dump1)" "$RULES" "rules in the dump"
check_eq "$(grep -c '^identity ' /tmp/dump1)" 1000 "identities in the dump"
# The dump is canonical; the generated file used the same canonical form.
diff <(grep -E '^(identity|rule) ' /tmp/big.rules | sort) \
     <(grep -E '^(identity|rule) ' /tmp/dump1 | sort) >/tmp/diff || {
	head -n 20 /tmp/diff; fail "dump differs from what was loaded"; }
pass "dump equals the loaded ruleset line for line"
check n0 nbctl rules load /tmp/dump1
n0 nbctl rules dump >/tmp/dump2
diff <(grep -v '^#' /tmp/dump1) <(grep -v '^#' /tmp/dump2) >/dev/null ||
	fail "dump -> load -> dump is not stable"
pass "dump -> load -> dump round-trips"

check nbg 0 flush
check_eq "$(nfield 0 rules show)" 0 "rules after flush"
sleep 1 # RCU frees the old ruleset after a grace period
kb1=$(slab_unreclaim_kb)
echo "    slab after flush: $((kb1 - kb0)) kB over the start"
((kb1 - kb0 < 4096)) || fail "$((kb1 - kb0)) kB of slab not given back after flush"
pass "memory given back after flush"
done_ok
