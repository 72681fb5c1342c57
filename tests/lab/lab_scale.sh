#!/usr/bin/env bash
# A loop-free lab of 500 hosts on 16 switches (a chain of trunks, four VLANs): `up` under 10 s,
# its scenarios pass, the idle dataplane costs under 5 % of a core and under 512 MiB, the console
# answers within 100 ms, `down` takes under 5 s and leaves nothing. HOSTS=N for another size.
. "$(dirname "$0")/lib.sh"
N=${HOSTS:-500}
SW=16
L=sc$$
F=$WORK/scale.yaml
{
  echo "name: $L"
  echo "switches:"
  for s in $(seq $SW); do echo "  - {name: sw$s, vlans: [10, 20, 30, 40]}"; done
  echo "hosts:"
  for i in $(seq "$N"); do
    echo "  - {name: h$i, interfaces: [{name: eth0, ipv4: 10.$((i / 250)).$((i % 250)).$((1 + i % 4))/8}]}"
  done
  echo "links:"
  for s in $(seq $((SW - 1))); do echo "  - {endpoints: [sw$s, sw$((s + 1))], trunk: [10, 20, 30, 40]}"; done
  for i in $(seq "$N"); do
    echo "  - {endpoints: [h$i, sw$((1 + (i - 1) * SW / N))], vlan: $((10 * (1 + i % 4)))}"
  done
  # Same VLAN from the first switch to the last, and across the middle; other VLANs isolated.
  echo "scenarios:"
  echo "  - name: reach"
  echo "    steps:"
  for a in 4 1 2 3; do
    b=$((N - (4 - a) % 4 - 4 * ((N - a) % 4 != 0))); b=$(( b - (b - a) % 4 ))
    echo "      - ping: h$a h$b"
  done
  echo "      - ping: h$((N / 2 - N / 2 % 4)) h4"
  echo "  - name: isolation"
  echo "    steps:"
  echo "      - ping: h1 h$N"
  echo "        expect: unreachable"
} > "$F"
"$VNET" lab validate "$F" > /dev/null || fail "generated lab invalid: $("$VNET" lab validate "$F" 2>&1 | head -3)"

ms() { date +%s%3N; }
t0=$(ms)
"$VNET" lab up "$F" > "$WORK/up.log" 2>&1 || fail "up: $(tail -5 "$WORK/up.log")"
up_ms=$(( $(ms) - t0 ))
echo "up: $up_ms ms"
"$VNET" lab test "$F" --junit "$WORK/scale.xml" > "$WORK/test.log" 2>&1 || fail "scenarios: $(grep -E 'FAIL|steps' "$WORK/test.log")"
pass "$N hosts: up in $up_ms ms, scenarios pass ($(grep -o '[0-9]* steps: [0-9]* passed' "$WORK/test.log"))"

dp=$("$VNET" lab status --json "$L" | jq -r '.pids[] | select(.what == "dataplane") | .pid')
clk=$(getconf CLK_TCK)
cpu() { awk '{print $14 + $15}' "/proc/$dp/stat"; }
sleep 2  # let the scenario traffic age out of the measurement
c0=$(cpu); s0=$(ms); sleep 5; c1=$(cpu); s1=$(ms)
idle=$(awk -v c=$((c1 - c0)) -v t=$((s1 - s0)) -v hz="$clk" 'BEGIN { printf "%.1f", 100 * c / hz / (t / 1000) }')
rss=$(awk '/^VmRSS/ {print int($2 / 1024)}' "/proc/$dp/status")
t=$(ms); "$VNET" ctl "$VNET_STATE_DIR/$L/console.sock" help > /dev/null || fail "console"; ctl_ms=$(( $(ms) - t ))
echo "idle dataplane: ${idle} % of a core, ${rss} MiB resident; console: ${ctl_ms} ms (vnet ctl, process start included)"
t0=$(ms)
"$VNET" lab down "$L" > "$WORK/down.log" || fail "down: $(cat "$WORK/down.log")"
down_ms=$(( $(ms) - t0 ))
echo "down: $down_ms ms"
ip netns list | grep -q "^$L-" && fail "namespaces left after down"
[ "$up_ms" -lt 10000 ] || fail "up took $up_ms ms (goal < 10000)"
awk -v x="$idle" 'BEGIN { exit !(x < 5) }' || fail "idle dataplane at $idle % of a core (goal < 5 %)"
[ "$rss" -lt 512 ] || fail "dataplane resident $rss MiB (goal < 512)"
[ "$ctl_ms" -lt 100 ] || fail "console answered in $ctl_ms ms (goal < 100)"
[ "$down_ms" -lt 5000 ] || fail "down took $down_ms ms (goal < 5000)"
pass "$N hosts: idle ${idle} %, ${rss} MiB, console ${ctl_ms} ms, down ${down_ms} ms"
echo "1 passed, 0 failed"
