# shellcheck shell=bash disable=SC2034
. "$BENCH_SWITCH_DIR/vnet-vxlan.sh"
SWITCH_DESC="vnet-vxlan with GRO on the underlay veths"
SWITCH_NEEDS="vnet"
switch_up() {
  vxlan_switches || return 1
  ip netns exec "$BENCH_SW" ethtool -K c1 gro on && ip netns exec "$BENCH_PREFIX-sw2" ethtool -K c2 gro on
}
