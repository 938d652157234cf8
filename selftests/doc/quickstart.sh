#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The walk-through of Documentation/nbguard.md, run for real in the VM:
# `selftests/vm/run.sh selftests/doc/quickstart.sh` prints every command
# (after "$ ") and its output, which is what that page shows. It also checks
# the outcomes, so the page cannot drift from what the module does.
source "$(dirname "$0")/../netns/lib.sh"
need_nbguard
setup_wg 3
serve 0 tcp 22 80
show() { echo "\$ $*"; ip netns exec n0 "$@" 2>&1 || true; }

cat >/tmp/rules <<EOR
identity 1 laptop prefix $(ip4 1)/32 prefix $(ip6 1)/128 group 10
identity 2 web1 prefix $(ip4 2)/32 prefix $(ip6 2)/128 group 20
rule 100 allow in proto tcp src group 10 port 22
rule 101 allow in proto tcp src any port 80
rule 102 deny in proto tcp src ident 2 port 22
rule 103 allow in proto icmp src group 10
EOR
echo "\$ cat rules.txt"; cat /tmp/rules
show nbctl dev add lo
show nbctl dev add wg0
show nbctl rules load /tmp/rules
show nbctl show
ip netns exec n0 nbctl monitor --count 2 --timeout 60 >/tmp/mon 2>&1 &
sleep 1
expect_ok 1 tcp "$(ip4 0)" 22
expect_drop 2 tcp "$(ip4 0)" 22
expect_ok 2 tcp "$(ip4 0)" 80
expect_drop 2 icmp "$(ip4 0)"
wait
echo "\$ nbctl monitor"; cat /tmp/mon
check grep -q "web1 rule 102" /tmp/mon
check grep -q "icmp identity 2 web1 default" /tmp/mon
show nbctl stats
check_eq "$(jnbg 0 '.[] | select(.rule == 102) | .packets' stats)" 1
show nbctl trace "$(ip4 2)" "$(ip4 0)" tcp 22
show nbctl trace "$(ip4 1)" "$(ip4 0)" udp 53
echo "rule 999 allow in proto tcp src ident 7 port 1" >/tmp/bad
show nbctl rules load /tmp/bad
show nbctl show
# Counters of rules that keep their id survive a reload (and the
# defaults); a rule that is new starts at zero; --reset zeroes them all.
sed 's/^rule 103 .*/rule 104 allow in proto icmp src group 10/' /tmp/rules >/tmp/rules2
check n0 nbctl rules load /tmp/rules2
check_eq "$(jnbg 0 '.[] | select(.rule == 102) | .packets' stats)" 1 "rule 102 after a reload"
check_eq "$(jnbg 0 '[.[] | select(.rule == "default" and .direction == "in")][0].packets' stats)" 1 "default in after a reload"
check_eq "$(jnbg 0 '.[] | select(.rule == 104) | .packets' stats)" 0 "new rule 104"
check n0 nbctl stats --reset
check_eq "$(jnbg 0 '.[] | select(.rule == 102) | .packets' stats)" 0 "rule 102 after --reset"
