#!/usr/bin/env bash
# keepalived's load-balancing half on a kernel without ip_vs: one `vnet vrrp` daemon reads a
# keepalived.conf with a vrrp_instance (which brings the VIP) and a virtual_server (NAT, rr, then
# wrr) over three `python3 -m http.server` real servers checked by HTTP_GET; the datapath is
# `table ip vnet_lb` (nftables DNAT). Asserts: rr spreads 30 requests 10 ± 1 each; a killed real
# server leaves the table within delay_loop + connect_timeout × (retry + 1) + delay_before_retry
# × retry (+ 1 s) and no request fails afterwards (refused, and silent: only connect_timeout
# notices); the VRRP half stays MASTER meanwhile; restarted, it is re-added and serves; wrr
# 3:2:1 spreads 30 requests 15/10/5 ± 1; a SIGHUP to rr while r2 is down applies at once and r2
# is re-added when it recovers; stopping the daemon removes the table; TUN and the mh-fallback
# flag are refused.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lb_common.bash"
for i in 1 2 3; do start_real $i; done

# delay_loop 1, connect_timeout 1, retry 1, delay_before_retry 1: bound 1 + 1×2 + 1×1 = 4 s.
write_conf() {  # write_conf SCHED W1 W2 W3
  {
    cat <<CONF
vrrp_instance VI_1 {
  interface eth0
  virtual_router_id 81
  priority 100
  advert_int 1
  virtual_ipaddress {
    10.80.0.100/32
  }
}
virtual_server 10.80.0.100 80 {
  delay_loop 1
  lvs_sched $1
  lvs_method NAT
  protocol TCP
CONF
    for i in 1 2 3; do
      w=$(( i == 1 ? $2 : i == 2 ? $3 : $4 ))
      cat <<CONF
  real_server 10.81.$i.2 8000 {
    weight $w
    HTTP_GET {
      url {
        path /who
        digest $(printf 'r%s\n' $i | md5sum | cut -d' ' -f1)
        status_code 200
      }
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
BOUND=5  # 4 s + 1 s slack

write_conf rr 1 1 1
start_daemon
master() { [ "$("$VNET" ctl "$M" vrrp/show --json | jq -r '.[0].state')" = MASTER ]; }
wait_for 8 master || fail "VRRP half not MASTER"
wait_for 6 all_in || fail "real servers not in the table: $(show)"
ip netns exec $D nft list table ip vnet_lb | grep -q "numgen inc mod 3" || fail "no rr map: $(ip netns exec $D nft list table ip vnet_lb)"
read -r a b c f <<<"$(spread 30)"
echo "rr spread: r1=$a r2=$b r3=$c failed=$f"
[ "$f" = 0 ] && near "$a" 10 && near "$b" 10 && near "$c" 10 || fail "rr spread $a/$b/$c failed $f"
pass "rr: 30 requests through the VIP spread $a/$b/$c"

# Kill r2: removed within the bound.
kill "${RPID[2]}"
t0=$(date +%s%N)
until ! in_table 2; do
  [ $(( ($(date +%s%N) - t0) / 1000000 )) -lt $((BOUND * 1000 + 2000)) ] || fail "r2 not removed: $(show)"
  sleep 0.05
done
det=$(( ($(date +%s%N) - t0) / 1000000 ))
echo "detection time (kill -> removed from table): ${det} ms (bound ${BOUND}000 ms)"
[ "$det" -le $((BOUND * 1000)) ] || fail "removal took ${det} ms, bound ${BOUND} s"
"$VNET" ctl "$M" lb/show
read -r a b c f <<<"$(spread 30)"
echo "after removal: r1=$a r2=$b r3=$c failed=$f"
[ "$f" = 0 ] && [ "$b" = 0 ] && near "$a" 15 && near "$c" 15 || fail "after removal $a/$b/$c failed $f"
pass "r2 killed: removed in ${det} ms, the next 30 requests all served by r1/r3 ($a/$c)"

start_real 2
t0=$(date +%s%N)
wait_for 6 in_table 2 || fail "r2 not re-added: $(show)"
back=$(( ($(date +%s%N) - t0) / 1000000 ))
read -r a b c f <<<"$(spread 30)"
echo "re-added in ${back} ms; spread r1=$a r2=$b r3=$c failed=$f"
[ "$f" = 0 ] && near "$a" 10 && near "$b" 10 && near "$c" 10 || fail "after re-add $a/$b/$c failed $f"
pass "r2 restarted: re-added in ${back} ms and serving ($a/$b/$c)"

# r3 hangs (its packets silently dropped): removed by connect_timeout within the bound, while the
# VRRP half stays MASTER and the other checkers keep passing.
ip netns exec $T-r3 nft add table ip hang
ip netns exec $T-r3 nft add chain ip hang in '{ type filter hook input priority 0; }'
ip netns exec $T-r3 nft add rule ip hang in tcp dport 8000 drop
t0=$(date +%s%N)
until ! in_table 3; do
  [ $(( ($(date +%s%N) - t0) / 1000000 )) -lt $((BOUND * 1000 + 2000)) ] || fail "hung r3 not removed: $(show)"
  sleep 0.05
done
hang=$(( ($(date +%s%N) - t0) / 1000000 ))
echo "detection time (r3 silent -> removed): ${hang} ms (bound ${BOUND}000 ms)"
[ "$hang" -le $((BOUND * 1000)) ] || fail "hung r3 removal took ${hang} ms, bound ${BOUND} s"
master || fail "VRRP half left MASTER while a checker hung"
in_table 1 && in_table 2 || fail "a hung checker took other real servers out: $(show)"
read -r a b c f <<<"$(spread 30)"
[ "$f" = 0 ] && [ "$c" = 0 ] || fail "after the hang $a/$b/$c failed $f"
ip netns exec $T-r3 nft delete table ip hang
wait_for 6 in_table 3 || fail "r3 not re-added after the hang: $(show)"
pass "r3 hung: removed in ${hang} ms by connect_timeout; VRRP MASTER and r1/r2 unaffected ($a/$b); re-added"

kill "$DPID"
wait_for 5 gone "$DPID" || fail "daemon did not stop"
! ip netns exec $D nft list table ip vnet_lb >/dev/null 2>&1 || fail "table ip vnet_lb left behind"
pass "daemon stopped: table ip vnet_lb removed"

# wrr 3:2:1
write_conf wrr 3 2 1
start_daemon
wait_for 8 all_in || fail "wrr: real servers not in the table: $(show)"
read -r a b c f <<<"$(spread 30)"
echo "wrr 3:2:1 spread: r1=$a r2=$b r3=$c failed=$f"
[ "$f" = 0 ] && near "$a" 15 && near "$b" 10 && near "$c" 5 || fail "wrr spread $a/$b/$c failed $f"
pass "wrr 3:2:1: 30 requests spread $a/$b/$c"

# SIGHUP: r2 is down when the file changes to rr 1:1:1; the reload applies the scheduler at once
# and r2, restarted after it, is re-added (keepalived #1720's case).
wait_for 8 master || fail "VRRP half not MASTER after the restart"
kill "${RPID[2]}"
wait_for 6 eval '! in_table 2' || fail "r2 not removed before the reload: $(show)"
write_conf rr 1 1 1
kill -HUP "$DPID"
wait_for 5 eval '[ "$(show | jq -r ".[0].scheduler")" = rr ]' || fail "reload not applied: $(show)"
! grep -q "not vnet vrrp" "$WORK/d.log" || fail "reload warned about the load-balancing half: $(cat "$WORK/d.log")"
in_table 2 && fail "r2 in the table right after the reload while down: $(show)"
master || fail "VRRP half left MASTER on reload"
start_real 2
wait_for 6 in_table 2 || fail "r2 not re-added after the reload: $(show)"
read -r a b c f <<<"$(spread 30)"
echo "after SIGHUP (rr) and r2's recovery: r1=$a r2=$b r3=$c failed=$f"
[ "$f" = 0 ] && near "$a" 10 && near "$b" 10 && near "$c" 10 || fail "after reload $a/$b/$c failed $f"
pass "SIGHUP to rr with r2 down: applied, r2 re-added on recovery, spread $a/$b/$c"

# Refused at load, with the reason: lb_kind TUN and a scheduler flag the datapath does not have.
sed -i "s/lvs_method NAT/lvs_method TUN/; s/lvs_sched [a-z]*/lvs_sched mh\n  mh-fallback/" "$WORK/k.conf"
out=$(ip netns exec $D "$VNET" vrrp -f "$WORK/k.conf" -t 2>&1) && fail "TUN/mh-fallback config accepted"
[[ $out == *"lb_kind TUN: the nftables datapath does NAT and DR only"* && $out == *"scheduler flag mh-fallback"* ]] ||
  fail "refusal not explained: $out"
pass "lb_kind TUN and the mh-fallback flag refused at load with the reason"
