#!/usr/bin/env bash
# End-to-end switch benchmark: two host namespaces joined through a switch under test.
#   pps  trafgen sends 64-byte UDP frames from host 1 as fast as it can; host 2 counts them at
#        its interface (nftables netdev ingress: count and drop); after a warm-up, a measured
#        window gives offered and received frames/s, loss, the switch's CPU and CPU ns/frame.
#   tcp  one iperf3 stream host 1 -> host 2, receiver-side Gbit/s, first second omitted.
# Switches are files in bench/switches/ (see bench/README.md, "Adding a switch"). Run as root:
#   bench/e2e/switch-bench.sh -I -r 3 -d 4 --ref bridge-rps vnet vnet-tap vde-tap bridge-rps
set -u -o pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
BENCH_SWITCH_DIR=${BENCH_SWITCH_DIR:-$REPO/bench/switches}
VNET=${VNET:-$REPO/build/release/vnet}
# shellcheck source=lib.sh
. "$HERE/lib.sh"

REPS=3 DUR=4 WARM=1 TESTS="pps tcp" INTERLEAVE=0 REF="" OUT="" KEEP=0 QUIET=1
QUIET_PCT=${BENCH_QUIET_PCT:-15}    # the machine is quiet below this busy % (all CPUs)
QUIET_WAIT=${BENCH_QUIET_WAIT:-60}  # seconds to wait for quiet before each repetition
OTHER_MAX=${BENCH_OTHER_MAX:-10}    # repeat a repetition if other processes used more CPU %
RETRIES=${BENCH_RETRIES:-2}         # at most this many times

usage() {
  cat >&2 <<EOF
usage: $0 [options] [switch ...]
  switches: $(cd "$BENCH_SWITCH_DIR" && ls -- *.sh | sed 's/\.sh$//' | tr '\n' ' ')(default: all)
  -r N        repetitions (rounds with -I; default $REPS)
  -d S        seconds of each measured window (default $DUR)
  -w S        warm-up seconds before a pps window (default $WARM)
  -t TESTS    "pps tcp" (default), "pps" or "tcp"
  -I          interleave: each round runs one repetition of every switch on a fresh topology,
              so the machine's drift hits all switches alike
  --ref SW    also report every switch's ratio to SW, computed per round
  -o FILE     CSV of every repetition (default bench-DATE.csv here); the table goes to FILE.md
  -Q          no quiet gate: neither wait for a quiet machine nor repeat disturbed repetitions
  -k          keep the scratch directory (switch logs)
Environment: VNET (binary), BENCH_GEN_CPU (0), BENCH_SW_CPU (1), BENCH_PIN (1), BENCH_QUIET_PCT,
BENCH_QUIET_WAIT, BENCH_OTHER_MAX, BENCH_RETRIES, BENCH_SWITCH_DIR.
EOF
  exit 2
}

positive() { [[ $2 =~ ^[1-9][0-9]*$ ]] || bench_die "$1 wants a positive whole number, got '$2'"; }
# the command line as typed, for the table's caption
ARGS=$(for a in "$@"; do [[ $a == *[[:space:]]* ]] && printf '"%s" ' "$a" || printf '%s ' "$a"; done)
ARGS=${ARGS% }
SWITCHES=()
while [ $# -gt 0 ]; do
  case $1 in
    -r) positive -r "${2:-}"; REPS=$2; shift ;;
    -d) positive -d "${2:-}"; DUR=$2; shift ;;
    -w) positive -w "${2:-}"; WARM=$2; shift ;;
    -t) TESTS=${2:-}; shift ;;
    -o) OUT=${2:-}; shift ;;
    --ref) REF=${2:-}; shift ;;
    -I) INTERLEAVE=1 ;;
    -Q) QUIET=0 ;;
    -k) KEEP=1 ;;
    -h | --help) usage ;;
    -*) bench_log "unknown option $1"; usage ;;
    *) SWITCHES+=("$1") ;;
  esac
  shift
done
for t in $TESTS; do [[ $t == pps || $t == tcp ]] || bench_die "-t: unknown test '$t' (pps, tcp)"; done
[ "$(id -u)" = 0 ] || bench_die "run as root (namespaces, veth, taps)"
if [ ${#SWITCHES[@]} = 0 ]; then
  mapfile -t SWITCHES < <(cd "$BENCH_SWITCH_DIR" && ls -- *.sh | sed 's/\.sh$//')
fi
if [ -n "$REF" ]; then
  printf '%s\n' "${SWITCHES[@]}" | grep -qx -- "$REF" || bench_die "--ref $REF is not among the switches"
fi

# ------------------------------------------------------------------ requirements
missing=0
bench_need ip iproute2 || missing=1
bench_need ping iputils-ping || missing=1
bench_need taskset util-linux || missing=1
bench_need nft nftables || missing=1
bench_need jq jq || missing=1
[[ $TESTS == *pps* ]] && { bench_need trafgen netsniff-ng || missing=1; }
[[ $TESTS == *tcp* ]] && { bench_need iperf3 iperf3 || missing=1; }
declare -A DESC
for sw in "${SWITCHES[@]}"; do
  f=$BENCH_SWITCH_DIR/$sw.sh
  [ -f "$f" ] || bench_die "no switch '$sw' (no file $f)"
  # The switch's description and needs, read without keeping its definitions here.
  # shellcheck source=/dev/null
  info=$(SWITCH_DESC="" SWITCH_NEEDS="" && . "$f" && printf '%s\n%s' "$SWITCH_DESC" "$SWITCH_NEEDS") ||
    bench_die "$f: cannot be sourced"
  DESC[$sw]=$(sed -n 1p <<<"$info")
  for need in $(sed -n 2p <<<"$info"); do
    if [ "$need" = vnet ]; then
      [ -x "$VNET" ] || {
        bench_log "error: $sw needs the vnet binary, not found at $VNET: cmake --preset release &&" \
          "cmake --build --preset release --target vnet (or set VNET)"
        missing=1
      }
    else
      bench_need "${need%%:*}" "${need#*:}" || missing=1
    fi
  done
done
[ $missing = 0 ] || exit 1
if [ "$BENCH_PIN" = 1 ]; then
  ncpu=$(nproc)
  [ "$BENCH_GEN_CPU" -lt "$ncpu" ] && [ "$BENCH_SW_CPU" -lt "$ncpu" ] && [ "$BENCH_GEN_CPU" != "$BENCH_SW_CPU" ] ||
    bench_die "pinning needs two CPUs (BENCH_GEN_CPU=$BENCH_GEN_CPU, BENCH_SW_CPU=$BENCH_SW_CPU, $ncpu CPUs); BENCH_PIN=0 runs unpinned"
fi

OUT=${OUT:-bench-$(date +%Y%m%d-%H%M%S).csv}
CSV_HEADER="round,switch,test,value,unit,offered_pps,loss_pct,switch_cpu_pct,switch_ns_per_frame,cpu_busy_pct,other_cpu_pct,window_s,attempts"
if [ -s "$OUT" ]; then
  [ "$(head -1 "$OUT")" = "$CSV_HEADER" ] || bench_die "$OUT exists and is not this harness's CSV"
else
  echo "$CSV_HEADER" >"$OUT" || bench_die "cannot write $OUT"
fi
RUN=$(mktemp -d /tmp/vnet-bench.XXXXXX)

cleanup() {
  bench_ns_del_all
  if [ "$KEEP" = 1 ]; then bench_log "scratch directory kept: $RUN"; else rm -rf "$RUN"; fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# ------------------------------------------------------------------ generator
bench_trafgen_udp64 "$RUN/udp64.trafgen"

# ------------------------------------------------------------------ one repetition
# snapshot: sets S_T (midpoint of the receiver count read), S_RX, S_TX, S_TICKS, S_CPU, S_OTHER.
snapshot() {
  local t0 t1 tx0 tx1
  S_OTHER=$(bench_other_snap)
  S_CPU=$(bench_cpu_snap)
  S_TICKS=$(bench_proc_ticks "${SWITCH_PIDS[@]}")
  tx0=$(bench_ifstat "$BENCH_H1" "$BENCH_IF" tx_packets tx_dropped)
  t0=$(bench_now)
  S_RX=$(bench_sink_count)
  t1=$(bench_now)
  tx1=$(bench_ifstat "$BENCH_H1" "$BENCH_IF" tx_packets tx_dropped)
  S_TX=$(((tx0 + tx1) / 2)) # read on both sides of the receiver count, as if at the same time
  S_T=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.6f", (a + b) / 2 }')
}

# The window's figures R_SECS, R_SWCPU, R_BUSY, R_OTHER from the snapshot at its start (saved in
# P_*) and the one at its end (S_*).
window_figures() {
  R_SECS=$(awk -v a="$P_T" -v b="$S_T" 'BEGIN { printf "%.3f", b - a }')
  if [ ${#SWITCH_PIDS[@]} -gt 0 ]; then
    R_SWCPU=$(awk -v d=$((S_TICKS - P_TICKS)) -v hz="$CLK_TCK" -v s="$R_SECS" 'BEGIN { printf "%.1f", 100 * d / hz / s }')
  else
    R_SWCPU=""
  fi
  R_BUSY=$(bench_cpu_busy "$P_CPU" "$S_CPU")
  R_OTHER=$(bench_other_pct "$P_OTHER" "$S_OTHER" "$R_SECS")
}

save_snapshot() { P_T=$S_T P_RX=$S_RX P_TX=$S_TX P_TICKS=$S_TICKS P_CPU=$S_CPU P_OTHER=$S_OTHER; }

pps_once() {
  local gen rx tx p
  bench_reach 3 || true # refreshes what the switch learned
  bench_pin "$BENCH_GEN_CPU" ip netns exec "$BENCH_H1" timeout -s INT $((WARM + DUR + 2)) \
    trafgen -o "$BENCH_IF" -i "$RUN/udp64.trafgen" -P 1 -t 0 -Q >>"$BENCH_RUN/trafgen.log" 2>&1 &
  gen=$!
  sleep "$WARM"
  # trafgen pins its sender to CPU 0 by itself: move it where it belongs.
  for p in $(ip netns pids "$BENCH_H1"); do bench_pin_pid "$p" "$BENCH_GEN_CPU"; done
  snapshot
  save_snapshot
  sleep "$DUR"
  snapshot
  wait "$gen"
  window_figures
  rx=$((S_RX - P_RX))
  tx=$((S_TX - P_TX))
  R_UNIT=pps
  R_VALUE=$(awk -v n=$rx -v s="$R_SECS" 'BEGIN { printf "%.0f", n / s }')
  R_OFFERED=$(awk -v n=$tx -v s="$R_SECS" 'BEGIN { printf "%.0f", n / s }')
  R_LOSS=$(awk -v r=$rx -v t=$tx 'BEGIN { if (t > 0) printf "%.2f", 100 * (t - r) / t }')
  R_NSF=""
  if [ -n "$R_SWCPU" ] && [ $rx -gt 0 ]; then
    R_NSF=$(awk -v d=$((S_TICKS - P_TICKS)) -v hz="$CLK_TCK" -v n=$rx 'BEGIN { printf "%.0f", 1e9 * d / hz / n }')
  fi
  [ $tx -gt 0 ] || bench_log "  the generator sent nothing: $(tail -3 "$BENCH_RUN/trafgen.log" | tr '\n' ' ')"
}

tcp_once() {
  local srv deadline
  bench_pin "$BENCH_GEN_CPU" ip netns exec "$BENCH_H2" iperf3 -s -1 -p 5201 >>"$BENCH_RUN/iperf3-server.log" 2>&1 &
  srv=$!
  deadline=$((SECONDS + 5))
  until [ -n "$(ip netns exec "$BENCH_H2" ss -Hltn 'sport = :5201' 2>/dev/null)" ]; do
    [ $SECONDS -lt $deadline ] || break
    sleep 0.05
  done
  snapshot
  save_snapshot
  bench_pin "$BENCH_GEN_CPU" ip netns exec "$BENCH_H1" timeout --foreground $((DUR + 30)) \
    iperf3 -c "$BENCH_IP2" -p 5201 -t "$DUR" -O 1 -J >"$BENCH_RUN/iperf3.json" 2>>"$BENCH_RUN/iperf3-client.log"
  snapshot
  bench_stop_pids "$srv"
  wait "$srv" 2>/dev/null
  window_figures
  R_UNIT=Gbit/s R_OFFERED="" R_LOSS="" R_NSF=""
  R_VALUE=$(jq -r '(.end.sum_received.bits_per_second // 0) / 1e9 | . * 1000 | round / 1000' "$BENCH_RUN/iperf3.json" 2>/dev/null)
  if [ -z "$R_VALUE" ] || [ "$R_VALUE" = 0 ]; then
    R_VALUE=0
    bench_log "  iperf3 failed: $(jq -r '.error // empty' "$BENCH_RUN/iperf3.json" 2>/dev/null)"
  fi
  cat "$BENCH_RUN/iperf3.json" >>"$BENCH_RUN/iperf3-client.log"
}

record() { # ROUND SWITCH TEST ATTEMPTS
  echo "$1,$2,$3,$R_VALUE,$R_UNIT,$R_OFFERED,$R_LOSS,$R_SWCPU,$R_NSF,$R_BUSY,$R_OTHER,$R_SECS,$4" >>"$OUT"
}
record_failure() { # ROUND SWITCH WHAT
  echo "$1,$2,setup,$3,,,,,,,,," >>"$OUT"
}

measure() { # ROUND SWITCH TEST
  local att=0
  while :; do
    att=$((att + 1))
    [ $QUIET = 1 ] && bench_wait_quiet "$QUIET_PCT" "$QUIET_WAIT"
    "${3}_once"
    bench_log "  $2 $3 round $1: $R_VALUE $R_UNIT${R_OFFERED:+ offered $R_OFFERED loss $R_LOSS%}" \
      "switch CPU ${R_SWCPU:-–}%${R_NSF:+ ($R_NSF ns/frame)} CPUs busy $R_BUSY% other ${R_OTHER}%"
    if [ $QUIET = 1 ] && [ "$R_OTHER" -gt "$OTHER_MAX" ] && [ $att -le "$RETRIES" ]; then
      bench_log "  other processes used ${R_OTHER}% CPU: repeating"
      continue
    fi
    break
  done
  record "$1" "$2" "$3" $att
}

# One switch's turn on a fresh topology: rounds FROM..TO. Runs in a subshell so that the switch
# file's definitions do not leak into the next turn.
turn() { # SWITCH FROM TO
  local sw=$1 r t
  BENCH_RUN=$RUN/$sw.$2
  mkdir -p "$BENCH_RUN"
  SWITCH_PIDS=()
  # shellcheck source=/dev/null
  . "$BENCH_SWITCH_DIR/$sw.sh"
  turn_end() {
    if declare -F switch_down >/dev/null; then switch_down >>"$BENCH_RUN/setup.log" 2>&1; fi
    [ ${#SWITCH_PIDS[@]} -gt 0 ] && bench_stop_pids "${SWITCH_PIDS[@]}"
    bench_ns_del_all
  }
  trap turn_end EXIT
  # Tools that catch SIGINT (iperf3) exit normally, so end the turn explicitly.
  trap 'exit 130' INT
  trap 'exit 143' TERM
  bench_log "== $sw ($SWITCH_DESC), round$( [ "$2" = "$3" ] && echo " $2" || echo "s $2..$3")"
  for ns in "$BENCH_H1" "$BENCH_H2" "$BENCH_SW"; do bench_ns_add "$ns" || bench_die "cannot create namespace $ns"; done
  if ! switch_up >>"$BENCH_RUN/setup.log" 2>&1; then
    bench_log "$sw: switch_up failed: $(tail -5 "$BENCH_RUN/setup.log" | tr '\n' ' ')"
    for r in $(seq "$2" "$3"); do record_failure "$r" "$sw" failed; done
    return 1
  fi
  local p
  for p in "${SWITCH_PIDS[@]}"; do bench_pin_pid "$p" "$BENCH_SW_CPU"; done
  if ! { bench_host_cfg 1 && bench_host_cfg 2; } >>"$BENCH_RUN/setup.log" 2>&1; then
    bench_log "$sw: host configuration failed: $(tail -3 "$BENCH_RUN/setup.log" | tr '\n' ' ')"
    for r in $(seq "$2" "$3"); do record_failure "$r" "$sw" failed; done
    return 1
  fi
  if ! bench_reach 10; then
    bench_log "$sw: the hosts do not reach each other through the switch"
    for r in $(seq "$2" "$3"); do record_failure "$r" "$sw" noconn; done
    return 1
  fi
  bench_sink_install || bench_die "cannot install the nftables sink in $BENCH_H2"
  for r in $(seq "$2" "$3"); do
    for t in $TESTS; do measure "$r" "$sw" "$t"; done
  done
}

bench_log "results -> $OUT (scratch $RUN)"
if [ $INTERLEAVE = 1 ]; then
  for r in $(seq "$REPS"); do
    bench_log "=== round $r of $REPS"
    for sw in "${SWITCHES[@]}"; do (turn "$sw" "$r" "$r"); done
  done
else
  for sw in "${SWITCHES[@]}"; do (turn "$sw" 1 "$REPS"); done
fi

{
  echo "Measured $(date +%Y-%m-%d) on $(nproc) CPUs ($(awk -F': ' '/model name/ { print $2; exit }' /proc/cpuinfo)," \
    "Linux $(uname -r)): \`bench/e2e/switch-bench.sh $ARGS\`"
  echo
  for sw in "${SWITCHES[@]}"; do echo "- \`$sw\`: ${DESC[$sw]}"; done
  echo
  "$HERE/summarize.sh" ${REF:+--ref "$REF"} "$OUT"
} >"$OUT.md"
cat "$OUT.md"
