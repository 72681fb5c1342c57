#!/usr/bin/env bash
# up / status / exec / graph / down by hand, with timings; two labs coexist; SIGKILL of the
# dataplane (and of `up` itself) in the middle of `up` still lets `down` remove everything.
. "$(dirname "$0")/lib.sh"
EX=${VNET_SRC:?}/examples/campus.yaml

ms() { date +%s%3N; }
t0=$(ms); "$VNET" lab up "$EX" >/dev/null; t1=$(ms)
"$VNET" lab status campus | grep -q "port 1    up" || { "$VNET" lab status campus; fail "status shows no live port"; }
"$VNET" lab status --json campus | jq -e '.switches | length == 2' >/dev/null || fail "status --json"
"$VNET" lab exec campus pc1 -- ip -4 addr show eth0 | grep -q 10.0.10.11 || fail "exec in pc1"
"$VNET" lab exec pc1 -- true || fail "exec with the only lab implied"
set +e; "$VNET" lab exec campus pc1 -- sh -c 'exit 3'; rc=$?; set -e
[ $rc = 3 ] || fail "exec exit status $rc, want 3"
"$VNET" lab up "$EX" >/dev/null 2>&1 && fail "a second up of the same lab was accepted"
# A second lab beside it: same file, other name.
sed 's/^name: campus/name: campus2/' "$EX" > "$WORK/campus2.yaml"
"$VNET" lab up "$WORK/campus2.yaml" >/dev/null
ip netns exec campus2-pc1 ping -c 1 -W 2 10.0.10.12 >/dev/null || fail "second lab does not work"
"$VNET" lab down campus2 >/dev/null
t2=$(ms); "$VNET" lab down "$EX" >/dev/null; t3=$(ms)
ip netns list | grep -q '^campus' && fail "namespaces left after down"
echo "timing: up $((t1 - t0)) ms, down $((t3 - t2)) ms (campus.yaml, including process start)"
pass "up/status/exec/down, two labs side by side"

(cd "$WORK" && "$VNET" lab graph "$EX" -o campus >/dev/null) || fail "graph"
grep -q "<svg" "$WORK/campus.svg" || fail "no SVG"
pass "graph"

# SIGKILL in the middle of up: kill the dataplane as soon as it exists, and `up` with it.
# `up` of this lab takes about 0.1 s: poll without sleeping, read the pid and the phase at once,
# and try again if the kill came too late.
for attempt in $(seq 20); do
  "$VNET" lab up "$EX" >"$WORK/up.log" 2>&1 &
  up=$!
  dp= phase=none
  for _ in $(seq 1000); do
    read -r dp phase < <("$VNET" lab status --json campus 2>/dev/null | jq -r '. as $s
      | first(.pids[] | select(.what == "dataplane") | "\(.pid) \($s.phase)")' 2>/dev/null) || true
    [ -n "$dp" ] && break
  done
  kill -9 $up 2>/dev/null || true
  [ -n "$dp" ] && kill -9 "$dp" 2>/dev/null || true
  wait $up 2>/dev/null || true
  [ "$phase" = creating ] && break
  "$VNET" lab down campus >/dev/null 2>&1 || true
done
[ "$phase" = creating ] || fail "could not catch up in the middle"
ip netns list | grep -q '^campus-' || fail "nothing was created before the kill"
"$VNET" lab down campus
ip netns list | grep -q '^campus' && fail "namespaces left after down following SIGKILL"
[ -e "$VNET_STATE_DIR/campus" ] && fail "state left after down"
pass "SIGKILL during up, then down removes everything"
echo "1 passed, 0 failed"
