#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Runs host test programs (each prints KTAP and ends with its own
# "N passed, N failed" line) and merges them into one KTAP stream: each
# program is a subtest whose output is indented, followed by "ok N prog" or
# "not ok N prog". The last line is the total over all test cases:
# "N passed, N failed". Exit status is non-zero if any case failed or a
# program crashed, timed out or exited non-zero.
#
#   selftests/run-host.sh PROG...
#   NBG_VALGRIND=1 selftests/run-host.sh PROG...   (ELF programs under
#                                                 valgrind memcheck)
#   NBG_HOST_TIMEOUT=SECS (default 600 per program)

limit=${NBG_HOST_TIMEOUT:-600}
passed=0
failed=0
n=0

echo "KTAP version 1"
echo "1..$#"
for prog in "$@"; do
	n=$((n + 1))
	name=$(basename "$prog")
	out=$(mktemp)
	cmd=("$prog")
	[[ $prog == */* ]] || cmd=("./$prog")
	# Only ELF programs: valgrind on a shell script would check bash
	# (whose own leaks would fail it). Scripts see NBG_VALGRIND and wrap
	# the programs they start themselves (test_nbmgmt does).
	if [[ -n $NBG_VALGRIND && $(head -c 4 "$prog" 2>/dev/null) == $'\177ELF' ]]; then
		cmd=(valgrind -q --error-exitcode=99 --leak-check=full
		     --errors-for-leak-kinds=definite "${cmd[@]}")
	fi
	timeout -k 5 "$limit" "${cmd[@]}" >"$out" 2>&1
	rc=$?
	p=$(grep -c -E '^ok [0-9]+' "$out")
	f=$(grep -c -E '^not ok [0-9]+' "$out")
	# Indent as a KTAP subtest; the program's own summary becomes a comment
	# so only the final line below is a summary.
	sed -E 's/^([0-9]+ passed, [0-9]+ failed)$/# \1/; s/^/    /' "$out"
	rm -f "$out"
	passed=$((passed + p))
	failed=$((failed + f))
	if ((rc != 0 && f == 0)); then
		# Crashed, timed out or failed without saying which case.
		failed=$((failed + 1))
	fi
	if ((p + f == 0 && rc == 0)); then
		echo "# $name: printed no test results"
		failed=$((failed + 1))
		rc=1
	fi
	case $rc in
	0) ;;
	124) echo "# $name: timed out after ${limit}s" ;;
	*) ((rc > 128)) && echo "# $name: killed by signal $((rc - 128))" \
		|| echo "# $name: exit status $rc" ;;
	esac
	if ((rc == 0 && f == 0)); then
		echo "ok $n $name"
	else
		echo "not ok $n $name"
	fi
done
echo "$passed passed, $failed failed"
((failed == 0))
