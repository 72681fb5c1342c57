#!/usr/bin/env bash
# Two hosts on one vnet switch through afpacket. impair/set delay 10ms on h2's port in both
# directions adds 20 ms to the ping round trip (19–25 ms over a baseline that must be under
# 2 ms), impair/show counts the delayed frames, and impair/clear brings the baseline back.
. "$(dirname "$0")/lib.sh"
two_hosts_on_switch 0a 10.9.0

# Mean RTT in ms of 20 pings from h1 to h2 (after one that resolves ARP).
rtt() {
  reach $T-h1 10.9.0.2 || fail "h1 cannot reach h2"
  ip netns exec $T-h1 ping -q -c 20 -i 0.02 -W 1 10.9.0.2 |
    awk -F'/' '/^rtt|^round-trip/ { print $5 }'
}
in_range() { awk -v v="$1" -v lo="$2" -v hi="$3" 'BEGIN { exit !(v >= lo && v <= hi) }'; }

base=$(rtt)
[ -n "$base" ] || fail "no RTT measured without impairment"
in_range "$base" 0 2 || fail "baseline RTT $base ms, expected under 2 ms"
pass "baseline RTT $base ms"

ctl impair/set 2 both delay 10ms
impaired=$(rtt)
[ -n "$impaired" ] || fail "no RTT measured with impairment"
added=$(awk -v a="$impaired" -v b="$base" 'BEGIN { printf "%.3f", a - b }')
in_range "$added" 19 25 || fail "delay 10ms each way added $added ms to the RTT (want 19-25)"
pass "delay 10ms each way adds $added ms to the RTT ($base -> $impaired ms)"

delayed=$(ctl impair/show 2 --json | jq '[.[] | select(.direction == "out") | .delayed][0]')
[ "$delayed" -ge 20 ] || fail "impair/show 2 counted $delayed delayed frames out, expected ≥ 20"
ctl impair/clear 2
after=$(rtt)
in_range "$after" 0 2 || fail "after impair/clear the RTT is $after ms, expected under 2 ms"
pass "impair/clear restores the RTT ($after ms)"
echo "3 passed, 0 failed"
