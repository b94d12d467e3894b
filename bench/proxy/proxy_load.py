#!/usr/bin/env python3
"""Client and server of bench/proxy/proxy_bench.sh (python3 standard library only).

  proxy_load.py server ADDR ECHO_PORT BULK_PORT COUNT_FILE
      ECHO_PORT: an epoll echo server (holds idle connections, answers the connection-rate
      requests); COUNT_FILE: how many connections it holds, rewritten as that changes. BULK_PORT: a thread per connection; the client sends 'd' or 'u' and an 8-byte
      big-endian length: 'd' sends that many bytes back, 'u' reads that many and answers b"k".
  proxy_load.py hold ADDR PORT N DIR COUNT_FILE
      Opens N connections to ADDR:PORT (the echo server) and keeps them, 200 at a time, each
      batch only once the server holds the previous one (COUNT_FILE: a relay that accepts
      slower than the client connects would otherwise overflow its accept queue); writes
      DIR/connected when all are open, waits for DIR/exchange, sends 1 byte on each and reads each echo, writes
      DIR/exchanged, waits for DIR/release and closes them. Prints what it did.
  proxy_load.py bulk ADDR PORT d|u BYTES
      One transfer; prints "<seconds> <Gbit/s>" (connect to the last byte: for 'u' the server's
      answer after the last byte).
  proxy_load.py cps ADDR PORT COUNT PARALLEL
      COUNT short connections, PARALLEL in flight: connect, 16-byte request, read the 16-byte
      echo, close. Prints "<connections/s> <failed>".
"""
import errno
import os
import select
import socket
import struct
import sys
import threading
import time

CHUNK = 1 << 20


def serve_bulk(conn):
    try:
        conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        head = b""
        while len(head) < 9:
            b = conn.recv(9 - len(head))
            if not b:
                return
            head += b
        op, n = head[:1], struct.unpack("!Q", head[1:])[0]
        if op == b"d":
            zeros = memoryview(bytes(CHUNK))
            while n > 0:
                n -= conn.send(zeros[: min(n, CHUNK)])
            # The client closes after the last byte; reading its EOF keeps our FIN after its.
            conn.recv(1)
        elif op == b"u":
            buf = bytearray(CHUNK)
            while n > 0:
                got = conn.recv_into(buf, min(n, CHUNK))
                if not got:
                    return
                n -= got
            conn.sendall(b"k")
            conn.recv(1)
    except OSError:
        pass
    finally:
        conn.close()


def bulk_acceptor(lsock):
    while True:
        c, _ = lsock.accept()
        threading.Thread(target=serve_bulk, args=(c,), daemon=True).start()


def listener(addr, port):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((addr, port))
    s.listen(4096)
    return s


def write_count(path, n):
    with open(path + ".tmp", "w") as f:
        f.write(str(n))
    os.replace(path + ".tmp", path)


def read_count(path):
    try:
        with open(path) as f:
            return int(f.read() or 0)
    except (OSError, ValueError):
        return 0


def server(addr, echo_port, bulk_port, count_file):
    threading.Thread(target=bulk_acceptor, args=(listener(addr, bulk_port),), daemon=True).start()
    ls = listener(addr, echo_port)
    ls.setblocking(False)
    ep = select.epoll()
    ep.register(ls.fileno(), select.EPOLLIN)
    conns = {}
    written = -1
    while True:
        if len(conns) != written:
            written = len(conns)
            write_count(count_file, written)
        for fd, ev in ep.poll():
            if fd == ls.fileno():
                while True:
                    try:
                        c, _ = ls.accept()
                    except BlockingIOError:
                        break
                    c.setblocking(False)
                    conns[c.fileno()] = c
                    ep.register(c.fileno(), select.EPOLLIN)
                continue
            c = conns[fd]
            try:
                data = c.recv(65536)
            except (BlockingIOError, InterruptedError):
                continue
            except OSError:
                data = b""
            if data:
                try:
                    c.send(data)  # small requests: the send buffer has room
                except OSError:
                    data = b""
            if not data:
                ep.unregister(fd)
                del conns[fd]
                c.close()


def wait_file(path, timeout):
    end = time.monotonic() + timeout
    while not os.path.exists(path):
        if time.monotonic() > end:
            sys.exit(f"hold: {path} did not appear within {timeout} s")
        time.sleep(0.05)


def hold(addr, port, n, d, count_file):
    socks = []
    t0 = time.monotonic()
    base = read_count(count_file)
    for i in range(n):
        if i % 200 == 0 and i > 0:
            end = time.monotonic() + 120
            while read_count(count_file) - base < i:
                if time.monotonic() > end:
                    sys.exit(f"hold: the server holds {read_count(count_file) - base} of {i} after 120 s")
                time.sleep(0.01)
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.settimeout(20)
        try:
            s.connect((addr, port))
        except OSError as e:
            sys.exit(f"hold: connection {i + 1} of {n}: {e}")
        socks.append(s)
    print(f"hold: {n} connections open in {time.monotonic() - t0:.2f} s", flush=True)
    open(os.path.join(d, "connected"), "w").close()
    wait_file(os.path.join(d, "exchange"), 600)
    t0 = time.monotonic()
    for s in socks:
        s.sendall(b"x")
    for i, s in enumerate(socks):
        if s.recv(1) != b"x":
            sys.exit(f"hold: connection {i + 1}: no echo")
    print(f"hold: 1 byte each way on {n} connections in {time.monotonic() - t0:.2f} s", flush=True)
    open(os.path.join(d, "exchanged"), "w").close()
    wait_file(os.path.join(d, "release"), 600)
    for s in socks:
        s.close()


def bulk(addr, port, op, n):
    t0 = time.monotonic()
    s = socket.create_connection((addr, port), timeout=120)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    s.sendall(op.encode() + struct.pack("!Q", n))
    if op == "d":
        buf = bytearray(CHUNK)
        left = n
        while left > 0:
            got = s.recv_into(buf, min(left, CHUNK))
            if not got:
                sys.exit(f"bulk: EOF after {n - left} of {n} bytes")
            left -= got
    else:
        zeros = memoryview(bytes(CHUNK))
        left = n
        while left > 0:
            left -= s.send(zeros[: min(left, CHUNK)])
        if s.recv(1) != b"k":
            sys.exit("bulk: no answer after the upload")
    dt = time.monotonic() - t0
    s.close()
    print(f"{dt:.3f} {n * 8 / dt / 1e9:.3f}")


def cps(addr, port, count, parallel):
    ep = select.epoll()
    live = {}  # fd -> [socket, state]: 0 connecting, 1 waiting for the echo
    req = b"0123456789abcdef"
    started = done = failed = 0

    def start():
        nonlocal started
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setblocking(False)
        err = s.connect_ex((addr, port))
        if err not in (0, errno.EINPROGRESS):
            s.close()
            return False
        live[s.fileno()] = [s, 0, b""]
        ep.register(s.fileno(), select.EPOLLOUT)
        started += 1
        return True

    def end(fd, ok):
        nonlocal done, failed
        s = live.pop(fd)[0]
        ep.unregister(fd)
        s.close()
        done += 1
        if not ok:
            failed += 1

    t0 = time.monotonic()
    while started < min(parallel, count):
        if not start():
            failed += 1
            count -= 1
    last = time.monotonic()
    while live:
        events = ep.poll(1.0)
        if not events and time.monotonic() - last > 20:
            sys.exit(f"cps: stalled with {len(live)} connections in flight")
        for fd, ev in events:
            last = time.monotonic()
            ent = live[fd]
            s = ent[0]
            if ent[1] == 0:
                if s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR) != 0:
                    end(fd, False)
                else:
                    try:
                        s.send(req)
                        ent[1] = 1
                        ep.modify(fd, select.EPOLLIN)
                        continue
                    except OSError:
                        end(fd, False)
            else:
                try:
                    b = s.recv(64)
                except OSError:
                    b = b""
                if not b:
                    end(fd, False)
                else:
                    ent[2] += b
                    if len(ent[2]) < len(req):
                        continue
                    end(fd, ent[2] == req)
            while started < count and len(live) < parallel:
                if not start():
                    failed += 1
                    count -= 1
    dt = time.monotonic() - t0
    print(f"{(done - failed) / dt:.0f} {failed}")


def main():
    a = sys.argv[1:]
    if a[:1] == ["server"] and len(a) == 5:
        server(a[1], int(a[2]), int(a[3]), a[4])
    elif a[:1] == ["hold"] and len(a) == 6:
        hold(a[1], int(a[2]), int(a[3]), a[4], a[5])
    elif a[:1] == ["bulk"] and len(a) == 5 and a[3] in ("d", "u"):
        bulk(a[1], int(a[2]), a[3], int(a[4]))
    elif a[:1] == ["cps"] and len(a) == 5:
        cps(a[1], int(a[2]), int(a[3]), int(a[4]))
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
