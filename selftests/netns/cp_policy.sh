#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Policy changes on the server reach the nodes' kernels within a bounded
# time, including for connections that are already open: a node removed
# from a group loses access at once. Server restart and helper restart
# keep enforcement (the kernel ruleset is never flushed); a helper that
# was down while the policy changed catches up when it comes back; the
# helper reconnects on its own after the server returns.
source "$(dirname "$0")/cplib.sh"
need_nbguard
BOUND_MS=${BOUND_MS:-15000}	# generous: TCG is slow

cp_start_pair
ns b nbg-probe serve tcp 80 81 >/dev/null 2>&1 || fail "serve"
check tcp_ok a "$B4" 80
rc=0; ns a nbg-probe tcp "$B4" 81 -t "$DROP_MS" >/dev/null 2>&1 || rc=$?
check_eq "$rc" 1 "a -> b tcp 81 dropped"

kernel_verdict() { ns b nbctl --json trace "$A4" "$B4" tcp 80 | jq -r .verdict; }

# 1. a leaves "clients" while it has a connection open to b:80.
ns a nbg-probe stream "$B4" 80 --secs 30 >"$CP/stream.out" 2>&1 &
stream=$!
sleep 2
grep -q connected "$CP/stream.out" || fail "stream did not connect"
sed -i 's/    groups: \[clients, monitors\]/    groups: [monitors]/' "$P"
t0=$(now_ms)
check nbmgmt policy reload --dir "$MGMT_DIR"
wait_until $((BOUND_MS / 1000)) bash -c "[[ \$(ip netns exec b nbctl --json trace $A4 $B4 tcp 80 | jq -r .verdict) == deny ]]" ||
	{ helper_log b; fail "policy change did not reach b's kernel within ${BOUND_MS} ms"; }
ms=$(ms_since "$t0")
echo "# metric: policy change to enforcement: $ms ms"
pass "revocation enforced in b's kernel after $ms ms"
rc=0; wait "$stream" || rc=$?
cat "$CP/stream.out" | sed 's/^/    /'
check_eq "$rc" 1 "the open connection stopped (stream exit)"
check_match "$(tail -n1 "$CP/stream.out")" "lost_at_ms [0-9]+" "stream lost its echoes"
rc=0; ns a nbg-probe tcp "$B4" 80 -t "$DROP_MS" >/dev/null 2>&1 || rc=$?
check_eq "$rc" 1 "new connection a -> b:80 dropped"
check can_ping a "$B4"		# still peers through "ping"

# 2. Server restart: enforcement stays, helpers reconnect by themselves.
gen_b=$(ns b nbctl --json show | jq .generation)
mgmt_stop
wait_until 20 bash -c "[[ \$(awk '\$1==\"state\"{print \$2}' $CP/a/state/status) == disconnected ]]" ||
	fail "a did not notice the server going away"
pass "a notices the server is gone"
check can_ping a "$B4"
rc=0; ns a nbg-probe tcp "$B4" 80 -t "$DROP_MS" >/dev/null 2>&1 || rc=$?
check_eq "$rc" 1 "server down: a -> b:80 still dropped"
check_eq "$(ns b nbctl --json show | jq .generation)" "$gen_b" "b's kernel generation while the server is down"
grep -q "reconnecting in" "$CP/a/helper.log" || fail "no reconnect backoff logged"
mgmt_start "$P"
wait_connected a 30
wait_connected b 30
pass "both helpers reconnected: $(grep -o 'reconnecting in [0-9]*s' "$CP/a/helper.log" | tr '\n' ' ')"
check can_ping a "$B4"
rc=0; ns a nbg-probe tcp "$B4" 80 -t "$DROP_MS" >/dev/null 2>&1 || rc=$?
check_eq "$rc" 1 "after the server restart: a -> b:80 still dropped"

# 3. Helper restart, and a policy change while b's helper is down.
gen_b=$(ns b nbctl --json show | jq .generation)
rules_b=$(ns b nbctl rules dump)
helper_stop b
check can_ping a "$B4"
check_eq "$(ns b nbctl --json show | jq .generation)" "$gen_b" "b's kernel generation after its helper stopped"
check_eq "$(ns b nbctl rules dump)" "$rules_b" "b's kernel ruleset after its helper stopped"
sed -i 's/    groups: \[monitors\]/    groups: [clients, monitors]/' "$P"
check nbmgmt policy reload --dir "$MGMT_DIR"
sleep 1
rc=0; ns a nbg-probe tcp "$B4" 80 -t "$DROP_MS" >/dev/null 2>&1 || rc=$?
check_eq "$rc" 1 "b's helper down: b's kernel still runs the old policy"
t0=$(now_ms)
helper_start b
wait_until 30 tcp_ok a "$B4" 80 || { helper_log b; fail "b did not catch up with the policy"; }
echo "# metric: helper restart to new policy enforced: $(ms_since "$t0") ms"
pass "b caught up after its restart"
check can_ping a "$B4"
kernel_log_check
done_ok
