#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The guarded device list: a non-WireGuard link is refused unless
# --any-kind (and is then enforced on like a WireGuard one); a device that
# is deleted or moved to another namespace leaves the guard list and is not
# guarded in its new namespace; a new device with the old name is not
# guarded either.
source "$(dirname "$0")/lib.sh"
need_nbguard

devs() { nbg "$1" dev show | awk '{ print $1 }' | sort | tr '\n' ' '; }

setup_wg 3
serve 0 tcp 80

n0 ip link add v0 type veth peer name v1
n0 ip link set v1 netns n1
n0 ip addr add 192.168.77.1/24 dev v0
n0 ip link set v0 up
n1 ip addr add 192.168.77.2/24 dev v1
n1 ip link set v1 up
expect_ok 1 tcp 192.168.77.1 80

check_fail nbg 0 dev add v0
check_match "$_out" '[Ww]ire[Gg]uard|kind|any-kind' "refusal names the reason"
check_eq "$(devs 0)" "" "nothing guarded after the refusal"
check_fail nbg 0 dev add nosuchdev
check nbg 0 dev add v0 --any-kind
check_match "$(nbg 0 --json dev show)" '"kind": *"veth"' "v0 listed as veth"
# enforced: default deny on the veth too, wg0 untouched
expect_drop 1 tcp 192.168.77.1 80
expect_ok 1 tcp "$(ip4 0)" 80
load_rules 0 <<EOR
rule 1 allow in proto tcp src prefix 192.168.77.2/32 port 80
EOR
expect_ok 1 tcp 192.168.77.1 80

# deleting the device drops it from the list
guard 0
check_eq "$(devs 0)" "v0 wg0 " "guarded devices"
n0 ip link del v0
check_eq "$(devs 0)" "wg0 " "after deleting v0"

# moving a guarded device to another namespace drops it too
n0 ip link add wgx type wireguard
check nbg 0 dev add wgx
check_eq "$(devs 0)" "wg0 wgx " "guarded devices"
n0 ip link set wgx netns n2
check_eq "$(devs 0)" "wg0 " "n0 after moving wgx to n2"
check_eq "$(devs 2)" "" "n2 does not inherit the guard"
n2 ip link set wgx netns n0
check_eq "$(devs 0)" "wg0 " "n0 after wgx came back (not re-guarded)"

# deleting wg0 and creating a new wg0: the new one is not guarded
n0 ip link del wg0
check_eq "$(devs 0)" "" "after deleting wg0"
n0 ip link add wg0 type wireguard
check_eq "$(devs 0)" "" "a new wg0 is not guarded"
check nbg 0 dev add wg0
check nbg 0 dev del wg0
check_fail nbg 0 dev del wg0
done_ok
