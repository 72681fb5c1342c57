#!/usr/bin/env bash
# Spanning tree against Open vSwitch's RSTP (IEEE 802.1D-2004 clause 17; OVS lib/rstp*.c, the
# userspace datapath: no kernel module). A ring of three vnet bridges and one OVS bridge:
#
#     v1 (4096) ==cable== v2 (8192) ==cable== v3 (12288)
#        \ port 2                                / port 2
#         veth c1 ~ o1    OVS br0 (16384)   o3 ~ c3 veth
#
# vnet's ports toward OVS are afpacket ports on veths; OVS runs from a private database, run
# directory and sockets under $WORK in its own namespace (the host's Open vSwitch, if any, is not
# touched). After each event — a ring link down and up (a vnet cable, then the veth to OVS), OVS
# becoming root by its priority, the root's priority change (OVS's, then vnet's) — both
# implementations must agree within 1 s on the root and on every port role: the roles a correct
# RSTP computes from the priority vectors (802.1D-2004 §17.6, §17.19.21), written below per
# event. Where OVS 3.1 itself is known to be slower the allowance is longer and the reason is
# given there. The time each event took to agree is printed; every event is run even after one
# fails, and the test fails at the end with each failure.
. "$(dirname "$0")/lib.sh"
command -v jq >/dev/null || fail "jq is not installed: scripts/deps.sh"
for tool in ovsdb-tool ovsdb-server ovs-vswitchd ovs-vsctl ovs-appctl; do
  command -v $tool >/dev/null || fail "$tool is not installed: scripts/deps.sh (openvswitch-switch)"
done
SCHEMA=/usr/share/openvswitch/vswitch.ovsschema
[ -r $SCHEMA ] || fail "Open vSwitch schema $SCHEMA is missing (openvswitch-common)"

ns_add $T-sw
ns_add $T-ovs
for i in 1 3; do
  ip -n $T-sw link add c$i type veth peer name o$i netns $T-ovs
  ip -n $T-sw link set c$i up
  ip -n $T-ovs link set o$i up
done

# Open vSwitch: private database, run/log directories and sockets, started in $T-ovs and stopped
# by PID (lib.sh's cleanup) on every exit path.
O=$WORK/ovs
mkdir -p "$O"
export OVS_RUNDIR=$O OVS_LOGDIR=$O OVS_DBDIR=$O OVS_SYSCONFDIR=$O
ovsdb-tool create "$O/conf.db" $SCHEMA >"$O/tool.log" 2>&1 || fail "ovsdb-tool: $(cat "$O/tool.log")"
ip netns exec $T-ovs ovsdb-server "$O/conf.db" --remote=punix:"$O/db.sock" \
  --unixctl="$O/ovsdb-server.ctl" --pidfile="$O/ovsdb-server.pid" --log-file="$O/ovsdb-server.log" \
  --detach --no-chdir 2>"$O/ovsdb-server.err" || fail "ovsdb-server: $(cat "$O/ovsdb-server.err")"
PIDS+=("$(cat "$O/ovsdb-server.pid")")
vsctl() { ovs-vsctl --db=unix:"$O/db.sock" --timeout=5 "$@"; }
vsctl --no-wait init || fail "ovs-vsctl cannot reach the private ovsdb-server"
ip netns exec $T-ovs ovs-vswitchd unix:"$O/db.sock" --unixctl="$O/ovs-vswitchd.ctl" \
  --pidfile="$O/ovs-vswitchd.pid" --log-file="$O/ovs-vswitchd.log" --detach --no-chdir \
  2>"$O/ovs-vswitchd.err" || fail "ovs-vswitchd: $(cat "$O/ovs-vswitchd.err")"
PIDS+=("$(cat "$O/ovs-vswitchd.pid")")
appctl() { ovs-appctl --target="$O/ovs-vswitchd.ctl" "$@"; }
appctl version >/dev/null || fail "ovs-vswitchd does not answer on its control socket"

# Timers as vnet's below (OVS's hello time is fixed at 2 s).
vsctl add-br br0 -- set Bridge br0 datapath_type=netdev rstp_enable=true \
  other_config:rstp-address=02:00:00:00:7a:04 other_config:rstp-priority=16384 \
  other_config:rstp-max-age=6 other_config:rstp-forward-delay=4 \
  -- add-port br0 o1 -- add-port br0 o3 ||
  fail "ovs-vsctl could not create br0: $(tail -5 "$O/ovs-vswitchd.log")"
ovs_has_ports() { contains o1 appctl rstp/show br0 && contains o3 appctl rstp/show br0; }
wait_for 5 ovs_has_ports || fail "OVS did not put o1 and o3 under RSTP: $(appctl rstp/show br0 2>&1)"
pass "Open vSwitch $(ovs-vswitchd --version | awk 'NR == 1 {print $NF}') runs br0 (userspace datapath) with RSTP"

M=$WORK/mgmt
start_switch $T-sw $M --bridge v1
ctl() { "$VNET" ctl "$M" "$@"; }
ctl bridge/create v2 >/dev/null
ctl bridge/create v3 >/dev/null
prio=([1]=4096 [2]=8192 [3]=12288)
for b in 1 2 3; do
  for p in 1 2; do ctl -b v$b port/create $p >/dev/null; done
  ctl -b v$b stp/set mode rstp priority ${prio[$b]} hello_time 2 forward_delay 4 max_age 6 >/dev/null
done
ctl cable/connect v1 1 v2 1 >/dev/null
ctl cable/connect v2 2 v3 1 >/dev/null
ctl -b v1 port/attach 2 afpacket:c1 >/dev/null
ctl -b v3 port/attach 2 afpacket:c3 >/dev/null

# Bridge identifiers compared as 16 hex digits: vnet prints 1000.02000000000a, OVS's rstp/show
# the priority in decimal and the address with colons.
vnet_id() { ctl -b "$1" --json stp/show | jq -r .bridge_id | tr -d .; }
ovs_id() { # PRIORITY MAC
  printf '%04x%s' "$1" "${2//:/}"
}
declare -A ID
for b in v1 v2 v3; do ID[$b]=$(vnet_id $b); done
ID[br0]=$(ovs_id 16384 02:00:00:00:7a:04)

# ovs_show COLUMN: "br0:root=ID br0:o1=X br0:o3=Y " from OVS's rstp/show: the root, then column
# 2 (role) or 3 (state) of its port table, in lower case as vnet's.
ovs_show() {
  appctl rstp/show br0 | awk -v c="$1" '
    /^Root ID:/ {r = 1} /^Bridge ID:/ {r = 0}
    r && $1 == "stp-priority" {p = $2} r && $1 == "stp-system-id" {m = $2}
    /^  Interface/ {t = 1; next}
    t && NF >= 3 && $1 != "----------" {v[$1] = tolower($c)}
    END {gsub(":", "", m); printf "br0:root=%04x%s br0:o1=%s br0:o3=%s ", p, m, v["o1"], v["o3"]}'
}
# The state both sides report, one line: root per bridge and every port's role.
actual() {
  local b
  for b in v1 v2 v3; do
    ctl -b $b --json stp/show |
      jq -j --arg b $b '"\($b):root=\(.root_id | gsub("[.]"; "")) ", (.ports[] | "\($b):\(.port)=\(.role) ")'
  done
  ovs_show 2
}
# expected ROOT ROLES: the same line for the root bridge ROOT and the roles ROLES (in the order
# v1:1 v1:2 v2:1 v2:2 v3:1 v3:2 br0:o1 br0:o3).
expected() {
  local root=${ID[$1]} r=($2) out="" b
  for b in v1 v2 v3; do
    out+="$b:root=$root $b:1=${r[0]} $b:2=${r[1]} "
    r=("${r[@]:2}")
  done
  echo "${out}br0:root=$root br0:o1=${r[0]} br0:o3=${r[1]} "
}
FAILURES=()
LAST=""
# event CMD...: runs one scripted change; agree measures from just before it.
EVENT_MS=0
event() {
  EVENT_MS=$(now_ms)
  "$@" >/dev/null
}
# agree LABEL ALLOWED_MS ROOT ROLES: poll until both sides report exactly this, at most
# ALLOWED_MS after the event (1000 unless the standard or OVS is known to be slower, said where);
# polled up to ALLOWED_MS + 3 s (at least 10 s) so that later events start from a converged ring.
# The time is taken when the poll that saw agreement ended (one poll reads all four bridges in
# sequence, POLL_MS).
# A failure lists every distinct report seen on the way, with its time since the event.
agree() {
  local label=$1 allowed=$2 want t seen="" prev="" p0 limit
  want=$(expected "$3" "$4")
  limit=$((allowed + 3000 > 10000 ? allowed + 3000 : 10000))
  while :; do
    p0=$(now_ms)
    LAST=$(actual)
    t=$(($(now_ms) - EVENT_MS))
    POLL_MS=$(($(now_ms) - p0))
    [ "$LAST" != "$want" ] || break
    [ "$LAST" = "$prev" ] || seen+=$'\n'"  +$t ms: $LAST"
    prev=$LAST
    if [ $t -gt $limit ]; then
      FAILURES+=("$label: no agreement after $t ms; expected: $want; reported:$seen")
      echo "not ok - $label: no agreement after $t ms" >&2
      return 0
    fi
    sleep 0.02
  done
  if [ $t -gt "$allowed" ]; then
    FAILURES+=("$label: agreed only after $t ms (allowed $allowed ms); reported before:$seen")
    echo "not ok - $label: agreed after $t ms (> $allowed ms)" >&2
  else
    pass "$label: vnet and OVS agree after $t ms (allowed $allowed; root $3; one poll $POLL_MS ms)"
  fi
}

# The first convergence includes the daemons' start: allowed 15 s, its time is only printed.
# Root v1. v2 and br0 are one hop from it; v3 reaches it in 4000 via v2 or via br0, and takes
# v2 (bridge 8192 < 16384), so v3's port toward br0 is the ring's alternate.
t0=$(now_ms)
wait_for 15 eval '[ "$(actual)" = "$(expected v1 "designated designated root designated root alternate root designated")" ]' ||
  fail "no initial agreement: expected $(expected v1 "designated designated root designated root alternate root designated"); reported $(actual)"
pass "initial convergence: root v1, v3's port 2 (toward OVS) alternate, after $(($(now_ms) - t0)) ms"

# Every port but the alternate forwards on both sides, and OVS's ports report it too.
forwarding_as_roles() {
  local b p s
  for b in v1 v2 v3; do
    for p in 1 2; do
      s=$(ctl -b $b --json stp/show | jq -r ".ports[] | select(.port == $p) | .state")
      if [ $b$p = v32 ]; then [ "$s" = discarding ] || return 1; else [ "$s" = forwarding ] || return 1; fi
    done
  done
  [ "$(ovs_show 3 | cut -d' ' -f2-)" = "br0:o1=forwarding br0:o3=forwarding " ]
}
wait_for 15 forwarding_as_roles ||
  fail "ports did not reach forwarding: OVS $(ovs_show 3); vnet $(for b in v1 v2 v3; do ctl -b $b stp/show; done)"
pass "every port but the alternate forwards, OVS's and vnet's"

# 1. The cable v1–v2 goes down: v2 reaches the root the long way (v3, br0), br0's port toward v3
#    becomes designated, v3's root port moves to port 2. vnet sees its own link change at once.
event ctl -b v1 port/link 1 down
agree "ring cable v1-v2 down" 1000 v1 "disabled designated disabled root designated root root designated"
event ctl -b v1 port/link 1 up
agree "ring cable v1-v2 up" 1000 v1 "designated designated root designated root alternate root designated"

# 2. The veth between v1 and OVS loses its link (o1 set down in OVS's namespace: c1, vnet's end,
#    loses carrier): br0 reaches the root through v3.
event ip -n $T-ovs link set o1 down
agree "veth v1-OVS down" 1000 v1 "designated disabled root designated root designated disabled root"
# Link up: vnet sees c1's carrier within a few ms and proposes at once; OVS 3.1 does not answer
# that first proposal (its packet socket on o1 failed with ENETDOWN while the link was down,
# ovs-vswitchd.log), and answers the one vnet repeats at the next hello at once (measured:
# 1.9–2.0 s, vnet's log: carrier up, then learning/forwarding one hello later). Allowed one
# hello (2 s) more.
event ip -n $T-ovs link set o1 up
agree "veth v1-OVS up" 3000 v1 "designated designated root designated root alternate root designated"

# 3. The root's priority gets better (v1 to 0): the same tree, every bridge takes v1's new
#    identifier as the root's (its information is superior everywhere). When v1's BPDU reaches
#    br0 through v2 and v3 before the direct one on o1, br0 makes o3 its root port for a moment
#    and then designated again; the designated BPDU that puts v3's port 2 back to alternate is
#    then about the ninth o3 has sent since event 2 began (captured on c3: 8 in 2.5 s), and the
#    Transmit Hold Count (6, decremented once a second: 802.1D-2004 §17.13.12, §17.19.44, §17.26)
#    holds it until OVS's next timer tick (measured 1003–1159 ms in 1 of 3 to 1 of 8 runs, else
#    250–350 ms). Allowed that second more.
event ctl -b v1 stp/set priority 0
ID[v1]=$(vnet_id v1)
agree "root v1's priority to 0" 2000 v1 "designated designated root designated root alternate root designated"

# When the root's priority gets worse, RSTP has no bound tighter than ageing: information about
# the old root that is still on its way round the ring (or held by a bridge that does not yet
# take the root's worse information) circulates until it ages out, rcvdInfoWhile = 3 × Hello
# Time after the last BPDU that refreshed it (802.1D-2004 §17.21.23, §17.27). OVS adds up to 1 s
# before it sends (see 5) and checks its timers once a second. Allowed: 3 × 2 s + 3 s.
AGEING_MS=9000

# 4. The root's priority gets worse (v1 to 32768): v2 (8192) is root. br0 reaches it in 4000 via
#    v1 or via v3 and takes v3 (12288 < 32768): br0's port toward v1 is the alternate. OVS 3.1
#    compares whole bridge identifiers where 802.1D-2004 §17.6 compares the Bridge Address and
#    Port Number to let a designated port's worse information replace what its neighbour holds
#    (lib/rstp-state-machines.c compare_rstp_priority_vectors), so OVS keeps v1's former root
#    on o1 until it ages out, and relays it round the ring meanwhile.
event ctl -b v1 stp/set priority 32768
ID[v1]=$(vnet_id v1)
agree "root v1's priority to 32768" $AGEING_MS v2 "root designated designated designated root designated alternate root"

# 5. OVS's priority becomes the best (0): br0 is root. v2 reaches it in 4000 via v1 or v3 and
#    takes v3 (12288 < 32768): v2's port toward v1 is the alternate. OVS 3.1 applies a priority
#    change to its role selection at once but runs its other state machines (which send the new
#    BPDUs) only on its next 1 s timer tick or received BPDU (lib/rstp.c set_bridge_priority__,
#    ofproto/ofproto-dpif.c rstp_run): allowed that second more.
event vsctl set Bridge br0 other_config:rstp-priority=0
ID[br0]=$(ovs_id 0 02:00:00:00:7a:04)
agree "OVS br0's priority to 0" 2000 br0 "designated root alternate root designated root designated designated"

# 6. The root's priority gets worse, the root OVS (br0 back to 16384): v2 is root again as in 4.
#    Its neighbours v1 and v3 must take br0's worse information at once (§17.6: it comes from the
#    same bridge address and port number).
event vsctl set Bridge br0 other_config:rstp-priority=16384
ID[br0]=$(ovs_id 16384 02:00:00:00:7a:04)
agree "root br0's priority to 16384" $AGEING_MS v2 "root designated designated designated root designated alternate root"

# OVS's database (rstp_status, refreshed by ovs-vswitchd on its own schedule) says the same.
db_agrees() {
  [ "$(vsctl get Bridge br0 rstp_status:rstp_root_id | tr -d '".')" = "${ID[v2]}" ] &&
    [ "$(vsctl get Port o1 rstp_status:rstp_port_role)" = Alternate ] &&
    [ "$(vsctl get Port o3 rstp_status:rstp_port_role)" = Root ]
}
wait_for 10 db_agrees ||
  FAILURES+=("OVS's rstp_status: root $(vsctl get Bridge br0 rstp_status), o1 $(vsctl get Port o1 rstp_status), o3 $(vsctl get Port o3 rstp_status)")

if [ ${#FAILURES[@]} -gt 0 ]; then
  printf '%s\n' "${FAILURES[@]}" >&2
  fail "${#FAILURES[@]} of the events above did not agree in time"
fi
echo "1 passed, 0 failed"
