#!/usr/bin/env bash
# Nodes as machines of their own (issue #12.5): a dnsmasq DHCP server and two udhcpc clients in
# three namespace nodes. Each client gets its own lease, recorded in its own /var/lib; each node
# has its own hostname, /etc/hosts and /etc/resolv.conf; the host's files and hostname are
# untouched; `down` leaves no namespace, mount or view process behind, also after SIGKILL of `up`.
# ctest: parallel
. "$(dirname "$0")/lib.sh"
LAB=${VNET_SRC:?}/tests/lab/nodeview.yaml
command -v dnsmasq >/dev/null || { echo "SKIP: dnsmasq missing (scripts/deps.sh)"; exit 77; }

resolv_before=$(md5sum < /etc/resolv.conf)
hosts_before=$(md5sum < /etc/hosts)
hostname_before=$(hostname)
host_lease=/var/lib/dhcp/udhcpc.eth0.lease
sum_of() { if [ -e "$1" ]; then md5sum < "$1"; else echo absent; fi; }
host_lease_before=$(sum_of $host_lease)
x() { "$VNET" lab exec nodeview "$@"; }
views() { "$VNET" lab status --json nodeview | jq -r '.pids[] | select(.what | endswith(" view")) | .pid'; }
mounts() { findmnt -rn -o TARGET | grep -E "nodeview|^/run/\.vnet" || true; }

"$VNET" lab up "$LAB" > "$WORK/up.log" || fail "up: $(cat "$WORK/up.log")"
leased() { x "$1" -- test -s /var/lib/dhcp/udhcpc.eth0.lease; }
wait_for 30 leased c1 || fail "c1 got no lease: $(tail -5 "$VNET_STATE_DIR/nodeview/c1.log")"
wait_for 30 leased c2 || fail "c2 got no lease: $(tail -5 "$VNET_STATE_DIR/nodeview/c2.log")"
a1=$(x c1 -- ip -4 -o addr show eth0 | awk '{print $4}')
a2=$(x c2 -- ip -4 -o addr show eth0 | awk '{print $4}')
[[ $a1 == 10.77.0.* && $a2 == 10.77.0.* && $a1 != "$a2" ]] || fail "addresses c1 '$a1', c2 '$a2'"
x c1 -- grep -qx "ip=${a1%/*}" $host_lease || fail "c1's lease file does not hold its address"
x c2 -- grep -qx "ip=${a2%/*}" $host_lease || fail "c2's lease file does not hold its address"
x srv -- test ! -e $host_lease || fail "the server sees a client's lease file"
[ "$(sum_of $host_lease)" = "$host_lease_before" ] ||
  fail "the host's $host_lease changed"
n=$(x srv -- grep -c "10.77.0." /var/lib/misc/dnsmasq.leases)
[ "$n" = 2 ] || fail "dnsmasq's lease database in srv has $n leases, want 2"
x c1 -- test ! -e /var/lib/misc/dnsmasq.leases || fail "c1 sees srv's lease database"
if grep -qw overlay /proc/filesystems && [ -d /var/lib/dpkg ]; then
  x c1 -- test -d /var/lib/dpkg || fail "/var/lib of a node lost the host's contents (overlay)"
fi
pass "two DHCP clients and a server side by side: c1 $a1, c2 $a2, leases in their own /var/lib"

for node in srv c1 c2; do
  [ "$(x $node -- hostname)" = $node ] || fail "hostname in $node is '$(x $node -- hostname)'"
  [ "$(x $node -- cat /etc/hostname)" = $node ] || fail "/etc/hostname in $node"
done
[ "$(hostname)" = "$hostname_before" ] || fail "the host's hostname changed to $(hostname)"
hosts=$(x c1 -- cat /etc/hosts)
for node in srv c1 c2; do
  grep -qP "\t$node\$" <<<"$hosts" || fail "c1's /etc/hosts does not list $node: $hosts"
done
x c2 -- getent hosts c1 | grep -q fd77::11 || fail "c2 does not resolve c1 by name"
x c1 -- grep -qx "nameserver 10.77.0.1" /etc/resolv.conf || fail "the DHCP script's resolv.conf"
x c2 -- grep -qx "nameserver 10.77.0.1" /etc/resolv.conf || fail "c2's resolv.conf"
x srv -- grep -qx "nameserver 10.77.0.1" /etc/resolv.conf || fail "srv's resolv.conf (dns key)"
[ "$(md5sum < /etc/resolv.conf)" = "$resolv_before" ] || fail "the host's /etc/resolv.conf changed"
[ "$(md5sum < /etc/hosts)" = "$hosts_before" ] || fail "the host's /etc/hosts changed"
pass "own hostname, /etc/hosts and /etc/resolv.conf per node; the host's untouched"

mark=nodeview-$T
x c1 -- sh -c "echo c1 > /tmp/$mark && echo c1 > /run/$mark"
x c1 -- cat /tmp/$mark | grep -qx c1 || fail "c1's /tmp does not keep a file between commands"
x c2 -- test ! -e /tmp/$mark || fail "c2 sees c1's /tmp"
x c2 -- test ! -e /run/$mark || fail "c2 sees c1's /run"
[ ! -e /tmp/$mark ] && [ ! -e /run/$mark ] || fail "c1's /tmp or /run file reached the host"
# The lab's own files stay reachable inside a node (state directory under the host's /tmp).
x c1 -- sh -c 'test -d "$0"' "$VNET_STATE_DIR/nodeview" || fail "the state directory is hidden in c1"
"$VNET" lab test "$LAB" --junit "$WORK/j.xml" > "$WORK/test.log" || fail "scenario: $(cat "$WORK/test.log")"
pass "private /tmp and /run, shared between the commands of one node; exec steps in the view"

# isolate: false — the host's hostname and files, as a bare network namespace.
[ "$(x plain -- hostname)" = "$hostname_before" ] || fail "plain (isolate: false) has its own hostname"
x plain -- test -d "$WORK" || fail "plain (isolate: false) does not see the host's /tmp"
x plain -- ip -6 -o addr show eth0 | grep -q fd77::99 || fail "plain has no address"
pass "isolate: false leaves a node on the host's hostname and files"

holders=$(views)
[ "$(wc -w <<<"$holders")" = 3 ] || fail "want 3 view holders (plain has none), have: $holders"
# A node whose view is gone refuses commands rather than run them on the host's files.
c2_view=$("$VNET" lab status --json nodeview | jq -r '.pids[] | select(.what == "c2 view") | .pid')
kill -KILL "$c2_view"; wait_for 5 gone "$c2_view" || fail "c2's holder survived SIGKILL"
out=$(x c2 -- hostname 2>&1) && fail "exec in c2 without its view ran: $out"
[[ $out == *"view of nodeview-c2"*"is gone"* ]] || fail "exec without a view: $out"
"$VNET" lab down nodeview > /dev/null
for p in $holders; do gone "$p" || fail "view holder $p survived down"; done
[ -z "$(mounts)" ] || fail "mounts left after down: $(mounts)"
ip netns list | grep -q '^nodeview-' && fail "namespaces left after down"
pass "down removes the views (holders gone, nothing mounted)"

# SIGKILL of up once the views exist; down still removes everything.
"$VNET" lab up "$LAB" > "$WORK/up2.log" 2>&1 &
up=$!
have_views() { [ "$(views 2>/dev/null | wc -l)" -ge 2 ]; }
wait_for 20 have_views ||
  fail "no views appeared during up: $(cat "$WORK/up2.log")"
holders=$(views)
kill -KILL $up; wait $up 2>/dev/null || true
"$VNET" lab down nodeview > /dev/null || fail "down after SIGKILL of up"
for p in $holders; do gone "$p" || fail "view holder $p survived down after SIGKILL of up"; done
[ -z "$(mounts)" ] || fail "mounts left after down: $(mounts)"
ip netns list | grep -q '^nodeview-' && fail "namespaces left after down (SIGKILL of up)"
[ "$(md5sum < /etc/resolv.conf)" = "$resolv_before" ] || fail "the host's /etc/resolv.conf changed"
pass "SIGKILL of up, then down: nothing left"
