#!/usr/bin/env bash
# A switch's power: the failure of the root bridge. Three RSTP switches in a triangle, sw1 the
# root (priority 4096), sw2 next (8192); h1 on sw1, h2 on sw2, h3 on sw3. sw2's port toward sw3 is
# designated and sw3's an alternate, so h2 → h3 crosses sw1.
#   kill: sw1 under a stream h2 → h3: sw2 becomes the root of every switch still on
#   (`root_bridge: sw2`, sw1 not counted), the stream converges, h2 reaches h3, h1 (whose cable
#   went dark: NO-CARRIER on its eth0) reaches nobody, sw1's FDB is empty (it had entries before:
#   the positive control) and `vnet lab status` shows sw1 off.
#   While off: stp_port/root_bridge on sw1, `link sw1 sw2 up` and a second kill are refused,
#   saying why.
#   start: sw1: a fresh spanning tree (the dataplane logs a second "rstp on" for sw1 after one
#   "off"), sw1 is the root again, h1 reaches h2 and h3; a second start fails ("running").
#   A host that boots while its switch is off stays cut off until the switch boots; killed and
#   booted in the other order, it is plugged in again.
. "$(dirname "$0")/lib.sh"

F=$WORK/power.yaml
cat >"$F" <<EOF2
name: $T
switches:
  - {name: sw1, vlans: [10], stp: rstp, stp_priority: 4096}
  - {name: sw2, vlans: [10], stp: rstp, stp_priority: 8192}
  - {name: sw3, vlans: [10], stp: rstp}
hosts:
  - {name: h1, interfaces: [{name: eth0, ipv4: 10.81.0.1/24}]}
  - {name: h2, interfaces: [{name: eth0, ipv4: 10.81.0.2/24}]}
  - {name: h3, interfaces: [{name: eth0, ipv4: 10.81.0.3/24}]}
links:
  - {endpoints: [h1, sw1], vlan: 10}
  - {endpoints: [h2, sw2], vlan: 10}
  - {endpoints: [h3, sw3], vlan: 10}
  - {endpoints: [sw1, sw2], trunk: [10]}
  - {endpoints: [sw2, sw3], trunk: [10]}
  - {endpoints: [sw3, sw1], trunk: [10]}
scenarios:
  - name: ready
    steps:
      - wait_until: {root_bridge: sw1}
        within: 10s
      - wait_until: {stp_port: sw3 sw2, role: alternate, state: discarding}
        within: 10s
      - wait_until: {ping: h2 h3}
        within: 5s
      - ping: h1 h3
  - name: kill_root
    steps:
      - stream: h2 h3
      - ping: h3 h2
      - kill: sw1
      - wait_until: {root_bridge: sw2}
        within: 5s
      - converge: h2 h3 < 3s
      - ping: h2 h3
      - ping: h1 h2
        expect: unreachable
  - name: while_off
    steps:
      - stp_port: sw1 sw2
        role: designated
      - root_bridge: sw1
      - link: sw1 sw2 up
      - kill: sw1
  - name: boot
    steps:
      - start: sw1
      - wait_until: {root_bridge: sw1}
        within: 10s
      - wait_until: {ping: h1 h2}
        within: 5s
      - ping: h1 h3
      - ping: h2 h3
  - name: twice
    steps:
      - start: sw1
  - name: node_boots_first
    steps:
      - kill: sw1
      - kill: h1
      - start: h1
      - ping: h1 h2
        expect: unreachable
      - start: sw1
      - wait_until: {ping: h1 h2}
        within: 10s
      - kill: h1
      - kill: sw1
      - start: sw1
      - start: h1
      - wait_until: {ping: h1 h3}
        within: 10s
EOF2

"$VNET" lab validate "$F" >"$WORK/validate.log" 2>&1 || fail "validate: $(cat "$WORK/validate.log")"
"$VNET" lab up "$F" >"$WORK/up.log" 2>&1 || fail "up: $(cat "$WORK/up.log")"

run() { # SCENARIO: runs it, output in $WORK/SCENARIO.out; the exit status is vnet's
  "$VNET" lab test "$F" --scenario "$1" >"$WORK/$1.out" 2>&1
}
ok() { run "$1" && grep -q "0 failed" "$WORK/$1.out" || fail "$1: $(cat "$WORK/$1.out")"; }
status() { "$VNET" lab status --json "$T"; }
fdb_size() { status | jq "[.switches[] | select(.name == \"$1\") | .fdb[] | select(.static | not)] | length"; }
rstp_on() { grep -c "sw1 stp: rstp on" "$VNET_STATE_DIR/$T/switch.log" || true; }

ok ready
[ "$(fdb_size sw1)" -gt 0 ] || fail "sw1 learned nothing before the kill: $(status | jq -c '.switches')"
[ "$(rstp_on)" = 1 ] || fail "sw1's spanning tree started $(rstp_on) times at up"
status | jq -e '.power.sw1 // true' >/dev/null || fail "status shows sw1 off before the kill"
pass "triangle up: sw1 root, h1 reaches h3, sw1's FDB has $(fdb_size sw1) learned entries"

ok kill_root
grep -q "\[PASS\] wait_until root_bridge sw2 within 5s — after .* ms: sw2 (.*) is the root of sw2, sw3$" "$WORK/kill_root.out" ||
  fail "root_bridge sw2 should name the tree sw2, sw3 (sw1 off): $(cat "$WORK/kill_root.out")"
pass "kill: sw1 under a stream h2 → h3: sw2 root of sw2, sw3 $(grep -o 'after [0-9]* ms' "$WORK/kill_root.out" | head -1); $(grep -o 'outage [^,]*' "$WORK/kill_root.out" | head -1)"
status | jq -e '.power.sw1 == false' >/dev/null || fail "status does not show sw1 off: $(status | jq -c .power)"
[ "$(fdb_size sw1)" = 0 ] || fail "sw1's FDB survived the power cut: $(status | jq -c '.switches[] | select(.name == "sw1") | .fdb')"
contains NO-CARRIER ip -n "$T-h1" link show eth0 || fail "h1's eth0 still has a carrier: $(ip -n "$T-h1" link show eth0)"
pass "sw1 off: status says so, its FDB is empty, h1 sees NO-CARRIER and reaches nobody"

run while_off && fail "steps on a powered-off switch passed: $(cat "$WORK/while_off.out")"
for s in "stp_port sw1 sw2 role designated" "root_bridge sw1" "link sw1 sw2 up"; do
  grep -q "\[FAIL\] $s — sw1 is powered off" "$WORK/while_off.out" || fail "'$s' on sw1 while off: $(cat "$WORK/while_off.out")"
done
grep -q "\[FAIL\] kill sw1 — sw1 is already off" "$WORK/while_off.out" || fail "second kill: $(cat "$WORK/while_off.out")"
grep -q "4 failed" "$WORK/while_off.out" || fail "while_off: $(cat "$WORK/while_off.out")"
pass "stp_port, root_bridge, link up and kill on sw1 while it is off fail, saying it is off"

ok boot
[ "$(rstp_on)" = 2 ] || fail "sw1's spanning tree was not restarted at boot ($(rstp_on) starts): $(grep 'sw1 stp' "$VNET_STATE_DIR/$T/switch.log")"
grep -q "sw1 stp: off" "$VNET_STATE_DIR/$T/switch.log" || fail "sw1's spanning tree was not stopped at the kill"
status | jq -e '.power.sw1 == true' >/dev/null || fail "status does not show sw1 on after start"
contains NO-CARRIER ip -n "$T-h1" link show eth0 && fail "h1's eth0 has no carrier after sw1 booted"
pass "start: sw1: a fresh spanning tree, sw1 the root again, h1 reaches h2 and h3"

run twice && fail "starting a running switch passed: $(cat "$WORK/twice.out")"
grep -q "\[FAIL\] start sw1 — sw1 is running" "$WORK/twice.out" || fail "twice: $(cat "$WORK/twice.out")"
pass "start: sw1 on a running switch fails: $(grep -o 'sw1 is running[^.]*' "$WORK/twice.out" | head -1)"

ok node_boots_first
pass "h1 booted while sw1 is off stays cut off until sw1 boots; booted after sw1, it is plugged in"

"$VNET" lab down "$T" >/dev/null 2>&1 || fail "down"
ip netns list | grep -q "^$T-" && fail "namespaces left: $(ip netns list | grep "^$T-")"
echo "7 passed, 0 failed"
