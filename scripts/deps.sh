#!/usr/bin/env bash
# Installs what vnet needs to build, test and run its labs on Debian 12 (as root).
set -euo pipefail
. "$(dirname "$0")/as-root.sh"
as_root "$0" "$@"
export DEBIAN_FRONTEND=noninteractive
pkgs=(
  # build
  build-essential cmake ninja-build ccache pkg-config clang
  libyaml-cpp-dev libcli11-dev nlohmann-json3-dev libfmt-dev libspdlog-dev
  libnl-3-dev libnl-route-3-dev libnftables-dev libmnl-dev libpcap-dev liburing-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  # labs and lab tests
  iproute2 nftables iputils-ping jq graphviz procps python3
  # VM tests: QEMU (TCG) and the tools that build the guest image
  qemu-system-x86 cpio
  # VRRP interop tests and failover comparison
  keepalived
  # real clients of the switch and the benchmark anchors
  vde2 iperf3 netsniff-ng ethtool bc
  # frames captured in lab tests (VLAN hopping, reserved addresses, storm guard)
  tcpdump
)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
echo "dependencies: ok"
