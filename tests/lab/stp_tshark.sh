#!/usr/bin/env bash
# The BPDUs vnet sends, decoded by Wireshark's dissector (tshark): two vnet bridges, v1 (priority
# 4096, root) and v2 (8192), joined by a veth pair whose ends are their afpacket ports 1. Each
# end is captured with tcpdump, so a1.pcap holds what v2 sent and a2.pcap what v1 sent (vnet
# sends past the qdisc, so its own end's capture does not show its frames). Checked:
#  - no frame is malformed and no dissector expert info is a warning or an error;
#  - mode rstp: every BPDU is an RST BPDU (protocol 0, version 2, type 0x02, 802.3 length 39,
#    Version 1 Length 0, IEEE 802.1D-2004 §9.3.3); v1 proposes as Designated, v2 agrees as Root
#    (§17.29.2–3), and once forwarding v1 sends Designated with Learning and Forwarding, with the
#    identifiers, cost and timers that `stp/show` reports;
#  - mode stp: Configuration BPDUs (version 0, type 0x00, length 38, only the TC and TC Ack flag
#    bits, §9.3.1) and, when v2's root port forwards again after a link change (a topology
#    change, §17.31), TCN BPDUs from v2 (version 0, type 0x80, length 7, §9.3.2) that v1
#    acknowledges (TC Ack, §17.21.19).
# ctest: parallel
. "$(dirname "$0")/lib.sh"
command -v tcpdump >/dev/null || fail "tcpdump is not installed: scripts/deps.sh"
command -v tshark >/dev/null || fail "tshark is not installed: scripts/deps.sh"
command -v jq >/dev/null || fail "jq is not installed: scripts/deps.sh"

ns_add $T-sw
ip -n $T-sw link add a1 type veth peer name a2
ip -n $T-sw link set a1 up
ip -n $T-sw link set a2 up

M=$WORK/mgmt
start_switch $T-sw $M --bridge v1
ctl() { "$VNET" ctl "$M" "$@"; }
ctl bridge/create v2 >/dev/null
ctl -b v1 port/create 1 >/dev/null
ctl -b v2 port/create 1 >/dev/null
ctl -b v1 port/attach 1 afpacket:a1 >/dev/null
ctl -b v2 port/attach 1 afpacket:a2 >/dev/null
ctl -b v1 stp/set priority 4096 hello_time 2 forward_delay 4 max_age 6 >/dev/null
ctl -b v2 stp/set priority 8192 hello_time 2 forward_delay 4 max_age 6 >/dev/null
show() { ctl -b "$1" --json stp/show; }
port1() { show "$1" | jq -r ".ports[] | select(.port == 1) | .$2"; }

# capture TAG: tcpdump on both ends into $WORK/TAG-a1.pcap and $WORK/TAG-a2.pcap.
CAPS=()
capture() {
  local i
  CAPS=()
  for i in 1 2; do
    ip netns exec $T-sw tcpdump -i a$i -nn -U --immediate-mode -w "$WORK/$1-a$i.pcap" "ether dst 01:80:c2:00:00:00" \
      2>"$WORK/$1-a$i.err" &
    CAPS+=($!)
    PIDS+=($!)
  done
  for i in 1 2; do
    wait_for 5 grep -q "listening on" "$WORK/$1-a$i.err" || fail "tcpdump: $(cat "$WORK/$1-a$i.err")"
  done
}
stop_capture() {
  local p
  sleep 0.2  # frames already on the wire reach the file (immediate mode, -U: each one at once)
  for p in "${CAPS[@]}"; do kill -INT "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
}

# clean FILE: Wireshark finds nothing malformed and no expert info of warning level or above.
clean() {
  local f=$1 n bad
  n=$(tshark -r "$f" -T fields -e frame.number 2>/dev/null | wc -l)
  [ "$n" -gt 0 ] || fail "$f: no BPDUs captured"
  tshark -r "$f" -V >"$f.txt" 2>&1 || fail "tshark cannot read $f: $(tail -3 "$f.txt")"
  ! grep -qi "malformed" "$f.txt" || fail "$f: Wireshark reports a malformed BPDU: $(grep -i -m3 -B30 malformed "$f.txt")"
  bad=$(tshark -r "$f" -Y "_ws.malformed || _ws.expert.severity >= 0x00600000" -T fields \
    -e frame.number -e _ws.expert.message 2>/dev/null)
  [ -z "$bad" ] || fail "$f: expert warnings or errors: $bad (tshark -r $f -z expert -q: $(tshark -r "$f" -q -z expert 2>&1))"
  echo "$n"
}
# bpdus FILE: one line per BPDU, fields separated by tabs (empty when a BPDU type has none): eth.len version type flags role proposal agreement learning
# forwarding tc tcack root_prio root_hw root_cost bridge_prio bridge_hw port msg_age max_age
# hello forward v1len
bpdus() {
  tshark -r "$1" -T fields -E separator=/t -E occurrence=f -e eth.len -e stp.version -e stp.type \
    -e stp.flags -e stp.flags.port_role -e stp.flags.proposal -e stp.flags.agreement \
    -e stp.flags.learning -e stp.flags.forwarding -e stp.flags.tc -e stp.flags.tcack \
    -e stp.root.prio -e stp.root.hw -e stp.root.cost -e stp.bridge.prio -e stp.bridge.hw \
    -e stp.port -e stp.msg_age -e stp.max_age -e stp.hello -e stp.forward \
    -e stp.version_1_length 2>/dev/null
}
# TC Ack: flags 0x80 (with or without TC, 0x01).
acks() { awk -F'\t' '$1 == 38 && $3 == "0x00" && ($4 == "0x80" || $4 == "0x81")'; }
mac_of() { # a vnet bridge id 1000.02a90bc81cab -> 02:a9:0b:c8:1c:ab
  sed -E 's/^[0-9a-f]{4}\.//; s/(..)(..)(..)(..)(..)(..)/\1:\2:\3:\4:\5:\6/' <<<"$1"
}
# ---- RSTP ------------------------------------------------------------------------------------
capture rstp
ctl -b v2 stp/set mode rstp >/dev/null
ctl -b v1 stp/set mode rstp >/dev/null
rstp_converged() {
  [ "$(port1 v1 role)/$(port1 v1 state)" = designated/forwarding ] &&
    [ "$(port1 v2 role)/$(port1 v2 state)" = root/forwarding ]
}
wait_for 10 rstp_converged ||
  fail "rstp: expected v1 port 1 designated/forwarding, v2 port 1 root/forwarding: $(show v1) $(show v2)"
v1_mac=$(mac_of "$(show v1 | jq -r .bridge_id)")
v2_mac=$(mac_of "$(show v2 | jq -r .bridge_id)")
# One more hello from v1 in the forwarding state.
sent_after() { [ "$(port1 v1 bpdus_out.rst)" -gt "$1" ]; }
n=$(port1 v1 bpdus_out.rst)
wait_for 5 sent_after "$n" || fail "rstp: v1 sent no BPDU in 5 s (hello time 2 s)"
stop_capture
n1=$(clean "$WORK/rstp-a2.pcap")
n2=$(clean "$WORK/rstp-a1.pcap")
pass "rstp: $n1 BPDUs of v1 and $n2 of v2, none malformed, no expert warnings"

# Field by field. tshark prints the flags byte as 0x.., booleans as 1/0 (or True/False).
norm() { sed -E 's/\bTrue\b/1/g; s/\bFalse\b/0/g'; }
bpdus "$WORK/rstp-a2.pcap" | norm >"$WORK/v1.rst"
bpdus "$WORK/rstp-a1.pcap" | norm >"$WORK/v2.rst"
# Every BPDU of either bridge: 802.3 length 39 (LLC 3 + 36), version 2, type 0x02, Version 1
# Length 0, timers as configured (max age 6, hello 2, forward delay 4).
for f in v1 v2; do
  bad=$(awk -F'\t' '!($1 == 39 && $2 == 2 && $3 == "0x02" && $19 == 6 && $20 == 2 && $21 == 4 && $22 == 0)' "$WORK/$f.rst")
  [ -z "$bad" ] || fail "rstp: BPDUs of $f that are not RST BPDUs of length 39 with the configured timers:
$bad"
done
# v1 (the root): always Designated, root = itself at cost 0, port 128.1 (0x8001), message age 0.
bad=$(awk -F'\t' -v m="$v1_mac" '!($5 == 3 && $12 == 4096 && $13 == m && $14 == 0 && $15 == 4096 &&
  $16 == m && $17 == "0x8001" && $18 == 0)' "$WORK/v1.rst")
[ -z "$bad" ] || fail "rstp: v1's BPDUs should say Designated, root $v1_mac at cost 0, port 0x8001:
$bad"
[ -n "$(awk -F'\t' '$6 == 1' "$WORK/v1.rst")" ] || fail "rstp: v1 never set the Proposal flag:
$(cat "$WORK/v1.rst")"
last=$(tail -1 "$WORK/v1.rst")
[ "$(cut -f6-9 <<<"$last")" = $'0\t0\t1\t1' ] ||
  fail "rstp: v1's last BPDU (forwarding, no handshake running) should carry Learning and Forwarding only: $last"
pass "rstp: v1 sends Designated BPDUs as root $v1_mac (cost 0, port 0x8001), a Proposal, then Learning+Forwarding"
# v2 answers as Root port with Agreement, carrying its designated priority vector: root v1, its
# own root path cost (2000, one 10 Gb/s hop) and bridge, message age 1 (§17.21.25, §17.21.19).
agreed=$(awk -F'\t' -v m1="$v1_mac" -v m2="$v2_mac" '$5 == 2 && $7 == 1 && $13 == m1 &&
  $14 == 2000 && $15 == 8192 && $16 == m2 && $18 == 1' "$WORK/v2.rst")
[ -n "$agreed" ] || fail "rstp: v2 sent no BPDU with role Root and Agreement naming root $v1_mac:
$(cat "$WORK/v2.rst")"
pass "rstp: v2 answers the proposal with role Root and Agreement"

# ---- 802.1D (mode stp) -----------------------------------------------------------------------
# The capture starts once both bridges are in mode stp: v1's hello timer runs on (2 s), and a
# capture started before the switch caught its last RST BPDU whenever the checks above took
# about a hello time (1 run in 3 on the 2-core machine).
ctl -b v1 stp/set mode stp >/dev/null
ctl -b v2 stp/set mode stp >/dev/null
capture stp
# A link change on the non-root bridge: v2's root port goes down and comes back. Without the
# handshake it forwards again after listening and learning (2 × 4 s); that is a topology change,
# which v2 reports to the root with TCN BPDUs until v1 acknowledges (§17.31, §17.21.19).
ctl -b v2 port/link 1 down >/dev/null
wait_for 5 eval '[ "$(port1 v2 role)" = disabled ]' || fail "stp: v2's port 1 is not disabled after port/link down: $(show v2)"
ctl -b v2 port/link 1 up >/dev/null
t0=$SECONDS
# The TCNs that count are those sent once the root port forwards: read the counter while it is
# still learning (4 s long).
wait_for 10 eval '[ "$(port1 v2 role)/$(port1 v2 state)" = root/learning ]' ||
  fail "stp: v2's port 1 did not become a learning root port: $(show v2)"
tcn_before=$(port1 v2 bpdus_out.tcn)
acks_before=$(bpdus "$WORK/stp-a2.pcap" | acks | wc -l)
stp_converged() {
  [ "$(port1 v1 state)" = forwarding ] && [ "$(port1 v2 role)/$(port1 v2 state)" = root/forwarding ] &&
    [ "$(port1 v2 bpdus_out.tcn)" -gt "$tcn_before" ] && [ "$(port1 v1 bpdus_in.tcn)" -gt 0 ]
}
wait_for 15 stp_converged || fail "stp: expected v2's root port forwarding and a TCN from v2 to v1: $(show v1) $(show v2)"
tcn_acked() { [ "$(bpdus "$WORK/stp-a2.pcap" | acks | wc -l)" -gt "$acks_before" ]; }
wait_for 5 tcn_acked || fail "stp: v1 sent no Configuration BPDU with TC Ack after v2's TCN (hello 2 s): $(bpdus "$WORK/stp-a2.pcap")"
stop_capture
n1=$(clean "$WORK/stp-a2.pcap")
n2=$(clean "$WORK/stp-a1.pcap")
pass "stp: $n1 BPDUs of v1 and $n2 of v2 (converged in $((SECONDS - t0)) s), none malformed, no expert warnings"
bpdus "$WORK/stp-a2.pcap" | norm >"$WORK/v1.cfg"
bpdus "$WORK/stp-a1.pcap" | norm >"$WORK/v2.cfg"
# v1: Configuration BPDUs only, length 38 (LLC 3 + 35), version 0, type 0x00, flags only TC
# (0x01) and TC Ack (0x80), root itself at cost 0, timers as configured.
bad=$(awk -F'\t' -v m="$v1_mac" '!($1 == 38 && $2 == 0 && $3 == "0x00" &&
  ($4 == "0x00" || $4 == "0x01" || $4 == "0x80" || $4 == "0x81") && $13 == m && $14 == 0 &&
  $16 == m && $17 == "0x8001" && $19 == 6 && $20 == 2 && $21 == 4)' "$WORK/v1.cfg")
[ -z "$bad" ] || fail "stp: v1's BPDUs should be Configuration BPDUs (flags TC/TC Ack only) as root $v1_mac:
$bad"
[ -n "$(acks <"$WORK/v1.cfg")" ] || fail "stp: no TC Ack from v1: $(cat "$WORK/v1.cfg")"
[ -n "$(awk -F'\t' '$4 == "0x01" || $4 == "0x81"' "$WORK/v1.cfg")" ] || fail "stp: v1 (root) never set Topology Change: $(cat "$WORK/v1.cfg")"
pass "stp: v1 sends Configuration BPDUs (version 0, type 0x00) with TC Ack and TC after the change"
# v2: after the change, TCN BPDUs: length 7 (LLC 3 + 4), version 0, type 0x80, nothing else.
tcn=$(awk -F'\t' '$3 == "0x80"' "$WORK/v2.cfg")
[ -n "$tcn" ] || fail "stp: no TCN BPDU from v2: $(cat "$WORK/v2.cfg")"
bad=$(awk -F'\t' '$3 == "0x80" && !($1 == 7 && $2 == 0 && $4 == "")' "$WORK/v2.cfg")
[ -z "$bad" ] || fail "stp: v2's TCN BPDUs should be 4 bytes (length 7), version 0: $bad"
bad=$(awk -F'\t' '$3 != "0x80" && !($1 == 38 && $2 == 0 && $3 == "0x00")' "$WORK/v2.cfg")
[ -z "$bad" ] || fail "stp: v2 sent something other than Configuration and TCN BPDUs in mode stp: $bad"
pass "stp: v2 reports the topology change with $(wc -l <<<"$tcn") TCN BPDU(s) (version 0, type 0x80)"
echo "1 passed, 0 failed"
