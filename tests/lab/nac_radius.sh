#!/usr/bin/env bash
# Switch ports that authenticate (IEEE 802.1X-2010 with RADIUS, RFC 3579/3580) against a real
# FreeRADIUS, with real supplicants (wpa_supplicant's wired driver, EAP-MD5):
#  - the right credentials authorise the port and put it in the VLAN RADIUS assigns (20): the
#    client reaches a host of VLAN 20 and not one of VLAN 10 (the port's own VLAN);
#  - the wrong credentials keep the port unauthorised: 1000 broadcasts from the client reach
#    no other port (the same frames from the authorised client do: the receivers work) and the
#    port's `unauthorized` drop counter counts them;
#  - a client the switch authenticates by MAC address lands in its VLAN (30);
#  - logoff (wpa_cli logoff) and link down (ip link set down) deauthorise;
#  - with the RADIUS server stopped the port stays unauthorised and retransmits are counted and
#    logged.
# Prints the 802.1X authentication time (EAPOL-Start to the port open), p50 and max.
# The switch reaches the RADIUS server by its own namespace's stack: a veth from the switch's
# namespace to the server's (the lab does the same with the switch's management address).
. "$(dirname "$0")/lib.sh"
for b in freeradius wpa_supplicant wpa_cli; do
  command -v $b >/dev/null || { echo "SKIP: $b missing (scripts/deps.sh)"; exit 77; }
done
SECRET=nac-test-secret
ns_add $T-sw
ns_add $T-rad
ip -n $T-sw link add rad type veth peer name eth0 netns $T-rad
ip -n $T-sw addr add 10.99.0.2/24 dev rad
ip -n $T-sw link set rad up
ip -n $T-rad addr add 10.99.0.1/24 dev eth0
ip -n $T-rad link set eth0 up

# FreeRADIUS with a private copy of Debian's configuration: the switch as client, users with
# VLAN assignments (RFC 3580 §3.31), run as root in its namespace with its own run and log dirs.
R=$WORK/raddb
cp -a /etc/freeradius/3.0 "$R"
mkdir -p "$WORK/radrun"
sed -i -e 's/^\(\s*\)\(user\|group\) = freerad/\1#\2 = freerad/' \
  -e "s|^run_dir = .*|run_dir = $WORK/radrun|" -e "s|^logdir = .*|logdir = $WORK/radrun|" \
  "$R/radiusd.conf"
cat > "$R/clients.conf" <<EOF
client switch {
  ipaddr = 10.99.0.2
  secret = $SECRET
  require_message_authenticator = yes
}
EOF
vlan_reply() {
  printf '\tTunnel-Type = VLAN,\n\tTunnel-Medium-Type = IEEE-802,\n\tTunnel-Private-Group-Id = "%s"\n' "$1"
}
{
  echo 'alice Cleartext-Password := "wonderland"'; vlan_reply 20
  echo 'mallory Cleartext-Password := "right-password"'; vlan_reply 20
  # MAC authentication: the switch sends the MAC as user name and password (lower case, no
  # separators).
  echo '020000000d03 Cleartext-Password := "020000000d03"'; vlan_reply 30
} > "$R/mods-config/files/authorize"
start_radius() {
  ip netns exec $T-rad freeradius -f -xx -l "$WORK/radius.log" -d "$R" &
  RADPID=$!
  PIDS+=("$RADPID")
  wait_for 10 contains "Ready to process requests" cat "$WORK/radius.log" \
    || fail "freeradius did not start: $(tail -30 "$WORK/radius.log")"
}
start_radius

# Hosts: good (802.1X, alice), bad (802.1X, mallory with a wrong password), macc (MAC
# authentication) on ports 1-3, all with VLAN 10 configured; h10, h20, h30 on ports 4-6 in VLANs
# 10, 20, 30. One subnet: only VLAN membership decides who reaches whom.
M=$WORK/mgmt
start_switch $T-sw $M
ctl() { "$VNET" ctl "$M" "$@"; }
for v in 10 20 30; do ctl vlan/create $v; done
i=0
for h in good:0b bad:0c macc:0d h10:10 h20:20 h30:30; do
  i=$((i + 1)); name=${h%%:*}; x=${h##*:}
  ns_add $T-$name
  ip -n $T-sw link add p$i type veth peer name eth0 netns $T-$name
  ip -n $T-sw link set p$i up
  ip netns exec $T-$name sysctl -qw net.ipv6.conf.all.disable_ipv6=1
  host_cfg $T-$name eth0 02:00:00:00:$x:0$i 10.9.0.$((16#$x))/24
  ctl port/create $i
done
ctl port/mode 1 access 10; ctl port/mode 2 access 10; ctl port/mode 3 access 10
ctl port/mode 4 access 10; ctl port/mode 5 access 20; ctl port/mode 6 access 30

# Bad input is refused with the reason.
out=$(ctl nac/radius 10.99.0.1 2>&1 || true)
[[ $out == *"secret is missing"* ]] || fail "nac/radius without a secret: $out"
out=$(ctl port/auth 1 dot1x 2>&1 || true)
[[ $out == *"needs a RADIUS server"* ]] || fail "port/auth before nac/radius: $out"
out=$(ctl port/auth 1 kerberos 2>&1 || true)
[[ $out == *"expected off, dot1x"* ]] || fail "port/auth with an unknown method: $out"
pass "a missing secret, a missing server and an unknown method are refused with the reason"

ctl nac/radius 10.99.0.1:1812 $SECRET
ctl port/auth 1 dot1x; ctl port/auth 2 dot1x; ctl port/auth 3 mac
for p in 1 2 3 4 5 6; do ctl port/attach $p afpacket:p$p; done

nac() { ctl nac/show --json | jq -c ".ports[] | select(.port == $1)"; }
# at_least PORT COUNTER N: port PORT's nac/show counter COUNTER is N or more.
at_least() { [ "$(nac "$1" | jq ".counters.$2")" -ge "$3" ]; }
is_auth() { [ "$(nac "$1" | jq -r '"\(.authorized) \(.vlan)"')" = "true $2" ]; }
is_unauth() { [ "$(nac "$1" | jq -r .authorized)" = false ]; }
is_unauth 1 && is_unauth 2 && is_unauth 3 || fail "ports open before anyone authenticated: $(ctl nac/show)"
unreach $T-good 10.9.0.16 || fail "the unauthenticated client reached VLAN 10"
pass "authenticating ports are closed until a client authenticates"

supplicant() { # NAME IDENTITY PASSWORD
  mkdir -p "$WORK/ctrl-$1"
  cat > "$WORK/$1.conf" <<EOF
ctrl_interface=$WORK/ctrl-$1
ap_scan=0
network={
  key_mgmt=IEEE8021X
  eap=MD5
  identity="$2"
  password="$3"
  eapol_flags=0
}
EOF
  ip netns exec $T-$1 wpa_supplicant -t -d -D wired -i eth0 -c "$WORK/$1.conf" -f "$WORK/wpa-$1.log" \
    </dev/null >/dev/null 2>&1 &
  PIDS+=("$!")
}
wpa() { local n=$1; shift; ip netns exec $T-$n wpa_cli -p "$WORK/ctrl-$n" "$@" >/dev/null; }
# Waits for port $1 to open in VLAN $2 (deadline $3 s); prints the time it took in ms.
time_auth() {
  local t0 end
  t0=$(now_ms); end=$((t0 + $3 * 1000))
  until is_auth "$1" "$2"; do
    [ "$(now_ms)" -lt $end ] || return 1
    sleep 0.005
  done
  echo $(($(now_ms) - t0))
}

times=()
supplicant good alice wonderland
t=$(time_auth 1 20 15) \
  || fail "alice was not authorised into VLAN 20: $(ctl nac/show); $(tail -5 "$WORK/radius.log")"
times+=("$t")
reach $T-good 10.9.0.32 || fail "alice's client (VLAN 20) cannot reach h20"
unreach $T-good 10.9.0.16 || fail "alice's client reached h10 (VLAN 10, the port's own)"
[ "$(nac 1 | jq -r .identity)" = alice ] || fail "identity: $(nac 1)"
[ "$(nac 1 | jq -r .supplicant)" = 02:00:00:00:0b:01 ] || fail "supplicant MAC: $(nac 1)"
pass "right credentials: authorised, in VLAN 20 (reaches VLAN 20, not VLAN 10)"

# Logoff, then logon again, 10 times. Two times per run: from `wpa_cli logon` to the port open
# (polled on the console), which includes wpa_supplicant's own start timer (its EAPOL timers tick
# once a second), and the exchange itself, from the supplicant's EAPOL-Start to its EAP-Success
# (the switch opens the port before it sends EAP-Success), from wpa_supplicant's timestamps.
for run in 1 2 3 4 5 6 7 8 9 10; do
  wpa good logoff
  wait_for 5 is_unauth 1 || fail "logoff did not deauthorise port 1: $(nac 1)"
  [ $run = 1 ] && { unreach $T-good 10.9.0.32 || fail "after logoff the client still reaches VLAN 20"; }
  wpa good logon
  t=$(time_auth 1 20 15) || fail "re-authentication $run failed: $(nac 1)"
  times+=("$t")
done
pass "logoff deauthorises (and logon authorises again)"
stats() { # "p50 X ms, max Y ms" of the numbers on stdin
  local sorted n
  sorted=$(sort -n); n=$(wc -l <<< "$sorted")
  echo "p50 $(sed -n "$(((n + 1) / 2))p" <<< "$sorted") ms, max $(tail -1 <<< "$sorted") ms ($n runs: $(echo $sorted))"
}
exchange=$(awk -F': ' '/Control interface command .LOGON/ {armed = 1; start = 0}
  armed && !start && /TX EAPOL: dst=01:80:c2:00:00:03/ {start = $1}
  armed && start && /result=SUCCESS/ {printf "%d\n", ($1 - start) * 1000 + 0.5; armed = 0}' \
  "$WORK/wpa-good.log")
[ "$(wc -l <<< "$exchange")" -ge 10 ] || fail "wpa_supplicant's log has $(wc -l <<< "$exchange") of 10 exchanges"
echo "802.1X authentication, EAPOL-Start to EAP-Success (EAP-MD5, FreeRADIUS -xx): $(stats <<< "$exchange")"
echo "802.1X authentication, wpa_cli logon to port open (console polled): $(printf '%s\n' "${times[@]}" | stats)"
# NAC_KEEP=DIR keeps the logs of the runs (wpa_supplicant -t -d, FreeRADIUS -xx) for a look.
[ -n "${NAC_KEEP:-}" ] && cp "$WORK"/*.log "$NAC_KEEP/"

ip -n $T-good link set eth0 down
wait_for 5 is_unauth 1 || fail "link down did not deauthorise port 1: $(nac 1)"
[ "$(nac 1 | jq -r .state)" = disconnected ] || fail "state after link down: $(nac 1)"
ip -n $T-good link set eth0 up
wait_for 15 is_auth 1 20 || fail "port 1 did not authorise again after link up: $(nac 1)"
pass "link down deauthorises; link up authenticates again"

# Wrong credentials.
supplicant bad mallory wrong-password
wait_for 15 at_least 2 rejects 1 || fail "no reject for mallory: $(nac 2)"
is_unauth 2 || fail "wrong credentials opened port 2: $(nac 2)"
rx_frames() { # NAME: count frames of EtherType 0x88b5 arriving on NAME's eth0 for 3 s
  ip netns exec $T-$1 python3 -c "
import socket, time
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(0x88b5))
s.bind(('eth0', 0)); s.settimeout(0.2); n = 0; end = time.time() + 3
while time.time() < end:
    try: s.recv(2048); n += 1
    except socket.timeout: pass
print(n)" </dev/null > "$WORK/rx-$1.tmp" && mv "$WORK/rx-$1.tmp" "$WORK/rx-$1" &
}
rx_wait() { local h; for h in "$@"; do wait_for 10 test -s "$WORK/rx-$h" || fail "receiver $h did not finish"; done; }
blast() { # NAME: 1000 broadcasts of EtherType 0x88b5, paced (a burst overruns the receivers)
  ip netns exec $T-$1 python3 -c "
import socket, time
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW); s.bind(('eth0', 0))
src = open('/sys/class/net/eth0/address').read().strip().replace(':', '')
f = bytes.fromhex('ffffffffffff' + src + '88b5') + bytes(46)
for _ in range(1000): s.send(f); time.sleep(0.0002)"
}
drops_before=$(ctl port/stats 2 --json | jq '.[0].drops.unauthorized // 0')
rm -f "$WORK"/rx-*
for h in h10 h20 h30 good macc; do rx_frames $h; done
sleep 0.5
blast bad
rx_wait h10 h20 h30 good macc
for h in h10 h20 h30 good macc; do
  [ "$(cat "$WORK/rx-$h")" = 0 ] || fail "$(cat "$WORK/rx-$h") frames from the unauthorised port reached $h"
done
drops=$(($(ctl port/stats 2 --json | jq '.[0].drops.unauthorized // 0') - drops_before))
[ $drops -ge 1000 ] || fail "unauthorized drop counter counted $drops of 1000"
# The control: the same frames from the authorised client reach its VLAN.
rm -f "$WORK"/rx-*; rx_frames h20; sleep 0.5; blast good; rx_wait h20
[ "$(cat "$WORK/rx-h20")" -ge 990 ] || fail "control: only $(cat "$WORK/rx-h20") of alice's 1000 reached h20"
pass "wrong credentials: unauthorised, 0 of 1000 broadcasts crossed, $drops counted as unauthorized (control: $(cat "$WORK/rx-h20") of the authorised client's arrived)"

# MAC authentication: the first frame from the client starts it.
ip netns exec $T-macc ping -c 1 -W 1 10.9.0.48 >/dev/null 2>&1 || true
wait_for 10 is_auth 3 30 || fail "MAC client not authorised into VLAN 30: $(nac 3)"
reach $T-macc 10.9.0.48 || fail "MAC client (VLAN 30) cannot reach h30"
unreach $T-macc 10.9.0.16 || fail "MAC client reached h10"
[ "$(nac 3 | jq -r .method)" = mac ] || fail "method: $(nac 3)"
pass "MAC authentication: authorised into VLAN 30"

# Malformed EAPOL is dropped and counted, and opens nothing.
mal_before=$(nac 2 | jq .counters.eapol_malformed)
ip netns exec $T-bad python3 -c "
import socket
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW); s.bind(('eth0', 0))
src = open('/sys/class/net/eth0/address').read().strip().replace(':', '')
for body in ['00', '0200ffff', '02000005020100', '0300000401ff0004']:
    s.send(bytes.fromhex('0180c2000003' + src + '888e' + body).ljust(60, b'\0'))"
wait_for 3 at_least 2 eapol_malformed $((mal_before + 2)) \
  || fail "malformed EAPOL not counted: $(nac 2)"
is_unauth 2 || fail "malformed EAPOL opened port 2"
pass "malformed EAPOL dropped and counted"

# The RADIUS server stops: a new authentication is retried, counted, and opens nothing.
kill $RADPID; wait_for 5 gone $RADPID
wpa good logoff
wait_for 5 is_unauth 1 || fail "logoff did not deauthorise port 1"
wpa good logon
wait_for 10 at_least 1 radius_retransmits 1 \
  || fail "no RADIUS retransmit counted: $(nac 1)"
is_unauth 1 || fail "port 1 opened without a RADIUS server"
unreach $T-good 10.9.0.32 || fail "client crossed while the server was down"
grep -q "port 1: RADIUS server 10.99.0.1:1812 did not answer within 3s, request sent again" \
  "$WORK/sw.log" || fail "the retransmission is not logged: $(tail -5 "$WORK/sw.log")"
pass "RADIUS server down: port stays unauthorised, $(nac 1 | jq .counters.radius_retransmits) retransmits counted and logged"
kill -0 "$(cat "$WORK/sw.pid")" || fail "the switch died"
echo "9 passed, 0 failed"
