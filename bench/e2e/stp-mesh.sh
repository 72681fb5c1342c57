#!/usr/bin/env bash
# Spanning-tree convergence in a 27-switch mesh, vnet (RSTP) beside the Linux kernel bridge
# (802.1D, its only spanning tree), measured by the same 1 kHz layer-2 probe stream.
#
# Mesh: core1 (priority 4096, the root) and core2 (8192) joined by a cable; A access switches
# (default 25), each cabled to core1 (its root port) and to core2 (its alternate/blocked port); a
# host on every access switch; one VLAN, times hello 1 s, max age 6 s, forward delay 4 s (the
# fastest 802.1D allows) on both sides. Per trial, drawn from the seed: an access switch K, another
# access switch J, and a direction (host on K → host on J, or back). When the tree is converged
# (K's cable to core1 root/forwarding, to core2 alternate/blocking, the hosts ping), a probe
# stream runs between the two hosts and K's root-port cable fails:
#   direct   — the cable is pulled (carrier loss on both ends);
#   indirect — the cable goes silent: carrier up, nothing crosses (vnet: `link: K core1 silent`;
#              kernel: nftables netdev ingress+egress drop on K's port);
# then the outage (longest run of lost probes after the fault), lost and duplicated probes are
# recorded, the cable is restored and the tree left to reconverge.
# vnet runs as a lab (tests/lab/gen_mesh_lab.py + generated scenarios with `stream`/`converge`);
# the kernel mesh is built here (all bridges in one namespace, veth cables, hosts in their own
# namespaces) and measured by bench/e2e/vnet_stream_probe, the same measurement code.
#   bench/e2e/stp-mesh.sh [-n 100] [-i 20] [-b 20] [-B 5] [-a 25] [-s 1] [-o FILE.csv] [-k]
# Run as root, under the lab lock on a shared machine: flock /tmp/vnet-lab.lock bench/e2e/stp-mesh.sh
set -u -o pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
VNET=${VNET:-$REPO/build/release/vnet}
PROBE=${PROBE:-$REPO/build/release/bench/e2e/vnet_stream_probe}

N_VNET=100 N_VNET_IND=20 N_KERN=20 N_KERN_IND=5 ACCESS=25 SEED=1 OUT="" KEEP=0
HELLO=1 MAX_AGE=6 FWD_DELAY=4
TARGET_MS=100                           # issue #10: direct failure, p99
IND_BOUND_MS=$((3 * HELLO * 1000 + 100)) # 3 × hello + 100 ms

log() { printf '[%(%H:%M:%S)T] %s\n' -1 "$*" >&2; }
die() { log "error: $*"; exit 1; }
usage() {
  cat >&2 <<EOF
usage: $0 [-n N] [-i N] [-b N] [-B N] [-a ACCESS] [-s SEED] [-o results.csv] [-k]
  -n N     vnet trials, direct failure (cable pulled)         (default $N_VNET)
  -i N     vnet trials, indirect failure (cable silent)        (default $N_VNET_IND)
  -b N     kernel bridge trials, direct failure                (default $N_KERN; ~20 s each)
  -B N     kernel bridge trials, indirect failure (nft drop)   (default $N_KERN_IND; ~30 s each)
  -a A     access switches (default $ACCESS: 27 switches in all)
  -s SEED  seed of the trial plan (default $SEED); the same plan drives both sides
  -o FILE  CSV of every trial (default stp-mesh-DATE.csv here); the tables go to FILE.md
  -k       keep the work directory (lab file, outputs)
Environment: VNET (the vnet binary), PROBE (vnet_stream_probe).
EOF
  exit 2
}
ARGS=$(for a in "$@"; do [[ $a == *[[:space:]]* ]] && printf '"%s" ' "$a" || printf '%s ' "$a"; done)
ARGS=${ARGS% }
while getopts "n:i:b:B:a:s:o:kh" o; do
  case $o in
    n) N_VNET=$OPTARG ;;
    i) N_VNET_IND=$OPTARG ;;
    b) N_KERN=$OPTARG ;;
    B) N_KERN_IND=$OPTARG ;;
    a) ACCESS=$OPTARG ;;
    s) SEED=$OPTARG ;;
    o) OUT=$OPTARG ;;
    k) KEEP=1 ;;
    *) usage ;;
  esac
done
for n in "$N_VNET" "$N_VNET_IND" "$N_KERN" "$N_KERN_IND" "$SEED"; do
  [[ $n =~ ^[0-9]+$ ]] || die "expected a whole number, got '$n'"
done
[[ $ACCESS =~ ^[0-9]+$ ]] && [ "$ACCESS" -ge 2 ] && [ "$ACCESS" -le 150 ] || die "-a: 2–150 access switches"
[ "$(id -u)" = 0 ] || die "run as root (namespaces, veth, raw sockets)"
for t in ip:iproute2 bridge:iproute2 nft:nftables python3:python3 timeout:coreutils ping:iputils-ping; do
  command -v "${t%%:*}" >/dev/null || die "'${t%%:*}' not found: apt-get install ${t#*:} (or run scripts/deps.sh)"
done
[ -x "$VNET" ] || die "no vnet binary at $VNET: cmake --preset release && cmake --build --preset release --target vnet (or set VNET)"
[ -x "$PROBE" ] || die "no probe at $PROBE: cmake --build --preset release --target vnet_stream_probe (or set PROBE)"

OUT=${OUT:-stp-mesh-$(date +%Y%m%d-%H%M%S).csv}
WORK=$(mktemp -d /tmp/vnet-stp-mesh.XXXXXX)
export VNET_STATE_DIR=$WORK/state
LAB=sm$$         # vnet lab name (its namespaces start with it)
KP=sb$$          # kernel side: namespaces $KP-br (every bridge), $KP-h1 … (hosts)
BRNS=$KP-br

kernel_down() {
  local ns
  for ns in $(ip netns list | awk '{print $1}' | grep "^$KP-"); do
    ip netns pids "$ns" 2>/dev/null | xargs -r kill 2>/dev/null
    ip netns del "$ns" 2>/dev/null
  done
  return 0
}
cleanup() {
  [ -d "$VNET_STATE_DIR/$LAB" ] && { "$VNET" lab down "$LAB" >>"$WORK/down.log" 2>&1 || log "vnet lab down $LAB failed: see $WORK/down.log"; }
  kernel_down
  if [ "$KEEP" = 1 ]; then log "work directory kept: $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# ------------------------------------------------------------------ the trial plan
# Trial t (1-based): K J DIR — the failing access switch, the other one, 0 = host on K sends.
MAXT=$(printf '%s\n' "$N_VNET" "$N_VNET_IND" "$N_KERN" "$N_KERN_IND" | sort -n | tail -1)
PLAN=()
RANDOM=$SEED
for ((t = 1; t <= MAXT; t++)); do
  k=$((RANDOM % ACCESS + 1)) j=$((RANDOM % (ACCESS - 1) + 1)) d=$((RANDOM % 2))
  [ "$j" -ge "$k" ] && j=$((j + 1))
  PLAN+=("$k $j $d")
done
# FROM TO hosts of a plan entry
pair() { local k=$1 j=$2 d=$3; [ "$d" = 0 ] && echo "h$k h$j" || echo "h$j h$k"; }

CSV_HEADER="side,case,trial,switch,other,from,to,outage_ms,lost_in_row,lost,duplicated,out_of_order,sent,recovered,status"
[ -s "$OUT" ] || echo "$CSV_HEADER" >"$OUT" || die "cannot write $OUT"
csv() { (IFS=,; echo "$*") >>"$OUT"; }

# ------------------------------------------------------------------ vnet
# One scenario per trial; the converge bound is generous so the measurement is never cut short
# (the targets are judged from the numbers below, not by the step).
vnet_scenario() { # NAME K J DIR FAULT(down|silent) BOUND
  local name=$1 k=$2 j=$3 d=$4 fault=$5 bound=$6 from to
  read -r from to <<<"$(pair "$k" "$j" "$d")"
  cat <<EOF
  - name: $name
    steps:
      - wait_until: {root_bridge: core1}
        within: 30s
      - wait_until: {stp_port: acc$k core1, role: root, state: forwarding}
        within: 30s
      - wait_until: {stp_port: acc$k core2, role: alternate, state: discarding}
        within: 30s
      - wait_until: {ping: $from $to}
        within: 10s
      - stream: $from $to
      - ping: $to $from
      - link: acc$k core1 $fault
      - converge: $from $to < $bound
      - stp_port: acc$k core2
        role: root
        state: forwarding
      - link: acc$k core1 up
      - wait_until: {stp_port: acc$k core1, role: root, state: forwarding}
        within: 30s
EOF
}

run_vnet() {
  local file=$WORK/mesh.yaml t k j d from to out line
  python3 "$REPO/tests/lab/gen_mesh_lab.py" --name "$LAB" --access "$ACCESS" --vlans 1 \
    --host-every 1 --routers 0 --stp-times "$HELLO" "$MAX_AGE" "$FWD_DELAY" >"$file" || die "gen_mesh_lab.py failed"
  {
    echo "scenarios:"
    for ((t = 1; t <= N_VNET; t++)); do vnet_scenario "d$t" ${PLAN[t - 1]} down 5s; done
    for ((t = 1; t <= N_VNET_IND; t++)); do vnet_scenario "i$t" ${PLAN[t - 1]} silent 10s; done
  } >>"$file"
  "$VNET" lab validate "$file" >"$WORK/validate.log" 2>&1 || die "generated lab is invalid: $(tail -5 "$WORK/validate.log")"
  log "vnet: lab up ($((ACCESS + 2)) switches, $ACCESS hosts)"
  timeout --foreground 300 "$VNET" lab up "$file" >"$WORK/up.log" 2>&1 || die "vnet lab up failed: $(tail -5 "$WORK/up.log")"
  for c in d i; do
    local n=$N_VNET case=direct
    [ $c = i ] && n=$N_VNET_IND case=indirect
    for ((t = 1; t <= n; t++)); do
      read -r k j d <<<"${PLAN[t - 1]}"
      read -r from to <<<"$(pair "$k" "$j" "$d")"
      out=$WORK/vnet-$c$t.out
      timeout --foreground 180 "$VNET" lab test "$file" --scenario "$c$t" --junit "$WORK/junit.xml" >"$out" 2>&1
      vnet_record "$case" "$t" "$k" "$j" "$from" "$to" "$out"
    done
  done
  "$VNET" lab down "$LAB" >>"$WORK/down.log" 2>&1 || log "vnet lab down failed"
}

# The converge line: "converge … — A → B: outage X ms (N lost in a row), L lost, D duplicated,
# O out of order of S sent; …[ — why]". A trial whose steps before the fault failed is "setup".
vnet_record() { # CASE T K J FROM TO OUTFILE
  local line status=ok pre
  line=$(grep '\] converge ' "$7" | head -1)
  pre=$(sed -n '/\] link acc[0-9]* core1 \(down\|silent\)/q;p' "$7" | grep -c '\[FAIL\]')
  if [ -z "$line" ] || [ "$pre" != 0 ]; then
    status=setup
    csv vnet "$1" "$2" "acc$3" "acc$4" "$5" "$6" "" "" "" "" "" "" "" "$status"
    log "vnet $1 $2: setup failed: $(grep '\[FAIL\]' "$7" | head -2 | tr '\n' ' ')"
    return
  fi
  local o r l du oo s rec=1
  o=$(sed -n 's/.* outage \([0-9.]*\) ms.*/\1/p' <<<"$line")
  r=$(sed -n 's/.* (\([0-9]*\) lost in a row).*/\1/p' <<<"$line")
  l=$(sed -n 's/.* in a row), \([0-9]*\) lost.*/\1/p' <<<"$line")
  du=$(sed -n 's/.* \([0-9]*\) duplicated.*/\1/p' <<<"$line")
  oo=$(sed -n 's/.* \([0-9]*\) out of order.*/\1/p' <<<"$line")
  s=$(sed -n 's/.* of \([0-9]*\) sent.*/\1/p' <<<"$line")
  [[ $line == *"not flowing again"* ]] && rec=0
  grep -q '\[FAIL\] stp_port' "$7" && status=no-failover # the positive control: K's core2 port took over
  grep -q '\[FAIL\] link acc.* core1 up\|\[FAIL\] wait_until' <(sed -n '/\] converge /,$p' "$7") && status=restore-failed
  csv vnet "$1" "$2" "acc$3" "acc$4" "$5" "$6" "$o" "$r" "$l" "$du" "$oo" "$s" "$rec" "$status"
  log "vnet $1 $2: acc$3 ($5 → $6): outage $o ms, $l lost, $du duplicated${status/ok/}"
}

# ------------------------------------------------------------------ Linux bridge
kns() { ip netns exec "$BRNS" "$@"; }
kernel_up() {
  local k b
  ip netns add "$BRNS" && ip -n "$BRNS" link set lo up || return 1
  # Kernel units are centiseconds.
  for b in c1 c2 $(seq -f 'a%g' 1 "$ACCESS"); do
    local prio=32768
    [ "$b" = c1 ] && prio=4096
    [ "$b" = c2 ] && prio=8192
    ip -n "$BRNS" link add "$b" type bridge stp_state 1 priority "$prio" \
      hello_time $((HELLO * 100)) max_age $((MAX_AGE * 100)) forward_delay $((FWD_DELAY * 100)) || return 1
  done
  cable() { # BR1 BR2: veth BR1BR2 (on BR1) — BR2BR1 (on BR2)
    ip -n "$BRNS" link add "$1$2" type veth peer name "$2$1" &&
      ip -n "$BRNS" link set "$1$2" master "$1" up && ip -n "$BRNS" link set "$2$1" master "$2" up
  }
  cable c1 c2 || return 1
  for k in $(seq "$ACCESS"); do
    cable "a$k" c1 && cable "a$k" c2 || return 1
    ip netns add "$KP-h$k" && ip -n "$KP-h$k" link set lo up || return 1
    ip -n "$BRNS" link add "a${k}h" type veth peer name eth0 netns "$KP-h$k" || return 1
    ip -n "$BRNS" link set "a${k}h" master "a$k" up || return 1
    ip -n "$KP-h$k" addr add "10.10.0.$((100 + k))/24" dev eth0 && ip -n "$KP-h$k" link set eth0 up || return 1
  done
  for b in c1 c2 $(seq -f 'a%g' 1 "$ACCESS"); do ip -n "$BRNS" link set "$b" up || return 1; done
}
kport_state() { bridge -n "$BRNS" -j link show dev "$1" | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["state"])'; }
kmac() { ip -n "$KP-$1" -j link show eth0 | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["address"])'; }
# K's cable to core1 forwarding, to core2 blocking, the hosts reach each other; up to S seconds
kernel_converged() { # K FROM TO S
  local deadline=$((SECONDS + $4))
  while [ $SECONDS -lt $deadline ]; do
    if [ "$(kport_state "a${1}c1")" = forwarding ] && [ "$(kport_state "a${1}c2")" = blocking ] &&
      [ "$(kport_state "c1a${1}")" = forwarding ] &&
      ip netns exec "$KP-$2" ping -c 1 -W 1 "10.10.0.$((100 + ${3#h}))" >/dev/null 2>&1; then
      return 0
    fi
    sleep 0.2
  done
  return 1
}
silent_rules() { # DEV: drop everything both ways on DEV, carrier untouched
  cat <<EOF
table netdev $KP-silent {
  chain in { type filter hook ingress device "$1" priority -500; policy drop; }
  chain out { type filter hook egress device "$1" priority -500; policy drop; }
}
EOF
}

run_kernel() {
  local t k j d from to line case n c fault restore
  [ "$N_KERN" = 0 ] && [ "$N_KERN_IND" = 0 ] && return
  log "kernel: $((ACCESS + 2)) Linux bridges (802.1D, hello $HELLO s, max age $MAX_AGE s, forward delay $FWD_DELAY s)"
  kernel_up || die "building the Linux bridge mesh failed"
  for c in d i; do
    n=$N_KERN case=direct
    [ $c = i ] && n=$N_KERN_IND case=indirect
    for ((t = 1; t <= n; t++)); do
      read -r k j d <<<"${PLAN[t - 1]}"
      read -r from to <<<"$(pair "$k" "$j" "$d")"
      if ! kernel_converged "$k" "$from" "$to" 60; then
        csv kernel "$case" "$t" "a$k" "a$j" "$from" "$to" "" "" "" "" "" "" "" setup
        log "kernel $case $t: a$k not converged within 60 s"
        continue
      fi
      if [ $c = d ]; then
        fault=(ip -n "$BRNS" link set "a${k}c1" down)
        restore=(ip -n "$BRNS" link set "a${k}c1" up)
      else
        silent_rules "a${k}c1" >"$WORK/silent.nft"
        fault=(ip netns exec "$BRNS" nft -f "$WORK/silent.nft")
        restore=(ip netns exec "$BRNS" nft delete table netdev "$KP-silent")
      fi
      line=$(timeout --foreground 120 "$PROBE" -w 300ms -t 60s "$KP-$from" eth0 "$(kmac "$from")" \
        "$KP-$to" eth0 "$(kmac "$to")" -- "${fault[@]}" 2>"$WORK/probe.err")
      local took_over
      took_over=$(kport_state "a${k}c2")  # the positive control: K's core2 port took over
      "${restore[@]}" || log "kernel: restoring a${k}c1 failed"
      if [ -z "$line" ]; then
        csv kernel "$case" "$t" "a$k" "a$j" "$from" "$to" "" "" "" "" "" "" "" probe-failed
        log "kernel $case $t: probe failed: $(cat "$WORK/probe.err")"
        continue
      fi
      kv() { sed -n "s/.*\b$1=\([0-9.]*\).*/\1/p" <<<"$line"; }
      csv kernel "$case" "$t" "a$k" "a$j" "$from" "$to" "$(kv outage_ms)" "$(kv lost_in_row)" "$(kv lost)" \
        "$(kv duplicated)" "$(kv out_of_order)" "$(kv sent)" "$(kv recovered)" \
        "$([ "$took_over" = forwarding ] && echo ok || echo no-failover)"
      log "kernel $case $t: a$k ($from → $to): outage $(kv outage_ms) ms, $(kv lost) lost, $(kv duplicated) duplicated"
    done
  done
  kernel_down
}

# ------------------------------------------------------------------ tables
summarize() {
  local md=$OUT.md
  {
    echo "Spanning-tree convergence, $((ACCESS + 2))-switch mesh ($(date +%F), $(uname -r)):"
    echo
    echo '```sh'
    echo "bench/e2e/stp-mesh.sh${ARGS:+ $ARGS}"
    echo '```'
    echo
    echo "| side | failure | trials ok / run | outage p50 ms | p95 | p99 | max | lost p50 | duplicated (total) | not recovered | target | met |"
    echo "|---|---|---|---|---|---|---|---|---|---|---|---|"
    python3 - "$OUT" "$TARGET_MS" "$IND_BOUND_MS" <<'PY'
import csv, math, sys
rows = list(csv.DictReader(open(sys.argv[1])))
target, ind = float(sys.argv[2]), float(sys.argv[3])
def pct(v, p):  # nearest rank
    return v[max(1, min(len(v), math.ceil(p * len(v)))) - 1]
for side, case in (("vnet", "direct"), ("kernel", "direct"), ("vnet", "indirect"), ("kernel", "indirect")):
    run = [r for r in rows if r["side"] == side and r["case"] == case]
    if not run:
        continue
    ok = [r for r in run if r["status"] == "ok"]
    bound = target if case == "direct" else ind
    if not ok:
        print(f"| {side} | {case} | 0 / {len(run)} | – | – | – | – | – | – | – | p99 ≤ {bound:.0f} ms | – |")
        continue
    o = sorted(float(r["outage_ms"]) for r in ok)
    lost = sorted(int(r["lost"]) for r in ok)
    dup = sum(int(r["duplicated"]) for r in ok)
    nr = sum(1 for r in ok if r["recovered"] != "1")
    met = "yes" if pct(o, 0.99) <= bound and dup == 0 and nr == 0 and len(ok) == len(run) else "no"
    print(f"| {side} | {case} | {len(ok)} / {len(run)} | {pct(o, .5):.1f} | {pct(o, .95):.1f} | "
          f"{pct(o, .99):.1f} | {o[-1]:.1f} | {pct(lost, .5)} | {dup} | {nr} | "
          f"p99 ≤ {bound:.0f} ms, 0 dup | {met} |")
PY
  } | tee "$md"
}

log "plan: seed $SEED, $ACCESS access switches; vnet $N_VNET direct + $N_VNET_IND indirect, kernel $N_KERN direct + $N_KERN_IND indirect; CSV $OUT"
[ $((N_VNET + N_VNET_IND)) -gt 0 ] && run_vnet
run_kernel
summarize
