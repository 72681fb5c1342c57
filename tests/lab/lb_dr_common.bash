# Shared by the lb_kind DR lab tests (sourced after lib.sh): one L2 segment, a Linux bridge in
# namespace $T-br, holding a director D (eth0 02:00:00:00:84:01, 10.82.0.1/24, VIP 10.82.0.100 on
# eth0), a client C (02:00:00:00:84:02, 10.82.0.2/24) and three real servers $T-r1..3
# (02:00:00:00:85:0I, 10.82.0.1I/24) holding the VIP on lo with arp_ignore=1 / arp_announce=2,
# each with a web root $WORK/wwwI serving /who = "rI". start_real I runs rI's
# `python3 -m http.server` on *:80 (its own address for the checker, the VIP for the clients).
# Extra VIPs: DR_VIPS (default: the VIP alone) are added to the director's eth0 and the real
# servers' lo.
command -v python3 >/dev/null && command -v curl >/dev/null || { echo "SKIP: needs python3, curl"; exit 77; }
B=$T-br D=$T-dir C=$T-cli VIP=10.82.0.100 DMAC=02:00:00:00:84:01
DR_VIPS=${DR_VIPS:-$VIP}
ns_add $B
ip -n $B link add br0 type bridge
ip -n $B link set br0 up
seg() {  # seg NS PORT MAC ADDR: NS's eth0 on the bridge as PORT
  ns_add "$1"
  ip -n $B link add "$2" type veth peer name eth0 netns "$1"
  ip -n $B link set "$2" master br0 up
  ip netns exec "$1" sysctl -qw net.ipv6.conf.all.disable_ipv6=1
  host_cfg "$1" eth0 "$3" "$4"
}
seg $D pd $DMAC 10.82.0.1/24
seg $C pc 02:00:00:00:84:02 10.82.0.2/24
for v in $DR_VIPS; do ip -n $D addr add $v/32 dev eth0; done
for i in 1 2 3; do
  seg $T-r$i pr$i 02:00:00:00:85:0$i 10.82.0.1$i/24
  ip netns exec $T-r$i sysctl -qw net.ipv4.conf.all.arp_ignore=1 net.ipv4.conf.all.arp_announce=2
  for v in $DR_VIPS; do ip -n $T-r$i addr add $v/32 dev lo; done
  mkdir -p "$WORK/www$i"
  echo "r$i" > "$WORK/www$i/who"
done
RPID=()
start_real() {  # start_real I
  (cd "$WORK/www$1" && exec ip netns exec $T-r$1 python3 -m http.server 80 >"$WORK/http$1.log" 2>&1) &
  RPID[$1]=$!
  PIDS+=("$!")
  wait_for 5 ip netns exec $T-r$1 bash -c "exec 3<>/dev/tcp/10.82.0.1$1/80" || fail "r$1 did not start"
}
dr_table() { ip netns exec $D nft list table netdev vnet_lb_dr 2>&1; }
dr_reals_conf() {  # the three real servers with a TCP_CHECK each, for k.conf
  for i in 1 2 3; do
    printf '  real_server 10.82.0.1%s 80 {\n    TCP_CHECK {\n      connect_timeout 1\n    }\n  }\n' "$i"
  done
}
