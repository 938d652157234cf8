#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# nbguard state is per network namespace: devices, rulesets, defaults,
# generations and counters of one namespace affect no other.
source "$(dirname "$0")/lib.sh"
need_nbguard

setup_wg 4
for i in 0 1 2; do serve "$i" tcp 80; done
guard 0
guard 1
load_rules 0 <<EOR
$(std_idents)
rule 100 allow in proto tcp src ident 2 port 80
EOR
load_rules 1 <<EOR
identity 7 other prefix 10.77.0.13/32
rule 700 allow in proto tcp src ident 7 port 80
rule 701 allow in proto tcp src prefix 10.77.0.12/32 port 80
EOR
check_eq "$(nfield 0 rules show)" 1 "n0 rules"
check_eq "$(nfield 1 rules show)" 2 "n1 rules"
check_eq "$(nfield 2 rules show)" 0 "n2 (unguarded) rules"
check_eq "$(nbg 2 dev show | grep -c wg0 || true)" 0 "n2 devices"
check_eq "$(nbctl dev show | grep -c wg || true)" 0 "initial namespace devices"
check_match "$(nbg 1 rules dump)" 'rule 700 ' "n1 dump"
if nbg 1 rules dump | grep -q 'rule 100 '; then fail "n0's rule shows in n1"; fi
pass "n1's dump holds only its own rules"

expect_ok 2 tcp "$(ip4 0)" 80
expect_drop 3 tcp "$(ip4 0)" 80
expect_ok 3 tcp "$(ip4 1)" 80
expect_ok 2 tcp "$(ip4 1)" 80
expect_ok 3 tcp "$(ip4 2)" 80

# flush and defaults in n0 leave n1 alone, and the reverse
g1=$(generation 1)
check nbg 0 flush
check nbg 0 config set default-in allow
check_eq "$(generation 1)" "$g1" "n1 generation after n0 flush"
check_eq "$(nfield 1 default_in show)" "$(nfield 2 default_in show)" "n1 default_in untouched"
expect_ok 3 tcp "$(ip4 0)" 80
expect_drop 0 tcp "$(ip4 1)" 80
check nbg 1 dev del wg0
expect_ok 0 tcp "$(ip4 1)" 80
check_eq "$(nbg 0 dev show | grep -c wg0 || true)" 1 "n0 still guards wg0"

# counters are per namespace
check nbg 0 stats --reset
check nbg 0 config set default-in deny
load_rules 0 <<EOR
$(std_idents)
rule 100 allow in proto tcp src ident 2 port 80
EOR
guard 1
load_rules 1 <<EOR
rule 100 allow in proto tcp src any port 80
EOR
check nbg 1 stats --reset
expect_ok 2 tcp "$(ip4 1)" 80
p1=$(stat_packets 1 100)
((p1 > 0)) || fail "n1 rule 100 counted nothing"
check_eq "$(stat_packets 0 100)" 0 "n0 rule 100 packets after traffic to n1"
done_ok
