#!/bin/sh
# busybox udhcpc's event script for the seminar's DHCP clients. It touches only the node's
# interface and routes (the namespace's), and writes the DNS servers it was given to
# $VNET_RUN_DIR/resolv.conf instead of /etc/resolv.conf: the node shares the host's file system.
case "$1" in
  deconfig)
    ip -4 addr flush dev "$interface"
    ip link set "$interface" up
    ;;
  bound|renew)
    ip -4 addr flush dev "$interface"
    ip addr add "$ip/${mask:-24}" dev "$interface"
    [ -n "$router" ] && ip route replace default via "${router%% *}" dev "$interface"
    : >"$VNET_RUN_DIR/resolv.conf"
    for d in $dns; do echo "nameserver $d" >>"$VNET_RUN_DIR/resolv.conf"; done
    ;;
esac
exit 0
