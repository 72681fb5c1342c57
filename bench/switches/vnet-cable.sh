# shellcheck shell=bash disable=SC2034
# Two vnet switches in namespaces of their own (the harness's switch namespace and a second one),
# joined by a plain cable: a veth pair with an afpacket port at each end. Host 1 is on the first
# switch, host 2 on the second; both processes run on the switch CPU. The reference for
# vnet-vxlan.sh, which replaces the cable by a VXLAN tunnel over the same veth pair.
SWITCH_DESC="two vnet switches joined by a veth cable (afpacket ports)"
SWITCH_NEEDS="vnet"

# Host 1 → s1 in $BENCH_SW, host 2 → s2 in $BENCH_PREFIX-sw2, and c1 ($BENCH_SW) ↔ c2 (sw2).
two_switch_topology() {
  local sw2=$BENCH_PREFIX-sw2
  bench_ns_add "$sw2" && bench_veth_to_switch 1 s1 || return 1
  BENCH_SW=$sw2 bench_veth_to_switch 2 s2 || return 1
  ip link add c1 netns "$BENCH_SW" type veth peer name c2 netns "$sw2" &&
    ip -n "$BENCH_SW" link set c1 up && ip -n "$sw2" link set c2 up
}

# two_switch_start RC1 RC2 PORTS1 PORTS2: a vnet switch in each namespace with its rc file and
# --port options.
two_switch_start() {
  local d=$BENCH_RUN/vnet
  mkdir -p "$d/1" "$d/2"
  # shellcheck disable=SC2086
  bench_start_daemon "$d/1/pid" "$VNET" switch -M "$d/1/mgmt" -d -p "$d/1/pid" --log "$d/1/log" \
    -f "$1" $3 || return 1
  # shellcheck disable=SC2086
  BENCH_SW=$BENCH_PREFIX-sw2 bench_start_daemon "$d/2/pid" "$VNET" switch -M "$d/2/mgmt" -d \
    -p "$d/2/pid" --log "$d/2/log" -f "$2" $4
}

switch_up() {
  local rc=$BENCH_RUN/cable.rc
  two_switch_topology || return 1
  printf 'port/create 1\nport/create 2\n' >"$rc"
  two_switch_start "$rc" "$rc" "--port 1=afpacket:s1 --port 2=afpacket:c1" \
    "--port 1=afpacket:s2 --port 2=afpacket:c2"
}
