# shellcheck shell=bash disable=SC2034
# No switch: one veth pair straight from host 1 to host 2. The ceiling of the harness: every
# switch adds its cost to this path.
SWITCH_DESC="veth pair, no switch (the ceiling)"
switch_up() {
  ip link add "$BENCH_PREFIX-v1" netns "$BENCH_H1" type veth peer name "$BENCH_PREFIX-v2" netns "$BENCH_H2" &&
    ip -n "$BENCH_H1" link set "$BENCH_PREFIX-v1" name "$BENCH_IF" &&
    ip -n "$BENCH_H2" link set "$BENCH_PREFIX-v2" name "$BENCH_IF"
}
