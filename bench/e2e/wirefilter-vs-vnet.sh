#!/usr/bin/env bash
# VDE's wirefilter vs vnet wirefilter, side by side in one run with the same harness and probe:
# two vde_switch processes, hosts h1 and h2 plugged in with vde_plug2tap, the filter between.
# For each filter:
#   delay: `-d D` (each way) → ping -i 0.01 RTT samples; the added RTT is the sample minus the
#          mean RTT with `-d 0`; reported: its mean error and p99 |error| vs the set 2·D.
#   rate:  `-b B` (bytes/s, each way) → iperf3 TCP goodput, 3 s, vs the set 8·B bit/s.
#   bench/e2e/wirefilter-vs-vnet.sh [-d DELAY_MS] [-b BYTES_PER_S] [-n PINGS]
# Run as root; needs vde2 (vde_switch, vde_plug2tap, wirefilter), iperf3, jq. Everything it
# starts is stopped, and its namespaces removed, on every exit path.
set -u -o pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
VNET=${VNET:-$REPO/build/release/vnet}
DELAY=10 BAND=1M PINGS=300
while getopts "d:b:n:h" o; do
  case $o in
    d) DELAY=$OPTARG ;;
    b) BAND=$OPTARG ;;
    n) PINGS=$OPTARG ;;
    *) sed -n '2,11p' "$0" >&2; exit 2 ;;
  esac
done
for c in vde_switch vde_plug2tap wirefilter iperf3 jq; do
  command -v $c >/dev/null || { echo "missing $c" >&2; exit 1; }
done
[ -x "$VNET" ] || { echo "no vnet binary at $VNET (set VNET)" >&2; exit 1; }

T=wfb$$
WORK=$(mktemp -d /tmp/vnet-wfbench.XXXXXX)
PIDS=() NSS=()
cleanup() {
  for p in "${PIDS[@]:-}"; do [ -n "$p" ] && kill "$p" 2>/dev/null || true; done
  for ns in "${NSS[@]:-}"; do [ -n "$ns" ] && ip netns del "$ns" 2>/dev/null || true; done
  rm -rf "$WORK"
}
trap cleanup EXIT INT TERM
wait_for() { local d=$((SECONDS + $1)); shift; until "$@" >/dev/null 2>&1; do [ $SECONDS -lt $d ] || return 1; sleep 0.05; done; }

for s in A B; do
  vde_switch -s "$WORK/sw$s" -d -p "$WORK/sw$s.pid"
  wait_for 5 test -s "$WORK/sw$s.pid" -a -S "$WORK/sw$s/ctl" || { echo "vde_switch $s did not start" >&2; exit 1; }
  PIDS+=("$(cat "$WORK/sw$s.pid")")
done
for h in 1 2; do
  ns=$T-h$h; sw=$WORK/swA; [ $h = 2 ] && sw=$WORK/swB
  ip netns add $ns; NSS+=($ns); ip -n $ns link set lo up
  ip netns exec $ns vde_plug2tap -s "$sw" -d -P "$WORK/plug$h.pid" tap0
  wait_for 5 test -s "$WORK/plug$h.pid" || { echo "vde_plug2tap $h did not start" >&2; exit 1; }
  PIDS+=("$(cat "$WORK/plug$h.pid")")
  wait_for 5 ip -n $ns link show tap0
  ip -n $ns link set tap0 address 02:00:00:00:0c:0$h
  ip -n $ns addr add 10.12.0.$h/24 dev tap0
  ip -n $ns link set tap0 up
done
ip -n $T-h1 neigh replace 10.12.0.2 lladdr 02:00:00:00:0c:02 dev tap0 nud permanent
ip -n $T-h2 neigh replace 10.12.0.1 lladdr 02:00:00:00:0c:01 dev tap0 nud permanent

FILTER_PID=""
start_filter() { # IMPL ARGS...
  local impl=$1; shift
  if [ "$impl" = vde ]; then
    wirefilter -v "$WORK/swA:$WORK/swB" "$@" --daemon --pidfile "$WORK/wf.pid"
    wait_for 5 test -s "$WORK/wf.pid"; FILTER_PID=$(cat "$WORK/wf.pid"); rm -f "$WORK/wf.pid"
  else
    "$VNET" wirefilter -v "$WORK/swA:$WORK/swB" "$@" >"$WORK/vnet-wf.log" 2>&1 &
    FILTER_PID=$!
  fi
  PIDS+=("$FILTER_PID")
  wait_for 5 ip netns exec $T-h1 ping -c 1 -W 1 10.12.0.2 || { echo "$impl: no path through the filter" >&2; exit 1; }
}
stop_filter() { kill "$FILTER_PID" 2>/dev/null; while kill -0 "$FILTER_PID" 2>/dev/null; do sleep 0.05; done; }

# RTT samples in ms, one per line.
samples() { ip netns exec $T-h1 ping -n -c "$PINGS" -i 0.01 -W 1 10.12.0.2 2>/dev/null | sed -n 's/.*time=\([0-9.]*\) ms/\1/p'; }

printf '%-16s %10s %14s %14s %8s %14s %14s %8s\n' filter "base ms" "added (want)" "mean err ms" "p99 ms" "goodput Mb/s" "set Mb/s" "ratio"
for impl in vde vnet; do
  start_filter $impl -d 0
  base=$(samples | awk '{ s += $1; n++ } END { printf "%.3f", s / n }')
  stop_filter
  start_filter $impl -d "$DELAY"
  want=$((2 * DELAY))
  samples > "$WORK/rtt"
  read -r added err < <(awk -v b="$base" -v w="$want" '{ s += $1 - b; n++ } END { printf "%.3f %.3f\n", s / n, s / n - w }' "$WORK/rtt")
  p99=$(awk -v b="$base" -v w="$want" '{ e = $1 - b - w; print (e < 0 ? -e : e) }' "$WORK/rtt" | sort -g |
    awk '{ x[n++] = $1 } END { i = int(0.99 * n); if (i >= n) i = n - 1; printf "%.3f", x[i] }')
  stop_filter
  start_filter $impl -b "$BAND"
  ip netns exec $T-h2 iperf3 -s -1 >/dev/null 2>&1 &
  srv=$!
  PIDS+=("$srv")
  wait_for 5 ip netns exec $T-h2 sh -c "ss -ltn | grep -q ':5201 '"
  bps=$(ip netns exec $T-h1 iperf3 -c 10.12.0.2 -t 3 -J 2>/dev/null | jq '.end.sum_received.bits_per_second // 0')
  wait "$srv" 2>/dev/null
  stop_filter
  bytes=$(awk -v b="$BAND" 'BEGIN { m = 1; u = substr(b, length(b)); if (u ~ /[kK]/) m = 1024; if (u ~ /[mM]/) m = 1048576; if (u ~ /[gG]/) m = 1073741824; if (m > 1) b = substr(b, 1, length(b) - 1); print b * m }')
  awk -v impl="$impl" -v base="$base" -v added="$added" -v want="$want" -v err="$err" -v p99="$p99" -v bps="$bps" -v bytes="$bytes" 'BEGIN {
    set = bytes * 8 / 1e6; got = bps / 1e6
    printf "%-16s %10s %8s (%3s) %14s %8s %14.2f %14.2f %8.3f\n", impl " wirefilter", base, added, want, err, p99, got, set, got / set }'
done
