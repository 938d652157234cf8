#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Boot the Debian cloud kernel in qemu (TCG: the host has no module support
# and no KVM) with a throw-away initramfs holding busybox, bash, iproute2,
# wireguard-tools, the project's binaries from build/, the kernel modules the
# tests need and nbguard.ko, then run namespace test scripts inside it.
#
#   selftests/vm/run.sh [TEST.sh ...]    run tests, print KTAP, then
#                                        "N passed, N failed"
#   selftests/vm/run.sh --demo           run selftests/demo/demo.sh instead
#   selftests/vm/run.sh --shell          boot to an interactive shell
#
# Environment:
#   KVER / NBG_KVER      kernel version (default: the newest installed
#                        /boot/vmlinuz-*-cloud-amd64 matching the headers)
#   NBG_TEST_TIMEOUT     seconds per test inside the VM (default 240)
#   NBG_VM_TIMEOUT       seconds for the whole VM (default: derived)
#   NBG_VM_IDLE          seconds of console silence that mean a hang
#                        (default: the test timeout + 60)
#   NBG_VM_MEM           memory in MiB (default 2048)
#   NBG_VM_APPEND        extra kernel command line (e.g. slub_debug=FZ)
#   NBG_NO_MODULE=1      boot without nbguard.ko (harness development)
#
# Exit status: 0 only when every test passed, the VM shut down cleanly,
# the kernel logged no warning and nbguard.ko unloaded cleanly.
set -e
set -o pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT"

MODE=tests
TESTS=()
while (($#)); do
	case $1 in
	--demo) MODE=demo ;;
	--shell) MODE=shell ;;
	-h|--help) sed -n '3,25p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
	-*) echo "run.sh: unknown option $1" >&2; exit 2 ;;
	*) TESTS+=("$1") ;;
	esac
	shift
done

K=${NBG_KVER:-${KVER:-}}
if [[ -z $K || ! -e /boot/vmlinuz-$K ]]; then
	[[ -n $K ]] && echo "run.sh: no /boot/vmlinuz-$K, picking the newest cloud kernel" >&2
	K=$(ls /boot/vmlinuz-*-cloud-amd64 2>/dev/null | sed 's,.*/vmlinuz-,,' | sort -V | tail -n1)
	K=${K:-6.1.0-56-cloud-amd64}
fi
KERNEL=/boot/vmlinuz-$K
MODDIR=/lib/modules/$K
[[ -r $KERNEL ]] || { echo "run.sh: cannot read $KERNEL (scripts/deps.sh installs linux-image-cloud-amd64)" >&2; exit 1; }
[[ -d $MODDIR ]] || { echo "run.sh: no $MODDIR" >&2; exit 1; }

OUT=$ROOT/build/vm
TEST_TIMEOUT=${NBG_TEST_TIMEOUT:-240}

if [[ $MODE == demo && ! -f selftests/demo/demo.sh ]]; then
	echo "run.sh: selftests/demo/demo.sh does not exist yet (the control-plane part writes it)" >&2
	echo "0 passed, 1 failed"
	exit 1
fi
if [[ $MODE == tests ]]; then
	for t in "${TESTS[@]}"; do
		[[ -f $t ]] || { echo "run.sh: no such test: $t" >&2; exit 2; }
	done
fi

MODULE=$ROOT/nbguard.ko
if [[ ! -f $MODULE && -z $NBG_NO_MODULE ]]; then
	echo "run.sh: $MODULE is not built (make module), or set NBG_NO_MODULE=1" >&2
	echo "0 passed, 1 failed"
	exit 1
fi

# ---------------------------------------------------------------- initramfs
# Private work directory: several people may run the VM in one checkout.
mkdir -p "$OUT"
WORK=$(mktemp -d "$OUT/run.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
R=$WORK/root
mkdir -p "$R"/{usr/bin,usr/sbin,usr/lib,usr/lib64,usr/local/bin,proc,sys,dev,tmp,run,etc,root,src,var}
# Same merged-/usr layout as Debian 12, so ldd's paths work unchanged.
ln -s usr/bin "$R/bin"
ln -s usr/sbin "$R/sbin"
ln -s usr/lib "$R/lib"
ln -s usr/lib64 "$R/lib64"
ln -s ../run "$R/var/run"

# Copy a host file (following symlinks) to the same path in the image.
put() {
	local f=$1 dst=${2:-$1}
	[[ -e $R$dst && ! -L $R$dst ]] && return 0
	mkdir -p "$R$(dirname "$dst")"
	rm -f "$R$dst"
	cp -L "$f" "$R$dst"
}

# Copy an ELF program or library and every shared library it needs.
declare -A SEEN
put_elf() {
	local f=$1 dst=${2:-$1} lib
	put "$f" "$dst"
	[[ -n ${SEEN[$f]} ]] && return 0
	SEEN[$f]=1
	while read -r lib; do
		[[ -n $lib && -e $lib ]] || continue
		if [[ -z ${SEEN[$lib]} ]]; then
			SEEN[$lib]=1
			put "$lib"
		fi
	done < <(ldd "$f" 2>/dev/null | sed -n 's/.*=> \(\/[^ ]*\).*/\1/p; s/^[[:space:]]*\(\/[^ ]*\) (.*/\1/p')
}

is_elf() { [[ $(head -c4 "$1" 2>/dev/null | od -An -c | tr -d ' ') == 177ELF ]]; }

# busybox first: every applet becomes a symlink in /usr/bin; real tools
# copied afterwards replace the applets of the same name.
put /bin/busybox /usr/bin/busybox
for a in $(/bin/busybox --list); do
	[[ $a == busybox ]] || ln -sf busybox "$R/usr/bin/$a"
done

# A real tool replaces a busybox applet of the same name wherever it is.
tool() {
	local p
	p=$(command -v "$1" 2>/dev/null) || { echo "run.sh: warning: $1 not found on host" >&2; return 0; }
	rm -f "$R/usr/bin/$1" "$R/usr/sbin/$1"
	put_elf "$p" "/usr/${p#/usr/}"
	case $p in /usr/*) ;; *) put_elf "$p" "/usr$p" ;; esac
}
PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
for t in bash ip ss bridge wg nft iperf3 setpriv unshare nsenter jq socat openssl \
	 xtables-nft-multi; do
	tool "$t"
done
for t in iptables ip6tables iptables-save ip6tables-save iptables-restore ip6tables-restore; do
	rm -f "$R/usr/bin/$t"
	ln -sf xtables-nft-multi "$R/usr/sbin/$t"
done
# iptables loads its matches and targets at run time.
if [[ -d /usr/lib/x86_64-linux-gnu/xtables ]]; then
	for f in /usr/lib/x86_64-linux-gnu/xtables/*.so; do put_elf "$f"; done
fi
# getrandom-based tools and iproute2 read a few files from /etc.
for f in /etc/ssl/openssl.cnf /usr/lib/ssl/openssl.cnf /etc/iproute2/rt_tables \
	 /etc/protocols /etc/services /etc/ethertypes; do
	[[ -e $f ]] && put "$f"
done
echo "root:x:0:0:root:/root:/bin/bash" >"$R/etc/passwd"
echo "nobody:x:65534:65534:nobody:/nonexistent:/bin/false" >>"$R/etc/passwd"
printf 'root:x:0:\nnogroup:x:65534:\n' >"$R/etc/group"
printf '127.0.0.1 localhost\n::1 localhost\n' >"$R/etc/hosts"

# The project's programs: every executable in build/ (not build/vm, not the
# sanitizer builds in build/asan), shallowest first: the first of a name wins.
nbins=0
while IFS= read -r f; do
	dst=/usr/local/bin/$(basename "$f")
	[[ -e $R$dst ]] && continue
	if is_elf "$f"; then put_elf "$f" "$dst"; else put "$f" "$dst"; fi
	nbins=$((nbins + 1))
done < <(find build \( -path build/vm -o -path build/asan \) -prune -o \
	-type f -perm -u+x -printf '%d %p\n' 2>/dev/null | sort -n | cut -d' ' -f2-)

# Kernel modules: what the tests need loaded at boot, in dependency order,
# plus what nbguard.ko depends on. Other modules are copied for on-demand
# loading (busybox modprobe reads modules.dep).
BOOT_MODS=(veth wireguard nf_conntrack nf_defrag_ipv4 nf_defrag_ipv6)
EXTRA_MODS=(nf_tables nft_ct nft_reject_inet nft_chain_nat nft_compat nft_fib_inet
	    nft_masq nf_nat ip_tables iptable_filter ip6_tables ip6table_filter
	    xt_conntrack xt_tcpudp xt_state xt_multiport nf_reject_ipv4
	    nf_reject_ipv6 ipt_REJECT ip6t_REJECT nft_reject dummy tun bridge)
if [[ -f $MODULE ]]; then
	deps=$(modinfo -F depends "$MODULE" 2>/dev/null | tr ',' ' ')
	BOOT_MODS+=($deps)
fi
: >"$R/etc/modules.boot"
declare -A MSEEN
add_mod() {
	local list=$1 line ko
	while read -r line; do
		[[ $line == insmod\ * ]] || continue
		ko=$(awk '{print $2}' <<<"$line")
		[[ -n ${MSEEN[$ko]} ]] && continue
		MSEEN[$ko]=1
		put "$ko"
		if [[ $list == boot ]]; then echo "$ko" >>"$R/etc/modules.boot"; fi
	done < <(modprobe -S "$K" --show-depends "$2" 2>/dev/null)
}
for m in "${BOOT_MODS[@]}"; do
	modprobe -S "$K" --show-depends "$m" >/dev/null 2>&1 || {
		echo "run.sh: module $m not found for $K" >&2; exit 1; }
	add_mod boot "$m"
done
for m in "${EXTRA_MODS[@]}"; do add_mod extra "$m"; done
for f in modules.order modules.builtin modules.builtin.modinfo; do
	[[ -e $MODDIR/$f ]] && put "$MODDIR/$f"
done
depmod -b "$R" "$K"
if [[ -f $MODULE ]]; then
	cp "$MODULE" "$R/nbguard.ko"
fi

# Tests and their data: all of selftests/ (small scripts), examples/ if any,
# and each test given on the command line at its path relative to the repo.
cp -r selftests "$R/src/selftests"
rm -rf "$R/src/selftests/vm"
for d in examples Documentation/examples policy/examples; do
	[[ -d $d ]] && mkdir -p "$R/src/$(dirname "$d")" && cp -r "$d" "$R/src/$d"
done
: >"$R/etc/tests"
for t in "${TESTS[@]}"; do
	rel=$(realpath --relative-to="$ROOT" "$t")
	if [[ $rel == ../* ]]; then
		rel=extra/$(basename "$t")
	fi
	mkdir -p "$R/src/$(dirname "$rel")"
	cp "$t" "$R/src/$rel"
	echo "$rel" >>"$R/etc/tests"
done
cat >"$R/etc/nbg-vm.conf" <<EOF
MODE=$MODE
TEST_TIMEOUT=$TEST_TIMEOUT
KVER=$K
EOF
install -m 0755 selftests/vm/init "$R/init"

(cd "$R" && find . -print0 | LC_ALL=C sort -z | cpio --null -o -H newc --quiet) >"$WORK/initramfs.cpio"
echo "# initramfs: $(du -sh "$WORK/initramfs.cpio" | cut -f1), kernel $K, ${#TESTS[@]} tests, $nbins programs from build/"

# ---------------------------------------------------------------- boot
ntests=${#TESTS[@]}
if [[ $MODE == tests ]]; then
	VM_TIMEOUT=${NBG_VM_TIMEOUT:-$((120 + ntests * TEST_TIMEOUT))}
else
	VM_TIMEOUT=${NBG_VM_TIMEOUT:-900}
fi
APPEND="console=ttyS0 panic=-1 oops=panic panic_on_warn=1 quiet loglevel=4"
APPEND+=" random.trust_cpu=on mitigations=off nokaslr tsc=unstable $NBG_VM_APPEND"

QEMU=(qemu-system-x86_64 -machine q35 -cpu max -smp 2 -m "${NBG_VM_MEM:-2048}"
      -nographic -no-reboot -kernel "$KERNEL" -initrd "$WORK/initramfs.cpio"
      -append "$APPEND" -nic none)

if [[ $MODE == shell ]]; then
	"${QEMU[@]}"; exit
fi

LOG=$WORK/console.log
SUMMARY_RE='^[0-9]+ passed, [0-9]+ failed$'
# A hung kernel prints nothing: each test prints within its own timeout
# (the VM's watchdog ends it), so IDLE seconds of silence mean the VM hangs.
IDLE=${NBG_VM_IDLE:-$((TEST_TIMEOUT + 60))}
: >"$LOG"
(
	while sleep 5; do
		[[ -e $WORK/qemu.pid ]] || continue
		pid=$(cat "$WORK/qemu.pid" 2>/dev/null) || exit 0
		kill -0 "$pid" 2>/dev/null || exit 0
		if (( $(date +%s) - $(stat -c %Y "$LOG") > IDLE )); then
			touch "$WORK/idle"
			kill "$pid"
			exit 0
		fi
	done
) &
idle_watch=$!
set +e
timeout -k 10 "$VM_TIMEOUT" "${QEMU[@]}" -pidfile "$WORK/qemu.pid" </dev/null 2>&1 |
	sed -u 's/\x1b\[[0-9;?]*[a-zA-Z]//g; s/\x1bc//g; s/\r//g' | tee "$LOG" | grep -a --line-buffered -v -E "$SUMMARY_RE"
qrc=${PIPESTATUS[0]}
set -e
kill "$idle_watch" 2>/dev/null || true
wait "$idle_watch" 2>/dev/null || true

cp "$LOG" "$OUT/console.log" 2>/dev/null || true
LOG=$OUT/console.log
summary=$(grep -a -E "$SUMMARY_RE" "$LOG" | tail -n1 || true)
reason=
if [[ -e $WORK/idle ]]; then
	reason="VM printed nothing for ${IDLE}s (hung?)"
elif ((qrc == 124 || qrc == 137)); then
	reason="VM timed out after ${VM_TIMEOUT}s (hung?)"
elif grep -a -q -E 'Kernel panic|end Kernel panic' "$LOG"; then
	reason="kernel panic (see $LOG)"
elif [[ -z $summary ]]; then
	reason="VM stopped without a summary line (crashed? qemu exit $qrc)"
elif ! grep -a -q '^# nbg-vm: clean shutdown' "$LOG"; then
	reason="VM did not shut down cleanly"
fi

if [[ -n $reason ]]; then
	echo "# run.sh: $reason"
	passed=0 failed=1
	if [[ -n $summary ]]; then
		read -r passed _ failed _ <<<"$summary"
		failed=$((failed + 1))
	else
		passed=$(grep -a -c -E '^ok [0-9]+ ' "$LOG" || true)
		failed=$(( $(grep -a -c -E '^not ok [0-9]+ ' "$LOG" || true) + 1 ))
	fi
	echo "$passed passed, $failed failed"
	exit 1
fi
echo "$summary"
read -r _ _ failed _ <<<"$summary"
((failed == 0))
