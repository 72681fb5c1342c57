#!/usr/bin/env bash
# Two labs, each with its own state directory, whose switches are joined by `tunnels:` declared
# in their files: a UDP cable on port 9 (trunk of VLANs 10 and 20) and a single-VNI VXLAN cable on
# port 10 (access VLAN 30, VNI 82, head-end replication to the other side). The tunnels bind to
# the wildcard address, so each lab comes up before the underlay exists; then a veth between the
# two dataplane namespaces (<lab>-vnet) is the underlay. Hosts ping across in VLANs 10 and 30,
# VLAN 10 does not reach VLAN 20 or 30, the graph shows the tunnels, killing the switch takes them
# dark and starting it brings them back, and `down` ends the ports.
# ctest: parallel
. "$(dirname "$0")/lib.sh"
A=${T}a; B=${T}b
lab() { # NAME ME PEER: a lab file
  cat <<YAML
name: $1
switches:
  - name: sw
    vlans: [10, 20, 30]
    tunnels:
      - {port: 9, spec: "udp:0.0.0.0:6200,remote=192.168.82.$3:6200", trunk: [10, 20]}
      - {port: 10, spec: "vxlan:0.0.0.0,vni=82,flood=82@192.168.82.$3", vlan: 30}
hosts:
  - name: h10
    interfaces: [{name: eth0, ipv4: 10.82.0.$2/24, mac: "02:00:00:00:82:$2$2"}]
  - name: h20
    interfaces: [{name: eth0, ipv4: 10.82.0.2$2/24}]
  - name: h30
    interfaces: [{name: eth0, ipv4: 10.83.0.$2/24}]
links:
  - {endpoints: [h10, sw], vlan: 10}
  - {endpoints: [h20, sw], vlan: 20}
  - {endpoints: [h30, sw], vlan: 30}
scenarios:
  - name: power
    steps:
      - ping: h10 10.82.0.$3
      - kill: sw
      - exec: h10 sleep 3
      - start: sw
      - wait_until: {ping: h10 10.82.0.$3}
        within: 10s
YAML
}
lab $A 1 2 >$WORK/a.yaml
lab $B 2 1 >$WORK/b.yaml
# A bad spec is refused with file:line:col before anything is created.
sed 's/remote=192.168.82.2:6200/remote=192.168.82.2/' $WORK/a.yaml >$WORK/bad.yaml
out=$("$VNET" lab up $WORK/bad.yaml 2>&1) && fail "a tunnel spec without a remote port was accepted"
[[ $out == *"bad.yaml:6:25:"*"tunnel on port 9"*"with a port"* ]] || fail "unexpected error: $out"
pass "a bad tunnel spec is refused at parse time with file:line:col: ${out%%$'\n'*}"

VNET_STATE_DIR=$WORK/state-a "$VNET" lab up $WORK/a.yaml >$WORK/up-a.log 2>&1 || fail "up $A: $(cat $WORK/up-a.log)"
VNET_STATE_DIR=$WORK/state-b "$VNET" lab up $WORK/b.yaml >$WORK/up-b.log 2>&1 || fail "up $B: $(cat $WORK/up-b.log)"
downs() {
  VNET_STATE_DIR=$WORK/state-a "$VNET" lab down $A >/dev/null 2>&1 || true
  VNET_STATE_DIR=$WORK/state-b "$VNET" lab down $B >/dev/null 2>&1 || true
}
trap 'rc=$?; downs; (exit $rc); cleanup' EXIT INT TERM
ip -n $A-vnet link add u1 type veth peer name u2 netns $B-vnet
ip -n $A-vnet addr add 192.168.82.1/24 dev u1; ip -n $A-vnet link set u1 up
ip -n $B-vnet addr add 192.168.82.2/24 dev u2; ip -n $B-vnet link set u2 up

reach $A-h10 10.82.0.2 || fail "VLAN 10 across the UDP tunnel: $A h10 cannot reach $B h10"
reach $B-h20 10.82.0.21 || fail "VLAN 20 across the UDP tunnel: $B h20 cannot reach $A h20"
pass "UDP tunnel (trunk 10, 20): hosts ping across in VLAN 10 and VLAN 20"
reach $A-h30 10.83.0.2 || fail "VLAN 30 across the VXLAN tunnel: $A h30 cannot reach $B h30"
pass "VXLAN tunnel (VNI 82, access 30): hosts ping across"
unreach $A-h10 10.82.0.22 || fail "$A h10 (VLAN 10) reached $B h20 (VLAN 20)"
pass "VLAN 10 does not reach VLAN 20 across the tunnel"
learned=$(VNET_STATE_DIR=$WORK/state-a "$VNET" ctl $WORK/state-a/$A/console.sock vtep/show 10 --json | jq -r '.learned[].remote' | sort -u)
[ "$learned" = "192.168.82.2:4789" ] || fail "the VXLAN tunnel learned '$learned'"
VNET_STATE_DIR=$WORK/state-a "$VNET" lab graph $WORK/a.yaml -o - >$WORK/a.dot
grep -q 'port 9: udp:0.0.0.0:6200' $WORK/a.dot || fail "the graph does not show the tunnel: $(cat $WORK/a.dot)"
st=$(VNET_STATE_DIR=$WORK/state-a "$VNET" lab status --json $A)
echo "$st" | jq -e '.switches[0].ports | index(9) != null and index(10) != null' >/dev/null ||
  fail "lab status does not list the tunnel ports: $st"
pass "vtep/show on the lab's console shows the peer's VTEP; the graph shows the tunnels, status their ports"
# Power: a switch that is killed takes its tunnels dark, and brings them back when it starts.
# While the scenario holds the switch off for 3 s, the console shows both tunnel ports down.
VNET_STATE_DIR=$WORK/state-a "$VNET" lab test $WORK/a.yaml >$WORK/test-a.log 2>&1 &
TEST=$!
dark() { [ "$("$VNET" ctl $WORK/state-a/$A/console.sock port/allprint --json | jq '[.[] | select(.port == 9 or .port == 10) | .admin_up] == [false, false]')" = true ]; }
wait_for 10 dark || fail "the killed switch's tunnel ports did not go down"
wait $TEST || fail "the power scenario over the tunnel failed: $(cat $WORK/test-a.log)"
grep -q " 0 failed" $WORK/test-a.log || fail "the power scenario has failures: $(cat $WORK/test-a.log)"
pass "kill takes the tunnel ports down, start brings them back (ping across after start)"
downs
! ip netns list | grep -q "^$A-" || fail "$A's namespaces (the dataplane's too) left after down"
! ip netns list | grep -q "^$B-" || fail "$B's namespaces left after down"
[ -z "$(ls $WORK/state-a 2>/dev/null)" ] || fail "$A's state left after down"
pass "down removes both labs with their tunnel ports"
echo "7 passed, 0 failed"
