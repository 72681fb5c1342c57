#!/usr/bin/env bash
# A lab touches only what it created: `up` against a foreign namespace or a running lab of the
# same name fails and leaves them untouched; an interrupted `up` or `test` tears down in the normal
# flow; `status` tells a dead dataplane from a running one.
# ctest: parallel
. "$(dirname "$0")/lib.sh"
EX=${VNET_SRC:?}/examples/campus.yaml
L=ow$$
sed "s/^name: campus/name: $L/" "$EX" > "$WORK/lab.yaml"

# 1. A foreign namespace with the name a node would get: refused, untouched, its process alive.
ns_add "$L-pc3"
ip netns exec "$L-pc3" sleep 1000 & foreign=$!
PIDS+=("$foreign")
out=$("$VNET" lab up "$WORK/lab.yaml" 2>&1) && fail "up over a foreign namespace succeeded"
[[ $out == *"$L-pc3 already exists and is not this lab's"* ]] || fail "unclear refusal: $out"
ip netns list | grep -q "^$L-pc3\b" || fail "the foreign namespace was deleted"
kill -0 "$foreign" 2>/dev/null || fail "the foreign namespace's process was killed"
left=$(ip netns list | awk '{print $1}' | grep "^$L-" | grep -v "^$L-pc3$" || true)
[ -z "$left" ] || fail "the failed up left namespaces: $left"
[ -e "$VNET_STATE_DIR/$L" ] && fail "the failed up left its state"
kill "$foreign"; ip netns del "$L-pc3"
pass "up over a foreign namespace: refused, the namespace and its process untouched"

# 2. A running lab, and a second up of the same lab: from the same state root, and from another.
"$VNET" lab up "$WORK/lab.yaml" > "$WORK/up.log" || fail "up: $(cat "$WORK/up.log")"
dp=$("$VNET" lab status --json "$L" | jq -r '.pids[] | select(.what == "dataplane") | .pid')
out=$("$VNET" lab up "$WORK/lab.yaml" 2>&1) && fail "a second up of a running lab succeeded"
[[ $out == *"already up"* ]] || fail "unclear refusal: $out"
out=$(VNET_STATE_DIR=$WORK/other "$VNET" lab up "$WORK/lab.yaml" 2>&1) && fail "up from another state root succeeded"
[[ $out == *"already exists and is not this lab's"* ]] || fail "unclear refusal: $out"
[ "$(ip netns list | grep -c "^$L-")" = 9 ] || fail "the running lab lost namespaces: $(ip netns list | grep "^$L-")"
kill -0 "$dp" || fail "the running lab's dataplane was killed"
ip netns exec "$L-pc1" ping -c 1 -W 2 10.0.10.12 > /dev/null || fail "the running lab stopped working"
pass "a second up (same or other state root) is refused; the running lab keeps working"

# 3. status is truthful about the dataplane.
"$VNET" lab status --json "$L" | jq -e '.pids[] | select(.what == "dataplane") | .alive' > /dev/null || fail "status: dataplane not running"
kill -9 "$dp"
wait_for 3 sh -c "! kill -0 $dp 2>/dev/null || grep -q '^State:.*Z' /proc/$dp/status" || fail "dataplane did not die"
"$VNET" lab status --json "$L" | jq -e '.pids[] | select(.what == "dataplane") | .alive == false' > /dev/null \
  || fail "status still says the killed dataplane is running"
"$VNET" lab status "$L" | grep -Eq "gone +dataplane" || fail "status text: $("$VNET" lab status "$L" | grep dataplane)"
"$VNET" lab down "$L" > /dev/null
pass "status shows a killed dataplane as gone"

# 4. Interrupted up: SIGINT once the dataplane runs; the lab is removed in the normal flow.
"$VNET" lab up "$WORK/lab.yaml" > "$WORK/int.log" 2>&1 & up=$!
wait_for 10 grep -q "dataplane" "$WORK/int.log" || fail "up did not get to its dataplane"
kill -INT $up || fail "up already exited: $(cat "$WORK/int.log")"
rc=0; wait $up || rc=$?
[ $rc != 0 ] || fail "interrupted up exited 0"
grep -q "interrupted by SIGINT" "$WORK/int.log" || grep -q "is up in" "$WORK/int.log" || fail "interrupted up: $(cat "$WORK/int.log")"
if ! grep -q "is up in" "$WORK/int.log"; then
  ip netns list | grep -q "^$L-" && fail "interrupted up left namespaces"
  [ -e "$VNET_STATE_DIR/$L" ] && fail "interrupted up left its state"
fi
"$VNET" lab down "$L" > /dev/null 2>&1 || true
pass "SIGINT during up: removed in the normal flow"

# 5. Interrupted test: SIGTERM during a long step; the run stops, the lab is torn down, exit 143.
cat > "$WORK/long.yaml" <<YAML
name: $L
switches: [{name: sw}]
hosts:
  - {name: a, interfaces: [{name: eth0, ipv4: 10.78.0.1/24}]}
links: [{endpoints: [a, sw]}]
scenarios:
  - name: long
    steps:
      - exec: a sleep 3
      - exec: a sleep 30
YAML
"$VNET" lab test "$WORK/long.yaml" > "$WORK/long.log" 2>&1 & t=$!
wait_for 10 grep -q "scenario long" "$WORK/long.log" || fail "test did not start: $(cat "$WORK/long.log")"
kill -TERM $t
rc=0; wait $t || rc=$?
[ $rc = 143 ] || fail "interrupted test exited $rc, want 143: $(tail -5 "$WORK/long.log")"
grep -q "interrupted by SIGTERM" "$WORK/long.log" || fail "report does not say it was interrupted"
grep -q "sleep 30" "$WORK/long.log" && fail "the step after the signal still ran"
ip netns list | grep -q "^$L-" && fail "interrupted test left namespaces"
pass "SIGTERM during test: the run stops between steps and the lab is torn down (exit 143)"
echo "1 passed, 0 failed"
