#!/usr/bin/env bash
# examples/vm-router.yaml passes every step and leaves nothing behind (issue #12 item 7): two VM
# routers booting the ISO that examples/vm-router/build.sh builds (cached under build/), one on a
# trunk with 802.1Q subinterfaces routing VLANs 10 and 20 behind VRRP gateways (Debian's
# keepalived in the guest) shared with a namespace router (`vnet vrrp`), the two VMs joined by an
# IPIP tunnel across a transit VLAN; hosts ping through them, site to site through the tunnel,
# and the namespace router takes the gateways over when the VM master loses power.
# Prints the lab's bring-up time (two TCG guests booting in parallel) and the failover time.
. "$(dirname "$0")/lib.sh"
for tool in qemu-system-x86_64 qemu-img keepalived xorriso; do
  command -v $tool >/dev/null || fail "$tool is not installed: scripts/deps.sh"
done
"$VNET_SRC/examples/vm-router/build.sh" >"$WORK/build.log" 2>&1 || fail "build: $(cat "$WORK/build.log")"
t0=$(date +%s%N)
example_passes vm-router
took=$((($(date +%s%N) - t0) / 1000000))
up=$(awk 'match($0, /is up in [0-9]+ ms/) { print substr($0, RSTART, RLENGTH); exit }' "$WORK/vm-router.out")
# awk reads the file itself: `sed | grep -m1` under pipefail fails when grep stops reading first.
fo=$(awk '/^==== lab vm-router report/ { r = 1 }
  r && /PASS\] failover SITE_A/ && match($0, /first reply .* after the fault/) {
    print substr($0, RSTART, RLENGTH); exit }' "$WORK/vm-router.out")
[ -n "$fo" ] || fail "no failover step in the report"
echo "timing: vnet lab test examples/vm-router.yaml $took ms (lab $up; $fo)"
echo "1 passed, 0 failed"
