#!/usr/bin/env bash
# Link impairment in labs: `vnet lab test examples/impair.yaml` passes (declared impairment
# shows in round trips and lost answers, impair steps set and clear it, a flap step takes the
# carrier away and back), and `up` applies each declared direction to the right switch port as
# the dataplane shows it (impair/show). A file with one bad word creates nothing.
. "$(dirname "$0")/lib.sh"
EX=${VNET_SRC:?}/examples/impair.yaml

example_passes impair

# What `up` applied, read back from the lab's dataplane: pc2's cable (port 2) 20 ms both ways,
# pc3's cable (port 3) only what pc3 sends (the port's in), pc1's cable (port 1) nothing.
"$VNET" lab up "$EX" >"$WORK/up.log" || fail "up: $(cat "$WORK/up.log")"
grep -q "impairment   2 links, 3 directions" "$WORK/up.log" || fail "up did not say what it impaired"
ip netns exec impair-pc1 ping -c 1 -W 2 10.0.0.2 >/dev/null || fail "positive control: pc1 cannot reach pc2"
show=$("$VNET" ctl "$VNET_STATE_DIR/impair/console.sock" impair/show --json)
echo "$show" | jq -e '[.[] | select(.port == 2)] | map("\(.direction) \(.settings)") | sort
  == ["in delay 20ms", "out delay 20ms"]' >/dev/null || fail "port 2 impairment: $show"
echo "$show" | jq -e '[.[] | select(.port == 3)] | map("\(.direction) \(.settings)")
  == ["in loss 100%"]' >/dev/null || fail "port 3 impairment: $show"
echo "$show" | jq -e 'all(.port != 1)' >/dev/null || fail "port 1 is impaired: $show"
# ... and it is what the frames meet: pc3's echo requests arrive (in counted on port 3's
# engine as offered), its replies are all dropped.
ip netns exec impair-pc1 ping -c 2 -i 0.2 -W 1 10.0.0.3 >/dev/null 2>&1 && fail "pc3 answered through loss 100%"
show=$("$VNET" ctl "$VNET_STATE_DIR/impair/console.sock" impair/show 3 --json)
echo "$show" | jq -e '.[0].offered > 0 and .[0].dropped.loss == .[0].offered' >/dev/null ||
  fail "pc3's frames were not dropped by the declared loss: $show"
"$VNET" lab down impair >/dev/null
pass "up applies declared impairment per direction to the link's switch port"

# One bad word anywhere: validate names it, up creates nothing.
sed 's/impair: delay 20ms /impair: delay 20ms loss 101% /' "$EX" >"$WORK/bad.yaml"
grep -q "loss 101%" "$WORK/bad.yaml" || fail "test setup: the bad word was not written"
out=$("$VNET" lab up "$WORK/bad.yaml" 2>&1) && fail "up accepted loss 101%"
[[ $out == *"bad.yaml:25:"*"loss 101%: expected a percentage from 0% to 100%"* ]] || fail "error: $out"
ip netns list | grep -q '^impair-' && fail "a refused file created namespaces"
pass "a bad impairment word is refused at its line before anything is created"
echo "2 passed, 0 failed"
