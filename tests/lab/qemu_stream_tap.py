#!/usr/bin/env python3
"""A QEMU `-netdev stream` client for tests/lab/lab_open_switch.sh: what QEMU's stream netdev
sends and expects (net/stream.c: each frame preceded by its length, 4 bytes big-endian), between
a TAP device (created here, in the caller's namespace) and a unix socket.

  qemu_stream_tap.py SOCKET TAPNAME     relays until either side closes
"""
import fcntl
import os
import select
import socket
import struct
import sys

TUNSETIFF = 0x400454CA
IFF_TAP = 0x0002
IFF_NO_PI = 0x1000


def main(path, name):
    tap = os.open("/dev/net/tun", os.O_RDWR)
    fcntl.ioctl(tap, TUNSETIFF, struct.pack("16sH", name.encode(), IFF_TAP | IFF_NO_PI))
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.connect(path)
    buf = b""
    while True:
        ready, _, _ = select.select([tap, sock], [], [])
        if tap in ready:
            frame = os.read(tap, 65536)
            sock.sendall(struct.pack("!I", len(frame)) + frame)
        if sock in ready:
            data = sock.recv(65536)
            if not data:
                return
            buf += data
            while len(buf) >= 4:
                n = struct.unpack("!I", buf[:4])[0]
                if len(buf) < 4 + n:
                    break
                os.write(tap, buf[4:4 + n])
                buf = buf[4 + n:]


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
