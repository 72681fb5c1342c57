#!/usr/bin/env bash
# A hostile keepalived.conf — 100,000 nested braces, `include /dev/zero`, an include bomb — never
# takes a running `vnet vrrp` down: SIGHUP with each refuses it with a clear error, the daemon
# stays MASTER with its VIP and keeps advertising; then a good changed configuration is applied.
# At start, each hostile file makes `vnet vrrp` exit 1 with the error (not crash on a signal).
. "$(dirname "$0")/lib.sh"
ns_add $T-r1
ip -n $T-r1 link add eth0 type veth peer name peer0
ip -n $T-r1 link set peer0 up
host_cfg $T-r1 eth0 02:00:00:00:73:01 10.73.0.1/24
good() { # priority
  cat > "$WORK/k.conf.new" <<CONF
global_defs {
  vrrp_version 3
}
vrrp_instance VI_1 {
  interface eth0
  virtual_router_id 73
  priority $1
  advert_int 0.1
  virtual_ipaddress {
    10.73.0.254/24
  }
}
CONF
  mv "$WORK/k.conf.new" "$WORK/k.conf"
}
# The hostile configurations, in $WORK/hostile/: deep.conf, zero.conf, bomb.conf.
mkdir "$WORK/hostile"
awk 'BEGIN { for (i = 0; i < 100000; i++) printf "a{"; for (i = 0; i < 100000; i++) printf "}"; print "" }' \
  > "$WORK/hostile/deep.conf"
echo "include /dev/zero" > "$WORK/hostile/zero.conf"
for i in 0 1 2; do # each includes the next 20 times: 8,000 files if nothing stops it
  for _ in $(seq 20); do echo "include bomb$((i + 1)).conf"; done > "$WORK/hostile/bomb$i.conf"
done
echo "! leaf" > "$WORK/hostile/bomb3.conf"
cp "$WORK/hostile/bomb0.conf" "$WORK/hostile/bomb.conf"
declare -A why=(
  [deep]="deep.conf:1: blocks nested more than 64 deep"
  [zero]="zero.conf:1: include /dev/zero: /dev/zero: not a regular file (a character device)"
  [bomb]="include bomb3.conf: more than 256 files included in all"
)

# At start: exit 1 with the error, no crash.
for h in deep zero bomb; do
  rc=0
  ip netns exec $T-r1 "$VNET" vrrp -f "$WORK/hostile/$h.conf" > "$WORK/start-$h.out" 2>&1 || rc=$?
  [ $rc = 1 ] || fail "vnet vrrp -f $h.conf exited $rc (1 expected): $(head -c 300 "$WORK/start-$h.out")"
  grep -qF "${why[$h]}" "$WORK/start-$h.out" || fail "$h.conf: no clear error: $(head -c 300 "$WORK/start-$h.out")"
done
pass "each hostile configuration at start: exit 1 with the error"

good 100
ip netns exec $T-r1 "$VNET" vrrp -f "$WORK/k.conf" -M "$WORK/r1.sock" -p "$WORK/r1.pid" \
  --log "$WORK/r1.log" -d
wait_for 5 test -s "$WORK/r1.pid" || fail "vnet vrrp did not start: $(cat "$WORK/r1.log")"
PID=$(cat "$WORK/r1.pid")
PIDS+=("$PID")
show() { "$VNET" ctl "$WORK/r1.sock" vrrp/show VI_1 --json; }
field() { show | jq -r ".[0].$1"; }
is_master() { [ "$(field state)" = MASTER ]; }
has_vip() { contains 10.73.0.254/24 ip -n $T-r1 addr show eth0; }
wait_for 5 is_master || fail "not MASTER: $(show)"
wait_for 2 has_vip || fail "VIP not added"
pass "MASTER with its VIP"

for h in deep zero bomb; do
  sent=$(field counters.adverts_sent)
  cp "$WORK/hostile/"$h*.conf "$WORK/"
  cp "$WORK/hostile/$h.conf" "$WORK/k.conf"
  msg=${why[$h]/$h.conf/k.conf}
  kill -HUP "$PID"
  answered() { grep -qF "$msg" "$WORK/r1.log" || gone "$PID"; }
  wait_for 5 answered || true
  ! gone "$PID" || fail "the daemon died on reloading $h.conf: $(tail -c 300 "$WORK/r1.log")"
  grep -qF "$msg" "$WORK/r1.log" || fail "reload of $h.conf: no clear error: $(tail -c 500 "$WORK/r1.log")"
  is_master || fail "not MASTER after reloading $h.conf: $(show)"
  has_vip || fail "VIP gone after reloading $h.conf"
  sent_more() { [ "$(field counters.adverts_sent)" -gt "$sent" ]; }
  wait_for 2 sent_more || fail "stopped advertising after reloading $h.conf"
  pass "SIGHUP with $h.conf: refused with '$msg', still MASTER with the VIP"
done
grep -c "reload refused, keeping the running configuration" "$WORK/r1.log" | grep -qx 3 \
  || fail "expected 3 refused reloads: $(grep -c "reload refused" "$WORK/r1.log")"

# Positive control: a good, changed configuration is applied.
good 120
kill -HUP "$PID"
wait_for 5 sh -c "[ \"\$('$VNET' ctl '$WORK/r1.sock' vrrp/show VI_1 --json | jq -r '.[0].priority')\" = 120 ]" \
  || fail "good configuration not applied: $(show)"
wait_for 5 is_master || fail "not MASTER after the good reload: $(show)"
has_vip || fail "VIP gone after the good reload"
pass "SIGHUP with a good changed configuration: applied (priority 120)"
echo "1 passed, 0 failed"
