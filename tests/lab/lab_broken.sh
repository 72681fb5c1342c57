#!/usr/bin/env bash
# Every broken topology is refused by `up` with file:line and leaves nothing behind.
. "$(dirname "$0")/lib.sh"
DIR=$(dirname "$0")/broken
before=$(ip netns list | sort)
n=0
for f in "$DIR"/*.yaml; do
  line=$(head -1 "$f" | sed 's/^# expect: \([0-9]*\):.*/\1/')
  set +e; out=$("$VNET" lab up "$f" 2>&1); rc=$?; set -e
  [ $rc != 0 ] || fail "$f was brought up"
  echo "$out" | grep -q "^$f:$line:" || fail "$f: no diagnostic on line $line: $out"
  n=$((n + 1))
done
after=$(ip netns list | sort)
[ "$before" = "$after" ] || fail "broken files left namespaces: $after"
[ -z "$(ls "$VNET_STATE_DIR" 2>/dev/null)" ] || fail "broken files left state"
pass "$n broken files refused, nothing left behind"
echo "1 passed, 0 failed"
