#!/usr/bin/env bash
# lb/show's traffic counters (ipvsadm -Ln --stats) on the nftables NAT datapath: one `vnet vrrp`
# daemon, a virtual_server (NAT, rr) over three `python3 -m http.server` real servers. The
# client counts, in its own nftables table, the packets and bytes it sends to VIP:80 and receives
# from it. Asserts: after 30 requests each real server's conns equals the requests its body
# answered (sum 30, ±0), its inpkts/outpkts/inbytes/outbytes are > 0, the service's counters are
# the sum of its real servers', and the sums equal the client's own count of packets and bytes
# (exact: DNAT keeps the IP length); the text output has ipvsadm's columns; a reload to wrr (the
# table reprogrammed) and a killed real server (out of the table) keep every counter, and 20
# more requests bring conns to 50 exactly; stopping the daemon removes `table ip vnet_lb_stats`.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lb_common.bash"
ip -n $D addr add $VIP/32 dev lo
for i in 1 2 3; do start_real $i; done

write_conf() {  # write_conf SCHED
  {
    cat <<CONF
virtual_server $VIP 80 {
  delay_loop 1
  lvs_sched $1
  lvs_method NAT
  protocol TCP
CONF
    for i in 1 2 3; do
      cat <<CONF
  real_server 10.81.$i.2 8000 {
    weight $i
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

# The client's own count of what it sent to and received from the VIP.
ip netns exec $C nft -f - <<NFT
table ip seen {
  counter sent {}
  counter received {}
  chain out {
    type filter hook output priority 0; policy accept;
    ip daddr $VIP tcp dport 80 counter name sent
  }
  chain in {
    type filter hook input priority 0; policy accept;
    ip saddr $VIP tcp sport 80 counter name received
  }
}
NFT
seen() { ip netns exec $C nft -j list counter ip seen "$1" | jq -r ".nftables[1].counter.$2"; }
real() { show | jq -r ".[0].reals[$(($1 - 1))].$2"; }
total() { show | jq -r ".[0].$1"; }
sum_reals() { show | jq "[.[0].reals[].$1] | add"; }

write_conf rr
start_daemon
wait_for 8 all_in || fail "real servers not in the table: $(show)"
ip netns exec $D nft list table ip vnet_lb_stats >/dev/null || fail "no table ip vnet_lb_stats"
[ "$(total conns)" = 0 ] && [ "$(real 1 inpkts)" = 0 ] || fail "counters not zero at start: $(show)"

read -r a b c f <<<"$(spread 30)"
echo "30 requests: r1=$a r2=$b r3=$c failed=$f"
[ "$f" = 0 ] || fail "$f of 30 requests failed"
"$VNET" ctl "$M" lb/show
i=1
for n in $a $b $c; do
  [ "$(real $i conns)" = "$n" ] || fail "r$i: conns $(real $i conns), its body answered $n: $(show)"
  for k in inpkts outpkts inbytes outbytes; do
    [ "$(real $i "$k")" -gt 0 ] || fail "r$i: $k is $(real $i "$k"): $(show)"
  done
  i=$((i + 1))
done
for k in conns inpkts outpkts inbytes outbytes; do
  [ "$(total $k)" = "$(sum_reals $k)" ] || fail "service $k $(total $k) is not the sum $(sum_reals $k)"
done
[ "$(total conns)" = 30 ] || fail "service conns $(total conns), 30 requests"
pass "30 requests: conns $a/$b/$c by real server (sum 30, as the bodies), every counter > 0, service = sum"

echo "client sent $(seen sent packets) packets / $(seen sent bytes) bytes, received $(seen received packets) / $(seen received bytes); lb/show in $(total inpkts) / $(total inbytes), out $(total outpkts) / $(total outbytes)"
[ "$(total inpkts)" = "$(seen sent packets)" ] && [ "$(total inbytes)" = "$(seen sent bytes)" ] ||
  fail "in $(total inpkts)/$(total inbytes) differs from the client's sent $(seen sent packets)/$(seen sent bytes)"
[ "$(total outpkts)" = "$(seen received packets)" ] && [ "$(total outbytes)" = "$(seen received bytes)" ] ||
  fail "out $(total outpkts)/$(total outbytes) differs from the client's received $(seen received packets)/$(seen received bytes)"
pass "in and out packets and bytes equal the client's own count, exactly"

text=$("$VNET" ctl "$M" lb/show)
[[ $text == *"Conns   InPkts  OutPkts  InBytes OutBytes"* ]] || fail "text lacks ipvsadm's --stats columns: $text"
line=$(grep -E "^  -> 10\.81\.1\.2:8000 +[0-9]" <<<"$text") || fail "no counter line for r1: $text"
read -r _ _ tc ti to tib tob <<<"$line"
[ "$tc $ti $to $tib $tob" = "$(real 1 conns) $(real 1 inpkts) $(real 1 outpkts) $(real 1 inbytes) $(real 1 outbytes)" ] ||
  fail "text '$line' differs from the JSON"
pass "text output: ipvsadm's Conns InPkts OutPkts InBytes OutBytes columns, as the JSON"

# Reprogramming: a reload (rr -> wrr) rewrites the datapath; a killed real server leaves the table.
before=$(show | jq -c '[.[0].reals[] | [.conns, .inpkts, .outpkts, .inbytes, .outbytes]]')
write_conf wrr
kill -HUP "$DPID"
wait_for 5 contains "numgen inc mod 6" ip netns exec $D nft list table ip vnet_lb || fail "reload not applied: $(ip netns exec $D nft list table ip vnet_lb)"
kill "${RPID[3]}"
wait_for 7 eval '! in_table 3' || fail "r3 not removed: $(show)"
after=$(show | jq -c '[.[0].reals[] | [.conns, .inpkts, .outpkts, .inbytes, .outbytes]]')
[ "$after" = "$before" ] || fail "counters changed across reload and removal with no traffic: $before -> $after"
r3=$(real 3 conns)
read -r a b c f <<<"$(spread 20)"
echo "after reload and r3's removal, 20 requests: r1=$a r2=$b r3=$c failed=$f"
[ "$f" = 0 ] && [ "$c" = 0 ] || fail "20 requests: $a/$b/$c failed $f"
[ "$(total conns)" = 50 ] || fail "service conns $(total conns) after 50 requests: $(show)"
[ "$(real 3 conns)" = "$r3" ] || fail "r3 (out of the table) conns $r3 -> $(real 3 conns)"
[ "$(total inpkts)" = "$(seen sent packets)" ] && [ "$(total outbytes)" = "$(seen received bytes)" ] ||
  fail "after reprogramming, in $(total inpkts) / out bytes $(total outbytes) differ from the client's $(seen sent packets) / $(seen received bytes)"
pass "reload and a removed real server keep every counter ($before); 20 more requests: conns 50, still equal to the client's count"

kill "$DPID"
wait_for 5 gone "$DPID" || fail "daemon did not stop"
! ip netns exec $D nft list table ip vnet_lb_stats >/dev/null 2>&1 || fail "table ip vnet_lb_stats left behind"
pass "daemon stopped: table ip vnet_lb_stats removed"
