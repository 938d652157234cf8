#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# No memory is lost over many ruleset swaps, transactions refused midway,
# and namespaces torn down with guarded devices and rulesets in them:
# unreclaimable slab returns to within a small margin of where it started.
# (The Debian kernel has no kmemleak; this catches leaks per operation.)
source "$(dirname "$0")/lib.sh"
need_nbguard
command -v nbg-swap >/dev/null || fail "nbg-swap is not built"

CYCLES=${CYCLES:-400}
NETNS_CYCLES=${NETNS_CYCLES:-8}

settle() {
	# RCU frees old rulesets after a grace period; namespaces die in a
	# workqueue. Give both time, then read.
	sleep 2
	echo 3 >/proc/sys/vm/drop_caches
	slab_unreclaim_kb
}

add_netns n0
n0 ip link add wg0 type wireguard
check nbg 0 dev add wg0
{
	for ((k = 1; k <= 100; k++)); do
		echo "identity $k id$k prefix 10.$((k / 256)).$((k % 256)).0/24 group $((k % 7))"
	done
	for ((k = 1; k <= 400; k++)); do
		echo "rule $k allow in proto tcp src group $((k % 7)) port $((k + 1000))"
	done
} >/tmp/a.rules
: >/tmp/empty.rules
# warm up caches once, then measure
n0 nbg-swap /tmp/a.rules /tmp/empty.rules 20 >/dev/null || fail "warm-up swaps"
kb0=$(settle)

out=$(n0 nbg-swap /tmp/a.rules /tmp/empty.rules "$CYCLES") || fail "nbg-swap: $out"
pass "$out"
kb1=$(settle)
echo "    slab: $kb0 kB -> $kb1 kB after $CYCLES swaps of a 400-rule ruleset"
((kb1 - kb0 < 2048)) || fail "$((kb1 - kb0)) kB kept after $CYCLES swaps"
pass "swaps give their memory back (+$((kb1 - kb0)) kB)"

# refused transactions (bad input midway) free what they had built
for ((k = 0; k < 30; k++)); do
	n0 nbg-rawnl oversize huge >/dev/null 2>&1 || fail "nbg-rawnl reported an accepted bad request"
done
kb2=$(settle)
echo "    slab: $kb1 kB -> $kb2 kB after 30 rounds of refused requests"
((kb2 - kb1 < 2048)) || fail "$((kb2 - kb1)) kB kept after refused requests"
pass "refused transactions give their memory back (+$((kb2 - kb1)) kB)"

# namespaces torn down with state in them
for ((k = 0; k < NETNS_CYCLES; k++)); do
	add_netns t$k
	ip -n t$k link add wg0 type wireguard
	ip netns exec t$k nbctl dev add wg0 >/dev/null
	ip netns exec t$k nbctl rules load /tmp/a.rules >/dev/null
	ip netns del t$k
done
NBG_NETNS=(n0)
kb3=$(settle)
echo "    slab: $kb2 kB -> $kb3 kB after $NETNS_CYCLES guarded namespaces came and went"
((kb3 - kb2 < 3072)) || fail "$((kb3 - kb2)) kB kept after namespace teardown"
pass "namespace teardown gives the memory back (+$((kb3 - kb2)) kB)"
done_ok
