#!/usr/bin/env bash
# What a running capture costs a vnet switch end to end: two host namespaces joined by
# `vnet switch` (two afpacket ports), trafgen sending 64-byte UDP frames from host 1 to host 2
# (counted and dropped at host 2's interface by nftables, as in switch-bench.sh).
#   1. the switch's top rate: trafgen as fast as it can, frames/s received;
#   2. half that rate, without a capture: frames/s received and the switch's CPU ns per frame;
#   3. the same with `vnet capture SOCK 2 -w /dev/null` running (every frame, both directions);
#   4. the top rate again with the capture running.
# Half rate: trafgen sends flat out through the qdisc path (-q) into a token bucket (tc tbf) on
# host 1's interface set to half the top rate's bits (60-byte frames), so the switch is offered
# an even half rate (trafgen's own gap is a sleep per frame and reaches far less than half).
# Prints the runs and the ratios (received frames/s, switch CPU per frame). Root; no quiet gate:
# run it on an idle machine.
#   bench/e2e/capture-overhead.sh [SECONDS]      (measured window per run, default 4)
set -u -o pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
VNET=${VNET:-$REPO/build/release/vnet}
# shellcheck source=lib.sh
. "$HERE/lib.sh"
DUR=${1:-4}
WARM=1
RUN=$(mktemp -d /tmp/vnet-capbench.XXXXXX)
BENCH_RUN=$RUN
SWITCH_PIDS=()
CAP=""
cleanup() {
  [ -n "$CAP" ] && kill "$CAP" 2>/dev/null
  [ ${#SWITCH_PIDS[@]} -gt 0 ] && bench_stop_pids "${SWITCH_PIDS[@]}"
  bench_ns_del_all
  rm -rf "$RUN"
}
trap cleanup EXIT
bench_need trafgen netsniff-ng || exit 1
for ns in "$BENCH_H1" "$BENCH_H2" "$BENCH_SW"; do bench_ns_add "$ns" || bench_die "namespace $ns"; done
bench_veth_to_switch 1 s1 && bench_veth_to_switch 2 s2 || bench_die "veths"
M=$RUN/mgmt
bench_start_daemon "$RUN/pid" "$VNET" switch -M "$M" -d -p "$RUN/pid" --log "$RUN/log" \
  --port 1=afpacket:s1 --port 2=afpacket:s2 || bench_die "switch: $(tail -3 "$RUN/log")"
bench_host_cfg 1 && bench_host_cfg 2 || bench_die "host configuration"
bench_reach 10 || bench_die "the hosts do not reach each other"
bench_sink_install || bench_die "nftables sink"
bench_trafgen_udp64 "$RUN/udp64.trafgen"

# run PPS_LIMIT: trafgen flat out (PPS_LIMIT 0) or through a token bucket of PPS_LIMIT 60-byte
# frames per second; sets PPS (received) and NSF (switch CPU ns per received frame).
run() {
  local gen rx0 rx1 t0 t1 k0 k1 p qdisc=()
  bench_reach 3 || true
  if [ "$1" -gt 0 ]; then
    tc -n "$BENCH_H1" qdisc replace dev "$BENCH_IF" root tbf rate "$(($1 * 60 * 8))bit" \
      burst 6000 limit 60000 || bench_die "tc tbf on $BENCH_H1"
    qdisc=(-q)
  fi
  bench_pin "$BENCH_GEN_CPU" ip netns exec "$BENCH_H1" timeout -s INT $((WARM + DUR + 1)) \
    trafgen -o "$BENCH_IF" -i "$RUN/udp64.trafgen" -P 1 -t 0 -Q "${qdisc[@]}" >>"$RUN/trafgen.log" 2>&1 &
  gen=$!
  sleep "$WARM"
  for p in $(ip netns pids "$BENCH_H1"); do bench_pin_pid "$p" "$BENCH_GEN_CPU"; done
  k0=$(bench_proc_ticks "${SWITCH_PIDS[@]}") t0=$(bench_now) rx0=$(bench_sink_count)
  sleep "$DUR"
  k1=$(bench_proc_ticks "${SWITCH_PIDS[@]}") t1=$(bench_now) rx1=$(bench_sink_count)
  wait "$gen"
  PPS=$(awk -v n=$((rx1 - rx0)) -v a="$t0" -v b="$t1" 'BEGIN { printf "%.0f", n / (b - a) }')
  NSF=$(awk -v d=$((k1 - k0)) -v hz="$CLK_TCK" -v n=$((rx1 - rx0)) \
    'BEGIN { if (n > 0) printf "%.0f", 1e9 * d / hz / n; else print "-" }')
  [ "$1" -gt 0 ] && tc -n "$BENCH_H1" qdisc del dev "$BENCH_IF" root
  return 0
}

run 0
TOP=$PPS TOP_NSF=$NSF
[ "$TOP" -gt 0 ] || bench_die "nothing crossed the switch: $(tail -3 "$RUN/trafgen.log")"
HALF=$((TOP / 2))
echo "top rate: $TOP frames/s (switch CPU $NSF ns/frame); half rate: $HALF frames/s"
run "$HALF"
BASE_PPS=$PPS BASE_NSF=$NSF
echo "half rate, no capture:   $BASE_PPS frames/s, switch CPU $BASE_NSF ns/frame"
"$VNET" capture "$M" 2 -w /dev/null 2>"$RUN/capture.err" &
CAP=$!
deadline=$((SECONDS + 5))
until [ "$("$VNET" ctl "$M" capture/list --json | jq length)" -ge 1 ]; do
  [ $SECONDS -lt $deadline ] || bench_die "the capture did not start: $(cat "$RUN/capture.err")"
  sleep 0.05
done
ratio() {
  awk -v a="$1" -v b="$2" -v c="$3" -v d="$4" 'BEGIN {
    printf "frames/s %.3f, switch CPU per frame %.3f\n", a / b, (d > 0 ? c / d : 0) }'
}
run "$HALF"
echo "half rate, with capture: $PPS frames/s, switch CPU $NSF ns/frame"
echo "  ratio with/without capture at the same offered rate: $(ratio "$PPS" "$BASE_PPS" "$NSF" "$BASE_NSF")"
run 0
echo "top rate, with capture:  $PPS frames/s, switch CPU $NSF ns/frame"
echo "  ratio with/without capture flat out: $(ratio "$PPS" "$TOP" "$NSF" "$TOP_NSF")"
"$VNET" ctl "$M" capture/list | sed 's/^/  /'
kill -INT "$CAP" && wait "$CAP"
CAP=""
echo "($(cat "$RUN/capture.err"))"
