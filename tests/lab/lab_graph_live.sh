#!/usr/bin/env bash
# `vnet lab graph NAME` of a running lab draws its live state: the spanning-tree root bridge
# (double border), a port spanning tree blocks (a bar at its end of the edge), and a cable whose
# far end lost carrier (grey, dashed). The same lab drawn from its file shows none of it.
# ctest: parallel
. "$(dirname "$0")/lib.sh"
LAB=${T}g
python3 "$VNET_SRC/tests/lab/gen_mesh_lab.py" --access 2 --vlans 2 | sed "s/^name: mesh/name: $LAB/" \
  > "$WORK/mesh.yaml"
"$VNET" lab up "$WORK/mesh.yaml" >"$WORK/up.log" 2>&1 || fail "up: $(tail -3 "$WORK/up.log")"

graph() { "$VNET" lab graph "$LAB" -o - > "$WORK/live.dot" 2>&1; }
edge() { grep -E "\"($1)\" -- \"($2)\"|\"($2)\" -- \"($1)\"" "$WORK/live.dot" | grep -v invis; }
# Positive control: RSTP has settled when core1 (priority 4096) is root and the loops through
# the dual-homed access switches are cut by a blocked port.
settled() { graph && grep -q '"core1" \[.*root bridge.*peripheries=2' "$WORK/live.dot" &&
  grep -q 'arrow[a-z]*=tee' "$WORK/live.dot"; }
wait_for 15 settled || { cat "$WORK/live.dot" >&2; fail "no root bridge / blocked port drawn"; }
grep -q '"core2" \[.*peripheries=2' "$WORK/live.dot" && fail "core2 drawn as root too"
edge h1 acc1 | grep -q b0b0b0 && fail "h1's cable drawn down while it is up"
pass "root bridge and blocked port drawn"

"$VNET" lab exec "$LAB" h1 -- ip link set eth0 down
down() { graph && edge h1 acc1 | grep -q 'color="#b0b0b0".*style=dashed'; }
wait_for 5 down || { cat "$WORK/live.dot" >&2; fail "h1's cable (carrier lost) not drawn down"; }
pass "a cable without carrier drawn down"

"$VNET" lab graph "$WORK/mesh.yaml" -o - | grep -q 'peripheries\|arrowhead=tee\|b0b0b0' &&
  fail "the file's graph shows live state"
"$VNET" lab graph "${T}none" -o - >/dev/null 2>&1 && fail "graph of a lab that is not up accepted"
pass "file graph static; unknown lab refused"
