#!/usr/bin/env python3
"""The packet side of tests/interop/attacks.sh (issue #13, the five cases from outside).

Standard library only: packets are built with struct and sent and sniffed through AF_PACKET
datagram sockets on the attacker's interface (a TUN device or a veth end), so the same code
attacks synack over TUN and the Linux kernel over veth. The raw client uses an address no
kernel owns (the target's replies to it are sniffed, then dropped by a host that does not
forward), so no kernel socket answers them with a RST. Every loop is bounded in packets and
in time. Each subcommand prints one JSON object on stdout.

  synprobe  --if IF --mac MAC --dst D --bcast B --client C     SYNs: loopback, broadcast, LAND, control
  count     --port P --seconds S                               SYN-ACKs seen on every interface
  ptb       --if IF --mac MAC --dst D --client C --mtu M ...    a download, then a forged Frag Needed
  ooo       --if IF --mac MAC --dst D --client C --conns N ...  N handshakes, K 1-octet segments each
  hold      --dst D --conns N --path P                          N kernel sockets that never read
  serve     --port P --dir DIR                                  a threaded kernel HTTP server
"""
import argparse
import json
import os
import random
import select
import socket
import struct
import sys
import threading
import time

ETH_P_ALL = 0x0003  # (a socket of ETH_P_IP alone is not shown the packets its host sends)
ETH_P_IP = 0x0800
PACKET_OUTGOING = 4
FIN, SYN, RST, PSH, ACK = 0x01, 0x02, 0x04, 0x08, 0x10


def csum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def ip_header(src, dst, proto, payload_len, total_len=None):
    total = total_len if total_len is not None else 20 + payload_len
    h = struct.pack("!BBHHHBBH4s4s", 0x45, 0, total, random.randrange(65536), 0x4000, 64, proto, 0,
                    socket.inet_aton(src), socket.inet_aton(dst))
    return h[:10] + struct.pack("!H", csum(h)) + h[12:]


def tcp_packet(src, dst, sport, dport, seq, ack, flags, window=65535, options=b"", payload=b""):
    off = (20 + len(options)) // 4
    h = struct.pack("!HHIIBBHHH", sport, dport, seq & 0xFFFFFFFF, ack & 0xFFFFFFFF, off << 4, flags, window, 0, 0)
    seg = h + options + payload
    pseudo = socket.inet_aton(src) + socket.inet_aton(dst) + struct.pack("!BBH", 0, 6, len(seg))
    c = csum(pseudo + seg)
    seg = seg[:16] + struct.pack("!H", c) + seg[18:]
    return ip_header(src, dst, 6, len(seg)) + seg


def icmp_frag_needed(src, dst, mtu, quote):
    body = struct.pack("!BBHHH", 3, 4, 0, 0, mtu) + quote
    body = body[:2] + struct.pack("!H", csum(body)) + body[4:]
    return ip_header(src, dst, 1, len(body)) + body


SYN_OPTIONS = struct.pack("!BBH", 2, 4, 1460) + bytes([1, 3, 3, 7])  # MSS 1460, NOP, window scale 7


def parse_tcp(pkt):
    """(src, dst, sport, dport, seq, ack, flags, window, payload_len) of an IPv4 TCP packet, or None."""
    if len(pkt) < 40 or pkt[0] >> 4 != 4 or pkt[9] != 6:
        return None
    ihl = (pkt[0] & 0x0F) * 4
    total = struct.unpack_from("!H", pkt, 2)[0]
    sport, dport, seq, ack, off, flags, window = struct.unpack_from("!HHIIBBH", pkt, ihl)
    plen = min(total, len(pkt)) - ihl - (off >> 4) * 4
    return (socket.inet_ntoa(pkt[12:16]), socket.inet_ntoa(pkt[16:20]), sport, dport, seq, ack, flags, window, plen)


class link:
    """Sends IP packets out of an interface (a TUN device: no link header; an Ethernet one: to
    `mac`) and receives the IP packets that arrive on it (or on every interface)."""

    def __init__(self, ifname=None, mac=None):
        self.ifname = ifname
        self.mac = bytes.fromhex(mac.replace(":", "")) if mac else b""
        self.s = socket.socket(socket.AF_PACKET, socket.SOCK_DGRAM, socket.htons(ETH_P_ALL))
        self.s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 32 << 20)
        if ifname:
            self.s.bind((ifname, ETH_P_ALL))
        self.s.setblocking(False)

    def send(self, pkt):
        self.s.sendto(pkt, (self.ifname, ETH_P_IP, 0, 0, self.mac))

    def recv(self, until, outgoing=False):
        """The next IP packet before monotonic time `until` (None at the deadline); packets this
        host sends are skipped unless `outgoing`."""
        while True:
            left = until - time.monotonic()
            if left <= 0:
                return None
            try:
                data, addr = self.s.recvfrom(65536)
            except BlockingIOError:
                select.select([self.s], [], [], left)
                continue
            if addr[1] != ETH_P_IP or (addr[2] == PACKET_OUTGOING and not outgoing):
                continue
            return data


def out(obj):
    print(json.dumps(obj), flush=True)


# ---- case 1: SYNs from martian sources ----------------------------------------------------

PROBES = {"loopback": 1_000_000, "broadcast": 2_000_000, "land": 3_000_000, "control": 4_000_000}


def cmd_synprobe(a):
    """One SYN per kind to dst:port, each with its own sequence number (count tells them apart):
    from 127.0.0.1, from the subnet's directed broadcast, from dst itself to itself (LAND:
    src = dst, sport = dport), and a control from an ordinary client that must be answered."""
    l = link(a.ifname, a.mac)
    sources = {"loopback": ("127.0.0.1", 40001), "broadcast": (a.bcast, 40002), "land": (a.dst, a.port),
               "control": (a.client, 40004)}
    for _ in range(a.repeat):
        for kind, (src, sport) in sources.items():
            l.send(tcp_packet(src, a.dst, sport, a.port, PROBES[kind], 0, SYN, options=SYN_OPTIONS))
        time.sleep(0.05)
    out({"sent": list(sources)})


def cmd_count(a):
    """SYN-ACKs from port `port` answering the probes, seen on any interface of this namespace
    for `seconds` (each distinct one once: loopback shows a packet twice)."""
    l = link()
    seen = {k: set() for k in PROBES}
    until = time.monotonic() + a.seconds
    if a.ready:
        open(a.ready, "w").close()  # the socket is open: the probes may go
    while True:
        p = l.recv(until, outgoing=True)
        if p is None:
            break
        t = parse_tcp(p)
        if t is None or t[2] != a.port or t[6] & (SYN | ACK) != SYN | ACK:
            continue
        for kind, seq in PROBES.items():
            if t[5] == seq + 1:
                seen[kind].add((t[0], t[1], t[4]))
    out({k: len(v) for k, v in seen.items()})


# ---- a raw client (cases 2 to 4) ----------------------------------------------------------

class raw_conn:
    def __init__(self, l, client, dst, port, sport):
        self.l, self.client, self.dst, self.port, self.sport = l, client, dst, port, sport
        self.iss = random.randrange(1 << 32)
        self.snd_nxt = (self.iss + 1) & 0xFFFFFFFF
        self.irs = None
        self.rcv_nxt = None

    def send(self, flags, payload=b"", seq=None, window=65535):
        self.l.send(tcp_packet(self.client, self.dst, self.sport, self.port, self.snd_nxt if seq is None else seq,
                               self.rcv_nxt or 0, flags, window, payload=payload))

    def syn(self):
        self.l.send(tcp_packet(self.client, self.dst, self.sport, self.port, self.iss, 0, SYN, options=SYN_OPTIONS))

    def mine(self, t):
        return t is not None and t[0] == self.dst and t[2] == self.port and t[3] == self.sport


def handshake(l, conns, seconds):
    """SYNs for every connection, then an ACK for each SYN-ACK; the established ones."""
    by_port = {c.sport: c for c in conns}
    for c in conns:
        c.syn()
    until = time.monotonic() + seconds
    done = 0
    while done < len(conns):
        p = l.recv(until)
        if p is None:
            break
        t = parse_tcp(p)
        if t is None or t[0] != conns[0].dst or t[3] not in by_port:
            continue
        c = by_port[t[3]]
        if t[6] & (SYN | ACK) == SYN | ACK and c.irs is None and t[5] == c.snd_nxt:
            c.irs = t[4]
            c.rcv_nxt = (t[4] + 1) & 0xFFFFFFFF
            c.send(ACK)
            done += 1
    return [c for c in conns if c.irs is not None]


def data_segments(c, until):
    """The target's segments with data on connection c, until monotonic time `until`."""
    while True:
        p = c.l.recv(until)
        if p is None:
            return
        t = parse_tcp(p)
        if c.mine(t) and t[8] > 0:
            yield t


def seq_after(a, b):
    return ((a - b) & 0xFFFFFFFF) < 0x80000000 and a != b


def cmd_ptb(a):
    """Issue #13 cases 2 and 3. A download of `path`, ACKed until `bytes` arrived in order;
    then no more ACKs, so the target fills its window (the flight); then one Fragmentation
    Needed with `mtu`, quoting the first unacknowledged segment in an IPv4 header whose total
    length is `quote_len`; then every segment the target sends in the next `window_ms`."""
    l = link(a.ifname, a.mac)
    c = raw_conn(l, a.client, a.dst, a.port, a.sport)
    if not handshake(l, [c], 3.0):
        out({"error": "no SYN-ACK"})
        return
    req = ("GET %s HTTP/1.1\r\nHost: target\r\n\r\n" % a.path).encode()
    c.send(PSH | ACK, req)
    c.snd_nxt = (c.snd_nxt + len(req)) & 0xFFFFFFFF
    got, unacked, max_end, mss_before = 0, 0, c.rcv_nxt, 0
    until = time.monotonic() + a.seconds
    while got < a.bytes:
        p = l.recv(until)
        if p is None:
            break
        t = parse_tcp(p)
        if not c.mine(t) or t[8] <= 0:
            continue
        mss_before = max(mss_before, t[8])
        end = (t[4] + t[8]) & 0xFFFFFFFF
        if seq_after(end, max_end):
            max_end = end
        if t[4] == c.rcv_nxt:
            c.rcv_nxt = end
            got += t[8]
            unacked += 1
            if unacked >= 2:
                c.send(ACK, window=65535)
                unacked = 0
        else:
            c.send(ACK, window=65535)  # a gap: a duplicate ACK so the target repairs it
    c.send(ACK, window=65535)
    una = c.rcv_nxt
    # No more ACKs: what the target still sends fills its window.
    for t in data_segments(c, time.monotonic() + a.settle_ms / 1000):
        end = (t[4] + t[8]) & 0xFFFFFFFF
        if seq_after(end, max_end):
            max_end = end
    flight = (max_end - una) & 0xFFFFFFFF
    quote = ip_header(a.dst, a.client, 6, 0, total_len=a.quote_len)
    quote += struct.pack("!HHI", a.port, a.sport, una)
    l.send(icmp_frag_needed(a.client, a.dst, a.mtu, quote))
    t0 = time.monotonic()
    segs = [(time.monotonic() - t0, t[4], t[8]) for t in data_segments(c, t0 + a.window_ms / 1000)]
    c.send(RST | ACK)
    # The burst: what left within 10 ms of the first segment after the ICMP (no ACK came).
    burst = [s for s in segs if segs and s[0] - segs[0][0] <= 0.010]
    sizes = [s[2] for s in segs]
    # A segment shorter than the rest is allowed only at the end of the flight.
    short = [s for s in segs if ((s[1] + s[2]) & 0xFFFFFFFF) != max_end and s[2] < a.floor_mss]
    out({"received": got, "mss_before": mss_before, "flight": flight, "segments": len(segs),
         "bytes": sum(sizes), "burst": len(burst), "min_payload": min(sizes) if sizes else 0,
         "max_payload": max(sizes) if sizes else 0, "short_segments": len(short),
         "first_ms": round(segs[0][0] * 1000, 2) if segs else None})


def cmd_ooo(a):
    """Issue #13 case 4: `conns` connections, then `segs` one-octet segments on each, spread one
    every `stride` octets past a gap at RCV.NXT, acceptable in every other respect."""
    l = link(a.ifname, a.mac)
    conns = [raw_conn(l, a.client, a.dst, a.port, a.sport + i) for i in range(a.conns)]
    est = []
    for i in range(0, len(conns), 50):  # batches: a SYN queue need not take them all at once
        est += handshake(l, conns[i:i + 50], 2.0)
    sent = 0
    for k in range(a.segs):
        for c in est:
            c.send(PSH | ACK, b"x", seq=(c.snd_nxt + 1 + k * a.stride) & 0xFFFFFFFF)
            sent += 1
        time.sleep(0.002)
    out({"established": len(est), "segments": sent, "traffic_bytes": sent * 41})


# ---- kernel sockets (case 5) and the kernel's server ----------------------------------------

def cmd_hold(a):
    """Issue #13 case 5: `conns` connections with 4 KiB receive buffers ask for `path` and never
    read, so their windows close; held until stdin closes or `seconds` pass."""
    socks = []
    req = ("GET %s HTTP/1.1\r\nHost: target\r\n\r\n" % a.path).encode()
    for _ in range(a.conns):
        s = socket.socket()
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        s.settimeout(5)
        s.connect((a.dst, a.port))
        s.sendall(req)
        socks.append(s)
    out({"connected": len(socks)})
    select.select([sys.stdin], [], [], a.seconds)
    for s in socks:
        s.close()


def cmd_serve(a):
    """The kernel's side: a threaded HTTP server (GET sends the file whole, then closes) with a
    backlog large enough for the handshakes of the attack."""
    ls = socket.socket()
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind(("", a.port))
    ls.listen(4096)
    files = {}  # read once: 500 connections share one copy

    def serve_one(s):
        try:
            req = b""
            while b"\r\n\r\n" not in req and len(req) < 8192:
                d = s.recv(4096)
                if not d:
                    return
                req += d
            name = os.path.basename(req.split(b" ")[1].decode())
            if name not in files:
                with open(os.path.join(a.dir, name), "rb") as f:
                    files[name] = f.read()
            body = files[name]
            s.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % len(body))
            s.sendall(memoryview(body))
        except OSError:
            pass
        finally:
            s.close()

    while True:
        s, _ = ls.accept()
        threading.Thread(target=serve_one, args=(s,), daemon=True).start()


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)

    def raw(name):
        q = sub.add_parser(name)
        q.add_argument("--if", dest="ifname", required=True)
        q.add_argument("--mac", default="")
        q.add_argument("--dst", required=True)
        q.add_argument("--port", type=int, default=80)
        q.add_argument("--client", required=True)
        return q

    q = raw("synprobe")
    q.add_argument("--bcast", required=True)
    q.add_argument("--repeat", type=int, default=3)
    q = sub.add_parser("count")
    q.add_argument("--port", type=int, default=80)
    q.add_argument("--seconds", type=float, default=2.0)
    q.add_argument("--ready", default="")
    q = raw("ptb")
    q.add_argument("--sport", type=int, default=41000)
    q.add_argument("--path", default="/big")
    q.add_argument("--bytes", type=int, default=2 << 20)
    q.add_argument("--seconds", type=float, default=8.0)
    q.add_argument("--settle-ms", type=float, default=30)
    q.add_argument("--mtu", type=int, required=True)
    q.add_argument("--quote-len", type=int, default=1500)
    q.add_argument("--window-ms", type=float, default=50)
    q.add_argument("--floor-mss", type=int, default=512)
    q = raw("ooo")
    q.add_argument("--sport", type=int, default=20000)
    q.add_argument("--conns", type=int, default=200)
    q.add_argument("--segs", type=int, default=32)
    q.add_argument("--stride", type=int, default=1800)
    q = sub.add_parser("hold")
    q.add_argument("--dst", required=True)
    q.add_argument("--port", type=int, default=80)
    q.add_argument("--conns", type=int, default=500)
    q.add_argument("--path", default="/big")
    q.add_argument("--seconds", type=float, default=30)
    q = sub.add_parser("serve")
    q.add_argument("--port", type=int, default=80)
    q.add_argument("--dir", required=True)
    a = p.parse_args()
    globals()["cmd_" + a.cmd](a)


if __name__ == "__main__":
    main()
