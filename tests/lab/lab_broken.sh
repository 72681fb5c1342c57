#!/usr/bin/env bash
# Every broken topology is refused by `up` with file:line and leaves nothing behind; a file
# headed "# warning: LINE: message" is valid but likely wrong: `validate` accepts it and warns at
# that line.
. "$(dirname "$0")/lib.sh"
DIR=$(dirname "$0")/broken
before=$(ip netns list | sort)
n=0
w=0
for f in "$DIR"/*.yaml; do
  if head -1 "$f" | grep -q '^# warning: '; then
    line=$(head -1 "$f" | sed 's/^# warning: \([0-9]*\):.*/\1/')
    msg=$(head -1 "$f" | sed 's/^# warning: [0-9]*: //')
    set +e; out=$("$VNET" lab validate "$f" 2>&1); rc=$?; set -e
    [ $rc = 0 ] || fail "$f was refused: $out"
    echo "$out" | grep -F "$msg" | grep -q "^$f:$line:[0-9]*: warning: " || fail "$f: no warning on line $line: $out"
    w=$((w + 1))
    continue
  fi
  line=$(head -1 "$f" | sed 's/^# expect: \([0-9]*\):.*/\1/')
  set +e; out=$("$VNET" lab up "$f" 2>&1); rc=$?; set -e
  [ $rc != 0 ] || fail "$f was brought up"
  echo "$out" | grep -q "^$f:$line:" || fail "$f: no diagnostic on line $line: $out"
  n=$((n + 1))
done
after=$(ip netns list | sort)
[ "$before" = "$after" ] || fail "broken files left namespaces: $after"
[ -z "$(ls "$VNET_STATE_DIR" 2>/dev/null)" ] || fail "broken files left state"
pass "$n broken files refused, $w warned about, nothing left behind"
echo "1 passed, 0 failed"
