#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Garbage, oversized frames, wrong versions and protocol violations sent to
# the server are refused and affect nobody else: the connected helpers keep
# their sessions (same connected_since) and still get policy updates.
source "$(dirname "$0")/cplib.sh"
need_nbguard

cp_start_pair x
since_a=$(status_of a connected_since)
since_b=$(status_of b connected_since)
serial_b=$(status_of b serial)

S=${CP_ADDR[mgmt]}:$MGMT_PORT
for what in garbage oversize badversion nohello login-nocert badcsr; do
	rc=0
	out=$(ns x nbmgmt-client -s "$S" --ca "$MGMT_DIR/ca.crt" --verify-name nbmgmt.test raw "$what" --key "$KEY" 2>&1) || rc=$?
	# nbmgmt-client exits 0 when the server answered ERROR and closed
	((rc == 0)) && grep -q '^error ' <<<"$out" && grep -q '^closed' <<<"$out" ||
		{ echo "$out"; fail "raw $what: server did not refuse and close (exit $rc)"; }
	pass "raw $what refused: $(grep -m1 '^error' <<<"$out")"
done
# Plain TCP garbage (no TLS at all) and a flood of half-open connections.
for i in $(seq 20); do
	ns x bash -c "exec 3<>/dev/tcp/${CP_ADDR[mgmt]}/$MGMT_PORT; head -c 4096 /dev/urandom >&3; exec 3>&-" 2>/dev/null || true
done
pass "20 connections of random bytes sent"
kill -0 "$MGMT_PID" || fail "nbmgmt died"
pass "nbmgmt still running"
check_eq "$(status_of a connected_since)" "$since_a" "a's session untouched"
check_eq "$(status_of b connected_since)" "$since_b" "b's session untouched"

# ... and the server still pushes policy to them.
sed -i 's/    groups: \[clients, monitors\]/    groups: [monitors]/' "$P"
check nbmgmt policy reload --dir "$MGMT_DIR"
wait_until 15 bash -c "[[ \$(awk '\$1==\"serial\"{print \$2}' $CP/b/state/status) -gt $serial_b ]]" || fail "b got no new map"
pass "b got map $(status_of b serial) after the garbage"
check can_ping a "$B4"
kernel_log_check
done_ok
