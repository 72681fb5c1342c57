# Helpers for lab tests: a unique namespace prefix, cleanup on every exit path, polling.
# Tests run as root between namespaces they create; nothing else is touched.
set -euo pipefail
if [ "$(id -u)" != 0 ]; then
  echo "SKIP: lab tests need root (namespaces, veth, raw sockets)"
  exit 77
fi
VNET=${VNET:?set VNET to the vnet binary}
# The tools are the system's, as scripts/deps.sh installs them, not a developer's shims that come
# first on PATH (pyenv's python3 shim costs a second per call on a busy machine).
PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin${PATH:+:$PATH}
T=vt$$                     # namespace prefix, unique per test run
WORK=$(mktemp -d /tmp/vnet-test.XXXXXX)
export VNET_STATE_DIR=$WORK/labs
PIDS=()
NSS=()

cleanup() {
  local rc=$?
  for p in "${PIDS[@]:-}"; do [ -n "$p" ] && kill "$p" 2>/dev/null || true; done
  for ns in "${NSS[@]:-}"; do [ -n "$ns" ] && ip netns del "$ns" 2>/dev/null || true; done
  for l in "$VNET_STATE_DIR"/*/; do [ -d "$l" ] && "$VNET" lab down "$(basename "$l")" >/dev/null 2>&1 || true; done
  [ -n "${VNET_TEST_KEEP:-}" ] || rm -rf "$WORK"  # VNET_TEST_KEEP=1: keep it to look at
  exit $rc
}
trap cleanup EXIT INT TERM

fail() { echo "FAIL: $*" >&2; [ -n "${VNET_TEST_LOGS:-}" ] && for f in "$WORK"/*.log; do echo "== $f"; tail -15 "$f"; done >&2; exit 1; }
pass() { echo "ok - $*"; }

# now_ms: milliseconds since the epoch.
now_ms() { echo $(($(date +%s%N) / 1000000)); }

ns_add() { ip netns add "$1"; NSS+=("$1"); ip -n "$1" link set lo up; }

# wait_for SECONDS CMD...: poll until CMD succeeds.
wait_for() {
  local deadline=$((SECONDS + $1)); shift
  until "$@" >/dev/null 2>&1; do
    [ $SECONDS -lt $deadline ] || return 1
    sleep 0.05
  done
}

# gone PID: the process has exited. A zombie counts as gone: daemons started with -d are
# reparented to PID 1, which does not reap them on every machine.
gone() {
  local st
  st=$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null) || return 0
  [ -z "$st" ] || [ "$st" = Z ]
}

# contains TEXT CMD...: CMD succeeds and its output contains TEXT. The output is captured first:
# `cmd | grep -q` under pipefail fails when grep exits before cmd has written everything.
contains() { local t=$1 o; shift; o=$("$@" 2>&1) || return 1; [[ $o == *"$t"* ]]; }

# host NS IFNAME MAC ADDR: configure a host interface.
host_cfg() {
  ip -n "$1" link set "$2" address "$3"
  ip -n "$1" addr add "$4" dev "$2"
  ip -n "$1" link set "$2" up
}

# two_hosts_on_switch XX NET: hosts $T-h1 and $T-h2 (eth0 02:00:00:00:XX:01 / :02, NET.1/24 and
# NET.2/24, IPv6 off) on veths p1/p2 in $T-sw, attached by afpacket to ports 1 and 2 of a vnet
# switch whose console is $M; defines ctl (vnet ctl on $M).
two_hosts_on_switch() {
  local h p
  ns_add $T-sw
  for h in 1 2; do
    ns_add $T-h$h
    ip -n $T-sw link add p$h type veth peer name eth0 netns $T-h$h
    ip -n $T-sw link set p$h up
    ip netns exec $T-h$h sysctl -qw net.ipv6.conf.all.disable_ipv6=1
    host_cfg $T-h$h eth0 02:00:00:00:$1:0$h $2.$h/24
  done
  M=$WORK/mgmt
  start_switch $T-sw $M
  ctl() { "$VNET" ctl "$M" "$@"; }
  for p in 1 2; do ctl port/create $p; ctl port/attach $p afpacket:p$p; done
}

# plug NAME MAC ADDR: a host namespace $T-NAME whose eth0 is a veth to s<NAME> in $T-sw (which
# must exist), configured and up; s<NAME> is up for a switch port.
plug() {
  ns_add "$T-$1"
  ip -n "$T-sw" link add "s$1" type veth peer name eth0 netns "$T-$1"
  ip -n "$T-sw" link set "s$1" up
  host_cfg "$T-$1" eth0 "$2" "$3"
}

# reach NS ADDR / unreach NS ADDR
reach() { ip netns exec "$1" ping -c 1 -W 1 "$2" >/dev/null 2>&1 || ip netns exec "$1" ping -c 3 -i 0.2 -W 1 "$2" >/dev/null 2>&1; }
unreach() { ! ip netns exec "$1" ping -c 3 -i 0.2 -W 1 "$2" >/dev/null 2>&1; }

start_switch() { # NS MGMT [args...]
  start_switch_as sw "$@"
}
# start_switch_as NAME NS MGMT [args...]: the same for one of several switches; its pid and log
# are $WORK/NAME.pid and $WORK/NAME.log.
start_switch_as() {
  local name=$1 ns=$2 mgmt=$3; shift 3
  ip netns exec "$ns" "$VNET" switch -M "$mgmt" -p "$WORK/$name.pid" --log "$WORK/$name.log" -d "$@"
  wait_for 5 test -S "$mgmt" -a -s "$WORK/$name.pid" \
    || fail "switch $name did not start: $(cat "$WORK/$name.log")"
  PIDS+=("$(cat "$WORK/$name.pid")")
}

# example_passes NAME: `vnet lab test examples/NAME.yaml` passes every step, writes its JUnit
# report, and leaves no namespace and no state behind. Every namespace a lab makes is named
# LAB-NODE (Topology::netns, switch_netns), so those are the ones counted: other lab tests may
# be running beside this one (ctest -j) with namespaces of their own.
example_passes() {
  local ex=${VNET_SRC:?}/examples/$1.yaml
  ip netns list | grep -q "^$1-" && fail "$1: namespaces of the lab exist before it runs: $(ip netns list | grep "^$1-")"
  "$VNET" lab test "$ex" --junit "$WORK/$1.xml" | tee "$WORK/$1.out"
  grep -q " 0 failed" "$WORK/$1.out" || fail "$1: the report has failures"
  grep -q "<testsuites name=\"vnet lab $1\"" "$WORK/$1.xml" || fail "$1: no JUnit report"
  ip netns list | grep -q "^$1-" && fail "$1: namespaces left behind: $(ip netns list | grep "^$1-")"
  [ -z "$(ls "$VNET_STATE_DIR" 2>/dev/null)" ] || fail "$1: state left in $VNET_STATE_DIR"
  pass "$1 lab test passes and cleans up"
}

# peer_logger NS ADDR PORT LOG: a TCP server in NS on ADDR:PORT that writes each client's address
# to LOG (one line per connection) and closes; its pid joins PIDS. Returns once it listens.
peer_logger() {
  local ns=$1 addr=$2 port=$3 log=$4
  ip netns exec "$ns" python3 -u -c '
import socket, sys
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind((sys.argv[1], int(sys.argv[2]))); s.listen(64)
while True:
    c, peer = s.accept(); print(peer[0], flush=True); c.close()
' "$addr" "$port" > "$log" 2> "$log.err" &
  PIDS+=($!)
  wait_for 10 contains "$addr:$port " ip netns exec "$ns" ss -ltn ||
    fail "the TCP server on $ns $addr:$port did not start: $(cat "$log.err")"
}
