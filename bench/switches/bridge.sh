# shellcheck shell=bash disable=SC2034
# Linux bridge in the switch namespace, hosts on veth ports, STP off and the bridge's netfilter
# hooks off (they are per namespace). Forwarding runs in the softirq of the sending CPU, i.e. on
# the generator's CPU; bridge-rps.sh gives it a CPU of its own.
SWITCH_DESC="Linux bridge, veth ports, STP off (forwarding on the sender's CPU)"
bridge_up() {
  ip netns exec "$BENCH_SW" sh -c 'for k in iptables ip6tables arptables; do
      f=/proc/sys/net/bridge/bridge-nf-call-$k; [ ! -e $f ] || echo 0 >$f; done' &&
    ip -n "$BENCH_SW" link add br0 type bridge stp_state 0 &&
    bench_veth_to_switch 1 p1 && bench_veth_to_switch 2 p2 &&
    ip -n "$BENCH_SW" link set p1 master br0 &&
    ip -n "$BENCH_SW" link set p2 master br0 &&
    ip -n "$BENCH_SW" link set br0 up
}
switch_up() { bridge_up; }
