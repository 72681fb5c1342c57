#!/usr/bin/env bash
# Captures with `vnet capture` (docs/capture.md): two hosts on one vnet switch through afpacket,
# port 2 captured while they ping both ways. tshark reads each file without a warning; frames
# appear in both directions with their pcapng direction flags; with `impair/set 2 out loss 100%`
# a --pre capture holds the lost echo requests marked "dropped: impair_loss" while a --post
# capture taken at the same time has none of them; frames the bridge drops (a VLAN not in a
# trunk's member set, a tagged frame on an access port) are marked with the reason the port's
# drop counter counts them under; a BPF filter keeps what it selects only; -c
# COUNT stops after COUNT packets; a mirror of port 1 to port 3 (in another VLAN) sends port 3
# both directions of h1's ping; in a lab, `vnet capture LAB NODE:IF` captures the switch port
# that interface is plugged into.
# ctest: parallel
. "$(dirname "$0")/lib.sh"
command -v tshark >/dev/null || fail "tshark is not installed (scripts/deps.sh)"
two_hosts_on_switch 0a 10.9.0

running() { [ "$(ctl capture/list --json | jq length)" -ge "$1" ]; }
CAPS=()
# capture FILE ARGS...: starts `vnet capture` on the switch in the background.
capture() {
  local file=$1; shift
  "$VNET" capture "$M" "$@" -w "$file" 2>"$file.err" &
  CAPS+=($!)
  PIDS+=($!)
}
# stop_captures: SIGINT to each, then each must exit 0 having written its statistics.
stop_captures() {
  for p in "${CAPS[@]}"; do kill -INT "$p"; done
  for p in "${CAPS[@]}"; do wait "$p" || fail "vnet capture (pid $p) exited with $?: $(cat $WORK/*.err)"; done
  CAPS=()
}
# reads FILE: tshark reads it with exit 0 and nothing on stderr (but its notice about running
# as root, which is not about the file).
reads() {
  tshark -r "$1" >/dev/null 2>"$1.tshark" || fail "tshark -r $1 failed: $(cat "$1.tshark")"
  local warned
  warned=$(grep -v 'Running as user "root"' "$1.tshark" || true)
  [ -z "$warned" ] || fail "tshark -r $1 warned: $warned"
  [ -s "$1" ] || fail "$1 is empty"
}
# fields FILE FILTER FIELDS...: one line per matching frame.
fields() {
  local f=$1 y=$2; shift 2
  local args=()
  for x in "$@"; do args+=(-e "$x"); done
  tshark -r "$f" -Y "$y" -T fields -E separator=/ "${args[@]}" 2>/dev/null
}
count() { fields "$@" frame.number | wc -l; }

# 1. Both directions, with direction flags (1 inbound, 2 outbound: received / sent by the switch
# on port 2).
reach $T-h1 10.9.0.2 || fail "h1 cannot reach h2 before capturing"
capture $WORK/both.pcapng 2
wait_for 5 running 1 || fail "the capture did not start: $(cat $WORK/both.pcapng.err)"
ip netns exec $T-h1 ping -q -c 3 -i 0.05 -W 1 10.9.0.2 >/dev/null || fail "h1 -> h2 ping failed"
ip netns exec $T-h2 ping -q -c 3 -i 0.05 -W 1 10.9.0.1 >/dev/null || fail "h2 -> h1 ping failed"
stop_captures
reads $WORK/both.pcapng
# Requests from h1 leave the switch on port 2 (outbound); requests from h2 come in (inbound).
out_req=$(count $WORK/both.pcapng "icmp.type == 8 && ip.src == 10.9.0.1 && frame.packet_flags_direction == 2")
in_req=$(count $WORK/both.pcapng "icmp.type == 8 && ip.src == 10.9.0.2 && frame.packet_flags_direction == 1")
in_rep=$(count $WORK/both.pcapng "icmp.type == 0 && ip.src == 10.9.0.2 && frame.packet_flags_direction == 1")
[ "$out_req" = 3 ] || fail "expected 3 outbound echo requests from h1, got $out_req"
[ "$in_req" = 3 ] || fail "expected 3 inbound echo requests from h2, got $in_req"
[ "$in_rep" = 3 ] || fail "expected 3 inbound echo replies from h2, got $in_rep"
grep -q "[0-9]* packets" $WORK/both.pcapng.err || fail "no summary: $(cat $WORK/both.pcapng.err)"
ifaces=$(tshark -r $WORK/both.pcapng -T fields -e frame.interface_name 2>/dev/null | sort -u)
[[ $ifaces == *:2 ]] || fail "interface name '$ifaces', expected BRIDGE:2"
pass "a capture of port 2 holds both directions with direction flags ($out_req out, $in_req+$in_rep in)"

# 2. Loss out of port 2: pre has the dropped requests with their reason, post has none.
ctl impair/set 2 out loss 100%
capture $WORK/pre.pcapng 2 --pre
capture $WORK/post.pcapng 2 --post
wait_for 5 running 2 || fail "the captures did not start"
ip netns exec $T-h1 ping -q -c 3 -i 0.05 -W 0.3 10.9.0.2 >/dev/null && fail "ping passed 100% loss"
ip netns exec $T-h2 ping -q -c 3 -i 0.05 -W 0.3 10.9.0.1 >/dev/null && fail "ping passed 100% loss"
stop_captures
ctl impair/clear 2
reads $WORK/pre.pcapng
reads $WORK/post.pcapng
dropped=$(count $WORK/pre.pcapng 'icmp.type == 8 && frame.comment == "dropped: impair_loss" && frame.packet_flags_direction == 2')
pre_all=$(count $WORK/pre.pcapng 'icmp.type == 8')
post_req=$(count $WORK/post.pcapng 'icmp.type == 8')
post_in=$(count $WORK/post.pcapng 'icmp.type == 8 && ip.src == 10.9.0.2 && frame.packet_flags_direction == 1')
[ "$dropped" = 3 ] || fail "pre capture: expected 3 echo requests marked dropped: impair_loss, got $dropped of $pre_all"
[ "$post_in" = 3 ] || fail "positive control: post capture holds $post_in of h2's 3 inbound requests"
post_req=$(count $WORK/post.pcapng 'icmp.type == 8 && ip.src == 10.9.0.1')
[ "$post_req" = 0 ] || fail "post capture holds $post_req echo requests that the impairment dropped"
[ "$(ctl port/print 2 --json | jq '.[0].drops.impair_loss')" -ge 3 ] || fail "positive control: loss not counted"
pass "pre capture marks the 3 lost requests 'dropped: impair_loss'; post has none of them but h2's $post_in inbound ones"

# 2b. Bridge drops: port 2 a trunk of VLAN 10 (native 1), port 1 access. h2 sends frames tagged
# VLAN 20 (not a member: vlan_not_member) and VLAN 10 (admitted); h1 sends frames tagged VLAN 10
# (an access port admits no tagged frames: frame_type_not_admitted). A pre capture of both ports
# holds each dropped frame with the reason the port's drop counter counts it under.
# send_tagged NS VID COUNT: COUNT broadcast frames tagged VID (EtherType 0x88b5) out of NS's eth0.
send_tagged() {
  ip netns exec "$1" /usr/bin/python3 - "$2" "$3" <<'PY' || fail "raw send from $1 failed"
import socket, struct, sys
vid, n = int(sys.argv[1]), int(sys.argv[2])
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
s.bind(("eth0", 0))
src = s.getsockname()[4]
for i in range(n):
    s.send(b"\xff" * 6 + src + struct.pack("!HHH", 0x8100, vid, 0x88B5) + bytes([i]) * 46)
PY
}
ctl vlan/create 10
ctl vlan/create 20
ctl port/mode 2 trunk 10 native 1
capture $WORK/bridge.pcapng 1,2 --pre --direction in
wait_for 5 running 1 || fail "the capture did not start: $(cat $WORK/bridge.pcapng.err)"
send_tagged $T-h2 20 3
send_tagged $T-h2 10 2
send_tagged $T-h1 10 4
ip netns exec $T-h1 ping -q -c 1 -W 1 10.9.0.2 >/dev/null || fail "h1 -> h2 ping failed over the native VLAN"
stop_captures
reads $WORK/bridge.pcapng
not_member=$(count $WORK/bridge.pcapng 'frame.comment == "dropped: vlan_not_member" && vlan.id == 20 && frame.interface_name contains ":2" && frame.packet_flags_direction == 1')
not_admitted=$(count $WORK/bridge.pcapng 'frame.comment == "dropped: frame_type_not_admitted" && vlan.id == 10 && frame.interface_name contains ":1"')
admitted=$(count $WORK/bridge.pcapng 'vlan.id == 10 && frame.interface_name contains ":2" && !frame.comment')
echo_marked=$(count $WORK/bridge.pcapng 'icmp && frame.comment')
[ "$not_member" = 3 ] || fail "expected 3 frames of VLAN 20 marked dropped: vlan_not_member on port 2, got $not_member"
[ "$not_admitted" = 4 ] || fail "expected 4 tagged frames marked dropped: frame_type_not_admitted on port 1, got $not_admitted"
[ "$admitted" = 2 ] && [ "$echo_marked" = 0 ] || fail "positive control: $admitted admitted VLAN 10 frames unmarked (want 2), $echo_marked echo frames marked (want 0)"
[ "$(ctl port/print 2 --json | jq '.[0].drops.vlan_not_member')" = 3 ] || fail "port 2 counts $(ctl port/print 2 --json | jq '.[0].drops.vlan_not_member') vlan_not_member drops, the capture 3"
[ "$(ctl port/print 1 --json | jq '.[0].drops.frame_type_not_admitted')" = 4 ] || fail "port 1's frame_type_not_admitted counter disagrees with the capture"
tshark -r $WORK/bridge.pcapng -Y 'frame.comment' -T fields -e frame.interface_name -e vlan.id -e frame.comment 2>/dev/null | sort | uniq -c | sed 's/^/    /'
ctl port/mode 2 access 1
pass "bridge drops in a pre capture: $not_member 'dropped: vlan_not_member' (port 2), $not_admitted 'dropped: frame_type_not_admitted' (port 1), as the drop counters say"

# 3. BPF filters: icmp keeps echo frames only, arp keeps ARP only.
ip netns exec $T-h1 ip neigh flush dev eth0
capture $WORK/icmp.pcapng 2 icmp
capture $WORK/arp.pcapng 2 arp
wait_for 5 running 2 || fail "the filtered captures did not start"
ip netns exec $T-h1 ping -q -c 2 -i 0.05 -W 1 10.9.0.2 >/dev/null || fail "h1 -> h2 ping failed"
stop_captures
reads $WORK/icmp.pcapng
reads $WORK/arp.pcapng
icmp_n=$(count $WORK/icmp.pcapng icmp)
icmp_other=$(count $WORK/icmp.pcapng '!icmp')
arp_n=$(count $WORK/arp.pcapng arp)
arp_other=$(count $WORK/arp.pcapng '!arp')
[ "$icmp_n" -ge 4 ] && [ "$icmp_other" = 0 ] || fail "filter icmp: $icmp_n icmp, $icmp_other other frames"
[ "$arp_n" -ge 1 ] && [ "$arp_other" = 0 ] || fail "filter arp: $arp_n arp, $arp_other other frames"
pass "BPF filters: icmp kept $icmp_n echo frames and nothing else, arp kept $arp_n ARP frames only"
# 4. -c COUNT: the capture ends by itself after COUNT packets, statistics included.
"$VNET" capture "$M" 2 -c 2 -w $WORK/count.pcapng 2>$WORK/count.err &
cpid=$!
PIDS+=($cpid)
wait_for 5 running 1 || fail "the -c capture did not start"
ip netns exec $T-h1 ping -q -c 3 -i 0.05 -W 1 10.9.0.2 >/dev/null || fail "h1 -> h2 ping failed"
wait $cpid || fail "vnet capture -c 2 exited with $?: $(cat $WORK/count.err)"
reads $WORK/count.pcapng
n=$(count $WORK/count.pcapng frame)
[ "$n" = 2 ] || fail "-c 2 wrote $n packets"
wait_for 5 eval '[ "$(ctl capture/list --json | jq length)" = 0 ]' || fail "the -c capture still runs"
pass "-c 2 stops after 2 packets and the switch ends the capture"

# 5. Mirror port 1 to port 3 (access VLAN 30: no flooding reaches it).
ns_add $T-h3
ip -n $T-sw link add p3 type veth peer name eth0 netns $T-h3
ip -n $T-sw link set p3 up
ip -n $T-h3 link set eth0 up
ctl vlan/create 30
ctl port/create 3
ctl port/setvlan 3 30
ctl port/attach 3 afpacket:p3
capture $WORK/mirror.pcapng 3 --direction out icmp
wait_for 5 running 1 || fail "the capture of port 3 did not start"
ip netns exec $T-h1 ping -q -c 2 -i 0.05 -W 1 10.9.0.2 >/dev/null || fail "h1 -> h2 ping failed"
ctl mirror/create 1 3 both
ip netns exec $T-h1 ping -q -c 3 -i 0.05 -W 1 10.9.0.2 >/dev/null || fail "h1 -> h2 ping failed with a mirror"
stop_captures
reads $WORK/mirror.pcapng
req=$(count $WORK/mirror.pcapng 'icmp.type == 8 && ip.src == 10.9.0.1')
rep=$(count $WORK/mirror.pcapng 'icmp.type == 0 && ip.src == 10.9.0.2')
[ "$req" = 3 ] && [ "$rep" = 3 ] || fail "port 3 sent $req requests and $rep replies, expected 3 and 3 (only after mirror/create)"
[ "$(ctl mirror/show --json | jq '.[0].copied')" -ge 6 ] || fail "mirror/show counts fewer than 6 copies"
refused=$(ctl mirror/create 3 2 both 2>&1) && fail "mirror/create 3 2 was accepted (3 is a destination)"
[[ $refused == *"cannot be a source"* ]] || fail "mirror/create 3 2 refused with '$refused'"
pass "a mirror of port 1 sends both directions out of port 3 ($req requests, $rep replies), none before"
# 6. A lab: `vnet capture LAB NODE:IF` finds the switch port the interface is plugged into.
cat >$WORK/lab.yaml <<YAML
name: $T
switches:
  - name: sw
    vlans: [10]
hosts:
  - name: a
    interfaces:
      - name: eth0
        ipv4: 10.7.0.1/24
  - name: b
    interfaces:
      - name: eth0
        ipv4: 10.7.0.2/24
links:
  - endpoints: [a:eth0, sw]
    vlan: 10
  - endpoints: [b:eth0, sw]
    vlan: 10
YAML
"$VNET" lab up $WORK/lab.yaml >/dev/null || fail "lab up"
"$VNET" capture $T b:eth0 --duration 3s icmp -w $WORK/lab.pcapng 2>$WORK/lab.err &
lpid=$!
PIDS+=($lpid)
labrunning() { [ "$("$VNET" ctl "$VNET_STATE_DIR/$T/console.sock" capture/list --json | jq length)" -ge 1 ]; }
wait_for 5 labrunning || fail "the lab capture did not start: $(cat $WORK/lab.err)"
"$VNET" lab exec $T a -- ping -q -c 2 -i 0.1 -W 1 10.7.0.2 >/dev/null || fail "a -> b ping failed in the lab"
wait $lpid || fail "vnet capture in the lab exited with $?: $(cat $WORK/lab.err)"
reads $WORK/lab.pcapng
out_req=$(count $WORK/lab.pcapng 'icmp.type == 8 && frame.packet_flags_direction == 2')
ifname=$(tshark -r $WORK/lab.pcapng -T fields -e frame.interface_name 2>/dev/null | sort -u)
[ "$out_req" = 2 ] && [ "$ifname" = "sw:2" ] || fail "lab capture of b:eth0: $out_req requests on '$ifname', expected 2 on sw:2"
"$VNET" lab down $T >/dev/null
pass "vnet capture LAB b:eth0 records switch port sw:2 (--duration ends it)"
echo "7 passed, 0 failed"
