#!/usr/bin/env bash
# Three hosts on access ports (VLAN 10, 10, 20) through afpacket: the VLAN-10 hosts reach each
# other, the VLAN-20 host reaches neither in either direction, and fdb/show --json lists exactly
# the learned MACs in their VLANs; frames the kernel drops while the switch cannot read are
# counted (drop_queue_full).
# ctest: parallel
. "$(dirname "$0")/lib.sh"
ns_add $T-sw
for h in 1 2 3; do
  ns_add $T-h$h
  ip -n $T-sw link add p$h type veth peer name eth0 netns $T-h$h
  ip -n $T-sw link set p$h up
done
host_cfg $T-h1 eth0 02:00:00:00:0a:01 10.9.0.1/24
host_cfg $T-h2 eth0 02:00:00:00:0a:02 10.9.0.2/24
host_cfg $T-h3 eth0 02:00:00:00:14:03 10.9.0.3/24
for h in 1 2 3; do ip netns exec $T-h$h sysctl -qw net.ipv6.conf.all.disable_ipv6=1; done
M=$WORK/mgmt
start_switch $T-sw $M
ctl() { "$VNET" ctl "$M" "$@"; }
ctl vlan/create 10; ctl vlan/create 20
for p in 1 2 3; do ctl port/create $p; done
ctl port/setvlan 1 10
ctl port/mode 2 access 10
ctl port/mode 3 access 20
for p in 1 2 3; do ctl port/attach $p afpacket:p$p; done

reach $T-h1 10.9.0.2 || fail "h1 (VLAN 10) cannot reach h2 (VLAN 10)"
reach $T-h2 10.9.0.1 || fail "h2 cannot reach h1"
pass "same VLAN reachable both ways"
unreach $T-h1 10.9.0.3 || fail "h1 (VLAN 10) reached h3 (VLAN 20)"
unreach $T-h3 10.9.0.1 || fail "h3 (VLAN 20) reached h1"
unreach $T-h3 10.9.0.2 || fail "h3 (VLAN 20) reached h2"
unreach $T-h2 10.9.0.3 || fail "h2 (VLAN 10) reached h3"
pass "VLAN 20 isolated from VLAN 10 in both directions"

got=$(ctl fdb/show --json | jq -c '[.[] | {vlan, mac, port, static}]')
want='[{"vlan":10,"mac":"02:00:00:00:0a:01","port":1,"static":false},{"vlan":10,"mac":"02:00:00:00:0a:02","port":2,"static":false},{"vlan":20,"mac":"02:00:00:00:14:03","port":3,"static":false}]'
[ "$got" = "$want" ] || fail "fdb/show --json: got $got, want $want"
pass "fdb/show lists exactly the learned MACs in their VLANs"

# Counters: h3's broadcasts (ARP) arrived on port 3 and never left through ports 1 or 2 as VLAN 20.
drops=$(ctl port/stats 3 --json | jq '.[0].rx_frames')
[ "$drops" -gt 0 ] || fail "port 3 counted no received frames"
# VDE-format answers: hash/print and vlan/print.
ctl hash/print | grep -q "Addr: 02:00:00:00:14:03 VLAN 0020 to port: 003" || fail "hash/print format"
ctl vlan/print 10 | grep -q "Port 0002 tagged=0 active=1" || fail "vlan/print format"
# An unknown command answers 1038 like vde_switch.
out=$("$VNET" ctl "$M" no/such 2>&1 || true)
echo "$out" | grep -q "Function not implemented" || fail "unknown command: $out"
pass "console formats"

# Frames the kernel drops while the switch cannot read (here: stopped) are counted, not lost
# silently: every frame h1 sends is either received on port 1 or in its drop_queue_full.
rx_before=$(ctl port/print 1 --json | jq '.[0].rx_frames')
sw=$(cat "$WORK/sw.pid")
kill -STOP "$sw"
ip netns exec $T-h1 python3 -c "
import socket
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
s.bind(('eth0', 0))
f = bytes.fromhex('02000000ff0102000000 0a01 88b5'.replace(' ', '')) + bytes(46)
for _ in range(20000): s.send(f)"
kill -CONT "$sw"
both() {
  local p
  p=$(ctl port/print 1 --json)
  rx=$(($(jq '.[0].rx_frames' <<< "$p") - rx_before))
  q=$(jq '.[0].backend_counters.drop_queue_full' <<< "$p")
  [ $((rx + q)) -ge 20000 ]
}
wait_for 5 both || true
echo "20000 frames sent to a stopped switch: $rx received, $q counted as drop_queue_full"
[ "$q" -gt 0 ] || fail "no frame was dropped at the queue while the switch was stopped"
[ $((rx + q)) -ge 20000 ] || fail "$rx received + $q counted < 20000 sent: frames lost uncounted"
pass "frames dropped at a full receive queue are counted"
echo "2 passed, 0 failed"
