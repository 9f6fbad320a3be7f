#!/usr/bin/env python3
# The tunnel lab's web server: every request on port 8080 (IPv4 and IPv6) gets a 1 MiB body,
# the size of a TLS certificate chain and then some, so a transfer needs full-sized segments.
# Plain sockets: the VM has only python3-minimal.
import socket
import sys
import threading

BODY = b"x" * (1 << 20)
HEAD = b"HTTP/1.0 200 OK\r\nContent-Type: application/octet-stream\r\nContent-Length: %d\r\n\r\n" % len(BODY)


def serve(conn):
    with conn:
        conn.settimeout(30)
        try:
            request = b""
            while b"\r\n\r\n" not in request and len(request) < 8192:
                chunk = conn.recv(4096)
                if not chunk:
                    return
                request += chunk
            conn.sendall(HEAD + BODY)
        except OSError:
            pass  # a stalled transfer ends when the client gives up


def listen(family, address):
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if family == socket.AF_INET6:
        sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
    sock.bind((address, 8080))
    sock.listen(16)
    while True:
        conn, _ = sock.accept()
        threading.Thread(target=serve, args=(conn,), daemon=True).start()


threading.Thread(target=listen, args=(socket.AF_INET6, "::"), daemon=True).start()
print("listening", flush=True)
sys.stdout.close()
listen(socket.AF_INET, "0.0.0.0")
