#!/usr/bin/env bash
# The lab step `probe` (docs/probe.md) end to end through a vnet switch on veth ports: two
# hosts, one switch, one `vnet lab test` run whose JUnit report carries every figure.
#   (a) no impairment: nothing lost, duplicated or reordered;
#   (b) loss 20% on what h1 sends: `loss 20% ± 2.3%` over 2000 probes passes (2.3 points is the
#       binomial 99 % interval, 2.576 × sqrt(0.2 × 0.8 / 2000));
#   (c) an expectation that cannot hold (rtt p50 < 5ms through 10 ms each way) fails its step,
#       and the failure names the measured value;
#   (d) delay 10ms each way on h2's cable adds 20 ms to the round trip, within issue #11's
#       targets: |mean error| ≤ 50 µs and |p99 error| ≤ 200 µs. Over 1000 probes at 200/s
#       each, with the baseline measured just before on the same path, a probe's error is its
#       RTT − 20 ms − the baseline's median RTT (RTTs less the reflector's turnaround,
#       docs/probe.md), and
#         mean error = mean(RTT delayed) − 20 ms − p50(RTT baseline)
#         p99 error  = p99(RTT delayed) − 20 ms − p50(RTT baseline)
#       The baseline's median, not its mean: a host stall during the baseline pulled its mean
#       up by 60 µs in one run (mean 126 µs, median 63 µs), which is no error of the delay.
#       A host that takes the switch's CPU away for milliseconds (a VM's vCPU descheduled:
#       measured up to 16 ms on the 2-vCPU CI machine) makes any emulator late; the switch counts those stalls while it polls
#       for a release (showinfo `wake_lead.stalls`). An attempt that misses a target while the
#       switch saw such a stall is void and repeated (at most 5 attempts); one that misses a
#       target with no stall, or five void ones, fail the test. The first lab's `delay`
#       scenario checks that delayed probes all come back, and (c);
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
        count: 200
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

# figures XML: the figures of a report's probe steps from their JUnit properties, into $FIGS,
# one line per step: scenario|failure message or -|name=value …
FIGS=$WORK/figures
figures() {
  python3 - "$1" >"$FIGS" <<'PY'
import sys, xml.etree.ElementTree as ET
for tc in ET.parse(sys.argv[1]).iter("testcase"):
    props = tc.find("properties")
    if props is None:
        continue
    f = tc.find("failure")
    print("|".join([tc.get("classname").split(".")[-1], f.get("message") if f is not None else "-",
                    " ".join(f"{p.get('name')}={p.get('value')}" for p in props)]))
PY
}
fig() { # LINE NAME: a property of the LINE-th probe step
  sed -n "$1p" "$FIGS" | tr ' |' '\n\n' | sed -n "s/^$2=//p"
}
line() { sed -n "$1p" "$FIGS"; }
figures "$WORK/probe.xml"
[ "$(wc -l <"$FIGS")" = 4 ] || fail "expected 4 probe steps with properties: $(cat "$WORK/probe.xml")"

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
[[ $(line 3) == "delay|-|"* ]] || fail "the delayed probes did not all come back: $(line 3)"
Q=${T}q
sed -e "s/^name: $L\$/name: $Q/" -e '/^scenarios:/,$d' "$WORK/probe.yaml" >"$WORK/precision.yaml"
cat >>"$WORK/precision.yaml" <<'EOF'
scenarios:
  - name: precision
    steps:
      - probe: h1 h2
        rate: 200/s
        count: 1000
      - impair: h2 sw1 delay 10ms
      - probe: h1 h2
        rate: 200/s
        count: 1000
        expect: loss 0%
      - impair: h2 sw1 clear
EOF
"$VNET" lab up "$WORK/precision.yaml" >"$WORK/up.log" 2>&1 || fail "lab up: $(cat "$WORK/up.log")"
stalls() { "$VNET" ctl "$VNET_STATE_DIR/$Q/console.sock" showinfo --json | jq -r .wake_lead.stalls; }
FIGS=$WORK/precision-figures
verdict=""
for attempt in 1 2 3 4 5; do
  before=$(stalls)
  "$VNET" lab test "$WORK/precision.yaml" --keep --junit "$WORK/precision$attempt.xml" \
    >"$WORK/precision$attempt.log" 2>&1 || fail "precision run $attempt: $(cat "$WORK/precision$attempt.log")"
  host_stalls=$(($(stalls) - before))
  figures "$WORK/precision$attempt.xml"
  [ "$(fig 2 probe.lost)" = 0 ] || fail "precision run $attempt lost probes: $(line 2)"
  read -r mean_err p99_err added_p50 < <(awk -v b50="$(fig 1 probe.rtt_p50_ms)" \
    -v dm="$(fig 2 probe.rtt_mean_ms)" -v d50="$(fig 2 probe.rtt_p50_ms)" -v d99="$(fig 2 probe.rtt_p99_ms)" \
    'BEGIN { printf "%.1f %.1f %.3f\n", (dm - 20 - b50) * 1000, (d99 - 20 - b50) * 1000, d50 - b50 }')
  echo "# attempt $attempt: baseline RTT mean $(fig 1 probe.rtt_mean_ms) p50 $(fig 1 probe.rtt_p50_ms) p99 $(fig 1 probe.rtt_p99_ms) ms; delayed mean $(fig 2 probe.rtt_mean_ms) p50 $(fig 2 probe.rtt_p50_ms) p99 $(fig 2 probe.rtt_p99_ms) ms; reflector turnaround p99 $(fig 2 probe.turnaround_p99_ms) ms"
  echo "# attempt $attempt: mean error ${mean_err} µs (target ±50), p99 error ${p99_err} µs (target ±200), added p50 ${added_p50} ms; host stalls while the switch polled: $host_stalls"
  if awk -v m="$mean_err" -v p="$p99_err" 'BEGIN { exit !(m >= -50 && m <= 50 && p >= -200 && p <= 200) }'; then
    verdict=pass
    break
  fi
  [ "$host_stalls" -gt 0 ] ||
    fail "delay 10ms each way: mean error ${mean_err} µs, p99 error ${p99_err} µs (targets ±50, ±200), and no host stall to blame"
  echo "# attempt $attempt void: the host took the switch's CPU $host_stalls times while it polled"
done
[ "$verdict" = pass ] || fail "delay 10ms each way: five attempts, each with host stalls, none within the targets"
"$VNET" lab down "$Q" >/dev/null 2>&1 || fail "lab down $Q"
pass "delay 10ms each way adds ${added_p50} ms at p50: mean error ${mean_err} µs, p99 error ${p99_err} µs (attempt $attempt)"

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
