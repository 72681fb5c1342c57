#!/usr/bin/env bash
# lb_kind DR on a kernel without ip_vs: a client, a director and three real servers on one L2
# segment (a Linux bridge in a namespace). The director holds the VIP 10.82.0.100 on eth0; the
# real servers hold it on lo with arp_ignore=1 / arp_announce=2 and serve `python3 -m http.server`
# on port 80 (/who = "rI"). `vnet vrrp` programs `table netdev vnet_lb_dr`: frames to VIP:80
# get the chosen real server's MAC (resolved from the director's neighbour table) and are sent
# back out of eth0; the real server answers the client directly.
# Asserts: the netdev table holds the three real servers' MACs; 60 requests (rr, a hash of
# client address and port per flow) reach all three, each at least 8 times by the servers' logs
# (expected 20 each; P(any < 8) < 0.1 % for a uniform hash); every reply reaches the client with a
# real server's source MAC and none passes through the director (ingress counters on both);
# lb/show counts each real server's in packets (more than its requests), their sum is the request
# packets the director's ingress saw, also after the table's rewrites (conns null, out 0); a
# killed real server leaves the table within its TCP_CHECK bound and the next 30 requests avoid
# it; restarted, it is re-added and serves; persistence_timeout keeps one client on one real
# server across 20 connections; a real server that is not on-link is refused at start with the
# reason; stopping the daemon removes the netdev table.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lb_dr_common.bash"
for i in 1 2 3; do start_real $i; done

# Counters: on the client, replies from VIP:80 by source MAC; on the director, frames from and to
# VIP:80, before vnet_lb_dr's ingress chain (priority 0) forwards them.
ip netns exec $C nft -f - <<NFT
table netdev seen {
  chain in {
    type filter hook ingress device "eth0" priority 0; policy accept;
    ip saddr $VIP tcp sport 80 ether saddr { 02:00:00:00:85:01, 02:00:00:00:85:02, 02:00:00:00:85:03 } counter name from_reals
    ip saddr $VIP tcp sport 80 ether saddr $DMAC counter name from_director
  }
  counter from_reals {}
  counter from_director {}
}
NFT
ip netns exec $D nft -f - <<NFT
table netdev seen {
  chain in {
    type filter hook ingress device "eth0" priority -10; policy accept;
    ip saddr $VIP tcp sport 80 counter name replies
    ip daddr $VIP tcp dport 80 counter name requests
  }
  counter replies {}
  counter requests {}
}
NFT
packets() { ip netns exec "$1" nft -j list counter netdev seen "$2" | jq '.nftables[1].counter.packets'; }

write_conf() {  # write_conf [persistence_timeout]
  {
    cat <<CONF
virtual_server $VIP 80 {
  delay_loop 1
  lvs_sched rr
  lb_kind DR
  protocol TCP
CONF
    [ -n "${1:-}" ] && echo "  persistence_timeout $1"
    for i in 1 2 3; do
      cat <<CONF
  real_server 10.82.0.1$i 80 {
    weight 1
    TCP_CHECK {
      connect_timeout 1
      retry 1
      delay_before_retry 1
    }
  }
CONF
    done
    echo "}"
  } > "$WORK/k.conf"
}
. "$(dirname "$0")/lb_helpers.bash"
macs_in() {  # macs_in N: the DR rule names exactly N real servers' MACs
  [ "$(dr_table | grep -o '02:00:00:00:85:0[1-3]' | sort -u | wc -l)" = "$1" ]
}
logged() { grep -c '"GET /who' "$WORK/http$1.log" || true; }
write_conf
t_start=$(date +%s%N)
start_daemon
wait_for 8 all_in || fail "real servers not in the table: $(show)"
wait_for 8 macs_in 3 || fail "the DR table does not hold the three MACs: $(dr_table); $(cat "$WORK/d.log")"
echo "three real servers resolved and programmed $(( ($(date +%s%N) - t_start) / 1000000 )) ms after start"
[ "$(show | jq -r '.[0].forwarding')" = Route ] || fail "lb/show does not say Route: $(show)"
contains "Route" "$VNET" ctl "$M" lb/show || fail "lb/show text lacks the forwarding method"
pass "netdev table programmed with the three real servers' MACs; lb/show says Route"

l0=( "$(logged 1)" "$(logged 2)" "$(logged 3)" )
read -r a b c f <<<"$(spread 60)"
n1=$(( $(logged 1) - l0[0] )) n2=$(( $(logged 2) - l0[1] )) n3=$(( $(logged 3) - l0[2] ))
echo "rr (hash per flow) over 60 requests: logs r1=$n1 r2=$n2 r3=$n3; bodies $a/$b/$c failed=$f"
[ "$f" = 0 ] || fail "$f of 60 requests failed"
[ "$n1" = "$a" ] && [ "$n2" = "$b" ] && [ "$n3" = "$c" ] || fail "logs $n1/$n2/$n3 differ from bodies $a/$b/$c"
[ "$n1" -ge 8 ] && [ "$n2" -ge 8 ] && [ "$n3" -ge 8 ] || fail "spread $n1/$n2/$n3: a real server got fewer than 8 of 60"
pass "60 requests through the VIP spread $n1/$n2/$n3 (servers' logs)"

fr=$(packets $C from_reals) fd=$(packets $C from_director) dr=$(packets $D replies) rq=$(packets $D requests)
echo "client: $fr reply packets from the real servers' MACs, $fd from the director's; director: $rq request packets in, $dr reply packets seen"
[ "$fr" -gt 0 ] && [ "$fd" = 0 ] && [ "$dr" = 0 ] && [ "$rq" -gt 0 ] || fail "replies not direct: from_reals=$fr from_director=$fd director_saw=$dr"
pass "replies go straight to the client ($fr packets from real servers' MACs, 0 through the director)"

# lb/show's counters: in by real server, counted where the DR rule forwards; no conns, no out.
stat() { show | jq -r ".[0]$1"; }
i=1
for n in $n1 $n2 $n3; do
  [ "$(stat ".reals[$((i - 1))].inpkts")" -gt "$n" ] || fail "r$i served $n requests, inpkts $(stat ".reals[$((i - 1))].inpkts"): $(show)"
  i=$((i + 1))
done
[ "$(stat .inpkts)" = "$(show | jq '[.[0].reals[].inpkts] | add')" ] || fail "service inpkts is not the sum: $(show)"
[ "$(stat .inpkts)" = "$rq" ] || fail "service inpkts $(stat .inpkts), the director's ingress saw $rq request packets"
[ "$(stat .conns)" = null ] && [ "$(stat .outpkts)" = 0 ] && [ "$(stat '.reals[0].outbytes')" = 0 ] || fail "DR conns/out: $(show)"
pass "lb/show: inpkts by real server (each > its requests), sum $(stat .inpkts) = the $rq request packets the director saw; conns null, out 0"

# Kill r2: removed within delay_loop + connect_timeout × (retry + 1) + delay_before_retry × retry.
kill "${RPID[2]}"
t0=$(date +%s%N)
wait_for 7 eval '! in_table 2' || fail "r2 not removed: $(show)"
det=$(( ($(date +%s%N) - t0) / 1000000 ))
echo "detection time (kill -> removed from table): ${det} ms (bound 4000 ms + 1 s)"
[ "$det" -le 5000 ] || fail "removal took ${det} ms"
macs_in 2 || fail "r2's MAC still in the DR table: $(dr_table)"
read -r a b c f <<<"$(spread 30)"
echo "after removal: r1=$a r2=$b r3=$c failed=$f"
[ "$f" = 0 ] && [ "$b" = 0 ] && [ "$a" -gt 0 ] && [ "$c" -gt 0 ] || fail "after removal $a/$b/$c failed $f"
pass "r2 killed: removed in ${det} ms, the next 30 requests served by r1/r3 ($a/$c)"

start_real 2
t0=$(date +%s%N)
wait_for 7 in_table 2 || fail "r2 not re-added: $(show)"
wait_for 3 macs_in 3 || fail "r2 not back in the DR table: $(dr_table)"
back=$(( ($(date +%s%N) - t0) / 1000000 ))
read -r a b c f <<<"$(spread 30)"
echo "re-added in ${back} ms; spread r1=$a r2=$b r3=$c failed=$f"
[ "$f" = 0 ] && [ "$b" -gt 0 ] || fail "after re-add $a/$b/$c failed $f"
pass "r2 restarted: re-added in ${back} ms and serving ($a/$b/$c)"
rq=$(packets $D requests)
[ "$(stat .inpkts)" = "$rq" ] || fail "after two reprogrammings, service inpkts $(stat .inpkts), the director saw $rq request packets"
pass "counters carried across the DR table's rewrites: inpkts $(stat .inpkts) = $rq request packets seen"

kill "$DPID"
wait_for 5 gone "$DPID" || fail "daemon did not stop"
! ip netns exec $D nft list table netdev vnet_lb_dr >/dev/null 2>&1 || fail "table netdev vnet_lb_dr left behind"
pass "daemon stopped: table netdev vnet_lb_dr removed"

# persistence_timeout: one client, one real server, across 20 connections (each from a new
# source port, which alone would spread them).
write_conf 60
start_daemon
wait_for 8 all_in || fail "persistence: not all in the table: $(show)"
wait_for 8 macs_in 3 || fail "persistence: MACs not programmed: $(dr_table)"
contains "map persist_tcp_10_82_0_100_80" dr_table || fail "no persistence map: $(dr_table)"
read -r a b c f <<<"$(spread 20)"
echo "persistence: 20 connections from one client: r1=$a r2=$b r3=$c failed=$f"
[ "$f" = 0 ] && { [ "$a" = 20 ] || [ "$b" = 20 ] || [ "$c" = 20 ]; } || fail "persistence broken: $a/$b/$c failed $f"
pass "persistence_timeout 60: one client stayed on one real server for 20 connections ($a/$b/$c)"
kill "$DPID"
wait_for 5 gone "$DPID" || fail "daemon did not stop"

# A real server behind a router: refused at start, naming it.
ip -n $D route add 10.99.0.0/24 via 10.82.0.2
sed -i 's/real_server 10.82.0.13 80/real_server 10.99.0.5 80/' "$WORK/k.conf"
if ip netns exec $D timeout 10 "$VNET" vrrp -f "$WORK/k.conf" --log "$WORK/bad.log" >"$WORK/bad.out" 2>&1; then
  fail "a DR real server behind a router was accepted"
fi
out=$(cat "$WORK/bad.out" "$WORK/bad.log" 2>/dev/null)
[[ $out == *"DR real server 10.99.0.5:80 is not on-link: the director reaches it through 10.82.0.2 on eth0"* ]] ||
  fail "not-on-link refusal not explained: $out"
pass "a DR real server that is not on-link is refused with the reason"
