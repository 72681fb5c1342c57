#!/bin/sh
# busybox udhcpc's event script for the seminar's DHCP clients. It touches only the node's
# interface and routes (the namespace's), and writes the DNS servers it was given to
# /etc/resolv.conf — the node's own (docs/topology.md "Nodes as machines"), not the host's.
case "$1" in
  deconfig)
    ip -4 addr flush dev "$interface"
    ip link set "$interface" up
    ;;
  bound|renew)
    ip -4 addr flush dev "$interface"
    ip addr add "$ip/${mask:-24}" dev "$interface"
    [ -n "$router" ] && ip route replace default via "${router%% *}" dev "$interface"
    : >/etc/resolv.conf
    for d in $dns; do echo "nameserver $d" >>/etc/resolv.conf; done
    ;;
esac
exit 0
