#!/usr/bin/env bash
# Router-on-a-stick without the 8021q module: two routers, each with ONE trunk cable carrying
# VLANs 10 and 20, declare eth0.10 and eth0.20 (the usual names). vnet realises each as its own
# port of the switch. VRRP runs on eth0.10/eth0.20 (keepalived.conf names them as on a real
# router), nftables filters with iifname "eth0.20". Checks, through `vnet lab test`:
#  - the routers have devices eth0.10 and eth0.20 with the parent's MAC;
#  - hosts in VLAN 10 and 20 reach each other through the VIP gateways (positive control);
#  - the filter on eth0.20 holds (VLAN 20 cannot open new connections to VLAN 10);
#  - layer 2 stays separate: a host of VLAN 20 given a VLAN 10 address reaches nobody;
#  - r1 is master, and after `kill: r1` r2 takes over the gateways of both subinterfaces;
#  - the lab uses one cable per router, not one per VLAN.
. "$(dirname "$0")/lib.sh"
L=ro$$
cat >"$WORK/lab.yaml" <<YAML
name: $L
switches:
  - name: sw1
    vlans: [10, 20]
routers:
  - name: r1
    interfaces:
      - {name: eth0}
      - {name: eth0.10, ipv4: 10.81.10.2/24}
      - {name: eth0.20, ipv4: 10.81.20.2/24}
    nftables: &filter |
      table inet stick {
        chain forward {
          type filter hook forward priority filter; policy drop;
          ct state established,related accept
          iifname "eth0.10" accept
          iifname "eth0.20" oifname "eth0.10" tcp dport 22 accept
        }
      }
    vrrp:
      config: |
        vrrp_sync_group G {
          group {
            V10
            V20
          }
        }
        vrrp_instance V10 {
          state MASTER
          interface eth0.10
          virtual_router_id 81
          priority 150
          advert_int 1
          virtual_ipaddress {
            10.81.10.1/24
          }
        }
        vrrp_instance V20 {
          state MASTER
          interface eth0.20
          virtual_router_id 82
          priority 150
          advert_int 1
          virtual_ipaddress {
            10.81.20.1/24
          }
        }
  - name: r2
    interfaces:
      - {name: eth0}
      - {name: eth0.10, ipv4: 10.81.10.3/24}
      - {name: eth0.20, ipv4: 10.81.20.3/24}
    nftables: *filter
    vrrp:
      config: |
        vrrp_sync_group G {
          group {
            V10
            V20
          }
        }
        vrrp_instance V10 {
          state BACKUP
          interface eth0.10
          virtual_router_id 81
          priority 100
          advert_int 1
          virtual_ipaddress {
            10.81.10.1/24
          }
        }
        vrrp_instance V20 {
          state BACKUP
          interface eth0.20
          virtual_router_id 82
          priority 100
          advert_int 1
          virtual_ipaddress {
            10.81.20.1/24
          }
        }
hosts:
  - name: staff
    interfaces: [{name: eth0, ipv4: 10.81.10.10/24}]
    gateway: 10.81.10.1
    listen: [22, 80]
  - name: student
    interfaces: [{name: eth0, ipv4: 10.81.20.10/24}]
    gateway: 10.81.20.1
  - name: spy
    interfaces: [{name: eth0, ipv4: 10.81.10.66/24}]
links:
  - endpoints: [r1:eth0, sw1]
    trunk: [10, 20]
  - endpoints: [r2:eth0, sw1]
    trunk: [10, 20]
  - endpoints: [staff, sw1]
    vlan: 10
  - endpoints: [student, sw1]
    vlan: 20
  - endpoints: [spy, sw1]
    vlan: 20
scenarios:
  - name: subinterfaces
    steps:
      - exec: r1 ip -o link show eth0.10 && ip -o link show eth0.20
      - exec: r2 test "\$(ip -o link show eth0.10 | grep -o 'ether [0-9a-f:]*')" = "\$(ip -o link show eth0 | grep -o 'ether [0-9a-f:]*')"
      - exec: r2 ip -o link show eth0.10 | grep -q 'ether [0-9a-f]'   # the comparison above is not of two empty strings
  - name: routing-and-filter
    steps:
      - wait_until:
          vrrp_master: G is r1
        within: 8s
      - ping: staff student
      - tcp: student staff:22
        expect: open
      - tcp: student staff:80
        expect: closed
      - ping: spy staff
        expect: unreachable
  - name: failover
    steps:
      - kill: r1
      - wait_until:
          vrrp_master: G is r2
        within: 8s
      - ping: staff student
      - tcp: student staff:22
        expect: open
YAML
"$VNET" lab validate "$WORK/lab.yaml" >"$WORK/validate.log" 2>&1 || fail "validate: $(cat "$WORK/validate.log")"
out=$("$VNET" lab test "$WORK/lab.yaml" --junit "$WORK/lab.xml" 2>&1) || { echo "$out" >&2; fail "the router-on-a-stick lab failed its scenarios"; }
echo "$out" | tail -5
contains "passed" echo "$out" || fail "no result line: $out"
pass "routers on one trunk each: eth0.10/eth0.20 exist with the parent's MAC, VRRP and nftables on them work, failover moves both gateways"
echo "1 passed, 0 failed"
