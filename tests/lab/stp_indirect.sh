#!/usr/bin/env bash
# Indirect link failure: the cable stays up but nothing crosses it (`link: X Y silent`), so no
# switch sees a link go down and spanning tree notices only when the root's information on the
# root port ages out, three hello times after the last BPDU (802.1D-2004 §17.21.23). Three
# switches in a triangle, RSTP with hello_time 1, sw1 the root, sw2's port toward sw3 the
# alternate; h1 on sw1, h2 on sw2. Under a 1 kHz probe stream h1 → h2 the sw1–sw2 cable (sw2's
# root port) goes silent: `converge: h1 h2 < 3100ms` (3 × hello + 100 ms) passes, sw2 reaches
# the root through sw3, and no probe arrives twice. Positive controls that the cable was silent
# and not pulled: the outage lasted at least 1.5 s (a pulled cable heals in milliseconds, see
# stp_converge.sh), sw2's port toward sw1 stayed active (designated, not disabled) with frames
# counted as link_silent, and the same fault fails a 1 s bound. `up` ends the silence: sw2's
# root port is back toward sw1. A silent cable to a host is refused by validate.
. "$(dirname "$0")/lib.sh"

silent_scenario() { # NAME BOUND
  cat <<EOF2
  - name: $1
    steps:
      - wait_until: {root_bridge: sw1}
        within: 10s
      - wait_until: {stp_port: sw2 sw1, role: root, state: forwarding}
        within: 10s
      - wait_until: {stp_port: sw2 sw3, role: alternate, state: discarding}
        within: 10s
      - wait_until: {ping: h1 h2}
        within: 5s
      - stream: h1 h2
      - ping: h2 h1
      - link: sw1 sw2 silent
      - converge: h1 h2 < $2
      - stp_port: sw2 sw3
        role: root
        state: forwarding
      - stp_port: sw2 sw1
        role: designated
EOF2
}

F=$WORK/indirect.yaml
cat >"$F" <<EOF2
name: $T
switches:
  - {name: sw1, vlans: [10], stp: rstp, stp_priority: 4096, stp_hello_time: 1, stp_max_age: 6, stp_forward_delay: 4}
  - {name: sw2, vlans: [10], stp: rstp, stp_hello_time: 1, stp_max_age: 6, stp_forward_delay: 4}
  - {name: sw3, vlans: [10], stp: rstp, stp_priority: 8192, stp_hello_time: 1, stp_max_age: 6, stp_forward_delay: 4}
hosts:
  - {name: h1, interfaces: [{name: eth0, ipv4: 10.79.0.1/24}]}
  - {name: h2, interfaces: [{name: eth0, ipv4: 10.79.0.2/24}]}
links:
  - {endpoints: [h1, sw1], vlan: 10}
  - {endpoints: [h2, sw2], vlan: 10}
  - {endpoints: [sw1, sw2], trunk: [10]}
  - {endpoints: [sw2, sw3], trunk: [10], stp_cost: {sw2: 3000}}
  - {endpoints: [sw3, sw1], trunk: [10]}
scenarios:
$(silent_scenario silent 3100ms)
  - name: restore
    steps:
      - link: sw1 sw2 up
      - wait_until: {stp_port: sw2 sw1, role: root, state: forwarding}
        within: 10s
      - wait_until: {stp_port: sw2 sw3, role: alternate, state: discarding}
        within: 10s
      - ping: h1 h2
$(silent_scenario too_slow 1s)
EOF2

"$VNET" lab validate "$F" >"$WORK/validate.log" 2>&1 || fail "validate: $(cat "$WORK/validate.log")"
"$VNET" lab up "$F" >"$WORK/up.log" 2>&1 || fail "up: $(cat "$WORK/up.log")"
CTL=("$VNET" ctl "$VNET_STATE_DIR/$T/console.sock")

run() { "$VNET" lab test "$F" --scenario "$1" >"$WORK/$1.out" 2>&1; }
outage_ms() { sed -n 's/.*\] converge .* outage \([0-9.]*\) ms.*/\1/p' "$WORK/$1.out" | head -1; }
# sw2's port toward sw1: the first cable written for sw2 is sw1–sw2, port 2 (port 1 is h2's)
sw2_port_json() { "${CTL[@]}" -b sw2 port/stats 2 --json; }

run silent || fail "silent: $(cat "$WORK/silent.out")"
grep -q "0 failed" "$WORK/silent.out" || fail "silent: $(cat "$WORK/silent.out")"
grep -q "\[PASS\] converge h1 h2 < 3100ms — h1 → h2: outage .* 0 duplicated" "$WORK/silent.out" ||
  fail "silent converge line: $(cat "$WORK/silent.out")"
o=$(outage_ms silent)
[ -n "$o" ] || fail "silent: no outage in $(cat "$WORK/silent.out")"
awk -v o="$o" 'BEGIN { exit !(o >= 1500 && o < 3100) }' || fail "silent: outage $o ms, expected 1500–3100 ms (3 × hello 1 s)"
pass "sw1–sw2 silent under a 1 kHz stream: $(grep -o 'outage.*' "$WORK/silent.out" | head -1)"

j=$(sw2_port_json) || fail "port/stats: $j"
[ "$(echo "$j" | jq -r '.[0].active')" = true ] || fail "sw2 port 2 went inactive on a silent cable: $j"
[ "$(echo "$j" | jq -r '.[0].silent')" = true ] || fail "sw2 port 2 is not silent: $j"
[ "$(echo "$j" | jq -r '.[0].drops.link_silent // 0')" -gt 0 ] || fail "no link_silent drops on sw2 port 2: $j"
pass "the silent cable kept its carrier (sw2's end active, designated) and counted $(echo "$j" | jq -r '.[0].drops.link_silent') frames as link_silent"

run restore || fail "restore: $(cat "$WORK/restore.out")"
[ "$(sw2_port_json | jq -r '.[0].silent')" = false ] || fail "link up did not end the silence"
pass "link sw1 sw2 up ends the silence: sw2's root port is back toward sw1"

if run too_slow; then fail "too_slow: a silent-link outage passed a 1 s bound: $(cat "$WORK/too_slow.out")"; fi
grep -q "\[FAIL\] converge h1 h2 < 1s — h1 → h2: outage .*outage not below 1s" "$WORK/too_slow.out" ||
  fail "too_slow: $(cat "$WORK/too_slow.out")"
pass "the same fault fails 'converge: h1 h2 < 1s': $(grep -o 'outage [0-9.]* ms' "$WORK/too_slow.out" | head -1)"
"$VNET" lab test "$F" --scenario restore >"$WORK/restore2.out" 2>&1 || fail "restore after too_slow: $(cat "$WORK/restore2.out")"

# A silent cable to a host is refused, naming the link.
sed "s/link: sw1 sw2 silent/link: h1 sw1 silent/" "$F" >"$WORK/host.yaml"
if "$VNET" lab validate "$WORK/host.yaml" >"$WORK/host.log" 2>&1; then fail "validate accepted a silent host cable"; fi
grep -q "link h1 sw1 silent: only a cable between two switches can be made silent" "$WORK/host.log" ||
  fail "validate: $(cat "$WORK/host.log")"
pass "validate refuses 'link: h1 sw1 silent'"

"$VNET" lab down "$T" >/dev/null 2>&1 || fail "down"
ip netns list | grep -q "^$T-" && fail "namespaces left: $(ip netns list | grep "^$T-")"
echo "5 passed, 0 failed"
