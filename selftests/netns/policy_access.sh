#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# A real policy file loaded with `nbctl policy load --as srv` on n0: the
# access matrix of alice (n1), bob (n2) and web (n3) towards n0 over
# WireGuard, IPv4 and IPv6, must be exactly what the policy's tests:
# section says. Then: the kernel's trace names the deciding rule, so do
# `nbctl stats/monitor --policy`, a broken policy changes nothing, and a
# revoked rule stops that peer at once.
source "$(dirname "$0")/lib.sh"

POLICY=$NBG_ROOT/selftests/netns/policy_access.yaml
declare -A NODE=([srv]=0 [alice]=1 [bob]=2 [web]=3)

need_nbguard
setup_wg 4
check nbctl policy check "$POLICY"
for v in "" -6; do
	serve 0 tcp $v 22 23 5432 8080 8100
	serve 0 udp $v 53
done
guard 0
check nbg 0 policy load "$POLICY" --as srv
check_match "$(nbg 0 rules dump)" '^rule 1 allow in proto tcp src group 1 ' "dumped ruleset"

# Every expectation of the tests: section, probed for real.
n_probes=0
while read -r from verdict target; do
	dst=${target%%[:/]*}
	proto=${target##*/}
	port=
	[[ $target == *:* ]] && { port=${target#*:}; port=${port%/*}; }
	[[ $dst == srv ]] || fail "test target $dst: only srv (n0) is guarded here"
	case $proto in
	icmp) fams=4 ;;
	icmpv6) fams=6; proto=icmp ;;
	*) fams="4 6" ;;
	esac
	for f in $fams; do
		addr=$(ip$f 0)
		if [[ $verdict == accept ]]; then
			expect_ok "${NODE[$from]}" "$proto" "$addr" $port
		else
			expect_drop "${NODE[$from]}" "$proto" "$addr" $port
		fi
		n_probes=$((n_probes + 1))
	done
done < <(awk '
	/^tests:/ { t = 1; next }
	t && /- from:/ { from = $3 }
	t && /(accept|deny):/ {
		v = $1; sub(":", "", v)
		line = $0; sub(/.*\[/, "", line); sub(/\].*/, "", line)
		n = split(line, items, /, */)
		for (i = 1; i <= n; i++) print from, v, items[i]
	}' "$POLICY")
((n_probes >= 20)) || fail "only $n_probes probes read from the tests section"
pass "$n_probes probes match the tests: section"

# The kernel's own trace, mapped back to rule names through the file.
check_match "$(nbg 0 policy trace --live "$POLICY" alice srv tcp 22)" \
	'^allow alice -> srv tcp port 22: rule dev-ssh \(id 1\) \[kernel\]' "live trace"
check_match "$(nbg 0 policy trace --live "$POLICY" bob srv tcp 23)" \
	'^deny bob -> srv tcp port 23: rule no-laptop-telnet \(id 9\)' "live trace of a deny"
check_match "$(nbg 0 policy trace --live "$POLICY" web srv tcp 22)" \
	'^deny web -> srv tcp port 22: default' "live trace of the default"

# stats and monitor name the rules through the file (--policy).
check nbg 0 stats --reset
expect_ok 1 tcp "$(ip4 0)" 22
out=$(nbg 0 stats --nonzero --policy "$POLICY")
check_match "$out" '^rule 1 dev-ssh +[1-9][0-9]* +[1-9][0-9]*$' "stats --policy"
check_match "$(nbg 0 --json stats --policy "$POLICY")" \
	'\{"rule":1,"rule_name":"dev-ssh","reverse":false,"packets":[1-9]' "stats --json --policy"
check_fail nbg 0 stats --policy /tmp/no-such-policy.yaml
ip netns exec n0 nbctl monitor --count 1 --timeout 20 --policy "$POLICY" >/tmp/mon 2>&1 &
mon=$!
sleep 1
expect_drop 2 tcp "$(ip4 0)" 23
wait "$mon" || { cat /tmp/mon; fail "monitor --policy saw no deny event"; }
check_match "$(cat /tmp/mon)" \
	"wg0 in $(ip4 2) -> $(ip4 0) tcp [0-9]+->23 identity [0-9]+ bob rule 9 no-laptop-telnet$" "monitor --policy"
ip netns exec n0 nbctl --json monitor --count 1 --timeout 20 --policy "$POLICY" >/tmp/mon 2>&1 &
mon=$!
sleep 1
expect_drop 2 tcp "$(ip4 0)" 23
wait "$mon" || { cat /tmp/mon; fail "monitor --json --policy saw no deny event"; }
check_match "$(cat /tmp/mon)" '"identity_name":"bob","rule":9,"rule_name":"no-laptop-telnet","reverse":false' \
	"monitor --json --policy"

# A policy with an error is refused and the running ruleset stays.
before=$(nbg 0 rules dump)
sed 's/ports: \[22\]/ports: [22, 70000]/' "$POLICY" >/tmp/broken.yaml
check_fail nbg 0 policy load /tmp/broken.yaml --as srv
check_match "$_out" 'broken.yaml:[0-9]+:[0-9]+: error: port 70000 out of range' "error location"
check_eq "$(nbg 0 rules dump)" "$before" "ruleset after a failed load"
expect_ok 1 tcp "$(ip4 0)" 22

# Revoke dev-ssh: alice loses ssh at once, bob keeps it.
sed '/name: dev-ssh/a\    enabled: false' "$POLICY" >/tmp/revoked.yaml
check nbg 0 policy load /tmp/revoked.yaml --as srv
expect_drop 1 tcp "$(ip4 0)" 22
expect_drop 1 tcp "$(ip6 0)" 22
expect_ok 2 tcp "$(ip4 0)" 22
done_ok
