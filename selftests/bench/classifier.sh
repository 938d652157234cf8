#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Classifier benchmark: build time, memory and ns per lookup natively, then
# instructions per lookup (Ir inside nbg_classify, under callgrind) for
# hits, misses and denies at 10 .. 100,000 rules over 10,000 identities.
# Target: <= 150 instructions per lookup for every kind at every size.
#
#   selftests/bench/classifier.sh [SIZES]     SIZES like 10,1000 (default all)
set -e
cd "$(dirname "$0")/../.."
sizes=${1:-10,1000,10000,100000}
bench=build/classifier_bench
count=20000
target=150

make -s "$bench" >/dev/null

echo "# classifier: native timing (shared machine: ns are noisy, Ir are not)"
"$bench" --sizes "$sizes"

if ! command -v valgrind >/dev/null; then
	echo "# valgrind not installed: no instruction counts"
	exit 0
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
worst=0
echo
echo "# instructions per lookup (callgrind, $count lookups each)"
printf '%8s %9s %9s %9s\n' rules hit_Ir miss_Ir deny_Ir
for n in ${sizes//,/ }; do
	row=$(printf '%8s' "$n")
	for kind in hit miss deny; do
		out=$tmp/cg.$n.$kind
		valgrind --tool=callgrind --instr-atstart=no \
			--toggle-collect=nbg_classify --callgrind-out-file="$out" \
			"$bench" --lookups "$n" "$kind" "$count" >/dev/null 2>&1
		ir=$(awk '/^totals:/ { print $2; exit }' "$out")
		per=$(( (ir + count / 2) / count ))
		row+=$(printf ' %9s' "$per")
		(( per > worst )) && worst=$per
		(( per > 0 )) || { echo "callgrind counted nothing for $n $kind" >&2; exit 1; }
	done
	echo "$row"
done
if (( worst <= target )); then
	echo "# worst $worst instructions per lookup (target <= $target): met"
else
	echo "# worst $worst instructions per lookup (target <= $target): NOT met"
fi
