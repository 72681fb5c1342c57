# shellcheck shell=bash
# Helpers for vnet's end-to-end benchmarks (sourced by switch-bench.sh and the switch files in
# bench/switches/). Everything a run creates carries the prefix $BENCH_PREFIX (unique per run):
# the namespaces $BENCH_H1, $BENCH_H2 and $BENCH_SW. Traffic flows only between the two host
# namespaces. Nothing outside these namespaces and the scratch directory is changed.

BENCH_PREFIX=${BENCH_PREFIX:-vb$$}
BENCH_H1=$BENCH_PREFIX-h1       # sender host
BENCH_H2=$BENCH_PREFIX-h2       # receiver host
BENCH_SW=$BENCH_PREFIX-sw       # the switch's namespace (bridge, veth ends, daemons)
BENCH_IF=eth0                   # the host interface in $BENCH_H1 and $BENCH_H2
BENCH_IP1=10.77.0.1
BENCH_IP2=10.77.0.2
BENCH_MAC1=02:be:00:00:00:01
BENCH_MAC2=02:be:00:00:00:02
BENCH_UDP_PORT=9                # the 64-byte frames' destination port (discard)

BENCH_PIN=${BENCH_PIN:-1}             # 0: no CPU pinning
BENCH_GEN_CPU=${BENCH_GEN_CPU:-0}     # generator, iperf3 client and server
BENCH_SW_CPU=${BENCH_SW_CPU:-1}       # userspace switch processes, RPS target of bridge-rps
CLK_TCK=$(getconf CLK_TCK)

bench_log() { printf '[%(%H:%M:%S)T] %s\n' -1 "$*" >&2; }
bench_die() { bench_log "error: $*"; exit 1; }

# bench_need CMD PACKAGE: fail with the Debian package to install when CMD is missing.
bench_need() {
  command -v "$1" >/dev/null 2>&1 && return 0
  bench_log "error: '$1' not found: apt-get install $2 (or run scripts/deps.sh)"
  return 1
}

# bench_pin CPU CMD...: run CMD on CPU (unpinned with BENCH_PIN=0).
bench_pin() {
  local cpu=$1
  shift
  if [ "$BENCH_PIN" = 1 ]; then taskset -c "$cpu" "$@"; else "$@"; fi
}

# bench_pin_pid PID CPU: move every thread of a running process to CPU.
bench_pin_pid() {
  [ "$BENCH_PIN" = 1 ] || return 0
  taskset -a -p -c "$2" "$1" >/dev/null
}

# ------------------------------------------------------------------ namespaces
bench_ns_list() { ip netns list | awk -v p="$BENCH_PREFIX-" 'index($1, p) == 1 { print $1 }'; }

bench_ns_add() {
  ip netns add "$1" && ip -n "$1" link set lo up
}

# bench_ns_del NS: stop every process still living in NS (all of them were started by this run:
# the name is unique to it), then delete NS; its interfaces go with it.
bench_ns_del() {
  local ns=$1 pids
  pids=$(ip netns pids "$ns" 2>/dev/null | tr '\n' ' ')
  # shellcheck disable=SC2086
  [ -n "${pids// /}" ] && bench_stop_pids $pids
  ip netns del "$ns" 2>/dev/null
  return 0
}

# Delete every namespace of this run (idempotent; used on every exit path).
bench_ns_del_all() {
  local ns
  for ns in $(bench_ns_list); do bench_ns_del "$ns"; done
}

bench_ns_of() { if [ "$1" = 1 ]; then echo "$BENCH_H1"; else echo "$BENCH_H2"; fi; }

# bench_veth_to_switch IDX DEV: a veth pair from host IDX (1 or 2, named $BENCH_IF there) to DEV
# in $BENCH_SW, DEV up.
bench_veth_to_switch() {
  local ns
  ns=$(bench_ns_of "$1")
  ip link add "$BENCH_PREFIX-v$1" netns "$ns" type veth peer name "$2" netns "$BENCH_SW" || return 1
  ip -n "$ns" link set "$BENCH_PREFIX-v$1" name "$BENCH_IF" || return 1
  ip -n "$BENCH_SW" link set "$2" up
}

# bench_move_to_host DEV IDX: move DEV (e.g. a tap the switch created) from $BENCH_SW into host
# IDX and name it $BENCH_IF there.
bench_move_to_host() {
  local ns
  ns=$(bench_ns_of "$2")
  ip -n "$BENCH_SW" link set "$1" netns "$ns" || return 1
  ip -n "$ns" link set "$1" name "$BENCH_IF"
}

# bench_rps NS DEV CPU: steer the receive processing of DEV's queues to CPU (RPS).
bench_rps() {
  local mask
  mask=$(printf '%x' $((1 << $3)))
  ip netns exec "$1" sh -c "for q in /sys/class/net/$2/queues/rx-*; do echo $mask > \$q/rps_cpus || exit 1; done"
}

# bench_host_cfg IDX: address, MAC and a static neighbour entry for the other host.
bench_host_cfg() {
  local ns ip mac peer_ip peer_mac
  ns=$(bench_ns_of "$1")
  if [ "$1" = 1 ]; then
    ip=$BENCH_IP1 mac=$BENCH_MAC1 peer_ip=$BENCH_IP2 peer_mac=$BENCH_MAC2
  else
    ip=$BENCH_IP2 mac=$BENCH_MAC2 peer_ip=$BENCH_IP1 peer_mac=$BENCH_MAC1
  fi
  ip -n "$ns" link set "$BENCH_IF" down &&
    ip -n "$ns" link set "$BENCH_IF" address "$mac" &&
    ip -n "$ns" addr add "$ip/24" dev "$BENCH_IF" &&
    ip -n "$ns" link set "$BENCH_IF" up &&
    ip -n "$ns" neigh replace "$peer_ip" lladdr "$peer_mac" dev "$BENCH_IF" nud permanent
}

# Both hosts answer each other within DEADLINE seconds (this also teaches the switch both MACs).
bench_reach() {
  local deadline=$((SECONDS + ${1:-5}))
  until ip netns exec "$BENCH_H1" ping -c 1 -W 1 "$BENCH_IP2" >/dev/null 2>&1 &&
    ip netns exec "$BENCH_H2" ping -c 1 -W 1 "$BENCH_IP1" >/dev/null 2>&1; do
    [ $SECONDS -lt $deadline ] || return 1
    sleep 0.1
  done
}

# ------------------------------------------------------------------ processes
# bench_wait_file FILE [SECONDS]: wait for FILE to exist and be non-empty (default 5 s).
bench_wait_file() {
  local deadline=$((SECONDS + ${2:-5}))
  until [ -s "$1" ]; do
    [ $SECONDS -lt $deadline ] || { bench_log "timeout waiting for $1"; return 1; }
    sleep 0.05
  done
}

# bench_start_daemon PIDFILE CMD...: start a daemonizing switch (CMD writes PIDFILE once ready) in
# $BENCH_SW on the switch CPU; its PID joins SWITCH_PIDS (CPU accounting, stopped at the end).
bench_start_daemon() {
  local pidfile=$1
  shift
  bench_pin "$BENCH_SW_CPU" ip netns exec "$BENCH_SW" "$@" || return 1
  bench_wait_file "$pidfile" || return 1
  SWITCH_PIDS+=("$(cat "$pidfile")")
}

# bench_stop_pids PID...: SIGTERM these processes, SIGKILL the ones still there after 3 s.
bench_stop_pids() {
  local p alive
  for p in "$@"; do kill "$p" 2>/dev/null; done
  for _ in $(seq 30); do
    alive=0
    for p in "$@"; do bench_alive "$p" && alive=1; done
    [ $alive = 0 ] && return 0
    sleep 0.1
  done
  for p in "$@"; do kill -9 "$p" 2>/dev/null; done
  return 0
}

# A zombie counts as gone (daemons are reparented to an init that may reap them late).
bench_alive() {
  local st
  st=$(awk '{ sub(/^.*\) /, ""); print $1 }' "/proc/$1/stat" 2>/dev/null) || return 1
  [ -n "$st" ] && [ "$st" != Z ]
}

# ------------------------------------------------------------------ counters
# bench_ifstat NS DEV COUNTER...: the sum of these /sys/class/net/DEV/statistics counters.
bench_ifstat() {
  local ns=$1 dev=$2
  shift 2
  ip netns exec "$ns" sh -c "cd /sys/class/net/$dev/statistics && cat $*" 2>/dev/null |
    awk '{ s += $1 } END { print s + 0 }'
}

# Receiver sink in $BENCH_H2: an nftables netdev ingress rule that counts the benchmark's UDP
# frames and drops them at the interface, so the receiving host does no work for them.
bench_sink_install() {
  ip netns exec "$BENCH_H2" nft -f - <<EOF
table netdev bench {
  counter rx { }
  chain ingress {
    type filter hook ingress device "$BENCH_IF" priority 0; policy accept;
    udp dport $BENCH_UDP_PORT counter name rx drop
  }
}
EOF
}
bench_sink_count() {
  ip netns exec "$BENCH_H2" nft list counter netdev bench rx 2>/dev/null |
    awk '{ for (i = 1; i < NF; i++) if ($i == "packets") { print $(i + 1); exit } }'
}

# CPU ticks (user + system, all threads) of the given processes.
bench_proc_ticks() {
  local p sum=0 t
  for p in "$@"; do
    t=$(awk '{ sub(/^.*\) /, ""); print $12 + $13 }' "/proc/$p/stat" 2>/dev/null) || continue
    sum=$((sum + ${t:-0}))
  done
  echo "$sum"
}

# Per-CPU "cpuN busy total" jiffies, and the busy % of each CPU between two such snapshots
# ("b0/b1/...").
bench_cpu_snap() {
  awk '/^cpu[0-9]/ { t = 0; for (i = 2; i <= 9; i++) t += $i; print $1, t - $5 - $6, t }' /proc/stat
}
bench_cpu_busy() {
  awk 'NR == FNR { b[$1] = $2; t[$1] = $3; next }
       { dt = $3 - t[$1]; printf "%s%.0f", (n++ ? "/" : ""), (dt > 0 ? 100 * ($2 - b[$1]) / dt : 0) }
       END { print "" }' <(echo "$1") <(echo "$2")
}

# CPU use by processes that are not this run's: "pid ticks" for every user process that lives
# neither in one of our namespaces nor in our process group. Ticks include reaped children
# (cutime + cstime), so a build's short-lived compilers count through their parent.
bench_other_snap() {
  local ours
  ours=" $(for ns in $(bench_ns_list); do stat -L -c %i "/run/netns/$ns"; done | tr '\n' ' ') "
  {
    stat -L -c 'NS %n %i' /proc/[0-9]*/ns/net 2>/dev/null
    cat /proc/[0-9]*/stat 2>/dev/null
  } | awk -v ours="$ours" -v pgrp="$(awk '{ sub(/^.*\) /, ""); print $3 }' /proc/$$/stat)" '
      $1 == "NS" { split($2, a, "/"); ns[a[3]] = $3; next }
      { pid = $1; s = $0; sub(/^.*\) /, "", s); split(s, f, " ")
        if (int(f[7] / 2097152) % 2 == 1) next                  # PF_KTHREAD
        if (f[3] == pgrp) next                                  # this run
        if ((pid in ns) && index(ours, " " ns[pid] " ")) next   # our namespaces
        print pid, f[12] + f[13] + f[14] + f[15] }'
}
# bench_other_pct SNAP0 SNAP1 SECONDS: their CPU use in % of one CPU. A process reaped in between
# moved its whole lifetime into its parent's cutime, so its time at SNAP0 is taken off again;
# a process that appeared counts whole.
bench_other_pct() {
  awk -v secs="$3" -v hz="$CLK_TCK" 'NR == FNR { a[$1] = $2; next }
       { b[$1] = $2 }
       END { for (p in b) d += b[p] - a[p]; for (p in a) if (!(p in b)) d -= a[p]
             printf "%.0f", (d > 0 ? 100 * d / hz / secs : 0) }' <(echo "$1") <(echo "$2")
}

# bench_wait_quiet PCT MAXWAIT: wait until the whole machine is less than PCT % busy over one
# second; gives up (returns 1) after MAXWAIT seconds.
bench_wait_quiet() {
  local deadline=$((SECONDS + $2)) s0 s1 busy
  while :; do
    s0=$(bench_cpu_snap)
    sleep 1
    s1=$(bench_cpu_snap)
    busy=$(awk 'NR == FNR { b += $2; t += $3; next } { B += $2; T += $3 }
                END { printf "%.0f", (T > t ? 100 * (B - b) / (T - t) : 0) }' <(echo "$s0") <(echo "$s1"))
    [ "$busy" -lt "$1" ] && return 0
    [ $SECONDS -lt $deadline ] || { bench_log "machine still ${busy}% busy; measuring anyway"; return 1; }
  done
}

# Wall clock in seconds with microseconds, without a fork.
bench_now() { echo "$EPOCHREALTIME"; }

# ------------------------------------------------------------------ generator
# bench_trafgen_udp64 FILE: trafgen's configuration of one 64-byte frame (60 bytes + FCS) from
# host 1 to host 2: Ethernet, IPv4 (DF, TTL 64), UDP to the discard port, 18 zero bytes of
# payload.
bench_trafgen_udp64() {
  local b1 b2
  b1=$(sed 's/^/0x/; s/[:.]/, 0x/g' <<<"$BENCH_MAC1")
  b2=$(sed 's/^/0x/; s/[:.]/, 0x/g' <<<"$BENCH_MAC2")
  cat >"$1" <<EOF
{
  $b2, $b1, c16(0x0800),
  0x45, 0x00, c16(46), c16(0), c16(0x4000), 64, 17, csumip(14, 33),
  $(tr . , <<<"$BENCH_IP1"), $(tr . , <<<"$BENCH_IP2"),
  c16(4000), c16($BENCH_UDP_PORT), c16(26), c16(0),
  fill(0x00, 18)
}
EOF
}
