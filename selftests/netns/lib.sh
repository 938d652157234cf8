# SPDX-License-Identifier: GPL-2.0
#
# Library for the namespace tests that run inside the test VM
# (selftests/vm/run.sh), in the style of WireGuard's netns.sh.
#
# Conventions
# -----------
# - One test file = one KTAP test. The VM runner runs `bash FILE` from the
#   repository root, turns every output line into a "# " diagnostic and
#   reports "ok N name" if the script exits 0, "not ok N name" otherwise
#   (exit 4 = skip; use only for a missing optional host feature, never for
#   a missing part of nbguard).
# - Scripts `source selftests/netns/lib.sh`, which sets `set -e` and a trap
#   that tears everything down. Each check is one line: `expect_ok`,
#   `expect_drop`, `check CMD...`, `check_eq A B`, ...; the first failing
#   check prints "FAIL: ..." and exits 1; passing checks print "ok: ...".
# - The runner kills every leftover process and namespace after each test
#   and fails the test if the kernel logged a warning, so a test only has
#   to clean up what must be gone before its own end.
#
# Topology (setup_wg [NODES], default 4)
# --------
# Namespaces n0..n(N-1) each have a WireGuard interface wg0 with overlay
# addresses 10.77.0.(10+i)/24 and fd77::(10+i)/64: n0 = .10, n1 = .11, ...
# The WireGuard interfaces are created in the VM's initial namespace and
# moved into the nodes, so their encrypted UDP runs over the initial
# namespace's loopback (netns.sh does the same with its ns0): no veth needed. Every pair of nodes is a WireGuard peer pair
# with allowed-ips = the other's /32 and /128. n0 is the node guarded by
# nbguard in most tests; n1..n3 are peers.
#
#   n0 CMD...           run CMD in namespace n0 (n1, n2, ... likewise)
#   nbg I ARGS...       nbctl ARGS in node I
#   ip4 I / ip6 I       overlay addresses of node I
#   serve I tcp|udp [-6] PORT...    echo servers in node I
#   expect_ok FROM PROTO ADDR [PORT]     tcp/udp/icmp probe must succeed
#   expect_drop FROM PROTO ADDR [PORT]   ... must get no answer at all
#   expect_refused FROM PROTO ADDR PORT  ... must be refused (RST/ICMP)

set -e
set -o pipefail

export PATH=/usr/local/bin:/usr/local/sbin:/usr/sbin:/usr/bin:/sbin:/bin
NBG_ROOT=${NBG_ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
# Probe timeouts (ms): a dropped packet costs DROP_MS, so keep it short;
# TCG is slow, so allowed traffic gets more.
OK_MS=${OK_MS:-3000}
DROP_MS=${DROP_MS:-500}
NODES=0
NBG_NETNS=()
_checks=0

# ------------------------------------------------------------ reporting

_t0=${EPOCHREALTIME/./}
_elapsed() { local t=$(( (${EPOCHREALTIME/./} - _t0) / 100000 )); echo "$((t / 10)).$((t % 10))s"; }
pass() { _checks=$((_checks + 1)); echo "ok: $* [$(_elapsed)]"; }

fail() {
	echo "FAIL: $*"
	exit 1
}

# Last output of a probe or command, shown when a check fails.
_out=

# check CMD... : CMD must succeed.
check() {
	if _out=$("$@" 2>&1); then
		pass "$*"
	else
		printf '%s\n' "$_out" | sed 's/^/    /'
		fail "$*"
	fi
}

# check_fail CMD... : CMD must fail (exit non-zero, not crash).
check_fail() {
	local rc=0
	_out=$("$@" 2>&1) || rc=$?
	if ((rc == 0)); then
		printf '%s\n' "$_out" | sed 's/^/    /'
		fail "expected failure: $*"
	fi
	if ((rc > 128)); then
		printf '%s\n' "$_out" | sed 's/^/    /'
		fail "crashed (signal $((rc - 128))): $*"
	fi
	pass "fails as expected: $* ($(head -n1 <<<"$_out"))"
}

check_eq() {
	[[ "$1" == "$2" ]] || fail "${3:-value}: expected '$2', got '$1'"
	pass "${3:-value} = '$2'"
}

# check_match TEXT REGEX [WHAT]
check_match() {
	grep -qE -- "$2" <<<"$1" || { printf '%s\n' "$1" | sed 's/^/    /'; fail "${3:-output} does not match /$2/"; }
	pass "${3:-output} matches /$2/"
}

done_ok() { echo "all $_checks checks passed in $(_elapsed)"; exit 0; }

# ------------------------------------------------------------ namespaces

ip4() { echo "10.77.0.$((10 + $1))"; }
ip6() { echo "fd77::$((10 + $1))"; }

# nsrun NS CMD...
nsrun() { local ns=$1; shift; ip netns exec "$ns" "$@"; }
for _i in 0 1 2 3 4 5 6 7; do
	eval "n$_i() { ip netns exec n$_i \"\$@\"; }"
done
unset _i

nbg() { local i=$1; shift; ip netns exec "n$i" nbctl "$@"; }

add_netns() {
	ip netns add "$1"
	NBG_NETNS+=("$1")
	ip -n "$1" link set lo up
	# Probing many closed ports must not run into ICMP rate limits.
	ip netns exec "$1" sh -c 'echo 0 >/proc/sys/net/ipv4/icmp_ratelimit
		echo 0 >/proc/sys/net/ipv6/icmp/ratelimit
		echo 1000000 >/proc/sys/net/ipv4/icmp_msgs_per_sec
		echo 1000000 >/proc/sys/net/ipv4/icmp_msgs_burst' 2>/dev/null || true
}

cleanup() {
	local ns pids
	set +e
	for ns in "${NBG_NETNS[@]}"; do
		pids=$(ip netns pids "$ns" 2>/dev/null)
		[[ -n $pids ]] && kill -9 $pids 2>/dev/null
	done
	for ns in "${NBG_NETNS[@]}"; do
		ip netns del "$ns" 2>/dev/null
	done
	NBG_NETNS=()
}
trap cleanup EXIT
trap 'echo "FAIL: interrupted"; exit 1' INT TERM

declare -a WG_PRIV WG_PUB

# setup_wg [N]: N nodes n0..n(N-1) in a full WireGuard mesh (see top).
setup_wg() {
	local n=${1:-4} i j
	NODES=$n
	# The previous test's devices may still hold their ports while its
	# namespaces are being torn down: pick a fresh range.
	WG_PORT=$((20000 + (RANDOM % 2000) * 16))
	for ((i = 0; i < n; i++)); do
		add_netns "n$i"
		WG_PRIV[i]=$(wg genkey)
		WG_PUB[i]=$(wg pubkey <<<"${WG_PRIV[i]}")
		ip link del "wg$i" 2>/dev/null || true
		ip link add "wg$i" type wireguard
		ip link set "wg$i" netns "n$i"
		ip -n "n$i" link set "wg$i" name wg0
		ip netns exec "n$i" wg set wg0 listen-port $((WG_PORT + i)) \
			private-key <(echo "${WG_PRIV[i]}")
		ip -n "n$i" addr add "$(ip4 "$i")/24" dev wg0
		ip -n "n$i" addr add "$(ip6 "$i")/64" dev wg0 nodad
	done
	for ((i = 0; i < n; i++)); do
		for ((j = 0; j < n; j++)); do
			((i == j)) && continue
			ip netns exec "n$i" wg set wg0 peer "${WG_PUB[j]}" \
				endpoint "127.0.0.1:$((WG_PORT + j))" \
				allowed-ips "$(ip4 "$j")/32,$(ip6 "$j")/128"
		done
		ip -n "n$i" link set wg0 up
	done
	# Handshake every peer of n0 now, before anything is guarded, so a
	# later probe measures the policy and not the handshake.
	for ((i = 1; i < n; i++)); do
		n0 ping -c 1 -W 5 -q "$(ip4 "$i")" >/dev/null ||
			fail "wireguard n0 -> n$i does not work"
	done
}

# ------------------------------------------------------------ traffic

# serve I tcp|udp [-6] PORT... : echo servers in node I (returns once bound).
serve() { local i=$1; shift; ip netns exec "n$i" nbg-probe serve "$@" || fail "n$i: nbg-probe serve $*"; }

# probe FROM PROTO ADDR [PORT] MS: exit 0 ok, 1 no answer, 2 refused.
probe() {
	local from=$1 proto=$2 addr=$3 port=$4 ms=$5 rc=0 w
	case $proto in
	tcp|udp)
		_out=$(ip netns exec "n$from" nbg-probe "$proto" "$addr" "$port" -t "$ms" 2>&1) || rc=$?
		;;
	icmp|ping)
		w=$(( (ms + 999) / 1000 ))
		_out=$(ip netns exec "n$from" ping -c 1 -W "$w" "$addr" 2>&1) || rc=1
		;;
	*) fail "probe: unknown protocol $proto" ;;
	esac
	return $rc
}

_desc() { echo "n$1 -> $3 $2${4:+ port $4}"; }

expect_ok() {
	local rc=0
	probe "$1" "$2" "$3" "$4" "$OK_MS" || rc=$?
	((rc == 0)) || { echo "    $_out"; fail "$(_desc "$@"): expected ok, got exit $rc"; }
	pass "$(_desc "$@") passes"
}

expect_drop() {
	local rc=0
	probe "$1" "$2" "$3" "$4" "$DROP_MS" || rc=$?
	((rc == 1)) || { echo "    $_out"; fail "$(_desc "$@"): expected drop, got exit $rc"; }
	pass "$(_desc "$@") dropped"
}

expect_refused() {
	local rc=0
	probe "$1" "$2" "$3" "$4" "$OK_MS" || rc=$?
	((rc == 2)) || { echo "    $_out"; fail "$(_desc "$@"): expected refused, got exit $rc"; }
	pass "$(_desc "$@") refused"
}

# ------------------------------------------------------------ nbguard

need_nbguard() {
	[[ -d /sys/module/nbguard ]] || fail "nbguard.ko is not loaded"
	command -v nbctl >/dev/null || fail "nbctl is not built"
}

# jnbg I FILTER CMD... : nbctl --json CMD in node I, through jq -r FILTER.
jnbg() {
	local i=$1 f=$2 out; shift 2
	out=$(ip netns exec "n$i" nbctl --json "$@") || fail "nbctl --json $* in n$i"
	jq -r "$f" <<<"$out" || fail "jq '$f' on: $out"
}

# nfield I KEY CMD... : top-level scalar KEY of nbctl --json CMD in node I.
# (jq takes over a second per call under emulation; this is sed.)
nfield() {
	local i=$1 key=$2 out; shift 2
	out=$(ip netns exec "n$i" nbctl --json "$@") || fail "nbctl --json $* in n$i"
	sed -n "s/^[^\"]*{\(.*[,{]\)\{0,1\} *\"$key\": *\"\{0,1\}\([^\",}]*\).*/\2/p" <<<"$out" | head -n1
}

# generation I
generation() { nfield "$1" generation show; }

# stat_packets I RULE|default-in|default-out : packets counted for a rule.
stat_packets() {
	local i=$1 r=$2 a=rule b=$2
	case $r in
	default-in) a=default b=in ;;
	default-out) a=default b=out ;;
	esac
	ip netns exec "n$i" nbctl stats | awk -v a="$a" -v b="$b" \
		'$1 == a && $2 == b { p = $3 } END { print p + 0 }'
}

# load_rules I <<EOF ... EOF : load a ruleset (file format) into node I.
load_rules() {
	local i=$1 out
	out=$(ip netns exec "n$i" nbctl rules load - 2>&1) ||
		{ echo "$out" | sed 's/^/    /'; fail "nbctl rules load in n$i"; }
}

# std_idents: identity lines for peers n1..n3 (identity id = node number):
#   n1 in group 10 ("admins"), n2 and n3 in group 20 ("web").
std_idents() {
	local i g
	for ((i = 1; i < ${1:-4}; i++)); do
		g=20; ((i == 1)) && g=10
		echo "identity $i n$i prefix $(ip4 "$i")/32 prefix $(ip6 "$i")/128 group $g"
	done
}

# guard I [FLAGS...] : guard node I's wg0.
guard() {
	local i=$1; shift
	check nbg "$i" dev add wg0 "$@"
}

# wait_for SECS CMD... : retry CMD every 100 ms until it succeeds.
wait_for() {
	local secs=$1 t=0; shift
	until "$@" >/dev/null 2>&1; do
		t=$((t + 1))
		((t > secs * 10)) && return 1
		sleep 0.1
	done
}

# ------------------------------------------------------------ kernel state

# slab_active RE: total active objects of the slab caches matching RE.
slab_active() {
	awk -v re="$1" 'NR > 2 && $1 ~ re { s += $2 } END { print s + 0 }' /proc/slabinfo
}

# slab_snapshot FILE: all caches' active object counts.
slab_snapshot() { awk 'NR > 2 { print $1, $2 }' /proc/slabinfo >"$1"; }

# unreclaimable slab memory in kB (catches kmalloc leaks too)
slab_unreclaim_kb() { awk '/^SUnreclaim:/ { print $2 }' /proc/meminfo; }

# The kernel log must hold no warning since the last kernel_log_clear.
KERNEL_BAD_RE='WARNING:|BUG:|Oops|general protection|Call Trace|still has objects|refcount_t:|list_(add|del) corruption'
kernel_log_clear() { kernel_log_check >/dev/null; dmesg -c >/dev/null 2>&1 || true; }
kernel_log_check() {
	local bad
	bad=$(dmesg 2>/dev/null | grep -E "$KERNEL_BAD_RE" || true)
	[[ -z $bad ]] || { echo "$bad" | sed 's/^/    kernel: /'; fail "kernel log: ${1:-warning}"; }
	pass "kernel log clean${1:+ ($1)}"
}
