#!/usr/bin/env bash
# keepalived's default scheduler, wlc, on the nftables datapath: connection counts followed from
# connection tracking (ctnetlink events) choose the real server of each new connection, as IPVS
# wlc would. Only r1 is up at first (`alpha`: the others wait for their TCP_CHECK), and the
# client holds 6 idle connections open to it. Then r2 and r3 come up: with r1 at 6 active
# connections (overhead 6 × 256), the next 12 short requests must all go to r2 and r3 (split
# 6/6 ± 2), none to r1 — rr would have sent r1 a third. Closing the held connections brings
# r1 back into the rotation. Stopping the daemon removes the table.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lb_common.bash"
cat > "$WORK/k.conf" <<CONF
virtual_server 10.80.0.100 80 {
  delay_loop 1
  lb_kind NAT
  protocol TCP
  alpha
CONF
for i in 1 2 3; do
  cat >> "$WORK/k.conf" <<CONF
  real_server 10.81.$i.2 8000 {
    weight 1
    TCP_CHECK {
      connect_timeout 1
    }
  }
CONF
done
echo "}" >> "$WORK/k.conf"
# The director owns the VIP (a VRRP half is not needed here).
ip -n $D addr add 10.80.0.100/32 dev lo
start_real 1
start_daemon
wait_for 6 in_table 1 || fail "r1 not in the table: $(show)"
in_table 2 && fail "r2 in the table before it runs: $(show)"
ip netns exec $D nft list table ip vnet_lb | grep -q "map @pick_tcp_10_80_0_100_80" ||
  fail "no wlc pick map: $(ip netns exec $D nft list table ip vnet_lb)"

# Six held connections (an idle HTTP connection: http.server waits for its request line).
HELD=()
for k in 1 2 3 4 5 6; do
  ip netns exec $C bash -c 'exec 3<>/dev/tcp/10.80.0.100/80; sleep 600' &
  HELD+=("$!")
  PIDS+=("$!")
done
established_on() {  # established_on I: established connections r$I's server holds
  ip netns exec $T-r$1 ss -Htn state established "( sport = :8000 )" | grep -c . || true
}
wait_for 5 eval '[ "$(established_on 1)" = 6 ]' || fail "r1 holds $(established_on 1) of 6 connections"
start_real 2
start_real 3
wait_for 6 all_in || fail "r2/r3 not added: $(show)"
read -r a b c f <<<"$(spread 12)"
echo "wlc with r1 holding 6 connections: r1=$a r2=$b r3=$c failed=$f"
[ "$f" = 0 ] && [ "$a" = 0 ] && [ "$b" -ge 4 ] && [ "$c" -ge 4 ] ||
  fail "wlc spread $a/$b/$c failed $f (r1 should get none)"
pass "wlc: with r1 at 6 active connections, 12 new requests went to r2/r3 ($b/$c), none to r1"

# lb/show gives the counts conntrack gives: r1 6 active.
act=$(show | jq -r '.[0].reals[0].active_conns')
[ "$act" = 6 ] || fail "lb/show says r1 has $act active connections, 6 are open: $(show)"
"$VNET" ctl "$M" lb/show

# The held connections close: all three real servers hold only inactive connections now
# (FIN_WAIT/TIME_WAIT), so wlc picks the least inactive count, the first on a tie — whatever the
# counts are, the next request must go where IPVS's formula says.
for p in "${HELD[@]}"; do kill "$p" 2>/dev/null || true; done
wait_for 5 eval '[ "$(established_on 1)" = 0 ]' || fail "held connections did not close"
wlc_follows_formula
pass "held connections closed: the next request went to r$WLC_NEXT, as wlc's formula says"

kill "$DPID"
wait_for 5 gone "$DPID" || fail "daemon did not stop"
! ip netns exec $D nft list table ip vnet_lb >/dev/null 2>&1 || fail "table ip vnet_lb left behind"
pass "daemon stopped: table ip vnet_lb removed"
