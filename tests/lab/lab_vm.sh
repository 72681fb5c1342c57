#!/usr/bin/env bash
# A `vm` node in a lab (issue #12 items 1-3, docs/vm.md): a QEMU guest (TCG; Debian kernel +
# busybox initrd from scripts/vm-image.sh, plus a raw disk on a throwaway overlay) on an access
# port of VLAN 10, namespace hosts h10 (VLAN 10) and h20 (VLAN 20, same subnet: only the VLAN
# keeps them apart).
#   (a) up boots the VM; time from `lab up` to the VM's first ping reply is printed;
#   (b) the VM pings h10 and not h20; h10 pings the VM, h20 does not (exec: output and exit
#       status; a wrong expectation fails the step); vm1's image runs the QEMU guest agent
#       (initrd-qga.gz): exec goes through it, stdout and stderr apart, and the report says so;
#       the trunk and ISO VMs below have no agent and exec through their serial consoles;
#   (c) the VM's writes go to the overlay, not to the disk image;
#   (b2) tcp from and to the VM; console steps; link VM SW down/up (the guest's carrier and the
#       switch port);
#   (d) kill: QEMU gone, the switch port has no client; start: the port has its client again and
#       the VM answers; stop: the guest powers off through the ACPI button (not the power cut);
#   (e) down leaves no QEMU process, socket or overlay; so does down after SIGKILL of `lab up`;
#   (f) a trunk VM reaches two VLANs through subinterfaces; a VM boots an ISO; exec logs in on
#       a console that asks for a login;
#   (g) bad input: a missing kernel names node, file and file:line; a VM that never shows its
#       `ready` text fails `up` within boot_timeout, and `up` cleans up (run beside (b)-(d)).
. "$(dirname "$0")/lib.sh"
command -v qemu-system-x86_64 >/dev/null || fail "qemu-system-x86_64 missing (scripts/deps.sh)"
command -v qemu-img >/dev/null || fail "qemu-img missing (qemu-utils, scripts/deps.sh)"
IMG=${VNET_VM_DIR:-${VNET_SRC:?}/build/vm}
"$VNET_SRC/scripts/vm-image.sh" "$IMG" >/dev/null || fail "could not build the guest image"
[ -s "$IMG/vnet.iso" ] || fail "no $IMG/vnet.iso: xorriso or isolinux missing (scripts/deps.sh)"
L=${T}v
S=$VNET_STATE_DIR/$L
dd if=/dev/zero of="$WORK/disk.raw" bs=1M count=4 status=none
now() { date +%s.%N; }
ms() { echo "($2 - $1) * 1000 / 1" | bc; }

lab_file() { # FILE NAME VM-KEYS...: the lab with vm1 given these extra keys, no scenarios
  local f=$1 name=$2; shift 2
  {
    cat <<EOF
name: $name
switches:
  - name: sw
    vlans: [10, 20]
hosts:
  - name: h10
    interfaces: [{name: eth0, ipv4: 10.78.0.1/24}]
    listen: [80]
  - name: h20
    interfaces: [{name: eth0, ipv4: 10.78.0.2/24}]
    listen: [80]
vms:
  - name: vm1
    interfaces: [{name: eth0, mac: "52:54:00:78:00:05", ipv4: 10.78.0.5/24}]
    memory: 192
    accel: tcg
EOF
    for k in "$@"; do echo "    $k"; done
    cat <<EOF
links:
  - {endpoints: [h10, sw], vlan: 10}
  - {endpoints: [h20, sw], vlan: 20}
  - {endpoints: [vm1, sw], vlan: 10}
EOF
  } >"$f"
}
VM_KEYS=("kernel: $IMG/vmlinuz" "initrd: $IMG/initrd-qga.gz"
  "cmdline: console=ttyS0 quiet panic=-1 vnet.ip=10.78.0.5/24 vnet.shell"
  "disk: $WORK/disk.raw" "ready: VNET-SHELL" "boot_timeout: 120s" "stop_timeout: 20s")
LAB=$WORK/vm.yaml
lab_file "$LAB" "$L" "${VM_KEYS[@]}"
scenario() { # NAME STEPS...: the lab file with one scenario
  local f=$WORK/$1.yaml
  cp "$LAB" "$f"
  { echo "scenarios:"; echo "  - name: $1"; echo "    steps:"; shift; for s in "$@"; do echo "      - $s"; done; } >>"$f"
  echo "$f"
}
run() { # NAME STEPS...: `lab test` of that scenario on the running lab
  local f
  f=$(scenario "$@")
  "$VNET" lab test "$f" --keep --junit "$WORK/$1.xml" >"$WORK/$1.log" 2>&1
}
port_of_vm() { # the switch port of vm1's link (port/print of the lab's switch)
  "$VNET" ctl "$S/console.sock" port/print --json
}
qemu_pid() { "$VNET" lab status --json "$L" | jq -r '[.pids[] | select(.what == "vm1 qemu" and .alive) | .pid] | last // empty'; }

# (a) up, and the first ping from the VM.
t0=$(now)
"$VNET" lab up "$LAB" >"$WORK/up.log" 2>&1 || fail "up: $(cat "$WORK/up.log"; tail -5 "$S/vm1.console.log" 2>/dev/null)"
t_up=$(now)
run first "exec: vm1 ping -c 1 -W 2 10.78.0.1
        expect: [exit 0, output contains \"1 packets received\"]" \
  || fail "the VM's first ping: $(cat "$WORK/first.log")"
t_ping=$(now)
echo "timing: lab up (VM booted to its shell, TCG) $(ms "$t0" "$t_up") ms; to the VM's first ping reply $(ms "$t0" "$t_ping") ms"
[ -S "$S/vm1.console" ] && [ -S "$S/vm1.qmp" ] && [ -s "$S/vm1.console.log" ] \
  || fail "console socket, QMP socket or console log missing in $S: $(ls "$S")"
pass "a kernel+initrd VM boots in a lab and is reachable through its console and QMP socket"

# (g, checked at the end) A VM that never shows its `ready` text: `up` gives up after its
# boot_timeout (15 s: the guest reaches its shell, printing other text, well before) and cleans
# up. It runs beside (b)-(d), whose VM idles at its shell, rather than alone at the end.
NEVER=$WORK/never.yaml
lab_file "$NEVER" "${T}n" "kernel: $IMG/vmlinuz" "initrd: $IMG/initrd.gz" \
  "cmdline: console=ttyS0 quiet panic=-1 vnet.shell" "ready: NEVER-PRINTED" "boot_timeout: 15s"
never_t0=$(now)
{
  rc=0
  "$VNET" lab up "$NEVER" >"$WORK/never.out" 2>&1 || rc=$?
  now >"$WORK/never.end"
  echo "$rc" >"$WORK/never.rc"
} &
never_pid=$!
PIDS+=("$never_pid")

# (b) VLAN isolation both ways, exec output and status.
run reach "exec: vm1 ping -c 2 -W 1 10.78.0.2
        expect: exit 1" \
  "ping: h10 vm1" "ping: h20 vm1
        expect: unreachable" \
  "ping: vm1 h10" "ping: vm1 h20
        expect: unreachable" \
  "exec: vm1 echo out-\$(hostname); cat /sys/class/net/eth0/address; exit 7
        expect: [exit 7, output contains out-, output matches \"^52:54:00:78:00:05\$\"]" \
  || fail "reachability/exec: $(grep -E 'PASS|FAIL' "$WORK/reach.log")"
pass "the VM pings its VLAN-10 host and not the VLAN-20 host (exec and ping steps); h10 reaches it, h20 does not"
pass "exec in the VM returns its output and exit status (7)"
run agent "exec: vm1 echo out; echo err >&2; exit 3
        expect: [exit 3, output matches \"^out\$\", stderr matches \"^err\$\"]" \
  || fail "exec through the guest agent: $(cat "$WORK/agent.log")"
grep -q "exit status 3 (through the guest agent)" "$WORK/agent.log" \
  || fail "the report does not say the exec went through the guest agent: $(cat "$WORK/agent.log")"
t=$(now)
for i in 1 2 3 4 5; do "$VNET" lab exec "$L" vm1 -- true || fail "vnet lab exec true (agent)"; done
echo "timing: 5 x vnet lab exec vm1 true through the guest agent (TCG): $(ms "$t" "$(now)") ms"
out=$("$VNET" lab exec "$L" vm1 -- echo o\; echo e \>\&2 2>"$WORK/agent.err")
[ "$out" = o ] && [ "$(cat "$WORK/agent.err")" = e ] || fail "vnet lab exec through the agent: stdout '$out', stderr '$(cat "$WORK/agent.err")'"
pass "exec through the guest agent: stdout 'out' and stderr 'err' apart, exit status 3, the report says 'through the guest agent'"
if run wrong "exec: vm1 echo abc
        expect: output contains xyz"; then fail "a wrong output expectation passed"; fi
grep -q "NO" "$WORK/wrong.log" || fail "the failing exec step does not say which check failed: $(cat "$WORK/wrong.log")"
pass "a wrong expectation on the VM's output fails the step"

# `vnet lab console`: a terminal on the serial console, Ctrl-] detaches.
python3 - "$VNET" "$L" <<'PY' >"$WORK/console.log" 2>&1 || fail "lab console: $(cat "$WORK/console.log")"
import os, pty, select, sys, time
pid, fd = pty.fork()
if pid == 0:
    os.execv(sys.argv[1], [sys.argv[1], "lab", "console", sys.argv[2], "vm1"])
def until(text, secs=20):
    buf, end = b"", time.time() + secs
    while time.time() < end:
        r, _, _ = select.select([fd], [], [], 0.2)
        if r:
            try:
                buf += os.read(fd, 4096)
            except OSError:
                break
            if text in buf:
                return buf
    sys.exit("no %r in %r" % (text, buf[-300:]))
until(b"Ctrl-] detaches")
os.write(fd, b"echo con$((6*7))sole\r")
until(b"con42sole")
os.write(fd, b"\x1d")
until(b"[detached]")
_, st = os.waitpid(pid, 0)
sys.exit(0 if os.WIFEXITED(st) and os.WEXITSTATUS(st) == 0 else "exit status %d" % st)
PY
run after_console "exec: vm1 echo still-there
        expect: output contains still-there" || fail "exec after console detach: $(cat "$WORK/after_console.log")"
pass "vnet lab console runs a command on the VM's console; Ctrl-] detaches and exec works after"

out=$("$VNET" lab exec "$L" vm1 -- cat /proc/cmdline\; exit 3) && fail "vnet lab exec in the VM: exit status 0, want 3"
[[ $out == *vnet.shell* ]] || fail "vnet lab exec in the VM printed '$out'"
pass "vnet lab exec runs in the VM (its /proc/cmdline, exit status 3)"

# tcp steps from the VM (the guest's nc) and to it (a listener started in the guest).
run tcp "tcp: vm1 h10:80" "tcp: vm1 h10:81
        expect: closed" "tcp: vm1 h20:80
        expect: closed" \
  "exec: vm1 nc -ll -p 8080 -e true >/dev/null 2>&1 &" \
  "tcp: h10 vm1:8080" "tcp: h10 vm1:8081
        expect: closed" "tcp: h20 vm1:8080
        expect: closed" || fail "tcp: $(grep -E 'PASS|FAIL' "$WORK/tcp.log")"
if run tcp_wrong "tcp: vm1 h20:80"; then fail "a tcp step from the VM into another VLAN passed"; fi
pass "tcp from the VM reaches h10:80 (refused on 81), not h20:80; h10 connects to the VM's listener, h20 does not"

# console steps: a line of this boot; one that never comes fails at its deadline.
run console_step "console: vm1 expect VNET-SHELL within 5s" \
  "wait_until: {console: vm1 expect \"con42sole\"}
        within: 5s" || fail "console step: $(cat "$WORK/console_step.log")"
t=$(now)
if run console_never "console: vm1 expect NEVER-PRINTED within 2s"; then fail "console: a line never printed passed"; fi
took=$(ms "$t" "$(now)")
grep -q "not within 2s: the serial console .* has not shown 'NEVER-PRINTED'" "$WORK/console_never.log" \
  || fail "console step failure: $(cat "$WORK/console_never.log")"
[ "$took" -lt 8000 ] || fail "a 2 s console step took $took ms"
out=$("$VNET" lab validate "$(scenario console_host "console: h10 expect prompt")" 2>&1) && fail "a console step on a host validated"
[[ $out == *"h10' is a host, which has no serial console"* ]] || fail "console on a host: $out"
pass "console steps wait for a line of the VM's console (also in wait_until); a missing line fails within 2 s ($took ms); a host has no console"

# The cable: `link vm1 sw down` takes the carrier from the guest's NIC (QMP set_link) and takes
# the switch's port down; `up` brings both back.
vm_port_up() { # admin_up of vm1's port (port/allprint: a port that is down is not active)
  "$VNET" ctl "$S/console.sock" port/allprint --json | jq -c '[.[] | select(.backend | tostring | startswith("qemu-stream:")) | .admin_up]'
}
run cable_down "link: vm1 sw down" "exec: vm1 cat /sys/class/net/eth0/carrier
        expect: [exit 0, output matches \"^0\$\"]" "ping: h10 vm1
        expect: unreachable" || fail "link down: $(grep -E 'PASS|FAIL' "$WORK/cable_down.log")"
[ "$(vm_port_up)" = "[false]" ] || fail "the VM's switch port is not down after link down: $(vm_port_up)"
run cable_up "link: vm1 sw up" "wait_until:
          exec: vm1 cat /sys/class/net/eth0/carrier
          expect: [exit 0, output matches \"^1\$\"]
        within: 10s" "wait_until: {ping: h10 vm1}
        within: 10s" || fail "link up: $(grep -E 'PASS|FAIL' "$WORK/cable_up.log")"
[ "$(vm_port_up)" = "[true]" ] || fail "the VM's switch port is not up after link up: $(vm_port_up)"
pass "link vm1 sw down: the guest's NIC loses its carrier and the switch port goes down (h10 cannot reach it); up: both come back"

# (c) writes go to the overlay.
run write "exec: vm1 echo vnet-was-here-$$ | dd of=/dev/vda conv=fsync 2>/dev/null; sync" \
  || fail "write to the disk: $(cat "$WORK/write.log")"
[ -s "$S/vm1.overlay.qcow2" ] || fail "no overlay in $S"
grep -qa "vnet-was-here-$$" "$WORK/disk.raw" && fail "the VM wrote to the disk image itself"
pass "the disk image stays untouched: the VM writes to its overlay"

# (d) kill: QEMU gone, the port loses its client; start: back.
pid=$(qemu_pid)
[ -n "$pid" ] || fail "no running vm1 qemu in the lab's status"
port_of_vm | jq -e '[.[] | select(.backend | tostring | startswith("qemu-stream:"))] | length == 1' >/dev/null \
  || fail "the VM's port has no connected qemu-stream client: $(port_of_vm)"
run kill "link: vm1 sw down" "kill: vm1" || fail "kill: $(cat "$WORK/kill.log")"
gone "$pid" || fail "QEMU $pid still runs after kill"
port_of_vm | jq -e '[.[] | select(.backend | tostring | startswith("qemu-stream"))] | length == 0' >/dev/null \
  || fail "the VM's port still has a client after kill: $(port_of_vm)"
"$VNET" lab status --json "$L" | jq -e '.power.vm1 == false' >/dev/null || fail "status does not show vm1 off"
run start "start: vm1" "exec: vm1 ping -c 1 -W 2 10.78.0.1" "ping: h10 vm1" || fail "start: $(cat "$WORK/start.log")"
port_of_vm | jq -e '[.[] | select(.backend | tostring | startswith("qemu-stream:"))] | length == 1' >/dev/null \
  || fail "the VM's port has no client after start: $(port_of_vm)"
pid2=$(qemu_pid)
[ -n "$pid2" ] && [ "$pid2" != "$pid" ] || fail "no new QEMU after start ($pid → $pid2)"
run console_boot "console: vm1 expect VNET-SHELL within 5s" || fail "console after start: $(cat "$WORK/console_boot.log")"
if run console_old "console: vm1 expect con42sole within 1s"; then fail "console: a line of the previous boot passed"; fi
pass "kill (its cable pulled before): QEMU gone and the port loses its client; start: the port has it back, plugged, the VM answers; console steps see this boot only"
t=$(now)
run stop "stop: vm1" || fail "stop: $(cat "$WORK/stop.log")"
echo "timing: stop (ACPI power button to power-off) $(ms "$t" "$(now)") ms"
gone "$pid2" || fail "QEMU still runs after stop"
tail -c 2000 "$S/vm1.console.log" | grep -q VNET-POWERDOWN || fail "the guest did not see the ACPI power button"
run start2 "start: vm1" "exec: vm1 true" || fail "start after stop: $(cat "$WORK/start2.log")"
pass "stop: the guest powers off through the ACPI power button; start boots it again"

# (e) down: nothing left.
pid3=$(qemu_pid)
"$VNET" lab down "$L" >"$WORK/down.log" 2>&1 || fail "down: $(cat "$WORK/down.log")"
gone "$pid3" || fail "QEMU $pid3 survived down"
[ ! -e "$S" ] || fail "down left $S: $(ls "$S")"
ip netns list | grep -q "^$L-" && fail "down left namespaces: $(ip netns list | grep "^$L-")"
pass "down leaves no QEMU process, socket or overlay"

"$VNET" lab up "$LAB" >"$WORK/up2.log" 2>&1 &
up=$!
has_qemu() { [ -n "$(qemu_pid)" ]; }
wait_for 120 has_qemu || fail "no QEMU recorded while up runs: $(cat "$WORK/up2.log")"
pid4=$(qemu_pid)
kill -9 "$up"
wait "$up" 2>/dev/null || true
gone "$pid4" && fail "QEMU should outlive its SIGKILLed parent (else this test proves nothing)"
"$VNET" lab down "$L" >"$WORK/down2.log" 2>&1 || fail "down after SIGKILL: $(cat "$WORK/down2.log")"
gone "$pid4" || fail "QEMU $pid4 survived down after SIGKILL of up"
[ ! -e "$S" ] || fail "down after SIGKILL left $S: $(ls "$S")"
pass "down after SIGKILL of lab up: no QEMU process, socket or overlay left"

# A VM on a trunk (10, 20) with 802.1Q subinterfaces for VLANs 10, 20 and 30 reaches the hosts of
# VLANs 10 and 20, nothing of VLAN 30; its NIC is the model the file names (e1000: PCI 8086:100e).
# Beside it, a VM booting the ISO image on VLAN 10 (both boot in parallel).
TR=$WORK/trunk.yaml
cat >"$TR" <<EOF
name: ${T}t
switches: [{name: sw, vlans: [10, 20, 30]}]
hosts:
EOF
for v in 10 20 30; do echo "  - {name: h$v, interfaces: [{name: eth0, ipv4: 10.78.$v.1/24}]}" >>"$TR"; done
cat >>"$TR" <<EOF
vms:
  - name: vm2
    kernel: $IMG/vmlinuz
    initrd: $IMG/initrd.gz
    cmdline: console=ttyS0 quiet panic=-1 vnet.vlan=10:10.78.10.5/24 vnet.vlan=20:10.78.20.5/24 vnet.vlan=30:10.78.30.5/24 vnet.shell
    memory: 192
    accel: tcg
    ready: VNET-SHELL
    interfaces: [{name: eth0, model: e1000}]
  - name: vm3
    cdrom: $IMG/vnet.iso
    memory: 192
    accel: tcg
    ready: VNET-SHELL
    interfaces: [{name: eth0, ipv4: 10.78.10.6/24}]
links:
  - {endpoints: [h10, sw], vlan: 10}
  - {endpoints: [h20, sw], vlan: 20}
  - {endpoints: [h30, sw], vlan: 30}
  - {endpoints: [vm2, sw], trunk: [10, 20]}
  - {endpoints: [vm3, sw], vlan: 10}
scenarios:
  - name: trunk
    steps:
      - ping: vm2 h10
      - ping: vm2 h20
      - ping: vm2 h30
        expect: unreachable
      - exec: vm2 cat /sys/class/net/eth0/device/vendor /sys/class/net/eth0/device/device; echo e >&2
        expect: [output contains 0x8086, output contains 0x100e, output contains e]
      - exec: vm3 ip addr add 10.78.10.6/24 dev eth0
      - ping: vm3 h10
      - ping: h10 vm3
      - ping: vm3 10.78.20.1
        expect: unreachable
EOF
"$VNET" lab test "$TR" --junit "$WORK/trunk.xml" >"$WORK/trunk.log" 2>&1 \
  || fail "trunk VM: $(grep -E 'PASS|FAIL|failed' "$WORK/trunk.log"; tail -5 "$VNET_STATE_DIR/${T}t/vm2.console.log" 2>/dev/null)"
[ ! -e "$VNET_STATE_DIR/${T}t" ] || fail "lab test left the trunk lab's state"
echo "timing: lab up with the trunk VM (kernel+initrd) and the ISO VM booting in parallel: $(grep -o 'is up in [0-9]* ms' "$WORK/trunk.log")"
grep -q "exec vm2 cat .*through the serial console" "$WORK/trunk.log" \
  || fail "vm2 (no guest agent) did not exec through its serial console: $(grep 'exec vm2' "$WORK/trunk.log")"
pass "a trunk VM (NIC model e1000) reaches VLANs 10 and 20 through 802.1Q subinterfaces, nothing of VLAN 30"
pass "a VM without a guest agent execs through its serial console (stderr merged into the output)"
echo "timing: one exec step through the guest agent (vm1) / the serial console (vm2), from the reports: $(grep -o '\[PASS\] exec vm1 echo out.* [0-9][0-9]* ms' "$WORK/agent.log" | grep -o '[0-9][0-9]* ms$') / $(grep -o '\[PASS\] exec vm2 cat.* [0-9][0-9]* ms' "$WORK/trunk.log" | grep -o '[0-9][0-9]* ms$')"
pass "a VM booting an ISO (isolinux) on VLAN 10 reaches its VLAN's host, and is reached"

# A console that asks for a login (the test guest with vnet.login=USER:PASS runs busybox login on
# ttyS0): exec logs in with the vm's login/password keys; a wrong password and missing keys fail
# the step with what went wrong. Three VMs boot in parallel.
LG=$WORK/login.yaml
{
  echo "name: ${T}l"
  echo "switches: [{name: sw, vlans: [10]}]"
  echo "vms:"
  for v in "vmok:password: s3cret" "vmbad:password: wrong" "vmnone:"; do
    name=${v%%:*} keys=${v#*:}
    cat <<EOF2
  - name: $name
    kernel: $IMG/vmlinuz
    initrd: $IMG/initrd.gz
    cmdline: console=ttyS0 quiet panic=-1 vnet.login=vnet:s3cret vnet.shell
    memory: 128
    accel: tcg
    ready: VNET-SHELL
    interfaces: [{name: eth0}]
EOF2
    [ -n "$keys" ] && printf '    login: vnet\n    %s\n' "$keys"
  done
  cat <<EOF2
links:
  - {endpoints: [vmok, sw], vlan: 10}
  - {endpoints: [vmbad, sw], vlan: 10}
  - {endpoints: [vmnone, sw], vlan: 10}
scenarios:
  - name: login
    steps:
      - console: vmok expect "login:" within 30s
      - exec: vmok id -u; cat /proc/self/loginuid 2>/dev/null; grep -c vnet /etc/passwd
        expect: [exit 0, output matches "^0\$"]
      - console: vmok expect "Password:"
      - exec: vmok echo second-\$((1+1))
        expect: [exit 0, output contains second-2]
      - exec: vmbad true
        expect: 0
      - exec: vmnone true
        expect: 0
EOF2
} >"$LG"
"$VNET" lab test "$LG" >"$WORK/login.log" 2>&1 && fail "the login lab passed with a wrong password and without keys"
grep -q "PASS\] exec vmok id -u" "$WORK/login.log" && grep -q "PASS\] exec vmok echo second" "$WORK/login.log" \
  || fail "exec through a login console: $(grep -E 'PASS|FAIL|up in' "$WORK/login.log" | head -20)"
grep -q "FAIL\] exec vmbad true.*login as vnet failed" "$WORK/login.log" \
  || fail "a wrong password: $(grep 'exec vmbad' "$WORK/login.log")"
grep -q "FAIL\] exec vmnone true.*asks for a login: give the vm .login. and .password." "$WORK/login.log" \
  || fail "no credentials: $(grep 'exec vmnone' "$WORK/login.log")"
[ ! -e "$VNET_STATE_DIR/${T}l" ] || fail "lab test left the login lab's state"
pass "exec logs in on a console that asks for a login (keys login/password), stays logged in; a wrong password and missing keys fail the step naming why"

# (g) bad input.
BAD=$WORK/bad.yaml
lab_file "$BAD" "${T}b" "kernel: $WORK/missing-vmlinuz" "ready: VNET-SHELL"
out=$("$VNET" lab validate "$BAD" 2>&1) && fail "a missing kernel validated"
line=$(grep -n "kernel:" "$BAD" | cut -d: -f1)
[[ $out == *"$BAD:$line"*"vm vm1"*"$WORK/missing-vmlinuz"* ]] || fail "missing kernel: $out"
pass "a missing kernel: '$(echo "$out" | grep missing-vmlinuz | head -1)'"
wait "$never_pid" || true
out=$(cat "$WORK/never.out")
[ "$(cat "$WORK/never.rc")" != 0 ] || fail "up of a VM that never becomes ready succeeded: $out"
took=$(ms "$never_t0" "$(cat "$WORK/never.end")")
[[ $out == *"vm1 qemu did not become ready within 15000 ms"*"NEVER-PRINTED"* ]] || fail "never ready: $out"
[ "$took" -lt 30000 ] || fail "up took $took ms to give up on a 15 s boot_timeout"
[ ! -e "$VNET_STATE_DIR/${T}n" ] || fail "the failed up left its state"
ip netns list | grep -q "^${T}n-" && fail "the failed up left namespaces"
pgrep -f "$VNET_STATE_DIR/${T}n/" >/dev/null && fail "the failed up left QEMU running: $(pgrep -af "$VNET_STATE_DIR/${T}n/")"
pass "a VM that never shows its ready text fails up in $took ms (boot_timeout 15 s), cleaned up"
echo "1 passed, 0 failed"
