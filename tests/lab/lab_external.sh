#!/usr/bin/env bash
# An `external` node (docs/topology.md "External interfaces"): a veth of the host's namespace,
# whose far end is in a namespace standing in for the physical network, is a trunk of VLANs 10
# and 20 on the lab's switch. Tagged frames of VLANs 10 and 20 cross both ways (raw sockets on
# both sides, tests/lab/vlan_frames.py: this kernel has no 8021q), VLAN 30 and untagged frames
# do not; the interface stays in the host's namespace; after `down` it is back as it was (state,
# addresses, namespace, promiscuity), also after SIGKILL of the dataplane. `validate` warns, at the link's line, when a router routes
# between VLANs the trunk carries; a missing interface fails `up` naming node, interface and line.
# With `move: true` the interface (found with an address and MTU 1400) leaves the host for the
# switch's namespace while the lab runs, frames cross the same way, and `down` brings it back as
# it was (name, state, addresses, MTU, ifindex), also after SIGKILL of `vnet lab up`; moved,
# the switch's port follows the interface's carrier (the far end down and up).
# ctest: parallel
. "$(dirname "$0")/lib.sh"
HERE=$(cd "$(dirname "$0")" && pwd)
FR="python3 $HERE/vlan_frames.py"
L=xt$$
X=vx$$  # the host-side interface
ns_add $T-far
ip link add $X type veth peer name eth0 netns $T-far
ip -n $T-far link set eth0 up
ip addr add 198.51.100.77/32 dev $X  # an address of its own (TEST-NET-2), left down
snapshot() {
  { ip -br link show dev $X | awk '{print $1, $2}'
    ip -br addr show dev $X
    ip -d -j link show dev $X | jq -c '.[0] | {ifindex, flags, promiscuity, mtu}'; } 2>&1
}
as_before() { # WHAT: the interface is as BEFORE says (AFTER: what it is)
  AFTER=$(snapshot)
  [ "$BEFORE" = "$AFTER" ] || fail "$1: before
$BEFORE
after
$AFTER"
}
found_up() { # sets the interface up, waits for its carrier, takes BEFORE
  ip link set $X up
  wait_for 5 contains LOWER_UP ip link show dev $X || fail "$X has no carrier"
  BEFORE=$(snapshot)
}
cleanup_x() { ip link del $X 2>/dev/null || true; }
trap 'cleanup_x; cleanup' EXIT INT TERM
BEFORE=$(snapshot)

cat > "$WORK/lab.yaml" <<YAML
name: $L
switches:
  - name: sw
    vlans: [10, 20, 30]
hosts:
  - name: h10
    interfaces: [{name: eth0, ipv4: 10.9.10.1/24}]
  - name: h20
    interfaces: [{name: eth0, ipv4: 10.9.20.1/24}]
  - name: h30
    interfaces: [{name: eth0, ipv4: 10.9.30.1/24}]
externals:
  - name: uplink
    interface: $X
links:
  - {endpoints: [h10, sw], vlan: 10}
  - {endpoints: [h20, sw], vlan: 20}
  - {endpoints: [h30, sw], vlan: 30}
  - endpoints: [uplink, sw]
    trunk: [10, 20]
YAML

# validate: no router, no warning; with a router between 10 and 20, a warning at the trunk's line.
"$VNET" lab validate "$WORK/lab.yaml" >"$WORK/v1.out" 2>&1 || fail "validate: $(cat "$WORK/v1.out")"
grep -q warning "$WORK/v1.out" && fail "a warning without a router: $(cat "$WORK/v1.out")"
# The router-on-a-stick r1 goes in front of `links:`, its trunk link at the end.
awk -v r="routers:\n  - name: r1\n    interfaces:\n      - {name: eth0}\n      - {name: eth0.10, ipv4: 10.9.10.254/24}\n      - {name: eth0.20, ipv4: 10.9.20.254/24}" \
  '/^links:/ {print r} {print} END {print "  - {endpoints: [r1:eth0, sw], trunk: [10, 20]}"}' \
  "$WORK/lab.yaml" > "$WORK/routed.yaml"
"$VNET" lab validate "$WORK/routed.yaml" >"$WORK/v2.out" 2>&1 || fail "validate routed: $(cat "$WORK/v2.out")"
line=$(grep -n "endpoints: \[uplink, sw\]" "$WORK/routed.yaml" | cut -d: -f1)
grep -q "^$WORK/routed.yaml:$line:[0-9]*: warning: external uplink (interface $X) carries VLANs 10, 20 .*r1 routes between them" "$WORK/v2.out" ||
  fail "no bypass warning at line $line: $(cat "$WORK/v2.out")"
pass "validate warns at the trunk's line when r1 routes between its VLANs (and not without r1)"

"$VNET" lab up "$WORK/lab.yaml" >"$WORK/up.log" 2>&1 || fail "up: $(cat "$WORK/up.log")"
ip link show dev $X | grep -q "state UP" || fail "$X is not up while the lab runs: $(ip link show dev $X)"
ip -n $L-vnet link show dev $X >/dev/null 2>&1 && fail "$X moved into the switch's namespace"
# While the lab runs the snapshot differs (up, promiscuous): what `down` must undo.
[ "$(snapshot)" != "$BEFORE" ] || fail "the snapshot cannot tell a running lab's $X from the one found"
ip -d -j link show dev $X | jq -e '.[0].promiscuity >= 1' >/dev/null || fail "$X is not promiscuous for the switch"
"$VNET" lab status $L | grep -q "uplink *$X (found down" || fail "status: $("$VNET" lab status $L)"
"$VNET" lab status --json $L | jq -e --arg x $X '.facts.externals.uplink.interface == $x' >/dev/null ||
  fail "status --json has no external interface"

# recv NS NAME / stop NAME: a receiver counting frames by VLAN and tag.
recv() { ip netns exec "$1" $FR recv eth0 "$WORK/$2.json" & PIDS+=($!); wait_for 5 test -e "$WORK/$2.json.ready" || fail "receiver $2"; }
stop() { touch "$WORK/$1.json.stop"; wait_for 5 test -s "$WORK/$1.json" || fail "receiver $1 did not finish"; cat "$WORK/$1.json"; }

frames_cross() { # WHAT: tagged frames of VLANs 10 and 20 cross both ways, VLAN 30 and untagged do not
rm -f "$WORK"/h10.json* "$WORK"/h20.json* "$WORK"/h30.json* "$WORK"/far.json*  # an earlier round's
# Outside -> lab: tagged 10 and 20 reach their hosts untagged; tagged 30 and untagged reach no one.
for h in h10 h20 h30; do recv $L-$h $h; done
for v in 10 20 30; do ip netns exec $T-far $FR send eth0 02:00:00:00:ee:01 $v o$v 20; done
ip netns exec $T-far $FR send eth0 02:00:00:00:ee:01 - ou 20
sleep 0.3  # the last frames cross (a receiver that stops early would undercount, not pass)
r10=$(stop h10) r20=$(stop h20) r30=$(stop h30)
[ "$r10" = '{"-/o10": 20}' ] || fail "h10 (VLAN 10) received $r10, want 20 untagged frames of o10 only"
[ "$r20" = '{"-/o20": 20}' ] || fail "h20 (VLAN 20) received $r20, want 20 untagged frames of o20 only"
[ "$r30" = '{}' ] || fail "h30 (VLAN 30, not on the trunk) received $r30"
pass "$1outside -> lab: VLANs 10 and 20 reach their hosts, VLAN 30 and untagged frames are dropped"

# Lab -> outside: each host's frames leave tagged with its VLAN; VLAN 30's do not leave.
recv $T-far far
for v in 10 20 30; do
  mac=$(ip -n $L-h$v -br link show eth0 | awk '{print $3}')
  ip netns exec $L-h$v $FR send eth0 "$mac" - i$v 20
done
sleep 0.3
rf=$(stop far)
[ "$rf" = '{"10/i10": 20, "20/i20": 20}' ] || fail "the outside received $rf, want 20 frames tagged 10 and 20 each, none of VLAN 30"
pass "$1lab -> outside: VLANs 10 and 20 leave tagged, VLAN 30 does not leave"
}
frames_cross ""

"$VNET" lab down $L >"$WORK/down.log" 2>&1 || fail "down: $(cat "$WORK/down.log")"
as_before "$X is not as it was"
pass "after down $X is as it was (state, addresses, namespace, promiscuity): $(echo "$AFTER" | head -1)"

# The same with the interface found up: it stays up, addresses and all.
found_up
"$VNET" lab up "$WORK/lab.yaml" >"$WORK/up2.log" 2>&1 || fail "up: $(cat "$WORK/up2.log")"
"$VNET" lab down $L >/dev/null 2>&1 || fail "down"
as_before "$X found up is not as it was"
pass "an interface found up stays up, as it was"

# The dataplane killed (SIGKILL) under a running lab: `down` still puts the interface back.
ip link set $X down
BEFORE=$(snapshot)
"$VNET" lab up "$WORK/lab.yaml" >"$WORK/up3.log" 2>&1 || fail "up: $(cat "$WORK/up3.log")"
dp=$("$VNET" lab status --json $L | jq -r '.pids[] | select(.what == "dataplane") | .pid')
kill -9 "$dp"
wait_for 5 gone "$dp" || fail "the dataplane survived SIGKILL"
"$VNET" lab down $L >/dev/null 2>&1 || fail "down after the dataplane's SIGKILL"
as_before "$X after the dataplane's SIGKILL and down"
pass "after SIGKILL of the dataplane, down puts $X back as it was"

# move: true. The interface, found down with an address and MTU 1400, leaves the host's namespace
# for the switch's while the lab runs; down brings it back exactly as found.
ip link set $X mtu 1400
BEFORE=$(snapshot)
sed "s/    interface: $X/    interface: $X\n    move: true/" "$WORK/lab.yaml" > "$WORK/move.yaml"
grep -q "move: true" "$WORK/move.yaml" || fail "no move key in $(cat "$WORK/move.yaml")"
"$VNET" lab up "$WORK/move.yaml" >"$WORK/up4.log" 2>&1 || fail "up (move): $(cat "$WORK/up4.log")"
ip link show dev $X >/dev/null 2>&1 && fail "$X is still in the host's namespace with move: true"
ip -n $L-vnet link show dev $X | grep -q "state UP\|,UP" || fail "$X is not up in $L-vnet: $(ip -n $L-vnet link show dev $X 2>&1)"
"$VNET" lab status --json $L | jq -e --arg ns $L-vnet '.facts.externals.uplink.moved_to == $ns' >/dev/null ||
  fail "status --json does not say where $X went: $("$VNET" lab status --json $L | jq -c .facts)"
frames_cross "moved: "
# Moved, the interface is in the switch's own namespace, where the switch follows its carrier:
# the far end going down takes the port down (port/allprint: not active), and back.
port_active() { "$VNET" ctl "$VNET_STATE_DIR/$L/console.sock" port/allprint --json | jq -r --arg b "afpacket:$X" '.[] | select(.backend == $b) | .active'; }
is_active() { [ "$(port_active)" = "$1" ]; }
is_active true || fail "the moved interface's port is not active: $(port_active)"
ip -n $T-far link set eth0 down
wait_for 5 is_active false || fail "the port stays active after the far end lost its carrier: $(port_active)"
ip -n $T-far link set eth0 up
wait_for 5 is_active true || fail "the port did not come back with the carrier: $(port_active)"
pass "moved: the far end down takes the switch's port down (carrier followed), up brings it back"
"$VNET" lab down $L >"$WORK/down4.log" 2>&1 || fail "down (move): $(cat "$WORK/down4.log")"
as_before "$X moved and back is not as it was"
pass "move: true: $X leaves the host for $L-vnet while the lab runs; down brings it back as found ($(echo "$AFTER" | sed -n 2p))"

# The same, found up, with `vnet lab up` SIGKILLed once the interface has moved: down brings it
# back, up, addresses and MTU as found.
found_up
"$VNET" lab up "$WORK/move.yaml" >"$WORK/up5.log" 2>&1 &
up=$!
moved() { ip -n $L-vnet link show dev $X >/dev/null 2>&1; }
wait_for 30 moved || fail "$X never moved: $(cat "$WORK/up5.log")"
kill -9 $up
wait $up 2>/dev/null || true
grep -q "is up in" "$WORK/up5.log" && echo "note: lab up had finished before its SIGKILL (the crash case is not exercised)"
"$VNET" lab down $L >"$WORK/down5.log" 2>&1 || fail "down after SIGKILL of up (move): $(cat "$WORK/down5.log")"
as_before "$X after SIGKILL of up and down (move)"
pass "move: true, SIGKILL of lab up after the move: down brings $X back as found (up, address, MTU 1400)"
ip link set $X down
ip link set $X mtu 1500

# Bad input: the interface does not exist.
sed "s/interface: $X/interface: nosuch$$/" "$WORK/lab.yaml" > "$WORK/missing.yaml"
line=$(grep -n "interface: nosuch$$" "$WORK/missing.yaml" | cut -d: -f1)
"$VNET" lab up "$WORK/missing.yaml" >"$WORK/missing.log" 2>&1 && fail "up with a missing interface succeeded"
grep -q "$WORK/missing.yaml:$line:[0-9]*: external uplink: interface nosuch$$ does not exist" "$WORK/missing.log" ||
  fail "the error does not name file:line, node and interface: $(cat "$WORK/missing.log")"
[ -e "$VNET_STATE_DIR/$L" ] && fail "state left after the failed up"
ip netns list | grep -q "^$L-" && fail "namespaces left after the failed up"
pass "a missing interface fails up at file:line naming node and interface, and up cleans up"
