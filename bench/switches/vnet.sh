# vnet switch with two afpacket ports on the switch ends of veth pairs (TPACKET_V3 ring,
# sendmmsg, PACKET_VNET_HDR so TSO/GSO frames pass through). One process, pinned.
# Used by ../shared/bench/run.sh through PA_SWITCH_DIRS=bench/switches (see bench/README.md).
VNET_BIN=${VNET_BIN:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)/build/release/vnet}
SW_DESC="vnet switch, two afpacket (veth) ports"
sw_up() {
  local d=$PA_RUN/vnet
  mkdir -p "$d"
  pa_veth_to_sw 1 pa-s1 || return 1
  pa_veth_to_sw 2 pa-s2 || return 1
  pa_pin "$PA_SW_CPU" ip netns exec "$PA_SW" "$VNET_BIN" switch -M "$d/mgmt" -d -p "$d/pid" --log "$d/log" \
    --port 1=afpacket:pa-s1 --port 2=afpacket:pa-s2 || return 1
  pa_wait_file "$d/pid" || return 1
  SW_PIDS=("$(cat "$d/pid")")
}
sw_down() { pa_kill_pids "${SW_PIDS[@]}"; }
