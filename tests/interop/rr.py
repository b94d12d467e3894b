#!/usr/bin/env python3
"""One connection, one request in flight: COUNT round trips of a 16-byte message to an echo
server (like `ab -c 1`). Prints the median and the rate. Bounded: the socket has a timeout."""
import socket
import statistics
import sys
import time

addr, port, count = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
s = socket.create_connection((addr, port), timeout=10.0)
s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
msg = b"0123456789abcdef"
rtts = []
t0 = time.perf_counter()
for _ in range(count):
    t = time.perf_counter()
    s.sendall(msg)
    got = b""
    while len(got) < len(msg):
        chunk = s.recv(64)
        if not chunk:
            raise SystemExit("early EOF")
        got += chunk
    rtts.append(time.perf_counter() - t)
elapsed = time.perf_counter() - t0
s.close()
print("median_us %.1f rate %.0f" % (statistics.median(rtts) * 1e6, count / elapsed))
