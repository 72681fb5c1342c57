#!/usr/bin/env bash
# A real VDE client: Debian's vde_plug2tap in a namespace plugs into the switch's VDE directory and
# pings a namespace host attached through afpacket; unplugging frees its port. A vde_switch rc
# file loads unchanged.
# ctest: parallel
. "$(dirname "$0")/lib.sh"
command -v vde_plug2tap >/dev/null || fail "vde_plug2tap missing (apt-get install vde2)"
ns_add $T-sw; ns_add $T-h1; ns_add $T-v
ip -n $T-sw link add p1 type veth peer name eth0 netns $T-h1
ip -n $T-sw link set p1 up
host_cfg $T-h1 eth0 02:00:00:00:01:01 10.8.0.1/24
# An rc file as vde_switch users write them.
cat > "$WORK/rc" <<RC
# vde_switch rc
vlan/create 10
port/create 1
port/setvlan 1 10
port/create 5
port/setvlan 5 10
RC
start_switch $T-sw "$WORK/mgmt" -s "$WORK/vde" -f "$WORK/rc" --port 1=afpacket:p1
ctl() { "$VNET" ctl "$WORK/mgmt" "$@"; }
ctl port/print 1 | grep -q "untagged_vlan=0010" || fail "rc file not applied"
# The plug asks for port 5 (vde_plug2tap -p): VLAN 10 like the afpacket host.
ip netns exec $T-v vde_plug2tap -s "$WORK/vde" -p 5 -d -P "$WORK/plug.pid" tapv
wait_for 5 test -s "$WORK/plug.pid" || fail "vde_plug2tap did not start"
PIDS+=("$(cat "$WORK/plug.pid")")
wait_for 5 ip -n $T-v link show tapv || fail "no tap in the plug's namespace"
host_cfg $T-v tapv 02:00:00:00:01:05 10.8.0.5/24
wait_for 5 sh -c "'$VNET' ctl '$WORK/mgmt' port/print 5 | grep -q 'vde:'" || fail "plug did not get port 5"
reach $T-v 10.8.0.1 || fail "VDE client cannot reach the afpacket host"
reach $T-h1 10.8.0.5 || fail "afpacket host cannot reach the VDE client"
pass "vde_plug2tap on port 5 ↔ afpacket host"
ctl port/print 5 | grep -q "ACTIVE" || fail "port 5 not active"
kill "$(cat "$WORK/plug.pid")"
wait_for 5 sh -c "! '$VNET' ctl '$WORK/mgmt' port/print 5 | grep -q ' ACTIVE'" || fail "port 5 still active after unplug"
pass "unplug (ctl EOF) frees the port"
echo "1 passed, 0 failed"
