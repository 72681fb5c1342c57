#!/usr/bin/env bash
# A VM node in a rootless lab (issue #15.3, docs/rootless.md, docs/vm.md), run by unprivileged
# users from this root test: QEMU (TCG) boots the test guest (scripts/vm-image.sh, with the QEMU
# guest agent) inside the user namespace of the user who runs `vnet lab up`, on VLAN 10 of a
# switch beside a namespace host; QEMU runs as that user; the host and the VM ping each other,
# `exec` in the VM runs through the guest agent; `down` leaves no process of the user and no
# state behind. Both user-namespace maps: a user with subordinate ids (newuidmap) and a uid
# without any (single-id map).
#
#     h1 (10.0.10.1) --- sw1 (VLAN 10) --- vm1 (10.0.10.5, QEMU as the user)
. "$(dirname "$0")/lib.sh"
command -v qemu-system-x86_64 >/dev/null || fail "qemu-system-x86_64 missing (scripts/deps.sh)"
. "$(dirname "$0")/rootless.bash"
IMG=${VNET_VM_DIR:-${VNET_SRC:?}/build/vm}
"$VNET_SRC/scripts/vm-image.sh" "$IMG" >/dev/null || fail "could not build the guest image"

# The user reads the kernel and initrd from $RL (the image directory may be one it cannot enter).
rootless_setup "$IMG/vmlinuz" "$IMG/initrd-qga.gz"
ROOTLESS_LABS=(rootlessvm)
LAB=$RL/rootless-vm.yaml
cat >"$LAB" <<EOF
name: rootlessvm
switches:
  - name: sw1
    vlans: [10]
hosts:
  - name: h1
    interfaces: [{name: eth0, ipv4: 10.0.10.1/24}]
vms:
  - name: vm1
    interfaces: [{name: eth0, mac: "52:54:00:0a:00:05", ipv4: 10.0.10.5/24}]
    kernel: $RL/vmlinuz
    initrd: $RL/initrd-qga.gz
    cmdline: console=ttyS0 quiet panic=-1 vnet.ip=10.0.10.5/24 vnet.shell
    ready: VNET-SHELL
    memory: 192
    accel: tcg
    boot_timeout: 120s
    stop_timeout: 20s
links:
  - {endpoints: [h1, sw1], vlan: 10}
  - {endpoints: [vm1, sw1], vlan: 10}
scenarios:
  - name: vm-rootless
    steps:
      - ping: h1 10.0.10.5
      - exec: vm1 ping -c 1 -W 2 10.0.10.1
        expect: [exit 0, output contains "1 packets received"]
EOF
chmod 644 "$LAB"
ns_add $T-out   # the network `vnet lab up` runs in (run_as); the lab needs nothing from it

one_map() {
  local u=$1 want_map=$2 state holder map qemu t0 t1
  mkdir -m 700 "$RL/xdg-$u"
  chown "$u" "$RL/xdg-$u"
  state=$RL/xdg-$u/vnet/labs
  t0=$(now_ms)
  run_as "$u" lab up "$LAB" >"$WORK/up-$u.log" 2>&1 ||
    fail "uid $u: up: $(tail -20 "$WORK/up-$u.log"; tail -5 "$state/rootlessvm/vm1.console.log" 2>/dev/null)"
  t1=$(now_ms)
  holder=$(jq -r .pid "$state/rootlessvm.holder")
  map=$(jq -r .map "$state/rootlessvm.holder")
  [ "$map" = "$want_map" ] || fail "uid $u: user namespace map '$map', want $want_map"
  [ "$(stat -c %u "/proc/$holder")" = "$u" ] || fail "uid $u: the holder does not run as uid $u"
  qemu=$(run_as "$u" lab status --json rootlessvm |
    jq -r '[.pids[] | select(.what == "vm1 qemu" and .alive) | .pid] | last // empty')
  [ -n "$qemu" ] || fail "uid $u: no live QEMU in lab status: $(run_as "$u" lab status rootlessvm 2>&1)"
  [ "$(stat -c %u "/proc/$qemu")" = "$u" ] || fail "uid $u: QEMU $qemu does not run as uid $u"
  pass "uid $u: the VM booted in a rootless lab ($want_map map) in $((t1 - t0)) ms; QEMU $qemu runs as uid $u"

  run_as "$u" lab test "$LAB" --junit "$RL/xdg-$u/junit.xml" >"$WORK/test-$u.log" 2>&1 ||
    fail "uid $u: lab test: $(tail -20 "$WORK/test-$u.log")"
  grep -q "through the guest agent" "$WORK/test-$u.log" ||
    fail "uid $u: exec did not go through the guest agent: $(grep -A3 exec "$WORK/test-$u.log" | head -10)"
  pass "uid $u: h1 pings the VM and the VM pings h1 (exec through the guest agent)"

  run_as "$u" lab down rootlessvm >"$WORK/down-$u.log" 2>&1 || fail "uid $u: down: $(cat "$WORK/down-$u.log")"
  wait_for 20 test -z "$(leftovers "$u")" ||
    fail "uid $u: processes left after down: $(ps -o pid,cmd -u "$u")"
  [ -z "$(ls -A "$state")" ] || fail "uid $u: files left in $state: $(ls -A "$state")"
  gone "$qemu" || fail "uid $u: QEMU $qemu survived down"
  pass "uid $u: down stops QEMU and leaves no process of the user and an empty $state"
}

rootless_user v
if [ -n "$NEW_UID" ]; then
  UIDS+=("$NEW_UID")
  one_map "$NEW_UID" subordinate
else
  echo "note: useradd gave no subordinate ids: the newuidmap case is not tested"
fi
single=$((40000 + ($$ + 7) % 20000))
! grep -q "^$single:" /etc/subuid || fail "uid $single has subordinate ids"
UIDS+=("$single")
one_map "$single" single
echo "1 passed, 0 failed"
