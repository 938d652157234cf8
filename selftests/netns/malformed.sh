#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Bad input changes nothing: malformed, out-of-range, truncated and
# oversized netlink requests are rejected with an extack message (nbg-rawnl
# checks each, and that the generation did not move); a bad ruleset file is
# refused by nbctl with FILE:LINE:COL; and the running ruleset, devices and
# defaults are the same afterwards.
source "$(dirname "$0")/lib.sh"
need_nbguard
command -v nbg-rawnl >/dev/null || fail "nbg-rawnl is not built"

setup_wg 2
serve 0 tcp 22
guard 0
load_rules 0 <<EOR
$(std_idents 2)
rule 1 allow in proto tcp src ident 1 port 22
EOR
dump=$(nbg 0 rules dump)
show=$(nbg 0 --json show)

out=$(n0 nbg-rawnl all 2>&1) && rc=0 || rc=$?
echo "$out" | sed 's/^/    /'
((rc == 0)) || fail "nbg-rawnl: some malformed request was accepted or had no extack (exit $rc)"
lines=$(grep -c ': rejected: ' <<<"$out" || true)
((lines >= 15)) || fail "nbg-rawnl judged only $lines requests"
pass "$lines malformed requests rejected with extack, generation unchanged"

# nbctl surfaces the kernel's extack: an identity name the kernel refuses
# cannot come from the file parser, so use a limit: a rule selecting an
# identity that does not exist in the transaction.
bad_file() {
	printf '%s\n' "$@" >/tmp/bad.rules
	n0 nbctl rules load /tmp/bad.rules
}
check_fail bad_file "rule 1 allow in proto tcp src ident 1 port 22" "rule 2 allow in proto tcp port 70000"
check_match "$_out" '/tmp/bad.rules:2:[0-9]+' "error names file:line:col"
check_fail bad_file "identity 1 a prefix 10.0.0.1/24"
check_match "$_out" '/tmp/bad.rules:1:[0-9]+' "host bits: file:line:col"
check_fail bad_file "rule 5 allow in proto icmp port 22"
check_fail bad_file "rule 0 allow in"
check_fail bad_file "rule 3 allow sideways"
check_fail bad_file "identity 4 x prefix 10.0.0.0/8" "identity 4 y prefix 10.1.0.0/16"

check_eq "$(nbg 0 rules dump)" "$dump" "ruleset after rejected input"
check_eq "$(nbg 0 --json show)" "$show" "status after rejected input"
expect_ok 1 tcp "$(ip4 0)" 22
done_ok
