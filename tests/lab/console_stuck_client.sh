#!/usr/bin/env bash
# A console client that sends commands and never reads its answers must not stall forwarding:
# while it fills its answer buffer, 1,000 pings at 1 ms intervals cross the switch between two
# afpacket hosts without loss and with RTT p99 under 5 ms; the stuck client is disconnected
# (its socket closes, the switch logs why) and the console keeps answering `vnet ctl`.
. "$(dirname "$0")/lib.sh"
PY=/usr/bin/python3
[ -x $PY ] || fail "python3 missing (apt-get install python3)"
ns_add $T-sw
plug 1 02:00:00:00:0c:01 10.12.0.1/24
plug 2 02:00:00:00:0c:02 10.12.0.2/24
M=$WORK/mgmt
start_switch $T-sw $M --port 1=afpacket:s1 --port 2=afpacket:s2
# The switch and ping run at nice -10 so that other work on a shared machine does not decide the
# RTT percentiles: what is measured is whether the switch itself waits for the console client.
renice -n -10 -p "$(cat "$WORK/sw.pid")" >/dev/null
ctl() { "$VNET" ctl "$M" "$@"; }
reach $T-1 10.12.0.2 || fail "h1 cannot reach h2 before the test"

# The stuck client: 20 `help` commands (about 100 KiB of answers) every 20 ms, never a read.
# It records when the switch closed the connection.
cat > "$WORK/stuck.py" <<'PY'
import socket, sys, time
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.connect(sys.argv[1])
s.setblocking(False)
open(sys.argv[2] + ".connected", "w").close()
batch = b"help\n" * 20
deadline = time.monotonic() + 20
while time.monotonic() < deadline:
    try:
        s.send(batch)
    except BlockingIOError:
        pass
    except (BrokenPipeError, ConnectionResetError):
        open(sys.argv[2], "w").write("closed\n")
        sys.exit(0)
    time.sleep(0.02)
sys.exit(1)
PY
nice -n -10 ip netns exec $T-1 ping -i 0.001 -c 1000 -W 1 10.12.0.2 > "$WORK/ping.out" 2>&1 &
PING=$!
PIDS+=($PING)
$PY "$WORK/stuck.py" "$M" "$WORK/stuck.closed" &
STUCK=$!
PIDS+=($STUCK)
wait_for 5 test -f "$WORK/stuck.closed.connected" || fail "the stuck client did not connect"
# Positive control while both run: the console answers another client.
contains "COMMAND PATH" ctl help || fail "the console did not answer during the test"
wait $PING || fail "ping failed: $(tail -3 "$WORK/ping.out")"
wait_for 10 test -f "$WORK/stuck.closed" || fail "the stuck client was never disconnected"
grep -q "closing session .*the client does not read its answers" "$WORK/sw.log" ||
  fail "no log line for the disconnected client: $(grep console "$WORK/sw.log" | tail -3)"
pass "the client that does not read is disconnected (and logged)"

received=$(sed -n 's/.* \([0-9]*\) received.*/\1/p' "$WORK/ping.out")
[ "$received" = 1000 ] || fail "pings lost: $received of 1000 received"
p99=$(sed -n 's/.*time=\([0-9.]*\) ms.*/\1/p' "$WORK/ping.out" | sort -g | sed -n 990p)
[ -n "$p99" ] || fail "no RTT in the ping output"
awk -v p="$p99" 'BEGIN { exit !(p < 5) }' || fail "RTT p99 $p99 ms, expected under 5 ms"
pass "1000 pings at 1 ms crossed the switch meanwhile, none lost, RTT p99 $p99 ms"

contains "COMMAND PATH" ctl help || fail "the console does not answer after the test"
kill -0 "$(cat "$WORK/sw.pid")" || fail "the switch died"
pass "the console still answers"
echo "1 passed, 0 failed"
