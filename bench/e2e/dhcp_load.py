#!/usr/bin/env python3
"""DHCP load generator: N clients with distinct MACs run DISCOVER -> OFFER -> REQUEST -> ACK
(RFC 2131 section 3.1) over one AF_PACKET socket on an interface, at most WINDOW exchanges in
flight. Prints one JSON object: clients, leased, naks, failed, and the exchange time (first
DISCOVER sent to ACK received) p50/p90/p99/max in ms, and the wall time of the whole run.

A client retransmits its last message after RETRY seconds without an answer, up to TRIES times
in all, then counts as failed. Replies must be broadcast (the BROADCAST flag is set), so the
interface does not need to own the clients' MACs. Used by bench/e2e/dhcp-1000.sh.
"""
import argparse, json, os, random, select, socket, struct, time

ETH_P_ALL = 0x0003
COOKIE = b"\x63\x82\x53\x63"


def csum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    s = (s >> 16) + (s & 0xFFFF)
    s += s >> 16
    return ~s & 0xFFFF


def frame(mac, xid, options):
    bootp = struct.pack("!BBBBIHH4s4s4s4s16s64s128s", 1, 1, 6, 0, xid, 0, 0x8000, b"\0" * 4,
                        b"\0" * 4, b"\0" * 4, b"\0" * 4, mac + b"\0" * 10, b"", b"")
    payload = bootp + COOKIE + options + b"\xff"
    udp = struct.pack("!HHHH", 68, 67, 8 + len(payload), 0) + payload  # checksum 0: none (IPv4)
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), 0, 0, 64, 17, 0, b"\0" * 4,
                     b"\xff" * 4)
    ip = ip[:10] + struct.pack("!H", csum(ip)) + ip[12:]
    return b"\xff" * 6 + mac + b"\x08\x00" + ip + udp


def opt(code, value):
    return bytes([code, len(value)]) + value


def parse_reply(buf):
    """(xid, msg type, yiaddr, server id) of a BOOTREPLY in an Ethernet frame, else None."""
    if len(buf) < 14 + 20 + 8 + 240 or buf[12:14] != b"\x08\x00":
        return None
    ihl = (buf[14] & 0x0F) * 4
    if buf[14 + 9] != 17:
        return None
    udp = 14 + ihl
    if struct.unpack("!H", buf[udp + 2:udp + 4])[0] != 68:
        return None
    b = udp + 8
    if buf[b] != 2 or buf[b + 236:b + 240] != COOKIE:
        return None
    xid = struct.unpack("!I", buf[b + 4:b + 8])[0]
    yiaddr = buf[b + 16:b + 20]
    i, mtype, server = b + 240, None, None
    while i < len(buf) and buf[i] != 0xFF:
        if buf[i] == 0:
            i += 1
            continue
        code, ln = buf[i], buf[i + 1]
        val = buf[i + 2:i + 2 + ln]
        if code == 53:
            mtype = val[0]
        elif code == 54:
            server = val
        i += 2 + ln
    return xid, mtype, yiaddr, server


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--iface", default="eth0")
    ap.add_argument("--clients", type=int, default=1000)
    ap.add_argument("--window", type=int, default=64)
    ap.add_argument("--retry", type=float, default=1.0)
    ap.add_argument("--tries", type=int, default=5)
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args()
    rnd = random.Random(a.seed)
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
    s.bind((a.iface, 0))
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8 << 20)
    clients = []
    for i in range(a.clients):
        mac = bytes([0x02, 0xDC, (i >> 24) & 0xFF, (i >> 16) & 0xFF, (i >> 8) & 0xFF, i & 0xFF])
        clients.append({"mac": mac, "xid": rnd.getrandbits(32), "state": "new", "tries": 0})
    by_xid = {c["xid"]: c for c in clients}
    pending = list(range(a.clients))
    pending.reverse()
    active = set()
    times, naks, failed = [], 0, 0
    t_start = time.monotonic()

    def send(c, now):
        if c["state"] == "discover":
            o = opt(53, b"\x01") + opt(61, b"\x01" + c["mac"])
        else:
            o = (opt(53, b"\x03") + opt(61, b"\x01" + c["mac"]) + opt(50, c["yiaddr"]) +
                 opt(54, c["server"]))
        s.send(frame(c["mac"], c["xid"], o))
        c["sent"] = now
        c["tries"] += 1

    while pending or active:
        now = time.monotonic()
        while pending and len(active) < a.window:
            c = clients[pending.pop()]
            c["state"], c["t0"] = "discover", now
            active.add(c["xid"])
            send(c, now)
        for x in list(active):
            c = by_xid[x]
            if now - c["sent"] >= a.retry:
                if c["tries"] >= a.tries:
                    failed += 1
                    active.discard(x)
                else:
                    send(c, now)
        r, _, _ = select.select([s], [], [], 0.01)
        if not r:
            continue
        while True:
            try:
                buf = s.recv(2048, socket.MSG_DONTWAIT)
            except BlockingIOError:
                break
            p = parse_reply(buf)
            if not p or p[0] not in active:
                continue
            xid, mtype, yiaddr, server = p
            c = by_xid[xid]
            now = time.monotonic()
            if mtype == 2 and c["state"] == "discover":
                c["state"], c["yiaddr"], c["server"], c["tries"] = "request", yiaddr, server, 0
                send(c, now)
            elif mtype == 5 and c["state"] == "request":
                times.append((now - c["t0"]) * 1000)
                active.discard(xid)
            elif mtype == 6:
                naks += 1
                active.discard(xid)
    wall = time.monotonic() - t_start
    times.sort()

    def pct(p):
        return round(times[min(len(times) - 1, int(p / 100 * len(times)))], 2) if times else None

    print(json.dumps({"clients": a.clients, "leased": len(times), "naks": naks, "failed": failed,
                      "p50_ms": pct(50), "p90_ms": pct(90), "p99_ms": pct(99),
                      "max_ms": round(times[-1], 2) if times else None,
                      "wall_s": round(wall, 2), "window": a.window}))


if __name__ == "__main__":
    main()
