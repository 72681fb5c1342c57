# shellcheck shell=bash disable=SC2034
# vnet-vxlan.sh with UDP checksums (`csum`): the datagrams of a flow then leave in UDP GSO trains
# (one sendmsg per run of equal-size datagrams; the kernel refuses UDP GSO with zero checksums)
# and arrive coalesced (UDP_GRO), inner TCP segments merged back into GSO frames.
. "$BENCH_SWITCH_DIR/vnet-vxlan.sh"
SWITCH_DESC="two vnet switches joined by a VXLAN tunnel with UDP checksums (UDP GSO/GRO) over a veth underlay"
SWITCH_NEEDS="vnet"

switch_up() { vxlan_switches ,csum; }
