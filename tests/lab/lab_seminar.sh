#!/usr/bin/env bash
# The seminar at full size (27 switches, 25 VLANs, two VRRP routers, DNS/DHCP): `vnet lab test
# examples/seminar.yaml` passes every step and leaves nothing behind.
. "$(dirname "$0")/lib.sh"
example_passes seminar
echo "1 passed, 0 failed"
