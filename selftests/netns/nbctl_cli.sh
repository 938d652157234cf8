#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# nbctl end to end against nbguard.ko: devices, loading and dumping
# rulesets (round trip, stale generation, bad files change nothing),
# trace, stats, monitor, config, flush, --json, and 100,000 rules in one
# transaction.
source "$(dirname "$0")/lib.sh"

need_nbguard
setup_wg 2
serve 0 tcp 22 80
T=$(mktemp -d)

# Devices
check_fail nbg 0 dev add lo
check_match "$_out" "dev add lo: .*: .+" "error for a non-WireGuard device carries the kernel's message"
guard 0
out=$(nbg 0 dev show)
check_match "$out" "^wg0 ifindex [0-9]+ kind wireguard$" "dev show"
out=$(nbg 0 --json dev show)
check_match "$out" '^\[\{"ifname":"wg0","ifindex":[0-9]+,"kind":"wireguard","outbound":false,"any_kind":false\}\]$' "dev show --json"
check nbg 0 dev add wg0 --outbound
check_match "$(nbg 0 dev show)" "^wg0 ifindex [0-9]+ kind wireguard outbound$" "dev add again updates the flags"

# Load, dump, reload
cat >"$T/r1" <<RULES
identity 1 n1 prefix $(ip4 1)/32 prefix $(ip6 1)/128 group 10
rule 100 allow in proto tcp src group 10 port 22
rule 101 deny in proto tcp src ident 1 port 80
rule 102 allow in proto icmp src ident 1
rule 104 deny out proto udp dst ident 1 port 53
RULES
gen=$(nbg 0 show --json | sed 's/.*"generation":\([0-9]*\).*/\1/')
out=$(nbg 0 rules load "$T/r1")
check_eq "$out" "generation $((gen + 1))" "rules load prints the new generation"
nbg 0 rules dump >"$T/d1"
check_match "$(cat "$T/d1")" "^rule 100 allow in proto tcp src group 10 port 22$" "rules dump"
check_match "$(cat "$T/d1")" "^default in deny$" "rules dump has the defaults"
out=$(nbg 0 rules load - <"$T/d1")
check_eq "$out" "generation $((gen + 2))" "dump output loads again"
nbg 0 rules dump >"$T/d2"
check_eq "$(grep -v '^#' "$T/d2")" "$(grep -v '^#' "$T/d1")" "dump after reload is identical"
out=$(nbg 0 --json rules dump)
check_match "$out" '"rules":\[\{"id":100,"action":"allow","direction":"in","proto":"tcp","src":\{"idents":\[\],"groups":\[10\],"prefixes":\[\]\},"dst":"any","ports":\[\{"lo":22,"hi":22\}\]\}' "rules dump --json"

# Stale generation and bad input change nothing
check_fail nbg 0 rules load "$T/r1" --expect-generation "$gen"
check_match "$_out" "rules load: Stale file handle" "stale --expect-generation is refused"
printf 'rule 5 allow proto tcp port 22\nrule 6 allow src ident 9\n' >"$T/bad"
check_fail nbg 0 rules load "$T/bad"
check_eq "$_out" "nbctl: $T/bad:2:24: unknown identity 9" "file errors name line and column"
cur=$(nbg 0 show --json | sed 's/.*"generation":\([0-9]*\).*/\1/')
check_eq "$cur" "$((gen + 2))" "failed loads leave the generation"
check_fail nbg 0 rules load /nonexistent
check_eq "$_out" "nbctl: /nonexistent: No such file or directory" "missing file"

# Trace
out=$(nbg 0 trace "$(ip4 1)" "$(ip4 0)" tcp 22)
check_match "$out" "^verdict:  allow$" "trace allow"
check_match "$out" "^rule:     100 \(rule 100 allow in proto tcp src group 10 port 22\)$" "trace names the rule"
check_match "$out" "^identity: 1 \(n1\)$" "trace names the identity"
out=$(nbg 0 --json trace "$(ip4 1)" "$(ip4 0)" tcp 23)
check_eq "$out" '{"verdict":"deny","rule":"default","identity":1,"identity_name":"n1"}' "trace default --json"
out=$(nbg 0 trace "$(ip4 1)" "$(ip4 0)" tcp 80)
check_match "$out" "^verdict:  deny$" "trace deny rule"
out=$(nbg 0 --json trace "$(ip4 0)" "$(ip4 1)" udp 53 --out)
check_eq "$out" '{"verdict":"deny","rule":104,"rule_text":"rule 104 deny out proto udp dst ident 1 port 53","identity":1,"identity_name":"n1"}' "trace --out"
check_fail nbg 0 trace "$(ip4 1)" "$(ip6 0)" tcp 22
check_fail nbg 0 trace "$(ip4 1)" "$(ip4 0)" tcp 70000

# Traffic, stats, monitor
check nbg 0 stats --reset
expect_ok 1 tcp "$(ip4 0)" 22
out=$(nbg 0 stats --nonzero)
check_match "$out" "^rule 100 +[1-9][0-9]* +[1-9][0-9]*$" "stats count the allowed flow"
out=$(nbg 0 --json stats)
check_match "$out" '\{"rule":"default","direction":"in","packets":[0-9]+,"bytes":[0-9]+\}' "stats --json"
ip netns exec n0 nbctl monitor --count 1 --timeout 20 >"$T/mon" 2>&1 &
mon=$!
sleep 1
expect_drop 1 tcp "$(ip4 0)" 80
wait "$mon" || { cat "$T/mon"; fail "monitor did not see the deny event"; }
check_match "$(cat "$T/mon")" "wg0 in $(ip4 1) -> $(ip4 0) tcp [0-9]+->80 identity 1 n1 rule 101$" "monitor line"
ip netns exec n0 nbctl --json monitor --count 1 --timeout 20 >"$T/mon" 2>&1 &
mon=$!
sleep 1
expect_drop 1 tcp "$(ip4 0)" 23
wait "$mon" || { cat "$T/mon"; fail "monitor --json did not see the deny event"; }
check_match "$(cat "$T/mon")" '"dev":"wg0".*"dport":23,"identity":1,"identity_name":"n1","rule":"default"' "monitor --json"
check_fail nbg 0 monitor --count 1 --timeout 1
check_match "$_out" "timed out after 0 of 1 events" "monitor timeout"

# Config
check nbg 0 config set default-in allow
check_match "$(nbg 0 show)" "^default: +in allow, out allow$" "default-in allow"
expect_ok 1 tcp "$(ip4 0)" 22
check nbg 0 config set default-in deny
check nbg 0 config set event-rate 50 burst 100
check_match "$(nbg 0 show)" "^deny events: +50/s, burst 100$" "event rate"
check_fail nbg 0 config set event-rate 2000000
check_match "$_out" "config set: Numerical result out of range|config set: Invalid argument: .+" "out-of-range rate is refused with a reason"
check_fail nbg 0 config set default-in maybe

# Flush
out=$(nbg 0 flush)
check_match "$out" "^generation [0-9]+$" "flush"
check_match "$(nbg 0 show)" "^rules: +0 " "flush empties the ruleset"

# 100,000 rules in one transaction
awk 'BEGIN { print "identity 1 n1 prefix 10.77.0.11/32";
	     for (i = 1; i <= 100000; i++)
		printf "rule %d %s in proto tcp src ident 1 port %d\n", i, (i % 2 ? "allow" : "deny"), 1000 + i % 60000 }' >"$T/big"
out=$(nbg 0 rules load "$T/big")
check_match "$out" "^generation [0-9]+$" "100000 rules load"
check_match "$(nbg 0 show)" "^rules: +100000 " "100000 rules are in"
n=$(nbg 0 rules dump | grep -c '^rule ')
check_eq "$n" 100000 "dump returns 100000 rules"
n=$(nbg 0 stats | grep -c '^rule [0-9]')
check_eq "$n" 100000 "stats returns 100000 rules"
check nbg 0 flush

# Dumps racing with commits are retried and never mix two rulesets:
# A has only allow rules, B only deny rules.
awk 'BEGIN { for (i = 1; i <= 3000; i++) printf "rule %d allow in proto udp port %d\n", i, i }' >"$T/A"
awk 'BEGIN { for (i = 1; i <= 3000; i++) printf "rule %d deny in proto udp port %d\n", i, i }' >"$T/B"
( for i in 1 2 3 4 5 6 7 8; do
	ip netns exec n0 nbctl rules load "$T/A" >/dev/null
	ip netns exec n0 nbctl rules load "$T/B" >/dev/null
  done ) &
loader=$!
mixed=0 dumps=0
while kill -0 "$loader" 2>/dev/null; do
	NBG_NL_DEBUG=1 nbg 0 rules dump >"$T/dump" 2>>"$T/retries" || fail "rules dump during loads"
	a=$(grep -c ' allow in ' "$T/dump" || true)
	d=$(grep -c ' deny in ' "$T/dump" || true)
	dumps=$((dumps + 1))
	if ! { ((a == 0)) || ((d == 0)); }; then
		mixed=$((mixed + 1))
		echo "    dump $dumps: $a allow and $d deny rules"
	fi
done
wait "$loader" || fail "loads during dumps"
check_eq "$mixed" 0 "none of $dumps dumps during 16 commits mixed two rulesets"
echo "    dumps restarted: $(grep -c restarted "$T/retries" || true) of $dumps"
check nbg 0 flush

# Malformed requests are refused with a message and change nothing
check nbg-rawnl all
check nbg 0 dev del wg0
check_eq "$(nbg 0 dev show)" "" "dev del"
rm -rf "$T"
done_ok
