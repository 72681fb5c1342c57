# vnet switch owning two TAP ports (IFF_VNET_HDR, offloads on), moved into the host namespaces:
# the same shape as the vde-tap anchor.
VNET_BIN=${VNET_BIN:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)/build/release/vnet}
SW_DESC="vnet switch, two --tap ports (vnet header)"
sw_up() {
  local d=$PA_RUN/vnet-tap
  mkdir -p "$d"
  pa_pin "$PA_SW_CPU" ip netns exec "$PA_SW" "$VNET_BIN" switch -M "$d/mgmt" -d -p "$d/pid" --log "$d/log" \
    -t pa-tap1 -t pa-tap2 || return 1
  pa_wait_file "$d/pid" || return 1
  SW_PIDS=("$(cat "$d/pid")")
  pa_move_to_host "$PA_SW" pa-tap1 1
  pa_move_to_host "$PA_SW" pa-tap2 2
}
sw_down() { pa_kill_pids "${SW_PIDS[@]}"; }
