#!/usr/bin/env bash
# A campus-like lab over three machines (docs/multihost.md): namespaces $T-m1..m3 stand in for
# them, each running its own sshd (key-only, a throwaway key) on an underlay bridge; a controller
# namespace brings the lab up through Ansible, runs the scenarios where their nodes live, and
# takes it down. Checks: the split is the expected one; `up` is idempotent per machine and its
# status machine-readable; the scenarios pass as they do on one machine (same file without
# `machines:`); `down` leaves no namespace, process or state on any machine; a fourth machine
# that does not answer makes `up` fail naming it, with the three others cleaned.
# ctest: parallel
. "$(dirname "$0")/lib.sh"
for tool in ansible-playbook /usr/sbin/sshd ssh-keygen; do
  command -v $tool >/dev/null || { echo "SKIP: $tool missing (scripts/deps.sh)"; exit 77; }
done
LAB=mh$$
LAB=${LAB:0:12}
UL=$T-ul
ns_add $UL
ip -n $UL link add br0 type bridge
ip -n $UL link set br0 up
# underlay: the machines at 10.77.0.1-3, the controller at .100; nobody at .4
underlay() { # NS ADDR
  ns_add "$1"
  ip -n $UL link add "u${1##*-}" type veth peer name ul0 netns "$1"
  ip -n $UL link set "u${1##*-}" master br0 up
  ip -n "$1" addr add "$2/24" dev ul0
  ip -n "$1" link set ul0 up
}
for m in 1 2 3; do underlay $T-m$m 10.77.0.$m; done
underlay $T-ctl 10.77.0.100

ssh-keygen -q -t ed25519 -N '' -f "$WORK/key"
ssh-keygen -q -t ed25519 -N '' -f "$WORK/hostkey"
for m in 1 2 3; do
  mkdir -p "$WORK/m$m"
  cat >"$WORK/m$m/sshd_config" <<CONF
ListenAddress 10.77.0.$m
Port 22
HostKey $WORK/hostkey
AuthorizedKeysFile $WORK/key.pub
PermitRootLogin prohibit-password
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
PidFile $WORK/m$m/sshd.pid
StrictModes no
# As on a real machine: Ansible copies files over SFTP (without it, it tries SFTP, then SCP, and
# only then pipes the file through the shell, each failure costing seconds per task and host).
Subsystem sftp internal-sftp
# The stand-in machines share this host's /root: bash run by sshd would source its ~/.bashrc for
# every command Ansible runs (on a developer's machine, seconds of pyenv/nvm set-up each time).
# With SHLVL set, bash takes itself for a nested shell and skips it; nothing tested depends on it.
SetEnv SHLVL=1
CONF
  mkdir -p /run/sshd
  ip netns exec $T-m$m /usr/sbin/sshd -f "$WORK/m$m/sshd_config" -E "$WORK/m$m/sshd.log"
  wait_for 5 test -s "$WORK/m$m/sshd.pid" || fail "sshd on m$m did not start: $(cat "$WORK/m$m/sshd.log")"
  PIDS+=("$(cat "$WORK/m$m/sshd.pid")")
done

cat >"$WORK/lab.yaml" <<YAML
# core and the router on m1, one access switch on each of m2 and m3; staff (10) and students (20)
name: $LAB
machines:
  - {name: m1, address: 10.77.0.1}
  - {name: m2, address: 10.77.0.2}
  - {name: m3, address: 10.77.0.3}
switches:
  - {name: core, vlans: [10, 20], machine: m1}
  - {name: acc1, vlans: [10, 20], machine: m2}
  - {name: acc2, vlans: [10, 20], machine: m3}
hosts:
  - {name: pc1, interfaces: [{name: eth0, ipv4: 10.0.10.11/24}], gateway: 10.0.10.1, listen: [80]}
  - {name: pc3, interfaces: [{name: eth0, ipv4: 10.0.20.21/24}], gateway: 10.0.20.1}
  - {name: pc2, interfaces: [{name: eth0, ipv4: 10.0.10.12/24}], gateway: 10.0.10.1}
  - {name: pc4, interfaces: [{name: eth0, ipv4: 10.0.20.22/24}], gateway: 10.0.20.1}
  - {name: spy, interfaces: [{name: eth0, ipv4: 10.0.10.99/24}]}
routers:
  - name: r1
    interfaces:
      - {name: vlan10, ipv4: 10.0.10.1/24}
      - {name: vlan20, ipv4: 10.0.20.1/24}
links:
  - {endpoints: [core, acc1], trunk: [10, 20]}
  - {endpoints: [core, acc2], trunk: [10, 20]}
  - {endpoints: [r1:vlan10, core], vlan: 10}
  - {endpoints: [r1:vlan20, core], vlan: 20}
  - {endpoints: [pc1, acc1], vlan: 10}
  - {endpoints: [pc3, acc1], vlan: 20}
  - {endpoints: [pc2, acc2], vlan: 10}
  - {endpoints: [pc4, acc2], vlan: 20}
  - {endpoints: [spy, acc2], vlan: 20}
scenarios:
  - name: same-vlan-across-machines
    steps:
      - ping: pc1 pc2
      - ping: pc3 pc4
      - tcp: pc2 pc1:80
        expect: open
  - name: layer2-isolation
    steps:
      - ping: spy pc1
        expect: unreachable
      - ping: pc2 spy
        expect: unreachable
  - name: inter-vlan-routing
    steps:
      - ping: pc1 pc4
      - ping: pc4 pc1
      - ping: pc3 r1
YAML

# The split: placement and cables as documented.
plan=$("$VNET" lab plan "$WORK/lab.yaml" --host m1 --json)
[ "$(jq -r '.hosts[0].nodes|join(" ")' <<<"$plan")" = "core r1" ] || fail "m1's nodes: $plan"
[ "$(jq -r '.hosts[1].nodes|join(" ")' <<<"$plan")" = "acc1 pc1 pc3" ] || fail "m2's nodes: $plan"
[ "$(jq -r '[.cables[]|"\(.udp_port) \(.vnis."10") \(.vnis."20")"]|join(",")' <<<"$plan")" = "4789 4106 4116,4790 8202 8212" ] ||
  fail "cables: $plan"
[ "$(jq -r '.share.links|map(select(.backend!=""))|length' <<<"$plan")" = 2 ] || fail "m1's share: $plan"
pass "plan: core and r1 on m1, an access switch on m2 and m3, two VXLAN cables"

# The same file on one machine (no machines: keys): the reference.
sed -e '/^machines:/,/^switches:/{/^switches:/!d}' -e 's/, machine: m[0-9]//' "$WORK/lab.yaml" >"$WORK/one.yaml"
t0=$(date +%s%N)
VNET_STATE_DIR=$WORK/one "$VNET" lab up "$WORK/one.yaml" >"$WORK/one-up.log" || fail "one machine: up: $(cat "$WORK/one-up.log")"
one_up_ms=$((($(date +%s%N) - t0) / 1000000))
VNET_STATE_DIR=$WORK/one "$VNET" lab test "$WORK/one.yaml" --junit "$WORK/one.xml" >"$WORK/one-test.log" ||
  fail "one machine: scenarios: $(cat "$WORK/one-test.log")"
VNET_STATE_DIR=$WORK/one "$VNET" lab down "$LAB" >/dev/null
one_passed=$(grep -o '\[PASS\]' "$WORK/one-test.log" | wc -l)
pass "one machine: up in $one_up_ms ms, scenarios pass ($one_passed steps)"

# The inventory `up` would generate, with what this test needs: the key, per-machine state dirs
# and lab file directories (the "machines" share this filesystem).
"$VNET" lab inventory "$WORK/lab.yaml" >"$WORK/inventory"
grep -q '^m2 ansible_host=10.77.0.2$' "$WORK/inventory" || fail "inventory: $(cat "$WORK/inventory")"
for m in 1 2 3; do
  sed -i "s|^m$m ansible_host=.*|& vnet_state_dir=$WORK/m$m/state vnet_lab_dir=$WORK/m$m/files|" "$WORK/inventory"
done
# Pipelining: Ansible pipes each module into python over one ssh round trip instead of copying it
# to a temporary file first (an administrator's setting; the commands run are the same).
cat >>"$WORK/inventory" <<INV
ansible_user=root
ansible_ssh_private_key_file=$WORK/key
ansible_ssh_common_args='-o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o ConnectTimeout=5'
ansible_python_interpreter=/usr/bin/python3
ansible_pipelining=true
INV
export ANSIBLE_LOCAL_TEMP=$WORK/ansible-local ANSIBLE_REMOTE_TEMP=$WORK/ansible-remote
# Ansible keeps one ssh connection per machine open for 60 s (ControlPersist): closed on exit.
export ANSIBLE_SSH_CONTROL_PATH_DIR=$WORK/cp
close_ssh() {
  local rc=$? s
  for s in "$WORK"/cp/*; do [ -S "$s" ] && ssh -o ControlPath="$s" -O exit x >/dev/null 2>&1; done
  for s in "$WORK"/m1/state "$WORK"/m2/state "$WORK"/m3/state "$WORK"/one; do
    [ -d "$s/$LAB" ] && VNET_STATE_DIR=$s "$VNET" lab down "$LAB" >/dev/null 2>&1
  done
  set +e
  (exit $rc)
  cleanup
}
trap close_ssh EXIT INT TERM
ctl() { ip netns exec $T-ctl "$VNET" "$@"; }

lab_ns() { ip netns list 2>/dev/null | awk '{print $1}' | grep "^$LAB-" || true; }
# The lab's processes, as each machine's state recorded them (while it is up).
lab_pids() {
  local m
  for m in 1 2 3; do
    ip netns exec $T-m$m env VNET_STATE_DIR=$WORK/m$m/state "$VNET" lab status "$WORK/m$m/files/lab.yaml" --host m$m --json |
      jq -r '.status.pids[]?.pid'
  done
}
alive() { local p; for p in $PIDS_UP; do gone "$p" || echo "$p"; done; true; }

t0=$(date +%s%N)
ctl lab up "$WORK/lab.yaml" --inventory "$WORK/inventory" >"$WORK/up.log" 2>&1 || fail "up over 3 machines: $(cat "$WORK/up.log")"
multi_up_ms=$((($(date +%s%N) - t0) / 1000000))
for m in 1 2 3; do grep -q "ok: \[m$m\]" "$WORK/up.log" || fail "no progress for m$m: $(cat "$WORK/up.log")"; done
[ "$(lab_ns | wc -l)" = 9 ] || fail "expected 6 node namespaces + 3 dataplanes, have: $(lab_ns)"
for m in 1 2 3; do
  st=$(ip netns exec $T-m$m env VNET_STATE_DIR=$WORK/m$m/state "$VNET" lab status "$WORK/m$m/files/lab.yaml" --host m$m --json)
  [ "$(jq -r .up <<<"$st")" = true ] || fail "m$m status: $st"
done
PIDS_UP=$(lab_pids)
[ -n "$PIDS_UP" ] || fail "no processes recorded"
pass "up over 3 machines through Ansible in $multi_up_ms ms (one machine: $one_up_ms ms); status --json says up on each"

# Idempotent: up again changes nothing.
ip netns exec $T-m2 env VNET_STATE_DIR=$WORK/m2/state "$VNET" lab up "$WORK/m2/files/lab.yaml" --host m2 >"$WORK/again.log" ||
  fail "up again: $(cat "$WORK/again.log")"
grep -q "already up" "$WORK/again.log" || fail "up again: $(cat "$WORK/again.log")"
[ "$(lab_ns | wc -l)" = 9 ] || fail "up again changed the namespaces: $(lab_ns)"
pass "up --host is idempotent"

ctl lab test "$WORK/lab.yaml" --inventory "$WORK/inventory" --keep >"$WORK/test.log" 2>&1 || fail "scenarios over 3 machines: $(cat "$WORK/test.log")"
multi_passed=$(grep -o '\[PASS\]' "$WORK/test.log" | wc -l)
[ "$multi_passed" = "$one_passed" ] || fail "$multi_passed steps passed over 3 machines, $one_passed on one: $(cat "$WORK/test.log")"
pass "the same scenarios pass over 3 machines ($multi_passed steps)"

ctl lab down "$WORK/lab.yaml" --inventory "$WORK/inventory" >"$WORK/down.log" 2>&1 || fail "down: $(cat "$WORK/down.log")"
[ -z "$(lab_ns)" ] || fail "namespaces left: $(lab_ns)"
[ -z "$(alive)" ] || fail "processes left: $(ps -o pid=,args= -p "$(alive | paste -sd,)")"
for m in 1 2 3; do [ -z "$(ls "$WORK/m$m/state" 2>/dev/null)" ] || fail "state left on m$m"; done
pass "down leaves nothing on any machine"

# A fourth machine nobody answers for: up fails naming it, the other three are cleaned.
sed 's/^  - {name: m3, address: 10.77.0.3}/&\n  - {name: m4, address: 10.77.0.4}/' "$WORK/lab.yaml" >"$WORK/lab4.yaml"
"$VNET" lab inventory "$WORK/lab4.yaml" | grep '^m4 ' >"$WORK/m4.line"
sed -i "/^m3 ansible_host/r $WORK/m4.line" "$WORK/inventory"
cp "$WORK/lab4.yaml" "$WORK/lab.yaml"
if ctl lab up "$WORK/lab.yaml" --inventory "$WORK/inventory" >"$WORK/up4.log" 2>&1; then
  fail "up with an unreachable machine succeeded: $(cat "$WORK/up4.log")"
fi
grep -q "host m4 unreachable" "$WORK/up4.log" || fail "the failure does not name m4: $(cat "$WORK/up4.log")"
for m in 1 2 3; do grep -q "lab $LAB on host m$m: " "$WORK/up4.log" || fail "m$m was not brought up: $(cat "$WORK/up4.log")"; done
grep -q "bringing the other hosts down: m1, m2, m3" "$WORK/up4.log" || fail "the others were not taken down: $(cat "$WORK/up4.log")"
[ -z "$(lab_ns)" ] || fail "namespaces left after the failed up: $(lab_ns)"
for m in 1 2 3; do [ -z "$(ls "$WORK/m$m/state" 2>/dev/null)" ] || fail "state left on m$m after the failed up"; done
pass "an unreachable machine fails up with its name; the others are cleaned"
echo "times: up on one machine $one_up_ms ms, over 3 machines through Ansible $multi_up_ms ms"
echo "6 passed, 0 failed"
