#!/usr/bin/env bash
# A running lab's switch open to clients started by hand (docs/topology.md "Joining a running
# lab"): Debian's vde_plug joins the switch's VDE directory on declared port 100 (VLAN 10) and a
# QEMU stream client (tests/lab/qemu_stream_tap.py, QEMU's 4-byte length framing) joins port
# 101's socket (VLAN 20); each reaches the lab host of its VLAN and not the one of the other VLAN
# (both hosts share one subnet, so only the switch keeps them apart); the paths come from
# `vnet lab status` (text and --json); after `down` the directory and sockets are gone.
# ctest: parallel
. "$(dirname "$0")/lib.sh"
command -v vde_plug >/dev/null && [ -e /usr/lib/x86_64-linux-gnu/vdeplug/libvdeplug_tap.so ] ||
  { echo "SKIP: vdeplug (vde_plug with libvdeplug_tap) not installed"; exit 77; }
HERE=$(cd "$(dirname "$0")" && pwd)
L=os$$
cat > "$WORK/lab.yaml" <<YAML
name: $L
switches:
  - name: sw
    vlans: [10, 20]
    clients:
      - {port: 100, vlan: 10}
      - {port: 101, vlan: 20}
hosts:
  - name: h10
    interfaces: [{name: eth0, ipv4: 10.9.0.1/24}]
  - name: h20
    interfaces: [{name: eth0, ipv4: 10.9.0.2/24}]
links:
  - {endpoints: [h10, sw], vlan: 10}
  - {endpoints: [h20, sw], vlan: 20}
YAML
"$VNET" lab up "$WORK/lab.yaml" >"$WORK/up.log" 2>&1 || fail "up: $(cat "$WORK/up.log")"
STATE=$VNET_STATE_DIR/$L
"$VNET" lab status --json $L >"$WORK/status.json"
VDE=$(jq -r '.facts.clients.sw.vde' "$WORK/status.json")
S101=$(jq -r '.facts.clients.sw.ports[] | select(.port == 101) | .stream' "$WORK/status.json")
[ "$VDE" = "$STATE/sw.vde" ] || fail "status --json: VDE directory '$VDE', want $STATE/sw.vde"
[ "$S101" = "$STATE/sw.port101.stream" ] || fail "status --json: stream socket '$S101'"
[ -S "$VDE/ctl" ] && [ -S "$S101" ] || fail "no VDE ctl socket or stream socket: $(ls -l "$STATE")"
"$VNET" lab status $L >"$WORK/status.txt"
grep -q "port 100 (access 10): vde $VDE\[100\], stream $STATE/sw.port100.stream" "$WORK/status.txt" ||
  fail "status text does not show where to plug in: $(cat "$WORK/status.txt")"
pass "status shows the VDE directory and the stream sockets"

# vde_plug from a namespace of ours, asking for port 100 (VLAN 10).
ns_add $T-c1
ip netns exec $T-c1 vde_plug "vde://$VDE[100]" "tap://tapc" >"$WORK/vde_plug.log" 2>&1 &
PIDS+=($!)
wait_for 10 ip -n $T-c1 link show tapc || fail "vde_plug did not create its TAP: $(cat "$WORK/vde_plug.log")"
ip netns exec $T-c1 sysctl -qw net.ipv6.conf.all.disable_ipv6=1
host_cfg $T-c1 tapc 02:00:00:00:99:01 10.9.0.50/24
reach $T-c1 10.9.0.1 || fail "vde_plug on port 100 cannot ping h10 (VLAN 10)"
unreach $T-c1 10.9.0.2 || fail "vde_plug on port 100 (VLAN 10) reaches h20 in VLAN 20"
"$VNET" ctl "$STATE/console.sock" port/print 100 | grep -q vde || fail "port 100 is not the VDE client's"
pass "vde_plug on port 100 reaches VLAN 10's host and not VLAN 20's"

# A QEMU stream client on port 101 (VLAN 20).
ns_add $T-c2
ip netns exec $T-c2 python3 "$HERE/qemu_stream_tap.py" "$S101" taps >"$WORK/stream.log" 2>&1 &
PIDS+=($!)
wait_for 10 ip -n $T-c2 link show taps || fail "the stream client did not start: $(cat "$WORK/stream.log")"
ip netns exec $T-c2 sysctl -qw net.ipv6.conf.all.disable_ipv6=1
host_cfg $T-c2 taps 02:00:00:00:99:02 10.9.0.51/24
reach $T-c2 10.9.0.2 || fail "the stream client on port 101 cannot ping h20 (VLAN 20)"
unreach $T-c2 10.9.0.1 || fail "the stream client on port 101 (VLAN 20) reaches h10 in VLAN 10"
unreach $T-c2 10.9.0.50 || fail "the stream client (VLAN 20) reaches the VDE client (VLAN 10)"
pass "QEMU stream client on port 101 reaches VLAN 20's host and not VLAN 10's"

# A port holds one client: a second plug asking for port 100 is refused, the first keeps working.
ns_add $T-c3
set +e
ip netns exec $T-c3 timeout 5 vde_plug "vde://$VDE[100]" "tap://tapd" >"$WORK/vde_plug2.log" 2>&1
rc=$?
set -e
[ $rc != 0 ] && [ $rc != 124 ] || fail "a second vde_plug on port 100 was not refused (exit $rc)"
grep -q "port 100 already has" "$STATE/switch.log" || fail "switch.log does not say why: $(tail -3 "$STATE/switch.log")"
reach $T-c1 10.9.0.1 || fail "the first client on port 100 lost its port"
pass "a second client on a busy port is refused"

"$VNET" lab down $L >/dev/null || fail "down"
[ -e "$VDE" ] && fail "the VDE directory is left after down"
[ -e "$S101" ] && fail "the stream socket is left after down"
[ -e "$STATE" ] && fail "the state directory is left after down"
pass "down removes the VDE directory and the stream sockets"
