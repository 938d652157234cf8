#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Control-plane timings, run inside the test VM by selftests/bench/run.sh
# (not a test: it prints "# metric:" lines and fails only if the path it
# times does not work). nbmgmt and two nbhelper nodes, as in the
# control-plane tests (selftests/netns/cplib.sh):
#   - helper start to first packet: both helpers start (enrollment with a
#     setup key, TLS, map, WireGuard and nbguard set up) until a pings b;
#   - policy change to enforcement: the rule allowing tcp/80 is removed
#     from the policy and `nbmgmt policy reload` run, until a's
#     connection attempts to b:80 are dropped; then put back, until they
#     pass again.
source "$(dirname "$0")/../netns/cplib.sh"
need_nbguard

POLICY=$CP/policy.yaml
PROBE_MS=300

cp_underlay mgmt a b
mgmt_init mgmt
cp selftests/netns/cp/mesh.yaml "$POLICY"
mgmt_start "$POLICY"
KEY=$(setup_key --reusable --group nodes)
[[ -n $KEY ]] || fail "no setup key"

t0=$(now_ms)
for n in a b; do helper_config "$n" "$KEY"; helper_start "$n"; done
wait_connected a 60
wait_connected b 60
B4=$(ov4 b)
wait_until 60 can_ping a "$B4" || { helper_log a; helper_log b; fail "a cannot ping b"; }
echo "# metric: helper start to first packet, two nodes enrolling at once (setup key, TLS, map, WireGuard, nbguard): $(ms_since "$t0") ms"

ns b nbg-probe serve tcp 80 >/dev/null 2>&1 || fail "nbg-probe serve"
wait_until 10 tcp_ok a "$B4" 80 "$PROBE_MS" || fail "a cannot reach b:80 before the change"

# until_ms SECS CMD...: run CMD back to back until it succeeds; print the
# milliseconds since $t0, or fail after SECS.
until_ms() {
	local end=$((SECONDS + $1)); shift
	until "$@"; do
		((SECONDS < end)) || return 1
	done
	ms_since "$t0"
}
dropped() { ! tcp_ok a "$B4" 80 "$PROBE_MS"; }
passes() { tcp_ok a "$B4" 80 "$PROBE_MS"; }

# The policy without the "web" rule (the last rule of mesh.yaml).
awk '/^  - name: web$/ { skip = 1 } !skip' selftests/netns/cp/mesh.yaml >"$CP/noweb.yaml"
grep -q 'name: web' "$CP/noweb.yaml" && fail "could not remove the web rule"

cp "$CP/noweb.yaml" "$POLICY"
t0=$(now_ms)
nbmgmt policy reload --dir "$MGMT_DIR" >/dev/null || fail "nbmgmt policy reload"
ms=$(until_ms 60 dropped) || { helper_log b; fail "b:80 still reachable 60 s after the rule was removed"; }
echo "# metric: policy change to enforcement, rule removed (reload to a's connection dropped at b, probes of ${PROBE_MS} ms): $ms ms"

cp selftests/netns/cp/mesh.yaml "$POLICY"
t0=$(now_ms)
nbmgmt policy reload --dir "$MGMT_DIR" >/dev/null || fail "nbmgmt policy reload"
ms=$(until_ms 60 passes) || { helper_log b; fail "b:80 not reachable 60 s after the rule came back"; }
echo "# metric: policy change to enforcement, rule added (reload to a's connection accepted at b): $ms ms"

cp_cleanup
exit 0
