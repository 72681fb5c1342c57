#!/usr/bin/env bash
# vnet vrrp on its own: two instances on one router; track_interface with weight 0 puts an
# instance in FAULT (VIP removed) and back; notify_master runs; SIGHUP applies a changed
# priority in place while the unchanged instance keeps running; a second SIGHUP gives the
# running MASTER a new notify_master and a tracked interface without a transition, and the new
# script runs at its next takeover; a broken file is refused; SIGTERM removes every VIP.
. "$(dirname "$0")/lib.sh"
ns_add $T-sw
ns_add $T-r1
for i in 0 1; do
  ip -n $T-sw link add s$i type veth peer name eth$i netns $T-r1
  ip -n $T-sw link set s$i up
done
host_cfg $T-r1 eth0 02:00:00:00:66:01 10.66.0.1/24
host_cfg $T-r1 eth1 02:00:00:00:66:02 10.67.0.1/24
start_switch $T-sw "$WORK/mgmt" --port 1=afpacket:s0 --port 2=afpacket:s1
conf() { # VI_2 priority, VI_1 notify_master file, VI_1 extra lines
  cat > "$WORK/k.conf" <<CONF
global_defs {
  vrrp_version 3
}
vrrp_instance VI_1 {
  interface eth0
  virtual_router_id 1
  priority 100
  advert_int 0.1
  virtual_ipaddress {
    10.66.0.254/24
  }
  notify_master "touch $WORK/${2:-VI_1.master}"
${3:-}
}
vrrp_instance VI_2 {
  interface eth0
  virtual_router_id 2
  priority $1
  advert_int 0.1
  virtual_ipaddress {
    10.66.0.253/24
  }
  track_interface {
    eth1
  }
}
CONF
}
conf 100
ip netns exec $T-r1 "$VNET" vrrp -f "$WORK/k.conf" -M "$WORK/vrrp.sock" -p "$WORK/vrrp.pid" --log "$WORK/vrrp.log" -d
wait_for 5 test -s "$WORK/vrrp.pid" || fail "vnet vrrp did not start: $(cat "$WORK/vrrp.log")"
PIDS+=("$(cat "$WORK/vrrp.pid")")
show() { "$VNET" ctl "$WORK/vrrp.sock" vrrp/show --json; }
state() { show | jq -r ".[] | select(.name == \"$1\") | .state"; }
has() { local a; a=$(ip -n $T-r1 addr show eth0); [[ $a == *"$1/"* ]]; }
wait_for 5 sh -c "[ \"\$('$VNET' ctl '$WORK/vrrp.sock' vrrp/show --json | jq -r '[.[].state] | join(\",\")')\" = MASTER,MASTER ]" \
  || fail "not both MASTER: $(show | jq -c '[.[] | {name, state}]')"
has 10.66.0.254 && has 10.66.0.253 || fail "VIPs missing"
wait_for 5 test -e "$WORK/VI_1.master" || fail "notify_master did not run"
pass "two instances MASTER, VIPs added, notify_master ran"

ip -n $T-sw link set s1 down  # carrier loss on the tracked interface
wait_for 5 sh -c "[ \"\$('$VNET' ctl '$WORK/vrrp.sock' vrrp/show VI_2 --json | jq -r '.[0].state')\" = FAULT ]" \
  || fail "VI_2 not in FAULT after eth1 went down: $(state VI_2)"
! has 10.66.0.253 || fail "VI_2's VIP still present in FAULT"
[ "$(state VI_1)" = MASTER ] || fail "VI_1 affected by VI_2's tracked interface"
ip -n $T-sw link set s1 up
wait_for 5 sh -c "[ \"\$('$VNET' ctl '$WORK/vrrp.sock' vrrp/show VI_2 --json | jq -r '.[0].state')\" = MASTER ]" \
  || fail "VI_2 did not recover: $(state VI_2)"
pass "track_interface: FAULT on carrier loss, back to MASTER after"

before=$(show | jq '.[] | select(.name == "VI_1") | .counters.adverts_sent')
conf 120
kill -HUP "$(cat "$WORK/vrrp.pid")"
wait_for 5 sh -c "[ \"\$('$VNET' ctl '$WORK/vrrp.sock' vrrp/show VI_2 --json | jq -r '.[0].priority')\" = 120 ]" \
  || fail "VI_2 not reloaded with priority 120: $(show | jq -c .)"
after=$(show | jq '.[] | select(.name == "VI_1") | .counters')
[ "$(echo "$after" | jq .became_master)" = 1 ] || fail "VI_1 was restarted by the reload: $after"
# It keeps advertising (every 0.1 s): polled, since the reload may land within one interval.
sent_more() { [ "$(show | jq '.[] | select(.name == "VI_1") | .counters.adverts_sent')" -gt "$before" ]; }
wait_for 2 sent_more || fail "VI_1 stopped advertising"
pass "SIGHUP: the changed priority applies in place, the unchanged instance keeps running"

conf 120 VI_1.master2 "  track_interface {
    eth1
  }"
kill -HUP "$(cat "$WORK/vrrp.pid")"
wait_for 5 grep -q "reloaded: 2 instances kept, 0 stopped, 0 started" "$WORK/vrrp.log" \
  || fail "second reload not logged: $(tail -5 "$WORK/vrrp.log")"
[ "$(state VI_1)" = MASTER ] || fail "VI_1 left MASTER on a notify/track change: $(state VI_1)"
[ "$(show | jq '.[] | select(.name == "VI_1") | .counters.became_master')" = 1 ] \
  || fail "VI_1 restarted by the notify/track change"
[ ! -e "$WORK/VI_1.master2" ] || fail "the new notify_master ran without a transition"
rm -f "$WORK/VI_1.master"
ip -n $T-sw link set s1 down  # VI_1 now tracks eth1: FAULT, then MASTER again once it is back
wait_for 5 sh -c "[ \"\$('$VNET' ctl '$WORK/vrrp.sock' vrrp/show VI_1 --json | jq -r '.[0].state')\" = FAULT ]" \
  || fail "VI_1 does not track eth1 after the reload: $(state VI_1)"
ip -n $T-sw link set s1 up
wait_for 5 test -e "$WORK/VI_1.master2" || fail "the reloaded notify_master did not run at takeover"
[ ! -e "$WORK/VI_1.master" ] || fail "the old notify_master ran too"
pass "SIGHUP: new notify_master and track_interface apply to the running MASTER; the new script runs at its next takeover"

echo "vrrp_instance VI_1 { priority two" > "$WORK/k.conf"
kill -HUP "$(cat "$WORK/vrrp.pid")"
wait_for 5 grep -q "reload refused, keeping the running configuration" "$WORK/vrrp.log" \
  || fail "broken file not refused: $(tail -5 "$WORK/vrrp.log")"
[ "$(show | jq -r '[.[].state] | join(",")')" = MASTER,MASTER ] || fail "broken reload changed states"
pass "SIGHUP with a broken file keeps the running configuration"

kill "$(cat "$WORK/vrrp.pid")"
wait_for 5 sh -c "! ip -n $T-r1 addr show eth0 | grep -c 10.66.0.25 >/dev/null" || fail "VIPs left after SIGTERM"
pass "SIGTERM removes every VIP"
echo "1 passed, 0 failed"
