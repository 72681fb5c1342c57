#!/usr/bin/env bash
# Rootless labs (issue #15.3, docs/rootless.md), run by an unprivileged user from this root test:
# a lab of two namespace hosts and a passt uplink comes up inside a user namespace the user owns,
# the hosts ping each other and get a DHCP lease from passt, TCP through the uplink reaches a
# server in the "outside" (a namespace this test made, where passt runs), `down` leaves no
# process of the user and no state behind; a lab that needs root is refused with the reason at
# its file:line; examples/services-rootless.yaml (a network with DHCP, DNS and NAT, and passt)
# passes its scenarios (with subordinate ids). Both user-namespace maps: a user with subordinate ids (newuidmap) and a
# uid without any (single-id map).
# ctest: parallel lock host-users
. "$(dirname "$0")/lib.sh"
command -v passt >/dev/null || { echo "SKIP: passt missing (scripts/deps.sh)"; exit 77; }
. "$(dirname "$0")/rootless.bash"

# Everything the user reads: the binary, the labs and the DHCP script, in a directory it may enter.
rootless_setup "$VNET_SRC/tests/lab/rootless.yaml" "$VNET_SRC/tests/lab/rootless.udhcpc" \
  "$VNET_SRC/examples/services-rootless.yaml"
ROOTLESS_LABS=(rootless)
LAB=$RL/rootless.yaml

# The outside: a namespace with an address on a veth and a default route (passt copies both), and a TCP
# server on its loopback (passt maps the gateway address to it).
ns_add $T-out
ip -n $T-out link add out0 type veth peer name out1
ip -n $T-out addr add 10.199.0.2/24 dev out0
ip -n $T-out link set out0 up
ip -n $T-out link set out1 up
ip -n $T-out route add default via 10.199.0.1
ip netns exec $T-out iperf3 -s -B 127.0.0.1 -p 5201 -D -I "$WORK/iperf3.pid" --logfile "$WORK/iperf3.log"
wait_for 5 test -s "$WORK/iperf3.pid" || fail "iperf3 server did not start"
PIDS+=("$(cat "$WORK/iperf3.pid")")

one_map() {
  local u=$1 want_map=$2 x state
  mkdir -m 700 "$RL/xdg-$u"
  chown "$u" "$RL/xdg-$u"
  state=$RL/xdg-$u/vnet/labs
  x() { run_as "$u" lab exec rootless "$@"; }

  run_as "$u" lab up "$LAB" > "$WORK/up-$u.log" 2>&1 || fail "up as uid $u: $(cat "$WORK/up-$u.log")"
  [ -s "$state/rootless.holder" ] || fail "no holder record in $state"
  holder=$(jq -r .pid "$state/rootless.holder")
  map=$(jq -r .map "$state/rootless.holder")
  [ "$map" = "$want_map" ] || fail "uid $u: user namespace map '$map', want $want_map"
  [ "$(stat -c %u "/proc/$holder")" = "$u" ] || fail "the holder does not run as uid $u"
  # Nothing of the lab is visible outside: no namespace of it in the host's /run/netns.
  ! ls /run/netns | grep -q '^rootless-' || fail "the lab's namespaces show in the host's /run/netns"
  passt_pid=$({ cat "$state/rootless/state.json"; cat "$state/rootless/journal.jsonl" 2>/dev/null ||
    true; } | jq -rs '[.[] | (.pids // [.])[] | select(.what? == "up1 passt") | .pid][0]')
  [ -n "$passt_pid" ] && [ "$(stat -c %u "/proc/$passt_pid")" = "$u" ] ||
    fail "uid $u: no passt of the user recorded ('$passt_pid')"
  x h1 -- id -u | grep -qx 0 || fail "uid $u: a node's command does not run as root inside"
  before=$(leftovers "$u" | wc -l)
  if run_as "$u" lab up "$LAB" > "$WORK/up2-$u.log" 2>&1; then fail "uid $u: a second up succeeded"; fi
  grep -q "already up" "$WORK/up2-$u.log" || fail "uid $u: second up: $(cat "$WORK/up2-$u.log")"
  [ "$(leftovers "$u" | wc -l)" = "$before" ] || fail "uid $u: the refused second up left processes"
  pass "uid $u: up without root ($want_map map), holder $holder"

  x h1 -- ping -c 2 -W 2 10.0.10.2 >/dev/null || fail "uid $u: h1 cannot ping h2"
  x h2 -- ping -c 2 -W 2 10.0.10.1 >/dev/null || fail "uid $u: h2 cannot ping h1"
  pass "uid $u: h1 and h2 ping each other"

  for h in h1 h2; do
    local apply=0
    [ $h = h1 ] && apply=1
    x $h -- env APPLY=$apply busybox udhcpc -q -n -f -i eth0 -t 10 -T 1 \
      -s "$RL/rootless.udhcpc" > "$WORK/dhcp-$h.log" 2>&1 ||
      fail "uid $u: $h got no lease from passt: $(tail -5 "$WORK/dhcp-$h.log")"
    lease=$(x $h -- cat /var/lib/dhcp/udhcpc.eth0.lease)
    grep -qx 'ip=10.199.0.2' <<<"$lease" || fail "uid $u: $h lease is not the outside's address: $lease"
    grep -qx 'router=10.199.0.1' <<<"$lease" || fail "uid $u: $h lease has no router: $lease"
  done
  pass "uid $u: h1 and h2 got DHCP leases from the passt uplink (10.199.0.2, router 10.199.0.1)"

  local runs=""
  for i in 1 2 3; do
    x h1 -- iperf3 -c 10.199.0.1 -p 5201 -t 3 -J > "$WORK/iperf-$u.json" ||
      fail "uid $u: TCP through the uplink: $(tail -5 "$WORK/iperf-$u.json")"
    runs+=" $(jq '.end.sum_received.bits_per_second / 1e9' "$WORK/iperf-$u.json" | xargs printf %.2f)"
  done
  pass "uid $u: TCP h1 -> outside 127.0.0.1 through passt, 3 x 3 s:$runs Gbit/s"

  # The same lab through `vnet lab test` (joins the running lab, runs its scenario).
  run_as "$u" lab test "$LAB" --junit "$RL/xdg-$u/junit.xml" > "$WORK/test-$u.log" 2>&1 ||
    fail "uid $u: lab test: $(tail -20 "$WORK/test-$u.log")"
  run_as "$u" lab status rootless > "$WORK/status-$u.log" 2>&1 || fail "uid $u: status"
  grep -q "up1 passt" "$WORK/status-$u.log" || fail "uid $u: status does not show passt"

  if [ "$want_map" = single ]; then
    # A holder killed by hand: the lab's other processes keep its namespaces; down joins them.
    kill -9 "$holder"
    wait_for 5 gone "$holder" || fail "uid $u: holder $holder survived SIGKILL"
  fi
  run_as "$u" lab down rootless > "$WORK/down-$u.log" 2>&1 || fail "uid $u: down: $(cat "$WORK/down-$u.log")"
  grep -q "3 namespaces removed" "$WORK/down-$u.log" || fail "uid $u: down: $(cat "$WORK/down-$u.log")"
  wait_for 5 test -z "$(leftovers "$u")" ||
    fail "uid $u: processes left after down: $(ps -o pid,cmd -u "$u")"
  [ -z "$(ls -A "$state")" ] || fail "uid $u: files left in $state: $(ls -A "$state")"
  gone "$holder" || fail "uid $u: holder $holder survived down"
  [ -z "$passt_pid" ] || gone "$passt_pid" || fail "uid $u: passt $passt_pid survived down"
  pass "uid $u: down leaves no process of the user and an empty $state"

  # The rootless variant of examples/services.yaml: dnsmasq's DHCP and DNS and nftables NAT in a
  # network's service namespace, and passt's DHCP, all without root. Subordinate ids only: in a
  # single-id map dnsmasq cannot change its group ("failed to change group-id": setgroups is
  # denied there), a limit docs/rootless.md states.
  [ "$want_map" = subordinate ] || return 0
  run_as "$u" lab test "$RL/services-rootless.yaml" > "$WORK/svc-$u.log" 2>&1 ||
    fail "uid $u: examples/services-rootless.yaml: $(grep -E 'FAIL|rror' "$WORK/svc-$u.log" | head -10)"
  wait_for 5 test -z "$(leftovers "$u")" ||
    fail "uid $u: processes left after the services lab: $(ps -o pid,cmd -u "$u")"
  [ -z "$(ls -A "$state")" ] || fail "uid $u: files left in $state: $(ls -A "$state")"
  pass "uid $u: examples/services-rootless.yaml passes without root ($(grep -o '[0-9]* steps: [0-9]* passed' "$WORK/svc-$u.log"))"
}

# A user with subordinate ids.
rootless_user a
if [ -n "$NEW_UID" ]; then
  UIDS+=("$NEW_UID")
  one_map "$NEW_UID" subordinate
else
  echo "note: useradd gave no subordinate ids: the newuidmap case is not tested"
fi
# A uid without a passwd entry or subordinate ids: the single-id map.
single=$((40000 + $$ % 20000))
! grep -q "^$single:" /etc/subuid || fail "uid $single has subordinate ids"
UIDS+=("$single")
one_map "$single" single

# An uplink whose outside has no usable interface: passt ends at once, `up` fails saying so and
# removes what it made.
ns_add $T-bare
if OUT=$T-bare run_as "$single" lab up "$LAB" > "$WORK/bare.log" 2>&1; then
  fail "up succeeded with passt unable to start"
fi
grep -q "up1 passt ended at once" "$WORK/bare.log" ||
  fail "up does not say passt failed: $(cat "$WORK/bare.log")"
[ -z "$(ls -A "$RL/xdg-$single/vnet/labs")" ] && [ -z "$(leftovers "$single")" ] ||
  fail "the failed up left state or processes: $(ls -A "$RL/xdg-$single/vnet/labs")"
pass "passt without a usable outside: up fails and says so ($(grep -o 'up1 passt ended[^(]*' "$WORK/bare.log" | head -1))"

# What needs root is refused before anything is created, with file:line and the reason.
cat > "$RL/needs-root.yaml" <<'EOF'
name: needsroot
switches:
  - name: sw1
externals:
  - name: wan
    interface: lo
links:
  - endpoints: [wan, sw1]
EOF
chmod 644 "$RL/needs-root.yaml"
if run_as "$single" lab up "$RL/needs-root.yaml" > "$WORK/refused.log" 2>&1; then
  fail "a lab with an external interface came up without root"
fi
grep -q "needs-root.yaml:5:.*external wan cannot run in a rootless lab: .*AF_PACKET.*root" \
  "$WORK/refused.log" || fail "refusal without file:line and reason: $(cat "$WORK/refused.log")"
! grep -qi "permission denied" "$WORK/refused.log" || fail "raw EACCES: $(cat "$WORK/refused.log")"
[ ! -e "$RL/xdg-$single/vnet/labs/needsroot" ] && [ ! -e "$RL/xdg-$single/vnet/labs/needsroot.holder" ] ||
  fail "the refused lab left state behind"
[ -z "$(leftovers "$single")" ] || fail "the refused lab left processes"
pass "a lab with a host interface is refused: $(grep -m1 needs-root.yaml "$WORK/refused.log")"
