#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Data-plane benchmark, run inside the test VM (selftests/vm/run.sh). Each
# configuration gets its own server namespace, so all filters stay loaded
# side by side and runs can be interleaved, with one client namespace per
# topology: "wg" reaches the server through a real WireGuard tunnel (wg0,
# over a veth underlay), "veth" through a plain veth pair (nb0). Both
# links of the server are guarded by the same loaded policy; the wg
# client is the identity owning the last two rules, the veth client the
# one owning the two before them.
#
#   none      no filter
#   nbguard   nbguard.ko guarding the server's interface, ruleset via nbctl
#   nft       the same policy as NetBird-shaped nftables, via nft -f
#   iptables  the same policy as linear iptables rules, via iptables-restore
#
# For each policy size it loads every filter (timing the loads), then runs
# REPS rounds; each round visits every topology and configuration in a
# rotating order and runs each measure for SECS seconds. Traffic comes from
# the identity whose rules are the last two of the policy. Afterwards the
# counters of nbguard, nft and iptables must show the measured rules were
# hit; otherwise the benchmark fails. Results are "BENCH key=value" lines
# that selftests/bench/run.sh turns into tables.
#
#   dataplane.sh [--sizes "10 1000"] [--reps N] [--secs S] [--topos "wg veth"]
#                [--configs "none nbguard nft iptables"] [--measures "..."]
#                [--pin CPU|""]
#   measures: tcp (iperf3 Mbit/s), rr (UDP request-response on an
#             established flow, median us), flows (UDP request-responses
#             per second, each from a fresh source port: a new flow),
#             pps (UDP datagrams/s received on one established flow;
#             last, as it floods), cps (TCP connections/s; not by default)
set -e
set -o pipefail

SIZES="10 1000 10000 100000"
REPS=3
SECS=2
TOPOS="wg veth"
CONFIGS="none nbguard nft iptables"
MEASURES="tcp rr flows pps"
IDENTS=10000
NGROUPS=100
PORT=5201		# iperf3; the load tool uses PORT+1
PIN=0			# CPU for the measured programs ("" = no pinning)
while (($#)); do
	case $1 in
	--sizes) SIZES=$2; shift ;;
	--reps) REPS=$2; shift ;;
	--secs) SECS=$2; shift ;;
	--topos) TOPOS=$2; shift ;;
	--configs) CONFIGS=$2; shift ;;
	--measures) MEASURES=$2; shift ;;
	--pin) PIN=$2; shift ;;
	*) echo "dataplane.sh: unknown option $1" >&2; exit 2 ;;
	esac
	shift
done

if ! lsmod 2>/dev/null | grep -q '^nbguard ' && [[ ! -d /sys/module/nbguard ]]; then
	echo "# nbguard.ko is not loaded: leaving out the nbguard configuration"
	CONFIGS=$(sed 's/\bnbguard\b//' <<<"$CONFIGS")
fi
if [[ $CONFIGS == *nbguard* ]] && ! command -v nbctl >/dev/null; then
	echo "# no nbctl: leaving out the nbguard configuration"
	CONFIGS=$(sed 's/\bnbguard\b//' <<<"$CONFIGS")
fi

# The VM loads only what tests need at boot; nftables and iptables-nft
# need these (busybox modprobe does not autoload on a netlink request).
for m in nf_tables nft_ct nft_compat xt_conntrack xt_tcpudp; do
	modprobe "$m" 2>/dev/null || true
done

W=/tmp/nbg-bench
mkdir -p $W
# Traffic sources: identity IDENTS (wg) and IDENTS-1 (veth).
mapfile -t SRCS < <(nbg-bench-gen -i $IDENTS -s 2 addr)
declare -A SRC=([wg]=${SRCS[0]} [veth]=${SRCS[1]})
declare -A SRC_ID=([wg]=$IDENTS [veth]=$((IDENTS - 1)))
DST=100.127.0.1				# the server
GEN=(nbg-bench-gen -i $IDENTS -g $NGROUPS -p $PORT -s 2 -I wg0,nb0)
PIDS=()

cleanup() {
	set +e
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
	for c in $CONFIGS; do
		ip netns pids "s-$c" 2>/dev/null | xargs -r kill 2>/dev/null
		ip netns del "s-$c" 2>/dev/null
		for t in $TOPOS; do
			ip netns del "c-$t-$c" 2>/dev/null
		done
	done
}
trap cleanup EXIT

now() { echo "${EPOCHREALTIME/,/.}"; }
elapsed() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.3f", b - a }'; }
slab_kb() { awk '/^Slab:/ { print $2 }' /proc/meminfo; }
s() { local ns=$1; shift; ip netns exec "$ns" "$@"; }
# Client and server on one vCPU: a wakeup across vCPUs waits for the
# host to schedule the other vCPU's thread, which on a busy host turns a
# 200 us round trip into several ms at random.
p() { local ns=$1; shift; if [[ -n $PIN ]]; then ip netns exec "$ns" taskset -c "$PIN" "$@"; else ip netns exec "$ns" "$@"; fi; }

# The server namespace of a configuration, with its filter attached.
setup_server() {
	local c=$1 sn=s-$1
	ip netns add "$sn"
	s "$sn" ip link set lo up
	p "$sn" iperf3 -s -p $PORT -D >/dev/null
	p "$sn" nbg-bench-load server -p $((PORT + 1)) &
	PIDS+=($!)
}

# A client namespace of topology t for configuration c.
setup_client() {
	local t=$1 c=$2 cn=c-$1-$2 sn=s-$2 src=${SRC[$1]}
	ip netns add "$cn"
	s "$cn" ip link set lo up
	if [[ $t == veth ]]; then
		ip link add nb0 netns "$cn" type veth peer name nb0 netns "$sn"
		s "$cn" ip addr add "$src" peer "$DST" dev nb0
		s "$sn" ip addr add "$DST" peer "$src" dev nb0
		s "$cn" ip link set nb0 up
		s "$sn" ip link set nb0 up
		[[ $c == nbguard ]] && s "$sn" nbctl dev add nb0 --any-kind
	else
		local kc ks
		kc=$(wg genkey)
		ks=$(wg genkey)
		ip link add ul0 netns "$cn" type veth peer name ul0 netns "$sn"
		s "$cn" ip addr add 10.0.0.1/24 dev ul0
		s "$sn" ip addr add 10.0.0.2/24 dev ul0
		s "$cn" ip link set ul0 up
		s "$sn" ip link set ul0 up
		s "$cn" ip link add wg0 type wireguard
		s "$sn" ip link add wg0 type wireguard
		s "$cn" wg set wg0 private-key <(echo "$kc") listen-port 51820 \
			peer "$(wg pubkey <<<"$ks")" endpoint 10.0.0.2:51820 \
			allowed-ips "$DST/32"
		s "$sn" wg set wg0 private-key <(echo "$ks") listen-port 51820 \
			peer "$(wg pubkey <<<"$kc")" endpoint 10.0.0.1:51820 \
			allowed-ips "$src/32"
		s "$cn" ip addr add "$src" peer "$DST" dev wg0
		s "$sn" ip addr add "$DST" peer "$src" dev wg0
		s "$cn" ip link set wg0 up
		s "$sn" ip link set wg0 up
		[[ $c == nbguard ]] && s "$sn" nbctl dev add wg0
	fi
	return 0
}

# load_filter CONFIG N: installs the policy of N rules, prints timings.
load_filter() {
	local c=$1 n=$2 sn=s-$1 f t0 secs kb0 kb
	case $c in
	none) return 0 ;;
	nbguard)
		f=$W/rules-$n.txt
		[[ -f $f ]] || "${GEN[@]}" -n "$n" nbctl >"$f"
		kb0=$(slab_kb); t0=$(now)
		s "$sn" nbctl rules load "$f" >/dev/null
		secs=$(elapsed "$t0"); kb=$(( $(slab_kb) - kb0 ))
		local mem
		mem=$(s "$sn" nbctl --json show | jq -r '.mem_bytes')
		t0=$(now)
		s "$sn" nbctl rules dump >/dev/null
		echo "BENCH load tool=nbguard rules=$n load_s=$secs dump_s=$(elapsed "$t0") slab_kb=$kb mem_bytes=${mem:-na}"
		;;
	nft)
		f=$W/nft-$n.nft
		[[ -f $f ]] || "${GEN[@]}" -n "$n" nft >"$f"
		kb0=$(slab_kb); t0=$(now)
		s "$sn" nft -f "$f"
		secs=$(elapsed "$t0"); kb=$(( $(slab_kb) - kb0 ))
		t0=$(now)
		s "$sn" nft list ruleset >/dev/null
		echo "BENCH load tool=nft rules=$n load_s=$secs dump_s=$(elapsed "$t0") slab_kb=$kb"
		;;
	iptables)
		f=$W/ipt-$n.rules
		[[ -f $f ]] || "${GEN[@]}" -n "$n" iptables >"$f"
		kb0=$(slab_kb); t0=$(now)
		s "$sn" iptables-restore <"$f"
		secs=$(elapsed "$t0"); kb=$(( $(slab_kb) - kb0 ))
		t0=$(now)
		s "$sn" iptables-save >/dev/null
		echo "BENCH load tool=iptables rules=$n load_s=$secs dump_s=$(elapsed "$t0") slab_kb=$kb"
		;;
	esac
}

# Counters of the rules TOPO's traffic must hit (one server namespace
# serves both topologies; drops are the server's, both links together).
# Prints "allowed=P dropped=D [ct_established=E]".
counters() {
	local t=$1 c=$2 n=$3 sn=s-$2 id=${SRC_ID[$1]} src=${SRC[$1]}
	local last=$((n - 2 * (IDENTS - ${SRC_ID[$1]})))	# its udp rule
	case $c in
	nbguard)
		s "$sn" nbctl --json stats | jq -r --argjson a $((last - 1)) --argjson b "$last" '
			(map(select(.rule == $a or .rule == $b) | .packets) | add // 0) as $ok |
			(map(select(.rule == "default" and .direction == "in") | .packets) | add // 0) as $drop |
			"allowed=\($ok) dropped=\($drop)"'
		;;
	nft)
		# Listing 100,000 rules takes half a minute under TCG: once
		# per size serves both topologies.
		[[ -f $W/cnt-nft-$n ]] || s "$sn" nft list chain ip netbird netbird-acl-input-rules >"$W/cnt-nft-$n"
		awk -v set="@nb$id" '
			$0 ~ set " " && /dport 5201-5202/ { for (i = 1; i < NF; i++) if ($i == "packets") ok += $(i + 1) }
			/drop/ { for (i = 1; i < NF; i++) if ($i == "packets") drop += $(i + 1) }
			/established/ { for (i = 1; i < NF; i++) if ($i == "packets") ct += $(i + 1) }
			END { printf "allowed=%d dropped=%d ct_established=%d\n", ok, drop, ct }' "$W/cnt-nft-$n"
		;;
	iptables)
		[[ -f $W/cnt-ipt-$n ]] || s "$sn" iptables -L NETBIRD-ACL-INPUT -v -x -n >"$W/cnt-ipt-$n"
		awk -v src="$src" '
			$8 == src && /dpts:5201:5202/ { ok += $1 }
			$3 == "DROP" { drop += $1 }
			/RELATED,ESTABLISHED/ { ct += $1 }
			END { printf "allowed=%d dropped=%d ct_established=%d\n", ok, drop, ct }' "$W/cnt-ipt-$n"
		;;
	none) echo "allowed=na dropped=na" ;;
	esac
}

# measure TOPO CONFIG WHAT: prints the value, or fails.
measure() {
	local cn=c-$1-$2 out
	case $3 in
	tcp)
		# iperf3 takes whole seconds (and 0 means forever).
		local secs
		secs=$(awk -v s="$SECS" 'BEGIN { s = int(s + 0.5); print s < 1 ? 1 : s }')
		out=$(p "$cn" timeout $((secs + 90)) iperf3 -c $DST -p $PORT -t "$secs" -f m 2>&1) || {
			echo "# iperf3 $1/$2: $out" >&2; return 1; }
		awk '/receiver/ { for (i = 1; i < NF; i++) if ($(i + 1) == "Mbits/sec") v = $i } END { if (v == "") exit 1; print v }' <<<"$out"
		;;
	pps) p "$cn" timeout 120 nbg-bench-load udp-rate -a $DST -p $((PORT + 1)) -t "$SECS" | sed -n 's/^udp_pps=\([0-9.]*\).*/\1/p' ;;
	rr) p "$cn" timeout 120 nbg-bench-load udp-rr -a $DST -p $((PORT + 1)) -t "$SECS" | sed -n 's/.*udp_rr_us=\([0-9.]*\).*/\1/p' ;;
	flows) p "$cn" timeout 120 nbg-bench-load udp-flows -a $DST -p $((PORT + 1)) -t "$SECS" | sed -n 's/^udp_flows_ps=\([0-9.]*\).*/\1/p' ;;
	cps) p "$cn" timeout 120 nbg-bench-load tcp-crr -a $DST -p $((PORT + 1)) -t "$SECS" | sed -n 's/^tcp_cps=\([0-9.]*\).*/\1/p' ;;
	esac
}

echo "BENCH env kernel=$(uname -r) cpus=$(nproc) iptables=\"$(iptables -V 2>&1)\" nft=\"$(nft -v 2>&1)\""
t0=$(now)
for c in $CONFIGS; do
	setup_server "$c"
	for t in $TOPOS; do
		setup_client "$t" "$c"
	done
done
sleep 1
echo "# namespaces up in $(elapsed "$t0")s: topologies $TOPOS, configurations $CONFIGS"

rc=0
for n in $SIZES; do
	for c in $CONFIGS; do
		load_filter "$c" "$n"
	done
	cfgs=($CONFIGS)
	for ((r = 1; r <= REPS; r++)); do
		for t in $TOPOS; do
			# Rotate the order each round so no configuration always
			# runs first (caches, timer drift on a shared host).
			for ((k = 0; k < ${#cfgs[@]}; k++)); do
				c=${cfgs[$(( (k + r - 1) % ${#cfgs[@]} ))]}
				line="BENCH dp topo=$t cfg=$c rules=$n rep=$r"
				for m in $MEASURES; do
					if v=$(measure "$t" "$c" "$m") && [[ -n $v ]]; then
						line+=" $m=$v"
					else
						line+=" $m=fail"
						rc=1
					fi
				done
				echo "$line"
			done
		done
	done
	# The measured traffic must have been allowed by the measured rules.
	for t in $TOPOS; do
		for c in $CONFIGS; do
			[[ $c == none ]] && continue
			cnt=$(counters "$t" "$c" "$n")
			echo "BENCH check topo=$t cfg=$c rules=$n $cnt"
			ok=$(sed -n 's/.*allowed=\([0-9]*\).*/\1/p' <<<"$cnt")
			# nbguard counts every packet; nft and iptables only
			# each flow's first (the rest take the conntrack
			# shortcut): at least one per round.
			min=$REPS
			[[ $c == nbguard ]] && min=$((100 * REPS))
			if [[ -z $ok || $ok -lt $min ]]; then
				echo "# $t/$c at $n rules: the measured rules counted ${ok:-nothing}: traffic was not allowed by them" >&2
				rc=1
			fi
		done
	done
done
exit $rc
