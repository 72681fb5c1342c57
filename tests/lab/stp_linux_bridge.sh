#!/usr/bin/env bash
# Spanning tree against the Linux kernel bridge's 802.1D (stp_state 1): a triangle of the kernel
# bridge (priority 0) and two vnet bridges running RSTP, joined by veths (afpacket ports) and an
# in-process cable, a host on each bridge.
#  - the kernel bridge becomes root and both vnet bridges agree on its identifier;
#  - vnet's ports toward it speak 802.1D (Configuration BPDUs: a kernel bridge ignores RST BPDUs);
#  - exactly one port of the triangle is blocked, the kernel bridge's ports all forward;
#  - hosts reach each other, and a broadcast arrives exactly once at each other host;
#  - once the kernel bridge stops running spanning tree (it then relays BPDUs like any frame) and
#    one side runs a migration check (stp/mcheck), vnet's ports toward it migrate back to RSTP,
#    one port still blocks the loop, and a broadcast still arrives exactly once.
# ctest: parallel
. "$(dirname "$0")/lib.sh"
command -v tcpdump >/dev/null || fail "tcpdump is not installed: scripts/deps.sh"
command -v jq >/dev/null || fail "jq is not installed: scripts/deps.sh"

ns_add $T-sw
ns_add $T-kb
# Kernel bridge: priority 0, hello 2 s, forward delay 4 s, max age 6 s (centiseconds for ip-link).
ip -n $T-kb link add kbr type bridge stp_state 1 priority 0 hello_time 200 forward_delay 400 \
  max_age 600
ip -n $T-kb link set kbr up
for i in 1 2; do
  ip -n $T-kb link add k$i type veth peer name k${i}s netns $T-sw
  ip -n $T-kb link set k$i master kbr up
  ip -n $T-sw link set k${i}s up
done
plug a 02:00:00:00:79:0a 10.79.0.1/24
plug b 02:00:00:00:79:0b 10.79.0.2/24
ns_add $T-k
ip -n $T-kb link add kh type veth peer name eth0 netns $T-k
ip -n $T-kb link set kh master kbr up
host_cfg $T-k eth0 02:00:00:00:79:0c 10.79.0.3/24
for h in a b k; do ip netns exec $T-$h sysctl -qw net.ipv6.conf.all.disable_ipv6=1; done

M=$WORK/mgmt
start_switch $T-sw $M --bridge v1
ctl() { "$VNET" ctl "$M" "$@"; }
ctl bridge/create v2 >/dev/null
for br in v1 v2; do
  for p in 1 2 5; do ctl -b $br port/create $p >/dev/null; done
  ctl -b $br stp/set mode rstp hello_time 2 forward_delay 4 max_age 6 >/dev/null
  ctl -b $br stp/port 5 edge yes >/dev/null
done
ctl -b v1 port/attach 1 afpacket:k1s >/dev/null
ctl -b v2 port/attach 1 afpacket:k2s >/dev/null
ctl -b v1 port/attach 5 afpacket:sa >/dev/null
ctl -b v2 port/attach 5 afpacket:sb >/dev/null
ctl cable/connect v1 2 v2 2 >/dev/null

show() { ctl -b "$1" --json stp/show; }
field() { show "$1" | jq -r "$2"; }
kernel_id=$(ip netns exec $T-kb cat /sys/class/net/kbr/bridge/bridge_id)
agree_on_kernel_root() {
  [ "$(field v1 .root_id)" = "$kernel_id" ] && [ "$(field v2 .root_id)" = "$kernel_id" ]
}
wait_for 20 agree_on_kernel_root ||
  fail "vnet does not agree that the kernel bridge $kernel_id is root: v1 $(field v1 .root_id), v2 $(field v2 .root_id)"
pass "the kernel bridge (priority 0, $kernel_id) is root for both vnet bridges"

proto() { field "$1" ".ports[] | select(.port == $2) | .protocol"; }
# 802.1D-2004 §17.24: a port keeps sending RST BPDUs for MigrateTime (3 s) after it comes up,
# then falls back to 802.1D on the next Configuration BPDU it hears (the kernel's hello: 2 s).
speak_stp() { [ "$(proto v1 1)" = stp ] && [ "$(proto v2 1)" = stp ]; }
wait_for 15 speak_stp ||
  fail "ports toward the kernel bridge should speak 802.1D: v1 $(proto v1 1), v2 $(proto v2 1)"
pass "vnet's ports toward the kernel bridge speak 802.1D"

state() { field "$1" ".ports[] | select(.port == $2) | .state"; }
blocked_in_triangle() {
  local n=0 s
  for s in "$(state v1 1)" "$(state v1 2)" "$(state v2 1)" "$(state v2 2)"; do
    [ "$s" = forwarding ] || n=$((n + 1))
  done
  echo $n
}
kernel_forwarding() {
  local i
  for i in 1 2; do
    [ "$(ip netns exec $T-kb cat /sys/class/net/k$i/brport/state)" = 3 ] || return 1
  done
}
converged() { [ "$(blocked_in_triangle)" = 1 ] && kernel_forwarding; }
wait_for 30 converged ||
  fail "expected one blocked port and the kernel's ports forwarding: $(show v1) $(show v2)"
blocked_port() {
  local b p
  for b in v1 v2; do
    for p in 1 2; do [ "$(state $b $p)" = forwarding ] || echo "$b port $p ($(field $b ".ports[] | select(.port == $p) | .role"))"; done
  done
}
pass "one port of the triangle blocks: $(blocked_port); the kernel bridge's ports forward"

wait_for 30 reach $T-a 10.79.0.2 || fail "a cannot reach b"
wait_for 30 reach $T-a 10.79.0.3 || fail "a cannot reach the host of the kernel bridge"
wait_for 10 reach $T-k 10.79.0.2 || fail "the kernel bridge's host cannot reach b"
pass "hosts reach each other across the tree"

# One broadcast echo request from a: each other host must see it exactly once.
broadcast_once() {
  local tag=$1 h pids=()
  for h in b k; do
    ip netns exec $T-$h tcpdump -i eth0 -nn -U -w "$WORK/$tag-$h.pcap" \
      "icmp and ether src 02:00:00:00:79:0a and ether dst ff:ff:ff:ff:ff:ff" 2>"$WORK/$tag-$h.err" &
    pids+=($!)
    PIDS+=($!)
  done
  for h in b k; do
    wait_for 5 grep -q "listening on" "$WORK/$tag-$h.err" || fail "tcpdump: $(cat "$WORK/$tag-$h.err")"
  done
  ip netns exec $T-a ping -b -c 1 -W 1 10.79.0.255 >/dev/null 2>&1 || true
  sleep 1  # let copies that went round a loop arrive too; the count is what is checked
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
  for h in b k; do
    n=$(tcpdump -r "$WORK/$tag-$h.pcap" -nn 2>/dev/null | wc -l)
    [ "$n" = 1 ] || fail "$tag: host $h saw the broadcast $n times (expected exactly once)"
  done
}
broadcast_once kernel-stp
pass "a broadcast from a arrives exactly once at b and at the kernel bridge's host"

# The kernel bridge leaves spanning tree: it relays BPDUs like any frame from now on. Both vnet
# ports on that segment still speak 802.1D to each other (each hears the other's Configuration
# BPDUs), as 802.1D-2004 §17.24 has it, until a protocol migration check: `stp/mcheck` on one
# side makes it send RST BPDUs, and the other side, hearing them, migrates too.
ip -n $T-kb link set kbr type bridge stp_state 0
sleep 1
ctl -b v1 stp/mcheck 1 >/dev/null
back_to_rstp() { [ "$(proto v1 1)" = rstp ] && [ "$(proto v2 1)" = rstp ]; }
wait_for 30 back_to_rstp || fail "ports toward the former kernel root stay 802.1D: v1 $(proto v1 1), v2 $(proto v2 1)"
pass "without the kernel bridge's spanning tree, vnet's ports migrate back to RSTP"
vnet_root() {
  local r1 r2
  r1=$(field v1 .root_id) r2=$(field v2 .root_id)
  [ "$r1" = "$r2" ] && [ "$r1" != "$kernel_id" ] && [ "$(blocked_in_triangle)" = 1 ]
}
wait_for 30 vnet_root || fail "vnet bridges did not converge among themselves: $(show v1) $(show v2)"
wait_for 30 reach $T-a 10.79.0.2 || fail "a cannot reach b after the kernel bridge left"
wait_for 10 reach $T-a 10.79.0.3 || fail "a cannot reach k after the kernel bridge left"
broadcast_once kernel-off
pass "root $(field v1 .root_id) among the vnet bridges, one port blocks, a broadcast still arrives once"
storm=0
for b in v1 v2; do
  storm=$((storm + $(ctl -b $b port/stats --json | jq '[.[].drops.storm_guard // 0] | add')))
done
[ "$storm" = 0 ] || fail "the storm guard dropped $storm frames"
pass "the storm guard never fired"
echo "1 passed, 0 failed"
