#!/usr/bin/env python3
"""802.1Q frames on a raw socket for tests/lab/lab_external.sh (standard library only; the host
kernel has no 8021q module, so no VLAN devices).

  send IF SRC VID TAG COUNT   COUNT broadcast frames from MAC SRC, EtherType 0x88b5, payload
                              TAG (4 bytes) + sequence number; tagged with VID, or untagged
                              when VID is "-"
  recv IF OUT                 count 0x88b5 frames arriving on IF by "VID/TAG" (VID "-" for
                              untagged) until OUT.stop exists; JSON to OUT (OUT.ready once
                              listening). A tag the kernel took off (PACKET_AUXDATA) counts as
                              one in the frame.
"""
import json
import os
import socket
import struct
import sys
import time

ETH_P = 0x88B5  # IEEE 802 local experimental EtherType
SOL_PACKET = 263
PACKET_AUXDATA = 8
TP_STATUS_VLAN_VALID = 0x10
PACKET_OUTGOING = 4


def mac(text):
    return bytes(int(x, 16) for x in text.split(":"))


def send(ifname, src, vid, tag, count):
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
    s.bind((ifname, 0))
    for seq in range(count):
        head = b"\xff" * 6 + mac(src)
        if vid != "-":
            head += struct.pack("!HH", 0x8100, int(vid))
        body = struct.pack("!H", ETH_P) + tag.encode()[:4].ljust(4, b"_") + struct.pack("!I", seq)
        s.send((head + body).ljust(60, b"\0"))
        time.sleep(0.002)


def recv(ifname, out):
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(0x0003))
    s.setsockopt(SOL_PACKET, PACKET_AUXDATA, 1)
    s.bind((ifname, 0))
    s.settimeout(0.05)
    open(out + ".ready", "w").close()
    counts = {}
    while not os.path.exists(out + ".stop"):
        try:
            data, anc, _, addr = s.recvmsg(2048, socket.CMSG_SPACE(20))
        except socket.timeout:
            continue
        if addr[2] == PACKET_OUTGOING:
            continue
        vid = "-"
        for level, kind, cdata in anc:
            if level == SOL_PACKET and kind == PACKET_AUXDATA and len(cdata) >= 20:
                status, _, _, _, _, tci, _ = struct.unpack("IIIHHHH", cdata[:20])
                if status & TP_STATUS_VLAN_VALID:
                    vid = str(tci & 0xFFF)
        etype = struct.unpack("!H", data[12:14])[0]
        body = data[14:]
        if etype == 0x8100 and len(data) >= 18:
            vid = str(struct.unpack("!H", data[14:16])[0] & 0xFFF)
            etype = struct.unpack("!H", data[16:18])[0]
            body = data[18:]
        if etype != ETH_P:
            continue
        key = vid + "/" + body[:4].decode(errors="replace").rstrip("_")
        counts[key] = counts.get(key, 0) + 1
    with open(out, "w") as f:
        json.dump(counts, f, sort_keys=True)


if __name__ == "__main__":
    if sys.argv[1] == "send":
        send(sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5], int(sys.argv[6]))
    elif sys.argv[1] == "recv":
        recv(sys.argv[2], sys.argv[3])
    else:
        sys.exit(__doc__)
