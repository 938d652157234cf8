#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Port ranges (edges included, neighbours excluded), protocol specificity,
# and deny beats allow whatever the rule ids: a deny rule with a higher id
# than the allow rule still wins, and the verdict is attributed to it.
source "$(dirname "$0")/lib.sh"
need_nbguard

setup_wg 4
serve 0 tcp 7999-8100
serve 0 tcp -6 7999-8100
serve 0 udp 8999-9011
serve 0 udp -6 8999-9011
guard 0

load_rules 0 <<EOR
$(std_idents)
rule 200 allow in proto tcp src any port 8000-8099
rule 201 deny in proto tcp src ident 2 port 8050-8059
rule 202 allow in proto udp src group 20 port 9000-9010 port 8999
rule 203 deny in src ident 3
rule 204 allow in proto tcp src ident 1 port 9000
EOR

# range edges
expect_ok 1 tcp "$(ip4 0)" 8000
expect_ok 1 tcp "$(ip4 0)" 8099
expect_ok 1 tcp "$(ip6 0)" 8042
expect_drop 1 tcp "$(ip4 0)" 7999
expect_drop 1 tcp "$(ip6 0)" 8100
# a deny range inside an allow range (deny has the higher id)
expect_ok 2 tcp "$(ip4 0)" 8049
expect_drop 2 tcp "$(ip4 0)" 8050
expect_drop 2 tcp "$(ip6 0)" 8059
expect_ok 2 tcp "$(ip6 0)" 8060
# deny without protocol or port beats every allow
expect_drop 3 tcp "$(ip4 0)" 8000
expect_drop 3 udp "$(ip6 0)" 9000
# several ranges in one rule, and protocol specificity
expect_ok 2 udp "$(ip4 0)" 8999
expect_ok 2 udp "$(ip4 0)" 9000
expect_ok 2 udp "$(ip6 0)" 9010
expect_drop 2 udp "$(ip4 0)" 9011
expect_drop 1 udp "$(ip4 0)" 9000
expect_drop 2 tcp "$(ip4 0)" 9000
# udp 9000 is allowed for group 20 only; tcp 9000 for n1 only (different servers)
check_match "$(nbg 0 trace "$(ip4 2)" "$(ip4 0)" tcp 8055)" 'rule: +201' "trace deny range"
check_match "$(nbg 0 trace "$(ip6 3)" "$(ip6 0)" tcp 8000)" 'rule: +203' "trace deny beats allow"
check_match "$(nbg 0 trace "$(ip6 3)" "$(ip6 0)" tcp 8000)" 'verdict: +(deny|drop)' "trace deny verdict"
check_match "$(nbg 0 trace "$(ip4 2)" "$(ip4 0)" udp 9005)" 'rule: +202' "trace range"

# Replacing the ruleset with an allow-all keeps the explicit deny ordering:
# a deny with the lowest id is reported even though an allow matches too.
load_rules 0 <<EOR
$(std_idents)
rule 1 deny in proto tcp src group 20 port 8000
rule 2 allow in src any
EOR
expect_drop 2 tcp "$(ip4 0)" 8000
expect_ok 2 tcp "$(ip4 0)" 8001
expect_ok 1 tcp "$(ip4 0)" 8000
expect_ok 3 udp "$(ip4 0)" 9000
done_ok
