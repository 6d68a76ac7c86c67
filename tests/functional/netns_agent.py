"""What runs inside the data-plane test's "VM" namespaces (``ip netns exec NS python
netns_agent.py ...``): ICMP echo, a probe that timestamps every reply, gratuitous
ARP, and a VRRP-like pair (heartbeat sender, standby that takes the VIP when the
heartbeats stop). Standard library only; needs root (raw sockets).
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import struct
import subprocess
import sys
import time

ICMP_ECHO, ICMP_REPLY = 8, 0


def _checksum(data: bytes) -> int:
    if len(data) % 2:
        data += b"\0"
    total = sum(struct.unpack(f"!{len(data) // 2}H", data))
    total = (total >> 16) + (total & 0xFFFF)
    total += total >> 16
    return ~total & 0xFFFF


def _echo(ident: int, seq: int) -> bytes:
    payload = struct.pack("!d", time.time()) + b"kingbird-dataplane"
    header = struct.pack("!BBHHH", ICMP_ECHO, 0, 0, ident, seq)
    return struct.pack("!BBHHH", ICMP_ECHO, 0, _checksum(header + payload), ident,
                       seq) + payload


def _replies(sock: socket.socket, ident: int, until: float):
    """(seq, receive time) of each echo reply for ``ident`` until ``until``."""
    while True:
        left = until - time.monotonic()
        if left <= 0:
            return
        sock.settimeout(left)
        try:
            packet, _ = sock.recvfrom(2048)
        except TimeoutError:
            return
        offset = (packet[0] & 0x0F) * 4
        kind, _, _, rid, seq = struct.unpack("!BBHHH", packet[offset:offset + 8])
        if kind == ICMP_REPLY and rid == ident:
            yield seq, time.time()


def ping(args) -> int:
    """Exit 0 at the first reply; 1 if none came within ``--timeout``."""
    ident = os.getpid() & 0xFFFF
    with socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP) as sock:
        deadline = time.monotonic() + args.timeout
        seq = 0
        while time.monotonic() < deadline:
            seq += 1
            sock.sendto(_echo(ident, seq), (args.dst, 0))
            for _ in _replies(sock, ident, min(deadline, time.monotonic() + 0.2)):
                print(json.dumps({"reply": True, "seq": seq}))
                return 0
    print(json.dumps({"reply": False}))
    return 1


def probe(args) -> int:
    """Echo every ``--interval`` for ``--duration``; print the send and reply times."""
    ident = os.getpid() & 0xFFFF
    sent, replies = {}, []
    with socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP) as sock:
        sock.setblocking(False)
        end = time.monotonic() + args.duration
        seq = 0
        next_send = time.monotonic()
        while time.monotonic() < end:
            now = time.monotonic()
            if now >= next_send:
                seq = (seq + 1) & 0xFFFF
                sent[seq] = time.time()
                sock.sendto(_echo(ident, seq), (args.dst, 0))
                next_send += args.interval
            for got in _replies(sock, ident, min(next_send, end)):
                replies.append(got)
    print(json.dumps({"sent": len(sent), "first_sent": min(sent.values(), default=None),
                      "replies": [[seq, at, sent.get(seq)] for seq, at in replies]}))
    return 0


def _mac(dev: str) -> bytes:
    with open(f"/sys/class/net/{dev}/address") as fh:
        return bytes.fromhex(fh.read().strip().replace(":", ""))


def garp(dev: str, address: str, count: int = 3, pause: float = 0.02) -> None:
    """Announce ``address`` at ``dev``'s MAC: ARP requests with sender = target."""
    mac, ip = _mac(dev), socket.inet_aton(address)
    frame = (b"\xff" * 6 + mac + struct.pack("!H", 0x0806)
             + struct.pack("!HHBBH", 1, 0x0800, 6, 4, 1) + mac + ip + b"\0" * 6 + ip)
    with socket.socket(socket.AF_PACKET, socket.SOCK_RAW) as sock:
        sock.bind((dev, 0))
        for index in range(count):
            sock.send(frame)
            if index + 1 < count:
                time.sleep(pause)


def garp_cmd(args) -> int:
    garp(args.dev, args.address, args.count)
    return 0


def heartbeat(args) -> int:
    """Send a datagram to ``dst:port`` every ``--interval`` for ``--duration``."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        end = time.monotonic() + args.duration
        while time.monotonic() < end:
            try:
                sock.sendto(b"alive", (args.dst, args.port))
            except OSError:
                pass  # the link is down: the standby hears nothing, as intended
            time.sleep(args.interval)
    return 0


def standby(args) -> int:
    """Take the VIP when the heartbeats stop for ``--dead`` seconds (after one was heard)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("0.0.0.0", args.port))
        print(json.dumps({"listening": True}), flush=True)
        heard = None
        end = time.monotonic() + args.timeout
        while time.monotonic() < end:
            sock.settimeout(args.dead)
            try:
                sock.recvfrom(64)
                heard = time.monotonic()
            except TimeoutError:
                if heard is not None:
                    silent_since = time.time() - (time.monotonic() - heard)
                    subprocess.run(["ip", "addr", "add", f"{args.vip}/{args.prefix}", "dev",
                                    args.dev], check=True)
                    garp(args.dev, args.vip)
                    print(json.dumps({"took_vip_at": time.time(),
                                      "silent_since": silent_since}), flush=True)
                    return 0
    print(json.dumps({"took_vip_at": None}))
    return 1


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("ping")
    p.add_argument("dst")
    p.add_argument("--timeout", type=float, default=3.0)
    p.set_defaults(run=ping)
    p = sub.add_parser("probe")
    p.add_argument("dst")
    p.add_argument("--interval", type=float, default=0.01)
    p.add_argument("--duration", type=float, default=4.0)
    p.set_defaults(run=probe)
    p = sub.add_parser("garp")
    p.add_argument("dev")
    p.add_argument("address")
    p.add_argument("--count", type=int, default=3)
    p.set_defaults(run=garp_cmd)
    p = sub.add_parser("heartbeat")
    p.add_argument("dst")
    p.add_argument("--port", type=int, default=5405)
    p.add_argument("--interval", type=float, default=0.02)
    p.add_argument("--duration", type=float, default=10.0)
    p.set_defaults(run=heartbeat)
    p = sub.add_parser("standby")
    p.add_argument("vip")
    p.add_argument("--prefix", type=int, default=24)
    p.add_argument("--dev", default="eth0")
    p.add_argument("--port", type=int, default=5405)
    p.add_argument("--dead", type=float, default=0.1)
    p.add_argument("--timeout", type=float, default=10.0)
    p.set_defaults(run=standby)
    args = parser.parse_args(argv)
    return args.run(args)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
