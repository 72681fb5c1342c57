#!/usr/bin/env bash
# Captures declared in a lab (examples/capture.yaml, docs/capture.md "In labs"): `up` starts a
# `vnet capture` service per entry (listed by `status`); pings cross; `down` stops them first so
# each file ends with its Interface Statistics Blocks. tshark reads every file without a warning;
# the NODE:IF and SWITCH:PORT files hold both directions with their direction flags; the pre
# capture of pc2's port (filter icmp, inbound) holds only pc2's ICMP, with the frames the
# declared loss dropped marked "dropped: impair_loss".
# ctest: parallel
. "$(dirname "$0")/lib.sh"
command -v tshark >/dev/null || fail "tshark is not installed (scripts/deps.sh)"
L=${T}c
sed "s/^name: capture$/name: $L/" "${VNET_SRC:?}/examples/capture.yaml" >"$WORK/capture.yaml"
CAPS=$WORK/captures

"$VNET" lab up "$WORK/capture.yaml" >"$WORK/up.log" 2>&1 || fail "up: $(cat "$WORK/up.log")"
grep -q "captures     3 to $CAPS" "$WORK/up.log" || fail "up did not say where the captures go: $(cat "$WORK/up.log")"
status=$("$VNET" lab status $L --json)
running=$(echo "$status" | jq '[.pids[] | select(.what | startswith("capture ")) | select(.alive)] | length')
[ "$running" = 3 ] || fail "status lists $running running captures, expected 3: $(echo "$status" | jq -c .pids)"
"$VNET" lab status $L | grep -q "capture pc1:eth0 → $CAPS/$L-pc1-eth0.pcapng" || fail "status text does not list the capture of pc1:eth0"
cap_pids=$(echo "$status" | jq -r '.pids[] | select(.what | startswith("capture ")) | .pid')
# Static neighbours: no ARP exchange (which the loss could stretch past the pings) in the counts.
mac() { ip -n $L-$1 -j link show eth0 | jq -r '.[0].address'; }
ip -n $L-pc1 neigh replace 10.0.0.2 lladdr "$(mac pc2)" dev eth0 nud permanent
ip -n $L-pc2 neigh replace 10.0.0.1 lladdr "$(mac pc1)" dev eth0 nud permanent
"$VNET" lab exec $L pc1 -- ping -q -c 20 -i 0.05 -W 1 10.0.0.2 >/dev/null 2>&1 || true
"$VNET" lab down $L >"$WORK/down.log" 2>&1 || fail "down: $(cat "$WORK/down.log")"
for p in $cap_pids; do gone "$p" || fail "capture pid $p outlived down"; done

# reads FILE: tshark reads it with exit 0 and nothing on stderr (but its notice about root).
reads() {
  tshark -r "$1" >/dev/null 2>"$WORK/tshark.err" || fail "tshark -r $1 failed: $(cat "$WORK/tshark.err")"
  local warned
  warned=$(grep -v 'Running as user "root"' "$WORK/tshark.err" || true)
  [ -z "$warned" ] || fail "tshark -r $1 warned: $warned"
}
# complete FILE: the file ends with Interface Statistics Blocks, one per interface.
complete() {
  /usr/bin/python3 - "$1" <<'PY'
import struct, sys
b = open(sys.argv[1], "rb").read()
pos, types = 0, []
while pos + 12 <= len(b):
    t, n = struct.unpack_from("<II", b, pos)
    if n < 12 or pos + n > len(b): sys.exit("truncated block at %d" % pos)
    types.append(t)
    pos += n
sys.exit(0 if pos == len(b) and types and types[-1] == 5 else "does not end with statistics: %s" % types[-3:])
PY
}
count() { tshark -r "$1" -Y "$2" -T fields -e frame.number 2>/dev/null | wc -l; }

f1=$CAPS/$L-pc1-eth0.pcapng f2=$CAPS/$L-sw1-2.pcapng f3=$CAPS/$L-pc2-eth0-pre.pcapng
for f in $f1 $f2 $f3; do
  [ -s "$f" ] || fail "$f is missing or empty: $(ls -l "$CAPS")"
  reads "$f"
  complete "$f" || fail "$f is not complete"
done
# pc1's port: pc1's requests come in (1), pc2's answers that got through go out (2).
req_in=$(count $f1 'icmp.type == 8 && ip.src == 10.0.0.1 && frame.packet_flags_direction == 1')
rep_out=$(count $f1 'icmp.type == 0 && ip.src == 10.0.0.2 && frame.packet_flags_direction == 2')
[ "$req_in" = 20 ] || fail "$f1: $req_in of pc1's 20 requests inbound"
[ "$rep_out" -ge 1 ] && [ "$rep_out" -lt 20 ] || fail "$f1: $rep_out of pc2's replies outbound, expected some (loss 50%)"
# pc2's port (sw1:2) after impairment: requests go out, the replies that survived come in.
req_out=$(count $f2 'icmp.type == 8 && ip.src == 10.0.0.1 && frame.packet_flags_direction == 2')
rep_in=$(count $f2 'icmp.type == 0 && ip.src == 10.0.0.2 && frame.packet_flags_direction == 1')
[ "$req_out" = 20 ] && [ "$rep_in" = "$rep_out" ] || fail "$f2: $req_out requests out (want 20), $rep_in replies in (want $rep_out)"
# Pre, inbound, icmp: every reply pc2 sent, the lost ones marked; nothing else.
rep_pre=$(count $f3 'icmp.type == 0 && ip.src == 10.0.0.2 && frame.packet_flags_direction == 1')
lost=$(count $f3 'icmp.type == 0 && frame.comment == "dropped: impair_loss"')
other=$(count $f3 '!icmp || frame.packet_flags_direction != 1')
[ "$rep_pre" = 20 ] && [ "$lost" = $((20 - rep_in)) ] && [ "$other" = 0 ] ||
  fail "$f3: $rep_pre replies (want 20), $lost marked lost (want $((20 - rep_in))), $other other frames (want 0)"
pass "declared captures: $req_in+$rep_out frames at pc1:eth0, $req_out+$rep_in at sw1:2, $rep_pre pre with $lost marked dropped: impair_loss; all complete after down"
echo "1 passed, 0 failed"
