#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# nbctl policy on the example policies, as a user runs it: every example
# checks and passes its tests, the broken one fails with located errors,
# compile output is deterministic, diff and trace work, exit codes are
# right. Run from the top of the tree (make check-host does). KTAP.

nbctl=${NBCTL:-build/nbctl}
ex=policy/examples
n=0 failed=0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

ok() {
	n=$((n + 1))
	if [[ $1 == 0 ]]; then echo "ok $n $2"; else echo "not ok $n $2"; failed=$((failed + 1)); fi
}
check() { local name=$1; shift; "$@" >"$tmp/out" 2>&1; ok $? "$name" || true; }
fails() { local name=$1; shift; if "$@" >"$tmp/out" 2>&1; then ok 1 "$name"; else ok 0 "$name"; fi; }

echo "KTAP version 1"
for f in $ex/*.yaml; do
	[[ $f == */typos.yaml ]] && continue
	check "check $(basename "$f")" $nbctl policy check "$f"
	check "test $(basename "$f")" $nbctl policy test "$f"
done

fails "typos.yaml is rejected" $nbctl policy check $ex/typos.yaml
grep -q '^policy/examples/typos.yaml:7:14: error: unknown group' "$tmp/out"; ok $? "typos.yaml: unknown group at 7:14"
grep -q ':17:17: error: reversed port range 9000-8000' "$tmp/out"; ok $? "typos.yaml: reversed range at 17:17"
grep -q ':16:5: error: unknown key .protcol.' "$tmp/out"; ok $? "typos.yaml: typo'd key at 16:5"

$nbctl policy compile $ex/production.yaml --as db1 >"$tmp/c1" 2>&1
$nbctl policy compile $ex/production.yaml --as db1 >"$tmp/c2" 2>&1
cmp -s "$tmp/c1" "$tmp/c2" && grep -q '^rule 1 allow in proto tcp src group 1 ' "$tmp/c1"
ok $? "compile is deterministic and has the dev-ssh rule"
grep -q '^# rule 1 = dev-ssh$' "$tmp/c1"; ok $? "compiled output maps rule ids to names"
fails "compile for an unknown node fails" $nbctl policy compile $ex/production.yaml --as nosuch

$nbctl policy trace $ex/production.yaml alice db1 tcp 22 >"$tmp/out" 2>&1
grep -q '^allow alice -> db1 tcp port 22: rule dev-ssh (id 1)' "$tmp/out"; ok $? "trace: developers reach ssh on production"
$nbctl policy trace $ex/production.yaml alice db1 tcp 5432 >"$tmp/out" 2>&1
grep -q '^deny alice -> db1 tcp port 5432: default' "$tmp/out"; ok $? "trace: developers do not reach the database port"
$nbctl --json policy trace $ex/production.yaml bob db1 tcp 23 >"$tmp/out" 2>&1
grep -q '"verdict":"deny","rule_id":11,"rule":"no-laptop-telnet"' "$tmp/out"; ok $? "trace --json: deny rule wins"

# A broken test must make `policy test` fail, at the test's location.
sed 's/deny: \[web1:80\/tcp,/deny: [web1:22\/tcp, web1:80\/tcp,/' $ex/production.yaml >"$tmp/bad.yaml"
fails "policy test fails on a wrong expectation" $nbctl policy test "$tmp/bad.yaml"
grep -q 'bad.yaml:[0-9]*:[0-9]*: error: test failed: alice -> web1:22/tcp (IPv4) expected deny, got accept by rule dev-ssh' "$tmp/out"
ok $? "test failure names line, column and the deciding rule"

# diff: drop the ssh port from dev-ssh and see rule 1 change for db1.
sed 's/ports: \[22\]/ports: [2222]/' $ex/production.yaml >"$tmp/new.yaml"
$nbctl policy diff $ex/production.yaml "$tmp/new.yaml" --as db1 >"$tmp/out" 2>&1
grep -q 'rules +0 -0 ~1' "$tmp/out"; ok $? "diff shows one changed rule"

echo "1..$n"
echo "$((n - failed)) passed, $failed failed"
((failed == 0))
