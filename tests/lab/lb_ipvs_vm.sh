#!/usr/bin/env bash
# The IPVS datapath (issue #14): in a TCG guest whose kernel has ip_vs (scripts/vm-image.sh
# ipvs.gz), Debian's keepalived --check and `vnet vrrp --check --datapath ipvs` program IPVS from
# the same keepalived.conf (tests/vm/ipvs/keepalived.conf: NAT, DR, TUN; rr, wlc, sh with
# persistence per /24, mh with mh-port, wrr, lc; a fwmark service; a group with an address range;
# alpha real servers down, inhibit_on_failure, the sorry server), one after the other. Their
# `ipvsadm -Ln`, `ipvsadm -Sn` and `ipvsadm -Ln --nosort` (the kernel's order: rr follows it) must
# be equal; lb/show's counters must be ipvsadm --stats's. The guest has no network: its eth0 is
# on a QEMU hub port with nothing else.
. "$(dirname "$0")/lib.sh"
for tool in qemu-system-x86_64 keepalived; do
  command -v $tool >/dev/null || fail "$tool is not installed: scripts/deps.sh"
done
IMG=${VNET_VM_DIR:-${VNET_SRC:?}/build/vm}
"$VNET_SRC/scripts/vm-image.sh" "$IMG" >/dev/null || fail "could not build the guest image"
[ -s "$IMG/ipvs.gz" ] && [ -s "$IMG/keepalived.gz" ] || fail "no ipvs.gz or keepalived.gz in $IMG"

# vnet itself as one more initrd layer: the binary (stripped) and the libraries ldd names.
root=$WORK/vnet-root
mkdir -p "$root/usr/bin"
strip -o "$root/usr/bin/vnet" "$VNET"
for lib in $(ldd "$VNET" | awk '/=> \//{print $3} /^\t\/lib/{print $1}'); do
  mkdir -p "$root$(dirname "$lib")"
  cp -L "$lib" "$root$lib"
done
(cd "$root" && find . | cpio -o -H newc --quiet | gzip -1) >"$WORK/vnet.gz"
cat "$IMG/initrd.gz" "$IMG/keepalived.gz" "$IMG/ipvs.gz" "$WORK/vnet.gz" >"$WORK/initrd"

# The config disk: the guest's init runs it (tests/vm/init): the file, then the comparison.
{
  echo '#!vnet-config'
  echo "cat >/tmp/lb.conf <<'VNET_LB_CONF'"
  cat "$VNET_SRC/tests/vm/ipvs/keepalived.conf"
  echo VNET_LB_CONF
  cat "$VNET_SRC/tests/vm/ipvs/compare.sh"
} >"$WORK/config.disk"
truncate -s 64K "$WORK/config.disk"

t0=$(now_ms)
timeout 300 qemu-system-x86_64 -accel tcg -m 512 -smp 1 -display none -monitor none -no-reboot \
  -kernel "$IMG/vmlinuz" -initrd "$WORK/initrd" \
  -append "console=ttyS0 quiet panic=-1 vnet.ip=10.79.0.1/24" \
  -drive "file=$WORK/config.disk,format=raw,if=virtio" \
  -netdev hubport,id=n0,hubid=0 -device virtio-net-pci,netdev=n0 \
  -serial "file:$WORK/console.log" </dev/null >"$WORK/qemu.log" 2>&1 &
PIDS+=($!)
wait $! || fail "QEMU: $(tail -5 "$WORK/qemu.log"; tail -20 "$WORK/console.log")"
took=$(($(now_ms) - t0))
tr -d '\r' <"$WORK/console.log" >"$WORK/console.txt"
grep -q "^VNET-DONE" "$WORK/console.txt" || fail "the guest did not finish: $(tail -30 "$WORK/console.txt")"
! grep -q "^VNET-RESULT ipvs missing" "$WORK/console.txt" || fail "the guest's kernel has no ip_vs"
# listing NAME: what the guest printed under "VNET-LIST NAME"
listing() { awk -v n="VNET-LIST $1" '$0 == n { p = 1; next } /^VNET-LIST / { p = 0 } p' "$WORK/console.txt"; }
services=$(listing ka.S | grep -c '^-A' || true)
reals=$(listing ka.S | grep -c '^-a' || true)
[ "$services" -eq 11 ] && [ "$reals" -eq 24 ] ||
  fail "keepalived programmed $services services and $reals real servers, want 11 and 24: $(listing ka.S; listing ka.log)"
for k in L S N; do
  what=$(case $k in L) echo "ipvsadm -Ln" ;; S) echo "ipvsadm -Sn" ;; N) echo "ipvsadm -Ln --nosort" ;; esac)
  grep -q "^VNET-RESULT $k same" "$WORK/console.txt" ||
    fail "$what differs: keepalived:
$(listing ka.$k)
vnet:
$(listing vnet.$k)
vnet's log:
$(listing vnet.log)"
  pass "$what: vnet's table equals keepalived's ($services services, $reals real servers)"
done
# Counters: after 5 requests lb/show's for the counted service equal ipvsadm --stats (IPVS's
# STATS64) and count 5 connections.
ok=$(awk '/^VNET-RESULT requests / { print $3 }' "$WORK/console.txt")
[ "$ok" = 5 ] || fail "${ok:-0} of 5 requests through 10.79.0.106:80 answered: $(listing vnet.log)"
show=$(listing lbshow | jq -c '.[] | select(.service | startswith("10.79.0.106:80")) | .reals[0]
  | [.conns, .inpkts, .outpkts, .inbytes, .outbytes]') || fail "lb/show --json: $(listing lbshow)"
stats=$(listing stats | awk '$1 == "->" && $2 == "10.79.0.1:8080" { printf "[%s,%s,%s,%s,%s]", $3, $4, $5, $6, $7 }')
[ -n "$show" ] && [ "$show" = "$stats" ] ||
  fail "lb/show counters ${show:-none} differ from ipvsadm --stats ${stats:-none}: $(listing lbshow; listing stats)"
[ "$(jq '.[0] == 5 and .[1] >= 15 and .[2] >= 10 and .[3] > 0 and .[4] > 0' <<<"$show")" = true ] ||
  fail "lb/show's counters $show do not count 5 connections (each at least 3 packets in, 2 out)"
pass "lb/show's counters are IPVS's (conns, inpkts, outpkts, inbytes, outbytes = $show)"
# Connections now: lb/show's active/inactive are ipvsadm -Ln's ActiveConn/InActConn (the 5 closed
# connections wait in TIME_WAIT for 2 minutes: inactive).
now=$(listing lbshow | jq -c '.[] | select(.service | startswith("10.79.0.106:80")) | .reals[0]
  | [.active_conns, .inactive_conns]')
conns=$(listing conns | awk '$1 == "->" && $2 == "10.79.0.1:8080" { printf "[%s,%s]", $5, $6 }')
[ -n "$now" ] && [ "$now" = "$conns" ] && [ "$conns" = "[0,5]" ] ||
  fail "lb/show active/inactive ${now:-none}, ipvsadm -Ln ${conns:-none} (expected [0,5]): $(listing conns)"
pass "lb/show's active/inactive connections are IPVS's ($now, as ipvsadm -Ln)"
left=$(awk '/^VNET-RESULT left / { print $3 }' "$WORK/console.txt")
[ "$left" = 0 ] || fail "vnet left ${left:-?} IPVS lines after SIGTERM: $(listing vnet.log)"
pass "SIGTERM: vnet deleted its services, as keepalived does"
echo "timing: guest booted, both daemons compared and powered off in $took ms"
echo "1 passed, 0 failed"
