#!/usr/bin/env bash
# keepalived's SMTP_CHECK, DNS_CHECK, UDP_CHECK, PING_CHECK and FILE_CHECK on the load-balancing
# half, one virtual server each on the VIP (ports 81-85) over the lb_common real servers:
#  :81 SMTP_CHECK on r1:2525, a python responder (220, 250, 221; or 554 at the greeting);
#  :82 DNS_CHECK A example.lab on r2:53, dnsmasq (killed: ICMP port unreachable; restarted without
#      the name: an error RCODE; restarted with it: NOERROR);
#  :83 UDP_CHECK on r3:7777 with require_reply PONG (the responder's answer changes to NOPE), and
#      on r1:7778 without require_reply (a silent listener passes; killed: port unreachable);
#  :84 PING_CHECK of r3 (its address removed, then restored), first on a raw socket, then on an
#      ICMP datagram socket once ping_group_range lets root use one;
#  :85 FILE_CHECK: r1 follows a weight-0 track_file (nonzero = out), r2 a weight-2 one (value ×
#      2 added to its weight).
# Asserts: each failure takes exactly its real server out and the recovery brings it back.
# ctest: parallel
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lb_common.bash"
command -v dnsmasq >/dev/null && command -v jq >/dev/null || { echo "SKIP: needs dnsmasq, jq"; exit 77; }
for i in 1 2 3; do start_real $i; done

# SMTP responder on r1:2525: greets with the code in $WORK/smtp_code (220 = healthy).
echo 220 > "$WORK/smtp_code"
ip netns exec $T-r1 python3 - "$WORK/smtp_code" >"$WORK/smtp.log" 2>&1 <<'PY' &
import socket, sys, threading
code_file = sys.argv[1]
srv = socket.create_server(("10.81.1.2", 2525))
def serve(c):
    with c:
        f = c.makefile("rwb")
        code = open(code_file).read().strip()
        f.write(f"{code}-r1.lab ESMTP test\r\n{code} ready\r\n".encode()); f.flush()
        for line in f:
            word = line.split()[0].upper() if line.split() else b""
            if word == b"HELO":
                f.write(b"250 r1.lab\r\n")
            elif word == b"QUIT":
                f.write(b"221 bye\r\n"); f.flush(); return
            else:
                f.write(b"500 what\r\n")
            f.flush()
while True:
    conn, _ = srv.accept()
    threading.Thread(target=serve, args=(conn,), daemon=True).start()
PY
PIDS+=("$!")
wait_for 5 ip netns exec $T-r1 bash -c "exec 3<>/dev/tcp/10.81.1.2/2525" || fail "SMTP responder did not start: $(cat "$WORK/smtp.log")"

DNSPID=
start_dns() {  # start_dns [ARGS]: dnsmasq on r2:53 answering only from its command line
  ip netns exec $T-r2 dnsmasq --keep-in-foreground --no-resolv --no-hosts --bind-interfaces \
    --listen-address=10.81.2.2 --port=53 --user=root --pid-file= --log-facility="$WORK/dns.log" "$@" &
  DNSPID=$!
  PIDS+=("$DNSPID")
  wait_for 5 eval "ip netns exec $T-r2 ss -Hlun 'sport = :53' | grep -q 10.81.2.2" ||
    fail "dnsmasq did not start: $(cat "$WORK/dns.log")"
}
stop_dns() { kill "$DNSPID"; wait_for 5 gone "$DNSPID" || fail "dnsmasq did not stop"; }
start_dns --address=/example.lab/10.9.9.9

# UDP responder on r3:7777 answering the content of $WORK/udp_reply; a silent one on r1:7778.
echo PONG > "$WORK/udp_reply"
ip netns exec $T-r3 python3 -c '
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("10.81.3.2", 7777))
while True:
    data, peer = s.recvfrom(2048)
    if data == b"PING":
        s.sendto(open(sys.argv[1], "rb").read().strip(), peer)
' "$WORK/udp_reply" >"$WORK/udp.log" 2>&1 &
PIDS+=("$!")
QPID=
start_quiet() {
  ip netns exec $T-r1 python3 -c '
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("10.81.1.2", 7778))
while True:
    s.recvfrom(2048)
' >"$WORK/quiet.log" 2>&1 &
  QPID=$!
  PIDS+=("$QPID")
  wait_for 5 eval "ip netns exec $T-r1 ss -Hlun 'sport = :7778' | grep -q 10.81.1.2" ||
    fail "silent UDP listener did not start: $(cat "$WORK/quiet.log")"
}
start_quiet
wait_for 5 eval "ip netns exec $T-r3 ss -Hlun 'sport = :7777' | grep -q 10.81.3.2" ||
  fail "UDP responder did not start: $(cat "$WORK/udp.log")"

echo 0 > "$WORK/maint"
echo 0 > "$WORK/boost"
T1='delay_loop 1
    connect_timeout 1
    retry 0'
cat > "$WORK/k.conf" <<CONF
track_file maint {
  file $WORK/maint
  weight 0
}
track_file boost {
  file $WORK/boost
}
virtual_server $VIP 81 {
  lvs_sched rr
  lb_kind NAT
  protocol TCP
  real_server 10.81.1.2 8000 {
    SMTP_CHECK {
      connect_port 2525
      helo_name director.lab
      $T1
    }
  }
}
virtual_server $VIP 82 {
  lvs_sched rr
  lb_kind NAT
  protocol TCP
  real_server 10.81.2.2 8000 {
    DNS_CHECK {
      connect_port 53
      type A
      name example.lab
      $T1
    }
  }
}
virtual_server $VIP 83 {
  lvs_sched rr
  lb_kind NAT
  protocol TCP
  real_server 10.81.3.2 8000 {
    UDP_CHECK {
      connect_port 7777
      payload 50 49 4e 47
      require_reply 50 4f 4e 47
      min_reply_length 4
      $T1
    }
  }
  real_server 10.81.1.2 8000 {
    UDP_CHECK {
      connect_port 7778
      $T1
    }
  }
}
virtual_server $VIP 84 {
  lvs_sched rr
  lb_kind NAT
  protocol TCP
  real_server 10.81.3.2 8000 {
    PING_CHECK {
      $T1
    }
  }
}
virtual_server $VIP 85 {
  lvs_sched wrr
  lb_kind NAT
  protocol TCP
  real_server 10.81.1.2 8000 {
    FILE_CHECK {
      track_file maint
    }
  }
  real_server 10.81.2.2 8000 {
    weight 1
    FILE_CHECK {
      track_file boost
      weight 2
    }
  }
}
CONF
ip -n $D addr add $VIP/32 dev lo
start_daemon

# vs S (0-based), real R (0-based)
in_tab() { [ "$(show | jq -r ".[$1].reals[$2].in_table")" = true ]; }
out_tab() { [ "$(show | jq -r ".[$1].reals[$2].in_table")" = false ]; }
detail() { show | jq -r ".[$1].reals[$2].checkers[0].last.detail"; }
weight() { show | jq -r ".[$1].reals[$2].table_weight"; }
answers() {  # answers PORT: the page served through the VIP on PORT
  ip netns exec $C curl -s --max-time 2 "http://$VIP:$1/who" || echo failed
}
wait_for 8 eval 'in_tab 0 0 && in_tab 1 0 && in_tab 2 0 && in_tab 2 1 && in_tab 3 0 && in_tab 4 0 && in_tab 4 1' ||
  fail "not every real server in the table: $(show)"
[ "$(answers 81)" = r1 ] && [ "$(answers 82)" = r2 ] && [ "$(answers 84)" = r3 ] ||
  fail "services do not answer through the VIP: $(answers 81) $(answers 82) $(answers 84)"
pass "all five checkers pass: every real server in the table, the VIP answers"

# SMTP_CHECK
echo 554 > "$WORK/smtp_code"
wait_for 6 out_tab 0 0 || fail "SMTP greeting 554 did not remove r1 from :81: $(show)"
ds=$(detail 0 0)
[[ $ds == *"greeting 554"* ]] || fail "SMTP failure detail: $ds"
in_tab 2 1 && in_tab 4 0 || fail "SMTP failure took other services' r1 out: $(show)"
echo 220 > "$WORK/smtp_code"
wait_for 6 in_tab 0 0 || fail "SMTP recovered but r1 not re-added: $(show)"
pass "SMTP_CHECK: greeting 554 removed r1 ($ds), 220 re-added it ($(detail 0 0))"

# DNS_CHECK
stop_dns
wait_for 6 out_tab 1 0 || fail "dnsmasq dead but r2 still in :82: $(show)"
d1=$(detail 1 0)
start_dns  # no --address: the name is unknown, so an error RCODE
wait_for 6 eval '[[ $(detail 1 0) == *rcode* ]]' || fail "no RCODE failure: $(detail 1 0)"
out_tab 1 0 || fail "r2 re-added on an error RCODE: $(show)"
d2=$(detail 1 0)
stop_dns
start_dns --address=/example.lab/10.9.9.9
wait_for 6 in_tab 1 0 || fail "dnsmasq answers NOERROR but r2 not re-added: $(show)"
pass "DNS_CHECK: dnsmasq killed ($d1) and answering '$d2' keep r2 out; NOERROR re-adds it"

# UDP_CHECK with require_reply
echo NOPE > "$WORK/udp_reply"
wait_for 6 out_tab 2 0 || fail "UDP reply NOPE did not remove r3 from :83: $(show)"
[[ $(detail 2 0) == *"reply octet 0"* ]] || fail "UDP mismatch detail: $(detail 2 0)"
in_tab 2 1 || fail "r1's UDP_CHECK failed with r3's: $(show)"
echo PONG > "$WORK/udp_reply"
wait_for 6 in_tab 2 0 || fail "UDP reply PONG again but r3 not re-added: $(show)"
pass "UDP_CHECK require_reply: NOPE removed r3, PONG re-added it"

# UDP_CHECK without require_reply: silence passes, port unreachable fails.
[[ $(detail 2 1) == *"no reply"* ]] || fail "silent UDP_CHECK detail: $(detail 2 1)"
kill "$QPID"
wait_for 6 out_tab 2 1 || fail "UDP listener dead but r1 still in :83: $(show)"
[[ $(detail 2 1) == *"refused"* ]] || fail "port unreachable detail: $(detail 2 1)"
start_quiet
wait_for 6 in_tab 2 1 || fail "UDP listener back but r1 not re-added: $(show)"
pass "UDP_CHECK without require_reply: silence passes, port unreachable removed r1, restart re-added it"

# PING_CHECK: raw socket (root, ping_group_range "1 0" in a new namespace), then datagram socket.
[[ $(detail 3 0) == *"raw socket"* ]] || fail "PING_CHECK not on a raw socket: $(detail 3 0)"
ping_cycle() {
  ip -n $T-r3 addr del 10.81.3.2/24 dev eth0
  wait_for 8 out_tab 3 0 || fail "r3's address gone but r3 still in :84: $(show)"
  ip -n $T-r3 addr add 10.81.3.2/24 dev eth0
  ip -n $T-r3 route replace default via 10.81.3.1
  wait_for 8 in_tab 3 0 || fail "r3's address back but r3 not re-added to :84: $(show)"
}
ping_cycle
pass "PING_CHECK (raw socket): r3's address removed took it out, restored re-added it"
ip netns exec $D sysctl -qw net.ipv4.ping_group_range="0 2147483647"
wait_for 5 eval '[[ $(detail 3 0) == *"ICMP datagram socket"* ]]' ||
  fail "PING_CHECK not on an ICMP datagram socket: $(detail 3 0)"
ping_cycle
pass "PING_CHECK (ICMP datagram socket): removal and re-add again"

# FILE_CHECK
[ "$(weight 4 1)" = 1 ] || fail "boost 0: r2's weight should be 1: $(show)"
echo 1 > "$WORK/maint"
wait_for 4 out_tab 4 0 || fail "maint 1 did not remove r1 from :85: $(show)"
in_tab 4 1 && in_tab 0 0 || fail "maint took others out: $(show)"
echo 0 > "$WORK/maint"
wait_for 4 in_tab 4 0 || fail "maint 0 did not re-add r1: $(show)"
echo 3 > "$WORK/boost"
wait_for 4 eval '[ "$(weight 4 1)" = 7 ]' || fail "boost 3 × weight 2 did not make r2's weight 7: $(show)"
echo -40000 > "$WORK/boost"
wait_for 4 out_tab 4 1 || fail "boost -40000 × 2 (≤ -65536) did not remove r2: $(show)"
echo 0 > "$WORK/boost"
wait_for 4 eval 'in_tab 4 1 && [ "$(weight 4 1)" = 1 ]' || fail "boost 0 did not restore r2 at weight 1: $(show)"
pass "FILE_CHECK: maint 1 removed r1 and 0 re-added it; boost 3 set r2's weight 7, -40000 removed it, 0 restored it"

kill "$DPID"
wait_for 5 gone "$DPID" || fail "daemon did not stop"
pass "daemon stopped"
