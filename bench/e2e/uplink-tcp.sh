#!/usr/bin/env bash
# TCP throughput through a lab's uplink, side by side in one run (issue #15, docs/networks.md,
# docs/rootless.md):
#   nat       root lab: a host on VLAN 10 of a vnet switch, a `networks:` entry in mode nat
#             (dnsmasq + nftables masquerade in the service namespace), uplink into a stand-in
#             outside namespace; iperf3 server on the outside end of the uplink veth.
#   passt     the same host and switch in a rootless lab (tests/lab/rootless.yaml) run by a bare
#             uid in a user namespace; the uplink is passt on a switch port; iperf3 server on the
#             outside namespace's loopback, which passt maps the gateway address to.
#   veth      reference: iperf3 between two namespaces joined by one veth pair (no switch).
# The three alternate REPS times; each run is TIME seconds of one TCP stream (iperf3 -J), the
# receiver's rate is reported, with the median per kind and the ratio to `nat`.
# Root; everything lives in namespaces this script creates (prefix vut$$) and a scratch dir.
#   bench/e2e/uplink-tcp.sh [REPS] [TIME]
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
VNET=${VNET:-$REPO/build/release/vnet}
REPS=${1:-3}
SECS=${2:-5}
P=vut$$
LAB=uplb$$
RUN=$(mktemp -d /tmp/vnet-uplinkbench.XXXXXX)
chmod 755 "$RUN"
export VNET_STATE_DIR=$RUN/labs
RUID=${RUID:-$((61000 + $$ % 4000))} # a uid with no account: the single-id map
PIDS=()
log() { printf '[%(%H:%M:%S)T] %s\n' -1 "$*" >&2; }
die() { log "error: $*"; exit 1; }
for t in iperf3 passt setpriv jq; do command -v $t >/dev/null || die "$t missing (scripts/deps.sh)"; done
[ "$(id -u)" = 0 ] || die "run as root (the rootless half drops to uid $RUID by itself)"

# run_as ARGS...: `vnet ARGS` as $RUID, in the outside namespace (where passt finds its network).
run_as() {
  (cd "$RUN" && ip netns exec $P-out setpriv --reuid="$RUID" --regid="$RUID" --clear-groups \
    env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME="$RUN" XDG_RUNTIME_DIR="$RUN/xdg" \
    "$RUN/vnet" "$@")
}
cleanup() {
  set +e
  "$VNET" lab down "$LAB" >/dev/null 2>&1
  run_as lab down rootless >/dev/null 2>&1
  for p in "${PIDS[@]:-}"; do [ -n "$p" ] && kill "$p" 2>/dev/null; done
  for p in $(ps -o pid= -u "$RUID" 2>/dev/null); do kill -9 "$p" 2>/dev/null; done
  for n in out ra rb; do ip netns del $P-$n 2>/dev/null; done
  rm -rf "$RUN"
}
trap cleanup EXIT INT TERM

# The outside: one namespace for both uplinks. For passt, an address and a default route on a
# veth (passt copies both) and the iperf3 server on loopback; the nat uplink's veth is made by vnet.
ip netns add $P-out
ip -n $P-out link set lo up
ip -n $P-out link add out0 type veth peer name out1
ip -n $P-out addr add 10.199.0.2/24 dev out0
ip -n $P-out link set out0 up
ip -n $P-out link set out1 up
ip -n $P-out route add default via 10.199.0.1
ip netns exec $P-out iperf3 -s -p 5201 -D -I "$RUN/iperf3-out.pid" --logfile "$RUN/iperf3-out.log"

cat > "$RUN/nat.yaml" <<YAML
name: $LAB
switches: [{name: sw, vlans: [10]}]
hosts: [{name: h1, gateway: 10.0.10.1, interfaces: [{name: eth0, ipv4: 10.0.10.10/24}]}]
links: [{endpoints: [h1, sw], vlan: 10}]
networks:
  - {name: net, switch: sw, vlan: 10, mode: nat, subnet: 10.0.10.0/24, gateway: 10.0.10.1,
     uplink: {netns: $P-out, address: 100.64.7.2/30}}
YAML
"$VNET" lab up "$RUN/nat.yaml" > "$RUN/up-nat.log" 2>&1 || die "nat lab: $(cat "$RUN/up-nat.log")"

# The rootless lab, as $RUID.
cp "$VNET" "$RUN/vnet"
cp "$REPO/tests/lab/rootless.yaml" "$RUN/"
chmod 755 "$RUN/vnet"
chmod 644 "$RUN/rootless.yaml"
mkdir -m 700 "$RUN/xdg"
chown "$RUID" "$RUN/xdg"
run_as lab up "$RUN/rootless.yaml" > "$RUN/up-passt.log" 2>&1 || die "rootless lab: $(cat "$RUN/up-passt.log")"
# What passt's DHCP would give h1 (tests/lab/lab_rootless.sh checks that lease): the outside's
# address and its default route.
run_as lab exec rootless h1 -- sh -c 'ip addr flush dev eth0 && ip addr add 10.199.0.2/24 dev eth0 &&
  ip route add default via 10.199.0.1' || die "rootless h1: no route to the uplink"

# The reference pair.
ip netns add $P-ra
ip netns add $P-rb
ip -n $P-ra link add eth0 type veth peer name eth0 netns $P-rb
ip -n $P-ra addr add 10.98.0.1/24 dev eth0
ip -n $P-rb addr add 10.98.0.2/24 dev eth0
for n in ra rb; do ip -n $P-$n link set eth0 up; ip -n $P-$n link set lo up; done
ip netns exec $P-rb iperf3 -s -p 5201 -D -I "$RUN/iperf3-rb.pid" --logfile "$RUN/iperf3-rb.log"
for f in out rb; do
  for _ in $(seq 50); do [ -s "$RUN/iperf3-$f.pid" ] && break; sleep 0.1; done
  PIDS+=("$(cat "$RUN/iperf3-$f.pid")")
done

rate() { jq '.end.sum_received.bits_per_second / 1e9' "$1" | xargs printf %.2f; }
one() {
  local kind=$1 out=$RUN/$1-$2.json
  case $kind in
    nat) "$VNET" lab exec "$LAB" h1 -- iperf3 -c 100.64.7.1 -p 5201 -t "$SECS" -J > "$out" ;;
    passt) run_as lab exec rootless h1 -- iperf3 -c 10.199.0.1 -p 5201 -t "$SECS" -J > "$out" ;;
    veth) ip netns exec $P-ra iperf3 -c 10.98.0.2 -p 5201 -t "$SECS" -J > "$out" ;;
  esac || die "$kind run $2: $(tail -5 "$out")"
  rate "$out"
}
declare -A all
for i in $(seq "$REPS"); do
  for k in nat passt veth; do
    r=$(one $k "$i")
    all[$k]+="$r "
    log "$k run $i: $r Gbit/s"
  done
done
med() { tr ' ' '\n' <<<"$1" | grep . | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
nat=$(med "${all[nat]}")
echo "uplink TCP, one stream, $REPS x ${SECS}s each, alternating (Gbit/s, receiver):"
for k in nat passt veth; do
  m=$(med "${all[$k]}")
  printf '  %-6s median %6s  runs %s ratio to nat %s\n' "$k" "$m" "${all[$k]}" \
    "$(awk -v a="$m" -v b="$nat" 'BEGIN {printf "%.2f", (b > 0 ? a / b : 0)}')"
done
