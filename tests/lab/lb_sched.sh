#!/usr/bin/env bash
# The schedulers and service kinds the nftables datapath gained beyond rr/wrr/sh/wlc, over three
# `python3 -m http.server` real servers behind one `vnet vrrp` daemon (lb_kind NAT, the director
# owns the VIPs). Asserts what a user relies on:
#  - mh (10.80.0.100) and sh (10.80.0.105): 40 client addresses, 3 requests each: every client
#    stays on one real server, and the clients spread over all three (each has at least 5);
#  - a fwmark service (mark 7 set by the director's firewall for 10.80.0.101:80, rr): 30 requests
#    served, 10 ± 1 each; a VIP:PORT the firewall does not mark is not balanced;
#  - a virtual_server_group (10.80.0.110-112 80 and fwmark 9 for 10.80.0.120:80, rr): every entry
#    serves, and the group is one service: 24 requests over its four entries spread 8 ± 1 each;
#  - dh on a fwmark service (mark 8 for 10.80.0.130-139:80): each VIP always reaches the same
#    real server, and the ten VIPs spread over at least two; dh on one VIP:PORT (10.80.0.102)
#    sends every client to one real server (IPVS's dh does the same);
#  - twos (10.80.0.103): 30 requests served, over at least two real servers;
#  - lblc (10.80.0.104): the VIP keeps one real server for 12 requests; once that server holds 2
#    active connections (more than its weight, 1, while the others are idle) new requests go to
#    another one, which then keeps them;
#  - a fwmark service with DR and a group service on wlc are refused at load with the reason.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lb_common.bash"
for i in 1 2 3; do start_real $i; done

reals() {  # reals PORT: the three real servers
  for i in 1 2 3; do printf '  real_server 10.81.%s.2 %s {\n    weight 1\n    TCP_CHECK {\n      connect_timeout 1\n    }\n  }\n' "$i" "$1"; done
}
{
  for s in "10.80.0.100 80:mh" "10.80.0.102 80:dh" "10.80.0.103 80:twos" "10.80.0.104 80:lblc" "10.80.0.105 80:sh" \
           "fwmark 7:rr" "fwmark 8:dh" "group web:rr"; do
    printf 'virtual_server %s {\n  delay_loop 1\n  lvs_sched %s\n  lb_kind NAT\n' "${s%%:*}" "${s##*:}"
    [[ $s == fwmark* ]] || echo "  protocol TCP"  # a fwmark service takes every protocol
    reals 8000
    echo "}"
  done
  cat <<CONF
virtual_server_group web {
  10.80.0.110-112 80
  fwmark 9
}
CONF
} > "$WORK/k.conf"
for a in 100 101 102 103 104 105 110 111 112 120 $(seq 130 139); do ip -n $D addr add 10.80.0.$a/32 dev lo; done
# The firewall's marks, before DNAT (priority mangle < dstnat).
ip netns exec $D nft -f - <<'NFT'
table ip lbsched_mark {
  chain pre {
    type filter hook prerouting priority mangle; policy accept;
    ip daddr 10.80.0.101 tcp dport 80 meta mark set 7
    ip daddr 10.80.0.130-10.80.0.139 tcp dport 80 meta mark set 8
    ip daddr 10.80.0.120 tcp dport 80 meta mark set 9
  }
}
NFT
start_daemon
all_tabled() { [ "$(show | jq '[.[].reals[].in_table] | all and length == 24')" = true ]; }
wait_for 8 all_tabled || fail "real servers not in the table: $(show)"
ip netns exec $D nft list table ip vnet_lb > "$WORK/ruleset"
grep -q "jhash ip saddr mod 4093" "$WORK/ruleset" || fail "no mh map: $(cat "$WORK/ruleset")"

# get VIP [SRC]: which real server answers (r1/r2/r3), "x" on failure.
get() {
  local r
  r=$(ip netns exec $C curl -s --max-time 2 ${2:+--interface "$2"} "http://$1/who") || r=x
  echo "${r:-x}"
}
# tally VIP N: N requests from 10.80.0.2; prints "r1 r2 r3 failures".
tally() {
  local a=0 b=0 c=0 f=0
  for _ in $(seq "$2"); do
    case $(get "$1") in r1) a=$((a + 1)) ;; r2) b=$((b + 1)) ;; r3) c=$((c + 1)) ;; *) f=$((f + 1)) ;; esac
  done
  echo "$a $b $c $f"
}

# mh and sh: 40 client addresses, 3 requests each.
for k in $(seq 10 49); do ip -n $C addr add 10.80.0.$k/24 dev eth0; done
for s in "10.80.0.100 mh" "10.80.0.105 sh"; do
  sticky "${s#* }" 10.80.0 10 49 ${s% *} ${s% *} ${s% *}
  pass "${s#* }: 40 clients each kept one real server over 3 requests, spread $STICKY"
done

# fwmark 7, rr.
read -r a b c f <<<"$(tally 10.80.0.101 30)"
echo "fwmark 7 (rr): r1=$a r2=$b r3=$c failed=$f"
[ "$f" = 0 ] && near "$a" 10 && near "$b" 10 && near "$c" 10 || fail "fwmark spread $a/$b/$c failed $f"
ip netns exec $C curl -s --max-time 2 http://10.80.0.101:8000/who >/dev/null &&
  fail "an unmarked port of the fwmark VIP was balanced"
pass "fwmark 7: 30 requests to the marked VIP:PORT served $a/$b/$c; an unmarked port is not balanced"

# group web: three VIPs of the range and the fwmark entry, one rr rotation.
a=0 b=0 c=0 f=0
for _ in 1 2 3 4 5 6; do
  for v in 10.80.0.110 10.80.0.111 10.80.0.112 10.80.0.120; do
    case $(get $v) in r1) a=$((a + 1)) ;; r2) b=$((b + 1)) ;; r3) c=$((c + 1)) ;; *) f=$((f + 1)); echo "group: $v failed" ;; esac
  done
done
echo "group web (rr): r1=$a r2=$b r3=$c failed=$f"
[ "$f" = 0 ] && near "$a" 8 && near "$b" 8 && near "$c" 8 || fail "group spread $a/$b/$c failed $f"
pass "group web: 10.80.0.110-112:80 and fwmark 9 all served, one rotation $a/$b/$c"

# dh over fwmark 8: each destination address keeps its real server.
declare -A dhper=([r1]=0 [r2]=0 [r3]=0)
for v in $(seq 130 139); do
  got=$( (get 10.80.0.$v 10.80.0.11; get 10.80.0.$v 10.80.0.12; get 10.80.0.$v) | sort -u)
  [ "$(echo "$got" | wc -l)" = 1 ] && [ "$got" != x ] || fail "dh: 10.80.0.$v moved or failed: $(echo $got)"
  dhper[$got]=$((dhper[$got] + 1))
done
used=0
for r in r1 r2 r3; do [ "${dhper[$r]}" -gt 0 ] && used=$((used + 1)); done
echo "dh (fwmark 8): destinations per real server r1=${dhper[r1]} r2=${dhper[r2]} r3=${dhper[r3]}"
[ "$used" -ge 2 ] || fail "dh sent all ten destinations to one real server"
got=$(for k in 10 11 12 13 14; do get 10.80.0.102 10.80.0.$k; done | sort -u)
[ "$(echo "$got" | wc -l)" = 1 ] && [ "$got" != x ] || fail "dh on one VIP:PORT spread or failed: $(echo $got)"
pass "dh: each of 10 destinations kept one real server from 3 clients (${dhper[r1]}/${dhper[r2]}/${dhper[r3]}); one VIP:PORT goes to one server ($got)"

# twos.
read -r a b c f <<<"$(tally 10.80.0.103 30)"
echo "twos: r1=$a r2=$b r3=$c failed=$f"
used=$(( (a > 0) + (b > 0) + (c > 0) ))
[ "$f" = 0 ] && [ "$used" -ge 2 ] || fail "twos $a/$b/$c failed $f"
pass "twos: 30 requests served over $used real servers ($a/$b/$c)"

# lblc: locality, then overload.
read -r a b c f <<<"$(tally 10.80.0.104 12)"
echo "lblc: r1=$a r2=$b r3=$c failed=$f"
[ "$f" = 0 ] && { [ "$a" = 12 ] || [ "$b" = 12 ] || [ "$c" = 12 ]; } || fail "lblc did not keep one server: $a/$b/$c failed $f"
first=$(( a ? 1 : b ? 2 : 3 ))
svc=$(show | jq '[.[].service] | index("10.80.0.104:80/TCP")')
[ "$svc" != null ] || fail "lblc service not in lb/show: $(show | jq '[.[].service]')"
HELD=()
for _ in 1 2; do
  ip netns exec $C bash -c 'exec 3<>/dev/tcp/10.80.0.104/80; sleep 600' &
  HELD+=("$!")
  PIDS+=("$!")
done
active() { show | jq -r ".[$svc].reals[$(($1 - 1))].active_conns"; }
wait_for 5 eval '[ "$(active $first)" = 2 ]' || fail "r$first holds $(active $first) of the 2 held connections: $(show)"
read -r a b c f <<<"$(tally 10.80.0.104 6)"
echo "lblc with r$first at 2 active connections: r1=$a r2=$b r3=$c failed=$f"
n=($a $b $c)
[ "$f" = 0 ] && [ "${n[$((first - 1))]}" = 0 ] && { [ "$a" = 6 ] || [ "$b" = 6 ] || [ "$c" = 6 ]; } ||
  fail "lblc after overload: $a/$b/$c failed $f (r$first should get none, one other all)"
for p in "${HELD[@]}"; do kill "$p" 2>/dev/null || true; done
pass "lblc: 12 requests kept on r$first; overloaded (2 active > weight 1), the next 6 moved to one other server"

kill "$DPID"
wait_for 5 gone "$DPID" || fail "daemon did not stop"
! ip netns exec $D nft list table ip vnet_lb >/dev/null 2>&1 || fail "table ip vnet_lb left behind"
pass "daemon stopped: table ip vnet_lb removed"

# Refused at load, with the reason: a fwmark service with DR (the mark comes after the netdev
# hook) and a group left on keepalived's default scheduler, wlc (counts are per VIP:PORT).
sed -i '/lvs_sched dh/{n;s/lb_kind NAT/lb_kind DR/}; s/lvs_sched rr/lvs_sched wlc/' "$WORK/k.conf"
out=$(ip netns exec $D "$VNET" vrrp -f "$WORK/k.conf" -t 2>&1) && fail "fwmark DR / group wlc accepted: $out"
[[ $out == *"FWM 8: fwmark with lb_kind DR"* && $out == *"[web]: lvs_sched wlc on a fwmark or group service"* ]] ||
  fail "refusal not explained: $out"
pass "fwmark with DR and a group on wlc refused at load with the reason"
