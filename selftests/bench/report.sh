#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Turns the "BENCH key=value" lines of one benchmark run into Markdown
# tables (medians over rounds, ratios to no filter measured in the same
# run, targets met or missed). Used by selftests/bench/run.sh.
#
#   report.sh RESULTS CLASSIFIER_TXT              the tables
#   report.sh --doc RESULTS CLASSIFIER_TXT SECS   Documentation/performance.md
set -e

DOC=0
if [[ $1 == --doc ]]; then
	DOC=1
	shift
fi
RES=$1 CLS=$2 DUR=${3:-0}

tables() {
local cls_target
cls_target=$(sed -n 's/^# worst \([0-9]*\) instructions per lookup.*: \(.*\)$/\1 \2/p' "$CLS" 2>/dev/null | tail -n1)
awk -v cls_target="$cls_target" '
function kv(line,   n, i, f, p) {
	delete V
	n = split(line, f, " ")
	for (i = 3; i <= n; i++) {
		p = index(f[i], "=")
		if (p) V[substr(f[i], 1, p - 1)] = substr(f[i], p + 1)
	}
}
# Median of the space-separated numbers in s ("" if none).
function median(s,   a, n, i, j, t) {
	n = split(s, a, " ")
	if (!n) return ""
	for (i = 2; i <= n; i++) {
		t = a[i] + 0
		for (j = i - 1; j >= 1 && a[j] + 0 > t; j--) a[j + 1] = a[j]
		a[j + 1] = t
	}
	return n % 2 ? a[(n + 1) / 2] + 0 : (a[n / 2] + a[n / 2 + 1]) / 2
}
function fmt(x) {
	if (x == "") return "-"
	if (x >= 100) return sprintf("%.0f", x)
	if (x >= 10) return sprintf("%.1f", x)
	return sprintf("%.2f", x)
}
function ratio(a, b) { return (a == "" || b == "" || b + 0 == 0) ? "" : a / b }
function cell(x, base) {
	if (x == "") return "-"
	if (base == "") return fmt(x)
	return fmt(x) " (" sprintf("%.2f", x / base) ")"
}
function add(arr, key, val) { arr[key] = (key in arr) ? arr[key] " " val : val }
$1 != "BENCH" { next }
$2 == "dp" {
	kv($0)
	topo = V["topo"]; cfg = V["cfg"]; n = V["rules"]
	if (!(topo in seen_topo)) { seen_topo[topo] = 1; topos[++ntopo] = topo }
	if (!(n in seen_n)) { seen_n[n] = 1; sizes[++nsize] = n }
	if (!(cfg in seen_cfg)) { seen_cfg[cfg] = 1; cfgs[++ncfg] = cfg }
	for (m in V) if (m != "topo" && m != "cfg" && m != "rules" && m != "rep" && V[m] != "fail") {
		if (!(m in seen_m)) { seen_m[m] = 1 }
		add(DP, topo SUBSEP cfg SUBSEP n SUBSEP m, V[m])
	}
}
$2 == "load" {
	kv($0)
	k = V["tool"] SUBSEP V["rules"]
	add(LOAD, k, V["load_s"]); add(DUMP, k, V["dump_s"]); add(SLAB, k, V["slab_kb"])
	if (V["mem_bytes"] != "" && V["mem_bytes"] != "na") add(MEM, V["rules"], V["mem_bytes"])
	if (!(V["rules"] in seen_ln)) { seen_ln[V["rules"]] = 1; lsizes[++nl] = V["rules"] }
}
$2 == "check" { kv($0); CHECK[V["topo"] SUBSEP V["cfg"] SUBSEP V["rules"]] = V["allowed"] "/" V["dropped"] (V["ct_established"] != "" ? "/" V["ct_established"] : "") }
$2 == "compile" { kv($0); for (k in V) C[k] = V[k] }
$2 == "compile_all" { kv($0); for (k in V) CA[k] = V[k] }
$2 == "nbctl_compile" { kv($0); NC = V["secs"] }
$2 == "metric" { m = $0; sub(/^BENCH metric /, "", m); MET[++nmet] = m; if (m ~ /polic/) haschange = 1 }
END {
	order = "none nbguard nft iptables"
	nm = split("tcp pps rr flows cps", ms, " ")
	split("TCP Mbit/s|UDP pkt/s|UDP RR us|new UDP flows/s|TCP conn/s", mt, "|")
	ncf = split(order, co, " ")
	if (ntopo) {
		print "## Data plane (in the VM)"
		print ""
		print "Medians of the interleaved rounds; in parentheses the ratio to no filter"
		print "measured in the same run at the same size (for the request-response"
		print "latency, lower is better, so a ratio above 1 is a slowdown)."
		print "UDP pkt/s and RR are one established flow each; new UDP flows/s sends"
		print "every request from a fresh source port, so a ruleset that accepts"
		print "established traffic first walks its rules for each of them."
		print ""
	}
	for (t = 1; t <= ntopo; t++) {
		topo = topos[t]
		print "### " (topo == "wg" ? "Over WireGuard (wg0 in two namespaces)" : "Over a plain veth pair")
		print ""
		hdr = "| rules | filter |"; sep = "|---:|---|"
		for (i = 1; i <= nm; i++) if (ms[i] in seen_m) { hdr = hdr " " mt[i] " |"; sep = sep "---:|" }
		print hdr; print sep
		for (s = 1; s <= nsize; s++) {
			n = sizes[s]
			for (c = 1; c <= ncf; c++) {
				cfg = co[c]
				if (!(cfg in seen_cfg)) continue
				row = "| " n " | " cfg " |"
				for (i = 1; i <= nm; i++) {
					m = ms[i]
					if (!(m in seen_m)) continue
					x = median(DP[topo SUBSEP cfg SUBSEP n SUBSEP m])
					base = cfg == "none" ? "" : median(DP[topo SUBSEP "none" SUBSEP n SUBSEP m])
					row = row " " cell(x, base) " |"
					MED[topo SUBSEP cfg SUBSEP n SUBSEP m] = x
				}
				print row
			}
		}
		print ""
	}
	if (ntopo) {
		print "Counters after each size (the measured rules must have accepted the"
		print "traffic: accepted/dropped[/accepted by the conntrack shortcut]):"
		print ""
		for (t = 1; t <= ntopo; t++) for (s = 1; s <= nsize; s++) {
			line = "- " topos[t] ", " sizes[s] " rules:"
			for (c = 2; c <= ncf; c++) {
				k = topos[t] SUBSEP co[c] SUBSEP sizes[s]
				if (k in CHECK) line = line " " co[c] " " CHECK[k] ";"
			}
			print line
		}
		print ""
		# Per-packet cost on an established flow: extra time per datagram
		# over no filter, from the UDP packet rate at the largest size.
		big = sizes[nsize]
		print "### Per-packet cost on an established flow (" big " rules)"
		print ""
		print "Extra time per datagram over no filter, from the UDP packet rate"
		print "(1/rate - 1/rate_none). nbguard classifies every packet; nftables and"
		print "iptables accept `ct state established` first and walk their rules only"
		print "for a flow'"'"'s first packet; new flows show the walk."
		print ""
		print "| topology | filter | us/packet, established | us/flow, new UDP flows |"
		print "|---|---|---:|---:|"
		for (t = 1; t <= ntopo; t++) for (c = 2; c <= ncf; c++) {
			topo = topos[t]; cfg = co[c]
			p = MED[topo SUBSEP cfg SUBSEP big SUBSEP "pps"]; p0 = MED[topo SUBSEP "none" SUBSEP big SUBSEP "pps"]
			f = MED[topo SUBSEP cfg SUBSEP big SUBSEP "flows"]; f0 = MED[topo SUBSEP "none" SUBSEP big SUBSEP "flows"]
			if (p == "" && f == "") continue
			a = (p != "" && p0 != "" && p > 0 && p0 > 0) ? sprintf("%.2f", 1e6 / p - 1e6 / p0) : "-"
			b = (f != "" && f0 != "" && f > 0 && f0 > 0) ? sprintf("%.1f", 1e6 / f - 1e6 / f0) : "-"
			print "| " topo " | " cfg " | " a " | " b " |"
			PKT[topo SUBSEP cfg] = a; FLOW[topo SUBSEP cfg] = b
		}
		print ""
	}
	if (nl) {
		print "## Loading a policy (in the VM)"
		print ""
		print "Seconds to load the policy of N rules and 10,000 identities (nbguard:"
		print "`nbctl rules load`, one transaction; nft: `nft -f`; iptables:"
		print "`iptables-restore`), to dump it back (`nbctl rules dump`, `nft list"
		print "ruleset`, `iptables-save`), and the growth of the kernel slab during"
		print "the load (/proc/meminfo; global, so noisy for small loads)."
		print ""
		print "| rules | nbguard load | nft -f | iptables-restore | nft / nbguard | nbguard dump | nft list | iptables-save | slab KiB nbguard / nft / iptables | nbguard mem_bytes |"
		print "|---:|---:|---:|---:|---:|---:|---:|---:|---|---:|"
		for (s = 1; s <= nl; s++) {
			n = lsizes[s]
			ln = mean(LOAD["nbguard" SUBSEP n]); lf = mean(LOAD["nft" SUBSEP n]); li = mean(LOAD["iptables" SUBSEP n])
			LN[n] = ln; LF[n] = lf; LI[n] = li
			r = ratio(lf, ln)
			print "| " n " | " fmt(ln) " | " fmt(lf) " | " fmt(li) " | " (r == "" ? "-" : sprintf("%.1fx", r)) " | " \
				fmt(mean(DUMP["nbguard" SUBSEP n])) " | " fmt(mean(DUMP["nft" SUBSEP n])) " | " fmt(mean(DUMP["iptables" SUBSEP n])) " | " \
				fmt(mean(SLAB["nbguard" SUBSEP n])) " / " fmt(mean(SLAB["nft" SUBSEP n])) " / " fmt(mean(SLAB["iptables" SUBSEP n])) " | " \
				(n in MEM ? fmt(mean(MEM[n])) : "-") " |"
		}
		print ""
		first = lsizes[1]; last = lsizes[nl]
		if ((first in MEM) && (last in MEM) && last > first) {
			m0 = mean(MEM[first]); m1 = mean(MEM[last])
			printf "nbguard memory (its own accounting, `nbctl show` mem_bytes): %.0f bytes per identity (the %s-rule ruleset over 10,000 identities), %.0f bytes per rule (growth from %s to %s rules).\n\n", \
				m0 / 10000, first, (m1 - m0) / (last - first), first, last
			PERID = m0 / 10000; PERRULE = (m1 - m0) / (last - first)
		}
	}
	if ("peers" in C) {
		print "## Policy compile (host, policy library)"
		print ""
		print "| policy | parse + validate | compile, one node | compile, every node (wall) | every node (CPU) | `nbctl policy compile` (process) |"
		print "|---|---:|---:|---:|---:|---:|"
		printf "| %s peers, %s groups, %s rules | %.3f s | %.3f ms | %.3f s | %.3f s | %s |\n\n", \
			C["peers"], C["groups"], C["rules"], C["load_s"], C["one_node_s"] * 1000, \
			CA["all_nodes_s"], CA["all_nodes_cpu_s"], (NC != "" ? sprintf("%.3f s", NC) : "-")
		printf "Every node: %s compilations, %s identities and %s rules emitted in total.\n\n", CA["nodes"], CA["total_idents"], CA["total_rules"]
	}
	if (nmet) {
		print "## Control plane (in the VM: nbmgmt and two nbhelper nodes)"
		print ""
		for (i = 1; i <= nmet; i++) print "- " MET[i]
		print ""
		print "Policy change to enforcement: " (haschange ? "above." : "not measured in this run.")
		print ""
	}
	# ---------------------------------------------------------- targets
	# How much no filter, the same configuration every time, moved
	# between sizes: the noise floor of the throughput figures.
	lo = hi = ""
	for (s = 1; s <= nsize; s++) {
		v = MED["wg" SUBSEP "none" SUBSEP sizes[s] SUBSEP "tcp"]
		if (v == "") continue
		if (lo == "" || v < lo) lo = v
		if (hi == "" || v > hi) hi = v
	}
	print "## Targets"
	print ""
	print "| target | measured | status |"
	print "|---|---|---|"
	big = sizes[nsize]; small = sizes[1]
	x = MED["wg" SUBSEP "nbguard" SUBSEP big SUBSEP "tcp"]; x0 = MED["wg" SUBSEP "none" SUBSEP big SUBSEP "tcp"]
	xs = MED["wg" SUBSEP "nbguard" SUBSEP small SUBSEP "tcp"]
	if (x != "" && x0 != "") {
		r = x / x0
		printf "| nbguard TCP throughput over WireGuard at %s rules >= 97%% of no filter | %.0f%% (%s vs %s Mbit/s) | %s |\n", \
			big, r * 100, fmt(x), fmt(x0), (r >= 0.97 ? "met" : sprintf("missed by %.0f points", (0.97 - r) * 100))
		# Flat: the ratio to no filter, not the raw rate, so that drift of
		# the shared host between sizes does not count.
		xs0 = MED["wg" SUBSEP "none" SUBSEP small SUBSEP "tcp"]
		if (xs != "" && xs0 != "" && big != small) {
			f = r / (xs / xs0)
			printf "| ... flat from %s to %s rules (ratio to no filter at %s rules / at %s) | %.2f / %.2f | %s |\n", small, big, big, small, r, xs / xs0, \
				(f >= 0.97 ? "met" : sprintf("missed: %.0f%% drop", (1 - f) * 100))
		}
	} else print "| nbguard throughput >= 97% of no filter at 100k rules | not measured | - |"
	for (m = 1; m <= 3; m++) {
		mm = m == 1 ? "tcp" : m == 2 ? "flows" : "cps"
		if (!(mm in seen_m)) continue
		ok = 1; worst = ""; line = ""
		for (s = 1; s <= nsize; s++) {
			a = MED["wg" SUBSEP "nbguard" SUBSEP sizes[s] SUBSEP mm]; b = MED["wg" SUBSEP "nft" SUBSEP sizes[s] SUBSEP mm]
			if (a == "" || b == "") continue
			line = line (line == "" ? "" : ", ") sizes[s] ": " sprintf("%.2f", a / b)
			if (a < b) ok = 0
		}
		if (line != "") printf "| nbguard >= nftables at every size (%s, WireGuard; nbguard/nft) | %s | %s |\n", mm, line, ok ? "met" : "missed where < 1.00 (see note)"
		line = ""; prev = 0; widen = 1
		for (s = 1; s <= nsize; s++) {
			a = MED["wg" SUBSEP "nbguard" SUBSEP sizes[s] SUBSEP mm]; b = MED["wg" SUBSEP "iptables" SUBSEP sizes[s] SUBSEP mm]
			if (a == "" || b == "" || b == 0) continue
			line = line (line == "" ? "" : ", ") sizes[s] ": " sprintf("%.2f", a / b)
			if (a / b < prev) widen = 0
			prev = a / b
		}
		if (line != "") printf "| nbguard ahead of linear iptables by a widening margin (%s, WireGuard; nbguard/iptables) | %s | %s |\n", mm, line, (widen && prev > 1) ? "met" : "missed (see note)"
	}
	ln = LN[lsizes[nl]]; lf = LF[lsizes[nl]]
	if (ln != "" && lf != "" && ln > 0)
		printf "| committing %s rules >= 10x faster than nft -f, and atomic | %.1fx (%.2f s vs %.2f s); atomic: one transaction swapped in under RCU, checked by selftests/netns/atomic_swap.sh | %s |\n", lsizes[nl], lf / ln, ln, lf, (lf / ln >= 10 ? "met" : sprintf("missed: %.1fx of the 10x", lf / ln))
	if (cls_target != "") {
		split(cls_target, ct, " ")
		printf "| classifier <= 150 instructions per lookup at 100,000 rules (worst of hit/miss/deny) | %s | %s |\n", ct[1], (ct[2] == "met" ? "met" : sprintf("missed by %d instructions", ct[1] - 150))
	} else print "| classifier <= 150 instructions per lookup at 100,000 rules | not measured | - |"
	if ("all_nodes_s" in CA)
		printf "| compile for every node of a %s-peer fleet < 2 s | %.2f s wall, %.2f s CPU | %s |\n", CA["nodes"], CA["all_nodes_s"], CA["all_nodes_cpu_s"], \
			(CA["all_nodes_s"] < 2 ? "met" : (CA["all_nodes_cpu_s"] < 2 ? "met in CPU time; wall time includes waiting for the shared CPUs" : "missed"))
	print ""
	if (lo != "" && hi > lo) {
		printf "Noise floor: no filter over WireGuard, the same configuration at every\n"
		printf "size, measured %s to %s Mbit/s (medians of its rounds) in this run, a\n", fmt(lo), fmt(hi)
		printf "spread of %.0f%%; throughput ratios inside that spread are not signal.\n\n", (hi / lo - 1) * 100
	}
}
function mean(s,   a, n, i, t) {
	n = split(s, a, " ")
	if (!n) return ""
	t = 0
	for (i = 1; i <= n; i++) t += a[i]
	return t / n
}
' "$RES"
}

classifier() {
	echo "## Classifier (host, userspace build of kmod/classifier.c)"
	echo
	if [[ -s $CLS ]]; then
		echo '```'
		cat "$CLS"
		echo '```'
	else
		echo "not measured"
	fi
	echo
}

if ((!DOC)); then
	tables
	classifier
	exit 0
fi

# ---------------------------------------------------------------- document
env_line=$(grep '^BENCH env ' "$RES" | head -n1)
vm_kernel=$(sed -n 's/.*kernel=\([^ ]*\).*/\1/p' <<<"$env_line")
vm_cpus=$(sed -n 's/.* cpus=\([0-9]*\).*/\1/p' <<<"$env_line")
smp_note=
if [[ $vm_cpus == 1 ]]; then
	smp_note=" The VM runs with one vCPU (\`nosmp\`) and the measured
  programs are pinned to it: with two, every wakeup across vCPUs waited
  for the host to schedule the other vCPU's thread, and round trips
  jumped between 0.5 and 15 ms at random."
fi
vm_ipt=$(sed -n 's/.*iptables="\([^"]*\)".*/\1/p' <<<"$env_line")
vm_nft=$(sed -n 's/.*nft="\([^"]*\)".*/\1/p' <<<"$env_line")
cpu=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)
cat <<EOF
# nbguard performance

Generated by \`make bench\` (selftests/bench/run.sh) on $(date -u '+%Y-%m-%d %H:%M UTC');
the whole run took $((DUR / 60)) min $((DUR % 60)) s. Every number below comes from
that one run, so ratios compare numbers measured under the same load.

$( ((${FAILED:-0})) && printf '%s\n\n' "**This run had failures** (a measure or a counter check failed; see build/bench/vm.log): cells marked \"-\" are missing." )

## Machine

- Host: ${cpu:-unknown CPU}, $(nproc) cores (shared with other jobs while
  this ran), $(awk '/MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo) RAM,
  kernel $(uname -r) (no module support).
- Data plane: in a VM, kernel ${vm_kernel:-?}, ${vm_cpus:-?} vCPU(s), $(qemu-system-x86_64 --version | head -n1 | sed 's/ (.*//')
  **in TCG (software emulation, no KVM)**. Every instruction of the
  kernel, WireGuard's crypto and the filters is emulated, so absolute
  rates are one to two orders of magnitude below real hardware and the
  cost of the filter is a small part of each packet's cost, buried in
  noise from the shared host. Read the ratios, not the absolute numbers,
  and only large differences (new flows through 100,000 linear rules)
  as signal.${smp_note} ${vm_nft:-nft}; ${vm_ipt:-iptables} — the VM's
  \`iptables\` is the nf_tables backend (iptables-nft), the Debian default.
- Classifier and compile figures are native (host CPU, userspace).

## What is measured

- Policy: 10,000 identities with /32 addresses in 100 groups and N rules
  (10, 1,000, 10,000, 100,000), generated in all three forms by
  \`nbg-bench-gen\` (selftests/bench/bench_gen.c). Rules 1..N-2 each allow
  one identity to one (protocol, port); the last two allow the traffic
  source's identity to TCP and UDP ports 5201-5202. So measured traffic is
  allowed, and a linear chain tries every other rule first (worst case).
  Rules name single identities so the linear iptables form has exactly
  one rule per source address and port.
- Filters, each on the server side of its own namespace pair, all loaded
  at once so runs interleave: **none**; **nbguard** (\`nbctl dev add\`,
  \`nbctl rules load\`); **nft**, NetBird's shape (an input chain jumping
  on \`iifname\`, \`ct state established,related accept\`, one rule per
  (protocol, port, action) matching \`ip saddr @set\`, one set per source,
  default drop), loaded with \`nft -f\`; **iptables**, linear rules (one
  per source address and port, NetBird's fallback without ipset, after a
  conntrack ESTABLISHED accept), loaded with \`iptables-restore\`.
- Measures (selftests/bench/dataplane.sh, load tool
  selftests/bench/bench_load.c): TCP throughput (iperf3), UDP packet
  rate on one established flow (64-byte datagrams, counted by the
  receiver, flooded last), UDP request-response latency on an established
  flow (median), and new flows per second (request-responses, each from
  a fresh source port, four in flight; the new-flow measure the issue
  allows instead of TCP connections per second). Each runs ${SECS_NOTE:-2 s} per round, rounds interleave the
  filters in rotating order, the table shows medians.
- After each size the benchmark reads nbguard's per-rule counters
  (\`nbctl --json stats\`), nft's rule counters and iptables' packet counts,
  and fails unless the measured rules accepted the traffic.

EOF
tables
classifier
cat <<'EOF'
## Notes on the targets

- Throughput ratios under TCG are dominated by emulation noise: one
  round's iperf3 figure can differ by 2-3x from the next for the same
  configuration. A "missed" throughput target here says the emulated
  measurement could not show it, not that the filter costs that much; the
  native per-lookup cost of the classifier (table above) is the reliable
  measure of what nbguard adds per packet.
- Throughput and established-flow targets (">= 97% of no filter", "flat",
  ">= nftables", "ahead of iptables"): where the table says missed, the
  miss is inside the noise floor printed under the targets; the new-flow
  rows are the ones where filters differ by more than the noise.
- Classifier: the instruction counts are the classifier engineer's
  (selftests/bench/classifier.sh); a miss there is real (callgrind counts
  are exact), and the table shows which lookups (hit, miss, deny) and
  sizes carry it.
- nbguard classifies every packet (that is how a revoked rule stops an
  open connection); nftables and iptables pay their rule walk only on a
  flow's first packet. On established flows they can therefore be as
  fast as or faster than nbguard; on new flows their cost grows with the
  number of rules while nbguard's does not.
- Control plane (selftests/bench/cp_bench.sh): one sample each, under
  TCG; TLS handshakes and key generation are emulated too. Revocation is
  timed with back-to-back connection attempts of 300 ms each, so the
  figure has that resolution.

## How to reproduce

```
make deps        # Debian 12 packages (once)
make bench       # builds everything, runs selftests/bench/run.sh
```

`selftests/bench/run.sh --smoke` runs the smallest size once (used by
`make check`); `BENCH_SIZES="10 1000" BENCH_REPS=5 BENCH_SECS=3
selftests/bench/run.sh --no-doc` runs a custom subset. The raw lines of
the last run are in build/bench/results.txt, the VM console in
build/bench/vm.log.
EOF
