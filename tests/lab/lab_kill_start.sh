#!/usr/bin/env bash
# Crash and boot on the campus: `kill: r1` followed at once by `start: r1`, twenty times. Every
# time: r1's processes and addresses are gone after kill (its namespace with them; nothing else
# holds them), the new VRRP daemon starts and is ready, exactly one router holds the virtual
# addresses when checked, and r1 takes the master role back. Then a `start` whose service cannot
# start fails the step, and an `up` whose command dies at once fails and cleans up.
. "$(dirname "$0")/lib.sh"
EX=${VNET_SRC:?}/examples/campus.yaml
ROUNDS=${ROUNDS:-20}
# On failure, the VRRP daemons' view of it.
fail() {
  echo "FAIL: $*" >&2
  for f in "$VNET_STATE_DIR"/campus/r?.vrrp.log; do [ -e "$f" ] && { echo "== $f"; tail -12 "$f"; } >&2; done
  exit 1
}

# Scenario files on the running campus lab: the same topology with other scenarios.
scenario() { # NAME STEPS...
  local f=$WORK/$1.yaml
  sed '/^scenarios:/,$d' "$EX" > "$f"
  { echo "scenarios:"; echo "  - name: $1"; echo "    steps:"; shift; for s in "$@"; do echo "      - $s"; done; } >> "$f"
  echo "$f"
}
KILL=$(scenario kill "kill: r1")
START=$(scenario start "start: r1" "wait_until: {vrrp_master: CAMPUS is r1}
        within: 12s")
FIRST=$(scenario first "wait_until: {vrrp_master: CAMPUS is r1}
        within: 12s")

"$VNET" lab up "$EX" > "$WORK/up.log" || fail "campus up: $(cat "$WORK/up.log")"
"$VNET" lab test "$FIRST" > "$WORK/first.log" || fail "r1 never became master: $(tail -5 "$WORK/first.log")"

r1_addresses="10.0.10.2 10.0.20.2 10.0.50.2 fd00:10::2"
# addresses: "NAMESPACE ADDRESS/LEN" for every address of every lab namespace, in one sweep.
addresses() {
  local ns
  for ns in $(ip netns list | awk '{print $1}' | grep '^campus-'); do
    # A namespace may vanish between the list and the look: it holds nothing then.
    ip -n "$ns" -o addr show 2>/dev/null | awk -v ns="$ns" '{print ns, $4}' || true
  done
}
holders_of() { # ADDR SWEEP: the namespaces holding ADDR in that sweep
  awk -v a="$1/" 'index($2, a) == 1 {print $1}' <<<"$2"
}
for i in $(seq 1 "$ROUNDS"); do
  "$VNET" lab test "$KILL" > "$WORK/kill.log" || fail "round $i: kill failed: $(tail -5 "$WORK/kill.log")"
  # Right after kill: no process of r1 left, its namespace gone, nobody holds r1's own addresses.
  ip netns list | grep -q '^campus-r1\b' && fail "round $i: campus-r1 still exists after kill"
  sweep=$(addresses)
  for a in $r1_addresses; do
    h=$(holders_of "$a" "$sweep"); [ -z "$h" ] || fail "round $i: $a still held by $h after kill"
  done
  st=$("$VNET" lab status --json campus)
  jq -e '.power.r1 == false' <<<"$st" >/dev/null || fail "round $i: status does not show r1 off"
  [ "$(jq '[.pids[] | select(.node == "r1" and .alive)] | length' <<<"$st")" = 0 ] \
    || fail "round $i: a process of r1 is still running after kill"
  out=$("$VNET" lab exec campus r1 -- true 2>&1) && fail "round $i: exec in a powered-off node worked"
  [[ $out == *"powered off"* ]] || fail "round $i: exec in r1: $out"
  # At once: boot, and r1 becomes the only master again.
  "$VNET" lab test "$START" > "$WORK/start.log" || fail "round $i: start/master failed: $(tail -6 "$WORK/start.log")"
  "$VNET" lab status --json campus | jq -e '[.pids[] | select(.node == "r1" and (.what | startswith("r1 vrrp")) and .alive)] | length == 1' >/dev/null \
    || fail "round $i: not exactly one running VRRP daemon on r1"
  sweep=$(addresses)
  for a in 10.0.10.1 10.0.20.1 10.0.50.1; do
    h=$(holders_of "$a" "$sweep"); [ "$h" = campus-r1 ] || fail "round $i: VIP $a held by '${h//$'\n'/ }', want campus-r1 alone"
  done
done
pass "$ROUNDS × kill r1 + start r1: addresses gone after kill, daemon back, one master (r1)"
"$VNET" lab down campus > /dev/null

# A start whose service cannot start fails the step; an up whose command dies at once fails.
cat > "$WORK/svc.yaml" <<YAML
name: ks$$
switches: [{name: sw}]
hosts:
  - name: h1
    interfaces: [{name: eth0, ipv4: 10.77.0.1/24}]
    commands: ["if [ -e $WORK/broken ]; then echo cannot start >&2; exit 3; fi", "exec sleep 1000"]
links: [{endpoints: [h1, sw]}]
scenarios:
  - name: reboot
    steps:
      - kill: h1
      - start: h1
YAML
"$VNET" lab up "$WORK/svc.yaml" > "$WORK/svc-up.log" || fail "svc lab up: $(cat "$WORK/svc-up.log")"
"$VNET" lab test "$WORK/svc.yaml" > "$WORK/svc1.log" || fail "a healthy start failed: $(tail -4 "$WORK/svc1.log")"
touch "$WORK/broken"
"$VNET" lab test "$WORK/svc.yaml" > "$WORK/svc2.log" && fail "a start whose command exits 3 passed"
grep -q "FAIL\] start h1 — .*exited with status 3" "$WORK/svc2.log" || fail "start failure not explained: $(grep start "$WORK/svc2.log")"
"$VNET" lab down "ks$$" > /dev/null
out=$("$VNET" lab up "$WORK/svc.yaml" 2>&1) && fail "up with a command that dies at once succeeded"
[[ $out == *"exited with status 3"* && $out == *"cannot start"* ]] || fail "up failure not explained: $out"
ip netns list | grep -q "^ks$$-" && fail "namespaces left after the failed up"
[ -e "$VNET_STATE_DIR/ks$$" ] && fail "state left after the failed up"
pass "a service that cannot start fails start and up, with its exit status and log"
echo "1 passed, 0 failed"
