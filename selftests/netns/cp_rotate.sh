#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Key rotation: `nbhelper rotate-key` on a running node makes a new key,
# tells the server, switches the device; its peers get the new public key
# in their next map. We ping through the tunnel every 50 ms meanwhile and
# report how many packets the rotation cost. Scheduled rotation
# (rotate_interval) happens by itself. Signalling: no endpoint is
# configured anywhere; the nodes find each other through the endpoints
# they report to the server.
source "$(dirname "$0")/cplib.sh"
need_nbguard

cp_underlay mgmt a b
mgmt_init mgmt
mgmt_start selftests/netns/cp/mesh.yaml
KEY=$(setup_key --reusable --group nodes)
helper_config a "$KEY"
helper_config b "$KEY" "rotate_interval: 20s"
for n in a b; do helper_start "$n"; wait_connected "$n" 30; done
A4=$(ov4 a) B4=$(ov4 b)
wait_until 30 can_ping a "$B4" || { helper_log a; helper_log b; fail "a cannot ping b"; }
check_has "$(ns a wg show nbg0 endpoints)" "${CP_ADDR[b]}:51820" "a found b's LAN endpoint"
old=$(ns a wg show nbg0 public-key)

# Rotate a's key under a 50 ms ping stream.
ns b ping -i 0.05 -w 10 -q "$A4" >"$CP/ping.out" 2>&1 &
pinger=$!
sleep 2
out=$(ns a nbhelper rotate-key -c "$CP/a/helper.yaml") || { echo "$out"; helper_log a; fail "rotate-key"; }
pass "rotate-key: $out"
new=$(ns a wg show nbg0 public-key)
[[ $new != "$old" ]] || fail "device key unchanged"
check_has "$out" "$new" "rotate-key answer names the device's new key"
check_eq "$(wg pubkey <"$CP/a/state/wg.key")" "$new" "stored key"
wait_until 15 bash -c "ip netns exec b wg show nbg0 peers | grep -qF '$new'" || fail "b did not get a's new key"
pass "b has a's new key"
ns b wg show nbg0 peers | grep -qF "$old" && fail "b still has a's old key"
pass "a's old key is gone from b"
wait "$pinger" || true
sed 's/^/    /' "$CP/ping.out"
tx=$(sed -n 's/^\([0-9]*\) packets transmitted.*/\1/p' "$CP/ping.out")
rx=$(sed -n 's/.* \([0-9]*\) packets received.*/\1/p' "$CP/ping.out")
[[ -n $tx && -n $rx ]] || fail "no ping summary"
echo "# metric: key rotation: $((tx - rx)) of $tx pings lost (50 ms interval, ~$(((tx - rx) * 50)) ms without connectivity)"
((rx > 0)) || fail "no ping went through"
check can_ping b "$A4"
check_eq "$(status_of a rotations)" 1 "a's rotations"
nbmgmt peers list --dir "$MGMT_DIR" | grep -qF "$new" || fail "server does not list a's new key"
pass "server records a's new key"

# Scheduled rotation on b (every 20 s).
oldb=$(ns b wg show nbg0 public-key)
wait_until 40 bash -c "[[ \$(awk '\$1==\"rotations\"{print \$2}' $CP/b/state/status) -ge 1 ]]" ||
	{ helper_log b; fail "b did not rotate on schedule"; }
[[ $(ns b wg show nbg0 public-key) != "$oldb" ]] || fail "b's device key unchanged"
pass "b rotated on schedule"
wait_until 15 can_ping a "$B4" || fail "a cannot reach b after b's rotation"
pass "a reaches b with b's new key"
kernel_log_check
done_ok
