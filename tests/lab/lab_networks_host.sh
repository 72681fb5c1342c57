#!/usr/bin/env bash
# Host uplinks (issue #15 item 2, docs/networks.md "Uplinks"): as root, a network's outside is a
# host interface. The "host interface" here is a veth in the namespace this test runs in (the
# host's), whose far end is in a namespace the test made, standing in for the physical network;
# nothing leaves namespaces this test made or the host's own veths.
# Proves: a NAT network's client reaches a server outside and the server sees the host
# interface's address; a route network's client arrives with its own address; the outside cannot
# open a connection into the NAT network; the host forwards nothing else arriving on the
# interface (another host interface stays unreachable from the outside, and is reachable once
# the same forwarding is on without vnet's table: the control); `down` deletes the host's table
# and veths and puts the interface's forwarding back as it was; `uplink: default` validates;
# a host uplink in a rootless lab or with mode open is refused at its line.
. "$(dirname "$0")/lib.sh"
command -v dnsmasq >/dev/null || { echo "SKIP: dnsmasq missing (scripts/deps.sh)"; exit 77; }
command -v python3 >/dev/null || { echo "SKIP: python3 missing"; exit 77; }
LAB=nh$$
HIF=vth${$}a   # the host interface (this namespace) toward the stand-in outside
OIF=vth${$}b   # another host interface, toward a namespace the outside must not reach
on_exit() {
  local rc=$?
  "$VNET" lab down "$LAB" >/dev/null 2>&1 || true
  ip link del "$HIF" 2>/dev/null || true
  ip link del "$OIF" 2>/dev/null || true
  set +e
  (exit $rc)
  cleanup
}
trap on_exit EXIT INT TERM
fw() { cat "/proc/sys/net/ipv4/conf/$1/forwarding"; }

ns_add $T-out
ns_add $T-oth
ip link add "$HIF" type veth peer name eth0 netns $T-out
ip link add "$OIF" type veth peer name eth0 netns $T-oth
ip addr add 198.18.77.1/24 dev "$HIF"
ip addr add 198.18.78.1/24 dev "$OIF"
ip link set "$HIF" up
ip link set "$OIF" up
ip -n $T-out addr add 198.18.77.2/24 dev eth0
ip -n $T-out link set eth0 up
ip -n $T-oth addr add 198.18.78.2/24 dev eth0
ip -n $T-oth link set eth0 up
ip -n $T-oth route add default via 198.18.78.1
# The outside routes the routed network and the other interface's net to the host, as an upstream
# router would; only the host's forwarding and vnet's table decide what crosses.
ip -n $T-out route add 10.0.20.0/24 via 198.18.77.1
ip -n $T-out route add 10.0.10.0/24 via 198.18.77.1
ip -n $T-out route add 198.18.78.0/24 via 198.18.77.1
peer_logger $T-out 198.18.77.2 8080 "$WORK/server.log"

fw_before=$(fw "$HIF")
global_before=$(cat /proc/sys/net/ipv4/ip_forward)
tables_before=$(nft list tables)
# The other interface's namespace is unreachable from the outside before the lab, as after it.
ip netns exec $T-out ping -c1 -W1 198.18.78.2 >/dev/null 2>&1 &&
  fail "the outside reaches $T-oth before the lab: this host forwards already (run elsewhere)"

cat > "$WORK/lab.yaml" <<YAML
name: $LAB
switches: [{name: sw, vlans: [10, 20]}]
hosts:
  - {name: pc1, gateway: 10.0.10.1, interfaces: [{name: eth0, ipv4: 10.0.10.10/24}]}
  - {name: pc2, gateway: 10.0.20.1, interfaces: [{name: eth0, ipv4: 10.0.20.10/24}]}
links:
  - {endpoints: [pc1, sw], vlan: 10}
  - {endpoints: [pc2, sw], vlan: 20}
networks:
  - {name: office, switch: sw, vlan: 10, mode: nat, subnet: 10.0.10.0/24,
     uplink: {interface: $HIF}}
  - {name: lab20, switch: sw, vlan: 20, mode: route, subnet: 10.0.20.0/24,
     uplink: {interface: $HIF}}
YAML
"$VNET" lab up "$WORK/lab.yaml" > "$WORK/up.log" 2>&1 || fail "up: $(cat "$WORK/up.log")"
[ "$(fw "$HIF")" = 1 ] || fail "forwarding is not on for $HIF"
[ "$(cat /proc/sys/net/ipv4/ip_forward)" = "$global_before" ] || fail "the global ip_forward changed"
n=$(nft list tables | grep -c 'inet vnet_up_vnu') || true
[ "$n" = 2 ] || fail "want 2 host uplink tables, have: $(nft list tables)"
pass "up: 2 networks on host interface $HIF, forwarding on for it only (global ip_forward $global_before), 2 tables"

x() { "$VNET" lab exec "$LAB" "$@"; }
connect() { x "$1" -- python3 -c 'import socket; socket.create_connection(("198.18.77.2", 8080), 3).close()'; }
connect pc1 || fail "pc1 (nat) cannot reach the outside server"
connect pc2 || fail "pc2 (route) cannot reach the outside server"
wait_for 5 test "$(wc -l < "$WORK/server.log")" -ge 2 || fail "server saw: $(cat "$WORK/server.log")"
seen=$(tr '\n' ' ' < "$WORK/server.log")
[ "$(sed -n 1p "$WORK/server.log")" = 198.18.77.1 ] ||
  fail "the nat client arrived as $(sed -n 1p "$WORK/server.log"), not as the host interface's 198.18.77.1"
[ "$(sed -n 2p "$WORK/server.log")" = 10.0.20.10 ] ||
  fail "the routed client arrived as $(sed -n 2p "$WORK/server.log"), not as itself"
pass "nat client arrives as the host interface's address, routed client as itself (server saw: $seen)"

ip netns exec $T-out ping -c2 -W1 10.0.20.10 >/dev/null || fail "the outside cannot reach the routed pc2"
# The host routes the NAT network to its gateway too (as an administrator might): still closed.
office=$("$VNET" lab status --json "$LAB" | jq -r '.networks.office.uplink.address // empty')
[ -n "$office" ] || fail "no uplink address for office in lab status"
ip route add 10.0.10.0/24 via "${office%/*}"
ip netns exec $T-out ping -c2 -W1 10.0.10.10 >/dev/null 2>&1 &&
  fail "the outside opened its way into the NAT network (pc1 answered)"
ip netns exec $T-out ping -c2 -W1 198.18.78.2 >/dev/null 2>&1 &&
  fail "the host forwards from $HIF to $OIF: it became a router for the outside"
pass "the outside reaches the routed network, not the NAT one, and nothing else behind the host"

"$VNET" lab down "$LAB" > "$WORK/down.log" 2>&1 || fail "down: $(cat "$WORK/down.log")"
[ "$(fw "$HIF")" = "$fw_before" ] || fail "forwarding on $HIF is $(fw "$HIF") after down, was $fw_before"
[ "$(nft list tables)" = "$tables_before" ] || fail "tables after down: $(nft list tables)"
! ip -o link | grep -q ': vnu' || fail "uplink veths left: $(ip -o link | grep ': vnu')"
pass "down: host tables and veths gone, $HIF forwarding back to $fw_before"

# The control: the same forwarding without vnet's table makes this host a router for the outside.
if [ "$fw_before" = 0 ]; then
  echo 1 > "/proc/sys/net/ipv4/conf/$HIF/forwarding"
  echo 1 > "/proc/sys/net/ipv4/conf/$OIF/forwarding"
  ip netns exec $T-out ping -c2 -W1 198.18.78.2 >/dev/null ||
    fail "control: even with forwarding on, the outside does not reach $T-oth (the check above proves nothing)"
  echo 0 > "/proc/sys/net/ipv4/conf/$HIF/forwarding"
  echo 0 > "/proc/sys/net/ipv4/conf/$OIF/forwarding"
  pass "control: forwarding on $HIF without vnet's table lets the outside reach $T-oth"
fi

sed "s|uplink: {interface: $HIF}}|uplink: default}|" "$WORK/lab.yaml" > "$WORK/default.yaml"
"$VNET" lab validate "$WORK/default.yaml" > "$WORK/v.log" 2>&1 || fail "uplink: default: $(cat "$WORK/v.log")"
sed "s|mode: route, subnet: 10.0.20.0/24,|mode: open, subnet: 10.0.20.0/24,|" "$WORK/lab.yaml" > "$WORK/open.yaml"
if "$VNET" lab validate "$WORK/open.yaml" > "$WORK/o.log" 2>&1; then fail "mode open with a host uplink validated"; fi
grep -q "open.yaml:1[0-9]:.*mode open adds no rules" "$WORK/o.log" || fail "open refusal: $(cat "$WORK/o.log")"
pass "uplink: default validates; mode open with a host uplink refused: $(grep -o 'open.yaml:[0-9]*:[0-9]*' "$WORK/o.log" | head -1)"
echo "5 passed, 0 failed"
