#!/usr/bin/env python3
"""Raw frames and VXLAN datagrams for tests/lab/tenant_isolation.sh (no scapy, standard library).

  send IF DST SRC TAG COUNT RATE    COUNT frames DST<-SRC, EtherType 0x88b5, payload TAG(4) + seq,
                                    paced at RATE frames/s (in bursts of 32)
  recv IF OUT                       count 0x88b5 frames arriving on IF by TAG (unique sequence
                                    numbers too) until OUT.stop exists; writes JSON to OUT
                                    (OUT.ready once listening)
  inject LOCAL REMOTE CASE VNI DST SRC TAG COUNT
                                    COUNT VXLAN datagrams from LOCAL to REMOTE:4789; CASE is
                                    good | reserved | noflag | short | inner_short | inner_tagged
  listen LOCAL OUT                  count VXLAN datagrams arriving at LOCAL:4789 by (VNI, inner
                                    destination MAC) until OUT.stop; JSON to OUT
"""
import json
import os
import socket
import struct
import sys
import time

ETH_P = 0x88B5  # IEEE 802 local experimental EtherType
PACKET_OUTGOING = 4


def mac(text):
    return bytes(int(x, 16) for x in text.split(":"))


def frame(dst, src, tag, seq, vlan=None):
    head = mac(dst) + mac(src)
    if vlan is not None:
        head += struct.pack("!HH", 0x8100, vlan)
    body = struct.pack("!H", ETH_P) + tag.encode()[:4].ljust(4, b"_") + struct.pack("!I", seq)
    return (head + body).ljust(60, b"\0")


def vxlan(flags, vni, reserved_bits=False):
    # RFC 7348 §5: flags(8) reserved(24) VNI(24) reserved(8).
    r1, r2 = (0xABCDEF, 0x5A) if reserved_bits else (0, 0)
    return struct.pack("!II", (flags << 24) | r1, (vni << 8) | r2)


def send(ifname, dst, src, tag, count, rate):
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
    s.bind((ifname, 0))
    s.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4 << 20)
    start = time.monotonic()
    for seq in range(count):
        if seq % 32 == 0:
            ahead = seq / rate - (time.monotonic() - start)
            if ahead > 0:
                time.sleep(ahead)
        while True:
            try:
                s.send(frame(dst, src, tag, seq))
                break
            except BlockingIOError:  # the qdisc is full: try again (a lost frame is not ours)
                time.sleep(0.0005)
    print(json.dumps({"sent": count, "seconds": round(time.monotonic() - start, 3)}))


def wait_stop(out, sock, on_packet):
    sock.settimeout(0.1)
    while not os.path.exists(out + ".stop"):
        try:
            data, addr = sock.recvfrom(2048)
        except socket.timeout:
            continue
        on_packet(data, addr)


def recv(ifname, out):
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P))
    s.setsockopt(socket.SOL_SOCKET, 33, 64 << 20)  # SO_RCVBUFFORCE: no loss in the test itself
    s.bind((ifname, ETH_P))
    counts, seqs = {}, {}

    def on(data, addr):
        if addr[2] == PACKET_OUTGOING or len(data) < 22:
            return
        tag = data[14:18].decode(errors="replace")
        counts[tag] = counts.get(tag, 0) + 1
        seqs.setdefault(tag, set()).add(struct.unpack("!I", data[18:22])[0])

    open(out + ".ready", "w").close()
    wait_stop(out, s, on)
    unique = {t: len(v) for t, v in seqs.items()}
    with open(out, "w") as f:
        json.dump({"frames": counts, "unique": unique}, f)


def inject(local, remote, case, vni, dst, src, tag, count):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((local, 0))
    for seq in range(count):
        inner = frame(dst, src, tag, seq)
        if case == "good":
            payload = vxlan(0x08, vni) + inner
        elif case == "reserved":
            payload = vxlan(0x08 | 0x77, vni, reserved_bits=True) + inner
        elif case == "noflag":
            payload = vxlan(0x00, vni) + inner
        elif case == "short":
            payload = vxlan(0x08, vni)[:5]
        elif case == "inner_short":
            payload = vxlan(0x08, vni) + inner[:10]
        elif case == "inner_tagged":
            payload = vxlan(0x08, vni) + frame(dst, src, tag, seq, vlan=20)
        else:
            sys.exit("unknown case " + case)
        s.sendto(payload, (remote, 4789))


def listen(local, out):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((local, 4789))
    counts = {}

    def on(data, addr):
        if len(data) < 14:
            return
        vni = struct.unpack("!I", data[4:8])[0] >> 8
        key = "%d %s" % (vni, ":".join("%02x" % b for b in data[8:14]))
        counts[key] = counts.get(key, 0) + 1

    open(out + ".ready", "w").close()
    wait_stop(out, s, on)
    with open(out, "w") as f:
        json.dump(counts, f)


if __name__ == "__main__":
    cmd, a = sys.argv[1], sys.argv[2:]
    if cmd == "send":
        send(a[0], a[1], a[2], a[3], int(a[4]), float(a[5]))
    elif cmd == "recv":
        recv(a[0], a[1])
    elif cmd == "inject":
        inject(a[0], a[1], a[2], int(a[3]), a[4], a[5], a[6], int(a[7]))
    elif cmd == "listen":
        listen(a[0], a[1])
    else:
        sys.exit(__doc__)
