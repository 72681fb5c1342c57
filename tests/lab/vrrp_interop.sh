#!/usr/bin/env bash
# vnet vrrp beside Debian's keepalived (--vrrp) on one VLAN of a vnet switch, for VRRPv2/IPv4,
# VRRPv3/IPv4 (0.1 s) and VRRPv3/IPv6: vnet master with keepalived backup and the reverse.
# Each case checks: exactly one master at every observation, takeover on kill, preemption back.
. "$(dirname "$0")/lib.sh"
command -v keepalived >/dev/null || fail "keepalived missing (apt-get install keepalived)"
ns_add $T-sw
plug r1 02:00:00:00:77:01 10.77.0.1/24
plug r2 02:00:00:00:77:02 10.77.0.2/24
plug c 02:00:00:00:77:10 10.77.0.10/24
for n in r1 r2 c; do ip netns exec $T-$n sysctl -qw net.ipv6.conf.eth0.accept_dad=0; done
ip -n $T-c addr add fd00:77::10/64 dev eth0 nodad
start_switch $T-sw "$WORK/mgmt" --port 1=afpacket:sr1 --port 2=afpacket:sr2 --port 3=afpacket:sc

conf() { # FILE PRIO VERSION INTERVAL VIP
  cat > "$1" <<CONF
global_defs {
  router_id $(basename "$1" .conf)
}
vrrp_instance VI_77 {
  state BACKUP
  interface eth0
  virtual_router_id 77
  priority $2
  version $3
  advert_int $4
  $([ "$3" = 2 ] && echo "authentication { 
    auth_type PASS
    auth_pass s3cret
  }")
  virtual_ipaddress {
    $5
  }
}
CONF
}
# (no `| grep -q`: under pipefail its early exit would make `ip` fail with SIGPIPE)
has_vip() { local a; a=$(ip -n $T-$1 addr show eth0); [[ $a == *"$VIP_ADDR/"* ]]; }
masters() { local n=0; has_vip r1 && n=$((n + 1)); has_vip r2 && n=$((n + 1)); echo $n; }
start() { # NODE KIND(vnet|keepalived) CONF
  local node=$1 kind=$2 c=$3
  if [ "$kind" = vnet ]; then
    ip netns exec $T-$node "$VNET" vrrp -f "$c" -p "$WORK/$node.pid" --log "$WORK/$node.log" -d
    wait_for 5 test -s "$WORK/$node.pid" || fail "vnet vrrp on $node did not start: $(cat "$WORK/$node.log")"
  else
    ip netns exec $T-$node keepalived -n -l -f "$c" --vrrp -p "$WORK/$node.ka.pid" -r "$WORK/$node.pid" \
      >>"$WORK/$node.log" 2>&1 &
    PIDS+=($!)
    wait_for 5 test -s "$WORK/$node.pid" || fail "keepalived on $node did not start: $(cat "$WORK/$node.log")"
  fi
  PIDS+=("$(cat "$WORK/$node.pid")")
}
stop() { # NODE SIGNAL
  local p; p=$(cat "$WORK/$1.pid")
  [ -f "$WORK/$1.ka.pid" ] && kill -"$2" "$(cat "$WORK/$1.ka.pid")" 2>/dev/null
  kill -"$2" "$p" 2>/dev/null || true
  wait_for 5 gone "$p" || fail "pid $p did not exit after SIG$2"
  rm -f "$WORK/$1.pid" "$WORK/$1.ka.pid"
}
# one_master_for SECONDS: every 50 ms there is exactly one master
one_master_for() {
  local end=$((SECONDS + $1)) m
  while [ $SECONDS -lt $end ]; do
    m=$(masters)
    if [ "$m" != 1 ]; then
      echo "masters: $m (r1: $(has_vip r1 && echo VIP), r2: $(has_vip r2 && echo VIP)) at $(date +%T.%N)" >&2
      return 1
    fi
    sleep 0.05
  done
}

run_case() { # VERSION INTERVAL FAMILY HIGH(vnet|keepalived)
  local ver=$1 int=$2 fam=$3 high=$4 low vip wait_s
  if [ "$high" = vnet ]; then low=keepalived; else low=vnet; fi
  if [ "$fam" = 6 ]; then VIP_ADDR=fd00:77::254; vip="fd00:77::254/64"; else VIP_ADDR=10.77.0.254; vip="10.77.0.254/24"; fi
  conf "$WORK/r1.conf" 150 "$ver" "$int" "$vip"
  conf "$WORK/r2.conf" 100 "$ver" "$int" "$vip"
  local what="v$ver IPv$fam advert_int $int: $high (150) vs $low (100)"
  start r1 "$high" "$WORK/r1.conf"
  start r2 "$low" "$WORK/r2.conf"
  wait_for 10 has_vip r1 || fail "$what: r1 never became master: $(tail -5 "$WORK/r1.log")"
  one_master_for 2 || fail "$what: not exactly one master ($(masters))"
  ip netns exec $T-c ping -c 1 -W 2 "$VIP_ADDR" >/dev/null || fail "$what: the VIP does not answer"
  # Crash of the master: SIGKILL and carrier loss.
  stop r1 KILL
  ip -n $T-sw link set sr1 down
  wait_for 10 has_vip r2 || fail "$what: r2 did not take over after the crash"
  ip -n $T-r1 addr flush dev eth0 scope global 2>/dev/null; host_cfg_again r1
  ip -n $T-sw link set sr1 up
  one_master_for 1 || fail "$what: not exactly one master after takeover"
  # r1 returns and preempts.
  start r1 "$high" "$WORK/r1.conf"
  wait_for 10 has_vip r1 || fail "$what: r1 did not preempt back"
  local end=$((SECONDS + 3))
  while has_vip r2; do [ $SECONDS -lt $end ] || fail "$what: r2 kept the VIP"; sleep 0.05; done
  one_master_for 1 || fail "$what: not exactly one master after preemption"
  stop r1 TERM
  stop r2 TERM
  pass "$what: one master, takeover on crash, preemption back"
}
host_cfg_again() { ip -n $T-$1 addr add 10.77.0.${1#r}/24 dev eth0 2>/dev/null || true; }

run_case 2 1 4 vnet
run_case 2 1 4 keepalived
run_case 3 0.1 4 vnet
run_case 3 0.1 4 keepalived
run_case 3 0.1 6 vnet
run_case 3 0.1 6 keepalived
echo "1 passed, 0 failed"
