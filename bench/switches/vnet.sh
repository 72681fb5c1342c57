# shellcheck shell=bash disable=SC2034
# vnet switch with two afpacket ports on the switch ends of veth pairs (TPACKET_V3 ring, sendmmsg,
# PACKET_VNET_HDR so that TSO/GSO frames pass whole). One process, pinned.
SWITCH_DESC="vnet switch, two afpacket ports on veths"
SWITCH_NEEDS="vnet"
switch_up() {
  local d=$BENCH_RUN/vnet
  mkdir -p "$d" && bench_veth_to_switch 1 s1 && bench_veth_to_switch 2 s2 || return 1
  bench_start_daemon "$d/pid" "$VNET" switch -M "$d/mgmt" -d -p "$d/pid" --log "$d/log" \
    --port 1=afpacket:s1 --port 2=afpacket:s2
}
