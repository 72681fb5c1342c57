#!/usr/bin/env bash
# Scripts as keepalived runs them: `script_user nobody` runs notify and vrrp_script commands as
# nobody; `enable_script_security` refuses (and reports, in keepalived's words) a script anyone
# may change, and the instance carries on without it.
. "$(dirname "$0")/lib.sh"
id nobody >/dev/null 2>&1 || { echo "SKIP: no user nobody"; exit 77; }
ns_add $T-r1
ip -n $T-r1 link add eth0 type veth peer name peer0
ip -n $T-r1 link set peer0 up
host_cfg $T-r1 eth0 02:00:00:00:70:01 10.70.0.1/24
chmod 755 "$WORK"
mkdir -m 755 "$WORK/bin"
mkdir -m 777 "$WORK/out"
printf '#!/bin/sh\nid -u > %s/out/uid\n' "$WORK" > "$WORK/bin/master.sh"
printf '#!/bin/sh\nexit 0\n' > "$WORK/bin/ok.sh"
printf '#!/bin/sh\ntouch %s/out/bad-ran\nexit 1\n' "$WORK" > "$WORK/bin/bad.sh"
chmod 755 "$WORK/bin/master.sh" "$WORK/bin/ok.sh"
chmod 777 "$WORK/bin/bad.sh"
cat > "$WORK/k.conf" <<CONF
global_defs {
  enable_script_security
  script_user nobody
}
vrrp_script chk_ok {
  script "$WORK/bin/ok.sh"
  interval 0.2
}
vrrp_script chk_bad {
  script "$WORK/bin/bad.sh"
  interval 0.2
}
vrrp_instance VI_1 {
  interface eth0
  virtual_router_id 70
  priority 100
  advert_int 1
  virtual_ipaddress {
    10.70.0.254/24
  }
  track_script {
    chk_ok
    chk_bad
  }
  notify_master "$WORK/bin/master.sh"
}
CONF
ip netns exec $T-r1 "$VNET" vrrp -f "$WORK/k.conf" -M "$WORK/r1.sock" -p "$WORK/r1.pid" \
  --log "$WORK/r1.log" -d
wait_for 5 test -s "$WORK/r1.pid" || fail "vnet vrrp did not start: $(cat "$WORK/r1.log")"
PIDS+=("$(cat "$WORK/r1.pid")")
state() { "$VNET" ctl "$WORK/r1.sock" vrrp/show --json | jq -r '.[0].state'; }
is_master() { [ "$(state)" = MASTER ]; }
wait_for 6 is_master || fail "not MASTER (a disabled script must not fault it): $(state)"
grep -q "SECURITY VIOLATION - script chk_bad disabled: $WORK/bin/bad.sh is writable by everyone" \
  "$WORK/r1.log" || fail "insecure script not reported: $(cat "$WORK/r1.log")"
! grep -q "chk_ok disabled" "$WORK/r1.log" || fail "the safe script was refused"
wait_for 5 test -s "$WORK/out/uid" || fail "notify_master did not run"
[ "$(cat "$WORK/out/uid")" = "$(id -u nobody)" ] || fail "notify_master ran as uid $(cat "$WORK/out/uid")"
[ ! -e "$WORK/out/bad-ran" ] || fail "the insecure script ran"
pass "script_user nobody runs notify_master as nobody; the world-writable script is refused"
echo "1 passed, 0 failed"
