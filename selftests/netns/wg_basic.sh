#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The test bed itself: three namespaces in a WireGuard mesh pass TCP, UDP and
# ICMP over IPv4 and IPv6 with nothing guarded, and a peer's spoofed source
# address is dropped by WireGuard (the identity nbguard relies on).
source "$(dirname "$0")/lib.sh"

setup_wg 3
for i in 1 2; do
	serve "$i" tcp 80 && serve "$i" udp 53 && serve "$i" tcp -6 80 && serve "$i" udp -6 53
done
for i in 1 2; do
	expect_ok 0 tcp "$(ip4 "$i")" 80
	expect_ok 0 udp "$(ip6 "$i")" 53
	expect_ok 0 icmp "$(ip4 "$i")"
done
expect_ok 0 tcp "$(ip6 1)" 80
expect_ok 0 udp "$(ip4 1)" 53
expect_ok 0 icmp "$(ip6 1)"
expect_ok 2 tcp "$(ip4 1)" 80
expect_refused 0 tcp "$(ip4 1)" 81
expect_refused 0 udp "$(ip4 1)" 54
expect_refused 0 tcp "$(ip6 1)" 81
expect_refused 0 udp "$(ip6 1)" 54

# Spoofing: n1 sends with n2's address; WireGuard on n0 must drop it
# because 10.77.0.12 is not in n1's allowed-ips.
serve 0 udp 53
n1 ip addr add 10.77.0.99/32 dev wg0
n1 ip route replace "$(ip4 0)/32" dev wg0 src 10.77.0.99
rx_before=$(n0 cat /sys/class/net/wg0/statistics/rx_errors)
probe 1 udp "$(ip4 0)" 53 "$DROP_MS" && fail "spoofed source reached n0" || true
rx_after=$(n0 cat /sys/class/net/wg0/statistics/rx_errors)
((rx_after > rx_before)) || fail "WireGuard did not count the spoofed packet as an error ($rx_before -> $rx_after)"
pass "WireGuard drops a source address outside the peer's allowed-ips"
done_ok
