#!/usr/bin/env bash
# VLAN hopping across two real switches. Two `vnet switch` processes in two namespaces, joined by
# a veth (afpacket ports on both ends) configured as a trunk whose native VLAN is 10 — the
# dangerous case. An attacker on an access port of VLAN 10 on switch 1 sends, with trafgen,
# single, double (10/20) and triple tags with TPIDs 0x8100 and 0x88a8; tcpdump on the trunk's far
# side, on a victim in VLAN 20 and on a receiver in VLAN 10 on switch 2.
# Property: no attacker frame arrives in VLAN 20 — nothing reaches the victim, and nothing on the
# trunk or at the receiver starts with a tag (switch 2, or any switch after it, would read that
# tag as the VLAN). Positive control: an untagged attacker frame does arrive in VLAN 10, on the
# trunk and at the receiver. Run twice: the access port's default (untagged and priority-tagged
# frames only), then `admit all` (tagged frames of VLAN 10 enter; the egress rule must hold).
# ctest: parallel
. "$(dirname "$0")/lib.sh"
command -v trafgen >/dev/null || fail "trafgen (netsniff-ng) is not installed: scripts/deps.sh"
command -v tcpdump >/dev/null || fail "tcpdump is not installed: scripts/deps.sh"

ATTACKER=02:00:00:00:66:01
ns_add $T-s1
ns_add $T-s2
ip -n $T-s1 link add tr type veth peer name tr netns $T-s2
ip -n $T-s1 link set tr up
ip -n $T-s2 link set tr up
hostns() { # NAME SWITCH-NS SWITCH-IF MAC
  ns_add $T-$1
  ip -n $2 link add $3 type veth peer name eth0 netns $T-$1
  ip -n $2 link set $3 up
  ip netns exec $T-$1 sysctl -qw net.ipv6.conf.all.disable_ipv6=1  # no frames of its own
  ip -n $T-$1 link set eth0 address $4
  ip -n $T-$1 link set eth0 up
}
hostns att $T-s1 p1 $ATTACKER
hostns vic $T-s2 p2 02:00:00:00:66:02
hostns rcv $T-s2 p3 02:00:00:00:66:03

start_sw() { # NAME NS
  ip netns exec $2 "$VNET" switch -M "$WORK/$1.mgmt" -p "$WORK/$1.pid" --log "$WORK/$1.log" -d
  wait_for 5 test -S "$WORK/$1.mgmt" -a -s "$WORK/$1.pid" || fail "switch $1 did not start"
  PIDS+=("$(cat "$WORK/$1.pid")")
}
start_sw s1 $T-s1
start_sw s2 $T-s2
s1() { "$VNET" ctl "$WORK/s1.mgmt" "$@"; }
s2() { "$VNET" ctl "$WORK/s2.mgmt" "$@"; }
for s in s1 s2; do
  $s vlan/create 10 >/dev/null
  $s vlan/create 20 >/dev/null
  $s port/create 9 >/dev/null
  $s port/mode 9 trunk 10,20 native 10
  $s port/attach 9 afpacket:tr
done
s1 port/create 1 >/dev/null && s1 port/mode 1 access 10 && s1 port/attach 1 afpacket:p1
s2 port/create 2 >/dev/null && s2 port/mode 2 access 20 && s2 port/attach 2 afpacket:p2
s2 port/create 3 >/dev/null && s2 port/mode 3 access 10 && s2 port/attach 3 afpacket:p3

# cap NAME NS IF: capture the attacker's frames there.
cap() {
  ip netns exec $2 tcpdump -i $3 -w "$WORK/$1.pcap" -U -nn "ether src $ATTACKER" 2>"$WORK/$1.err" &
  PIDS+=($!)
  wait_for 5 grep -q "listening on" "$WORK/$1.err" || fail "tcpdump on $3: $(cat "$WORK/$1.err")"
}
# count NAME [FILTER]: captured frames matching FILTER (offline, on the bytes as they were).
count() { tcpdump -r "$WORK/$1.pcap" -nn ${2:+"$2"} 2>/dev/null | grep -c '^[0-9]' || true; }
# at_least NAME N [FILTER]: polled by wait_for (the count is taken on every try).
at_least() { [ "$(count "$1" "${3:-}")" -ge "$2" ]; }
TAGGED='ether[12:2] = 0x8100 or ether[12:2] = 0x88a8'
PLAIN='ether[12:2] = 0x88b5' # an attacker frame without any tag in front
# send STACK: one broadcast from the attacker with tags like "C10 S20" (C = 0x8100, S = 0x88a8).
send() {
  local tags=""
  for t in $1; do
    case $t in
      C*) tags+="c16(0x8100), c16(${t#C}), " ;;
      S*) tags+="c16(0x88a8), c16(${t#S}), " ;;
    esac
  done
  ip netns exec $T-att trafgen -o eth0 -n 1 -P 1 --no-sock-mem -Q -C \
    "{ fill(0xff, 6), 0x02, 0x00, 0x00, 0x00, 0x66, 0x01, $tags c16(0x88b5), fill(0x55, 46) }" \
    >"$WORK/trafgen.out" 2>&1 || fail "trafgen: $(cat "$WORK/trafgen.out")"
}
ATTACKS=("C20" "C10 C20" "C10 S20" "C10 C10 C20" "C10 S20 C20" "S10" "S20" "S10 C20" "S20 C20 C20"
  "C0 C20" "C0 S20" "C10")

phase() { # NAME: send every attack, then the untagged control, and check the captures
  local p=$1
  cap $p-trunk $T-s2 tr
  cap $p-vic $T-vic eth0
  cap $p-rcv $T-rcv eth0
  for a in "${ATTACKS[@]}"; do send "$a"; done
  send ""  # positive control, last: once it is through, so is everything sent before it
  wait_for 5 at_least $p-rcv 1 "$PLAIN" || fail "$p: the untagged frame did not reach VLAN 10 on switch 2"
  wait_for 5 at_least $p-trunk 1 "$PLAIN" || fail "$p: the untagged frame did not cross the trunk"
  pass "$p: an untagged attacker frame arrives in VLAN 10 (trunk and receiver)"
  [ "$(count $p-vic)" = 0 ] || fail "$p: $(count $p-vic) attacker frames reached the VLAN 20 victim"
  [ "$(count $p-trunk "$TAGGED")" = 0 ] ||
    fail "$p: $(count $p-trunk "$TAGGED") attacker frames crossed the native-10 trunk starting with a tag"
  [ "$(count $p-rcv "$TAGGED")" = 0 ] || fail "$p: the VLAN 10 receiver got a frame starting with a tag"
  pass "$p: no attacker frame arrives in VLAN 20, none leaves untagged with a tag in front"
}

phase default
drops() { $1 port/stats $2 --json | jq ".[0].drops.$3 // 0"; }
[ "$(drops s1 1 frame_type_not_admitted)" -ge 10 ] ||
  fail "access port (default) did not refuse the tagged frames: $(s1 port/stats 1 --json | jq -c '.[0].drops')"
pass "default access port refuses tagged and S-tagged frames (frame_type_not_admitted)"

s1 port/mode 1 access 10 admit all
phase admit_all
[ "$(drops s1 9 exposed_tag)" -ge 5 ] ||
  fail "trunk did not count exposed_tag drops: $(s1 port/stats 9 --json | jq -c '.[0].drops')"
# C10 alone is VLAN 10 with nothing behind its tag: it must have arrived, untagged.
at_least admit_all-rcv 2 "$PLAIN" || fail "admit all: the VLAN-10-tagged frame did not arrive in VLAN 10"
pass "admit all: tagged VLAN 10 enters, inner tags never leave untagged (exposed_tag counted)"
echo "1 passed, 0 failed"
