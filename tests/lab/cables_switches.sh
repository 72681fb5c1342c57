#!/usr/bin/env bash
# Two `vnet switch` processes in two namespaces (A and B, an underlay veth between them,
# 192.168.79.0/24 and fd79::/64), each with a host in VLAN 10 and a host in VLAN 20, all four in
# one IP subnet (10.79.0.0/24) so only the VLANs keep them apart. The switches are joined by a
# trunk of VLANs 10 and 20 on port 9, carried in turn by:
#   1. a UDP cable over IPv6 (udp:[fd79::1]:6001,remote=[fd79::2]:6002): whole frames, tags and
#      all, one per datagram;
#   2. a VXLAN cable over IPv4 (vxlan:192.168.79.1,map=10:5010,…), VLAN 20's VNI mapped and
#      flooded at run time through the console (vtep/map/add, vtep/flood/add) on both sides;
#   3. a VXLAN cable over IPv6 bound to the wildcard address (vxlan:[::],…).
# Each time: a10 pings b10 and a20 pings b20 across, a10 does not reach b20 nor a20 b10 (tags
# carried, VLANs apart). Also: a datagram to the UDP cable from another source port, and one too
# short for a frame, are dropped and counted (foreign, short), and vtep/show lists what the VTEP
# learned at the right remote.
# ctest: parallel
. "$(dirname "$0")/lib.sh"
ns_add $T-a; ns_add $T-b
ip -n $T-a link add u1 type veth peer name u2 netns $T-b
ip -n $T-a addr add 192.168.79.1/24 dev u1; ip -n $T-a addr add fd79::1/64 dev u1 nodad
ip -n $T-b addr add 192.168.79.2/24 dev u2; ip -n $T-b addr add fd79::2/64 dev u2 nodad
ip -n $T-a link set u1 up; ip -n $T-b link set u2 up
declare -A IP=([a10]=10.79.0.1 [b10]=10.79.0.2 [a20]=10.79.0.3 [b20]=10.79.0.4)
n=0
for h in a10 a20 b10 b20; do
  n=$((n + 1)); sw=${h:0:1}
  ns_add $T-$h
  ip -n $T-$sw link add p$h type veth peer name eth0 netns $T-$h
  ip -n $T-$sw link set p$h up
  ip netns exec $T-$h sysctl -qw net.ipv6.conf.all.disable_ipv6=1
  host_cfg $T-$h eth0 02:00:00:00:79:0$n ${IP[$h]}/24
done
for sw in a b; do
  start_switch_as $sw $T-$sw $WORK/$sw.mgmt
done
ctl() { local sw=$1; shift; "$VNET" ctl $WORK/$sw.mgmt "$@"; }
for sw in a b; do
  ctl $sw vlan/create 10; ctl $sw vlan/create 20
  for p in 1 2 9; do ctl $sw port/create $p; done
  ctl $sw port/attach 1 afpacket:p${sw}10; ctl $sw port/mode 1 access 10
  ctl $sw port/attach 2 afpacket:p${sw}20; ctl $sw port/mode 2 access 20
done

across() { # what the cable is called
  reach $T-a10 ${IP[b10]} || fail "$1: a10 cannot reach b10 in VLAN 10"
  reach $T-b20 ${IP[a20]} || fail "$1: b20 cannot reach a20 in VLAN 20"
  pass "$1: VLAN 10 and VLAN 20 hosts ping across"
  unreach $T-a10 ${IP[b20]} || fail "$1: a10 (VLAN 10) reached b20 (VLAN 20)"
  unreach $T-a20 ${IP[b10]} || fail "$1: a20 (VLAN 20) reached b10 (VLAN 10)"
  pass "$1: nothing crosses between VLAN 10 and VLAN 20"
}

# 1. UDP cable over IPv6.
ctl a port/attach 9 "udp:[fd79::1]:6001,remote=[fd79::2]:6002"
ctl b port/attach 9 "udp:[fd79::2]:6002,remote=[fd79::1]:6001"
for sw in a b; do ctl $sw port/mode 9 trunk 10,20; done
across "UDP cable"
ip netns exec $T-b bash -c 'echo stranger > /dev/udp/fd79::1/6001'
foreign() { [ "$(ctl a port/print 9 --json | jq '.[0].backend_counters.drop_foreign')" -ge 1 ]; }
wait_for 5 foreign || fail "a datagram from another source port was not counted as foreign"
pass "UDP cable: a datagram from an unknown source is dropped and counted (foreign)"
# A datagram from the right remote too short for an Ethernet header: switch B lets go of the port
# and a 5-byte datagram leaves from its address and port.
ctl b port/detach 9
ip netns exec $T-b python3 -c '
import socket; s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
s.bind(("fd79::2", 6002)); s.sendto(b"short", ("fd79::1", 6001))'
short() { [ "$(ctl a port/print 9 --json | jq '.[0].backend_counters.drop_short')" -ge 1 ]; }
wait_for 5 short || fail "a 5-byte datagram from the remote was not counted as short"
pass "UDP cable: a datagram shorter than an Ethernet header is dropped and counted (short)"

# 2. VXLAN cable over IPv4; VLAN 20's VNI added through the console.
ctl a port/detach 9
for sw in a b; do ctl $sw fdb/flush >/dev/null; done
ip netns exec $T-a10 ip neigh flush dev eth0; ip netns exec $T-a20 ip neigh flush dev eth0
ctl a port/attach 9 "vxlan:192.168.79.1,map=10:5010,flood=5010@192.168.79.2"
ctl b port/attach 9 "vxlan:192.168.79.2,map=10:5010,flood=5010@192.168.79.1"
ctl a vtep/map/add 9 20 5020 >/dev/null; ctl a vtep/flood/add 9 5020 192.168.79.2
ctl b vtep/map/add 9 20 5020 >/dev/null; ctl b vtep/flood/add 9 5020 192.168.79.1
across "VXLAN cable"
learned=$(ctl a vtep/show 9 --json | jq -r '.learned[] | select(.mac == "02:00:00:00:79:03") | "\(.vni) \(.remote)"')
[ "$learned" = "5010 192.168.79.2:4789" ] || fail "vtep/show: b10's MAC learned as '$learned'"
pass "vtep/show: b10's MAC learned in VNI 5010 at 192.168.79.2:4789"

# 3. VXLAN cable over IPv6 from the wildcard address: the kernel picks the source and computes
# the UDP checksum IPv6 requires (a wrong one and the receiving kernel drops every datagram).
for sw in a b; do ctl $sw port/detach 9; ctl $sw fdb/flush >/dev/null; done
ip netns exec $T-a10 ip neigh flush dev eth0; ip netns exec $T-a20 ip neigh flush dev eth0
ctl a port/attach 9 "vxlan:[::],map=10:5010,map=20:5020,flood=5010@fd79::2,flood=5020@fd79::2"
ctl b port/attach 9 "vxlan:[::],map=10:5010,map=20:5020,flood=5010@fd79::1,flood=5020@fd79::1"
across "VXLAN cable over IPv6 from [::]"
echo "8 passed, 0 failed"
