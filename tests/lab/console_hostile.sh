#!/usr/bin/env bash
# Hostile console and VDE clients against a running switch:
#  - a 64 MiB console line without a newline is refused ("1090 … 64 KiB"), the switch's RSS stays
#    bounded and it keeps answering;
#  - an rc file that loads itself (directly, or through another file) is refused with the file:line
#    chain, via `vnet switch -f` (exit 1, no crash) and via `load` (switch alive); `load /dev/zero`
#    is refused;
#  - at the descriptor limit (prlimit --nofile=32) with more console and VDE connections waiting
#    than that, the switch stays under 20 % of a core (no accept spin) and answers again once
#    they are gone.
. "$(dirname "$0")/lib.sh"
PY=/usr/bin/python3
[ -x $PY ] || fail "python3 missing (apt-get install python3)"
ns_add $T-sw
M=$WORK/mgmt
start_switch $T-sw $M -s "$WORK/vde"
SW=$(cat "$WORK/sw.pid")
ctl() { "$VNET" ctl "$M" "$@"; }
rss_kib() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status"; }

# --- a 64 MiB line without a newline
cat > "$WORK/longline.py" <<'PY'
import select, socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.connect(sys.argv[1])
s.setblocking(False)
chunk, left, got, closed = b"x" * 65536, 64 << 20, b"", False
while not closed:
    r, w, _ = select.select([s], [s] if left else [], [], 10)
    if not r and not w:
        break
    if r:
        try:
            d = s.recv(65536)
        except ConnectionResetError:
            d = b""
        closed = not d
        got += d
    if w and not closed:
        try:
            left -= s.send(chunk[:min(left, len(chunk))])
        except (BrokenPipeError, ConnectionResetError):
            left = 0
sys.stdout.write(got.decode(errors="replace"))
sys.exit(0 if closed else 1)
PY
before=$(rss_kib "$SW")
out=$($PY "$WORK/longline.py" "$M") || fail "the switch did not close the session: $out"
after=$(rss_kib "$SW")
[[ $out == *"1090 console line longer than 65536 bytes (64 KiB); closing the session"* ]] ||
  fail "no refusal for the long line: ${out: -200}"
[ $((after - before)) -lt 8192 ] || fail "RSS grew by $((after - before)) KiB for a 64 MiB line"
contains "COMMAND PATH" ctl help || fail "the console does not answer after the long line"
pass "a 64 MiB line is refused; RSS $before → $after KiB; the console answers"

# --- rc files that load themselves
echo "load $WORK/self.rc" > "$WORK/self.rc"
printf 'vlan/create 10\nload %s\n' "$WORK/b.rc" > "$WORK/a.rc"
printf '# b\nload %s\n' "$WORK/a.rc" > "$WORK/b.rc"
rc=0
timeout 10 "$VNET" switch -M "$WORK/mgmt2" -f "$WORK/self.rc" 2> "$WORK/self.err" || rc=$?
[ $rc = 1 ] || fail "vnet switch -f self.rc: exit $rc, expected 1 (an error, not a crash or hang)"
grep -qF "$WORK/self.rc:1: $WORK/self.rc loads itself" "$WORK/self.err" ||
  fail "vnet switch -f self.rc: $(cat "$WORK/self.err")"
rc=0
timeout 10 "$VNET" switch -M "$WORK/mgmt2" -f "$WORK/a.rc" 2> "$WORK/a.err" || rc=$?
[ $rc = 1 ] || fail "vnet switch -f a.rc: exit $rc, expected 1"
grep -qF "$WORK/a.rc:2: $WORK/b.rc:2: $WORK/a.rc loads itself" "$WORK/a.err" ||
  fail "vnet switch -f a.rc: $(cat "$WORK/a.err")"
pass "vnet switch -f refuses self-loading rc files with the file:line chain"
out=$(ctl load "$WORK/self.rc" 2>&1) && fail "load self.rc succeeded"
[[ $out == *"$WORK/self.rc:1: $WORK/self.rc loads itself"* ]] || fail "load self.rc: $out"
out=$(ctl load "$WORK/a.rc" 2>&1) && fail "load a.rc succeeded"
[[ $out == *"$WORK/a.rc:2: $WORK/b.rc:2: $WORK/a.rc loads itself"* ]] || fail "load a.rc: $out"
out=$(timeout 10 "$VNET" ctl "$M" load /dev/zero 2>&1) && fail "load /dev/zero succeeded"
[[ $out == *"/dev/zero: not a regular file (a character device)"* ]] || fail "load /dev/zero: $out"
kill -0 "$SW" || fail "the switch died"
contains "VLAN 0010" ctl vlan/print 10 ||
  fail "the lines before the self-load did not run"
pass "load refuses self-loading files and /dev/zero; the switch goes on"

# --- the descriptor limit
M3=$WORK/mgmt3
ip netns exec $T-sw prlimit --nofile=32:32 "$VNET" switch -M "$M3" -s "$WORK/vde3" \
  -p "$WORK/sw3.pid" --log "$WORK/sw3.log" -d
wait_for 5 test -S "$M3" -a -s "$WORK/sw3.pid" || fail "switch 3 did not start: $(cat "$WORK/sw3.log")"
SW3=$(cat "$WORK/sw3.pid")
PIDS+=("$SW3")
cat > "$WORK/flood.py" <<'PY'
import socket, sys, time
held = []
for path in sys.argv[1:3]:
    for _ in range(40):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.setblocking(False)
        try:
            s.connect(path)
        except BlockingIOError:  # the backlog is full: enough
            s.close()
            break
        held.append(s)
open(sys.argv[3], "w").write(f"{len(held)}\n")
time.sleep(60)
PY
$PY "$WORK/flood.py" "$M3" "$WORK/vde3/ctl" "$WORK/flood.n" &
FLOOD=$!
PIDS+=($FLOOD)
wait_for 5 test -s "$WORK/flood.n" || fail "the flood client did not connect"
n=$(cat "$WORK/flood.n")
[ "$n" -gt 32 ] || fail "only $n connections opened, expected more than the limit of 32"
wait_for 5 grep -q "not accepting for 100 ms" "$WORK/sw3.log" ||
  fail "switch 3 never ran out of descriptors: $(tail -3 "$WORK/sw3.log")"
ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
t0=$(ticks "$SW3"); s0=$(date +%s%N)
sleep 2  # the measurement window, not a synchronisation
t1=$(ticks "$SW3"); s1=$(date +%s%N)
hz=$(getconf CLK_TCK)
pct=$(( (t1 - t0) * 100 * 1000000000 / hz / (s1 - s0) ))
[ "$pct" -lt 20 ] || fail "switch used $pct % of a core at the descriptor limit"
pass "$n connections against a 32-descriptor switch: $pct % of a core (no accept spin)"
kill "$FLOOD"
wait "$FLOOD" 2>/dev/null || true
wait_for 10 contains "COMMAND PATH" "$VNET" ctl "$M3" help || fail "switch 3 does not answer after the flood"
pass "the console answers again once the connections are gone"
echo "1 passed, 0 failed"
