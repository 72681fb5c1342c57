#!/usr/bin/env bash
# use_vmac: two vnet vrrp routers on a vnet switch with a host. The master's VIP lives on the
# macvlan vrrp.51 with the RFC 5798 virtual MAC 00:00:5e:00:01:33; the host resolves the VIP to
# that MAC and the switch learns it on the master's port. After the master crashes, the backup
# takes over the same MAC: the switch learns it on the backup's port, the host's ARP entry is
# unchanged and the VIP still answers. A clean stop deletes the macvlan.
. "$(dirname "$0")/lib.sh"
VMAC=00:00:5e:00:01:33
ns_add $T-sw
plug r1 02:00:00:00:68:01 10.68.0.1/24
plug r2 02:00:00:00:68:02 10.68.0.2/24
plug h 02:00:00:00:68:10 10.68.0.10/24
start_switch $T-sw "$WORK/mgmt" --port 1=afpacket:sr1 --port 2=afpacket:sr2 --port 3=afpacket:sh

for n in r1 r2; do
  prio=$([ $n = r1 ] && echo 200 || echo 100)
  cat > "$WORK/$n.conf" <<CONF
vrrp_instance VI_VMAC {
  interface eth0
  virtual_router_id 51
  priority $prio
  version 3
  advert_int 0.1
  use_vmac
  virtual_ipaddress {
    10.68.0.254/24
  }
}
CONF
  ip netns exec $T-$n "$VNET" vrrp -f "$WORK/$n.conf" -M "$WORK/$n.sock" -p "$WORK/$n.pid" \
    --log "$WORK/$n.log" -d
  wait_for 5 test -s "$WORK/$n.pid" || fail "vnet vrrp in $n did not start: $(cat "$WORK/$n.log")"
  PIDS+=("$(cat "$WORK/$n.pid")")
done
state() { "$VNET" ctl "$WORK/$1.sock" vrrp/show --json | jq -r '.[0].state'; }
is_state() { [ "$(state "$1")" = "$2" ]; }
vmac_of() { ip -n "$T-$1" -j link show vrrp.51 | jq -r '.[0].address'; }
fdb_port() { "$VNET" ctl "$WORK/mgmt" fdb/show --json | jq -r ".[] | select(.mac == \"$VMAC\") | .port"; }
fdb_port_is() { [ "$(fdb_port)" = "$1" ]; }
neigh() { ip -n $T-h neigh show 10.68.0.254 | awk '{print $5}'; }

wait_for 5 is_state r1 MASTER || fail "r1 not MASTER: $(state r1)"
wait_for 5 is_state r2 BACKUP || fail "r2 not BACKUP: $(state r2)"
for n in r1 r2; do
  [ "$(vmac_of $n)" = $VMAC ] || fail "$n: vrrp.51 has MAC $(vmac_of $n), want $VMAC"
done
wait_for 2 contains "10.68.0.254/24" ip -n $T-r1 addr show vrrp.51 || fail "VIP not on r1's vrrp.51"
! contains 10.68.0.254 ip -n $T-r1 addr show eth0 || fail "VIP on r1's eth0 with use_vmac"
! contains 10.68.0.254 ip -n $T-r2 addr show || fail "VIP on the backup"
pass "both routers have macvlan vrrp.51 with $VMAC; the VIP is on the master's"

reach $T-h 10.68.0.254 || fail "host cannot reach the VIP"
[ "$(neigh)" = $VMAC ] || fail "host resolved the VIP to $(neigh), want $VMAC"
wait_for 3 fdb_port_is 1 || fail "switch has $VMAC on port '$(fdb_port)', want 1 (r1)"
pass "host resolves the VIP to the VMAC; the switch learned it on r1's port (adverts from the VMAC)"

kill -9 "$(cat "$WORK/r1.pid")"
ip -n $T-sw link set sr1 down  # the crashed router's link loses carrier
wait_for 5 is_state r2 MASTER || fail "r2 did not take over: $(state r2)"
wait_for 3 fdb_port_is 2 || fail "switch has $VMAC on port '$(fdb_port)' after takeover, want 2 (r2)"
[ "$(neigh)" = $VMAC ] || fail "host's ARP entry changed to $(neigh)"
reach $T-h 10.68.0.254 || fail "VIP unreachable after takeover"
wait_for 2 contains "10.68.0.254/24" ip -n $T-r2 addr show vrrp.51 || fail "VIP not on r2's vrrp.51"
pass "takeover: same MAC now on r2's port, host's ARP entry unchanged, VIP answers"

kill "$(cat "$WORK/r2.pid")"
wait_for 5 sh -c "! ip -n $T-r2 link show vrrp.51" || fail "vrrp.51 left on r2 after SIGTERM"
pass "SIGTERM deletes the macvlan"
echo "1 passed, 0 failed"
