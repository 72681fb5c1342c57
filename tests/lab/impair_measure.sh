#!/usr/bin/env bash
# What the user set is what the wire does, measured end to end through the switch on veth ports:
#  - loss 20% on h2's port (frames toward h2) loses between 18.97 % and 21.03 % of 10^4 echo
#    requests: the 99 % interval of a Bernoulli(0.2) count over 10^4 trials (±2.576·σ, σ = 0.4 %).
# Positive control: the same measure without impairment loses nothing, so a setting that does
# nothing fails. (The rate check with iperf3 is tests/lab/impair_rate.sh.)
. "$(dirname "$0")/lib.sh"
two_hosts_on_switch 0b 10.9.1
reach $T-h1 10.9.1.2 || fail "h1 cannot reach h2 (positive control)"

# Echo requests lost out of N sent 1 ms apart (replies wait up to 2 s at the end).
lost() {
  ip netns exec $T-h1 ping -q -c "$1" -i 0.001 -W 2 10.9.1.2 |
    awk '/packets transmitted/ { print $1 - $4 }'
}
l0=$(lost 1000)
[ "$l0" = 0 ] || fail "without impairment $l0 of 1000 echo requests were lost (want 0)"
pass "without impairment 0 of 1000 echo requests lost"

ctl impair/set 2 out loss 20%
n=10000
l=$(lost $n)
[ -n "$l" ] || fail "no loss measured"
awk -v l="$l" -v n=$n 'BEGIN { exit !(l >= 0.1897 * n && l <= 0.2103 * n) }' ||
  fail "loss 20%: $l of $n lost, outside the 99 % interval [1897, 2103]"
dropped=$(ctl impair/show 2 --json | jq '[.[] | select(.direction == "out")][0].dropped.loss')
pass "loss 20%: $l of $n echo requests lost (99 % interval [1897, 2103]; impair/show counts $dropped)"
ctl impair/clear 2

echo "2 passed, 0 failed"
