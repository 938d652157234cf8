#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Atomic swap: a UDP flow allowed by both of two rulesets (through
# different rules, among different other rules) loses no packet while the
# two rulesets are swapped in thousands of times. A packet sees the old
# ruleset or the new one, never a gap or a half-built one. A third phase
# swaps against a ruleset that denies the flow, to show the test can see
# loss at all.
source "$(dirname "$0")/lib.sh"
need_nbguard
command -v nbg-swap >/dev/null || fail "nbg-swap is not built"

SWAPS=${SWAPS:-2000}
setup_wg 2
serve 0 udp 6000
guard 0

{
	std_idents 2
	for ((k = 1; k <= 40; k++)); do
		echo "rule $((1000 + k)) allow in proto tcp src ident 1 port $k"
	done
	echo "rule 10 allow in proto udp src ident 1 port 6000"
} >/tmp/a.rules
{
	std_idents 2 | sed 's/group 10/group 10 group 11/'
	echo "rule 20 allow in proto udp src group 11 port 5990-6010"
	for ((k = 1; k <= 40; k++)); do
		echo "rule $((3000 + k)) deny in proto udp src ident 1 port $((7000 + k))"
	done
} >/tmp/b.rules
{
	std_idents 2
	echo "rule 30 allow in proto udp src ident 1 port 6001"
} >/tmp/deny.rules

check n0 nbg-swap /tmp/a.rules /tmp/b.rules 2
expect_ok 1 udp "$(ip4 0)" 6000

# flood and swap at once; the flood must outlast the swaps
gen0=$(nbg 0 --json show | sed -n 's/.*"generation": *\([0-9]*\).*/\1/p')
ip netns exec n1 nbg-probe flood udp "$(ip4 0)" 6000 --count 1000000 -t 1000 >/tmp/flood.out 2>&1 &
flood=$!
sleep 0.5
swap_out=$(n0 nbg-swap /tmp/a.rules /tmp/b.rules "$SWAPS") || fail "nbg-swap: $swap_out"
kill -TERM "$flood" 2>/dev/null || true
wait "$flood" && rc=0 || rc=$?
echo "    $swap_out"
echo "    flood: $(cat /tmp/flood.out)"
gen1=$(nbg 0 --json show | sed -n 's/.*"generation": *\([0-9]*\).*/\1/p')
((gen1 - gen0 == SWAPS)) || fail "generation moved by $((gen1 - gen0)), expected $SWAPS"
pass "$SWAPS swaps committed (generation $gen0 -> $gen1)"
read -r _ sent _ received _ lost _ <<<"$(cat /tmp/flood.out)"
((sent > 1000)) || fail "too little traffic during the swaps ($sent datagrams)"
((lost == 0)) || fail "$lost of $sent datagrams lost during the swaps"
pass "no loss: $received of $sent datagrams echoed during $SWAPS swaps"

# Control: swapping against a ruleset that denies the flow does lose.
ip netns exec n1 nbg-probe flood udp "$(ip4 0)" 6000 --count 1000000 -t 200 >/tmp/flood.out 2>&1 &
flood=$!
sleep 0.5
n0 nbg-swap /tmp/a.rules /tmp/deny.rules 200 >/dev/null || fail "nbg-swap deny"
kill -TERM "$flood" 2>/dev/null || true
wait "$flood" || true
read -r _ sent _ received _ lost _ <<<"$(cat /tmp/flood.out)"
((lost > 0)) || fail "no loss seen even with a denying ruleset ($sent sent)"
pass "control: a denying ruleset in the swap loses $lost of $sent"
done_ok
