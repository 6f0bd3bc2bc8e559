#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Install every Debian package ircontain needs to build, run and test.
# Idempotent: packages already present are left alone, apt is only asked
# for what is missing.
set -euo pipefail

pkgs=(
	# build
	make gcc pkg-config clang llvm libc6-dev libbpf-dev libelf-dev zlib1g-dev bpftool
	libclang-rt-14-dev
	# userspace libraries
	libnl-3-dev libnl-route-3-dev libjansson-dev libyaml-dev
	# evidence: store, hashes and signatures, pcap, bundles
	libsqlite3-dev libsodium-dev libpcap-dev libarchive-dev
	# the fleet: etcd's JSON gateway over libcurl, metrics served by
	# libmicrohttpd (both loaded on first use); etcd itself and Prometheus
	# for the tests
	libcurl4-openssl-dev libmicrohttpd-dev etcd-server etcd-client prometheus
	# test_fleet and test_metrics talk to etcd and the exporter with curl
	curl
	# tests
	libcmocka-dev iproute2 iputils-ping socat procps util-linux kmod jq strace
	# detector tests: real attack tools, run against the lab's own hosts only
	nmap hping3 ncat netcat-openbsd
	systemd man-db
	# evidence tests: read the pcap back, render the report, inspect the store,
	# forge a bundle (another Ed25519 key, hex) and pack it in another format
	tcpdump chromium bsdutils fonts-dejavu-core sqlite3 python3 openssl xxd bzip2
	# make check-fresh: a Debian 12 minbase root, a clone of this tree
	debootstrap git
	# make check-kernels: Debian kernels booted under qemu with an initramfs
	qemu-system-x86 busybox-static cpio
	# benchmarks (make bench): the anchors they are measured against
	# (xdp-filter's object from libxdp1, nftables, iptables + ipset),
	# start-up timing and the plot
	libxdp1 xdp-tools nftables iptables ipset hyperfine gnuplot-nox
)

missing=()
for p in "${pkgs[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' ||
		missing+=("$p")
done

if ((${#missing[@]} == 0)); then
	echo "install-deps: all ${#pkgs[@]} packages present"
	exit 0
fi

if ((EUID != 0)); then
	echo "install-deps: missing ${missing[*]}; run as root to install them" >&2
	exit 1
fi

echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq -o DPkg::Lock::Timeout=300
apt-get install -y -qq -o DPkg::Lock::Timeout=300 --no-install-recommends "${missing[@]}"
