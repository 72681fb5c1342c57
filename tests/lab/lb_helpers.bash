# The `vnet vrrp` daemon of the load-balancer lab tests and the client's view of a service:
# sourced after lib.sh by a test that defines D (the director's namespace), C (the client's) and
# VIP (default 10.80.0.100); the daemon reads $WORK/k.conf, its console is $M.
VIP=${VIP:-10.80.0.100}
M=$WORK/d.sock
start_daemon() {
  rm -f "$WORK/d.pid"
  ip netns exec $D "$VNET" vrrp -f "$WORK/k.conf" -M "$M" -p "$WORK/d.pid" --log "$WORK/d.log" -d
  wait_for 5 test -s "$WORK/d.pid" || fail "vnet vrrp did not start: $(cat "$WORK/d.log")"
  DPID=$(cat "$WORK/d.pid")
  PIDS+=("$DPID")
}
show() { "$VNET" ctl "$M" lb/show --json; }
in_table() { [ "$(show | jq -r ".[0].reals[$(($1 - 1))].in_table")" = true ]; }
all_in() { in_table 1 && in_table 2 && in_table 3; }
# spread N: N requests from the client; prints "r1 r2 r3 failures" counts.
spread() {
  local n=$1 a=0 b=0 c=0 f=0 out
  for _ in $(seq "$n"); do
    out=$(ip netns exec $C curl -s --max-time 2 http://$VIP/who) || { f=$((f + 1)); continue; }
    case $out in r1) a=$((a + 1)) ;; r2) b=$((b + 1)) ;; r3) c=$((c + 1)) ;; *) f=$((f + 1)) ;; esac
  done
  echo "$a $b $c $f"
}
near() { [ "$1" -ge $(($2 - 1)) ] && [ "$1" -le $(($2 + 1)) ]; }
# wlc_follows_formula: with no active connection counted, the next request must go to the real
# server wlc's formula picks from lb/show's inactive counts (the least, the first on a tie).
wlc_follows_formula() {
  local no_active expect a b c f got
  no_active() { [ "$(show | jq '[.[0].reals[].active_conns] | add')" = 0 ]; }
  wait_for 5 no_active || fail "active connections still counted: $(show)"
  expect=$(show | jq -r '[.[0].reals | to_entries[] | {i: (.key + 1), n: .value.inactive_conns}]
    | min_by(.n) | .i')
  read -r a b c f <<<"$(spread 1)"
  got=$(( a ? 1 : b ? 2 : c ? 3 : 0 ))
  [ "$f" = 0 ] && [ "$got" = "$expect" ] ||
    fail "after the held connections closed the next request went to r$got, wlc says r$expect"
  WLC_NEXT=$expect
}
# sticky LABEL NET FIRST LAST VIP...: clients NET.FIRST..NET.LAST (addresses on the client's eth0)
# each ask every VIP in turn; each must be answered by one real server throughout, and each of
# the three must serve at least 5 clients. STICKY: the spread, "r1/r2/r3".
sticky() {
  local label=$1 net=$2 first=$3 last=$4 k v r got
  shift 4
  declare -A per=([r1]=0 [r2]=0 [r3]=0)
  for k in $(seq "$first" "$last"); do
    got=$(for v in "$@"; do
      r=$(ip netns exec $C curl -s --max-time 2 --interface "$net.$k" "http://$v/who") || r=x
      echo "${r:-x}"
    done | sort -u)
    [ "$(echo "$got" | wc -l)" = 1 ] && [ "$got" != x ] ||
      fail "$label: client $net.$k moved or failed: $(echo $got)"
    per[$got]=$((per[$got] + 1))
  done
  STICKY="${per[r1]}/${per[r2]}/${per[r3]}"
  echo "$label: clients per real server r1/r2/r3 $STICKY"
  [ "${per[r1]}" -ge 5 ] && [ "${per[r2]}" -ge 5 ] && [ "${per[r3]}" -ge 5 ] ||
    fail "$label did not spread $((last - first + 1)) clients: $STICKY"
}
