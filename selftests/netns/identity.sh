#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Allow and deny by identity and by group, for TCP, UDP and ICMP over IPv4
# and IPv6, on a guarded WireGuard interface: default deny, each rule opens
# exactly its own traffic, and `nbctl trace` names the deciding rule.
source "$(dirname "$0")/lib.sh"
need_nbguard

setup_wg 4
serve 0 tcp 22 80
serve 0 tcp -6 22 80
serve 0 udp 53
serve 0 udp -6 53

# Unguarded: everything reaches n0.
expect_ok 2 tcp "$(ip4 0)" 22
guard 0
check_match "$(nbg 0 dev show)" 'wg0' "dev show"

# Guarded with an empty ruleset: inbound default deny, whatever the protocol.
expect_drop 1 tcp "$(ip4 0)" 22
expect_drop 2 udp "$(ip6 0)" 53
expect_drop 3 icmp "$(ip4 0)"

load_rules 0 <<EOR
$(std_idents)
rule 100 allow in proto tcp src ident 1 port 22
rule 101 allow in proto udp src group 20 port 53
rule 102 allow in proto icmp src group 10
rule 103 allow in proto icmpv6 src ident 2
EOR

# by identity (tcp 22 for n1 only)
expect_ok 1 tcp "$(ip4 0)" 22
expect_ok 1 tcp "$(ip6 0)" 22
expect_drop 2 tcp "$(ip4 0)" 22
expect_drop 3 tcp "$(ip6 0)" 22
# by group (udp 53 for group 20 = n2, n3)
expect_ok 2 udp "$(ip4 0)" 53
expect_ok 3 udp "$(ip6 0)" 53
expect_drop 1 udp "$(ip4 0)" 53
# icmp (v4, group 10) and icmpv6 (identity 2) are different protocols
expect_ok 1 icmp "$(ip4 0)"
expect_drop 1 icmp "$(ip6 0)"
expect_ok 2 icmp "$(ip6 0)"
expect_drop 2 icmp "$(ip4 0)"
# no rule: default deny
expect_drop 1 tcp "$(ip4 0)" 80

# trace agrees with the traffic and names the rule
check_match "$(nbg 0 trace "$(ip4 1)" "$(ip4 0)" tcp 22)" 'verdict: +allow' "trace n1 tcp 22"
check_match "$(nbg 0 trace "$(ip4 1)" "$(ip4 0)" tcp 22)" 'rule: +100' "trace n1 tcp 22 rule"
check_match "$(nbg 0 trace "$(ip6 3)" "$(ip6 0)" udp 53)" 'rule: +101' "trace n3 udp 53 rule"
check_match "$(nbg 0 trace "$(ip4 2)" "$(ip4 0)" tcp 22)" 'verdict: +(deny|drop)' "trace n2 tcp 22"
check_match "$(nbg 0 trace "$(ip4 2)" "$(ip4 0)" tcp 22)" 'rule: +default' "trace n2 tcp 22 rule"

# unguarding restores plain WireGuard
check nbg 0 dev del wg0
expect_ok 2 tcp "$(ip4 0)" 22
done_ok
