#!/usr/bin/env bash
# vrrp_strict / no_accept (RFC 5798 Accept_Mode False): the master that is not the address owner
# holds the VIP (hosts resolve it) but drops traffic addressed to it, through an nftables table;
# a SIGHUP reload with `accept` lifts the drop, and SIGTERM leaves no table behind.
. "$(dirname "$0")/lib.sh"
ns_add $T-sw
plug r1 02:00:00:00:69:01 10.69.0.1/24
plug h 02:00:00:00:69:10 10.69.0.10/24
start_switch $T-sw "$WORK/mgmt" --port 1=afpacket:sr1 --port 2=afpacket:sh
conf() { # global_defs body, instance extra line
  cat > "$WORK/k.conf" <<CONF
global_defs {
  $1
}
vrrp_instance VI_S {
  state MASTER
  interface eth0
  virtual_router_id 69
  priority 150
  advert_int 1
  authentication {
    auth_type PASS
    auth_pass secret
  }
  virtual_ipaddress {
    10.69.0.254/24
  }
  $2
}
CONF
}
conf vrrp_strict ""
ip netns exec $T-r1 "$VNET" vrrp -f "$WORK/k.conf" -M "$WORK/r1.sock" -p "$WORK/r1.pid" \
  --log "$WORK/r1.log" -d 2> "$WORK/start.err"
wait_for 5 test -s "$WORK/r1.pid" || fail "vnet vrrp did not start: $(cat "$WORK/r1.log")"
PIDS+=("$(cat "$WORK/r1.pid")")
grep -q "k.conf:4: VI_S: Strict mode does not support authentication. Ignoring." "$WORK/start.err" \
  || fail "no strict-mode warning about authentication: $(cat "$WORK/start.err")"
grep -q "State MASTER must match being address owner" "$WORK/start.err" || fail "no state warning"
state() { "$VNET" ctl "$WORK/r1.sock" vrrp/show --json | jq -r '.[0].state'; }
is_master() { [ "$(state)" = MASTER ]; }
wait_for 6 is_master || fail "r1 not MASTER: $(state)"
wait_for 2 contains 10.69.0.254 ip -n $T-r1 addr show eth0 || fail "VIP not added"
wait_for 2 contains "ip daddr 10.69.0.254 drop" ip netns exec $T-r1 nft list table inet vnet_vrrp ||
  fail "no drop rule for the VIP: $(ip netns exec $T-r1 nft list ruleset)"
unreach $T-h 10.69.0.254 || fail "VIP answers pings under vrrp_strict (no_accept)"
contains 02:00:00:00:69:01 ip -n $T-h neigh show 10.69.0.254 || fail "host did not resolve the VIP"
reach $T-h 10.69.0.1 || fail "router's own address unreachable"
pass "strict: warnings as keepalived, VIP held and resolvable but dropped (no_accept)"

conf "" accept
kill -HUP "$(cat "$WORK/r1.pid")"
wait_for 5 sh -c "! ip netns exec $T-r1 nft list table inet vnet_vrrp" \
  || fail "drop table still there after reload with accept"
wait_for 6 is_master || fail "r1 not MASTER after reload: $(state)"
reach $T-h 10.69.0.254 || fail "VIP does not answer with accept"
pass "reload with accept: the drop is lifted, the VIP answers"

conf "" no_accept
kill -HUP "$(cat "$WORK/r1.pid")"
wait_for 8 contains 10.69.0.254 ip netns exec $T-r1 nft list table inet vnet_vrrp \
  || fail "no_accept did not install the drop"
kill "$(cat "$WORK/r1.pid")"
wait_for 5 sh -c "! ip netns exec $T-r1 nft list table inet vnet_vrrp" || fail "table left after SIGTERM"
pass "no_accept without strict drops too; SIGTERM removes the table"
echo "1 passed, 0 failed"
