#!/usr/bin/env bash
# examples/bgp.yaml passes every step and leaves nothing behind: FRR (zebra, bgpd) on four routers
# and BIRD on a fifth peer over eBGP and iBGP, every prefix is learned, a failed link is routed
# around and the original path comes back, the BIRD router crashes and boots and re-peers.
# Prints the convergence time the report measured after the link failure.
. "$(dirname "$0")/lib.sh"
for tool in /usr/lib/frr/zebra /usr/lib/frr/bgpd vtysh bird birdc; do
  command -v $tool >/dev/null || fail "$tool is not installed: scripts/deps.sh (frr, bird2)"
done
example_passes bgp
# The report line of the wait_until right after the cable is pulled: "... after N ms: reply ...".
# awk reads the file itself: `sed | grep -m1` under pipefail fails when grep stops reading first.
line=$(awk '/^==== lab bgp report/ { r = 1 } r && /^scenario/ { s = /^scenario link failure r3 - r5/ }
  r && s && /^  \[PASS\] wait_until ping h1 h5/ { print; exit }' "$WORK/bgp.out")
[ -n "$line" ] || fail "no convergence step in the report"
ms=$(sed -n 's/.* after \([0-9]*\) ms: reply.*/\1/p' <<<"$line")
[ -n "$ms" ] || fail "no convergence time in: $line"
pass "convergence after the r3 - r5 link failure: $ms ms (hold time 3 s)"
echo "2 passed, 0 failed"
