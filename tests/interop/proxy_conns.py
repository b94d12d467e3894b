#!/usr/bin/env python3
"""Client of proxy_load.sh: N concurrent TCP connections through `synack proxy` to an echo
server, all held open at once (python3 standard library only).

  proxy_conns.py ADDR PORT N

Opens N connections (one after another: each connect returns once the proxy has connected
upstream and answered the SYN), then sends each its own message and reads its echo back,
byte-exact, with every connection still open. Prints "ok: ..." and waits for a line on stdin
(the caller checks `synack stat` meanwhile); then half-closes every connection, reads each
one's EOF (the upstream's FIN carried back through the proxy) and closes it, and prints
"ok: ..." again. Any failure prints "FAIL: ..." and exits 1. Every socket has a timeout."""
import resource
import socket
import sys
import time

addr, port, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
if soft < n + 64:
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(n + 64, min(hard, 65536)), hard))


def die(msg):
    print(f"FAIL: {msg}", flush=True)
    sys.exit(1)


def message(i):
    # Its own bytes per connection: a relay that crossed two sessions would show.
    return b"synack proxy connection %06d %s\n" % (i, bytes([65 + (i * 7 + k) % 26 for k in range(i % 17 + 1)]))


t0 = time.monotonic()
socks = []
for i in range(n):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.settimeout(15)
    try:
        s.connect((addr, port))
    except OSError as e:
        die(f"connect {i + 1} of {n}: {e}")
    socks.append(s)
opened = time.monotonic() - t0
t1 = time.monotonic()
for i, s in enumerate(socks):
    s.sendall(message(i))
total = 0
for i, s in enumerate(socks):
    want = message(i)
    got = b""
    try:
        while len(got) < len(want):
            chunk = s.recv(len(want) - len(got))
            if not chunk:
                die(f"connection {i + 1}: EOF after {len(got)} of {len(want)} bytes")
            got += chunk
    except OSError as e:
        die(f"connection {i + 1}: {e}")
    if got != want:
        die(f"connection {i + 1}: echo differs: {got!r} for {want!r}")
    total += len(want)
print(f"ok: {n} connections open at once in {opened:.2f} s, {total} bytes echoed byte-exact on each "
      f"in {time.monotonic() - t1:.2f} s ({total} bytes)", flush=True)
sys.stdin.readline()
t2 = time.monotonic()
for s in socks:
    s.shutdown(socket.SHUT_WR)
for i, s in enumerate(socks):
    try:
        extra = s.recv(1)
    except OSError as e:
        die(f"connection {i + 1}: no EOF after the half-close: {e}")
    if extra != b"":
        die(f"connection {i + 1}: data after the echo")
    s.close()
print(f"ok: {n} connections half-closed, EOF read on each, closed in {time.monotonic() - t2:.2f} s", flush=True)
