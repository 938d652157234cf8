# SPDX-License-Identifier: GPL-2.0
#
# Control-plane test helpers (nbmgmt + nbhelper), on top of lib.sh. Not a
# test itself (the cp_*.sh files are).
#
# Topology (cp_underlay NODE...): a namespace "lan" holding a bridge; each
# NODE is a namespace with a veth "eth0" on it, underlay address
# 192.168.77.<10+i>/24 (i = position in the list). Nodes reach each other
# and the server over the bridge. Every node runs nbhelper with its own
# state dir $CP/<node>/state and interface nbg0.

source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

CP=${CP:-/tmp/cp}
CP_NODES=()
declare -A CP_ADDR CP_PID CP_START
MGMT_PID=
MGMT_DIR=$CP/mgmt
MGMT_PORT=7411

# cp_underlay NODE...
cp_underlay() {
	local i=0 n
	rm -rf "$CP"
	mkdir -p "$CP"
	modprobe bridge 2>/dev/null || true
	add_netns lan
	ip -n lan link add br0 type bridge
	ip -n lan link set br0 up
	for n in "$@"; do
		add_netns "$n"
		ip -n lan link add "v-$n" type veth peer name eth0 netns "$n"
		ip -n lan link set "v-$n" master br0 up
		CP_ADDR[$n]=192.168.77.$((10 + i))
		ip -n "$n" addr add "${CP_ADDR[$n]}/24" dev eth0
		ip -n "$n" link set eth0 up
		CP_NODES+=("$n")
		mkdir -p "$CP/$n"
		i=$((i + 1))
	done
}

# check_has TEXT STRING [WHAT]: fixed-string match (keys hold '+' and '/')
check_has() {
	grep -qF -- "$2" <<<"$1" || { printf '%s\n' "$1" | sed 's/^/    /'; fail "${3:-output} does not contain '$2'"; }
	pass "${3:-output} contains '$2'"
}

# wait_until SECS CMD...: retry CMD (every 200 ms) until it succeeds or
# SECS seconds of wall time have passed (slow commands count fully).
wait_until() {
	local end=$((SECONDS + $1)); shift
	until "$@" >/dev/null 2>&1; do
		((SECONDS < end)) || return 1
		sleep 0.2
	done
}

# ns NODE CMD...
ns() { local n=$1; shift; ip netns exec "$n" "$@"; }

# mgmt_init SERVER_NODE [HOSTNAME]: nbmgmt init in $MGMT_DIR, names the
# server by its underlay address and HOSTNAME (default nbmgmt.test).
mgmt_init() {
	local srv=$1 host=${2:-nbmgmt.test}
	MGMT_NODE=$srv
	check nbmgmt init --dir "$MGMT_DIR" --hostname "$host" --hostname "${CP_ADDR[$srv]}"
}

# mgmt_start POLICY [ARGS...]: run nbmgmt serve in the server node.
mgmt_start() {
	local policy=$1; shift
	# not through the ns function: $! must be nbmgmt itself, not a
	# subshell that would die alone on kill
	ip netns exec "$MGMT_NODE" nbmgmt serve --dir "$MGMT_DIR" --policy "$policy" \
		--listen "${CP_ADDR[$MGMT_NODE]}:$MGMT_PORT" "$@" \
		>>"$CP/mgmt.log" 2>&1 &
	MGMT_PID=$!
	wait_until 10 ns "$MGMT_NODE" bash -c "echo >/dev/tcp/${CP_ADDR[$MGMT_NODE]}/$MGMT_PORT" ||
		{ tail -n 20 "$CP/mgmt.log"; fail "nbmgmt did not start listening"; }
}

mgmt_stop() {
	[[ -n $MGMT_PID ]] || return 0
	kill "$MGMT_PID" 2>/dev/null || true
	wait "$MGMT_PID" 2>/dev/null || true
	MGMT_PID=
}

# setup_key [ARGS...]: create a setup key, print it.
setup_key() {
	nbmgmt setup-key create --dir "$MGMT_DIR" "$@" | awk '/^[A-Za-z0-9_-]{16,}$/ { print; exit } /key:/ { print $NF; exit }'
}

# helper_config NODE KEY [EXTRA YAML LINES]: write $CP/NODE/helper.yaml
helper_config() {
	local n=$1 key=$2; shift 2
	{
		echo "server: ${CP_ADDR[$MGMT_NODE]}:$MGMT_PORT"
		echo "ca_file: $MGMT_DIR/ca.crt"
		echo "server_name: nbmgmt.test"
		echo "interface: nbg0"
		echo "listen_port: 51820"
		echo "name: $n"
		[[ -n $key ]] && echo "setup_key: $key"
		echo "state_dir: $CP/$n/state"
		echo "persistent_keepalive: 5"
		echo "reconnect_max: 4"
		local l
		for l in "$@"; do echo "$l"; done
	} >"$CP/$n/helper.yaml"
}

# helper_start NODE: start nbhelper in NODE (log in $CP/NODE/helper.log).
helper_start() {
	local n=$1
	CP_START[$n]=$(now_ms)
	ip netns exec "$n" nbhelper -c "$CP/$n/helper.yaml" -v >>"$CP/$n/helper.log" 2>&1 &
	CP_PID[$n]=$!
}

helper_stop() {
	local n=$1
	[[ -n ${CP_PID[$n]} ]] || return 0
	kill "${CP_PID[$n]}" 2>/dev/null || true
	wait "${CP_PID[$n]}" 2>/dev/null || true
	CP_PID[$n]=
}

helper_log() { sed "s/^/    $1: /" "$CP/$1/helper.log" | tail -n "${2:-30}"; }

# status NODE KEY: a value from the helper's status file
status_of() { awk -v k="$2" '$1 == k { $1 = ""; sub(/^ /, ""); print; exit }' "$CP/$1/state/status" 2>/dev/null; }

# overlay address (v4) of NODE as the server assigned it
ov4() { status_of "$1" addresses | tr ' ' '\n' | grep -m1 '\.' | cut -d/ -f1; }
ov6() { status_of "$1" addresses | tr ' ' '\n' | grep -m1 ':' | cut -d/ -f1; }

# wait_connected NODE SECS: the helper reports connected with a map
wait_connected() {
	local n=$1 secs=${2:-20}
	wait_until "$secs" bash -c "[[ \$(awk '\$1==\"state\"{print \$2}' $CP/$n/state/status 2>/dev/null) == connected && \$(awk '\$1==\"serial\"{print \$2}' $CP/$n/state/status) != 0 ]]" ||
		{ helper_log "$n"; fail "$n: nbhelper did not connect and get a map within ${secs}s"; }
	pass "$n: connected, serial $(status_of "$n" serial), overlay $(ov4 "$n")"
}

# now_ms / ms_since T0: wall clock in ms (busybox date has no %N)
now_ms() { local t=${EPOCHREALTIME/./}; echo $((t / 1000)); }
ms_since() { echo $(( $(now_ms) - $1 )); }

# can_ping FROM ADDR: one ping with 1 s timeout
can_ping() { ns "$1" ping -c 1 -W 1 -q "$2" >/dev/null 2>&1; }

# tcp_ok FROM ADDR PORT [MS]: nbg-probe must get its echo
tcp_ok() { ns "$1" nbg-probe tcp "$2" "$3" -t "${4:-$OK_MS}" >/dev/null 2>&1; }

# cp_start_pair [MORE_NODES...]: nbmgmt on "mgmt" with the groups policy
# (copied to $P), nodes a and b enrolled with a reusable key ($KEY) and
# pinging each other over the tunnel ($A4, $B4 their overlay addresses).
cp_start_pair() {
	local n
	cp_underlay mgmt a b "$@"
	mgmt_init mgmt
	P=$CP/policy.yaml
	cp selftests/netns/cp/groups.yaml "$P"
	mgmt_start "$P"
	KEY=$(setup_key --reusable)
	for n in a b; do helper_config "$n" "$KEY"; helper_start "$n"; wait_connected "$n" 30; done
	A4=$(ov4 a) B4=$(ov4 b)
	wait_until 30 can_ping a "$B4" || { helper_log a; helper_log b; fail "a cannot ping b"; }
}

cp_cleanup() {
	local n
	for n in "${CP_NODES[@]}"; do helper_stop "$n"; done
	mgmt_stop
	cleanup
}
trap cp_cleanup EXIT
