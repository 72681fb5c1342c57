#!/usr/bin/env bash
# Reserved group addresses (IEEE 802.1Q-2018 §8.6.3, Table 8-1) are never relayed. A host on an
# access port sends, with trafgen, a BPDU (01:80:c2:00:00:00), LACP (…:02, EtherType 0x8809),
# EAPOL (…:03, 0x888e) and LLDP (…:0e, 0x88cc): tcpdump on two other hosts in the same VLAN sees
# none of them, and the sender's port counts each one under `control` (port/stats --json).
# Positive control: a broadcast sent the same way, last, reaches both other hosts.
# ctest: parallel
. "$(dirname "$0")/lib.sh"
command -v trafgen >/dev/null || fail "trafgen (netsniff-ng) is not installed: scripts/deps.sh"
command -v tcpdump >/dev/null || fail "tcpdump is not installed: scripts/deps.sh"

SENDER=02:00:00:00:77:01
ns_add $T-sw
for h in 1 2 3; do
  ns_add $T-h$h
  ip netns exec $T-h$h sysctl -qw net.ipv6.conf.all.disable_ipv6=1  # quiet hosts
  ip -n $T-sw link add p$h type veth peer name eth0 netns $T-h$h
  ip -n $T-sw link set p$h up
  ip -n $T-h$h link set eth0 address 02:00:00:00:77:0$h
  ip -n $T-h$h link set eth0 up
done
M=$WORK/mgmt
start_switch $T-sw $M
ctl() { "$VNET" ctl "$M" "$@"; }
for p in 1 2 3; do
  ctl port/create $p >/dev/null
  ctl port/attach $p afpacket:p$p
done

for h in 2 3; do
  ip netns exec $T-h$h tcpdump -i eth0 -w "$WORK/h$h.pcap" -U -nn "ether src $SENDER" \
    2>"$WORK/h$h.err" &
  PIDS+=($!)
  wait_for 5 grep -q "listening on" "$WORK/h$h.err" || fail "tcpdump: $(cat "$WORK/h$h.err")"
done
count() { tcpdump -r "$WORK/$1.pcap" -nn ${2:+"$2"} 2>/dev/null | grep -c '^[0-9]' || true; }
at_least() { [ "$(count "$1" "${3:-}")" -ge "$2" ]; }
control() { [ "$(ctl port/stats 1 --json | jq '.[0].control')" = "$1" ]; }

# send DST-LAST-BYTE ETHERTYPE-OR-LENGTH NAME: one frame from h1 to 01:80:c2:00:00:XX.
send() {
  ip netns exec $T-h1 trafgen -o eth0 -n 1 -P 1 --no-sock-mem -Q -C \
    "{ 0x01, 0x80, 0xc2, 0x00, 0x00, $1, 0x02, 0x00, 0x00, 0x00, 0x77, 0x01, c16($2), fill(0x42, 46) }" \
    >"$WORK/trafgen.out" 2>&1 || fail "trafgen $3: $(cat "$WORK/trafgen.out")"
}
n=0
for f in "0x00 0x0026 BPDU" "0x02 0x8809 LACP" "0x03 0x888e EAPOL" "0x0e 0x88cc LLDP"; do
  set -- $f
  send $1 $2 $3
  n=$((n + 1))
  wait_for 5 control $n ||
    fail "$3: port 1 control counter is $(ctl port/stats 1 --json | jq '.[0].control'), want $n"
done
pass "BPDU, LACP, EAPOL and LLDP each counted under control on the ingress port"

# Positive control, last: a broadcast from the same host, the same way.
ip netns exec $T-h1 trafgen -o eth0 -n 1 -P 1 --no-sock-mem -Q -C \
  "{ fill(0xff, 6), 0x02, 0x00, 0x00, 0x00, 0x77, 0x01, c16(0x88b5), fill(0x42, 46) }" \
  >"$WORK/trafgen.out" 2>&1 || fail "trafgen broadcast: $(cat "$WORK/trafgen.out")"
for h in 2 3; do
  wait_for 5 at_least h$h 1 "ether broadcast" || fail "the broadcast did not reach h$h"
done
pass "a broadcast from the same port reaches both other hosts"
RESERVED='ether[0:4] = 0x0180c200 and ether[4:1] = 0 and ether[5:1] & 0xf0 = 0'
for h in 2 3; do
  [ "$(count h$h "$RESERVED")" = 0 ] || fail "h$h received $(count h$h "$RESERVED") reserved-address frames"
  [ "$(count h$h)" = 1 ] || fail "h$h received $(count h$h) frames from h1, want only the broadcast"
done
for p in 2 3; do
  [ "$(ctl port/stats $p --json | jq '.[0].tx_frames')" = 1 ] || fail "port $p sent more than the broadcast"
done
pass "no reserved-address frame reached another port"
echo "1 passed, 0 failed"
