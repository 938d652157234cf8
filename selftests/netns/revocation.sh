#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Revocation cuts established connections: every packet of a flow a peer
# started is classified, so loading a ruleset without the allow rule stops
# an open TCP connection at its next packet (IPv4 and IPv6, by removing the
# rule and by removing the identity from the group a rule allows). A swap
# that keeps the rule leaves the connection alone.
source "$(dirname "$0")/lib.sh"
need_nbguard

setup_wg 3
serve 0 tcp 5000
serve 0 tcp -6 5000
guard 0

ALLOW=$(std_idents 3; echo "rule 10 allow in proto tcp src group 10 port 5000"
	echo "rule 11 allow in proto tcp src ident 2 port 5000")

# stream_then FROM ADDR SECS RULESET: start a stream, swap in RULESET after
# 1.5 s; sets STREAM_RC, STREAM_OUT and SWAP_AT_MS (swap time from connect).
stream_then() {
	local from=$1 addr=$2 secs=$3 rules=$4 t_conn out=/tmp/stream.$$
	ip netns exec "n$from" nbg-probe stream "$addr" 5000 --secs "$secs" >"$out" 2>&1 &
	local pid=$!
	wait_for 10 grep -q connected "$out" || { cat "$out"; fail "stream to $addr did not connect"; }
	t_conn=${EPOCHREALTIME/./}
	sleep 1.5
	load_rules 0 <<<"$rules"
	SWAP_AT_MS=$(( (${EPOCHREALTIME/./} - t_conn) / 1000 ))
	STREAM_RC=0
	wait "$pid" || STREAM_RC=$?
	STREAM_OUT=$(cat "$out")
	echo "    $STREAM_OUT (swap at ${SWAP_AT_MS} ms)"
}

lost_at() { sed -n 's/.*lost_at_ms \(-\?[0-9]*\).*/\1/p' <<<"$STREAM_OUT"; }

# A swap that keeps the allow rule (other rule ids, other rules): no loss.
load_rules 0 <<<"$ALLOW"
stream_then 1 "$(ip4 0)" 4 "$ALLOW
rule 50 deny in proto udp src any"
((STREAM_RC == 0)) || fail "stream broke on a swap that keeps its rule"
pass "a swap keeping the rule leaves an open connection alone"

# Revoke by deleting the rule (IPv4, identity rule).
load_rules 0 <<<"$ALLOW"
stream_then 2 "$(ip4 0)" 6 "$(std_idents 3; echo "rule 10 allow in proto tcp src group 10 port 5000")"
((STREAM_RC == 1)) || fail "IPv4 stream survived revocation (exit $STREAM_RC)"
l=$(lost_at)
((l >= 1000 && l <= SWAP_AT_MS + 500)) ||
	fail "IPv4 stream lost at ${l} ms, revoked at ${SWAP_AT_MS} ms"
pass "revoking rule 11 cut n2's open IPv4 connection (lost at ${l} ms, swap ${SWAP_AT_MS} ms)"
# and new connections are refused too
expect_drop 2 tcp "$(ip4 0)" 5000
expect_ok 1 tcp "$(ip4 0)" 5000

# Revoke by moving n1 out of group 10 (IPv6).
load_rules 0 <<<"$ALLOW"
stream_then 1 "$(ip6 0)" 6 "$(std_idents 3 | sed 's/group 10/group 30/')
rule 10 allow in proto tcp src group 10 port 5000
rule 11 allow in proto tcp src ident 2 port 5000"
((STREAM_RC == 1)) || fail "IPv6 stream survived revocation (exit $STREAM_RC)"
l=$(lost_at)
((l >= 1000 && l <= SWAP_AT_MS + 500)) ||
	fail "IPv6 stream lost at ${l} ms, revoked at ${SWAP_AT_MS} ms"
pass "leaving group 10 cut n1's open IPv6 connection (lost at ${l} ms, swap ${SWAP_AT_MS} ms)"
expect_ok 2 tcp "$(ip6 0)" 5000

# flush revokes everything
load_rules 0 <<<"$ALLOW"
stream_then 2 "$(ip4 0)" 5 ""
((STREAM_RC == 1)) || fail "stream survived an empty ruleset (exit $STREAM_RC)"
pass "an empty ruleset cuts open connections"
done_ok
