#!/usr/bin/env bash
# Tenants stay apart across hosts (RFC 7364; docs/tenants.md): two "hosts" (namespaces $T-a and
# $T-b, each running its own `vnet switch`) are joined over an underlay (a Linux bridge in $T-u,
# 192.168.91.0/24) by one VXLAN port each that carries red's VLAN 10 as VNI 5010 and blue's VLAN
# 20 as VNI 5020. Red and blue use the SAME prefix (10.1.0.0/24) and the SAME host MACs.
#   - `vnet lab validate` accepts host a's share as a lab with two tenants on one address plan,
#     and refuses the same file without tenants; examples/tenants.yaml passes its scenario;
#   - 10^5 frames of each tenant, sent at once from both tenants' hosts on a, reach their own
#     tenant's host on b once each (or are counted where they were dropped: switch a's receive
#     queue, when the machine starves it), and none reaches the other tenant's hosts;
#   - malformed datagrams injected from the underlay (I flag clear, an unknown VNI, a payload
#     shorter than the header, a truncated inner frame, an inner 802.1Q tag that would hop from
#     red into blue's VLAN 20) are counted under their reason on b's VXLAN port and delivered to
#     no host; reserved bits set are ignored (RFC 7348 §5): those frames reach red's host;
#   - a MAC that moves to another VTEP (the injector) is relearned with its first frame there,
#     in its own tenant's VNI only, and relearned back with its first frame from a.
# ctest: parallel
. "$(dirname "$0")/lib.sh"
PY="python3 $(dirname "$0")/tenant_frames.py"
N=${TENANT_FRAMES:-100000}
RATE=${TENANT_RATE:-20000}
RED_MAC_A=02:00:00:00:aa:01
RED_MAC_B=02:00:00:00:aa:02
# Blue's hosts use the same MACs and addresses as red's.
BLUE_MAC_A=$RED_MAC_A
BLUE_MAC_B=$RED_MAC_B

# ---- the lab file of host a: accepted with tenants, refused without ----
cat > "$WORK/site-a.yaml" <<EOF
name: sitea
switches:
  - name: sw1
    vlans: [10, 20]
tenants:
  - {name: red, vlans: [10], vnis: {10: 5010}, prefixes: [10.1.0.0/24]}
  - {name: blue, vlans: [20], vnis: {20: 5020}, prefixes: [10.1.0.0/24]}
hosts:
  - {name: red1, interfaces: [{name: eth0, mac: "$RED_MAC_A", ipv4: 10.1.0.1/24}]}
  - {name: blue1, interfaces: [{name: eth0, mac: "$BLUE_MAC_A", ipv4: 10.1.0.1/24}]}
links:
  - {endpoints: [red1, sw1], vlan: 10}
  - {endpoints: [blue1, sw1], vlan: 20}
EOF
"$VNET" lab validate "$WORK/site-a.yaml" >/dev/null || fail "two tenants on one address plan refused"
grep -v "tenant\|name: red,\|name: blue," "$WORK/site-a.yaml" > "$WORK/shared.yaml"
out=$("$VNET" lab validate "$WORK/shared.yaml" 2>&1) && fail "without tenants the same plan was accepted"
[[ $out == *"shared.yaml:7:"*"duplicate address 10.1.0.1 (also on red1:eth0)"* ]] \
  || fail "without tenants: expected a duplicate address on line 7, got: $out"
pass "two tenants may reuse one prefix and one set of MACs; one space may not"

# The example: red and blue on one switch with one address plan; red reaches a shared VLAN
# through its router, blue does not.
example_passes tenants

# ---- underlay: a bridge in $T-u; a at .1, b at .2, the injector at .9 ----
ns_add $T-u
ip -n $T-u link add br0 type bridge
ip -n $T-u addr add 192.168.91.9/24 dev br0
ip -n $T-u link set br0 up
declare -A UL=([a]=192.168.91.1 [b]=192.168.91.2)
for s in a b; do
  ns_add $T-$s
  ip -n $T-$s link add ul type veth peer name u$s netns $T-u
  ip -n $T-$s addr add ${UL[$s]}/24 dev ul
  ip -n $T-$s link set ul up
  ip -n $T-u link set u$s master br0 up
  for t in red blue; do
    ns_add $T-$t$s
    ip -n $T-$s link add $t type veth peer name eth0 netns $T-$t$s
    ip -n $T-$s link set $t up
    ip netns exec $T-$t$s sysctl -qw net.ipv6.conf.all.disable_ipv6=1
  done
done
host_cfg $T-reda eth0 $RED_MAC_A 10.1.0.1/24
host_cfg $T-redb eth0 $RED_MAC_B 10.1.0.2/24
host_cfg $T-bluea eth0 $BLUE_MAC_A 10.1.0.1/24
host_cfg $T-blueb eth0 $BLUE_MAC_B 10.1.0.2/24

# ---- one vnet switch per host; port 1 red (VLAN 10), 2 blue (VLAN 20), 3 VXLAN ----
for s in a b; do
  peer=$([ $s = a ] && echo ${UL[b]} || echo ${UL[a]})
  start_switch_as $s $T-$s "$WORK/$s.ctl"
  c() { "$VNET" ctl "$WORK/$s.ctl" "$@" >/dev/null; }
  c vlan/create 10; c vlan/create 20
  for p in 1 2 3; do c port/create $p; done
  c port/attach 1 afpacket:red; c port/mode 1 access 10
  c port/attach 2 afpacket:blue; c port/mode 2 access 20
  c port/attach 3 "vxlan:${UL[$s]},map=10:5010,map=20:5020,flood=5010@$peer,flood=5020@$peer"
  c port/mode 3 trunk 10,20
done
ctl() { local s=$1; shift; "$VNET" ctl "$WORK/$s.ctl" "$@"; }
# counter SWITCH PORT NAME: a number from `port/print PORT --json` (a backend counter or a
# port counter).
counter() {
  ctl "$1" port/print "$2" --json | python3 -c "import json,sys
p = json.load(sys.stdin)[0]
print(p.get('backend_counters', {}).get('$3', p.get('$3', 0)))"
}

wait_for 10 ip netns exec $T-reda ping -c 1 -W 1 10.1.0.2 || fail "red a -> red b over VNI 5010"
wait_for 10 ip netns exec $T-bluea ping -c 1 -W 1 10.1.0.2 || fail "blue a -> blue b over VNI 5020"
pass "each tenant's hosts reach each other over the VXLAN underlay (same addresses, same MACs)"

# ---- receivers on every tenant host ----
start_recv() { # NS OUT
  ip netns exec "$1" $PY recv eth0 "$2" & PIDS+=($!)
  wait_for 5 test -e "$2.ready" || fail "receiver in $1 did not start"
}
stop_recv() { # OUT...
  local f
  for f in "$@"; do touch "$f.stop"; done
  for f in "$@"; do wait_for 5 test -s "$f" || fail "receiver $f did not finish"; done
}
frames() { python3 -c "import json; d = json.load(open('$1')); print(d['$2'].get('$3', 0))"; }
round=0
recv_all() { # start receivers on the four hosts for one round
  round=$((round + 1))
  for h in reda redb bluea blueb; do
    rm -f "$WORK/$h.json"*
    start_recv $T-$h "$WORK/$h.json"
  done
}
stop_all() { stop_recv "$WORK"/{reda,redb,bluea,blueb}.json; }

# ---- 10^5 frames of each tenant at once, a -> b ----
recv_all
t0=$SECONDS
ip netns exec $T-reda $PY send eth0 $RED_MAC_B $RED_MAC_A RED! $N $RATE > "$WORK/send-red" &
sr=$!
ip netns exec $T-bluea $PY send eth0 $BLUE_MAC_B $BLUE_MAC_A BLUE $N $RATE > "$WORK/send-blue" &
sb=$!
wait $sr || fail "red sender failed"
wait $sb || fail "blue sender failed"
# Frames the kernel dropped at a's ingress because switch a's receive queue was full (the two
# senders and two switches share 2 cores; a busy machine can starve switch a for a while).
queue_drops() { counter a "$1" drop_queue_full; }
# Until every frame is delivered at b or counted as dropped (or 10 s), then a moment for
# anything late or leaked.
got() {
  [ $(($(counter b 1 tx_frames) + $(queue_drops 1))) -ge $N ] \
    && [ $(($(counter b 2 tx_frames) + $(queue_drops 2))) -ge $N ]
}
wait_for 10 got || true
sleep 0.5
stop_all
red_rx=$(frames "$WORK/redb.json" unique RED!); blue_rx=$(frames "$WORK/blueb.json" unique BLUE)
echo "sent red $N, blue $N in $((SECONDS - t0)) s ($(cat "$WORK/send-red") / $(cat "$WORK/send-blue"));" \
  "received red $red_rx at red b, blue $blue_rx at blue b;" \
  "VTEP a encapsulated $(counter a 3 encapsulated), VTEP b decapsulated $(counter b 3 decapsulated)"
for h in reda redb bluea blueb; do echo "  $h: $(cat "$WORK/$h.json")"; done
[ "$(frames "$WORK/blueb.json" frames RED!)" = 0 ] || fail "red frames reached blue's host on b"
[ "$(frames "$WORK/bluea.json" frames RED!)" = 0 ] || fail "red frames reached blue's host on a"
[ "$(frames "$WORK/redb.json" frames BLUE)" = 0 ] || fail "blue frames reached red's host on b"
[ "$(frames "$WORK/reda.json" frames BLUE)" = 0 ] || fail "blue frames reached red's host on a"
pass "no frame of one tenant reached the other tenant's hosts"
# Every frame is delivered once, or was counted as dropped where it was lost: a loss nobody
# counted fails.
red_q=$(queue_drops 1) blue_q=$(queue_drops 2)
echo "dropped at a's ingress (receive queue full): red $red_q, blue $blue_q"
[ $((red_rx + red_q)) = $N ] || fail "red b received $red_rx of $N red frames, $red_q counted as dropped"
[ $((blue_rx + blue_q)) = $N ] \
  || fail "blue b received $blue_rx of $N blue frames, $blue_q counted as dropped"
[ "$(frames "$WORK/redb.json" frames RED!)" = "$red_rx" ] || fail "red frames duplicated"
[ "$(frames "$WORK/blueb.json" frames BLUE)" = "$blue_rx" ] || fail "blue frames duplicated"
pass "each tenant's $N frames were received once each, or counted as dropped at the ingress queue"

# ---- malformed datagrams from the underlay (the injector at .9) -> b ----
M=200
recv_all
declare -A BEFORE
for k in drop_no_i_flag drop_unknown_vni drop_truncated drop_inner_truncated drop_inner_tagged decapsulated; do
  BEFORE[$k]=$(counter b 3 $k)
done
inj() { ip netns exec $T-u $PY inject 192.168.91.9 ${UL[b]} "$@"; }
inj noflag 5010 ff:ff:ff:ff:ff:ff 02:00:00:00:ee:01 EVIL $M
inj good 7777 ff:ff:ff:ff:ff:ff 02:00:00:00:ee:01 EVIL $M
inj short 5010 ff:ff:ff:ff:ff:ff 02:00:00:00:ee:01 EVIL $M
inj inner_short 5010 ff:ff:ff:ff:ff:ff 02:00:00:00:ee:01 EVIL $M
# Red's VNI carrying a frame tagged with blue's VLAN 20: VLAN hopping if it were kept.
inj inner_tagged 5010 ff:ff:ff:ff:ff:ff 02:00:00:00:ee:01 EVIL $M
inj reserved 5010 $RED_MAC_B 02:00:00:00:ee:02 RSVD $M
delta() { echo $(($(counter b 3 $1) - ${BEFORE[$1]})); }
all_counted() {
  [ "$(delta drop_no_i_flag)" -ge $M ] && [ "$(delta drop_unknown_vni)" -ge $M ] \
    && [ "$(delta drop_truncated)" -ge $M ] && [ "$(delta drop_inner_truncated)" -ge $M ] \
    && [ "$(delta drop_inner_tagged)" -ge $M ] && [ "$(delta decapsulated)" -ge $M ]
}
wait_for 10 all_counted || true
sleep 0.3
stop_all
echo "b's VXLAN port after $M of each: no_i_flag +$(delta drop_no_i_flag), unknown_vni +$(delta drop_unknown_vni)," \
  "truncated +$(delta drop_truncated), inner_truncated +$(delta drop_inner_truncated)," \
  "inner_tagged +$(delta drop_inner_tagged), decapsulated +$(delta decapsulated)"
for k in drop_no_i_flag drop_unknown_vni drop_truncated drop_inner_truncated drop_inner_tagged; do
  [ "$(delta $k)" = $M ] || fail "$k counted $(delta $k), expected $M"
done
for h in reda redb bluea blueb; do
  [ "$(frames "$WORK/$h.json" frames EVIL)" = 0 ] || fail "a malformed datagram reached $h: $(cat "$WORK/$h.json")"
done
pass "I flag clear, unknown VNI, short payload, truncated inner frame, inner tag: $M each, counted under their reason, delivered to no host"
[ "$(delta decapsulated)" = $M ] || fail "reserved bits: $(delta decapsulated) of $M decapsulated"
[ "$(frames "$WORK/redb.json" unique RSVD)" = $M ] || fail "reserved bits: red b got $(frames "$WORK/redb.json" unique RSVD) of $M"
for h in reda bluea blueb; do
  [ "$(frames "$WORK/$h.json" frames RSVD)" = 0 ] || fail "a frame with reserved bits set reached $h"
done
pass "reserved bits set are ignored (RFC 7348 §5): all $M delivered to red's host on b, to no other"

# ---- a MAC moving between VTEPs: red a's MAC appears behind the injector (.9) ----
recv_all
rm -f "$WORK/inj.json"*
ip netns exec $T-u $PY listen 192.168.91.9 "$WORK/inj.json" & PIDS+=($!)
wait_for 5 test -e "$WORK/inj.json.ready" || fail "underlay listener did not start"
moved0=$(counter b 3 moved)
inj good 5010 ff:ff:ff:ff:ff:ff $RED_MAC_A MOVE 1
wait_for 5 test "$(counter b 3 moved)" -gt "$moved0" || fail "b did not relearn red a's MAC at the injector"
# The first frame toward it from red b goes to the injector, and only there; blue's same MAC
# (another VNI) stays at a.
ip netns exec $T-redb $PY send eth0 $RED_MAC_A $RED_MAC_B PROB 1 1000 >/dev/null
ip netns exec $T-blueb $PY send eth0 $BLUE_MAC_A $BLUE_MAC_B PROB 1 1000 >/dev/null
injected() { python3 -c "import json; print(json.load(open('$WORK/inj.json')).get('$1', 0))"; }
sleep 0.5
touch "$WORK/inj.json.stop"; wait_for 5 test -s "$WORK/inj.json" || fail "listener did not finish"
# Then back: red a's next frame relearns it at a, and red b's next frame goes there.
moved1=$(counter b 3 moved)
ip netns exec $T-reda $PY send eth0 $RED_MAC_B $RED_MAC_A BACK 1 1000 >/dev/null
wait_for 5 test "$(counter b 3 moved)" -gt "$moved1" || fail "b did not relearn red a's MAC back at a"
ip netns exec $T-redb $PY send eth0 $RED_MAC_A $RED_MAC_B PRB2 1 1000 >/dev/null
sleep 0.5
stop_all
echo "moved: $moved0 -> $moved1 -> $(counter b 3 moved); injector got: $(cat "$WORK/inj.json")"
[ "$(injected "5010 $RED_MAC_A")" = 1 ] || fail "red b's first frame to the moved MAC did not reach the injector"
[ "$(injected "5020 $BLUE_MAC_A")" = 0 ] || fail "blue's same MAC followed red's move"
[ "$(frames "$WORK/reda.json" frames PROB)" = 0 ] || fail "red b's frame still went to a after the move"
[ "$(frames "$WORK/bluea.json" frames PROB)" = 1 ] || fail "blue b's frame did not reach blue a"
[ "$(frames "$WORK/redb.json" frames MOVE)" = 1 ] || fail "the moving MAC's broadcast did not reach red b"
[ "$(frames "$WORK/blueb.json" frames MOVE)" = 0 ] || fail "red's broadcast reached blue b"
[ "$(frames "$WORK/reda.json" frames PRB2)" = 1 ] || fail "after moving back, red b's first frame did not reach red a"
pass "a MAC moving to another VTEP is relearned with its first frame, in its tenant's VNI only, and back"
echo "7 passed, 0 failed"
