#!/usr/bin/env bash
# The same campus lab with its routers' VRRP handed to Debian's keepalived (--vrrp-daemon):
# the failover scenario (kill the master, backup takes every VIP, master preempts back on start)
# passes unchanged, and the restarted keepalived is not blocked by its killed predecessor.
. "$(dirname "$0")/lib.sh"
command -v keepalived >/dev/null || { echo "SKIP: keepalived not installed"; exit 77; }
EX=${VNET_SRC:?}/examples/campus.yaml
"$VNET" lab test "$EX" --vrrp-daemon keepalived --scenario router-failover \
  --junit "$WORK/ka.xml" | tee "$WORK/out.txt"
grep -q "11 steps: 11 passed, 0 failed" "$WORK/out.txt" || fail "router-failover with keepalived failed"
grep -q "vrrp         r1 (keepalived), r2 (keepalived)" "$WORK/out.txt" || fail "routers not run by keepalived"
! contains campus- ip netns list || fail "campus namespaces left"
pass "campus router-failover passes with keepalived as the VRRP daemon"
echo "1 passed, 0 failed"
