#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# `make check`: everything CI proves, in one KTAP stream per stage and one
# final plain line "N passed, N failed" over all of them.
#
#   1. build checks: the module builds with no warnings under W=1 and
#      sparse, and DKMS builds it from its own copy of the tree;
#   2. host tests (selftests/run-host.sh: unit, differential, fuzz, nbmgmt);
#   3. VM tests (selftests/vm/run.sh: the namespace tests in qemu).
#
# Usage: selftests/check.sh KVER KDIR "HOST_TESTS" "VM_TESTS"
set -u
kver=$1 kdir=$2 host_tests=$3 vm_tests=$4
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top" || exit 1
total_pass=0 total_fail=0
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# Adds a stage's "N passed, N failed" (its last such line) to the total.
count() {
	local line
	line=$(grep -a -E '^[0-9]+ passed, [0-9]+ failed$' "$1" | tail -n1)
	if [[ -z $line ]]; then
		echo "# $2: no summary line (crashed?)"
		total_fail=$((total_fail + 1))
		return
	fi
	read -r p _ f _ <<<"$line"
	total_pass=$((total_pass + p))
	total_fail=$((total_fail + f))
}

# The module must build clean with W=1 and sparse: any warning fails.
lint() {
	make -s -C "$kdir" M="$top" W=1 C=2 CF=-D__CHECK_ENDIAN__ modules \
		>"$work/lint" 2>&1 || return 1
	! grep -E 'warning:|error:' "$work/lint"
}

# dkms add + build against the installed headers, in a scratch DKMS tree
# so the machine's own DKMS state is untouched.
dkms_build() {
	local ver src
	ver=$(sed -n 's/^PACKAGE_VERSION="\(.*\)"/\1/p' dkms.conf)
	src="$work/src/nbguard-$ver"
	mkdir -p "$src" "$work/dkms"
	cp -r Kbuild Makefile dkms.conf kmod "$src/"
	dkms add --dkmstree "$work/dkms" --sourcetree "$work/src" \
		-m nbguard -v "$ver" >"$work/dkms.log" 2>&1 &&
	dkms build --dkmstree "$work/dkms" --sourcetree "$work/src" \
		-m nbguard -v "$ver" -k "$kver" >>"$work/dkms.log" 2>&1 &&
	find "$work/dkms" -name 'nbguard.ko*' | grep -q . ||
	{ tail -n 20 "$work/dkms.log"; return 1; }
}

{
	echo "KTAP version 1"
	echo "1..2"
	n=0 p=0 f=0
	for t in lint dkms_build; do
		n=$((n + 1))
		if $t; then echo "ok $n $t"; p=$((p + 1));
		else echo "not ok $n $t"; f=$((f + 1)); fi
	done
	echo "$p passed, $f failed"
} 2>&1 | tee "$work/build.out"
count "$work/build.out" build

# shellcheck disable=SC2086
selftests/run-host.sh $host_tests 2>&1 | tee "$work/host.out"
count "$work/host.out" host

# shellcheck disable=SC2086
selftests/vm/run.sh $vm_tests 2>&1 | tee "$work/vm.out"
count "$work/vm.out" vm

echo "$total_pass passed, $total_fail failed"
((total_fail == 0))
