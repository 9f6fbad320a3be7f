#!/usr/bin/env python3
"""Sends SYNs from the lab's client: one TCP connect per attempt, at a steady rate.

  syns.py HOST PORT --count N | --seconds S  [--rate R] [--timeout T]

SIGTERM ends the sending early (the attempts under way still finish and are counted), so
a flow can span a change of unknown length exactly.
Every attempt is one SYN at the server: the server has no listener and answers RST
(connection refused), and an attempt unanswered after T (< 1 s, the kernel's first SYN
retransmission) is abandoned, so no SYN is ever sent twice. Prints
`sent=N answered=M lost=K`. Bounded in count and time.
"""
import argparse, errno, select, signal, socket, sys, time

def main():
    p = argparse.ArgumentParser()
    p.add_argument("host"); p.add_argument("port", type=int)
    p.add_argument("--count", type=int, default=0)
    p.add_argument("--seconds", type=float, default=0)
    p.add_argument("--rate", type=float, default=20)
    p.add_argument("--timeout", type=float, default=0.8)
    a = p.parse_args()
    stop = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
    limit = a.count if a.count > 0 else 100000
    deadline = time.monotonic() + (a.seconds if a.seconds > 0 else 600)
    family = socket.AF_INET6 if ":" in a.host else socket.AF_INET
    pending = {}  # socket -> started
    sent = answered = lost = 0
    next_send = time.monotonic()
    while True:
        now = time.monotonic()
        if stop:
            deadline = now
        if sent < limit and now < deadline and now >= next_send:
            s = socket.socket(family, socket.SOCK_STREAM)
            s.setblocking(False)
            rc = s.connect_ex((a.host, a.port))
            sent += 1
            next_send += 1.0 / a.rate
            if rc not in (0, errno.EINPROGRESS):
                answered += 1; s.close()
            else:
                pending[s] = now
        if not pending and (sent >= limit or now >= deadline):
            break
        wait = max(0.0, min(next_send - time.monotonic(), 0.05)) if sent < limit and now < deadline else 0.05
        _, ready, _ = select.select([], list(pending), [], wait)
        for s in ready:
            answered += 1; pending.pop(s); s.close()
        now = time.monotonic()
        for s, started in list(pending.items()):
            if now - started > a.timeout:
                lost += 1; pending.pop(s); s.close()
    print(f"sent={sent} answered={answered} lost={lost}")

if __name__ == "__main__":
    sys.exit(main())
