#!/usr/bin/env bash
# Spanning tree in a lab: three switches cabled in a triangle, all running RSTP, sw1 with the best
# bridge priority and sw3 the second best, one host on each. The lab comes up (a loop `vnet lab`
# accepts only because every switch runs spanning tree); sw1 becomes the root and every switch
# agrees; exactly one port of the whole lab is discarding, and it is sw2's port toward sw3
# (alternate); host ports are edge ports and a per-end stp_cost reached its port only. Positive
# control: the hosts reach each other. Broadcasts do not circle: each of N broadcast echo requests
# from h1 arrives at h3 exactly once and the dataplane's storm guard drops nothing. Pulling the
# sw1–sw2 cable (sw2's root path): h2 reaches h1 again within seconds and sw2's formerly alternate
# port is its root port, forwarding. The same triangle with sw3 at `stp: off` is refused by
# validate, naming the loop's links and sw3.
. "$(dirname "$0")/lib.sh"
command -v tcpdump >/dev/null || fail "tcpdump is not installed: scripts/deps.sh"
command -v jq >/dev/null || fail "jq is not installed: scripts/deps.sh"

# The lab file, with the scenarios given as arguments (one step per argument).
lab() { # FILE SW3_STP [STEP...]
  local f=$WORK/$1.yaml sw3=$2
  shift 2
  local sw3_prio=""
  [ "$sw3" = off ] || sw3_prio=", stp_priority: 8192"
  cat >"$f" <<EOF
name: $T
switches:
  - {name: sw1, vlans: [10], stp: rstp, stp_priority: 4096}
  - {name: sw2, vlans: [10], stp: rstp}
  - {name: sw3, vlans: [10], stp: $sw3$sw3_prio}
hosts:
  - {name: h1, interfaces: [{name: eth0, ipv4: 10.79.0.1/24}]}
  - {name: h2, interfaces: [{name: eth0, ipv4: 10.79.0.2/24}]}
  - {name: h3, interfaces: [{name: eth0, ipv4: 10.79.0.3/24}]}
links:
  - {endpoints: [h1, sw1], vlan: 10}
  - {endpoints: [h2, sw2], vlan: 10}
  - {endpoints: [h3, sw3], vlan: 10}
  - {endpoints: [sw1, sw2], trunk: [10]}
  - {endpoints: [sw2, sw3], trunk: [10], stp_cost: {sw2: 3000}}
  - {endpoints: [sw3, sw1], trunk: [10]}
EOF
  if [ $# -gt 0 ]; then
    printf 'scenarios:\n  - name: %s\n    steps:\n' "$(basename "$f" .yaml)" >>"$f"
    for s in "$@"; do printf '      - %s\n' "$s" >>"$f"; done
  fi
  echo "$f"
}

# Refused with stp off on one switch of the loop; the same file with it on is valid.
BAD=$(lab bad off)
if "$VNET" lab validate "$BAD" >"$WORK/bad.out" 2>&1; then fail "a loop through a switch with stp: off was accepted"; fi
for want in "sw1–sw2 ($BAD:14), sw2–sw3 ($BAD:15), sw3–sw1 ($BAD:16) form a loop" "sw3 runs no spanning tree"; do
  grep -qF "$want" "$WORK/bad.out" || fail "validate did not say '$want': $(cat "$WORK/bad.out")"
done
"$VNET" lab validate "$(lab good rstp)" >"$WORK/good.out" 2>&1 || fail "the RSTP triangle is refused: $(cat "$WORK/good.out")"
pass "a loop through a switch without spanning tree is refused; with it on every switch, accepted"

CONVERGE=$(lab converge rstp \
  "wait_until: {root_bridge: sw1}
        within: 10s" \
  "wait_until: {stp_port: sw2 sw3, role: alternate, state: discarding}
        within: 10s" \
  "stp_port: sw3 sw2
        role: designated
        state: forwarding" \
  "stp_port: sw2 sw1
        role: root" \
  "wait_until: {ping: h1 h2}
        within: 5s" \
  "ping: h2 h3" \
  "ping: h3 h1")
FAILOVER=$(lab failover rstp \
  "link: sw1 sw2 down" \
  "wait_until: {ping: h2 h1}
        within: 5s" \
  "wait_until: {stp_port: sw2 sw3, role: root, state: forwarding}
        within: 5s" \
  "root_bridge: sw1" \
  "ping: h3 h2")

"$VNET" lab up "$CONVERGE" >"$WORK/up.log" 2>&1 || fail "up: $(cat "$WORK/up.log")"
CTL=("$VNET" ctl "$VNET_STATE_DIR/$T/console.sock")
"$VNET" lab test "$CONVERGE" --junit "$WORK/converge.xml" >"$WORK/converge.out" 2>&1 ||
  fail "converge scenario: $(cat "$WORK/converge.out")"
grep -q "0 failed" "$WORK/converge.out" || fail "converge: $(cat "$WORK/converge.out")"
pass "sw1 is the root, sw2's port toward sw3 is alternate/discarding, the hosts reach each other"

ports() { for b in sw1 sw2 sw3; do "${CTL[@]}" -b $b stp/show --json | jq -r --arg b $b '.ports[] | "\($b) \(.port) edge=\(.edge) cost=\(.path_cost) \(.role) \(.state)"'; done; }
ports >"$WORK/ports.txt" || fail "stp/show: $(cat "$WORK/ports.txt")"
discarding=$(grep -c ' discarding$' "$WORK/ports.txt" || true)
alternate=$(grep -c ' alternate discarding$' "$WORK/ports.txt" || true)
[ "$(wc -l <"$WORK/ports.txt")" = 9 ] || fail "expected 9 ports with spanning tree: $(cat "$WORK/ports.txt")"
[ "$discarding" = 1 ] && [ "$alternate" = 1 ] || fail "expected exactly one port discarding, as alternate: $(cat "$WORK/ports.txt")"
pass "exactly one port of nine discards: $(grep ' discarding$' "$WORK/ports.txt")"
# The lab's per-port settings: host ports (port 1 of each switch) are edge ports, cables are not;
# the sw2 end of sw2–sw3 has the cost the link gives it, the sw3 end the default.
[ "$(grep -c ' 1 edge=true ' "$WORK/ports.txt")" = 3 ] && [ "$(grep -c 'edge=true' "$WORK/ports.txt")" = 3 ] ||
  fail "expected exactly the three host ports to be edge ports: $(cat "$WORK/ports.txt")"
grep -q '^sw2 3 edge=false cost=3000 ' "$WORK/ports.txt" && grep -q '^sw3 2 edge=false cost=2000 ' "$WORK/ports.txt" ||
  fail "stp_cost {sw2: 3000} did not reach sw2's port only: $(cat "$WORK/ports.txt")"
pass "host ports are edge ports; stp_cost set the sw2 end of sw2–sw3 only"

guarded() {
  local n=0 b x
  for b in sw1 sw2 sw3; do
    x=$("${CTL[@]}" -b $b port/stats --json | jq '[.[].drops.storm_guard // 0] | add')
    n=$((n + x))
  done
  echo $n
}
N=5
ip netns exec $T-h3 tcpdump -i eth0 -w "$WORK/h3.pcap" -U -nn "icmp and dst host 10.79.0.255" 2>"$WORK/h3.err" &
PIDS+=($!)
wait_for 5 grep -q "listening on" "$WORK/h3.err" || fail "tcpdump: $(cat "$WORK/h3.err")"
ip netns exec $T-h1 ping -b -c $N -i 0.2 -W 1 10.79.0.255 >/dev/null 2>&1 || true
copies() { tcpdump -r "$WORK/h3.pcap" -nn 2>/dev/null | grep -c 'ICMP echo request' || true; }
at_least() { [ "$(copies)" -ge "$1" ]; }
wait_for 5 at_least $N || fail "h3 saw $(copies) of $N broadcasts (positive control)"
[ "$(copies)" = $N ] || fail "h3 saw $(copies) copies of $N broadcasts: they circle the loop"
[ "$(guarded)" = 0 ] || fail "the storm guard dropped $(guarded) frames: a loop forwarded"
pass "each of $N broadcasts reached h3 once; storm guard dropped nothing"

"$VNET" lab test "$FAILOVER" --junit "$WORK/failover.xml" >"$WORK/failover.out" 2>&1 ||
  fail "failover scenario: $(cat "$WORK/failover.out")"
grep -q "0 failed" "$WORK/failover.out" || fail "failover: $(cat "$WORK/failover.out")"
grep -m1 "PASS\] wait_until ping h2 h1" "$WORK/failover.out" || true
[ "$(guarded)" = 0 ] || fail "the storm guard dropped $(guarded) frames during reconvergence"
pass "sw1–sw2 pulled: h2 reaches h1 again, sw2's formerly alternate port is root and forwards"

"$VNET" lab down "$T" >/dev/null 2>&1 || fail "down"
ip netns list | grep -q "^$T-" && fail "namespaces left: $(ip netns list | grep "^$T-")"
echo "5 passed, 0 failed"
