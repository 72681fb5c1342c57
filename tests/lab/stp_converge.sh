#!/usr/bin/env bash
# Layer-2 convergence measured by the `stream` and `converge` steps: three switches cabled in a
# triangle, all running RSTP, sw1 the root, sw2's port toward sw3 the alternate; h1 on sw1, h2 on
# sw2, h3 on sw3. A probe stream (one frame every 1 ms) runs while a root-path cable is pulled,
# and `converge: … < 1s` passes — the stream flows again in less than a second and no probe
# arrives twice: h1 → h3 across sw3–sw1 (sw3 has no alternate port: sw2's port toward sw3 must
# become designated), then, with it plugged back, h1 → h2 across sw1–sw2 (sw2's alternate port
# becomes its root port). Positive control, the measurement sees an outage: with
# h1's cable pulled for the length of an unreachable ping (1 s) and plugged back, converge reports
# an outage of at least 900 ms with probes lost, passes a 5 s bound and fails a 500 ms bound,
# saying why. A converge step with no fault while its stream ran fails, and so does one without a
# stream.
. "$(dirname "$0")/lib.sh"

# A scenario that unplugs h1 for the length of an unreachable ping under a stream: NAME BOUND.
flap() {
  cat <<EOF2
  - name: $1
    steps:
      - stream: h1 h2
      - ping: h1 h2
      - link: h1 sw1 down
      - ping: h2 h1
        expect: unreachable
      - link: h1 sw1 up
      - converge: h1 h2 < $2
EOF2
}

F=$WORK/converge.yaml
cat >"$F" <<EOF2
name: $T
switches:
  - {name: sw1, vlans: [10], stp: rstp, stp_priority: 4096}
  - {name: sw2, vlans: [10], stp: rstp}
  - {name: sw3, vlans: [10], stp: rstp, stp_priority: 8192}
hosts:
  - {name: h1, interfaces: [{name: eth0, ipv4: 10.79.0.1/24}]}
  - {name: h2, interfaces: [{name: eth0, ipv4: 10.79.0.2/24}]}
  - {name: h3, interfaces: [{name: eth0, ipv4: 10.79.0.3/24}]}
links:
  - {endpoints: [h1, sw1], vlan: 10}
  - {endpoints: [h2, sw2], vlan: 10}
  - {endpoints: [h3, sw3], vlan: 10}
  - {endpoints: [sw1, sw2], trunk: [10]}
  - {endpoints: [sw2, sw3], trunk: [10], stp_cost: {sw2: 3000}}
  - {endpoints: [sw3, sw1], trunk: [10]}
scenarios:
  - name: stp_pull_sw3
    steps:
      - wait_until: {root_bridge: sw1}
        within: 10s
      - wait_until: {ping: h1 h3}
        within: 5s
      - stream: h1 h3
      - ping: h3 h1
      - link: sw3 sw1 down
      - converge: h1 h3 < 1s
      - link: sw3 sw1 up
  - name: stp_pull
    steps:
      - wait_until: {root_bridge: sw1}
        within: 10s
      - wait_until: {stp_port: sw2 sw3, role: alternate, state: discarding}
        within: 10s
      - wait_until: {ping: h1 h2}
        within: 5s
      - stream: h1 h2
      - ping: h2 h1
      - link: sw1 sw2 down
      - converge: h1 h2 < 1s
      - stp_port: sw2 sw3
        role: root
        state: forwarding
$(flap host_flap 5s)
$(flap too_slow 500ms)
  - name: no_fault
    steps:
      - stream: h1 h2
      - ping: h1 h2
      - converge: h1 h2 < 1s
      - converge: h1 h2 < 1s
EOF2

"$VNET" lab validate "$F" >"$WORK/validate.log" 2>&1 || fail "validate: $(cat "$WORK/validate.log")"
"$VNET" lab up "$F" >"$WORK/up.log" 2>&1 || fail "up: $(cat "$WORK/up.log")"

run() { # SCENARIO: runs it, output in $WORK/SCENARIO.out; the exit status is vnet's
  "$VNET" lab test "$F" --scenario "$1" >"$WORK/$1.out" 2>&1
}
# The converge line's numbers: "outage X ms (N lost in a row), L lost, D duplicated".
outage_ms() { sed -n 's/.*\] converge .* outage \([0-9.]*\) ms.*/\1/p' "$WORK/$1.out" | head -1; }
lost() { sed -n 's/.*\] converge .* in a row), \([0-9]*\) lost.*/\1/p' "$WORK/$1.out" | head -1; }

run stp_pull_sw3 || fail "stp_pull_sw3: $(cat "$WORK/stp_pull_sw3.out")"
grep -q "0 failed" "$WORK/stp_pull_sw3.out" || fail "stp_pull_sw3: $(cat "$WORK/stp_pull_sw3.out")"
pass "sw3–sw1 pulled (sw3 has no alternate): $(grep -o 'outage.*' "$WORK/stp_pull_sw3.out" | head -1)"
run stp_pull || fail "stp_pull: $(cat "$WORK/stp_pull.out")"
grep -q "0 failed" "$WORK/stp_pull.out" || fail "stp_pull: $(cat "$WORK/stp_pull.out")"
grep -q "\[PASS\] converge h1 h2 < 1s — h1 → h2: outage .* 0 duplicated" "$WORK/stp_pull.out" ||
  fail "stp_pull converge line: $(cat "$WORK/stp_pull.out")"
pass "sw1–sw2 pulled under a 1 kHz stream: $(grep -o 'outage.*' "$WORK/stp_pull.out" | head -1)"

run host_flap || fail "host_flap: $(cat "$WORK/host_flap.out")"
o=$(outage_ms host_flap) l=$(lost host_flap)
[ -n "$o" ] && [ -n "$l" ] || fail "host_flap: no numbers in $(cat "$WORK/host_flap.out")"
awk -v o="$o" 'BEGIN { exit !(o >= 900 && o < 5000) }' || fail "host_flap: outage $o ms, expected 900–5000 ms"
[ "$l" -ge 900 ] || fail "host_flap: $l probes lost in a 1 s outage at 1 kHz"
pass "h1 unplugged for a 1 s unreachable ping: converge sees an outage of $o ms, $l lost"

if run too_slow; then fail "too_slow: a ${o} ms outage passed a 500 ms bound: $(cat "$WORK/too_slow.out")"; fi
grep -q "\[FAIL\] converge h1 h2 < 500ms — h1 → h2: outage .*outage not below 500ms" "$WORK/too_slow.out" ||
  fail "too_slow: $(cat "$WORK/too_slow.out")"
grep -q "1 failed" "$WORK/too_slow.out" || fail "too_slow: only converge should fail: $(cat "$WORK/too_slow.out")"
pass "the same outage fails 'converge: h1 h2 < 500ms': $(grep -o 'outage [0-9.]* ms' "$WORK/too_slow.out" | head -1)"

if run no_fault; then fail "no_fault passed: $(cat "$WORK/no_fault.out")"; fi
grep -q "\[FAIL\] converge h1 h2 < 1s — no kill, stop, link down or link silent step ran while the stream h1 → h2 ran" "$WORK/no_fault.out" &&
  grep -q "\[FAIL\] converge h1 h2 < 1s — no stream h1 → h2 is running" "$WORK/no_fault.out" ||
  fail "no_fault: $(cat "$WORK/no_fault.out")"
pass "converge without a fault during the stream, or without a stream, fails"

"$VNET" lab down "$T" >/dev/null 2>&1 || fail "down"
ip netns list | grep -q "^$T-" && fail "namespaces left: $(ip netns list | grep "^$T-")"
echo "5 passed, 0 failed"
