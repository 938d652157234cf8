#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Install every Debian 12 package nbguard needs to build, test and run its
# demo. Idempotent: only missing packages are installed.
#
#   scripts/deps.sh               install what is missing (needs root)
#   scripts/deps.sh --check-only  exit 1 and list what is missing
set -e

PACKAGES=(
	# build
	build-essential make gcc pkg-config
	linux-headers-cloud-amd64
	dkms sparse
	libnl-3-dev libnl-genl-3-dev libmnl-dev
	libssl-dev openssl
	libyaml-dev libsqlite3-dev
	# VM tests: the kernel booted in qemu and what goes into its initramfs
	linux-image-cloud-amd64
	qemu-system-x86
	busybox-static bash util-linux kmod cpio
	iproute2 wireguard-tools nftables iptables iperf3
	# host tests and tools
	valgrind socat ncat jq
)

missing=()
for p in "${PACKAGES[@]}"; do
	status=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null) || status=
	[[ $status == installed ]] || missing+=("$p")
done

if [[ $1 == --check-only ]]; then
	if ((${#missing[@]})); then
		echo "missing packages: ${missing[*]}" >&2
		exit 1
	fi
	exit 0
fi

if ((${#missing[@]} == 0)); then
	echo "deps: all ${#PACKAGES[@]} packages installed"
	exit 0
fi

if ((EUID != 0)); then
	echo "deps: need root to install: ${missing[*]}" >&2
	exit 1
fi

echo "deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update
apt-get install -y --no-install-recommends "${missing[@]}"
