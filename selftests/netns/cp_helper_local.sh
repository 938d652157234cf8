#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# nbhelper without a reachable server, from a stored network map: it
# creates and configures the WireGuard interface over netlink, guards it,
# commits the ruleset; three nodes on one LAN reach each other directly.
# Restarting it keeps the tunnel and the kernel ruleset (same generation);
# a changed map is applied as a diff: a removed peer goes, the remaining
# peer's session is untouched (its counters and handshake survive).
source "$(dirname "$0")/cplib.sh"
need_nbguard

cp_underlay a b c mgmt
MGMT_NODE=mgmt		# nothing listens there: connection refused
mkdir -p "$MGMT_DIR"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
	-keyout "$CP/ca.key" -out "$MGMT_DIR/ca.crt" -subj /CN=test-ca -days 1 2>/dev/null

declare -A PUB OV4 OV6 ID
i=1
for n in a b c; do
	mkdir -p -m 0700 "$CP/$n/state"
	(umask 077; wg genkey >"$CP/$n/state/wg.key")
	PUB[$n]=$(wg pubkey <"$CP/$n/state/wg.key")
	OV4[$n]=100.64.0.$i
	OV6[$n]=fd64::$i
	ID[$n]=$i
	i=$((i + 1))
done

# mkmap NODE SERIAL PEERS...: stored map + ruleset for NODE
mkmap() {
	local n=$1 serial=$2 p; shift 2
	{
		for p in "$@"; do
			echo "identity ${ID[$p]} $p prefix ${OV4[$p]}/32 prefix ${OV6[$p]}/128 group 1"
		done
		echo "rule 1 allow in proto icmp src group 1"
		echo "rule 2 allow in proto icmpv6 src group 1"
		echo "rule 3 allow in proto tcp src group 1 port 80"
	} >"$CP/$n/ruleset"
	{
		echo "serial $serial"
		echo "self $n - ${OV4[$n]}/16 ${OV6[$n]}/64"
		for p in "$@"; do
			echo "peer $p ${PUB[$p]} ${OV4[$p]}/16 ${OV6[$p]}/64 ep ${CP_ADDR[$p]}:51820"
		done
		echo "ruleset $CP/$n/ruleset"
	} | nbh-mkmap >"$CP/$n/state/netmap" || fail "nbh-mkmap for $n"
}

mkmap a 1 b c
mkmap b 1 a c
mkmap c 1 a b
t0=$(now_ms)
for n in a b c; do
	helper_config "$n" ""
	helper_start "$n"
done
wait_until 30 can_ping a "${OV4[b]}" || { helper_log a; helper_log b; fail "a cannot reach b over the overlay"; }
echo "# metric: helper start to first packet through the tunnel: $(ms_since "$t0") ms"
pass "a reaches b through the tunnel"
wait_until 20 can_ping a "${OV4[c]}" || fail "a cannot reach c"
wait_until 20 can_ping c "${OV6[b]}" || fail "c cannot reach b over IPv6"
pass "full mesh over IPv4 and IPv6"

# What the helper set up, as the kernel reports it.
check_eq "$(ns a wg show nbg0 peers | sort | tr '\n' ' ')" "$(printf '%s\n' "${PUB[b]}" "${PUB[c]}" | sort | tr '\n' ' ')" "a's WireGuard peers"
check_eq "$(ns a wg show nbg0 listen-port)" 51820 "listen port"
check_eq "$(ns a wg show nbg0 public-key)" "${PUB[a]}" "device key = stored key"
check_has "$(ns a wg show nbg0 allowed-ips)" "${PUB[b]}	${OV4[b]}/32 ${OV6[b]}/128" "b's allowed IPs"
check_has "$(ns a wg show nbg0 persistent-keepalive)" "${PUB[b]}	5" "keepalive"
check_match "$(ns a ip -4 route show dev nbg0)" "^${OV4[b]} proto static scope link" "route to b"
check_match "$(ns a ip addr show dev nbg0)" "inet ${OV4[a]}/16" "overlay address"
check_match "$(ns a nbctl dev show)" "nbg0" "nbg0 is guarded"
check_eq "$(stat -c %a "$CP/a/state")" 700 "state dir mode"
check_eq "$(stat -c %a "$CP/a/state/wg.key")" 600 "wg.key mode"

# Policy from the map is enforced: port 80 allowed, 81 not.
ns b nbg-probe serve tcp 80 81 >/dev/null 2>&1 || fail "nbg-probe serve in b"
check tcp_ok a "${OV4[b]}" 80
rc=0; ns a nbg-probe tcp "${OV4[b]}" 81 -t "$DROP_MS" >/dev/null 2>&1 || rc=$?
check_eq "$rc" 1 "a -> b tcp 81 (no rule) dropped"

# nbctl status reads what the helper wrote.
out=$(ns a nbctl status --state-dir "$CP/a/state")
check_match "$out" "peers: +2" "nbctl status"
check_match "$out" "serial: +1" "nbctl status serial"
check_eq "$(ns a nbctl status --json --state-dir "$CP/a/state" | jq '.peers | length')" 2 "nbctl status --json peers"
check_eq "$(ns a nbctl status --json --state-dir "$CP/a/state" | jq -r .state)" disconnected "state while the server is down"

# Restart: tunnel and policy stay while the helper is gone; same generation after.
gen=$(status_of a ruleset_generation)
helper_stop a
check can_ping b "${OV4[a]}"
rc=0; ns c nbg-probe tcp "${OV4[a]}" 81 -t "$DROP_MS" >/dev/null 2>&1 || rc=$?
check_eq "$rc" 1 "while the helper is stopped: c -> a tcp 81 still dropped"
helper_start a
wait_until 10 grep -q "re-applying stored network map" "$CP/a/helper.log" || fail "no re-apply"
wait_until 10 grep -q "kernel already enforces this ruleset" "$CP/a/helper.log" ||
	{ helper_log a; fail "helper re-committed an identical ruleset"; }
check_eq "$(ns a nbctl --json show | jq .generation)" "$gen" "kernel generation unchanged across restart"

# Diff: c leaves a's map; b's session must not be disturbed.
check can_ping a "${OV4[b]}"
hs_b=$(ns a wg show nbg0 latest-handshakes | awk -v k="${PUB[b]}" '$1 == k { print $2 }')
rx_b=$(ns a wg show nbg0 transfer | awk -v k="${PUB[b]}" '$1 == k { print $2 }')
helper_stop a
mkmap a 2 b
helper_start a
wait_until 10 bash -c "[[ \$(awk '\$1==\"serial\"{print \$2}' $CP/a/state/status) == 2 ]]" || { helper_log a; fail "map 2 not applied"; }
wait_until 10 bash -c "! ip netns exec a wg show nbg0 peers | grep -q '${PUB[c]}'" || fail "c still a peer"
pass "removed peer c is gone"
check_eq "$(ns a wg show nbg0 peers)" "${PUB[b]}" "only b left"
rx_b2=$(ns a wg show nbg0 transfer | awk -v k="${PUB[b]}" '$1 == k { print $2 }')
hs_b2=$(ns a wg show nbg0 latest-handshakes | awk -v k="${PUB[b]}" '$1 == k { print $2 }')
((rx_b2 >= rx_b)) || fail "b's counters were reset ($rx_b -> $rx_b2): peer re-created"
pass "b's peer kept (rx $rx_b -> $rx_b2)"
check_eq "$hs_b2" "$hs_b" "b's handshake untouched"
check can_ping a "${OV4[b]}"
if ns a ip -4 route show dev nbg0 | grep -q "^${OV4[c]} "; then fail "route to c left behind"; fi
pass "route to c removed"
grep -q "peers: 0 added, 1 removed" "$CP/a/helper.log" || { helper_log a; fail "diff log"; }
pass "map 2 applied as a diff"
kernel_log_check
done_ok
