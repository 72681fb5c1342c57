#!/usr/bin/env bash
# Networks as in libvirt (issue #15 items 1-2, docs/networks.md): four networks on one switch,
# two NAT networks, an isolated one and a routed one, each with dnsmasq in a service namespace
# and an uplink into a namespace standing in for the outside (nets-out, made here; nothing
# leaves it).
# Proves: leases from the declared pools and the static ones; names resolve across networks;
# a route-mode network reaches the outside untranslated over the route back vnet adds, and its
# router advertisements give a client a SLAAC address;
# a TCP server outside sees the gateways' uplink addresses (NAT), never a client's; the isolated
# network reaches nothing outside; `lab status` lists the leases; `down` stops every dnsmasq and
# removes the service namespaces with their nftables tables and uplink veths.
# ctest: parallel
. "$(dirname "$0")/lib.sh"
LAB=${VNET_SRC:?}/tests/lab/networks.yaml
command -v dnsmasq >/dev/null || { echo "SKIP: dnsmasq missing (scripts/deps.sh)"; exit 77; }
command -v python3 >/dev/null || { echo "SKIP: python3 missing"; exit 77; }
OUT=nets-out
ns_exists() { ip netns list | grep -qw "$1"; }
for ns in $OUT nets-office nets-staff nets-guest nets-lab40; do
  ns_exists $ns && fail "namespace $ns exists before the test: another run left it?"
done

# The stand-in outside: 203.0.113.10 on its loopback, a TCP server logging each peer.
ns_add $OUT
ip -n $OUT addr add 203.0.113.10/32 dev lo
tables_before=$(ip netns exec $OUT nft list tables)
peer_logger $OUT 203.0.113.10 8080 "$WORK/server.log"

"$VNET" lab up "$LAB" > "$WORK/up.log" 2>&1 || fail "up: $(cat "$WORK/up.log")"
dnsmasqs=$("$VNET" lab status --json nets | jq -r '.pids[] | select(.what | endswith(" dnsmasq")) | .pid')
[ "$(wc -w <<<"$dnsmasqs")" = 4 ] || fail "want 4 dnsmasq processes, have: $dnsmasqs"
for p in $dnsmasqs; do [ "$(cat /proc/$p/comm)" = dnsmasq ] || fail "pid $p is not dnsmasq"; done
t=$(ip netns exec nets-office nft list tables)
[[ $t == *"inet vnet_network"* && $t == *"ip vnet_network_nat"* ]] || fail "office tables: $t"
t=$(ip netns exec nets-guest nft list tables)
[[ $t == *"inet vnet_network"* && $t != *nat* ]] || fail "guest tables: $t"
pass "up: 4 networks, each with its dnsmasq and its mode's nftables tables"

# The outside routes every NAT'd or isolated subnet back to its gateway, as a real upstream would:
# only the gateways' rules (NAT, isolation) decide what the server sees and who reaches it. The
# route network's way back (10.0.40.0/24) is vnet's to add.
ip -n $OUT route show 10.0.40.0/24 | grep -q "via 100.64.3.2 dev" ||
  fail "no route back to lab40 (route mode) in $OUT: $(ip -n $OUT route)"
ip -n $OUT route add 10.0.10.0/24 via 198.51.100.2
ip -n $OUT route add 10.0.20.0/24 via 100.64.1.2
ip -n $OUT route add 10.0.30.0/24 via 100.64.2.2
"$VNET" lab test "$LAB" --junit "$WORK/j.xml" > "$WORK/test.log" 2>&1 ||
  fail "scenarios: $(cat "$WORK/test.log")"
pass "scenarios: leases from the pools and the static ones, names across networks, NAT out, isolated stays in"

x() { "$VNET" lab exec nets "$@"; }
addr_of() { x "$1" -- ip -4 -o addr show eth0 | awk '{print $4}'; }
a1=$(addr_of pc1); a4=$(addr_of pc4)
[[ $a1 =~ ^10\.0\.10\.(1[3-8][0-9]|19[01])/24$ ]] || fail "pc1 has $a1, want one of 10.0.10.128-191"
[[ $a4 =~ ^10\.0\.20\.(1[3-8][0-9]|19[01])/24$ ]] || fail "pc4 has $a4, want one of 10.0.20.128-191"
[ "$(addr_of pc2)" = 10.0.10.12/24 ] || fail "pc2 has $(addr_of pc2), want its static 10.0.10.12"
[ "$(addr_of pc3)" = 10.0.20.13/24 ] || fail "pc3 has $(addr_of pc3), want its static 10.0.20.13"
# A dynamic client's name (sent in DHCP) resolves in its own network.
o=$(x pc2 -- busybox nslookup pc1.lab) || fail "pc2 cannot resolve pc1.lab: $o"
[[ $o == *"Address: ${a1%/*}"* ]] || fail "pc1.lab from pc2: $o (pc1 has $a1)"
x pc2 -- grep -qx "nameserver 10.0.10.1" /etc/resolv.conf || fail "pc2's resolv.conf from DHCP"
x pc3 -- grep -qx "nameserver 10.0.20.254" /etc/resolv.conf || fail "pc3's resolv.conf from DHCP"
pass "addresses: pc1 $a1 and pc4 $a4 from the pools, pc2 and pc3 static; pc1.lab resolves to ${a1%/*}"

status=$("$VNET" lab status nets)
for a in 10.0.10.12 10.0.20.13 "${a1%/*}" "${a4%/*}"; do
  grep -q "$a" <<<"$status" || fail "lab status does not list the lease $a: $status"
done
n=$("$VNET" lab status --json nets | jq '[.networks[].lease_list[]] | length')
[ "$n" = 6 ] || fail "status lists $n leases, want 6"
pass "lab status lists the 6 leases"

# Router advertisements: pc6 forms a SLAAC address in lab40's fd00:40::/64.
slaac() { x pc6 -- ip -6 -o addr show dev eth0 | grep -q 'inet6 fd00:40::'; }
wait_for 15 slaac || fail "pc6 has no SLAAC address from lab40's RA: $(x pc6 -- ip -6 -o addr)"
pass "pc6 formed $(x pc6 -- ip -6 -o addr show dev eth0 | awk '/fd00:40::/{print $4}') from lab40's router advertisements"

# NAT: the server saw the gateways' uplink addresses, never a client's.
peers=$(sort -u "$WORK/server.log" | tr '\n' ' ')
grep -qx 198.51.100.2 "$WORK/server.log" || fail "no connection from office's uplink 198.51.100.2: $peers"
grep -qx 100.64.1.2 "$WORK/server.log" || fail "no connection from staff's uplink 100.64.1.2: $peers"
a6=$(addr_of pc6)
grep -qx "${a6%/*}" "$WORK/server.log" || fail "route mode: the server did not see pc6's own ${a6%/*}: $peers"
grep -v "^${a6%/*}\$" "$WORK/server.log" | grep -q '^10\.' && fail "a NAT'd client's own address reached the outside: $peers"
grep -q '^10\.0\.30\.\|^100\.64\.2\.' "$WORK/server.log" && fail "guest (isolated) reached the server: $peers"
pass "the outside server saw the NAT gateways' uplink addresses and route-mode pc6 as itself: $peers"

# Control: without guest's rules and with forwarding on, pc5 does reach the server — the
# isolation above was the gateway's doing, not a missing route.
ip netns exec nets-guest nft delete table inet vnet_network
ip netns exec nets-guest sysctl -qw net.ipv4.ip_forward=1
x pc5 -- ip route replace default via 10.0.30.1
"$VNET" lab exec nets pc5 -- busybox nc -w 2 203.0.113.10 8080 < /dev/null ||
  fail "control: pc5 cannot reach the server even without guest's rules"
wait_for 5 grep -q '^10\.0\.30\.' "$WORK/server.log" ||
  fail "control: the server never saw pc5 without guest's rules: $(sort -u "$WORK/server.log")"
pass "control: with guest's rules removed pc5 reaches the server (so they are what stopped it)"

devices_out() { ip -n $OUT -o link show | awk -F': ' '{print $2}' | cut -d@ -f1 | grep -v '^lo$' || true; }
[ "$(devices_out | wc -l)" = 4 ] || fail "want 4 uplink veths in $OUT, have: $(devices_out)"
"$VNET" lab down nets > "$WORK/down.log" || fail "down: $(cat "$WORK/down.log")"
for p in $dnsmasqs; do gone "$p" || fail "dnsmasq $p survived down"; done
for ns in nets-office nets-staff nets-guest nets-lab40; do ns_exists $ns && fail "namespace $ns left after down"; done
[ -z "$(devices_out)" ] || fail "uplink veths left in $OUT: $(devices_out)"
[ "$(ip netns exec $OUT nft list tables)" = "$tables_before" ] || fail "nftables tables changed in $OUT"
pass "down: no dnsmasq, no service namespace (their nftables tables with them), no uplink veth left"
