# shellcheck shell=bash disable=SC2034
# The Linux bridge of bridge.sh with the receive processing of its ports steered (RPS) to the
# switch CPU, so that the kernel switch gets a core of its own like the userspace switches: the
# generator keeps its CPU to itself.
. "$BENCH_SWITCH_DIR/bridge.sh"
SWITCH_DESC="Linux bridge, veth ports, STP off, forwarding on the switch CPU (RPS)"
switch_up() {
  bridge_up && bench_rps "$BENCH_SW" p1 "$BENCH_SW_CPU" && bench_rps "$BENCH_SW" p2 "$BENCH_SW_CPU"
}
