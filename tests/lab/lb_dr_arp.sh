#!/usr/bin/env bash
# lb_kind DR and the ARP problem, in a lab (issue #14 item 5): a client, a director (vnet vrrp:
# one VRRP instance holding the VIP 10.83.0.100 on eth0, one DR virtual server) and two real
# servers that hold the VIP on lo (the `loopback` key) WITHOUT arp_ignore/arp_announce, all on
# one vnet switch. Each round the client forgets its neighbours, pings the VIP and reads
# `ip neigh`; a netdev counter on the client counts ARP packets with the VIP as sender by source
# MAC. Then 20 HTTP requests through the VIP.
#   Without the switch's ARP filter: `vnet lab validate` warns at each real server's link; the
#   real servers' ARP replies for the VIP reach the client (counted, every round: arp_ignore=0
#   answers for any local address), and in at least one round of 10 the client's neighbour
#   entry for the VIP is a real server's MAC (which reply the client keeps is a race: the real
#   servers' ports come first in the switch's flood order, and they won 9 of 10 rounds in the
#   first runs; requests then bypass the director and all go to that real server).
#   With `drop_arp_for: [VIP]` on the real servers' links: no warning; no ARP with the VIP as
#   sender from a real server's MAC reaches the client; every round's neighbour entry is the
#   director's MAC; the switch counts the drops as arp_filtered on the real servers' ports
#   (port/stats) and on no other; all 20 requests are served, by both real servers.
. "$(dirname "$0")/lib.sh"
command -v python3 >/dev/null && command -v curl >/dev/null || { echo "SKIP: needs python3, curl"; exit 77; }
L=vdarp VIP=10.83.0.100
DMAC=02:00:00:00:83:01 CMAC=02:00:00:00:83:02 R1MAC=02:00:00:00:83:11 R2MAC=02:00:00:00:83:12
ip netns list | grep -q "^$L-" && fail "namespaces of lab $L exist before the test: $(ip netns list | grep "^$L-")"

write_lab() {  # write_lab FILTER_LINE: the real servers' links get FILTER_LINE (or nothing)
  cat > "$WORK/$L.yaml" <<YAML
name: $L
switches:
  - name: sw1
hosts:
  - name: c1
    interfaces: [{name: eth0, ipv4: 10.83.0.50/24, mac: "$CMAC"}]
  - name: r1
    interfaces: [{name: eth0, ipv4: 10.83.0.11/24, mac: "$R1MAC"}]
    loopback: $VIP/32
    commands: &web ["cd \$VNET_RUN_DIR && echo \$VNET_NODE > who && exec python3 -m http.server 80"]
  - name: r2
    interfaces: [{name: eth0, ipv4: 10.83.0.12/24, mac: "$R2MAC"}]
    loopback: $VIP/32
    commands: *web
routers:
  - name: d1
    interfaces: [{name: eth0, ipv4: 10.83.0.1/24, mac: "$DMAC"}]
    keepalived:
      config: |
        vrrp_instance VI {
          state MASTER
          interface eth0
          virtual_router_id 83
          priority 150
          advert_int 1
          virtual_ipaddress {
            $VIP/32
          }
        }
        virtual_server $VIP 80 {
          delay_loop 1
          lb_algo rr
          lb_kind DR
          protocol TCP
          real_server 10.83.0.11 80 {
            TCP_CHECK {
              connect_timeout 1
            }
          }
          real_server 10.83.0.12 80 {
            TCP_CHECK {
              connect_timeout 1
            }
          }
        }
links:
  - endpoints: [r1, sw1]
    $1
  - endpoints: [r2, sw1]
    $1
  - endpoints: [d1, sw1]
  - endpoints: [c1, sw1]
YAML
}

C=$L-c1
console() { "$VNET" ctl "$VNET_STATE_DIR/$L/console.sock" "$@"; }
# ARP packets with the VIP as sender arriving at the client, by source MAC.
count_arp() {
  ip netns exec $C nft -f - <<NFT
table netdev seen {
  chain in {
    type filter hook ingress device "eth0" priority 0; policy accept;
    ether type arp arp saddr ip $VIP ether saddr { $R1MAC, $R2MAC } counter name from_reals
    ether type arp arp saddr ip $VIP ether saddr $DMAC counter name from_director
  }
  counter from_reals {}
  counter from_director {}
}
NFT
}
packets() { ip netns exec $C nft -j list counter netdev seen "$1" | jq '.nftables[1].counter.packets'; }
served() {  # served: curl /who through the VIP once; prints r1, r2 or "fail"
  ip netns exec $C curl -s -m 3 "http://$VIP/who" 2>/dev/null || echo fail
}
serving() { case "$(served)" in r1 | r2) return 0 ;; esac; return 1; }
rounds() {  # rounds N: N × (flush, ping the VIP, read the neighbour); prints "director reals none"
  local d=0 r=0 n=0 mac
  for _ in $(seq "$1"); do
    ip -n $C neigh flush dev eth0
    ip netns exec $C ping -c 1 -W 1 $VIP >/dev/null 2>&1 || true
    sleep 0.3  # the other replies arrive (and, within locktime, are ignored or win)
    mac=$(ip -n $C neigh show $VIP dev eth0 | grep -o 'lladdr [0-9a-f:]*' | cut -d' ' -f2)
    case "$mac" in
      "$DMAC") d=$((d + 1)) ;;
      "$R1MAC" | "$R2MAC") r=$((r + 1)) ;;
      *) n=$((n + 1)) ;;
    esac
  done
  echo "$d $r $n"
}
spread() {  # spread N: N requests; prints "r1 r2 failed"
  local a=0 b=0 f=0 who
  for _ in $(seq "$1"); do
    who=$(served)
    case "$who" in r1) a=$((a + 1)) ;; r2) b=$((b + 1)) ;; *) f=$((f + 1)) ;; esac
  done
  echo "$a $b $f"
}
up() {
  "$VNET" lab up "$WORK/$L.yaml" > "$WORK/up.log" 2>&1 || fail "lab up: $(tail -20 "$WORK/up.log")"
  count_arp
  # The checkers' first round puts both real servers in: the VIP serves through the director.
  wait_for 20 serving || fail "the VIP never served: $(tail -5 "$WORK/up.log")"
}
filtered() {  # filtered PORT: arp_filtered drops counted on PORT
  console port/stats "$1" --json | jq '.[0].drops.arp_filtered // 0'
}

# ---- without the switch's ARP filter --------------------------------------------------------
write_lab ""
"$VNET" lab validate "$WORK/$L.yaml" > "$WORK/v1.out" 2>&1 || fail "validate refused: $(cat "$WORK/v1.out")"
for r in r1 r2; do
  grep -q "warning: $r is a real server of d1's lb_kind DR virtual server $VIP:80/TCP .* holds $VIP on lo .*add 'drop_arp_for: \[$VIP\]' to this link ($r:eth0–sw1)" "$WORK/v1.out" ||
    fail "no warning for $r: $(cat "$WORK/v1.out")"
done
pass "validate warns at both real servers' links, naming the node, the VIP and the fix"

up
read -r d r n <<<"$(rounds 10)"
fr=$(packets from_reals) fd=$(packets from_director)
echo "without filter: neighbour for $VIP after 10 rounds: director $d, a real server $r, none $n; ARP from the VIP: $fr from real servers' MACs, $fd from the director's"
[ "$fr" -ge 10 ] || fail "the real servers' ARP for the VIP did not reach the client ($fr packets): arp_ignore set?"
[ "$r" -ge 1 ] || fail "in no round did the client's neighbour entry for the VIP name a real server ($d director, $n none)"
read -r a b f <<<"$(spread 20)"
echo "without filter: 20 requests: r1=$a r2=$b failed=$f"
for p in $(console port/stats --json | jq -r '.[].port'); do
  [ "$(filtered "$p")" = 0 ] || fail "port $p counts arp_filtered without a filter"
done
pass "without the filter the real servers answer ARP for the VIP ($fr replies at the client; $r of 10 rounds the client's neighbour entry was a real server's MAC)"
"$VNET" lab down "$L" > /dev/null 2>&1 || fail "lab down"

# ---- with drop_arp_for on the real servers' links --------------------------------------------
write_lab "drop_arp_for: [$VIP]"
"$VNET" lab validate "$WORK/$L.yaml" > "$WORK/v2.out" 2>&1 || fail "validate refused: $(cat "$WORK/v2.out")"
! grep -q warning "$WORK/v2.out" || fail "a warning with the filter: $(cat "$WORK/v2.out")"
up
read -r d r n <<<"$(rounds 10)"
fr=$(packets from_reals) fd=$(packets from_director)
echo "with filter: neighbour for $VIP after 10 rounds: director $d, a real server $r, none $n; ARP from the VIP: $fr from real servers' MACs, $fd from the director's"
[ "$d" = 10 ] || fail "the client's neighbour entry for the VIP was not the director's in every round ($d/10; real servers $r)"
[ "$fr" = 0 ] || fail "$fr ARP packets with the VIP as sender from a real server's MAC reached the client"
read -r a b f <<<"$(spread 20)"
echo "with filter: 20 requests: r1=$a r2=$b failed=$f"
[ "$f" = 0 ] && [ "$a" -gt 0 ] && [ "$b" -gt 0 ] || fail "requests through the VIP: r1=$a r2=$b failed=$f"
# The drops, on the real servers' ports only (port/print shows the list).
stats=$(console port/stats --json)
total=0
for p in $(echo "$stats" | jq -r '.[].port'); do
  list=$(console port/print "$p" --json | jq -r '.[0].drop_arp_for // [] | join(",")')
  c=$(filtered "$p")
  if [ "$list" = "$VIP" ]; then
    [ "$c" -ge 10 ] || fail "port $p (filtering $VIP) counts $c arp_filtered drops, expected >= 10"
    total=$((total + c))
  else
    [ -z "$list" ] && [ "$c" = 0 ] || fail "port $p: filter '$list', $c arp_filtered"
  fi
done
console port/print | grep -q "drop ARP from: $VIP" || fail "port/print does not show the filter"
pass "with drop_arp_for: neighbour = the director's MAC 10/10, no real server's ARP for the VIP at the client, $total drops counted as arp_filtered on the two real servers' ports, 20/20 requests served (r1=$a r2=$b)"
"$VNET" lab down "$L" > /dev/null 2>&1 || fail "lab down"
ip netns list | grep -q "^$L-" && fail "namespaces left behind: $(ip netns list | grep "^$L-")"
echo "3 passed, 0 failed"
