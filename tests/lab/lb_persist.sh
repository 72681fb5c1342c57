#!/usr/bin/env bash
# persistence_timeout on the nftables NAT datapath: client affinity through a timeout map keyed
# on the client's address (masked by persistence_granularity) that remembers each client's real
# server. Topology of lb_common.bash; the client namespace holds seven addresses 10.80.0.2-8.
# Asserts (rr over three real servers, counted from the servers' logs): one client gets the same
# real server for 20 connections; seven clients, 5 connections each, each stay on one real
# server and are spread 3/2/2 (rr over new clients); with persistence_granularity 255.255.255.0
# all seven share one real server; with persistence_timeout 2, an idle client is rescheduled
# after the timeout (to the next real server in rr).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lb_common.bash"
for i in 1 2 3; do start_real $i; done
for k in 3 4 5 6 7 8; do ip -n $C addr add 10.80.0.$k/24 dev eth0; done
ip -n $D addr add 10.80.0.100/32 dev lo

write_conf() {  # write_conf TIMEOUT [GRANULARITY]
  {
    cat <<CONF
virtual_server 10.80.0.100 80 {
  delay_loop 1
  lvs_sched rr
  lb_kind NAT
  protocol TCP
  persistence_timeout $1
CONF
    [ -n "${2:-}" ] && echo "  persistence_granularity $2"
    for i in 1 2 3; do
      cat <<CONF
  real_server 10.81.$i.2 8000 {
    TCP_CHECK {
      connect_timeout 1
    }
  }
CONF
    done
    echo "}"
  } > "$WORK/k.conf"
}
logged() { grep -c '"GET /who' "$WORK/http$1.log" || true; }
# from K N: N requests from 10.80.0.K; prints the real server that answered each, sorted -u.
from() {
  local k=$1 n=$2
  for _ in $(seq "$n"); do
    ip netns exec $C curl -s --max-time 2 --interface 10.80.0.$k http://10.80.0.100/who || echo fail
  done | sort | uniq -c | awk '{printf "%s:%s ", $2, $1}'
}

write_conf 60
start_daemon
wait_for 6 all_in || fail "real servers not in the table: $(show)"
# contains, not `| grep -q`: under pipefail, nft killed by SIGPIPE when grep exits early fails it.
contains "map persist_tcp_10_80_0_100_80" ip netns exec $D nft list table ip vnet_lb ||
  fail "no persistence map: $(ip netns exec $D nft list table ip vnet_lb)"
got=$(from 2 20)
echo "one client, 20 connections: $got"
[[ $got =~ ^r[123]:20\ $ ]] || fail "one client spread over several real servers: $got"
first=${got%%:*}
pass "one client kept on $first for 20 connections"

declare -A per=([r1]=0 [r2]=0 [r3]=0)
per[$first]=1
l0=( "$(logged 1)" "$(logged 2)" "$(logged 3)" )
for k in 3 4 5 6 7 8; do
  got=$(from $k 5)
  echo "client 10.80.0.$k: $got"
  [[ $got =~ ^r[123]:5\ $ ]] || fail "client 10.80.0.$k not kept on one real server: $got"
  per[${got%%:*}]=$(( per[${got%%:*}] + 1 ))
done
n=( $(( $(logged 1) - l0[0] )) $(( $(logged 2) - l0[1] )) $(( $(logged 3) - l0[2] )) )
echo "clients per real server: r1=${per[r1]} r2=${per[r2]} r3=${per[r3]}; logs of the 30 requests: ${n[*]}"
[ $(( n[0] + n[1] + n[2] )) = 30 ] || fail "the servers logged ${n[*]}, not 30 requests"
sorted=$(printf '%s\n' "${per[r1]}" "${per[r2]}" "${per[r3]}" | sort -n | tr '\n' ' ')
[ "$sorted" = "2 2 3 " ] || fail "seven clients spread ${per[r1]}/${per[r2]}/${per[r3]}, expected 3/2/2"
pass "seven clients each kept on one real server, spread ${per[r1]}/${per[r2]}/${per[r3]}"

# Granularity /24: the seven addresses are one client.
write_conf 60 255.255.255.0
kill -HUP "$DPID"
wait_for 5 eval 'ip netns exec $D nft list table ip vnet_lb | grep -q "ip saddr & 255.255.255.0"' ||
  fail "granularity not applied: $(ip netns exec $D nft list table ip vnet_lb)"
all=""
for k in 2 3 4 5 6 7 8; do all+=$(from $k 3); done
echo "granularity 255.255.255.0, 7 clients x 3: $all"
servers=$(grep -o 'r[123]' <<<"$all" | sort -u | wc -l)
[ "$servers" = 1 ] && [[ $all != *fail* ]] || fail "one /24 spread over $servers real servers: $all"
pass "persistence_granularity 255.255.255.0: seven addresses of one /24 on one real server"

# Timeout: after 2 s idle the client is scheduled afresh (rr: the next real server).
write_conf 2
kill -HUP "$DPID"
wait_for 5 eval 'ip netns exec $D nft list table ip vnet_lb | grep -q "timeout 2s"' || fail "timeout 2 not applied"
a=$(from 2 3)
sleep 3.5  # the affinity's lifetime is what is measured
b=$(from 2 3)
echo "persistence_timeout 2: before $a, after 3.5 s idle $b"
[[ $a =~ ^r[123]:3\ $ && $b =~ ^r[123]:3\ $ ]] || fail "not kept within the timeout: $a / $b"
[ "${a%%:*}" != "${b%%:*}" ] || fail "still on ${a%%:*} after the timeout"
pass "persistence_timeout 2: kept within, rescheduled after (${a%%:*} -> ${b%%:*})"
