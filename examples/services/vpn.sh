#!/bin/sh
# The OpenVPN server of examples/services.yaml, run by the node `vpn` (its `commands`): a throwaway
# PKI (a CA, the server's and the client's certificate, ECDSA P-256, valid two days) made in
# $VNET_RUN_DIR/pki at every start, where the node `remote` picks up its own; IPv4 forwarding in
# the node's namespace, with an nftables table that lets tunnel clients reach the staff VLAN
# (10.0.20.0/24) and nothing else, masqueraded to the server's staff address; then Debian's
# openvpn in the foreground, serving 10.8.0.0/24 on UDP 1194 of the server's outside address
# and pushing the route to the staff VLAN. Logs: $VNET_RUN_DIR/openvpn.log.
set -e
P=$VNET_RUN_DIR/pki
rm -rf "$P"
mkdir -m 700 "$P.tmp"
cd "$P.tmp"
key() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1.key" 2>/dev/null; }
key ca
openssl req -x509 -new -key ca.key -out ca.crt -days 2 -subj /CN=services-vpn-ca
for n in server client; do
  key $n
  openssl req -new -key $n.key -out $n.csr -subj /CN=$n
  [ $n = server ] && usage=serverAuth || usage=clientAuth
  printf 'basicConstraints=CA:FALSE\nkeyUsage=digitalSignature\nextendedKeyUsage=%s\n' $usage > $n.ext
  openssl x509 -req -in $n.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 2 -extfile $n.ext \
    -out $n.crt 2>/dev/null
done
cd /
# Complete or absent: the client waits for the directory.
mv "$P.tmp" "$P"
sysctl -q -w net.ipv4.ip_forward=1
nft -f - <<NFT
table inet vpn {
  chain forward {
    type filter hook forward priority filter; policy drop;
    iifname "tun0" oifname "eth0" ip daddr 10.0.20.0/24 accept
    iifname "eth0" oifname "tun0" ct state established,related accept
  }
  chain postrouting {
    type nat hook postrouting priority srcnat; policy accept;
    iifname "tun0" oifname "eth0" masquerade
  }
}
NFT
exec openvpn --mode server --tls-server --dev tun0 --topology subnet --proto udp \
  --local 198.51.100.10 --port 1194 --server 10.8.0.0 255.255.255.0 \
  --ca "$P/ca.crt" --cert "$P/server.crt" --key "$P/server.key" --dh none \
  --push "route 10.0.20.0 255.255.255.0" --keepalive 2 10 --verb 3 --log "$VNET_RUN_DIR/openvpn.log"
