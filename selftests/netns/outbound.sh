#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Replies to flows the guarded node started pass the inbound default deny
# (connection tracking), while the same peer still cannot start a flow of
# its own. With --outbound, `out` rules and the outbound default apply to
# traffic the node sends.
source "$(dirname "$0")/lib.sh"
need_nbguard

setup_wg 3
for i in 1 2; do
	serve "$i" tcp 80
	serve "$i" tcp -6 80
	serve "$i" udp 53
	serve "$i" udp -6 53
done
serve 0 tcp 80
guard 0

# Empty ruleset: inbound denied, but replies to n0's own flows pass.
expect_ok 0 tcp "$(ip4 1)" 80
expect_ok 0 udp "$(ip4 1)" 53
expect_ok 0 icmp "$(ip4 1)"
expect_ok 0 tcp "$(ip6 2)" 80
expect_ok 0 udp "$(ip6 2)" 53
expect_ok 0 icmp "$(ip6 2)"
expect_drop 1 tcp "$(ip4 0)" 80
expect_drop 2 icmp "$(ip6 0)"
# A refusal (RST, ICMP port unreachable) answering n0 is a reply too.
expect_refused 0 tcp "$(ip4 1)" 81
expect_refused 0 udp "$(ip6 1)" 54

# Without --outbound, out rules are not consulted.
load_rules 0 <<EOR
$(std_idents 3)
default out deny
EOR
expect_ok 0 tcp "$(ip4 1)" 80

# --outbound: default-out deny, an out rule opens tcp 80 to n2 only.
check nbg 0 dev del wg0
guard 0 --outbound
check_match "$(nbg 0 --json dev show)" '"outbound": *true' "dev show --outbound"
load_rules 0 <<EOR
$(std_idents 3)
default out deny
rule 300 allow out proto tcp dst ident 2 port 80
rule 301 allow out proto udp dst group 10 port 53
EOR
check_match "$(nbg 0 --json show)" '"default_out": *"(deny|drop)"' "default_out"
expect_ok 0 tcp "$(ip4 2)" 80
expect_ok 0 tcp "$(ip6 2)" 80
expect_drop 0 tcp "$(ip4 1)" 80
expect_drop 0 udp "$(ip4 2)" 53
expect_ok 0 udp "$(ip6 1)" 53
expect_drop 0 icmp "$(ip4 1)"
check_match "$(nbg 0 trace "$(ip4 0)" "$(ip4 2)" tcp 80 --out)" 'rule: +300' "trace --out"
# Outbound allow does not open inbound: n2 still cannot reach n0.
expect_drop 2 tcp "$(ip4 0)" 80

# default-out back to allow through nbctl config
check nbg 0 config set default-out allow
expect_ok 0 icmp "$(ip4 1)"
expect_ok 0 tcp "$(ip4 1)" 80
done_ok
