#!/usr/bin/env python3
"""Pairs the SYNs a client sent with those a server received, from two pcaps taken on the
same machine (one clock), and says which were lost, how long each was held on the way, and
what MSS arrived. Plain struct parsing: at 10k SYN/s, tshark would take minutes.

usage: syn_flow.py CLIENT.pcap SERVER.pcap [EVENTS]
EVENTS: lines "kill T" / "ready T" (epoch seconds): a lost SYN sent from 50 ms before to 250 ms after a
kill counts as lost at the kill; any other lost SYN counts as lost at restart or in between.
Holds are also told apart by when the SYN was sent: in a restart (from a kill to 500 ms after
the worker said ready) or steady (the rest). A restart is slow when its SYNs' p99 hold is
above max(50 ms, 2 x the steady p99 + 10 ms): a loaded host raises both alike, and the fault
this guards against (rules reinstalled before the queue is read) held SYNs 125-150 ms.
Prints one RESULT line."""
import struct
import sys


def syns(path):
    """{(sport, seq): (time, mss)} for IPv4/IPv6 TCP SYNs (no ACK) to port 9."""
    found = {}
    with open(path, "rb") as f:
        header = f.read(24)
        magic = struct.unpack("<I", header[:4])[0]
        endian, nano = {0xA1B2C3D4: ("<", False), 0xA1B23C4D: ("<", True)}.get(magic, (">", False))
        link = struct.unpack(endian + "I", header[20:24])[0]
        while True:
            record = f.read(16)
            if len(record) < 16:
                break
            seconds, fraction, caplen, _ = struct.unpack(endian + "IIII", record)
            data = f.read(caplen)
            when = seconds + fraction / (1e9 if nano else 1e6)
            offset = 14 if link == 1 else 16 if link == 113 else 0
            if len(data) < offset + 20:
                continue
            version = data[offset] >> 4
            if version == 4:
                if data[offset + 9] != 6:
                    continue
                tcp = offset + (data[offset] & 15) * 4
            elif version == 6:
                if data[offset + 6] != 6:
                    continue
                tcp = offset + 40
            else:
                continue
            if len(data) < tcp + 20:
                continue
            sport, dport, seq = struct.unpack("!HHI", data[tcp:tcp + 8])
            flags = data[tcp + 13]
            if dport != 9 or flags & 0x12 != 0x02:
                continue
            mss, i, end = None, tcp + 20, tcp + (data[tcp + 12] >> 4) * 4
            while i + 4 <= end and i < len(data):
                kind = data[i]
                if kind == 2 and data[i + 1] == 4:
                    mss = struct.unpack("!H", data[i + 2:i + 4])[0]
                    break
                i += 1 if kind in (0, 1) or data[i + 1] == 0 else data[i + 1]
            found.setdefault((sport, seq), (when, mss))
    return found


def main():
    sent, arrived = syns(sys.argv[1]), syns(sys.argv[2])
    kills, readies = [], []
    if len(sys.argv) > 3:
        for line in open(sys.argv[3]):
            parts = line.split()
            if len(parts) == 2 and parts[0] in ("kill", "ready"):
                (kills if parts[0] == "kill" else readies).append(float(parts[1]))
    windows = list(zip(kills, (r + 0.5 for r in readies)))
    lost = [key for key in sent if key not in arrived]
    at_kill = sum(1 for key in lost if any(-0.05 <= sent[key][0] - k <= 0.25 for k in kills))
    holds = sorted(arrived[key][0] - sent[key][0] for key in sent if key in arrived)
    unclamped = sum(1 for key in arrived if key in sent and arrived[key][1] == 1460)
    clamped = sum(1 for key in arrived if key in sent and arrived[key][1] == 1360)
    worst = holds[-1] * 1000 if holds else -1
    p99 = holds[int(len(holds) * 0.99)] * 1000 if holds else -1
    print("RESULT sent=%d arrived=%d lost=%d lost_at_kill=%d lost_otherwise=%d clamped=%d unclamped=%d "
          "max_hold_ms=%.2f p99_hold_ms=%.3f" % (len(sent), len(arrived), len(lost), at_kill, len(lost) - at_kill,
                                                  clamped, unclamped, worst, p99))
    if windows:
        # Each restart judged on its own: one slow restart is the host's hiccup (a page fault
        # in a busy disk's shadow), a fault in the restart's order holds SYNs in every one.
        rounds, steady = [[] for _ in windows], []
        for key in sent:
            if key in arrived:
                when = sent[key][0]
                hold = arrived[key][0] - when
                inside = [i for i, (a, b) in enumerate(windows) if a <= when < b]
                (rounds[inside[0]] if inside else steady).append(hold)
        steady.sort()
        steady_p99 = steady[int(len(steady) * 0.99)] * 1000 if steady else -1
        # 50 ms: a fresh clone's restarts beside the VM lab reached 19.9 and 105 ms (one each)
        # with no fault; the fault holds every restart's SYNs past 120 ms.
        limit = max(50.0, 2 * steady_p99 + 10)
        p99s = []
        for values in rounds:
            values.sort()
            p99s.append(values[int(len(values) * 0.99)] * 1000 if values else -1)
        slow = sum(1 for v in p99s if v > limit)
        # A restart with fewer than 1000 SYNs sent in it did not happen under the flow.
        covered = sum(1 for values in rounds if len(values) >= 1000)
        print("RESULT steady_syns=%d steady_p99_hold_ms=%.3f restart_limit_ms=%.1f restart_rounds_covered=%d "
              "restart_rounds_slow=%d restart_p99s_ms=%s"
              % (len(steady), steady_p99, limit, covered, slow, ",".join("%.1f" % v for v in p99s)))


main()
