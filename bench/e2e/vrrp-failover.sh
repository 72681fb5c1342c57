#!/usr/bin/env bash
# VRRP failover, vnet vs keepalived in the same lab (median of N runs, default 5).
# Two routers (priorities 150 and 100) and a client on one vnet switch; the master is killed
# (SIGKILL of everything in its namespace + carrier loss) or stopped cleanly (SIGTERM), and the
# time from the fault to the first echo reply through the virtual address from the new master
# is measured by `vnet lab test` (a 10 ms probe). The fault is placed at evenly spread phases of
# the advertisement cycle. Run as root from the repository.
#   sudo bench/e2e/vrrp-failover.sh [RUNS]
set -euo pipefail
cd "$(dirname "$0")/../.."
RUNS=${1:-5}
VNET=${VNET:-build/release/vnet}
WORK=$(mktemp -d /tmp/vrrp-failover.XXXXXX)
export VNET_STATE_DIR=$WORK/state
trap 'for l in "$VNET_STATE_DIR"/*/; do [ -d "$l" ] && "$VNET" lab down "$(basename "$l")" >/dev/null 2>&1; done; rm -rf "$WORK"' EXIT

lab() { # DAEMON VERSION INTERVAL FAULT OFFSET
  local daemon=$1 ver=$2 int=$3 fault=$4 offset=$5 r
  cat <<YAML
name: fo
switches: [{name: sw1}]
hosts:
  - name: c
    interfaces: [{name: eth0, ipv4: 10.77.0.10/24}]
routers:
YAML
  for r in 1 2; do
    cat <<YAML
  - name: r$r
    interfaces: [{name: eth0, ipv4: 10.77.0.$r/24}]
    vrrp:
      daemon: $daemon
      config: |
        vrrp_instance VI_77 {
          state BACKUP
          interface eth0
          virtual_router_id 77
          priority $((r == 1 ? 150 : 100))
          version $ver
          advert_int $int
          virtual_ipaddress {
            10.77.0.254/24
          }
        }
YAML
  done
  cat <<YAML
links:
  - endpoints: [c:eth0, sw1]
  - endpoints: [r1:eth0, sw1]
  - endpoints: [r2:eth0, sw1]
scenarios:
  - name: failover
    steps:
      - wait_until:
          vrrp_master: VI_77 is r1
        within: 10s
      - exec: c sleep $offset
      - $fault: r1
      - failover: VI_77 < 10s
      - vrrp_master: VI_77 is r2
YAML
}

median() { sort -n | awk '{a[NR]=$1} END {if (NR == 0) print "-"; else if (NR % 2) print a[(NR+1)/2]; else printf "%.1f\n", (a[NR/2]+a[NR/2+1])/2}'; }

printf '| case | bound | vnet median (ms) [runs] | keepalived median (ms) [runs] |\n|---|---|---|---|\n'
for c in "2 1 kill 3700" "2 1 stop 700" "3 0.1 kill 350" "3 0.01 kill 60"; do
  set -- $c
  ver=$1 int=$2 fault=$3 bound=$4
  row="| v$ver advert_int $int, $([ "$fault" = kill ] && echo 'SIGKILL + link down' || echo 'clean stop (SIGTERM)') | ≤ $bound |"
  for daemon in vnet keepalived; do
    vals=()
    for i in $(seq "$RUNS"); do
      # Faults spread evenly over the advertisement cycle (the new master acts right after its
      # first advertisement, so without this every fault would hit the same, worst, phase).
      offset=$(echo "$int * ($i - 0.5) / $RUNS + $int" | bc -l)
      lab "$daemon" "$ver" "$int" "$fault" "$offset" > "$WORK/fo.yaml"
      out=$("$VNET" lab test "$WORK/fo.yaml" --junit "$WORK/j.xml" 2>&1 || true)
      v=$(echo "$out" | grep -o '[0-9.]* ms after the fault' | head -1 | awk '{print $1}')
      [ -n "$v" ] && vals+=("$v")
    done
    m=$(printf '%s\n' "${vals[@]:-}" | grep . | median)
    row="$row $m [$(IFS=,; echo "${vals[*]:-}")] |"
  done
  echo "$row"
done
