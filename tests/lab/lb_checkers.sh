#!/usr/bin/env bash
# keepalived's SSL_GET and MISC_CHECK (misc_dynamic) on the load-balancing half: three real
# servers serve plain HTTP on 8000 (the service); r1 and r2 are checked by SSL_GET on a TLS
# server beside it (8443, a self-signed certificate, as keepalived does not verify it), r1 with a
# digest, r2 with a virtualhost sent as SNI; r3 by a MISC_CHECK whose exit code sets its weight.
# Asserts: all in the table, r3 at weight exit-2 and wrr spreading by it; r1's page changing
# (digest differs) and r2's TLS server dying each take only that server out, within the bound, and
# their return brings them back; MISC_CHECK exit 1 takes r3 out, exit 0 restores its weight; a
# service whose live weight falls below its quorum is answered by its sorry server alone.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lb_common.bash"
command -v openssl >/dev/null || { echo "SKIP: needs openssl"; exit 77; }
for i in 1 2 3; do start_real $i; done
openssl req -x509 -newkey rsa:2048 -nodes -subj /CN=lab -days 1 -keyout "$WORK/key.pem" \
  -out "$WORK/cert.pem" > "$WORK/openssl.log" 2>&1 || fail "no certificate: $(cat "$WORK/openssl.log")"
TPID=()
start_tls() {  # start_tls I: r$I's TLS server on 8443 serving $WORK/tls$I, SNI names logged
  mkdir -p "$WORK/tls$1"
  ip netns exec $T-r$1 python3 - "10.81.$1.2" "$WORK/tls$1" "$WORK" "$WORK/sni$1.log" \
    >"$WORK/tls$1.log" 2>&1 <<'PY' &
import http.server, os, ssl, sys
addr, root, work, sni = sys.argv[1:5]
os.chdir(root)
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(os.path.join(work, "cert.pem"), os.path.join(work, "key.pem"))
ctx.sni_callback = lambda s, name, c: open(sni, "a").write(f"{name}\n") and None
srv = http.server.ThreadingHTTPServer((addr, 8443), http.server.SimpleHTTPRequestHandler)
srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
srv.serve_forever()
PY
  TPID[$1]=$!
  PIDS+=("$!")
  wait_for 10 ip netns exec $T-r$1 bash -c "exec 3<>/dev/tcp/10.81.$1.2/8443" ||
    fail "r$1 TLS did not start: $(cat "$WORK/tls$1.log"; ls -l "$WORK"/*.pem 2>&1)"
}
for i in 1 2; do mkdir -p "$WORK/tls$i" && echo r$i > "$WORK/tls$i/who"; done
start_tls 1
start_tls 2
echo 5 > "$WORK/w3"  # misc_dynamic: exit 5 → weight 3
cat > "$WORK/k.conf" <<CONF
virtual_server 10.80.0.100 80 {
  delay_loop 1
  lvs_sched wrr
  lb_kind NAT
  protocol TCP
  real_server 10.81.1.2 8000 {
    weight 1
    SSL_GET {
      url {
        path /who
        digest $(printf 'r1\n' | md5sum | cut -d' ' -f1)
      }
      connect_port 8443
      connect_timeout 1
      retry 1
      delay_before_retry 1
    }
  }
  real_server 10.81.2.2 8000 {
    weight 1
    SSL_GET {
      url {
        path /who
        status_code 200
      }
      virtualhost r2.example
      connect_port 8443
      connect_timeout 1
      retry 1
      delay_before_retry 1
    }
  }
  real_server 10.81.3.2 8000 {
    weight 1
    MISC_CHECK {
      misc_path "/bin/sh -c 'exit \$(cat $WORK/w3)'"
      misc_timeout 2
      misc_dynamic
    }
  }
}
CONF
# Quorum: a second service (:81) over r1 and r2 (weight 1 each, TCP_CHECK) needs a live weight
# of 2; below it, the sorry server (r3) answers alone.
cat >> "$WORK/k.conf" <<CONF
virtual_server 10.80.0.100 81 {
  delay_loop 1
  lvs_sched rr
  lb_kind NAT
  protocol TCP
  quorum 2
  sorry_server 10.81.3.2 8000
  real_server 10.81.1.2 8000 {
    TCP_CHECK {
      connect_timeout 1
    }
  }
  real_server 10.81.2.2 8000 {
    TCP_CHECK {
      connect_timeout 1
    }
  }
}
CONF
ip -n $D addr add 10.80.0.100/32 dev lo
start_daemon
wait_for 8 all_in || fail "real servers not in the table: $(show)"
tw3() { show | jq -r '.[0].reals[2].table_weight'; }
wait_for 5 eval '[ "$(tw3)" = 3 ]' || fail "MISC_CHECK exit 5 did not set weight 3: $(show)"
# r2 is up from the start (no alpha): its first SSL_GET may still be on its way.
wait_for 5 grep -qx r2.example "$WORK/sni2.log" || fail "SSL_GET did not send the virtualhost as SNI"
read -r a b c f <<<"$(spread 25)"
echo "wrr 1:1:3 (r3 weight from MISC_CHECK) spread: r1=$a r2=$b r3=$c failed=$f"
[ "$f" = 0 ] && near "$a" 5 && near "$b" 5 && near "$c" 15 || fail "spread $a/$b/$c failed $f"
pass "SSL_GET (digest, SNI r2.example) and MISC_CHECK misc_dynamic: in the table, r3 at weight 3, spread $a/$b/$c"

# Bound: delay_loop 1 + connect_timeout 1 × 2 + delay_before_retry 1 = 4 s, + 1 s slack.
removed_within() {  # removed_within I: seconds until r$I leaves the table (fails past 5 s)
  local t0; t0=$(date +%s%N)
  wait_for 5 eval "! in_table $1" || return 1
  echo $(( ($(date +%s%N) - t0) / 1000000 ))
}
echo changed > "$WORK/tls1/who"
ms=$(removed_within 1) || fail "r1 with a changed page not removed: $(show)"
detail=$(show | jq -r '.[0].reals[0].checkers[0].last.detail')
[[ $detail == *digest* ]] || fail "r1's failure is not the digest: $detail"
in_table 2 && in_table 3 || fail "others left the table: $(show)"
echo r1 > "$WORK/tls1/who"
wait_for 6 in_table 1 || fail "r1 not re-added: $(show)"
pass "r1's page changed: removed in ${ms} ms ($detail), re-added when restored"

kill "${TPID[2]}"
ms=$(removed_within 2) || fail "r2 with its TLS server dead not removed: $(show)"
in_table 1 && in_table 3 || fail "others left the table: $(show)"
start_tls 2
wait_for 6 in_table 2 || fail "r2 not re-added: $(show)"
pass "r2's TLS server killed: removed in ${ms} ms, re-added when it came back"

echo 1 > "$WORK/w3"
wait_for 5 eval '! in_table 3' || fail "MISC_CHECK exit 1 did not take r3 out: $(show)"
echo 0 > "$WORK/w3"
wait_for 5 eval '[ "$(tw3)" = 1 ]' || fail "MISC_CHECK exit 0 did not restore weight 1: $(show)"
pass "MISC_CHECK: exit 1 took r3 out, exit 0 brought it back at its configured weight"

quorum81() { show | jq -r '.[1].quorum_up'; }
answers81() {  # answers81 N: who answered N requests to :81, sorted and counted
  for _ in $(seq "$1"); do ip netns exec $C curl -s --max-time 2 http://10.80.0.100:81/who || echo failed; done | sort | uniq -c | awk '{printf "%s=%s ", $2, $1}'
}
[ "$(quorum81)" = true ] || fail ":81 quorum not up: $(show)"
got=$(answers81 6)
[[ $got != *r3* && $got != *failed* ]] || fail ":81 with quorum up answered $got"
kill "${RPID[1]}"
wait_for 6 eval '[ "$(quorum81)" = false ]' || fail ":81 quorum not lost with r1 dead: $(show)"
got=$(answers81 6)
[ "$got" = "r3=6 " ] || fail ":81 below quorum answered $got, the sorry server alone should"
start_real 1
wait_for 6 eval '[ "$(quorum81)" = true ]' || fail ":81 quorum not back: $(show)"
got2=$(answers81 6)
[[ $got2 != *r3* && $got2 != *failed* ]] || fail ":81 after quorum came back answered $got2"
pass "quorum 2 lost with r1 dead: the sorry server answered ($got); back: $got2"

kill "$DPID"
wait_for 5 gone "$DPID" || fail "daemon did not stop"
pass "daemon stopped"
