#!/usr/bin/env bash
# Load balancer: failure-detection and recovery latency of vnet's keepalived-compatible virtual
# servers (`vnet vrrp -f keepalived.conf`, NAT, programmed into nftables) and of HAProxy with
# equivalent check settings, side by side in ONE run; then the new-connection rate through each
# datapath. Run as root from the repository (under the lab lock: it creates namespaces).
#   sudo flock /tmp/vnet-lab.lock bench/e2e/lb-detect.sh [TRIALS]     (default 10)
# Settings (environment): LB_D delay_loop (2), LB_C connect_timeout (1), LB_R retry (1),
# LB_B delay_before_retry (1), LB_MODES (link,stop), LB_RATE_SECS (3), LB_RATE_CONC (32),
# LB_RATE_REPS (3), LB_SEED (1).
#
# Topology (as tests/lab/lb_common.bash): a director namespace routes between a client
# (10.80.0.2) and three real servers r1..r3 (10.81.I.2:8000, default route via the director).
# The director runs both load balancers at once over the same real servers, so every fault is
# seen by both: vnet on VIP 10.80.0.100:80, HAProxy on 10.80.0.100:8080. The real servers are a
# small asyncio server (lb_detect.py serve): a fixed HTTP/1.0 answer, then close.
#
# Equivalent settings. keepalived TCP_CHECK { connect_timeout C retry R delay_before_retry B }
# with delay_loop D; HAProxy `server ... check inter D fastinter B downinter D fall R+1 rise 1`
# with `timeout connect C` and `timeout check C` (a TCP check is a connect: HAProxy's check
# connect timeout is min(timeout connect, inter) when `timeout check` is set). Both schedule the
# next check from the END of the previous one (keepalived tcp_epilog(); HAProxy process_chk_conn:
# expire = now + srv_getinter()); after a failure with retries left keepalived waits B,
# HAProxy fastinter (used while health is between fall and rise); a down server is probed every
# D (HAProxy downinter; keepalived retries at B while down too, which only matters if B > D).
# Both remove after R+1 consecutive failures and re-add on the first success (rise 1).
# Bounds (fault just after a successful check, which takes ~0 s on a healthy server):
#   link down (silent: SYNs vanish, each check times out after C):
#     removal D + (R+1)·C + R·B          re-add C + max(D, B) (a check started just before the
#                                         link came up still times out, the next one succeeds)
#   server killed (refused: RST, each check fails at once):
#     removal D + R·B                    re-add max(D, B)
# The link fault sets the real server's own end of its veth down (the director keeps its route
# and neighbour, so its SYNs are dropped silently); recovery sets it up and restores its default
# route. Removal is timed from the fault to the first 10 ms poll that shows the server out
# (vnet: `lb/show --json` in_table false, i.e. gone from the table vnet writes to nftables;
# HAProxy: `show stat` status DOWN on its admin socket), re-add from the link coming up / the
# restarted server listening to the first poll that shows it back. The goal (issue #14): every
# trial within bound + 50 ms, and never slower than HAProxy. Also printed: vnet's own reaction
# time (lb/show's age of the deciding check's outcome at the poll that saw the change).
#
# Debian's keepalived in a VM (LB_VM=1, the default when qemu-system-x86_64 and keepalived are
# installed; LB_VM=0 skips it): a TCG guest whose kernel has ip_vs (scripts/vm-image.sh: the
# kernel, busybox, keepalived.gz and ipvs.gz layers) on a tap in the director's namespace
# (guest 10.82.0.2, routed by the director like the client) runs keepalived --check on the SAME
# keepalived.conf, so its checker probes r2 beside vnet's and HAProxy's and sees every fault. Its
# log (keepalived -l, written to a virtio console, which QEMU does not pace like the 115200-baud
# serial port) says "Removing service [r2]…" / "Adding service [r2]…" as it issues the IPVS
# command; the poll reads the new lines every 10 ms. The guest is emulated (TCG, one vCPU): its
# timers run on the same host clock, but every step is slower than on the host.
#
# New-connection rate: the same client (lb_detect.py rate: CONC asyncio loops of connect, GET,
# read to EOF, close, for SECS s) against vnet's VIP (kernel DNAT, one TCP connection
# client->real), HAProxy's VIP (a proxy: two TCP connections per request, the second from the
# director, in user space) and directly to r1 (routed through the director, no NAT: the
# reference), and to r1..r3 round robin by the client. Reps are interleaved; the median counts.
set -euo pipefail
cd "$(dirname "$0")/../.."
# shellcheck source=bench/e2e/lib.sh
. bench/e2e/lib.sh
TRIALS=${1:-10}
D=${LB_D:-2} C=${LB_C:-1} R=${LB_R:-1} B=${LB_B:-1}
MODES=${LB_MODES:-link,stop}
RATE_SECS=${LB_RATE_SECS:-3} RATE_CONC=${LB_RATE_CONC:-32} RATE_REPS=${LB_RATE_REPS:-3}
VNET=${VNET:-build/release/vnet}
LB_VM=${LB_VM:-$(command -v qemu-system-x86_64 >/dev/null && command -v keepalived >/dev/null && echo 1 || echo 0)}
HAPROXY=${HAPROXY:-/usr/sbin/haproxy}
PY=bench/e2e/lb_detect.py
[ "$(id -u)" = 0 ] || bench_die "run as root (namespaces)"
[ -x "$VNET" ] || bench_die "$VNET not built (cmake --build --preset release --target vnet)"
bench_need "$HAPROXY" haproxy && bench_need python3 python3 || exit 1

BENCH_PREFIX=lbd$$
WORK=$(mktemp -d /tmp/lb-detect.XXXXXX)
DIR=$BENCH_PREFIX-dir CLI=$BENCH_PREFIX-cli
PIDS=()
cleanup() {
  set +e  # lib.sh's helpers expect it (a kill of a process that already exited fails)
  [ ${#PIDS[@]} -gt 0 ] && bench_stop_pids "${PIDS[@]}"
  bench_ns_del_all
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

cfg() { ip -n "$1" link set "$2" address "$3" && ip -n "$1" addr add "$4" dev "$2" && ip -n "$1" link set "$2" up; }
bench_ns_add "$DIR"
bench_ns_add "$CLI"
ip netns exec "$DIR" sysctl -qw net.ipv4.ip_forward=1
ip -n "$DIR" link add eth0 type veth peer name eth0 netns "$CLI"
cfg "$DIR" eth0 02:00:00:00:81:01 10.80.0.1/24
cfg "$CLI" eth0 02:00:00:00:81:02 10.80.0.2/24
ip -n "$CLI" route add default via 10.80.0.1
ip -n "$DIR" addr add 10.80.0.100/32 dev lo
# Many short connections: reuse TIME_WAIT ports (client, and HAProxy's side to the servers).
for ns in "$CLI" "$DIR"; do
  ip netns exec "$ns" sysctl -qw net.ipv4.tcp_tw_reuse=1 net.ipv4.ip_local_port_range="10000 65000"
done
for i in 1 2 3; do
  bench_ns_add "$BENCH_PREFIX-r$i"
  ip -n "$DIR" link add r$i type veth peer name eth0 netns "$BENCH_PREFIX-r$i"
  cfg "$DIR" r$i 02:00:00:00:82:0$i 10.81.$i.1/24
  cfg "$BENCH_PREFIX-r$i" eth0 02:00:00:00:83:0$i 10.81.$i.2/24
  ip -n "$BENCH_PREFIX-r$i" route add default via 10.81.$i.1
done
# r1 and r3 run for the whole benchmark; r2, the one that fails, is run by the detect step.
for i in 1 3; do
  ip netns exec "$BENCH_PREFIX-r$i" python3 "$PY" serve 10.81.$i.2 8000 r$i >"$WORK/r$i.out" 2>&1 &
  PIDS+=("$!")
  bench_wait_file "$WORK/r$i.out" || bench_die "r$i did not start"
done

{
  echo "virtual_server 10.80.0.100 80 {"
  echo "  delay_loop $D"
  echo "  lb_algo rr"
  echo "  lb_kind NAT"
  echo "  protocol TCP"
  for i in 1 2 3; do
    echo "  real_server 10.81.$i.2 8000 {"
    echo "    TCP_CHECK {"
    echo "      connect_timeout $C"
    echo "      retry $R"
    echo "      delay_before_retry $B"
    echo "    }"
    echo "  }"
  done
  echo "}"
} >"$WORK/keepalived.conf"
ms() { awk -v s="$1" 'BEGIN { printf "%d", s * 1000 }'; }
{
  cat <<EOF
global
  stats socket $WORK/haproxy.sock mode 600 level admin
  maxconn 8000
defaults
  mode tcp
  timeout connect $(ms "$C")
  timeout check $(ms "$C")
  timeout client 10s
  timeout server 10s
frontend fe
  bind 10.80.0.100:8080
  default_backend be
backend be
  balance roundrobin
EOF
  for i in 1 2 3; do
    echo "  server r$i 10.81.$i.2:8000 check inter $(ms "$D") fastinter $(ms "$B") downinter $(ms "$D") fall $((R + 1)) rise 1"
  done
} >"$WORK/haproxy.cfg"

start_vnet() {
  ip netns exec "$DIR" "$VNET" vrrp -f "$WORK/keepalived.conf" -M "$WORK/vnet.sock" \
    -p "$WORK/vnet.pid" --log "$WORK/vnet.log" -d
  bench_wait_file "$WORK/vnet.pid" || bench_die "vnet vrrp did not start: $(cat "$WORK/vnet.log")"
  PIDS+=("$(cat "$WORK/vnet.pid")")
}
start_haproxy() {
  ip netns exec "$DIR" "$HAPROXY" -f "$WORK/haproxy.cfg" -db >"$WORK/haproxy.log" 2>&1 &
  HPID=$!
  PIDS+=("$HPID")
  local deadline=$((SECONDS + 5))
  until [ -S "$WORK/haproxy.sock" ]; do
    [ $SECONDS -lt $deadline ] || bench_die "haproxy did not start: $(cat "$WORK/haproxy.log")"
    sleep 0.05
  done
}
start_keepalived_vm() {
  scripts/vm-image.sh build/vm >"$WORK/vm-image.log" 2>&1 || bench_die "vm image: $(tail -3 "$WORK/vm-image.log")"
  [ -s build/vm/ipvs.gz ] && [ -s build/vm/keepalived.gz ] || bench_die "no ipvs.gz or keepalived.gz in build/vm"
  cat build/vm/initrd.gz build/vm/keepalived.gz build/vm/ipvs.gz >"$WORK/ka-initrd"
  {
    echo '#!vnet-config'
    echo 'PATH=/bin:/sbin:/usr/sbin:/usr/bin'
    echo 'ip route add default via 10.82.0.1'
    echo "cat >/tmp/lb.conf <<'VNET_LB_CONF'"
    cat "$WORK/keepalived.conf"
    echo VNET_LB_CONF
    echo 'mkdir -p /run/keepalived'
    echo 'i=0; while [ ! -e /dev/hvc0 ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done'
    echo 'exec keepalived -n -l -C -f /tmp/lb.conf -p /run/keepalived.pid -c /run/checkers.pid >/dev/hvc0 2>&1'
  } >"$WORK/ka.disk"
  truncate -s 64K "$WORK/ka.disk"
  : >"$WORK/ka-events"
  ip netns exec "$DIR" qemu-system-x86_64 -accel tcg -m 512 -smp 1 -display none -monitor none \
    -no-reboot -kernel build/vm/vmlinuz -initrd "$WORK/ka-initrd" \
    -append "console=ttyS0 quiet panic=-1 vnet.ip=10.82.0.2/24" \
    -drive "file=$WORK/ka.disk,format=raw,if=virtio" \
    -netdev tap,id=n0,ifname=vmka,script=no,downscript=no -device virtio-net-pci,netdev=n0 \
    -device virtio-serial-pci -chardev "file,id=ev,path=$WORK/ka-events" \
    -device virtconsole,chardev=ev -serial "file:$WORK/ka-console.log" </dev/null >"$WORK/qemu.log" 2>&1 &
  PIDS+=("$!")
  local deadline=$((SECONDS + 10))
  until ip -n "$DIR" link show vmka >/dev/null 2>&1; do
    [ $SECONDS -lt $deadline ] || bench_die "QEMU made no tap: $(cat "$WORK/qemu.log")"
    sleep 0.05
  done
  ip -n "$DIR" addr add 10.82.0.1/24 dev vmka
  ip -n "$DIR" link set vmka up
  deadline=$((SECONDS + 90))
  until grep -q "Startup complete" "$WORK/ka-events"; do
    [ $SECONDS -lt $deadline ] || bench_die "keepalived in the VM did not start: $(tail -5 "$WORK/ka-events" "$WORK/ka-console.log")"
    sleep 0.2
  done
}
[ "$LB_VM" = 1 ] && start_keepalived_vm
# Which daemon starts first sets the two checkers' initial relative phase (LB_FIRST=haproxy to
# swap it); both then reschedule from their own check ends.
if [ "${LB_FIRST:-vnet}" = haproxy ]; then start_haproxy; start_vnet; else start_vnet; start_haproxy; fi
bench_log "vnet $("$VNET" --version 2>/dev/null | head -1), $("$HAPROXY" -v | head -1)$([ "$LB_VM" = 1 ] && echo ", $(keepalived --version 2>&1 | head -1) in a TCG VM")"
bench_log "checks: delay_loop $D s, connect_timeout $C s, retry $R, delay_before_retry $B s; $TRIALS trials per failure mode ($MODES)"

# ------------------------------------------------------------------ detection
python3 "$PY" detect D="$D" C="$C" R="$R" B="$B" trials="$TRIALS" modes="$MODES" \
  ns="$BENCH_PREFIX-r2" dirns="$DIR" gw=10.81.2.1 addr=10.81.2.2 port=8000 name=r2 seed="${LB_SEED:-1}" \
  vsock="$WORK/vnet.sock" hsock="$WORK/haproxy.sock" pidfile="$WORK/r2.pid" \
  kaevents="$([ "$LB_VM" = 1 ] && echo "$WORK/ka-events")" \
  >"$WORK/detect.json" &
DETECT=$!  # in the background, so that a signal reaches the trap at once (cleanup stops it)
PIDS+=("$DETECT")
wait "$DETECT" || bench_die "detection trials failed"
# r2's server (started by detect) is in r2's namespace: cleanup stops it with the namespace.

echo "## Failure detection (delay_loop $D s, connect_timeout $C s, retry $R, delay_before_retry $B s; $TRIALS trials each, $(date -u '+%Y-%m-%d %H:%M UTC'))"
echo
python3 "$PY" table "$WORK/detect.json" 50
echo

# ------------------------------------------------------------------ new-connection rate
[ "$RATE_REPS" -gt 0 ] || exit 0
declare -A TGT=([vnet-nft]=10.80.0.100:80 [haproxy]=10.80.0.100:8080 [direct-r1]=10.81.1.2:8000
  [direct-r1..r3]="10.81.1.2:8000 10.81.2.2:8000 10.81.3.2:8000")
ORDER=(vnet-nft haproxy direct-r1 direct-r1..r3)
declare -A VALS=() ERRS=() BUSY=() HCPU=()
for rep in $(seq "$RATE_REPS"); do
  for k in "${ORDER[@]}"; do
    c0=$(bench_cpu_snap) h0=$(bench_proc_ticks "$HPID")
    # shellcheck disable=SC2086  # several targets: one word each
    read -r v e <<<"$(ip netns exec "$CLI" python3 "$PY" rate "$RATE_SECS" "$RATE_CONC" ${TGT[$k]})"
    c1=$(bench_cpu_snap) h1=$(bench_proc_ticks "$HPID")
    VALS[$k]+="$v "
    ERRS[$k]=$((${ERRS[$k]:-0} + e))
    BUSY[$k]+="$(bench_cpu_busy "$c0" "$c1") "
    HCPU[$k]+="$(awk -v t=$((h1 - h0)) -v hz="$CLK_TCK" -v s="$RATE_SECS" 'BEGIN { printf "%.0f", 100 * t / hz / s }') "
    bench_log "rate rep $rep $k: $v conn/s ($e errors)"
    sleep 1
  done
done
echo "## New-connection rate ($RATE_CONC parallel connect-GET-close loops, $RATE_REPS × $RATE_SECS s interleaved; median conn/s)"
echo
echo "| datapath | conn/s (median) | runs | errors | CPU busy % cpu0/cpu1 per run | haproxy CPU % per run |"
echo "|---|---|---|---|---|---|"
for k in "${ORDER[@]}"; do
  med=$(tr ' ' '\n' <<<"${VALS[$k]}" | grep . | sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }')
  echo "| $k | $med | ${VALS[$k]% } | ${ERRS[$k]} | ${BUSY[$k]% } | ${HCPU[$k]% } |"
done
