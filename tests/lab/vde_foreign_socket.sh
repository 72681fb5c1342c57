#!/usr/bin/env bash
# A VDE client may only have the switch (root) send frames to a datagram socket it owns. A client
# running as nobody names, in its request_v3, (1) a socket root bound in a root-only directory,
# (2) a symbolic link to it in its own directory, (3) a socket chowned to nobody but in a
# directory nobody cannot write: each is refused with the reason in the log, and the named sockets
# receive nothing while broadcast traffic floods the switch. Positive controls: the same client
# naming a socket it bound in its own directory, or in a directory it may write through a
# supplementary group, is attached and receives the frames.
# ctest: parallel
. "$(dirname "$0")/lib.sh"
PY=/usr/bin/python3
[ -x $PY ] || fail "python3 missing (apt-get install python3)"
command -v setpriv >/dev/null || fail "setpriv missing (util-linux)"
NOBODY=(setpriv --reuid=nobody --regid=nogroup --clear-groups)
ns_add $T-sw
plug 1 02:00:00:00:0d:01 10.13.0.1/24
start_switch $T-sw "$WORK/mgmt" -s "$WORK/vde" --port 1=afpacket:s1
# Let nobody reach the VDE directory and its ctl socket (vde_switch -m 666 --dirmode 2711).
chmod 0711 "$WORK"
chmod 02711 "$WORK/vde"
chmod 0666 "$WORK/vde/ctl"
mkdir -m 0700 "$WORK/rootonly" "$WORK/nobody"
mkdir -m 0755 "$WORK/rootdir"
chown nobody:nogroup "$WORK/nobody"

# Root's sockets: count what they receive.
cat > "$WORK/victim.py" <<'PY'
import os, socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
if len(sys.argv) > 3:
    os.chown(sys.argv[1], 65534, 65534)
s.settimeout(0.1)
n = 0
while True:
    try:
        s.recv(65536)
        n += 1
    except socket.timeout:
        pass
    with open(sys.argv[2] + ".tmp", "w") as f:
        f.write(f"{n}\n")
    os.replace(sys.argv[2] + ".tmp", sys.argv[2])
PY
$PY "$WORK/victim.py" "$WORK/rootonly/victim.sock" "$WORK/victim.n" &
PIDS+=($!)
$PY "$WORK/victim.py" "$WORK/rootdir/given.sock" "$WORK/given.n" chown &
PIDS+=($!)
wait_for 5 test -s "$WORK/victim.n" -a -s "$WORK/given.n" || fail "victim sockets not bound"

# A libvdeplug-style client (vdeplug4 libvdeplug_vde.c): request_v3 naming argv[2]; with "own",
# it binds that socket first and counts the frames it receives.
cat > "$WORK/vdeclient.py" <<'PY'
import os, socket, struct, sys, time
switch, name, mode = sys.argv[1], sys.argv[2], sys.argv[3]
data = None
if mode == "own":
    data = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    data.bind(name)
ctl = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
ctl.connect(switch + "/ctl")
sun = struct.pack("=H108s", socket.AF_UNIX, name.encode())
ctl.send(struct.pack("=III", 0xfeedface, 3, 0) + sun + b"vde_foreign_socket test")
ctl.settimeout(3)
try:
    reply = ctl.recv(110)
except socket.timeout:
    reply = b""
if len(reply) < 110:
    print("refused")
    sys.exit(3)
ours = struct.unpack("=H108s", reply)[1].split(b"\0")[0].decode()
print("accepted", ours)
if data is None:
    time.sleep(2)  # keep the port while frames would flow to the named socket
    sys.exit(0)
data.connect(ours)
data.settimeout(0.2)
n, deadline = 0, time.monotonic() + 5
while n < 5 and time.monotonic() < deadline:
    try:
        data.recv(65536)
        n += 1
    except socket.timeout:
        pass
print("frames", n)
sys.exit(0 if n >= 5 else 4)
PY
chmod 0644 "$WORK/vdeclient.py"
"${NOBODY[@]}" ln -s "$WORK/rootonly/victim.sock" "$WORK/nobody/link"

# Broadcasts from the afpacket host flood every port for the whole test.
ip netns exec $T-1 ping -b -i 0.05 -w 60 10.13.0.255 >/dev/null 2>&1 &
PIDS+=($!)

client() { "${NOBODY[@]}" $PY "$WORK/vdeclient.py" "$WORK/vde" "$@"; }
refused() { # PATH LOG-TEXT
  local out rc=0
  out=$(client "$1" name 2>&1) || rc=$?
  [ $rc = 3 ] || fail "naming $1: expected a refusal, got: $out (exit $rc)"
  wait_for 5 grep -qF -- "$2" "$WORK/sw.log" || fail "no log line '$2': $(grep refused "$WORK/sw.log")"
}
refused "$WORK/rootonly/victim.sock" \
  "$WORK/rootonly/victim.sock: owned by uid 0, not by the client (uid 65534)"
pass "a root-owned socket in a root-only directory is refused"
refused "$WORK/nobody/link" "$WORK/nobody/link: is a symbolic link"
pass "a symbolic link in the client's own directory is refused"
refused "$WORK/rootdir/given.sock" \
  "given.sock: its directory $WORK/rootdir (uid 0 gid 0 mode 0755) is not writable by the client (uid 65534 gid 65534)"
pass "a socket in a directory the client cannot write is refused"
[ "$(grep -c "refused a client: vde_foreign_socket test (pid [0-9]* uid 65534)" "$WORK/sw.log")" = 3 ] ||
  fail "expected 3 refusals with the client's pid and uid in the log"

out=$(client "$WORK/nobody/mine.sock" own 2>&1) || fail "the client's own socket: $out"
[[ $out == *"frames 5"* ]] || fail "the client's own socket: $out"
pass "the client naming its own socket is attached and gets frames"
# A directory writable through a supplementary group (vde_switch -g GROUP): accepted too.
mkdir -m 2770 "$WORK/group"
chgrp users "$WORK/group"
out=$(setpriv --reuid=nobody --regid=nogroup --groups=users $PY "$WORK/vdeclient.py" "$WORK/vde" \
  "$WORK/group/mine.sock" own 2>&1) || fail "a socket in a group-writable directory: $out"
[[ $out == *"frames 5"* ]] || fail "a socket in a group-writable directory: $out"
pass "a socket in a directory writable through a supplementary group is accepted"
for f in victim given; do
  [ "$(cat "$WORK/$f.n")" = 0 ] || fail "$f socket received $(cat "$WORK/$f.n") frames"
done
pass "the refused sockets received nothing"
echo "1 passed, 0 failed"
