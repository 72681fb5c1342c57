#!/usr/bin/env bash
# A vnet VTEP (a `vxlan:` port of the switch, RFC 7348) against Linux's vxlan device in another
# namespace, over a veth underlay (192.168.77.0/24):
#   - VNI 5010 on port 4789 (IANA) carries VLAN 10, VNI 5020 on port 8472 (Linux's default when
#     no dstport is given) carries VLAN 20; both with static head-end replication (the kernel's
#     `remote`, vnet's flood=VNI@REMOTE);
#   - h1 (access VLAN 10) and h2 (access VLAN 20) on the vnet switch ping the kernel's vx10/vx20
#     addresses both ways; nothing crosses between the VLANs/VNIs;
#   - the kernel learns h1's MAC at vnet's underlay address (bridge fdb); VNI 5020's side of vnet
#     does not learn (nolearning) and reaches vx20 through a static entry instead;
#   - VNI 5040 floods through multicast group 239.1.1.40 on both sides (Linux `group`);
#   - VNI 5010 is sent with UDP checksums (vnet's `csum`), checked good by tshark; iperf3 TCP
#     both ways over it (hosts at MTU 1450, as the docs say), the veth's offloads on: the
#     kernel's partial inner checksums reach vnet unfinished and are taken as such; iperf3
#     both ways over VNI 5020 too (zero checksums: vnet's TCP trains go out through tunnel GSO);
#   - on the wire (tshark on the underlay): the I flag set, reserved bits zero, and vnet's UDP
#     source ports in 49152-65535, varying with the flow.
# ctest: parallel
. "$(dirname "$0")/lib.sh"
ns_add $T-u    # vnet's side: the switch, its underlay end u1 and the hosts' veths
ns_add $T-k    # the kernel's side: u2 and the vxlan devices
ip -n $T-u link add u1 type veth peer name u2 netns $T-k
ip -n $T-u addr add 192.168.77.1/24 dev u1; ip -n $T-u link set u1 up
ip -n $T-k addr add 192.168.77.2/24 dev u2; ip -n $T-k link set u2 up
# The veth keeps its offloads: it carries the kernel's partial checksums (and whole TCP trains)
# across, and the inner TCP checksum of what vx10 sends reaches vnet's UDP socket unfinished.
# vnet must recognise it (rx_tcp_partial_checksums, rx_tcp_super_frames) for iperf3 to work.
for h in 1 2; do
  ns_add $T-h$h
  ip -n $T-u link add p$h type veth peer name eth0 netns $T-h$h
  ip -n $T-u link set p$h up
  ip netns exec $T-h$h sysctl -qw net.ipv6.conf.all.disable_ipv6=1
done
host_cfg $T-h1 eth0 02:00:00:00:0d:01 10.10.0.1/24
host_cfg $T-h2 eth0 02:00:00:00:0d:02 10.20.0.1/24
ns_add $T-h4
ip -n $T-u link add p4 type veth peer name eth0 netns $T-h4
ip -n $T-u link set p4 up
ip netns exec $T-h4 sysctl -qw net.ipv6.conf.all.disable_ipv6=1
host_cfg $T-h4 eth0 02:00:00:00:0d:04 10.40.0.1/24
ip -n $T-h1 link set eth0 mtu 1450
ip -n $T-h2 link set eth0 mtu 1450
# The kernel's VTEPs: VNI 5010 on 4789, VNI 5020 on 8472, each with vnet as its only remote.
ip -n $T-k link add vx10 address 02:00:00:00:0e:10 type vxlan id 5010 dstport 4789 local 192.168.77.2 remote 192.168.77.1
ip -n $T-k link add vx20 address 02:00:00:00:0e:20 type vxlan id 5020 dstport 8472 local 192.168.77.2 remote 192.168.77.1
# The kernel derives a vxlan MTU from its lower device only with `dev`: set the overlay MTU.
for v in vx10 vx20 vx40; do ip -n $T-k link set $v mtu 1450 2>/dev/null || true; done
ip -n $T-k addr add 10.10.0.2/24 dev vx10; ip -n $T-k link set vx10 up
ip -n $T-k addr add 10.20.0.2/24 dev vx20; ip -n $T-k link set vx20 up
ip -n $T-k link add vx40 address 02:00:00:00:0e:40 type vxlan id 5040 dstport 4789 local 192.168.77.2 group 239.1.1.40 dev u2
ip -n $T-k addr add 10.40.0.2/24 dev vx40; ip -n $T-k link set vx40 up
ip -n $T-u route add 224.0.0.0/4 dev u1
ip netns exec $T-k sysctl -qw net.ipv6.conf.all.disable_ipv6=1

M=$WORK/mgmt
start_switch $T-u $M
ctl() { "$VNET" ctl "$M" "$@"; }
ctl vlan/create 10; ctl vlan/create 20
ctl vlan/create 40
for p in 1 2 3 4 5 6; do ctl port/create $p; done
ctl port/attach 1 afpacket:p1; ctl port/mode 1 access 10
ctl port/attach 2 afpacket:p2; ctl port/mode 2 access 20
# One vxlan port per local address and UDP port, carrying every VNI of that port.
ctl port/attach 3 "vxlan:192.168.77.1,map=10:5010,map=40:5040,flood=5010@192.168.77.2,flood=5040@239.1.1.40,csum"
ctl port/mode 3 trunk 10,40
ctl port/attach 4 "vxlan:192.168.77.1:8472,map=20:5020,flood=5020@192.168.77.2,static=5020@02:00:00:00:0e:20@192.168.77.2,nolearning"
ctl port/mode 4 trunk 20
ctl port/attach 5 afpacket:p4; ctl port/mode 5 access 40
contains "is taken" ctl port/attach 6 "vxlan:192.168.77.1,map=50:5050" && fail "a second vxlan port on 192.168.77.1:4789 was accepted" || true


wait_for 10 ip netns exec $T-h1 ping -c 1 -W 1 10.10.0.2 || fail "h1 -> kernel vx10 (VNI 5010, port 4789)"
pass "VNI 5010 on port 4789: h1 reaches the kernel's vx10"
reach $T-k 10.10.0.1 || fail "kernel vx10 -> h1"
pass "and the kernel's vx10 reaches h1"
wait_for 10 ip netns exec $T-h2 ping -c 1 -W 1 10.20.0.2 || fail "h2 -> kernel vx20 (VNI 5020, port 8472)"
reach $T-k 10.20.0.1 || fail "kernel vx20 -> h2"
pass "VNI 5020 on port 8472: h2 and the kernel's vx20 reach each other"

wait_for 10 ip netns exec $T-h4 ping -c 1 -W 1 10.40.0.2 || fail "h4 -> kernel vx40 (VNI 5040, group 239.1.1.40)"
reach $T-k 10.40.0.1 || fail "kernel vx40 -> h4"
pass "VNI 5040 flooded through group 239.1.1.40: h4 and the kernel's vx40 reach each other"

# A daemon inherits the caller's descriptors (a flock on the lab lock too): stopped on exit.
ip netns exec $T-k iperf3 -s -D -p 5201 --logfile $WORK/iperf3.log --pidfile $WORK/iperf3.pid
wait_for 5 test -s $WORK/iperf3.pid && PIDS+=("$(cat $WORK/iperf3.pid)")
wait_for 5 ip netns exec $T-k sh -c 'ss -ltn | grep -q ":5201 "' || fail "iperf3 server did not listen"
# iperf3_both HOST ADDR NAME: TCP from HOST to the kernel's ADDR for 2 s, then back; sets UP and
# DOWN (Mbit/s, rounded) or fails with NAME when either carried nothing.
iperf3_both() {
  ip netns exec $T-$1 iperf3 -c "$2" -p 5201 -t 2 --connect-timeout 3000 -J </dev/null > $WORK/up-$1.json || true
  ip netns exec $T-$1 iperf3 -c "$2" -p 5201 -t 2 -R --connect-timeout 3000 -J </dev/null > $WORK/down-$1.json || true
  local up down
  up=$(jq '.end.sum_received.bits_per_second // 0' $WORK/up-$1.json)
  down=$(jq '.end.sum_received.bits_per_second // 0' $WORK/down-$1.json)
  awk -v u="$up" -v d="$down" 'BEGIN { exit !(u + 0 > 1e6 && d + 0 > 1e6) }' ||
    fail "iperf3 over $3: $up / $down bit/s ($(jq -r '.error // empty' $WORK/up-$1.json $WORK/down-$1.json))"
  UP=$(awk -v u="$up" 'BEGIN { printf "%.0f", u / 1e6 }')
  DOWN=$(awk -v d="$down" 'BEGIN { printf "%.0f", d / 1e6 }')
}
iperf3_both h1 10.10.0.2 "VNI 5010"
partial=$(ctl port/print 3 --json | jq '.[0].backend_counters | (.rx_tcp_partial_checksums // 0) + (.rx_tcp_super_frames // 0)')
[ "$partial" -gt 0 ] || fail "iperf3 back from the kernel: no partial checksum came across the veth (offloads off?)"
pass "iperf3 TCP over VNI 5010: $UP Mbit/s to the kernel, $DOWN Mbit/s back ($partial of the kernel's segments or trains with partial checksums taken as such)"

# The same over VNI 5020 (port 8472, zero UDP checksums: the default): vnet hands its TCP trains
# whole to the kernel's UDP tunnel GSO (tx_tunnel_gso_sends), and the kernel's vx20 takes them.
iperf3_both h2 10.20.0.2 "VNI 5020"
trains=$(ctl port/print 4 --json | jq '.[0].backend_counters.tx_tunnel_gso_sends // 0')
[ "$trains" -gt 0 ] || fail "iperf3 over VNI 5020 (zero checksums): no TCP train sent with tunnel GSO"
pass "iperf3 TCP over VNI 5020 (port 8472, zero checksums): $UP Mbit/s to the kernel ($trains trains through tunnel GSO), $DOWN Mbit/s back"

# Isolation: a VLAN 10 host asking for VNI 5020's address reaches nothing of VNI 5020: vx20
# receives none of its frames, while vx10 sees its ARP requests (the positive control).
# arp_ignore=1: the kernel's namespace owns both addresses and would otherwise answer for
# 10.20.0.2 on vx10 (its weak host model, not a leak).
ip netns exec $T-k sysctl -qw net.ipv4.conf.all.arp_ignore=1
ip -n $T-h1 route add 10.20.0.0/24 dev eth0
for v in vx10 vx20; do
  ip netns exec $T-k tshark -i $v -w $WORK/$v.pcapng -q 2>$WORK/tshark-$v.log & PIDS+=($!)
done
wait_for 10 grep -q "Capturing on" $WORK/tshark-vx10.log || fail "tshark on vx10 did not start"
wait_for 10 grep -q "Capturing on" $WORK/tshark-vx20.log || fail "tshark on vx20 did not start"
unreach $T-h1 10.20.0.2 || fail "h1 reached VNI 5020 from VLAN 10"
sleep 0.3
kill -INT "${PIDS[-1]}" "${PIDS[-2]}"; wait "${PIDS[-1]}" "${PIDS[-2]}" 2>/dev/null || true
h1_on_10=$(tshark -r $WORK/vx10.pcapng -Y "eth.src == 02:00:00:00:0d:01 && arp.dst.proto_ipv4 == 10.20.0.2" 2>/dev/null | wc -l)
h1_on_20=$(tshark -r $WORK/vx20.pcapng -Y "eth.src == 02:00:00:00:0d:01 || ip.src == 10.10.0.1" 2>/dev/null | wc -l)
[ "$h1_on_10" -ge 1 ] || fail "positive control: h1's ARP requests for 10.20.0.2 did not reach vx10"
[ "$h1_on_20" = 0 ] || fail "vx20 (VNI 5020) received $h1_on_20 frames of h1 (VLAN 10)"
pass "VLAN 10 does not reach VNI 5020: h1's $h1_on_10 ARP requests on VNI 5010, none on VNI 5020"

# Learning both ways.
fdb=$(bridge -n $T-k fdb show dev vx10)
[[ $fdb == *"02:00:00:00:0d:01 dst 192.168.77.1"* ]] || fail "the kernel did not learn h1 at 192.168.77.1: $fdb"
pass "the kernel learned h1's MAC at vnet's VTEP 192.168.77.1"

# What vnet put on the wire (captured only now: iperf3's gigabytes would make it slow to read):
# flows from h1 to several UDP ports, pings over VNI 5020, then read the capture.
ip netns exec $T-k tshark -i u2 -f "udp" -w $WORK/underlay.pcapng -q 2>$WORK/tshark.log &
TS=$!; PIDS+=($TS)
wait_for 10 grep -q "Capturing on" $WORK/tshark.log || fail "tshark did not start"
for p in $(seq 7000 7015); do ip netns exec $T-h1 bash -c "echo x > /dev/udp/10.10.0.2/$p" 2>/dev/null || true; done
ip netns exec $T-h2 ping -c 3 -i 0.2 -W 1 10.20.0.2 >/dev/null || fail "h2 -> vx20 again"
sleep 0.5
kill -INT $TS; wait $TS 2>/dev/null || true
fields=$(tshark -r $WORK/underlay.pcapng -Y "ip.src == 192.168.77.1 && vxlan" -T fields \
  -e udp.srcport -e vxlan.flags -e vxlan.vni -e udp.dstport -e vxlan.gbp -e vxlan.reserved8 \
  -d udp.port==8472,vxlan 2>/dev/null)
csum_bad=$(tshark -r $WORK/underlay.pcapng -o udp.check_checksum:TRUE -Y "ip.src == 192.168.77.1 && vxlan.vni == 5010 && (udp.checksum == 0 || udp.checksum.status != 1)" 2>/dev/null | wc -l)
csum_good=$(tshark -r $WORK/underlay.pcapng -o udp.check_checksum:TRUE -Y "ip.src == 192.168.77.1 && vxlan.vni == 5010 && udp.checksum.status == 1" 2>/dev/null | wc -l)
[ "$csum_bad" = 0 ] && [ "$csum_good" -gt 0 ] || fail "VNI 5010's UDP checksums: $csum_good good, $csum_bad zero or bad"
csum_zero=$(tshark -r $WORK/underlay.pcapng -Y "ip.src == 192.168.77.1 && vxlan.vni == 5020 && udp.checksum == 0" -d udp.port==8472,vxlan 2>/dev/null | wc -l)
[ "$csum_zero" -gt 0 ] || fail "VNI 5020 (no csum option) sent no zero checksum"
pass "UDP checksums: $csum_good good on VNI 5010 (csum), zero on VNI 5020 (the default)"
[ -n "$fields" ] || fail "no VXLAN packet from vnet in the capture"
# flags: 16 bits (I = 0x0800), then 16 reserved bits (Wireshark's gbp field), VNI, 8 reserved.
bad_flags=$(awk '$2 != "0x0800" || $5 != 0 || $6 != 0' <<<"$fields" | wc -l)
[ "$bad_flags" = 0 ] || fail "a header other than the I flag alone: $(awk '{print $2, $5, $6}' <<<"$fields" | sort -u | tr '\n' ' ')"
out_of_range=$(awk '$1 < 49152 || $1 > 65535' <<<"$fields" | wc -l)
[ "$out_of_range" = 0 ] || fail "source ports outside 49152-65535"
ports=$(awk '$3 == 5010 {print $1}' <<<"$fields" | sort -u | wc -l)
[ "$ports" -ge 4 ] || fail "only $ports source ports over 16+ flows of VNI 5010"
pass "on the wire: I flag set, reserved bits zero, $ports source ports in 49152-65535 for VNI 5010"
echo "10 passed, 0 failed"
