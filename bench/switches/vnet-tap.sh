# shellcheck shell=bash disable=SC2034
# vnet switch owning two TAP devices (IFF_VNET_HDR, offloads on), moved into the hosts: the
# shape of vde-tap. One process, pinned.
SWITCH_DESC="vnet switch, two --tap ports (virtio-net header)"
SWITCH_NEEDS="vnet"
switch_up() {
  local d=$BENCH_RUN/vnet
  mkdir -p "$d" || return 1
  bench_start_daemon "$d/pid" "$VNET" switch -M "$d/mgmt" -d -p "$d/pid" --log "$d/log" \
    -t tap1,tap2 || return 1
  bench_move_to_host tap1 1 && bench_move_to_host tap2 2
}
