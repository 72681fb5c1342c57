#!/usr/bin/env bash
# Bring-up of labs of N small VMs (docs/vm.md): for each N a lab of one namespace host and N
# kernel+initrd guests (scripts/vm-image.sh, 128 MiB, TCG unless -a) on VLAN 10 is brought up;
# printed per N: `vnet lab up` time (every VM booted to its shell), how far apart the QEMU
# processes were started (parallel boot: well under one boot time), and the time until every VM
# has pinged the host (a `ping: vmI h` step each).
#   bench/e2e/lab-vms.sh [-n "1 10"] [-a tcg|auto]
# Run as root. Each lab lives in a private state directory and is taken down on every exit path.
set -u -o pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
VNET=${VNET:-$REPO/build/release/vnet}
SIZES="1 10" ACCEL=tcg
while getopts "n:a:h" o; do
  case $o in
    n) SIZES=$OPTARG ;;
    a) ACCEL=$OPTARG ;;
    *) echo "usage: $0 [-n \"N ...\"] [-a tcg|auto]" >&2; exit 2 ;;
  esac
done
IMG=$REPO/build/vm
"$REPO/scripts/vm-image.sh" "$IMG" >/dev/null || { echo "error: no guest image" >&2; exit 1; }
WORK=$(mktemp -d /tmp/vnet-lab-vms.XXXXXX)
export VNET_STATE_DIR=$WORK/labs
LAB=""
cleanup() {
  [ -n "$LAB" ] && "$VNET" lab down "$LAB" >/dev/null 2>&1
  rm -rf "$WORK"
}
trap cleanup EXIT INT TERM
ms() { echo "($2 - $1) * 1000 / 1" | bc; }
hz=$(getconf CLK_TCK)

echo "| VMs | lab up (all at their shell) | QEMU starts spread | up + every VM's ping |"
echo "|---:|---:|---:|---:|"
for n in $SIZES; do
  LAB=vms$$n$n
  f=$WORK/$LAB.yaml
  {
    echo "name: $LAB"
    echo "switches: [{name: sw, vlans: [10]}]"
    echo "hosts: [{name: h, interfaces: [{name: eth0, ipv4: 10.79.0.1/24}]}]"
    echo "vms:"
    for i in $(seq 1 "$n"); do
      cat <<EOF
  - name: vm$i
    kernel: $IMG/vmlinuz
    initrd: $IMG/initrd.gz
    cmdline: console=ttyS0 quiet panic=-1 vnet.ip=10.79.$((i / 200)).$((10 + i % 200))/16 vnet.shell
    memory: 128
    accel: $ACCEL
    ready: VNET-SHELL
    boot_timeout: 600s
    interfaces: [{name: eth0, ipv4: 10.79.$((i / 200)).$((10 + i % 200))/16}]
EOF
    done
    echo "links:"
    echo "  - {endpoints: [h, sw], vlan: 10}"
    for i in $(seq 1 "$n"); do echo "  - {endpoints: [vm$i, sw], vlan: 10}"; done
    echo "scenarios:"
    echo "  - name: ping"
    echo "    steps:"
    for i in $(seq 1 "$n"); do echo "      - ping: vm$i h"; done
  } >"$f"
  t0=$(date +%s.%N)
  "$VNET" lab up "$f" >"$WORK/up.log" 2>&1 || { cat "$WORK/up.log" >&2; exit 1; }
  t1=$(date +%s.%N)
  spread=$("$VNET" lab status --json "$LAB" |
    jq "[.pids[] | select(.what | endswith(\" qemu\")) | .start] | (max - min) * 1000 / $hz | floor")
  "$VNET" lab test "$f" --junit "$WORK/t.xml" >"$WORK/test.log" 2>&1 || { cat "$WORK/test.log" >&2; exit 1; }
  t2=$(date +%s.%N)
  "$VNET" lab down "$LAB" >/dev/null 2>&1
  LAB=""
  echo "| $n | $(ms "$t0" "$t1") ms | $spread ms | $(ms "$t0" "$t2") ms |"
done
echo
echo "accel $ACCEL, $(nproc) CPUs, load average before the last run: $(cut -d' ' -f1-3 /proc/loadavg)"
