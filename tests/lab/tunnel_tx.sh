#!/usr/bin/env bash
# What the tunnel ports do with payloads the kernel refuses, and the kernel's UDP batching (GSO on
# send, GRO on receive) between two vnet VTEPs. Switch A ($T-a: host h1 on port 1, VLAN 10) has
# an underlay veth u1 (192.168.81.1/24) to switch B ($T-b, u2 192.168.81.2, host h2 on port 1):
#   1. sends that fail are counted, not lost silently: a vxlan port and a udp cable whose remote
#      (10.99.0.1) has no route (ENETUNREACH) count drop_tx_error; a vxlan port whose underlay
#      queue is full (a 16 kbit/s tbf qdisc holding the socket's whole send buffer, 8 MiB: EAGAIN)
#      counts drop_tx_busy, over the raw socket (no csum) and over UDP GSO (csum);
#   2. over IPv4 with csum on both sides, then over IPv6 (fd81::/64, checksums always), iperf3
#      TCP from h1 to h2 through the tunnel: A sends with UDP GSO (tx_gso_datagrams), B splits
#      what arrives coalesced (rx_gro_datagrams) and merges the inner TCP segments back into GSO
#      frames (rx_tcp_coalesced), TCP's own checksums pass (the data arrives), and neither side
#      counts a loss; over IPv4 with zero checksums (the default), where the kernel refuses UDP
#      GSO, A hands each TCP train whole to the kernel's UDP tunnel GSO through its tunnel tap
#      (tx_tunnel_gso_sends: the outer checksums stay zero) and B, across the veth, receives the
#      train whole and takes it back as a GSO frame (rx_tcp_super_frames).
. "$(dirname "$0")/lib.sh"
ns_add $T-a; ns_add $T-b
ip -n $T-a link add u1 type veth peer name u2 netns $T-b
ip -n $T-a addr add 192.168.81.1/24 dev u1; ip -n $T-a link set u1 up
ip -n $T-b addr add 192.168.81.2/24 dev u2; ip -n $T-b link set u2 up
for h in 1 2; do
  sw=$([ $h = 1 ] && echo a || echo b)
  ns_add $T-h$h
  ip -n $T-$sw link add p$h type veth peer name eth0 netns $T-h$h
  ip -n $T-$sw link set p$h up
  ip netns exec $T-h$h sysctl -qw net.ipv6.conf.all.disable_ipv6=1
  host_cfg $T-h$h eth0 02:00:00:00:81:0$h 10.81.0.$h/24
  ip -n $T-h$h link set eth0 mtu 1450
done
for sw in a b; do
  start_switch_as $sw $T-$sw $WORK/$sw.mgmt
done
ctl() { local sw=$1; shift; "$VNET" ctl $WORK/$sw.mgmt "$@"; }
# counter SW PORT NAME: a backend counter of a port.
counter() { ctl $1 port/print $2 --json | jq ".[0].backend_counters.$3 // -1"; }
at_least() { [ "$(counter "$1" "$2" "$3")" -ge "$4" ]; }
for sw in a b; do
  ctl $sw vlan/create 10; ctl $sw port/create 1; ctl $sw port/create 2
done
ctl a port/attach 1 afpacket:p1; ctl b port/attach 1 afpacket:p2
for sw in a b; do ctl $sw port/mode 1 access 10; done

# blast N: h1 sends N 1000-byte UDP datagrams to a MAC nobody has (flooded out of every port).
ip -n $T-h1 neigh replace 10.81.0.99 lladdr 02:00:00:00:81:99 dev eth0
blast() {
  ip netns exec $T-h1 python3 -c "
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for _ in range($1):
    try: s.sendto(b'x' * 1000, ('10.81.0.99', 9))
    except OSError: pass"
}

# 1a. No route to the remote: the kernel refuses every payload.
ctl a port/attach 2 "vxlan:192.168.81.1,map=10:5010,flood=5010@10.99.0.1"
ctl a port/mode 2 trunk 10
ctl a port/create 3
ctl a port/attach 3 "udp:192.168.81.1:6001,remote=10.99.0.1:6001"
ctl a port/mode 3 trunk 10
blast 20
wait_for 5 at_least a 2 drop_tx_error 20 ||
  fail "vxlan: payloads to an unroutable VTEP were not counted (drop_tx_error $(counter a 2 drop_tx_error))"
wait_for 5 at_least a 3 drop_tx_error 20 ||
  fail "udp cable: frames to an unroutable remote were not counted (drop_tx_error $(counter a 3 drop_tx_error))"
pass "unreachable remote: vxlan drop_tx_error $(counter a 2 drop_tx_error), udp cable drop_tx_error $(counter a 3 drop_tx_error)"
ctl a port/detach 3
ctl a port/detach 2

# 1b. A full underlay queue: the qdisc holds what the socket sent until its buffer is full.
tc -n $T-a qdisc add dev u1 root tbf rate 16kbit burst 1600 limit 40000000
for opt in "" ",csum"; do
  ctl a port/attach 2 "vxlan:192.168.81.1,map=10:5010,flood=5010@192.168.81.2$opt"
  blast 12000
  wait_for 5 at_least a 2 drop_tx_busy 1 ||
    fail "vxlan$opt: payloads refused with EAGAIN were not counted: $(ctl a port/print 2; tc -n $T-a -s qdisc show dev u1)"
  pass "full underlay queue (vxlan${opt:-, raw socket}): drop_tx_busy $(counter a 2 drop_tx_busy), tx_gso_sends $(counter a 2 tx_gso_sends)"
  if [ -n "$opt" ]; then
    at_least a 2 tx_gso_sends 1 || fail "vxlan,csum: no UDP GSO send"
  fi
  ctl a port/detach 2
done
tc -n $T-a qdisc del dev u1 root

# 2. TCP through the tunnel, batched by the kernel both ways: over IPv4 with csum, then over
# IPv6 (checksums always; the underlay MTU raised for the 40-byte IPv6 header).
ip netns exec $T-h2 iperf3 -s -D -p 5201 --logfile $WORK/iperf3.log --pidfile $WORK/iperf3.pid
wait_for 5 test -s $WORK/iperf3.pid && PIDS+=("$(cat $WORK/iperf3.pid)")
wait_for 5 ip netns exec $T-h2 sh -c 'ss -ltn | grep -q ":5201 "' || fail "iperf3 server did not listen"
ip -n $T-a link set u1 mtu 1550; ip -n $T-b link set u2 mtu 1550
ip -n $T-a addr add fd81::1/64 dev u1 nodad; ip -n $T-b addr add fd81::2/64 dev u2 nodad
tcp_through() { # NAME BATCHING(udp-gso|tunnel-gso) SPEC_A SPEC_B
  local want_gso=$2
  ctl a port/attach 2 "$3"; ctl b port/attach 2 "$4"
  for sw in a b; do ctl $sw port/mode 2 trunk 10; done
  wait_for 10 reach $T-h1 10.81.0.2 || fail "$1: h1 cannot reach h2 through the tunnel"
  ip netns exec $T-h1 iperf3 -c 10.81.0.2 -p 5201 -t 2 --connect-timeout 3000 -J </dev/null >$WORK/up.json || true
  bps=$(jq '.end.sum_received.bits_per_second // 0' $WORK/up.json)
  awk -v b="$bps" 'BEGIN { exit !(b + 0 > 1e7) }' || fail "$1: iperf3 through the tunnel: $bps bit/s"
  gso=$(counter a 2 tx_gso_datagrams) gro=$(counter b 2 rx_gro_datagrams)
  merged=$(counter b 2 rx_tcp_coalesced)
  tunnel=$(counter a 2 tx_tunnel_gso_sends) super=$(counter b 2 rx_tcp_super_frames)
  if [ "$want_gso" = udp-gso ]; then
    [ "$gso" -gt 0 ] || fail "$1: A sent no datagram with UDP GSO"
    [ "$gro" -gt 0 ] || fail "$1: B received no coalesced datagram (UDP GRO)"
    [ "$merged" -gt 0 ] || fail "$1: B merged no inner TCP segment into a GSO frame"
    [ "$tunnel" = 0 ] || fail "$1: tunnel GSO with UDP checksums on ($tunnel)"
  else
    [ "$gso" = 0 ] && [ "$gro" = 0 ] || fail "$1: UDP GSO/GRO with zero checksums ($gso, $gro)"
    [ "$tunnel" -gt 0 ] || fail "$1: A sent no TCP train through its tunnel tap"
    [ "$super" -gt 0 ] || fail "$1: B took no TCP train back whole"
  fi
  for sw in a b; do
    for c in drop_tx_busy drop_tx_error drop_rx_truncated drop_truncated drop_too_big drop_tx_malformed; do
      [ "$(counter $sw 2 $c)" = 0 ] || fail "$1: switch $sw counted $c $(counter $sw 2 $c) during iperf3"
    done
  done
  pass "$1: iperf3 TCP through the tunnel: $(awk -v b="$bps" 'BEGIN { printf "%.0f", b / 1e6 }') Mbit/s, $gso datagrams sent with UDP GSO, $gro received coalesced, $merged inner TCP segments merged, $tunnel trains sent with tunnel GSO, $super taken back whole, no loss counted"
  ctl a port/detach 2; ctl b port/detach 2
}
tcp_through "IPv4, checksum zero" tunnel-gso "vxlan:192.168.81.1,map=10:5010,flood=5010@192.168.81.2" \
  "vxlan:192.168.81.2,map=10:5010,flood=5010@192.168.81.1"
tcp_through "IPv4, csum" udp-gso "vxlan:192.168.81.1,map=10:5010,flood=5010@192.168.81.2,csum" \
  "vxlan:192.168.81.2,map=10:5010,flood=5010@192.168.81.1,csum"
tcp_through "IPv6" udp-gso "vxlan:[fd81::1],map=10:5010,flood=5010@[fd81::2],mtu=1550" \
  "vxlan:[fd81::2],map=10:5010,flood=5010@[fd81::1],mtu=1550"
