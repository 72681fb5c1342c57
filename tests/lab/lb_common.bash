# Shared by the load-balancer lab tests (sourced after lib.sh): a director namespace D routing
# between a client C (10.80.0.2, VIP 10.80.0.100) and three real servers $T-r1..3
# (10.81.I.2:8000, `python3 -m http.server` serving /who = "rI", default route via D), and
# helpers around one `vnet vrrp` daemon reading $WORK/k.conf.
command -v python3 >/dev/null && command -v curl >/dev/null || { echo "SKIP: needs python3, curl"; exit 77; }
D=$T-dir C=$T-cli
ns_add $D
ns_add $C
ip netns exec $D sysctl -qw net.ipv4.ip_forward=1
ip -n $D link add eth0 type veth peer name eth0 netns $C
host_cfg $D eth0 02:00:00:00:81:01 10.80.0.1/24
host_cfg $C eth0 02:00:00:00:81:02 10.80.0.2/24
ip -n $C route add default via 10.80.0.1
for i in 1 2 3; do
  ns_add $T-r$i
  ip -n $D link add r$i type veth peer name eth0 netns $T-r$i
  host_cfg $D r$i 02:00:00:00:82:0$i 10.81.$i.1/24
  host_cfg $T-r$i eth0 02:00:00:00:83:0$i 10.81.$i.2/24
  ip -n $T-r$i route add default via 10.81.$i.1
  mkdir -p "$WORK/www$i"
  echo "r$i" > "$WORK/www$i/who"
done
RPID=()
start_real() {  # start_real I: the real server's http.server, its pid in RPID[I]
  (cd "$WORK/www$1" && exec ip netns exec $T-r$1 python3 -m http.server 8000 --bind 10.81.$1.2 \
     >"$WORK/http$1.log" 2>&1) &
  RPID[$1]=$!
  PIDS+=("$!")
  wait_for 5 ip netns exec $T-r$1 bash -c "exec 3<>/dev/tcp/10.81.$1.2/8000" || fail "r$1 did not start"
}

. "$(dirname "${BASH_SOURCE[0]}")/lb_helpers.bash"
