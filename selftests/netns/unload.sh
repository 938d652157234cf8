#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Unloading nbguard.ko under traffic, with rulesets and guarded devices in
# several namespaces, an event listener attached and deny events flowing,
# is clean: rmmod succeeds, traffic then flows unfiltered, the kernel logs
# nothing, no nbguard slab cache is left; the module loads again with fresh
# state.
source "$(dirname "$0")/lib.sh"
need_nbguard
[[ -f ${NBG_MODULE:-} ]] || fail "NBG_MODULE (the .ko to reload) is not set"

setup_wg 4
for i in 0 1 2; do
	serve "$i" udp 53
	guard "$i"
	load_rules "$i" <<EOR
$(std_idents)
rule 1 allow in proto udp src ident 1 port 53
rule 2 allow in proto udp src ident $((i == 1 ? 3 : 2)) port 53
EOR
done
expect_ok 1 udp "$(ip4 0)" 53
expect_drop 3 udp "$(ip4 0)" 53

kernel_log_clear
# allowed floods into three guarded namespaces, a denied one raising
# events, and a monitor listening in n0
ip netns exec n1 nbg-probe flood udp "$(ip4 0)" 53 --count 100000000 -t 300 >/tmp/f1 &
ip netns exec n3 nbg-probe flood udp "$(ip4 1)" 53 --count 100000000 -t 300 >/tmp/f2 &
ip netns exec n1 nbg-probe flood udp "$(ip4 2)" 53 --count 100000000 -t 300 >/tmp/f3 &
ip netns exec n3 nbg-probe flood udp "$(ip4 0)" 53 --count 100000000 -t 20 >/tmp/f4 &
ip netns exec n0 nbctl monitor >/tmp/mon 2>&1 &
sleep 2
wait_for 10 grep -q . /tmp/mon || fail "no deny events before the unload"
check rmmod nbguard
[[ ! -d /sys/module/nbguard ]] || fail "module still present"
pass "nbguard.ko unloaded under traffic"
sleep 1
# without the module the denied peer gets through
expect_ok 3 udp "$(ip4 0)" 53
for p in $(jobs -p); do kill -TERM "$p" 2>/dev/null || true; done
wait || true
for f in /tmp/f1 /tmp/f2 /tmp/f3; do
	read -r _ sent _ received _ <"$f" || fail "flood $f: $(cat "$f")"
	((received > 0)) || fail "flood $f moved no traffic: $(cat "$f")"
done
pass "traffic ran during the unload ($(cat /tmp/f1))"
left=$(awk 'NR > 2 && $1 ~ /nbg|nbguard/' /proc/slabinfo)
[[ -z $left ]] || { echo "$left"; fail "nbguard slab caches left after unload"; }
pass "no nbguard slab cache left"
kernel_log_check "after unload"

check insmod "$NBG_MODULE"
check_eq "$(nbg 0 dev show | grep -c . || true)" 0 "no devices guarded after reload"
check_eq "$(nfield 0 rules show)" 0 "no rules after reload"
guard 0
expect_drop 1 udp "$(ip4 0)" 53
done_ok
