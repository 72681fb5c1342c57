#!/usr/bin/env bash
# TAP ports (IFF_VNET_HDR, offloads on): `vnet switch -t` creates two taps, which are moved into
# two host namespaces. Hosts ping each other, a 300-packet burst arrives complete and in order,
# and a TCP transfer with offloads (64 KiB segments through the virtio-net header) completes.
. "$(dirname "$0")/lib.sh"
ns_add $T-sw
ns_add $T-a
ns_add $T-b
start_switch $T-sw "$WORK/mgmt" -t ${T}ta,${T}tb
for x in a b; do
  ip -n $T-sw link set ${T}t$x netns $T-$x
  ip -n $T-$x link set ${T}t$x name eth0
done
host_cfg $T-a eth0 02:00:00:00:71:0a 10.71.0.1/24
host_cfg $T-b eth0 02:00:00:00:71:0b 10.71.0.2/24
wait_for 5 reach $T-a 10.71.0.2 || fail "a cannot reach b through the taps"
reach $T-b 10.71.0.1 || fail "b cannot reach a"
pass "hosts on two tap ports reach each other"
# The switch must forward every frame it takes in (both directions, nothing dropped); the
# hosts' own stacks may, rarely, lose one under CI load, which the switch's counters tell apart.
st() { "$VNET" ctl "$WORK/mgmt" port/stats --json | jq -c "[.[] | [.port, .rx_frames, .tx_frames, ([.drops[]] | add // 0)]]"; }
before=$(st)
out=$(ip netns exec $T-a ping -q -c 300 -i 0.002 -s 1000 10.71.0.2 2>&1) || true
after=$(st)
got=$(echo "$out" | sed -n 's/.* \([0-9]*\) received.*/\1/p')
[ "${got:-0}" -ge 297 ] || fail "burst: $out"
fwd=$(jq -cn --argjson b "$before" --argjson a "$after" \
  '[($a[0][1] - $b[0][1]) - ($a[1][2] - $b[1][2]), ($a[1][1] - $b[1][1]) - ($a[0][2] - $b[0][2]), ($a[0][3] - $b[0][3]) + ($a[1][3] - $b[1][3])]')
[ "$fwd" = "[0,0,0]" ] || fail "switch lost frames (rx1-tx2, rx2-tx1, drops) = $fwd; $before -> $after"
pass "300-packet burst: $got replies, every frame the switch received was forwarded"
# port/link down takes the carrier away from the node's side of the tap (TUNSETCARRIER), up
# gives it back and traffic flows again.
no_carrier() { contains NO-CARRIER ip -n "$1" link show eth0; }
no_carrier $T-a && fail "a has no carrier before port/link down"
"$VNET" ctl "$WORK/mgmt" port/link 1 down
wait_for 3 no_carrier $T-a || fail "port/link 1 down: a's eth0 still has a carrier"
no_carrier $T-b && fail "port/link 1 down took b's carrier too"
"$VNET" ctl "$WORK/mgmt" port/link 1 up
wait_for 3 eval "! no_carrier $T-a" || fail "port/link 1 up: a's eth0 has no carrier"
wait_for 5 reach $T-a 10.71.0.2 || fail "a cannot reach b after port/link 1 up"
pass "port/link down/up takes the tap's carrier away and gives it back"
if command -v iperf3 >/dev/null; then
  ip netns exec $T-b iperf3 -s -1 -p 5301 >/dev/null 2>&1 &
  PIDS+=($!)
  sleep 0.3
  gb=$(ip netns exec $T-a iperf3 -c 10.71.0.2 -p 5301 -t 2 -J | jq '.end.sum_received.bits_per_second / 1e9')
  awk -v g="$gb" 'BEGIN { exit !(g > 0.5) }' || fail "TCP through taps only $gb Gbit/s"
  pass "TCP through the taps: $(printf '%.2f' "$gb") Gbit/s"
fi
echo "1 passed, 0 failed"
