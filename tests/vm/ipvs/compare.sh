# Guest half of tests/lab/lb_ipvs_vm.sh (the test puts it on the VM's config disk after the
# keepalived.conf at /tmp/lb.conf): Debian's keepalived --check programs IPVS from the file, its
# `ipvsadm` listings are kept and the table cleared; then vnet vrrp --check does the same. Each
# listing is printed between VNET-LIST lines, then one VNET-RESULT line per listing: same|differ.
PATH=/bin:/sbin:/usr/sbin:/usr/bin
export PATH
# snapshot NAME: the three listings once they hold still (the same twice, 1 s apart; 30 s at most)
snapshot() {
  i=0
  : >/tmp/prev
  while [ $i -lt 30 ]; do
    { ipvsadm -Ln; echo; ipvsadm -Sn; echo; ipvsadm -Ln --nosort; } >/tmp/cur 2>&1
    if [ "$(ipvsadm -Sn | wc -l)" -gt 0 ] && cmp -s /tmp/cur /tmp/prev; then break; fi
    cp /tmp/cur /tmp/prev
    sleep 1
    i=$((i + 1))
  done
  ipvsadm -Ln >/tmp/$1.L 2>&1
  ipvsadm -Sn >/tmp/$1.S 2>&1
  ipvsadm -Ln --nosort >/tmp/$1.N 2>&1
  for k in L S N; do
    echo "VNET-LIST $1.$k"
    cat /tmp/$1.$k
  done
  echo "VNET-LIST end"
}
# stop PID: SIGTERM, then wait for it (10 s)
stop() {
  kill "$1"
  i=0
  while kill -0 "$1" 2>/dev/null && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
}
[ -e /proc/net/ip_vs ] || echo "VNET-RESULT ipvs missing"
mkdir -p /run/keepalived
keepalived -n -l -D -C -f /tmp/lb.conf -p /run/keepalived.pid -c /run/checkers.pid \
  >/tmp/ka.log 2>&1 &
ka=$!
snapshot ka
stop $ka
echo "VNET-LIST ka.log"
cat /tmp/ka.log
echo "VNET-LIST end"
ipvsadm -C
vnet vrrp -C -f /tmp/lb.conf --datapath ipvs --log /tmp/vnet.log -M /tmp/vnet.sock &
vn=$!
snapshot vnet
# Counters: 5 requests through 10.79.0.106:80 to the guest's own httpd, then lb/show --json and
# ipvsadm's view of the same service.
mkdir -p /tmp/www
echo hello >/tmp/www/index.html
httpd -p 10.79.0.1:8080 -h /tmp/www
# The VIP on lo: a local client's connection then passes IPVS's LOCAL_OUT hook. (busybox's
# static wget crashes in this guest: nc sends the request.)
ip addr add 10.79.0.106/32 dev lo
ok=0
for i in 1 2 3 4 5; do
  r=$(printf 'GET / HTTP/1.0\r\n\r\n' | nc -w 5 10.79.0.106 80 | tail -1)
  [ "$r" = hello ] && ok=$((ok + 1))
done
echo "VNET-RESULT requests $ok"
# IPVS sums its per-CPU counters into what it reports every 2 s (its rate estimator, a fixed
# period): wait until that sum has the 5 connections (10 s at most), then one period more so the
# last packets are in it too; the traffic is over, so the counters then hold still.
i=0
while [ "$(ipvsadm -Ln --stats --exact -t 10.79.0.106:80 | awk '$1 == "->" && $2 == "10.79.0.1:8080" { print $3 }')" != "$ok" ] &&
  [ $i -lt 100 ]; do
  sleep 0.1
  i=$((i + 1))
done
sleep 2.2
echo "VNET-LIST lbshow"
vnet ctl /tmp/vnet.sock lb/show --json
echo "VNET-LIST stats"
ipvsadm -Ln --stats --exact -t 10.79.0.106:80
echo "VNET-LIST conns"
ipvsadm -Ln -t 10.79.0.106:80
echo "VNET-LIST end"
stop $vn
# As keepalived, the daemon takes its services away when it stops.
echo "VNET-RESULT left $(ipvsadm -Sn | wc -l)"
echo "VNET-LIST vnet.log"
cat /tmp/vnet.log
echo "VNET-LIST end"
for k in L S N; do
  if [ -s /tmp/ka.$k ] && cmp -s /tmp/ka.$k /tmp/vnet.$k; then
    echo "VNET-RESULT $k same"
  else
    echo "VNET-RESULT $k differ"
    diff /tmp/ka.$k /tmp/vnet.$k
  fi
done
