#!/bin/sh
# The OpenVPN client of examples/services.yaml, run by the node `remote` (its `commands`): waits
# (up to 30 s) for the certificates the server node `vpn` makes at its start, then runs Debian's
# openvpn in the foreground toward the server's outside address. Besides the pushed route to the
# staff VLAN it routes the office VLAN and the outside (100.64.0.0/10) into the tunnel too, as a
# client trying more than it is allowed would: the server's rules must drop those.
# Logs: $VNET_RUN_DIR/openvpn.log.
set -e
P=$VNET_RUN_DIR/../vpn.run/pki
i=0
until [ -s "$P/client.crt" ]; do
  i=$((i + 1))
  [ $i -le 300 ] || { echo "no certificates from the vpn node in $P" >&2; exit 1; }
  sleep 0.1
done
exec openvpn --client --dev tun0 --proto udp --remote 198.51.100.10 1194 --nobind \
  --ca "$P/ca.crt" --cert "$P/client.crt" --key "$P/client.key" --remote-cert-tls server \
  --route 10.0.10.0 255.255.255.0 --route 100.64.0.0 255.192.0.0 \
  --connect-retry 1 1 --verb 3 --log "$VNET_RUN_DIR/openvpn.log"
