#!/usr/bin/env bash
# vnet wirefilter between two switches, as VDE's wirefilter is used: hosts h1 and h2 are
# vde_plug2tap clients of switches A and B, and `vnet wirefilter -v A:B` is the only path between
# them. With VDE's vde_switch: -l 20 -d 10 makes pings cross (positive control) with ~20 ms more
# round trip and visible loss; `vnet ctl MGMT showinfo` answers at once on wirefilter's prompt;
# `vnet ctl MGMT delay 5` / `loss 0` change the RTT. With vnet switch: an rc file of wirefilter
# commands loads (--rcfile) and sets the delay; `load` from the console is refused.
. "$(dirname "$0")/lib.sh"
command -v vde_switch >/dev/null || fail "vde_switch missing (apt-get install vde2)"
command -v vde_plug2tap >/dev/null || fail "vde_plug2tap missing (apt-get install vde2)"

in_range() { awk -v v="$1" -v lo="$2" -v hi="$3" 'BEGIN { exit !(v >= lo && v <= hi) }'; }

# The two hosts, each a vde_plug2tap in its own namespace, with static neighbours (an ARP
# exchange lost to the impairment must not decide the test).
hosts() { # SWITCH_A SWITCH_B TAG
  for h in 1 2; do
    local sw=$1 ns=$T-$3h$h
    [ $h = 2 ] && sw=$2
    ns_add $ns
    ip netns exec $ns vde_plug2tap -s "$sw" -d -P "$WORK/$3plug$h.pid" tap0
    wait_for 5 test -s "$WORK/$3plug$h.pid" || fail "vde_plug2tap on $sw did not start"
    PIDS+=("$(cat "$WORK/$3plug$h.pid")")
    wait_for 5 ip -n $ns link show tap0 || fail "no tap in $ns"
    ip netns exec $ns sysctl -qw net.ipv6.conf.all.disable_ipv6=1
    host_cfg $ns tap0 02:00:00:00:0b:0$h 10.11.0.$h/24
  done
  ip -n $T-$3h1 neigh replace 10.11.0.2 lladdr 02:00:00:00:0b:02 dev tap0 nud permanent
  ip -n $T-$3h2 neigh replace 10.11.0.1 lladdr 02:00:00:00:0b:01 dev tap0 nud permanent
}

# "MEAN_RTT_MS LOSS_PERCENT" of N pings h1 → h2, 10 ms apart.
probe() { # TAG N
  ip netns exec $T-$1h1 ping -q -n -c "$2" -i 0.01 -W 1 10.11.0.2 2>/dev/null |
    awk '/packet loss/ { for (i = 1; i <= NF; i++) if ($i ~ /%$/) { sub("%", "", $i); loss = $i } }
         /^rtt|^round-trip/ { split($4, a, "/"); rtt = a[2] }
         END { printf "%s %s\n", (rtt == "" ? "none" : rtt), loss }'
}

start_wirefilter() { # TAG ARGS...
  local tag=$1; shift
  "$VNET" wirefilter "$@" --seed 7 > "$WORK/$tag-wf.log" 2>&1 &
  WF=$!
  PIDS+=("$WF")
  wait_for 5 test -S "$WORK/$tag-wf.mgmt" || fail "vnet wirefilter did not start: $(cat "$WORK/$tag-wf.log")"
}

# --- 1: two vde_switch processes -----------------------------------------------------------
for s in A B; do
  vde_switch -s "$WORK/vde$s" -M "$WORK/vde$s.mgmt" -d -p "$WORK/vde$s.pid"
  wait_for 5 test -S "$WORK/vde$s/ctl" -a -s "$WORK/vde$s.pid" || fail "vde_switch $s did not start"
  PIDS+=("$(cat "$WORK/vde$s.pid")")
done
hosts "$WORK/vdeA" "$WORK/vdeB" v
M=$WORK/v-wf.mgmt
start_wirefilter v -v "$WORK/vdeA:$WORK/vdeB" -l 20 -d 10 -M "$M"

read -r rtt loss < <(probe v 100)
[ "$rtt" != none ] || fail "vde_switch: no ping crossed vnet wirefilter -l 20 -d 10 (loss $loss%)"
in_range "$rtt" 19 30 || fail "vde_switch: -d 10 each way gave a mean RTT of $rtt ms, want 19-30"
# 20% each way: a round trip survives with 0.8² = 64%; 100 pings: loss 36% ± 4.8% (σ).
in_range "$loss" 15 60 || fail "vde_switch: -l 20 each way lost $loss% of pings, want 15-60"
pass "vde_switch: pings cross with RTT $rtt ms and $loss% loss (-l 20 -d 10)"

t0=$(date +%s%N)
out=$(timeout 5 "$VNET" ctl "$M" showinfo) || fail "vnet ctl showinfo failed or hung: $out"
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
[ $ms -lt 2000 ] || fail "vnet ctl showinfo took $ms ms"
[[ $out == *"Loss   L->R 20+0U   R->L 20+0U"* ]] || fail "showinfo does not show the loss: $out"
[[ $out == *"Delay  L->R 10+0U"* ]] || fail "showinfo does not show the delay: $out"
pass "vnet ctl showinfo answers on wirefilter's prompt in $ms ms"

"$VNET" ctl "$M" loss 0 >/dev/null || fail "loss 0 refused"
"$VNET" ctl "$M" delay 5 >/dev/null || fail "delay 5 refused"
read -r rtt loss < <(probe v 50)
in_range "$rtt" 9 16 || fail "after 'delay 5' the RTT is $rtt ms, want 9-16"
[ "$loss" = 0 ] || fail "after 'loss 0' $loss% of pings were lost"
pass "console 'delay 5' and 'loss 0' apply: RTT $rtt ms, no loss"

"$VNET" ctl "$M" delay 120x >/dev/null 2>"$WORK/err" && fail "delay 120x accepted"
grep -q "expected" "$WORK/err" || fail "no reason for refusing 'delay 120x': $(cat "$WORK/err")"
echo "delay 50" > "$WORK/evil.rc"
"$VNET" ctl "$M" load "$WORK/evil.rc" >/dev/null 2>&1 && fail "console load of a client-named file accepted"
"$VNET" ctl "$M" showinfo | grep -q "Delay  L->R 5+0U" || fail "a refused command changed the delay"
pass "malformed values and console 'load' are refused, nothing changes"

kill "$WF"; wait "$WF" 2>/dev/null || true

# vnet ctl also talks to VDE's own wirefilter (its prompt is "\nVDEwf$ ", not "\nvde$ ").
if command -v wirefilter >/dev/null; then
  wirefilter -v "$WORK/vdeA:$WORK/vdeB" -d 3 -M "$WORK/vde-wf.mgmt" --daemon --pidfile "$WORK/vde-wf.pid"
  wait_for 5 test -S "$WORK/vde-wf.mgmt" -a -s "$WORK/vde-wf.pid" || fail "VDE wirefilter did not start"
  PIDS+=("$(cat "$WORK/vde-wf.pid")")
  t0=$(date +%s%N)
  out=$(timeout 5 "$VNET" ctl "$WORK/vde-wf.mgmt" showinfo) || fail "vnet ctl on VDE's wirefilter failed or hung: $out"
  ms=$(( ($(date +%s%N) - t0) / 1000000 ))
  [ $ms -lt 2000 ] || fail "vnet ctl on VDE's wirefilter took $ms ms"
  [[ $out == *"Delay  L->R 3+0U"* ]] || fail "VDE wirefilter's showinfo not read: $out"
  pass "vnet ctl reads VDE wirefilter's console in $ms ms"
  kill "$(cat "$WORK/vde-wf.pid")"
fi

# --- 2: two vnet switch processes and an rc file written for wirefilter ---------------------
for s in A B; do
  "$VNET" switch -s "$WORK/vnet$s" -M "$WORK/vnet$s.mgmt" -p "$WORK/vnet$s.pid" \
    --log "$WORK/vnet$s.log" -d
  wait_for 5 test -S "$WORK/vnet$s/ctl" -a -s "$WORK/vnet$s.pid" || fail "vnet switch $s did not start"
  PIDS+=("$(cat "$WORK/vnet$s.pid")")
done
hosts "$WORK/vnetA" "$WORK/vnetB" n
cat > "$WORK/wf.rc" <<RC
# wirefilter rc file
delay 8
loss LR0
dup 0
fifo 1
RC
M=$WORK/n-wf.mgmt
start_wirefilter n -v "$WORK/vnetA:$WORK/vnetB" --rcfile "$WORK/wf.rc" -M "$M"
"$VNET" ctl "$M" showinfo | grep -q "Delay  L->R 8+0U   R->L 8+0U" || fail "rc file not applied"
read -r rtt loss < <(probe n 50)
[ "$rtt" != none ] || fail "vnet switch: no ping crossed vnet wirefilter"
in_range "$rtt" 15 24 || fail "vnet switch: rc 'delay 8' gave a mean RTT of $rtt ms, want 15-24"
[ "$loss" = 0 ] || fail "vnet switch: $loss% of pings lost without loss set"
pass "vnet switch: rc file loads (delay 8): RTT $rtt ms, no loss"

# Markov mode from the console: two states that alternate every 150 ms (edges of weight 100),
# state 1 with 40 ms each way: the RTT samples show both states.
for c in "markov-numnodes 2" "delay 40[1]" "setedge 0,1,100" "setedge 1,0,100" "markov-time 150"; do
  "$VNET" ctl "$M" $c >/dev/null || fail "console '$c' refused"
done
ip netns exec $T-nh1 ping -n -c 120 -i 0.01 -W 1 10.11.0.2 2>/dev/null | sed -n 's/.*time=\([0-9.]*\) ms/\1/p' > "$WORK/markov.rtt"
fast=$(awk '$1 < 30' "$WORK/markov.rtt" | wc -l)
slow=$(awk '$1 > 70' "$WORK/markov.rtt" | wc -l)
[ "$fast" -ge 10 ] && [ "$slow" -ge 10 ] ||
  fail "Markov states did not alternate: $fast RTTs under 30 ms, $slow over 70 ms"
[ "$("$VNET" ctl "$M" showinfo --json | jq .states)" = 2 ] || fail "showinfo --json does not show 2 states"
"$VNET" ctl "$M" markov-numnodes 1 >/dev/null || fail "markov-numnodes 1 refused"
pass "Markov mode: $fast RTTs in state 0 (8 ms), $slow in state 1 (40 ms)"

printf 'delay 8\nloss 250\n' > "$WORK/bad.rc"
if "$VNET" wirefilter -v "$WORK/vnetA:$WORK/vnetB" --rcfile "$WORK/bad.rc" 2>"$WORK/err"; then
  fail "an rc file with loss 250 was accepted"
fi
grep -q "bad.rc:2:" "$WORK/err" || fail "rc file error does not name file:line: $(cat "$WORK/err")"
pass "a bad rc file is refused with file:line"

# When a switch goes away (EOF on its control connection), the filter exits, as wirefilter does.
"$VNET" ctl "$M" showinfo >/dev/null || fail "vnet wirefilter is not running before the switch stops"
kill "$(cat "$WORK/vnetB.pid")"
wait_for 5 gone "$WF" || fail "vnet wirefilter still runs after switch B stopped"
pass "vnet wirefilter exits when a switch goes away"
echo "9 passed, 0 failed"
