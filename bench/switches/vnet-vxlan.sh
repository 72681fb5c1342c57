# shellcheck shell=bash disable=SC2034
# vnet-cable.sh's two vnet switches with the cable replaced by a VXLAN tunnel (RFC 7348) over the
# same veth pair as underlay (10.255.0.1/30 ↔ .2, MTU 1550 so that 1500-byte inner frames fit):
# VLAN 10 of each switch is VNI 5010, flooded by head-end replication to the other VTEP.
. "$BENCH_SWITCH_DIR/vnet-cable.sh"
SWITCH_DESC="two vnet switches joined by a VXLAN tunnel (vxlan: ports) over a veth underlay"
SWITCH_NEEDS="vnet"

vxlan_underlay() {
  local sw2=$BENCH_PREFIX-sw2
  ip -n "$BENCH_SW" link set c1 mtu 1550 && ip -n "$sw2" link set c2 mtu 1550 &&
    ip -n "$BENCH_SW" addr add 10.255.0.1/30 dev c1 && ip -n "$sw2" addr add 10.255.0.2/30 dev c2
}

# vxlan_switches [OPTIONS]: the two switches, OPTIONS (",csum") added to both vxlan: ports.
vxlan_switches() {
  local rc=$BENCH_RUN/vxlan.rc
  two_switch_topology && vxlan_underlay || return 1
  printf 'vlan/create 10\nport/create 1\nport/mode 1 access 10\nport/create 2\n' >"$rc"
  printf 'port/mode 2 trunk 10\n' >>"$rc"
  two_switch_start "$rc" "$rc" \
    "--port 1=afpacket:s1 --port 2=vxlan:10.255.0.1,map=10:5010,flood=5010@10.255.0.2,mtu=1550${1:-}" \
    "--port 1=afpacket:s2 --port 2=vxlan:10.255.0.2,map=10:5010,flood=5010@10.255.0.1,mtu=1550${1:-}"
}

switch_up() { vxlan_switches; }
