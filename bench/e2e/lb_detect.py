#!/usr/bin/env python3
"""Helpers of bench/e2e/lb-detect.sh (run inside its namespaces; see that script).

  serve ADDR PORT NAME      a real server: answers every connection with a fixed HTTP/1.0
                            response whose body is NAME, then closes. Prints "ready <epoch s>"
                            on stdout once it listens.
  detect ARGS...            the failure-detection trials (fault, removal, recovery, re-add)
  rate SECS CONC TARGET...  new-connection rate: CONC parallel loops of connect, GET, read to
                            EOF, close, for SECS seconds; TARGET = ADDR:PORT (several = round
                            robin by the client). Prints "<conn/s> <errors>".
"""
import asyncio
import json
import random
import re
import socket
import statistics
import subprocess
import sys
import time


# ------------------------------------------------------------------ real server
def serve(addr, port, name):
    body = f"{name}\n".encode()
    resp = b"HTTP/1.0 200 OK\r\nContent-Length: %d\r\nConnection: close\r\n\r\n" % len(body) + body

    async def handle(reader, writer):
        try:
            await reader.readuntil(b"\r\n\r\n")
            writer.write(resp)
            await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError, asyncio.LimitOverrunError):
            pass  # a health check: connect and close
        finally:
            writer.close()

    async def main():
        srv = await asyncio.start_server(handle, addr, int(port), backlog=1024, reuse_address=True)
        print(f"ready {time.time():.6f}", flush=True)
        async with srv:
            await srv.serve_forever()

    asyncio.run(main())


# ------------------------------------------------------------------ rate client
def rate(secs, conc, targets):
    secs, conc = float(secs), int(conc)
    tgts = [(t.rsplit(":", 1)[0], int(t.rsplit(":", 1)[1])) for t in targets]
    req = b"GET /who HTTP/1.0\r\n\r\n"
    done = errors = 0
    nxt = 0

    async def loop(end):
        nonlocal done, errors, nxt
        while time.monotonic() < end:
            host, port = tgts[nxt % len(tgts)]
            nxt += 1
            try:
                r, w = await asyncio.wait_for(asyncio.open_connection(host, port), 2)
                w.write(req)
                data = await asyncio.wait_for(r.read(), 2)
                w.close()
                if data.startswith(b"HTTP/1.0 200"):
                    done += 1
                else:
                    errors += 1
            except (OSError, asyncio.TimeoutError):
                errors += 1

    async def main():
        t0 = time.monotonic()
        await asyncio.gather(*(loop(t0 + secs) for _ in range(conc)))
        return time.monotonic() - t0

    elapsed = asyncio.run(main())
    print(f"{done / elapsed:.0f} {errors}")


# ------------------------------------------------------------------ state readers
class VnetConsole:
    """vnet's console protocol (src/console/console.hh): one line, a DATA block, a status line."""

    def __init__(self, path):
        self.s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.s.connect(path)
        self.buf = b""

    def run(self, cmd):
        self.s.sendall(cmd.encode() + b"\n")
        begin = b"0000 DATA END WITH '.'\n"
        while True:
            b = self.buf.find(begin)
            if b >= 0:
                e = self.buf.find(b"\n.\n", b)
                if e >= 0:
                    m = re.compile(rb"(^|\n)(1\d\d\d)[^\n]*\n").search(self.buf, e + 2)
                    if m:
                        data = self.buf[b + len(begin):e + 1]
                        self.buf = self.buf[m.end():]
                        if m.group(2) != b"1000":
                            raise RuntimeError(f"vnet console: {m.group(0)!r}")
                        return data.decode()
            chunk = self.s.recv(65536)
            if not chunk:
                raise RuntimeError("vnet console closed")
            self.buf += chunk


def vnet_in_table(con, real, ages=None):
    """True when REAL (ADDR:PORT) is in the director's table (what nftables forwards to). AGES,
    a list, gets the age in ms of its checker's last outcome (lb/show `last.age_ms`)."""
    for svc in json.loads(con.run("lb/show --json")):
        for r in svc["reals"]:
            if r["address"] == real:
                if ages is not None:
                    last = r["checkers"][0]["last"] if r["checkers"] else None
                    ages.append(None if last is None else last["age_ms"])
                return bool(r["in_table"])
    raise RuntimeError(f"{real} not in lb/show")


def haproxy_up(sock_path, backend, server):
    """True unless HAProxy's `show stat` says the server is DOWN (it sends nothing to it then)."""
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(sock_path)
    s.sendall(b"show stat\n")
    out = b""
    while True:
        chunk = s.recv(65536)
        if not chunk:
            break
        out += chunk
    s.close()
    lines = out.decode().splitlines()
    hdr = lines[0].lstrip("# ").split(",")
    ip, sv, st = hdr.index("pxname"), hdr.index("svname"), hdr.index("status")
    for line in lines[1:]:
        f = line.split(",")
        if len(f) > st and f[ip] == backend and f[sv] == server:
            return not f[st].startswith("DOWN")
    raise RuntimeError(f"{backend}/{server} not in show stat")


class KeepalivedLog:
    """keepalived's log in the VM (a file QEMU appends the guest's virtio console to): whether
    REAL (ADDR:PORT) is in its IPVS table, from its last "Removing service [ADDR]:tcp:PORT" /
    "Adding service …" line (check/ipwrapper.c; "Disabling"/"Enabling" with inhibit_on_failure).
    In the table until a line says otherwise, as keepalived starts with every real server up."""

    def __init__(self, path, real):
        addr, port = real.rsplit(":", 1)
        self.f = open(path, "rb")
        self.buf = b""
        self.up = True
        self.re = re.compile(r"(Removing|Disabling|Adding|Enabling) service \[%s\]:tcp:%s " %
                             (re.escape(addr), port))

    def __call__(self):
        data = self.f.read()
        if data:
            lines = (self.buf + data).split(b"\n")
            self.buf = lines.pop()
            for line in lines:
                m = self.re.search(line.decode(errors="replace"))
                if m:
                    self.up = m.group(1) in ("Adding", "Enabling")
        return self.up


# ------------------------------------------------------------------ detection trials
def detect(a):
    """a: dict of the options below (from argv key=value)."""
    D, C, R, B = (float(a[k]) for k in ("D", "C", "R", "B"))
    R = int(R)
    trials, poll = int(a["trials"]), 0.010
    ns, dev, gw = a["ns"], "eth0", a["gw"]
    real_addr, real_port, name = a["addr"], a["port"], a["name"]
    real = f"{real_addr}:{real_port}"
    vcon = VnetConsole(a["vsock"])
    rnd = random.Random(int(a.get("seed", "1")))
    server = {"p": None}

    ages = []

    def vnet_up():
        return vnet_in_table(vcon, real, ages)

    def ha_up():
        return haproxy_up(a["hsock"], "be", name)

    impls = {"vnet": vnet_up, "haproxy": ha_up}
    if a.get("kaevents"):
        impls["keepalived-vm"] = KeepalivedLog(a["kaevents"], real)

    def start_server():
        p = subprocess.Popen(["ip", "netns", "exec", ns, sys.executable, __file__, "serve",
                              real_addr, real_port, name], stdout=subprocess.PIPE, text=True)
        line = p.stdout.readline().split()
        if not line or line[0] != "ready":
            raise RuntimeError("real server did not start")
        server["p"] = p
        with open(a["pidfile"], "w") as f:
            f.write(str(p.pid))
        return float(line[1])

    def stop_server():
        t = time.time()
        server["p"].kill()
        server["p"].wait()
        return t

    def link(state):
        t = time.time()
        subprocess.run(["ip", "-n", ns, "link", "set", dev, state], check=True)
        if state == "up":  # the kernel dropped the default route with the carrier
            subprocess.run(["ip", "-n", ns, "route", "replace", "default", "via", gw], check=True)
        return t

    def check_nft():
        """lb/show's in_table agrees with the nftables table vnet wrote (after the timed part)."""
        out = subprocess.run(["ip", "netns", "exec", a["dirns"], "nft", "list", "table", "ip",
                              "vnet_lb"], check=True, capture_output=True, text=True).stdout
        want = vnet_up()
        if (real_addr in out) != want:
            raise RuntimeError(f"nftables table vnet_lb {'lacks' if want else 'still has'} "
                               f"{real_addr}:\n{out}")

    def wait_all(want, t0, limit):
        """Poll every 10 ms until every implementation shows WANT; seconds after t0 each (None:
        not within limit seconds)."""
        got = {}
        while not all(k in got for k in impls):
            now = time.time()
            for k, f in impls.items():
                if k not in got and f() == want:
                    got[k] = time.time() - t0
                    if k == "vnet":
                        got["vnet_lag"] = ages[-1]
            if now - t0 > limit:
                break
            time.sleep(max(0.0, poll - (time.time() - now)))
        return {k: got.get(k) for k in list(impls) + ["vnet_lag"]}

    # Bounds (seconds); see lb-detect.sh's header for the derivation.
    bounds = {
        "link": {"remove": D + (R + 1) * C + R * B, "readd": C + max(D, B)},
        "stop": {"remove": D + R * B, "readd": max(D, B)},
    }
    start_server()
    results, lags = [], []
    for mode in a["modes"].split(","):
        for t in range(trials):
            w = wait_all(True, time.time(), 30)
            if any(w[k] is None for k in impls):
                raise RuntimeError(f"{real} not up everywhere before trial: {w}")
            # Spread the fault over the check cycle (the phase decides where in [D, bound] a
            # removal lands): a random pause in [0, D + C).
            time.sleep(rnd.uniform(0, D + C))
            t0 = link("down") if mode == "link" else stop_server()
            rem = wait_all(False, t0, bounds[mode]["remove"] + 5)
            check_nft()
            time.sleep(rnd.uniform(0, D))
            t1 = link("up") if mode == "link" else start_server()
            add = wait_all(True, t1, bounds[mode]["readd"] + 5)
            check_nft()
            for k in impls:
                results.append({"impl": k, "mode": mode, "trial": t, "remove": rem[k],
                                "readd": add[k]})
            lags.append({"mode": mode, "remove": rem["vnet_lag"], "readd": add["vnet_lag"]})
            print(f"# {mode} trial {t + 1}/{trials}: " + "  ".join(
                f"{k} remove {fmt(rem[k])} re-add {fmt(add[k])}" for k in impls),
                file=sys.stderr, flush=True)
    json.dump({"bounds": bounds, "results": results, "vnet_lag_ms": lags}, sys.stdout)


def fmt(v):
    return "miss" if v is None else f"{v * 1000:.0f}ms"


def table(path, slack_ms):
    """The markdown table of a detect run's JSON."""
    d = json.load(open(path))
    slack = float(slack_ms) / 1000
    modes = {"link": "link down/up (silent, connect times out)",
             "stop": "server killed/restarted (refused, fast fail)"}
    print("| failure | impl | removal min/med/max (ms) | bound | re-add min/med/max (ms) | bound "
          f"| all within bound + {slack_ms} ms |")
    print("|---|---|---|---|---|---|---|")
    seen = []
    for r in d["results"]:
        if (r["mode"], r["impl"]) not in seen:
            seen.append((r["mode"], r["impl"]))
    for mode, impl in seen:
        rs = [r for r in d["results"] if r["mode"] == mode and r["impl"] == impl]
        b = d["bounds"][mode]
        cells, ok = [], True
        for k in ("remove", "readd"):
            v = [r[k] for r in rs]
            if None in v:
                ok = False
                cells.append(f"{sum(x is None for x in v)} of {len(v)} missed")
            else:
                ok = ok and max(v) <= b[k if k == "remove" else "readd"] + slack
                cells.append("%.0f / %.0f / %.0f" % (min(v) * 1000, statistics.median(v) * 1000,
                                                     max(v) * 1000))
        print(f"| {modes[mode]} | {impl} | {cells[0]} | {b['remove'] * 1000:.0f} | {cells[1]} "
              f"| {b['readd'] * 1000:.0f} | {'yes' if ok else 'NO'} ({len(rs)} trials) |")
    # Per trial pairs: which one was faster on the same fault.
    names = {"haproxy": "HAProxy", "keepalived-vm": "keepalived (VM)"}
    for other in [i for i in names if any(i == x for _, x in seen)]:
        for mode in dict.fromkeys(m for m, _ in seen):
            for k in ("remove", "readd"):
                v = {i: [r[k] for r in d["results"] if r["mode"] == mode and r["impl"] == i]
                     for i in ("vnet", other)}
                pairs = [(x, y) for x, y in zip(v["vnet"], v[other])
                         if x is not None and y is not None]
                slower = sum(x > y for x, y in pairs)
                diff = sorted((x - y) * 1000 for x, y in pairs)
                spread = (f"; vnet − {names[other]} per fault {diff[0]:+.0f} / "
                          f"{statistics.median(diff):+.0f} / {diff[-1]:+.0f} ms (min/med/max)"
                          ) if diff else ""
                print(f"- {mode} {k}: vnet later than {names[other]} on the same fault in "
                      f"{slower} of {len(pairs)} trials; medians vnet {med(v['vnet'])} ms, "
                      f"{names[other]} {med(v[other])} ms{spread}")
    lag_line(d)


def lag_line(d):
    """vnet's own reaction time: the age of the deciding check's outcome at the poll that saw
    the table change (includes up to one 10 ms poll interval and the lb/show round trip)."""
    for mode in dict.fromkeys(x["mode"] for x in d.get("vnet_lag_ms", [])):
        for k in ("remove", "readd"):
            v = sorted(x[k] for x in d["vnet_lag_ms"] if x["mode"] == mode and x[k] is not None)
            if v:
                print(f"- {mode} {k}: vnet's deciding check result → table change seen: "
                      f"{v[0]} / {statistics.median(v):.0f} / {v[-1]} ms (min/med/max, incl. the "
                      "10 ms poll)")


def med(v):
    v = [x for x in v if x is not None]
    return f"{statistics.median(v) * 1000:.0f}" if v else "-"


if __name__ == "__main__":
    cmd = sys.argv[1]
    if cmd == "serve":
        serve(*sys.argv[2:5])
    elif cmd == "rate":
        rate(sys.argv[2], sys.argv[3], sys.argv[4:])
    elif cmd == "detect":
        detect(dict(x.split("=", 1) for x in sys.argv[2:]))
    elif cmd == "table":
        table(sys.argv[2], sys.argv[3])
    else:
        sys.exit(f"unknown command {cmd}")
