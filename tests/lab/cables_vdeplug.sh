#!/usr/bin/env bash
# Debian's vde_plug (vdeplug 4, libvdeplug_udp and _vxlan) plugged into a vnet switch through VDE locators:
# vde_plug joins `udp://5001->192.168.80.1:5000` to a TAP device in its namespace; the switch's
# port 2 is the same cable from the other end, written as VDE writes it
# (`udp://192.168.80.1:5000->192.168.80.2:5001`), an access port of VLAN 30 with host h1.
# Ping both ways between h1 and the TAP; one datagram per frame on the wire, untouched.
# Then VDE's vxlan:// locator on port 3 (same VLAN): `vxlan://239.0.0.1/vni=5031` on vnet's side
# and on vde_plug's; ARP requests flooded each way reach the other side (vdeplug 4.0.1's vxlan
# plug cannot send unicast, tests/lab/vxlan_vdeplug.sh, so no ping).
# ctest: parallel
. "$(dirname "$0")/lib.sh"
command -v vde_plug >/dev/null && [ -e /usr/lib/x86_64-linux-gnu/vdeplug/libvdeplug_udp.so ] ||
  { echo "SKIP: vdeplug (vde_plug with libvdeplug_udp) not installed"; exit 77; }
ns_add $T-u    # vnet's side
ns_add $T-v    # VDE's side
ip -n $T-u link add u1 type veth peer name u2 netns $T-v
ip -n $T-u addr add 192.168.80.1/24 dev u1; ip -n $T-u link set u1 up
ip -n $T-v addr add 192.168.80.2/24 dev u2; ip -n $T-v link set u2 up
ns_add $T-h1
ip -n $T-u link add p1 type veth peer name eth0 netns $T-h1
ip -n $T-u link set p1 up
ip netns exec $T-h1 sysctl -qw net.ipv6.conf.all.disable_ipv6=1
ip netns exec $T-v sysctl -qw net.ipv6.conf.all.disable_ipv6=1
host_cfg $T-h1 eth0 02:00:00:00:80:01 10.80.0.1/24

M=$WORK/mgmt
start_switch $T-u $M
ctl() { "$VNET" ctl "$M" "$@"; }
ctl vlan/create 30
ctl port/create 1; ctl port/attach 1 afpacket:p1; ctl port/mode 1 access 30
ctl port/create 2; ctl port/attach 2 "udp://192.168.80.1:5000->192.168.80.2:5001"
ctl port/mode 2 access 30
contains "udp:192.168.80.1:5000,remote=192.168.80.2:5001" ctl port/print 2 ||
  fail "port 2 does not show the translated udp: spec: $(ctl port/print 2)"

ip netns exec $T-v tshark -i u2 -f "udp port 5000" -w $WORK/underlay.pcapng -q 2>$WORK/tshark.log &
TS=$!; PIDS+=($TS)
wait_for 10 grep -q "Capturing on" $WORK/tshark.log || fail "tshark did not start"
ip netns exec $T-v vde_plug "udp://5001->192.168.80.1:5000" "tap://tapv" >$WORK/vde_plug.log 2>&1 &
PIDS+=($!)
wait_for 10 ip -n $T-v link show tapv || fail "vde_plug did not create tapv: $(cat $WORK/vde_plug.log)"
host_cfg $T-v tapv 02:00:00:00:80:02 10.80.0.2/24

reach $T-h1 10.80.0.2 || fail "h1 cannot ping the TAP behind vde_plug"
pass "vnet -> vde_plug udp://: h1 pings the TAP"
ip netns exec $T-v ip neigh flush dev tapv; ip netns exec $T-h1 ip neigh flush dev eth0
reach $T-v 10.80.0.1 || fail "the TAP behind vde_plug cannot ping h1"
pass "vde_plug udp:// -> vnet: the TAP pings h1"
sleep 0.3
kill -INT $TS; wait $TS 2>/dev/null || true
# What vnet sends is the bare Ethernet frame after the UDP header: 8 + 42 bytes for an ARP frame,
# 8 + 98 for an ICMP echo of ping's 56 bytes; nothing else.
lengths=$(tshark -r $WORK/underlay.pcapng -Y "ip.src == 192.168.80.1 && udp.srcport == 5000 && udp.dstport == 5001" -T fields -e udp.length 2>/dev/null | sort -un | tr '\n' ' ')
[[ " $lengths" == *" 106 "* ]] || fail "no 98-byte ICMP frame in one datagram from vnet: UDP lengths $lengths"
[ -z "$(echo $lengths | tr ' ' '\n' | grep -vx -e 50 -e 106)" ] || fail "unexpected UDP lengths from vnet: $lengths"
pass "on the wire: one frame per datagram, no header of vnet's own (UDP lengths $lengths)"

ip -n $T-u route add 224.0.0.0/4 dev u1
ip -n $T-v route add 224.0.0.0/4 dev u2
ctl port/create 3; ctl port/attach 3 "vxlan://239.0.0.1/vni=5031"; ctl port/mode 3 access 30
contains "vxlan:0.0.0.0:4789,vni=5031,flood=5031@239.0.0.1:4789" ctl port/print 3 ||
  fail "port 3 does not show the translated vxlan: spec: $(ctl port/print 3)"
ip netns exec $T-v vde_plug "vxlan://239.0.0.1/vni=5031" "tap://tapx" >$WORK/vde_plug_vx.log 2>&1 &
PIDS+=($!)
wait_for 10 ip -n $T-v link show tapx || fail "vde_plug did not create tapx: $(cat $WORK/vde_plug_vx.log)"
host_cfg $T-v tapx 02:00:00:00:80:03 10.80.0.3/24
ip netns exec $T-h1 ip neigh flush dev eth0
ip netns exec $T-h1 ping -c 3 -i 0.3 -W 1 10.80.0.3 >/dev/null 2>&1 || true
wait_for 5 contains "02:00:00:00:80:01" ip -n $T-v neigh show 10.80.0.1 dev tapx ||
  fail "the TAP behind vde_plug vxlan:// never saw h1's ARP request"
ip -n $T-v neigh flush dev tapx
ip netns exec $T-v ping -I tapx -c 3 -i 0.3 -W 1 10.80.0.1 >/dev/null 2>&1 || true
wait_for 5 contains "02:00:00:00:80:03" ip -n $T-h1 neigh show 10.80.0.3 dev eth0 ||
  fail "h1 never saw the ARP request of the TAP behind vde_plug vxlan://"
pass "vxlan:// locator: ARP requests flooded by vnet and by vde_plug on 239.0.0.1 VNI 5031 reach the other side"
echo "4 passed, 0 failed"
