#!/usr/bin/env bash
# keepalived's default scheduler, wlc, with lb_kind DR on the nftables datapath: the director sees
# only the client's side of each connection (the real servers answer the client directly), so
# the datapath logs each flow's SYN, FIN, RST and first ACK to the daemon (nfnetlink_log), which
# steps it through IPVS's input-only TCP states and counts it active while ESTABLISHED; each flow
# keeps the real server its first segment went to. The segment of lb_dr_common.bash: client, director
# and three real servers on one bridge, the real servers holding the VIP on lo with
# arp_ignore=1 / arp_announce=2 and serving `python3 -m http.server` on port 80.
# Only r1 is up at first (`alpha`: the others wait for their TCP_CHECK), and the client holds 6
# idle connections open to it: lb/show must count 6 active on r1. Then r2 and r3 come up: with
# r1 at 6 active connections (overhead 6 × 256), the next 12 short requests must all go to r2
# and r3 (6/6 ± 2), none to r1 — the held connections must keep working on r1. Closing them
# empties the active counts, and the next request goes where wlc's formula says. A real server
# added without a reachable MAC is never picked. Stopping the daemon removes the netdev table.
. "$(dirname "$0")/lib.sh"
command -v jq >/dev/null || { echo "SKIP: needs jq"; exit 77; }
. "$(dirname "$0")/lb_dr_common.bash"
{
  cat <<CONF
virtual_server $VIP 80 {
  delay_loop 1
  lb_kind DR
  protocol TCP
  alpha
CONF
  dr_reals_conf
  echo "}"
} > "$WORK/k.conf"
. "$(dirname "$0")/lb_helpers.bash"
start_real 1
start_daemon
wait_for 6 in_table 1 || fail "r1 not in the table: $(show)"
in_table 2 && fail "r2 in the table before it runs: $(show)"
wait_for 6 contains "10.82.0.100 : 02:00:00:00:85:01" dr_table ||
  fail "the pick map does not hold r1's MAC: $(dr_table); $(cat "$WORK/d.log")"
contains "log group 5798" dr_table || fail "no logged segments in the DR table: $(dr_table)"

# Six held connections (an idle HTTP connection: http.server waits for its request line); each
# sends its request when $WORK/go appears and keeps the answer.
HELD=()
for k in 1 2 3 4 5 6; do
  ip netns exec $C bash -c "exec 3<>/dev/tcp/$VIP/80 || exit 1
    while [ ! -e '$WORK/go' ]; do sleep 0.1; done
    printf 'GET /who HTTP/1.0\r\n\r\n' >&3
    timeout 5 cat <&3 > '$WORK/held$k'" &
  HELD+=("$!")
  PIDS+=("$!")
done
held_on() {  # held_on I: established connections from the client r$I's server holds
  ip netns exec $T-r$1 ss -Htn state established "( sport = :80 )" dst 10.82.0.2 | grep -c . || true
}
wait_for 5 eval '[ "$(held_on 1)" = 6 ]' || fail "r1 holds $(held_on 1) of 6 connections"
active_on() { show | jq -r ".[0].reals[$(($1 - 1))].active_conns"; }
wait_for 5 eval '[ "$(active_on 1)" = 6 ]' ||
  fail "lb/show counts $(active_on 1) active connections on r1, 6 are open: $(show)"
pass "6 held connections through the DR director: lb/show counts 6 active on r1"

start_real 2
start_real 3
wait_for 6 all_in || fail "r2/r3 not added: $(show)"
read -r a b c f <<<"$(spread 12)"
echo "DR wlc with r1 holding 6 connections: r1=$a r2=$b r3=$c failed=$f"
[ "$f" = 0 ] && [ "$a" = 0 ] && [ "$b" -ge 4 ] && [ "$c" -ge 4 ] ||
  fail "DR wlc spread $a/$b/$c failed $f (r1 should get none)"
pass "DR wlc: with r1 at 6 active connections, 12 new requests went to r2/r3 ($b/$c), none to r1"
# The flows map keeps IPVS's lifetimes: the 12 closed flows (FIN seen) expire within FIN_WAIT's
# 120 s, the 6 held ones after more than 800 s (ESTABLISHED's 900 s, kept across the rewrites
# that added r2 and r3).
flows_json=$(ip netns exec $D nft -j list map netdev vnet_lb_dr flows_tcp_10_82_0_100_80)
closing=$(jq '[.nftables[].map.elem? // [] | .[] | select(.[0].elem.expires <= 120)] | length' <<<"$flows_json")
open=$(jq '[.nftables[].map.elem? // [] | .[] | select(.[0].elem.expires > 800)] | length' <<<"$flows_json")
[ "$closing" = 12 ] && [ "$open" = 6 ] ||
  fail "flows map: $closing flows expire within 120 s (want the 12 closed), $open after 800 s (want the 6 held): $flows_json"
pass "flows map: the 12 closed flows expire within 120 s (FIN_WAIT), the 6 held ones after over 800 s (ESTABLISHED, kept across two rewrites)"

"$VNET" ctl "$M" lb/show

# The held connections ask now: each must still reach r1 (a flow keeps its real server whatever
# the pick is), and then closes (HTTP/1.0), so all three real servers hold only inactive
# connections (FIN_WAIT) and wlc picks the least inactive count, the first on a tie.
touch "$WORK/go"
for p in "${HELD[@]}"; do wait "$p" || true; done
for k in 1 2 3 4 5 6; do
  [ "$(tail -1 "$WORK/held$k" 2>/dev/null)" = r1 ] ||
    fail "held connection $k answered '$(tail -1 "$WORK/held$k" 2>/dev/null)', not r1"
done
pass "the 6 held connections, asking after the pick moved to r2/r3, were all answered by r1"
wait_for 5 eval '[ "$(held_on 1)" = 0 ]' || fail "held connections did not close"
wlc_follows_formula
pass "held connections closed (FIN seen): no active counted, the next request went to r$WLC_NEXT as wlc says"

# A real server whose MAC the director cannot learn (no such host: no checker to take it out)
# has no connections, so wlc's formula favours it — but the datapath cannot reach it: the pick
# must skip it, or every new connection would reach the director's own stack and be refused.
sed -i '$d' "$WORK/k.conf"
printf '  real_server 10.82.0.19 80 {\n  }\n}\n' >> "$WORK/k.conf"
kill -HUP "$DPID"
ghost_in() { [ "$(show | jq -r '.[0].reals[3].in_table')" = true ]; }
wait_for 5 ghost_in || fail "the added real server is not in the table: $(show)"
read -r a b c f <<<"$(spread 6)"
[ "$f" = 0 ] && [ $((a + b + c)) = 6 ] ||
  fail "with an unreachable real server in the table, $f of 6 requests failed ($a/$b/$c)"
pass "an unreachable DR real server (no MAC) is never picked: 6 requests served ($a/$b/$c)"

kill "$DPID"
wait_for 5 gone "$DPID" || fail "daemon did not stop"
! ip netns exec $D nft list table netdev vnet_lb_dr >/dev/null 2>&1 || fail "table netdev vnet_lb_dr left behind"
pass "daemon stopped: table netdev vnet_lb_dr removed"
