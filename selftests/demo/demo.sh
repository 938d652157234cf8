#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# make demo: the whole system in one VM. nbmgmt serves the users' example
# policy (policy/examples/production.yaml: "developers can only reach port
# 22 on the production servers"); four namespaced nodes enroll with one
# setup key and run nbhelper: alice (a developer's laptop), bob (an
# operator's laptop), web1 (web server), db1 (production database). Then
# we measure who reaches what through the tunnels and print it next to the
# rule the kernel applied and what the policy says, plus nbctl stats.
# Exit status 0 only if every measurement agrees with the policy.
export OK_MS=${OK_MS:-4000} DROP_MS=${DROP_MS:-1500}
source "$(dirname "$0")/../netns/cplib.sh"

POLICY=policy/examples/production.yaml
NODES=(alice bob web1 db1)
T0=$(now_ms)
say() { printf '\n=== %s\n' "$*"; }

say "nbguard demo: policy $POLICY"
grep -E '^#' "$POLICY" | sed 's/^# \{0,1\}/    /'

declare -A OV
WGIF=nbg0

# The whole control plane: nbmgmt, enrollment, nbhelper on every node.
control_plane_up() {
	cp_underlay mgmt "${NODES[@]}"
	MGMT_NODE=mgmt
	say "control server: nbmgmt init"
	nbmgmt init --dir "$MGMT_DIR" --hostname nbmgmt.test --hostname "${CP_ADDR[mgmt]}" | sed 's/^/    /'
	KEY=$(setup_key --reusable --expires 3600)
	echo "    setup key for this demo: $KEY"
	mgmt_start "$POLICY"

	say "nodes enroll and come up (nbhelper)"
	# One after the other: the registry hands out 100.64.0.1, .2, ... in
	# enrollment order, and the example file names alice .0.1 and bob .0.2.
	for n in "${NODES[@]}"; do
		helper_config "$n" "$KEY"
		helper_start "$n"
		wait_connected "$n" 40 >/dev/null
	done
	nbmgmt peers list --dir "$MGMT_DIR" | cut -c1-60,105- | sed 's/^/    /'
	for n in "${NODES[@]}"; do OV[$n]=$(ov4 "$n"); done
}

# Without nbmgmt/nbhelper (not built yet, or NBG_DEMO_STANDALONE=1): the
# same nodes with WireGuard configured by hand and the policy compiled and
# loaded per node with `nbctl policy load --as NODE`.
standalone_up() {
	local n m
	declare -A PUB
	say "standalone: WireGuard by hand, policy loaded with nbctl policy load --as NODE"
	cp_underlay "${NODES[@]}"
	for n in "${NODES[@]}"; do
		# the node's first address in the policy file
		OV[$n]=$(awk -v n="$n" '$0 ~ "name: "n"$" { f = 1 } f && /addresses:/ { gsub(/[][,"]/, " "); print $2; exit }' "$POLICY")
		(umask 077; wg genkey >"$CP/$n/key")
		PUB[$n]=$(wg pubkey <"$CP/$n/key")
		ns "$n" ip link add "$WGIF" type wireguard
		ns "$n" wg set "$WGIF" listen-port 51820 private-key "$CP/$n/key"
		ns "$n" ip addr add "${OV[$n]}/16" dev "$WGIF"
		ns "$n" ip link set "$WGIF" up
	done
	for n in "${NODES[@]}"; do
		for m in "${NODES[@]}"; do
			[[ $n == "$m" ]] && continue
			ns "$n" wg set "$WGIF" peer "${PUB[$m]}" endpoint "${CP_ADDR[$m]}:51820" \
				allowed-ips "${OV[$m]}/32" persistent-keepalive 5
		done
		ns "$n" nbctl dev add "$WGIF"
		ns "$n" nbctl policy load "$POLICY" --as "$n" | sed "s/^/    $n: /"
	done
}

if [[ -z $NBG_DEMO_STANDALONE ]] && command -v nbmgmt >/dev/null && command -v nbhelper >/dev/null; then
	control_plane_up
else
	standalone_up
fi

# Servers on every node; the tunnels: a handshake with every peer.
for n in "${NODES[@]}"; do
	ns "$n" nbg-probe serve tcp 22 80 443 5432 >/dev/null 2>&1 || fail "serve on $n"
done
tunnels_up() {
	local n
	for n in "${NODES[@]}"; do
		ns "$n" wg show "$WGIF" latest-handshakes | awk '$2 == 0 { bad = 1 } END { exit bad }' || return 1
	done
}
wait_until 30 tunnels_up || echo "    (some tunnels have no handshake yet)"
echo "    all nodes up $(ms_since "$T0") ms after boot of the demo"
for n in "${NODES[@]}"; do
	printf '    %-6s %-15s peers: %s\n' "$n" "${OV[$n]}" \
		"$(ns "$n" wg show "$WGIF" allowed-ips | while read -r _ a _; do
			for m in "${NODES[@]}"; do [[ ${a%/32} == "${OV[$m]}" ]] && printf '%s ' "$m"; done; done)"
done

# The matrix: FROM TO PROTO PORT
MATRIX=(
	"alice web1 tcp 22"   "alice web1 tcp 80"   "alice web1 tcp 443"
	"alice db1 tcp 22"    "alice db1 tcp 5432"  "alice web1 icmp -"
	"bob db1 tcp 22"      "bob db1 tcp 5432"    "bob web1 tcp 443"
	"web1 db1 tcp 5432"   "web1 db1 tcp 22"     "db1 web1 tcp 5432"
	"alice bob tcp 22"    "web1 alice tcp 22"
)
R=$CP/results
mkdir -p "$R"
say "measuring ${#MATRIX[@]} flows in parallel (nbg-probe through the tunnels)"
i=0
pids=()
for m in "${MATRIX[@]}"; do
	read -r src dst proto port <<<"$m"
	(
		rc=0
		if [[ $proto == icmp ]]; then
			ns "$src" ping -c 1 -W $((DROP_MS / 1000 + 1)) "${OV[$dst]}" >/dev/null 2>&1 || rc=1
		else
			ns "$src" nbg-probe "$proto" "${OV[$dst]}" "$port" -t "$DROP_MS" >/dev/null 2>&1 || rc=$?
		fi
		echo "$rc" >"$R/$i"
	) &
	pids+=($!)
	i=$((i + 1))
done
wait "${pids[@]}"	# not a bare wait: the daemons are our children too

say "access matrix: measured vs. kernel rule vs. policy"
declare -A PEERS
for n in "${NODES[@]}"; do
	PEERS[$n]=$(ns "$n" wg show "$WGIF" allowed-ips)
done
# row I: one line of the table plus "ok"/"MISMATCH" (run in parallel:
# under TCG every process start counts)
row() {
	local i=$1 src dst proto port rc measured pport kj pj kv kr pv pr ok
	read -r src dst proto port <<<"${MATRIX[i]}"
	rc=$(cat "$R/$i")
	case $rc in
	0) measured=allowed ;;
	1) measured=dropped ;;
	*) measured=refused ;;
	esac
	# not peers at all: the policy connects them by no allow rule, so
	# the server never gave them each other's keys
	grep -qF "${OV[$dst]}/32" <<<"${PEERS[$src]}" || measured=no-tunnel
	pport=${port/-/}
	# the destination's kernel decides inbound traffic
	kj=$(ns "$dst" nbctl --json trace "${OV[$src]}" "${OV[$dst]}" "$proto" $pport 2>&1)
	pj=$(nbctl --json policy trace "$POLICY" "$src" "$dst" "$proto" $pport 2>&1)
	[[ $kj =~ \"verdict\":\"([a-z]+)\" ]] && kv=${BASH_REMATCH[1]}
	[[ $kj =~ \"rule\":\"?([a-z0-9]+) ]] && kr=${BASH_REMATCH[1]}
	[[ $pj =~ \"verdict\":\"([a-z]+)\" ]] && pv=${BASH_REMATCH[1]}
	pr=default
	[[ $pj =~ \"rule\":\"([^\"]+)\" ]] && pr=${BASH_REMATCH[1]}
	if [[ $pv == allow && $measured == allowed && $kv == allow ]] ||
	   [[ $pv == deny && $measured != allowed && $kv == deny ]]; then
		ok=ok
	else
		ok=MISMATCH
	fi
	printf '    %-6s %-6s %-9s %-9s %-26s %-22s %s\n' "$src" "$dst" \
		"$proto${pport:+/$pport}" "$measured" "$kv (rule $kr)" "$pv ($pr)" "$ok" >"$R/row$i"
}
pids=()
for ((i = 0; i < ${#MATRIX[@]}; i++)); do
	row "$i" &
	pids+=($!)
done
wait "${pids[@]}"
printf '    %-6s %-6s %-9s %-9s %-26s %-22s %s\n' FROM TO SERVICE MEASURED "KERNEL (nbctl trace)" "POLICY SAYS" ""
agree=0 disagree=0
for ((i = 0; i < ${#MATRIX[@]}; i++)); do
	cat "$R/row$i"
	if grep -q 'ok$' "$R/row$i"; then agree=$((agree + 1)); else disagree=$((disagree + 1)); fi
done
echo "    $agree of ${#MATRIX[@]} flows behave as the policy says"

say "web1's kernel ruleset (nbctl rules dump)"
ns web1 nbctl rules dump | sed 's/^/    /'
for n in db1 web1; do
	say "nbctl stats on $n (nonzero counters)"
	ns "$n" nbctl stats --nonzero | sed 's/^/    /'
done
if [[ -f $CP/alice/state/status ]]; then
	say "nbctl status on alice"
	ns alice nbctl status --state-dir "$CP/alice/state" | sed 's/^/    /'
fi
say "demo finished in $(( $(ms_since "$T0") / 1000 )) s"
((disagree == 0))
