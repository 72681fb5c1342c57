#!/usr/bin/env bash
# Rate accuracy end to end through the switch on veth ports: rate 10mbit on h1's port (frames
# toward h1) should give iperf3 goodput within ±1 % of 10 Mbit/s of Ethernet frames carrying TCP
# segments, i.e. 10 Mbit/s × MSS / (MSS + 66 bytes of Ethernet, IPv4 and TCP headers with
# timestamps), the share a rate limiter on frames leaves to payload. Exit 1 outside ±1 %.
# TCP GSO trains from the veth are cut into their segments by the impairment stage, as a wire
# carries them (bridge/impair_stage.hh): released as one 64 KiB burst they left TCP
# application-limited at 0.975-0.983 of the share; as segments it measures 1.0000 (also with both
# cores busy compiling).
# Positive control: goodput without impairment far above 10 Mbit/s, so a limit that does nothing fails.
. "$(dirname "$0")/lib.sh"
two_hosts_on_switch 0b 10.9.1
reach $T-h1 10.9.1.2 || fail "h1 cannot reach h2 (positive control)"

ip netns exec $T-h2 iperf3 -s -1 -D -p 5201 --logfile $WORK/iperf3-s.log
wait_for 5 ip netns exec $T-h2 sh -c 'ss -ltn | grep -q ":5201 "' || fail "iperf3 server did not listen"
goodput() { # bits/s received, omitting the first second (slow start, queue filling)
  ip netns exec $T-h2 iperf3 -s -1 -D -p 5201 --logfile $WORK/iperf3-s.log 2>/dev/null
  wait_for 5 ip netns exec $T-h2 sh -c 'ss -ltn | grep -q ":5201 "' || return 1
  ip netns exec $T-h1 iperf3 -c 10.9.1.2 -p 5201 -R -t "$1" -O 1 -J |
    jq '.end.sum_received.bits_per_second'
}
# the first server (-1) serves this baseline; goodput() starts one per run
b0=$(ip netns exec $T-h1 iperf3 -c 10.9.1.2 -p 5201 -R -t 1 -J | jq '.end.sum_received.bits_per_second')
awk -v g="$b0" 'BEGIN { exit !(g > 50e6) }' || fail "without impairment iperf3 gave $b0 bit/s (want > 50 Mbit/s)"
pass "without impairment iperf3 goodput $(awk -v g="$b0" 'BEGIN { printf "%.1f", g / 1e6 }') Mbit/s"

ctl impair/set 1 out rate 10mbit
mss=1448
g=$(goodput 5) || fail "iperf3 did not run"
want=$(awk -v m=$mss 'BEGIN { printf "%.0f", 10e6 * m / (m + 66) }')
ratio=$(awk -v g="$g" -v w="$want" 'BEGIN { printf "%.4f", g / w }')
awk -v r="$ratio" 'BEGIN { exit !(r >= 0.99 && r <= 1.01) }' ||
  fail "rate 10mbit: iperf3 goodput $g bit/s is $ratio of the expected $want (want 0.99-1.01)"
pass "rate 10mbit: iperf3 goodput $(awk -v g="$g" 'BEGIN { printf "%.3f", g / 1e6 }') Mbit/s = $ratio of the $want bit/s TCP payload share"
echo "2 passed, 0 failed"
