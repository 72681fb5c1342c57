#!/usr/bin/env bash
# lb_kind DR for a virtual_server_group scheduled by mh, on a kernel without ip_vs: the segment of
# lb_dr.sh (client, director and three real servers on one bridge; the real servers hold the VIPs
# on lo with arp_ignore=1 / arp_announce=2 and serve `python3 -m http.server` on port 80). One
# group of two VIPs, 10.82.0.100 and 10.82.0.101, port 80, is one service in
# `table netdev vnet_lb_dr` (a set of VIP . port) hashed by the client's address over the Maglev
# table. Asserts: 40 client addresses, 2 requests to each VIP: every client reaches one real
# server for both VIPs (one service, one table), and the clients spread over all three (each has
# at least 5; expected 13 ± 3 for a uniform hash). sh on 10.82.0.102 (weights 1:1:1): each of the
# 40 clients reaches one real server for 3 connections, and the clients spread over all three
# (at least 5 each). wrr 3:2:1 on 10.82.0.103: 180 connections from one client, counted from the
# real servers' logs, spread by the weights — DR hashes each flow over one wrr period, so the
# spread is statistical: expected 90/60/30, asserted within 4 standard deviations (r1 ≥ 63,
# r3 ≤ 50 exclude an unweighted 60/60/60). Stopping the daemon removes the netdev table.
. "$(dirname "$0")/lib.sh"
DR_VIPS="10.82.0.100 10.82.0.101 10.82.0.102 10.82.0.103"
. "$(dirname "$0")/lb_dr_common.bash"
for k in $(seq 20 59); do ip -n $C addr add 10.82.0.$k/24 dev eth0; done
for i in 1 2 3; do start_real $i; done
{
  cat <<CONF
virtual_server_group drg {
  10.82.0.100-101 80
}
virtual_server group drg {
  delay_loop 1
  lvs_sched mh
  lb_kind DR
  protocol TCP
CONF
  dr_reals_conf
  echo "}"
  printf 'virtual_server 10.82.0.102 80 {\n  delay_loop 1\n  lvs_sched sh\n  lb_kind DR\n  protocol TCP\n'
  dr_reals_conf
  echo "}"
  printf 'virtual_server 10.82.0.103 80 {\n  delay_loop 1\n  lvs_sched wrr\n  lb_kind DR\n  protocol TCP\n'
  for i in 1 2 3; do
    printf '  real_server 10.82.0.1%s 80 {\n    weight %s\n    TCP_CHECK {\n      connect_timeout 1\n    }\n  }\n' "$i" $((4 - i))
  done
  echo "}"
} > "$WORK/k.conf"
. "$(dirname "$0")/lb_helpers.bash"
macs_in() { [ "$(dr_table | grep -o '02:00:00:00:85:0[1-3]' | sort -u | wc -l)" = "$1" ]; }
start_daemon
all_tabled() { [ "$(show | jq '[.[].reals[].in_table] | all and length == 9')" = true ]; }
wait_for 8 all_tabled || fail "real servers not in the table: $(show)"
wait_for 8 macs_in 3 || fail "the DR table does not hold the three MACs: $(dr_table); $(cat "$WORK/d.log")"
dr_table > "$WORK/ruleset"
grep -q "10.82.0.100/31 . 80" "$WORK/ruleset" && grep -q "jhash ip saddr mod 4093" "$WORK/ruleset" ||
  fail "no group set (nft lists the range as 10.82.0.100/31) or mh table: $(head -c 2000 "$WORK/ruleset")"

sticky "DR group mh" 10.82.0 20 59 10.82.0.100 10.82.0.101 10.82.0.100 10.82.0.101
pass "DR group (2 VIPs) with mh: 40 clients each kept one real server over both VIPs, spread $STICKY"
# sh: the client's address alone picks the bucket.
sticky "DR sh" 10.82.0 20 59 10.82.0.102 10.82.0.102 10.82.0.102
pass "DR sh: 40 clients each kept one real server for 3 connections, spread $STICKY"

# wrr 3:2:1, counted from the servers' logs (the request path marks this service's requests).
for _ in $(seq 180); do ip netns exec $C curl -s --max-time 2 -o /dev/null "http://10.82.0.103/who?wrr" || true; done
n=()
for i in 1 2 3; do n[$i]=$(grep -c 'GET /who?wrr ' "$WORK/http$i.log" || true); done
echo "DR wrr 3:2:1: 180 connections, servers' logs r1=${n[1]} r2=${n[2]} r3=${n[3]}"
[ $((n[1] + n[2] + n[3])) = 180 ] || fail "wrr: $((n[1] + n[2] + n[3])) of 180 requests served"
[ "${n[1]}" -ge 63 ] && [ "${n[1]}" -le 117 ] && [ "${n[2]}" -ge 35 ] && [ "${n[2]}" -le 85 ] &&
  [ "${n[3]}" -ge 10 ] && [ "${n[3]}" -le 50 ] ||
  fail "wrr 3:2:1 spread ${n[1]}/${n[2]}/${n[3]}, expected 90/60/30 within 4 standard deviations"
pass "DR wrr 3:2:1: 180 connections spread ${n[1]}/${n[2]}/${n[3]} by the servers' logs (expected 90/60/30)"

kill "$DPID"
wait_for 5 gone "$DPID" || fail "daemon did not stop"
! ip netns exec $D nft list table netdev vnet_lb_dr >/dev/null 2>&1 || fail "table netdev vnet_lb_dr left behind"
pass "daemon stopped: table netdev vnet_lb_dr removed"
