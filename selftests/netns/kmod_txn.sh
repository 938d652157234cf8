#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Kernel module behaviours around transactions, memory and devices:
#  - transactions: another socket cannot use a transaction it did not
#    begin (EPERM); a stale base generation fails the commit (ESTALE) and
#    leaves the running ruleset alone; a fifth open transaction is refused
#    (EBUSY); closing the owning socket aborts its transactions; a commit
#    that fails validation frees its transaction; every refusal carries an
#    extack message (nbg-rawnl txn, nbctl --expect-generation);
#  - repeated load / flush / failed-commit cycles give slab and vmalloc
#    memory back (leak check);
#  - a rule whose selectors hold 4096 group ids and 256 prefixes each loads
#    and dumps back identically (load and dump split it into parts, see
#    NBG_RULE_A_CONT); malformed continuations are refused;
#  - FORWARD: a guarded wg0 on a router namespace filters what peers may
#    reach behind it;
#  - a guarded wg0 moved to another namespace leaves the guard list and the
#    module no longer touches its traffic.
source "$(dirname "$0")/lib.sh"
need_nbguard

setup_wg 3

# ------------------------------------------------------------ transactions

rc=0
out=$(n0 nbg-rawnl txn 2>&1) || rc=$?
printf '%s\n' "$out" | sed 's/^/    /'
check_eq "$rc" 0 "nbg-rawnl txn exit status"
check_match "$out" '^txn/add-from-other-socket: rejected: -1 .*: transaction belongs to another socket$' "EPERM for TXN_ADD from another socket"
check_match "$out" '^txn/commit-from-other-socket: rejected: -1 .*: transaction belongs to another socket$' "EPERM for TXN_COMMIT from another socket"
check_match "$out" '^txn/abort-from-other-socket: rejected: -1 .*: transaction belongs to another socket$' "EPERM for TXN_ABORT from another socket"
check_match "$out" '^txn/commit-stale-implicit: rejected: -116 .*: ruleset changed since transaction began$' "ESTALE (implicit base)"
check_match "$out" '^txn/commit-stale-explicit: rejected: -116 .*: ruleset changed since transaction began$' "ESTALE (explicit GENERATION)"
check_match "$out" '^txn/stale-txn-is-gone: rejected: -2 .*: no such transaction' "stale commit freed its transaction"
check_match "$out" '^txn/fifth-transaction: rejected: -16 .*: too many open transactions in this namespace$' "EBUSY for a fifth transaction"
check_match "$out" '^txn/begin-after-owner-closed: ok$' "closing the owner freed its slots"
check_match "$out" '^txn/commit-unknown-identity: rejected: -22 .*: selector references an unknown identity$' "commit-time validation error"
check_match "$out" '^txn/failed-txn-is-gone: rejected: -2 .*: no such transaction' "failed commit freed its transaction"
check_match "$out" '^txn/slot-free-after-failed-commit: ok$' "failed commit freed its slot"
if grep -q FAIL <<<"$out"; then fail "nbg-rawnl txn reported a failure"; fi

# nbctl: a stale --expect-generation changes nothing and says why.
load_rules 0 <<EOR
$(std_idents 3)
rule 1 allow in proto tcp src group 10 port 80
EOR
g=$(generation 0)
before=$(nbg 0 rules dump)
check_fail nbg 0 rules load --expect-generation $((g - 1)) - <<EOR
$(std_idents 3)
rule 2 allow in src any
EOR
check_match "$_out" 'ruleset changed since transaction began' "nbctl shows the ESTALE extack"
check_eq "$(generation 0)" "$g" "generation after the stale load"
check_eq "$(nbg 0 rules dump)" "$before" "running ruleset after the stale load"
check_fail nbg 0 rules load - <<EOR
rule 3 allow in src ident 42
EOR
# (nbctl catches this one before sending; nbg-rawnl txn sent it above)
check_match "$_out" 'stdin>:1:[0-9]+: unknown identity 42' "nbctl names the unknown identity"
check_eq "$(generation 0)" "$g" "generation after the failed commit"
check_eq "$(nbg 0 rules dump)" "$before" "running ruleset after the failed commit"
check nbg 0 rules load --expect-generation "$g" - <<EOR
$(std_idents 3)
EOR
check_eq "$(generation 0)" "$((g + 1))" "generation after a current --expect-generation"

# ------------------------------------------------------------ leak check

awk 'BEGIN {
	for (i = 1; i <= 500; i++)
		printf "identity %d id%d prefix 10.%d.%d.0/24 prefix fd00:%x::/64 group %d\n", i, i, 100 + int(i / 256), i % 256, i, 100 + i % 50
	for (r = 1; r <= 5000; r++)
		printf "rule %d allow in proto tcp src group %d port %d-%d\n", r, 100 + r % 50, 1000 + r, 1000 + r + r % 9
}' >/tmp/leak.rules

mem() { awk -v k="$1:" '$1 == k { print $2 }' /proc/meminfo; }
settle() { sleep 1; echo 3 >/proc/sys/vm/drop_caches 2>/dev/null || true; }
cycle() {
	n0 nbctl rules load /tmp/leak.rules >/dev/null || fail "load"
	n0 nbctl flush >/dev/null || fail "flush"
	# transactions that fail at commit (unknown identity, stale), are
	# aborted, or die with their socket
	n0 nbg-rawnl txn >/dev/null || fail "nbg-rawnl txn"
	# stale: fails at commit
	! n0 nbctl rules load --expect-generation 1 /tmp/leak.rules >/dev/null 2>&1 || fail "stale load accepted"
}
cycle
check n0 nbctl flush
settle
s0=$(mem SUnreclaim) v0=$(mem VmallocUsed)
check n0 nbctl rules load /tmp/leak.rules
rs_kb=$(( $(nfield 0 mem_bytes show) / 1024 ))
settle
sl=$(mem SUnreclaim) vl=$(mem VmallocUsed)
echo "loaded: ruleset ${rs_kb} kB; SUnreclaim ${s0} -> ${sl} kB; VmallocUsed ${v0} -> ${vl} kB"
# The counters must see a loaded ruleset, or they could not see a leak.
check_eq "$(( (sl - s0) + (vl - v0) >= rs_kb / 2 ))" 1 "a loaded ruleset shows in SUnreclaim + VmallocUsed"
check n0 nbctl flush
settle
CYCLES=10
for ((c = 0; c < CYCLES; c++)); do cycle; done
settle
s1=$(mem SUnreclaim) v1=$(mem VmallocUsed)
echo "ruleset ${rs_kb} kB; SUnreclaim ${s0} -> ${s1} kB; VmallocUsed ${v0} -> ${v1} kB"
# Leaking one ruleset per cycle would show as CYCLES * rs_kb.
tol=$(( CYCLES * rs_kb / 4 ))
((tol >= 512)) || fail "ruleset too small (${rs_kb} kB) for the leak check to see a leak"
check_eq "$(( s1 - s0 < tol ))" 1 "SUnreclaim grew $((s1 - s0)) kB (< $tol kB)"
check_eq "$(( v1 - v0 < tol ))" 1 "VmallocUsed grew $((v1 - v0)) kB (< $tol kB)"

# ------------------------------------------------------------ a huge rule

# 4096 group ids and 256 prefixes in both selectors: larger than a netlink
# attribute (64 KiB) and a dump message, so load and dump both split it.
awk 'BEGIN {
	printf "identity 1 n1 prefix 10.77.0.11/32 group 1\n"
	# small rules first: the big one then starts in a half-full message
	for (r = 1; r <= 6; r++)
		printf "rule %d allow in proto icmp src ident 1\n", r
	split("src dst", name)
	for (s = 0; s < 2; s++) {
		sel[s] = ""
		for (g = 1; g <= 4096; g++)
			sel[s] = sel[s] sprintf(" %s group %d", name[s + 1], g + s * 100000)
		for (p = 0; p < 256; p++)
			sel[s] = sel[s] sprintf(" %s prefix 10.%d.%d.0/24", name[s + 1], 200 + s, p)
	}
	printf "rule 7 allow in proto tcp%s%s port 22 port 80-90\n", sel[0], sel[1]
	printf "rule 8 deny in proto udp src ident 1 port 53\n"
}' >/tmp/huge.rules
check n0 nbctl rules load /tmp/huge.rules
check n0 nbctl rules dump
dump=$_out
check_eq "$(grep -c '^rule ' <<<"$dump")" 8 "rules dumped"
# rule 7's items as "selector kind value" lines, sorted
norm() {
	awk '$1 == "rule" && $2 == 7 {
		s = "-"
		for (i = 3; i <= NF; i++)
			if ($i == "src" || $i == "dst") s = $i
			else if ($i ~ /^(group|ident|prefix|port)$/) { print s, $i, $(i + 1); i++ }
			else print "field", $i
	}' | sort
}
want=$(norm </tmp/huge.rules | md5sum)
got=$(norm <<<"$dump" | md5sum)
check_eq "$(grep -E '^rule 7 ' <<<"$dump" | grep -o ' group ' | wc -l)" 8192 "group ids in the dumped rule"
check_eq "$(grep -E '^rule 7 ' <<<"$dump" | grep -o ' prefix ' | wc -l)" 512 "prefixes in the dumped rule"
check_eq "$got" "$want" "dumped rule 7 (items, sorted) = loaded rule 7"
check_match "$dump" '^rule 8 deny in proto udp src ident 1 port 53$' "the rule after it"
# The dump loads again to the same dump.
check n0 sh -c 'nbctl rules dump | nbctl rules load -'
check_eq "$(nbg 0 rules dump | grep -v '^#')" "$(grep -v '^#' <<<"$dump")" "reloaded dump"
check n0 nbctl flush

# Malformed continuations are refused with a reason and change nothing.
rc=0
out=$(n0 nbg-rawnl cont 2>&1) || rc=$?
printf '%s\n' "$out" | sed 's/^/    /'
check_eq "$rc" 0 "nbg-rawnl cont exit status"
check_match "$out" '^cont/first-in-transaction: rejected: -22 .*: rule continuation does not follow its rule$' "continuation without its rule"
check_match "$out" '^cont/other-rule-id: rejected: -22 .*: rule continuation does not follow its rule$' "continuation of another rule"
check_match "$out" '^cont/carries-action: rejected: -22 .*: a rule continuation carries only ID, SRC, DST and PORTS$' "continuation with ACTION"
check_match "$out" '^cont/after-any: rejected: -22 .*: selector ANY excludes other items$' "continuation of an ANY selector"
check_match "$out" '^cont/4097-groups: rejected: -7 .*: rule continuation exceeds a per-rule limit$' "continuation past NBG_MAX_SEL_ITEMS"

# ------------------------------------------------------------ FORWARD

# n3 is a host behind n0 (veth, 192.168.50.0/24); n1 and n2 route to it
# through their WireGuard tunnel to n0.
add_netns n3
n0 ip link add v0 type veth peer name v3
n0 ip link set v3 netns n3
n0 ip addr add 192.168.50.1/24 dev v0
n0 ip link set v0 up
n3 ip addr add 192.168.50.2/24 dev v3
n3 ip link set v3 up
n3 ip route add default via 192.168.50.1
n0 sysctl -qw net.ipv4.ip_forward=1
for i in 1 2; do
	n$i wg set wg0 peer "${WG_PUB[0]}" allowed-ips "$(ip4 0)/32,$(ip6 0)/128,192.168.50.0/24"
	n$i ip route add 192.168.50.0/24 dev wg0
done
serve 3 tcp 80
expect_ok 1 tcp 192.168.50.2 80
expect_ok 2 tcp 192.168.50.2 80
guard 0
load_rules 0 <<EOR
$(std_idents 3)
rule 1 allow in proto tcp src ident 1 dst prefix 192.168.50.2/32 port 80
EOR
expect_ok 1 tcp 192.168.50.2 80
expect_drop 2 tcp 192.168.50.2 80
check_eq "$(( $(stat_packets 0 1) > 0 ))" 1 "rule 1 counted forwarded packets"
check_eq "$(( $(stat_packets 0 default-in) > 0 ))" 1 "default-in counted n2's forwarded packets"

# ------------------------------------------------------------ netns move

devs() { nbg "$1" dev show | awk '{ print $1 }' | sort | tr '\n' ' '; }
serve 0 tcp 81
expect_drop 1 tcp "$(ip4 0)" 81
check_eq "$(devs 0)" "wg0 " "guarded in n0"
add_netns m0
n0 ip link set wg0 netns m0
check_eq "$(devs 0)" "" "n0 guard list after moving wg0 away"
check_eq "$(ip netns exec m0 nbctl dev show)" "" "m0 guard list"
ip -n m0 addr add "$(ip4 0)/24" dev wg0
ip -n m0 link set wg0 up
ip netns exec m0 nbg-probe serve tcp 81 || fail "m0: nbg-probe serve"
# Going down on the move cleared wg0's sessions: handshake again from m0.
ip netns exec m0 ping -c 1 -W 5 -q "$(ip4 1)" >/dev/null || fail "m0 -> n1 over the moved wg0"
# The rules that dropped it still run in n0; in m0 nothing filters.
d0=$(stat_packets 0 default-in)
expect_ok 1 tcp "$(ip4 0)" 81
check_eq "$(stat_packets 0 default-in)" "$d0" "n0 default-in count after traffic through the moved wg0"
done_ok
