#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Enrollment: nodes with a valid setup key enroll, get a map and reach each
# other through WireGuard under the policy; expired, exhausted, revoked and
# unknown keys are refused (no certificate, the error in the status); a
# wrong CA or a wrong server name is refused by the helper before it sends
# anything; a node cannot take another node's name or WireGuard key.
source "$(dirname "$0")/cplib.sh"
need_nbguard

cp_underlay mgmt a b x
mgmt_init mgmt
mgmt_start selftests/netns/cp/mesh.yaml
KEY=$(setup_key --reusable --group nodes)
[[ -n $KEY ]] || fail "no setup key"

t0=$(now_ms)
for n in a b; do helper_config "$n" "$KEY"; helper_start "$n"; done
wait_connected a 30
wait_connected b 30
check_eq "$(stat -c %a "$CP/a/state/tls.key")" 600 "tls.key mode"
check_eq "$(stat -c %a "$CP/a/state/tls.crt")" 600 "tls.crt mode"
A4=$(ov4 a) B4=$(ov4 b)
wait_until 30 can_ping a "$B4" || { helper_log a; helper_log b; fail "a cannot ping b"; }
echo "# metric: helper start to first packet through the tunnel (enrollment included): $(ms_since "$t0") ms"
pass "a pings b ($B4) through the tunnel"
ns b nbg-probe serve tcp 80 81 >/dev/null 2>&1 || fail "serve"
check tcp_ok a "$B4" 80
rc=0; ns a nbg-probe tcp "$B4" 81 -t "$DROP_MS" >/dev/null 2>&1 || rc=$?
check_eq "$rc" 1 "a -> b tcp 81 (not in the policy) dropped"
check_match "$(ns b nbctl rules dump)" "allow in proto tcp .*port 80" "b's kernel ruleset"

# x tries to enroll: expect_refused CODE (the helper keeps retrying; we
# look at what it reported and that it got no certificate)
expect_refused() {
	local code=$1
	[[ $2 == keep ]] || rm -rf "$CP/x/state"
	: >"$CP/x/helper.log"
	helper_start x
	wait_until 15 grep -q "$code" "$CP/x/helper.log" ||
		{ helper_log x; fail "x: expected $code"; }
	[[ ! -e $CP/x/state/tls.crt ]] || fail "x got a certificate despite $code"
	wait_until 5 grep -q "^last_error.*$code" "$CP/x/state/status" ||
		{ cat "$CP/x/state/status"; helper_log x; fail "x's status does not say $code"; }
	helper_stop x
	pass "x refused: $(grep -m1 -o "$code.*" "$CP/x/helper.log")"
}

K=$(setup_key --expires 1 --group nodes)
sleep 2
helper_config x "$K"; expect_refused KEY_EXPIRED
K=$(setup_key --uses 1 --group nodes)
helper_config x "$K"
helper_start x; wait_connected x 30; helper_stop x
rm -rf "$CP/x/state"
helper_config x "$K"; expect_refused KEY_EXHAUSTED
K=$(setup_key --group nodes)
check nbmgmt setup-key revoke "$K" --dir "$MGMT_DIR"
helper_config x "$K"; expect_refused KEY_REVOKED
helper_config x "nbk_0000000000000000000000000000000000000000"; expect_refused KEY_INVALID

# Wrong CA, wrong server name: refused by the helper during TLS.
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
	-keyout "$CP/evil.key" -out "$CP/evil.crt" -subj /CN=nbmgmt.test -days 1 2>/dev/null
helper_config x "$KEY" "ca_file: $CP/evil.crt"
sed -i "/^ca_file: $(sed 's,/,\\/,g' <<<"$MGMT_DIR")/d" "$CP/x/helper.yaml"
expect_refused "certificate verification failed"
helper_config x "$KEY"
sed -i 's/^server_name: .*/server_name: wrong.test/' "$CP/x/helper.yaml"
expect_refused "certificate verification failed"
check_eq "$(nbmgmt peers list --dir "$MGMT_DIR" | awk 'NR > 1 { print $1 }' | sort | tr '\n' ' ')" "a b x " "enrolled nodes"

# Impersonation 1: enrolling under a's name gives a different name.
rm -rf "$CP/x/state"
helper_config x "$KEY"
sed -i 's/^name: .*/name: a/' "$CP/x/helper.yaml"
helper_start x; wait_connected x 30
[[ $(status_of x name) == a-2 ]] || { cat "$CP/x/helper.yaml"; cat "$CP/x/state/status"; helper_log x 50; }
check_eq "$(status_of x name)" "a-2" "x asking to be 'a' is named"
helper_stop x
# a's map still has the real b, and b still reaches a at a's address
check can_ping b "$A4"
# Impersonation 2: a stolen WireGuard key does not enroll.
rm -rf "$CP/x/state"; mkdir -p -m 0700 "$CP/x/state"
cp "$CP/a/state/wg.key" "$CP/x/state/wg.key"
helper_config x "$KEY"
expect_refused PUBKEY_IN_USE keep
# x's interface kept its a-2 peers; a helper without a stored map drops
# them, or x would speak to b as a with the stolen key
check_eq "$(ns x wg show nbg0 peers)" "" "x's stale peers dropped"
# Impersonation 3: a's certificate without a's TLS key cannot log in.
rm -rf "$CP/x/state"; mkdir -p -m 0700 "$CP/x/state"
cp "$CP/a/state/tls.crt" "$CP/x/state/tls.crt"
(umask 077; openssl ecparam -name prime256v1 -genkey -noout -out "$CP/x/state/tls.key" 2>/dev/null)
helper_config x ""
rm -f "$CP/x/helper.log"; helper_start x
wait_until 15 grep -qi "TLS\|key values mismatch\|private key" "$CP/x/helper.log" || { helper_log x; fail "x logged in with a's cert"; }
helper_stop x
check_match "$(status_of x state)" "disconnected" "x with a's certificate"
check can_ping a "$B4"

# Removal: the server forgets b; b's certificate stops working, a drops b.
PUB_B=$(ns b wg show nbg0 public-key)
check nbmgmt peer remove b --dir "$MGMT_DIR"
wait_until 15 grep -q NOT_ENROLLED "$CP/b/helper.log" || { helper_log b; fail "b was not told it is removed"; }
pass "b: $(grep -m1 -o 'NOT_ENROLLED.*' "$CP/b/helper.log")"
wait_until 15 bash -c "! ip netns exec a wg show nbg0 peers | grep -qF '$PUB_B'" || fail "a still has b as a peer"
pass "a dropped b"
rc=0; ns b ping -c 1 -W 1 "$A4" >/dev/null 2>&1 || rc=$?
((rc != 0)) || fail "b still reaches a"
pass "b no longer reaches a"
kernel_log_check
done_ok
