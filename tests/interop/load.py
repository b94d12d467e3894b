#!/usr/bin/env python3
"""Kernel-side load for `synack serve echo`: N concurrent connections held open (each echoes a
message), then M short sequential connections. Bounded: every socket has a timeout."""
import socket
import sys
import time

addr, port, concurrent, sequential = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
timeout = 10.0


def roundtrip(s, msg):
    s.sendall(msg)
    got = b""
    while len(got) < len(msg):
        chunk = s.recv(65536)
        if not chunk:
            raise RuntimeError("early EOF")
        got += chunk
    if got != msg:
        raise RuntimeError("echo differs")


t0 = time.time()
socks = []
for i in range(concurrent):
    s = socket.create_connection((addr, port), timeout=timeout)
    socks.append(s)
for i, s in enumerate(socks):
    roundtrip(s, b"concurrent %d\n" % i)
print(f"ok: {concurrent} concurrent connections open and echoing ({time.time() - t0:.2f} s)", flush=True)
# The caller checks `synack stat` now (it shows them ESTABLISHED), then says go on.
sys.stdin.readline()
for s in socks:
    s.shutdown(socket.SHUT_WR)
for s in socks:
    if s.recv(1) != b"":
        raise RuntimeError("data after echo")
    s.close()
t0 = time.time()
for i in range(sequential):
    with socket.create_connection((addr, port), timeout=timeout) as s:
        roundtrip(s, b"sequential %d\n" % i)
        s.shutdown(socket.SHUT_WR)
        if s.recv(1) != b"":
            raise RuntimeError("data after echo")
print(f"ok: {sequential} sequential connections ({time.time() - t0:.2f} s)", flush=True)
