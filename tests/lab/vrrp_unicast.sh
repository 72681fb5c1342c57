#!/usr/bin/env bash
# Unicast VRRP (unicast_src_ip / unicast_peer, as in clouds without multicast): two vnet vrrp
# routers elect one master, adverts go to the peer only (a third host on the switch sees none),
# and the backup takes over when the master is killed.
. "$(dirname "$0")/lib.sh"
ns_add $T-sw
plug r1 02:00:00:00:72:01 10.72.0.1/24
plug r2 02:00:00:00:72:02 10.72.0.2/24
plug c 02:00:00:00:72:10 10.72.0.10/24
start_switch $T-sw "$WORK/mgmt" --port 1=afpacket:sr1 --port 2=afpacket:sr2 --port 3=afpacket:sc
for n in 1 2; do
  cat > "$WORK/r$n.conf" <<CONF
vrrp_instance VI_U {
  interface eth0
  virtual_router_id 72
  priority $((n == 1 ? 150 : 100))
  version 3
  advert_int 0.1
  unicast_src_ip 10.72.0.$n
  unicast_peer {
    10.72.0.$((3 - n))
  }
  virtual_ipaddress {
    10.72.0.254/24
  }
}
CONF
  ip netns exec $T-r$n "$VNET" vrrp -f "$WORK/r$n.conf" -M "$WORK/r$n.sock" -p "$WORK/r$n.pid" \
    --log "$WORK/r$n.log" -d
  wait_for 5 test -s "$WORK/r$n.pid" || fail "vnet vrrp r$n did not start: $(cat "$WORK/r$n.log")"
  PIDS+=("$(cat "$WORK/r$n.pid")")
done
state() { "$VNET" ctl "$WORK/$1.sock" vrrp/show --json | jq -r '.[0].state'; }
is_state() { [ "$(state "$1")" = "$2" ]; }
wait_for 5 is_state r1 MASTER || fail "r1 not MASTER: $(state r1)"
wait_for 5 is_state r2 BACKUP || fail "r2 not BACKUP: $(state r2)"
rx() { "$VNET" ctl "$WORK/$1.sock" vrrp/show --json | jq '.[0].counters.adverts_received'; }
# Count VRRP packets arriving at the bystander's interface (netdev ingress, before any group
# membership filtering).
ip netns exec $T-c nft -f - <<'NFT'
table netdev probe {
  chain in { type filter hook ingress device eth0 priority 0; ip protocol vrrp counter; }
}
NFT
vrrp_at_c() { ip netns exec $T-c nft list chain netdev probe in | sed -n 's/.*counter packets \([0-9]*\).*/\1/p'; }
a0=$(rx r2) c0=$(vrrp_at_c)
sleep 1
a1=$(rx r2) c1=$(vrrp_at_c)
[ $((a1 - a0)) -ge 7 ] || fail "r2 received $((a1 - a0)) adverts in 1 s at advert_int 0.1"
[ "$c1" = "$c0" ] || fail "host c saw $((c1 - c0)) VRRP packets: adverts are not unicast"
contains 10.72.0.254 ip -n $T-r1 addr show eth0 || fail "VIP not on r1"
pass "unicast: one master, the peer hears every advert, a bystander none"
kill -9 "$(cat "$WORK/r1.pid")"
wait_for 3 is_state r2 MASTER || fail "r2 did not take over: $(state r2)"
wait_for 2 contains 10.72.0.254 ip -n $T-r2 addr show eth0 || fail "VIP not on r2"
reach $T-c 10.72.0.254 || fail "VIP unreachable after takeover"
pass "unicast: the backup takes over when the master dies"
echo "1 passed, 0 failed"
