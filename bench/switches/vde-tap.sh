# shellcheck shell=bash disable=SC2034
# VDE2's vde_switch owning two TAP devices (--tap), created in the switch namespace and then
# moved into the hosts; vde_switch keeps their file descriptors. One process, pinned. Its taps
# have no virtio-net header, so TCP crosses it in MTU-sized frames.
SWITCH_DESC="VDE2 vde_switch, two --tap ports"
SWITCH_NEEDS="vde_switch:vde2"
switch_up() {
  local d=$BENCH_RUN/vde
  mkdir -p "$d" && : >"$d/rc" # an empty rc file keeps /etc/vde2/vde_switch.rc out
  bench_start_daemon "$d/pid" vde_switch -s "$d/ctl" -M "$d/mgmt" -f "$d/rc" -t tap1 -t tap2 \
    -d -p "$d/pid" || return 1
  bench_move_to_host tap1 1 && bench_move_to_host tap2 2
}
