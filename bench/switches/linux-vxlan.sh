# shellcheck shell=bash disable=SC2034
# The kernel's answer to vnet-vxlan.sh: in each of the two switch namespaces a Linux bridge with
# the host's veth and a `vxlan` device (VNI 5010, dstport 4789, static remote: head-end
# replication) over the same veth underlay (MTU 1550). Receive processing of every switch-side
# veth end is steered (RPS) to the switch CPU, as bridge-rps.sh does, so the kernel path has a
# core of its own like the userspace switches.
. "$BENCH_SWITCH_DIR/vnet-vxlan.sh"
SWITCH_DESC="two Linux bridges joined by Linux vxlan devices over a veth underlay (RPS)"
SWITCH_NEEDS=""

switch_up() {
  local sw2=$BENCH_PREFIX-sw2 ns dev local remote
  two_switch_topology && vxlan_underlay || return 1
  for ns in "$BENCH_SW" "$sw2"; do
    if [ "$ns" = "$BENCH_SW" ]; then
      dev=c1 local=10.255.0.1 remote=10.255.0.2
    else
      dev=c2 local=10.255.0.2 remote=10.255.0.1
    fi
    ip netns exec "$ns" sh -c 'for k in iptables ip6tables arptables; do
      f=/proc/sys/net/bridge/bridge-nf-call-$k; [ ! -e $f ] || echo 0 >$f; done' &&
      ip -n "$ns" link add br0 type bridge stp_state 0 &&
      ip -n "$ns" link add vx0 type vxlan id 5010 dstport 4789 local $local remote $remote dev $dev &&
      ip -n "$ns" link set vx0 master br0 && ip -n "$ns" link set vx0 up || return 1
  done
  ip -n "$BENCH_SW" link set s1 master br0 && ip -n "$sw2" link set s2 master br0 &&
    ip -n "$BENCH_SW" link set br0 up && ip -n "$sw2" link set br0 up &&
    bench_rps "$BENCH_SW" s1 "$BENCH_SW_CPU" && bench_rps "$sw2" s2 "$BENCH_SW_CPU" &&
    bench_rps "$BENCH_SW" c1 "$BENCH_SW_CPU" && bench_rps "$sw2" c2 "$BENCH_SW_CPU"
}
