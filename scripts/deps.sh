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
  libnl-3-dev libnl-route-3-dev libnftables-dev libmnl-dev libnetfilter-conntrack-dev libpcap-dev liburing-dev
  libgtest-dev libgmock-dev libbenchmark-dev libssl-dev
  # labs and lab tests
  iproute2 nftables iputils-ping jq graphviz procps python3 openssl curl
  # VM tests: QEMU (TCG) and the tools that build the guest image
  qemu-system-x86 qemu-utils cpio xorriso isolinux syslinux-common
  # VRRP interop tests and failover comparison
  keepalived
  # real clients of the switch and the benchmark anchors
  vde2 iperf3 netsniff-ng ethtool bc
  # vdeplug 4 (vde_plug with its tap, udp and vxlan modules): tests/lab/lab_open_switch.sh,
  # cables_vdeplug.sh, vxlan_vdeplug.sh (they skip without it)
  vdeplug
  # frames captured in lab tests (VLAN hopping, reserved addresses, storm guard) and decoded
  # (BPDUs, stp_tshark)
  tcpdump tshark
  # the seminar lab's servers and clients: dnsmasq (DNS, DHCP) and busybox (udhcpc, nslookup)
  dnsmasq-base busybox
  # rootless labs (docs/rootless.md): passt as the uplink, newuidmap/newgidmap for subordinate
  # ids; util-linux's setpriv runs tests/lab/lab_rootless.sh as an ordinary user
  passt uidmap
  # 802.1X ports (tests/lab/nac_radius.sh): FreeRADIUS, its client tools, wired supplicants
  freeradius freeradius-utils eapoltest wpasupplicant
  # the VPN server and client of examples/services.yaml (the host's openvpn service is not used)
  openvpn
  # spanning tree interop (stp_ovs: the test runs its own daemons on a private database)
  openvswitch-switch
  # labs across machines: the fan-out (Ansible) and, in tests/lab/multihost.sh, one sshd per
  # namespace standing in for a machine
  ansible openssh-server
  # routing daemons of examples/bgp.yaml: FRRouting (zebra, bgpd, vtysh) and BIRD 2. Each lab
  # router runs its own in its own /run; the host's frr and bird services are not started by
  # this install (see below) and would not clash with the lab's if the host started them later
  frr bird2
)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  # Installing must not start system services: tests run their own daemons (openvswitch-switch's
  # postinst starts the host's Open vSwitch through invoke-rc.d wherever its kernel module loads).
  # Deny starts for this install with Debian's policy layer (policy-rc.d exiting 101,
  # init-system-helpers README.policy-rc.d) unless a policy is already in place.
  policy=/usr/sbin/policy-rc.d
  if [ ! -e $policy ]; then
    printf '#!/bin/sh\n# scripts/deps.sh: no service starts while it installs\nexit 101\n' >$policy
    chmod 755 $policy
    trap 'rm -f $policy' EXIT
  fi
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
echo "dependencies: ok"
