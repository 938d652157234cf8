#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Per-rule counters and deny events match the traffic sent: N allowed
# datagrams count N on their rule, N denied ones count N on the deny rule
# and raise N events naming peer, rule, ports; the event rate limit
# suppresses and counts the excess.
source "$(dirname "$0")/lib.sh"
need_nbguard

setup_wg 3
serve 0 udp 53
guard 0
load_rules 0 <<EOR
$(std_idents 3)
rule 100 allow in proto udp src ident 1 port 53
rule 101 deny in proto udp src ident 2 port 54
EOR
check nbg 0 stats --reset
check_eq "$(stat_packets 0 100)" 0 "rule 100 after reset"

# allowed: one flow of 500 datagrams, all echoed
out=$(n1 nbg-probe flood udp "$(ip4 0)" 53 --count 500) || fail "flood: $out"
check_eq "$(stat_packets 0 100)" 500 "rule 100 packets"
bytes=$(n0 nbctl stats | awk '$1 == "rule" && $2 == 100 { print $4 }')
((bytes >= 500 * 29)) || fail "rule 100 bytes $bytes < 500 IPv4+UDP datagrams"
pass "rule 100 bytes = $bytes"

# denied: 7 single datagrams, each one event
ip netns exec n0 nbctl --json monitor --count 7 --timeout 60 >/tmp/mon.json 2>/tmp/mon.err &
mon=$!
sleep 1
for ((k = 0; k < 7; k++)); do
	probe 2 udp "$(ip4 0)" 54 300 && fail "denied datagram was answered" || true
done
wait "$mon" || { cat /tmp/mon.err; fail "nbctl monitor did not see 7 events"; }
check_eq "$(stat_packets 0 101)" 7 "rule 101 packets"
check_eq "$(jq -s 'length' /tmp/mon.json)" 7 "events"
check_eq "$(jq -s '[.[] | select(.rule == 101 and .src == "10.77.0.12" and .dst == "10.77.0.10" and .dport == 54 and .proto == "udp" and .identity == 2 and .direction == "in")] | length' /tmp/mon.json)" 7 "events naming n2, rule 101, udp 54"

# default deny: counted on the default and reported with rule "default"
ip netns exec n0 nbctl --json monitor --count 3 --timeout 60 >/tmp/mon.json 2>/tmp/mon.err &
mon=$!
sleep 1
before=$(stat_packets 0 default-in)
for ((k = 0; k < 3; k++)); do
	probe 2 udp "$(ip6 0)" 55 300 && fail "default-denied datagram answered" || true
done
wait "$mon" || { cat /tmp/mon.err; fail "nbctl monitor did not see 3 default events"; }
after=$(stat_packets 0 default-in)
((after - before >= 3)) || fail "default-in counted $((after - before)), expected >= 3"
pass "default-in counted $((after - before))"
check_eq "$(jq -s '[.[] | select(.rule == "default" and .src == "fd77::12" and .dport == 55)] | length' /tmp/mon.json)" 3 "default deny events"

# rate limit: 1 event/s, burst 1; 20 denials in a burst raise few events
check nbg 0 config set event-rate 1 burst 1
d0=$(nfield 0 events_dropped show)
ip netns exec n0 nbctl --json monitor --timeout 4 >/tmp/mon.json 2>/dev/null &
mon=$!
sleep 1
out=$(n2 nbg-probe flood udp "$(ip4 0)" 54 --count 20 -t 50) && fail "denied flood was answered" || true
wait "$mon" || true
nev=$(jq -s 'length' /tmp/mon.json)
d1=$(nfield 0 events_dropped show)
((nev >= 1 && nev <= 5)) || fail "rate-limited monitor saw $nev events"
((d1 - d0 >= 15)) || fail "events_dropped moved by $((d1 - d0)), expected >= 15"
pass "rate limit: $nev events, $((d1 - d0)) suppressed"
check_eq "$(stat_packets 0 101)" 27 "rule 101 counts every packet, rate limit or not"
done_ok
