#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Writes need CAP_NET_ADMIN in the namespace's user namespace: an
# unprivileged user, and root of a user namespace that does not own the
# target network namespace, cannot change anything. Root of a user
# namespace that owns its own network namespace can configure that one.
source "$(dirname "$0")/lib.sh"
need_nbguard

setup_wg 2
guard 0
cat >/tmp/r.rules <<EOR
$(std_idents 2)
rule 1 allow in proto tcp src any port 22
EOR
cat >/tmp/r2.rules <<EOR
rule 2 allow in src any
EOR
check n0 nbctl rules load /tmp/r.rules
chmod 644 /tmp/r.rules /tmp/r2.rules
dump=$(nbg 0 rules dump)
gen=$(generation 0)
devs=$(nbg 0 dev show)

nobody() {
	ip netns exec n0 setpriv --reuid=65534 --regid=65534 --clear-groups \
		--inh-caps=-all --bounding-set=-all nbctl "$@"
}
# root in a new user namespace: no capabilities over n0 (owned by the
# initial user namespace)
userns() { ip netns exec n0 unshare --user --map-root-user nbctl "$@"; }

for who in nobody userns; do
	check_fail $who rules load /tmp/r2.rules
	check_fail $who flush
	check_fail $who dev del wg0
	check_fail $who dev add lo --any-kind
	check_fail $who config set default-in allow
	check_fail $who config set event-rate 5
	check_fail $who stats --reset
done
check_eq "$(generation 0)" "$gen" "generation after refused writes"
check_eq "$(nbg 0 rules dump)" "$dump" "ruleset after refused writes"
check_eq "$(nbg 0 dev show)" "$devs" "devices after refused writes"
check_eq "$(nfield 0 default_in show)" "$(nfield 1 default_in show)" "default_in unchanged"

# The refusal is a permission error, not something else.
out=$(nobody flush 2>&1 || true)
check_match "$out" '[Pp]ermission|[Nn]ot permitted|EPERM' "unprivileged error text"

# root of a user namespace that owns a fresh network namespace may write
# there (and only there)
out=$(unshare --user --map-root-user --net sh -c \
	'ip link set lo up; nbctl config set default-in allow && nbctl --json show' 2>&1) ||
	{ echo "$out"; fail "owner of a user+net namespace cannot configure it"; }
check_match "$out" '"default_in": *"(allow|accept)"' "userns-owned netns configured"
check_eq "$(generation 0)" "$gen" "n0 untouched by the other namespace"
done_ok
