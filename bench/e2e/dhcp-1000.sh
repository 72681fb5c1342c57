#!/usr/bin/env bash
# DHCP exchange time and leases served for N clients (default 1,000), side by side:
#   vnet   a lab network (lab/kind_network.cc: dnsmasq in the service namespace behind the vnet
#          switch, VLAN 10) and a generator host on the same VLAN;
#   plain  the same dnsmasq configuration (vnet's generated file, paths moved) on one end of a
#          veth pair, the generator on the other: no switch, no vnet.
# The generator (dhcp_load.py) runs N clients with distinct MACs through DISCOVER/OFFER/
# REQUEST/ACK, WINDOW in flight, and reports p50/p90/p99/max exchange time and leases.
# Root; everything lives in namespaces this script creates (prefix vdh$$) and a scratch dir.
#   bench/e2e/dhcp-1000.sh [CLIENTS] [WINDOW] [REPS]
# PING=true keeps dnsmasq's ping check (default here: ping: false); GEN_ARGS adds generator
# options (e.g. "--retry 4 --tries 15" with PING=true: each new address then waits ~3 s).
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
VNET=${VNET:-$REPO/build/release/vnet}
N=${1:-1000}
WINDOW=${2:-64}
REPS=${3:-3}
P=vdh$$
RUN=$(mktemp -d /tmp/vnet-dhcpbench.XXXXXX)
export VNET_STATE_DIR=$RUN/labs
LAB=dhcpb$$
DNSMASQ_PID=""
cleanup() {
  [ -n "$DNSMASQ_PID" ] && kill "$DNSMASQ_PID" 2>/dev/null && wait "$DNSMASQ_PID" 2>/dev/null
  "$VNET" lab down "$LAB" >/dev/null 2>&1 || true
  ip netns del $P-srv 2>/dev/null || true
  ip netns del $P-gen 2>/dev/null || true
  rm -rf "$RUN"
}
trap cleanup EXIT INT TERM
command -v dnsmasq >/dev/null || { echo "dnsmasq missing (scripts/deps.sh)" >&2; exit 1; }
log() { printf '[%(%H:%M:%S)T] %s\n' -1 "$*" >&2; }

cat > "$RUN/lab.yaml" <<YAML
name: $LAB
switches: [{name: sw, vlans: [10]}]
hosts: [{name: gen, isolate: false, interfaces: [{name: eth0}]}]
links: [{endpoints: [gen, sw], vlan: 10}]
networks:
  - {name: net, switch: sw, vlan: 10, mode: open, subnet: 10.0.0.0/20,
     dhcp: {ranges: [10.0.1.1-10.0.15.254], ping: ${PING:-false}}}
YAML

run_vnet() {
  "$VNET" lab up "$RUN/lab.yaml" > "$RUN/up.log" || { cat "$RUN/up.log" >&2; exit 1; }
  cp "$VNET_STATE_DIR/$LAB/net.dnsmasq.conf" "$RUN/vnet.conf"
  ip netns exec $LAB-gen python3 "$HERE/dhcp_load.py" --iface eth0 --clients "$N" \
    --window "$WINDOW" ${GEN_ARGS:-}
  "$VNET" lab down "$LAB" > /dev/null
}

run_plain() {
  ip netns add $P-srv
  ip netns add $P-gen
  ip -n $P-srv link add eth0 type veth peer name eth0 netns $P-gen
  ip -n $P-srv addr add 10.0.0.1/20 dev eth0
  ip -n $P-srv link set eth0 up
  ip -n $P-srv link set lo up
  ip -n $P-gen link set eth0 up
  ip netns exec $P-gen sysctl -qw net.ipv6.conf.all.disable_ipv6=1
  sed -e "s|$VNET_STATE_DIR/$LAB/net\.|$RUN/plain.|" "$RUN/vnet.conf" > "$RUN/plain.conf"
  : > "$RUN/plain.hosts"
  rm -f "$RUN/plain.leases"
  ip netns exec $P-srv dnsmasq --keep-in-foreground --conf-file="$RUN/plain.conf" \
    > "$RUN/plain.log" 2>&1 &
  DNSMASQ_PID=$!
  for _ in $(seq 100); do
    ip netns exec $P-srv ss -ltn | grep -q '10.0.0.1:53' && break
    sleep 0.05
  done
  ip netns exec $P-gen python3 "$HERE/dhcp_load.py" --iface eth0 --clients "$N" --window "$WINDOW" ${GEN_ARGS:-}
  kill "$DNSMASQ_PID"; wait "$DNSMASQ_PID" 2>/dev/null || true
  DNSMASQ_PID=""
  ip netns del $P-srv
  ip netns del $P-gen
}

run_vnet > /dev/null  # warm-up, and vnet's generated dnsmasq.conf for the plain runs
for r in $(seq "$REPS"); do
  log "rep $r: vnet"
  printf 'vnet  %s\n' "$(run_vnet)"
  log "rep $r: plain"
  printf 'plain %s\n' "$(run_plain)"
done
