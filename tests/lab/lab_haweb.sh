#!/usr/bin/env bash
# examples/ha-web.yaml (issue #14 item 6): two directors with VRRP and keepalived's virtual server
# (lb_kind NAT, rr, HTTP_GET) in front of three web servers. Its scenarios: round robin spreads
# 30 requests over exactly the three real servers; a real server that stops answering is removed
# within its checker bound (5 s) and re-added when it answers again; the master director crashes
# and new connections succeed through the backup; with every real server down the sorry server
# answers, and the first real server back takes over. Every step passes, nothing is left behind.
. "$(dirname "$0")/lib.sh"
command -v python3 >/dev/null || fail "python3 missing (the web servers)"
example_passes ha-web
# The measured times, from the report: removal after the failure, return after the recovery.
awk '/^==== lab ha-web report/ {r = 1} r && /wait_until/ && /lb_real|from sorry|from r1/ {
  sub(/^ *\[PASS\] /, ""); print "timing: " $0 }' "$WORK/ha-web.out"
echo "1 passed, 0 failed"
