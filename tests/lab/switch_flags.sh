#!/usr/bin/env bash
# `vnet switch` flags are parsed strictly: a bad port number, file mode, port count or TAP list
# is refused with exit 1 and a message naming the flag and what was expected — never a crash
# (std::stoul threw on `--mgmtmode 9x`) or a silently different value (99999999999 wrapped to a
# port). Good values still work: `--port 7=qemu-stream:PATH` with '=' in PATH, `--mgmtmode 660`.
# ctest: parallel
. "$(dirname "$0")/lib.sh"
refused() { # expected-message flags...
  local want=$1 rc=0
  shift
  timeout 5 "$VNET" switch -M "$WORK/never.sock" "$@" > "$WORK/out" 2>&1 || rc=$?
  [ $rc = 1 ] || fail "vnet switch $* exited $rc (1 expected): $(head -c 300 "$WORK/out")"
  grep -qF -- "$want" "$WORK/out" || fail "vnet switch $*: $(head -c 300 "$WORK/out") (expected: $want)"
  [ ! -e "$WORK/never.sock" ] || fail "vnet switch $* opened its console before refusing"
}
refused "--port abc=tap:x: 'abc': expected a port number from 1 to 65535" --port abc=tap:x
refused "'99999999999': expected a port number from 1 to 65535" --port 99999999999=tap:x
refused "'0': expected a port number from 1 to 65535" --port 0=tap:x
refused "--port 5=: expected a backend after '='" --port 5=
refused "--mgmtmode 999: expected an octal file mode from 0 to 0777" --mgmtmode 999
refused "--mgmtmode 9x: expected an octal file mode from 0 to 0777" --mgmtmode 9x
refused "--mgmtmode 07777: expected an octal file mode from 0 to 0777" --mgmtmode 07777
refused "--numports: '32x': expected a whole number from 0 to 65535" --numports 32x
refused "--numports: '70000': expected a whole number from 0 to 65535" -n 70000
refused "--tap a,,b: '': expected interface names of 1 to 15 characters" -t a,,b
pass "bad flags: exit 1 with the flag and what was expected, nothing started"

# Positive control: the same flags with good values.
"$VNET" switch -M "$WORK/mgmt" --mgmtmode 660 -n 5 --port "7=qemu-stream:$WORK/a=b.sock" \
  -p "$WORK/sw.pid" --log "$WORK/sw.log" -d
wait_for 5 test -S "$WORK/mgmt" -a -s "$WORK/sw.pid" || fail "switch did not start: $(cat "$WORK/sw.log")"
PIDS+=("$(cat "$WORK/sw.pid")")
[ "$(stat -c %a "$WORK/mgmt")" = 660 ] || fail "console mode $(stat -c %a "$WORK/mgmt"), 660 expected"
[ "$("$VNET" ctl "$WORK/mgmt" port/showinfo --json | jq .numports)" = 5 ] || fail "numports not 5"
ports=$("$VNET" ctl "$WORK/mgmt" port/allprint --json)
[ "$(echo "$ports" | jq -r '.[] | select(.port == 7) | .backend')" = "qemu-stream listener (waiting)" ] \
  || fail "port 7 has no qemu-stream listener: $ports"
test -S "$WORK/a=b.sock" || fail "the listener's socket (a path with '=') is missing"
pass "good flags: console mode 660, 5 ports, port 7 = qemu-stream at a path with '='"
echo "1 passed, 0 failed"
