#!/usr/bin/env bash
# Real QEMU guests (TCG, Debian kernel + busybox built by scripts/vm-image.sh) on the switch:
#  - vm1 on an access port (VLAN 10) through -netdev stream,
#  - vm2 on an access port (VLAN 10) through -netdev vde (libvdeplug, requested port 7),
#  - vm3 on a trunk port (10,20) through -netdev dgram, with 802.1Q subinterfaces eth0.10,
#    eth0.20 and eth0.30: it reaches the VLAN-10 and VLAN-20 hosts and nothing of VLAN 30.
# Each guest pings namespace hosts on access ports and prints VNET-RESULT lines.
. "$(dirname "$0")/lib.sh"
command -v qemu-system-x86_64 >/dev/null || fail "qemu-system-x86_64 missing (apt-get install qemu-system-x86)"
IMG=${VNET_VM_DIR:-${VNET_SRC:?}/build/vm}
"$VNET_SRC/scripts/vm-image.sh" "$IMG" >/dev/null || fail "could not build the guest image"

ns_add $T-sw
for h in 10 20 30; do
  ns_add $T-h$h
  ip -n $T-sw link add p$h type veth peer name eth0 netns $T-h$h
  ip -n $T-sw link set p$h up
  host_cfg $T-h$h eth0 02:00:00:00:00:$h 10.7.$h.1/24
done
cat > "$WORK/rc" <<RC
vlan/create 10
vlan/create 20
vlan/create 30
port/create 1
port/mode 1 access 10
port/create 2
port/mode 2 access 20
port/create 3
port/mode 3 access 30
port/create 4
port/mode 4 access 10
port/create 7
port/mode 7 access 10
port/create 8
port/mode 8 trunk 10,20
RC
start_switch $T-sw "$WORK/mgmt" -s "$WORK/vde" -f "$WORK/rc" \
  --port 1=afpacket:p10 --port 2=afpacket:p20 --port 3=afpacket:p30 \
  --port 4=qemu-stream:"$WORK/vm1.sock" --port 8=qemu-dgram:"$WORK/vm3-switch.sock"

vm() { # NAME NETDEV APPEND
  timeout 120 qemu-system-x86_64 -machine q35,accel=tcg -m 192 -nographic -no-reboot \
    -kernel "$IMG/vmlinuz" -initrd "$IMG/initrd.gz" \
    -append "console=ttyS0 quiet panic=-1 $3" \
    -netdev "$2" -device virtio-net-pci,netdev=n0,mac=52:54:00:00:00:0$4 </dev/null >"$WORK/$1.log" 2>&1 &
  PIDS+=($!)
  VMS+=($!)
}
VMS=()
vm vm1 "stream,id=n0,server=off,addr.type=unix,addr.path=$WORK/vm1.sock" "vnet.ip=10.7.10.11/24 vnet.ping=10.7.10.1" 1
vm vm2 "vde,id=n0,sock=$WORK/vde,port=7" "vnet.ip=10.7.10.12/24 vnet.ping=10.7.10.1" 2
vm vm3 "dgram,id=n0,local.type=unix,local.path=$WORK/vm3.sock,remote.type=unix,remote.path=$WORK/vm3-switch.sock" \
  "vnet.vlan=10:10.7.10.13/24 vnet.vlan=20:10.7.20.13/24 vnet.vlan=30:10.7.30.13/24 vnet.ping=10.7.10.1 vnet.ping=10.7.20.1 vnet.ping=10.7.30.1" 3
for p in "${VMS[@]}"; do wait "$p" || true; done
for v in vm1 vm2 vm3; do grep -a "VNET-" "$WORK/$v.log" | sed "s/^/$v: /"; done
check() { grep -aq "VNET-RESULT ping $2 $3" "$WORK/$1.log" || { tail -20 "$WORK/$1.log"; fail "$1: ping $2 should be $3"; }; }
check vm1 10.7.10.1 ok
pass "QEMU -netdev stream guest reaches a namespace host"
check vm2 10.7.10.1 ok
pass "QEMU -netdev vde guest (port 7 requested) reaches a namespace host"
check vm3 10.7.10.1 ok
check vm3 10.7.20.1 ok
check vm3 10.7.30.1 fail
pass "trunk guest (dgram) reaches VLANs 10 and 20 through eth0.10/eth0.20, nothing of VLAN 30"
# The trunk guest's MAC was learned in both of its VLANs on port 8, never in VLAN 30.
fdb=$("$VNET" ctl "$WORK/mgmt" fdb/show --json)
echo "$fdb" | jq -e '[.[] | select(.mac == "52:54:00:00:00:03") | .vlan] | sort == [10, 20]' >/dev/null \
  || fail "vm3's FDB entries: $fdb"
pass "FDB: the trunk guest learned in VLANs 10 and 20 only"
echo "1 passed, 0 failed"
