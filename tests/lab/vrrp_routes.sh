#!/usr/bin/env bash
# virtual_routes / virtual_rules follow MASTER, static_routes / static_rules live from start to
# stop, in real namespaces (ip route / ip rule): two routers on one veth read one keepalived.conf
# with conditional lines (-i r1 / -i r2: @r1 priority 150, @^r1 100) and $NAME substitution.
# r1 is MASTER and holds the virtual routes and rules, r2 none; r1 stopped (SIGTERM) takes its
# virtual and static ones away and r2 takes over with the virtual ones; r1 back preempts and r2
# gives them up; a SIGHUP changing r1's virtual routes swaps them; SIGTERM leaves nothing.
. "$(dirname "$0")/lib.sh"
ns_add $T-r1
ns_add $T-r2
ip -n $T-r1 link add eth0 type veth peer name eth0 netns $T-r2
host_cfg $T-r1 eth0 02:00:00:00:88:01 10.88.0.1/24
host_cfg $T-r2 eth0 02:00:00:00:88:02 10.88.0.2/24
conf() { # the virtual_routes lines
  cat > "$WORK/k.conf" <<CONF
\$VIP=10.88.0.254
@r1 \$PRIO=150
@^r1 \$PRIO=100
global_defs {
  vrrp_version 3
}
static_routes {
  192.168.88.0/24 via 10.88.0.99 dev eth0
}
static_rules {
  from 10.88.0.0/24 to 192.168.89.0/24 table 89 priority 89
}
vrrp_instance VI_1 {
  interface eth0
  virtual_router_id 88
  priority \$PRIO
  advert_int 0.1
  virtual_ipaddress {
    \${VIP}/24
  }
  virtual_routes {
$1
  }
  virtual_rules {
    from \${VIP} table 100 priority 100
  }
}
CONF
}
ROUTES="    src \${VIP} 10.99.0.0/16 via 10.88.0.50 dev eth0
    blackhole 10.98.0.0/16 no_track
    10.97.0.0/16 dev eth0 table 100"
conf "$ROUTES"
start() { # r1|r2
  ip netns exec $T-$1 "$VNET" vrrp -i $1 -f "$WORK/k.conf" -M "$WORK/$1.sock" -p "$WORK/$1.pid" \
    --log "$WORK/$1.log" -d
  wait_for 5 test -s "$WORK/$1.pid" || fail "vnet vrrp on $1 did not start: $(cat "$WORK/$1.log")"
  PIDS+=("$(cat "$WORK/$1.pid")")
}
stop() { # r1|r2: SIGTERM, then wait until the process is gone
  local pid; pid=$(cat "$WORK/$1.pid")
  kill "$pid"
  wait_for 5 sh -c "! kill -0 $pid 2>/dev/null" || fail "vnet vrrp on $1 did not stop"
}
state() { "$VNET" ctl "$WORK/$1.sock" vrrp/show VI_1 --json | jq -r '.[0].state'; }
is_state() { [ "$(state "$1")" = "$2" ]; }
routes() { ip -n $T-$1 route show; ip -n $T-$1 route show table 100 2>/dev/null; }
rules() { ip -n $T-$1 rule show; }
# Virtual routes and rules: all there (yes) or none (no).
virtual() { # r1|r2 yes|no
  local r u want=$2 n=0
  r=$(routes "$1"); u=$(rules "$1")
  [[ $r == *"10.99.0.0/16 via 10.88.0.50 dev eth0 proto keepalived src 10.88.0.254"* ]] && n=$((n + 1))
  [[ $r == *"blackhole 10.98.0.0/16 proto keepalived"* ]] && n=$((n + 1))
  [[ $r == *"10.97.0.0/16 dev eth0 proto keepalived"* ]] && n=$((n + 1))
  [[ $u == *"100:	from 10.88.0.254 lookup 100"* ]] && n=$((n + 1))
  if [ "$want" = yes ]; then [ $n = 4 ]; else [ $n = 0 ]; fi
}
static() { # r1|r2 yes|no
  local r u n=0
  r=$(routes "$1"); u=$(rules "$1")
  [[ $r == *"192.168.88.0/24 via 10.88.0.99 dev eth0 proto keepalived"* ]] && n=$((n + 1))
  [[ $u == *"89:	from 10.88.0.0/24 to 192.168.89.0/24 lookup 89"* ]] && n=$((n + 1))
  if [ "$2" = yes ]; then [ $n = 2 ]; else [ $n = 0 ]; fi
}
show_all() { echo "r1: $(routes r1 | tr '\n' ';') $(rules r1 | tr '\n' ';') r2: $(routes r2 | tr '\n' ';') $(rules r2 | tr '\n' ';')"; }

start r1
start r2
wait_for 5 is_state r1 MASTER || fail "r1 not MASTER: $(state r1)"
wait_for 5 is_state r2 BACKUP || fail "r2 not BACKUP: $(state r2)"
wait_for 2 virtual r1 yes || fail "r1 (MASTER) lacks its virtual routes/rules: $(show_all)"
virtual r2 no || fail "r2 (BACKUP) has virtual routes/rules: $(show_all)"
static r1 yes && static r2 yes || fail "static routes/rules missing: $(show_all)"
[ "$("$VNET" ctl "$WORK/r1.sock" vrrp/show VI_1 --json | jq -r '.[0].priority')" = 150 ] \
  || fail "r1 did not read @r1 \$PRIO=150"
pass "MASTER r1 holds the virtual routes and rules, BACKUP r2 none; both hold the static ones; -i picks @r1 lines"

stop r1
virtual r1 no || fail "r1 stopped but its virtual routes/rules remain: $(show_all)"
static r1 no || fail "r1 stopped but its static routes/rules remain: $(show_all)"
wait_for 5 is_state r2 MASTER || fail "r2 did not take over: $(state r2)"
wait_for 2 virtual r2 yes || fail "r2 (MASTER) lacks the virtual routes/rules: $(show_all)"
pass "SIGTERM on r1 removes its virtual and static routes/rules; r2 takes over and adds the virtual ones"

start r1
wait_for 5 is_state r1 MASTER || fail "r1 did not preempt: $(state r1)"
wait_for 5 is_state r2 BACKUP || fail "r2 not BACKUP again: $(state r2)"
wait_for 2 virtual r2 no || fail "r2 left MASTER but kept virtual routes/rules: $(show_all)"
wait_for 2 virtual r1 yes || fail "r1 MASTER again without its virtual routes/rules: $(show_all)"
pass "r1 back preempts: r2 gives the virtual routes/rules up, r1 holds them"

conf "    src \${VIP} 10.99.0.0/16 via 10.88.0.50 dev eth0
    10.96.0.0/16 dev eth0 metric 7
    10.97.0.0/16 dev eth0 table 100"
kill -HUP "$(cat "$WORK/r1.pid")"
swapped() { local r; r=$(routes r1); [[ $r == *"10.96.0.0/16 dev eth0 proto keepalived metric 7"* && $r != *"10.98.0.0/16"* && $r == *"10.99.0.0/16 via"* ]]; }
wait_for 5 swapped || fail "SIGHUP did not swap r1's virtual routes: $(show_all)"
is_state r1 MASTER || fail "r1 left MASTER on reload"
pass "SIGHUP on the MASTER swaps the changed virtual routes, keeps the others"

stop r1
stop r2
left=$(routes r1; routes r2; rules r1; rules r2)
[[ $left != *keepalived* && $left != *"lookup 100"* && $left != *"lookup 89"* ]] \
  || fail "routes/rules left after SIGTERM: $left"
pass "SIGTERM leaves no route or rule behind"
echo "1 passed, 0 failed"
