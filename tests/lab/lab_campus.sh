#!/usr/bin/env bash
# The main job: vnet lab test examples/campus.yaml passes every step and leaves nothing behind.
. "$(dirname "$0")/lib.sh"
EX=${VNET_SRC:?}/examples/campus.yaml
before_ns=$(ip netns list | wc -l)
"$VNET" lab test "$EX" --junit "$WORK/campus.xml" | tee "$WORK/out.txt"
grep -q "0 failed" "$WORK/out.txt" || fail "campus report has failures"
grep -q '<testsuites name="vnet lab campus"' "$WORK/campus.xml" || fail "no JUnit report"
after_ns=$(ip netns list | wc -l)
[ "$before_ns" = "$after_ns" ] || fail "namespaces left behind: $(ip netns list)"
ip netns list | grep -q '^campus-' && fail "campus namespaces left"
[ -z "$(ls "$VNET_STATE_DIR" 2>/dev/null)" ] || fail "state left in $VNET_STATE_DIR"
pass "campus lab test passes and cleans up"
echo "1 passed, 0 failed"
